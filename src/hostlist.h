/*
 * hostlist: DB_HOST and DB_PORT as libpq's multi-host connection strings
 * pair them ("host=a,b,c port=5432" or "port=5432,5433,5434"), checked
 * when the configuration loads rather than on a request's first connect.
 */
#ifndef HOSTLIST_H
#define HOSTLIST_H

#include <stddef.h>

/*
 * Checks a DB_HOST value: NULL (libpq's default host), one host, or a
 * comma-separated list without empty entries.  Sets *count to the number
 * of hosts (1 for NULL).  Returns 0, or -1 with a one-line reason in err.
 */
int	hostlist_hosts(const char *hosts, size_t *count, char *err,
	    size_t errlen);

/*
 * Checks a DB_PORT value against nhosts hosts: NULL (def for every host),
 * one port for every host, or exactly one port per host, each 1-65535 in
 * decimal digits.  On success *out is a normalised copy ("05432,6543" ->
 * "5432,6543") that the caller frees; returns -1 with a one-line reason
 * naming DB_PORT in err otherwise (*out untouched).
 */
int	hostlist_ports(const char *ports, size_t nhosts, unsigned def,
	    char **out, char *err, size_t errlen);

#endif
