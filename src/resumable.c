#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "app.h"
#include "auth.h"
#include "db.h"
#include "digest.h"
#include "hash.h"
#include "hashpipe.h"
#include "http.h"
#include "ingest.h"
#include "jsonio.h"
#include "log.h"
#include "metrics.h"
#include "mime.h"
#include "outcome.h"
#include "request.h"
#include "resumable.h"
#include "router.h"
#include "store.h"
#include "tus.h"
#include "tus_concat.h"
#include "upload_row.h"

/* The file_name of an upload whose Upload-Metadata names none. */
#define DEFAULT_NAME	"upload"
/*
 * The expiry sweep takes expired uploads SWEEP_BATCH at a time, until
 * none is left or SWEEP_SECONDS have gone (the rest wait for the next
 * sweep, a minute later): it keeps up with any rate of creation the
 * caps allow, yet a worker asked to stop waits for it no longer than that.
 */
#define SWEEP_BATCH	500
#define SWEEP_SECONDS	10

/* One request on an upload. */
struct tus {
	struct app	*app;
	struct request	*req;
	struct upload_row row;		/* as read once the part was held */
	struct store_tmp part;		/* held (locked) once opened */
	bool		 leased;	/* holds the row's lease (no lock) */
	time_t		 renewed;	/* when the lease was last renewed */
	uint64_t	 committed;	/* the row's offset the lease is for */
	struct digest	 want;		/* Upload-Checksum or Content-Digest */
	int		 mismatch;	/* their status: 460 or 400 */
	bool		 created;	/* answer 201 with Location */
	bool		 declared;	/* this PATCH declared the length */
	struct outcome	 err;		/* the answer: 0 while fine */
	unsigned	 retry_after;	/* its Retry-After, 0: none */
	bool		 answered;	/* 503: no upload slot, already said */
	char		 file_hash[HASH_HEX_LEN + 1];	/* 403: the stored one */
};

/* ------------------------------------------------------------- answers */

/* Status line, Tus-Resumable (every answer), and no caching. */
static void
begin_answer(struct request *r, int status, const char *ctype)
{
	http_begin(r, status, ctype);
	http_header(r, "Tus-Resumable", TUS_VERSION);
	http_header(r, "Cache-Control", "no-store");
}

static void
header_u64(struct request *r, const char *name, uint64_t v)
{
	char	 buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	http_header(r, name, buf);
}

/* Location of the upload, for a creation's answer. */
static void
header_location(struct request *r, const char *id)
{
	char	 loc[sizeof(ROUTER_UPLOADS) + TUS_ID_LEN + 1];

	snprintf(loc, sizeof(loc), "%s/%s", ROUTER_UPLOADS, id);
	http_header(r, "Location", loc);
}

/* File-Hash and Link of the file a complete upload became. */
static void
header_file(struct request *r, const char *hash)
{
	char	 link[ROUTER_LOCATION_MAX + 16];

	http_header(r, "File-Hash", hash);
	snprintf(link, sizeof(link), "<%s/%s>; rel=\"item\"", ROUTER_BASE,
	    hash);
	http_header(r, "Link", link);
}

/* A JSON error, with the headers a tus client reads. */
static void
answer_error(struct tus *t)
{
	struct request	*r = t->req;
	char		*body, clen[24];
	const char	*json;
	size_t		 len;

	body = json_error(t->err.status, t->err.reason,
	    t->file_hash[0] != '\0' ? t->file_hash : NULL);
	json = body != NULL ? body : "{\"error\":\"out of memory\","
	    "\"status\":500}";
	len = strlen(json);
	begin_answer(r, t->err.status, "application/json");
	snprintf(clen, sizeof(clen), "%zu", len + 1);
	http_header(r, "Content-Length", clen);
	if (t->err.status == 412)
		http_header(r, "Tus-Version", TUS_VERSION);
	if (t->retry_after > 0)
		header_u64(r, "Retry-After", t->retry_after);
	/* A 403 removed the upload: its Location is the stored file's. */
	if (t->created && t->file_hash[0] == '\0')
		header_location(r, t->row.id);
	if (t->file_hash[0] != '\0') {
		char	 loc[ROUTER_LOCATION_MAX];

		route_location(t->file_hash, loc);
		http_header(r, "Location", loc);
	}
	http_end(r);
	http_write(r, json, len);
	http_write(r, "\n", 1);
	free(body);
}

/* The answer to a creation (201) or a PATCH (204) that went through. */
static void
answer_done(struct tus *t)
{
	struct request	*r = t->req;

	begin_answer(r, t->created ? 201 : 204, NULL);
	if (t->created)
		header_location(r, t->row.id);
	header_u64(r, "Upload-Offset", t->row.offset);
	if (t->row.file_hash[0] != '\0')
		header_file(r, t->row.file_hash);
	else
		http_header(r, "Upload-Expires", t->row.expires);
	http_end(r);
}

