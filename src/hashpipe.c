#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hashpipe.h"

#define SLICES_MAX	16
#define SIDE_SIZE	1024	/* > a multipart delimiter, the parser's carry */
#define POOL_MAX	64

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

struct hashpipe {
	pthread_mutex_t	 lock;
	pthread_cond_t	 queued;
	pthread_cond_t	 freed;
	pthread_t	 thread;
	bool		 threaded;
	bool		 stop;		/* hashpipe_free: the thread ends */
	bool		 pooled;
	bool		 taken;		/* a pool pipe lent out */
	int		 nbufs;
	struct pipebuf	*bufs;
	int		 next_fill;	/* the caller's next buffer */
	int		 next_hash;	/* the thread's next buffer */
	int		 cur;		/* the buffer being filled, -1: none */
	struct hash_ctx	*ctx;
	bool		 background;	/* this body goes through the thread */
};

static pthread_mutex_t	 pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hashpipe	*pool[POOL_MAX];
static int		 pool_len;
static pthread_key_t	 inline_key;
static pthread_once_t	 inline_once = PTHREAD_ONCE_INIT;

static void *
hash_thread(void *arg)
{
	struct hashpipe	*p = arg;
	struct pipebuf	*b;
	struct hash_ctx	*h;
	int		 i;

	for (;;) {
		pthread_mutex_lock(&p->lock);
		while (p->bufs[p->next_hash].state != BUF_QUEUED && !p->stop)
			pthread_cond_wait(&p->queued, &p->lock);
		if (p->bufs[p->next_hash].state != BUF_QUEUED) {
			pthread_mutex_unlock(&p->lock);
			return NULL;
		}
		b = &p->bufs[p->next_hash];
		h = p->ctx;
		pthread_mutex_unlock(&p->lock);

		for (i = 0; i < b->nslices; i++)
			hash_update(h, b->slices[i].p, b->slices[i].n);

		pthread_mutex_lock(&p->lock);
		b->nslices = 0;
		b->side_len = 0;
		b->state = BUF_FREE;
		p->next_hash = (p->next_hash + 1) % p->nbufs;
		pthread_cond_broadcast(&p->freed);
		pthread_mutex_unlock(&p->lock);
	}
}

static void
free_bufs(struct hashpipe *p)
{
	int	 i;

	for (i = 0; p->bufs != NULL && i < p->nbufs; i++)
		free(p->bufs[i].data);
	free(p->bufs);
}

