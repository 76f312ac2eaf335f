/*
 * Worker configuration from the environment variables of docs/api.md and
 * fileupload(8).
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "log.h"
#include "quota.h"
#include "ratelimit.h"
#include "reserve.h"
#include "s3_config.h"
#include "store_config.h"

#define CFG_DEFAULT_MAX_UPLOAD	(10ULL * 1024 * 1024 * 1024)
/* A 64 kbit/s client sends 8000 bytes/s: eight times this minimum. */
#define CFG_DEFAULT_MIN_RATE	1024
#define CFG_DEFAULT_RATE_WINDOW	30	/* seconds */
#define CFG_DEFAULT_STALL	60	/* seconds */
#define CFG_MAX_SECONDS		86400
/*
 * Request threads per worker process: a slow upload holds one (blocked in
 * read, a few KiB of memory) and nothing else, so they are many.
 */
#define CFG_DEFAULT_THREADS	256
#define CFG_MAX_THREADS		4096
/* Database connections per worker process, lent per statement. */
#define CFG_DEFAULT_POOL	8
#define CFG_MAX_POOL		1024
#define CFG_MAX_MIN_RATE	(1ULL << 30)
#define CFG_DEFAULT_UPLOAD_EXPIRES 86400	/* seconds: 24 h */
#define CFG_MAX_UPLOAD_EXPIRES	(366 * 86400)
/*
 * FILEUPLOAD_SLOTS_PER_CLIENT: a quarter of the host's upload slots per
 * client address (448 slots with two default workers: 112 each), far
 * above what one browser or tus client uses, and a client needs four
 * addresses to fill the host.  A count (N) or 0 (no share) may be given.
 */
#define CFG_DEFAULT_SLOTS_PER_CLIENT	"25%"
#define CFG_MAX_SLOTS_PER_CLIENT	1048576
/*
 * Unfinished resumable uploads: at most 10,000 (about 70 s of one writer
 * creating as fast as it can), claiming at most 1 TiB (a hundred of the
 * largest); per token, no cap unless set.
 */
#define CFG_DEFAULT_TUS_UPLOADS	10000
#define CFG_DEFAULT_TUS_BYTES	(1ULL << 40)
/* Events are kept 7 days (FILEUPLOAD_EVENTS_KEEP), at most 10 years. */
#define CFG_DEFAULT_EVENTS_KEEP	(7 * 86400)
#define CFG_MAX_EVENTS_KEEP	(3660 * 86400)
/*
 * Feed requests that may wait for an event at once, per process
 * (FILEUPLOAD_EVENTS_WAITERS): by default a sixteenth of the request
 * threads, at least one (16 of 256: half of the threads kept from
 * uploads), so long polls never take what uploads and reads need.
 */
#define CFG_EVENTS_WAITERS_SHARE 16
/*
 * The webhook (FILEUPLOAD_WEBHOOK_*): 10 tries, each given 10 s; the
 * waits between them double from 10 s up to an hour (about 2.4 hours
 * from the first try to the last).
 */
#define CFG_DEFAULT_WEBHOOK_TRIES	10
#define CFG_MAX_WEBHOOK_TRIES		1000
#define CFG_DEFAULT_WEBHOOK_TIMEOUT	10
#define CFG_MAX_WEBHOOK_TIMEOUT		600
#define CFG_DEFAULT_WEBHOOK_BACKOFF	10
#define CFG_DEFAULT_WEBHOOK_BACKOFF_MAX	3600
/* A secret read from a file (NAME_FILE): at most this many bytes. */
#define CFG_SECRET_MAX		65536
#define CFG_SECRET_MAX_TEXT	"65536"

