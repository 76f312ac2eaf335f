/*
 * Unit tests of fsck's merge and repairs: the database is a double (a
 * struct fsck_db over a small table held here), the files a real local
 * store in a fresh DATA_DIR; a long stream of both is generated, through a
 * store backend of this file's own, to show the merge's memory does not
 * grow with it.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fsck.h"
#include "hash.h"
#include "store.h"
#include "store_impl.h"
#include "testutil.h"

#define ROWS_MAX	16
#define OLD		(2 * 60 * 60)	/* older than any of fsck's margins */

/* ---------------------------------------------------- the database double */

struct fake_row {
	struct fsck_row	 r;
	bool		 listed;	/* in the listing's snapshot */
	bool		 recorded;	/* in the table now */
};

struct fake_db {
	struct fake_row	 rows[ROWS_MAX];	/* in byte order of hash */
	int		 n;
	int		 next;		/* the listing's position, -1: closed */
	int		 pending;	/* the row of the open delete, -1 */
	/* Faults. */
	bool		 fail_begin, fail_exists, fail_delete, fail_commit;
	int		 fail_next_at;	/* the n-th rows_next fails; 0 never */
	/* What happened. */
	int		 nexts, commits, rollbacks, ends;
};

static struct fake_db	 db;
static struct fsck_db	 dbops;

static int
fake_rows_begin(void *arg)
{
	struct fake_db	*d = arg;

	if (d->fail_begin)
		return -1;
	d->next = 0;
	return 0;
}

static int
fake_rows_next(void *arg, struct fsck_row *r)
{
	struct fake_db	*d = arg;

	if (++d->nexts == d->fail_next_at)
		return -1;
	while (d->next >= 0 && d->next < d->n && !d->rows[d->next].listed)
		d->next++;
	if (d->next < 0 || d->next >= d->n)
		return 0;
	*r = d->rows[d->next++].r;
	return 1;
}

static void
fake_rows_end(void *arg)
{
	struct fake_db	*d = arg;

	d->next = -1;
	d->ends++;
}

static int
find_row(struct fake_db *d, const char *hash)
{
	int	 i;

	for (i = 0; i < d->n; i++)
		if (d->rows[i].recorded && strcmp(d->rows[i].r.hash, hash) == 0)
			return i;
	return -1;
}

static int
fake_exists(void *arg, const char *hash)
{
	struct fake_db	*d = arg;

	if (d->fail_exists)
		return -1;
	return find_row(d, hash) >= 0;
}

static int
fake_delete_begin(void *arg, const char *hash, char *desc, size_t desclen)
{
	struct fake_db	*d = arg;

	ck_assert_int_eq(d->pending, -1);	/* one at a time */
	if (d->fail_delete)
		return -1;
	if ((d->pending = find_row(d, hash)) == -1)
		return 0;
	snprintf(desc, desclen, "file_name row.txt");
	return 1;
}

static int
fake_commit(void *arg)
{
	struct fake_db	*d = arg;

	ck_assert_int_ge(d->pending, 0);
	if (d->fail_commit) {
		d->pending = -1;
		return -1;
	}
	d->rows[d->pending].recorded = false;
	d->pending = -1;
	d->commits++;
	return 0;
}

static void
fake_rollback(void *arg)
{
	struct fake_db	*d = arg;

	ck_assert_int_ge(d->pending, 0);
	d->pending = -1;
	d->rollbacks++;
}

static const char *
fake_error(void *arg)
{
	(void)arg;
	return "the double says no";
}

/* A row of hash and size, listed and recorded; rows go in byte order. */
static struct fake_row *
add_row(const char *hash, uint64_t size)
{
	struct fake_row	*r;
	int		 i;

	ck_assert_int_lt(db.n, ROWS_MAX);
	for (i = db.n; i > 0 && strcmp(db.rows[i - 1].r.hash, hash) > 0; i--)
		db.rows[i] = db.rows[i - 1];
	r = &db.rows[i];
	memset(r, 0, sizeof(*r));
	snprintf(r->r.hash, sizeof(r->r.hash), "%s", hash);
	r->r.size = size;
	r->listed = r->recorded = true;
	db.n++;
	return r;
}

static struct fake_row *
row_of(const char *hash)
{
	int	 i = find_row(&db, hash);

	ck_assert_int_ge(i, 0);
	return &db.rows[i];
}

static bool
recorded(const char *hash)
{
	return find_row(&db, hash) >= 0;
}

