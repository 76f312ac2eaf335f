/*
 * Numbers from text: the one strict parser every module uses (the
 * environment, DB_PORT lists, Content-Length, query limits, tus headers).
 */
#ifndef NUM_H
#define NUM_H

#include <stdint.h>

/*
 * Parses a decimal unsigned number in [min, max], nothing else allowed
 * (no sign, no spaces, no suffix).  Returns 0, or -1 with *out untouched.
 */
int	parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

#endif
