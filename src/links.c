#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "links.h"
#include "num.h"

/* The key names of a link's query. */
#define Q_EXPIRES	"expires"
#define Q_SIG		"sig"
#define Q_OF		"of"
/* No link reaches past this (year 33658): its digits fit any buffer. */
#define EXPIRES_MAX	(1ULL << 40)
/* What is signed: a fixed label (no other use of the key can collide). */
#define MAC_LABEL	"fileupload share link 2\n"
/* What names the stored upload: its own label, the hash, created_at. */
#define OF_LABEL	"fileupload share link of\n"
/* Bytes of the upload's tag in a link (base64url: LINKS_OF_LEN). */
#define OF_BYTES	8

/*
 * The HMAC-SHA256 of the label, the hash, the expiry and the stored
 * upload's tag (of, LINKS_OF_LEN characters).
 */
static void
link_mac(const unsigned char *key, size_t keylen, const char *hash,
    uint64_t expires, const char *of,
    unsigned char mac[crypto_auth_hmacsha256_BYTES])
{
	crypto_auth_hmacsha256_state st;
	char		 msg[sizeof(MAC_LABEL) + HASH_HEX_LEN + 24 +
			    LINKS_OF_LEN];
	int		 n;

	n = snprintf(msg, sizeof(msg), MAC_LABEL "%.*s\n%llu\n%.*s",
	    HASH_HEX_LEN, hash, (unsigned long long)expires, LINKS_OF_LEN, of);
	crypto_auth_hmacsha256_init(&st, key, keylen);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg,
	    (unsigned long long)n);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof(st));
}

/*
 * The tag of one stored upload of hash (its row's created_at): a delete
 * and a new upload of the same bytes give another, so a delete revokes
 * the links made before it.
 */
static void
link_of(const unsigned char *key, size_t keylen, const char *hash,
    const char *created_at, char out[LINKS_OF_LEN + 1])
{
	crypto_auth_hmacsha256_state st;
	unsigned char	 mac[crypto_auth_hmacsha256_BYTES];

	crypto_auth_hmacsha256_init(&st, key, keylen);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)OF_LABEL,
	    sizeof(OF_LABEL) - 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)hash,
	    HASH_HEX_LEN);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)"\n", 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)created_at,
	    strlen(created_at));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2base64(out, LINKS_OF_LEN + 1, mac, OF_BYTES,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(&st, sizeof(st));
	sodium_memzero(mac, sizeof(mac));
}

