# shellcheck shell=bash
#
# docker/entrypoint.sh, the container image's main process, run outside
# Docker the way the image runs it: from a "make install DESTDIR=..." tree
# (the image's /usr layout: sql, nginx templates, scripts/lib.sh, the
# entrypoint) with the suite's binaries, as root, in a clean environment,
# against the suite's PostgreSQL over TCP (a database of its own), on a
# loopback port of its own, with its own ROOT_DIR (LOG_DIR and DATA_DIR at
# their defaults below it) and run directory.  No Docker engine is needed.
# Last, the same under nohup, and scripts/run (the same service code, in
# the foreground) under nohup.
# Sourced by tests/integration/run.sh (helpers in tests/integration/lib.sh).

EPT_DB=it_entrypoint

# ept_install: the image's tree under $EPT/dest.  Sets EPT, EPT_PREFIX,
# EPT_ENTRYPOINT.
ept_install() {
	local prefix

	EPT=$IT_TMP/entrypoint
	rm -rf "$EPT"
	mkdir -p "$EPT"
	prefix=$(sed -n 's/^prefix = //p' "$FU_BUILD_DIR/Makefile")
	EPT_PREFIX=$EPT/dest$prefix
	# The top level only (SUBDIRS=): what docker/Dockerfile gets from
	# "make install" beside the programs.  The programs are the suite's.
	make -s -C "$FU_BUILD_DIR" install DESTDIR="$EPT/dest" SUBDIRS= \
	    >"$EPT/install.log" 2>&1 || { cat "$EPT/install.log"; return 1; }
	mkdir -p "$EPT_PREFIX/bin"
	install -m 0755 "$IT_WORKER" "$EPT_PREFIX/bin/fileupload-worker"
	install -m 0755 "$IT_MIGRATE" "$EPT_PREFIX/bin/fileupload-migrate"
	install -m 0755 "$(dirname "$IT_MIGRATE")/fileupload-fsck" \
	    "$EPT_PREFIX/bin/fileupload-fsck"
	EPT_ENTRYPOINT=$EPT_PREFIX/share/fileupload/docker/entrypoint.sh
	[ -x "$EPT_ENTRYPOINT" ] || { echo "not installed: $EPT_ENTRYPOINT"; return 1; }
}

ept_fresh_db() {
	fu_pg_psql "$IT_PG_DIR" postgres -c 'SET client_min_messages = warning' \
	    -c "DROP DATABASE IF EXISTS $EPT_DB" -c "CREATE DATABASE $EPT_DB OWNER $FU_DB_USER" >/dev/null
}

# ept_run [NAME=VALUE...] [-- ARGS...]: the installed entrypoint with the
# container's kind of environment (nothing inherited but what is listed),
# output in $EPT/out.  Extra NAME=VALUE override the defaults.
ept_env() {
	local -a e=(PATH=/usr/sbin:/usr/bin:/sbin:/bin
	    DB_HOST=127.0.0.1 "DB_PORT=$FU_DB_PORT" "DB_USER=$FU_DB_USER"
	    "DB_NAME=$EPT_DB" DB_PASSWORD=ept-secret-not-in-argv
	    "ROOT_DIR=$EPT/root" "PORT=$EPT_PORT" LISTEN_ADDRESS=127.0.0.1
	    WORKERS=2 "MAX_UPLOAD_SIZE=$IT_MAX" DB_WAIT_SECONDS=20
	    "FILEUPLOAD_BIN_DIR=$EPT_PREFIX/bin"
	    "FILEUPLOAD_SQL_DIR=$EPT_PREFIX/share/fileupload/sql"
	    "FILEUPLOAD_RUN_DIR=$EPT/run" FILEUPLOAD_LOG_TO=files)
	local name
	# A sanitized worker reports where the suite looks for reports.
	for name in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
		[ -z "${!name:-}" ] || e+=("$name=${!name}")
	done
	printf '%s\n' "${e[@]}"
}

# ept_start [NAME=VALUE...]: the entrypoint in the background (EPT_PID),
# started through $EPT_WRAP (e.g. nohup) when that is set.
ept_start() {
	local -a e
	EPT_PORT=$(fu_free_port $((19080 + RANDOM % 400)))
	EPT_URL=http://127.0.0.1:$EPT_PORT
	mapfile -t e < <(ept_env)
	env -i "${e[@]}" "$@" ${EPT_WRAP:+"$EPT_WRAP"} "$EPT_ENTRYPOINT" \
	    >"$EPT/out" 2>&1 &
	EPT_PID=$!
}

