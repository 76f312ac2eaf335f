/*
 * The webhook's delivery state in PostgreSQL (sql/012_webhook.sql), on
 * the deliverer's own connection: its lock, the batch to send, what
 * became of it.  Every call returns -1 when the connection failed or the
 * server refused a statement: the caller then drops the connection
 * (and with it the lock) and starts again.
 */
#ifndef WEBHOOK_DB_H
#define WEBHOOK_DB_H

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "event.h"

/* What became of an event of a batch. */
enum webhook_outcome {
	WEBHOOK_DELIVERED,	/* answered 2xx */
	WEBHOOK_RETRY,		/* failed; tried again after wait_ms */
	WEBHOOK_FAILED,		/* failed its last try: given up on */
	WEBHOOK_WAIT		/* not sent: an earlier event of its file first */
};

struct webhook_item {
	struct event	 ev;
	int64_t		 at_us;		/* the event's time, unix microseconds */
	unsigned	 tries;		/* tries made before this batch */
	bool		 retry;		/* a row of webhook_retries already */
	bool		 send;		/* false: WEBHOOK_WAIT */
	/* Filled by the sender (webhook_send.h) and the deliverer. */
	enum webhook_outcome outcome;
	int64_t		 done_us;	/* when the answer came, unix us */
	uint64_t	 wait_ms;	/* WEBHOOK_RETRY: until the next try */
	char		 error[128];	/* "HTTP 500", a libcurl reason ... */
};

/*
 * Sets c's session up for holding the lock: the server drops it soon
 * after its client falls silent.
 */
int	webhook_db_session(PGconn *c);
/*
 * Tries to take the pool's delivery lock, a session advisory lock of c:
 * 1 taken (or held already), 0 another session holds it.
 */
int	webhook_db_lock(PGconn *c);
/*
 * Publishes the committed events, then fills items (room for 2 * max)
 * with at most max retries that are due (each the earliest pending event
 * of its file), then at most max events after the cursor, in id order;
 * an event whose file has an earlier one pending or in the batch has
 * send false.  *n: how many; *cursor: the highest id of the batch's new
 * events (unchanged when none).
 */
int	webhook_db_take(PGconn *c, struct webhook_item *items, unsigned max,
	    unsigned *n, uint64_t *cursor);
/*
 * Records the batch's outcomes and moves the cursor to cursor, in one
 * transaction.
 */
int	webhook_db_record(PGconn *c, const struct webhook_item *items,
	    unsigned n, uint64_t cursor);
/*
 * *backlog_age: seconds since the oldest event neither delivered nor
 * given up on (0: none); *due_ms: milliseconds to the next retry that
 * no earlier event of its file holds back (-1: none).  Forgets the
 * failed events no longer kept.
 */
int	webhook_db_state(PGconn *c, int64_t *backlog_age, int64_t *due_ms);

#endif
