#!/usr/bin/env bash
#
# tests/integration/run.sh: the fileupload service end to end.
#
# Starts its own PostgreSQL, spawn-fcgi pool (2 workers) and nginx, all on
# loopback and in a temp dir (DATA_DIR and LOG_DIR there too), runs every
# scenario below against http://127.0.0.1:<port>, stops everything and
# prints "N passed, N failed" as its last line.  Exits 1 if any failed.
# Run as root (from the repository root or anywhere):
#
#	tests/integration/run.sh [SCENARIO...]
#
# SCENARIO names are the sc_* functions without "sc_"; none means all.
# Environment:
#	FU_BUILD_DIR	the build to test (default: build it, as scripts/run does)
#	FU_WORKER	worker binary to run instead of FU_BUILD_DIR's
#	IT_KEEP=1	keep the temp dir (logs, data) after the run
set -euo pipefail

IT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib.sh
. "$IT_DIR/../../scripts/lib.sh"
# shellcheck source=tests/integration/lib.sh
. "$IT_DIR/lib.sh"

IT_MAX=2097152	# the pool's MAX_UPLOAD_SIZE (2 MiB)

fu_require_root
# The scenarios set these themselves; none may leak in from outside.
unset FILEUPLOAD_TOKEN FILEUPLOAD_READ_TOKEN DB_PASSWORD ASAN_OPTIONS \
    UBSAN_OPTIONS LSAN_OPTIONS REQUEST_BUFFERING WORKERS
for tool in curl jq b2sum nginx spawn-fcgi; do
	command -v "$tool" >/dev/null ||
	    fu_die "$tool is missing (scripts/test installs it; or: apt-get install jq curl nginx-light spawn-fcgi)"
done
if [ -z "${FU_WORKER:-}" ] || [ -z "${FU_BUILD_DIR:-}" ]; then
	fu_build >&2
fi
IT_WORKER=${FU_WORKER:-$(fu_worker_bin)}
IT_MIGRATE=$(fu_migrate_bin)
[ -x "$IT_WORKER" ] || fu_die "no worker at $IT_WORKER"
[ -x "$IT_MIGRATE" ] || fu_die "no migrate tool at $IT_MIGRATE"

fu_user
fu_nginx_user
FU_VAR=$(mktemp -d /tmp/fileupload-it.XXXXXX)
IT_TMP=$FU_VAR/scratch
IT_DATA_DIR=$FU_VAR/data
IT_PG_DIR=$FU_VAR/postgres
mkdir -p "$IT_TMP"

# A worker built with --enable-sanitizers reports into LOG_DIR, and a
# last scenario fails on any report.
IT_SANITIZED=0
if ldd "$IT_WORKER" 2>/dev/null | grep -q libasan; then
	IT_SANITIZED=1
	export ASAN_OPTIONS="log_path=$FU_VAR/logs/asan"
	export UBSAN_OPTIONS="print_stacktrace=1:log_path=$FU_VAR/logs/ubsan"
fi

