#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "migrate.h"

/* Any constant will do; it only has to be the same for every run. */
#define MIGRATE_LOCK_KEY	"7046315901"

#define MIGRATIONS_MAX	1000
#define LOCK_POLL_US	(100 * 1000)

/*
 * The first line of a migration that cannot run in a transaction (CREATE
 * INDEX CONCURRENTLY): its statements run one at a time, each ending with
 * ';' at the end of a line, and it is recorded after the last.  Such a
 * migration must be safe to run again from the start.
 */
#define NO_TRANSACTION	"-- migrate: no transaction\n"

/* A migration file is NNN_name.sql: three digits, an underscore, a name. */
static int
is_migration(const char *name)
{
	size_t	 n = strlen(name);

	return n > 8 && name[0] >= '0' && name[0] <= '9' &&
	    name[1] >= '0' && name[1] <= '9' && name[2] >= '0' &&
	    name[2] <= '9' && name[3] == '_' &&
	    strcmp(name + n - 4, ".sql") == 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted migration file names of dir; -1 on error. */
static int
list_migrations(const char *dir, char ***out, size_t *count, char *err,
    size_t errlen)
{
	DIR		*d;
	struct dirent	*de;
	char		**names = NULL;
	size_t		 n = 0;

	if ((d = opendir(dir)) == NULL) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if ((names = calloc(MIGRATIONS_MAX, sizeof(*names))) == NULL)
		abort();
	while ((de = readdir(d)) != NULL) {
		if (!is_migration(de->d_name))
			continue;
		if (n == MIGRATIONS_MAX) {
			snprintf(err, errlen, "%s: too many migrations", dir);
			closedir(d);
			return -1;
		}
		if ((names[n++] = strdup(de->d_name)) == NULL)
			abort();
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);
	*out = names;
	*count = n;
	return 0;
}

static void
free_names(char **names, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static char *
read_file(const char *dir, const char *name, char *err, size_t errlen)
{
	char	 path[4096], *buf;
	FILE	*f;
	long	 len;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%.400s: %s", path, strerror(errno));
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	if (len < 0 || (buf = malloc(len + 1)) == NULL ||
	    fread(buf, 1, len, f) != (size_t)len) {
		snprintf(err, errlen, "%.400s: cannot read", path);
		fclose(f);
		return NULL;
	}
	buf[len] = '\0';
	fclose(f);
	return buf;
}

/* Runs sql (one or more statements); -1 with the server's reason in err. */
static int
exec(PGconn *conn, const char *sql, char *err, size_t errlen)
{
	PGresult	*res = PQexec(conn, sql);
	ExecStatusType	 st = PQresultStatus(res);
	int		 rc = 0;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK &&
	    st != PGRES_EMPTY_QUERY) {
		snprintf(err, errlen, "%s", PQerrorMessage(conn));
		err[strcspn(err, "\n")] = '\0';
		rc = -1;
	}
	PQclear(res);
	return rc;
}

static int
is_applied(PGconn *conn, const char *version, int *applied, char *err,
    size_t errlen)
{
	const char	*p[1] = { version };
	PGresult	*res;

	res = PQexecParams(conn, "SELECT 1 FROM schema_migrations "
	    "WHERE version = $1", 1, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		snprintf(err, errlen, "%s", PQerrorMessage(conn));
		PQclear(res);
		return -1;
	}
	*applied = PQntuples(res) > 0;
	PQclear(res);
	return 0;
}

static int
prepare_table(PGconn *conn, char *err, size_t errlen)
{
	return exec(conn, "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    "version text PRIMARY KEY, "
	    "applied_at timestamptz NOT NULL DEFAULT now())", err, errlen);
}

static int
record(PGconn *conn, const char *name, char *err, size_t errlen)
{
	const char	*p[1] = { name };
	PGresult	*res;
	int		 ok;

	res = PQexecParams(conn, "INSERT INTO schema_migrations (version) "
	    "VALUES ($1)", 1, NULL, p, NULL, NULL, 0);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	PQclear(res);
	if (!ok)
		snprintf(err, errlen, "%s", PQerrorMessage(conn));
	return ok ? 0 : -1;
}

/* A NO_TRANSACTION migration's statements, one PQexec each. */
static int
exec_each(PGconn *conn, char *sql, char *err, size_t errlen)
{
	char	*p = sql, *end;

	while (*p != '\0') {
		if ((end = strstr(p, ";\n")) != NULL)
			end[1] = '\0';
		if (exec(conn, p, err, errlen) == -1)
			return -1;
		if (end == NULL)
			break;
		p = end + 2;
	}
	return 0;
}

static int
apply(PGconn *conn, const char *dir, const char *name, char *err,
    size_t errlen)
{
	char	*sql;

	if ((sql = read_file(dir, name, err, errlen)) == NULL)
		return -1;
	if (strncmp(sql, NO_TRANSACTION, strlen(NO_TRANSACTION)) == 0) {
		if (exec_each(conn, sql, err, errlen) == -1 ||
		    record(conn, name, err, errlen) == -1)
			goto fail;
		free(sql);
		return 0;
	}
	if (exec(conn, "BEGIN", err, errlen) == -1)
		goto fail;
	if (exec(conn, sql, err, errlen) == -1 ||
	    record(conn, name, err, errlen) == -1)
		goto rollback;
	if (exec(conn, "COMMIT", err, errlen) == -1)
		goto fail;
	free(sql);
	return 0;
rollback:
	{
		char	 ignored[8];

		(void)exec(conn, "ROLLBACK", ignored, sizeof(ignored));
	}
fail:
	free(sql);
	return -1;
}

/*
 * Takes the session's advisory lock, trying every LOCK_POLL_US: a
 * migrator blocked in pg_advisory_lock would hold a snapshot open, which
 * the CREATE INDEX CONCURRENTLY of the one holding the lock waits for.
 */
static int
lock(PGconn *conn, char *err, size_t errlen)
{
	PGresult	*res;
	int		 got;

	for (;;) {
		res = PQexec(conn, "SELECT pg_try_advisory_lock("
		    MIGRATE_LOCK_KEY ")");
		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			snprintf(err, errlen, "%s", PQerrorMessage(conn));
			err[strcspn(err, "\n")] = '\0';
			PQclear(res);
			return -1;
		}
		got = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
		PQclear(res);
		if (got)
			return 0;
		usleep(LOCK_POLL_US);
	}
}

