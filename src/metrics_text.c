#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <magic.h>
#include <sodium.h>

#include "metrics_text.h"

static const char *const body_reason[METRICS_BODY__MAX] = {
	[METRICS_BODY_BROKEN] = "broken",
	[METRICS_BODY_STALLED] = "stalled",
	[METRICS_BODY_TOO_SLOW] = "too_slow",
};
static const char *const db_kind[METRICS_DB__MAX] = {
	[METRICS_DB_UNAVAILABLE] = "unavailable",
	[METRICS_DB_QUERY] = "query",
	[METRICS_DB_POOL_WAIT] = "pool_wait",
	[METRICS_DB_COMMIT_UNKNOWN] = "commit_unknown",
};
static const char *const store_kind[METRICS_STORE__MAX] = {
	[METRICS_STORE_NOSPACE] = "no_space",
	[METRICS_STORE_IO] = "io",
	[METRICS_STORE_MISSING] = "missing",
	[METRICS_STORE_UNAVAILABLE] = "unavailable",
};
static const char *const s3_op[METRICS_S3__MAX] = {
	[METRICS_S3_PUT] = "put",
	[METRICS_S3_GET] = "get",
	[METRICS_S3_HEAD] = "head",
	[METRICS_S3_DELETE] = "delete",
	[METRICS_S3_LIST] = "list",
	[METRICS_S3_MULTIPART] = "multipart",
};
/* Labels of the regex counters, in their enum order from SKIPPED. */
static const char *const regex_search[] = { "skipped", "searched" };
static const char *const regex_need[] = { "yes", "no" };
/* Labels of the webhook counters, in their enum order from DELIVERED. */
static const char *const webhook_result[] = { "delivered", "retried",
    "failed" };
static const char *const class_name[METRICS_CLASSES] = {
	"1xx", "2xx", "3xx", "4xx", "5xx",
};

/* Plain counters: one series each. */
static const struct {
	enum metrics_counter	 which;
	const char		*name;
	const char		*help;
} counters[] = {
	{ METRICS_UPLOAD_FILES, "fileupload_uploaded_files_total",
	    "Files stored by uploads (201)." },
	{ METRICS_UPLOAD_BYTES, "fileupload_uploaded_bytes_total",
	    "Bytes of the files stored by uploads." },
	{ METRICS_DUPLICATES, "fileupload_duplicate_uploads_total",
	    "Uploads refused because the same bytes were stored (403)." },
	{ METRICS_DELETE_FILES, "fileupload_deleted_files_total",
	    "Files deleted." },
	{ METRICS_DELETE_BYTES, "fileupload_deleted_bytes_total",
	    "Bytes of the files deleted." },
	{ METRICS_UPLOAD_REFUSED, "fileupload_upload_slots_refused_total",
	    "Uploads answered 503 because every upload slot of their worker "
	    "was held." },
	{ METRICS_UPLOAD_CLIENT_REFUSED,
	    "fileupload_upload_client_share_refused_total",
	    "Uploads answered 503 because their client address held its "
	    "share of the host's upload slots (FILEUPLOAD_SLOTS_PER_CLIENT)." },
	{ METRICS_SWEPT, "fileupload_temp_files_swept_total",
	    "Temp files of dead workers removed (or deletes put back) by "
	    "sweeps." },
	{ METRICS_DB_CONNECTS, "fileupload_db_connections_opened_total",
	    "PostgreSQL connections made: each pooled connection's first, "
	    "then every reconnect." },
	{ METRICS_WORKER_STARTS, "fileupload_worker_starts_total",
	    "Worker processes started; beyond fileupload_workers, "
	    "replacements of dead ones." },
	{ METRICS_TUS_CREATED, "fileupload_tus_uploads_created_total",
	    "Resumable uploads created." },
	{ METRICS_TUS_COMPLETED, "fileupload_tus_uploads_completed_total",
	    "Resumable uploads completed." },
	{ METRICS_TUS_EXPIRED, "fileupload_tus_uploads_expired_total",
	    "Resumable uploads expired unfinished." },
	{ METRICS_TUS_TERMINATED, "fileupload_tus_uploads_terminated_total",
	    "Resumable uploads terminated by their client." },
	{ METRICS_TUS_BYTES, "fileupload_tus_received_bytes_total",
	    "Bytes received by resumable uploads." },
	{ METRICS_FCGI_CONNECTIONS, "fileupload_fastcgi_connections_total",
	    "FastCGI connections from nginx taken by the workers; with its "
	    "kept connections, far fewer than requests." },
};