# ept_check_reopen LOGDIR: after a rotation (the logs moved away) and a
# SIGHUP to EPT_PID, the workers and nginx write new files at EPT_URL's
# next request, and EPT_PID runs on.
ept_check_reopen() {
	local log=$1 id
	mv "$log/fileupload.log" "$log/fileupload.log.1"
	mv "$log/nginx-access.log" "$log/nginx-access.log.1"
	kill -HUP "$EPT_PID"
	sleep 1.5
	id=ept-hup-$RANDOM$RANDOM
	ept_req GET /service/fileupload -H "X-Request-Id: $id"
	check_status 200 "list after SIGHUP"
	sleep 0.3
	check "worker log reopened after SIGHUP" grep -q "$id" "$log/fileupload.log"
	check "nginx log reopened after SIGHUP" grep -q "$id" "$log/nginx-access.log"
	check "still running after SIGHUP" kill -0 "$EPT_PID"
}

# ept_hup_restored: EPT_PID catches SIGHUP (a trap), and said that it
# restored it.
ept_hup_restored() {
	check "says it restored SIGHUP" grep -q 'SIGHUP was ignored' "$EPT/out"
	check "SIGHUP caught, not ignored" test \
	    "$(( 0x$(sed -n 's/^SigIgn:[[:space:]]*//p' "/proc/$EPT_PID/status") & 1 ))$(( \
	    0x$(sed -n 's/^SigCgt:[[:space:]]*//p' "/proc/$EPT_PID/status") & 1 ))" = 01
}

# ept_descendants PID: every process below PID, one per line.
ept_descendants() {
	local c
	local -a kids=()
	read -ra kids <"/proc/$1/task/$1/children" 2>/dev/null || true
	for c in "${kids[@]}"; do
		printf '%s\n' "$c"
		ept_descendants "$c"
	done
}

# ept_record: "PID EXE" of the entrypoint and everything below it, in
# $EPT/pids.
ept_record() {
	local pid
	for pid in "$EPT_PID" $(ept_descendants "$EPT_PID"); do
		printf '%s %s\n' "$pid" "$(readlink "/proc/$pid/exe" 2>/dev/null)"
	done >"$EPT/pids"
}

