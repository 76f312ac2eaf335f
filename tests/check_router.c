/*
 * Unit tests of the router: every (method, path) of docs/api.md, the
 * {file_hash} validation and the 400/404/405 answers with their Allow lists.
 */
#include <stdio.h>
#include <string.h>

#include "handlers.h"
#include "router.h"
#include "testutil.h"

#define BASE	ROUTER_BASE
#define H_LOW	"0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8"
#define H_UP	"0E5751C026E543B2E8AB2EB06099DAA1D1E5DF47778F7787FAAB45CDF12FE3A8"
#define H_MIX	"0e5751C026e543B2e8ab2EB06099daa1d1E5df47778f7787FAAB45cdf12fe3A8"

static const char *const methods[] = {
	"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH",
};
#define NMETHODS	(sizeof(methods) / sizeof(methods[0]))

#define FILE_P		BASE "/" ROUTER_HASH
#define CONTENT_P	FILE_P "/content"
#define LINKS_P		FILE_P "/links"

/*
 * A path, the pattern it is of and the methods it takes (405's Allow):
 * every other method of methods[] is 405.
 */
struct path_case {
	const char	*path;
	const char	*pattern;
	const char	*allow;
	const char	*hash;		/* m.hash wanted, or NULL */
};

static const struct path_case path_cases[] = {
	{ "/", "/", "GET, HEAD", NULL },
	{ BASE, BASE, "GET, HEAD, POST", NULL },
	{ BASE "/", BASE, "GET, HEAD, POST", NULL },
	{ BASE "/health", BASE "/health", "GET, HEAD", NULL },
	{ BASE "/metrics", BASE "/metrics", "GET, HEAD", NULL },
	{ BASE "/events", BASE "/events", "GET, HEAD", NULL },
	{ BASE "/" H_LOW, FILE_P, "GET, HEAD, PUT, DELETE", H_LOW },
	{ BASE "/" H_UP, FILE_P, "GET, HEAD, PUT, DELETE", H_LOW },
	{ BASE "/" H_MIX, FILE_P, "GET, HEAD, PUT, DELETE", H_LOW },
	{ BASE "/" H_LOW "/content", CONTENT_P, "GET, HEAD", H_LOW },
	{ BASE "/" H_UP "/content", CONTENT_P, "GET, HEAD", H_LOW },
	{ BASE "/" H_LOW "/links", LINKS_P, "POST", H_LOW },
	{ BASE "/" H_MIX "/links", LINKS_P, "POST", H_LOW },
};

/* Paths that are 404 whatever the method. */
static const char *const not_found[] = {
	"",
	"//",
	"/service",
	"/service/",
	"/service/file",
	"/service/fileuploa",
	"/service/fileuploadX",
	"/service/fileupload_",
	"/service/fileupload.json",
	"/service/fileuploadhealth",
	"/service/fileupload" H_LOW,
	"/Service/fileupload",
	"/SERVICE/FILEUPLOAD",
	"service/fileupload",
	"/x/service/fileupload",
	"/index.html",
	"/health",
	"/" H_LOW,
	BASE "//",
	BASE "//health",
	BASE "/health/",
	BASE "/health/x",
	BASE "/metrics/",
	BASE "/metrics/x",
	BASE "/events/",
	BASE "/events/x",
	BASE "/" H_LOW "/",
	BASE "/" H_LOW "//content",
	BASE "/" H_LOW "/content/",
	BASE "/" H_LOW "/content/x",
	BASE "/" H_LOW "/Content",
	BASE "/" H_LOW "/CONTENT",
	BASE "/" H_LOW "/contents",
	BASE "/" H_LOW "/conten",
	BASE "/" H_LOW "/meta",
	BASE "/" H_LOW "/content?x",
	BASE "/" H_LOW "/links/",
	BASE "/" H_LOW "/link",
	BASE "/" H_LOW "/Links",
	BASE "/" H_LOW "/" H_LOW,
	BASE "/x/y",
	BASE "/tmp/x",
	BASE "/../data",
	BASE "/a/../" H_LOW,
};

