/*
 * tus concatenation (Upload-Concat): a final upload is made whole from its
 * partial uploads, in order, in the request that creates it: their bytes
 * are read back from the store (store_part_sealed, store_tmp_read),
 * hashed, and written to an ordinary temp file that then goes the way of
 * a multipart POST's (resumable.c).  No request state is kept here.
 */
#ifndef TUS_CONCAT_H
#define TUS_CONCAT_H

#include <stddef.h>

#include "hash.h"
#include "mime.h"
#include "outcome.h"
#include "store.h"
#include "tus.h"

#define CONCAT_PARTS_MAX	64	/* partial uploads in one final */
#define CONCAT_FINAL		"final;"
#define CONCAT_PARTIAL		"partial"

/*
 * The upload ids of "final;<URL> <URL>..." (each URL, absolute or a path,
 * ends in ROUTER_UPLOADS/<id>), in order, into ids: their count (1 to
 * max), or -1 when malformed.
 */
int	concat_final_ids(const char *v, char ids[][TUS_ID_LEN + 1], int max);

/*
 * The canonical header value of those ids ("final;" and their paths,
 * space-separated) into out: 0, or -1 when it does not fit.
 */
int	concat_final_value(char ids[][TUS_ID_LEN + 1], int n, char *out,
	    size_t outlen);

/* What a final upload is made of: each partial upload's id and size. */
struct concat_part {
	const char	*id;
	uint64_t	 size;
};

/*
 * Streams the partial uploads' bytes, in order, into tmp (created here),
 * hashing them into h and keeping the first MIME_PREFIX of them in
 * prefix (*prefix_len bytes).  A partial upload that another request
 * holds (another final reading it) is waited for, wait_ms at most in
 * all (store_part_hold), then 423; one whose bytes are gone is 410.
 * { 0, NULL }, or the error; the caller aborts tmp either way once done
 * with it.
 */
struct outcome concat_assemble(struct store *, const struct concat_part *,
	    int n, long wait_ms, struct store_tmp *tmp, struct hash_ctx *h,
	    char prefix[MIME_PREFIX], size_t *prefix_len);

#endif
