/*
 * The wake-up of the events feed's waiting requests: one thread and one
 * PostgreSQL connection per worker process LISTEN on the channel that
 * sql/011's trigger NOTIFYs in every transaction that writes an event
 * (delivered at COMMIT only).  Each notification, and each reconnection
 * (a notification may have been missed meanwhile), moves a generation
 * counter on and wakes every waiter; a waiter then reads the feed again
 * with a pooled connection.  A waiter holds no connection while it waits.
 */
#ifndef EVENTS_LISTEN_H
#define EVENTS_LISTEN_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct config;

/* The channel sql/011's trigger notifies. */
#define EVENTS_CHANNEL	"fileupload_events"

/*
 * Starts the listening thread on first use (later calls do nothing); its
 * connection is made with cfg's DB_* settings.  -1 when the thread cannot
 * be made.
 */
int		events_listen_start(const struct config *cfg);
/*
 * The current generation.  Read it before reading the feed, then wait
 * for a change of it: a commit in between is not missed.
 */
uint64_t	events_listen_generation(void);
/* True while the listening connection is up (and LISTENs). */
bool		events_listen_up(void);
/*
 * Waits until the generation is no longer seen, or until deadline
 * (CLOCK_MONOTONIC); returns the generation then.
 */
uint64_t	events_listen_wait(uint64_t seen, const struct timespec *deadline);

#endif