# ept_left: the recorded processes still alive (same PID, same program).
ept_left() {
	local pid exe
	while read -r pid exe; do
		[ -n "$exe" ] || continue
		[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" != "$exe" ] ||
		    printf '%s(%s) ' "$pid" "$(basename "$exe")"
	done <"$EPT/pids"
}

# At the end of a scenario, whatever happened: nothing of ours survives.
ept_cleanup() {
	local pid exe
	[ -n "${EPT_PID:-}" ] || return 0
	# Add what runs now to what was recorded: orphans stay on the list.
	cp "$EPT/pids" "$EPT/pids.before" 2>/dev/null || : >"$EPT/pids.before"
	ept_record 2>/dev/null || true
	cat "$EPT/pids.before" >>"$EPT/pids" 2>/dev/null || true
	if kill -0 "$EPT_PID" 2>/dev/null; then
		kill -TERM "$EPT_PID" 2>/dev/null || true
		sleep 1
	fi
	while read -r pid exe; do
		[ -n "$exe" ] || continue
		[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" != "$exe" ] ||
		    kill -KILL "$pid" 2>/dev/null || true
	done <"$EPT/pids" 2>/dev/null || true
}

# ept_wait_exit SECONDS: waits for the entrypoint to exit; sets EPT_RC
# ("timeout" if it did not).
ept_wait_exit() {
	local n=$(($1 * 10))
	while [ "$n" -gt 0 ] && kill -0 "$EPT_PID" 2>/dev/null &&
	    [ "$(awk '{print $3}' "/proc/$EPT_PID/stat" 2>/dev/null)" != Z ]; do
		sleep 0.1
		n=$((n - 1))
	done
	if [ "$n" -eq 0 ]; then
		EPT_RC=timeout
		return 0
	fi
	EPT_RC=0
	wait "$EPT_PID" || EPT_RC=$?
}

# ept_ready SECONDS: the entrypoint said it is ready and the health route
# answers 200 (false when the entrypoint exits or the time is up).
ept_ready() {
	fu_ready "$1" "$EPT_URL" ept_output
}
# The entrypoint's output while it runs (the file may not be there yet:
# the background shell makes it).
ept_output() {
	kill -0 "$EPT_PID" 2>/dev/null || return 1
	cat "$EPT/out" 2>/dev/null || true
}

ept_show_output() {
	printf '    --- entrypoint output:\n'
	tail -n 25 "$EPT/out" | sed 's/^/    | /'
}

# Against the entrypoint, not the suite's nginx.
ept_req() {
	IT_URL=$EPT_URL req "$@"
}

# The whole life: wait for the database, migrate a fresh database, serve,
# reopen logs on SIGHUP, stop on SIGTERM.
sc_entrypoint_serves_and_stops() {
	local f h n pid left nginx_pid data log
	local -a e
	ept_install
	ept_fresh_db
	trap ept_cleanup EXIT
	ept_start
	if ! ept_ready 60; then
		fail "the entrypoint did not serve (it exited, or 60 s passed)"
		ept_show_output
		return 0
	fi
	check "says where it listens" grep -q "fileupload is ready on 127.0.0.1:$EPT_PORT " "$EPT/out"

	# Migrated: every migration recorded, none pending.
	n=$(find "$FU_ROOT/sql" -name '[0-9][0-9][0-9]_*.sql' | wc -l)
	check_eq "migrations recorded in $EPT_DB" "$n" "$(fu_pg_psql "$IT_PG_DIR" \
	    "$EPT_DB" -tAc 'SELECT count(*) FROM schema_migrations')"
	# Through the entrypoint's command mode, as "docker run IMAGE
	# fileupload-migrate status" would.
	mapfile -t e < <(ept_env)
	env -i "${e[@]}" PATH="$EPT_PREFIX/bin:/usr/bin:/bin" "$EPT_ENTRYPOINT" \
	    fileupload-migrate -d "$EPT_PREFIX/share/fileupload/sql" status \
	    >"$EPT/status" 2>&1 || fail "fileupload-migrate status via the entrypoint failed"
	check_eq "status: applied" "$n" "$(grep -c '^applied' "$EPT/status" || true)"
	check_eq "status: pending" 0 "$(grep -c '^pending' "$EPT/status" || true)"

	# Serves: banner, health, an upload, its bytes through nginx.
	ept_req GET /
	check_status 200 "banner"
	ept_req GET /service/fileupload/health
	check_status 200 "health"
	check_json .status ok
	f=$(new_file entrypoint_upload)
	h=$(b2 "$f")
	IT_URL=$EPT_URL upload "$f" ep.txt
	check_status 201 "upload"
	check_json .file_hash "$h"
	data=$EPT/root/data
	log=$EPT/root/logs
	check "stored under the default DATA_DIR (\$ROOT_DIR/data/)" \
	    cmp -s "$f" "$data/${h:0:2}/${h:2:2}/$h"
	ept_req GET "/service/fileupload/$h/content"
	check_status 200 "content"
	check "content bytes" cmp -s "$f" "$IT_TMP/body"
	# The browser page and tus-js-client, as "make install" put them.
	ept_req GET /service/fileupload/ui/
	check_status 200 "the browser page"
	check "the page's Content-Security-Policy" \
	    grep -qi "^content-security-policy: default-src 'self'" "$IT_TMP/headers"
	ept_req GET /service/fileupload/ui/vendor/tus.min.js
	check_status 200 "tus-js-client's browser build"

	# Who runs what, and where.
	check "listens where told" grep -q "listen 127.0.0.1:$EPT_PORT;" \
	    "$EPT/run/conf/fileupload-server.conf"
	check_eq "DATA_DIR owner and mode" "fileupload $FU_NGINX_GROUP 2750" \
	    "$(stat -c '%U %G %a' "$data")"
	check_eq "LOG_DIR owner and mode" "fileupload $FU_NGINX_GROUP 750" \
	    "$(stat -c '%U %G %a' "$log")"
	check_eq "socket owner and mode" "$FU_NGINX_USER 660" \
	    "$(stat -c '%U %a' "$EPT/run/fileupload.sock")"
	ept_record
	nginx_pid=$(cat "$EPT/run/nginx.pid")
	check_eq "workers (2) running as fileupload" "fileupload fileupload" \
	    "$(for pid in $(ept_descendants "$EPT_PID"); do
		[ "$(readlink "/proc/$pid/exe")" != "$EPT_PREFIX/bin/fileupload-worker" ] ||
		    stat -c %U "/proc/$pid"
	    done | tr '\n' ' ' | sed 's/ $//')"
	check_eq "nginx's master is the entrypoint's child" "$EPT_PID" \
	    "$(awk '{print $4}' "/proc/$nginx_pid/stat")"
	for pid in $(ept_descendants "$nginx_pid"); do
		check_eq "nginx worker $pid user" "$FU_NGINX_USER" "$(stat -c %U "/proc/$pid")"
	done
	for pid in $(ept_descendants "$EPT_PID"); do
		if tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q ept-secret; then
			fail "DB_PASSWORD in the command line of $pid"
		fi
	done

	ept_check_reopen "$log"

	# SIGTERM: nginx, then the pool, stop; exit 0; nothing left.
	ept_record
	kill -TERM "$EPT_PID"
	ept_wait_exit 30
	check_eq "exit status after SIGTERM" 0 "$EPT_RC"
	left=$(ept_left)
	check_eq "processes left after SIGTERM" "" "$left"
	check "port closed" test "$(fu_port_open 127.0.0.1 "$EPT_PORT" && echo open)" != open
	check "socket removed" test ! -e "$EPT/run/fileupload.sock"
	check "stops nginx before the workers" grep -q 'stopping nginx' "$EPT/out"
	check "said it stopped" grep -q '==> stopped' "$EPT/out"
	[ "$FAILS" -eq 0 ] || ept_show_output
	fu_pg_psql "$IT_PG_DIR" postgres -c "DROP DATABASE IF EXISTS $EPT_DB" >/dev/null
}

# No database: a bounded wait, a clear message, a non-zero exit, nothing
# started.  Bad settings: refused at once.
sc_entrypoint_database_unreachable() {
	local dead start
	ept_install
	trap ept_cleanup EXIT
	dead=$(fu_free_port $((26900 + RANDOM % 50)))
	start=$SECONDS
	ept_start DB_PORT="$dead" DB_WAIT_SECONDS=2
	ept_wait_exit 20
	check "exits non-zero (status $EPT_RC)" test "$EPT_RC" != 0 -a "$EPT_RC" != timeout
	check "gives up within 15 s (took $((SECONDS - start)) s)" test $((SECONDS - start)) -le 15
	check "says the database is not reachable" \
	    grep -q "database not reachable at 127.0.0.1:$dead after 2 s" "$EPT/out"
	check "shows libpq's reason" grep -qi 'connection refused\|could not connect' "$EPT/out"
	check "started no nginx" test ! -e "$EPT/run/nginx.pid"
	check "started no pool" test ! -e "$EPT/run/fileupload.sock"
	check "nothing listens" test "$(fu_port_open 127.0.0.1 "$EPT_PORT" && echo open)" != open
	[ "$FAILS" -eq 0 ] || ept_show_output

	ept_start WORKERS=many
	ept_wait_exit 10
	check_eq "exit status with WORKERS=many" 1 "$EPT_RC"
	check "names the bad setting" grep -q 'WORKERS=many is not a number' "$EPT/out"
}

# A login the database refuses (a role it does not know: SQLSTATE 28000,
# as a wrong password's 28P01) ends the wait at once, with the server's
# words, rather than after DB_WAIT_SECONDS.
sc_entrypoint_login_refused() {
	local start role=ept_no_such_role_$RANDOM
	ept_install
	trap ept_cleanup EXIT
	start=$SECONDS
	ept_start DB_USER="$role" DB_WAIT_SECONDS=60
	ept_wait_exit 30
	check_eq "exit status" 1 "$EPT_RC"
	check "gives up within 10 s, not 60 (took $((SECONDS - start)) s)" \
	    test $((SECONDS - start)) -le 10
	check "shows the server's words" \
	    grep -q "login refused: .*role \"$role\" does not exist" "$EPT/out"
	check "says the login was refused" \
	    grep -q 'refused the login (DB_USER, DB_PASSWORD); not retrying' "$EPT/out"
	check_eq "does not say unreachable" 0 "$(grep -c 'not reachable' "$EPT/out" || true)"
	check "started no pool" test ! -e "$EPT/run/fileupload.sock"
	[ "$FAILS" -eq 0 ] || ept_show_output
}

# STORAGE=s3 on the run's gateway (storage_s3.sh), which checks every
# signature: after the database, the entrypoint waits for the store
# (fileupload-fsck -s).  Keys it refuses (a wrong secret:
# SignatureDoesNotMatch; an unknown key: InvalidAccessKeyId) and a bucket
# it does not have end the wait at once with the store's code; a store
# that does not listen, after STORE_WAIT_SECONDS; the right keys serve.
ept_store_end() {
	ept_cleanup
	fu_rgw_s3 rb "$EPT_BUCKET" >>"$IT_TMP/setup.log" 2>&1 || true
}

# ept_store_refused CODE NAME=VALUE...: the entrypoint with the store
# settings and NAME=VALUE exits 1 within 15 s saying the store refused,
# with CODE.
ept_store_refused() {
	local code=$1 start=$SECONDS
	shift
	ept_start "${EPT_S3[@]}" STORE_WAIT_SECONDS=60 "$@"
	ept_wait_exit 40
	check_eq "$code: exit status" 1 "$EPT_RC"
	check "$code: gives up within 15 s, not 60 (took $((SECONDS - start)) s)" \
	    test $((SECONDS - start)) -le 15
	check "$code: says the store refused, with its code" \
	    grep -q "the object store refused our request: $code.*; not retrying" "$EPT/out"
	check_eq "$code: does not say unreachable" 0 "$(grep -c 'not reachable' "$EPT/out" || true)"
	check "$code: started no pool" test ! -e "$EPT/run/fileupload.sock"
	[ "$FAILS" -eq 0 ] || ept_show_output
}

sc_entrypoint_store_wait() {
	local dead start
	local -a EPT_S3
	ept_install
	ept_fresh_db
	s3_rgw_start
	EPT_BUCKET=it-ept-$RANDOM$RANDOM
	fu_rgw_s3 mb "$EPT_BUCKET" >>"$IT_TMP/setup.log" 2>&1
	trap ept_store_end EXIT
	EPT_S3=(STORAGE=s3 "S3_ENDPOINT=$FU_RGW_ENDPOINT" "S3_BUCKET=$EPT_BUCKET"
	    S3_REGION=us-east-1 S3_PREFIX=ept/ "S3_ACCESS_KEY_ID=$FU_RGW_KEY"
	    "S3_SECRET_ACCESS_KEY=$FU_RGW_SECRET")

	ept_store_refused SignatureDoesNotMatch \
	    S3_SECRET_ACCESS_KEY=not-the-secret-0123456789abcdefghij
	ept_store_refused InvalidAccessKeyId S3_ACCESS_KEY_ID=EPTUNKNOWNKEY0000000
	ept_store_refused NoSuchBucket S3_BUCKET=it-ept-none-$RANDOM$RANDOM

	dead=$(fu_free_port $((26950 + RANDOM % 40)))
	start=$SECONDS
	ept_start "${EPT_S3[@]}" "S3_ENDPOINT=http://127.0.0.1:$dead" \
	    STORE_WAIT_SECONDS=2
	ept_wait_exit 30
	check_eq "no store: exit status" 1 "$EPT_RC"
	check "no store: gives up within 20 s (took $((SECONDS - start)) s)" \
	    test $((SECONDS - start)) -le 20
	check "no store: says it is not reachable after the wait" \
	    grep -q "object store not reachable at http://127.0.0.1:$dead after 2 s (STORE_WAIT_SECONDS): .*[Cc]onnect" "$EPT/out"
	check "no store: started no pool" test ! -e "$EPT/run/fileupload.sock"
	[ "$FAILS" -eq 0 ] || ept_show_output

	ept_start "${EPT_S3[@]}"
	if ! ept_ready 60; then
		fail "the entrypoint did not serve on the store (it exited, or 60 s passed)"
		ept_show_output
		return 0
	fi
	check "said it waited for the store" \
	    grep -q "waiting for the object store at $FU_RGW_ENDPOINT" "$EPT/out"
	IT_URL=$EPT_URL upload "$(new_file entrypoint_s3)" ep.txt
	check_status 201 "upload to the store"
	kill -TERM "$EPT_PID"
	ept_wait_exit 20
	check_eq "stops with status 0" 0 "$EPT_RC"
	[ "$FAILS" -eq 0 ] || ept_show_output
}

# The entrypoint's default: every request line on standard output (the
# workers' and nginx's access log, here as JSON), nginx's errors on
# standard error, no log files; SIGHUP has nothing to reopen and the lines
# keep coming; SIGTERM leaves nothing behind (the pipe's cat included).
# ept_json_has [jq options] FILTER FILE: a line of FILE (JSON objects,
# one a line) passes FILTER (a select).
ept_json_has() {
	local -a args=("${@:1:$(($# - 2))}")
	local filter=${*: -2:1} file=${*: -1}
	jq -e -s "${args[@]}" "map($filter) | length > 0" "$file" >/dev/null
}

# shellcheck disable=SC2016  # jq's own variables, in single quotes
sc_entrypoint_logs_to_stdout() {
	local id f log
	ept_install
	log=$EPT/root/logs
	ept_fresh_db
	trap ept_cleanup EXIT
	ept_start FILEUPLOAD_LOG_TO= FILEUPLOAD_LOG_FORMAT=json
	if ! ept_ready 60; then
		fail "the entrypoint did not serve (it exited, or 60 s passed)"
		ept_show_output
		return 0
	fi
	id=ept-stdout-$RANDOM$RANDOM
	ept_req GET /service/fileupload -H "X-Request-Id: $id"
	check_status 200 "list"
	f=$(new_file entrypoint_stdout)
	IT_URL=$EPT_URL upload "$f" stdout.txt -H "X-Request-Id: $id-up"
	check_status 201 "upload"
	sleep 0.5
	grep '^{' "$EPT/out" >"$EPT/json" || true
	check "every JSON line parses" jq -e -s 'length > 0' "$EPT/json"
	check "the worker's line, with its request id and fields" \
	    ept_json_has --arg id "$id" 'select(.request_id == $id and .method == "GET"
	    and .path == "/service/fileupload" and .status == 200
	    and .level == "info" and (.time | test("Z$")))' "$EPT/json"
	check "the upload's line carries the hash" \
	    ept_json_has --arg id "$id-up" --arg h "$(b2 "$f")" \
	    'select(.request_id == $id and .status == 201 and .hash == $h)' \
	    "$EPT/json"
	check "nginx's access line, with the same request id" \
	    ept_json_has --arg id "$id" 'select(.source == "nginx" and
	    .request_id == $id and .status == 200)' "$EPT/json"
	check "no worker log file" test ! -e "$log/fileupload.log"
	check "no nginx access log file" test ! -e "$log/nginx-access.log"
	check "no nginx error log file" test ! -e "$log/nginx-error.log"
	kill -HUP "$EPT_PID"
	sleep 1
	check "SIGHUP: nothing to reopen" grep -q 'nothing to reopen' "$EPT/out"
	ept_req GET /service/fileupload -H "X-Request-Id: $id-hup"
	check_status 200 "list after SIGHUP"
	sleep 0.5
	grep '^{' "$EPT/out" >"$EPT/json" || true
	check "lines keep coming after SIGHUP" \
	    ept_json_has --arg id "$id-hup" 'select(.source == "nginx" and
	    .request_id == $id)' "$EPT/json"
	ept_record
	kill -TERM "$EPT_PID"
	ept_wait_exit 30
	check_eq "exit status after SIGTERM" 0 "$EPT_RC"
	check_eq "processes left after SIGTERM" "" "$(ept_left)"
	[ "$FAILS" -eq 0 ] || ept_show_output
	fu_pg_psql "$IT_PG_DIR" postgres -c "DROP DATABASE IF EXISTS $EPT_DB" >/dev/null
}

