#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>
#include <sodium.h>

#include "config.h"
#include "db.h"
#include "hash.h"
#include "metrics.h"

/* A timestamptz column as the API writes times (RFC 3339, UTC). */
#define UTC_TIME(col) "to_char(" col " AT TIME ZONE 'UTC', " \
	"'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
#define COLS	"file_hash, file_name, file_type, file_size, " \
	UTC_TIME("created_at") ", " UTC_TIME("updated_at") ", " \
	"COALESCE(sha256, '')"
/*
 * The oldest kept event (the next to be published when none is kept) and
 * a page of published events after $1, in one snapshot; the first row
 * comes also when the page is empty (its event columns NULL).
 */
#define EVENT_COLS "o.oldest, " EVENT_ROW
/* An event of table e, as row_to_event reads it from column 1. */
#define EVENT_ROW "e.id, e.type, e.file_hash, " \
	"COALESCE(e.file_name, ''), COALESCE(e.file_type, ''), " \
	"COALESCE(e.file_size, 0), COALESCE(" UTC_TIME("e.created_at") \
	", ''), COALESCE(" UTC_TIME("e.updated_at") ", ''), " \
	UTC_TIME("e.at") ", e.file_name IS NOT NULL"
/*
 * Where the file $2 stands in the list's order: its row's, else (deleted
 * since) what files_deleted remembers.
 */
#define LIST_KEY "(SELECT created_at, id FROM (" \
	"SELECT 0 AS gone, created_at, id FROM files WHERE file_hash = $2 " \
	"UNION ALL SELECT 1, created_at, id FROM files_deleted " \
	"WHERE file_hash = $2) k ORDER BY gone LIMIT 1) "
/* The uploads row, for struct upload_row (row_to_upload). */
#define UPLOAD_COLS "upload_id, upload_length, upload_offset, file_name, " \
	"metadata, encode(hash_state, 'hex'), COALESCE(file_hash, ''), " \
	"to_char(expires_at AT TIME ZONE 'UTC', " \
	"'Dy, DD Mon YYYY HH24:MI:SS \"GMT\"'), expires_at <= now(), " \
	"COALESCE(concat, '')"

enum stmt {
	ST_GET,
	ST_GET_MANY,
	ST_INSERT,
	ST_UPDATE,
	ST_DELETE,
	ST_EXISTS,
	ST_LIST,
	ST_LIST_AFTER,
	ST_LIST_NEWEST,
	ST_LIST_BEFORE,
	ST_KNOWN,
	ST_UPLOAD_CREATE,
	ST_UPLOAD_GET,
	ST_UPLOAD_ADVANCE,
	ST_UPLOAD_COMPLETE,
	ST_UPLOAD_REMOVE,
	ST_UPLOAD_EXPIRED,
	ST_UPLOAD_HOLD,
	ST_UPLOAD_LET_GO,
	ST_UPLOAD_LOCK,
	ST_UPLOAD_USAGE,
	ST_UPLOAD_OWNER,
	ST_UPLOAD_DECLARE,
	ST_EVENTS_PUBLISH,
	ST_EVENTS_READ,
	ST_EVENTS_PRUNE,
	ST__MAX
};

