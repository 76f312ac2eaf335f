#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "client_slots.h"
#include "procid.h"

#define MASK		(CLIENT_SLOTS_ENTRIES - 1)
#define ROOM		(CLIENT_SLOTS_ENTRIES / 4 * 3)
/* Holders told apart by client_slots_forget: a pool's live processes. */
#define HOLDERS_MAX	256
/*
 * How long a caller waits for the lock: only a process stopped (SIGSTOP)
 * inside an operation holds it longer, and then refusing beats hanging.
 */
#define LOCK_WAIT_MS	2000

_Static_assert((CLIENT_SLOTS_ENTRIES & MASK) == 0,
    "CLIENT_SLOTS_ENTRIES must be a power of two");

struct entry {
	uint64_t	 holder;	/* 0: empty; set last when filled */
	uint8_t		 addr[16];
	uint32_t	 count;
	uint32_t	 home;		/* where its probe run starts */
};

struct client_slots {
	pthread_mutex_t	 lock;
	uint8_t		 key[crypto_shorthash_KEYBYTES];
	uint32_t	 used;
	struct entry	 e[CLIENT_SLOTS_ENTRIES] __attribute__((aligned(64)));
};

size_t
client_slots_size(void)
{
	return (sizeof(struct client_slots) + 63) & ~(size_t)63;
}

int
client_slots_init(void *mem)
{
	struct client_slots *t = mem;
	pthread_mutexattr_t a;
	int		 rc = -1;

	if (pthread_mutexattr_init(&a) != 0)
		return -1;
	if (pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED) == 0 &&
	    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST) == 0 &&
	    pthread_mutex_init(&t->lock, &a) == 0)
		rc = 0;
	pthread_mutexattr_destroy(&a);
	randombytes_buf(t->key, sizeof(t->key));
	return rc;
}

bool
client_addr_parse(const char *text, struct client_addr *c)
{
	static const uint8_t v4mapped[12] = { [10] = 0xff, [11] = 0xff };
	struct in_addr	 a4;

	memset(c, 0, sizeof(*c));
	if (text == NULL)
		return false;
	if (inet_pton(AF_INET, text, &a4) == 1) {
		memcpy(c->b, v4mapped, sizeof(v4mapped));
		memcpy(c->b + 12, &a4, 4);
		return true;
	}
	if (inet_pton(AF_INET6, text, c->b) != 1)
		return false;
	/* One subscriber's /64; a mapped IPv4 address stays whole. */
	if (memcmp(c->b, v4mapped, sizeof(v4mapped)) != 0)
		memset(c->b + 8, 0, 8);
	return true;
}

static uint32_t
home_of(const struct client_slots *t, const struct client_addr *c)
{
	uint8_t		 h[crypto_shorthash_BYTES];
	uint32_t	 v;

	crypto_shorthash(h, c->b, sizeof(c->b), t->key);
	memcpy(&v, h, sizeof(v));
	return v & MASK;
}

/* Whether k lies in the cyclic range (i, j]. */
static bool
between(uint32_t i, uint32_t k, uint32_t j)
{
	return i <= j ? i < k && k <= j : i < k || k <= j;
}

/* Empties entry i, moving back the entries of its run that belong before. */
static void
remove_at(struct client_slots *t, uint32_t i)
{
	uint32_t	 j = i;

	for (;;) {
		j = (j + 1) & MASK;
		if (t->e[j].holder == 0)
			break;
		if (between(i, t->e[j].home, j))
			continue;
		t->e[i] = t->e[j];
		i = j;
	}
	memset(&t->e[i], 0, sizeof(t->e[i]));
	t->used--;
}

/*
 * The lock's last owner died inside an operation: a backward shift may
 * have left an entry twice, a fill may be half done.  Keeps the first
 * copy of each pair and drops empty counts; the dead process's own
 * entries go with the next client_slots_forget.
 */
static void
repair(struct client_slots *t)
{
	uint32_t	 i, k, n = 0;
	bool		 dup;

	for (i = 0; i < CLIENT_SLOTS_ENTRIES; i++)
		if (t->e[i].holder != 0)
			n++;
	t->used = n;
	for (i = 0; i < CLIENT_SLOTS_ENTRIES; i++) {
		while (t->e[i].holder != 0) {
			dup = t->e[i].count == 0;
			for (k = t->e[i].home; !dup && k != i; k = (k + 1) & MASK)
				dup = t->e[k].holder == t->e[i].holder &&
				    memcmp(t->e[k].addr, t->e[i].addr, 16) == 0;
			if (!dup)
				break;
			remove_at(t, i);
		}
	}
}

