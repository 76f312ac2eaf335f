#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
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
static atomic_bool	 ended;
static bool		 started;
static const struct config *listen_cfg;
static pthread_once_t	 cond_once = PTHREAD_ONCE_INIT;
/* Written by events_listen_poke, read by the thread: commits to announce. */
static int		 poke_fd = -1;

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

static bool
exec_ok(PGconn *c, const char *sql)
{
	PGresult	*res = PQexec(c, sql);
	bool		 ok = PQresultStatus(res) == PGRES_COMMAND_OK;

	PQclear(res);
	return ok;
}

/*
 * A new connection that LISTENs, or NULL.  Its NOTIFYs need no flush to
 * disk: a wake-up lost in a crash is a wake-up the waiters' rechecks make.
 */
static PGconn *
listen_connect(void)
{
	PGconn	*c;

	c = db_connect(listen_cfg, "fileupload-events", CONNECT_TIMEOUT);
	if (PQstatus(c) != CONNECTION_OK) {
		PQfinish(c);
		return NULL;
	}
	if (!exec_ok(c, "SET synchronous_commit = off") ||
	    !exec_ok(c, "LISTEN " EVENTS_CHANNEL)) {
		log_warnx("events: LISTEN failed: %s", PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	return c;
}

/* Takes what the notifications brought; false when the link broke. */
static bool
take_notifications(PGconn *c)
{
	PGnotify	*n;
	bool		 any = false;

	if (!PQconsumeInput(c))
		return false;
	while ((n = PQnotifies(c)) != NULL) {
		PQfreemem(n);
		any = true;
	}
	if (any)
		move_on();
	return true;
}

/*
 * Listens on c until it breaks; announces this process's commits, many
 * at a time, by one NOTIFY each time the thread comes round.
 */
static void
listen_on(PGconn *c)
{
	struct pollfd	 pfd[2];
	uint64_t	 pokes;

	for (;;) {
		pfd[0].fd = PQsocket(c);
		pfd[0].events = POLLIN;
		pfd[1].fd = poke_fd;
		pfd[1].events = POLLIN;
		pfd[0].revents = pfd[1].revents = 0;
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (pfd[1].revents & POLLIN &&
		    read(poke_fd, &pokes, sizeof(pokes)) == sizeof(pokes) &&
		    !exec_ok(c, "NOTIFY " EVENTS_CHANNEL))
			return;
		if (!take_notifications(c))
			return;
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
	pthread_attr_t	 attr;
	pthread_t	 t;
	int		 rc = 0;

	pthread_once(&cond_once, cond_init);
	pthread_mutex_lock(&gen_lock);
	if (!started) {
		listen_cfg = cfg;
		if ((poke_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1)
			rc = -1;
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (rc == 0 && pthread_create(&t, &attr, listen_loop, NULL) == 0) {
			started = true;
			db_on_change(events_listen_poke);
		} else
			rc = -1;
		pthread_attr_destroy(&attr);
	}
	pthread_mutex_unlock(&gen_lock);
	return rc;
}

void
events_listen_poke(void)
{
	uint64_t	 one = 1;

	if (poke_fd != -1 && write(poke_fd, &one, sizeof(one)) == -1 &&
	    errno != EAGAIN)
		log_warn("events: eventfd");
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

void
events_listen_end(void)
{
	atomic_store(&ended, true);
	move_on();
}

bool
events_listen_ended(void)
{
	return atomic_load(&ended);
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

void
events_listen_deadline(struct timespec *t, unsigned ms)
{
	clock_gettime(CLOCK_MONOTONIC, t);
	t->tv_sec += ms / 1000;
	t->tv_nsec += (long)(ms % 1000) * 1000000;
	if (t->tv_nsec >= 1000000000) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000;
	}
}
