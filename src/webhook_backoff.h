/*
 * When a webhook delivery that failed is tried again: exponential backoff
 * with jitter, so that a receiver coming back is not met by every retry
 * at once.  No I/O: the randomness is the caller's.
 */
#ifndef WEBHOOK_BACKOFF_H
#define WEBHOOK_BACKOFF_H

#include <stdint.h>

/*
 * Milliseconds to wait after the tries-th failed try (1 the first):
 * the step base_ms * 2^(tries - 1), at most cap_ms, of which the upper
 * half is drawn by rnd (any value): in [step / 2, step].  tries 0 and a
 * base of 0 give 0.
 */
uint64_t	webhook_backoff_ms(unsigned tries, uint64_t base_ms,
		    uint64_t cap_ms, uint32_t rnd);

#endif
