#!/usr/bin/env bash
#
# tests/bench/upload_cost.sh: what one small upload costs in CPU, over all
# the processes of the stack and per step inside the worker, measured so
# that a machine busy with other work still gives the stack's own cost.
#
#	sudo tests/bench/upload_cost.sh [--quick]
#
# A private stack (stack.sh: PostgreSQL with fsync on, WORKERS workers,
# nginx), then:
#
# 1. Per process class.  BENCH_COST_UPLOADS (2000) uploads of 4 KiB
#    (upload_count.lua: upload.lua's content, BENCH_UPLOAD_CONTENT, here
#    "text" by default; CONNS connections, 16), RUNS times (3, --quick 1).
#    Each class's CPU is utime + stime from /proc/PID/stat of its root and
#    every live descendant, plus the reaped children's cutime + cstime
#    (fig_capacity.sh's cap_groups): nginx (master and workers), the pool
#    (multiwatch and the workers), PostgreSQL (postmaster, backends,
#    walwriter, checkpointer ...), each net of its rate over IDLE_SECS (5)
#    of nothing before the run; the client is wrk's own utime + stime
#    (bash's times, around it alone).  Divided by the uploads counted by
#    the rows they added.  CPU time is what the processes themselves ran:
#    other work on the machine delays them but adds nothing to it (it
#    still costs some through shared caches and the cores' clocks; the
#    load average goes with the figures).  Ticks of 1/CLK_TCK s: 2000
#    uploads measure a class to ~0.01 ms per upload.
#
# 2. Per step in the worker.  The pool restarted with one worker under
#    valgrind's callgrind (counted instructions, independent of the load),
#    counting only inside the functions serve() calls per request (the
#    worker's start stays out), BENCH_COST_CG_UPLOADS (300) uploads, then
#    the pool stopped (the profile is written at the worker's exit).  A
#    libmagic cookie or database connection made during a request
#    (magic_load, db_connect) is left out as one-time work.  The steps are
#    the inclusive instructions of the functions that implement them, per
#    upload:
#	parse     FCGX_Accept_r (the FastCGI records and parameters),
#		  request_init, request_read, mp_new, mp_feed, mp_finish,
#		  less the storing and hashing that mp_feed's callbacks call
#	hash      hash_update, hash_final_hex (BLAKE2b-256, inline for a
#		  body of one buffer)
#	store     store_tmp_create, store_tmp_write, store_tmp_sync,
#		  store_tmp_commit, store_tmp_abort (temp file, write, fsync
#		  of file and directory, rename)
#	detect    mime_detect (libmagic)
#	database  db_ready, db_insert_begin, db_commit_row, db_release
#	answer    answer_created (json), request_log, request_finish,
#		  metrics_request_end
#	other     the rest (routing, admission, metrics ...)
#    Callgrind counts user space only; the worker's system time (the
#    kernel's side of each system call: the write, both fsyncs, the
#    rename, the sockets) is part 1's worker stime; strace -c -f over
#    BENCH_COST_STRACE_UPLOADS (300) uploads on the normal pool gives the
#    system calls per upload and ranks them (its times, inflated by the
#    tracing itself, rank but do not measure).  Each
#    step's share of the worker's user time is its share of the
#    instructions; the ms per step are that share of part 1's worker utime.
#    The fsync's wait is not CPU and is not in these figures.
#
# BENCH_FANOUT=1 makes DATA_DIR's fan-out directories first, as a
# populated store has them (fig_uploads.sh's experiment).
#
# Writes results/<date>-upload_cost/table.md (and raw/).  Needs wrk,
# valgrind (callgrind_annotate) and strace (optional).
set -euo pipefail

# shellcheck source=tests/bench/stack.sh
. "$(dirname "${BASH_SOURCE[0]}")/stack.sh"
# shellcheck source=tests/bench/fig_capacity.sh
. "$BENCH/fig_capacity.sh"

: "${BENCH_UPLOAD_CONTENT:=text}"
COST_N=${BENCH_COST_UPLOADS:-2000}
CG_N=${BENCH_COST_CG_UPLOADS:-300}
ST_N=${BENCH_COST_STRACE_UPLOADS:-300}
IDLE_SECS=5