static void
answer(struct tus *t)
{
	if (t->answered)
		return;
	if (t->err.status != 0)
		answer_error(t);
	else
		answer_done(t);
}

/* ------------------------------------------------------ request headers */

static const char *
param(const struct tus *t, const char *name)
{
	return request_param(t->req, name);
}

/* Tus-Resumable: the one version there is (412 for others, or none). */
static int
check_version(struct tus *t)
{
	const char	*v = param(t, "HTTP_TUS_RESUMABLE");

	if (v == NULL || strcmp(v, TUS_VERSION) != 0)
		return outcome_fail(&t->err, 412,
		    "Tus-Resumable must be " TUS_VERSION);
	return 0;
}

/* Content-Type: application/offset+octet-stream, parameters aside. */
static bool
is_octet_stream(const char *ct)
{
	size_t	 n = strlen(TUS_OCTET_STREAM);

	return strncasecmp(ct, TUS_OCTET_STREAM, n) == 0 &&
	    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* Whether the request comes with body bytes. */
static bool
has_body(const struct request *r)
{
	return (r->has_length && r->content_length > 0) ||
	    (!r->has_length && !r->length_missing);
}

/*
 * Upload-Checksum (460 on mismatch) and Content-Digest (400): the digest
 * the body must have, when either is given.
 */
static int
parse_digests(struct tus *t)
{
	const char	*v;

	if ((v = param(t, "HTTP_UPLOAD_CHECKSUM")) != NULL) {
		switch (tus_parse_checksum(v, &t->want)) {
		case TUS_OK:
			t->mismatch = 460;
			return 0;
		case TUS_ERR_ALGORITHM:
			return outcome_fail(&t->err, 400, "Upload-Checksum: "
			    "unsupported algorithm (sha1, sha256, sha512)");
		default:
			return outcome_fail(&t->err, 400, "Upload-Checksum is "
			    "malformed");
		}
	}
	if ((v = param(t, "HTTP_CONTENT_DIGEST")) != NULL) {
		switch (tus_parse_content_digest(v, &t->want)) {
		case TUS_OK:
			t->mismatch = 400;
			return 0;
		case TUS_ERR_NONE:
			return 0;	/* only algorithms we do not know */
		default:
			return outcome_fail(&t->err, 400, "Content-Digest is "
			    "malformed");
		}
	}
	return 0;
}

/*
 * Upload-Length (into *len, *given) against MAX_UPLOAD_SIZE: 0, or -1
 * with 400 (malformed) or 413.
 */
static int
parse_length(struct tus *t, uint64_t *len, bool *given)
{
	const char	*v = param(t, "HTTP_UPLOAD_LENGTH");

	*given = v != NULL;
	if (v == NULL)
		return 0;
	if (tus_parse_size(v, len) == -1)
		return outcome_fail(&t->err, 400, "Upload-Length must be a "
		    "byte count");
	if (*len > t->app->cfg->max_upload_size)
		return outcome_fail(&t->err, 413, "Upload-Length is larger "
		    "than the configured maximum (Tus-Max-Size)");
	return 0;
}

/*
 * A refusal that passes: status with Retry-After.  -1, as outcome_fail.
 */
static int
refuse_later(struct tus *t, int status, const char *reason)
{
	if (t->err.status == 0)
		t->retry_after = APP_RETRY_FULL;
	return outcome_fail(&t->err, status, reason);
}

/* The free-space reserve for incoming bytes: 0, or -1 with 507. */
static int
room_for(struct tus *t, uint64_t incoming)
{
	return app_room(t->app, incoming) ? 0 : refuse_later(t, 507,
	    APP_NO_ROOM);
}

/* ------------------------------------------------------------- lease */

static time_t
now_s(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/*
 * Where the store's lock does not reach every host, the row's lease keeps
 * one writer: taken here for the committed offset the row was read at.
 * 1 held (or no lease needed), 0 another writer has it, -1 with the status.
 */
static int
hold(struct tus *t)
{
	unsigned char	 r[16];
	enum db_error	 de;

	if (store_part_locks(t->app->store))
		return 1;
	randombytes_buf(r, sizeof(r));
	sodium_bin2hex(t->row.writer, sizeof(t->row.writer), r, sizeof(r));
	de = db_upload_hold(t->row.id, t->row.writer, t->row.offset,
	    RESUMABLE_LEASE_S);
	t->committed = t->row.offset;
	if (de == DB_ERR_EXISTS) {
		t->row.writer[0] = '\0';
		return 0;
	}
	if (de != DB_OK)
		return outcome_keep(&t->err, outcome_db(de, "upload: lease"));
	t->leased = true;
	t->renewed = now_s();
	return 1;
}

/*
 * Renews the lease every RESUMABLE_RENEW_S seconds while the body streams,
 * and before each write that a commit follows (force): a request whose
 * lease another one took (it stalled past RESUMABLE_LEASE_S) stops before
 * it writes again.  0, or -1 with the status.
 */
static int
keep_lease(struct tus *t, bool force)
{
	enum db_error	 de;
	time_t		 now;

	if (!t->leased)
		return 0;
	now = now_s();
	if (!force && now - t->renewed < RESUMABLE_RENEW_S)
		return 0;
	de = db_upload_hold(t->row.id, t->row.writer, t->committed,
	    RESUMABLE_LEASE_S);
	if (de == DB_ERR_EXISTS) {
		t->leased = false;
		return outcome_fail(&t->err, 423, "another request took the "
		    "upload over");
	}
	if (de != DB_OK)
		return outcome_keep(&t->err, outcome_db(de, "upload: lease"));
	t->renewed = now;
	return 0;
}

/* Ends the lease, so that the next request need not wait for it. */
static void
let_go(struct tus *t)
{
	if (t->leased && db_upload_let_go(t->row.id, t->row.writer) != DB_OK)
		log_warnx("upload %s: lease left to run out: %s", t->row.id,
		    db_last_error());
	t->leased = false;
}

/* ---------------------------------------------------------------- body */

/* The end of an upload: the file recorded as a multipart POST's is. */
static enum db_error
insert_completed(void *arg, struct db_tx **tx, struct meta *m)
{
	struct tus	*t = arg;

	return db_upload_complete(tx, &t->row, m);
}

/*
 * The last byte is in (and fsynced by ingest_record): the file gets its
 * hash, type and row, and the upload is marked complete, or removed when
 * the same bytes are already stored (403).  The partial file is renamed
 * into place or removed, or (on another error) left held.
 */
/* The file's row as a POST's would be: hashes, name, size, libmagic's. */
static void
file_meta(struct tus *t, struct meta *m, const char *prefix, size_t len)
{
	memset(m, 0, sizeof(*m));
	hash_final_hex(&t->row.hash, m->hash);
	hash_final_sha256_hex(&t->row.hash, m->sha256);
	snprintf(t->req->hash, sizeof(t->req->hash), "%s", m->hash);
	snprintf(m->name, sizeof(m->name), "%s", t->row.name);
	m->size = t->row.offset;
	mime_detect(prefix, len, m->type, sizeof(m->type));
}

/*
 * After ingest_record: the upload complete, or removed when its bytes are
 * already stored (403): 0, or -1 with the status.
 */
static int
recorded(struct tus *t, struct outcome o, const struct meta *m)
{
	if (o.status == 0) {
		memcpy(t->row.file_hash, m->hash, sizeof(t->row.file_hash));
		metrics_tus_completed();
		metrics_upload_stored(m->size);
		return 0;
	}
	outcome_keep(&t->err, o);
	if (o.status == 403) {
		/* The same bytes are stored: this upload has nothing left. */
		metrics_duplicate();
		memcpy(t->file_hash, m->hash, sizeof(t->file_hash));
		if (db_upload_remove(t->row.id) != DB_OK)
			log_warnx("upload %s: row left for the sweep: %s",
			    t->row.id, db_last_error());
	}
	return -1;
}

static void
complete(struct tus *t)
{
	struct meta	 m;
	struct outcome	 o;
	enum store_error e;
	long		 n;
	char		*buf;

	/* The bytes durable as one file (S3: assembled), then read back. */
	if (keep_lease(t, true) == -1)
		return;
	if ((e = store_tmp_sync(t->app->store, &t->part)) != STORE_OK) {
		outcome_keep(&t->err, outcome_store(e, "upload: fsync"));
		return;
	}
	/* libmagic reads a prefix only: the rest is never read again. */
	if ((buf = malloc(MIME_PREFIX)) == NULL) {
		outcome_fail(&t->err, 500, "out of memory");
		return;
	}
	n = store_tmp_read(t->app->store, &t->part, buf, MIME_PREFIX, 0);
	file_meta(t, &m, buf, n > 0 ? (size_t)n : 0);
	free(buf);

	o = ingest_record(t->app->store, &t->req->tx, &t->part, &m,
	    insert_completed, t);
	if (recorded(t, o, &m) == -1 && o.status == 403)
		store_tmp_abort(t->app->store, &t->part);
}

/*
 * Commits what the body brought: the bytes are fsynced, then the offset
 * and hash state commit.  Only then may the offset be reported.
 */
static int
advance(struct tus *t, const struct hash_ctx *h, uint64_t offset)
{
	enum store_error e;
	enum db_error	 de;
	uint64_t	 from = t->row.offset;

	if (keep_lease(t, true) == -1)
		return -1;
	if ((e = store_part_sync(t->app->store, &t->part)) != STORE_OK)
		return outcome_keep(&t->err, outcome_store(e, "upload: fsync"));
	t->row.hash = *h;
	t->row.offset = offset;
	de = db_upload_advance(&t->row, from, t->app->cfg->upload_expires);
	if (de == DB_ERR_NOTFOUND)
		/* Swept meanwhile. */
		return outcome_fail(&t->err, 404, "no such upload");
	if (de != DB_OK)
		return outcome_keep(&t->err, outcome_db(de, "upload: offset"));
	return 0;
}

/*
 * A partial upload (concatenation) whose last byte is in: its bytes made
 * one readable whole, then its offset committed; no file is made of it.
 */
static void
seal(struct tus *t, const struct hash_ctx *h, uint64_t offset)
{
	enum store_error e;

	if (keep_lease(t, true) == -1)
		return;
	if ((e = store_part_seal(t->app->store, &t->part)) != STORE_OK) {
		outcome_keep(&t->err, outcome_store(e, "upload: seal a partial "
		    "upload"));
		return;
	}
	(void)advance(t, h, offset);
}

/* A body on its way into the partial file. */
struct chunk {
	struct tus	*t;
	struct digest_ctx dc;		/* the chunk's own digest */
	uint64_t	 offset;	/* the bytes written and hashed */
	uint64_t	 max;		/* the upload's length, or the limit */
};

/*
 * A piece of the body: written to the partial file from c->offset, to the
 * file's hash on the hash thread (ingest_body) and to the chunk's digest
 * here.  0, or -1 with the status set.
 */
static int
take(void *arg, struct hashpipe *pipe, const char *buf, size_t len)
{
	struct chunk	*c = arg;
	struct tus	*t = c->t;
	enum store_error e;

	if ((uint64_t)len > c->max - c->offset)
		return outcome_fail(&t->err, 413, "the body goes past the "
		    "upload's length");
	if (keep_lease(t, false) == -1)
		return -1;
	if ((e = store_tmp_write(t->app->store, &t->part, buf, len)) !=
	    STORE_OK)
		return outcome_keep(&t->err, outcome_store(e, "upload: write"));
	digest_update(&c->dc, buf, len);
	hashpipe_add(pipe, buf, len);
	c->offset += len;
	metrics_tus_bytes((uint64_t)len);
	return 0;
}

/*
 * Reads the body after the row's offset into the held partial file,
 * hashing it on the way.  What arrived is kept even when the body breaks
 * off (tus asks servers to store all they can) unless a digest was given:
 * it cannot be checked, so the chunk goes, as on a mismatch.
 */
static void
receive(struct tus *t)
{
	struct request	*r = t->req;
	struct hash_ctx	 h = t->row.hash;
	struct chunk	 c = { .t = t, .offset = t->row.offset };
	uint64_t	 offset;
	bool		 broken;
	int		 rc;

	c.max = t->row.length_known ? t->row.length :
	    t->app->cfg->max_upload_size;
	if (r->has_length && r->content_length > c.max - c.offset) {
		outcome_fail(&t->err, 413, "the body goes past the upload's "
		    "length");
		return;
	}
	/* The body holds this thread for as long as the client takes. */
	if (!app_upload_begin(t->app, r)) {
		t->answered = true;
		return;
	}
	digest_init(&c.dc, t->want.alg);
	/* Every byte counted in c.offset is in h past here. */
	rc = ingest_body(r, &h, take, &c, &t->err);
	broken = rc == -1 && r->body_error != BODY_OK;
	offset = c.offset;
	if (rc == -1 && !(broken && t->want.alg == DIGEST_NONE))
		goto drop;
	if (!broken && !digest_matches(&c.dc, &t->want)) {
		outcome_fail(&t->err, t->mismatch,
		    t->mismatch == 460 ? "checksum mismatch" :
		    "digest mismatch");
		goto drop;
	}
	if (!broken && t->row.length_known && offset == t->row.length &&
	    strcmp(t->row.concat, CONCAT_PARTIAL) == 0) {
		/* Sealed already unless bytes came, or its length, or new. */
		if (offset > t->row.offset || t->declared || t->created)
			seal(t, &h, offset);
	} else if (!broken && t->row.length_known &&
	    offset == t->row.length) {
		t->row.hash = h;
		t->row.offset = offset;
		complete(t);
	} else if (offset > t->row.offset)
		(void)advance(t, &h, offset);
	app_upload_end(t->app, r);
	return;
drop:
	/* Not counted: the next request cuts them off anyway; so do we. */
	if (store_part_cut(t->app->store, &t->part, t->row.offset) !=
	    STORE_OK)
		log_warnx("upload %s: cut back to the offset failed", t->row.id);
	app_upload_end(t->app, r);
}

/* Pauses between two tries of a leased upload, or of missing bytes. */
static void
pause_ms(long ms)
{
	struct timespec	 ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1)
		;
}

/*
 * Takes the upload of id for a request that writes: its partial file
 * held (waiting RESUMABLE_LOCK_WAIT_MS for another writer, then 423), then
 * its row read (and, where the store does not lock, its lease taken), then
 * with cut the file cut to the row's offset.  A complete upload is taken
 * without its file.  0, or -1 with the status.
 */
static int
take_upload(struct tus *t, const char *id, bool cut)
{
	enum store_error e;
	enum db_error	 de;
	long		 left = RESUMABLE_LOCK_WAIT_MS;
	int		 tries = 0, held;

	for (;;) {
		e = store_part_hold(t->app->store, id, &left, &t->part);
		if (e != STORE_OK && e != STORE_ERR_NOENT)
			return outcome_keep(&t->err,
			    outcome_store(e, "upload: hold"));
		if ((de = db_upload_get(id, &t->row)) != DB_OK) {
			store_part_close(t->app->store, &t->part);
			if (de == DB_ERR_NOTFOUND)
				return outcome_fail(&t->err, 404,
				    "no such upload");
			return outcome_keep(&t->err,
			    outcome_db(de, "upload: read"));
		}
		if (t->row.expired || (t->row.state_lost &&
		    t->row.file_hash[0] == '\0')) {
			store_part_close(t->app->store, &t->part);
			return outcome_fail(&t->err, 410,
			    t->row.expired ? "the upload has "
			    "expired" : "the upload cannot be resumed by this "
			    "build");
		}
		if (t->row.file_hash[0] != '\0') {
			store_part_close(t->app->store, &t->part);
			return 0;
		}
		if (e == STORE_OK && (held = hold(t)) == 1)
			break;
		if (e == STORE_OK) {
			/* Leased to another writer: wait as for a lock. */
			store_part_close(t->app->store, &t->part);
			if (held == -1)
				return -1;
			if (left <= 0)
				return outcome_keep(&t->err, outcome_store(
				    STORE_ERR_BUSY, NULL));
			pause_ms(STORE_PART_RETRY_MS);
			left -= STORE_PART_RETRY_MS;
			continue;
		}
		/* No file, no completion yet: one finishing now, or lost. */
		if (++tries > 3)
			return outcome_fail(&t->err, 410, "the upload's bytes "
			    "are gone");
		pause_ms(100);
	}
	if (cut && (e = store_part_cut(t->app->store, &t->part,
	    t->row.offset)) != STORE_OK) {
		let_go(t);
		store_part_close(t->app->store, &t->part);
		if (e == STORE_ERR_NOENT)
			return outcome_fail(&t->err, 410, "the upload's bytes "
			    "are gone");
		return outcome_keep(&t->err, outcome_store(e, "upload: cut"));
	}
	return 0;
}

static void
tus_init(struct tus *t, struct app *app, struct request *r)
{
	memset(t, 0, sizeof(*t));
	t->app = app;
	t->req = r;
	t->part.fd = -1;
}

/* ------------------------------------------------------------- routes */

void
resumable_options(struct app *app, struct request *r, const char *id)
{
	(void)id;
	begin_answer(r, 204, NULL);
	http_header(r, "Tus-Version", TUS_VERSION);
	http_header(r, "Tus-Extension", TUS_EXTENSIONS);
	header_u64(r, "Tus-Max-Size", app->cfg->max_upload_size);
	http_header(r, "Tus-Checksum-Algorithm", TUS_CHECKSUM_ALGORITHMS);
	http_end(r);
}

/* The new upload's row from the creation's headers: 0, or -1. */
static int
creation_row(struct tus *t, bool final)
{
	struct tus_metadata md;
	const char	*defer = param(t, "HTTP_UPLOAD_DEFER_LENGTH");
	const char	*meta = param(t, "HTTP_UPLOAD_METADATA");
	const char	*concat = param(t, "HTTP_UPLOAD_CONCAT");
	bool		 given;

	if (concat != NULL && !final && strcmp(concat, CONCAT_PARTIAL) != 0)
		return outcome_fail(&t->err, 400, "Upload-Concat must be "
		    "partial or final;<upload URLs>");
	if (final && (defer != NULL || param(t, "HTTP_UPLOAD_LENGTH") != NULL))
		return outcome_fail(&t->err, 400, "a final upload's length is "
		    "its partial uploads'");
	if (concat != NULL && !final)
		snprintf(t->row.concat, sizeof(t->row.concat), CONCAT_PARTIAL);
	if (final)
		given = true;	/* the sum of its partial uploads' */
	else if (parse_length(t, &t->row.length, &given) == -1)
		return -1;
	if (defer != NULL && strcmp(defer, "1") != 0)
		return outcome_fail(&t->err, 400,
		    "Upload-Defer-Length must be 1");
	if (!final && given == (defer != NULL))
		return outcome_fail(&t->err, 400, "give either Upload-Length "
		    "or Upload-Defer-Length: 1");
	t->row.length_known = given;
	if (meta != NULL && tus_parse_metadata(meta, &md) != TUS_OK)
		return outcome_fail(&t->err, 400, "Upload-Metadata is "
		    "malformed");
	if (meta != NULL)
		snprintf(t->row.metadata, sizeof(t->row.metadata), "%s", meta);
	/* Cleaned as a multipart part's file name is. */
	if (meta == NULL || !md.has_filename || json_clean_name(md.filename,
	    md.filename_len, t->row.name) == 0)
		snprintf(t->row.name, sizeof(t->row.name), DEFAULT_NAME);
	tus_id_new(t->row.id);
	hash_init_with_sha256(&t->row.hash);
	return 0;
}

/*
 * The partial uploads a final one names, from their rows: each there,
 * partial and complete.  Their count, or -1 with the status.
 */
static int
final_parts(struct tus *t, const char *v, char ids[][TUS_ID_LEN + 1],
    struct concat_part *parts)
{
	struct upload_row *row;
	enum db_error	 de;
	int		 i, n;

	if ((n = concat_final_ids(v, ids, CONCAT_PARTS_MAX)) == -1 ||
	    concat_final_value(ids, n, t->row.concat,
	    sizeof(t->row.concat)) == -1)
		return outcome_fail(&t->err, 400, "Upload-Concat must be "
		    "final; and the URLs of 1 to 64 partial uploads");
	if ((row = malloc(sizeof(*row))) == NULL)
		return outcome_fail(&t->err, 503, "out of memory");
	t->row.length = 0;
	for (i = 0; i < n && t->err.status == 0; i++) {
		if ((de = db_upload_get(ids[i], row)) == DB_ERR_NOTFOUND ||
		    (de == DB_OK && row->expired))
			outcome_fail(&t->err, 400, "Upload-Concat names an "
			    "unknown upload");
		else if (de != DB_OK)
			outcome_keep(&t->err,
			    outcome_db(de, "upload: concatenation"));
		else if (strcmp(row->concat, CONCAT_PARTIAL) != 0)
			outcome_fail(&t->err, 400, "Upload-Concat names an "
			    "upload that is not partial");
		else if (!row->length_known || row->offset != row->length)
			outcome_fail(&t->err, 400, "Upload-Concat names an "
			    "unfinished partial upload");
		else if ((t->row.length += row->length) >
		    t->app->cfg->max_upload_size)
			outcome_fail(&t->err, 413, "the partial uploads are "
			    "larger than the configured maximum "
			    "(Tus-Max-Size)");
		else
			parts[i] = (struct concat_part){ ids[i], row->length };
	}
	free(row);
	return t->err.status == 0 ? n : -1;
}

/*
 * concatenation: the final upload made whole from its partial uploads and
 * recorded as a multipart POST's file, in its creation request; its row
 * is there only once it is complete.
 */
static void
create_final(struct tus *t, const char *v)
{
	char		 ids[CONCAT_PARTS_MAX][TUS_ID_LEN + 1];
	struct concat_part parts[CONCAT_PARTS_MAX];
	struct store_tmp tmp = { .fd = -1 };
	struct outcome	 o;
	struct meta	 m;
	enum db_error	 de;
	size_t		 plen;
	char		*prefix;
	int		 n;

	if ((n = final_parts(t, v, ids, parts)) == -1 ||
	    room_for(t, t->row.length) == -1)
		return;
	if ((prefix = malloc(MIME_PREFIX)) == NULL) {
		outcome_fail(&t->err, 503, "out of memory");
		return;
	}
	t->row.length_known = true;
	o = concat_assemble(t->app->store, parts, n, RESUMABLE_LOCK_WAIT_MS,
	    &tmp, &t->row.hash, prefix, &plen);
	if (o.status != 0)
		outcome_keep(&t->err, o);
	else if ((de = db_upload_create(&t->row, t->app->cfg->upload_expires,
	    NULL)) != DB_OK)
		outcome_keep(&t->err, outcome_db(de, "upload: create"));
	else {
		t->created = true;
		metrics_tus_created();
		t->row.offset = t->row.length;
		file_meta(t, &m, prefix, plen);
		o = ingest_record(t->app->store, &t->req->tx, &tmp, &m,
		    insert_completed, t);
		/* A final upload has no bytes to resume: no file, no upload. */
		if (recorded(t, o, &m) == -1 && o.status != 403 &&
		    db_upload_remove(t->row.id) != DB_OK)
			log_warnx("upload %s: row left for the sweep: %s",
			    t->row.id, db_last_error());
		if (t->err.status == 0)
			log_info("upload %s: concatenated from %d partial "
			    "uploads", t->row.id, n);
	}
	store_tmp_abort(t->app->store, &tmp);
	free(prefix);
}

/*
 * The caps a new upload is held to, into q: the service's, and where
 * tokens are set, those of the token it comes with (its id into owner).
 */
static struct upload_quota *
quota_of(struct tus *t, struct upload_quota *q,
    char owner[AUTH_TOKEN_ID_LEN + 1])
{
	q->limits = &t->app->cfg->tus_caps;
	q->owner = auth_token_id(t->app->cfg, param(t, "HTTP_AUTHORIZATION"),
	    owner) ? owner : NULL;
	q->verdict = QUOTA_OK;
	return q;
}

/* A creation over a cap: 503 (too many) or 507 (too many bytes). */
static void
over_cap(struct tus *t, enum quota_verdict v)
{
	if (v == QUOTA_UPLOADS)
		refuse_later(t, 503, "too many unfinished resumable uploads, "
		    "retry later");
	else
		refuse_later(t, 507, "the unfinished resumable uploads claim "
		    "all the space allowed, retry later");
}

void
resumable_create(struct app *app, struct request *r, const char *id)
{
	struct tus	 t;
	struct upload_quota q;
	enum store_error e;
	enum db_error	 de;
	const char	*v;
	char		 owner[AUTH_TOKEN_ID_LEN + 1];
	bool		 body = has_body(r), final;

	(void)id;
	tus_init(&t, app, r);
	final = (v = param(&t, "HTTP_UPLOAD_CONCAT")) != NULL &&
	    strncmp(v, CONCAT_FINAL, strlen(CONCAT_FINAL)) == 0;
	if (check_version(&t) == -1 || creation_row(&t, final) == -1)
		goto out;
	if (final) {
		if (body)
			outcome_fail(&t.err, 400, "a final upload takes no "
			    "body");
		else
			create_final(&t, v);
		goto out;
	}
	/* creation-with-upload: the body is the first chunk. */
	if (body && !is_octet_stream(r->content_type)) {
		outcome_fail(&t.err, 415,
		    "Content-Type must be " TUS_OCTET_STREAM);
		goto out;
	}
	if (body && parse_digests(&t) == -1)
		goto out;
	if (room_for(&t, body && r->has_length ? r->content_length : 0) == -1)
		goto out;
	if ((de = db_ready()) != DB_OK) {
		outcome_keep(&t.err, outcome_db(de, "upload: create"));
		goto out;
	}
	/* The file first (held): a row never names bytes that are not there. */
	if ((e = store_part_open(app->store, t.row.id, true, &t.part)) !=
	    STORE_OK) {
		outcome_keep(&t.err, outcome_store(e, "upload: create"));
		goto out;
	}
	if ((de = db_upload_create(&t.row, app->cfg->upload_expires,
	    quota_of(&t, &q, owner))) != DB_OK || q.verdict != QUOTA_OK) {
		store_tmp_abort(app->store, &t.part);
		if (de != DB_OK)
			outcome_keep(&t.err, outcome_db(de, "upload: create"));
		else
			over_cap(&t, q.verdict);
		goto out;
	}
	t.created = true;
	metrics_tus_created();
	log_info("upload %s created", t.row.id);
	/* An empty upload is complete at once, with or without a body. */
	if (body || (t.row.length_known && t.row.length == 0))
		receive(&t);
	/*
	 * A body cut short was kept: the client resumes from the offset.
	 * A digest mismatch or an error dropped it: the upload stays, empty.
	 */
	if (t.err.status == 400 && r->body_error == BODY_BROKEN)
		t.err.status = 0;
out:
	store_part_close(app->store, &t.part);
	answer(&t);
}

/*
 * Cuts off the bytes past the committed offset (a writer killed between
 * its write and its commit) when no request holds the upload; a PATCH
 * does it anyway before it writes.
 */
static void
trim_part(struct tus *t, const char *id)
{
	struct upload_row *row;

	if (store_part_open(t->app->store, id, false, &t->part) != STORE_OK)
		return;
	/* Read again, held: a writer may have committed since. */
	if ((row = malloc(sizeof(*row))) != NULL &&
	    db_upload_get(id, row) == DB_OK && row->file_hash[0] == '\0')
		(void)store_part_cut(t->app->store, &t->part, row->offset);
	free(row);
	store_part_close(t->app->store, &t->part);
}

void
resumable_head(struct app *app, struct request *r, const char *id)
{
	struct tus	 t;
	enum db_error	 de;

	tus_init(&t, app, r);
	if (check_version(&t) == -1)
		goto fail;
	if ((de = db_upload_get(id, &t.row)) != DB_OK) {
		outcome_keep(&t.err, de == DB_ERR_NOTFOUND ?
		    (struct outcome){ 404, "no such upload" } :
		    outcome_db(de, "upload: head"));
		goto fail;
	}
	if (t.row.expired) {
		outcome_fail(&t.err, 410, "the upload has expired");
		goto fail;
	}
	/* Where nothing locks, bytes past the offset are harmless: kept. */
	if (t.row.file_hash[0] == '\0' && store_part_locks(app->store))
		trim_part(&t, id);
	begin_answer(r, 200, NULL);
	header_u64(r, "Upload-Offset", t.row.offset);
	if (t.row.length_known)
		header_u64(r, "Upload-Length", t.row.length);
	else
		http_header(r, "Upload-Defer-Length", "1");
	if (t.row.metadata[0] != '\0')
		http_header(r, "Upload-Metadata", t.row.metadata);
	if (t.row.concat[0] != '\0')
		http_header(r, "Upload-Concat", t.row.concat);
	if (t.row.file_hash[0] != '\0')
		header_file(r, t.row.file_hash);
	http_header(r, "Upload-Expires", t.row.expires);
	http_end(r);
	return;
fail:
	answer_error(&t);
}

/*
 * Upload-Length on a PATCH: declares a deferred length (once), or repeats
 * the known one.  0, or -1 with the status.
 */
static int
declare_length(struct tus *t)
{
	uint64_t	 len;
	bool		 given;

	if (parse_length(t, &len, &given) == -1 || !given)
		return t->err.status != 0 ? -1 : 0;
	if (t->row.length_known) {
		if (len != t->row.length)
			return outcome_fail(&t->err, 400, "Upload-Length "
			    "differs from the upload's");
		return 0;
	}
	if (len < t->row.offset)
		return outcome_fail(&t->err, 400, "Upload-Length is less than "
		    "the offset");
	t->row.length = len;
	t->row.length_known = true;
	t->declared = true;
	return 0;
}

/*
 * A deferred length declared: held to the byte caps as a creation's
 * Upload-Length is, and recorded at once when one applies.  0, or -1 with
 * the status.
 */
static int
claim_length(struct tus *t)
{
	struct upload_quota q = { &t->app->cfg->tus_caps, NULL, QUOTA_OK };
	enum db_error	 de;

	de = db_upload_declare(t->row.id, t->row.length, &q);
	if (de == DB_ERR_NOTFOUND)
		return outcome_fail(&t->err, 404, "no such upload");
	if (de != DB_OK)
		return outcome_keep(&t->err, outcome_db(de, "upload: length"));
	if (q.verdict != QUOTA_OK) {
		over_cap(t, q.verdict);
		return -1;
	}
	return 0;
}

void
resumable_patch(struct app *app, struct request *r, const char *id)
{
	struct tus	 t;
	const char	*v;
	uint64_t	 offset;

	tus_init(&t, app, r);
	if (check_version(&t) == -1)
		goto out;
	if (!is_octet_stream(r->content_type)) {
		outcome_fail(&t.err, 415,
		    "Content-Type must be " TUS_OCTET_STREAM);
		goto out;
	}
	if ((v = param(&t, "HTTP_UPLOAD_OFFSET")) == NULL ||
	    tus_parse_size(v, &offset) == -1) {
		outcome_fail(&t.err, 400, "Upload-Offset must be a byte count");
		goto out;
	}
	if (room_for(&t, r->has_length ? r->content_length : 0) == -1 ||
	    parse_digests(&t) == -1 || take_upload(&t, id, true) == -1)
		goto out;
	if (strncmp(t.row.concat, CONCAT_FINAL, strlen(CONCAT_FINAL)) == 0) {
		outcome_fail(&t.err, 403, "a final upload is made of its "
		    "partial uploads: it takes no PATCH");
		goto out;
	}
	if (offset != t.row.offset) {
		outcome_fail(&t.err, 409, "Upload-Offset is not the upload's "
		    "offset");
		goto out;
	}
	if (t.row.file_hash[0] != '\0') {
		/* Complete: a request that sends nothing more is answered. */
		if (has_body(r))
			outcome_fail(&t.err, 409, "the upload is complete");
		goto out;
	}
	if (declare_length(&t) == -1 || (t.declared && claim_length(&t) ==
	    -1))
		goto out;
	receive(&t);
out:
	let_go(&t);
	store_part_close(app->store, &t.part);
	answer(&t);
}

/* An expired upload's bytes, unless a request still writes them. */
static int
remove_part(void *arg, const char *id)
{
	struct app	*app = arg;

	return store_part_remove(app->store, id);
}

void
resumable_delete(struct app *app, struct request *r, const char *id)
{
	struct tus	 t;
	enum db_error	 de;

	tus_init(&t, app, r);
	/* Its bytes are going: they need not be where the offset says. */
	if (check_version(&t) == -1 || take_upload(&t, id, false) == -1)
		goto out;
	/*
	 * The row first, its bytes held meanwhile: should this worker die
	 * between the two, fsck reports the file as stale.
	 */
	if ((de = db_upload_remove(id)) != DB_OK) {
		outcome_keep(&t.err, outcome_db(de, "upload: terminate"));
		let_go(&t);
		goto out;
	}
	store_tmp_abort(app->store, &t.part);
	metrics_tus_terminated();
	log_info("upload %s terminated", id);
	begin_answer(r, 204, NULL);
	http_end(r);
	return;
out:
	store_part_close(app->store, &t.part);
	answer_error(&t);
}

int
resumable_sweep(struct app *app)
{
	time_t	 start = now_s();
	int	 n = 0, got;

	if (db_ready() != DB_OK)
		return 0;
	do {
		if (db_upload_sweep(SWEEP_BATCH, remove_part, app, &got) !=
		    DB_OK) {
			log_warnx("upload sweep: %s", db_last_error());
			got = 0;
		}
		if (got > 0)
			metrics_tus_expired((unsigned)got);
		n += got;
	} while (got == SWEEP_BATCH && now_s() - start < SWEEP_SECONDS);
	return n;
}
