/*
 * Counters of a host's whole worker pool, for GET /service/fileupload/metrics.
 *
 * The pool shares one region (FILEUPLOAD_METRICS_FILE, mapped MAP_SHARED)
 * of METRICS_SLOTS slots.  A worker process claims one slot at start and its
 * threads add to it with relaxed atomics; a reader, any worker, sums every
 * slot.  A slot whose owner died is adopted by the next worker to start:
 * its counts stay where they are, so a killed worker loses nothing it
 * counted and nothing is counted twice.  Gauges (what a process has in hand
 * now) are summed over live owners only, and reset when a slot is adopted.
 *
 * The region also holds the table of the upload slots each client holds
 * (client_slots.h), shared and cleaned up after dead workers the same way,
 * and a random secret made with it (metrics_pool_secret).
 *
 * The hooks (metrics_upload_stored, ...) are thread-safe and cost one
 * atomic add; before metrics_start, and in the tools (fsck, migrate), they
 * do nothing.
 */
#ifndef METRICS_H
#define METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct client_slots;

/* Slots of a region: worker processes alive at once, with room to spare. */
#define METRICS_SLOTS		256
/* Rows of the route table, plus one for requests that matched none. */
#define METRICS_ROUTES_MAX	32
/* Finite request duration buckets, 1 ms to 60 s (metrics_bucket_le). */
#define METRICS_BUCKETS		15
/* Status classes 1xx to 5xx. */
#define METRICS_CLASSES		5

/* Why a request body could not be read (request.h's body_error). */
enum metrics_body {
	METRICS_BODY_BROKEN,	/* the client went away */
	METRICS_BODY_STALLED,	/* 408: nothing for UPLOAD_TIMEOUT */
	METRICS_BODY_TOO_SLOW,	/* 408: under UPLOAD_MIN_RATE */
	METRICS_BODY__MAX
};

enum metrics_db {
	METRICS_DB_UNAVAILABLE,	/* cannot connect, or the link broke */
	METRICS_DB_QUERY,	/* the server refused a statement */
	METRICS_DB_POOL_WAIT,	/* no pooled connection free in time */
	METRICS_DB_COMMIT_UNKNOWN, /* the link broke during COMMIT */
	METRICS_DB__MAX
};

enum metrics_store {
	METRICS_STORE_NOSPACE,	/* 507: ENOSPC, EDQUOT, EFBIG */
	METRICS_STORE_IO,	/* 507: any other write, fsync, rename failure */
	METRICS_STORE_MISSING,	/* 500: a row's stored file is not there */
	METRICS_STORE_UNAVAILABLE, /* 503: the object store unreachable */
	METRICS_STORE__MAX
};

/* Object store requests by operation, for an object store backend. */
enum metrics_s3_op {
	METRICS_S3_PUT,
	METRICS_S3_GET,
	METRICS_S3_HEAD,
	METRICS_S3_DELETE,
	METRICS_S3_LIST,
	METRICS_S3_MULTIPART,	/* create, upload part, complete, abort */
	METRICS_S3__MAX
};

/* Counters (monotonic, summed over every slot, dead owners' too). */
enum metrics_counter {
	METRICS_UPLOAD_FILES,
	METRICS_UPLOAD_BYTES,
	METRICS_DUPLICATES,
	METRICS_DELETE_FILES,
	METRICS_DELETE_BYTES,
	METRICS_UPLOAD_REFUSED,
	METRICS_SWEPT,
	METRICS_DB_CONNECTS,
	METRICS_WORKER_STARTS,
	METRICS_TUS_CREATED,
	METRICS_TUS_COMPLETED,
	METRICS_TUS_EXPIRED,
	METRICS_TUS_TERMINATED,
	METRICS_TUS_BYTES,
	/* libmagic's regular expressions (regex_skip.h), in this order. */
	METRICS_REGEX_SKIPPED,		/* searches answered at once */
	METRICS_REGEX_SEARCHED,		/* searches run by the matcher */
	METRICS_REGEX_NEED,		/* patterns whose searches may skip */
	METRICS_REGEX_NO_NEED,		/* patterns always searched */
	/* libmagic's string searches (memmem, text_index.h), in this order. */
	METRICS_STRING_SKIPPED,		/* answered at once */
	METRICS_STRING_SEARCHED,	/* run by the C library */
	METRICS_FCGI_CONNECTIONS,	/* FastCGI connections taken */
	METRICS_UPLOAD_CLIENT_REFUSED,	/* 503: the client's share held */
	/* Webhook deliveries, in this order (metrics_webhook_delivery). */
	METRICS_WEBHOOK_DELIVERED,	/* answered 2xx */
	METRICS_WEBHOOK_RETRIED,	/* failed, to be tried again */
	METRICS_WEBHOOK_FAILED,		/* failed, given up on */
	METRICS_COUNTER__MAX
};

