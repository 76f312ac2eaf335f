/*
 * The S3 backend: objects in a bucket of an S3-API store (s3.h).
 *
 *   <prefix>ab/cd/<hash>		a stored file
 *   <prefix>tmp/<id>			an upload in parts, before its hash
 *					is known (a multipart upload, then
 *					an object until it is copied)
 *   <prefix>trash/<hash>-<mtime>-<id>	a file being deleted, until COMMIT
 *					(mtime: the deleted object's)
 *   <prefix>lost+found/<hash>		a corrupt file fsck took out of service
 *
 * An upload keeps at most one part (S3_PART_SIZE) in memory.  A file of
 * one part or less never touches tmp/: it is PUT under its hash at
 * commit.  A larger one goes up in parts under a tmp/ key while it
 * streams, and is copied server-side to its hash at commit (the hash is
 * known only at the end, and an object's key cannot change).  Nothing
 * holds a lock across hosts, so the sweep goes by age: a tmp/ upload or
 * object, or a trash object, older than S3_SWEEP_GRACE is abandoned.
 * fsck's walks are ListObjectsV2 pages.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "hash.h"
#include "log.h"
#include "s3.h"
#include "store.h"
#include "store_impl.h"

#define TMP_DIR		"tmp/"
#define TRASH_DIR	"trash/"
#define LOST_DIR	"lost+found/"
#define S3_LOCATION	"/_fileupload_s3/"
#define COPY_MAX	S3_MAX_PART	/* CopyObject's limit */
#define ID_MAX		1024		/* an upload id */
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
	unsigned	 parts;
	char		*manifest;	/* <Part> list for Complete */
	size_t		 manifest_len;
	bool		 object;	/* the tmp/ object exists */
};

static struct s3 *
s3_of(struct store *s)
{
	return &((struct s3_store *)s)->s3;
}

static const struct s3_config *
cfg_of(struct store *s)
{
	return s3_of(s)->cfg;
}

static void
object_key(struct store *s, const char *hash, char out[S3_KEY_MAX])
{
	snprintf(out, S3_KEY_MAX, "%s%.2s/%.2s/%s", cfg_of(s)->prefix, hash,
	    hash + 2, hash);
}

/* The store error an answer (or its absence, rc -1) means; logs it. */
static enum store_error
failure(const char *what, const char *key, int rc,
    const struct s3_response *r)
{
	log_warnx("s3 %s %s: %s", what, key, r->error[0] ? r->error :
	    "failed");
	/* errno for the callers that report one (fsck). */
	if (rc == -1 || r->status >= 500 || r->status == 0) {
		errno = EIO;
		return STORE_ERR_UNAVAILABLE;
	}
	if (r->status == 404) {
		errno = ENOENT;
		return STORE_ERR_NOENT;
	}
	errno = r->status == 403 ? EACCES : EIO;
	return STORE_ERR_IO;
}

/* Sends req: STORE_OK on a 2xx without an <Error> body. */
static enum store_error
call(struct store *s, const char *what, const struct s3_request *req,
    struct s3_response *r)
{
	int	 rc = s3_send(s3_of(s), req, r);

	/* CopyObject and CompleteMultipartUpload may fail with a 200. */
	if (rc == 0 && r->status / 100 == 2 && (r->body == NULL ||
	    strstr(r->body, "<Error>") == NULL))
		return STORE_OK;
	if (rc == 0 && r->status / 100 == 2) {
		size_t	 pos = 0;

		s3_xml_next(r->body, "Code", &pos, r->error, sizeof(r->error));
		r->status = 500;
	}
	return failure(what, req->key != NULL ? req->key : "(bucket)", rc, r);
}

/* A request without a body whose answer is not read. */
static enum store_error
simple(struct store *s, const char *method, const char *key)
{
	struct s3_request req = { .method = method, .key = key };
	struct s3_response r;
	enum store_error e;

	e = call(s, method, &req, &r);
	s3_response_free(&r);
	return e;
}

/* ----------------------------------------------------------- multipart */

/* CompleteMultipartUpload with manifest's <Part> list. */
static enum store_error
complete(struct store *s, const char *key, const char *id,
    const char *manifest, size_t mlen)
{
	struct s3_request req = { .method = "POST", .key = key, .nparams = 1,
	    .params = { { "uploadId", id } } };
	struct s3_response r;
	enum store_error e;
	char		*body;

	if ((body = malloc(mlen + 128)) == NULL)
		return STORE_ERR_IO;
	req.len = (size_t)sprintf(body, "<CompleteMultipartUpload>%.*s"
	    "</CompleteMultipartUpload>", (int)mlen, manifest != NULL ?
	    manifest : "");
	req.body = body;
	e = call(s, "complete", &req, &r);
	s3_response_free(&r);
	free(body);
	return e;
}

