/*
 * Unit tests of the JSON layer: PUT body validation (docs/api.md route 5), the
 * metadata and error bodies (parsed back with json-c), JSON string literals
 * and the cleaning of multipart file names.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "jsonio.h"
#include "testutil.h"

#define LIT(s)		(s), (sizeof(s) - 1)
#define HASH	"93becc6e9882211c3ec3708c95bcd69baab7bb59c7f4bc84ce637b88a534b783"
#define EACUTE	"\xc3\xa9"	/* U+00E9, 2 bytes */
#define FFFD	"\xef\xbf\xbd"	/* U+FFFD, 3 bytes */

/* The outcome of one json_parse_update. */
struct upd {
	enum json_update_error	 rc;
	struct json_update	 u;
	char			 why[256];
};

static void
update(const char *body, size_t len, struct upd *r)
{
	char	*copy;

	/* A copy of exactly len bytes: valgrind and ASan see any overread. */
	ck_assert_ptr_nonnull(copy = malloc(len > 0 ? len : 1));
	memcpy(copy, body, len);
	memset(r, 0x5a, sizeof(*r));
	r->why[0] = '\0';
	r->rc = json_parse_update(copy, len, &r->u, r->why, sizeof(r->why));
	free(copy);
	if (r->rc != JU_OK) {
		ck_assert_msg(r->why[0] != '\0', "no reason for error %d",
		    r->rc);
		ck_assert_ptr_nonnull(memchr(r->why, '\0', sizeof(r->why)));
	}
}

/* The body must be refused with code; returns the reason. */
static void
refused(const char *body, size_t len, enum json_update_error code)
{
	struct upd	 r;

	update(body, len, &r);
	ck_assert_msg(r.rc == code, "%.*s: got %d (%s), want %d", (int)len,
	    body, r.rc, r.why, code);
}

#define SYNTAX(s)	refused(LIT(s), JU_ERR_SYNTAX)
#define INVALID(s)	refused(LIT(s), JU_ERR_INVALID)

/* Writes {"file_name": "<name>"} around name (raw bytes, len of them). */
static size_t
name_body(const char *name, size_t len, char *buf, size_t buflen)
{
	static const char	 pre[] = "{\"file_name\":\"", post[] = "\"}";

	ck_assert_uint_lt(sizeof(pre) + len + sizeof(post), buflen);
	memcpy(buf, pre, sizeof(pre) - 1);
	memcpy(buf + sizeof(pre) - 1, name, len);
	memcpy(buf + sizeof(pre) - 1 + len, post, sizeof(post));
	return sizeof(pre) - 1 + len + sizeof(post) - 1;
}

static void
name_refused(const char *name, size_t len)
{
	char	 b[1024];

	refused(b, name_body(name, len, b, sizeof(b)), JU_ERR_INVALID);
}

static void
name_accepted(const char *name, size_t len, const char *want)
{
	struct upd	 r;
	char		 b[1024];
	size_t		 blen;

	blen = name_body(name, len, b, sizeof(b));
	update(b, blen, &r);
	ck_assert_msg(r.rc == JU_OK, "%.*s: %d (%s)", (int)blen, b, r.rc,
	    r.why);
	ck_assert(r.u.has_name);
	ck_assert(!r.u.has_type);
	ck_assert_str_eq(r.u.name, want);
}

static void
type_result(const char *type, bool ok)
{
	char		 body[1024];
	struct upd	 r;
	int		 n;

	n = snprintf(body, sizeof(body), "{\"file_type\":\"%s\"}", type);
	ck_assert(n > 0 && (size_t)n < sizeof(body));
	update(body, (size_t)n, &r);
	if (ok) {
		ck_assert_msg(r.rc == JU_OK, "%s refused: %s", type, r.why);
		ck_assert(r.u.has_type && !r.u.has_name);
		ck_assert_str_eq(r.u.type, type);
	} else
		ck_assert_msg(r.rc == JU_ERR_INVALID, "%s: got %d", type,
		    r.rc);
	ck_assert(json_valid_type(type, strlen(type)) == ok);
}

/* --- update: valid bodies --- */

START_TEST(test_update_name_only)
{
	struct upd	 r;

	update(LIT("{\"file_name\":\"greeting.txt\"}"), &r);
	ck_assert_int_eq(r.rc, JU_OK);
	ck_assert(r.u.has_name);
	ck_assert(!r.u.has_type);
	ck_assert_str_eq(r.u.name, "greeting.txt");
	ck_assert_str_eq(r.u.type, "");
}
END_TEST

START_TEST(test_update_type_only)
{
	struct upd	 r;

	update(LIT("{\"file_type\":\"text/plain\"}"), &r);
	ck_assert_int_eq(r.rc, JU_OK);
	ck_assert(!r.u.has_name);
	ck_assert(r.u.has_type);
	ck_assert_str_eq(r.u.type, "text/plain");
	ck_assert_str_eq(r.u.name, "");
}
END_TEST

START_TEST(test_update_both)
{
	struct upd	 r;

	update(LIT("{\"file_type\":\"application/pdf\",\"file_name\":"
	    "\"r\\u00e9sum\\u00e9 2026.pdf\"}"), &r);
	ck_assert_int_eq(r.rc, JU_OK);
	ck_assert(r.u.has_name && r.u.has_type);
	ck_assert_str_eq(r.u.name, "r" EACUTE "sum" EACUTE " 2026.pdf");
	ck_assert_str_eq(r.u.type, "application/pdf");
}
END_TEST

START_TEST(test_update_whitespace)
{
	struct upd	 r;

	/* JSON-text = ws value ws (RFC 8259). */
	update(LIT(" \r\n\t{ \"file_name\" : \"a\" ,\n\"file_type\":\"a/b\" }"
	    " \n"), &r);
	ck_assert_int_eq(r.rc, JU_OK);
	ck_assert_str_eq(r.u.name, "a");
	ck_assert_str_eq(r.u.type, "a/b");
}
END_TEST

