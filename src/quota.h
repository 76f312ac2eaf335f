/*
 * Caps on unfinished resumable uploads: how many there may be and the
 * bytes they may claim (a declared Upload-Length, or the bytes so far of
 * one whose length is deferred), over the whole service and per bearer
 * token.  Pure: the counts come from the uploads table (db.c), read
 * under a lock per scope in the creation's transaction.
 */
#ifndef QUOTA_H
#define QUOTA_H

#include <stdbool.h>
#include <stdint.h>

/* Each 0: no cap. */
struct quota_limits {
	uint64_t	 uploads;	/* unfinished uploads, in all */
	uint64_t	 bytes;		/* the bytes they claim, in all */
	uint64_t	 token_uploads;	/* the same, per token */
	uint64_t	 token_bytes;
};

/* What the unfinished uploads of a scope hold now. */
struct quota_usage {
	uint64_t	 uploads;
	uint64_t	 bytes;
};

enum quota_verdict {
	QUOTA_OK,
	QUOTA_UPLOADS,		/* one more upload is over a count cap: 503 */
	QUOTA_BYTES		/* its claim is over a byte cap: 507 */
};

/* Whether the service-wide caps, or the per-token ones, apply. */
bool	quota_total_capped(const struct quota_limits *);
bool	quota_token_capped(const struct quota_limits *, bool has_token);

/*
 * Whether one more upload claiming claim bytes fits beside total (and
 * token's, NULL for an anonymous writer).  Counts are checked before
 * bytes: a writer over both is told to wait (503) rather than that
 * space is short.
 */
enum quota_verdict quota_judge(const struct quota_limits *,
		    const struct quota_usage *total,
		    const struct quota_usage *token, uint64_t claim);

#endif
