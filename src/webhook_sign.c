#include <string.h>

#include <sodium.h>

#include "webhook_sign.h"

int
webhook_sign(const char *secret, size_t secretlen, const char *body,
    size_t len, char out[WEBHOOK_SIGN_LEN])
{
	crypto_auth_hmacsha256_state	 st;
	unsigned char			 mac[crypto_auth_hmacsha256_BYTES];

	out[0] = '\0';
	/* The init takes a key of any length (hashed when over 64 bytes). */
	if (crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret,
	    secretlen) != 0 ||
	    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body,
	    len) != 0 ||
	    crypto_auth_hmacsha256_final(&st, mac) != 0)
		return -1;
	memcpy(out, "sha256=", 7);
	sodium_bin2hex(out + 7, WEBHOOK_SIGN_LEN - 7, mac, sizeof(mac));
	sodium_memzero(&st, sizeof(st));
	return 0;
}