static const struct {
	const char	*name;
	const char	*sql;
	int		 nparams;
} stmts[ST__MAX] = {
	[ST_GET] = { "get", "SELECT " COLS " FROM files WHERE file_hash = $1", 1 },
	[ST_GET_MANY] = { "get_many", "SELECT " COLS " FROM files "
	    "WHERE file_hash = ANY ($1::text[])", 1 },
	[ST_INSERT] = { "insert",
	    "INSERT INTO files (file_hash, file_name, file_type, file_size, "
	    "sha256) VALUES ($1, $2, $3, $4, NULLIF($5, '')) "
	    "ON CONFLICT (file_hash) DO NOTHING RETURNING " COLS, 5 },
	[ST_UPDATE] = { "update",
	    "UPDATE files SET file_name = COALESCE($2, file_name), "
	    "file_type = COALESCE($3, file_type), updated_at = now() "
	    "WHERE file_hash = $1 RETURNING " COLS, 3 },
	[ST_DELETE] = { "delete",
	    "DELETE FROM files WHERE file_hash = $1 RETURNING " COLS, 1 },
	[ST_EXISTS] = { "exists",
	    "SELECT 1 FROM files WHERE file_hash = $1", 1 },
	/*
	 * The list's order is (created_at, id): created_at never decreases
	 * along it, also where concurrent commits took their ids in the
	 * other order (008).  LIMIT NULL is LIMIT ALL: one statement serves
	 * both forms.
	 */
	[ST_LIST] = { "list",
	    "SELECT " COLS " FROM files ORDER BY created_at, id LIMIT $1", 1 },
	/* A page resumes after a file even once it is deleted (002, 008). */
	[ST_LIST_AFTER] = { "list_after",
	    "SELECT " COLS " FROM files WHERE (created_at, id) > " LIST_KEY
	    "ORDER BY created_at, id LIMIT $1", 2 },
	[ST_LIST_NEWEST] = { "list_newest",
	    "SELECT " COLS " FROM files ORDER BY created_at DESC, id DESC "
	    "LIMIT $1", 1 },
	[ST_LIST_BEFORE] = { "list_before",
	    "SELECT " COLS " FROM files WHERE (created_at, id) < " LIST_KEY
	    "ORDER BY created_at DESC, id DESC LIMIT $1", 2 },
	[ST_KNOWN] = { "known",
	    "SELECT 1 FROM files WHERE file_hash = $1 UNION ALL "
	    "SELECT 1 FROM files_deleted WHERE file_hash = $1", 1 },
	[ST_UPLOAD_CREATE] = { "upload_create",
	    "INSERT INTO uploads (upload_id, upload_length, file_name, "
	    "metadata, hash_state, expires_at, concat, owner) VALUES ($1, $2, "
	    "$3, $4, decode($5, 'hex'), now() + make_interval(secs => $6), "
	    "NULLIF($7, ''), $8) RETURNING " UPLOAD_COLS, 8 },
	[ST_UPLOAD_GET] = { "upload_get",
	    "SELECT " UPLOAD_COLS " FROM uploads WHERE upload_id = $1", 1 },
	[ST_UPLOAD_ADVANCE] = { "upload_advance",
	    "UPDATE uploads SET upload_offset = $2, upload_length = $3, "
	    "hash_state = decode($4, 'hex'), "
	    "expires_at = now() + make_interval(secs => $5) "
	    "WHERE upload_id = $1 AND upload_offset = $6 AND file_hash IS NULL "
	    "AND writer IS NOT DISTINCT FROM NULLIF($7, '') "
	    "RETURNING " UPLOAD_COLS, 7 },
	[ST_UPLOAD_COMPLETE] = { "upload_complete",
	    "UPDATE uploads SET upload_offset = $2, upload_length = $2, "
	    "file_hash = $3, hash_state = '', writer = NULL, "
	    "writer_until = NULL WHERE upload_id = $1 AND file_hash IS NULL "
	    "AND writer IS NOT DISTINCT FROM NULLIF($4, '') RETURNING 1", 4 },
	[ST_UPLOAD_REMOVE] = { "upload_remove",
	    "DELETE FROM uploads WHERE upload_id = $1", 1 },
	/* SKIP LOCKED: a sweep never waits for a request holding a row. */
	[ST_UPLOAD_EXPIRED] = { "upload_expired",
	    "SELECT upload_id FROM uploads WHERE expires_at <= now() "
	    "AND (writer_until IS NULL OR writer_until <= now()) "
	    "ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED", 1 },
	/* The lease (006): taken when free, run out, or ours already. */
	[ST_UPLOAD_HOLD] = { "upload_hold",
	    "UPDATE uploads SET writer = $2, "
	    "writer_until = now() + make_interval(secs => $4) "
	    "WHERE upload_id = $1 AND upload_offset = $3 AND file_hash IS NULL "
	    "AND expires_at > now() AND (writer IS NULL OR writer = $2 OR "
	    "writer_until <= now()) RETURNING 1", 4 },
	[ST_UPLOAD_LET_GO] = { "upload_let_go",
	    "UPDATE uploads SET writer = NULL, writer_until = NULL "
	    "WHERE upload_id = $1 AND writer = $2", 2 },
	/*
	 * The caps' scopes: all uploads ('') and each owner's, one lock
	 * each, held to the creation's COMMIT; the next statement's snapshot
	 * then sees every creation that held it before.
	 */
	[ST_UPLOAD_LOCK] = { "upload_lock",
	    "SELECT pg_advisory_xact_lock(hashtext('fileupload.uploads'), "
	    "hashtext($1))", 1 },
	/* What the caps count (sql/010's index): all, then the owner's. */
	[ST_UPLOAD_USAGE] = { "upload_usage",
	    "SELECT count(*), COALESCE(sum(COALESCE(upload_length, "
	    "upload_offset)), 0), count(*) FILTER (WHERE owner = $1), "
	    "COALESCE(sum(COALESCE(upload_length, upload_offset)) "
	    "FILTER (WHERE owner = $1), 0) FROM uploads "
	    "WHERE file_hash IS NULL AND expires_at > now()", 1 },
	[ST_UPLOAD_OWNER] = { "upload_owner",
	    "SELECT COALESCE(owner, ''), upload_offset FROM uploads "
	    "WHERE upload_id = $1 AND upload_length IS NULL "
	    "AND file_hash IS NULL", 1 },
	[ST_UPLOAD_DECLARE] = { "upload_declare",
	    "UPDATE uploads SET upload_length = $2 WHERE upload_id = $1 "
	    "AND upload_length IS NULL AND file_hash IS NULL RETURNING 1", 2 },
	/* The outbox (sql/011): numbering, the feed's page, pruning. */
	[ST_EVENTS_PUBLISH] = { "events_publish",
	    "SELECT events_publish()", 0 },
	[ST_EVENTS_READ] = { "events_read",
	    "SELECT " EVENT_COLS " FROM (SELECT COALESCE((SELECT min(id) "
	    "FROM events), (SELECT last + 1 FROM events_published)) "
	    "AS oldest) o LEFT JOIN LATERAL (SELECT * FROM events "
	    "WHERE id > $1 ORDER BY id LIMIT $2) e ON true ORDER BY e.id", 2 },
	/*
	 * Only a run of the oldest ids goes, up to the first event younger
	 * than $1 seconds: what is kept has no hole, so the oldest kept id
	 * tells a reader whether it missed some.  With $3 (a webhook), none
	 * past what the webhook has done with (sql/012).
	 */
	[ST_EVENTS_PRUNE] = { "events_prune",
	    "WITH old AS (SELECT id, at FROM events WHERE id IS NOT NULL "
	    "AND id <= (SELECT CASE WHEN $3::boolean THEN webhook_prunable() "
	    "ELSE 9223372036854775807 END) ORDER BY id LIMIT $2), "
	    "edge AS (SELECT min(id) AS id FROM old "
	    "WHERE at >= now() - make_interval(secs => $1)) "
	    "DELETE FROM events WHERE id IN (SELECT id FROM old "
	    "WHERE id < COALESCE((SELECT id FROM edge), "
	    "9223372036854775807))", 3 },
};

struct slot;

/*
 * An open transaction: the slot lent to it from BEGIN until db_commit_row,
 * db_rollback or db_release hands it back.  Each slot has its one.
 */
struct db_tx {
	struct slot	*slot;
};

/*
 * The process's connections, lent to one request thread at a time: for a
 * statement, or from BEGIN to COMMIT or ROLLBACK.  A thread never holds
 * one while it waits for a client, so a few serve many threads, and
 * PostgreSQL's max_connections bounds processes times DB_POOL_SIZE only
 * (and the one each process keeps for the events, events_listen.c).
 */
struct slot {
	PGconn		*conn;		/* NULL: connects on first use */
	bool		 lent;
	struct db_tx	 tx;		/* the handle of a transaction on it */
};

static const struct config	*db_cfg;
/* Called after each commit that changed a files row (db_on_change). */
static void			(*change_hook)(void);
static pthread_mutex_t		 pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t		 pool_freed = PTHREAD_COND_INITIALIZER;
static struct slot		*slots;
static int			 nslots;

/* The calling thread's last error, for its log lines. */
static __thread char		 last_error[256];

void
db_error_line(char *buf, size_t len, const char *what, const char *msg)
{
	const char	*p;
	size_t		 n;

	n = (size_t)snprintf(buf, len, "%s: ", what);
	if (n >= len)
		n = len - 1;
	/*
	 * Log lines must be lines.  libpq ends its messages in a newline,
	 * puts hints on indented lines and, for a DB_HOST list, one message
	 * per host tried on lines of their own: "; " between those.
	 */
	for (p = msg; *p != '\0' && n + 2 < len; p++) {
		if (*p == '\n' && p[1] == '\t')
			buf[n++] = ' ';
		else if (*p == '\n') {
			buf[n++] = ';';
			buf[n++] = ' ';
		} else if (*p != '\t')
			buf[n++] = *p;
	}
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == ';' || buf[n - 1] == ' '))
		buf[--n] = '\0';
}

static void
remember_error(const struct slot *s, const char *what)
{
	db_error_line(last_error, sizeof(last_error), what,
	    s->conn != NULL ? PQerrorMessage(s->conn) : "");
}

const char *
db_last_error(void)
{
	return last_error;
}

int
db_init(const struct config *cfg)
{
	db_cfg = cfg;
	nslots = cfg->db_pool_size > 0 ? (int)cfg->db_pool_size : 1;
	int	 i;

	if ((slots = calloc(nslots, sizeof(*slots))) == NULL)
		return -1;
	for (i = 0; i < nslots; i++)
		slots[i].tx.slot = &slots[i];
	return 0;
}

/* Drops a slot's connection (broken, or its state unknown). */
static void
drop(struct slot *s)
{
	if (s->conn != NULL)
		PQfinish(s->conn);
	s->conn = NULL;
}