START_TEST(test_update_escapes)
{
	struct upd	 r;

	update(LIT("{\"file_name\":\"\\\"q\\\" \\ud83d\\ude00 \\u20ac\"}"), &r);
	ck_assert_int_eq(r.rc, JU_OK);
	ck_assert_str_eq(r.u.name, "\"q\" \xf0\x9f\x98\x80 \xe2\x82\xac");
}
END_TEST

START_TEST(test_update_explicit_len)
{
	static const char	 body[] = "{\"file_name\":\"a\"}GARBAGE";
	struct upd		 r;

	/* Only len bytes are the body. */
	update(body, sizeof("{\"file_name\":\"a\"}") - 1, &r);
	ck_assert_int_eq(r.rc, JU_OK);
	ck_assert_str_eq(r.u.name, "a");
}
END_TEST

/* --- update: invalid updates (403) --- */

START_TEST(test_update_unknown_property)
{
	struct upd	 r;

	INVALID("{\"file_size\":1}");
	INVALID("{\"file_hash\":\"" HASH "\"}");
	INVALID("{\"file_name\":\"a\",\"extra\":\"b\"}");
	INVALID("{\"extra\":\"b\",\"file_name\":\"a\"}");
	INVALID("{\"File_Name\":\"a\"}");
	INVALID("{\"file_name \":\"a\"}");
	INVALID("{\"file_\":\"a\"}");
	INVALID("{\"\":\"a\"}");
	update(LIT("{\"created_at\":\"2026-11-28T18:04:05Z\"}"), &r);
	ck_assert_int_eq(r.rc, JU_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(r.why, "created_at"));
}
END_TEST

START_TEST(test_update_key_nul)
{
	/* "file_name\0x" is not the key "file_name". */
	INVALID("{\"file_name\\u0000\":\"a\"}");
	INVALID("{\"file_type\\u0000x\":\"a/b\"}");
}
END_TEST

START_TEST(test_update_unknown_long_key)
{
	char		 body[2200];
	struct upd	 r;
	int		 n;

	/* The reason quotes the key, but not without bound. */
	n = snprintf(body, sizeof(body), "{\"%01000d\":1}", 7);
	update(body, (size_t)n, &r);
	ck_assert_int_eq(r.rc, JU_ERR_INVALID);
	ck_assert_uint_lt(strlen(r.why), 200);
}
END_TEST

START_TEST(test_update_empty_object)
{
	INVALID("{}");
	INVALID("{ }");
	INVALID(" {\n} ");
}
END_TEST

START_TEST(test_update_wrong_types)
{
	INVALID("{\"file_name\":1}");
	INVALID("{\"file_name\":1.5}");
	INVALID("{\"file_name\":null}");
	INVALID("{\"file_name\":true}");
	INVALID("{\"file_name\":false}");
	INVALID("{\"file_name\":[\"a\"]}");
	INVALID("{\"file_name\":[]}");
	INVALID("{\"file_name\":{\"x\":\"a\"}}");
	INVALID("{\"file_name\":{}}");
	INVALID("{\"file_type\":42}");
	INVALID("{\"file_type\":null}");
	INVALID("{\"file_type\":[\"text/plain\"]}");
	INVALID("{\"file_type\":{\"type\":\"text/plain\"}}");
	INVALID("{\"file_name\":\"ok\",\"file_type\":null}");
	INVALID("{\"file_type\":\"text/plain\",\"file_name\":0}");
}
END_TEST

START_TEST(test_update_not_object)
{
	INVALID("[]");
	INVALID("[{\"file_name\":\"a\"}]");
	INVALID("\"file_name\"");
	INVALID("\"\"");
	INVALID(" [1, 2] ");
}
END_TEST

START_TEST(test_update_scalar)
{
	/*
	 * A bare number, boolean or null is JSON, just not an object: 403
	 * like an array or a string, not 400 ("not JSON at all").
	 */
	INVALID("5 ");
	INVALID("true ");
	INVALID("5");
	INVALID("-1");
	INVALID("1.5");
	INVALID("true");
	INVALID("false");
	INVALID("null");
	INVALID("null ");
}
END_TEST

START_TEST(test_update_why_bounded)
{
	enum json_update_error	 rc;
	struct json_update	 u;
	char			 why[8];

	memset(why, 'x', sizeof(why));
	rc = json_parse_update(LIT("{}"), &u, why, sizeof(why));
	ck_assert_int_eq(rc, JU_ERR_INVALID);
	ck_assert_uint_eq(strlen(why), sizeof(why) - 1);
	memset(why, 'x', sizeof(why));
	rc = json_parse_update(LIT("{"), &u, why, sizeof(why));
	ck_assert_int_eq(rc, JU_ERR_SYNTAX);
	ck_assert_uint_eq(strlen(why), sizeof(why) - 1);
}
END_TEST

/* --- update: file_name --- */

START_TEST(test_name_empty)
{
	name_refused(LIT(""));
	ck_assert(!json_valid_name("", 0));
	ck_assert(!json_valid_name("a", 0));
}
END_TEST

START_TEST(test_name_length)
{
	char	 name[600];
	size_t	 i;

	memset(name, 'n', sizeof(name));
	name_refused(name, 256);
	name_refused(name, 599);
	name[255] = '\0';
	name_accepted(name, 255, name);
	name[255] = 'n';
	ck_assert(json_valid_name(name, 255));
	ck_assert(!json_valid_name(name, 256));
	ck_assert(json_valid_name(name, 1));

	/* Bytes, not characters: 127 e-acutes and an 'a' are 255 bytes. */
	for (i = 0; i < 128; i++)
		memcpy(name + 2 * i, EACUTE, 2);
	name_refused(name, 256);
	ck_assert(!json_valid_name(name, 256));
	name[254] = 'a';
	name[255] = '\0';
	name_accepted(name, 255, name);
}
END_TEST

