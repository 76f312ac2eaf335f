-- The list is ordered by (created_at, id), so that created_at never
-- decreases along it: id is taken when a row is inserted, created_at is
-- its transaction's start, and two uploads committing at once can take
-- them in opposite orders.  A page that ended on a deleted file resumes
-- from where that file stood in this order: files_deleted keeps its
-- created_at too.  Rows remembered before this migration did not keep
-- it; each is placed right after the file before it in id order (its old
-- place), and they are gone within a day anyway.
ALTER TABLE files_deleted ADD COLUMN created_at timestamptz;
UPDATE files_deleted d SET created_at = COALESCE(
	(SELECT f.created_at FROM files f WHERE f.id < d.id
	    ORDER BY f.id DESC LIMIT 1), '-infinity');
ALTER TABLE files_deleted ALTER COLUMN created_at SET NOT NULL;

CREATE OR REPLACE FUNCTION files_remember_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO files_deleted (file_hash, id, created_at)
	VALUES (OLD.file_hash, OLD.id, OLD.created_at)
	ON CONFLICT (file_hash)
	DO UPDATE SET id = EXCLUDED.id, created_at = EXCLUDED.created_at,
	    deleted_at = now();
	DELETE FROM files_deleted WHERE deleted_at < now() - interval '1 day';
	RETURN OLD;
END
$$;
