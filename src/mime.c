#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <magic.h>

#include "mime.h"
#include "text_index.h"

/*
 * A libmagic cookie serves one caller at a time, so request threads borrow
 * them from a free list, made as needed: there are never more than the
 * detections running at once (about the number of cores busy hashing and
 * writing), not one per thread.  The compiled database is mapped, shared by
 * every cookie.
 */
struct cookie {
	magic_t		 magic;
	/* Lent to libmagic's searches (text_index.h): one per cookie. */
	struct text_index *index;
	struct cookie	*next;
};

static pthread_mutex_t	 lock = PTHREAD_MUTEX_INITIALIZER;
static struct cookie	*free_cookies;
static int		 opened;

static struct cookie *
cookie_new(char *err, size_t errlen)
{
	struct cookie	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->magic = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR)) == NULL) {
		snprintf(err, errlen, "libmagic: cannot allocate");
		free(c);
		return NULL;
	}
	if (magic_load(c->magic, NULL) == -1) {
		snprintf(err, errlen, "libmagic: %s", magic_error(c->magic));
		magic_close(c->magic);
		free(c);
		return NULL;
	}
	/* None (no memory): the thread's own serves. */
	c->index = text_index_new();
	return c;
}

static struct cookie *
cookie_take(void)
{
	struct cookie	*c;
	char		 err[256];

	pthread_mutex_lock(&lock);
	if ((c = free_cookies) != NULL)
		free_cookies = c->next;
	pthread_mutex_unlock(&lock);
	return c != NULL ? c : cookie_new(err, sizeof(err));
}

static void
cookie_give(struct cookie *c)
{
	pthread_mutex_lock(&lock);
	c->next = free_cookies;
	free_cookies = c;
	pthread_mutex_unlock(&lock);
}

int
mime_open(char *err, size_t errlen)
{
	struct cookie	*c;

	/* One now, so that a broken database stops the worker at start. */
	if ((c = cookie_new(err, errlen)) == NULL)
		return -1;
	cookie_give(c);
	opened = 1;
	return 0;
}

void
mime_close(void)
{
	struct cookie	*c;

	pthread_mutex_lock(&lock);
	while ((c = free_cookies) != NULL) {
		free_cookies = c->next;
		magic_close(c->magic);
		text_index_free(c->index);
		free(c);
	}
	opened = 0;
	pthread_mutex_unlock(&lock);
}

void
mime_detect(const void *buf, size_t len, char *out, size_t outlen)
{
	struct cookie	*c = NULL;
	const char	*t = NULL;

	if (opened && len > 0 && (c = cookie_take()) != NULL) {
		text_index_use(c->index, buf, len);
		t = magic_buffer(c->magic, buf, len);
		text_index_use(NULL, NULL, 0);
	}
	/* libmagic names an empty input "application/x-empty". */
	if (t == NULL || strchr(t, '/') == NULL || len == 0)
		t = len == 0 ? "application/x-empty" : MIME_FALLBACK;
	/* t may be the cookie's own buffer: copied before it is lent again. */
	snprintf(out, outlen, "%s", t);
	if (c != NULL)
		cookie_give(c);
}
