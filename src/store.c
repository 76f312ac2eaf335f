#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "hash.h"
#include "store.h"

#define FILE_MODE	0640
#define NEW_AGE		(60 * 60)	/* a "new-" file is never this old */
#define DIR_MODE	0750

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

int
store_open(struct store *s, const char *data_dir)
{
	s->dirfd = s->tmpfd = s->trash_fd = -1;
	if ((s->dirfd = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	if (mkdirat(s->dirfd, "tmp", DIR_MODE) == -1 && errno != EEXIST)
		goto fail;
	if ((s->tmpfd = openat(s->dirfd, "tmp",
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		goto fail;
	return 0;
fail:
	store_close(s);
	return -1;
}

void
store_close(struct store *s)
{
	if (s->tmpfd >= 0)
		close(s->tmpfd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	if (s->trash_fd >= 0)
		close(s->trash_fd);
	s->dirfd = s->tmpfd = s->trash_fd = -1;
}

void
store_relpath(const char *hash, char out[STORE_REL_MAX])
{
	snprintf(out, STORE_REL_MAX, "%.2s/%.2s/%.64s", hash, hash + 2, hash);
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

enum store_error
store_tmp_create(struct store *s, struct store_tmp *t)
{
	char	 id[40], fresh[sizeof(t->name)];
	int	 e;

	t->size = t->queued = 0;
	unique_name("", "", id, sizeof(id));
	snprintf(fresh, sizeof(fresh), "%s%s", STORE_NEW_PREFIX, id);
	snprintf(t->name, sizeof(t->name), "%s%s", STORE_TMP_PREFIX, id);
	t->fd = openat(s->tmpfd, fresh,
	    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, FILE_MODE);
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
	    renameat(s->tmpfd, fresh, s->tmpfd, t->name) == -1) {
		e = errno;
		(void)unlinkat(s->tmpfd, fresh, 0);
		close(t->fd);
		t->fd = -1;
		t->name[0] = '\0';
		return store_errno(e);
	}
	return STORE_OK;
}

enum store_error
store_tmp_write(struct store *s, struct store_tmp *t, const void *buf,
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

enum store_error
store_tmp_sync(struct store *s, struct store_tmp *t)
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
	int	 fd, rc;

	if ((fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int
store_sync_dir(struct store *s, const char *rel)
{
	return sync_dir(s->dirfd, rel);
}

enum store_error
store_tmp_commit(struct store *s, struct store_tmp *t, const char *hash)
{
	char	 rel[STORE_REL_MAX], dir1[3], dir2[6];
	int	 e;

	store_relpath(hash, rel);
	snprintf(dir1, sizeof(dir1), "%.2s", rel);
	snprintf(dir2, sizeof(dir2), "%.5s", rel);

	/*
	 * rename replaces a file already there; by construction it holds the
	 * same bytes (same hash), so readers see one or the other, both whole.
	 * The fan-out directories mostly exist already: they are made, durable
	 * before the name that goes in them, only when the rename says so.
	 */
	if (renameat(s->tmpfd, t->name, s->dirfd, rel) == -1) {
		if (errno != ENOENT)
			goto fail;
		if (ensure_dir(s->dirfd, dir1) == -1 ||
		    ensure_dir(s->dirfd, dir2) == -1)
			goto fail;
		/* Also when another worker made them: it may not have synced. */
		if (sync_dir(s->dirfd, ".") == -1 ||
		    sync_dir(s->dirfd, dir1) == -1)
			goto fail;
		if (renameat(s->tmpfd, t->name, s->dirfd, rel) == -1)
			goto fail;
	}
	t->name[0] = '\0';
	close(t->fd);
	t->fd = -1;
	/* The new name is what must survive a crash; tmp/ losing one is moot. */
	if (sync_dir(s->dirfd, dir2) == -1)
		return store_errno(errno);
	return STORE_OK;
fail:
	e = errno;
	store_tmp_abort(s, t);
	return store_errno(e);
}

void
store_tmp_abort(struct store *s, struct store_tmp *t)
{
	if (t->name[0] != '\0')
		(void)unlinkat(s->tmpfd, t->name, 0);
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	t->name[0] = '\0';
}

/* Lets go of the lock on the file this worker was deleting. */
static void
release_trash(struct store *s)
{
	if (s->trash_fd >= 0)
		close(s->trash_fd);
	s->trash_fd = -1;
	s->trash_name[0] = '\0';
}

enum store_error
store_trash(struct store *s, const char *hash, char *trash, size_t trashlen)
{
	char	 rel[STORE_REL_MAX], dir2[6];
	int	 fd, e;

	store_relpath(hash, rel);
	snprintf(dir2, sizeof(dir2), "%.5s", rel);
	/* The hash in the name lets a sweep put an abandoned trash file back. */
	unique_name(STORE_TRASH_PREFIX, hash, trash, trashlen);
	/*
	 * Locked before it moves, held until purge or untrash: the lock dies
	 * with the worker, which tells a sweep the delete will never finish.
	 */
	release_trash(s);
	if ((fd = openat(s->dirfd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return store_errno(errno);
	(void)flock(fd, LOCK_EX | LOCK_NB);
	if (renameat(s->dirfd, rel, s->tmpfd, trash) == -1) {
		e = errno;
		close(fd);
		return store_errno(e);
	}
	s->trash_fd = fd;
	snprintf(s->trash_name, sizeof(s->trash_name), "%s", trash);
	/* A sweep ages trash by mtime: count from now, not from the upload. */
	(void)utimensat(s->tmpfd, trash, NULL, 0);
	if (sync_dir(s->dirfd, dir2) == -1 || fsync(s->tmpfd) == -1)
		return store_errno(errno);
	return STORE_OK;
}

static enum store_error
untrash(struct store *s, const char *trash, const char *hash)
{
	char	 rel[STORE_REL_MAX], dir2[6];

	store_relpath(hash, rel);
	snprintf(dir2, sizeof(dir2), "%.5s", rel);
	if (renameat2(s->tmpfd, trash, s->dirfd, rel, RENAME_NOREPLACE) == -1) {
		if (errno != EINVAL && errno != ENOSYS)
			return errno == EEXIST ? STORE_ERR_EXISTS :
			    store_errno(errno);
		/* No RENAME_NOREPLACE on this file system: link refuses too. */
		if (linkat(s->tmpfd, trash, s->dirfd, rel, 0) == -1)
			return errno == EEXIST ? STORE_ERR_EXISTS :
			    store_errno(errno);
		(void)unlinkat(s->tmpfd, trash, 0);
	}
	if (sync_dir(s->dirfd, dir2) == -1 || fsync(s->tmpfd) == -1)
		return store_errno(errno);
	return STORE_OK;
}

enum store_error
store_untrash(struct store *s, const char *trash, const char *hash)
{
	enum store_error rc = untrash(s, trash, hash);
	int		 e = errno;

	/* Back or not, this worker is done with it: a sweep may take over. */
	if (strcmp(trash, s->trash_name) == 0)
		release_trash(s);
	errno = e;
	return rc;
}

void
store_purge(struct store *s, const char *trash)
{
	(void)unlinkat(s->tmpfd, trash, 0);
	if (strcmp(trash, s->trash_name) == 0)
		release_trash(s);
}

bool
store_exists(struct store *s, const char *hash)
{
	char		 rel[STORE_REL_MAX];
	struct stat	 st;

	store_relpath(hash, rel);
	return fstatat(s->dirfd, rel, &st, 0) == 0 && S_ISREG(st.st_mode);
}

/*
 * A trash file is "trash-<hash>-<pid>-<random>": the hash lets a sweep
 * restore a file whose delete never finished (worker killed before its
 * COMMIT), which keeps a still-recorded row from losing its bytes.
 */
static int
sweep_trash(struct store *s, const char *name)
{
	char		 hash[HASH_HEX_LEN + 1];
	const char	*h = name + strlen(STORE_TRASH_PREFIX);
	int		 fd;

	/* Locked: a live worker's delete, between its trash and its COMMIT. */
	if ((fd = openat(s->tmpfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return 0;
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		close(fd);
		return 0;
	}
	if (!(strlen(h) > HASH_HEX_LEN && h[HASH_HEX_LEN] == '-' &&
	    hash_parse(h, HASH_HEX_LEN, hash) &&
	    untrash(s, name, hash) == STORE_OK))
		(void)unlinkat(s->tmpfd, name, 0);
	close(fd);
	return 1;
}

/* Removes an upload temp file unless a live upload holds its lock. */
static int
sweep_upload(struct store *s, const char *name)
{
	int	 fd, done = 0;

	if ((fd = openat(s->tmpfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return 0;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		done = unlinkat(s->tmpfd, name, 0) == 0;
	close(fd);
	return done;
}

int
store_sweep(struct store *s, int temp_grace, int trash_age)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	time_t		 now = time(NULL);
	int		 fd, n = 0;

	if ((fd = dup(s->tmpfd)) == -1)
		return 0;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return 0;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		int	 upload, trash;

		upload = strncmp(de->d_name, STORE_TMP_PREFIX,
		    strlen(STORE_TMP_PREFIX)) == 0;
		trash = strncmp(de->d_name, STORE_TRASH_PREFIX,
		    strlen(STORE_TRASH_PREFIX)) == 0 ||
		    strncmp(de->d_name, STORE_NEW_PREFIX,
		    strlen(STORE_NEW_PREFIX)) == 0;
		if (!upload && !trash)
			continue;
		if (fstatat(s->tmpfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISREG(st.st_mode) ||
		    now - st.st_mtime < (upload ? temp_grace : trash_age))
			continue;
		if (upload)
			n += sweep_upload(s, de->d_name);
		else if (de->d_name[0] == 'n') {
			if (now - st.st_mtime >= NEW_AGE)
				n += unlinkat(s->tmpfd, de->d_name, 0) == 0;
		} else
			n += sweep_trash(s, de->d_name);
	}
	closedir(d);
	return n;
}