/* Paths under the base naming a file with a malformed hash: 400. */
static const char *const bad_hash[] = {
	BASE "/x",
	BASE "/Health",
	BASE "/HEALTH",
	BASE "/content",
	BASE "/healthz",
	BASE "/Metrics",
	BASE "/metric",
	BASE "/..",
	BASE "/.",
	BASE "/" H_LOW "0",
	BASE "/0" H_LOW,
	BASE "/0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a",
	BASE "/e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8",
	BASE "/ge5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8",
	BASE "/0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3aG",
	BASE "/0e5751c026e543b2e8ab2eb06099daa1 1e5df47778f7787faab45cdf12fe3a8",
	BASE "/0e5751c026e543b2e8ab2eb06099daa1%31e5df47778f7787faab45cdf12fe3a8",
	BASE "/0x5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8",
	BASE "/-e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8",
	BASE "/0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a\xc3\xa9",
	BASE "/x/content",
	BASE "/" H_LOW "0/content",
	BASE "//content",
	BASE "/health/content",
	BASE "/health?x",
};

static void
match(const char *method, const char *path, struct route_match *m)
{
	/* Poison the result: route_match must set every field it reports. */
	memset(m, 0x5a, sizeof(*m));
	route_match(handler_routes, handler_nroutes, method, path, m);
}

/* "METHOD pattern" of a matched row, for messages. */
static const char *
row_name(const struct route *rt)
{
	static char	 buf[160];

	if (rt == NULL)
		return "none";
	snprintf(buf, sizeof(buf), "%s %s", rt->method, rt->pattern);
	return buf;
}

/* True when method is one of a comma-separated list. */
static int
in_list(const char *method, const char *list)
{
	size_t	 n = strlen(method);
	const char *p;

	for (p = list; (p = strstr(p, method)) != NULL; p += n)
		if ((p == list || p[-1] == ' ') &&
		    (p[n] == '\0' || p[n] == ','))
			return 1;
	return 0;
}

/* --- routes --- */

START_TEST(test_routes)
{
	const struct path_case	*c = &path_cases[_i];
	struct route_match	 m;
	const char		*want;
	size_t			 i;

	for (i = 0; i < NMETHODS; i++) {
		match(methods[i], c->path, &m);
		if (in_list(methods[i], c->allow)) {
			want = strcmp(methods[i], "HEAD") == 0 ? "GET" :
			    methods[i];
			ck_assert_msg(m.route != NULL &&
			    strcmp(m.route->method, want) == 0 &&
			    strcmp(m.route->pattern, c->pattern) == 0,
			    "%s %s: route %s, want %s %s", methods[i], c->path,
			    row_name(m.route), want, c->pattern);
			ck_assert_int_eq(m.status, 0);
			ck_assert_ptr_nonnull(m.route->handle);
		} else {
			ck_assert_msg(m.route == NULL && m.status == 405,
			    "%s %s: route %s status %d, want 405", methods[i],
			    c->path, row_name(m.route), m.status);
			ck_assert_str_eq(m.allow, c->allow);
		}
		if (c->hash != NULL && m.route != NULL)
			ck_assert_str_eq(m.hash, c->hash);
	}
}
END_TEST

START_TEST(test_head_is_get)
{
	struct route_match	 get, head;
	size_t			 i;

	for (i = 0; i < sizeof(path_cases) / sizeof(path_cases[0]); i++) {
		match("GET", path_cases[i].path, &get);
		match("HEAD", path_cases[i].path, &head);
		ck_assert_ptr_eq(get.route, head.route);
		ck_assert_int_eq(get.status, head.status);
	}
}
END_TEST

