#!/usr/bin/env bash
#
# tests/bench/slow_clients.sh: what slow uploads cost everyone else.  Not a
# test (scripts/test never runs it); it fails only when it cannot measure.
#
#	sudo tests/bench/slow_clients.sh [--quick]
#
# Starts a private stack as tests/bench/run.sh does (PostgreSQL with fsync
# on, the pool with the defaults of scripts/run, nginx on a free loopback
# port), then, once without a token and once with FILEUPLOAD_TOKEN set (all
# clients then send it):
#   1. unloaded: health and metadata GET (wrk, 16 connections, req/s and
#      p99), 4 KiB uploads (upload.lua, 16 connections, uploads/s)
#   2. the same while BENCH_SLOW (256) uploads each trickle 1 byte/s
#      (slow_clients.py: a cut one, 408 after UPLOAD_RATE_WINDOW, is
#      replaced at once), and the RSS of everything the service runs
#      (workers and nginx, summed) before and during
# Then BENCH_FLOOD (1,024) slow uploads: the slowest of 20 health probes
# (curl, one per 0.25 s) and what the slow clients were answered.  With the
# token set, anonymous slow bodies: time to their 401 (curl, 20 probes).
#
# Output: tests/bench/results/<date>-slow/table.md (and raw/).
# Environment: BENCH_SECONDS (10; --quick 3), BENCH_SLOW (256),
# BENCH_FLOOD (1024), WORKERS and the worker's own variables as for
# scripts/run, BENCH_WORKER (a worker binary instead of building),
# FU_SKIP_INSTALL=1.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
# shellcheck source=tests/bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BENCH=$FU_ROOT/tests/bench
SECS=${BENCH_SECONDS:-10}
SLOW=${BENCH_SLOW:-256}
FLOOD=${BENCH_FLOOD:-1024}
QUICK=0
case ${1:-} in
--quick) QUICK=1; SECS=${BENCH_SECONDS:-3} ;;
'') ;;
*) fu_die "usage: $0 [--quick]" ;;
esac
fu_require_root
if [ "${FU_SKIP_INSTALL:-0}" != 1 ]; then
	fu_install_deps test
	fu_install_packages wrk python3
fi
if [ -n "${BENCH_WORKER:-}" ]; then
	WORKER_BIN=$BENCH_WORKER
	FU_BUILD_DIR=$(cd "$(dirname "$WORKER_BIN")/.." && pwd)
else
	fu_build
	WORKER_BIN=$(fu_worker_bin)
fi
fu_user
fu_nginx_user
# Each slow client holds a socket of its own and one of nginx's twice.
ulimit -n "$(ulimit -Hn)"

stamp=$(date +%Y-%m-%d-%H%M%S)-slow
[ "$QUICK" -eq 0 ] || stamp=$stamp-quick
RES=$BENCH/results/$stamp
RAW=$RES/raw
mkdir -p "$RAW"
FU_VAR=$(mktemp -d /var/tmp/fu-slow.XXXXXX)
pg_dir=$FU_VAR/postgres
slow_pid=
stopping=0

# shellcheck disable=SC2317  # called from the traps
slow_stop() {
	if [ -n "$slow_pid" ] && kill -0 "$slow_pid" 2>/dev/null; then
		kill -TERM "$slow_pid" 2>/dev/null || true
		wait "$slow_pid" 2>/dev/null || true
	fi
	slow_pid=
}
# shellcheck disable=SC2317
cleanup() {
	[ "$stopping" -eq 0 ] || return 0
	stopping=1
	trap '' INT TERM
	slow_stop || true
	fu_nginx_stop || true
	fu_pool_stop || true
	[ "${FU_PG_STARTED:-0}" -ne 1 ] || fu_pg_stop "$pg_dir" || true
	rm -rf "$FU_VAR"
}
trap 'cleanup; exit 130' INT TERM
trap cleanup EXIT

chmod 0755 "$FU_VAR"
fu_prepare_dirs
bench_stack "$pg_dir" 25700 18180 "$WORKER_BIN"

