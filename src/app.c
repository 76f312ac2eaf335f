#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "client_slots.h"
#include "db.h"
#include "http.h"
#include "metrics.h"
#include "request.h"
#include "reserve.h"
#include "store.h"

bool
app_link_key(struct app *app)
{
	bool	 pooled;

	if (app->cfg->link_secret != NULL) {
		app->link_key = (const unsigned char *)app->cfg->link_secret;
		app->link_key_len = strlen(app->cfg->link_secret);
		return true;
	}
	pooled = metrics_pool_secret(app->pool_secret);
	app->link_key = app->pool_secret;
	app->link_key_len = sizeof(app->pool_secret);
	return pooled;
}

unsigned
app_upload_slots(unsigned threads)
{
	unsigned	 reserve = threads / 8;

	if (reserve < 4)
		reserve = threads > 4 ? 4 : 0;
	return threads - reserve > 0 ? threads - reserve : 1;
}

/*
 * The slots one client may hold now: the count set, or its percentage of
 * the pool's live workers' slots, at least one.
 */
static unsigned
client_limit(const struct config *cfg)
{
	uint64_t	 n;

	if (!cfg->slots_per_client_pct)
		return cfg->slots_per_client;
	n = (uint64_t)metrics_pool_upload_slots() * cfg->slots_per_client / 100;
	return n > 0 ? (unsigned)n : 1;
}

/*
 * The request's client and the table it counts in; NULL when the client
 * is not limited (no share, or REMOTE_ADDR missing: not through nginx).
 */
static struct client_slots *
client_of(struct app *app, struct request *r, struct client_addr *c,
    uint64_t *holder)
{
	struct client_slots *t;

	if (app->cfg->slots_per_client == 0 ||
	    (t = metrics_client_slots(holder)) == NULL ||
	    !client_addr_parse(request_param(r, "REMOTE_ADDR"), c))
		return NULL;
	return t;
}

/*
 * Takes one of the client's slots.  Held at its limit, the slots of dead
 * workers (at most once a second) are let go before it is refused.
 */
static enum client_take
client_take(struct app *app, struct request *r)
{
	static _Atomic time_t	 forgot;
	struct client_slots *t;
	struct client_addr c;
	enum client_take rc;
	uint64_t	 holder;
	time_t		 now, last;

	if ((t = client_of(app, r, &c, &holder)) == NULL)
		return CLIENT_SLOTS_TAKEN;
	rc = client_slots_take(t, &c, holder, client_limit(app->cfg));
	if (rc != CLIENT_SLOTS_OVER)
		return rc;
	now = time(NULL);
	last = atomic_load(&forgot);
	if (now == last || !atomic_compare_exchange_strong(&forgot, &last, now) ||
	    client_slots_forget(t) == 0)
		return rc;
	return client_slots_take(t, &c, holder, client_limit(app->cfg));
}

/* 503 with Retry-After: this worker's upload slots held, or the client's. */
static void
refuse(struct request *r, bool client)
{
	http_json_with(r, 503, client ? "{\"error\":\"too many uploads in "
	    "progress from this client, retry later\",\"status\":503}" :
	    "{\"error\":\"too many uploads in progress, retry later\","
	    "\"status\":503}", "Retry-After", "5");
}

bool
app_upload_begin(struct app *app, struct request *r)
{
	enum client_take rc;

	if (atomic_fetch_add(&app->uploads_in_hand, 1) >= app->upload_slots) {
		atomic_fetch_sub(&app->uploads_in_hand, 1);
		metrics_upload_refused();
		refuse(r, false);
		return false;
	}
	if ((rc = client_take(app, r)) == CLIENT_SLOTS_TAKEN) {
		metrics_upload_held(1);
		return true;
	}
	atomic_fetch_sub(&app->uploads_in_hand, 1);
	if (rc == CLIENT_SLOTS_OVER)
		metrics_upload_client_refused();
	else
		metrics_upload_refused();
	refuse(r, rc == CLIENT_SLOTS_OVER);
	return false;
}

void
app_upload_end(struct app *app, struct request *r)
{
	struct client_slots *t;
	struct client_addr c;
	uint64_t	 holder;

	if ((t = client_of(app, r, &c, &holder)) != NULL)
		client_slots_give(t, &c, holder);
	atomic_fetch_sub(&app->uploads_in_hand, 1);
	metrics_upload_held(-1);
}

bool
app_room(const struct app *app, uint64_t incoming)
{
	const struct config *cfg = app->cfg;

	return cfg->s3 != NULL || reserve_room(&cfg->min_free, cfg->data_dir,
	    incoming);
}

void
app_health(struct app *app, bool *db_ok, bool *store_ok)
{
	*db_ok = db_ping() == DB_OK;
	*store_ok = store_check(app->store) == STORE_OK;
}
