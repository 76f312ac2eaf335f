#!/usr/bin/env bash
#
# tests/bench/fig_download.sh: figure 5 of run.sh, the download of the
# large file (content route) next to nginx sendfile of the same file (its
# ceiling): MB/s, 3 transfers of each per run, alternated.
#
# With --link (BENCH_LINK=1), the same downloads again through share links
# (POST .../links: no token, the worker checks the link's HMAC-SHA256 and
# its expiry first), alternated with the plain content route in one run:
# the large file's MB/s, and, on one small stored file (4 KiB, wrk
# status.lua, CONNS connections, SECS, RUNS runs of each, their order
# swapped every other run), the CPU time per request of the stack (nginx,
# the workers, PostgreSQL: utime + stime with reaped children, as
# fig_capacity.sh counts them) and of the workers alone.  CPU time per
# request rather than req/s: on a machine shared with other work, the
# others' load moves rates far more than the stack's own CPU time.
# The target: a link costs at most 3 % more.
#
#	sudo tests/bench/fig_download.sh [--quick] [--link] [--peer URL [--peer-pids FILE]]
#
# Run by itself, it starts a private stack for this figure alone and
# uploads the large file first (see run.sh for the options and the
# environment; with --peer, the peer needs fig_large.sh's copy: use run.sh).
set -euo pipefail

