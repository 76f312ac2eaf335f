#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sodium.h>

#include "config.h"
#include "db.h"
#include "events_listen.h"
#include "jsonio.h"
#include "log.h"
#include "metrics.h"
#include "webhook.h"
#include "webhook_backoff.h"
#include "webhook_db.h"
#include "webhook_send.h"

/* Events a batch sends at once: first tries, and as many retries. */
#define BATCH		32
/* Seconds between tries for the lock, and between connection attempts. */
#define LOCK_EVERY	1
/* A connect that takes longer than this is given up and tried again. */
#define CONNECT_TIMEOUT	5
/*
 * Looks for events every few seconds even without a wake-up: commits no
 * worker announces (fsck, SQL by hand, a host whose listener is down).
 */
#define POLL_EVERY_MS	3000

static const struct config *hook_cfg;

/* What the answers make of each item, and the metrics of it. */
static void
judge(struct webhook_item *items, unsigned n)
{
	struct webhook_item *it;
	unsigned	 i;

	for (i = 0; i < n; i++) {
		it = &items[i];
		if (!it->send) {
			it->outcome = WEBHOOK_WAIT;
			continue;
		}
		if (it->outcome == WEBHOOK_DELIVERED) {
			metrics_webhook_delivery(METRICS_WEBHOOK_DELIVERED,
			    it->done_us > it->at_us ?
			    (uint64_t)(it->done_us - it->at_us) : 0);
			continue;
		}
		if (it->tries + 1 >= hook_cfg->webhook_tries) {
			it->outcome = WEBHOOK_FAILED;
			metrics_webhook_delivery(METRICS_WEBHOOK_FAILED, 0);
			log_warnx("webhook: event %llu failed after %u tries: %s",
			    (unsigned long long)it->ev.id, it->tries + 1,
			    it->error);
			continue;
		}
		it->outcome = WEBHOOK_RETRY;
		it->wait_ms = webhook_backoff_ms(it->tries + 1,
		    (uint64_t)hook_cfg->webhook_backoff * 1000,
		    (uint64_t)hook_cfg->webhook_backoff_max * 1000,
		    randombytes_random());
		metrics_webhook_delivery(METRICS_WEBHOOK_RETRIED, 0);
	}
}

/*
 * Delivers while c holds the lock, until c fails: a batch while there
 * is one, else a wait for a wake-up, the next retry or the poll.
 */
static void
deliver(PGconn *c, struct webhook_sender *snd, struct json_meta_writer *w,
    struct webhook_item *items)
{
	struct timespec	 until;
	int64_t		 age, due;
	uint64_t	 gen, cursor = 0;
	unsigned	 n;

	for (;;) {
		/* Before the read: a commit after it moves it on. */
		gen = events_listen_generation();
		if (webhook_db_take(c, items, BATCH, &n, &cursor) == -1)
			return;
		if (n > 0) {
			webhook_send(snd, items, n, w);
			judge(items, n);
			if (webhook_db_record(c, items, n, cursor) == -1)
				return;
			continue;
		}
		if (webhook_db_state(c, &age, &due) == -1)
			return;
		metrics_webhook_state(true, age);
		events_listen_deadline(&until, due >= 0 && due < POLL_EVERY_MS ?
		    (unsigned)due : POLL_EVERY_MS);
		events_listen_wait(gen, &until);
	}
}

static void *
webhook_loop(void *arg)
{
	struct webhook_target	 t;
	struct webhook_sender	*snd;
	struct json_meta_writer	*w;
	struct webhook_item	*items;
	PGconn			*c;
	int			 held;
	char			 shown[512];

	(void)arg;
	t.url = hook_cfg->webhook_url;
	t.secret = hook_cfg->webhook_secret;
	t.timeout = hook_cfg->webhook_timeout;
	w = json_meta_writer_new();
	snd = webhook_sender_new(&t);
	items = calloc(2 * BATCH, sizeof(*items));
	if (w == NULL || snd == NULL || items == NULL) {
		log_warnx("webhook: out of memory: no deliveries from this "
		    "process");
		json_meta_writer_free(w);
		webhook_sender_free(snd);
		free(items);
		return NULL;
	}
	for (;;) {
		c = db_connect(hook_cfg, "fileupload-webhook", CONNECT_TIMEOUT);
		held = -1;
		if (PQstatus(c) == CONNECTION_OK && webhook_db_session(c) == 0)
			while ((held = webhook_db_lock(c)) == 0)
				sleep(LOCK_EVERY);
		if (held == 1) {
			webhook_url_shown(t.url, shown, sizeof(shown));
			log_info("webhook: this process delivers to %s", shown);
			metrics_webhook_state(true, 0);
			deliver(c, snd, w, items);
			log_warnx("webhook: delivery stopped, the lock let go: "
			    "%s", PQerrorMessage(c));
		}
		metrics_webhook_state(false, 0);
		PQfinish(c);
		sleep(LOCK_EVERY);
	}
	return NULL;
}

int
webhook_start(const struct config *cfg)
{
	pthread_attr_t	 attr;
	pthread_t	 th;
	int		 rc;

	if (cfg->webhook_url == NULL)
		return 0;
	if (webhook_send_init() == -1)
		return -1;
	hook_cfg = cfg;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&th, &attr, webhook_loop, NULL) == 0 ? 0 : -1;
	pthread_attr_destroy(&attr);
	return rc;
}
