/*
 * The S3 API client (s3.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "endpoint.h"
#include "log.h"
#include "metrics.h"
#include "s3.h"
#include "sigv4.h"

#define BODY_CAP	(4u << 20)	/* listings are far smaller */
#define CONNECT_TIMEOUT	5L		/* seconds */
#define COPY_MAX	S3_MAX_PART	/* CopyObject's limit */
#define LIST_KEYS	"1000"

/* ------------------------------------------------------------- requests */

static void
free_curl(void *p)
{
	curl_easy_cleanup(p);
}

/* The host s3_host names into name, without its port, which goes to *port. */
static int
host_and_port(const struct s3_config *c, char *name, size_t namelen,
    unsigned *port)
{
	char	 host[300], *from, *colon;
	int	 w;

	if (s3_host(c, host, sizeof(host)) == -1)
		return -1;
	*port = c->https ? 443 : 80;
	from = host[0] == '[' ? strchr(host, ']') : host;
	if (from != NULL && (colon = strrchr(from, ':')) != NULL) {
		*port = (unsigned)strtoul(colon + 1, NULL, 10);
		*colon = '\0';
	}
	w = snprintf(name, namelen, "%s", host);
	return w < 0 || (size_t)w >= namelen ? -1 : 0;
}

int
s3_init(struct s3 *s, const struct s3_config *cfg)
{
	char	 name[300], addr[ENDPOINT_ADDR_MAX], err[256];

	s->cfg = cfg;
	if (host_and_port(cfg, name, sizeof(name), &s->port) == -1 ||
	    (s->ep = endpoint_new("S3_ENDPOINT", name, s->port)) == NULL)
		return -1;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		endpoint_free(s->ep);
		return -1;
	}
	if (pthread_key_create(&s->curl_key, free_curl) != 0) {
		curl_global_cleanup();
		endpoint_free(s->ep);
		return -1;
	}
	/* Logged by the endpoint when it fails: no request works until then. */
	(void)endpoint_address(s->ep, addr, err, sizeof(err));
	return 0;
}

void
s3_fini(struct s3 *s)
{
	CURL	*c = pthread_getspecific(s->curl_key);

	/* The other threads' handles went with their threads. */
	if (c != NULL)
		curl_easy_cleanup(c);
	pthread_setspecific(s->curl_key, NULL);
	pthread_key_delete(s->curl_key);
	curl_global_cleanup();
	endpoint_free(s->ep);
	s->ep = NULL;
}

int
s3_host(const struct s3_config *c, char *out, size_t outlen)
{
	int	 w;

	w = c->path_style ? snprintf(out, outlen, "%s", c->host) :
	    snprintf(out, outlen, "%s.%s", c->bucket, c->host);
	return w < 0 || (size_t)w >= outlen ? -1 : 0;
}

int
s3_path(const struct s3_config *c, const char *key, char *out, size_t outlen)
{
	char	 enc[S3_KEY_MAX * 3];
	int	 w;

	if (key == NULL)
		enc[0] = '\0';
	else if (sigv4_encode(key, 1, enc, sizeof(enc)) == -1)
		return -1;
	w = c->path_style ? snprintf(out, outlen, "/%s/%s", c->bucket, enc) :
	    snprintf(out, outlen, "/%s", enc);
	return w < 0 || (size_t)w >= outlen ? -1 : 0;
}

static void
amz_now(char out[SIGV4_DATE_LEN + 1])
{
	time_t		 t = time(NULL);
	struct tm	 tm;

	gmtime_r(&t, &tm);
	strftime(out, SIGV4_DATE_LEN + 1, "%Y%m%dT%H%M%SZ", &tm);
}

static struct sigv4_creds
creds(const struct s3_config *c)
{
	return (struct sigv4_creds){ c->access_key, c->secret_key, c->region,
	    "s3", c->session_token };
}

/* What the body callback writes to. */
struct body_dest {
	struct s3_response	*r;
	const struct s3_request	*req;
	CURL			*c;
};

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct body_dest *d = arg;
	struct s3_response *r = d->r;
	size_t		 len = size * n;
	long		 status = 0;
	char		*nb;

	if (d->req->sink != NULL) {
		curl_easy_getinfo(d->c, CURLINFO_RESPONSE_CODE, &status);
		if (status == 200 || status == 206) {
			if (d->req->sink(d->req->sink_arg, p, len) != 0)
				return 0;
			r->sunk += len;
			return len;
		}
	}
	if (r->len + len > BODY_CAP)
		return 0;	/* too much: fail the transfer */
	if ((nb = realloc(r->body, r->len + len + 1)) == NULL)
		return 0;
	r->body = nb;
	memcpy(r->body + r->len, p, len);
	r->len += len;
	r->body[r->len] = '\0';
	return len;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct s3_response *r = arg;
	size_t		 len = size * n, v;

	if (len > 14 && strncasecmp(p, "last-modified:", 14) == 0) {
		struct tm	 tm;
		char		 date[64];

		snprintf(date, sizeof(date), "%.*s", (int)(len - 14), p + 14);
		memset(&tm, 0, sizeof(tm));
		if (strptime(date, " %a, %d %b %Y %H:%M:%S GMT", &tm) != NULL)
			r->last_modified = (int64_t)timegm(&tm);
	}
	if (len > 5 && strncasecmp(p, "etag:", 5) == 0) {
		for (v = 5; v < len && p[v] == ' '; v++)
			;
		while (len > v && (p[len - 1] == '\r' || p[len - 1] == '\n'))
			len--;
		if (len - v < sizeof(r->etag)) {
			memcpy(r->etag, p + v, len - v);
			r->etag[len - v] = '\0';
		}
	}
	return size * n;
}

