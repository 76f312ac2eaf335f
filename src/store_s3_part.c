/*
 * Resumable uploads on the S3 backend (store.h's store_part_*): the
 * partial bytes live in the object store, where every host reaches them.
 *
 *   <prefix>tmp/part-<id>	the upload's S3 multipart upload (made when
 *				its first part fills), at completion the
 *				assembled object until it is copied
 *   <prefix>tmp/part-<id>.<n>	the tail of part n: its first bytes while
 *				it is not full
 *
 * The layout follows from the offset alone: part n (from 1) holds bytes
 * [(n-1)P, nP) for P = S3_PART_SIZE.  A part is sent when it is full and
 * more bytes follow; before a request's offset commits, what its last,
 * unfilled part holds is PUT as that part's tail (store_part_sync), so an
 * offset reported is durable.  The next request (on any host) reads the
 * tail back and keeps only offset - (n-1)P of its bytes: bytes written by
 * a request that never committed (its worker killed in between) count for
 * nothing, and a part sent again simply replaces the old one.  Tails of
 * parts since filled are removed by the next request, the rest when the
 * upload completes or goes.  At completion ListParts gives the ETags.
 *
 * Nothing here locks: the uploads row's lease keeps one writer
 * (resumable.c).  A request holds one part in memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "s3.h"
#include "store.h"
#include "store_impl.h"
#include "store_s3_impl.h"
#include "tus.h"

static size_t
part_size(struct store *s)
{
	return (size_t)s3st_cfg(s)->part_size;
}

/* The upload id a held tmp carries in its name ("part-<id>"). */
static const char *
tmp_id(const struct store_tmp *t)
{
	return t->name + strlen(PART_PREFIX);
}

bool
s3st_part_name(const char *name, char *id)
{
	size_t		 n = strlen(PART_PREFIX);
	const char	*p;

	if (strncmp(name, PART_PREFIX, n) != 0 || strlen(name) < n +
	    TUS_ID_LEN || !tus_id_valid(name + n, TUS_ID_LEN))
		return false;
	p = name + n + TUS_ID_LEN;
	if (*p == '.') {
		if (p[1] == '\0')
			return false;
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	}
	if (*p != '\0')
		return false;
	memcpy(id, name + n, TUS_ID_LEN);
	id[TUS_ID_LEN] = '\0';
	return true;
}

/* "<prefix>tmp/part-<id>", and with ".<n>" for the tail of part n. */
static void
part_key(struct store *s, const char *id, unsigned n, char out[S3_KEY_MAX])
{
	if (n == 0)
		snprintf(out, S3_KEY_MAX, "%s" TMP_DIR PART_PREFIX "%s",
		    s3st_cfg(s)->prefix, id);
	else
		snprintf(out, S3_KEY_MAX, "%s" TMP_DIR PART_PREFIX "%s.%u",
		    s3st_cfg(s)->prefix, id, n);
}

enum store_error
s3st_part_open(struct store *s, const char *id, bool create,
    struct store_tmp *t)
{
	struct s3_upload *u;

	(void)create;	/* no object until bytes come: nothing to make */
	t->fd = -1;
	t->size = t->queued = 0;
	t->backend = NULL;
	if (!tus_id_valid(id, strlen(id)))
		return STORE_ERR_NOENT;
	if ((u = calloc(1, sizeof(*u))) == NULL)
		return STORE_ERR_IO;
	u->resumable = true;
	part_key(s, id, 0, u->key);
	snprintf(t->name, sizeof(t->name), PART_PREFIX "%s", id);
	t->backend = u;
	return STORE_OK;
}

void
s3st_part_close(struct store *s, struct store_tmp *t)
{
	struct s3_upload *u = t->backend;

	(void)s;
	if (u == NULL)
		return;
	free(u->buf);
	free(u->manifest);
	free(u);
	t->backend = NULL;
	t->name[0] = '\0';
}

/* ---------------------------------------------------------- the tails */

/* The tails of an upload as its listing gives them. */
struct tails {
	struct store	*s;
	size_t		 plen;		/* of "<prefix>tmp/part-<id>." */
	unsigned	 keep;		/* the tail that counts; below: stale */
	uint64_t	 size;		/* keep's size */
	bool		 found;		/* keep is there */
	bool		 all;		/* remove all, keep too */
	int		 failed;
};

