/*
 * Unit tests of the pool's counters: slots claimed, a dead worker's slot
 * adopted with its counts, threads adding exactly, histogram buckets; and
 * of the text exposition, line by line and family by family.
 *
 * metrics_start is once per process, so every test that counts does it in
 * a child it forks (the tests also run unforked, under valgrind); the
 * parent reads the region as a scrape would (metrics_read).
 */
#include <ctype.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client_slots.h"
#include "handlers.h"
#include "metrics.h"
#include "metrics_route.h"
#include "metrics_text.h"
#include "outcome.h"
#include "router.h"
#include "testutil.h"

static char	 region_path[4096];

static void
setup(void)
{
	test_dir_make();
	snprintf(region_path, sizeof(region_path), "%s", test_path("metrics"));
}

static struct metrics_snapshot *
scrape(void)
{
	static struct metrics_snapshot	 snap;
	char				 err[256];

	ck_assert_msg(metrics_read(region_path, &snap, err, sizeof(err)) == 0,
	    "%s", err);
	return &snap;
}

/*
 * A worker: a child that claims a slot of the region, stores uploads
 * files (10 bytes each), takes in_flight requests it never ends, tells
 * its slot and waits to be killed.  Returns its pid; *slot its slot.
 */
static pid_t
worker(int uploads, int in_flight, int *slot)
{
	char	 err[256];
	int	 fds[2], i, s;
	pid_t	 pid;

	ck_assert(pipe(fds) == 0);
	if ((pid = fork()) == 0) {
		close(fds[0]);
		s = metrics_start(region_path, err, sizeof(err)) == 0 ?
		    metrics_slot() : -2;
		for (i = 0; i < uploads; i++)
			metrics_upload_stored(10);
		for (i = 0; i < in_flight; i++)
			metrics_request_begin();
		if (write(fds[1], &s, sizeof(s)) != sizeof(s))
			_exit(1);
		for (;;)
			pause();
	}
	ck_assert(pid > 0);
	close(fds[1]);
	ck_assert_int_eq(read(fds[0], slot, sizeof(*slot)), sizeof(*slot));
	close(fds[0]);
	ck_assert_int_ge(*slot, 0);
	return pid;
}

static void
kill_worker(pid_t pid)
{
	int	 status;

	ck_assert(kill(pid, SIGKILL) == 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status));
}

