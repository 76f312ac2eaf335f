/*
 * A metrics snapshot in the Prometheus text exposition format, version
 * 0.0.4.  Pure: no I/O, so its output is unit-tested line by line.
 * Label values are route names, status classes and fixed kinds: never a
 * file name or hash.
 */
#ifndef METRICS_TEXT_H
#define METRICS_TEXT_H

#include <stddef.h>

#include "metrics.h"

#define METRICS_TEXT_TYPE	"text/plain; version=0.0.4; charset=utf-8"
/* The label of requests that matched no route. */
#define METRICS_NO_ROUTE	"none"

/* Versions for fileupload_build_info. */
struct metrics_build {
	char	 version[32];
	char	 libsodium[32];
	char	 libpq[32];
	char	 libmagic[32];
};

/* The running build's: the package and its libraries as linked. */
void	metrics_build_info(struct metrics_build *);

/*
 * The exposition of snap, with requests of route i (< nroutes) labelled
 * route_names[i] and those of row nroutes METRICS_NO_ROUTE.  Returns a
 * string the caller frees, its length in *len; NULL when out of memory.
 */
char	*metrics_text(const struct metrics_snapshot *snap,
	    const char *const *route_names, size_t nroutes,
	    const struct metrics_build *build, size_t *len);

#endif
