#!/usr/bin/env bash
#
# tests/bench/ceilings.sh: the ceilings of run.sh, what this machine allows
# each figure: nginx "return 200" and nginx -> null FastCGI pool (req/s,
# and the same 4 KiB uploads and large upload sent to the null pool);
# PostgreSQL single-row INSERT commits/s and the metadata GET's SELECT
# (pgbench); durable 4 KiB files/s (durable_files.c); BLAKE2b-256 MB/s
# (blake2b_speed.c); LARGE_MIB MiB write + fsync (dd).  run.sh measures
# them between its figures (ceil_http, ceil_db, ceil_disk,
# ceil_null_large); the nginx sendfile ceiling is part of fig_download.sh.
#
#	sudo tests/bench/ceilings.sh [--quick]
#
# Run by itself, it starts a private stack and measures all of them (see
# run.sh for the options and the environment).
set -euo pipefail

# ceil_http: nginx return 200, the null FastCGI pool, the same 4 KiB
# uploads to it.  Sets RET_RPS, RET_BAD, NULL_RPS, NULL_BAD, NULL_UP_RPS.
ceil_http() {
	fu_log "ceiling: nginx return 200"
	wrk_run nginx-return "$CURL/ok" "$BENCH/status.lua" 200
	RET_RPS=$W_RPS RET_BAD=$W_BAD
	fu_log "ceiling: nginx -> null FastCGI ($WORKERS responders)"
	wrk_run null-fastcgi "$CURL/null" "$BENCH/status.lua" 200
	NULL_RPS=$W_RPS NULL_BAD=$W_BAD

	fu_log "ceiling: the same 4 KiB uploads to the null FastCGI pool"
	wrk_run null-uploads "$CURL/null" "$BENCH/upload.lua" "$nonce-n{run}" 4096 "$CONTENT" 200
	NULL_UP_RPS=$W_RPS
}

# pgbench_run CLIENTS TAG [SCRIPT]: RUNS runs of SCRIPT (default the
# INSERT); sets PGB (median transactions/s).
pgbench_run() {
	local c=$1 tag=$2 script=${3:-$RAW/pgbench-insert.sql} i
	local -a v=()
	for i in $(seq 1 "$RUNS"); do
		"$(fu_pg_bindir)/pgbench" -n -M prepared -c "$c" -j "$((c < 2 ? c : 2))" \
		    -T "$SECS" -f "$script" -h "$FU_PG_HOST" \
		    -p "$FU_PG_PORT" -U postgres fileupload >"$RAW/pgbench$tag.$i.txt" 2>&1 ||
		    fu_die "pgbench failed: $(tail -n 5 "$RAW/pgbench$tag.$i.txt")"
		v+=("$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$RAW/pgbench$tag.$i.txt" | tail -n 1)")
		summary "pgbench$tag -c $c run $i: ${v[-1]} transactions/s"
	done
	PGB=$(median "${v[@]}")
}

# ceil_db: INSERT commits at CONNS clients and at the pool's concurrency,
# and the GET's SELECT of $hash.  Sets PG_TPS, PG_TPS_W, PG_GET_W.
ceil_db() {
	local fmt_ts

	bench_need_hash
	fu_log "ceiling: PostgreSQL single-row INSERT commits (pgbench -c $CONNS)"
	psql_fu -c 'CREATE TABLE bench_scratch (LIKE files INCLUDING ALL)'
	cat >"$RAW/pgbench-insert.sql" <<'SQL'
\set r random(1, 2000000000)
INSERT INTO bench_scratch (file_hash, file_name, file_type, file_size) VALUES (md5(:client_id || '-' || :r || '-' || clock_timestamp()) || md5(:r || '-' || clock_timestamp()), 'bench.bin', 'application/octet-stream', 4096);
SQL
	pgbench_run "$CONNS" ""
	PG_TPS=$PGB
	# At the pool's concurrency: at most WORKERS uploads are in flight.
	fu_log "ceiling: the same with $POOL_CONC clients (the pool's concurrency)"
	pgbench_run "$POOL_CONC" "-w"
	PG_TPS_W=$PGB
	psql_fu -c 'DROP TABLE bench_scratch'

	# The GET's own query (src/db.c, ST_GET), alone, at the pool's
	# concurrency: each GET waits for one, so the GET's bound is this and
	# the null FastCGI in series.  pgbench would take the format's ":MI"
	# for a variable: the colons are chr(58), folded into the same
	# constant when planned.
	fu_log "ceiling: the metadata GET's SELECT ($POOL_CONC clients)"
	fmt_ts="'YYYY-MM-DD\"T\"HH24' || chr(58) || 'MI' || chr(58) || 'SS\"Z\"'"
	cat >"$RAW/pgbench-get.sql" <<SQL
SELECT file_hash, file_name, file_type, file_size, to_char(created_at AT TIME ZONE 'UTC', $fmt_ts), to_char(updated_at AT TIME ZONE 'UTC', $fmt_ts) FROM files WHERE file_hash = '$hash';
SQL
	pgbench_run "$POOL_CONC" "-get" "$RAW/pgbench-get.sql"
	PG_GET_W=$PGB
}

