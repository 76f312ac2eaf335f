-- The metadata of stored files.  file_hash is the identity (BLAKE2b-256,
-- 64 lowercase hex digits); id gives the listing its "oldest first" order and
-- a cheap keyset for paging.
CREATE TABLE files (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	file_hash	text NOT NULL UNIQUE
			CHECK (file_hash ~ '^[0-9a-f]{64}$'),
	file_name	text NOT NULL
			CHECK (octet_length(file_name) BETWEEN 1 AND 255),
	file_type	text NOT NULL
			CHECK (octet_length(file_type) BETWEEN 1 AND 255),
	file_size	bigint NOT NULL CHECK (file_size >= 0),
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now()
);
