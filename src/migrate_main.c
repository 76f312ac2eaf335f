/*
 * fileupload-migrate: brings the database schema up to date, or shows which
 * migrations are applied.  Connects with the worker's DB_* variables.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "config.h"
#include "db.h"
#include "migrate.h"

static void
usage(void)
{
	fprintf(stderr, "usage: fileupload-migrate [-d sqldir] up | status\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct config	 cfg;
	const char	*dir = SQLDIR;
	char		 err[1024];
	PGconn		*conn;
	int		 ch, rc;

	while ((ch = getopt(argc, argv, "d:")) != -1) {
		if (ch == 'd')
			dir = optarg;
		else
			usage();
	}
	argc -= optind;
	argv += optind;
	if (argc != 1 || (strcmp(argv[0], "up") != 0 &&
	    strcmp(argv[0], "status") != 0))
		usage();
	if (config_load(&cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "fileupload-migrate: %s\n", err);
		return 1;
	}
	conn = db_connect(&cfg, "fileupload-migrate", 10);
	if (PQstatus(conn) != CONNECTION_OK) {
		/* Words the container's wait for the database tells apart. */
		fprintf(stderr, "fileupload-migrate: %s: %s",
		    db_login_refused(conn) ? "login refused" : "cannot connect",
		    PQerrorMessage(conn));
		PQfinish(conn);
		config_free(&cfg);
		return 1;
	}
	/* Keep NOTICEs such as "relation already exists, skipping" quiet. */
	PQclear(PQexec(conn, "SET client_min_messages = warning"));
	if (strcmp(argv[0], "up") == 0)
		rc = migrate_up(conn, dir, err, sizeof(err));
	else
		rc = migrate_status(conn, dir, err, sizeof(err));
	if (rc == -1)
		fprintf(stderr, "fileupload-migrate: %s\n", err);
	PQfinish(conn);
	config_free(&cfg);
	return rc == -1 ? 1 : 0;
}
