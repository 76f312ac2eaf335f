#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

TCase *
test_tcase(const char *name, void (*setup)(void), void (*teardown)(void),
    unsigned timeout)
{
	TCase	*tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	if (timeout > 0)
		tcase_set_timeout(tc, timeout);
	return tc;
}

char *
test_mkdtemp(void)
{
	const char	*base = getenv("TMPDIR");
	char		*path;

	if (base == NULL || *base == '\0')
		base = "/tmp";
	if (asprintf(&path, "%s/fileupload-test.XXXXXX", base) == -1)
		abort();
	if (mkdtemp(path) == NULL)
		abort();
	return path;
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void
test_rmtree(const char *dir)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int
test_count_entries(const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static char	*test_base;
char		*test_dir;

static void
base_make(void)
{
	test_base = test_mkdtemp();
}

static void
base_remove(void)
{
	test_rmtree(test_base);
	free(test_base);
	test_base = NULL;
}

TCase *
test_dir_tcase(const char *name, void (*setup)(void), void (*teardown)(void))
{
	TCase	*tc = tcase_create(name);

	tcase_add_unchecked_fixture(tc, base_make, base_remove);
	tcase_add_checked_fixture(tc, setup, teardown);
	return tc;
}

void
test_dir_make(void)
{
	umask(022);
	if (asprintf(&test_dir, "%s/data.XXXXXX", test_base) == -1)
		abort();
	ck_assert_ptr_nonnull(mkdtemp(test_dir));
}

void
test_dir_remove(void)
{
	test_rmtree(test_dir);
	free(test_dir);
	test_dir = NULL;
}

const char *
test_path(const char *rel)
{
	static char	 buf[4096];

	snprintf(buf, sizeof(buf), "%s/%s", test_dir, rel);
	return buf;
}

bool
test_path_exists(const char *rel)
{
	struct stat	 sb;

	return lstat(test_path(rel), &sb) == 0;
}

void
test_age(const char *rel, time_t secs)
{
	struct timespec	 ts[2];

	ts[0].tv_sec = ts[1].tv_sec = time(NULL) - secs;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	ck_assert_int_eq(utimensat(AT_FDCWD, test_path(rel), ts,
	    AT_SYMLINK_NOFOLLOW), 0);
}

struct client_addr
test_client(unsigned i)
{
	struct client_addr c;
	char		 text[32];

	snprintf(text, sizeof(text), "10.%u.%u.%u", (i >> 16) & 255,
	    (i >> 8) & 255, i & 255);
	if (!client_addr_parse(text, &c))
		abort();
	return c;
}
