#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "config.h"
#include "db.h"
#include "fsck.h"
#include "hash.h"
#include "meta.h"
#include "store.h"

#define LINE_MAX_LEN	4096
/* A name of 255 bytes, every byte escaped as \xNN, and a NUL. */
#define VIS_MAX		(4 * 255 + 5)
#define READ_CHUNK	65536

static const char *const problem_names[FSCK__MAX] = {
	[FSCK_MISSING] = "missing",
	[FSCK_ORPHAN] = "orphan",
	[FSCK_CORRUPT] = "corrupt",
	[FSCK_STRAY] = "stray",
	[FSCK_STALE_TEMP] = "stale-temp",
};

const char *
fsck_problem_name(enum fsck_problem p)
{
	return p < FSCK__MAX ? problem_names[p] : "?";
}

/* ------------------------------------------------------------ reporting */

static void	 warnf(struct fsck *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	 reportf(struct fsck *, enum fsck_problem, const char *,
		    const char *, ...) __attribute__((format(printf, 4, 5)));

static void
warnf(struct fsck *f, const char *fmt, ...)
{
	char	 msg[LINE_MAX_LEN];
	va_list	 ap;

	f->errors++;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (f->warn != NULL)
		f->warn(f->arg, msg);
}

/*
 * "<problem> <subject>", then ": <note>" when there is one.  The subject is
 * a hash or an already escaped name, so one line stays one line.
 */
static void
reportf(struct fsck *f, enum fsck_problem p, const char *subject,
    const char *fmt, ...)
{
	char	 line[LINE_MAX_LEN];
	va_list	 ap;
	int	 n;

	f->problems[p]++;
	n = snprintf(line, sizeof(line), "%s %s", problem_names[p], subject);
	if (fmt != NULL && n >= 0 && (size_t)n + 3 < sizeof(line)) {
		memcpy(line + n, ": ", 3);
		va_start(ap, fmt);
		vsnprintf(line + n + 2, sizeof(line) - n - 2, fmt, ap);
		va_end(ap);
	}
	if (f->report != NULL)
		f->report(f->arg, p, line);
}

/*
 * A file name as it can be printed on one line: bytes other than printable
 * ASCII, space and backslash become \xNN.
 */
static void
vis(const char *in, char *out, size_t outlen)
{
	size_t	 n = 0;

	for (; *in != '\0' && n + 5 < outlen; in++) {
		unsigned char c = *in;

		if (c > ' ' && c < 0x7f && c != '\\')
			out[n++] = c;
		else
			n += snprintf(out + n, outlen - n, "\\x%02x", c);
	}
	out[n] = '\0';
}

/* Reports the stray entry dir/name (dir "" for DATA_DIR itself). */
static void
stray(struct fsck *f, const char *dir, const char *name)
{
	char	 v[VIS_MAX], path[VIS_MAX + 16];

	vis(name, v, sizeof(v));
	snprintf(path, sizeof(path), "%s%s%s", dir, *dir != '\0' ? "/" : "",
	    v);
	reportf(f, FSCK_STRAY, path, NULL);
}

/* ---------------------------------------------------------------- names */

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

static bool
has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

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

/* ------------------------------------------------------ file system bits */

/*
 * The first trash file of hash in tmp/ ("trash-<hash>-..."): 1 with its
 * name in out, 0 when there is none, -1 with errno.
 */
static int
find_trash(struct store *s, const char *hash, char *out, size_t outlen)
{
	struct names	 l;
	struct stat	 st;
	char		 prefix[STORE_TRASH_MAX];	/* "trash-<hash>-" */
	size_t		 i;
	int		 found = 0;

	snprintf(prefix, sizeof(prefix), "%s%s-", STORE_TRASH_PREFIX, hash);
	if (names_load(s->tmpfd, &l) == -1)
		return -1;
	for (i = 0; i < l.n && !found; i++) {
		if (!has_prefix(l.v[i], prefix) || strlen(l.v[i]) >= outlen ||
		    fstatat(s->tmpfd, l.v[i], &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISREG(st.st_mode))
			continue;
		snprintf(out, outlen, "%s", l.v[i]);
		found = 1;
	}
	names_free(&l);
	return found;
}

/*
 * Moves the file of hash to DATA_DIR/lost+found/<hash>, making the
 * directory (owned like DATA_DIR, should we run as root) when needed.
 * 0, or -1 with errno.
 */
static int
move_to_lost_found(struct store *s, const char *hash)
{
	char		 rel[STORE_REL_MAX], dir2[6];
	struct stat	 st;
	int		 lfd, e;

	store_relpath(hash, rel);
	snprintf(dir2, sizeof(dir2), "%.5s", rel);
	if (mkdirat(s->dirfd, FSCK_LOST_FOUND, 0750) == 0) {
		/* Owned like DATA_DIR; best effort, no worker ever uses it. */
		if (geteuid() == 0 && fstat(s->dirfd, &st) == 0) {
			e = fchownat(s->dirfd, FSCK_LOST_FOUND, st.st_uid,
			    st.st_gid, AT_SYMLINK_NOFOLLOW);
			(void)e;
		}
		if (fsync(s->dirfd) == -1)
			return -1;
	} else if (errno != EEXIST)
		return -1;
	if ((lfd = openat(s->dirfd, FSCK_LOST_FOUND,
	    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	if (renameat(s->dirfd, rel, lfd, hash) == -1 || fsync(lfd) == -1 ||
	    store_sync_dir(s, dir2) == -1) {
		e = errno;
		close(lfd);
		errno = e;
		return -1;
	}
	close(lfd);
	return 0;
}

/* Puts lost+found/<hash> back (its row's delete did not commit). */
static int
move_back_from_lost_found(struct store *s, const char *hash)
{
	char	 rel[STORE_REL_MAX];
	char	 from[sizeof(FSCK_LOST_FOUND) + HASH_HEX_LEN + 1];

	store_relpath(hash, rel);
	snprintf(from, sizeof(from), "%s/%s", FSCK_LOST_FOUND, hash);
	return renameat(s->dirfd, from, s->dirfd, rel);
}

/*
 * Whether the content of the stored file hash hashes to its name: 1 yes,
 * 0 no (got holds what it hashes to), -1 with errno.
 */
static int
verify_content(struct store *s, const char *hash, char got[HASH_HEX_LEN + 1])
{
	struct hash_ctx	 h;
	unsigned char	 buf[READ_CHUNK];
	char		 rel[STORE_REL_MAX];
	ssize_t		 n;
	int		 fd, e;

	store_relpath(hash, rel);
	if ((fd = openat(s->dirfd, rel,
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

/* -------------------------------------------------------- the problems */

/*
 * A row without its file.  Confirmed on a fresh look first: the listing's
 * snapshot is older than the walk, so the row may be gone since.  The
 * repair deletes the row, but holds it locked (the transaction still
 * open) while it looks once more: a delete that rolled back may just have
 * put the file back, and a trash file left by a worker killed mid-delete
 * is the file itself, put back instead.
 */
static void
check_missing(struct fsck *f, const struct fsck_row *r)
{
	char	 desc[LINE_MAX_LEN / 2], trash[STORE_TRASH_MAX];
	int	 ex, e;

	if (store_exists(f->store, r->hash))
		return;
	if ((ex = f->db->exists(f->db->arg, r->hash)) == -1) {
		warnf(f, "missing %s: cannot check the row: %s", r->hash,
		    f->db->error(f->db->arg));
		return;
	}
	if (ex == 0)
		return;		/* deleted since the listing began */
	if (!f->repair) {
		reportf(f, FSCK_MISSING, r->hash, NULL);
		return;
	}

	if ((ex = f->db->delete_begin(f->db->arg, r->hash, desc,
	    sizeof(desc))) == -1) {
		reportf(f, FSCK_MISSING, r->hash, "not repaired");
		warnf(f, "missing %s: cannot delete the row: %s", r->hash,
		    f->db->error(f->db->arg));
		return;
	}
	if (ex == 0) {
		reportf(f, FSCK_MISSING, r->hash, "row deleted meanwhile");
		return;
	}
	if (store_exists(f->store, r->hash)) {
		f->db->rollback(f->db->arg);
		reportf(f, FSCK_MISSING, r->hash, "kept, the file is back");
		return;
	}
	switch (find_trash(f->store, r->hash, trash, sizeof(trash))) {
	case 1:
		e = store_untrash(f->store, trash, r->hash) == STORE_OK ? 0 :
		    errno;
		f->db->rollback(f->db->arg);
		if (e == 0 || e == EEXIST) {
			reportf(f, FSCK_MISSING, r->hash,
			    "file restored from tmp/%s", trash);
			return;
		}
		reportf(f, FSCK_MISSING, r->hash, "not repaired");
		warnf(f, "missing %s: cannot restore tmp/%s: %s", r->hash,
		    trash, strerror(e));
		return;
	case -1:
		e = errno;
		f->db->rollback(f->db->arg);
		reportf(f, FSCK_MISSING, r->hash, "not repaired");
		warnf(f, "missing %s: cannot read tmp/: %s", r->hash,
		    strerror(e));
		return;
	default:
		break;
	}
	if (f->db->commit(f->db->arg) == -1) {
		reportf(f, FSCK_MISSING, r->hash, "not repaired");
		warnf(f, "missing %s: cannot delete the row: %s", r->hash,
		    f->db->error(f->db->arg));
		return;
	}
	reportf(f, FSCK_MISSING, r->hash, "row deleted (%s)", desc);
}

/*
 * A file without its row.  The worker renames a file into place inside
 * the upload's transaction and commits after, so a young orphan may be an
 * upload about to commit: only one whose mtime is FSCK_ORPHAN_AGE old is
 * removed.  It is moved into tmp/ under a trash name first and looked at
 * once more there, so that a new upload of the same bytes, renamed into
 * place meanwhile, is never what goes.
 */
static void
check_orphan(struct fsck *f, const char *hash, const struct stat *st)
{
	char		 trash[STORE_TRASH_MAX];
	struct stat	 tst;
	bool		 young;
	int		 ex, e;

	if ((ex = f->db->exists(f->db->arg, hash)) == -1) {
		warnf(f, "orphan %s: cannot check the row: %s", hash,
		    f->db->error(f->db->arg));
		return;
	}
	if (ex == 1)
		return;		/* recorded since the listing began */
	if (!f->repair) {
		reportf(f, FSCK_ORPHAN, hash, NULL);
		return;
	}
	if (f->now - st->st_mtime < FSCK_ORPHAN_AGE) {
		reportf(f, FSCK_ORPHAN, hash, "kept, younger than %d minutes "
		    "(may be an upload about to commit)", FSCK_ORPHAN_AGE / 60);
		return;
	}
	if (store_trash(f->store, hash, trash, sizeof(trash)) != STORE_OK) {
		e = errno;
		reportf(f, FSCK_ORPHAN, hash, "not repaired");
		warnf(f, "orphan %s: cannot move it aside: %s", hash,
		    strerror(e));
		return;
	}
	/* What was moved must be the file judged old: else a new upload's. */
	young = fstatat(f->store->tmpfd, trash, &tst,
	    AT_SYMLINK_NOFOLLOW) == -1 ||
	    tst.st_ino != st->st_ino || tst.st_dev != st->st_dev;
	ex = young ? 0 : f->db->exists(f->db->arg, hash);
	if (!young && ex == 0) {
		store_purge(f->store, trash);
		reportf(f, FSCK_ORPHAN, hash, "removed");
		return;
	}
	/* Back it goes; a file in its place meanwhile has the same name. */
	if (store_untrash(f->store, trash, hash) != STORE_OK) {
		if (errno == EEXIST)
			store_purge(f->store, trash);
		else
			warnf(f, "orphan %s: cannot put it back from "
			    "tmp/%s: %s", hash, trash, strerror(errno));
	}
	if (ex == -1) {
		reportf(f, FSCK_ORPHAN, hash, "not repaired");
		warnf(f, "orphan %s: cannot check the row: %s", hash,
		    f->db->error(f->db->arg));
	} else if (ex == 0)
		reportf(f, FSCK_ORPHAN, hash, "kept, replaced by a new upload "
		    "meanwhile");
	/* else recorded meanwhile: no orphan after all. */
}

/*
 * A corrupt file's row cannot be served right: the row goes, and the file
 * to lost+found/ for a human to look at.  The file moves while the row is
 * locked, before the COMMIT, as a worker's delete does.
 */
static void
repair_corrupt(struct fsck *f, const char *hash, const char *why)
{
	char	 desc[LINE_MAX_LEN / 2];
	int	 r, e;

	if ((r = f->db->delete_begin(f->db->arg, hash, desc,
	    sizeof(desc))) == -1) {
		reportf(f, FSCK_CORRUPT, hash, "%s; not repaired", why);
		warnf(f, "corrupt %s: cannot delete the row: %s", hash,
		    f->db->error(f->db->arg));
		return;
	}
	if (r == 0) {
		reportf(f, FSCK_CORRUPT, hash, "%s; row deleted meanwhile",
		    why);
		return;
	}
	if (move_to_lost_found(f->store, hash) == -1) {
		e = errno;
		f->db->rollback(f->db->arg);
		reportf(f, FSCK_CORRUPT, hash, "%s; not repaired", why);
		warnf(f, "corrupt %s: cannot move it to %s/: %s", hash,
		    FSCK_LOST_FOUND, strerror(e));
		return;
	}
	if (f->db->commit(f->db->arg) == -1) {
		if (move_back_from_lost_found(f->store, hash) == -1)
			warnf(f, "corrupt %s: the row stays, its file is in "
			    "%s/%s", hash, FSCK_LOST_FOUND, hash);
		reportf(f, FSCK_CORRUPT, hash, "%s; not repaired", why);
		warnf(f, "corrupt %s: cannot delete the row: %s", hash,
		    f->db->error(f->db->arg));
		return;
	}
	reportf(f, FSCK_CORRUPT, hash, "%s; row deleted (%s), file moved "
	    "to %s/%s", why, desc, FSCK_LOST_FOUND, hash);
}

/* A row and its file: the size always (a stat), the content with -v. */
static void
check_pair(struct fsck *f, const struct fsck_row *r, const struct stat *st)
{
	char	 why[128], got[HASH_HEX_LEN + 1];
	int	 ok;

	if ((uint64_t)st->st_size != r->size)
		snprintf(why, sizeof(why), "size %jd, recorded %" PRIu64,
		    (intmax_t)st->st_size, r->size);
	else if (f->verify) {
		if ((ok = verify_content(f->store, r->hash, got)) == -1) {
			if (errno != ENOENT)
				warnf(f, "%s: cannot read: %s", r->hash,
				    strerror(errno));
			return;
		}
		if (ok)
			return;
		snprintf(why, sizeof(why), "content hashes to %s", got);
	} else
		return;
	if (f->repair)
		repair_corrupt(f, r->hash, why);
	else
		reportf(f, FSCK_CORRUPT, r->hash, "%s", why);
}

/* An upload temp file no live upload holds (they flock theirs). */
static void
check_upload_temp(struct fsck *f, const char *name, const char *shown)
{
	int	 fd;

	if ((fd = openat(f->store->tmpfd, name,
	    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) == -1) {
		if (errno != ENOENT)
			warnf(f, "tmp/%s: %s", shown, strerror(errno));
		return;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK)
			warnf(f, "tmp/%s: flock: %s", shown, strerror(errno));
		close(fd);
		return;		/* a live upload's */
	}
	/* Unlinked while locked: no upload can take it up in between. */
	if (!f->repair)
		reportf(f, FSCK_STALE_TEMP, shown, NULL);
	else if (unlinkat(f->store->tmpfd, name, 0) == 0 || errno == ENOENT)
		reportf(f, FSCK_STALE_TEMP, shown, "removed");
	else {
		reportf(f, FSCK_STALE_TEMP, shown, "not repaired");
		warnf(f, "tmp/%s: %s", shown, strerror(errno));
	}
	close(fd);
}

/*
 * A trash file of a delete that never finished.  The repair does what the
 * worker's sweep does, with a look at the row: the file goes back to its
 * place when that is empty and the row is still there; else it goes.  The
 * row is looked at locked (a delete begun and rolled back), which waits
 * for a worker's delete of it in progress to end: its trash file is only
 * ever old by mtime, which the rename into tmp/ keeps.
 */
static void
check_trash(struct fsck *f, const char *name, const char *shown)
{
	const char	*h = name + strlen(STORE_TRASH_PREFIX);
	char		 hash[HASH_HEX_LEN + 1], desc[LINE_MAX_LEN / 2];
	int		 r, restored, e;

	if (!f->repair) {
		reportf(f, FSCK_STALE_TEMP, shown, NULL);
		return;
	}
	if (strlen(h) > HASH_HEX_LEN && h[HASH_HEX_LEN] == '-' &&
	    hash_parse(h, HASH_HEX_LEN, hash) &&
	    !store_exists(f->store, hash)) {
		if ((r = f->db->delete_begin(f->db->arg, hash, desc,
		    sizeof(desc))) == -1) {
			reportf(f, FSCK_STALE_TEMP, shown, "not repaired");
			warnf(f, "tmp/%s: cannot check the row: %s", shown,
			    f->db->error(f->db->arg));
			return;
		}
		if (r == 1) {
			restored = 0;
			if (!store_exists(f->store, hash)) {
				if (store_untrash(f->store, name,
				    hash) == STORE_OK)
					restored = 1;
				else if (errno != EEXIST && errno != ENOENT) {
					/* The row's only copy: keep it. */
					e = errno;
					f->db->rollback(f->db->arg);
					reportf(f, FSCK_STALE_TEMP, shown,
					    "not repaired");
					warnf(f, "tmp/%s: cannot restore: %s",
					    shown, strerror(e));
					return;
				}
			}
			f->db->rollback(f->db->arg);
			if (restored) {
				reportf(f, FSCK_STALE_TEMP, shown,
				    "restored to its recorded place");
				return;
			}
		}
	}
	if (unlinkat(f->store->tmpfd, name, 0) == 0 || errno == ENOENT)
		reportf(f, FSCK_STALE_TEMP, shown, "removed");
	else {
		reportf(f, FSCK_STALE_TEMP, shown, "not repaired");
		warnf(f, "tmp/%s: %s", shown, strerror(errno));
	}
}

/* DATA_DIR/tmp: upload and trash files, nothing else. */
static void
check_tmp(struct fsck *f)
{
	struct names	 l;
	struct stat	 st;
	char		 shown[VIS_MAX];
	const char	*name;
	size_t		 i;
	int		 upload, trash;

	if (names_load(f->store->tmpfd, &l) == -1) {
		warnf(f, "tmp: %s", strerror(errno));
		return;
	}
	for (i = 0; i < l.n; i++) {
		name = l.v[i];
		vis(name, shown, sizeof(shown));
		if (fstatat(f->store->tmpfd, name, &st,
		    AT_SYMLINK_NOFOLLOW) == -1) {
			if (errno != ENOENT)
				warnf(f, "tmp/%s: %s", shown, strerror(errno));
			continue;
		}
		upload = has_prefix(name, STORE_TMP_PREFIX);
#ifdef STORE_NEW_PREFIX
		/* Created, not yet locked and renamed to upload-*. */
		upload = upload || has_prefix(name, STORE_NEW_PREFIX);
#endif
		trash = has_prefix(name, STORE_TRASH_PREFIX);
		if (!S_ISREG(st.st_mode) || (!upload && !trash)) {
			stray(f, "tmp", name);
			continue;
		}
		if (upload && f->now - st.st_mtime >= FSCK_UPLOAD_AGE)
			check_upload_temp(f, name, shown);
		else if (trash && f->now - st.st_mtime >= FSCK_TRASH_AGE)
			check_trash(f, name, shown);
	}
	names_free(&l);
}

/* ------------------------------------------------------------- the walk */

/*
 * DATA_DIR in byte order of the stored files' names: level 0 is DATA_DIR,
 * 1 an ab/ directory, 2 an ab/cd/ directory; fd[1] and fd[2] are the open
 * ab/ and ab/cd/.
 */
struct walk {
	struct names	 level[3];
	int		 fd[3];
	int		 depth;		/* levels loaded */
	char		 dir[6];	/* "ab" or "ab/cd" */
};

static void
walk_close(struct walk *w)
{
	int	 i;

	for (i = 0; i < 3; i++) {
		names_free(&w->level[i]);
		if (i > 0 && w->fd[i] >= 0)
			close(w->fd[i]);
		w->fd[i] = -1;
	}
	w->depth = 0;
}

static int
walk_open(struct walk *w, int dirfd)
{
	memset(w, 0, sizeof(*w));
	w->fd[0] = dirfd;
	w->fd[1] = w->fd[2] = -1;
	if (names_load(dirfd, &w->level[0]) == -1)
		return -1;
	w->depth = 1;
	return 0;
}

/*
 * Enters the fan-out directory name at the current level: 1 entered, 0
 * when it is no directory (a stray) or vanished, -1 on error (warned).
 */
static int
walk_enter(struct fsck *f, struct walk *w, const char *name)
{
	int	 d = w->depth, fd;

	if ((fd = openat(w->fd[d - 1], name,
	    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if (errno == ENOTDIR || errno == ELOOP) {
			stray(f, d == 1 ? "" : w->dir, name);
			return 0;
		}
		if (errno != ENOENT)
			warnf(f, "%s%s%s: %s", d == 1 ? "" : w->dir,
			    d == 1 ? "" : "/", name, strerror(errno));
		return errno == ENOENT ? 0 : -1;
	}
	if (names_load(fd, &w->level[d]) == -1) {
		warnf(f, "%s%s%s: %s", d == 1 ? "" : w->dir, d == 1 ? "" : "/",
		    name, strerror(errno));
		close(fd);
		return -1;
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
walk_leave(struct walk *w)
{
	int	 d = --w->depth;

	names_free(&w->level[d]);
	close(w->fd[d]);
	w->fd[d] = -1;
	w->dir[d == 2 ? 2 : 0] = '\0';
}

/*
 * The next stored file in byte order of its name, strays reported on the
 * way: 1 with hash and st filled, 0 at the end.
 */
static int
walk_next(struct fsck *f, struct walk *w, char hash[HASH_HEX_LEN + 1],
    struct stat *st)
{
	struct names	*l;
	const char	*name;

	while (w->depth > 0) {
		l = &w->level[w->depth - 1];
		if (l->next == l->n) {
			if (w->depth == 1)
				return 0;
			walk_leave(w);
			continue;
		}
		name = l->v[l->next++];
		if (w->depth == 3) {
			if (fstatat(w->fd[2], name, st,
			    AT_SYMLINK_NOFOLLOW) == -1) {
				if (errno != ENOENT)
					warnf(f, "%s/%s: %s", w->dir, name,
					    strerror(errno));
				continue;
			}
			/* Well named, and in the directory its name says. */
			if (S_ISREG(st->st_mode) && is_hash_name(name) &&
			    strncmp(name, w->dir, 2) == 0 &&
			    strncmp(name + 2, w->dir + 3, 2) == 0) {
				memcpy(hash, name, HASH_HEX_LEN + 1);
				f->files++;
				return 1;
			}
			stray(f, w->dir, name);
			continue;
		}
		if (w->depth == 1 && (strcmp(name, "tmp") == 0 ||
		    strcmp(name, FSCK_LOST_FOUND) == 0)) {
			struct stat	 dst;

			/* Seen to by check_tmp, and ours. */
			if (fstatat(w->fd[0], name, &dst,
			    AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(dst.st_mode))
				continue;
			stray(f, "", name);
			continue;
		}
		if (!is_fan_name(name)) {
			stray(f, w->depth == 1 ? "" : w->dir, name);
			continue;
		}
		(void)walk_enter(f, w, name);
	}
	return 0;
}

/* ---------------------------------------------------------- the merge */

/*
 * The next row, checked: a well-formed hash, in strictly increasing byte
 * order (the merge depends on it).  1, 0 at the end, -1 (warned) on error.
 */
static int
next_row(struct fsck *f, struct fsck_row *r, char prev[HASH_HEX_LEN + 1])
{
	int	 rc;

	if ((rc = f->db->rows_next(f->db->arg, r)) == -1) {
		warnf(f, "reading the rows: %s", f->db->error(f->db->arg));
		return -1;
	}
	if (rc == 0)
		return 0;
	if (!is_hash_name(r->hash)) {
		warnf(f, "a row's file_hash is not 64 lowercase hex digits");
		return -1;
	}
	if (prev[0] != '\0' && strcmp(prev, r->hash) >= 0) {
		warnf(f, "rows not in byte order of file_hash (%s after %s)",
		    r->hash, prev);
		return -1;
	}
	memcpy(prev, r->hash, HASH_HEX_LEN + 1);
	f->rows++;
	return 1;
}

int
fsck_run(struct fsck *f)
{
	struct walk	 w;
	struct fsck_row	 row;
	struct stat	 st;
	char		 fhash[HASH_HEX_LEN + 1];
	char		 prev[HASH_HEX_LEN + 1] = "";
	int		 rr, fr, c;

	f->rows = f->files = f->errors = 0;
	memset(f->problems, 0, sizeof(f->problems));
	if (f->now == 0)
		f->now = time(NULL);
	if (walk_open(&w, f->store->dirfd) == -1) {
		warnf(f, "DATA_DIR: %s", strerror(errno));
		return -1;
	}
	if (f->db->rows_begin(f->db->arg) == -1) {
		warnf(f, "listing the rows: %s", f->db->error(f->db->arg));
		walk_close(&w);
		return -1;
	}
	rr = next_row(f, &row, prev);
	fr = walk_next(f, &w, fhash, &st);
	/*
	 * Rows and not one file, or files and not one row: more likely an
	 * unmounted DATA_DIR or the wrong database than a loss to mend.
	 */
	if (f->repair && ((rr == 1 && fr == 0) || (rr == 0 && fr == 1))) {
		warnf(f, "%s: not repairing (is DATA_DIR mounted, is this "
		    "the right database?)", rr == 1 ? "rows but no stored "
		    "file at all" : "stored files but no row at all");
		f->repair = false;
	}
	while (rr != -1 && (rr == 1 || fr == 1)) {
		c = rr == 0 ? 1 : fr == 0 ? -1 : strcmp(row.hash, fhash);
		if (c < 0) {
			check_missing(f, &row);
			rr = next_row(f, &row, prev);
		} else if (c > 0) {
			check_orphan(f, fhash, &st);
			fr = walk_next(f, &w, fhash, &st);
		} else {
			check_pair(f, &row, &st);
			rr = next_row(f, &row, prev);
			fr = walk_next(f, &w, fhash, &st);
		}
	}
	f->db->rows_end(f->db->arg);
	walk_close(&w);
	if (rr == -1)
		return -1;
	check_tmp(f);
	return 0;
}

void
fsck_summary(const struct fsck *f, char *buf, size_t len)
{
	snprintf(buf, len, "%" PRIu64 " rows, %" PRIu64 " files: %" PRIu64
	    " missing, %" PRIu64 " orphan, %" PRIu64 " corrupt, %" PRIu64
	    " stray, %" PRIu64 " stale temp", f->rows, f->files,
	    f->problems[FSCK_MISSING], f->problems[FSCK_ORPHAN],
	    f->problems[FSCK_CORRUPT], f->problems[FSCK_STRAY],
	    f->problems[FSCK_STALE_TEMP]);
}

int
fsck_status(const struct fsck *f)
{
	int	 i;

	if (f->errors > 0)
		return 2;
	for (i = 0; i < FSCK__MAX; i++)
		if (f->problems[i] > 0)
			return 1;
	return 0;
}

/* ---------------------------------------------------------- PostgreSQL */

/*
 * The rows in byte order.  COLLATE "C" makes the server's order strcmp's
 * whatever the database's collation (the hashes are lowercase hex, so it
 * is also the order of the names in DATA_DIR).
 */
#define ROWS_SQL	"SELECT file_hash, file_size FROM files " \
			"ORDER BY file_hash COLLATE \"C\""

struct pg {
	PGconn	*conn;		/* the listing's own */
	int	 listing;	/* results still to be read */
	char	 hash[HASH_HEX_LEN + 1];	/* of the open delete */
	char	 err[512];
};

/* Keeps a libpq message on one line. */
static void
pg_error(struct pg *p, const char *what, const char *msg)
{
	size_t	 n;

	snprintf(p->err, sizeof(p->err), "%s: %s", what, msg);
	n = strlen(p->err);
	while (n > 0 && (p->err[n - 1] == '\n' || p->err[n - 1] == ' '))
		p->err[--n] = '\0';
}

static int
pg_rows_begin(void *arg)
{
	struct pg	*p = arg;

	if (PQsendQuery(p->conn, ROWS_SQL) != 1) {
		pg_error(p, "query", PQerrorMessage(p->conn));
		return -1;
	}
	p->listing = 1;
	/* Never the whole result in memory: one row per PGresult. */
	if (PQsetSingleRowMode(p->conn) != 1) {
		pg_error(p, "single-row mode", PQerrorMessage(p->conn));
		return -1;
	}
	return 0;
}

/* Reads what is left of the listing's results. */
static void
pg_drain(struct pg *p)
{
	PGresult	*res;

	while ((res = PQgetResult(p->conn)) != NULL)
		PQclear(res);
	p->listing = 0;
}

static int
pg_rows_next(void *arg, struct fsck_row *r)
{
	struct pg	*p = arg;
	PGresult	*res;
	uint64_t	 size;
	int		 rc = -1;

	if (!p->listing)
		return 0;
	if ((res = PQgetResult(p->conn)) == NULL) {
		p->listing = 0;
		return 0;
	}
	switch (PQresultStatus(res)) {
	case PGRES_SINGLE_TUPLE:
		if (PQgetlength(res, 0, 0) != HASH_HEX_LEN ||
		    parse_u64(PQgetvalue(res, 0, 1), 0, INT64_MAX,
		    &size) == -1) {
			pg_error(p, "row", "unexpected file_hash or file_size");
			break;
		}
		memcpy(r->hash, PQgetvalue(res, 0, 0), HASH_HEX_LEN);
		r->hash[HASH_HEX_LEN] = '\0';
		r->size = size;
		rc = 1;
		break;
	case PGRES_TUPLES_OK:
		rc = 0;		/* the end: no more rows */
		break;
	default:
		pg_error(p, "rows", PQresultErrorMessage(res));
		break;
	}
	PQclear(res);
	if (rc != 1)
		pg_drain(p);
	return rc;
}

static void
pg_rows_end(void *arg)
{
	struct pg	*p = arg;
	PGcancel	*cancel;
	char		 buf[256];

	if (!p->listing)
		return;
	/* Stopped early: no need to receive millions of rows to drop them. */
	if ((cancel = PQgetCancel(p->conn)) != NULL) {
		(void)PQcancel(cancel, buf, sizeof(buf));
		PQfreeCancel(cancel);
	}
	pg_drain(p);
}

static int
pg_exists(void *arg, const char *hash)
{
	bool	 exists;

	(void)arg;
	if (db_exists(hash, &exists) != DB_OK)
		return -1;
	return exists;
}

static int
pg_delete_begin(void *arg, const char *hash, char *desc, size_t desclen)
{
	struct pg	*p = arg;
	struct meta	 m;
	char		 name[VIS_MAX];

	switch (db_delete_begin(hash, &m)) {
	case DB_OK:
		break;
	case DB_ERR_NOTFOUND:
		return 0;
	default:
		return -1;
	}
	snprintf(p->hash, sizeof(p->hash), "%s", hash);
	/* What the row said, for the record: it is gone after the COMMIT. */
	vis(m.name, name, sizeof(name));
	snprintf(desc, desclen, "file_name %s, file_type %s, file_size %" PRIu64
	    ", created_at %s", name, m.type, m.size, m.created_at);
	return 1;
}

static int
pg_commit(void *arg)
{
	struct pg	*p = arg;
	bool		 exists;

	switch (db_commit()) {
	case DB_OK:
		return 0;
	case DB_ERR_UNKNOWN:
		/* The link broke during COMMIT: ask whether the row is gone. */
		if (db_exists(p->hash, &exists) == DB_OK && !exists)
			return 0;
		return -1;
	default:
		db_rollback();
		return -1;
	}
}

static void
pg_rollback(void *arg)
{
	(void)arg;
	db_rollback();
}

static const char *
pg_last_error(void *arg)
{
	struct pg	*p = arg;

	return p->err[0] != '\0' ? p->err : db_last_error();
}

int
fsck_pg_open(struct fsck_db *db, const struct config *cfg, char *err,
    size_t errlen)
{
	struct pg	*p;

	memset(db, 0, sizeof(*db));
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	p->conn = db_connect(cfg, "fileupload-fsck", 10);
	if (p->conn == NULL || PQstatus(p->conn) != CONNECTION_OK) {
		pg_error(p, "cannot connect", p->conn != NULL ?
		    PQerrorMessage(p->conn) : "out of memory");
		snprintf(err, errlen, "%s", p->err);
		PQfinish(p->conn);
		free(p);
		return -1;
	}
	db_init(cfg);
	if (db_ready() != DB_OK) {
		snprintf(err, errlen, "%s", db_last_error());
		PQfinish(p->conn);
		free(p);
		return -1;
	}
	db->arg = p;
	db->rows_begin = pg_rows_begin;
	db->rows_next = pg_rows_next;
	db->rows_end = pg_rows_end;
	db->exists = pg_exists;
	db->delete_begin = pg_delete_begin;
	db->commit = pg_commit;
	db->rollback = pg_rollback;
	db->error = pg_last_error;
	return 0;
}

void
fsck_pg_close(struct fsck_db *db)
{
	struct pg	*p = db->arg;

	if (p != NULL) {
		pg_rows_end(p);
		PQfinish(p->conn);
		free(p);
	}
	db_close();
	memset(db, 0, sizeof(*db));
}