# nginx dying on its own ends the entrypoint (so that the container's
# restart policy acts) after it stops the pool.
sc_entrypoint_exits_when_nginx_dies() {
	local nginx_pid
	ept_install
	ept_fresh_db
	trap ept_cleanup EXIT
	ept_start
	if ! ept_ready 60; then
		fail "the entrypoint did not serve (it exited, or 60 s passed)"
		ept_show_output
		return 0
	fi
	ept_record
	nginx_pid=$(cat "$EPT/run/nginx.pid")
	kill -KILL "$nginx_pid"
	ept_wait_exit 30
	check_eq "exit status after nginx died" 1 "$EPT_RC"
	check "says why" grep -q 'nginx exited unexpectedly' "$EPT/out"
	check_eq "processes left" "" "$(ept_left)"
	fu_pg_psql "$IT_PG_DIR" postgres -c "DROP DATABASE IF EXISTS $EPT_DB" >/dev/null
}

# ept_wait_line SECONDS PATTERN: waits for PATTERN (grep -E) in the
# entrypoint's output; fails when SECONDS pass first.
ept_wait_line() {
	local n=$(($1 * 10))
	while ! grep -qE "$2" "$EPT/out" 2>/dev/null; do
		[ "$n" -gt 0 ] || return 1
		sleep 0.1
		n=$((n - 1))
	done
}