# rss_kib [workers|nginx]: VmRSS of the workers, of nginx, or (no
# argument) of both, summed.
rss_kib() {
	local pid procs='' total=0 kb nginx

	nginx=$(fu_nginx_pid)
	[ "${1:-}" = nginx ] || procs=$(fu_pool_pids)
	[ "${1:-}" = workers ] || procs="$procs $nginx $(fu_children "$nginx")"
	for pid in $procs; do
		kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0)
		total=$((total + ${kb:-0}))
	done
	echo "$total"
}
# wrk_figure NAME SCRIPT URL [ARGS...]: "rps p99_ms bad" of one wrk run.
wrk_figure() {
	local name=$1 script=$2 url=$3 line
	shift 3
	wrk -t2 -c16 -d"${SECS}s" --latency -s "$BENCH/$script" "$url" -- "$@" \
	    >"$RAW/$name.txt" 2>&1 || fu_die "wrk failed: $RAW/$name.txt"
	line=$(grep '^BENCH ' "$RAW/$name.txt") || fu_die "no BENCH line in $RAW/$name.txt"
	awk -v l="$line" 'BEGIN { n = split(l, f, " "); for (i = 2; i <= n; i++) {
	    split(f[i], kv, "="); v[kv[1]] = kv[2] }
	    bad = ("bad" in v) ? v["bad"] : v["non201"]
	    printf "%.0f %.1f %d\n", v["rps"], v["p99_us"] / 1000, bad + v["socket_errors"] }'
}
# slow_start N FILE [TOKEN]: N slow uploads in the background, waiting
# (at most 60 s) until all are connected.
slow_start() {
	local n=$1 out=$2 token=${3:-} i
	python3 "$BENCH/slow_clients.py" 127.0.0.1 "$PORT" /service/fileupload \
	    "$n" --token "$token" --status "$FU_VAR/slow.status" >"$out" 2>&1 &
	slow_pid=$!
	for i in $(seq 1 600); do
		! grep -q "^open=$n " "$FU_VAR/slow.status" 2>/dev/null || return 0
		[ "$i" -lt 600 ] || fu_die "only $(cat "$FU_VAR/slow.status" 2>/dev/null) of $n slow clients connected"
		sleep 0.1
	done
}
# probe_max_ms N URL [CURL-ARGS...]: the slowest of N requests, ms.
probe_max_ms() {
	local n=$1 url=$2 i t max=0
	shift 2
	for i in $(seq 1 "$n"); do
		t=$(curl -sS -o /dev/null -m 10 -w '%{time_total}' "$@" "$url" || echo 10)
		max=$(awk -v a="$max" -v b="$t" 'BEGIN { print (b * 1000 > a) ? b * 1000 : a }')
		sleep 0.25
	done
	printf '%.0f' "$max"
}

# phase LABEL TOKEN: unloaded and loaded figures into $RES/phase-LABEL.txt.
phase() {
	local label=$1 token=$2 hash base loaded rss0 rss1
	export BENCH_TOKEN=$token
	local auth=()
	[ -z "$token" ] || auth=(-H "Authorization: Bearer $token")
	head -c 4096 /dev/urandom >"$FU_VAR/one.bin"
	hash=$(curl -sS "${auth[@]}" -F "upfile=@$FU_VAR/one.bin" "$URL" | jq -r .file_hash)
	[ "${#hash}" -eq 64 ] || fu_die "the first upload failed"
	rss0="$(rss_kib workers) $(rss_kib nginx)"
	base="$(wrk_figure "$label-health-0" status.lua "$URL/health") \
$(wrk_figure "$label-get-0" status.lua "$URL/$hash") \
$(wrk_figure "$label-upload-0" upload.lua "$URL" "$label-0")"
	slow_start "$SLOW" "$RAW/$label-slow.txt" "$token"
	loaded="$(wrk_figure "$label-health-1" status.lua "$URL/health") \
$(wrk_figure "$label-get-1" status.lua "$URL/$hash") \
$(wrk_figure "$label-upload-1" upload.lua "$URL" "$label-1")"
	rss1="$(rss_kib workers) $(rss_kib nginx)"
	slow_stop
	echo "$base" >"$RES/phase-$label-base.txt"
	echo "$loaded" >"$RES/phase-$label-loaded.txt"
	echo "$rss0 $rss1" >"$RES/phase-$label-rss.txt"
}

