/*
 * Unit tests of the log lines: the text form, the JSON form
 * (FILEUPLOAD_LOG_FORMAT=json) with its members and escaping, and a
 * request's line in both.
 */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json.h>

#include "log.h"
#include "testutil.h"

static int	 out_fd = -1;
static char	 out[16384];

static void
setup(void)
{
	char	 path[] = "/tmp/check_log.XXXXXX";

	out_fd = mkstemp(path);
	ck_assert_int_ge(out_fd, 0);
	unlink(path);
	log_use_fd(out_fd);
	log_set_format(LOG_TEXT);
	log_set_request_id(NULL);
}

static void
teardown(void)
{
	close(out_fd);
	out_fd = -1;
}

/* What was logged since the last call, NUL-terminated in out. */
static const char *
logged(void)
{
	ssize_t	 n;

	n = pread(out_fd, out, sizeof(out) - 1, 0);
	ck_assert_int_ge(n, 0);
	out[n] = '\0';
	ck_assert_int_eq(ftruncate(out_fd, 0), 0);
	ck_assert_int_eq(lseek(out_fd, 0, SEEK_SET), 0);
	return out;
}

static void
assert_matches(const char *s, const char *ere)
{
	regex_t	 re;

	ck_assert_int_eq(regcomp(&re, ere, REG_EXTENDED | REG_NOSUB), 0);
	ck_assert_msg(regexec(&re, s, 0, NULL, 0) == 0, "\"%s\" !~ %s", s, ere);
	regfree(&re);
}

/* The one JSON line logged: parsed, and checked to be one line. */
static json_object *
logged_json(void)
{
	const char	*s = logged();
	json_object	*o;
	size_t		 n = strlen(s);

	ck_assert_uint_gt(n, 0);
	ck_assert_int_eq(s[n - 1], '\n');
	ck_assert_ptr_eq(strchr(s, '\n'), s + n - 1);
	o = json_tokener_parse(s);
	ck_assert_msg(o != NULL, "not JSON: %s", s);
	ck_assert(json_object_is_type(o, json_type_object));
	return o;
}

static const char *
member_str(json_object *o, const char *name)
{
	json_object	*v;

	ck_assert_msg(json_object_object_get_ex(o, name, &v), "no %s", name);
	return v == NULL ? NULL : json_object_get_string(v);
}

static json_object *
member(json_object *o, const char *name)
{
	json_object	*v;

	ck_assert_msg(json_object_object_get_ex(o, name, &v), "no %s", name);
	return v;
}

START_TEST(test_text_line)
{
	char	 ere[128];

	snprintf(ere, sizeof(ere), "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:"
	    "[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z \\[%ld\\] info - hello 5\n$",
	    (long)getpid());
	log_info("hello %d", 5);
	assert_matches(logged(), ere);
	log_set_request_id("rid-1");
	errno = ENOENT;
	log_warn("open %s", "x");
	assert_matches(logged(), " warn rid-1 open x: No such file or "
	    "directory\n$");
}
END_TEST

START_TEST(test_json_line)
{
	json_object	*o;

	log_set_format(LOG_JSON);
	log_info("worker ready (%u threads)", 4u);
	o = logged_json();
	assert_matches(member_str(o, "time"), "^[0-9]{4}-[0-9]{2}-[0-9]{2}T"
	    "[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$");
	ck_assert_str_eq(member_str(o, "level"), "info");
	ck_assert_int_eq(json_object_get_int64(member(o, "pid")), getpid());
	ck_assert_ptr_null(member(o, "request_id"));
	ck_assert_str_eq(member_str(o, "message"), "worker ready (4 threads)");
	ck_assert_ptr_null(json_object_object_get(o, "status"));
	json_object_put(o);

	log_set_request_id("abc-123");
	log_warnx("slow");
	o = logged_json();
	ck_assert_str_eq(member_str(o, "level"), "warn");
	ck_assert_str_eq(member_str(o, "request_id"), "abc-123");
	json_object_put(o);
}
END_TEST

/* Quotes, backslashes, controls and bytes that are not UTF-8 stay JSON. */
START_TEST(test_json_escapes)
{
	json_object	*o;

	log_set_format(LOG_JSON);
	log_set_request_id("id\"with\\odd\x01");
	log_info("a \"b\" \\c\td\x01\x7f e\xc3\xa9 \xff\xc3 f");
	o = logged_json();
	ck_assert_str_eq(member_str(o, "message"),
	    "a \"b\" \\c\td\x01\x7f e\xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd f");
	ck_assert_str_eq(member_str(o, "request_id"), "id\"with\\odd\x01");
	json_object_put(o);
}
END_TEST

/* A message longer than a line holds is cut, and the line is still JSON. */
START_TEST(test_json_long)
{
	json_object	*o;
	char		*big;

	big = malloc(5000);
	ck_assert_ptr_nonnull(big);
	memset(big, '"', 4999);
	big[4999] = '\0';
	log_set_format(LOG_JSON);
	log_info("%s", big);
	o = logged_json();
	ck_assert_uint_gt(strlen(member_str(o, "message")), 1000);
	json_object_put(o);
	log_set_format(LOG_TEXT);
	log_info("%s", big);
	ck_assert_uint_lt(strlen(logged()), 2200);
	free(big);
}
END_TEST

START_TEST(test_request_line)
{
	struct log_request	 r = { "POST", "/service/fileupload", 201,
	    123, 4.56, "93becc6e" };
	json_object		*o;

	log_set_request_id("rid-9");
	log_request(&r);
	assert_matches(logged(), " info rid-9 POST /service/fileupload 201 123 "
	    "4\\.6ms 93becc6e\n$");
	r.hash = "";
	log_request(&r);
	assert_matches(logged(), " 201 123 4\\.6ms -\n$");

	log_set_format(LOG_JSON);
	r.hash = "93becc6e";
	log_request(&r);
	o = logged_json();
	ck_assert_str_eq(member_str(o, "request_id"), "rid-9");
	ck_assert_str_eq(member_str(o, "message"),
	    "POST /service/fileupload 201 123 4.6ms 93becc6e");
	ck_assert_str_eq(member_str(o, "method"), "POST");
	ck_assert_str_eq(member_str(o, "path"), "/service/fileupload");
	ck_assert_int_eq(json_object_get_int(member(o, "status")), 201);
	ck_assert_int_eq(json_object_get_int64(member(o, "bytes")), 123);
	ck_assert(json_object_get_double(member(o, "duration_ms")) > 4.5);
	ck_assert_str_eq(member_str(o, "hash"), "93becc6e");
	json_object_put(o);
	r.hash = NULL;
	log_request(&r);
	o = logged_json();
	ck_assert_ptr_null(member(o, "hash"));
	json_object_put(o);
}
END_TEST

static Suite *
log_suite(void)
{
	Suite	*s = suite_create("log");
	TCase	*tc = tcase_create("lines");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_text_line);
	tcase_add_test(tc, test_json_line);
	tcase_add_test(tc, test_json_escapes);
	tcase_add_test(tc, test_json_long);
	tcase_add_test(tc, test_request_line);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(log_suite)
