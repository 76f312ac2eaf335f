/*
 * Skips regular expression searches that cannot match: libmagic runs
 * dozens of them over every text upload, and most look for words the text
 * does not contain.  libmagic's calls of regcomp, regexec, regfree and
 * memmem, and only those, are bound to the wrappers below: the worker
 * links the static libmagic.a, its references renamed by the linker
 * (--wrap, src/Makefile.am) in one relocatable object with this file.  The
 * wrappers note the literals one of which every match of a pattern
 * contains, and answer REG_NOMATCH at once when the subject holds none of
 * them; a string search (memmem) is answered NULL at once when the text
 * lacks one of its three-byte sequences (text_index.h); everything else
 * goes to the C library.  Built only where configure finds glibc's regex_t
 * (REGEX_SKIP).
 */
#ifndef REGEX_SKIP_H
#define REGEX_SKIP_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#define REGEX_NEED_ALTS	8	/* literals, at most, in one need */
#define REGEX_NEED_MAX	32	/* bytes of one literal, NUL included */

/* Every match contains one of these literals (all of them if n is 1). */
struct regex_need {
	size_t	 n;				/* 0: nothing can be told */
	size_t	 len[REGEX_NEED_ALTS];
	char	 lit[REGEX_NEED_ALTS][REGEX_NEED_MAX];
};

/*
 * Reads the POSIX extended expression pat for what every match of it must
 * contain: a run of plain characters outside brackets and repetitions, or
 * one of the branches' literals of an alternation that must match, the
 * longest such need.  Literals too long are cut (a prefix is required
 * too).  Returns need->n; 0 when nothing can be told (a branch without a
 * literal, a syntax this reading does not know).
 */
size_t		 regex_skip_need(const char *pat, struct regex_need *need);

#ifdef REGEX_SKIP
/*
 * On by default; off (FILEUPLOAD_REGEX_SKIP=0) the wrappers note and count
 * nothing and every search runs.  Set before libmagic compiles a pattern:
 * one compiled while off is always searched.
 */
void		 regex_skip_enable(bool on);
#else
static inline void
regex_skip_enable(bool on)
{
	(void)on;
}
#endif

/*
 * The C library's regcomp, regexec and regfree, for libmagic; each search
 * and each compiled pattern counted in the metrics (metrics_regex_*).
 */
int		 __wrap_regcomp(regex_t *re, const char *pat, int cflags);
int		 __wrap_regexec(const regex_t *re, const char *str,
		    size_t nmatch, regmatch_t *match, int eflags);
void		 __wrap_regfree(regex_t *re);
/*
 * The C library's memmem, for libmagic's string searches: NULL at once
 * when the text lacks a sequence of the string (text_index.h), each
 * search over a text of TEXT_INDEX_MIN bytes or more counted
 * (metrics_string_search).
 */
void		*__wrap_memmem(const void *hay, size_t len, const void *lit,
		    size_t n);

#endif
