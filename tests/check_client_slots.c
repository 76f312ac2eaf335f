/*
 * Unit tests of the table of upload slots each client holds: addresses
 * keyed as clients, the limit over every holder, backward-shift deletion
 * against a model, a full table, dead holders forgotten, the limit exact
 * across processes (a holder killed inside the lock: client_slots_deaths.c).
 *
 * The table lives in anonymous shared memory, as in the pool's region, so
 * that forked children use the very same table.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client_slots.h"
#include "procid.h"
#include "testutil.h"

static struct client_slots *table;

static void
setup(void)
{
	void	*mem;

	mem = mmap(NULL, client_slots_size(), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert(mem != MAP_FAILED);
	ck_assert_int_eq(client_slots_init(mem), 0);
	table = mem;
}

static void
teardown(void)
{
	munmap(table, client_slots_size());
	table = NULL;
}

static bool
same(const char *a, const char *b)
{
	struct client_addr ca, cb;

	ck_assert(client_addr_parse(a, &ca));
	ck_assert(client_addr_parse(b, &cb));
	return memcmp(&ca, &cb, sizeof(ca)) == 0;
}

START_TEST(test_addr_parse)
{
	struct client_addr c;

	ck_assert(same("192.0.2.7", "::ffff:192.0.2.7"));
	ck_assert(!same("192.0.2.7", "192.0.2.8"));
	ck_assert(!same("127.0.0.1", "127.0.0.2"));
	/* An IPv6 client is its /64. */
	ck_assert(same("2001:db8:1:2::1", "2001:db8:1:2:ffff:1:2:3"));
	ck_assert(!same("2001:db8:1:2::1", "2001:db8:1:3::1"));
	ck_assert(!same("::ffff:192.0.2.7", "::ffff:192.0.2.8"));
	ck_assert(!client_addr_parse(NULL, &c));
	ck_assert(!client_addr_parse("", &c));
	ck_assert(!client_addr_parse("unix:", &c));
	ck_assert(!client_addr_parse("192.0.2.300", &c));
	ck_assert(!client_addr_parse("192.0.2.7 ", &c));
}
END_TEST

/* The limit holds over every holder of a client, not per holder. */
START_TEST(test_limit_over_holders)
{
	struct client_addr a = test_client(1), b = test_client(2);
	int	 i;

	for (i = 0; i < 3; i++)
		ck_assert_int_eq(client_slots_take(table, &a, 11, 5),
		    CLIENT_SLOTS_TAKEN);
	for (i = 0; i < 2; i++)
		ck_assert_int_eq(client_slots_take(table, &a, 22, 5),
		    CLIENT_SLOTS_TAKEN);
	ck_assert_int_eq(client_slots_take(table, &a, 11, 5), CLIENT_SLOTS_OVER);
	ck_assert_int_eq(client_slots_take(table, &a, 33, 5), CLIENT_SLOTS_OVER);
	ck_assert_uint_eq(client_slots_held(table, &a), 5);
	/* Another client is not held back. */
	ck_assert_int_eq(client_slots_take(table, &b, 11, 5), CLIENT_SLOTS_TAKEN);
	ck_assert_uint_eq(client_slots_held(table, &b), 1);
	client_slots_give(table, &a, 22);
	ck_assert_uint_eq(client_slots_held(table, &a), 4);
	ck_assert_int_eq(client_slots_take(table, &a, 33, 5), CLIENT_SLOTS_TAKEN);
	/* A slot never taken by that holder is not given back. */
	client_slots_give(table, &a, 44);
	ck_assert_uint_eq(client_slots_held(table, &a), 5);
	ck_assert_int_eq(client_slots_take(table, &a, 1, 0), CLIENT_SLOTS_OVER);
	ck_assert_int_eq(client_slots_take(table, &a, 0, 9), CLIENT_SLOTS_FULL);
}
END_TEST

/*
 * Random takes and gives of many clients and three holders, against a
 * plain array: runs grow, merge and shrink; every count stays right.
 */
START_TEST(test_against_model)
{
	enum { CLIENTS = 6000, HOLDERS = 3, OPS = 100000, LIMIT = 4 };
	static unsigned	 model[CLIENTS][HOLDERS];
	struct client_addr c;
	uint32_t	 x = 12345;
	unsigned	 i, n, h, sum, k;
	int		 rc;

	/*
	 * Mismatches are counted and asserted once: a passing ck_assert is
	 * a message to Check's runner, and this makes hundreds of thousands.
	 */
	unsigned	 wrong = 0;

	memset(model, 0, sizeof(model));
	for (i = 0; i < OPS; i++) {
		x = x * 1103515245 + 12345;
		n = (x >> 8) % CLIENTS;
		h = (x >> 4) % HOLDERS;
		c = test_client(n);
		for (sum = 0, k = 0; k < HOLDERS; k++)
			sum += model[n][k];
		if ((x >> 30) & 1) {
			rc = client_slots_take(table, &c, h + 1, LIMIT);
			wrong += rc != (sum < LIMIT ? CLIENT_SLOTS_TAKEN :
			    CLIENT_SLOTS_OVER);
			if (rc == CLIENT_SLOTS_TAKEN)
				model[n][h]++;
		} else if (model[n][h] > 0) {
			client_slots_give(table, &c, h + 1);
			model[n][h]--;
		}
	}
	ck_assert_uint_eq(wrong, 0);
	for (n = 0; n < CLIENTS; n++) {
		c = test_client(n);
		for (sum = 0, k = 0; k < HOLDERS; k++)
			sum += model[n][k];
		wrong += client_slots_held(table, &c) != sum;
		for (k = 0; k < HOLDERS; k++)
			for (; model[n][k] > 0; model[n][k]--)
				client_slots_give(table, &c, k + 1);
	}
	ck_assert_uint_eq(wrong, 0);
	for (n = 0; n < CLIENTS; n++) {
		c = test_client(n);
		wrong += client_slots_held(table, &c) != 0;
	}
	ck_assert_uint_eq(wrong, 0);
}
END_TEST

