#!/usr/bin/env bash
#
# tests/bench/run.sh: the fileupload benchmark.  Each figure of the service
# next to the ceiling this machine sets for it, measured in the same run.
# Not a test: scripts/test never runs it, and it fails only when it cannot
# measure (a MISS against a target is reported, not an error).
#
#	sudo tests/bench/run.sh [--quick] [--peer URL [--peer-pids FILE]]
#
# As scripts/run does, it installs what is missing (and wrk), builds, and
# starts a private stack, here in a temp dir under /var/tmp: PostgreSQL
# (fsync on), the pool of WORKERS (default 1 per core, at least 2) workers, and nginx on a
# free loopback port.  Beside it, for the ceilings: a second, tiny nginx
# (return 200, a static file, a location for) a pool of null FastCGI
# responders (null_responder.c) of the same size.  Everything it started is
# stopped by PID on exit; the temp dir is removed (BENCH_KEEP=1 keeps it).
#
# Figures (median of BENCH_RUNS runs, default 3; --quick: 1 run, 3 s
# instead of 10 s per load run):
#   1. small uploads: 4 KiB of unique content per request (upload.lua),
#      multipart POST, wrk 16 connections: uploads/s, p50/p99, non-201s
#   2. metadata GET of one stored hash (status.lua): req/s, p99
#   3. list: 1,000,000 rows loaded with SQL, the whole list with curl:
#      rows/s and the serving worker's peak RSS growth
#   4. large upload: 1 GiB of random bytes with curl -F: MB/s and the peak
#      RSS growth of every worker
#   5. download of that file (content route): MB/s (3 transfers per run)
# Ceilings: nginx "return 200" and nginx -> null FastCGI pool (req/s, wrk,
# same connections; the null pool also takes the same 4 KiB uploads and the
# same 1 GiB upload, reading and discarding the bodies: the transport's
# share, with the same REQUEST_BUFFERING); PostgreSQL single-row INSERT
# commits/s (pgbench -c 16 -j 2, a copy of the files table); durable 4 KiB
# files/s (durable_files.c, 16 threads, same file system as DATA_DIR);
# BLAKE2b-256 MB/s (blake2b_speed.c); 1 GiB write + fsync (dd conv=fsync);
# nginx sendfile of a 1 GiB static file.  INSERT commits and durable files
# are measured again at the pool's concurrency (the wrk connections, up to
# WORKERS x FILEUPLOAD_THREADS: a request thread takes one request at a
# time), and so is the GET's SELECT alone (pgbench); the serial
# combinations 1/(1/files + 1/commits) and 1/(1/null FastCGI + 1/select)
# are printed, since each upload does the former two one after the other
# and each GET the latter two.  Peak RSS growth is VmHWM after a
# run minus VmRSS before it, the high-water mark being reset first
# (/proc/PID/clear_refs); the largest growth over the runs is reported, not
# the median.
#
# With --peer URL (a base URL such as http://127.0.0.1:8090: another
# implementation of the same API, docs/api.md, rooted at
# URL/service/fileupload and already running, e.g. the Node.js reference
# of ../shared/peers, started with its up.sh), the five figures are also
# measured on the peer, alternating: each run of ours is followed by the
# same run of the peer's (same wrk connections, same content and
# BENCH_UPLOAD_CONTENT, the same large file), so that both meet the same
# moments of a machine that may not be quiet; the medians are compared.
# The peer's metadata GET reads a file uploaded at the start (which also
# checks that it speaks the API).  Its list rows: the same LIST_ROWS
# loaded by SQL into its database (BENCH_PEER_DB, a libpq connection
# string; default the reference's own PostgreSQL) when its files table has
# our columns, removed again on exit; otherwise (or BENCH_PEER_DB=none) both
# lists are measured before the small uploads, on BENCH_PEER_LIST_ROWS
# files uploaded through each service's API (the API takes one file per
# request: a million would take too long; ours also gets as many as the
# peer held before, so that both list the same number).  --peer-pids FILE
# (comma-separated PIDs, e.g. /tmp/fileupload-peer/node.pids) adds the
# peer's peak RSS growth for the list and the large upload.  The table
# gets a side-by-side section (figure | ours | peer | ours/peer) and a note
# of what the reference does less.  The peer keeps the small uploads it
# was sent; its large file is deleted on exit.
#
# Then, unless BENCH_PROFILE=0, profiling passes that are not counted:
# perf record -a -g during small uploads, one large upload, one list and
# the GETs (hot spots per process, in the worker, PostgreSQL and nginx),
# and perf trace -s during small uploads and one large upload (time per
# system call of each worker): results/<date>/perf-hotspots.txt.
#
# Output: tests/bench/results/<date>/ holds every tool's raw output,
# summary.txt (each run's values) and table.md (the table printed at the
# end, with the load average before and after).  Only table.md is meant to
# be committed (results/.gitignore).
#
# Environment:
#	WORKERS			pool size (and null pool size), default 1 per core (at least 2)
#	REQUEST_BUFFERING	off (default) or on: nginx's
#				fastcgi_request_buffering for uploads
#	BENCH_RUNS		runs per figure, default 3 (--quick: 1)
#	BENCH_SECONDS		seconds per load run, default 10 (--quick: 3)
#	BENCH_CONNECTIONS	wrk connections and pgbench/durable clients, 16
#	BENCH_LARGE_MIB		large upload size, MiB, default 1024
#	BENCH_LIST_ROWS		rows loaded for the list, default 1000000
#	BENCH_PROFILE		1 (default) runs the profiling passes, 0 skips them
#	BENCH_UPLOAD_CONTENT	random (default) or text: the small uploads'
#				content (libmagic's cost depends on it; the
#				peer gets the same)
#	BENCH_PEER_DB		with --peer: libpq connection string of the
#				peer's database for the list's rows, default
#				"host=127.0.0.1 port=55432 user=postgres
#				dbname=peer_node"; none: load through the API
#	BENCH_PEER_LIST_ROWS	with --peer and no SQL access: rows uploaded
#				through each API for the list, default 3000
#	BENCH_FANOUT=1		make DATA_DIR's 65,536 ab/cd/ directories
#				before the small uploads (an experiment: the
#				worker then never makes and fsyncs one)
#	BENCH_WORKER		a worker binary to use instead of building
#	BENCH_KEEP=1		keep the temp dir (logs, data) after the run
#	FU_SKIP_INSTALL=1	do not check/install Debian packages
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
# shellcheck source=tests/bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BENCH=$FU_ROOT/tests/bench
set -E
trap 'fu_log "failed at line $LINENO: $BASH_COMMAND"' ERR
QUICK=0
PEER=
PURL=
PEER_PIDS=
usage="usage: $0 [--quick] [--peer URL [--peer-pids FILE]]"
while [ "$#" -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--peer | --peer-pids)
		[ "$#" -ge 2 ] || fu_die "$1 needs a value ($usage)"
		if [ "$1" = --peer ]; then PEER=$2; else PEER_PIDS=$2; fi
		shift
		;;
	--peer=*) PEER=${1#--peer=} ;;
	--peer-pids=*) PEER_PIDS=${1#--peer-pids=} ;;
	-h | --help)
		sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	*) fu_die "unknown argument $1 ($usage)" ;;
	esac
	shift
done
if [ -n "$PEER" ]; then
	PEER=${PEER%/}
	case $PEER in
	http://* | https://*) ;;
	*) fu_die "--peer $PEER: a base URL such as http://127.0.0.1:8090" ;;
	esac
	PURL=$PEER/service/fileupload
	# The reference's own PostgreSQL (../shared/peers/README.md): the list's
	# rows go in by SQL when the peer's table has our columns.
	PEER_DB=${BENCH_PEER_DB:-host=127.0.0.1 port=55432 user=postgres dbname=peer_node}
	PEER_LIST_ROWS=${BENCH_PEER_LIST_ROWS:-3000}
	[ -z "$PEER_PIDS" ] || [ -r "$PEER_PIDS" ] ||
	    fu_die "--peer-pids $PEER_PIDS: not readable"
