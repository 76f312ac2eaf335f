#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "db.h"
#include "hash.h"
#include "hashpipe.h"
#include "ingest.h"
#include "meta.h"
#include "outcome.h"
#include "request.h"
#include "store.h"

int
ingest_body(struct request *r, struct hash_ctx *h, ingest_take *take,
    void *arg, struct outcome *o)
{
	struct hashpipe	*pipe;
	char		*buf;
	ssize_t		 n;
	int		 rc = 0;

	/* A body of one buffer or less is hashed inline. */
	if ((pipe = hashpipe_take(!r->has_length ||
	    r->content_length > HASHPIPE_BUF_SIZE)) == NULL)
		return outcome_fail(o, 503, "out of memory for the body's "
		    "buffer");
	hashpipe_begin(pipe, h);
	for (;;) {
		buf = hashpipe_buffer(pipe);
		if ((n = request_read(r, buf, HASHPIPE_BUF_SIZE)) <= 0)
			break;
		rc = take(arg, pipe, buf, (size_t)n);
		hashpipe_submit(pipe);
		if (rc == -1)
			break;
	}
	/* The hash is whole, and no buffer is still being read, past here. */
	hashpipe_end(pipe);
	hashpipe_give(pipe);
	if (n == -1)
		rc = outcome_keep(o, outcome_body(r->body_error));
	return rc;
}

/*
 * The durable order: bytes fsynced, row inserted (its unique key holds off a
 * concurrent delete of the same hash), file renamed into place, then COMMIT.
 * A crash before COMMIT leaves at most a file without a row, never the
 * reverse, and a file without a row is harmless: its bytes are what the
 * hash says, and a later upload of them simply records it.
 */
struct outcome
ingest_record(struct store *st, struct db_tx **tx, struct store_tmp *tmp,
    struct meta *m, ingest_insert *insert, void *arg)
{
	static const struct outcome ok = { 0, NULL };
	enum store_error e;
	enum db_error	 de;
	struct outcome	 o;

	if ((e = store_tmp_sync(st, tmp)) != STORE_OK)
		return outcome_store(e, "upload: fsync");
	if ((de = insert(arg, tx, m)) != DB_OK) {
		db_rollback(tx);
		return outcome_db(de, "upload");
	}
	if ((e = store_tmp_commit(st, tmp, m->hash)) != STORE_OK) {
		o = outcome_store(e, "upload: rename into place");
		db_rollback(tx);
		return o;
	}
	/*
	 * Should the COMMIT fail, the file stays: once our transaction ended,
	 * another upload of the same bytes may already rely on it.
	 */
	if ((de = db_commit_row(tx, m->hash, true)) != DB_OK)
		return outcome_db(de, "upload commit");
	return ok;
}
