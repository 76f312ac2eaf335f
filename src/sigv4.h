/*
 * AWS Signature Version 4 over libsodium's SHA-256 and HMAC-SHA-256:
 * the Authorization header of a request, or the query string of a
 * presigned URL.  Pure functions of their arguments (no clock, no I/O),
 * so that the unit tests check them against AWS's documented examples.
 */
#ifndef SIGV4_H
#define SIGV4_H

#include <stddef.h>

#define SIGV4_DATE_LEN		16	/* "20130524T000000Z" */
#define SIGV4_HEX_LEN		64	/* a SHA-256 as hex */
#define SIGV4_MAX_HEADERS	8
#define SIGV4_MAX_PARAMS	12
#define SIGV4_UNSIGNED		"UNSIGNED-PAYLOAD"

struct sigv4_creds {
	const char	*access_key;
	const char	*secret_key;
	const char	*region;
	const char	*service;	/* "s3" */
	/*
	 * Temporary credentials' token, NULL when none: the caller signs and
	 * sends it as the x-amz-security-token header; sigv4_presign puts
	 * it in the query (X-Amz-Security-Token).
	 */
	const char	*session_token;
};

/* A header or query parameter, as sent (not yet encoded). */
struct sigv4_pair {
	const char	*name;
	const char	*value;
};

struct sigv4_request {
	const char	*method;
	const char	*path;		/* URI-encoded already ("/b/ab/cd/h") */
	/* Query parameters, unencoded and in any order: the signer sorts. */
	struct sigv4_pair params[SIGV4_MAX_PARAMS];
	size_t		 nparams;
	/* Headers to sign, names in lower case; host among them. */
	struct sigv4_pair headers[SIGV4_MAX_HEADERS];
	size_t		 nheaders;
	const char	*payload_hash;	/* hex SHA-256 or SIGV4_UNSIGNED */
	const char	*amz_date;	/* SIGV4_DATE_LEN characters */
};

/* Lower-case hex SHA-256 of len bytes (out: SIGV4_HEX_LEN + 1). */
void	sigv4_sha256_hex(const void *, size_t len, char *out);
/*
 * RFC 3986 encoding as SigV4 wants it: everything but A-Z a-z 0-9 - . _ ~
 * (and '/' when keep_slash) as %XX.  Returns the length, or -1 when out
 * (outlen bytes, NUL included) is too small.
 */
int	sigv4_encode(const char *s, int keep_slash, char *out, size_t outlen);
/*
 * The canonical (sorted, encoded) query string of req's parameters:
 * what the URL carries, so that signer and sender agree.  0 or -1.
 */
int	sigv4_query(const struct sigv4_request *, char *out, size_t outlen);
/* The Authorization header's value: 0, or -1 when out is too small. */
int	sigv4_authorization(const struct sigv4_creds *,
	    const struct sigv4_request *, char *out, size_t outlen);
/*
 * A presigned URL's query string (req's parameters plus the X-Amz-*
 * ones, X-Amz-Security-Token among them with a session token, valid for
 * expires seconds, X-Amz-Signature last): 0 or -1.
 * req must sign only the host header and carry SIGV4_UNSIGNED.
 */
int	sigv4_presign(const struct sigv4_creds *, struct sigv4_request *,
	    unsigned expires, char *out, size_t outlen);

#endif