elif [ -n "$PEER_PIDS" ]; then
	fu_die "--peer-pids needs --peer"
fi
if [ "$QUICK" -eq 1 ]; then
	RUNS=${BENCH_RUNS:-1}
	SECS=${BENCH_SECONDS:-3}
else
	RUNS=${BENCH_RUNS:-3}
	SECS=${BENCH_SECONDS:-10}
fi
CONNS=${BENCH_CONNECTIONS:-16}
WRK_THREADS=2
LARGE_MIB=${BENCH_LARGE_MIB:-1024}
LIST_ROWS=${BENCH_LIST_ROWS:-1000000}
PROFILE=${BENCH_PROFILE:-1}
CONTENT=${BENCH_UPLOAD_CONTENT:-random}
case $CONTENT in
random | text) ;;
*) fu_die "BENCH_UPLOAD_CONTENT=$CONTENT: use random or text" ;;
esac
WORKERS=${WORKERS:-$(fu_default_workers)}
export WORKERS
# Requests in flight at once: one per wrk connection, as long as the pool
# has threads for them.
POOL_CONC=$((CONNS < WORKERS * ${FILEUPLOAD_THREADS:-256} ? CONNS :
    WORKERS * ${FILEUPLOAD_THREADS:-256}))
case ${REQUEST_BUFFERING:-off} in
on | off) REQUEST_BUFFERING=${REQUEST_BUFFERING:-off} ;;
*) fu_die "REQUEST_BUFFERING=$REQUEST_BUFFERING: use on or off" ;;
esac
export REQUEST_BUFFERING
for v in RUNS SECS CONNS LARGE_MIB LIST_ROWS WORKERS ${PEER:+PEER_LIST_ROWS}; do
	case ${!v} in
	'' | *[!0-9]* | 0) fu_die "$v=${!v} must be a positive integer" ;;
	esac
done

fu_require_root

# ------------------------------------------------------------- setup

if [ "${FU_SKIP_INSTALL:-0}" != 1 ]; then
	fu_install_deps test
	fu_install_packages wrk
	# perf is optional: a machine without it still measures.
	fu_install_packages linux-perf || fu_log "linux-perf not installed; no profiles"
fi
command -v wrk >/dev/null || fu_die "wrk is missing (apt-get install wrk)"
if [ -n "${BENCH_WORKER:-}" ]; then
	WORKER_BIN=$BENCH_WORKER
	FU_BUILD_DIR=$(cd "$(dirname "$WORKER_BIN")/.." && pwd)
else
	fu_build
	WORKER_BIN=$(fu_worker_bin)
fi
[ -x "$WORKER_BIN" ] || fu_die "no worker binary at $WORKER_BIN"
fu_user
fu_nginx_user

stamp=$(date +%Y-%m-%d-%H%M%S)
[ "$QUICK" -eq 0 ] || stamp=$stamp-quick
RES=$BENCH/results/$stamp
RAW=$RES/raw
mkdir -p "$RAW"
cat >"$BENCH/results/.gitignore" <<'EOF'
# Raw benchmark outputs stay local; a run's table.md may be committed.
*
!.gitignore
!*/
!*/table.md
EOF

FU_VAR=$(mktemp -d /var/tmp/fu-bench.XXXXXX)
CEIL=$FU_VAR/ceiling
BIN=$FU_VAR/bench-bin
pg_dir=$FU_VAR/postgres
null_pid=
stopping=0

# shellcheck disable=SC2317  # called from the traps
stop_ceiling() {
	local pid

	if [ -f "$CEIL/nginx.pid" ]; then
		pid=$(tr -d ' \n' <"$CEIL/nginx.pid")
		! fu_pid_is "$pid" "$(command -v nginx)" ||
		    fu_stop_pids "$(command -v nginx)" QUIT "$pid"
		rm -f "$CEIL/nginx.pid"
	fi
	if [ -n "$null_pid" ] && fu_pid_is "$null_pid" "$(command -v multiwatch)"; then
		local -a kids
		mapfile -t kids < <(tr -s ' ' '\n' \
		    <"/proc/$null_pid/task/$null_pid/children" | grep -E '^[0-9]+$' || true)
		fu_stop_pids "$(command -v multiwatch)" TERM "$null_pid"
		[ "${#kids[@]}" -eq 0 ] ||
		    fu_stop_pids "$BIN/null_responder" TERM "${kids[@]}"
	fi
	null_pid=
}

# shellcheck disable=SC2317  # called from the traps
cleanup() {
	[ "$stopping" -eq 0 ] || return 0
	stopping=1
	trap '' INT TERM
	stop_ceiling || true
	[ -z "$PEER" ] || peer_cleanup || true
	fu_nginx_stop || true
	fu_pool_stop || true
	[ "${FU_PG_STARTED:-0}" -ne 1 ] || fu_pg_stop "$pg_dir" || true
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		fu_log "kept $FU_VAR"
	else
		rm -rf "$FU_VAR"
	fi
}
# shellcheck disable=SC2317  # called from the traps
on_signal() {
	fu_log "interrupted; stopping"
	cleanup
	exit 130
}
trap on_signal INT TERM
trap cleanup EXIT

chmod 0755 "$FU_VAR"
fu_prepare_dirs
mkdir -p "$BIN" "$CEIL/www" "$CEIL/tmp" "$FU_VAR/work"
chmod 0755 "$BIN" "$CEIL" "$CEIL/www"

fu_log "compiling the ceiling tools into $BIN"
gcc -O2 -Wall -pthread -o "$BIN/null_responder" "$BENCH/null_responder.c" -lfcgi
gcc -O2 -Wall -o "$BIN/blake2b_speed" "$BENCH/blake2b_speed.c" -lsodium
gcc -O2 -Wall -pthread -o "$BIN/durable_files" "$BENCH/durable_files.c"

bench_stack "$pg_dir" 55600 18080 "$WORKER_BIN"

psql_fu() {
	fu_pg_psql "$pg_dir" fileupload "$@"
}

# The ceiling nginx: same worker count, sendfile, access log and kept
# FastCGI connections (FCGI_KEEPALIVE) as the service's, on its own port.
NULL_KEEP_CONN=on
NULL_KEEPALIVE="keepalive ${FCGI_KEEPALIVE:-16};"
if [ "${FCGI_KEEPALIVE:-16}" = 0 ]; then
	NULL_KEEP_CONN=off
	NULL_KEEPALIVE=
fi
CPORT=$(fu_free_port $((PORT + 1)))
CURL=http://127.0.0.1:$CPORT
cat >"$CEIL/nginx.conf" <<EOF
user $FU_NGINX_USER $FU_NGINX_GROUP;
worker_processes auto;
pid $CEIL/nginx.pid;
error_log $CEIL/error.log warn;
events {
	worker_connections 1024;
}
http {
	default_type application/octet-stream;
	sendfile on;
	tcp_nopush on;
	server_tokens off;
	keepalive_timeout 65;
	log_format bench '\$remote_addr [\$time_local] "\$request" \$status '
	    '\$body_bytes_sent \$request_time rid=\$request_id';
	access_log $CEIL/access.log bench;
	client_body_temp_path $CEIL/tmp/client_body;
	fastcgi_temp_path $CEIL/tmp/fastcgi;
	proxy_temp_path $CEIL/tmp/proxy;
	uwsgi_temp_path $CEIL/tmp/uwsgi;
	scgi_temp_path $CEIL/tmp/scgi;
	# Connections to the null pool kept as the service's are.
	upstream null_pool {
		server unix:$CEIL/null.sock;
		$NULL_KEEPALIVE
	}
	server {
		listen 127.0.0.1:$CPORT;
		location = /ok {
			return 200 "ok\n";
		}
		location = /null {
			client_max_body_size 0;
			client_body_buffer_size 128k;
			fastcgi_request_buffering $REQUEST_BUFFERING;
			include $FU_VAR/conf/fastcgi_params;
			fastcgi_param HTTP_PROXY "";
			fastcgi_pass null_pool;
			fastcgi_keep_conn $NULL_KEEP_CONN;
		}
		location /static/ {
			alias $CEIL/www/;
		}
	}
}
EOF

