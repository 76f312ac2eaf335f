/*
 * fileupload-worker: a FastCGI responder for the fileupload API.  Wiring
 * only: configuration, log, storage, libmagic and the database, then the
 * accept loop handing each request to the router.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "app.h"
#include "config.h"
#include "db.h"
#include "handlers.h"
#include "hash.h"
#include "hashpipe.h"
#include "log.h"
#include "mime.h"
#include "request.h"
#include "store.h"

/*
 * Unlocked temp and trash files are a dead worker's: an upload's is
 * removed, a delete's (killed before its COMMIT) is put back.  Sweeps run at
 * start (a killed worker's replacement cleans up after it) and then every
 * SWEEP_EVERY seconds between requests.
 */
#define TEMP_GRACE	0
#define TRASH_GRACE	0
#define SWEEP_EVERY	60

static time_t			 last_sweep;
static volatile sig_atomic_t	 busy;		/* a request is in hand */
static volatile sig_atomic_t	 stopping;	/* SIGTERM or SIGINT came */
static volatile sig_atomic_t	 reopen_log;	/* SIGHUP came */

/*
 * SIGTERM between requests ends the worker at once: there is nothing in
 * hand to lose.  During a request it only marks the worker stopping; the
 * request is finished and answered first (its length bounded by the
 * supervisor's grace period before SIGKILL).
 */
static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
	if (!busy)
		_exit(0);
}

/* SIGHUP: logrotate moved the log; reopen it before the next line. */
static void
on_hup(int sig)
{
	(void)sig;
	reopen_log = 1;
}

static void
install_signals(void)
{
	struct sigaction	 sa;

	/*
	 * SA_RESTART: the request in hand reads and writes on, undisturbed.
	 * Not so a read under SO_RCVTIMEO (request.c), which a signal fails
	 * with EINTR whatever the flag: these signals are held back while a
	 * request is in hand (main), and the hash thread blocks all.
	 */
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	/* A client gone mid-response must be an error return, not a death. */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

static void
sweep(struct store *st)
{
	int	 n;

	if ((n = store_sweep(st, TEMP_GRACE, TRASH_GRACE)) > 0)
		log_info("swept %d temp files left by dead workers", n);
	last_sweep = time(NULL);
}

int
main(int argc, char *argv[])
{
	struct config	 cfg;
	struct app	 app;
	struct request	 req;
	FCGX_Request	 fcgx;
	sigset_t	 held, unheld;
	char		 err[512], *logpath;

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
	if (asprintf(&logpath, "%s/fileupload.log", cfg.log_dir) == -1)
		fatal("asprintf");
	if (log_open(logpath) == -1)
		fatal("LOG_DIR: cannot open %s", logpath);

	memset(&app, 0, sizeof(app));
	app.cfg = &cfg;
	if (cfg.s3 != NULL) {
		if ((app.store = store_s3_open(cfg.s3, err,
		    sizeof(err))) == NULL)
			fatalx("STORAGE=s3: %s", err);
	} else if ((app.store = store_open(cfg.data_dir, err,
	    sizeof(err))) == NULL)
		fatalx("DATA_DIR: %s", err);
	sweep(app.store);
	if (mime_open(err, sizeof(err)) == -1)
		fatalx("%s", err);
	/* What a request needs is made here: no request allocates it. */
	if (hashpipe_start() == -1)
		fatal("the hash buffers");
	db_init(&cfg);
	/* Not fatal: requests answer 503 until the database is back. */
	if (db_ready() != DB_OK)
		log_warnx("database not reachable yet: %s", db_last_error());

	install_signals();
	sigemptyset(&held);
	sigaddset(&held, SIGTERM);
	sigaddset(&held, SIGINT);
	sigaddset(&held, SIGHUP);

	if (FCGX_Init() != 0 || FCGX_InitRequest(&fcgx, 0, 0) != 0)
		fatalx("FastCGI initialisation failed");
	log_info("worker ready");
	while (!stopping && FCGX_Accept_r(&fcgx) == 0) {
		busy = 1;
		/* Per thread: each request's thread will hold them back alike. */
		pthread_sigmask(SIG_BLOCK, &held, &unheld);
		if (reopen_log) {
			reopen_log = 0;
			if (log_open(logpath) == -1)
				log_warn("reopen %s", logpath);
		}
		request_init(&req, &fcgx, &cfg.body_rules);
		handle_request(&app, &req);
		request_log(&req);
		log_set_request_id(NULL);
		request_finish(&req);
		/* One held back is handled here: busy, so it only marks. */
		pthread_sigmask(SIG_SETMASK, &unheld, NULL);
		if (time(NULL) - last_sweep >= SWEEP_EVERY)
			sweep(app.store);
		busy = 0;
	}
	log_info("worker exiting");
	db_close();
	mime_close();
	store_close(app.store);
	config_free(&cfg);
	free(logpath);
	return 0;
}
