/*
 * What store_open (store.h) is given: the backend by name and its
 * settings.  Filled by config.c from STORAGE, DATA_DIR, the S3_* settings
 * and FILEUPLOAD_TEMP_FILES.
 */
#ifndef STORE_CONFIG_H
#define STORE_CONFIG_H

#include <stdbool.h>

struct s3_config;

struct store_config {
	const char		*scheme;	/* "local" or "s3" (STORAGE) */
	const char		*data_dir;	/* local: DATA_DIR */
	/* local: FILEUPLOAD_TEMP_FILES=named, no anonymous temp files */
	bool			 named_temp_files;
	const struct s3_config	*s3;		/* s3: outlives the store */
};

#endif