fu_log "starting $WORKERS null FastCGI responders (ceiling)"
(
	exec spawn-fcgi -s "$CEIL/null.sock" -M 0660 \
	    -U "$FU_NGINX_USER" -G "$FU_NGINX_GROUP" \
	    -u "$FU_USER" -g "$FU_USER" -n \
	    -- "$(command -v multiwatch)" -f "$WORKERS" -s TERM \
	    -- "$BIN/null_responder"
) </dev/null >"$RAW/null-pool.log" 2>&1 &
null_pid=$!
fu_log "starting the ceiling nginx on 127.0.0.1:$CPORT"
nginx -p "$CEIL/" -c "$CEIL/nginx.conf" -e "$CEIL/error.log" -t -q ||
    fu_die "ceiling nginx configuration test failed"
nginx -p "$CEIL/" -c "$CEIL/nginx.conf" -e "$CEIL/error.log"
for _ in $(seq 1 50); do
	! fu_port_open 127.0.0.1 "$CPORT" || break
	sleep 0.1
done
[ "$(curl -sS -o /dev/null -w '%{http_code}' "$CURL/null")" = 200 ] ||
    fu_die "the null FastCGI pool does not answer"

# --------------------------------------------------------- the record

{
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "mode: $([ "$QUICK" -eq 1 ] && echo quick || echo full)," \
	    "runs $RUNS, $SECS s per load run, $CONNS connections"
	echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)," \
	    "kernel $(uname -r), $(findmnt -no FSTYPE -T "$FU_VAR/data") on $(findmnt -no SOURCE -T "$FU_VAR/data")"
	dirty=
	if git -C "$FU_ROOT" status --porcelain -- src 2>/dev/null | grep -q .; then
		dirty=" (src/ has uncommitted changes)"
	fi
	echo "commit: $(git -C "$FU_ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$dirty"
	echo "workers: $WORKERS, REQUEST_BUFFERING=$REQUEST_BUFFERING," \
	    "small uploads' content: $CONTENT$([ "${BENCH_FANOUT:-0}" != 1 ] ||
	    echo ", fan-out directories made beforehand")"
	wrk_version=$(wrk --version 2>&1 || true)
	wrk_version=${wrk_version%% \[*}
	echo "versions: $(nginx -v 2>&1 | sed 's/^nginx version: //'), PostgreSQL" \
	    "$(psql_fu -tAc 'SHOW server_version'), $wrk_version"
	echo "postgres: $(psql_fu -tAc "SELECT string_agg(name || '=' || setting, ' ' ORDER BY name)
	    FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit',
	    'wal_sync_method', 'shared_buffers', 'commit_delay', 'full_page_writes')")"
} >"$RES/env.txt"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
summary() {
	printf '%s\n' "$*" >>"$RES/summary.txt"
}
summary "load average at start: $LOAD_START"

# -------------------------------------------------------------- helpers

# ratio VALUE CEILING: VALUE / CEILING; atleast RATIO MIN: PASS or MISS;
# fmt N: 1,234,567; ms MICROSECONDS; kib KIB: +N KiB or +N.N MiB;
# mbps BYTES SECONDS: MB/s; serial A B: the rate of doing both, one after
# the other, 1/(1/A + 1/B).
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a" }'
}
atleast() {
	awk -v a="$1" -v b="$2" 'BEGIN { print (a >= b) ? "PASS" : "MISS" }'
}
fmt() {
	awk -v a="$1" 'BEGIN { s = sprintf("%.0f", a); out = "";
	    while (length(s) > 3) { out = "," substr(s, length(s) - 2) out; s = substr(s, 1, length(s) - 3) }
	    print s out }'
}
ms() {
	awk -v a="$1" 'BEGIN { printf "%.1f ms", a / 1000 }'
}
kib() {
	awk -v a="$1" 'BEGIN { if (a >= 1024) printf "+%.1f MiB", a / 1024; else printf "+%d KiB", a }'
}
mbps() {
	awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f\n", b / s / 1e6 }'
}
serial() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (a > 0 && b > 0) ? 1 / (1 / a + 1 / b) : 0 }'
}


median() {
	printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 }
	    END { if (NR % 2) print a[(NR + 1) / 2];
	          else printf "%.1f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

maxof() {
	printf '%s\n' "$@" | sort -g | tail -n 1
}

# field NAME LINE: the value of NAME=value in LINE.
field() {
	printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1
}

# CPU accounting of a load run: the whole machine from /proc/stat, and
# per command name (workers, postgres, nginx) from /proc/PID/stat.
cpu_total() {
	awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5, $6 }' /proc/stat
}
cpu_procs() {
	# pid comm utime+stime (ticks); comm is what lies between the parens.
	# (A process may end between the glob and cat: not an error here.)
	{ cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk '{
	    l = $0; o = index(l, "("); c = length(l);
	    while (substr(l, c, 1) != ")") c--;
	    comm = substr(l, o + 1, c - o - 1); gsub(/ /, "_", comm);
	    n = split(substr(l, c + 2), f, " ");
	    print $1, comm, f[12] + f[13] }'
}
cpu_begin() {
	cpu_total >"$RAW/.cpu0"
	cpu_procs >"$RAW/.procs0"
}
# cpu_end OUT: appends one line: busy %, iowait %, and the share of each
# group, in cores (1.00 = one core busy for the whole run).
cpu_end() {
	local out=$1 hz

	hz=$(getconf CLK_TCK)
	cpu_total >"$RAW/.cpu1"
	cpu_procs >"$RAW/.procs1"
	awk -v hz="$hz" -v ncpu="$(nproc)" '
	    FILENAME ~ /cpu0$/ { b0 = $1; i0 = $2; w0 = $3; next }
	    FILENAME ~ /cpu1$/ { b1 = $1; i1 = $2; w1 = $3; next }
	    FILENAME ~ /procs0$/ { t0[$1] = $3; next }
	    { d = $3 - ($1 in t0 ? t0[$1] : 0)
	      g = "other"
	      if ($2 ~ /^fileupload-w/) g = "worker"
	      else if ($2 ~ /^(postgres|postmaster)$/) g = "postgres"
	      else if ($2 ~ /^(nginx|null_responder|pgbench|curl|durable_files|dd|node)$/) g = $2
	      else if ($2 ~ /^wrk/) g = "wrk"
	      use[g] += d
	      if (g == "other") oth[$2] += d }
	    END { tot = (b1 - b0) + (i1 - i0) + (w1 - w0)
	          if (tot <= 0) tot = 1
	          printf "cpu: busy %.0f%% iowait %.0f%% of %d cores;", 100 * (b1 - b0) / tot,
	              100 * (w1 - w0) / tot, ncpu
	          n = split("worker postgres nginx null_responder node wrk pgbench curl durable_files dd other", G, " ")
	          for (k = 1; k <= n; k++) if (use[G[k]] > 0) {
	              printf " %s %.2f", G[k], use[G[k]] / (tot / ncpu); sum += use[G[k]] }
	          printf " exited/unattributed (wrk, irq) %.2f (cores)", ((b1 - b0) - sum) / (tot / ncpu)
	          for (k = 0; k < 3; k++) { best = ""; bv = 0
	              for (c in oth) if (oth[c] > bv) { best = c; bv = oth[c] }
	              if (best == "") break
	              printf "%s %s %.2f", k ? "," : "; other:", best, bv / (tot / ncpu); delete oth[best] }
	          printf "\n" }' \
	    "$RAW/.cpu0" "$RAW/.cpu1" "$RAW/.procs0" "$RAW/.procs1" >>"$out"
}

