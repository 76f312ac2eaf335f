/*
 * Unit tests of the SigV4 signer against AWS's published examples (the
 * SigV4 test suite's get-vanilla cases and the S3 developer guide's
 * examples), and of the S3 client's pure helpers: settings, key paths,
 * XML answers.  tests/sigv4_botocore.py compares the signer with botocore
 * on many more requests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "config.h"
#include "s3.h"
#include "sigv4.h"
#include "testutil.h"

#define EMPTY_SHA	\
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static const struct sigv4_creds suite = { "AKIDEXAMPLE",
    "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "us-east-1", "service", NULL };
static const struct sigv4_creds s3doc = { "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1", "s3", NULL };
/* The same keys as temporary credentials (botocore signed the results). */
#define TOKEN	"AQoDYXdzEJr//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4" \
    "FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/k" \
    "McGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75" \
    "YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz" \
    "+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="
static const struct sigv4_creds s3temp = { "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1", "s3", TOKEN };

/* The Signature= part of an Authorization value. */
static const char *
sig_of(const char *auth)
{
	const char	*p = strstr(auth, "Signature=");

	ck_assert_ptr_nonnull(p);
	return p + 10;
}

START_TEST(test_suite_get_vanilla)
{
	struct sigv4_request r = { .method = "GET", .path = "/",
	    .headers = { { "host", "example.amazonaws.com" },
	    { "x-amz-date", "20150830T123600Z" } }, .nheaders = 2,
	    .payload_hash = EMPTY_SHA, .amz_date = "20150830T123600Z" };
	char	 auth[512];

	ck_assert_int_eq(sigv4_authorization(&suite, &r, auth, sizeof(auth)),
	    0);
	ck_assert_str_eq(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"
	    "20150830/us-east-1/service/aws4_request, SignedHeaders=host;"
	    "x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a"
	    "2260956d9b8aae1d763fbf31");
}
END_TEST

/* Parameters given out of order are sorted before signing. */
START_TEST(test_suite_query_order)
{
	struct sigv4_request r = { .method = "GET", .path = "/",
	    .params = { { "Param2", "value2" }, { "Param1", "value1" } },
	    .nparams = 2, .headers = { { "x-amz-date", "20150830T123600Z" },
	    { "host", "example.amazonaws.com" } }, .nheaders = 2,
	    .payload_hash = EMPTY_SHA, .amz_date = "20150830T123600Z" };
	char	 auth[512], q[256];

	ck_assert_int_eq(sigv4_authorization(&suite, &r, auth, sizeof(auth)),
	    0);
	ck_assert_str_eq(sig_of(auth), "b97d918cfa904a5beff61c982a1b6f458b7"
	    "99221646efd99d3219ec94cdf2500");
	ck_assert_int_eq(sigv4_query(&r, q, sizeof(q)), 0);
	ck_assert_str_eq(q, "Param1=value1&Param2=value2");
}
END_TEST