# A front of two hosts (FCGI_UPSTREAM): its own pool over TCP and a
# frozen one (a socket that takes connections and never answers).  The
# watch leaves the frozen host out; its probes (5 s each) never hold up
# the supervision: SIGTERM is acted on at once while one is in flight,
# and nothing of the watch is left after the stop.
sc_entrypoint_watches_hosts() {
	local pool frozen fpid t0 n=0
	ept_install
	ept_fresh_db
	trap 'ept_cleanup; [ -z "${fpid:-}" ] || kill "$fpid" 2>/dev/null || true' EXIT
	pool=$(fu_free_port $((19500 + RANDOM % 300)))
	frozen=$(fu_free_port $((19800 + RANDOM % 300)))
	python3 -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
time.sleep(600)' "$frozen" &
	fpid=$!
	ept_start FCGI_LISTEN="127.0.0.1:$pool" FCGI_WEB_SERVER_ADDRS=127.0.0.1 \
	    FCGI_UPSTREAM="127.0.0.1:$pool,127.0.0.1:$frozen" \
	    FCGI_PROBE_TIMEOUT=5 FCGI_PROBE_FAILS=1
	if ! ept_wait_line 30 "worker host 127.0.0.1:$frozen missed 1 probes"; then
		fail "the frozen host was not left out within 30 s"
		ept_show_output
		return 0
	fi
	if ! ept_ready 60; then
		fail "the entrypoint did not serve (it exited, or 60 s passed)"
		ept_show_output
		return 0
	fi
	check "the frozen host is down in the upstream group" grep -q \
	    "server 127.0.0.1:$frozen .*down" "$EPT/run/conf/fileupload-upstream.conf"
	check "its own host is not" grep -q "server 127.0.0.1:$pool max_fails" \
	    "$EPT/run/conf/fileupload-upstream.conf"
	ept_req GET /service/fileupload/health
	check_status 200 "health through the front"
	# SIGTERM while a probe of the frozen host is in flight.
	while [ "$n" -lt 100 ] && ! ept_descendants "$EPT_PID" 2>/dev/null |
	    xargs -r -I{} readlink /proc/{}/exe 2>/dev/null | grep -q '/timeout$'; do
		sleep 0.1
		n=$((n + 1))
	done
	ept_record
	t0=$(date +%s%N)
	kill -TERM "$EPT_PID"
	ept_wait_line 3 'SIGTERM: stopping' ||
	    fail "SIGTERM not acted on within 3 s (a probe takes 5)"
	ept_wait_exit 30
	check "stopped within 5 s of SIGTERM ($((($(date +%s%N) - t0) / 1000000)) ms)" \
	    test $((($(date +%s%N) - t0) / 1000000)) -lt 5000
	check_eq "exit status after SIGTERM" 0 "$EPT_RC"
	check_eq "processes left after SIGTERM" "" "$(ept_left)"
	[ "$FAILS" -eq 0 ] || ept_show_output
	kill "$fpid" 2>/dev/null || true
	fpid=
	fu_pg_psql "$IT_PG_DIR" postgres -c "DROP DATABASE IF EXISTS $EPT_DB" >/dev/null
}

