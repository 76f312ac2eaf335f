#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "config.h"

#define DEFAULT_ROOT_DIR	"/server"
#define DEFAULT_DB_PORT		5432

int
parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long	 v;
	char			*end;

	/* strtoull accepts spaces and a sign: allow digits only. */
	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

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

	memset(cfg, 0, sizeof(*cfg));

	if ((v = env("DB_TYPE")) != NULL && strcmp(v, "postgresql") != 0) {
		snprintf(err, errlen, "DB_TYPE=%.64s is not supported "
		    "(the only supported value is postgresql)", v);
		return -1;
	}
	cfg->db_port = DEFAULT_DB_PORT;
	if ((v = env("DB_PORT")) != NULL) {
		if (parse_u64(v, 1, 65535, &n) == -1) {
			snprintf(err, errlen, "DB_PORT=%.64s is not a port "
			    "number (1-65535)", v);
			return -1;
		}
		cfg->db_port = (unsigned)n;
	}
	cfg->max_upload_size = CFG_DEFAULT_MAX_UPLOAD;
	if ((v = env("MAX_UPLOAD_SIZE")) != NULL) {
		if (parse_u64(v, 1, INT64_MAX, &n) == -1) {
			snprintf(err, errlen, "MAX_UPLOAD_SIZE=%.64s is not a "
			    "byte count (1-%lld)", v, (long long)INT64_MAX);
			return -1;
		}
		cfg->max_upload_size = n;
	}

	cfg->db_user = dup_or_null(env("DB_USER"));
	/* An empty password is a password: keep it as given. */
	cfg->db_password = dup_or_null(getenv("DB_PASSWORD"));
	cfg->db_host = dup_or_null(env("DB_HOST"));
	cfg->db_name = dup_or_null(env("DB_NAME"));

	cfg->write_token = dup_or_null(env("FILEUPLOAD_TOKEN"));
	cfg->read_token = dup_or_null(env("FILEUPLOAD_READ_TOKEN"));

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
	free(cfg->db_name);
	free(cfg->root_dir);
	free(cfg->log_dir);
	free(cfg->data_dir);
	if (cfg->write_token != NULL)
		sodium_memzero(cfg->write_token, strlen(cfg->write_token));
	if (cfg->read_token != NULL)
		sodium_memzero(cfg->read_token, strlen(cfg->read_token));
	free(cfg->write_token);
	free(cfg->read_token);
	memset(cfg, 0, sizeof(*cfg));
}
