/*
 * The store: where the bytes of the stored files live.  It is the only
 * code that knows how: names, prefixes, directories, locks and ages.
 *
 * Callers (the upload pipeline, the handlers, fsck, the worker's main)
 * hold a struct store * from store_open and use only the functions below.
 * Each is a dispatch through the handle's table of operations (struct
 * store_ops, store_impl.h).  store_open picks the backend by the scheme
 * of its struct store_config from a table of {scheme, open} entries
 * (store.c); a second backend is a second table of operations in a file
 * of its own and one more entry there, and no caller changes.  Every
 * backend keeps these rules:
 *   - an upload is staged in a temp file (struct store_tmp) and becomes
 *     the object of its hash at commit, durably, in one step;
 *   - a delete moves the object aside as trash (restorable, named after
 *     its hash) until purge; trash and temp files of a live worker are
 *     locked (or aged), so that a sweep or fsck knows a dead worker's
 *     from a live one's;
 *   - walks yield objects in byte order of their hash (an object store's
 *     listing order), so fsck merges them with the rows in constant memory.
 *
 * How the bytes are served is behind the seam too: store_locate gives the
 * content route nginx's X-Accel-Redirect target, which begins with the
 * backend's nginx location (store_location).  That location is part of
 * each backend's contract with the nginx configuration (conf/), where it
 * must be declared `internal`:
 *   local  "/_fileupload_content/" + "ab/cd/<hash>": an alias of DATA_DIR
 *          (store_local.c keeps the file of hash h at DATA_DIR/h[0..1]/
 *          h[2..3]/h, built only from a hash that hash_parse accepted);
 *   s3     "/_fileupload_s3/" [+ "<Repr-Digest>/"] + "<scheme>/<address>:
 *          <port>/<host><path>?<query>": a proxy to a presigned GET
 *          (store_s3.c), sent to the IP address the worker resolved the
 *          endpoint's name to, with the name as Host (s3.h).
 */
#ifndef STORE_H
#define STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hash.h"
#include "store_config.h"

#define STORE_TRASH_MAX		128		/* a trash name */
#define STORE_PATH_MAX		272		/* "ab/cd/" + a 255-byte name */

struct store;
struct store_walk;

enum store_error {
	STORE_OK = 0,
	STORE_ERR_NOSPACE,	/* ENOSPC, EDQUOT, EFBIG */
	STORE_ERR_IO,		/* any other write/fsync/rename/open failure */
	STORE_ERR_NOENT,	/* no such stored file */
	STORE_ERR_EXISTS,	/* the place is taken */
	STORE_ERR_BUSY,		/* another writer holds it (a partial file) */
	STORE_ERR_UNAVAILABLE,	/* the object store does not answer */
	STORE_ERR_UNSUPPORTED,	/* the backend has no such operation */
	STORE_ERR__MAX
};

/*
 * A temp file being written; fd < 0 when none.  Callers set fd = -1 before
 * first use and may read size, and the file through fd (pread); the rest
 * is the backend's.
 */
struct store_tmp {
	int	 fd;
	char	 name[64];
	uint64_t size;
	uint64_t queued;	/* bytes already handed to writeback */
	void	*backend;	/* NULL before first use */
};

/*
 * Opens the store of cfg's scheme: "local" is DATA_DIR (a directory that
 * must exist) and, in it, its tmp/ subdirectory, made when missing and
 * refused when it is a symbolic link; "s3" is an S3-API object store
 * (s3_config.h).  cfg's strings must outlive the store.  Returns the
 * handle, or NULL with errno set and a one-line reason in err, which
 * begins with the setting at fault ("DATA_DIR: ", "STORAGE=s3: ").
 */
struct store	*store_open(const struct store_config *cfg, char *err,
		    size_t errlen);
/* Closes the handle; NULL is fine. */
void		 store_close(struct store *);
/* The nginx location store_locate's targets begin with (see above). */
const char	*store_location(struct store *);

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
/*
 * Reads up to len bytes at off of a synced temp file (libmagic's prefix):
 * the count (0 at the end), or -1.
 */
long		 store_tmp_read(struct store *, struct store_tmp *, void *buf,
		    size_t len, uint64_t off);
/* Unlinks and closes the temp file; safe on an unused or finished tmp. */
void		 store_tmp_abort(struct store *, struct store_tmp *);

