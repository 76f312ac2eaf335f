#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "webhook_db.h"

/* The pool's delivery lock: a key of the service's own, in its database. */
#define LOCK_KEY	"111524171244900"

/* The select list after column 0 (tries): the event, then its time. */
#define AT_US	"(extract(epoch FROM e.at) * 1000000)::bigint"

/* A pending row r that no earlier pending event of its file holds back. */
#define FIRST_OF_FILE "r.state = 'pending' AND NOT EXISTS (SELECT 1 " \
	"FROM webhook_retries p WHERE p.state = 'pending' AND " \
	"p.file_hash = r.file_hash AND p.id < r.id)"
/*
 * The earliest pending event of each file whose retry is due; the
 * event's columns (db_event_cols) go between each SELECT and its rest.
 */
#define SQL_DUE ", " AT_US " FROM webhook_retries r " \
	"JOIN events e ON e.id = r.id WHERE " FIRST_OF_FILE " AND " \
	"r.next_try <= now() ORDER BY r.id LIMIT $1"
/* Events after the cursor, and whether their file has one pending. */
#define SQL_NEW ", " AT_US ", EXISTS (SELECT 1 FROM " \
	"webhook_retries p WHERE p.state = 'pending' AND " \
	"p.file_hash = e.file_hash) FROM events e WHERE e.id > (SELECT " \
	"delivered FROM webhook_cursor) ORDER BY e.id LIMIT $1"

static int
fail(PGconn *c, PGresult *res, const char *what)
{
	char	 line[256];

	db_error_line(line, sizeof(line), what, PQerrorMessage(c));
	log_warnx("webhook: %s", line);
	PQclear(res);
	return -1;
}

/* Runs sql with params; NULL (logged) unless it succeeded. */
static PGresult *
exec(PGconn *c, const char *what, const char *sql, int n,
    const char *const *params)
{
	PGresult	*res;
	ExecStatusType	 st;

	res = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
	st = PQresultStatus(res);
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		fail(c, res, what);
		return NULL;
	}
	return res;
}

static int
exec_ok(PGconn *c, const char *what, const char *sql, int n,
    const char *const *params)
{
	PGresult	*res;

	if ((res = exec(c, what, sql, n, params)) == NULL)
		return -1;
	PQclear(res);
	return 0;
}

int
webhook_db_session(PGconn *c)
{
	/*
	 * The server's side of the connection given up within about 11 s of
	 * silence (a host cut off, frozen): its lock goes with it, and
	 * another host's deliverer takes over, rather than after the
	 * server's default of two hours.
	 */
	return exec_ok(c, "session", "SELECT "
	    "set_config('tcp_keepalives_idle', '5', false), "
	    "set_config('tcp_keepalives_interval', '2', false), "
	    "set_config('tcp_keepalives_count', '3', false), "
	    "set_config('tcp_user_timeout', '8000', false)", 0, NULL);
}

int
webhook_db_lock(PGconn *c)
{
	PGresult	*res;
	int		 held;

	if ((res = exec(c, "lock", "SELECT pg_try_advisory_lock(" LOCK_KEY
	    ")", 0, NULL)) == NULL)
		return -1;
	held = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	return held;
}

/* True when an item before n in items is of hash's file. */
static bool
in_batch(const struct webhook_item *items, unsigned n, const char *hash)
{
	unsigned	 i;

	for (i = 0; i < n; i++)
		if (strcmp(items[i].ev.file.hash, hash) == 0)
			return true;
	return false;
}

/* Appends the rows of SQL_DUE, or SQL_NEW when fresh, to items. */
static int
take_rows(PGconn *c, const char *what, const char *rest, bool fresh,
    unsigned max, struct webhook_item *items, unsigned *n, uint64_t *cursor)
{
	char		*sql, lim[16];
	const char	*p[1] = { lim };
	PGresult	*res;
	struct webhook_item *it;
	int		 i;

	snprintf(lim, sizeof(lim), "%u", max);
	if (asprintf(&sql, "SELECT %s, %s%s", fresh ? "0" : "r.tries",
	    db_event_cols, rest) == -1)
		return -1;
	res = exec(c, what, sql, 1, p);
	free(sql);
	if (res == NULL)
		return -1;
	for (i = 0; i < PQntuples(res); i++) {
		it = &items[*n];
		memset(it, 0, sizeof(*it));
		db_event_from_row(res, i, &it->ev);
		it->tries = (unsigned)strtoul(PQgetvalue(res, i, 0), NULL, 10);
		it->at_us = strtoll(PQgetvalue(res, i, 11), NULL, 10);
		it->retry = !fresh;
		it->send = !fresh || (PQgetvalue(res, i, 12)[0] != 't' &&
		    !in_batch(items, *n, it->ev.file.hash));
		if (fresh)
			*cursor = it->ev.id;
		(*n)++;
	}
	PQclear(res);
	return 0;
}

