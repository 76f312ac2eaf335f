/*
 * fileupload-fsck: checks (and with -r mends) the files table against
 * DATA_DIR.  Configured by the worker's environment (DB_*, ROOT_DIR,
 * DATA_DIR); safe to run while the workers serve.  Problems go to stdout,
 * one line each, then a summary line; errors go to stderr.  With -s it
 * only asks the object store whether it answers and accepts our
 * credentials (the container's start-up waits on it).
 */
#include <sys/stat.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fsck.h"
#include "fsck_pg.h"
#include "hash.h"
#include "s3.h"
#include "store.h"

#define PROG	"fileupload-fsck"

static void
usage(void)
{
	fprintf(stderr, "usage: " PROG " [-qrv] | -s\n");
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
 * Run as root, fsck becomes the owner of DATA_DIR (that user's uid,
 * primary group and groups) before it opens anything: it can then do
 * nothing the workers could not, wherever a link or a file planted in
 * DATA_DIR points, and what it makes (tmp/, lost+found/) is theirs.  A
 * DATA_DIR owned by root leaves it root.  0, or -1 with a reason in err.
 */
static int
become_owner(const char *data_dir, char *err, size_t errlen)
{
	struct stat	 st;
	struct passwd	*pw;
	gid_t		 gid;
	int		 rc;

	if (geteuid() != 0)
		return 0;
	if (stat(data_dir, &st) == -1) {
		snprintf(err, errlen, "DATA_DIR: %s: %s", data_dir,
		    strerror(errno));
		return -1;
	}
	if (st.st_uid == 0)
		return 0;
	if ((pw = getpwuid(st.st_uid)) != NULL) {
		gid = pw->pw_gid;
		rc = initgroups(pw->pw_name, gid);
	} else {
		gid = st.st_gid;
		rc = setgroups(1, &gid);
	}
	if (rc == -1 || setgid(gid) == -1 || setuid(st.st_uid) == -1) {
		snprintf(err, errlen, "cannot become uid %ld, the owner of "
		    "DATA_DIR: %s", (long)st.st_uid, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * -s: 0 when the object store answers and accepts our credentials, 1 when
 * it does not answer (or answers "later": a 5xx), 2 when it refuses (an
 * answer that waiting will not change: credentials, bucket), with its
 * own code and message.  A local store has nothing to ask.
 */
static int
check_store(const struct config *cfg)
{
	struct s3	 s3;
	char		 msg[768];
	enum s3_result	 e;

	if (cfg->s3 == NULL) {
		printf("no object store to check (STORAGE=local)\n");
		return 0;
	}
	if (s3_init(&s3, cfg->s3) == -1) {
		fprintf(stderr, PROG ": the S3 client cannot be set up\n");
		return 1;
	}
	e = s3_check_access(&s3, msg, sizeof(msg));
	s3_fini(&s3);
	fflush(stdout);
	switch (e) {
	case S3_OK:
		printf("the object store answers and accepts our "
		    "credentials\n");
		return 0;
	case S3_UNAVAILABLE:
		fprintf(stderr, PROG ": the object store does not answer: "
		    "%s\n", msg);
		return 1;
	default:
		fprintf(stderr, PROG ": the object store refused: %s\n", msg);
		return 2;
	}
}

int
main(int argc, char *argv[])
{
	struct config	 cfg;
	struct store	*st;
	struct fsck_db	 db;
	struct fsck	 f;
	char		 err[1024], line[256];
	bool		 quiet = false, store_only = false;
	int		 ch, rc;

	memset(&f, 0, sizeof(f));
	while ((ch = getopt(argc, argv, "qrsv")) != -1) {
		switch (ch) {
		case 'q':
			quiet = true;
			break;
		case 'r':
			f.repair = true;
			break;
		case 's':
			store_only = true;
			break;
		case 'v':
			f.verify = true;
			break;
		default:
			usage();
		}
	}
	if (argc != optind || (store_only && (quiet || f.repair ||
	    f.verify)))
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
	if (store_only) {
		rc = check_store(&cfg);
		config_free(&cfg);
		return rc;
	}
	/* A bucket has no DATA_DIR to own. */
	if ((cfg.s3 == NULL && become_owner(cfg.data_dir, err,
	    sizeof(err)) == -1) ||
	    (st = store_open(&cfg.store, err, sizeof(err))) == NULL) {
		fprintf(stderr, PROG ": %s\n", err);
		config_free(&cfg);
		return 2;
	}
	if (fsck_pg_open(&db, &cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, PROG ": %s\n", err);
		store_close(st);
		config_free(&cfg);
		return 2;
	}

	f.store = st;
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
	store_close(st);
	config_free(&cfg);
	if (fflush(stdout) == EOF && rc == 0)
		rc = 2;
	return rc;
}
