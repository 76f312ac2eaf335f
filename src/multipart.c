/*
 * multipart/form-data push parser (RFC 7578 over RFC 2046).
 *
 * The body is scanned for the delimiter CRLF "--" boundary with memmem(3),
 * so part data costs one pass of the C library's search and no copy: it is
 * handed out as pointers into the caller's chunk.  The only bytes kept
 * across calls are a proper prefix of the delimiter seen at the end of a
 * chunk (the carry-over, fewer than 4 + MP_BOUNDARY_MAX bytes) and the
 * current part header line (at most MP_HEADER_LINE_MAX bytes and its CR).
 *
 * Error decisions, besides those in multipart.h:
 *  - A body that ends (mp_finish) before any delimiter was seen, including
 *    an empty body, is MP_ERR_NO_FIRST_BOUNDARY; the preamble may be of any
 *    size since it is dropped as it streams by.  A body that ends anywhere
 *    after the first delimiter but before the closing one is
 *    MP_ERR_TRUNCATED.
 *  - A delimiter followed by anything but transport padding then CRLF or
 *    "--" is MP_ERR_BOUNDARY_LINE, in the preamble as in part data: RFC 2046
 *    forbids the delimiter inside the encapsulated text.
 *  - Transport padding is also allowed between the boundary and "--".
 *    "--boundary--" straight away is a valid body of zero parts.
 *  - MP_ERR_TOO_MANY_PARTS comes at the delimiter line that would open part
 *    MP_PARTS_MAX + 1, so the parts before it are complete.
 *  - MP_HEADER_LINE_MAX counts a header line without its CRLF.
 *  - Header lines must end in CRLF; a bare CR or LF, any other control
 *    character, a name that is not a token (which includes obs-fold
 *    continuation lines) or a second Content-Type is MP_ERR_BAD_HEADER.
 *  - A second Content-Disposition, a repeated name, filename or filename*
 *    parameter, a parameter list that does not parse, a filename* charset
 *    other than UTF-8 or US-ASCII (or a byte over 0x7f in US-ASCII) is
 *    MP_ERR_BAD_DISPOSITION.  filename="" counts as a filename (browsers
 *    send it for an empty file input); the caller decides what it means.
 *  - part_end is called only once the delimiter line after the part's data
 *    has been checked, so a part whose data was cut short never ends.
 *  - mp_new also returns NULL for a boundary mp_boundary would refuse.
 */
#include <stdlib.h>
#include <string.h>

#include "multipart.h"

#define MP_DELIM_MAX	(4 + MP_BOUNDARY_MAX)	/* CRLF "--" boundary */

enum mp_state {
	ST_PREAMBLE,	/* before the first delimiter: bytes are dropped */
	ST_TAIL,	/* after a delimiter: padding, then CRLF or "--" */
	ST_HEADERS,	/* part header lines */
	ST_DATA,	/* part data up to the next delimiter */
	ST_EPILOGUE	/* after the closing delimiter: bytes are dropped */
};

enum mp_tail {
	TAIL_PAD,	/* spaces and tabs so far */
	TAIL_CR,	/* CR seen, LF must follow */
	TAIL_DASH	/* one '-' seen, another must follow */
};

struct mp_parser {
	struct mp_callbacks	 cb;
	void			*arg;
	enum mp_state		 state;
	enum mp_error		 err;
	enum mp_tail		 tail;
	bool			 in_part;	/* begun, not ended yet */
	bool			 done;
	bool			 seen_cd;
	bool			 seen_ct;
	unsigned		 nparts;
	unsigned		 nheaders;
	size_t			 dlen;
	size_t			 clen;
	size_t			 hlen;
	char			 delim[MP_DELIM_MAX];
	char			 carry[MP_DELIM_MAX];
	/* The header line being read, with its CR. */
	char			 hbuf[MP_HEADER_LINE_MAX + 1];
	struct mp_part		 part;
	/* filename* is decoded aside: it wins over filename in any order. */
	char			 fnext[MP_FILENAME_MAX + 1];
	size_t			 fnext_len;
};

