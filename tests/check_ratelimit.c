/*
 * Unit tests of the body rules (ratelimit.h) against a fake clock: the
 * stall timeout, the minimum rate over a window, and what does not count
 * (the worker's own time between reads).
 */
#include <stdint.h>

#include "ratelimit.h"
#include "testutil.h"

static uint64_t	 clock_ms;	/* the fake clock */

/* One read: it waits wait_ms for n bytes. */
static enum rate_verdict
read_after(struct ratelimit *rl, uint64_t wait_ms, size_t n)
{
	ratelimit_begin(rl, clock_ms);
	clock_ms += wait_ms;
	return ratelimit_end(rl, clock_ms, n);
}

/* count reads, each waiting wait_ms for n bytes, all passing. */
static void
reads_ok(struct ratelimit *rl, int count, uint64_t wait_ms, size_t n)
{
	int	 i;

	for (i = 0; i < count; i++)
		ck_assert_msg(read_after(rl, wait_ms, n) == RATE_OK,
		    "read %d of %d (%llu ms, %zu bytes) refused", i + 1, count,
		    (unsigned long long)wait_ms, n);
}

static void
start(struct ratelimit *rl, uint64_t rate, uint64_t window_s,
    uint64_t stall_s)
{
	const struct rate_rules rules = { rate, window_s * 1000,
	    stall_s * 1000 };

	clock_ms = 1000000;
	ratelimit_init(rl, &rules);
}

START_TEST(test_fast_body_ok)
{
	struct ratelimit rl;

	start(&rl, 1024, 30, 60);
	reads_ok(&rl, 100000, 0, 65536);
	reads_ok(&rl, 100000, 2, 65536);
}
END_TEST

START_TEST(test_stall)
{
	struct ratelimit rl;

	start(&rl, 0, 30, 10);
	ck_assert_int_eq(read_after(&rl, 10000, 1), RATE_OK);	/* exactly */
	ck_assert_int_eq(read_after(&rl, 10001, 1), RATE_STALLED);
}
END_TEST

START_TEST(test_stall_after_fast_start)
{
	struct ratelimit rl;

	start(&rl, 1024, 30, 10);
	ck_assert_int_eq(read_after(&rl, 1, 1 << 20), RATE_OK);
	ck_assert_int_eq(read_after(&rl, 20000, 0), RATE_STALLED);
}
END_TEST

/* 64 kbit/s is 8000 bytes/s: a piece of 1000 bytes every 125 ms. */
START_TEST(test_64kbit_client_ok)
{
	struct ratelimit rl;

	start(&rl, 1024, 30, 60);
	reads_ok(&rl, 8 * 600, 125, 1000);	/* ten minutes */
}
END_TEST

/* One byte a second never stalls, and is cut when the window is full. */
START_TEST(test_trickle_cut_at_window)
{
	struct ratelimit rl;

	start(&rl, 1024, 30, 60);
	reads_ok(&rl, 29, 1000, 1);
	ck_assert_int_eq(read_after(&rl, 1000, 1), RATE_TOO_SLOW);
}
END_TEST

/* The boundary: exactly the minimum over the window passes. */
START_TEST(test_exact_minimum)
{
	struct ratelimit rl;

	start(&rl, 1000, 10, 60);
	reads_ok(&rl, 100, 1000, 1000);
	start(&rl, 1000, 10, 60);
	reads_ok(&rl, 9, 1000, 1000);
	ck_assert_int_eq(read_after(&rl, 1000, 999), RATE_TOO_SLOW);
}
END_TEST

/* Each window is judged by itself: a fast one does not pay for a slow one. */
START_TEST(test_windows_separate)
{
	struct ratelimit rl;

	start(&rl, 1024, 10, 60);
	reads_ok(&rl, 1, 10000, 100 << 20);
	reads_ok(&rl, 9, 1000, 10);
	ck_assert_int_eq(read_after(&rl, 1000, 10), RATE_TOO_SLOW);
}
END_TEST

/*
 * Bursts: a client sending the minimum's worth at once, then idle (below
 * the stall timeout), averages above the minimum and passes.
 */
START_TEST(test_bursts_ok)
{
	struct ratelimit rl;
	int		 i;

	start(&rl, 1024, 30, 60);
	for (i = 0; i < 50; i++) {
		reads_ok(&rl, 1, 29000, 30 * 1024);
		reads_ok(&rl, 1, 1, 1024);
	}
}
END_TEST

/* Time the worker spends between reads (disk, database) is not the client's. */
START_TEST(test_worker_time_not_counted)
{
	struct ratelimit rl;

	/* By the wall clock: 2.5 MB in an hour, 680 bytes/s. */
	start(&rl, 1024, 2, 5);
	reads_ok(&rl, 1, 10, 8192);
	clock_ms += 3600000;	/* an hour of fsync between two reads */
	reads_ok(&rl, 300, 10, 8192);
}
END_TEST

/* No minimum: only the stall rule. */
START_TEST(test_no_minimum)
{
	struct ratelimit rl;

	start(&rl, 0, 1, 60);
	reads_ok(&rl, 1000, 59000, 1);
}
END_TEST

/* A clock that seems to go back (it cannot: monotonic) waits nothing. */
START_TEST(test_no_negative_wait)
{
	struct ratelimit rl;

	start(&rl, 1024, 1, 1);
	ratelimit_begin(&rl, clock_ms);
	ck_assert_int_eq(ratelimit_end(&rl, clock_ms - 5000, 10), RATE_OK);
}
END_TEST

/* The largest settings do not overflow. */
START_TEST(test_largest_settings)
{
	struct ratelimit rl;

	start(&rl, 1ULL << 30, 86400, 86400);
	ck_assert_int_eq(read_after(&rl, 86400000, 1ULL << 47), RATE_OK);
	ck_assert_int_eq(read_after(&rl, 86400000, 1), RATE_TOO_SLOW);
}
END_TEST

static Suite *
ratelimit_suite(void)
{
	Suite	*s = suite_create("ratelimit");
	TCase	*tc = tcase_create("rules");

	tcase_add_test(tc, test_fast_body_ok);
	tcase_add_test(tc, test_stall);
	tcase_add_test(tc, test_stall_after_fast_start);
	tcase_add_test(tc, test_64kbit_client_ok);
	tcase_add_test(tc, test_trickle_cut_at_window);
	tcase_add_test(tc, test_exact_minimum);
	tcase_add_test(tc, test_windows_separate);
	tcase_add_test(tc, test_bursts_ok);
	tcase_add_test(tc, test_worker_time_not_counted);
	tcase_add_test(tc, test_no_minimum);
	tcase_add_test(tc, test_no_negative_wait);
	tcase_add_test(tc, test_largest_settings);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(ratelimit_suite)
