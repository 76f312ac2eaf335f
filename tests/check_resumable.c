/*
 * Unit tests of the tus state machine (resumable.c): creation, HEAD, the
 * offset checks of PATCH, the writer's lease, the sealing of a partial
 * upload, completion and expiry.  The handlers run as the worker runs
 * them, on a request read from memory (a FastCGI stream of this file's
 * own), a real local store in a fresh DATA_DIR, and the database double
 * (db_double.h) in place of PostgreSQL.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fcgiapp.h>

#include "app.h"
#include "config.h"
#include "db.h"
#include "db_double.h"
#include "hash.h"
#include "hashpipe.h"
#include "request.h"
#include "resumable.h"
#include "router.h"
#include "store.h"
#include "store_impl.h"
#include "testutil.h"
#include "tus.h"

#define ENV_MAX		32
#define ANSWER_MAX	65536
#define MAX_SIZE	(1024 * 1024)

static struct config	 cfg;
static struct app	 app;
static struct store	*st;
static struct store_ops	 no_lock_ops;

/* ------------------------------------------------ a request in memory */

static struct {
	FCGX_Request	 fcgx;
	FCGX_Stream	 in, out;
	char		*envp[ENV_MAX + 1];
	char		 env[ENV_MAX][512];
	int		 nenv;
	char		 body[2 * HASHPIPE_BUF_SIZE];
	unsigned char	 answer[ANSWER_MAX];
	char		 header_value[512];
	struct request	 req;
} c;

/* The end of the body: the stream has nothing more to give. */
static void
in_fill(FCGX_Stream *s)
{
	s->isClosed = 1;
}

/* The answer never fills its buffer; should it, it fails the write. */
static void
out_empty(FCGX_Stream *s, int close)
{
	(void)close;
	s->FCGI_errno = -1;
	s->wrNext = c.answer;
}

static void
env_add(const char *name, const char *value)
{
	ck_assert_int_lt(c.nenv, ENV_MAX);
	snprintf(c.env[c.nenv], sizeof(c.env[c.nenv]), "%s=%s", name, value);
	c.envp[c.nenv] = c.env[c.nenv];
	c.nenv++;
	c.envp[c.nenv] = NULL;
}

/* A new request; tus: with Tus-Resumable 1.0.0, as a client sends. */
static void
call_begin(const char *method, const char *id, bool tus)
{
	char	 path[256];

	memset(&c, 0, sizeof(c));
	snprintf(path, sizeof(path), "%s%s%s", ROUTER_UPLOADS,
	    id != NULL ? "/" : "", id != NULL ? id : "");
	env_add("REQUEST_METHOD", method);
	env_add("DOCUMENT_URI", path);
	env_add("SERVER_PROTOCOL", "HTTP/1.1");
	if (tus)
		env_add("HTTP_TUS_RESUMABLE", TUS_VERSION);
}

/* A body of len bytes, claimed (Content-Length) to be claimed bytes. */
static void
call_body_claimed(const char *data, size_t len, size_t claimed)
{
	char	 n[24];

	ck_assert_uint_le(len, sizeof(c.body));
	memcpy(c.body, data, len);
	c.in.rdNext = c.in.stopUnget = (unsigned char *)c.body;
	c.in.stop = (unsigned char *)c.body + len;
	snprintf(n, sizeof(n), "%zu", claimed);
	env_add("CONTENT_LENGTH", n);
	env_add("CONTENT_TYPE", TUS_OCTET_STREAM);
}

static void
call_body(const char *data)
{
	call_body_claimed(data, strlen(data), strlen(data));
}

/*
 * Runs handler on the request as the request loop does; the handler must
 * leave no transaction open.  Returns the answer's status.
 */
static int
call_run(route_handler *handler, const char *id)
{
	const struct rate_rules rules = { 0, 0, 0 };
	int	 status = 0;

	c.in.isReader = 1;
	c.in.fillBuffProc = in_fill;
	if (c.in.rdNext == NULL)
		c.in.rdNext = c.in.stop = c.in.stopUnget =
		    (unsigned char *)c.body;
	c.out.wrNext = c.answer;
	c.out.stop = c.answer + sizeof(c.answer) - 1;
	c.out.emptyBuffProc = out_empty;
	c.fcgx.in = &c.in;
	c.fcgx.out = &c.out;
	c.fcgx.envp = c.envp;
	c.fcgx.ipcFd = -1;
	request_init(&c.req, &c.fcgx, &rules);
	handler(&app, &c.req, id != NULL ? id : "");
	ck_assert_msg(c.req.tx == NULL, "a transaction was left open");
	db_release(&c.req.tx);
	ck_assert_int_eq(double_db.open_txs, 0);
	ck_assert_int_eq(c.out.FCGI_errno, 0);
	*c.out.wrNext = '\0';
	ck_assert(sscanf((char *)c.answer, "Status: %d", &status) == 1);
	return status;
}

