#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "jsonio.h"
#include "log.h"
#include "request.h"

static const struct {
	int		 code;
	const char	*reason;
} reasons[] = {
	{ 200, "OK" },
	{ 201, "Created" },
	{ 204, "No Content" },
	{ 304, "Not Modified" },
	{ 400, "Bad Request" },
	{ 401, "Unauthorized" },
	{ 403, "Forbidden" },
	{ 404, "Not Found" },
	{ 405, "Method Not Allowed" },
	{ 408, "Request Timeout" },
	{ 409, "Conflict" },
	{ 410, "Gone" },
	{ 411, "Length Required" },
	{ 412, "Precondition Failed" },
	{ 413, "Content Too Large" },
	{ 415, "Unsupported Media Type" },
	{ 423, "Locked" },
	{ 460, "Checksum Mismatch" },		/* tus 1.0.0, checksum */
	{ 500, "Internal Server Error" },
	{ 503, "Service Unavailable" },
	{ 507, "Insufficient Storage" },
};

const char *
http_reason(int status)
{
	size_t	 i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].code == status)
			return reasons[i].reason;
	return "Unknown";
}

void
http_begin(struct request *r, int status, const char *ctype)
{
	r->status = status;
	FCGX_FPrintF(r->out, "Status: %d %s\r\n", status, http_reason(status));
	if (ctype != NULL)
		FCGX_FPrintF(r->out, "Content-Type: %s\r\n", ctype);
	FCGX_FPrintF(r->out, "X-Request-Id: %s\r\n", r->id);
}

void
http_header(struct request *r, const char *name, const char *value)
{
	/* Room for a redirect to a presigned URL (store.h's STORE_TARGET_MAX). */
	char	 clean[8192];

	log_clean(value, clean, sizeof(clean));
	FCGX_FPrintF(r->out, "%s: %s\r\n", name, clean);
}

void
http_end(struct request *r)
{
	FCGX_PutS("\r\n", r->out);
}

void
http_write(struct request *r, const char *buf, size_t len)
{
	if (len > 0 && FCGX_PutStr(buf, (int)len, r->out) > 0)
		r->bytes_out += len;
}

void
http_write_array(struct request *r, const char *items, size_t len)
{
	if (len == 0)
		http_write(r, "[]\n", 3);
	else {
		http_write(r, items, len);
		http_write(r, "]\n", 2);
	}
}

void
http_json_with(struct request *r, int status, const char *json,
    const char *name, const char *value)
{
	size_t	 len = strlen(json);
	char	 clen[24];

	http_begin(r, status, "application/json");
	/*
	 * Known up front: nginx passes it on instead of chunking the body.
	 * (libfcgi's own printf knows no %zu.)
	 */
	snprintf(clen, sizeof(clen), "%zu", len + 1);
	http_header(r, "Content-Length", clen);
	if (name != NULL)
		http_header(r, name, value);
	http_end(r);
	http_write(r, json, len);
	http_write(r, "\n", 1);
}

void
http_json(struct request *r, int status, const char *json,
    const char *location)
{
	http_json_with(r, status, json, location != NULL ? "Location" : NULL,
	    location);
}

/* The JSON error with one extra header (name NULL: none). */
static void
error_with(struct request *r, int status, const char *reason,
    const char *hash, const char *name, const char *value)
{
	char	*body = json_error(status, reason, hash);

	http_json_with(r, status, body != NULL ? body :
	    "{\"error\":\"out of memory\",\"status\":500}", name, value);
	free(body);
}

void
http_error_hash(struct request *r, int status, const char *reason,
    const char *hash, const char *location)
{
	error_with(r, status, reason, hash, location != NULL ? "Location" :
	    NULL, location);
}

void
http_error(struct request *r, int status, const char *reason)
{
	http_error_hash(r, status, reason, NULL, NULL);
}

void
http_error_later(struct request *r, int status, const char *reason,
    unsigned seconds)
{
	char	 secs[16];

	snprintf(secs, sizeof(secs), "%u", seconds);
	error_with(r, status, reason, NULL, seconds > 0 ? "Retry-After" :
	    NULL, secs);
}

