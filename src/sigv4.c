/*
 * AWS Signature Version 4 (sigv4.h).  The canonical request, the string
 * to sign and the derived key follow AWS's "Signature Version 4 signing
 * process"; S3 differs only in that paths are not normalised or encoded
 * twice, which the caller's ready-encoded path takes care of.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/sha2.h>
#include <sodium.h>

#include "sigv4.h"

#define ALGORITHM	"AWS4-HMAC-SHA256"
#define SCOPE_MAX	256
/* One encoded query name or value: a 2048-byte session token's, at worst. */
#define ENC_MAX		(3 * 2048 + 1)

static const char hexdigits[] = "0123456789abcdef";

static void
to_hex(const unsigned char *b, size_t n, char *out)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hexdigits[b[i] >> 4];
		out[2 * i + 1] = hexdigits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

/*
 * nettle's, which uses the CPU's SHA instructions where it has them: a
 * part's payload hash is a large upload's costliest step after BLAKE2b
 * (libsodium's portable SHA-256 runs at less than half the speed).
 */
void
sigv4_sha256_hex(const void *p, size_t len, char *out)
{
	struct sha256_ctx ctx;
	unsigned char	 d[SHA256_DIGEST_SIZE];

	sha256_init(&ctx);
	sha256_update(&ctx, len, p);
	sha256_digest(&ctx, sizeof(d), d);
	to_hex(d, sizeof(d), out);
}

static void
hmac(const unsigned char *key, size_t keylen, const char *msg,
    unsigned char out[crypto_auth_hmacsha256_BYTES])
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, key, keylen);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg,
	    strlen(msg));
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof(st));
}

int
sigv4_encode(const char *s, int keep_slash, char *out, size_t outlen)
{
	size_t		 n = 0;
	unsigned char	 c;

	for (; (c = (unsigned char)*s) != '\0'; s++) {
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~' || (keep_slash && c == '/')) {
			if (n + 1 >= outlen)
				return -1;
			out[n++] = (char)c;
		} else {
			if (n + 3 >= outlen)
				return -1;
			out[n++] = '%';
			out[n++] = "0123456789ABCDEF"[c >> 4];
			out[n++] = "0123456789ABCDEF"[c & 15];
		}
	}
	if (n >= outlen)
		return -1;
	out[n] = '\0';
	return (int)n;
}

struct encoded {
	char	 name[ENC_MAX];
	char	 value[ENC_MAX];
};

static int
cmp_encoded(const void *a, const void *b)
{
	const struct encoded *x = a, *y = b;
	int	 c = strcmp(x->name, y->name);

	return c != 0 ? c : strcmp(x->value, y->value);
}

int
sigv4_query(const struct sigv4_request *req, char *out, size_t outlen)
{
	struct encoded	*e;
	size_t		 i, n = 0;
	int		 rc = -1, w;

	if (outlen == 0 || req->nparams > SIGV4_MAX_PARAMS)
		return -1;
	out[0] = '\0';
	if (req->nparams == 0)
		return 0;
	if ((e = calloc(req->nparams, sizeof(*e))) == NULL)
		return -1;
	for (i = 0; i < req->nparams; i++)
		if (sigv4_encode(req->params[i].name, 0, e[i].name,
		    ENC_MAX) == -1 || sigv4_encode(req->params[i].value, 0,
		    e[i].value, ENC_MAX) == -1)
			goto out;
	qsort(e, req->nparams, sizeof(*e), cmp_encoded);
	for (i = 0; i < req->nparams; i++) {
		w = snprintf(out + n, outlen - n, "%s%s=%s", i ? "&" : "",
		    e[i].name, e[i].value);
		if (w < 0 || (size_t)w >= outlen - n)
			goto out;
		n += (size_t)w;
	}
	rc = 0;
out:
	free(e);
	return rc;
}

