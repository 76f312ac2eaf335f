# shellcheck shell=bash
#
# What nginx answers itself, in the server that serves /service/fileupload:
# every error the API's JSON {"error": string, "status": code} with
# Content-Type: application/json and X-Request-Id, never nginx's HTML; a
# request that times out is closed without an answer; no answer, error or
# not, carries a header twice.  One scenario per status.
# Sourced by tests/integration/run.sh (helpers in tests/integration/lib.sh).

# ne_raw SECONDS FORMAT [ARG...]: printf FORMAT ARG... sent as it is on a
# new connection to nginx (requests curl would not send), then the answer
# read until nginx closes the connection, at most SECONDS.  Sets STATUS
# ("000": no answer), $IT_TMP/headers and $IT_TMP/body as req does, and
# NE_CLOSED_MS: the milliseconds until nginx closed the connection ("-":
# it did not within SECONDS).
ne_raw() {
	local secs=$1 out
	shift
	# shellcheck disable=SC2059  # the format is the caller's request
	out=$(printf "$@" | python3 -c '
import socket, sys, time
host, port, secs, tmp = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
s = socket.create_connection((host, port))
t0 = time.monotonic()
s.sendall(sys.stdin.buffer.read())
s.settimeout(secs)
got, closed = b"", "-"
try:
	while True:
		b = s.recv(65536)
		if not b:
			closed = "%d" % ((time.monotonic() - t0) * 1000)
			break
		got += b
except socket.timeout:
	pass
except ConnectionResetError:
	closed = "%d" % ((time.monotonic() - t0) * 1000)
head, _, body = got.partition(b"\r\n\r\n")
with open(tmp + "/headers", "wb") as f:
	f.write(head + b"\r\n" if head else b"")
with open(tmp + "/body", "wb") as f:
	f.write(body)
status = head.split(b" ")[1].decode() if head.startswith(b"HTTP/1.") else "000"
print(status, closed)
' "${FU_LISTEN%:*}" "${FU_LISTEN##*:}" "$secs" "$IT_TMP")
	read -r STATUS NE_CLOSED_MS <<<"$out"
}

# ne_check_single_headers [CONTEXT]: no header name comes twice in the last
# response of $IT_TMP/headers.
ne_check_single_headers() {
	local dup
	dup=$(sed 's/\r$//' "$IT_TMP/headers" | awk '
	    /^HTTP\// { n = NR }
	    { line[NR] = $0 }
	    END {
		for (i = n + 1; i <= NR; i++)
			if (line[i] != "") {
				split(line[i], a, ":")
				print tolower(a[1])
			}
	    }' | sort | uniq -d | tr '\n' ' ')
	[ -z "$dup" ] || fail "${1:+$1: }headers repeated: $dup"
}

# ne_check CODE MESSAGE [CONTEXT]: nginx's JSON error CODE with that
# message, an X-Request-Id, no header twice.
ne_check() {
	check_error "$1" "${3:-}"
	[ "$STATUS" = "$1" ] || return 0
	check_json .error "$2"
	ne_check_single_headers "${3:-}"
}

# ne_log_has LINES PATTERN: nginx's error log, past its first LINES lines,
# has a line matching the extended regular expression PATTERN.
ne_log_has() {
	tail -n +"$(($1 + 1))" "$FU_VAR/logs/nginx-error.log" | grep -Eq "$2"
}

# ne_restart_nginx: nginx started again on the configuration as it now is
# in FU_CONF_DIR (edited by the scenario; restart_nginx renders it anew).
ne_restart_nginx() {
	{ fu_nginx_stop && fu_nginx_start; } 2>>"$IT_TMP/setup.log"
}

# A request line nginx cannot read: a plain 400 in JSON.  No header was
# read, so the id is nginx's own.
sc_nginx_400_request_line() {
	local line
	for line in 'GET /service/fileupload HTTP/1.1 trailing' \
	    'NOT A REQUEST' $'\x16\x03\x01\x02\x01\x01\xfc\x03\x03'; do
		ne_raw 10 '%s\r\nHost: %s\r\n\r\n' "$line" "$FU_LISTEN"
		ne_check 400 "bad request" "request line '$line'"
		check "the connection is closed after a bad request line" \
		    test "$NE_CLOSED_MS" != -
	done
}

# A Content-Length nginx cannot read, or one beside a Transfer-Encoding:
# 400 in JSON, with the client's request id (the headers were read).
sc_nginx_400_content_length() {
	ne_raw 10 'POST /service/fileupload HTTP/1.1\r\nHost: %s\r\nX-Request-Id: it-cl-abc\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: abc\r\n\r\n' \
	    "$FU_LISTEN"
	ne_check 400 "bad request" "Content-Length: abc"
	check_header X-Request-Id it-cl-abc
	ne_raw 10 'POST /service/fileupload HTTP/1.1\r\nHost: %s\r\nContent-Length: 10\r\nContent-Length: 12\r\n\r\n0123456789' \
	    "$FU_LISTEN"
	ne_check 400 "bad request" "two Content-Length headers"
	ne_raw 10 'POST /service/fileupload HTTP/1.1\r\nHost: %s\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' \
	    "$FU_LISTEN"
	ne_check 400 "bad request" "Content-Length beside Transfer-Encoding"
	# A chunked body nginx cannot read, in a location of the service.
	ne_raw 10 'POST /service/fileupload HTTP/1.1\r\nHost: %s\r\nContent-Type: multipart/form-data; boundary=b\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nxx\r\n' \
	    "$FU_LISTEN"
	ne_check 400 "bad request" "a malformed chunked body"
}

# nginx (1.22 as every later version) has no 411 of its own: a body comes
# with a Content-Length, chunked, or not at all.  A POST without either
# reaches the worker, whose own JSON 411 answers (its log has the request);
# the server's error_page 411 is there should a module answer one.
sc_nginx_411() {
	ne_raw 10 'POST /service/fileupload HTTP/1.1\r\nHost: %s\r\nX-Request-Id: it-411-nginx\r\nConnection: close\r\nContent-Type: multipart/form-data; boundary=b\r\n\r\n' \
	    "$FU_LISTEN"
	ne_check 411 "Content-Length required" "a POST without a body"
	sleep 0.2
	check "the worker, not nginx, answered the 411" \
	    grep -q ' it-411-nginx POST /service/fileupload ' "$FU_VAR/logs/fileupload.log"
	ne_raw 10 'POST /service/fileupload HTTP/1.0\r\nContent-Type: multipart/form-data; boundary=b\r\n\r\n'
	ne_check 411 "Content-Length required" "an HTTP/1.0 POST without a body"
}

# A body over a location's limit, wherever it is sent: 413 in JSON.
sc_nginx_413() {
	local f=$IT_TMP/ne_413.bin h
	head -c 1100000 /dev/urandom >"$f"
	req POST / --data-binary "@$f" -H 'X-Request-Id: it-413-banner'
	ne_check 413 "upload larger than the configured maximum" "POST / (the server's 1 MiB)"
	check_header X-Request-Id it-413-banner
	upload "$(new_file ne_413)" ne_413.txt
	check_status 201 "a file to PUT to"
	h=$(jf .file_hash)
	req PUT "/service/fileupload/$h" -H 'Content-Type: application/json' \
	    --data-binary "@$f"
	ne_check 413 "upload larger than the configured maximum" "a PUT over 1 MiB"
	req POST /service/fileupload/metrics --data-binary "@$f"
	ne_check 413 "upload larger than the configured maximum" "a body to the metrics"
	head -c $((IT_MAX + 100000)) /dev/urandom >"$f"
	upload "$f" too_big.bin
	ne_check 413 "upload larger than the configured maximum" "an upload over MAX_UPLOAD_SIZE"
	check_not_stored "$(b2 "$f")"
}

# A URI longer than large_client_header_buffers (8 KiB): 414 in JSON.
sc_nginx_414() {
	local long
	long=$(head -c 10240 /dev/zero | tr '\0' a)
	req GET "/service/fileupload/$long" -H 'X-Request-Id: it-414'
	ne_check 414 "request URI too long" "a 10 KB URI"
	req DELETE "/service/fileupload/$long/content?x=$long"
	ne_check 414 "request URI too long" "a 20 KB URI"
}

# A Range past the end of what nginx serves itself: 416 in JSON, with
# Content-Range and the serving location's headers, each once.
sc_nginx_416() {
	local f h size
	f=$(new_file ne_416)
	h=$(b2 "$f")
	size=$(stat -c %s "$f")
	upload "$f" ne_416.txt
	check_status 201
	req GET "/service/fileupload/$h/content" -H "Range: bytes=$((size + 10))-" \
	    -H 'X-Request-Id: it-416'
	ne_check 416 "range not satisfiable" "a Range past the end of a file"
	check_header X-Request-Id it-416
	check_header Content-Range "bytes */$size"
	check_header X-Content-Type-Options nosniff
	check_header Content-Security-Policy sandbox
	# The download's own headers are for its bytes, not for an error.
	check_no_header Cache-Control
	check_no_header Content-Disposition
	req GET /service/fileupload/ui/index.html -H 'Range: bytes=10000000-'
	ne_check 416 "range not satisfiable" "a Range past the end of the page"
	check "the page's CSP on its 416" grep -q "^default-src 'self'" \
	    <<<"$(header Content-Security-Policy)"
}

# A stored file nginx cannot open once the worker has redirected to it
# (gone since the worker looked, or unreadable): 404 in JSON, without the
# download's Cache-Control and Content-Disposition.
sc_nginx_404_file() {
	local f h p mode
	f=$(new_file ne_404)
	h=$(b2 "$f")
	upload "$f" ne_404.txt
	check_status 201
	p=$(stored_path "$h")
	mode=$(stat -c %a "$p")
	# nginx's workers are never root: the mode keeps them out.
	chmod 0000 "$p"
	req GET "/service/fileupload/$h/content" -H 'X-Request-Id: it-404'
	chmod "$mode" "$p"
	ne_check 404 "file not found" "a stored file nginx cannot open"
	check_header X-Request-Id it-404
	check_no_header Cache-Control
	check_no_header Content-Disposition
}

# A header (or header block) larger than large_client_header_buffers:
# nginx's 494, answered as 431 in JSON.
sc_nginx_431() {
	local big
	big=$(head -c 20480 /dev/zero | tr '\0' b)
	# (The id first: nginx reads no header past the one too large.)
	req GET /service/fileupload -H 'X-Request-Id: it-431' -H "X-Big: $big"
	ne_check 431 "request header too large" "a 20 KB header"
	check_header X-Request-Id it-431
	upload "$(new_file ne_431)" ne_431.txt -H "Cookie: c=$big"
	ne_check 431 "request header too large" "an upload with a 20 KB cookie"
}

# nginx itself fails: with REQUEST_BUFFERING=on it cannot write a body to
# its temp directory (made unwritable): 500 in JSON, and no worker saw it.
sc_nginx_500() {
	local f=$IT_TMP/ne_500.bin dir=$FU_NGINX_TEMP/client_body mode
	REQUEST_BUFFERING=on restart_nginx
	mode=$(stat -c %a "$dir")
	# Expanded now: the trap runs once this function's locals are gone.
	# shellcheck disable=SC2064
	trap "chmod $mode '$dir'; restart_nginx" EXIT
	chmod 000 "$dir"
	# Over client_body_buffer_size (128k): nginx writes it to a file.
	head -c 300000 /dev/urandom >"$f"
	upload "$f" ne_500.bin -H 'X-Request-Id: it-500'
	ne_check 500 "internal server error" "a body nginx cannot buffer"
	check_header X-Request-Id it-500
	check_not_stored "$(b2 "$f")"
	! grep -q ' it-500 ' "$FU_VAR/logs/fileupload.log" ||
	    fail "a worker saw the request nginx failed"
}

# The workers refuse (the pool stopped: nginx's 502): the API's 503 with
# Retry-After, in JSON.
sc_nginx_502() {
	local lines
	lines=$(log_lines "$FU_VAR/logs/nginx-error.log")
	trap 'start_pool' EXIT
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	req GET /service/fileupload -H 'X-Request-Id: it-502'
	ne_check 503 "service unavailable" "the workers refuse"
	check_header X-Request-Id it-502
	check_header Retry-After 5
	check "nginx's 502 (no worker to connect to) behind the 503" \
	    ne_log_has "$lines" 'connect\(\) to unix:.* failed|no live upstreams'
	req GET /
	ne_check 503 "service unavailable" "the banner"
}

# A 503 of the workers' own (the database down) passes untouched: one
# X-Request-Id, one Retry-After (nginx's error_page 503 is for its own).
sc_nginx_503() {
	trap 'FU_PG_FSYNC=off fu_pg_start "$IT_PG_DIR" "$FU_DB_PORT" 2>>"$IT_TMP/setup.log"' EXIT
	fu_pg_stop "$IT_PG_DIR" 2>>"$IT_TMP/setup.log"
	req GET /service/fileupload -H 'X-Request-Id: it-503'
	check_error 503 "the database down"
	check_header X-Request-Id it-503
	ne_check_single_headers "the workers' 503"
	check "the worker answered the 503" \
	    grep -q ' it-503 GET /service/fileupload ' "$FU_VAR/logs/fileupload.log"
}

# A worker that does not answer (stopped), past fastcgi_read_timeout (2 s
# here): nginx's 504, the API's 503 with Retry-After, in JSON.
sc_nginx_504() {
	local conf=$FU_CONF_DIR/fileupload-locations.conf pids t0 lines
	lines=$(log_lines "$FU_VAR/logs/nginx-error.log")
	pids=$(fu_pool_pids | tr '\n' ' ')
	# Expanded now: the trap runs once this function's locals are gone.
	# shellcheck disable=SC2064
	trap "kill -CONT $pids; restart_nginx" EXIT
	sed -i 's/fastcgi_read_timeout [^;]*;/fastcgi_read_timeout 2s;/' "$conf"
	ne_restart_nginx
	# shellcheck disable=SC2086  # one PID per word
	kill -STOP $pids
	t0=$SECONDS
	req GET /service/fileupload -H 'X-Request-Id: it-504'
	ne_check 503 "service unavailable" "a worker that does not answer"
	check_header X-Request-Id it-504
	check_header Retry-After 5
	check "answered after the read timeout, not at once ($((SECONDS - t0)) s)" \
	    test $((SECONDS - t0)) -ge 1
	check "nginx's 504 (upstream timed out) behind the 503" \
	    ne_log_has "$lines" 'upstream timed out'
}

# A request that times out, in its header or its body, is closed without
# an answer (nginx's way with a 408): nothing is sent back.  The timeouts
# are made 2 s here; the body's is nginx's with REQUEST_BUFFERING=on (off,
# the worker cuts a stalled body first, with its own JSON 408).
sc_nginx_timeout_closed() {
	local c=$FU_CONF_DIR
	trap 'restart_nginx' EXIT
	REQUEST_BUFFERING=on restart_nginx
	sed -i 's/^\tserver_tokens off;$/&\n\tclient_header_timeout 2s;/' \
	    "$c/fileupload-server.conf"
	sed -i 's/client_body_timeout [^;]*;/client_body_timeout 2s;/' \
	    "$c/fileupload-locations.conf"
	grep -q 'client_header_timeout 2s;' "$c/fileupload-server.conf" ||
	    fail "client_header_timeout not set in the test's configuration"
	ne_restart_nginx
	ne_raw 8 'GET /service/fileupload HTTP/1.1\r\nHost: %s\r\n' "$FU_LISTEN"
	check_eq "answer to a request whose headers stall" 000 "$STATUS"
	check_eq "bytes sent back" 0 "$(cat "$IT_TMP/headers" "$IT_TMP/body" | wc -c)"
	check "nginx closed the connection ($NE_CLOSED_MS ms)" \
	    test "$NE_CLOSED_MS" != -
	ne_raw 8 'POST /service/fileupload HTTP/1.1\r\nHost: %s\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 1000\r\n\r\n--b\r\n' \
	    "$FU_LISTEN"
	check_eq "answer to a request whose body stalls" 000 "$STATUS"
	check_eq "bytes sent back" 0 "$(cat "$IT_TMP/headers" "$IT_TMP/body" | wc -c)"
	check "nginx closed the connection ($NE_CLOSED_MS ms)" \
	    test "$NE_CLOSED_MS" != -
}

# The other statuses nginx answers before any location: TRACE (405), an
# unknown Transfer-Encoding (501), HTTP/2.0 in a request line (505); and
# what a location refuses: a POST to the page (405), an internal URI asked
# for (404).
sc_nginx_other_statuses() {
	req TRACE /service/fileupload
	ne_check 405 "method not allowed" "TRACE"
	req POST /service/fileupload -H 'Transfer-Encoding: gzip' -d x
	ne_check 501 "not implemented" "Transfer-Encoding: gzip"
	ne_raw 10 'GET / HTTP/2.0\r\nHost: %s\r\n\r\n' "$FU_LISTEN"
	ne_check 505 "HTTP version not supported" "HTTP/2.0 in the request line"
	req POST /service/fileupload/ui/index.html -d x
	ne_check 405 "method not allowed" "a POST to the page"
	req GET /_fileupload_error/500
	ne_check 404 "not found" "an error page asked for"
	req GET /_fileupload_error/416
	ne_check 404 "not found" "the 416 page asked for"
	req GET /service/fileupload/ui/missing.js
	ne_check 404 "file not found" "a file the page does not have"
}

# Answers that are not errors carry no header twice either.
sc_nginx_answers_single_headers() {
	local f h p
	f=$(new_file ne_single)
	h=$(b2 "$f")
	upload "$f" ne_single.txt
	check_status 201 "upload"
	ne_check_single_headers "upload"
	for p in / /service/fileupload "/service/fileupload/$h" \
	    "/service/fileupload/$h/content" /service/fileupload/ui/ \
	    /service/fileupload/ui/index.html /service/fileupload/health \
	    /service/fileupload/metrics; do
		req GET "$p"
		check_status 200 "GET $p"
		ne_check_single_headers "GET $p"
	done
	req GET "/service/fileupload/$h/content" -H 'Range: bytes=0-3'
	check_status 206 "a range"
	ne_check_single_headers "a range"
	req GET "/service/fileupload/$h/content" -H "If-None-Match: \"$h\""
	check_status 304 "If-None-Match"
	ne_check_single_headers "a 304"
	req GET /service/fileupload/ui
	check_status 301 "the page without its slash"
	ne_check_single_headers "the page's redirect"
	req GET /nowhere
	ne_check 404 "not found" "a path outside the service"
}

# The same with STORAGE=s3, where nginx streams the object from the store
# (s3_begin, storage_s3.sh): the store's 416 (S3's InvalidRange, XML, no
# Content-Range) becomes the JSON one; no header twice there either.
sc_nginx_416_s3() {
	local f h size
	s3_begin
	f=$(new_file ne_416_s3)
	h=$(b2 "$f")
	size=$(stat -c %s "$f")
	upload "$f" ne_416_s3.txt
	check_status 201
	req GET "/service/fileupload/$h/content" -H "Range: bytes=$((size + 10))-" \
	    -H 'X-Request-Id: it-416-s3'
	ne_check 416 "range not satisfiable" "a Range past the end of an object"
	check_header X-Request-Id it-416-s3
	req GET "/service/fileupload/$h/content" -H 'Range: bytes=0-3'
	check_status 206 "a range within the object"
	ne_check_single_headers "a range within the object"
	req GET "/service/fileupload/$h/content"
	check_status 200 "the object"
	ne_check_single_headers "the object"
}