/* One parameter of a header value, as found in the line. */
struct mp_param {
	const char	*name;
	size_t		 namelen;
	const char	*val;		/* inside the quotes when quoted */
	size_t		 vallen;
	bool		 quoted;
};

static bool
is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* RFC 7230 tchar. */
static bool
is_tchar(unsigned char c)
{
	return is_alnum(c) ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* RFC 8187 attr-char. */
static bool
is_attrchar(unsigned char c)
{
	return is_alnum(c) ||
	    (c != '\0' && strchr("!#$&+-.^_`|~", c) != NULL);
}

/* RFC 2046 bchars. */
static bool
is_bchar(unsigned char c)
{
	return is_alnum(c) ||
	    (c != '\0' && strchr("'()+_,-./:=? ", c) != NULL);
}

static bool
is_ctl(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* ASCII case-insensitive s[0..n) == lit, independent of the locale. */
static bool
ieq(const char *s, size_t n, const char *lit)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		unsigned char a = s[i], b = lit[i];

		if (b == '\0')
			return false;
		if (a >= 'A' && a <= 'Z')
			a += 'a' - 'A';
		if (b >= 'A' && b <= 'Z')
			b += 'a' - 'A';
		if (a != b)
			return false;
	}
	return lit[n] == '\0';
}

static const char *
skip_ows(const char *s, const char *e)
{
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	return s;
}

static const char *
skip_token(const char *s, const char *e)
{
	while (s < e && is_tchar(*s))
		s++;
	return s;
}

static bool
valid_boundary(const char *b, size_t n)
{
	size_t	 i;

	if (n == 0 || n > MP_BOUNDARY_MAX || b[n - 1] == ' ')
		return false;
	for (i = 0; i < n; i++)
		if (!is_bchar(b[i]))
			return false;
	return true;
}

/*
 * Parses the next *(OWS ";" OWS) name "=" (token / quoted-string) at *sp.
 * Empty parameters (";;", a trailing ";") are skipped, as clients send them.
 * Returns 1 with pm filled in, 0 at the end of the value, -1 if malformed.
 */
static int
param_next(const char **sp, const char *e, struct mp_param *pm)
{
	const char	*s = *sp;
	unsigned char	 c;

	for (;;) {
		s = skip_ows(s, e);
		if (s == e) {
			*sp = s;
			return 0;
		}
		if (*s != ';')
			return -1;
		s = skip_ows(s + 1, e);
		if (s < e && *s != ';')
			break;
	}
	pm->name = s;
	s = skip_token(s, e);
	if ((pm->namelen = s - pm->name) == 0)
		return -1;
	s = skip_ows(s, e);
	if (s == e || *s != '=')
		return -1;
	s = skip_ows(s + 1, e);
	if (s < e && *s == '"') {
		pm->quoted = true;
		pm->val = ++s;
		for (;;) {
			if (s == e)
				return -1;
			if ((c = *s) == '"')
				break;
			/*
			 * Browsers and curl send Windows paths with bare
			 * backslashes, so only \" and \\ are quoted-pairs.
			 */
			if (c == '\\' && s + 1 < e &&
			    (s[1] == '"' || s[1] == '\\'))
				c = *++s;
			if (is_ctl(c))
				return -1;
			s++;
		}
		pm->vallen = s - pm->val;
		s++;
	} else {
		pm->quoted = false;
		pm->val = s;
		s = skip_token(s, e);
		if ((pm->vallen = s - pm->val) == 0)
			return -1;
	}
	*sp = s;
	return 1;
}

/*
 * Copies the value with quoted-pairs resolved into out (cap + 1 bytes),
 * NUL-terminated.  Returns -1 if it is longer than cap.
 */