# durable_run THREADS TAG: RUNS runs; sets DUR (median files/s).
durable_run() {
	local n=$1 tag=$2 i
	local -a v=()
	for i in $(seq 1 "$RUNS"); do
		mkdir "$FU_VAR/work/durable"
		"$BIN/durable_files" "$FU_VAR/work/durable" "$n" "$SECS" 4096 \
		    >"$RAW/durable$tag.$i.txt" 2>&1 ||
		    fu_die "durable_files failed: $(cat "$RAW/durable$tag.$i.txt")"
		rm -rf "$FU_VAR/work/durable"
		v+=("$(field ops_per_s "$(cat "$RAW/durable$tag.$i.txt")")")
		summary "durable run $i: $(cat "$RAW/durable$tag.$i.txt")"
	done
	DUR=$(median "${v[@]}")
}

# ceil_disk: durable files (CONNS threads and the pool's concurrency),
# BLAKE2b-256, write + fsync.  Sets DUR_OPS, DUR_OPS_W, B2_MBS, DD_MBS.
ceil_disk() {
	local i
	local -a bl=() dd_mbs=()

	fu_log "ceiling: durable 4 KiB files ($CONNS threads)"
	[ "$(stat -c %d "$FU_VAR/work")" = "$(stat -c %d "$FU_VAR/data")" ] ||
	    fu_die "$FU_VAR/work is not on DATA_DIR's file system"
	durable_run "$CONNS" ""
	DUR_OPS=$DUR
	fu_log "ceiling: the same with $POOL_CONC threads (the pool's concurrency)"
	durable_run "$POOL_CONC" "-w"
	DUR_OPS_W=$DUR

	fu_log "ceiling: BLAKE2b-256 speed"
	for i in $(seq 1 "$((RUNS > 3 ? RUNS : 3))"); do
		"$BIN/blake2b_speed" 256 256 >"$RAW/blake2b.$i.txt"
		bl+=("$(field mb_per_s "$(cat "$RAW/blake2b.$i.txt")")")
	done
	summary "blake2b runs: ${bl[*]} MB/s"
	B2_MBS=$(median "${bl[@]}")

	fu_log "ceiling: ${LARGE_MIB} MiB write + fsync (dd)"
	for i in $(seq 1 "$RUNS"); do
		sync
		dd if=/dev/zero of="$FU_VAR/work/dd.bin" bs=1M count="$LARGE_MIB" \
		    conv=fsync 2>"$RAW/dd.$i.txt"
		rm -f "$FU_VAR/work/dd.bin"
		dd_mbs+=("$(sed -n 's/^\([0-9]*\) bytes.* copied, \([0-9.]*\) s.*/\1 \2/p' \
		    "$RAW/dd.$i.txt" | awk '{ printf "%.1f\n", $1 / $2 / 1e6 }')")
		summary "dd run $i: ${dd_mbs[-1]} MB/s"
	done
	DD_MBS=$(median "${dd_mbs[@]}")
}

# ceil_null_large: the large file ($big) sent to the null FastCGI pool.
# Sets NULL_LU_MBS.
ceil_null_large() {
	local i r code secs
	local -a nlu=()

	bench_big_file
	fu_log "ceiling: the same upload to the null FastCGI pool"
	for i in $(seq 1 "$RUNS"); do
		r=$(curl_time /dev/null -F "upfile=@$big" "$CURL/null")
		read -r code _ _ secs <<<"$r"
		[ "$code" = 200 ] || fu_die "null large upload run $i: HTTP $code"
		nlu+=("$(mbps "$big_bytes" "$secs")")
		summary "null FastCGI large upload run $i: ${nlu[-1]} MB/s"
	done
	NULL_LU_MBS=$(median "${nlu[@]}")
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	# shellcheck source=tests/bench/stack.sh
	. "$(dirname "${BASH_SOURCE[0]}")/stack.sh"
	bench_standalone ceil_http ceil_db ceil_disk ceil_null_large -- "$@"
fi
