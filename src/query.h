/*
 * Query strings (name=value&...): the pairs one at a time, and the feed's
 * parameters (docs/api.md, "Events").  No I/O.
 */
#ifndef QUERY_H
#define QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The next pair of the query string at *p, which moves past it: 1 with its
 * name (*name, *nlen bytes, not terminated) and its value copied into val
 * (vallen bytes with the NUL); 0 at the end; -1 with a reason in *why for
 * a pair without '=' or a value too long for val.
 */
int	query_next(const char **p, const char **name, size_t *nlen, char *val,
	    size_t vallen, const char **why);
/* True when the pair's name (nlen bytes) is want. */
bool	query_name_is(const char *name, size_t nlen, const char *want);

/* GET .../events: after (0-), limit (1-1000) and wait (0-60 seconds). */
#define QUERY_EVENTS_LIMIT_MAX	1000
#define QUERY_EVENTS_LIMIT	100
#define QUERY_EVENTS_WAIT_MAX	60
/* Ids are PostgreSQL bigints. */
#define QUERY_EVENTS_AFTER_MAX	INT64_MAX

struct events_query {
	uint64_t	after;
	unsigned	limit;
	unsigned	wait;		/* seconds */
};

/*
 * Parses the feed's query string (each parameter at most once, no other,
 * defaults for those absent) into q: 0, or -1 with a reason for the
 * client's 400 in *why.
 */
int	query_events(const char *qs, struct events_query *q, const char **why);

#endif
