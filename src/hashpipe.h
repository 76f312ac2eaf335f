/*
 * A large body's BLAKE2b on a second thread, so that hashing (the costliest
 * step per byte) overlaps reading the next piece and writing this one.
 *
 * A request thread takes a pipe for its body and fills one of its buffers
 * at a time:
 *
 *	p = hashpipe_take(large);		a pool pipe, or the thread's inline one
 *	hashpipe_begin(p, &ctx);
 *	while (body) {
 *		buf = hashpipe_buffer(p);	waits until the thread is done with it
 *		read into buf; hashpipe_add(p, slices of it, in body order);
 *		hashpipe_submit(p);		the thread hashes them, in order
 *	}
 *	hashpipe_end(p);			every slice hashed; ctx is the caller's again
 *	hashpipe_give(p);
 *
 * A slice outside the current buffer (a parser's carried-over bytes) is
 * copied.  Between begin and end the pipe's thread owns ctx and every
 * submitted buffer.  An inline pipe (one buffer, no thread) hashes in the
 * caller, with the same result.
 *
 * The pool holds a few threaded pipes per process (their buffers are the
 * memory a large body costs): when all are taken, a large body is hashed
 * inline, so a thousand slow uploads cost a thousand small buffers at most,
 * not a thousand pipes.
 */
#ifndef HASHPIPE_H
#define HASHPIPE_H
#include <stdbool.h>
#include <stddef.h>

#include "hash.h"

/*
 * Deep enough to ride out the disk's and the scheduler's stalls (1 GiB on
 * 2 cores: ~520 MB/s with 3 buffers, ~630 with 8, ~660 with 16); 4 MiB.
 */
#define HASHPIPE_BUFS		16
#define HASHPIPE_BUF_SIZE	(256 * 1024)

struct hashpipe;

/*
 * A pipe: threaded, with HASHPIPE_BUFS buffers and its own hash thread, or
 * inline, with one buffer.  NULL when memory or the thread cannot be had.
 */
struct hashpipe	*hashpipe_new(bool threaded);
/* Stops a pipe's thread (between bodies) and frees it. */
void		 hashpipe_free(struct hashpipe *);

/* Makes the process's pool of n threaded pipes; the count made. */
int		 hashpipe_pool_start(int n);
/*
 * For a large body, a free pool pipe if there is one; otherwise (and for
 * a small body, not worth the hand-over) the calling thread's inline pipe,
 * made on its first use.  NULL only when that cannot be allocated.
 */
struct hashpipe	*hashpipe_take(bool large);
/* Hands back what hashpipe_take gave (a no-op for an inline pipe). */
void		 hashpipe_give(struct hashpipe *);
/* Frees the pool (at exit, when no request runs). */
void		 hashpipe_pool_stop(void);

void		 hashpipe_begin(struct hashpipe *, struct hash_ctx *);
char		*hashpipe_buffer(struct hashpipe *);
void		 hashpipe_add(struct hashpipe *, const void *, size_t);
void		 hashpipe_submit(struct hashpipe *);
void		 hashpipe_end(struct hashpipe *);
#endif