/* Three-quarters full, a new pair is refused; a known pair still counts. */
START_TEST(test_full)
{
	struct client_addr c;
	unsigned	 i, room = CLIENT_SLOTS_ENTRIES / 4 * 3;

	for (i = 0; i < room; i++) {
		c = test_client(i);
		ck_assert_int_eq(client_slots_take(table, &c, 7, 2),
		    CLIENT_SLOTS_TAKEN);
	}
	c = test_client(room);
	ck_assert_int_eq(client_slots_take(table, &c, 7, 2), CLIENT_SLOTS_FULL);
	c = test_client(0);
	ck_assert_int_eq(client_slots_take(table, &c, 7, 2), CLIENT_SLOTS_TAKEN);
	client_slots_give(table, &c, 7);
	client_slots_give(table, &c, 7);
	c = test_client(room);
	ck_assert_int_eq(client_slots_take(table, &c, 7, 2), CLIENT_SLOTS_TAKEN);
}
END_TEST

/* A child that waits to be killed; its identity in *id. */
static pid_t
sleeper(uint64_t *id)
{
	pid_t	 pid;

	if ((pid = fork()) == 0) {
		for (;;)
			pause();
	}
	ck_assert(pid > 0);
	*id = procid_of(pid);
	ck_assert(procid_alive(*id));
	return pid;
}

static void
reap(pid_t pid)
{
	int	 status;

	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
}

/* What a dead process held is forgotten; a live one's stays. */
START_TEST(test_forget_dead)
{
	struct client_addr c;
	uint64_t	 me = procid_of(getpid()), dead;
	unsigned	 i;
	pid_t		 pid;

	pid = sleeper(&dead);
	for (i = 0; i < 500; i++) {
		c = test_client(i);
		ck_assert_int_eq(client_slots_take(table, &c, dead, 3),
		    CLIENT_SLOTS_TAKEN);
		if (i % 2 == 0)
			ck_assert_int_eq(client_slots_take(table, &c, me, 3),
			    CLIENT_SLOTS_TAKEN);
	}
	ck_assert_uint_eq(client_slots_forget(table), 0);
	reap(pid);
	ck_assert(!procid_alive(dead));
	ck_assert_uint_eq(client_slots_forget(table), 500);
	for (i = 0; i < 500; i++) {
		c = test_client(i);
		ck_assert_uint_eq(client_slots_held(table, &c), i % 2 == 0);
	}
}
END_TEST

/*
 * Eight processes race for one client's slots: exactly the limit are
 * taken, however they interleave.
 */
START_TEST(test_limit_across_processes)
{
	enum { KIDS = 8, TRIES = 200, LIMIT = 37 };
	struct client_addr c = test_client(99);
	int	 fds[2], i, status, taken, total = 0;
	pid_t	 pids[KIDS];

	ck_assert(pipe(fds) == 0);
	for (i = 0; i < KIDS; i++) {
		if ((pids[i] = fork()) == 0) {
			uint64_t me = procid_of(getpid());

			close(fds[0]);
			for (taken = 0; taken < TRIES; taken++)
				if (client_slots_take(table, &c, me, LIMIT) !=
				    CLIENT_SLOTS_TAKEN)
					break;
			if (write(fds[1], &taken, sizeof(taken)) !=
			    sizeof(taken))
				_exit(1);
			/* Hold them until the parent has counted. */
			for (;;)
				pause();
		}
		ck_assert(pids[i] > 0);
	}
	close(fds[1]);
	for (i = 0; i < KIDS; i++) {
		ck_assert_int_eq(read(fds[0], &taken, sizeof(taken)),
		    sizeof(taken));
		total += taken;
	}
	close(fds[0]);
	ck_assert_int_eq(total, LIMIT);
	ck_assert_uint_eq(client_slots_held(table, &c), LIMIT);
	for (i = 0; i < KIDS; i++) {
		kill(pids[i], SIGKILL);
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
	}
	/* One entry per child that took any. */
	ck_assert_uint_ge(client_slots_forget(table), 1);
	ck_assert_uint_eq(client_slots_held(table, &c), 0);
}
END_TEST

static Suite *
client_slots_suite(void)
{
	Suite	*s = suite_create("client_slots");
	TCase	*tc;

	tc = test_tcase("table", setup, teardown, 60);
	tcase_add_test(tc, test_addr_parse);
	tcase_add_test(tc, test_limit_over_holders);
	tcase_add_test(tc, test_against_model);
	tcase_add_test(tc, test_full);
	suite_add_tcase(s, tc);

	tc = test_tcase("processes", setup, teardown, 60);
	tcase_add_test(tc, test_forget_dead);
	tcase_add_test(tc, test_limit_across_processes);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(client_slots_suite)
