#!/usr/bin/env bash
#
# tests/bench/fig_capacity.sh: the capacity figure (run.sh --capacity, or
# BENCH_CAPACITY=1): what one request costs each process of the stack, in
# CPU-seconds (utime + stime from /proc/PID/stat, with the reaped
# children's cutime + cstime: PostgreSQL's exited backends count too), so
# that a machine shared with other work still measures the stack's own
# cost; then the model: what 10,000 small uploads/s and 10 GB/s of large
# files need.  Phases, each RUNS times (the figure is the median):
#   idle     SECS of nothing: what the stack costs by itself per second
#            (subtracted from every phase below)
#   small    4 KiB uploads with wrk (upload.lua, CONNS connections, SECS)
#   get      downloads of one small stored file (content route, wrk
#            status.lua, CONNS connections, SECS)
#   large    LARGE_MIB MiB of random bytes up with curl -F, then down
#            (content route to /dev/null)
# Process groups: nginx (master and workers), the worker pool (multiwatch
# and its workers), PostgreSQL (the postmaster and every backend), and on
# STORAGE=s3 radosgw, ceph-osd and ceph-mon (scripts/rgw.sh's daemons).
# The load generators (wrk, curl) are not counted; nor is the kernel's
# own work outside a process (writeback, journal threads, softirq
# accounted to nobody).  Also counted per phase: PostgreSQL's commits
# that wrote and its WAL bytes, the page cache each group dirtied
# (/proc/PID/io write_bytes, counted by page or larger folio as it turns
# dirty: PostgreSQL's WAL page, written again at each commit, counts far
# more than its bytes), the store's requests (STORAGE=s3: RGW's ops log
# by operation, with bytes in and out; the worker's
# fileupload_s3_requests_total by op); once, on CAP_SAMPLE (20) uploads
# sent one at a time, the SQL statements each upload sends (log_statement
# = all for their duration) and the system calls of the workers (strace
# -c -f).  PostgreSQL's single-row INSERT commits/s on this machine
# (ceilings.sh's ceil_db, taken from run.sh when it ran) is the database's
# measured bound.
#
#	sudo tests/bench/fig_capacity.sh [--quick] [--s3]
#	sudo tests/bench/run.sh --capacity [--s3]   (or BENCH_CAPACITY=1)
#
# Run by itself, it starts a private stack for this figure alone (--s3: on
# a Ceph RGW of its own, as fig_s3.sh) and writes table.md with its
# section alone (see run.sh for the options and the environment).  The
# model's targets: BENCH_CAP_UPLOADS (10000 small uploads/s), BENCH_CAP_GBS
# (10 GB/s of large files), BENCH_CAP_UTIL (0.7: the share of a host's
# cores planned busy).
set -euo pipefail

CAP_SAMPLE=20

# cap_roots: "group pid" of each process group's root.
cap_roots() {
	echo "nginx $(fu_nginx_pid)"
	echo "worker $(fu_pool_supervisor)"
	echo "postgres $(head -n 1 "$pg_dir/data/postmaster.pid")"
	[ "$BENCH_S3" -eq 0 ] || {
		echo "radosgw $(fu_rgw_pid "$FU_RGW_DIR" client.rgw.a)"
		echo "ceph-osd $(fu_rgw_pid "$FU_RGW_DIR" osd.0)"
		echo "ceph-mon $(fu_rgw_pid "$FU_RGW_DIR" mon.a)"
	}
}