static int
on_tail(void *arg, const char *key, uint64_t size, const char *when)
{
	struct tails	*w = arg;
	char		*end;
	unsigned long	 n;

	(void)when;
	n = strtoul(key + w->plen, &end, 10);
	if (*end != '\0' || end == key + w->plen)
		return 0;
	if (!w->all && n == w->keep) {
		w->found = true;
		w->size = size;
	} else if ((w->all || n < w->keep) &&
	    s3st_simple(w->s, "DELETE", key) != STORE_OK)
		w->failed = 1;
	return 0;
}

/* Lists the tails of id, removing the stale ones (all of them with all). */
static enum store_error
list_tails(struct store *s, const char *id, struct tails *w)
{
	char	 prefix[S3_KEY_MAX];

	part_key(s, id, 0, prefix);
	w->s = s;
	w->plen = strlen(prefix) + 1;
	if (w->plen >= sizeof(prefix))
		return STORE_ERR_IO;
	prefix[w->plen - 1] = '.';
	prefix[w->plen] = '\0';
	return s3st_each_object(s, prefix, on_tail, w);
}

/*
 * Positions the upload at offset: the full parts before it are sent, the
 * tail of the next one read back (its first offset - n * P bytes).
 */
enum store_error
s3st_part_cut(struct store *s, struct store_tmp *t, uint64_t offset)
{
	struct s3_upload *u = t->backend;
	struct tails	 w;
	struct s3st_fill f;
	struct s3_request req = { .method = "GET", .sink = s3st_fill,
	    .sink_arg = &f };
	enum store_error e;
	size_t		 P = part_size(s), need;
	uint64_t	 n = offset / P;
	char		 key[S3_KEY_MAX];

	if (n >= S3_MAX_PARTS)
		return STORE_ERR_IO;
	need = (size_t)(offset - n * P);
	memset(&w, 0, sizeof(w));
	w.keep = (unsigned)n + 1;
	if ((e = list_tails(s, tmp_id(t), &w)) != STORE_OK)
		return e;
	if (w.failed)
		log_warnx("s3 %s: stale tails left", u->key);
	u->parts = (unsigned)n;
	u->len = 0;
	t->size = offset;
	if (need == 0)
		return STORE_OK;
	if (!w.found || w.size < need)
		return STORE_ERR_NOENT;		/* the bytes are gone */
	if (u->buf == NULL && (u->buf = malloc(P)) == NULL)
		return STORE_ERR_IO;
	f = (struct s3st_fill){ u->buf, 0, P };
	part_key(s, tmp_id(t), w.keep, key);
	req.key = key;
	e = s3st_send(s, "get tail", &req);
	if (e != STORE_OK)
		return e;
	if (f.len < need)
		return STORE_ERR_NOENT;
	u->len = need;
	return STORE_OK;
}

/* PutObject of what u's buffer holds, as key. */
static enum store_error
put_buffer(struct store *s, const char *what, const char *key,
    const struct s3_upload *u)
{
	struct s3_request req = { .method = "PUT", .key = key,
	    .body = u->buf != NULL ? u->buf : "", .len = u->len };

	return s3st_send(s, what, &req);
}

/* The unfilled part as its tail, before the offset commits. */
enum store_error
s3st_part_sync(struct store *s, struct store_tmp *t)
{
	struct s3_upload *u = t->backend;
	char		 key[S3_KEY_MAX];

	if (u->len == 0)
		return STORE_OK;	/* on a part's border: nothing to keep */
	/* A full part is sent as one: the next request starts past it. */
	if (u->len == part_size(s))
		return s3st_send_part(s, u);
	part_key(s, tmp_id(t), u->parts + 1, key);
	return put_buffer(s, "put tail", key, u);
}

/* ----------------------------------------------------- multipart upload */

struct find {
	const char	*key;
	char		*id;
	size_t		 idlen;
	bool		 found;
};

