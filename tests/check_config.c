/*
 * Unit tests of the worker configuration: defaults, overrides and the
 * refusal of bad values, from the environment of docs/api.md.
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "testutil.h"

static const char *const vars[] = {
	"DB_TYPE", "DB_USER", "DB_PASSWORD", "DB_HOST", "DB_PORT", "DB_NAME",
	"ROOT_DIR", "LOG_DIR", "DATA_DIR", "MAX_UPLOAD_SIZE",
	"FILEUPLOAD_TOKEN", "FILEUPLOAD_READ_TOKEN",
	"UPLOAD_MIN_RATE", "UPLOAD_RATE_WINDOW", "UPLOAD_STALL_TIMEOUT",
	"UPLOAD_TIMEOUT", "FILEUPLOAD_THREADS", "DB_POOL_SIZE",
	"STORAGE", "S3_ENDPOINT", "S3_BUCKET", "S3_REGION", "S3_PREFIX",
	"S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID",
	"AWS_SECRET_ACCESS_KEY", "S3_ADDRESSING", "S3_PART_SIZE",
	"S3_SWEEP_GRACE",
	"FILEUPLOAD_METRICS_TOKEN", "FILEUPLOAD_METRICS_FILE",
	"FILEUPLOAD_TEMP_FILES", "FILEUPLOAD_REGEX_SKIP",
	"FILEUPLOAD_SLOTS_PER_CLIENT",
	"FILEUPLOAD_EVENTS_KEEP", "FILEUPLOAD_EVENTS_WAITERS",
	"FILEUPLOAD_TUS_MAX_UPLOADS", "FILEUPLOAD_TUS_MAX_BYTES",
	"FILEUPLOAD_TUS_TOKEN_MAX_UPLOADS", "FILEUPLOAD_TUS_TOKEN_MAX_BYTES",
	"FILEUPLOAD_MIN_FREE",
	"S3_SESSION_TOKEN", "AWS_SESSION_TOKEN", "S3_RETRIES",
	"S3_RETRY_SECONDS", "S3_STALL_SECONDS",
	"DB_PASSWORD_FILE", "FILEUPLOAD_TOKEN_FILE", "FILEUPLOAD_READ_TOKEN_FILE",
	"FILEUPLOAD_METRICS_TOKEN_FILE", "S3_SECRET_ACCESS_KEY_FILE",
	"AWS_SECRET_ACCESS_KEY_FILE", "S3_SESSION_TOKEN_FILE",
	"AWS_SESSION_TOKEN_FILE", "FILEUPLOAD_LOG_FORMAT", "FILEUPLOAD_LOG_TO",
	"FILEUPLOAD_LINK_SECRET", "FILEUPLOAD_LINK_SECRET_FILE",
};

static void
clean_env(void)
{
	size_t	 i;

	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		ck_assert_int_eq(unsetenv(vars[i]), 0);
}

static void
set(const char *name, const char *value)
{
	ck_assert_int_eq(setenv(name, value, 1), 0);
}

/* Loads the configuration, which must succeed. */
static void
load_ok(struct config *cfg)
{
	char	 err[256] = "";

	memset(cfg, 0x5a, sizeof(*cfg));
	ck_assert_msg(config_load(cfg, err, sizeof(err)) == 0, "refused: %s",
	    err);
}

/* Loads the configuration, which must fail with a reason naming what. */
static void
load_fails(const char *what)
{
	struct config	 cfg;
	char		 err[256];

	memset(err, 0, sizeof(err));
	ck_assert_int_eq(config_load(&cfg, err, sizeof(err)), -1);
	ck_assert_msg(err[0] != '\0', "no reason given");
	ck_assert_ptr_null(strchr(err, '\n'));
	ck_assert_msg(strstr(err, what) != NULL, "\"%s\" not in \"%s\"", what,
	    err);
	/* Nothing to free, and freeing is safe. */
	config_free(&cfg);
}

/* --- the log's form and destination --- */

START_TEST(test_log_settings)
{
	struct config	 cfg;

	load_ok(&cfg);
	ck_assert_int_eq(cfg.log_format, LOG_TEXT);
	ck_assert(!cfg.log_stdout);
	config_free(&cfg);
	set("FILEUPLOAD_LOG_FORMAT", "json");
	set("FILEUPLOAD_LOG_TO", "stdout");
	load_ok(&cfg);
	ck_assert_int_eq(cfg.log_format, LOG_JSON);
	ck_assert(cfg.log_stdout);
	config_free(&cfg);
	set("FILEUPLOAD_LOG_FORMAT", "text");
	set("FILEUPLOAD_LOG_TO", "files");
	load_ok(&cfg);
	ck_assert_int_eq(cfg.log_format, LOG_TEXT);
	ck_assert(!cfg.log_stdout);
	config_free(&cfg);
}
END_TEST

START_TEST(test_log_settings_refused)
{
	static const char *const bad[] = { "JSON", "logfmt", "json ", "1" };
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		set("FILEUPLOAD_LOG_FORMAT", bad[i]);
		load_fails("FILEUPLOAD_LOG_FORMAT");
		load_fails("text or json");
	}
	unsetenv("FILEUPLOAD_LOG_FORMAT");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		set("FILEUPLOAD_LOG_TO", bad[i]);
		load_fails("FILEUPLOAD_LOG_TO");
		load_fails("files or stdout");
	}
	set("FILEUPLOAD_LOG_TO", "stderr");
	load_fails("FILEUPLOAD_LOG_TO");
}
END_TEST

/* --- defaults --- */

