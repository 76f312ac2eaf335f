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

struct s3_config {
	bool		 https;
	char		*host;		/* "host[:port]", as the Host header */
	char		*bucket;
	char		*region;
	char		*prefix;	/* "" or ending in '/' */
	char		*access_key;
	char		*secret_key;
	bool		 path_style;
	char		*ca_file;	/* S3_CA_FILE, NULL: the system's CAs */
	uint64_t	 part_size;	/* S3_PART_SIZE */
	unsigned	 sweep_grace;	/* S3_SWEEP_GRACE, seconds */
};

#endif