static void
abort_upload(struct store *s, const char *key, const char *id)
{
	struct s3_request req = { .method = "DELETE", .key = key,
	    .nparams = 1, .params = { { "uploadId", id } } };
	struct s3_response r;

	call(s, "abort", &req, &r);
	s3_response_free(&r);
}

/* CreateMultipartUpload of key: its id into id. */
static enum store_error
create_upload(struct store *s, const char *key, char *id, size_t idlen)
{
	struct s3_request req = { .method = "POST", .key = key, .nparams = 1,
	    .params = { { "uploads", "" } } };
	struct s3_response r;
	enum store_error e;
	size_t		 pos = 0;

	if ((e = call(s, "create upload", &req, &r)) == STORE_OK &&
	    s3_xml_next(r.body, "UploadId", &pos, id, idlen) != 1) {
		log_warnx("s3 create upload %s: no UploadId", key);
		e = STORE_ERR_IO;
	}
	s3_response_free(&r);
	return e;
}

/* Adds part n, of ETag etag, to the manifest. */
static int
manifest_add(char **manifest, size_t *mlen, unsigned n, const char *etag)
{
	char	*m;

	if ((m = realloc(*manifest, *mlen + strlen(etag) + 80)) == NULL)
		return -1;
	*manifest = m;
	*mlen += (size_t)sprintf(m + *mlen, "<Part><PartNumber>%u</PartNumber>"
	    "<ETag>%s</ETag></Part>", n, etag);
	return 0;
}

/* ------------------------------------------------------------- copying */

/* A copy over CopyObject's 5 GiB: UploadPartCopy in ranges. */
static enum store_error
copy_parts(struct store *s, const char *dst, uint64_t size,
    const char *source)
{
	struct s3_request req;
	struct s3_response r;
	enum store_error e;
	char		 id[ID_MAX], range[64], num[16], etag[128];
	char		*manifest = NULL;
	size_t		 mlen = 0, pos;
	uint64_t	 off;
	unsigned	 n = 0;

	if ((e = create_upload(s, dst, id, sizeof(id))) != STORE_OK)
		return e;
	for (off = 0; off < size && e == STORE_OK; off += COPY_MAX) {
		snprintf(num, sizeof(num), "%u", ++n);
		snprintf(range, sizeof(range), "bytes=%llu-%llu",
		    (unsigned long long)off, (unsigned long long)((size - off >
		    COPY_MAX ? off + COPY_MAX : size) - 1));
		req = (struct s3_request){ .method = "PUT", .key = dst,
		    .nparams = 2, .params = { { "partNumber", num },
		    { "uploadId", id } }, .copy_source = source,
		    .copy_range = range };
		if ((e = call(s, "copy part", &req, &r)) == STORE_OK) {
			pos = 0;
			if (s3_xml_next(r.body, "ETag", &pos, etag,
			    sizeof(etag)) != 1 ||
			    manifest_add(&manifest, &mlen, n, etag) == -1)
				e = STORE_ERR_IO;
		}
		s3_response_free(&r);
	}
	if (e == STORE_OK)
		e = complete(s, dst, id, manifest, mlen);
	if (e != STORE_OK)
		abort_upload(s, dst, id);
	free(manifest);
	return e;
}

/* Server-side copy of src to dst (size bytes). */
static enum store_error
copy_object(struct store *s, const char *src, const char *dst, uint64_t size)
{
	struct s3_config path_cfg = { .bucket = cfg_of(s)->bucket,
	    .path_style = true };
	struct s3_request req = { .method = "PUT", .key = dst };
	struct s3_response r;
	enum store_error e;
	char		 source[S3_KEY_MAX * 3 + 80];

	/* x-amz-copy-source is "/bucket/key" whatever the addressing. */
	if (s3_path(&path_cfg, src, source, sizeof(source)) == -1)
		return STORE_ERR_IO;
	if (size > COPY_MAX)
		return copy_parts(s, dst, size, source);
	req.copy_source = source;
	e = call(s, "copy", &req, &r);
	s3_response_free(&r);
	return e;
}

