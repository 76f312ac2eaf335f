/*
 * The webhook's deliverer (docs/api.md, "Events"): with
 * FILEUPLOAD_WEBHOOK_URL set, a thread in each worker process, on a
 * PostgreSQL connection of its own.  The one whose session holds the
 * pool's advisory lock (webhook_db_lock), across every host sharing the
 * database, delivers; the others try for the lock every second, and one
 * of them takes over when the holder's session ends.  The holder sends
 * the published events in batches (webhook_send), at least once, each
 * file's in id order, keeping what it did in the database
 * (sql/012_webhook.sql): a restart or another host goes on from there.
 * A failed delivery is tried again after webhook_backoff_ms, up to
 * FILEUPLOAD_WEBHOOK_TRIES tries, then marked failed.  No request waits
 * on it.
 */
#ifndef WEBHOOK_H
#define WEBHOOK_H

struct config;

/*
 * Starts the deliverer when cfg names a webhook (else does nothing): 0,
 * or -1 when the thread or libcurl cannot be made.
 */
int	webhook_start(const struct config *cfg);

#endif
