/*
 * mime_cost: what one libmagic detection of a file costs, as src/mime.c
 * runs it (MAGIC_MIME_TYPE | MAGIC_ERROR on the file's first 64 KiB).
 *
 *   gcc -O2 -Wall -o mime_cost tests/bench/mime_cost.c -lmagic
 *   mime_cost [-b] [-n ROUNDS] [-t] FILE
 *
 * Detects FILE's type ROUNDS times (default 1) with one cookie and prints
 * the type; -t also prints the mean microseconds per detection.  -b adds
 * MAGIC_NO_CHECK_TEXT: libmagic's binary tests alone, without its text
 * tests.  Under valgrind's callgrind, a run with -n 0 (loading the
 * database only) subtracted from one with -n N gives the instructions of
 * N detections: a figure that, unlike time, does not depend on how busy
 * the machine is.  tests/bench/mime_cost.sh does that for a few inputs.
 * Built with -DREGEX_SKIP and linked as the worker is (mime_link.sh), it
 * skips the regular expression searches that cannot match, unless
 * FILEUPLOAD_REGEX_SKIP=0, as the worker reads it.
 */
#define _POSIX_C_SOURCE 200809L

#include <fcntl.h>
#include <magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef REGEX_SKIP
#include "regex_skip.h"
#include "text_index.h"
#endif

#define SNIFF	(64 * 1024)
#define FLAGS	(MAGIC_MIME_TYPE | MAGIC_ERROR)	/* as src/mime.c */

static double
now_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int
main(int argc, char **argv)
{
	static char	 buf[SNIFF];
	const char	*type = "(not run)";
	magic_t		 m;
#ifdef REGEX_SKIP
	struct text_index *ix;
#endif
	ssize_t		 len;
	double		 t0;
	long		 rounds = 1, i;
	int		 c, fd, flags = FLAGS, timed = 0;

	while ((c = getopt(argc, argv, "bn:t")) != -1) {
		switch (c) {
		case 'b':
			flags |= MAGIC_NO_CHECK_TEXT;
			break;
		case 'n':
			rounds = strtol(optarg, NULL, 10);
			break;
		case 't':
			timed = 1;
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc - 1 || rounds < 0)
		goto usage;
	if ((fd = open(argv[optind], O_RDONLY)) == -1 ||
	    (len = read(fd, buf, sizeof(buf))) <= 0) {
		perror(argv[optind]);
		return 1;
	}
	close(fd);
#ifdef REGEX_SKIP
	regex_skip_enable(getenv("FILEUPLOAD_REGEX_SKIP") == NULL ||
	    strcmp(getenv("FILEUPLOAD_REGEX_SKIP"), "0") != 0);
#endif
	if ((m = magic_open(flags)) == NULL || magic_load(m, NULL) == -1) {
		fprintf(stderr, "libmagic: %s\n", m ? magic_error(m) : "open");
		return 1;
	}
#ifdef REGEX_SKIP
	/* The searches' index, lent for each detection as src/mime.c does. */
	if ((ix = text_index_new()) == NULL) {
		fprintf(stderr, "mime_cost: out of memory\n");
		return 1;
	}
#endif
	t0 = now_us();
	for (i = 0; i < rounds; i++) {
#ifdef REGEX_SKIP
		text_index_use(ix, buf, (size_t)len);
#endif
		type = magic_buffer(m, buf, (size_t)len);
#ifdef REGEX_SKIP
		text_index_use(NULL, NULL, 0);
#endif
		if (type == NULL) {
			fprintf(stderr, "libmagic: %s\n", magic_error(m));
			return 1;
		}
	}
	if (timed && rounds > 0)
		printf("%s %.1f\n", type, (now_us() - t0) / rounds);
	else
		printf("%s\n", type);
	magic_close(m);
	return 0;
usage:
	fprintf(stderr, "usage: mime_cost [-b] [-n ROUNDS] [-t] FILE\n");
	return 2;
}
