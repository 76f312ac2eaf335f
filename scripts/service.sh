# shellcheck shell=bash
# Functions here set globals (FU_POOL_WORKER, FU_NGINX_PID, ...) for their
# callers.
# shellcheck disable=SC2034
#
# scripts/service.sh: the service's lifecycle, the one implementation that
# scripts/run, the integration tests and docker/entrypoint.sh share:
# directories, nginx configuration, the worker pool (spawn-fcgi +
# multiwatch) and nginx, started, watched, signalled and stopped.  Sourced
# by scripts/lib.sh; it starts nothing by itself.
#
# Where things go (fu_layout fills in what the caller left unset, from
# FU_VAR, the run directory of scripts/run and the tests):
#
#	FU_RUN_DIR	pool socket, pool.pid, nginx.pid,	$FU_VAR/run
#			metrics (the pool's counters)
#	FU_CONF_DIR	the rendered nginx configuration	$FU_VAR/conf
#	FU_NGINX_TEMP	nginx's temp files (client bodies)	$FU_VAR/nginx
#	FU_LOG_DIR	LOG_DIR: fileupload.log, nginx logs	$FU_VAR/logs
#	FU_DATA_DIR	DATA_DIR: the stored files		$FU_VAR/data
#	FU_BIN_DIR	where the worker binary is copied	$FU_VAR/bin
#			(empty: the pool runs it where it is)
#	FU_UI_DIR	the browser page nginx serves		$FU_VAR/ui
#			(fu_ui_install in scripts/lib.sh)
#	FU_TEMPLATES	conf/nginx/*.conf.in			$FU_ROOT/conf/nginx
#	FU_POOL_LOG	spawn-fcgi's own output ("-": this	$FU_LOG_DIR/spawn-fcgi.log
#			shell's stdout and stderr)
#
# FILEUPLOAD_LOG_TO=stdout (docker/entrypoint.sh's default) puts the
# request lines on standard output instead of files in FU_LOG_DIR: the
# workers' (the worker reads it too), nginx's access log, and nginx's error
# log on standard error; FILEUPLOAD_LOG_FORMAT=json makes nginx's access
# lines JSON as the workers' are.  Unset or "files": the files.
#
# Started as root, the workers run as $FU_USER and nginx's workers as
# $FU_NGINX_USER (who alone may connect to the pool's socket); otherwise
# everything runs as the caller.
#
# Several hosts (docs/operations.md): on a worker host the pool may
# listen on TCP instead of the socket, and the nginx front may pass to a
# group of such hosts instead of its local socket:
#
#	FCGI_LISTEN		unix (the default: FU_SOCKET) or ADDR:PORT
#				(spawn-fcgi -a ADDR -p PORT)
#	FCGI_WEB_SERVER_ADDRS	with ADDR:PORT, required: the comma-separated
#				IPv4 addresses that may connect (the nginx
#				fronts); libfcgi, in the workers, closes any
#				other peer's connection unanswered
#	FU_POOL_NETNS		the pool runs in this network namespace
#				(ip netns exec; the tests' hosts)
#	FCGI_UPSTREAM		nginx side: the worker hosts, ADDR:PORT
#				separated by blanks or commas; unset: the
#				local socket
#	FCGI_KEEPALIVE		nginx side: idle connections to the workers
#				kept per nginx worker (16; 0: none)
#	FCGI_PROBE		nginx side, with FCGI_UPSTREAM: 1 (default)
#				watches the hosts (fu_upstream_check), 0 not
#	FCGI_PROBE_TIMEOUT	seconds a host has to answer a probe (2)
#	FCGI_PROBE_FAILS	probes in a row a host must miss before it is
#				left out, and answer before it is back (2)
#
# Processes are recognised by /proc/PID/stat (name, state, parent), which
# any user may read: /proc/PID/exe of another user's process needs
# CAP_SYS_PTRACE, which no container has by default.

# ----------------------------------------------------------------- layout

fu_layout() {
	FU_RUN_DIR=${FU_RUN_DIR:-$FU_VAR/run}
	FU_CONF_DIR=${FU_CONF_DIR:-$FU_VAR/conf}
	FU_NGINX_TEMP=${FU_NGINX_TEMP:-$FU_VAR/nginx}
	FU_LOG_DIR=${FU_LOG_DIR:-$FU_VAR/logs}
	FU_DATA_DIR=${FU_DATA_DIR:-$FU_VAR/data}
	FU_BIN_DIR=${FU_BIN_DIR-$FU_VAR/bin}
	FU_UI_DIR=${FU_UI_DIR:-$FU_VAR/ui}
	FU_TEMPLATES=${FU_TEMPLATES:-$FU_ROOT/conf/nginx}
	FU_POOL_LOG=${FU_POOL_LOG:-$FU_LOG_DIR/spawn-fcgi.log}
	FU_SOCKET=$FU_RUN_DIR/fileupload.sock
}

fu_is_root() {
	[ "$(id -u)" -eq 0 ]
}

# fu_own PATH OWNER:GROUP MODE: sets what differs only, mode first (while
# it is still ours), so that no capability beyond CAP_CHOWN is needed on a
# second start.
fu_own() {
	[ "$(stat -c %a "$1")" = "${3#0}" ] || chmod "$3" "$1"
	[ "$(stat -c %U:%G "$1")" = "$2" ] || chown "$2" "$1"
}

# nginx's logs left by a run as root belong to root (or, after a reopen, to
# nginx's user): a run as another user could not open them.  The directory
# is ours, so they are moved aside, kept, rather than refused.
fu_logs_writable() {
	local f

	for f in "${FU_LOG_DIR%/}"/nginx-error.log "${FU_LOG_DIR%/}"/nginx-access.log; do
		if [ -e "$f" ] && [ ! -w "$f" ]; then
			fu_log "$f is not writable by $(id -un): moved to $f.$(date +%s)"
			mv "$f" "$f.$(date +%s)"
		fi
	done
}

