# shellcheck shell=bash
#
# Findings of the review (issue 11): tokens, the size limit, spellings of
# the collection, a PostgreSQL restart, bodies without a length over HTTP/2.
# Sourced by tests/integration/run.sh (helpers in tests/integration/lib.sh).

# Any token closes the service to writes: with only the read token set,
# uploads, updates and deletes need it too; the health check stays open.
sc_read_token_only_closes_writes() {
	local f h
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	FILEUPLOAD_READ_TOKEN=it-read-only start_pool
	f=$(new_file read_token_only)
	h=$(b2 "$f")
	upload "$f" ro.txt
	check_error 401 "upload without a token"
	check_header WWW-Authenticate
	check_not_stored "$h"
	upload "$f" ro.txt -H 'Authorization: Bearer wrong'
	check_error 401 "upload with a wrong token"
	upload "$f" ro.txt -H 'Authorization: Bearer it-read-only'
	check_status 201 "upload with the read token"
	put_json "$h" '{"file_name":"renamed.txt"}'
	check_error 401 "PUT without a token"
	req DELETE "/service/fileupload/$h"
	check_error 401 "DELETE without a token"
	req GET /service/fileupload
	check_error 401 "list without a token"
	req GET /service/fileupload/health
	check_status 200 "health without a token"
	req DELETE "/service/fileupload/$h" -H 'Authorization: Bearer it-read-only'
	check_status 201 "DELETE with the read token"
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	start_pool
}
