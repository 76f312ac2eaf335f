/*
 * PostgreSQL through libpq: a pool of DB_POOL_SIZE persistent connections
 * per worker process, lent to request threads for a statement or a
 * transaction, reconnected when they drop; prepared statements, parameters
 * only.  A statement borrows a connection and hands it back before it
 * returns; a transaction holds one from its db_*_begin to db_commit_row or
 * db_rollback, and its handle (struct db_tx) says so: whoever has the
 * handle has the transaction, and nothing else of the thread sees it (a
 * statement made meanwhile borrows another connection).
 */
#ifndef DB_H
#define DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>

#include "event.h"
#include "meta.h"
#include "quota.h"
#include "upload_row.h"

struct config;
/* An open transaction; NULL: none.  The *_begin calls make it. */
struct db_tx;

/* How long a thread waits for a free connection before it answers 503. */
#define DB_POOL_WAIT	5

enum db_error {
	DB_OK = 0,
	DB_ERR_UNAVAILABLE,	/* cannot connect, or the connection broke */
	DB_ERR_NOTFOUND,	/* no row for the hash */
	DB_ERR_EXISTS,		/* the hash is already recorded */
	DB_ERR_QUERY,		/* the server refused the statement */
	DB_ERR_UNKNOWN,		/* connection lost during COMMIT: outcome unknown */
	DB_ERR__MAX
};

/*
 * A new connection with cfg's DB_* settings, named app in
 * pg_stat_activity, giving up after timeout seconds.  Never NULL (libpq's
 * rule): check PQstatus.  The caller owns it (PQfinish).  For the tools;
 * the worker's own connection is db_ready's.
 */
PGconn		*db_connect(const struct config *cfg, const char *app,
		    int timeout);
/*
 * True when conn (from db_connect, not CONNECTION_OK) failed because the
 * server refused the login: SQLSTATE class 28 (28P01 a wrong password,
 * 28000 a role or client pg_hba.conf does not admit), or a password asked
 * for and none given.  Waiting for the server cannot mend these.
 */
bool		 db_login_refused(PGconn *conn);

/*
 * Remembers the connection settings and makes the pool (cfg->db_pool_size
 * slots); connects lazily.  -1 when out of memory.
 */
int		db_init(const struct config *);
/* Closes every connection (at exit, when no request runs). */
void		db_close(void);
/*
 * Ends what a request left of its transaction (*tx, NULL: none): still
 * open, it is rolled back and its connection handed back; *tx becomes
 * NULL.  The request loop calls it after every request, whatever the
 * handler did, on the transaction the request owns.
 */
void		db_release(struct db_tx **tx);
/* Connects if needed (and checks a kept connection); DB_OK or DB_ERR_UNAVAILABLE. */
enum db_error	db_ready(void);

/* A trivial query, for health checks: DB_OK or DB_ERR_UNAVAILABLE. */
enum db_error	db_ping(void);

enum db_error	db_get(const char *hash, struct meta *out);

/*
 * Upload in two steps around the file's rename: db_insert_begin opens a
 * transaction (*tx, which must be NULL) and inserts the row (m->hash, name,
 * type, size; the row locks the hash against a concurrent delete), filling
 * m's timestamps; DB_ERR_EXISTS when the hash is recorded.  On any error
 * no transaction is left open (*tx stays NULL).  After the bytes are in
 * place, db_commit_row; or db_rollback.
 */
enum db_error	db_insert_begin(struct db_tx **tx, struct meta *m);
/* Rolls back *tx (NULL: nothing to do) and ends it: *tx becomes NULL. */
void		db_rollback(struct db_tx **tx);

/*
 * Sets file_name and/or file_type (NULL: unchanged) and updated_at; fills
 * out with the new row.  DB_ERR_NOTFOUND for an unknown hash.
 */
enum db_error	db_update(const char *hash, const char *name, const char *type,
		    struct meta *out);

/*
 * Delete in a transaction: db_delete_begin removes the row (its name goes to
 * out) and leaves the transaction open (*tx) so the file can be moved aside
 * before db_commit_row.  DB_ERR_NOTFOUND (no transaction left open) for an
 * unknown hash.
 */
enum db_error	db_delete_begin(struct db_tx **tx, const char *hash,
		    struct meta *out);
/* True when a row for hash exists. */
enum db_error	db_exists(const char *hash, bool *exists);
/*
 * COMMIT of the transaction *tx that inserted (row_after true) or deleted
 * the row of hash; the transaction ends whatever happens (*tx becomes
 * NULL).  A link broken during COMMIT leaves its outcome unknown: then a
 * fresh connection is asked whether the row is there, and the answer
 * decides.  DB_OK: committed.  Else not committed, or it cannot be known
 * (DB_ERR_UNKNOWN): the caller acts as if the row were as before.
 */
enum db_error	db_commit_row(struct db_tx **tx, const char *hash,
		    bool row_after);

/*
 * Lists rows oldest first (newest: newest first, after then naming the
 * file the page continues below), calling row() for each as it arrives from the
 * server (single-row mode, so memory does not grow with the result).  limit 0
 * means all rows; after (NULL: from the start) is the hash the page begins
 * after.  *more is set when limit rows were given and at least one more
 * exists.  row() returning non-zero stops the listing (DB_OK is returned).
 * DB_ERR_NOTFOUND when after is neither recorded nor deleted within a day.
 */
enum db_error	db_list(uint64_t limit, const char *after, bool newest,
		    int (*row)(void *, const struct meta *), void *arg,
		    bool *more);

/* ------------------------------------------- resumable uploads (uploads) */