/* ------------------------------------------------------ the store, for real */

static struct store	*st;
static struct fsck	 f;
static char		 said[1 << 16];	/* the report lines, each + '\n' */
static char		 warned[1 << 16];

static void
append(char *buf, size_t len, const char *line)
{
	size_t	 n = strlen(buf);

	snprintf(buf + n, len - n, "%s\n", line);
}

static void
on_report(void *arg, enum fsck_problem p, const char *line)
{
	(void)arg;
	ck_assert_int_lt(p, FSCK__MAX);
	append(said, sizeof(said), line);
}

static void
on_warn(void *arg, const char *msg)
{
	(void)arg;
	append(warned, sizeof(warned), msg);
}

static void
setup(void)
{
	char	 err[256];

	test_dir_make();
	ck_assert_msg((st = store_open(&(struct store_config){ .scheme = "local",
	    .data_dir = test_dir }, err, sizeof(err))) != NULL, "%s",
	    err);
	memset(&db, 0, sizeof(db));
	db.next = db.pending = -1;
	dbops = (struct fsck_db){ &db, fake_rows_begin, fake_rows_next,
	    fake_rows_end, fake_exists, fake_delete_begin, fake_commit,
	    fake_rollback, fake_error, NULL };
	memset(&f, 0, sizeof(f));
	f.store = st;
	f.db = &dbops;
	f.report = on_report;
	f.warn = on_warn;
	said[0] = warned[0] = '\0';
}

static void
teardown(void)
{
	store_close(st);
	st = NULL;
	test_dir_remove();
}

static int
move(const char *from, const char *to)
{
	char	 a[4096];

	snprintf(a, sizeof(a), "%s", test_path(from));
	return rename(a, test_path(to));
}

static void
write_file(const char *rel, const char *data, time_t secs)
{
	FILE	*fp;

	ck_assert_msg((fp = fopen(test_path(rel), "w")) != NULL, "%s: %s", rel,
	    strerror(errno));
	ck_assert_int_ge(fputs(data, fp), 0);
	ck_assert_int_eq(fclose(fp), 0);
	test_age(rel, secs);
}

static const char *
rel_of(const char *hash)
{
	static char	 rel[6 + HASH_HEX_LEN + 1];

	snprintf(rel, sizeof(rel), "%.2s/%.2s/%s", hash, hash + 2, hash);
	return rel;
}

/*
 * data stored under hash (NULL: its own hash, into out), secs old, the
 * way a worker stores it; returns the hash.
 */
static const char *
plant(const char *hash, const char *data, time_t secs)
{
	static char	 h[HASH_HEX_LEN + 1];
	struct hash_ctx	 ctx;
	char		 d[8];

	if (hash == NULL) {
		hash_init(&ctx);
		hash_update(&ctx, data, strlen(data));
		hash_final_hex(&ctx, h);
	} else
		snprintf(h, sizeof(h), "%s", hash);
	snprintf(d, sizeof(d), "%.2s", h);
	(void)mkdir(test_path(d), 0750);
	snprintf(d, sizeof(d), "%.2s/%.2s", h, h + 2);
	(void)mkdir(test_path(d), 0750);
	write_file(rel_of(h), data, secs);
	return h;
}

/* A file and its row, consistent. */
static const char *
stored(const char *data)
{
	const char	*h = plant(NULL, data, OLD);

	add_row(h, strlen(data));
	return h;
}

/* Whether a report line is line, or line followed by ": ...". */
static bool
reported(const char *line)
{
	const char	*p = said;
	size_t		 n = strlen(line);

	for (; (p = strstr(p, line)) != NULL; p++)
		if ((p == said || p[-1] == '\n') &&
		    (p[n] == '\n' || (p[n] == ':' && p[n + 1] == ' ')))
			return true;
	return false;
}

#define ck_reported(line)						\
	ck_assert_msg(reported(line), "not reported: %s\n--- said:\n%s",	\
	    line, said)
#define ck_said(text)							\
	ck_assert_msg(strstr(said, text) != NULL,			\
	    "no \"%s\" in:\n%s", text, said)
#define ck_warned(text)							\
	ck_assert_msg(strstr(warned, text) != NULL,			\
	    "no warning \"%s\" in:\n%s", text, warned)

static void
run_ok(void)
{
	ck_assert_msg(fsck_run(&f) == 0, "fsck_run failed: %s", warned);
	ck_assert_int_eq(db.ends, 1);
	ck_assert_int_eq(db.pending, -1);	/* no delete left open */
}

