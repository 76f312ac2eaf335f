/*
 * Unit tests of the multipart/form-data parser.  Every body is fed in
 * freshly allocated chunks freed after each mp_feed, so the sanitizers and
 * valgrind catch a parser that reads past a chunk or keeps a pointer into
 * one.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "multipart.h"
#include "testutil.h"

#define BND	"bound-ary"
#define DELIM_LEN	(4 + sizeof(BND) - 1)
#define LIT(s)	(s), (sizeof(s) - 1)

/* What the parser reported about one part. */
struct rec_part {
	char	*name;
	bool	 has_filename;
	char	*filename;
	size_t	 filename_len;
	char	*ctype;
	char	*data;
	size_t	 len;
	bool	 ended;
};

struct collector {
	struct rec_part	*parts;
	unsigned	 nparts;
	bool		 in_part;
	/* 'B'egin, 'D'ata (runs merged, as chunking changes them), 'E'nd. */
	char		 events[512];
	size_t		 nev;
	/* Which call aborts: the nth begin, data or end; 0 for none. */
	unsigned	 abort_begin, abort_data, abort_end;
	unsigned	 ndata;
	unsigned	 nend;
	bool		 aborted;
	unsigned	 calls_after_abort;
	/* The chunk being fed, to count data not passed in place. */
	const char	*chunk;
	size_t		 chunklen;
	size_t		 copied;
	/* Outcome. */
	enum mp_error	 err;
	bool		 done;
	unsigned	 count;
};

static void
event(struct collector *c, char ev)
{
	if (c->aborted)
		c->calls_after_abort++;
	if (ev == 'D' && c->nev > 0 && c->events[c->nev - 1] == 'D')
		return;
	ck_assert_uint_lt(c->nev, sizeof(c->events) - 1);
	c->events[c->nev++] = ev;
	c->events[c->nev] = '\0';
}

