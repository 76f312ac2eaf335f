/*
 * Unit tests of the webhook's pure parts: the signature (webhook_sign.c,
 * against RFC 4231's HMAC-SHA256 vectors), the backoff (webhook_backoff.c)
 * and its settings (config.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "config.h"
#include "webhook_backoff.h"
#include "webhook_send.h"
#include "webhook_sign.h"
#include "testutil.h"

static const char *const webhook_vars[] = {
	"FILEUPLOAD_WEBHOOK_URL", "FILEUPLOAD_WEBHOOK_SECRET",
	"FILEUPLOAD_WEBHOOK_SECRET_FILE", "FILEUPLOAD_WEBHOOK_TRIES",
	"FILEUPLOAD_WEBHOOK_TIMEOUT", "FILEUPLOAD_WEBHOOK_BACKOFF",
	"FILEUPLOAD_WEBHOOK_BACKOFF_MAX",
};

static void
clean_env(void)
{
	size_t	 i;

	for (i = 0; i < sizeof(webhook_vars) / sizeof(webhook_vars[0]); i++)
		ck_assert_int_eq(unsetenv(webhook_vars[i]), 0);
}

START_TEST(test_sign_rfc4231)
{
	char	 sig[WEBHOOK_SIGN_LEN], key[131];

	ck_assert_int_ge(sodium_init(), 0);
	/* Test case 2: a key shorter than the block. */
	ck_assert_int_eq(webhook_sign("Jefe", 4, "what do ya want for nothing?",
	    28, sig), 0);
	ck_assert_str_eq(sig, "sha256=5bdcc146bf60754e6a042426089575c7"
	    "5a003f089d2739839dec58b964ec3843");
	/* Test case 6: a key longer than the block is hashed first. */
	memset(key, 0xaa, sizeof(key));
	ck_assert_int_eq(webhook_sign(key, sizeof(key), "Test Using Larger "
	    "Than Block-Size Key - Hash Key First", 54, sig), 0);
	ck_assert_str_eq(sig, "sha256=60e431591ee0b67f0d8a26aacbf5b77f"
	    "8e0bc6213728c5140546040f0ee37f54");
	/* Another byte of body, another signature. */
	ck_assert_int_eq(webhook_sign("Jefe", 4, "what do ya want for nothing!",
	    28, sig), 0);
	ck_assert_str_ne(sig, "sha256=5bdcc146bf60754e6a042426089575c7"
	    "5a003f089d2739839dec58b964ec3843");
}
END_TEST

START_TEST(test_backoff)
{
	uint32_t	 r;

	/* Nothing to wait for before a first try, or with no base. */
	ck_assert_uint_eq(webhook_backoff_ms(0, 1000, 60000, 7), 0);
	ck_assert_uint_eq(webhook_backoff_ms(3, 0, 60000, 7), 0);
	/* Steps of 1, 2, 4, 8 s: the upper half drawn. */
	ck_assert_uint_eq(webhook_backoff_ms(1, 1000, 60000, 0), 500);
	ck_assert_uint_eq(webhook_backoff_ms(1, 1000, 60000, 500), 1000);
	ck_assert_uint_eq(webhook_backoff_ms(1, 1000, 60000, 501), 500);
	ck_assert_uint_eq(webhook_backoff_ms(2, 1000, 60000, 0), 1000);
	ck_assert_uint_eq(webhook_backoff_ms(3, 1000, 60000, 0), 2000);
	ck_assert_uint_eq(webhook_backoff_ms(4, 1000, 60000, 4000), 8000);
	/* Capped, also far past the point where doubling would overflow. */
	ck_assert_uint_eq(webhook_backoff_ms(7, 1000, 60000, 30000), 60000);
	ck_assert_uint_eq(webhook_backoff_ms(200, 1000, 60000, 0), 30000);
	ck_assert_uint_eq(webhook_backoff_ms(UINT32_MAX, UINT64_MAX / 3,
	    UINT64_MAX, 0), UINT64_MAX - UINT64_MAX / 2);
	/* A step of 1 ms has no half to draw. */
	ck_assert_uint_eq(webhook_backoff_ms(1, 1, 1, UINT32_MAX), 1);
	/* Every draw within [step / 2, step], and never shorter than before. */
	for (r = 0; r < 100000; r += 997) {
		ck_assert_uint_ge(webhook_backoff_ms(5, 10000, 3600000, r), 80000);
		ck_assert_uint_le(webhook_backoff_ms(5, 10000, 3600000, r),
		    160000);
	}
}
END_TEST

