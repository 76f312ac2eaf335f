#!/usr/bin/env bash
#
# tests/bench/fig_download.sh: figure 5 of run.sh, the download of the
# large file (content route) next to nginx sendfile of the same file (its
# ceiling): MB/s, 3 transfers of each per run, alternated.
#
#	sudo tests/bench/fig_download.sh [--quick] [--peer URL [--peer-pids FILE]]
#
# Run by itself, it starts a private stack for this figure alone and
# uploads the large file first (see run.sh for the options and the
# environment; with --peer, the peer needs fig_large.sh's copy: use run.sh).
set -euo pipefail

# fig_download: the stored large file ($big_hash; the peer's
# $PEER_BIG_HASH).  Sets DL_MBS, SF_MBS (and PDL_MBS for the peer).
fig_download() {
	local i r code size secs
	local -a dl=() sf=() pdl=()

	bench_need_big
	fu_log "5. download of the large file, and nginx sendfile (ceiling)"
	ln "$big" "$CEIL/www/big.bin"
	curl -sS -o /dev/null "$URL/$big_hash/content"
	[ -z "$PEER" ] || curl -sS -o /dev/null "$PURL/$PEER_BIG_HASH/content"
	curl -sS -o /dev/null "$CURL/static/big.bin"
	# A transfer takes well under a second: each run is 3 of each,
	# alternated (ours, nginx's, the peer's), and the figure is the
	# median of all of them.
	for i in $(seq 1 "$((RUNS * 3))"); do
		r=$(curl_time /dev/null "$URL/$big_hash/content")
		read -r code _ size secs <<<"$r"
		[ "$code" = 200 ] || fu_die "download run $i: HTTP $code"
		[ "$size" = "$big_bytes" ] || fu_die "download run $i: $size bytes"
		dl+=("$(mbps "$size" "$secs")")
		r=$(curl_time /dev/null "$CURL/static/big.bin")
		read -r code _ size secs <<<"$r"
		[ "$code" = 200 ] || fu_die "sendfile run $i: HTTP $code"
		[ "$size" = "$big_bytes" ] || fu_die "sendfile run $i: $size bytes"
		sf+=("$(mbps "$size" "$secs")")
		if [ -n "$PEER" ]; then
			r=$(curl_time /dev/null "$PURL/$PEER_BIG_HASH/content")
			read -r code _ size secs <<<"$r"
			[ "$code" = 200 ] || fu_die "peer download run $i: HTTP $code"
			[ "$size" = "$big_bytes" ] || fu_die "peer download run $i: $size bytes"
			pdl+=("$(mbps "$size" "$secs")")
			summary "peer download $i: ${pdl[-1]} MB/s"
		fi
		summary "download $i: ${dl[-1]} MB/s; nginx sendfile ${sf[-1]} MB/s"
	done
	DL_MBS=$(median "${dl[@]}")
	[ -z "$PEER" ] || PDL_MBS=$(median "${pdl[@]}")
	SF_MBS=$(median "${sf[@]}")
	rm -f "$CEIL/www/big.bin"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	# shellcheck source=tests/bench/stack.sh
	. "$(dirname "${BASH_SOURCE[0]}")/stack.sh"
	bench_standalone fig_download -- "$@"
fi