#define H0	"0000000000000000000000000000000000000000000000000000000000000000"
#define HF	"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"

/* ---------------------------------------------------------------- tests */

START_TEST(test_clean)
{
	char	 line[256];

	stored("one");
	stored("two");
	stored("three");
	f.verify = true;
	run_ok();
	ck_assert_str_eq(said, "");
	ck_assert_str_eq(warned, "");
	fsck_summary(&f, line, sizeof(line));
	ck_assert_str_eq(line, "3 rows, 3 files: 0 missing, 0 orphan, "
	    "0 corrupt, 0 stray, 0 stale temp");
	ck_assert_int_eq(fsck_status(&f), 0);
}
END_TEST

START_TEST(test_empty)
{
	run_ok();
	ck_assert_uint_eq(f.rows + f.files, 0);
	ck_assert_int_eq(fsck_status(&f), 0);
}
END_TEST

START_TEST(test_missing)
{
	const char	*h;

	stored("kept");
	h = stored("lost");
	ck_assert_int_eq(unlink(test_path(rel_of(h))), 0);
	run_ok();
	ck_assert_int_eq(f.problems[FSCK_MISSING], 1);
	ck_assert_int_eq(fsck_status(&f), 1);
	ck_assert(recorded(h));		/* reported only */
}
END_TEST

/* The listing's snapshot is older than the walk: a row gone since is none. */
START_TEST(test_missing_deleted_meanwhile)
{
	struct fake_row	*r;

	stored("kept");
	r = add_row(H0, 1);
	r->recorded = false;
	run_ok();
	ck_assert_str_eq(said, "");
	ck_assert_int_eq(fsck_status(&f), 0);
}
END_TEST

START_TEST(test_missing_repair)
{
	char	 line[128];

	stored("kept");
	add_row(H0, 1);
	f.repair = true;
	run_ok();
	snprintf(line, sizeof(line), "missing %s: row deleted "
	    "(file_name row.txt)", H0);
	ck_reported(line);
	ck_assert(!recorded(H0));
	ck_assert_int_eq(db.commits, 1);
}
END_TEST

/* A worker killed mid-delete: its trash is the file, put back. */
START_TEST(test_missing_repair_from_trash)
{
	const char	*h;
	char		 hash[HASH_HEX_LEN + 1], trash[128], line[256];

	stored("kept");
	h = stored("trashed");
	snprintf(hash, sizeof(hash), "%s", h);
	snprintf(trash, sizeof(trash), "tmp/trash-%s-1-x", hash);
	ck_assert_int_eq(move(rel_of(hash), trash), 0);
	f.repair = true;
	run_ok();
	snprintf(line, sizeof(line), "missing %s: file restored from %s",
	    hash, trash);
	ck_reported(line);
	ck_assert(recorded(hash));
	ck_assert(test_path_exists(rel_of(hash)));
	ck_assert(!test_path_exists(trash));
	ck_assert_int_eq(db.rollbacks, 1);
	ck_assert_int_eq(db.commits, 0);
}
END_TEST

START_TEST(test_missing_repair_fails)
{
	char	 line[128];

	stored("kept");
	add_row(H0, 1);
	f.repair = true;
	db.fail_commit = true;
	run_ok();
	snprintf(line, sizeof(line), "missing %s: not repaired", H0);
	ck_reported(line);
	ck_warned("cannot delete the row: the double says no");
	ck_assert_int_eq(fsck_status(&f), 2);
}
END_TEST

START_TEST(test_orphan)
{
	const char	*h;
	char		 line[128];

	stored("kept");
	h = plant(NULL, "orphan", OLD);
	run_ok();
	snprintf(line, sizeof(line), "orphan %s", h);
	ck_reported(line);
	ck_assert(test_path_exists(rel_of(h)));
	ck_assert_int_eq(fsck_status(&f), 1);
}
END_TEST

START_TEST(test_orphan_repair)
{
	char	 old[HASH_HEX_LEN + 1], line[128];
	const char *young;

	stored("kept");
	snprintf(old, sizeof(old), "%s", plant(NULL, "old orphan", OLD));
	young = plant(NULL, "young orphan", 60);
	f.repair = true;
	run_ok();
	snprintf(line, sizeof(line), "orphan %s: removed", old);
	ck_reported(line);
	ck_assert(!test_path_exists(rel_of(old)));
	snprintf(line, sizeof(line), "orphan %s: kept, younger than 10 "
	    "minutes", young);
	ck_said(line);
	ck_assert(test_path_exists(rel_of(young)));
	ck_assert_int_eq(test_count_entries(test_path("tmp")), 0);
}
END_TEST