# Unset, WORKERS is 1 per CPU the cgroup's quota allows (at least 2; a
# quota of 3 CPUs here, through a test cpu.max), nginx keeps its
# connections to them and streams uploads (REQUEST_BUFFERING off).
sc_entrypoint_defaults() {
	local n
	ept_install
	ept_fresh_db
	trap ept_cleanup EXIT
	echo "300000 100000" >"$EPT/cpu.max"
	ept_start WORKERS= FU_CPU_MAX_FILE="$EPT/cpu.max"
	if ! ept_ready 60; then
		fail "the entrypoint did not serve (it exited, or 60 s passed)"
		ept_show_output
		return 0
	fi
	n=$(for pid in $(ept_descendants "$EPT_PID"); do
		[ "$(readlink "/proc/$pid/exe")" != "$EPT_PREFIX/bin/fileupload-worker" ] ||
		    echo "$pid"
	done | wc -l)
	local want=$(($(nproc) < 3 ? $(nproc) : 3))
	want=$((want < 2 ? 2 : want))
	check_eq "workers, 1 per CPU of the quota (3) or core, at least 2" "$want" "$n"
	check_eq "connections kept (fastcgi_keep_conn on), in every location" 4 \
	    "$(grep -c 'fastcgi_keep_conn on;' "$EPT/run/conf/fileupload-locations.conf" || true)"
	# Three: the two file locations, and the resumable uploads' (always).
	check_eq "bodies stream, in every location (buffering off)" 3 \
	    "$(grep -c 'fastcgi_request_buffering off;' "$EPT/run/conf/fileupload-locations.conf" || true)"
	ept_record
	kill -TERM "$EPT_PID"
	ept_wait_exit 30
	check_eq "exit status after SIGTERM" 0 "$EPT_RC"
	check_eq "processes left after SIGTERM" "" "$(ept_left)"
	fu_pg_psql "$IT_PG_DIR" postgres -c "DROP DATABASE IF EXISTS $EPT_DB" >/dev/null
}

