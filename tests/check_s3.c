/*
 * Unit tests of the S3 client's listing iterator on pages fed to it
 * (s3_list_take): what each kind of listing reads from its XML, which
 * items it skips, and the next page's markers; which answers are retried
 * and after what wait.  The requests themselves run against tests/s3stub
 * in the integration scenarios.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3.h"
#include "testutil.h"

static struct s3	 client;	/* no request is sent */

static void
feed(struct s3_list *l, const char *xml)
{
	char	*body = strdup(xml);

	ck_assert_ptr_nonnull(body);
	s3_list_take(l, body);
}

START_TEST(test_objects)
{
	struct s3_list	 l;
	struct s3_item	 it;

	s3_list_begin(&l, &client, S3_LIST_OBJECTS, "p/", NULL);
	feed(&l, "<ListBucketResult><IsTruncated>false</IsTruncated>"
	    "<Contents><Key>p/a&amp;b</Key>"
	    "<LastModified>2026-11-30T07:30:02.000Z</LastModified>"
	    "<Size>12</Size></Contents>"
	    "<Contents><Key>p/nosize</Key>"
	    "<LastModified>2026-11-30T07:30:02.000Z</LastModified></Contents>"
	    "<Contents><Key>q/other</Key>"
	    "<LastModified>2026-11-30T07:30:02.000Z</LastModified>"
	    "<Size>1</Size></Contents>"
	    "<Contents><Key>p/b</Key><LastModified>bad</LastModified>"
	    "<Size>5368709120</Size></Contents>"
	    "</ListBucketResult>");
	ck_assert(!l.more);
	ck_assert_int_eq(s3_list_next(&l, &it), 1);
	ck_assert_str_eq(it.key, "p/a&b");
	ck_assert_uint_eq(it.size, 12);
	ck_assert_int_eq(it.mtime, 1796023802);
	/* No Size, and a key outside the prefix: skipped. */
	ck_assert_int_eq(s3_list_next(&l, &it), 1);
	ck_assert_str_eq(it.key, "p/b");
	ck_assert_uint_eq(it.size, 5368709120ULL);
	ck_assert_int_eq(it.mtime, -1);
	ck_assert_int_eq(s3_list_next(&l, &it), 0);
	ck_assert_int_eq(s3_list_next(&l, &it), 0);
	s3_list_end(&l);
}
END_TEST

START_TEST(test_objects_truncated)
{
	struct s3_list	 l;

	s3_list_begin(&l, &client, S3_LIST_OBJECTS, "", NULL);
	ck_assert_str_eq(l.token, "");
	feed(&l, "<ListBucketResult><IsTruncated>true</IsTruncated>"
	    "<NextContinuationToken>1/a+b=</NextContinuationToken>"
	    "</ListBucketResult>");
	ck_assert(l.more);
	ck_assert_str_eq(l.token, "1/a+b=");
	/* Truncated without a token: no way on, so the end. */
	feed(&l, "<ListBucketResult><IsTruncated>true</IsTruncated>"
	    "</ListBucketResult>");
	ck_assert(!l.more);
	s3_list_end(&l);
}
END_TEST

START_TEST(test_uploads)
{
	struct s3_list	 l;
	struct s3_item	 it;

	s3_list_begin(&l, &client, S3_LIST_UPLOADS, "tmp/", NULL);
	feed(&l, "<ListMultipartUploadsResult>"
	    "<IsTruncated>true</IsTruncated>"
	    "<NextKeyMarker>tmp/k2</NextKeyMarker>"
	    "<NextUploadIdMarker>id2</NextUploadIdMarker>"
	    "<Upload><Key>tmp/k1</Key><UploadId>id1</UploadId>"
	    "<Initiated>2026-11-30T07:30:02.000Z</Initiated></Upload>"
	    "<Upload><Key>tmp/k2</Key>"
	    "<Initiated>2026-11-30T07:30:02.000Z</Initiated></Upload>"
	    "</ListMultipartUploadsResult>");
	ck_assert(l.more);
	ck_assert_str_eq(l.token, "tmp/k2");
	ck_assert_str_eq(l.imark, "id2");
	ck_assert_int_eq(s3_list_next(&l, &it), 1);
	ck_assert_str_eq(it.key, "tmp/k1");
	ck_assert_str_eq(it.upload_id, "id1");
	ck_assert_int_eq(it.mtime, 1796023802);
	/* Without an UploadIdMarker the next page cannot be asked for. */
	feed(&l, "<ListMultipartUploadsResult>"
	    "<IsTruncated>true</IsTruncated>"
	    "<NextKeyMarker>tmp/k3</NextKeyMarker>"
	    "</ListMultipartUploadsResult>");
	ck_assert(!l.more);
	ck_assert_int_eq(s3_list_next(&l, &it), 0);
	s3_list_end(&l);
}
END_TEST

