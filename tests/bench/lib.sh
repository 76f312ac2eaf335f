# shellcheck shell=bash disable=SC2034,SC2153
# (SC2034, SC2153: the variables set here are read by the scripts and by
# scripts/lib.sh.)
# tests/bench/lib.sh: what the benchmark scripts share.  Sourced after
# scripts/lib.sh.
#
# Against a running scripts/run (same FU_VAR, PORT): bench_attach.
# A private stack of their own: bench_stack.

# bench_attach: the running pool's URL ($URL, $BASE), its workers ($pids),
# the bearer token if FILEUPLOAD_TOKEN is set ($AUTH, for curl).
bench_attach() {
	BASE=http://127.0.0.1:${PORT:-8080}
	URL=$BASE/service/fileupload
	fu_nginx_user
	FU_VAR=$(fu_pick_var_dir "${FU_VAR:-$FU_ROOT/var}")
	AUTH=()
	[ -z "${FILEUPLOAD_TOKEN:-}" ] ||
	    AUTH=(-H "Authorization: Bearer $FILEUPLOAD_TOKEN")
	mapfile -t pids < <(fu_pool_pids)
	[ "${#pids[@]}" -gt 0 ] ||
	    fu_die "no pool in $FU_VAR: start scripts/run first"
}

# bench_hwm PID: the process's peak resident set, in KiB.
bench_hwm() {
	sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"
}

# bench_snapshot: remembers each worker's peak for bench_growth.
declare -A bench_before
bench_snapshot() {
	local p
	for p in "${pids[@]}"; do
		bench_before[$p]=$(bench_hwm "$p")
	done
}

# bench_growth: the largest peak RSS growth of a worker since the
# snapshot, in KiB.
bench_growth() {
	local p g max=0
	for p in "${pids[@]}"; do
		g=$(($(bench_hwm "$p") - ${bench_before[$p]}))
		[ "$g" -le "$max" ] || max=$g
	done
	printf '%s\n' "$max"
}

# bench_growth_report: each worker's peak growth, then the largest.
bench_growth_report() {
	local p
	for p in "${pids[@]}"; do
		printf '  worker %s: VmHWM %s KiB -> %s KiB\n' \
		    "$p" "${bench_before[$p]}" "$(bench_hwm "$p")"
	done
	printf '  largest peak RSS growth: %s KiB\n' "$(bench_growth)"
}

# bench_ops_lines: how many lines RGW's ops log holds ($FU_RGW_DIR/log/
# ops.log, one JSON line a request; 0 before it exists): where the
# requests of what comes next begin, for bench_ops_since.
bench_ops_lines() {
	wc -l <"$FU_RGW_DIR/log/ops.log" 2>/dev/null || echo 0
}

# bench_ops_since LINE: the store's view of the requests logged after line
# LINE of RGW's ops log: "op count seconds bytes_in bytes_out" per
# operation, sorted (total_time summed, RGW logs it in milliseconds; the
# bytes received and sent, summed).
bench_ops_since() {
	tail -n +"$(($1 + 1))" "$FU_RGW_DIR/log/ops.log" 2>/dev/null |
	    jq -r 'select(.operation != null) |
	        "\(.operation) \(.total_time) \(.bytes_received // 0) \(.bytes_sent // 0)"' 2>/dev/null |
	    awk '{ n[$1]++; t[$1] += $2; i[$1] += $3; o[$1] += $4 }
	        END { for (k in n) printf "%s %d %.2f %.0f %.0f\n", k, n[k], t[k] / 1000, i[k], o[k] }' |
	    sort
}

# bench_stack PG_DIR PG_PORT HTTP_PORT WORKER: a private stack as
# scripts/run starts it, no token set: PostgreSQL with fsync on (free
# ports from the ones given), the migrations, the worker pool and nginx.
# Sets $PORT, $FU_LISTEN and $URL; the caller's EXIT trap stops it all
# (fu_nginx_stop, fu_pool_stop, fu_pg_stop when FU_PG_STARTED is 1).
bench_stack() {
	FU_PG_FSYNC=on fu_pg_start "$1" "$(fu_free_port "$2")"
	# shellcheck disable=SC2034  # read by fu_pool_start and fu_migrate
	{
		FU_DB_HOST=$FU_PG_HOST
		FU_DB_PORT=$FU_PG_PORT
		FU_DB_USER=fileupload
		FU_DB_NAME=fileupload
	}
	unset DB_PASSWORD FILEUPLOAD_TOKEN FILEUPLOAD_READ_TOKEN
	fu_migrate "$FU_BUILD_DIR/src/fileupload-migrate"
	PORT=$(fu_free_port "$3")
	FU_LISTEN=127.0.0.1:$PORT
	URL=http://$FU_LISTEN/service/fileupload
	fu_render_conf
	fu_pool_start "$4"
	fu_nginx_start
}
