/*
 * Unit tests of the content-addressed store, each in a fresh DATA_DIR.
 * The tests run as root, so failures are provoked with files where
 * directories must be, never with permissions.
 */
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hash.h"
#include "store.h"
#include "store_impl.h"
#include "testutil.h"

#define H1	"abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
#define H1_REL	"ab/cd/" H1
#define H2	"ab00000000000000000000000000000000000000000000000000000000000002"
#define H3	"0123456789012345678901234567890123456789012345678901234567890123"

static struct store	*st;
static bool		 named_temp_files;

/* The local backend's settings for DATA_DIR d. */
static const struct store_config *
local_at(const char *d)
{
	static struct store_config cfg;

	cfg = (struct store_config){ .scheme = "local", .data_dir = d,
	    .named_temp_files = named_temp_files };
	return &cfg;
}

/* store_open that must succeed. */
static struct store *
open_store(const char *d)
{
	struct store	*s;
	char		 err[256];

	err[0] = '\0';
	s = store_open(local_at(d), err, sizeof(err));
	ck_assert_msg(s != NULL, "store_open %s: %s", d, err);
	return s;
}

/*
 * Named temp files (tmp/upload-*, locked, swept when abandoned): what a
 * file system without O_TMPFILE gets, and what most tests look at.  The
 * "anonymous" cases test the default where it works.
 */
static void
setup(void)
{
	test_dir_make();
	named_temp_files = true;
	st = open_store(test_dir);
}

static void
setup_anonymous(void)
{
	test_dir_make();
	named_temp_files = false;
	st = open_store(test_dir);
}

static void
teardown(void)
{
	store_close(st);
	st = NULL;
	test_dir_remove();
}