void
db_close(void)
{
	int	 i;

	for (i = 0; slots != NULL && i < nslots; i++)
		drop(&slots[i]);
	free(slots);
	slots = NULL;
	nslots = 0;
}

/*
 * Borrows a slot (into *sp) for the calling thread, waiting for one at
 * most DB_POOL_WAIT seconds: past that the pool is as good as unavailable.
 */
static enum db_error
borrow(struct slot **sp)
{
	struct timespec	 deadline;
	int		 i, rc = 0;

	if (slots == NULL) {
		snprintf(last_error, sizeof(last_error), "db_init not called");
		return DB_ERR_UNAVAILABLE;
	}
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += DB_POOL_WAIT;
	pthread_mutex_lock(&pool_lock);
	for (;;) {
		for (i = 0; i < nslots && slots[i].lent; i++)
			;
		if (i < nslots || rc == ETIMEDOUT)
			break;
		rc = pthread_cond_timedwait(&pool_freed, &pool_lock, &deadline);
	}
	if (i < nslots) {
		slots[i].lent = true;
		*sp = &slots[i];
	}
	pthread_mutex_unlock(&pool_lock);
	if (*sp == NULL) {
		metrics_db_error(METRICS_DB_POOL_WAIT);
		snprintf(last_error, sizeof(last_error), "all %d database "
		    "connections stayed busy for %d s", nslots, DB_POOL_WAIT);
		return DB_ERR_UNAVAILABLE;
	}
	return DB_OK;
}

/*
 * Hands a borrowed slot back (NULL: none was had), with its connection, or
 * none if dropped.  A statement's slot goes back as the statement ends.
 */
static void
give_back(struct slot *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&pool_lock);
	s->lent = false;
	pthread_cond_signal(&pool_freed);
	pthread_mutex_unlock(&pool_lock);
}

static int
prepare_all(PGconn *conn)
{
	PGresult	*res;
	int		 i, ok;

	for (i = 0; i < ST__MAX; i++) {
		res = PQprepare(conn, stmts[i].name, stmts[i].sql,
		    stmts[i].nparams, NULL);
		ok = PQresultStatus(res) == PGRES_COMMAND_OK;
		PQclear(res);
		if (!ok) {
			db_error_line(last_error, sizeof(last_error), "prepare",
			    PQerrorMessage(conn));
			return -1;
		}
	}
	return 0;
}

PGconn *
db_connect(const struct config *cfg, const char *app, int timeout)
{
	char		 secs[12];
	const char	*keys[14], *vals[14];
	int		 n = 0;

	snprintf(secs, sizeof(secs), "%d", timeout);
#define KV(k, v) do { if ((v) != NULL) { keys[n] = (k); vals[n] = (v); n++; } } while (0)
	KV("host", cfg->db_host);
	KV("port", cfg->db_port);
	KV("user", cfg->db_user);
	KV("password", cfg->db_password);
	KV("dbname", cfg->db_name);
	KV("application_name", app);
	KV("connect_timeout", secs);
	/* Of a list of hosts, the primary: a standby refuses writes. */
	KV("target_session_attrs", "read-write");
	/*
	 * A server cut off without a reset (packets dropped, a frozen host):
	 * bytes unacknowledged for 8 s break the connection, and an idle one
	 * is found dead within 5 + 3 x 2 s; the request then gets 503 and the
	 * next connection goes through the host list.  (Unix sockets ignore
	 * these.)
	 */
	KV("tcp_user_timeout", "8000");
	KV("keepalives", "1");
	KV("keepalives_idle", "5");
	KV("keepalives_interval", "2");
	KV("keepalives_count", "3");
#undef KV
	keys[n] = vals[n] = NULL;
	return PQconnectdbParams(keys, vals, 0);
}

bool
db_login_refused(PGconn *conn)
{
	/* The server's words for class 28 (src/backend/libpq/auth.c). */
	static const char *const refusals[] = {
		"authentication failed for user",	/* 28P01, 28000 */
		"no pg_hba.conf entry for",		/* 28000 */
		"pg_hba.conf rejects connection",	/* 28000 */
		"is not permitted to log in",		/* 28000 */
	};
	const char	*msg = PQerrorMessage(conn), *role;
	size_t		 i;

	if (PQconnectionNeedsPassword(conn))
		return true;
	for (i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++)
		if (strstr(msg, refusals[i]) != NULL)
			return true;
	/* 28000: role "x" does not exist (under trust authentication). */
	return (role = strstr(msg, "role \"")) != NULL &&
	    strstr(role, "\" does not exist") != NULL;
}

static enum db_error
connect_db(struct slot *s)
{
	drop(s);
	s->conn = db_connect(db_cfg, "fileupload-worker", 5);
	if (s->conn == NULL || PQstatus(s->conn) != CONNECTION_OK) {
		metrics_db_error(METRICS_DB_UNAVAILABLE);
		remember_error(s, "connect");
		drop(s);
		return DB_ERR_UNAVAILABLE;
	}
	if (prepare_all(s->conn) == -1) {
		metrics_db_error(METRICS_DB_UNAVAILABLE);
		drop(s);
		return DB_ERR_UNAVAILABLE;
	}
	metrics_db_connected();
	return DB_OK;
}

/*
 * An idle connection has nothing to read: anything there (a FATAL message
 * and the end of the stream, as when the server was restarted or the
 * connection terminated) means the server is gone from it.  libpq would
 * only find out on the next statement, which for a write cannot be run
 * again, so such a connection is replaced before it is lent.
 */
static bool
closed_while_idle(PGconn *c)
{
	struct pollfd	 p = { .fd = PQsocket(c), .events = POLLIN | POLLRDHUP };

	return p.fd < 0 || poll(&p, 1, 0) != 0;
}

/*
 * A slot with a live connection: *sp's, or one borrowed into *sp (NULL),
 * which the caller gives back.
 */
static enum db_error
ready(struct slot **sp)
{
	enum db_error	 err;
	bool		 lent_now = *sp == NULL;

	if (lent_now && (err = borrow(sp)) != DB_OK)
		return err;
	if ((*sp)->conn != NULL && PQstatus((*sp)->conn) == CONNECTION_OK &&
	    !(lent_now && closed_while_idle((*sp)->conn)))
		return DB_OK;
	return connect_db(*sp);
}

enum db_error
db_ready(void)
{
	struct slot	*s = NULL;
	enum db_error	 err = ready(&s);

	give_back(s);
	return err;
}

/*
 * Ends a transaction's use of its slot: still open, it is rolled back (a
 * connection whose ROLLBACK failed is dropped: its state is unknown), and
 * the slot goes back.  quiet: a failed ROLLBACK is not counted.
 */
static void
tx_end(struct db_tx **tx, bool quiet);

void
db_release(struct db_tx **tx)
{
	/* A request that ended inside a transaction: it did not happen. */
	tx_end(tx, true);
}

