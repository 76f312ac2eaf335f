/*
 * Optional bearer tokens (docs/api.md "Access control").  Each route has an
 * access class.  Unset tokens leave the service open; with any token set,
 * writes are closed: FILEUPLOAD_TOKEN guards writes (the read token does,
 * when it is the only one set) and FILEUPLOAD_READ_TOKEN guards reads.
 */
#ifndef AUTH_H
#define AUTH_H

#include <stdbool.h>

struct config;

enum access {
	ACCESS_OPEN,	/* anyone, always: the banner, the health check */
	ACCESS_READ,	/* the read token when set (the write token too) */
	/*
	 * As ACCESS_READ, or a share link's signed query instead of a
	 * token (links.h): the handler checks the link.
	 */
	ACCESS_LINK,
	ACCESS_WRITE,	/* the write token; the read token when it is alone */
	/*
	 * FILEUPLOAD_METRICS_TOKEN when set, and no other token; unset, the
	 * route is open here and kept to loopback (nginx, metrics_route.c).
	 */
	ACCESS_METRICS,
};

/*
 * True when a request with this Authorization header value (NULL: none)
 * may use a route of this access class.  Tokens are compared in constant
 * time.
 */
bool	auth_allowed(const struct config *, const char *authorization,
	    enum access);

/* A token's id: hex digits of a short BLAKE2b of it, never the token. */
#define AUTH_TOKEN_ID_LEN	16

/*
 * The id of the configured token that this Authorization header value
 * carries, into id: a writer's scope for the per-token caps.  False (id
 * empty) when no token is set, or none of them is given: an anonymous
 * writer.
 */
bool	auth_token_id(const struct config *, const char *authorization,
	    char id[AUTH_TOKEN_ID_LEN + 1]);

#endif