/* A header of the answer, or NULL. */
static const char *
header(const char *name)
{
	char		 key[128];
	const char	*p, *end;

	snprintf(key, sizeof(key), "\r\n%s: ", name);
	if ((p = strstr((char *)c.answer, key)) == NULL)
		return NULL;
	p += strlen(key);
	end = strstr(p, "\r\n");
	snprintf(c.header_value, sizeof(c.header_value), "%.*s",
	    (int)(end - p), p);
	return c.header_value;
}

/* ------------------------------------------------------------ fixture */


static void
setup(void)
{
	char	 err[256];

	ck_assert_int_ne(hash_library_init(), -1);
	test_dir_make();
	double_reset();
	memset(&cfg, 0, sizeof(cfg));
	cfg.max_upload_size = MAX_SIZE;
	cfg.upload_expires = 3600;
	st = store_open(&(struct store_config){ .scheme = "local",
	    .data_dir = test_dir }, err, sizeof(err));
	ck_assert_msg(st != NULL, "%s", err);
	memset(&app, 0, sizeof(app));
	app.cfg = &cfg;
	app.store = st;
	app.upload_slots = 4;
}

static void
teardown(void)
{
	store_close(st);
	test_dir_remove();
}

/* Where the store's lock does not reach every host: the row's lease. */
static void
without_store_lock(void)
{
	no_lock_ops = *st->ops;
	no_lock_ops.part_locks = false;
	st->ops = &no_lock_ops;
}

static void
hash_of(const char *data, char out[HASH_HEX_LEN + 1])
{
	struct hash_ctx	 h;

	hash_init(&h);
	hash_update(&h, data, strlen(data));
	hash_final_hex(&h, out);
}

static bool
part_exists(const char *id)
{
	struct store_tmp p = { .fd = -1 };

	if (store_part_open(st, id, false, &p) != STORE_OK)
		return false;
	store_part_close(st, &p);
	return true;
}

/* Runs the creation set up; the new upload's id (Location) into id. */
static void
created(char id[TUS_ID_LEN + 1])
{
	const char	*loc;

	ck_assert_int_eq(call_run(resumable_create, NULL), 201);
	ck_assert_ptr_nonnull(loc = header("Location"));
	ck_assert_uint_eq(strlen(loc), strlen(ROUTER_UPLOADS) + 1 + TUS_ID_LEN);
	snprintf(id, TUS_ID_LEN + 1, "%s", loc + strlen(ROUTER_UPLOADS) + 1);
	ck_assert(tus_id_valid(id, strlen(id)));
}

/* Creates an upload of length bytes (NULL: deferred); its id into id. */
static void
create(const char *length, char id[TUS_ID_LEN + 1])
{
	call_begin("POST", NULL, true);
	if (length != NULL)
		env_add("HTTP_UPLOAD_LENGTH", length);
	else
		env_add("HTTP_UPLOAD_DEFER_LENGTH", "1");
	created(id);
}

/* PATCH at offset with body; the status. */
static int
patch(const char *id, const char *offset, const char *body)
{
	call_begin("PATCH", id, true);
	env_add("HTTP_UPLOAD_OFFSET", offset);
	call_body(body);
	return call_run(resumable_patch, id);
}

/* ------------------------------------------------------------ creation */

START_TEST(test_create)
{
	char	 id[TUS_ID_LEN + 1];
	struct double_upload *d;

	call_begin("POST", NULL, true);
	env_add("HTTP_UPLOAD_LENGTH", "11");
	/* "hello.txt" */
	env_add("HTTP_UPLOAD_METADATA", "filename aGVsbG8udHh0");
	created(id);
	ck_assert_str_eq(header("Tus-Resumable"), TUS_VERSION);
	ck_assert_str_eq(header("Upload-Offset"), "0");
	ck_assert_ptr_nonnull(header("Upload-Expires"));
	ck_assert_ptr_null(header("File-Hash"));
	ck_assert_ptr_nonnull(d = double_upload(id));
	ck_assert(d->row.length_known);
	ck_assert_uint_eq(d->row.length, 11);
	ck_assert_uint_eq(d->row.offset, 0);
	ck_assert_str_eq(d->row.name, "hello.txt");
	/* The file first: a row never names bytes that are not there. */
	ck_assert(part_exists(id));
}
END_TEST

