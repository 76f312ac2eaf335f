# shellcheck shell=bash
#
# Faults and load: workers killed and clients gone mid-upload, storage full
# or unwritable, the database down at start, many clients at once.
# Sourced by tests/integration/run.sh (helpers in tests/integration/lib.sh).

# wait_for SECONDS COMMAND...: polls COMMAND every 0.1 s; false at timeout.
wait_for() {
	local n=$(($1 * 10))
	shift
	while [ "$n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

has_tmp_files() {
	[ -n "$(tmp_files)" ]
}

no_tmp_files() {
	[ -z "$(tmp_files)" ]
}

# worker_with_open PATTERN...: the PID of a worker that has a file whose
# path matches one of the glob PATTERNs open, if any.
worker_with_open() {
	local pid fd path pattern
	for pid in $(fu_pool_pids); do
		for fd in "/proc/$pid/fd/"*; do
			path=$(readlink "$fd" 2>/dev/null) || continue
			for pattern in "$@"; do
				# shellcheck disable=SC2053  # a glob, on purpose
				if [[ $path == $pattern ]]; then
					printf '%s\n' "$pid"
					return 0
				fi
			done
		done
	done
	return 1
}

# The PID of the worker that has an upload temp file open, if any.
worker_with_temp() {
	worker_with_open "$IT_DATA_DIR/tmp/upload-*" "$IT_DATA_DIR/tmp/#*"
}

pid_gone() {
	! kill -0 "$1" 2>/dev/null
}

not_in_file() {
	! grep -q "$1" "$2"
}

pool_has() {
	[ "$(fu_pool_pids | wc -l)" -eq "$1" ]
}

# slow_upload FILE RATE [curl args...]: a throttled upload in the
# background; its status goes to $IT_TMP/slow.status, its PID to SLOW_PID.
slow_upload() {
	local f=$1 rate=$2
	shift 2
	curl -sS -o "$IT_TMP/slow.body" -w '%{http_code}\n' --limit-rate "$rate" \
	    -F "upfile=@$f;filename=slow.bin" "$@" "$IT_URL/service/fileupload" \
	    >"$IT_TMP/slow.status" 2>/dev/null &
	SLOW_PID=$!
}

random_file() {
	mkdir -p "$IT_TMP/files"
	# A fixed first byte keeps libmagic from finding a signature by chance.
	{ printf '\001\002\003\004'; head -c "$2" /dev/urandom; } >"$IT_TMP/files/$1"
	printf '%s\n' "$IT_TMP/files/$1"
}

# kill -9 of the worker in the middle of an upload: the client gets an
# error, nothing of the upload is kept, multiwatch starts a new worker and
# that one sweeps the dead worker's temp file at its start.
sc_worker_killed_mid_upload() {
	local f h victim before after
	# Streamed to the worker as it arrives, so the upload is in a worker
	# for as long as the client takes to send it.
	REQUEST_BUFFERING=off restart_nginx
	f=$(random_file killed.bin 1500000)
	h=$(b2 "$f")
	mapfile -t before < <(fu_pool_pids)
	slow_upload "$f" 200k
	if ! wait_for 10 has_tmp_files; then
		fail "the upload never reached a worker"
	fi
	victim=$(worker_with_temp || true)
	check "a worker holds the upload's temp file" test -n "$victim"
	[ -z "$victim" ] || kill -KILL "$victim"
	wait "$SLOW_PID" || true
	check "client answered 502/503/504, got $(cat "$IT_TMP/slow.status")" \
	    grep -qE '^50[234]$' "$IT_TMP/slow.status"
	check "multiwatch replaced the worker" wait_for 10 pool_has 2
	mapfile -t after < <(fu_pool_pids)
	check "a new worker PID" test "${before[*]}" != "${after[*]}"
	check "the new worker swept the temp file" wait_for 5 no_tmp_files
	check_not_stored "$h"
	req GET "/service/fileupload/$h"
	check_status 404 "no row for the killed upload"
	upload "$f" after-kill.bin
	check_status 201 "the same bytes upload fine afterwards"
	check_stored "$h" "$f"
	restart_nginx
}

# A client gone mid-upload: the worker notices, drops the temp file and
# takes the next request.
sc_client_disconnect_mid_upload() {
	local f h before after
	REQUEST_BUFFERING=off restart_nginx
	f=$(random_file gone.bin 1500000)
	h=$(b2 "$f")
	mapfile -t before < <(fu_pool_pids)
	slow_upload "$f" 200k --max-time 2
	wait "$SLOW_PID" || true
	check "the worker dropped the temp file" wait_for 5 no_tmp_files
	mapfile -t after < <(fu_pool_pids)
	check_eq "the same workers" "${before[*]}" "${after[*]}"
	check_not_stored "$h"
	req GET "/service/fileupload/$h"
	check_status 404 "no row for the abandoned upload"
	upload "$(new_file after_disconnect)"
	check_status 201 "next upload"
	check "disconnect logged" grep -q 'POST /service/fileupload 400' \
	    "$FU_VAR/logs/fileupload.log"
	restart_nginx
}

# DATA_DIR/tmp not writable by the workers: 507, nothing kept.
sc_storage_unwritable_507() {
	local f h
	f=$(new_file unwritable)
	h=$(b2 "$f")
	chmod 0500 "$IT_DATA_DIR/tmp"
	upload "$f"
	check_error 507 "upload with DATA_DIR/tmp read-only"
	req GET /service/fileupload/health
	check_status 503 "health with DATA_DIR/tmp read-only"
	check_json .storage unavailable
	chmod 0750 "$IT_DATA_DIR/tmp"
	check_not_stored "$h"
	req GET "/service/fileupload/$h"
	check_status 404 "no row"
	upload "$f"
	check_status 201 "writable again"
}

# DATA_DIR on a 1 MiB file system: an upload that does not fit gets 507 and
# leaves nothing; one that fits is stored.
sc_storage_full_507() {
	local big small hb hs
	if ! mount -t tmpfs -o "size=1m,mode=2750,uid=$(id -u "$FU_USER"),gid=$(id -g "$FU_NGINX_USER")" \
	    tmpfs "$IT_DATA_DIR" 2>/dev/null; then
		printf '    (skipped: this machine cannot mount a tmpfs)\n' >&3
		return 0
	fi
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	start_pool
	big=$(random_file full.bin 1500000)
	hb=$(b2 "$big")
	upload "$big"
	check_error 507 "1.5 MB upload on a 1 MiB file system"
	check_tmp_empty
	check_not_stored "$hb"
	req GET "/service/fileupload/$hb"
	check_status 404 "no row for the upload that did not fit"
	small=$(random_file fits.bin 10000)
	hs=$(b2 "$small")
	upload "$small"
	check_status 201 "a small upload still fits"
	check_stored "$hs" "$small"
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	# Its row would point nowhere once the tmpfs is gone.
	fu_pg_psql "$IT_PG_DIR" fileupload -c "DELETE FROM files WHERE file_hash = '$hs'"
	umount "$IT_DATA_DIR"
	start_pool
}

# PostgreSQL down when the workers start: they start anyway, answer 503,
# and recover by themselves once it is back.
sc_database_down_at_start() {
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	fu_pg_stop "$IT_PG_DIR" 2>>"$IT_TMP/setup.log"
	start_pool
	check "workers started without the database" pool_has 2
	req GET /service/fileupload
	check_error 503 "list before the database is up"
	upload "$(new_file db_later)"
	check_error 503 "upload before the database is up"
	check_tmp_empty
	FU_PG_FSYNC=off fu_pg_start "$IT_PG_DIR" "$FU_DB_PORT" 2>>"$IT_TMP/setup.log"
	req GET /service/fileupload
	check_status 200 "list once the database is up, same workers"
	upload "$(new_file db_now)"
	check_status 201 "upload once the database is up"
}

# PostgreSQL terminates the workers' idle connections (a restart, a
# failover, an administrator): the next requests, writes that cannot be
# run twice among them, get fresh connections, not 503.
sc_database_connections_terminated() {
	local i pids=() n
	for i in 1 2 3 4 5 6; do
		upload "$(new_file "warm_$i")" &
		pids+=("$!")
	done
	wait "${pids[@]}"
	n=$(fu_pg_psql "$IT_PG_DIR" postgres -tAc "SELECT count(pg_terminate_backend(pid))
	    FROM pg_stat_activity WHERE application_name = 'fileupload-worker'")
	check "worker connections were terminated ($n)" test "${n:-0}" -ge 1
	for i in 1 2 3 4; do
		req POST /service/fileupload/uploads -H "Tus-Resumable: 1.0.0" \
		    -H "Upload-Length: 10"
		check_status 201 "resumable upload $i created"
		[ "$STATUS" != 201 ] ||
		    req DELETE "$(header Location)" -H "Tus-Resumable: 1.0.0"
		upload "$(new_file "after_terminate_$i")"
		check_status 201 "upload $i"
	done
}

# 32 clients at once, the same new bytes: one 201, 31 403, file intact.
sc_concurrent_32_same() {
	local f h i n201 n403
	f=$(random_file same32.bin 200000)
	h=$(b2 "$f")
	for i in $(seq 1 32); do
		curl -sS --max-time "$IT_TIMEOUT" -o /dev/null -w '%{http_code}\n' \
		    -F "upfile=@$f;filename=same$i.bin" "$IT_URL/service/fileupload" \
		    >"$IT_TMP/same32.$i" 2>&1 &
	done
	wait
	n201=$(cat "$IT_TMP"/same32.* | grep -c '^201$' || true)
	n403=$(cat "$IT_TMP"/same32.* | grep -c '^403$' || true)
	check_eq "201s" 1 "$n201"
	check_eq "403s" 31 "$n403"
	check_stored "$h" "$f"
	check_tmp_empty
}

# 32 clients at once, different bytes: all 201, all listed, hashes right.
sc_concurrent_32_different() {
	local i f h bad=0
	for i in $(seq 1 32); do
		random_file "diff32.$i" 50000 >/dev/null
		curl -sS --max-time "$IT_TIMEOUT" -o "$IT_TMP/diff32.$i.json" \
		    -w '%{http_code}\n' -F "upfile=@$IT_TMP/files/diff32.$i" \
		    "$IT_URL/service/fileupload" >"$IT_TMP/diff32.$i.status" 2>&1 &
	done
	wait
	req GET /service/fileupload
	for i in $(seq 1 32); do
		f=$IT_TMP/files/diff32.$i
		h=$(b2 "$f")
		if [ "$(cat "$IT_TMP/diff32.$i.status")" != 201 ] ||
		    [ "$(jq -r .file_hash "$IT_TMP/diff32.$i.json")" != "$h" ] ||
		    ! cmp -s "$(stored_path "$h")" "$f" ||
		    [ "$(jf "map(select(.file_hash == \"$h\")) | length")" != 1 ]; then
			bad=$((bad + 1))
		fi
	done
	check_eq "uploads not created, listed and stored exactly" 0 "$bad"
	check_tmp_empty
}

# DELETE racing a re-upload of the same bytes: whatever the order, the end
# state has the row and its file, or neither.
sc_delete_races_reupload() {
	local f h i row file bad=0 both=0 neither=0
	f=$(random_file race_delete.bin 300000)
	h=$(b2 "$f")
	for i in $(seq 1 12); do
		upload "$f"
		[ "$STATUS" = 201 ] || [ "$STATUS" = 403 ] || bad=$((bad + 1))
		# The DELETE starts up to 40 ms after the upload, so that both
		# orders happen: the upload's INSERT first (403, then the
		# delete wins) or the DELETE's first (the upload wins).
		curl -sS -o /dev/null -F "upfile=@$f" "$IT_URL/service/fileupload" &
		(sleep "0.0$((RANDOM % 5))"
		    curl -sS -o /dev/null -X DELETE "$IT_URL/service/fileupload/$h") &
		wait
		req GET "/service/fileupload/$h"
		row=$STATUS
		file=absent
		[ ! -f "$(stored_path "$h")" ] || file=present
		case $row/$file in
		200/present) both=$((both + 1)) ;;
		404/absent) neither=$((neither + 1)) ;;
		*)
			bad=$((bad + 1))
			fail "round $i: row $row, file $file"
			;;
		esac
	done
	check_eq "inconsistent rounds" 0 "$bad"
	printf '    (%d rounds ended with row and file, %d with neither)\n' >&3 \
	    "$both" "$neither"
	check_tmp_empty
}

# SIGTERM to a worker in the middle of an upload: it finishes and answers
# that request, then exits (and multiwatch starts another).
sc_worker_sigterm_graceful() {
	local f h victim
	REQUEST_BUFFERING=off restart_nginx
	f=$(random_file graceful.bin 600000)
	h=$(b2 "$f")
	slow_upload "$f" 200k
	if ! wait_for 10 has_tmp_files; then
		fail "the upload never reached a worker"
	fi
	victim=$(worker_with_temp || true)
	check "a worker holds the upload's temp file" test -n "$victim"
	[ -z "$victim" ] || kill -TERM "$victim"
	wait "$SLOW_PID" || true
	check_eq "the upload in hand completed" 201 "$(cat "$IT_TMP/slow.status")"
	check_stored "$h" "$f"
	check "the worker exited after its request" wait_for 5 pid_gone "$victim"
	check "multiwatch keeps the pool full" wait_for 10 pool_has 2
	restart_nginx
}

# SIGHUP reopens the log, so logrotate can move it away.
sc_log_reopened_on_sighup() {
	local log=$FU_VAR/logs/fileupload.log pid
	mv "$log" "$log.1"
	for pid in $(fu_pool_pids); do
		kill -HUP "$pid"
	done
	req GET /service/fileupload -H 'X-Request-Id: it-after-rotate'
	req GET /service/fileupload -H 'X-Request-Id: it-after-rotate'
	check "a new log file" test -f "$log"
	check "the new log has the request" grep -q it-after-rotate "$log"
	check "the old log does not" not_in_file it-after-rotate "$log.1"
	cat "$log.1" "$log" >"$log.joined" 2>/dev/null && mv "$log.joined" "$log"
	rm -f "$log.1"
	chown "$FU_USER:$FU_USER" "$log"
	chmod 0640 "$log"
	for pid in $(fu_pool_pids); do
		kill -HUP "$pid"
	done
}

# The PID of the worker holding a trash file of hash $1 (in VICTIM).
trash_held() {
	local pid fd
	for pid in $(fu_pool_pids); do
		for fd in "/proc/$pid/fd/"*; do
			case $(readlink "$fd" 2>/dev/null) in
			"$IT_DATA_DIR/tmp/trash-$1-"*)
				VICTIM=$pid
				return 0
				;;
			esac
		done
	done
	return 1
}

# kill -9 of a worker between a delete's move of the file aside and its
# COMMIT (held back by a deferred trigger that sleeps), its transaction
# aborted with it: the row stays, and the new worker's sweep puts the file
# back at once (the dead worker's lock on it is gone).
sc_worker_killed_mid_delete() {
	local f h curl_pid
	# nginx resends a DELETE that failed on a kept connection (DELETE is
	# idempotent): without kept connections the killed one stays killed.
	FCGI_KEEPALIVE=0 restart_nginx
	f=$(random_file killed_delete.bin 20000)
	h=$(b2 "$f")
	upload "$f"
	check_status 201
	fu_pg_psql "$IT_PG_DIR" "$FU_DB_NAME" >/dev/null <<'SQL'
CREATE FUNCTION it_slow_commit() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN PERFORM pg_sleep(5); RETURN NULL; END $$;
CREATE CONSTRAINT TRIGGER it_slow_commit AFTER DELETE ON files
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION it_slow_commit();
SQL
	curl -sS -o /dev/null -w '%{http_code}\n' -X DELETE \
	    "$IT_URL/service/fileupload/$h" >"$IT_TMP/kd.status" 2>/dev/null &
	curl_pid=$!
	VICTIM=
	check "the delete moved the file aside" wait_for 5 trash_held "$h"
	[ -z "$VICTIM" ] || kill -KILL "$VICTIM"
	# The crash takes the transaction with it (as a database restart would).
	fu_pg_psql "$IT_PG_DIR" postgres -tAc "SELECT pg_terminate_backend(pid)
	    FROM pg_stat_activity WHERE query LIKE 'COMMIT%'" >/dev/null
	wait "$curl_pid" || true
	fu_pg_psql "$IT_PG_DIR" "$FU_DB_NAME" -c 'DROP TRIGGER it_slow_commit ON files' \
	    -c 'DROP FUNCTION it_slow_commit()' >/dev/null
	check "multiwatch replaced the worker" wait_for 10 pool_has 2
	check "the file is back in place" wait_for 5 test -f "$(stored_path "$h")"
	req GET "/service/fileupload/$h"
	check_status 200 "the row survived the killed delete"
	req GET "/service/fileupload/$h/content"
	check_status 200 "its content is served"
	check "content intact" cmp -s "$IT_TMP/body" "$f"
	check_tmp_empty
	restart_nginx
}