/* Recorded since the listing began: no orphan after all. */
START_TEST(test_orphan_recorded_meanwhile)
{
	const char	*h;
	struct fake_row	*r;

	stored("kept");
	h = plant(NULL, "late", OLD);
	r = add_row(h, 4);
	r->listed = false;
	f.repair = true;
	run_ok();
	ck_assert_str_eq(said, "");
	ck_assert(test_path_exists(rel_of(h)));
}
END_TEST

START_TEST(test_corrupt_size)
{
	const char	*h;
	char		 line[128];

	h = stored("right");
	db.rows[0].r.size = 99;
	run_ok();
	snprintf(line, sizeof(line), "corrupt %s: size 5, recorded 99", h);
	ck_reported(line);
}
END_TEST

START_TEST(test_corrupt_content)
{
	char	 line[256], h[HASH_HEX_LEN + 1];

	snprintf(h, sizeof(h), "%s", stored("right"));
	plant(h, "wrong", OLD);		/* same size, other bytes */
	run_ok();
	ck_assert_str_eq(said, "");	/* the content only with verify */
	f.verify = true;
	db.ends = 0;
	run_ok();
	snprintf(line, sizeof(line), "corrupt %s: content hashes to ", h);
	ck_said(line);
}
END_TEST

START_TEST(test_corrupt_repair)
{
	char	 line[512], h[HASH_HEX_LEN + 1];

	stored("kept");
	snprintf(h, sizeof(h), "%s", stored("right"));
	plant(h, "wrong", OLD);
	f.repair = f.verify = true;
	run_ok();
	snprintf(line, sizeof(line), "row deleted (file_name row.txt), file "
	    "moved to lost+found/%s", h);
	ck_said(line);
	ck_assert(!recorded(h));
	ck_assert(!test_path_exists(rel_of(h)));
	snprintf(line, sizeof(line), "lost+found/%s", h);
	ck_assert(test_path_exists(line));
	/* lost+found is the store's, not a stray; the state is clean. */
	said[0] = '\0';
	db.ends = 0;
	run_ok();
	ck_assert_str_eq(said, "");
	ck_assert_int_eq(fsck_status(&f), 0);
}
END_TEST

/* The row cannot go: the file comes back from lost+found. */
START_TEST(test_corrupt_repair_commit_fails)
{
	char	 line[256], h[HASH_HEX_LEN + 1];

	stored("kept");
	snprintf(h, sizeof(h), "%s", stored("right"));
	row_of(h)->r.size = 1;
	f.repair = true;
	db.fail_commit = true;
	run_ok();
	snprintf(line, sizeof(line), "corrupt %s: size 5, recorded 1; not "
	    "repaired", h);
	ck_reported(line);
	ck_assert(recorded(h));
	ck_assert(test_path_exists(rel_of(h)));
	ck_assert_int_eq(fsck_status(&f), 2);
}
END_TEST

START_TEST(test_strays)
{
	char	 upper[128], misplaced[128];

	stored("kept");
	write_file("junk", "x", OLD);
	write_file("tmp/junk", "x", OLD);
	ck_assert_int_eq(mkdir(test_path("zz"), 0750), 0);
	ck_assert_int_eq(mkdir(test_path("ab"), 0750), 0);
	ck_assert_int_eq(mkdir(test_path("ab/cd"), 0750), 0);
	write_file("ab/x", "x", OLD);
	/* A stored file's name, upper case, and one in another's directory. */
	snprintf(upper, sizeof(upper), "ab/cd/ABCD%.60s", HF);
	write_file(upper, "x", OLD);
	snprintf(misplaced, sizeof(misplaced), "ab/cd/%s", HF);
	write_file(misplaced, "x", OLD);
	write_file("ab/cd/bad\nname", "x", OLD);
	ck_assert_int_eq(symlink("ab", test_path("ef")), 0);
	run_ok();
	ck_reported("stray junk");
	ck_reported("stray tmp/junk");
	ck_reported("stray zz");
	ck_reported("stray ab/x");
	ck_said("stray ab/cd/ABCD");
	ck_said(misplaced);
	ck_reported("stray ab/cd/bad\\x0aname");
	ck_reported("stray ef");
	ck_assert_int_eq(f.problems[FSCK_STRAY], 8);
	ck_assert_uint_eq(f.files, 1);
	/* Only reported, whatever -r says. */
	f.repair = true;
	said[0] = '\0';
	db.ends = 0;
	run_ok();
	ck_assert_int_eq(f.problems[FSCK_STRAY], 8);
	ck_assert(test_path_exists("junk") && test_path_exists("tmp/junk") && test_path_exists(misplaced));
}
END_TEST