static int
param_value(const struct mp_param *pm, char *out, size_t cap, size_t *outlen)
{
	size_t	 i, n = 0;
	char	 c;

	for (i = 0; i < pm->vallen; i++) {
		c = pm->val[i];
		/* The same quoted-pairs param_next allowed: \" and \\ only. */
		if (pm->quoted && c == '\\' && i + 1 < pm->vallen &&
		    (pm->val[i + 1] == '"' || pm->val[i + 1] == '\\'))
			c = pm->val[++i];
		if (n == cap)
			return -1;
		out[n++] = c;
	}
	out[n] = '\0';
	*outlen = n;
	return 0;
}

/*
 * Decodes an RFC 8187 ext-value, charset'language'pct-encoded, into out
 * (cap + 1 bytes).  Returns -1 if malformed, too long, holding a NUL or in a
 * charset other than UTF-8 and US-ASCII.
 */
static int
decode_ext(const char *s, size_t len, char *out, size_t cap, size_t *outlen)
{
	const char	*e = s + len, *q;
	size_t		 n = 0;
	bool		 ascii;
	int		 hi, lo;
	unsigned char	 c;

	if ((q = memchr(s, '\'', len)) == NULL)
		return -1;
	if (ieq(s, q - s, "utf-8"))
		ascii = false;
	else if (ieq(s, q - s, "us-ascii"))
		ascii = true;
	else
		return -1;
	s = q + 1;
	if ((q = memchr(s, '\'', e - s)) == NULL)
		return -1;
	/* The language tag is of no use here, but must look like one. */
	for (; s < q; s++)
		if (!is_alnum(*s) && *s != '-')
			return -1;
	for (s = q + 1; s < e; s++) {
		c = *s;
		if (c == '%') {
			if (e - s < 3 || (hi = hexval(s[1])) == -1 ||
			    (lo = hexval(s[2])) == -1)
				return -1;
			c = hi << 4 | lo;
			s += 2;
			if (c == '\0')
				return -1;
		} else if (!is_attrchar(c))
			return -1;
		if ((ascii && c > 0x7f) || n == cap)
			return -1;
		out[n++] = c;
	}
	out[n] = '\0';
	*outlen = n;
	return 0;
}

static enum mp_error
parse_disposition(struct mp_parser *p, const char *s, const char *e)
{
	struct mp_param	 pm;
	struct mp_part	*part = &p->part;
	const char	*t = s;
	size_t		 n;
	bool		 seen_name = false, seen_fn = false, seen_ext = false;
	int		 r;

	s = skip_token(s, e);
	if (!ieq(t, s - t, "form-data"))
		return MP_ERR_BAD_DISPOSITION;
	/* Repeated parameters are refused: which one counts is a guess. */
	while ((r = param_next(&s, e, &pm)) == 1) {
		if (ieq(pm.name, pm.namelen, "name")) {
			if (seen_name || param_value(&pm, part->name,
			    MP_NAME_MAX, &n) == -1)
				return MP_ERR_BAD_DISPOSITION;
			seen_name = true;
		} else if (ieq(pm.name, pm.namelen, "filename")) {
			if (seen_fn || param_value(&pm, part->filename,
			    MP_FILENAME_MAX, &part->filename_len) == -1)
				return MP_ERR_BAD_DISPOSITION;
			seen_fn = true;
		} else if (ieq(pm.name, pm.namelen, "filename*")) {
			if (seen_ext || pm.quoted || decode_ext(pm.val,
			    pm.vallen, p->fnext, MP_FILENAME_MAX,
			    &p->fnext_len) == -1)
				return MP_ERR_BAD_DISPOSITION;
			seen_ext = true;
		}
	}
	if (r == -1)
		return MP_ERR_BAD_DISPOSITION;
	if (seen_ext) {
		memcpy(part->filename, p->fnext, p->fnext_len + 1);
		part->filename_len = p->fnext_len;
	}
	part->has_filename = seen_fn || seen_ext;
	return MP_OK;
}

