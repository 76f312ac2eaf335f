#!/usr/bin/env bash
#
# tests/bench/fig_uploads.sh: figure 1 of run.sh, small uploads: 4 KiB of
# unique content per request (upload.lua, BENCH_UPLOAD_CONTENT), multipart
# POST, wrk: uploads/s, p50/p99, non-201s.  BENCH_FANOUT=1 makes DATA_DIR's
# 65,536 fan-out directories first.
#
#	sudo tests/bench/fig_uploads.sh [--quick] [--peer URL [--peer-pids FILE] [--peer2 URL]]
#
# Run by itself, it starts a private stack for this figure alone (see
# run.sh for the options and the environment).
set -euo pipefail

# fig_uploads: sets UP_RPS, UP_P50, UP_P99, UP_BAD (and PUP_* for the
# peer, QUP_* for the second peer).
fig_uploads() {
	local rows files

	[ "${BENCH_FANOUT:-0}" != 1 ] || bench_fanout
	fu_log "1. small uploads ($CONTENT): $RUNS x ${SECS}s, $CONNS connections${PEER:+, alternating with the peer}"
	PAIR_PEER2=$PURL2 wrk_pair uploads "$URL" "$PURL" "$BENCH/upload.lua" \
	    "$nonce-{run}" 4096 "$CONTENT"
	UP_RPS=$W_RPS UP_P50=$W_P50 UP_P99=$W_P99 UP_BAD=$W_BAD
	[ -z "$PEER" ] || PUP_RPS=$P_RPS PUP_P50=$P_P50 PUP_P99=$P_P99 PUP_BAD=$P_BAD
	[ -z "$PEER2" ] || QUP_RPS=$Q_RPS QUP_P50=$Q_P50 QUP_P99=$Q_P99 QUP_BAD=$Q_BAD
	rows=$(psql_fu -tAc 'SELECT count(*) FROM files')
	files=$(find "$FU_VAR/data" -path "$FU_VAR/data/tmp" -prune -o -type f -print | wc -l)
	summary "uploads: $rows rows, $files stored files after the upload runs"
	[ "$rows" = "$files" ] || fu_log "warning: $rows rows but $files stored files"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	# shellcheck source=tests/bench/stack.sh
	. "$(dirname "${BASH_SOURCE[0]}")/stack.sh"
	bench_standalone fig_uploads -- "$@"
fi