START_TEST(test_name_length_escaped)
{
	char		 body[2048];
	struct upd	 r;
	size_t		 i, n = 0;

	/* The limit is on the decoded bytes: 255 "\u00e9" escapes are 510. */
	n += snprintf(body + n, sizeof(body) - n, "{\"file_name\":\"");
	for (i = 0; i < 127; i++)
		n += snprintf(body + n, sizeof(body) - n, "\\u00e9");
	n += snprintf(body + n, sizeof(body) - n, "a\"}");
	update(body, n, &r);
	ck_assert_int_eq(r.rc, JU_OK);
	ck_assert_uint_eq(strlen(r.u.name), 255);

	n = snprintf(body, sizeof(body), "{\"file_name\":\"");
	for (i = 0; i < 128; i++)
		n += snprintf(body + n, sizeof(body) - n, "\\u00e9");
	n += snprintf(body + n, sizeof(body) - n, "\"}");
	refused(body, n, JU_ERR_INVALID);
}
END_TEST

START_TEST(test_name_separators)
{
	name_refused(LIT("a/b"));
	name_refused(LIT("/"));
	name_refused(LIT("a\\\\b"));		/* JSON for a\b */
	name_refused(LIT("\\\\"));
	name_refused(LIT("\\/etc"));		/* JSON for /etc */
	name_refused(LIT("\\u002f"));
	name_refused(LIT("\\u005c"));
}
END_TEST

START_TEST(test_name_raw_controls)
{
	static const char *const bodies[] = {
		"{\"file_name\":\"a\tb\"}",
		"{\"file_name\":\"a\nb\"}",
		"{\"file_name\":\"a\x01\"}",
		"{\"file_name\":\"\x1f\"}",
	};
	struct upd	 r;
	size_t		 i;

	/*
	 * Raw controls in a string are not JSON (RFC 8259 7); as a name
	 * they are invalid too.  Either way the update is refused.
	 */
	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		update(bodies[i], strlen(bodies[i]), &r);
		ck_assert_msg(r.rc != JU_OK, "%s accepted", bodies[i]);
	}
}
END_TEST

START_TEST(test_name_nul)
{
	name_refused(LIT("\\u0000"));
	name_refused(LIT("a\\u0000b"));
	name_refused(LIT("a\\u0000"));
	ck_assert(!json_valid_name("a\0b", 3));
}
END_TEST

START_TEST(test_name_controls)
{
	char	 esc[8], raw[4];
	int	 c;

	for (c = 1; c < 0x20; c++) {
		snprintf(esc, sizeof(esc), "\\u%04x", c);
		name_refused(esc, strlen(esc));
		raw[0] = 'a';
		raw[1] = (char)c;
		ck_assert_msg(!json_valid_name(raw, 2), "0x%02x valid", c);
	}
	name_refused(LIT("\\u007f"));
	name_refused(LIT("a\x7f"));
	ck_assert(!json_valid_name("\x7f", 1));
	name_refused(LIT("\\t"));
	name_refused(LIT("\\n"));
	name_refused(LIT("\\r"));
	name_refused(LIT("x\\by"));
	/* C1 controls, U+0080..U+009F. */
	for (c = 0x80; c < 0xa0; c++) {
		snprintf(esc, sizeof(esc), "\\u%04x", c);
		name_refused(esc, strlen(esc));
		raw[0] = '\xc2';
		raw[1] = (char)c;
		name_refused(raw, 2);
		ck_assert(!json_valid_name(raw, 2));
	}
	/* U+00A0 and on are not controls. */
	name_accepted(LIT("\\u00a0"), "\xc2\xa0");
	name_accepted(LIT("\xc2\xa0"), "\xc2\xa0");
	name_accepted(LIT("\xc3\xbf"), "\xc3\xbf");
}
END_TEST

START_TEST(test_name_valid_utf8)
{
	name_accepted(LIT("na\xc3\xafve \xe2\x82\xac.txt"),
	    "na\xc3\xafve \xe2\x82\xac.txt");
	name_accepted(LIT("\xf0\x9f\x98\x80"), "\xf0\x9f\x98\x80");
	/* U+10FFFF, U+D7FF, U+E000, U+0800, U+10000 */
	name_accepted(LIT("\xf4\x8f\xbf\xbf"), "\xf4\x8f\xbf\xbf");
	name_accepted(LIT("\xed\x9f\xbf"), "\xed\x9f\xbf");
	name_accepted(LIT("\xee\x80\x80"), "\xee\x80\x80");
	name_accepted(LIT("\xe0\xa0\x80"), "\xe0\xa0\x80");
	name_accepted(LIT("\xf0\x90\x80\x80"), "\xf0\x90\x80\x80");
	name_accepted(LIT(" .hidden ~ $x"), " .hidden ~ $x");
}
END_TEST

START_TEST(test_name_invalid_utf8)
{
	/* docs/api.md: a file_name that is not UTF-8 is an invalid update, 403. */
	name_refused(LIT("\xff"));
	name_refused(LIT("\xfe"));
	name_refused(LIT("a\x80"));		/* lone continuation */
	name_refused(LIT("\xc3"));			/* truncated */
	name_refused(LIT("\xc3" "a"));
	name_refused(LIT("\xe2\x82"));
	name_refused(LIT("\xf0\x9f\x98"));
	name_refused(LIT("\xf8\x88\x80\x80\x80"));	/* 5-byte form */
}
END_TEST

