/*
 * JSON in and out through json-c: metadata objects, error bodies, the
 * validation of PUT bodies and of share link requests.
 */
#ifndef JSONIO_H
#define JSONIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "meta.h"

/*
 * Returns the compact JSON of m; the string is owned by the caller (free).
 * NULL only when out of memory.
 */
char	*json_meta(const struct meta *m);
/*
 * A reusable formatter for long listings: one json-c object whose values are
 * replaced for each row, so a row costs no allocation.
 */
struct json_meta_writer;

/* NULL only when out of memory. */
struct json_meta_writer *json_meta_writer_new(void);
/*
 * The compact JSON of m, valid until the next call or the free; its length
 * goes to len.  NULL only when out of memory.
 */
const char	*json_meta_writer_format(struct json_meta_writer *,
		    const struct meta *m, size_t *len);
/* NULL is fine. */
void		 json_meta_writer_free(struct json_meta_writer *);

/*
 * The compact JSON of an event (docs/api.md, "Events"): its file is the
 * metadata object as json_meta_writer_format writes it (w), or null.  The
 * caller frees it; NULL only when out of memory.
 */
char	*json_event(struct json_meta_writer *w, const struct event *e);

/* {"error": reason, "status": status}, plus "file_hash" when hash != NULL.  Caller frees. */
char	*json_error(int status, const char *reason, const char *hash);
/* A JSON string literal of s (quotes and escapes).  Caller frees. */
char	*json_string(const char *s);

enum json_update_error {
	JU_OK = 0,
	JU_ERR_SYNTAX,		/* not JSON at all: 400 */
	JU_ERR_INVALID,		/* JSON, but not a valid update: 403 */
};

struct json_update {
	bool	has_name;
	char	name[META_NAME_MAX + 1];
	bool	has_type;
	char	type[META_TYPE_MAX + 1];
};

/*
 * Parses and validates a PUT body of len bytes (docs/api.md route 5).  On error
 * writes a client-presentable reason to why (whylen bytes).
 */
enum json_update_error json_parse_update(const char *body, size_t len,
		    struct json_update *out, char *why, size_t whylen);

/*
 * A share link's request body (docs/api.md "Share links"): empty (or
 * blanks), or {"expires_in": <1..LINKS_TTL_MAX>}, into expires_in
 * (LINKS_TTL_DEFAULT when not given).  Returns 0, or -1 with a
 * client-presentable reason in why: anything else is a 400.
 */
int	 json_parse_link(const char *body, size_t len, uint64_t *expires_in,
	    char *why, size_t whylen);
/* {"url": url, "expires_at": expires_at}.  Caller frees; NULL: no memory. */
char	*json_link(const char *url, const char *expires_at);

/* True when s (len bytes) is a valid file name for docs/api.md's rules. */
bool	 json_valid_name(const char *s, size_t len);
/* True when s is of the form type/subtype with RFC 6838 characters. */
bool	 json_valid_type(const char *s, size_t len);



/*
 * Makes the stored file_name from a client's multipart file name of len
 * bytes: the directory part (up to the last / or \) is dropped, control
 * characters become '_', ill-formed UTF-8 becomes U+FFFD, and the result is
 * cut at a character boundary to META_NAME_MAX bytes.  Returns its length
 * (0: nothing left).  The result always passes json_valid_name unless empty.
 */
size_t	 json_clean_name(const char *in, size_t len, char out[META_NAME_MAX + 1]);
#endif
