/*
 * Which three-byte sequences a text holds, ASCII letters in lower case:
 * a text that lacks one of a literal's sequences cannot contain the
 * literal, in any case.  libmagic searches the same text for hundreds of
 * literals (its search tests, the regular expressions regex_skip.h reads);
 * one pass over the text answers most of them at once.  An index keeps
 * the last text it was asked about, copied: a later text that is a part
 * of it (libmagic searches from offsets, and in copies) is answered from
 * the same index.  A thread uses the index it was lent (text_index_use:
 * mime.c lends each libmagic cookie's, so their number bounds the
 * memory), else one of its own.
 */
#ifndef TEXT_INDEX_H
#define TEXT_INDEX_H

#include <stdbool.h>
#include <stddef.h>

/* Texts shorter than this are searched as usual: indexing costs more. */
#define TEXT_INDEX_MIN	256
/* Nor are longer texts indexed (the copy an index keeps). */
#define TEXT_INDEX_MAX	(64 * 1024)

struct text_index;

/*
 * True only when the len bytes at s do not contain the n bytes at lit,
 * compared ignoring the case of ASCII letters (so also when compared
 * exactly); false when that cannot be told (lit shorter than three bytes,
 * a text out of bounds, no memory).
 */
bool	text_index_lacks(const char *s, size_t len, const char *lit, size_t n);

/* An index, empty; NULL when out of memory. */
struct text_index *text_index_new(void);
void	text_index_free(struct text_index *);
/*
 * The calling thread's searches use ix (NULL: the thread's own again), for
 * the len bytes at text being searched: a search of a part of them indexes
 * them all, once.
 */
void	text_index_use(struct text_index *ix, const char *text, size_t len);

#endif
