/*
 * libFuzzer target for the multipart push parser (src/multipart.c).
 *
 * Input layout: byte 0 picks the boundary (bit 7: "XyZ" when clear, the
 * 70-byte VARIANT below when set) and, with byte 1 when bit 6 is set, the
 * seed of the chunking; the rest is the body.  The body is parsed twice,
 * once in a single mp_feed and once cut into pseudo-random chunks derived
 * from the seed (sizes from 1 byte to a few delimiter lengths), and the two
 * runs must agree on the error and on every event: the push parser must be
 * chunking-invariant.  The callbacks check the event order on the way
 * (begin/end pairing, no data outside a part, no callback after an error or
 * a stop) and abort() on any violation.  The start of the body is also
 * tried as a Content-Type value with mp_boundary.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "multipart.h"

#define BOUNDARY	"XyZ"
/* Every bchar class, inner spaces, the RFC's maximum length. */
#define VARIANT		"--XyZ'()+_,-./:=? XyZ" \
			"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLM"

_Static_assert(sizeof(VARIANT) - 1 == MP_BOUNDARY_MAX, "VARIANT length");

/* Everything one run saw, to compare runs byte for byte. */
struct outcome {
	unsigned char	*log;		/* events and data, in order */
	size_t		 loglen, logcap;
	size_t		 nbytes;	/* part data, all parts */
	size_t		 part_bytes;	/* part data, current part */
	unsigned	 begins, ends;
	int		 in_part;
	int		 stopped;	/* a callback returned non-zero */
	int		 errored;	/* mp_feed/mp_finish returned an error */
};

static void
note(struct outcome *o, const void *p, size_t n)
{
	if (o->loglen + n > o->logcap) {
		size_t	 cap = o->logcap ? o->logcap : 1024;

		while (cap < o->loglen + n)
			cap *= 2;
		if ((o->log = realloc(o->log, cap)) == NULL)
			abort();
		o->logcap = cap;
	}
	memcpy(o->log + o->loglen, p, n);
	o->loglen += n;
}

static void
note_size(struct outcome *o, size_t n)
{
	note(o, &n, sizeof(n));
}

static int
on_begin(void *arg, const struct mp_part *part)
{
	struct outcome	*o = arg;

	if (o->in_part || o->stopped || o->errored)
		abort();	/* a part inside a part, or after a stop/error */
	if (strnlen(part->name, MP_NAME_MAX + 1) > MP_NAME_MAX ||
	    strnlen(part->content_type, MP_CTYPE_MAX + 1) > MP_CTYPE_MAX ||
	    part->filename_len > MP_FILENAME_MAX ||
	    strlen(part->filename) != part->filename_len ||
	    (!part->has_filename && part->filename_len != 0))
		abort();	/* fields over their caps, or a NUL in filename */
	o->in_part = 1;
	o->begins++;
	o->part_bytes = 0;
	note(o, "B", 1);
	note(o, part->name, strlen(part->name) + 1);
	note(o, &part->has_filename, sizeof(part->has_filename));
	note_size(o, part->filename_len);
	note(o, part->filename, part->filename_len + 1);
	note(o, part->content_type, strlen(part->content_type) + 1);
	/* Stop on a field named "stop": aborted runs must agree too. */
	if (strcmp(part->name, "stop") == 0) {
		o->stopped = 1;
		return 1;
	}
	return 0;
}

static int
on_data(void *arg, const char *data, size_t len)
{
	struct outcome	*o = arg;

	if (!o->in_part || o->stopped || o->errored || len == 0)
		abort();	/* data outside a part, or empty */
	/* Not the event boundaries, which depend on the chunking: the bytes. */
	note(o, data, len);
	o->nbytes += len;
	o->part_bytes += len;
	return 0;
}

static int
on_end(void *arg)
{
	struct outcome	*o = arg;

	if (!o->in_part || o->stopped || o->errored)
		abort();
	o->in_part = 0;
	o->ends++;
	note(o, "E", 1);
	note_size(o, o->part_bytes);
	return 0;
}

static const struct mp_callbacks cb = { on_begin, on_data, on_end };

