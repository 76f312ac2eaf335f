-- The writer of a resumable upload where no file lock reaches every host
-- (STORAGE=s3): a request that writes holds the row's lease, a random
-- token valid until writer_until, and renews it while it writes; another
-- request takes the upload only once the lease is let go or has run out.
-- The offset's UPDATE and the completion check the token, so a writer
-- whose lease was taken over commits nothing.
ALTER TABLE uploads ADD COLUMN writer text
	CHECK (writer ~ '^[0-9a-f]{32}$');
ALTER TABLE uploads ADD COLUMN writer_until timestamptz;
