/*
 * sigv4_sign: the signer on the command line, for tests/sigv4_botocore.py.
 *
 *	sigv4_sign METHOD PATH ACCESS SECRET REGION DATE PAYLOAD_HASH
 *	    [presign=SECONDS] [token=SESSION_TOKEN] [h:NAME=VALUE]...
 *	    [q:NAME=VALUE]...
 *
 * prints the Authorization header's value, or with presign= the query
 * string of a presigned URL.  A header-signed request with a token
 * carries it as h:x-amz-security-token=..., as the S3 client adds it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sigv4.h"

int
main(int argc, char *argv[])
{
	struct sigv4_creds c;
	struct sigv4_request r;
	char		 out[8192], *eq;
	unsigned	 presign = 0;
	int		 i, rc;

	if (argc < 8 || sodium_init() == -1) {
		fprintf(stderr, "usage: sigv4_sign METHOD PATH ACCESS SECRET "
		    "REGION DATE PAYLOAD_HASH [presign=N] [token=T] [h:K=V]... "
		    "[q:K=V]...\n");
		return 2;
	}
	memset(&r, 0, sizeof(r));
	c = (struct sigv4_creds){ argv[3], argv[4], argv[5], "s3", NULL };
	r.method = argv[1];
	r.path = argv[2];
	r.amz_date = argv[6];
	r.payload_hash = argv[7];
	for (i = 8; i < argc; i++) {
		if (strncmp(argv[i], "presign=", 8) == 0) {
			presign = (unsigned)strtoul(argv[i] + 8, NULL, 10);
			continue;
		}
		if (strncmp(argv[i], "token=", 6) == 0) {
			c.session_token = argv[i] + 6;
			continue;
		}
		if ((eq = strchr(argv[i], '=')) == NULL || argv[i][1] != ':')
			return 2;
		*eq = '\0';
		if (argv[i][0] == 'h' && r.nheaders < SIGV4_MAX_HEADERS)
			r.headers[r.nheaders++] = (struct sigv4_pair){
			    argv[i] + 2, eq + 1 };
		else if (argv[i][0] == 'q' && r.nparams < SIGV4_MAX_PARAMS)
			r.params[r.nparams++] = (struct sigv4_pair){
			    argv[i] + 2, eq + 1 };
		else
			return 2;
	}
	rc = presign ? sigv4_presign(&c, &r, presign, out, sizeof(out)) :
	    sigv4_authorization(&c, &r, out, sizeof(out));
	if (rc == -1)
		return 1;
	puts(out);
	return 0;
}
