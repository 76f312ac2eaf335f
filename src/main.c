/*
 * fileupload-worker: a FastCGI responder for the fileupload API.  Wiring
 * only: configuration, log, storage, libmagic and the database, then the
 * request threads, each running the accept loop and handing requests to
 * the router, while the main thread waits for signals and runs the sweeps.
 *
 * Why threads: a request holds its thread for as long as its client takes
 * to send the body.  With one request per process, a few slow clients took
 * every worker; a thread blocked in read costs a few KiB, so a process
 * keeps FILEUPLOAD_THREADS of them, and the costly resources (database
 * connections, hash threads, libmagic cookies) are pooled per process and
 * held only while a request really uses them.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "app.h"
#include "config.h"
#include "db.h"
#include "events.h"
#include "events_listen.h"
#include "handlers.h"
#include "hash.h"
#include "hashpipe.h"
#include "log.h"
#include "metrics.h"
#include "mime.h"
#include "regex_skip.h"
#include "request.h"
#include "resumable.h"
#include "store.h"
#include "webhook.h"

/*
 * Unlocked temp and trash files are a dead worker's: an upload's is
 * removed, a delete's (killed before its COMMIT) is put back.  Sweeps run at
 * start (a killed worker's replacement cleans up after it) and then every
 * SWEEP_EVERY seconds.
 */
#define TEMP_GRACE	0
#define TRASH_GRACE	0
#define SWEEP_EVERY	60
/* Threaded hash pipes per process: about the cores one process can use. */
#define HASH_PIPES	2
/*
 * A request thread's stack: the deepest path (an upload's 64 KiB prefix
 * for libmagic, then libmagic and libpq) stays far below it.
 */
#define THREAD_STACK	(2 * 1024 * 1024)

/*
 * One thread at a time waits in accept (the leader); the others wait to
 * lead on a stack, and the one that went idle last leads next.  So the
 * threads that serve are the few the load needs, over and over, and their
 * stacks and buffers stay warm, while the rest keep theirs untouched: the
 * memory a process uses follows the requests in hand, not
 * FILEUPLOAD_THREADS.
 */
struct follower {
	pthread_cond_t	 wake;
	bool		 promoted;
};

static struct app	 app;
static char		*log_path;
static pthread_mutex_t	 lead_lock = PTHREAD_MUTEX_INITIALIZER;
static bool		 led;			/* a thread is in accept */
static struct follower	**followers;		/* the stack, newest last */
static unsigned		 nfollowers;
static pthread_mutex_t	 busy_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 idle = PTHREAD_COND_INITIALIZER;
static int		 busy;		/* requests in hand */
static atomic_bool	 stopping;	/* SIGTERM or SIGINT came */

static void
set_busy(int delta)
{
	pthread_mutex_lock(&busy_lock);
	busy += delta;
	if (busy == 0)
		pthread_cond_broadcast(&idle);
	pthread_mutex_unlock(&busy_lock);
}

/* Waits until no thread leads and this one is the newest idle. */
static void
lead(struct follower *me)
{
	pthread_mutex_lock(&lead_lock);
	if (led) {
		me->promoted = false;
		followers[nfollowers++] = me;
		while (!me->promoted)
			pthread_cond_wait(&me->wake, &lead_lock);
	}
	led = true;
	pthread_mutex_unlock(&lead_lock);
}

/* Past accept: the newest idle follower leads (the lead passes to it). */
static void
hand_over(void)
{
	struct follower	*next;

	pthread_mutex_lock(&lead_lock);
	if (nfollowers > 0) {
		next = followers[--nfollowers];
		next->promoted = true;
		pthread_cond_signal(&next->wake);
	} else
		led = false;
	pthread_mutex_unlock(&lead_lock);
}

/*
 * A SIGHUP sent to the process waits for main's sigtimedwait, which may
 * run after this request: a request that sees one pending reopens the log
 * itself, so that everything after a logrotate's HUP goes to the new file.
 */