START_TEST(test_stale_temp)
{
	int	 fd;

	stored("kept");
	write_file("tmp/upload-1-dead", "", 5 * 60);
	write_file("tmp/upload-2-young", "", 0);
	write_file("tmp/upload-3-live", "", 5 * 60);
	ck_assert_int_ge(fd = open(test_path("tmp/upload-3-live"), O_RDONLY), 0);
	ck_assert_int_eq(flock(fd, LOCK_EX), 0);
	/* Never locked: the store's rule gives them an hour. */
	write_file("tmp/new-4-fresh", "", 5 * 60);
	write_file("tmp/new-5-dead", "", OLD);
	run_ok();
	ck_reported("stale-temp upload-1-dead");
	ck_reported("stale-temp new-5-dead");
	ck_assert_int_eq(f.problems[FSCK_STALE_TEMP], 2);
	ck_assert(test_path_exists("tmp/upload-1-dead"));
	f.repair = true;
	said[0] = '\0';
	db.ends = 0;
	run_ok();
	ck_reported("stale-temp upload-1-dead: removed");
	ck_reported("stale-temp new-5-dead: removed");
	ck_assert(!test_path_exists("tmp/upload-1-dead") && !test_path_exists("tmp/new-5-dead"));
	ck_assert(test_path_exists("tmp/upload-2-young") && test_path_exists("tmp/upload-3-live") &&
	    test_path_exists("tmp/new-4-fresh"));
	close(fd);
}
END_TEST

/* The id of the one recorded resumable upload of the fake table. */
#define LIVE_UPLOAD	"AbCdEfGhIjKlMnOpQr-_09"

static int
fake_upload_exists(void *arg, const char *id)
{
	struct fake_db	*d = arg;

	if (d->fail_exists)
		return -1;
	return strcmp(id, LIVE_UPLOAD) == 0;
}

/*
 * A resumable upload's partial file is stale when its upload is not
 * recorded; a recorded one's, or one written lately, is left alone.
 */
START_TEST(test_stale_part)
{
	stored("kept");
	dbops.upload_exists = fake_upload_exists;
	write_file("tmp/part-" LIVE_UPLOAD, "abc", 5 * 60);
	write_file("tmp/part-ZZZZZZZZZZZZZZZZZZZZZZ", "abc", 5 * 60);
	write_file("tmp/part-YYYYYYYYYYYYYYYYYYYYYY", "abc", 0);
	run_ok();
	ck_reported("stale-temp part-ZZZZZZZZZZZZZZZZZZZZZZ");
	ck_assert_int_eq(f.problems[FSCK_STALE_TEMP], 1);
	ck_assert_int_eq(f.problems[FSCK_STRAY], 0);
	f.repair = true;
	said[0] = '\0';
	db.ends = 0;
	run_ok();
	ck_reported("stale-temp part-ZZZZZZZZZZZZZZZZZZZZZZ: removed");
	ck_assert(!test_path_exists("tmp/part-ZZZZZZZZZZZZZZZZZZZZZZ"));
	ck_assert(test_path_exists("tmp/part-" LIVE_UPLOAD) &&
	    test_path_exists("tmp/part-YYYYYYYYYYYYYYYYYYYYYY"));
	/* Without the table's word, nothing is said or done. */
	dbops.upload_exists = NULL;
	write_file("tmp/part-ZZZZZZZZZZZZZZZZZZZZZZ", "abc", 5 * 60);
	said[0] = '\0';
	db.ends = 0;
	run_ok();
	ck_assert_int_eq(f.problems[FSCK_STALE_TEMP], 0);
	ck_assert(test_path_exists("tmp/part-ZZZZZZZZZZZZZZZZZZZZZZ"));
}
END_TEST

