/*
 * The digests a client may send with a body to have a mismatch refused:
 * tus's Upload-Checksum (sha1, sha256, sha512) and RFC 9530's
 * Content-Digest (sha-256, sha-512).  Nettle does the hashing.
 */
#ifndef DIGEST_H
#define DIGEST_H

#include <stdbool.h>
#include <stddef.h>

#include <nettle/sha1.h>
#include <nettle/sha2.h>

#define DIGEST_MAX	64	/* bytes of the longest, SHA-512 */

enum digest_alg {
	DIGEST_NONE = 0,
	DIGEST_SHA1,
	DIGEST_SHA256,
	DIGEST_SHA512,
	DIGEST__MAX
};

/* An expected digest: the algorithm and its raw bytes. */
struct digest {
	enum digest_alg	 alg;
	unsigned char	 bytes[DIGEST_MAX];
};

struct digest_ctx {
	enum digest_alg	 alg;
	union {
		struct sha1_ctx		sha1;
		struct sha256_ctx	sha256;
		struct sha512_ctx	sha512;
	} u;
};

/* The size of alg's digest in bytes (0 for DIGEST_NONE). */
size_t	digest_size(enum digest_alg);
/* DIGEST_NONE hashes nothing and always matches. */
void	digest_init(struct digest_ctx *, enum digest_alg);
void	digest_update(struct digest_ctx *, const void *, size_t);
/* Ends the hash and compares it with want (constant time): true when equal. */
bool	digest_matches(struct digest_ctx *, const struct digest *want);

#endif