int
webhook_db_take(PGconn *c, struct webhook_item *items, unsigned max,
    unsigned *n, uint64_t *cursor)
{
	*n = 0;
	if (exec_ok(c, "publishing", "SELECT events_publish()", 0, NULL) ==
	    -1 || take_rows(c, "retries due", SQL_DUE, false, max, items,
	    n, cursor) == -1 || take_rows(c, "new events", SQL_NEW, true, max,
	    items, n, cursor) == -1)
		return -1;
	return 0;
}

static int
record_one(PGconn *c, const struct webhook_item *it)
{
	char		 id[24], tries[16], wait[24];
	const char	*p[6];

	snprintf(id, sizeof(id), "%" PRIu64, it->ev.id);
	snprintf(tries, sizeof(tries), "%u", it->tries +
	    (it->outcome == WEBHOOK_WAIT ? 0 : 1));
	snprintf(wait, sizeof(wait), "%" PRIu64, it->wait_ms);
	/* The file's hash last: the UPDATE has no use for it. */
	p[0] = id;
	p[1] = it->outcome == WEBHOOK_FAILED ? "failed" : "pending";
	p[2] = tries;
	p[3] = wait;
	p[4] = it->outcome == WEBHOOK_WAIT ? NULL : it->error;
	p[5] = it->ev.file.hash;
	if (it->outcome == WEBHOOK_DELIVERED)
		return !it->retry ? 0 : exec_ok(c, "recording", "DELETE FROM "
		    "webhook_retries WHERE id = $1", 1, p);
	if (it->retry)
		return exec_ok(c, "recording", "UPDATE webhook_retries SET "
		    "state = $2, tries = $3, next_try = now() + $4 * "
		    "interval '1 millisecond', last_error = $5 WHERE id = $1",
		    5, p);
	return exec_ok(c, "recording", "INSERT INTO webhook_retries (id, "
	    "file_hash, state, tries, next_try, last_error) VALUES ($1, $6, "
	    "$2, $3, now() + $4 * interval '1 millisecond', $5)", 6, p);
}

int
webhook_db_record(PGconn *c, const struct webhook_item *items, unsigned n,
    uint64_t cursor)
{
	char		 cur[24];
	const char	*p[1] = { cur };
	unsigned	 i;

	snprintf(cur, sizeof(cur), "%" PRIu64, cursor);
	if (exec_ok(c, "recording", "BEGIN", 0, NULL) == -1)
		return -1;
	for (i = 0; i < n; i++)
		if (record_one(c, &items[i]) == -1)
			goto rollback;
	if (exec_ok(c, "recording", "UPDATE webhook_cursor SET delivered = $1 "
	    "WHERE delivered < $1", 1, p) == -1 ||
	    exec_ok(c, "recording", "COMMIT", 0, NULL) == -1)
		goto rollback;
	return 0;
rollback:
	(void)exec_ok(c, "recording", "ROLLBACK", 0, NULL);
	return -1;
}

int
webhook_db_state(PGconn *c, int64_t *backlog_age, int64_t *due_ms)
{
	PGresult	*res;

	*backlog_age = 0;
	*due_ms = -1;
	if (exec_ok(c, "forgetting", "DELETE FROM webhook_retries WHERE "
	    "state = 'failed' AND id < (SELECT COALESCE(min(id), "
	    "9223372036854775807) FROM events WHERE id IS NOT NULL)", 0,
	    NULL) == -1)
		return -1;
	if ((res = exec(c, "state", "SELECT COALESCE(extract(epoch FROM "
	    "now() - LEAST((SELECT min(at) FROM events WHERE id > (SELECT "
	    "delivered FROM webhook_cursor)), (SELECT min(e.at) FROM "
	    "webhook_retries r JOIN events e ON e.id = r.id WHERE r.state = "
	    "'pending')))::bigint, 0), COALESCE((extract(epoch FROM (SELECT "
	    "min(r.next_try) FROM webhook_retries r WHERE " FIRST_OF_FILE
	    ") - now()) * 1000)::bigint, -1)", 0, NULL)) == NULL)
		return -1;
	if (PQntuples(res) == 1) {
		*backlog_age = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		*due_ms = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
		if (*due_ms < -1)
			*due_ms = 0;
	}
	PQclear(res);
	return 0;
}
