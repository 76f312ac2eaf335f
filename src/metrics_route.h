/*
 * GET /service/fileupload/metrics: the pool's counters (metrics.h) in the
 * Prometheus text format (metrics_text.h).
 */
#ifndef METRICS_ROUTE_H
#define METRICS_ROUTE_H

#include <stdbool.h>

struct app;
struct request;

/*
 * Answers a scrape.  Without FILEUPLOAD_METRICS_TOKEN (the token itself is
 * checked with the route's access class) only a client on loopback gets
 * an answer, as nginx's location allows; anyone else gets 403.
 */
void	metrics_handle(struct app *, struct request *, const char *hash);
/* Whether a REMOTE_ADDR is the host itself (127.0.0.1 or ::1). */
bool	metrics_loopback(const char *remote_addr);

#endif
