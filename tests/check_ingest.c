/*
 * Unit tests of the commit protocol (ingest_record): bytes fsynced, row
 * inserted, file renamed into place, COMMIT; on a real local store in a
 * fresh DATA_DIR and the database double (db_double.h).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "db_double.h"
#include "hash.h"
#include "ingest.h"
#include "meta.h"
#include "store.h"
#include "testutil.h"

static struct store	*st;
static struct store_tmp	 tmp;
static struct meta	 m;
static struct db_tx	*tx;
static int		 inserts;

static void
setup(void)
{
	const char	*data = "the bytes of a file";
	struct hash_ctx	 h;
	char		 err[256];

	ck_assert_int_ne(hash_library_init(), -1);
	test_dir_make();
	double_reset();
	st = store_open(&(struct store_config){ .scheme = "local",
	    .data_dir = test_dir }, err, sizeof(err));
	ck_assert_msg(st != NULL, "%s", err);
	memset(&tmp, 0, sizeof(tmp));
	tmp.fd = -1;
	ck_assert_int_eq(store_tmp_create(st, &tmp), STORE_OK);
	ck_assert_int_eq(store_tmp_write(st, &tmp, data, strlen(data)),
	    STORE_OK);
	memset(&m, 0, sizeof(m));
	hash_init(&h);
	hash_update(&h, data, strlen(data));
	hash_final_hex(&h, m.hash);
	snprintf(m.name, sizeof(m.name), "a.txt");
	snprintf(m.type, sizeof(m.type), "text/plain");
	m.size = strlen(data);
	tx = NULL;
	inserts = 0;
}

static void
teardown(void)
{
	store_tmp_abort(st, &tmp);
	store_close(st);
	test_dir_remove();
}

static enum db_error
insert(void *arg, struct db_tx **t, struct meta *row)
{
	ck_assert_ptr_eq(arg, &inserts);
	ck_assert_ptr_eq(t, &tx);
	inserts++;
	/* The bytes are not in place before the row is. */
	ck_assert(!store_exists(st, row->hash));
	return db_insert_begin(t, row);
}

START_TEST(test_recorded)
{
	struct outcome	 o;

	o = ingest_record(st, &tx, &tmp, &m, insert, &inserts);
	ck_assert_int_eq(o.status, 0);
	ck_assert_int_eq(inserts, 1);
	ck_assert_ptr_null(tx);
	ck_assert_int_eq(double_db.commits, 1);
	ck_assert_ptr_nonnull(double_file(m.hash));
	ck_assert(store_exists(st, m.hash));
	/* The row's timestamps come back filled. */
	ck_assert_str_ne(m.created_at, "");
}
END_TEST

/* The same bytes are recorded: 403, and nothing of this file in place. */
START_TEST(test_duplicate)
{
	struct outcome	 o;

	double_add_file(m.hash, m.size);
	o = ingest_record(st, &tx, &tmp, &m, insert, &inserts);
	ck_assert_int_eq(o.status, 403);
	ck_assert_ptr_null(tx);
	ck_assert_int_eq(double_db.open_txs, 0);
	ck_assert_int_eq(double_db.commits, 0);
	ck_assert(!store_exists(st, m.hash));
}
END_TEST

START_TEST(test_database_gone)
{
	struct outcome	 o;

	double_db.unavailable = true;
	o = ingest_record(st, &tx, &tmp, &m, insert, &inserts);
	ck_assert_int_eq(o.status, 503);
	ck_assert_ptr_null(tx);
	ck_assert(!store_exists(st, m.hash));
}
END_TEST

/*
 * A COMMIT that fails: the row is not there, but the file stays in place
 * (another upload of the same bytes may already rely on it).
 */
START_TEST(test_commit_fails)
{
	struct outcome	 o;

	double_db.commit_fails = DB_ERR_UNKNOWN;
	o = ingest_record(st, &tx, &tmp, &m, insert, &inserts);
	ck_assert_int_eq(o.status, 503);
	ck_assert_ptr_null(tx);
	ck_assert_int_eq(double_db.open_txs, 0);
	ck_assert_ptr_null(double_file(m.hash));
	ck_assert(store_exists(st, m.hash));
}
END_TEST

static Suite *
ingest_suite(void)
{
	Suite	*s = suite_create("ingest");
	TCase	*tc = test_dir_tcase("record", setup, teardown);

	tcase_add_test(tc, test_recorded);
	tcase_add_test(tc, test_duplicate);
	tcase_add_test(tc, test_database_gone);
	tcase_add_test(tc, test_commit_fails);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(ingest_suite)