# bench_link HASH: a share link to HASH for a week, as a full URL.
bench_link() {
	local path
	path=$(curl -sS -X POST -H 'Content-Type: application/json' \
	    --data-binary '{"expires_in":604800}' "$URL/$1/links" | jq -r .url)
	case $path in
	/service/fileupload/*) printf '%s%s\n' "${URL%/service/fileupload}" "$path" ;;
	*) fu_die "no share link for $1 (POST .../links answered $path)" ;;
	esac
}

# big_mbs WHAT URL: one download of the large file from URL, in MB/s
# (dies, naming WHAT, unless it is 200 and whole).
big_mbs() {
	local r code size secs
	r=$(curl_time /dev/null "$2")
	read -r code _ size secs <<<"$r"
	[ "$code" = 200 ] || fu_die "$1: HTTP $code"
	[ "$size" = "$big_bytes" ] || fu_die "$1: $size bytes"
	mbps "$size" "$secs"
}

# fig_download: the stored large file ($big_hash; the peer's
# $PEER_BIG_HASH).  Sets DL_MBS, SF_MBS (and PDL_MBS for the peer, LDL_MBS
# through a share link with --link).
fig_download() {
	local i link=
	local -a dl=() sf=() pdl=() ldl=()

	bench_need_big
	fu_log "5. download of the large file, and nginx sendfile (ceiling)"
	ln "$big" "$CEIL/www/big.bin"
	curl -sS -o /dev/null "$URL/$big_hash/content"
	[ "$BENCH_LINK" -eq 0 ] || link=$(bench_link "$big_hash")
	[ -z "$PEER" ] || curl -sS -o /dev/null "$PURL/$PEER_BIG_HASH/content"
	curl -sS -o /dev/null "$CURL/static/big.bin"
	# A transfer takes well under a second: each run is 3 of each,
	# alternated (ours, nginx's, the peer's), and the figure is the
	# median of all of them.
	for i in $(seq 1 "$((RUNS * 3))"); do
		dl+=("$(big_mbs "download run $i" "$URL/$big_hash/content")")
		sf+=("$(big_mbs "sendfile run $i" "$CURL/static/big.bin")")
		if [ -n "$PEER" ]; then
			pdl+=("$(big_mbs "peer download run $i" \
			    "$PURL/$PEER_BIG_HASH/content")")
			summary "peer download $i: ${pdl[-1]} MB/s"
		fi
		if [ -n "$link" ]; then
			ldl+=("$(big_mbs "link download run $i" "$link")")
			summary "download $i through a share link: ${ldl[-1]} MB/s"
		fi
		summary "download $i: ${dl[-1]} MB/s; nginx sendfile ${sf[-1]} MB/s"
	done
	DL_MBS=$(median "${dl[@]}")
	[ -z "$link" ] || LDL_MBS=$(median "${ldl[@]}")
	[ -z "$PEER" ] || PDL_MBS=$(median "${pdl[@]}")
	SF_MBS=$(median "${sf[@]}")
	rm -f "$CEIL/www/big.bin"
	[ "$BENCH_LINK" -eq 0 ] || fig_download_link
}

# link_ticks G0 G1 [REQUESTS SECONDS]: from two cap_groups files, "REQUESTS
# stack_ticks worker_ticks SECONDS" (the stack: nginx, workers, PostgreSQL).
link_ticks() {
	awk -v n="${3:-0}" -v secs="${4:-0}" 'FNR == NR { t[$1] = $2; next }
	    $1 == "nginx" || $1 == "worker" || $1 == "postgres" { s += $2 - t[$1] }
	    $1 == "worker" { w = $2 - t[$1] }
	    END { print n, s, w, secs }' "$1" "$2"
}

# link_cpu_run NAME I URL: wrk run I of URL (status.lua) with the stack's
# CPU ticks around it; appends link_ticks' line to $RAW/NAME.cpu.
link_cpu_run() {
	local name=$1 i=$2 url=$3
	cap_groups >"$RAW/$name.$i.g0"
	wrk_once "$name" "$i" "$url" "$BENCH/status.lua" 200
	cap_groups >"$RAW/$name.$i.g1"
	[ "$(field bad "$W_LINE")$(field socket_errors "$W_LINE")" = 00 ] ||
	    fu_die "$name run $i: unexpected answers ($W_LINE)"
	link_ticks "$RAW/$name.$i.g0" "$RAW/$name.$i.g1" \
	    "$(field requests "$W_LINE")" "$(field seconds "$W_LINE")" \
	    >>"$RAW/$name.cpu"
}

# link_cpu_us NAME COLUMN: the median over NAME's runs of CPU microseconds
# per request (COLUMN 2: the stack, 3: the workers), net of what the
# stack spends idle ($RAW/idle.cpu: its timers, PostgreSQL's background
# processes), which would otherwise weigh more on a slower run.
link_cpu_us() {
	local hz
	local -a us
	hz=$(getconf CLK_TCK)
	mapfile -t us < <(awk -v c="$2" -v hz="$hz" 'FNR == NR { idle = $c / $4; next }
	    { printf "%.1f\n", ($c - idle * $4) / hz * 1e6 / $1 }' \
	    "$RAW/idle.cpu" "$RAW/$1.cpu")
	median "${us[@]}"
}

# link_cpu_diff COLUMN: the mean over the runs of link minus plain CPU
# microseconds per request (each pair of runs adjacent in time, so that
# the machine's changing load weighs on both alike), net of idle.
link_cpu_diff() {
	local hz
	hz=$(getconf CLK_TCK)
	paste -d' ' "$RAW/dl-plain.cpu" "$RAW/dl-link.cpu" |
	    awk -v c="$1" -v hz="$hz" 'FNR == NR { idle = $c / $4; next }
	    { p = ($c - idle * $4) / hz * 1e6 / $1
	      l = ($(c + 4) - idle * $8) / hz * 1e6 / $5; d += l - p; n++ }
	    END { printf "%.1f\n", n ? d / n : 0 }' "$RAW/idle.cpu" -
}

# fig_download_link: the small file's downloads, plain and through a link,
# alternated (see the header).  Sets PLAIN_US, LINK_US (the stack's CPU
# microseconds per request), PLAIN_WUS, LINK_WUS (the workers'), PLAIN_RPS,
# LINK_RPS, DIFF_US, DIFF_WUS (link_cpu_diff: the stack's, the workers')
# and CHECK_NS: the check alone (link_check.c), nanoseconds.
fig_download_link() {
	local link i
	local -a prps=() lrps=()

	fu_log "5b. downloads of a small file, plain and through a share link"
	# 4 KiB of its own: the first stored row may be the large file.
	head -c 4096 /dev/urandom >"$FU_VAR/work/small.bin"
	hash=$(b2sum -l 256 "$FU_VAR/work/small.bin" | cut -d' ' -f1)
	curl -sS -o /dev/null -F "upfile=@$FU_VAR/work/small.bin" "$URL"
	link=$(bench_link "$hash")
	rm -f "$RAW/dl-plain.cpu" "$RAW/dl-link.cpu"
	# The check alone, in a loop (CPU time of its thread).
	gcc -O2 -Wall -I"$FU_ROOT/src" -o "$BIN/link_check" \
	    "$BENCH/link_check.c" "$FU_ROOT/src/links.c" "$FU_ROOT/src/num.c" \
	    -lsodium
	CHECK_NS=$("$BIN/link_check" 1000000 | sed -n 's/^link_check_ns //p')
	# The stack at rest, for link_cpu_us.
	sleep 1
	cap_groups >"$RAW/idle.g0"
	date +%s.%N >"$RAW/idle.t0"
	sleep "$SECS"
	cap_groups >"$RAW/idle.g1"
	link_ticks "$RAW/idle.g0" "$RAW/idle.g1" 0 "$(awk -v t0="$(cat "$RAW/idle.t0")" \
	    -v t1="$(date +%s.%N)" 'BEGIN { printf "%.3f", t1 - t0 }')" >"$RAW/idle.cpu"
	wrk -t"$WRK_THREADS" -c"$CONNS" -d2s -s "$BENCH/status.lua" \
	    "$URL/$hash/content" >"$RAW/dl-plain.warmup.txt" 2>&1
	wrk -t"$WRK_THREADS" -c"$CONNS" -d2s -s "$BENCH/status.lua" \
	    "$link" >"$RAW/dl-link.warmup.txt" 2>&1
	for i in $(seq 1 "$RUNS"); do
		if [ $((i % 2)) -eq 1 ]; then
			link_cpu_run dl-plain "$i" "$URL/$hash/content"
			prps+=("$(field rps "$W_LINE")")
			link_cpu_run dl-link "$i" "$link"
			lrps+=("$(field rps "$W_LINE")")
		else
			link_cpu_run dl-link "$i" "$link"
			lrps+=("$(field rps "$W_LINE")")
			link_cpu_run dl-plain "$i" "$URL/$hash/content"
			prps+=("$(field rps "$W_LINE")")
		fi
	done
	PLAIN_US=$(link_cpu_us dl-plain 2)
	LINK_US=$(link_cpu_us dl-link 2)
	PLAIN_WUS=$(link_cpu_us dl-plain 3)
	LINK_WUS=$(link_cpu_us dl-link 3)
	PLAIN_RPS=$(median "${prps[@]}")
	LINK_RPS=$(median "${lrps[@]}")
	DIFF_US=$(link_cpu_diff 2)
	DIFF_WUS=$(link_cpu_diff 3)
	summary "small download CPU per request: plain ${PLAIN_US} us (workers ${PLAIN_WUS} us), through a link ${LINK_US} us (workers ${LINK_WUS} us); req/s plain ${PLAIN_RPS}, link ${LINK_RPS}; the check alone ${CHECK_NS} ns"
	fig_download_link_table >>"$RES/summary.txt"
	# Alone, the run's table; run.sh writes its own, with these rows.
	{
		echo "# fileupload benchmark, $stamp (download through share links)"
		echo
		sed 's/^/    /' "$RES/env.txt"
		echo
		echo "| figure | value | ceiling | ratio | target | result |"
		echo "|---|---|---|---|---|---|"
		echo "| download, $LARGE_MIB MiB, content route | $(fmt "$DL_MBS") MB/s | nginx sendfile $(fmt "$SF_MBS") MB/s | $(ratio "$DL_MBS" "$SF_MBS") | | |"
		fig_download_link_table
	} >"$RES/table.md"
}

# fig_download_link_table: the --link rows of table.md.
fig_download_link_table() {
	local r
	r=$(ratio "$LINK_US" "$PLAIN_US")
	echo "| ↳ the same through a share link | $(fmt "$LDL_MBS") MB/s | content route $(fmt "$DL_MBS") MB/s | $(ratio "$LDL_MBS" "$DL_MBS") | | |"
	echo "| small download through a share link, CPU per request (nginx + workers + PostgreSQL, net of idle) | ${LINK_US} µs (workers ${LINK_WUS} µs; $(fmt "$LINK_RPS") req/s) | content route with no token ${PLAIN_US} µs (workers ${PLAIN_WUS} µs; $(fmt "$PLAIN_RPS") req/s) | $r | <= 1.03 | $(awk -v a="$r" 'BEGIN { print (a <= 1.03) ? "PASS" : "MISS" }') |"
	echo "| ↳ link minus plain, pairs of runs adjacent in time (mean) | +${DIFF_US} µs (workers +${DIFF_WUS} µs) | content route ${PLAIN_US} µs | $(awk -v d="$DIFF_US" -v p="$PLAIN_US" 'BEGIN { printf "%.3f", 1 + d / p }') | <= 1.03 | $(awk -v d="$DIFF_US" -v p="$PLAIN_US" 'BEGIN { print (1 + d / p <= 1.03) ? "PASS" : "MISS" }') |"
	echo "| ↳ the check alone (link_check.c, a loop), per request | $(awk -v n="$CHECK_NS" 'BEGIN { printf "%.2f µs", n / 1000 }') | content route ${PLAIN_US} µs | $(awk -v n="$CHECK_NS" -v p="$PLAIN_US" 'BEGIN { printf "%.3f", n / 1000 / p }') | <= 0.03 | $(awk -v n="$CHECK_NS" -v p="$PLAIN_US" 'BEGIN { print (n / 1000 / p <= 0.03) ? "PASS" : "MISS" }') |"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	# shellcheck source=tests/bench/stack.sh
	. "$(dirname "${BASH_SOURCE[0]}")/stack.sh"
	# shellcheck source=tests/bench/fig_capacity.sh
	. "$BENCH/fig_capacity.sh"
	bench_standalone fig_download -- "$@"
fi
