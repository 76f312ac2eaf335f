/*
 * Unit tests of links.c: a share link's query made and checked (round
 * trip, each field tampered with, expiry, another key, malformed queries).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "links.h"
#include "testutil.h"

#define H1	"0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8"
#define H2	"1e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8"
#define KEY	"a link secret of some length"
#define KEY2	"a link secret of some lengtH"
#define NOW	1765000000ULL
#define MADE	"2026-12-07T04:24:06Z"		/* the row's created_at */
#define MADE2	"2026-12-07T04:24:07Z"

static enum links_verdict
check(const char *key, const char *hash, const char *query, uint64_t now)
{
	return links_check((const unsigned char *)key, strlen(key), hash,
	    query, now);
}

static void
make(const char *key, const char *hash, uint64_t expires,
    char q[LINKS_QUERY_MAX])
{
	links_query((const unsigned char *)key, strlen(key), hash, MADE,
	    expires, q);
}

START_TEST(test_round_trip)
{
	char	 q[LINKS_QUERY_MAX], want[64];

	make(KEY, H1, NOW + 3600, q);
	snprintf(want, sizeof(want), "expires=%llu&of=",
	    (unsigned long long)(NOW + 3600));
	ck_assert_msg(strncmp(q, want, strlen(want)) == 0, "%s", q);
	ck_assert_uint_eq(strlen(q), strlen(want) + LINKS_OF_LEN +
	    strlen("&sig=") + LINKS_SIG_LEN);
	ck_assert_uint_lt(strlen(q), LINKS_QUERY_MAX);
	ck_assert(links_in_query(q));
	ck_assert_int_eq(check(KEY, H1, q, NOW), LINKS_OK);
	ck_assert_int_eq(check(KEY, H1, q, NOW + 3599), LINKS_OK);
	/* The same link, the same query: nothing random in it. */
	{
		char	 again[LINKS_QUERY_MAX];

		make(KEY, H1, NOW + 3600, again);
		ck_assert_str_eq(q, again);
	}
}
END_TEST

START_TEST(test_expiry)
{
	char	 q[LINKS_QUERY_MAX];

	make(KEY, H1, NOW + 1, q);
	ck_assert_int_eq(check(KEY, H1, q, NOW), LINKS_OK);
	ck_assert_int_eq(check(KEY, H1, q, NOW + 1), LINKS_EXPIRED);
	ck_assert_int_eq(check(KEY, H1, q, NOW + 86400), LINKS_EXPIRED);
	/* Expired, but not ours: forged first. */
	ck_assert_int_eq(check(KEY2, H1, q, NOW + 2), LINKS_FORGED);
}
END_TEST

START_TEST(test_tampered)
{
	char	 q[LINKS_QUERY_MAX], t[LINKS_QUERY_MAX + 8], *sig;
	size_t	 i;

	make(KEY, H1, NOW + 3600, q);
	/* Another hash, another key. */
	ck_assert_int_eq(check(KEY, H2, q, NOW), LINKS_FORGED);
	ck_assert_int_eq(check(KEY2, H1, q, NOW), LINKS_FORGED);
	/* A later expiry, and an earlier one. */
	snprintf(t, sizeof(t), "expires=%llu%s", (unsigned long long)(NOW +
	    7200), strchr(q, '&'));
	ck_assert_int_eq(check(KEY, H1, t, NOW), LINKS_FORGED);
	snprintf(t, sizeof(t), "expires=%llu%s", (unsigned long long)(NOW +
	    360), strchr(q, '&'));
	ck_assert_int_eq(check(KEY, H1, t, NOW), LINKS_FORGED);
	/* The same expiry with a leading zero is another text: refused. */
	snprintf(t, sizeof(t), "expires=0%s", q + strlen("expires="));
	ck_assert_int_eq(check(KEY, H1, t, NOW), LINKS_FORGED);
	/* Every character of the signature changed in turn. */
	sig = strstr(q, "sig=") + 4;
	for (i = 0; i < LINKS_SIG_LEN; i++) {
		snprintf(t, sizeof(t), "%s", q);
		t[sig - q + i] = sig[i] == 'A' ? 'B' : 'A';
		ck_assert_msg(check(KEY, H1, t, NOW) == LINKS_FORGED,
		    "signature character %zu", i);
	}
}
END_TEST