# wrk_once NAME I URL SCRIPT [SCRIPT_ARGS...]: load run I, its output in
# $RAW/NAME.I.txt (with the CPU line); sets W_LINE (its BENCH line).
wrk_once() {
	local name=$1 i=$2 url=$3 script=$4
	shift 4

	cpu_begin
	wrk -t"$WRK_THREADS" -c"$CONNS" -d"${SECS}s" --latency -s "$script" \
	    "$url" -- "$@" >"$RAW/$name.$i.txt" 2>&1
	cpu_end "$RAW/$name.$i.txt"
	W_LINE=$(grep '^BENCH ' "$RAW/$name.$i.txt") ||
	    fu_die "wrk $name run $i: no result (see $RAW/$name.$i.txt)"
	summary "$name run $i: $W_LINE $(tail -n 1 "$RAW/$name.$i.txt")"
}
# wrk_stats BENCH_LINE...: sets W_RPS, W_P50, W_P99 (medians; microseconds)
# and W_BAD (sum of unexpected statuses and socket errors over the runs).
wrk_stats() {
	local line
	local -a rps=() p50=() p99=()

	W_BAD=0
	for line in "$@"; do
		rps+=("$(field rps "$line")")
		p50+=("$(field p50_us "$line")")
		p99+=("$(field p99_us "$line")")
		W_BAD=$((W_BAD + $(field non201 "$line")$(field bad "$line") +
		    $(field socket_errors "$line")))
	done
	W_RPS=$(median "${rps[@]}")
	W_P50=$(median "${p50[@]}")
	W_P99=$(median "${p99[@]}")
}
# wrk_pair NAME URL PEER_URL SCRIPT [SCRIPT_ARGS...]: RUNS load runs of
# URL (after a short warm-up), each followed by the same run against
# PEER_URL when it is not empty (output in $RAW/peer-NAME.I.txt), so that
# both see the same moments of a machine that may not be quiet.  "{run}"
# in SCRIPT_ARGS becomes the run's number (p and the number for the peer).
# Sets W_RPS, W_P50, W_P99, W_BAD for URL (see wrk_stats) and P_RPS,
# P_P50, P_P99, P_BAD for PEER_URL.
wrk_pair() {
	local name=$1 url=$2 purl=$3 script=$4 i
	local -a ours=() peer=()
	shift 4

	wrk -t"$WRK_THREADS" -c"$CONNS" -d"$((SECS > 5 ? 2 : 1))s" -s "$script" \
	    "$url" -- "${@/"{run}"/w}" >"$RAW/$name.warmup.txt" 2>&1
	[ -z "$purl" ] ||
	    wrk -t"$WRK_THREADS" -c"$CONNS" -d"$((SECS > 5 ? 2 : 1))s" -s "$script" \
	    "$purl" -- "${@/"{run}"/pw}" >"$RAW/peer-$name.warmup.txt" 2>&1
	for i in $(seq 1 "$RUNS"); do
		wrk_once "$name" "$i" "$url" "$script" "${@/"{run}"/$i}"
		ours+=("$W_LINE")
		[ -n "$purl" ] || continue
		wrk_once "peer-$name" "$i" "$purl" "$script" "${@/"{run}"/p$i}"
		peer+=("$W_LINE")
	done
	if [ -n "$purl" ]; then
		wrk_stats "${peer[@]}"
		P_RPS=$W_RPS P_P50=$W_P50 P_P99=$W_P99 P_BAD=$W_BAD
	fi
	wrk_stats "${ours[@]}"
}
# wrk_run NAME URL SCRIPT [SCRIPT_ARGS...]: wrk_pair without a peer.
wrk_run() {
	wrk_pair "$1" "$2" "" "${@:3}"
}

hwm() {
	sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"
}
rss() {
	sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"
}
ticks() {
	awk '{ l = $0; c = length(l); while (substr(l, c, 1) != ")") c--;
	    split(substr(l, c + 2), f, " "); print f[12] + f[13] }' "/proc/$1/stat"
}
# mem_begin [PID...]: resets the peak RSS of every worker (or of each PID:
# the peer's processes) to its current RSS and records RSS and CPU time;
# mem_end [LABEL]: sets M_MAX (the largest peak growth, KiB) and M_SERVING
# (the growth of the process that used the most CPU, KiB) and prints one
# line per process.
declare -A m_rss m_ticks
HWM_RESET=1
mem_begin() {
	local p
	if [ "$#" -gt 0 ]; then
		m_pids=("$@")
	else
		mapfile -t m_pids < <(fu_pool_pids)
	fi
	for p in "${m_pids[@]}"; do
		if ! echo 5 >"/proc/$p/clear_refs" 2>/dev/null; then
			HWM_RESET=0
		fi
		m_rss[$p]=$(rss "$p")
		m_ticks[$p]=$(ticks "$p")
	done
}
mem_end() {
	local label=${1:-worker} p g busy=-1 d
	M_MAX=0
	M_SERVING=0
	for p in "${m_pids[@]}"; do
		[ -e "/proc/$p/status" ] || { echo "  $label $p: gone"; continue; }
		if [ "$HWM_RESET" -eq 1 ]; then
			g=$(($(hwm "$p") - ${m_rss[$p]}))
		else
			g=0
		fi
		d=$(($(ticks "$p") - ${m_ticks[$p]}))
		[ "$g" -le "$M_MAX" ] || M_MAX=$g
		if [ "$d" -gt "$busy" ]; then
			busy=$d
			M_SERVING=$g
		fi
		echo "  $label $p: VmRSS before ${m_rss[$p]} KiB, VmHWM after" \
		    "$(hwm "$p") KiB, growth $g KiB, cpu $d ticks"
	done
}

# curl_time OUT ARGS...: one curl; prints "code bytes_up bytes_down seconds".
curl_time() {
	local out=$1
	shift
	curl -sS -o "$out" -w '%{http_code} %{size_upload} %{size_download} %{time_total}\n' "$@"
}

# ------------------------------------------------------------ the peer

# With --peer, each of the five figures is measured on the peer too, each
# run of ours followed by the same run of the peer's (same connections,
# same content, same file), so that both see the same state of a machine
# that may not be quiet.  Nothing of ours is measured differently.

