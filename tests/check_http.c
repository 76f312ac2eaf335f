/*
 * Unit tests of the pure parts of the response writer: the status table,
 * header value sanitizing, If-None-Match matching and Content-Disposition
 * (RFC 6266, RFC 8187).
 * http_begin and the writers need an FCGX stream and are left to the
 * integration tests.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "log.h"
#include "testutil.h"

#define CD_PREFIX	"attachment; filename=\""
#define CD_MIDDLE	"\"; filename*=UTF-8''"

/* --- reason --- */

static const struct {
	int		 code;
	const char	*reason;
} reasons[] = {
	{ 200, "OK" },
	{ 201, "Created" },
	{ 204, "No Content" },
	{ 304, "Not Modified" },
	{ 400, "Bad Request" },
	{ 401, "Unauthorized" },
	{ 403, "Forbidden" },
	{ 404, "Not Found" },
	{ 405, "Method Not Allowed" },
	{ 411, "Length Required" },
	{ 413, "Content Too Large" },
	{ 415, "Unsupported Media Type" },
	{ 500, "Internal Server Error" },
	{ 503, "Service Unavailable" },
	{ 507, "Insufficient Storage" },
};

START_TEST(test_reason_table)
{
	ck_assert_str_eq(http_reason(reasons[_i].code), reasons[_i].reason);
}
END_TEST

START_TEST(test_reason_unknown)
{
	static const int	 codes[] = { 0, -1, 1, 100, 199, 202, 206,
	    402, 416, 418, 499, 501, 502, 508, 599, 600, 1000, 2147483647 };
	size_t			 i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		ck_assert_msg(strcmp(http_reason(codes[i]), "Unknown") == 0,
		    "%d: %s", codes[i], http_reason(codes[i]));
}
END_TEST

/* --- header value --- */

static void
header_value(const char *in, size_t outlen, const char *want)
{
	char	 out[512];

	ck_assert_uint_le(outlen, sizeof(out) - 8);
	memset(out, '#', sizeof(out));
	log_clean(in, out, outlen);
	ck_assert_str_eq(out, want);
	/* Nothing written past outlen. */
	ck_assert_int_eq(out[outlen], '#');
}

START_TEST(test_header_plain)
{
	header_value("text/plain; charset=utf-8", 100,
	    "text/plain; charset=utf-8");
	header_value("", 100, "");
	header_value("/service/fileupload/abc", 24, "/service/fileupload/abc");
}
END_TEST

START_TEST(test_header_crlf)
{
	header_value("a\r\nSet-Cookie: x=1", 100, "a  Set-Cookie: x=1");
	header_value("\r", 100, " ");
	header_value("\n", 100, " ");
	header_value("x\r\n\r\ny", 100, "x    y");
}
END_TEST

START_TEST(test_header_controls)
{
	char	 in[2], want[2];
	int	 c;

	for (c = 1; c < 0x20; c++) {
		in[0] = (char)c;
		in[1] = '\0';
		want[0] = c == '\t' ? '\t' : ' ';
		want[1] = '\0';
		header_value(in, 10, want);
	}
	header_value("a\x7f" "b", 10, "a b");
	header_value("\x01\x02\x1f\x7f", 10, "    ");
}
END_TEST

START_TEST(test_header_keeps)
{
	/* Tabs are field content; so are UTF-8 and obs-text bytes. */
	header_value("a\tb", 10, "a\tb");
	header_value("na\xc3\xafve \xe2\x82\xac", 100,
	    "na\xc3\xafve \xe2\x82\xac");
	header_value("\x80\xff\xfe", 10, "\x80\xff\xfe");
	header_value(" !\"#~", 10, " !\"#~");
}
END_TEST

START_TEST(test_header_truncates)
{
	header_value("abcdef", 4, "abc");
	header_value("abcdef", 6, "abcde");
	header_value("abcdef", 7, "abcdef");
	header_value("abcdef", 1, "");
	header_value("a\r\nb", 3, "a ");
}
END_TEST

