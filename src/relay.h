/*
 * Companion threads that run their owner's jobs one at a time, so that
 * the owner prepares the next while this one runs: a large upload reads
 * its next part from the client while the last one goes to the store.
 *
 *	r = relay_take(pool);		NULL: all lent out; do the job inline
 *	relay_run(r, job, arg);		returns at once; job(arg) runs on r
 *	... prepare the next job ...
 *	rc = relay_wait(r);		job's result (0 when none ran)
 *	relay_run(r, job, arg2);	...
 *	relay_give(pool, r);		waits for a job still running
 *
 * A pool bounds its threads (and what their jobs hold: an upload's second
 * part buffer) per process; threads are made on first demand and kept, so
 * what a thread caches (the S3 client's connection) serves the next job.
 * Jobs run with every signal blocked: signals stay with the main thread.
 */
#ifndef RELAY_H
#define RELAY_H

typedef int relay_job(void *);

struct relay;
struct relay_pool;

/* A pool of at most max threads; NULL when out of memory. */
struct relay_pool *relay_pool_new(int max);
/* Stops and frees every thread (each given back first). */
void		 relay_pool_free(struct relay_pool *);

/* A free relay, made if need be; NULL when max are lent or none starts. */
struct relay	*relay_take(struct relay_pool *);
/* Hands r back (after waiting for its job). */
void		 relay_give(struct relay_pool *, struct relay *);

/* Starts job(arg) on r's thread; r must have no job running. */
void		 relay_run(struct relay *, relay_job *, void *arg);
/* Waits for r's job; its result, 0 when none was started since. */
int		 relay_wait(struct relay *);
#endif
