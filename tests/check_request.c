/*
 * Unit tests of request_init's reading of the body's framing: a length,
 * chunked, or the end of FastCGI's stdin under HTTP/2 and 3; and of
 * request_finish on a kept connection (a FastCGI client written here, on a
 * unix socket): after an early answer the rest of a body sent whole is
 * read and the connection serves the next request, a body still coming is
 * given up on within bounds and the connection closed, and a stdin end
 * record that comes after the body was read is not taken for the next
 * request.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <sodium.h>

#include "request.h"
#include "testutil.h"

struct framing_case {
	const char	*proto;		/* SERVER_PROTOCOL, NULL: none */
	const char	*length;	/* CONTENT_LENGTH, NULL: none */
	const char	*te;		/* HTTP_TRANSFER_ENCODING, NULL: none */
	bool		 has_length;
	bool		 length_missing;
};

static const struct framing_case cases[] = {
	{ "HTTP/1.1", "42", NULL, true, false },
	{ "HTTP/1.1", "", NULL, false, true },
	{ "HTTP/1.0", NULL, NULL, false, true },
	/* No protocol at all (another FastCGI client): HTTP/1's rule. */
	{ NULL, NULL, NULL, false, true },
	{ "HTTP/1.1", "", "chunked", false, false },
	/* nginx passes neither a length nor a Transfer-Encoding over HTTP/2. */
	{ "HTTP/2.0", "", NULL, false, false },
	{ "HTTP/3.0", NULL, NULL, false, false },
	{ "HTTP/x", NULL, NULL, false, true },
};

static void
setup(void)
{
	ck_assert_int_ne(sodium_init(), -1);
}

START_TEST(test_framing)
{
	const struct framing_case *c = &cases[_i];
	const struct rate_rules rules = { 1024, 30000, 60000 };
	char		 proto[64], length[64], te[64], *env[4];
	FCGX_Request	 f;
	struct request	 r;
	int		 n = 0;

	if (c->proto != NULL) {
		snprintf(proto, sizeof(proto), "SERVER_PROTOCOL=%s", c->proto);
		env[n++] = proto;
	}
	if (c->length != NULL) {
		snprintf(length, sizeof(length), "CONTENT_LENGTH=%s", c->length);
		env[n++] = length;
	}
	if (c->te != NULL) {
		snprintf(te, sizeof(te), "HTTP_TRANSFER_ENCODING=%s", c->te);
		env[n++] = te;
	}
	env[n] = NULL;
	memset(&f, 0, sizeof(f));
	f.envp = env;
	request_init(&r, &f, &rules);
	ck_assert_msg(r.has_length == c->has_length &&
	    r.length_missing == c->length_missing,
	    "case %d: has_length %d length_missing %d", _i, r.has_length,
	    r.length_missing);
	ck_assert(!r.bad_length);
}
END_TEST

/* --- request_finish on a kept connection ----------------------------- */

#define REC_BEGIN	1
#define REC_END		3
#define REC_PARAMS	4
#define REC_STDIN	5
#define REC_STDOUT	6

static const struct rate_rules finish_rules = { 1024, 30000, 60000 };

struct conn {
	char		*dir;
	int		 listen_fd;
	int		 client;	/* nginx's end */
	FCGX_Request	 f;		/* the worker's */
};

static void
write_all(int fd, const void *buf, size_t len)
{
	const char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		n = write(fd, p, len);
		ck_assert_int_gt(n, 0);
		p += n;
		len -= (size_t)n;
	}
}

static void
record(int fd, int type, const void *data, size_t len)
{
	unsigned char	 h[8] = { 1, (unsigned char)type, 0, 1,
	    (unsigned char)(len >> 8), (unsigned char)len, 0, 0 };

	write_all(fd, h, sizeof(h));
	write_all(fd, data, len);
}

/* A request's records up to its body: a kept connection's, as nginx's. */
static void
send_head(int fd, const char *method, const char *length)
{
	const unsigned char begin[8] = { 0, 1, 1 };	/* responder, keep */
	char		 params[256];
	size_t		 n = 0;
	const char	*kv[][2] = { { "REQUEST_METHOD", method },
	    { "CONTENT_LENGTH", length }, { "DOCUMENT_URI", "/t" } };
	size_t		 i;

	record(fd, REC_BEGIN, begin, sizeof(begin));
	for (i = 0; i < sizeof(kv) / sizeof(kv[0]); i++) {
		params[n++] = (char)strlen(kv[i][0]);
		params[n++] = (char)strlen(kv[i][1]);
		memcpy(params + n, kv[i][0], strlen(kv[i][0]));
		n += strlen(kv[i][0]);
		memcpy(params + n, kv[i][1], strlen(kv[i][1]));
		n += strlen(kv[i][1]);
	}
	record(fd, REC_PARAMS, params, n);
	record(fd, REC_PARAMS, "", 0);
}

/* Body bytes in stdin records; end: the empty record that ends stdin. */
static void
send_body(int fd, size_t len, bool end)
{
	static char	 chunk[32768];
	size_t		 n;

	memset(chunk, 'b', sizeof(chunk));
	for (; len > 0; len -= n) {
		n = len < sizeof(chunk) ? len : sizeof(chunk);
		record(fd, REC_STDIN, chunk, n);
	}
	if (end)
		record(fd, REC_STDIN, "", 0);
}

