/*
 * The webhook's HTTP side: the events of a batch POSTed at once with
 * libcurl, each as the feed shows it (json_event), with its id and
 * signature headers (docs/api.md, "Events").
 */
#ifndef WEBHOOK_SEND_H
#define WEBHOOK_SEND_H

#include "webhook_db.h"

struct json_meta_writer;

struct webhook_target {
	const char	*url;
	const char	*secret;	/* NULL: unsigned */
	unsigned	 timeout;	/* seconds a delivery may take */
};

/* The sender of one thread: its connections to the receiver, kept. */
struct webhook_sender;

/*
 * The library's setup, once, before any thread starts; -1 when libcurl
 * cannot be initialised.
 */
int	webhook_send_init(void);
/* NULL when out of memory. */
struct webhook_sender *webhook_sender_new(const struct webhook_target *t);
void	webhook_sender_free(struct webhook_sender *);
/*
 * POSTs every item of items[0..n) with send, all at once, and returns
 * when each has its answer or its timeout: outcome WEBHOOK_DELIVERED for
 * a 2xx, else WEBHOOK_RETRY with the reason in error; done_us set.  w
 * formats the bodies.  Connections the receiver keeps open serve the
 * next batches.
 */
void	webhook_send(struct webhook_sender *s, struct webhook_item *items,
	    unsigned n, struct json_meta_writer *w);
/*
 * url as the log shows it: without its user:password@ (a receiver's
 * basic authentication is a secret); truncated to outlen.
 */
void	webhook_url_shown(const char *url, char *out, size_t outlen);

#endif
