#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "db.h"
#include "hash.h"
#include "hashpipe.h"
#include "http.h"
#include "ingest.h"
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

#define UPFILE		"upfile"
/* Optional fields: what the client expects the upfile's digests to be. */
#define FIELD_HASH	"file_hash"
#define FIELD_SHA256	"sha256"
#define FIELD_MAX	80	/* 64 hex digits and some blanks */
/*
 * Optional field: the file's name, exactly (a part's filename loses '"',
 * CR and LF to the browser's form encoding); cleaned as a filename is.
 */
#define FIELD_NAME	"file_name"
#define NAME_FIELD_MAX	1023	/* as a tus filename's */
/* Bits of fields_seen. */
#define SEEN_HASH	1
#define SEEN_SHA256	2
#define SEEN_NAME	4
#define TOO_LARGE	"upload larger than the configured maximum"

struct upload {
	struct app	*app;
	struct request	*req;
	struct store_tmp tmp;
	struct hash_ctx	 hash;
	struct meta	 meta;
	int		 upfiles;	/* upfile parts seen */
	int		 in_upfile;	/* the current part is the upfile */
	char		*field;		/* the field being read, or NULL */
	size_t		*field_len;
	size_t		 field_max;	/* its room */
	char		 want_hash[FIELD_MAX + 1];	/* file_hash field */
	size_t		 want_hash_len;
	char		 want_sha256[FIELD_MAX + 1];	/* sha256 field */
	size_t		 want_sha256_len;
	char		 name_field[NAME_FIELD_MAX + 1];	/* file_name */
	size_t		 name_field_len;
	int		 fields_seen;	/* SEEN_* */
	struct mp_parser *mp;		/* the body's parser */
	struct hashpipe	*pipe;		/* the body's, while it is read */
	struct outcome	 err;		/* the error to answer, 0 while fine */
	unsigned	 retry_after;	/* its Retry-After, 0: none */
	size_t		 prefix_len;	/* of prefix */
	char		 prefix[MIME_PREFIX];	/* the upfile's first bytes */
};

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

	if (!part->has_filename && strcmp(part->name, FIELD_NAME) == 0) {
		if (u->fields_seen & SEEN_NAME)
			return outcome_fail(&u->err, 400, "the file_name field "
			    "given twice");
		u->fields_seen |= SEEN_NAME;
		u->field = u->name_field;
		u->field_len = &u->name_field_len;
		u->field_max = NAME_FIELD_MAX;
		return 0;
	}
	if (!part->has_filename && (strcmp(part->name, FIELD_HASH) == 0 ||
	    strcmp(part->name, FIELD_SHA256) == 0)) {
		int	 bit = part->name[0] == 'f' ? SEEN_HASH : SEEN_SHA256;

		if (u->fields_seen & bit)
			return outcome_fail(&u->err, 400, "a digest field "
			    "given twice");
		u->fields_seen |= bit;
		/*
		 * A sha256 field before the file: its SHA-256 is computed on
		 * the way (the hash thread has seen none of its bytes yet).
		 */
		if (bit == SEEN_SHA256 && u->upfiles == 0 &&
		    !u->hash.with_sha256) {
			sha256_init(&u->hash.sha256);
			u->hash.with_sha256 = true;
		}
		u->field = bit == SEEN_HASH ? u->want_hash : u->want_sha256;
		u->field_len = bit == SEEN_HASH ? &u->want_hash_len :
		    &u->want_sha256_len;
		u->field_max = FIELD_MAX;
		return 0;
	}
	if (strcmp(part->name, UPFILE) != 0 || !part->has_filename)
		return 0;	/* other fields are ignored, as in the seed */
	if (++u->upfiles > 1)
		return outcome_fail(&u->err, 400, "more than one upfile part");
	/* Empty is refused at the end, unless a file_name field names it. */
	json_clean_name(part->filename, part->filename_len, u->meta.name);
	if ((e = store_tmp_create(u->app->store, &u->tmp)) != STORE_OK)
		return outcome_keep(&u->err,
		    outcome_store(e, "upload: temp file"));
	u->in_upfile = 1;
	return 0;
}

static int
on_part_data(void *arg, const char *data, size_t len)
{
	struct upload	*u = arg;
	enum store_error e;
	size_t		 n;

	if (u->field != NULL) {
		if (*u->field_len + len > u->field_max)
			return outcome_fail(&u->err, 400, u->field ==
			    u->name_field ? "the file_name field is too long" :
			    "a digest field is too long");
		memcpy(u->field + *u->field_len, data, len);
		*u->field_len += len;
		return 0;
	}
	if (!u->in_upfile)
		return 0;
	if (u->tmp.size + len > u->app->cfg->max_upload_size)
		return outcome_fail(&u->err, 413, TOO_LARGE);
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
		return outcome_keep(&u->err,
		    outcome_store(e, "upload: temp file write"));
	return 0;
}

