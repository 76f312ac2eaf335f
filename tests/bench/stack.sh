# shellcheck shell=bash disable=SC2034
# (SC2034: the variables set here are read by the figure scripts.)
#
# tests/bench/stack.sh: the machinery of run.sh, its figure scripts
# (fig_*.sh, ceilings.sh, profile.sh) and compare.sh: options, set-up of
# the private stack and of the ceilings' nginx and null FastCGI pool, load
# runs (wrk), RSS and CPU accounting, medians and the table.  Sources
# scripts/lib.sh and tests/bench/lib.sh.  Starts nothing by itself.
#
# A script runs bench_options "$@", then bench_setup, then its figures;
# bench_setup's EXIT trap stops everything it started, by PID.

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
# shellcheck source=tests/bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BENCH=$FU_ROOT/tests/bench

# ------------------------------------------------------------- options

# bench_options [--quick] [--peer URL [--peer-pids FILE] [--peer2 URL]]
# [ARG...]: the command line of run.sh and of each figure script, and the
# BENCH_* settings (run.sh's header lists them).  Other arguments go to
# BENCH_ARGS.  --s3 is BENCH_S3=1, --capacity BENCH_CAPACITY=1, --link
# BENCH_LINK=1.  Sets BENCH_S3, BENCH_CAPACITY, BENCH_LINK, QUICK, PEER,
# PURL, PEER_PIDS, PEER2, PURL2, PEER_DB, PEER_LIST_ROWS,
# RUNS, SECS, CONNS, WRK_THREADS, LARGE_MIB, LIST_ROWS, PROFILE, CONTENT,
# WORKERS, POOL_CONC, REQUEST_BUFFERING.
bench_options() {
	local usage="usage: $0 [--quick] [--s3] [--capacity] [--link] [--peer URL [--peer-pids FILE] [--peer2 URL]]" v

	QUICK=0
	PEER=
	PURL=
	PEER_PIDS=
	PEER2=
	PURL2=
	BENCH_ARGS=()
	while [ "$#" -gt 0 ]; do
		case $1 in
		--quick) QUICK=1 ;;
		--s3) BENCH_S3=1 ;;
		--capacity) BENCH_CAPACITY=1 ;;
		--link) BENCH_LINK=1 ;;
		--peer | --peer-pids | --peer2)
			[ "$#" -ge 2 ] || fu_die "$1 needs a value ($usage)"
			case $1 in
			--peer) PEER=$2 ;;
			--peer2) PEER2=$2 ;;
			*) PEER_PIDS=$2 ;;
			esac
			shift
			;;
		--peer=*) PEER=${1#--peer=} ;;
		--peer2=*) PEER2=${1#--peer2=} ;;
		--peer-pids=*) PEER_PIDS=${1#--peer-pids=} ;;
		-h | --help)
			sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
			exit 0
			;;
		-*) fu_die "unknown argument $1 ($usage)" ;;
		*) BENCH_ARGS+=("$1") ;;
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
		# The reference's own PostgreSQL (../shared/peers/README.md):
		# the list's rows go in by SQL when the peer's table has our
		# columns.
		PEER_DB=${BENCH_PEER_DB:-host=127.0.0.1 port=55432 user=postgres dbname=peer_node}
		PEER_LIST_ROWS=${BENCH_PEER_LIST_ROWS:-3000}
		[ -z "$PEER_PIDS" ] || [ -r "$PEER_PIDS" ] ||
		    fu_die "--peer-pids $PEER_PIDS: not readable"
		if [ -n "$PEER2" ]; then
			PEER2=${PEER2%/}
			case $PEER2 in
			http://* | https://*) ;;
			*) fu_die "--peer2 $PEER2: a base URL such as http://127.0.0.1:8091" ;;
			esac
			PURL2=$PEER2/service/fileupload
		fi
	elif [ -n "$PEER_PIDS$PEER2" ]; then
		fu_die "--peer-pids and --peer2 need --peer"
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
	# Requests in flight at once: one per wrk connection, as long as the
	# pool has threads for them.
	POOL_CONC=$((CONNS < WORKERS * ${FILEUPLOAD_THREADS:-256} ? CONNS :
	    WORKERS * ${FILEUPLOAD_THREADS:-256}))
	case ${BENCH_S3:=0}/${BENCH_CAPACITY:=0}/${BENCH_LINK:=0} in
	[01]/[01]/[01]) ;;
	*) fu_die "BENCH_S3=$BENCH_S3, BENCH_CAPACITY=$BENCH_CAPACITY, BENCH_LINK=$BENCH_LINK: use 0 or 1" ;;
	esac
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
}