/*
 * Maps a failed result: a broken connection is dropped (the next request
 * reconnects) and reported as unavailable.
 */
static enum db_error
failure(struct slot *s, const char *what)
{
	remember_error(s, what);
	if (s->conn != NULL && PQstatus(s->conn) != CONNECTION_OK) {
		metrics_db_error(METRICS_DB_UNAVAILABLE);
		drop(s);
		return DB_ERR_UNAVAILABLE;
	}
	metrics_db_error(METRICS_DB_QUERY);
	return DB_ERR_QUERY;
}

/*
 * Runs a prepared statement.  A statement that reads only (retry) is run once
 * more on a fresh connection when the kept one turns out to be broken, as
 * after a server restart.
 */
static PGresult *
run(struct slot **sp, enum stmt st, const char *const *params, int retry,
    enum db_error *err)
{
	PGresult	*res;
	ExecStatusType	 rs;

	for (;;) {
		if ((*err = ready(sp)) != DB_OK)
			return NULL;
		res = PQexecPrepared((*sp)->conn, stmts[st].name,
		    stmts[st].nparams, params, NULL, NULL, 0);
		rs = PQresultStatus(res);
		if (rs == PGRES_TUPLES_OK || rs == PGRES_COMMAND_OK) {
			*err = DB_OK;
			return res;
		}
		PQclear(res);
		*err = failure(*sp, stmts[st].name);
		if (*err != DB_ERR_UNAVAILABLE || !retry--)
			return NULL;
	}
}

static enum db_error
exec_simple(struct slot *s, const char *sql)
{
	PGresult	*res;
	int		 ok;

	if (s->conn == NULL)
		return DB_ERR_UNAVAILABLE;
	res = PQexec(s->conn, sql);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK;
	PQclear(res);
	return ok ? DB_OK : failure(s, sql);
}

/* Copies a column into a fixed field, cut to fit (the schema's CHECKs keep it so). */
static void
copy_col(const PGresult *res, int row, int col, char *out, size_t outlen)
{
	size_t	 n = PQgetlength(res, row, col);

	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, PQgetvalue(res, row, col), n);
	out[n] = '\0';
}

/* A row of COLS into the struct meta at out. */
static void
row_to_meta(const PGresult *res, int row, void *out)
{
	struct meta	*m = out;

	copy_col(res, row, 0, m->hash, sizeof(m->hash));
	copy_col(res, row, 1, m->name, sizeof(m->name));
	copy_col(res, row, 2, m->type, sizeof(m->type));
	m->size = strtoull(PQgetvalue(res, row, 3), NULL, 10);
	copy_col(res, row, 4, m->created_at, sizeof(m->created_at));
	copy_col(res, row, 5, m->updated_at, sizeof(m->updated_at));
	copy_col(res, row, 6, m->sha256, sizeof(m->sha256));
}

typedef void	 row_reader(const PGresult *, int, void *);

/*
 * One-row statements: the first row, read into out by read_row (when out
 * is not NULL), or DB_ERR_NOTFOUND.
 */
static enum db_error
first_row(struct slot **sp, enum stmt st, const char *const *params,
    int retry, row_reader *read_row, void *out)
{
	PGresult	*res;
	enum db_error	 err;

	if ((res = run(sp, st, params, retry, &err)) == NULL)
		return err;
	if (PQntuples(res) == 0)
		err = DB_ERR_NOTFOUND;
	else if (out != NULL)
		read_row(res, 0, out);
	PQclear(res);
	return err;
}

static enum db_error
one_row(struct slot **sp, enum stmt st, const char *const *params, int retry,
    struct meta *out)
{
	return first_row(sp, st, params, retry, row_to_meta, out);
}

enum db_error
db_ping(void)
{
	struct slot	*s = NULL;
	enum db_error	 err;
	int		 tries;

	/*
	 * A connection broken since its last use (a server restart, a
	 * failover) is replaced once, as for reads: health reports on the
	 * database, not on one stale connection of the pool.
	 */
	for (tries = 0; tries < 2; tries++) {
		if ((err = ready(&s)) != DB_OK ||
		    (err = exec_simple(s, "SELECT 1")) != DB_ERR_UNAVAILABLE)
			break;
	}
	if (err != DB_OK)
		err = DB_ERR_UNAVAILABLE;
	give_back(s);
	return err;
}

/*
 * Metadata reads are coalesced: while one thread of the process waits for
 * PostgreSQL, the reads that arrive queue up, and the next of them asks
 * for all the queued hashes in one statement.  Each read still sees every
 * commit made before it arrived (its statement starts later), and
 * PostgreSQL runs one statement where it would have run many.
 */
#define GET_BATCH_MAX	64

struct get_wait {
	char		 hash[HASH_HEX_LEN + 1];	/* lower case */
	struct meta	*out;
	enum db_error	 err;
	bool		 done;
	struct get_wait	*next;
};

static pthread_mutex_t	 get_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 get_done = PTHREAD_COND_INITIALIZER;
static struct get_wait	*get_queue;	/* oldest first */
static struct get_wait	**get_tail = &get_queue;
static bool		 get_running;	/* a batch is with PostgreSQL */

/* Runs one batch (a queue taken whole) and marks each of its reads done. */
static void
get_batch(struct get_wait *batch)
{
	char		 list[GET_BATCH_MAX * (HASH_HEX_LEN + 1) + 3];
	const char	*p[1] = { list };
	struct slot	*s = NULL;
	struct get_wait	*w;
	struct meta	 m;
	PGresult	*res;
	enum db_error	 err;
	size_t		 n = 0;
	int		 row;

	/* A text[] literal of hashes hash_parse accepted: hex digits. */
	list[n++] = '{';
	for (w = batch; w != NULL; w = w->next) {
		memcpy(list + n, w->hash, HASH_HEX_LEN);
		n += HASH_HEX_LEN;
		list[n++] = w->next != NULL ? ',' : '}';
	}
	list[n] = '\0';
	res = run(&s, ST_GET_MANY, p, 1, &err);
	for (w = batch; w != NULL; w = w->next)
		w->err = res != NULL ? DB_ERR_NOTFOUND : err;
	for (row = 0; res != NULL && row < PQntuples(res); row++) {
		row_to_meta(res, row, &m);
		for (w = batch; w != NULL; w = w->next)
			if (strcmp(w->hash, m.hash) == 0) {
				*w->out = m;
				w->err = DB_OK;
			}
	}
	PQclear(res);
	give_back(s);
}

