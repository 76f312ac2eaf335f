/*
 * Unit tests of the token check: for each combination of configured
 * tokens, who may read, write and use the open routes.
 */
#include <stdbool.h>
#include <string.h>

#include "auth.h"
#include "config.h"
#include "testutil.h"

#define W	"Bearer write-secret"
#define R	"Bearer read-secret"

static struct config	 cfg;

static void
tokens(const char *write, const char *read)
{
	memset(&cfg, 0, sizeof(cfg));
	cfg.write_token = (char *)write;
	cfg.read_token = (char *)read;
}

/* want[none, write token, read token, wrong token] for one access class. */
static void
check(enum access a, const char *what, const bool want[4])
{
	static const char *const given[4] = { NULL, W, R, "Bearer nope" };
	int	 i;

	for (i = 0; i < 4; i++)
		ck_assert_msg(auth_allowed(&cfg, given[i], a) == want[i],
		    "%s with %s: want %s", what,
		    given[i] != NULL ? given[i] : "no token",
		    want[i] ? "allowed" : "refused");
}

static const bool	 all[4] = { true, true, true, true };
static const bool	 none_but_write[4] = { false, true, false, false };
static const bool	 read_or_write[4] = { false, true, true, false };

START_TEST(test_no_tokens)
{
	tokens(NULL, NULL);
	check(ACCESS_OPEN, "open", all);
	check(ACCESS_READ, "read", all);
	check(ACCESS_LINK, "link", all);
	check(ACCESS_WRITE, "write", all);
}
END_TEST

START_TEST(test_both_tokens)
{
	tokens("write-secret", "read-secret");
	check(ACCESS_OPEN, "open", all);
	check(ACCESS_READ, "read", read_or_write);
	check(ACCESS_LINK, "link", read_or_write);
	check(ACCESS_WRITE, "write", none_but_write);
}
END_TEST

START_TEST(test_write_token_only)
{
	tokens("write-secret", NULL);
	check(ACCESS_OPEN, "open", all);
	check(ACCESS_READ, "read", all);	/* reads stay public */
	check(ACCESS_LINK, "link", all);
	check(ACCESS_WRITE, "write", none_but_write);
}
END_TEST

/* Any token closes writes: alone, the read token guards them too. */
START_TEST(test_read_token_only)
{
	static const bool	 read_only[4] = { false, false, true, false };

	tokens(NULL, "read-secret");
	check(ACCESS_OPEN, "open", all);
	check(ACCESS_READ, "read", read_only);
	check(ACCESS_LINK, "link", read_only);
	check(ACCESS_WRITE, "write", read_only);
}
END_TEST

START_TEST(test_header_forms)
{
	tokens(NULL, "read-secret");
	ck_assert(auth_allowed(&cfg, "bearer read-secret", ACCESS_WRITE));
	ck_assert(auth_allowed(&cfg, "BEARER   read-secret  ", ACCESS_WRITE));
	ck_assert(!auth_allowed(&cfg, "Bearer ", ACCESS_WRITE));
	ck_assert(!auth_allowed(&cfg, "Basic read-secret", ACCESS_WRITE));
	ck_assert(!auth_allowed(&cfg, "Bearer read-secretX", ACCESS_WRITE));
	ck_assert(!auth_allowed(&cfg, "Bearer read-secre", ACCESS_READ));
}
END_TEST

/*
 * The metrics route takes its own token and no other; unset, it is open
 * here (nginx and the handler keep it to loopback).
 */
START_TEST(test_metrics_token)
{
	tokens("write-secret", "read-secret");
	check(ACCESS_METRICS, "metrics, no metrics token", all);
	cfg.metrics_token = "metrics-secret";
	check(ACCESS_METRICS, "metrics", (const bool[4]){ false, false, false,
	    false });
	ck_assert(auth_allowed(&cfg, "Bearer metrics-secret", ACCESS_METRICS));
	ck_assert(auth_allowed(&cfg, "bearer  metrics-secret ", ACCESS_METRICS));
	ck_assert(!auth_allowed(&cfg, "Bearer metrics-secre", ACCESS_METRICS));
	ck_assert(!auth_allowed(&cfg, "Bearer ", ACCESS_METRICS));
	/* The metrics token opens nothing else. */
	ck_assert(!auth_allowed(&cfg, "Bearer metrics-secret", ACCESS_READ));
	ck_assert(!auth_allowed(&cfg, "Bearer metrics-secret", ACCESS_WRITE));
	tokens(NULL, NULL);
	cfg.metrics_token = "metrics-secret";
	ck_assert(!auth_allowed(&cfg, NULL, ACCESS_METRICS));
	ck_assert(auth_allowed(&cfg, NULL, ACCESS_READ));
}
END_TEST

/* A writer's scope for the per-token caps: the token it came with. */
START_TEST(test_token_id)
{
	char	 w[AUTH_TOKEN_ID_LEN + 1], r[AUTH_TOKEN_ID_LEN + 1];
	char	 again[AUTH_TOKEN_ID_LEN + 1];
	size_t	 i;

	tokens(NULL, NULL);
	ck_assert(!auth_token_id(&cfg, W, w));
	ck_assert_str_eq(w, "");
	tokens("write-secret", "read-secret");
	ck_assert(!auth_token_id(&cfg, NULL, w));
	ck_assert(!auth_token_id(&cfg, "Bearer nope", w));
	ck_assert(auth_token_id(&cfg, W, w));
	ck_assert(auth_token_id(&cfg, R, r));
	ck_assert(auth_token_id(&cfg, "bearer   write-secret ", again));
	ck_assert_uint_eq(strlen(w), AUTH_TOKEN_ID_LEN);
	for (i = 0; i < AUTH_TOKEN_ID_LEN; i++)
		ck_assert(strchr("0123456789abcdef", w[i]) != NULL);
	ck_assert_str_ne(w, r);
	ck_assert_str_eq(w, again);
	ck_assert_ptr_null(strstr(w, "secret"));
}
END_TEST

static Suite *
auth_suite(void)
{
	Suite	*s = suite_create("auth");
	TCase	*tc = tcase_create("tokens");

	tcase_add_test(tc, test_no_tokens);
	tcase_add_test(tc, test_both_tokens);
	tcase_add_test(tc, test_write_token_only);
	tcase_add_test(tc, test_read_token_only);
	tcase_add_test(tc, test_header_forms);
	tcase_add_test(tc, test_metrics_token);
	tcase_add_test(tc, test_token_id);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(auth_suite)