struct upload_src {
	const char	*start, *p;
	size_t		 len, left;
};

static size_t
on_read(char *buf, size_t size, size_t n, void *arg)
{
	struct upload_src *u = arg;
	size_t		 len = size * n;

	if (len > u->left)
		len = u->left;
	memcpy(buf, u->p, len);
	u->p += len;
	u->left -= len;
	return len;
}

/* Back to the start: curl resends a body on a connection that died. */
static int
on_seek(void *arg, curl_off_t offset, int origin)
{
	struct upload_src *u = arg;

	if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > u->len)
		return CURL_SEEKFUNC_CANTSEEK;
	u->p = u->start + offset;
	u->left = u->len - (size_t)offset;
	return CURL_SEEKFUNC_OK;
}

static CURL *
thread_curl(struct s3 *s)
{
	CURL	*c = pthread_getspecific(s->curl_key);

	if (c == NULL) {
		if ((c = curl_easy_init()) == NULL)
			return NULL;
		if (pthread_setspecific(s->curl_key, c) != 0) {
			curl_easy_cleanup(c);
			return NULL;
		}
	} else
		curl_easy_reset(c);	/* keeps the connection cache */
	return c;
}

/*
 * How a request reaches the store: at the endpoint's address, the URL
 * keeping the name (the Host header, the TLS server name, the name the
 * certificate must match); the certificate verified against S3_CA_FILE
 * or the system's CAs, never skipped.  Lives as long as the request.
 */
struct transport {
	struct curl_slist to;
	char		 line[ENDPOINT_ADDR_MAX + 16];
	char		 error[CURL_ERROR_SIZE];
};

/* 0, or -1 with r->error when the endpoint has no address. */
static int
transport_set(struct s3 *s, CURL *c, struct transport *t,
    struct s3_response *r)
{
	char	 addr[ENDPOINT_ADDR_MAX];

	memset(t, 0, sizeof(*t));
	if (!endpoint_is_address(s->ep)) {
		if (endpoint_address(s->ep, addr, r->error,
		    sizeof(r->error)) == -1)
			return -1;
		/* The URL's host and port, whatever they are: the address. */
		snprintf(t->line, sizeof(t->line), "::%s:%u", addr, s->port);
		t->to.data = t->line;
		curl_easy_setopt(c, CURLOPT_CONNECT_TO, &t->to);
	}
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (s->cfg->ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, s->cfg->ca_file);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, t->error);
	return 0;
}

/*
 * After the request: the handle lets go of t; a failure's reason into r
 * (a certificate's says what it was checked against), and a connection
 * refused or timed out has the endpoint looked up again.
 */
static void
transport_end(struct s3 *s, CURL *c, CURLcode cc, struct transport *t,
    struct s3_response *r)
{
	const char	*why;

	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(c, CURLOPT_CONNECT_TO, NULL);
	if (cc == CURLE_OK)
		return;
	why = t->error[0] != '\0' ? t->error : curl_easy_strerror(cc);
	if (cc == CURLE_COULDNT_CONNECT || cc == CURLE_OPERATION_TIMEDOUT)
		endpoint_failed(s->ep);
	if (cc == CURLE_PEER_FAILED_VERIFICATION ||
	    cc == CURLE_SSL_CACERT_BADFILE)
		snprintf(r->error, sizeof(r->error), "%.120s (the store's "
		    "certificate, checked against %s%.80s)", why,
		    s->cfg->ca_file != NULL ? "S3_CA_FILE=" : "the system's CAs",
		    s->cfg->ca_file != NULL ? s->cfg->ca_file : "");
	else
		snprintf(r->error, sizeof(r->error), "%s", why);
}

/* The signed headers of req, as curl_slist lines. */
static struct curl_slist *
signed_headers(const struct s3 *s, const struct s3_request *req,
    const char *host, const char *path, const char *payload_hash,
    char *query, size_t querylen)
{
	struct sigv4_creds cr = creds(s->cfg);
	struct sigv4_request sr;
	struct curl_slist *l = NULL, *t;
	char		 date[SIGV4_DATE_LEN + 1], auth[1024], line[S3_URL_MAX];
	size_t		 i;

	amz_now(date);
	memset(&sr, 0, sizeof(sr));
	sr.method = req->method;
	sr.path = path;
	for (i = 0; i < req->nparams; i++)
		sr.params[sr.nparams++] = (struct sigv4_pair){
		    req->params[i][0], req->params[i][1] };
	sr.headers[sr.nheaders++] = (struct sigv4_pair){ "host", host };
	sr.headers[sr.nheaders++] = (struct sigv4_pair){ "x-amz-date", date };
	sr.headers[sr.nheaders++] = (struct sigv4_pair){
	    "x-amz-content-sha256", payload_hash };
	if (req->copy_source != NULL)
		sr.headers[sr.nheaders++] = (struct sigv4_pair){
		    "x-amz-copy-source", req->copy_source };
	if (req->copy_range != NULL)
		sr.headers[sr.nheaders++] = (struct sigv4_pair){
		    "x-amz-copy-source-range", req->copy_range };
	if (cr.session_token != NULL)
		sr.headers[sr.nheaders++] = (struct sigv4_pair){
		    "x-amz-security-token", cr.session_token };
	sr.payload_hash = payload_hash;
	sr.amz_date = date;
	if (sigv4_query(&sr, query, querylen) == -1 ||
	    sigv4_authorization(&cr, &sr, auth, sizeof(auth)) == -1)
		return NULL;
	/* Expect: nothing, so that a part goes without a wait for 100. */
	static const char *const fixed[] = { "Expect:", "Content-Type:" };
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if ((t = curl_slist_append(l, fixed[i])) == NULL)
			goto bad;
		else
			l = t;
	for (i = 1; i < sr.nheaders; i++) {
		snprintf(line, sizeof(line), "%s: %s", sr.headers[i].name,
		    sr.headers[i].value);
		if ((t = curl_slist_append(l, line)) == NULL)
			goto bad;
		l = t;
	}
	snprintf(line, sizeof(line), "Authorization: %s", auth);
	if ((t = curl_slist_append(l, line)) == NULL)
		goto bad;
	return t;
bad:
	curl_slist_free_all(l);
	return NULL;
}