enum db_error
db_get(const char *hash, struct meta *out)
{
	struct get_wait	 me = { .out = out };
	struct get_wait	*batch, **tail;
	int		 n;

	/* Not a hash: a statement of its own. */
	if (!hash_parse(hash, strlen(hash), me.hash)) {
		const char	*p[1] = { hash };
		struct slot	*s = NULL;
		enum db_error	 err = one_row(&s, ST_GET, p, 1, out);

		give_back(s);
		return err;
	}
	pthread_mutex_lock(&get_lock);
	*get_tail = &me;
	get_tail = &me.next;
	while (!me.done) {
		if (get_running) {
			pthread_cond_wait(&get_done, &get_lock);
			continue;
		}
		/* Lead the next batch: up to GET_BATCH_MAX of the oldest. */
		for (tail = &get_queue, n = 0; *tail != NULL &&
		    n < GET_BATCH_MAX; tail = &(*tail)->next, n++)
			;
		batch = get_queue;
		if ((get_queue = *tail) == NULL)
			get_tail = &get_queue;
		*tail = NULL;
		get_running = true;
		pthread_mutex_unlock(&get_lock);
		get_batch(batch);
		pthread_mutex_lock(&get_lock);
		for (; batch != NULL; batch = batch->next)
			batch->done = true;
		get_running = false;
		pthread_cond_broadcast(&get_done);
	}
	pthread_mutex_unlock(&get_lock);
	return me.err;
}

/* Whether a row for hash exists, asked on the connection of *sp. */
static enum db_error
exists_on(struct slot **sp, const char *hash, bool *exists)
{
	const char	*p[1] = { hash };
	enum db_error	 err;

	err = one_row(sp, ST_EXISTS, p, 1, NULL);
	*exists = err == DB_OK;
	return err == DB_ERR_NOTFOUND ? DB_OK : err;
}

enum db_error
db_exists(const char *hash, bool *exists)
{
	struct slot	*s = NULL;
	enum db_error	 err = exists_on(&s, hash, exists);

	give_back(s);
	return err;
}

/*
 * The statement a transaction opens with, sent with its BEGIN (begin_with):
 * its first row into out, or DB_ERR_NOTFOUND.
 */
struct opener {
	enum stmt		 st;
	const char *const	*params;
	struct meta		*out;
};

/* The connection's state is unknown: dropped, as a broken one is. */
static enum db_error
lost(struct slot *s, const char *what)
{
	remember_error(s, what);
	metrics_db_error(METRICS_DB_UNAVAILABLE);
	drop(s);
	return DB_ERR_UNAVAILABLE;
}

/*
 * BEGIN and the opening statement in one round trip, in libpq's pipeline
 * mode: the connection waits once for both instead of once for each.
 */
static enum db_error
begin_pipelined(struct slot *s, const struct opener *op)
{
	PGconn		*c = s->conn;
	PGresult	*res;
	ExecStatusType	 rs;
	enum db_error	 err = DB_OK;
	bool		 synced;
	int		 i;

	if (PQenterPipelineMode(c) != 1 ||
	    PQsendQueryParams(c, "BEGIN", 0, NULL, NULL, NULL, NULL, 0) != 1 ||
	    PQsendQueryPrepared(c, stmts[op->st].name, stmts[op->st].nparams,
	    op->params, NULL, NULL, 0) != 1 || PQpipelineSync(c) != 1)
		return lost(s, "BEGIN");
	/* Each query's results end in a NULL; then comes the sync's. */
	for (i = 0; i < 2; i++)
		while ((res = PQgetResult(c)) != NULL) {
			rs = PQresultStatus(res);
			if (rs != PGRES_COMMAND_OK && rs != PGRES_TUPLES_OK) {
				if (err == DB_OK)
					err = failure(s, i == 0 ? "BEGIN" :
					    stmts[op->st].name);
			} else if (i == 1 && err == DB_OK) {
				if (PQntuples(res) == 0)
					err = DB_ERR_NOTFOUND;
				else
					row_to_meta(res, 0, op->out);
			}
			PQclear(res);
			if (s->conn == NULL)
				return err;	/* broken: failure dropped it */
		}
	res = PQgetResult(c);
	synced = PQresultStatus(res) == PGRES_PIPELINE_SYNC;
	PQclear(res);
	if (!synced || PQexitPipelineMode(c) != 1)
		return lost(s, "BEGIN");
	return err;
}

/*
 * BEGIN, and the opening statement when op is not NULL, on a slot borrowed
 * for the transaction (*tx), reconnecting once: nothing is committed before
 * the COMMIT, so a connection found broken has done nothing that lasts.
 * *tx is set whenever a transaction is open, also when the opening
 * statement failed (the caller rolls it back); else nothing is held.
 */
static enum db_error
begin_with(struct db_tx **tx, const struct opener *op)
{
	struct slot	*s = NULL;
	enum db_error	 err;
	int		 tries;

	if (*tx != NULL) {
		snprintf(last_error, sizeof(last_error), "BEGIN: a "
		    "transaction is open already");
		return DB_ERR_QUERY;
	}
	for (tries = 0; tries < 2; tries++) {
		if ((err = ready(&s)) != DB_OK)
			break;
		err = op != NULL ? begin_pipelined(s, op) :
		    exec_simple(s, "BEGIN");
		if (err != DB_ERR_UNAVAILABLE)
			break;
	}
	if (s != NULL && s->conn != NULL &&
	    PQtransactionStatus(s->conn) != PQTRANS_IDLE)
		*tx = &s->tx;
	else
		give_back(s);
	return err;
}

static enum db_error
begin(struct db_tx **tx)
{
	return begin_with(tx, NULL);
}

static void
tx_end(struct db_tx **tx, bool quiet)
{
	struct slot	*s;
	PGresult	*res;

	if (*tx == NULL)
		return;
	s = (*tx)->slot;
	*tx = NULL;
	if (s->conn != NULL && PQtransactionStatus(s->conn) != PQTRANS_IDLE) {
		if (quiet) {
			res = PQexec(s->conn, "ROLLBACK");
			PQclear(res);
		} else
			(void)exec_simple(s, "ROLLBACK");
	}
	/* A ROLLBACK that failed leaves a connection in an unknown state. */
	if (s->conn != NULL && PQtransactionStatus(s->conn) != PQTRANS_IDLE)
		drop(s);
	give_back(s);
}

/*
 * BEGIN and the row of m inserted, in one round trip: DB_ERR_EXISTS when
 * the hash is taken.  *tx is open whenever BEGIN was done.
 */
static enum db_error
begin_insert(struct db_tx **tx, struct meta *m)
{
	char		 size[24];
	const char	*p[5] = { m->hash, m->name, m->type, size, m->sha256 };
	struct opener	 op = { ST_INSERT, p, m };
	enum db_error	 err;

	snprintf(size, sizeof(size), "%" PRIu64, m->size);
	err = begin_with(tx, &op);
	/* ON CONFLICT DO NOTHING returned no row. */
	return err == DB_ERR_NOTFOUND ? DB_ERR_EXISTS : err;
}

enum db_error
db_insert_begin(struct db_tx **tx, struct meta *m)
{
	enum db_error	 err;

	if ((err = begin_insert(tx, m)) != DB_OK)
		db_rollback(tx);
	return err;
}

enum db_error
db_delete_begin(struct db_tx **tx, const char *hash, struct meta *out)
{
	const char	*p[1] = { hash };
	struct opener	 op = { ST_DELETE, p, out };
	enum db_error	 err;

	if ((err = begin_with(tx, &op)) != DB_OK)
		db_rollback(tx);
	return err;
}