START_TEST(test_name_overlong)
{
	name_refused(LIT("\xc0\xaf"));			/* '/' */
	name_refused(LIT("\xc1\xbf"));
	name_refused(LIT("\xc0\x80"));			/* NUL */
	name_refused(LIT("\xe0\x80\xaf"));
	name_refused(LIT("\xe0\x9f\xbf"));
	name_refused(LIT("\xf0\x80\x80\xaf"));
	name_refused(LIT("\xf0\x8f\xbf\xbf"));
	ck_assert(!json_valid_name("\xc0\xaf", 2));
	ck_assert(!json_valid_name("\xe0\x80\xaf", 3));
	ck_assert(!json_valid_name("\xf0\x8f\xbf\xbf", 4));
}
END_TEST

START_TEST(test_name_surrogates)
{
	static const char *const lone[] = {
		"\\ud800", "\\udbff", "\\udc00", "\\udfff", "a\\ud800b",
		"\\ud800\\ud800", "\\ude00\\ud83d",
	};
	struct upd	 r;
	char		 b[1024];
	size_t		 i, blen;

	/* Raw UTF-8 of surrogates, and code points past U+10FFFF. */
	name_refused(LIT("\xed\xa0\x80"));
	name_refused(LIT("\xed\xbf\xbf"));
	name_refused(LIT("\xed\xa0\xbd\xed\xb8\x80"));	/* CESU-8 pair */
	name_refused(LIT("\xf4\x90\x80\x80"));
	name_refused(LIT("\xf5\x80\x80\x80"));
	ck_assert(!json_valid_name("\xed\xa0\x80", 3));
	ck_assert(!json_valid_name("\xf4\x90\x80\x80", 4));

	/*
	 * Escaped lone surrogates: whatever the tokenizer makes of them, a
	 * name that gets through is well-formed UTF-8.
	 */
	for (i = 0; i < sizeof(lone) / sizeof(lone[0]); i++) {
		blen = name_body(lone[i], strlen(lone[i]), b, sizeof(b));
		update(b, blen, &r);
		if (r.rc == JU_OK)
			ck_assert_msg(json_valid_name(r.u.name,
			    strlen(r.u.name)), "%s", lone[i]);
		else
			ck_assert_int_eq(r.rc, JU_ERR_INVALID);
	}
}
END_TEST

/* --- update: file_type --- */

START_TEST(test_type_valid)
{
	type_result("text/plain", true);
	type_result("TEXT/PLAIN", true);
	type_result("application/vnd.api+json", true);
	type_result("application/octet-stream", true);
	type_result("image/svg+xml", true);
	type_result("a/b", true);
	type_result("1/2", true);
	type_result("x-foo/bar_baz", true);
	type_result("application/x.y!z#a$b&c^d", true);
}
END_TEST

START_TEST(test_type_invalid)
{
	type_result("", false);
	type_result("text", false);
	type_result("textplain", false);
	type_result("/", false);
	type_result("/plain", false);
	type_result("text/", false);
	type_result("text//plain", false);
	type_result("a/b/c", false);
	type_result("text/plain ", false);
	type_result(" text/plain", false);
	type_result("text /plain", false);
	type_result("text/ plain", false);
	type_result("+text/plain", false);
	type_result("text/+plain", false);
	type_result(".text/plain", false);
	type_result("text/-plain", false);
	type_result("text/plain; charset=utf-8", false);
	type_result("text/plain;charset=utf-8", false);
	type_result("*/*", false);
	type_result("text/*", false);
	type_result("te(x)t/plain", false);
	type_result("text/pl\\\"ain", false);
	type_result("t\xc3\xa9xt/plain", false);
}
END_TEST

START_TEST(test_type_nul)
{
	/*
	 * A NUL is no RFC 6838 character; let through, it would cut the
	 * stored C string ("a\0/b" would be stored as "a").
	 */
	refused(LIT("{\"file_type\":\"text/\\u0000plain\"}"), JU_ERR_INVALID);
	refused(LIT("{\"file_type\":\"text/p\\u0000lain\"}"), JU_ERR_INVALID);
	refused(LIT("{\"file_type\":\"a\\u0000/b\"}"), JU_ERR_INVALID);
	refused(LIT("{\"file_type\":\"text/plain\\u0000\"}"), JU_ERR_INVALID);
	ck_assert(!json_valid_type("text/pl\0in", 10));
	ck_assert(!json_valid_type("a\0/b", 4));
	ck_assert(!json_valid_type("\0/b", 3));
}
END_TEST

START_TEST(test_type_length)
{
	char	 type[300];

	memset(type, 'b', sizeof(type));
	type[0] = 'a';
	type[1] = '/';
	type[255] = '\0';
	type_result(type, true);
	type[255] = 'b';
	type[256] = '\0';
	type_result(type, false);
	ck_assert(json_valid_type(type, 255));
	ck_assert(!json_valid_type(type, 256));
	ck_assert(!json_valid_type(type, 0));
}
END_TEST

/* --- update: not JSON (400) --- */

START_TEST(test_syntax)
{
	refused("", 0, JU_ERR_SYNTAX);
	SYNTAX(" ");
	SYNTAX("\n");
	SYNTAX("{");
	SYNTAX("}");
	SYNTAX("{\"file_name\"");
	SYNTAX("{\"file_name\":");
	SYNTAX("{\"file_name\":\"a\"");
	SYNTAX("{\"file_name\":\"a");
	SYNTAX("{\"file_name\":\"a\",}");
	SYNTAX("{\"file_name\" \"a\"}");
	SYNTAX("{file_name:\"a\"}");
	SYNTAX("{'file_name':'a'}");
	SYNTAX("{\"file_name\":\"a\\x41\"}");
	SYNTAX("{\"file_name\":\"a\\u00\"}");
	SYNTAX("file_name=a");
	SYNTAX("\xef\xbb\xbf{\"file_name\":\"a\"}");	/* BOM */
}
END_TEST

