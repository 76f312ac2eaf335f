/*
 * metrics_hooks: what the metrics cost a request, measured directly: the
 * hooks of one request (metrics_request_begin, metrics_request_end) in a
 * loop on 1, 2 and 4 threads of one process, all adding to its slot of a
 * shared region, against the same loop with the hooks doing nothing (no
 * region, as before metrics_start).  Not a test: timings only.
 *
 *	gcc -O2 -Isrc -o metrics_hooks tests/bench/metrics_hooks.c \
 *	    src/metrics.c -pthread
 *	./metrics_hooks [REQUESTS_PER_THREAD]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "metrics.h"

static long	 per_thread = 10000000;

static void *
loop(void *arg)
{
	long	 i;

	(void)arg;
	for (i = 0; i < per_thread; i++) {
		metrics_request_begin();
		metrics_request_end((unsigned)(i & 7), 200, (uint64_t)(i & 1023));
	}
	return NULL;
}

/* Nanoseconds per request of one thread, n threads at once. */
static double
run(int n)
{
	pthread_t	 t[8];
	struct timespec	 a, b;
	int		 i;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, loop, NULL) != 0)
			exit(1);
	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &b);
	return ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) /
	    (double)per_thread;
}

static void
measure(const char *what)
{
	static const int threads[] = { 1, 2, 4 };
	size_t		 i;

	for (i = 0; i < sizeof(threads) / sizeof(threads[0]); i++)
		printf("%-22s %d thread(s): %6.1f ns per request (per thread)\n",
		    what, threads[i], run(threads[i]));
}

int
main(int argc, char *argv[])
{
	char	 path[] = "/tmp/metrics_hooks.XXXXXX", err[256];
	int	 fd, status;

	if (argc > 1 && (per_thread = atol(argv[1])) <= 0)
		return 2;
	if ((fd = mkstemp(path)) == -1)
		return 1;
	close(fd);
	/* Each measure in a child: metrics_start is once per process. */
	if (fork() == 0) {
		measure("hooks off (no region)");
		fflush(stdout);
		_exit(0);
	}
	wait(&status);
	if (fork() == 0) {
		if (metrics_start(path, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s\n", err);
			_exit(1);
		}
		measure("hooks on (shared file)");
		fflush(stdout);
		_exit(0);
	}
	wait(&status);
	unlink(path);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