/* COMMIT; DB_ERR_UNKNOWN when the link broke during it (see db_commit_row). */
static enum db_error
commit(struct db_tx *tx)
{
	enum db_error	 err = exec_simple(tx->slot, "COMMIT");

	/* The COMMIT may or may not have happened before the link broke. */
	if (err == DB_ERR_UNAVAILABLE) {
		metrics_db_error(METRICS_DB_COMMIT_UNKNOWN);
		return DB_ERR_UNKNOWN;
	}
	return err;
}

void
db_on_change(void (*hook)(void))
{
	change_hook = hook;
}

static void
changed(void)
{
	if (change_hook != NULL)
		change_hook();
}

enum db_error
db_commit_row(struct db_tx **tx, const char *hash, bool row_after)
{
	enum db_error	 err;
	bool		 exists;

	if (*tx == NULL) {
		snprintf(last_error, sizeof(last_error), "COMMIT: no "
		    "transaction is open");
		return DB_ERR_QUERY;
	}
	/* Unknown: the slot's fresh connection asks (the old one is gone). */
	if ((err = commit(*tx)) == DB_ERR_UNKNOWN &&
	    exists_on(&(*tx)->slot, hash, &exists) == DB_OK)
		err = exists == row_after ? DB_OK : DB_ERR_UNAVAILABLE;
	tx_end(tx, false);
	if (err == DB_OK)
		changed();
	return err;
}

void
db_rollback(struct db_tx **tx)
{
	tx_end(tx, false);
}

enum db_error
db_update(const char *hash, const char *name, const char *type,
    struct meta *out)
{
	const char	*p[3] = { hash, name, type };
	struct slot	*s = NULL;
	/* Retried on a fresh connection like a read: it sets the same values twice. */
	enum db_error	 err = one_row(&s, ST_UPDATE, p, 1, out);

	give_back(s);
	if (err == DB_OK)
		changed();
	return err;
}

/* One run of the list statement; *n counts the rows handed to row(). */
static enum db_error
list_once(struct slot **sp, enum stmt st, const char *const *p,
    uint64_t limit,
    int (*row)(void *, const struct meta *), void *arg, bool *more,
    uint64_t *n)
{
	PGresult	*res;
	struct meta	 m;
	enum db_error	 err;
	int		 stop = 0;

	if ((err = ready(sp)) != DB_OK)
		return err;
	if (PQsendQueryPrepared((*sp)->conn, stmts[st].name,
	    stmts[st].nparams, p, NULL, NULL, 0) != 1)
		return failure(*sp, "list");
	PQsetSingleRowMode((*sp)->conn);
	while ((res = PQgetResult((*sp)->conn)) != NULL) {
		switch (PQresultStatus(res)) {
		case PGRES_SINGLE_TUPLE:
			if (stop)
				break;
			if (limit > 0 && *n == limit) {
				*more = true;
				stop = 1;
				break;
			}
			row_to_meta(res, 0, &m);
			(*n)++;
			if (row(arg, &m) != 0)
				stop = 1;
			break;
		case PGRES_TUPLES_OK:
			break;
		default:
			err = failure(*sp, "list");
			break;
		}
		PQclear(res);
	}
	return err;
}

enum db_error
db_list(uint64_t limit, const char *after, bool newest,
    int (*row)(void *, const struct meta *), void *arg, bool *more)
{
	char		 lim[24];
	const char	*p[2] = { limit > 0 ? lim : NULL, after };
	enum stmt	 st = newest ? (after != NULL ? ST_LIST_BEFORE : ST_LIST_NEWEST) :
			    (after != NULL ? ST_LIST_AFTER : ST_LIST);
	struct slot	*s = NULL;
	enum db_error	 err;
	uint64_t	 n = 0;

	*more = false;
	/* One more than asked tells whether a next page exists. */
	snprintf(lim, sizeof(lim), "%" PRIu64, limit + 1);
	/*
	 * A connection broken since the last request (a server restart) may
	 * fail the send or only the first result: either way, while no row
	 * has been handed on, run it once more on a fresh connection.
	 */
	err = list_once(&s, st, p, limit, row, arg, more, &n);
	if (err == DB_ERR_UNAVAILABLE && n == 0)
		err = list_once(&s, st, p, limit, row, arg, more, &n);
	/* An empty page: the end of the list, or an after never recorded? */
	if (err == DB_OK && n == 0 && after != NULL) {
		const char	*pk[1] = { after };

		err = one_row(&s, ST_KNOWN, pk, 1, NULL);
	}
	give_back(s);
	return err;
}

/* ---------------------------------------------------- resumable uploads */

/* struct hash_ctx as bytea text: hex digits, for decode(..., 'hex'). */
#define STATE_HEX_MAX	(2 * sizeof(struct hash_ctx) + 1)

/* A row of UPLOAD_COLS into the struct upload_row at out. */
static void
row_to_upload(const PGresult *res, int row, void *out)
{
	struct upload_row *u = out;
	const char	*state = PQgetvalue(res, row, 5);
	size_t		 n = 0;

	memset(u, 0, sizeof(*u));
	copy_col(res, row, 0, u->id, sizeof(u->id));
	u->length_known = !PQgetisnull(res, row, 1);
	if (u->length_known)
		u->length = strtoull(PQgetvalue(res, row, 1), NULL, 10);
	u->offset = strtoull(PQgetvalue(res, row, 2), NULL, 10);
	copy_col(res, row, 3, u->name, sizeof(u->name));
	copy_col(res, row, 4, u->metadata, sizeof(u->metadata));
	/*
	 * A state of another size (another build's struct) cannot be resumed:
	 * it is left zeroed, and the upload is refused (resumable.c).
	 */
	if (sodium_hex2bin((unsigned char *)&u->hash, sizeof(u->hash), state,
	    strlen(state), NULL, &n, NULL) != 0 || n != sizeof(u->hash)) {
		memset(&u->hash, 0, sizeof(u->hash));
		u->state_lost = true;
	}
	copy_col(res, row, 6, u->file_hash, sizeof(u->file_hash));
	copy_col(res, row, 7, u->expires, sizeof(u->expires));
	u->expired = PQgetvalue(res, row, 8)[0] == 't';
	copy_col(res, row, 9, u->concat, sizeof(u->concat));
}

static enum db_error
upload_row(struct slot **sp, enum stmt st, const char *const *params,
    int retry, struct upload_row *out)
{
	return first_row(sp, st, params, retry, row_to_upload, out);
}

/* Inserts u's row on the slot of *sp (a transaction's, or NULL: its own). */
static enum db_error
insert_upload(struct slot **sp, struct upload_row *u, unsigned expires,
    const char *owner)
{
	char		 len[24], secs[16], state[STATE_HEX_MAX];
	const char	*p[8] = { u->id, u->length_known ? len : NULL, u->name,
	    u->metadata, state, secs, u->concat, owner };
	struct upload_row *got;
	enum db_error	 err;

	if ((got = malloc(sizeof(*got))) == NULL)
		return DB_ERR_QUERY;
	snprintf(len, sizeof(len), "%" PRIu64, u->length);
	snprintf(secs, sizeof(secs), "%u", expires);
	sodium_bin2hex(state, sizeof(state), (const unsigned char *)&u->hash,
	    sizeof(u->hash));
	if ((err = upload_row(sp, ST_UPLOAD_CREATE, p, 0, got)) == DB_OK)
		memcpy(u->expires, got->expires, sizeof(u->expires));
	free(got);
	return err;
}