/* HEAD of key: STORE_OK with its size and mtime, NOENT, or why not. */
static enum store_error
head_stat(struct store *s, const char *key, uint64_t *size, int64_t *mtime)
{
	struct s3_request req = { .method = "HEAD", .key = key };
	struct s3_response r;
	enum store_error e;
	int		 rc = s3_send(s3_of(s), &req, &r);

	if (rc == 0 && r.status == 200) {
		if (size != NULL)
			*size = r.length > 0 ? (uint64_t)r.length : 0;
		if (mtime != NULL)
			*mtime = r.last_modified;
		e = STORE_OK;
	} else if (rc == 0 && r.status == 404)
		e = STORE_ERR_NOENT;
	else
		e = failure("head", key, rc, &r);
	s3_response_free(&r);
	return e;
}

static enum store_error
head(struct store *s, const char *key, uint64_t *size)
{
	return head_stat(s, key, size, NULL);
}

/* ------------------------------------------------------------- uploads */

static enum store_error
s3_tmp_create(struct store *s, struct store_tmp *t)
{
	struct s3_upload *u;
	unsigned char	 r[16];
	char		 hex[sizeof(r) * 2 + 1];

	if ((u = calloc(1, sizeof(*u))) == NULL)
		return STORE_ERR_IO;
	randombytes_buf(r, sizeof(r));
	sodium_bin2hex(hex, sizeof(hex), r, sizeof(r));
	snprintf(u->key, sizeof(u->key), "%s" TMP_DIR "%s", cfg_of(s)->prefix,
	    hex);
	snprintf(t->name, sizeof(t->name), "%s", hex);
	t->backend = u;
	t->size = 0;
	return STORE_OK;
}

/* Sends the filled part, starting the multipart upload on the first. */
static enum store_error
send_part(struct store *s, struct s3_upload *u)
{
	struct s3_request req;
	struct s3_response r;
	enum store_error e;
	char		 num[16];

	if (u->upload_id[0] == '\0' && (e = create_upload(s, u->key,
	    u->upload_id, sizeof(u->upload_id))) != STORE_OK)
		return e;
	snprintf(num, sizeof(num), "%u", ++u->parts);
	req = (struct s3_request){ .method = "PUT", .key = u->key,
	    .nparams = 2, .params = { { "partNumber", num },
	    { "uploadId", u->upload_id } }, .body = u->buf, .len = u->len };
	if ((e = call(s, "upload part", &req, &r)) == STORE_OK &&
	    (r.etag[0] == '\0' || manifest_add(&u->manifest, &u->manifest_len,
	    u->parts, r.etag) == -1)) {
		log_warnx("s3 upload part %s: no ETag", u->key);
		e = STORE_ERR_IO;
	}
	s3_response_free(&r);
	u->len = 0;
	return e;
}

static enum store_error
s3_tmp_write(struct store *s, struct store_tmp *t, const void *p, size_t len)
{
	struct s3_upload *u = t->backend;
	size_t		 part = (size_t)cfg_of(s)->part_size, n;
	enum store_error e;

	if (u->buf == NULL && len > 0 && (u->buf = malloc(part)) == NULL)
		return STORE_ERR_IO;
	while (len > 0) {
		/* A full part goes only once more bytes follow it. */
		if (u->len == part && (e = send_part(s, u)) != STORE_OK)
			return e;
		n = part - u->len < len ? part - u->len : len;
		memcpy(u->buf + u->len, p, n);
		u->len += n;
		t->size += n;
		p = (const char *)p + n;
		len -= n;
	}
	return STORE_OK;
}

/* A file in parts is completed under tmp/; one part waits for its hash. */
static enum store_error
s3_tmp_sync(struct store *s, struct store_tmp *t)
{
	struct s3_upload *u = t->backend;
	enum store_error e;

	if (u->upload_id[0] == '\0')
		return STORE_OK;
	if ((e = send_part(s, u)) != STORE_OK)
		return e;
	if ((e = complete(s, u->key, u->upload_id, u->manifest,
	    u->manifest_len)) != STORE_OK)
		return e;
	u->upload_id[0] = '\0';
	u->object = true;
	return STORE_OK;
}

static enum store_error
s3_tmp_commit(struct store *s, struct store_tmp *t, const char *hash)
{
	struct s3_upload *u = t->backend;
	struct s3_request req;
	struct s3_response r;
	enum store_error e;
	char		 key[S3_KEY_MAX];

	object_key(s, hash, key);
	if (u->object) {
		if ((e = copy_object(s, u->key, key, t->size)) == STORE_OK &&
		    simple(s, "DELETE", u->key) == STORE_OK)
			u->object = false;
		return e;
	}
	req = (struct s3_request){ .method = "PUT", .key = key,
	    .body = u->buf != NULL ? u->buf : "", .len = u->len };
	e = call(s, "put", &req, &r);
	s3_response_free(&r);
	return e;
}

