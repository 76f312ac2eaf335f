#include <string.h>

#include "hash.h"

int
hash_library_init(void)
{
	return sodium_init() == -1 ? -1 : 0;
}

void
hash_init(struct hash_ctx *h)
{
	memset(h, 0, sizeof(*h));
	crypto_generichash_init(&h->st, NULL, 0, HASH_BYTES);
}

void
hash_init_with_sha256(struct hash_ctx *h)
{
	hash_init(h);
	sha256_init(&h->sha256);
	h->with_sha256 = true;
}

void
hash_update(struct hash_ctx *h, const void *buf, size_t len)
{
	crypto_generichash_update(&h->st, buf, len);
	if (h->with_sha256)
		sha256_update(&h->sha256, len, buf);
}

void
hash_final_hex(struct hash_ctx *h, char hex[HASH_HEX_LEN + 1])
{
	unsigned char	 out[HASH_BYTES];

	crypto_generichash_final(&h->st, out, sizeof(out));
	sodium_bin2hex(hex, HASH_HEX_LEN + 1, out, sizeof(out));
}

bool
hash_parse(const char *s, size_t len, char out[HASH_HEX_LEN + 1])
{
	char	 tmp[HASH_HEX_LEN + 1];
	size_t	 i;

	if (s == NULL || len != HASH_HEX_LEN)
		return false;
	for (i = 0; i < HASH_HEX_LEN; i++) {
		char c = s[i];

		if (c >= '0' && c <= '9')
			tmp[i] = c;
		else if (c >= 'a' && c <= 'f')
			tmp[i] = c;
		else if (c >= 'A' && c <= 'F')
			tmp[i] = c - 'A' + 'a';
		else
			return false;
	}
	tmp[HASH_HEX_LEN] = '\0';
	memcpy(out, tmp, sizeof(tmp));
	return true;
}

void
hash_final_sha256_hex(struct hash_ctx *h, char hex[HASH_HEX_LEN + 1])
{
	unsigned char	 out[SHA256_DIGEST_SIZE];

	hex[0] = '\0';
	if (!h->with_sha256)
		return;
	sha256_digest(&h->sha256, sizeof(out), out);
	sodium_bin2hex(hex, HASH_HEX_LEN + 1, out, sizeof(out));
}
