#!/usr/bin/env bash
#
# tests/bench/fig_webhook.sh: the webhook never in the way of uploads
# (docs/api.md, "The webhook").  The small-upload load (upload.lua, as
# fig_uploads.sh) against the same stack with four webhook settings, in
# turn within each round so that all see the same moments of a shared
# machine: no webhook (none), a receiver that answers at once (fast), one
# that answers in 5 s (slow), one that accepts and never answers (dead;
# each try times out after FILEUPLOAD_WEBHOOK_TIMEOUT, 10 s).  The
# receiver is tests/integration/webhook_receiver.py.  For fast, the
# delivery lag (the receiver's arrival time less the event's time, p50
# and p99 over the run's events) once the backlog is delivered, or after
# BENCH_WEBHOOK_DRAIN seconds (default 120; what is not delivered by then
# is counted, not timed).  Uploads/s, p50/p99 per setting, the lag, and
# the load average around each run.
#
#	sudo tests/bench/fig_webhook.sh [--quick]
set -euo pipefail

WH_MODES=(none fast slow dead)
WH_PID=

# wh_rules MODE: the receiver's rules for MODE.
wh_rules() {
	case $1 in
	fast) echo '{}' ;;
	slow) echo '{"delay": 5}' ;;
	dead) echo '{"hang": true}' ;;
	esac
}

wh_receiver_stop() {
	[ -z "$WH_PID" ] || { kill "$WH_PID" 2>/dev/null || true
		wait "$WH_PID" 2>/dev/null || true; }
	WH_PID=
}

# wh_pool MODE RUN: the pool restarted for MODE, delivering (if at all)
# from the last event now to a fresh receiver logging to wh-MODE.RUN.log.
wh_pool() {
	local mode=$1 run=$2 w=$FU_VAR/work i
	wh_receiver_stop
	fu_pool_stop
	psql_fu -qc "SELECT events_publish(); UPDATE webhook_cursor SET
	    delivered = (SELECT last FROM events_published);
	    DELETE FROM webhook_retries" >/dev/null
	WH_FROM=$(psql_fu -tAc 'SELECT delivered FROM webhook_cursor')
	if [ "$mode" = none ]; then
		fu_pool_start "$WORKER_BIN"
		return
	fi
	wh_rules "$mode" >"$w/wh.rules"
	rm -f "$w/wh.port"
	python3 "$FU_ROOT/tests/integration/webhook_receiver.py" \
	    --port-file "$w/wh.port" --log "$RAW/wh-$mode.$run.log" \
	    --rules "$w/wh.rules" &
	WH_PID=$!
	for i in $(seq 1 50); do
		[ ! -s "$w/wh.port" ] || break
		sleep 0.1
	done
	FILEUPLOAD_WEBHOOK_URL=http://127.0.0.1:$(cat "$w/wh.port")/ \
	    FILEUPLOAD_WEBHOOK_SECRET=bench fu_pool_start "$WORKER_BIN"
}

# wh_lag RUN: waits for the fast receiver to get the run's events, then
# sets WH_LAG (webhook_lag.py's line) and WH_DRAIN (seconds waited).
wh_lag() {
	local run=$1 log=$RAW/wh-fast.$1.log t0 n last
	t0=$(date +%s)
	last=$(psql_fu -tAc 'SELECT events_publish(); SELECT last FROM
	    events_published' | tail -n 1)
	while [ $(($(date +%s) - t0)) -lt "${BENCH_WEBHOOK_DRAIN:-120}" ]; do
		n=$(jq -r 'select(.status == 200) | .id' "$log" | sort -u |
		    wc -l)
		[ "$n" -lt $((last - WH_FROM)) ] || break
		sleep 1
	done
	WH_DRAIN=$(($(date +%s) - t0))
	psql_fu -tAc "SELECT id || '|' || extract(epoch FROM at) FROM events
	    WHERE id > $WH_FROM AND id <= $last" >"$RAW/wh-at.$run.txt"
	WH_LAG=$(python3 "$BENCH/webhook_lag.py" "$log" "$RAW/wh-at.$run.txt")
}

fig_webhook() {
	local run mode load0 load1
	local -A lines=()

	fu_log "webhook: $RUNS round(s) of ${WH_MODES[*]}, ${SECS}s each, $CONNS connections"
	for run in $(seq 1 "$RUNS"); do
		for mode in "${WH_MODES[@]}"; do
			wh_pool "$mode" "$run"
			load0=$(cut -d' ' -f1-3 /proc/loadavg)
			wrk_once "webhook-$mode" "$run" "$URL" "$BENCH/upload.lua" \
			    "$nonce-$mode-$run" 4096 "$CONTENT"
			load1=$(cut -d' ' -f1-3 /proc/loadavg)
			lines[$mode]+="$W_LINE"$'\n'
			summary "webhook-$mode run $run: load average $load0 before, $load1 after"
			if [ "$mode" = fast ]; then
				wh_lag "$run"
				summary "webhook-fast run $run: lag $WH_LAG (drained in ${WH_DRAIN}s)"
			fi
		done
	done
	wh_receiver_stop
	fu_pool_stop
	fu_pool_start "$WORKER_BIN"
	for mode in "${WH_MODES[@]}"; do
		mapfile -t runs < <(printf '%s' "${lines[$mode]}")
		wrk_stats "${runs[@]}"
		summary "webhook $mode: $W_RPS uploads/s, p50 $(ms "$W_P50"), p99 $(ms "$W_P99"), $W_BAD not 201"
	done
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	# shellcheck source=tests/bench/stack.sh
	. "$(dirname "${BASH_SOURCE[0]}")/stack.sh"
	bench_standalone fig_webhook -- "$@"
fi