static void
s3_tmp_abort(struct store *s, struct store_tmp *t)
{
	struct s3_upload *u = t->backend;

	if (u == NULL)
		return;
	if (u->upload_id[0] != '\0')
		abort_upload(s, u->key, u->upload_id);
	if (u->object)
		simple(s, "DELETE", u->key);
	free(u->buf);
	free(u->manifest);
	free(u);
	t->backend = NULL;
}

/* -------------------------------------------------------------- delete */

/* trash: "<hash>-<id>", its key <prefix>trash/<trash>. */
static int
trash_key(struct store *s, const char *trash, char out[S3_KEY_MAX])
{
	if (strlen(trash) < HASH_HEX_LEN + 2 || strchr(trash, '/') != NULL)
		return -1;
	snprintf(out, S3_KEY_MAX, "%s" TRASH_DIR "%s", cfg_of(s)->prefix,
	    trash);
	return 0;
}

static enum store_error
s3_trash(struct store *s, const char *hash, char *trash, size_t trashlen)
{
	unsigned char	 r[8];
	char		 hex[sizeof(r) * 2 + 1], key[S3_KEY_MAX];
	char		 tkey[S3_KEY_MAX];
	uint64_t	 size;
	int64_t		 mtime;
	enum store_error e;

	object_key(s, hash, key);
	if ((e = head_stat(s, key, &size, &mtime)) != STORE_OK)
		return e;
	randombytes_buf(r, sizeof(r));
	sodium_bin2hex(hex, sizeof(hex), r, sizeof(r));
	/* The source's mtime in the name: store_trash_is compares it. */
	snprintf(trash, trashlen, "%s-%lld-%s", hash, (long long)mtime, hex);
	if (trash_key(s, trash, tkey) == -1)
		return STORE_ERR_IO;
	if ((e = copy_object(s, key, tkey, size)) != STORE_OK)
		return e;
	if ((e = simple(s, "DELETE", key)) != STORE_OK)
		simple(s, "DELETE", tkey);
	return e;
}

static enum store_error
s3_untrash(struct store *s, const char *trash, const char *hash)
{
	char		 key[S3_KEY_MAX], tkey[S3_KEY_MAX];
	uint64_t	 size;
	enum store_error e;

	object_key(s, hash, key);
	if (trash_key(s, trash, tkey) == -1)
		return STORE_ERR_IO;
	if ((e = head(s, key, NULL)) == STORE_OK)
		return STORE_ERR_EXISTS;
	if (e != STORE_ERR_NOENT || (e = head(s, tkey, &size)) != STORE_OK ||
	    (e = copy_object(s, tkey, key, size)) != STORE_OK)
		return e;
	simple(s, "DELETE", tkey);
	return STORE_OK;
}

static void
s3_purge(struct store *s, const char *trash)
{
	char	 tkey[S3_KEY_MAX];

	if (trash_key(s, trash, tkey) == 0)
		simple(s, "DELETE", tkey);
}

static bool
s3_exists(struct store *s, const char *hash)
{
	char	 key[S3_KEY_MAX];

	object_key(s, hash, key);
	return head(s, key, NULL) == STORE_OK;
}

/* --------------------------------------------------------------- sweep */

static bool
older(const char *stamp, unsigned grace)
{
	int64_t	 t = s3_parse_time(stamp);

	return t != -1 && t + (int64_t)grace < (int64_t)time(NULL);
}

/* Aborts the multipart uploads under tmp/ older than the grace. */
static int
sweep_uploads(struct store *s, unsigned grace)
{
	struct s3_request req;
	struct s3_response r;
	char		 prefix[S3_KEY_MAX], key[S3_KEY_MAX], id[ID_MAX];
	char		 when[64], kmark[S3_KEY_MAX] = "", imark[ID_MAX] = "";
	char		 trunc[8], elem[4096];
	size_t		 pos, p2;
	int		 n = 0, more = 1;

	snprintf(prefix, sizeof(prefix), "%s" TMP_DIR, cfg_of(s)->prefix);
	while (more) {
		req = (struct s3_request){ .method = "GET", .nparams = 2,
		    .params = { { "uploads", "" }, { "prefix", prefix } } };
		if (kmark[0] != '\0') {
			req.params[req.nparams][0] = "key-marker";
			req.params[req.nparams++][1] = kmark;
			req.params[req.nparams][0] = "upload-id-marker";
			req.params[req.nparams++][1] = imark;
		}
		if (call(s, "list uploads", &req, &r) != STORE_OK ||
		    r.body == NULL) {
			s3_response_free(&r);
			return n;
		}
		pos = p2 = 0;
		more = s3_xml_next(r.body, "IsTruncated", &pos, trunc,
		    sizeof(trunc)) == 1 && strcmp(trunc, "true") == 0;
		pos = 0;
		if (more && (s3_xml_next(r.body, "NextKeyMarker", &pos, kmark,
		    sizeof(kmark)) != 1 || s3_xml_next(r.body,
		    "NextUploadIdMarker", &p2, imark, sizeof(imark)) != 1))
			more = 0;
		pos = 0;
		while (s3_xml_element(r.body, "Upload", &pos, elem,
		    sizeof(elem)) == 1) {
			size_t	 a = 0, b = 0, c = 0;

			if (s3_xml_next(elem, "Key", &a, key, sizeof(key)) == 1 &&
			    s3_xml_next(elem, "UploadId", &b, id,
			    sizeof(id)) == 1 && s3_xml_next(elem, "Initiated",
			    &c, when, sizeof(when)) == 1 &&
			    strncmp(key, prefix, strlen(prefix)) == 0 &&
			    older(when, grace)) {
				abort_upload(s, key, id);
				n++;
			}
		}
		s3_response_free(&r);
	}
	return n;
}