START_TEST(test_unknown_methods)
{
	static const char *const other[] = {
		"OPTIONS", "TRACE", "CONNECT", "get", "Get", "head", "post",
		"", "GET ", " GET", "GETX", "PROPFIND",
	};
	struct route_match	 m;
	size_t			 i, j;

	for (i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		for (j = 0; j < sizeof(path_cases) / sizeof(path_cases[0]);
		    j++) {
			match(other[i], path_cases[j].path, &m);
			ck_assert_msg(m.route == NULL && m.status == 405,
			    "\"%s\" %s: route %s status %d", other[i],
			    path_cases[j].path, row_name(m.route), m.status);
			ck_assert_str_eq(m.allow, path_cases[j].allow);
		}
}
END_TEST

START_TEST(test_null_args)
{
	struct route_match	 m;

	match(NULL, "/", &m);
	ck_assert_ptr_null(m.route);
	ck_assert_int_eq(m.status, 404);
	ck_assert_str_eq(m.allow, "");
	match("GET", NULL, &m);
	ck_assert_ptr_null(m.route);
	ck_assert_int_eq(m.status, 404);
	ck_assert_str_eq(m.allow, "");
}
END_TEST

/*
 * Who may call what: the banner and the health check stay open; the
 * metrics take their own token (or loopback); the content takes a share
 * link instead of the read token, and making a link is a read.
 */
START_TEST(test_access)
{
	size_t	 i;
	const struct route *rt;

	for (i = 0; i < handler_nroutes; i++) {
		rt = &handler_routes[i];
		if (strcmp(rt->pattern, "/") == 0 ||
		    strcmp(rt->pattern, BASE "/health") == 0 ||
		    strcmp(rt->method, "OPTIONS") == 0)
			ck_assert_msg(rt->access == ACCESS_OPEN, "%s",
			    row_name(rt));
		else if (strcmp(rt->pattern, BASE "/metrics") == 0)
			ck_assert_msg(rt->access == ACCESS_METRICS, "%s",
			    row_name(rt));
		else if (strcmp(rt->pattern, CONTENT_P) == 0)
			ck_assert_msg(rt->access == ACCESS_LINK, "%s",
			    row_name(rt));
		else if (strcmp(rt->pattern, LINKS_P) == 0)
			ck_assert_msg(rt->access == ACCESS_READ, "%s",
			    row_name(rt));
		else if (strcmp(rt->method, "GET") == 0)
			ck_assert_msg(rt->access == ACCESS_READ, "%s",
			    row_name(rt));
		else
			ck_assert_msg(rt->access == ACCESS_WRITE, "%s",
			    row_name(rt));
	}
}
END_TEST

/* --- resumable uploads: {upload_id} --- */

#define UPLOADS		BASE "/uploads"
#define UP_ID		"AbCdEfGhIjKlMnOpQr-_09"

START_TEST(test_upload_routes)
{
	static const char *const coll[] = { "OPTIONS", "POST" };
	static const char *const one[] = { "HEAD", "PATCH", "DELETE" };
	struct route_match	 m;
	size_t			 i;

	for (i = 0; i < 2; i++) {
		match(coll[i], UPLOADS, &m);
		ck_assert_msg(m.route != NULL && strcmp(m.route->method,
		    coll[i]) == 0 && strcmp(m.route->pattern, UPLOADS) == 0,
		    "%s " UPLOADS ": %s", coll[i], row_name(m.route));
	}
	for (i = 0; i < 3; i++) {
		match(one[i], UPLOADS "/" UP_ID, &m);
		ck_assert_msg(m.route != NULL && strcmp(m.route->method,
		    one[i]) == 0, "%s: %s", one[i], row_name(m.route));
		ck_assert_str_eq(m.hash, UP_ID);
	}
	match("GET", UPLOADS, &m);
	ck_assert_int_eq(m.status, 405);
	ck_assert_str_eq(m.allow, "OPTIONS, POST");
	match("GET", UPLOADS "/" UP_ID, &m);
	ck_assert_int_eq(m.status, 405);
	ck_assert_str_eq(m.allow, "HEAD, PATCH, DELETE");
}
END_TEST

/* An id that is not one of ours names no upload: 404, never 400. */
START_TEST(test_upload_bad_ids)
{
	static const char *const bad[] = {
		UPLOADS "/",
		UPLOADS "/" "AbCdEfGhIjKlMnOpQr-_0",	/* 21 */
		UPLOADS "/" UP_ID "9",			/* 23 */
		UPLOADS "/" "AbCdEfGhIjKlMnOpQr+_09",	/* not base64url */
		UPLOADS "/" "AbCdEfGhIjKlMnOpQr=_09",
		UPLOADS "/" "AbCdEfGhIjKlMnOpQr._09",
		UPLOADS "/" UP_ID "/",
		UPLOADS "/" UP_ID "/x",
		UPLOADS "//" UP_ID,
	};
	struct route_match	 m;
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		match("PATCH", bad[i], &m);
		ck_assert_msg(m.route == NULL && m.status == 404,
		    "%s: route %s status %d", bad[i], row_name(m.route),
		    m.status);
	}
}
END_TEST

/* --- hash --- */

