#include <stdatomic.h>
#include <stdbool.h>

#include "app.h"
#include "db.h"
#include "http.h"
#include "metrics.h"
#include "reserve.h"
#include "store.h"

unsigned
app_upload_slots(unsigned threads)
{
	unsigned	 reserve = threads / 8;

	if (reserve < 4)
		reserve = threads > 4 ? 4 : 0;
	return threads - reserve > 0 ? threads - reserve : 1;
}

bool
app_upload_begin(struct app *app, struct request *r)
{
	if (atomic_fetch_add(&app->uploads_in_hand, 1) < app->upload_slots) {
		metrics_upload_held(1);
		return true;
	}
	atomic_fetch_sub(&app->uploads_in_hand, 1);
	metrics_upload_refused();
	http_json_with(r, 503, "{\"error\":\"too many uploads in progress, "
	    "retry later\",\"status\":503}", "Retry-After", "5");
	return false;
}

void
app_upload_end(struct app *app)
{
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