/* One complete header line, CRLF stripped, already known not too long. */
static enum mp_error
parse_header(struct mp_parser *p, const char *line, size_t len)
{
	const char	*colon, *v, *e = line + len;
	size_t		 i;

	for (i = 0; i < len; i++)
		if (is_ctl(line[i]))
			return MP_ERR_BAD_HEADER;
	if ((colon = memchr(line, ':', len)) == NULL || colon == line ||
	    skip_token(line, colon) != colon)
		return MP_ERR_BAD_HEADER;
	v = skip_ows(colon + 1, e);
	while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if (ieq(line, colon - line, "content-disposition")) {
		if (p->seen_cd)
			return MP_ERR_BAD_DISPOSITION;
		p->seen_cd = true;
		return parse_disposition(p, v, e);
	}
	if (ieq(line, colon - line, "content-type")) {
		if (p->seen_ct || e - v > MP_CTYPE_MAX)
			return MP_ERR_BAD_HEADER;
		p->seen_ct = true;
		memcpy(p->part.content_type, v, e - v);
		p->part.content_type[e - v] = '\0';
	}
	return MP_OK;
}

static void
abort_if(struct mp_parser *p, int r)
{
	if (r != 0)
		p->err = MP_ERR_ABORTED;
}

/* Hands data of the current part to the caller; nothing in the preamble. */
static int
emit(struct mp_parser *p, const char *data, size_t len)
{
	if (p->state != ST_DATA || len == 0 || p->cb.part_data == NULL)
		return 0;
	abort_if(p, p->cb.part_data(p->arg, data, len));
	return p->err == MP_OK ? 0 : -1;
}

static void
headers_done(struct mp_parser *p)
{
	if (!p->seen_cd) {
		p->err = MP_ERR_BAD_DISPOSITION;
		return;
	}
	p->nparts++;
	p->in_part = true;
	p->state = ST_DATA;
	p->clen = 0;
	if (p->cb.part_begin != NULL)
		abort_if(p, p->cb.part_begin(p->arg, &p->part));
}

/* The delimiter line was good: the previous part, if any, is complete. */
static void
part_done(struct mp_parser *p)
{
	if (p->in_part) {
		p->in_part = false;
		if (p->cb.part_end != NULL)
			abort_if(p, p->cb.part_end(p->arg));
	}
}

static const char *
feed_tail(struct mp_parser *p, const char *buf, const char *end)
{
	char	 c;

	while (buf < end) {
		c = *buf++;
		switch (p->tail) {
		case TAIL_PAD:
			if (c == ' ' || c == '\t')
				continue;
			if (c == '\r')
				p->tail = TAIL_CR;
			else if (c == '-')
				p->tail = TAIL_DASH;
			else
				p->err = MP_ERR_BOUNDARY_LINE;
			break;
		case TAIL_CR:
			if (c != '\n') {
				p->err = MP_ERR_BOUNDARY_LINE;
				break;
			}
			part_done(p);
			if (p->err != MP_OK)
				break;
			if (p->nparts >= MP_PARTS_MAX) {
				p->err = MP_ERR_TOO_MANY_PARTS;
				break;
			}
			memset(&p->part, 0, sizeof(p->part));
			p->seen_cd = p->seen_ct = false;
			p->nheaders = 0;
			p->hlen = 0;
			p->state = ST_HEADERS;
			return buf;
		case TAIL_DASH:
			if (c != '-') {
				p->err = MP_ERR_BOUNDARY_LINE;
				break;
			}
			part_done(p);
			if (p->err != MP_OK)
				break;
			p->done = true;
			p->state = ST_EPILOGUE;
			return buf;
		}
		if (p->err != MP_OK)
			return end;
	}
	return buf;
}

