/*
 * A holder of client slots killed at random while it takes and gives
 * without pause, so often inside the table's lock: the next caller gets
 * the lock, the table stays whole, and once the dead holder is forgotten
 * every count is right.
 *
 * A plain program, not a Check suite: forking and killing a child round
 * after round inside a Check test now and then garbled Check's own
 * messages ("Bad message type"), with or without the table (a child that
 * only spins does it too).  Exit status 0: every round right.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client_slots.h"
#include "procid.h"
#include "testutil.h"

enum { ROUNDS = 60, CLIENTS = 3000, MINE = 5000 };

static struct client_slots *table;

static void __attribute__((noreturn))
holder(void)
{
	uint64_t	 self = procid_of(getpid());
	struct client_addr c;
	unsigned	 i;

	for (i = 0;; i++) {
		c = test_client(i % CLIENTS);
		if (client_slots_take(table, &c, self, 2) ==
		    CLIENT_SLOTS_TAKEN && i % 3 != 0)
			client_slots_give(table, &c, self);
		c = test_client(MINE);
		(void)client_slots_take(table, &c, self, 10);
		client_slots_give(table, &c, self);
	}
}

static int
failure(unsigned round, const char *what)
{
	fprintf(stderr, "client_slots_deaths: round %u: %s\n", round, what);
	return EXIT_FAILURE;
}

int
main(void)
{
	struct client_addr a = test_client(MINE), c;
	uint64_t	 me = procid_of(getpid());
	unsigned	 i, round, held;
	pid_t		 pid;
	int		 status;

	table = mmap(NULL, client_slots_size(), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (table == MAP_FAILED || client_slots_init(table) != 0)
		return failure(0, "no table");
	for (i = 0; i < 3; i++)
		if (client_slots_take(table, &a, me, 10) != CLIENT_SLOTS_TAKEN)
			return failure(0, "a first take refused");
	for (round = 1; round <= ROUNDS; round++) {
		if ((pid = fork()) == 0)
			holder();
		if (pid == -1)
			return failure(round, "fork failed");
		usleep(1000 + round * 200);
		kill(pid, SIGKILL);
		if (waitpid(pid, &status, 0) != pid)
			return failure(round, "waitpid failed");
		(void)client_slots_forget(table);
		if (client_slots_held(table, &a) != 3)
			return failure(round, "this process's 3 slots changed");
		for (i = 0, held = 0; i < CLIENTS; i++) {
			c = test_client(i);
			held += client_slots_held(table, &c);
		}
		if (held != 0)
			return failure(round, "the dead holder's slots remain");
	}
	printf("client_slots_deaths: %u holders killed, every count right\n",
	    ROUNDS);
	return EXIT_SUCCESS;
}