START_TEST(test_create_refused)
{
	int	 i;

	call_begin("POST", NULL, false);
	env_add("HTTP_UPLOAD_LENGTH", "11");
	ck_assert_int_eq(call_run(resumable_create, NULL), 412);
	ck_assert_str_eq(header("Tus-Version"), TUS_VERSION);

	call_begin("POST", NULL, true);
	env_add("HTTP_UPLOAD_LENGTH", "11");
	env_add("HTTP_UPLOAD_DEFER_LENGTH", "1");
	ck_assert_int_eq(call_run(resumable_create, NULL), 400);

	call_begin("POST", NULL, true);
	ck_assert_int_eq(call_run(resumable_create, NULL), 400);

	call_begin("POST", NULL, true);
	env_add("HTTP_UPLOAD_LENGTH", "1048577");
	ck_assert_int_eq(call_run(resumable_create, NULL), 413);

	call_begin("POST", NULL, true);
	env_add("HTTP_UPLOAD_LENGTH", "11");
	double_db.unavailable = true;
	ck_assert_int_eq(call_run(resumable_create, NULL), 503);
	double_db.unavailable = false;

	for (i = 0; i < DOUBLE_UPLOADS_MAX; i++)
		ck_assert(!double_db.uploads[i].used);
	ck_assert_int_eq(test_count_entries(test_path("tmp")), 0);
}
END_TEST

/* An empty upload is complete at once: the empty file is recorded. */
START_TEST(test_create_empty_completes)
{
	char	 id[TUS_ID_LEN + 1], want[HASH_HEX_LEN + 1];

	hash_of("", want);
	create("0", id);
	ck_assert_str_eq(header("File-Hash"), want);
	ck_assert_ptr_nonnull(double_file(want));
	ck_assert_str_eq(double_upload(id)->row.file_hash, want);
	ck_assert_int_eq(double_db.commits, 1);
}
END_TEST

/* --------------------------------------------------------- resource caps */

/* A creation of length bytes, with a bearer token (NULL: none): status. */
static int
create_as(const char *length, const char *token)
{
	char	 auth[128];

	call_begin("POST", NULL, true);
	env_add("HTTP_UPLOAD_LENGTH", length);
	if (token != NULL) {
		snprintf(auth, sizeof(auth), "Bearer %s", token);
		env_add("HTTP_AUTHORIZATION", auth);
	}
	return call_run(resumable_create, NULL);
}

/* A refusal that passes: JSON, Retry-After, nothing left behind. */
static void
check_refused_later(int status, int parts)
{
	char	 want[32];

	snprintf(want, sizeof(want), "\"status\":%d", status);
	ck_assert_str_eq(header("Retry-After"), "60");
	ck_assert_str_eq(header("Content-Type"), "application/json");
	ck_assert_ptr_nonnull(strstr((char *)c.answer, want));
	ck_assert_ptr_null(header("Location"));
	ck_assert_int_eq(test_count_entries(test_path("tmp")), parts);
}

START_TEST(test_caps_count)
{
	char	 a[TUS_ID_LEN + 1], b[TUS_ID_LEN + 1], d[TUS_ID_LEN + 1];

	cfg.tus_caps.uploads = 2;
	create("11", a);
	create(NULL, b);
	ck_assert_int_eq(create_as("11", NULL), 503);
	check_refused_later(503, 2);
	/* An expired upload holds nothing the caps count, as a complete one. */
	double_upload(a)->expires_at = time(NULL) - 1;
	create("0", d);
	ck_assert_str_ne(double_upload(d)->row.file_hash, "");
	create("5", d);
	ck_assert_int_eq(create_as("5", NULL), 503);
	/* Off: no cap. */
	cfg.tus_caps.uploads = 0;
	ck_assert_int_eq(create_as("5", NULL), 201);
}
END_TEST

