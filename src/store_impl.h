/*
 * What a store backend implements; included by store.c and the backends
 * only.  A backend's handle begins with struct store, its walks with
 * struct store_walk, and it fills a struct store_ops whose members follow
 * the contracts of the store.h functions of the same names (store.c
 * passes the calls through unchanged).
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

	enum store_error (*trash)(struct store *, const char *hash,
			    struct store_trash *);
	enum store_error (*untrash)(struct store *, struct store_trash *,
			    const char *hash);
	void		 (*purge)(struct store *, struct store_trash *);
	bool		 (*exists)(struct store *, const char *hash);
	int		 (*sweep)(struct store *, int upload_grace,
			    int trash_grace);
	enum store_error (*check)(struct store *);
	enum store_error (*locate)(struct store *, const char *hash,
	    const char *digest,
			    char *out, size_t outlen);

	struct store_walk *(*walk_files)(struct store *);
	struct store_walk *(*walk_tmp)(struct store *, int upload_grace,
			    int trash_grace);
	int		 (*walk_next)(struct store_walk *, struct store_entry *);
	int		 (*walk_remove)(struct store_walk *);
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

/* The local backend (store_local.c): DATA_DIR. */
struct store	*store_local_open(const char *data_dir, char *err,
		    size_t errlen);

/* Maps an errno from a write path to the store error it means. */
enum store_error store_errno(int);

#endif
