/*
 * A minimal S3 API client: settings from config.c (s3_config.h),
 * requests signed with SigV4 (sigv4.h) and sent with libcurl, and the
 * few XML answers we read.  One struct s3 per process, made before the
 * threads start and read-only afterwards; each thread keeps its own curl
 * handle (and so its connections) under a thread-specific key.
 */
#ifndef S3_H
#define S3_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "s3_config.h"

#define S3_PRESIGN_EXPIRES	300		/* seconds */
#define S3_KEY_MAX		512
#define S3_URL_MAX		4096

struct s3 {
	const struct s3_config *cfg;
	pthread_key_t	 curl_key;	/* this thread's CURL * */
};

/* An answer: status 0 when no HTTP answer came (transport error). */
struct s3_response {
	long	 status;
	char	*body;		/* NUL-terminated, capped; NULL when none */
	size_t	 len;
	char	 etag[128];	/* the ETag header, quotes kept */
	int64_t	 length;	/* Content-Length, -1 when none */
	int64_t	 last_modified;	/* Last-Modified (epoch seconds), -1: none */
	char	 error[256];	/* transport error or S3 error code */
};

struct s3_request {
	const char	*method;
	const char	*key;		/* the object's key, NULL: the bucket */
	const char	*params[8][2];	/* query parameters, unencoded */
	size_t		 nparams;
	const char	*copy_source;	/* x-amz-copy-source, or NULL */
	const char	*copy_range;	/* x-amz-copy-source-range, or NULL */
	const char	*range;		/* a GET's Range ("0-65535"), or NULL */
	const void	*body;
	size_t		 len;
	/* When set, a 200's body goes here as it comes, not to the response. */
	int		(*sink)(void *arg, const void *, size_t);
	void		*sink_arg;
};

/* curl_global_init and the key: before any thread starts.  0 or -1. */
int	s3_init(struct s3 *, const struct s3_config *);
void	s3_fini(struct s3 *);
/* Sends req; 0 when an answer came (any status), -1 when none did. */
int	s3_send(struct s3 *, const struct s3_request *, struct s3_response *);
void	s3_response_free(struct s3_response *);
/*
 * X-Accel-Redirect target of a presigned GET of key:
 * "<location><scheme>/<host><path>?<query>".  0 or -1.
 */
int	s3_presigned_target(const struct s3 *, const char *location,
	    const char *key, char *out, size_t outlen);
/* The URL path of key (or of the bucket when key is NULL). */
int	s3_path(const struct s3_config *, const char *key, char *out,
	    size_t outlen);
/* The Host header for cfg's addressing style. */
int	s3_host(const struct s3_config *, char *out, size_t outlen);

/*
 * The text of the next <tag>...</tag> in xml from *pos, entities
 * decoded, into out; *pos moves past it.  1 found, 0 not, -1 too long.
 */
int	s3_xml_next(const char *xml, const char *tag, size_t *pos, char *out,
	    size_t outlen);
/* The same for an element holding others: its raw text, not decoded. */
int	s3_xml_element(const char *xml, const char *tag, size_t *pos,
	    char *out, size_t outlen);
/* "2026-11-30T07:30:02.000Z" as seconds since the epoch, -1 when bad. */
int64_t	s3_parse_time(const char *);

#endif
