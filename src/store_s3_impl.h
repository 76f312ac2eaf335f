/*
 * The S3 backend's insides, shared by store_s3.c (files, uploads, fsck)
 * and store_s3_part.c (resumable uploads' partial bytes); included by
 * those two only.  Both speak to the store through the client's verbs
 * (s3.h) and map its results with s3st_err.
 */
#ifndef STORE_S3_IMPL_H
#define STORE_S3_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "relay.h"
#include "s3.h"
#include "store.h"
#include "store_impl.h"

#define TMP_DIR		"tmp/"
#define PART_PREFIX	"part-"		/* tmp/part-<upload id>: resumable */

struct s3_store {
	struct store	 base;
	struct s3	 s3;
	struct relay_pool *senders;	/* threads that send uploads' parts */
};

/* A part on its way to the store on a sender thread. */
struct s3_part_job {
	struct store	*store;
	struct s3_upload *upload;
	const char	*buf;
	size_t		 len;
	unsigned	 number;
};

/* One upload's state: struct store_tmp's backend. */
struct s3_upload {
	char		 key[S3_KEY_MAX];	/* under tmp/ */
	char		 upload_id[S3_ID_MAX];	/* "" when no multipart */
	char		*buf;			/* the part being filled */
	size_t		 len;
	/* A sender thread's: the part it sends, while buf fills. */
	struct relay	*sender;
	char		*sending;
	struct s3_part_job job;
	/* Parts sent; resumable: the full parts before buf's. */
	unsigned	 parts;
	char		*manifest;	/* <Part> list for Complete */
	size_t		 manifest_len;
	bool		 object;	/* the tmp/ object exists */
	bool		 resumable;	/* a resumable upload's (store_part_open) */
	bool		 looked_up;	/* resumable: its multipart upload sought */
};

struct s3		*s3st_s3(struct store *);
const struct s3_config *s3st_cfg(struct store *);
/* "<prefix>ab/cd/<hash>" */
void		 s3st_object_key(struct store *, const char *hash,
		    char out[S3_KEY_MAX]);
/* The store error a client's result means. */
enum store_error s3st_err(enum s3_result);
/* Sends u's buffer as its next part (number ++u->parts) and empties it. */
enum store_error s3st_send_part(struct store *, struct s3_upload *);

/* store_s3_part.c: the store_part_* operations, and their tmp_* cases. */
enum store_error s3st_part_open(struct store *, const char *id, bool create,
		    struct store_tmp *);
enum store_error s3st_part_cut(struct store *, struct store_tmp *,
		    uint64_t offset);
void		 s3st_part_close(struct store *, struct store_tmp *);
int		 s3st_part_remove(struct store *, const char *id);
enum store_error s3st_part_sync(struct store *, struct store_tmp *);
enum store_error s3st_part_seal(struct store *, struct store_tmp *);
enum store_error s3st_part_sealed(struct store *, struct store_tmp *,
		    uint64_t size);
/* The multipart upload of a resumable u: found, else made (0 or -1). */
enum store_error s3st_part_upload(struct store *, struct s3_upload *);
/* tmp_sync of a resumable upload: its parts assembled under tmp/. */
enum store_error s3st_part_finish(struct store *, struct store_tmp *);
/*
 * The upload id of a tmp/ key's name ("part-<id>" or "part-<id>.<n>"),
 * into id (STORE_PART_ID_MAX + 1 bytes): true when it is one.
 */
bool		 s3st_part_name(const char *name, char *id);

#endif
