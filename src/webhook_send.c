#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "jsonio.h"
#include "webhook_send.h"
#include "webhook_sign.h"

struct webhook_sender {
	struct webhook_target	 t;
	/* Its connection cache outlives the transfers: kept connections. */
	CURLM			*multi;
};

/* Of a receiver's answer only the status counts: its body is dropped. */
static size_t
discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

static int64_t
now_us(void)
{
	struct timespec	 t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static void
failed(struct webhook_item *it, const char *why)
{
	it->outcome = WEBHOOK_RETRY;
	it->done_us = now_us();
	snprintf(it->error, sizeof(it->error), "%s", why);
}

/* The item's headers; NULL when out of memory. */
static struct curl_slist *
headers(const struct webhook_target *t, const struct webhook_item *it,
    const char *body, size_t len)
{
	struct curl_slist *h = NULL, *n;
	char		 line[128], sig[WEBHOOK_SIGN_LEN];

	/* "Expect:" empty: no 100-continue round trip before the body. */
	if ((h = curl_slist_append(h, "Content-Type: application/json")) ==
	    NULL || (n = curl_slist_append(h, "Expect:")) == NULL)
		goto fail;
	snprintf(line, sizeof(line), "Fileupload-Event-Id: %" PRIu64,
	    it->ev.id);
	if ((n = curl_slist_append(h, line)) == NULL)
		goto fail;
	if (t->secret != NULL) {
		if (webhook_sign(t->secret, strlen(t->secret), body, len,
		    sig) == -1)
			goto fail;
		snprintf(line, sizeof(line), "Fileupload-Signature: %s", sig);
		if ((n = curl_slist_append(h, line)) == NULL)
			goto fail;
	}
	return h;
fail:
	curl_slist_free_all(h);
	return NULL;
}

/* A handle for the item, added to m; NULL (the item failed) when none. */
static CURL *
add(CURLM *m, const struct webhook_target *t, struct webhook_item *it,
    struct json_meta_writer *w, struct curl_slist **h)
{
	CURL	*e;
	char	*body;
	size_t	 len;

	if ((body = json_event(w, &it->ev)) == NULL) {
		failed(it, "out of memory");
		return NULL;
	}
	len = strlen(body);
	if ((*h = headers(t, it, body, len)) == NULL ||
	    (e = curl_easy_init()) == NULL) {
		free(body);
		failed(it, "out of memory");
		return NULL;
	}
	curl_easy_setopt(e, CURLOPT_URL, t->url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, *h);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)len);
	curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, body);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)t->timeout);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, (long)t->timeout);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "fileupload-webhook/"
	    PACKAGE_VERSION);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)it);
	free(body);
	if (curl_multi_add_handle(m, e) != CURLM_OK) {
		curl_easy_cleanup(e);
		failed(it, "libcurl refused the request");
		return NULL;
	}
	return e;
}

/* The answer of one finished transfer into its item. */
static void
finish(CURLMsg *msg)
{
	struct webhook_item *it = NULL;
	long		 status = 0;
	char		 why[64];

	curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&it);
	if (it == NULL)
		return;
	if (msg->data.result != CURLE_OK) {
		failed(it, curl_easy_strerror(msg->data.result));
		return;
	}
	curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299) {
		snprintf(why, sizeof(why), "HTTP %ld", status);
		failed(it, why);
		return;
	}
	it->outcome = WEBHOOK_DELIVERED;
	it->done_us = now_us();
	it->error[0] = '\0';
}

int
webhook_send_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

struct webhook_sender *
webhook_sender_new(const struct webhook_target *t)
{
	struct webhook_sender	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->t = *t;
	if ((s->multi = curl_multi_init()) == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

void
webhook_sender_free(struct webhook_sender *s)
{
	if (s == NULL)
		return;
	curl_multi_cleanup(s->multi);
	free(s);
}


void
webhook_send(struct webhook_sender *s, struct webhook_item *items,
    unsigned n, struct json_meta_writer *w)
{
	CURLM		*m = s->multi;
	CURLMsg		*msg;
	struct curl_slist **h;
	CURL		**e;
	unsigned	 i;
	int		 running = 1, left;

	h = calloc(n > 0 ? n : 1, sizeof(*h));
	e = calloc(n > 0 ? n : 1, sizeof(*e));
	if (h == NULL || e == NULL) {
		for (i = 0; i < n; i++)
			if (items[i].send)
				failed(&items[i], "out of memory");
		free(h);
		free(e);
		return;
	}
	for (i = 0; i < n; i++)
		if (items[i].send)
			e[i] = add(m, &s->t, &items[i], w, &h[i]);
	while (running > 0) {
		if (curl_multi_perform(m, &running) != CURLM_OK)
			break;
		while ((msg = curl_multi_info_read(m, &left)) != NULL)
			if (msg->msg == CURLMSG_DONE)
				finish(msg);
		if (running > 0 && curl_multi_poll(m, NULL, 0, 1000, NULL) !=
		    CURLM_OK)
			break;
	}
	for (i = 0; i < n; i++) {
		/* A multi handle that broke down: what is left failed. */
		if (items[i].send && items[i].done_us == 0)
			failed(&items[i], "libcurl failed");
		if (e[i] != NULL) {
			curl_multi_remove_handle(m, e[i]);
			curl_easy_cleanup(e[i]);
		}
		curl_slist_free_all(h[i]);
	}
	free(h);
	free(e);
}

void
webhook_url_shown(const char *url, char *out, size_t outlen)
{
	const char	*host, *end, *at;

	if ((host = strstr(url, "://")) == NULL) {
		snprintf(out, outlen, "%s", url);
		return;
	}
	host += 3;
	end = host + strcspn(host, "/?#");
	at = memchr(host, '@', (size_t)(end - host));
	if (at == NULL)
		snprintf(out, outlen, "%s", url);
	else
		snprintf(out, outlen, "%.*s%s", (int)(host - url), url, at + 1);
}
