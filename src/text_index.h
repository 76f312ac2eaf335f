/*
 * Which three-byte sequences a text holds, ASCII letters in lower case:
 * a text that lacks one of a literal's sequences cannot contain the
 * literal, in any case.  libmagic searches the same text for hundreds of
 * literals (its search tests, the regular expressions regex_skip.h reads);
 * one pass over the text answers most of them at once.  Each thread keeps
 * the index of the last text it was asked about, with a copy of the text:
 * a later text that is a prefix of it (libmagic's searches over a range
 * of the start) is answered from the same index.
 */
#ifndef TEXT_INDEX_H
#define TEXT_INDEX_H

#include <stdbool.h>
#include <stddef.h>

/* Texts shorter than this are searched as usual: indexing costs more. */
#define TEXT_INDEX_MIN	256
/* Nor are longer texts indexed (the copy each thread keeps). */
#define TEXT_INDEX_MAX	(128 * 1024)

/*
 * True only when the len bytes at s do not contain the n bytes at lit,
 * compared ignoring the case of ASCII letters (so also when compared
 * exactly); false when that cannot be told (lit shorter than three bytes,
 * a text out of bounds, no memory).
 */
bool	text_index_lacks(const char *s, size_t len, const char *lit, size_t n);

#endif
