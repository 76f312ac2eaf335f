#include <string.h>

#include "num.h"
#include "query.h"

int
query_next(const char **p, const char **name, size_t *nlen, char *val,
    size_t vallen, const char **why)
{
	const char	*s = *p, *amp, *eq;
	size_t		 len;

	if (*s == '\0')
		return 0;
	amp = strchr(s, '&');
	len = amp != NULL ? (size_t)(amp - s) : strlen(s);
	if ((eq = memchr(s, '=', len)) == NULL) {
		*why = "query parameters must be name=value";
		return -1;
	}
	*name = s;
	*nlen = eq - s;
	len -= *nlen + 1;
	if (len >= vallen) {
		*why = "query parameter value too long";
		return -1;
	}
	memcpy(val, eq + 1, len);
	val[len] = '\0';
	*p = amp != NULL ? amp + 1 : s + strlen(s);
	return 1;
}

bool
query_name_is(const char *name, size_t nlen, const char *want)
{
	return strlen(want) == nlen && memcmp(name, want, nlen) == 0;
}

int
query_events(const char *qs, struct events_query *q, const char **why)
{
	const char	*p = qs, *name;
	char		 val[32];
	size_t		 nlen;
	uint64_t	 n;
	bool		 seen_after = false, seen_limit = false;
	bool		 seen_wait = false;
	int		 rc;

	q->after = 0;
	q->limit = QUERY_EVENTS_LIMIT;
	q->wait = 0;
	while ((rc = query_next(&p, &name, &nlen, val, sizeof(val), why)) ==
	    1) {
		if (query_name_is(name, nlen, "after") && !seen_after) {
			seen_after = true;
			if (parse_u64(val, 0, QUERY_EVENTS_AFTER_MAX,
			    &q->after) == -1) {
				*why = "after must be an event id (an integer "
				    "from 0)";
				return -1;
			}
		} else if (query_name_is(name, nlen, "limit") && !seen_limit) {
			seen_limit = true;
			if (parse_u64(val, 1, QUERY_EVENTS_LIMIT_MAX, &n) == -1) {
				*why = "limit must be an integer from 1 to 1000";
				return -1;
			}
			q->limit = (unsigned)n;
		} else if (query_name_is(name, nlen, "wait") && !seen_wait) {
			seen_wait = true;
			if (parse_u64(val, 0, QUERY_EVENTS_WAIT_MAX, &n) == -1) {
				*why = "wait must be an integer from 0 to 60 "
				    "(seconds)";
				return -1;
			}
			q->wait = (unsigned)n;
		} else {
			*why = "unknown or repeated query parameter "
			    "(only after, limit and wait are allowed)";
			return -1;
		}
	}
	return rc;
}