START_TEST(test_stale_trash)
{
	char	 h[HASH_HEX_LEN + 1], t1[128], t2[128], t3[128], line[256];
	int	 fd;

	stored("kept");
	/* Its row still there and its place empty: back it goes. */
	snprintf(h, sizeof(h), "%s", stored("deleted?"));
	snprintf(t1, sizeof(t1), "tmp/trash-%s-1-a", h);
	ck_assert_int_eq(move(rel_of(h), t1), 0);
	test_age(t1, OLD);
	/* A second copy, the place taken by then; and one of no row. */
	snprintf(t2, sizeof(t2), "tmp/trash-%s-1-b", h);
	write_file(t2, "deleted?", OLD);
	snprintf(t3, sizeof(t3), "tmp/trash-%s-1-c", HF);
	write_file(t3, "gone", OLD);
	/* A live delete's (locked), and one not an hour old. */
	write_file("tmp/trash-" H0 "-2-live", "x", OLD);
	ck_assert_int_ge(fd = open(test_path("tmp/trash-" H0 "-2-live"),
	    O_RDONLY), 0);
	ck_assert_int_eq(flock(fd, LOCK_EX), 0);
	write_file("tmp/trash-" H0 "-3-young", "x", 60);
	f.repair = true;
	run_ok();
	/* The merge saw it missing first, and restored it from t1. */
	snprintf(line, sizeof(line), "missing %s: file restored from %s", h,
	    t1);
	ck_reported(line);
	snprintf(line, sizeof(line), "stale-temp %s: removed", t2 + 4);
	ck_reported(line);
	snprintf(line, sizeof(line), "stale-temp %s: removed", t3 + 4);
	ck_reported(line);
	ck_assert(test_path_exists(rel_of(h)) && recorded(h));
	ck_assert_int_eq(test_count_entries(test_path("tmp")), 2);
	close(fd);
}
END_TEST

/* A trash file found by the tmp/ walk only (no missing row before it). */
START_TEST(test_stale_trash_restored)
{
	char	 h[HASH_HEX_LEN + 1], t[128], line[256];

	stored("kept");
	snprintf(h, sizeof(h), "%s", stored("deleted?"));
	snprintf(t, sizeof(t), "tmp/trash-%s-1-a", h);
	ck_assert_int_eq(move(rel_of(h), t), 0);
	test_age(t, OLD);
	/* Not in the listing's snapshot (recorded after it began). */
	row_of(h)->listed = false;
	run_ok();
	snprintf(line, sizeof(line), "stale-temp %s", t + 4);
	ck_reported(line);
	f.repair = true;
	said[0] = '\0';
	db.ends = 0;
	run_ok();
	snprintf(line, sizeof(line), "stale-temp %s: restored to its "
	    "recorded place", t + 4);
	ck_reported(line);
	ck_assert(test_path_exists(rel_of(h)) && !test_path_exists(t));
	ck_assert_int_eq(db.rollbacks, 1);
}
END_TEST

/* Rows and not one file: an unmounted DATA_DIR, not a loss to mend. */
START_TEST(test_refuse_rows_without_files)
{
	add_row(H0, 1);
	add_row(HF, 1);
	f.repair = true;
	run_ok();
	ck_assert(!f.repair);
	ck_warned("rows but no stored file at all: not repairing");
	ck_assert_int_eq(f.problems[FSCK_MISSING], 2);
	ck_assert(recorded(H0) && recorded(HF));
	ck_assert_int_eq(db.commits, 0);
	ck_assert_int_eq(fsck_status(&f), 2);
}
END_TEST

/* Files and not one row: the wrong database, not orphans to remove. */
START_TEST(test_refuse_files_without_rows)
{
	char	 a[HASH_HEX_LEN + 1];

	snprintf(a, sizeof(a), "%s", plant(NULL, "one", OLD));
	plant(NULL, "two", OLD);
	f.repair = true;
	run_ok();
	ck_assert(!f.repair);
	ck_warned("stored files but no row at all: not repairing");
	ck_assert_int_eq(f.problems[FSCK_ORPHAN], 2);
	ck_assert(test_path_exists(rel_of(a)));
	ck_assert_int_eq(fsck_status(&f), 2);
}
END_TEST

