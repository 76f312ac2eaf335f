#include <stdio.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "db_double.h"

struct double_db	 double_db;

/* What a transaction did, applied to the tables at its COMMIT only. */
struct db_tx {
	bool		 insert;	/* the file row of m */
	struct meta	 m;
	bool		 remove;	/* the file row of m.hash */
	char		 complete[TUS_ID_LEN + 1];	/* "" for none */
	uint64_t	 complete_offset;
};

static struct db_tx	 the_tx;	/* single-threaded: one at a time */

void
double_reset(void)
{
	memset(&double_db, 0, sizeof(double_db));
	memset(&the_tx, 0, sizeof(the_tx));
}

struct double_upload *
double_upload(const char *id)
{
	int	 i;

	for (i = 0; i < DOUBLE_UPLOADS_MAX; i++)
		if (double_db.uploads[i].used &&
		    strcmp(double_db.uploads[i].row.id, id) == 0)
			return &double_db.uploads[i];
	return NULL;
}

static struct meta *
file_of(const char *hash)
{
	int	 i;

	for (i = 0; i < double_db.nfiles; i++)
		if (strcmp(double_db.files[i].hash, hash) == 0)
			return &double_db.files[i];
	return NULL;
}

const struct meta *
double_file(const char *hash)
{
	return file_of(hash);
}

static void
stamp(struct meta *m)
{
	snprintf(m->created_at, sizeof(m->created_at), "2026-12-06T00:00:00Z");
	snprintf(m->updated_at, sizeof(m->updated_at), "2026-12-06T00:00:00Z");
}

static void
add_file(const struct meta *m)
{
	if (double_db.nfiles < DOUBLE_FILES_MAX)
		double_db.files[double_db.nfiles++] = *m;
}

void
double_add_file(const char *hash, uint64_t size)
{
	struct meta	 m;

	memset(&m, 0, sizeof(m));
	snprintf(m.hash, sizeof(m.hash), "%s", hash);
	snprintf(m.name, sizeof(m.name), "earlier");
	snprintf(m.type, sizeof(m.type), "text/plain");
	m.size = size;
	stamp(&m);
	add_file(&m);
}