/* Gauges (summed over slots with a live owner). */
enum metrics_gauge {
	METRICS_IN_FLIGHT,	/* requests in hand = busy request threads */
	METRICS_THREADS,	/* request threads started */
	METRICS_UPLOADS,	/* upload slots held */
	METRICS_UPLOAD_SLOTS,	/* upload slots there are */
	METRICS_WEBHOOK_LOCK,	/* 1: this process delivers the webhook */
	/* Seconds since the oldest event not yet delivered (the holder's). */
	METRICS_WEBHOOK_BACKLOG_AGE,
	METRICS_GAUGE__MAX
};

/* What a reader sees: every slot summed (metrics_snapshot_take). */
struct metrics_snapshot {
	bool		 shared;	/* a pool's file, not this process alone */
	int64_t		 created;	/* when the region was made (unix s) */
	unsigned	 workers;	/* live owners */
	int		 worker_slot[METRICS_SLOTS];	/* theirs, in order */
	int64_t		 worker_started[METRICS_SLOTS];	/* unix s */
	uint64_t	 counter[METRICS_COUNTER__MAX];
	int64_t		 gauge[METRICS_GAUGE__MAX];
	uint64_t	 body[METRICS_BODY__MAX];
	uint64_t	 db[METRICS_DB__MAX];
	uint64_t	 store[METRICS_STORE__MAX];
	uint64_t	 s3[METRICS_S3__MAX][2];	/* [op][ok] */
	/* [0][op]: requests sent again, [1][op]: retries given up on. */
	uint64_t	 s3_retry[2][METRICS_S3__MAX];
	uint64_t	 requests[METRICS_ROUTES_MAX][METRICS_CLASSES];
	/* Not cumulative: [i] counts durations in (le[i-1], le[i]]. */
	uint64_t	 bucket[METRICS_ROUTES_MAX][METRICS_BUCKETS + 1];
	uint64_t	 duration_us[METRICS_ROUTES_MAX];
	/* Webhook delivery lag (event's time to its 2xx), as bucket[]. */
	uint64_t	 webhook_lag[METRICS_BUCKETS + 1];
	uint64_t	 webhook_lag_us;
	/*
	 * Not counters: what the answering worker finds at the scrape
	 * (metrics_route.c); -1 when not looked at.
	 */
	int		 health_db, health_store;	/* 1 ok, 0 failing */
	int64_t		 disk_free, disk_size;	/* DATA_DIR's file system */
};

/*
 * Makes the calling process count into a slot of the region at path,
 * created (mode 0600) or sized when new, adopting a dead worker's slot
 * when there is one; path NULL: a region of this process alone.  Call once,
 * before any thread starts.  Returns 0; 1 when every slot has a live owner
 * (this process then counts in a region of its own; err says so); -1 with
 * err when the file cannot be opened, mapped or is not a region of this
 * layout.
 */
