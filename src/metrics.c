#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "client_slots.h"
#include "metrics.h"
#include "procid.h"

/*
 * Counters live in memory other processes map: they must be lock-free
 * atomics (a lock would be per process, not per region).
 */
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2 && ATOMIC_LONG_LOCK_FREE == 2,
    "64-bit atomics must be lock-free to be shared between processes");

#define REGION_MAGIC	0x6675206d65747269ULL	/* "fu metri" */
/* Changes whenever struct slot does: a worker refuses another layout. */
#define REGION_LAYOUT	8
/*
 * How long the pool's upload slots (metrics_pool_upload_slots) are taken
 * as read: a worker started or gone changes them within this.
 */
#define POOL_SLOTS_EVERY_MS	1000

struct head {
	_Atomic uint64_t magic;		/* stored last, released */
	uint32_t	 layout;
	uint32_t	 nslots;
	uint64_t	 slot_size;
	int64_t		 created;
	/* Random, made with the region: metrics_pool_secret. */
	unsigned char	 secret[32];
};

_Static_assert(METRICS_POOL_SECRET_LEN == 32, "the head's secret");

_Static_assert(sizeof(struct head) == 64, "slots start 64-byte aligned");

struct slot {
	/* procid_of its owner; 0: never claimed. */
	_Atomic uint64_t owner;
	_Atomic int64_t	 started;	/* unix s of the owner's claim */
	_Atomic uint64_t counter[METRICS_COUNTER__MAX];
	_Atomic int64_t	 gauge[METRICS_GAUGE__MAX];
	_Atomic uint64_t body[METRICS_BODY__MAX];
	_Atomic uint64_t db[METRICS_DB__MAX];
	_Atomic uint64_t store[METRICS_STORE__MAX];
	_Atomic uint64_t s3[METRICS_S3__MAX][2];
	_Atomic uint64_t s3_retry[2][METRICS_S3__MAX];
	_Atomic uint64_t requests[METRICS_ROUTES_MAX][METRICS_CLASSES];
	_Atomic uint64_t bucket[METRICS_ROUTES_MAX][METRICS_BUCKETS + 1];
	_Atomic uint64_t duration_us[METRICS_ROUTES_MAX];
	_Atomic uint64_t webhook_lag[METRICS_BUCKETS + 1];
	_Atomic uint64_t webhook_lag_us;
} __attribute__((aligned(64)));

/*
 * The region: the head, nslots slots, then the table of the upload slots
 * each client holds (client_slots.h), which the pool shares the same way.
 */
struct region {
	struct head	*head;
	struct slot	*slots;
	struct client_slots *clients;
	size_t		 size;
	bool		 shared;
};

/*
 * Set once by metrics_start, before the request threads exist, and only
 * read afterwards.
 */
static struct region	 region;
static struct slot	*mine;
static int		 mine_index = -1;

static const char *const bucket_le[METRICS_BUCKETS] = {
	"0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
	"0.5", "1", "2.5", "5", "10", "30", "60",
};
static const uint64_t bucket_us[METRICS_BUCKETS] = {
	1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000,
	500000, 1000000, 2500000, 5000000, 10000000, 30000000, 60000000,
};

const char *
metrics_bucket_le(unsigned i)
{
	return i < METRICS_BUCKETS ? bucket_le[i] : "+Inf";
}

uint64_t
metrics_bucket_us(unsigned i)
{
	return i < METRICS_BUCKETS ? bucket_us[i] : UINT64_MAX;
}

static size_t
region_size(unsigned nslots)
{
	return sizeof(struct head) + (size_t)nslots * sizeof(struct slot) +
	    client_slots_size();
}

/* Points rg's slots and clients into its mapped head. */
static void
region_parts(struct region *rg)
{
	rg->slots = (struct slot *)(rg->head + 1);
	rg->clients = (struct client_slots *)(rg->slots + rg->head->nslots);
}

/* "FILEUPLOAD_METRICS_FILE path: [what: ]strerror(errno)" */
static void
set_err(char *err, size_t errlen, const char *path, const char *what)
{
	snprintf(err, errlen, "FILEUPLOAD_METRICS_FILE %s: %s%s%s", path,
	    what, *what != '\0' ? ": " : "", strerror(errno));
}