static void
reopen_if_rotated(void)
{
	sigset_t	 pending;

	if (log_path != NULL && sigpending(&pending) == 0 &&
	    sigismember(&pending, SIGHUP) && log_open(log_path) == -1)
		log_warn("reopen %s", log_path);
}

/*
 * True when fd is another connection than *last, the one of this thread's
 * previous request, and makes it *last.  By its inode: libfcgi may have
 * closed a kept connection and taken a new one under the same number.
 */
static bool
new_connection(int fd, ino_t *last)
{
	struct stat	 st;

	if (fstat(fd, &st) == -1 || st.st_ino == *last)
		return false;
	*last = st.st_ino;
	return true;
}

/*
 * One request thread.  Signals are blocked here (main waits for them), so
 * a read under SO_RCVTIMEO (request.c) is never cut short by one.
 */
static void *
serve(void *arg)
{
	FCGX_Request	 fcgx;
	struct request	 req;
	struct follower	 me;
	ino_t		 conn = 0;
	int		 rc;

	(void)arg;
	if (FCGX_InitRequest(&fcgx, 0, 0) != 0)
		fatalx("FastCGI request initialisation failed");
	pthread_cond_init(&me.wake, NULL);
	for (;;) {
		/*
		 * A thread with a kept connection (nginx's fastcgi_keep_conn)
		 * reads that one's next request without leading, so an idle
		 * kept connection pins only its own thread.
		 */
		if (fcgx.ipcFd < 0) {
			lead(&me);
			rc = atomic_load(&stopping) ? -1 : FCGX_Accept_r(&fcgx);
			hand_over();
		} else
			rc = FCGX_Accept_r(&fcgx);
		if (rc != 0)
			break;
		set_busy(1);
		reopen_if_rotated();
		if (new_connection(fcgx.ipcFd, &conn))
			metrics_fcgi_connection();
		metrics_request_begin();
		request_init(&req, &fcgx, &app.cfg->body_rules);
		handle_request(&app, &req);
		db_release(&req.tx);
		request_log(&req);
		metrics_request_end(req.route >= 0 ? (unsigned)req.route :
		    handler_nroutes, req.status, request_elapsed_us(&req));
		log_set_request_id(NULL);
		request_finish(&req);
		set_busy(-1);
		if (atomic_load(&stopping))
			break;
	}
	return NULL;
}

static void
sweep(void)
{
	int	 n;

	if ((n = store_sweep(app.store, TEMP_GRACE, TRASH_GRACE)) > 0) {
		log_info("swept %d temp files left by dead workers", n);
		metrics_swept((unsigned)n);
	}
	if ((n = resumable_sweep(&app)) > 0)
		log_info("swept %d expired resumable uploads", n);
	if ((n = events_sweep(&app)) > 0)
		log_info("pruned %d events", n);
}

static void
start_threads(unsigned n)
{
	pthread_attr_t	 attr;
	pthread_t	 t;
	unsigned	 i, made = 0;

	if ((followers = calloc(n, sizeof(*followers))) == NULL)
		fatal("the request threads");
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, THREAD_STACK);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (i = 0; i < n; i++)
		if (pthread_create(&t, &attr, serve, NULL) == 0)
			made++;
	pthread_attr_destroy(&attr);
	if (made == 0)
		fatalx("no request thread could be started");
	if (made < n)
		log_warnx("%u of %u request threads started", made, n);
	metrics_threads(made, app.upload_slots);
}

/*
 * SIGTERM or SIGINT: no new request is taken; the requests in hand are
 * finished and answered (bounded by the supervisor's grace period before
 * SIGKILL), then the process ends.
 */
static void
stop_when_idle(void)
{
	atomic_store(&stopping, true);
	pthread_mutex_lock(&busy_lock);
	while (busy > 0)
		pthread_cond_wait(&idle, &busy_lock);
	pthread_mutex_unlock(&busy_lock);
}

