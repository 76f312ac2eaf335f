/*
 * A push parser for multipart/form-data (RFC 7578 over RFC 2046).
 *
 * The caller feeds the body in chunks of any size, as it arrives; the parser
 * calls back with each part's headers and its data.  Data is passed as
 * pointers into the caller's chunk wherever possible, so memory stays bounded
 * by the boundary length and the header caps whatever the body size.  The
 * parser does no I/O and knows nothing of FastCGI.
 */
#ifndef MULTIPART_H
#define MULTIPART_H

#include <stdbool.h>
#include <stddef.h>

#define MP_BOUNDARY_MAX		70	/* RFC 2046 5.1.1 */
#define MP_HEADER_LINE_MAX	8192	/* one part header line */
#define MP_HEADERS_MAX		16	/* header lines in one part */
#define MP_PARTS_MAX		64	/* parts in one body */
#define MP_NAME_MAX		256	/* form field name */
#define MP_FILENAME_MAX		4096	/* file name, decoded bytes */
#define MP_CTYPE_MAX		256	/* part Content-Type */

enum mp_error {
	MP_OK = 0,
	MP_ERR_NO_BOUNDARY,	/* Content-Type not multipart/form-data or no usable boundary */
	MP_ERR_NO_FIRST_BOUNDARY, /* body does not start with (preamble then) the boundary */
	MP_ERR_BOUNDARY_LINE,	/* junk after a boundary other than spaces/tabs, CRLF or "--" */
	MP_ERR_HEADER_TOO_LONG,	/* a part header line over MP_HEADER_LINE_MAX */
	MP_ERR_TOO_MANY_HEADERS,/* more than MP_HEADERS_MAX lines in a part */
	MP_ERR_BAD_HEADER,	/* header line without ':' or bad characters */
	MP_ERR_BAD_DISPOSITION,	/* Content-Disposition missing, not form-data, or malformed */
	MP_ERR_TOO_MANY_PARTS,	/* more than MP_PARTS_MAX parts */
	MP_ERR_TRUNCATED,	/* body ended before the closing boundary */
	MP_ERR_ABORTED,		/* a callback returned non-zero */
	MP_ERR__MAX
};

/* What the headers of one part said; valid during the part_begin call only. */
struct mp_part {
	char	name[MP_NAME_MAX + 1];		/* form field name, "" if none */
	bool	has_filename;			/* filename= or filename*= present */
	char	filename[MP_FILENAME_MAX + 1];	/* raw decoded bytes, NUL-free */
	size_t	filename_len;
	char	content_type[MP_CTYPE_MAX + 1];	/* "" if none */
};

/*
 * Each callback returns 0 to go on, non-zero to stop: the parser then
 * returns MP_ERR_ABORTED and accepts no more input.
 */
struct mp_callbacks {
	int	(*part_begin)(void *arg, const struct mp_part *part);
	int	(*part_data)(void *arg, const char *data, size_t len);
	int	(*part_end)(void *arg);
};

struct mp_parser;

/*
 * Extracts the boundary from a Content-Type value (quoted or not, any case
 * of the media type and parameter name) into out (MP_BOUNDARY_MAX + 1
 * bytes).  Returns MP_OK or MP_ERR_NO_BOUNDARY.
 */
enum mp_error	 mp_boundary(const char *content_type,
		    char out[MP_BOUNDARY_MAX + 1]);

/* Returns a parser for boundary, or NULL when out of memory or boundary is not valid. */
struct mp_parser *mp_new(const char *boundary, const struct mp_callbacks *cb,
		    void *arg);
/* Frees the parser; NULL is fine. */
void		 mp_free(struct mp_parser *);

/*
 * Feeds len bytes.  Returns MP_OK, or the first error; after an error every
 * further call returns that same error.  Bytes after the closing boundary
 * (the epilogue) are ignored.
 */
enum mp_error	 mp_feed(struct mp_parser *, const char *buf, size_t len);
/* Declares the end of the body: MP_ERR_TRUNCATED unless the closing boundary was seen. */
enum mp_error	 mp_finish(struct mp_parser *);
/* True once the closing boundary has been parsed. */
bool		 mp_done(const struct mp_parser *);
/* Number of parts begun so far. */
unsigned	 mp_part_count(const struct mp_parser *);

/* A short, distinct, client-presentable reason for each error. */
const char	*mp_strerror(enum mp_error);

#endif
