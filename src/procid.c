#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "procid.h"

#define PID_BITS	22		/* Linux's PID_MAX_LIMIT is 2^22 */
#define PID_MASK	((1ULL << PID_BITS) - 1)

/*
 * A process's start time in clock ticks since boot (/proc/PID/stat, field
 * 22), and whether it is a zombie; -1 when it does not exist.
 */
static int
proc_start(pid_t pid, uint64_t *ticks, bool *zombie)
{
	char		 path[32], buf[1024], *p;
	unsigned long long t;
	ssize_t		 n;
	int		 fd, field;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* The name (field 2) may hold anything but ends at the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ')
		return -1;
	*zombie = p[2] == 'Z' || p[2] == 'X';
	for (field = 3, p += 2; field < 22; field++) {
		if ((p = strchr(p, ' ')) == NULL)
			return -1;
		p++;
	}
	if (sscanf(p, "%llu", &t) != 1)
		return -1;
	*ticks = t;
	return 0;
}

uint64_t
procid_of(pid_t pid)
{
	uint64_t	 ticks = 0;
	bool		 zombie;

	if (proc_start(pid, &ticks, &zombie) == -1)
		ticks = 0;
	return (ticks << PID_BITS) | ((uint64_t)pid & PID_MASK);
}

bool
procid_alive(uint64_t id)
{
	pid_t		 pid = (pid_t)(id & PID_MASK);
	uint64_t	 ticks;
	bool		 zombie;

	if (id == 0)
		return false;
	if (proc_start(pid, &ticks, &zombie) == 0)
		return !zombie && ticks == id >> PID_BITS;
	/* No /proc to read: at least the pid must exist. */
	if (access("/proc/self/stat", R_OK) == 0)
		return false;
	return kill(pid, 0) == 0 || errno == EPERM;
}
