/*
 * Response writer: CGI Status line, headers (values escaped), JSON bodies and
 * the status table.  Every response carries X-Request-Id.
 */
#ifndef HTTP_H
#define HTTP_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

struct request;

/* The reason phrase of a status ("Created"), "Unknown" for others. */
const char	*http_reason(int status);

/* Starts a response: Status, Content-Type (NULL: none), X-Request-Id. */
void		 http_begin(struct request *, int status, const char *ctype);
/* One header; the value is cleaned with log_clean first. */
void		 http_header(struct request *, const char *name, const char *value);
/* Ends the headers. */
void		 http_end(struct request *);
/* Writes body bytes (counted for the log line). */
void		 http_write(struct request *, const char *buf, size_t len);
/*
 * Writes a JSON array's body, a line: items are its elements as they were
 * gathered, each after its '[' or ','; none (len 0): [].
 */
void		 http_write_array(struct request *, const char *items,
		    size_t len);

/* A whole JSON response; location (NULL: none) becomes a Location header. */
void		 http_json(struct request *, int status, const char *json,
		    const char *location);
/* The same with any one extra header (name NULL: none). */
void		 http_json_with(struct request *, int status, const char *json,
		    const char *name, const char *value);
/*
 * A JSON error response {"error": reason, "status": status} (plus file_hash
 * and Location for a duplicate upload when hash is not NULL).
 */
void		 http_error(struct request *, int status, const char *reason);
void		 http_error_hash(struct request *, int status, const char *reason,
		    const char *hash, const char *location);
/* http_error with Retry-After: seconds (0: none). */
void		 http_error_later(struct request *, int status,
		    const char *reason, unsigned seconds);
/* A 405 error naming the methods the path takes. */
void		 http_error_allow(struct request *, const char *allow);

/*
 * Writes an RFC 6266 Content-Disposition value for name to out (outlen
 * bytes): attachment; filename="<ASCII fallback>"; filename*=UTF-8''<pct>.
 * The fallback replaces quotes, backslashes, controls and non-ASCII bytes
 * with '_'; both replace each bidirectional formatting character (U+202E
 * and its kin) with '_'.  Returns 0, or -1 when out is too small.
 */
int		 http_content_disposition(const char *name, char *out,
		    size_t outlen);

/*
 * True when an If-None-Match value (RFC 9110 13.1.2) matches the strong
 * entity tag "<tag>": "*" or any listed tag, weak (W/) or not, equal to it.
 */
bool		 http_etag_match(const char *if_none_match, const char *tag);

/*
 * True when a Range value asks for one span, "bytes=FIRST-" or
 * "bytes=FIRST-LAST" (FIRST <= LAST, FIRST > 0), that starts at or past
 * the end of size bytes: nginx and object stores alike answer it 416.
 * Anything else (several spans, a suffix, a malformed value) is false:
 * whoever serves the bytes judges it.
 */
bool		 http_range_past_end(const char *range, uint64_t size);

#endif
