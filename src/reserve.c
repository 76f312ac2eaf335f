#include <sys/statvfs.h>

#include <stdbool.h>
#include <stdint.h>

#include "reserve.h"

uint64_t
reserve_needed(const struct reserve_rule *r, uint64_t size)
{
	uint64_t	 part = size / 100 * r->percent +
			    size % 100 * r->percent / 100;

	if (r->percent == 0)
		return r->bytes;
	if (r->bytes == 0)
		return part;
	return part < r->bytes ? part : r->bytes;
}

bool
reserve_allows(const struct reserve_rule *r, uint64_t avail, uint64_t size,
    uint64_t incoming)
{
	uint64_t	 need = reserve_needed(r, size);

	if (need == 0)
		return true;
	return avail >= need && incoming <= avail - need;
}

int
reserve_space(const char *dir, uint64_t *avail, uint64_t *size)
{
	struct statvfs	 st;

	if (statvfs(dir, &st) == -1)
		return -1;
	*avail = (uint64_t)st.f_bavail * st.f_frsize;
	*size = (uint64_t)st.f_blocks * st.f_frsize;
	return 0;
}

bool
reserve_room(const struct reserve_rule *r, const char *dir, uint64_t incoming)
{
	uint64_t	 avail, size;

	if (r->bytes == 0 && r->percent == 0)
		return true;
	if (reserve_space(dir, &avail, &size) == -1)
		return true;
	return reserve_allows(r, avail, size, incoming);
}
