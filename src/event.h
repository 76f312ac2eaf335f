/*
 * One event of the outbox (docs/api.md, "Events"), as the feed shows it.
 */
#ifndef EVENT_H
#define EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "meta.h"

#define EVENT_TYPE_MAX	16		/* "file.created" and its kin */

struct event {
	uint64_t	id;
	char		type[EVENT_TYPE_MAX];
	/* file.hash always; the rest only with has_file (not a delete). */
	struct meta	file;
	bool		has_file;
	char		at[META_TIME_LEN + 1];	/* RFC 3339, UTC */
};

#endif