/*
 * A resumable upload's partial file, between its requests (local:
 * tmp/part-<id>, which sweeps leave alone: the uploads table owns it).
 * It is held as a store_tmp, so store_tmp_write, _sync, _commit and
 * _abort apply to it, and its fd may be read (pread: libmagic's prefix).
 * id is the caller's and opaque to the store; one that is not 1 to
 * STORE_PART_ID_MAX of A-Z a-z 0-9 - _ (what a file or key name takes
 * safely) names no partial file (STORE_ERR_NOENT).
 *
 * The store_part_* operations are the one optional group: a backend
 * without partial files answers STORE_ERR_UNSUPPORTED to each (_close
 * does nothing, _remove finds nothing: 0, _locks is false).
 *
 * One writer per upload: store_part_open holds the file's lock until
 * store_part_close (or _commit, _abort), and the lock dies with its
 * process, so a killed writer never leaves an upload locked.  With
 * create, a new empty file, its name durable before the row naming it
 * commits.  Without, the existing one; STORE_ERR_BUSY when another writer
 * holds it (the caller may wait and try again), STORE_ERR_NOENT when it
 * is gone (also when it was completed or removed while this call waited).
 * store_part_cut then cuts it to offset bytes, the committed ones (bytes
 * past them are a request's that never committed), and positions it
 * there; STORE_ERR_NOENT when it is shorter.
 * store_part_remove deletes the file of id unless a writer holds it: 0
 * (also when there is none), or -1.
 */
#define STORE_PART_ID_MAX	64
enum store_error store_part_open(struct store *, const char *id, bool create,
		    struct store_tmp *);
/*
 * store_part_open of an existing partial file that waits while another
 * request holds it: tried again every STORE_PART_RETRY_MS until it is let
 * go or *wait_ms runs out (the time waited is taken off *wait_ms, so that
 * several calls may share one budget); then STORE_ERR_BUSY.
 */
#define STORE_PART_RETRY_MS	50
enum store_error store_part_hold(struct store *, const char *id,
		    long *wait_ms, struct store_tmp *);
/*
 * Whether store_part_open's lock keeps an upload to one writer (local: the
 * file lock).  An S3 backend locks nothing: every host reaches the bytes,
 * and the caller holds the upload by its row instead (resumable.c).
 */
bool		 store_part_locks(struct store *);
/*
 * Makes a partial file's bytes durable as they are, before the offset
 * naming them commits (local: fsync; S3: the unfilled last part PUT as a
 * tail object).  store_tmp_sync is for the whole file at completion.
 */
enum store_error store_part_sync(struct store *, struct store_tmp *);
/*
 * A partial upload of tus concatenation: store_part_seal, on the held
 * partial file once its last byte is in, makes its bytes one readable
 * whole (S3: the parts assembled into one object), before the offset
 * that completes it commits; a later request that holds it calls
 * store_part_sealed with its size, and reads it with store_tmp_read.
 * STORE_ERR_NOENT when the sealed bytes are not there.
 */
enum store_error store_part_seal(struct store *, struct store_tmp *);
enum store_error store_part_sealed(struct store *, struct store_tmp *,
		    uint64_t size);
enum store_error store_part_cut(struct store *, struct store_tmp *,
		    uint64_t offset);
void		 store_part_close(struct store *, struct store_tmp *);
int		 store_part_remove(struct store *, const char *id);

/*
 * A delete in hand, between store_trash and its store_untrash or
 * store_purge: the file's name aside and the backend's hold on it (local:
 * the open, locked trash file).  The caller owns the struct; each delete
 * has its own, so two deletes on one thread never share a lock.
 */
struct store_trash {
	char	 name[STORE_TRASH_MAX];	/* "" when nothing is aside */
	int	 lock;			/* the backend's; -1 when none */
};

/*
 * Delete in two steps so that the row's removal can commit in between
 * (the worker holds a lock on the trash file until then, so a sweep
 * knows a dead worker's trash from a live delete's):
 * store_trash moves the file of hash aside, filling t (t->name "" when
 * it fails: the file is where it was).  store_untrash puts it back (the
 * delete did not commit) unless a file took the place meanwhile
 * (STORE_ERR_EXISTS: a newer upload's, never overwritten); store_purge
 * removes it (the delete committed).  Either lets go of t's lock, and
 * t->name stays for a message.  On failure errno tells the cause.
 * store_trash_name makes t for a trash known by name only (a walk's
 * TRASH entry, store_find_trash), which nobody holds.
 */
enum store_error store_trash(struct store *, const char *hash,
		    struct store_trash *t);
enum store_error store_untrash(struct store *, struct store_trash *t,
		    const char *hash);
void		 store_purge(struct store *, struct store_trash *t);
void		 store_trash_name(struct store_trash *t, const char *name);