START_TEST(test_syntax_trailing)
{
	SYNTAX("{\"file_name\":\"a\"}x");
	SYNTAX("{\"file_name\":\"a\"} x");
	SYNTAX("{\"file_name\":\"a\"}}");
	SYNTAX("{\"file_name\":\"a\"}{}");
	SYNTAX("{\"file_name\":\"a\"},");
	SYNTAX("{}{}");
	SYNTAX("{} []");
	SYNTAX("{\"file_name\":\"a\"}\xff");
	/* A NUL after the object is a byte of the body too. */
	refused(LIT("{\"file_name\":\"a\"}\0"), JU_ERR_SYNTAX);
	refused(LIT("{}\0"), JU_ERR_SYNTAX);
}
END_TEST

START_TEST(test_syntax_comments)
{
	SYNTAX("/* c */{\"file_name\":\"a\"}");
	SYNTAX("{\"file_name\":\"a\"}/* c */");
	SYNTAX("{\"file_name\":\"a\"}// c");
	SYNTAX("{\"file_name\":\"a\" // c\n}");
	SYNTAX("{/* c */\"file_name\":\"a\"}");
	SYNTAX("# c\n{\"file_name\":\"a\"}");
}
END_TEST

START_TEST(test_syntax_truncated_len)
{
	static const char	 body[] = "{\"file_name\":\"a\"}";
	size_t			 n;

	for (n = 0; n < sizeof(body) - 1; n++)
		refused(body, n, JU_ERR_SYNTAX);
}
END_TEST

START_TEST(test_syntax_deep)
{
	char	*b;
	size_t	 i, n = 100000;

	/* Nesting past the tokenizer's depth limit fails cleanly. */
	ck_assert_ptr_nonnull(b = malloc(2 * n));
	for (i = 0; i < n; i++) {
		b[i] = '[';
		b[2 * n - 1 - i] = ']';
	}
	refused(b, 2 * n, JU_ERR_SYNTAX);
	free(b);
}
END_TEST

/* --- json_meta --- */

static struct json_object *
parse(const char *s)
{
	struct json_object	*o;

	ck_assert_ptr_nonnull(s);
	o = json_tokener_parse(s);
	ck_assert_msg(o != NULL, "does not parse: %s", s);
	return o;
}

static const char *
get_string(struct json_object *o, const char *key)
{
	struct json_object	*v;

	ck_assert_msg(json_object_object_get_ex(o, key, &v), "no %s", key);
	ck_assert_msg(json_object_is_type(v, json_type_string),
	    "%s not a string", key);
	return json_object_get_string(v);
}

static int64_t
get_int(struct json_object *o, const char *key)
{
	struct json_object	*v;

	ck_assert_msg(json_object_object_get_ex(o, key, &v), "no %s", key);
	ck_assert_msg(json_object_is_type(v, json_type_int),
	    "%s not an integer", key);
	return json_object_get_int64(v);
}

static void
fill_meta(struct meta *m, const char *name, uint64_t size)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->hash, sizeof(m->hash), "%s", HASH);
	snprintf(m->name, sizeof(m->name), "%s", name);
	snprintf(m->type, sizeof(m->type), "text/plain");
	m->size = size;
	snprintf(m->created_at, sizeof(m->created_at), "2026-11-28T18:04:05Z");
	snprintf(m->updated_at, sizeof(m->updated_at), "2026-11-29T01:02:03Z");
}

static void
meta_roundtrip(const char *name, uint64_t size)
{
	struct meta		 m;
	struct json_object	*o;
	char			*s;

	fill_meta(&m, name, size);
	s = json_meta(&m);
	o = parse(s);
	ck_assert(json_object_is_type(o, json_type_object));
	ck_assert_int_eq(json_object_object_length(o), 6);
	ck_assert_str_eq(get_string(o, "file_hash"), HASH);
	ck_assert_str_eq(get_string(o, "file_name"), name);
	ck_assert_str_eq(get_string(o, "file_type"), "text/plain");
	ck_assert_msg(get_int(o, "file_size") == (int64_t)size,
	    "file_size %lld, want %llu", (long long)get_int(o, "file_size"),
	    (unsigned long long)size);
	ck_assert_str_eq(get_string(o, "created_at"), "2026-11-28T18:04:05Z");
	ck_assert_str_eq(get_string(o, "updated_at"), "2026-11-29T01:02:03Z");
	/* Compact: one line, no padding. */
	ck_assert_ptr_null(strchr(s, '\n'));
	ck_assert_ptr_null(strstr(s, ": "));
	json_object_put(o);
	free(s);
}

START_TEST(test_meta_fields)
{
	meta_roundtrip("hello.txt", 6);
	meta_roundtrip("", 0);
}
END_TEST

START_TEST(test_meta_big_size)
{
	meta_roundtrip("big.bin", 5000000000ULL);
	meta_roundtrip("big.bin", 4294967296ULL);
	meta_roundtrip("max.bin", (uint64_t)INT64_MAX);
}
END_TEST

START_TEST(test_meta_exact)
{
	struct meta	 m;
	char		*s;

	fill_meta(&m, "a.txt", 5000000000ULL);
	s = json_meta(&m);
	ck_assert_str_eq(s, "{\"file_hash\":\"" HASH "\",\"file_name\":"
	    "\"a.txt\",\"file_type\":\"text/plain\",\"file_size\":5000000000,"
	    "\"created_at\":\"2026-11-28T18:04:05Z\",\"updated_at\":"
	    "\"2026-11-29T01:02:03Z\"}");
	free(s);
}
END_TEST

