#include <langinfo.h>
#include <pthread.h>
#include <regex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "regex_skip.h"
#include "text_index.h"

/*
 * libmagic 5.44 runs each of its text tests' regular expressions over
 * every text file it looks at, and the C library's matcher walks the
 * whole text for each (a third of libmagic's instructions over 4 KiB of
 * text: tests/bench/mime_cost.sh).  A search for "typeof.*[!=]==" cannot
 * match a text without "typeof", and memmem says so far sooner.  Skipping
 * it changes no answer, so no detected type; tests/bench/mime_corpus.sh
 * compares the types with and without skipping on ~21,000 files.
 *
 * libmagic compiles a pattern once per cookie and keeps the regex_t, and
 * cookies move between threads, so what each compiled pattern needs is
 * kept process-wide, by the regex_t's address and compiled state (glibc's
 * re->buffer, which configure checks for), from regcomp to regfree.
 * Whatever is not found there (a pattern without a need, a range given
 * with REG_STARTEND) is searched as usual.
 */

#define BUCKETS		1024
/* The compile flags whose syntax regex_skip_need reads. */
#define KNOWN_CFLAGS	(REG_EXTENDED | REG_ICASE | REG_NEWLINE | REG_NOSUB)

/* The C library's, as the linker binds these names (--wrap). */
int		 __real_regcomp(regex_t *, const char *, int);
int		 __real_regexec(const regex_t *, const char *, size_t,
		    regmatch_t *, int);
void		 __real_regfree(regex_t *);
void		*__real_memmem(const void *, size_t, const void *, size_t);

struct noted {
	const regex_t		*re;
	const void		*compiled;	/* re->buffer when noted */
	bool			 icase;		/* need in lower case */
	struct regex_need	 need;
	struct noted		*next;
};

static pthread_rwlock_t	 table_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct noted	*table[BUCKETS];
static bool		 enabled = true;

void
regex_skip_enable(bool on)
{
	__atomic_store_n(&enabled, on, __ATOMIC_RELAXED);
}

static bool
is_enabled(void)
{
	return __atomic_load_n(&enabled, __ATOMIC_RELAXED);
}

/* A character that stands for itself, unescaped, in an extended pattern. */
static bool
plain(unsigned char c)
{
	return (c == '\t' || (c >= 0x20 && c < 0x7f)) &&
	    strchr(".[]()*+?{}|^$\\", c) == NULL;
}

/* After a backslash: the characters that are literal, not GNU operators. */
static bool
escaped_plain(unsigned char c)
{
	return c != '\0' && strchr(".[]()*+?{}|^$\\/-", c) != NULL;
}

static bool
quantifier(char c)
{
	return c == '*' || c == '+' || c == '?' || c == '{';
}

/* Past a bracket expression starting at p ('['); NULL if unterminated. */
static const char *
skip_bracket(const char *p, const char *end)
{
	p++;
	if (p < end && *p == '^')
		p++;
	if (p < end && *p == ']')	/* a leading ']' is a member */
		p++;
	while (p < end && *p != ']') {
		if (*p == '[' && p + 1 < end &&
		    (p[1] == ':' || p[1] == '=' || p[1] == '.')) {
			/* [:class:], [=equiv=], [.coll.] end in that char and ']'. */
			const char	*q = p + 2;

			while (q + 1 < end && !(q[0] == p[1] && q[1] == ']'))
				q++;
			if (q + 1 >= end)
				return NULL;
			p = q + 2;
		} else
			p++;
	}
	return p < end ? p + 1 : NULL;
}

/*
 * Past the element at p: an escaped character, a bracket expression, a
 * group (with the groups in it) or a character; NULL if unterminated.
 */
static const char *
skip_atom(const char *p, const char *end)
{
	if (*p == '\\')
		return p + 2 <= end ? p + 2 : NULL;
	if (*p == '[')
		return skip_bracket(p, end);
	if (*p != '(')
		return p + 1;
	for (p++; p < end && *p != ')';)
		if ((p = skip_atom(p, end)) == NULL)
			return NULL;
	return p < end ? p + 1 : NULL;
}

/* Past the repetitions at p ("*", "{2,5}+" ...); NULL if malformed. */
static const char *
skip_quantifiers(const char *p, const char *end)
{
	while (p < end && quantifier(*p)) {
		if (*p++ != '{')
			continue;
		if (p >= end || *p < '0' || *p > '9')
			return NULL;
		while (p < end && ((*p >= '0' && *p <= '9') || *p == ','))
			p++;
		if (p >= end || *p++ != '}')
			return NULL;
	}
	return p;
}

