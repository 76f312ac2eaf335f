#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "config.h"
#include "endpoint.h"
#include "hostlist.h"
#include "links.h"
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

/*
 * A secret: NAME's value, or with NAME_FILE set the content of that file
 * less one trailing newline, so that secrets can come from mounted files
 * (Docker and Kubernetes secrets, systemd credentials).  *out is malloc'd,
 * NULL when neither is set; an empty file is refused unless keep_empty
 * (a password may be empty, a token may not: that would open the service).
 * Returns 0, or -1 with the reason in err: both set, the file unreadable,
 * empty or over CFG_SECRET_MAX bytes.
 */
static int
env_secret(const char *name, bool keep_empty, char **out, char *err,
    size_t errlen)
{
	char		 fname[64], *buf;
	const char	*path, *v = getenv(name);
	FILE		*f;
	size_t		 n;
	int		 saved;

	*out = NULL;
	snprintf(fname, sizeof(fname), "%s_FILE", name);
	if ((path = env(fname)) == NULL) {
		if (v != NULL && (*v != '\0' || keep_empty))
			*out = dup_or_null(v);
		return 0;
	}
	if (v != NULL && *v != '\0') {
		snprintf(err, errlen, "%s and %s are both set: give one",
		    name, fname);
		return -1;
	}
	if ((f = fopen(path, "r")) == NULL) {
		saved = errno;
		snprintf(err, errlen, "%s=%.128s cannot be read: %s", fname,
		    path, strerror(saved));
		return -1;
	}
	if ((buf = malloc(CFG_SECRET_MAX + 2)) == NULL)
		abort();
	n = fread(buf, 1, CFG_SECRET_MAX + 1, f);
	saved = ferror(f) ? errno : 0;
	fclose(f);
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	if (saved != 0 || n > CFG_SECRET_MAX || strlen(buf) != n ||
	    (n == 0 && !keep_empty)) {
		snprintf(err, errlen, "%s=%.128s %s%s", fname, path, saved !=
		    0 ? "cannot be read: " : "", saved != 0 ? strerror(saved) :
		    n > CFG_SECRET_MAX ? "is too long (at most "
		    CFG_SECRET_MAX_TEXT " bytes)" : n == 0 ? "is empty" :
		    "holds a NUL byte");
		sodium_memzero(buf, CFG_SECRET_MAX + 2);
		free(buf);
		return -1;
	}
	*out = buf;
	return 0;
}

/* Frees a secret, wiped first; NULL-safe. */
static void
free_secret(char *s)
{
	if (s != NULL)
		sodium_memzero(s, strlen(s));
	free(s);
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

/* ------------------------------------------------------- STORAGE=s3 */

/* S3's bucket naming rules: 3-63 of a-z 0-9 . -, alphanumeric ends. */
static bool
bucket_ok(const char *b)
{
	size_t	 n = strlen(b), i;

	if (n < 3 || n > 63 || !isalnum((unsigned char)b[0]) ||
	    !isalnum((unsigned char)b[n - 1]))
		return false;
	for (i = 0; i < n; i++)
		if (!(islower((unsigned char)b[i]) ||
		    isdigit((unsigned char)b[i]) || b[i] == '.' || b[i] == '-'))
			return false;
	return true;
}

static bool
charset_ok(const char *s, const char *extra)
{
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr(extra, *s) == NULL)
			return false;
	return true;
}

/* S3_ENDPOINT, "http[s]://host[:port][/]": host and port checked, no path. */
static int
parse_endpoint(const char *v, struct s3_config *c, char *err, size_t errlen)
{
	const char	*h, *colon;
	char		 host[256];
	size_t		 n;
	uint64_t	 port = 0;

	if (strncmp(v, "http://", 7) == 0)
		h = v + 7;
	else if (strncmp(v, "https://", 8) == 0) {
		h = v + 8;
		c->https = true;
	} else
		goto bad;
	n = strlen(h);
	if (n > 0 && h[n - 1] == '/')
		n--;
	if (n == 0 || n >= sizeof(host))
		goto bad;
	memcpy(host, h, n);
	host[n] = '\0';
	if (!charset_ok(host, ".-:[]"))
		goto bad;
	if ((colon = strrchr(host, ':')) != NULL && strchr(host, ']') <
	    colon) {
		if (parse_u64(colon + 1, 1, 65535, &port) == -1)
			goto bad;
		/* The default port is left out, as curl and nginx do. */
		if (port == (c->https ? 443 : 80))
			host[colon - host] = '\0';
	}
	if (host[0] == ':' || host[0] == '\0')
		goto bad;
	c->host = dup_or_null(host);
	return 0;
bad:
	snprintf(err, errlen, "S3_ENDPOINT=%.128s is not http[s]://host[:port]",
	    v);
	return -1;
}

