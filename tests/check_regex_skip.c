/*
 * Unit tests of regex_skip.c: what it reads as a pattern's need, that a
 * search it skips is one the C library would not have matched (on fixed
 * cases and on many random patterns and subjects, with skipping on and
 * off), that libmagic's searches reach it without a type changing, and
 * that off it counts nothing.  Linked as the worker is (regex_skip_magic.o:
 * the static libmagic, its calls wrapped); the tests call the wrappers by
 * their own names, since only libmagic's references are renamed.
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "metrics_text.h"
#include "mime.h"
#include "regex_skip.h"
#include "text_index.h"
#include "testutil.h"

/* The regex counters of this process's metrics: skipped, searched, ... */
struct counts {
	uint64_t	 skipped, searched, need, no_need;
};

static struct counts
counts(void)
{
	struct metrics_snapshot	*s = metrics_snapshot_take();
	struct counts		 c;

	ck_assert_ptr_nonnull(s);
	c.skipped = s->counter[METRICS_REGEX_SKIPPED];
	c.searched = s->counter[METRICS_REGEX_SEARCHED];
	c.need = s->counter[METRICS_REGEX_NEED];
	c.no_need = s->counter[METRICS_REGEX_NO_NEED];
	free(s);
	return c;
}

/* One counter's value now. */
static uint64_t
counter_now(int which)
{
	struct metrics_snapshot	*s = metrics_snapshot_take();
	uint64_t		 v;

	ck_assert_ptr_nonnull(s);
	v = s->counter[which];
	free(s);
	return v;
}

/* Once per test case, before it forks: every test counts in this region. */
static void
metrics_setup(void)
{
	char	 err[256];

	ck_assert_msg(metrics_start(NULL, err, sizeof(err)) == 0, "%s", err);
}

/* The need of pat as "lit1|lit2|...", "" for none. */
static const char *
need_of(const char *pat)
{
	static char		 out[REGEX_NEED_ALTS * REGEX_NEED_MAX];
	struct regex_need	 need;
	size_t			 i;

	out[0] = '\0';
	for (i = 0; i < regex_skip_need(pat, &need); i++) {
		ck_assert_uint_eq(strlen(need.lit[i]), need.len[i]);
		if (i > 0)
			strcat(out, "|");
		strcat(out, need.lit[i]);
	}
	return out;
}

START_TEST(test_need)
{
	static const struct {
		const char	*pat, *need;
	} cases[] = {
		{ "typeof.*[!=]==", "typeof" },
		{ "^(const|var|let).*=.*require\\(", "require(" },
		{ "^(import|export).* from ", " from " },
		{ "^[[:space:]]*(class|module)[[:space:]][A-Z]", "class|module" },
		{ "^(CFLAGS|VPATH|all:|\\.PRECIOUS)",
		    "CFLAGS|VPATH|all:|.PRECIOUS" },
		{ "\\bFLEX[\t ]*\\[", "FLEX" },
		{ "\bMODE[\t ]", "MODE" },		/* a control byte */
		{ "^[ \t]*0\r?", "0" },
		{ "^[!-?A-~]{1,255}(\t[^\t]+){11}", "\t" },
		{ "^[ \t]{0,50}\\.asciiz", ".asciiz" },
		{ "ab+c", "ab" },			/* "abbc" matches */
		{ "ab*cd", "cd" },
		{ "x{0,3}yz", "yz" },
		{ "(abc){2}", "abc" },
		{ "(abc)*d", "d" },
		{ "(abc)?", "" },
		{ "[]x]yz", "yz" },
		{ "[[:alpha:]]foo[^]]", "foo" },
		{ "a|bc", "a|bc" },
		{ "a|", "" },				/* an empty branch */
		{ "(a|)b", "b" },
		{ "(a|b)|(c|d)", "a|b|c|d" },
		{ "a|b|c|d|e|f|g|h|i", "" },		/* too many */
		{ "\\w+\\<x", "x" },
		{ "\\1", "" },
		{ ".*", "" },
		{ "^$", "" },
		{ "caf\xc3\xa9s", "caf" },		/* bytes past ASCII */
		{ "aaaaaaaaaabbbbbbbbbbccccccccccdddddddddd",
		    "aaaaaaaaaabbbbbbbbbbccccccccccd" },	/* cut to fit */
		{ "(unbalanced", "" },
		{ "[unterminated", "" },
		{ "x{2", "" },
	};
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(strcmp(need_of(cases[i].pat), cases[i].need) == 0,
		    "need of \"%s\": \"%s\", expected \"%s\"", cases[i].pat,
		    need_of(cases[i].pat), cases[i].need);
}
END_TEST

