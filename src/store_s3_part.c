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
	char		 got[STORE_PART_ID_MAX + 1];
	size_t		 n = strlen(PART_PREFIX), len;
	const char	*p;

	if (strncmp(name, PART_PREFIX, n) != 0)
		return false;
	len = strcspn(name + n, ".");
	if (len == 0 || len >= sizeof(got))
		return false;
	memcpy(got, name + n, len);
	got[len] = '\0';
	if (!store_part_id_ok(got))
		return false;
	p = name + n + len;
	if (*p == '.') {
		if (p[1] == '\0')
			return false;
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	}
	if (*p != '\0')
		return false;
	memcpy(id, got, len + 1);
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

/*
 * One tail of the listing: keep's noted, the stale ones removed (all of
 * them with all).
 */
static void
on_tail(struct tails *w, const char *key, uint64_t size)
{
	char		*end;
	unsigned long	 n;

	n = strtoul(key + w->plen, &end, 10);
	if (*end != '\0' || end == key + w->plen)
		return;
	if (!w->all && n == w->keep) {
		w->found = true;
		w->size = size;
	} else if ((w->all || n < w->keep) &&
	    s3_delete(s3st_s3(w->s), key) != S3_OK)
		w->failed = 1;
}

/* Lists the tails of id, removing the stale ones (all of them with all). */
static enum store_error
list_tails(struct store *s, const char *id, struct tails *w)
{
	struct s3_list	 l;
	struct s3_item	 it;
	char		 prefix[S3_KEY_MAX];
	int		 rc;

	part_key(s, id, 0, prefix);
	w->s = s;
	w->plen = strlen(prefix) + 1;
	if (w->plen >= sizeof(prefix))
		return STORE_ERR_IO;
	prefix[w->plen - 1] = '.';
	prefix[w->plen] = '\0';
	s3_list_begin(&l, s3st_s3(s), S3_LIST_OBJECTS, prefix, NULL);
	while ((rc = s3_list_next(&l, &it)) == 1)
		on_tail(w, it.key, it.size);
	s3_list_end(&l);
	return rc == 0 ? STORE_OK : s3st_err(l.result);
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
	struct s3_fill	 f;
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
	f = (struct s3_fill){ u->buf, 0, P };
	part_key(s, tmp_id(t), w.keep, key);
	if ((e = s3st_err(s3_get(s3st_s3(s), "get tail", key, NULL, s3_fill,
	    &f))) != STORE_OK)
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
	return s3st_err(s3_put(s3st_s3(s), what, key, u->buf, u->len));
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

/*
 * An upload whose parts were assembled but not stored (its completion
 * failed past CompleteMultipartUpload) starts again from that object:
 * its full parts are copied into a new multipart upload, server-side.
 */
static enum store_error
reopen_assembled(struct store *s, struct s3_upload *u, uint64_t size)
{
	struct s3	*c = s3st_s3(s);
	enum store_error e;
	size_t		 P = part_size(s);
	unsigned	 n;

	if ((uint64_t)u->parts * P > size)
		return STORE_ERR_NOENT;
	if ((e = s3st_err(s3_create(c, u->key, u->upload_id,
	    sizeof(u->upload_id)))) != STORE_OK)
		return e;
	for (n = 1; n <= u->parts && e == STORE_OK; n++)
		e = s3st_err(s3_copy_part(c, u->key, u->upload_id, n, u->key,
		    (uint64_t)(n - 1) * P, (uint64_t)n * P - 1));
	if (e == STORE_OK)
		e = s3st_err(s3_delete(c, u->key));
	return e;
}

/* The upload's multipart upload when there is one: STORE_ERR_NOENT. */
static enum store_error
find_upload(struct store *s, struct s3_upload *u)
{
	struct s3_list	 l;
	struct s3_item	 it;
	enum store_error e;
	uint64_t	 size;
	int		 rc;

	if (u->upload_id[0] != '\0')
		return STORE_OK;
	if (u->looked_up)
		return STORE_ERR_NOENT;
	s3_list_begin(&l, s3st_s3(s), S3_LIST_UPLOADS, u->key, NULL);
	while ((rc = s3_list_next(&l, &it)) == 1 && strcmp(it.key,
	    u->key) != 0)
		;
	s3_list_end(&l);
	if (rc == -1)
		return s3st_err(l.result);
	u->looked_up = true;
	if (rc == 1) {
		snprintf(u->upload_id, sizeof(u->upload_id), "%s",
		    it.upload_id);
		return STORE_OK;
	}
	if ((e = s3st_err(s3_head(s3st_s3(s), u->key, &size, NULL))) ==
	    STORE_OK)
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
	return s3st_err(s3_create(s3st_s3(s), u->key, u->upload_id,
	    sizeof(u->upload_id)));
}

/*
 * The manifest of parts 1..last from ListParts: each there, the ones
 * before the last of the part size.  STORE_ERR_NOENT when one is not.
 */
static enum store_error
list_parts(struct store *s, struct s3_upload *u, unsigned last)
{
	struct s3_list	 l;
	struct s3_item	 it;
	unsigned	 next = 1;
	int		 rc = 1;
	bool		 gap = false;

	free(u->manifest);
	u->manifest = NULL;
	u->manifest_len = 0;
	s3_list_begin(&l, s3st_s3(s), S3_LIST_PARTS, u->key, u->upload_id);
	while (!gap && next <= last && (rc = s3_list_next(&l, &it)) == 1) {
		if (it.part < next)
			continue;
		if (it.part > next || (it.part < last &&
		    it.size != part_size(s))) {
			gap = true;
			break;
		}
		if (s3_manifest_add(&u->manifest, &u->manifest_len, it.part,
		    it.etag) == -1) {
			s3_list_end(&l);
			return STORE_ERR_IO;
		}
		next++;
	}
	s3_list_end(&l);
	if (rc == -1)
		return s3st_err(l.result);
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
	    (e = s3st_err(s3_complete(s3st_s3(s), u->key, u->upload_id,
	    u->manifest, u->manifest_len))) != STORE_OK)
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

	if ((e = s3st_err(s3_head(s3st_s3(s), u->key, &got, NULL))) !=
	    STORE_OK)
		return e;
	if (got != size)
		return STORE_ERR_NOENT;
	u->object = true;
	t->size = size;
	return STORE_OK;
}

/* ------------------------------------------------------------- removal */

/* The multipart upload, the assembled object and every tail of id. */
int
s3st_part_remove(struct store *s, const char *id)
{
	struct s3	*c = s3st_s3(s);
	struct s3_list	 l;
	struct s3_item	 it;
	struct tails	 w;
	char		 key[S3_KEY_MAX];
	int		 rc;

	part_key(s, id, 0, key);
	memset(&w, 0, sizeof(w));
	w.all = true;
	/* Listed by the key as a prefix: only the key itself is the upload. */
	s3_list_begin(&l, c, S3_LIST_UPLOADS, key, NULL);
	while ((rc = s3_list_next(&l, &it)) == 1)
		if (strcmp(it.key, key) == 0)
			s3_abort(c, it.key, it.upload_id);
	s3_list_end(&l);
	if (rc == -1 || s3_delete(c, key) != S3_OK ||
	    list_tails(s, id, &w) != STORE_OK || w.failed)
		return -1;
	return 0;
}
