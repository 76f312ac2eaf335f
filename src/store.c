/*
 * The store's public functions: store_open picks a backend by name, and
 * the rest pass the call to the backend the handle was opened with
 * (store_impl.h); the sweep is written once, over the backends' walks.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store.h"
#include "store_impl.h"

/* The backends, by the scheme a store_config names (STORAGE). */
static const struct {
	const char	*scheme;
	const char	*setting;	/* what an opening error is about */
	struct store	*(*open)(const struct store_config *, char *, size_t);
} backends[] = {
	{ "local",	"DATA_DIR",	store_local_open },
	{ "s3",		"STORAGE=s3",	store_s3_open },
};

struct store *
store_open(const struct store_config *cfg, char *err, size_t errlen)
{
	struct store	*s;
	char		 why[512];
	size_t		 i;
	int		 e;

	for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		if (strcmp(cfg->scheme, backends[i].scheme) != 0)
			continue;
		why[0] = '\0';
		if ((s = backends[i].open(cfg, why, sizeof(why))) == NULL) {
			e = errno;
			snprintf(err, errlen, "%s: %s", backends[i].setting, why);
			errno = e;
		}
		return s;
	}
	snprintf(err, errlen, "STORAGE=%.64s: no such store", cfg->scheme);
	errno = EINVAL;
	return NULL;
}

const char *
store_location(struct store *s)
{
	return s->ops->location;
}

bool
store_part_id_ok(const char *id)
{
	size_t	 n = strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_");

	return n > 0 && n <= STORE_PART_ID_MAX && id[n] == '\0';
}

void
store_close(struct store *s)
{
	if (s != NULL)
		s->ops->close(s);
}

enum store_error
store_errno(int e)
{
	switch (e) {
	case ENOSPC:
	case EDQUOT:
	case EFBIG:
		return STORE_ERR_NOSPACE;
	case ENOENT:
		return STORE_ERR_NOENT;
	default:
		return STORE_ERR_IO;
	}
}

enum store_error
store_tmp_create(struct store *s, struct store_tmp *t)
{
	return s->ops->tmp_create(s, t);
}

enum store_error
store_tmp_write(struct store *s, struct store_tmp *t, const void *buf,
    size_t len)
{
	return s->ops->tmp_write(s, t, buf, len);
}

enum store_error
store_tmp_sync(struct store *s, struct store_tmp *t)
{
	return s->ops->tmp_sync(s, t);
}

enum store_error
store_part_open(struct store *s, const char *id, bool create,
    struct store_tmp *t)
{
	/* A backend without partial files: no resumable uploads. */
	if (s->ops->part_open == NULL)
		return STORE_ERR_UNSUPPORTED;
	if (!store_part_id_ok(id)) {
		t->fd = -1;
		t->name[0] = '\0';
		t->backend = NULL;
		return STORE_ERR_NOENT;
	}
	return s->ops->part_open(s, id, create, t);
}

enum store_error
store_part_hold(struct store *s, const char *id, long *wait_ms,
    struct store_tmp *t)
{
	struct timespec	 ts;
	enum store_error e;

	while ((e = store_part_open(s, id, false, t)) == STORE_ERR_BUSY &&
	    *wait_ms > 0) {
		ts.tv_sec = 0;
		ts.tv_nsec = STORE_PART_RETRY_MS * 1000000L;
		while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
			;
		*wait_ms -= STORE_PART_RETRY_MS;
	}
	return e;
}

enum store_error
store_part_cut(struct store *s, struct store_tmp *t, uint64_t offset)
{
	if (s->ops->part_cut == NULL)
		return STORE_ERR_UNSUPPORTED;
	return s->ops->part_cut(s, t, offset);
}

void
store_part_close(struct store *s, struct store_tmp *t)
{
	if (s->ops->part_close != NULL)
		s->ops->part_close(s, t);
}

bool
store_part_locks(struct store *s)
{
	return s->ops->part_open != NULL && s->ops->part_locks;
}

enum store_error
store_part_sync(struct store *s, struct store_tmp *t)
{
	if (s->ops->part_sync == NULL)
		return STORE_ERR_UNSUPPORTED;
	return s->ops->part_sync(s, t);
}

enum store_error
store_part_seal(struct store *s, struct store_tmp *t)
{
	if (s->ops->part_seal == NULL)
		return STORE_ERR_UNSUPPORTED;
	return s->ops->part_seal(s, t);
}

