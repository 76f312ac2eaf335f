/*
 * fsck_pg.h: the rows, existence checks and deletes of fileupload-fsck on
 * PostgreSQL.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "config.h"
#include "db.h"
#include "fsck.h"
#include "fsck_pg.h"
#include "hash.h"
#include "meta.h"
#include "num.h"

/*
 * The rows in byte order.  COLLATE "C" makes the server's order strcmp's
 * whatever the database's collation (the hashes are lowercase hex, so it
 * is also the order of the names in DATA_DIR).  The index of migration
 * 003 makes it an index-only walk rather than a sort of the whole table.
 */
#define ROWS_SQL	"SELECT file_hash, file_size FROM files " \
			"ORDER BY file_hash COLLATE \"C\""

struct pg {
	PGconn	*conn;		/* the listing's own */
	int	 listing;	/* results still to be read */
	struct db_tx *tx;		/* the open delete, NULL: none */
	char	 hash[HASH_HEX_LEN + 1];	/* of the open delete */
	char	 err[512];
};

static void
pg_error(struct pg *p, const char *what, const char *msg)
{
	db_error_line(p->err, sizeof(p->err), what, msg);
}

static int
pg_rows_begin(void *arg)
{
	struct pg	*p = arg;

	if (PQsendQuery(p->conn, ROWS_SQL) != 1) {
		pg_error(p, "query", PQerrorMessage(p->conn));
		return -1;
	}
	p->listing = 1;
	/* Never the whole result in memory: one row per PGresult. */
	if (PQsetSingleRowMode(p->conn) != 1) {
		pg_error(p, "single-row mode", PQerrorMessage(p->conn));
		return -1;
	}
	return 0;
}

/* Reads what is left of the listing's results. */
static void
pg_drain(struct pg *p)
{
	PGresult	*res;

	while ((res = PQgetResult(p->conn)) != NULL)
		PQclear(res);
	p->listing = 0;
}

static int
pg_rows_next(void *arg, struct fsck_row *r)
{
	struct pg	*p = arg;
	PGresult	*res;
	uint64_t	 size;
	int		 rc = -1;

	if (!p->listing)
		return 0;
	if ((res = PQgetResult(p->conn)) == NULL) {
		p->listing = 0;
		return 0;
	}
	switch (PQresultStatus(res)) {
	case PGRES_SINGLE_TUPLE:
		if (PQgetlength(res, 0, 0) != HASH_HEX_LEN ||
		    parse_u64(PQgetvalue(res, 0, 1), 0, INT64_MAX,
		    &size) == -1) {
			pg_error(p, "row", "unexpected file_hash or file_size");
			break;
		}
		memcpy(r->hash, PQgetvalue(res, 0, 0), HASH_HEX_LEN);
		r->hash[HASH_HEX_LEN] = '\0';
		r->size = size;
		rc = 1;
		break;
	case PGRES_TUPLES_OK:
		rc = 0;		/* the end: no more rows */
		break;
	default:
		pg_error(p, "rows", PQresultErrorMessage(res));
		break;
	}
	PQclear(res);
	if (rc != 1)
		pg_drain(p);
	return rc;
}

static void
pg_rows_end(void *arg)
{
	struct pg	*p = arg;
	PGcancel	*cancel;
	char		 buf[256];

	if (!p->listing)
		return;
	/* Stopped early: no need to receive millions of rows to drop them. */
	if ((cancel = PQgetCancel(p->conn)) != NULL) {
		(void)PQcancel(cancel, buf, sizeof(buf));
		PQfreeCancel(cancel);
	}
	pg_drain(p);
}

static int
pg_exists(void *arg, const char *hash)
{
	bool	 exists;

	(void)arg;
	if (db_exists(hash, &exists) != DB_OK)
		return -1;
	return exists;
}

static int
pg_upload_exists(void *arg, const char *id)
{
	struct upload_row *row;
	enum db_error	 err;

	(void)arg;
	if ((row = malloc(sizeof(*row))) == NULL)
		return -1;
	err = db_upload_get(id, row);
	free(row);
	if (err == DB_ERR_NOTFOUND)
		return 0;
	return err == DB_OK ? 1 : -1;
}

static int
pg_delete_begin(void *arg, const char *hash, char *desc, size_t desclen)
{
	struct pg	*p = arg;
	struct meta	 m;
	char		 name[FSCK_VIS_MAX];

	switch (db_delete_begin(&p->tx, hash, &m)) {
	case DB_OK:
		break;
	case DB_ERR_NOTFOUND:
		return 0;
	default:
		return -1;
	}
	snprintf(p->hash, sizeof(p->hash), "%s", hash);
	/* What the row said, for the record: it is gone after the COMMIT. */
	fsck_vis(m.name, name, sizeof(name));
	snprintf(desc, desclen, "file_name %s, file_type %s, file_size %" PRIu64
	    ", created_at %s", name, m.type, m.size, m.created_at);
	return 1;
}

static int
pg_commit(void *arg)
{
	struct pg	*p = arg;

	/* The transaction ends, committed or not. */
	return db_commit_row(&p->tx, p->hash, false) == DB_OK ? 0 : -1;
}

static void
pg_rollback(void *arg)
{
	struct pg	*p = arg;

	db_rollback(&p->tx);
}

static const char *
pg_last_error(void *arg)
{
	struct pg	*p = arg;

	return p->err[0] != '\0' ? p->err : db_last_error();
}

int
fsck_pg_open(struct fsck_db *db, const struct config *cfg, char *err,
    size_t errlen)
{
	struct pg	*p;

	memset(db, 0, sizeof(*db));
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	p->conn = db_connect(cfg, "fileupload-fsck", 10);
	if (p->conn == NULL || PQstatus(p->conn) != CONNECTION_OK) {
		pg_error(p, "cannot connect", p->conn != NULL ?
		    PQerrorMessage(p->conn) : "out of memory");
		snprintf(err, errlen, "%s", p->err);
		PQfinish(p->conn);
		free(p);
		return -1;
	}
	db_init(cfg);
	if (db_ready() != DB_OK) {
		snprintf(err, errlen, "%s", db_last_error());
		PQfinish(p->conn);
		free(p);
		return -1;
	}
	db->arg = p;
	db->rows_begin = pg_rows_begin;
	db->rows_next = pg_rows_next;
	db->rows_end = pg_rows_end;
	db->exists = pg_exists;
	db->upload_exists = pg_upload_exists;
	db->delete_begin = pg_delete_begin;
	db->commit = pg_commit;
	db->rollback = pg_rollback;
	db->error = pg_last_error;
	return 0;
}

void
fsck_pg_close(struct fsck_db *db)
{
	struct pg	*p = db->arg;

	if (p != NULL) {
		db_rollback(&p->tx);
		pg_rows_end(p);
		PQfinish(p->conn);
		free(p);
	}
	db_close();
	memset(db, 0, sizeof(*db));
}
