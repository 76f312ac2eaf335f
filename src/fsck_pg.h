/*
 * fsck's database side on PostgreSQL: a struct fsck_db (fsck.h) whose rows
 * come through a connection of their own (single-row mode, so one row at
 * a time; application_name fileupload-fsck) and whose existence checks and
 * deletes go through db.h's connection.
 */
#ifndef FSCK_PG_H
#define FSCK_PG_H

#include <stddef.h>

struct config;
struct fsck_db;

/*
 * Connects both at once.  Returns 0, or -1 with a one-line reason in err;
 * on success, fsck_pg_close releases db (safe to call twice).
 */
int		 fsck_pg_open(struct fsck_db *db, const struct config *cfg,
		    char *err, size_t errlen);
void		 fsck_pg_close(struct fsck_db *db);

#endif