int	metrics_start(const char *path, char *err, size_t errlen);
/* The slot this process counts in, -1 when none (a private region: 0). */
int	metrics_slot(void);
/* Bytes of metrics_pool_secret. */
#define METRICS_POOL_SECRET_LEN	32
/*
 * The random bytes the region was laid out with, into out: the same in
 * every process of the pool until the file is made anew (at the pool's
 * start).  True when the region is the pool's, false when it is this
 * process's alone (or before metrics_start: out is then zeroed).
 */
bool	metrics_pool_secret(unsigned char out[METRICS_POOL_SECRET_LEN]);
/*
 * The region's table of the upload slots each client holds, and in
 * *holder this process's identity in it; NULL before metrics_start.
 */
struct client_slots *metrics_client_slots(uint64_t *holder);
/*
 * The upload slots of the pool's live workers (metrics_threads' second
 * argument, summed), as read at most a second ago; 0 before metrics_start.
 */
unsigned metrics_pool_upload_slots(void);
/*
 * Sums the region metrics_start opened (or, when it did not, this process's
 * nothing): NULL when out of memory or not started.  Free with free().
 */
struct metrics_snapshot *metrics_snapshot_take(void);

/*
 * A region of path without counting in it, for readers and tests: the
 * sum of its slots into *out; -1 with err when it is not a region.
 */
int	metrics_read(const char *path, struct metrics_snapshot *out,
	    char *err, size_t errlen);

/* The upper bound of duration bucket i, as text and in microseconds. */
const char *metrics_bucket_le(unsigned i);
uint64_t metrics_bucket_us(unsigned i);

/* --- hooks ----------------------------------------------------------- */

/* A request taken (in flight until metrics_request_end). */
void	metrics_request_begin(void);
/* Answered with status after us microseconds; route: its table row. */
void	metrics_request_end(unsigned route, int status, uint64_t us);
/* Request threads (at start). */
void	metrics_threads(unsigned n, unsigned upload_slots);
/* A FastCGI connection taken: a request on none kept from the last. */
void	metrics_fcgi_connection(void);

/* An upload slot taken (+1) or given back (-1); one refused (503). */
void	metrics_upload_held(int delta);
void	metrics_upload_refused(void);
/* One refused (503) because its client held its share of the slots. */
void	metrics_upload_client_refused(void);
void	metrics_upload_stored(uint64_t bytes);
void	metrics_duplicate(void);
void	metrics_deleted(uint64_t bytes);
void	metrics_body_error(enum metrics_body);
void	metrics_db_error(enum metrics_db);
void	metrics_db_connected(void);
void	metrics_store_error(enum metrics_store);
void	metrics_swept(unsigned files);

/*
 * Resumable uploads (tus): an upload created, completed with all its
 * bytes, expired unfinished, or terminated by its client; bytes received
 * by PATCH requests.  Active uploads are created less the three ends.
 */
void	metrics_tus_created(void);
void	metrics_tus_completed(void);
void	metrics_tus_expired(unsigned n);
void	metrics_tus_terminated(void);
void	metrics_tus_bytes(uint64_t bytes);
/* One object store request, by operation, and whether it succeeded. */
void	metrics_s3_request(enum metrics_s3_op, bool ok);
/* A failed one sent again, or given up on with retries exhausted. */
void	metrics_s3_retry(enum metrics_s3_op, bool gave_up);
/*
 * One of libmagic's regular expression searches, answered at once
 * (skipped) or run by the matcher; one of its patterns compiled, with or
 * without a need that lets its searches be skipped (regex_skip.h).
 */
void	metrics_regex_search(bool skipped);
void	metrics_regex_pattern(bool need);
/*
 * A webhook delivery's result (METRICS_WEBHOOK_DELIVERED, _RETRIED or
 * _FAILED), and for a delivered one its lag: microseconds from the
 * event's time to the receiver's 2xx.
 */
void	metrics_webhook_delivery(enum metrics_counter result, uint64_t lag_us);
/* The webhook's delivery lock held or not; the backlog's age in seconds. */
void	metrics_webhook_state(bool lock, int64_t backlog_age);
/* One of libmagic's string searches, answered at once (skipped) or run. */
void	metrics_string_search(bool skipped);

#endif