START_TEST(test_defaults)
{
	struct config	 cfg;

	load_ok(&cfg);
	ck_assert_str_eq(cfg.root_dir, "/server");
	ck_assert_str_eq(cfg.log_dir, "/server/logs");
	ck_assert_str_eq(cfg.data_dir, "/server/data");
	ck_assert_str_eq(cfg.db_port, "5432");
	ck_assert_uint_eq(cfg.max_upload_size, 10ULL * 1024 * 1024 * 1024);
	ck_assert_uint_eq(cfg.max_upload_size, CFG_DEFAULT_MAX_UPLOAD);
	ck_assert_ptr_null(cfg.db_user);
	ck_assert_ptr_null(cfg.db_password);
	ck_assert_ptr_null(cfg.db_host);
	ck_assert_ptr_null(cfg.db_name);
	ck_assert_ptr_null(cfg.write_token);
	ck_assert_ptr_null(cfg.read_token);
	ck_assert_uint_eq(cfg.body_rules.min_rate, 1024);
	ck_assert_uint_eq(cfg.body_rules.window_ms, 30000);
	ck_assert_uint_eq(cfg.body_rules.stall_ms, 60000);
	config_free(&cfg);
}
END_TEST

START_TEST(test_defaults_empty_values)
{
	struct config	 cfg;
	size_t		 i;

	/* An empty variable is an unset one (DB_PASSWORD aside). */
	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (strcmp(vars[i], "DB_PASSWORD") != 0)
			set(vars[i], "");
	load_ok(&cfg);
	ck_assert_str_eq(cfg.root_dir, "/server");
	ck_assert_str_eq(cfg.log_dir, "/server/logs");
	ck_assert_str_eq(cfg.data_dir, "/server/data");
	ck_assert_str_eq(cfg.db_port, "5432");
	ck_assert_uint_eq(cfg.max_upload_size, CFG_DEFAULT_MAX_UPLOAD);
	ck_assert_ptr_null(cfg.db_user);
	ck_assert_ptr_null(cfg.db_host);
	ck_assert_ptr_null(cfg.db_name);
	ck_assert_ptr_null(cfg.write_token);
	ck_assert_ptr_null(cfg.read_token);
	config_free(&cfg);
}
END_TEST

START_TEST(test_defaults_derived_dirs)
{
	struct config	 cfg;

	set("ROOT_DIR", "/srv/fu");
	load_ok(&cfg);
	ck_assert_str_eq(cfg.root_dir, "/srv/fu");
	ck_assert_str_eq(cfg.log_dir, "/srv/fu/logs");
	ck_assert_str_eq(cfg.data_dir, "/srv/fu/data");
	config_free(&cfg);

	set("ROOT_DIR", "relative");
	load_ok(&cfg);
	ck_assert_str_eq(cfg.log_dir, "relative/logs");
	ck_assert_str_eq(cfg.data_dir, "relative/data");
	config_free(&cfg);
}
END_TEST

START_TEST(test_defaults_trailing_slash)
{
	struct config	 cfg;

	set("ROOT_DIR", "/srv/fu/");
	load_ok(&cfg);
	ck_assert_str_eq(cfg.log_dir, "/srv/fu/logs");
	ck_assert_str_eq(cfg.data_dir, "/srv/fu/data");
	config_free(&cfg);

	set("ROOT_DIR", "/srv/fu///");
	load_ok(&cfg);
	ck_assert_str_eq(cfg.log_dir, "/srv/fu/logs");
	ck_assert_str_eq(cfg.data_dir, "/srv/fu/data");
	config_free(&cfg);
}
END_TEST

START_TEST(test_defaults_root_slash)
{
	struct config	 cfg;
	char		 root[64], logs[64], data[64];

	/* "without doubling the slash": "/" gives "/logs", not "//logs". */
	set("ROOT_DIR", "/");
	load_ok(&cfg);
	snprintf(root, sizeof(root), "%s", cfg.root_dir);
	snprintf(logs, sizeof(logs), "%s", cfg.log_dir);
	snprintf(data, sizeof(data), "%s", cfg.data_dir);
	config_free(&cfg);
	ck_assert_str_eq(root, "/");
	ck_assert_str_eq(logs, "/logs");
	ck_assert_str_eq(data, "/data");
}
END_TEST

/* --- overrides --- */

START_TEST(test_override_all)
{
	struct config	 cfg;

	set("DB_TYPE", "postgresql");
	set("DB_USER", "fu");
	set("DB_PASSWORD", "s3cret");
	set("DB_HOST", "db.example");
	set("DB_PORT", "6543");
	set("DB_NAME", "files");
	set("ROOT_DIR", "/r");
	set("LOG_DIR", "/var/log/fu/");
	set("DATA_DIR", "/mnt/data");
	set("MAX_UPLOAD_SIZE", "1048576");
	set("FILEUPLOAD_TOKEN", "wtok");
	set("FILEUPLOAD_READ_TOKEN", "rtok");
	load_ok(&cfg);
	ck_assert_str_eq(cfg.db_user, "fu");
	ck_assert_str_eq(cfg.db_password, "s3cret");
	ck_assert_str_eq(cfg.db_host, "db.example");
	ck_assert_str_eq(cfg.db_port, "6543");
	ck_assert_str_eq(cfg.db_name, "files");
	ck_assert_str_eq(cfg.root_dir, "/r");
	/* Given directories are taken as they are. */
	ck_assert_str_eq(cfg.log_dir, "/var/log/fu/");
	ck_assert_str_eq(cfg.data_dir, "/mnt/data");
	ck_assert_uint_eq(cfg.max_upload_size, 1048576);
	ck_assert_str_eq(cfg.write_token, "wtok");
	ck_assert_str_eq(cfg.read_token, "rtok");
	config_free(&cfg);
}
END_TEST

START_TEST(test_override_one_dir)
{
	struct config	 cfg;

	set("ROOT_DIR", "/r");
	set("DATA_DIR", "/d");
	load_ok(&cfg);
	ck_assert_str_eq(cfg.log_dir, "/r/logs");
	ck_assert_str_eq(cfg.data_dir, "/d");
	config_free(&cfg);

	unsetenv("DATA_DIR");
	set("LOG_DIR", "/l");
	load_ok(&cfg);
	ck_assert_str_eq(cfg.log_dir, "/l");
	ck_assert_str_eq(cfg.data_dir, "/r/data");
	config_free(&cfg);
}
END_TEST

