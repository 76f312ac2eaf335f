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
 * An upload keeps at most two parts (S3_PART_SIZE) in memory: one it
 * fills, one on its way (a few uploads per process at once; the others
 * keep one, sent while the body waits).  A file of
 * one part or less never touches tmp/: it is PUT under its hash at
 * commit.  A larger one goes up in parts under a tmp/ key while it
 * streams, and is copied server-side to its hash at commit (the hash is
 * known only at the end, and an object's key cannot change).  Nothing
 * holds a lock across hosts, so the sweep goes by age: a tmp/ upload or
 * object, or a trash object, older than S3_SWEEP_GRACE is abandoned; but
 * a resumable upload's (tmp/part-*), which the uploads table owns.
 * Every request is one of the S3 client's verbs (s3.h); the walks (the
 * sweep's and fsck's) are its listing iterator.
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
#define LOCATION	"/_fileupload_s3/"	/* nginx's proxy to the store */
/*
 * Uploads per process whose parts go on a sender thread while the next
 * part is read (each holds a second part buffer); the others send in line.
 */
#define S3_SENDERS	4

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

enum store_error
s3st_err(enum s3_result r)
{
	switch (r) {
	case S3_OK:
		return STORE_OK;
	case S3_NOT_FOUND:
		return STORE_ERR_NOENT;
	case S3_REFUSED:
		return STORE_ERR_IO;
	default:
		return STORE_ERR_UNAVAILABLE;
	}
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

/* The multipart upload a part goes to, started before the first. */
static enum store_error
begin_parts(struct store *s, struct s3_upload *u)
{
	if (u->upload_id[0] != '\0')
		return STORE_OK;
	return u->resumable ? s3st_part_upload(s, u) : s3st_err(s3_create(
	    s3st_s3(s), u->key, u->upload_id, sizeof(u->upload_id)));
}

/* Sends one part and lists it for Complete (a resumable upload's: no). */
static enum store_error
put_part(struct store *s, struct s3_upload *u, const char *buf, size_t len,
    unsigned n)
{
	enum store_error e;
	char		 etag[S3_ETAG_MAX];

	e = s3st_err(s3_upload_part(s3st_s3(s), u->key, u->upload_id, n, buf,
	    len, etag));
	if (e == STORE_OK && !u->resumable && s3_manifest_add(&u->manifest,
	    &u->manifest_len, n, etag) == -1)
		e = STORE_ERR_IO;
	return e;
}

enum store_error
s3st_send_part(struct store *s, struct s3_upload *u)
{
	enum store_error e;

	if ((e = begin_parts(s, u)) != STORE_OK)
		return e;
	e = put_part(s, u, u->buf, u->len, ++u->parts);
	u->len = 0;
	return e;
}

static int
part_job(void *arg)
{
	struct s3_part_job *j = arg;

	return (int)put_part(j->store, j->upload, j->buf, j->len, j->number);
}

/* The part on the sender thread has gone (or failed). */
static enum store_error
sent_part(struct s3_upload *u)
{
	return u->sender == NULL ? STORE_OK :
	    (enum store_error)relay_wait(u->sender);
}

/* Hands the sender thread back, with the second buffer. */
static void
drop_sender(struct store *s, struct s3_upload *u)
{
	if (u->sender == NULL)
		return;
	relay_give(((struct s3_store *)s)->senders, u->sender);
	u->sender = NULL;
	free(u->sending);
	u->sending = NULL;
}

/*
 * Sends a full part of a one-shot upload on a sender thread while the
 * next one fills, when one is free (at most two parts in memory), else
 * in line.  Parts go one at a time, in order: the manifest stays sorted.
 */
static enum store_error
send_full_part(struct store *s, struct s3_upload *u)
{
	enum store_error e;
	char		*full;

	if (u->resumable)
		return s3st_send_part(s, u);
	if ((e = sent_part(u)) != STORE_OK)
		return e;
	if (u->parts == 0 && (u->sender = relay_take(((struct s3_store *)
	    s)->senders)) != NULL && (u->sending = malloc(u->len)) == NULL)
		drop_sender(s, u);
	if (u->sender == NULL)
		return s3st_send_part(s, u);
	if ((e = begin_parts(s, u)) != STORE_OK)
		return e;
	full = u->buf;
	u->buf = u->sending;
	u->sending = full;
	u->job = (struct s3_part_job){ s, u, full, u->len, ++u->parts };
	u->len = 0;
	relay_run(u->sender, part_job, &u->job);
	return STORE_OK;
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
		if (u->len == part && (e = send_full_part(s, u)) != STORE_OK)
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
	e = sent_part(u);
	drop_sender(s, u);
	if (e != STORE_OK || u->upload_id[0] == '\0')
		return e;
	if ((e = s3st_send_part(s, u)) != STORE_OK)
		return e;
	if ((e = s3st_err(s3_complete(s3st_s3(s), u->key, u->upload_id,
	    u->manifest, u->manifest_len))) != STORE_OK)
		return e;
	u->upload_id[0] = '\0';
	u->object = true;
	return STORE_OK;
}

static enum store_error
s3_tmp_commit(struct store *s, struct store_tmp *t, const char *hash)
{
	struct s3_upload *u = t->backend;
	enum store_error e;
	char		 key[S3_KEY_MAX];

	s3st_object_key(s, hash, key);
	if (u->object) {
		if ((e = s3st_err(s3_copy(s3st_s3(s), u->key, key,
		    t->size))) == STORE_OK &&
		    s3_delete(s3st_s3(s), u->key) == S3_OK)
			u->object = false;
	} else
		e = s3st_err(s3_put(s3st_s3(s), "put", key, u->buf, u->len));
	/* A resumable upload's tails go once the file is in place. */
	if (e == STORE_OK && u->resumable &&
	    s3st_part_remove(s, t->name + strlen(PART_PREFIX)) == -1)
		log_warnx("s3 %s: tails left for fsck", u->key);
	return e;
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
	struct s3_fill	 d = { buf, 0, len };
	char		 range[64];

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
	snprintf(range, sizeof(range), "%llu-%llu", (unsigned long long)off,
	    (unsigned long long)(off + len - 1));
	return s3_get(s3st_s3(s), "get", u->key, range, s3_fill, &d) ==
	    S3_OK ? (long)d.len : -1;
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
	drop_sender(s, u);	/* first: its part may still be on its way */
	if (u->upload_id[0] != '\0')
		s3_abort(s3st_s3(s), u->key, u->upload_id);
	if (u->object)
		(void)s3_delete(s3st_s3(s), u->key);
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
	if ((e = s3st_err(s3_head(s3st_s3(s), key, &size, &mtime))) !=
	    STORE_OK)
		return e;
	randombytes_buf(r, sizeof(r));
	sodium_bin2hex(hex, sizeof(hex), r, sizeof(r));
	/* The source's mtime in the name: store_trash_is compares it. */
	snprintf(t->name, sizeof(t->name), "%s-%lld-%s", hash, (long long)mtime, hex);
	if (trash_key(s, t->name, tkey) == -1)
		return STORE_ERR_IO;
	if ((e = s3st_err(s3_copy(s3st_s3(s), key, tkey, size))) != STORE_OK)
		return e;
	if ((e = s3st_err(s3_delete(s3st_s3(s), key))) != STORE_OK)
		(void)s3_delete(s3st_s3(s), tkey);
	return e;
}

static enum store_error
s3_untrash(struct store *s, struct store_trash *t, const char *hash)
{
	struct s3	*c = s3st_s3(s);
	char		 key[S3_KEY_MAX], tkey[S3_KEY_MAX];
	uint64_t	 size;
	enum store_error e;

	s3st_object_key(s, hash, key);
	if (trash_key(s, t->name, tkey) == -1)
		return STORE_ERR_IO;
	if ((e = s3st_err(s3_head(c, key, NULL, NULL))) == STORE_OK)
		return STORE_ERR_EXISTS;
	if (e != STORE_ERR_NOENT ||
	    (e = s3st_err(s3_head(c, tkey, &size, NULL))) != STORE_OK ||
	    (e = s3st_err(s3_copy(c, tkey, key, size))) != STORE_OK)
		return e;
	(void)s3_delete(c, tkey);
	return STORE_OK;
}

static void
s3_purge(struct store *s, struct store_trash *t)
{
	char	 tkey[S3_KEY_MAX];

	if (trash_key(s, t->name, tkey) == 0)
		(void)s3_delete(s3st_s3(s), tkey);
}

static bool
s3_exists(struct store *s, const char *hash)
{
	char	 key[S3_KEY_MAX];

	s3st_object_key(s, hash, key);
	return s3_head(s3st_s3(s), key, NULL, NULL) == S3_OK;
}

/* ------------------------------------------------------ health, content */

static enum store_error
s3_check(struct store *s)
{
	return s3st_err(s3_head_bucket(s3st_s3(s)));
}

static enum store_error
s3_locate(struct store *s, const char *hash, const char *digest,
    char *out, size_t outlen)
{
	char		 key[S3_KEY_MAX], location[128];
	enum store_error e;

	s3st_object_key(s, hash, key);
	if ((e = s3st_err(s3_head(s3st_s3(s), key, NULL, NULL))) != STORE_OK)
		return e;
	/*
	 * "/_fileupload_s3/sha-256=:<base64>:/<scheme>/...": nginx's
	 * location takes the Repr-Digest from its own path, since the
	 * worker's headers are gone once it asks the store.
	 */
	if (digest != NULL && strlen(digest) < sizeof(location) -
	    sizeof(LOCATION))
		snprintf(location, sizeof(location), "%s%s/", LOCATION,
		    digest);
	else
		snprintf(location, sizeof(location), "%s", LOCATION);
	return s3_presigned_target(s3st_s3(s), location, key, out,
	    outlen) == 0 ? STORE_OK : STORE_ERR_IO;
}

/* -------------------------------------------------------- walks, fsck */

/*
 * A walk over the client's listing iterator, one page in memory.
 * walk_files lists the whole prefix: keys "ab/cd/<hash>" come in byte
 * order of the hash (S3 lists in UTF-8 byte order), tmp/, trash/ and
 * lost+found/ are left out and anything else is a stray.  walk_tmp lists
 * the objects of tmp/ (UPLOAD), then of trash/ (TRASH), then the multipart
 * uploads under tmp/ (UPLOAD), each older than S3_SWEEP_GRACE plus the
 * caller's margin; a resumable upload's key there is a PART, older than
 * upload_grace.
 */
struct s3_walk {
	struct store_walk base;
	bool		 tmp;		/* walk_tmp */
	/* walk_tmp: 0 tmp/ objects, 1 trash/, 2 tmp/ uploads, 3 done */
	int		 phase;
	unsigned	 age[3];	/* walk_tmp: tmp/, trash/, tmp/part-* */
	bool		 failed;	/* the error entry was given */
	struct s3_list	 list;
	struct s3_item	 item;		/* the current entry's */
};

static struct s3_walk *
walk_new(struct store *s, bool tmp)
{
	struct s3_walk	*w;
	char		 prefix[S3_KEY_MAX];

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->base.store = s;
	w->tmp = tmp;
	snprintf(prefix, sizeof(prefix), "%s%s", s3st_cfg(s)->prefix,
	    tmp ? TMP_DIR : "");
	s3_list_begin(&w->list, s3st_s3(s), S3_LIST_OBJECTS, prefix, NULL);
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

/* key's hash when it is "ab/cd/<hash>" of the right ab and cd. */
static bool
file_hash(const char *rel, char hash[HASH_HEX_LEN + 1])
{
	return strlen(rel) == 6 + HASH_HEX_LEN && rel[2] == '/' &&
	    rel[5] == '/' && hash_parse(rel + 6, HASH_HEX_LEN, hash) &&
	    memcmp(rel, hash, 2) == 0 && memcmp(rel + 3, hash + 2, 2) == 0;
}

/* A listing failed: one ERROR entry, and the walk ends. */
static int
walk_error(struct s3_walk *w, struct store_entry *e)
{
	w->failed = true;
	e->kind = STORE_ENTRY_ERROR;
	snprintf(e->path, sizeof(e->path), "%.*s", STORE_PATH_MAX - 1,
	    w->list.prefix);
	e->error = errno != 0 ? errno : EIO;
	return 1;
}

/* walk_tmp's next listing: trash/ after tmp/, then tmp/'s uploads. */
static bool
walk_next_phase(struct s3_walk *w)
{
	char	 prefix[S3_KEY_MAX];

	if (!w->tmp || ++w->phase > 2)
		return false;
	snprintf(prefix, sizeof(prefix), "%s%s", s3st_cfg(w->base.store)->prefix,
	    w->phase == 1 ? TRASH_DIR : TMP_DIR);
	s3_list_end(&w->list);
	s3_list_begin(&w->list, s3st_s3(w->base.store), w->phase == 2 ?
	    S3_LIST_UPLOADS : S3_LIST_OBJECTS, prefix, NULL);
	return true;
}

/* A walk_tmp entry: 1 with e's kind set, 0 when it is young or not one. */
static int
tmp_entry(struct s3_walk *w, struct store_entry *e)
{
	/* A resumable upload's: its row tells, past a margin. */
	bool	 part = w->phase != 1 && s3st_part_name(e->name, e->hash);

	if (e->st.mtime == -1 || e->st.mtime + (int64_t)(part ? w->age[2] :
	    w->age[w->phase == 1 ? 1 : 0]) >= (int64_t)time(NULL))
		return 0;	/* young: maybe live */
	if (part) {
		e->kind = STORE_ENTRY_PART;
		return 1;
	}
	e->kind = w->phase != 1 ? STORE_ENTRY_UPLOAD : STORE_ENTRY_TRASH;
	if (w->phase == 1 && (strlen(e->name) <= HASH_HEX_LEN ||
	    e->name[HASH_HEX_LEN] != '-' ||
	    !hash_parse(e->name, HASH_HEX_LEN, e->hash)))
		e->hash[0] = '\0';
	return 1;
}

static int
s3_walk_next(struct store_walk *sw, struct store_entry *e)
{
	struct s3_walk	*w = (struct s3_walk *)sw;
	const char	*rel, *cfgp = s3st_cfg(sw->store)->prefix;
	int		 rc;

	if (w->failed)
		return 0;
	for (;;) {
		memset(e, 0, sizeof(*e));
		if ((rc = s3_list_next(&w->list, &w->item)) == -1)
			return walk_error(w, e);
		if (rc == 0) {
			if (!walk_next_phase(w))
				return 0;
			continue;
		}
		rel = w->item.key + strlen(cfgp);
		e->st.size = w->item.size;
		e->st.mtime = w->item.mtime;
		snprintf(e->path, sizeof(e->path), "%.*s", STORE_PATH_MAX - 1,
		    rel);
		snprintf(e->name, sizeof(e->name), "%.*s", STORE_PATH_MAX - 1,
		    strrchr(rel, '/') != NULL ? strrchr(rel, '/') + 1 : rel);
		if (w->tmp) {
			if (tmp_entry(w, e) == 1)
				return 1;
			continue;
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

/* An object deleted, or a multipart upload aborted. */
static int
s3_walk_remove(struct store_walk *sw)
{
	struct s3_walk	*w = (struct s3_walk *)sw;

	if (w->list.kind == S3_LIST_UPLOADS) {
		s3_abort(s3st_s3(sw->store), w->item.key, w->item.upload_id);
		return 0;
	}
	return s3_delete(s3st_s3(sw->store), w->item.key) == S3_OK ? 0 : -1;
}

/* An abandoned trash object: back in its place when that is empty. */
static int
s3_walk_restore(struct store_walk *sw, const struct store_entry *e)
{
	struct s3_walk	*w = (struct s3_walk *)sw;
	struct s3	*c = s3st_s3(sw->store);
	char		 key[S3_KEY_MAX];

	s3st_object_key(sw->store, e->hash, key);
	if (s3_head(c, key, NULL, NULL) != S3_NOT_FOUND)
		return -1;
	if (s3_copy(c, w->item.key, key, w->item.size) != S3_OK)
		return 0;	/* kept for the next sweep */
	(void)s3_delete(c, w->item.key);
	return 0;
}

static void
s3_walk_close(struct store_walk *sw)
{
	struct s3_walk	*w = (struct s3_walk *)sw;

	s3_list_end(&w->list);
	free(w);
}

static int
s3_find_trash(struct store *s, const char *hash, char *out, size_t outlen)
{
	struct s3_list	 l;
	struct s3_item	 it;
	char		 prefix[S3_KEY_MAX];
	size_t		 plen;
	int		 rc = 0;

	plen = strlen(s3st_cfg(s)->prefix) + strlen(TRASH_DIR);
	snprintf(prefix, sizeof(prefix), "%s" TRASH_DIR "%s-",
	    s3st_cfg(s)->prefix, hash);
	s3_list_begin(&l, s3st_s3(s), S3_LIST_OBJECTS, prefix, NULL);
	l.what = "list trash";
	l.max_keys = "1";
	switch (s3_list_next(&l, &it)) {
	case -1:
		rc = -1;
		break;
	case 1:
		if (strlen(it.key) > plen) {
			snprintf(out, outlen, "%s", it.key + plen);
			rc = 1;
		}
		break;
	}
	s3_list_end(&l);
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
	if (s3_head(s3st_s3(s), from, &size, NULL) != S3_OK ||
	    s3_copy(s3st_s3(s), from, to, size) != S3_OK ||
	    s3_delete(s3st_s3(s), from) != S3_OK)
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
	char		 key[S3_KEY_MAX];

	s3st_object_key(s, hash, key);
	hash_init(&ctx);
	if (s3_get(s3st_s3(s), "get", key, NULL, hash_sink, &ctx) != S3_OK)
		return -1;
	hash_final_hex(&ctx, got);
	return strcmp(got, hash) == 0;
}

/* ---------------------------------------------------------------- open */

static void
s3_close(struct store *s)
{
	relay_pool_free(((struct s3_store *)s)->senders);
	s3_fini(s3st_s3(s));
	free(s);
}

static const struct store_ops s3_ops = {
	.location = LOCATION,
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
	.check = s3_check,
	.locate = s3_locate,
	.walk_files = s3_walk_files,
	.walk_tmp = s3_walk_tmp,
	.walk_next = s3_walk_next,
	.walk_remove = s3_walk_remove,
	.walk_restore = s3_walk_restore,
	.walk_close = s3_walk_close,
	.find_trash = s3_find_trash,
	.trash_is = s3_trash_is,
	.quarantine = s3_quarantine,
	.unquarantine = s3_unquarantine,
	.verify = s3_verify,
};

struct store *
store_s3_open(const struct store_config *cfg, char *err, size_t errlen)
{
	struct s3_store	*st;

	if (cfg->s3 == NULL) {
		snprintf(err, errlen, "no S3 settings");
		errno = EINVAL;
		return NULL;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	st->base.ops = &s3_ops;
	if ((st->senders = relay_pool_new(S3_SENDERS)) == NULL) {
		snprintf(err, errlen, "out of memory");
		free(st);
		return NULL;
	}
	if (s3_init(&st->s3, cfg->s3) == -1) {
		relay_pool_free(st->senders);
		snprintf(err, errlen, "libcurl cannot be initialised");
		free(st);
		return NULL;
	}
	return &st->base;
}
