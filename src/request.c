#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <sodium.h>

#include "config.h"
#include "log.h"
#include "num.h"
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

/*
 * After an answer given before the body's end, how long the rest of what
 * nginx sent is read and dropped before the connection is closed.  nginx
 * stops sending and closes its side as soon as it has the whole answer, so
 * this is milliseconds in practice; it only bounds a peer that would not.
 */
#define LINGER_MS	1000

/*
 * After an answer given before the body's end, on a kept connection, how
 * much of the rest of the body is read and dropped before END_REQUEST
 * (request_finish).  When nginx has sent the whole body, which it needs to
 * keep the connection, the rest is already in the socket buffers (at most
 * about 200 KiB over a unix socket; over TCP, on Linux's defaults, 4 MiB
 * of nginx's send buffer and 6 MiB of this receive buffer) and is read in
 * milliseconds.  Past the bounds the body is still coming from its client:
 * nginx will not keep that connection, and it is closed.
 */
#define DRAIN_MAX	(16 * 1024 * 1024)
#define DRAIN_MS	500

static uint64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
request_init(struct request *r, FCGX_Request *fcgx,
    const struct rate_rules *rules)
{
	const char	*v;
	unsigned char	 rnd[16];

	memset(r, 0, sizeof(*r));
	clock_gettime(CLOCK_MONOTONIC, &r->start);
	r->route = -1;
	r->fcgx = fcgx;
	r->in = fcgx->in;
	r->out = fcgx->out;
	ratelimit_init(&r->rate, rules);
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

/*
 * How a stall is noticed while the worker is blocked in a read: libfcgi
 * reads the FastCGI connection with plain blocking read(2)s (FCGX_GetStr),
 * so the connection gets a receive timeout (SO_RCVTIMEO) of the stall
 * timeout.  A read that waits that long fails with EAGAIN in the kernel;
 * libfcgi then marks the stream in error, and the upload answers 408.  No
 * alarm or signal is involved (they are per process, not per request), so
 * the same holds with one request per thread.  SO_RCVTIMEO also makes a
 * signal interrupt the read instead of restarting it: main blocks its
 * signals while a request is in hand.
 *
 * The minimum rate cannot be a socket option: a client sending a byte a
 * second never lets a read time out.  It is kept in the read loop instead
 * (ratelimit.h): the body is read piece by piece, each piece what libfcgi
 * already holds or, when it holds nothing, one byte (the read that may
 * wait), so every arrival from the client is counted and judged, while a
 * fast body is still read in full chunks.  A client under the minimum is
 * therefore cut at its first arrival after a window, or by the stall
 * timeout if nothing arrives.
 */
static void
set_stall_timeout(struct request *r, uint64_t ms)
{
	struct timeval	 tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	if (setsockopt(r->fcgx->ipcFd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)) == -1)
		log_warn("SO_RCVTIMEO on the FastCGI connection");
	else
		r->timeout_set = ms > 0;
}

/* Bytes of stdin libfcgi has read from the connection but not handed out. */
static size_t
fcgx_buffered(const FCGX_Stream *in)
{
	return in->stop > in->rdNext ? (size_t)(in->stop - in->rdNext) : 0;
}

/*
 * How much of len the next read of stdin asks for: what libfcgi already
 * holds or, when it holds nothing, one byte (*waits: the read that may
 * wait for the peer).
 */
static int
piece_len(const FCGX_Stream *in, size_t len, bool *waits)
{
	size_t	 want = fcgx_buffered(in);

	if ((*waits = want == 0))
		want = 1;
	if (want > len)
		want = len;
	if (want > INT32_MAX)
		want = INT32_MAX;
	return (int)want;
}

static ssize_t
read_failed(struct request *r, enum body_error e)
{
	r->body_error = e;
	return -1;
}

ssize_t
request_read(struct request *r, char *buf, size_t len)
{
	size_t		 got = 0;
	uint64_t	 t = 0;
	int		 n, want, err = 0;
	bool		 waits;

	if (r->body_error != BODY_OK)
		return -1;
	if (r->has_length) {
		if (r->body_read >= r->content_length)
			return 0;
		if (len > r->content_length - r->body_read)
			len = r->content_length - r->body_read;
	}
	if (!r->timeout_set && r->rate.rules.stall_ms > 0)
		set_stall_timeout(r, r->rate.rules.stall_ms);
	while (got < len && !r->body_ended) {
		want = piece_len(r->in, len - got, &waits);
		if (waits)
			t = now_ms();
		ratelimit_begin(&r->rate, t);
		n = FCGX_GetStr(buf + got, want, r->in);
		if (waits)
			t = now_ms();
		if (n < 0 || (err = FCGX_GetError(r->in)) != 0)
			return read_failed(r, n >= 0 && (err == EAGAIN ||
			    err == EWOULDBLOCK) ? BODY_STALLED : BODY_BROKEN);
		got += n;
		r->body_read += n;
		if (n < want) {
			r->body_ended = true;
			/* Shorter than its Content-Length: the client went away. */
			if (r->has_length && r->body_read < r->content_length)
				return read_failed(r, BODY_BROKEN);
		}
		switch (ratelimit_end(&r->rate, t, n)) {
		case RATE_OK:
			break;
		case RATE_STALLED:
			return read_failed(r, BODY_STALLED);
		case RATE_TOO_SLOW:
			return read_failed(r, BODY_TOO_SLOW);
		}
	}
	return got;
}

