/*
 * The local backend: DATA_DIR on a POSIX file system.
 *
 *   DATA_DIR/ab/cd/<hash>	a stored file (ab, cd: its first four digits)
 *   (anonymous)		an upload's temp file, O_TMPFILE, where it works
 *   DATA_DIR/tmp/new-<id>	a named temp file just created, not yet locked
 *   DATA_DIR/tmp/upload-<id>	a named temp file locked by its live upload
 *   DATA_DIR/tmp/trash-<hash>-<id>  a file being deleted, locked by its
 *				worker until the COMMIT
 *   DATA_DIR/tmp/part-<upload id>  a resumable upload's bytes so far; its
 *				row in uploads says how many count
 *   DATA_DIR/lost+found/<hash>	a corrupt file fsck took out of service
 *
 * <id> is the pid and random bits.  The locks are flock(2) locks: they die
 * with their process, which is how an abandoned file is told apart.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "hash.h"
#include "store.h"
#include "store_impl.h"

#define LOCATION	"/_fileupload_content/"	/* nginx's alias of DATA_DIR */
#define REL_MAX		(6 + HASH_HEX_LEN + 1)	/* "ab/cd/" + hash + NUL */
#define TMP_DIR		"tmp"
#define LOST_FOUND	"lost+found"
#define NEW_PREFIX	"new-"		/* created, not yet locked */
#define UPLOAD_PREFIX	"upload-"	/* locked by its live upload */
#define TRASH_PREFIX	"trash-"	/* locked by its live delete */
#define PART_PREFIX	"part-"		/* a resumable upload's */
#define NEW_AGE		(60 * 60)	/* a "new-" file is never this old */
#define FILE_MODE	0640
#define DIR_MODE	0750
#define READ_CHUNK	65536

/* A file of tmp/ held locked by this process; fd -1: none. */
struct held {
	int		 fd;
	char		 name[STORE_PATH_MAX];
};

struct local {
	struct store	 base;
	int		 dirfd;		/* DATA_DIR */
	int		 tmpfd;		/* DATA_DIR/tmp */
	bool		 anonymous;	/* O_TMPFILE works here (probe_anonymous) */
};

static const struct store_ops local_ops;
static bool	probe_anonymous(struct local *);

static struct local *
local(struct store *s)
{
	return (struct local *)s;
}

/* Holds fd's lock on tmp/name (after letting go of any other). */
static void
hold(struct held *h, int fd, const char *name)
{
	if (h->fd >= 0)
		close(h->fd);
	h->fd = fd;
	snprintf(h->name, sizeof(h->name), "%s", fd >= 0 ? name : "");
}

static void
local_close(struct store *s)
{
	struct local	*l = local(s);

	if (l->tmpfd >= 0)
		close(l->tmpfd);
	if (l->dirfd >= 0)
		close(l->dirfd);
	free(l);
}

