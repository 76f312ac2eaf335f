/*
 * Share links (docs/api.md "Share links"): a file's content URL whose query
 * carries an expiry and an HMAC-SHA256 of the hash and that expiry, keyed
 * by the link secret, so that whoever holds the URL may download the file
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
/* "expires=<up to 20 digits>&sig=<signature>" and its NUL. */
#define LINKS_QUERY_MAX		(sizeof("expires=&sig=") + 20 + LINKS_SIG_LEN)
/* An RFC 3339 UTC time, "2026-12-07T04:24:06Z". */
#define LINKS_TIME_LEN		20

enum links_verdict {
	LINKS_NONE,	/* the query holds no link: tokens decide */
	LINKS_OK,	/* signed for this hash, not expired */
	LINKS_FORGED,	/* malformed, or not signed with this key: 403 */
	LINKS_EXPIRED,	/* signed for this hash, past its expiry: 410 */
};

/*
 * Writes the query of a link to hash (64 lowercase hex digits) that
 * expires at the unix time expires, signed with key (keylen bytes).
 */
void	links_query(const unsigned char *key, size_t keylen, const char *hash,
	    uint64_t expires, char out[LINKS_QUERY_MAX]);
/* Whether a request's query (NULL: none) names a link at all. */
bool	links_in_query(const char *query);
/*
 * Checks a content request's query for hash at unix time now: the
 * signature first (compared in constant time), then the expiry; a link
 * expires at its second "expires", not after it.
 */
enum links_verdict links_check(const unsigned char *key, size_t keylen,
	    const char *hash, const char *query, uint64_t now);
/* The unix time t as RFC 3339 UTC; -1 when it cannot be written. */
int	links_time(uint64_t t, char out[LINKS_TIME_LEN + 1]);

#endif
