#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "app.h"
#include "auth.h"
#include "config.h"
#include "db.h"
#include "events.h"
#include "handlers.h"
#include "hash.h"
#include "http.h"
#include "jsonio.h"
#include "links.h"
#include "log.h"
#include "metrics.h"
#include "metrics_route.h"
#include "num.h"
#include "outcome.h"
#include "query.h"
#include "request.h"
#include "resumable.h"
#include "router.h"
#include "store.h"
#include "tus.h"
#include "upload.h"

#define LIST_LIMIT_MAX	10000
#define PUT_BODY_MAX	(64 * 1024)
#define LINK_BODY_MAX	1024
/*
 * The bytes behind a hash never change; behind a read token only the
 * client itself may keep them.
 */
#define CACHE_PUBLIC	"public, max-age=31536000, immutable"
#define CACHE_PRIVATE	"private, max-age=31536000, immutable"

static void
answer(struct request *r, struct outcome o)
{
	http_error(r, o.status, o.reason);
}

static void
answer_meta(struct request *r, int status, const struct meta *m)
{
	char	*json = json_meta(m);

	if (json == NULL) {
		http_error(r, 500, "out of memory");
		return;
	}
	http_json(r, status, json, NULL);
	free(json);
}

static void
handle_banner(struct app *app, struct request *r, const char *hash)
{
	char	*json = json_string(PACKAGE_NAME " " PACKAGE_VERSION
	    " - file upload service");

	(void)app;
	(void)hash;
	http_json(r, 200, json != NULL ? json : "\"fileupload\"", NULL);
	free(json);
}

/* ?limit=N&after=<hash>&order=oldest|newest: each at most once, only these. */
static int
parse_list_query(const char *q, uint64_t *limit, char *after, int *has_after,
    bool *newest, const char **why)
{
	const char	*p = q, *name;
	int		 seen_limit = 0, seen_order = 0, rc;
	size_t		 nlen;
	char		 val[80];

	*limit = 0;
	*has_after = 0;
	*newest = false;
	while ((rc = query_next(&p, &name, &nlen, val, sizeof(val), why)) ==
	    1) {
		if (query_name_is(name, nlen, "limit") && !seen_limit) {
			seen_limit = 1;
			if (parse_u64(val, 1, LIST_LIMIT_MAX, limit) == -1) {
				*why = "limit must be an integer from 1 to 10000";
				return -1;
			}
		} else if (query_name_is(name, nlen, "after") && !*has_after) {
			*has_after = 1;
			if (!hash_parse(val, strlen(val), after)) {
				*why = "after must be a file hash";
				return -1;
			}
		} else if (query_name_is(name, nlen, "order") && !seen_order) {
			seen_order = 1;
			if (strcmp(val, "newest") == 0)
				*newest = true;
			else if (strcmp(val, "oldest") != 0) {
				*why = "order must be oldest or newest";
				return -1;
			}
		} else {
			*why = "unknown or repeated query parameter "
			    "(only limit, after and order are allowed)";
			return -1;
		}
	}
	return rc;
}

struct list_out {
	struct request	*req;
	struct json_meta_writer *writer;
	size_t		 rows;
	int		 buffered;	/* a page: kept until its Link is known */
	char		*buf;
	size_t		 len, cap;
	char		 last[HASH_HEX_LEN + 1];
};

static int
list_emit(struct list_out *lo, const char *s, size_t n)
{
	if (!lo->buffered) {
		http_write(lo->req, s, n);
		return FCGX_GetError(lo->req->out) != 0 ? -1 : 0;
	}
	if (lo->len + n > lo->cap) {
		size_t	 cap = lo->cap == 0 ? 65536 : lo->cap;
		char	*nb;

		while (cap < lo->len + n)
			cap *= 2;
		if ((nb = realloc(lo->buf, cap)) == NULL)
			return -1;
		lo->buf = nb;
		lo->cap = cap;
	}
	memcpy(lo->buf + lo->len, s, n);
	lo->len += n;
	return 0;
}