/* True when the file of hash is present. */
bool		 store_exists(struct store *, const char *hash);
/* Whether the store can take an upload now (the health route). */
enum store_error store_check(struct store *);
/*
 * The X-Accel-Redirect target that makes nginx send the file of hash
 * (STORE_TARGET_MAX bytes): STORE_OK, STORE_ERR_NOENT when the file is
 * missing, STORE_ERR_UNAVAILABLE when the store does not answer.  digest
 * (the file's Repr-Digest value, or NULL) goes into the target where
 * nginx's location cannot see the worker's headers (an object store's
 * location talks to a second upstream).
 */
#define STORE_TARGET_MAX	4096
enum store_error store_locate(struct store *, const char *hash,
		    const char *digest, char *out, size_t outlen);

/*
 * Cleans tmp/ of what dead workers left, by the rule of store_walk_tmp: an
 * abandoned upload's temp file is removed; an abandoned trash file (a
 * delete whose worker died before its COMMIT) is put back in its place
 * when that is empty, else removed.  Partial files are the uploads
 * table's and are left alone.  Returns the number of files handled.
 */
int		 store_sweep(struct store *, int upload_grace, int trash_grace);

/* ------------------------------------------------------ for fileupload-fsck */

/* An object as a walk saw it. */
struct store_stat {
	uint64_t size;
	int64_t	 mtime;		/* seconds since the epoch */
	uint64_t id[2];		/* this version of it (local: device, inode) */
};

enum store_entry_kind {
	STORE_ENTRY_FILE,	/* a stored file: hash, st */
	STORE_ENTRY_UPLOAD,	/* an abandoned upload's temp file: name, st */
	STORE_ENTRY_TRASH,	/* an abandoned delete's trash: name, hash, st */
	STORE_ENTRY_PART,	/* a resumable upload's partial file, older
				   than upload_grace: name, hash (its id), st */
	STORE_ENTRY_STRAY,	/* anything the store did not make: path */
	STORE_ENTRY_ERROR,	/* path could not be looked at: error */
	STORE_ENTRY__MAX
};

struct store_entry {
	enum store_entry_kind	kind;
	char		path[STORE_PATH_MAX];	/* from the root, raw bytes */
	char		name[STORE_PATH_MAX];	/* path's last part */
	/*
	 * FILE: its hash; TRASH: the hash its name carries, "" when none;
	 * PART: the upload id its name carries.
	 */
	char		hash[HASH_HEX_LEN + 1];
	struct store_stat st;
	int		error;			/* ERROR: an errno */
};

/*
 * The stored files in byte order of their hash, and what else lies in the
 * store (but tmp/ and lost+found/), as STRAY entries on the way.  Memory
 * is bounded by the largest directory, never by the number of files.
 * NULL with errno when the store cannot be read.
 */
struct store_walk *store_walk_files(struct store *);
/*
 * The abandoned files of tmp/ and its strays, and the resumable uploads'
 * partial files not written for upload_grace (whether their upload is
 * still there is the database's to say).  A file is abandoned when no
 * live upload or delete holds its lock and it is older than its grace
 * (seconds): upload_grace for an upload's temp file, trash_grace for a
 * trash file, an hour at least for a temp file not yet locked (its worker
 * was killed between creating and locking it).  The worker's sweep trusts
 * the lock (grace 0); fsck gives a margin.  An UPLOAD or TRASH entry stays
 * locked by the walk until the next call.  NULL with errno.
 */
struct store_walk *store_walk_tmp(struct store *, int upload_grace,
		    int trash_grace);
/* The next entry: 1 with e filled, 0 at the end. */
int		 store_walk_next(struct store_walk *, struct store_entry *e);
/* Removes the current UPLOAD or TRASH entry: 0, or -1 with errno. */
int		 store_walk_remove(struct store_walk *);
/* Ends the walk; NULL is fine. */
void		 store_walk_close(struct store_walk *);

/*
 * The first trash file of hash ("trash-<hash>-..."): 1 with t made for it
 * (store_trash_name), 0 when there is none, -1 with errno.
 */
int		 store_find_trash(struct store *, const char *hash,
		    struct store_trash *t);
/* Whether the trash file is still the object a walk saw as seen. */
bool		 store_trash_is(struct store *, const char *trash,
		    const struct store_stat *seen);
/*
 * Moves the file of hash where a human will look at it and no walk does
 * (local: lost+found/<hash>), its place written to where: 0, or -1 with
 * errno.  store_unquarantine puts it back.
 */
int		 store_quarantine(struct store *, const char *hash,
		    char *where, size_t wherelen);
int		 store_unquarantine(struct store *, const char *hash);
/*
 * Whether the content of the file of hash hashes to its name: 1 yes, 0 no
 * (got holds what it hashes to), -1 with errno.
 */
int		 store_verify(struct store *, const char *hash,
		    char got[HASH_HEX_LEN + 1]);

#endif