/* Reads records up to END_REQUEST: the stdout bytes seen, -1 if none came. */
static long
read_answer(int fd)
{
	unsigned char	 h[8], buf[65536 + 256];
	long		 out = 0;
	size_t		 len, got;
	ssize_t		 n;

	for (;;) {
		for (got = 0; got < sizeof(h); got += (size_t)n)
			if ((n = read(fd, h + got, sizeof(h) - got)) <= 0)
				return -1;
		len = ((size_t)h[4] << 8 | h[5]) + h[6];
		for (got = 0; got < len; got += (size_t)n)
			if ((n = read(fd, buf + got, len - got)) <= 0)
				return -1;
		if (h[1] == REC_STDOUT)
			out += (long)len - h[6];
		if (h[1] == REC_END)
			return out;
	}
}

static void
conn_open(struct conn *c)
{
	struct sockaddr_un	 sun = { .sun_family = AF_UNIX };
	struct timeval		 tv = { 5, 0 };

	ck_assert_ptr_nonnull(c->dir = test_mkdtemp());
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/s", c->dir);
	ck_assert_int_eq(FCGX_Init(), 0);
	ck_assert_int_ge(c->listen_fd = FCGX_OpenSocket(sun.sun_path, 4), 0);
	ck_assert_int_eq(FCGX_InitRequest(&c->f, c->listen_fd, 0), 0);
	ck_assert_int_ge(c->client = socket(AF_UNIX, SOCK_STREAM, 0), 0);
	ck_assert_int_eq(connect(c->client, (struct sockaddr *)&sun,
	    sizeof(sun)), 0);
	setsockopt(c->client, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static void
conn_close(struct conn *c)
{
	close(c->client);
	if (c->f.ipcFd >= 0)
		close(c->f.ipcFd);
	close(c->listen_fd);
	test_rmtree(c->dir);
	free(c->dir);
}

/* Takes the next request (the client sent it) and answers 401 at once. */
static void
accept_and_refuse(struct conn *c, struct request *r, const char *method)
{
	ck_assert_int_eq(FCGX_Accept_r(&c->f), 0);
	request_init(r, &c->f, &finish_rules);
	ck_assert_str_eq(r->method, method);
	FCGX_PutS("Status: 401\r\nContent-Type: text/plain\r\n\r\nno\n",
	    r->out);
}

/*
 * A whole request (its body, then the end of stdin), refused and
 * finished: the connection is kept and the answer came.
 */
static void
refuse_whole(struct conn *c, struct request *r, const char *method,
    const char *length, size_t len)
{
	send_head(c->client, method, length);
	send_body(c->client, len, true);
	accept_and_refuse(c, r, method);
	request_finish(r);
	ck_assert_int_ge(c->f.ipcFd, 0);
	ck_assert_int_gt(read_answer(c->client), 0);
}

static double
elapsed_s(const struct timespec *t0)
{
	struct timespec	 t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) +
	    (t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* An early answer, its body sent whole: read, and the connection kept. */
START_TEST(test_finish_early_keeps)
{
	struct conn	 c;
	struct request	 r;

	conn_open(&c);
	refuse_whole(&c, &r, "POST", "65536", 65536);
	/* The next request on the same connection, whole. */
	refuse_whole(&c, &r, "GET", "", 0);
	conn_close(&c);
}
END_TEST

/* An early answer, its body still coming: given up on in bounds, closed. */
START_TEST(test_finish_early_bounded)
{
	struct conn	 c;
	struct request	 r;
	struct timespec	 t0;

	conn_open(&c);
	send_head(c.client, "POST", "1048576");
	send_body(c.client, 1000, false);
	accept_and_refuse(&c, &r, "POST");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	request_finish(&r);
	ck_assert_msg(elapsed_s(&t0) < 3, "finish took %.1f s", elapsed_s(&t0));
	ck_assert_int_lt(c.f.ipcFd, 0);
	/* The answer came whole, END_REQUEST included. */
	ck_assert_int_gt(read_answer(c.client), 0);
	conn_close(&c);
}
END_TEST

/* The end record arriving after the body was read is this request's. */
START_TEST(test_finish_late_end_record)
{
	struct conn	 c;
	struct request	 r;
	char		 buf[16];

	conn_open(&c);
	send_head(c.client, "POST", "10");
	send_body(c.client, 10, false);
	accept_and_refuse(&c, &r, "POST");
	ck_assert_int_eq(request_read(&r, buf, sizeof(buf)), 10);
	ck_assert(!request_body_pending(&r));
	send_body(c.client, 0, true);
	request_finish(&r);
	ck_assert_int_ge(c.f.ipcFd, 0);
	ck_assert_int_gt(read_answer(c.client), 0);
	refuse_whole(&c, &r, "GET", "", 0);
	conn_close(&c);
}
END_TEST

static Suite *
request_suite(void)
{
	Suite	*s = suite_create("request");
	TCase	*tc = test_tcase("framing", setup, NULL, 0);

	tcase_add_loop_test(tc, test_framing, 0,
	    sizeof(cases) / sizeof(cases[0]));
	suite_add_tcase(s, tc);
	tc = test_tcase("finish", setup, NULL, 20);
	tcase_add_test(tc, test_finish_early_keeps);
	tcase_add_test(tc, test_finish_early_bounded);
	tcase_add_test(tc, test_finish_late_end_record);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(request_suite)