/* Checks a mapped region's head against this layout. */
static int
head_ok(const struct head *h, size_t size)
{
	return atomic_load_explicit(&h->magic, memory_order_acquire) ==
	    REGION_MAGIC && h->layout == REGION_LAYOUT &&
	    h->slot_size == sizeof(struct slot) && h->nslots > 0 &&
	    size >= region_size(h->nslots);
}

static int
head_init(struct head *h, unsigned nslots)
{
	h->layout = REGION_LAYOUT;
	h->nslots = nslots;
	h->slot_size = sizeof(struct slot);
	h->created = (int64_t)time(NULL);
	randombytes_buf(h->secret, sizeof(h->secret));
	if (client_slots_init((struct slot *)(h + 1) + nslots) == -1)
		return -1;
	/* Last: a reader that sees the magic sees the rest. */
	atomic_store_explicit(&h->magic, REGION_MAGIC, memory_order_release);
	return 0;
}

/*
 * Maps the region file at path, made and sized under an exclusive flock
 * when it is new (the pool's workers start at once and race for that).
 */
static int
region_open_file(struct region *rg, const char *path, bool writable,
    char *err, size_t errlen)
{
	struct stat	 st;
	void		*map;
	size_t		 want = region_size(METRICS_SLOTS);
	int		 fd, rc = -1, flags;

	flags = writable ? O_RDWR | O_CREAT : O_RDONLY;
	if ((fd = open(path, flags | O_CLOEXEC | O_NOFOLLOW, 0600)) == -1) {
		set_err(err, errlen, path, "");
		return -1;
	}
	if (writable && flock(fd, LOCK_EX) == -1) {
		set_err(err, errlen, path, "flock");
		goto out;
	}
	if (fstat(fd, &st) == -1) {
		set_err(err, errlen, path, "");
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "FILEUPLOAD_METRICS_FILE %s: not a "
		    "regular file", path);
		goto out;
	}
	if (st.st_size == 0 && writable) {
		/* New (or made empty by the pool's start): ours to lay out. */
		if (ftruncate(fd, (off_t)want) == -1) {
			set_err(err, errlen, path, "ftruncate");
			goto out;
		}
		st.st_size = (off_t)want;
	}
	if ((size_t)st.st_size < sizeof(struct head)) {
		snprintf(err, errlen, "FILEUPLOAD_METRICS_FILE %s: too short "
		    "for a metrics region", path);
		goto out;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ |
	    (writable ? PROT_WRITE : 0), MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		set_err(err, errlen, path, "mmap");
		goto out;
	}
	rg->head = map;
	rg->size = (size_t)st.st_size;
	if (atomic_load(&rg->head->magic) == 0 && writable &&
	    rg->size == want && head_init(rg->head, METRICS_SLOTS) == -1) {
		snprintf(err, errlen, "FILEUPLOAD_METRICS_FILE %s: no "
		    "process-shared robust mutex", path);
		munmap(map, rg->size);
		rg->head = NULL;
		goto out;
	}
	if (!head_ok(rg->head, rg->size)) {
		snprintf(err, errlen, "FILEUPLOAD_METRICS_FILE %s: made by "
		    "another version of the worker (remove it, or restart the "
		    "pool, which makes it anew)", path);
		munmap(map, rg->size);
		rg->head = NULL;
		goto out;
	}
	region_parts(rg);
	rg->shared = true;
	rc = 0;
out:
	/*
	 * Unlocked by hand: the mapping holds the open file, and a flock
	 * lasts as long as the open file does, not just its descriptor.
	 */
	if (writable)
		flock(fd, LOCK_UN);
	close(fd);
	return rc;
}

/* A region of one slot in memory of this process alone. */
static int
region_open_private(struct region *rg, char *err, size_t errlen)
{
	void	*map;

	rg->size = region_size(1);
	map = mmap(NULL, rg->size, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED) {
		snprintf(err, errlen, "metrics: mmap: %s", strerror(errno));
		return -1;
	}
	rg->head = map;
	if (head_init(rg->head, 1) == -1) {
		snprintf(err, errlen, "metrics: no process-shared robust mutex");
		munmap(map, rg->size);
		return -1;
	}
	region_parts(rg);
	rg->shared = false;
	return 0;
}