START_TEST(test_header_outlen_zero)
{
	char	 out[4] = "xyz";

	log_clean("abc", out, 0);
	ck_assert_str_eq(out, "xyz");
}
END_TEST

START_TEST(test_header_all_bytes)
{
	char	 in[256], out[256];
	int	 c;

	for (c = 1; c < 256; c++)
		in[c - 1] = (char)c;
	in[255] = '\0';
	log_clean(in, out, sizeof(out));
	ck_assert_uint_eq(strlen(out), 255);
	for (c = 1; c < 256; c++) {
		unsigned char	 o = (unsigned char)out[c - 1];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			ck_assert_msg(o == ' ', "0x%02x -> 0x%02x", c, o);
		else
			ck_assert_msg(o == c, "0x%02x -> 0x%02x", c, o);
	}
	ck_assert_ptr_null(strchr(out, '\r'));
	ck_assert_ptr_null(strchr(out, '\n'));
}
END_TEST

/* --- ETag --- */

#define TAG	"0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8"
#define QTAG	"\"" TAG "\""

START_TEST(test_etag_match)
{
	ck_assert(http_etag_match(QTAG, TAG));
	ck_assert(http_etag_match("W/" QTAG, TAG));
	ck_assert(http_etag_match("\"x\", " QTAG, TAG));
	ck_assert(http_etag_match("\"x\",W/" QTAG ", \"y\"", TAG));
	ck_assert(http_etag_match(" \t" QTAG " ", TAG));
	ck_assert(http_etag_match(",," QTAG, TAG));
	ck_assert(http_etag_match("\"a\",\"b\",\"c\"", "c"));
}
END_TEST

START_TEST(test_etag_star)
{
	ck_assert(http_etag_match("*", TAG));
	ck_assert(http_etag_match(" *", TAG));
	ck_assert(http_etag_match("\"x\", *", TAG));
}
END_TEST

START_TEST(test_etag_no_match)
{
	ck_assert(!http_etag_match("", TAG));
	ck_assert(!http_etag_match(" , ", TAG));
	ck_assert(!http_etag_match("\"x\"", TAG));
	ck_assert(!http_etag_match("\"x\", W/\"y\"", TAG));
	/* Prefixes and extensions of the tag are other tags. */
	ck_assert(!http_etag_match("\"0e5751c0\"", TAG));
	ck_assert(!http_etag_match("\"" TAG "0\"", TAG));
	ck_assert(!http_etag_match("\"\"", TAG));
	/* Entity tags are case-sensitive opaque strings. */
	ck_assert(!http_etag_match("\"0E5751C026E543B2E8AB2EB06099DAA1D1E5DF"
	    "47778F7787FAAB45CDF12FE3A8\"", TAG));
}
END_TEST

START_TEST(test_etag_malformed)
{
	/* Not a list of entity tags: no match, and no read past the end. */
	ck_assert(!http_etag_match(TAG, TAG));
	ck_assert(!http_etag_match("\"" TAG, TAG));
	ck_assert(!http_etag_match("w/" QTAG, TAG));
	ck_assert(!http_etag_match("W/", TAG));
	ck_assert(!http_etag_match("W/" TAG, TAG));
	ck_assert(!http_etag_match("\"", TAG));
	ck_assert(!http_etag_match("\"x\" junk " QTAG, TAG));
}
END_TEST

/* --- Range past the end --- */

START_TEST(test_range_past_end)
{
	ck_assert(http_range_past_end("bytes=10-", 10));
	ck_assert(http_range_past_end("bytes=11-", 10));
	ck_assert(http_range_past_end("bytes=10-20", 10));
	ck_assert(http_range_past_end("bytes=10-10", 10));
	ck_assert(http_range_past_end("bytes=1-", 0));
	ck_assert(http_range_past_end("bytes=9223372036854775807-", 10));
}
END_TEST