START_TEST(test_db_errors)
{
	stored("kept");
	db.fail_begin = true;
	ck_assert_int_eq(fsck_run(&f), -1);
	ck_warned("listing the rows: the double says no");
	db.fail_begin = false;
	db.fail_next_at = 2;
	ck_assert_int_eq(fsck_run(&f), -1);
	ck_warned("reading the rows: the double says no");
	ck_assert_int_eq(db.ends, 1);
	/* exists failing: the entry is skipped and counted, the walk goes on. */
	db.fail_next_at = 0;
	add_row(H0, 1);
	db.fail_exists = true;
	warned[0] = '\0';
	db.ends = 0;
	run_ok();
	ck_warned("missing " H0 ": cannot check the row");
	ck_assert_int_eq(fsck_status(&f), 2);
}
END_TEST

START_TEST(test_rows_checked)
{
	struct fake_row	*r;

	stored("kept");
	r = add_row(HF, 1);
	r->r.hash[0] = 'F';		/* not lowercase */
	ck_assert_int_eq(fsck_run(&f), -1);
	ck_warned("not 64 lowercase hex digits");
	/* Out of byte order: the merge would be wrong, so it stops. */
	r->r.hash[0] = 'f';
	db.rows[db.n++] = db.rows[0];
	warned[0] = '\0';
	ck_assert_int_eq(fsck_run(&f), -1);
	ck_warned("rows not in byte order");
}
END_TEST

START_TEST(test_vis)
{
	char	 out[FSCK_VIS_MAX];
	char	 name[256];

	fsck_vis("a b\\c\x7f\xc3\xa9", out, sizeof(out));
	ck_assert_str_eq(out, "a\\x20b\\x5cc\\x7f\\xc3\\xa9");
	memset(name, 0x01, 255);
	name[255] = '\0';
	fsck_vis(name, out, sizeof(out));
	ck_assert_uint_eq(strlen(out), 4 * 255);
}
END_TEST

/* ------------------------------------------------ a long stream, generated */

/*
 * N stored files and N rows, both generated as they are read: hash i is i
 * in 64 hex digits.  Every tenth row has no file (i % 10 == 7) and every
 * tenth file no row (i % 10 == 3), so both sides of the merge advance
 * alone as well as together.  The doubles hold a counter each, nothing per
 * entry; what the merge keeps is measured by the allocator.
 */
#define GEN_N		200000

static void
gen_hash(uint64_t i, char out[HASH_HEX_LEN + 1])
{
	snprintf(out, HASH_HEX_LEN + 1, "%064" PRIx64, i);
}

static uint64_t
gen_index(const char *hash)
{
	return strtoull(hash + HASH_HEX_LEN - 16, NULL, 16);
}

struct gen_store {
	struct store	 base;
	int		 walks;		/* open */
};

struct gen_walk {
	struct store_walk base;
	uint64_t	 i;
	bool		 tmp;
};

static struct gen_walk	 gen_walk_files_, gen_walk_tmp_;

static struct store_walk *
gen_walk_open(struct store *s, struct gen_walk *w, bool tmp)
{
	((struct gen_store *)s)->walks++;
	memset(w, 0, sizeof(*w));
	w->base.store = s;
	w->tmp = tmp;
	return &w->base;
}

static struct store_walk *
gen_walk_files(struct store *s)
{
	return gen_walk_open(s, &gen_walk_files_, false);
}

static struct store_walk *
gen_walk_tmp(struct store *s, int upload_grace, int trash_grace)
{
	(void)upload_grace;
	(void)trash_grace;
	return gen_walk_open(s, &gen_walk_tmp_, true);
}

static int
gen_walk_next(struct store_walk *sw, struct store_entry *e)
{
	struct gen_walk	*w = (struct gen_walk *)sw;

	if (w->tmp)
		return 0;
	while (w->i < GEN_N && w->i % 10 == 7)
		w->i++;
	if (w->i == GEN_N)
		return 0;
	memset(e, 0, sizeof(*e));
	e->kind = STORE_ENTRY_FILE;
	gen_hash(w->i, e->hash);
	e->st.size = w->i;
	e->st.mtime = 0;
	w->i++;
	return 1;
}

static void
gen_walk_close(struct store_walk *sw)
{
	((struct gen_store *)sw->store)->walks--;
}

static bool
gen_exists(struct store *s, const char *hash)
{
	(void)s;
	return gen_index(hash) % 10 != 7;
}

static const struct store_ops gen_ops = {
	.exists = gen_exists,
	.walk_files = gen_walk_files,
	.walk_tmp = gen_walk_tmp,
	.walk_next = gen_walk_next,
	.walk_close = gen_walk_close,
};

struct gen_db {
	uint64_t	 i;
	size_t		 heap_early, heap_late;	/* in use at two rows */
};