# -------------------------------------------------------------- set-up

# bench_install: what is missing (and wrk, perf), unless FU_SKIP_INSTALL=1.
bench_install() {
	if [ "${FU_SKIP_INSTALL:-0}" != 1 ]; then
		fu_install_deps test
		fu_install_packages wrk
		# perf is optional: a machine without it still measures.
		fu_install_packages linux-perf || fu_log "linux-perf not installed; no profiles"
	fi
	command -v wrk >/dev/null || fu_die "wrk is missing (apt-get install wrk)"
}

# bench_setup [TAG]: installs, builds (or takes BENCH_WORKER), makes
# results/<date>[-quick][-TAG]/ ($RES, $RAW) and the temp dir ($FU_VAR),
# starts the private stack and the ceilings' nginx and null pool, writes
# env.txt and probes the peer.  Its traps stop all of it on exit.
bench_setup() {
	fu_require_root
	bench_install
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
	stamp=$stamp${1:+-$1}
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
	trap bench_on_signal INT TERM
	trap bench_cleanup EXIT

	chmod 0755 "$FU_VAR"
	fu_prepare_dirs
	mkdir -p "$BIN" "$CEIL/www" "$CEIL/tmp" "$FU_VAR/work"
	chmod 0755 "$BIN" "$CEIL" "$CEIL/www"

	fu_log "compiling the ceiling tools into $BIN"
	gcc -O2 -Wall -pthread -o "$BIN/null_responder" "$BENCH/null_responder.c" -lfcgi
	gcc -O2 -Wall -o "$BIN/blake2b_speed" "$BENCH/blake2b_speed.c" -lsodium
	gcc -O2 -Wall -pthread -o "$BIN/durable_files" "$BENCH/durable_files.c"

	[ "$BENCH_S3" -eq 0 ] || bench_rgw_start
	bench_stack "$pg_dir" 25600 18080 "$WORKER_BIN"
	bench_ceiling_start
	bench_record
	nonce=$(date +%s)-$$
	[ -z "$PEER" ] || bench_peer_probe
}