/* Runs fn in a child that counts into the region, and waits for it. */
static void
in_child(void (*fn)(void))
{
	char	 err[256];
	int	 status;
	pid_t	 pid;

	if ((pid = fork()) == 0) {
		if (metrics_start(region_path, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s\n", err);
			_exit(2);
		}
		fn();
		_exit(0);
	}
	ck_assert(pid > 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "the counting child failed");
}

/* --- slots ----------------------------------------------------------- */

/*
 * A worker killed with SIGKILL keeps its counts; its replacement adopts
 * its slot, adds to them, and its gauges (what it had in hand) are gone.
 */
START_TEST(test_dead_slot_adopted)
{
	struct metrics_snapshot	*s;
	int			 fd, a, b;
	pid_t			 pa, pb;

	/* The pool's start makes the file empty; the first worker lays it out. */
	ck_assert((fd = open(region_path, O_CREAT | O_WRONLY, 0600)) >= 0);
	close(fd);
	pa = worker(5, 3, &a);
	s = scrape();
	ck_assert(s->shared);
	ck_assert_uint_eq(s->workers, 1);
	ck_assert_uint_eq(s->counter[METRICS_UPLOAD_FILES], 5);
	ck_assert_uint_eq(s->counter[METRICS_UPLOAD_BYTES], 50);
	ck_assert_int_eq(s->gauge[METRICS_IN_FLIGHT], 3);

	kill_worker(pa);
	s = scrape();
	ck_assert_uint_eq(s->workers, 0);
	ck_assert_uint_eq(s->counter[METRICS_UPLOAD_FILES], 5);
	ck_assert_int_eq(s->gauge[METRICS_IN_FLIGHT], 0);

	pb = worker(2, 0, &b);
	ck_assert_int_eq(b, a);
	s = scrape();
	ck_assert_uint_eq(s->workers, 1);
	ck_assert_int_eq(s->worker_slot[0], a);
	ck_assert_uint_eq(s->counter[METRICS_UPLOAD_FILES], 7);
	ck_assert_uint_eq(s->counter[METRICS_UPLOAD_BYTES], 70);
	ck_assert_uint_eq(s->counter[METRICS_WORKER_STARTS], 2);
	ck_assert_int_eq(s->gauge[METRICS_IN_FLIGHT], 0);
	kill_worker(pb);
}
END_TEST

/* A live worker's slot is never taken; a dead one's is, before a free one. */
START_TEST(test_live_slot_kept)
{
	struct metrics_snapshot	*s;
	int			 a, b, c;
	pid_t			 pa, pb, pc;

	pa = worker(1, 0, &a);
	pb = worker(1, 1, &b);
	ck_assert_int_ne(a, b);
	s = scrape();
	ck_assert_uint_eq(s->workers, 2);
	ck_assert_uint_eq(s->counter[METRICS_UPLOAD_FILES], 2);
	ck_assert_int_eq(s->gauge[METRICS_IN_FLIGHT], 1);

	kill_worker(pb);
	pc = worker(0, 0, &c);
	ck_assert_int_eq(c, b);
	s = scrape();
	ck_assert_uint_eq(s->workers, 2);
	ck_assert_uint_eq(s->counter[METRICS_UPLOAD_FILES], 2);
	ck_assert_uint_eq(s->counter[METRICS_WORKER_STARTS], 3);
	kill_worker(pa);
	kill_worker(pc);
}
END_TEST

/*
 * A worker of 12 upload slots (16 threads) whose clients hold n of them,
 * all from 192.0.2.1, in the region's table; waits to be killed.
 */
static pid_t
client_worker(unsigned n)
{
	struct client_slots *t = NULL;
	struct client_addr c;
	uint64_t holder;
	char	 err[256];
	int	 fds[2], ok = 1;
	unsigned i;
	pid_t	 pid;

	ck_assert(pipe(fds) == 0);
	if ((pid = fork()) == 0) {
		close(fds[0]);
		if (metrics_start(region_path, err, sizeof(err)) != 0 ||
		    (t = metrics_client_slots(&holder)) == NULL ||
		    !client_addr_parse("192.0.2.1", &c))
			ok = 0;
		metrics_threads(16, 12);
		for (i = 0; ok && i < n; i++)
			ok = client_slots_take(t, &c, holder, 100) ==
			    CLIENT_SLOTS_TAKEN;
		if (write(fds[1], &ok, sizeof(ok)) != sizeof(ok))
			_exit(1);
		for (;;)
			pause();
	}
	ck_assert(pid > 0);
	close(fds[1]);
	ck_assert_int_eq(read(fds[0], &ok, sizeof(ok)), sizeof(ok));
	close(fds[0]);
	ck_assert_int_eq(ok, 1);
	return pid;
}

/* What a new worker of 12 slots must see: 192.0.2.1's, the pool's. */
static unsigned	 seen_held, seen_pool;

static void
look_at_clients(void)
{
	struct client_slots *t;
	struct client_addr c;
	uint64_t holder;

	metrics_threads(16, 12);
	if ((t = metrics_client_slots(&holder)) == NULL ||
	    !client_addr_parse("192.0.2.1", &c))
		_exit(3);
	if (client_slots_held(t, &c) != seen_held ||
	    metrics_pool_upload_slots() != seen_pool)
		_exit(4);
}

/*
 * The clients' table is the pool's: what one worker's clients hold, the
 * others see, and the host's slots are every live worker's; what a killed
 * worker held is gone once a worker starts after it.
 */
START_TEST(test_client_slots_shared)
{
	pid_t	 pa, pb;

	pa = client_worker(3);
	pb = client_worker(2);
	seen_held = 5;
	seen_pool = 36;		/* a, b and the looking one */
	in_child(look_at_clients);
	kill_worker(pb);
	seen_held = 3;
	seen_pool = 24;
	in_child(look_at_clients);
	kill_worker(pa);
	seen_held = 0;
	seen_pool = 12;
	in_child(look_at_clients);
}
END_TEST

#define THREADS		4
#define PER_THREAD	20000

static void *
count_requests(void *arg)
{
	int	 i;

	(void)arg;
	for (i = 0; i < PER_THREAD; i++) {
		metrics_request_begin();
		metrics_upload_stored(3);
		metrics_request_end(1, 201, 20);
	}
	return NULL;
}

static void
threads_count(void)
{
	pthread_t	 t[THREADS];
	int		 i;

	for (i = 0; i < THREADS; i++)
		if (pthread_create(&t[i], NULL, count_requests, NULL) != 0)
			_exit(3);
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
}

/* Threads of one process add to its slot without losing an increment. */
START_TEST(test_threads_exact)
{
	struct metrics_snapshot	*s;
	uint64_t		 n = THREADS * PER_THREAD, total = 0;
	int			 b;

	in_child(threads_count);
	in_child(threads_count);
	s = scrape();
	ck_assert_uint_eq(s->requests[1][1], 2 * n);
	ck_assert_uint_eq(s->counter[METRICS_UPLOAD_FILES], 2 * n);
	ck_assert_uint_eq(s->counter[METRICS_UPLOAD_BYTES], 6 * n);
	for (b = 0; b <= METRICS_BUCKETS; b++)
		total += s->bucket[1][b];
	ck_assert_uint_eq(total, 2 * n);
	ck_assert_uint_eq(s->bucket[1][0], 2 * n);
	ck_assert_uint_eq(s->duration_us[1], 20 * 2 * n);
	/* Both exited: no gauge of theirs remains. */
	ck_assert_uint_eq(s->workers, 0);
	ck_assert_int_eq(s->gauge[METRICS_IN_FLIGHT], 0);
}
END_TEST

static void
observe(void)
{
	static const uint64_t	 us[] = {
		0, 1000, 1001, 2500, 999999, 1000000, 60000000, 60000001,
		UINT64_MAX / 2,
	};
	static const int	 status[] = { 0, 99, 101, 204, 304, 404, 503,
		600, 200 };
	size_t			 i;

	for (i = 0; i < sizeof(us) / sizeof(us[0]); i++)
		metrics_request_end(2, status[i], us[i]);
	/* A route past the table counts as the last row. */
	metrics_request_end(METRICS_ROUTES_MAX + 5, 200, 1);
	metrics_body_error(METRICS_BODY_STALLED);
	metrics_body_error(METRICS_BODY_TOO_SLOW);
	metrics_body_error(METRICS_BODY_TOO_SLOW);
	metrics_db_error(METRICS_DB_POOL_WAIT);
	metrics_store_error(METRICS_STORE_NOSPACE);
	metrics_s3_request(METRICS_S3_PUT, false);
	metrics_s3_request(METRICS_S3_PUT, true);
	metrics_s3_request(METRICS_S3_PUT, true);
	metrics_s3_retry(METRICS_S3_MULTIPART, false);
	metrics_s3_retry(METRICS_S3_MULTIPART, false);
	metrics_s3_retry(METRICS_S3_HEAD, true);
	metrics_tus_expired(4);
	metrics_swept(3);
	metrics_threads(16, 12);
}

/* Each duration in its bucket (le: less than or equal), each status in its class. */
START_TEST(test_buckets_and_classes)
{
	struct metrics_snapshot	*s;
	static const uint64_t	 want[METRICS_BUCKETS + 1] = {
		[0] = 2, [1] = 2, [9] = 2, [14] = 1, [15] = 2,
	};
	int			 b;

	in_child(observe);
	s = scrape();
	for (b = 0; b <= METRICS_BUCKETS; b++)
		ck_assert_msg(s->bucket[2][b] == want[b], "bucket %d (le %s): "
		    "%llu, want %llu", b, metrics_bucket_le(b),
		    (unsigned long long)s->bucket[2][b],
		    (unsigned long long)want[b]);
	ck_assert_uint_eq(s->requests[2][0], 1);	/* 101 */
	ck_assert_uint_eq(s->requests[2][1], 2);	/* 204, 200 */
	ck_assert_uint_eq(s->requests[2][2], 1);	/* 304 */
	ck_assert_uint_eq(s->requests[2][3], 1);	/* 404 */
	ck_assert_uint_eq(s->requests[2][4], 4);	/* 503, and 0, 99, 600 */
	ck_assert_uint_eq(s->requests[METRICS_ROUTES_MAX - 1][1], 1);
	ck_assert_uint_eq(s->body[METRICS_BODY_STALLED], 1);
	ck_assert_uint_eq(s->body[METRICS_BODY_TOO_SLOW], 2);
	ck_assert_uint_eq(s->db[METRICS_DB_POOL_WAIT], 1);
	ck_assert_uint_eq(s->store[METRICS_STORE_NOSPACE], 1);
	ck_assert_uint_eq(s->s3[METRICS_S3_PUT][0], 1);
	ck_assert_uint_eq(s->s3[METRICS_S3_PUT][1], 2);
	ck_assert_uint_eq(s->s3_retry[0][METRICS_S3_MULTIPART], 2);
	ck_assert_uint_eq(s->s3_retry[1][METRICS_S3_HEAD], 1);
	ck_assert_uint_eq(s->s3_retry[0][METRICS_S3_HEAD], 0);
	ck_assert_uint_eq(s->counter[METRICS_TUS_EXPIRED], 4);
	ck_assert_uint_eq(s->counter[METRICS_SWEPT], 3);
}
END_TEST

/* Every store error the handlers answer with, once (outcome_store). */
static void
store_errors(void)
{
	int	 e;

	for (e = 0; e < STORE_ERR__MAX; e++)
		(void)outcome_store((enum store_error)e, NULL);
}

/*
 * Each store error counts as its kind, the failures only: a busy partial
 * upload (423) or an operation the backend lacks (501) is no store error.
 */
START_TEST(test_store_errors_by_kind)
{
	struct metrics_snapshot	*s;

	in_child(store_errors);
	s = scrape();
	ck_assert_uint_eq(s->store[METRICS_STORE_NOSPACE], 1);
	ck_assert_uint_eq(s->store[METRICS_STORE_IO], 2);	/* io, exists */
	ck_assert_uint_eq(s->store[METRICS_STORE_MISSING], 1);
	ck_assert_uint_eq(s->store[METRICS_STORE_UNAVAILABLE], 1);
}
END_TEST

static void
start_private(void)
{
	struct metrics_snapshot	*s;
	char			 err[256];

	if (metrics_start(NULL, err, sizeof(err)) != 0 || metrics_slot() != 0)
		_exit(2);
	metrics_upload_stored(5);
	metrics_request_begin();
	if ((s = metrics_snapshot_take()) == NULL)
		_exit(3);
	if (s->shared || s->workers != 1 ||
	    s->counter[METRICS_UPLOAD_BYTES] != 5 ||
	    s->gauge[METRICS_IN_FLIGHT] != 1)
		_exit(4);
	free(s);
	/* Once per process. */
	if (metrics_start(NULL, err, sizeof(err)) != -1)
		_exit(5);
	_exit(0);
}

/* Without a file, a process counts in a region of its own. */
START_TEST(test_private_region)
{
	int	 status;
	pid_t	 pid;

	if ((pid = fork()) == 0)
		start_private();
	ck_assert(pid > 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "the private region child exited with %d", WEXITSTATUS(status));
}
END_TEST

/* A file that is not a region of this layout is refused, never reused. */
START_TEST(test_foreign_file_refused)
{
	struct metrics_snapshot	 snap;
	char			 err[256], junk[4096];
	int			 fd, status;
	pid_t			 pid;

	memset(junk, 'x', sizeof(junk));
	ck_assert((fd = open(region_path, O_CREAT | O_WRONLY, 0600)) >= 0);
	ck_assert_int_eq(write(fd, junk, sizeof(junk)), sizeof(junk));
	close(fd);
	ck_assert_int_eq(metrics_read(region_path, &snap, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "another version") != NULL, "%s", err);
	if ((pid = fork()) == 0)
		_exit(metrics_start(region_path, err, sizeof(err)) == -1 ? 0 : 1);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(metrics_read(test_path("none"), &snap, err,
	    sizeof(err)), -1);
}
END_TEST

/* --- the route table ----------------------------------------------- */

/* Every route has a label of its own that fits the region. */
START_TEST(test_route_names)
{
	size_t		 i, j;
	const char	*n;

	ck_assert_uint_lt(handler_nroutes, METRICS_ROUTES_MAX);
	for (i = 0; i < handler_nroutes; i++) {
		n = handler_routes[i].name;
		ck_assert_msg(n != NULL && *n != '\0', "route %zu has no name", i);
		ck_assert_msg(strspn(n, "abcdefghijklmnopqrstuvwxyz_") ==
		    strlen(n), "route name %s", n);
		ck_assert_str_ne(n, METRICS_NO_ROUTE);
		for (j = 0; j < i; j++)
			ck_assert_str_ne(n, handler_routes[j].name);
	}
}
END_TEST

START_TEST(test_loopback)
{
	ck_assert(metrics_loopback("127.0.0.1"));
	ck_assert(metrics_loopback("::1"));
	ck_assert(metrics_loopback("::ffff:127.0.0.1"));
	ck_assert(!metrics_loopback(NULL));
	ck_assert(!metrics_loopback(""));
	ck_assert(!metrics_loopback("127.0.0.2"));
	ck_assert(!metrics_loopback("127.0.0.10"));
	ck_assert(!metrics_loopback("10.0.0.1"));
	ck_assert(!metrics_loopback("::2"));
}
END_TEST

/* --- the exposition -------------------------------------------------- */

static const char *const names[] = { "banner", "list", "upload" };

static struct metrics_snapshot *
sample(void)
{
	static struct metrics_snapshot	 s;

	memset(&s, 0, sizeof(s));
	s.shared = true;
	s.created = 1764489600;
	s.workers = 2;
	s.worker_slot[0] = 0;
	s.worker_slot[1] = 3;
	s.worker_started[0] = 1764489601;
	s.worker_started[1] = 1764489700;
	s.gauge[METRICS_IN_FLIGHT] = 3;
	s.gauge[METRICS_THREADS] = 512;
	s.gauge[METRICS_UPLOADS] = 2;
	s.gauge[METRICS_UPLOAD_SLOTS] = 448;
	s.counter[METRICS_UPLOAD_FILES] = 7;
	s.counter[METRICS_UPLOAD_BYTES] = 12345678901ULL;
	s.counter[METRICS_DUPLICATES] = 2;
	s.counter[METRICS_DELETE_FILES] = 1;
	s.body[METRICS_BODY_TOO_SLOW] = 4;
	s.db[METRICS_DB_QUERY] = 6;
	s.store[METRICS_STORE_IO] = 8;
	s.s3[METRICS_S3_GET][0] = 9;
	s.s3_retry[0][METRICS_S3_MULTIPART] = 11;
	s.s3_retry[1][METRICS_S3_PUT] = 12;
	s.requests[1][1] = 10;
	s.requests[2][1] = 7;
	s.requests[2][3] = 2;
	s.requests[3][3] = 5;		/* no route */
	s.bucket[2][0] = 4;
	s.bucket[2][3] = 3;
	s.bucket[2][METRICS_BUCKETS] = 2;
	s.duration_us[2] = 61500000;
	s.health_db = 1;
	s.health_store = 0;
	s.disk_free = 1000;
	s.disk_size = 8000;
	return &s;
}

static struct metrics_build	 build = {
	"1.0.0", "1.0.18", "15.5", "5.44"
};

static char *
render(const struct metrics_snapshot *s, size_t *len)
{
	char	*text = metrics_text(s, names, 3, &build, len);

	ck_assert(text != NULL);
	ck_assert_uint_eq(strlen(text), *len);
	return text;
}

static void
has_line(const char *text, const char *line)
{
	const char	*p = text;
	size_t		 n = strlen(line);

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return;
		p += n;
	}
	ck_abort_msg("no line \"%s\" in:\n%s", line, text);
}

