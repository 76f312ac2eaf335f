/*
 * Optional bearer tokens (API.md "Access control"): each route has an
 * access class; FILEUPLOAD_TOKEN guards writes, FILEUPLOAD_READ_TOKEN
 * reads; unset, the service is open.
 */
#ifndef AUTH_H
#define AUTH_H

#include <stdbool.h>

struct config;

enum access {
	ACCESS_OPEN,	/* anyone, always: the banner, the health check */
	ACCESS_READ,	/* the read token when set (the write token too) */
	ACCESS_WRITE,	/* the write token when set */
};

/*
 * True when a request with this Authorization header value (NULL: none)
 * may use a route of this access class.  Tokens are compared in constant
 * time.
 */
bool	auth_allowed(const struct config *, const char *authorization,
	    enum access);

#endif