static void
expires_text(time_t t, char out[UPLOAD_ROW_DATE_MAX])
{
	struct tm	 tm;

	gmtime_r(&t, &tm);
	strftime(out, UPLOAD_ROW_DATE_MAX, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* The UPDATEs' "writer IS NOT DISTINCT FROM NULLIF(writer, '')". */
static bool
writer_is(const struct double_upload *d, const char *writer)
{
	return strcmp(d->writer, writer) == 0;
}

/* ---------------------------------------------------------- the pool */

int
db_init(const struct config *cfg)
{
	(void)cfg;
	return 0;
}

void
db_close(void)
{
}

enum db_error
db_ready(void)
{
	return double_db.unavailable ? DB_ERR_UNAVAILABLE : DB_OK;
}

enum db_error
db_ping(void)
{
	return db_ready();
}

const char *
db_last_error(void)
{
	return "the database double says no";
}

void
db_error_line(char *buf, size_t len, const char *what, const char *msg)
{
	snprintf(buf, len, "%s: %s", what, msg);
}

/* ---------------------------------------------------- transactions */

static enum db_error
begin(struct db_tx **tx)
{
	if (double_db.unavailable)
		return DB_ERR_UNAVAILABLE;
	if (*tx != NULL || double_db.open_txs > 0)
		return DB_ERR_QUERY;
	memset(&the_tx, 0, sizeof(the_tx));
	*tx = &the_tx;
	double_db.open_txs++;
	return DB_OK;
}

void
db_rollback(struct db_tx **tx)
{
	if (*tx == NULL)
		return;
	*tx = NULL;
	double_db.open_txs--;
	double_db.rollbacks++;
}

void
db_release(struct db_tx **tx)
{
	db_rollback(tx);
}

enum db_error
db_commit_row(struct db_tx **tx, const char *hash, bool row_after)
{
	struct db_tx	*t = *tx;
	struct double_upload *d;
	struct meta	*f;
	enum db_error	 err = double_db.commit_fails;

	(void)hash;
	(void)row_after;
	if (t == NULL)
		return DB_ERR_QUERY;
	double_db.commit_fails = DB_OK;
	if (err != DB_OK) {
		db_rollback(tx);
		return err;
	}
	if (t->insert)
		add_file(&t->m);
	if (t->remove && (f = file_of(t->m.hash)) != NULL)
		*f = double_db.files[--double_db.nfiles];
	if (t->complete[0] != '\0' && (d = double_upload(t->complete)) !=
	    NULL) {
		d->row.offset = d->row.length = t->complete_offset;
		d->row.length_known = true;
		snprintf(d->row.file_hash, sizeof(d->row.file_hash), "%s",
		    t->m.hash);
		memset(&d->row.hash, 0, sizeof(d->row.hash));
		d->writer[0] = '\0';
		d->writer_until = 0;
	}
	*tx = NULL;
	double_db.open_txs--;
	double_db.commits++;
	return DB_OK;
}

enum db_error
db_insert_begin(struct db_tx **tx, struct meta *m)
{
	enum db_error	 err;

	if ((err = begin(tx)) != DB_OK)
		return err;
	if (file_of(m->hash) != NULL) {
		db_rollback(tx);
		return DB_ERR_EXISTS;
	}
	stamp(m);
	(*tx)->insert = true;
	(*tx)->m = *m;
	return DB_OK;
}

enum db_error
db_delete_begin(struct db_tx **tx, const char *hash, struct meta *out)
{
	struct meta	*f;
	enum db_error	 err;

	if ((err = begin(tx)) != DB_OK)
		return err;
	if ((f = file_of(hash)) == NULL) {
		db_rollback(tx);
		return DB_ERR_NOTFOUND;
	}
	*out = *f;
	(*tx)->remove = true;
	(*tx)->m = *f;
	return DB_OK;
}

/* ------------------------------------------------------- statements */

enum db_error
db_get(const char *hash, struct meta *out)
{
	struct meta	*f;

	if (double_db.unavailable)
		return DB_ERR_UNAVAILABLE;
	if ((f = file_of(hash)) == NULL)
		return DB_ERR_NOTFOUND;
	*out = *f;
	return DB_OK;
}

enum db_error
db_exists(const char *hash, bool *exists)
{
	if (double_db.unavailable)
		return DB_ERR_UNAVAILABLE;
	*exists = file_of(hash) != NULL;
	return DB_OK;
}

enum db_error
db_update(const char *hash, const char *name, const char *type,
    struct meta *out)
{
	struct meta	*f;

	if (double_db.unavailable)
		return DB_ERR_UNAVAILABLE;
	if ((f = file_of(hash)) == NULL)
		return DB_ERR_NOTFOUND;
	if (name != NULL)
		snprintf(f->name, sizeof(f->name), "%s", name);
	if (type != NULL)
		snprintf(f->type, sizeof(f->type), "%s", type);
	*out = *f;
	return DB_OK;
}

enum db_error
db_list(uint64_t limit, const char *after, bool newest,
    int (*row)(void *, const struct meta *), void *arg, bool *more)
{
	int		 i;
	uint64_t	 n = 0;

	(void)after;
	(void)newest;
	*more = false;
	if (double_db.unavailable)
		return DB_ERR_UNAVAILABLE;
	for (i = 0; i < double_db.nfiles; i++) {
		if (limit > 0 && n == limit) {
			*more = true;
			break;
		}
		n++;
		if (row(arg, &double_db.files[i]) != 0)
			break;
	}
	return DB_OK;
}

/* -------------------------------------------------- resumable uploads */

enum db_error
db_upload_create(struct upload_row *u, unsigned expires,
    struct upload_quota *q)
{
	struct quota_usage all = { 0, 0 }, own = { 0, 0 };
	struct double_upload *d;
	time_t		 now = time(NULL);
	int		 i;

	if (double_db.unavailable)
		return DB_ERR_UNAVAILABLE;
	/* The caps as db.c counts them: unfinished, unexpired uploads. */
	for (i = 0; q != NULL && i < DOUBLE_UPLOADS_MAX; i++) {
		d = &double_db.uploads[i];
		if (!d->used || d->row.file_hash[0] != '\0' ||
		    d->expires_at <= now)
			continue;
		all.uploads++;
		all.bytes += d->row.length_known ? d->row.length :
		    d->row.offset;
		if (q->owner != NULL && strcmp(d->owner, q->owner) == 0) {
			own.uploads++;
			own.bytes += d->row.length_known ? d->row.length :
			    d->row.offset;
		}
	}
	if (q != NULL && (q->verdict = quota_judge(q->limits, &all,
	    quota_token_capped(q->limits, q->owner != NULL) ? &own : NULL,
	    u->length_known ? u->length : 0)) != QUOTA_OK)
		return DB_OK;
	if (double_upload(u->id) != NULL)
		return DB_ERR_QUERY;
	for (i = 0; i < DOUBLE_UPLOADS_MAX && double_db.uploads[i].used; i++)
		;
	if (i == DOUBLE_UPLOADS_MAX)
		return DB_ERR_QUERY;
	memset(&double_db.uploads[i], 0, sizeof(double_db.uploads[i]));
	double_db.uploads[i].used = true;
	double_db.uploads[i].row = *u;
	double_db.uploads[i].row.offset = 0;
	double_db.uploads[i].row.writer[0] = '\0';
	double_db.uploads[i].expires_at = time(NULL) + expires;
	snprintf(double_db.uploads[i].owner, sizeof(double_db.uploads[i].owner),
	    "%s", q != NULL && q->owner != NULL ? q->owner : "");
	expires_text(double_db.uploads[i].expires_at, u->expires);
	return DB_OK;
}

enum db_error
db_upload_declare(const char *id, uint64_t length, struct upload_quota *q)
{
	struct quota_limits bytes = *q->limits;
	struct quota_usage all = { 0, 0 }, own = { 0, 0 };
	struct double_upload *d, *me = double_upload(id);
	time_t		 now = time(NULL);
	bool		 token;
	int		 i;

	q->verdict = QUOTA_OK;
	if (double_db.unavailable)
		return DB_ERR_UNAVAILABLE;
	if (me == NULL || me->row.length_known || me->row.file_hash[0] != '\0')
		return DB_ERR_NOTFOUND;
	bytes.uploads = bytes.token_uploads = 0;
	token = quota_token_capped(&bytes, me->owner[0] != '\0');
	if (!quota_total_capped(&bytes) && !token)
		return DB_OK;
	for (i = 0; i < DOUBLE_UPLOADS_MAX; i++) {
		d = &double_db.uploads[i];
		if (d == me || !d->used || d->row.file_hash[0] != '\0' ||
		    d->expires_at <= now)
			continue;
		all.bytes += d->row.length_known ? d->row.length :
		    d->row.offset;
		if (strcmp(d->owner, me->owner) == 0)
			own.bytes += d->row.length_known ? d->row.length :
			    d->row.offset;
	}
	if ((q->verdict = quota_judge(&bytes, &all, token ? &own : NULL,
	    length)) == QUOTA_OK) {
		me->row.length = length;
		me->row.length_known = true;
	}
	return DB_OK;
}

enum db_error
db_upload_get(const char *id, struct upload_row *out)
{
	struct double_upload *d;

	if (double_db.unavailable)
		return DB_ERR_UNAVAILABLE;
	if ((d = double_upload(id)) == NULL)
		return DB_ERR_NOTFOUND;
	*out = d->row;
	out->writer[0] = '\0';
	expires_text(d->expires_at, out->expires);
	out->expired = d->expires_at <= time(NULL);
	return DB_OK;
}

enum db_error
db_upload_advance(struct upload_row *u, uint64_t from, unsigned expires)
{
	struct double_upload *d;

	if (double_db.unavailable)
		return DB_ERR_UNAVAILABLE;
	if ((d = double_upload(u->id)) == NULL || d->row.offset != from ||
	    d->row.file_hash[0] != '\0' || !writer_is(d, u->writer))
		return DB_ERR_NOTFOUND;
	d->row.offset = u->offset;
	d->row.length_known = u->length_known;
	d->row.length = u->length;
	d->row.hash = u->hash;
	d->expires_at = time(NULL) + expires;
	expires_text(d->expires_at, u->expires);
	return DB_OK;
}

enum db_error
db_upload_complete(struct db_tx **tx, const struct upload_row *u,
    struct meta *m)
{
	struct double_upload *d;
	enum db_error	 err;

	if ((err = begin(tx)) != DB_OK)
		return err;
	if (file_of(m->hash) != NULL)
		err = DB_ERR_EXISTS;
	else if ((d = double_upload(u->id)) == NULL ||
	    d->row.file_hash[0] != '\0' || !writer_is(d, u->writer))
		err = DB_ERR_NOTFOUND;
	if (err != DB_OK) {
		db_rollback(tx);
		return err;
	}
	stamp(m);
	(*tx)->insert = true;
	(*tx)->m = *m;
	snprintf((*tx)->complete, sizeof((*tx)->complete), "%s", u->id);
	(*tx)->complete_offset = u->offset;
	return DB_OK;
}

enum db_error
db_upload_hold(const char *id, const char *writer, uint64_t offset,
    unsigned lease)
{
	struct double_upload *d;
	time_t		 now = time(NULL);

	if (double_db.unavailable)
		return DB_ERR_UNAVAILABLE;
	double_db.holds++;
	double_db.held_at = offset;
	if ((d = double_upload(id)) == NULL || d->row.offset != offset ||
	    d->row.file_hash[0] != '\0' || d->expires_at <= now ||
	    !(d->writer[0] == '\0' || writer_is(d, writer) ||
	    d->writer_until <= now))
		return DB_ERR_EXISTS;
	snprintf(d->writer, sizeof(d->writer), "%s", writer);
	d->writer_until = now + lease;
	return DB_OK;
}

enum db_error
db_upload_let_go(const char *id, const char *writer)
{
	struct double_upload *d;

	if (double_db.unavailable)
		return DB_ERR_UNAVAILABLE;
	if ((d = double_upload(id)) != NULL && writer_is(d, writer)) {
		d->writer[0] = '\0';
		d->writer_until = 0;
	}
	return DB_OK;
}

enum db_error
db_upload_remove(const char *id)
{
	struct double_upload *d;

	if (double_db.unavailable)
		return DB_ERR_UNAVAILABLE;
	if ((d = double_upload(id)) != NULL)
		d->used = false;
	return DB_OK;
}

enum db_error
db_upload_sweep(int limit, int (*gone)(void *, const char *), void *arg,
    int *n)
{
	struct double_upload *d;
	time_t		 now = time(NULL);
	int		 i;

	*n = 0;
	if (double_db.unavailable)
		return DB_ERR_UNAVAILABLE;
	for (i = 0; i < DOUBLE_UPLOADS_MAX && *n < limit; i++) {
		d = &double_db.uploads[i];
		if (!d->used || d->expires_at > now ||
		    (d->writer[0] != '\0' && d->writer_until > now))
			continue;
		if (gone(arg, d->row.id) == -1)
			continue;
		d->used = false;
		(*n)++;
	}
	return DB_OK;
}