# cost_rows: the rows of the files table.
cost_rows() {
	psql_fu -tAc 'SELECT count(*) FROM files'
}

# cost_lines: the lines of nginx's access log (one a request).
cost_lines() {
	wc -l <"$FU_LOG_DIR/nginx-access.log" 2>/dev/null || echo 0
}

# cost_wrk TAG N [CONNS]: N uploads (rounded up to the wrk threads),
# output in $RAW/TAG.txt.  A wrk thread that stopped leaves wrk waiting
# for -d's end: once nginx logged the N requests, wrk gets SIGINT (it
# then prints its figures and exits).  Watching the log costs the stack
# nothing.
cost_wrk() {
	local per=$((($2 + WRK_THREADS - 1) / WRK_THREADS)) want wpid

	want=$(($(cost_lines) + per * WRK_THREADS))
	wrk -t"$WRK_THREADS" -c"${3:-$CONNS}" -d600s --latency \
	    -s "$BENCH/upload_count.lua" "$URL" -- "$nonce-$1" 4096 "$CONTENT" 201 \
	    "$per" >"$RAW/$1.txt" 2>&1 &
	wpid=$!
	while kill -0 "$wpid" 2>/dev/null && [ "$(cost_lines)" -lt "$want" ]; do
		sleep 0.1
	done
	sleep 0.5	# the answers in flight when the threads stopped
	kill -INT "$wpid" 2>/dev/null || true
	wait "$wpid" || true
}

# cost_client_secs: CLIENT_SECS, this shell's reaped children's utime +
# stime in seconds (not in a pipe or $(...): a subshell has no children
# of its own yet).
cost_client_secs() {
	times >"$RAW/.times"
	CLIENT_SECS=$(tail -n 1 "$RAW/.times" | awk '{ s = 0
	    for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); s += a[1] * 60 + a[2] }
	    printf "%.3f\n", s }')
}

# cost_run I: one measured run: $RAW/cost.I.per, "class ms_per_upload".
cost_run() {
	local i=$1 hz r0 r1 c0 c1 t0 t1 n

	hz=$(getconf CLK_TCK)
	cap_groups >"$RAW/idle.$i.g0"
	t0=$(date +%s.%N)
	sleep "$IDLE_SECS"
	cap_groups >"$RAW/idle.$i.g1"
	t1=$(date +%s.%N)
	echo "$t0 $t1" >"$RAW/idle.$i.t"

	r0=$(cost_rows)
	cost_client_secs
	c0=$CLIENT_SECS
	cap_groups >"$RAW/cost.$i.g0"
	t0=$(date +%s.%N)
	cost_wrk "cost.$i" "$COST_N"
	cap_groups >"$RAW/cost.$i.g1"
	t1=$(date +%s.%N)
	cost_client_secs
	c1=$CLIENT_SECS
	r1=$(cost_rows)
	n=$((r1 - r0))
	[ "$n" -gt 0 ] || fu_die "run $i: no upload stored ($RAW/cost.$i.txt)"
	summary "run $i: $n uploads in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s;" \
	    "$(grep '^BENCH ' "$RAW/cost.$i.txt" || echo 'wrk: no result')"
	awk -v hz="$hz" -v n="$n" -v secs="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
	    -v isecs="$(awk '{ print $2 - $1 }' "$RAW/idle.$i.t")" \
	    -v client="$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')" '
	    FILENAME ~ /idle.*g0$/ { i0[$1] = $2; next }
	    FILENAME ~ /idle.*g1$/ { idle[$1] = ($2 - i0[$1]) / hz / isecs; next }
	    FILENAME ~ /g0$/ { c0[$1] = $2; next }
	    { c = ($2 - c0[$1]) / hz - idle[$1] * secs; if (c < 0) c = 0
	      printf "%s %.4f\n", $1, 1000 * c / n; t += c }
	    END { printf "client %.4f\nuploads %d\nidle_ms_per_s %s\n", 1000 * client / n, n,
	          sprintf("%.1f", 1000 * (idle["nginx"] + idle["worker"] + idle["postgres"])) }' \
	    "$RAW/idle.$i.g0" "$RAW/idle.$i.g1" "$RAW/cost.$i.g0" "$RAW/cost.$i.g1" \
	    >"$RAW/cost.$i.per"
}

