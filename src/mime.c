#include <stdio.h>
#include <string.h>

#include <magic.h>

#include "mime.h"

static magic_t	 cookie;

int
mime_open(char *err, size_t errlen)
{
	if ((cookie = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR)) == NULL) {
		snprintf(err, errlen, "libmagic: cannot allocate");
		return -1;
	}
	if (magic_load(cookie, NULL) == -1) {
		snprintf(err, errlen, "libmagic: %s", magic_error(cookie));
		magic_close(cookie);
		cookie = NULL;
		return -1;
	}
	return 0;
}

void
mime_close(void)
{
	if (cookie != NULL)
		magic_close(cookie);
	cookie = NULL;
}

void
mime_detect(const void *buf, size_t len, char *out, size_t outlen)
{
	const char	*t = NULL;

	if (cookie != NULL)
		t = magic_buffer(cookie, buf, len);
	/* libmagic names an empty input "application/x-empty". */
	if (t == NULL || strchr(t, '/') == NULL || len == 0)
		t = len == 0 ? "application/x-empty" : MIME_FALLBACK;
	snprintf(out, outlen, "%s", t);
}
