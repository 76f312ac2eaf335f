/*
 * The streaming upload pipeline: body chunks -> multipart parser -> hash and
 * temp file (and a MIME prefix) -> fsync -> row inserted -> rename -> commit.
 */
#ifndef UPLOAD_H
#define UPLOAD_H

struct app;
struct request;

/*
 * Handles POST /service/fileupload and answers it (a route_handler; the
 * collection has no hash).  Never fails.
 */
void	upload_handle(struct app *, struct request *, const char *hash);

#endif
