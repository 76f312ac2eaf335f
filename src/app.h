/*
 * What every request handler may use, set up once per worker by main: the
 * configuration, the store, the route table, and the upload slots (how
 * many request threads may hold a body at once).
 */
#ifndef APP_H
#define APP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "metrics.h"
#include "store.h"

struct request;
struct route;

struct app {
	const struct config	*cfg;
	struct store		*store;	/* from store_open */
	/* The service's routes (handlers.h), for the metrics' labels. */
	const struct route	*routes;
	size_t			 nroutes;
	/*
	 * Request threads an upload may hold (app_upload_slots): the
	 * others stay free for reads and health, however many clients are
	 * sending bodies; uploads_in_hand counts the held ones.
	 */
	unsigned		 upload_slots;
	atomic_uint		 uploads_in_hand;
	/* The share links' key (links.h), set by app_link_key. */
	const unsigned char	*link_key;
	size_t			 link_key_len;
	unsigned char		 pool_secret[METRICS_POOL_SECRET_LEN];
};

/*
 * Of threads request threads, how many may hold uploads at once: all but a
 * reserve of an eighth (at least 4, when there are more than 4) kept for
 * requests without a body.
 */
unsigned app_upload_slots(unsigned threads);
/*
 * A handler that reads a body for as long as its client takes calls this
 * first: false when every upload slot of this process is held, or when
 * the client's address (REMOTE_ADDR) holds its share of the host's
 * (FILEUPLOAD_SLOTS_PER_CLIENT, counted over the pool's processes in
 * client_slots.h's table), after answering 503 with Retry-After; true
 * otherwise, and app_upload_end with the same request must follow.
 */
bool	app_upload_begin(struct app *, struct request *);
void	app_upload_end(struct app *, struct request *);

/*
 * Chooses the share links' key, after metrics_start: FILEUPLOAD_LINK_SECRET
 * when set, so that links work on every host that shares it; else the
 * random secret of the pool's shared file (metrics_pool_secret), made
 * anew at each start of the pool.  False when that file is this
 * process's alone: a link then works only on the process that made it.
 */
bool	app_link_key(struct app *);

/*
 * Retry-After of a refusal for space or for a cap: about the period of
 * the sweeps that free them.
 */
#define APP_RETRY_FULL	60

/*
 * The free-space reserve (FILEUPLOAD_MIN_FREE) for a new upload that
 * brings incoming bytes (0: not known yet) into the store's files: false
 * when it has no room, to be answered 507 with APP_NO_ROOM and
 * Retry-After.  With STORAGE=s3 the bytes go to the object store through
 * memory (S3_PART_SIZE buffers), never to a local disk: always true.
 */
bool	app_room(const struct app *, uint64_t incoming);
#define APP_NO_ROOM	"not enough free space for the upload, retry later"

/*
 * The health check's two probes: the database answers SELECT 1, a temp
 * file can be made in the store.
 */
void	app_health(struct app *, bool *db_ok, bool *store_ok);

#endif
