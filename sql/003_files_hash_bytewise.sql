-- migrate: no transaction
-- fileupload-fsck reads the rows ORDER BY file_hash COLLATE "C" (byte
-- order, the order of the names in DATA_DIR).  The unique index on
-- file_hash has the database's collation, so unless that is "C" the
-- listing sorted the whole table; this index makes it an index-only walk
-- (file_size is carried along).  Built CONCURRENTLY so that the workers
-- keep writing while a large table is indexed; a build interrupted half
-- way leaves an invalid index, so a rerun drops it first.
DROP INDEX CONCURRENTLY IF EXISTS files_file_hash_c;
CREATE INDEX CONCURRENTLY files_file_hash_c
	ON files (file_hash COLLATE "C") INCLUDE (file_size);