static char *
memdup0(const char *s, size_t len)
{
	char	*p;

	ck_assert_ptr_nonnull(p = malloc(len + 1));
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

static int
on_begin(void *arg, const struct mp_part *part)
{
	struct collector	*c = arg;
	struct rec_part		*r;

	event(c, 'B');
	ck_assert(!c->in_part);
	c->in_part = true;
	ck_assert_uint_le(strlen(part->name), MP_NAME_MAX);
	ck_assert_uint_le(strlen(part->content_type), MP_CTYPE_MAX);
	ck_assert_uint_le(part->filename_len, MP_FILENAME_MAX);
	ck_assert_int_eq(part->filename[part->filename_len], '\0');
	ck_assert_ptr_null(memchr(part->filename, '\0', part->filename_len));
	if (!part->has_filename)
		ck_assert_uint_eq(part->filename_len, 0);
	c->parts = realloc(c->parts, (c->nparts + 1) * sizeof(*c->parts));
	ck_assert_ptr_nonnull(c->parts);
	r = &c->parts[c->nparts++];
	memset(r, 0, sizeof(*r));
	r->name = memdup0(part->name, strlen(part->name));
	r->has_filename = part->has_filename;
	r->filename = memdup0(part->filename, part->filename_len);
	r->filename_len = part->filename_len;
	r->ctype = memdup0(part->content_type, strlen(part->content_type));
	if (c->abort_begin == c->nparts) {
		c->aborted = true;
		return 1;
	}
	return 0;
}

static int
on_data(void *arg, const char *data, size_t len)
{
	struct collector	*c = arg;
	struct rec_part		*r;
	uintptr_t		 d = (uintptr_t)data, k = (uintptr_t)c->chunk;

	event(c, 'D');
	ck_assert(c->in_part);
	ck_assert_uint_gt(len, 0);
	if (d < k || d + len > k + c->chunklen)
		c->copied += len;
	r = &c->parts[c->nparts - 1];
	ck_assert_ptr_nonnull(r->data = realloc(r->data, r->len + len));
	memcpy(r->data + r->len, data, len);
	r->len += len;
	if (++c->ndata == c->abort_data) {
		c->aborted = true;
		return 1;
	}
	return 0;
}

static int
on_end(void *arg)
{
	struct collector	*c = arg;

	event(c, 'E');
	ck_assert(c->in_part);
	c->in_part = false;
	c->parts[c->nparts - 1].ended = true;
	if (++c->nend == c->abort_end) {
		c->aborted = true;
		return 1;
	}
	return 0;
}

static const struct mp_callbacks collect_cb = { on_begin, on_data, on_end };

static struct collector *
collector_new(void)
{
	struct collector	*c;

	ck_assert_ptr_nonnull(c = calloc(1, sizeof(*c)));
	return c;
}

static void
collector_free(struct collector *c)
{
	unsigned	 i;

	for (i = 0; i < c->nparts; i++) {
		free(c->parts[i].name);
		free(c->parts[i].filename);
		free(c->parts[i].ctype);
		free(c->parts[i].data);
	}
	free(c->parts);
	free(c);
}

/*
 * Feeds body cut at the ncuts ascending offsets in cuts, each chunk in its
 * own allocation, then finishes; stops at the first error.
 */
static void
run_cuts(struct collector *c, const char *bnd, const char *body, size_t len,
    const size_t *cuts, size_t ncuts)
{
	struct mp_parser	*p;
	size_t			 i, from = 0, to;
	char			*chunk;

	ck_assert_ptr_nonnull(p = mp_new(bnd, &collect_cb, c));
	c->err = MP_OK;
	for (i = 0; i <= ncuts && c->err == MP_OK; i++) {
		to = i < ncuts ? cuts[i] : len;
		ck_assert_uint_le(from, to);
		ck_assert_ptr_nonnull(chunk = malloc(to - from + 1));
		memcpy(chunk, body + from, to - from);
		c->chunk = chunk;
		c->chunklen = to - from;
		c->err = mp_feed(p, chunk, to - from);
		c->chunk = NULL;
		free(chunk);
		from = to;
	}
	if (c->err == MP_OK)
		c->err = mp_finish(p);
	c->done = mp_done(p);
	c->count = mp_part_count(p);
	mp_free(p);
}

static struct collector *
run_whole(const char *bnd, const char *body, size_t len)
{
	struct collector	*c = collector_new();

	run_cuts(c, bnd, body, len, NULL, 0);
	return c;
}

/* Feeds chunks of step bytes. */
static struct collector *
run_step(const char *bnd, const char *body, size_t len, size_t step)
{
	struct collector	*c = collector_new();
	size_t			*cuts, n = 0, off;

	ck_assert_ptr_nonnull(cuts = calloc(len / step + 1, sizeof(*cuts)));
	for (off = step; off < len; off += step)
		cuts[n++] = off;
	run_cuts(c, bnd, body, len, cuts, n);
	free(cuts);
	return c;
}

/* xorshift32: the same chunk sizes on every platform. */
static uint32_t
rnd(uint32_t *state)
{
	uint32_t	 x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *state = x;
}

/* Feeds chunks of random sizes, 0 to maxchunk bytes. */
static struct collector *
run_random(const char *bnd, const char *body, size_t len, uint32_t *seed,
    size_t maxchunk)
{
	struct collector	*c = collector_new();
	size_t			*cuts, n = 0, off = 0, max = 2 * len + 2;

	/* Empty chunks too, but not without end. */
	ck_assert_ptr_nonnull(cuts = calloc(max, sizeof(*cuts)));
	while (n < max) {
		off += rnd(seed) % (maxchunk + 1);
		if (off >= len)
			break;
		cuts[n++] = off;
	}
	run_cuts(c, bnd, body, len, cuts, n);
	free(cuts);
	return c;
}

static void
check_same(const struct collector *a, const struct collector *b,
    const char *how)
{
	unsigned	 i;

	ck_assert_msg(a->err == b->err, "%s: error %d, not %d", how, b->err,
	    a->err);
	ck_assert_msg(a->done == b->done, "%s: done differs", how);
	ck_assert_msg(a->count == b->count, "%s: part count differs", how);
	ck_assert_msg(strcmp(a->events, b->events) == 0,
	    "%s: events %s, not %s", how, b->events, a->events);
	ck_assert_msg(a->nparts == b->nparts, "%s: parts differ", how);
	for (i = 0; i < a->nparts; i++) {
		const struct rec_part *x = &a->parts[i], *y = &b->parts[i];

		ck_assert_msg(strcmp(x->name, y->name) == 0 &&
		    x->has_filename == y->has_filename &&
		    x->filename_len == y->filename_len &&
		    memcmp(x->filename, y->filename, x->filename_len) == 0 &&
		    strcmp(x->ctype, y->ctype) == 0 && x->ended == y->ended,
		    "%s: part %u headers differ", how, i);
		ck_assert_msg(x->len == y->len && (x->len == 0 ||
		    memcmp(x->data, y->data, x->len) == 0),
		    "%s: part %u data differs (%zu bytes, not %zu)", how, i,
		    y->len, x->len);
	}
}

static void
check_part(const struct collector *c, unsigned i, const char *name,
    const char *filename, const char *ctype, const char *data, size_t len)
{
	const struct rec_part	*r;

	ck_assert_uint_lt(i, c->nparts);
	r = &c->parts[i];
	ck_assert_str_eq(r->name, name);
	if (filename == NULL)
		ck_assert(!r->has_filename);
	else {
		ck_assert(r->has_filename);
		ck_assert_uint_eq(r->filename_len, strlen(filename));
		ck_assert_str_eq(r->filename, filename);
	}
	ck_assert_str_eq(r->ctype, ctype);
	ck_assert_uint_eq(r->len, len);
	if (len > 0)
		ck_assert_mem_eq(r->data, data, len);
	ck_assert(r->ended);
}

/*
 * Parses body whole, one byte at a time and in random chunks; all must
 * agree.  Returns the whole-body result.
 */
static struct collector *
parse_all_ways(const char *bnd, const char *body, size_t len)
{
	struct collector	*ref, *c;
	uint32_t		 seed = 0x6d70u;
	int			 i;

	ref = run_whole(bnd, body, len);
	c = run_step(bnd, body, len, 1);
	check_same(ref, c, "1-byte chunks");
	collector_free(c);
	for (i = 0; i < 20; i++) {
		c = run_random(bnd, body, len, &seed, i < 10 ? 8 : 100);
		check_same(ref, c, "random chunks");
		collector_free(c);
	}
	return ref;
}

static void
expect_err(const char *bnd, const char *body, size_t len, enum mp_error want)
{
	struct collector	*c = parse_all_ways(bnd, body, len);

	ck_assert_msg(c->err == want, "error %d (%s), not %d (%s)", c->err,
	    mp_strerror(c->err), want, mp_strerror(want));
	ck_assert(!c->done);
	collector_free(c);
}

#define EXPECT_ERR(lit, want)	expect_err(BND, LIT(lit), (want))

#define CD_FIELD(n)	"Content-Disposition: form-data; name=\"" n "\"\r\n"

static const char body_basic[] =
    "--" BND "\r\n"
    CD_FIELD("field")
    "\r\n"
    "value\r\n"
    "--" BND "\r\n"
    "content-disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "hello\r\nworld\r\n"
    "--" BND "--\r\n";

/*
 * Preamble, transport padding, text that nearly is a delimiter, an empty
 * part, binary data and an epilogue holding a delimiter.
 */
static const char body_mixed[] =
    "This is the preamble.\r\n--bound-ar\r\n-- " BND "\r\n"
    "--" BND " \t \r\n"
    CD_FIELD("a")
    "X-Unknown: ignored\r\n"
    "\r\n"
    "x\r\n--bound-ar\r\n--bound-arz--" BND " not after CRLF\r"
    "\n\r\r\n-\r\n--\r\n--b\r\n-\r\r\n-" BND
    "\r\n--" BND "\r\n"
    CD_FIELD("empty")
    "\r\n"
    "\r\n--" BND "\r\n"
    "Content-Disposition: form-data; name=\"bin\"; filename=\"b.bin\"\r\n"
    "Content-Type: application/octet-stream\r\n"
    "\r\n"
    "\0\r\0\n\r\r\n\0--\0\xff\r\n\r\n--"
    "\r\n--" BND "--  \r\n"
    "epilogue\r\n--" BND "\r\n" CD_FIELD("no") "\r\nmore epilogue";

static const char mixed_a[] =
    "x\r\n--bound-ar\r\n--bound-arz--" BND " not after CRLF\r"
    "\n\r\r\n-\r\n--\r\n--b\r\n-\r\r\n-" BND;
static const char mixed_bin[] = "\0\r\0\n\r\r\n\0--\0\xff\r\n\r\n--";

static void
check_basic(const struct collector *c)
{
	ck_assert_int_eq(c->err, MP_OK);
	ck_assert(c->done);
	ck_assert_uint_eq(c->count, 2);
	ck_assert_str_eq(c->events, "BDEBDE");
	check_part(c, 0, "field", NULL, "", LIT("value"));
	check_part(c, 1, "file", "a.txt", "text/plain", LIT("hello\r\nworld"));
}

static void
check_mixed(const struct collector *c)
{
	ck_assert_int_eq(c->err, MP_OK);
	ck_assert(c->done);
	ck_assert_uint_eq(c->count, 3);
	ck_assert_str_eq(c->events, "BDEBEBDE");
	check_part(c, 0, "a", NULL, "", LIT(mixed_a));
	check_part(c, 1, "empty", NULL, "", "", 0);
	check_part(c, 2, "bin", "b.bin", "application/octet-stream",
	    LIT(mixed_bin));
}

/*
 * Every way of cutting body in two, and if three, in three around a short
 * chunk, matches the whole.
 */
static void
check_every_split(const char *body, size_t len, bool three)
{
	struct collector	*ref, *c;
	size_t			 cuts[2];
	char			 how[64];

	ref = run_whole(BND, body, len);
	for (cuts[0] = 0; cuts[0] <= len; cuts[0]++) {
		c = collector_new();
		run_cuts(c, BND, body, len, cuts, 1);
		snprintf(how, sizeof(how), "split at %zu", cuts[0]);
		check_same(ref, c, how);
		collector_free(c);
		if (!three)
			continue;
		/* A short middle chunk: a delimiter over three chunks. */
		for (cuts[1] = cuts[0]; cuts[1] <= len &&
		    cuts[1] <= cuts[0] + DELIM_LEN; cuts[1]++) {
			c = collector_new();
			run_cuts(c, BND, body, len, cuts, 2);
			snprintf(how, sizeof(how), "split at %zu and %zu",
			    cuts[0], cuts[1]);
			check_same(ref, c, how);
			collector_free(c);
		}
	}
	collector_free(ref);
}

/*
 * mp_boundary
 */

static void
expect_boundary(const char *ct, const char *want)
{
	char	 out[MP_BOUNDARY_MAX + 1];

	ck_assert_msg(mp_boundary(ct, out) == MP_OK, "rejected: %s", ct);
	ck_assert_str_eq(out, want);
}

static void
expect_no_boundary(const char *ct)
{
	char	 out[MP_BOUNDARY_MAX + 1];

	ck_assert_msg(mp_boundary(ct, out) == MP_ERR_NO_BOUNDARY,
	    "accepted: %s", ct);
}

#define B70	"0123456789012345678901234567890123456789" \
		"012345678901234567890123456789"

START_TEST(test_boundary_ok)
{
	expect_boundary("multipart/form-data; boundary=abc", "abc");
	expect_boundary("Multipart/Form-Data; charset=x; BOUNDARY=\"a b:c\"",
	    "a b:c");
	expect_boundary("multipart/form-data;boundary="
	    "----WebKitFormBoundary7MA4YWxkTrZu0gW",
	    "----WebKitFormBoundary7MA4YWxkTrZu0gW");
	expect_boundary("  multipart/form-data ; boundary = x ; a=\"b;c\" ",
	    "x");
	expect_boundary("multipart/form-data; boundary=abc;", "abc");
	expect_boundary("multipart/form-data; boundary=\"'()+_,-./:=? x\"",
	    "'()+_,-./:=? x");
	expect_boundary("multipart/form-data; boundary=" B70, B70);
}
END_TEST

START_TEST(test_boundary_ok_parses)
{
	static const char body[] =
	    "--a b:c\r\n" CD_FIELD("f") "\r\nv\r\n--a b:c--";
	char			 b[MP_BOUNDARY_MAX + 1];
	struct collector	*c;

	ck_assert_int_eq(mp_boundary("multipart/form-data; "
	    "boundary=\"a b:c\"", b), MP_OK);
	c = parse_all_ways(b, LIT(body));
	ck_assert_int_eq(c->err, MP_OK);
	check_part(c, 0, "f", NULL, "", LIT("v"));
	collector_free(c);
}
END_TEST

START_TEST(test_err_no_boundary)
{
	expect_no_boundary(NULL);
	expect_no_boundary("");
	expect_no_boundary("text/plain; boundary=abc");
	expect_no_boundary("multipart/mixed; boundary=abc");
	expect_no_boundary("multipart/form-datax; boundary=abc");
	expect_no_boundary("multipart; boundary=abc");
	expect_no_boundary("multipart/form-data");
	expect_no_boundary("multipart/form-data;");
	expect_no_boundary("multipart/form-data; charset=utf-8");
	expect_no_boundary("multipart/form-data boundary=abc");
	expect_no_boundary("multipart/form-data; boundary=");
	expect_no_boundary("multipart/form-data; boundary=\"\"");
	expect_no_boundary("multipart/form-data; boundary=" B70 "1");
	expect_no_boundary("multipart/form-data; boundary=\"" B70 "1\"");
	expect_no_boundary("multipart/form-data; boundary=\"ab \"");
	expect_no_boundary("multipart/form-data; boundary=\"a@b\"");
	expect_no_boundary("multipart/form-data; boundary=a*b");
	expect_no_boundary("multipart/form-data; boundary=\"a\\\"b\"");
	expect_no_boundary("multipart/form-data; boundary=\"abc");
	expect_no_boundary("multipart/form-data; boundary=\"abc\\");
	expect_no_boundary("multipart/form-data; boundary=abc def");
	expect_no_boundary("multipart/form-data; boundary=\"a\tb\"");
	expect_no_boundary("multipart/form-data; boundary=a; boundary=a");
	expect_no_boundary("multipart/form-data; =abc");
	ck_assert_str_ne(mp_strerror(MP_ERR_NO_BOUNDARY), "");
}
END_TEST

/*
 * Well-formed bodies and their content
 */

START_TEST(test_basic)
{
	struct collector	*c = parse_all_ways(BND, LIT(body_basic));

	check_basic(c);
	collector_free(c);
}
END_TEST

START_TEST(test_preamble_epilogue_lookalikes)
{
	struct collector	*c = parse_all_ways(BND, LIT(body_mixed));

	check_mixed(c);
	collector_free(c);
}
END_TEST

START_TEST(test_no_crlf_after_close)
{
	static const char body[] = "--" BND "\r\n" CD_FIELD("f") "\r\n"
	    "--" BND "\r\n--" BND "--";
	struct collector	*c = parse_all_ways(BND, LIT(body));

	ck_assert_int_eq(c->err, MP_OK);
	ck_assert(c->done);
	check_part(c, 0, "f", NULL, "", LIT("--" BND));
	collector_free(c);
}
END_TEST

START_TEST(test_empty_file)
{
	static const char body[] =
	    "--" BND "\r\n"
	    "Content-Disposition: form-data; name=\"f\"; filename=\"\"\r\n"
	    "Content-Type: application/octet-stream\r\n"
	    "\r\n"
	    "\r\n--" BND "--\r\n";
	struct collector	*c = parse_all_ways(BND, LIT(body));

	ck_assert_int_eq(c->err, MP_OK);
	ck_assert_str_eq(c->events, "BE");
	check_part(c, 0, "f", "", "application/octet-stream", "", 0);
	collector_free(c);
}
END_TEST

START_TEST(test_zero_parts)
{
	struct collector	*c = parse_all_ways(BND, LIT("--" BND "--"));

	ck_assert_int_eq(c->err, MP_OK);
	ck_assert(c->done);
	ck_assert_uint_eq(c->count, 0);
	ck_assert_str_eq(c->events, "");
	collector_free(c);
}
END_TEST

/* Data is long and large; CR-dense binary is the worst case for search. */
START_TEST(test_large_binary)
{
	static const char head[] = "--" BND "\r\n" CD_FIELD("big") "\r\n";
	static const char tail[] = "\r\n--" BND "--\r\n";
	const size_t		 n = 1 << 20;
	struct collector	*c;
	uint32_t		 seed = 7;
	char			*body, *data;
	size_t			 i, len;

	len = sizeof(head) - 1 + n + sizeof(tail) - 1;
	ck_assert_ptr_nonnull(body = malloc(len));
	memcpy(body, head, sizeof(head) - 1);
	data = body + sizeof(head) - 1;
	for (i = 0; i < n; i++)
		data[i] = "\r\n-\0b"[rnd(&seed) % 5];
	/* Delimiter prefixes of every length, none complete. */
	for (i = 1; i < DELIM_LEN; i++)
		memcpy(data + i * 1000, "\r\n--" BND, i);
	memcpy(data + n - (DELIM_LEN - 1), "\r\n--" BND, DELIM_LEN - 1);
	memcpy(body + len - (sizeof(tail) - 1), tail, sizeof(tail) - 1);
	c = run_random(BND, body, len, &seed, 70000);
	ck_assert_int_eq(c->err, MP_OK);
	check_part(c, 0, "big", NULL, "", data, n);
	collector_free(c);
	free(body);
}
END_TEST

/*
 * Chunking: the result may not depend on where the body is cut
 */

START_TEST(test_split_basic)
{
	check_every_split(LIT(body_basic), true);
}
END_TEST

START_TEST(test_split_mixed)
{
	check_every_split(LIT(body_mixed), false);
}
END_TEST

START_TEST(test_split_errors)
{
	/* Bad boundary line, inside data, then in the preamble. */
	check_every_split(LIT("--" BND "\r\n" CD_FIELD("f") "\r\nab\r\n--"
	    BND "-x\r\n"), false);
	check_every_split(LIT("pre\r\n--" BND "x\r\n"), false);
	check_every_split(LIT("--" BND "\r\n" CD_FIELD("f") "\r\nab\r\n--"
	    BND), false);
}
END_TEST

START_TEST(test_one_byte_and_random)
{
	struct collector	*c;
	uint32_t		 seed = 42;
	int			 i;

	c = run_step(BND, LIT(body_mixed), 1);
	check_mixed(c);
	collector_free(c);
	for (i = 0; i < 100; i++) {
		c = run_random(BND, LIT(body_mixed), &seed, 1 + i % 40);
		check_mixed(c);
		collector_free(c);
	}
}
END_TEST

/*
 * Data comes in place from the caller's chunk, except bytes held back at a
 * cut as a possible delimiter: fewer than a delimiter per cut.
 */
START_TEST(test_zero_copy)
{
	struct collector	*c;
	size_t			 cut;

	c = run_whole(BND, LIT(body_mixed));
	check_mixed(c);
	ck_assert_uint_eq(c->copied, 0);
	collector_free(c);

	for (cut = 0; cut <= sizeof(body_mixed) - 1; cut++) {
		c = collector_new();
		run_cuts(c, BND, LIT(body_mixed), &cut, 1);
		check_mixed(c);
		ck_assert_uint_lt(c->copied, DELIM_LEN);
		collector_free(c);
	}
}
END_TEST

/* Data streams out before the part ends, less at most a delimiter. */
START_TEST(test_streaming)
{
	static const char head[] = "--" BND "\r\n" CD_FIELD("f") "\r\n";
	struct collector	*c = collector_new();
	struct mp_parser	*p;
	char			 buf[4096];
	int			 i;

	ck_assert_ptr_nonnull(p = mp_new(BND, &collect_cb, c));
	ck_assert_int_eq(mp_feed(p, LIT(head)), MP_OK);
	memset(buf, 'z', sizeof(buf));
	memcpy(buf + sizeof(buf) - (DELIM_LEN - 1), "\r\n--" BND,
	    DELIM_LEN - 1);
	for (i = 0; i < 100; i++) {
		ck_assert_int_eq(mp_feed(p, buf, sizeof(buf)), MP_OK);
		ck_assert_uint_eq(c->parts[0].len,
		    (i + 1) * sizeof(buf) - (DELIM_LEN - 1));
	}
	ck_assert_uint_eq(mp_part_count(p), 1);
	ck_assert(!mp_done(p));
	ck_assert_int_eq(mp_feed(p, LIT("y--")), MP_OK);
	ck_assert(mp_done(p));
	ck_assert_int_eq(mp_finish(p), MP_OK);
	ck_assert_uint_eq(c->parts[0].len, 100 * sizeof(buf) - (DELIM_LEN - 1));
	ck_assert(c->parts[0].ended);
	mp_free(p);
	collector_free(c);
}
END_TEST

/*
 * Part headers and Content-Disposition
 */

static void
expect_filename(const char *cd, const char *name, const char *filename)
{
	char			 body[1024];
	struct collector	*c;
	int			 n;

	n = snprintf(body, sizeof(body), "--" BND "\r\n%s\r\n\r\nd\r\n--" BND
	    "--\r\n", cd);
	ck_assert(n > 0 && (size_t)n < sizeof(body));
	c = parse_all_ways(BND, body, n);
	ck_assert_msg(c->err == MP_OK, "%s: %s", cd, mp_strerror(c->err));
	check_part(c, 0, name, filename, "", LIT("d"));
	collector_free(c);
}

START_TEST(test_filename_quoted)
{
	expect_filename("Content-Disposition: form-data; name=\"f\"; "
	    "filename=\"a \\\"q\\\" \\\\ b;c=d.txt\"", "f",
	    "a \"q\" \\ b;c=d.txt");
	expect_filename("Content-Disposition: form-data; name=\"f\"; "
	    "filename=\"caf\xc3\xa9 \t.txt\"", "f", "caf\xc3\xa9 \t.txt");
	/* A Windows path as browsers and curl send it: bare backslashes. */
	expect_filename("Content-Disposition: form-data; name=\"f\"; "
	    "filename=\"C:\\dir\\b\\f.txt\"", "f", "C:\\dir\\b\\f.txt");
	expect_filename("Content-Disposition: form-data; name=\"\\\"n\\\"\"",
	    "\"n\"", NULL);
}
END_TEST

START_TEST(test_filename_token)
{
	expect_filename("Content-Disposition: form-data; name=f; "
	    "filename=plain.txt", "f", "plain.txt");
	expect_filename("CONTENT-DISPOSITION:Form-Data;NAME=f;FileName=x.c ; ",
	    "f", "x.c");
	expect_filename("Content-Disposition: form-data", "", NULL);
	expect_filename("Content-Disposition: form-data; name=f; size=3; "
	    "x*=UTF-8''%ZZ", "f", NULL);
}
END_TEST

START_TEST(test_filename_ext)
{
	expect_filename("Content-Disposition: form-data; name=f; "
	    "filename*=UTF-8''%E2%82%AC.txt", "f", "\xe2\x82\xac.txt");
	expect_filename("Content-Disposition: form-data; name=f; "
	    "filename*=utf-8'en-GB'%e2%82%ac%20rates.txt", "f",
	    "\xe2\x82\xac rates.txt");
	expect_filename("Content-Disposition: form-data; name=f; "
	    "filename*=US-ASCII''a%2Fb!#$&+-.^_`|~", "f", "a/b!#$&+-.^_`|~");
	expect_filename("Content-Disposition: form-data; name=f; "
	    "filename*=UTF-8''", "f", "");
}
END_TEST

START_TEST(test_filename_ext_wins)
{
	expect_filename("Content-Disposition: form-data; name=f; "
	    "filename=\"euro.txt\"; filename*=UTF-8''%E2%82%AC.txt", "f",
	    "\xe2\x82\xac.txt");
	expect_filename("Content-Disposition: form-data; name=f; "
	    "filename*=UTF-8''%E2%82%AC.txt; filename=\"euro.txt\"", "f",
	    "\xe2\x82\xac.txt");
}
END_TEST

START_TEST(test_headers)
{
	static const char body[] =
	    "--" BND "\r\n"
	    "X-First: 1\r\n"
	    "content-type:   text/plain; charset=\"utf-8\"  \t\r\n"
	    "Content-Transfer-Encoding: binary\r\n"
	    "Content-Disposition: form-data; name=\"t\"\r\n"
	    "\r\n"
	    "text\r\n--" BND "--";
	struct collector	*c = parse_all_ways(BND, LIT(body));

	ck_assert_int_eq(c->err, MP_OK);
	check_part(c, 0, "t", NULL, "text/plain; charset=\"utf-8\"",
	    LIT("text"));
	collector_free(c);
}
END_TEST

/* A one-part body whose headers are prefix then n times 'a'. */
static char *
body_with_line(const char *prefix, size_t n, size_t *lenp)
{
	char	*body, *s;
	size_t	 len;

	len = strlen(prefix) + n + 256;
	ck_assert_ptr_nonnull(body = malloc(len));
	s = body + sprintf(body, "--" BND "\r\n%s", prefix);
	memset(s, 'a', n);
	s += n;
	s += sprintf(s, "\r\n\r\nd\r\n--" BND "--");
	*lenp = s - body;
	return body;
}

START_TEST(test_limits_reached)
{
	struct collector	*c;
	char			*body, *s;
	size_t			 len;
	int			 i;

	/* A header line of exactly MP_HEADER_LINE_MAX. */
	body = body_with_line(CD_FIELD("f") "X-Long: ", MP_HEADER_LINE_MAX - 8,
	    &len);
	c = parse_all_ways(BND, body, len);
	ck_assert_int_eq(c->err, MP_OK);
	collector_free(c);
	free(body);

	/* A Content-Type of exactly MP_CTYPE_MAX. */
	body = body_with_line(CD_FIELD("f") "Content-Type: ", MP_CTYPE_MAX,
	    &len);
	c = parse_all_ways(BND, body, len);
	ck_assert_int_eq(c->err, MP_OK);
	ck_assert_uint_eq(strlen(c->parts[0].ctype), MP_CTYPE_MAX);
	collector_free(c);
	free(body);

	/* MP_HEADERS_MAX lines. */
	ck_assert_ptr_nonnull(body = malloc(4096));
	s = body + sprintf(body, "--" BND "\r\n" CD_FIELD("f"));
	for (i = 1; i < MP_HEADERS_MAX; i++)
		s += sprintf(s, "X-%d: y\r\n", i);
	s += sprintf(s, "\r\n\r\n--" BND "--");
	c = parse_all_ways(BND, body, s - body);
	ck_assert_int_eq(c->err, MP_OK);
	collector_free(c);
	free(body);

	/* MP_PARTS_MAX parts. */
	ck_assert_ptr_nonnull(body = malloc(MP_PARTS_MAX * 128));
	s = body;
	for (i = 0; i < MP_PARTS_MAX; i++)
		s += sprintf(s, "--" BND "\r\n" CD_FIELD("p%d") "\r\n%d\r\n",
		    i, i);
	s += sprintf(s, "--" BND "--");
	c = parse_all_ways(BND, body, s - body);
	ck_assert_int_eq(c->err, MP_OK);
	ck_assert_uint_eq(c->count, MP_PARTS_MAX);
	check_part(c, MP_PARTS_MAX - 1, "p63", NULL, "", LIT("63"));
	collector_free(c);
	free(body);

	/* Name of MP_NAME_MAX, filename of MP_FILENAME_MAX. */
	ck_assert_ptr_nonnull(body = malloc(2 * MP_FILENAME_MAX));
	s = body + sprintf(body, "--" BND "\r\n"
	    "Content-Disposition: form-data; name=");
	memset(s, 'n', MP_NAME_MAX);
	s += MP_NAME_MAX;
	s += sprintf(s, "; filename=\"");
	memset(s, 'f', MP_FILENAME_MAX);
	s += MP_FILENAME_MAX;
	s += sprintf(s, "\"\r\n\r\n\r\n--" BND "--");
	c = run_whole(BND, body, s - body);
	ck_assert_int_eq(c->err, MP_OK);
	ck_assert_uint_eq(strlen(c->parts[0].name), MP_NAME_MAX);
	ck_assert_uint_eq(c->parts[0].filename_len, MP_FILENAME_MAX);
	collector_free(c);
	free(body);
}
END_TEST

/*
 * Errors, one code per test
 */

START_TEST(test_err_no_first_boundary)
{
	EXPECT_ERR("", MP_ERR_NO_FIRST_BOUNDARY);
	EXPECT_ERR("just some text\r\n", MP_ERR_NO_FIRST_BOUNDARY);
	EXPECT_ERR("--other\r\n" CD_FIELD("f") "\r\nv\r\n--other--",
	    MP_ERR_NO_FIRST_BOUNDARY);
	EXPECT_ERR("\r\n--bound-ar", MP_ERR_NO_FIRST_BOUNDARY);
	EXPECT_ERR("x--" BND "\r\n", MP_ERR_NO_FIRST_BOUNDARY);
	EXPECT_ERR("\r--" BND "\r\n", MP_ERR_NO_FIRST_BOUNDARY);
}
END_TEST

START_TEST(test_err_boundary_line)
{
	EXPECT_ERR("--" BND "x\r\n", MP_ERR_BOUNDARY_LINE);
	EXPECT_ERR("--" BND " x\r\n", MP_ERR_BOUNDARY_LINE);
	EXPECT_ERR("--" BND "\rx", MP_ERR_BOUNDARY_LINE);
	EXPECT_ERR("--" BND "\n", MP_ERR_BOUNDARY_LINE);
	EXPECT_ERR("--" BND "-x", MP_ERR_BOUNDARY_LINE);
	EXPECT_ERR("preamble\r\n--" BND "0\r\n", MP_ERR_BOUNDARY_LINE);
	EXPECT_ERR("--" BND "\r\n" CD_FIELD("f") "\r\nv\r\n--" BND "X--",
	    MP_ERR_BOUNDARY_LINE);
}
END_TEST

START_TEST(test_err_header_too_long)
{
	char	*body;
	size_t	 len;

	body = body_with_line(CD_FIELD("f") "X-Long: ", MP_HEADER_LINE_MAX - 7,
	    &len);
	expect_err(BND, body, len, MP_ERR_HEADER_TOO_LONG);
	free(body);
	/* Caught as it streams, without waiting for the line end. */
	body = body_with_line(CD_FIELD("f") "X-Long: ", 2 * MP_HEADER_LINE_MAX,
	    &len);
	len -= 100;
	expect_err(BND, body, len, MP_ERR_HEADER_TOO_LONG);
	free(body);
}
END_TEST

START_TEST(test_err_too_many_headers)
{
	char	 body[4096], *s;
	int	 i;

	s = body + sprintf(body, "--" BND "\r\n" CD_FIELD("f"));
	for (i = 0; i < MP_HEADERS_MAX; i++)
		s += sprintf(s, "X-%d: y\r\n", i);
	s += sprintf(s, "\r\n\r\n--" BND "--");
	expect_err(BND, body, s - body, MP_ERR_TOO_MANY_HEADERS);
}
END_TEST

#define PART_HDR(h)	"--" BND "\r\n" h "\r\n\r\nv\r\n--" BND "--"

START_TEST(test_err_bad_header)
{
	char	*body;
	size_t	 len;

	/* No colon. */
	EXPECT_ERR(PART_HDR(CD_FIELD("f") "No colon here"),
	    MP_ERR_BAD_HEADER);
	/* Control characters, bare CR and LF. */
	EXPECT_ERR(PART_HDR(CD_FIELD("f") "X-A: a\x01"), MP_ERR_BAD_HEADER);
	EXPECT_ERR(PART_HDR(CD_FIELD("f") "X-A: a\x7f"), MP_ERR_BAD_HEADER);
	EXPECT_ERR(PART_HDR(CD_FIELD("f") "X-A: a\0b"), MP_ERR_BAD_HEADER);
	EXPECT_ERR(PART_HDR(CD_FIELD("f") "X-A: a\rb"), MP_ERR_BAD_HEADER);
	EXPECT_ERR("--" BND "\r\n" CD_FIELD("f") "X-A: a\n\r\nv\r\n--" BND
	    "--", MP_ERR_BAD_HEADER);
	/* Bad names, folding. */
	EXPECT_ERR(PART_HDR(CD_FIELD("f") ": a"), MP_ERR_BAD_HEADER);
	EXPECT_ERR(PART_HDR(CD_FIELD("f") "X-A : a"), MP_ERR_BAD_HEADER);
	EXPECT_ERR(PART_HDR(CD_FIELD("f") "X(A): a"), MP_ERR_BAD_HEADER);
	EXPECT_ERR(PART_HDR(CD_FIELD("f") "X-A: a\r\n b: c"),
	    MP_ERR_BAD_HEADER);
	/* Content-Type twice or too long. */
	EXPECT_ERR(PART_HDR(CD_FIELD("f") "Content-Type: a/b\r\n"
	    "Content-Type: a/b"), MP_ERR_BAD_HEADER);
	body = body_with_line(CD_FIELD("f") "Content-Type: ", MP_CTYPE_MAX + 1,
	    &len);
	expect_err(BND, body, len, MP_ERR_BAD_HEADER);
	free(body);
}
END_TEST

START_TEST(test_err_missing_disposition)
{
	EXPECT_ERR(PART_HDR("Content-Type: text/plain"),
	    MP_ERR_BAD_DISPOSITION);
	EXPECT_ERR("--" BND "\r\n\r\nv\r\n--" BND "--",
	    MP_ERR_BAD_DISPOSITION);
	EXPECT_ERR(PART_HDR("Content-Disposition2: form-data; name=f"),
	    MP_ERR_BAD_DISPOSITION);
}
END_TEST

START_TEST(test_err_not_form_data)
{
	EXPECT_ERR(PART_HDR("Content-Disposition: attachment; name=f"),
	    MP_ERR_BAD_DISPOSITION);
	EXPECT_ERR(PART_HDR("Content-Disposition: form-datax; name=f"),
	    MP_ERR_BAD_DISPOSITION);
	EXPECT_ERR(PART_HDR("Content-Disposition: ; name=f"),
	    MP_ERR_BAD_DISPOSITION);
	EXPECT_ERR(PART_HDR("Content-Disposition:"), MP_ERR_BAD_DISPOSITION);
}
END_TEST

START_TEST(test_err_bad_percent)
{
	EXPECT_ERR(PART_HDR("Content-Disposition: form-data; name=f; "
	    "filename*=UTF-8''a%2"), MP_ERR_BAD_DISPOSITION);
	EXPECT_ERR(PART_HDR("Content-Disposition: form-data; name=f; "
	    "filename*=UTF-8''a%G0"), MP_ERR_BAD_DISPOSITION);
	EXPECT_ERR(PART_HDR("Content-Disposition: form-data; name=f; "
	    "filename*=UTF-8''a%"), MP_ERR_BAD_DISPOSITION);
	/* Decodes to a NUL. */
	EXPECT_ERR(PART_HDR("Content-Disposition: form-data; name=f; "
	    "filename*=UTF-8''a%00b"), MP_ERR_BAD_DISPOSITION);
}
END_TEST

START_TEST(test_err_bad_disposition_params)
{
	char	*body;
	size_t	 len;

	/* Unterminated quotes. */
	EXPECT_ERR(PART_HDR("Content-Disposition: form-data; name=\"f"),
	    MP_ERR_BAD_DISPOSITION);
	EXPECT_ERR(PART_HDR("Content-Disposition: form-data; name=f; "
	    "filename=\"a\\"), MP_ERR_BAD_DISPOSITION);
	/* ext-value: charset, form, characters. */
	EXPECT_ERR(PART_HDR("Content-Disposition: form-data; name=f; "
	    "filename*=ISO-8859-1''%A3"), MP_ERR_BAD_DISPOSITION);
	EXPECT_ERR(PART_HDR("Content-Disposition: form-data; name=f; "
	    "filename*=US-ASCII''%E2%82%AC"), MP_ERR_BAD_DISPOSITION);
	EXPECT_ERR(PART_HDR("Content-Disposition: form-data; name=f; "
	    "filename*=UTF-8'%E2"), MP_ERR_BAD_DISPOSITION);
	EXPECT_ERR(PART_HDR("Content-Disposition: form-data; name=f; "
	    "filename*=UTF-8''a*b"), MP_ERR_BAD_DISPOSITION);
	EXPECT_ERR(PART_HDR("Content-Disposition: form-data; name=f; "
	    "filename*=UTF-8'e_n'a"), MP_ERR_BAD_DISPOSITION);
	EXPECT_ERR(PART_HDR("Content-Disposition: form-data; name=f; "
	    "filename*=\"UTF-8''a\""), MP_ERR_BAD_DISPOSITION);
	/* Syntax, repeats. */
	EXPECT_ERR(PART_HDR("Content-Disposition: form-data; name=a b"),
	    MP_ERR_BAD_DISPOSITION);
	EXPECT_ERR(PART_HDR("Content-Disposition: form-data; name"),
	    MP_ERR_BAD_DISPOSITION);
	EXPECT_ERR(PART_HDR("Content-Disposition: form-data name=f"),
	    MP_ERR_BAD_DISPOSITION);
	EXPECT_ERR(PART_HDR("Content-Disposition: form-data; filename=a b"),
	    MP_ERR_BAD_DISPOSITION);
	EXPECT_ERR(PART_HDR("Content-Disposition: form-data; name=a; name=b"),
	    MP_ERR_BAD_DISPOSITION);
	EXPECT_ERR(PART_HDR(CD_FIELD("a") CD_FIELD("b")),
	    MP_ERR_BAD_DISPOSITION);
	/* Over the caps. */
	body = body_with_line("X: y\r\nContent-Disposition: form-data; name=",
	    MP_NAME_MAX + 1, &len);
	expect_err(BND, body, len, MP_ERR_BAD_DISPOSITION);
	free(body);
	body = body_with_line("X: y\r\nContent-Disposition: form-data; "
	    "filename=", MP_FILENAME_MAX + 1, &len);
	expect_err(BND, body, len, MP_ERR_BAD_DISPOSITION);
	free(body);
}
END_TEST

START_TEST(test_err_too_many_parts)
{
	char			*body, *s;
	struct collector	*c;
	int			 i;

	ck_assert_ptr_nonnull(body = malloc((MP_PARTS_MAX + 1) * 128));
	s = body;
	for (i = 0; i <= MP_PARTS_MAX; i++)
		s += sprintf(s, "--" BND "\r\n" CD_FIELD("p%d") "\r\n%d\r\n",
		    i, i);
	s += sprintf(s, "--" BND "--");
	expect_err(BND, body, s - body, MP_ERR_TOO_MANY_PARTS);
	/* Refused at the extra boundary, the last allowed part complete. */
	c = run_whole(BND, body, s - body);
	ck_assert_uint_eq(c->count, MP_PARTS_MAX);
	ck_assert(c->parts[MP_PARTS_MAX - 1].ended);
	collector_free(c);
	free(body);
}
END_TEST

START_TEST(test_err_truncated)
{
	struct collector	*c;

	EXPECT_ERR("--" BND, MP_ERR_TRUNCATED);
	EXPECT_ERR("--" BND "  ", MP_ERR_TRUNCATED);
	EXPECT_ERR("--" BND "-", MP_ERR_TRUNCATED);
	EXPECT_ERR("--" BND "\r\n", MP_ERR_TRUNCATED);
	EXPECT_ERR("--" BND "\r\nContent-Dispo", MP_ERR_TRUNCATED);
	EXPECT_ERR("--" BND "\r\n" CD_FIELD("f") "\r\nval", MP_ERR_TRUNCATED);
	EXPECT_ERR("--" BND "\r\n" CD_FIELD("f") "\r\nval\r\n--bound",
	    MP_ERR_TRUNCATED);
	/* No closing "--": the last part is never ended. */
	c = run_whole(BND, LIT("--" BND "\r\n" CD_FIELD("f") "\r\nval\r\n--"
	    BND "\r\n"));
	ck_assert_int_eq(c->err, MP_ERR_TRUNCATED);
	ck_assert_str_eq(c->events, "BDE");
	collector_free(c);
	c = run_whole(BND, LIT("--" BND "\r\n" CD_FIELD("f") "\r\nval\r\n--"
	    BND));
	ck_assert_int_eq(c->err, MP_ERR_TRUNCATED);
	ck_assert_str_eq(c->events, "BD");
	collector_free(c);
}
END_TEST

/* Aborting from each callback stops everything at once. */
START_TEST(test_err_aborted)
{
	struct collector	*c;
	int			 which;

	for (which = 0; which < 3; which++) {
		c = collector_new();
		if (which == 0)
			c->abort_begin = 2;
		else if (which == 1)
			c->abort_data = 2;
		else
			c->abort_end = 1;
		run_cuts(c, BND, LIT(body_basic), NULL, 0);
		ck_assert_int_eq(c->err, MP_ERR_ABORTED);
		ck_assert(c->aborted);
		ck_assert_uint_eq(c->calls_after_abort, 0);
		ck_assert(!c->done);
		ck_assert_str_eq(c->events,
		    which == 0 ? "BDEB" : which == 1 ? "BDEBD" : "BDE");
		collector_free(c);
	}
}
END_TEST

START_TEST(test_err_sticky)
{
	struct collector	*c = collector_new();
	struct mp_parser	*p;

	ck_assert_ptr_nonnull(p = mp_new(BND, &collect_cb, c));
	ck_assert_int_eq(mp_feed(p, LIT("--" BND "\r\n" CD_FIELD("f")
	    "\r\nab")), MP_OK);
	ck_assert_int_eq(mp_feed(p, LIT("\r\n--" BND "x")),
	    MP_ERR_BOUNDARY_LINE);
	ck_assert_int_eq(mp_feed(p, LIT("\r\n--" BND "--")),
	    MP_ERR_BOUNDARY_LINE);
	ck_assert_int_eq(mp_finish(p), MP_ERR_BOUNDARY_LINE);
	ck_assert(!mp_done(p));
	ck_assert_str_eq(c->events, "BD");
	mp_free(p);

	/* A failed mp_finish stays failed too. */
	ck_assert_ptr_nonnull(p = mp_new(BND, NULL, NULL));
	ck_assert_int_eq(mp_finish(p), MP_ERR_NO_FIRST_BOUNDARY);
	ck_assert_int_eq(mp_feed(p, LIT("--" BND "--")),
	    MP_ERR_NO_FIRST_BOUNDARY);
	mp_free(p);
	collector_free(c);
}
END_TEST

/*
 * API odds and ends
 */

START_TEST(test_strerror)
{
	int	 i, j;

	for (i = 0; i < MP_ERR__MAX; i++) {
		ck_assert_ptr_nonnull(mp_strerror(i));
		ck_assert_uint_gt(strlen(mp_strerror(i)), 5);
		for (j = 0; j < i; j++)
			ck_assert_str_ne(mp_strerror(i), mp_strerror(j));
	}
	ck_assert_str_eq(mp_strerror(MP_ERR_TRUNCATED),
	    "multipart body ended before the closing boundary");
	ck_assert_ptr_nonnull(mp_strerror(MP_ERR__MAX));
	ck_assert_ptr_nonnull(mp_strerror((enum mp_error)-1));
}
END_TEST

START_TEST(test_new_free)
{
	static const struct mp_callbacks none = { NULL, NULL, NULL };
	struct mp_parser	*p;

	mp_free(NULL);
	ck_assert_ptr_null(mp_new(NULL, NULL, NULL));
	ck_assert_ptr_null(mp_new("", NULL, NULL));
	ck_assert_ptr_null(mp_new(B70 "1", NULL, NULL));
	ck_assert_ptr_null(mp_new("a\r\nb", NULL, NULL));
	ck_assert_ptr_nonnull(p = mp_new(B70, NULL, NULL));
	mp_free(p);

	/* No callbacks at all, then all NULL. */
	ck_assert_ptr_nonnull(p = mp_new(BND, NULL, NULL));
	ck_assert_int_eq(mp_feed(p, LIT(body_mixed)), MP_OK);
	ck_assert_int_eq(mp_finish(p), MP_OK);
	ck_assert_uint_eq(mp_part_count(p), 3);
	mp_free(p);
	ck_assert_ptr_nonnull(p = mp_new(BND, &none, NULL));
	ck_assert_int_eq(mp_feed(p, LIT(body_mixed)), MP_OK);
	ck_assert_int_eq(mp_finish(p), MP_OK);
	mp_free(p);
}
END_TEST

START_TEST(test_progress)
{
	struct mp_parser	*p;

	ck_assert_ptr_nonnull(p = mp_new(BND, NULL, NULL));
	ck_assert_uint_eq(mp_part_count(p), 0);
	ck_assert_int_eq(mp_feed(p, NULL, 0), MP_OK);
	ck_assert_int_eq(mp_feed(p, LIT("--" BND "\r\n" CD_FIELD("f"))),
	    MP_OK);
	ck_assert_uint_eq(mp_part_count(p), 0);
	ck_assert_int_eq(mp_feed(p, LIT("\r\nv\r\n--" BND "\r\n"
	    CD_FIELD("g") "\r\n")), MP_OK);
	ck_assert_uint_eq(mp_part_count(p), 2);
	ck_assert(!mp_done(p));
	ck_assert_int_eq(mp_feed(p, LIT("w\r\n--" BND "--")), MP_OK);
	ck_assert(mp_done(p));
	/* The epilogue is ignored, whatever it holds. */
	ck_assert_int_eq(mp_feed(p, LIT("\r\n--" BND "x\r\n\0")), MP_OK);
	ck_assert_int_eq(mp_finish(p), MP_OK);
	ck_assert_uint_eq(mp_part_count(p), 2);
	mp_free(p);
}
END_TEST

static Suite *
multipart_suite(void)
{
	Suite	*s = suite_create("multipart");
	TCase	*tc;

	tc = tcase_create("boundary");
	tcase_add_test(tc, test_boundary_ok);
	tcase_add_test(tc, test_boundary_ok_parses);
	tcase_add_test(tc, test_err_no_boundary);
	suite_add_tcase(s, tc);

	tc = tcase_create("content");
	tcase_add_test(tc, test_basic);
	tcase_add_test(tc, test_preamble_epilogue_lookalikes);
	tcase_add_test(tc, test_no_crlf_after_close);
	tcase_add_test(tc, test_empty_file);
	tcase_add_test(tc, test_zero_parts);
	tcase_add_test(tc, test_large_binary);
	suite_add_tcase(s, tc);

	tc = tcase_create("chunking");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_split_basic);
	tcase_add_test(tc, test_split_mixed);
	tcase_add_test(tc, test_split_errors);
	tcase_add_test(tc, test_one_byte_and_random);
	tcase_add_test(tc, test_zero_copy);
	tcase_add_test(tc, test_streaming);
	suite_add_tcase(s, tc);

	tc = tcase_create("headers");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_filename_quoted);
	tcase_add_test(tc, test_filename_token);
	tcase_add_test(tc, test_filename_ext);
	tcase_add_test(tc, test_filename_ext_wins);
	tcase_add_test(tc, test_headers);
	tcase_add_test(tc, test_limits_reached);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_err_no_first_boundary);
	tcase_add_test(tc, test_err_boundary_line);
	tcase_add_test(tc, test_err_header_too_long);
	tcase_add_test(tc, test_err_too_many_headers);
	tcase_add_test(tc, test_err_bad_header);
	tcase_add_test(tc, test_err_missing_disposition);
	tcase_add_test(tc, test_err_not_form_data);
	tcase_add_test(tc, test_err_bad_percent);
	tcase_add_test(tc, test_err_bad_disposition_params);
	tcase_add_test(tc, test_err_too_many_parts);
	tcase_add_test(tc, test_err_truncated);
	tcase_add_test(tc, test_err_aborted);
	tcase_add_test(tc, test_err_sticky);
	suite_add_tcase(s, tc);

	tc = tcase_create("api");
	tcase_add_test(tc, test_strerror);
	tcase_add_test(tc, test_new_free);
	tcase_add_test(tc, test_progress);
	suite_add_tcase(s, tc);

	return s;
}

TEST_MAIN(multipart_suite)