static int
on_upload(void *arg, const char *key, const char *id, const char *when)
{
	struct find	*f = arg;

	(void)when;
	if (strcmp(key, f->key) != 0)
		return 0;
	snprintf(f->id, f->idlen, "%s", id);
	f->found = true;
	return 1;
}

/*
 * An upload whose parts were assembled but not stored (its completion
 * failed past CompleteMultipartUpload) starts again from that object:
 * its full parts are copied into a new multipart upload, server-side.
 */
static enum store_error
reopen_assembled(struct store *s, struct s3_upload *u, uint64_t size)
{
	struct s3_config path_cfg = { .bucket = s3st_cfg(s)->bucket,
	    .path_style = true };
	struct s3_request req;
	enum store_error e;
	char		 source[S3_KEY_MAX * 3 + 80], range[64], num[16];
	size_t		 P = part_size(s);
	unsigned	 n;

	if ((uint64_t)u->parts * P > size)
		return STORE_ERR_NOENT;
	if (s3_path(&path_cfg, u->key, source, sizeof(source)) == -1)
		return STORE_ERR_IO;
	if ((e = s3st_create(s, u->key, u->upload_id,
	    sizeof(u->upload_id))) != STORE_OK)
		return e;
	for (n = 1; n <= u->parts && e == STORE_OK; n++) {
		snprintf(num, sizeof(num), "%u", n);
		snprintf(range, sizeof(range), "bytes=%llu-%llu",
		    (unsigned long long)(n - 1) * P,
		    (unsigned long long)n * P - 1);
		req = (struct s3_request){ .method = "PUT", .key = u->key,
		    .nparams = 2, .params = { { "partNumber", num },
		    { "uploadId", u->upload_id } }, .copy_source = source,
		    .copy_range = range };
		e = s3st_send(s, "copy part", &req);
	}
	if (e == STORE_OK)
		e = s3st_simple(s, "DELETE", u->key);
	return e;
}

/* The upload's multipart upload when there is one: STORE_ERR_NOENT. */
static enum store_error
find_upload(struct store *s, struct s3_upload *u)
{
	struct find	 f = { u->key, u->upload_id, sizeof(u->upload_id),
	    false };
	enum store_error e;
	uint64_t	 size;

	if (u->upload_id[0] != '\0')
		return STORE_OK;
	if (u->looked_up)
		return STORE_ERR_NOENT;
	if ((e = s3st_each_upload(s, u->key, on_upload, &f)) != STORE_OK)
		return e;
	u->looked_up = true;
	if (f.found)
		return STORE_OK;
	if ((e = s3st_head(s, u->key, &size)) == STORE_OK)
		return reopen_assembled(s, u, size);
	return e;
}

enum store_error
s3st_part_upload(struct store *s, struct s3_upload *u)
{
	enum store_error e = find_upload(s, u);

	/* Parts before this request's were sent: their upload must be there. */
	if (e != STORE_ERR_NOENT || u->parts > 0)
		return e;
	return s3st_create(s, u->key, u->upload_id, sizeof(u->upload_id));
}

/*
 * The manifest of parts 1..last from ListParts: each there, the ones
 * before the last of the part size.  STORE_ERR_NOENT when one is not.
 */
static enum store_error
list_parts(struct store *s, struct s3_upload *u, unsigned last)
{
	struct s3_request req;
	struct s3_response r;
	enum store_error e;
	char		 marker[16] = "0", elem[1024], num[16], size[32];
	char		 etag[128];
	size_t		 pos, a, b, c;
	unsigned	 next = 1, k;
	bool		 more = true, gap = false;

	free(u->manifest);
	u->manifest = NULL;
	u->manifest_len = 0;
	while (more && !gap && next <= last) {
		req = (struct s3_request){ .method = "GET", .key = u->key,
		    .nparams = 2, .params = { { "uploadId", u->upload_id },
		    { "part-number-marker", marker } } };
		if ((e = s3st_page(s, "list parts", &req, &r,
		    "NextPartNumberMarker", marker, sizeof(marker), &more)) !=
		    STORE_OK)
			return e;
		pos = 0;
		while (!gap && next <= last && s3_xml_element(r.body, "Part", &pos,
		    elem, sizeof(elem)) == 1) {
			a = b = c = 0;
			if (s3_xml_next(elem, "PartNumber", &a, num,
			    sizeof(num)) != 1 || s3_xml_element(elem, "ETag",
			    &b, etag, sizeof(etag)) != 1 || s3_xml_next(elem,
			    "Size", &c, size, sizeof(size)) != 1)
				continue;
			k = (unsigned)strtoul(num, NULL, 10);
			if (k < next)
				continue;
			if (k > next || (k < last &&
			    strtoull(size, NULL, 10) != part_size(s))) {
				gap = true;
				break;
			}
			if (s3st_manifest_add(&u->manifest, &u->manifest_len,
			    k, etag) == -1) {
				s3_response_free(&r);
				return STORE_ERR_IO;
			}
			next++;
		}
		s3_response_free(&r);
	}
	if (next <= last) {
		log_warnx("s3 %s: part %u is missing", u->key, next);
		return STORE_ERR_NOENT;
	}
	return STORE_OK;
}

