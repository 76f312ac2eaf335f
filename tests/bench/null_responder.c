/*
 * null_responder: the cheapest possible FastCGI responder, the ceiling for
 * the metadata GET of tests/bench/run.sh.  Same library (libfcgi), same
 * accept loop shape as fileupload-worker, but it reads no parameter and
 * touches neither the database nor the disk.
 *
 *	gcc -O2 -o null_responder null_responder.c -lfcgi
 *	spawn-fcgi -s SOCK -n -- multiwatch -f N -- ./null_responder
 */
#include <fcgiapp.h>

int
main(void)
{
	FCGX_Request	 r;

	if (FCGX_Init() != 0 || FCGX_InitRequest(&r, 0, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&r) == 0) {
		FCGX_PutS("Status: 200\r\nContent-Type: text/plain\r\n\r\nok",
		    r.out);
		FCGX_Finish_r(&r);
	}
	return 0;
}