START_TEST(test_hash_lowercased)
{
	struct route_match	 m;

	match("GET", BASE "/" H_UP, &m);
	ck_assert_str_eq(row_name(m.route), "GET " FILE_P);
	ck_assert_str_eq(m.hash, H_LOW);
	ck_assert_uint_eq(strlen(m.hash), 64);
	match("DELETE", BASE "/" H_MIX, &m);
	ck_assert_str_eq(row_name(m.route), "DELETE " FILE_P);
	ck_assert_str_eq(m.hash, H_LOW);
	match("HEAD", BASE "/" H_MIX "/content", &m);
	ck_assert_str_eq(row_name(m.route), "GET " CONTENT_P);
	ck_assert_str_eq(m.hash, H_LOW);
}
END_TEST

START_TEST(test_hash_no_hash_routes)
{
	struct route_match	 m;

	/* Routes without a hash leave it empty. */
	match("GET", BASE, &m);
	ck_assert_str_eq(m.hash, "");
	match("GET", BASE "/health", &m);
	ck_assert_str_eq(m.hash, "");
	match("GET", "/", &m);
	ck_assert_str_eq(m.hash, "");
}
END_TEST

START_TEST(test_hash_bad)
{
	struct route_match	 m;
	size_t			 i;

	for (i = 0; i < NMETHODS; i++) {
		match(methods[i], bad_hash[_i], &m);
		ck_assert_msg(m.route == NULL && m.status == 400,
		    "%s %s: route %s status %d, want 400", methods[i],
		    bad_hash[_i], row_name(m.route), m.status);
		ck_assert_str_eq(m.allow, "");
	}
}
END_TEST

START_TEST(test_hash_lengths)
{
	char			 path[256], hex[130];
	struct route_match	 m;
	size_t			 n;

	for (n = 0; n < 130; n++)
		hex[n] = "0123456789abcdefABCDEF"[n % 22];
	for (n = 1; n < 130; n++) {
		snprintf(path, sizeof(path), "%s/%.*s", BASE, (int)n, hex);
		match("GET", path, &m);
		if (n == 64)
			ck_assert_msg(m.route != NULL, "64 digits: %d",
			    m.status);
		else
			ck_assert_msg(m.route == NULL && m.status == 400,
			    "%zu digits: route %s status %d", n,
			    row_name(m.route), m.status);
		snprintf(path, sizeof(path), "%s/%.*s/content", BASE, (int)n,
		    hex);
		match("GET", path, &m);
		ck_assert_int_eq(m.status, n == 64 ? 0 : 400);
	}
}
END_TEST

START_TEST(test_hash_every_bad_byte)
{
	char			 path[128];
	struct route_match	 m;
	size_t			 at;
	int			 c;

	for (c = 1; c < 256; c++) {
		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		    (c >= 'A' && c <= 'F') || c == '/')
			continue;
		for (at = 0; at < 64; at += 63) {
			snprintf(path, sizeof(path), "%s/%s", BASE, H_LOW);
			path[sizeof(BASE) + at] = (char)c;
			match("GET", path, &m);
			ck_assert_msg(m.route == NULL && m.status == 400,
			    "byte 0x%02x at %zu: status %d", c, at, m.status);
		}
	}
}
END_TEST

START_TEST(test_hash_embedded_nul)
{
	char			 path[128];
	struct route_match	 m;

	/*
	 * route_match takes a C string: a NUL inside the hash ends the path,
	 * and what is left is a short, malformed hash.
	 */
	snprintf(path, sizeof(path), "%s/%s", BASE, H_LOW);
	path[sizeof(BASE) + 10] = '\0';
	match("GET", path, &m);
	ck_assert_ptr_null(m.route);
	ck_assert_int_eq(m.status, 400);

	snprintf(path, sizeof(path), "%s/%s/content", BASE, H_LOW);
	path[sizeof(BASE) + 64] = '\0';	/* the '/' of "/content" */
	match("GET", path, &m);
	ck_assert_str_eq(row_name(m.route), "GET " FILE_P); /* just the hash */
	ck_assert_str_eq(m.hash, H_LOW);
}
END_TEST

START_TEST(test_hash_checked_before_method)
{
	struct route_match	 m;

	/* A malformed hash is 400 even for a method the path never takes. */
	match("POST", BASE "/nothex", &m);
	ck_assert_int_eq(m.status, 400);
	match("PATCH", BASE "/nothex/content", &m);
	ck_assert_int_eq(m.status, 400);
}
END_TEST

/* --- not found --- */

