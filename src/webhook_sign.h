/*
 * The webhook's signature (docs/api.md, "Events"): the header value
 * "sha256=<hex HMAC-SHA256 of the body>" under FILEUPLOAD_WEBHOOK_SECRET.
 * No I/O.
 */
#ifndef WEBHOOK_SIGN_H
#define WEBHOOK_SIGN_H

#include <stddef.h>

/* "sha256=", 64 hex digits and the NUL. */
#define WEBHOOK_SIGN_LEN	(7 + 64 + 1)

/*
 * Signs body (len bytes) with secret (secretlen bytes, any length) into
 * out.  0, or -1 when libsodium refuses (then out is "").
 */
int	webhook_sign(const char *secret, size_t secretlen, const char *body,
	    size_t len, char out[WEBHOOK_SIGN_LEN]);

#endif