# peer_pids: the peer's PIDs from --peer-pids (read each time: the peer may
# have replaced a process), one a line.
peer_pids() {
	tr ',' '\n' <"$PEER_PIDS" | grep -E '^[0-9]+$' || true
}
# side_mem_begin ours|peer; side_mem_end ours|peer OUT: mem_begin/mem_end
# for our pool or for the peer's PIDs.  Without --peer-pids the peer's
# M_MAX and M_SERVING are empty (not measured).
side_mem_begin() {
	if [ "$1" = ours ]; then
		mem_begin
	elif [ -n "$PEER_PIDS" ]; then
		mapfile -t p_pids < <(peer_pids)
		[ "${#p_pids[@]}" -gt 0 ] || fu_die "no PIDs in $PEER_PIDS"
		mem_begin "${p_pids[@]}"
	fi
}
side_mem_end() {
	if [ "$1" = ours ]; then
		mem_end >"$2"
	elif [ -n "$PEER_PIDS" ]; then
		mem_end peer >"$2"
	else
		M_MAX='' M_SERVING=''
		: >"$2"
	fi
}
# json_hash FILE: the file_hash of an upload's answer.
json_hash() {
	sed -n 's/.*"file_hash" *: *"\([0-9a-fA-F]*\)".*/\1/p' "$1" | head -n 1
}
# list_once NAME I URL ROWS ours|peer: one whole list of URL (which holds
# ROWS rows); sets L_RPS and L_RSS (the serving process's peak RSS growth,
# KiB, empty when not measured).
list_once() {
	local name=$1 i=$2 url=$3 n=$4 side=$5 r code size secs
	side_mem_begin "$side"
	cpu_begin
	r=$(curl_time /dev/null "$url")
	side_mem_end "$side" "$RAW/$name.$i.mem.txt"
	cpu_end "$RAW/$name.$i.mem.txt"
	read -r code _ size secs <<<"$r"
	[ "$code" = 200 ] || fu_die "$name run $i: HTTP $code"
	L_RPS=$(awk -v n="$n" -v s="$secs" 'BEGIN { printf "%.0f\n", n / s }')
	L_RSS=$M_SERVING
	summary "$name run $i: $n rows, $size bytes in $secs s: $L_RPS rows/s;" \
	    "serving $([ "$side" = ours ] && echo worker || echo "peer process")'s" \
	    "peak RSS growth ${M_SERVING:-?} KiB (largest of all ${M_MAX:-?} KiB)"
	cat "$RAW/$name.$i.mem.txt" >>"$RES/summary.txt"
}
# list_check NAME URL ROWS: one whole list (the warm-up) must hold ROWS
# rows.
list_check() {
	local name=$1 url=$2 n=$3 r got
	r=$(curl_time "$FU_VAR/work/list.json" "$url")
	got=$(grep -o '"file_hash"' "$FU_VAR/work/list.json" | wc -l)
	summary "$name warm-up: $r; $got of $n rows"
	rm -f "$FU_VAR/work/list.json"
	[ "$got" = "$n" ] || fu_die "$name: $got rows listed, $n expected"
}
# api_upload_rows URL N: N small text files through URL's API (curl, 8
# at a time): the list's rows when the peer's database cannot be loaded by
# SQL.
api_upload_rows() {
	local url=$1 n=$2 dir=$FU_VAR/work/rows i ok
	mkdir -p "$dir"
	for i in $(seq 1 "$n"); do
		printf 'benchlist %s %d\n' "$nonce" "$i" >"$dir/$i.txt"
		printf 'url = "%s"\nform = "upfile=@%s;type=text/plain"\n' "$url" "$dir/$i.txt"
		printf 'output = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n'
		[ "$i" -eq "$n" ] || echo next
	done >"$dir/curl.conf"
	ok=$(curl -sS -Z --parallel-max 8 -K "$dir/curl.conf" 2>"$RAW/rows-upload.log" |
	    grep -c '^201$' || true)
	rm -rf "$dir"
	[ "$ok" = "$n" ] || fu_die "loading rows through $url: $ok of $n uploads answered 201"
}
psql_peer() {
	PGCONNECT_TIMEOUT=3 psql -X -q -v ON_ERROR_STOP=1 "$PEER_DB" "$@"
}

PEER_HASH=
PEER_BIG_HASH=
PEER_LIST_LOADED=0
# shellcheck disable=SC2317  # called from cleanup
peer_cleanup() {
	local h
	for h in "$PEER_BIG_HASH" "$PEER_HASH"; do
		[ -z "$h" ] || curl -sS -m 30 -o /dev/null -X DELETE "$PURL/$h" || true
	done
	[ "$PEER_LIST_LOADED" -ne 1 ] ||
	    psql_peer -c "DELETE FROM files WHERE file_name LIKE 'benchlist-$nonce-%'" \
	    >/dev/null 2>&1 || fu_log "warning: the peer keeps the list's rows ($nonce)"
}

nonce=$(date +%s)-$$
if [ -n "$PEER" ]; then
	fu_log "the peer at $PEER: one upload and its GET"
	printf 'peer probe %s\n' "$nonce" >"$FU_VAR/work/probe.txt"
	r=$(curl_time "$RAW/peer-probe.json" -F "upfile=@$FU_VAR/work/probe.txt" "$PURL") ||
	    fu_die "the peer does not answer at $PURL"
	PEER_HASH=$(json_hash "$RAW/peer-probe.json")
	if [ "${r%% *}" != 201 ] || [ -z "$PEER_HASH" ]; then
		fu_die "the peer's upload: $r $(head -c 300 "$RAW/peer-probe.json")"
	fi
	r=$(curl_time /dev/null "$PURL/$PEER_HASH")
	[ "${r%% *}" = 200 ] || fu_die "the peer's GET of $PEER_HASH: $r"
	# SQL is the only practical way to a million rows (the API takes one
	# file per request); it needs the peer's files table to have ours
	# columns, which the reference's has.
	PEER_SQL=0
	if [ "$PEER_DB" != none ] && cols=$(psql_peer -tAc "SELECT count(*)
	    FROM information_schema.columns WHERE table_name = 'files'
	    AND column_name IN ('file_hash', 'file_name', 'file_type', 'file_size')" 2>/dev/null) &&
	    [ "$cols" = 4 ]; then
		PEER_SQL=1
		fu_log "the peer's list rows will be loaded by SQL ($PEER_DB)"
	else
		fu_log "the peer's database is not reachable as files(file_hash, ...):" \
		    "the list is compared at $PEER_LIST_ROWS rows uploaded through each API"
	fi
	echo "peer: $PEER ($(curl -sS -m 5 "$PEER/" 2>/dev/null | head -n 1 || true))," \
	    "PIDs: ${PEER_PIDS:-not given}, list rows $([ "$PEER_SQL" -eq 1 ] &&
	    echo "loaded by SQL" || echo "uploaded through the API")" >>"$RES/env.txt"
fi

# Without SQL access to the peer, the side-by-side list is measured now, on
# the same number of rows uploaded through each API: before the upload runs
# our store is empty; the peer's may not be (earlier runs' uploads stay),
# so ours gets as many more as the peer holds already.
if [ -n "$PEER" ] && [ "$PEER_SQL" -eq 0 ]; then
	curl -sS -o "$FU_VAR/work/list.json" "$PURL"
	peer_rows=$(($(grep -o '"file_hash"' "$FU_VAR/work/list.json" | wc -l) + PEER_LIST_ROWS))
	fu_log "3'. list side by side: $PEER_LIST_ROWS rows through the peer's API" \
	    "($peer_rows in all), $peer_rows through ours"
	api_upload_rows "$PURL" "$PEER_LIST_ROWS"
	api_upload_rows "$URL" "$peer_rows"
	api_rows=$(psql_fu -tAc 'SELECT count(*) FROM files')
	list_check api-list "$URL" "$api_rows"
	list_check peer-list "$PURL" "$peer_rows"
	ali=() alirss=() pli=() plirss=()
	for i in $(seq 1 "$RUNS"); do
		list_once api-list "$i" "$URL" "$api_rows" ours
		ali+=("$L_RPS") alirss+=("$L_RSS")
		list_once peer-list "$i" "$PURL" "$peer_rows" peer
		pli+=("$L_RPS") plirss+=("${L_RSS:-0}")
	done
	PLI_OURS=$(median "${ali[@]}") PLI_OURS_RSS=$(maxof "${alirss[@]}")
	PLI_PEER=$(median "${pli[@]}") PLI_PEER_RSS=$([ -z "$PEER_PIDS" ] || maxof "${plirss[@]}")
	PLI_OURS_ROWS=$api_rows PLI_PEER_ROWS=$peer_rows
fi

# --------------------------------------------------------- 1. uploads

if [ "${BENCH_FANOUT:-0}" = 1 ]; then
	fu_log "making the 65,536 fan-out directories of DATA_DIR (BENCH_FANOUT=1)"
	(cd "$FU_VAR/data" && for a in $(seq 0 255); do
		for b in $(seq 0 255); do
			printf '%02x/%02x\n' "$a" "$b"
		done
	done | xargs mkdir -p)
	find "$FU_VAR/data" -mindepth 1 -maxdepth 2 -type d ! -name tmp \
	    -exec chown "$FU_USER:$FU_NGINX_GROUP" {} + -exec chmod 2750 {} +
	sync
fi
fu_log "1. small uploads ($CONTENT): $RUNS x ${SECS}s, $CONNS connections${PEER:+, alternating with the peer}"
wrk_pair uploads "$URL" "$PURL" "$BENCH/upload.lua" "$nonce-{run}" 4096 "$CONTENT"
UP_RPS=$W_RPS UP_P50=$W_P50 UP_P99=$W_P99 UP_BAD=$W_BAD
[ -z "$PEER" ] || PUP_RPS=$P_RPS PUP_P50=$P_P50 PUP_P99=$P_P99 PUP_BAD=$P_BAD
rows=$(psql_fu -tAc 'SELECT count(*) FROM files')
files=$(find "$FU_VAR/data" -path "$FU_VAR/data/tmp" -prune -o -type f -print | wc -l)
summary "uploads: $rows rows, $files stored files after the upload runs"
[ "$rows" = "$files" ] || fu_log "warning: $rows rows but $files stored files"

