/*
 * Optional bearer tokens (API.md "Access control"): FILEUPLOAD_TOKEN guards
 * writes, FILEUPLOAD_READ_TOKEN reads; unset, the service is open.
 */
#ifndef AUTH_H
#define AUTH_H

#include <stdbool.h>

struct config;

/*
 * True when a request with this Authorization header value (NULL: none)
 * may go on.  write selects the write rule; the write token also opens
 * reads.  Tokens are compared in constant time.
 */
bool	auth_allowed(const struct config *, const char *authorization,
	    bool write);

#endif
