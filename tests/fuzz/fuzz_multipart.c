/*
 * libFuzzer target for the multipart push parser.  The first input byte
 * picks how the rest is cut into chunks; the rest is a body for the
 * boundary "XyZ".  The parser must be chunking-invariant: the same body fed
 * whole and fed in pieces gives the same error, parts and data.  Its
 * callbacks check the event order on the way.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "multipart.h"

#define BOUNDARY	"XyZ"

struct outcome {
	crypto_generichash_state digest;	/* of every event and byte */
	int	in_part;
	int	stopped;
};

static void
note(struct outcome *o, const void *p, size_t n)
{
	crypto_generichash_update(&o->digest, p, n);
}

static int
on_begin(void *arg, const struct mp_part *part)
{
	struct outcome	*o = arg;

	if (o->in_part || o->stopped)
		abort();	/* a part begun inside a part, or after a stop */
	if (part->has_filename && strlen(part->filename) != part->filename_len)
		abort();	/* the decoded name must be NUL-free */
	o->in_part = 1;
	note(o, "B", 1);
	note(o, part->name, strlen(part->name) + 1);
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

	if (!o->in_part || o->stopped)
		abort();	/* data outside a part */
	/* Not the event boundaries, which depend on the chunking: the bytes. */
	note(o, data, len);
	return 0;
}

static int
on_end(void *arg)
{
	struct outcome	*o = arg;

	if (!o->in_part || o->stopped)
		abort();
	o->in_part = 0;
	note(o, "E", 1);
	return 0;
}

static const struct mp_callbacks cb = { on_begin, on_data, on_end };

/* Runs body through a parser in chunks from the seed (0: whole). */
static enum mp_error
run(const uint8_t *body, size_t len, unsigned seed, unsigned char out[32])
{
	struct outcome		 o;
	struct mp_parser	*p;
	enum mp_error		 e = MP_OK;
	size_t			 off = 0, n;

	memset(&o, 0, sizeof(o));
	crypto_generichash_init(&o.digest, NULL, 0, 32);
	if ((p = mp_new(BOUNDARY, &cb, &o)) == NULL)
		abort();
	while (off < len && e == MP_OK) {
		if (seed == 0)
			n = len;
		else {
			seed = seed * 1103515245u + 12345u;
			n = 1 + (seed >> 16) % 97;
		}
		if (n > len - off)
			n = len - off;
		/* A copy of exactly the chunk: ASan sees any read past it. */
		char *chunk = malloc(n);
		if (chunk == NULL)
			abort();
		memcpy(chunk, body + off, n);
		e = mp_feed(p, chunk, n);
		free(chunk);
		off += n;
	}
	if (e == MP_OK)
		e = mp_finish(p);
	/* Errors are sticky. */
	if (e != MP_OK && mp_feed(p, "x", 1) != e)
		abort();
	mp_free(p);
	crypto_generichash_final(&o.digest, out, 32);
	return e;
}

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char	 whole[32], pieces[32];
	char		 ct[128], bnd[MP_BOUNDARY_MAX + 1];
	enum mp_error	 e1, e2;
	size_t		 n;

	if (size < 1)
		return 0;
	if (sodium_init() < 0)
		abort();
	e1 = run(data + 1, size - 1, 0, whole);
	e2 = run(data + 1, size - 1, 1u + data[0], pieces);
	if (e1 != e2 || memcmp(whole, pieces, sizeof(whole)) != 0)
		abort();	/* the result depends on the chunking */

	/* The input's start as a Content-Type header value. */
	n = size - 1 < sizeof(ct) - 1 ? size - 1 : sizeof(ct) - 1;
	memcpy(ct, data + 1, n);
	ct[n] = '\0';
	if (mp_boundary(ct, bnd) == MP_OK &&
	    (strlen(bnd) == 0 || strlen(bnd) > MP_BOUNDARY_MAX))
		abort();
	return 0;
}