/* The next chunk size: mostly small, often around the delimiter's length. */
static size_t
chunk_size(uint32_t *seed, size_t dlen)
{
	uint32_t	 r;

	*seed = *seed * 1103515245u + 12345u;
	r = *seed >> 8;
	switch (r & 3) {
	case 0:
		return 1 + (r >> 2) % 4;
	case 1:
		return 1 + (r >> 2) % (2 * dlen);
	case 2:
		return 1 + (r >> 2) % 97;
	default:
		return 1 + (r >> 2) % 1500;
	}
}

/*
 * Runs body through a parser for boundary, in one mp_feed when whole, else
 * in chunks from seed.  Fills o; returns the final error.
 */
static enum mp_error
run(const char *boundary, const uint8_t *body, size_t len, int whole,
    uint32_t seed, struct outcome *o)
{
	struct mp_parser	*p;
	enum mp_error		 e = MP_OK;
	size_t			 off = 0, n, dlen = 4 + strlen(boundary);
	char			*chunk;

	memset(o, 0, sizeof(*o));
	if ((p = mp_new(boundary, &cb, o)) == NULL)
		abort();
	while (off < len && e == MP_OK) {
		n = whole ? len : chunk_size(&seed, dlen);
		if (n > len - off)
			n = len - off;
		/* A copy of exactly the chunk: ASan sees any read past it. */
		if ((chunk = malloc(n)) == NULL)
			abort();
		memcpy(chunk, body + off, n);
		e = mp_feed(p, chunk, n);
		free(chunk);
		off += n;
		if (mp_part_count(p) != o->begins)
			abort();
	}
	if (e == MP_OK)
		e = mp_finish(p);
	if ((int)e < MP_OK || e >= MP_ERR__MAX)
		abort();
	if (e != MP_OK) {
		o->errored = 1;
		/* Errors are sticky, and nothing is called back any more. */
		if (mp_feed(p, "\r\n--XyZ\r\n", 9) != e || mp_finish(p) != e)
			abort();
	}
	/* MP_ERR_ABORTED exactly when a callback stopped the parser. */
	if ((e == MP_ERR_ABORTED) != (o->stopped != 0))
		abort();
	/* Success is the closing delimiter seen with every part ended. */
	if ((e == MP_OK) != mp_done(p))
		abort();
	if (e == MP_OK && (o->in_part || o->begins != o->ends))
		abort();
	if (o->ends > o->begins || o->begins - o->ends > 1 ||
	    mp_part_count(p) != o->begins || o->begins > MP_PARTS_MAX)
		abort();
	/* The part data cannot outgrow the body. */
	if (o->nbytes > len)
		abort();
	mp_free(p);
	return e;
}

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outcome	 one, many;
	const char	*boundary;
	char		 ct[257], bnd[MP_BOUNDARY_MAX + 1];
	enum mp_error	 e1, e2;
	uint32_t	 seed;
	size_t		 hdr, n;

	if (size < 1)
		return 0;
	boundary = (data[0] & 0x80) ? VARIANT : BOUNDARY;
	seed = data[0] & 0x3f;
	hdr = 1;
	if ((data[0] & 0x40) && size >= 2) {
		seed = seed << 8 | data[1];
		hdr = 2;
	}
	seed = seed * 2654435761u + 1;

	e1 = run(boundary, data + hdr, size - hdr, 1, 0, &one);
	e2 = run(boundary, data + hdr, size - hdr, 0, seed, &many);
	if (e1 != e2 || one.nbytes != many.nbytes ||
	    one.begins != many.begins || one.ends != many.ends ||
	    one.loglen != many.loglen ||
	    (one.loglen > 0 && memcmp(one.log, many.log, one.loglen) != 0))
		abort();	/* the result depends on the chunking */
	free(one.log);
	free(many.log);

	/* The body's start as a Content-Type value (a C string: to a NUL). */
	n = size - hdr < sizeof(ct) - 1 ? size - hdr : sizeof(ct) - 1;
	memcpy(ct, data + hdr, n);
	ct[n] = '\0';
	memset(bnd, 0xa5, sizeof(bnd));
	if (mp_boundary(ct, bnd) == MP_OK) {
		struct mp_parser	*p;

		n = strnlen(bnd, sizeof(bnd));
		if (n == 0 || n > MP_BOUNDARY_MAX)
			abort();
		/* mp_boundary's output is always a boundary mp_new takes. */
		if ((p = mp_new(bnd, NULL, NULL)) == NULL)
			abort();
		mp_free(p);
	}
	return 0;
}
