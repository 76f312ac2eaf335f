/*
 * Unit tests of the events feed's pure parts: its query parameters
 * (query.c) and an event's JSON (jsonio.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonio.h"
#include "query.h"
#include "testutil.h"

#define HASH "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

static void
query_ok(const char *qs, uint64_t after, unsigned limit, unsigned wait)
{
	struct events_query	 q;
	const char		*why = NULL;

	ck_assert_msg(query_events(qs, &q, &why) == 0, "\"%s\": %s", qs, why);
	ck_assert_msg(q.after == after && q.limit == limit && q.wait == wait,
	    "\"%s\": after %llu limit %u wait %u", qs,
	    (unsigned long long)q.after, q.limit, q.wait);
}

static void
query_bad(const char *qs)
{
	struct events_query	 q;
	const char		*why = NULL;

	ck_assert_msg(query_events(qs, &q, &why) == -1, "\"%s\" accepted", qs);
	ck_assert_ptr_nonnull(why);
}

START_TEST(test_query_defaults)
{
	query_ok("", 0, 100, 0);
	query_ok("after=0", 0, 100, 0);
	query_ok("after=17&limit=1&wait=60", 17, 1, 60);
	query_ok("wait=0&limit=1000&after=9223372036854775807",
	    INT64_MAX, 1000, 0);
	query_ok("limit=5", 0, 5, 0);
}
END_TEST

START_TEST(test_query_bad)
{
	query_bad("after=-1");
	query_bad("after=");
	query_bad("after=x");
	query_bad("after=9223372036854775808");
	query_bad("limit=0");
	query_bad("limit=1001");
	query_bad("limit=");
	query_bad("wait=61");
	query_bad("wait=1.5");
	query_bad("wait= 1");
	query_bad("after=1&after=2");
	query_bad("limit=1&limit=1");
	query_bad("order=newest");
	query_bad("after");
	query_bad("&after=1");
	query_bad("After=1");
	query_bad("after=111111111111111111111111111111111111111111111111");
}
END_TEST

START_TEST(test_query_next)
{
	const char	*p = "a=1&bc=&d=x=y", *name, *why = NULL;
	char		 val[8];
	size_t		 n;

	ck_assert_int_eq(query_next(&p, &name, &n, val, sizeof(val), &why), 1);
	ck_assert(query_name_is(name, n, "a"));
	ck_assert_str_eq(val, "1");
	ck_assert_int_eq(query_next(&p, &name, &n, val, sizeof(val), &why), 1);
	ck_assert(query_name_is(name, n, "bc"));
	ck_assert(!query_name_is(name, n, "b"));
	ck_assert_str_eq(val, "");
	ck_assert_int_eq(query_next(&p, &name, &n, val, sizeof(val), &why), 1);
	ck_assert(query_name_is(name, n, "d"));
	ck_assert_str_eq(val, "x=y");
	ck_assert_int_eq(query_next(&p, &name, &n, val, sizeof(val), &why), 0);
	p = "v=12345678";
	ck_assert_int_eq(query_next(&p, &name, &n, val, sizeof(val), &why), -1);
}
END_TEST

START_TEST(test_json_event)
{
	struct json_meta_writer	*w = json_meta_writer_new();
	struct event		 e;
	char			*s, *meta;

	ck_assert_ptr_nonnull(w);
	memset(&e, 0, sizeof(e));
	e.id = 42;
	strcpy(e.type, "file.created");
	strcpy(e.file.hash, HASH);
	strcpy(e.file.name, "a \"b\".txt");
	strcpy(e.file.type, "text/plain");
	e.file.size = 5000000000ULL;
	strcpy(e.file.created_at, "2026-11-28T18:04:05Z");
	strcpy(e.file.updated_at, "2026-11-28T18:04:06Z");
	strcpy(e.file.sha256, HASH);	/* not part of the metadata object */
	strcpy(e.at, "2026-11-28T18:04:07Z");
	e.has_file = true;
	s = json_event(w, &e);
	ck_assert_str_eq(s, "{\"id\":42,\"type\":\"file.created\","
	    "\"file_hash\":\"" HASH "\",\"file\":{\"file_hash\":\"" HASH "\","
	    "\"file_name\":\"a \\\"b\\\".txt\",\"file_type\":\"text/plain\","
	    "\"file_size\":5000000000,\"created_at\":\"2026-11-28T18:04:05Z\","
	    "\"updated_at\":\"2026-11-28T18:04:06Z\"},"
	    "\"at\":\"2026-11-28T18:04:07Z\"}");
	free(s);
	/* The file of an event is what json_meta gives for the same row. */
	meta = json_meta(&e.file);
	s = json_event(w, &e);
	ck_assert_ptr_nonnull(strstr(s, meta));
	free(meta);
	free(s);
	e.has_file = false;
	strcpy(e.type, "file.deleted");
	s = json_event(w, &e);
	ck_assert_str_eq(s, "{\"id\":42,\"type\":\"file.deleted\","
	    "\"file_hash\":\"" HASH "\",\"file\":null,"
	    "\"at\":\"2026-11-28T18:04:07Z\"}");
	free(s);
	json_meta_writer_free(w);
}
END_TEST

static Suite *
events_suite(void)
{
	Suite	*s = suite_create("events");
	TCase	*tc;

	tc = tcase_create("query");
	tcase_add_test(tc, test_query_defaults);
	tcase_add_test(tc, test_query_bad);
	tcase_add_test(tc, test_query_next);
	suite_add_tcase(s, tc);
	tc = tcase_create("json");
	tcase_add_test(tc, test_json_event);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(events_suite)