START_TEST(test_override_strings_copied)
{
	struct config	 cfg;

	set("DB_HOST", "first");
	set("FILEUPLOAD_TOKEN", "tok");
	load_ok(&cfg);
	/* cfg owns copies: changing the environment changes nothing. */
	set("DB_HOST", "second");
	set("FILEUPLOAD_TOKEN", "other");
	ck_assert_str_eq(cfg.db_host, "first");
	ck_assert_str_eq(cfg.write_token, "tok");
	config_free(&cfg);
}
END_TEST

START_TEST(test_override_empty_password)
{
	struct config	 cfg;

	/* An empty password is a password. */
	set("DB_PASSWORD", "");
	load_ok(&cfg);
	ck_assert_ptr_nonnull(cfg.db_password);
	ck_assert_str_eq(cfg.db_password, "");
	config_free(&cfg);
}
END_TEST

START_TEST(test_override_ports)
{
	static const struct {
		const char	*s, *port;
	} ok[] = {
		{ "1", "1" }, { "5432", "5432" }, { "65535", "65535" },
		{ "05432", "5432" }, { "80", "80" },
	};
	struct config	 cfg;
	size_t		 i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		set("DB_PORT", ok[i].s);
		load_ok(&cfg);
		ck_assert_str_eq(cfg.db_port, ok[i].port);
		config_free(&cfg);
	}
}
END_TEST

START_TEST(test_override_host_lists)
{
	static const struct {
		const char	*hosts, *ports, *port;
	} ok[] = {
		/* One port for every host, or one per host. */
		{ "db1,db2", NULL, "5432" },
		{ "db1,db2", "6543", "6543" },
		{ "db1,db2,db3", "5432,05433,5434", "5432,5433,5434" },
		{ "/run/pg,10.0.0.2", "1,65535", "1,65535" },
		{ NULL, "7000", "7000" },
	};
	struct config	 cfg;
	size_t		 i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		clean_env();
		if (ok[i].hosts != NULL)
			set("DB_HOST", ok[i].hosts);
		if (ok[i].ports != NULL)
			set("DB_PORT", ok[i].ports);
		load_ok(&cfg);
		if (ok[i].hosts != NULL)
			ck_assert_str_eq(cfg.db_host, ok[i].hosts);
		ck_assert_str_eq(cfg.db_port, ok[i].port);
		config_free(&cfg);
	}
}
END_TEST

START_TEST(test_override_max_upload)
{
	static const struct {
		const char	*s;
		uint64_t	 n;
	} ok[] = {
		{ "1", 1 },
		{ "5000000000", 5000000000ULL },
		{ "10737418240", 10737418240ULL },
		{ "9223372036854775807", (uint64_t)INT64_MAX },
	};
	struct config	 cfg;
	size_t		 i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		set("MAX_UPLOAD_SIZE", ok[i].s);
		load_ok(&cfg);
		ck_assert_uint_eq(cfg.max_upload_size, ok[i].n);
		config_free(&cfg);
	}
}
END_TEST

START_TEST(test_override_body_rules)
{
	struct config	 cfg;

	set("UPLOAD_MIN_RATE", "0");
	set("UPLOAD_RATE_WINDOW", "1");
	set("UPLOAD_STALL_TIMEOUT", "86400");
	load_ok(&cfg);
	ck_assert_uint_eq(cfg.body_rules.min_rate, 0);
	ck_assert_uint_eq(cfg.body_rules.window_ms, 1000);
	ck_assert_uint_eq(cfg.body_rules.stall_ms, 86400000);
	config_free(&cfg);
	set("UPLOAD_MIN_RATE", "1073741824");
	set("UPLOAD_RATE_WINDOW", "86400");
	set("UPLOAD_STALL_TIMEOUT", "007");
	load_ok(&cfg);
	ck_assert_uint_eq(cfg.body_rules.min_rate, 1ULL << 30);
	ck_assert_uint_eq(cfg.body_rules.window_ms, 86400000);
	ck_assert_uint_eq(cfg.body_rules.stall_ms, 7000);
	config_free(&cfg);
	/* UPLOAD_TIMEOUT, docs/api.md's name, wins over the older one. */
	set("UPLOAD_TIMEOUT", "42");
	load_ok(&cfg);
	ck_assert_uint_eq(cfg.body_rules.stall_ms, 42000);
	config_free(&cfg);
}
END_TEST

START_TEST(test_threads_and_pool)
{
	struct config	 cfg;

	load_ok(&cfg);
	ck_assert_uint_eq(cfg.threads, CFG_DEFAULT_THREADS);
	ck_assert_uint_eq(cfg.db_pool_size, CFG_DEFAULT_POOL);
	config_free(&cfg);
	set("FILEUPLOAD_THREADS", "1");
	set("DB_POOL_SIZE", "1024");
	load_ok(&cfg);
	ck_assert_uint_eq(cfg.threads, 1);
	ck_assert_uint_eq(cfg.db_pool_size, 1024);
	config_free(&cfg);
}
END_TEST

/* The metrics' token and file: unset or empty is none. */
START_TEST(test_metrics)
{
	struct config	 cfg;

	load_ok(&cfg);
	ck_assert_ptr_null(cfg.metrics_token);
	ck_assert_ptr_null(cfg.metrics_file);
	config_free(&cfg);
	set("FILEUPLOAD_METRICS_TOKEN", "");
	set("FILEUPLOAD_METRICS_FILE", "");
	load_ok(&cfg);
	ck_assert_ptr_null(cfg.metrics_token);
	ck_assert_ptr_null(cfg.metrics_file);
	config_free(&cfg);
	set("FILEUPLOAD_METRICS_TOKEN", "m-secret");
	set("FILEUPLOAD_METRICS_FILE", "/run/fileupload/metrics");
	load_ok(&cfg);
	ck_assert_str_eq(cfg.metrics_token, "m-secret");
	ck_assert_str_eq(cfg.metrics_file, "/run/fileupload/metrics");
	config_free(&cfg);
	ck_assert_ptr_null(cfg.metrics_token);
	ck_assert_ptr_null(cfg.metrics_file);
}
END_TEST