struct config {
	char		*db_user;	/* NULL: libpq's default */
	char		*db_password;
	char		*db_host;	/* libpq's host, maybe a list */
	char		*db_port;	/* "5432", or a list: one per host */
	char		*db_name;
	char		*root_dir;
	char		*log_dir;
	/* FILEUPLOAD_LOG_FORMAT: text (the default) or json. */
	enum log_format	 log_format;
	/*
	 * FILEUPLOAD_LOG_TO: files (the default: LOG_DIR/fileupload.log) or
	 * stdout (the process's standard output, a container's log).
	 */
	bool		 log_stdout;
	char		*data_dir;
	uint64_t	 max_upload_size;
	char		*write_token;	/* FILEUPLOAD_TOKEN, NULL: writes open */
	char		*read_token;	/* FILEUPLOAD_READ_TOKEN, NULL: reads open */
	char		*metrics_token;	/* FILEUPLOAD_METRICS_TOKEN, NULL: loopback */
	/*
	 * FILEUPLOAD_LINK_SECRET: the share links' key (at least
	 * LINKS_SECRET_MIN bytes); NULL: the pool makes one (app.h).
	 */
	char		*link_secret;
	/* FILEUPLOAD_METRICS_FILE: the pool's shared counters, NULL: none */
	char		*metrics_file;
	/*
	 * How slowly a request body may arrive: UPLOAD_MIN_RATE (bytes/s,
	 * 0: no minimum) over UPLOAD_RATE_WINDOW seconds, and no wait for a
	 * byte longer than UPLOAD_TIMEOUT seconds.
	 */
	struct rate_rules body_rules;
	unsigned	 threads;	/* FILEUPLOAD_THREADS */
	unsigned	 db_pool_size;	/* DB_POOL_SIZE */
	/* UPLOAD_EXPIRES: seconds an unfinished resumable upload is kept. */
	unsigned	 upload_expires;
	bool		 regex_skip;	/* FILEUPLOAD_REGEX_SKIP: 1 (default) or 0 */
	/* FILEUPLOAD_EVENTS_KEEP: seconds an event stays in the feed. */
	unsigned	 events_keep;
	/* FILEUPLOAD_EVENTS_WAITERS: feed requests waiting at once (0: none). */
	unsigned	 events_waiters;
	/*
	 * FILEUPLOAD_WEBHOOK_URL (NULL: no webhook) and
	 * FILEUPLOAD_WEBHOOK_SECRET (NULL: deliveries unsigned); the tries
	 * of one event, the seconds each may take, and the backoff's first
	 * wait and its cap, in seconds (webhook.h).
	 */
	char		*webhook_url;
	char		*webhook_secret;
	unsigned	 webhook_tries;
	unsigned	 webhook_timeout;
	unsigned	 webhook_backoff;
	unsigned	 webhook_backoff_max;
	/*
	 * FILEUPLOAD_SLOTS_PER_CLIENT: the upload slots of the host (the
	 * pool's live workers) one client address may hold: a percentage
	 * of them ("25%", slots_per_client_pct) or a count; 0: no limit.
	 */
	unsigned	 slots_per_client;
	bool		 slots_per_client_pct;
	/*
	 * FILEUPLOAD_TUS_MAX_UPLOADS, FILEUPLOAD_TUS_MAX_BYTES and their
	 * FILEUPLOAD_TUS_TOKEN_* per token: the unfinished resumable
	 * uploads' caps.
	 */
	struct quota_limits tus_caps;
	/* FILEUPLOAD_MIN_FREE: bytes, or a percentage with %. */
	struct reserve_rule min_free;
	/* STORAGE=s3: the object store's settings; NULL: local. */
	struct s3_config *s3;
	/* For store_open: STORAGE's backend, pointing into the above. */
	struct store_config store;
};

/*
 * Fills cfg from the environment.  Each secret (DB_PASSWORD, the tokens,
 * the link secret, the webhook's secret, the S3 secret key and session
 * token) may come from a
 * file instead,
 * NAME_FILE naming it.  Returns 0, or -1 with a one-line reason
 * in err (the caller prints it and exits).  On success the strings belong to
 * cfg and are released by config_free.
 */
int	config_load(struct config *cfg, char *err, size_t errlen);
/* Frees what config_load allocated; safe on a zeroed or freed config. */
void	config_free(struct config *cfg);

/*
 * Reads S3_* (and AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN) into a new
 * s3_config (config_load does for STORAGE=s3): NULL with a one-line
 * reason in err when one is missing or bad.  max_upload bounds the
 * parts' count check.  config_s3_free is NULL-safe.
 */
struct s3_config *config_s3_load(uint64_t max_upload, char *err,
		    size_t errlen);
void		 config_s3_free(struct s3_config *);

#endif