# shellcheck disable=SC2317  # called from the traps
bench_ceiling_stop() {
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
bench_cleanup() {
	[ "$stopping" -eq 0 ] || return 0
	stopping=1
	trap '' INT TERM
	bench_ceiling_stop || true
	[ -z "$PEER" ] || peer_cleanup || true
	fu_nginx_stop || true
	fu_pool_stop || true
	[ "${FU_PG_STARTED:-0}" -ne 1 ] || fu_pg_stop "$pg_dir" || true
	[ -z "${FU_RGW_DIR:-}" ] || fu_rgw_stop "$FU_RGW_DIR" || true
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		fu_log "kept $FU_VAR"
	else
		rm -rf "$FU_VAR"
	fi
}
# shellcheck disable=SC2317  # called from the traps
bench_on_signal() {
	fu_log "interrupted; stopping"
	bench_cleanup
	exit 130
}

# bench_rgw_start (BENCH_S3=1): Ceph RGW in $FU_VAR/rgw (bluestore on a
# sparse file), on ports away from the tests' (27480...), its bucket, and
# STORAGE=s3 with its S3_* settings (DIR/s3.env, path style by 127.0.0.1)
# exported for the pool, as scripts/run does.  Sets S3_BUCKET.
bench_rgw_start() {
	fu_log "starting Ceph RGW in $FU_VAR/rgw (BENCH_S3=1)"
	fu_rgw_start "$FU_VAR/rgw" "$(fu_rgw_free_port $((29480 + RANDOM % 40 * 10)))" ||
	    fu_die "Ceph RGW did not start"
	set -a
	# shellcheck source=/dev/null
	. "$FU_RGW_DIR/s3.env"
	set +a
	export STORAGE=s3 S3_BUCKET=${S3_BUCKET:-fileupload-bench}
	fu_rgw_s3 mb "$S3_BUCKET" || fu_die "making the bucket $S3_BUCKET failed"
}

psql_fu() {
	fu_pg_psql "$pg_dir" fileupload "$@"
}

# bench_ceiling_start: the ceilings' nginx ($CURL: return 200, a static
# file, a location for the null pool) and the pool of WORKERS null FastCGI
# responders.  Same worker count, sendfile, access log and kept FastCGI
# connections (FCGI_KEEPALIVE) as the service's nginx, on its own port.
bench_ceiling_start() {
	local keep_conn=on keepalive="keepalive ${FCGI_KEEPALIVE:-16};"

	if [ "${FCGI_KEEPALIVE:-16}" = 0 ]; then
		keep_conn=off
		keepalive=
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
		$keepalive
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
			fastcgi_keep_conn $keep_conn;
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
}

# bench_record: env.txt (machine, commit, versions) and the load average
# at the start, the first line of summary.txt.
bench_record() {
	local dirty='' wrk_version

	{
		echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
		echo "mode: $([ "$QUICK" -eq 1 ] && echo quick || echo full)," \
		    "runs $RUNS, $SECS s per load run, $CONNS connections"
		echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)," \
		    "kernel $(uname -r), $(findmnt -no FSTYPE -T "$FU_VAR/data") on $(findmnt -no SOURCE -T "$FU_VAR/data")"
		if git -C "$FU_ROOT" status --porcelain -- src 2>/dev/null | grep -q .; then
			dirty=" (src/ has uncommitted changes)"
		fi
		echo "commit: $(git -C "$FU_ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$dirty"
		echo "workers: $WORKERS, REQUEST_BUFFERING=$REQUEST_BUFFERING," \
		    "small uploads' content: $CONTENT$([ "${BENCH_FANOUT:-0}" != 1 ] ||
		    echo ", fan-out directories made beforehand")"
		[ "$BENCH_S3" -eq 0 ] ||
		    echo "storage: s3, Ceph RGW $(radosgw --version 2>/dev/null |
		    awk '{ print $3 }') at $S3_ENDPOINT (bluestore, one OSD)," \
		    "bucket $S3_BUCKET, path style, S3_PART_SIZE=${S3_PART_SIZE:-8388608}"
		wrk_version=$(wrk --version 2>&1 || true)
		wrk_version=${wrk_version%% \[*}
		echo "versions: $(nginx -v 2>&1 | sed 's/^nginx version: //'), PostgreSQL" \
		    "$(psql_fu -tAc 'SHOW server_version'), $wrk_version"
		echo "postgres: $(psql_fu -tAc "SELECT string_agg(name || '=' || setting, ' ' ORDER BY name)
		    FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit',
		    'wal_sync_method', 'shared_buffers', 'commit_delay', 'full_page_writes')")"
	} >"$RES/env.txt"
	LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
	summary "load average at start: $LOAD_START"
}

# summary LINE...: one line of summary.txt (led by $summary_tag, when set,
# as compare.sh tells its two sides apart).
summary() {
	printf '%s%s\n' "${summary_tag:+$summary_tag: }" "$*" >>"$RES/summary.txt"
}

# bench_standalone FUNCTION... [-- ARGS]: a figure script run by itself:
# the options, a private stack of its own, the figure's prerequisites
# (bench_need_*) when FUNCTION needs them, FUNCTION, then the run's values.
bench_standalone() {
	local f
	local -a fns=()

	while [ "$#" -gt 0 ] && [ "$1" != -- ]; do
		fns+=("$1")
		shift
	done
	[ "$#" -eq 0 ] || shift
	set -E
	trap 'fu_log "failed at line $LINENO: $BASH_COMMAND"' ERR
	bench_options "$@"
	[ "${#BENCH_ARGS[@]}" -eq 0 ] || fu_die "unknown argument ${BENCH_ARGS[0]}"
	bench_setup "$(basename "$0" .sh)"
	for f in "${fns[@]}"; do
		"$f"
	done
	LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
	summary "load average at end: $LOAD_END"
	echo
	cat "$RES/summary.txt"
	echo "results: $RES"
}

# bench_need_hash: $hash, a stored small file (the metadata GET's): the
# first row, after one upload when the store is empty.
bench_need_hash() {
	hash=$(psql_fu -tAc 'SELECT file_hash FROM files ORDER BY id LIMIT 1')
	[ -z "$hash" ] || return 0
	head -c 4096 /dev/urandom >"$FU_VAR/work/one.bin"
	curl -sS -o /dev/null -F "upfile=@$FU_VAR/work/one.bin" "$URL"
	rm -f "$FU_VAR/work/one.bin"
	hash=$(psql_fu -tAc 'SELECT file_hash FROM files ORDER BY id LIMIT 1')
	[ -n "$hash" ] || fu_die "uploading one small file failed"
}