START_TEST(test_text_values)
{
	char	*t;
	size_t	 len;

	t = render(sample(), &len);
	has_line(t, "fileupload_build_info{version=\"1.0.0\",libsodium="
	    "\"1.0.18\",libpq=\"15.5\",libmagic=\"5.44\"} 1");
	has_line(t, "fileupload_metrics_shared 1");
	has_line(t, "fileupload_metrics_start_time_seconds 1764489600");
	has_line(t, "fileupload_workers 2");
	has_line(t, "fileupload_worker_start_time_seconds{slot=\"3\"} 1764489700");
	has_line(t, "fileupload_requests_in_flight 3");
	has_line(t, "fileupload_threads{state=\"busy\"} 3");
	has_line(t, "fileupload_threads{state=\"idle\"} 509");
	has_line(t, "fileupload_uploads_in_flight 2");
	has_line(t, "fileupload_upload_slots 448");
	has_line(t, "fileupload_uploaded_files_total 7");
	has_line(t, "fileupload_uploaded_bytes_total 12345678901");
	has_line(t, "fileupload_duplicate_uploads_total 2");
	has_line(t, "fileupload_deleted_files_total 1");
	has_line(t, "fileupload_deleted_bytes_total 0");
	has_line(t, "fileupload_slow_uploads_cut_total{reason=\"too_slow\"} 4");
	has_line(t, "fileupload_slow_uploads_cut_total{reason=\"stalled\"} 0");
	has_line(t, "fileupload_db_errors_total{kind=\"query\"} 6");
	has_line(t, "fileupload_storage_errors_total{kind=\"io\"} 8");
	has_line(t, "fileupload_storage_errors_total{kind=\"no_space\"} 0");
	has_line(t, "fileupload_storage_errors_total{kind=\"unavailable\"} 0");
	has_line(t, "fileupload_s3_requests_total{op=\"get\",result=\"error\"} 9");
	has_line(t, "fileupload_s3_retries_total{op=\"multipart\"} 11");
	has_line(t, "fileupload_s3_retries_total{op=\"put\"} 0");
	has_line(t, "fileupload_s3_retries_exhausted_total{op=\"put\"} 12");
	has_line(t, "fileupload_requests_total{route=\"list\",class=\"2xx\"} 10");
	has_line(t, "fileupload_requests_total{route=\"upload\",class=\"4xx\"} 2");
	has_line(t, "fileupload_requests_total{route=\"none\",class=\"4xx\"} 5");
	/* Buckets are cumulative, +Inf is the count. */
	has_line(t, "fileupload_request_duration_seconds_bucket{route=\"upload\","
	    "le=\"0.001\"} 4");
	has_line(t, "fileupload_request_duration_seconds_bucket{route=\"upload\","
	    "le=\"0.005\"} 4");
	has_line(t, "fileupload_request_duration_seconds_bucket{route=\"upload\","
	    "le=\"0.01\"} 7");
	has_line(t, "fileupload_request_duration_seconds_bucket{route=\"upload\","
	    "le=\"60\"} 7");
	has_line(t, "fileupload_request_duration_seconds_bucket{route=\"upload\","
	    "le=\"+Inf\"} 9");
	has_line(t, "fileupload_request_duration_seconds_count{route=\"upload\"} 9");
	has_line(t, "fileupload_request_duration_seconds_sum{route=\"upload\"} "
	    "61.500000");
	has_line(t, "fileupload_request_duration_seconds_count{route=\"none\"} 0");
	has_line(t, "fileupload_health{check=\"database\"} 1");
	has_line(t, "fileupload_health{check=\"storage\"} 0");
	has_line(t, "fileupload_data_dir_free_bytes 1000");
	has_line(t, "fileupload_data_dir_size_bytes 8000");
	ck_assert_ptr_null(strstr(t, "route=\"get\""));
	free(t);
}
END_TEST

