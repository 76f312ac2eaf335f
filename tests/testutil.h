/*
 * Shared by the unit tests: a main that runs one suite, and a temp
 * directory fixture.
 */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <check.h>
#include <stdlib.h>

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

/* Creates a fresh empty directory under TMPDIR (or /tmp); caller frees. */
char	*test_mkdtemp(void);
/* Removes dir and everything in it. */
void	 test_rmtree(const char *dir);
/* Number of entries (but . and ..) in dir, -1 if it cannot be read. */
int	 test_count_entries(const char *dir);

#endif
