/*
 * Skips regular expression searches that cannot match: libmagic runs
 * dozens of them over every text upload, and most look for words the text
 * does not contain.  The worker's own regcomp, regexec and regfree (which
 * libmagic's calls reach before the C library's) note the literals one of
 * which every match of a pattern contains, and answer REG_NOMATCH at once
 * when the subject holds none of them; everything else goes to the C
 * library.
 */
#ifndef REGEX_SKIP_H
#define REGEX_SKIP_H

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

/* On by default; off makes regexec always run the search (for comparison). */
void		 regex_skip_enable(bool on);

/* Searches skipped and run since the start, over all threads. */
void		 regex_skip_counts(unsigned long *skipped, unsigned long *run);

#endif