/* Takes the lock of a cap's scope ("": all uploads) in tx. */
static enum db_error
lock_scope(struct db_tx *tx, const char *scope)
{
	const char	*p[1] = { scope };
	PGresult	*res;
	enum db_error	 err;

	if ((res = run(&tx->slot, ST_UPLOAD_LOCK, p, 0, &err)) != NULL)
		PQclear(res);
	return err;
}

/*
 * In tx: the locks of the capped scopes (all uploads, then owner's; always
 * in this order, so two creations never wait for each other), then what
 * their unfinished uploads hold.
 */
static enum db_error
usage_locked(struct db_tx *tx, bool total, const char *owner,
    struct quota_usage *all, struct quota_usage *own)
{
	const char	*p[1] = { owner };
	PGresult	*res;
	enum db_error	 err;

	if ((total && (err = lock_scope(tx, "")) != DB_OK) ||
	    (owner != NULL && (err = lock_scope(tx, owner)) != DB_OK))
		return err;
	if ((res = run(&tx->slot, ST_UPLOAD_USAGE, p, 0, &err)) == NULL)
		return err;
	all->uploads = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
	all->bytes = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
	own->uploads = strtoull(PQgetvalue(res, 0, 2), NULL, 10);
	own->bytes = strtoull(PQgetvalue(res, 0, 3), NULL, 10);
	PQclear(res);
	return DB_OK;
}

/* The scopes' locks, their usage, the verdict; the row if it fits. */
static enum db_error
create_capped(struct db_tx *tx, struct upload_row *u, unsigned expires,
    struct upload_quota *q, bool total, bool token)
{
	struct quota_usage all, own;
	enum db_error	 err;

	if ((err = usage_locked(tx, total, token ? q->owner : NULL, &all,
	    &own)) != DB_OK)
		return err;
	q->verdict = quota_judge(q->limits, &all, token ? &own : NULL,
	    u->length_known ? u->length : 0);
	if (q->verdict != QUOTA_OK)
		return DB_OK;
	if ((err = insert_upload(&tx->slot, u, expires, q->owner)) != DB_OK)
		return err;
	return commit(tx);
}

enum db_error
db_upload_create(struct upload_row *u, unsigned expires,
    struct upload_quota *q)
{
	struct slot	*s = NULL;
	struct db_tx	*tx = NULL;
	enum db_error	 err;
	bool		 total, token;

	total = q != NULL && quota_total_capped(q->limits);
	token = q != NULL && quota_token_capped(q->limits, q->owner != NULL);
	if (q != NULL)
		q->verdict = QUOTA_OK;
	if (!total && !token) {
		err = insert_upload(&s, u, expires, q != NULL ? q->owner :
		    NULL);
		give_back(s);
		return err;
	}
	if ((err = begin(&tx)) != DB_OK)
		return err;
	err = create_capped(tx, u, expires, q, total, token);
	db_rollback(&tx);
	return err;
}

/*
 * The declaration's check and record in tx: its claim grows from the
 * bytes so far (counted already) to length; an upload no more.
 */
static enum db_error
declare_capped(struct db_tx *tx, const char *id, uint64_t length,
    struct upload_quota *q)
{
	const char	*p[1] = { id }, *owner;
	char		 len[24];
	const char	*d[2] = { id, len };
	struct quota_limits bytes = *q->limits;
	struct quota_usage all, own;
	PGresult	*res;
	enum db_error	 err;
	uint64_t	 offset;
	bool		 token;

	if ((res = run(&tx->slot, ST_UPLOAD_OWNER, p, 0, &err)) == NULL)
		return err;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return DB_ERR_NOTFOUND;
	}
	owner = PQgetvalue(res, 0, 0);
	offset = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
	bytes.uploads = bytes.token_uploads = 0;
	token = quota_token_capped(&bytes, owner[0] != '\0');
	err = usage_locked(tx, quota_total_capped(&bytes), token ? owner :
	    NULL, &all, &own);
	PQclear(res);
	if (err != DB_OK)
		return err;
	all.bytes -= offset < all.bytes ? offset : all.bytes;
	own.bytes -= offset < own.bytes ? offset : own.bytes;
	q->verdict = quota_judge(&bytes, &all, token ? &own : NULL, length);
	if (q->verdict != QUOTA_OK)
		return DB_OK;
	snprintf(len, sizeof(len), "%" PRIu64, length);
	if ((res = run(&tx->slot, ST_UPLOAD_DECLARE, d, 0, &err)) == NULL)
		return err;
	if (PQntuples(res) != 1)
		err = DB_ERR_NOTFOUND;
	PQclear(res);
	return err != DB_OK ? err : commit(tx);
}

enum db_error
db_upload_declare(const char *id, uint64_t length, struct upload_quota *q)
{
	struct quota_limits bytes = *q->limits;
	struct db_tx	*tx = NULL;
	enum db_error	 err;

	q->verdict = QUOTA_OK;
	bytes.uploads = bytes.token_uploads = 0;
	if (!quota_total_capped(&bytes) && !quota_token_capped(&bytes, true))
		return DB_OK;
	if ((err = begin(&tx)) != DB_OK)
		return err;
	err = declare_capped(tx, id, length, q);
	db_rollback(&tx);
	return err;
}

enum db_error
db_upload_get(const char *id, struct upload_row *out)
{
	const char	*p[1] = { id };
	struct slot	*s = NULL;
	enum db_error	 err = upload_row(&s, ST_UPLOAD_GET, p, 1, out);

	give_back(s);
	return err;
}

enum db_error
db_upload_advance(struct upload_row *u, uint64_t from, unsigned expires)
{
	char		 off[24], len[24], was[24], secs[16];
	char		 state[STATE_HEX_MAX];
	const char	*p[7] = { u->id, off, u->length_known ? len : NULL,
	    state, secs, was, u->writer };
	struct slot	*s = NULL;
	PGresult	*res;
	enum db_error	 err;

	snprintf(off, sizeof(off), "%" PRIu64, u->offset);
	snprintf(len, sizeof(len), "%" PRIu64, u->length);
	snprintf(was, sizeof(was), "%" PRIu64, from);
	snprintf(secs, sizeof(secs), "%u", expires);
	sodium_bin2hex(state, sizeof(state), (const unsigned char *)&u->hash,
	    sizeof(u->hash));
	/* One statement, committed on its own: durable once it returns. */
	if ((res = run(&s, ST_UPLOAD_ADVANCE, p, 0, &err)) != NULL) {
		if (PQntuples(res) == 1)
			copy_col(res, 0, 7, u->expires, sizeof(u->expires));
		else
			err = DB_ERR_NOTFOUND;
		PQclear(res);
	}
	give_back(s);
	return err;
}