enum store_error
store_part_sealed(struct store *s, struct store_tmp *t, uint64_t size)
{
	if (s->ops->part_sealed == NULL)
		return STORE_ERR_UNSUPPORTED;
	return s->ops->part_sealed(s, t, size);
}

long
store_tmp_read(struct store *s, struct store_tmp *t, void *buf, size_t len,
    uint64_t off)
{
	return s->ops->tmp_read(s, t, buf, len, off);
}

int
store_part_remove(struct store *s, const char *id)
{
	/* No partial files, or none of such a name: nothing to remove. */
	if (s->ops->part_remove == NULL || !store_part_id_ok(id))
		return 0;
	return s->ops->part_remove(s, id);
}

enum store_error
store_tmp_commit(struct store *s, struct store_tmp *t, const char *hash)
{
	return s->ops->tmp_commit(s, t, hash);
}

void
store_tmp_abort(struct store *s, struct store_tmp *t)
{
	s->ops->tmp_abort(s, t);
}

enum store_error
store_trash(struct store *s, const char *hash, struct store_trash *t)
{
	enum store_error e;

	t->name[0] = '\0';
	t->lock = -1;
	if ((e = s->ops->trash(s, hash, t)) != STORE_OK)
		t->name[0] = '\0';
	return e;
}

enum store_error
store_untrash(struct store *s, struct store_trash *t, const char *hash)
{
	return s->ops->untrash(s, t, hash);
}

void
store_purge(struct store *s, struct store_trash *t)
{
	s->ops->purge(s, t);
}

void
store_trash_name(struct store_trash *t, const char *name)
{
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->lock = -1;
}

bool
store_exists(struct store *s, const char *hash)
{
	return s->ops->exists(s, hash);
}

enum store_error
store_check(struct store *s)
{
	return s->ops->check(s);
}

enum store_error
store_locate(struct store *s, const char *hash, const char *digest,
    char *out, size_t outlen)
{
	return s->ops->locate(s, hash, digest, out, outlen);
}

int
store_sweep(struct store *s, int upload_grace, int trash_grace)
{
	struct store_walk	*w;
	struct store_entry	 e;
	int			 n = 0;

	if ((w = store_walk_tmp(s, upload_grace, trash_grace)) == NULL)
		return 0;
	while (store_walk_next(w, &e) == 1) {
		if (e.kind == STORE_ENTRY_UPLOAD)
			n += store_walk_remove(w) == 0;
		else if (e.kind == STORE_ENTRY_TRASH) {
			/* Back to an empty place, else it goes. */
			if (e.hash[0] == '\0' ||
			    s->ops->walk_restore(w, &e) == -1)
				(void)store_walk_remove(w);
			n++;
		}
	}
	store_walk_close(w);
	return n;
}

struct store_walk *
store_walk_files(struct store *s)
{
	return s->ops->walk_files(s);
}

struct store_walk *
store_walk_tmp(struct store *s, int upload_grace, int trash_grace)
{
	return s->ops->walk_tmp(s, upload_grace, trash_grace);
}

int
store_walk_next(struct store_walk *w, struct store_entry *e)
{
	return w->store->ops->walk_next(w, e);
}

int
store_walk_remove(struct store_walk *w)
{
	return w->store->ops->walk_remove(w);
}

void
store_walk_close(struct store_walk *w)
{
	if (w != NULL)
		w->store->ops->walk_close(w);
}

int
store_find_trash(struct store *s, const char *hash, struct store_trash *t)
{
	char	 name[STORE_TRASH_MAX];
	int	 rc;

	if ((rc = s->ops->find_trash(s, hash, name, sizeof(name))) == 1)
		store_trash_name(t, name);
	return rc;
}

bool
store_trash_is(struct store *s, const char *trash,
    const struct store_stat *seen)
{
	return s->ops->trash_is(s, trash, seen);
}

int
store_quarantine(struct store *s, const char *hash, char *where,
    size_t wherelen)
{
	return s->ops->quarantine(s, hash, where, wherelen);
}

int
store_unquarantine(struct store *s, const char *hash)
{
	return s->ops->unquarantine(s, hash);
}

int
store_verify(struct store *s, const char *hash, char got[HASH_HEX_LEN + 1])
{
	return s->ops->verify(s, hash, got);
}