START_TEST(test_range_within)
{
	/* Served: a span that starts inside, or an empty file from 0. */
	ck_assert(!http_range_past_end("bytes=0-", 10));
	ck_assert(!http_range_past_end("bytes=9-", 10));
	ck_assert(!http_range_past_end("bytes=0-100", 10));
	ck_assert(!http_range_past_end("bytes=0-", 0));
	ck_assert(!http_range_past_end("bytes=0-0", 0));
}
END_TEST

START_TEST(test_range_not_judged)
{
	/* Left to whoever serves the bytes. */
	ck_assert(!http_range_past_end("", 10));
	ck_assert(!http_range_past_end("bytes=", 10));
	ck_assert(!http_range_past_end("bytes=-5", 10));
	ck_assert(!http_range_past_end("bytes=-0", 10));
	ck_assert(!http_range_past_end("bytes=20-15", 10));
	ck_assert(!http_range_past_end("bytes=20-,30-", 10));
	ck_assert(!http_range_past_end("bytes= 20-", 10));
	ck_assert(!http_range_past_end("bytes=20", 10));
	ck_assert(!http_range_past_end("bytes=20-x", 10));
	ck_assert(!http_range_past_end("bytes=abc", 10));
	ck_assert(!http_range_past_end("Bytes=20-", 10));
	ck_assert(!http_range_past_end("items=20-", 10));
	ck_assert(!http_range_past_end("bytes=184467440737095516160-", 10));
}
END_TEST

/* --- Content-Disposition --- */

static void
disposition(const char *name, const char *fallback, const char *pct)
{
	char	 want[1024], out[1024];

	snprintf(want, sizeof(want), "%s%s%s%s", CD_PREFIX, fallback,
	    CD_MIDDLE, pct);
	memset(out, '#', sizeof(out));
	ck_assert_int_eq(http_content_disposition(name, out, sizeof(out)), 0);
	ck_assert_str_eq(out, want);
}

START_TEST(test_cd_ascii)
{
	disposition("report.pdf", "report.pdf", "report.pdf");
	disposition("a-b_c.d~e", "a-b_c.d~e", "a-b_c.d~e");
	disposition("", "", "");
}
END_TEST

START_TEST(test_cd_specials)
{
	disposition("say \"hi\".txt", "say _hi_.txt", "say%20%22hi%22.txt");
	disposition("back\\slash", "back_slash", "back%5Cslash");
	disposition("a\r\nb", "a__b", "a%0D%0Ab");
	disposition("a;b", "a;b", "a%3Bb");
	disposition("a b", "a b", "a%20b");
	disposition("100%.txt", "100%.txt", "100%25.txt");
	disposition("it's (1).txt", "it's (1).txt", "it%27s%20%281%29.txt");
	disposition("x\ty\x7f", "x_y_", "x%09y%7F");
	disposition("a=b,c", "a=b,c", "a%3Db%2Cc");
	disposition("*", "*", "%2A");
}
END_TEST

START_TEST(test_cd_non_ascii)
{
	/* i-diaeresis is 2 bytes and the euro sign 3: one '_' per byte. */
	disposition("na\xc3\xafve \xe2\x82\xac.txt", "na__ve ___.txt",
	    "na%C3%AFve%20%E2%82%AC.txt");
	disposition("\xf0\x9f\x98\x80", "____", "%F0%9F%98%80");
	disposition("\xc3\xa9t\xc3\xa9", "__t__", "%C3%A9t%C3%A9");
}
END_TEST

/*
 * Bidirectional controls never reach the extended value: a right-to-left
 * override would show "x\u202Etxt.exe" as "xexe.txt".
 */