/*
 * One writer per upload is the store's partial-file lock (resumable.c),
 * or the row's lease where that lock does not reach every host; never a
 * transaction: no connection is held while a client sends.
 *
 * The caps a creation is held to: limits (quota.h), and owner the id of
 * the token that writes (sql/010; NULL: anonymous, no per-token cap).
 * db_upload_create sets verdict.
 */
struct upload_quota {
	const struct quota_limits *limits;
	const char	*owner;
	enum quota_verdict verdict;
};
/*
 * Inserts the row of a new upload (u's id, length, name, metadata, hash;
 * offset 0), expiring in expires seconds; u->expires is filled.  With q
 * (NULL: no caps) and a cap that applies, in one transaction: a lock
 * per capped scope (all uploads, the owner's), the unfinished unexpired
 * uploads counted and summed, quota_judge, then the row; so creations on
 * any host never pass a cap together.  DB_OK with q->verdict other than
 * QUOTA_OK: over a cap, nothing inserted.
 */
enum db_error	db_upload_create(struct upload_row *u, unsigned expires,
		    struct upload_quota *q);
/*
 * A deferred length declared: records length as id's (still deferred and
 * unfinished, else DB_ERR_NOTFOUND) if the bytes its uploads claim stay
 * within q's byte caps (the service's, and those of the row's owner;
 * q->owner is not read), counted as db_upload_create counts them, under
 * the same locks.  DB_OK with q->verdict other than QUOTA_OK: over a cap,
 * nothing recorded.  With no byte cap, nothing is done (DB_OK): the
 * offset's UPDATE (db_upload_advance) records the length.
 */
enum db_error	db_upload_declare(const char *id, uint64_t length,
		    struct upload_quota *q);
/* Reads the row of id; DB_ERR_NOTFOUND. */
enum db_error	db_upload_get(const char *id, struct upload_row *out);
/*
 * Records u's offset, length and hash state, and pushes its expiry
 * expires seconds ahead, if the row is still unfinished at offset from
 * (else DB_ERR_NOTFOUND); one statement, durable once it returns DB_OK.
 * u->expires is refreshed.
 */
enum db_error	db_upload_advance(struct upload_row *u, uint64_t from,
		    unsigned expires);
/*
 * Opens a transaction (*tx, as db_insert_begin), inserts the file's row (m:
 * hash, name, type, size, sha256; timestamps filled) and marks the upload
 * complete.  DB_ERR_EXISTS when the hash is recorded, DB_ERR_NOTFOUND when
 * the upload is gone or complete; on any error no transaction is left
 * open.  After the bytes are in place, db_commit_row(tx, m->hash, true).
 */
enum db_error	db_upload_complete(struct db_tx **tx, const struct upload_row *u,
		    struct meta *m);
/*
 * The writer's lease (sql/006), where the store's lock does not reach
 * every host: takes or renews the lease of id for writer (32 hex digits)
 * for lease seconds, if the upload is unfinished, unexpired, still at
 * offset, and its lease is free, run out or writer's already; else
 * DB_ERR_EXISTS.  db_upload_let_go ends writer's lease.  While a lease is
 * held, the offset's and completion's UPDATEs need its writer (u->writer),
 * and the expiry sweep passes the row by.
 */
enum db_error	db_upload_hold(const char *id, const char *writer,
		    uint64_t offset, unsigned lease);
enum db_error	db_upload_let_go(const char *id, const char *writer);
/* Removes the row of id (none: DB_OK). */
enum db_error	db_upload_remove(const char *id);
/*
 * Removes the rows of expired uploads whose bytes gone(arg, id) removed
 * (0; -1: a request still writes them, the row stays), at most limit a
 * call; rows another sweep holds are skipped.  *n counts the removed.
 */
enum db_error	db_upload_sweep(int limit, int (*gone)(void *, const char *),
		    void *arg, int *n);

/* ------------------------------------------------- the outbox (events) */

/*
 * hook (NULL: none) is called after every commit of this process that
 * changed a files row (db_commit_row, db_update), and so wrote an event;
 * set before the request threads start.
 */
void		db_on_change(void (*hook)(void));

/*
 * Publishes the committed events: gives them feed ids, after the last
 * one given (sql/011).  *n: how many.
 */
enum db_error	db_events_publish(uint64_t *n);
/*
 * The published events with an id above after, at most limit, in id
 * order, each passed to row() (non-zero stops).  *oldest: the oldest
 * kept id, or the next id to be published when none is kept, read in
 * the same snapshot as the events.
 */
enum db_error	db_events_read(uint64_t after, unsigned limit,
		    int (*row)(void *, const struct event *), void *arg,
		    uint64_t *oldest);
/*
 * Removes at most batch of the oldest published events, older than keep
 * seconds, the oldest first and never past a younger one; with webhook,
 * never one the webhook has still to deliver (sql/012).  *n: how many.
 */
enum db_error	db_events_prune(unsigned keep, unsigned batch, bool webhook,
		    unsigned *n);
/*
 * For a connection of its own (the webhook's): the select list of an
 * event of the table aliased e, and the event of a result's row whose
 * columns 1 to 10 are that list (column 0 is the caller's).
 */
extern const char db_event_cols[];
void		db_event_from_row(const PGresult *res, int row,
		    struct event *e);

/*
 * "what: msg" into buf (len bytes), on one line: a libpq message's
 * trailing newline and blanks go.
 */
void		db_error_line(char *buf, size_t len, const char *what,
		    const char *msg);

/* The last libpq error message, for logs only (never for clients). */
const char	*db_last_error(void);

#endif
