#include <stdio.h>
#include <string.h>

#include "router.h"
#include "tus.h"

enum fit {
	FIT_NO,		/* the path is not of this pattern */
	FIT_BAD_HASH,	/* it is, but its {file_hash} is malformed */
	FIT_YES,
};

/* How path fits pattern; a fitting hash goes to hash, lowercased. */
static enum fit
fit(const char *pattern, const char *path, char hash[HASH_HEX_LEN + 1])
{
	const size_t	 hlen = strlen(ROUTER_HASH), ulen = strlen(ROUTER_UPLOAD);
	enum fit	 f = FIT_YES;
	size_t		 n;

	while (*pattern != '\0') {
		if (strncmp(pattern, ROUTER_UPLOAD, ulen) == 0) {
			/* No upload has another id: not found, not malformed. */
			n = strcspn(path, "/");
			if (!tus_id_valid(path, n))
				return FIT_NO;
			memcpy(hash, path, n);
			hash[n] = '\0';
			pattern += ulen;
			path += n;
		} else if (strncmp(pattern, ROUTER_HASH, hlen) == 0) {
			n = strcspn(path, "/");
			if (!hash_parse(path, n, hash))
				f = FIT_BAD_HASH;
			pattern += hlen;
			path += n;
		} else if (*pattern++ != *path++)
			return FIT_NO;
	}
	return *path == '\0' ? f : FIT_NO;
}

static int
method_is(const struct route *rt, const char *method)
{
	return strcmp(rt->method, method) == 0 ||
	    (strcmp(method, "HEAD") == 0 && strcmp(rt->method, "GET") == 0);
}

/* Appends a method to the Allow list (GET brings HEAD). */
static void
allow_add(char allow[ROUTER_ALLOW_MAX], const char *method)
{
	size_t	 len = strlen(allow);

	snprintf(allow + len, ROUTER_ALLOW_MAX - len, "%s%s%s",
	    len > 0 ? ", " : "", method,
	    strcmp(method, "GET") == 0 ? ", HEAD" : "");
}

void
route_match(const struct route *table, size_t n, const char *method,
    const char *path, struct route_match *m)
{
	char		 hash[HASH_HEX_LEN + 1];
	size_t		 i;
	int		 bad_hash = 0;

	memset(m, 0, sizeof(*m));
	m->status = 404;
	if (method == NULL || path == NULL)
		return;
	if (strcmp(path, ROUTER_BASE "/") == 0)
		path = ROUTER_BASE;
	for (i = 0; i < n; i++) {
		switch (fit(table[i].pattern, path, hash)) {
		case FIT_NO:
			break;
		case FIT_BAD_HASH:
			bad_hash = 1;
			break;
		case FIT_YES:
			if (method_is(&table[i], method)) {
				m->route = &table[i];
				m->status = 0;
				m->allow[0] = '\0';
				if (strstr(table[i].pattern, ROUTER_HASH) != NULL ||
				    strstr(table[i].pattern, ROUTER_UPLOAD) != NULL)
					memcpy(m->hash, hash, sizeof(m->hash));
				return;
			}
			allow_add(m->allow, table[i].method);
			m->status = 405;
			break;
		}
	}
	/* The path names a file: a malformed hash is the client's 400. */
	if (m->status == 404 && bad_hash)
		m->status = 400;
}

const char *
route_method(const char *method, const char *path, const char *override)
{
	static const char *const allowed[] = { "PATCH", "DELETE", "HEAD" };
	size_t		 i, n = strlen(ROUTER_UPLOADS);

	if (override == NULL || method == NULL || path == NULL ||
	    strcmp(method, "POST") != 0 ||
	    strncmp(path, ROUTER_UPLOADS "/", n + 1) != 0)
		return method;
	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (strcmp(override, allowed[i]) == 0)
			return allowed[i];
	return method;
}

void
route_location(const char *hash, char out[ROUTER_LOCATION_MAX])
{
	snprintf(out, ROUTER_LOCATION_MAX, "%s/%s", ROUTER_BASE, hash);
}
