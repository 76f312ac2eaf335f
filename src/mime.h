/*
 * MIME type detection with libmagic, from a bounded prefix of the content
 * (the upload keeps the first MIME_PREFIX bytes; no second pass over the file).
 */
#ifndef MIME_H
#define MIME_H

#include <stddef.h>

#define MIME_PREFIX	(64 * 1024)
#define MIME_FALLBACK	"application/octet-stream"

/* Loads the magic database once per worker; 0 or -1 (reason in err). */
int		 mime_open(char *err, size_t errlen);
void		 mime_close(void);
/*
 * Writes the type of buf (e.g. "text/plain") to out (outlen bytes).  Never
 * fails: anything libmagic cannot say becomes MIME_FALLBACK.
 */
void		 mime_detect(const void *buf, size_t len, char *out, size_t outlen);

#endif
