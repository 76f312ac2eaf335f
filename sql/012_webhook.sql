-- The webhook's delivery state (docs/api.md, "Events"): kept here, not in
-- a worker, so that delivery goes on from where it stood after a restart
-- and on whichever host takes the delivery lock (src/webhook.c).
--
-- Every published event with an id up to webhook_cursor.delivered was
-- delivered, failed, or has its row in webhook_retries; the events after
-- it are still to be sent for the first time.  At 0 (new) every event
-- still kept is delivered once a webhook is configured.
CREATE TABLE webhook_cursor (
	delivered	bigint NOT NULL CHECK (delivered >= 0)
);
INSERT INTO webhook_cursor VALUES (0);

-- Events not delivered at their first try (state pending: tried again at
-- next_try), and those given up on (failed).  A pending event holds the
-- later events of its file back (waiting in turn, tries 0): one file's
-- events reach the receiver in id order.
CREATE TABLE webhook_retries (
	id		bigint PRIMARY KEY,	-- the event's
	file_hash	text NOT NULL,
	state		text NOT NULL CHECK (state IN ('pending', 'failed')),
	tries		integer NOT NULL CHECK (tries >= 0),
	next_try	timestamptz NOT NULL,
	last_error	text
);
CREATE INDEX webhook_retries_pending ON webhook_retries (file_hash, id)
WHERE state = 'pending';
CREATE INDEX webhook_retries_due ON webhook_retries (next_try)
WHERE state = 'pending';

-- The highest event id the pruning may remove while a webhook is
-- configured: none the deliverer still has to send.
CREATE FUNCTION webhook_prunable() RETURNS bigint
LANGUAGE sql STABLE AS $$
	SELECT LEAST((SELECT delivered FROM webhook_cursor),
	    (SELECT min(id) - 1 FROM webhook_retries WHERE state = 'pending'))
$$;