/* regexec of pat on subj with skipping on and off: the same answer. */
static int
same_answer(const char *pat, int cflags, const char *subj)
{
	regex_t		 re;
	regmatch_t	 m1, m2;
	int		 on, off;

	if (__wrap_regcomp(&re, pat, cflags) != 0)
		return -1;
	regex_skip_enable(false);
	memset(&m1, 0, sizeof(m1));
	off = __wrap_regexec(&re, subj, 1, &m1, 0);
	regex_skip_enable(true);
	memset(&m2, 0, sizeof(m2));
	on = __wrap_regexec(&re, subj, 1, &m2, 0);
	__wrap_regfree(&re);
	ck_assert_msg(on == off, "\"%s\" (flags %d) on \"%s\": %d skipping, "
	    "%d searching", pat, cflags, subj, on, off);
	if (on == 0)
		ck_assert(m1.rm_so == m2.rm_so && m1.rm_eo == m2.rm_eo);
	return on;
}

START_TEST(test_skips_what_cannot_match)
{
	struct counts	 c0 = counts(), c1;

	ck_assert_int_eq(same_answer("typeof.*[!=]==", REG_EXTENDED,
	    "var x = 1;\n"), REG_NOMATCH);
	ck_assert_int_eq(same_answer("typeof.*[!=]==", REG_EXTENDED,
	    "if (typeof x !== 'u')"), 0);
	ck_assert_int_eq(same_answer("(class|module)[[:space:]]",
	    REG_EXTENDED | REG_NEWLINE, "module Foo\n"), 0);
	/* Ignoring case: the literal is found whatever its case. */
	ck_assert_int_eq(same_answer("TYPEOF", REG_EXTENDED | REG_ICASE,
	    "x TypeOf y"), 0);
	ck_assert_int_eq(same_answer("\\(;.*GM\\[", REG_EXTENDED | REG_ICASE,
	    "(;gm[1]"), 0);
	c1 = counts();
	/* Only the first was skipped; the searches while off not counted. */
	ck_assert_uint_eq(c1.skipped - c0.skipped, 1);
	ck_assert_uint_eq(c1.searched - c0.searched, 4);
	ck_assert_uint_eq(c1.need - c0.need, 5);
	ck_assert_uint_eq(c1.no_need - c0.no_need, 0);
}
END_TEST

/* A range given with REG_STARTEND is searched, never skipped. */
START_TEST(test_startend_searched)
{
	struct counts	 c0, c1;
	regmatch_t	 m = { .rm_so = 0, .rm_eo = 3 };
	regex_t		 re;

	ck_assert_int_eq(__wrap_regcomp(&re, "abc", REG_EXTENDED), 0);
	c0 = counts();
	ck_assert_int_eq(__wrap_regexec(&re, "xyz", 1, &m, REG_STARTEND),
	    REG_NOMATCH);
	c1 = counts();
	ck_assert_uint_eq(c1.skipped - c0.skipped, 0);
	ck_assert_uint_eq(c1.searched - c0.searched, 1);
	__wrap_regfree(&re);
}
END_TEST

static unsigned long	 rnd_state = 12345;

static unsigned
rnd(unsigned n)
{
	rnd_state = rnd_state * 6364136223846793005UL + 1442695040888963407UL;
	return (unsigned)(rnd_state >> 33) % n;
}

/* A random extended pattern over a small alphabet, into p (room: 256). */
static void
random_pattern(char *p, int depth)
{
	static const char *const atoms[] = {
		"a", "b", "c", "A", "\t", ".", "[ab]", "[^a]", "\\.", "^", "$",
		"\\w", "[[:upper:]]",
	};
	static const char *const reps[] = {
		"", "", "", "", "*", "+", "?", "{0,2}", "{1,2}", "{2}",
	};
	int	 i, n = 1 + (int)rnd(4);

	for (i = 0; i < n && strlen(p) < 200; i++) {
		if (depth > 0 && rnd(6) == 0) {
			strcat(p, "(");
			random_pattern(p, depth - 1);
			strcat(p, ")");
		} else
			strcat(p, atoms[rnd(sizeof(atoms) / sizeof(atoms[0]))]);
		if (strcmp(p + strlen(p) - 1, "^") != 0 &&
		    strcmp(p + strlen(p) - 1, "$") != 0)
			strcat(p, reps[rnd(sizeof(reps) / sizeof(reps[0]))]);
		if (rnd(8) == 0)
			strcat(p, "|");
	}
}

