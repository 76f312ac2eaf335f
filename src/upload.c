#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "db.h"
#include "hash.h"
#include "handlers.h"
#include "hashpipe.h"
#include "http.h"
#include "jsonio.h"
#include "meta.h"
#include "metrics.h"
#include "mime.h"
#include "multipart.h"
#include "outcome.h"
#include "request.h"
#include "router.h"
#include "store.h"
#include "upload.h"

/*
 * Body reads go straight from the FastCGI stream into the parser, in
 * buffers the hash thread then reads (hashpipe.h); a body of one buffer or
 * less is hashed inline.
 */
#define READ_CHUNK	HASHPIPE_BUF_SIZE

#define UPFILE		"upfile"
#define TOO_LARGE	"upload larger than the configured maximum"

struct upload {
	struct app	*app;
	struct request	*req;
	struct store_tmp tmp;
	struct hash_ctx	 hash;
	struct meta	 meta;
	int		 upfiles;	/* upfile parts seen */
	int		 in_upfile;	/* the current part is the upfile */
	struct hashpipe	*pipe;		/* the body's, while it is read */
	int		 status;	/* the error to answer, 0 while fine */
	const char	*reason;
	size_t		 prefix_len;	/* of prefix */
	char		 prefix[MIME_PREFIX];	/* the upfile's first bytes */
};

static int
fail(struct upload *u, int status, const char *reason)
{
	if (u->status == 0) {
		u->status = status;
		u->reason = reason;
	}
	return -1;
}

static int
fail_with(struct upload *u, struct outcome o)
{
	return fail(u, o.status, o.reason);
}

/* The body may exceed the file by the multipart framing's allowance. */
static bool
body_too_large(const struct upload *u, uint64_t body)
{
	return body > u->app->cfg->max_upload_size + UPLOAD_FRAMING_MAX;
}

static int
on_part_begin(void *arg, const struct mp_part *part)
{
	struct upload	*u = arg;
	enum store_error e;

	if (strcmp(part->name, UPFILE) != 0 || !part->has_filename)
		return 0;	/* other fields are ignored, as in the seed */
	if (++u->upfiles > 1)
		return fail(u, 400, "more than one upfile part");
	if (json_clean_name(part->filename, part->filename_len,
	    u->meta.name) == 0)
		return fail(u, 400, "the upfile part has no file name");
	if ((e = store_tmp_create(u->app->store, &u->tmp)) != STORE_OK)
		return fail_with(u, outcome_store(e, "upload: temp file"));
	u->in_upfile = 1;
	return 0;
}

static int
on_part_data(void *arg, const char *data, size_t len)
{
	struct upload	*u = arg;
	enum store_error e;
	size_t		 n;

	if (!u->in_upfile)
		return 0;
	if (u->tmp.size + len > u->app->cfg->max_upload_size)
		return fail(u, 413, TOO_LARGE);
	if (u->prefix_len < MIME_PREFIX) {
		n = MIME_PREFIX - u->prefix_len;
		if (n > len)
			n = len;
		memcpy(u->prefix + u->prefix_len, data, n);
		u->prefix_len += n;
	}
	hashpipe_add(u->pipe, data, len);
	if ((e = store_tmp_write(u->app->store, &u->tmp, data, len)) !=
	    STORE_OK)
		return fail_with(u, outcome_store(e, "upload: temp file write"));
	return 0;
}

static int
on_part_end(void *arg)
{
	struct upload	*u = arg;

	u->in_upfile = 0;
	return 0;
}

static const struct mp_callbacks callbacks = {
	on_part_begin, on_part_data, on_part_end
};

/* Reads the whole body through the parser; 0, or -1 with u->status set. */
static int
stream_body(struct upload *u, struct mp_parser *mp)
{
	struct request	*r = u->req;
	enum mp_error	 me = MP_OK;
	ssize_t		 n;
	char		*buf;
	int		 rc = 0;

	/* Only the upfile part's bytes are added, so one context will do. */
	hash_init(&u->hash);
	u->pipe = hashpipe_take(!r->has_length ||
	    r->content_length > READ_CHUNK);
	if (u->pipe == NULL)
		return fail(u, 503, "out of memory for the body's buffer");
	hashpipe_begin(u->pipe, &u->hash);
	for (;;) {
		buf = hashpipe_buffer(u->pipe);
		if ((n = request_read(r, buf, READ_CHUNK)) == -1) {
			rc = fail_with(u, outcome_body(r->body_error));
			break;
		}
		if (n == 0)
			break;
		if (body_too_large(u, r->body_read)) {
			rc = fail(u, 413, TOO_LARGE);
			break;
		}
		me = mp_feed(mp, buf, n);
		hashpipe_submit(u->pipe);
		if (me != MP_OK)
			break;
	}
	/* The hash is whole, and no buffer is still being read, past here. */
	hashpipe_end(u->pipe);
	hashpipe_give(u->pipe);
	u->pipe = NULL;
	if (rc == -1)
		return -1;
	if (me == MP_OK)
		me = mp_finish(mp);
	if (me == MP_ERR_ABORTED)
		return -1;	/* a callback set the status */
	if (me != MP_OK)
		return fail(u, 400, mp_strerror(me));
	if (u->upfiles == 0)
		return fail(u, 400, "no file part named upfile");
	return 0;
}