# Creates the directories of the layout.  As root, only the top ones get
# owners and modes, never what is stored below them.
fu_prepare_dirs() {
	local d

	fu_layout
	if [ -n "${FU_VAR:-}" ]; then
		# Every user of the service traverses it.
		mkdir -p "$FU_VAR"
		! fu_is_root || chmod 0755 "$FU_VAR"
	fi
	mkdir -p "$FU_RUN_DIR" "$FU_CONF_DIR" "$FU_NGINX_TEMP" "$FU_LOG_DIR" \
	    "$FU_DATA_DIR" ${FU_BIN_DIR:+"$FU_BIN_DIR"}
	if ! fu_is_root; then
		for d in "$FU_RUN_DIR" "$FU_DATA_DIR" "$FU_LOG_DIR"; do
			[ -w "$d" ] || fu_die "$d is not writable by $(id -un)"
		done
		fu_logs_writable
		return 0
	fi
	fu_nginx_user
	for d in "$FU_RUN_DIR" "$FU_CONF_DIR" ${FU_BIN_DIR:+"$FU_BIN_DIR"}; do
		fu_own "$d" root:root 0755
	done
	# nginx's workers write client bodies below it: traverse, no listing.
	fu_own "$FU_NGINX_TEMP" root:root 0711
	# The workers write their log here; nginx's master (root) opens its
	# logs, and its workers reopen them after a rotation: its group may
	# enter, not write.
	fu_own "$FU_LOG_DIR" "$FU_USER:$FU_NGINX_GROUP" 0750
	# nginx reads stored files (X-Accel-Redirect): its group owns DATA_DIR,
	# and setgid hands it down to what the workers create.
	fu_own "$FU_DATA_DIR" "$FU_USER:$FU_NGINX_GROUP" 2750
}

# --------------------------------------------------------------- templates

fu_sed_escape() {
	printf '%s' "$1" | sed -e 's/[\\|&]/\\&/g'
}