void
metrics_build_info(struct metrics_build *b)
{
	int	 pq = PQlibVersion(), mg = magic_version();

	snprintf(b->version, sizeof(b->version), "%s", PACKAGE_VERSION);
	snprintf(b->libsodium, sizeof(b->libsodium), "%s",
	    sodium_version_string());
	/* 150005 is 15.5 (since 10: major * 10000 + minor). */
	snprintf(b->libpq, sizeof(b->libpq), "%d.%d", pq / 10000, pq % 10000);
	snprintf(b->libmagic, sizeof(b->libmagic), "%d.%02d", mg / 100,
	    mg % 100);
}

/* A label value: backslash, double quote and newline escaped. */
static void
label_value(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void
family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
one_counter(FILE *f, const char *name, const char *help, uint64_t v)
{
	family(f, name, "counter", help);
	fprintf(f, "%s %" PRIu64 "\n", name, v);
}

static void
one_gauge(FILE *f, const char *name, const char *help, int64_t v)
{
	family(f, name, "gauge", help);
	fprintf(f, "%s %" PRId64 "\n", name, v);
}

/* A counter with one label over a table of values. */
static void
labelled(FILE *f, const char *name, const char *help, const char *label,
    const char *const *values, const uint64_t *v, size_t n)
{
	size_t	 i;

	family(f, name, "counter", help);
	for (i = 0; i < n; i++)
		fprintf(f, "%s{%s=\"%s\"} %" PRIu64 "\n", name, label,
		    values[i], v[i]);
}

/* A row added without its name (check_metrics fails on it) is no crash. */
static const char *
route_label(const char *const *names, size_t nroutes, size_t i)
{
	if (i >= nroutes)
		return METRICS_NO_ROUTE;
	return names[i] != NULL ? names[i] : "unnamed";
}

static void
requests(FILE *f, const struct metrics_snapshot *s, const char *const *names,
    size_t nroutes)
{
	size_t		 i, c, b;
	uint64_t	 cum;

	family(f, "fileupload_requests_total", "counter",
	    "Requests answered, by route and status class.");
	for (i = 0; i <= nroutes; i++)
		for (c = 0; c < METRICS_CLASSES; c++) {
			fputs("fileupload_requests_total{route=\"", f);
			label_value(f, route_label(names, nroutes, i));
			fprintf(f, "\",class=\"%s\"} %" PRIu64 "\n",
			    class_name[c], s->requests[i][c]);
		}

	family(f, "fileupload_request_duration_seconds", "histogram",
	    "Time from a request's arrival at a worker to its answer, "
	    "by route.");
	for (i = 0; i <= nroutes; i++) {
		cum = 0;
		for (b = 0; b <= METRICS_BUCKETS; b++) {
			cum += s->bucket[i][b];
			fputs("fileupload_request_duration_seconds_bucket"
			    "{route=\"", f);
			label_value(f, route_label(names, nroutes, i));
			fprintf(f, "\",le=\"%s\"} %" PRIu64 "\n",
			    metrics_bucket_le(b), cum);
		}
		fputs("fileupload_request_duration_seconds_sum{route=\"", f);
		label_value(f, route_label(names, nroutes, i));
		fprintf(f, "\"} %" PRIu64 ".%06" PRIu64 "\n",
		    s->duration_us[i] / 1000000, s->duration_us[i] % 1000000);
		fputs("fileupload_request_duration_seconds_count{route=\"", f);
		label_value(f, route_label(names, nroutes, i));
		fprintf(f, "\"} %" PRIu64 "\n", cum);
	}
}

static void
pool(FILE *f, const struct metrics_snapshot *s, const struct metrics_build *b)
{
	unsigned	 i;
	int64_t		 busy = s->gauge[METRICS_IN_FLIGHT];
	int64_t		 threads = s->gauge[METRICS_THREADS];

	family(f, "fileupload_build_info", "gauge",
	    "The worker's version and its libraries' (always 1).");
	fputs("fileupload_build_info{version=\"", f);
	label_value(f, b->version);
	fputs("\",libsodium=\"", f);
	label_value(f, b->libsodium);
	fputs("\",libpq=\"", f);
	label_value(f, b->libpq);
	fputs("\",libmagic=\"", f);
	label_value(f, b->libmagic);
	fputs("\"} 1\n", f);

	one_gauge(f, "fileupload_metrics_shared", "1: these counts cover "
	    "every worker of the pool (FILEUPLOAD_METRICS_FILE); 0: only the "
	    "worker that answered.", s->shared ? 1 : 0);
	one_gauge(f, "fileupload_metrics_start_time_seconds", "When the "
	    "counts began (the pool's start), seconds since the epoch.",
	    s->created);
	one_gauge(f, "fileupload_workers", "Worker processes alive.",
	    s->workers);
	family(f, "fileupload_worker_start_time_seconds", "gauge",
	    "Start time of each live worker process, by its slot, seconds "
	    "since the epoch.");
	for (i = 0; i < s->workers; i++)
		fprintf(f, "fileupload_worker_start_time_seconds{slot=\"%d\"} "
		    "%" PRId64 "\n", s->worker_slot[i], s->worker_started[i]);

	if (s->health_db >= 0 && s->health_store >= 0) {
		family(f, "fileupload_health", "gauge", "The health check's "
		    "probes at this scrape: 1 ok, 0 failing (the health route "
		    "answers 503).");
		fprintf(f, "fileupload_health{check=\"database\"} %d\n"
		    "fileupload_health{check=\"storage\"} %d\n", s->health_db,
		    s->health_store);
	}
	if (s->disk_size >= 0) {
		one_gauge(f, "fileupload_data_dir_free_bytes", "Bytes "
		    "available to the workers on DATA_DIR's file system.",
		    s->disk_free);
		one_gauge(f, "fileupload_data_dir_size_bytes", "Size of "
		    "DATA_DIR's file system.", s->disk_size);
	}
	one_gauge(f, "fileupload_requests_in_flight", "Requests being "
	    "answered now.", busy);
	family(f, "fileupload_threads", "gauge",
	    "Request threads of the live workers, busy with a request or idle.");
	fprintf(f, "fileupload_threads{state=\"busy\"} %" PRId64 "\n", busy);
	fprintf(f, "fileupload_threads{state=\"idle\"} %" PRId64 "\n",
	    threads > busy ? threads - busy : 0);
	one_gauge(f, "fileupload_uploads_in_flight", "Uploads whose body is "
	    "being received or stored now.", s->gauge[METRICS_UPLOADS]);
	one_gauge(f, "fileupload_upload_slots", "Uploads the live workers "
	    "take at once; past that, 503.", s->gauge[METRICS_UPLOAD_SLOTS]);
}

static void
webhook(FILE *f, const struct metrics_snapshot *s)
{
	uint64_t	 cum = 0;
	unsigned	 b;

	labelled(f, "fileupload_webhook_deliveries_total", "Webhook "
	    "deliveries: answered 2xx (delivered), failed and to be tried "
	    "again (retried), failed on their last try (failed).", "result",
	    webhook_result, s->counter + METRICS_WEBHOOK_DELIVERED, 3);
	family(f, "fileupload_webhook_lag_seconds", "histogram",
	    "Time from an event to its delivery's 2xx answer.");
	for (b = 0; b <= METRICS_BUCKETS; b++) {
		cum += s->webhook_lag[b];
		fprintf(f, "fileupload_webhook_lag_seconds_bucket{le=\"%s\"} "
		    "%" PRIu64 "\n", metrics_bucket_le(b), cum);
	}
	fprintf(f, "fileupload_webhook_lag_seconds_sum %" PRIu64 ".%06" PRIu64
	    "\nfileupload_webhook_lag_seconds_count %" PRIu64 "\n",
	    s->webhook_lag_us / 1000000, s->webhook_lag_us % 1000000, cum);
	one_gauge(f, "fileupload_webhook_delivering", "1 when a worker of "
	    "this host holds the webhook's delivery lock (one in the whole "
	    "pool does), else 0.", s->gauge[METRICS_WEBHOOK_LOCK]);
	one_gauge(f, "fileupload_webhook_backlog_age_seconds", "Age of the "
	    "oldest event not yet delivered nor given up on, as the "
	    "delivering worker last saw it; 0 when none or not delivering "
	    "here.", s->gauge[METRICS_WEBHOOK_BACKLOG_AGE]);
}

char *
metrics_text(const struct metrics_snapshot *s, const char *const *names,
    size_t nroutes, const struct metrics_build *b, size_t *len)
{
	FILE	*f;
	char	*out = NULL;
	size_t	 i, n = 0;
	int	 ok;

	if (nroutes >= METRICS_ROUTES_MAX)
		nroutes = METRICS_ROUTES_MAX - 1;
	if ((f = open_memstream(&out, &n)) == NULL)
		return NULL;
	pool(f, s, b);
	requests(f, s, names, nroutes);
	for (i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		one_counter(f, counters[i].name, counters[i].help,
		    s->counter[counters[i].which]);
	labelled(f, "fileupload_slow_uploads_cut_total", "Request bodies "
	    "cut with 408: stalled for UPLOAD_TIMEOUT, or under "
	    "UPLOAD_MIN_RATE over a window.", "reason", body_reason +
	    METRICS_BODY_STALLED, s->body + METRICS_BODY_STALLED, 2);
	one_counter(f, "fileupload_request_bodies_broken_total", "Request "
	    "bodies that ended early (the client went away).",
	    s->body[METRICS_BODY_BROKEN]);
	labelled(f, "fileupload_db_errors_total", "Database failures, by "
	    "kind.", "kind", db_kind, s->db, METRICS_DB__MAX);
	labelled(f, "fileupload_storage_errors_total", "Storage failures "
	    "answered 507 (no_space, io), 500 (missing: a row without its "
	    "file) or 503 (unavailable: the object store unreachable).", "kind", store_kind, s->store, METRICS_STORE__MAX);
	family(f, "fileupload_s3_requests_total", "counter",
	    "Object store requests, by operation and result.");
	for (i = 0; i < METRICS_S3__MAX; i++)
		fprintf(f, "fileupload_s3_requests_total{op=\"%s\",result="
		    "\"ok\"} %" PRIu64 "\nfileupload_s3_requests_total{op="
		    "\"%s\",result=\"error\"} %" PRIu64 "\n", s3_op[i],
		    s->s3[i][1], s3_op[i], s->s3[i][0]);
	labelled(f, "fileupload_s3_retries_total", "Object store requests "
	    "sent again after a connection failure, a 5xx, SlowDown, "
	    "RequestTimeout or InternalError, by operation.", "op", s3_op,
	    s->s3_retry[0], METRICS_S3__MAX);
	labelled(f, "fileupload_s3_retries_exhausted_total", "Object store "
	    "requests still failing after S3_RETRIES retries or "
	    "S3_RETRY_SECONDS, by operation.", "op", s3_op, s->s3_retry[1],
	    METRICS_S3__MAX);
	labelled(f, "fileupload_mime_regex_searches_total", "libmagic's "
	    "regular expression searches: answered at once, the text lacking "
	    "what every match contains (skipped), or run by the matcher "
	    "(searched); none counted with FILEUPLOAD_REGEX_SKIP=0 or in a "
	    "build without it.", "result", regex_search,
	    s->counter + METRICS_REGEX_SKIPPED, 2);
	labelled(f, "fileupload_mime_regex_patterns_total", "libmagic's "
	    "regular expressions compiled, with a need (a literal every match "
	    "contains: their searches may be skipped) or without.", "need",
	    regex_need, s->counter + METRICS_REGEX_NEED, 2);
	labelled(f, "fileupload_mime_string_searches_total", "libmagic's "
	    "string searches over a text: answered at once, the text lacking "
	    "a three-byte sequence of the string (skipped), or run by the C "
	    "library (searched); none counted with FILEUPLOAD_REGEX_SKIP=0, "
	    "for texts under 256 bytes or in a build without it.", "result",
	    regex_search, s->counter + METRICS_STRING_SKIPPED, 2);
	webhook(f, s);
	ok = ferror(f) == 0;
	if (fclose(f) != 0 || !ok) {
		free(out);
		return NULL;
	}
	*len = n;
	return out;
}
