#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "db.h"
#include "events.h"
#include "events_listen.h"
#include "http.h"
#include "jsonio.h"
#include "log.h"
#include "outcome.h"
#include "query.h"
#include "request.h"

/*
 * While its process's listener is down, a waiter looks again every
 * second; else every few seconds, for changes no worker announces
 * (fsck's repairs, SQL by hand, a host whose listener is down).
 */
#define RECHECK_DEAF_MS		1000
#define RECHECK_QUIET_MS	5000
/*
 * Events pruned per statement; a sweep repeats while a batch is full, at
 * most PRUNE_ROUNDS times (the next sweep goes on).
 */
#define PRUNE_BATCH		10000
#define PRUNE_ROUNDS		100

static atomic_uint	waiting;

/* The page in hand: "[e1,e2" as the rows come, in a memory stream. */
struct page {
	struct json_meta_writer *writer;
	FILE		*f;
	char		*buf;
	size_t		 len;
	unsigned	 n;
	bool		 failed;
};

static int
page_row(void *arg, const struct event *e)
{
	struct page	*pg = arg;
	char		*json;

	if ((json = json_event(pg->writer, e)) == NULL ||
	    fprintf(pg->f, "%s%s", pg->n == 0 ? "[" : ",", json) < 0) {
		free(json);
		pg->failed = true;
		return -1;
	}
	free(json);
	pg->n++;
	return 0;
}

/* Ends the page's stream: buf and len hold what it was given. */
static void
page_close(struct page *pg)
{
	if (pg->f != NULL && fclose(pg->f) != 0)
		pg->failed = true;
	pg->f = NULL;
}

static bool
passed(const struct timespec *t)
{
	struct timespec	 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > t->tv_sec ||
	    (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

static const struct timespec *
earlier(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec &&
	    a->tv_nsec < b->tv_nsec) ? a : b;
}

/* Takes one of the process's waiting places, if one is free. */
static bool
wait_begin(const struct app *app)
{
	unsigned	 n = atomic_load(&waiting);

	do {
		if (n >= app->cfg->events_waiters)
			return false;
	} while (!atomic_compare_exchange_weak(&waiting, &n, n + 1));
	return true;
}

/*
 * Reads the page after q->after into pg: 0, or -1 after answering an
 * error (410 for a reader behind what is kept).
 */
static int
read_page(struct request *r, const struct events_query *q, struct page *pg)
{
	struct outcome	 o;
	uint64_t	 oldest, published;
	enum db_error	 err;

	free(pg->buf);
	pg->buf = NULL;
	pg->n = 0;
	if ((pg->f = open_memstream(&pg->buf, &pg->len)) == NULL) {
		http_error(r, 500, "out of memory");
		return -1;
	}
	err = db_events_publish(&published);
	if (err == DB_OK)
		err = db_events_read(q->after, q->limit, page_row, pg, &oldest);
	page_close(pg);
	if (err != DB_OK) {
		o = outcome_db(err, "events");
		http_error(r, o.status, o.reason);
		return -1;
	}
	if (pg->failed) {
		http_error(r, 500, "out of memory");
		return -1;
	}
	if (q->after > 0 && q->after + 1 < oldest) {
		http_error(r, 410, "events after this id were pruned: "
		    "start again from after=0");
		return -1;
	}
	return 0;
}

void
events_handle(struct app *app, struct request *r, const char *hash)
{
	struct events_query	 q;
	struct timespec		 end, slice;
	struct page		 pg;
	const char		*why;
	uint64_t		 gen;
	bool			 holds = false;

	(void)hash;
	if (query_events(r->query, &q, &why) == -1) {
		http_error(r, 400, why);
		return;
	}
	memset(&pg, 0, sizeof(pg));
	if ((pg.writer = json_meta_writer_new()) == NULL) {
		http_error(r, 500, "out of memory");
		return;
	}
	events_listen_deadline(&end, q.wait * 1000);
	for (;;) {
		/* Before the read: a commit after it moves it on. */
		gen = events_listen_generation();
		if (read_page(r, &q, &pg) == -1)
			goto out;
		if (pg.n > 0 || passed(&end) || events_listen_ended())
			break;
		if (!holds) {
			if (!wait_begin(app))
				break;
			holds = true;
		}
		events_listen_deadline(&slice, events_listen_up() ?
		    RECHECK_QUIET_MS : RECHECK_DEAF_MS);
		events_listen_wait(gen, earlier(&slice, &end));
	}
	http_begin(r, 200, "application/json");
	http_end(r);
	http_write_array(r, pg.buf, pg.n > 0 ? pg.len : 0);
out:
	if (holds)
		atomic_fetch_sub(&waiting, 1);
	json_meta_writer_free(pg.writer);
	free(pg.buf);
}

int
events_sweep(struct app *app)
{
	uint64_t	 published;
	unsigned	 n, total = 0, rounds = 0;

	if (db_events_publish(&published) != DB_OK) {
		log_warnx("events: publishing: %s", db_last_error());
		return 0;
	}
	do {
		if (db_events_prune(app->cfg->events_keep, PRUNE_BATCH,
		    app->cfg->webhook_url != NULL, &n) != DB_OK) {
			log_warnx("events: pruning: %s", db_last_error());
			break;
		}
		total += n;
	} while (n == PRUNE_BATCH && ++rounds < PRUNE_ROUNDS);
	return (int)total;
}
