#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "links.h"
#include "num.h"

/* The key names of a link's query. */
#define Q_EXPIRES	"expires"
#define Q_SIG		"sig"
/* No link reaches past this (year 33658): its digits fit any buffer. */
#define EXPIRES_MAX	(1ULL << 40)
/* What is signed: a fixed label (no other use of the key can collide). */
#define MAC_LABEL	"fileupload share link 1\n"

/* The HMAC-SHA256 of the label, the hash and the expiry. */
static void
link_mac(const unsigned char *key, size_t keylen, const char *hash,
    uint64_t expires, unsigned char mac[crypto_auth_hmacsha256_BYTES])
{
	crypto_auth_hmacsha256_state st;
	char		 msg[sizeof(MAC_LABEL) + HASH_HEX_LEN + 24];
	int		 n;

	n = snprintf(msg, sizeof(msg), MAC_LABEL "%.*s\n%llu", HASH_HEX_LEN,
	    hash, (unsigned long long)expires);
	crypto_auth_hmacsha256_init(&st, key, keylen);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg,
	    (unsigned long long)n);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof(st));
}

void
links_query(const unsigned char *key, size_t keylen, const char *hash,
    uint64_t expires, char out[LINKS_QUERY_MAX])
{
	unsigned char	 mac[crypto_auth_hmacsha256_BYTES];
	char		 sig[LINKS_SIG_LEN + 1];

	link_mac(key, keylen, hash, expires, mac);
	sodium_bin2base64(sig, sizeof(sig), mac, sizeof(mac),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	snprintf(out, LINKS_QUERY_MAX, Q_EXPIRES "=%llu&" Q_SIG "=%s",
	    (unsigned long long)expires, sig);
}

struct link_params {
	const char	*expires, *sig;		/* values, or NULL */
	size_t		 expires_len, sig_len;
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
		}
		q = amp != NULL ? amp + 1 : NULL;
	}
}

bool
links_in_query(const char *query)
{
	struct link_params lp;

	link_params(query, &lp);
	return lp.expires != NULL || lp.sig != NULL;
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
	if (lp.expires == NULL && lp.sig == NULL)
		return LINKS_NONE;
	if (lp.repeated || lp.expires == NULL || lp.sig == NULL ||
	    lp.expires_len == 0 || lp.expires_len >= sizeof(digits) ||
	    lp.sig_len != LINKS_SIG_LEN)
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
	link_mac(key, keylen, hash, expires, want);
	ok = crypto_verify_32(got, want) == 0;
	sodium_memzero(want, sizeof(want));
	if (!ok)
		return LINKS_FORGED;
	return now >= expires ? LINKS_EXPIRED : LINKS_OK;
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