void
links_query(const unsigned char *key, size_t keylen, const char *hash,
    const char *created_at, uint64_t expires, char out[LINKS_QUERY_MAX])
{
	unsigned char	 mac[crypto_auth_hmacsha256_BYTES];
	char		 sig[LINKS_SIG_LEN + 1], of[LINKS_OF_LEN + 1];

	link_of(key, keylen, hash, created_at, of);
	link_mac(key, keylen, hash, expires, of, mac);
	sodium_bin2base64(sig, sizeof(sig), mac, sizeof(mac),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	snprintf(out, LINKS_QUERY_MAX, Q_EXPIRES "=%llu&" Q_OF "=%s&" Q_SIG
	    "=%s", (unsigned long long)expires, of, sig);
}

struct link_params {
	const char	*expires, *sig, *of;	/* values, or NULL */
	size_t		 expires_len, sig_len, of_len;
	bool		 repeated;		/* one of them twice */
};

/* The link's parameters of a query; others are no part of a link. */
static void
link_params(const char *q, struct link_params *lp)
{
	const char	*amp, *eq;
	size_t		 len, klen;

	memset(lp, 0, sizeof(*lp));
	while (q != NULL && *q != '\0') {
		amp = strchr(q, '&');
		len = amp != NULL ? (size_t)(amp - q) : strlen(q);
		eq = memchr(q, '=', len);
		klen = eq != NULL ? (size_t)(eq - q) : len;
		if (klen == strlen(Q_EXPIRES) &&
		    memcmp(q, Q_EXPIRES, klen) == 0) {
			lp->repeated |= lp->expires != NULL;
			lp->expires = eq != NULL ? eq + 1 : q + len;
			lp->expires_len = len - klen - (eq != NULL);
		} else if (klen == strlen(Q_SIG) &&
		    memcmp(q, Q_SIG, klen) == 0) {
			lp->repeated |= lp->sig != NULL;
			lp->sig = eq != NULL ? eq + 1 : q + len;
			lp->sig_len = len - klen - (eq != NULL);
		} else if (klen == strlen(Q_OF) &&
		    memcmp(q, Q_OF, klen) == 0) {
			lp->repeated |= lp->of != NULL;
			lp->of = eq != NULL ? eq + 1 : q + len;
			lp->of_len = len - klen - (eq != NULL);
		}
		q = amp != NULL ? amp + 1 : NULL;
	}
}

bool
links_in_query(const char *query)
{
	struct link_params lp;

	link_params(query, &lp);
	return lp.expires != NULL || lp.sig != NULL || lp.of != NULL;
}

enum links_verdict
links_check(const unsigned char *key, size_t keylen, const char *hash,
    const char *query, uint64_t now)
{
	struct link_params lp;
	unsigned char	 got[crypto_auth_hmacsha256_BYTES + 1];
	unsigned char	 want[crypto_auth_hmacsha256_BYTES];
	char		 digits[24];
	const char	*end;
	uint64_t	 expires;
	size_t		 n;
	int		 ok;

	link_params(query, &lp);
	if (lp.expires == NULL && lp.sig == NULL && lp.of == NULL)
		return LINKS_NONE;
	if (lp.repeated || lp.expires == NULL || lp.sig == NULL ||
	    lp.expires_len == 0 || lp.expires_len >= sizeof(digits) ||
	    lp.sig_len != LINKS_SIG_LEN || lp.of == NULL ||
	    lp.of_len != LINKS_OF_LEN)
		return LINKS_FORGED;
	memcpy(digits, lp.expires, lp.expires_len);
	digits[lp.expires_len] = '\0';
	/* One text per link: no leading zeros. */
	if (parse_u64(digits, 0, EXPIRES_MAX, &expires) == -1 ||
	    (digits[0] == '0' && digits[1] != '\0'))
		return LINKS_FORGED;
	if (sodium_base642bin(got, sizeof(got), lp.sig, lp.sig_len, NULL, &n,
	    &end, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    n != sizeof(want) || end != lp.sig + lp.sig_len)
		return LINKS_FORGED;
	link_mac(key, keylen, hash, expires, lp.of, want);
	ok = crypto_verify_32(got, want) == 0;
	sodium_memzero(want, sizeof(want));
	if (!ok)
		return LINKS_FORGED;
	return now >= expires ? LINKS_EXPIRED : LINKS_OK;
}

bool
links_names(const unsigned char *key, size_t keylen, const char *hash,
    const char *query, const char *created_at)
{
	struct link_params lp;
	char		 want[LINKS_OF_LEN + 1];
	bool		 same;

	link_params(query, &lp);
	if (lp.of == NULL || lp.of_len != LINKS_OF_LEN)
		return false;
	link_of(key, keylen, hash, created_at, want);
	same = sodium_memcmp(want, lp.of, LINKS_OF_LEN) == 0;
	sodium_memzero(want, sizeof(want));
	return same;
}

int
links_time(uint64_t t, char out[LINKS_TIME_LEN + 1])
{
	struct tm	 tm;
	time_t		 tt = (time_t)t;

	if (t > EXPIRES_MAX || gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, LINKS_TIME_LEN + 1, "%Y-%m-%dT%H:%M:%SZ", &tm) !=
	    LINKS_TIME_LEN)
		return -1;
	return 0;
}