static int
cmp_header(const void *a, const void *b)
{
	return strcmp(((const struct sigv4_pair *)a)->name,
	    ((const struct sigv4_pair *)b)->name);
}

/* Appends a then b (b may be NULL); -1 once out is full. */
static int
append(char *out, size_t outlen, size_t *n, const char *a, const char *b)
{
	int	 w = snprintf(out + *n, outlen - *n, "%s%s", a, b ? b : "");

	if (w < 0 || (size_t)w >= outlen - *n)
		return -1;
	*n += (size_t)w;
	return 0;
}

/*
 * Header values are trimmed of surrounding spaces; ours never hold
 * inner runs of spaces, which SigV4 would fold.
 */
static int
append_header(char *out, size_t outlen, size_t *n, const struct sigv4_pair *h)
{
	const char	*v = h->value;
	size_t		 len;
	int		 w;

	while (*v == ' ')
		v++;
	len = strlen(v);
	while (len > 0 && v[len - 1] == ' ')
		len--;
	w = snprintf(out + *n, outlen - *n, "%s:%.*s\n", h->name, (int)len, v);
	if (w < 0 || (size_t)w >= outlen - *n)
		return -1;
	*n += (size_t)w;
	return 0;
}

/* "host;x-amz-date" of the sorted headers. */
static int
signed_headers(const struct sigv4_pair *h, size_t nh, char *out, size_t outlen)
{
	size_t	 i, n = 0;

	out[0] = '\0';
	for (i = 0; i < nh; i++)
		if (append(out, outlen, &n, i ? ";" : "", h[i].name) == -1)
			return -1;
	return 0;
}

/* "20130524/us-east-1/s3/aws4_request" */
static int
scope(const struct sigv4_creds *c, const char *amz_date, char *out,
    size_t outlen)
{
	int	 w = snprintf(out, outlen, "%.8s/%s/%s/aws4_request", amz_date,
	    c->region, c->service);

	return w < 0 || (size_t)w >= outlen ? -1 : 0;
}

/* The hex signature of req, whose canonical query is query. */
static int
signature(const struct sigv4_creds *c, const struct sigv4_request *req,
    const char *query, char sig[SIGV4_HEX_LEN + 1])
{
	struct sigv4_pair h[SIGV4_MAX_HEADERS];
	unsigned char	 k[crypto_auth_hmacsha256_BYTES];
	char		 canon[16384], sts[512], sh[512], sc[SCOPE_MAX];
	char		 date[9], canon_hash[SIGV4_HEX_LEN + 1], *secret;
	size_t		 n = 0, i, slen;
	int		 rc = -1;

	if (req->nheaders > SIGV4_MAX_HEADERS ||
	    strlen(req->amz_date) != SIGV4_DATE_LEN)
		return -1;
	memcpy(h, req->headers, req->nheaders * sizeof(h[0]));
	qsort(h, req->nheaders, sizeof(h[0]), cmp_header);
	if (signed_headers(h, req->nheaders, sh, sizeof(sh)) == -1 ||
	    scope(c, req->amz_date, sc, sizeof(sc)) == -1)
		return -1;
	if (append(canon, sizeof(canon), &n, req->method, "\n") == -1 ||
	    append(canon, sizeof(canon), &n, req->path, "\n") == -1 ||
	    append(canon, sizeof(canon), &n, query, "\n") == -1)
		return -1;
	for (i = 0; i < req->nheaders; i++)
		if (append_header(canon, sizeof(canon), &n, &h[i]) == -1)
			return -1;
	if (append(canon, sizeof(canon), &n, "\n", sh) == -1 ||
	    append(canon, sizeof(canon), &n, "\n", req->payload_hash) == -1)
		return -1;
	sigv4_sha256_hex(canon, n, canon_hash);
	i = 0;
	if (append(sts, sizeof(sts), &i, ALGORITHM "\n", req->amz_date) ==
	    -1 || append(sts, sizeof(sts), &i, "\n", sc) == -1 ||
	    append(sts, sizeof(sts), &i, "\n", canon_hash) == -1)
		return -1;

	/* The key: HMAC chain from "AWS4" + secret over the scope's parts. */
	slen = strlen(c->secret_key) + 4;
	if ((secret = malloc(slen + 1)) == NULL)
		return -1;
	snprintf(secret, slen + 1, "AWS4%s", c->secret_key);
	memcpy(date, req->amz_date, 8);
	date[8] = '\0';
	hmac((unsigned char *)secret, slen, date, k);
	hmac(k, sizeof(k), c->region, k);
	hmac(k, sizeof(k), c->service, k);
	hmac(k, sizeof(k), "aws4_request", k);
	hmac(k, sizeof(k), sts, k);
	to_hex(k, sizeof(k), sig);
	rc = 0;
	sodium_memzero(secret, slen);
	sodium_memzero(k, sizeof(k));
	free(secret);
	return rc;
}

