#include <stddef.h>

#include "log.h"
#include "metrics.h"
#include "outcome.h"

static const struct outcome db_outcomes[DB_ERR__MAX] = {
	[DB_OK] = { 500, "database error" },
	[DB_ERR_UNAVAILABLE] = { 503, "database unavailable" },
	[DB_ERR_NOTFOUND] = { 404, "no file with this hash" },
	[DB_ERR_EXISTS] = { 403, "File already exist!" },	/* the seed's */
	[DB_ERR_QUERY] = { 500, "database error" },
	[DB_ERR_UNKNOWN] = { 503, "database unavailable" },
};

static const struct outcome store_outcomes[STORE_ERR__MAX] = {
	[STORE_OK] = { 500, "storage error" },
	[STORE_ERR_NOSPACE] = { 507, "storage is full" },
	[STORE_ERR_IO] = { 507, "storage is not writable" },
	[STORE_ERR_NOENT] = { 500, "the stored file is missing" },
	[STORE_ERR_EXISTS] = { 507, "storage is not writable" },
	[STORE_ERR_BUSY] = { 423, "the upload is being written by another "
	    "request" },
	[STORE_ERR_UNAVAILABLE] = { 503, "storage unavailable" },
	[STORE_ERR_UNSUPPORTED] = { 501, "the storage has no resumable uploads" },
};

/* What each error counts as (metrics.h); -1: nothing. */
static const int store_metrics[STORE_ERR__MAX] = {
	[STORE_OK] = -1,
	[STORE_ERR_NOSPACE] = METRICS_STORE_NOSPACE,
	[STORE_ERR_IO] = METRICS_STORE_IO,
	[STORE_ERR_NOENT] = METRICS_STORE_MISSING,
	[STORE_ERR_EXISTS] = METRICS_STORE_IO,
	[STORE_ERR_BUSY] = -1,
	[STORE_ERR_UNAVAILABLE] = METRICS_STORE_UNAVAILABLE,
	[STORE_ERR_UNSUPPORTED] = -1,
};
static const int body_metrics[] = {
	[BODY_OK] = -1,
	[BODY_BROKEN] = METRICS_BODY_BROKEN,
	[BODY_STALLED] = METRICS_BODY_STALLED,
	[BODY_TOO_SLOW] = METRICS_BODY_TOO_SLOW,
};

static const struct outcome body_outcomes[] = {
	[BODY_OK] = { 500, "request body error" },
	[BODY_BROKEN] = { 400, "the request body ended early" },
	[BODY_STALLED] = { 408, "the request body stalled" },
	[BODY_TOO_SLOW] = { 408, "the request body came slower than the "
	    "minimum rate" },
};

struct outcome
outcome_db(enum db_error err, const char *what)
{
	struct outcome	 o = db_outcomes[(unsigned)err < DB_ERR__MAX ?
	    err : DB_ERR_QUERY];

	if (o.status >= 500 && what != NULL)
		log_warnx("%s: %s", what, db_last_error());
	return o;
}

struct outcome
outcome_store(enum store_error err, const char *what)
{
	enum store_error e = (unsigned)err < STORE_ERR__MAX ? err : STORE_ERR_IO;
	struct outcome	 o = store_outcomes[e];

	if (store_metrics[e] >= 0)
		metrics_store_error((enum metrics_store)store_metrics[e]);
	/* An unavailable store (S3) said why in its own line; errno is not it. */
	if (o.status >= 500 && what != NULL && e == STORE_ERR_UNAVAILABLE)
		log_warnx("%s: the store is unavailable", what);
	else if (o.status >= 500 && what != NULL)
		log_warn("%s", what);
	return o;
}

struct outcome
outcome_body(enum body_error err)
{
	enum body_error	 e = (unsigned)err < sizeof(body_outcomes) /
	    sizeof(body_outcomes[0]) ? err : BODY_OK;

	if (body_metrics[e] >= 0)
		metrics_body_error((enum metrics_body)body_metrics[e]);
	return body_outcomes[e];
}

int
outcome_fail(struct outcome *o, int status, const char *reason)
{
	if (o->status == 0) {
		o->status = status;
		o->reason = reason;
	}
	return -1;
}

int
outcome_keep(struct outcome *o, struct outcome e)
{
	return outcome_fail(o, e.status, e.reason);
}
