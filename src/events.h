/*
 * The events feed, GET /service/fileupload/events (docs/api.md,
 * "Events"), and the outbox's upkeep in the sweep.
 */
#ifndef EVENTS_H
#define EVENTS_H

struct app;
struct request;

/*
 * Answers a page of events after the reader's id; with wait and nothing
 * yet, holds the request (no database connection, no upload slot) until
 * an event is published or the time passes.  At most
 * FILEUPLOAD_EVENTS_WAITERS requests of the process wait at once; past
 * that one answers at once.
 */
void	events_handle(struct app *, struct request *, const char *hash);
/*
 * Publishes what can be (events no reader asked for are numbered too)
 * and prunes events older than FILEUPLOAD_EVENTS_KEEP: how many went.
 */
int	events_sweep(struct app *);

#endif
