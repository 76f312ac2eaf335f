/*
 * The upload slots each client holds on this host, counted across the
 * pool's processes: a table in memory they all map (the metrics region,
 * metrics.h), so that one address cannot take more than its share of the
 * host's slots however nginx spreads its connections over the workers.
 *
 * An open-addressing hash table (linear probing, deletion by backward
 * shift, no tombstones) of (client, holder) -> slots held, where the
 * holder is the process holding them (procid.h): what a process held when
 * it died is forgotten (client_slots_forget), not counted for ever.  The
 * client's slots are the sum over its holders, found in the one probe run
 * that starts at the client's home.  A process-shared robust mutex guards
 * the table: an operation is a few hundred nanoseconds; a process killed
 * inside one leaves the lock to the next, which repairs the table.
 * The home is SipHash under a key made with the table, so no client can
 * choose addresses that pile up on one probe run.
 */
#ifndef CLIENT_SLOTS_H
#define CLIENT_SLOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Entries: (client, process) pairs holding a slot at once.  A table
 * three-quarters full refuses new pairs (CLIENT_SLOTS_FULL), which keeps
 * the probe runs short: 12,288 pairs, far above the slots of a host.
 */
#define CLIENT_SLOTS_ENTRIES	16384

/*
 * A client: an IPv4 address, or an IPv6 address's /64 (what one
 * subscriber is given, RFC 6177: counting its addresses one by one would
 * give each client 2^64 shares).  IPv4-mapped IPv6 addresses are IPv4.
 */
struct client_addr {
	uint8_t		 b[16];
};

struct client_slots;

enum client_take {
	CLIENT_SLOTS_TAKEN,	/* held: client_slots_give must follow */
	CLIENT_SLOTS_OVER,	/* the client holds its limit already */
	CLIENT_SLOTS_FULL,	/* no room in the table, or its lock stuck */
};

/* The bytes a table takes (a multiple of 64). */
size_t	client_slots_size(void);
/*
 * Lays out a table in size zeroed bytes of memory the processes share
 * (MAP_SHARED), once, before any of them uses it: 0, or -1 when the
 * mutex cannot be made process-shared and robust.
 */
int	client_slots_init(void *mem);
/* Parses REMOTE_ADDR's text into a client: false when it is not one. */
bool	client_addr_parse(const char *text, struct client_addr *);

/* One more slot for client, held by process holder, if under limit. */
enum client_take client_slots_take(struct client_slots *,
	    const struct client_addr *, uint64_t holder, unsigned limit);
/* Gives back one slot client_slots_take gave to (client, holder). */
void	client_slots_give(struct client_slots *, const struct client_addr *,
	    uint64_t holder);
/* The slots client holds, over every holder. */
unsigned client_slots_held(struct client_slots *, const struct client_addr *);
/*
 * Forgets what dead processes held (procid_alive): the entries removed.
 * Reads /proc once per distinct holder, outside the lock.
 */
unsigned client_slots_forget(struct client_slots *);

#endif