/* The regex skip: on by default, 0 turns it off, nothing else is taken. */
START_TEST(test_regex_skip)
{
	static const char *const bad[] = { "yes", "off", "2", "-1", " 0" };
	struct config	 cfg;
	size_t		 i;

	load_ok(&cfg);
	ck_assert(cfg.regex_skip);
	config_free(&cfg);
	set("FILEUPLOAD_REGEX_SKIP", "0");
	load_ok(&cfg);
	ck_assert(!cfg.regex_skip);
	config_free(&cfg);
	set("FILEUPLOAD_REGEX_SKIP", "1");
	load_ok(&cfg);
	ck_assert(cfg.regex_skip);
	config_free(&cfg);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		set("FILEUPLOAD_REGEX_SKIP", bad[i]);
		load_fails("FILEUPLOAD_REGEX_SKIP");
	}
}
END_TEST

/* The events' retention and waiters: defaults, bounds, refusals. */
START_TEST(test_events)
{
	struct config	 cfg;

	load_ok(&cfg);
	ck_assert_uint_eq(cfg.events_keep, 7 * 86400);
	ck_assert_uint_eq(cfg.events_waiters, cfg.threads / 16);
	config_free(&cfg);
	set("FILEUPLOAD_THREADS", "8");
	load_ok(&cfg);
	ck_assert_uint_eq(cfg.events_waiters, 1);
	config_free(&cfg);
	set("FILEUPLOAD_EVENTS_WAITERS", "0");
	set("FILEUPLOAD_EVENTS_KEEP", "1");
	load_ok(&cfg);
	ck_assert_uint_eq(cfg.events_waiters, 0);
	ck_assert_uint_eq(cfg.events_keep, 1);
	config_free(&cfg);
	set("FILEUPLOAD_EVENTS_WAITERS", "9");
	load_fails("FILEUPLOAD_EVENTS_WAITERS");
	set("FILEUPLOAD_EVENTS_WAITERS", "8");
	set("FILEUPLOAD_EVENTS_KEEP", "0");
	load_fails("FILEUPLOAD_EVENTS_KEEP");
	set("FILEUPLOAD_EVENTS_KEEP", "1d");
	load_fails("FILEUPLOAD_EVENTS_KEEP");
}
END_TEST

START_TEST(test_caps)
{
	static const struct {
		const char	*name, *bad;
	} bad[] = {
		{ "FILEUPLOAD_TUS_MAX_UPLOADS", "-1" },
		{ "FILEUPLOAD_TUS_MAX_BYTES", "1G" },
		{ "FILEUPLOAD_TUS_TOKEN_MAX_UPLOADS", "x" },
		{ "FILEUPLOAD_TUS_TOKEN_MAX_BYTES", "1.5" },
		{ "FILEUPLOAD_MIN_FREE", "91%" },
		{ "FILEUPLOAD_MIN_FREE", "%" },
		{ "FILEUPLOAD_MIN_FREE", "5 %" },
		{ "FILEUPLOAD_MIN_FREE", "1GiB" },
		{ "FILEUPLOAD_MIN_FREE", "-1" },
	};
	struct config	 cfg;
	size_t		 i;

	load_ok(&cfg);
	ck_assert_uint_eq(cfg.tus_caps.uploads, CFG_DEFAULT_TUS_UPLOADS);
	ck_assert_uint_eq(cfg.tus_caps.bytes, CFG_DEFAULT_TUS_BYTES);
	ck_assert_uint_eq(cfg.tus_caps.token_uploads, 0);
	ck_assert_uint_eq(cfg.tus_caps.token_bytes, 0);
	ck_assert_uint_eq(cfg.min_free.bytes, RESERVE_DEFAULT_BYTES);
	ck_assert_uint_eq(cfg.min_free.percent, RESERVE_DEFAULT_PERCENT);
	config_free(&cfg);

	set("FILEUPLOAD_TUS_MAX_UPLOADS", "0");
	set("FILEUPLOAD_TUS_MAX_BYTES", "1000");
	set("FILEUPLOAD_TUS_TOKEN_MAX_UPLOADS", "3");
	set("FILEUPLOAD_TUS_TOKEN_MAX_BYTES", "500");
	set("FILEUPLOAD_MIN_FREE", "12%");
	load_ok(&cfg);
	ck_assert_uint_eq(cfg.tus_caps.uploads, 0);
	ck_assert_uint_eq(cfg.tus_caps.bytes, 1000);
	ck_assert_uint_eq(cfg.tus_caps.token_uploads, 3);
	ck_assert_uint_eq(cfg.tus_caps.token_bytes, 500);
	ck_assert_uint_eq(cfg.min_free.bytes, 0);
	ck_assert_uint_eq(cfg.min_free.percent, 12);
	config_free(&cfg);
	set("FILEUPLOAD_MIN_FREE", "2048");
	load_ok(&cfg);
	ck_assert_uint_eq(cfg.min_free.bytes, 2048);
	ck_assert_uint_eq(cfg.min_free.percent, 0);
	config_free(&cfg);
	set("FILEUPLOAD_MIN_FREE", "0");
	load_ok(&cfg);
	ck_assert_uint_eq(cfg.min_free.bytes, 0);
	ck_assert_uint_eq(cfg.min_free.percent, 0);
	config_free(&cfg);
	clean_env();

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		set(bad[i].name, bad[i].bad);
		load_fails(bad[i].name);
		clean_env();
	}
}
END_TEST

/*
 * A client's share of the host's upload slots: a quarter by default, a
 * percentage or a count, 0 for none; nothing else is taken.
 */