/*
 * An IP address, or a name of one label (localhost, a Compose service
 * such as "minio"): no bucket subdomain of it resolves, so path style.
 */
static bool
host_wants_path_style(const char *host)
{
	size_t	 name = strcspn(host, ":");

	return endpoint_host_is_address(host) || memchr(host, '.', name) == NULL;
}

static int s3_fail(struct s3_config *, char *, size_t, const char *, ...)
    __attribute__((format(printf, 4, 5)));

static int
s3_fail(struct s3_config *c, char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	config_s3_free(c);
	return -1;
}

/* S3_<what> (or its _FILE), else the AWS SDK's AWS_<what>: env_secret. */
static int
s3_secret(const char *what, char **out, char *err, size_t errlen)
{
	char	 name[64];

	snprintf(name, sizeof(name), "S3_%s", what);
	if (env_secret(name, false, out, err, errlen) == -1)
		return -1;
	if (*out != NULL)
		return 0;
	snprintf(name, sizeof(name), "AWS_%s", what);
	return env_secret(name, false, out, err, errlen);
}

static int
s3_load(struct s3_config *c, uint64_t max_upload, char *err, size_t errlen)
{
	const char	*v;
	uint64_t	 n;
	size_t		 len;

	if ((v = env("S3_ENDPOINT")) == NULL)
		return s3_fail(c, err, errlen, "S3_ENDPOINT is required with "
		    "STORAGE=s3 (e.g. http://127.0.0.1:9000)");
	if (parse_endpoint(v, c, err, errlen) == -1) {
		config_s3_free(c);
		return -1;
	}
	/*
	 * nginx matches a certificate's DNS names only (never an IP address
	 * entry): by address, the downloads would fail where uploads pass.
	 */
	if (c->https && endpoint_host_is_address(c->host))
		return s3_fail(c, err, errlen, "S3_ENDPOINT=%.128s: https needs "
		    "the name the store's certificate carries, not an address",
		    v);
	/* Read by each connection to the store: checked once, here. */
	if ((v = env("S3_CA_FILE")) != NULL && access(v, R_OK) == -1)
		return s3_fail(c, err, errlen, "S3_CA_FILE=%.128s: %s", v,
		    strerror(errno));
	c->ca_file = dup_or_null(v);
	if ((v = env("S3_BUCKET")) == NULL || !bucket_ok(v))
		return s3_fail(c, err, errlen, "S3_BUCKET=%.64s is not a bucket "
		    "name (3-63 of a-z 0-9 . -)", v != NULL ? v : "");
	c->bucket = dup_or_null(v);
	v = env("S3_REGION");
	if (v == NULL)
		v = "us-east-1";
	if (strlen(v) > 32 || !charset_ok(v, "-"))
		return s3_fail(c, err, errlen, "S3_REGION=%.64s is not a region "
		    "name", v);
	c->region = dup_or_null(v);
	v = env("S3_PREFIX");
	if (v == NULL)
		v = "";
	len = strlen(v);
	if (len > 200 || v[0] == '/' || strstr(v, "//") != NULL ||
	    strstr(v, "..") != NULL || !charset_ok(v, "-._/"))
		return s3_fail(c, err, errlen, "S3_PREFIX=%.64s is not a key prefix "
		    "(up to 200 of A-Z a-z 0-9 - . _ /, no leading /)", v);
	if (asprintf(&c->prefix, "%s%s", v,
	    len > 0 && v[len - 1] != '/' ? "/" : "") == -1)
		abort();
	if ((v = env("S3_ACCESS_KEY_ID")) == NULL)
		v = env("AWS_ACCESS_KEY_ID");
	if (s3_secret("SECRET_ACCESS_KEY", &c->secret_key, err, errlen) == -1) {
		config_s3_free(c);
		return -1;
	}
	if (v == NULL || c->secret_key == NULL)
		return s3_fail(c, err, errlen, "S3_ACCESS_KEY_ID and "
		    "S3_SECRET_ACCESS_KEY (or AWS_ACCESS_KEY_ID and "
		    "AWS_SECRET_ACCESS_KEY) are required with STORAGE=s3");
	if (strlen(v) > 128 || !charset_ok(v, "-_") ||
	    strlen(c->secret_key) > 128)
		return s3_fail(c, err, errlen, "S3_ACCESS_KEY_ID=%.64s is not an "
		    "access key id", v);
	c->access_key = dup_or_null(v);
	/* Temporary credentials (an assumed role's): their session token. */
	if (s3_secret("SESSION_TOKEN", &c->session_token, err, errlen) == -1) {
		config_s3_free(c);
		return -1;
	}
	if (c->session_token != NULL && (strlen(c->session_token) >
	    S3_TOKEN_MAX || !charset_ok(c->session_token, "+/=-_.~%")))
		return s3_fail(c, err, errlen, "the session token "
		    "(S3_SESSION_TOKEN or AWS_SESSION_TOKEN) is not one: up to "
		    "%d of A-Z a-z 0-9 + / = - _ . ~ %%", S3_TOKEN_MAX);
	v = env("S3_ADDRESSING");
	if (v == NULL || strcmp(v, "auto") == 0)
		c->path_style = host_wants_path_style(c->host);
	else if (strcmp(v, "path") == 0)
		c->path_style = true;
	else if (strcmp(v, "virtual") == 0)
		c->path_style = false;
	else
		return s3_fail(c, err, errlen, "S3_ADDRESSING=%.64s is not path, "
		    "virtual or auto", v);
	if (!c->path_style && strchr(c->bucket, '.') != NULL && c->https)
		return s3_fail(c, err, errlen, "S3_BUCKET=%.64s has dots, which "
		    "TLS cannot match in a virtual host: use S3_ADDRESSING=path",
		    c->bucket);
	if (max_upload > S3_MAX_OBJECT)
		return s3_fail(c, err, errlen, "MAX_UPLOAD_SIZE=%llu is over the "
		    "object store's limit of 5 TiB (%llu bytes) for one object",
		    (unsigned long long)max_upload,
		    (unsigned long long)S3_MAX_OBJECT);
	c->part_size = S3_DEFAULT_PART;
	if ((v = env("S3_PART_SIZE")) != NULL && parse_u64(v, S3_MIN_PART,
	    S3_MAX_PART, &c->part_size) == -1)
		return s3_fail(c, err, errlen, "S3_PART_SIZE=%.64s is not a byte "
		    "count (5242880-5368709120)", v);
	if (max_upload / c->part_size >= S3_MAX_PARTS)
		return s3_fail(c, err, errlen, "S3_PART_SIZE is too small for "
		    "MAX_UPLOAD_SIZE (at most 10000 parts)");
	n = S3_DEFAULT_GRACE;
	if ((v = env("S3_SWEEP_GRACE")) != NULL && parse_u64(v, 1,
	    CFG_MAX_SECONDS * 30, &n) == -1)
		return s3_fail(c, err, errlen, "S3_SWEEP_GRACE=%.64s is not a "
		    "number of seconds (1-2592000)", v);
	c->sweep_grace = (unsigned)n;
	if (env_number("S3_RETRIES", 0, S3_MAX_RETRIES, S3_DEFAULT_RETRIES,
	    "a number of retries", &n, err, errlen) == -1) {
		config_s3_free(c);
		return -1;
	}
	c->retries = (unsigned)n;
	if (env_number("S3_RETRY_SECONDS", 1, S3_MAX_RETRY_SECONDS,
	    S3_DEFAULT_RETRY_SECONDS, "a number of seconds", &n, err,
	    errlen) == -1) {
		config_s3_free(c);
		return -1;
	}
	c->retry_seconds = (unsigned)n;
	if (env_number("S3_STALL_SECONDS", 1, S3_MAX_STALL_SECONDS,
	    S3_DEFAULT_STALL_SECONDS, "a number of seconds", &n, err,
	    errlen) == -1) {
		config_s3_free(c);
		return -1;
	}
	c->stall_seconds = (unsigned)n;
	return 0;
}