/* What the answering worker did not look at is left out, not made up. */
START_TEST(test_text_unchecked_left_out)
{
	struct metrics_snapshot	*s = sample();
	char			*t;
	size_t			 len;

	s->health_db = s->health_store = -1;
	s->disk_free = s->disk_size = -1;
	t = render(s, &len);
	ck_assert_ptr_null(strstr(t, "fileupload_health"));
	ck_assert_ptr_null(strstr(t, "fileupload_data_dir_"));
	free(t);
}
END_TEST

/* The name a sample line is of, and whether it belongs to family fam. */
static bool
of_family(const char *line, const char *fam, const char *type)
{
	size_t	 n = strlen(fam), m = strcspn(line, "{ ");
	const char *suffix[] = { "_bucket", "_sum", "_count" };
	size_t	 i;

	if (m == n && strncmp(line, fam, n) == 0)
		return strcmp(type, "histogram") != 0;
	if (strcmp(type, "histogram") != 0 || strncmp(line, fam, n) != 0)
		return false;
	for (i = 0; i < 3; i++)
		if (m == n + strlen(suffix[i]) &&
		    strncmp(line + n, suffix[i], strlen(suffix[i])) == 0)
			return true;
	return false;
}

/*
 * The format's rules: each family's HELP, then TYPE, then its samples,
 * every family once; names and label names [a-zA-Z_:][a-zA-Z0-9_:]*;
 * counters end in _total; a value on every sample; a final newline.
 */
