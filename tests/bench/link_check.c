/*
 * link_check: what checking a share link costs a request, measured
 * directly: links_in_query and links_check (HMAC-SHA256 of the hash and
 * expiry, constant-time compare) of a valid link, in a loop, as the CPU
 * time of this thread (CLOCK_THREAD_CPUTIME_ID: other processes on the
 * machine do not count).  Prints one line: "link_check_ns N".  Not a
 * test: timings only (tests/bench/fig_download.sh --link builds it).
 *
 *	gcc -O2 -Isrc -o link_check tests/bench/link_check.c src/links.c \
 *	    src/num.c -lsodium
 *	./link_check [CHECKS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "links.h"

#define HASH	"8e3f34efa36ebd2bc4550bc147acc5032d70c413dddc2856067abba4536aaaba"

static double
now_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int
main(int argc, char *argv[])
{
	unsigned char	 key[32];
	char		 q[LINKS_QUERY_MAX];
	long		 i, n = argc > 1 ? atol(argv[1]) : 1000000;
	double		 t0, t1;
	int		 ok = 0;

	if (sodium_init() == -1 || n <= 0)
		return 1;
	randombytes_buf(key, sizeof(key));
	links_query(key, sizeof(key), HASH, "2026-12-07T04:24:06Z",
	    4102444800ULL, q);
	t0 = now_ns();
	for (i = 0; i < n; i++)
		ok += links_in_query(q) && links_check(key, sizeof(key), HASH,
		    q, 1765000000ULL) == LINKS_OK;
	t1 = now_ns();
	if (ok != n)
		return 1;
	printf("link_check_ns %.0f\n", (t1 - t0) / n);
	return 0;
}
