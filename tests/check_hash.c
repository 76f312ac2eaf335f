/*
 * Unit tests of the file identity: BLAKE2b-256 as lowercase hex (vectors
 * checked with `b2sum -l 256`), streaming, and hash_parse.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "testutil.h"

#define PATTERN_LEN	100000

static const char hash_a[] =
    "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8";
static const char hash_upper[] =
    "0E5751C026E543B2E8AB2EB06099DAA1D1E5DF47778F7787FAAB45CDF12FE3A8";

static const struct {
	const char	*data;
	size_t		 len;
	const char	*hex;
} vectors[] = {
	{ "", 0,
	  "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8" },
	{ "hello\n", 6,
	  "93becc6e9882211c3ec3708c95bcd69baab7bb59c7f4bc84ce637b88a534b783" },
	{ "abc", 3,
	  "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319" },
	{ "The quick brown fox jumps over the lazy dog", 43,
	  "01718cec35cd3d796dd00020e0bfecb473ad23457d063b75eff29c0ffa2e58a9" },
	{ "\0", 1,
	  "03170a2e7597b7b7e3d84c05391d139a62b157e78786d8c082f29dcf4c111314" },
};

/* b2sum -l 256 of bytes (i * 7 + 3) % 251, i < 100000. */
static const char pattern_hex[] =
    "6b704932a175d8cd18d1efd0b707d636e0044d0414fd154e5ea7c4b2abaeff37";
/* b2sum -l 256 of 1000000 'a'. */
static const char million_a_hex[] =
    "0741850f36cba4259628355d1073e24ddb9ca0e1bfac36fd39ae5dc2101e23a4";

static unsigned char *
pattern(void)
{
	unsigned char	*p;
	size_t		 i;

	ck_assert_ptr_nonnull(p = malloc(PATTERN_LEN));
	for (i = 0; i < PATTERN_LEN; i++)
		p[i] = (unsigned char)((i * 7 + 3) % 251);
	return p;
}

static void
one_shot(const void *buf, size_t len, char hex[HASH_HEX_LEN + 1])
{
	struct hash_ctx	 h;

	hash_init(&h);
	hash_update(&h, buf, len);
	hash_final_hex(&h, hex);
}

static void
assert_lower_hex(const char *hex)
{
	size_t	 i;

	ck_assert_uint_eq(strlen(hex), HASH_HEX_LEN);
	for (i = 0; i < HASH_HEX_LEN; i++)
		ck_assert_msg((hex[i] >= '0' && hex[i] <= '9') ||
		    (hex[i] >= 'a' && hex[i] <= 'f'),
		    "digit %zu of %s is not lowercase hex", i, hex);
}

/* --- vectors --- */

START_TEST(test_vectors)
{
	char	 hex[HASH_HEX_LEN + 1];

	memset(hex, 'x', sizeof(hex));
	one_shot(vectors[_i].data, vectors[_i].len, hex);
	ck_assert_str_eq(hex, vectors[_i].hex);
	assert_lower_hex(hex);
}
END_TEST

START_TEST(test_vector_pattern)
{
	unsigned char	*p = pattern();
	char		 hex[HASH_HEX_LEN + 1];

	one_shot(p, PATTERN_LEN, hex);
	ck_assert_str_eq(hex, pattern_hex);
	free(p);
}
END_TEST

START_TEST(test_vector_million_a)
{
	char	*p;
	char	 hex[HASH_HEX_LEN + 1];

	ck_assert_ptr_nonnull(p = malloc(1000000));
	memset(p, 'a', 1000000);
	one_shot(p, 1000000, hex);
	ck_assert_str_eq(hex, million_a_hex);
	free(p);
}
END_TEST

START_TEST(test_different_inputs_differ)
{
	char	 a[HASH_HEX_LEN + 1], b[HASH_HEX_LEN + 1];

	one_shot("hello", 5, a);
	one_shot("hellp", 5, b);
	ck_assert_str_ne(a, b);
	/* The length counts: "" and "\0" are different files. */
	one_shot("", 0, a);
	one_shot("", 1, b);
	ck_assert_str_ne(a, b);
}
END_TEST

/* --- streaming --- */

START_TEST(test_stream_fixed_pieces)
{
	static const size_t	 sizes[] = { 1, 2, 3, 7, 64, 127, 128, 129,
	    1000, 4096, 65536, PATTERN_LEN };
	unsigned char		*p = pattern();
	struct hash_ctx		 h;
	char			 hex[HASH_HEX_LEN + 1];
	size_t			 i, off, n;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		hash_init(&h);
		for (off = 0; off < PATTERN_LEN; off += n) {
			n = sizes[i];
			if (n > PATTERN_LEN - off)
				n = PATTERN_LEN - off;
			hash_update(&h, p + off, n);
		}
		hash_final_hex(&h, hex);
		ck_assert_msg(strcmp(hex, pattern_hex) == 0,
		    "pieces of %zu: %s", sizes[i], hex);
	}
	free(p);
}
END_TEST

