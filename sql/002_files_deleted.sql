-- Paging (?after=<hash>) must survive the deletion of the file a client
-- paged up to: remember where each deleted file stood in the listing order
-- for a day, long enough for any walk through the list to move on.
CREATE TABLE files_deleted (
	file_hash	text PRIMARY KEY,
	id		bigint NOT NULL,
	deleted_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX files_deleted_deleted_at ON files_deleted (deleted_at);

CREATE FUNCTION files_remember_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO files_deleted (file_hash, id) VALUES (OLD.file_hash, OLD.id)
	ON CONFLICT (file_hash)
	DO UPDATE SET id = EXCLUDED.id, deleted_at = now();
	DELETE FROM files_deleted WHERE deleted_at < now() - interval '1 day';
	RETURN OLD;
END
$$;

CREATE TRIGGER files_remember_deleted AFTER DELETE ON files
FOR EACH ROW EXECUTE FUNCTION files_remember_deleted();