START_TEST(test_not_found)
{
	struct route_match	 m;
	size_t			 i;

	for (i = 0; i < NMETHODS; i++) {
		match(methods[i], not_found[_i], &m);
		ck_assert_msg(m.route == NULL && m.status == 404,
		    "%s \"%s\": route %s status %d, want 404", methods[i],
		    not_found[_i], row_name(m.route), m.status);
		ck_assert_str_eq(m.allow, "");
	}
}
END_TEST

START_TEST(test_not_found_before_method)
{
	struct route_match	 m;

	match("PATCH", "/service/fileuploadX", &m);
	ck_assert_int_eq(m.status, 404);
	match("OPTIONS", BASE "/" H_LOW "/meta", &m);
	ck_assert_int_eq(m.status, 404);
}
END_TEST

/* --- location, names --- */

START_TEST(test_location)
{
	char	 out[ROUTER_LOCATION_MAX];
	struct route_match m;

	memset(out, 'x', sizeof(out));
	route_location(H_LOW, out);
	ck_assert_str_eq(out, BASE "/" H_LOW);
	/* Exactly fits: base, slash, 64 digits, NUL. */
	ck_assert_uint_eq(strlen(out) + 1, ROUTER_LOCATION_MAX);
	/* And the Location routes back to the file. */
	match("GET", out, &m);
	ck_assert_str_eq(row_name(m.route), "GET " FILE_P);
	ck_assert_str_eq(m.hash, H_LOW);
}
END_TEST

START_TEST(test_location_no_overflow)
{
	char	 buf[ROUTER_LOCATION_MAX + 8];

	/* A longer input is cut to ROUTER_LOCATION_MAX, never past it. */
	memset(buf, '#', sizeof(buf));
	route_location(H_LOW "ffff", buf);
	ck_assert_uint_eq(strlen(buf), ROUTER_LOCATION_MAX - 1);
	ck_assert_int_eq(buf[ROUTER_LOCATION_MAX], '#');
}
END_TEST

/* --- the contract: conf/openapi.yaml has exactly the table's routes --- */

struct op {
	char	 path[128];
	char	 method[8];	/* upper case */
};
#define OPS_MAX	64

/* The operations of the YAML's paths: section, read line by line. */
static size_t
openapi_ops(struct op *ops)
{
	static const char *const verbs[] = {
		"get", "put", "post", "delete", "options", "head", "patch",
		"trace",
	};
	FILE	*f;
	char	 line[512], path[128] = "";
	int	 in_paths = 0;
	size_t	 n = 0, len, i, j;

	f = fopen(OPENAPI_YAML, "r");
	ck_assert_msg(f != NULL, "cannot open %s", OPENAPI_YAML);
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		len = strlen(line);
		if (len == 0 || line[0] == '#')
			continue;
		if (line[0] != ' ') {
			in_paths = strcmp(line, "paths:") == 0;
			continue;
		}
		if (!in_paths || line[len - 1] != ':')
			continue;
		if (strncmp(line, "  /", 3) == 0) {
			snprintf(path, sizeof(path), "%.*s", (int)(len - 3),
			    line + 2);
			continue;
		}
		if (strncmp(line, "    ", 4) != 0 || line[4] == ' ')
			continue;
		for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
			if (len - 5 != strlen(verbs[i]) ||
			    strncmp(line + 4, verbs[i], len - 5) != 0)
				continue;
			ck_assert_uint_lt(n, OPS_MAX);
			ck_assert_msg(path[0] != '\0', "%s outside a path",
			    line);
			snprintf(ops[n].path, sizeof(ops[n].path), "%s", path);
			for (j = 0; verbs[i][j] != '\0'; j++)
				ops[n].method[j] = verbs[i][j] - 'a' + 'A';
			ops[n].method[j] = '\0';
			n++;
		}
	}
	fclose(f);
	return n;
}

static int
table_has(const char *method, const char *pattern)
{
	size_t	 i;

	for (i = 0; i < handler_nroutes; i++)
		if (strcmp(handler_routes[i].method, method) == 0 &&
		    strcmp(handler_routes[i].pattern, pattern) == 0)
			return 1;
	return 0;
}

