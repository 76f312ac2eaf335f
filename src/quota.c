#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "quota.h"

bool
quota_total_capped(const struct quota_limits *l)
{
	return l->uploads > 0 || l->bytes > 0;
}

bool
quota_token_capped(const struct quota_limits *l, bool has_token)
{
	return has_token && (l->token_uploads > 0 || l->token_bytes > 0);
}

/* used + claim within max (0: no cap), without overflow. */
static bool
fits(uint64_t used, uint64_t claim, uint64_t max)
{
	return max == 0 || (used <= max && claim <= max - used);
}

enum quota_verdict
quota_judge(const struct quota_limits *l, const struct quota_usage *total,
    const struct quota_usage *token, uint64_t claim)
{
	if (!fits(total->uploads, 1, l->uploads) ||
	    (token != NULL && !fits(token->uploads, 1, l->token_uploads)))
		return QUOTA_UPLOADS;
	if (!fits(total->bytes, claim, l->bytes) ||
	    (token != NULL && !fits(token->bytes, claim, l->token_bytes)))
		return QUOTA_BYTES;
	return QUOTA_OK;
}
