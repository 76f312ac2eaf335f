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

/* Every route of the service, in the order 405's Allow lists them. */
extern const struct route	 handler_routes[];
extern const size_t		 handler_nroutes;

/* Routes the request and answers it.  Never fails. */
void	handle_request(struct app *, struct request *);

#endif