# bench_big_file: $big, LARGE_MIB MiB of random bytes ($big_bytes,
# $big_hash), made once.
bench_big_file() {
	big=$FU_VAR/work/big.bin
	[ ! -f "$big" ] || return 0
	head -c "${LARGE_MIB}M" /dev/urandom >"$big"
	chmod 0644 "$big"
	big_bytes=$(stat -c %s "$big")
	big_hash=$(b2sum -l 256 "$big" | cut -d' ' -f1)
	sync
}

# bench_need_big: the large file, stored (the download's).
bench_need_big() {
	bench_big_file
	[ "$(curl -sS -o /dev/null -w '%{http_code}' "$URL/$big_hash")" != 200 ] ||
	    return 0
	curl -sS -o /dev/null -F "upfile=@$big" "$URL"
}

# ------------------------------------------------------------- helpers

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
# PEER_URL when it is not empty (output in $RAW/peer-NAME.I.txt), and then
# against PAIR_PEER2 when that is set (a second peer: $RAW/peer2-NAME.I.txt),
# so that all see the same moments of a machine that may not be quiet.
# "{run}" in SCRIPT_ARGS becomes the run's number (p, q and the number for
# the peers).  Sets W_RPS, W_P50, W_P99, W_BAD for URL (see wrk_stats),
# P_RPS, P_P50, P_P99, P_BAD for PEER_URL and Q_RPS, Q_P50, Q_P99, Q_BAD
# for PAIR_PEER2.
wrk_pair() {
	local name=$1 url=$2 purl=$3 script=$4 qurl=${PAIR_PEER2:-} i
	local -a ours=() peer=() peer2=()
	shift 4

	wrk -t"$WRK_THREADS" -c"$CONNS" -d"$((SECS > 5 ? 2 : 1))s" -s "$script" \
	    "$url" -- "${@/"{run}"/w}" >"$RAW/$name.warmup.txt" 2>&1
	[ -z "$purl" ] ||
	    wrk -t"$WRK_THREADS" -c"$CONNS" -d"$((SECS > 5 ? 2 : 1))s" -s "$script" \
	    "$purl" -- "${@/"{run}"/pw}" >"$RAW/peer-$name.warmup.txt" 2>&1
	[ -z "$qurl" ] ||
	    wrk -t"$WRK_THREADS" -c"$CONNS" -d"$((SECS > 5 ? 2 : 1))s" -s "$script" \
	    "$qurl" -- "${@/"{run}"/qw}" >"$RAW/peer2-$name.warmup.txt" 2>&1
	for i in $(seq 1 "$RUNS"); do
		wrk_once "$name" "$i" "$url" "$script" "${@/"{run}"/$i}"
		ours+=("$W_LINE")
		[ -n "$purl" ] || continue
		wrk_once "peer-$name" "$i" "$purl" "$script" "${@/"{run}"/p$i}"
		peer+=("$W_LINE")
		[ -n "$qurl" ] || continue
		wrk_once "peer2-$name" "$i" "$qurl" "$script" "${@/"{run}"/q$i}"
		peer2+=("$W_LINE")
	done
	if [ -n "$qurl" ]; then
		wrk_stats "${peer2[@]}"
		Q_RPS=$W_RPS Q_P50=$W_P50 Q_P99=$W_P99 Q_BAD=$W_BAD
	fi
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
			g=$(($(bench_hwm "$p") - ${m_rss[$p]}))
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
		    "$(bench_hwm "$p") KiB, growth $g KiB, cpu $d ticks"
	done
}

# curl_time OUT ARGS...: one curl; prints "code bytes_up bytes_down seconds".
curl_time() {
	local out=$1
	shift
	curl -sS -o "$out" -w '%{http_code} %{size_upload} %{size_download} %{time_total}\n' "$@"
}

