/*
 * A process's identity for memory the pool's processes share: its pid and
 * its start time, so that a recycled pid is not taken for a dead owner.
 */
#ifndef PROCID_H
#define PROCID_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* The identity of pid (start ticks << 22 | pid); never 0 for a pid > 0. */
uint64_t procid_of(pid_t pid);
/* Whether the process an identity names still runs (0: no process). */
bool	procid_alive(uint64_t id);

#endif
