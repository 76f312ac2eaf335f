/*
 * Maps (method, path) to a route, validating the {file_hash} segment.
 * Pure: no I/O, so it is unit-tested directly.
 */
#ifndef ROUTER_H
#define ROUTER_H

#include <stdbool.h>

#include "hash.h"

#define ROUTER_BASE	"/service/fileupload"
#define ROUTER_LOCATION_MAX (sizeof(ROUTER_BASE) + HASH_HEX_LEN + 1)

enum route {
	ROUTE_NONE = 0,		/* see route_match's status */
	ROUTE_BANNER,		/* GET / */
	ROUTE_LIST,		/* GET /service/fileupload */
	ROUTE_UPLOAD,		/* POST /service/fileupload */
	ROUTE_HEALTH,		/* GET /service/fileupload/health */
	ROUTE_GET,		/* GET /service/fileupload/{hash} */
	ROUTE_UPDATE,		/* PUT /service/fileupload/{hash} */
	ROUTE_DELETE,		/* DELETE /service/fileupload/{hash} */
	ROUTE_CONTENT,		/* GET, HEAD /service/fileupload/{hash}/content */
	ROUTE__MAX
};

struct route_match {
	enum route	 route;
	int		 status;	/* ROUTE_NONE: 400, 404 or 405 */
	const char	*allow;		/* 405: the methods the path takes */
	char		 hash[HASH_HEX_LEN + 1]; /* lowercased, for hash routes */
};

/* HEAD is matched as GET.  Never fails: unmatched requests get a status. */
void	route_match(const char *method, const char *path, struct route_match *out);
/* Writes ROUTER_BASE "/" hash, the Location of a stored file. */
void	route_location(const char *hash, char out[ROUTER_LOCATION_MAX]);
/* True for routes that change state (upload, update, delete). */
bool	route_writes(enum route);
/* The route's name, for logs. */
const char *route_name(enum route);

#endif
