/*
 * Share links (docs/api.md "Share links"): a file's content URL whose query
 * carries an expiry, a tag of the stored upload (so that a delete revokes
 * it) and an HMAC-SHA256 of the hash and that expiry, keyed by the link
 * secret, so that whoever holds the URL may download the file
 * until then without a token.  Pure: no I/O, no clock (the caller gives
 * the time), so it is unit-tested directly.
 */
#ifndef LINKS_H
#define LINKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hash.h"

/* A link's lifetime in seconds: default, and the longest one asked for. */
#define LINKS_TTL_DEFAULT	3600
#define LINKS_TTL_MAX		604800
/* FILEUPLOAD_LINK_SECRET's least length: a shorter one could be guessed. */
#define LINKS_SECRET_MIN	16
/* The signature in the query: base64url of 32 bytes, unpadded. */
#define LINKS_SIG_LEN		43
/* The stored upload's tag in the query: base64url of 8 bytes, unpadded. */
#define LINKS_OF_LEN		11
/* "expires=<up to 20 digits>&of=<tag>&sig=<signature>" and its NUL. */
#define LINKS_QUERY_MAX		(sizeof("expires=&of=&sig=") + 20 + \
				    LINKS_OF_LEN + LINKS_SIG_LEN)
/* An RFC 3339 UTC time, "2026-12-07T04:24:06Z". */
#define LINKS_TIME_LEN		20

enum links_verdict {
	LINKS_NONE,	/* the query holds no link: tokens decide */
	LINKS_OK,	/* signed for this hash, not expired */
	LINKS_FORGED,	/* malformed, or not signed with this key: 403 */
	LINKS_EXPIRED,	/* signed for this hash, past its expiry: 410 */
};

/*
 * Writes the query of a link to hash (64 lowercase hex digits) as stored
 * since created_at (its row's, as the API writes it) that expires at the
 * unix time expires, signed with key (keylen bytes).
 */
void	links_query(const unsigned char *key, size_t keylen, const char *hash,
	    const char *created_at, uint64_t expires,
	    char out[LINKS_QUERY_MAX]);
/* Whether a request's query (NULL: none) names a link at all. */
bool	links_in_query(const char *query);
/*
 * Checks a content request's query for hash at unix time now: the
 * signature first (compared in constant time), then the expiry; a link
 * expires at its second "expires", not after it.
 */
enum links_verdict links_check(const unsigned char *key, size_t keylen,
	    const char *hash, const char *query, uint64_t now);
/*
 * Whether a link that links_check found signed names the stored upload of
 * hash made at created_at: false once the file was deleted and stored
 * again (the link then answers as a missing file would).  Constant time.
 */
bool	links_names(const unsigned char *key, size_t keylen, const char *hash,
	    const char *query, const char *created_at);
/* The unix time t as RFC 3339 UTC; -1 when it cannot be written. */
int	links_time(uint64_t t, char out[LINKS_TIME_LEN + 1]);

#endif