static int
on_part_end(void *arg)
{
	struct upload	*u = arg;

	u->in_upfile = 0;
	u->field = NULL;
	return 0;
}

/*
 * A digest field against the digest computed (64 lowercase hex digits):
 * 1 when it matches or was not given, else 0 with the status set.
 */
static int
digest_field_matches(struct upload *u, char *field, size_t len,
    const char *got, const char *what)
{
	char	 want[HASH_HEX_LEN + 1];
	size_t	 start = 0;

	if (!(u->fields_seen & (field == u->want_hash ? SEEN_HASH :
	    SEEN_SHA256)))
		return 1;
	/* Blanks around the value (a form's line ending) are no part of it. */
	while (len > 0 && strchr(" \t\r\n", field[len - 1]) != NULL)
		len--;
	while (start < len && strchr(" \t\r\n", field[start]) != NULL)
		start++;
	if (!hash_parse(field + start, len - start, want)) {
		outcome_fail(&u->err, 400, what);
		return 0;
	}
	if (got[0] == '\0' || sodium_memcmp(want, got, HASH_HEX_LEN) != 0) {
		outcome_fail(&u->err, 400, "digest mismatch");
		return 0;
	}
	return 1;
}

/*
 * The SHA-256 of the temp file read again: for a sha256 field that came
 * after the file's bytes (local: the page cache still has them).  Synced
 * first, as a temp file must be to be read back (an object store's is
 * one object only then); the sync before the commit then has nothing
 * left to do.
 */
static int
sha256_of_tmp(struct upload *u)
{
	struct hash_ctx	 h;
	char		 buf[64 * 1024];
	uint64_t	 off = 0;
	long		 n = -1;

	hash_init_with_sha256(&h);
	if (store_tmp_sync(u->app->store, &u->tmp) == STORE_OK)
		while ((n = store_tmp_read(u->app->store, &u->tmp, buf,
		    sizeof(buf), off)) > 0) {
			sha256_update(&h.sha256, (size_t)n,
			    (const uint8_t *)buf);
			off += (uint64_t)n;
		}
	if (n == -1 || off != u->tmp.size)
		return outcome_fail(&u->err, 507, "storage is not readable");
	hash_final_sha256_hex(&h, u->meta.sha256);
	return 0;
}

/* The file_hash and sha256 fields, when given, name the upfile's bytes. */
static bool
digests_match(struct upload *u)
{
	if ((u->fields_seen & SEEN_SHA256) && u->meta.sha256[0] == '\0' &&
	    sha256_of_tmp(u) == -1)
		return false;
	return digest_field_matches(u, u->want_hash, u->want_hash_len,
	    u->meta.hash, "file_hash must be 64 hex digits") &&
	    digest_field_matches(u, u->want_sha256, u->want_sha256_len,
	    u->meta.sha256, "sha256 must be 64 hex digits");
}

static const struct mp_callbacks callbacks = {
	on_part_begin, on_part_data, on_part_end
};

/*
 * SHA-256 beside BLAKE2b costs a large upload about a third of its rate
 * (the hash thread does both), so it is computed when asked for: RFC
 * 9530's Want-Repr-Digest with sha-256 at a weight above 0, or a sha256
 * field (digests_match).
 */
static bool
wants_sha256(const struct request *r)
{
	const char	*w = request_param(r, "HTTP_WANT_REPR_DIGEST");
	const char	*p = w != NULL ? strstr(w, "sha-256=") : NULL;

	return p != NULL && atoi(p + strlen("sha-256=")) > 0;
}

/* A piece of the body, through the parser (its callbacks hash the upfile). */
static int
take(void *arg, struct hashpipe *pipe, const char *buf, size_t len)
{
	struct upload	*u = arg;
	enum mp_error	 me;

	if (body_too_large(u, u->req->body_read))
		return outcome_fail(&u->err, 413, TOO_LARGE);
	u->pipe = pipe;
	if ((me = mp_feed(u->mp, buf, len)) == MP_OK)
		return 0;
	/* Aborted: a callback set the status. */
	if (me != MP_ERR_ABORTED)
		outcome_fail(&u->err, 400, mp_strerror(me));
	return -1;
}

/*
 * The stored name: the file_name field's, when there is one (it may come
 * after the file), else the upfile's filename; 0, or -1 when it is empty.
 */
static int
named(struct upload *u)
{
	if ((u->fields_seen & SEEN_NAME) && json_clean_name(u->name_field,
	    u->name_field_len, u->meta.name) == 0)
		return outcome_fail(&u->err, 400, "the file_name field leaves "
		    "no file name");
	if (u->meta.name[0] == '\0')
		return outcome_fail(&u->err, 400, "the upfile part has no file "
		    "name");
	return 0;
}

