/*
 * Unit tests of the tus 1.0.0 and RFC 9530 header parsing (tus.c), the
 * digests (digest.c, vectors from sha1sum/sha256sum/sha512sum of "abc"),
 * and the hash state a resumable upload keeps between requests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "hash.h"
#include "tus.h"
#include "testutil.h"

#define SHA1_ABC	"qZk+NkcGgWq6PiVxeFDCbJzQ2J0="
#define SHA256_ABC	"ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
#define SHA512_ABC	"3a81oZNherrMQXNJriBBMRLm+k6JqX6iCp7u5ktV05ohkpkqJ0/" \
	"BqDa6PCOj/uu9RU1EI2Q86A4qmslPpUyknw=="

/* --- ids --- */

START_TEST(test_id_new)
{
	char	 a[TUS_ID_LEN + 1], b[TUS_ID_LEN + 1];
	int	 i;

	for (i = 0; i < 1000; i++) {
		tus_id_new(a);
		ck_assert_uint_eq(strlen(a), TUS_ID_LEN);
		ck_assert(tus_id_valid(a, strlen(a)));
		tus_id_new(b);
		ck_assert_str_ne(a, b);
	}
}
END_TEST

START_TEST(test_id_invalid)
{
	static const char *const bad[] = {
		"", "AbCdEfGhIjKlMnOpQr-_0", "AbCdEfGhIjKlMnOpQr-_09x",
		"AbCdEfGhIjKlMnOpQr+_09", "AbCdEfGhIjKlMnOpQr/_09",
		"AbCdEfGhIjKlMnOpQr=_09", "AbCdEfGhIjKlMnOpQr _09",
		"AbCdEfGhIjKlMnOpQr.._9", "\xc3\xa9" "CdEfGhIjKlMnOpQr-_09",
	};
	size_t	 i;

	ck_assert(tus_id_valid("AbCdEfGhIjKlMnOpQr-_09", TUS_ID_LEN));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!tus_id_valid(bad[i], strlen(bad[i])), "%s",
		    bad[i]);
	/* An embedded NUL within the length. */
	ck_assert(!tus_id_valid("AbCdEfGhIjKlMnOpQr\0_09", TUS_ID_LEN));
	ck_assert(!tus_id_valid(NULL, TUS_ID_LEN));
}
END_TEST

/* --- Upload-Offset, Upload-Length --- */