# ------------------------------------------------------------ ceilings

fu_log "ceiling: nginx return 200"
wrk_run nginx-return "$CURL/ok" "$BENCH/status.lua" 200
RET_RPS=$W_RPS RET_BAD=$W_BAD
fu_log "ceiling: nginx -> null FastCGI ($WORKERS responders)"
wrk_run null-fastcgi "$CURL/null" "$BENCH/status.lua" 200
NULL_RPS=$W_RPS NULL_BAD=$W_BAD

fu_log "ceiling: the same 4 KiB uploads to the null FastCGI pool"
wrk_run null-uploads "$CURL/null" "$BENCH/upload.lua" "$nonce-n{run}" 4096 "$CONTENT" 200
NULL_UP_RPS=$W_RPS

fu_log "2. metadata GET"
hash=$(psql_fu -tAc 'SELECT file_hash FROM files ORDER BY id LIMIT 1')
wrk_pair get "$URL/$hash" "${PEER:+$PURL/$PEER_HASH}" "$BENCH/status.lua" 200
GET_RPS=$W_RPS GET_P99=$W_P99 GET_BAD=$W_BAD
[ -z "$PEER" ] || PGET_RPS=$P_RPS PGET_P99=$P_P99 PGET_BAD=$P_BAD

fu_log "ceiling: PostgreSQL single-row INSERT commits (pgbench -c $CONNS)"
psql_fu -c 'CREATE TABLE bench_scratch (LIKE files INCLUDING ALL)'
cat >"$RAW/pgbench-insert.sql" <<'EOF'
\set r random(1, 2000000000)
INSERT INTO bench_scratch (file_hash, file_name, file_type, file_size) VALUES (md5(:client_id || '-' || :r || '-' || clock_timestamp()) || md5(:r || '-' || clock_timestamp()), 'bench.bin', 'application/octet-stream', 4096);
EOF
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
pgbench_run "$CONNS" ""
PG_TPS=$PGB
# At the pool's concurrency: at most WORKERS uploads are in flight.
fu_log "ceiling: the same with $POOL_CONC clients (the pool's concurrency)"
pgbench_run "$POOL_CONC" "-w"
PG_TPS_W=$PGB
psql_fu -c 'DROP TABLE bench_scratch'

# The GET's own query (src/db.c, ST_GET), alone, at the pool's concurrency:
# each GET waits for one, so the GET's bound is this and the null FastCGI
# in series.  pgbench would take the format's ":MI" for a variable: the
# colons are chr(58), folded into the same constant when planned.
fu_log "ceiling: the metadata GET's SELECT ($POOL_CONC clients)"
fmt_ts="'YYYY-MM-DD\"T\"HH24' || chr(58) || 'MI' || chr(58) || 'SS\"Z\"'"
cat >"$RAW/pgbench-get.sql" <<EOF
SELECT file_hash, file_name, file_type, file_size, to_char(created_at AT TIME ZONE 'UTC', $fmt_ts), to_char(updated_at AT TIME ZONE 'UTC', $fmt_ts) FROM files WHERE file_hash = '$hash';
EOF
pgbench_run "$POOL_CONC" "-get" "$RAW/pgbench-get.sql"
PG_GET_W=$PGB

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
fu_log "ceiling: durable 4 KiB files ($CONNS threads)"
[ "$(stat -c %d "$FU_VAR/work")" = "$(stat -c %d "$FU_VAR/data")" ] ||
    fu_die "$FU_VAR/work is not on DATA_DIR's file system"
durable_run "$CONNS" ""
DUR_OPS=$DUR
fu_log "ceiling: the same with $POOL_CONC threads (the pool's concurrency)"
durable_run "$POOL_CONC" "-w"
DUR_OPS_W=$DUR

fu_log "ceiling: BLAKE2b-256 speed"
bl=()
for i in $(seq 1 "$((RUNS > 3 ? RUNS : 3))"); do
	"$BIN/blake2b_speed" 256 256 >"$RAW/blake2b.$i.txt"
	bl+=("$(field mb_per_s "$(cat "$RAW/blake2b.$i.txt")")")
done
summary "blake2b runs: ${bl[*]} MB/s"
B2_MBS=$(median "${bl[@]}")

fu_log "ceiling: ${LARGE_MIB} MiB write + fsync (dd)"
dd_mbs=()
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

# ------------------------------------------------------- 4. large upload

fu_log "4. large upload: $LARGE_MIB MiB of random bytes${PEER:+, alternating with the peer}"
big=$FU_VAR/work/big.bin
head -c "${LARGE_MIB}M" /dev/urandom >"$big"
chmod 0644 "$big"
big_bytes=$(stat -c %s "$big")
big_hash=$(b2sum -l 256 "$big" | cut -d' ' -f1)
sync
lu=()
lrss=()
lw=()
plu=()
plrss=()
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
	# The worker's own time for it (its log line): with buffering on,
	# nginx has the whole body before the worker starts.
	wms=$(grep " POST /service/fileupload 201 .* $big_hash\$" \
	    "$FU_VAR/logs/fileupload.log" | tail -n 1 | awk '{ sub(/ms$/, "", $(NF - 1)); print $(NF - 1) }')
	lw+=("${wms:-0}")
	summary "large upload run $i: ${lu[-1]} MB/s ($secs s; the worker's part ${wms:-?} ms)," \
	    "largest worker peak RSS growth $M_MAX KiB"
	cat "$RAW/large-upload.$i.mem.txt" >>"$RES/summary.txt"
	[ "$i" -eq "$RUNS" ] ||
	    curl -sS -o /dev/null -X DELETE "$URL/$big_hash"
	[ -n "$PEER" ] || continue
	# The same file to the peer.  Its hash is its own (the reference's is
	# not BLAKE2b-256): taken from its answer, and a 403 for the same
	# bytes left by an earlier run deletes them and tries again.
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
fu_log "ceiling: the same upload to the null FastCGI pool"
nlu=()
for i in $(seq 1 "$RUNS"); do
	r=$(curl_time /dev/null -F "upfile=@$big" "$CURL/null")
	read -r code _ _ secs <<<"$r"
	[ "$code" = 200 ] || fu_die "null large upload run $i: HTTP $code"
	nlu+=("$(mbps "$big_bytes" "$secs")")
	summary "null FastCGI large upload run $i: ${nlu[-1]} MB/s"
done
NULL_LU_MBS=$(median "${nlu[@]}")
LU_RSS=$(maxof "${lrss[@]}")
LU_WORKER_S=$(awk -v ms="$(median "${lw[@]}")" 'BEGIN { printf "%.1f", ms / 1000 }')
LU_TOTAL_S=$(awk -v b="$big_bytes" -v r="$LU_MBS" 'BEGIN { printf "%.1f", b / r / 1e6 }')

# ------------------------------------------------------- 5. download

fu_log "5. download of the large file, and nginx sendfile (ceiling)"
ln "$big" "$CEIL/www/big.bin"
dl=()
sf=()
pdl=()
curl -sS -o /dev/null "$URL/$big_hash/content"
[ -z "$PEER" ] || curl -sS -o /dev/null "$PURL/$PEER_BIG_HASH/content"
curl -sS -o /dev/null "$CURL/static/big.bin"
# A transfer takes well under a second: each run is 3 of each, alternated
# (ours, nginx's, the peer's), and the figure is the median of all of them.
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

# ------------------------------------------------------------- 3. list

