/*
 * A large body's BLAKE2b on a second thread, so that hashing (the costliest
 * step per byte) overlaps reading the next piece and writing this one.
 *
 * The caller fills one of HASHPIPE_BUFS buffers at a time:
 *
 *	hashpipe_start();			once, at start
 *	hashpipe_begin(&ctx, 1);
 *	while (body) {
 *		buf = hashpipe_buffer();	waits until the thread is done with it
 *		read into buf; hashpipe_add(slices of it, in body order);
 *		hashpipe_submit();		the thread hashes them, in order
 *	}
 *	hashpipe_end();				every slice hashed; ctx is the caller's again
 *
 * A slice outside the current buffer (a parser's carried-over bytes) is
 * copied.  Between begin and end the thread owns ctx and every submitted
 * buffer; without a thread (creation failed) everything is hashed inline,
 * with the same result.
 */
#ifndef HASHPIPE_H
#define HASHPIPE_H
#include <stddef.h>

#include "hash.h"

/*
 * Deep enough to ride out the disk's and the scheduler's stalls (1 GiB on
 * 2 cores: ~520 MB/s with 3 buffers, ~630 with 8, ~660 with 16); 4 MiB.
 */
#define HASHPIPE_BUFS		16
#define HASHPIPE_BUF_SIZE	(256 * 1024)

/*
 * Allocates the buffers and starts the thread, once per process, before
 * the first request: 0, or -1 when the buffers cannot be had.  Should the
 * thread not start, every body is hashed inline.
 */
int	 hashpipe_start(void);
/*
 * use_thread 0: hash inline (a small body is not worth the hand-over).
 * -1 (and nothing begun) when hashpipe_start has not succeeded.
 */
int	 hashpipe_begin(struct hash_ctx *, int use_thread);
char	*hashpipe_buffer(void);
void	 hashpipe_add(const void *, size_t);
void	 hashpipe_submit(void);
void	 hashpipe_end(void);
#endif
