#!/usr/bin/env bash
#
# tests/bench/fig_list.sh: figure 3 of run.sh, the list: LIST_ROWS rows
# loaded with SQL, the whole list with curl: rows/s and the serving
# worker's peak RSS growth.  With --peer and no SQL access to the peer's
# database, fig_list_api compares both lists on rows uploaded through each
# API instead (run.sh runs it before the small uploads).
#
#	sudo tests/bench/fig_list.sh [--quick] [--peer URL [--peer-pids FILE]]
#
# Run by itself, it starts a private stack for this figure alone (see
# run.sh for the options and the environment).
set -euo pipefail

# fig_list_api: with --peer and PEER_SQL=0, the side-by-side list on the
# same number of rows uploaded through each API: before the upload runs
# our store is empty; the peer's may not be (earlier runs' uploads stay),
# so ours gets as many more as the peer holds already.  Sets PLI_*.
fig_list_api() {
	local i peer_rows api_rows
	local -a ali=() alirss=() pli=() plirss=()

	[ -n "$PEER" ] && [ "$PEER_SQL" -eq 0 ] || return 0
	curl -sS -o "$FU_VAR/work/list.json" "$PURL"
	peer_rows=$(($(grep -o '"file_hash"' "$FU_VAR/work/list.json" | wc -l) + PEER_LIST_ROWS))
	fu_log "3'. list side by side: $PEER_LIST_ROWS rows through the peer's API" \
	    "($peer_rows in all), $peer_rows through ours"
	api_upload_rows "$PURL" "$PEER_LIST_ROWS"
	api_upload_rows "$URL" "$peer_rows"
	api_rows=$(psql_fu -tAc 'SELECT count(*) FROM files')
	list_check api-list "$URL" "$api_rows"
	list_check peer-list "$PURL" "$peer_rows"
	for i in $(seq 1 "$RUNS"); do
		list_once api-list "$i" "$URL" "$api_rows" ours
		ali+=("$L_RPS") alirss+=("$L_RSS")
		list_once peer-list "$i" "$PURL" "$peer_rows" peer
		pli+=("$L_RPS") plirss+=("${L_RSS:-0}")
	done
	PLI_OURS=$(median "${ali[@]}") PLI_OURS_RSS=$(maxof "${alirss[@]}")
	PLI_PEER=$(median "${pli[@]}") PLI_PEER_RSS=$([ -z "$PEER_PIDS" ] || maxof "${plirss[@]}")
	PLI_OURS_ROWS=$api_rows PLI_PEER_ROWS=$peer_rows
}

# list_load: LIST_ROWS rows more in the files table; sets $rows (all of
# them).
list_load() {
	fu_log "3. list: loading $LIST_ROWS rows with SQL"
	psql_fu -c "INSERT INTO files (file_hash, file_name, file_type, file_size)
	    SELECT md5('bench' || i) || md5('bench-' || i), 'bench-' || i || '.txt',
	    'text/plain', i FROM generate_series(1, $LIST_ROWS) AS i" \
	    -c 'VACUUM ANALYZE files' >/dev/null
	rows=$(psql_fu -tAc 'SELECT count(*) FROM files')
}

# list_warm: every worker serves pages, then one whole list, which must
# hold $rows rows and end the JSON array.
list_warm() {
	local r got tail_bytes

	for _ in $(seq 1 $((WORKERS * 2))); do
		curl -sS -o /dev/null "$URL?limit=10000"
	done
	r=$(curl_time "$FU_VAR/work/list.json" "$URL")
	got=$(grep -o '"file_hash"' "$FU_VAR/work/list.json" | wc -l)
	tail_bytes=$(tail -c 2 "$FU_VAR/work/list.json" | od -An -c | tr -d ' ')
	summary "list warm-up: $r; $got of $rows rows; ends with '$tail_bytes'"
	if [ "$got" != "$rows" ] || [ "$tail_bytes" != ']\n' ]; then
		fu_die "the list is incomplete: $got of $rows rows"
	fi
	rm -f "$FU_VAR/work/list.json"
}

# fig_list: sets LI_RPS, LI_RSS, $rows (and PLI_* with the peer's rows
# loaded by SQL).
fig_list() {
	local i peer_rows
	local -a li=() lirss=() pli=() plirss=()

	list_load
	list_warm
	if [ -n "$PEER" ] && [ "$PEER_SQL" -eq 1 ]; then
		# The same rows in the peer's table (same columns; its own
		# hashes, so that repeated runs never collide), removed again on
		# exit.
		fu_log "3. list: loading $LIST_ROWS rows into the peer's database with SQL"
		PEER_LIST_LOADED=1
		psql_peer -c "INSERT INTO files (file_hash, file_name, file_type, file_size)
		    SELECT md5('$nonce' || i) || md5('$nonce-' || i),
		    'benchlist-$nonce-' || i || '.txt', 'text/plain', i
		    FROM generate_series(1, $LIST_ROWS) AS i" -c 'VACUUM ANALYZE files' >/dev/null
		peer_rows=$(psql_peer -tAc 'SELECT count(*) FROM files')
		list_check peer-list "$PURL" "$peer_rows"
	fi
	for i in $(seq 1 "$RUNS"); do
		list_once list "$i" "$URL" "$rows" ours
		li+=("$L_RPS")
		lirss+=("$L_RSS")
		[ -n "$PEER" ] || continue
		[ "$PEER_SQL" -eq 1 ] || continue
		list_once peer-list "$i" "$PURL" "$peer_rows" peer
		pli+=("$L_RPS")
		plirss+=("${L_RSS:-0}")
	done
	if [ -n "$PEER" ] && [ "$PEER_SQL" -eq 1 ]; then
		PLI_OURS=$(median "${li[@]}") PLI_OURS_RSS=$(maxof "${lirss[@]}")
		PLI_PEER=$(median "${pli[@]}")
		PLI_PEER_RSS=$([ -z "$PEER_PIDS" ] || maxof "${plirss[@]}")
		PLI_OURS_ROWS=$rows PLI_PEER_ROWS=$peer_rows
	fi
	LI_RPS=$(median "${li[@]}")
	LI_RSS=$(maxof "${lirss[@]}")
	[ "$HWM_RESET" -eq 1 ] ||
	    summary "warning: /proc/PID/clear_refs refused; RSS growth not measured"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	# shellcheck source=tests/bench/stack.sh
	. "$(dirname "${BASH_SOURCE[0]}")/stack.sh"
	bench_standalone fig_list_api fig_list -- "$@"
fi