fu_log "3. list: loading $LIST_ROWS rows with SQL"
psql_fu -c "INSERT INTO files (file_hash, file_name, file_type, file_size)
    SELECT md5('bench' || i) || md5('bench-' || i), 'bench-' || i || '.txt',
    'text/plain', i FROM generate_series(1, $LIST_ROWS) AS i" \
    -c 'VACUUM ANALYZE files' >/dev/null
rows=$(psql_fu -tAc 'SELECT count(*) FROM files')
# Warm-up: every worker serves pages, then one whole list (checked).
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
if [ -n "$PEER" ] && [ "$PEER_SQL" -eq 1 ]; then
	# The same rows in the peer's table (same columns; its own hashes, so
	# that repeated runs never collide), removed again on exit.
	fu_log "3. list: loading $LIST_ROWS rows into the peer's database with SQL"
	PEER_LIST_LOADED=1
	psql_peer -c "INSERT INTO files (file_hash, file_name, file_type, file_size)
	    SELECT md5('$nonce' || i) || md5('$nonce-' || i),
	    'benchlist-$nonce-' || i || '.txt', 'text/plain', i
	    FROM generate_series(1, $LIST_ROWS) AS i" -c 'VACUUM ANALYZE files' >/dev/null
	peer_rows=$(psql_peer -tAc 'SELECT count(*) FROM files')
	list_check peer-list "$PURL" "$peer_rows"
fi
li=()
lirss=()
pli=()
plirss=()
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

# ------------------------------------------------------------ profiling

# perf_top FILE N PERF_REPORT_ARGS...: the first N lines of a report.
perf_top() {
	local data=$1 n=$2
	shift 2
	perf report -i "$data" --stdio --no-children -g none "$@" \
	    >"$RAW/.report" 2>/dev/null || true
	awk -v n="$n" '!/^#/ && NF && c++ < n' "$RAW/.report"
}
# profile NAME TITLE COMMAND...: COMMAND under perf record -a -g, then the
# hot spots per command, in the worker and in PostgreSQL.
profile() {
	local name=$1 title=$2 data=$RAW/perf-$1.data
	shift 2
	fu_log "profiling (not counted): $title"
	perf record -a -g -F 499 -o "$data" -- "$@" \
	    >"$RAW/$name.profiled.txt" 2>"$RAW/perf-$name.log" || true
	{
		echo "=================== $title (perf record -a -g)"
		echo
		echo "== CPU samples per command (share of all samples)"
		perf_top "$data" 12 --sort comm
		echo
		echo "== fileupload-worker by library (share of the worker's samples)"
		# Summed from dso,sym: perf 6.1's "--sort dso" drops the kernel.
		perf_top "$data" 100000 --comms fileupload-work \
		    --percentage relative --sort dso,sym |
		    awk '{ sub(/%/, "", $1); s[$2] += $1 }
		    END { for (d in s) printf "%8.2f%%  %s\n", s[d], d }' |
		    sort -rn | sed -n 1,10p
		echo
		echo "== fileupload-worker: hottest symbols"
		perf_top "$data" 30 --comms fileupload-work --percentage relative --sort dso,sym
		echo
		echo "== postgres: hottest symbols"
		perf_top "$data" 15 --comms postgres --percentage relative --sort dso,sym
		echo
		echo "== nginx: hottest symbols"
		perf_top "$data" 10 --comms nginx --percentage relative --sort dso,sym
		echo
	} >>"$RES/perf-hotspots.txt"
}

if [ "$PROFILE" = 1 ] && command -v perf >/dev/null; then
	: >"$RES/perf-hotspots.txt"
	profile uploads "small uploads (wrk, ${SECS}s)" \
	    wrk -t"$WRK_THREADS" -c"$CONNS" -d"${SECS}s" -s "$BENCH/upload.lua" \
	    "$URL" -- "$nonce-perf" 4096 "$CONTENT"
	curl -sS -o /dev/null -X DELETE "$URL/$big_hash"
	profile large-upload "large upload ($LARGE_MIB MiB, curl -F)" \
	    curl -sS -o "$RAW/large-upload.profiled.json" -F "upfile=@$big" "$URL"
	profile list "list ($(fmt "$rows") rows, curl)" \
	    curl -sS -o /dev/null "$URL"
	profile get "metadata GET (wrk, ${SECS}s)" \
	    wrk -t"$WRK_THREADS" -c"$CONNS" -d"${SECS}s" -s "$BENCH/status.lua" \
	    "$URL/$hash" -- 200

	# System calls: perf trace -p does not attach here, so trace the
	# whole machine and keep the sections of this pool's workers.
	wpids=$(fu_pool_pids | paste -sd, -)
	fu_log "profiling (not counted): system calls during small uploads"
	perf trace -s -a -o "$RAW/perf-trace-uploads.txt" -- \
	    wrk -t"$WRK_THREADS" -c"$CONNS" -d"${SECS}s" -s "$BENCH/upload.lua" \
	    "$URL" -- "$nonce-trace" 4096 "$CONTENT" >"$RAW/uploads.traced.txt" 2>&1 || true
	fu_log "profiling (not counted): system calls during a large upload"
	curl -sS -o /dev/null -X DELETE "$URL/$big_hash"
	perf trace -s -a -o "$RAW/perf-trace-large.txt" -- \
	    curl -sS -o "$RAW/large-upload.traced.json" -F "upfile=@$big" "$URL" \
	    || true
	for t in uploads large; do
		echo "=================== system calls of the workers during" \
		    "$([ "$t" = uploads ] && echo "small uploads" || echo "a large upload") (perf trace -s -a)"
		[ "$t" != uploads ] || grep '^BENCH' "$RAW/uploads.traced.txt" || true
		# A section starts " comm (pid), N events"; keep this pool's.
		awk -v pids=",$wpids," '
		    / events/ && $2 ~ /^\([0-9]+\),$/ {
		        keep = $1 == "fileupload-work" &&
		            index(pids, "," substr($2, 2, length($2) - 3) ",") > 0 }
		    keep && NF' "$RAW/perf-trace-$t.txt"
		echo
	done >>"$RES/perf-hotspots.txt"
fi

LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
summary "load average at end: $LOAD_END"

# --------------------------------------------------------------- table

serial_get=$(serial "$NULL_RPS" "$PG_GET_W")
serial_w=$(serial "$DUR_OPS_W" "$PG_TPS_W")
floor_small=$(awk -v a="$DUR_OPS" -v b="$PG_TPS" 'BEGIN { print (a < b) ? a : b }')
r_small=$(ratio "$UP_RPS" "$floor_small")
res_small=$(atleast "$r_small" 0.80)
[ "$UP_BAD" -eq 0 ] || res_small="MISS (non-201/errors: $UP_BAD)"
r_get=$(ratio "$GET_RPS" "$NULL_RPS")
res_get=$(atleast "$r_get" 0.80)
[ "$GET_BAD" -eq 0 ] || res_get="MISS (non-200/errors: $GET_BAD)"
r_large=$(ratio "$LU_MBS" "$B2_MBS")
res_large=$(atleast "$r_large" 0.60)
[ "$LU_RSS" -le 16384 ] || res_large="MISS (RSS)"
r_dl=$(ratio "$DL_MBS" "$SF_MBS")
res_dl=$(atleast "$r_dl" 0.90)
r_list=$(ratio "$LI_RPS" 500000)
res_list=$(atleast "$r_list" 1)
[ "$LI_RSS" -le 8192 ] || res_list="MISS (RSS)"