/* An abandoned trash object: back in its place when that is empty. */
static void
restore_trash(struct store *s, const char *tkey, const char *name,
    uint64_t size)
{
	char	 hash[HASH_HEX_LEN + 1], key[S3_KEY_MAX];

	if (strlen(name) > HASH_HEX_LEN && name[HASH_HEX_LEN] == '-' &&
	    hash_parse(name, HASH_HEX_LEN, hash)) {
		object_key(s, hash, key);
		if (head(s, key, NULL) == STORE_ERR_NOENT &&
		    copy_object(s, tkey, key, size) != STORE_OK)
			return;	/* kept for the next sweep */
	}
	simple(s, "DELETE", tkey);
}

/*
 * The objects under dir (tmp/ or trash/) older than the grace: a tmp/
 * object is deleted, a trash object restored or deleted.
 */
static int
sweep_objects(struct store *s, const char *dir, unsigned grace)
{
	struct s3_request req;
	struct s3_response r;
	char		 prefix[S3_KEY_MAX], key[S3_KEY_MAX], when[64];
	char		 token[2048] = "", trunc[8], size[32], elem[4096];
	size_t		 pos, plen;
	int		 n = 0, more = 1;

	plen = (size_t)snprintf(prefix, sizeof(prefix), "%s%s",
	    cfg_of(s)->prefix, dir);
	while (more) {
		req = (struct s3_request){ .method = "GET", .nparams = 3,
		    .params = { { "list-type", "2" }, { "prefix", prefix },
		    { "max-keys", LIST_KEYS } } };
		if (token[0] != '\0') {
			req.params[req.nparams][0] = "continuation-token";
			req.params[req.nparams++][1] = token;
		}
		if (call(s, "list", &req, &r) != STORE_OK || r.body == NULL) {
			s3_response_free(&r);
			return n;
		}
		pos = 0;
		more = s3_xml_next(r.body, "IsTruncated", &pos, trunc,
		    sizeof(trunc)) == 1 && strcmp(trunc, "true") == 0;
		pos = 0;
		if (more && s3_xml_next(r.body, "NextContinuationToken", &pos,
		    token, sizeof(token)) != 1)
			more = 0;
		pos = 0;
		while (s3_xml_element(r.body, "Contents", &pos, elem,
		    sizeof(elem)) == 1) {
			size_t	 a = 0, b = 0, c = 0;

			if (s3_xml_next(elem, "Key", &a, key, sizeof(key)) != 1 ||
			    s3_xml_next(elem, "LastModified", &b, when,
			    sizeof(when)) != 1 || s3_xml_next(elem, "Size", &c,
			    size, sizeof(size)) != 1 ||
			    strncmp(key, prefix, plen) != 0 ||
			    !older(when, grace))
				continue;
			if (strcmp(dir, TRASH_DIR) == 0)
				restore_trash(s, key, key + plen,
				    strtoull(size, NULL, 10));
			else
				simple(s, "DELETE", key);
			n++;
		}
		s3_response_free(&r);
	}
	return n;
}

/*
 * No lock reaches across hosts: what is older than S3_SWEEP_GRACE is
 * abandoned (the caller's graces are for the local backend's locks).
 */
static int
s3_sweep(struct store *s, int upload_grace, int trash_grace)
{
	unsigned grace = cfg_of(s)->sweep_grace;

	(void)upload_grace;
	(void)trash_grace;
	return sweep_uploads(s, grace) + sweep_objects(s, TMP_DIR, grace) +
	    sweep_objects(s, TRASH_DIR, grace);
}

