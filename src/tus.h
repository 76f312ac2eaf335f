/*
 * The text of tus 1.0.0 (tus.io/protocols/resumable-upload) and of RFC
 * 9530's Content-Digest: header values in, checked values out.  Pure: no
 * I/O, so every rule is unit-tested directly (tests/check_tus.c).
 */
#ifndef TUS_H
#define TUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digest.h"

#define TUS_VERSION		"1.0.0"
#define TUS_EXTENSIONS		"creation,creation-with-upload," \
	"creation-defer-length,termination,expiration,checksum,concatenation"
#define TUS_CHECKSUM_ALGORITHMS	"sha1,sha256,sha512"
#define TUS_OCTET_STREAM	"application/offset+octet-stream"

/* An upload id: 128 random bits, base64url without padding. */
#define TUS_ID_BYTES		16
#define TUS_ID_LEN		22
/* Upload-Metadata is kept whole, for HEAD; longer ones are refused. */
#define TUS_METADATA_MAX	4096
#define TUS_VALUE_MAX		1024	/* a decoded metadata value */

enum tus_error {
	TUS_OK = 0,
	TUS_ERR_SYNTAX,		/* malformed: 400 */
	TUS_ERR_ALGORITHM,	/* Upload-Checksum names an unknown algorithm: 400 */
	TUS_ERR_NONE,		/* Content-Digest names no algorithm we know */
	TUS_ERR__MAX
};

/* The two Upload-Metadata keys the service uses (tus clients send them). */
struct tus_metadata {
	char	 filename[TUS_VALUE_MAX];
	size_t	 filename_len;		/* 0: none, or empty */
	bool	 has_filename;
	char	 filetype[TUS_VALUE_MAX];
	size_t	 filetype_len;
};

/* A new upload id (TUS_ID_LEN characters and a NUL). */
void		tus_id_new(char out[TUS_ID_LEN + 1]);
/* True for exactly TUS_ID_LEN characters of the base64url alphabet. */
bool		tus_id_valid(const char *s, size_t len);

/*
 * Upload-Offset or Upload-Length: decimal digits only, at most INT64_MAX.
 * 0, or -1 for anything else.
 */
int		tus_parse_size(const char *s, uint64_t *out);

/*
 * Upload-Metadata: "key base64value" pairs separated by commas (the
 * value may be missing); keys non-empty, printable ASCII without spaces or
 * commas, each at most once; values standard base64.  filename and
 * filetype are decoded into out, other keys are checked and skipped.
 * TUS_OK or TUS_ERR_SYNTAX.
 */
enum tus_error	tus_parse_metadata(const char *s, struct tus_metadata *out);

/*
 * Upload-Checksum: "<algorithm> <base64 digest>", the algorithm one of
 * sha1, sha256, sha512.  TUS_OK, TUS_ERR_ALGORITHM or TUS_ERR_SYNTAX (also
 * for a digest of the wrong length).
 */
enum tus_error	tus_parse_checksum(const char *s, struct digest *out);

/*
 * Content-Digest (RFC 9530, a structured-field dictionary such as
 * "sha-256=:<base64>:, sha-512=:<base64>:"): the strongest member we know
 * (sha-512, then sha-256) into out.  Members of other algorithms are
 * skipped.  TUS_OK, TUS_ERR_NONE (only others) or TUS_ERR_SYNTAX.
 */
enum tus_error	tus_parse_content_digest(const char *s, struct digest *out);

/*
 * Writes "sha-256=:<base64>:" for a SHA-256 given as 64 hex digits (a
 * Repr-Digest value) to out: 0, or -1 when hex is not one.
 */
#define TUS_REPR_DIGEST_MAX	(sizeof("sha-256=::") + 44)
int		tus_repr_digest(const char *hex, char out[TUS_REPR_DIGEST_MAX]);

#endif
