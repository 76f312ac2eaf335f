-- The caps on unfinished resumable uploads (docs/operations.md, "Resource
-- caps"): owner is the id of the bearer token that created an upload (16
-- hex digits of a BLAKE2b of it, never the token), NULL for an anonymous
-- writer, for the caps per token.  A creation counts the unfinished
-- uploads (file_hash NULL), all and its owner's, and sums what they claim
-- (upload_length, or upload_offset while the length is deferred): the
-- index holds all of that, so the count reads no table row.
ALTER TABLE uploads ADD COLUMN owner text
	CHECK (owner ~ '^[0-9a-f]{16}$');
CREATE INDEX uploads_unfinished ON uploads (owner)
	INCLUDE (upload_length, upload_offset, expires_at)
	WHERE file_hash IS NULL;
