# shellcheck shell=bash
#
# Metrics: GET /service/fileupload/metrics sums the counters of every
# worker of the pool, exactly, across a worker killed with SIGKILL; its
# histograms add up; promtool accepts it; only loopback (or the metrics
# token) may read it; nginx's stub_status answers loopback only.
# Sourced by tests/integration/run.sh (helpers in tests/integration/lib.sh).

# A client address on this host that is not 127.0.0.1: nginx sees it as
# a remote client.
MT_OTHER=127.0.0.2
MT_UPLOADS=12
MT_DUPLICATES=4
MT_DELETES=5

# scrape [curl args...]: GET the metrics into $IT_TMP/metrics.txt.
scrape() {
	req GET /service/fileupload/metrics "$@"
	cp "$IT_TMP/body" "$IT_TMP/metrics.txt"
}

# metric SERIES [FILE]: the value of one series (name and labels exactly
# as exposed), or "missing".
metric() {
	awk -v s="$1" '$1 == s { print $2; found = 1 } END { if (!found) print "missing" }' \
	    "${2:-$IT_TMP/metrics.txt}"
}

# check_metric SERIES WANT [CONTEXT]
check_metric() {
	check_eq "${3:+$3: }$1" "$2" "$(metric "$1")"
}

# The PID that logged request id $1 (fileupload.log: "... [PID] info ID ...").
pid_of_request() {
	grep -F " $1 " "$FU_VAR/logs/fileupload.log" | head -n 1 |
	    sed -n 's/^[^[]*\[\([0-9]*\)\].*/\1/p'
}

# The pool replaced a worker: two again, and $1 is not one of them.
replaced() {
	[ "$(fu_pool_pids | wc -l)" -eq 2 ] && ! fu_pool_pids | grep -qx "$1"
}

# Every worker of the pool has logged that it is ready, which it does
# after counting itself in the metrics.
pool_ready() {
	local p
	for p in $(fu_pool_pids); do
		grep -q "\[$p\] info - worker ready" "$FU_VAR/logs/fileupload.log" ||
		    return 1
	done
}