/* The metrics' name for a request: what it does, by method and query. */
static enum metrics_s3_op
op_of(const struct s3_request *req)
{
	size_t	 i;

	for (i = 0; i < req->nparams; i++)
		if (strcmp(req->params[i][0], "uploadId") == 0 ||
		    strcmp(req->params[i][0], "uploads") == 0)
			return METRICS_S3_MULTIPART;
	if (strcmp(req->method, "POST") == 0)
		return METRICS_S3_MULTIPART;
	if (strcmp(req->method, "PUT") == 0)
		return METRICS_S3_PUT;
	if (strcmp(req->method, "HEAD") == 0)
		return METRICS_S3_HEAD;
	if (strcmp(req->method, "DELETE") == 0)
		return METRICS_S3_DELETE;
	return req->key == NULL || req->nparams > 0 ? METRICS_S3_LIST :
	    METRICS_S3_GET;
}

static int	send_once(struct s3 *, const struct s3_request *,
		    struct s3_response *);

/* ------------------------------------------------------------- retries */

unsigned
s3_backoff_ms(unsigned retry, uint32_t (*uniform)(uint32_t upper))
{
	uint32_t	 ceiling = S3_BACKOFF_BASE_MS;

	while (retry-- > 0 && ceiling < S3_BACKOFF_CAP_MS)
		ceiling *= 2;
	if (ceiling > S3_BACKOFF_CAP_MS)
		ceiling = S3_BACKOFF_CAP_MS;
	return uniform(ceiling + 1);
}

bool
s3_retryable(int rc, const struct s3_response *r)
{
	static const char *const codes[] = {
		"SlowDown", "RequestTimeout", "InternalError",
	};
	char		 code[64];
	const char	*e = r->error;
	size_t		 i, pos = 0;

	/* Bytes handed on cannot be taken back. */
	if (r->sunk > 0)
		return false;
	if (rc == -1)
		return r->transport;
	switch (r->status) {
	case 500: case 502: case 503: case 504:
		return true;
	}
	/* CopyObject and CompleteMultipartUpload may fail with a 200. */
	if (r->status / 100 == 2 && r->body != NULL &&
	    strstr(r->body, "<Error>") != NULL && s3_xml_next(r->body,
	    "Code", &pos, code, sizeof(code)) == 1)
		e = code;
	else if (r->status / 100 == 2)
		return false;
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(e, codes[i]) == 0)
			return true;
	return false;
}

