/*
 * One function per route, composing the modules; maps module errors to HTTP
 * statuses.
 */
#ifndef HANDLERS_H
#define HANDLERS_H

#include "config.h"

struct request;
struct store;

/* What every handler may use; set up once per worker by main. */
struct app {
	const struct config	*cfg;
	struct store		*store;
};

/* Routes the request and answers it.  Never fails. */
void	handle_request(struct app *, struct request *);

#endif
