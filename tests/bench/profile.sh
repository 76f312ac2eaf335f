#!/usr/bin/env bash
#
# tests/bench/profile.sh: the profiling passes of run.sh, not counted:
# perf record -a -g during small uploads, one large upload, one list and
# the metadata GETs (hot spots per process, in the worker, PostgreSQL and
# nginx), and perf trace -s during small uploads and one large upload
# (time per system call of each worker), into perf-hotspots.txt.  Skipped
# when BENCH_PROFILE=0 or perf is missing.
#
#	sudo tests/bench/profile.sh [--quick]
#
# Run by itself, it starts a private stack and stores the two files it
# needs (see run.sh for the options and the environment).
set -euo pipefail

# perf_top FILE N PERF_REPORT_ARGS...: the first N lines of a report.
perf_top() {
	local data=$1 n=$2
	shift 2
	perf report -i "$data" --stdio --no-children -g none "$@" \
	    >"$RAW/.report" 2>/dev/null || true
	awk -v n="$n" '!/^#/ && NF && c++ < n' "$RAW/.report"
}
# profile NAME TITLE COMMAND...: COMMAND under perf record -a -g, then the
# hot spots per command, in the worker and in PostgreSQL.
profile() {
	local name=$1 title=$2 data=$RAW/perf-$1.data
	shift 2
	fu_log "profiling (not counted): $title"
	perf record -a -g -F 499 -o "$data" -- "$@" \
	    >"$RAW/$name.profiled.txt" 2>"$RAW/perf-$name.log" || true
	{
		echo "=================== $title (perf record -a -g)"
		echo
		echo "== CPU samples per command (share of all samples)"
		perf_top "$data" 12 --sort comm
		echo
		echo "== fileupload-worker by library (share of the worker's samples)"
		# Summed from dso,sym: perf 6.1's "--sort dso" drops the kernel.
		perf_top "$data" 100000 --comms fileupload-work \
		    --percentage relative --sort dso,sym |
		    awk '{ sub(/%/, "", $1); s[$2] += $1 }
		    END { for (d in s) printf "%8.2f%%  %s\n", s[d], d }' |
		    sort -rn | sed -n 1,10p
		echo
		echo "== fileupload-worker: hottest symbols"
		perf_top "$data" 30 --comms fileupload-work --percentage relative --sort dso,sym
		echo
		echo "== postgres: hottest symbols"
		perf_top "$data" 15 --comms postgres --percentage relative --sort dso,sym
		echo
		echo "== nginx: hottest symbols"
		perf_top "$data" 10 --comms nginx --percentage relative --sort dso,sym
		echo
	} >>"$RES/perf-hotspots.txt"
}

# bench_profile: the passes, over the stored small file ($hash), the large
# file ($big) and the list's $rows.
bench_profile() {
	local wpids t

	[ "$PROFILE" = 1 ] && command -v perf >/dev/null || return 0
	: >"$RES/perf-hotspots.txt"
	profile uploads "small uploads (wrk, ${SECS}s)" \
	    wrk -t"$WRK_THREADS" -c"$CONNS" -d"${SECS}s" -s "$BENCH/upload.lua" \
	    "$URL" -- "$nonce-perf" 4096 "$CONTENT"
	curl -sS -o /dev/null -X DELETE "$URL/$big_hash"
	profile large-upload "large upload ($LARGE_MIB MiB, curl -F)" \
	    curl -sS -o "$RAW/large-upload.profiled.json" -F "upfile=@$big" "$URL"
	profile list "list ($(fmt "$rows") rows, curl)" \
	    curl -sS -o /dev/null "$URL"
	profile get "metadata GET (wrk, ${SECS}s)" \
	    wrk -t"$WRK_THREADS" -c"$CONNS" -d"${SECS}s" -s "$BENCH/status.lua" \
	    "$URL/$hash" -- 200

	# System calls: perf trace -p does not attach here, so trace the
	# whole machine and keep the sections of this pool's workers.
	wpids=$(fu_pool_pids | paste -sd, -)
	fu_log "profiling (not counted): system calls during small uploads"
	perf trace -s -a -o "$RAW/perf-trace-uploads.txt" -- \
	    wrk -t"$WRK_THREADS" -c"$CONNS" -d"${SECS}s" -s "$BENCH/upload.lua" \
	    "$URL" -- "$nonce-trace" 4096 "$CONTENT" >"$RAW/uploads.traced.txt" 2>&1 || true
	fu_log "profiling (not counted): system calls during a large upload"
	curl -sS -o /dev/null -X DELETE "$URL/$big_hash"
	perf trace -s -a -o "$RAW/perf-trace-large.txt" -- \
	    curl -sS -o "$RAW/large-upload.traced.json" -F "upfile=@$big" "$URL" \
	    || true
	for t in uploads large; do
		echo "=================== system calls of the workers during" \
		    "$([ "$t" = uploads ] && echo "small uploads" || echo "a large upload") (perf trace -s -a)"
		[ "$t" != uploads ] || grep '^BENCH' "$RAW/uploads.traced.txt" || true
		# A section starts " comm (pid), N events"; keep this pool's.
		awk -v pids=",$wpids," '
		    / events/ && $2 ~ /^\([0-9]+\),$/ {
		        keep = $1 == "fileupload-work" &&
		            index(pids, "," substr($2, 2, length($2) - 3) ",") > 0 }
		    keep && NF' "$RAW/perf-trace-$t.txt"
		echo
	done >>"$RES/perf-hotspots.txt"
}

# profile_prepare: what bench_profile reads, when run by itself.
profile_prepare() {
	bench_need_hash
	bench_need_big
	rows=$(psql_fu -tAc 'SELECT count(*) FROM files')
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	# shellcheck source=tests/bench/stack.sh
	. "$(dirname "${BASH_SOURCE[0]}")/stack.sh"
	bench_standalone profile_prepare bench_profile -- "$@"
fi
