#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text_index.h"

#define BITS	(1U << 15)	/* of the sequences' bitmap: 4 KiB */
#define BASES	4
/*
 * Searches of a lent text run as usual before it is indexed: a text
 * libmagic knows early (a script) is searched a few times only, for less
 * than the index would cost.
 */
#define PATIENCE	8

struct text_index {
	char		*text;		/* a copy of the text indexed */
	size_t		 len;
	size_t		 cap;
	/*
	 * Where parts of the text were seen, text[off...] at at: a search of
	 * a part of it (libmagic searches from an offset on, and in copies)
	 * is answered by the same index once compared with the copy.
	 */
	struct {
		const char	*at;
		size_t		 off;
	}		 seen_at[BASES];
	int		 nseen;
	unsigned	 misses;	/* searches not indexed, since lent */
	uint64_t	 seen[BITS / 64];
};

static pthread_key_t	 key;
static pthread_once_t	 key_once = PTHREAD_ONCE_INIT;
/* The index lent to this thread, if any, and the whole text it is for. */
static __thread struct text_index *lent;
static __thread const char *whole;
static __thread size_t	 whole_len;
/* The lent index holds whole, indexed during this lending. */
static __thread bool	 whole_indexed;

struct text_index *
text_index_new(void)
{
	return calloc(1, sizeof(struct text_index));
}

void
text_index_free(struct text_index *ix)
{
	if (ix == NULL)
		return;
	free(ix->text);
	free(ix);
}

void
text_index_use(struct text_index *ix, const char *text, size_t len)
{
	lent = ix;
	if (ix != NULL)
		ix->misses = 0;
	whole = ix != NULL ? text : NULL;
	whole_len = ix != NULL ? len : 0;
	whole_indexed = false;
}

/* Is [s, s + len) inside the whole text? */
static bool
in_whole(const char *s, size_t len)
{
	uintptr_t	 p = (uintptr_t)s, w = (uintptr_t)whole;

	return whole != NULL && p >= w && p - w <= whole_len &&
	    len <= whole_len - (p - w);
}

static void
index_free(void *p)
{
	text_index_free(p);
}

static void
key_make(void)
{
	(void)pthread_key_create(&key, index_free);
}

/* ASCII letters in lower case, without a branch. */
static inline unsigned
fold(unsigned char c)
{
	return c + (((unsigned)c - 'A' < 26U) << 5);
}

/* The bit of the sequence abc: each byte five bits further left. */
static inline unsigned
seq(unsigned a, unsigned b, unsigned c)
{
	return ((a << 10) ^ (b << 5) ^ c) % BITS;
}

static bool
holds(const struct text_index *ix, unsigned h)
{
	return (ix->seen[h / 64] >> (h % 64)) & 1;
}

/* Indexes the len bytes at s into ix, a copy of them kept; -1: no memory. */
static int
build(struct text_index *ix, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t		 i;
	unsigned	 h;
	char		*t;

	if (len > ix->cap) {
		if ((t = realloc(ix->text, len)) == NULL)
			return -1;
		ix->text = t;
		ix->cap = len;
	}
	memcpy(ix->text, s, len);
	ix->len = len;
	ix->seen_at[0].at = s;
	ix->seen_at[0].off = 0;
	ix->nseen = 1;
	memset(ix->seen, 0, sizeof(ix->seen));
	/* seq() rolled along: the oldest byte's bits leave at the left. */
	h = seq(0, fold(u[0]), fold(u[1]));
	for (i = 2; i < len; i++) {
		h = ((h << 5) ^ fold(u[i])) % BITS;
		ix->seen[h / 64] |= (uint64_t)1 << (h % 64);
	}
	return 0;
}

/* Where the len bytes at s are in the tlen bytes at text; -1: not there. */
static long
find(const char *text, size_t tlen, const char *s, size_t len)
{
	const char	*p = text, *end = text + tlen;

	while (len <= (size_t)(end - p) &&
	    (p = memchr(p, s[0], (size_t)(end - p) - len + 1)) != NULL) {
		if (memcmp(p, s, len) == 0)
			return p - text;
		p++;
	}
	return -1;
}

/* Notes that the text indexed, from off on, is at s. */
static void
seen(struct text_index *ix, const char *s, size_t off)
{
	int	 i = ix->nseen < BASES ? ix->nseen++ : BASES - 1;

	ix->seen_at[i].at = s;
	ix->seen_at[i].off = off;
}

/* Is [s, s + len) a part of the text indexed? */
static bool
part_of(struct text_index *ix, const char *s, size_t len)
{
	uintptr_t	 p = (uintptr_t)s, at;
	size_t		 off;
	long		 k;
	int		 i;

	/* Memory freed and taken again may hold another text: compared. */
	for (i = 0; i < ix->nseen; i++) {
		at = (uintptr_t)ix->seen_at[i].at;
		off = ix->seen_at[i].off + (p - at);
		if (p >= at && off <= ix->len && len <= ix->len - off &&
		    memcmp(ix->text + off, s, len) == 0)
			return true;
	}
	if ((k = find(ix->text, ix->len, s, len)) == -1)
		return false;
	/* The next part there is compared at once. */
	seen(ix, s, (size_t)k);
	return true;
}

/* The calling thread's own index; NULL when out of memory. */
static struct text_index *
own_index(void)
{
	struct text_index *ix;

	if (pthread_once(&key_once, key_make) != 0)
		return NULL;
	if ((ix = pthread_getspecific(key)) == NULL &&
	    (ix = text_index_new()) != NULL &&
	    pthread_setspecific(key, ix) != 0) {
		text_index_free(ix);
		ix = NULL;
	}
	return ix;
}

/* The index the thread uses, made to cover the len bytes at s; or NULL. */
static struct text_index *
index_of(const char *s, size_t len)
{
	struct text_index *ix;
	long		 k = -1;

	if ((ix = lent) == NULL && (ix = own_index()) == NULL)
		return NULL;
	/* The caller's text does not change while it is lent: no compare. */
	if (ix == lent && whole_indexed && in_whole(s, len))
		return ix;
	/* A part of the text indexed lacks all that the text lacks. */
	if (part_of(ix, s, len))
		return ix;
	if (ix == lent && ix->misses++ < PATIENCE)
		return NULL;
	/*
	 * A part of the whole text being detected, or of a copy of it: all of
	 * it indexed at once (libmagic searches ranges of it, from offsets,
	 * in copies, one after another).
	 */
	if (ix == lent && whole_len <= TEXT_INDEX_MAX && (in_whole(s, len) ||
	    (k = find(whole, whole_len, s, len)) != -1)) {
		if (build(ix, whole, whole_len) == -1)
			return NULL;
		whole_indexed = true;
		if (!in_whole(s, len))
			seen(ix, s, (size_t)k);
		return ix;
	}
	if (ix == lent)
		whole_indexed = false;
	return build(ix, s, len) == 0 ? ix : NULL;
}

bool
text_index_lacks(const char *s, size_t len, const char *lit, size_t n)
{
	const unsigned char *l = (const unsigned char *)lit;
	struct text_index *ix;
	size_t		 i;

	if (n < 3 || len < TEXT_INDEX_MIN || len > TEXT_INDEX_MAX)
		return false;
	if (n > len)
		return true;
	if ((ix = index_of(s, len)) == NULL)
		return false;
	for (i = 0; i + 3 <= n; i++)
		if (!holds(ix, seq(fold(l[i]), fold(l[i + 1]), fold(l[i + 2]))))
			return true;
	return false;
}
