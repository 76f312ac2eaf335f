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

# The limit is on the file, not on its multipart framing: through nginx as
# configured, a file of exactly MAX_UPLOAD_SIZE bytes is stored and one
# byte more is 413, as JSON, with nothing kept.
sc_upload_exactly_max_size() {
	local f=$IT_TMP/exact.bin g=$IT_TMP/exact_plus_one.bin framing
	framing=$(sed -n 's/^#define UPLOAD_FRAMING_MAX[[:space:]]*(\(.*\))$/\1/p' \
	    "$FU_ROOT/src/upload.h")
	check_eq "nginx's limit is MAX_UPLOAD_SIZE + UPLOAD_FRAMING_MAX" \
	    "client_max_body_size $((IT_MAX + framing));" \
	    "$(grep -o 'client_max_body_size [0-9]*;' \
	    "$FU_VAR/conf/fileupload-locations.conf" | head -n 1)"
	head -c "$IT_MAX" /dev/urandom >"$f"
	upload "$f" exact.bin
	check_status 201 "a file of exactly MAX_UPLOAD_SIZE bytes"
	check_json .file_size "$IT_MAX"
	check_stored "$(b2 "$f")" "$f"
	req DELETE "/service/fileupload/$(b2 "$f")"
	check_status 201 "deleted, to upload it again chunked"
	upload "$f" exact.bin -H 'Transfer-Encoding: chunked'
	check_status 201 "exactly MAX_UPLOAD_SIZE bytes, chunked"
	head -c $((IT_MAX + 1)) /dev/urandom >"$g"
	upload "$g" over.bin -H 'X-Request-Id: it-max-plus-one'
	check_error 413 "a file of MAX_UPLOAD_SIZE + 1 bytes"
	check_json .error "upload larger than the configured maximum"
	check_header X-Request-Id it-max-plus-one
	check_not_stored "$(b2 "$g")"
	check_tmp_empty
}

# /service/fileupload/ is the collection in every respect: nginx gives it
# the collection's limit and streaming (not the 1 MiB of the file
# locations), the query goes along, and too large is the same JSON 413.
sc_collection_trailing_slash() {
	local f=$IT_TMP/slash.bin g=$IT_TMP/slash_big.bin h
	head -c 1500000 /dev/urandom >"$f"
	h=$(b2 "$f")
	req POST /service/fileupload/ -F "upfile=@$f;filename=slash.bin"
	check_status 201 "a 1.5 MB upload to /service/fileupload/"
	check_header Location "/service/fileupload/$h"
	check_stored "$h" "$f"
	upload "$(new_file trailing_slash)" small.txt
	check_status 201 "a second file, so that a page of one has a next"
	req GET '/service/fileupload/?limit=1'
	check_status 200 "a page of the list with a trailing slash"
	check_json length 1
	check "Link of the page" grep -q '^</service/fileupload?limit=1&after=' \
	    <<<"$(header Link)"
	head -c $((IT_MAX + 1)) /dev/urandom >"$g"
	req POST /service/fileupload/ -F "upfile=@$g;filename=big.bin"
	check_error 413 "MAX_UPLOAD_SIZE + 1 bytes to /service/fileupload/"
	check_json .error "upload larger than the configured maximum"
	check_tmp_empty
}