# bench_fanout: DATA_DIR's 65,536 fan-out directories made at once
# (BENCH_FANOUT=1: an experiment, a populated store, where the worker
# never makes and fsyncs one).
bench_fanout() {
	local a b

	fu_log "making the 65,536 fan-out directories of DATA_DIR (BENCH_FANOUT=1)"
	(cd "$FU_VAR/data" && for a in $(seq 0 255); do
		for b in $(seq 0 255); do
			printf '%02x/%02x\n' "$a" "$b"
		done
	done | xargs mkdir -p)
	find "$FU_VAR/data" -mindepth 1 -maxdepth 2 -type d ! -name tmp \
	    -exec chown "$FU_USER:$FU_NGINX_GROUP" {} + -exec chmod 2750 {} +
	sync
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
PEER2_HASH=
PEER_BIG_HASH=
PEER_LIST_LOADED=0
# shellcheck disable=SC2317  # called from bench_cleanup
peer_cleanup() {
	local h
	for h in "$PEER_BIG_HASH" "$PEER_HASH"; do
		[ -z "$h" ] || curl -sS -m 30 -o /dev/null -X DELETE "$PURL/$h" || true
	done
	[ -z "$PEER2_HASH" ] ||
	    curl -sS -m 30 -o /dev/null -X DELETE "$PURL2/$PEER2_HASH" || true
	[ "$PEER_LIST_LOADED" -ne 1 ] ||
	    psql_peer -c "DELETE FROM files WHERE file_name LIKE 'benchlist-$nonce-%'" \
	    >/dev/null 2>&1 || fu_log "warning: the peer keeps the list's rows ($nonce)"
}

# peer_probe_one URL NAME: one upload to the peer at URL and its GET;
# sets PROBE_HASH.
peer_probe_one() {
	local url=$1 name=$2 r

	fu_log "the $name at $url: one upload and its GET"
	printf '%s probe %s\n' "$name" "$nonce" >"$FU_VAR/work/probe.txt"
	r=$(curl_time "$RAW/$name-probe.json" -F "upfile=@$FU_VAR/work/probe.txt" "$url") ||
	    fu_die "the $name does not answer at $url"
	PROBE_HASH=$(json_hash "$RAW/$name-probe.json")
	if [ "${r%% *}" != 201 ] || [ -z "$PROBE_HASH" ]; then
		fu_die "the $name's upload: $r $(head -c 300 "$RAW/$name-probe.json")"
	fi
	r=$(curl_time /dev/null "$url/$PROBE_HASH")
	[ "${r%% *}" = 200 ] || fu_die "the $name's GET of $PROBE_HASH: $r"
}

# bench_peer_probe: one upload to each peer and its GET ($PEER_HASH,
# $PEER2_HASH), and whether the list's rows can go into the first peer's
# database by SQL ($PEER_SQL).
bench_peer_probe() {
	local cols

	peer_probe_one "$PURL" peer
	PEER_HASH=$PROBE_HASH
	if [ -n "$PEER2" ]; then
		peer_probe_one "$PURL2" peer2
		PEER2_HASH=$PROBE_HASH
	fi
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
	[ -z "$PEER2" ] ||
	    echo "second peer (small uploads and metadata GET only): $PEER2" \
	    "($(curl -sS -m 5 "$PEER2/" 2>/dev/null | head -n 1 || true))" >>"$RES/env.txt"
}

# --------------------------------------------------------------- table

# cpu_ms_per_req NAME: the median over NAME's runs of the CPU its
# service's processes (worker, postgres, nginx, node: the cpu line's
# groups) spent per request, in ms, from each run's cpu line and rate.
cpu_ms_per_req() {
	local name=$1 f i
	local -a v=()

	for i in $(seq 1 "$RUNS"); do
		f=$RAW/$name.$i.txt
		[ -f "$f" ] || continue
		v+=("$(awk -v secs="$SECS" '
		    /^BENCH / { for (i = 2; i <= NF; i++) if ($i ~ /^rps=/) {
		        split($i, kv, "="); rps = kv[2] } }
		    /^cpu: / { for (i = 1; i < NF; i++)
		        if ($i ~ /^(worker|postgres|nginx|node)$/) cores += $(i + 1) }
		    END { if (rps > 0) printf "%.3f", cores * 1000 / rps; else print 0 }' "$f")")
	done
	[ "${#v[@]}" -gt 0 ] && median "${v[@]}" || echo "-"
}

# peer_table: the side-by-side section of the table (with --peer).
# shellcheck disable=SC2153  # the values come from the figure scripts
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
	[ -z "$PEER2" ] || peer2_table
	echo "RSS: ours, the largest peak growth of a worker (the serving one for"
	echo "the list); the peer's, of its processes in $([ -n "$PEER_PIDS" ] &&
	    echo "$PEER_PIDS" || echo "--peer-pids (not given: not measured)")."
	echo "What the reference peer (../shared/peers/README.md) does less per"
	echo "upload: no fsync of the directory after the rename (ours fsyncs the"
	echo "file and its directory before the row commits), BLAKE2b-512 truncated"
	echo "to 64 hex digits instead of BLAKE2b-256, and, started with"
	echo "PEER_MAGIC=0, no libmagic (its file_type is then the client's claim)."
	echo "All PostgreSQL clusters run with fsync and synchronous_commit on; in"
	echo "the CPU lines below the peers' processes are \"node\", and their"
	echo "PostgreSQL counts in \"postgres\"."
}

