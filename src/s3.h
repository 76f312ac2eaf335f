/*
 * A small S3 API client: settings from config.c (s3_config.h), requests
 * signed with SigV4 (sigv4.h) and sent with libcurl, the verbs the store
 * uses (objects, multipart uploads, one listing iterator) and the few XML
 * answers they read.  Every request goes through s3_send, and the
 * credentials are read in one place (s3.c's creds), so that a retry
 * policy or rotating credentials have one place to go.  One struct s3 per
 * process, made before the threads start and read-only afterwards; each
 * thread keeps its own curl handle (and so its connections) under a
 * thread-specific key.  Failed requests are retried there (s3_send).
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
#define S3_ID_MAX		1024	/* a multipart upload's id */
#define S3_ETAG_MAX		128
/* Retries wait a random time up to BASE * 2^retry, at most CAP (ms). */
#define S3_BACKOFF_BASE_MS	100
#define S3_BACKOFF_CAP_MS	2000

struct endpoint;

/*
 * The store is reached at the address its host name resolves to here
 * (endpoint.h): the worker's requests connect to it, and a download's
 * redirect hands it to nginx, with the name as Host header and TLS name.
 */
struct s3 {
	const struct s3_config *cfg;
	pthread_key_t	 curl_key;	/* this thread's CURL * */
	struct endpoint	*ep;		/* the host s3_host names */
	unsigned	 port;		/* its TCP port */
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
	bool	 transport;	/* no answer: the connection failed */
	uint64_t sunk;		/* body bytes given to the request's sink */
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

/*
 * What a verb's answer means.  A failure is logged ("s3 <what> <key>:
 * <error>") and errno set to match, for the callers that report one.
 */
enum s3_result {
	S3_OK = 0,
	S3_NOT_FOUND,		/* 404: ENOENT */
	S3_REFUSED,		/* another answer: EACCES for a 403, else EIO */
	S3_UNAVAILABLE,		/* no answer, or a 5xx: EIO */
};

/*
 * curl_global_init, the key and the endpoint, looked up once (a name
 * that does not resolve is logged; the requests fail until it does):
 * before any thread starts.  0 or -1.
 */
int	s3_init(struct s3 *, const struct s3_config *);
void	s3_fini(struct s3 *);
/*
 * Sends req, again while s3_retryable (at most cfg->retries more times,
 * within cfg->retry_seconds): 0 when an answer came (any status), -1
 * when none did.
 */
int	s3_send(struct s3 *, const struct s3_request *, struct s3_response *);
/*
 * Whether the outcome of one attempt (s3_send's rc and answer) is worth
 * another: a connection failure, a 500, 502, 503 or 504, or the error
 * codes SlowDown, RequestTimeout and InternalError (also in a 200's
 * body); never once body bytes went to the request's sink.
 */
bool	s3_retryable(int rc, const struct s3_response *);
/*
 * The wait before retry number retry (0: the first), full jitter:
 * uniform(n) (randombytes_uniform: 0 to n - 1) over 0 to
 * min(S3_BACKOFF_CAP_MS, S3_BACKOFF_BASE_MS * 2^retry) milliseconds.
 */
unsigned s3_backoff_ms(unsigned retry, uint32_t (*uniform)(uint32_t));
void	s3_response_free(struct s3_response *);
/*
 * Sends req: S3_OK on a 2xx without an <Error> body (CopyObject and
 * CompleteMultipartUpload may fail with a 200), with the answer in r,
 * which the caller frees whatever the result.
 */
enum s3_result s3_call(struct s3 *, const char *what,
		    const struct s3_request *, struct s3_response *r);
/* s3_call for a request whose answer is not read. */
enum s3_result s3_exec(struct s3 *, const char *what,
		    const struct s3_request *);

/* ---------------------------------------------------------------- verbs */

/* HEAD of the bucket: whether the store answers. */
enum s3_result s3_head_bucket(struct s3 *);
/*
 * Whether the store answers and accepts our credentials: one signed
 * request on the bucket (a listing of at most one key, which the store
 * needs to allow anyway), retried as s3_send does.  S3_OK;
 * S3_UNAVAILABLE when no answer came, or only one worth another try;
 * S3_REFUSED for any other error, which waiting will not mend
 * (InvalidAccessKeyId, SignatureDoesNotMatch, AccessDenied, ExpiredToken,
 * NoSuchBucket...).  Unless S3_OK, msg says why (s3_describe).
 */
enum s3_result s3_check_access(struct s3 *, char *msg, size_t msglen);
/* What s3_send's outcome (rc, r) means to s3_check_access. */
enum s3_result s3_access_result(int rc, const struct s3_response *);
/*
 * A failed outcome on one line: the store's code, its message and the
 * status ("SignatureDoesNotMatch: ... (HTTP 403)"), or with rc -1 the
 * transport error.
 */
void		 s3_describe(int rc, const struct s3_response *, char *out,
		    size_t outlen);
/* HEAD of key: its size and mtime (either may be NULL); a 404 is quiet. */
enum s3_result s3_head(struct s3 *, const char *key, uint64_t *size,
		    int64_t *mtime);
/* PutObject of len bytes. */
enum s3_result s3_put(struct s3 *, const char *what, const char *key,
		    const void *body, size_t len);
/*
 * GetObject of key, or of its bytes first..last when range ("first-last")
 * is set: the body goes to sink as it comes.
 */
enum s3_result s3_get(struct s3 *, const char *what, const char *key,
		    const char *range, int (*sink)(void *, const void *,
		    size_t), void *arg);
enum s3_result s3_delete(struct s3 *, const char *key);
/* Server-side copy of src (size bytes) to dst, in parts over 5 GiB. */
enum s3_result s3_copy(struct s3 *, const char *src, const char *dst,
		    uint64_t size);

/* Multipart uploads: create (its id into id), parts, complete, abort. */
enum s3_result s3_create(struct s3 *, const char *key, char *id,
		    size_t idlen);
/* UploadPart n of len bytes: its ETag into etag. */
enum s3_result s3_upload_part(struct s3 *, const char *key, const char *id,
		    unsigned n, const void *body, size_t len,
		    char etag[S3_ETAG_MAX]);
/* UploadPartCopy of src's bytes first..last as part n. */
enum s3_result s3_copy_part(struct s3 *, const char *key, const char *id,
		    unsigned n, const char *src, uint64_t first, uint64_t last);
/* CompleteMultipartUpload with a manifest of s3_manifest_add's. */
enum s3_result s3_complete(struct s3 *, const char *key, const char *id,
		    const char *manifest, size_t mlen);
void		 s3_abort(struct s3 *, const char *key, const char *id);
/* Adds part n of ETag etag to a manifest (malloc'd): 0 or -1. */
int		 s3_manifest_add(char **manifest, size_t *mlen, unsigned n,
		    const char *etag);

/* A sink for s3_get: the body into buf, at most cap bytes (else -1). */
struct s3_fill {
	char	*buf;
	size_t	 len, cap;
};
int		 s3_fill(void *arg, const void *, size_t);

/*
 * The one listing iterator, page by page with one page in memory:
 * ListObjectsV2 (objects under a prefix, in key order), ListMultipartUploads
 * (uploads under a prefix) and ListParts (of one upload).  s3_list_next
 * gives 1 with it filled, 0 at the end, -1 when a page failed (l->result).
 */
enum s3_list_kind {
	S3_LIST_OBJECTS,
	S3_LIST_UPLOADS,
	S3_LIST_PARTS,
};

struct s3_item {
	char		 key[S3_KEY_MAX];	/* OBJECTS, UPLOADS */
	char		 upload_id[S3_ID_MAX];	/* UPLOADS */
	unsigned	 part;			/* PARTS: its number */
	char		 etag[S3_ETAG_MAX];	/* PARTS: as listed */
	uint64_t	 size;			/* OBJECTS, PARTS */
	int64_t		 mtime;			/* OBJECTS, UPLOADS; -1: bad */
};

struct s3_list {
	struct s3	*s3;
	enum s3_list_kind kind;
	const char	*what;			/* for the log */
	const char	*max_keys;		/* OBJECTS: keys per page */
	char		 prefix[S3_KEY_MAX];	/* PARTS: the upload's key */
	char		 upload_id[S3_ID_MAX];	/* PARTS */
	char		 token[2048];		/* the next page's marker */
	char		 imark[S3_ID_MAX];	/* UPLOADS: its upload id marker */
	bool		 listed;		/* a page came */
	bool		 more;			/* another page follows */
	enum s3_result	 result;
	struct s3_response page;
	size_t		 pos;
};

/* prefix: of the keys (OBJECTS, UPLOADS), or the key (PARTS) of id. */
void		 s3_list_begin(struct s3_list *, struct s3 *,
		    enum s3_list_kind, const char *prefix, const char *id);
int		 s3_list_next(struct s3_list *, struct s3_item *it);
void		 s3_list_end(struct s3_list *);
/*
 * Makes body (malloc'd, taken over) the current page, as if it had just
 * come: its markers read, its items next.  s3_list_next's own step; the
 * unit tests feed pages with it.
 */
void		 s3_list_take(struct s3_list *, char *body);

/*
 * X-Accel-Redirect target of a presigned GET of key:
 * "<location><scheme>/<address>:<port>/<host><path>?<query>", the address
 * the endpoint's (an IP address: nginx connects without a resolver), the
 * host the Host header the URL is signed for.  0 or -1 (no address).
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