static size_t
heap_in_use(void)
{
	return mallinfo2().uordblks;
}

static int
gen_rows_begin(void *arg)
{
	((struct gen_db *)arg)->i = 0;
	return 0;
}

static int
gen_rows_next(void *arg, struct fsck_row *r)
{
	struct gen_db	*g = arg;

	while (g->i < GEN_N && g->i % 10 == 3)
		g->i++;
	if (g->i == GEN_N)
		return 0;
	if (g->i == 1000)
		g->heap_early = heap_in_use();
	if (g->i == GEN_N - 1)
		g->heap_late = heap_in_use();
	gen_hash(g->i, r->hash);
	r->size = g->i;
	g->i++;
	return 1;
}

static void
gen_rows_end(void *arg)
{
	(void)arg;
}

static int
gen_db_exists(void *arg, const char *hash)
{
	(void)arg;
	return gen_index(hash) % 10 != 3;
}

START_TEST(test_long_stream_constant_memory)
{
	struct gen_store gs = { .base = { &gen_ops } };
	struct gen_db	 g = { 0 };
	struct fsck_db	 gdb = { &g, gen_rows_begin, gen_rows_next,
			    gen_rows_end, gen_db_exists, NULL, NULL, NULL,
			    fake_error, NULL };
	struct fsck	 lf = { 0 };
	char		 line[256];
	uint64_t	 tenth = GEN_N / 10;

	lf.store = &gs.base;
	lf.db = &gdb;
	lf.warn = on_warn;		/* no report: nothing kept here */
	warned[0] = '\0';
	ck_assert_int_eq(fsck_run(&lf), 0);
	ck_assert_str_eq(warned, "");
	ck_assert_int_eq(gs.walks, 0);	/* every walk closed */
	ck_assert_uint_eq(lf.rows, GEN_N - tenth);
	ck_assert_uint_eq(lf.files, GEN_N - tenth);
	ck_assert_uint_eq(lf.problems[FSCK_MISSING], tenth);
	ck_assert_uint_eq(lf.problems[FSCK_ORPHAN], tenth);
	ck_assert_uint_eq(lf.problems[FSCK_CORRUPT], 0);
	fsck_summary(&lf, line, sizeof(line));
	ck_assert_str_eq(line, "180000 rows, 180000 files: 20000 missing, "
	    "20000 orphan, 0 corrupt, 0 stray, 0 stale temp");
	/* No growth from row 1000 to the last (a few KiB of slack). */
	ck_assert_msg(g.heap_late <= g.heap_early + 4096,
	    "heap grew from %zu to %zu bytes", g.heap_early, g.heap_late);
}
END_TEST

static Suite *
fsck_suite(void)
{
	Suite	*s = suite_create("fsck");
	TCase	*tc;

	tc = test_dir_tcase("problems", setup, teardown);
	tcase_add_test(tc, test_clean);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_missing);
	tcase_add_test(tc, test_missing_deleted_meanwhile);
	tcase_add_test(tc, test_orphan);
	tcase_add_test(tc, test_orphan_recorded_meanwhile);
	tcase_add_test(tc, test_corrupt_size);
	tcase_add_test(tc, test_corrupt_content);
	tcase_add_test(tc, test_strays);
	tcase_add_test(tc, test_stale_temp);
	tcase_add_test(tc, test_stale_part);
	tcase_add_test(tc, test_vis);
	suite_add_tcase(s, tc);

	tc = test_dir_tcase("repairs", setup, teardown);
	tcase_add_test(tc, test_missing_repair);
	tcase_add_test(tc, test_missing_repair_from_trash);
	tcase_add_test(tc, test_missing_repair_fails);
	tcase_add_test(tc, test_orphan_repair);
	tcase_add_test(tc, test_corrupt_repair);
	tcase_add_test(tc, test_corrupt_repair_commit_fails);
	tcase_add_test(tc, test_stale_trash);
	tcase_add_test(tc, test_stale_trash_restored);
	suite_add_tcase(s, tc);

	tc = test_dir_tcase("refusals and errors", setup, teardown);
	tcase_add_test(tc, test_refuse_rows_without_files);
	tcase_add_test(tc, test_refuse_files_without_rows);
	tcase_add_test(tc, test_db_errors);
	tcase_add_test(tc, test_rows_checked);
	suite_add_tcase(s, tc);

	tc = tcase_create("constant memory");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_long_stream_constant_memory);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(fsck_suite)
