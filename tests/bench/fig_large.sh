#!/usr/bin/env bash
#
# tests/bench/fig_large.sh: figure 4 of run.sh, the large upload:
# LARGE_MIB MiB of random bytes with curl -F: MB/s, the worker's own part
# of the time (its log line) and the peak RSS growth of every worker.  The
# file stays stored after the last run (the download's).
#
#	sudo tests/bench/fig_large.sh [--quick] [--peer URL [--peer-pids FILE]]
#
# Run by itself, it starts a private stack for this figure alone (see
# run.sh for the options and the environment).
set -euo pipefail

# fig_large: sets LU_MBS, LU_RSS, LU_WORKER_S, LU_TOTAL_S (and PLU_MBS,
# PLU_RSS for the peer, whose copy is $PEER_BIG_HASH).
fig_large() {
	local i r code secs wms try
	local -a lu=() lrss=() lw=() plu=() plrss=()

	fu_log "4. large upload: $LARGE_MIB MiB of random bytes${PEER:+, alternating with the peer}"
	bench_big_file
	for i in $(seq 1 "$RUNS"); do
		sync
		mem_begin
		cpu_begin
		r=$(curl_time "$RAW/large-upload.$i.json" -F "upfile=@$big" "$URL")
		mem_end >"$RAW/large-upload.$i.mem.txt"
		cpu_end "$RAW/large-upload.$i.mem.txt"
		read -r code _ _ secs <<<"$r"
		if [ "$code" != 201 ] || ! grep -q "\"file_hash\":\"$big_hash\"" \
		    "$RAW/large-upload.$i.json"; then
			fu_die "large upload run $i: HTTP $code $(head -c 300 "$RAW/large-upload.$i.json")"
		fi
		lu+=("$(mbps "$big_bytes" "$secs")")
		lrss+=("$M_MAX")
		# The worker's own time for it (its log line): with buffering
		# on, nginx has the whole body before the worker starts.
		wms=$(grep " POST /service/fileupload 201 .* $big_hash\$" \
		    "$FU_VAR/logs/fileupload.log" | tail -n 1 | awk '{ sub(/ms$/, "", $(NF - 1)); print $(NF - 1) }')
		lw+=("${wms:-0}")
		summary "large upload run $i: ${lu[-1]} MB/s ($secs s; the worker's part ${wms:-?} ms)," \
		    "largest worker peak RSS growth $M_MAX KiB"
		cat "$RAW/large-upload.$i.mem.txt" >>"$RES/summary.txt"
		[ "$i" -eq "$RUNS" ] ||
		    curl -sS -o /dev/null -X DELETE "$URL/$big_hash"
		[ -n "$PEER" ] || continue
		# The same file to the peer.  Its hash is its own (the
		# reference's is not BLAKE2b-256): taken from its answer, and a
		# 403 for the same bytes left by an earlier run deletes them and
		# tries again.
		for try in 1 2; do
			sync
			side_mem_begin peer
			cpu_begin
			r=$(curl_time "$RAW/peer-large-upload.$i.json" -F "upfile=@$big" "$PURL")
			side_mem_end peer "$RAW/peer-large-upload.$i.mem.txt"
			cpu_end "$RAW/peer-large-upload.$i.mem.txt"
			read -r code _ _ secs <<<"$r"
			PEER_BIG_HASH=$(json_hash "$RAW/peer-large-upload.$i.json")
			if [ "$code" != 403 ] || [ "$try" != 1 ] || [ -z "$PEER_BIG_HASH" ]; then
				break
			fi
			curl -sS -o /dev/null -X DELETE "$PURL/$PEER_BIG_HASH"
		done
		if [ "$code" != 201 ] || [ -z "$PEER_BIG_HASH" ]; then
			fu_die "peer large upload run $i: HTTP $code $(head -c 300 "$RAW/peer-large-upload.$i.json")"
		fi
		plu+=("$(mbps "$big_bytes" "$secs")")
		plrss+=("${M_MAX:-0}")
		summary "peer large upload run $i: ${plu[-1]} MB/s ($secs s)," \
		    "largest peer process peak RSS growth ${M_MAX:-?} KiB"
		cat "$RAW/peer-large-upload.$i.mem.txt" >>"$RES/summary.txt"
		[ "$i" -eq "$RUNS" ] ||
		    curl -sS -o /dev/null -X DELETE "$PURL/$PEER_BIG_HASH"
	done
	LU_MBS=$(median "${lu[@]}")
	if [ -n "$PEER" ]; then
		PLU_MBS=$(median "${plu[@]}")
		PLU_RSS=$([ -z "$PEER_PIDS" ] || maxof "${plrss[@]}")
	fi
	LU_RSS=$(maxof "${lrss[@]}")
	LU_WORKER_S=$(awk -v ms="$(median "${lw[@]}")" 'BEGIN { printf "%.1f", ms / 1000 }')
	LU_TOTAL_S=$(awk -v b="$big_bytes" -v r="$LU_MBS" 'BEGIN { printf "%.1f", b / r / 1e6 }')
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	# shellcheck source=tests/bench/stack.sh
	. "$(dirname "${BASH_SOURCE[0]}")/stack.sh"
	bench_standalone fig_large -- "$@"
fi
