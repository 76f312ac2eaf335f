#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "config.h"
#include "db.h"
#include "events_listen.h"
#include "log.h"

/* Seconds between attempts to connect while the database is away. */
#define RECONNECT_EVERY	1
/* A connect that takes longer than this is given up and tried again. */
#define CONNECT_TIMEOUT	5

static pthread_mutex_t	 gen_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 gen_moved;
static uint64_t		 generation;
static atomic_bool	 up;
static bool		 started;
static const struct config *listen_cfg;
static pthread_once_t	 cond_once = PTHREAD_ONCE_INIT;

/* The waiters' deadlines are on CLOCK_MONOTONIC: a clock step moves none. */
static void
cond_init(void)
{
	pthread_condattr_t	 ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&gen_moved, &ca);
	pthread_condattr_destroy(&ca);
}

static void
move_on(void)
{
	pthread_once(&cond_once, cond_init);
	pthread_mutex_lock(&gen_lock);
	generation++;
	pthread_cond_broadcast(&gen_moved);
	pthread_mutex_unlock(&gen_lock);
}

/* A new connection that LISTENs, or NULL. */
static PGconn *
listen_connect(void)
{
	PGconn		*c;
	PGresult	*res;
	bool		 ok;

	c = db_connect(listen_cfg, "fileupload-events", CONNECT_TIMEOUT);
	if (PQstatus(c) != CONNECTION_OK) {
		PQfinish(c);
		return NULL;
	}
	res = PQexec(c, "LISTEN " EVENTS_CHANNEL);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	PQclear(res);
	if (!ok || PQsetnonblocking(c, 1) == -1) {
		log_warnx("events: LISTEN failed: %s", PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	return c;
}

/* Waits for notifications on c until it breaks. */
static void
listen_on(PGconn *c)
{
	struct pollfd	 pfd;
	PGnotify	*n;
	bool		 any;

	for (;;) {
		pfd.fd = PQsocket(c);
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (!PQconsumeInput(c))
			return;
		for (any = false; (n = PQnotifies(c)) != NULL; any = true)
			PQfreemem(n);
		if (any)
			move_on();
	}
}

static void *
listen_loop(void *arg)
{
	PGconn	*c;

	(void)arg;
	for (;;) {
		if ((c = listen_connect()) == NULL) {
			sleep(RECONNECT_EVERY);
			continue;
		}
		atomic_store(&up, true);
		/* What committed while no one listened is read again. */
		move_on();
		listen_on(c);
		atomic_store(&up, false);
		log_warnx("events: the listening connection broke: %s",
		    PQerrorMessage(c));
		PQfinish(c);
		move_on();
		sleep(RECONNECT_EVERY);
	}
	return NULL;
}

int
events_listen_start(const struct config *cfg)
{
	pthread_attr_t		 attr;
	pthread_t		 t;
	int			 rc = 0;

	pthread_once(&cond_once, cond_init);
	pthread_mutex_lock(&gen_lock);
	if (!started) {
		listen_cfg = cfg;
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &attr, listen_loop, NULL) == 0)
			started = true;
		else
			rc = -1;
		pthread_attr_destroy(&attr);
	}
	pthread_mutex_unlock(&gen_lock);
	return rc;
}

uint64_t
events_listen_generation(void)
{
	uint64_t	 g;

	pthread_mutex_lock(&gen_lock);
	g = generation;
	pthread_mutex_unlock(&gen_lock);
	return g;
}

bool
events_listen_up(void)
{
	return atomic_load(&up);
}

uint64_t
events_listen_wait(uint64_t seen, const struct timespec *deadline)
{
	uint64_t	 g;
	int		 rc = 0;

	pthread_once(&cond_once, cond_init);
	pthread_mutex_lock(&gen_lock);
	while (generation == seen && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&gen_moved, &gen_lock, deadline);
	g = generation;
	pthread_mutex_unlock(&gen_lock);
	return g;
}