# cost_worker_times: "utime stime" ticks summed over the pool's workers.
cost_worker_times() {
	local p
	for p in $(fu_pool_pids); do
		awk '{ l = $0; c = length(l); while (substr(l, c, 1) != ")") c--;
		    split(substr(l, c + 2), f, " "); print f[12], f[13] }' "/proc/$p/stat"
	done | awk '{ u += $1; s += $2 } END { print u + 0, s + 0 }'
}

# cost_worker_ut BEFORE AFTER N: "worker_user MS" and "worker_sys MS" per
# upload from two cost_worker_times samples.
cost_worker_ut() {
	local hz
	hz=$(getconf CLK_TCK)
	paste "$1" "$2" | awk -v hz="$hz" -v n="$3" '{
	    printf "worker_user %.4f\nworker_sys %.4f\n",
	        1000 * ($3 - $1) / hz / n, 1000 * ($4 - $2) / hz / n }'
}

# cost_measure: RUNS measured runs (after a warm-up of CONNS x 20).
cost_measure() {
	local i n
	fu_log "warm-up: $((CONNS * 20)) uploads"
	cost_wrk warmup $((CONNS * 20))
	for i in $(seq 1 "$RUNS"); do
		fu_log "run $i of $RUNS: ${IDLE_SECS}s idle, then $COST_N uploads ($CONTENT, $CONNS connections)"
		# cap_groups counts the workers' ticks with the rest; their
		# user and system parts are read around the same run.
		cost_worker_times >"$RAW/cost.$i.wg0"
		cost_run "$i"
		cost_worker_times >"$RAW/cost.$i.wg1"
		n=$(awk '$1 == "uploads" { print $2 }' "$RAW/cost.$i.per")
		cost_worker_ut "$RAW/cost.$i.wg0" "$RAW/cost.$i.wg1" "$n" \
		    >>"$RAW/cost.$i.per"
	done
}

# cost_median KEY: KEY's median over the runs.
cost_median() {
	local i
	for i in $(seq 1 "$RUNS"); do
		awk -v k="$1" '$1 == k { print $2 }' "$RAW/cost.$i.per"
	done | cap_med
}

# cost_strace: the workers' system calls over ST_N uploads (strace -c -f:
# system CPU time per call), per upload, into $RAW/strace.txt.
cost_strace() {
	local spid p r0
	local -a args=()

	command -v strace >/dev/null || { fu_log "no strace: no system call split"; return 0; }
	for p in $(fu_pool_pids); do
		args+=(-p "$p")
	done
	fu_log "system calls of the workers over $ST_N uploads (strace -c -f)"
	strace -f -c -o "$RAW/strace.raw" "${args[@]}" 2>/dev/null &
	spid=$!
	sleep 1
	r0=$(cost_rows)
	cost_wrk strace "$ST_N"
	ST_UPLOADS=$(($(cost_rows) - r0))
	kill -INT "$spid"
	wait "$spid" || true
}

# The functions serve() (main.c) calls for each request: callgrind counts
# inside them only, so the worker's start (libmagic's database, the pool's
# set-up) stays out.
CG_PER_REQUEST="FCGX_Accept_r request_init handle_request db_release
    request_log metrics_request_end request_finish"