START_TEST(test_s3_get_object_range)
{
	struct sigv4_request r = { .method = "GET", .path = "/test.txt",
	    .headers = { { "host", "examplebucket.s3.amazonaws.com" },
	    { "range", "bytes=0-9" }, { "x-amz-content-sha256", EMPTY_SHA },
	    { "x-amz-date", "20130524T000000Z" } }, .nheaders = 4,
	    .payload_hash = EMPTY_SHA, .amz_date = "20130524T000000Z" };
	char	 auth[512];

	ck_assert_int_eq(sigv4_authorization(&s3doc, &r, auth, sizeof(auth)),
	    0);
	ck_assert_str_eq(auth, "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE"
	    "/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;"
	    "x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd"
	    "35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}
END_TEST

/* A payload's hash, a header with surrounding spaces, '$' in the key. */
START_TEST(test_s3_put_object)
{
	static const char body[] = "Welcome to Amazon S3.";
	char	 sha[SIGV4_HEX_LEN + 1], path[64], auth[512];
	struct sigv4_request r = { .method = "PUT", .path = path,
	    .headers = { { "host", "examplebucket.s3.amazonaws.com" },
	    { "date", "Fri, 24 May 2013 00:00:00 GMT" },
	    { "x-amz-content-sha256", sha },
	    { "x-amz-date", "20130524T000000Z" },
	    { "x-amz-storage-class", "  REDUCED_REDUNDANCY " } },
	    .nheaders = 5, .payload_hash = sha,
	    .amz_date = "20130524T000000Z" };

	sigv4_sha256_hex(body, strlen(body), sha);
	ck_assert_str_eq(sha, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e"
	    "42034a8b803f8b072");
	ck_assert_int_eq(sigv4_encode("/test$file.text", 1, path,
	    sizeof(path)), 15 + 2);
	ck_assert_str_eq(path, "/test%24file.text");
	ck_assert_int_eq(sigv4_authorization(&s3doc, &r, auth, sizeof(auth)),
	    0);
	ck_assert_str_eq(sig_of(auth), "98ad721746da40c64f1a55b78f14c238d841e"
	    "a1380cd77a1b5971af0ece108bd");
}
END_TEST

/* The signature of a GET of the example bucket with these parameters. */
static void
check_bucket_get(const struct sigv4_pair *params, size_t n, const char *want)
{
	struct sigv4_request r = { .method = "GET", .path = "/",
	    .headers = { { "host", "examplebucket.s3.amazonaws.com" },
	    { "x-amz-content-sha256", EMPTY_SHA },
	    { "x-amz-date", "20130524T000000Z" } }, .nheaders = 3,
	    .payload_hash = EMPTY_SHA, .amz_date = "20130524T000000Z" };
	char	 auth[512];

	memcpy(r.params, params, n * sizeof(params[0]));
	r.nparams = n;
	ck_assert_int_eq(sigv4_authorization(&s3doc, &r, auth, sizeof(auth)),
	    0);
	ck_assert_str_eq(sig_of(auth), want);
}

START_TEST(test_s3_list_objects)
{
	static const struct sigv4_pair p[] = { { "prefix", "J" },
	    { "max-keys", "2" } };

	check_bucket_get(p, 2, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6"
	    "670ed5711ef69dc6f7");
}
END_TEST

/* A parameter without a value ("?lifecycle") signs as "lifecycle=". */
START_TEST(test_s3_bucket_lifecycle)
{
	static const struct sigv4_pair p[] = { { "lifecycle", "" } };

	check_bucket_get(p, 1, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91"
	    "ac7a200a0136783543");
}
END_TEST

START_TEST(test_s3_presigned)
{
	struct sigv4_request r = { .method = "GET", .path = "/test.txt",
	    .headers = { { "host", "examplebucket.s3.amazonaws.com" } },
	    .nheaders = 1, .payload_hash = SIGV4_UNSIGNED,
	    .amz_date = "20130524T000000Z" };
	char	 q[1024];

	ck_assert_int_eq(sigv4_presign(&s3doc, &r, 86400, q, sizeof(q)), 0);
	ck_assert_str_eq(q, "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="
	    "AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&"
	    "X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&"
	    "X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109"
	    "b86d86835f995330da4c265957d157751f604d404");
	ck_assert_uint_eq(r.nparams, 0);	/* left as it was */
}
END_TEST

/* A session token is signed as the x-amz-security-token header. */
START_TEST(test_session_token_header)
{
	struct sigv4_request r = { .method = "GET", .path = "/test.txt",
	    .headers = { { "host", "examplebucket.s3.amazonaws.com" },
	    { "x-amz-date", "20130524T000000Z" },
	    { "x-amz-content-sha256", EMPTY_SHA },
	    { "x-amz-security-token", TOKEN } }, .nheaders = 4,
	    .payload_hash = EMPTY_SHA, .amz_date = "20130524T000000Z" };
	char	 auth[512];

	ck_assert_int_eq(sigv4_authorization(&s3temp, &r, auth, sizeof(auth)),
	    0);
	ck_assert_ptr_nonnull(strstr(auth, "SignedHeaders=host;"
	    "x-amz-content-sha256;x-amz-date;x-amz-security-token,"));
	ck_assert_str_eq(sig_of(auth), "156590cb409616df574156459248d51cfae6"
	    "d3d88d1e3d4c10e191f460502206");
}
END_TEST

/* ... and as X-Amz-Security-Token in a presigned URL. */
START_TEST(test_session_token_presigned)
{
	struct sigv4_request r = { .method = "GET", .path = "/test.txt",
	    .headers = { { "host", "examplebucket.s3.amazonaws.com" } },
	    .nheaders = 1, .payload_hash = SIGV4_UNSIGNED,
	    .amz_date = "20130524T000000Z" };
	char	 q[2048];

	ck_assert_int_eq(sigv4_presign(&s3temp, &r, 86400, q, sizeof(q)), 0);
	ck_assert_ptr_nonnull(strstr(q, "&X-Amz-Security-Token=AQoDYXdzEJr"
	    "%2F%2F%2F%2F%2F%2F%2F%2F%2F%2FwEXAMPLE"));
	ck_assert_ptr_nonnull(strstr(q, "ICCR%2FoLxBA%3D%3D&X-Amz-"
	    "SignedHeaders=host&"));
	ck_assert_str_eq(strstr(q, "&X-Amz-Signature="), "&X-Amz-Signature="
	    "5417a9d52b37feb38194992266fa8b22491035313dc5b17434ba0d2f2892267d");
	ck_assert_uint_eq(r.nparams, 0);
}
END_TEST

START_TEST(test_encode)
{
	char	 out[64];

	ck_assert_int_eq(sigv4_encode("a b/c~d=e&f+é", 0, out, sizeof(out)),
	    (int)strlen("a%20b%2Fc~d%3De%26f%2B%C3%A9"));
	ck_assert_str_eq(out, "a%20b%2Fc~d%3De%26f%2B%C3%A9");
	ck_assert_int_eq(sigv4_encode("ab/cd/ef", 1, out, sizeof(out)), 8);
	ck_assert_str_eq(out, "ab/cd/ef");
	ck_assert_int_eq(sigv4_encode("abc", 0, out, 3), -1);
	ck_assert_int_eq(sigv4_encode(" ", 0, out, 3), -1);
	ck_assert_int_eq(sigv4_encode(" ", 0, out, 4), 3);
}
END_TEST

/* Too small an output buffer is an error, never a cut signature. */
START_TEST(test_short_buffers)
{
	struct sigv4_request r = { .method = "GET", .path = "/",
	    .headers = { { "host", "h" }, { "x-amz-date", "20150830T123600Z" } },
	    .nheaders = 2, .payload_hash = EMPTY_SHA,
	    .amz_date = "20150830T123600Z" };
	char	 out[64];

	ck_assert_int_eq(sigv4_authorization(&suite, &r, out, sizeof(out)),
	    -1);
	ck_assert_int_eq(sigv4_presign(&suite, &r, 60, out, sizeof(out)), -1);
	r.amz_date = "2015";
	ck_assert_int_eq(sigv4_authorization(&suite, &r, out, sizeof(out)),
	    -1);
}
END_TEST

/* ------------------------------------------------------------ s3 client */

static void
clear_env(void)
{
	static const char *const vars[] = { "S3_ENDPOINT", "S3_BUCKET",
	    "S3_REGION", "S3_PREFIX", "S3_ACCESS_KEY_ID",
	    "S3_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID",
	    "AWS_SECRET_ACCESS_KEY", "S3_ADDRESSING", "S3_PART_SIZE",
	    "S3_SWEEP_GRACE", "S3_CA_FILE" };
	size_t	 i;

	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	setenv("S3_ENDPOINT", "http://127.0.0.1:9000/", 1);
	setenv("S3_BUCKET", "files", 1);
	setenv("AWS_ACCESS_KEY_ID", "AK", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "SK", 1);
}

START_TEST(test_config_defaults)
{
	struct s3_config *c;
	char		 err[256], host[128], path[256];

	clear_env();
	c = config_s3_load(1ULL << 30, err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_str_eq(c->host, "127.0.0.1:9000");
	ck_assert(!c->https);
	ck_assert(c->path_style);	/* an address: no subdomain */
	ck_assert_str_eq(c->region, "us-east-1");
	ck_assert_str_eq(c->prefix, "");
	ck_assert_str_eq(c->access_key, "AK");
	ck_assert_uint_eq(c->part_size, S3_DEFAULT_PART);
	ck_assert_uint_eq(c->sweep_grace, S3_DEFAULT_GRACE);
	ck_assert_ptr_null(c->ca_file);		/* the system's CAs */
	ck_assert_int_eq(s3_host(c, host, sizeof(host)), 0);
	ck_assert_str_eq(host, "127.0.0.1:9000");
	ck_assert_int_eq(s3_path(c, "ab/cd/x y", path, sizeof(path)), 0);
	ck_assert_str_eq(path, "/files/ab/cd/x%20y");
	config_s3_free(c);
}
END_TEST

/* auto: path style where no bucket subdomain can resolve. */
START_TEST(test_config_auto_addressing)
{
	static const struct {
		const char	*endpoint;
		bool		 path;
	} cases[] = {
		{ "http://127.0.0.1:9000", true },
		{ "http://[::1]:9000", true },
		{ "http://localhost:7480", true },
		{ "http://minio:9000", true },		/* a Compose service */
		{ "https://rgw", true },
		{ "https://s3.eu-west-1.amazonaws.com", false },
		{ "http://minio.example:9000", false },
		{ "http://localhost.example", false },
		{ "http://10.0.0.1.example", false },
	};
	struct s3_config *c;
	char		 err[256];
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		clear_env();
		setenv("S3_ENDPOINT", cases[i].endpoint, 1);
		c = config_s3_load(1ULL << 30, err, sizeof(err));
		ck_assert_msg(c != NULL, "%s: %s", cases[i].endpoint, err);
		ck_assert_msg(c->path_style == cases[i].path, "%s: %s style",
		    cases[i].endpoint, c->path_style ? "path" : "virtual");
		config_s3_free(c);
	}
}
END_TEST

START_TEST(test_config_virtual_hosted)
{
	struct s3_config *c;
	char		 err[256], host[128], path[256];

	clear_env();
	setenv("S3_ENDPOINT", "https://s3.eu-west-1.example.com:443", 1);
	setenv("S3_REGION", "eu-west-1", 1);
	setenv("S3_PREFIX", "svc/a", 1);
	setenv("S3_ACCESS_KEY_ID", "MINE", 1);	/* before AWS_* */
	setenv("S3_SECRET_ACCESS_KEY", "MINESECRET", 1);
	c = config_s3_load(1ULL << 30, err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert(c->https);
	ck_assert_str_eq(c->host, "s3.eu-west-1.example.com");
	ck_assert(!c->path_style);
	ck_assert_str_eq(c->prefix, "svc/a/");
	ck_assert_str_eq(c->access_key, "MINE");
	ck_assert_int_eq(s3_host(c, host, sizeof(host)), 0);
	ck_assert_str_eq(host, "files.s3.eu-west-1.example.com");
	ck_assert_int_eq(s3_path(c, "svc/a/ab/cd/h", path, sizeof(path)), 0);
	ck_assert_str_eq(path, "/svc/a/ab/cd/h");
	config_s3_free(c);
	setenv("S3_ADDRESSING", "path", 1);
	setenv("S3_CA_FILE", OPENAPI_YAML, 1);	/* any readable file */
	c = config_s3_load(1ULL << 30, err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert(c->path_style);
	ck_assert_str_eq(c->ca_file, OPENAPI_YAML);
	config_s3_free(c);
}
END_TEST

static void
refused(const char *name, const char *value, const char *want)
{
	struct s3_config *c;
	char		 err[256] = "";

	clear_env();
	if (value != NULL)
		setenv(name, value, 1);
	else
		unsetenv(name);
	c = config_s3_load(10ULL << 30, err, sizeof(err));
	ck_assert_msg(c == NULL, "%s=%s accepted", name, value);
	ck_assert_msg(strstr(err, want) != NULL, "%s=%s: %s", name, value, err);
	ck_assert_ptr_null(strchr(err, '\n'));
}

START_TEST(test_config_refused)
{
	refused("S3_ENDPOINT", NULL, "S3_ENDPOINT is required");
	refused("S3_ENDPOINT", "127.0.0.1:9000", "is not http[s]://host[:port]");
	refused("S3_ENDPOINT", "http://", "is not http");
	refused("S3_ENDPOINT", "http://h:0", "is not http");
	refused("S3_ENDPOINT", "http://h/path", "is not http");
	refused("S3_ENDPOINT", "http://a b", "is not http");
	refused("S3_ENDPOINT", "https://192.0.2.7:7480", "https needs the name");
	refused("S3_ENDPOINT", "https://[2001:db8::7]", "https needs the name");
	refused("S3_BUCKET", NULL, "S3_BUCKET= is not a bucket name");
	refused("S3_BUCKET", "ab", "is not a bucket name");
	refused("S3_BUCKET", "-abc", "is not a bucket name");
	refused("S3_BUCKET", "ABC", "is not a bucket name");
	refused("S3_REGION", "us east", "is not a region");
	refused("S3_PREFIX", "/abs", "is not a key prefix");
	refused("S3_PREFIX", "a/../b", "is not a key prefix");
	refused("S3_PREFIX", "a//b", "is not a key prefix");
	refused("AWS_ACCESS_KEY_ID", NULL, "are required");
	refused("AWS_SECRET_ACCESS_KEY", NULL, "are required");
	refused("S3_ADDRESSING", "both", "is not path, virtual or auto");
	refused("S3_PART_SIZE", "5242879", "is not a byte count");
	refused("S3_PART_SIZE", "5368709121", "is not a byte count");
	refused("S3_SWEEP_GRACE", "0", "is not a number of seconds");
	refused("S3_SWEEP_GRACE", "1h", "is not a number of seconds");
	refused("S3_CA_FILE", "/nonexistent/ca.pem",
	    "S3_CA_FILE=/nonexistent/ca.pem: No such file or directory");
}
END_TEST

START_TEST(test_config_too_many_parts)
{
	char	 err[256];

	clear_env();
	setenv("S3_PART_SIZE", "5242880", 1);
	ck_assert_ptr_null(config_s3_load(100ULL << 30, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "at most 10000 parts"));
}
END_TEST

START_TEST(test_xml)
{
	static const char xml[] = "<R><IsTruncated>true</IsTruncated>"
	    "<Upload><Key>tmp/a&amp;b</Key><UploadId>x&lt;1&#62;</UploadId>"
	    "</Upload><Upload><Key>tmp/c</Key></Upload></R>";
	char	 out[64], elem[128];
	size_t	 pos = 0, p2;

	ck_assert_int_eq(s3_xml_next(xml, "IsTruncated", &pos, out,
	    sizeof(out)), 1);
	ck_assert_str_eq(out, "true");
	ck_assert_int_eq(s3_xml_element(xml, "Upload", &pos, elem,
	    sizeof(elem)), 1);
	p2 = 0;
	ck_assert_int_eq(s3_xml_next(elem, "Key", &p2, out, sizeof(out)), 1);
	ck_assert_str_eq(out, "tmp/a&b");
	ck_assert_int_eq(s3_xml_next(elem, "UploadId", &p2, out, sizeof(out)),
	    1);
	ck_assert_str_eq(out, "x<1>");
	ck_assert_int_eq(s3_xml_element(xml, "Upload", &pos, elem,
	    sizeof(elem)), 1);
	ck_assert_int_eq(s3_xml_element(xml, "Upload", &pos, elem,
	    sizeof(elem)), 0);
	pos = 0;
	ck_assert_int_eq(s3_xml_next(xml, "Key", &pos, out, 4), -1);
	ck_assert_int_eq(s3_parse_time("2026-11-30T07:30:02.000Z"),
	    1796023802);
	ck_assert_int_eq(s3_parse_time("yesterday"), -1);
}
END_TEST

static Suite *
sigv4_suite(void)
{
	Suite	*s = suite_create("sigv4");
	TCase	*tc = tcase_create("aws examples");

	if (sodium_init() == -1)
		abort();
	tcase_add_test(tc, test_suite_get_vanilla);
	tcase_add_test(tc, test_suite_query_order);
	tcase_add_test(tc, test_s3_get_object_range);
	tcase_add_test(tc, test_s3_put_object);
	tcase_add_test(tc, test_s3_list_objects);
	tcase_add_test(tc, test_s3_bucket_lifecycle);
	tcase_add_test(tc, test_s3_presigned);
	tcase_add_test(tc, test_session_token_header);
	tcase_add_test(tc, test_session_token_presigned);
	tcase_add_test(tc, test_encode);
	tcase_add_test(tc, test_short_buffers);
	suite_add_tcase(s, tc);

	tc = tcase_create("s3 client");
	tcase_add_test(tc, test_config_defaults);
	tcase_add_test(tc, test_config_virtual_hosted);
	tcase_add_test(tc, test_config_auto_addressing);
	tcase_add_test(tc, test_config_refused);
	tcase_add_test(tc, test_config_too_many_parts);
	tcase_add_test(tc, test_xml);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(sigv4_suite)
