/*
 * fileupload-fsck: the files table against the store, after a crash or at
 * any time while the workers run.
 *
 * Both sides are read in byte order of the hash and merged, so memory does
 * not grow with the number of files: the rows come one at a time, the
 * stored files from the store's walk (store_walk_files).  What the merge
 * finds is reported through a callback, one line per problem; with repair
 * set, each problem that is understood is also mended, and the line says
 * how.  Then the store's abandoned temp and trash files (store_walk_tmp).
 *
 * This file knows neither SQL nor the layout of DATA_DIR: the database is
 * a table of callbacks (struct fsck_db: PostgreSQL in fsck_pg.c, a test
 * double in tests/check_fsck.c), the files are the store's functions.
 */
#ifndef FSCK_H
#define FSCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "hash.h"

struct store;

/* An orphan younger than this may be an upload between rename and COMMIT. */
#define FSCK_ORPHAN_AGE		(10 * 60)
/*
 * The margins (seconds) fsck gives an unlocked upload temp file and trash
 * file before it calls them stale; the rule is the store's.
 */
#define FSCK_UPLOAD_AGE		60
#define FSCK_TRASH_AGE		(60 * 60)
/* A name of 255 bytes, every byte escaped as \xNN, and a NUL. */
#define FSCK_VIS_MAX		(4 * 255 + 5)

enum fsck_problem {
	FSCK_MISSING,		/* a row without its file */
	FSCK_ORPHAN,		/* a stored file without its row */
	FSCK_CORRUPT,		/* size or content not the row's */
	FSCK_STRAY,		/* anything else in DATA_DIR */
	FSCK_STALE_TEMP,	/* an abandoned upload or trash file in tmp/, or
				   a partial file whose upload is gone */
	FSCK__MAX
};

struct fsck_row {
	char		hash[HASH_HEX_LEN + 1];
	uint64_t	size;
};

/*
 * The database.  Every function gets arg.  The rows are one listing,
 * begun, read to the end (or not) and ended; the other calls go through a
 * second connection, so they may come while the listing is open.
 */
struct fsck_db {
	void	*arg;
	/* Starts listing every row in byte order of file_hash: 0, or -1. */
	int	 (*rows_begin)(void *arg);
	/* The next row: 1 with *row filled, 0 at the end, -1 on error. */
	int	 (*rows_next)(void *arg, struct fsck_row *row);
	/* Ends the listing, whether or not it reached its end. */
	void	 (*rows_end)(void *arg);
	/* Whether hash is recorded (committed) now: 1, 0, or -1 on error. */
	int	 (*exists)(void *arg, const char *hash);
	/*
	 * Deletes the row of hash in a transaction left open, the row locked
	 * until commit or rollback: 1 (a one-line description of the row in
	 * desc), 0 when there is no such row (nothing is left open), -1 on
	 * error (nothing is left open).
	 */
	int	 (*delete_begin)(void *arg, const char *hash, char *desc,
		    size_t desclen);
	/* Commits that delete: 0, or -1 when the row is still there. */
	int	 (*commit)(void *arg);
	void	 (*rollback)(void *arg);
	/* The last error, for messages; never NULL. */
	const char *(*error)(void *arg);
	/*
	 * Whether the resumable upload id is recorded: 1, 0, or -1 on error.
	 * NULL: partial files are not checked.
	 */
	int	 (*upload_exists)(void *arg, const char *id);
};

struct fsck {
	/* Set by the caller. */
	struct store	*store;		/* opened */
	struct fsck_db	*db;
	bool		 repair;	/* -r: mend what is understood */
	bool		 verify;	/* -v: hash every file's content */
	time_t		 now;		/* 0: when fsck_run starts */
	/* One line per problem, without a newline; NULL: none. */
	void		(*report)(void *arg, enum fsck_problem,
			    const char *line);
	/* One line per error (the check goes on where it can); NULL: none. */
	void		(*warn)(void *arg, const char *msg);
	void		*arg;		/* for report and warn */

	/* Set by fsck_run. */
	uint64_t	 rows;		/* rows read */
	uint64_t	 files;		/* well-named files seen */
	uint64_t	 problems[FSCK__MAX];
	uint64_t	 errors;	/* not checked or not mended */
};

/*
 * Runs the check, and the repairs when f->repair is set (but not when
 * there are rows and no stored file at all, or the reverse: then
 * f->repair is cleared and an error counted).  Returns 0 when
 * the walk finished (errors on single entries are counted in f->errors and
 * passed to f->warn), or -1 when it could not (the database listing
 * failed, DATA_DIR could not be read); the reason went to f->warn.
 */
int		 fsck_run(struct fsck *f);

/*
 * "N rows, N files: N missing, N orphan, N corrupt, N stray, N stale temp"
 * into buf (truncated to len).
 */
void		 fsck_summary(const struct fsck *f, char *buf, size_t len);

/* The exit status: 2 when errors were met, 1 on problems, else 0. */
int		 fsck_status(const struct fsck *f);

/*
 * A name as it can be printed on one line: bytes other than printable
 * ASCII, space and backslash become \xNN (out: FSCK_VIS_MAX bytes for any
 * file name).
 */
void		 fsck_vis(const char *in, char *out, size_t outlen);

#endif