struct s3_config *
config_s3_load(uint64_t max_upload, char *err, size_t errlen)
{
	struct s3_config *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		abort();
	return s3_load(c, max_upload, err, errlen) == 0 ? c : NULL;
}

void
config_s3_free(struct s3_config *c)
{
	if (c == NULL)
		return;
	free(c->host);
	free(c->ca_file);
	free(c->bucket);
	free(c->region);
	free(c->prefix);
	free(c->access_key);
	free_secret(c->secret_key);
	free_secret(c->session_token);
	free(c);
}

/* ---------------------------------------------------- resource caps */

/*
 * FILEUPLOAD_MIN_FREE: a byte count, or a percentage of the file
 * system's size ("5%"); 0: no reserve.  Unset: the smaller of 1 GiB and
 * 5 %.
 */
static int
load_min_free(struct reserve_rule *r, char *err, size_t errlen)
{
	const char	*v = env("FILEUPLOAD_MIN_FREE");
	char		 num[32];
	size_t		 n;
	uint64_t	 pct;

	*r = (struct reserve_rule){ RESERVE_DEFAULT_BYTES,
	    RESERVE_DEFAULT_PERCENT };
	if (v == NULL)
		return 0;
	n = strlen(v);
	if (n > 1 && n < sizeof(num) && v[n - 1] == '%') {
		memcpy(num, v, n - 1);
		num[n - 1] = '\0';
		if (parse_u64(num, 0, RESERVE_MAX_PERCENT, &pct) == 0) {
			*r = (struct reserve_rule){ 0, (unsigned)pct };
			return 0;
		}
	} else if (parse_u64(v, 0, INT64_MAX, &r->bytes) == 0) {
		r->percent = 0;
		return 0;
	}
	snprintf(err, errlen, "FILEUPLOAD_MIN_FREE=%.64s is not a byte count "
	    "or a percentage (0%%-%d%%)", v, RESERVE_MAX_PERCENT);
	return -1;
}