# fu_render TEMPLATE OUTPUT NAME=VALUE...: replaces @NAME@ by VALUE and
# fails if a placeholder is left.
fu_render() {
	local in=$1 out=$2 kv args=()
	shift 2
	for kv in "$@"; do
		args+=(-e "s|@${kv%%=*}@|$(fu_sed_escape "${kv#*=}")|g")
	done
	sed "${args[@]}" "$in" >"$out.tmp"
	if grep -n '@[A-Z_]*@' "$out.tmp" >&2; then
		rm -f "$out.tmp"
		fu_die "unrendered placeholder in $out"
	fi
	mv "$out.tmp" "$out"
}

# fu_nginx_body_limit MAX: nginx's client_max_body_size for a
# MAX_UPLOAD_SIZE of MAX bytes.  MAX bounds the file; the body may carry
# 64 KiB of multipart framing on top (UPLOAD_FRAMING_MAX, src/upload.h).
fu_nginx_body_limit() {
	if [ "$1" -gt $((0x7fffffffffffffff - 65536)) ]; then
		echo 0	# no limit in nginx; the worker still has its own
	else
		echo $(($1 + 65536))
	fi
}

# fu_client_body_timeout STALL: nginx's client_body_timeout for an
# UPLOAD_TIMEOUT of STALL seconds (default 60, the worker's): 5 s
# longer, so that the worker's 408 comes first.
fu_client_body_timeout() {
	local s=${1:-60}

	if ! [[ $s =~ ^[0-9]{1,5}$ ]] || [ $((10#$s)) -lt 1 ] ||
	    [ $((10#$s)) -gt 86400 ]; then
		fu_die "UPLOAD_TIMEOUT=$s is not a number of seconds (1-86400)"
	fi
	echo "$((10#$s + 5))s"
}

# fu_render_upstream TEMPLATE OUTPUT: the upstream group nginx passes to:
# FCGI_UPSTREAM's hosts (ADDR:PORT, separated by blanks or commas), one
# server line each, or else the local pool's socket; with FCGI_KEEPALIVE
# (default 16) idle connections kept per nginx worker.  The hosts named in
# FU_UPSTREAM_DOWN (fu_upstream_check) are marked "down".
fu_render_upstream() {
	local h servers='' keep=${FCGI_KEEPALIVE:-16} ka state

	[[ $keep =~ ^[0-9]{1,4}$ ]] ||
	    fu_die "FCGI_KEEPALIVE=$keep is not a connection count (0-9999)"
	if [ "$((10#$keep))" -eq 0 ]; then
		ka="# keepalive: off (FCGI_KEEPALIVE=0)"
	else
		ka="keepalive $((10#$keep));"
	fi
	if [ -z "${FCGI_UPSTREAM:-}" ]; then
		servers="	server unix:$FU_SOCKET;"$'\n'
	fi
	for h in ${FCGI_UPSTREAM:+${FCGI_UPSTREAM//,/ }}; do
		[[ $h =~ ^([0-9.]+|\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}$ ]] ||
		    fu_die "FCGI_UPSTREAM: '$h' is not ADDR:PORT"
		state="max_fails=2 fail_timeout=10s"
		[[ " ${FU_UPSTREAM_DOWN:-} " != *" $h "* ]] || state=down
		servers+="	server $h $state;"$'\n'
	done
	awk -v s="${servers%$'\n'}" -v k="$ka" \
	    '$0 == "@SERVERS@" { print s; next }
	    { sub(/@KEEPALIVE@/, k); print }' "$1" >"$2.tmp"
	mv "$2.tmp" "$2"
}

# fu_real_ip: the @REAL_IP@ lines of the locations: one set_real_ip_from
# per address or CIDR of TRUSTED_PROXIES (separated by blanks or commas),
# the client's address then taken from X-Forwarded-For; a comment when
# TRUSTED_PROXIES is unset (the default: nginx's peer is the client).
fu_real_ip() {
	local p out=''

	for p in ${TRUSTED_PROXIES:+${TRUSTED_PROXIES//,/ }}; do
		[[ $p =~ ^([0-9.]+|[0-9a-fA-F:]*:[0-9a-fA-F:.]*)(/[0-9]{1,3})?$|^unix:$ ]] ||
		    fu_die "TRUSTED_PROXIES: '$p' is not an address, a CIDR or unix:"
		out+="set_real_ip_from $p; "
	done
	if [ -z "$out" ]; then
		echo "# real_ip: off (TRUSTED_PROXIES unset): the client is nginx's peer"
	else
		echo "${out}real_ip_header X-Forwarded-For; real_ip_recursive on;"
	fi
}

# fu_s3_ca_file: the CAs nginx verifies an https object store's certificate
# against on the download path: S3_CA_FILE (the workers' setting), else
# the system's bundle.  Fails, saying why, when there is neither: nginx
# loads the file at start, and never fetches from a store unverified.
fu_s3_ca_file() {
	local f=${S3_CA_FILE:-/etc/ssl/certs/ca-certificates.crt}

	if [ ! -r "$f" ]; then
		fu_log "no CA file $f for the object store's certificates" \
		    "(set S3_CA_FILE, or install ca-certificates)"
		return 1
	fi
	printf '%s\n' "$f"
}

# fu_log_stdout: true when the logs go to standard output
# (FILEUPLOAD_LOG_TO=stdout), false for files (unset or "files").
fu_log_stdout() {
	case ${FILEUPLOAD_LOG_TO:-files} in
	files) return 1 ;;
	stdout) return 0 ;;
	*) fu_die "FILEUPLOAD_LOG_TO=$FILEUPLOAD_LOG_TO: use stdout or files" ;;
	esac
}

# nginx's error log: standard error, or its file in FU_LOG_DIR.
fu_nginx_error_log() {
	if fu_log_stdout; then
		echo stderr
	else
		echo "${FU_LOG_DIR%/}/nginx-error.log"
	fi
}

# fu_nginx_stdout: sets FU_NGINX_OUT, nginx's standard output: /dev/null,
# or with the logs on standard output a pipe of this shell's own that a
# cat passes on to this shell's standard output.  nginx opens /dev/stdout
# for its access log, and a pipe another user made (the container
# engine's) would be refused to a nginx not running as root.
fu_nginx_stdout() {
	FU_NGINX_OUT=/dev/null
	fu_log_stdout || return 0
	if [ -z "${FU_NGINX_PIPE:-}" ]; then
		exec {FU_NGINX_PIPE}> >(exec cat)
		FU_NGINX_CAT=$!
	fi
	FU_NGINX_OUT=/dev/fd/$FU_NGINX_PIPE
}

# Closes fu_nginx_stdout's pipe once nginx is gone: its cat, having passed
# on the last lines, ends (given 2 s).
fu_nginx_stdout_close() {
	local i

	[ -n "${FU_NGINX_PIPE:-}" ] || return 0
	exec {FU_NGINX_PIPE}>&-
	for i in $(seq 1 20); do
		kill -0 "$FU_NGINX_CAT" 2>/dev/null || break
		[ "$i" -eq 20 ] || sleep 0.1
	done
	FU_NGINX_PIPE='' FU_NGINX_CAT=''
}

# Renders the nginx configuration into FU_CONF_DIR.  Uses FU_LISTEN
# (host:port), MAX_UPLOAD_SIZE (default 10 GiB), FU_NGINX_MAX_BODY (nginx's
# limit when it must differ from fu_nginx_body_limit's), REQUEST_BUFFERING
# (off), UPLOAD_TIMEOUT (60; or its older name UPLOAD_STALL_TIMEOUT),
# FCGI_UPSTREAM (fu_render_upstream: the worker hosts instead of the local
# socket), FCGI_KEEPALIVE (16 kept connections per nginx worker; 0: none),
# FILEUPLOAD_METRICS_TOKEN (unset: the metrics are for loopback only; set:
# for any client with the token, which the worker checks), S3_CA_FILE
# (fu_s3_ca_file), TRUSTED_PROXIES (fu_real_ip).
fu_render_conf() {
	local t=$FU_TEMPLATES c=$FU_CONF_DIR
	local max=${MAX_UPLOAD_SIZE:-10737418240} cbt pass keep ca realip access

	cbt=$(fu_client_body_timeout \
	    "${UPLOAD_TIMEOUT:-${UPLOAD_STALL_TIMEOUT:-}}") || return 1
	ca=$(fu_s3_ca_file) || return 1
	realip=$(fu_real_ip) || return 1

	fu_layout
	cp /etc/nginx/fastcgi_params "$c/fastcgi_params"
	pass=fileupload_workers
	keep=on
	[ "${FCGI_KEEPALIVE:-16}" != 0 ] || keep=off
	fu_render_upstream "$t/fileupload-upstream.conf.in" "$c/fileupload-upstream.conf"
	fu_render "$t/fileupload-locations.conf.in" "$c/fileupload-locations.conf" \
	    FASTCGI_PASS="$pass" KEEP_CONN="$keep" DATA_DIR="${FU_DATA_DIR%/}" \
	    MAX_BODY_SIZE="${FU_NGINX_MAX_BODY:-$(fu_nginx_body_limit "$max")}" \
	    REQUEST_BUFFERING="${REQUEST_BUFFERING:-off}" \
	    CLIENT_BODY_TIMEOUT="$cbt" UI_DIR="${FU_UI_DIR%/}" S3_CA_FILE="$ca" \
	    REAL_IP="$realip" \
	    METRICS_ACCESS="$([ -n "${FILEUPLOAD_METRICS_TOKEN:-}" ] &&
	        echo allow || echo deny)"
	fu_render "$t/fileupload-server.conf.in" "$c/fileupload-server.conf" \
	    LISTEN="$FU_LISTEN" FASTCGI_PASS="$pass" \
	    LOCATIONS_CONF="$c/fileupload-locations.conf"
	if fu_is_root; then
		fu_nginx_user
	else
		FU_NGINX_USER=$(id -un) FU_NGINX_GROUP=$(id -gn)
	fi
	access=${FU_LOG_DIR%/}/nginx-access.log
	! fu_log_stdout || access=/dev/stdout
	case ${FILEUPLOAD_LOG_FORMAT:-text} in
	text) access="$access fileupload" ;;
	json) access="$access fileupload_json" ;;
	*) fu_die "FILEUPLOAD_LOG_FORMAT=$FILEUPLOAD_LOG_FORMAT: use text or json" ;;
	esac
	fu_render "$t/nginx-standalone.conf.in" "$c/nginx.conf" \
	    PREFIX="$FU_RUN_DIR" CONF_DIR="$c" RUN_DIR="$FU_RUN_DIR" \
	    ERROR_LOG="$(fu_nginx_error_log)" ACCESS_LOG="$access" \
	    NGINX_TEMP_DIR="$FU_NGINX_TEMP" \
	    NGINX_USER="$FU_NGINX_USER" NGINX_GROUP="$FU_NGINX_GROUP"
	# "user" means something only to a master running as root.
	fu_is_root || sed -i '/^user /d' "$c/nginx.conf"
}

# ------------------------------------------------------------- processes

# fu_proc_stat PID: prints "NAME STATE PPID" of a live process (not a
# zombie), or fails.  The name is the kernel's comm: at most 15 bytes.
fu_proc_stat() {
	local line rest name

	[ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 1
	read -r line <"/proc/$1/stat" 2>/dev/null || return 1
	name=${line#*(}
	name=${name%)*}
	rest=${line##*) }
	# shellcheck disable=SC2086  # the fields after the name, split
	set -- $rest
	case $1 in Z | X | x) return 1 ;; esac
	printf '%s %s %s\n' "${name// /_}" "$1" "$2"
}

# fu_pid_is PID PROGRAM: true when PID is alive and runs PROGRAM (a path or
# a name); guards against a stale pid file naming a recycled PID.
fu_pid_is() {
	local name want

	want=$(basename "$2")
	want=${want:0:15}
	name=$(fu_proc_stat "$1") || return 1
	[ "${name%% *}" = "${want// /_}" ]
}

# fu_child_alive PID PROGRAM [PARENT]: PID, a child of PARENT (default:
# this shell, which started it with "&" and has not waited for it), is
# alive: it runs PROGRAM, or it is still PARENT's forked copy that has not
# exec'd PROGRAM yet (its name is then PARENT's, its parent PARENT).  Until
# it is waited for, its PID cannot be another process's.
fu_child_alive() {
	local s want parent=${3:-$BASHPID}

	s=$(fu_proc_stat "$1") || return 1
	want=$(basename "$2")
	want=${want:0:15}
	[ "${s%% *}" = "${want// /_}" ] || [ "${s##* }" = "$parent" ]
}

# fu_children PID: the live children of PID, one per line.
fu_children() {
	local f=/proc/$1/task/$1/children p s

	[ -n "$1" ] || return 0
	if [ -r "$f" ]; then
		tr -s ' ' '\n' <"$f" | grep -E '^[0-9]+$' || true
		return 0
	fi
	# Kernels without CONFIG_PROC_CHILDREN: every process's parent.
	for p in /proc/[0-9]*; do
		s=$(fu_proc_stat "${p#/proc/}") || continue
		[ "${s##* }" != "$1" ] || printf '%s\n' "${p#/proc/}"
	done
}

# fu_stop_pids PROGRAM SIGNAL PID...: signals those PIDs that run PROGRAM,
# waits up to FU_STOP_SECONDS (10) for them to go, then sends SIGKILL to
# the rest.
fu_stop_pids() {
	local prog=$1 sig=$2 pid left i n=$((${FU_STOP_SECONDS:-10} * 10))
	shift 2
	for pid in "$@"; do
		! fu_pid_is "$pid" "$prog" || kill "-$sig" "$pid" 2>/dev/null || true
	done
	for i in $(seq 1 "$n"); do
		left=0
		for pid in "$@"; do
			! fu_pid_is "$pid" "$prog" || left=1
		done
		[ "$left" -eq 1 ] || return 0
		[ "$i" -eq "$n" ] || sleep 0.1
	done
	for pid in "$@"; do
		if fu_pid_is "$pid" "$prog"; then
			fu_log "PID $pid ignored SIG$sig; sending SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	done
}

# fu_stop_tree MASTER_PROGRAM CHILD_PROGRAM SIGNAL PID RECORDED: stops a
# master and then its children with SIGNAL; should the master (PID, empty
# when gone) have died outright, its children live on as orphans, and the
# ones last recorded (RECORDED, blank-separated) are stopped instead.
fu_stop_tree() {
	local -a kids=()

	if [ -n "$4" ]; then
		mapfile -t kids < <(fu_children "$4")
		fu_stop_pids "$1" "$3" "$4"
		wait "$4" 2>/dev/null || true
	else
		read -ra kids <<<"$5"
	fi
	[ "${#kids[@]}" -eq 0 ] || fu_stop_pids "$2" "$3" "${kids[@]}"
}

# ------------------------------------------------------------------- pool

# fu_cpu_count: the CPUs this process may use: the cores it may run on
# (nproc), or fewer when its cgroup's CPU quota allows fewer (a container
# run with --cpus, a Kubernetes CPU limit), the quota rounded up to whole
# CPUs.  The quota is cgroup v2's cpu.max ("QUOTA PERIOD", or "max PERIOD"
# for none), else cgroup v1's cpu.cfs_quota_us and cpu.cfs_period_us (-1:
# none).  FU_CPU_MAX_FILE names another file in cpu.max's format (tests).
fu_cpu_count() {
	local n quota='' period='' f=${FU_CPU_MAX_FILE:-/sys/fs/cgroup/cpu.max}
	local v1=/sys/fs/cgroup/cpu

	n=$(nproc)
	if [ -r "$f" ]; then
		read -r quota period <"$f" || true
	elif [ -z "${FU_CPU_MAX_FILE:-}" ] && [ -r "$v1/cpu.cfs_quota_us" ]; then
		read -r quota <"$v1/cpu.cfs_quota_us" || true
		read -r period <"$v1/cpu.cfs_period_us" || true
	fi
	if [[ $quota =~ ^[0-9]+$ ]] && [[ $period =~ ^[1-9][0-9]*$ ]] &&
	    [ "$quota" -gt 0 ]; then
		quota=$(((quota + period - 1) / period))
		[ "$quota" -ge "$n" ] || n=$quota
	fi
	echo "$n"
}

# fu_default_workers: the pool size when WORKERS is not set, one process
# per CPU (fu_cpu_count: the container's CPU quota, not the host's
# cores), at least 2, so that one dying leaves another serving.  Each
# process runs FILEUPLOAD_THREADS request threads and DB_POOL_SIZE
# database connections: processes no longer bound how many requests are
# in hand, they spread the CPU work and limit what one crash takes down;
# the database connections, WORKERS times DB_POOL_SIZE, follow them.
fu_default_workers() {
	local n
	n=$(fu_cpu_count)
	echo $((n < 2 ? 2 : n))
}

# fu_worker_var NAME: true for the variables the workers are given; every
# other one is removed from their environment.  A new setting of the
# worker's (src/config.c) with one of these prefixes needs nothing here:
# the secrets' NAME_FILE variants (DB_PASSWORD_FILE, FILEUPLOAD_TOKEN_FILE,
# S3_SECRET_ACCESS_KEY_FILE, AWS_SESSION_TOKEN_FILE, ...) pass with them.
fu_worker_var() {
	case $1 in
	PATH | TZ | LANG | LC_* | DB_* | PG* | ROOT_DIR | LOG_DIR | DATA_DIR | \
	    MAX_UPLOAD_SIZE | FILEUPLOAD_* | STORAGE | S3_* | AWS_* | UPLOAD_* | \
	    FCGI_WEB_SERVER_ADDRS | \
	    ASAN_OPTIONS | UBSAN_OPTIONS | LSAN_OPTIONS | TSAN_OPTIONS) return 0 ;;
	esac
	return 1
}

# The supervisor's PID (multiwatch), if it runs.
fu_pool_supervisor() {
	local f pid

	fu_layout
	f=$FU_RUN_DIR/pool.pid
	[ -f "$f" ] || return 0
	pid=$(cat "$f")
	! fu_pid_is "$pid" multiwatch || printf '%s\n' "$pid"
}

# The workers' PIDs: the supervisor's children.
fu_pool_pids() {
	fu_children "$(fu_pool_supervisor)"
}

# fu_pool_exec N SPAWN-FCGI-ARGS...: becomes spawn-fcgi, with the workers'
# environment (run in a subshell: it changes this shell's).
fu_pool_exec() {
	local n=$1 name
	shift

	[ "$FU_POOL_LOG" = - ] || exec >>"$FU_POOL_LOG" 2>&1
	if [ -n "${FU_DB_HOST:-}" ]; then
		export DB_TYPE=postgresql DB_HOST="$FU_DB_HOST" \
		    DB_PORT="${FU_DB_PORT:-5432}" DB_USER="${FU_DB_USER:-fileupload}" \
		    DB_NAME="${FU_DB_NAME:-fileupload}"
	fi
	export LOG_DIR="$FU_LOG_DIR" DATA_DIR="$FU_DATA_DIR" \
	    FILEUPLOAD_METRICS_FILE="${FILEUPLOAD_METRICS_FILE:-$FU_RUN_DIR/metrics}"
	while read -r name; do
		fu_worker_var "$name" || unset "$name" 2>/dev/null || true
	done < <(compgen -e)
	# A worker dying more than 10 times, each within 10 s of its start,
	# is a crash loop: multiwatch then gives up on it.  "ip netns exec"
	# execs too: the PID stays spawn-fcgi's, then multiwatch's.
	# -s HUP: a signal that makes multiwatch shut down (fu_pool_stop's,
	# a Ctrl-C's) passes nothing on that stops a worker: HUP reopens its
	# log.  (multiwatch 1.0.0 sends the signal whose number is the index
	# of -s's name in its table: for TERM SIGQUIT, which would end a
	# worker on the spot; for HUP signal 0, none.)  The workers stop by
	# their own SIGTERM or SIGINT, gracefully.
	exec ${FU_POOL_NETNS:+ip netns exec "$FU_POOL_NETNS"} \
	    spawn-fcgi "$@" -- "$(command -v multiwatch)" \
	    -f "$n" -r 10 -t 10000 -s HUP -- "$FU_POOL_WORKER"
}

# fu_pool_listen: prints where the pool listens, "unix" or ADDR:PORT, from
# FCGI_LISTEN; fails, saying why, on a bad value or on a TCP address
# without FCGI_WEB_SERVER_ADDRS.
fu_pool_listen() {
	local l=${FCGI_LISTEN:-unix} port

	[ "$l" != unix ] || { echo unix; return 0; }
	port=${l##*:}
	if [[ $l != ?*:* ]] || ! [[ $port =~ ^[0-9]{1,5}$ ]] ||
	    [ $((10#$port)) -lt 1 ] || [ $((10#$port)) -gt 65535 ]; then
		fu_log "FCGI_LISTEN=$l is neither unix nor ADDR:PORT"
		return 1
	fi
	# Who may connect: libfcgi reads it in each worker.  An open TCP pool
	# would take requests from anyone who can reach it.
	if ! [[ ${FCGI_WEB_SERVER_ADDRS:-} =~ ^[0-9.]+(,[0-9.]+)*$ ]]; then
		fu_log "FCGI_LISTEN=$l needs FCGI_WEB_SERVER_ADDRS, the" \
		    "comma-separated IPv4 addresses of the nginx hosts" \
		    "(now '${FCGI_WEB_SERVER_ADDRS:-}')"
		return 1
	fi
	echo "$l"
}

# fu_pool_start WORKER_BINARY: $WORKERS (default: fu_default_workers)
# workers on $FU_SOCKET, or on FCGI_LISTEN's ADDR:PORT (fu_pool_listen).
#
# spawn-fcgi binds the socket, drops privileges and (-n) execs multiwatch,
# which forks the workers and starts a new one whenever one dies (spawn-fcgi
# alone never restarts a worker).  $FU_RUN_DIR/pool.pid holds multiwatch's
# PID; the workers are its children.  fu_pool_stop stops them.
#
# The pool's counters (GET /service/fileupload/metrics) live in
# $FU_RUN_DIR/metrics (FILEUPLOAD_METRICS_FILE, unless the caller set it):
# a slot per worker, summed by whichever worker answers a scrape, adopted
# with its counts by the replacement of a worker that died.  The file is
# made empty here, so counting starts anew with the pool; the first worker
# lays it out.
#
# The workers' environment is this shell's, less what fu_worker_var
# refuses, with LOG_DIR, DATA_DIR and FILEUPLOAD_METRICS_FILE from the
# layout and, when FU_DB_HOST
# is set, DB_HOST, DB_PORT, DB_USER, DB_NAME from FU_DB_*.  It is built in
# a subshell, not on a command line: DB_PASSWORD and the tokens never
# appear in a process's argv (ps).
#
# Returns 1, with the worker log's last lines, when the workers do not
# start or keep dying (a bad setting): the pool is stopped again then.
fu_pool_start() {
	local src=$1 n=${WORKERS:-$(fu_default_workers)} i pid alive pool
	local listen addr
	local -a args first second

	fu_layout
	[ -x "$src" ] || fu_die "no worker binary at $src (build first)"
	listen=$(fu_pool_listen) || return 1
	FU_POOL_WORKER=$src
	if [ -n "$FU_BIN_DIR" ]; then
		# A copy the workers' user can always reach, whatever the
		# clone's path permissions.
		install -m 0755 "$src" "$FU_BIN_DIR/fileupload-worker.new"
		mv -f "$FU_BIN_DIR/fileupload-worker.new" "$FU_BIN_DIR/fileupload-worker"
		FU_POOL_WORKER=$FU_BIN_DIR/fileupload-worker
	fi
	if [ "$listen" = unix ]; then
		args=(-s "$FU_SOCKET" -n)
		if fu_is_root; then
			fu_nginx_user
			args+=(-M 0660 -U "$FU_NGINX_USER" -G "$FU_NGINX_GROUP")
		else
			args+=(-M 0600)
		fi
	else
		addr=${listen%:*}
		addr=${addr#[}
		args=(-a "${addr%]}" -p "${listen##*:}" -n)
	fi
	! fu_is_root || args+=(-u "$FU_USER" -g "$(id -gn "$FU_USER")")
	rm -f "$FU_SOCKET" "$FU_RUN_DIR/pool.pid"
	[ "$listen" != unix ] || listen=$FU_SOCKET
	if [ -z "${FILEUPLOAD_METRICS_FILE:-}" ]; then
		rm -f "$FU_RUN_DIR/metrics"
		(umask 077 && : >"$FU_RUN_DIR/metrics")
		! fu_is_root || chown "$FU_USER:" "$FU_RUN_DIR/metrics"
	fi

	fu_log "starting $n workers on $listen${FU_POOL_NETNS:+ in netns $FU_POOL_NETNS}" \
	    "(supervised by multiwatch)"
	fu_pool_exec "$n" "${args[@]}" </dev/null &
	pool=$!
	echo "$pool" >"$FU_RUN_DIR/pool.pid"

	# All there, then the same PIDs a moment later: a worker with a bad
	# setting exits at once, and multiwatch replaces it with a new PID.
	for i in $(seq 1 50); do
		[ "$(fu_pool_pids | wc -l)" -lt "$n" ] || break
		fu_child_alive "$pool" spawn-fcgi || break
		sleep 0.1
	done
	mapfile -t first < <(fu_pool_pids | sort)
	sleep 0.5
	mapfile -t second < <(fu_pool_pids | sort)
	alive=0
	# A worker multiwatch has just forked may not have exec'd yet.
	for pid in "${second[@]}"; do
		! fu_child_alive "$pid" "$FU_POOL_WORKER" "$pool" || alive=$((alive + 1))
	done
	if [ "$alive" -ne "$n" ] || [ "${first[*]}" != "${second[*]}" ]; then
		if fu_log_stdout; then
			fu_log "the workers do not start ($alive of $n running);" \
			    "their lines above say why"
		else
			fu_log "the workers do not start ($alive of $n running);" \
			    "$FU_LOG_DIR/fileupload.log says:"
			tail -n 5 "$FU_LOG_DIR/fileupload.log" >&2 2>/dev/null || true
		fi
		fu_pool_stop
		return 1
	fi
}

# Stops the pool (and, should multiwatch be gone, the workers last seen).
# multiwatch is told first (SIGTERM), so that it restarts no worker from
# then on, and ends by itself once its workers are gone.  What it passes
# on is -s HUP's (fu_pool_exec): nothing that stops a worker.  The
# workers get SIGTERM from here: each takes no new request, answers its
# long polls at once and finishes the requests in hand; SIGKILL for what
# is left after FU_STOP_SECONDS.
fu_pool_stop() {
	local sup pid i n=$((${FU_STOP_SECONDS:-10} * 10)) sent=' '
	local -a kids=()

	fu_layout
	sup=$(fu_pool_supervisor)
	if [ -z "$sup" ]; then
		read -ra kids <<<"${FU_WORKER_KIDS:-}"
		[ "${#kids[@]}" -eq 0 ] || fu_stop_pids \
		    "${FU_POOL_WORKER:-fileupload-worker}" TERM "${kids[@]}"
	else
		fu_log "stopping workers: $(fu_children "$sup" | tr '\n' ' ')(supervisor $sup)"
		kill -TERM "$sup" 2>/dev/null || true
		# Each worker once, also one multiwatch started before it had
		# taken in its SIGTERM (a child still named multiwatch has not
		# exec'd the worker yet: its turn comes in a later round).
		for i in $(seq 1 "$n"); do
			fu_pid_is "$sup" multiwatch || break
			for pid in $(fu_children "$sup"); do
				if [[ $sent != *" $pid "* ]] &&
				    ! fu_pid_is "$pid" multiwatch; then
					kill -TERM "$pid" 2>/dev/null || true
					sent+="$pid "
				fi
			done
			sleep 0.1
		done
		if fu_pid_is "$sup" multiwatch; then
			mapfile -t kids < <(fu_children "$sup")
			fu_log "the workers ${kids[*]} outlived SIGTERM; sending SIGKILL"
			kill -KILL "$sup" "${kids[@]}" 2>/dev/null || true
		fi
		wait "$sup" 2>/dev/null || true
	fi
	FU_WORKER_KIDS=
	rm -f "$FU_RUN_DIR/pool.pid" "$FU_SOCKET"
}

# ------------------------------------------------------------------ nginx

fu_nginx_cmd() {
	nginx -p "$FU_RUN_DIR/" -c "$FU_CONF_DIR/nginx.conf" \
	    -e "$(fu_nginx_error_log)" "$@"
}

# nginx's master, if it runs: the one this shell started, else the one its
# pid file names.
fu_nginx_pid() {
	local f pid=${FU_NGINX_PID:-}

	fu_layout
	f=$FU_RUN_DIR/nginx.pid
	if ! fu_pid_is "$pid" nginx; then
		[ -f "$f" ] || return 0
		pid=$(tr -d ' \n' <"$f")
	fi
	! fu_pid_is "$pid" nginx || printf '%s\n' "$pid"
}

# Starts nginx in the foreground as this shell's child (FU_NGINX_PID: its
# master; it writes $FU_RUN_DIR/nginx.pid as well) after checking the
# configuration, and waits until it accepts connections on FU_LISTEN.
fu_nginx_start() {
	local i host=${FU_LISTEN%:*} port=${FU_LISTEN##*:}

	fu_layout
	fu_nginx_stdout
	fu_nginx_cmd -t -q >"$FU_NGINX_OUT" ||
	    { fu_log "nginx configuration test failed"; return 1; }
	fu_log "starting nginx on $FU_LISTEN"
	# Not through fu_nginx_cmd: a function in the background would be a
	# subshell with nginx its child; this way $! is nginx's master.
	nginx -p "$FU_RUN_DIR/" -c "$FU_CONF_DIR/nginx.conf" \
	    -e "$(fu_nginx_error_log)" -g 'daemon off;' </dev/null >"$FU_NGINX_OUT" &
	FU_NGINX_PID=$!
	case $host in
	"$port" | 0.0.0.0 | '*') host=127.0.0.1 ;;
	'[::]') host=::1 ;;
	'['*) host=${host#[}; host=${host%]} ;;
	esac
	for i in $(seq 1 100); do
		fu_child_alive "$FU_NGINX_PID" nginx || break
		fu_port_open "$host" "$port" && return 0
		sleep 0.1
	done
	tail -n 10 "${FU_LOG_DIR%/}/nginx-error.log" >&2 2>/dev/null || true
	fu_log "nginx did not come up on $FU_LISTEN"
	return 1
}

# Stops nginx gracefully (QUIT: in-flight requests finish; KILL after
# FU_STOP_SECONDS), or the workers last seen should the master be gone.
fu_nginx_stop() {
	local pid

	fu_layout
	pid=$(fu_nginx_pid)
	[ -z "$pid" ] || fu_log "stopping nginx (PID $pid)"
	fu_stop_tree nginx nginx QUIT "$pid" "${FU_NGINX_KIDS:-}"
	fu_nginx_stdout_close
	FU_NGINX_KIDS=
	FU_NGINX_PID=
	rm -f "$FU_RUN_DIR/nginx.pid"
}

# ------------------------------------------------------ worker host watch

# Open source nginx judges a worker host only by the requests it passes:
# a host whose kernel still accepts connections but whose workers do not
# answer (frozen, stopped, swapping to death) or whose packets are dropped
# (a cut link) would hold every request sent to it until nginx's
# timeouts, and a POST is never tried on another host.  So the front
# probes each host itself, every second: a host that misses
# FCGI_PROBE_FAILS (2) probes in a row of FCGI_PROBE_TIMEOUT (2 s) each
# is marked "down" in the upstream group and nginx reloaded (new requests
# go to the others: about 5 s after the fault at most), and the front's
# connections to it are cut (ss -K), so that requests in flight on it end
# at once (503; nginx tries a GET on the next host) instead of waiting for
# a host that may never answer.  It is given back once it answers as many
# probes in a row.  docs/operations.md, "Several hosts".

# fu_fcgi_request: writes to standard output a FastCGI request for GET /
# (the banner: no database, no store): BEGIN_REQUEST (responder, no
# keep-alive); PARAMS REQUEST_METHOD=GET and DOCUMENT_URI=/; the empty
# PARAMS and STDIN that end them.
fu_fcgi_request() {
	printf '%b' '\1\1\0\1\0\10\0\0\0\1\0\0\0\0\0\0' \
	    '\1\4\0\1\0\42\0\0\16\3REQUEST_METHODGET\14\1DOCUMENT_URI/' \
	    '\1\4\0\1\0\0\0\0\1\5\0\1\0\0\0\0'
}

# fu_fcgi_alive ADDR PORT SECONDS: the pool at ADDR:PORT answers
# fu_fcgi_request within SECONDS.  The first record of the answer must be
# FastCGI's STDOUT.  Every process of a probe stays in the caller's
# process group (timeout --foreground; the reader exec'd, so that the
# process timed out is the one that waits).
fu_fcgi_alive() {
	local rec

	# shellcheck disable=SC2016  # expanded by the inner bash
	rec=$(fu_fcgi_request | timeout --foreground -k 1 "$3" bash -c '
	    exec 3<>"/dev/tcp/$1/$2" || exit 1
	    cat >&3
	    exec head -c 2 <&3' _ "$1" "$2" 2>/dev/null | od -An -tx1 |
	    tr -d ' \n') || true
	[ "$rec" = 0106 ]
}

# fu_upstream_cut ADDR PORT: ends this machine's TCP connections to
# ADDR:PORT (ss -K: CAP_NET_ADMIN and a kernel with INET_DIAG_DESTROY);
# says once when it cannot.
fu_upstream_cut() {
	local addr=${1#[}

	addr=${addr%]}
	[[ $addr =~ ^[0-9.]+$|: ]] ||
	    addr=$(getent ahosts "$addr" | awk 'NR == 1 { print $1 }')
	[ -n "$addr" ] || return 0
	if ! ss -K dst "$addr" dport = "$2" >/dev/null 2>&1 &&
	    [ -z "${FU_CUT_WARNED:-}" ]; then
		FU_CUT_WARNED=1
		fu_log "cannot cut connections to a host left out (ss -K needs" \
		    "iproute2 and CAP_NET_ADMIN): requests in flight on it end" \
		    "by nginx's timeouts"
	fi
}

# fu_upstream_watched: true when the front watches FCGI_UPSTREAM's hosts
# (they are set and FCGI_PROBE is not 0); dies on a bad
# FCGI_PROBE_TIMEOUT or FCGI_PROBE_FAILS.
fu_upstream_watched() {
	local t=${FCGI_PROBE_TIMEOUT:-2} need=${FCGI_PROBE_FAILS:-2}

	[ -n "${FCGI_UPSTREAM:-}" ] && [ "${FCGI_PROBE:-1}" != 0 ] || return 1
	[[ $t =~ ^[1-9][0-9]?$ ]] ||
	    fu_die "FCGI_PROBE_TIMEOUT=$t is not a number of seconds (1-99)"
	[[ $need =~ ^[1-9]$ ]] ||
	    fu_die "FCGI_PROBE_FAILS=$need is not a count of probes (1-9)"
}

# fu_upstream_check: one round of the front's watch over FCGI_UPSTREAM:
# probes every host at once; marks down or gives back (fu_render_upstream
# with FU_UPSTREAM_DOWN, nginx reloaded) those whose run of missed or
# answered probes reached FCGI_PROBE_FAILS.  Returns 2 while a host has
# missed a probe without being left out yet: the caller probes again at
# once.  Does nothing without FCGI_UPSTREAM or with FCGI_PROBE=0.
fu_upstream_check() {
	local h i t=${FCGI_PROBE_TIMEOUT:-2} need=${FCGI_PROBE_FAILS:-2}
	local -a hosts pids
	local down=' ' changed=0 suspect=0 pid

	fu_upstream_watched || return 0
	[ -n "$(fu_nginx_pid)" ] || return 0
	[ "${FU_PROBE_INIT:-}" = "$FCGI_UPSTREAM" ] || {
		FU_PROBE_INIT=$FCGI_UPSTREAM
		declare -gA FU_PROBE_RUN=()
		FU_UPSTREAM_DOWN=
	}
	read -ra hosts <<<"${FCGI_UPSTREAM//,/ }"
	for h in "${hosts[@]}"; do
		fu_fcgi_alive "${h%:*}" "${h##*:}" "$t" &
		pids+=($!)
	done
	for i in "${!hosts[@]}"; do
		h=${hosts[i]}
		pid=${pids[i]}
		# A run: "+N" probes answered, "-N" missed, in a row.
		if wait "$pid"; then
			case ${FU_PROBE_RUN[$h]:-+0} in
			+*) FU_PROBE_RUN[$h]=+$((${FU_PROBE_RUN[$h]:-+0} + 1)) ;;
			*) FU_PROBE_RUN[$h]=+1 ;;
			esac
		else
			case ${FU_PROBE_RUN[$h]:-+0} in
			-*) FU_PROBE_RUN[$h]=$((${FU_PROBE_RUN[$h]} - 1)) ;;
			*) FU_PROBE_RUN[$h]=-1 ;;
			esac
		fi
		if [[ " $FU_UPSTREAM_DOWN " == *" $h "* ]]; then
			if [ "${FU_PROBE_RUN[$h]}" -ge "$need" ]; then
				fu_log "worker host $h answers again: given back"
				changed=1
			else
				down+="$h "
			fi
		elif [ "${FU_PROBE_RUN[$h]}" -le "-$need" ]; then
			fu_log "worker host $h missed $need probes of ${t} s: left out"
			down+="$h "
			changed=1
		elif [ "${FU_PROBE_RUN[$h]}" -lt 0 ]; then
			suspect=1
		fi
	done
	if [ "$changed" -eq 1 ]; then
		read -ra hosts <<<"$down"
		FU_UPSTREAM_DOWN=${hosts[*]}
		fu_render_upstream "$FU_TEMPLATES/fileupload-upstream.conf.in" \
		    "$FU_CONF_DIR/fileupload-upstream.conf"
		if fu_nginx_cmd -t -q; then
			kill -HUP "$(fu_nginx_pid)" 2>/dev/null || true
		else
			fu_log "nginx refused the new upstream group"
		fi
		# Once the reload is done, nothing opens a new connection to a
		# host left out: cut what was open, in the old workers too.
		sleep 0.2
		for h in $FU_UPSTREAM_DOWN; do
			fu_upstream_cut "${h%:*}" "${h##*:}"
		done
	fi
	[ "$suspect" -eq 0 ] || return 2
}

# fu_upstream_watch PARENT: fu_upstream_check every second, at once again
# after a missed probe, until SIGTERM or until PARENT, the shell that
# started it, is gone.
fu_upstream_watch() {
	local parent=$1 me=$BASHPID rc s

	# A probe takes up to FCGI_PROBE_TIMEOUT: the trap ends the wait at
	# once (fu_upstream_watch_stop ends the probes themselves).
	trap 'exit 0' TERM
	trap '' HUP
	set +m
	while :; do
		s=$(fu_proc_stat "$me") || exit 0
		[ "${s##* }" = "$parent" ] || exit 0
		rc=0
		fu_upstream_check || rc=$?
		[ "$rc" -ne 2 ] || continue
		sleep 1 &
		wait "$!" || true
	done
}

# fu_upstream_watch_start: when the front watches FCGI_UPSTREAM's hosts
# (fu_upstream_watched), runs fu_upstream_watch in the background, so
# that no probe ever delays whoever started it (fu_serve's loop).  It
# leads a process group of its own (FU_WATCH_PID), its probes in it.
fu_upstream_watch_start() {
	local me=$BASHPID

	fu_upstream_watched || return 0
	# Job control for this one job only: it gets its own process group.
	case $- in
	*m*) fu_upstream_watch "$me" </dev/null & ;;
	*)
		set -m
		fu_upstream_watch "$me" </dev/null &
		set +m
		;;
	esac
	FU_WATCH_PID=$!
}

# fu_upstream_watch_stop: ends the watch started by
# fu_upstream_watch_start, its probes with it (SIGTERM to its process
# group; SIGKILL to what is left after 3 s), and waits for it.
fu_upstream_watch_stop() {
	local pid=${FU_WATCH_PID:-}

	FU_WATCH_PID=
	# Not waited for yet, so its PID (and group) cannot be another's.
	[ -n "$pid" ] && fu_child_alive "$pid" - || return 0
	kill -TERM -- "-$pid" 2>/dev/null || true
	for _ in $(seq 1 30); do
		fu_proc_stat "$pid" >/dev/null || break
		sleep 0.1
	done
	kill -KILL -- "-$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# ------------------------------------------------------------- supervision

# Remembers the children of nginx's master and of multiwatch: should
# either die outright, its children live on, and are stopped by these.
fu_track() {
	local p

	p=$(fu_children "$(fu_nginx_pid)" | tr '\n' ' ')
	[ -z "$p" ] || FU_NGINX_KIDS=$p
	p=$(fu_pool_pids | tr '\n' ' ')
	[ -z "$p" ] || FU_WORKER_KIDS=$p
}

# After a rotation: the workers (SIGHUP) and nginx (SIGUSR1) reopen their
# logs; with the logs on standard output there is nothing to reopen.
fu_reopen_logs() {
	local pid

	if fu_log_stdout; then
		fu_log "SIGHUP: the logs go to standard output (FILEUPLOAD_LOG_TO=stdout): nothing to reopen"
		return 0
	fi
	fu_log "reopening logs"
	for pid in $(fu_pool_pids); do
		! fu_pid_is "$pid" "$FU_POOL_WORKER" || kill -HUP "$pid" 2>/dev/null || true
	done
	pid=$(fu_nginx_pid)
	[ -z "$pid" ] || kill -USR1 "$pid" 2>/dev/null || true
}

# Stops the watch over the hosts (nothing reloads nginx any more), nginx
# (no new requests), then the pool.
fu_service_stop() {
	fu_upstream_watch_stop || true
	fu_nginx_stop || true
	fu_pool_stop || true
}

# fu_hup_default SCRIPT ARGS...: bash cannot trap a signal that was
# ignored when it started (nohup, some CI runners and service managers),
# so SIGHUP would never reopen the logs.  Such a shell runs SCRIPT again
# (exec: the same PID) through env --default-signal=HUP (coreutils 8.31 and
# later), with SIGHUP at its default, which fu_trap_signals then replaces;
# the service's own processes start with it at its default too, as they
# do without nohup.  Where that cannot be done it says so at once, and how
# to reopen the logs instead.  Call it before anything else, from where
# SCRIPT was started.
fu_hup_default() {
	local script=$1
	shift
	if [ "$(trap -p HUP)" != "trap -- '' SIGHUP" ]; then
		unset FU_HUP_RESTORED
		return 0
	fi
	if [ -z "${FU_HUP_RESTORED:-}" ] &&
	    env --default-signal=HUP true 2>/dev/null; then
		fu_log "SIGHUP was ignored (nohup?): starting again with it restored"
		FU_HUP_RESTORED=1 exec env --default-signal=HUP "$BASH" \
		    "$script" "$@"
	fi
	unset FU_HUP_RESTORED
	fu_log "warning: SIGHUP is ignored and cannot be restored here" \
	    "(env --default-signal needs coreutils 8.31): SIGHUP will not" \
	    "reopen the logs; send the workers SIGHUP and nginx SIGUSR1 instead"
}

# Signals set FU_SIGNAL; fu_serve acts on it.
# shellcheck disable=SC2317  # called from the traps
fu_on_signal() {
	FU_SIGNAL=$1
}
fu_trap_signals() {
	FU_SIGNAL=
	trap 'fu_on_signal TERM' TERM
	trap 'fu_on_signal INT' INT
	trap 'fu_on_signal HUP' HUP
}

# Watches nginx and the pool until a signal (fu_trap_signals): SIGTERM or
# SIGINT returns 0 (the caller stops), SIGHUP reopens the logs; nginx or
# the pool dying on its own returns 1.  A front of several hosts watches
# them too, in the background (fu_upstream_watch_start; stopped by
# fu_service_stop); that watch dying on its own returns 1 as well.
fu_serve() {
	local sleeper

	fu_track
	fu_upstream_watch_start
	while :; do
		case $FU_SIGNAL in
		TERM | INT)
			fu_log "SIG$FU_SIGNAL: stopping"
			return 0
			;;
		HUP)
			FU_SIGNAL=
			fu_reopen_logs
			;;
		esac
		fu_track
		if [ -z "$(fu_nginx_pid)" ]; then
			fu_log "nginx exited unexpectedly; stopping"
			return 1
		fi
		if [ -z "$(fu_pool_supervisor)" ]; then
			fu_log "the worker pool exited unexpectedly; stopping"
			return 1
		fi
		if [ -n "${FU_WATCH_PID:-}" ] &&
		    ! fu_child_alive "$FU_WATCH_PID" -; then
			fu_log "the watch over the worker hosts exited" \
			    "unexpectedly; stopping"
			return 1
		fi
		# Returns when a child exits, a trapped signal arrives or, at
		# the latest, after a second.
		sleep 1 &
		sleeper=$!
		wait -n "$sleeper" ${FU_NGINX_PID:+"$FU_NGINX_PID"} \
		    ${FU_WATCH_PID:+"$FU_WATCH_PID"} 2>/dev/null || true
		kill "$sleeper" 2>/dev/null || true
		wait "$sleeper" 2>/dev/null || true
	done
}
