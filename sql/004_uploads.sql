-- Resumable uploads (tus 1.0.0) in progress.  upload_offset is durable:
-- a worker commits it only after the bytes up to it are fsynced in
-- DATA_DIR/tmp/part-<upload_id>, whose lock a PATCH holds while it writes
-- (one writer per upload; the UPDATE also checks the offset it started at).
-- hash_state is the file's BLAKE2b and SHA-256 state after upload_offset
-- bytes (struct hash_ctx, src/hash.h), so no request re-reads the bytes.
-- A completed upload keeps its row, with file_hash, until it expires.
CREATE TABLE uploads (
	upload_id	text PRIMARY KEY
			CHECK (upload_id ~ '^[A-Za-z0-9_-]{22}$'),
	upload_length	bigint CHECK (upload_length >= 0),	-- NULL: deferred
	upload_offset	bigint NOT NULL DEFAULT 0
			CHECK (upload_offset >= 0 AND
			    upload_offset <= COALESCE(upload_length, upload_offset)),
	file_name	text NOT NULL
			CHECK (octet_length(file_name) BETWEEN 1 AND 255),
	metadata	text NOT NULL DEFAULT ''
			CHECK (octet_length(metadata) <= 4096),
	hash_state	bytea NOT NULL,
	file_hash	text CHECK (file_hash ~ '^[0-9a-f]{64}$'),
	created_at	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz NOT NULL
);
CREATE INDEX uploads_expires_at ON uploads (expires_at);