START_TEST(test_caps_bytes)
{
	char	 a[TUS_ID_LEN + 1], b[TUS_ID_LEN + 1];

	cfg.tus_caps.bytes = 20;
	create("11", a);
	ck_assert_int_eq(create_as("10", NULL), 507);
	check_refused_later(507, 1);
	/* A deferred length claims the bytes it has so far. */
	create(NULL, b);
	ck_assert_int_eq(patch(b, "0", "hello"), 204);
	ck_assert_int_eq(create_as("5", NULL), 507);
	ck_assert_int_eq(create_as("4", NULL), 201);
	/* Its length declared: held to the cap as a creation's (11 + 4 + 5). */
	call_begin("PATCH", b, true);
	env_add("HTTP_UPLOAD_OFFSET", "5");
	env_add("HTTP_UPLOAD_LENGTH", "6");
	call_body("");
	ck_assert_int_eq(call_run(resumable_patch, b), 507);
	ck_assert_str_eq(header("Retry-After"), "60");
	ck_assert(!double_upload(b)->row.length_known);
	call_begin("PATCH", b, true);
	env_add("HTTP_UPLOAD_OFFSET", "5");
	env_add("HTTP_UPLOAD_LENGTH", "5");
	call_body("");
	ck_assert_int_eq(call_run(resumable_patch, b), 204);
	ck_assert(double_upload(b)->row.length_known);
}
END_TEST

START_TEST(test_caps_per_token)
{
	cfg.write_token = "write-secret";
	cfg.read_token = "read-secret";
	cfg.tus_caps.token_uploads = 1;
	cfg.tus_caps.token_bytes = 100;
	ck_assert_int_eq(create_as("11", "write-secret"), 201);
	ck_assert_int_eq(create_as("11", "write-secret"), 503);
	check_refused_later(503, 1);
	/* Another token counts its own; an anonymous writer, none. */
	ck_assert_int_eq(create_as("101", "read-secret"), 507);
	ck_assert_int_eq(create_as("100", "read-secret"), 201);
	ck_assert_int_eq(create_as("11", NULL), 201);
	ck_assert_int_eq(create_as("11", NULL), 201);
	/* The total caps count every scope. */
	cfg.tus_caps.uploads = 4;
	ck_assert_int_eq(create_as("11", NULL), 503);
	cfg.write_token = cfg.read_token = NULL;
}
END_TEST

START_TEST(test_caps_free_space)
{
	char	 id[TUS_ID_LEN + 1];

	create("11", id);
	cfg.data_dir = (char *)test_dir;
	cfg.min_free = (struct reserve_rule){ UINT64_MAX, 0 };
	ck_assert_int_eq(create_as("11", NULL), 507);
	check_refused_later(507, 1);
	ck_assert_int_eq(patch(id, "0", "hello"), 507);
	ck_assert_str_eq(header("Retry-After"), "60");
	ck_assert_ptr_null(header("Upload-Offset"));
	ck_assert_uint_eq(double_upload(id)->row.offset, 0);
	/* Enough room: the chunk goes in. */
	cfg.min_free = (struct reserve_rule){ 0, 1 };
	ck_assert_int_eq(patch(id, "0", "hello"), 204);
	cfg.data_dir = NULL;
}
END_TEST

/* ---------------------------------------------------------------- HEAD */

START_TEST(test_head)
{
	char	 id[TUS_ID_LEN + 1], other[TUS_ID_LEN + 1];

	create("11", id);
	call_begin("HEAD", id, true);
	ck_assert_int_eq(call_run(resumable_head, id), 200);
	ck_assert_str_eq(header("Upload-Offset"), "0");
	ck_assert_str_eq(header("Upload-Length"), "11");
	ck_assert_str_eq(header("Cache-Control"), "no-store");
	ck_assert_ptr_null(header("Upload-Defer-Length"));

	call_begin("HEAD", id, false);
	ck_assert_int_eq(call_run(resumable_head, id), 412);

	tus_id_new(other);
	call_begin("HEAD", other, true);
	ck_assert_int_eq(call_run(resumable_head, other), 404);

	double_upload(id)->expires_at = time(NULL) - 1;
	call_begin("HEAD", id, true);
	ck_assert_int_eq(call_run(resumable_head, id), 410);
}
END_TEST

/* --------------------------------------------------------------- PATCH */

