/*
 * What a store backend implements; included by store.c and the backends
 * only.  A backend's handle begins with struct store, its walks with
 * struct store_walk, and it fills a struct store_ops whose members follow
 * the contracts of the store.h functions of the same names (store.c
 * passes the calls through).  Every member is required but the part_*
 * group, which a backend without partial files leaves NULL (store.c
 * answers for it); store.c checks a partial upload's id before the
 * backend sees it, and sweeps through the walk members.
 */
#ifndef STORE_IMPL_H
#define STORE_IMPL_H

#include "store.h"

struct store_ops;

struct store {
	const struct store_ops	*ops;
};

struct store_walk {
	struct store	*store;
};

struct store_ops {
	const char	*location;	/* store_location */
	void		 (*close)(struct store *);

	enum store_error (*tmp_create)(struct store *, struct store_tmp *);
	enum store_error (*tmp_write)(struct store *, struct store_tmp *,
			    const void *, size_t);
	enum store_error (*tmp_sync)(struct store *, struct store_tmp *);
	enum store_error (*tmp_commit)(struct store *, struct store_tmp *,
			    const char *hash);
	void		 (*tmp_abort)(struct store *, struct store_tmp *);
	long		 (*tmp_read)(struct store *, struct store_tmp *,
			    void *, size_t, uint64_t);

	enum store_error (*part_open)(struct store *, const char *id,
			    bool create, struct store_tmp *);
	enum store_error (*part_cut)(struct store *, struct store_tmp *,
			    uint64_t offset);
	void		 (*part_close)(struct store *, struct store_tmp *);
	int		 (*part_remove)(struct store *, const char *id);
	enum store_error (*part_sync)(struct store *, struct store_tmp *);
	enum store_error (*part_seal)(struct store *, struct store_tmp *);
	enum store_error (*part_sealed)(struct store *, struct store_tmp *,
			    uint64_t);
	bool		 part_locks;	/* store_part_locks */

	/* t arrives with name "" and lock -1. */
	enum store_error (*trash)(struct store *, const char *hash,
			    struct store_trash *t);
	enum store_error (*untrash)(struct store *, struct store_trash *,
			    const char *hash);
	void		 (*purge)(struct store *, struct store_trash *);
	bool		 (*exists)(struct store *, const char *hash);
	enum store_error (*check)(struct store *);
	enum store_error (*locate)(struct store *, const char *hash,
	    const char *digest,
			    char *out, size_t outlen);

	struct store_walk *(*walk_files)(struct store *);
	struct store_walk *(*walk_tmp)(struct store *, int upload_grace,
			    int trash_grace);
	int		 (*walk_next)(struct store_walk *, struct store_entry *);
	int		 (*walk_remove)(struct store_walk *);
	/*
	 * The sweep's way with the current TRASH entry (its hash known): back
	 * in its place when that is empty.  0 when it is dealt with (back, or
	 * kept for the next sweep), -1 when it cannot go back (the caller
	 * removes it).
	 */
	int		 (*walk_restore)(struct store_walk *,
			    const struct store_entry *);
	void		 (*walk_close)(struct store_walk *);

	int		 (*find_trash)(struct store *, const char *hash,
			    char *out, size_t outlen);
	bool		 (*trash_is)(struct store *, const char *trash,
			    const struct store_stat *seen);
	int		 (*quarantine)(struct store *, const char *hash,
			    char *where, size_t wherelen);
	int		 (*unquarantine)(struct store *, const char *hash);
	int		 (*verify)(struct store *, const char *hash,
			    char got[HASH_HEX_LEN + 1]);
};

/* The backends' openers (store_open's table): store_local.c, store_s3.c. */
struct store	*store_local_open(const struct store_config *, char *err,
		    size_t errlen);
struct store	*store_s3_open(const struct store_config *, char *err,
		    size_t errlen);

/* Whether id may name a partial file (store.h, store_part_open). */
bool		 store_part_id_ok(const char *id);

/* Maps an errno from a write path to the store error it means. */
enum store_error store_errno(int);

#endif
