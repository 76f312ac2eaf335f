/*
 * Shared by the unit tests: a main that runs one suite, a test case with
 * its fixture and timeout, a temp directory fixture, and clients of the
 * slot table.
 */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "client_slots.h"

/* Defines main() for a test program made of the single suite fn(). */
#define TEST_MAIN(fn)							\
int									\
main(void)								\
{									\
	SRunner	*sr = srunner_create(fn());				\
	int	 failed;						\
									\
	srunner_run_all(sr, CK_NORMAL);					\
	failed = srunner_ntests_failed(sr);				\
	srunner_free(sr);						\
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;		\
}

/*
 * A TCase with a checked fixture (setup and teardown around each test in
 * its child; either may be NULL) and a timeout in seconds (0: Check's).
 */
TCase	*test_tcase(const char *name, void (*setup)(void),
	    void (*teardown)(void), unsigned timeout);

/* Creates a fresh empty directory under TMPDIR (or /tmp); caller frees. */
char	*test_mkdtemp(void);
/* Removes dir and everything in it. */
void	 test_rmtree(const char *dir);
/* Number of entries (but . and ..) in dir, -1 if it cannot be read. */
int	 test_count_entries(const char *dir);

/*
 * A fresh DATA_DIR per test.  test_dir_tcase makes a TCase whose base
 * directory is made once, in the parent (a checked teardown does not run
 * after a failed test, so what it leaves goes with the base), and whose
 * setup and teardown run around each test; setup calls test_dir_make
 * (test_dir: a new directory under the base, umask 022) and teardown
 * test_dir_remove.
 */
extern char	*test_dir;
TCase	*test_dir_tcase(const char *name, void (*setup)(void),
	    void (*teardown)(void));
void	 test_dir_make(void);
void	 test_dir_remove(void);
/* test_dir/rel, in a static buffer. */
const char *test_path(const char *rel);
/* Whether test_dir/rel is there (a dangling link is). */
bool	 test_path_exists(const char *rel);
/* Sets the mtime of test_dir/rel secs seconds in the past. */
void	 test_age(const char *rel, time_t secs);

/*
 * Client number i: the address 10.x.y.z, all distinct below 2^24.  Aborts
 * should the address not parse, which fails a Check test and a plain test
 * program alike.
 */
struct client_addr test_client(unsigned i);

#endif