START_TEST(test_meta_escaped_name)
{
	char	 name[META_NAME_MAX + 1];

	meta_roundtrip("say \"hi\" \\ back/slash", 1);
	meta_roundtrip("na\xc3\xafve \xe2\x82\xac \xf0\x9f\x98\x80", 1);
	meta_roundtrip("tab\there\x7f", 1);
	memset(name, 'z', META_NAME_MAX);
	name[META_NAME_MAX] = '\0';
	meta_roundtrip(name, 1);
}
END_TEST

/* --- json_error --- */

START_TEST(test_error_no_hash)
{
	struct json_object	*o;
	char			*s;

	s = json_error(404, "file not found", NULL);
	ck_assert_str_eq(s, "{\"error\":\"file not found\",\"status\":404}");
	o = parse(s);
	ck_assert_int_eq(json_object_object_length(o), 2);
	ck_assert_str_eq(get_string(o, "error"), "file not found");
	ck_assert_int_eq(get_int(o, "status"), 404);
	ck_assert(!json_object_object_get_ex(o, "file_hash", NULL));
	json_object_put(o);
	free(s);
}
END_TEST

START_TEST(test_error_hash)
{
	struct json_object	*o;
	char			*s;

	s = json_error(403, "File already exist!", HASH);
	ck_assert_str_eq(s, "{\"error\":\"File already exist!\",\"status\":403,"
	    "\"file_hash\":\"" HASH "\"}");
	o = parse(s);
	ck_assert_int_eq(json_object_object_length(o), 3);
	ck_assert_str_eq(get_string(o, "error"), "File already exist!");
	ck_assert_int_eq(get_int(o, "status"), 403);
	ck_assert_str_eq(get_string(o, "file_hash"), HASH);
	json_object_put(o);
	free(s);
}
END_TEST

START_TEST(test_error_escaped_reason)
{
	struct json_object	*o;
	char			*s;

	s = json_error(400, "unknown property \"x\"\n\\", NULL);
	o = parse(s);
	ck_assert_str_eq(get_string(o, "error"), "unknown property \"x\"\n\\");
	ck_assert_int_eq(get_int(o, "status"), 400);
	json_object_put(o);
	free(s);
}
END_TEST

/* --- json_string --- */

static void
string_is(const char *in, const char *want)
{
	struct json_object	*o;
	char			*s;

	s = json_string(in);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, want);
	o = parse(s);
	ck_assert(json_object_is_type(o, json_type_string));
	ck_assert_str_eq(json_object_get_string(o), in);
	json_object_put(o);
	free(s);
}

START_TEST(test_string_escapes)
{
	string_is("File a.txt deleted!", "\"File a.txt deleted!\"");
	string_is("", "\"\"");
	string_is("say \"hi\"", "\"say \\\"hi\\\"\"");
	string_is("a\nb\r\tc", "\"a\\nb\\r\\tc\"");
	string_is("back\\slash", "\"back\\\\slash\"");
	string_is("\x01\x1f", "\"\\u0001\\u001f\"");
	string_is("\b\f", "\"\\b\\f\"");
}
END_TEST

START_TEST(test_string_keeps)
{
	/* No "\/" (JSON_C_TO_STRING_NOSLASHESCAPE); UTF-8 stays as is. */
	string_is("a/b", "\"a/b\"");
	string_is("na\xc3\xafve \xe2\x82\xac", "\"na\xc3\xafve \xe2\x82\xac\"");
}
END_TEST

START_TEST(test_string_every_byte)
{
	char			 in[256];
	struct json_object	*o;
	char			*s, *p;
	int			 c;

	for (c = 1; c < 256; c++)
		in[c - 1] = (char)c;
	in[255] = '\0';
	s = json_string(in);
	ck_assert_ptr_nonnull(s);
	/* No raw control character survives. */
	for (p = s; *p != '\0'; p++)
		ck_assert((unsigned char)*p >= 0x20);
	o = parse(s);
	ck_assert_str_eq(json_object_get_string(o), in);
	json_object_put(o);
	free(s);
}
END_TEST

/* --- json_clean_name --- */

static void
clean_is(const char *in, size_t len, const char *want)
{
	char	 out[META_NAME_MAX + 1 + 8];
	size_t	 n;

	memset(out, '#', sizeof(out));
	n = json_clean_name(in, len, out);
	ck_assert_str_eq(out, want);
	ck_assert_uint_eq(n, strlen(want));
	ck_assert_int_eq(out[META_NAME_MAX + 1], '#');
}

START_TEST(test_clean_plain)
{
	clean_is(LIT("report.pdf"), "report.pdf");
	clean_is(LIT("na\xc3\xafve \xe2\x82\xac.txt"),
	    "na\xc3\xafve \xe2\x82\xac.txt");
	clean_is(LIT(".hidden"), ".hidden");
	clean_is(LIT(".."), "..");
}
END_TEST

START_TEST(test_clean_directories)
{
	clean_is(LIT("a/b/c.txt"), "c.txt");
	clean_is(LIT("/etc/passwd"), "passwd");
	clean_is(LIT("C:\\Users\\me\\x.txt"), "x.txt");
	clean_is(LIT("a\\b/c\\d.txt"), "d.txt");
	clean_is(LIT("a/b\\c"), "c");
	clean_is(LIT("../../x"), "x");
	clean_is(LIT("..\\..\\x"), "x");
	/* The directory part is dropped before anything is cut. */
	clean_is(LIT("\xff/\x01x"), "_x");
}
END_TEST

START_TEST(test_clean_controls)
{
	clean_is(LIT("a\x01" "b"), "a_b");
	clean_is(LIT("a\tb\r\n"), "a_b__");
	clean_is(LIT("\x7f"), "_");
	clean_is(LIT("a\0b"), "a_b");
	clean_is(LIT("\0"), "_");
	/* A C1 control is one character: one '_'. */
	clean_is(LIT("a\xc2\x80" "b\xc2\x9f"), "a_b_");
	clean_is(LIT("\xc2\xa0"), "\xc2\xa0");
}
END_TEST