/*
 * Takes a slot for me: first one whose owner died (adopted: its counts
 * stay, its gauges, the dead process's in-hand state, go), else a free
 * one.  The compare-and-swap settles a race between two new workers.
 */
static int
claim(struct region *rg, uint64_t me)
{
	struct slot	*s;
	uint64_t	 owner;
	unsigned	 i, pass;
	int		 g;

	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < rg->head->nslots; i++) {
			s = &rg->slots[i];
			owner = atomic_load(&s->owner);
			if (pass == 0 && (owner == 0 || procid_alive(owner)))
				continue;
			if (pass == 1 && owner != 0)
				continue;
			if (!atomic_compare_exchange_strong(&s->owner, &owner,
			    me))
				continue;
			for (g = 0; g < METRICS_GAUGE__MAX; g++)
				atomic_store(&s->gauge[g], 0);
			atomic_store(&s->started, (int64_t)time(NULL));
			atomic_fetch_add(&s->counter[METRICS_WORKER_STARTS], 1);
			return (int)i;
		}
	return -1;
}

int
metrics_start(const char *path, char *err, size_t errlen)
{
	int	 i, rc = 0;

	if (mine != NULL) {
		snprintf(err, errlen, "metrics_start called twice");
		return -1;
	}
	memset(&region, 0, sizeof(region));
	if (path != NULL) {
		if (region_open_file(&region, path, true, err, errlen) == -1)
			return -1;
		if ((i = claim(&region, procid_of(getpid()))) >= 0) {
			mine_index = i;
			mine = &region.slots[i];
			/* A dead worker's clients hold its slots no more. */
			client_slots_forget(region.clients);
			return 0;
		}
		snprintf(err, errlen, "FILEUPLOAD_METRICS_FILE %s: all %u "
		    "slots have a live worker; this one counts alone", path,
		    region.head->nslots);
		munmap(region.head, region.size);
		memset(&region, 0, sizeof(region));
		rc = 1;
	}
	if (region_open_private(&region, err, errlen) == -1)
		return -1;
	mine_index = claim(&region, procid_of(getpid()));
	mine = &region.slots[0];
	return rc;
}

int
metrics_slot(void)
{
	return mine_index;
}

bool
metrics_pool_secret(unsigned char out[METRICS_POOL_SECRET_LEN])
{
	if (mine == NULL) {
		memset(out, 0, METRICS_POOL_SECRET_LEN);
		return false;
	}
	memcpy(out, region.head->secret, METRICS_POOL_SECRET_LEN);
	return region.shared;
}

struct client_slots *
metrics_client_slots(uint64_t *holder)
{
	if (mine == NULL)
		return NULL;
	*holder = atomic_load_explicit(&mine->owner, memory_order_relaxed);
	return region.clients;
}

unsigned
metrics_pool_upload_slots(void)
{
	static _Atomic int64_t	 at;
	static atomic_uint	 cached;
	const struct slot *s;
	struct timespec	 now;
	int64_t		 ms, n = 0;
	unsigned	 i;

	if (mine == NULL)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	if (ms - atomic_load(&at) < POOL_SLOTS_EVERY_MS &&
	    atomic_load(&cached) > 0)
		return atomic_load(&cached);
	for (i = 0; i < region.head->nslots; i++) {
		s = &region.slots[i];
		if (s == mine || procid_alive(atomic_load(&s->owner)))
			n += atomic_load(&s->gauge[METRICS_UPLOAD_SLOTS]);
	}
	n = n > 0 && n <= UINT_MAX ? n : 1;
	atomic_store(&cached, (unsigned)n);
	atomic_store(&at, ms);
	return (unsigned)n;
}