START_TEST(test_openapi_matches_table)
{
	struct op	 ops[OPS_MAX];
	size_t		 n, i, j;
	int		 found;

	n = openapi_ops(ops);
	ck_assert_uint_gt(n, 0);
	/* Every operation documented is routed (HEAD goes with GET)... */
	for (i = 0; i < n; i++)
		ck_assert_msg(table_has(ops[i].method, ops[i].path) ||
		    (strcmp(ops[i].method, "HEAD") == 0 &&
		    table_has("GET", ops[i].path)),
		    "openapi.yaml has %s %s; the route table has not",
		    ops[i].method, ops[i].path);
	/* ... and every route is documented, once. */
	for (i = 0; i < handler_nroutes; i++) {
		for (found = 0, j = 0; j < n; j++)
			found += strcmp(ops[j].method,
			    handler_routes[i].method) == 0 &&
			    strcmp(ops[j].path, handler_routes[i].pattern) == 0;
		ck_assert_msg(found == 1, "%s: in openapi.yaml %d times",
		    row_name(&handler_routes[i]), found);
		for (j = 0; j < i; j++)
			ck_assert_msg(strcmp(handler_routes[j].method,
			    handler_routes[i].method) != 0 ||
			    strcmp(handler_routes[j].pattern,
			    handler_routes[i].pattern) != 0,
			    "%s twice in the table",
			    row_name(&handler_routes[i]));
	}
}
END_TEST

/* X-HTTP-Method-Override: on a POST to an upload, and only these three. */
START_TEST(test_method_override)
{
	const char	*up = ROUTER_UPLOADS "/abcdefghijklmnopqrstuv";

	ck_assert_str_eq(route_method("POST", up, "PATCH"), "PATCH");
	ck_assert_str_eq(route_method("POST", up, "DELETE"), "DELETE");
	ck_assert_str_eq(route_method("POST", up, "HEAD"), "HEAD");
	ck_assert_str_eq(route_method("POST", up, NULL), "POST");
	ck_assert_str_eq(route_method("POST", up, "GET"), "POST");
	ck_assert_str_eq(route_method("POST", up, "patch"), "POST");
	ck_assert_str_eq(route_method("PUT", up, "PATCH"), "PUT");
	/* Not an upload: the collection, a file, another path. */
	ck_assert_str_eq(route_method("POST", ROUTER_UPLOADS, "PATCH"),
	    "POST");
	ck_assert_str_eq(route_method("POST", ROUTER_BASE, "DELETE"), "POST");
	ck_assert_str_eq(route_method("POST", ROUTER_UPLOADS "x/y", "PATCH"),
	    "POST");
	ck_assert_ptr_null(route_method(NULL, up, "PATCH"));
	ck_assert_str_eq(route_method("POST", NULL, "PATCH"), "POST");
}
END_TEST

static Suite *
router_suite(void)
{
	Suite	*s = suite_create("router");
	TCase	*tc;

	tc = tcase_create("routes");
	tcase_add_loop_test(tc, test_routes, 0,
	    sizeof(path_cases) / sizeof(path_cases[0]));
	tcase_add_test(tc, test_head_is_get);
	tcase_add_test(tc, test_unknown_methods);
	tcase_add_test(tc, test_null_args);
	tcase_add_test(tc, test_access);
	tcase_add_test(tc, test_openapi_matches_table);
	tcase_add_test(tc, test_upload_routes);
	tcase_add_test(tc, test_upload_bad_ids);
	tcase_add_test(tc, test_method_override);
	suite_add_tcase(s, tc);

	tc = tcase_create("hash");
	tcase_add_test(tc, test_hash_lowercased);
	tcase_add_test(tc, test_hash_no_hash_routes);
	tcase_add_loop_test(tc, test_hash_bad, 0,
	    sizeof(bad_hash) / sizeof(bad_hash[0]));
	tcase_add_test(tc, test_hash_lengths);
	tcase_add_test(tc, test_hash_every_bad_byte);
	tcase_add_test(tc, test_hash_embedded_nul);
	tcase_add_test(tc, test_hash_checked_before_method);
	suite_add_tcase(s, tc);

	tc = tcase_create("not_found");
	tcase_add_loop_test(tc, test_not_found, 0,
	    sizeof(not_found) / sizeof(not_found[0]));
	tcase_add_test(tc, test_not_found_before_method);
	suite_add_tcase(s, tc);

	tc = tcase_create("location");
	tcase_add_test(tc, test_location);
	tcase_add_test(tc, test_location_no_overflow);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(router_suite)