static uint64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
sleep_ms(unsigned ms)
{
	struct timespec	 ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * Every request, retried while s3_retryable says so: at most S3_RETRIES
 * times, with no retry whose wait would end past S3_RETRY_SECONDS after
 * the first attempt began.  Replays are safe: every request we send is
 * idempotent with the same body (s3_complete's own case aside).  Each
 * attempt is counted by operation: an answer under 300, or the 404 of an
 * object that is not there (a question, not a failure), is a success.
 */
int
s3_send(struct s3 *s, const struct s3_request *req, struct s3_response *r)
{
	enum metrics_s3_op op = op_of(req);
	const char	*key = req->key != NULL ? req->key : "(bucket)";
	uint64_t	 start = now_ms(), limit;
	unsigned	 retry = 0, ms;
	int		 rc;

	limit = (uint64_t)s->cfg->retry_seconds * 1000;
	for (;;) {
		rc = send_once(s, req, r);
		metrics_s3_request(op, rc == 0 &&
		    (r->status < 300 || r->status == 404));
		if (!s3_retryable(rc, r))
			return rc;
		ms = s3_backoff_ms(retry, randombytes_uniform);
		if (retry >= s->cfg->retries || now_ms() - start + ms > limit) {
			metrics_s3_retry(op, true);
			log_warnx("s3 %s %s: %s, given up after %u attempts",
			    req->method, key, r->error, retry + 1);
			return rc;
		}
		metrics_s3_retry(op, false);
		log_warnx("s3 %s %s: %s, retry %u in %u ms", req->method, key,
		    r->error, retry + 1, ms);
		s3_response_free(r);
		sleep_ms(ms);
		retry++;
	}
}

/*
 * A failure of the connection or of the store's side of it, which another
 * attempt may not meet; not ours (a sink or a body cap refusing bytes, an
 * aborted transfer) nor TLS verification's, which stays as it is.
 */
static bool
transport_failure(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return true;
	default:
		return false;
	}
}

static int
send_once(struct s3 *s, const struct s3_request *req, struct s3_response *r)
{
	struct upload_src src = { req->body, req->body, req->len, req->len };
	struct transport tr;
	struct body_dest dest;
	struct curl_slist *hdrs;
	CURL		*c;
	CURLcode	 cc;
	curl_off_t	 length;
	char		 host[300], path[S3_KEY_MAX * 3 + 80], query[2048];
	char		 url[S3_URL_MAX], payload[SIGV4_HEX_LEN + 1];

	memset(r, 0, sizeof(*r));
	r->last_modified = -1;
	if ((c = thread_curl(s)) == NULL) {
		snprintf(r->error, sizeof(r->error), "no curl handle");
		return -1;
	}
	sigv4_sha256_hex(req->body != NULL ? req->body : "", req->len, payload);
	if (s3_host(s->cfg, host, sizeof(host)) == -1 ||
	    s3_path(s->cfg, req->key, path, sizeof(path)) == -1 ||
	    (hdrs = signed_headers(s, req, host, path, payload, query,
	    sizeof(query))) == NULL) {
		snprintf(r->error, sizeof(r->error), "request too long");
		return -1;
	}
	snprintf(url, sizeof(url), "%s://%s%s%s%s", s->cfg->https ? "https" :
	    "http", host, path, query[0] ? "?" : "", query);
	if (transport_set(s, c, &tr, r) == -1) {
		curl_slist_free_all(hdrs);
		return -1;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)s->cfg->stall_seconds);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	dest = (struct body_dest){ r, req, c };
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &dest);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	if (strcmp(req->method, "PUT") == 0) {
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c, CURLOPT_READDATA, &src);
		curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(c, CURLOPT_SEEKDATA, &src);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
		    (curl_off_t)req->len);
	} else if (strcmp(req->method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body != NULL ?
		    (const char *)req->body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)req->len);
	} else if (strcmp(req->method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (strcmp(req->method, "GET") == 0 && req->range != NULL)
		curl_easy_setopt(c, CURLOPT_RANGE, req->range);
	else if (strcmp(req->method, "GET") != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
	cc = curl_easy_perform(c);
	transport_end(s, c, cc, &tr, r);
	curl_slist_free_all(hdrs);
	if (cc != CURLE_OK) {
		r->transport = transport_failure(cc);
		return -1;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	if (curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T,
	    &length) != CURLE_OK)
		length = -1;
	r->length = length;
	if (r->status >= 300 && r->body != NULL) {
		size_t	 pos = 0;

		if (s3_xml_next(r->body, "Code", &pos, r->error,
		    sizeof(r->error)) != 1)
			snprintf(r->error, sizeof(r->error), "HTTP %ld",
			    r->status);
	} else if (r->status >= 300)
		snprintf(r->error, sizeof(r->error), "HTTP %ld", r->status);
	return 0;
}

void
s3_response_free(struct s3_response *r)
{
	free(r->body);
	r->body = NULL;
	r->len = 0;
}

int
s3_presigned_target(const struct s3 *s, const char *location,
    const char *key, char *out, size_t outlen)
{
	struct sigv4_creds cr = creds(s->cfg);
	struct sigv4_request sr;
	char		 host[300], path[S3_KEY_MAX * 3 + 80], query[8192];
	char		 date[SIGV4_DATE_LEN + 1], addr[ENDPOINT_ADDR_MAX];
	char		 err[256];
	int		 w;

	if (s3_host(s->cfg, host, sizeof(host)) == -1 ||
	    s3_path(s->cfg, key, path, sizeof(path)) == -1)
		return -1;
	if (endpoint_address(s->ep, addr, err, sizeof(err)) == -1) {
		log_warnx("s3 presign %s: %s", key, err);
		return -1;
	}
	amz_now(date);
	memset(&sr, 0, sizeof(sr));
	sr.method = "GET";
	sr.path = path;
	sr.headers[sr.nheaders++] = (struct sigv4_pair){ "host", host };
	sr.payload_hash = SIGV4_UNSIGNED;
	sr.amz_date = date;
	if (sigv4_presign(&cr, &sr, S3_PRESIGN_EXPIRES, query,
	    sizeof(query)) == -1)
		return -1;
	w = snprintf(out, outlen, "%s%s/%s:%u/%s%s?%s", location,
	    s->cfg->https ? "https" : "http", addr, s->port, host, path, query);
	return w < 0 || (size_t)w >= outlen ? -1 : 0;
}

/* ---------------------------------------------------------------- verbs */

/* What an answer (or its absence, rc -1) means; logs a failure. */
static enum s3_result
result_of(const char *what, const char *key, int rc,
    const struct s3_response *r)
{
	log_warnx("s3 %s %s: %s", what, key, r->error[0] ? r->error :
	    "failed");
	if (rc == -1 || r->status >= 500 || r->status == 0) {
		errno = EIO;
		return S3_UNAVAILABLE;
	}
	if (r->status == 404) {
		errno = ENOENT;
		return S3_NOT_FOUND;
	}
	errno = r->status == 403 ? EACCES : EIO;
	return S3_REFUSED;
}

enum s3_result
s3_call(struct s3 *s, const char *what, const struct s3_request *req,
    struct s3_response *r)
{
	int	 rc = s3_send(s, req, r);

	if (rc == 0 && r->status / 100 == 2 && (r->body == NULL ||
	    strstr(r->body, "<Error>") == NULL))
		return S3_OK;
	if (rc == 0 && r->status / 100 == 2) {
		size_t	 pos = 0;

		s3_xml_next(r->body, "Code", &pos, r->error, sizeof(r->error));
		r->status = 500;
	}
	return result_of(what, req->key != NULL ? req->key : "(bucket)", rc,
	    r);
}

enum s3_result
s3_exec(struct s3 *s, const char *what, const struct s3_request *req)
{
	struct s3_response r;
	enum s3_result	 e;

	e = s3_call(s, what, req, &r);
	s3_response_free(&r);
	return e;
}

/*
 * s3_call, then the text of the answer's first <tag> into out (when out
 * is set): S3_REFUSED when it has none.
 */
static enum s3_result
call_for(struct s3 *s, const char *what, const struct s3_request *req,
    const char *tag, char *out, size_t outlen)
{
	struct s3_response r;
	enum s3_result	 e;
	size_t		 pos = 0;

	if ((e = s3_call(s, what, req, &r)) == S3_OK && out != NULL &&
	    (r.body == NULL || s3_xml_next(r.body, tag, &pos, out,
	    outlen) != 1)) {
		log_warnx("s3 %s %s: no %s", what, req->key, tag);
		errno = EIO;
		e = S3_REFUSED;
	}
	s3_response_free(&r);
	return e;
}

enum s3_result
s3_head_bucket(struct s3 *s)
{
	struct s3_request req = { .method = "HEAD" };
	struct s3_response r;
	enum s3_result	 e;
	int		 rc = s3_send(s, &req, &r);

	e = rc == 0 && r.status == 200 ? S3_OK :
	    result_of("head bucket", s->cfg->bucket, rc, &r);
	s3_response_free(&r);
	return e;
}

enum s3_result
s3_access_result(int rc, const struct s3_response *r)
{
	if (rc == 0 && r->status / 100 == 2 && (r->body == NULL ||
	    strstr(r->body, "<Error>") == NULL))
		return S3_OK;
	/* No connection (nor a name that resolves) yet: it may come. */
	if (rc == -1 || s3_retryable(rc, r))
		return S3_UNAVAILABLE;
	return S3_REFUSED;
}

void
s3_describe(int rc, const struct s3_response *r, char *out, size_t outlen)
{
	char	 code[128] = "", msg[512] = "", line[768];
	size_t	 pos = 0;

	if (rc == -1)
		snprintf(line, sizeof(line), "%s", r->error[0] != '\0' ?
		    r->error : "no answer");
	else {
		if (r->body == NULL || s3_xml_next(r->body, "Code", &pos, code,
		    sizeof(code)) != 1)
			code[0] = '\0';
		pos = 0;
		if (r->body == NULL || s3_xml_next(r->body, "Message", &pos,
		    msg, sizeof(msg)) != 1)
			msg[0] = '\0';
		snprintf(line, sizeof(line), "%s%s%s (HTTP %ld)",
		    code[0] != '\0' ? code : "no error code",
		    msg[0] != '\0' ? ": " : "", msg, r->status);
	}
	/* The store's words go on one line. */
	log_clean(line, out, outlen);
}

enum s3_result
s3_check_access(struct s3 *s, char *msg, size_t msglen)
{
	struct s3_request req = { .method = "GET" };
	struct s3_response r;
	enum s3_result	 e;
	int		 rc;

	req.params[req.nparams][0] = "list-type";
	req.params[req.nparams++][1] = "2";
	req.params[req.nparams][0] = "max-keys";
	req.params[req.nparams++][1] = "1";
	rc = s3_send(s, &req, &r);
	if ((e = s3_access_result(rc, &r)) != S3_OK)
		s3_describe(rc, &r, msg, msglen);
	else if (msglen > 0)
		msg[0] = '\0';
	s3_response_free(&r);
	return e;
}

enum s3_result
s3_head(struct s3 *s, const char *key, uint64_t *size, int64_t *mtime)
{
	struct s3_request req = { .method = "HEAD", .key = key };
	struct s3_response r;
	enum s3_result	 e;
	int		 rc = s3_send(s, &req, &r);

	if (rc == 0 && r.status == 200) {
		if (size != NULL)
			*size = r.length > 0 ? (uint64_t)r.length : 0;
		if (mtime != NULL)
			*mtime = r.last_modified;
		e = S3_OK;
	} else if (rc == 0 && r.status == 404)
		e = S3_NOT_FOUND;	/* a question, not a failure */
	else
		e = result_of("head", key, rc, &r);
	s3_response_free(&r);
	return e;
}

enum s3_result
s3_put(struct s3 *s, const char *what, const char *key, const void *body,
    size_t len)
{
	struct s3_request req = { .method = "PUT", .key = key,
	    .body = body != NULL ? body : "", .len = len };

	return s3_exec(s, what, &req);
}

enum s3_result
s3_get(struct s3 *s, const char *what, const char *key, const char *range,
    int (*sink)(void *, const void *, size_t), void *arg)
{
	struct s3_request req = { .method = "GET", .key = key,
	    .range = range, .sink = sink, .sink_arg = arg };

	return s3_exec(s, what, &req);
}

enum s3_result
s3_delete(struct s3 *s, const char *key)
{
	struct s3_request req = { .method = "DELETE", .key = key };

	return s3_exec(s, "DELETE", &req);
}

int
s3_fill(void *arg, const void *p, size_t len)
{
	struct s3_fill	*d = arg;

	if (len > d->cap - d->len)
		return -1;
	memcpy(d->buf + d->len, p, len);
	d->len += len;
	return 0;
}

enum s3_result
s3_create(struct s3 *s, const char *key, char *id, size_t idlen)
{
	struct s3_request req = { .method = "POST", .key = key, .nparams = 1,
	    .params = { { "uploads", "" } } };

	return call_for(s, "create upload", &req, "UploadId", id, idlen);
}

enum s3_result
s3_upload_part(struct s3 *s, const char *key, const char *id, unsigned n,
    const void *body, size_t len, char etag[S3_ETAG_MAX])
{
	struct s3_request req;
	struct s3_response r;
	enum s3_result	 e;
	char		 num[16];

	snprintf(num, sizeof(num), "%u", n);
	req = (struct s3_request){ .method = "PUT", .key = key,
	    .nparams = 2, .params = { { "partNumber", num },
	    { "uploadId", id } }, .body = body, .len = len };
	if ((e = s3_call(s, "upload part", &req, &r)) == S3_OK) {
		if (r.etag[0] == '\0') {
			log_warnx("s3 upload part %s: no ETag", key);
			errno = EIO;
			e = S3_REFUSED;
		} else
			snprintf(etag, S3_ETAG_MAX, "%s", r.etag);
	}
	s3_response_free(&r);
	return e;
}

/* x-amz-copy-source: "/bucket/key" whatever the addressing. */
static int
copy_source(const struct s3 *s, const char *key, char *out, size_t outlen)
{
	struct s3_config path_cfg = { .bucket = s->cfg->bucket,
	    .path_style = true };

	return s3_path(&path_cfg, key, out, outlen);
}

/* UploadPartCopy with the source already encoded: its ETag into etag. */
static enum s3_result
copy_part(struct s3 *s, const char *key, const char *id, unsigned n,
    const char *source, uint64_t first, uint64_t last, char *etag,
    size_t etaglen)
{
	struct s3_request req;
	char		 range[64], num[16];

	snprintf(num, sizeof(num), "%u", n);
	snprintf(range, sizeof(range), "bytes=%llu-%llu",
	    (unsigned long long)first, (unsigned long long)last);
	req = (struct s3_request){ .method = "PUT", .key = key,
	    .nparams = 2, .params = { { "partNumber", num },
	    { "uploadId", id } }, .copy_source = source,
	    .copy_range = range };
	return call_for(s, "copy part", &req, "ETag", etag, etaglen);
}

enum s3_result
s3_copy_part(struct s3 *s, const char *key, const char *id, unsigned n,
    const char *src, uint64_t first, uint64_t last)
{
	char	 source[S3_KEY_MAX * 3 + 80];

	if (copy_source(s, src, source, sizeof(source)) == -1) {
		errno = EIO;
		return S3_REFUSED;
	}
	return copy_part(s, key, id, n, source, first, last, NULL, 0);
}

/* A copy over CopyObject's 5 GiB: UploadPartCopy in ranges. */
static enum s3_result
copy_parts(struct s3 *s, const char *dst, uint64_t size, const char *source)
{
	enum s3_result	 e;
	char		 id[S3_ID_MAX], etag[S3_ETAG_MAX];
	char		*manifest = NULL;
	size_t		 mlen = 0;
	uint64_t	 off;
	unsigned	 n = 0;

	if ((e = s3_create(s, dst, id, sizeof(id))) != S3_OK)
		return e;
	for (off = 0; off < size && e == S3_OK; off += COPY_MAX) {
		e = copy_part(s, dst, id, ++n, source, off, (size - off >
		    COPY_MAX ? off + COPY_MAX : size) - 1, etag, sizeof(etag));
		if (e == S3_OK && s3_manifest_add(&manifest, &mlen, n,
		    etag) == -1) {
			errno = EIO;
			e = S3_REFUSED;
		}
	}
	if (e == S3_OK)
		e = s3_complete(s, dst, id, manifest, mlen);
	if (e != S3_OK)
		s3_abort(s, dst, id);
	free(manifest);
	return e;
}

enum s3_result
s3_copy(struct s3 *s, const char *src, const char *dst, uint64_t size)
{
	struct s3_request req = { .method = "PUT", .key = dst };
	char		 source[S3_KEY_MAX * 3 + 80];

	if (copy_source(s, src, source, sizeof(source)) == -1) {
		errno = EIO;
		return S3_REFUSED;
	}
	if (size > COPY_MAX)
		return copy_parts(s, dst, size, source);
	req.copy_source = source;
	return s3_exec(s, "copy", &req);
}

enum s3_result
s3_complete(struct s3 *s, const char *key, const char *id,
    const char *manifest, size_t mlen)
{
	struct s3_request req = { .method = "POST", .key = key, .nparams = 1,
	    .params = { { "uploadId", id } } };
	struct s3_response r;
	enum s3_result	 e;
	char		*body;

	if ((body = malloc(mlen + 128)) == NULL) {
		errno = ENOMEM;
		return S3_REFUSED;
	}
	req.len = (size_t)sprintf(body, "<CompleteMultipartUpload>%.*s"
	    "</CompleteMultipartUpload>", (int)mlen, manifest != NULL ?
	    manifest : "");
	req.body = body;
	e = s3_call(s, "complete", &req, &r);
	/*
	 * A request sent again after a lost answer (by s3_send, or by curl
	 * itself when a reused connection closed with none) finds the upload
	 * gone: completed by the attempt before, when the object is there.
	 * The key is the upload's own (a tmp/ name only it writes, or a hash
	 * whose bytes are these), so an object there is this upload's.
	 */
	if (e == S3_NOT_FOUND && strcmp(r.error, "NoSuchUpload") == 0 &&
	    s3_head(s, key, NULL, NULL) == S3_OK) {
		log_info("s3 complete %s: done by an earlier attempt", key);
		e = S3_OK;
	}
	s3_response_free(&r);
	free(body);
	return e;
}

void
s3_abort(struct s3 *s, const char *key, const char *id)
{
	struct s3_request req = { .method = "DELETE", .key = key,
	    .nparams = 1, .params = { { "uploadId", id } } };

	(void)s3_exec(s, "abort", &req);
}

int
s3_manifest_add(char **manifest, size_t *mlen, unsigned n, const char *etag)
{
	char	*m;

	if ((m = realloc(*manifest, *mlen + strlen(etag) + 80)) == NULL)
		return -1;
	*manifest = m;
	*mlen += (size_t)sprintf(m + *mlen, "<Part><PartNumber>%u</PartNumber>"
	    "<ETag>%s</ETag></Part>", n, etag);
	return 0;
}

/* ------------------------------------------------------------------ XML */

/* Decodes the five predefined entities and numeric ones below 128. */
static int
unescape(const char *s, size_t n, char *out, size_t outlen)
{
	static const struct { const char *e; char c; } ents[] = {
		{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' },
		{ "&quot;", '"' }, { "&apos;", '\'' },
	};
	size_t	 i = 0, o = 0, k, el;
	unsigned long	 cp;
	char	*end;

	while (i < n) {
		if (o + 1 >= outlen)
			return -1;
		if (s[i] != '&') {
			out[o++] = s[i++];
			continue;
		}
		for (k = 0; k < sizeof(ents) / sizeof(ents[0]); k++) {
			el = strlen(ents[k].e);
			if (n - i >= el && memcmp(s + i, ents[k].e, el) == 0)
				break;
		}
		if (k < sizeof(ents) / sizeof(ents[0])) {
			out[o++] = ents[k].c;
			i += el;
		} else if (n - i > 3 && s[i + 1] == '#' && (cp = strtoul(s + i +
		    2, &end, 10)) > 0 && cp < 128 && *end == ';') {
			out[o++] = (char)cp;
			i = (size_t)(end - s) + 1;
		} else
			out[o++] = s[i++];
	}
	out[o] = '\0';
	return 0;
}

/* Finds <tag>...</tag> from *pos: its text at *a, *len bytes. */
static int
find_element(const char *xml, const char *tag, size_t *pos, const char **a,
    size_t *len)
{
	char		 open[64], close[64];
	const char	*b;

	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	if ((*a = strstr(xml + *pos, open)) == NULL)
		return 0;
	*a += strlen(open);
	if ((b = strstr(*a, close)) == NULL)
		return 0;
	*pos = (size_t)(b - xml) + strlen(close);
	*len = (size_t)(b - *a);
	return 1;
}

int
s3_xml_next(const char *xml, const char *tag, size_t *pos, char *out,
    size_t outlen)
{
	const char	*a;
	size_t		 len;

	if (find_element(xml, tag, pos, &a, &len) == 0)
		return 0;
	return unescape(a, len, out, outlen) == 0 ? 1 : -1;
}

int
s3_xml_element(const char *xml, const char *tag, size_t *pos, char *out,
    size_t outlen)
{
	const char	*a;
	size_t		 len;

	if (find_element(xml, tag, pos, &a, &len) == 0)
		return 0;
	if (len >= outlen)
		return -1;
	memcpy(out, a, len);
	out[len] = '\0';
	return 1;
}

int64_t
s3_parse_time(const char *s)
{
	struct tm	 tm;
	const char	*end;

	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return -1;
	return (int64_t)timegm(&tm);
}

/* -------------------------------------------------------------- listing */

void
s3_list_begin(struct s3_list *l, struct s3 *s, enum s3_list_kind kind,
    const char *prefix, const char *id)
{
	memset(l, 0, sizeof(*l));
	l->s3 = s;
	l->kind = kind;
	l->what = kind == S3_LIST_OBJECTS ? "list" : kind == S3_LIST_UPLOADS ?
	    "list uploads" : "list parts";
	l->max_keys = LIST_KEYS;
	snprintf(l->prefix, sizeof(l->prefix), "%s", prefix);
	if (id != NULL)
		snprintf(l->upload_id, sizeof(l->upload_id), "%s", id);
	if (kind == S3_LIST_PARTS)
		snprintf(l->token, sizeof(l->token), "0");
}

void
s3_list_end(struct s3_list *l)
{
	s3_response_free(&l->page);
}

void
s3_list_take(struct s3_list *l, char *body)
{
	static const char *const next_tag[] = {
		[S3_LIST_OBJECTS] = "NextContinuationToken",
		[S3_LIST_UPLOADS] = "NextKeyMarker",
		[S3_LIST_PARTS] = "NextPartNumberMarker",
	};
	char	 trunc[8];
	size_t	 pos = 0;

	s3_response_free(&l->page);
	l->page.body = body;
	l->page.len = strlen(body);
	l->listed = true;
	l->pos = 0;
	l->more = s3_xml_next(body, "IsTruncated", &pos, trunc,
	    sizeof(trunc)) == 1 && strcmp(trunc, "true") == 0;
	pos = 0;
	if (l->more && s3_xml_next(body, next_tag[l->kind], &pos, l->token,
	    sizeof(l->token)) != 1)
		l->more = false;
	pos = 0;
	if (l->more && l->kind == S3_LIST_UPLOADS && s3_xml_next(body,
	    "NextUploadIdMarker", &pos, l->imark, sizeof(l->imark)) != 1)
		l->more = false;
}

/* Asks for the next page: 0, or -1 with l->result. */
static int
fetch(struct s3_list *l)
{
	struct s3_request req = { .method = "GET" };
	struct s3_response r;

#define PARAM(n, v) do {						\
	req.params[req.nparams][0] = (n);				\
	req.params[req.nparams++][1] = (v);				\
} while (0)
	switch (l->kind) {
	case S3_LIST_OBJECTS:
		PARAM("list-type", "2");
		PARAM("prefix", l->prefix);
		PARAM("max-keys", l->max_keys);
		if (l->token[0] != '\0')
			PARAM("continuation-token", l->token);
		break;
	case S3_LIST_UPLOADS:
		PARAM("uploads", "");
		PARAM("prefix", l->prefix);
		if (l->token[0] != '\0') {
			PARAM("key-marker", l->token);
			PARAM("upload-id-marker", l->imark);
		}
		break;
	case S3_LIST_PARTS:
		req.key = l->prefix;
		PARAM("uploadId", l->upload_id);
		PARAM("part-number-marker", l->token);
		break;
	}
#undef PARAM
	s3_response_free(&l->page);
	l->listed = true;
	if ((l->result = s3_call(l->s3, l->what, &req, &r)) != S3_OK ||
	    r.body == NULL) {
		s3_response_free(&r);
		if (l->result == S3_OK) {
			errno = EIO;
			l->result = S3_REFUSED;
		}
		l->more = false;
		return -1;
	}
	s3_list_take(l, r.body);
	return 0;
}

/* The next well-formed item of the page: 1, or 0 when it has none left. */
static int
page_item(struct s3_list *l, struct s3_item *it)
{
	static const char *const elem_tag[] = {
		[S3_LIST_OBJECTS] = "Contents",
		[S3_LIST_UPLOADS] = "Upload",
		[S3_LIST_PARTS] = "Part",
	};
	char	 elem[4096], when[64], num[32];
	size_t	 a, b, c;

	while (s3_xml_element(l->page.body, elem_tag[l->kind], &l->pos, elem,
	    sizeof(elem)) == 1) {
		memset(it, 0, sizeof(*it));
		a = b = c = 0;
		switch (l->kind) {
		case S3_LIST_OBJECTS:
			if (s3_xml_next(elem, "Key", &a, it->key,
			    sizeof(it->key)) != 1 || s3_xml_next(elem,
			    "LastModified", &b, when, sizeof(when)) != 1 ||
			    s3_xml_next(elem, "Size", &c, num,
			    sizeof(num)) != 1)
				continue;
			it->size = strtoull(num, NULL, 10);
			break;
		case S3_LIST_UPLOADS:
			if (s3_xml_next(elem, "Key", &a, it->key,
			    sizeof(it->key)) != 1 || s3_xml_next(elem,
			    "UploadId", &b, it->upload_id,
			    sizeof(it->upload_id)) != 1 || s3_xml_next(elem,
			    "Initiated", &c, when, sizeof(when)) != 1)
				continue;
			break;
		case S3_LIST_PARTS:
			if (s3_xml_next(elem, "PartNumber", &a, num,
			    sizeof(num)) != 1 || s3_xml_element(elem, "ETag",
			    &b, it->etag, sizeof(it->etag)) != 1 ||
			    s3_xml_next(elem, "Size", &c, when,
			    sizeof(when)) != 1)
				continue;
			it->part = (unsigned)strtoul(num, NULL, 10);
			it->size = strtoull(when, NULL, 10);
			it->mtime = -1;
			return 1;
		}
		/* Only keys under the prefix, whatever the store sends. */
		if (strncmp(it->key, l->prefix, strlen(l->prefix)) != 0)
			continue;
		it->mtime = s3_parse_time(when);
		return 1;
	}
	return 0;
}

int
s3_list_next(struct s3_list *l, struct s3_item *it)
{
	for (;;) {
		if (l->page.body != NULL && page_item(l, it) == 1)
			return 1;
		if (l->listed && !l->more)
			return 0;
		if (fetch(l) == -1)
			return -1;
	}
}
