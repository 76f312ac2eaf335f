#include "ratelimit.h"

void
ratelimit_init(struct ratelimit *rl, const struct rate_rules *rules)
{
	rl->rules = *rules;
	rl->began = 0;
	rl->waited = 0;
	rl->bytes = 0;
}

void
ratelimit_begin(struct ratelimit *rl, uint64_t now)
{
	rl->began = now;
}

enum rate_verdict
ratelimit_end(struct ratelimit *rl, uint64_t now, size_t n)
{
	const struct rate_rules *ru = &rl->rules;
	uint64_t	 wait = now > rl->began ? now - rl->began : 0;

	if (ru->stall_ms > 0 && wait > ru->stall_ms)
		return RATE_STALLED;
	rl->waited += wait;
	rl->bytes += n;
	if (ru->min_rate == 0 || rl->waited < ru->window_ms)
		return RATE_OK;
	/* bytes / (waited / 1000) < min_rate, without a division. */
	if (rl->bytes < ru->min_rate * rl->waited / 1000)
		return RATE_TOO_SLOW;
	rl->waited = 0;
	rl->bytes = 0;
	return RATE_OK;
}