static void
sum(const struct region *rg, struct metrics_snapshot *out)
{
	const struct slot *s;
	unsigned	 i, j, k;
	uint64_t	 owner;
	bool		 alive;

	memset(out, 0, sizeof(*out));
	out->shared = rg->shared;
	out->created = rg->head->created;
#define LOAD(x)	atomic_load_explicit(&(x), memory_order_relaxed)
	for (i = 0; i < rg->head->nslots; i++) {
		s = &rg->slots[i];
		/* A slot never claimed holds nothing: its pages stay holes. */
		if ((owner = LOAD(s->owner)) == 0)
			continue;
		if ((alive = procid_alive(owner))) {
			out->worker_slot[out->workers] = (int)i;
			out->worker_started[out->workers++] = LOAD(s->started);
			for (j = 0; j < METRICS_GAUGE__MAX; j++)
				out->gauge[j] += LOAD(s->gauge[j]);
		}
		for (j = 0; j < METRICS_COUNTER__MAX; j++)
			out->counter[j] += LOAD(s->counter[j]);
		for (j = 0; j < METRICS_BODY__MAX; j++)
			out->body[j] += LOAD(s->body[j]);
		for (j = 0; j < METRICS_DB__MAX; j++)
			out->db[j] += LOAD(s->db[j]);
		for (j = 0; j < METRICS_STORE__MAX; j++)
			out->store[j] += LOAD(s->store[j]);
		for (j = 0; j < METRICS_S3__MAX; j++)
			for (k = 0; k < 2; k++)
				out->s3[j][k] += LOAD(s->s3[j][k]);
		for (j = 0; j < 2; j++)
			for (k = 0; k < METRICS_S3__MAX; k++)
				out->s3_retry[j][k] += LOAD(s->s3_retry[j][k]);
		for (j = 0; j < METRICS_ROUTES_MAX; j++) {
			for (k = 0; k < METRICS_CLASSES; k++)
				out->requests[j][k] += LOAD(s->requests[j][k]);
			for (k = 0; k <= METRICS_BUCKETS; k++)
				out->bucket[j][k] += LOAD(s->bucket[j][k]);
			out->duration_us[j] += LOAD(s->duration_us[j]);
		}
		for (k = 0; k <= METRICS_BUCKETS; k++)
			out->webhook_lag[k] += LOAD(s->webhook_lag[k]);
		out->webhook_lag_us += LOAD(s->webhook_lag_us);
	}
#undef LOAD
	/* A gauge read while a request ends may be a moment behind. */
	for (j = 0; j < METRICS_GAUGE__MAX; j++)
		if (out->gauge[j] < 0)
			out->gauge[j] = 0;
	out->health_db = out->health_store = -1;
	out->disk_free = out->disk_size = -1;
}

struct metrics_snapshot *
metrics_snapshot_take(void)
{
	struct metrics_snapshot *out;

	if (region.head == NULL || (out = malloc(sizeof(*out))) == NULL)
		return NULL;
	sum(&region, out);
	return out;
}

int
metrics_read(const char *path, struct metrics_snapshot *out, char *err,
    size_t errlen)
{
	struct region	 rg;

	memset(&rg, 0, sizeof(rg));
	if (region_open_file(&rg, path, false, err, errlen) == -1)
		return -1;
	sum(&rg, out);
	munmap(rg.head, rg.size);
	return 0;
}

/* --- hooks ----------------------------------------------------------- */

#define ADD(field, n)	do {						\
	if (mine != NULL)						\
		atomic_fetch_add_explicit(&mine->field, (n),		\
		    memory_order_relaxed);				\
} while (0)

void
metrics_request_begin(void)
{
	ADD(gauge[METRICS_IN_FLIGHT], 1);
}

/* The duration bucket of us microseconds. */
static unsigned
bucket_of(uint64_t us)
{
	unsigned	 b;

	for (b = 0; b < METRICS_BUCKETS && us > bucket_us[b]; b++)
		;
	return b;
}

void
metrics_request_end(unsigned route, int status, uint64_t us)
{
	unsigned	 b, class;

	if (mine == NULL)
		return;
	if (route >= METRICS_ROUTES_MAX)
		route = METRICS_ROUTES_MAX - 1;
	b = bucket_of(us);
	/* No status sent (the handler wrote nothing): a server error. */
	class = status >= 100 && status < 600 ? status / 100 - 1 : 4;
	ADD(bucket[route][b], 1);
	ADD(duration_us[route], us);
	ADD(requests[route][class], 1);
	ADD(gauge[METRICS_IN_FLIGHT], -1);
}

void
metrics_threads(unsigned n, unsigned upload_slots)
{
	if (mine == NULL)
		return;
	atomic_store(&mine->gauge[METRICS_THREADS], (int64_t)n);
	atomic_store(&mine->gauge[METRICS_UPLOAD_SLOTS], (int64_t)upload_slots);
}