START_TEST(test_patch_offsets)
{
	char	 id[TUS_ID_LEN + 1], want[HASH_HEX_LEN + 1];
	const struct meta *m;

	hash_of("hello world", want);
	create("11", id);
	ck_assert_int_eq(patch(id, "3", "hello"), 409);
	ck_assert_uint_eq(double_upload(id)->row.offset, 0);

	call_begin("PATCH", id, true);
	env_add("HTTP_UPLOAD_OFFSET", "x");
	call_body("hello");
	ck_assert_int_eq(call_run(resumable_patch, id), 400);

	call_begin("PATCH", id, true);
	env_add("HTTP_UPLOAD_OFFSET", "0");
	env_add("CONTENT_TYPE", "text/plain");
	ck_assert_int_eq(call_run(resumable_patch, id), 415);

	ck_assert_int_eq(patch(id, "0", "hello"), 204);
	ck_assert_str_eq(header("Upload-Offset"), "5");
	ck_assert_ptr_null(header("File-Hash"));
	ck_assert_uint_eq(double_upload(id)->row.offset, 5);
	ck_assert_ptr_null(double_file(want));

	/* The offset moved on: a client that missed it is told. */
	ck_assert_int_eq(patch(id, "0", "hello"), 409);
	ck_assert_uint_eq(double_upload(id)->row.offset, 5);

	/* The last byte: the file is recorded, the upload complete. */
	ck_assert_int_eq(patch(id, "5", " world"), 204);
	ck_assert_str_eq(header("Upload-Offset"), "11");
	ck_assert_str_eq(header("File-Hash"), want);
	ck_assert_ptr_nonnull(m = double_file(want));
	ck_assert_uint_eq(m->size, 11);
	ck_assert_str_eq(m->name, "upload");
	ck_assert_str_eq(double_upload(id)->row.file_hash, want);
	ck_assert_int_eq(double_db.commits, 1);
	ck_assert(!part_exists(id));

	/* Complete: asked again with nothing to add, it says so. */
	call_begin("PATCH", id, true);
	env_add("HTTP_UPLOAD_OFFSET", "11");
	env_add("CONTENT_TYPE", TUS_OCTET_STREAM);
	env_add("CONTENT_LENGTH", "0");
	ck_assert_int_eq(call_run(resumable_patch, id), 204);
	ck_assert_str_eq(header("File-Hash"), want);
	ck_assert_int_eq(patch(id, "11", "more"), 409);
	ck_assert_int_eq(double_db.commits, 1);
}
END_TEST

START_TEST(test_patch_past_length)
{
	char	 id[TUS_ID_LEN + 1];

	create("4", id);
	ck_assert_int_eq(patch(id, "0", "hello"), 413);
	ck_assert_uint_eq(double_upload(id)->row.offset, 0);
	ck_assert_int_eq(patch(id, "0", "hell"), 204);
	ck_assert_ptr_nonnull(header("File-Hash"));
}
END_TEST

START_TEST(test_patch_checksum_mismatch)
{
	char	 id[TUS_ID_LEN + 1];

	create("11", id);
	call_begin("PATCH", id, true);
	env_add("HTTP_UPLOAD_OFFSET", "0");
	/* The SHA-1 of "world", not of "hello". */
	env_add("HTTP_UPLOAD_CHECKSUM", "sha1 fCEMo3MwjqSpxmE7reJ9FpM9Gtw=");
	call_body("hello");
	ck_assert_int_eq(call_run(resumable_patch, id), 460);
	ck_assert_uint_eq(double_upload(id)->row.offset, 0);

	call_begin("PATCH", id, true);
	env_add("HTTP_UPLOAD_OFFSET", "0");
	/* The SHA-1 of "hello". */
	env_add("HTTP_UPLOAD_CHECKSUM", "sha1 qvTGHdzF6KLavt4PO0gs2a6pQ00=");
	call_body("hello");
	ck_assert_int_eq(call_run(resumable_patch, id), 204);
	ck_assert_uint_eq(double_upload(id)->row.offset, 5);
}
END_TEST

/*
 * A body cut short: the pieces read whole are kept, and the client
 * resumes from them; the piece the break fell in is not.
 */