START_TEST(test_cd_bidi)
{
	static const char *const bidi[] = {
		"\xd8\x9c",		/* U+061C ARABIC LETTER MARK */
		"\xe2\x80\x8e",	/* U+200E LRM */
		"\xe2\x80\x8f",	/* U+200F RLM */
		"\xe2\x80\xaa",	/* U+202A LRE */
		"\xe2\x80\xab",	/* U+202B RLE */
		"\xe2\x80\xac",	/* U+202C PDF */
		"\xe2\x80\xad",	/* U+202D LRO */
		"\xe2\x80\xae",	/* U+202E RLO */
		"\xe2\x81\xa6",	/* U+2066 LRI */
		"\xe2\x81\xa7",	/* U+2067 RLI */
		"\xe2\x81\xa8",	/* U+2068 FSI */
		"\xe2\x81\xa9",	/* U+2069 PDI */
	};
	char	 name[32], fallback[32];
	size_t	 i, n;

	for (i = 0; i < sizeof(bidi) / sizeof(bidi[0]); i++) {
		n = strlen(bidi[i]);
		snprintf(name, sizeof(name), "x%stxt.exe", bidi[i]);
		snprintf(fallback, sizeof(fallback), "x%.*stxt.exe", (int)n,
		    "___");
		disposition(name, fallback, "x_txt.exe");
	}
	/* Their neighbours stay (U+202F, U+2065, U+200D, U+061B). */
	disposition("\xe2\x80\xaf", "___", "%E2%80%AF");
	disposition("\xe2\x81\xa5", "___", "%E2%81%A5");
	disposition("\xe2\x80\x8d", "___", "%E2%80%8D");
	disposition("\xd8\x9b", "__", "%D8%9B");
	/* Hebrew between them keeps its bytes. */
	disposition("\xe2\x80\xae\xd7\x90\xe2\x80\xac", "________",
	    "_%D7%90_");
}
END_TEST

/* RFC 8187 attr-char, written out independently of http.c. */
static bool
attr_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '!' || c == '#' || c == '$' ||
	    c == '&' || c == '+' || c == '-' || c == '.' || c == '^' ||
	    c == '_' || c == '`' || c == '|' || c == '~';
}

START_TEST(test_cd_every_byte)
{
	char	 name[2], fallback[2], pct[4];
	int	 c;

	for (c = 1; c < 256; c++) {
		name[0] = (char)c;
		name[1] = '\0';
		fallback[0] = c < 0x20 || c >= 0x7f || c == '"' || c == '\\' ?
		    '_' : (char)c;
		fallback[1] = '\0';
		if (attr_char(c))
			snprintf(pct, sizeof(pct), "%c", c);
		else
			snprintf(pct, sizeof(pct), "%%%02X", c);
		disposition(name, fallback, pct);
	}
}
END_TEST

START_TEST(test_cd_fallback_is_safe)
{
	char	 name[256], out[2048], *q, *end;
	int	 c;

	for (c = 1; c < 256; c++)
		name[c - 1] = (char)c;
	name[255] = '\0';
	ck_assert_int_eq(http_content_disposition(name, out, sizeof(out)), 0);
	/* The quoted string ends at the only unescaped '"' after the start. */
	q = out + strlen(CD_PREFIX);
	ck_assert_ptr_nonnull(end = strchr(q, '"'));
	ck_assert_int_eq(end - q, 255);
	ck_assert_int_eq(strncmp(end, CD_MIDDLE, strlen(CD_MIDDLE)), 0);
	for (; q < end; q++)
		ck_assert(*q >= 0x20 && *q < 0x7f && *q != '\\');
	/* The extended value: attr-chars and %XX only. */
	for (q = end + strlen(CD_MIDDLE); *q != '\0'; q++) {
		if (*q == '%') {
			ck_assert(strchr("0123456789ABCDEF", q[1]) != NULL &&
			    q[1] != '\0');
			ck_assert(strchr("0123456789ABCDEF", q[2]) != NULL &&
			    q[2] != '\0');
			q += 2;
		} else
			ck_assert_msg(attr_char((unsigned char)*q),
			    "0x%02x unencoded", (unsigned char)*q);
	}
}
END_TEST

/* The length of the value for name, from a large buffer. */
static size_t
cd_len(const char *name)
{
	char	 out[2048];

	ck_assert_int_eq(http_content_disposition(name, out, sizeof(out)), 0);
	return strlen(out);
}

