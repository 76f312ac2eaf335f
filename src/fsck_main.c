/*
 * fileupload-fsck: checks (and with -r mends) the files table against
 * DATA_DIR.  Configured by the worker's environment (DB_*, ROOT_DIR,
 * DATA_DIR); safe to run while the workers serve.  Problems go to stdout,
 * one line each, then a summary line; errors go to stderr.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "config.h"
#include "fsck.h"
#include "store.h"

#define PROG	"fileupload-fsck"

static void
usage(void)
{
	fprintf(stderr, "usage: " PROG " [-qrv]\n");
	exit(2);
}

static void
print_line(void *arg, enum fsck_problem p, const char *line)
{
	const bool	*quiet = arg;

	(void)p;
	if (!*quiet)
		printf("%s\n", line);
}

static void
print_warn(void *arg, const char *msg)
{
	(void)arg;
	fflush(stdout);
	fprintf(stderr, PROG ": %s\n", msg);
}

/*
 * store_open makes DATA_DIR/tmp when it is missing.  Run as root, that
 * would leave the workers a tmp/ they cannot write: hand it to DATA_DIR's
 * owner.
 */
static int
open_store(struct store *st, const char *data_dir)
{
	struct stat	 dst, tst;
	bool		 had_tmp;
	int		 fd;

	if ((fd = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	had_tmp = fstatat(fd, "tmp", &tst, AT_SYMLINK_NOFOLLOW) == 0;
	if (fstat(fd, &dst) == -1) {
		close(fd);
		return -1;
	}
	close(fd);
	if (store_open(st, data_dir) == -1)
		return -1;
	if (!had_tmp && geteuid() == 0 &&
	    fchown(st->tmpfd, dst.st_uid, dst.st_gid) == -1) {
		store_close(st);
		return -1;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	struct config	 cfg;
	struct store	 st = { .dirfd = -1, .tmpfd = -1 };
	struct fsck_db	 db;
	struct fsck	 f;
	char		 err[1024], line[256];
	bool		 quiet = false;
	int		 ch, rc;

	memset(&f, 0, sizeof(f));
	while ((ch = getopt(argc, argv, "qrv")) != -1) {
		switch (ch) {
		case 'q':
			quiet = true;
			break;
		case 'r':
			f.repair = true;
			break;
		case 'v':
			f.verify = true;
			break;
		default:
			usage();
		}
	}
	if (argc != optind)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (hash_library_init() == -1) {
		fprintf(stderr, PROG ": libsodium cannot be initialised\n");
		return 2;
	}
	if (config_load(&cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, PROG ": %s\n", err);
		return 2;
	}
	if (open_store(&st, cfg.data_dir) == -1) {
		fprintf(stderr, PROG ": DATA_DIR: cannot use %s: %s\n",
		    cfg.data_dir, strerror(errno));
		config_free(&cfg);
		return 2;
	}
	if (fsck_pg_open(&db, &cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, PROG ": %s\n", err);
		store_close(&st);
		config_free(&cfg);
		return 2;
	}

	f.store = &st;
	f.db = &db;
	f.report = print_line;
	f.warn = print_warn;
	f.arg = &quiet;
	if (fsck_run(&f) == -1) {
		fprintf(stderr, PROG ": check not completed\n");
		rc = 2;
	} else {
		fsck_summary(&f, line, sizeof(line));
		printf("%s\n", line);
		rc = fsck_status(&f);
	}

	fsck_pg_close(&db);
	store_close(&st);
	config_free(&cfg);
	if (fflush(stdout) == EOF && rc == 0)
		rc = 2;
	return rc;
}