# cap_groups: "group ticks write_bytes" of each group: the sum over its
# root and every live descendant of utime + stime + cutime + cstime (a
# reaped child's time is in its parent's cutime) and of write_bytes.
cap_groups() {
	local g root p ticks wb
	local -a members

	{ cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk '{
	    l = $0; c = length(l); while (substr(l, c, 1) != ")") c--;
	    split(substr(l, c + 2), f, " ");
	    print $1, f[2], f[12] + f[13] + f[14] + f[15] }' >"$RAW/.cap-stat"
	while read -r g root; do
		[ -n "$root" ] || fu_die "capacity: no $g process"
		mapfile -t members < <(awk -v r="$root" '
		    { par[$1] = $2; t[$1] = $3 }
		    END { for (p in par) { q = p; n = 0
		        while (q != r && q in par && n++ < 64) q = par[q]
		        if (q == r) print p, t[p] } }' "$RAW/.cap-stat")
		ticks=0
		wb=0
		for p in "${members[@]}"; do
			ticks=$((ticks + ${p#* }))
			p=${p%% *}
			wb=$((wb + $(sed -n 's/^write_bytes: //p' "/proc/$p/io" 2>/dev/null || echo 0)))
		done
		echo "$g $ticks $wb"
	done < <(cap_roots)
}

# cap_counters: PostgreSQL's counters: "xids", the transactions that
# wrote (each one a commit that waits for its WAL flush), and "walbytes",
# from the server's state, exact at once; commits and rows of the
# fileupload database from its statistics, which a backend sends up to
# 10 s late, and which then miss a share of a short phase's (kept in the
# raw files only); and RGW's ops log length, as "name value" lines; cap_metrics: the pool's
# counters of uploads and store requests.  (A scrape runs the health
# probes, a query and a store request: it is taken outside the window
# that cap_counters draws.)
cap_counters() {
	psql_fu -tA -F ' ' -c "SELECT 'commits', xact_commit, 'rollbacks',
	    xact_rollback, 'inserted', tup_inserted, 'updated', tup_updated,
	    'deleted', tup_deleted, 'xids',
	    pg_snapshot_xmax(pg_current_snapshot()), 'walbytes',
	    pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')
	    FROM pg_stat_database WHERE datname = 'fileupload'" | xargs -n 2
	[ "$BENCH_S3" -eq 0 ] ||
	    echo "opslog $(bench_ops_lines)"
}
cap_metrics() {
	curl -sS "$URL/metrics" | awk '/^fileupload_(s3_requests_total|uploaded_files_total)/ {
	    gsub(/"/, "", $1); print $1, $2 }'
}

# cap_begin NAME; work; cap_end NAME: one phase.  The counters are read
# a moment apart from the load (RGW writes its ops log after the answer),
# the metrics outside that, and the CPU right at the load's edges.
# cap_end writes $RAW/NAME.delta: "secs S", "cpu.GROUP SECONDS",
# "wb.GROUP BYTES", every counter's change and, on S3, "op.OPERATION COUNT BYTES_IN
# BYTES_OUT" from the ops log.
cap_begin() {
	cap_metrics >"$RAW/$1.m0"
	sleep 1.5
	cap_counters >"$RAW/$1.c0"
	cap_groups >"$RAW/$1.g0"
	date +%s.%N >"$RAW/$1.t0"
}
cap_end() {
	local name=$1 hz from

	cap_groups >"$RAW/$name.g1"
	date +%s.%N >"$RAW/$name.t1"
	sleep 2
	cap_counters >"$RAW/$name.c1"
	cap_metrics >"$RAW/$name.m1"
	hz=$(getconf CLK_TCK)
	{
		awk '{ printf "secs %.3f\n", $1 - t0; } NR == 1 { t0 = $1 }' \
		    "$RAW/$name.t0" "$RAW/$name.t1" | tail -n 1
		awk -v hz="$hz" 'FNR == NR { t[$1] = $2; w[$1] = $3; next }
		    { printf "cpu.%s %.4f\nwb.%s %.0f\n", $1, ($2 - t[$1]) / hz, $1, $3 - w[$1] }' \
		    "$RAW/$name.g0" "$RAW/$name.g1"
		awk 'FNR == NR { v[$1] = $2; next } $1 != "opslog" { print $1, $2 - v[$1] }' \
		    "$RAW/$name.c0" "$RAW/$name.c1"
		awk 'FNR == NR { v[$1] = $2; next } { print $1, $2 - v[$1] }' \
		    "$RAW/$name.m0" "$RAW/$name.m1"
		if [ "$BENCH_S3" -eq 1 ]; then
			from=$(awk '$1 == "opslog" { print $2 }' "$RAW/$name.c0")
			bench_ops_since "$from" | awk '{ print "op." $1, $2, $4, $5 }'
		fi
	} >"$RAW/$name.delta"
}

# dv NAME KEY: a value of $RAW/NAME.delta (0 when absent).
dv() {
	awk -v k="$2" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }' "$RAW/$1.delta"
}

# cap_net NAME UNITS [IDLE]: $RAW/NAME.per: the phase's figures per unit,
# each group's CPU net of the idle phase's rate over the phase's seconds
# (first value) and as measured (second).
cap_net() {
	awk -v u="$2" -v base="${3:+1}" 'base && FNR == NR { if ($1 == "secs") is = $2
	        else if ($1 ~ /^cpu\./) ic[$1] = $2; next }
	    $1 == "secs" { s = $2; print; next }
	    $1 ~ /^cpu\./ { c = $2 - (is > 0 ? ic[$1] * s / is : 0); if (c < 0) c = 0
	        printf "%s %.6g %.6g\n", $1, c / u, $2 / u; next }
	    $1 ~ /^op\./ { printf "%s %.6g %.6g %.6g\n", $1, $2 / u, $3 / u, $4 / u; next }
	    { printf "%s %.6g\n", $1, $2 / u }' ${3:+"$RAW/$3.delta"} "$RAW/$1.delta" \
	    >"$RAW/$1.per"
}

# cap_med: the median of the numbers on stdin, as they are however small
# (not median's rounding).
cap_med() {
	sort -g | awk '{ a[NR] = $1 }
	    END { printf "%.6g\n", (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# cap_median PHASE KEY: the median over the runs of KEY's first value in
# $RAW/PHASE.I.per.
cap_median() {
	local i
	for i in $(seq 1 "$RUNS"); do
		awk -v k="$2" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }' \
		    "$RAW/$1.$i.per"
	done | cap_med
}

# cap_statements FROM OUT: the statements PostgreSQL logged after line
# FROM of its log, by their first words, counted, into OUT.
cap_statements() {
	tail -n +"$(($1 + 1))" "$pg_dir/postgres.log" |
	    grep -E 'LOG:  (statement|execute [^:]*):' |
	    grep -vE 'ALTER SYSTEM|pg_reload_conf' |
	    sed -E 's/.*LOG:  (statement|execute [^:]*): *//' |
	    awk '{ w = toupper($1); if (w != "BEGIN" && w != "COMMIT") w = w " " $2 " " $3
	        sub(/[(,].*/, "", w); print w }' |
	    sort | uniq -c | sort -rn >"$2"
}
# cap_per FILE: "N: words n; words n" per sample request, from
# cap_statements' counts.
cap_per() {
	awk -v n="$CAP_SAMPLE" '{ c = $1; $1 = ""; sub(/^ /, ""); t += c
	    l = l sprintf("%s%s %.2f", (NR > 1 ? "; " : ""), $0, c / n) }
	    END { printf "%.2f%s%s", t / n, (NR ? ": " : ""), l }' "$1"
}

# cap_sample: CAP_SAMPLE uploads one at a time, with PostgreSQL logging
# every statement and strace counting the workers' system calls, then
# CAP_SAMPLE downloads of the last one: $RAW/cap-statements.txt and
# $RAW/cap-statements-get.txt (the statements' first words, counted) and
# $RAW/cap-syscalls.txt (strace -c, the uploads).  Sets CAP_STMTS and
# CAP_STMTS_GET (per request: "N: words n; ...").
cap_sample() {
	local from i h spid=''
	local -a args=()

	for i in $(fu_pool_pids); do
		args+=(-p "$i")
	done
	from=$(wc -l <"$pg_dir/postgres.log")
	psql_fu -qc "ALTER SYSTEM SET log_statement = 'all'" -c 'SELECT pg_reload_conf()' >/dev/null
	sleep 0.5
	if command -v strace >/dev/null; then
		strace -f -c -o "$RAW/cap-syscalls.txt" "${args[@]}" 2>/dev/null &
		spid=$!
		sleep 1
	fi
	for i in $(seq 1 "$CAP_SAMPLE"); do
		head -c 4096 /dev/urandom >"$FU_VAR/work/sample.bin"
		[ "$(curl -sS -o "$FU_VAR/work/sample.json" -w '%{http_code}' \
		    -F "upfile=@$FU_VAR/work/sample.bin" "$URL")" = 201 ] ||
		    fu_die "capacity: a sample upload failed"
	done
	if [ -n "$spid" ]; then
		kill -INT "$spid"
		wait "$spid" || true
	fi
	cap_statements "$from" "$RAW/cap-statements.txt"
	h=$(json_hash "$FU_VAR/work/sample.json")
	from=$(wc -l <"$pg_dir/postgres.log")
	for i in $(seq 1 "$CAP_SAMPLE"); do
		[ "$(curl -sS -o /dev/null -w '%{http_code}' "$URL/$h/content")" = 200 ] ||
		    fu_die "capacity: a sample download failed"
	done
	psql_fu -qc 'ALTER SYSTEM RESET log_statement' -c 'SELECT pg_reload_conf()' >/dev/null
	cap_statements "$from" "$RAW/cap-statements-get.txt"
	rm -f "$FU_VAR/work/sample.bin" "$FU_VAR/work/sample.json"
	CAP_STMTS=$(cap_per "$RAW/cap-statements.txt")
	CAP_STMTS_GET=$(cap_per "$RAW/cap-statements-get.txt")
}

# fig_capacity: the phases; sets CAP_* for fig_capacity_table.
fig_capacity() {
	local i r code secs n
	local -a u=()

	fu_log "capacity: CPU-seconds per request of each process ($RUNS x ${SECS}s per phase)"
	[ -n "${PG_TPS:-}" ] || ceil_db
	bench_big_file
	curl -sS -o /dev/null -X DELETE "$URL/$big_hash"
	[ "$BENCH_S3" -eq 0 ] || s3_gc
	cap_sample
	for i in $(seq 1 "$RUNS"); do
		cap_begin "cap-idle.$i"
		sleep "$SECS"
		cap_end "cap-idle.$i"
		cap_net "cap-idle.$i" "$(dv "cap-idle.$i" secs)"

		cap_begin "cap-small.$i"
		wrk -t"$WRK_THREADS" -c"$CONNS" -d"${SECS}s" --latency -s "$BENCH/upload.lua" \
		    "$URL" -- "$nonce-cap$i" 4096 "$CONTENT" >"$RAW/cap-small.$i.txt" 2>&1
		cap_end "cap-small.$i"
		r=$(grep '^BENCH ' "$RAW/cap-small.$i.txt") ||
		    fu_die "capacity: wrk gave no result ($RAW/cap-small.$i.txt)"
		n=$(($(field requests "$r") - $(field non201 "$r")))
		[ "$n" -gt 0 ] || fu_die "capacity: no upload answered 201"
		u+=("$n")
		cap_net "cap-small.$i" "$n" "cap-idle.$i"
		summary "capacity small uploads run $i: $n uploads; $r"

		bench_need_hash
		cap_begin "cap-get.$i"
		wrk -t"$WRK_THREADS" -c"$CONNS" -d"${SECS}s" -s "$BENCH/status.lua" \
		    "$URL/$hash/content" -- 200 >"$RAW/cap-get.$i.txt" 2>&1
		cap_end "cap-get.$i"
		r=$(grep '^BENCH ' "$RAW/cap-get.$i.txt") ||
		    fu_die "capacity: wrk gave no result ($RAW/cap-get.$i.txt)"
		n=$(($(field requests "$r") - $(field bad "$r")))
		[ "$n" -gt 0 ] || fu_die "capacity: no download answered 200"
		cap_net "cap-get.$i" "$n" "cap-idle.$i"
		summary "capacity small downloads run $i: $n downloads; $r"

		sync
		cap_begin "cap-large.$i"
		r=$(curl_time "$RAW/cap-large.$i.json" -F "upfile=@$big" "$URL")
		cap_end "cap-large.$i"
		read -r code _ _ secs <<<"$r"
		[ "$code" = 201 ] || fu_die "capacity: large upload run $i: HTTP $code"
		cap_net "cap-large.$i" "$big_bytes" "cap-idle.$i"
		summary "capacity large upload run $i: $(mbps "$big_bytes" "$secs") MB/s"

		cap_begin "cap-largeget.$i"
		r=$(curl_time /dev/null "$URL/$big_hash/content")
		cap_end "cap-largeget.$i"
		read -r code _ _ secs <<<"$r"
		[ "$code" = 200 ] || fu_die "capacity: large download run $i: HTTP $code"
		cap_net "cap-largeget.$i" "$big_bytes" "cap-idle.$i"
		summary "capacity large download run $i: $(mbps "$big_bytes" "$secs") MB/s"
		curl -sS -o /dev/null -X DELETE "$URL/$big_hash"
		[ "$BENCH_S3" -eq 0 ] || s3_gc
	done
	CAP_UPLOADS=$(median "${u[@]}")
	CAP_GROUPS=$(cap_roots | awk '{ printf "%s%s", (NR > 1 ? " " : ""), $1 }')
}

# cap_ms PHASE GROUP: the group's median CPU per unit, in ms (small
# requests); cap_sgb PHASE GROUP: in CPU-seconds per GB (large files).
cap_ms() {
	awk -v v="$(cap_median "$1" "cpu.$2")" 'BEGIN { printf "%.3f", v * 1000 }'
}
cap_sgb() {
	awk -v v="$(cap_median "$1" "cpu.$2")" 'BEGIN { printf "%.2f", v * 1e9 }'
}
# cap_row LABEL FN PHASE: one row of the CPU table, a column per group and
# the total.
cap_row() {
	local g v t=0
	printf '| %s |' "$1"
	for g in $CAP_GROUPS; do
		v=$("$2" "$3" "$g")
		t=$(awk -v a="$t" -v b="$v" 'BEGIN { print a + b }')
		printf ' %s |' "$v"
	done
	printf ' %s |\n' "$(awk -v t="$t" -v f="$2" 'BEGIN { printf (f == "cap_ms" ? "%.3f" : "%.2f"), t }')"
}
# Store requests that belong to no request: the health probe of each
# metrics scrape (stat_bucket) and each worker's sweep every minute
# (list_bucket, list_bucket_multiparts).  Left out of the per-request
# counts, shown apart.
CAP_BG_OPS='^op\.(stat_bucket|list_bucket|list_bucket_multiparts)$'

# cap_ops PHASE SCALE [bg]: the store's requests per unit (times SCALE),
# from RGW's ops log, "operation N" joined by commas, averaged over the
# runs; bg: the background ones instead.
cap_ops() {
	local i
	for i in $(seq 1 "$RUNS"); do
		cat "$RAW/$1.$i.per"
	done | awk -v runs="$RUNS" -v k="$2" -v bg="${3:-}" -v re="$CAP_BG_OPS" '
	    $1 ~ /^op\./ && (($1 ~ re) == (bg != "")) { n[substr($1, 4)] += $2 / runs }
	    END { for (o in n) printf "%s %.2f\n", o, n[o] * k }' | sort |
	    awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2 } END { if (!NR) printf "none" }'
}
# cap_opsum PHASE COLUMN: the ops log's requests (2), bytes in (3) or
# bytes out (4) per unit, summed over the operations but the background
# ones (median over the runs).
cap_opsum() {
	local i
	for i in $(seq 1 "$RUNS"); do
		awk -v c="$2" -v re="$CAP_BG_OPS" '$1 ~ /^op\./ && $1 !~ re { s += $c }
		    END { printf "%.6g\n", s }' "$RAW/$1.$i.per"
	done | cap_med
}
# cap_wops PHASE: the worker's store requests per unit by its own count
# (fileupload_s3_requests_total, by op and result; the closing scrape's
# health probe is one head in it).
cap_wops() {
	local i
	for i in $(seq 1 "$RUNS"); do
		cat "$RAW/$1.$i.per"
	done | awk -v runs="$RUNS" '$1 ~ /^fileupload_s3_requests_total/ && $2 > 0 {
	    k = $1; sub(/^[^{]*\{op=/, "", k); sub(/,result=/, " ", k); sub(/\}$/, "", k)
	    n[k] += $2 / runs }
	    END { for (o in n) printf "%s %.2f\n", o, n[o] }' | sort |
	    awk '{ printf "%s%s%s %s", (NR > 1 ? ", " : ""), $1, ($2 == "ok" ? "" : " (" $2 ")"), $3 }
	    END { if (!NR) printf "none" }'
}
# cap_wb PHASE: bytes written to storage per unit by each group with any,
# "group N" joined by commas.
cap_wb() {
	local g v out=
	for g in $CAP_GROUPS; do
		v=$(cap_median "$1" "wb.$g")
		awk -v v="$v" 'BEGIN { exit !(v >= 0.005) }' || continue
		out="$out${out:+, }$g $(awk -v v="$v" 'BEGIN { printf (v >= 100 ? "%.0f" : "%.2f"), v }')"
	done
	printf '%s\n' "${out:-none}"
}
# cap_sum PHASE GROUPS...: the groups' median CPU per unit, summed.
cap_sum() {
	local p=$1 g t=0
	shift
	for g in "$@"; do
		t=$(awk -v a="$t" -v b="$(cap_median "$p" "cpu.$g")" 'BEGIN { print a + b }')
	done
	printf '%s\n' "$t"
}

# fig_capacity_table: the section "capacity" of table.md: the measured
# costs, then the model.
# shellcheck disable=SC2153  # set by fig_capacity, ceil_db and the stack
fig_capacity_table() {
	local store rate=${BENCH_CAP_UPLOADS:-10000} gbs=${BENCH_CAP_GBS:-10}
	local util=${BENCH_CAP_UTIL:-0.7} g xids wk ng pg rgw osd ops
	local wkl ngl rgwl osdl bin bosd opsl

	store=local
	[ "$BENCH_S3" -eq 0 ] || store="s3 (Ceph RGW, one bluestore OSD, path style, parts of $((${S3_PART_SIZE:-8388608} >> 20)) MiB)"
	echo
	echo "## capacity: CPU-seconds per request, STORAGE=$store"
	echo
	echo "utime + stime (+ reaped children) of each process group, net of"
	echo "the stack's idle rate, medians of $RUNS run(s); small uploads: wrk,"
	echo "$CONNS connections, ${SECS} s, 4 KiB $CONTENT ($(fmt "$CAP_UPLOADS") uploads in the"
	echo "median run); downloads of one 4 KiB file (content route), same"
	echo "connections; large: $LARGE_MIB MiB up (curl -F) and down, one at a time."
	echo
	printf '| per request |'
	for g in $CAP_GROUPS; do printf ' %s |' "$g"; done
	echo ' total |'
	printf '|---|'
	for g in $CAP_GROUPS; do printf -- '---|'; done
	echo '---|'
	cap_row "small upload, CPU ms" cap_ms cap-small
	cap_row "small download, CPU ms" cap_ms cap-get
	cap_row "large upload, CPU s per GB" cap_sgb cap-large
	cap_row "large download, CPU s per GB" cap_sgb cap-largeget
	printf '| idle, CPU ms per s |'
	for g in $CAP_GROUPS; do
		awk -v c="$(cap_median cap-idle "cpu.$g")" 'BEGIN { printf " %.1f |", c * 1000 }'
	done
	echo ' |'
	echo
	xids=$(cap_median cap-small xids)
	echo "| per request | measured |"
	echo "|---|---|"
	echo "| small upload: PostgreSQL commits that wrote (transaction ids; autovacuum's included); WAL bytes | $(printf '%.2f; %.0f' "$xids" "$(cap_median cap-small walbytes)") |"
	echo "| small upload: SQL statements ($CAP_SAMPLE one at a time, log_statement = all) | $CAP_STMTS |"
	if [ "$BENCH_S3" -eq 1 ]; then
		echo "| small upload: store requests (RGW ops log) | $(cap_ops cap-small 1) |"
		echo "| small upload: store requests (the worker's fileupload_s3_requests_total) | $(cap_wops cap-small) |"
	fi
	echo "| small upload: page cache dirtied, bytes (/proc/PID/io write_bytes: by page as it turns dirty, so a page written again after its flush counts again) | $(cap_wb cap-small) |"
	echo "| small download: SQL statements ($CAP_SAMPLE one at a time) | $CAP_STMTS_GET |"
	if [ "$BENCH_S3" -eq 1 ]; then
		echo "| small download: store requests (RGW ops log) | $(cap_ops cap-get 1) |"
		echo "| small download: store requests (the worker's) | $(cap_wops cap-get) |"
	else
		echo "| small download: store requests | none (nginx sends the file) |"
	fi
	echo "| large upload: page cache dirtied per byte (write_bytes) | $(cap_wb cap-large) |"
	if [ "$BENCH_S3" -eq 1 ]; then
		echo "| large upload / download: bytes into RGW per byte (ops log) | $(printf '%.3f / %.3f' "$(cap_opsum cap-large 3)" "$(cap_opsum cap-largeget 3)") |"
		echo "| large upload / download: bytes out of RGW per byte | $(printf '%.3f / %.3f' "$(cap_opsum cap-large 4)" "$(cap_opsum cap-largeget 4)") |"
		echo "| large upload: store requests per $LARGE_MIB MiB upload (ops log) | $(cap_ops cap-large "$big_bytes") |"
		echo "| large download: store requests per $LARGE_MIB MiB download (ops log) | $(cap_ops cap-largeget "$big_bytes") |"
		echo "| background store requests per phase (not counted above) | idle $(cap_ops cap-idle "$SECS" bg) per ${SECS} s; small uploads $(cap_ops cap-small "$CAP_UPLOADS" bg) |"
	fi
	echo "| PostgreSQL single-row INSERT commits/s on this machine (pgbench -c $CONNS / -c $POOL_CONC) | $(fmt "$PG_TPS") / $(fmt "$PG_TPS_W") |"
	echo
	echo "System calls of the workers over the $CAP_SAMPLE sample uploads (strace -c -f; per upload):"
	echo
	if [ -s "$RAW/cap-syscalls.txt" ]; then
		awk -v n="$CAP_SAMPLE" '$1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" {
		    printf "%s %.2f\n", $NF, $4 / n }' "$RAW/cap-syscalls.txt" |
		    sort -k2,2gr | awk '$2 >= 0.05 { w = $1 " " $2
		        if (l != "" && length(l) + length(w) > 66) { print "    " l ","; l = "" }
		        l = l (l != "" ? ", " : "") w }
		    END { if (l != "") print "    " l }'
	else
		echo "    (strace not installed)"
	fi
	echo

	wk=$(cap_sum cap-small worker)
	ng=$(cap_sum cap-small nginx)
	pg=$(cap_sum cap-small postgres)
	rgw=$(cap_sum cap-small radosgw)
	osd=$(cap_sum cap-small ceph-osd ceph-mon)
	wkl=$(cap_sum cap-large worker)
	ngl=$(cap_sum cap-large nginx)
	rgwl=$(cap_sum cap-large radosgw)
	osdl=$(cap_sum cap-large ceph-osd ceph-mon)
	ops=0 opsl=0 bin=0 bosd=0
	if [ "$BENCH_S3" -eq 1 ]; then
		ops=$(cap_opsum cap-small 2)
		opsl=$(cap_opsum cap-large 2)
		bin=$(cap_opsum cap-large 3)
		bosd=$(cap_median cap-large wb.ceph-osd)
	fi
	awk -v rate="$rate" -v gbs="$gbs" -v util="$util" -v wk="$wk" -v ng="$ng" \
	    -v pg="$pg" -v rgw="$rgw" -v osd="$osd" -v ops="$ops" -v xids="$xids" \
	    -v wkl="$wkl" -v ngl="$ngl" -v rgwl="$rgwl" -v osdl="$osdl" -v bin="$bin" \
	    -v bosd="$bosd" -v opsl="$opsl" -v pgtps="$PG_TPS" -v s3="$BENCH_S3" \
	    -v mib="$LARGE_MIB" '
	function hosts(cores) { c = cores / (2 * util); return (c == int(c)) ? c : int(c) + 1 }
	BEGIN {
	    g = gbs * 1e9
	    printf "Model: the costs above times the rate, linear (hosts of 2 cores planned %.0f%% busy):\n\n", util * 100
	    printf "| need | %s small uploads/s | %s GB/s of large uploads (files of %d MiB) |\n", rate, gbs, mib
	    print "|---|---|---|"
	    printf "| worker processes, cores | %.1f | %.1f |\n", rate * wk, g * wkl
	    printf "| nginx, cores | %.1f | %.1f |\n", rate * ng, g * ngl
	    printf "| worker hosts (nginx + workers on each), 2 cores | %d | %d |\n",
	        hosts(rate * (wk + ng)), hosts(g * (wkl + ngl))
	    printf "| one core (nginx + workers) serves | %.0f uploads/s | %.0f MB/s |\n",
	        1 / (wk + ng), 1 / (wkl + ngl) / 1e6
	    printf "| PostgreSQL commits/s that wrote | %.0f (%.2fx the INSERT commits/s measured here) | %.1f |\n",
	        rate * xids, rate * xids / pgtps, g / (mib * 1048576) * xids
	    printf "| PostgreSQL, cores | %.1f | %.2f |\n", rate * pg, g / (mib * 1048576) * pg
	    if (s3) {
	        printf "| RGW requests/s | %.0f | %.0f |\n", rate * ops, g * opsl
	        printf "| radosgw, cores | %.1f | %.1f |\n", rate * rgw, g * rgwl
	        printf "| ceph-osd + ceph-mon, cores (one replica) | %.1f | %.1f |\n", rate * osd, g * osdl
	        printf "| store hosts (radosgw + OSD on each), 2 cores, one replica | %d | %d |\n",
	            hosts(rate * (rgw + osd)), hosts(g * (rgwl + osdl))
	        printf "| bytes into RGW; written by the OSDs (one replica) | - | %.1f GB/s; %.1f GB/s |\n",
	            gbs * bin, gbs * bosd
	    }
	}'
}

# fig_capacity_alone: table.md of a run of this figure alone.
fig_capacity_alone() {
	LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
	{
		echo "# fileupload benchmark, $stamp (capacity figure alone)"
		echo
		sed 's/^/    /' "$RES/env.txt"
		echo "    load average (1, 5, 15 min): $LOAD_START at start, $LOAD_END at end"
		fig_capacity_table
	} >"$RES/table.md"
	cat "$RES/table.md"
	echo
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	# shellcheck source=tests/bench/stack.sh
	. "$(dirname "${BASH_SOURCE[0]}")/stack.sh"
	# shellcheck source=tests/bench/ceilings.sh
	. "$BENCH/ceilings.sh"
	# shellcheck source=tests/bench/fig_s3.sh
	. "$BENCH/fig_s3.sh"
	bench_standalone fig_capacity fig_capacity_alone -- "$@"
fi
