/*
 * The streaming upload pipeline: body chunks -> multipart parser -> hash and
 * temp file (and a MIME prefix) -> fsync -> row inserted -> rename -> commit.
 */
#ifndef UPLOAD_H
#define UPLOAD_H

/*
 * MAX_UPLOAD_SIZE bounds the file; a body may exceed it by this much for
 * its multipart framing (boundaries, part headers, small other fields).
 * nginx's client_max_body_size is MAX_UPLOAD_SIZE plus the same allowance
 * (scripts/lib.sh, fu_nginx_body_limit).
 */
#define UPLOAD_FRAMING_MAX	(64 * 1024)

#include "db.h"
#include "outcome.h"

struct app;
struct request;
struct store;
struct store_tmp;

/*
 * Handles POST /service/fileupload and answers it (a route_handler; the
 * collection has no hash).  Never fails.
 */
void	upload_handle(struct app *, struct request *, const char *hash);

/*
 * The durable order of every upload (multipart or resumable): tmp's bytes
 * fsynced, the row of m (hash, name, type, size, sha256 set) inserted by
 * insert(arg, m) in a transaction it opens or continues, tmp renamed into
 * place, COMMIT.  Status 0 when recorded; else the answer (403 for bytes
 * already stored), the transaction rolled back and, but after a COMMIT
 * that failed, nothing of the file in place.
 */
struct outcome	upload_record(struct store *, struct store_tmp *tmp,
		    struct meta *m, enum db_error (*insert)(void *, struct meta *),
		    void *arg);

#endif