int
sigv4_authorization(const struct sigv4_creds *c,
    const struct sigv4_request *req, char *out, size_t outlen)
{
	struct sigv4_pair h[SIGV4_MAX_HEADERS];
	char		 query[16384], sig[SIGV4_HEX_LEN + 1], sh[512];
	char		 sc[SCOPE_MAX];
	int		 w;

	if (req->nheaders > SIGV4_MAX_HEADERS ||
	    sigv4_query(req, query, sizeof(query)) == -1 ||
	    signature(c, req, query, sig) == -1 ||
	    scope(c, req->amz_date, sc, sizeof(sc)) == -1)
		return -1;
	memcpy(h, req->headers, req->nheaders * sizeof(h[0]));
	qsort(h, req->nheaders, sizeof(h[0]), cmp_header);
	if (signed_headers(h, req->nheaders, sh, sizeof(sh)) == -1)
		return -1;
	w = snprintf(out, outlen, ALGORITHM " Credential=%s/%s, "
	    "SignedHeaders=%s, Signature=%s", c->access_key, sc, sh, sig);
	return w < 0 || (size_t)w >= outlen ? -1 : 0;
}

int
sigv4_presign(const struct sigv4_creds *c, struct sigv4_request *req,
    unsigned expires, char *out, size_t outlen)
{
	char	 cred[SCOPE_MAX + 128], sc[SCOPE_MAX], exp[16];
	char	 query[16384], sig[SIGV4_HEX_LEN + 1];
	size_t	 base = req->nparams;
	int	 w, rc = -1;

	if (base + 6 > SIGV4_MAX_PARAMS ||
	    scope(c, req->amz_date, sc, sizeof(sc)) == -1)
		return -1;
	snprintf(cred, sizeof(cred), "%s/%s", c->access_key, sc);
	snprintf(exp, sizeof(exp), "%u", expires);
	req->params[req->nparams++] = (struct sigv4_pair){ "X-Amz-Algorithm",
	    ALGORITHM };
	req->params[req->nparams++] = (struct sigv4_pair){ "X-Amz-Credential",
	    cred };
	req->params[req->nparams++] = (struct sigv4_pair){ "X-Amz-Date",
	    req->amz_date };
	req->params[req->nparams++] = (struct sigv4_pair){ "X-Amz-Expires",
	    exp };
	req->params[req->nparams++] = (struct sigv4_pair){
	    "X-Amz-SignedHeaders", "host" };
	if (c->session_token != NULL)
		req->params[req->nparams++] = (struct sigv4_pair){
		    "X-Amz-Security-Token", c->session_token };
	if (sigv4_query(req, query, sizeof(query)) == 0 &&
	    signature(c, req, query, sig) == 0) {
		w = snprintf(out, outlen, "%s&X-Amz-Signature=%s", query, sig);
		rc = w < 0 || (size_t)w >= outlen ? -1 : 0;
	}
	req->nparams = base;	/* the caller's request as it was */
	return rc;
}