START_TEST(test_stream_random_pieces)
{
	unsigned char	*p = pattern();
	struct hash_ctx	 h;
	char		 hex[HASH_HEX_LEN + 1];
	size_t		 off, n;
	int		 round;

	srandom(20261128);
	for (round = 0; round < 20; round++) {
		hash_init(&h);
		for (off = 0; off < PATTERN_LEN; off += n) {
			/* Empty updates in between must change nothing. */
			n = (size_t)(random() % 3000);
			if (n > PATTERN_LEN - off)
				n = PATTERN_LEN - off;
			hash_update(&h, p + off, n);
		}
		hash_final_hex(&h, hex);
		ck_assert_str_eq(hex, pattern_hex);
	}
	free(p);
}
END_TEST

START_TEST(test_stream_empty_updates)
{
	struct hash_ctx	 h;
	char		 hex[HASH_HEX_LEN + 1];

	hash_init(&h);
	hash_update(&h, "", 0);
	hash_update(&h, "hel", 3);
	hash_update(&h, "", 0);
	hash_update(&h, "lo\n", 3);
	hash_final_hex(&h, hex);
	ck_assert_str_eq(hex, vectors[1].hex);

	hash_init(&h);
	hash_final_hex(&h, hex);
	ck_assert_str_eq(hex, hash_a);
}
END_TEST

START_TEST(test_stream_reinit)
{
	struct hash_ctx	 h;
	char		 hex[HASH_HEX_LEN + 1];

	/* A context is reusable after hash_init, with no trace of before. */
	hash_init(&h);
	hash_update(&h, "garbage", 7);
	hash_final_hex(&h, hex);
	hash_init(&h);
	hash_update(&h, "abc", 3);
	hash_final_hex(&h, hex);
	ck_assert_str_eq(hex, vectors[2].hex);
}
END_TEST

/* --- hash_parse --- */

START_TEST(test_parse_lower)
{
	char	 out[HASH_HEX_LEN + 1];

	memset(out, 'x', sizeof(out));
	ck_assert(hash_parse(hash_a, HASH_HEX_LEN, out));
	ck_assert_str_eq(out, hash_a);
}
END_TEST

START_TEST(test_parse_upper_and_mixed)
{
	char	 out[HASH_HEX_LEN + 1], mixed[HASH_HEX_LEN + 1];
	size_t	 i;

	ck_assert(hash_parse(hash_upper, HASH_HEX_LEN, out));
	ck_assert_str_eq(out, hash_a);
	for (i = 0; i < HASH_HEX_LEN; i++)
		mixed[i] = i % 2 ? hash_upper[i] : hash_a[i];
	mixed[HASH_HEX_LEN] = '\0';
	memset(out, 0, sizeof(out));
	ck_assert(hash_parse(mixed, HASH_HEX_LEN, out));
	ck_assert_str_eq(out, hash_a);
}
END_TEST

START_TEST(test_parse_all_digits)
{
	const char	*digits = "0123456789abcdefABCDEF";
	char		 in[HASH_HEX_LEN + 1], out[HASH_HEX_LEN + 1];
	char		 want[HASH_HEX_LEN + 1];
	size_t		 i;

	for (i = 0; i < HASH_HEX_LEN; i++) {
		in[i] = digits[i % 22];
		want[i] = in[i] >= 'A' && in[i] <= 'F' ? in[i] - 'A' + 'a' :
		    in[i];
	}
	in[HASH_HEX_LEN] = want[HASH_HEX_LEN] = '\0';
	ck_assert(hash_parse(in, HASH_HEX_LEN, out));
	ck_assert_str_eq(out, want);
}
END_TEST

START_TEST(test_parse_lengths)
{
	char	 in[HASH_HEX_LEN + 2], out[HASH_HEX_LEN + 1];

	memcpy(in, hash_a, HASH_HEX_LEN);
	in[HASH_HEX_LEN] = 'a';
	in[HASH_HEX_LEN + 1] = '\0';
	ck_assert(!hash_parse(in, HASH_HEX_LEN - 1, out));
	ck_assert(!hash_parse(in, HASH_HEX_LEN + 1, out));
	ck_assert(!hash_parse(in, 0, out));
	ck_assert(!hash_parse("", 0, out));
	ck_assert(!hash_parse(NULL, HASH_HEX_LEN, out));
	/* The length given is what counts, not where a NUL is. */
	ck_assert(hash_parse(in, HASH_HEX_LEN, out));
	ck_assert_str_eq(out, hash_a);
}
END_TEST