START_TEST(test_random_agree)
{
	static const char	 alphabet[] = "abcAB.\n\t x";
	static const int	 flags[] = { REG_EXTENDED,
	    REG_EXTENDED | REG_ICASE, REG_EXTENDED | REG_NEWLINE };
	struct counts		 c0 = counts(), c1;
	char			 pat[512], subj[32];
	int			 i, j, len, compiled = 0;

	for (i = 0; i < 20000; i++) {
		pat[0] = '\0';
		random_pattern(pat, 2);
		len = (int)rnd(16);
		for (j = 0; j < len; j++)
			subj[j] = alphabet[rnd(sizeof(alphabet) - 1)];
		subj[len] = '\0';
		if (same_answer(pat, flags[rnd(3)], subj) != -1)
			compiled++;
	}
	c1 = counts();
	ck_assert_int_gt(compiled, 15000);
	/* Both ways were taken often: the comparison means something. */
	ck_assert_uint_gt(c1.skipped - c0.skipped, 1000);
	ck_assert_uint_gt(c1.searched - c0.searched, 1000);
	ck_assert_uint_eq(c1.need - c0.need + c1.no_need - c0.no_need,
	    (uint64_t)compiled);
}
END_TEST

/*
 * libmagic's string searches: the wrapper finds what memmem finds, over a
 * text, parts of it from an offset on, and copies of it, for strings in
 * it, strings in it in another case, and others; with the thread's own
 * index and with one lent for the text, as mime.c lends it.
 */
START_TEST(test_memmem_agree)
{
	static const char	 alphabet[] = "abcdAB<= \n";
	struct text_index	*ix;
	char			*text, *copy, lit[12];
	const char		*hay;
	uint64_t		 s0 = 0, s1 = 0;
	size_t			 len, off, n, k, j;
	int			 i, round;

	text = malloc(4096);
	copy = malloc(4096);
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_nonnull(copy);
	ck_assert_ptr_nonnull(ix = text_index_new());
	s0 = counter_now(METRICS_STRING_SKIPPED);
	for (round = 0; round < 40; round++) {
		len = 256 + rnd(3840);
		for (j = 0; j < len; j++)
			text[j] = alphabet[rnd(sizeof(alphabet) - 1)];
		memcpy(copy, text, len);
		/* Half the rounds as mime.c searches: an index lent for text. */
		if (round % 2 == 0)
			text_index_use(ix, text, len);
		for (i = 0; i < 500; i++) {
			n = 1 + rnd(sizeof(lit) - 1);
			if (rnd(2) == 0) {
				k = rnd(len - n);
				memcpy(lit, text + k, n);
				if (rnd(2) == 0)	/* another case */
					lit[0] ^= 0x20;
			} else
				for (j = 0; j < n; j++)
					lit[j] = alphabet[rnd(sizeof(alphabet)
					    - 1)];
			off = rnd(3) == 0 ? rnd(len - TEXT_INDEX_MIN) : 0;
			hay = (rnd(2) == 0 ? text : copy) + off;
			ck_assert_ptr_eq(__wrap_memmem(hay, len - off, lit, n),
			    memmem(hay, len - off, lit, n));
		}
		text_index_use(NULL, NULL, 0);
	}
	text_index_free(ix);
	s1 = counter_now(METRICS_STRING_SKIPPED);
	ck_assert_uint_gt(s1 - s0, 1000);
	free(text);
	free(copy);
}
END_TEST

static const char *const samples[] = {
	"hello world, a plain text without any keyword at all\n",
	"#include <stdio.h>\nint main(void) { return 0; }\n",
	"if (typeof x !== 'undefined') { module.exports = x; }\n",
	"<?xml version=\"1.0\"?>\n<a/>\n",
	"import os\nfrom sys import argv\n",
	"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
};
#define NSAMPLES	(sizeof(samples) / sizeof(samples[0]))

static size_t
sample_len(size_t i)
{
	return i == NSAMPLES - 1 ? 16 : strlen(samples[i]);
}

/*
 * libmagic's own searches come here, and its answers do not change.  Each
 * sample is detected skipping first: libmagic compiles a pattern at its
 * first search, and only one compiled while on is noted.
 */
