#!/usr/bin/env bash
#
# tests/bench/fig_get.sh: figure 2 of run.sh, the metadata GET of one
# stored hash (status.lua), wrk: req/s, p99.
#
#	sudo tests/bench/fig_get.sh [--quick] [--peer URL [--peer-pids FILE] [--peer2 URL]]
#
# Run by itself, it starts a private stack for this figure alone and
# uploads the one file it reads (see run.sh for the options and the
# environment).
set -euo pipefail

# fig_get: the first stored file's metadata ($hash); sets GET_RPS,
# GET_P99, GET_BAD (and PGET_* for the peer's $PEER_HASH, QGET_* for the
# second peer's $PEER2_HASH).
fig_get() {
	fu_log "2. metadata GET"
	bench_need_hash
	PAIR_PEER2=${PEER2:+$PURL2/$PEER2_HASH} wrk_pair get "$URL/$hash" \
	    "${PEER:+$PURL/$PEER_HASH}" "$BENCH/status.lua" 200
	GET_RPS=$W_RPS GET_P99=$W_P99 GET_BAD=$W_BAD
	[ -z "$PEER" ] || PGET_RPS=$P_RPS PGET_P99=$P_P99 PGET_BAD=$P_BAD
	[ -z "$PEER2" ] || QGET_RPS=$Q_RPS QGET_P99=$Q_P99 QGET_BAD=$Q_BAD
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	# shellcheck source=tests/bench/stack.sh
	. "$(dirname "${BASH_SOURCE[0]}")/stack.sh"
	bench_standalone fig_get -- "$@"
fi