# After a PostgreSQL restart every worker's kept connection is dead; the
# error comes with the first result, not the send.  The next lists are 200
# all the same, from every worker.
sc_list_after_postgres_restart() {
	local pids
	for _ in 1 2 3 4; do
		req GET '/service/fileupload?limit=1'
	done
	fu_pg_stop "$IT_PG_DIR" 2>>"$IT_TMP/setup.log"
	FU_PG_FSYNC=off fu_pg_start "$IT_PG_DIR" "$FU_DB_PORT" 2>>"$IT_TMP/setup.log"
	# Twelve at once: nginx opens new connections beside its kept one,
	# so both workers (and several pooled connections each) take some.
	# Which worker accepts is the kernel's choice: up to five rounds,
	# until both have answered, and every answer must be 200.
	local -a urls=()
	local round sent=0
	for _ in $(seq 1 12); do
		urls+=(-o /dev/null "$IT_URL/service/fileupload")
	done
	: >"$IT_TMP/pg-restart.codes"
	for round in 1 2 3 4 5; do
		curl -sS -Z --parallel-immediate --max-time "$IT_TIMEOUT" \
		    -H "X-Request-Id: it-pg-restart-$round" -w '%{http_code}\n' \
		    "${urls[@]}" >>"$IT_TMP/pg-restart.codes" \
		    2>>"$IT_TMP/curl.err" || true
		sent=$((sent + 12))
		sleep 0.2
		pids=$(grep -E ' it-pg-restart-[0-9]+ GET /service/fileupload ' \
		    "$FU_VAR/logs/fileupload.log" | grep -oE '\[[0-9]+\]' |
		    sort -u | wc -l)
		[ "$pids" -lt 2 ] || break
	done
	check_eq "lists answered 200 after the restart" "$sent" \
	    "$(grep -c '^200$' "$IT_TMP/pg-restart.codes")"
	check "both workers answered a list after the restart ($pids did)" \
	    test "$pids" -ge 2
}

# A body without a Content-Length over HTTP/2: nginx passes neither a
# length nor a Transfer-Encoding; FastCGI's stdin ends the body.  An
# http2 listener beside the suite's, in the same nginx.
sc_upload_http2_no_content_length() {
	local conf=$FU_VAR/conf port url f=$IT_TMP/h2.body
	local big=$IT_TMP/h2_big.body data=$IT_TMP/h2.bin
	if ! nginx -V 2>&1 | grep -q -- --with-http_v2_module ||
	    ! curl -V | grep -q HTTP2; then
		printf '    (skipped: nginx or curl without HTTP/2)\n' >&3
		return 0
	fi
	port=$(fu_free_port $((19080 + RANDOM % 400)))
	url=http://127.0.0.1:$port
	sed -e "s|listen $FU_LISTEN;|listen 127.0.0.1:$port http2;|" \
	    "$conf/fileupload-server.conf" >"$conf/h2-server.conf"
	sed -i -e "s|^\(\tinclude $conf/fileupload-server.conf;\)\$|\1\n\tinclude $conf/h2-server.conf;|" \
	    "$conf/nginx.conf"
	{ fu_nginx_stop && fu_nginx_start; } 2>>"$IT_TMP/setup.log"

	printf -- '--h2b\r\nContent-Disposition: form-data; name="upfile"; filename="h2.txt"\r\nContent-Type: text/plain\r\n\r\nover HTTP/2 %s\r\n--h2b--\r\n' \
	    "$RANDOM$RANDOM$(date +%s%N)" >"$f"
	IT_URL=$url req POST /service/fileupload --http2-prior-knowledge -v \
	    -T - -H 'Content-Type: multipart/form-data; boundary=h2b' <"$f"
	check_status 201 "a small upload without Content-Length over HTTP/2"
	! grep -qi '^> content-length' "$IT_TMP/curl.err" ||
	    fail "curl sent a Content-Length: the case is not tested"
	check "the request was HTTP/2" grep -q '^> POST /service/fileupload HTTP/2' \
	    "$IT_TMP/curl.err"
	check_json .file_name h2.txt

	# Over one read buffer: the hash runs on its thread.
	head -c 1000000 /dev/urandom >"$data"
	{
		printf -- '--h2b\r\nContent-Disposition: form-data; name="upfile"; filename="h2.bin"\r\n\r\n'
		cat "$data"
		printf -- '\r\n--h2b--\r\n'
	} >"$big"
	IT_URL=$url req POST /service/fileupload --http2-prior-knowledge \
	    -T - -H 'Content-Type: multipart/form-data; boundary=h2b' <"$big"
	check_status 201 "a 1 MB upload without Content-Length over HTTP/2"
	check_json .file_hash "$(b2 "$data")"
	check_stored "$(b2 "$data")" "$data"
	check_tmp_empty
	restart_nginx
}
