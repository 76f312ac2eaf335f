/*
 * durable_files: how many small files per second this file system can make
 * durable with the sequence a small upload needs, the storage ceiling of the
 * small-upload figure in tests/bench/run.sh:
 *
 *	create DIR/tmp/<name>, write SIZE bytes, fsync, close,
 *	rename to DIR/<xx>/<name>, fsync DIR/<xx>
 *
 * (<xx> is one of 256 directories made beforehand, like DATA_DIR's fan-out
 * once it is populated.)  THREADS threads do this in a loop for SECONDS.
 *
 *	gcc -O2 -pthread -o durable_files durable_files.c
 *	./durable_files DIR [THREADS [SECONDS [SIZE]]]	# 16, 10, 4096
 *
 * DIR must exist and should sit on the file system of DATA_DIR; what this
 * writes stays in it (remove DIR afterwards).  Prints "durable threads=N
 * ops=N seconds=S ops_per_s=R p50_us=L p99_us=L".
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FANOUT		256
#define LAT_SLOTS	(1 << 20)

static const char	*dir;
static int		 dirfd_, tmpfd;
static size_t		 size;
static double		 deadline;

struct worker {
	pthread_t	 th;
	int		 id;
	unsigned long	 ops;
	unsigned	*lat;	/* microseconds per op */
	int		 failed;
};

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
one(struct worker *w, char *buf)
{
	char	 name[64], dst[80], sub[4];
	int	 fd, dfd, rc;
	size_t	 off;
	ssize_t	 n;

	snprintf(name, sizeof(name), "%d-%lu", w->id, w->ops);
	snprintf(sub, sizeof(sub), "%02x", (unsigned)((w->ops * 31 + w->id) %
	    FANOUT));
	snprintf(dst, sizeof(dst), "%s/%s", sub, name);
	memcpy(buf, name, strlen(name));	/* unique bytes per file */

	if ((fd = openat(tmpfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0640)) == -1)
		return -1;
	for (off = 0; off < size; off += n)
		if ((n = write(fd, buf + off, size - off)) <= 0) {
			close(fd);
			return -1;
		}
	rc = fsync(fd);
	close(fd);
	if (rc == -1 || renameat(tmpfd, name, dirfd_, dst) == -1)
		return -1;
	if ((dfd = openat(dirfd_, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1)
		return -1;
	rc = fsync(dfd);
	close(dfd);
	return rc;
}

static void *
run(void *arg)
{
	struct worker	*w = arg;
	char		*buf;
	double		 t0, t1;

	if ((buf = malloc(size + 64)) == NULL) {
		w->failed = 1;
		return NULL;
	}
	memset(buf, 'a' + w->id % 26, size + 64);
	for (t0 = now(); t0 < deadline; t0 = t1) {
		if (one(w, buf) == -1) {
			perror("durable_files");
			w->failed = 1;
			break;
		}
		t1 = now();
		if (w->ops < LAT_SLOTS)
			w->lat[w->ops] = (unsigned)((t1 - t0) * 1e6);
		w->ops++;
	}
	free(buf);
	return NULL;
}

static int
cmp(const void *a, const void *b)
{
	unsigned	 x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char *argv[])
{
	struct worker	*ws;
	unsigned	*all;
	unsigned long	 total = 0, k = 0;
	int		 threads, seconds, i, failed = 0;
	char		 sub[4];
	double		 t0, t;

	if (argc < 2) {
		fprintf(stderr, "usage: durable_files DIR [THREADS [SECONDS "
		    "[SIZE]]]\n");
		return 2;
	}
	dir = argv[1];
	threads = argc > 2 ? atoi(argv[2]) : 16;
	seconds = argc > 3 ? atoi(argv[3]) : 10;
	size = argc > 4 ? (size_t)atol(argv[4]) : 4096;
	if (threads < 1 || seconds < 1)
		return 2;
	if ((dirfd_ = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    (mkdirat(dirfd_, "tmp", 0750) == -1 && errno != EEXIST) ||
	    (tmpfd = openat(dirfd_, "tmp", O_RDONLY | O_DIRECTORY)) == -1) {
		perror(dir);
		return 2;
	}
	for (i = 0; i < FANOUT; i++) {
		snprintf(sub, sizeof(sub), "%02x", i);
		if (mkdirat(dirfd_, sub, 0750) == -1 && errno != EEXIST) {
			perror(sub);
			return 2;
		}
	}
	sync();		/* the fan-out is made beforehand, and durable */

	ws = calloc(threads, sizeof(*ws));
	if (ws == NULL)
		return 2;
	t0 = now();
	deadline = t0 + seconds;
	for (i = 0; i < threads; i++) {
		ws[i].id = i;
		if ((ws[i].lat = malloc(LAT_SLOTS * sizeof(unsigned))) == NULL)
			return 2;
		pthread_create(&ws[i].th, NULL, run, &ws[i]);
	}
	for (i = 0; i < threads; i++) {
		pthread_join(ws[i].th, NULL);
		total += ws[i].ops;
		failed |= ws[i].failed;
	}
	t = now() - t0;

	if ((all = malloc((total > 0 ? total : 1) * sizeof(unsigned))) == NULL)
		return 2;
	for (i = 0; i < threads; i++) {
		unsigned long	 n = ws[i].ops < LAT_SLOTS ? ws[i].ops :
		    LAT_SLOTS;

		memcpy(all + k, ws[i].lat, n * sizeof(unsigned));
		k += n;
		free(ws[i].lat);
	}
	qsort(all, k, sizeof(unsigned), cmp);
	printf("durable threads=%d size=%zu ops=%lu seconds=%.3f "
	    "ops_per_s=%.1f p50_us=%u p99_us=%u\n", threads, size, total, t,
	    total / t, k ? all[k / 2] : 0, k ? all[k * 99 / 100] : 0);
	free(all);
	free(ws);
	return failed;
}