/* The caps on unfinished resumable uploads, and the free-space reserve. */
static int
load_caps(struct config *cfg, char *err, size_t errlen)
{
	struct quota_limits *q = &cfg->tus_caps;

	if (env_number("FILEUPLOAD_TUS_MAX_UPLOADS", 0, INT64_MAX,
	    CFG_DEFAULT_TUS_UPLOADS, "a number of uploads", &q->uploads, err,
	    errlen) == -1 || env_number("FILEUPLOAD_TUS_MAX_BYTES", 0,
	    INT64_MAX, CFG_DEFAULT_TUS_BYTES, "a byte count", &q->bytes, err,
	    errlen) == -1 || env_number("FILEUPLOAD_TUS_TOKEN_MAX_UPLOADS", 0,
	    INT64_MAX, 0, "a number of uploads", &q->token_uploads, err,
	    errlen) == -1 || env_number("FILEUPLOAD_TUS_TOKEN_MAX_BYTES", 0,
	    INT64_MAX, 0, "a byte count", &q->token_bytes, err, errlen) == -1)
		return -1;
	return load_min_free(&cfg->min_free, err, errlen);
}

/* ------------------------------------------------------------ the rest */

/* FILEUPLOAD_LOG_FORMAT and FILEUPLOAD_LOG_TO; anything else is refused. */
static int
load_log(struct config *cfg, char *err, size_t errlen)
{
	const char	*v;

	cfg->log_format = LOG_TEXT;
	if ((v = env("FILEUPLOAD_LOG_FORMAT")) != NULL &&
	    strcmp(v, "text") != 0) {
		if (strcmp(v, "json") != 0) {
			snprintf(err, errlen, "FILEUPLOAD_LOG_FORMAT=%.64s is "
			    "not text or json", v);
			return -1;
		}
		cfg->log_format = LOG_JSON;
	}
	if ((v = env("FILEUPLOAD_LOG_TO")) != NULL && strcmp(v, "files") != 0) {
		if (strcmp(v, "stdout") != 0) {
			snprintf(err, errlen, "FILEUPLOAD_LOG_TO=%.64s is not "
			    "files or stdout", v);
			return -1;
		}
		cfg->log_stdout = true;
	}
	return 0;
}

