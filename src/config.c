#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "config.h"
#include "hostlist.h"
#include "num.h"

#define DEFAULT_ROOT_DIR	"/server"
#define DEFAULT_DB_PORT		5432

/* An environment value, NULL when unset or empty. */
static const char *
env(const char *name)
{
	const char	*v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

static char *
dup_or_null(const char *s)
{
	char	*p;

	if (s == NULL)
		return NULL;
	if ((p = strdup(s)) == NULL)
		abort();
	return p;
}

/*
 * A number from the environment in [min, max], def when unset.  Returns 0,
 * or -1 with "NAME=value is not <what> (min-max)" in err.
 */
static int
env_number(const char *name, uint64_t min, uint64_t max, uint64_t def,
    const char *what, uint64_t *out, char *err, size_t errlen)
{
	const char	*v = env(name);

	*out = def;
	if (v != NULL && parse_u64(v, min, max, out) == -1) {
		snprintf(err, errlen, "%s=%.64s is not %s (%llu-%llu)", name, v,
		    what, (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	return 0;
}

/* base + "/" + leaf, without doubling the slash. */
static char *
join(const char *base, const char *leaf)
{
	size_t	 n = strlen(base);
	char	*p;

	while (n > 0 && base[n - 1] == '/')
		n--;
	if (asprintf(&p, "%.*s/%s", (int)n, base, leaf) == -1)
		abort();
	return p;
}

int
config_load(struct config *cfg, char *err, size_t errlen)
{
	const char	*v;
	uint64_t	 n;
	size_t		 nhosts;

	memset(cfg, 0, sizeof(*cfg));

	if ((v = env("DB_TYPE")) != NULL && strcmp(v, "postgresql") != 0) {
		snprintf(err, errlen, "DB_TYPE=%.64s is not supported "
		    "(the only supported value is postgresql)", v);
		return -1;
	}
	if (env_number("MAX_UPLOAD_SIZE", 1, INT64_MAX, CFG_DEFAULT_MAX_UPLOAD,
	    "a byte count", &cfg->max_upload_size, err, errlen) == -1)
		return -1;
	if (env_number("UPLOAD_MIN_RATE", 0, CFG_MAX_MIN_RATE,
	    CFG_DEFAULT_MIN_RATE, "a rate in bytes per second",
	    &cfg->body_rules.min_rate, err, errlen) == -1)
		return -1;
	if (env_number("UPLOAD_RATE_WINDOW", 1, CFG_MAX_SECONDS,
	    CFG_DEFAULT_RATE_WINDOW, "a number of seconds", &n, err,
	    errlen) == -1)
		return -1;
	cfg->body_rules.window_ms = n * 1000;
	/* UPLOAD_TIMEOUT (API.md); UPLOAD_STALL_TIMEOUT is its older name. */
	if (env_number(env("UPLOAD_TIMEOUT") != NULL ? "UPLOAD_TIMEOUT" :
	    "UPLOAD_STALL_TIMEOUT", 1, CFG_MAX_SECONDS, CFG_DEFAULT_STALL,
	    "a number of seconds", &n, err, errlen) == -1)
		return -1;
	cfg->body_rules.stall_ms = n * 1000;
	if (env_number("FILEUPLOAD_THREADS", 1, CFG_MAX_THREADS,
	    CFG_DEFAULT_THREADS, "a thread count", &n, err, errlen) == -1)
		return -1;
	cfg->threads = (unsigned)n;
	if (env_number("DB_POOL_SIZE", 1, CFG_MAX_POOL, CFG_DEFAULT_POOL,
	    "a connection count", &n, err, errlen) == -1)
		return -1;
	cfg->db_pool_size = (unsigned)n;
	if (env_number("UPLOAD_EXPIRES", 1, CFG_MAX_UPLOAD_EXPIRES,
	    CFG_DEFAULT_UPLOAD_EXPIRES, "a number of seconds", &n, err,
	    errlen) == -1)
		return -1;
	cfg->upload_expires = (unsigned)n;
	if ((v = env("STORAGE")) != NULL && strcmp(v, "s3") == 0) {
		if ((cfg->s3 = s3_config_load(cfg->max_upload_size, err,
		    errlen)) == NULL)
			return -1;
	} else if (v != NULL && strcmp(v, "local") != 0) {
		snprintf(err, errlen, "STORAGE=%.64s is not local or s3", v);
		return -1;
	}
	/*
	 * DB_HOST and DB_PORT may be lists, paired as libpq pairs them.  The
	 * last check: only the S3 settings are allocated before it.
	 */
	if (hostlist_hosts(env("DB_HOST"), &nhosts, err, errlen) == -1 ||
	    hostlist_ports(env("DB_PORT"), nhosts, DEFAULT_DB_PORT,
	    &cfg->db_port, err, errlen) == -1) {
		s3_config_free(cfg->s3);
		cfg->s3 = NULL;
		return -1;
	}

	cfg->db_user = dup_or_null(env("DB_USER"));
	/* An empty password is a password: keep it as given. */
	cfg->db_password = dup_or_null(getenv("DB_PASSWORD"));
	cfg->db_host = dup_or_null(env("DB_HOST"));
	cfg->db_name = dup_or_null(env("DB_NAME"));

	cfg->write_token = dup_or_null(env("FILEUPLOAD_TOKEN"));
	cfg->read_token = dup_or_null(env("FILEUPLOAD_READ_TOKEN"));
	cfg->metrics_token = dup_or_null(env("FILEUPLOAD_METRICS_TOKEN"));
	cfg->metrics_file = dup_or_null(env("FILEUPLOAD_METRICS_FILE"));

	v = env("ROOT_DIR");
	cfg->root_dir = dup_or_null(v != NULL ? v : DEFAULT_ROOT_DIR);
	v = env("LOG_DIR");
	cfg->log_dir = v != NULL ? dup_or_null(v) : join(cfg->root_dir, "logs");
	v = env("DATA_DIR");
	cfg->data_dir = v != NULL ? dup_or_null(v) : join(cfg->root_dir, "data");
	return 0;
}

void
config_free(struct config *cfg)
{
	free(cfg->db_user);
	free(cfg->db_password);
	free(cfg->db_host);
	free(cfg->db_port);
	free(cfg->db_name);
	free(cfg->root_dir);
	free(cfg->log_dir);
	free(cfg->data_dir);
	s3_config_free(cfg->s3);
	if (cfg->write_token != NULL)
		sodium_memzero(cfg->write_token, strlen(cfg->write_token));
	if (cfg->read_token != NULL)
		sodium_memzero(cfg->read_token, strlen(cfg->read_token));
	if (cfg->metrics_token != NULL)
		sodium_memzero(cfg->metrics_token, strlen(cfg->metrics_token));
	free(cfg->write_token);
	free(cfg->read_token);
	free(cfg->metrics_token);
	free(cfg->metrics_file);
	memset(cfg, 0, sizeof(*cfg));
}
