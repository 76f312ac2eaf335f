/*
 * Schema migrations: sql/NNN_name.sql files applied in order, each in its own
 * transaction (or, when its first line is "-- migrate: no transaction", one
 * statement at a time), recorded in schema_migrations, under an advisory
 * lock so two runs at once are safe.
 */
#ifndef MIGRATE_H
#define MIGRATE_H

#include <stddef.h>
#include <libpq-fe.h>

/*
 * Applies every migration of dir not yet recorded.  Prints one line per
 * applied migration to stdout.  Returns 0, or -1 with a reason in err.
 */
int	migrate_up(PGconn *, const char *dir, char *err, size_t errlen);
/* Prints each migration of dir and whether it is applied.  0 or -1. */
int	migrate_status(PGconn *, const char *dir, char *err, size_t errlen);

#endif
