/*
 * mime_corpus: does a libmagic flag set detect the same MIME types as the
 * service's reference flags, and how long does each take per file?
 *
 *   gcc -O2 -Wall -o mime_corpus tests/bench/mime_corpus.c -lmagic
 *   mime_corpus [-n LIMIT] [-q] [-r ROUNDS] [-v] PATH...
 *
 * Every regular file under each PATH (symbolic links are not followed;
 * empty files are skipped: mime.c names them itself) is read as the
 * service reads an upload for detection: its first 64 KiB (MIME_SNIFF).
 * The reference is MAGIC_MIME_TYPE | MAGIC_ERROR on that buffer.  Each
 * candidate below (libmagic MAGIC_NO_CHECK_* flags, or fewer bytes) runs on
 * the same buffers; only a candidate with 0 mismatches may be adopted.
 * Times are the mean microseconds per file over ROUNDS rounds (default 1),
 * split by the reference type ("text" is text/ *, the rest "binary"), with
 * the reference timed again file by file in the same loop so that both see
 * the same load (the machine may be shared).  -q runs only the reference
 * again, the set of every single flag with 0 mismatches, and the flags of
 * src/mime.c (SERVICE); -v prints the first 20 mismatches of each; -n stops
 * after LIMIT files.  Exit status 1 if SERVICE has a mismatch.
 * Built with -DREGEX_SKIP and linked as the worker is (libmagic.a, its
 * regex calls wrapped by src/regex_skip.c), the reference runs every
 * regular expression search and the service's candidates skip those that
 * cannot match (regex_skip.h).  tests/bench/mime_corpus.sh builds it so
 * (mime_link.sh) and runs it on a corpus.
 */
#define _XOPEN_SOURCE 700

#include <sys/stat.h>

#include <fcntl.h>
#include <ftw.h>
#include <magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef REGEX_SKIP
#include "regex_skip.h"
#include "text_index.h"
#define SKIP	1
#else
#define SKIP	0
static void regex_skip_enable(int on) { (void)on; }
#endif

/* The searches' index lent for the text, as src/mime.c lends it. */
static void
lend(const void *buf, size_t len)
{
#ifdef REGEX_SKIP
	static struct text_index *ix;

	if (ix == NULL)
		ix = text_index_new();
	text_index_use(buf != NULL ? ix : NULL, buf, len);
#else
	(void)buf;
	(void)len;
#endif
}

#define SNIFF	(64 * 1024)
#define REF	(MAGIC_MIME_TYPE | MAGIC_ERROR)

/* Keep in step with mime_open() in src/mime.c. */
#ifndef SERVICE
#define SERVICE	REF
#endif

struct cand {
	const char	*name;
	int		 flags;
	size_t		 textmax;	/* bytes passed for any input; 0: all */
	int		 quick;		/* also run with -q */
	int		 skip;		/* skip searches that cannot match */
};

static const struct cand cands[] = {
	{ "reference (repeat)",		REF, 0, 1 },
	{ "NO_CHECK_COMPRESS",		REF | MAGIC_NO_CHECK_COMPRESS, 0, 0 },
	{ "NO_CHECK_TAR",		REF | MAGIC_NO_CHECK_TAR, 0, 0 },
	{ "NO_CHECK_CDF",		REF | MAGIC_NO_CHECK_CDF, 0, 0 },
	{ "NO_CHECK_ELF",		REF | MAGIC_NO_CHECK_ELF, 0, 0 },
	{ "NO_CHECK_APPTYPE",		REF | MAGIC_NO_CHECK_APPTYPE, 0, 0 },
	{ "NO_CHECK_TOKENS",		REF | MAGIC_NO_CHECK_TOKENS, 0, 0 },
	{ "NO_CHECK_JSON",		REF | MAGIC_NO_CHECK_JSON, 0, 0 },
	{ "NO_CHECK_CSV",		REF | MAGIC_NO_CHECK_CSV, 0, 0 },
	{ "NO_CHECK_ENCODING",		REF | MAGIC_NO_CHECK_ENCODING, 0, 0 },
	{ "NO_CHECK_TEXT",		REF | MAGIC_NO_CHECK_TEXT, 0, 0 },
	{ "NO_CHECK_SOFT",		REF | MAGIC_NO_CHECK_SOFT, 0, 0 },
	{ "first 16 KiB",		REF, 16 * 1024, 0 },
	{ "first 8 KiB",		REF, 8 * 1024, 0 },
	{ "first 4 KiB",		REF, 4 * 1024, 0 },
	{ "zero-mismatch set",		REF | MAGIC_NO_CHECK_COMPRESS |
	    MAGIC_NO_CHECK_CDF | MAGIC_NO_CHECK_ELF | MAGIC_NO_CHECK_APPTYPE |
	    MAGIC_NO_CHECK_TOKENS, 0, 1 },
	{ "regex searches skipped",	REF, 0, 1, SKIP },
	{ "service flags (mime.c)",	SERVICE, 0, 1, SKIP },
};
#define NCANDS	(sizeof(cands) / sizeof(cands[0]))

struct item {
	char		*path;
	unsigned char	*buf;
	size_t		 len;
	char		*type;		/* reference result */
	int		 text;
};

static struct item	*items;
static size_t		 nitems, cap, limit = (size_t)-1;