/* Must the atom followed by p occur at least once ("", "+", "{m,n}", m > 0)? */
static bool
at_least_once(const char *p, const char *end)
{
	if (p >= end)
		return true;
	if (*p == '{')
		return strtoul(p + 1, NULL, 10) > 0;
	return *p != '*' && *p != '?';
}

static size_t
shortest(const struct regex_need *need)
{
	size_t	 i, min = REGEX_NEED_MAX;

	for (i = 0; i < need->n; i++)
		if (need->len[i] < min)
			min = need->len[i];
	return min;
}

/* Keeps cand in best if it tells more: longer literals, then fewer. */
static void
keep_better(struct regex_need *best, const struct regex_need *cand)
{
	size_t	 a, b;

	if (cand->n == 0)
		return;
	a = shortest(cand);
	b = shortest(best);
	if (best->n == 0 || a > b || (a == b && cand->n < best->n))
		*best = *cand;
}

/* Ends the current run of n characters, kept in best if it tells more. */
static void
end_run(const char *run, size_t *n, struct regex_need *best)
{
	struct regex_need	 one;

	if (*n == 0)
		return;
	one.n = 1;
	one.len[0] = *n;
	memcpy(one.lit[0], run, *n);
	one.lit[0][*n] = '\0';
	keep_better(best, &one);
	*n = 0;
}

static bool	 pattern_need(const char *, const char *, struct regex_need *);

/*
 * The best need of one branch [p, end) (no '|' outside its groups); false
 * if it holds a syntax not read here.  A repeated atom: "a*", "a?" and
 * "a{0,2}" may be absent, and after "a+" the next character need not
 * follow an 'a' ("ab+c" matches "abbc"), so the run ends there, keeping
 * the 'a' of "a+".  What a group that must match requires, the branch does.
 */
static bool
branch_need(const char *p, const char *end, struct regex_need *best)
{
	struct regex_need	 inner;
	char			 run[REGEX_NEED_MAX];
	size_t			 n = 0;

	best->n = 0;
	while (p < end) {
		unsigned char	 c = (unsigned char)*p;
		bool		 literal = false;

		if (c == '\\') {
			if (p + 1 >= end)
				return false;
			/* \w, \b, \<, \1 ... stand for no literal character. */
			c = (unsigned char)p[1];
			literal = escaped_plain(c);
			p += 2;
		} else if (c == '[') {
			if ((p = skip_bracket(p, end)) == NULL)
				return false;
		} else if (c == '(') {
			const char	*group = p;

			if ((p = skip_atom(p, end)) == NULL)
				return false;
			if (at_least_once(p, end) &&
			    pattern_need(group + 1, p - 1, &inner))
				keep_better(best, &inner);
		} else if (c == '.' || c == '^' || c == '$') {
			p++;
		} else if (strchr("*+?{|)]}", c) != NULL) {
			return false;	/* not where an atom can start */
		} else {
			/* Control and non-ASCII bytes: characters, not literal here. */
			literal = plain(c);
			p++;
		}

		if (p < end && quantifier(*p)) {
			if (literal && *p == '+' && n + 1 < sizeof(run))
				run[n++] = (char)c;
			end_run(run, &n, best);
			if ((p = skip_quantifiers(p, end)) == NULL)
				return false;
		} else if (!literal)
			end_run(run, &n, best);
		else if (n + 1 < sizeof(run))
			run[n++] = (char)c;
	}
	end_run(run, &n, best);
	return true;
}

/*
 * The need of the alternation [p, end): every branch must tell one, and
 * a match contains one of their literals.  false if nothing can be told.
 */
static bool
pattern_need(const char *p, const char *end, struct regex_need *need)
{
	struct regex_need	 branch;
	const char		*start = p;
	size_t			 i;

	need->n = 0;
	for (;;) {
		/* The end of this branch: a '|' outside groups and brackets. */
		while (p < end && *p != '|')
			if ((p = skip_atom(p, end)) == NULL)
				goto none;
		if (!branch_need(start, p, &branch) || branch.n == 0 ||
		    need->n + branch.n > REGEX_NEED_ALTS)
			goto none;
		for (i = 0; i < branch.n; i++) {
			need->len[need->n] = branch.len[i];
			memcpy(need->lit[need->n++], branch.lit[i],
			    sizeof(branch.lit[i]));
		}
		if (p == end)
			return true;
		start = ++p;
	}
none:
	need->n = 0;
	return false;
}