START_TEST(test_malformed)
{
	char	 q[LINKS_QUERY_MAX], t[256];
	const char *sig;

	make(KEY, H1, NOW + 3600, q);
	sig = strstr(q, "sig=") + 4;
	/* Either part missing, empty or repeated. */
	snprintf(t, sizeof(t), "sig=%s", sig);
	ck_assert_int_eq(check(KEY, H1, t, NOW), LINKS_FORGED);
	snprintf(t, sizeof(t), "%.*s", (int)(strchr(q, '&') - q), q);
	ck_assert_int_eq(check(KEY, H1, t, NOW), LINKS_FORGED);
	snprintf(t, sizeof(t), "expires=&sig=%s", sig);
	ck_assert_int_eq(check(KEY, H1, t, NOW), LINKS_FORGED);
	snprintf(t, sizeof(t), "%s&sig=%s", q, sig);
	ck_assert_int_eq(check(KEY, H1, t, NOW), LINKS_FORGED);
	snprintf(t, sizeof(t), "%s&expires=1", q);
	ck_assert_int_eq(check(KEY, H1, t, NOW), LINKS_FORGED);
	ck_assert_int_eq(check(KEY, H1, "expires&sig", NOW), LINKS_FORGED);
	/* Padded, shortened, lengthened, not base64url. */
	snprintf(t, sizeof(t), "%s=", q);
	ck_assert_int_eq(check(KEY, H1, t, NOW), LINKS_FORGED);
	snprintf(t, sizeof(t), "%.*s", (int)strlen(q) - 1, q);
	ck_assert_int_eq(check(KEY, H1, t, NOW), LINKS_FORGED);
	snprintf(t, sizeof(t), "%sA", q);
	ck_assert_int_eq(check(KEY, H1, t, NOW), LINKS_FORGED);
	snprintf(t, sizeof(t), "%s", q);
	t[strlen(t) - 5] = '+';
	ck_assert_int_eq(check(KEY, H1, t, NOW), LINKS_FORGED);
	/* A number that is not one. */
	snprintf(t, sizeof(t), "expires=-1&sig=%s", sig);
	ck_assert_int_eq(check(KEY, H1, t, NOW), LINKS_FORGED);
	snprintf(t, sizeof(t), "expires=99999999999999999999999&sig=%s", sig);
	ck_assert_int_eq(check(KEY, H1, t, NOW), LINKS_FORGED);
	/* Other parameters are no part of a link, before or after it. */
	snprintf(t, sizeof(t), "x=1&%s&y", q);
	ck_assert_int_eq(check(KEY, H1, t, NOW), LINKS_OK);
	/* In any order. */
	snprintf(t, sizeof(t), "sig=%s&%.*s", sig, (int)(sig - 5 - q), q);
	ck_assert_int_eq(check(KEY, H1, t, NOW), LINKS_OK);
	/* Without the stored upload's tag (a link of an earlier version). */
	snprintf(t, sizeof(t), "%.*s&sig=%s", (int)(strchr(q, '&') - q), q,
	    sig);
	ck_assert_int_eq(check(KEY, H1, t, NOW), LINKS_FORGED);
}
END_TEST

/* A link names one stored upload: a delete and a new upload revoke it. */
START_TEST(test_names_upload)
{
	char	 q[LINKS_QUERY_MAX], t[LINKS_QUERY_MAX], *of;
	const unsigned char *k = (const unsigned char *)KEY;

	make(KEY, H1, NOW + 3600, q);
	ck_assert(links_names(k, strlen(KEY), H1, q, MADE));
	ck_assert(!links_names(k, strlen(KEY), H1, q, MADE2));
	ck_assert(!links_names(k, strlen(KEY), H2, q, MADE));
	ck_assert(!links_names((const unsigned char *)KEY2, strlen(KEY2), H1,
	    q, MADE));
	ck_assert(!links_names(k, strlen(KEY), H1, "expires=1", MADE));
	/* The tag is signed: another one is a forgery, not another file. */
	snprintf(t, sizeof(t), "%s", q);
	of = strstr(t, "of=") + 3;
	of[0] = of[0] == 'A' ? 'B' : 'A';
	ck_assert_int_eq(check(KEY, H1, t, NOW), LINKS_FORGED);
}
END_TEST

START_TEST(test_no_link)
{
	static const char *const none[] = {
		"", "x=1", "expiresx=1", "signature=x", "a&b", "Expires=1",
		"SIG=x",
	};
	size_t	 i;

	ck_assert(!links_in_query(NULL));
	ck_assert_int_eq(check(KEY, H1, NULL, NOW), LINKS_NONE);
	for (i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		ck_assert_msg(!links_in_query(none[i]), "%s", none[i]);
		ck_assert_int_eq(check(KEY, H1, none[i], NOW), LINKS_NONE);
	}
	ck_assert(links_in_query("expires"));
	ck_assert(links_in_query("a=1&sig="));
}
END_TEST

START_TEST(test_long_key)
{
	char	 key[200], q[LINKS_QUERY_MAX];

	/* Keys longer than SHA-256's block are hashed first (RFC 2104). */
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	make(key, H1, NOW + 10, q);
	ck_assert_int_eq(check(key, H1, q, NOW), LINKS_OK);
	key[150] = 'j';
	ck_assert_int_eq(check(key, H1, q, NOW), LINKS_FORGED);
}
END_TEST

START_TEST(test_time)
{
	char	 out[LINKS_TIME_LEN + 1];

	ck_assert_int_eq(links_time(0, out), 0);
	ck_assert_str_eq(out, "1970-01-01T00:00:00Z");
	ck_assert_int_eq(links_time(1765081446, out), 0);
	ck_assert_str_eq(out, "2025-12-07T04:24:06Z");
	ck_assert_int_eq(links_time(1ULL << 41, out), -1);
}
END_TEST

static Suite *
links_suite(void)
{
	Suite	*s = suite_create("links");
	TCase	*tc = tcase_create("links");

	if (sodium_init() == -1)
		abort();
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_expiry);
	tcase_add_test(tc, test_tampered);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_names_upload);
	tcase_add_test(tc, test_no_link);
	tcase_add_test(tc, test_long_key);
	tcase_add_test(tc, test_time);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(links_suite)