static const char *
feed_headers(struct mp_parser *p, const char *buf, const char *end)
{
	const char	*nl;
	size_t		 take, len;

	while (buf < end) {
		nl = memchr(buf, '\n', end - buf);
		take = (nl != NULL ? nl : end) - buf;
		if (take > sizeof(p->hbuf) - p->hlen) {
			p->err = MP_ERR_HEADER_TOO_LONG;
			return end;
		}
		memcpy(p->hbuf + p->hlen, buf, take);
		p->hlen += take;
		if (nl == NULL)
			return end;
		buf = nl + 1;

		if (p->hlen > 0 && p->hbuf[p->hlen - 1] == '\r')
			len = p->hlen - 1;
		else
			len = p->hlen;
		if (len > MP_HEADER_LINE_MAX)
			p->err = MP_ERR_HEADER_TOO_LONG;
		else if (len == p->hlen)
			p->err = MP_ERR_BAD_HEADER;	/* bare LF */
		else if (len == 0)
			headers_done(p);
		else if (++p->nheaders > MP_HEADERS_MAX)
			p->err = MP_ERR_TOO_MANY_HEADERS;
		else
			p->err = parse_header(p, p->hbuf, len);
		p->hlen = 0;
		if (p->err != MP_OK || p->state != ST_HEADERS)
			return buf;
	}
	return buf;
}

static void
delim_found(struct mp_parser *p)
{
	p->state = ST_TAIL;
	p->tail = TAIL_PAD;
}

/*
 * Where in buf..end a proper prefix of the delimiter starts and runs to the
 * end; end if none.  Only the last dlen - 1 bytes can hold one, and only
 * from their last CR: bchars exclude CR, so the delimiter has none but its
 * first byte.
 */
static const char *
partial_start(const struct mp_parser *p, const char *buf, const char *end)
{
	const char	*s;

	s = (size_t)(end - buf) >= p->dlen ? end - (p->dlen - 1) : buf;
	if ((s = memrchr(s, '\r', end - s)) != NULL &&
	    memcmp(s, p->delim, end - s) == 0)
		return s;
	return end;
}

/* Preamble or part data: everything up to the next delimiter. */
static const char *
feed_data(struct mp_parser *p, const char *buf, const char *end)
{
	const char	*q;
	size_t		 len = end - buf, n;

	/*
	 * The carry-over is a delimiter prefix: see if buf goes on with the
	 * rest.  A delimiter cannot start later in it, for want of a CR.
	 */
	if (p->clen > 0) {
		n = p->dlen - p->clen < len ? p->dlen - p->clen : len;
		if (memcmp(buf, p->delim + p->clen, n) == 0) {
			if (p->clen + n == p->dlen) {
				p->clen = 0;
				delim_found(p);
				return buf + n;
			}
			memcpy(p->carry + p->clen, buf, n);
			p->clen += n;
			return end;
		}
		if (emit(p, p->carry, p->clen) == -1)
			return end;
		p->clen = 0;
	}

	if ((q = memmem(buf, len, p->delim, p->dlen)) != NULL) {
		if (emit(p, buf, q - buf) == -1)
			return end;
		delim_found(p);
		return q + p->dlen;
	}
	q = partial_start(p, buf, end);
	if (emit(p, buf, q - buf) == -1)
		return end;
	p->clen = end - q;
	memcpy(p->carry, q, p->clen);
	return end;
}

enum mp_error
mp_boundary(const char *content_type, char out[MP_BOUNDARY_MAX + 1])
{
	struct mp_param	 pm;
	const char	*s, *e, *t;
	char		 b[MP_BOUNDARY_MAX + 1];
	size_t		 n = 0;
	bool		 found = false;
	int		 r;

	if (content_type == NULL)
		return MP_ERR_NO_BOUNDARY;
	e = content_type + strlen(content_type);
	t = skip_ows(content_type, e);
	s = skip_token(t, e);
	if (!ieq(t, s - t, "multipart") || s == e || *s != '/')
		return MP_ERR_NO_BOUNDARY;
	t = s + 1;
	s = skip_token(t, e);
	if (!ieq(t, s - t, "form-data"))
		return MP_ERR_NO_BOUNDARY;
	while ((r = param_next(&s, e, &pm)) == 1) {
		if (!ieq(pm.name, pm.namelen, "boundary"))
			continue;
		if (found || param_value(&pm, b, MP_BOUNDARY_MAX, &n) == -1)
			return MP_ERR_NO_BOUNDARY;
		found = true;
	}
	if (r == -1 || !found || !valid_boundary(b, n))
		return MP_ERR_NO_BOUNDARY;
	memcpy(out, b, n + 1);
	return MP_OK;
}