START_TEST(test_text_structure)
{
	char		*t, *line, *save, fam[128] = "", type[16] = "";
	char		 seen[64][128];
	size_t		 len, nseen = 0, i, samples = 0;
	bool		 help = false;

	t = render(sample(), &len);
	ck_assert(len > 0 && t[len - 1] == '\n');
	for (line = strtok_r(t, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "# HELP ", 7) == 0) {
			ck_assert_int_eq(sscanf(line + 7, "%127s", fam), 1);
			for (i = 0; i < nseen; i++)
				ck_assert_msg(strcmp(seen[i], fam) != 0,
				    "%s declared twice", fam);
			ck_assert_uint_lt(nseen, 64);
			snprintf(seen[nseen++], sizeof(seen[0]), "%s", fam);
			help = true;
			type[0] = '\0';
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			char	 name[128];

			ck_assert_msg(help, "TYPE without HELP: %s", line);
			ck_assert_int_eq(sscanf(line + 7, "%127s %15s", name,
			    type), 2);
			ck_assert_str_eq(name, fam);
			ck_assert_msg(strcmp(type, "counter") == 0 ||
			    strcmp(type, "gauge") == 0 ||
			    strcmp(type, "histogram") == 0, "type %s", type);
			if (strcmp(type, "counter") == 0)
				ck_assert_msg(strlen(fam) > 6 && strcmp(fam +
				    strlen(fam) - 6, "_total") == 0, "counter %s",
				    fam);
			help = false;
			continue;
		}
		ck_assert_msg(line[0] != '#', "stray comment: %s", line);
		ck_assert_msg(type[0] != '\0', "sample before TYPE: %s", line);
		ck_assert_msg(of_family(line, fam, type), "%s is not of %s %s",
		    line, type, fam);
		ck_assert_msg(isalpha((unsigned char)line[0]) || line[0] == '_',
		    "%s", line);
		/* The value: after the last space, a number. */
		{
			const char	*v = strrchr(line, ' ');
			char		*end;

			ck_assert_ptr_nonnull(v);
			strtod(v + 1, &end);
			ck_assert_msg(end != v + 1 && *end == '\0', "value of %s",
			    line);
		}
		samples++;
	}
	ck_assert_uint_gt(samples, 100);
	free(t);
}
END_TEST