# cost_callgrind: the pool restarted as one worker under callgrind, CG_N
# uploads, the pool stopped (the worker's exit writes the profile):
# $RAW/callgrind.out; CG_UPLOADS, the uploads it holds.
cost_callgrind() {
	local wrap=$BIN/callgrind-worker cg=$FU_VAR/callgrind r0 f='' i toggles=''

	command -v callgrind_annotate >/dev/null ||
	    fu_die "valgrind (callgrind_annotate) is missing"
	for f in $CG_PER_REQUEST; do
		toggles="$toggles --toggle-collect=$f"
	done
	fu_pool_stop
	install -m 0755 "$WORKER_BIN" "$BIN/fileupload-worker.real"
	mkdir -p "$cg"
	chown "$FU_USER:" "$cg"
	printf '#!/bin/sh\nexec valgrind --tool=callgrind --collect-atstart=no%s --callgrind-out-file=%s/cg.%%p %s "$@"\n' \
	    "$toggles" "$cg" "$BIN/fileupload-worker.real" >"$wrap"
	chmod 0755 "$wrap"
	fu_log "one worker under callgrind: $CG_N uploads"
	r0=$(cost_rows)
	# No client's share (FILEUPLOAD_SLOTS_PER_CLIENT=0): one slow worker
	# holds its slots long enough that wrk's 16 connections, one client,
	# would be refused 503 at a share of them; the admission then skips
	# the share's count (some hundred instructions of "other").
	FILEUPLOAD_SLOTS_PER_CLIENT=0 WORKERS=1 fu_pool_start "$wrap" ||
	    fu_die "the callgrind worker did not start"
	# Uploads one at a time until one is stored: the worker is up, and
	# its upload slots are in the pool's count (a client's share of them
	# is refused with 503 before that).
	head -c 4096 /dev/urandom | base64 >"$FU_VAR/work/cg-probe.txt"
	for i in $(seq 1 120); do
		[ "$(curl -sS -m 60 -o /dev/null -w '%{http_code}' \
		    -F "upfile=@$FU_VAR/work/cg-probe.txt" "$URL" || true)" != 201 ] || break
		sleep 1
	done
	cost_wrk callgrind "$CG_N"
	CG_UPLOADS=$(($(cost_rows) - r0))
	[ "$CG_UPLOADS" -ge $((CG_N / 2)) ] ||
	    fu_die "callgrind: $CG_UPLOADS uploads stored of $CG_N ($RAW/callgrind.txt)"
	fu_pool_stop
	f=
	for i in $(seq 1 60); do
		f=$(find "$cg" -name 'cg.*' -size +0 | head -n 1)
		[ -z "$f" ] || break
		sleep 1
	done
	[ -n "$f" ] || fu_die "callgrind wrote no profile in $cg ($i s)"
	sleep 1
	cp "$f" "$RAW/callgrind.out"
}

# cost_steps: "step instructions_per_upload" from the profile, into
# $RAW/steps.txt.  One-time work inside a request (a libmagic cookie made
# when none is free, a database connection opened) is left out: it is
# magic_load's and db_connect's.
cost_steps() {
	callgrind_annotate --inclusive=yes --threshold=100 "$RAW/callgrind.out" \
	    >"$RAW/callgrind-inclusive.txt" 2>/dev/null
	awk -v n="$CG_UPLOADS" '
	    /PROGRAM TOTALS/ && !total { v = $1; gsub(",", "", v); total = v }
	    $1 ~ /^[0-9,]+$/ && !/PROGRAM TOTALS/ { v = $1; gsub(",", "", v)
	      f = $0; sub(/^ *[0-9,]+ +(\([^)]*\) +)?/, "", f); sub(/ .*/, "", f)
	      sub(/^.*:/, "", f); sub(/\047.*/, "", f)
	      if (!(f in ir)) ir[f] = v }
	    function g(f) { return (f in ir) ? ir[f] : 0 }
	    END {
	      once = g("magic_load") + g("db_connect")
	      parse = g("FCGX_Accept_r") + g("request_init") + g("request_read") + g("mp_new") + g("mp_feed") + g("mp_finish")
	      hash = g("hash_update") + g("hash_final_hex")
	      store = g("store_tmp_create") + g("store_tmp_write") + g("store_tmp_sync") + g("store_tmp_commit") + g("store_tmp_abort")
	      # mp_feed calls on_part_begin and on_part_data: the hash and the
	      # temp file are counted in their own steps.
	      parse -= g("hash_update") + g("store_tmp_create") + g("store_tmp_write")
	      detect = g("mime_detect") - g("magic_load")
	      db = g("db_ready") + g("db_insert_begin") + g("db_commit_row") + g("db_release") - g("db_connect")
	      answer = g("answer_created") + g("request_log") + g("request_finish") + g("metrics_request_end")
	      total -= once
	      other = total - parse - hash - store - detect - db - answer
	      printf "parse %.0f\nhash %.0f\nstore %.0f\ndetect %.0f\ndatabase %.0f\nanswer %.0f\nother %.0f\ntotal %.0f\n",
	          parse / n, hash / n, store / n, detect / n, db / n, answer / n, other / n, total / n
	      printf "once %.0f\n", once > "/dev/stderr" }' \
	    "$RAW/callgrind-inclusive.txt" >"$RAW/steps.txt" 2>"$RAW/steps-once.txt"
}