/* ------------------------------------------------------ health, content */

static enum store_error
s3_check(struct store *s)
{
	struct s3_request req = { .method = "HEAD" };
	struct s3_response r;
	enum store_error e;
	int		 rc = s3_send(s3_of(s), &req, &r);

	e = rc == 0 && r.status == 200 ? STORE_OK :
	    failure("head bucket", cfg_of(s)->bucket, rc, &r);
	s3_response_free(&r);
	return e;
}

static enum store_error
s3_locate(struct store *s, const char *hash, char *out, size_t outlen)
{
	char		 key[S3_KEY_MAX];
	enum store_error e;

	object_key(s, hash, key);
	if ((e = head(s, key, NULL)) != STORE_OK)
		return e;
	return s3_presigned_target(s3_of(s), S3_LOCATION, key, out,
	    outlen) == 0 ? STORE_OK : STORE_ERR_IO;
}

/* ---------------------------------------------------------------- fsck */

/*
 * A walk over ListObjectsV2 pages, one page in memory.  walk_files lists
 * the whole prefix: keys "ab/cd/<hash>" come in byte order of the hash
 * (S3 lists in UTF-8 byte order), tmp/, trash/ and lost+found/ are left
 * out and anything else is a stray.  walk_tmp lists tmp/ (UPLOAD) and then
 * trash/ (TRASH), each older than S3_SWEEP_GRACE plus the caller's margin.
 */
struct s3_walk {
	struct store_walk base;
	bool		 tmp;		/* walk_tmp */
	int		 phase;		/* walk_tmp: 0 tmp/, 1 trash/, 2 done */
	unsigned	 age[2];	/* walk_tmp: the ages of the phases */
	char		 prefix[S3_KEY_MAX];
	char		 token[2048];
	bool		 listed;	/* a page was asked for */
	bool		 more;		/* another page follows */
	bool		 failed;	/* the error entry was given */
	struct s3_response page;
	size_t		 pos;
	char		 key[S3_KEY_MAX];	/* the current entry's */
};

static struct s3_walk *
walk_new(struct store *s, bool tmp)
{
	struct s3_walk	*w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->base.store = s;
	w->tmp = tmp;
	snprintf(w->prefix, sizeof(w->prefix), "%s%s", cfg_of(s)->prefix,
	    tmp ? TMP_DIR : "");
	return w;
}

static struct store_walk *
s3_walk_files(struct store *s)
{
	struct s3_walk	*w = walk_new(s, false);

	return w != NULL ? &w->base : NULL;
}

static struct store_walk *
s3_walk_tmp(struct store *s, int upload_grace, int trash_grace)
{
	struct s3_walk	*w = walk_new(s, true);
	unsigned	 g = cfg_of(s)->sweep_grace;

	if (w == NULL)
		return NULL;
	w->age[0] = g + (unsigned)(upload_grace > 0 ? upload_grace : 0);
	w->age[1] = g + (unsigned)(trash_grace > 0 ? trash_grace : 0);
	return &w->base;
}

/* The next page of the listing: 1, 0 at the end, -1 on failure. */
static int
next_page(struct s3_walk *w)
{
	struct s3_request req = { .method = "GET", .nparams = 3,
	    .params = { { "list-type", "2" }, { "prefix", w->prefix },
	    { "max-keys", LIST_KEYS } } };
	char		 trunc[8];
	size_t		 pos = 0;

	if (w->listed && !w->more)
		return 0;
	if (w->token[0] != '\0') {
		req.params[req.nparams][0] = "continuation-token";
		req.params[req.nparams++][1] = w->token;
	}
	s3_response_free(&w->page);
	w->listed = true;
	w->pos = 0;
	if (call(w->base.store, "list", &req, &w->page) != STORE_OK ||
	    w->page.body == NULL)
		return -1;
	w->more = s3_xml_next(w->page.body, "IsTruncated", &pos, trunc,
	    sizeof(trunc)) == 1 && strcmp(trunc, "true") == 0;
	pos = 0;
	if (w->more && s3_xml_next(w->page.body, "NextContinuationToken",
	    &pos, w->token, sizeof(w->token)) != 1)
		w->more = false;
	return 1;
}