START_TEST(test_parse_bad_chars)
{
	static const char	 bad[] = "gGxz -+/:@`[{\x7f\x80\xff";
	char			 in[HASH_HEX_LEN + 1];
	char			 out[HASH_HEX_LEN + 1];
	size_t			 i, pos;

	for (i = 0; i < sizeof(bad) - 1; i++)
		for (pos = 0; pos < HASH_HEX_LEN; pos += 21) {
			memcpy(in, hash_a, sizeof(in));
			in[pos] = bad[i];
			ck_assert_msg(!hash_parse(in, HASH_HEX_LEN, out),
			    "0x%02x at %zu accepted", (unsigned char)bad[i],
			    pos);
		}
	memcpy(in, hash_a, sizeof(in));
	in[HASH_HEX_LEN - 1] = 'g';
	ck_assert(!hash_parse(in, HASH_HEX_LEN, out));
}
END_TEST

START_TEST(test_parse_embedded_nul)
{
	char	 in[HASH_HEX_LEN + 1], out[HASH_HEX_LEN + 1];

	memcpy(in, hash_a, sizeof(in));
	in[10] = '\0';
	ck_assert(!hash_parse(in, HASH_HEX_LEN, out));
	memcpy(in, hash_a, sizeof(in));
	in[HASH_HEX_LEN - 1] = '\0';
	ck_assert(!hash_parse(in, HASH_HEX_LEN, out));
}
END_TEST

START_TEST(test_parse_out_untouched)
{
	char	 out[HASH_HEX_LEN + 1], in[HASH_HEX_LEN + 1];
	size_t	 i;

	memset(out, 'Q', sizeof(out));
	memcpy(in, hash_upper, sizeof(in));
	in[HASH_HEX_LEN - 1] = 'G';	/* fails after 63 good digits */
	ck_assert(!hash_parse(in, HASH_HEX_LEN, out));
	ck_assert(!hash_parse(hash_a, HASH_HEX_LEN - 1, out));
	ck_assert(!hash_parse(NULL, HASH_HEX_LEN, out));
	for (i = 0; i < sizeof(out); i++)
		ck_assert_int_eq(out[i], 'Q');
}
END_TEST

START_TEST(test_parse_in_place)
{
	char	 buf[HASH_HEX_LEN + 1];

	/* The path buffer may be parsed into itself. */
	memcpy(buf, hash_upper, sizeof(buf));
	ck_assert(hash_parse(buf, HASH_HEX_LEN, buf));
	ck_assert_str_eq(buf, hash_a);
}
END_TEST

START_TEST(test_parse_roundtrip)
{
	char	 hex[HASH_HEX_LEN + 1], out[HASH_HEX_LEN + 1];

	one_shot("roundtrip", 9, hex);
	ck_assert(hash_parse(hex, strlen(hex), out));
	ck_assert_str_eq(out, hex);
}
END_TEST

/* The fast code libsodium picks once initialised gives the same digests. */
static void
library_init(void)
{
	ck_assert_int_eq(hash_library_init(), 0);
}

static void
add_vector_tests(TCase *tc)
{
	tcase_add_loop_test(tc, test_vectors, 0,
	    sizeof(vectors) / sizeof(vectors[0]));
	tcase_add_test(tc, test_vector_pattern);
	tcase_add_test(tc, test_vector_million_a);
}

static Suite *
hash_suite(void)
{
	Suite	*s = suite_create("hash");
	TCase	*tc;

	tc = tcase_create("vectors");
	add_vector_tests(tc);
	tcase_add_test(tc, test_different_inputs_differ);
	suite_add_tcase(s, tc);

	tc = tcase_create("vectors, library initialised");
	tcase_add_checked_fixture(tc, library_init, NULL);
	add_vector_tests(tc);
	tcase_add_test(tc, test_stream_random_pieces);
	suite_add_tcase(s, tc);

	tc = tcase_create("streaming");
	tcase_add_test(tc, test_stream_fixed_pieces);
	tcase_add_test(tc, test_stream_random_pieces);
	tcase_add_test(tc, test_stream_empty_updates);
	tcase_add_test(tc, test_stream_reinit);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse");
	tcase_add_test(tc, test_parse_lower);
	tcase_add_test(tc, test_parse_upper_and_mixed);
	tcase_add_test(tc, test_parse_all_digits);
	tcase_add_test(tc, test_parse_lengths);
	tcase_add_test(tc, test_parse_bad_chars);
	tcase_add_test(tc, test_parse_embedded_nul);
	tcase_add_test(tc, test_parse_out_untouched);
	tcase_add_test(tc, test_parse_in_place);
	tcase_add_test(tc, test_parse_roundtrip);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(hash_suite)
