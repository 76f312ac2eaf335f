-- The SHA-256 of a file's bytes (64 lowercase hex digits), for the content
-- route's Repr-Digest (RFC 9530).  NULL for files stored before it was
-- computed: their bytes are not read again to fill it in.
ALTER TABLE files ADD COLUMN sha256 text CHECK (sha256 ~ '^[0-9a-f]{64}$');
