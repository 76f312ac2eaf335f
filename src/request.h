/*
 * One FastCGI request: its parameters, body reads and response bookkeeping.
 */
#ifndef REQUEST_H
#define REQUEST_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include <fcgiapp.h>

#include "hash.h"
#include "ratelimit.h"

#define REQUEST_ID_MAX	64

struct db_tx;

/* Why request_read returned -1. */
enum body_error {
	BODY_OK,
	BODY_BROKEN,		/* the client went away, or the stream broke */
	BODY_STALLED,		/* no byte for the stall timeout */
	BODY_TOO_SLOW,		/* below the minimum rate over a window */
};

struct request {
	FCGX_Request	*fcgx;
	FCGX_Stream	*in;
	FCGX_Stream	*out;
	const char	*method;
	const char	*path;		/* DOCUMENT_URI: decoded, normalized by nginx */
	const char	*query;		/* QUERY_STRING, "" if none */
	const char	*content_type;	/* "" if none */
	bool		 has_length;	/* CONTENT_LENGTH given */
	uint64_t	 content_length;
	bool		 bad_length;	/* CONTENT_LENGTH present but not a number */
	/*
	 * No Content-Length, and nothing else ends the body (HTTP/1 without
	 * chunked): the request has none.  Without a length but chunked, or
	 * over HTTP/2 or 3, the body ends where FastCGI's stdin does.
	 */
	bool		 length_missing;
	uint64_t	 body_read;	/* bytes of body read so far */
	bool		 body_ended;	/* FastCGI's stdin ended */
	enum body_error	 body_error;	/* set when request_read fails */
	struct ratelimit rate;		/* the body's rate and stall rules */
	bool		 timeout_set;	/* the connection has SO_RCVTIMEO */
	char		 id[REQUEST_ID_MAX + 1];
	int		 status;	/* the status sent, 0 before */
	uint64_t	 bytes_out;	/* body bytes sent */
	char		 hash[HASH_HEX_LEN + 1];
	int		 route;		/* its row of the route table, -1: none */
	/*
	 * The request's database transaction while one is open (db.h),
	 * NULL otherwise: what the request loop's db_release ends.
	 */
	struct db_tx	*tx;
	struct timespec	 start;
};

/*
 * Reads the parameters of an accepted request; its body will be read under
 * rules.  Never fails.
 */
void		 request_init(struct request *, FCGX_Request *,
		    const struct rate_rules *rules);
/* A FastCGI parameter, or NULL. */
const char	*request_param(const struct request *, const char *name);
/*
 * Reads len body bytes, fewer only at the end of the body.  Returns the
 * count, 0 at the end of the body, -1 with r->body_error set when the
 * client went away, the stream broke, or the body came too slowly (the
 * rules of request_init).  After -1 every call returns -1.
 */
ssize_t		 request_read(struct request *, char *buf, size_t len);
/* True when body bytes may still be on their way (not read to the end). */
bool		 request_body_pending(const struct request *);
/*
 * Ends the request (FCGX_Finish_r): the answer goes out whole.  On a kept
 * connection the rest of a body not read to its end is read and dropped
 * within bounds (request.c, DRAIN_MAX), or else the connection is closed;
 * a slow body is never waited for.
 */
void		 request_finish(struct request *);
/* Microseconds since the request was taken. */
uint64_t	 request_elapsed_us(const struct request *);
/* Writes the request's log line (method, path, status, bytes, duration, hash). */
void		 request_log(const struct request *);

#endif
