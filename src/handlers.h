/*
 * One function per route, composing the modules, and the route table that
 * names them.
 */
#ifndef HANDLERS_H
#define HANDLERS_H

#include <stdbool.h>
#include <stddef.h>

#include "router.h"

struct app;
struct request;
struct store;

/* Every route of the service, in the order 405's Allow lists them. */
extern const struct route	 handler_routes[];
extern const size_t		 handler_nroutes;

/*
 * The health check's two probes: the database answers SELECT 1, a temp
 * file can be made in the store.
 */
void	handler_health(struct app *, bool *db_ok, bool *store_ok);

/* Routes the request and answers it.  Never fails. */
void	handle_request(struct app *, struct request *);

/*
 * Of threads request threads, how many may hold uploads at once: all but a
 * reserve of an eighth (at least 4, when there are more than 4) kept for
 * requests without a body.
 */
unsigned handler_upload_slots(unsigned threads);
/*
 * A handler that reads a body for as long as its client takes calls this
 * first: false when every upload slot is held, after answering 503 with
 * Retry-After; true otherwise, and handler_upload_end must follow.
 */
bool	handler_upload_begin(struct app *, struct request *);
void	handler_upload_end(struct app *);

#endif
