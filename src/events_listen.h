/*
 * The wake-up of the events feed's waiting requests, across the pool and
 * its hosts: one thread and one PostgreSQL connection per worker process.
 * After each commit that wrote an event (db_on_change), the thread is
 * poked and sends NOTIFY on its connection: one for all the commits made
 * since it last came round, and never inside the changing transaction,
 * whose COMMIT a NOTIFY would serialize.  The same connection LISTENs:
 * each notification, and each reconnection (one may have been missed
 * meanwhile), moves a generation counter on and wakes every waiter of
 * the process, which then reads the feed again with a pooled connection.
 * A waiter holds no connection while it waits.
 */
#ifndef EVENTS_LISTEN_H
#define EVENTS_LISTEN_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct config;

/* The channel of the workers' NOTIFYs. */
#define EVENTS_CHANNEL	"fileupload_events"

/*
 * Starts the thread (later calls do nothing), its connection made with
 * cfg's DB_* settings and kept; db_on_change pokes it.  -1 when the
 * thread cannot be made.
 */
int		events_listen_start(const struct config *cfg);
/* A change committed: the thread announces it (thread-safe, no wait). */
void		events_listen_poke(void);
/*
 * The current generation.  Read it before reading the feed, then wait
 * for a change of it: a commit in between is not missed.
 */
uint64_t	events_listen_generation(void);
/* True while the listening connection is up (and LISTENs). */
bool		events_listen_up(void);
/*
 * The process is stopping: every waiter is woken, and events_listen_ended
 * is true from now on, so that none holds the exit up.
 */
void		events_listen_end(void);
bool		events_listen_ended(void);
/*
 * Waits until the generation is no longer seen, or until deadline
 * (CLOCK_MONOTONIC); returns the generation then.
 */
uint64_t	events_listen_wait(uint64_t seen, const struct timespec *deadline);
/* The deadline ms milliseconds from now, for events_listen_wait. */
void		events_listen_deadline(struct timespec *t, unsigned ms);

#endif