START_TEST(test_parts)
{
	struct s3_list	 l;
	struct s3_item	 it;

	s3_list_begin(&l, &client, S3_LIST_PARTS, "tmp/part-x", "up");
	ck_assert_str_eq(l.token, "0");		/* the first marker */
	ck_assert_str_eq(l.upload_id, "up");
	feed(&l, "<ListPartsResult><IsTruncated>false</IsTruncated>"
	    "<Part><PartNumber>1</PartNumber><ETag>&quot;e1&quot;</ETag>"
	    "<Size>5242880</Size></Part>"
	    "<Part><PartNumber>2</PartNumber><Size>3</Size></Part>"
	    "<Part><PartNumber>3</PartNumber><ETag>\"e3\"</ETag>"
	    "<Size>3</Size></Part>"
	    "</ListPartsResult>");
	ck_assert_int_eq(s3_list_next(&l, &it), 1);
	ck_assert_uint_eq(it.part, 1);
	/* As listed, for the manifest of CompleteMultipartUpload. */
	ck_assert_str_eq(it.etag, "&quot;e1&quot;");
	ck_assert_uint_eq(it.size, 5242880);
	ck_assert_int_eq(s3_list_next(&l, &it), 1);
	ck_assert_uint_eq(it.part, 3);
	ck_assert_str_eq(it.etag, "\"e3\"");
	ck_assert_int_eq(s3_list_next(&l, &it), 0);
	s3_list_end(&l);
}
END_TEST

/* --- retries --- */

static uint32_t	 last_upper;

/* The injected random source: its lowest, then its highest value. */
static uint32_t
lowest(uint32_t upper)
{
	last_upper = upper;
	return 0;
}

static uint32_t
highest(uint32_t upper)
{
	last_upper = upper;
	return upper - 1;
}

/* Full jitter: 0 to 100 ms, doubling each retry, at most 2 s. */
START_TEST(test_backoff)
{
	static const unsigned ceiling[] = { 100, 200, 400, 800, 1600, 2000,
	    2000, 2000 };
	unsigned	 i;

	for (i = 0; i < sizeof(ceiling) / sizeof(ceiling[0]); i++) {
		ck_assert_uint_eq(s3_backoff_ms(i, highest), ceiling[i]);
		ck_assert_uint_eq(last_upper, ceiling[i] + 1);
		ck_assert_uint_eq(s3_backoff_ms(i, lowest), 0);
	}
	/* No overflow however many. */
	ck_assert_uint_eq(s3_backoff_ms(40, highest), S3_BACKOFF_CAP_MS);
	ck_assert_uint_eq(s3_backoff_ms(UINT32_MAX, highest),
	    S3_BACKOFF_CAP_MS);
}
END_TEST

/* A response of status with body (copied), as one attempt left it. */
static struct s3_response
answer(long status, const char *code, const char *body)
{
	struct s3_response r;

	memset(&r, 0, sizeof(r));
	r.status = status;
	snprintf(r.error, sizeof(r.error), "%s", code);
	if (body != NULL)
		ck_assert_ptr_nonnull(r.body = strdup(body));
	return r;
}

