/*
 * Unit tests of the resource caps' pure rules: quota.c (unfinished
 * resumable uploads, in all and per token) and reserve.c (the free-space
 * reserve, and the measure of a file system it and /metrics read).
 */
#include <sys/statvfs.h>

#include <stdint.h>

#include "quota.h"
#include "reserve.h"
#include "testutil.h"

#define GiB	(1ULL << 30)

START_TEST(test_quota_uncapped)
{
	const struct quota_limits none = { 0, 0, 0, 0 };
	const struct quota_usage big = { UINT64_MAX, UINT64_MAX };

	ck_assert(!quota_total_capped(&none));
	ck_assert(!quota_token_capped(&none, true));
	ck_assert_int_eq(quota_judge(&none, &big, &big, UINT64_MAX), QUOTA_OK);
}
END_TEST

START_TEST(test_quota_total)
{
	const struct quota_limits l = { 3, 100, 0, 0 };
	struct quota_usage u = { 2, 90 };

	ck_assert(quota_total_capped(&l));
	ck_assert(!quota_token_capped(&l, true));
	/* The third upload fits; its claim up to the cap too. */
	ck_assert_int_eq(quota_judge(&l, &u, NULL, 10), QUOTA_OK);
	ck_assert_int_eq(quota_judge(&l, &u, NULL, 11), QUOTA_BYTES);
	ck_assert_int_eq(quota_judge(&l, &u, NULL, UINT64_MAX), QUOTA_BYTES);
	u.uploads = 3;
	ck_assert_int_eq(quota_judge(&l, &u, NULL, 0), QUOTA_UPLOADS);
	/* Over both: wait (503) rather than "no space". */
	ck_assert_int_eq(quota_judge(&l, &u, NULL, 50), QUOTA_UPLOADS);
	/* Already past a cap lowered since: refused, no wrap-around. */
	u = (struct quota_usage){ 1, 150 };
	ck_assert_int_eq(quota_judge(&l, &u, NULL, 0), QUOTA_BYTES);
}
END_TEST

START_TEST(test_quota_token)
{
	const struct quota_limits l = { 0, 0, 2, 50 };
	struct quota_usage all = { 1000, 1000000 }, own = { 1, 40 };

	ck_assert(!quota_total_capped(&l));
	ck_assert(quota_token_capped(&l, true));
	/* An anonymous writer has no token to count against. */
	ck_assert(!quota_token_capped(&l, false));
	ck_assert_int_eq(quota_judge(&l, &all, NULL, 1000), QUOTA_OK);
	ck_assert_int_eq(quota_judge(&l, &all, &own, 10), QUOTA_OK);
	ck_assert_int_eq(quota_judge(&l, &all, &own, 11), QUOTA_BYTES);
	own.uploads = 2;
	ck_assert_int_eq(quota_judge(&l, &all, &own, 0), QUOTA_UPLOADS);
}
END_TEST

START_TEST(test_reserve_needed)
{
	const struct reserve_rule def = { RESERVE_DEFAULT_BYTES,
	    RESERVE_DEFAULT_PERCENT };
	const struct reserve_rule bytes = { 4096, 0 }, pct = { 0, 10 };
	const struct reserve_rule none = { 0, 0 };

	/* The default: 5 % of a small file system, 1 GiB of a large one. */
	ck_assert_uint_eq(reserve_needed(&def, 10 * GiB), GiB / 2);
	ck_assert_uint_eq(reserve_needed(&def, 20 * GiB), GiB);
	ck_assert_uint_eq(reserve_needed(&def, 1000 * GiB), GiB);
	ck_assert_uint_eq(reserve_needed(&bytes, 1000 * GiB), 4096);
	ck_assert_uint_eq(reserve_needed(&pct, 1000), 100);
	ck_assert_uint_eq(reserve_needed(&pct, 1005), 100);
	/* No overflow on the largest sizes. */
	ck_assert_uint_eq(reserve_needed(&pct, UINT64_MAX), UINT64_MAX / 10);
	ck_assert_uint_eq(reserve_needed(&none, 1000 * GiB), 0);
}
END_TEST

START_TEST(test_reserve_allows)
{
	const struct reserve_rule r = { 1000, 0 }, none = { 0, 0 };

	ck_assert(reserve_allows(&r, 1500, 10000, 0));
	ck_assert(reserve_allows(&r, 1500, 10000, 500));
	ck_assert(!reserve_allows(&r, 1500, 10000, 501));
	ck_assert(!reserve_allows(&r, 999, 10000, 0));
	ck_assert(!reserve_allows(&r, 1500, 10000, UINT64_MAX));
	ck_assert(reserve_allows(&none, 0, 10000, UINT64_MAX));
	/* A directory that cannot be looked at: the write will tell. */
	ck_assert(reserve_room(&r, "/nonexistent/fileupload", 0));
	ck_assert(reserve_room(&none, "/", UINT64_MAX));
	ck_assert(!reserve_room(&(struct reserve_rule){ UINT64_MAX, 0 }, "/",
	    0));
	ck_assert(!reserve_room(&(struct reserve_rule){ 0, 90 }, "/",
	    UINT64_MAX / 2));
}
END_TEST

/* statvfs(3)'s view, as /metrics shows it: a writer's bytes, the size. */
START_TEST(test_reserve_space)
{
	struct statvfs	 before, after;
	uint64_t	 avail, size, lo, hi;

	ck_assert_int_eq(reserve_space("/nonexistent/fileupload", &avail,
	    &size), -1);
	ck_assert_int_eq(statvfs("/", &before), 0);
	ck_assert_int_eq(reserve_space("/", &avail, &size), 0);
	ck_assert_int_eq(statvfs("/", &after), 0);
	ck_assert_uint_eq(size, (uint64_t)before.f_blocks * before.f_frsize);
	/* Others write meanwhile: between the two looks. */
	lo = (uint64_t)before.f_bavail * before.f_frsize;
	hi = (uint64_t)after.f_bavail * after.f_frsize;
	if (lo > hi) {
		uint64_t t = lo;

		lo = hi;
		hi = t;
	}
	ck_assert(avail >= lo && avail <= hi);
}
END_TEST

static Suite *
caps_suite(void)
{
	Suite	*s = suite_create("caps");
	TCase	*tc;

	tc = tcase_create("quota");
	tcase_add_test(tc, test_quota_uncapped);
	tcase_add_test(tc, test_quota_total);
	tcase_add_test(tc, test_quota_token);
	suite_add_tcase(s, tc);
	tc = tcase_create("reserve");
	tcase_add_test(tc, test_reserve_needed);
	tcase_add_test(tc, test_reserve_allows);
	tcase_add_test(tc, test_reserve_space);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(caps_suite)
