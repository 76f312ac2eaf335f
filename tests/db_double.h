/*
 * A stand-in for db.c in the unit tests: every db.h call of the worker
 * served from two small tables held in memory (files and uploads), with
 * the statements' conditions (an upload's offset, its lease, its
 * completion) and transactions that apply only on their COMMIT.  A test
 * program links db_double.c before libfileupload.a, so db.o is never
 * pulled in.  Single-threaded, as the tests are.
 */
#ifndef DB_DOUBLE_H
#define DB_DOUBLE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "db.h"
#include "meta.h"
#include "upload_row.h"

#define DOUBLE_FILES_MAX	16
#define DOUBLE_UPLOADS_MAX	16

struct double_upload {
	bool		 used;
	struct upload_row row;		/* expires, expired: from expires_at */
	time_t		 expires_at;
	char		 writer[33];	/* "" for none */
	time_t		 writer_until;
	char		 owner[17];	/* the token's id, "" for none */
};

struct double_db {
	struct meta	 files[DOUBLE_FILES_MAX];
	int		 nfiles;
	struct double_upload uploads[DOUBLE_UPLOADS_MAX];
	/* What the next calls answer instead. */
	bool		 unavailable;	/* every call: DB_ERR_UNAVAILABLE */
	enum db_error	 commit_fails;	/* the next COMMIT (DB_OK: none) */
	/* What happened. */
	int		 open_txs;	/* begun, not yet committed or rolled back */
	int		 commits;
	int		 rollbacks;
	int		 holds;		/* db_upload_hold calls */
	uint64_t	 held_at;	/* the offset of the last hold */
};

extern struct double_db	 double_db;

/* Empties both tables and forgets what happened. */
void	double_reset(void);
/* The upload of id, or NULL. */
struct double_upload *double_upload(const char *id);
/* The file row of hash, or NULL. */
const struct meta *double_file(const char *hash);
/* Records a file row, as an earlier upload would have. */
void	double_add_file(const char *hash, uint64_t size);

#endif
