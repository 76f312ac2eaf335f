/*
 * Unit tests of the router: every (method, path) of API.md, the {file_hash}
 * validation and the 400/404/405 answers with their Allow lists.
 */
#include <stdio.h>
#include <string.h>

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

/*
 * What a path answers to each method of methods[]: a route, or ROUTE_NONE
 * with 405 and allow.
 */
struct path_case {
	const char	*path;
	enum route	 want[NMETHODS];
	const char	*allow;
	const char	*hash;		/* m.hash wanted, or NULL */
};

static const struct path_case path_cases[] = {
	{ "/", { ROUTE_BANNER, ROUTE_BANNER, 0, 0, 0, 0 }, "GET, HEAD", NULL },
	{ BASE, { ROUTE_LIST, ROUTE_LIST, ROUTE_UPLOAD, 0, 0, 0 },
	  "GET, HEAD, POST", NULL },
	{ BASE "/", { ROUTE_LIST, ROUTE_LIST, ROUTE_UPLOAD, 0, 0, 0 },
	  "GET, HEAD, POST", NULL },
	{ BASE "/health", { ROUTE_HEALTH, ROUTE_HEALTH, 0, 0, 0, 0 },
	  "GET, HEAD", NULL },
	{ BASE "/" H_LOW, { ROUTE_GET, ROUTE_GET, 0, ROUTE_UPDATE,
	  ROUTE_DELETE, 0 }, "GET, HEAD, PUT, DELETE", H_LOW },
	{ BASE "/" H_UP, { ROUTE_GET, ROUTE_GET, 0, ROUTE_UPDATE,
	  ROUTE_DELETE, 0 }, "GET, HEAD, PUT, DELETE", H_LOW },
	{ BASE "/" H_MIX, { ROUTE_GET, ROUTE_GET, 0, ROUTE_UPDATE,
	  ROUTE_DELETE, 0 }, "GET, HEAD, PUT, DELETE", H_LOW },
	{ BASE "/" H_LOW "/content", { ROUTE_CONTENT, ROUTE_CONTENT, 0, 0,
	  0, 0 }, "GET, HEAD", H_LOW },
	{ BASE "/" H_UP "/content", { ROUTE_CONTENT, ROUTE_CONTENT, 0, 0,
	  0, 0 }, "GET, HEAD", H_LOW },
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
	route_match(method, path, m);
}

/* --- routes --- */

START_TEST(test_routes)
{
	const struct path_case	*c = &path_cases[_i];
	struct route_match	 m;
	size_t			 i;

	for (i = 0; i < NMETHODS; i++) {
		match(methods[i], c->path, &m);
		if (c->want[i] != ROUTE_NONE) {
			ck_assert_msg(m.route == c->want[i],
			    "%s %s: route %s, want %s", methods[i], c->path,
			    route_name(m.route), route_name(c->want[i]));
			ck_assert_int_eq(m.status, 0);
		} else {
			ck_assert_msg(m.route == ROUTE_NONE &&
			    m.status == 405, "%s %s: route %s status %d, "
			    "want 405", methods[i], c->path,
			    route_name(m.route), m.status);
			ck_assert_ptr_nonnull(m.allow);
			ck_assert_str_eq(m.allow, c->allow);
		}
		if (c->hash != NULL && m.route != ROUTE_NONE)
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
		ck_assert_int_eq(get.route, head.route);
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
			ck_assert_msg(m.route == ROUTE_NONE && m.status == 405,
			    "\"%s\" %s: route %s status %d", other[i],
			    path_cases[j].path, route_name(m.route), m.status);
			ck_assert_str_eq(m.allow, path_cases[j].allow);
		}
}
END_TEST

START_TEST(test_null_args)
{
	struct route_match	 m;

	match(NULL, "/", &m);
	ck_assert_int_eq(m.route, ROUTE_NONE);
	ck_assert_int_eq(m.status, 404);
	ck_assert_ptr_null(m.allow);
	match("GET", NULL, &m);
	ck_assert_int_eq(m.route, ROUTE_NONE);
	ck_assert_int_eq(m.status, 404);
	ck_assert_ptr_null(m.allow);
}
END_TEST

/* --- hash --- */

START_TEST(test_hash_lowercased)
{
	struct route_match	 m;

	match("GET", BASE "/" H_UP, &m);
	ck_assert_int_eq(m.route, ROUTE_GET);
	ck_assert_str_eq(m.hash, H_LOW);
	ck_assert_uint_eq(strlen(m.hash), 64);
	match("DELETE", BASE "/" H_MIX, &m);
	ck_assert_int_eq(m.route, ROUTE_DELETE);
	ck_assert_str_eq(m.hash, H_LOW);
	match("HEAD", BASE "/" H_MIX "/content", &m);
	ck_assert_int_eq(m.route, ROUTE_CONTENT);
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
		ck_assert_msg(m.route == ROUTE_NONE && m.status == 400,
		    "%s %s: route %s status %d, want 400", methods[i],
		    bad_hash[_i], route_name(m.route), m.status);
		ck_assert_ptr_null(m.allow);
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
			ck_assert_msg(m.route == ROUTE_GET, "64 digits: %d",
			    m.status);
		else
			ck_assert_msg(m.route == ROUTE_NONE && m.status == 400,
			    "%zu digits: route %s status %d", n,
			    route_name(m.route), m.status);
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
			ck_assert_msg(m.route == ROUTE_NONE && m.status == 400,
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
	ck_assert_int_eq(m.route, ROUTE_NONE);
	ck_assert_int_eq(m.status, 400);

	snprintf(path, sizeof(path), "%s/%s/content", BASE, H_LOW);
	path[sizeof(BASE) + 64] = '\0';	/* the '/' of "/content" */
	match("GET", path, &m);
	ck_assert_int_eq(m.route, ROUTE_GET);	/* just the hash is left */
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
		ck_assert_msg(m.route == ROUTE_NONE && m.status == 404,
		    "%s \"%s\": route %s status %d, want 404", methods[i],
		    not_found[_i], route_name(m.route), m.status);
		ck_assert_ptr_null(m.allow);
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
	ck_assert_int_eq(m.route, ROUTE_GET);
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

START_TEST(test_writes)
{
	ck_assert(route_writes(ROUTE_UPLOAD));
	ck_assert(route_writes(ROUTE_UPDATE));
	ck_assert(route_writes(ROUTE_DELETE));
	ck_assert(!route_writes(ROUTE_NONE));
	ck_assert(!route_writes(ROUTE_BANNER));
	ck_assert(!route_writes(ROUTE_LIST));
	ck_assert(!route_writes(ROUTE_HEALTH));
	ck_assert(!route_writes(ROUTE_GET));
	ck_assert(!route_writes(ROUTE_CONTENT));
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(route_name(ROUTE_NONE), "none");
	ck_assert_str_eq(route_name(ROUTE_BANNER), "banner");
	ck_assert_str_eq(route_name(ROUTE_LIST), "list");
	ck_assert_str_eq(route_name(ROUTE_UPLOAD), "upload");
	ck_assert_str_eq(route_name(ROUTE_HEALTH), "health");
	ck_assert_str_eq(route_name(ROUTE_GET), "get");
	ck_assert_str_eq(route_name(ROUTE_UPDATE), "update");
	ck_assert_str_eq(route_name(ROUTE_DELETE), "delete");
	ck_assert_str_eq(route_name(ROUTE_CONTENT), "content");
	ck_assert_str_eq(route_name(ROUTE__MAX), "none");
	ck_assert_str_eq(route_name((enum route)1000), "none");
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
	tcase_add_test(tc, test_writes);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(router_suite)
