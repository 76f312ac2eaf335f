/*
 * Unit tests of relay.c: jobs run on the companion thread, one at a time,
 * their results come back, and the pool lends at most its maximum.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "relay.h"
#include "testutil.h"

struct counter {
	atomic_int	 running;	/* jobs running at once, now */
	atomic_int	 most;		/* ... at most */
	atomic_int	 done;
	pthread_t	 owner;
	atomic_bool	 elsewhere;	/* every job ran off the owner thread */
};

static int
count_job(void *arg)
{
	struct counter	*c = arg;
	int		 now = atomic_fetch_add(&c->running, 1) + 1;

	if (now > atomic_load(&c->most))
		atomic_store(&c->most, now);
	if (pthread_equal(pthread_self(), c->owner))
		atomic_store(&c->elsewhere, false);
	usleep(2000);
	atomic_fetch_sub(&c->running, 1);
	return atomic_fetch_add(&c->done, 1) + 1;
}

START_TEST(test_runs_and_returns)
{
	struct relay_pool *p = relay_pool_new(1);
	struct relay	*r;
	struct counter	 c = { .owner = pthread_self(), .elsewhere = true };
	int		 i;

	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(r = relay_take(p));
	ck_assert_int_eq(relay_wait(r), 0);	/* nothing started */
	for (i = 1; i <= 20; i++) {
		relay_run(r, count_job, &c);
		ck_assert_int_eq(relay_wait(r), i);
	}
	ck_assert_int_eq(relay_wait(r), 0);	/* the result is taken once */
	ck_assert_int_eq(atomic_load(&c.most), 1);
	ck_assert(atomic_load(&c.elsewhere));
	relay_give(p, r);
	relay_pool_free(p);
}
END_TEST

START_TEST(test_pool_bound)
{
	struct relay_pool *p = relay_pool_new(2);
	struct relay	*a, *b, *again;

	ck_assert_ptr_nonnull(a = relay_take(p));
	ck_assert_ptr_nonnull(b = relay_take(p));
	ck_assert_ptr_ne(a, b);
	ck_assert_ptr_null(relay_take(p));
	relay_give(p, a);
	/* The thread given back is lent again, not a new one. */
	ck_assert_ptr_eq(again = relay_take(p), a);
	relay_give(p, again);
	relay_give(p, b);
	relay_give(p, NULL);
	relay_pool_free(p);

	p = relay_pool_new(0);
	ck_assert_ptr_null(relay_take(p));
	relay_pool_free(p);
}
END_TEST

START_TEST(test_give_waits)
{
	struct relay_pool *p = relay_pool_new(1);
	struct relay	*r = relay_take(p);
	struct counter	 c = { .owner = pthread_self(), .elsewhere = true };

	relay_run(r, count_job, &c);
	relay_give(p, r);	/* the job ends before the relay is free */
	ck_assert_int_eq(atomic_load(&c.done), 1);
	ck_assert_int_eq(atomic_load(&c.running), 0);
	/* Freeing a pool whose relay ran a job leaves nothing behind. */
	relay_run(r = relay_take(p), count_job, &c);
	relay_give(p, r);
	relay_pool_free(p);
	ck_assert_int_eq(atomic_load(&c.done), 2);
}
END_TEST

static Suite *
relay_suite(void)
{
	Suite	*s = suite_create("relay");
	TCase	*tc;

	tc = tcase_create("relay");
	tcase_add_test(tc, test_runs_and_returns);
	tcase_add_test(tc, test_pool_bound);
	tcase_add_test(tc, test_give_waits);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(relay_suite)