/*
 * Also NULL if boundary is not valid (mp_boundary's output always is): the
 * search relies on a boundary without CR.
 */
struct mp_parser *
mp_new(const char *boundary, const struct mp_callbacks *cb, void *arg)
{
	struct mp_parser	*p;
	size_t			 blen;

	if (boundary == NULL)
		return NULL;
	blen = strnlen(boundary, MP_BOUNDARY_MAX + 1);
	if (!valid_boundary(boundary, blen))
		return NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	if (cb != NULL)
		p->cb = *cb;
	p->arg = arg;
	p->state = ST_PREAMBLE;
	memcpy(p->delim, "\r\n--", 4);
	memcpy(p->delim + 4, boundary, blen);
	p->dlen = 4 + blen;
	/* As if the body began with CRLF: then "--boundary" at once matches. */
	memcpy(p->carry, "\r\n", 2);
	p->clen = 2;
	return p;
}

void
mp_free(struct mp_parser *p)
{
	free(p);
}

enum mp_error
mp_feed(struct mp_parser *p, const char *buf, size_t len)
{
	const char	*end;

	if (p->err != MP_OK || len == 0)
		return p->err;
	end = buf + len;
	while (buf < end && p->err == MP_OK) {
		switch (p->state) {
		case ST_PREAMBLE:
		case ST_DATA:
			buf = feed_data(p, buf, end);
			break;
		case ST_TAIL:
			buf = feed_tail(p, buf, end);
			break;
		case ST_HEADERS:
			buf = feed_headers(p, buf, end);
			break;
		case ST_EPILOGUE:
			buf = end;
			break;
		}
	}
	return p->err;
}

enum mp_error
mp_finish(struct mp_parser *p)
{
	if (p->err == MP_OK && !p->done)
		p->err = p->state == ST_PREAMBLE ? MP_ERR_NO_FIRST_BOUNDARY :
		    MP_ERR_TRUNCATED;
	return p->err;
}

bool
mp_done(const struct mp_parser *p)
{
	return p->done;
}

unsigned
mp_part_count(const struct mp_parser *p)
{
	return p->nparts;
}

const char *
mp_strerror(enum mp_error e)
{
	switch (e) {
	case MP_OK:
		return "no error";
	case MP_ERR_NO_BOUNDARY:
		return "request is not multipart/form-data with a valid "
		    "boundary";
	case MP_ERR_NO_FIRST_BOUNDARY:
		return "multipart body does not contain the boundary";
	case MP_ERR_BOUNDARY_LINE:
		return "unexpected characters after a multipart boundary";
	case MP_ERR_HEADER_TOO_LONG:
		return "multipart part header line is too long";
	case MP_ERR_TOO_MANY_HEADERS:
		return "too many header lines in a multipart part";
	case MP_ERR_BAD_HEADER:
		return "malformed multipart part header";
	case MP_ERR_BAD_DISPOSITION:
		return "multipart part without a valid form-data "
		    "Content-Disposition";
	case MP_ERR_TOO_MANY_PARTS:
		return "too many parts in the multipart body";
	case MP_ERR_TRUNCATED:
		return "multipart body ended before the closing boundary";
	case MP_ERR_ABORTED:
		return "multipart processing was stopped";
	case MP_ERR__MAX:
		break;
	}
	return "unknown multipart error";
}