static int
visit(const char *path, const struct stat *sb, int tf, struct FTW *ftw)
{
	struct item	*it;
	ssize_t		 n;
	int		 fd;

	(void)ftw;
	if (tf != FTW_F || !S_ISREG(sb->st_mode) || nitems >= limit)
		return nitems >= limit;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW)) == -1)
		return 0;
	if (nitems == cap) {
		cap = cap ? cap * 2 : 1024;
		if ((items = realloc(items, cap * sizeof(*items))) == NULL)
			abort();
	}
	it = &items[nitems];
	if ((it->buf = malloc(SNIFF)) == NULL)
		abort();
	it->len = 0;
	while (it->len < SNIFF &&
	    (n = read(fd, it->buf + it->len, SNIFF - it->len)) > 0)
		it->len += n;
	close(fd);
	if (it->len == 0) {		/* mime.c answers empty input itself */
		free(it->buf);
		return 0;
	}
	it->buf = realloc(it->buf, it->len);
	it->path = strdup(path);
	nitems++;
	return 0;
}

static magic_t
open_cookie(int flags)
{
	magic_t	m;

	if ((m = magic_open(flags)) == NULL || magic_load(m, NULL) == -1) {
		fprintf(stderr, "libmagic: %s\n", m ? magic_error(m) : "open");
		exit(2);
	}
	return m;
}

static const char *
detect(magic_t m, const struct item *it, size_t max, int skip)
{
	const char	*t;
	size_t		 len = max && it->len > max ? max : it->len;

	regex_skip_enable(skip);
	lend(it->buf, len);
	t = magic_buffer(m, it->buf, len);
	lend(NULL, 0);
	return t == NULL || strchr(t, '/') == NULL ?
	    "application/octet-stream" : t;
}

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Mean microseconds per text and per binary file over rounds, for the
 * candidate (ut, ub) and, interleaved file by file so that both see the
 * same load, for the reference (rt, rb).
 */
static void
timeit(magic_t ref, magic_t m, size_t max, int skip, int rounds, double t[4],
    size_t nt, size_t nb)
{
	double	acc[4] = { 0, 0, 0, 0 }, t0, t1, t2;
	size_t	i;
	int	r, k;

	for (r = 0; r < rounds; r++)
		for (i = 0; i < nitems; i++) {
			t0 = now();
			(void)detect(m, &items[i], max, skip);
			t1 = now();
			(void)detect(ref, &items[i], 0, 0);
			t2 = now();
			k = items[i].text ? 0 : 1;
			acc[k] += t1 - t0;
			acc[k + 2] += t2 - t1;
		}
	for (k = 0; k < 4; k++)
		t[k] = acc[k] * 1e6 / rounds / ((k % 2 == 0 ? nt : nb) ?
		    (k % 2 == 0 ? nt : nb) : 1);
}

int
main(int argc, char **argv)
{
	magic_t		 ref, m;
	size_t		 i, c, nt = 0, nb = 0, mism, mt, shown;
	double		 t[4];
	int		 ch, rounds = 1, quick = 0, verbose = 0, rc = 0;

	while ((ch = getopt(argc, argv, "n:qr:v")) != -1)
		switch (ch) {
		case 'n': limit = strtoul(optarg, NULL, 10); break;
		case 'q': quick = 1; break;
		case 'r': rounds = atoi(optarg); break;
		case 'v': verbose = 1; break;
		default:
			fprintf(stderr, "usage: mime_corpus [-n LIMIT] [-q] "
			    "[-r ROUNDS] [-v] PATH...\n");
			return 2;
		}
	for (; optind < argc; optind++)
		nftw(argv[optind], visit, 32, FTW_PHYS);
	if (nitems == 0) {
		fprintf(stderr, "no files\n");
		return 2;
	}

	ref = open_cookie(REF);
	for (i = 0; i < nitems; i++) {
		items[i].type = strdup(detect(ref, &items[i], 0, 0));
		items[i].text = strncmp(items[i].type, "text/", 5) == 0;
		if (items[i].text)
			nt++;
		else
			nb++;
	}
	timeit(ref, ref, 0, 0, 1, t, nt, nb);	/* warm-up */
	printf("corpus: %zu files (%zu text/*, %zu other), first %d KiB of "
	    "each, %d rounds\n", nitems, nt, nb, SNIFF / 1024, rounds);
	printf("mean us per file; ref: the reference flags timed in the "
	    "same loop\n");
	printf("%-24s %8s %8s %8s %8s %8s %8s\n", "candidate", "mismatch",
	    "of text", "text", "ref", "binary", "ref");

	for (c = 0; c < NCANDS; c++) {
		if (quick && !cands[c].quick)
			continue;
		m = open_cookie(cands[c].flags);
		mism = mt = shown = 0;
		for (i = 0; i < nitems; i++) {
			const char *ty = detect(m, &items[i], cands[c].textmax,
			    cands[c].skip);

			if (strcmp(ty, items[i].type) == 0)
				continue;
			mism++;
			mt += items[i].text;
			if (verbose && shown++ < 20)
				printf("  %s: %s -> %s\n", items[i].path,
				    items[i].type, ty);
		}
		timeit(ref, m, cands[c].textmax, cands[c].skip, rounds, t, nt,
		    nb);
		magic_close(m);
		printf("%-24s %8zu %8zu %8.1f %8.1f %8.1f %8.1f\n",
		    cands[c].name, mism, mt, t[0], t[2], t[1], t[3]);
		fflush(stdout);
		if (cands[c].flags == SERVICE && cands[c].textmax == 0 &&
		    mism != 0)
			rc = 1;
	}
	magic_close(ref);
	return rc;
}
