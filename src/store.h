/*
 * Content-addressed storage under DATA_DIR.
 *
 * A file with hash h lives at DATA_DIR/h[0..1]/h[2..3]/h.  Uploads are
 * written to a temp file in DATA_DIR/tmp (same file system), fsynced, then
 * renamed into place and the directory fsynced.  Paths are only ever built
 * from a hash that hash_parse accepted.
 */
#ifndef STORE_H
#define STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define STORE_NEW_PREFIX	"new-"		/* created, not yet locked */
#define STORE_TMP_PREFIX	"upload-"	/* locked by its live upload */
#define STORE_TRASH_PREFIX	"trash-"
#define STORE_REL_MAX		(6 + 64 + 1)	/* "ab/cd/" + hash + NUL */
#define STORE_TRASH_MAX		128		/* "trash-<hash>-<pid>-<random>" */

enum store_error {
	STORE_OK = 0,
	STORE_ERR_NOSPACE,	/* ENOSPC, EDQUOT, EFBIG */
	STORE_ERR_IO,		/* any other write/fsync/rename/open failure */
	STORE_ERR_NOENT,	/* no such stored file */
	STORE_ERR_EXISTS,	/* the place is taken */
	STORE_ERR__MAX
};

struct store {
	int	 dirfd;		/* DATA_DIR */
	int	 tmpfd;		/* DATA_DIR/tmp */
	int	 trash_fd;	/* locks the file being deleted, -1: none */
	char	 trash_name[STORE_TRASH_MAX];
};

/* A temp file being written; fd < 0 when none. */
struct store_tmp {
	int	 fd;
	char	 name[64];	/* under DATA_DIR/tmp */
	uint64_t size;
	uint64_t queued;	/* bytes already handed to writeback */
};

/*
 * Opens data_dir (which must exist and be a directory) and creates its tmp/
 * subdirectory.  Returns 0, or -1 with errno set.
 */
int		 store_open(struct store *, const char *data_dir);
/* Closes the directory handles; safe to call twice. */
void		 store_close(struct store *);

/* Creates a new, empty temp file (mode 0640). */
enum store_error store_tmp_create(struct store *, struct store_tmp *);
/*
 * Appends len bytes, retrying short writes.  Every STORE_WRITEBACK_STEP
 * bytes it starts their writeback, so that the disk works while the body
 * streams in and the final fsync waits for the last step only.
 */
#define STORE_WRITEBACK_STEP	(8u << 20)
enum store_error store_tmp_write(struct store *, struct store_tmp *,
		    const void *, size_t);
/* fsyncs the temp file's bytes; call before the metadata is recorded. */
enum store_error store_tmp_sync(struct store *, struct store_tmp *);
/*
 * Renames the synced temp file to the place of hash (replacing a file there,
 * which by construction holds the same bytes) and fsyncs the directories it
 * touched.  The temp file is gone afterwards whatever the result.
 */
enum store_error store_tmp_commit(struct store *, struct store_tmp *,
		    const char *hash);
/* Unlinks and closes the temp file; safe on an unused or finished tmp. */
void		 store_tmp_abort(struct store *, struct store_tmp *);

/*
 * Delete in two steps so that the row's removal can commit in between
 * (the worker holds an flock on the trash file until then, so a sweep
 * knows a dead worker's trash from a live delete's):
 * store_trash moves the file of hash into tmp/ under a name written to
 * trash (STORE_TRASH_MAX bytes); store_untrash puts it back (the delete did
 * not commit) unless a file took the place meanwhile (STORE_ERR_EXISTS: a
 * newer upload's, never overwritten); store_purge unlinks it (the delete
 * committed).  On failure errno tells the cause.
 */
enum store_error store_trash(struct store *, const char *hash, char *trash,
		    size_t trashlen);
enum store_error store_untrash(struct store *, const char *trash,
		    const char *hash);
void		 store_purge(struct store *, const char *trash);

/* fsyncs the directory rel (relative to DATA_DIR, "." for itself). */
int		 store_sync_dir(struct store *, const char *rel);

/* True when the file of hash is present. */
bool		 store_exists(struct store *, const char *hash);
/* Writes "ab/cd/<hash>" (STORE_REL_MAX bytes) for a validated hash. */
void		 store_relpath(const char *hash, char out[STORE_REL_MAX]);

/*
 * Cleans tmp/ of what dead workers left: an upload temp file is removed
 * when no live upload holds its lock (each upload keeps an exclusive flock
 * on its temp file) and it is older than temp_grace seconds; an unlocked
 * trash file older than trash_age seconds (a delete whose worker died
 * before its COMMIT) is put back in its place when that is empty, else
 * removed; a "new-" file (a worker killed between creating and locking its
 * temp file) is removed after an hour.  Returns the number of files handled.
 */
int		 store_sweep(struct store *, int temp_grace, int trash_age);

/* Maps an errno from a write path to the store error it means. */
enum store_error store_errno(int);

#endif
