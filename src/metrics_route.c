#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "config.h"
#include "http.h"
#include "metrics.h"
#include "metrics_route.h"
#include "metrics_text.h"
#include "reserve.h"
#include "request.h"
#include "router.h"

bool
metrics_loopback(const char *addr)
{
	return addr != NULL && (strcmp(addr, "127.0.0.1") == 0 ||
	    strcmp(addr, "::1") == 0 || strcmp(addr, "::ffff:127.0.0.1") == 0);
}

void
metrics_handle(struct app *app, struct request *r, const char *hash)
{
	const char		*names[METRICS_ROUTES_MAX];
	struct metrics_snapshot	*snap;
	struct metrics_build	 build;
	uint64_t		 avail, size;
	size_t			 i, n, len;
	char			*text, clen[24];
	bool			 db_ok, store_ok;

	(void)hash;
	/*
	 * The nginx location allows loopback only, unless a token is set;
	 * this holds should a hand-written location forget to.
	 */
	if (app->cfg->metrics_token == NULL &&
	    !metrics_loopback(request_param(r, "REMOTE_ADDR"))) {
		http_error(r, 403, "metrics are open to loopback only "
		    "(or set FILEUPLOAD_METRICS_TOKEN)");
		return;
	}
	n = app->nroutes < METRICS_ROUTES_MAX ? app->nroutes :
	    METRICS_ROUTES_MAX - 1;
	for (i = 0; i < n; i++)
		names[i] = app->routes[i].name;
	metrics_build_info(&build);
	if ((snap = metrics_snapshot_take()) == NULL) {
		http_error(r, 500, "metrics unavailable");
		return;
	}
	app_health(app, &db_ok, &store_ok);
	snap->health_db = db_ok;
	snap->health_store = store_ok;
	if (reserve_space(app->cfg->data_dir, &avail, &size) == 0) {
		snap->disk_free = (int64_t)avail;
		snap->disk_size = (int64_t)size;
	}
	text = metrics_text(snap, names, n, &build, &len);
	free(snap);
	if (text == NULL) {
		http_error(r, 500, "out of memory");
		return;
	}
	http_begin(r, 200, METRICS_TEXT_TYPE);
	snprintf(clen, sizeof(clen), "%zu", len);
	http_header(r, "Content-Length", clen);
	http_header(r, "Cache-Control", "no-store");
	http_end(r);
	/* HEAD: nginx drops the body. */
	http_write(r, text, len);
	free(text);
}