START_TEST(test_clean_invalid_utf8)
{
	clean_is(LIT("a\xff" "b"), "a" FFFD "b");
	clean_is(LIT("\x80"), FFFD);
	clean_is(LIT("\xc3"), FFFD);
	clean_is(LIT("x\xc3"), "x" FFFD);
	clean_is(LIT("\xc3" "a"), FFFD "a");
	clean_is(LIT("\xc0\xaf"), FFFD FFFD);		/* overlong '/' */
	clean_is(LIT("\xe0\x80\xaf"), FFFD FFFD FFFD);
	clean_is(LIT("\xed\xa0\x80"), FFFD FFFD FFFD);	/* surrogate */
	clean_is(LIT("\xf4\x90\x80\x80"), FFFD FFFD FFFD FFFD);
	clean_is(LIT("\xf0\x9f\x98\x80"), "\xf0\x9f\x98\x80");
}
END_TEST

START_TEST(test_clean_truncation)
{
	char	 in[600], want[META_NAME_MAX + 1];
	size_t	 i;

	/* 300 bytes of e-acute: cut to 127 characters, 254 bytes. */
	for (i = 0; i < 150; i++)
		memcpy(in + 2 * i, EACUTE, 2);
	memcpy(want, in, 254);
	want[254] = '\0';
	clean_is(in, 300, want);

	/* 4-byte characters: 63 of them, 252 bytes. */
	for (i = 0; i < 100; i++)
		memcpy(in + 4 * i, "\xf0\x9f\x98\x80", 4);
	memcpy(want, in, 252);
	want[252] = '\0';
	clean_is(in, 400, want);

	/* ASCII: exactly 255. */
	memset(in, 'a', sizeof(in));
	memcpy(want, in, 255);
	want[255] = '\0';
	clean_is(in, sizeof(in), want);
	clean_is(in, 255, want);
	want[254] = '\0';
	clean_is(in, 254, want);

	/* A replacement that does not fit is left out whole. */
	memset(in, 'a', 253);
	in[253] = '\xff';
	memcpy(want, in, 253);
	want[253] = '\0';
	clean_is(in, 254, want);
}
END_TEST

START_TEST(test_clean_truncation_after_dir)
{
	char	 in[700], want[META_NAME_MAX + 1];

	/* The 255 bytes are counted from after the directory part. */
	memset(in, 'd', 300);
	in[300] = '/';
	memset(in + 301, 'f', 300);
	memset(want, 'f', 255);
	want[255] = '\0';
	clean_is(in, 601, want);
}
END_TEST

START_TEST(test_clean_empty)
{
	clean_is("", 0, "");
	clean_is(LIT("dir/"), "");
	clean_is(LIT("a\\"), "");
	clean_is(LIT("/"), "");
	clean_is(LIT("a/b\\"), "");
	/* len is what counts. */
	clean_is("abc", 0, "");
}
END_TEST

/* A small deterministic PRNG, the same on every libc. */
static uint64_t
next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Appends UTF-8 of cp (no validation: may make surrogates). */
static size_t
put_cp(unsigned char *p, uint32_t cp)
{
	if (cp < 0x80) {
		p[0] = (unsigned char)cp;
		return 1;
	} else if (cp < 0x800) {
		p[0] = 0xc0 | (cp >> 6);
		p[1] = 0x80 | (cp & 0x3f);
		return 2;
	} else if (cp < 0x10000) {
		p[0] = 0xe0 | (cp >> 12);
		p[1] = 0x80 | ((cp >> 6) & 0x3f);
		p[2] = 0x80 | (cp & 0x3f);
		return 3;
	}
	p[0] = 0xf0 | (cp >> 18);
	p[1] = 0x80 | ((cp >> 12) & 0x3f);
	p[2] = 0x80 | ((cp >> 6) & 0x3f);
	p[3] = 0x80 | (cp & 0x3f);
	return 4;
}

/* A random file name of up to max bytes, heavy on the hard cases. */
static size_t
random_name(uint64_t *s, unsigned char *buf, size_t max)
{
	size_t		 len = 0, want = next(s) % max;
	unsigned	 kind;

	while (len + 4 <= want) {
		kind = next(s) % 20;
		if (kind < 4)
			buf[len++] = 'a' + next(s) % 26;
		else if (kind < 6)
			buf[len++] = (unsigned char)(next(s) % 256);
		else if (kind == 6)
			buf[len++] = next(s) % 2 ? '/' : '\\';
		else if (kind == 7)
			buf[len++] = (unsigned char)(next(s) % 0x20);
		else if (kind == 8)
			buf[len++] = 0x7f;
		else if (kind == 9) {
			buf[len++] = 0xc2;
			buf[len++] = 0x80 + next(s) % 0x40;
		} else if (kind < 12)
			len += put_cp(buf + len, 0x80 + next(s) % 0x780);
		else if (kind < 14)
			len += put_cp(buf + len, 0x800 + next(s) % 0xf800);
		else if (kind < 16)
			len += put_cp(buf + len, 0x10000 + next(s) % 0x100000);
		else if (kind == 16) {	/* overlong */
			buf[len++] = 0xc0 | (next(s) % 2);
			buf[len++] = 0x80 | (next(s) % 0x40);
		}
		else if (kind == 17)	/* surrogate */
			len += put_cp(buf + len, 0xd800 + next(s) % 0x800);
		else if (kind == 18)	/* past U+10FFFF */
			len += put_cp(buf + len, 0x110000 + next(s) % 0xeffff);
		else if (len > 0)	/* a cut sequence */
			len--;
	}
	return len;
}