START_TEST(test_size)
{
	static const char *const bad[] = {
		"", "-1", "+1", " 1", "1 ", "1a", "0x10", "1.0",
		"9223372036854775808", "99999999999999999999",
	};
	uint64_t	 v;
	size_t		 i;

	ck_assert_int_eq(tus_parse_size("0", &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(tus_parse_size("4294967297", &v), 0);
	ck_assert_uint_eq(v, 4294967297ULL);
	ck_assert_int_eq(tus_parse_size("9223372036854775807", &v), 0);
	ck_assert_uint_eq(v, 9223372036854775807ULL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(tus_parse_size(bad[i], &v) == -1, "%s", bad[i]);
}
END_TEST

/* --- Upload-Metadata --- */

START_TEST(test_metadata_pairs)
{
	struct tus_metadata	 md;

	/* The tus specification's own example. */
	ck_assert_int_eq(tus_parse_metadata("filename d29ybGQucHJvZ3JhbQ==,"
	    "is_confidential", &md), TUS_OK);
	ck_assert(md.has_filename);
	ck_assert_str_eq(md.filename, "world.program");
	ck_assert_uint_eq(md.filename_len, 13);
	ck_assert_uint_eq(md.filetype_len, 0);

	ck_assert_int_eq(tus_parse_metadata("relativePath bnVsbA==, filetype "
	    "dGV4dC9wbGFpbg==,  filename d29ybGQucHJvZ3JhbQ== ", &md), TUS_OK);
	ck_assert_str_eq(md.filetype, "text/plain");
	ck_assert_str_eq(md.filename, "world.program");

	/* Bytes are kept as they decode, a NUL included (cleaned later). */
	ck_assert_int_eq(tus_parse_metadata("filename YQBi", &md), TUS_OK);
	ck_assert_uint_eq(md.filename_len, 3);
	ck_assert(memcmp(md.filename, "a\0b", 3) == 0);

	ck_assert_int_eq(tus_parse_metadata("", &md), TUS_OK);
	ck_assert(!md.has_filename);
	ck_assert_int_eq(tus_parse_metadata("filename", &md), TUS_OK);
	ck_assert(md.has_filename);
	ck_assert_uint_eq(md.filename_len, 0);
}
END_TEST

START_TEST(test_metadata_malformed)
{
	static const char *const bad[] = {
		"filename abc",			/* not a multiple of 4 */
		"filename ab!=",		/* not base64 */
		"filename d29ybGQ_cHJvZ3JhbQ==", /* base64url */
		"filename d29ybGQucHJvZ3JhbQ==,",	/* an empty key */
		",filename d29ybGQucHJvZ3JhbQ==",
		"a YQ==,a YQ==",		/* a key twice */
		"filename YQ==,filename Yg==",
		"fil\xc3\xa9name YQ==",		/* not ASCII */
		"filename YQ== YQ==",
	};
	struct tus_metadata	 md;
	char			*big;
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(tus_parse_metadata(bad[i], &md) ==
		    TUS_ERR_SYNTAX, "%s", bad[i]);
	/* Longer than TUS_METADATA_MAX, or a value past TUS_VALUE_MAX. */
	big = malloc(TUS_METADATA_MAX + 16);
	ck_assert_ptr_nonnull(big);
	memcpy(big, "filename ", 9);
	memset(big + 9, 'A', TUS_METADATA_MAX);
	big[9 + TUS_METADATA_MAX] = '\0';
	ck_assert_int_eq(tus_parse_metadata(big, &md), TUS_ERR_SYNTAX);
	big[9 + 2000] = '\0';
	ck_assert_int_eq(tus_parse_metadata(big, &md), TUS_ERR_SYNTAX);
	big[9 + 1360] = '\0';	/* 1020 bytes decoded: fits */
	ck_assert_int_eq(tus_parse_metadata(big, &md), TUS_OK);
	ck_assert_uint_eq(md.filename_len, 1020);
	free(big);
}
END_TEST

/* --- Upload-Checksum --- */

static void
check_digest_of_abc(const struct digest *d, enum digest_alg alg)
{
	struct digest_ctx	 c;

	ck_assert_int_eq(d->alg, alg);
	digest_init(&c, alg);
	digest_update(&c, "a", 1);
	digest_update(&c, "bc", 2);
	ck_assert(digest_matches(&c, d));
	digest_init(&c, alg);
	digest_update(&c, "abd", 3);
	ck_assert(!digest_matches(&c, d));
}

START_TEST(test_checksum)
{
	struct digest	 d;

	ck_assert_int_eq(tus_parse_checksum("sha1 " SHA1_ABC, &d), TUS_OK);
	check_digest_of_abc(&d, DIGEST_SHA1);
	ck_assert_int_eq(tus_parse_checksum("sha256 " SHA256_ABC, &d), TUS_OK);
	check_digest_of_abc(&d, DIGEST_SHA256);
	ck_assert_int_eq(tus_parse_checksum("sha512 " SHA512_ABC, &d), TUS_OK);
	check_digest_of_abc(&d, DIGEST_SHA512);

	ck_assert_int_eq(tus_parse_checksum("md5 " SHA1_ABC, &d),
	    TUS_ERR_ALGORITHM);
	ck_assert_int_eq(tus_parse_checksum("SHA1 " SHA1_ABC, &d),
	    TUS_ERR_ALGORITHM);
	ck_assert_int_eq(tus_parse_checksum("sha1", &d), TUS_ERR_SYNTAX);
	ck_assert_int_eq(tus_parse_checksum("sha1 ", &d), TUS_ERR_SYNTAX);
	/* A digest of another algorithm's length. */
	ck_assert_int_eq(tus_parse_checksum("sha1 " SHA256_ABC, &d),
	    TUS_ERR_SYNTAX);
	ck_assert_int_eq(tus_parse_checksum("sha256 " SHA1_ABC, &d),
	    TUS_ERR_SYNTAX);
	ck_assert_int_eq(tus_parse_checksum("sha1 qZk+NkcGgWq6PiVxeFDCbJzQ2J0",
	    &d), TUS_ERR_SYNTAX);
	ck_assert_int_eq(tus_parse_checksum("sha1  " SHA1_ABC, &d),
	    TUS_ERR_SYNTAX);
}
END_TEST

/* No digest given: everything matches. */
START_TEST(test_digest_none)
{
	struct digest_ctx	 c;
	struct digest		 none;

	memset(&none, 0, sizeof(none));
	digest_init(&c, DIGEST_NONE);
	digest_update(&c, "x", 1);
	ck_assert(digest_matches(&c, &none));
	ck_assert_uint_eq(digest_size(DIGEST_NONE), 0);
}
END_TEST

/* --- Content-Digest (RFC 9530) --- */

START_TEST(test_content_digest)
{
	struct digest	 d;

	ck_assert_int_eq(tus_parse_content_digest("sha-256=:" SHA256_ABC ":",
	    &d), TUS_OK);
	check_digest_of_abc(&d, DIGEST_SHA256);
	/* The strongest one we know, wherever it stands. */
	ck_assert_int_eq(tus_parse_content_digest("sha-256=:" SHA256_ABC ":, "
	    "sha-512=:" SHA512_ABC ":", &d), TUS_OK);
	check_digest_of_abc(&d, DIGEST_SHA512);
	ck_assert_int_eq(tus_parse_content_digest("sha-512=:" SHA512_ABC ":,"
	    "sha-256=:" SHA256_ABC ":", &d), TUS_OK);
	check_digest_of_abc(&d, DIGEST_SHA512);
	/* Others are skipped, parameters too. */
	ck_assert_int_eq(tus_parse_content_digest("md5=:AAAA:, unixsum=:AA==:,"
	    " sha-256=:" SHA256_ABC ":;x=1", &d), TUS_OK);
	check_digest_of_abc(&d, DIGEST_SHA256);
	ck_assert_int_eq(tus_parse_content_digest("md5=:AAAA:", &d),
	    TUS_ERR_NONE);
	/* sha1 is tus's, not RFC 9530's. */
	ck_assert_int_eq(tus_parse_content_digest("sha1=:" SHA1_ABC ":", &d),
	    TUS_ERR_NONE);
}
END_TEST

START_TEST(test_content_digest_malformed)
{
	static const char *const bad[] = {
		"", "sha-256", "sha-256=", "sha-256=" SHA256_ABC,
		"sha-256=:" SHA256_ABC, "SHA-256=:" SHA256_ABC ":",
		"sha-256=:" SHA1_ABC ":",	/* the wrong length */
		"sha-256=:!!!!:", "sha-256=:" SHA256_ABC ":,",
		"=:" SHA256_ABC ":",
	};
	struct digest	 d;
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(tus_parse_content_digest(bad[i], &d) ==
		    TUS_ERR_SYNTAX, "%s", bad[i]);
}
END_TEST

START_TEST(test_repr_digest)
{
	char	 out[TUS_REPR_DIGEST_MAX];

	/* sha256sum of nothing. */
	ck_assert_int_eq(tus_repr_digest("e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855", out), 0);
	ck_assert_str_eq(out, "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3"
	    "hSuFU=:");
	ck_assert_uint_eq(strlen(out), TUS_REPR_DIGEST_MAX - 1);
	ck_assert_int_eq(tus_repr_digest("", out), -1);
	ck_assert_int_eq(tus_repr_digest("e3b0", out), -1);
	ck_assert_int_eq(tus_repr_digest("x3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855", out), -1);
}
END_TEST

/* --- the hash state between requests --- */

/*
 * A resumable upload stores struct hash_ctx as bytes after each PATCH and
 * continues from them in another process: the result must be the hash of
 * the whole, BLAKE2b and SHA-256 alike, wherever the cut falls.
 */
START_TEST(test_state_survives_a_copy)
{
	static unsigned char	 data[300000];
	struct hash_ctx		 whole, first, *saved;
	char			 want[HASH_HEX_LEN + 1], got[HASH_HEX_LEN + 1];
	char			 want_sha[HASH_HEX_LEN + 1], got_sha[HASH_HEX_LEN + 1];
	size_t			 cut = (size_t)_i * 37337 % sizeof(data), i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 7 + 3);
	hash_init_with_sha256(&whole);
	hash_update(&whole, data, sizeof(data));
	hash_final_hex(&whole, want);
	hash_final_sha256_hex(&whole, want_sha);

	hash_init_with_sha256(&first);
	hash_update(&first, data, cut);
	saved = malloc(sizeof(*saved));
	ck_assert_ptr_nonnull(saved);
	memcpy(saved, &first, sizeof(first));
	memset(&first, 0xa5, sizeof(first));	/* the old process is gone */
	hash_update(saved, data + cut, sizeof(data) - cut);
	hash_final_hex(saved, got);
	hash_final_sha256_hex(saved, got_sha);
	free(saved);
	ck_assert_str_eq(got, want);
	ck_assert_str_eq(got_sha, want_sha);
}
END_TEST

/* hash_init does not compute SHA-256: its hex is empty. */
START_TEST(test_sha256_only_when_asked)
{
	struct hash_ctx	 h;
	char		 hex[HASH_HEX_LEN + 1], sha[HASH_HEX_LEN + 1];

	hash_init(&h);
	hash_update(&h, "abc", 3);
	hash_final_hex(&h, hex);
	hash_final_sha256_hex(&h, sha);
	ck_assert_str_eq(sha, "");
	hash_init_with_sha256(&h);
	hash_update(&h, "abc", 3);
	hash_final_hex(&h, hex);
	hash_final_sha256_hex(&h, sha);
	ck_assert_str_eq(sha, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9c"
	    "b410ff61f20015ad");
	ck_assert_str_eq(hex, "bddd813c634239723171ef3fee98579b94964e3bb1cb3e42"
	    "7262c8c068d52319");
}
END_TEST

static Suite *
tus_suite(void)
{
	Suite	*s = suite_create("tus");
	TCase	*tc;

	if (hash_library_init() == -1)
		abort();
	tc = tcase_create("ids");
	tcase_add_test(tc, test_id_new);
	tcase_add_test(tc, test_id_invalid);
	tcase_add_test(tc, test_size);
	suite_add_tcase(s, tc);

	tc = tcase_create("metadata");
	tcase_add_test(tc, test_metadata_pairs);
	tcase_add_test(tc, test_metadata_malformed);
	suite_add_tcase(s, tc);

	tc = tcase_create("digests");
	tcase_add_test(tc, test_checksum);
	tcase_add_test(tc, test_digest_none);
	tcase_add_test(tc, test_content_digest);
	tcase_add_test(tc, test_content_digest_malformed);
	tcase_add_test(tc, test_repr_digest);
	suite_add_tcase(s, tc);

	tc = tcase_create("state");
	tcase_add_loop_test(tc, test_state_survives_a_copy, 0, 12);
	tcase_add_test(tc, test_sha256_only_when_asked);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(tus_suite)
