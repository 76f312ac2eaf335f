/*
 * Resumable uploads, tus 1.0.0 (tus.io) with the creation,
 * creation-with-upload, creation-defer-length, termination, expiration,
 * checksum and concatenation (tus_concat.h) extensions, on ROUTER_UPLOADS
 * and ROUTER_UPLOADS/{upload_id}.
 *
 * An upload is a row of uploads (its offset, length, name, metadata and
 * the file's hash state so far) and a partial file of the store
 * (store_part_open).  A request that writes holds the partial file's lock
 * for as long as it writes, so an upload has one writer: a second request
 * waits RESUMABLE_LOCK_WAIT_MS for the first to end, then gets 423.  The
 * lock is the store's, not a database transaction: no connection of the
 * pool is held while a client sends, and it dies with a killed worker.
 * Where the store's lock does not reach every host (S3), the writer holds
 * a lease in the row instead (db_upload_hold), renewed as it writes.
 * After a PATCH's bytes are fsynced its offset and hash state commit, in
 * one statement, before the answer: an offset once reported is durable.
 * The request that brings the last byte records the file through
 * ingest_record, as a multipart POST does.
 */
#ifndef RESUMABLE_H
#define RESUMABLE_H

/*
 * A client that reconnects while its old PATCH still runs: the old one
 * ends within this when nginx has seen the connection go (it then closes
 * the worker's), and the new one proceeds; else it is refused 423 and
 * the client retries, as tus clients do.
 */
#define RESUMABLE_LOCK_WAIT_MS	3000
/*
 * Where no lock reaches every host (STORAGE=s3), the row's lease: renewed
 * every RESUMABLE_RENEW_S while a body streams and before each write a
 * commit follows; a writer that stalls (or was killed) for
 * RESUMABLE_LEASE_S loses the upload to the next request.
 */
#define RESUMABLE_LEASE_S	30
#define RESUMABLE_RENEW_S	5

struct app;
struct request;

/* Route handlers (route_handler); id is the path's {upload_id}. */
void	resumable_options(struct app *, struct request *, const char *id);
void	resumable_create(struct app *, struct request *, const char *id);
void	resumable_head(struct app *, struct request *, const char *id);
void	resumable_patch(struct app *, struct request *, const char *id);
void	resumable_delete(struct app *, struct request *, const char *id);

/*
 * Removes expired uploads, their bytes then their rows; between requests.
 * Returns how many went (0 too when the database is not there).
 */
int	resumable_sweep(struct app *);

#endif
