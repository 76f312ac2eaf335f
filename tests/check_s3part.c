/*
 * Unit tests of the S3 backend's resumable-upload helpers that need no
 * server: which tmp/ names are a resumable upload's (its multipart
 * upload's key or a tail), and the upload id they carry, which is opaque
 * to the store (1 to STORE_PART_ID_MAX of A-Z a-z 0-9 - _).  The requests
 * themselves run against tests/s3stub in the integration scenarios
 * (resumable_s3.sh).
 */
#include <string.h>

#include "store_s3_impl.h"
#include "testutil.h"

#define ID	"AbCdEfGhIjKlMnOpQrSt_-"	/* as a tus id */
#define ID64	"0123456789012345678901234567890123456789012345678901234567890123"

START_TEST(test_part_names)
{
	char	 id[STORE_PART_ID_MAX + 1];

	memset(id, 'x', sizeof(id));
	ck_assert(s3st_part_name("part-" ID, id));
	ck_assert_str_eq(id, ID);
	ck_assert(s3st_part_name("part-" ID ".1", id));
	ck_assert_str_eq(id, ID);
	ck_assert(s3st_part_name("part-" ID ".10000", id));
	/* Any length up to the store's maximum: the id is the caller's. */
	ck_assert(s3st_part_name("part-x", id));
	ck_assert_str_eq(id, "x");
	ck_assert(s3st_part_name("part-" ID64 ".2", id));
	ck_assert_str_eq(id, ID64);
}
END_TEST

START_TEST(test_not_part_names)
{
	char	 id[STORE_PART_ID_MAX + 1] = "";

	/* A plain upload's temp object, trash, an empty or long id. */
	ck_assert(!s3st_part_name("0123456789abcdef0123456789abcdef", id));
	ck_assert(!s3st_part_name("part-", id));
	ck_assert(!s3st_part_name("part-.1", id));
	ck_assert(!s3st_part_name("part-" ID64 "x", id));
	ck_assert(!s3st_part_name("part-" ID ".", id));
	ck_assert(!s3st_part_name("part-" ID ".1x", id));
	ck_assert(!s3st_part_name("part-" ID ".-1", id));
	ck_assert(!s3st_part_name("part-AbCdEfGhIjKlMnOpQrS!_", id));
	ck_assert(!s3st_part_name("tail-" ID ".1", id));
	ck_assert_str_eq(id, "");	/* untouched when not one */
}
END_TEST

static Suite *
s3part_suite(void)
{
	Suite	*s = suite_create("s3part");
	TCase	*tc = tcase_create("names");

	tcase_add_test(tc, test_part_names);
	tcase_add_test(tc, test_not_part_names);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(s3part_suite)
