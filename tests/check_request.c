/*
 * Unit tests of request_init's reading of the body's framing: a length,
 * chunked, or the end of FastCGI's stdin under HTTP/2 and 3.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <fcgiapp.h>
#include <sodium.h>

#include "request.h"
#include "testutil.h"

struct framing_case {
	const char	*proto;		/* SERVER_PROTOCOL, NULL: none */
	const char	*length;	/* CONTENT_LENGTH, NULL: none */
	const char	*te;		/* HTTP_TRANSFER_ENCODING, NULL: none */
	bool		 has_length;
	bool		 length_missing;
};

static const struct framing_case cases[] = {
	{ "HTTP/1.1", "42", NULL, true, false },
	{ "HTTP/1.1", "", NULL, false, true },
	{ "HTTP/1.0", NULL, NULL, false, true },
	/* No protocol at all (another FastCGI client): HTTP/1's rule. */
	{ NULL, NULL, NULL, false, true },
	{ "HTTP/1.1", "", "chunked", false, false },
	/* nginx passes neither a length nor a Transfer-Encoding over HTTP/2. */
	{ "HTTP/2.0", "", NULL, false, false },
	{ "HTTP/3.0", NULL, NULL, false, false },
	{ "HTTP/x", NULL, NULL, false, true },
};

static void
setup(void)
{
	ck_assert_int_ne(sodium_init(), -1);
}

START_TEST(test_framing)
{
	const struct framing_case *c = &cases[_i];
	const struct rate_rules rules = { 1024, 30000, 60000 };
	char		 proto[64], length[64], te[64], *env[4];
	FCGX_Request	 f;
	struct request	 r;
	int		 n = 0;

	if (c->proto != NULL) {
		snprintf(proto, sizeof(proto), "SERVER_PROTOCOL=%s", c->proto);
		env[n++] = proto;
	}
	if (c->length != NULL) {
		snprintf(length, sizeof(length), "CONTENT_LENGTH=%s", c->length);
		env[n++] = length;
	}
	if (c->te != NULL) {
		snprintf(te, sizeof(te), "HTTP_TRANSFER_ENCODING=%s", c->te);
		env[n++] = te;
	}
	env[n] = NULL;
	memset(&f, 0, sizeof(f));
	f.envp = env;
	request_init(&r, &f, &rules);
	ck_assert_msg(r.has_length == c->has_length &&
	    r.length_missing == c->length_missing,
	    "case %d: has_length %d length_missing %d", _i, r.has_length,
	    r.length_missing);
	ck_assert(!r.bad_length);
}
END_TEST

static Suite *
request_suite(void)
{
	Suite	*s = suite_create("request");
	TCase	*tc = tcase_create("framing");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_loop_test(tc, test_framing, 0,
	    sizeof(cases) / sizeof(cases[0]));
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(request_suite)
