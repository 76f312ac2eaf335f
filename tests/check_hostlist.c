/*
 * Unit tests of several database hosts: DB_HOST and DB_PORT lists paired
 * as libpq pairs them (hostlist), and libpq's message for a list, one
 * line per host tried, kept on one log line (db_error_line).
 */
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "hostlist.h"
#include "testutil.h"

START_TEST(test_hosts_counted)
{
	static const struct {
		const char	*hosts;
		size_t		 n;
	} ok[] = {
		{ NULL, 1 }, { "db", 1 }, { "/run/postgresql", 1 },
		{ "a,b", 2 }, { "10.0.0.1,10.0.0.2,db3", 3 },
	};
	char		 err[128];
	size_t		 i, n;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		n = 0;
		ck_assert_int_eq(hostlist_hosts(ok[i].hosts, &n, err,
		    sizeof(err)), 0);
		ck_assert_uint_eq(n, ok[i].n);
	}
}
END_TEST

START_TEST(test_hosts_empty_entry)
{
	static const char *const bad[] = { ",", "a,", ",a", "a,,b", ",,," };
	char		 err[128];
	size_t		 i, n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_int_eq(hostlist_hosts(bad[i], &n, err, sizeof(err)),
		    -1);
		ck_assert_ptr_nonnull(strstr(err, "DB_HOST"));
	}
}
END_TEST

START_TEST(test_ports_paired)
{
	static const struct {
		const char	*ports;
		size_t		 nhosts;
		const char	*want;
	} ok[] = {
		{ NULL, 3, "5432" },
		{ "6543", 3, "6543" },
		{ "1,2,3", 3, "1,2,3" },
		{ "0001,065535", 2, "1,65535" },
	};
	char		 err[128], *out;
	size_t		 i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		out = NULL;
		ck_assert_int_eq(hostlist_ports(ok[i].ports, ok[i].nhosts, 5432,
		    &out, err, sizeof(err)), 0);
		ck_assert_str_eq(out, ok[i].want);
		free(out);
	}
}
END_TEST

START_TEST(test_ports_refused)
{
	static const struct {
		const char	*ports;
		size_t		 nhosts;
	} bad[] = {
		{ "1,2", 3 }, { "1,2,3", 2 }, { "1,2", 1 }, { "", 1 },
		{ ",", 2 }, { "1,", 2 }, { "1,,2", 3 }, { "1,0", 2 },
		{ "65536", 1 }, { "1, 2", 2 }, { "x", 1 }, { "00000001", 1 },
	};
	char		 err[128], *out;
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		out = NULL;
		err[0] = '\0';
		ck_assert_int_eq(hostlist_ports(bad[i].ports, bad[i].nhosts,
		    5432, &out, err, sizeof(err)), -1);
		ck_assert_ptr_null(out);
		ck_assert_ptr_nonnull(strstr(err, "DB_PORT"));
	}
}
END_TEST

START_TEST(test_error_line_hosts)
{
	char	 buf[256];

	db_error_line(buf, sizeof(buf), "connect",
	    "connection to server at \"10.0.0.1\", port 5432 failed: "
	    "Connection refused\n\tIs the server running on that host?\n"
	    "connection to server at \"10.0.0.2\", port 5432 failed: "
	    "session is read-only\n");
	ck_assert_str_eq(buf, "connect: connection to server at "
	    "\"10.0.0.1\", port 5432 failed: Connection refused Is the "
	    "server running on that host?; connection to server at "
	    "\"10.0.0.2\", port 5432 failed: session is read-only");
	db_error_line(buf, sizeof(buf), "ping", "");
	ck_assert_str_eq(buf, "ping:");
	/* Cut to fit, still terminated. */
	db_error_line(buf, 15, "connect", "a\nb\nc\nd\n");
	ck_assert_str_eq(buf, "connect: a; b");
	db_error_line(buf, 12, "connect", "a\nb\nc\nd\n");
	ck_assert_str_eq(buf, "connect: a");
}
END_TEST

static Suite *
hostlist_suite(void)
{
	Suite	*s = suite_create("hostlist");
	TCase	*tc;

	tc = tcase_create("hosts");
	tcase_add_test(tc, test_hosts_counted);
	tcase_add_test(tc, test_hosts_empty_entry);
	suite_add_tcase(s, tc);

	tc = tcase_create("ports");
	tcase_add_test(tc, test_ports_paired);
	tcase_add_test(tc, test_ports_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("error line");
	tcase_add_test(tc, test_error_line_hosts);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(hostlist_suite)
