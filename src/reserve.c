#include <sys/statvfs.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "reserve.h"

/*
 * A measurement of the file system stands for RESERVE_FRESH_MS, less what
 * this process admitted since: a small upload would otherwise pay a statfs
 * each.  A refusal is always measured afresh, so room freed admits again
 * at once; what other processes wrote meanwhile is seen within that time.
 */
#define RESERVE_FRESH_MS	100
#define DIR_MAX			256

static pthread_mutex_t	 lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char		 dir[DIR_MAX];	/* "": nothing measured */
	uint64_t	 avail;
	uint64_t	 size;
	int64_t		 at_ms;
} last;

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

static int64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * With the lock held: does the last measurement of dir, fresh, allow
 * incoming?  Then it is taken off the measurement.
 */
static bool
fresh_allows(const struct reserve_rule *r, const char *dir, uint64_t incoming)
{
	if (strcmp(last.dir, dir) != 0 ||
	    now_ms() - last.at_ms >= RESERVE_FRESH_MS ||
	    !reserve_allows(r, last.avail, last.size, incoming))
		return false;
	last.avail -= incoming < last.avail ? incoming : last.avail;
	return true;
}

bool
reserve_room(const struct reserve_rule *r, const char *dir, uint64_t incoming)
{
	uint64_t	 avail, size;
	bool		 ok;

	if (r->bytes == 0 && r->percent == 0)
		return true;
	pthread_mutex_lock(&lock);
	ok = fresh_allows(r, dir, incoming);
	pthread_mutex_unlock(&lock);
	if (ok)
		return true;
	if (reserve_space(dir, &avail, &size) == -1)
		return true;
	pthread_mutex_lock(&lock);
	if (strlen(dir) < sizeof(last.dir)) {
		memcpy(last.dir, dir, strlen(dir) + 1);
		last.avail = avail;
		last.size = size;
		last.at_ms = now_ms();
		ok = fresh_allows(r, dir, incoming);
	} else
		ok = reserve_allows(r, avail, size, incoming);
	pthread_mutex_unlock(&lock);
	return ok;
}