int
migrate_up(PGconn *conn, const char *dir, char *err, size_t errlen)
{
	char	**names = NULL, why[512];
	size_t	 n = 0, i;
	int	 applied, rc = -1, count = 0;

	if (list_migrations(dir, &names, &n, err, errlen) == -1)
		return -1;
	/* Session lock: a second migrator waits here, then finds nothing to do. */
	if (lock(conn, err, errlen) == -1)
		goto out;
	if (prepare_table(conn, err, errlen) == -1)
		goto unlock;
	for (i = 0; i < n; i++) {
		if (is_applied(conn, names[i], &applied, err, errlen) == -1)
			goto unlock;
		if (applied)
			continue;
		if (apply(conn, dir, names[i], why, sizeof(why)) == -1) {
			snprintf(err, errlen, "%s: %s", names[i], why);
			goto unlock;
		}
		printf("applied %s\n", names[i]);
		count++;
	}
	if (count == 0)
		printf("database is up to date (%zu migrations)\n", n);
	rc = 0;
unlock:
	(void)exec(conn, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")",
	    why, sizeof(why));
out:
	free_names(names, n);
	return rc;
}

int
migrate_status(PGconn *conn, const char *dir, char *err, size_t errlen)
{
	char	**names = NULL;
	size_t	 n = 0, i;
	int	 applied, rc = -1;

	if (list_migrations(dir, &names, &n, err, errlen) == -1)
		return -1;
	if (prepare_table(conn, err, errlen) == -1)
		goto out;
	for (i = 0; i < n; i++) {
		if (is_applied(conn, names[i], &applied, err, errlen) == -1)
			goto out;
		printf("%-8s %s\n", applied ? "applied" : "pending", names[i]);
	}
	rc = 0;
out:
	free_names(names, n);
	return rc;
}