/* Opens DATA_DIR/tmp, never through a symbolic link; -1 with errno. */
static int
open_tmp(struct local *l, const char *data_dir, char *err, size_t errlen)
{
	struct stat	 st;
	int		 e;

	if (mkdirat(l->dirfd, TMP_DIR, DIR_MODE) == -1 && errno != EEXIST) {
		e = errno;
		snprintf(err, errlen, "%s/" TMP_DIR ": %s", data_dir,
		    strerror(e));
		errno = e;
		return -1;
	}
	if ((l->tmpfd = openat(l->dirfd, TMP_DIR,
	    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) != -1)
		return 0;
	e = errno;
	if (fstatat(l->dirfd, TMP_DIR, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode)) {
		snprintf(err, errlen, "%s/" TMP_DIR " is a symbolic link; "
		    "it must be a directory of DATA_DIR's own", data_dir);
		e = ELOOP;
	} else
		snprintf(err, errlen, "%s/" TMP_DIR ": %s", data_dir,
		    strerror(e));
	errno = e;
	return -1;
}

struct store *
store_local_open(const struct store_config *cfg, char *err, size_t errlen)
{
	const char	*data_dir = cfg->data_dir;
	struct local	*l;
	int		 e;

	if ((l = calloc(1, sizeof(*l))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->base.ops = &local_ops;
	l->tmpfd = -1;
	if ((l->dirfd = open(data_dir,
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		e = errno;
		snprintf(err, errlen, "%s: %s", data_dir, strerror(e));
		free(l);
		errno = e;
		return NULL;
	}
	if (open_tmp(l, data_dir, err, errlen) == -1) {
		e = errno;
		local_close(&l->base);
		errno = e;
		return NULL;
	}
	l->anonymous = !cfg->named_temp_files && probe_anonymous(l);
	return &l->base;
}

/* "ab/cd/<hash>": where the file of hash is, from DATA_DIR. */
static void
relpath(const char *hash, char out[REL_MAX])
{
	snprintf(out, REL_MAX, "%.2s/%.2s/%.64s", hash, hash + 2, hash);
}

/* "ab/cd" of hash: the directory its file is in. */
static void
fan_dir(const char *hash, char out[6])
{
	snprintf(out, 6, "%.2s/%.2s", hash, hash + 2);
}

static bool
has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* A name no other worker or request can pick: pid plus random bits. */
static void
unique_name(const char *prefix, const char *tag, char *out, size_t outlen)
{
	uint32_t	 r[2];

	randombytes_buf(r, sizeof(r));	/* one getrandom, not two */
	snprintf(out, outlen, "%s%s%s%ld-%08x%08x", prefix, tag,
	    *tag != '\0' ? "-" : "", (long)getpid(), r[0], r[1]);
}

/*
 * Upload temp files are anonymous (O_TMPFILE) where the file system and
 * /proc allow linking one into place: they have no name until their
 * final one, so creating one touches no directory (no lock on tmp/ shared
 * by every upload of the host, no renames), and a crash leaves nothing
 * behind for a sweep.  Probed once: made, linked to a name, removed.
 */
static bool
probe_anonymous(struct local *l)
{
	char	 proc[40], name[64], id[40];
	int	 fd, ok;

	if ((fd = openat(l->tmpfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC,
	    FILE_MODE)) == -1)
		return false;
	unique_name("probe-", "", id, sizeof(id));
	snprintf(name, sizeof(name), "%s", id);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	ok = linkat(AT_FDCWD, proc, l->tmpfd, name, AT_SYMLINK_FOLLOW) == 0;
	if (ok)
		(void)unlinkat(l->tmpfd, name, 0);
	close(fd);
	return ok;
}

/*
 * The hash a trash name "trash-<hash>-<id>" carries, lowercased into out:
 * true, or false when it names none.
 */
static bool
trash_hash(const char *name, char out[HASH_HEX_LEN + 1])
{
	const char	*h = name + strlen(TRASH_PREFIX);

	return has_prefix(name, TRASH_PREFIX) && strlen(h) > HASH_HEX_LEN &&
	    h[HASH_HEX_LEN] == '-' && hash_parse(h, HASH_HEX_LEN, out);
}

/* ------------------------------------------------------------ temp files */

static enum store_error
local_tmp_create(struct store *s, struct store_tmp *t)
{
	struct local	*l = local(s);
	char		 id[40], fresh[sizeof(t->name)];
	int		 e;

	t->size = t->queued = 0;
	if (l->anonymous) {
		t->name[0] = '\0';
		t->fd = openat(l->tmpfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC,
		    FILE_MODE);
		return t->fd == -1 ? store_errno(errno) : STORE_OK;
	}
	unique_name("", "", id, sizeof(id));
	snprintf(fresh, sizeof(fresh), "%s%s", NEW_PREFIX, id);
	snprintf(t->name, sizeof(t->name), "%s%s", UPLOAD_PREFIX, id);
	/* Readable too: an upload may hash it again (upload.c, sha256). */
	t->fd = openat(l->tmpfd, fresh,
	    O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, FILE_MODE);
	if (t->fd == -1) {
		t->name[0] = '\0';
		return store_errno(errno);
	}
	/*
	 * The lock is held until the fd closes, however the process ends, so
	 * a sweep takes an unlocked upload-* file for a dead worker's.  The
	 * file only gets its upload-* name once locked: a sweep can never
	 * catch it between the two.
	 */
	if (flock(t->fd, LOCK_EX | LOCK_NB) == -1 ||
	    renameat(l->tmpfd, fresh, l->tmpfd, t->name) == -1) {
		e = errno;
		(void)unlinkat(l->tmpfd, fresh, 0);
		close(t->fd);
		t->fd = -1;
		t->name[0] = '\0';
		return store_errno(e);
	}
	return STORE_OK;
}

static enum store_error
local_tmp_write(struct store *s, struct store_tmp *t, const void *buf,
    size_t len)
{
	const char	*p = buf;
	ssize_t		 n;

	(void)s;
	while (len > 0) {
		if ((n = write(t->fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return store_errno(errno);
		}
		p += n;
		len -= n;
		t->size += n;
	}
	/* Only starts the writes; store_tmp_sync still waits for them all. */
	if (t->size - t->queued >= STORE_WRITEBACK_STEP) {
		(void)sync_file_range(t->fd, (off_t)t->queued,
		    (off_t)(t->size - t->queued), SYNC_FILE_RANGE_WRITE);
		t->queued = t->size;
	}
	return STORE_OK;
}

static enum store_error
local_tmp_sync(struct store *s, struct store_tmp *t)
{
	(void)s;
	if (fdatasync(t->fd) == -1)
		return store_errno(errno);
	return STORE_OK;
}

/* mkdir that tolerates an existing directory. */
static int
ensure_dir(int dirfd, const char *path)
{
	if (mkdirat(dirfd, path, DIR_MODE) == 0)
		return 0;
	return errno == EEXIST ? 0 : -1;
}

/* fsync of a directory by path relative to dirfd ("." for itself). */
static int
sync_dir(int dirfd, const char *path)
{
	int	 fd, rc, e;

	if ((fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(fd);
	e = errno;
	close(fd);
	errno = e;
	return rc;
}

static void
local_tmp_abort(struct store *s, struct store_tmp *t)
{
	if (t->name[0] != '\0')
		(void)unlinkat(local(s)->tmpfd, t->name, 0);
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	t->name[0] = '\0';
}

static long
local_tmp_read(struct store *s, struct store_tmp *t, void *buf, size_t len,
    uint64_t off)
{
	(void)s;
	return (long)pread(t->fd, buf, len, (off_t)off);
}

/*
 * Gives the temp file its final name rel: a named one is renamed over
 * whatever file is there, an anonymous one linked.  A link cannot
 * replace, so when rel is taken (by the same bytes, or by a damaged copy
 * an upload must heal), the anonymous file gets a temp name first and is
 * renamed like a named one.
 */
static int
place(struct local *l, struct store_tmp *t, const char *rel)
{
	char	 proc[40], id[40];

	if (t->name[0] != '\0')
		return renameat(l->tmpfd, t->name, l->dirfd, rel);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", t->fd);
	if (linkat(AT_FDCWD, proc, l->dirfd, rel, AT_SYMLINK_FOLLOW) == 0)
		return 0;
	if (errno != EEXIST)
		return -1;
	unique_name("", "", id, sizeof(id));
	snprintf(t->name, sizeof(t->name), "%s%s", UPLOAD_PREFIX, id);
	if (linkat(AT_FDCWD, proc, l->tmpfd, t->name, AT_SYMLINK_FOLLOW) == -1) {
		t->name[0] = '\0';
		return -1;
	}
	return renameat(l->tmpfd, t->name, l->dirfd, rel);
}

static enum store_error
local_tmp_commit(struct store *s, struct store_tmp *t, const char *hash)
{
	struct local	*l = local(s);
	char		 rel[REL_MAX], dir1[3], dir2[6];
	int		 e;

	relpath(hash, rel);
	snprintf(dir1, sizeof(dir1), "%.2s", rel);
	fan_dir(hash, dir2);

	/*
	 * rename replaces a file already there; by construction it holds the
	 * same bytes (same hash), so readers see one or the other, both whole.
	 * The fan-out directories mostly exist already: they are made, durable
	 * before the name that goes in them, only when the rename says so.
	 */
	if (place(l, t, rel) == -1) {
		if (errno != ENOENT)
			goto fail;
		if (ensure_dir(l->dirfd, dir1) == -1 ||
		    ensure_dir(l->dirfd, dir2) == -1)
			goto fail;
		/* Also when another worker made them: it may not have synced. */
		if (sync_dir(l->dirfd, ".") == -1 ||
		    sync_dir(l->dirfd, dir1) == -1)
			goto fail;
		if (place(l, t, rel) == -1)
			goto fail;
	}
	t->name[0] = '\0';
	close(t->fd);
	t->fd = -1;
	/* The new name is what must survive a crash; tmp/ losing one is moot. */
	if (sync_dir(l->dirfd, dir2) == -1)
		return store_errno(errno);
	return STORE_OK;
fail:
	e = errno;
	local_tmp_abort(s, t);
	return store_errno(e);
}

/* -------------------------------------------- resumable uploads' files */

/*
 * Locks an open partial file, and checks that its name still leads to it:
 * a writer that held the lock may have renamed it into place (completion)
 * or removed it meanwhile.  0, or -1 with errno (EWOULDBLOCK: held).
 */
static int
part_lock(struct local *l, struct store_tmp *t)
{
	struct stat	 st, now;

	if (flock(t->fd, LOCK_EX | LOCK_NB) == -1)
		return -1;
	if (fstat(t->fd, &st) == -1)
		return -1;
	if (fstatat(l->tmpfd, t->name, &now, AT_SYMLINK_NOFOLLOW) == -1 ||
	    now.st_dev != st.st_dev || now.st_ino != st.st_ino ||
	    !S_ISREG(st.st_mode)) {
		errno = ENOENT;
		return -1;
	}
	return 0;
}

static enum store_error
local_part_open(struct store *s, const char *id, bool create,
    struct store_tmp *t)
{
	struct local	*l = local(s);
	int		 e;

	t->size = t->queued = 0;
	snprintf(t->name, sizeof(t->name), PART_PREFIX "%s", id);
	t->fd = openat(l->tmpfd, t->name, O_RDWR | O_NOFOLLOW | O_CLOEXEC |
	    (create ? O_CREAT | O_EXCL : 0), FILE_MODE);
	if (t->fd == -1 || part_lock(l, t) == -1)
		goto fail;
	/* The name must outlive a crash once the row refers to it. */
	if (create && fsync(l->tmpfd) == -1)
		goto fail;
	return STORE_OK;
fail:
	e = errno;
	if (create && t->fd >= 0)
		(void)unlinkat(l->tmpfd, t->name, 0);
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	t->name[0] = '\0';
	return e == EWOULDBLOCK ? STORE_ERR_BUSY : store_errno(e);
}

static enum store_error
local_part_cut(struct store *s, struct store_tmp *t, uint64_t offset)
{
	struct stat	 st;

	(void)s;
	if (fstat(t->fd, &st) == -1)
		return store_errno(errno);
	if ((uint64_t)st.st_size < offset)
		return STORE_ERR_NOENT;
	if (((uint64_t)st.st_size > offset &&
	    ftruncate(t->fd, (off_t)offset) == -1) ||
	    lseek(t->fd, (off_t)offset, SEEK_SET) == -1)
		return store_errno(errno);
	t->size = t->queued = offset;
	return STORE_OK;
}

static void
local_part_close(struct store *s, struct store_tmp *t)
{
	(void)s;
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	t->name[0] = '\0';
}

/* A partial file is readable as it is: fsynced before its offset commits. */
static enum store_error
local_part_seal(struct store *s, struct store_tmp *t)
{
	return local_tmp_sync(s, t);
}

static enum store_error
local_part_sealed(struct store *s, struct store_tmp *t, uint64_t size)
{
	struct stat	 st;

	(void)s;
	if (fstat(t->fd, &st) == -1)
		return store_errno(errno);
	if ((uint64_t)st.st_size < size)
		return STORE_ERR_NOENT;
	t->size = size;
	return STORE_OK;
}

static int
local_part_remove(struct store *s, const char *id)
{
	struct store_tmp t = { .fd = -1 };
	enum store_error e;

	if ((e = local_part_open(s, id, false, &t)) == STORE_ERR_NOENT)
		return 0;
	if (e != STORE_OK)
		return -1;
	/* Unlinked while locked: no writer can take it up now. */
	local_tmp_abort(s, &t);
	return 0;
}

/* ----------------------------------------------------------------- trash */

/*
 * tmp/trash back to the place of hash, never over a file there: 0, or -1
 * with errno (EEXIST: the place is taken).
 */
static int
untrash(struct local *l, const char *trash, const char *hash)
{
	char	 rel[REL_MAX], dir2[6];

	relpath(hash, rel);
	fan_dir(hash, dir2);
	if (renameat2(l->tmpfd, trash, l->dirfd, rel, RENAME_NOREPLACE) == -1) {
		if (errno != EINVAL && errno != ENOSYS)
			return -1;
		/* No RENAME_NOREPLACE on this file system: link refuses too. */
		if (linkat(l->tmpfd, trash, l->dirfd, rel, 0) == -1)
			return -1;
		(void)unlinkat(l->tmpfd, trash, 0);
	}
	if (sync_dir(l->dirfd, dir2) == -1 || fsync(l->tmpfd) == -1)
		return -1;
	return 0;
}

static enum store_error
untrash_error(int e)
{
	return e == EEXIST ? STORE_ERR_EXISTS : store_errno(e);
}

/* Lets go of a delete's lock on its trash file. */
static void
let_go(struct store_trash *t)
{
	if (t->lock >= 0)
		close(t->lock);
	t->lock = -1;
}

static enum store_error
local_trash(struct store *s, const char *hash, struct store_trash *t)
{
	struct local	*l = local(s);
	char		 rel[REL_MAX], dir2[6];
	int		 fd, e;

	relpath(hash, rel);
	fan_dir(hash, dir2);
	/* The hash in the name lets a sweep put an abandoned trash file back. */
	unique_name(TRASH_PREFIX, hash, t->name, sizeof(t->name));
	/*
	 * Locked before it moves, held until purge or untrash: the lock dies
	 * with the worker, which tells a sweep the delete will never finish.
	 */
	if ((fd = openat(l->dirfd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return store_errno(errno);
	(void)flock(fd, LOCK_EX | LOCK_NB);
	if (renameat(l->dirfd, rel, l->tmpfd, t->name) == -1) {
		e = errno;
		close(fd);
		return store_errno(e);
	}
	/* A sweep ages trash by mtime: count from now, not from the upload. */
	(void)utimensat(l->tmpfd, t->name, NULL, 0);
	if (sync_dir(l->dirfd, dir2) == -1 || fsync(l->tmpfd) == -1) {
		/*
		 * The move may not be durable, and the caller keeps the row:
		 * the file goes back to its place, or downloads would find
		 * it missing.
		 */
		e = errno;
		(void)untrash(l, t->name, hash);
		close(fd);	/* if it stays in tmp/, a sweep puts it back */
		return store_errno(e);
	}
	t->lock = fd;
	return STORE_OK;
}

static enum store_error
local_untrash(struct store *s, struct store_trash *t, const char *hash)
{
	struct local	*l = local(s);
	int		 rc = untrash(l, t->name, hash), e = errno;

	/* Back or not, this worker is done with it: a sweep may take over. */
	let_go(t);
	errno = e;
	return rc == 0 ? STORE_OK : untrash_error(e);
}

static void
local_purge(struct store *s, struct store_trash *t)
{
	(void)unlinkat(local(s)->tmpfd, t->name, 0);
	let_go(t);
}

static bool
local_exists(struct store *s, const char *hash)
{
	char		 rel[REL_MAX];
	struct stat	 st;

	relpath(hash, rel);
	return fstatat(local(s)->dirfd, rel, &st, 0) == 0 &&
	    S_ISREG(st.st_mode);
}

/* DATA_DIR takes an upload when a temp file can be made in tmp/. */
static enum store_error
local_check(struct store *s)
{
	struct store_tmp probe = { .fd = -1 };
	enum store_error e;

	e = local_tmp_create(s, &probe);
	local_tmp_abort(s, &probe);
	return e;
}

static enum store_error
local_locate(struct store *s, const char *hash, const char *digest,
    char *out, size_t outlen)
{
	char	 rel[REL_MAX];

	/* Its location reads the worker's X-Fileupload-Repr-Digest. */
	(void)digest;
	if (!local_exists(s, hash))
		return STORE_ERR_NOENT;
	relpath(hash, rel);
	snprintf(out, outlen, "%s%s", LOCATION, rel);
	return STORE_OK;
}

static void
stat_of(const struct stat *st, struct store_stat *out)
{
	out->size = (uint64_t)st->st_size;
	out->mtime = st->st_mtime;
	out->id[0] = (uint64_t)st->st_dev;
	out->id[1] = (uint64_t)st->st_ino;
}

static bool
local_trash_is(struct store *s, const char *trash,
    const struct store_stat *seen)
{
	struct stat	 st;
	struct store_stat now;

	if (fstatat(local(s)->tmpfd, trash, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return false;
	stat_of(&st, &now);
	return now.id[0] == seen->id[0] && now.id[1] == seen->id[1];
}

/* ------------------------------------------------------------ lost+found */

/*
 * Moves the file of hash to DATA_DIR/lost+found/<hash>, making the
 * directory when needed.
 */
static int
local_quarantine(struct store *s, const char *hash, char *where,
    size_t wherelen)
{
	struct local	*l = local(s);
	char		 rel[REL_MAX], dir2[6];
	int		 lfd, e;

	relpath(hash, rel);
	fan_dir(hash, dir2);
	if (mkdirat(l->dirfd, LOST_FOUND, DIR_MODE) == 0) {
		if (fsync(l->dirfd) == -1)
			return -1;
	} else if (errno != EEXIST)
		return -1;
	if ((lfd = openat(l->dirfd, LOST_FOUND,
	    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	if (renameat(l->dirfd, rel, lfd, hash) == -1 || fsync(lfd) == -1 ||
	    sync_dir(l->dirfd, dir2) == -1) {
		e = errno;
		close(lfd);
		errno = e;
		return -1;
	}
	close(lfd);
	snprintf(where, wherelen, LOST_FOUND "/%s", hash);
	return 0;
}

static int
local_unquarantine(struct store *s, const char *hash)
{
	struct local	*l = local(s);
	char		 rel[REL_MAX];
	char		 from[sizeof(LOST_FOUND) + HASH_HEX_LEN + 1];

	relpath(hash, rel);
	snprintf(from, sizeof(from), LOST_FOUND "/%s", hash);
	return renameat(l->dirfd, from, l->dirfd, rel);
}

static int
local_verify(struct store *s, const char *hash, char got[HASH_HEX_LEN + 1])
{
	struct hash_ctx	 h;
	unsigned char	 buf[READ_CHUNK];
	char		 rel[REL_MAX];
	ssize_t		 n;
	int		 fd, e;

	relpath(hash, rel);
	if ((fd = openat(local(s)->dirfd, rel,
	    O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	hash_init(&h);
	for (;;) {
		if ((n = read(fd, buf, sizeof(buf))) == -1) {
			if (errno == EINTR)
				continue;
			e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		if (n == 0)
			break;
		hash_update(&h, buf, n);
	}
	close(fd);
	hash_final_hex(&h, got);
	return strcmp(got, hash) == 0;
}

/* ----------------------------------------------------------------- walks */

/*
 * The entries of one directory, sorted bytewise.  Memory is bounded by the
 * size of that directory, never by the size of DATA_DIR.
 */
struct names {
	char	**v;
	size_t	  n;
	size_t	  cap;
	size_t	  next;		/* the walk's position */
};

static void
names_free(struct names *l)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads and sorts dirfd's entries but "." and "..": 0, or -1 with errno. */
static int
names_load(int dirfd, struct names *l)
{
	DIR		*d;
	struct dirent	*de;
	char		**v;
	int		 fd, e;

	memset(l, 0, sizeof(*l));
	/* A descriptor of its own: a dup would share dirfd's offset. */
	if ((fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0)
				goto fail;
			break;
		}
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (l->n == l->cap) {
			size_t	 cap = l->cap > 0 ? l->cap * 2 : 64;

			if ((v = reallocarray(l->v, cap, sizeof(*v))) == NULL)
				goto fail;
			l->v = v;
			l->cap = cap;
		}
		if ((l->v[l->n] = strdup(de->d_name)) == NULL)
			goto fail;
		l->n++;
	}
	closedir(d);
	if (l->n > 0)
		qsort(l->v, l->n, sizeof(*l->v), cmp_names);
	return 0;
fail:
	e = errno;
	closedir(d);
	names_free(l);
	errno = e;
	return -1;
}

/*
 * Either walk.  The walk of the files keeps a level per directory: 0 is
 * DATA_DIR, 1 an ab/ directory, 2 an ab/cd/ directory, fd[1] and fd[2]
 * the open ab/ and ab/cd/.  The walk of tmp/ uses level 0 only, fd[0]
 * being tmp/, and holds the current entry's lock.
 */
struct local_walk {
	struct store_walk base;
	bool		 tmp;
	int		 upload_grace, trash_grace;
	time_t		 now;
	struct names	 level[3];
	int		 fd[3];
	int		 depth;		/* levels loaded */
	char		 dir[6];	/* "ab" or "ab/cd" */
	struct held	 held;		/* tmp: the current entry */
};

static struct local_walk *
walk_new(struct store *s, bool tmp, int dirfd)
{
	struct local_walk	*w;
	int			 e;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->base.store = s;
	w->tmp = tmp;
	w->fd[0] = dirfd;
	w->fd[1] = w->fd[2] = w->held.fd = -1;
	w->now = time(NULL);
	if (names_load(dirfd, &w->level[0]) == -1) {
		e = errno;
		free(w);
		errno = e;
		return NULL;
	}
	w->depth = 1;
	return w;
}

static struct store_walk *
local_walk_files(struct store *s)
{
	struct local_walk	*w = walk_new(s, false, local(s)->dirfd);

	return w != NULL ? &w->base : NULL;
}

static struct store_walk *
local_walk_tmp(struct store *s, int upload_grace, int trash_grace)
{
	struct local_walk	*w = walk_new(s, true, local(s)->tmpfd);

	if (w == NULL)
		return NULL;
	w->upload_grace = upload_grace;
	w->trash_grace = trash_grace;
	return &w->base;
}

static void
local_walk_close(struct store_walk *sw)
{
	struct local_walk	*w = (struct local_walk *)sw;
	int			 i;

	hold(&w->held, -1, NULL);
	for (i = 0; i < 3; i++) {
		names_free(&w->level[i]);
		if (i > 0 && w->fd[i] >= 0)
			close(w->fd[i]);
	}
	free(w);
}

/* Fills e's path and name: dir ("" for the root), then name. */
static void
entry_at(struct store_entry *e, enum store_entry_kind kind, const char *dir,
    const char *name)
{
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	snprintf(e->path, sizeof(e->path), "%s%s%s", dir,
	    *dir != '\0' ? "/" : "", name);
	snprintf(e->name, sizeof(e->name), "%s", name);
}

static void
entry_error(struct store_entry *e, const char *dir, const char *name, int err)
{
	entry_at(e, STORE_ENTRY_ERROR, dir, name);
	e->error = err;
}

/* A stored file's name: exactly 64 lowercase hex digits. */
static bool
is_hash_name(const char *s)
{
	char	 h[HASH_HEX_LEN + 1];

	return hash_parse(s, strlen(s), h) && strcmp(h, s) == 0;
}

/* A fan-out directory's name: two lowercase hex digits. */
static bool
is_fan_name(const char *s)
{
	int	 i;

	for (i = 0; i < 2; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[2] == '\0';
}

/*
 * Enters the fan-out directory name at the current level: 1 entered, 0
 * when it is not one (e is then a STRAY or an ERROR to report), -1 when it
 * vanished.
 */
static int
walk_enter(struct local_walk *w, const char *name, struct store_entry *e)
{
	int		 d = w->depth, fd, err;
	const char	*dir = d == 1 ? "" : w->dir;

	if ((fd = openat(w->fd[d - 1], name,
	    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return -1;
		if (errno == ENOTDIR || errno == ELOOP)
			entry_at(e, STORE_ENTRY_STRAY, dir, name);
		else
			entry_error(e, dir, name, errno);
		return 0;
	}
	if (names_load(fd, &w->level[d]) == -1) {
		err = errno;
		close(fd);
		entry_error(e, dir, name, err);
		return 0;
	}
	w->fd[d] = fd;
	if (d == 1)
		snprintf(w->dir, sizeof(w->dir), "%s", name);
	else
		snprintf(w->dir + 2, sizeof(w->dir) - 2, "/%s", name);
	w->depth++;
	return 1;
}

/* Leaves the innermost directory once its names are done. */
static void
walk_leave(struct local_walk *w)
{
	int	 d = --w->depth;

	names_free(&w->level[d]);
	close(w->fd[d]);
	w->fd[d] = -1;
	w->dir[d == 2 ? 2 : 0] = '\0';
}

/* One name of the files walk: 1 with e filled, 0 for nothing to say. */
static int
files_entry(struct local_walk *w, const char *name, struct store_entry *e)
{
	struct stat	 st;

	if (w->depth == 3) {
		if (fstatat(w->fd[2], name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
			if (errno == ENOENT)
				return 0;
			entry_error(e, w->dir, name, errno);
			return 1;
		}
		/* Well named, and in the directory its name says. */
		if (S_ISREG(st.st_mode) && is_hash_name(name) &&
		    strncmp(name, w->dir, 2) == 0 &&
		    strncmp(name + 2, w->dir + 3, 2) == 0) {
			entry_at(e, STORE_ENTRY_FILE, w->dir, name);
			memcpy(e->hash, name, HASH_HEX_LEN + 1);
			stat_of(&st, &e->st);
			return 1;
		}
		entry_at(e, STORE_ENTRY_STRAY, w->dir, name);
		return 1;
	}
	if (w->depth == 1 && (strcmp(name, TMP_DIR) == 0 ||
	    strcmp(name, LOST_FOUND) == 0)) {
		/* Ours, and not stored files. */
		if (fstatat(w->fd[0], name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISDIR(st.st_mode))
			return 0;
		entry_at(e, STORE_ENTRY_STRAY, "", name);
		return 1;
	}
	if (!is_fan_name(name)) {
		entry_at(e, STORE_ENTRY_STRAY, w->depth == 1 ? "" : w->dir,
		    name);
		return 1;
	}
	return walk_enter(w, name, e) == 0;
}

/*
 * One name of tmp/: 1 with e filled (an abandoned file, locked in
 * w->held, a stray or an error), 0 for nothing to say (young or locked).
 */
static int
tmp_entry(struct local_walk *w, const char *name, struct store_entry *e)
{
	struct stat	 st;
	bool		 fresh, upload, trash;
	int		 grace, fd;

	if (fstatat(w->fd[0], name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno == ENOENT)
			return 0;
		entry_error(e, TMP_DIR, name, errno);
		return 1;
	}
	/*
	 * The uploads table owns these (its expiry sweep removes them): they
	 * are told for a look at the table, and only once quiet for a while.
	 */
	if (has_prefix(name, PART_PREFIX) && S_ISREG(st.st_mode)) {
		if (w->now - st.st_mtime < w->upload_grace ||
		    !store_part_id_ok(name + strlen(PART_PREFIX)))
			return 0;
		entry_at(e, STORE_ENTRY_PART, TMP_DIR, name);
		snprintf(e->hash, sizeof(e->hash), "%s",
		    name + strlen(PART_PREFIX));
		stat_of(&st, &e->st);
		return 1;
	}
	fresh = has_prefix(name, NEW_PREFIX);
	upload = has_prefix(name, UPLOAD_PREFIX);
	trash = has_prefix(name, TRASH_PREFIX);
	if (!S_ISREG(st.st_mode) || (!fresh && !upload && !trash)) {
		entry_at(e, STORE_ENTRY_STRAY, TMP_DIR, name);
		return 1;
	}
	grace = trash ? w->trash_grace : w->upload_grace;
	if (fresh && grace < NEW_AGE)
		grace = NEW_AGE;
	if (w->now - st.st_mtime < grace)
		return 0;
	if ((fd = openat(w->fd[0], name,
	    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		entry_error(e, TMP_DIR, name, errno);
		return 1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		int	 err = errno;

		close(fd);
		if (err == EWOULDBLOCK)
			return 0;	/* a live upload's or delete's */
		entry_error(e, TMP_DIR, name, err);
		return 1;
	}
	hold(&w->held, fd, name);
	entry_at(e, trash ? STORE_ENTRY_TRASH : STORE_ENTRY_UPLOAD, TMP_DIR,
	    name);
	if (trash && !trash_hash(name, e->hash))
		e->hash[0] = '\0';
	stat_of(&st, &e->st);
	return 1;
}

static int
local_walk_next(struct store_walk *sw, struct store_entry *e)
{
	struct local_walk	*w = (struct local_walk *)sw;
	struct names		*l;
	const char		*name;

	hold(&w->held, -1, NULL);
	while (w->depth > 0) {
		l = &w->level[w->depth - 1];
		if (l->next == l->n) {
			if (w->depth == 1)
				return 0;
			walk_leave(w);
			continue;
		}
		name = l->v[l->next++];
		if (w->tmp ? tmp_entry(w, name, e) : files_entry(w, name, e))
			return 1;
	}
	return 0;
}

static int
local_walk_remove(struct store_walk *sw)
{
	struct local_walk	*w = (struct local_walk *)sw;

	/* Unlinked while locked: no upload or delete can take it up now. */
	if (w->held.fd < 0) {
		errno = EINVAL;
		return -1;
	}
	if (unlinkat(w->fd[0], w->held.name, 0) == -1 && errno != ENOENT)
		return -1;
	return 0;
}

static int
local_find_trash(struct store *s, const char *hash, char *out, size_t outlen)
{
	struct local	*l = local(s);
	struct names	 n;
	struct stat	 st;
	char		 h[HASH_HEX_LEN + 1];
	size_t		 i;
	int		 found = 0;

	if (names_load(l->tmpfd, &n) == -1)
		return -1;
	for (i = 0; i < n.n && !found; i++) {
		if (!trash_hash(n.v[i], h) || strcmp(h, hash) != 0 ||
		    strlen(n.v[i]) >= outlen ||
		    fstatat(l->tmpfd, n.v[i], &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISREG(st.st_mode))
			continue;
		snprintf(out, outlen, "%s", n.v[i]);
		found = 1;
	}
	names_free(&n);
	return found;
}

/* An abandoned trash file back to its empty place (the sweep). */
static int
local_walk_restore(struct store_walk *sw, const struct store_entry *e)
{
	return untrash(local(sw->store), e->name, e->hash);
}

static const struct store_ops local_ops = {
	.location = LOCATION,
	.close = local_close,
	.tmp_create = local_tmp_create,
	.tmp_write = local_tmp_write,
	.tmp_sync = local_tmp_sync,
	.tmp_commit = local_tmp_commit,
	.tmp_abort = local_tmp_abort,
	.tmp_read = local_tmp_read,
	.part_open = local_part_open,
	.part_cut = local_part_cut,
	.part_close = local_part_close,
	.part_remove = local_part_remove,
	.part_sync = local_tmp_sync,
	.part_seal = local_part_seal,
	.part_sealed = local_part_sealed,
	.part_locks = true,
	.trash = local_trash,
	.untrash = local_untrash,
	.purge = local_purge,
	.exists = local_exists,
	.check = local_check,
	.locate = local_locate,
	.walk_files = local_walk_files,
	.walk_tmp = local_walk_tmp,
	.walk_next = local_walk_next,
	.walk_remove = local_walk_remove,
	.walk_restore = local_walk_restore,
	.walk_close = local_walk_close,
	.find_trash = local_find_trash,
	.trash_is = local_trash_is,
	.quarantine = local_quarantine,
	.unquarantine = local_unquarantine,
	.verify = local_verify,
};
