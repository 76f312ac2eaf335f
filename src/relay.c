#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>

#include "relay.h"

struct relay {
	pthread_mutex_t	 lock;
	pthread_cond_t	 changed;
	pthread_t	 thread;
	relay_job	*job;		/* the job handed over, until it ends */
	void		*arg;
	bool		 running;	/* job set, not finished */
	bool		 stop;
	int		 result;
	bool		 lent;
};

struct relay_pool {
	pthread_mutex_t	 lock;
	int		 max;
	int		 len;
	struct relay	**relays;
};

static void *
relay_thread(void *p)
{
	struct relay	*r = p;
	int		 rc;

	pthread_mutex_lock(&r->lock);
	for (;;) {
		while (!r->running && !r->stop)
			pthread_cond_wait(&r->changed, &r->lock);
		if (!r->running)
			break;
		pthread_mutex_unlock(&r->lock);
		rc = r->job(r->arg);
		pthread_mutex_lock(&r->lock);
		r->result = rc;
		r->running = false;
		pthread_cond_broadcast(&r->changed);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

static struct relay *
relay_new(void)
{
	struct relay	*r;
	sigset_t	 all, old;
	int		 rc;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->changed, NULL);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&r->thread, NULL, relay_thread, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc == 0)
		return r;
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->changed);
	free(r);
	return NULL;
}

static void
relay_free(struct relay *r)
{
	pthread_mutex_lock(&r->lock);
	r->stop = true;
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->thread, NULL);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->changed);
	free(r);
}

void
relay_run(struct relay *r, relay_job *job, void *arg)
{
	pthread_mutex_lock(&r->lock);
	r->job = job;
	r->arg = arg;
	r->result = 0;
	r->running = true;
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
}

int
relay_wait(struct relay *r)
{
	int	 rc;

	pthread_mutex_lock(&r->lock);
	while (r->running)
		pthread_cond_wait(&r->changed, &r->lock);
	rc = r->result;
	r->result = 0;
	pthread_mutex_unlock(&r->lock);
	return rc;
}

struct relay_pool *
relay_pool_new(int max)
{
	struct relay_pool *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	if (max > 0 && (p->relays = calloc(max, sizeof(*p->relays))) == NULL) {
		free(p);
		return NULL;
	}
	p->max = max;
	pthread_mutex_init(&p->lock, NULL);
	return p;
}

void
relay_pool_free(struct relay_pool *p)
{
	if (p == NULL)
		return;
	while (p->len > 0)
		relay_free(p->relays[--p->len]);
	pthread_mutex_destroy(&p->lock);
	free(p->relays);
	free(p);
}

struct relay *
relay_take(struct relay_pool *p)
{
	struct relay	*r = NULL;
	int		 i;

	pthread_mutex_lock(&p->lock);
	for (i = 0; i < p->len && r == NULL; i++)
		if (!p->relays[i]->lent)
			r = p->relays[i];
	if (r == NULL && p->len < p->max && (r = relay_new()) != NULL)
		p->relays[p->len++] = r;
	if (r != NULL)
		r->lent = true;
	pthread_mutex_unlock(&p->lock);
	return r;
}

void
relay_give(struct relay_pool *p, struct relay *r)
{
	if (r == NULL)
		return;
	(void)relay_wait(r);
	pthread_mutex_lock(&p->lock);
	r->lent = false;
	pthread_mutex_unlock(&p->lock);
}
