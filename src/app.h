/*
 * What every request handler may use, set up once per worker by main.
 */
#ifndef APP_H
#define APP_H

#include "config.h"
#include "store.h"

struct app {
	const struct config	*cfg;
	struct store		*store;	/* from store_open */
};

#endif
