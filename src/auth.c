#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "auth.h"
#include "config.h"

/*
 * Compares through fixed-size digests, so neither the bytes nor the length
 * of the configured token leak through timing.
 */
static bool
token_equal(const char *given, size_t len, const char *token)
{
	unsigned char	 a[crypto_generichash_BYTES];
	unsigned char	 b[crypto_generichash_BYTES];

	crypto_generichash(a, sizeof(a), (const unsigned char *)given, len,
	    NULL, 0);
	crypto_generichash(b, sizeof(b), (const unsigned char *)token,
	    strlen(token), NULL, 0);
	return sodium_memcmp(a, b, sizeof(a)) == 0;
}

/*
 * RFC 6750: "Bearer" (any case), one or more spaces, the token.  NULL when
 * the header is not of that form; else the token and its length.
 */
static const char *
bearer(const char *authorization, size_t *len)
{
	const char	*tok;

	if (authorization == NULL || strncasecmp(authorization, "Bearer ", 7) != 0)
		return NULL;
	tok = authorization + 7;
	while (*tok == ' ')
		tok++;
	*len = strlen(tok);
	while (*len > 0 && tok[*len - 1] == ' ')
		(*len)--;
	return *len > 0 ? tok : NULL;
}

bool
auth_allowed(const struct config *cfg, const char *authorization,
    enum access access)
{
	const char	*tok;
	size_t		 len;

	if (access == ACCESS_METRICS)
		return cfg->metrics_token == NULL ||
		    ((tok = bearer(authorization, &len)) != NULL &&
		    token_equal(tok, len, cfg->metrics_token));
	if (access == ACCESS_LINK)
		access = ACCESS_READ;
	if (access == ACCESS_OPEN ||
	    (cfg->write_token == NULL && cfg->read_token == NULL) ||
	    (access == ACCESS_READ && cfg->read_token == NULL))
		return true;
	if ((tok = bearer(authorization, &len)) == NULL)
		return false;
	if (cfg->write_token != NULL && token_equal(tok, len, cfg->write_token))
		return true;
	/* The read token opens reads, and writes when it is the only token. */
	return cfg->read_token != NULL &&
	    (access == ACCESS_READ || cfg->write_token == NULL) &&
	    token_equal(tok, len, cfg->read_token);
}

/* Of a configured token, its id. */
static void
token_id(const char *token, char id[AUTH_TOKEN_ID_LEN + 1])
{
	unsigned char	 h[crypto_generichash_BYTES_MIN];

	crypto_generichash(h, sizeof(h), (const unsigned char *)token,
	    strlen(token), NULL, 0);
	sodium_bin2hex(id, AUTH_TOKEN_ID_LEN + 1, h, AUTH_TOKEN_ID_LEN / 2);
}

bool
auth_token_id(const struct config *cfg, const char *authorization,
    char id[AUTH_TOKEN_ID_LEN + 1])
{
	const char	*tok;
	size_t		 len;

	id[0] = '\0';
	if ((tok = bearer(authorization, &len)) == NULL)
		return false;
	if (cfg->write_token != NULL && token_equal(tok, len, cfg->write_token))
		token_id(cfg->write_token, id);
	else if (cfg->read_token != NULL && token_equal(tok, len,
	    cfg->read_token))
		token_id(cfg->read_token, id);
	return id[0] != '\0';
}
