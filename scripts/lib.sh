# shellcheck shell=bash
# Functions here set globals (FU_BUILD_DIR, FU_PG_*, ...) for their callers.
# shellcheck disable=SC2034
#
# scripts/lib.sh: shared by scripts/run, scripts/test and
# tests/integration/run.sh.  Source it; it defines functions and defaults
# and starts nothing by itself.
#
# Layout of a run directory ($FU_VAR: ./var for scripts/run, a temp dir for
# the integration tests):
#
#	conf/		rendered nginx.conf, fileupload-server.conf,
#			fileupload-locations.conf, fastcgi_params
#	run/		pool socket, pool and nginx pid files (root, 0755)
#	bin/		the worker binary the pool runs (a copy of the build's)
#	nginx/		nginx temp paths (client bodies, fastcgi buffers)
#	logs/		LOG_DIR: fileupload.log, nginx-error.log, nginx-access.log
#	data/		DATA_DIR (owner fileupload, group of nginx's user, 2750)
#	postgres/	private PostgreSQL cluster: data/, run/ (socket), log
#
# Everything here runs as root: the workers drop to $FU_USER through
# spawn-fcgi -u/-g and nginx's workers to $FU_NGINX_USER.

FU_ROOT=${FU_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
FU_USER=${FU_USER:-fileupload}
FU_JOBS=${FU_JOBS:-2}

fu_log() {
	printf '==> %s\n' "$*" >&2
}

fu_die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

fu_require_root() {
	[ "$(id -u)" -eq 0 ] || fu_die "run this as root (it installs packages, \
starts PostgreSQL as postgres and the workers as $FU_USER)"
}

# ---------------------------------------------------------------- packages

fu_pkg_installed() {
	dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null |
	    grep -q '^install ok installed$'
}

# Installs, with apt-get, only the packages that are missing.  apt-get
# update runs only when an install fails (a fresh machine has no lists).
fu_install_deps() {
	local pkgs=(build-essential autoconf automake libtool pkg-config
	    libfcgi-dev spawn-fcgi postgresql libpq-dev libmagic-dev
	    libsodium-dev libjson-c-dev check curl valgrind jq multiwatch
	    clang-14 libclang-rt-14-dev shellcheck mandoc)
	local missing=() p have_nginx=0

	for p in "${pkgs[@]}"; do
		fu_pkg_installed "$p" || missing+=("$p")
	done
	for p in nginx-light nginx nginx-core nginx-full nginx-extras; do
		if fu_pkg_installed "$p"; then
			have_nginx=1
			break
		fi
	done
	[ "$have_nginx" -eq 1 ] || missing+=(nginx-light)
	[ "${#missing[@]}" -gt 0 ] || return 0

	fu_log "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y --no-install-recommends "${missing[@]}"; then
		fu_log "install failed; running apt-get update and retrying"
		apt-get update
		apt-get install -y --no-install-recommends "${missing[@]}"
	fi
}

# newman, for the Postman collection (tests/postman), from the npm registry
# at the versions package-lock.json pins; Node.js from Debian if missing.
fu_install_newman() {
	local dir=$FU_ROOT/tests/postman

	[ ! -x "$dir/node_modules/.bin/newman" ] || return 0
	if ! command -v npm >/dev/null 2>&1; then
		fu_log "installing: nodejs npm"
		DEBIAN_FRONTEND=noninteractive apt-get install -y \
		    --no-install-recommends nodejs npm ||
		    { apt-get update && DEBIAN_FRONTEND=noninteractive \
		    apt-get install -y --no-install-recommends nodejs npm; }
	fi
	fu_log "installing newman (npm ci in tests/postman)"
	(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
}

# ------------------------------------------------------------------- build

# Builds into FU_BUILD_DIR (default ./build, a VPATH build), so that a
# second, sanitized VPATH build can sit beside it.  A source tree that was
# configured in place (./config.status exists) cannot host VPATH builds; then
# the in-place build is the one used.  Sets FU_BUILD_DIR.  FU_CONFIGURE_ARGS
# (split on blanks) goes to a first configure, e.g. "--prefix=/usr" for the
# container image (docker/Dockerfile).
fu_build() {
	local -a cfg_args=()

	read -ra cfg_args <<<"${FU_CONFIGURE_ARGS:-}"
	if [ ! -x "$FU_ROOT/configure" ]; then
		fu_log "autoreconf -fi"
		(cd "$FU_ROOT" && autoreconf -fi)
	fi
	if [ -f "$FU_ROOT/config.status" ]; then
		fu_log "source tree is configured in place; building there"
		FU_BUILD_DIR=$FU_ROOT
	else
		FU_BUILD_DIR=${FU_BUILD_DIR:-$FU_ROOT/build}
		mkdir -p "$FU_BUILD_DIR"
		if [ ! -f "$FU_BUILD_DIR/Makefile" ]; then
			fu_log "configure in $FU_BUILD_DIR"
			(cd "$FU_BUILD_DIR" && "$FU_ROOT/configure" "${cfg_args[@]}")
		fi
	fi
	fu_log "make in $FU_BUILD_DIR"
	make -C "$FU_BUILD_DIR" -j"$FU_JOBS"
}

# The same sources configured with --enable-sanitizers in FU_SAN_BUILD_DIR
# (default ./build-san).  When the source tree is configured in place, a
# VPATH build is refused by automake, so the sources are copied and the
# copy is configured in place.  Sets FU_SAN_BUILD_DIR; builds nothing yet.
fu_configure_san() {
	local base=${FU_SAN_BUILD_DIR:-$FU_ROOT/build-san}

	# Explicit returns: callers use this in conditions, where "set -e"
	# does not apply.
	if [ ! -x "$FU_ROOT/configure" ]; then
		(cd "$FU_ROOT" && autoreconf -fi) || return 1
	fi
	if [ -f "$FU_ROOT/config.status" ]; then
		fu_log "source tree is configured in place; copying it to $base/tree"
		FU_SAN_BUILD_DIR=$base/tree
		rm -rf "$base/tree" && mkdir -p "$base/tree" || return 1
		tar -C "$FU_ROOT" --exclude=./.git --exclude=./build \
		    --exclude=./build-san --exclude=./var -cf - . |
		    tar -C "$base/tree" -xf - || return 1
		if [ -f "$base/tree/Makefile" ]; then
			make -C "$base/tree" distclean >/dev/null 2>&1 || true
		fi
		rm -f "$base/tree/config.status"
		(cd "$base/tree" && ./configure --enable-sanitizers) || return 1
	else
		FU_SAN_BUILD_DIR=$base
		mkdir -p "$base" || return 1
		if [ ! -f "$base/Makefile" ]; then
			(cd "$base" && "$FU_ROOT/configure" --enable-sanitizers) ||
			    return 1
		fi
	fi
}

fu_worker_bin() {
	printf '%s/src/fileupload-worker\n' "$FU_BUILD_DIR"
}

fu_migrate_bin() {
	printf '%s/src/fileupload-migrate\n' "$FU_BUILD_DIR"
}

# -------------------------------------------------------------------- users

# The unprivileged user the workers run as.
fu_user() {
	if ! id -u "$FU_USER" >/dev/null 2>&1; then
		fu_log "creating system user $FU_USER"
		useradd --system --user-group --no-create-home \
		    --home-dir /nonexistent --shell /usr/sbin/nologin "$FU_USER"
	fi
}

# The user nginx's workers run as (and who may connect to the pool socket):
# FU_NGINX_USER, else www-data, else nobody.  Sets FU_NGINX_USER and
# FU_NGINX_GROUP.
fu_nginx_user() {
	if [ -z "${FU_NGINX_USER:-}" ]; then
		if id -u www-data >/dev/null 2>&1; then
			FU_NGINX_USER=www-data
		else
			FU_NGINX_USER=nobody
		fi
	fi
	FU_NGINX_GROUP=${FU_NGINX_GROUP:-$(id -gn "$FU_NGINX_USER")}
}

# True when USER can reach (traverse every component of) DIR.
fu_reachable() {
	(cd / && runuser -u "$2" -- test -x "$1") 2>/dev/null
}

# Prints a run directory usable by postgres, $FU_USER and nginx's user:
# $1 when every one of them can traverse the path to it and its unix
# socket paths fit in sun_path, else one under /var/tmp (a clone under
# /root, mode 0700, is the usual reason).
fu_pick_var_dir() {
	local want=$1 parent sum

	parent=$(dirname "$want")
	if [ "${#want}" -le 70 ] &&
	    fu_reachable "$parent" postgres &&
	    fu_reachable "$parent" "$FU_USER" &&
	    fu_reachable "$parent" "$FU_NGINX_USER"; then
		printf '%s\n' "$want"
		return
	fi
	sum=$(printf '%s' "$want" | cksum | cut -d' ' -f1)
	printf '/var/tmp/fileupload-%s\n' "$sum"
}

# Creates the run directory's skeleton with the owners described above.
# Needs FU_VAR, FU_USER, FU_NGINX_USER/GROUP.
fu_prepare_var() {
	mkdir -p "$FU_VAR"
	chmod 0755 "$FU_VAR"
	mkdir -p "$FU_VAR/conf" "$FU_VAR/run" "$FU_VAR/bin" "$FU_VAR/nginx" \
	    "$FU_VAR/logs" "$FU_VAR/data"
	chmod 0755 "$FU_VAR/conf" "$FU_VAR/run" "$FU_VAR/bin"
	# nginx's workers write client bodies below it: traverse, no listing.
	chmod 0711 "$FU_VAR/nginx"
	chown "$FU_USER:$FU_USER" "$FU_VAR/logs"
	chmod 0750 "$FU_VAR/logs"
	# nginx reads stored files for content requests (X-Accel-Redirect):
	# its group owns DATA_DIR, and setgid hands that group down to the
	# ab/cd/ directories and files the worker creates.
	chown "$FU_USER:$FU_NGINX_GROUP" "$FU_VAR/data"
	chmod 2750 "$FU_VAR/data"
}

# --------------------------------------------------------------- postgresql

# The newest installed server's bin directory (Debian keeps them off PATH).
fu_pg_bindir() {
	local d best=

	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/initdb" ] || continue
		if [ -z "$best" ] || [ "$(basename "$(dirname "$d")")" -gt \
		    "$(basename "$(dirname "$best")")" ]; then
			best=$d
		fi
	done
	[ -n "$best" ] || fu_die "no PostgreSQL server found under /usr/lib/postgresql"
	printf '%s\n' "$best"
}

fu_as_postgres() {
	(cd / && runuser -u postgres -- "$@")
}

# fu_pg_start DIR PORT: a private cluster in DIR (data in DIR/data, unix
# socket in DIR/run, log DIR/postgres.log), listening on 127.0.0.1:PORT and
# the socket only, trust authentication, role and database "fileupload".
# Reuses the cluster if DIR/data exists.  Sets FU_PG_STARTED=1 when it
# started the server, 0 when one was already running on DIR.
# FU_PG_FSYNC=off trades durability for speed (tests).
fu_pg_start() {
	local dir=$1 port=$2 bin

	bin=$(fu_pg_bindir)
	mkdir -p "$dir"
	chown postgres:postgres "$dir"
	chmod 0755 "$dir"
	fu_reachable "$dir" postgres ||
	    fu_die "the postgres user cannot reach $dir (make its parents o+x)"
	if [ ! -f "$dir/data/PG_VERSION" ]; then
		fu_log "initdb $dir/data"
		fu_as_postgres "$bin/initdb" -D "$dir/data" -A trust -U postgres \
		    -E UTF8 --no-locale --no-instructions >"$dir/initdb.log" ||
		    { cat "$dir/initdb.log" >&2; return 1; }
		printf "\ninclude_if_exists = 'fileupload.conf'\n" \
		    >>"$dir/data/postgresql.conf"
	fi
	fu_as_postgres mkdir -p "$dir/run"
	chmod 0755 "$dir/run"
	if fu_as_postgres "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
		fu_log "PostgreSQL in $dir is already running; using it"
		FU_PG_STARTED=0
	else
		# Rewritten at every start: the port may differ from last time.
		fu_as_postgres tee "$dir/data/fileupload.conf" >/dev/null <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir/run'
unix_socket_permissions = 0777
fsync = ${FU_PG_FSYNC:-on}
EOF
		fu_log "starting PostgreSQL on 127.0.0.1:$port ($dir)"
		if ! fu_as_postgres "$bin/pg_ctl" -D "$dir/data" \
		    -l "$dir/postgres.log" -w -t 60 start >/dev/null; then
			tail -n 20 "$dir/postgres.log" >&2
			return 1
		fi
		FU_PG_STARTED=1
	fi
	FU_PG_HOST=$dir/run
	FU_PG_PORT=$(sed -n 's/^port = //p' "$dir/data/fileupload.conf")
	fu_pg_psql "$dir" postgres -c 'SELECT 1' >/dev/null
	if [ "$(fu_pg_psql "$dir" postgres -tAc \
	    "SELECT 1 FROM pg_roles WHERE rolname = 'fileupload'")" != 1 ]; then
		fu_pg_psql "$dir" postgres -c 'CREATE ROLE fileupload LOGIN' >/dev/null
	fi
	if [ "$(fu_pg_psql "$dir" postgres -tAc \
	    "SELECT 1 FROM pg_database WHERE datname = 'fileupload'")" != 1 ]; then
		fu_pg_psql "$dir" postgres -c \
		    'CREATE DATABASE fileupload OWNER fileupload' >/dev/null
	fi
}

# fu_pg_psql DIR DBNAME [psql args...]: psql as the superuser over the
# cluster's unix socket.
fu_pg_psql() {
	local dir=$1 db=$2 port
	shift 2
	port=$(sed -n 's/^port = //p' "$dir/data/fileupload.conf")
	"$(fu_pg_bindir)/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir/run" \
	    -p "$port" -U postgres -d "$db" "$@"
}

# fu_pg_stop DIR: fast shutdown of the cluster in DIR, if it runs.
fu_pg_stop() {
	local dir=$1 bin

	[ -f "$dir/data/PG_VERSION" ] || return 0
	bin=$(fu_pg_bindir)
	if fu_as_postgres "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
		fu_log "stopping PostgreSQL ($dir)"
		fu_as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 \
		    stop >/dev/null
	fi
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

# Renders conf/nginx/*.conf.in into $FU_VAR/conf.  Uses FU_LISTEN
# (host:port), FU_NGINX_MAX_BODY (default: fu_nginx_body_limit of
# FU_MAX_UPLOAD_SIZE, default 10 GiB) and the run directory layout above.
fu_render_conf() {
	local t=$FU_ROOT/conf/nginx c=$FU_VAR/conf
	local max=${FU_MAX_UPLOAD_SIZE:-10737418240}

	fu_nginx_user
	cp /etc/nginx/fastcgi_params "$c/fastcgi_params"
	fu_render "$t/fileupload-locations.conf.in" "$c/fileupload-locations.conf" \
	    SOCKET="$FU_VAR/run/fileupload.sock" DATA_DIR="$FU_VAR/data" \
	    MAX_BODY_SIZE="${FU_NGINX_MAX_BODY:-$(fu_nginx_body_limit "$max")}" \
	    REQUEST_BUFFERING="${REQUEST_BUFFERING:-off}"
	fu_render "$t/fileupload-server.conf.in" "$c/fileupload-server.conf" \
	    LISTEN="$FU_LISTEN" SOCKET="$FU_VAR/run/fileupload.sock" \
	    LOCATIONS_CONF="$c/fileupload-locations.conf"
	fu_render "$t/nginx-standalone.conf.in" "$c/nginx.conf" \
	    PREFIX="$FU_VAR" CONF_DIR="$c" RUN_DIR="$FU_VAR/run" \
	    LOG_DIR="$FU_VAR/logs" NGINX_TEMP_DIR="$FU_VAR/nginx" \
	    NGINX_USER="$FU_NGINX_USER" NGINX_GROUP="$FU_NGINX_GROUP"
}

# ------------------------------------------------------------ process tools

# fu_pid_is PID EXE: true when PID is alive and runs EXE (guards against a
# stale pid file naming a recycled PID).
fu_pid_is() {
	local exe

	[ -n "$1" ] && [ -e "/proc/$1" ] || return 1
	exe=$(readlink "/proc/$1/exe" 2>/dev/null) || return 1
	# A binary replaced while it runs reads "<path> (deleted)".
	[ "${exe% (deleted)}" = "$(readlink -f "$2")" ]
}

# fu_stop_pids EXE SIGNAL PID...: signals those PIDs that run EXE, waits
# up to 10 s for them to go, then sends SIGKILL to the rest.
fu_stop_pids() {
	local exe=$1 sig=$2 pid left i
	shift 2
	for pid in "$@"; do
		if fu_pid_is "$pid" "$exe"; then
			kill "-$sig" "$pid" 2>/dev/null || true
		fi
	done
	for i in $(seq 1 100); do
		left=0
		for pid in "$@"; do
			if fu_pid_is "$pid" "$exe"; then
				left=1
			fi
		done
		[ "$left" -eq 1 ] || return 0
		[ "$i" -eq 100 ] || sleep 0.1
	done
	for pid in "$@"; do
		if fu_pid_is "$pid" "$exe"; then
			fu_log "PID $pid ignored SIG$sig; sending SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	done
}

# -------------------------------------------------------------------- pool

# fu_default_workers: the pool size when WORKERS is not set, 4 per core.
# A worker takes one request at a time and spends most of an upload waiting
# on fsync and PostgreSQL, so one per core leaves the cores idle
# (tests/bench: 4 KiB uploads/s and GET req/s peak at 4 per core on 2
# cores, and fall again at 8).
fu_default_workers() {
	echo $(($(nproc) * 4))
}

# fu_pool_start WORKER_BINARY: a pool of $WORKERS (default:
# fu_default_workers) workers
# on $FU_VAR/run/fileupload.sock, mode 0660, owned by nginx's user, the
# workers running as $FU_USER.
#
# spawn-fcgi binds the socket, drops privileges and (-n) execs multiwatch,
# which forks the workers and starts a new one whenever one dies (spawn-fcgi
# alone never restarts a worker).  $FU_VAR/run/pool.pid holds multiwatch's
# PID; the workers are its children.  SIGTERM to multiwatch passes SIGTERM
# on to every worker and waits for them.
#
# The workers get a clean environment with only the variables below.
# It is built in a subshell rather than on an env(1) command line so that
# DB_PASSWORD and the tokens never appear in a process's argv (ps).
# Uses FU_DB_HOST, FU_DB_PORT, FU_DB_USER, FU_DB_NAME, DB_PASSWORD,
# FU_MAX_UPLOAD_SIZE and, when set, FILEUPLOAD_TOKEN, FILEUPLOAD_READ_TOKEN,
# ASAN_OPTIONS, UBSAN_OPTIONS.
fu_pool_start() {
	local src=$1 n=${WORKERS:-$(fu_default_workers)} sock=$FU_VAR/run/fileupload.sock
	local pidfile=$FU_VAR/run/pool.pid worker=$FU_VAR/bin/fileupload-worker
	local -a envs
	local kv name i

	fu_nginx_user
	[ -x "$src" ] || fu_die "no worker binary at $src (build first)"
	# A copy the workers' user can always reach, whatever the clone's
	# path permissions.
	install -m 0755 "$src" "$worker.new"
	mv -f "$worker.new" "$worker"
	rm -f "$sock" "$pidfile"

	envs=(PATH=/usr/sbin:/usr/bin:/sbin:/bin
	    DB_TYPE=postgresql
	    "DB_HOST=$FU_DB_HOST" "DB_PORT=$FU_DB_PORT"
	    "DB_USER=$FU_DB_USER" "DB_NAME=$FU_DB_NAME"
	    "ROOT_DIR=$FU_VAR" "LOG_DIR=$FU_VAR/logs" "DATA_DIR=$FU_VAR/data")
	[ -z "${FU_MAX_UPLOAD_SIZE:-}" ] ||
	    envs+=("MAX_UPLOAD_SIZE=$FU_MAX_UPLOAD_SIZE")
	for name in DB_PASSWORD FILEUPLOAD_TOKEN FILEUPLOAD_READ_TOKEN \
	    ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
		[ -z "${!name+x}" ] || envs+=("$name=${!name}")
	done

	fu_log "starting $n workers on $sock (supervised by multiwatch)"
	(
		while read -r name; do
			unset "$name" 2>/dev/null || true
		done < <(compgen -e)
		for kv in "${envs[@]}"; do
			export "${kv?}"
		done
		# Retries: a worker dying more than 10 times, each within 10 s
		# of its start, is a crash loop; multiwatch then gives up on it.
		exec spawn-fcgi -s "$sock" -M 0660 \
		    -U "$FU_NGINX_USER" -G "$FU_NGINX_GROUP" \
		    -u "$FU_USER" -g "$FU_USER" -n \
		    -- "$(command -v multiwatch)" -f "$n" -r 10 -t 10000 -s TERM \
		    -- "$worker"
	) </dev/null >>"$FU_VAR/logs/spawn-fcgi.log" 2>&1 &
	echo "$!" >"$pidfile"
	# A worker that dies at startup (bad config, no DATA_DIR) does so at
	# once: give the pool a moment and check all of them are there.
	for i in $(seq 1 30); do
		[ "$(fu_pool_pids | wc -l)" -lt "$n" ] || break
		sleep 0.1
	done
	sleep 0.3
	local pid alive=0
	for pid in $(fu_pool_pids); do
		if fu_pid_is "$pid" "$worker"; then
			alive=$((alive + 1))
		fi
	done
	if [ "$alive" -ne "$n" ]; then
		fu_log "only $alive of $n workers are running; last log lines:"
		tail -n 20 "$FU_VAR/logs/spawn-fcgi.log" >&2 2>/dev/null || true
		tail -n 20 "$FU_VAR/logs/fileupload.log" >&2 2>/dev/null || true
		fu_pool_stop
		return 1
	fi
}

# The supervisor's PID (multiwatch), if it runs.
fu_pool_supervisor() {
	local f=$FU_VAR/run/pool.pid pid

	[ -f "$f" ] || return 0
	pid=$(cat "$f")
	! fu_pid_is "$pid" "$(command -v multiwatch)" || printf '%s\n' "$pid"
}

# The workers' PIDs: the supervisor's children.
fu_pool_pids() {
	local sup

	sup=$(fu_pool_supervisor)
	[ -n "$sup" ] || return 0
	tr -s ' ' '\n' <"/proc/$sup/task/$sup/children" | grep -E '^[0-9]+$' || true
}

fu_pool_stop() {
	local sup pids

	sup=$(fu_pool_supervisor)
	if [ -n "$sup" ]; then
		mapfile -t pids < <(fu_pool_pids)
		fu_log "stopping workers: ${pids[*]} (supervisor $sup)"
		fu_stop_pids "$(command -v multiwatch)" TERM "$sup"
		# Should multiwatch have been killed outright, its workers
		# would be orphans: end them by their recorded PIDs.
		[ "${#pids[@]}" -eq 0 ] ||
		    fu_stop_pids "$FU_VAR/bin/fileupload-worker" TERM "${pids[@]}"
	fi
	rm -f "$FU_VAR/run/pool.pid" "$FU_VAR/run/fileupload.sock"
}

# ------------------------------------------------------------------- nginx

fu_nginx_cmd() {
	nginx -p "$FU_VAR/" -c "$FU_VAR/conf/nginx.conf" \
	    -e "$FU_VAR/logs/nginx-error.log" "$@"
}

fu_nginx_pid() {
	local f=$FU_VAR/run/nginx.pid

	[ -f "$f" ] && tr -d ' \n' <"$f"
}

# Starts the private nginx (daemonized, pid in $FU_VAR/run/nginx.pid) after
# checking its configuration, and waits until it accepts connections.
fu_nginx_start() {
	local pid i host port

	fu_nginx_cmd -t -q || fu_die "nginx configuration test failed"
	fu_log "starting nginx on $FU_LISTEN"
	fu_nginx_cmd
	host=${FU_LISTEN%:*}
	port=${FU_LISTEN##*:}
	for i in $(seq 1 50); do
		pid=$(fu_nginx_pid || true)
		if [ -n "$pid" ] && fu_port_open "$host" "$port"; then
			return 0
		fi
		sleep 0.1
	done
	tail -n 20 "$FU_VAR/logs/nginx-error.log" >&2 || true
	fu_die "nginx did not come up on $FU_LISTEN"
}

fu_nginx_stop() {
	local pid

	pid=$(fu_nginx_pid || true)
	if [ -n "$pid" ] && fu_pid_is "$pid" "$(command -v nginx)"; then
		fu_log "stopping nginx (PID $pid)"
		# QUIT: graceful, lets in-flight requests finish.
		fu_stop_pids "$(command -v nginx)" QUIT "$pid"
	fi
	rm -f "$FU_VAR/run/nginx.pid"
}

# ------------------------------------------------------------------- ports

# True when something accepts TCP connections on HOST:PORT.
fu_port_open() {
	(exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# fu_free_port FIRST: prints the first port from FIRST on (up to 100 on)
# that nothing listens on at 127.0.0.1.
fu_free_port() {
	local p

	for p in $(seq "$1" $(($1 + 100))); do
		if ! fu_port_open 127.0.0.1 "$p"; then
			printf '%s\n' "$p"
			return 0
		fi
	done
	fu_die "no free port in $1..$(($1 + 100))"
}

# fu_with_db_env COMMAND...: runs COMMAND with the DB_* settings the pool
# uses (DB_PASSWORD, when set, comes from the environment).
fu_with_db_env() {
	env DB_TYPE=postgresql DB_HOST="$FU_DB_HOST" DB_PORT="$FU_DB_PORT" \
	    DB_USER="$FU_DB_USER" DB_NAME="$FU_DB_NAME" "$@"
}

# Runs the migrations with the DB settings the pool uses.
fu_migrate() {
	local bin=$1

	fu_log "migrating the database"
	fu_with_db_env "$bin" -d "$FU_ROOT/sql" up
}
