/*
 * null_responder: the cheapest possible FastCGI responder, the ceiling for
 * the metadata GET and the uploads of tests/bench/run.sh.  Same library
 * (libfcgi), same accept shape (threads, one waiting in accept at a time;
 * a thread with a kept connection reads its next request itself) and body
 * reads as fileupload-worker, but it reads no parameter, discards the
 * body, and touches neither the database nor the disk.
 *
 *	gcc -O2 -pthread -o null_responder null_responder.c -lfcgi
 *	spawn-fcgi -s SOCK -n -- multiwatch -f N -- ./null_responder [THREADS]
 */
#include <pthread.h>
#include <stdlib.h>

#include <fcgiapp.h>

static pthread_mutex_t	 accept_lock = PTHREAD_MUTEX_INITIALIZER;

static void *
serve(void *arg)
{
	static __thread char	 body[256 * 1024];
	FCGX_Request		 r;
	int			 rc;

	(void)arg;
	if (FCGX_InitRequest(&r, 0, 0) != 0)
		return NULL;
	for (;;) {
		if (r.ipcFd < 0) {
			pthread_mutex_lock(&accept_lock);
			rc = FCGX_Accept_r(&r);
			pthread_mutex_unlock(&accept_lock);
		} else
			rc = FCGX_Accept_r(&r);
		if (rc != 0)
			break;
		while (FCGX_GetStr(body, sizeof(body), r.in) > 0)
			continue;
		FCGX_PutS("Status: 200\r\nContent-Type: text/plain\r\n\r\nok",
		    r.out);
		FCGX_Finish_r(&r);
	}
	return NULL;
}

int
main(int argc, char *argv[])
{
	pthread_attr_t	 attr;
	pthread_t	 t;
	int		 i, n = argc > 1 ? atoi(argv[1]) : 256;

	if (FCGX_Init() != 0 || n < 1)
		return 1;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 2 * 1024 * 1024);
	for (i = 1; i < n; i++)
		if (pthread_create(&t, &attr, serve, NULL) != 0)
			return 1;
	serve(NULL);
	return 0;
}