# peer_table: the side-by-side section of the table (with --peer).
peer_table() {
	local list_how

	# prss KIB: ", RSS +N" when the growth was measured.
	prss() {
		[ -z "$1" ] || echo ", RSS $(kib "$1")"
	}
	if [ "$PEER_SQL" -eq 1 ]; then
		list_how="$(fmt "$PLI_OURS_ROWS") / $(fmt "$PLI_PEER_ROWS") rows (loaded by SQL)"
	else
		list_how="$(fmt "$PLI_OURS_ROWS") / $(fmt "$PLI_PEER_ROWS") rows, uploaded through each API (no SQL access to the peer's database)"
	fi
	echo
	echo "## Side by side with the peer at $PEER"
	echo
	echo "Each run of ours followed by the same run of the peer's: same wrk"
	echo "connections ($CONNS), same content, the same $LARGE_MIB MiB file."
	echo
	echo "| figure | ours | peer | ours/peer |"
	echo "|---|---|---|---|"
	echo "| small uploads, 4 KiB $CONTENT, $CONNS conn | $(fmt "$UP_RPS")/s (p50 $(ms "$UP_P50"), p99 $(ms "$UP_P99"), non-201 $UP_BAD) | $(fmt "$PUP_RPS")/s (p50 $(ms "$PUP_P50"), p99 $(ms "$PUP_P99"), non-201 $PUP_BAD) | $(ratio "$UP_RPS" "$PUP_RPS") |"
	echo "| metadata GET, $CONNS conn | $(fmt "$GET_RPS") req/s (p99 $(ms "$GET_P99")$([ "$GET_BAD" -eq 0 ] || echo ", errors $GET_BAD")) | $(fmt "$PGET_RPS") req/s (p99 $(ms "$PGET_P99")$([ "$PGET_BAD" -eq 0 ] || echo ", errors $PGET_BAD")) | $(ratio "$GET_RPS" "$PGET_RPS") |"
	echo "| list, one GET, $list_how | $(fmt "$PLI_OURS") rows/s$(prss "$PLI_OURS_RSS") | $(fmt "$PLI_PEER") rows/s$(prss "$PLI_PEER_RSS") | $(ratio "$PLI_OURS" "$PLI_PEER") |"
	echo "| large upload, $LARGE_MIB MiB, curl -F | $(fmt "$LU_MBS") MB/s$(prss "$LU_RSS") | $(fmt "$PLU_MBS") MB/s$(prss "$PLU_RSS") | $(ratio "$LU_MBS" "$PLU_MBS") |"
	echo "| download, $LARGE_MIB MiB, content route | $(fmt "$DL_MBS") MB/s | $(fmt "$PDL_MBS") MB/s | $(ratio "$DL_MBS" "$PDL_MBS") |"
	echo
	echo "RSS: ours, the largest peak growth of a worker (the serving one for"
	echo "the list); the peer's, of its processes in $([ -n "$PEER_PIDS" ] &&
	    echo "$PEER_PIDS" || echo "--peer-pids (not given: not measured)")."
	echo "What the reference peer (../shared/peers/README.md) does less per"
	echo "upload: no fsync of the directory after the rename (ours fsyncs the"
	echo "file and its directory before the row commits), no libmagic (its"
	echo "file_type is the client's claim), and BLAKE2b-512 truncated to 64 hex"
	echo "digits instead of BLAKE2b-256.  Both PostgreSQL clusters run with"
	echo "fsync and synchronous_commit on; in the CPU lines below the peer's"
	echo "processes are \"node\", and its PostgreSQL counts in \"postgres\"."
}

{
	echo "# fileupload benchmark, $stamp"
	echo
	sed 's/^/    /' "$RES/env.txt"
	echo "    load average (1, 5, 15 min): $LOAD_START at start, $LOAD_END at end"
	echo
	echo "| figure | value | ceiling | ratio | target | result |"
	echo "|---|---|---|---|---|---|"
	echo "| small uploads, 4 KiB $CONTENT, $CONNS conn | $(fmt "$UP_RPS") uploads/s (p50 $(ms "$UP_P50"), p99 $(ms "$UP_P99"), non-201 $UP_BAD) | min(durable files, INSERT commits) $(fmt "$floor_small")/s | $r_small | >= 0.80 | $res_small |"
	echo "| ↳ vs durable 4 KiB files ($CONNS threads) | | $(fmt "$DUR_OPS") files/s | $(ratio "$UP_RPS" "$DUR_OPS") | | |"
	echo "| ↳ vs PostgreSQL INSERT commits (pgbench -c $CONNS) | | $(fmt "$PG_TPS") commits/s | $(ratio "$UP_RPS" "$PG_TPS") | | |"
	echo "| ↳ vs the same uploads to nginx -> null FastCGI ($WORKERS responders) | | $(fmt "$NULL_UP_RPS")/s | $(ratio "$UP_RPS" "$NULL_UP_RPS") | | |"
	echo "| ↳ vs both in series at the pool's concurrency ($POOL_CONC): 1/(1/files + 1/commits) | | $(fmt "$serial_w")/s (files $(fmt "$DUR_OPS_W")/s, commits $(fmt "$PG_TPS_W")/s) | $(ratio "$UP_RPS" "$serial_w") | | |"
	echo "| metadata GET, $CONNS conn | $(fmt "$GET_RPS") req/s (p99 $(ms "$GET_P99")) | nginx -> null FastCGI $(fmt "$NULL_RPS") req/s | $r_get | >= 0.80 | $res_get |"
	echo "| ↳ vs null FastCGI and its SELECT in series (pgbench $(fmt "$PG_GET_W")/s, $POOL_CONC clients): 1/(1/null + 1/select) | | $(fmt "$serial_get") req/s | $(ratio "$GET_RPS" "$serial_get") | | |"
	echo "| ↳ vs nginx return 200 | | $(fmt "$RET_RPS") req/s | $(ratio "$GET_RPS" "$RET_RPS") | | |"
	echo "| null FastCGI vs nginx return 200 | $(fmt "$NULL_RPS") req/s | $(fmt "$RET_RPS") req/s | $(ratio "$NULL_RPS" "$RET_RPS") | | $([ "$NULL_BAD$RET_BAD" = 00 ] || echo "errors: $NULL_BAD/$RET_BAD") |"
	echo "| list, $(fmt "$rows") rows, one GET | $(fmt "$LI_RPS") rows/s, RSS $(kib "$LI_RSS") | 500,000 rows/s (target) | $r_list | >= 1.00, RSS <= 8 MiB | $res_list |"
	echo "| large upload, $LARGE_MIB MiB, curl -F | $(fmt "$LU_MBS") MB/s (${LU_TOTAL_S} s, of which the worker ${LU_WORKER_S} s), RSS $(kib "$LU_RSS") | BLAKE2b-256 $(fmt "$B2_MBS") MB/s | $r_large | >= 0.60, RSS <= 16 MiB | $res_large |"
	echo "| ↳ vs the same upload to nginx -> null FastCGI | | $(fmt "$NULL_LU_MBS") MB/s | $(ratio "$LU_MBS" "$NULL_LU_MBS") | | |"
	echo "| ↳ vs $LARGE_MIB MiB write + fsync (dd) | | $(fmt "$DD_MBS") MB/s | $(ratio "$LU_MBS" "$DD_MBS") | | |"
	echo "| download, $LARGE_MIB MiB, content route | $(fmt "$DL_MBS") MB/s | nginx sendfile $(fmt "$SF_MBS") MB/s | $r_dl | >= 0.90 | $res_dl |"
	[ -z "$PEER" ] || peer_table
	echo
	echo "Medians of $RUNS run(s); RSS: the largest peak growth over the runs."
	echo "MB = 10^6 bytes.  Each run's values: summary.txt; raw outputs: raw/."
	echo
	echo "CPU during the first run of each (1.00 = one core busy for the whole run;"
	echo "\"other\" names the busiest processes that are not part of the stack):"
	echo
	for n in uploads null-uploads get null-fastcgi nginx-return large-upload list \
	    ${PEER:+peer-uploads peer-get peer-large-upload peer-list}; do
		f=$RAW/$n.1.txt
		[ -f "$f" ] || f=$RAW/$n.1.mem.txt
		[ -f "$f" ] || continue
		printf '    %-17s %s\n' "$n" "$(grep -h '^cpu:' "$f" | head -n 1)"
	done
} >"$RES/table.md"

echo
cat "$RES/table.md"
echo
[ ! -f "$RES/perf-hotspots.txt" ] || echo "hot spots: $RES/perf-hotspots.txt"
echo "results: $RES"