START_TEST(test_patch_broken_body_kept)
{
	static char	 data[HASHPIPE_BUF_SIZE + 1000];
	char		 id[TUS_ID_LEN + 1], offset[24];

	memset(data, 'x', sizeof(data));
	create("600000", id);
	call_begin("PATCH", id, true);
	env_add("HTTP_UPLOAD_OFFSET", "0");
	call_body_claimed(data, sizeof(data), 600000);
	ck_assert_int_eq(call_run(resumable_patch, id), 400);
	ck_assert_uint_eq(double_upload(id)->row.offset, HASHPIPE_BUF_SIZE);

	/* A body cut short with a digest: it cannot be checked, it goes. */
	snprintf(offset, sizeof(offset), "%d", HASHPIPE_BUF_SIZE);
	call_begin("PATCH", id, true);
	env_add("HTTP_UPLOAD_OFFSET", offset);
	env_add("HTTP_UPLOAD_CHECKSUM", "sha1 qvTGHdzF6KLavt4PO0gs2a6pQ00=");
	call_body_claimed(data, sizeof(data), 600000 - HASHPIPE_BUF_SIZE);
	ck_assert_int_eq(call_run(resumable_patch, id), 400);
	ck_assert_uint_eq(double_upload(id)->row.offset, HASHPIPE_BUF_SIZE);
}
END_TEST

START_TEST(test_deferred_length)
{
	char	 id[TUS_ID_LEN + 1];

	create(NULL, id);
	call_begin("HEAD", id, true);
	ck_assert_int_eq(call_run(resumable_head, id), 200);
	ck_assert_str_eq(header("Upload-Defer-Length"), "1");
	ck_assert_ptr_null(header("Upload-Length"));

	ck_assert_int_eq(patch(id, "0", "hi"), 204);
	ck_assert(!double_upload(id)->row.length_known);

	/* The length declared: less than the offset is refused. */
	call_begin("PATCH", id, true);
	env_add("HTTP_UPLOAD_OFFSET", "2");
	env_add("HTTP_UPLOAD_LENGTH", "1");
	call_body("!");
	ck_assert_int_eq(call_run(resumable_patch, id), 400);

	call_begin("PATCH", id, true);
	env_add("HTTP_UPLOAD_OFFSET", "2");
	env_add("HTTP_UPLOAD_LENGTH", "3");
	call_body("!");
	ck_assert_int_eq(call_run(resumable_patch, id), 204);
	ck_assert_ptr_nonnull(header("File-Hash"));
	ck_assert_uint_eq(double_upload(id)->row.length, 3);
}
END_TEST

/* ---------------------------------------------------------- completion */

/* The same bytes are stored already: 403, and the upload is gone. */
START_TEST(test_complete_duplicate)
{
	char	 id[TUS_ID_LEN + 1], want[HASH_HEX_LEN + 1], loc[256];

	hash_of("hello world", want);
	double_add_file(want, 11);
	create("11", id);
	ck_assert_int_eq(patch(id, "0", "hello world"), 403);
	snprintf(loc, sizeof(loc), "%s/%s", ROUTER_BASE, want);
	ck_assert_str_eq(header("Location"), loc);
	ck_assert_ptr_null(double_upload(id));
	ck_assert(!part_exists(id));
	ck_assert_int_eq(double_db.nfiles, 1);
	ck_assert_int_eq(double_db.commits, 0);
}
END_TEST

/* A COMMIT that fails: not complete, the bytes kept for another try. */
START_TEST(test_complete_commit_fails)
{
	char	 id[TUS_ID_LEN + 1], want[HASH_HEX_LEN + 1];

	hash_of("hello world", want);
	create("11", id);
	double_db.commit_fails = DB_ERR_UNAVAILABLE;
	ck_assert_int_eq(patch(id, "0", "hello world"), 503);
	ck_assert_ptr_null(double_file(want));
	ck_assert_str_eq(double_upload(id)->row.file_hash, "");
	ck_assert_int_eq(double_db.rollbacks, 1);
}
END_TEST

/* -------------------------------------------------------------- lease */

START_TEST(test_lease)
{
	char		 id[TUS_ID_LEN + 1];
	struct double_upload *d;
	time_t		 began;

	without_store_lock();
	create("11", id);
	ck_assert_int_eq(double_db.holds, 0);
	ck_assert_int_eq(patch(id, "0", "hello"), 204);
	/* Taken for the offset read, renewed before the commit, let go. */
	ck_assert_int_ge(double_db.holds, 2);
	ck_assert_uint_eq(double_db.held_at, 0);
	d = double_upload(id);
	ck_assert_str_eq(d->writer, "");

	/* Another writer's lease: waited for, then 423. */
	snprintf(d->writer, sizeof(d->writer), "%032d", 7);
	d->writer_until = time(NULL) + 60;
	began = time(NULL);
	ck_assert_int_eq(patch(id, "5", " world"), 423);
	ck_assert_int_ge(time(NULL) - began, RESUMABLE_LOCK_WAIT_MS / 1000 - 1);
	ck_assert_uint_eq(d->row.offset, 5);

	/* A lease run out is taken over. */
	d->writer_until = time(NULL) - 1;
	ck_assert_int_eq(patch(id, "5", " world"), 204);
	ck_assert_ptr_nonnull(header("File-Hash"));
	ck_assert_str_eq(d->writer, "");
}
END_TEST

