/*
 * Matches (method, path) against a route table, validating the {file_hash}
 * segment.  The table (handlers.c) is the one list of routes: each row's
 * method, path pattern, handler and access class serve the dispatcher, the
 * token check and the 405 Allow header alike.  Pure: no I/O, so it is
 * unit-tested directly.
 */
#ifndef ROUTER_H
#define ROUTER_H

#include <stddef.h>

#include "auth.h"
#include "hash.h"

#define ROUTER_BASE	"/service/fileupload"
#define ROUTER_LOCATION_MAX (sizeof(ROUTER_BASE) + HASH_HEX_LEN + 1)
/* The segment of a pattern that takes a file hash. */
#define ROUTER_HASH	"{file_hash}"
/* The segment that takes a resumable upload's id (tus_id_valid, else 404). */
#define ROUTER_UPLOAD	"{upload_id}"
#define ROUTER_UPLOADS	ROUTER_BASE "/uploads"
#define ROUTER_ALLOW_MAX 64

struct app;
struct request;

/*
 * Answers a request; hash is the path's {file_hash}, lowercased, or its
 * {upload_id}, or "".
 */
typedef void	route_handler(struct app *, struct request *, const char *hash);

struct route {
	const char	*method;	/* "GET" takes HEAD too */
	const char	*pattern;	/* e.g. ROUTER_BASE "/" ROUTER_HASH */
	route_handler	*handle;
	enum access	 access;
	const char	*name;		/* its metrics label: short, fixed */
};

struct route_match {
	const struct route *route;	/* NULL: see status */
	int		 status;	/* no route: 400, 404 or 405 */
	char		 allow[ROUTER_ALLOW_MAX]; /* 405: the methods the path takes */
	char		 hash[HASH_HEX_LEN + 1]; /* lowercased, for hash routes;
						    the id, for upload routes */
};

/*
 * Finds the row of table (n rows) for method and path.  Never fails: an
 * unmatched request gets 404 (no pattern fits the path), 400 (it fits
 * only with a malformed {file_hash}) or 405 with allow.  ROUTER_BASE "/"
 * is ROUTER_BASE.
 */
void	route_match(const struct route *table, size_t n, const char *method,
	    const char *path, struct route_match *out);
/*
 * The method a request stands for: X-HTTP-Method-Override's (override:
 * PATCH, DELETE or HEAD) on a POST to an upload (clients that can send
 * only GET and POST), else its own.
 */
const char	*route_method(const char *method, const char *path,
		    const char *override);
/* Writes ROUTER_BASE "/" hash, the Location of a stored file. */
void	route_location(const char *hash, char out[ROUTER_LOCATION_MAX]);

#endif