static void
write_file(const char *rel, const char *data)
{
	FILE	*f;

	ck_assert_msg((f = fopen(test_path(rel), "w")) != NULL, "%s: %s", rel,
	    strerror(errno));
	ck_assert_int_eq(fputs(data, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
}

/* The content of DATA_DIR/rel; caller frees.  NULL when it is not there. */
static char *
read_file(const char *rel)
{
	FILE	*f;
	char	*buf;
	size_t	 n;

	if ((f = fopen(test_path(rel), "r")) == NULL)
		return NULL;
	ck_assert_ptr_nonnull(buf = calloc(1, 1 << 16));
	n = fread(buf, 1, (1 << 16) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void
assert_content(const char *rel, const char *want)
{
	char	*got = read_file(rel);

	ck_assert_msg(got != NULL, "%s missing", rel);
	ck_assert_str_eq(got, want);
	free(got);
}

static bool
fd_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

/*
 * fsync as the store sees it (its code is linked into this program, so its
 * calls come here): the system's, unless a test arms a failure, the
 * fsync_fail_at-th call from then failing with EIO.
 */
static int	 fsync_fail_at;

int
fsync(int fd)
{
	if (fsync_fail_at > 0 && --fsync_fail_at == 0) {
		errno = EIO;
		return -1;
	}
	return (int)syscall(SYS_fsync, fd);
}

/* A temp file holding data, synced and ready to commit. */
static void
make_tmp(struct store_tmp *t, const char *data)
{
	ck_assert_int_eq(store_tmp_create(st, t), STORE_OK);
	ck_assert_int_eq(store_tmp_write(st, t, data, strlen(data)),
	    STORE_OK);
	ck_assert_int_eq(store_tmp_sync(st, t), STORE_OK);
}

/*
 * The directories of H1, as a file stored once leaves them (nothing removes
 * fan-out directories).
 */
static void
make_fanout(void)
{
	ck_assert_int_eq(mkdir(test_path("ab"), 0750), 0);
	ck_assert_int_eq(mkdir(test_path("ab/cd"), 0750), 0);
}

/* --- open --- */

START_TEST(test_open_creates_tmp)
{
	struct stat	 sb;

	ck_assert_int_eq(stat(test_path("tmp"), &sb), 0);
	ck_assert(S_ISDIR(sb.st_mode));
	ck_assert_int_eq(sb.st_mode & 07777, 0750 & ~022);
	ck_assert_int_eq(test_count_entries(test_path("tmp")), 0);
}
END_TEST

START_TEST(test_open_again)
{
	struct store	*s2;

	/* tmp/ already there (a restart) is fine, and its files stay. */
	write_file("tmp/keep", "x");
	s2 = open_store(test_dir);
	ck_assert(test_path_exists("tmp/keep"));
	store_close(s2);
}
END_TEST

/* The backend by its scheme, and an error that names the setting. */
START_TEST(test_open_by_scheme)
{
	struct store_config cfg = { .scheme = "tape", .data_dir = test_dir };
	char		 err[256], missing[4096];

	errno = 0;
	ck_assert_ptr_null(store_open(&cfg, err, sizeof(err)));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_msg(strstr(err, "tape") != NULL, "%s", err);
	cfg.scheme = "s3";	/* without its settings */
	ck_assert_ptr_null(store_open(&cfg, err, sizeof(err)));
	ck_assert_msg(strncmp(err, "STORAGE=s3: ", 12) == 0, "%s", err);
	snprintf(missing, sizeof(missing), "%s/nope", test_dir);
	ck_assert_ptr_null(store_open(local_at(missing), err, sizeof(err)));
	ck_assert_msg(strncmp(err, "DATA_DIR: ", 10) == 0, "%s", err);
}
END_TEST

START_TEST(test_open_missing)
{
	char		 missing[4096], err[256];

	snprintf(missing, sizeof(missing), "%s/nope", test_dir);
	errno = 0;
	ck_assert_ptr_null(store_open(local_at(missing), err, sizeof(err)));
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_msg(strstr(err, missing) != NULL, "%s", err);
	ck_assert(!test_path_exists("nope"));
}
END_TEST

START_TEST(test_open_not_dir)
{
	char	 err[256];

	write_file("file", "x");
	errno = 0;
	ck_assert_ptr_null(store_open(local_at(test_path("file")), err, sizeof(err)));
	ck_assert_int_eq(errno, ENOTDIR);
}
END_TEST

START_TEST(test_open_tmp_is_file)
{
	char		 sub[4096], err[256];

	/* DATA_DIR/tmp must be a directory. */
	ck_assert_int_eq(mkdir(test_path("d"), 0700), 0);
	write_file("d/tmp", "x");
	snprintf(sub, sizeof(sub), "%s", test_path("d"));
	ck_assert_ptr_null(store_open(local_at(sub), err, sizeof(err)));
	ck_assert_int_eq(errno, ENOTDIR);
}
END_TEST

/*
 * DATA_DIR/tmp as a symbolic link, even to a directory: refused, with a
 * line that says so, and nothing made or written where it points.
 */
START_TEST(test_open_tmp_is_symlink)
{
	char		 sub[4096], err[256];

	ck_assert_int_eq(mkdir(test_path("d"), 0700), 0);
	ck_assert_int_eq(mkdir(test_path("elsewhere"), 0700), 0);
	ck_assert_int_eq(symlink("../elsewhere", test_path("d/tmp")), 0);
	snprintf(sub, sizeof(sub), "%s", test_path("d"));
	err[0] = '\0';
	errno = 0;
	ck_assert_ptr_null(store_open(local_at(sub), err, sizeof(err)));
	ck_assert_int_eq(errno, ELOOP);
	ck_assert_msg(strstr(err, "symbolic link") != NULL, "%s", err);
	ck_assert_int_eq(test_count_entries(test_path("elsewhere")), 0);
	/* A dangling one too: no directory is made through it. */
	ck_assert_int_eq(unlink(test_path("d/tmp")), 0);
	ck_assert_int_eq(symlink("../gone", test_path("d/tmp")), 0);
	ck_assert_ptr_null(store_open(local_at(sub), err, sizeof(err)));
	ck_assert(!test_path_exists("gone"));
}
END_TEST

/* The number of open descriptors of this process. */
static int
open_fds(void)
{
	return test_count_entries("/proc/self/fd");
}

START_TEST(test_close_releases)
{
	struct store	*s2;
	int		 before = open_fds();

	s2 = open_store(test_dir);
	ck_assert_int_gt(open_fds(), before);
	store_close(s2);
	ck_assert_int_eq(open_fds(), before);
	store_close(NULL);
}
END_TEST

/* --- commit --- */

/* nginx's internal location, then the file's place under DATA_DIR. */
START_TEST(test_locate_target)
{
	struct store_tmp	 t;
	char			 out[STORE_TARGET_MAX];

	ck_assert_str_eq(store_location(st), "/_fileupload_content/");
	ck_assert_int_eq(store_locate(st, H1, NULL, out, sizeof(out)),
	    STORE_ERR_NOENT);
	make_tmp(&t, "x");
	ck_assert_int_eq(store_tmp_commit(st, &t, H1), STORE_OK);
	ck_assert_int_eq(store_locate(st, H1, NULL, out, sizeof(out)),
	    STORE_OK);
	ck_assert_str_eq(out, "/_fileupload_content/" H1_REL);
	make_tmp(&t, "y");
	ck_assert_int_eq(store_tmp_commit(st, &t, H3), STORE_OK);
	ck_assert_int_eq(store_locate(st, H3, NULL, out, sizeof(out)),
	    STORE_OK);
	ck_assert_str_eq(out, "/_fileupload_content/01/23/" H3);
}
END_TEST

START_TEST(test_commit)
{
	struct store_tmp	 t;
	struct stat		 sb;
	int			 fd;

	ck_assert_int_eq(store_tmp_create(st, &t), STORE_OK);
	ck_assert(t.fd >= 0);
	ck_assert_int_eq(strncmp(t.name, "upload-", 7), 0);
	ck_assert_uint_eq(t.size, 0);
	ck_assert_int_eq(test_count_entries(test_path("tmp")), 1);
	ck_assert_int_eq(store_tmp_write(st, &t, "hello", 5), STORE_OK);
	ck_assert_int_eq(store_tmp_write(st, &t, "", 0), STORE_OK);
	ck_assert_int_eq(store_tmp_write(st, &t, " world\n", 7), STORE_OK);
	ck_assert_uint_eq(t.size, 12);
	ck_assert_int_eq(store_tmp_sync(st, &t), STORE_OK);
	ck_assert(!store_exists(st, H1));
	fd = t.fd;
	ck_assert_int_eq(store_tmp_commit(st, &t, H1), STORE_OK);

	assert_content(H1_REL, "hello world\n");
	ck_assert_int_eq(stat(test_path(H1_REL), &sb), 0);
	ck_assert(S_ISREG(sb.st_mode));
	ck_assert_int_eq(sb.st_mode & 07777, 0640);
	ck_assert_int_eq(sb.st_size, 12);
	ck_assert_int_eq(stat(test_path("ab/cd"), &sb), 0);
	ck_assert(S_ISDIR(sb.st_mode));
	/* Nothing left behind: tmp/ empty, the descriptor closed. */
	ck_assert_int_eq(test_count_entries(test_path("tmp")), 0);
	ck_assert_int_eq(t.fd, -1);
	ck_assert(!fd_open(fd));
	ck_assert(store_exists(st, H1));
	/* Only the fan-out directories and tmp/ in DATA_DIR. */
	ck_assert_int_eq(test_count_entries(test_dir), 2);
	ck_assert_int_eq(test_count_entries(test_path("ab")), 1);
	ck_assert_int_eq(test_count_entries(test_path("ab/cd")), 1);
}
END_TEST

START_TEST(test_commit_empty_file)
{
	struct store_tmp	 t;
	struct stat		 sb;

	make_tmp(&t, "");
	ck_assert_int_eq(store_tmp_commit(st, &t, H1), STORE_OK);
	ck_assert_int_eq(stat(test_path(H1_REL), &sb), 0);
	ck_assert_int_eq(sb.st_size, 0);
}
END_TEST

START_TEST(test_commit_shared_dirs)
{
	struct store_tmp	 t;

	/* H1 and H2 share ab/, not ab/cd/. */
	make_tmp(&t, "one");
	ck_assert_int_eq(store_tmp_commit(st, &t, H1), STORE_OK);
	make_tmp(&t, "two");
	ck_assert_int_eq(store_tmp_commit(st, &t, H2), STORE_OK);
	make_tmp(&t, "three");
	ck_assert_int_eq(store_tmp_commit(st, &t, H3), STORE_OK);
	assert_content(H1_REL, "one");
	assert_content("ab/00/" H2, "two");
	assert_content("01/23/" H3, "three");
	ck_assert_int_eq(test_count_entries(test_path("ab")), 2);
	ck_assert_int_eq(test_count_entries(test_path("tmp")), 0);
}
END_TEST

START_TEST(test_commit_replaces)
{
	struct store_tmp	 t;
	struct stat		 before, after;

	make_tmp(&t, "first");
	ck_assert_int_eq(store_tmp_commit(st, &t, H1), STORE_OK);
	ck_assert_int_eq(stat(test_path(H1_REL), &before), 0);
	make_tmp(&t, "second");
	ck_assert_int_eq(store_tmp_commit(st, &t, H1), STORE_OK);
	assert_content(H1_REL, "second");
	ck_assert_int_eq(stat(test_path(H1_REL), &after), 0);
	ck_assert(before.st_ino != after.st_ino);
	ck_assert_int_eq(test_count_entries(test_path("ab/cd")), 1);
	ck_assert_int_eq(test_count_entries(test_path("tmp")), 0);
}
END_TEST

START_TEST(test_commit_large)
{
	struct store_tmp	 t;
	struct stat		 sb;
	char			*buf;
	size_t			 n = 3 * 1024 * 1024 + 17;
	int			 i;

	ck_assert_ptr_nonnull(buf = malloc(n));
	memset(buf, 'z', n);
	ck_assert_int_eq(store_tmp_create(st, &t), STORE_OK);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(store_tmp_write(st, &t, buf, n), STORE_OK);
	ck_assert_uint_eq(t.size, 4 * (uint64_t)n);
	ck_assert_int_eq(store_tmp_sync(st, &t), STORE_OK);
	ck_assert_int_eq(store_tmp_commit(st, &t, H1), STORE_OK);
	ck_assert_int_eq(stat(test_path(H1_REL), &sb), 0);
	ck_assert_int_eq(sb.st_size, 4 * (off_t)n);
	free(buf);
}
END_TEST

/* Writeback is started every STORE_WRITEBACK_STEP bytes, not before. */
START_TEST(test_writeback_steps)
{
	struct store_tmp	 t;
	struct stat		 sb;
	char			*buf;
	size_t			 piece = STORE_WRITEBACK_STEP / 8;
	int			 i;

	ck_assert_ptr_nonnull(buf = malloc(piece));
	memset(buf, 'w', piece);
	t.queued = 12345;	/* a fresh temp file starts from nothing */
	ck_assert_int_eq(store_tmp_create(st, &t), STORE_OK);
	ck_assert_uint_eq(t.queued, 0);
	for (i = 1; i <= 17; i++) {
		ck_assert_int_eq(store_tmp_write(st, &t, buf, piece), STORE_OK);
		ck_assert_uint_eq(t.queued,
		    (uint64_t)(i / 8) * STORE_WRITEBACK_STEP);
	}
	ck_assert_int_eq(store_tmp_sync(st, &t), STORE_OK);
	ck_assert_int_eq(store_tmp_commit(st, &t, H1), STORE_OK);
	ck_assert_int_eq(stat(test_path(H1_REL), &sb), 0);
	ck_assert_int_eq(sb.st_size, 17 * (off_t)piece);
	free(buf);
}
END_TEST

START_TEST(test_tmp_unique)
{
	struct store_tmp	 t[8];
	int			 i, j;

	for (i = 0; i < 8; i++)
		ck_assert_int_eq(store_tmp_create(st, &t[i]), STORE_OK);
	for (i = 0; i < 8; i++)
		for (j = i + 1; j < 8; j++)
			ck_assert_str_ne(t[i].name, t[j].name);
	ck_assert_int_eq(test_count_entries(test_path("tmp")), 8);
	for (i = 0; i < 8; i++)
		store_tmp_abort(st, &t[i]);
	ck_assert_int_eq(test_count_entries(test_path("tmp")), 0);
}
END_TEST

/* --- abort and failures --- */

START_TEST(test_abort)
{
	struct store_tmp	 t;
	int			 fd;

	make_tmp(&t, "partial");
	fd = t.fd;
	ck_assert_int_eq(test_count_entries(test_path("tmp")), 1);
	store_tmp_abort(st, &t);
	ck_assert_int_eq(test_count_entries(test_path("tmp")), 0);
	ck_assert_int_eq(t.fd, -1);
	ck_assert_str_eq(t.name, "");
	ck_assert(!fd_open(fd));
	/* Twice is safe. */
	store_tmp_abort(st, &t);
	ck_assert_int_eq(test_count_entries(test_path("tmp")), 0);
}
END_TEST

START_TEST(test_abort_unused_and_committed)
{
	struct store_tmp	 t = { .fd = -1, .name = "" };

	store_tmp_abort(st, &t);
	ck_assert_int_eq(t.fd, -1);

	/* After a commit, an abort does not touch the stored file. */
	make_tmp(&t, "kept");
	ck_assert_int_eq(store_tmp_commit(st, &t, H1), STORE_OK);
	store_tmp_abort(st, &t);
	assert_content(H1_REL, "kept");
}
END_TEST

START_TEST(test_abort_spares_others)
{
	struct store_tmp	 a, b;

	make_tmp(&a, "a");
	make_tmp(&b, "b");
	store_tmp_abort(st, &a);
	ck_assert_int_eq(test_count_entries(test_path("tmp")), 1);
	ck_assert_int_eq(store_tmp_commit(st, &b, H1), STORE_OK);
	assert_content(H1_REL, "b");
	ck_assert_int_eq(test_count_entries(test_path("tmp")), 0);
}
END_TEST

START_TEST(test_commit_fanout_is_file)
{
	struct store_tmp	 t;
	enum store_error	 e;
	int			 fd;

	/* DATA_DIR/ab is a file: ab/cd cannot be made. */
	write_file("ab", "in the way");
	make_tmp(&t, "data");
	fd = t.fd;
	e = store_tmp_commit(st, &t, H1);
	ck_assert_int_ne(e, STORE_OK);
	ck_assert_int_eq(e, STORE_ERR_IO);
	ck_assert_int_eq(test_count_entries(test_path("tmp")), 0);
	ck_assert_int_eq(t.fd, -1);
	ck_assert(!fd_open(fd));
	assert_content("ab", "in the way");
	ck_assert(!store_exists(st, H1));
	/* A later abort of the same tmp is harmless. */
	store_tmp_abort(st, &t);
}
END_TEST

START_TEST(test_commit_fanout2_is_file)
{
	struct store_tmp	 t;

	ck_assert_int_eq(mkdir(test_path("ab"), 0750), 0);
	write_file("ab/cd", "in the way");
	make_tmp(&t, "data");
	ck_assert_int_ne(store_tmp_commit(st, &t, H1), STORE_OK);
	ck_assert_int_eq(test_count_entries(test_path("tmp")), 0);
	assert_content("ab/cd", "in the way");
}
END_TEST

/* A non-empty directory where the file goes: the commit fails, cleanly. */
static void
check_commit_onto_dir(void)
{
	struct store_tmp	 t;

	make_fanout();
	ck_assert_int_eq(mkdir(test_path(H1_REL), 0750), 0);
	write_file(H1_REL "/x", "x");
	make_tmp(&t, "data");
	ck_assert_int_ne(store_tmp_commit(st, &t, H1), STORE_OK);
	ck_assert_int_eq(test_count_entries(test_path("tmp")), 0);
	ck_assert(!store_exists(st, H1));
}

START_TEST(test_commit_target_is_dir)
{
	check_commit_onto_dir();
}
END_TEST

/* --- anonymous temp files (O_TMPFILE) --- */

START_TEST(test_anon_commit_leaves_no_name)
{
	struct store_tmp	 t;

	make_tmp(&t, "hello");
	ck_assert_str_eq(t.name, "");
	ck_assert_int_eq(test_count_entries(test_path("tmp")), 0);
	ck_assert_int_eq(store_tmp_commit(st, &t, H1), STORE_OK);
	assert_content(H1_REL, "hello");
	ck_assert_int_eq(test_count_entries(test_path("tmp")), 0);
	ck_assert_int_eq(t.fd, -1);
}
END_TEST

START_TEST(test_anon_abort_leaves_nothing)
{
	struct store_tmp	 t;

	make_tmp(&t, "gone");
	store_tmp_abort(st, &t);
	ck_assert_int_eq(test_count_entries(test_path("tmp")), 0);
	ck_assert(!store_exists(st, H1));
	ck_assert_int_eq(t.fd, -1);
}
END_TEST

START_TEST(test_anon_commit_replaces)
{
	struct store_tmp	 t;

	/* A link cannot replace: a damaged copy there is still healed. */
	make_fanout();
	write_file(H1_REL, "damaged");
	make_tmp(&t, "whole");
	ck_assert_int_eq(store_tmp_commit(st, &t, H1), STORE_OK);
	assert_content(H1_REL, "whole");
	ck_assert_int_eq(test_count_entries(test_path("tmp")), 0);
}
END_TEST

START_TEST(test_anon_commit_target_is_dir)
{
	check_commit_onto_dir();
}
END_TEST

START_TEST(test_create_no_tmp_dir)
{
	struct store_tmp	 t;

	/* tmp/ gone from under an open store: a clean error, no fd. */
	ck_assert_int_eq(rmdir(test_path("tmp")), 0);
	ck_assert_int_ne(store_tmp_create(st, &t), STORE_OK);
	ck_assert_int_eq(t.fd, -1);
	ck_assert_str_eq(t.name, "");
	store_tmp_abort(st, &t);
}
END_TEST

START_TEST(test_errno_map)
{
	ck_assert_int_eq(store_errno(ENOSPC), STORE_ERR_NOSPACE);
	ck_assert_int_eq(store_errno(EDQUOT), STORE_ERR_NOSPACE);
	ck_assert_int_eq(store_errno(EFBIG), STORE_ERR_NOSPACE);
	ck_assert_int_eq(store_errno(ENOENT), STORE_ERR_NOENT);
	ck_assert_int_eq(store_errno(EIO), STORE_ERR_IO);
	ck_assert_int_eq(store_errno(EACCES), STORE_ERR_IO);
	ck_assert_int_eq(store_errno(EROFS), STORE_ERR_IO);
	ck_assert_int_eq(store_errno(ENOTDIR), STORE_ERR_IO);
	ck_assert_int_eq(store_errno(EEXIST), STORE_ERR_IO);
	ck_assert_int_eq(store_errno(0), STORE_ERR_IO);
}
END_TEST

/* --- trash --- */

/* A newer upload in the place: untrash never overwrites it. */
START_TEST(test_untrash_place_taken)
{
	struct store_tmp	 t;
	struct store_trash	 trash;
	char			 rel[STORE_TRASH_MAX + 4];

	make_tmp(&t, "old");
	ck_assert_int_eq(store_tmp_commit(st, &t, H1), STORE_OK);
	ck_assert_int_eq(store_trash(st, H1, &trash), STORE_OK);
	make_tmp(&t, "new");
	ck_assert_int_eq(store_tmp_commit(st, &t, H1), STORE_OK);
	ck_assert_int_eq(store_untrash(st, &trash, H1), STORE_ERR_EXISTS);
	assert_content(H1_REL, "new");
	snprintf(rel, sizeof(rel), "tmp/%s", trash.name);
	ck_assert(test_path_exists(rel));
}
END_TEST

/* Trash ages from the delete, not from the upload of the file. */
START_TEST(test_trash_age_from_delete)
{
	struct store_tmp	 t;
	struct store_trash	 trash;

	make_tmp(&t, "ancient");
	ck_assert_int_eq(store_tmp_commit(st, &t, H1), STORE_OK);
	test_age(H1_REL, 7200);
	ck_assert_int_eq(store_trash(st, H1, &trash), STORE_OK);
	ck_assert_int_eq(store_sweep(st, 0, 3600), 0);
	ck_assert(!store_exists(st, H1));
	ck_assert_int_eq(test_count_entries(test_path("tmp")), 1);
}
END_TEST

START_TEST(test_trash_untrash)
{
	struct store_tmp	 t;
	struct store_trash	 trash;

	make_tmp(&t, "bytes");
	ck_assert_int_eq(store_tmp_commit(st, &t, H1), STORE_OK);
	memset(&trash, 0, sizeof(trash));
	ck_assert_int_eq(store_trash(st, H1, &trash),
	    STORE_OK);
	ck_assert_int_eq(strncmp(trash.name, "trash-", 6), 0);
	ck_assert(!store_exists(st, H1));
	ck_assert(!test_path_exists(H1_REL));
	ck_assert_int_eq(test_count_entries(test_path("tmp")), 1);

	ck_assert_int_eq(store_untrash(st, &trash, H1), STORE_OK);
	ck_assert(store_exists(st, H1));
	assert_content(H1_REL, "bytes");
	ck_assert_int_eq(test_count_entries(test_path("tmp")), 0);
}
END_TEST

START_TEST(test_trash_purge)
{
	struct store_tmp	 t;
	struct store_trash	 trash;

	make_tmp(&t, "bytes");
	ck_assert_int_eq(store_tmp_commit(st, &t, H1), STORE_OK);
	ck_assert_int_eq(store_trash(st, H1, &trash),
	    STORE_OK);
	store_purge(st, &trash);
	ck_assert(!store_exists(st, H1));
	ck_assert_int_eq(test_count_entries(test_path("tmp")), 0);
	/* Purging what is gone is harmless. */
	store_purge(st, &trash);

	/* The same bytes can come back after a delete. */
	make_tmp(&t, "bytes");
	ck_assert_int_eq(store_tmp_commit(st, &t, H1), STORE_OK);
	assert_content(H1_REL, "bytes");
}
END_TEST

START_TEST(test_trash_missing)
{
	struct store_trash trash;

	ck_assert_int_eq(store_trash(st, H1, &trash),
	    STORE_ERR_NOENT);
	ck_assert_int_eq(test_count_entries(test_path("tmp")), 0);
	store_trash_name(&trash, "trash-nothing");
	ck_assert_int_eq(store_untrash(st, &trash, H1),
	    STORE_ERR_NOENT);
	ck_assert(!store_exists(st, H1));
}
END_TEST

START_TEST(test_trash_name_keeps_hash)
{
	struct store_tmp	 t;
	struct store_trash	 trash;

	/*
	 * The name is "trash-<hash>-..." so that a sweep can put the file
	 * back; in STORE_TRASH_MAX bytes it must hold the whole hash and
	 * the '-' after it.
	 */
	make_tmp(&t, "bytes");
	ck_assert_int_eq(store_tmp_commit(st, &t, H1), STORE_OK);
	ck_assert_int_eq(store_trash(st, H1, &trash),
	    STORE_OK);
	ck_assert_msg(strlen(trash.name) > 6 +
	    HASH_HEX_LEN && strncmp(trash.name + 6,
	    H1 "-", HASH_HEX_LEN + 1) == 0, "trash name \"%s\" lost the hash",
	    trash.name);
}
END_TEST

/* Two deletes in hand on one thread: each keeps its own lock. */
START_TEST(test_trash_two_held)
{
	struct store_tmp	 t;
	struct store_trash	 a, b;
	char			 rel[STORE_TRASH_MAX + 8];

	make_tmp(&t, "one");
	ck_assert_int_eq(store_tmp_commit(st, &t, H1), STORE_OK);
	make_tmp(&t, "two");
	ck_assert_int_eq(store_tmp_commit(st, &t, H2), STORE_OK);
	ck_assert_int_eq(store_trash(st, H1, &a), STORE_OK);
	ck_assert_int_eq(store_trash(st, H2, &b), STORE_OK);
	snprintf(rel, sizeof(rel), "tmp/%s", a.name);
	test_age(rel, 7200);
	snprintf(rel, sizeof(rel), "tmp/%s", b.name);
	test_age(rel, 7200);
	/* Both live: the sweep leaves both alone. */
	ck_assert_int_eq(store_sweep(st, 0, 0), 0);
	ck_assert_int_eq(test_count_entries(test_path("tmp")), 2);
	ck_assert_int_eq(store_untrash(st, &a, H1), STORE_OK);
	ck_assert_int_eq(a.lock, -1);
	store_purge(st, &b);
	ck_assert_int_eq(b.lock, -1);
	ck_assert(store_exists(st, H1));
	ck_assert(!store_exists(st, H2));
}
END_TEST

START_TEST(test_trash_names_unique)
{
	struct store_tmp	 t;
	struct store_trash	 a, b;

	/* Two deletes of the same hash must not share a trash name. */
	make_tmp(&t, "bytes");
	ck_assert_int_eq(store_tmp_commit(st, &t, H1), STORE_OK);
	ck_assert_int_eq(store_trash(st, H1, &a), STORE_OK);
	make_tmp(&t, "bytes");
	ck_assert_int_eq(store_tmp_commit(st, &t, H1), STORE_OK);
	ck_assert_int_eq(store_trash(st, H1, &b), STORE_OK);
	ck_assert_str_ne(a.name, b.name);
	ck_assert_int_eq(test_count_entries(test_path("tmp")), 2);
}
END_TEST

START_TEST(test_trash_abandoned_restored)
{
	struct store_tmp	 t;
	struct store_trash	 trash;
	char			 rel[STORE_TRASH_MAX + 8];

	/*
	 * A worker killed between store_trash and its COMMIT: the row is
	 * still there, so the sweep must give the file back.
	 */
	int			 named[2], hold[2], status;
	pid_t			 pid;
	char			 c;

	make_tmp(&t, "bytes");
	ck_assert_int_eq(store_tmp_commit(st, &t, H1), STORE_OK);
	memset(&trash, 0, sizeof(trash));
	/* The delete in a worker of its own, which lives until told. */
	ck_assert_int_eq(pipe(named), 0);
	ck_assert_int_eq(pipe(hold), 0);
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		close(hold[1]);
		if (store_trash(st, H1, &trash) != STORE_OK)
			_exit(1);
		if (write(named[1], trash.name, sizeof(trash.name)) !=
		    sizeof(trash.name))
			_exit(1);
		(void)read(hold[0], &c, 1);
		_exit(0);
	}
	close(hold[0]);
	close(named[1]);
	ck_assert_int_eq(read(named[0], trash.name, sizeof(trash.name)),
	    sizeof(trash.name));
	close(named[0]);
	snprintf(rel, sizeof(rel), "tmp/%s", trash.name);
	test_age(rel, 7200);
	/* Still locked by its (live) delete: left alone, however old. */
	ck_assert_int_eq(store_sweep(st, 3600, 3600), 0);
	ck_assert(!store_exists(st, H1));
	/* The worker dies: its lock goes with it. */
	close(hold[1]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(store_sweep(st, 3600, 3600), 1);
	ck_assert(store_exists(st, H1));
	assert_content(H1_REL, "bytes");
}
END_TEST

/*
 * A delete's move aside that cannot be made durable (either directory's
 * fsync fails): the caller keeps the row, so the file must be back in its
 * place, and not locked (a later delete or sweep can take it).
 */
START_TEST(test_trash_sync_fails)
{
	struct store_tmp	 t;
	struct store_trash	 trash;

	make_tmp(&t, "kept");
	ck_assert_int_eq(store_tmp_commit(st, &t, H1), STORE_OK);
	fsync_fail_at = _i;
	ck_assert_int_eq(store_trash(st, H1, &trash),
	    STORE_ERR_IO);
	ck_assert_int_eq(errno, EIO);
	fsync_fail_at = 0;
	ck_assert(store_exists(st, H1));
	assert_content(H1_REL, "kept");
	ck_assert_int_eq(test_count_entries(test_path("tmp")), 0);
	/* Nothing left locked: the next delete goes through. */
	ck_assert_int_eq(store_trash(st, H1, &trash), STORE_OK);
	store_purge(st, &trash);
	ck_assert(!store_exists(st, H1));
}
END_TEST

/* --- exists --- */

START_TEST(test_exists)
{
	struct store_tmp	 t;

	ck_assert(!store_exists(st, H1));
	make_tmp(&t, "x");
	ck_assert(!store_exists(st, H1));	/* not before the commit */
	ck_assert_int_eq(store_tmp_commit(st, &t, H1), STORE_OK);
	ck_assert(store_exists(st, H1));
	ck_assert(!store_exists(st, H2));
	ck_assert_int_eq(unlink(test_path(H1_REL)), 0);
	ck_assert(!store_exists(st, H1));
}
END_TEST

START_TEST(test_exists_not_regular)
{
	make_fanout();
	ck_assert_int_eq(mkdir(test_path(H1_REL), 0750), 0);
	ck_assert(!store_exists(st, H1));
	ck_assert_int_eq(rmdir(test_path(H1_REL)), 0);
	/* A dangling symlink is no file. */
	ck_assert_int_eq(symlink("nowhere", test_path(H1_REL)), 0);
	ck_assert(!store_exists(st, H1));
}
END_TEST

/* --- sweep --- */

/* --- resumable uploads' partial files --- */

#define UP_ID		"AbCdEfGhIjKlMnOpQr-_09"
#define UP_PART		"tmp/part-" UP_ID

/* Created held; a second writer is refused until the first lets go. */
START_TEST(test_part_one_writer)
{
	struct store_tmp a = { .fd = -1 }, b = { .fd = -1 };

	ck_assert_int_eq(store_part_open(st, UP_ID, true, &a), STORE_OK);
	ck_assert(test_path_exists(UP_PART));
	ck_assert_int_eq(store_part_open(st, UP_ID, true, &b), STORE_ERR_IO);
	ck_assert_int_eq(store_part_open(st, UP_ID, false, &b), STORE_ERR_BUSY);
	ck_assert_int_eq(b.fd, -1);
	ck_assert_int_eq(store_part_remove(st, UP_ID), -1);
	ck_assert_int_eq(store_tmp_write(st, &a, "hello", 5), STORE_OK);
	store_part_close(st, &a);
	ck_assert_int_eq(a.fd, -1);
	ck_assert(test_path_exists(UP_PART));
	ck_assert_int_eq(store_part_open(st, UP_ID, false, &b), STORE_OK);
	store_part_close(st, &b);
}
END_TEST

/* Lets the partial file of arg go 200 ms after it starts. */
static void *
let_go_later(void *arg)
{
	struct timespec	 ts = { 0, 200 * 1000000L };

	nanosleep(&ts, NULL);
	store_part_close(st, arg);
	return NULL;
}

/*
 * store_part_hold waits while another holds the file: up to its budget
 * (then BUSY, the budget spent), or until the holder lets go.
 */
START_TEST(test_part_hold_waits)
{
	struct store_tmp a = { .fd = -1 }, b = { .fd = -1 };
	pthread_t	 th;
	long		 budget = 0;

	ck_assert_int_eq(store_part_open(st, UP_ID, true, &a), STORE_OK);
	ck_assert_int_eq(store_part_hold(st, UP_ID, &budget, &b),
	    STORE_ERR_BUSY);
	budget = 3 * STORE_PART_RETRY_MS;
	ck_assert_int_eq(store_part_hold(st, UP_ID, &budget, &b),
	    STORE_ERR_BUSY);
	ck_assert_int_le(budget, 0);
	ck_assert_int_eq(pthread_create(&th, NULL, let_go_later, &a), 0);
	budget = 3000;
	ck_assert_int_eq(store_part_hold(st, UP_ID, &budget, &b), STORE_OK);
	ck_assert_int_lt(budget, 3000);
	ck_assert_int_gt(budget, 0);
	pthread_join(th, NULL);
	store_part_close(st, &b);
	budget = 0;
	ck_assert_int_eq(store_part_hold(st, "x/y", &budget, &b),
	    STORE_ERR_NOENT);
}
END_TEST

/* An id that cannot name a file names no partial file; nothing is made. */
START_TEST(test_part_id_opaque)
{
	struct store_tmp t = { .fd = -1 };

	ck_assert_int_eq(store_part_open(st, "../x", true, &t),
	    STORE_ERR_NOENT);
	ck_assert_int_eq(t.fd, -1);
	ck_assert_int_eq(store_part_open(st, "", true, &t), STORE_ERR_NOENT);
	ck_assert_int_eq(store_part_open(st, "a.b", true, &t),
	    STORE_ERR_NOENT);
	ck_assert_int_eq(store_part_remove(st, "a/b"), 0);
	ck_assert_int_eq(test_count_entries(test_path("tmp")), 0);
	/* Any id of the allowed characters is the caller's to choose. */
	ck_assert_int_eq(store_part_open(st, "x", true, &t), STORE_OK);
	ck_assert(test_path_exists("tmp/part-x"));
	store_part_close(st, &t);
	ck_assert_int_eq(store_part_remove(st, "x"), 0);
	ck_assert(!test_path_exists("tmp/part-x"));
}
END_TEST

/* Bytes past the committed offset go; a shorter file is gone. */
START_TEST(test_part_cut)
{
	struct store_tmp t = { .fd = -1 };

	ck_assert_int_eq(store_part_open(st, UP_ID, true, &t), STORE_OK);
	ck_assert_int_eq(store_tmp_write(st, &t, "0123456789", 10), STORE_OK);
	store_part_close(st, &t);
	ck_assert_int_eq(store_part_open(st, UP_ID, false, &t), STORE_OK);
	ck_assert_int_eq(store_part_cut(st, &t, 4), STORE_OK);
	ck_assert_uint_eq(t.size, 4);
	ck_assert_int_eq(store_tmp_write(st, &t, "ab", 2), STORE_OK);
	ck_assert_int_eq(store_tmp_sync(st, &t), STORE_OK);
	assert_content(UP_PART, "0123ab");
	ck_assert_int_eq(store_part_cut(st, &t, 7), STORE_ERR_NOENT);
	store_part_close(st, &t);
}
END_TEST

/*
 * A writer that waited for the lock while the holder completed the upload
 * (renamed the file into place) finds it gone, never the stored file.
 */
START_TEST(test_part_renamed_while_waiting)
{
	struct store_tmp a = { .fd = -1 }, b = { .fd = -1 };
	int		 fd;

	ck_assert_int_eq(store_part_open(st, UP_ID, true, &a), STORE_OK);
	ck_assert_int_eq(store_tmp_write(st, &a, "abc", 3), STORE_OK);
	/* The waiter's open came before the rename; its lock after. */
	ck_assert_int_ge(fd = open(test_path(UP_PART), O_RDWR), 0);
	ck_assert_int_eq(store_tmp_sync(st, &a), STORE_OK);
	ck_assert_int_eq(store_tmp_commit(st, &a, H1), STORE_OK);
	close(fd);
	ck_assert_int_eq(store_part_open(st, UP_ID, false, &b), STORE_ERR_NOENT);
	ck_assert(!test_path_exists(UP_PART));
	assert_content(H1_REL, "abc");
	/* And one removed meanwhile: gone too, and removing it again is fine. */
	ck_assert_int_eq(store_part_remove(st, UP_ID), 0);
}
END_TEST

/* The partial files are the uploads table's: the temp sweep leaves them. */
START_TEST(test_part_not_swept)
{
	struct store_tmp t = { .fd = -1 };

	ck_assert_int_eq(store_part_open(st, UP_ID, true, &t), STORE_OK);
	store_part_close(st, &t);
	test_age(UP_PART, 24 * 3600);
	ck_assert_int_eq(store_sweep(st, 0, 0), 0);
	ck_assert(test_path_exists(UP_PART));
	ck_assert_int_eq(store_part_remove(st, UP_ID), 0);
	ck_assert(!test_path_exists(UP_PART));
}
END_TEST

START_TEST(test_sweep_old_uploads)
{
	struct store_tmp	 old, young;
	char			 rel[128];

	make_tmp(&old, "old");
	make_tmp(&young, "young");
	snprintf(rel, sizeof(rel), "tmp/%s", old.name);
	test_age(rel, 7200);
	write_file("tmp/upload-1-dead", "old, by hand");
	test_age("tmp/upload-1-dead", 3601);
	/* Old but still locked by its upload: a slow upload, not a dead one. */
	ck_assert_int_eq(store_sweep(st, 3600, 3600), 1);
	ck_assert(test_path_exists(rel));
	ck_assert(!test_path_exists("tmp/upload-1-dead"));
	/* Once its upload is gone (fd closed, lock released) it is swept. */
	close(old.fd);
	old.fd = -1;
	ck_assert_int_eq(store_sweep(st, 3600, 3600), 1);
	ck_assert(!test_path_exists(rel));
	snprintf(rel, sizeof(rel), "tmp/%s", young.name);
	ck_assert(test_path_exists(rel));
	ck_assert_int_eq(test_count_entries(test_path("tmp")), 1);
	/* The young upload goes on undisturbed. */
	ck_assert_int_eq(store_tmp_commit(st, &young, H1), STORE_OK);
	assert_content(H1_REL, "young");
	store_tmp_abort(st, &old);
}
END_TEST

START_TEST(test_sweep_age_boundary)
{
	write_file("tmp/upload-a", "a");
	write_file("tmp/upload-b", "b");
	test_age("tmp/upload-a", 1000);
	test_age("tmp/upload-b", 900);
	ck_assert_int_eq(store_sweep(st, 950, 950), 1);
	ck_assert(!test_path_exists("tmp/upload-a"));
	ck_assert(test_path_exists("tmp/upload-b"));
	/* Either side of max_age, with a second of slack for the clock. */
	write_file("tmp/upload-c", "c");
	write_file("tmp/upload-d", "d");
	test_age("tmp/upload-c", 950 - 2);
	test_age("tmp/upload-d", 950 + 1);
	ck_assert_int_eq(store_sweep(st, 950, 950), 1);
	ck_assert(test_path_exists("tmp/upload-c"));
	ck_assert(!test_path_exists("tmp/upload-d"));
	ck_assert_int_eq(unlink(test_path("tmp/upload-c")), 0);
	/* Nothing old left: a second sweep does nothing. */
	ck_assert_int_eq(store_sweep(st, 950, 950), 0);
	/* max_age 0 takes everything of ours. */
	ck_assert_int_eq(store_sweep(st, 0, 0), 1);
	ck_assert_int_eq(test_count_entries(test_path("tmp")), 0);
}
END_TEST

START_TEST(test_sweep_leaves_others)
{
	/* Only upload-* and trash-* regular files are the sweep's. */
	write_file("tmp/other", "x");
	write_file("tmp/uploadX", "x");
	write_file("tmp/Upload-1", "x");
	ck_assert_int_eq(mkdir(test_path("tmp/upload-dir"), 0750), 0);
	ck_assert_int_eq(symlink("other", test_path("tmp/upload-link")), 0);
	test_age("tmp/other", 7200);
	test_age("tmp/uploadX", 7200);
	test_age("tmp/Upload-1", 7200);
	test_age("tmp/upload-dir", 7200);
	test_age("tmp/upload-link", 7200);
	ck_assert_int_eq(store_sweep(st, 3600, 3600), 0);
	ck_assert_int_eq(test_count_entries(test_path("tmp")), 5);
	ck_assert(test_path_exists("tmp/other"));
	ck_assert(test_path_exists("tmp/upload-dir"));
	ck_assert(test_path_exists("tmp/upload-link"));
}
END_TEST

START_TEST(test_sweep_trash_restored)
{
	/* An old trash file whose place is empty goes back to its place. */
	make_fanout();
	write_file("tmp/trash-" H1 "-123-00000000deadbeef", "restored");
	test_age("tmp/trash-" H1 "-123-00000000deadbeef", 7200);
	ck_assert_int_eq(store_sweep(st, 3600, 3600), 1);
	ck_assert(store_exists(st, H1));
	assert_content(H1_REL, "restored");
	ck_assert_int_eq(test_count_entries(test_path("tmp")), 0);
}
END_TEST

START_TEST(test_sweep_trash_upper)
{
	/* The hash in the name is parsed: its place is the lowercase one. */
	make_fanout();
	write_file("tmp/trash-ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789"
	    "ABCDEF0123456789-1-x", "up");
	test_age("tmp/trash-ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789"
	    "ABCDEF0123456789-1-x", 7200);
	ck_assert_int_eq(store_sweep(st, 3600, 3600), 1);
	assert_content(H1_REL, "up");
}
END_TEST

START_TEST(test_sweep_trash_place_taken)
{
	struct store_tmp	 t;

	/* The file was uploaded again meanwhile: the trash just goes. */
	make_tmp(&t, "current");
	ck_assert_int_eq(store_tmp_commit(st, &t, H1), STORE_OK);
	write_file("tmp/trash-" H1 "-123-00000000deadbeef", "stale");
	test_age("tmp/trash-" H1 "-123-00000000deadbeef", 7200);
	ck_assert_int_eq(store_sweep(st, 3600, 3600), 1);
	assert_content(H1_REL, "current");
	ck_assert_int_eq(test_count_entries(test_path("tmp")), 0);
}
END_TEST

START_TEST(test_sweep_trash_young)
{
	/* A young trash file may be a delete in progress: left alone. */
	write_file("tmp/trash-" H1 "-123-00000000deadbeef", "busy");
	ck_assert_int_eq(store_sweep(st, 3600, 3600), 0);
	ck_assert(!store_exists(st, H1));
	ck_assert(test_path_exists("tmp/trash-" H1 "-123-00000000deadbeef"));
}
END_TEST

START_TEST(test_sweep_trash_bad_names)
{
	static const char *const names[] = {
		"tmp/trash-",
		"tmp/trash-x",
		"tmp/trash-" H1,		/* no '-' after the hash */
		"tmp/trash-" H1 "x-1",
		"tmp/trash-abcdef0123456789abcdef0123456789abcdef0123456789"
		    "abcdef012345678-1-x",	/* 63 digits */
		"tmp/trash-gbcdef0123456789abcdef0123456789abcdef0123456789"
		    "abcdef0123456789-1-x",	/* not hex */
	};
	size_t	 i;

	/* Names that name no hash: removed, nothing restored anywhere. */
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		write_file(names[i], "junk");
		test_age(names[i], 7200);
	}
	ck_assert_int_eq(store_sweep(st, 3600, 3600), 6);
	ck_assert_int_eq(test_count_entries(test_path("tmp")), 0);
	ck_assert_int_eq(test_count_entries(test_dir), 1);	/* just tmp/ */
}
END_TEST

START_TEST(test_sweep_trash_place_blocked)
{
	/* The place cannot be made (ab is a file): the trash is removed. */
	write_file("ab", "in the way");
	write_file("tmp/trash-" H1 "-1-x", "t");
	test_age("tmp/trash-" H1 "-1-x", 7200);
	ck_assert_int_eq(store_sweep(st, 3600, 3600), 1);
	ck_assert_int_eq(test_count_entries(test_path("tmp")), 0);
	assert_content("ab", "in the way");
}
END_TEST

/* Temp files and trash files have their own bounds. */
START_TEST(test_sweep_two_bounds)
{
	write_file("tmp/upload-9-dead", "dead upload");
	write_file("tmp/trash-" H1 "-9-00000000deadbeef", "recent delete");
	test_age("tmp/upload-9-dead", 20);
	test_age("tmp/trash-" H1 "-9-00000000deadbeef", 20);
	ck_assert_int_eq(store_sweep(st, 10, 3600), 1);
	ck_assert(!test_path_exists("tmp/upload-9-dead"));
	ck_assert(test_path_exists("tmp/trash-" H1 "-9-00000000deadbeef"));
	ck_assert(!store_exists(st, H1));
	/* A file killed before its lock: by the trash bound. */
	write_file("tmp/new-9-00000000deadbeef", "never locked");
	test_age("tmp/new-9-00000000deadbeef", 20);
	ck_assert_int_eq(store_sweep(st, 0, 3600), 0);
	test_age("tmp/new-9-00000000deadbeef", 3700);
	ck_assert_int_eq(store_sweep(st, 0, 3600), 1);
	ck_assert(!test_path_exists("tmp/new-9-00000000deadbeef"));
}
END_TEST

START_TEST(test_sweep_empty)
{
	ck_assert_int_eq(store_sweep(st, 0, 0), 0);
	ck_assert_int_eq(store_sweep(st, 3600, 3600), 0);
}
END_TEST

static Suite *
store_suite(void)
{
	Suite	*s = suite_create("store");
	TCase	*tc;

	tc = test_dir_tcase("open", setup, teardown);
	tcase_add_test(tc, test_open_creates_tmp);
	tcase_add_test(tc, test_open_again);
	tcase_add_test(tc, test_open_missing);
	tcase_add_test(tc, test_open_by_scheme);
	tcase_add_test(tc, test_open_not_dir);
	tcase_add_test(tc, test_open_tmp_is_file);
	tcase_add_test(tc, test_open_tmp_is_symlink);
	tcase_add_test(tc, test_close_releases);
	suite_add_tcase(s, tc);

	tc = test_dir_tcase("commit", setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_locate_target);
	tcase_add_test(tc, test_commit);
	tcase_add_test(tc, test_commit_empty_file);
	tcase_add_test(tc, test_commit_shared_dirs);
	tcase_add_test(tc, test_commit_replaces);
	tcase_add_test(tc, test_commit_large);
	tcase_add_test(tc, test_writeback_steps);
	tcase_add_test(tc, test_tmp_unique);
	suite_add_tcase(s, tc);

	tc = test_dir_tcase("failures", setup, teardown);
	tcase_add_test(tc, test_abort);
	tcase_add_test(tc, test_abort_unused_and_committed);
	tcase_add_test(tc, test_abort_spares_others);
	tcase_add_test(tc, test_commit_fanout_is_file);
	tcase_add_test(tc, test_commit_fanout2_is_file);
	tcase_add_test(tc, test_commit_target_is_dir);
	tcase_add_test(tc, test_create_no_tmp_dir);
	tcase_add_test(tc, test_errno_map);
	suite_add_tcase(s, tc);

	tc = test_dir_tcase("anonymous", setup_anonymous, teardown);
	tcase_add_test(tc, test_anon_commit_leaves_no_name);
	tcase_add_test(tc, test_anon_abort_leaves_nothing);
	tcase_add_test(tc, test_anon_commit_replaces);
	tcase_add_test(tc, test_anon_commit_target_is_dir);
	suite_add_tcase(s, tc);

	tc = test_dir_tcase("trash", setup, teardown);
	tcase_add_test(tc, test_trash_untrash);
	tcase_add_test(tc, test_untrash_place_taken);
	tcase_add_test(tc, test_trash_age_from_delete);
	tcase_add_test(tc, test_trash_purge);
	tcase_add_test(tc, test_trash_missing);
	tcase_add_test(tc, test_trash_name_keeps_hash);
	tcase_add_test(tc, test_trash_names_unique);
	tcase_add_test(tc, test_trash_two_held);
	tcase_add_test(tc, test_trash_abandoned_restored);
	/* The first fsync (the file's old directory), then the second (tmp/). */
	tcase_add_loop_test(tc, test_trash_sync_fails, 1, 3);
	suite_add_tcase(s, tc);

	tc = test_dir_tcase("exists", setup, teardown);
	tcase_add_test(tc, test_exists);
	tcase_add_test(tc, test_exists_not_regular);
	suite_add_tcase(s, tc);

	tc = test_dir_tcase("sweep", setup, teardown);
	tcase_add_test(tc, test_sweep_old_uploads);
	tcase_add_test(tc, test_part_one_writer);
	tcase_add_test(tc, test_part_hold_waits);
	tcase_add_test(tc, test_part_id_opaque);
	tcase_add_test(tc, test_part_cut);
	tcase_add_test(tc, test_part_renamed_while_waiting);
	tcase_add_test(tc, test_part_not_swept);
	tcase_add_test(tc, test_sweep_age_boundary);
	tcase_add_test(tc, test_sweep_leaves_others);
	tcase_add_test(tc, test_sweep_trash_restored);
	tcase_add_test(tc, test_sweep_trash_upper);
	tcase_add_test(tc, test_sweep_trash_place_taken);
	tcase_add_test(tc, test_sweep_trash_young);
	tcase_add_test(tc, test_sweep_trash_bad_names);
	tcase_add_test(tc, test_sweep_trash_place_blocked);
	tcase_add_test(tc, test_sweep_two_bounds);
	tcase_add_test(tc, test_sweep_empty);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(store_suite)