START_TEST(test_slots_per_client)
{
	static const char *const bad[] = {
		"0%", "101%", "%", "25 %", " 25%", "25%%", "-1", "1048577",
		"ten", "25.5%", "99999999999999999999%",
	};
	struct config	 cfg;
	size_t		 i;

	load_ok(&cfg);
	ck_assert(cfg.slots_per_client_pct);
	ck_assert_uint_eq(cfg.slots_per_client, 25);
	config_free(&cfg);
	set("FILEUPLOAD_SLOTS_PER_CLIENT", "100%");
	load_ok(&cfg);
	ck_assert(cfg.slots_per_client_pct);
	ck_assert_uint_eq(cfg.slots_per_client, 100);
	config_free(&cfg);
	set("FILEUPLOAD_SLOTS_PER_CLIENT", "16");
	load_ok(&cfg);
	ck_assert(!cfg.slots_per_client_pct);
	ck_assert_uint_eq(cfg.slots_per_client, 16);
	config_free(&cfg);
	set("FILEUPLOAD_SLOTS_PER_CLIENT", "0");
	load_ok(&cfg);
	ck_assert_uint_eq(cfg.slots_per_client, 0);
	config_free(&cfg);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		set("FILEUPLOAD_SLOTS_PER_CLIENT", bad[i]);
		load_fails("FILEUPLOAD_SLOTS_PER_CLIENT");
	}
}
END_TEST

/* --- refused values --- */

START_TEST(test_bad_db_type)
{
	static const char *const bad[] = {
		"mysql", "sqlite", "PostgreSQL", "postgres", "postgresql ",
		" postgresql", "pg",
	};
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		set("DB_TYPE", bad[i]);
		load_fails(bad[i]);
		load_fails("postgresql");	/* names what would do */
	}
}
END_TEST

START_TEST(test_bad_db_type_long)
{
	char	 v[1000];

	/* The reason stays one bounded line. */
	memset(v, 'm', sizeof(v) - 1);
	v[sizeof(v) - 1] = '\0';
	set("DB_TYPE", v);
	load_fails("mmmmmmmm");
}
END_TEST

START_TEST(test_bad_db_port)
{
	static const char *const bad[] = {
		"0", "65536", "99999", "abc", "-1", "+5432", " 5432", "5432 ",
		"54 32", "0x1538", "5432abc", "1e3", "5432.0",
		"18446744073709551616", "99999999999999999999",
	};
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		set("DB_PORT", bad[i]);
		load_fails("DB_PORT");
		load_fails(bad[i]);
	}
}
END_TEST

START_TEST(test_bad_host_lists)
{
	static const struct {
		const char	*hosts, *ports, *what;
	} bad[] = {
		/* libpq would take an empty entry for its default host. */
		{ "db1,,db2", NULL, "DB_HOST" },
		{ ",db1", NULL, "DB_HOST" },
		{ "db1,", NULL, "DB_HOST" },
		{ ",", NULL, "DB_HOST" },
		/* Neither one port for all nor one per host. */
		{ "db1,db2,db3", "5432,5433", "DB_PORT" },
		{ "db1", "5432,5433", "DB_PORT" },
		{ NULL, "5432,5433", "DB_PORT" },
		/* Each port is a port. */
		{ "db1,db2", "5432,", "DB_PORT" },
		{ "db1,db2", ",5432", "DB_PORT" },
		{ "db1,db2", "5432,0", "DB_PORT" },
		{ "db1,db2", "5432,65536", "DB_PORT" },
		{ "db1,db2", "5432, 5433", "DB_PORT" },
		{ "db1,db2", "5432;5433", "DB_PORT" },
		{ "db1,db2", "5432,000000005433", "DB_PORT" },
	};
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		clean_env();
		if (bad[i].hosts != NULL)
			set("DB_HOST", bad[i].hosts);
		if (bad[i].ports != NULL)
			set("DB_PORT", bad[i].ports);
		load_fails(bad[i].what);
	}
}
END_TEST

START_TEST(test_bad_max_upload)
{
	static const char *const bad[] = {
		"0", "-5", "1x", "10G", "10 ", " 10", "+10", "1.5",
		"99999999999999999999", "18446744073709551615",
		"9223372036854775808", "0x10", "abc",
	};
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		set("MAX_UPLOAD_SIZE", bad[i]);
		load_fails("MAX_UPLOAD_SIZE");
		load_fails(bad[i]);
	}
}
END_TEST

START_TEST(test_bad_body_rules)
{
	static const struct {
		const char	*name, *value;
	} bad[] = {
		{ "UPLOAD_MIN_RATE", "-1" },
		{ "UPLOAD_MIN_RATE", "1k" },
		{ "UPLOAD_MIN_RATE", "1073741825" },
		{ "UPLOAD_MIN_RATE", "1.5" },
		{ "UPLOAD_RATE_WINDOW", "0" },
		{ "UPLOAD_RATE_WINDOW", "86401" },
		{ "UPLOAD_RATE_WINDOW", "30s" },
		{ "UPLOAD_STALL_TIMEOUT", "0" },
		{ "UPLOAD_STALL_TIMEOUT", "86401" },
		{ "UPLOAD_STALL_TIMEOUT", " 60" },
		{ "UPLOAD_STALL_TIMEOUT", "99999999999999999999" },
		{ "UPLOAD_TIMEOUT", "0" },
		{ "UPLOAD_TIMEOUT", "1m" },
		{ "FILEUPLOAD_THREADS", "0" },
		{ "FILEUPLOAD_THREADS", "4097" },
		{ "DB_POOL_SIZE", "0" },
		{ "DB_POOL_SIZE", "8 " },
	};
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		clean_env();
		set(bad[i].name, bad[i].value);
		load_fails(bad[i].name);
		load_fails(bad[i].value);
	}
}
END_TEST

START_TEST(test_bad_first_wins)
{
	/* Every bad value is refused, whatever else is set. */
	set("DB_PORT", "1");
	set("MAX_UPLOAD_SIZE", "0");
	load_fails("MAX_UPLOAD_SIZE");
	set("MAX_UPLOAD_SIZE", "1");
	set("DB_PORT", "0");
	load_fails("DB_PORT");
}
END_TEST

/* --- free --- */

/* --- STORAGE --- */

START_TEST(test_storage_local)
{
	struct config	 cfg;

	load_ok(&cfg);
	ck_assert_ptr_null(cfg.s3);
	/* What store_open is given. */
	ck_assert_str_eq(cfg.store.scheme, "local");
	ck_assert_ptr_eq(cfg.store.data_dir, cfg.data_dir);
	ck_assert(!cfg.store.named_temp_files);
	config_free(&cfg);
	set("STORAGE", "local");
	set("FILEUPLOAD_TEMP_FILES", "named");
	load_ok(&cfg);
	ck_assert_ptr_null(cfg.s3);
	ck_assert(cfg.store.named_temp_files);
	config_free(&cfg);
}
END_TEST

