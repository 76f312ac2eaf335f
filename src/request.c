#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "config.h"
#include "log.h"
#include "request.h"

const char *
request_param(const struct request *r, const char *name)
{
	return FCGX_GetParam(name, r->fcgx->envp);
}

static const char *
param_or_empty(const struct request *r, const char *name)
{
	const char	*v = request_param(r, name);

	return v != NULL ? v : "";
}

/* A client's id is echoed only when it is short and plainly printable. */
static int
valid_request_id(const char *s)
{
	size_t	 n = strlen(s);

	return n > 0 && n <= REQUEST_ID_MAX &&
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-") == n;
}

/*
 * True when a body without a Content-Length still has an end of its own:
 * it is chunked, or it comes over HTTP/2 or 3, whose frames end it (nginx
 * then passes neither a length nor a Transfer-Encoding).
 */
static bool
body_framed(const struct request *r)
{
	const char	*te = request_param(r, "HTTP_TRANSFER_ENCODING");
	const char	*proto = param_or_empty(r, "SERVER_PROTOCOL");

	return (te != NULL && strcasestr(te, "chunked") != NULL) ||
	    (strncmp(proto, "HTTP/", 5) == 0 && proto[5] >= '2' &&
	    proto[5] <= '9');
}

void
request_init(struct request *r, FCGX_Request *fcgx)
{
	const char	*v;
	unsigned char	 rnd[16];

	memset(r, 0, sizeof(*r));
	clock_gettime(CLOCK_MONOTONIC, &r->start);
	r->fcgx = fcgx;
	r->in = fcgx->in;
	r->out = fcgx->out;
	r->method = param_or_empty(r, "REQUEST_METHOD");
	r->path = request_param(r, "DOCUMENT_URI");
	if (r->path == NULL)
		r->path = param_or_empty(r, "SCRIPT_NAME");
	r->query = param_or_empty(r, "QUERY_STRING");
	r->content_type = param_or_empty(r, "CONTENT_TYPE");

	if ((v = request_param(r, "CONTENT_LENGTH")) != NULL && *v != '\0') {
		if (parse_u64(v, 0, INT64_MAX, &r->content_length) == 0)
			r->has_length = true;
		else
			r->bad_length = true;
	} else
		r->length_missing = !body_framed(r);

	if ((v = request_param(r, "HTTP_X_REQUEST_ID")) != NULL &&
	    valid_request_id(v))
		snprintf(r->id, sizeof(r->id), "%s", v);
	else {
		randombytes_buf(rnd, sizeof(rnd));
		sodium_bin2hex(r->id, sizeof(r->id), rnd, sizeof(rnd));
	}
	log_set_request_id(r->id);
}

ssize_t
request_read(struct request *r, char *buf, size_t len)
{
	int	 n;

	if (r->has_length) {
		if (r->body_read >= r->content_length)
			return 0;
		if (len > r->content_length - r->body_read)
			len = r->content_length - r->body_read;
	}
	n = FCGX_GetStr(buf, (int)len, r->in);
	if (n < 0 || FCGX_GetError(r->in) != 0)
		return -1;
	/* A body shorter than its Content-Length: the client went away. */
	if (n == 0 && r->has_length)
		return -1;
	r->body_read += n;
	return n;
}

void
request_drain(struct request *r)
{
	char	 buf[16384];

	while (request_read(r, buf, sizeof(buf)) > 0)
		;
}

void
request_log(const struct request *r)
{
	struct timespec	 now;
	double		 ms;
	char		 path[512];

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (now.tv_sec - r->start.tv_sec) * 1e3 +
	    (now.tv_nsec - r->start.tv_nsec) / 1e6;
	/* The path is the client's: no control character reaches the log. */
	log_clean(r->path != NULL ? r->path : "-", path, sizeof(path));
	log_info("%s %s %d %llu %.1fms %s", r->method, path, r->status,
	    (unsigned long long)r->bytes_out, ms,
	    r->hash[0] != '\0' ? r->hash : "-");
}