/* The next listed object: 1 with its key, size, mtime; 0; -1. */
static int
next_object(struct s3_walk *w, uint64_t *size, int64_t *mtime)
{
	char	 elem[4096], when[64], num[32];
	size_t	 a, b, c;
	int	 rc;

	for (;;) {
		if (w->page.body != NULL && s3_xml_element(w->page.body,
		    "Contents", &w->pos, elem, sizeof(elem)) == 1) {
			a = b = c = 0;
			if (s3_xml_next(elem, "Key", &a, w->key,
			    sizeof(w->key)) != 1 || s3_xml_next(elem,
			    "LastModified", &b, when, sizeof(when)) != 1 ||
			    s3_xml_next(elem, "Size", &c, num,
			    sizeof(num)) != 1)
				continue;
			*size = strtoull(num, NULL, 10);
			*mtime = s3_parse_time(when);
			return 1;
		}
		if ((rc = next_page(w)) != 1)
			return rc;
	}
}

/* key's hash when it is "ab/cd/<hash>" of the right ab and cd. */
static bool
file_hash(const char *rel, char hash[HASH_HEX_LEN + 1])
{
	return strlen(rel) == 6 + HASH_HEX_LEN && rel[2] == '/' &&
	    rel[5] == '/' && hash_parse(rel + 6, HASH_HEX_LEN, hash) &&
	    memcmp(rel, hash, 2) == 0 && memcmp(rel + 3, hash + 2, 2) == 0;
}

static int
walk_error(struct s3_walk *w, struct store_entry *e)
{
	if (w->failed)
		return 0;
	w->failed = true;
	e->kind = STORE_ENTRY_ERROR;
	snprintf(e->path, sizeof(e->path), "%.*s", STORE_PATH_MAX - 1,
	    w->prefix);
	e->error = errno != 0 ? errno : EIO;
	return 1;
}

static int
s3_walk_next(struct store_walk *sw, struct store_entry *e)
{
	struct s3_walk	*w = (struct s3_walk *)sw;
	const char	*rel, *cfgp = cfg_of(sw->store)->prefix;
	uint64_t	 size;
	int64_t		 mtime;
	int		 rc;

	memset(e, 0, sizeof(*e));
	for (;;) {
		if ((rc = next_object(w, &size, &mtime)) == -1)
			return walk_error(w, e);
		if (rc == 0) {
			if (!w->tmp || ++w->phase > 1)
				return 0;
			/* tmp/ done: then trash/. */
			snprintf(w->prefix, sizeof(w->prefix), "%s" TRASH_DIR,
			    cfgp);
			w->listed = w->more = false;
			w->token[0] = '\0';
			s3_response_free(&w->page);
			continue;
		}
		rel = w->key + strlen(cfgp);
		e->st.size = size;
		e->st.mtime = mtime;
		snprintf(e->path, sizeof(e->path), "%.*s", STORE_PATH_MAX - 1,
		    rel);
		snprintf(e->name, sizeof(e->name), "%.*s", STORE_PATH_MAX - 1,
		    strrchr(rel, '/') != NULL ? strrchr(rel, '/') + 1 : rel);
		if (w->tmp) {
			if (mtime == -1 || mtime + (int64_t)w->age[w->phase] >=
			    (int64_t)time(NULL))
				continue;	/* young: maybe live */
			e->kind = w->phase == 0 ? STORE_ENTRY_UPLOAD :
			    STORE_ENTRY_TRASH;
			if (w->phase == 1 && (strlen(e->name) <= HASH_HEX_LEN ||
			    e->name[HASH_HEX_LEN] != '-' ||
			    !hash_parse(e->name, HASH_HEX_LEN, e->hash)))
				e->hash[0] = '\0';
			return 1;
		}
		if (strncmp(rel, TMP_DIR, strlen(TMP_DIR)) == 0 ||
		    strncmp(rel, TRASH_DIR, strlen(TRASH_DIR)) == 0 ||
		    strncmp(rel, LOST_DIR, strlen(LOST_DIR)) == 0)
			continue;
		e->kind = file_hash(rel, e->hash) ? STORE_ENTRY_FILE :
		    STORE_ENTRY_STRAY;
		return 1;
	}
}

static int
s3_walk_remove(struct store_walk *sw)
{
	struct s3_walk	*w = (struct s3_walk *)sw;

	return simple(sw->store, "DELETE", w->key) == STORE_OK ? 0 : -1;
}

static void
s3_walk_close(struct store_walk *sw)
{
	struct s3_walk	*w = (struct s3_walk *)sw;

	s3_response_free(&w->page);
	free(w);
}