/* Label values are escaped, whatever a version string holds. */
START_TEST(test_text_escapes)
{
	struct metrics_build	 odd = { "1.0\"x\\y\nz", "a", "b", "c" };
	char			*t;
	size_t			 len;

	t = metrics_text(sample(), names, 3, &odd, &len);
	ck_assert_ptr_nonnull(t);
	has_line(t, "fileupload_build_info{version=\"1.0\\\"x\\\\y\\nz\","
	    "libsodium=\"a\",libpq=\"b\",libmagic=\"c\"} 1");
	free(t);
}
END_TEST

/* The real build's versions: numbers with dots. */
START_TEST(test_build_info)
{
	struct metrics_build	 b;

	metrics_build_info(&b);
	ck_assert_str_eq(b.version, PACKAGE_VERSION);
	ck_assert(strspn(b.libsodium, "0123456789.") == strlen(b.libsodium));
	ck_assert(strspn(b.libpq, "0123456789.") == strlen(b.libpq));
	ck_assert(strspn(b.libmagic, "0123456789.") == strlen(b.libmagic));
	ck_assert(strchr(b.libpq, '.') != NULL && b.libpq[0] != '0');
	ck_assert(strchr(b.libmagic, '.') != NULL && b.libmagic[0] != '0');
}
END_TEST

static Suite *
metrics_suite(void)
{
	Suite	*s = suite_create("metrics");
	TCase	*tc;

	tc = test_dir_tcase("slots", setup, test_dir_remove);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_dead_slot_adopted);
	tcase_add_test(tc, test_live_slot_kept);
	tcase_add_test(tc, test_client_slots_shared);
	tcase_add_test(tc, test_threads_exact);
	tcase_add_test(tc, test_buckets_and_classes);
	tcase_add_test(tc, test_store_errors_by_kind);
	tcase_add_test(tc, test_private_region);
	tcase_add_test(tc, test_foreign_file_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("routes");
	tcase_add_test(tc, test_route_names);
	tcase_add_test(tc, test_loopback);
	suite_add_tcase(s, tc);

	tc = tcase_create("text");
	tcase_add_test(tc, test_text_values);
	tcase_add_test(tc, test_text_unchecked_left_out);
	tcase_add_test(tc, test_text_structure);
	tcase_add_test(tc, test_text_escapes);
	tcase_add_test(tc, test_build_info);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(metrics_suite)
