/*
 * The core both upload front ends share (the multipart POST, upload.c, and
 * tus, resumable.c): the body pump, from the request through the hash
 * thread to the front end's sink, and the commit protocol, the durable
 * order in which a file and its row are recorded.
 */
#ifndef INGEST_H
#define INGEST_H

#include <stddef.h>

#include "db.h"
#include "outcome.h"

struct hash_ctx;
struct hashpipe;
struct request;
struct store;
struct store_tmp;

/*
 * Takes one piece of the body (len bytes at buf, a buffer of pipe): adds
 * the bytes that belong to the file to the hash (hashpipe_add) and passes
 * them on.  0, or -1 to stop reading, with its error kept by the front end.
 */
typedef int	ingest_take(void *arg, struct hashpipe *pipe, const char *buf,
		    size_t len);

/*
 * Reads r's body to its end in pieces for take, hashing into h on the hash
 * thread (hashpipe.h); h is whole again, and no piece is still being read,
 * when it returns.  0 at the body's end; -1 when take stopped, or with the
 * error kept in *o when no buffer could be had (503) or the body could not
 * be read (r->body_error set).
 */
int	ingest_body(struct request *r, struct hash_ctx *h, ingest_take *take,
	    void *arg, struct outcome *o);

/*
 * Inserts the row of m in a transaction it opens (*tx, as db_insert_begin
 * does); DB_ERR_EXISTS when the hash is recorded.
 */
typedef enum db_error	ingest_insert(void *arg, struct db_tx **tx,
			    struct meta *m);

/*
 * The durable order of every upload (multipart or resumable): tmp's bytes
 * fsynced, the row of m (hash, name, type, size, sha256 set) inserted by
 * insert(arg, tx, m), tmp renamed into place, COMMIT.  Status 0 when
 * recorded; else the answer (403 for bytes already stored), the
 * transaction ended and, but after a COMMIT that failed, nothing of the
 * file in place.
 */
struct outcome	ingest_record(struct store *, struct db_tx **tx,
		    struct store_tmp *tmp, struct meta *m, ingest_insert *insert,
		    void *arg);

#endif