/* One row: the first one also sends the headers (an unpaged list streams). */
static int
list_row(void *arg, const struct meta *m)
{
	struct list_out	*lo = arg;
	const char	*json;
	size_t		 len;
	int		 rc;

	if (lo->rows == 0 && !lo->buffered) {
		http_begin(lo->req, 200, "application/json");
		http_end(lo->req);
	}
	if ((json = json_meta_writer_format(lo->writer, m, &len)) == NULL)
		return -1;
	rc = list_emit(lo, lo->rows == 0 ? "[" : ",", 1);
	if (rc == 0)
		rc = list_emit(lo, json, len);
	memcpy(lo->last, m->hash, sizeof(lo->last));
	lo->rows++;
	return rc;
}

static void
handle_list(struct app *app, struct request *r, const char *hash)
{
	struct list_out	 lo;
	uint64_t	 limit;
	char		 after[HASH_HEX_LEN + 1], link[256];
	const char	*why;
	int		 has_after;
	bool		 more, newest;
	enum db_error	 err;

	(void)app;
	(void)hash;
	if (parse_list_query(r->query, &limit, after, &has_after, &newest,
	    &why) == -1) {
		http_error(r, 400, why);
		return;
	}
	memset(&lo, 0, sizeof(lo));
	lo.req = r;
	if ((lo.writer = json_meta_writer_new()) == NULL) {
		http_error(r, 500, "out of memory");
		return;
	}
	lo.buffered = limit > 0;
	err = db_list(limit, has_after ? after : NULL, newest, list_row, &lo,
	    &more);
	if (lo.rows > 0 && !lo.buffered) {
		/* Headers are out: a failure can only cut the array short. */
		if (err != DB_OK)
			log_warnx("list cut short: %s", db_last_error());
		else
			http_write(r, "]\n", 2);
		goto out;
	}
	if (err == DB_ERR_NOTFOUND) {
		http_error(r, 400, "unknown after hash");
		goto out;
	}
	if (err != DB_OK) {
		answer(r, outcome_db(err, "list"));
		goto out;
	}
	http_begin(r, 200, "application/json");
	if (more) {
		snprintf(link, sizeof(link), "<%s?limit=%llu&after=%s%s>; "
		    "rel=\"next\"", ROUTER_BASE, (unsigned long long)limit,
		    lo.last, newest ? "&order=newest" : "");
		http_header(r, "Link", link);
	}
	http_end(r);
	http_write_array(r, lo.buf, lo.len);
out:
	json_meta_writer_free(lo.writer);
	free(lo.buf);
}

static void
handle_get(struct app *app, struct request *r, const char *hash)
{
	struct meta	 m;
	enum db_error	 err;

	(void)app;
	if ((err = db_get(hash, &m)) != DB_OK)
		answer(r, outcome_db(err, "get"));
	else
		answer_meta(r, 200, &m);
}

