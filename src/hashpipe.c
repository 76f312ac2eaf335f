#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hashpipe.h"

#define SLICES_MAX	16
#define SIDE_SIZE	1024	/* > a multipart delimiter, the parser's carry */

enum buf_state { BUF_FREE, BUF_FILLING, BUF_QUEUED };

struct slice {
	const char	*p;
	size_t		 n;
};

struct pipebuf {
	char		*data;
	char		 side[SIDE_SIZE];	/* copies of outside slices */
	size_t		 side_len;
	struct slice	 slices[SLICES_MAX];
	int		 nslices;
	enum buf_state	 state;
};

static pthread_mutex_t	 lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 queued = PTHREAD_COND_INITIALIZER;
static pthread_cond_t	 freed = PTHREAD_COND_INITIALIZER;
static struct pipebuf	 bufs[HASHPIPE_BUFS];
static int		 next_fill;	/* the caller's next buffer */
static int		 next_hash;	/* the thread's next buffer */
static int		 cur = -1;	/* the buffer being filled */
static struct hash_ctx	*ctx;
static int		 have_thread;
static int		 background;	/* this body goes through the thread */

static void *
hash_thread(void *arg)
{
	struct pipebuf	*b;
	struct hash_ctx	*h;
	int		 i;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&lock);
		while (bufs[next_hash].state != BUF_QUEUED)
			pthread_cond_wait(&queued, &lock);
		b = &bufs[next_hash];
		h = ctx;
		pthread_mutex_unlock(&lock);

		for (i = 0; i < b->nslices; i++)
			hash_update(h, b->slices[i].p, b->slices[i].n);

		pthread_mutex_lock(&lock);
		b->nslices = 0;
		b->side_len = 0;
		b->state = BUF_FREE;
		next_hash = (next_hash + 1) % HASHPIPE_BUFS;
		pthread_cond_broadcast(&freed);
		pthread_mutex_unlock(&lock);
	}
	return NULL;
}

int
hashpipe_start(void)
{
	static int	 started;
	pthread_t	 t;
	sigset_t	 all, old;
	int		 i;

	if (started)
		return 0;
	for (i = 0; i < HASHPIPE_BUFS; i++)
		if ((bufs[i].data = malloc(HASHPIPE_BUF_SIZE)) == NULL) {
			while (i-- > 0) {
				free(bufs[i].data);
				bufs[i].data = NULL;
			}
			return -1;
		}
	started = 1;
	/* Signals stay with the main thread, whose handlers expect them. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (pthread_create(&t, NULL, hash_thread, NULL) == 0) {
		pthread_detach(t);
		have_thread = 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return 0;
}

int
hashpipe_begin(struct hash_ctx *h, int use_thread)
{
	if (bufs[0].data == NULL)
		return -1;
	ctx = h;
	background = use_thread && have_thread;
	return 0;
}

char *
hashpipe_buffer(void)
{
	struct pipebuf	*b;

	if (!background)
		return bufs[0].data;
	pthread_mutex_lock(&lock);
	if (cur >= 0) {
		/* Handed out again unsubmitted: nothing of it was added. */
		b = &bufs[cur];
	} else {
		b = &bufs[next_fill];
		while (b->state != BUF_FREE)
			pthread_cond_wait(&freed, &lock);
		b->state = BUF_FILLING;
		cur = next_fill;
		next_fill = (next_fill + 1) % HASHPIPE_BUFS;
	}
	pthread_mutex_unlock(&lock);
	return b->data;
}

void
hashpipe_submit(void)
{
	if (!background || cur < 0)
		return;
	pthread_mutex_lock(&lock);
	bufs[cur].state = BUF_QUEUED;
	cur = -1;
	pthread_cond_signal(&queued);
	pthread_mutex_unlock(&lock);
}

/* Waits until the thread has hashed every submitted buffer. */
static void
drain(void)
{
	int	 i, busy;

	hashpipe_submit();
	pthread_mutex_lock(&lock);
	for (;;) {
		for (busy = 0, i = 0; i < HASHPIPE_BUFS; i++)
			busy |= bufs[i].state != BUF_FREE;
		if (!busy)
			break;
		pthread_cond_wait(&freed, &lock);
	}
	pthread_mutex_unlock(&lock);
}

void
hashpipe_add(const void *p, size_t n)
{
	struct pipebuf	*b;
	uintptr_t	 a = (uintptr_t)p, lo;

	if (n == 0)
		return;
	if (!background || cur < 0) {
		hash_update(ctx, p, n);
		return;
	}
	b = &bufs[cur];
	lo = (uintptr_t)b->data;
	if (a < lo || a + n > lo + HASHPIPE_BUF_SIZE) {
		if (b->side_len + n > SIDE_SIZE)
			goto inline_from_now;
		memcpy(b->side + b->side_len, p, n);
		p = b->side + b->side_len;
		b->side_len += n;
	}
	if (b->nslices == SLICES_MAX)
		goto inline_from_now;
	b->slices[b->nslices].p = p;
	b->slices[b->nslices].n = n;
	b->nslices++;
	return;

inline_from_now:
	/*
	 * Not expected of a multipart body; stay correct rather than fast:
	 * once the thread is done with what came before, hash here.
	 */
	drain();
	background = 0;
	hash_update(ctx, p, n);
}

void
hashpipe_end(void)
{
	if (background)
		drain();
	background = 0;
	ctx = NULL;
}