START_TEST(test_storage_s3)
{
	struct config	 cfg;

	set("STORAGE", "s3");
	set("S3_ENDPOINT", "http://127.0.0.1:9000");
	set("S3_BUCKET", "files");
	set("AWS_ACCESS_KEY_ID", "AK");
	set("AWS_SECRET_ACCESS_KEY", "SK");
	load_ok(&cfg);
	ck_assert_ptr_nonnull(cfg.s3);
	ck_assert_str_eq(cfg.s3->bucket, "files");
	ck_assert_str_eq(cfg.store.scheme, "s3");
	ck_assert_ptr_eq(cfg.store.s3, cfg.s3);
	ck_assert_str_eq(cfg.s3->host, "127.0.0.1:9000");
	config_free(&cfg);
	ck_assert_ptr_null(cfg.s3);
}
END_TEST

START_TEST(test_storage_refused)
{
	set("STORAGE", "disk");
	load_fails("STORAGE=disk is not local or s3");
	set("STORAGE", "S3");
	load_fails("STORAGE=S3 is not local or s3");
	set("STORAGE", "s3");
	load_fails("S3_ENDPOINT is required");
	set("S3_ENDPOINT", "http://127.0.0.1:9000");
	set("S3_BUCKET", "files");
	set("S3_ACCESS_KEY_ID", "AK");
	set("S3_SECRET_ACCESS_KEY", "SK");
	/* 100 GiB in 8 MiB parts is 12800 parts. */
	set("MAX_UPLOAD_SIZE", "107374182400");
	load_fails("at most 10000 parts");
}
END_TEST

/* Good S3 settings, for the tests of one of them. */
static void
set_s3(void)
{
	set("STORAGE", "s3");
	set("S3_ENDPOINT", "http://127.0.0.1:9000");
	set("S3_BUCKET", "files");
	set("S3_ACCESS_KEY_ID", "AK");
	set("S3_SECRET_ACCESS_KEY", "SK");
}

START_TEST(test_storage_s3_limits)
{
	struct config	 cfg;

	set_s3();
	/* 5 TiB, S3's limit for one object, in 5 GiB parts. */
	set("S3_PART_SIZE", "5368709120");
	set("MAX_UPLOAD_SIZE", "5497558138880");
	load_ok(&cfg);
	ck_assert_uint_eq(cfg.max_upload_size, 5ULL << 40);
	config_free(&cfg);
	set("MAX_UPLOAD_SIZE", "5497558138881");
	load_fails("MAX_UPLOAD_SIZE=5497558138881 is over the object store's "
	    "limit of 5 TiB");
	/* Local storage has no such limit. */
	set("STORAGE", "local");
	load_ok(&cfg);
	config_free(&cfg);
}
END_TEST

START_TEST(test_storage_s3_retries)
{
	struct config	 cfg;

	set_s3();
	load_ok(&cfg);
	ck_assert_uint_eq(cfg.s3->retries, 3);
	ck_assert_uint_eq(cfg.s3->retry_seconds, 10);
	ck_assert_uint_eq(cfg.s3->stall_seconds, 30);
	ck_assert_ptr_null(cfg.s3->session_token);
	config_free(&cfg);
	set("S3_RETRIES", "0");
	set("S3_RETRY_SECONDS", "300");
	set("S3_STALL_SECONDS", "600");
	load_ok(&cfg);
	ck_assert_uint_eq(cfg.s3->retries, 0);
	ck_assert_uint_eq(cfg.s3->retry_seconds, 300);
	ck_assert_uint_eq(cfg.s3->stall_seconds, 600);
	config_free(&cfg);
	set("S3_STALL_SECONDS", "601");
	load_fails("S3_STALL_SECONDS=601 is not a number of seconds (1-600)");
	set("S3_STALL_SECONDS", "1");
	set("S3_RETRIES", "11");
	load_fails("S3_RETRIES=11 is not a number of retries (0-10)");
	set("S3_RETRIES", "2");
	set("S3_RETRY_SECONDS", "0");
	load_fails("S3_RETRY_SECONDS=0 is not a number of seconds (1-300)");
}
END_TEST

START_TEST(test_storage_s3_session_token)
{
	struct config	 cfg;

	set_s3();
	set("AWS_SESSION_TOKEN", "IQoJb3JpZ2luX2VjE/+abc==");
	load_ok(&cfg);
	ck_assert_str_eq(cfg.s3->session_token, "IQoJb3JpZ2luX2VjE/+abc==");
	config_free(&cfg);
	/* S3_SESSION_TOKEN first, as S3_SECRET_ACCESS_KEY. */
	set("S3_SESSION_TOKEN", "s3.token-1");
	load_ok(&cfg);
	ck_assert_str_eq(cfg.s3->session_token, "s3.token-1");
	config_free(&cfg);
	/* A header's value cannot hold a line break. */
	set("S3_SESSION_TOKEN", "a\r\nX-Evil: 1");
	load_fails("the session token (S3_SESSION_TOKEN or AWS_SESSION_TOKEN) "
	    "is not one");
}
END_TEST

/*
 * The endpoint's host: an address (v4, or v6 in brackets) or a name of one
 * label takes path style; https needs a name, which a certificate carries.
 */
