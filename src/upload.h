/*
 * The multipart POST: body chunks (ingest_body) -> multipart parser -> hash
 * and temp file (and a MIME prefix) -> recorded by ingest_record.
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

struct app;
struct request;

/*
 * Handles POST /service/fileupload and answers it (a route_handler; the
 * collection has no hash).  Never fails.
 */
void	upload_handle(struct app *, struct request *, const char *hash);

#endif