/*
 * The length of the bidirectional formatting character at p (UTF-8), 0
 * when there is none: U+061C, U+200E, U+200F, U+202A-U+202E and
 * U+2066-U+2069.  A right-to-left override in a name can show
 * "evil\u202Etxt.exe" as "evilexe.txt" in a download dialog.
 */
static size_t
bidi_control(const unsigned char *p)
{
	if (p[0] == 0xd8 && p[1] == 0x9c)
		return 2;
	if (p[0] != 0xe2)
		return 0;
	if (p[1] == 0x80 && (p[2] == 0x8e || p[2] == 0x8f ||
	    (p[2] >= 0xaa && p[2] <= 0xae)))
		return 3;
	if (p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9)
		return 3;
	return 0;
}

int
http_content_disposition(const char *name, char *out, size_t outlen)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const unsigned char	*p;
	size_t			 o;
	int			 n;

	n = snprintf(out, outlen, "attachment; filename=\"");
	if (n < 0 || (size_t)n >= outlen)
		return -1;
	o = n;
	for (p = (const unsigned char *)name; *p != '\0'; p++) {
		if (o + 1 >= outlen)
			return -1;
		out[o++] = *p < 0x20 || *p >= 0x7f || *p == '"' ||
		    *p == '\\' ? '_' : *p;
	}
	n = snprintf(out + o, outlen - o, "\"; filename*=UTF-8''");
	if (n < 0 || (size_t)n >= outlen - o)
		return -1;
	o += n;
	/*
	 * RFC 8187 attr-char is the only thing left unencoded; a bidi
	 * control becomes '_', as it would in the fallback.
	 */
	for (p = (const unsigned char *)name; *p != '\0'; p++) {
		size_t	 bidi = bidi_control(p);
		bool	 plain = (*p >= 'a' && *p <= 'z') ||
		    (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("!#$&+-.^_`|~", *p) != NULL || bidi > 0;

		/* Room for the byte (or its %XX) and the final NUL. */
		if (o + (plain ? 1 : 3) >= outlen)
			return -1;
		if (bidi > 0) {
			out[o++] = '_';
			p += bidi - 1;
		} else if (plain)
			out[o++] = *p;
		else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
	return 0;
}

void
http_error_allow(struct request *r, const char *allow)
{
	char	*body = json_error(405, "method not allowed", NULL);

	http_json_with(r, 405, body != NULL ? body :
	    "{\"error\":\"method not allowed\",\"status\":405}", "Allow", allow);
	free(body);
}

bool
http_etag_match(const char *h, const char *tag)
{
	size_t	 taglen = strlen(tag), n;

	while (*h != '\0') {
		while (*h == ' ' || *h == '\t' || *h == ',')
			h++;
		if (*h == '*')
			return true;
		if (strncmp(h, "W/", 2) == 0)
			h += 2;
		if (*h != '"')
			return false;	/* not a list of entity tags */
		h++;
		n = strcspn(h, "\"");
		if (h[n] != '"')
			return false;
		if (n == taglen && memcmp(h, tag, n) == 0)
			return true;
		h += n + 1;
	}
	return false;
}

/* Reads the digits at *p into *v; false when there are none or too many. */
static bool
range_pos(const char **p, uint64_t *v)
{
	const char	*s = *p;

	for (*v = 0; *s >= '0' && *s <= '9'; s++) {
		if (*v > (UINT64_MAX - 9) / 10)
			return false;
		*v = *v * 10 + (uint64_t)(*s - '0');
	}
	if (s == *p)
		return false;
	*p = s;
	return true;
}

bool
http_range_past_end(const char *range, uint64_t size)
{
	const char	*p = range;
	uint64_t	 first, last;

	if (strncmp(p, "bytes=", 6) != 0)
		return false;
	p += 6;
	if (!range_pos(&p, &first) || *p++ != '-')
		return false;
	if (*p != '\0' && (!range_pos(&p, &last) || last < first))
		return false;
	return *p == '\0' && first > 0 && first >= size;
}
