#include <stdio.h>
#include <string.h>

#include "router.h"

static const char *const route_names[ROUTE__MAX] = {
	[ROUTE_NONE] = "none",
	[ROUTE_BANNER] = "banner",
	[ROUTE_LIST] = "list",
	[ROUTE_UPLOAD] = "upload",
	[ROUTE_HEALTH] = "health",
	[ROUTE_GET] = "get",
	[ROUTE_UPDATE] = "update",
	[ROUTE_DELETE] = "delete",
	[ROUTE_CONTENT] = "content",
};

const char *
route_name(enum route r)
{
	return r < ROUTE__MAX ? route_names[r] : "none";
}

bool
route_writes(enum route r)
{
	return r == ROUTE_UPLOAD || r == ROUTE_UPDATE || r == ROUTE_DELETE;
}

void
route_location(const char *hash, char out[ROUTER_LOCATION_MAX])
{
	snprintf(out, ROUTER_LOCATION_MAX, "%s/%s", ROUTER_BASE, hash);
}

static void
no_route(struct route_match *m, int status, const char *allow)
{
	m->route = ROUTE_NONE;
	m->status = status;
	m->allow = allow;
}

/* Picks the route for method among the methods a path takes. */
static void
by_method(struct route_match *m, const char *method, const char *allow,
    enum route get, enum route post, enum route put, enum route del)
{
	enum route	 r = ROUTE_NONE;

	if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
		r = get;
	else if (strcmp(method, "POST") == 0)
		r = post;
	else if (strcmp(method, "PUT") == 0)
		r = put;
	else if (strcmp(method, "DELETE") == 0)
		r = del;
	if (r == ROUTE_NONE) {
		no_route(m, 405, allow);
		return;
	}
	m->route = r;
	m->status = 0;
}

void
route_match(const char *method, const char *path, struct route_match *m)
{
	const size_t	 baselen = strlen(ROUTER_BASE);
	const char	*rest, *slash;
	size_t		 seglen;

	memset(m, 0, sizeof(*m));
	if (method == NULL || path == NULL) {
		no_route(m, 404, NULL);
		return;
	}
	if (strcmp(path, "/") == 0) {
		by_method(m, method, "GET, HEAD", ROUTE_BANNER, ROUTE_NONE,
		    ROUTE_NONE, ROUTE_NONE);
		return;
	}
	if (strncmp(path, ROUTER_BASE, baselen) != 0 ||
	    (path[baselen] != '\0' && path[baselen] != '/')) {
		no_route(m, 404, NULL);
		return;
	}
	rest = path + baselen;
	if (*rest == '/')
		rest++;
	if (*rest == '\0') {
		by_method(m, method, "GET, HEAD, POST", ROUTE_LIST, ROUTE_UPLOAD,
		    ROUTE_NONE, ROUTE_NONE);
		return;
	}
	if (strcmp(rest, "health") == 0) {
		by_method(m, method, "GET, HEAD", ROUTE_HEALTH, ROUTE_NONE,
		    ROUTE_NONE, ROUTE_NONE);
		return;
	}

	slash = strchr(rest, '/');
	seglen = slash != NULL ? (size_t)(slash - rest) : strlen(rest);
	if (slash != NULL && strcmp(slash, "/content") != 0) {
		no_route(m, 404, NULL);
		return;
	}
	/* The path names a file: from here on a bad hash is the client's 400. */
	if (!hash_parse(rest, seglen, m->hash)) {
		no_route(m, 400, NULL);
		return;
	}
	if (slash != NULL)
		by_method(m, method, "GET, HEAD", ROUTE_CONTENT, ROUTE_NONE,
		    ROUTE_NONE, ROUTE_NONE);
	else
		by_method(m, method, "GET, HEAD, PUT, DELETE", ROUTE_GET,
		    ROUTE_NONE, ROUTE_UPDATE, ROUTE_DELETE);
}
