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
 *   <prefix>tmp/part-<upload id>[.<n>]	a resumable upload's parts and tail
 *					(store_s3_part.c)
 *
 * An upload keeps at most one part (S3_PART_SIZE) in memory.  A file of
 * one part or less never touches tmp/: it is PUT under its hash at
 * commit.  A larger one goes up in parts under a tmp/ key while it
 * streams, and is copied server-side to its hash at commit (the hash is
 * known only at the end, and an object's key cannot change).  Nothing
 * holds a lock across hosts, so the sweep goes by age: a tmp/ upload or
 * object, or a trash object, older than S3_SWEEP_GRACE is abandoned; but
 * a resumable upload's (tmp/part-*), which the uploads table owns.
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
#include "store_s3_impl.h"

#define TRASH_DIR	"trash/"
#define LOST_DIR	"lost+found/"
#define S3_LOCATION	"/_fileupload_s3/"
#define COPY_MAX	S3_MAX_PART	/* CopyObject's limit */

struct s3 *
s3st_s3(struct store *s)
{
	return &((struct s3_store *)s)->s3;
}

const struct s3_config *
s3st_cfg(struct store *s)
{
	return s3st_s3(s)->cfg;
}

void
s3st_object_key(struct store *s, const char *hash, char out[S3_KEY_MAX])
{
	snprintf(out, S3_KEY_MAX, "%s%.2s/%.2s/%s", s3st_cfg(s)->prefix, hash,
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
enum store_error
s3st_call(struct store *s, const char *what, const struct s3_request *req,
    struct s3_response *r)
{
	int	 rc = s3_send(s3st_s3(s), req, r);

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

/* s3st_call for a request whose answer is not read. */
enum store_error
s3st_send(struct store *s, const char *what, const struct s3_request *req)
{
	struct s3_response r;
	enum store_error e;

	e = s3st_call(s, what, req, &r);
	s3_response_free(&r);
	return e;
}

/* A request without a body whose answer is not read. */
enum store_error
s3st_simple(struct store *s, const char *method, const char *key)
{
	struct s3_request req = { .method = method, .key = key };

	return s3st_send(s, method, &req);
}

/* ----------------------------------------------------------- multipart */

/* CompleteMultipartUpload with manifest's <Part> list. */
enum store_error
s3st_complete(struct store *s, const char *key, const char *id,
    const char *manifest, size_t mlen)
{
	struct s3_request req = { .method = "POST", .key = key, .nparams = 1,
	    .params = { { "uploadId", id } } };
	enum store_error e;
	char		*body;

	if ((body = malloc(mlen + 128)) == NULL)
		return STORE_ERR_IO;
	req.len = (size_t)sprintf(body, "<CompleteMultipartUpload>%.*s"
	    "</CompleteMultipartUpload>", (int)mlen, manifest != NULL ?
	    manifest : "");
	req.body = body;
	e = s3st_send(s, "complete", &req);
	free(body);
	return e;
}

void
s3st_abort(struct store *s, const char *key, const char *id)
{
	struct s3_request req = { .method = "DELETE", .key = key,
	    .nparams = 1, .params = { { "uploadId", id } } };

	(void)s3st_send(s, "abort", &req);
}

/* CreateMultipartUpload of key: its id into id. */
enum store_error
s3st_create(struct store *s, const char *key, char *id, size_t idlen)
{
	struct s3_request req = { .method = "POST", .key = key, .nparams = 1,
	    .params = { { "uploads", "" } } };
	struct s3_response r;
	enum store_error e;
	size_t		 pos = 0;

	if ((e = s3st_call(s, "create upload", &req, &r)) == STORE_OK &&
	    s3_xml_next(r.body, "UploadId", &pos, id, idlen) != 1) {
		log_warnx("s3 create upload %s: no UploadId", key);
		e = STORE_ERR_IO;
	}
	s3_response_free(&r);
	return e;
}

/* Adds part n, of ETag etag, to the manifest. */
int
s3st_manifest_add(char **manifest, size_t *mlen, unsigned n, const char *etag)
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

	if ((e = s3st_create(s, dst, id, sizeof(id))) != STORE_OK)
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
		if ((e = s3st_call(s, "copy part", &req, &r)) == STORE_OK) {
			pos = 0;
			if (s3_xml_next(r.body, "ETag", &pos, etag,
			    sizeof(etag)) != 1 ||
			    s3st_manifest_add(&manifest, &mlen, n, etag) == -1)
				e = STORE_ERR_IO;
		}
		s3_response_free(&r);
	}
	if (e == STORE_OK)
		e = s3st_complete(s, dst, id, manifest, mlen);
	if (e != STORE_OK)
		s3st_abort(s, dst, id);
	free(manifest);
	return e;
}

/* Server-side copy of src to dst (size bytes). */
enum store_error
s3st_copy(struct store *s, const char *src, const char *dst, uint64_t size)
{
	struct s3_config path_cfg = { .bucket = s3st_cfg(s)->bucket,
	    .path_style = true };
	struct s3_request req = { .method = "PUT", .key = dst };
	enum store_error e;
	char		 source[S3_KEY_MAX * 3 + 80];

	/* x-amz-copy-source is "/bucket/key" whatever the addressing. */
	if (s3_path(&path_cfg, src, source, sizeof(source)) == -1)
		return STORE_ERR_IO;
	if (size > COPY_MAX)
		return copy_parts(s, dst, size, source);
	req.copy_source = source;
	e = s3st_send(s, "copy", &req);
	return e;
}

/* HEAD of key: STORE_OK with its size and mtime, NOENT, or why not. */
static enum store_error
head_stat(struct store *s, const char *key, uint64_t *size, int64_t *mtime)
{
	struct s3_request req = { .method = "HEAD", .key = key };
	struct s3_response r;
	enum store_error e;
	int		 rc = s3_send(s3st_s3(s), &req, &r);

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

enum store_error
s3st_head(struct store *s, const char *key, uint64_t *size)
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
	snprintf(u->key, sizeof(u->key), "%s" TMP_DIR "%s", s3st_cfg(s)->prefix,
	    hex);
	snprintf(t->name, sizeof(t->name), "%s", hex);
	t->backend = u;
	t->size = 0;
	return STORE_OK;
}

/* Sends the filled part, starting the multipart upload on the first. */
enum store_error
s3st_send_part(struct store *s, struct s3_upload *u)
{
	struct s3_request req;
	struct s3_response r;
	enum store_error e;
	char		 num[16];

	if (u->upload_id[0] == '\0' && (e = u->resumable ?
	    s3st_part_upload(s, u) : s3st_create(s, u->key, u->upload_id,
	    sizeof(u->upload_id))) != STORE_OK)
		return e;
	snprintf(num, sizeof(num), "%u", ++u->parts);
	req = (struct s3_request){ .method = "PUT", .key = u->key,
	    .nparams = 2, .params = { { "partNumber", num },
	    { "uploadId", u->upload_id } }, .body = u->buf, .len = u->len };
	if ((e = s3st_call(s, "upload part", &req, &r)) == STORE_OK &&
	    (r.etag[0] == '\0' || (!u->resumable && s3st_manifest_add(
	    &u->manifest, &u->manifest_len, u->parts, r.etag) == -1))) {
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
	size_t		 part = (size_t)s3st_cfg(s)->part_size, n;
	enum store_error e;

	if (u->buf == NULL && len > 0 && (u->buf = malloc(part)) == NULL)
		return STORE_ERR_IO;
	while (len > 0) {
		/* A full part goes only once more bytes follow it. */
		if (u->len == part && (e = s3st_send_part(s, u)) != STORE_OK)
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

	if (u->resumable)
		return s3st_part_finish(s, t);
	if (u->upload_id[0] == '\0')
		return STORE_OK;
	if ((e = s3st_send_part(s, u)) != STORE_OK)
		return e;
	if ((e = s3st_complete(s, u->key, u->upload_id, u->manifest,
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
	enum store_error e;
	char		 key[S3_KEY_MAX];

	s3st_object_key(s, hash, key);
	if (u->object) {
		if ((e = s3st_copy(s, u->key, key, t->size)) == STORE_OK &&
		    s3st_simple(s, "DELETE", u->key) == STORE_OK)
			u->object = false;
	} else {
		req = (struct s3_request){ .method = "PUT", .key = key,
		    .body = u->buf != NULL ? u->buf : "", .len = u->len };
		e = s3st_send(s, "put", &req);
	}
	/* A resumable upload's tails go once the file is in place. */
	if (e == STORE_OK && u->resumable &&
	    s3st_part_remove(s, t->name + strlen(PART_PREFIX)) == -1)
		log_warnx("s3 %s: tails left for fsck", u->key);
	return e;
}

int
s3st_fill(void *arg, const void *p, size_t len)
{
	struct s3st_fill *d = arg;

	if (len > d->cap - d->len)
		return -1;
	memcpy(d->buf + d->len, p, len);
	d->len += len;
	return 0;
}

/*
 * Reads back a synced upload: from the buffer while the file is one part
 * (never sent), else a ranged GET of the tmp/ object.
 */
static long
s3_tmp_read(struct store *s, struct store_tmp *t, void *buf, size_t len,
    uint64_t off)
{
	struct s3_upload *u = t->backend;
	struct s3st_fill d = { buf, 0, len };
	struct s3_request req = { .method = "GET", .sink = s3st_fill,
	    .sink_arg = &d };
	char		 range[64];
	enum store_error e;

	if (u == NULL || off >= t->size || len == 0)
		return 0;
	if (len > t->size - off)
		d.cap = len = (size_t)(t->size - off);
	if (!u->object) {
		if (u->parts > 0 || off + len > u->len)
			return -1;
		memcpy(buf, u->buf + off, len);
		return (long)len;
	}
	snprintf(range, sizeof(range), "bytes=%llu-%llu",
	    (unsigned long long)off, (unsigned long long)(off + len - 1));
	req.key = u->key;
	req.range = range + strlen("bytes=");
	e = s3st_send(s, "get", &req);
	return e == STORE_OK ? (long)d.len : -1;
}

static void
s3_tmp_abort(struct store *s, struct store_tmp *t)
{
	struct s3_upload *u = t->backend;

	if (u == NULL)
		return;
	if (u->resumable) {
		(void)s3st_part_remove(s, t->name + strlen(PART_PREFIX));
		s3st_part_close(s, t);
		return;
	}
	if (u->upload_id[0] != '\0')
		s3st_abort(s, u->key, u->upload_id);
	if (u->object)
		s3st_simple(s, "DELETE", u->key);
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
	snprintf(out, S3_KEY_MAX, "%s" TRASH_DIR "%s", s3st_cfg(s)->prefix,
	    trash);
	return 0;
}

static enum store_error
s3_trash(struct store *s, const char *hash, struct store_trash *t)
{
	unsigned char	 r[8];
	char		 hex[sizeof(r) * 2 + 1], key[S3_KEY_MAX];
	char		 tkey[S3_KEY_MAX];
	uint64_t	 size;
	int64_t		 mtime;
	enum store_error e;

	s3st_object_key(s, hash, key);
	if ((e = head_stat(s, key, &size, &mtime)) != STORE_OK)
		return e;
	randombytes_buf(r, sizeof(r));
	sodium_bin2hex(hex, sizeof(hex), r, sizeof(r));
	/* The source's mtime in the name: store_trash_is compares it. */
	snprintf(t->name, sizeof(t->name), "%s-%lld-%s", hash, (long long)mtime, hex);
	if (trash_key(s, t->name, tkey) == -1)
		return STORE_ERR_IO;
	if ((e = s3st_copy(s, key, tkey, size)) != STORE_OK)
		return e;
	if ((e = s3st_simple(s, "DELETE", key)) != STORE_OK)
		s3st_simple(s, "DELETE", tkey);
	return e;
}

static enum store_error
s3_untrash(struct store *s, struct store_trash *t, const char *hash)
{
	char		 key[S3_KEY_MAX], tkey[S3_KEY_MAX];
	uint64_t	 size;
	enum store_error e;

	s3st_object_key(s, hash, key);
	if (trash_key(s, t->name, tkey) == -1)
		return STORE_ERR_IO;
	if ((e = s3st_head(s, key, NULL)) == STORE_OK)
		return STORE_ERR_EXISTS;
	if (e != STORE_ERR_NOENT || (e = s3st_head(s, tkey, &size)) != STORE_OK ||
	    (e = s3st_copy(s, tkey, key, size)) != STORE_OK)
		return e;
	s3st_simple(s, "DELETE", tkey);
	return STORE_OK;
}

static void
s3_purge(struct store *s, struct store_trash *t)
{
	char	 tkey[S3_KEY_MAX];

	if (trash_key(s, t->name, tkey) == 0)
		s3st_simple(s, "DELETE", tkey);
}

static bool
s3_exists(struct store *s, const char *hash)
{
	char	 key[S3_KEY_MAX];

	s3st_object_key(s, hash, key);
	return s3st_head(s, key, NULL) == STORE_OK;
}

/* --------------------------------------------------------------- sweep */

static bool
older(const char *stamp, unsigned grace)
{
	int64_t	 t = s3_parse_time(stamp);

	return t != -1 && t + (int64_t)grace < (int64_t)time(NULL);
}

enum store_error
s3st_page(struct store *s, const char *what, const struct s3_request *req,
    struct s3_response *r, const char *next_tag, char *next, size_t nextlen,
    bool *more)
{
	enum store_error e;
	char		 trunc[8];
	size_t		 pos = 0;

	if ((e = s3st_call(s, what, req, r)) != STORE_OK || r->body == NULL) {
		s3_response_free(r);
		return e != STORE_OK ? e : STORE_ERR_IO;
	}
	*more = s3_xml_next(r->body, "IsTruncated", &pos, trunc,
	    sizeof(trunc)) == 1 && strcmp(trunc, "true") == 0;
	pos = 0;
	if (*more && s3_xml_next(r->body, next_tag, &pos, next, nextlen) != 1)
		*more = false;
	return STORE_OK;
}

enum store_error
s3st_each_upload(struct store *s, const char *prefix,
    int (*fn)(void *, const char *, const char *, const char *), void *arg)
{
	struct s3_request req;
	struct s3_response r;
	enum store_error e = STORE_OK;
	char		 key[S3_KEY_MAX], id[ID_MAX], when[64];
	char		 kmark[S3_KEY_MAX] = "", imark[ID_MAX] = "";
	char		 elem[4096];
	size_t		 pos;
	bool		 more = true;
	int		 stop = 0;

	while (more && !stop) {
		req = (struct s3_request){ .method = "GET", .nparams = 2,
		    .params = { { "uploads", "" }, { "prefix", prefix } } };
		if (kmark[0] != '\0') {
			req.params[req.nparams][0] = "key-marker";
			req.params[req.nparams++][1] = kmark;
			req.params[req.nparams][0] = "upload-id-marker";
			req.params[req.nparams++][1] = imark;
		}
		if ((e = s3st_page(s, "list uploads", &req, &r, "NextKeyMarker",
		    kmark, sizeof(kmark), &more)) != STORE_OK)
			return e;
		pos = 0;
		if (more && s3_xml_next(r.body, "NextUploadIdMarker", &pos,
		    imark, sizeof(imark)) != 1)
			more = false;
		pos = 0;
		while (!stop && s3_xml_element(r.body, "Upload", &pos, elem,
		    sizeof(elem)) == 1) {
			size_t	 a = 0, b = 0, c = 0;

			if (s3_xml_next(elem, "Key", &a, key, sizeof(key)) == 1 &&
			    s3_xml_next(elem, "UploadId", &b, id,
			    sizeof(id)) == 1 && s3_xml_next(elem, "Initiated",
			    &c, when, sizeof(when)) == 1 &&
			    strncmp(key, prefix, strlen(prefix)) == 0)
				stop = fn(arg, key, id, when);
		}
		s3_response_free(&r);
	}
	return STORE_OK;
}

enum store_error
s3st_each_object(struct store *s, const char *prefix,
    int (*fn)(void *, const char *, uint64_t, const char *), void *arg)
{
	struct s3_request req;
	struct s3_response r;
	enum store_error e;
	char		 key[S3_KEY_MAX], when[64], token[2048] = "";
	char		 size[32], elem[4096];
	size_t		 pos;
	bool		 more = true;
	int		 stop = 0;

	while (more && !stop) {
		req = (struct s3_request){ .method = "GET", .nparams = 3,
		    .params = { { "list-type", "2" }, { "prefix", prefix },
		    { "max-keys", LIST_KEYS } } };
		if (token[0] != '\0') {
			req.params[req.nparams][0] = "continuation-token";
			req.params[req.nparams++][1] = token;
		}
		if ((e = s3st_page(s, "list", &req, &r, "NextContinuationToken",
		    token, sizeof(token), &more)) != STORE_OK)
			return e;
		pos = 0;
		while (!stop && s3_xml_element(r.body, "Contents", &pos, elem,
		    sizeof(elem)) == 1) {
			size_t	 a = 0, b = 0, c = 0;

			if (s3_xml_next(elem, "Key", &a, key, sizeof(key)) == 1 &&
			    s3_xml_next(elem, "LastModified", &b, when,
			    sizeof(when)) == 1 && s3_xml_next(elem, "Size", &c,
			    size, sizeof(size)) == 1 &&
			    strncmp(key, prefix, strlen(prefix)) == 0)
				stop = fn(arg, key, strtoull(size, NULL, 10),
				    when);
		}
		s3_response_free(&r);
	}
	return STORE_OK;
}

/* What a sweep of tmp/ or trash/ goes by. */
struct sweep {
	struct store	*s;
	unsigned	 grace;
	size_t		 plen;		/* of the listed prefix */
	bool		 trash;
	int		 n;
};

/*
 * Resumable uploads' keys (tmp/part-*) are the uploads table's: the
 * expiry sweep (resumable.c) removes them, never an age.
 */
static bool
is_part(const struct sweep *w, const char *key)
{
	return !w->trash && strncmp(key + w->plen, PART_PREFIX,
	    strlen(PART_PREFIX)) == 0;
}

/* Aborts a multipart upload under tmp/ older than the grace. */
static int
sweep_upload(void *arg, const char *key, const char *id, const char *when)
{
	struct sweep	*w = arg;

	if (!is_part(w, key) && older(when, w->grace)) {
		s3st_abort(w->s, key, id);
		w->n++;
	}
	return 0;
}

/* An abandoned trash object: back in its place when that is empty. */
static void
restore_trash(struct store *s, const char *tkey, const char *name,
    uint64_t size)
{
	char	 hash[HASH_HEX_LEN + 1], key[S3_KEY_MAX];

	if (strlen(name) > HASH_HEX_LEN && name[HASH_HEX_LEN] == '-' &&
	    hash_parse(name, HASH_HEX_LEN, hash)) {
		s3st_object_key(s, hash, key);
		if (s3st_head(s, key, NULL) == STORE_ERR_NOENT &&
		    s3st_copy(s, tkey, key, size) != STORE_OK)
			return;	/* kept for the next sweep */
	}
	s3st_simple(s, "DELETE", tkey);
}

/* An object older than the grace: a tmp/ one deleted, trash restored. */
static int
sweep_object(void *arg, const char *key, uint64_t size, const char *when)
{
	struct sweep	*w = arg;

	if (is_part(w, key) || !older(when, w->grace))
		return 0;
	if (w->trash)
		restore_trash(w->s, key, key + w->plen, size);
	else
		s3st_simple(w->s, "DELETE", key);
	w->n++;
	return 0;
}

/* The uploads and objects under dir (tmp/ or trash/) older than grace. */
static int
sweep_dir(struct store *s, const char *dir, unsigned grace)
{
	struct sweep	 w = { s, grace, 0, strcmp(dir, TRASH_DIR) == 0, 0 };
	char		 prefix[S3_KEY_MAX];

	w.plen = (size_t)snprintf(prefix, sizeof(prefix), "%s%s",
	    s3st_cfg(s)->prefix, dir);
	if (!w.trash)
		(void)s3st_each_upload(s, prefix, sweep_upload, &w);
	(void)s3st_each_object(s, prefix, sweep_object, &w);
	return w.n;
}

/*
 * No lock reaches across hosts: what is older than S3_SWEEP_GRACE is
 * abandoned (the caller's graces are for the local backend's locks).
 */
static int
s3_sweep(struct store *s, int upload_grace, int trash_grace)
{
	unsigned grace = s3st_cfg(s)->sweep_grace;

	(void)upload_grace;
	(void)trash_grace;
	return sweep_dir(s, TMP_DIR, grace) + sweep_dir(s, TRASH_DIR, grace);
}

/* ------------------------------------------------------ health, content */

static enum store_error
s3_check(struct store *s)
{
	struct s3_request req = { .method = "HEAD" };
	struct s3_response r;
	enum store_error e;
	int		 rc = s3_send(s3st_s3(s), &req, &r);

	e = rc == 0 && r.status == 200 ? STORE_OK :
	    failure("head bucket", s3st_cfg(s)->bucket, rc, &r);
	s3_response_free(&r);
	return e;
}

static enum store_error
s3_locate(struct store *s, const char *hash, const char *digest,
    char *out, size_t outlen)
{
	char		 key[S3_KEY_MAX], location[128];
	enum store_error e;

	s3st_object_key(s, hash, key);
	if ((e = s3st_head(s, key, NULL)) != STORE_OK)
		return e;
	/*
	 * "/_fileupload_s3/sha-256=:<base64>:/<scheme>/...": nginx's
	 * location takes the Repr-Digest from its own path, since the
	 * worker's headers are gone once it asks the store.
	 */
	if (digest != NULL && strlen(digest) < sizeof(location) -
	    sizeof(S3_LOCATION))
		snprintf(location, sizeof(location), "%s%s/", S3_LOCATION,
		    digest);
	else
		snprintf(location, sizeof(location), "%s", S3_LOCATION);
	return s3_presigned_target(s3st_s3(s), location, key, out,
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
	/* walk_tmp: 0 tmp/, 1 trash/, 2 tmp/part-* uploads, 3 done */
	int		 phase;
	unsigned	 age[3];	/* walk_tmp: tmp/, trash/, tmp/part-* */
	char		 prefix[S3_KEY_MAX];
	char		 token[2048];
	char		 imark[ID_MAX];	/* phase 2: the next upload id marker */
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
	snprintf(w->prefix, sizeof(w->prefix), "%s%s", s3st_cfg(s)->prefix,
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
	unsigned	 g = s3st_cfg(s)->sweep_grace;

	if (w == NULL)
		return NULL;
	w->age[0] = g + (unsigned)(upload_grace > 0 ? upload_grace : 0);
	w->age[1] = g + (unsigned)(trash_grace > 0 ? trash_grace : 0);
	w->age[2] = (unsigned)(upload_grace > 0 ? upload_grace : 0);
	return &w->base;
}

/* The next page of the listing: 1, 0 at the end, -1 on failure. */
static int
next_page(struct s3_walk *w)
{
	struct s3_request req = { .method = "GET", .nparams = 3,
	    .params = { { "list-type", "2" }, { "prefix", w->prefix },
	    { "max-keys", LIST_KEYS } } };
	size_t		 pos = 0;

	if (w->listed && !w->more)
		return 0;
	if (w->phase == 2)	/* ListMultipartUploads */
		req = (struct s3_request){ .method = "GET", .nparams = 2,
		    .params = { { "uploads", "" }, { "prefix", w->prefix } } };
	if (w->token[0] != '\0' && w->phase == 2) {
		req.params[req.nparams][0] = "key-marker";
		req.params[req.nparams++][1] = w->token;
		req.params[req.nparams][0] = "upload-id-marker";
		req.params[req.nparams++][1] = w->imark;
	} else if (w->token[0] != '\0') {
		req.params[req.nparams][0] = "continuation-token";
		req.params[req.nparams++][1] = w->token;
	}
	s3_response_free(&w->page);
	w->listed = true;
	w->pos = 0;
	if (s3st_page(w->base.store, "list", &req, &w->page, w->phase == 2 ?
	    "NextKeyMarker" : "NextContinuationToken", w->token,
	    sizeof(w->token), &w->more) != STORE_OK)
		return -1;
	if (w->phase == 2 && w->more && s3_xml_next(w->page.body,
	    "NextUploadIdMarker", &pos, w->imark, sizeof(w->imark)) != 1)
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

	bool	 up = w->phase == 2;	/* multipart uploads: no size */

	for (;;) {
		if (w->page.body != NULL && s3_xml_element(w->page.body,
		    up ? "Upload" : "Contents", &w->pos, elem,
		    sizeof(elem)) == 1) {
			a = b = c = 0;
			if (s3_xml_next(elem, "Key", &a, w->key,
			    sizeof(w->key)) != 1 || s3_xml_next(elem,
			    up ? "Initiated" : "LastModified", &b, when,
			    sizeof(when)) != 1 || (!up && s3_xml_next(elem,
			    "Size", &c, num, sizeof(num)) != 1))
				continue;
			*size = up ? 0 : strtoull(num, NULL, 10);
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
	const char	*rel, *cfgp = s3st_cfg(sw->store)->prefix;
	uint64_t	 size;
	int64_t		 mtime;
	int		 rc;

	memset(e, 0, sizeof(*e));
	for (;;) {
		if ((rc = next_object(w, &size, &mtime)) == -1)
			return walk_error(w, e);
		if (rc == 0) {
			if (!w->tmp || ++w->phase > 2)
				return 0;
			/* tmp/ done: then trash/, then resumable uploads. */
			snprintf(w->prefix, sizeof(w->prefix), "%s%s", cfgp,
			    w->phase == 1 ? TRASH_DIR : TMP_DIR PART_PREFIX);
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
			/* A resumable upload's: its row tells, past a margin. */
			bool	 part = w->phase != 1 &&
			    s3st_part_name(e->name, e->hash);

			if (w->phase == 2 && !part)
				continue;

			if (mtime == -1 || mtime + (int64_t)(part ? w->age[2] :
			    w->age[w->phase]) >= (int64_t)time(NULL))
				continue;	/* young: maybe live */
			if (part) {
				e->kind = STORE_ENTRY_PART;
				return 1;
			}
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

	return s3st_simple(sw->store, "DELETE", w->key) == STORE_OK ? 0 : -1;
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

	plen = strlen(s3st_cfg(s)->prefix) + strlen(TRASH_DIR);
	snprintf(prefix, sizeof(prefix), "%s" TRASH_DIR "%s-",
	    s3st_cfg(s)->prefix, hash);
	req.params[2][0] = "prefix";
	req.params[2][1] = prefix;
	if (s3st_call(s, "list trash", &req, &r) != STORE_OK || r.body == NULL)
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

	s3st_object_key(s, hash, key);
	snprintf(lost, sizeof(lost), "%s" LOST_DIR "%s", s3st_cfg(s)->prefix,
	    hash);
	from = out ? key : lost;
	to = out ? lost : key;
	if (s3st_head(s, from, &size) != STORE_OK ||
	    s3st_copy(s, from, to, size) != STORE_OK)
		return -1;
	if (s3st_simple(s, "DELETE", from) != STORE_OK)
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
	char		 key[S3_KEY_MAX];
	enum store_error e;

	s3st_object_key(s, hash, key);
	req.key = key;
	hash_init(&ctx);
	e = s3st_send(s, "get", &req);
	if (e != STORE_OK)
		return -1;
	hash_final_hex(&ctx, got);
	return strcmp(got, hash) == 0;
}

/* ---------------------------------------------------------------- open */

static void
s3_close(struct store *s)
{
	s3_fini(s3st_s3(s));
	free(s);
}

static const struct store_ops s3_ops = {
	.close = s3_close,
	.tmp_create = s3_tmp_create,
	.tmp_write = s3_tmp_write,
	.tmp_sync = s3_tmp_sync,
	.tmp_commit = s3_tmp_commit,
	.tmp_abort = s3_tmp_abort,
	.tmp_read = s3_tmp_read,
	.part_open = s3st_part_open,
	.part_cut = s3st_part_cut,
	.part_close = s3st_part_close,
	.part_remove = s3st_part_remove,
	.part_sync = s3st_part_sync,
	.part_seal = s3st_part_seal,
	.part_sealed = s3st_part_sealed,
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