# fu_cpu_count, which WORKERS' default follows: the cgroup's CPU quota
# (cpu.max, here a test file) rounded up, never more than the cores.
sc_entrypoint_cpu_quota() {
	local f=$IT_TMP/cpu.max n q want
	n=$(nproc)
	# "QUOTA PERIOD" -> CPUs, before the cap at the cores.
	for q in "50000 100000=1" "100000 100000=1" "150000 100000=2" \
	    "200000 100000=2" "400000 100000=4" "1000 1000=1" "max 100000=$n" \
	    "garbage=$n"; do
		echo "${q%=*}" >"$f"
		want=${q##*=}
		[ "$want" -le "$n" ] || want=$n
		check_eq "cpu.max '${q%=*}'" "$want" "$(FU_CPU_MAX_FILE=$f fu_cpu_count)"
	done
	echo "50000 100000" >"$f"
	check_eq "WORKERS' default under half a CPU: still 2" 2 \
	    "$(FU_CPU_MAX_FILE=$f fu_default_workers)"
	check_eq "no cpu.max: the cores" "$n" \
	    "$(FU_CPU_MAX_FILE=$IT_TMP/no-such-cpu.max fu_cpu_count)"
	rm -f "$f"
}

# The readiness checks of the entrypoint and scripts/run (the installed
# library's fu_nginx_start and fu_pool_start) while every core is busy:
# 100 starts of nginx and 10 of the pool, none may fail.  A process forked
# but not yet exec'd (nginx; a worker multiwatch just forked) is starting,
# not dead.
sc_entrypoint_starts_under_load() {
	local lib _ out spin
	local -a spinners=() e
	ept_install
	ept_fresh_db
	lib=$EPT_PREFIX/share/fileupload/scripts/lib.sh
	EPT_PORT=$(fu_free_port $((19700 + RANDOM % 400)))
	mapfile -t e < <(ept_env)
	for _ in $(seq 1 "$(nproc)"); do
		bash -c 'while :; do :; done' &
		spinners+=($!)
	done
	# shellcheck disable=SC2016  # expanded by the inner shell
	out=$(env "${e[@]}" FU_VAR="$EPT/load" FU_PORT="$EPT_PORT" \
	    bash -c '
	    set -euo pipefail
	    . "$1"
	    FU_BIN_DIR= FU_USER=fileupload WORKERS=2
	    FU_TEMPLATES=$(dirname "$1")/../conf/nginx
	    FU_LISTEN=127.0.0.1:$FU_PORT
	    fu_prepare_dirs
	    fu_render_conf
	    nginx=0 pool=0
	    for i in $(seq 1 100); do
		    fu_nginx_start 2>>"$FU_VAR/start.log" || nginx=$((nginx + 1))
		    fu_nginx_stop 2>>"$FU_VAR/start.log"
	    done
	    for i in $(seq 1 10); do
		    fu_pool_start "$2" 2>>"$FU_VAR/start.log" || pool=$((pool + 1))
		    fu_pool_stop 2>>"$FU_VAR/start.log"
	    done
	    echo "nginx $nginx pool $pool"' _ "$lib" \
	    "$EPT_PREFIX/bin/fileupload-worker" 2>&1) || true
	for spin in "${spinners[@]}"; do
		kill "$spin" 2>/dev/null || true
		wait "$spin" 2>/dev/null || true
	done
	check_eq "failed starts under load (nginx of 100, pool of 10)" \
	    "nginx 0 pool 0" "$out"
	if [ "$out" != "nginx 0 pool 0" ]; then
		grep -B3 'did not come up\|do not start' "$EPT/load/start.log" |
		    tail -n 12 | sed 's/^/    | /' || true
	fi
	fu_pg_psql "$IT_PG_DIR" postgres -c "DROP DATABASE IF EXISTS $EPT_DB" >/dev/null
}

# ept_nohup_checks LOGDIR SECONDS: what a launcher started under nohup
# must do: it restored SIGHUP and reopens the logs on it; then SIGTERM
# stops it within SECONDS, with status 0 and nothing left; its database
# goes.
ept_nohup_checks() {
	ept_hup_restored
	ept_check_reopen "$1"
	ept_record
	kill -TERM "$EPT_PID"
	ept_wait_exit "$2"
	check_eq "exit status after SIGTERM" 0 "$EPT_RC"
	check_eq "processes left after SIGTERM" "" "$(ept_left)"
	[ "$FAILS" -eq 0 ] || ept_show_output
	fu_pg_psql "$IT_PG_DIR" postgres -c "DROP DATABASE IF EXISTS $EPT_DB" >/dev/null
}

# Started under nohup (SIGHUP ignored, which bash cannot trap): it
# restores SIGHUP, says so, and reopens the logs on it as it does without.
sc_entrypoint_reopens_logs_under_nohup() {
	ept_install
	ept_fresh_db
	trap ept_cleanup EXIT
	EPT_WRAP='nohup' ept_start
	if ! ept_ready 60; then
		fail "the entrypoint did not serve under nohup"
		ept_show_output
		return 0
	fi
	ept_nohup_checks "$EPT/root/logs" 30
}

# scripts/run under nohup, as "nohup scripts/run &" starts it, against
# the suite's PostgreSQL (DB_HOST) and build (no package installs): the
# same as the entrypoint above.  Its run directory is under the scratch
# dir; EPT_* name it so that the helpers above serve.
sc_run_reopens_logs_under_nohup() {
	local var n=0 name EPT_DB=it_run_script
	local -a e
	EPT=$IT_TMP/run-script
	rm -rf "$EPT"
	mkdir -p "$EPT"
	var=$EPT/var
	ept_fresh_db
	trap ept_cleanup EXIT
	EPT_PORT=$(fu_free_port $((19480 + RANDOM % 400)))
	EPT_URL=http://127.0.0.1:$EPT_PORT
	e=(PATH=/usr/sbin:/usr/bin:/sbin:/bin FU_SKIP_INSTALL=1
	    "FU_BUILD_DIR=$FU_BUILD_DIR" "FU_VAR=$var" "PORT=$EPT_PORT"
	    DB_HOST=127.0.0.1 "DB_PORT=$FU_DB_PORT" "DB_USER=$FU_DB_USER"
	    "DB_NAME=$EPT_DB" WORKERS=2 "MAX_UPLOAD_SIZE=$IT_MAX")
	for name in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS TSAN_OPTIONS; do
		[ -z "${!name:-}" ] || e+=("$name=${!name}")
	done
	env -i "${e[@]}" nohup "$FU_ROOT/scripts/run" >"$EPT/out" 2>&1 &
	EPT_PID=$!
	while [ "$n" -lt 600 ] && kill -0 "$EPT_PID" 2>/dev/null &&
	    ! grep -q 'fileupload is running on' "$EPT/out"; do
		sleep 0.1
		n=$((n + 1))
	done
	if ! grep -q 'fileupload is running on' "$EPT/out"; then
		fail "scripts/run did not serve under nohup (it exited, or 60 s passed)"
		ept_show_output
		return 0
	fi
	ept_nohup_checks "$var/logs" 60
}