static int
s3_find_trash(struct store *s, const char *hash, char *out, size_t outlen)
{
	struct s3_request req = { .method = "GET", .nparams = 3,
	    .params = { { "list-type", "2" }, { "max-keys", "1" } } };
	struct s3_response r;
	char		 prefix[S3_KEY_MAX], key[S3_KEY_MAX];
	size_t		 pos = 0, plen;
	int		 rc = 0;

	plen = strlen(cfg_of(s)->prefix) + strlen(TRASH_DIR);
	snprintf(prefix, sizeof(prefix), "%s" TRASH_DIR "%s-",
	    cfg_of(s)->prefix, hash);
	req.params[2][0] = "prefix";
	req.params[2][1] = prefix;
	if (call(s, "list trash", &req, &r) != STORE_OK || r.body == NULL)
		rc = -1;
	else if (s3_xml_next(r.body, "Key", &pos, key, sizeof(key)) == 1 &&
	    strlen(key) > plen) {
		snprintf(out, outlen, "%s", key + plen);
		rc = 1;
	}
	s3_response_free(&r);
	return rc;
}

/* The trash object holds what was at the hash when the walk saw it. */
static bool
s3_trash_is(struct store *s, const char *trash, const struct store_stat *seen)
{
	const char	*p;
	char		*end;
	long long	 mtime;

	(void)s;
	if (strlen(trash) <= HASH_HEX_LEN + 1)
		return false;
	p = trash + HASH_HEX_LEN + 1;
	mtime = strtoll(p, &end, 10);
	return end != p && *end == '-' && mtime == (long long)seen->mtime;
}

/* Moves the object of hash to lost+found/<hash> (or back). */
static int
move_object(struct store *s, const char *hash, bool out, char *where,
    size_t wherelen)
{
	char		 key[S3_KEY_MAX], lost[S3_KEY_MAX];
	const char	*from, *to;
	uint64_t	 size;

	object_key(s, hash, key);
	snprintf(lost, sizeof(lost), "%s" LOST_DIR "%s", cfg_of(s)->prefix,
	    hash);
	from = out ? key : lost;
	to = out ? lost : key;
	if (head(s, from, &size) != STORE_OK ||
	    copy_object(s, from, to, size) != STORE_OK)
		return -1;
	if (simple(s, "DELETE", from) != STORE_OK)
		return -1;
	if (where != NULL)
		snprintf(where, wherelen, "%s", to);
	return 0;
}

static int
s3_quarantine(struct store *s, const char *hash, char *where, size_t wherelen)
{
	return move_object(s, hash, true, where, wherelen);
}

static int
s3_unquarantine(struct store *s, const char *hash)
{
	return move_object(s, hash, false, NULL, 0);
}

static int
hash_sink(void *arg, const void *p, size_t len)
{
	hash_update(arg, p, len);
	return 0;
}

static int
s3_verify(struct store *s, const char *hash, char got[HASH_HEX_LEN + 1])
{
	struct hash_ctx	 ctx;
	struct s3_request req = { .method = "GET", .sink = hash_sink,
	    .sink_arg = &ctx };
	struct s3_response r;
	char		 key[S3_KEY_MAX];
	enum store_error e;

	object_key(s, hash, key);
	req.key = key;
	hash_init(&ctx);
	e = call(s, "get", &req, &r);
	s3_response_free(&r);
	if (e != STORE_OK)
		return -1;
	hash_final_hex(&ctx, got);
	return strcmp(got, hash) == 0;
}

/* ---------------------------------------------------------------- open */

static void
s3_close(struct store *s)
{
	s3_fini(s3_of(s));
	free(s);
}

static const struct store_ops s3_ops = {
	.close = s3_close,
	.tmp_create = s3_tmp_create,
	.tmp_write = s3_tmp_write,
	.tmp_sync = s3_tmp_sync,
	.tmp_commit = s3_tmp_commit,
	.tmp_abort = s3_tmp_abort,
	.trash = s3_trash,
	.untrash = s3_untrash,
	.purge = s3_purge,
	.exists = s3_exists,
	.sweep = s3_sweep,
	.check = s3_check,
	.locate = s3_locate,
	.walk_files = s3_walk_files,
	.walk_tmp = s3_walk_tmp,
	.walk_next = s3_walk_next,
	.walk_remove = s3_walk_remove,
	.walk_close = s3_walk_close,
	.find_trash = s3_find_trash,
	.trash_is = s3_trash_is,
	.quarantine = s3_quarantine,
	.unquarantine = s3_unquarantine,
	.verify = s3_verify,
};

struct store *
store_s3_open(const struct s3_config *cfg, char *err, size_t errlen)
{
	struct s3_store	*st;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	st->base.ops = &s3_ops;
	if (s3_init(&st->s3, cfg) == -1) {
		snprintf(err, errlen, "libcurl cannot be initialised");
		free(st);
		return NULL;
	}
	return &st->base;
}
