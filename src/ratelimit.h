/*
 * The rules a request body is read under, and the bookkeeping that applies
 * them: a minimum rate averaged over a window, and a longest stall.  Pure:
 * the caller passes the time (milliseconds of a monotonic clock), so the
 * decisions are tested with a fake clock, and each request keeps its own
 * state (no globals: safe for one request per thread).
 *
 * Only the time spent waiting for the client counts: the bytes of a window
 * are judged against the time the reads of that window waited, not against
 * the time the worker spent on disk or database work in between.
 */
#ifndef RATELIMIT_H
#define RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

struct rate_rules {
	uint64_t	 min_rate;	/* bytes/s; 0: no minimum */
	uint64_t	 window_ms;	/* the minimum is averaged over it */
	uint64_t	 stall_ms;	/* longest wait for a byte; 0: none */
};

struct ratelimit {
	struct rate_rules rules;
	uint64_t	 began;		/* the read in progress began at */
	uint64_t	 waited;	/* ms waited in this window */
	uint64_t	 bytes;		/* bytes received in this window */
};

enum rate_verdict {
	RATE_OK,
	RATE_STALLED,		/* a wait longer than stall_ms */
	RATE_TOO_SLOW,		/* a window below min_rate */
};

/* Starts the bookkeeping of one body under rules. */
void	ratelimit_init(struct ratelimit *, const struct rate_rules *);
/* A read for body bytes begins at now. */
void	ratelimit_begin(struct ratelimit *, uint64_t now);
/*
 * That read ended at now with n bytes.  Once a window's worth of waiting
 * has passed, its bytes are held against min_rate and a new window starts.
 */
enum rate_verdict ratelimit_end(struct ratelimit *, uint64_t now, size_t n);

#endif