size_t
regex_skip_need(const char *pat, struct regex_need *need)
{
	(void)pattern_need(pat, pat + strlen(pat), need);
	return need->n;
}

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Does s (len bytes) contain lit (n bytes, lower case when icase)? */
static bool
contains(const char *s, size_t len, const char *lit, size_t n, bool icase)
{
	size_t	 i, j;

	if (text_index_lacks(s, len, lit, n))
		return false;
	if (!icase)
		return __real_memmem(s, len, lit, n) != NULL;
	for (i = 0; i + n <= len; i++) {
		for (j = 0; j < n && lower((unsigned char)s[i + j]) == lit[j]; j++)
			;
		if (j == n)
			return true;
	}
	return false;
}

/* Does s contain one of need's literals? */
static bool
holds_one(const char *s, const struct regex_need *need, bool icase)
{
	size_t	 i, len = strlen(s);

	for (i = 0; i < need->n; i++)
		if (contains(s, len, need->lit[i], need->len[i], icase))
			return true;
	return false;
}

static struct noted **
bucket(const regex_t *re)
{
	return &table[((uintptr_t)re >> 4) % BUCKETS];
}

/* Forgets re's need, if noted; under the write lock. */
static void
forget(const regex_t *re)
{
	struct noted	**pp, *n;

	for (pp = bucket(re); (n = *pp) != NULL; pp = &n->next)
		if (n->re == re) {
			*pp = n->next;
			free(n);
			return;
		}
}

/*
 * Case folding is ASCII's only in the C locale's character set: elsewhere
 * an ignore-case pattern may match letters a byte search cannot see.
 */
static bool
ascii_case_only(void)
{
	return strcmp(nl_langinfo(CODESET), "ANSI_X3.4-1968") == 0;
}

int
__wrap_regcomp(regex_t *re, const char *pat, int cflags)
{
	struct noted	*n;
	size_t		 i, j;
	int		 rc;

	/* Even when off: a note left from when it was on must go. */
	pthread_rwlock_wrlock(&table_lock);
	forget(re);
	pthread_rwlock_unlock(&table_lock);
	if ((rc = __real_regcomp(re, pat, cflags)) != 0 || !is_enabled())
		return rc;
	if ((cflags & ~KNOWN_CFLAGS) != 0 || (cflags & REG_EXTENDED) == 0 ||
	    ((cflags & REG_ICASE) && !ascii_case_only()) ||
	    (n = malloc(sizeof(*n))) == NULL) {
		metrics_regex_pattern(false);
		return 0;
	}
	if (regex_skip_need(pat, &n->need) == 0) {
		free(n);
		metrics_regex_pattern(false);
		return 0;
	}
	n->re = re;
	n->compiled = re->buffer;
	n->icase = (cflags & REG_ICASE) != 0;
	for (i = 0; n->icase && i < n->need.n; i++)
		for (j = 0; j < n->need.len[i]; j++)
			n->need.lit[i][j] =
			    (char)lower((unsigned char)n->need.lit[i][j]);
	pthread_rwlock_wrlock(&table_lock);
	n->next = *bucket(re);
	*bucket(re) = n;
	pthread_rwlock_unlock(&table_lock);
	metrics_regex_pattern(true);
	return 0;
}

/* Can str match re?  false only when it lacks what re's matches need. */
static bool
may_match(const regex_t *re, const char *str)
{
	const struct noted	*n;
	bool			 may = true;

	pthread_rwlock_rdlock(&table_lock);
	for (n = *bucket(re); n != NULL; n = n->next)
		if (n->re == re) {
			may = n->compiled != re->buffer ||
			    holds_one(str, &n->need, n->icase);
			break;
		}
	pthread_rwlock_unlock(&table_lock);
	return may;
}

int
__wrap_regexec(const regex_t *re, const char *str, size_t nmatch,
    regmatch_t *match, int eflags)
{
	bool	 skip;

	if (!is_enabled())
		return __real_regexec(re, str, nmatch, match, eflags);
	skip = (eflags & REG_STARTEND) == 0 && !may_match(re, str);
	metrics_regex_search(skip);
	return skip ? REG_NOMATCH :
	    __real_regexec(re, str, nmatch, match, eflags);
}

void
__wrap_regfree(regex_t *re)
{
	pthread_rwlock_wrlock(&table_lock);
	forget(re);
	pthread_rwlock_unlock(&table_lock);
	__real_regfree(re);
}

/*
 * libmagic's search tests without flags look for their string with memmem,
 * each over the same text: text_index.h answers most at once.
 */
void *
__wrap_memmem(const void *hay, size_t len, const void *lit, size_t n)
{
	bool	 skip;

	if (!is_enabled() || len < TEXT_INDEX_MIN)
		return __real_memmem(hay, len, lit, n);
	skip = text_index_lacks(hay, len, lit, n);
	metrics_string_search(skip);
	return skip ? NULL : __real_memmem(hay, len, lit, n);
}
