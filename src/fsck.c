/*
 * fsck.h: the merge of the rows with the stored files, and the repairs.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fsck.h"
#include "hash.h"
#include "store.h"

#define LINE_MAX_LEN	4096

static const char *const problem_names[FSCK__MAX] = {
	[FSCK_MISSING] = "missing",
	[FSCK_ORPHAN] = "orphan",
	[FSCK_CORRUPT] = "corrupt",
	[FSCK_STRAY] = "stray",
	[FSCK_STALE_TEMP] = "stale-temp",
};

/* ------------------------------------------------------------ reporting */

static void	 warnf(struct fsck *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	 reportf(struct fsck *, enum fsck_problem, const char *,
		    const char *, ...) __attribute__((format(printf, 4, 5)));

static void
warnf(struct fsck *f, const char *fmt, ...)
{
	char	 msg[LINE_MAX_LEN];
	va_list	 ap;

	f->errors++;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (f->warn != NULL)
		f->warn(f->arg, msg);
}

/*
 * "<problem> <subject>", then ": <note>" when there is one.  The subject is
 * a hash or an already escaped name, so one line stays one line.
 */
static void
reportf(struct fsck *f, enum fsck_problem p, const char *subject,
    const char *fmt, ...)
{
	char	 line[LINE_MAX_LEN];
	va_list	 ap;
	int	 n;

	f->problems[p]++;
	n = snprintf(line, sizeof(line), "%s %s", problem_names[p], subject);
	if (fmt != NULL && n >= 0 && (size_t)n + 3 < sizeof(line)) {
		memcpy(line + n, ": ", 3);
		va_start(ap, fmt);
		vsnprintf(line + n + 2, sizeof(line) - n - 2, fmt, ap);
		va_end(ap);
	}
	if (f->report != NULL)
		f->report(f->arg, p, line);
}

void
fsck_vis(const char *in, char *out, size_t outlen)
{
	size_t	 n = 0;

	for (; *in != '\0' && n + 5 < outlen; in++) {
		unsigned char c = *in;

		if (c > ' ' && c < 0x7f && c != '\\')
			out[n++] = c;
		else
			n += snprintf(out + n, outlen - n, "\\x%02x", c);
	}
	out[n] = '\0';
}

/* A walk's STRAY or ERROR entry: reported, or warned about. */
static void
stray_or_error(struct fsck *f, const struct store_entry *e)
{
	char	 v[FSCK_VIS_MAX + 16];

	fsck_vis(e->path, v, sizeof(v));
	if (e->kind == STORE_ENTRY_STRAY)
		reportf(f, FSCK_STRAY, v, NULL);
	else
		warnf(f, "%s: %s", v, strerror(e->error));
}

/* -------------------------------------------------------- the problems */

/*
 * A row without its file.  Confirmed on a fresh look first: the listing's
 * snapshot is older than the walk, so the row may be gone since.  The
 * repair deletes the row, but holds it locked (the transaction still
 * open) while it looks once more: a delete that rolled back may just have
 * put the file back, and a trash file left by a worker killed mid-delete
 * is the file itself, put back instead.
 */
static void
check_missing(struct fsck *f, const struct fsck_row *r)
{
	struct store_trash trash;
	char	 desc[LINE_MAX_LEN / 2];
	int	 ex, e;

	if (store_exists(f->store, r->hash))
		return;
	if ((ex = f->db->exists(f->db->arg, r->hash)) == -1) {
		warnf(f, "missing %s: cannot check the row: %s", r->hash,
		    f->db->error(f->db->arg));
		return;
	}
	if (ex == 0)
		return;		/* deleted since the listing began */
	if (!f->repair) {
		reportf(f, FSCK_MISSING, r->hash, NULL);
		return;
	}

	if ((ex = f->db->delete_begin(f->db->arg, r->hash, desc,
	    sizeof(desc))) == -1) {
		reportf(f, FSCK_MISSING, r->hash, "not repaired");
		warnf(f, "missing %s: cannot delete the row: %s", r->hash,
		    f->db->error(f->db->arg));
		return;
	}
	if (ex == 0) {
		reportf(f, FSCK_MISSING, r->hash, "row deleted meanwhile");
		return;
	}
	if (store_exists(f->store, r->hash)) {
		f->db->rollback(f->db->arg);
		reportf(f, FSCK_MISSING, r->hash, "kept, the file is back");
		return;
	}
	switch (store_find_trash(f->store, r->hash, &trash)) {
	case 1:
		e = store_untrash(f->store, &trash, r->hash) == STORE_OK ? 0 :
		    errno;
		f->db->rollback(f->db->arg);
		if (e == 0 || e == EEXIST) {
			reportf(f, FSCK_MISSING, r->hash,
			    "file restored from tmp/%s", trash.name);
			return;
		}
		reportf(f, FSCK_MISSING, r->hash, "not repaired");
		warnf(f, "missing %s: cannot restore tmp/%s: %s", r->hash,
		    trash.name, strerror(e));
		return;
	case -1:
		e = errno;
		f->db->rollback(f->db->arg);
		reportf(f, FSCK_MISSING, r->hash, "not repaired");
		warnf(f, "missing %s: cannot read tmp/: %s", r->hash,
		    strerror(e));
		return;
	default:
		break;
	}
	if (f->db->commit(f->db->arg) == -1) {
		reportf(f, FSCK_MISSING, r->hash, "not repaired");
		warnf(f, "missing %s: cannot delete the row: %s", r->hash,
		    f->db->error(f->db->arg));
		return;
	}
	reportf(f, FSCK_MISSING, r->hash, "row deleted (%s)", desc);
}

/*
 * A file without its row.  The worker renames a file into place inside
 * the upload's transaction and commits after, so a young orphan may be an
 * upload about to commit: only one whose mtime is FSCK_ORPHAN_AGE old is
 * removed.  It is moved aside as trash first and looked at once more
 * there, so that a new upload of the same bytes, renamed into place
 * meanwhile, is never what goes.
 */
static void
check_orphan(struct fsck *f, const struct store_entry *file)
{
	const char	*hash = file->hash;
	struct store_trash trash;
	bool		 young;
	int		 ex, e;

	if ((ex = f->db->exists(f->db->arg, hash)) == -1) {
		warnf(f, "orphan %s: cannot check the row: %s", hash,
		    f->db->error(f->db->arg));
		return;
	}
	if (ex == 1)
		return;		/* recorded since the listing began */
	if (!f->repair) {
		reportf(f, FSCK_ORPHAN, hash, NULL);
		return;
	}
	if (f->now - file->st.mtime < FSCK_ORPHAN_AGE) {
		reportf(f, FSCK_ORPHAN, hash, "kept, younger than %d minutes "
		    "(may be an upload about to commit)", FSCK_ORPHAN_AGE / 60);
		return;
	}
	if (store_trash(f->store, hash, &trash) != STORE_OK) {
		e = errno;
		reportf(f, FSCK_ORPHAN, hash, "not repaired");
		warnf(f, "orphan %s: cannot move it aside: %s", hash,
		    strerror(e));
		return;
	}
	/* What was moved must be the file judged old: else a new upload's. */
	young = !store_trash_is(f->store, trash.name, &file->st);
	ex = young ? 0 : f->db->exists(f->db->arg, hash);
	if (!young && ex == 0) {
		store_purge(f->store, &trash);
		reportf(f, FSCK_ORPHAN, hash, "removed");
		return;
	}
	/* Back it goes; a file in its place meanwhile has the same name. */
	if (store_untrash(f->store, &trash, hash) != STORE_OK) {
		if (errno == EEXIST)
			store_purge(f->store, &trash);
		else
			warnf(f, "orphan %s: cannot put it back from "
			    "tmp/%s: %s", hash, trash.name, strerror(errno));
	}
	if (ex == -1) {
		reportf(f, FSCK_ORPHAN, hash, "not repaired");
		warnf(f, "orphan %s: cannot check the row: %s", hash,
		    f->db->error(f->db->arg));
	} else if (ex == 0)
		reportf(f, FSCK_ORPHAN, hash, "kept, replaced by a new upload "
		    "meanwhile");
	/* else recorded meanwhile: no orphan after all. */
}

/*
 * A corrupt file's row cannot be served right: the row goes, and the file
 * to quarantine for a human to look at.  The file moves while the row is
 * locked, before the COMMIT, as a worker's delete does.
 */
static void
repair_corrupt(struct fsck *f, const char *hash, const char *why)
{
	char	 desc[LINE_MAX_LEN / 2], where[STORE_PATH_MAX];
	int	 r, e;

	if ((r = f->db->delete_begin(f->db->arg, hash, desc,
	    sizeof(desc))) == -1) {
		reportf(f, FSCK_CORRUPT, hash, "%s; not repaired", why);
		warnf(f, "corrupt %s: cannot delete the row: %s", hash,
		    f->db->error(f->db->arg));
		return;
	}
	if (r == 0) {
		reportf(f, FSCK_CORRUPT, hash, "%s; row deleted meanwhile",
		    why);
		return;
	}
	if (store_quarantine(f->store, hash, where, sizeof(where)) == -1) {
		e = errno;
		f->db->rollback(f->db->arg);
		reportf(f, FSCK_CORRUPT, hash, "%s; not repaired", why);
		warnf(f, "corrupt %s: cannot move it aside: %s", hash,
		    strerror(e));
		return;
	}
	if (f->db->commit(f->db->arg) == -1) {
		if (store_unquarantine(f->store, hash) == -1)
			warnf(f, "corrupt %s: the row stays, its file is in "
			    "%s", hash, where);
		reportf(f, FSCK_CORRUPT, hash, "%s; not repaired", why);
		warnf(f, "corrupt %s: cannot delete the row: %s", hash,
		    f->db->error(f->db->arg));
		return;
	}
	reportf(f, FSCK_CORRUPT, hash, "%s; row deleted (%s), file moved "
	    "to %s", why, desc, where);
}

/* A row and its file: the size always, the content with -v. */
static void
check_pair(struct fsck *f, const struct fsck_row *r,
    const struct store_entry *file)
{
	char	 why[128], got[HASH_HEX_LEN + 1];
	int	 ok;

	if (file->st.size != r->size)
		snprintf(why, sizeof(why), "size %" PRIu64 ", recorded %"
		    PRIu64, file->st.size, r->size);
	else if (f->verify) {
		if ((ok = store_verify(f->store, r->hash, got)) == -1) {
			if (errno != ENOENT)
				warnf(f, "%s: cannot read: %s", r->hash,
				    strerror(errno));
			return;
		}
		if (ok)
			return;
		snprintf(why, sizeof(why), "content hashes to %s", got);
	} else
		return;
	if (f->repair)
		repair_corrupt(f, r->hash, why);
	else
		reportf(f, FSCK_CORRUPT, r->hash, "%s", why);
}

/*
 * An abandoned temp or trash file, held locked by the walk: reported, and
 * with -r unlinked under the lock (no upload can take it up in between).
 */
static void
stale_temp(struct fsck *f, struct store_walk *w, const char *shown)
{
	if (!f->repair)
		reportf(f, FSCK_STALE_TEMP, shown, NULL);
	else if (store_walk_remove(w) == 0)
		reportf(f, FSCK_STALE_TEMP, shown, "removed");
	else {
		reportf(f, FSCK_STALE_TEMP, shown, "not repaired");
		warnf(f, "tmp/%s: %s", shown, strerror(errno));
	}
}

/*
 * An abandoned trash file: a delete that never finished.  The repair does
 * what the worker's sweep does, with a look at the row: the file goes back
 * to its place when that is empty and the row is still there; else it
 * goes.  The row is looked at locked (a delete begun and rolled back).
 */
static void
check_trash(struct fsck *f, struct store_walk *w,
    const struct store_entry *e, const char *shown)
{
	struct store_trash trash;
	char	 desc[LINE_MAX_LEN / 2];
	int	 r, restored, err;

	if (!f->repair) {
		reportf(f, FSCK_STALE_TEMP, shown, NULL);
		return;
	}
	if (e->hash[0] != '\0' && !store_exists(f->store, e->hash)) {
		if ((r = f->db->delete_begin(f->db->arg, e->hash, desc,
		    sizeof(desc))) == -1) {
			reportf(f, FSCK_STALE_TEMP, shown, "not repaired");
			warnf(f, "tmp/%s: cannot check the row: %s", shown,
			    f->db->error(f->db->arg));
			return;
		}
		if (r == 1) {
			restored = 0;
			store_trash_name(&trash, e->name);
			if (!store_exists(f->store, e->hash)) {
				if (store_untrash(f->store, &trash,
				    e->hash) == STORE_OK)
					restored = 1;
				else if (errno != EEXIST && errno != ENOENT) {
					/* The row's only copy: keep it. */
					err = errno;
					f->db->rollback(f->db->arg);
					reportf(f, FSCK_STALE_TEMP, shown,
					    "not repaired");
					warnf(f, "tmp/%s: cannot restore: %s",
					    shown, strerror(err));
					return;
				}
			}
			f->db->rollback(f->db->arg);
			if (restored) {
				reportf(f, FSCK_STALE_TEMP, shown,
				    "restored to its recorded place");
				return;
			}
		}
	}
	stale_temp(f, w, shown);
}

/*
 * A resumable upload's partial file: stale when its upload is gone (a
 * termination that died between removing the row and the bytes, or a
 * database restored from an older backup).
 */
static void
check_part(struct fsck *f, const struct store_entry *e, const char *shown)
{
	int	 r;

	if (f->db->upload_exists == NULL)
		return;
	if ((r = f->db->upload_exists(f->db->arg, e->hash)) == -1) {
		warnf(f, "tmp/%s: cannot check the upload: %s", shown,
		    f->db->error(f->db->arg));
		return;
	}
	if (r == 1)
		return;
	if (!f->repair) {
		reportf(f, FSCK_STALE_TEMP, shown, NULL);
		return;
	}
	if (store_part_remove(f->store, e->hash) == 0)
		reportf(f, FSCK_STALE_TEMP, shown, "removed");
	else
		reportf(f, FSCK_STALE_TEMP, shown, "not repaired (in use)");
}

/* The store's abandoned temp and trash files, and its strays there. */
static void
check_tmp(struct fsck *f)
{
	struct store_walk	*w;
	struct store_entry	 e;
	char			 shown[FSCK_VIS_MAX];

	if ((w = store_walk_tmp(f->store, FSCK_UPLOAD_AGE,
	    FSCK_TRASH_AGE)) == NULL) {
		warnf(f, "tmp: %s", strerror(errno));
		return;
	}
	while (store_walk_next(w, &e) == 1) {
		fsck_vis(e.name, shown, sizeof(shown));
		if (e.kind == STORE_ENTRY_UPLOAD)
			stale_temp(f, w, shown);
		else if (e.kind == STORE_ENTRY_TRASH)
			check_trash(f, w, &e, shown);
		else if (e.kind == STORE_ENTRY_PART)
			check_part(f, &e, shown);
		else
			stray_or_error(f, &e);
	}
	store_walk_close(w);
}

/* ---------------------------------------------------------- the merge */

/*
 * The next row, checked: a well-formed hash, in strictly increasing byte
 * order (the merge depends on it).  1, 0 at the end, -1 (warned) on error.
 */
static int
next_row(struct fsck *f, struct fsck_row *r, char prev[HASH_HEX_LEN + 1])
{
	char	 h[HASH_HEX_LEN + 1];
	int	 rc;

	if ((rc = f->db->rows_next(f->db->arg, r)) == -1) {
		warnf(f, "reading the rows: %s", f->db->error(f->db->arg));
		return -1;
	}
	if (rc == 0)
		return 0;
	if (!hash_parse(r->hash, strlen(r->hash), h) ||
	    strcmp(h, r->hash) != 0) {
		warnf(f, "a row's file_hash is not 64 lowercase hex digits");
		return -1;
	}
	if (prev[0] != '\0' && strcmp(prev, r->hash) >= 0) {
		warnf(f, "rows not in byte order of file_hash (%s after %s)",
		    r->hash, prev);
		return -1;
	}
	memcpy(prev, r->hash, HASH_HEX_LEN + 1);
	f->rows++;
	return 1;
}

/* The next stored file, strays and errors reported on the way: 1 or 0. */
static int
next_file(struct fsck *f, struct store_walk *w, struct store_entry *e)
{
	while (store_walk_next(w, e) == 1) {
		if (e->kind == STORE_ENTRY_FILE) {
			f->files++;
			return 1;
		}
		stray_or_error(f, e);
	}
	return 0;
}

int
fsck_run(struct fsck *f)
{
	struct store_walk	*w;
	struct store_entry	 file;
	struct fsck_row		 row;
	char			 prev[HASH_HEX_LEN + 1] = "";
	int			 rr, fr, c;

	f->rows = f->files = f->errors = 0;
	memset(f->problems, 0, sizeof(f->problems));
	if (f->now == 0)
		f->now = time(NULL);
	if ((w = store_walk_files(f->store)) == NULL) {
		warnf(f, "DATA_DIR: %s", strerror(errno));
		return -1;
	}
	if (f->db->rows_begin(f->db->arg) == -1) {
		warnf(f, "listing the rows: %s", f->db->error(f->db->arg));
		store_walk_close(w);
		return -1;
	}
	rr = next_row(f, &row, prev);
	fr = next_file(f, w, &file);
	/*
	 * Rows and not one file, or files and not one row: more likely an
	 * unmounted DATA_DIR or the wrong database than a loss to mend.
	 */
	if (f->repair && ((rr == 1 && fr == 0) || (rr == 0 && fr == 1))) {
		warnf(f, "%s: not repairing (is DATA_DIR mounted, is this "
		    "the right database?)", rr == 1 ? "rows but no stored "
		    "file at all" : "stored files but no row at all");
		f->repair = false;
	}
	while (rr != -1 && (rr == 1 || fr == 1)) {
		c = rr == 0 ? 1 : fr == 0 ? -1 : strcmp(row.hash, file.hash);
		if (c < 0) {
			check_missing(f, &row);
			rr = next_row(f, &row, prev);
		} else if (c > 0) {
			check_orphan(f, &file);
			fr = next_file(f, w, &file);
		} else {
			check_pair(f, &row, &file);
			rr = next_row(f, &row, prev);
			fr = next_file(f, w, &file);
		}
	}
	f->db->rows_end(f->db->arg);
	store_walk_close(w);
	if (rr == -1)
		return -1;
	check_tmp(f);
	return 0;
}

void
fsck_summary(const struct fsck *f, char *buf, size_t len)
{
	snprintf(buf, len, "%" PRIu64 " rows, %" PRIu64 " files: %" PRIu64
	    " missing, %" PRIu64 " orphan, %" PRIu64 " corrupt, %" PRIu64
	    " stray, %" PRIu64 " stale temp", f->rows, f->files,
	    f->problems[FSCK_MISSING], f->problems[FSCK_ORPHAN],
	    f->problems[FSCK_CORRUPT], f->problems[FSCK_STRAY],
	    f->problems[FSCK_STALE_TEMP]);
}

int
fsck_status(const struct fsck *f)
{
	int	 i;

	if (f->errors > 0)
		return 2;
	for (i = 0; i < FSCK__MAX; i++)
		if (f->problems[i] > 0)
			return 1;
	return 0;
}