START_TEST(test_clean_property)
{
	unsigned char	 in[700];
	char		 out[META_NAME_MAX + 1], again[META_NAME_MAX + 1];
	uint64_t	 seed = 0x9e3779b97f4a7c15ULL;
	size_t		 len, n, i, nonempty = 0, maxlen = 0;
	int		 round;

	for (round = 0; round < 20000; round++) {
		len = random_name(&seed, in, round % 2 ? 64 : sizeof(in));
		memset(out, '#', sizeof(out));
		n = json_clean_name((const char *)in, len, out);
		ck_assert_uint_le(n, META_NAME_MAX);
		ck_assert_int_eq(out[n], '\0');
		ck_assert_msg(strlen(out) == n, "round %d: NUL inside", round);
		ck_assert_ptr_null(strchr(out, '/'));
		ck_assert_ptr_null(strchr(out, '\\'));
		if (n == 0)
			continue;
		nonempty++;
		if (n > maxlen)
			maxlen = n;
		if (!json_valid_name(out, n)) {
			char	 hex[2 * sizeof(in) + 1];

			for (i = 0; i < len; i++)
				snprintf(hex + 2 * i, 3, "%02x", in[i]);
			ck_abort_msg("round %d: output of %s is not a valid "
			    "name", round, hex);
		}
		/* A valid name comes through unchanged. */
		ck_assert_uint_eq(json_clean_name(out, n, again), n);
		ck_assert_str_eq(again, out);
	}
	/* The generator did reach the interesting cases. */
	ck_assert_uint_gt(nonempty, 10000);
	ck_assert_uint_ge(maxlen, META_NAME_MAX - 3);
}
END_TEST

START_TEST(test_clean_every_byte)
{
	char	 in[1], out[META_NAME_MAX + 1];
	size_t	 n;
	int	 c;

	for (c = 0; c < 256; c++) {
		in[0] = (char)c;
		n = json_clean_name(in, 1, out);
		if (c == '/' || c == '\\')
			ck_assert_uint_eq(n, 0);
		else if (c < 0x20 || c == 0x7f)
			ck_assert_str_eq(out, "_");
		else if (c < 0x80)
			ck_assert(n == 1 && out[0] == c);
		else
			ck_assert_str_eq(out, FFFD);
		if (n > 0)
			ck_assert(json_valid_name(out, n));
	}
}
END_TEST

static Suite *
json_suite(void)
{
	Suite	*s = suite_create("json");
	TCase	*tc;

	tc = tcase_create("update_valid");
	tcase_add_test(tc, test_update_name_only);
	tcase_add_test(tc, test_update_type_only);
	tcase_add_test(tc, test_update_both);
	tcase_add_test(tc, test_update_whitespace);
	tcase_add_test(tc, test_update_escapes);
	tcase_add_test(tc, test_update_explicit_len);
	suite_add_tcase(s, tc);

	tc = tcase_create("update_invalid");
	tcase_add_test(tc, test_update_unknown_property);
	tcase_add_test(tc, test_update_key_nul);
	tcase_add_test(tc, test_update_unknown_long_key);
	tcase_add_test(tc, test_update_empty_object);
	tcase_add_test(tc, test_update_wrong_types);
	tcase_add_test(tc, test_update_not_object);
	tcase_add_test(tc, test_update_scalar);
	tcase_add_test(tc, test_update_why_bounded);
	suite_add_tcase(s, tc);

	tc = tcase_create("update_name");
	tcase_add_test(tc, test_name_empty);
	tcase_add_test(tc, test_name_length);
	tcase_add_test(tc, test_name_length_escaped);
	tcase_add_test(tc, test_name_separators);
	tcase_add_test(tc, test_name_nul);
	tcase_add_test(tc, test_name_raw_controls);
	tcase_add_test(tc, test_name_controls);
	tcase_add_test(tc, test_name_valid_utf8);
	tcase_add_test(tc, test_name_invalid_utf8);
	tcase_add_test(tc, test_name_overlong);
	tcase_add_test(tc, test_name_surrogates);
	suite_add_tcase(s, tc);

	tc = tcase_create("update_type");
	tcase_add_test(tc, test_type_valid);
	tcase_add_test(tc, test_type_invalid);
	tcase_add_test(tc, test_type_length);
	tcase_add_test(tc, test_type_nul);
	suite_add_tcase(s, tc);

	tc = tcase_create("update_syntax");
	tcase_add_test(tc, test_syntax);
	tcase_add_test(tc, test_syntax_trailing);
	tcase_add_test(tc, test_syntax_comments);
	tcase_add_test(tc, test_syntax_truncated_len);
	tcase_add_test(tc, test_syntax_deep);
	suite_add_tcase(s, tc);

	tc = tcase_create("meta");
	tcase_add_test(tc, test_meta_fields);
	tcase_add_test(tc, test_meta_big_size);
	tcase_add_test(tc, test_meta_exact);
	tcase_add_test(tc, test_meta_escaped_name);
	suite_add_tcase(s, tc);

	tc = tcase_create("error");
	tcase_add_test(tc, test_error_no_hash);
	tcase_add_test(tc, test_error_hash);
	tcase_add_test(tc, test_error_escaped_reason);
	suite_add_tcase(s, tc);

	tc = tcase_create("string");
	tcase_add_test(tc, test_string_escapes);
	tcase_add_test(tc, test_string_keeps);
	tcase_add_test(tc, test_string_every_byte);
	suite_add_tcase(s, tc);

	tc = tcase_create("clean_name");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_clean_plain);
	tcase_add_test(tc, test_clean_directories);
	tcase_add_test(tc, test_clean_controls);
	tcase_add_test(tc, test_clean_invalid_utf8);
	tcase_add_test(tc, test_clean_truncation);
	tcase_add_test(tc, test_clean_truncation_after_dir);
	tcase_add_test(tc, test_clean_empty);
	tcase_add_test(tc, test_clean_every_byte);
	tcase_add_test(tc, test_clean_property);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(json_suite)