/*
 * The last byte is in: a file of one part stays in the buffer (PUT under
 * its hash at commit); a larger one gets its last part and is assembled
 * under tmp/ (copied to its hash at commit).
 */
enum store_error
s3st_part_finish(struct store *s, struct store_tmp *t)
{
	struct s3_upload *u = t->backend;
	enum store_error e;

	if (u->object)
		return STORE_OK;
	if (u->parts == 0 && (e = find_upload(s, u)) != STORE_OK)
		return e == STORE_ERR_NOENT ? STORE_OK : e;
	/* The last part; none when the file ends on a part's border. */
	if ((u->len > 0 || u->parts == 0) &&
	    (e = s3st_send_part(s, u)) != STORE_OK)
		return e;
	if ((e = s3st_part_upload(s, u)) != STORE_OK ||
	    (e = list_parts(s, u, u->parts)) != STORE_OK ||
	    (e = s3st_complete(s, u->key, u->upload_id, u->manifest,
	    u->manifest_len)) != STORE_OK)
		return e;
	u->upload_id[0] = '\0';
	u->object = true;
	return STORE_OK;
}

/*
 * A partial upload (tus concatenation) complete: its bytes assembled into
 * the one object tmp/part-<id> (the only part PUT there), read back by
 * the final upload's request.
 */
enum store_error
s3st_part_seal(struct store *s, struct store_tmp *t)
{
	struct s3_upload *u = t->backend;
	enum store_error e;

	if ((e = s3st_part_finish(s, t)) != STORE_OK)
		return e;
	if (!u->object) {
		if ((e = put_buffer(s, "put sealed", u->key, u)) != STORE_OK)
			return e;
		u->object = true;
	}
	u->len = 0;	/* nothing left for a tail */
	return STORE_OK;
}

enum store_error
s3st_part_sealed(struct store *s, struct store_tmp *t, uint64_t size)
{
	struct s3_upload *u = t->backend;
	enum store_error e;
	uint64_t	 got;

	if ((e = s3st_head(s, u->key, &got)) != STORE_OK)
		return e;
	if (got != size)
		return STORE_ERR_NOENT;
	u->object = true;
	t->size = size;
	return STORE_OK;
}

/* ------------------------------------------------------------- removal */

static int
on_abort(void *arg, const char *key, const char *id, const char *when)
{
	struct tails	*w = arg;

	(void)when;
	/* The listing's prefix is the key: the same length, the same key. */
	if (strlen(key) == w->plen - 1)
		s3st_abort(w->s, key, id);
	return 0;
}

/* The multipart upload, the assembled object and every tail of id. */
int
s3st_part_remove(struct store *s, const char *id)
{
	struct tails	 w;
	char		 key[S3_KEY_MAX];

	if (!tus_id_valid(id, strlen(id)))
		return 0;
	part_key(s, id, 0, key);
	memset(&w, 0, sizeof(w));
	w.s = s;
	w.plen = strlen(key) + 1;
	w.all = true;
	if (s3st_each_upload(s, key, on_abort, &w) != STORE_OK ||
	    s3st_simple(s, "DELETE", key) != STORE_OK ||
	    list_tails(s, id, &w) != STORE_OK || w.failed)
		return -1;
	return 0;
}