void
metrics_upload_held(int delta)
{
	ADD(gauge[METRICS_UPLOADS], delta);
}

void
metrics_upload_refused(void)
{
	ADD(counter[METRICS_UPLOAD_REFUSED], 1);
}

void
metrics_upload_client_refused(void)
{
	ADD(counter[METRICS_UPLOAD_CLIENT_REFUSED], 1);
}

void
metrics_upload_stored(uint64_t bytes)
{
	ADD(counter[METRICS_UPLOAD_FILES], 1);
	ADD(counter[METRICS_UPLOAD_BYTES], bytes);
}

void
metrics_duplicate(void)
{
	ADD(counter[METRICS_DUPLICATES], 1);
}

void
metrics_deleted(uint64_t bytes)
{
	ADD(counter[METRICS_DELETE_FILES], 1);
	ADD(counter[METRICS_DELETE_BYTES], bytes);
}

void
metrics_body_error(enum metrics_body kind)
{
	if ((unsigned)kind < METRICS_BODY__MAX)
		ADD(body[kind], 1);
}

void
metrics_db_error(enum metrics_db kind)
{
	if ((unsigned)kind < METRICS_DB__MAX)
		ADD(db[kind], 1);
}

void
metrics_fcgi_connection(void)
{
	ADD(counter[METRICS_FCGI_CONNECTIONS], 1);
}

void
metrics_db_connected(void)
{
	ADD(counter[METRICS_DB_CONNECTS], 1);
}

void
metrics_store_error(enum metrics_store kind)
{
	if ((unsigned)kind < METRICS_STORE__MAX)
		ADD(store[kind], 1);
}

void
metrics_swept(unsigned files)
{
	ADD(counter[METRICS_SWEPT], files);
}

void
metrics_tus_created(void)
{
	ADD(counter[METRICS_TUS_CREATED], 1);
}

void
metrics_tus_completed(void)
{
	ADD(counter[METRICS_TUS_COMPLETED], 1);
}

void
metrics_tus_expired(unsigned n)
{
	ADD(counter[METRICS_TUS_EXPIRED], n);
}

void
metrics_tus_terminated(void)
{
	ADD(counter[METRICS_TUS_TERMINATED], 1);
}

void
metrics_tus_bytes(uint64_t bytes)
{
	ADD(counter[METRICS_TUS_BYTES], bytes);
}

void
metrics_s3_request(enum metrics_s3_op op, bool ok)
{
	if ((unsigned)op < METRICS_S3__MAX)
		ADD(s3[op][ok ? 1 : 0], 1);
}

void
metrics_s3_retry(enum metrics_s3_op op, bool gave_up)
{
	if ((unsigned)op < METRICS_S3__MAX)
		ADD(s3_retry[gave_up ? 1 : 0][op], 1);
}

void
metrics_regex_search(bool skipped)
{
	ADD(counter[skipped ? METRICS_REGEX_SKIPPED : METRICS_REGEX_SEARCHED],
	    1);
}

void
metrics_string_search(bool skipped)
{
	ADD(counter[skipped ? METRICS_STRING_SKIPPED :
	    METRICS_STRING_SEARCHED], 1);
}

void
metrics_regex_pattern(bool need)
{
	ADD(counter[need ? METRICS_REGEX_NEED : METRICS_REGEX_NO_NEED], 1);
}

void
metrics_webhook_delivery(enum metrics_counter result, uint64_t lag_us)
{
	if (result < METRICS_WEBHOOK_DELIVERED ||
	    result > METRICS_WEBHOOK_FAILED)
		return;
	ADD(counter[result], 1);
	if (result == METRICS_WEBHOOK_DELIVERED) {
		ADD(webhook_lag[bucket_of(lag_us)], 1);
		ADD(webhook_lag_us, lag_us);
	}
}

void
metrics_webhook_state(bool lock, int64_t backlog_age)
{
	if (mine == NULL)
		return;
	atomic_store(&mine->gauge[METRICS_WEBHOOK_LOCK], lock ? 1 : 0);
	atomic_store(&mine->gauge[METRICS_WEBHOOK_BACKLOG_AGE], backlog_age);
}