# row LABEL WHAT COL-RPS COL-P99: a table row, base vs loaded.
row() {
	local label=$1 what=$2 i=$3 b l
	read -r -a b <"$RES/phase-$label-base.txt"
	read -r -a l <"$RES/phase-$label-loaded.txt"
	awk -v w="$what" -v br="${b[$i]}" -v bp="${b[$((i + 1))]}" \
	    -v lr="${l[$i]}" -v lp="${l[$((i + 1))]}" -v bad="${l[$((i + 2))]}" \
	    -v min="$4" 'BEGIN { r = br > 0 ? lr / br : 0
	    ok = (r >= min && (min == 0.5 || lp < 50)) && bad == 0
	    printf "| %s | %d/s, p99 %.1f ms | %d/s, p99 %.1f ms | %.2f | %s |\n",
	    w, br, bp, lr, lp, r, ok ? "PASS" : "MISS" }'
}

fu_log "phase: no token, $SLOW slow uploads"
phase open ""
fu_log "phase: token set, $SLOW slow uploads with it"
fu_pool_stop
TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
FILEUPLOAD_TOKEN=$TOKEN fu_pool_start "$WORKER_BIN"
phase token "$TOKEN"
export BENCH_TOKEN=

fu_log "anonymous slow bodies with the token set: time to 401"
unauth_ms=0
for _ in $(seq 1 20); do
	read -r st t < <(python3 "$BENCH/slow_clients.py" --probe 127.0.0.1 \
	    "$PORT" /service/fileupload 1)
	[ "$st" = 401 ] || fu_die "an anonymous upload got $st, not 401"
	unauth_ms=$(awk -v a="$unauth_ms" -v b="$t" 'BEGIN { print (b > a) ? b : a }')
done
fu_pool_stop
fu_pool_start "$WORKER_BIN"
fu_log "flood: $FLOOD slow uploads, health probes"
slow_start "$FLOOD" "$RAW/flood-slow.txt"
flood_rss=$(rss_kib)
flood_ms=$(probe_max_ms 20 "$URL/health")
slow_stop
flood_answers=$(grep '^SLOW' "$RAW/flood-slow.txt" || echo "?")

{
	echo "# Slow clients: $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git -C "$FU_ROOT" rev-parse --short HEAD)"
	echo
	echo "$(nproc) cores; pool: WORKERS=${WORKERS:-$(fu_default_workers)} processes," \
	    "FILEUPLOAD_THREADS=${FILEUPLOAD_THREADS:-default} threads each;" \
	    "$SLOW slow uploads at 1 byte/s; wrk -t2 -c16 -d${SECS}s per figure."
	for label in open token; do
		echo
		echo "## $([ "$label" = open ] && echo "no token" || echo "FILEUPLOAD_TOKEN set, every client sends it")"
		echo
		echo "| figure | unloaded | with $SLOW slow uploads | ratio | target |"
		echo "|---|---|---|---|---|"
		row "$label" "health" 0 0.8
		row "$label" "metadata GET" 3 0.8
		row "$label" "4 KiB uploads" 6 0.5
		read -r w0 n0 w1 n1 <"$RES/phase-$label-rss.txt"
		echo
		echo "RSS before, and after the figures with the slow uploads:" \
		    "workers $((w0 / 1024)) → $((w1 / 1024)) MiB," \
		    "nginx $((n0 / 1024)) → $((n1 / 1024)) MiB;" \
		    "+$(((w1 + n1 - w0 - n0) / SLOW)) KiB per slow upload" \
		    "(an upper bound: the figures' own requests ran meanwhile)."
	done
	echo
	echo "## $FLOOD slow uploads"
	echo
	echo "Slowest of 20 health probes: $flood_ms ms (target < 1000 ms). RSS: $((flood_rss / 1024)) MiB. Slow clients: $flood_answers."
	echo
	echo "Token set, anonymous upload at 1 byte/s: 401 within $unauth_ms ms (slowest of 20; target < 100 ms)."
} >"$RES/table.md"
cat "$RES/table.md"