# cost_table: table.md.
cost_table() {
	local g v t=0 ut st
	{
		echo "# fileupload: CPU per small upload, $stamp"
		echo
		sed 's/^/    /' "$RES/env.txt"
		echo "    load average (1, 5, 15 min): $LOAD_START at start, $(cut -d' ' -f1-3 /proc/loadavg) at end"
		echo
		echo "## Per process class: CPU ms per upload (utime + stime, net of idle)"
		echo
		echo "4 KiB $CONTENT, $CONNS connections, $COST_N uploads a run, medians of $RUNS run(s)$([ "${BENCH_FANOUT:-0}" != 1 ] ||
		    echo ", DATA_DIR's fan-out directories made first (BENCH_FANOUT=1)")."
		echo
		echo "| class | ms per upload |"
		echo "|---|---|"
		for g in nginx worker postgres; do
			v=$(cost_median "$g")
			t=$(awk -v a="$t" -v b="$v" 'BEGIN { print a + b }')
			printf '| %s | %.3f |\n' "$g" "$v"
		done
		printf '| **stack total** (nginx + worker + postgres) | **%.3f** |\n' "$t"
		v=$(cost_median client)
		printf '| client (wrk) | %.3f |\n' "$v"
		printf '| all, client included | %.3f |\n' "$(awk -v a="$t" -v b="$v" 'BEGIN { print a + b }')"
		echo
		ut=$(cost_median worker_user)
		st=$(cost_median worker_sys)
		echo "Worker: user $ut ms, system $st ms per upload (not net of idle);"
		echo "stack's idle rate: $(cost_median idle_ms_per_s) ms of CPU per s."
		echo
		echo "## Per step in the worker (callgrind, $CG_UPLOADS uploads, user space)"
		echo
		echo "| step | instructions per upload | share | ms of the worker's user time |"
		echo "|---|---|---|---|"
		awk -v ut="$ut" '{ v[NR] = $1; n[NR] = $2; if ($1 == "total") tot = $2 }
		    END { for (i = 1; i <= NR; i++)
		        printf "| %s | %\047d | %.1f %% | %.3f |\n", v[i], n[i],
		            100 * n[i] / tot, ut * n[i] / tot }' "$RAW/steps.txt"
		echo
		if [ -s "$RAW/strace.raw" ]; then
			echo "## The worker's system calls ($ST_UPLOADS uploads, strace -c -f)"
			echo
			echo "| call | calls per upload | µs per upload as strace timed it (inflated by tracing: a ranking) |"
			echo "|---|---|---|"
			awk -v n="$ST_UPLOADS" '$1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" {
			    printf "%s %.2f %.1f\n", $NF, $4 / n, $2 * 1e6 / n }' "$RAW/strace.raw" |
			    sort -k3,3gr | awk '$2 >= 0.05 { printf "| %s | %s | %s |\n", $1, $2, $3 }'
			echo
		fi
	} >"$RES/table.md"
	cat "$RES/table.md"
}

bench_options "$@"
[ "${#BENCH_ARGS[@]}" -eq 0 ] || fu_die "unknown argument ${BENCH_ARGS[0]}"
bench_setup upload_cost
[ "${BENCH_FANOUT:-0}" != 1 ] || bench_fanout
cost_measure
cost_strace
cost_callgrind
cost_steps
cost_table
echo "results: $RES"
