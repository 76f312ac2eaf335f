/*
 * The metadata of one stored file, as docs/api.md's metadata object.
 */
#ifndef META_H
#define META_H

#include <stdint.h>
#include "hash.h"

#define META_NAME_MAX	255		/* bytes of UTF-8 */
#define META_TYPE_MAX	255
#define META_TIME_LEN	20		/* 2026-11-28T18:04:05Z */

struct meta {
	char		hash[HASH_HEX_LEN + 1];
	char		name[META_NAME_MAX + 1];
	char		type[META_TYPE_MAX + 1];
	uint64_t	size;
	char		created_at[META_TIME_LEN + 1];
	char		updated_at[META_TIME_LEN + 1];
	char		sha256[HASH_HEX_LEN + 1];	/* hex; "" when unknown */
};

#endif
