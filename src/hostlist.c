/*
 * hostlist.c - DB_HOST and DB_PORT lists, checked the way libpq pairs them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostlist.h"
#include "num.h"

#define PORT_TEXT_MAX	6	/* "65535," */

int
hostlist_hosts(const char *hosts, size_t *count, char *err, size_t errlen)
{
	const char	*p;
	size_t		 n = 1;

	*count = 1;
	if (hosts == NULL)
		return 0;
	/* libpq reads an empty entry as its default host: say it instead. */
	for (p = hosts; *p != '\0'; p++) {
		if (*p != ',')
			continue;
		if (p == hosts || p[1] == '\0' || p[1] == ',') {
			snprintf(err, errlen, "DB_HOST=%.64s has an empty "
			    "entry (a list is host,host,...)", hosts);
			return -1;
		}
		n++;
	}
	*count = n;
	return 0;
}

int
hostlist_ports(const char *ports, size_t nhosts, unsigned def, char **out,
    char *err, size_t errlen)
{
	char		 one[8], *buf;
	const char	*p, *end;
	size_t		 n = 0, len, used = 0;
	uint64_t	 v;

	if (ports == NULL) {
		if (asprintf(&buf, "%u", def) == -1)
			abort();
		*out = buf;
		return 0;
	}
	len = strlen(ports);
	/* Normalised, each port takes no more room than it was given. */
	if ((buf = malloc(len + PORT_TEXT_MAX + 1)) == NULL)
		abort();
	buf[0] = '\0';
	for (p = ports;; p = end + 1) {
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		if ((size_t)(end - p) >= sizeof(one))
			goto bad;
		memcpy(one, p, end - p);
		one[end - p] = '\0';
		if (parse_u64(one, 1, 65535, &v) == -1)
			goto bad;
		used += snprintf(buf + used, len + PORT_TEXT_MAX + 1 - used,
		    "%s%u", n > 0 ? "," : "", (unsigned)v);
		n++;
		if (*end == '\0')
			break;
	}
	if (n != 1 && n != nhosts) {
		snprintf(err, errlen, "DB_PORT=%.64s names %zu ports for %zu "
		    "hosts in DB_HOST (one port for all, or one per host)",
		    ports, n, nhosts);
		free(buf);
		return -1;
	}
	*out = buf;
	return 0;
bad:
	snprintf(err, errlen, "DB_PORT=%.64s is not a port number (1-65535) "
	    "or a comma-separated list of them", ports);
	free(buf);
	return -1;
}