START_TEST(test_libmagic_types_unchanged)
{
	char		 on[128], off[128], err[256];
	struct counts	 c0, c1;
	size_t		 i;

	ck_assert_msg(mime_open(err, sizeof(err)) == 0, "%s", err);
	c0 = counts();
	for (i = 0; i < NSAMPLES; i++) {
		regex_skip_enable(true);
		mime_detect(samples[i], sample_len(i), on, sizeof(on));
		regex_skip_enable(false);
		mime_detect(samples[i], sample_len(i), off, sizeof(off));
		ck_assert_msg(strcmp(on, off) == 0, "sample %zu: %s skipping, "
		    "%s searching", i, on, off);
	}
	regex_skip_enable(true);
	c1 = counts();
	ck_assert_uint_gt(c1.skipped - c0.skipped, 10);
	ck_assert_uint_gt(c1.need - c0.need, 10);
	mime_close();
}
END_TEST

/* Off (FILEUPLOAD_REGEX_SKIP=0) from the start: nothing noted or counted. */
START_TEST(test_off_counts_nothing)
{
	char		 type[128], err[256];
	struct counts	 c0, c1;
	size_t		 i;

	regex_skip_enable(false);
	ck_assert_msg(mime_open(err, sizeof(err)) == 0, "%s", err);
	c0 = counts();
	for (i = 0; i < NSAMPLES; i++)
		mime_detect(samples[i], sample_len(i), type, sizeof(type));
	ck_assert_str_eq(type, "image/png");
	c1 = counts();
	ck_assert(memcmp(&c0, &c1, sizeof(c0)) == 0);
	/* On again: the patterns compiled while off are searched. */
	regex_skip_enable(true);
	mime_detect(samples[0], sample_len(0), type, sizeof(type));
	ck_assert_str_eq(type, "text/plain");
	c1 = counts();
	ck_assert_uint_eq(c1.skipped, c0.skipped);
	ck_assert_uint_gt(c1.searched, c0.searched);
	mime_close();
}
END_TEST

/* The counters reach the exposition, each with its own value. */
START_TEST(test_exposed)
{
	struct metrics_snapshot	*s;
	struct metrics_build	 build;
	char			*text, line[128];
	size_t			 len;

	ck_assert_ptr_nonnull(s = metrics_snapshot_take());
	s->counter[METRICS_REGEX_SKIPPED] = 11;
	s->counter[METRICS_REGEX_SEARCHED] = 12;
	s->counter[METRICS_REGEX_NEED] = 13;
	s->counter[METRICS_REGEX_NO_NEED] = 14;
	s->counter[METRICS_STRING_SKIPPED] = 15;
	s->counter[METRICS_STRING_SEARCHED] = 16;
	metrics_build_info(&build);
	ck_assert_ptr_nonnull(text = metrics_text(s, NULL, 0, &build, &len));
	snprintf(line, sizeof(line), "\n%s 11\n%s 12\n",
	    "fileupload_mime_regex_searches_total{result=\"skipped\"}",
	    "fileupload_mime_regex_searches_total{result=\"searched\"}");
	ck_assert_msg(strstr(text, line) != NULL, "no %s", line);
	snprintf(line, sizeof(line), "\n%s 13\n%s 14\n",
	    "fileupload_mime_regex_patterns_total{need=\"yes\"}",
	    "fileupload_mime_regex_patterns_total{need=\"no\"}");
	ck_assert_msg(strstr(text, line) != NULL, "no %s", line);
	snprintf(line, sizeof(line), "\n%s 15\n%s 16\n",
	    "fileupload_mime_string_searches_total{result=\"skipped\"}",
	    "fileupload_mime_string_searches_total{result=\"searched\"}");
	ck_assert_msg(strstr(text, line) != NULL, "no %s", line);
	free(text);
	free(s);
}
END_TEST

static Suite *
regex_skip_suite(void)
{
	Suite	*s = suite_create("regex_skip");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, metrics_setup, NULL);
	tcase_add_test(tc, test_need);
	tcase_add_test(tc, test_skips_what_cannot_match);
	tcase_add_test(tc, test_startend_searched);
	tcase_add_test(tc, test_random_agree);
	tcase_add_test(tc, test_memmem_agree);
	tcase_add_test(tc, test_libmagic_types_unchanged);
	tcase_add_test(tc, test_off_counts_nothing);
	tcase_add_test(tc, test_exposed);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(regex_skip_suite)