START_TEST(test_cd_too_small)
{
	static const char *const names[] = {
		"", "a", "report.pdf", "say \"hi\"",
		"na\xc3\xafve \xe2\x82\xac",
	};
	char	 out[256];
	size_t	 i, len, n;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		len = cd_len(names[i]);
		for (n = 0; n < len; n++) {
			memset(out, '#', sizeof(out));
			ck_assert_msg(http_content_disposition(names[i], out,
			    n + 1) == -1, "\"%s\" fit in %zu bytes for %zu",
			    names[i], n + 1, len);
			ck_assert_msg(out[n + 1] == '#', "wrote past %zu",
			    n + 1);
		}
		ck_assert_int_eq(http_content_disposition(names[i], out, 0),
		    -1);
	}
}
END_TEST

START_TEST(test_cd_exact_fit)
{
	static const char *const names[] = {
		"", "a", "report.pdf", "say \"hi\"",
		"na\xc3\xafve \xe2\x82\xac",
		"%",
	};
	char	 out[256], big[256];
	size_t	 i, len;

	/* "Returns -1 when out is too small": the exact size is not. */
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		len = cd_len(names[i]);
		ck_assert_int_eq(http_content_disposition(names[i], big,
		    sizeof(big)), 0);
		memset(out, '#', sizeof(out));
		ck_assert_msg(http_content_disposition(names[i], out,
		    len + 1) == 0, "\"%s\": %zu bytes needed, -1 for %zu",
		    names[i], len + 1, len + 1);
		ck_assert_str_eq(out, big);
		ck_assert_int_eq(out[len + 1], '#');
	}
}
END_TEST

START_TEST(test_cd_long_name)
{
	char	 name[256], out[2048];

	/* 255 bytes (the longest file_name), 3 bytes each when encoded. */
	memset(name, 'x', 255);
	name[255] = '\0';
	ck_assert_int_eq(http_content_disposition(name, out, sizeof(out)), 0);
	ck_assert_uint_eq(strlen(out), strlen(CD_PREFIX) + 255 +
	    strlen(CD_MIDDLE) + 255);
	memset(name, '\xff', 255);
	ck_assert_int_eq(http_content_disposition(name, out, sizeof(out)), 0);
	ck_assert_uint_eq(strlen(out), strlen(CD_PREFIX) + 255 +
	    strlen(CD_MIDDLE) + 3 * 255);
}
END_TEST

static Suite *
http_suite(void)
{
	Suite	*s = suite_create("http");
	TCase	*tc;

	tc = tcase_create("reason");
	tcase_add_loop_test(tc, test_reason_table, 0,
	    sizeof(reasons) / sizeof(reasons[0]));
	tcase_add_test(tc, test_reason_unknown);
	suite_add_tcase(s, tc);

	tc = tcase_create("header_value");
	tcase_add_test(tc, test_header_plain);
	tcase_add_test(tc, test_header_crlf);
	tcase_add_test(tc, test_header_controls);
	tcase_add_test(tc, test_header_keeps);
	tcase_add_test(tc, test_header_truncates);
	tcase_add_test(tc, test_header_outlen_zero);
	tcase_add_test(tc, test_header_all_bytes);
	suite_add_tcase(s, tc);

	tc = tcase_create("etag");
	tcase_add_test(tc, test_etag_match);
	tcase_add_test(tc, test_etag_star);
	tcase_add_test(tc, test_etag_no_match);
	tcase_add_test(tc, test_etag_malformed);
	tcase_add_test(tc, test_range_past_end);
	tcase_add_test(tc, test_range_within);
	tcase_add_test(tc, test_range_not_judged);
	suite_add_tcase(s, tc);

	tc = tcase_create("content_disposition");
	tcase_add_test(tc, test_cd_ascii);
	tcase_add_test(tc, test_cd_specials);
	tcase_add_test(tc, test_cd_non_ascii);
	tcase_add_test(tc, test_cd_bidi);
	tcase_add_test(tc, test_cd_every_byte);
	tcase_add_test(tc, test_cd_fallback_is_safe);
	tcase_add_test(tc, test_cd_too_small);
	tcase_add_test(tc, test_cd_exact_fit);
	tcase_add_test(tc, test_cd_long_name);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(http_suite)
