-- migrate: no transaction
-- The list's order, (created_at, id) (008): an index walk for the whole
-- list and for each page, never a sort of the table.  Built CONCURRENTLY
-- so that the workers keep writing; a build interrupted half way leaves
-- an invalid index, so a rerun drops it first.
DROP INDEX CONCURRENTLY IF EXISTS files_created_at_id;
CREATE INDEX CONCURRENTLY files_created_at_id ON files (created_at, id);