# peer2_table: small uploads and the metadata GET next to both peers
# (with --peer2), and the CPU each service spent per request.
# shellcheck disable=SC2153  # the values come from the figure scripts
peer2_table() {
	echo
	echo "Next to a second peer at $PEER2, in the same runs (ours, peer,"
	echo "second peer, alternating; CPU per request: the service's processes"
	echo "as the cpu lines count them, wrk left out, median of the runs):"
	echo
	echo "| figure | ours | peer | second peer | ours/peer | ours/second |"
	echo "|---|---|---|---|---|---|"
	echo "| small uploads, 4 KiB $CONTENT, $CONNS conn | $(fmt "$UP_RPS")/s (p50 $(ms "$UP_P50"), p99 $(ms "$UP_P99"), non-201 $UP_BAD) | $(fmt "$PUP_RPS")/s (p50 $(ms "$PUP_P50"), p99 $(ms "$PUP_P99"), non-201 $PUP_BAD) | $(fmt "$QUP_RPS")/s (p50 $(ms "$QUP_P50"), p99 $(ms "$QUP_P99"), non-201 $QUP_BAD) | $(ratio "$UP_RPS" "$PUP_RPS") | $(ratio "$UP_RPS" "$QUP_RPS") |"
	echo "| ↳ CPU ms per upload | $(cpu_ms_per_req uploads) | $(cpu_ms_per_req peer-uploads) | $(cpu_ms_per_req peer2-uploads) | | |"
	echo "| metadata GET, $CONNS conn | $(fmt "$GET_RPS") req/s (p99 $(ms "$GET_P99")) | $(fmt "$PGET_RPS") req/s (p99 $(ms "$PGET_P99")) | $(fmt "$QGET_RPS") req/s (p99 $(ms "$QGET_P99")$([ "$QGET_BAD" -eq 0 ] || echo ", errors $QGET_BAD")) | $(ratio "$GET_RPS" "$PGET_RPS") | $(ratio "$GET_RPS" "$QGET_RPS") |"
	echo "| ↳ CPU ms per GET | $(cpu_ms_per_req get) | $(cpu_ms_per_req peer-get) | $(cpu_ms_per_req peer2-get) | | |"
	echo
}

# bench_table: table.md from the figures' and ceilings' values.
# shellcheck disable=SC2153,SC2154  # set by the figure scripts
bench_table() {
	local serial_get serial_w floor_small r_small res_small r_get res_get
	local r_large res_large r_dl res_dl r_list res_list n f

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
		[ "$BENCH_LINK" -eq 0 ] || fig_download_link_table
		[ -z "$PEER" ] || peer_table
		echo
		echo "Medians of $RUNS run(s); RSS: the largest peak growth over the runs."
		echo "MB = 10^6 bytes.  Each run's values: summary.txt; raw outputs: raw/."
		echo
		echo "CPU during the first run of each (1.00 = one core busy for the whole run;"
		echo "\"other\" names the busiest processes that are not part of the stack):"
		echo
		for n in uploads null-uploads get null-fastcgi nginx-return large-upload list \
		    ${PEER:+peer-uploads peer-get peer-large-upload peer-list} \
		    ${PEER2:+peer2-uploads peer2-get}; do
			f=$RAW/$n.1.txt
			[ -f "$f" ] || f=$RAW/$n.1.mem.txt
			[ -f "$f" ] || continue
			printf '    %-17s %s\n' "$n" "$(grep -h '^cpu:' "$f" | head -n 1)"
		done
	} >"$RES/table.md"
}
