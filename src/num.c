/*
 * Numbers from text (num.h).
 */
#include <errno.h>
#include <stdlib.h>

#include "num.h"

int
parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long	 v;
	char			*end;

	/* strtoull accepts spaces and a sign: allow digits only. */
	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}
