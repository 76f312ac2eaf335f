/*
 * null_responder: the cheapest possible FastCGI responder, the ceiling for
 * the metadata GET and the uploads of tests/bench/run.sh.  Same library
 * (libfcgi), same accept loop shape and body reads as fileupload-worker,
 * but it reads no parameter, discards the body, and touches neither the
 * database nor the disk.
 *
 *	gcc -O2 -o null_responder null_responder.c -lfcgi
 *	spawn-fcgi -s SOCK -n -- multiwatch -f N -- ./null_responder
 */
#include <fcgiapp.h>

int
main(void)
{
	static char	 body[256 * 1024];
	FCGX_Request	 r;

	if (FCGX_Init() != 0 || FCGX_InitRequest(&r, 0, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&r) == 0) {
		while (FCGX_GetStr(body, sizeof(body), r.in) > 0)
			continue;
		FCGX_PutS("Status: 200\r\nContent-Type: text/plain\r\n\r\nok",
		    r.out);
		FCGX_Finish_r(&r);
	}
	return 0;
}
