/*
 * Unit tests of the hash thread (hashpipe): whatever the slicing, buffer
 * reuse and fallbacks, the digest is the one-shot digest of the same bytes.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "hashpipe.h"
#include "testutil.h"

/* More than HASHPIPE_BUFS buffers' worth: each is handed out again. */
#define BODY_LEN	((HASHPIPE_BUFS + 3) * HASHPIPE_BUF_SIZE + 12345)

enum slicing {
	SLICES_LARGE,		/* a few slices per buffer */
	SLICES_OUTSIDE,		/* small slices from outside the buffer, too */
	SLICES_MANY,		/* more slices than a buffer keeps: fallback */
	SLICES_OUTSIDE_BIG,	/* more outside bytes than it copies: fallback */
};

static unsigned char	*body;
static char		 expected[HASH_HEX_LEN + 1];
static struct hashpipe	*threaded, *single;

static void
setup(void)
{
	struct hash_ctx	 h;
	uint32_t	 x = 2463534242u;
	size_t		 i;

	ck_assert_ptr_nonnull(body = malloc(BODY_LEN));
	for (i = 0; i < BODY_LEN; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		body[i] = (unsigned char)x;
	}
	hash_init(&h);
	hash_update(&h, body, BODY_LEN);
	hash_final_hex(&h, expected);
	ck_assert_ptr_nonnull(threaded = hashpipe_new(true));
	ck_assert_ptr_nonnull(single = hashpipe_new(false));
}

static void
teardown(void)
{
	free(body);
	hashpipe_free(threaded);
	hashpipe_free(single);
}

static size_t
slice_len(enum slicing how)
{
	switch (how) {
	case SLICES_MANY:
		return 1 + (size_t)(random() % 64);
	case SLICES_OUTSIDE:
	case SLICES_OUTSIDE_BIG:
		return 1 + (size_t)(random() % 200);
	default:
		return 1 + (size_t)(random() % 100000);
	}
}

/* Streams body through the pipe as upload.c does; the digest into hex. */
static void
pipe_digest(struct hashpipe *p, enum slicing how, char hex[HASH_HEX_LEN + 1])
{
	struct hash_ctx	 h;
	size_t		 off = 0, n, i, s;
	char		*buf;

	hash_init(&h);
	hashpipe_begin(p, &h);
	while (off < BODY_LEN) {
		buf = hashpipe_buffer(p);
		/* Unfilled buffers are what a short read gives. */
		n = HASHPIPE_BUF_SIZE - (size_t)(random() % 4096);
		if (n > BODY_LEN - off)
			n = BODY_LEN - off;
		memcpy(buf, body + off, n);
		/* Bytes past n are not the body: never hashed. */
		memset(buf + n, 0xa5, HASHPIPE_BUF_SIZE - n);
		for (i = 0; i < n; i += s) {
			s = slice_len(how);
			if (s > n - i)
				s = n - i;
			if ((how == SLICES_OUTSIDE && s <= 80) ||
			    how == SLICES_OUTSIDE_BIG)
				hashpipe_add(p, body + off + i, s);
			else
				hashpipe_add(p, buf + i, s);
		}
		hashpipe_submit(p);
		off += n;
	}
	hashpipe_end(p);
	hash_final_hex(&h, hex);
}

START_TEST(test_thread_matches_one_shot)
{
	static const enum slicing hows[] = { SLICES_LARGE, SLICES_OUTSIDE,
	    SLICES_MANY, SLICES_OUTSIDE_BIG };
	char	 hex[HASH_HEX_LEN + 1];

	srandom(20261129 + _i);
	pipe_digest(threaded, hows[_i], hex);
	ck_assert_str_eq(hex, expected);
}
END_TEST

START_TEST(test_inline_matches_one_shot)
{
	char	 hex[HASH_HEX_LEN + 1];

	srandom(7);
	pipe_digest(single, SLICES_OUTSIDE, hex);
	ck_assert_str_eq(hex, expected);
}
END_TEST

START_TEST(test_bodies_in_sequence)
{
	char	 hex[HASH_HEX_LEN + 1];
	int	 round;

	/* A fallback in one body must not leak into the next. */
	srandom(11);
	for (round = 0; round < 3; round++) {
		pipe_digest(threaded, SLICES_MANY, hex);
		ck_assert_str_eq(hex, expected);
		pipe_digest(threaded, SLICES_LARGE, hex);
		ck_assert_str_eq(hex, expected);
		pipe_digest(single, SLICES_LARGE, hex);
		ck_assert_str_eq(hex, expected);
	}
}
END_TEST

START_TEST(test_buffer_again_unsubmitted)
{
	struct hash_ctx	 h;
	char		 hex[HASH_HEX_LEN + 1], *a, *b;

	/* An empty read hands the same buffer back; it counts for nothing. */
	hash_init(&h);
	hashpipe_begin(threaded, &h);
	a = hashpipe_buffer(threaded);
	b = hashpipe_buffer(threaded);
	ck_assert_ptr_eq(a, b);
	memcpy(a, "hello\n", 6);
	hashpipe_add(threaded, a, 6);
	hashpipe_submit(threaded);
	(void)hashpipe_buffer(threaded);
	hashpipe_end(threaded);
	hash_final_hex(&h, hex);
	ck_assert_str_eq(hex,
	    "93becc6e9882211c3ec3708c95bcd69baab7bb59c7f4bc84ce637b88a534b783");
}
END_TEST

/* Two threads' bodies through the pool at once (helgrind watches this). */
static void *
pool_body(void *arg)
{
	char	*hex = arg;

	struct hashpipe	*p = hashpipe_take(true);

	ck_assert_ptr_nonnull(p);
	pipe_digest(p, SLICES_LARGE, hex);
	hashpipe_give(p);
	return NULL;
}

START_TEST(test_pool_lends_each_pipe_once)
{
	struct hashpipe	*a, *b, *c, *mine;
	pthread_t	 t[2];
	char		 hex[2][HASH_HEX_LEN + 1];
	int		 i;

	ck_assert_int_eq(hashpipe_pool_start(2), 2);
	a = hashpipe_take(true);
	b = hashpipe_take(true);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_ne(a, b);
	/* All lent: a large body falls back to the thread's inline pipe. */
	mine = hashpipe_take(true);
	ck_assert_ptr_nonnull(mine);
	ck_assert_ptr_ne(mine, a);
	ck_assert_ptr_ne(mine, b);
	ck_assert_ptr_eq(hashpipe_take(false), mine);
	hashpipe_give(mine);
	hashpipe_give(a);
	c = hashpipe_take(true);
	ck_assert_ptr_eq(c, a);
	hashpipe_give(c);
	hashpipe_give(b);

	for (i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, pool_body,
		    hex[i]), 0);
	for (i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		ck_assert_str_eq(hex[i], expected);
	}
	hashpipe_pool_stop();
}
END_TEST

static Suite *
hashpipe_suite(void)
{
	Suite	*s = suite_create("hashpipe");
	TCase	*tc;

	tc = tcase_create("digests");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_thread_matches_one_shot, 0, 4);
	tcase_add_test(tc, test_inline_matches_one_shot);
	tcase_add_test(tc, test_bodies_in_sequence);
	tcase_add_test(tc, test_buffer_again_unsubmitted);
	tcase_add_test(tc, test_pool_lends_each_pipe_once);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(hashpipe_suite)
