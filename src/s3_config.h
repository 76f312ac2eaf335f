/*
 * The object store's settings (STORAGE=s3): read from the environment by
 * config.c, handed to the S3 client (s3.h) and the S3 backend.
 */
#ifndef S3_CONFIG_H
#define S3_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#define S3_MIN_PART		(5ULL << 20)	/* the API's minimum */
#define S3_MAX_PART		(5ULL << 30)	/* and maximum */
#define S3_MAX_PARTS		10000
#define S3_DEFAULT_PART		(8ULL << 20)
#define S3_DEFAULT_GRACE	86400		/* seconds */
#define S3_MAX_OBJECT		(5ULL << 40)	/* one object: 5 TiB */
/*
 * A session token's length: a presigned URL carries it, and the whole
 * URL must fit the worker's X-Accel-Redirect target (store.h).
 */
#define S3_TOKEN_MAX		2048
/* Retries of a failed request (S3_RETRIES) within S3_RETRY_SECONDS. */
#define S3_DEFAULT_RETRIES	3
#define S3_MAX_RETRIES		10
#define S3_DEFAULT_RETRY_SECONDS 10
#define S3_MAX_RETRY_SECONDS	300
/*
 * A request whose bytes stop (a frozen store) fails after
 * S3_STALL_SECONDS with no byte either way, and may then be retried.
 */
#define S3_DEFAULT_STALL_SECONDS 30
#define S3_MAX_STALL_SECONDS	600

struct s3_config {
	bool		 https;
	char		*host;		/* "host[:port]", as the Host header */
	char		*bucket;
	char		*region;
	char		*prefix;	/* "" or ending in '/' */
	char		*access_key;
	char		*secret_key;
	char		*session_token;	/* NULL: long-term keys */
	bool		 path_style;
	char		*ca_file;	/* S3_CA_FILE, NULL: the system's CAs */
	uint64_t	 part_size;	/* S3_PART_SIZE */
	unsigned	 sweep_grace;	/* S3_SWEEP_GRACE, seconds */
	unsigned	 retries;	/* S3_RETRIES: after the first attempt */
	unsigned	 retry_seconds;	/* S3_RETRY_SECONDS: no retry after */
	unsigned	 stall_seconds;	/* S3_STALL_SECONDS */
};

#endif