int
main(int argc, char *argv[])
{
	struct config	 cfg;
	struct timespec	 every = { SWEEP_EVERY, 0 };
	sigset_t	 sigs;
	time_t		 last_sweep;
	char		 err[512];
	int		 sig;

	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "usage: fileupload-worker (configured by the "
		    "environment; see fileupload-worker(8))\n");
		return 2;
	}
	if (config_load(&cfg, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (hash_library_init() == -1)
		fatalx("libsodium cannot be initialised");
	if (geteuid() == 0)
		fatalx("refusing to run as root: start the workers with "
		    "spawn-fcgi -u/-g (or as an unprivileged user)");
	log_set_format(cfg.log_format);
	if (cfg.log_stdout)
		log_use_fd(STDOUT_FILENO);
	else {
		if (asprintf(&log_path, "%s/fileupload.log", cfg.log_dir) == -1)
			fatal("asprintf");
		if (log_open(log_path) == -1)
			fatal("LOG_DIR: cannot open %s", log_path);
	}

	/*
	 * Every thread made from here on inherits the mask: only main's
	 * sigtimedwait takes these.  A client gone mid-response must be an
	 * error return, not a death: SIGPIPE is ignored.
	 */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	/*
	 * Before the first sweep, which it counts.  Not fatal when every slot
	 * of the pool's file has a live owner: this worker counts alone.
	 */
	if (handler_nroutes >= METRICS_ROUTES_MAX)
		fatalx("%zu routes: METRICS_ROUTES_MAX must be raised",
		    handler_nroutes);
	switch (metrics_start(cfg.metrics_file, err, sizeof(err))) {
	case -1:
		fatalx("%s", err);
	case 1:
		log_warnx("%s", err);
		break;
	default:
		if (cfg.metrics_file == NULL)
			log_warnx("FILEUPLOAD_METRICS_FILE unset: metrics "
			    "cover this worker process only");
	}

	app.cfg = &cfg;
	app.routes = handler_routes;
	app.nroutes = handler_nroutes;
	if (!app_link_key(&app))
		log_warnx("FILEUPLOAD_LINK_SECRET unset and no pool file: share "
		    "links work only on the worker process that made them");
	if ((app.store = store_open(&cfg.store, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	regex_skip_enable(cfg.regex_skip);
	if (mime_open(err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (hashpipe_pool_start(HASH_PIPES) == 0)
		log_warnx("no hash thread: bodies are hashed inline");
	if (db_init(&cfg) == -1)
		fatal("the database pool");
	/* Not fatal: requests answer 503 until the database is back. */
	if (db_ready() != DB_OK)
		log_warnx("database not reachable yet: %s", db_last_error());
	/* Wakes the events feed's waiters, here and on the other hosts. */
	if (events_listen_start(&cfg) == -1)
		fatal("the events' listening thread");
	/* FILEUPLOAD_WEBHOOK_URL: one process of the pool delivers. */
	if (webhook_start(&cfg) == -1)
		fatal("the webhook's thread");
	/* After db_init: expired resumable uploads go too. */
	sweep();
	last_sweep = time(NULL);
	app.upload_slots = app_upload_slots(cfg.threads);

	if (FCGX_Init() != 0)
		fatalx("FastCGI initialisation failed");
	start_threads(cfg.threads);
	log_info("worker ready (%u threads, %u database connections)",
	    cfg.threads, cfg.db_pool_size);
	for (;;) {
		sig = sigtimedwait(&sigs, NULL, &every);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig == SIGHUP && log_path != NULL &&
		    log_open(log_path) == -1)
			log_warn("reopen %s", log_path);
		if (time(NULL) - last_sweep >= SWEEP_EVERY) {
			sweep();
			last_sweep = time(NULL);
		}
	}
	/* Long polls answer now rather than hold the exit up. */
	events_listen_end();
	stop_when_idle();
	log_info("worker exiting");
	/*
	 * Threads still in accept end with the process; nothing is in hand.
	 * What they might still touch stays allocated (reachable, for a leak
	 * checker's exit-time pass).
	 */
	exit(0);
}
