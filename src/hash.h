/*
 * File identity: BLAKE2b-256 (libsodium crypto_generichash, no key) as 64
 * lowercase hex digits.
 */
#ifndef HASH_H
#define HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <nettle/sha2.h>
#include <sodium.h>

#define HASH_BYTES	32
#define HASH_HEX_LEN	64

/*
 * Plain bytes, no pointers: a resumable upload keeps the whole struct in
 * its row between requests (resumable.c).
 */
struct hash_ctx {
	crypto_generichash_state st;
	struct sha256_ctx sha256;	/* the file's SHA-256 too, when with_sha256 */
	bool		 with_sha256;
};

/*
 * Once per process, before any other call: libsodium picks the fastest
 * BLAKE2b code for this CPU (AVX2) only once initialised.  -1 on failure.
 */
int	hash_library_init(void);
void	hash_init(struct hash_ctx *);
/* The same, computing the SHA-256 of the bytes alongside (Repr-Digest). */
void	hash_init_with_sha256(struct hash_ctx *);
void	hash_update(struct hash_ctx *, const void *, size_t);
/* Writes HASH_HEX_LEN lowercase hex digits and a NUL to hex. */
void	hash_final_hex(struct hash_ctx *, char hex[HASH_HEX_LEN + 1]);
/*
 * After hash_final_hex of a context made by hash_init_with_sha256: the
 * SHA-256 as 64 lowercase hex digits ("" for any other context).
 */
void	hash_final_sha256_hex(struct hash_ctx *, char hex[HASH_HEX_LEN + 1]);

/*
 * Accepts exactly 64 hex digits of either case (len is the input length, so
 * embedded NULs fail) and writes the lowercase form to out.  Returns true
 * when valid; out is untouched otherwise.
 */
bool	hash_parse(const char *s, size_t len, char out[HASH_HEX_LEN + 1]);

#endif