START_TEST(test_storage_s3_endpoint_host)
{
	static const struct {
		const char	*endpoint;
		bool		 path_style;
	} ok[] = {
		{ "http://192.0.2.7", true },
		{ "http://192.0.2.7:9000", true },
		{ "http://[2001:db8::7]", true },
		{ "http://[2001:db8::7]:9000", true },
		{ "http://minio:9000", true },
		{ "http://s3.example.com", false },
		{ "http://s3.example.com:8080", false },
		{ "https://s3.example.com", false },
		{ "https://rgw:8443", true },
	};
	static const char *const by_address[] = {
		"https://192.0.2.7", "https://192.0.2.7:8443",
		"https://[2001:db8::7]", "https://[::1]:8443",
	};
	struct config	 cfg;
	size_t		 i;

	set_s3();
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		set("S3_ENDPOINT", ok[i].endpoint);
		load_ok(&cfg);
		ck_assert_msg(cfg.s3->path_style == ok[i].path_style, "%s",
		    ok[i].endpoint);
		config_free(&cfg);
	}
	for (i = 0; i < sizeof(by_address) / sizeof(by_address[0]); i++) {
		set("S3_ENDPOINT", by_address[i]);
		load_fails("https needs the name the store's certificate "
		    "carries");
	}
}
END_TEST

/* --- secrets from files (NAME_FILE) --- */

static char	*secrets_dir;

static void
secrets_setup(void)
{
	clean_env();
	secrets_dir = test_mkdtemp();
}

static void
secrets_teardown(void)
{
	test_rmtree(secrets_dir);
	free(secrets_dir);
	clean_env();
}

/* A file of secrets_dir holding len bytes of text; its path (static). */
static const char *
secret_file(const char *name, const char *text, size_t len)
{
	static char	 path[PATH_MAX];
	FILE		*f;

	snprintf(path, sizeof(path), "%s/%s", secrets_dir, name);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

START_TEST(test_secret_files)
{
	static const struct {
		const char	*var;
		size_t		 off;	/* of its char * in struct config */
	} secrets[] = {
		{ "DB_PASSWORD", offsetof(struct config, db_password) },
		{ "FILEUPLOAD_TOKEN", offsetof(struct config, write_token) },
		{ "FILEUPLOAD_READ_TOKEN", offsetof(struct config, read_token) },
		{ "FILEUPLOAD_METRICS_TOKEN", offsetof(struct config,
		    metrics_token) },
	};
	struct config	 cfg;
	char		 name[64];
	size_t		 i;

	for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
		snprintf(name, sizeof(name), "%s_FILE", secrets[i].var);
		/* One trailing newline goes, the rest stays. */
		set(name, secret_file(secrets[i].var, " s3cr=t \n\n", 10));
		load_ok(&cfg);
		ck_assert_str_eq(*(char **)((char *)&cfg + secrets[i].off),
		    " s3cr=t \n");
		config_free(&cfg);
		/* Without a newline: all of it. */
		set(name, secret_file(secrets[i].var, "abc", 3));
		load_ok(&cfg);
		ck_assert_str_eq(*(char **)((char *)&cfg + secrets[i].off),
		    "abc");
		config_free(&cfg);
		ck_assert_int_eq(unsetenv(name), 0);
	}
}
END_TEST

/* The share links' secret: unset (the pool makes one), 16 bytes or more. */
START_TEST(test_link_secret)
{
	struct config	 cfg;

	load_ok(&cfg);
	ck_assert_ptr_null(cfg.link_secret);
	config_free(&cfg);
	set("FILEUPLOAD_LINK_SECRET", "0123456789abcdef");
	load_ok(&cfg);
	ck_assert_str_eq(cfg.link_secret, "0123456789abcdef");
	config_free(&cfg);
	ck_assert_ptr_null(cfg.link_secret);
	set("FILEUPLOAD_LINK_SECRET", "0123456789abcde");
	load_fails("FILEUPLOAD_LINK_SECRET must be at least 16 bytes");
	ck_assert_int_eq(unsetenv("FILEUPLOAD_LINK_SECRET"), 0);
	set("FILEUPLOAD_LINK_SECRET_FILE", secret_file("link",
	    "a secret from a file\n", 21));
	load_ok(&cfg);
	ck_assert_str_eq(cfg.link_secret, "a secret from a file");
	config_free(&cfg);
	set("FILEUPLOAD_LINK_SECRET", "0123456789abcdef");
	load_fails("FILEUPLOAD_LINK_SECRET and FILEUPLOAD_LINK_SECRET_FILE are "
	    "both set: give one");
}
END_TEST

START_TEST(test_secret_files_s3)
{
	struct config	 cfg;

	set_s3();
	ck_assert_int_eq(unsetenv("S3_SECRET_ACCESS_KEY"), 0);
	set("S3_SECRET_ACCESS_KEY_FILE", secret_file("sk", "from-file\n", 10));
	set("AWS_SESSION_TOKEN_FILE", secret_file("tok", "FQoG/+x==\n", 10));
	load_ok(&cfg);
	ck_assert_str_eq(cfg.s3->secret_key, "from-file");
	ck_assert_str_eq(cfg.s3->session_token, "FQoG/+x==");
	config_free(&cfg);
	ck_assert_int_eq(unsetenv("S3_SECRET_ACCESS_KEY_FILE"), 0);
	ck_assert_int_eq(unsetenv("AWS_SESSION_TOKEN_FILE"), 0);
	set("S3_SESSION_TOKEN_FILE", secret_file("tok2", "tok-2", 5));
	set("AWS_SECRET_ACCESS_KEY_FILE", secret_file("sk2", "sk-2\n", 5));
	load_ok(&cfg);
	/* S3_SECRET_ACCESS_KEY (set by set_s3) was unset above. */
	ck_assert_str_eq(cfg.s3->secret_key, "sk-2");
	ck_assert_str_eq(cfg.s3->session_token, "tok-2");
	config_free(&cfg);
}
END_TEST