/*
 * FILEUPLOAD_WEBHOOK_URL (http or https) and its tunables.
 */
static int
load_webhook(struct config *cfg, char *err, size_t errlen)
{
	const char	*v;
	uint64_t	 n;

	if (env_number("FILEUPLOAD_WEBHOOK_TRIES", 1, CFG_MAX_WEBHOOK_TRIES,
	    CFG_DEFAULT_WEBHOOK_TRIES, "a number of tries", &n, err,
	    errlen) == -1)
		return -1;
	cfg->webhook_tries = (unsigned)n;
	if (env_number("FILEUPLOAD_WEBHOOK_TIMEOUT", 1, CFG_MAX_WEBHOOK_TIMEOUT,
	    CFG_DEFAULT_WEBHOOK_TIMEOUT, "a number of seconds", &n, err,
	    errlen) == -1)
		return -1;
	cfg->webhook_timeout = (unsigned)n;
	if (env_number("FILEUPLOAD_WEBHOOK_BACKOFF", 1, CFG_MAX_SECONDS,
	    CFG_DEFAULT_WEBHOOK_BACKOFF, "a number of seconds", &n, err,
	    errlen) == -1)
		return -1;
	cfg->webhook_backoff = (unsigned)n;
	if (env_number("FILEUPLOAD_WEBHOOK_BACKOFF_MAX", cfg->webhook_backoff,
	    CFG_MAX_SECONDS, CFG_DEFAULT_WEBHOOK_BACKOFF_MAX >
	    cfg->webhook_backoff ? CFG_DEFAULT_WEBHOOK_BACKOFF_MAX :
	    cfg->webhook_backoff, "a number of seconds from "
	    "FILEUPLOAD_WEBHOOK_BACKOFF", &n, err, errlen) == -1)
		return -1;
	cfg->webhook_backoff_max = (unsigned)n;
	if ((v = env("FILEUPLOAD_WEBHOOK_URL")) == NULL)
		return 0;
	if ((strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0) ||
	    strpbrk(v, " \t\r\n") != NULL) {
		/* Not echoed: it may hold a password. */
		snprintf(err, errlen, "FILEUPLOAD_WEBHOOK_URL is not an "
		    "http:// or https:// URL");
		return -1;
	}
	cfg->webhook_url = dup_or_null(v);
	return 0;
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
	if (load_log(cfg, err, errlen) == -1)
		return -1;
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
	/* UPLOAD_TIMEOUT (docs/api.md); UPLOAD_STALL_TIMEOUT: its older name. */
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
	if (env_number("FILEUPLOAD_REGEX_SKIP", 0, 1, 1, "0 or 1", &n, err,
	    errlen) == -1)
		return -1;
	cfg->regex_skip = n == 1;
	if (env_number("FILEUPLOAD_EVENTS_KEEP", 1, CFG_MAX_EVENTS_KEEP,
	    CFG_DEFAULT_EVENTS_KEEP, "a number of seconds", &n, err,
	    errlen) == -1)
		return -1;
	cfg->events_keep = (unsigned)n;
	n = cfg->threads / CFG_EVENTS_WAITERS_SHARE;
	if (env_number("FILEUPLOAD_EVENTS_WAITERS", 0, cfg->threads,
	    n > 0 ? n : 1, "a request count up to FILEUPLOAD_THREADS", &n, err,
	    errlen) == -1)
		return -1;
	cfg->events_waiters = (unsigned)n;
	/* FILEUPLOAD_SLOTS_PER_CLIENT: "N%" of the host's upload slots, or N. */
	{
		char	 num[16];
		size_t	 len;

		if ((v = env("FILEUPLOAD_SLOTS_PER_CLIENT")) == NULL)
			v = CFG_DEFAULT_SLOTS_PER_CLIENT;
		len = strlen(v);
		cfg->slots_per_client_pct = len > 1 && v[len - 1] == '%';
		snprintf(num, sizeof(num), "%.*s", (int)(len < sizeof(num) ?
		    len - cfg->slots_per_client_pct : 0), v);
		if (parse_u64(num, cfg->slots_per_client_pct ? 1 : 0,
		    cfg->slots_per_client_pct ? 100 : CFG_MAX_SLOTS_PER_CLIENT,
		    &n) == -1) {
			snprintf(err, errlen, "FILEUPLOAD_SLOTS_PER_CLIENT=%.64s "
			    "is not a share of the host's upload slots (1%%-100%%)"
			    " or a slot count (0-%u)", v,
			    CFG_MAX_SLOTS_PER_CLIENT);
			return -1;
		}
		cfg->slots_per_client = (unsigned)n;
	}
	if (load_caps(cfg, err, errlen) == -1)
		return -1;
	if ((v = env("STORAGE")) != NULL && strcmp(v, "s3") == 0) {
		if ((cfg->s3 = config_s3_load(cfg->max_upload_size, err,
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
		config_s3_free(cfg->s3);
		cfg->s3 = NULL;
		return -1;
	}

	/* DB_PASSWORD: an empty password is a password, kept as given. */
	if (load_webhook(cfg, err, errlen) == -1 ||
	    env_secret("DB_PASSWORD", true, &cfg->db_password, err,
	    errlen) == -1 || env_secret("FILEUPLOAD_TOKEN", false,
	    &cfg->write_token, err, errlen) == -1 ||
	    env_secret("FILEUPLOAD_READ_TOKEN", false, &cfg->read_token, err,
	    errlen) == -1 || env_secret("FILEUPLOAD_METRICS_TOKEN", false,
	    &cfg->metrics_token, err, errlen) == -1 ||
	    env_secret("FILEUPLOAD_LINK_SECRET", false, &cfg->link_secret, err,
	    errlen) == -1 || env_secret("FILEUPLOAD_WEBHOOK_SECRET", false,
	    &cfg->webhook_secret, err, errlen) == -1) {
		config_free(cfg);
		return -1;
	}
	if (cfg->webhook_secret != NULL && cfg->webhook_url == NULL) {
		snprintf(err, errlen, "FILEUPLOAD_WEBHOOK_SECRET is set without "
		    "FILEUPLOAD_WEBHOOK_URL");
		config_free(cfg);
		return -1;
	}
	if (cfg->link_secret != NULL &&
	    strlen(cfg->link_secret) < LINKS_SECRET_MIN) {
		snprintf(err, errlen, "FILEUPLOAD_LINK_SECRET must be at least "
		    "%d bytes", LINKS_SECRET_MIN);
		config_free(cfg);
		return -1;
	}
	cfg->db_user = dup_or_null(env("DB_USER"));
	cfg->db_host = dup_or_null(env("DB_HOST"));
	cfg->db_name = dup_or_null(env("DB_NAME"));
	cfg->metrics_file = dup_or_null(env("FILEUPLOAD_METRICS_FILE"));

	v = env("ROOT_DIR");
	cfg->root_dir = dup_or_null(v != NULL ? v : DEFAULT_ROOT_DIR);
	v = env("LOG_DIR");
	cfg->log_dir = v != NULL ? dup_or_null(v) : join(cfg->root_dir, "logs");
	v = env("DATA_DIR");
	cfg->data_dir = v != NULL ? dup_or_null(v) : join(cfg->root_dir, "data");

	cfg->store.scheme = cfg->s3 != NULL ? "s3" : "local";
	cfg->store.data_dir = cfg->data_dir;
	cfg->store.s3 = cfg->s3;
	/* "named": as where O_TMPFILE or /proc is missing (and for tests). */
	v = env("FILEUPLOAD_TEMP_FILES");
	cfg->store.named_temp_files = v != NULL && strcmp(v, "named") == 0;
	return 0;
}

void
config_free(struct config *cfg)
{
	free(cfg->db_user);
	free_secret(cfg->db_password);
	free(cfg->db_host);
	free(cfg->db_port);
	free(cfg->db_name);
	free(cfg->root_dir);
	free(cfg->log_dir);
	free(cfg->data_dir);
	config_s3_free(cfg->s3);
	free_secret(cfg->write_token);
	free_secret(cfg->read_token);
	free_secret(cfg->metrics_token);
	free_secret(cfg->link_secret);
	free(cfg->webhook_url);
	free_secret(cfg->webhook_secret);
	free(cfg->metrics_file);
	memset(cfg, 0, sizeof(*cfg));
}