/* Reads the whole body through the parser; 0, or -1 with u->err set. */
static int
stream_body(struct upload *u)
{
	struct request	*r = u->req;
	enum mp_error	 me;
	int		 rc;

	/* Only the upfile part's bytes are added, so one context will do. */
	if (wants_sha256(r))
		hash_init_with_sha256(&u->hash);
	else
		hash_init(&u->hash);
	rc = ingest_body(r, &u->hash, take, u, &u->err);
	u->pipe = NULL;
	if (rc == -1)
		return -1;
	if ((me = mp_finish(u->mp)) == MP_ERR_ABORTED)
		return -1;	/* a callback set the status */
	if (me != MP_OK)
		return outcome_fail(&u->err, 400, mp_strerror(me));
	if (u->upfiles == 0)
		return outcome_fail(&u->err, 400, "no file part named upfile");
	return named(u);
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

static enum db_error
insert_multipart(void *arg, struct db_tx **tx, struct meta *m)
{
	(void)arg;
	return db_insert_begin(tx, m);
}

/*
 * A duplicate is answered 403 whatever its type, so its row is looked for
 * before the type is detected, when the local store already holds its
 * bytes (a stat; an object store is not asked: a request each, for every
 * upload).  A new file is not looked for: its INSERT tells.
 */
static bool
known_duplicate(struct upload *u)
{
	bool	 exists;

	return u->app->cfg->s3 == NULL &&
	    store_exists(u->app->store, u->meta.hash) &&
	    db_exists(u->meta.hash, &exists) == DB_OK && exists;
}

static void
record(struct upload *u)
{
	struct outcome	 o;

	hash_final_hex(&u->hash, u->meta.hash);
	hash_final_sha256_hex(&u->hash, u->meta.sha256);
	snprintf(u->req->hash, sizeof(u->req->hash), "%s", u->meta.hash);
	u->meta.size = u->tmp.size;
	if (!digests_match(u))
		return;
	if (known_duplicate(u)) {
		outcome_keep(&u->err, outcome_db(DB_ERR_EXISTS, "upload"));
		return;
	}
	mime_detect(u->prefix, u->prefix_len, u->meta.type,
	    sizeof(u->meta.type));
	o = ingest_record(u->app->store, &u->req->tx, &u->tmp, &u->meta,
	    insert_multipart, NULL);
	if (o.status != 0)
		outcome_keep(&u->err, o);
}

void
upload_handle(struct app *app, struct request *r, const char *hash)
{
	struct upload	 u;
	enum db_error	 de;
	char		 boundary[MP_BOUNDARY_MAX + 1];

	(void)hash;
	/* Not the prefix: a slow upload's thread keeps its stack small. */
	memset(&u, 0, offsetof(struct upload, prefix));
	u.app = app;
	u.req = r;
	u.tmp.fd = -1;

	if (!app_upload_begin(app, r))
		return;
	if (mp_boundary(r->content_type, boundary) != MP_OK)
		outcome_fail(&u.err, 415, "body must be multipart/form-data "
		    "with a boundary");
	else if (r->bad_length)
		outcome_fail(&u.err, 400, "Content-Length is not a number");
	else if (r->length_missing)
		outcome_fail(&u.err, 411, "Content-Length required");
	else if (r->has_length && body_too_large(&u, r->content_length))
		outcome_fail(&u.err, 413, TOO_LARGE);
	else if (!app_room(app, r->has_length ? r->content_length : 0)) {
		outcome_fail(&u.err, 507, APP_NO_ROOM);
		u.retry_after = APP_RETRY_FULL;
	} else if ((de = db_ready()) != DB_OK)
		outcome_keep(&u.err, outcome_db(de, "upload"));
	else if ((u.mp = mp_new(boundary, &callbacks, &u)) == NULL)
		outcome_fail(&u.err, 500, "out of memory");
	else if (stream_body(&u) == 0)
		record(&u);

	mp_free(u.mp);
	store_tmp_abort(app->store, &u.tmp);
	app_upload_end(app, r);
	if (u.err.status == 0) {
		metrics_upload_stored(u.meta.size);
		answer_created(&u);
		return;
	}
	/*
	 * An error before the body's end is answered at once: nginx passes
	 * the answer on and stops sending the body, and request_finish drops
	 * what is on its way instead of waiting for it.
	 */
	if (u.err.status == 403) {
		char	 location[ROUTER_LOCATION_MAX];

		metrics_duplicate();
		route_location(u.meta.hash, location);
		http_error_hash(r, 403, u.err.reason, u.meta.hash, location);
	} else
		http_error_later(r, u.err.status, u.err.reason,
		    u.retry_after);
}
