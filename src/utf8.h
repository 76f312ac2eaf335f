/*
 * UTF-8 well-formedness, for the JSON that names and log lines put into
 * strings.
 */
#ifndef UTF8_H
#define UTF8_H

#include <stddef.h>

/*
 * Length of the UTF-8 sequence at s (at most len bytes, len > 0), 0 when
 * it is not well formed: overlongs, surrogates and code points past
 * U+10FFFF fail.
 */
size_t	utf8_seq(const unsigned char *s, size_t len);

#endif
