/*
 * What every request handler may use, set up once per worker by main.
 */
#ifndef APP_H
#define APP_H

#include <stdatomic.h>

#include "config.h"
#include "store.h"

struct app {
	const struct config	*cfg;
	struct store		*store;	/* from store_open */
	/*
	 * Request threads an upload may hold (handler_upload_slots): the
	 * others stay free for reads and health, however many clients are
	 * sending bodies; uploads_in_hand counts the held ones.
	 */
	unsigned		 upload_slots;
	atomic_uint		 uploads_in_hand;
};

#endif