# check_histograms: for every route, the buckets never decrease, +Inf is
# _count, and _count is that route's requests over all status classes.
check_histograms() {
	local bad
	bad=$(awk '
	function route(s) { sub(/.*route="/, "", s); sub(/".*/, "", s); return s }
	/^fileupload_requests_total\{/ { req[route($1)] += $2 }
	/^fileupload_request_duration_seconds_bucket\{/ {
		r = route($1)
		if (r in last && $2 < last[r]) print "buckets of " r " decrease"
		last[r] = $2
		if ($1 ~ /le="\+Inf"/) inf[r] = $2
	}
	/^fileupload_request_duration_seconds_count\{/ { cnt[route($1)] = $2 }
	END {
		for (r in req) {
			if (!(r in cnt)) print "no histogram for " r
			else if (cnt[r] != req[r]) print r ": _count " cnt[r] " != requests " req[r]
			if (inf[r] != cnt[r]) print r ": +Inf " inf[r] " != _count " cnt[r]
			total += req[r]
		}
		if (total == 0) print "no request counted"
	}' "$IT_TMP/metrics.txt")
	[ -z "$bad" ] || fail "histograms: $bad"
}

# N uploads, M duplicates and K deletes spread over the two workers, one
# worker killed with SIGKILL in between: the pool's sums are exact.
sc_metrics_counts_exact() {
	local i f h bytes=0 del_bytes=0 victim size
	local -a hashes=() sizes=() pids=()

	# A pool started anew counts from zero.  nginx without kept
	# connections, so that sequential requests reach both workers.
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	start_pool
	FCGI_KEEPALIVE=0 restart_nginx
	check "the pool's metrics file" test -f "$FU_RUN_DIR/metrics"
	scrape
	check_status 200 "first scrape"
	check_metric fileupload_uploaded_files_total 0 "a new pool"
	check_metric fileupload_metrics_shared 1
	check_metric fileupload_workers 2

	for i in $(seq 1 "$MT_UPLOADS"); do
		f=$(new_file "metrics-$i.txt" "$(head -c $((i * 100)) /dev/zero | tr '\0' x)")
		upload "$f" "metrics-$i.txt" -H "X-Request-Id: it-metrics-up-$i"
		check_status 201 "upload $i"
		hashes+=("$(jf .file_hash)")
		size=$(stat -c %s "$f")
		sizes+=("$size")
		bytes=$((bytes + size))
		pids+=("$(pid_of_request "it-metrics-up-$i")")
	done
	for i in $(seq 1 "$MT_DUPLICATES"); do
		upload "$IT_TMP/files/metrics-$i.txt" "again-$i.txt"
		check_status 403 "duplicate $i"
	done
	# Both workers took some: the sums below cover two processes.
	check_eq "workers that answered the uploads" 2 \
	    "$(printf '%s\n' "${pids[@]}" | sort -u | grep -c .)"

	scrape
	check_metric fileupload_uploaded_files_total "$MT_UPLOADS"
	check_metric fileupload_uploaded_bytes_total "$bytes"
	check_metric fileupload_duplicate_uploads_total "$MT_DUPLICATES"
	cp "$IT_TMP/metrics.txt" "$IT_TMP/metrics.before-kill"

	# SIGKILL to a worker that counted uploads; multiwatch starts another.
	victim=${pids[0]}
	kill -KILL "$victim"
	check "a new worker replaces $victim" wait_for 10 replaced "$victim"
	# Its process exists before it counts itself in: wait for that too.
	check "the new worker is ready" wait_for 10 pool_ready
	scrape
	check_status 200 "scrape after the kill"
	check_metric fileupload_uploaded_files_total "$MT_UPLOADS" "after SIGKILL"
	check_metric fileupload_uploaded_bytes_total "$bytes" "after SIGKILL"
	check_metric fileupload_duplicate_uploads_total "$MT_DUPLICATES" \
	    "after SIGKILL"
	check_metric 'fileupload_requests_total{route="upload",class="2xx"}' \
	    "$MT_UPLOADS" "after SIGKILL"
	check_metric fileupload_workers 2 "after SIGKILL"
	check_metric fileupload_worker_starts_total 3 "after SIGKILL"

	for i in $(seq 1 "$MT_DELETES"); do
		req DELETE "/service/fileupload/${hashes[$((i - 1))]}"
		check_status 201 "delete $i"
		del_bytes=$((del_bytes + sizes[i - 1]))
	done
	req DELETE "/service/fileupload/${hashes[0]}"
	check_status 404 "a second delete"
	for h in "${hashes[@]:$MT_DELETES:3}"; do
		req GET "/service/fileupload/$h"
		check_status 200 "get"
	done

	scrape
	check_metric fileupload_uploaded_files_total "$MT_UPLOADS"
	check_metric fileupload_uploaded_bytes_total "$bytes"
	check_metric fileupload_duplicate_uploads_total "$MT_DUPLICATES"
	check_metric fileupload_deleted_files_total "$MT_DELETES"
	check_metric fileupload_deleted_bytes_total "$del_bytes"
	check_metric 'fileupload_requests_total{route="upload",class="2xx"}' \
	    "$MT_UPLOADS"
	check_metric 'fileupload_requests_total{route="upload",class="4xx"}' \
	    "$MT_DUPLICATES"
	check_metric 'fileupload_requests_total{route="delete",class="2xx"}' \
	    "$MT_DELETES"
	check_metric 'fileupload_requests_total{route="delete",class="4xx"}' 1
	check_metric 'fileupload_requests_total{route="get",class="2xx"}' 3
	# A scrape is counted once answered: three before this one.
	check_metric 'fileupload_requests_total{route="metrics",class="2xx"}' 3
	check_metric fileupload_requests_in_flight 1 "the scrape itself"
	check_metric 'fileupload_threads{state="busy"}' 1
	check_metric fileupload_uploads_in_flight 0
	check_metric 'fileupload_health{check="database"}' 1
	check_metric 'fileupload_health{check="storage"}' 1
	check "DATA_DIR's free bytes" test "$(metric fileupload_data_dir_free_bytes)" -gt 0
	check_histograms
	check "no file name or hash in the metrics" \
	    not_in_file "${hashes[0]}" "$IT_TMP/metrics.txt"
	check "no file name in the metrics" \
	    not_in_file "metrics-1.txt" "$IT_TMP/metrics.txt"
	check_eq "live workers' start times" 2 "$(grep -c \
	    '^fileupload_worker_start_time_seconds{slot="[0-9]*"} [0-9]' \
	    "$IT_TMP/metrics.txt")"
	restart_nginx
}

# The exposition passes promtool's parser and lint.
sc_metrics_promtool() {
	local out
	if ! command -v promtool >/dev/null; then
		fail "promtool is missing (Debian's prometheus package; scripts/test installs it)"
		return 0
	fi
	scrape
	check_status 200
	check_header Content-Type "text/plain; version=0.0.4; charset=utf-8"
	if ! out=$(promtool check metrics <"$IT_TMP/metrics.txt" 2>&1); then
		fail "promtool check metrics: $out"
	fi
	check_histograms
}

# Loopback only by default; a remote client gets 403 from nginx.  With
# FILEUPLOAD_METRICS_TOKEN, anyone with that token and no other.
sc_metrics_access() {
	scrape
	check_status 200 "from 127.0.0.1"
	scrape --interface "$MT_OTHER"
	check_error 403 "from $MT_OTHER"
	req GET / --interface "$MT_OTHER"
	check_status 200 "the banner from $MT_OTHER"
	req HEAD /service/fileupload/metrics -I
	check_status 200 "HEAD"
	req POST /service/fileupload/metrics -d x
	check_error 405 "POST"
	check_header Allow "GET, HEAD"
	grep -q 'deny all;' "$FU_CONF_DIR/fileupload-locations.conf" ||
	    fail "the metrics location does not deny other clients"

	fu_pool_stop 2>>"$IT_TMP/setup.log"
	export FILEUPLOAD_METRICS_TOKEN=it-metrics-secret
	FILEUPLOAD_TOKEN=it-write-secret start_pool
	restart_nginx
	scrape
	check_error 401 "no token"
	check_header WWW-Authenticate
	scrape -H "Authorization: Bearer it-write-secret"
	check_error 401 "the write token"
	scrape -H "Authorization: Bearer it-metrics-secre"
	check_error 401 "a wrong token"
	scrape -H "Authorization: Bearer it-metrics-secret"
	check_status 200 "the metrics token"
	scrape --interface "$MT_OTHER" -H "Authorization: Bearer it-metrics-secret"
	check_status 200 "the metrics token from $MT_OTHER"
	check "a token in the metrics" not_in_file it-metrics-secret \
	    "$IT_TMP/metrics.txt"
	unset FILEUPLOAD_METRICS_TOKEN
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	start_pool
	restart_nginx
	scrape --interface "$MT_OTHER"
	check_error 403 "from $MT_OTHER again"
}

# nginx's stub_status, the second scrape target: loopback only.
sc_metrics_nginx_stub_status() {
	req GET /nginx_status
	check_status 200
	check "stub_status counts connections" grep -q '^Active connections: [0-9]' \
	    "$IT_TMP/body"
	req GET /nginx_status --interface "$MT_OTHER"
	check_status 403 "stub_status from $MT_OTHER"
}

# A stalled upload cut with 408 is counted by its reason.
sc_metrics_slow_upload_cut() {
	local name=metrics-stalled-$RANDOM.bin
	with_body_rules 0 30 1
	scrape
	check_metric 'fileupload_slow_uploads_cut_total{reason="stalled"}' 0
	SLOW_NAME=$name SLOW_EVERY=30 slow_request POST /service/fileupload 6
	check_eq "the stalled upload's status" 408 "$SLOW_STATUS"
	scrape
	check_metric 'fileupload_slow_uploads_cut_total{reason="stalled"}' 1
	check_metric 'fileupload_requests_total{route="upload",class="4xx"}' 1
	default_body_rules
}

# DATA_DIR/tmp unwritable: the 507 counts as a storage I/O error, and the
# scrape's health probe of the storage reads 0 until it is writable again.
sc_metrics_storage_errors() {
	local f io
	f=$(new_file metrics-unwritable)
	scrape
	io=$(metric 'fileupload_storage_errors_total{kind="io"}')
	chmod 0500 "$IT_DATA_DIR/tmp"
	upload "$f"
	check_error 507 "upload with DATA_DIR/tmp read-only"
	scrape
	chmod 0750 "$IT_DATA_DIR/tmp"
	check_metric 'fileupload_storage_errors_total{kind="io"}' $((io + 1))
	check_metric 'fileupload_health{check="storage"}' 0 "read-only"
	check_metric 'fileupload_health{check="database"}' 1 "read-only"
	scrape
	check_metric 'fileupload_health{check="storage"}' 1 "writable again"
}

# conf/prometheus: the example configuration and the alerting rules are
# valid, and each alert fires (and stays quiet) as its tests say.
sc_metrics_prometheus_rules() {
	local out
	if ! command -v promtool >/dev/null; then
		fail "promtool is missing (Debian's prometheus package; scripts/test installs it)"
		return 0
	fi
	out=$(promtool check config "$FU_ROOT/conf/prometheus/prometheus.yml" 2>&1) ||
	    fail "promtool check config: $out"
	out=$(promtool check rules "$FU_ROOT/conf/prometheus/fileupload-rules.yml" 2>&1) ||
	    fail "promtool check rules: $out"
	out=$(promtool test rules "$FU_ROOT/conf/prometheus/fileupload-rules.test.yml" 2>&1) ||
	    fail "promtool test rules: $out"
}

# PostgreSQL stopped and started again: the failures are counted as
# "unavailable", the database probe reads 0 meanwhile, and the
# reconnections are counted as connections opened.
sc_metrics_database_errors() {
	local opened errors
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	start_pool
	req GET /service/fileupload
	check_status 200 "list with the database up"
	scrape
	opened=$(metric fileupload_db_connections_opened_total)
	errors=$(metric 'fileupload_db_errors_total{kind="unavailable"}')
	check "connections opened at start" test "$opened" -ge 2
	check_metric 'fileupload_health{check="database"}' 1 "database up"

	fu_pg_stop "$IT_PG_DIR" 2>>"$IT_TMP/setup.log"
	req GET /service/fileupload
	check_error 503 "list with the database down"
	scrape
	check_status 200 "a scrape with the database down"
	check_metric 'fileupload_health{check="database"}' 0 "database down"
	check "failures counted as unavailable" \
	    test "$(metric 'fileupload_db_errors_total{kind="unavailable"}')" -gt "$errors"
	check_metric 'fileupload_requests_total{route="list",class="5xx"}' 1

	FU_PG_FSYNC=off fu_pg_start "$IT_PG_DIR" "$FU_DB_PORT" 2>>"$IT_TMP/setup.log"
	req GET /service/fileupload
	check_status 200 "list with the database back"
	scrape
	check_metric 'fileupload_health{check="database"}' 1 "database back"
	check "reconnections counted" \
	    test "$(metric fileupload_db_connections_opened_total)" -gt "$opened"
}

# Resumable uploads count as such and as stored files: one created with all
# its bytes (creation-with-upload), one created and terminated, one that
# repeats stored bytes (a duplicate).
sc_metrics_resumable_uploads() {
	local f size names before after n
	names=(fileupload_tus_uploads_created_total
	    fileupload_tus_uploads_completed_total
	    fileupload_tus_uploads_terminated_total
	    fileupload_tus_received_bytes_total
	    fileupload_uploaded_files_total fileupload_duplicate_uploads_total)
	f=$(new_file metrics-tus.txt)
	size=$(stat -c %s "$f")
	scrape
	before=$(for n in "${names[@]}"; do metric "$n"; done)
	tus_post() {
		curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' \
		    -H 'Tus-Resumable: 1.0.0' -H "Upload-Length: $size" \
		    -H 'Upload-Metadata: filename bWV0cmljcy10dXMudHh0' "$@" \
		    "$IT_URL/service/fileupload/uploads"
	}
	check_eq "creation with all the bytes" 201 "$(tus_post \
	    -H 'Content-Type: application/offset+octet-stream' \
	    --data-binary "@$f" | cut -d' ' -f1)"
	check_eq "the same bytes again" 403 "$(tus_post \
	    -H 'Content-Type: application/offset+octet-stream' \
	    --data-binary "@$f" | cut -d' ' -f1)"
	curl -sS -D "$IT_TMP/tus.h" -o /dev/null -X POST \
	    -H 'Tus-Resumable: 1.0.0' -H "Upload-Length: $size" \
	    "$IT_URL/service/fileupload/uploads"
	n=$(tr -d '\r' <"$IT_TMP/tus.h" | sed -n 's/^[Ll]ocation: //p')
	[ -n "$n" ] || fail "no Location for the upload to terminate"
	case $n in http*) ;; *) n=$IT_URL$n ;; esac
	check_eq "termination" 204 "$(curl -sS -o /dev/null -w '%{http_code}' \
	    -X DELETE -H 'Tus-Resumable: 1.0.0' "$n")"
	scrape
	after=$(for n in "${names[@]}"; do metric "$n"; done)
	check_eq "created, completed, terminated, bytes, files, duplicates" \
	    "3 1 1 $((2 * size)) 1 1" \
	    "$(paste <(echo "$before") <(echo "$after") |
	    awk '{ printf "%s%d", (NR > 1 ? " " : ""), $2 - $1 }')"
	curl -sS -o /dev/null -X DELETE \
	    "$IT_URL/service/fileupload/$(b2 "$f")"
}