bool
request_body_pending(const struct request *r)
{
	if (r->has_length)
		return r->body_read < r->content_length;
	return !r->length_missing && !r->body_ended;
}

/* Shuts our side, then drops what comes until nginx closes, LINGER_MS at most. */
static void
linger(int fd)
{
	struct pollfd	 pfd = { .fd = fd, .events = POLLIN };
	char		 trash[4096];
	uint64_t	 end = now_ms() + LINGER_MS, now;

	if (shutdown(fd, SHUT_WR) == -1)
		return;
	while ((now = now_ms()) < end && poll(&pfd, 1, (int)(end - now)) > 0 &&
	    read(fd, trash, sizeof(trash)) > 0)
		;
}

/*
 * Reads stdin to its end record and drops what is left of the body: true
 * when the end came, within the bounds when bounded.
 */
static bool
read_to_end(struct request *r, bool bounded)
{
	char		 trash[8192];
	uint64_t	 end = now_ms() + DRAIN_MS, left = DRAIN_MAX;
	int		 n, want;
	bool		 waits;

	if (bounded)
		set_stall_timeout(r, DRAIN_MS);
	while (!FCGX_HasSeenEOF(r->in)) {
		want = piece_len(r->in, sizeof(trash), &waits);
		n = FCGX_GetStr(trash, want, r->in);
		if (n < 0 || FCGX_GetError(r->in) != 0)
			return false;
		if (bounded && ((uint64_t)n > left || now_ms() > end))
			return false;
		left -= n;
	}
	return true;
}

/*
 * A kept connection (nginx's fastcgi_keep_conn) is read up to this
 * request's end of stdin before its END_REQUEST goes out: libfcgi starts
 * the next request with a fresh buffer, so what was left would be taken
 * for the next request's first records, and nginx sends the next request
 * only after that END_REQUEST, so nothing of it is read and lost here.
 * After a body read to its end, what is left is the end record, which
 * nginx sends with the body's last bytes (without a body, with the
 * parameters).  After an early answer (the body not read to its end) the
 * answer goes out first, and the rest of the body is read within bounds
 * (DRAIN_MAX): a connection closed after its END_REQUEST instead could
 * already be in nginx's cache, and the next request nginx sent on it would
 * fail (502, given to the client as 503; never sent again for a POST or
 * PATCH).
 *
 * A connection that is not kept, or whose body is not read to its end in
 * bounds, is closed after the answer.  libfcgi's own close (OS_Close)
 * shuts the connection for writing and then reads until the peer closes,
 * each wait up to 2 s: with a body still trickling in, that read could go
 * on for as long as the client sends.  So when the body was not read to
 * its end, the answer is completed here, the lingering is bounded
 * (linger), and libfcgi is told to close without its own (FCGX_Detach).
 */
void
request_finish(struct request *r)
{
	FCGX_Request	*f = r->fcgx;
	bool		 early = request_body_pending(r), ended = !early;

	if (f->keepConnection && r->body_error == BODY_OK) {
		if (early)
			FCGX_FFlush(f->out);
		ended = read_to_end(r, early);
	}
	if (!ended) {
		f->keepConnection = 0;
		FCGX_FClose(f->err);
		FCGX_FClose(f->out);	/* the answer and END_REQUEST */
		linger(f->ipcFd);
		FCGX_Detach(f);
	} else if (r->timeout_set)
		set_stall_timeout(r, 0);	/* a kept connection waits freely */
	FCGX_Finish_r(f);
}

uint64_t
request_elapsed_us(const struct request *r)
{
	struct timespec	 now;
	int64_t		 us;

	clock_gettime(CLOCK_MONOTONIC, &now);
	us = (int64_t)(now.tv_sec - r->start.tv_sec) * 1000000 +
	    (now.tv_nsec - r->start.tv_nsec) / 1000;
	return us > 0 ? (uint64_t)us : 0;
}

void
request_log(const struct request *r)
{
	struct log_request	 line;
	char			 path[512];

	/* The path is the client's: no control character reaches the log. */
	log_clean(r->path != NULL ? r->path : "-", path, sizeof(path));
	line.method = r->method;
	line.path = path;
	line.status = r->status;
	line.bytes = (unsigned long long)r->bytes_out;
	line.ms = request_elapsed_us(r) / 1e3;
	line.hash = r->hash;
	log_request(&line);
}