static void
answer_created(struct upload *u)
{
	char	 location[ROUTER_LOCATION_MAX];
	char	*json;

	route_location(u->meta.hash, location);
	if ((json = json_meta(&u->meta)) == NULL) {
		http_error(u->req, 500, "out of memory");
		return;
	}
	http_json(u->req, 201, json, location);
	free(json);
}

/*
 * The durable order: bytes fsynced, row inserted (its unique key holds off a
 * concurrent delete of the same hash), file renamed into place, then COMMIT.
 * A crash before COMMIT leaves at most a file without a row, never the
 * reverse, and a file without a row is harmless: its bytes are what the
 * hash says, and a later upload of them simply records it.
 */
static void
record(struct upload *u)
{
	struct store	*st = u->app->store;
	enum store_error e;
	enum db_error	 de;

	hash_final_hex(&u->hash, u->meta.hash);
	snprintf(u->req->hash, sizeof(u->req->hash), "%s", u->meta.hash);
	u->meta.size = u->tmp.size;
	mime_detect(u->prefix, u->prefix_len, u->meta.type,
	    sizeof(u->meta.type));

	if ((e = store_tmp_sync(st, &u->tmp)) != STORE_OK) {
		fail_with(u, outcome_store(e, "upload: fsync"));
		return;
	}
	if ((de = db_insert_begin(&u->meta)) != DB_OK) {
		fail_with(u, outcome_db(de, "upload"));
		return;
	}
	if ((e = store_tmp_commit(st, &u->tmp, u->meta.hash)) != STORE_OK) {
		fail_with(u, outcome_store(e, "upload: rename into place"));
		db_rollback();
		return;
	}
	/*
	 * Should the COMMIT fail, the file stays: once our transaction ended,
	 * another upload of the same bytes may already rely on it.
	 */
	if ((de = db_commit_row(u->meta.hash, true)) != DB_OK)
		fail_with(u, outcome_db(de, "upload commit"));
}

void
upload_handle(struct app *app, struct request *r, const char *hash)
{
	struct upload	 u;
	struct mp_parser *mp = NULL;
	enum db_error	 de;
	char		 boundary[MP_BOUNDARY_MAX + 1];

	(void)hash;
	/* Not the prefix: a slow upload's thread keeps its stack small. */
	memset(&u, 0, offsetof(struct upload, prefix));
	u.app = app;
	u.req = r;
	u.tmp.fd = -1;

	if (!handler_upload_begin(app, r))
		return;
	if (mp_boundary(r->content_type, boundary) != MP_OK)
		fail(&u, 415, "body must be multipart/form-data with a boundary");
	else if (r->bad_length)
		fail(&u, 400, "Content-Length is not a number");
	else if (r->length_missing)
		fail(&u, 411, "Content-Length required");
	else if (r->has_length && body_too_large(&u, r->content_length))
		fail(&u, 413, TOO_LARGE);
	else if ((de = db_ready()) != DB_OK)
		fail_with(&u, outcome_db(de, "upload"));
	else if ((mp = mp_new(boundary, &callbacks, &u)) == NULL)
		fail(&u, 500, "out of memory");
	else if (stream_body(&u, mp) == 0)
		record(&u);

	mp_free(mp);
	store_tmp_abort(app->store, &u.tmp);
	handler_upload_end(app);
	if (u.status == 0) {
		metrics_upload_stored(u.meta.size);
		answer_created(&u);
		return;
	}
	/*
	 * An error before the body's end is answered at once: nginx passes
	 * the answer on and stops sending the body, and request_finish drops
	 * what is on its way instead of waiting for it.
	 */
	if (u.status == 403) {
		char	 location[ROUTER_LOCATION_MAX];

		metrics_duplicate();
		route_location(u.meta.hash, location);
		http_error_hash(r, 403, u.reason, u.meta.hash, location);
	} else
		http_error(r, u.status, u.reason);
}
