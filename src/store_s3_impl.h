/*
 * The S3 backend's insides, shared by store_s3.c (files, uploads, fsck)
 * and store_s3_part.c (resumable uploads' partial bytes); included by
 * those two only.
 */
#ifndef STORE_S3_IMPL_H
#define STORE_S3_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "s3.h"
#include "store.h"
#include "store_impl.h"

#define TMP_DIR		"tmp/"
#define PART_PREFIX	"part-"		/* tmp/part-<upload id>: resumable */
#define ID_MAX		1024		/* an S3 multipart upload id */
#define LIST_KEYS	"1000"

struct s3_store {
	struct store	 base;
	struct s3	 s3;
};

/* One upload's state: struct store_tmp's backend. */
struct s3_upload {
	char		 key[S3_KEY_MAX];	/* under tmp/ */
	char		 upload_id[ID_MAX];	/* "" when no multipart */
	char		*buf;			/* the part being filled */
	size_t		 len;
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

/* Sends req: STORE_OK on a 2xx without an <Error> body; logs failures. */
enum store_error s3st_call(struct store *, const char *what,
		    const struct s3_request *, struct s3_response *);
/* s3st_call for a request whose answer is not read. */
enum store_error s3st_send(struct store *, const char *what,
		    const struct s3_request *);
/* A request without a body whose answer is not read. */
enum store_error s3st_simple(struct store *, const char *method,
		    const char *key);
/* HEAD of key: STORE_OK with its size, STORE_ERR_NOENT, or why not. */
enum store_error s3st_head(struct store *, const char *key, uint64_t *size);
/* Server-side copy of src to dst (size bytes). */
enum store_error s3st_copy(struct store *, const char *src, const char *dst,
		    uint64_t size);

/* Multipart uploads: create (its id into id), complete, abort. */
enum store_error s3st_create(struct store *, const char *key, char *id,
		    size_t idlen);
enum store_error s3st_complete(struct store *, const char *key,
		    const char *id, const char *manifest, size_t mlen);
void		 s3st_abort(struct store *, const char *key, const char *id);
int		 s3st_manifest_add(char **manifest, size_t *mlen, unsigned n,
		    const char *etag);
/* Sends u's buffer as its next part (number ++u->parts) and empties it. */
enum store_error s3st_send_part(struct store *, struct s3_upload *);

/* A GET's body into buf (cap bytes): a sink for struct s3_request. */
struct s3st_fill {
	char	*buf;
	size_t	 len, cap;
};
int		 s3st_fill(void *arg, const void *, size_t);

/*
 * One page of a listing: req sent, *more from IsTruncated, and the next
 * page's marker (next_tag's text) into next.  STORE_OK with the page in r
 * (the caller frees it), or why not (r freed).
 */
enum store_error s3st_page(struct store *, const char *what,
		    const struct s3_request *, struct s3_response *r,
		    const char *next_tag, char *next, size_t nextlen,
		    bool *more);

/*
 * Each multipart upload whose key begins with prefix (key, upload id,
 * Initiated), and each object (key, Size, LastModified), page by page:
 * fn returning non-zero stops.  STORE_OK, or why a page failed.
 */
enum store_error s3st_each_upload(struct store *, const char *prefix,
		    int (*fn)(void *, const char *key, const char *id,
		    const char *initiated), void *arg);
enum store_error s3st_each_object(struct store *, const char *prefix,
		    int (*fn)(void *, const char *key, uint64_t size,
		    const char *modified), void *arg);

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
 * into id (TUS_ID_LEN + 1 bytes): true when it is one.
 */
bool		 s3st_part_name(const char *name, char *id);

#endif
