#include <string.h>

#include <sodium.h>

#include "num.h"
#include "tus.h"

#define B64_URL	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
	"0123456789-_"

void
tus_id_new(char out[TUS_ID_LEN + 1])
{
	unsigned char	 rnd[TUS_ID_BYTES];

	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2base64(out, TUS_ID_LEN + 1, rnd, sizeof(rnd),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

bool
tus_id_valid(const char *s, size_t len)
{
	return s != NULL && len == TUS_ID_LEN && strlen(s) >= len &&
	    strspn(s, B64_URL) >= len;
}

int
tus_parse_size(const char *s, uint64_t *out)
{
	return parse_u64(s, 0, INT64_MAX, out);
}

/*
 * Decodes len bytes of standard base64 (padding required, as RFC 4648
 * and btoa() write it) into out (at most max bytes): 0, or -1.
 */
static int
b64_decode(const char *s, size_t len, unsigned char *out, size_t max,
    size_t *outlen)
{
	const char	*end;

	if (len % 4 != 0)
		return -1;
	if (sodium_base642bin(out, max, s, len, NULL, outlen, &end,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || end != s + len)
		return -1;
	return 0;
}

/* A metadata key's byte: printable ASCII but space and comma. */
static bool
key_char(char c)
{
	return c > ' ' && c < 0x7f && c != ',';
}

/* Whether key (klen bytes) appears among the pairs of s before p. */
static bool
key_seen(const char *s, const char *p, const char *key, size_t klen)
{
	const char	*q = s;

	while (q < p) {
		size_t	 n;

		while (*q == ' ' || *q == '\t')
			q++;
		if (q >= p)
			break;
		for (n = 0; key_char(q[n]); n++)
			;
		if (n == klen && memcmp(q, key, klen) == 0)
			return true;
		if ((q = strchr(q, ',')) == NULL)
			break;
		q++;
	}
	return false;
}

enum tus_error
tus_parse_metadata(const char *s, struct tus_metadata *out)
{
	const char	*p = s, *key, *val;
	size_t		 klen, vlen, n;
	char		 scratch[TUS_VALUE_MAX];
	char		*dst;

	memset(out, 0, sizeof(*out));
	if (strlen(s) > TUS_METADATA_MAX)
		return TUS_ERR_SYNTAX;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0')
		return TUS_OK;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		key = p;
		for (klen = 0; key_char(key[klen]); klen++)
			;
		if (klen == 0 || key_seen(s, key, key, klen))
			return TUS_ERR_SYNTAX;
		p = key + klen;
		val = p;
		vlen = 0;
		if (*p == ' ') {
			val = ++p;
			vlen = strcspn(val, ",");
			while (vlen > 0 && (val[vlen - 1] == ' ' ||
			    val[vlen - 1] == '\t'))
				vlen--;
			p = val + strcspn(val, ",");
		}
		dst = scratch;
		if (klen == 8 && memcmp(key, "filename", 8) == 0) {
			dst = out->filename;
			out->has_filename = true;
		} else if (klen == 8 && memcmp(key, "filetype", 8) == 0)
			dst = out->filetype;
		if (b64_decode(val, vlen, (unsigned char *)dst,
		    TUS_VALUE_MAX - 1, &n) == -1)
			return TUS_ERR_SYNTAX;
		dst[n] = '\0';
		if (dst == out->filename)
			out->filename_len = n;
		else if (dst == out->filetype)
			out->filetype_len = n;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return TUS_OK;
		if (*p++ != ',')
			return TUS_ERR_SYNTAX;
	}
}

static const struct {
	const char	*tus;		/* Upload-Checksum's name */
	const char	*http;		/* RFC 9530's, NULL: not there */
	enum digest_alg	 alg;
} algs[] = {
	{ "sha512",	"sha-512",	DIGEST_SHA512 },	/* strongest first */
	{ "sha256",	"sha-256",	DIGEST_SHA256 },
	{ "sha1",	NULL,		DIGEST_SHA1 },
};
#define NALGS	(sizeof(algs) / sizeof(algs[0]))

/* len bytes of base64 that must decode to alg's digest size. */
static int
digest_decode(const char *s, size_t len, enum digest_alg alg,
    struct digest *out)
{
	size_t	 n;

	if (b64_decode(s, len, out->bytes, sizeof(out->bytes), &n) == -1 ||
	    n != digest_size(alg))
		return -1;
	out->alg = alg;
	return 0;
}

enum tus_error
tus_parse_checksum(const char *s, struct digest *out)
{
	const char	*sp = strchr(s, ' ');
	size_t		 i, alen;

	memset(out, 0, sizeof(*out));
	if (sp == NULL)
		return TUS_ERR_SYNTAX;
	alen = sp - s;
	for (i = 0; i < NALGS; i++) {
		if (strlen(algs[i].tus) != alen ||
		    strncmp(s, algs[i].tus, alen) != 0)
			continue;
		if (digest_decode(sp + 1, strlen(sp + 1), algs[i].alg,
		    out) == -1)
			return TUS_ERR_SYNTAX;
		return TUS_OK;
	}
	return TUS_ERR_ALGORITHM;
}

/* RFC 8941 key: lcalpha or "*", then lcalpha, digits, "_-.*". */
static size_t
sf_key(const char *s)
{
	size_t	 n = 0;

	if (!((s[0] >= 'a' && s[0] <= 'z') || s[0] == '*'))
		return 0;
	while ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') ||
	    (s[n] != '\0' && strchr("_-.*", s[n]) != NULL))
		n++;
	return n;
}

enum tus_error
tus_parse_content_digest(const char *s, struct digest *out)
{
	const char	*p = s, *val, *end;
	size_t		 klen, i, best = NALGS;
	struct digest	 d;

	memset(out, 0, sizeof(*out));
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if ((klen = sf_key(p)) == 0 || p[klen] != '=' ||
		    p[klen + 1] != ':')
			return TUS_ERR_SYNTAX;
		val = p + klen + 2;
		if ((end = strchr(val, ':')) == NULL)
			return TUS_ERR_SYNTAX;
		for (i = 0; i < NALGS; i++) {
			if (algs[i].http == NULL ||
			    strlen(algs[i].http) != klen ||
			    strncmp(p, algs[i].http, klen) != 0)
				continue;
			if (digest_decode(val, end - val, algs[i].alg,
			    &d) == -1)
				return TUS_ERR_SYNTAX;
			if (i < best) {
				best = i;
				*out = d;
			}
		}
		/* Parameters (";a=b") of a member are skipped. */
		p = end + 1 + strcspn(end + 1, ",");
		if (*p == '\0')
			break;
		p++;
	}
	return best < NALGS ? TUS_OK : TUS_ERR_NONE;
}

int
tus_repr_digest(const char *hex, char out[TUS_REPR_DIGEST_MAX])
{
	unsigned char	 bin[32];
	char		 b64[45];
	size_t		 n;

	if (hex == NULL || strlen(hex) != 64 ||
	    sodium_hex2bin(bin, sizeof(bin), hex, 64, NULL, &n, NULL) != 0 ||
	    n != sizeof(bin))
		return -1;
	sodium_bin2base64(b64, sizeof(b64), bin, sizeof(bin),
	    sodium_base64_VARIANT_ORIGINAL);
	memcpy(out, "sha-256=:", 9);
	memcpy(out + 9, b64, 44);
	memcpy(out + 53, ":", 2);
	return 0;
}
