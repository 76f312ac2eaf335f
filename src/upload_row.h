/*
 * One resumable upload as its row holds it (sql/004_uploads.sql), shared
 * by db.c and resumable.c.
 */
#ifndef UPLOAD_ROW_H
#define UPLOAD_ROW_H

#include <stdbool.h>
#include <stdint.h>

#include "hash.h"
#include "meta.h"
#include "tus.h"

#define UPLOAD_ROW_DATE_MAX	32	/* "Wed, 25 Jun 2014 16:00:00 GMT" */

struct upload_row {
	char		 id[TUS_ID_LEN + 1];
	bool		 length_known;	/* false: Upload-Defer-Length */
	uint64_t	 length;
	uint64_t	 offset;	/* bytes durably received */
	char		 name[META_NAME_MAX + 1];
	char		 metadata[TUS_METADATA_MAX + 1]; /* as the client sent it */
	struct hash_ctx	 hash;		/* the state after offset bytes */
	bool		 state_lost;	/* the row's state was not one of ours */
	char		 file_hash[HASH_HEX_LEN + 1]; /* "" until complete */
	char		 expires[UPLOAD_ROW_DATE_MAX]; /* Upload-Expires */
	bool		 expired;
	/*
	 * tus concatenation (sql/007): "partial", "final;<upload URLs>", or
	 * "" for an ordinary upload.
	 */
	char		 concat[TUS_METADATA_MAX + 1];
	/* The lease this request holds (db_upload_hold), "" for none. */
	char		 writer[33];
};

#endif