START_TEST(test_retryable)
{
	static const struct {
		long		 status;
		const char	*code, *body;
		bool		 retry;
	} cases[] = {
		{ 500, "InternalError", NULL, true },
		{ 502, "HTTP 502", NULL, true },
		{ 503, "SlowDown", NULL, true },
		{ 503, "HTTP 503", NULL, true },
		{ 504, "HTTP 504", NULL, true },
		{ 400, "RequestTimeout", NULL, true },
		{ 501, "NotImplemented", NULL, false },
		{ 505, "HTTP 505", NULL, false },
		{ 400, "BadDigest", NULL, false },
		{ 403, "SignatureDoesNotMatch", NULL, false },
		{ 404, "NoSuchUpload", NULL, false },
		{ 200, "", NULL, false },
		{ 200, "", "<CompleteMultipartUploadResult/>", false },
		/* A 200 that failed (CompleteMultipartUpload, CopyObject). */
		{ 200, "", "<Error><Code>InternalError</Code></Error>", true },
		{ 200, "", "<Error><Code>SlowDown</Code></Error>", true },
		{ 200, "", "<Error><Code>InvalidPart</Code></Error>", false },
	};
	struct s3_response r;
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = answer(cases[i].status, cases[i].code, cases[i].body);
		ck_assert_msg(s3_retryable(0, &r) == cases[i].retry,
		    "case %zu: %ld %s", i, cases[i].status, cases[i].code);
		s3_response_free(&r);
	}
	/* No answer: a connection failure is retried, our own end is not. */
	r = answer(0, "Couldn't connect to server", NULL);
	r.transport = true;
	ck_assert(s3_retryable(-1, &r));
	r.transport = false;
	ck_assert(!s3_retryable(-1, &r));
	/* Never once bytes went to the sink. */
	r.transport = true;
	r.sunk = 1;
	ck_assert(!s3_retryable(-1, &r));
	r = answer(503, "SlowDown", NULL);
	r.sunk = 1;
	ck_assert(!s3_retryable(0, &r));
}
END_TEST

/* The start-up check: wait on no answer or a 5xx, give up on a refusal. */
START_TEST(test_access)
{
	static const struct {
		long		 status;
		const char	*body;
		enum s3_result	 want;
		const char	*line;
	} cases[] = {
		{ 200, "<ListBucketResult/>", S3_OK, "" },
		{ 403, "<Error><Code>SignatureDoesNotMatch</Code></Error>",
		    S3_REFUSED, "SignatureDoesNotMatch (HTTP 403)" },
		{ 403, "<Error><Code>InvalidAccessKeyId</Code><Message>The "
		    "key\nis &lt;unknown&gt;</Message></Error>", S3_REFUSED,
		    "InvalidAccessKeyId: The key is <unknown> (HTTP 403)" },
		{ 400, "<Error><Code>ExpiredToken</Code></Error>", S3_REFUSED,
		    "ExpiredToken (HTTP 400)" },
		{ 404, "<Error><Code>NoSuchBucket</Code></Error>", S3_REFUSED,
		    "NoSuchBucket (HTTP 404)" },
		{ 403, NULL, S3_REFUSED, "no error code (HTTP 403)" },
		{ 503, "<Error><Code>SlowDown</Code></Error>", S3_UNAVAILABLE,
		    "SlowDown (HTTP 503)" },
		{ 502, NULL, S3_UNAVAILABLE, "no error code (HTTP 502)" },
		{ 200, "<Error><Code>AccessDenied</Code></Error>", S3_REFUSED,
		    "AccessDenied (HTTP 200)" },
	};
	struct s3_response r;
	char		 line[256];
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = answer(cases[i].status, "", cases[i].body);
		ck_assert_msg(s3_access_result(0, &r) == cases[i].want,
		    "case %zu", i);
		if (cases[i].want != S3_OK) {
			s3_describe(0, &r, line, sizeof(line));
			ck_assert_str_eq(line, cases[i].line);
		}
		s3_response_free(&r);
	}
	/* No answer, whatever the reason: the store may come. */
	r = answer(0, "Couldn't connect to server", NULL);
	ck_assert(s3_access_result(-1, &r) == S3_UNAVAILABLE);
	s3_describe(-1, &r, line, sizeof(line));
	ck_assert_str_eq(line, "Couldn't connect to server");
	r.transport = true;
	ck_assert(s3_access_result(-1, &r) == S3_UNAVAILABLE);
}
END_TEST

static Suite *
s3_suite(void)
{
	Suite	*s = suite_create("s3");
	TCase	*tc = tcase_create("list");

	tcase_add_test(tc, test_objects);
	tcase_add_test(tc, test_objects_truncated);
	tcase_add_test(tc, test_uploads);
	tcase_add_test(tc, test_parts);
	suite_add_tcase(s, tc);
	tc = tcase_create("retry");
	tcase_add_test(tc, test_backoff);
	tcase_add_test(tc, test_retryable);
	tcase_add_test(tc, test_access);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(s3_suite)
