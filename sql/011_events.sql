-- The outbox (docs/api.md, "Events"): every change of a files row writes
-- its event in the same transaction, by the trigger below, so an event
-- exists if and only if its change committed.  The file's metadata is
-- kept as columns (NULL for a delete) and formatted by the worker as the
-- API formats a row.
--
-- An event gets its feed id only once committed: events_publish()
-- numbers, under the lock of events_published's one row, every committed
-- event that has none yet, after the last id given, in seq order.  The
-- publishers commit one after another, in id order, so a reader's
-- snapshot holds a prefix of the ids, without holes: a reader that
-- continues from the last id it saw never misses one.  seq is taken in
-- the trigger, after the row's change and so after its lock: the events
-- of one file are in the order their changes committed (the sequence's
-- CACHE must stay 1, so that its values follow time across sessions).
--
-- No NOTIFY here: a NOTIFY takes a lock that every notifying COMMIT
-- holds until its WAL is flushed, one at a time (measured: 8 clients'
-- inserts fell from 2,200 to 700 a second).  The workers announce their
-- commits after the fact, coalesced (src/events_listen.c).
CREATE TABLE events (
	seq		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id		bigint,			-- NULL: not published yet
	type		text NOT NULL CHECK (type IN
			    ('file.created', 'file.updated', 'file.deleted')),
	file_hash	text NOT NULL CHECK (file_hash ~ '^[0-9a-f]{64}$'),
	file_name	text,
	file_type	text,
	file_size	bigint,
	created_at	timestamptz,
	updated_at	timestamptz,
	at		timestamptz NOT NULL DEFAULT clock_timestamp()
);
-- Each event is in one of the two: the published by id, the others by
-- seq, the order they will be published in.
CREATE UNIQUE INDEX events_id ON events (id) WHERE id IS NOT NULL;
CREATE INDEX events_unpublished ON events (seq) WHERE id IS NULL;

-- The last id published (0: none yet); never goes back, also when every
-- event has been pruned.
CREATE TABLE events_published (
	last		bigint NOT NULL CHECK (last >= 0)
);
INSERT INTO events_published VALUES (0);

CREATE FUNCTION files_event() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' THEN
		INSERT INTO events (type, file_hash)
		VALUES ('file.deleted', OLD.file_hash);
	ELSE
		INSERT INTO events (type, file_hash, file_name, file_type,
		    file_size, created_at, updated_at)
		VALUES (CASE TG_OP WHEN 'INSERT' THEN 'file.created'
		    ELSE 'file.updated' END, NEW.file_hash, NEW.file_name,
		    NEW.file_type, NEW.file_size, NEW.created_at,
		    NEW.updated_at);
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER files_event_write AFTER INSERT OR DELETE ON files
FOR EACH ROW EXECUTE FUNCTION files_event();
-- An update is an event when what the metadata object shows changed.
CREATE TRIGGER files_event_update AFTER UPDATE ON files
FOR EACH ROW WHEN ((OLD.file_name, OLD.file_type, OLD.file_size,
    OLD.created_at, OLD.updated_at) IS DISTINCT FROM (NEW.file_name,
    NEW.file_type, NEW.file_size, NEW.created_at, NEW.updated_at))
EXECUTE FUNCTION files_event();

-- Gives ids to the committed events that have none; returns how many.
-- In a READ COMMITTED transaction: each statement's snapshot is taken
-- after the one before, so the UPDATE sees what the publisher that held
-- the lock before committed.
CREATE FUNCTION events_publish() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	base	bigint;
	n	bigint;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM events WHERE id IS NULL) THEN
		RETURN 0;
	END IF;
	SELECT last INTO base FROM events_published FOR UPDATE;
	UPDATE events e SET id = base + r.k
	FROM (SELECT seq, row_number() OVER (ORDER BY seq) AS k
	    FROM events WHERE id IS NULL) r
	WHERE e.seq = r.seq;
	GET DIAGNOSTICS n = ROW_COUNT;
	IF n > 0 THEN
		UPDATE events_published SET last = base + n;
	END IF;
	RETURN n;
END
$$;