START_TEST(test_secret_files_refused)
{
	char	 path[PATH_MAX + 32], *big;

	/* Both the variable and its file. */
	set("FILEUPLOAD_TOKEN", "t");
	set("FILEUPLOAD_TOKEN_FILE", secret_file("t", "t\n", 2));
	load_fails("FILEUPLOAD_TOKEN and FILEUPLOAD_TOKEN_FILE are both set: "
	    "give one");
	ck_assert_int_eq(unsetenv("FILEUPLOAD_TOKEN"), 0);
	/* An empty token would open the service: refused. */
	set("FILEUPLOAD_TOKEN_FILE", secret_file("empty", "\n", 1));
	load_fails("FILEUPLOAD_TOKEN_FILE=");
	load_fails("is empty");
	ck_assert_int_eq(unsetenv("FILEUPLOAD_TOKEN_FILE"), 0);
	/* An empty password is one, as DB_PASSWORD="" is. */
	set("DB_PASSWORD_FILE", secret_file("empty", "", 0));
	{
		struct config	 cfg;

		load_ok(&cfg);
		ck_assert_str_eq(cfg.db_password, "");
		config_free(&cfg);
	}
	/* Unreadable: missing, or a directory. */
	snprintf(path, sizeof(path), "%s/missing", secrets_dir);
	set("DB_PASSWORD_FILE", path);
	load_fails("cannot be read: No such file or directory");
	set("DB_PASSWORD_FILE", secrets_dir);
	load_fails("cannot be read: Is a directory");
	ck_assert_int_eq(unsetenv("DB_PASSWORD_FILE"), 0);
	/* Too long, or with a NUL byte. */
	ck_assert_ptr_nonnull(big = calloc(1, CFG_SECRET_MAX + 1));
	memset(big, 'x', CFG_SECRET_MAX + 1);
	set("FILEUPLOAD_READ_TOKEN_FILE", secret_file("big", big,
	    CFG_SECRET_MAX + 1));
	free(big);
	load_fails("is too long");
	set("FILEUPLOAD_READ_TOKEN_FILE", secret_file("nul", "a\0b", 3));
	load_fails("holds a NUL byte");
	ck_assert_int_eq(unsetenv("FILEUPLOAD_READ_TOKEN_FILE"), 0);
	/* The S3 ones too, and both an S3_ and an AWS_ name is no conflict. */
	set_s3();
	set("S3_SECRET_ACCESS_KEY_FILE", secret_file("sk", "sk", 2));
	load_fails("S3_SECRET_ACCESS_KEY and S3_SECRET_ACCESS_KEY_FILE are "
	    "both set");
	ck_assert_int_eq(unsetenv("S3_SECRET_ACCESS_KEY_FILE"), 0);
	set("AWS_SESSION_TOKEN", "x");
	set("AWS_SESSION_TOKEN_FILE", secret_file("tok", "y", 1));
	load_fails("AWS_SESSION_TOKEN and AWS_SESSION_TOKEN_FILE are both set");
}
END_TEST

START_TEST(test_free_twice)
{
	struct config	 cfg;

	set("DB_USER", "u");
	set("FILEUPLOAD_TOKEN", "t");
	set("FILEUPLOAD_READ_TOKEN", "r");
	load_ok(&cfg);
	config_free(&cfg);
	ck_assert_ptr_null(cfg.db_user);
	ck_assert_ptr_null(cfg.write_token);
	ck_assert_ptr_null(cfg.read_token);
	ck_assert_ptr_null(cfg.data_dir);
	config_free(&cfg);

	memset(&cfg, 0, sizeof(cfg));
	config_free(&cfg);
}
END_TEST

static Suite *
config_suite(void)
{
	Suite	*s = suite_create("config");
	TCase	*tc;

	tc = tcase_create("defaults");
	tcase_add_checked_fixture(tc, clean_env, clean_env);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_defaults_empty_values);
	tcase_add_test(tc, test_defaults_derived_dirs);
	tcase_add_test(tc, test_defaults_trailing_slash);
	tcase_add_test(tc, test_defaults_root_slash);
	suite_add_tcase(s, tc);

	tc = tcase_create("overrides");
	tcase_add_checked_fixture(tc, clean_env, clean_env);
	tcase_add_test(tc, test_override_all);
	tcase_add_test(tc, test_override_one_dir);
	tcase_add_test(tc, test_override_strings_copied);
	tcase_add_test(tc, test_override_empty_password);
	tcase_add_test(tc, test_override_ports);
	tcase_add_test(tc, test_override_host_lists);
	tcase_add_test(tc, test_override_max_upload);
	tcase_add_test(tc, test_override_body_rules);
	tcase_add_test(tc, test_threads_and_pool);
	tcase_add_test(tc, test_metrics);
	tcase_add_test(tc, test_regex_skip);
	tcase_add_test(tc, test_slots_per_client);
	tcase_add_test(tc, test_caps);
	tcase_add_test(tc, test_log_settings);
	suite_add_tcase(s, tc);

	tc = tcase_create("refused");
	tcase_add_checked_fixture(tc, clean_env, clean_env);
	tcase_add_test(tc, test_bad_db_type);
	tcase_add_test(tc, test_log_settings_refused);
	tcase_add_test(tc, test_bad_db_type_long);
	tcase_add_test(tc, test_bad_db_port);
	tcase_add_test(tc, test_bad_host_lists);
	tcase_add_test(tc, test_bad_max_upload);
	tcase_add_test(tc, test_bad_body_rules);
	tcase_add_test(tc, test_bad_first_wins);
	suite_add_tcase(s, tc);

	tc = tcase_create("storage");
	tcase_add_checked_fixture(tc, clean_env, clean_env);
	tcase_add_test(tc, test_storage_local);
	tcase_add_test(tc, test_storage_s3);
	tcase_add_test(tc, test_storage_refused);
	tcase_add_test(tc, test_storage_s3_limits);
	tcase_add_test(tc, test_storage_s3_retries);
	tcase_add_test(tc, test_storage_s3_session_token);
	tcase_add_test(tc, test_storage_s3_endpoint_host);
	suite_add_tcase(s, tc);

	tc = tcase_create("secret files");
	tcase_add_checked_fixture(tc, secrets_setup, secrets_teardown);
	tcase_add_test(tc, test_secret_files);
	tcase_add_test(tc, test_link_secret);
	tcase_add_test(tc, test_secret_files_s3);
	tcase_add_test(tc, test_secret_files_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("free");
	tcase_add_checked_fixture(tc, clean_env, clean_env);
	tcase_add_test(tc, test_free_twice);
	tcase_add_test(tc, test_events);
	suite_add_tcase(s, tc);

	return s;
}

TEST_MAIN(config_suite)
