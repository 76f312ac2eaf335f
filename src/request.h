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

#define REQUEST_ID_MAX	64

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
	char		 id[REQUEST_ID_MAX + 1];
	int		 status;	/* the status sent, 0 before */
	uint64_t	 bytes_out;	/* body bytes sent */
	char		 hash[HASH_HEX_LEN + 1];
	struct timespec	 start;
};

/* Reads the parameters of an accepted request.  Never fails. */
void		 request_init(struct request *, FCGX_Request *);
/* A FastCGI parameter, or NULL. */
const char	*request_param(const struct request *, const char *name);
/*
 * Reads up to len body bytes.  Returns the count, 0 at the end of the body,
 * -1 when the client went away or the stream broke.
 */
ssize_t		 request_read(struct request *, char *buf, size_t len);
/* Reads and drops what is left of the body, so the connection stays usable. */
void		 request_drain(struct request *);
/* Writes the request's log line (method, path, status, bytes, duration, hash). */
void		 request_log(const struct request *);

#endif
