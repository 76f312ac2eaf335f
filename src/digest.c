#include <sodium.h>

#include "digest.h"

size_t
digest_size(enum digest_alg alg)
{
	switch (alg) {
	case DIGEST_SHA1:
		return SHA1_DIGEST_SIZE;
	case DIGEST_SHA256:
		return SHA256_DIGEST_SIZE;
	case DIGEST_SHA512:
		return SHA512_DIGEST_SIZE;
	default:
		return 0;
	}
}

void
digest_init(struct digest_ctx *d, enum digest_alg alg)
{
	d->alg = alg;
	switch (alg) {
	case DIGEST_SHA1:
		sha1_init(&d->u.sha1);
		break;
	case DIGEST_SHA256:
		sha256_init(&d->u.sha256);
		break;
	case DIGEST_SHA512:
		sha512_init(&d->u.sha512);
		break;
	default:
		break;
	}
}

void
digest_update(struct digest_ctx *d, const void *buf, size_t len)
{
	switch (d->alg) {
	case DIGEST_SHA1:
		sha1_update(&d->u.sha1, len, buf);
		break;
	case DIGEST_SHA256:
		sha256_update(&d->u.sha256, len, buf);
		break;
	case DIGEST_SHA512:
		sha512_update(&d->u.sha512, len, buf);
		break;
	default:
		break;
	}
}

bool
digest_matches(struct digest_ctx *d, const struct digest *want)
{
	unsigned char	 got[DIGEST_MAX];
	size_t		 n = digest_size(d->alg);

	if (d->alg == DIGEST_NONE)
		return true;
	if (want->alg != d->alg)
		return false;
	switch (d->alg) {
	case DIGEST_SHA1:
		sha1_digest(&d->u.sha1, n, got);
		break;
	case DIGEST_SHA256:
		sha256_digest(&d->u.sha256, n, got);
		break;
	default:
		sha512_digest(&d->u.sha512, n, got);
		break;
	}
	return sodium_memcmp(got, want->bytes, n) == 0;
}