static bool
lock(struct client_slots *t)
{
	struct timespec	 until;
	int		 rc;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += LOCK_WAIT_MS / 1000;
	until.tv_nsec += (LOCK_WAIT_MS % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	rc = pthread_mutex_timedlock(&t->lock, &until);
	if (rc == EOWNERDEAD) {
		repair(t);
		pthread_mutex_consistent(&t->lock);
		rc = 0;
	}
	return rc == 0;
}

static void
unlock(struct client_slots *t)
{
	pthread_mutex_unlock(&t->lock);
}

enum client_take
client_slots_take(struct client_slots *t, const struct client_addr *c,
    uint64_t holder, unsigned limit)
{
	struct entry	*e;
	uint32_t	 home = home_of(t, c), i, found = UINT32_MAX;
	uint64_t	 held = 0;
	enum client_take rc = CLIENT_SLOTS_TAKEN;

	if (holder == 0 || !lock(t))
		return CLIENT_SLOTS_FULL;
	for (i = home; t->e[i].holder != 0; i = (i + 1) & MASK) {
		e = &t->e[i];
		if (memcmp(e->addr, c->b, 16) != 0)
			continue;
		held += e->count;
		if (e->holder == holder)
			found = i;
	}
	if (held >= limit)
		rc = CLIENT_SLOTS_OVER;
	else if (found != UINT32_MAX)
		t->e[found].count++;
	else if (t->used >= ROOM)
		rc = CLIENT_SLOTS_FULL;
	else {
		/* i: the run's end, the first empty entry. */
		e = &t->e[i];
		memcpy(e->addr, c->b, 16);
		e->count = 1;
		e->home = home;
		e->holder = holder;
		t->used++;
	}
	unlock(t);
	return rc;
}

void
client_slots_give(struct client_slots *t, const struct client_addr *c,
    uint64_t holder)
{
	uint32_t	 i;

	/* Not got in time: counted until the holder is forgotten. */
	if (!lock(t))
		return;
	for (i = home_of(t, c); t->e[i].holder != 0; i = (i + 1) & MASK) {
		if (t->e[i].holder != holder ||
		    memcmp(t->e[i].addr, c->b, 16) != 0)
			continue;
		if (--t->e[i].count == 0)
			remove_at(t, i);
		break;
	}
	unlock(t);
}

unsigned
client_slots_held(struct client_slots *t, const struct client_addr *c)
{
	uint32_t	 i;
	unsigned	 held = 0;

	if (!lock(t))
		return 0;
	for (i = home_of(t, c); t->e[i].holder != 0; i = (i + 1) & MASK)
		if (memcmp(t->e[i].addr, c->b, 16) == 0)
			held += t->e[i].count;
	unlock(t);
	return held;
}

unsigned
client_slots_forget(struct client_slots *t)
{
	uint64_t	 holders[HOLDERS_MAX], dead[HOLDERS_MAX];
	unsigned	 nh = 0, nd = 0, k, removed = 0;
	uint32_t	 i;
	bool		 known, gone;

	if (!lock(t))
		return 0;
	for (i = 0; i < CLIENT_SLOTS_ENTRIES && nh < HOLDERS_MAX; i++) {
		if (t->e[i].holder == 0)
			continue;
		for (known = false, k = 0; k < nh && !known; k++)
			known = holders[k] == t->e[i].holder;
		if (!known)
			holders[nh++] = t->e[i].holder;
	}
	unlock(t);
	/* /proc is read without the lock: the holders' uploads go on. */
	for (k = 0; k < nh; k++)
		if (!procid_alive(holders[k]))
			dead[nd++] = holders[k];
	if (nd == 0 || !lock(t))
		return 0;
	/*
	 * A removal pulls later entries of the run back to i: i is looked
	 * at again until it holds a live one or none.
	 */
	for (i = 0; i < CLIENT_SLOTS_ENTRIES; i++)
		while (t->e[i].holder != 0) {
			for (gone = false, k = 0; k < nd && !gone; k++)
				gone = t->e[i].holder == dead[k];
			if (!gone)
				break;
			remove_at(t, i);
			removed++;
		}
	unlock(t);
	return removed;
}