/* application/json, with or without parameters such as charset. */
static int
is_json_type(const char *ct)
{
	size_t	 n = strlen("application/json");

	return strncasecmp(ct, "application/json", n) == 0 &&
	    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* Reads a small body whole; NULL with *o set when it cannot. */
static char *
read_small_body(struct request *r, size_t max, size_t *len,
    struct outcome *o)
{
	static const struct outcome too_large = { 413, "body too large" };
	static const struct outcome no_memory = { 500, "out of memory" };
	char	*buf;
	ssize_t	 n;

	*len = 0;
	if (r->has_length && r->content_length > max) {
		*o = too_large;
		return NULL;
	}
	if ((buf = malloc(max + 1)) == NULL) {
		*o = no_memory;
		return NULL;
	}
	while ((n = request_read(r, buf + *len, max + 1 - *len)) > 0) {
		*len += n;
		if (*len > max) {
			free(buf);
			*o = too_large;
			return NULL;
		}
	}
	if (n == -1) {
		free(buf);
		*o = outcome_body(r->body_error);
		return NULL;
	}
	buf[*len] = '\0';
	return buf;
}

static void
handle_update(struct app *app, struct request *r, const char *hash)
{
	struct json_update	 upd;
	struct meta		 m;
	struct outcome		 o;
	enum db_error		 err;
	char			 why[256];
	char			*body;
	size_t			 len;

	(void)app;
	/* An answer before the body's end: request_finish drops the rest. */
	if (!is_json_type(r->content_type)) {
		http_error(r, 415, "body must be application/json");
		return;
	}
	if ((body = read_small_body(r, PUT_BODY_MAX, &len, &o)) == NULL) {
		answer(r, o);
		return;
	}
	switch (json_parse_update(body, len, &upd, why, sizeof(why))) {
	case JU_OK:
		err = db_update(hash, upd.has_name ? upd.name : NULL,
		    upd.has_type ? upd.type : NULL, &m);
		if (err != DB_OK)
			answer(r, outcome_db(err, "update"));
		else
			answer_meta(r, 201, &m);
		break;
	case JU_ERR_SYNTAX:
		http_error(r, 400, why);
		break;
	default:
		http_error(r, 403, why);
		break;
	}
	free(body);
}

/*
 * The row goes in a transaction while the file is moved aside; only after
 * COMMIT is it unlinked.  Until then a concurrent upload of the same bytes
 * waits on the row, so it can never record a row whose file we remove.
 */
static void
handle_delete(struct app *app, struct request *r, const char *hash)
{
	struct meta	 m;
	enum db_error	 err;
	enum store_error se;
	struct outcome	 o;
	struct store_trash trash;
	char		 msg[META_NAME_MAX + 32], *json;

	if ((err = db_delete_begin(&r->tx, hash, &m)) != DB_OK) {
		answer(r, outcome_db(err, "delete"));
		return;
	}
	if ((se = store_trash(app->store, hash, &trash)) == STORE_ERR_NOENT)
		log_warnx("integrity: row %s had no stored file", hash);
	else if (se != STORE_OK) {
		o = outcome_store(se, "delete: cannot move the file aside");
		db_rollback(&r->tx);
		answer(r, o);
		return;
	}
	if ((err = db_commit_row(&r->tx, hash, false)) != DB_OK) {
		/* The row is still there (or may be): give it its file back. */
		if (trash.name[0] != '\0' &&
		    store_untrash(app->store, &trash, hash) != STORE_OK)
			log_warn("delete %s: file left in tmp/%s", hash,
			    trash.name);
		answer(r, outcome_db(err, "delete commit"));
		return;
	}
	if (trash.name[0] != '\0')
		store_purge(app->store, &trash);
	metrics_deleted(m.size);
	snprintf(msg, sizeof(msg), "File %s deleted!", m.name);
	json = json_string(msg);
	http_json(r, 201, json != NULL ? json : "\"File deleted!\"", NULL);
	free(json);
}

/*
 * A share link: the file's content URL, signed until now + expires_in
 * (docs/api.md "Share links").  Creating one is a read (ACCESS_READ).
 */
static void
handle_links(struct app *app, struct request *r, const char *hash)
{
	struct meta	 m;
	struct outcome	 o;
	enum db_error	 err;
	uint64_t	 ttl, expires;
	char		 why[128], query[LINKS_QUERY_MAX];
	char		 url[ROUTER_LOCATION_MAX + sizeof("/content?") +
			    LINKS_QUERY_MAX], at[LINKS_TIME_LEN + 1];
	char		*body, *json;
	size_t		 len;

	if ((body = read_small_body(r, LINK_BODY_MAX, &len, &o)) == NULL) {
		/* No body that long is the one asked for. */
		if (o.status == 413)
			o = (struct outcome){ 400, "body must be "
			    "{\"expires_in\": <seconds>}" };
		answer(r, o);
		return;
	}
	if (json_parse_link(body, len, &ttl, why, sizeof(why)) == -1) {
		free(body);
		http_error(r, 400, why);
		return;
	}
	free(body);
	if ((err = db_get(hash, &m)) != DB_OK) {
		answer(r, outcome_db(err, "links"));
		return;
	}
	expires = (uint64_t)time(NULL) + ttl;
	links_query(app->link_key, app->link_key_len, hash, m.created_at,
	    expires, query);
	route_location(hash, url);
	snprintf(url + strlen(url), sizeof(url) - strlen(url),
	    "/content?%s", query);
	if (links_time(expires, at) == -1 ||
	    (json = json_link(url, at)) == NULL) {
		http_error(r, 500, "out of memory");
		return;
	}
	http_json(r, 201, json, NULL);
	free(json);
}

/*
 * A content request that carries a share link needs no token, but its
 * link must hold: signed with our key for this hash (else 403), not
 * expired (else 410).  A token sent along changes nothing.  True when the
 * request may go on.
 */
static bool
link_admits(struct app *app, struct request *r, const char *hash)
{
	switch (links_check(app->link_key, app->link_key_len, hash, r->query,
	    (uint64_t)time(NULL))) {
	case LINKS_NONE:
	case LINKS_OK:
		return true;
	case LINKS_EXPIRED:
		http_error(r, 410, "share link expired");
		return false;
	default:
		http_error(r, 403, "share link invalid");
		return false;
	}
}

/*
 * The bytes are nginx's to send (X-Accel-Redirect to the internal location:
 * sendfile, Range, HEAD).  Their ETag is the hash, so a matching
 * If-None-Match is answered here without touching the file.
 */
static void
handle_content(struct app *app, struct request *r, const char *hash)
{
	struct meta	 m;
	enum db_error	 err;
	const char	*inm, *cache, *range;
	char		 disp[2048], accel[STORE_TARGET_MAX];
	char		 etag[HASH_HEX_LEN + 3];
	char		 digest[TUS_REPR_DIGEST_MAX];
	bool		 has_digest, past_end;
	enum store_error se;

	if (!link_admits(app, r, hash))
		return;
	if ((err = db_get(hash, &m)) == DB_OK && links_in_query(r->query) &&
	    !links_names(app->link_key, app->link_key_len, hash, r->query,
	    m.created_at))
		err = DB_ERR_NOTFOUND;	/* deleted since, maybe stored again */
	if (err != DB_OK) {
		answer(r, outcome_db(err, "content"));
		return;
	}
	snprintf(etag, sizeof(etag), "\"%s\"", hash);
	cache = app->cfg->read_token != NULL ? CACHE_PRIVATE : CACHE_PUBLIC;
	if ((inm = request_param(r, "HTTP_IF_NONE_MATCH")) != NULL &&
	    http_etag_match(inm, hash)) {
		http_begin(r, 304, NULL);
		http_header(r, "ETag", etag);
		http_header(r, "Cache-Control", cache);
		http_end(r);
		return;
	}
	has_digest = tus_repr_digest(m.sha256, digest) == 0;
	if ((se = store_locate(app->store, hash, has_digest ? digest : NULL,
	    accel, sizeof(accel))) != STORE_OK) {
		if (se == STORE_ERR_NOENT)
			log_warnx("integrity: row %s has no stored file", hash);
		answer(r, outcome_store(se, NULL));
		return;
	}
	if (http_content_disposition(m.name, disp, sizeof(disp)) == -1)
		snprintf(disp, sizeof(disp), "attachment");
	/*
	 * nginx keeps Content-Type across the redirect.  The serving
	 * location turns the X-Fileupload- pair into Content-Disposition and
	 * Cache-Control on the bytes only: sent as themselves, they would
	 * stay on nginx's own 404 or 416.  A Range past the end gets neither:
	 * nginx adds a location's headers before it finds the 416.
	 */
	range = request_param(r, "HTTP_RANGE");
	past_end = range != NULL && request_param(r, "HTTP_IF_RANGE") == NULL &&
	    http_range_past_end(range, m.size);
	http_begin(r, 200, m.type);
	if (!past_end) {
		http_header(r, "X-Fileupload-Content-Disposition", disp);
		http_header(r, "X-Fileupload-Cache-Control", cache);
	}
	http_header(r, "X-Accel-Redirect", accel);
	/* nginx drops it across the redirect: its location sets Repr-Digest. */
	if (has_digest)
		http_header(r, "X-Fileupload-Repr-Digest", digest);
	http_end(r);
}

static void
handle_health(struct app *app, struct request *r, const char *hash)
{
	bool		 db_ok, store_ok;
	char		 body[128];

	(void)hash;
	app_health(app, &db_ok, &store_ok);
	if (db_ok && store_ok) {
		http_json(r, 200, "{\"status\":\"ok\"}", NULL);
		return;
	}
	snprintf(body, sizeof(body), "{\"status\":\"unavailable\","
	    "\"database\":\"%s\",\"storage\":\"%s\"}",
	    db_ok ? "ok" : "unavailable", store_ok ? "ok" : "unavailable");
	http_json(r, 503, body, NULL);
}

/*
 * Every route: method ("GET" takes HEAD too), path, access class, handler.
 * The router, the token check, 405's Allow and the test against
 * conf/openapi.yaml (tests/check_router.c) all read this table.
 */
#define FILE_PATH	ROUTER_BASE "/" ROUTER_HASH
#define UPLOAD_PATH	ROUTER_UPLOADS "/" ROUTER_UPLOAD
const struct route handler_routes[] = {
	{ "GET", "/", handle_banner, ACCESS_OPEN, "banner" },
	{ "GET", ROUTER_BASE, handle_list, ACCESS_READ, "list" },
	{ "POST", ROUTER_BASE, upload_handle, ACCESS_WRITE, "upload" },
	{ "GET", ROUTER_BASE "/health", handle_health, ACCESS_OPEN, "health" },
	{ "GET", ROUTER_BASE "/events", events_handle, ACCESS_READ, "events" },
	{ "GET", ROUTER_BASE "/metrics", metrics_handle, ACCESS_METRICS,
	    "metrics" },
	{ "GET", FILE_PATH, handle_get, ACCESS_READ, "get" },
	{ "PUT", FILE_PATH, handle_update, ACCESS_WRITE, "update" },
	{ "DELETE", FILE_PATH, handle_delete, ACCESS_WRITE, "delete" },
	{ "GET", FILE_PATH "/content", handle_content, ACCESS_LINK, "content" },
	{ "POST", FILE_PATH "/links", handle_links, ACCESS_READ, "links" },
	/* Resumable uploads (tus): an unfinished one is its writer's. */
	{ "OPTIONS", ROUTER_UPLOADS, resumable_options, ACCESS_OPEN,
	    "tus_options" },
	{ "POST", ROUTER_UPLOADS, resumable_create, ACCESS_WRITE,
	    "tus_create" },
	{ "HEAD", UPLOAD_PATH, resumable_head, ACCESS_WRITE, "tus_head" },
	{ "PATCH", UPLOAD_PATH, resumable_patch, ACCESS_WRITE, "tus_patch" },
	{ "DELETE", UPLOAD_PATH, resumable_delete, ACCESS_WRITE,
	    "tus_delete" },
};
const size_t handler_nroutes = sizeof(handler_routes) /
    sizeof(handler_routes[0]);

static void
answer_no_route(struct request *r, const struct route_match *m)
{
	switch (m->status) {
	case 400:
		http_error(r, 400, "file hash must be 64 hex digits");
		break;
	case 405:
		http_error_allow(r, m->allow);
		break;
	default:
		http_error(r, 404, "no such route");
		break;
	}
}

void
handle_request(struct app *app, struct request *r)
{
	struct route_match	 m;

	r->method = route_method(r->method, r->path,
	    request_param(r, "HTTP_X_HTTP_METHOD_OVERRIDE"));
	route_match(handler_routes, handler_nroutes, r->method, r->path, &m);
	if (m.route == NULL) {
		answer_no_route(r, &m);
		return;
	}
	memcpy(r->hash, m.hash, sizeof(r->hash));
	r->route = (int)(m.route - handler_routes);
	/* A share link stands for a token: the handler checks it. */
	if (!(m.route->access == ACCESS_LINK && links_in_query(r->query)) &&
	    !auth_allowed(app->cfg, request_param(r, "HTTP_AUTHORIZATION"),
	    m.route->access)) {
		http_json_with(r, 401, "{\"error\":\"missing or wrong bearer "
		    "token\",\"status\":401}", "WWW-Authenticate",
		    "Bearer realm=\"fileupload\"");
		return;
	}
	m.route->handle(app, r, m.hash);
}
