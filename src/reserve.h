/*
 * The free-space reserve (FILEUPLOAD_MIN_FREE): a new upload is refused
 * (507) when the bytes it brings would leave the file system that holds
 * the store's files with less free space than the reserve, so that the
 * database and the logs beside them keep room, and the disk never fills.
 * The one place that measures that file system's free space (/metrics
 * shows it).
 */
#ifndef RESERVE_H
#define RESERVE_H

#include <stdbool.h>
#include <stdint.h>

/* Default: 1 GiB, or 5 % of a file system smaller than 20 GiB. */
#define RESERVE_DEFAULT_BYTES	(1ULL << 30)
#define RESERVE_DEFAULT_PERCENT	5
#define RESERVE_MAX_PERCENT	90

/* Both set: the smaller; one set: it; neither: no reserve. */
struct reserve_rule {
	uint64_t	 bytes;
	unsigned	 percent;	/* of the file system's size */
};

/* The bytes to keep free on a file system of size bytes. */
uint64_t reserve_needed(const struct reserve_rule *, uint64_t size);
/* Whether incoming bytes leave avail (of size) at or above the reserve. */
bool	reserve_allows(const struct reserve_rule *, uint64_t avail,
	    uint64_t size, uint64_t incoming);
/*
 * The file system of dir as statvfs(3) sees it: the bytes an unprivileged
 * writer may use into *avail, its size into *size.  0, or -1 when dir
 * cannot be looked at.
 */
int	reserve_space(const char *dir, uint64_t *avail, uint64_t *size);
/*
 * reserve_allows for the file system of dir, by reserve_space.  A dir
 * that cannot be looked at is allowed: the write itself then tells what
 * is wrong.  A measurement admits for 100 ms, less the bytes admitted
 * since; a refusal is always measured afresh.
 */
bool	reserve_room(const struct reserve_rule *, const char *dir,
	    uint64_t incoming);

#endif