START_TEST(test_url_shown)
{
	char	 out[128];

	webhook_url_shown("https://user:pw@hooks.example:8443/in?a=b@c", out,
	    sizeof(out));
	ck_assert_str_eq(out, "https://hooks.example:8443/in?a=b@c");
	webhook_url_shown("http://127.0.0.1:9/x@y", out, sizeof(out));
	ck_assert_str_eq(out, "http://127.0.0.1:9/x@y");
	webhook_url_shown("http://a:b@c", out, sizeof(out));
	ck_assert_str_eq(out, "http://c");
	webhook_url_shown("https://u@h/p", out, 10);
	ck_assert_str_eq(out, "https://h");
}
END_TEST

START_TEST(test_config)
{
	struct config	 cfg;
	char		 err[256];

	clean_env();
	ck_assert_int_eq(config_load(&cfg, err, sizeof(err)), 0);
	ck_assert_ptr_null(cfg.webhook_url);
	ck_assert_ptr_null(cfg.webhook_secret);
	ck_assert_uint_eq(cfg.webhook_tries, CFG_DEFAULT_WEBHOOK_TRIES);
	ck_assert_uint_eq(cfg.webhook_timeout, CFG_DEFAULT_WEBHOOK_TIMEOUT);
	ck_assert_uint_eq(cfg.webhook_backoff, CFG_DEFAULT_WEBHOOK_BACKOFF);
	ck_assert_uint_eq(cfg.webhook_backoff_max,
	    CFG_DEFAULT_WEBHOOK_BACKOFF_MAX);
	config_free(&cfg);

	setenv("FILEUPLOAD_WEBHOOK_URL", "http://127.0.0.1:9/hook", 1);
	setenv("FILEUPLOAD_WEBHOOK_SECRET", "s3cret", 1);
	setenv("FILEUPLOAD_WEBHOOK_TRIES", "3", 1);
	setenv("FILEUPLOAD_WEBHOOK_BACKOFF", "7200", 1);
	ck_assert_msg(config_load(&cfg, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(cfg.webhook_url, "http://127.0.0.1:9/hook");
	ck_assert_str_eq(cfg.webhook_secret, "s3cret");
	ck_assert_uint_eq(cfg.webhook_tries, 3);
	/* The cap follows a base set above its default. */
	ck_assert_uint_eq(cfg.webhook_backoff_max, 7200);
	config_free(&cfg);

	setenv("FILEUPLOAD_WEBHOOK_BACKOFF_MAX", "60", 1);
	ck_assert_int_eq(config_load(&cfg, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "FILEUPLOAD_WEBHOOK_BACKOFF_MAX"));
	unsetenv("FILEUPLOAD_WEBHOOK_BACKOFF_MAX");
	setenv("FILEUPLOAD_WEBHOOK_TRIES", "0", 1);
	ck_assert_int_eq(config_load(&cfg, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "FILEUPLOAD_WEBHOOK_TRIES"));
	unsetenv("FILEUPLOAD_WEBHOOK_TRIES");
	setenv("FILEUPLOAD_WEBHOOK_URL", "ftp://example.org/", 1);
	ck_assert_int_eq(config_load(&cfg, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "FILEUPLOAD_WEBHOOK_URL"));
	unsetenv("FILEUPLOAD_WEBHOOK_URL");
	/* A secret for no webhook is a mistake said at start. */
	ck_assert_int_eq(config_load(&cfg, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "FILEUPLOAD_WEBHOOK_SECRET"));
	clean_env();
}
END_TEST

static Suite *
webhook_suite(void)
{
	Suite	*s = suite_create("webhook");
	TCase	*tc;

	tc = tcase_create("pure");
	tcase_add_test(tc, test_sign_rfc4231);
	tcase_add_test(tc, test_backoff);
	tcase_add_test(tc, test_config);
	tcase_add_test(tc, test_url_shown);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(webhook_suite)