struct hashpipe *
hashpipe_new(bool threaded)
{
	struct hashpipe	*p;
	sigset_t	 all, old;
	int		 i, rc;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->nbufs = threaded ? HASHPIPE_BUFS : 1;
	p->cur = -1;
	if ((p->bufs = calloc(p->nbufs, sizeof(*p->bufs))) == NULL)
		goto fail;
	for (i = 0; i < p->nbufs; i++)
		if ((p->bufs[i].data = malloc(HASHPIPE_BUF_SIZE)) == NULL)
			goto fail;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->queued, NULL);
	pthread_cond_init(&p->freed, NULL);
	if (!threaded)
		return p;
	/* Signals stay with the thread that waits for them (main). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&p->thread, NULL, hash_thread, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc == 0) {
		p->threaded = true;
		return p;
	}
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->queued);
	pthread_cond_destroy(&p->freed);
fail:
	free_bufs(p);
	free(p);
	return NULL;
}

void
hashpipe_free(struct hashpipe *p)
{
	if (p == NULL)
		return;
	if (p->threaded) {
		pthread_mutex_lock(&p->lock);
		p->stop = true;
		pthread_cond_signal(&p->queued);
		pthread_mutex_unlock(&p->lock);
		pthread_join(p->thread, NULL);
	}
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->queued);
	pthread_cond_destroy(&p->freed);
	free_bufs(p);
	free(p);
}

int
hashpipe_pool_start(int n)
{
	struct hashpipe	*p;

	pthread_mutex_lock(&pool_lock);
	while (pool_len < n && pool_len < POOL_MAX &&
	    (p = hashpipe_new(true)) != NULL) {
		p->pooled = true;
		pool[pool_len++] = p;
	}
	n = pool_len;
	pthread_mutex_unlock(&pool_lock);
	return n;
}

void
hashpipe_pool_stop(void)
{
	pthread_mutex_lock(&pool_lock);
	while (pool_len > 0)
		hashpipe_free(pool[--pool_len]);
	pthread_mutex_unlock(&pool_lock);
}

static void
free_inline(void *p)
{
	hashpipe_free(p);
}

static void
make_inline_key(void)
{
	(void)pthread_key_create(&inline_key, free_inline);
}

struct hashpipe *
hashpipe_take(bool large)
{
	struct hashpipe	*p = NULL;
	int		 i;

	if (large) {
		pthread_mutex_lock(&pool_lock);
		for (i = 0; i < pool_len && p == NULL; i++)
			if (!pool[i]->taken)
				p = pool[i];
		if (p != NULL)
			p->taken = true;
		pthread_mutex_unlock(&pool_lock);
		if (p != NULL)
			return p;
	}
	pthread_once(&inline_once, make_inline_key);
	if ((p = pthread_getspecific(inline_key)) == NULL &&
	    (p = hashpipe_new(false)) != NULL &&
	    pthread_setspecific(inline_key, p) != 0) {
		hashpipe_free(p);
		p = NULL;
	}
	return p;
}

void
hashpipe_give(struct hashpipe *p)
{
	if (p == NULL || !p->pooled)
		return;
	pthread_mutex_lock(&pool_lock);
	p->taken = false;
	pthread_mutex_unlock(&pool_lock);
}

void
hashpipe_begin(struct hashpipe *p, struct hash_ctx *h)
{
	p->ctx = h;
	p->background = p->threaded;
}

char *
hashpipe_buffer(struct hashpipe *p)
{
	struct pipebuf	*b;

	if (!p->background)
		return p->bufs[0].data;
	pthread_mutex_lock(&p->lock);
	if (p->cur >= 0) {
		/* Handed out again unsubmitted: nothing of it was added. */
		b = &p->bufs[p->cur];
	} else {
		b = &p->bufs[p->next_fill];
		while (b->state != BUF_FREE)
			pthread_cond_wait(&p->freed, &p->lock);
		b->state = BUF_FILLING;
		p->cur = p->next_fill;
		p->next_fill = (p->next_fill + 1) % p->nbufs;
	}
	pthread_mutex_unlock(&p->lock);
	return b->data;
}

void
hashpipe_submit(struct hashpipe *p)
{
	if (!p->background || p->cur < 0)
		return;
	pthread_mutex_lock(&p->lock);
	p->bufs[p->cur].state = BUF_QUEUED;
	p->cur = -1;
	pthread_cond_signal(&p->queued);
	pthread_mutex_unlock(&p->lock);
}

/* Waits until the thread has hashed every submitted buffer. */
static void
drain(struct hashpipe *p)
{
	int	 i, busy;

	hashpipe_submit(p);
	pthread_mutex_lock(&p->lock);
	for (;;) {
		for (busy = 0, i = 0; i < p->nbufs; i++)
			busy |= p->bufs[i].state != BUF_FREE;
		if (!busy)
			break;
		pthread_cond_wait(&p->freed, &p->lock);
	}
	pthread_mutex_unlock(&p->lock);
}

void
hashpipe_add(struct hashpipe *p, const void *data, size_t n)
{
	struct pipebuf	*b;
	uintptr_t	 a = (uintptr_t)data, lo;

	if (n == 0)
		return;
	if (!p->background || p->cur < 0) {
		hash_update(p->ctx, data, n);
		return;
	}
	b = &p->bufs[p->cur];
	lo = (uintptr_t)b->data;
	if (a < lo || a + n > lo + HASHPIPE_BUF_SIZE) {
		if (b->side_len + n > SIDE_SIZE)
			goto inline_from_now;
		memcpy(b->side + b->side_len, data, n);
		data = b->side + b->side_len;
		b->side_len += n;
	}
	if (b->nslices == SLICES_MAX)
		goto inline_from_now;
	b->slices[b->nslices].p = data;
	b->slices[b->nslices].n = n;
	b->nslices++;
	return;

inline_from_now:
	/*
	 * Not expected of a multipart body; stay correct rather than fast:
	 * once the thread is done with what came before, hash here.
	 */
	drain(p);
	p->background = false;
	hash_update(p->ctx, data, n);
}

void
hashpipe_end(struct hashpipe *p)
{
	if (p->background)
		drain(p);
	p->background = false;
	p->ctx = NULL;
}