/* ---------------------------------------------------------------- seal */

/* A partial upload whose last byte came: sealed, no file made of it. */
START_TEST(test_seal_partial)
{
	char	 id[TUS_ID_LEN + 1];
	struct double_upload *d;

	call_begin("POST", NULL, true);
	env_add("HTTP_UPLOAD_LENGTH", "5");
	env_add("HTTP_UPLOAD_CONCAT", "partial");
	call_body("hello");
	created(id);
	ck_assert_str_eq(header("Upload-Offset"), "5");
	ck_assert_ptr_null(header("File-Hash"));
	ck_assert_ptr_nonnull(d = double_upload(id));
	ck_assert_uint_eq(d->row.offset, 5);
	ck_assert_str_eq(d->row.concat, "partial");
	ck_assert_str_eq(d->row.file_hash, "");
	ck_assert_int_eq(double_db.nfiles, 0);
	ck_assert_int_eq(double_db.commits, 0);
	ck_assert(part_exists(id));

	call_begin("HEAD", id, true);
	ck_assert_int_eq(call_run(resumable_head, id), 200);
	ck_assert_str_eq(header("Upload-Concat"), "partial");
	ck_assert_str_eq(header("Upload-Offset"), "5");
}
END_TEST

/* ------------------------------------------------- expiry, termination */

START_TEST(test_expiry)
{
	char	 id[TUS_ID_LEN + 1], kept[TUS_ID_LEN + 1];

	create("11", id);
	create("11", kept);
	ck_assert_int_eq(patch(id, "0", "hello"), 204);
	double_upload(id)->expires_at = time(NULL) - 1;
	ck_assert_int_eq(patch(id, "5", " world"), 410);

	ck_assert_int_eq(resumable_sweep(&app), 1);
	ck_assert_ptr_null(double_upload(id));
	ck_assert(!part_exists(id));
	ck_assert_ptr_nonnull(double_upload(kept));
	ck_assert(part_exists(kept));
	ck_assert_int_eq(resumable_sweep(&app), 0);

	double_db.unavailable = true;
	ck_assert_int_eq(resumable_sweep(&app), 0);
}
END_TEST

START_TEST(test_delete)
{
	char	 id[TUS_ID_LEN + 1];

	create("11", id);
	ck_assert_int_eq(patch(id, "0", "hello"), 204);
	call_begin("DELETE", id, true);
	ck_assert_int_eq(call_run(resumable_delete, id), 204);
	ck_assert_ptr_null(double_upload(id));
	ck_assert(!part_exists(id));
	call_begin("DELETE", id, true);
	ck_assert_int_eq(call_run(resumable_delete, id), 404);
}
END_TEST

static Suite *
resumable_suite(void)
{
	Suite	*s = suite_create("resumable");
	TCase	*tc = test_dir_tcase("tus", setup, teardown);

	/* The lease test waits RESUMABLE_LOCK_WAIT_MS for another writer. */
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_create);
	tcase_add_test(tc, test_create_refused);
	tcase_add_test(tc, test_create_empty_completes);
	tcase_add_test(tc, test_caps_count);
	tcase_add_test(tc, test_caps_bytes);
	tcase_add_test(tc, test_caps_per_token);
	tcase_add_test(tc, test_caps_free_space);
	tcase_add_test(tc, test_head);
	tcase_add_test(tc, test_patch_offsets);
	tcase_add_test(tc, test_patch_past_length);
	tcase_add_test(tc, test_patch_checksum_mismatch);
	tcase_add_test(tc, test_patch_broken_body_kept);
	tcase_add_test(tc, test_deferred_length);
	tcase_add_test(tc, test_complete_duplicate);
	tcase_add_test(tc, test_complete_commit_fails);
	tcase_add_test(tc, test_lease);
	tcase_add_test(tc, test_seal_partial);
	tcase_add_test(tc, test_expiry);
	tcase_add_test(tc, test_delete);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(resumable_suite)