enum db_error
db_upload_complete(struct db_tx **tx, const struct upload_row *u,
    struct meta *m)
{
	char		 off[24];
	const char	*p[4] = { u->id, off, m->hash, u->writer };
	PGresult	*res;
	enum db_error	 err;

	snprintf(off, sizeof(off), "%" PRIu64, u->offset);
	if ((err = begin_insert(tx, m)) == DB_OK &&
	    (res = run(&(*tx)->slot, ST_UPLOAD_COMPLETE, p, 0, &err)) != NULL) {
		/* None: the upload is gone, or was completed meanwhile. */
		if (PQntuples(res) != 1)
			err = DB_ERR_NOTFOUND;
		PQclear(res);
	}
	if (err != DB_OK)
		db_rollback(tx);
	return err;
}

enum db_error
db_upload_hold(const char *id, const char *writer, uint64_t offset,
    unsigned lease)
{
	char		 off[24], secs[16];
	const char	*p[4] = { id, writer, off, secs };
	struct slot	*s = NULL;
	PGresult	*res;
	enum db_error	 err;

	snprintf(off, sizeof(off), "%" PRIu64, offset);
	snprintf(secs, sizeof(secs), "%u", lease);
	if ((res = run(&s, ST_UPLOAD_HOLD, p, 0, &err)) != NULL) {
		if (PQntuples(res) != 1)
			err = DB_ERR_EXISTS;
		PQclear(res);
	}
	give_back(s);
	return err;
}

enum db_error
db_upload_let_go(const char *id, const char *writer)
{
	const char	*p[2] = { id, writer };
	struct slot	*s = NULL;
	PGresult	*res;
	enum db_error	 err;

	if ((res = run(&s, ST_UPLOAD_LET_GO, p, 1, &err)) != NULL)
		PQclear(res);
	give_back(s);
	return err;
}

enum db_error
db_upload_remove(const char *id)
{
	const char	*p[1] = { id };
	struct slot	*s = NULL;
	PGresult	*res;
	enum db_error	 err;

	if ((res = run(&s, ST_UPLOAD_REMOVE, p, 1, &err)) != NULL)
		PQclear(res);
	give_back(s);
	return err;
}

enum db_error
db_upload_sweep(int limit, int (*gone)(void *, const char *), void *arg,
    int *n)
{
	char		 lim[16];
	const char	*p[1] = { lim };
	struct db_tx	*tx = NULL;
	PGresult	*res;
	enum db_error	 err;
	int		 i;

	*n = 0;
	snprintf(lim, sizeof(lim), "%d", limit);
	if ((err = begin(&tx)) != DB_OK)
		return err;
	if ((res = run(&tx->slot, ST_UPLOAD_EXPIRED, p, 0, &err)) == NULL) {
		db_rollback(&tx);
		return err;
	}
	/*
	 * The bytes go first, unless a request still writes them (then the
	 * row stays for the next sweep): should the COMMIT fail, a row without
	 * its bytes is expired anyway (410) and the next sweep takes it.
	 */
	for (i = 0; i < PQntuples(res) && err == DB_OK; i++) {
		const char	*id = PQgetvalue(res, i, 0);
		const char	*q[1] = { id };
		PGresult	*del;

		if (gone(arg, id) == -1)
			continue;
		if ((del = run(&tx->slot, ST_UPLOAD_REMOVE, q, 0, &err)) !=
		    NULL) {
			PQclear(del);
			(*n)++;
		}
	}
	PQclear(res);
	if (err == DB_OK)
		err = commit(tx);
	db_rollback(&tx);
	return err;
}

/* ------------------------------------------------------------ the outbox */

enum db_error
db_events_publish(uint64_t *n)
{
	struct slot	*s = NULL;
	PGresult	*res;
	enum db_error	 err;

	*n = 0;
	if ((res = run(&s, ST_EVENTS_PUBLISH, NULL, 1, &err)) != NULL) {
		if (PQntuples(res) == 1)
			*n = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
		PQclear(res);
	}
	give_back(s);
	return err;
}

static void
row_to_event(const PGresult *res, int row, struct event *e)
{
	e->id = strtoull(PQgetvalue(res, row, 1), NULL, 10);
	copy_col(res, row, 2, e->type, sizeof(e->type));
	copy_col(res, row, 3, e->file.hash, sizeof(e->file.hash));
	copy_col(res, row, 4, e->file.name, sizeof(e->file.name));
	copy_col(res, row, 5, e->file.type, sizeof(e->file.type));
	e->file.size = strtoull(PQgetvalue(res, row, 6), NULL, 10);
	copy_col(res, row, 7, e->file.created_at, sizeof(e->file.created_at));
	copy_col(res, row, 8, e->file.updated_at, sizeof(e->file.updated_at));
	copy_col(res, row, 9, e->at, sizeof(e->at));
	e->has_file = PQgetvalue(res, row, 10)[0] == 't';
	e->file.sha256[0] = '\0';
}

enum db_error
db_events_read(uint64_t after, unsigned limit,
    int (*row)(void *, const struct event *), void *arg, uint64_t *oldest)
{
	char		 a[24], l[16];
	const char	*p[2] = { a, l };
	struct slot	*s = NULL;
	struct event	 e;
	PGresult	*res;
	enum db_error	 err;
	int		 i;

	snprintf(a, sizeof(a), "%llu", (unsigned long long)after);
	snprintf(l, sizeof(l), "%u", limit);
	*oldest = 0;
	res = run(&s, ST_EVENTS_READ, p, 1, &err);
	give_back(s);
	if (res == NULL)
		return err;
	if (PQntuples(res) > 0)
		*oldest = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
	for (i = 0; i < PQntuples(res); i++) {
		if (PQgetisnull(res, i, 1))
			continue;
		memset(&e, 0, sizeof(e));
		row_to_event(res, i, &e);
		if (row(arg, &e) != 0)
			break;
	}
	PQclear(res);
	return DB_OK;
}

enum db_error
db_events_prune(unsigned keep, unsigned batch, bool webhook, unsigned *n)
{
	char		 k[16], b[16];
	const char	*p[3] = { k, b, webhook ? "true" : "false" };
	struct slot	*s = NULL;
	PGresult	*res;
	enum db_error	 err;

	*n = 0;
	snprintf(k, sizeof(k), "%u", keep);
	snprintf(b, sizeof(b), "%u", batch);
	if ((res = run(&s, ST_EVENTS_PRUNE, p, 0, &err)) != NULL) {
		*n = (unsigned)strtoul(PQcmdTuples(res), NULL, 10);
		PQclear(res);
	}
	give_back(s);
	return err;
}

const char	 db_event_cols[] = EVENT_ROW;

void
db_event_from_row(const PGresult *res, int row, struct event *e)
{
	memset(e, 0, sizeof(*e));
	row_to_event(res, row, e);
}
