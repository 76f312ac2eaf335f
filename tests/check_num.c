/*
 * Unit tests of num.c: the strict decimal parser.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "num.h"
#include "testutil.h"

static void
u64_ok(const char *s, uint64_t min, uint64_t max, uint64_t want)
{
	uint64_t	 out = 12345;

	ck_assert_msg(parse_u64(s, min, max, &out) == 0, "\"%s\" refused", s);
	ck_assert_msg(out == want, "\"%s\": %llu", s, (unsigned long long)out);
}

static void
u64_bad(const char *s, uint64_t min, uint64_t max)
{
	uint64_t	 out = 12345;

	ck_assert_msg(parse_u64(s, min, max, &out) == -1, "\"%s\" accepted",
	    s ? s : "(null)");
	ck_assert_uint_eq(out, 12345);	/* untouched */
}

START_TEST(test_u64_ok)
{
	u64_ok("0", 0, 10, 0);
	u64_ok("10", 0, 10, 10);
	u64_ok("7", 7, 7, 7);
	u64_ok("007", 0, 10, 7);
	u64_ok("18446744073709551615", 0, UINT64_MAX, UINT64_MAX);
	u64_ok("9223372036854775807", 1, INT64_MAX, INT64_MAX);
	u64_ok("4294967296", 0, UINT64_MAX, 4294967296ULL);
}
END_TEST

START_TEST(test_u64_range)
{
	u64_bad("11", 0, 10);
	u64_bad("0", 1, 10);
	u64_bad("6", 7, 7);
	u64_bad("8", 7, 7);
	u64_bad("18446744073709551616", 0, UINT64_MAX);
	u64_bad("99999999999999999999", 0, UINT64_MAX);
	u64_bad("9223372036854775808", 0, INT64_MAX);
}
END_TEST

START_TEST(test_u64_syntax)
{
	static const char *const bad[] = {
		"", " ", " 1", "1 ", "\t1", "1\n", "+1", "-1", "-0",
		"1a", "a1", "0x1", "1e2", "1.0", "1,000", "1_000",
		"\xef\xbc\x91",		/* FULLWIDTH DIGIT ONE */
	};
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		u64_bad(bad[i], 0, UINT64_MAX);
	u64_bad(NULL, 0, UINT64_MAX);
}
END_TEST

START_TEST(test_u64_errno_reset)
{
	uint64_t	 out;

	/* A stale errno from before must not fail a good number. */
	errno = ERANGE;
	ck_assert_int_eq(parse_u64("42", 0, 100, &out), 0);
	ck_assert_uint_eq(out, 42);
}
END_TEST

static Suite *
num_suite(void)
{
	Suite	*s = suite_create("num");
	TCase	*tc;

	tc = tcase_create("parse_u64");
	tcase_add_test(tc, test_u64_ok);
	tcase_add_test(tc, test_u64_range);
	tcase_add_test(tc, test_u64_syntax);
	tcase_add_test(tc, test_u64_errno_reset);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(num_suite)