# The runner's own stdout and stderr, for cleanup: it may run (as the EXIT
# trap) while a function's output is redirected to a log.
exec 3>&1 4>&2
cleaned=0
cleanup() {
	[ "$cleaned" -eq 0 ] || return 0
	cleaned=1
	{
		if [ "${IT_SETUP_DONE:-1}" -eq 0 ]; then
			cat "$IT_TMP/setup.log" || true
			tail -n 20 "$FU_VAR/logs/fileupload.log" 2>/dev/null || true
			echo "setup failed: no scenario ran"
		fi
		fu_nginx_stop 2>/dev/null || true
		fu_pool_stop 2>/dev/null || true
		fu_pg_stop "$IT_PG_DIR" 2>/dev/null || true
		if [ "${IT_KEEP:-0}" = 1 ]; then
			printf 'kept %s\n' "$FU_VAR" >&2
		else
			rm -rf "$FU_VAR" || true
		fi
	} >&3 2>&4
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------ services

start_pool() {
	MAX_UPLOAD_SIZE=$IT_MAX WORKERS=2 fu_pool_start "$IT_WORKER" 2>>"$IT_TMP/setup.log"
}

# restart_nginx [MAX_BODY]: nginx with client_max_body_size MAX_BODY
# (default: fu_nginx_body_limit of the pool's MAX_UPLOAD_SIZE).
restart_nginx() {
	fu_nginx_stop
	FU_NGINX_MAX_BODY=${1:-} MAX_UPLOAD_SIZE=$IT_MAX fu_render_conf
	fu_nginx_start
} 2>>"$IT_TMP/setup.log"

setup() {
	fu_prepare_dirs
	FU_PG_FSYNC=off fu_pg_start "$IT_PG_DIR" "$(fu_free_port $((55432 + RANDOM % 400)))"
	FU_DB_HOST=$FU_PG_HOST
	FU_DB_PORT=$FU_PG_PORT
	FU_DB_USER=fileupload
	FU_DB_NAME=fileupload
	fu_migrate "$IT_MIGRATE"
	FU_LISTEN=127.0.0.1:$(fu_free_port $((18080 + RANDOM % 400)))
	IT_URL=http://$FU_LISTEN
	start_pool
	restart_nginx
}

# Not run as a condition, so that "set -e" holds inside: a failing step
# exits, and cleanup (the EXIT trap) shows the setup log.
IT_SETUP_DONE=0
setup >>"$IT_TMP/setup.log" 2>&1
IT_SETUP_DONE=1

# ------------------------------------------------------------ scenarios
# Route numbers refer to shared/spec/API.md.

# 1. GET /
sc_banner() {
	req GET /
	check_status 200
	check "banner names the service: $(body_preview)" grep -qi fileupload "$IT_TMP/body"
	check "banner is one line" test "$(wc -l <"$IT_TMP/body")" -le 1
	check_header X-Request-Id
}

sc_request_id_generated_and_echoed() {
	req GET /service/fileupload
	check_status 200
	check_header X-Request-Id
	req GET /service/fileupload -H 'X-Request-Id: it-req-0042'
	check_header X-Request-Id it-req-0042
	# An id that is not short and printable is replaced, not echoed.
	req GET /service/fileupload -H 'X-Request-Id: bad id with spaces'
	check_header X-Request-Id
	check "unsafe request id echoed" test "$(header X-Request-Id)" != 'bad id with spaces'
	# Errors carry it too.
	req GET /service/fileupload/nothex -H 'X-Request-Id: it-req-0043'
	check_error 400
	check_header X-Request-Id it-req-0043
}

sc_request_id_in_worker_log() {
	local id
	id=it-log-$RANDOM$RANDOM
	req GET /service/fileupload -H "X-Request-Id: $id"
	check_status 200
	sleep 0.2
	check "request id $id not found in LOG_DIR/fileupload.log" \
	    grep -q -- "$id" "$FU_VAR/logs/fileupload.log"
}

# 4. POST: the happy path, text
sc_upload_text() {
	local f h
	f=$(new_file upload_text)
	h=$(b2 "$f")
	upload "$f" notes.txt
	check_status 201
	check_content_type_json
	check_meta "$h" notes.txt text/plain "$(stat -c %s "$f")"
	check_header Location "/service/fileupload/$h"
	check_header X-Request-Id
	check_stored "$h" "$f"
	check_tmp_empty
}

sc_upload_png() {
	local f=$IT_TMP/pixel.png h
	printf '\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\x0dIDATx\x9cc\x00\x01\x00\x00\x05\x00\x01\x0d\x0a\x2d\xb4\x00\x00\x00\x00IEND\xaeB\x60\x82' >"$f"
	h=$(b2 "$f")
	# The client's claimed type is ignored: libmagic decides.
	req POST /service/fileupload -F "upfile=@$f;filename=pixel.png;type=text/plain"
	check_status 201
	check_meta "$h" pixel.png image/png "$(stat -c %s "$f")"
	check_stored "$h" "$f"
}

# Binary bytes that look like multipart delimiters, spread over several
# FastCGI records (64 KiB each).
sc_upload_binary_multi_record() {
	local f=$IT_TMP/tricky.bin h i
	{
		# A fixed first byte no magic starts with: random bytes alone
		# sometimes begin with "MZ" or another signature.
		printf '\001\002\003\004\005\006\007\010'
		head -c 300000 /dev/urandom
		for i in $(seq 1 200); do
			printf '\r\n--------------------------%s\r\n--\r\n-\r' "$i"
		done
		head -c 300000 /dev/urandom
	} >"$f"
	h=$(b2 "$f")
	upload "$f" tricky.bin
	check_status 201
	check_meta "$h" tricky.bin application/octet-stream "$(stat -c %s "$f")"
	check_stored "$h" "$f"
	check_tmp_empty
}

sc_upload_chunked() {
	local f h
	f=$(new_file upload_chunked)
	h=$(b2 "$f")
	upload "$f" chunked.txt -H 'Transfer-Encoding: chunked'
	check_status 201
	check_json .file_hash "$h"
	check_stored "$h" "$f"
}

sc_upload_empty_file() {
	local f=$IT_TMP/empty h
	: >"$f"
	h=$(b2 "$f")
	upload "$f" empty.txt
	check_status 201
	check_meta "$h" empty.txt "" 0
	check_stored "$h" "$f"
}

sc_upload_strips_directories() {
	local f h boundary=itBoundary7MA4YWxk
	f=$(new_file strip_slash)
	upload "$f" a/b/c.txt
	check_status 201
	check_json .file_name c.txt
	# A backslash path, sent raw (curl would escape it).
	f=$(new_file strip_backslash)
	h=$(b2 "$f")
	{
		printf -- '--%s\r\n' "$boundary"
		printf 'Content-Disposition: form-data; name="upfile"; filename="a\\b\\d.txt"\r\n'
		printf 'Content-Type: text/plain\r\n\r\n'
		cat "$f"
		printf '\r\n--%s--\r\n' "$boundary"
	} >"$IT_TMP/raw"
	post_raw "multipart/form-data; boundary=$boundary" "$IT_TMP/raw"
	check_status 201
	check_json .file_hash "$h"
	check_json .file_name d.txt
}

# file_name is UTF-8 and fits the 255-byte column, whatever the client sent
# (the worker may refuse such a name with 400 instead).
sc_upload_name_utf8_and_bounded() {
	local f b=itBoundaryUTF8 name
	f=$(new_file name_long)
	name="$(printf 'n%.0s' $(seq 1 254))é.txt"
	upload "$f" "$name"
	if [ "$STATUS" = 201 ]; then
		check "file_name over 255 bytes: $(jf '.file_name | utf8bytelength')" \
		    test "$(jf '.file_name | utf8bytelength')" -le 255
		check "response is not valid UTF-8" iconv -f UTF-8 -t UTF-8 "$IT_TMP/body" -o /dev/null
	else
		check_error 400 "300-byte file name"
	fi
	f=$(new_file name_latin1)
	{
		printf -- '--%s\r\n' "$b"
		printf 'Content-Disposition: form-data; name="upfile"; filename="caf\xe9.txt"\r\n\r\n'
		cat "$f"
		printf '\r\n--%s--\r\n' "$b"
	} >"$IT_TMP/raw"
	post_raw "multipart/form-data; boundary=$b" "$IT_TMP/raw"
	if [ "$STATUS" = 201 ]; then
		check "response with a Latin-1 file name is not valid UTF-8" \
		    iconv -f UTF-8 -t UTF-8 "$IT_TMP/body" -o /dev/null
		req GET /service/fileupload
		check "list is not valid UTF-8" iconv -f UTF-8 -t UTF-8 "$IT_TMP/body" -o /dev/null
	else
		check_error 400 "Latin-1 file name"
	fi
}

sc_upload_ignores_other_fields() {
	local f h
	f=$(new_file other_fields)
	h=$(b2 "$f")
	req POST /service/fileupload -F comment=hello -F "upfile=@$f;filename=x.txt" -F tag=t
	check_status 201
	check_json .file_hash "$h"
}

sc_upload_duplicate_403() {
	local f h created
	f=$(new_file duplicate)
	h=$(b2 "$f")
	upload "$f" first.txt
	check_status 201
	created=$(jf .created_at)
	upload "$f" second.txt
	check_error 403
	check_json .error "File already exist!"
	check_json .file_hash "$h"
	check_header Location "/service/fileupload/$h"
	req GET "/service/fileupload/$h"
	check_json .file_name first.txt
	check_json .created_at "$created"
	check_stored "$h" "$f"
	check_tmp_empty
}

sc_upload_no_upfile_part_400() {
	local f
	f=$(new_file no_upfile)
	req POST /service/fileupload -F "file=@$f"
	check_error 400
	req POST /service/fileupload -F "comment=hi"
	check_error 400 "only a text field"
	check_not_stored "$(b2 "$f")"
}

sc_upload_two_upfile_parts_400() {
	local a b
	a=$(new_file two_parts_a)
	b=$(new_file two_parts_b)
	req POST /service/fileupload -F "upfile=@$a" -F "upfile=@$b"
	check_error 400
	check_not_stored "$(b2 "$a")"
	check_not_stored "$(b2 "$b")"
	check_tmp_empty
}

sc_upload_not_multipart_415() {
	local f
	f=$(new_file not_multipart)
	post_raw application/octet-stream "$f"
	check_error 415
	post_raw 'multipart/form-data' "$f"
	check_error 415 "multipart without boundary"
	post_raw 'multipart/mixed; boundary=abc' "$f"
	check_error 415 "multipart/mixed"
	req POST /service/fileupload --data-binary "@$f" -H 'Content-Type:'
	check_error 415 "no Content-Type"
	check_not_stored "$(b2 "$f")"
}

sc_upload_malformed_multipart_400() {
	local f h b=itBoundaryXYZ
	f=$(new_file truncated)
	h=$(b2 "$f")
	# Missing final boundary: the body just ends.
	{
		printf -- '--%s\r\nContent-Disposition: form-data; name="upfile"; filename="t.txt"\r\n' "$b"
		printf 'Content-Type: text/plain\r\n\r\n'
		cat "$f"
	} >"$IT_TMP/raw"
	post_raw "multipart/form-data; boundary=$b" "$IT_TMP/raw"
	check_error 400 "no final boundary"
	check_not_stored "$h"
	# Truncated inside the part headers.
	printf -- '--%s\r\nContent-Disposition: form-data; name="upf' "$b" >"$IT_TMP/raw"
	post_raw "multipart/form-data; boundary=$b" "$IT_TMP/raw"
	check_error 400 "truncated part headers"
	# A part header line that is not a header.
	{
		printf -- '--%s\r\nthis is not a header\r\n\r\n' "$b"
		cat "$f"
		printf '\r\n--%s--\r\n' "$b"
	} >"$IT_TMP/raw"
	post_raw "multipart/form-data; boundary=$b" "$IT_TMP/raw"
	check_error 400 "bad part header"
	check_not_stored "$h"
	# A body that never mentions the boundary.
	post_raw "multipart/form-data; boundary=$b" "$f"
	check_error 400 "no boundary in the body"
	check_tmp_empty
}

# With nginx's request buffering on (REQUEST_BUFFERING=on), the body reaches
# the worker only once nginx has all of it: the same bytes must come out,
# with a Content-Length and chunked.
sc_upload_request_buffering_on() {
	local f=$IT_TMP/buffered.bin h
	check_eq "by default the upload location streams" 1 \
	    "$(grep -c 'fastcgi_request_buffering off;' "$FU_VAR/conf/fileupload-locations.conf" || true)"
	REQUEST_BUFFERING=on restart_nginx
	check_eq "both locations buffer" 2 \
	    "$(grep -c 'fastcgi_request_buffering on;' "$FU_VAR/conf/fileupload-locations.conf" || true)"
	head -c 1500000 /dev/urandom >"$f"
	h=$(b2 "$f")
	upload "$f" buffered.bin
	check_status 201
	check_stored "$h" "$f"
	req DELETE "/service/fileupload/$h"
	check_status 201 "deleted (the API's 201), to upload again chunked"
	upload "$f" buffered.bin -H 'Transfer-Encoding: chunked'
	check_status 201 "chunked"
	check_stored "$h" "$f"
	check_tmp_empty
	restart_nginx
}

sc_upload_no_content_length_411() {
	# curl -X POST without data sends neither Content-Length nor a
	# chunked body; nginx forwards it with an empty CONTENT_LENGTH.
	req POST /service/fileupload -H 'Content-Type: multipart/form-data; boundary=abc'
	check_error 411
}

sc_upload_too_large_nginx_413() {
	local f=$IT_TMP/big.bin h
	head -c $((IT_MAX + 65536)) /dev/urandom >"$f"
	h=$(b2 "$f")
	upload "$f" big.bin -H 'X-Request-Id: it-413'
	check_error 413
	check_json .error "upload larger than the configured maximum"
	check_header X-Request-Id it-413
	check_not_stored "$h"
	check_tmp_empty
}

# nginx configs drift: the worker enforces MAX_UPLOAD_SIZE by itself.
sc_upload_too_large_worker_413() {
	local f=$IT_TMP/over.bin ok=$IT_TMP/under.bin h
	restart_nginx $((IT_MAX * 4))
	head -c $((IT_MAX + 1)) /dev/urandom >"$f"
	h=$(b2 "$f")
	upload "$f" over.bin
	check_error 413 "file of MAX_UPLOAD_SIZE+1 bytes, nginx limit raised"
	check_not_stored "$h"
	check_tmp_empty
	head -c $((IT_MAX - 4096)) /dev/urandom >"$ok"
	upload "$ok" under.bin
	check_status 201 "file of MAX_UPLOAD_SIZE-4096 bytes"
	check_stored "$(b2 "$ok")" "$ok"
	restart_nginx
}

# 2. GET /service/fileupload
sc_list_oldest_first() {
	local a b ha hb order
	a=$(new_file list_a)
	b=$(new_file list_b)
	ha=$(b2 "$a")
	hb=$(b2 "$b")
	upload "$a"
	check_status 201
	upload "$b"
	check_status 201
	req GET /service/fileupload
	check_status 200
	check_content_type_json
	check_json 'type' array
	order=$(jf '.[].file_hash' | grep -n -e "$ha" -e "$hb" | cut -d: -f2 | tr '\n' ' ')
	check_eq "list order of the two new files" "$ha $hb " "$order"
	check_json "map(select(.file_hash == \"$hb\")) | .[0].file_name" "$(basename "$b")"
	check_json 'map(has("file_hash") and has("file_name") and has("file_type") and has("file_size") and has("created_at") and has("updated_at")) | all' true
}

sc_list_paging() {
	local all page link next path pages=0 got=() empty=0 i
	for i in 1 2 3; do
		upload "$(new_file "paging_$i")"
	done
	req GET /service/fileupload
	check_status 200
	mapfile -t all < <(jf '.[].file_hash')
	check "need at least 3 files, have ${#all[@]}" test "${#all[@]}" -ge 3

	req GET '/service/fileupload?limit=1'
	check_status 200
	check_json length 1
	check_json '.[0].file_hash' "${all[0]}"
	check_header Link "</service/fileupload?limit=1&after=${all[0]}>; rel=\"next\""

	req GET "/service/fileupload?limit=1&after=${all[0]}"
	check_status 200
	check_json '.[0].file_hash' "${all[1]}"

	# Walk everything two at a time by following Link.
	path='/service/fileupload?limit=2'
	while [ -n "$path" ] && [ "$pages" -lt 1000 ]; do
		req GET "$path"
		check_status 200
		[ "$STATUS" = 200 ] || break
		pages=$((pages + 1))
		mapfile -t page < <(jf '.[].file_hash')
		[ "${#page[@]}" -gt 0 ] || empty=$((empty + 1))
		got+=("${page[@]}")
		link=$(header Link)
		next=$(sed -n 's/^<\([^>]*\)>; *rel="next"$/\1/p' <<<"$link")
		[ -z "$link" ] || [ -n "$next" ] || fail "unparsable Link: $link"
		path=$next
	done
	check_eq "paged walk equals the full list" "${all[*]}" "${got[*]}"
	check_eq "empty pages reached through Link (Link sent when nothing remained)" 0 "$empty"

	req GET "/service/fileupload?limit=10000"
	check_status 200
	req GET "/service/fileupload?after=${all[0]}"
	check_status 200
	check_json '.[0].file_hash' "${all[1]}"
	# A hash in upper case names the same file.
	req GET "/service/fileupload?limit=1&after=${all[0]^^}"
	check_status 200
	check_json '.[0].file_hash' "${all[1]}"
}

# A walk through the Link headers while files come and go: every file that
# existed throughout is seen exactly once, even when the file a page ended
# on is deleted before the next page is asked for.
sc_list_paging_concurrent() {
	local before=() got=() page link next path pages=0 i h extra=0
	for i in 1 2 3 4 5 6; do
		upload "$(new_file "walk_$i")"
		check_status 201
	done
	req GET /service/fileupload
	mapfile -t before < <(jf '.[].file_hash')

	path='/service/fileupload?limit=2'
	while [ -n "$path" ] && [ "$pages" -lt 1000 ]; do
		req GET "$path"
		check_status 200 "page $pages"
		[ "$STATUS" = 200 ] || break
		pages=$((pages + 1))
		mapfile -t page < <(jf '.[].file_hash')
		got+=("${page[@]}")
		link=$(header Link)
		next=$(sed -n 's/^<\([^>]*\)>; *rel="next"$/\1/p' <<<"$link")
		if [ -n "$next" ] && [ "$pages" -le 3 ]; then
			# Between pages: a new file, and the page's last file
			# deleted (the next page is asked for after it).
			upload "$(new_file "walk_new_$pages")"
			req DELETE "/service/fileupload/${page[-1]}"
			check_status 201 "delete between pages"
			extra=$((extra + 1))
		fi
		path=$next
	done
	check "walk reached the end in $pages pages" test -z "$path"
	# Every file present throughout: the first files before the walk
	# minus the deleted ones, all seen exactly once.
	for h in "${before[@]}"; do
		local n
		n=$(printf '%s\n' "${got[@]}" | grep -cx "$h" || true)
		check "file $h seen $n times" test "$n" -eq 1
	done
	check_eq "no file seen twice" "$(printf '%s\n' "${got[@]}" | sort | uniq -d)" ""
	check "files were deleted mid-walk" test "$extra" -ge 2

	# A hash never recorded is still a bad value.
	req GET "/service/fileupload?limit=1&after=$(printf '%064d' 0)"
	check_status 400 "after an unknown hash"
}

sc_list_bad_query_400() {
	local q
	for q in 'limit=0' 'limit=10001' 'limit=abc' 'limit=-1' 'limit=' \
	    'limit=1.5' 'foo=1' 'limit=1&foo=bar' 'after=nothex' \
	    'after=0123' 'limit=99999999999999999999999'; do
		req GET "/service/fileupload?$q"
		check_error 400 "?$q"
	done
}

# 3. GET /service/fileupload/{hash}
sc_get_metadata() {
	local f h
	f=$(new_file get_meta)
	h=$(b2 "$f")
	upload "$f" meta.txt
	check_status 201
	req GET "/service/fileupload/$h"
	check_status 200
	check_content_type_json
	check_meta "$h" meta.txt text/plain "$(stat -c %s "$f")"
	# A JSON answer's length is known: sent as such, not chunked.
	check_header Content-Length "$(stat -c %s "$IT_TMP/body")"
	check "not chunked" bash -c "! grep -qi '^Transfer-Encoding:' '$IT_TMP/headers'"
	req GET "/service/fileupload/${h^^}"
	check_status 200 "upper-case hash"
	check_json .file_hash "$h"
}

sc_get_malformed_hash_400() {
	local bad
	for bad in nothex 0123 "$(printf '%063d' 0)" "$(printf '%065d' 0)" \
	    "$(printf 'g%063d' 0)" "$(printf '%062d%%20' 0)"; do
		req GET "/service/fileupload/$bad"
		check_error 400 "GET $bad"
	done
}

sc_get_unknown_404() {
	req GET "/service/fileupload/$(printf '%064d' 0)"
	check_error 404
}

# 5. PUT /service/fileupload/{hash}
sc_put_updates() {
	local f h created
	f=$(new_file put_ok)
	h=$(b2 "$f")
	upload "$f" before.txt
	check_status 201
	created=$(jf .created_at)
	sleep 1.1
	put_json "$h" '{"file_name":"after.txt","file_type":"text/markdown"}'
	check_status 201
	check_content_type_json
	check_meta "$h" after.txt text/markdown "$(stat -c %s "$f")"
	check_json .created_at "$created"
	check "updated_at moved on ($(jf .updated_at) vs $created)" \
	    test "$(jf .updated_at)" \> "$created"
	req GET "/service/fileupload/$h"
	check_meta "$h" after.txt text/markdown "$(stat -c %s "$f")"
	# One property alone, an upper-case hash and a charset parameter.
	put_json "${h^^}" '{"file_name":"again.txt"}' 'application/json; charset=utf-8'
	check_status 201
	check_json .file_name again.txt
	check_json .file_type text/markdown
	put_json "$h" '{"file_type":"application/x-thing"}'
	check_status 201
	check_json .file_name again.txt
	check_json .file_type application/x-thing
	# UTF-8 names are fine.
	put_json "$h" '{"file_name":"r\u00e9sum\u00e9 \u2603.txt"}'
	check_status 201
	check_json .file_name 'résumé ☃.txt'
	check_stored "$h" "$f"
}

sc_put_invalid_403() {
	local f h long body
	f=$(new_file put_invalid)
	h=$(b2 "$f")
	upload "$f" keep.txt
	check_status 201
	long=$(printf 'x%.0s' $(seq 1 256))
	for body in '{"file_name":"x.txt","color":"red"}' '{"size":1}' '{}' \
	    '{"file_name":"a/b.txt"}' '{"file_name":"a\\b.txt"}' \
	    '{"file_name":""}' "{\"file_name\":\"$long\"}" \
	    '{"file_name":"a\u0000b"}' '{"file_name":"a\nb"}' \
	    '{"file_name":42}' '{"file_name":null}' '{"file_type":"plain"}' \
	    '{"file_type":"text/"}' '{"file_type":""}' '{"file_type":7}' \
	    '[]' '"x"' '42'; do
		put_json "$h" "$body"
		check_error 403 "PUT $body"
	done
	req GET "/service/fileupload/$h"
	check_json .file_name keep.txt
	check_json .file_type text/plain
}

sc_put_not_json_400() {
	local f h body
	f=$(new_file put_badjson)
	h=$(b2 "$f")
	upload "$f"
	check_status 201
	for body in '{"file_name":' 'not json' '' '{"file_name":"a"} trailing'; do
		put_json "$h" "$body"
		check_error 400 "PUT '$body'"
	done
}

sc_put_wrong_content_type_415() {
	local f h
	f=$(new_file put_ct)
	h=$(b2 "$f")
	upload "$f"
	check_status 201
	put_json "$h" '{"file_name":"x.txt"}' text/plain
	check_error 415 "text/plain"
	req PUT "/service/fileupload/$h" -F 'file_name=x.txt'
	check_error 415 "multipart"
	req PUT "/service/fileupload/$h" --data-binary '{"file_name":"x.txt"}' -H 'Content-Type:'
	check_error 415 "no Content-Type"
}

sc_put_unknown_404_malformed_400() {
	put_json "$(printf '%064d' 0)" '{"file_name":"x.txt"}'
	check_error 404
	put_json nothex '{"file_name":"x.txt"}'
	check_error 400
}

# 6. DELETE /service/fileupload/{hash}
sc_delete() {
	local f h
	f=$(new_file delete_me)
	h=$(b2 "$f")
	upload "$f" gone.txt
	check_status 201
	check_stored "$h" "$f"
	req DELETE "/service/fileupload/$h"
	check_status 201
	check_content_type_json
	check_json 'type' string
	check_json . 'File gone.txt deleted!'
	check_not_stored "$h"
	req GET "/service/fileupload/$h"
	check_error 404 "GET after DELETE"
	req DELETE "/service/fileupload/$h"
	check_error 404 "second DELETE"
	# The same bytes can come back.
	upload "$f" back.txt
	check_status 201 "upload after DELETE"
	check_stored "$h" "$f"
	req DELETE "/service/fileupload/${h^^}"
	check_status 201 "DELETE upper-case hash"
	check_not_stored "$h"
}

sc_delete_malformed_400() {
	req DELETE /service/fileupload/nothex
	check_error 400
	req DELETE "/service/fileupload/$(printf '%063d' 0)"
	check_error 400
}

# 7. GET/HEAD /service/fileupload/{hash}/content (nginx sends the bytes)
sc_content() {
	local f h size
	f=$(new_file content "$(head -c 3000 /dev/urandom | base64)")
	h=$(b2 "$f")
	size=$(stat -c %s "$f")
	upload "$f" 'résumé 1.txt'
	check_status 201
	req GET "/service/fileupload/$h/content" -H 'X-Request-Id: it-content'
	check_status 200
	check "content differs from the upload" cmp -s "$IT_TMP/body" "$f"
	check "Content-Type text/plain, got '$(header Content-Type)'" \
	    grep -q '^text/plain' <<<"$(header Content-Type)"
	check_header Content-Length "$size"
	check_header ETag "\"$h\""
	check_header Accept-Ranges bytes
	check_header X-Request-Id it-content
	check_header X-Content-Type-Options nosniff
	check_header Content-Security-Policy sandbox
	check_header Cache-Control "public, max-age=31536000, immutable"
	check "Content-Disposition '$(header Content-Disposition)'" \
	    grep -q "^attachment; .*filename\*=UTF-8''r%C3%A9sum%C3%A9%201\.txt" \
	    <<<"$(header Content-Disposition)"
	check "no X-Accel-Redirect leaks to the client" test -z "$(header X-Accel-Redirect)"

	req GET "/service/fileupload/${h^^}/content"
	check_status 200 "upper-case hash"

	req GET "/service/fileupload/$h/content" -H 'Range: bytes=0-9'
	check_status 206 "Range: bytes=0-9"
	check_header Content-Range "bytes 0-9/$size"
	check_eq "ranged body" "$(head -c 10 "$f")" "$(body)"
	req GET "/service/fileupload/$h/content" -H "Range: bytes=$((size + 10))-"
	check_status 416 "Range past the end"

	req GET "/service/fileupload/$h/content" -H "If-None-Match: \"$h\""
	check_status 304 "If-None-Match with the hash"
	check_header ETag "\"$h\""
	check_eq "304 body" "" "$(body)"

	# (curl -I writes the headers where the body would go.)
	req HEAD "/service/fileupload/$h/content" -I
	check_status 200 "HEAD"
	check_header Content-Length "$size"
	check_header ETag "\"$h\""

	# The internal location is not reachable from outside.
	req GET "/_fileupload_content/${h:0:2}/${h:2:2}/$h"
	check_status 404 "direct request to the internal location"
	check "internal location served the bytes" test "$(body)" != "$(cat "$f")"
}

sc_content_png_and_errors() {
	local f=$IT_TMP/pixel2.png h
	printf '\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x02\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\x0dIDATx\x9cc\x00\x01\x00\x00\x05\x00\x01\x0d\x0a\x2d\xb4\x00\x00\x00\x00IEND\xaeB\x60\x82' >"$f"
	h=$(b2 "$f")
	upload "$f" p.png
	check_status 201
	req GET "/service/fileupload/$h/content"
	check_status 200
	check_header Content-Type image/png
	check "content differs from the upload" cmp -s "$IT_TMP/body" "$f"
	req GET "/service/fileupload/$(printf '%064d' 0)/content"
	check_error 404 "unknown hash"
	req GET /service/fileupload/nothex/content
	check_error 400 "malformed hash"
	req DELETE "/service/fileupload/$h"
	check_status 201
	req GET "/service/fileupload/$h/content"
	check_error 404 "after DELETE"
}

# 8. GET /service/fileupload/health
# 1 MiB of random bytes back byte-exact, whole and in ranges.
sc_content_large_ranges() {
	local f=$IT_TMP/files/large.bin h size
	mkdir -p "$IT_TMP/files"
	head -c 1048576 /dev/urandom >"$f"
	h=$(b2 "$f")
	size=1048576
	upload "$f" large.bin
	check_status 201
	req GET "/service/fileupload/$h/content"
	check_status 200
	check "1 MiB download differs from the upload" cmp -s "$IT_TMP/body" "$f"
	check_header Content-Length "$size"

	req GET "/service/fileupload/$h/content" -H 'Range: bytes=-100'
	check_status 206 "suffix range"
	check_header Content-Range "bytes $((size - 100))-$((size - 1))/$size"
	check "suffix range bytes" cmp -s "$IT_TMP/body" <(tail -c 100 "$f")

	req GET "/service/fileupload/$h/content" -H 'Range: bytes=1000-1999'
	check_status 206 "middle range"
	check "middle range bytes" cmp -s "$IT_TMP/body" \
	    <(dd if="$f" bs=1000 skip=1 count=1 status=none)

	req GET "/service/fileupload/$h/content" -H 'Range: bytes=0-0' \
	    -H "If-Range: \"$h\""
	check_status 206 "If-Range with the hash"
	req GET "/service/fileupload/$h/content" -H 'Range: bytes=0-0' \
	    -H 'If-Range: "another"'
	check_status 200 "If-Range with another tag: the whole file"
}

# Hostile names give well-formed Content-Disposition headers: the ASCII
# fallback carries no quote, backslash, CR, LF or non-ASCII byte, and
# filename* decodes back to the stored name.  The name arrives through the
# upload's own filename* with CR, LF, quotes, ';', '\' and non-ASCII in it.
sc_content_disposition_hostile_names() {
	local b=hostileboundary f=$IT_TMP/files/hostile.body h stored cd fallback ext decoded
	mkdir -p "$IT_TMP/files"
	printf -- '--%s\r\nContent-Disposition: form-data; name="upfile"; filename*=UTF-8'"''"'a%%22q%%22%%3B%%0D%%0Ab%%5Cc%%3B%%3Dd%%20%%C3%%A9%%E2%%82%%AC.txt\r\n\r\nhostile %s\r\n--%s--\r\n' \
	    "$b" "$RANDOM$RANDOM$(date +%s%N)" "$b" >"$f"
	post_raw "multipart/form-data; boundary=$b" "$f"
	check_status 201 "upload with a hostile filename*"
	h=$(jf .file_hash)
	stored=$(jf .file_name)
	check_eq "stored name (directory part, CR and LF gone)" \
	    "c;=d é€.txt" "$stored"
	req GET "/service/fileupload/$h/content"
	check_status 200
	cd=$(header Content-Disposition)
	check "one Content-Disposition line" \
	    test "$(grep -ci '^content-disposition:' "$IT_TMP/headers")" -eq 1
	fallback=$(sed -n 's/^attachment; filename="\([^"]*\)"; filename\*=.*$/\1/p' <<<"$cd")
	check "fallback filename in '$cd'" test -n "$fallback"
	# shellcheck disable=SC2016 # $1 belongs to the inner shell
	check "fallback is printable ASCII without \\: '$fallback'" \
	    bash -c 'LC_ALL=C; ! grep -q "[^ -~]\|\\\\" <<<"$1"' _ "$fallback"
	ext=$(sed -n "s/^.*filename\*=UTF-8''\(.*\)$/\1/p" <<<"$cd")
	check "filename* uses only attr-chars and %XX: '$ext'" \
	    grep -qE '^([A-Za-z0-9!#$&+.^_`|~-]|%[0-9A-F]{2})+$' <<<"$ext"
	decoded=$(printf '%b' "${ext//%/\\x}")
	check_eq "filename* decodes to the stored name" "$stored" "$decoded"
}

# A row whose file is gone is an integrity error: 500 JSON, logged.
sc_content_missing_file_500() {
	local f h
	f=$(new_file missing)
	h=$(b2 "$f")
	upload "$f" missing.txt
	check_status 201
	rm -f "$(stored_path "$h")"
	req GET "/service/fileupload/$h/content"
	check_error 500 "content of a row without its file"
	check "integrity error logged" grep -q "integrity: row $h" "$FU_VAR/logs/fileupload.log"
	req DELETE "/service/fileupload/$h"
	check_status 201 "such a row can still be deleted"
}

sc_health() {
	req GET /service/fileupload/health
	check_status 200
	check_content_type_json
	check_json .status ok
}

sc_method_not_allowed_405() {
	req PATCH /service/fileupload
	check_error 405 "PATCH collection"
	req POST "/service/fileupload/$(printf '%064d' 0)"
	check_error 405 "POST item"
}

sc_migrate_twice() {
	fu_with_db_env "$IT_MIGRATE" -d "$FU_ROOT/sql" up >"$IT_TMP/migrate.out" 2>&1 ||
	    fail "migrate up again failed: $(cat "$IT_TMP/migrate.out")"
	fu_with_db_env "$IT_MIGRATE" -d "$FU_ROOT/sql" status >"$IT_TMP/migrate.out" 2>&1 ||
	    fail "migrate status failed: $(cat "$IT_TMP/migrate.out")"
}

# Same new bytes, 8 clients at once: exactly one 201, the rest 403.
sc_concurrent_same_upload() {
	local f=$IT_TMP/race.bin h i n201 n403
	head -c 400000 /dev/urandom >"$f"
	h=$(b2 "$f")
	for i in $(seq 1 8); do
		curl -sS --max-time "$IT_TIMEOUT" -o "$IT_TMP/race.$i.body" \
		    -w '%{http_code}\n' -F "upfile=@$f;filename=race$i.bin" \
		    "$IT_URL/service/fileupload" >"$IT_TMP/race.$i.status" 2>&1 &
	done
	wait
	n201=$(cat "$IT_TMP"/race.*.status | grep -c '^201$' || true)
	n403=$(cat "$IT_TMP"/race.*.status | grep -c '^403$' || true)
	check_eq "number of 201s" 1 "$n201"
	check_eq "number of 403s" 7 "$n403"
	[ "$((n201 + n403))" -eq 8 ] ||
	    fail "statuses: $(cat "$IT_TMP"/race.*.status | tr '\n' ' ')"
	check_stored "$h" "$f"
	req GET /service/fileupload
	check_eq "list entries for the raced hash" 1 "$(jf "map(select(.file_hash == \"$h\")) | length")"
	check_tmp_empty
}

# Workers gone: nginx answers 503 JSON itself.
sc_workers_down_503() {
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	req GET /service/fileupload -H 'X-Request-Id: it-down'
	check_error 503
	check_json .error "service unavailable"
	check_header X-Request-Id it-down
	upload "$(new_file workers_down)"
	check_error 503 "upload"
	start_pool
	req GET /service/fileupload
	check_status 200 "after restarting the pool"
}

# Database gone: the worker answers 503 and keeps nothing; it reconnects.
sc_database_down_503() {
	local f h
	f=$(new_file db_down)
	h=$(b2 "$f")
	fu_pg_stop "$IT_PG_DIR" 2>>"$IT_TMP/setup.log"
	upload "$f" down.txt
	check_error 503 "upload while the database is down"
	check_not_stored "$h"
	check_tmp_empty
	req GET /service/fileupload
	check_error 503 "list while the database is down"
	req GET "/service/fileupload/$h"
	check_error 503 "get while the database is down"
	req GET /service/fileupload/health
	check_status 503 "health while the database is down"
	check_json .status unavailable
	FU_PG_FSYNC=off fu_pg_start "$IT_PG_DIR" "$FU_DB_PORT" 2>>"$IT_TMP/setup.log"
	upload "$f" up.txt
	check_status 201 "first upload after the database is back"
	check_stored "$h" "$f"
	upload "$(new_file db_back)" up2.txt
	check_status 201 "second upload after the database is back"
	req GET /service/fileupload/health
	check_status 200 "health once the database is back"
	check_json .status ok
}

# Beyond the seed: bearer tokens.
sc_tokens() {
	local f h
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	FILEUPLOAD_TOKEN=it-write-secret FILEUPLOAD_READ_TOKEN=it-read-secret start_pool
	f=$(new_file tokens)
	h=$(b2 "$f")
	upload "$f"
	check_error 401 "upload without a token"
	check_header WWW-Authenticate
	upload "$f" x.txt -H 'Authorization: Bearer wrong'
	check_error 401 "upload with a wrong token"
	upload "$f" x.txt -H 'Authorization: Bearer it-write-secret'
	check_status 201 "upload with the token"
	req GET /service/fileupload
	check_error 401 "list without the read token"
	req GET /service/fileupload -H 'Authorization: Bearer it-read-secret'
	check_status 200 "list with the read token"
	req DELETE "/service/fileupload/$h" -H 'Authorization: Bearer it-read-secret'
	check_error 401 "DELETE with the read token"
	req DELETE "/service/fileupload/$h" -H 'Authorization: Bearer it-write-secret'
	check_status 201 "DELETE with the write token"
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	start_pool
}

# Only with a sanitized worker: AddressSanitizer, LeakSanitizer (at worker
# exit) and UBSan reported nothing.  Stops the pool so that the workers'
# exit-time leak check runs, then starts it again.
sc_no_sanitizer_reports() {
	local f
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	start_pool
	for f in "$FU_VAR"/logs/asan.* "$FU_VAR"/logs/ubsan.*; do
		[ -e "$f" ] || continue
		fail "sanitizer report $(basename "$f"):"
		head -n 60 "$f" | sed 's/^/      /'
	done
}

# Last: no upload left anything behind in DATA_DIR/tmp.
sc_no_temp_files_left() {
	check_tmp_empty
	check "DATA_DIR/tmp exists" test -d "$IT_DATA_DIR/tmp"
}

# More scenarios, one file per concern, run after those above.
IT_EXTRA=("$IT_DIR"/scenarios/*.sh)
for f in "${IT_EXTRA[@]}"; do
	[ -e "$f" ] || continue
	# shellcheck source=/dev/null
	. "$f"
done

# ------------------------------------------------------------------ main

if [ $# -gt 0 ]; then
	scenarios=()
	for s in "$@"; do
		declare -F "sc_$s" >/dev/null || fu_die "no scenario $s"
		scenarios+=("sc_$s")
	done
	scenarios+=(sc_no_temp_files_left)
else
	# In file order, then the scenario files; the two final checks last.
	mapfile -t scenarios < <(
		grep -oE '^sc_[a-z0-9_]+' "${BASH_SOURCE[0]}" |
		    grep -vxE 'sc_no_sanitizer_reports|sc_no_temp_files_left'
		for f in "${IT_EXTRA[@]}"; do
			[ ! -e "$f" ] || grep -oE '^sc_[a-z0-9_]+' "$f"
		done
		echo sc_no_sanitizer_reports
		echo sc_no_temp_files_left
	)
fi
if [ "$IT_SANITIZED" -eq 0 ]; then
	for i in "${!scenarios[@]}"; do
		[ "${scenarios[$i]}" != sc_no_sanitizer_reports ] ||
		    unset 'scenarios[i]'
	done
elif [ $# -gt 0 ]; then
	scenarios=("${scenarios[@]:0:${#scenarios[@]}-1}" sc_no_sanitizer_reports sc_no_temp_files_left)
fi

IT_LOG_FILES=("$FU_VAR/logs/fileupload.log" "$FU_VAR/logs/nginx-error.log")
printf 'testing %s (worker %s%s)\n' "$IT_URL" "$IT_WORKER" \
    "$([ "$IT_SANITIZED" -eq 0 ] || echo ', sanitized')"
for s in "${scenarios[@]}"; do
	run_scenario "$s"
done

cleanup
trap - EXIT
summary
[ "$IT_FAILED" -eq 0 ]
