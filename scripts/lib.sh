# shellcheck shell=bash
# Functions here set globals (FU_BUILD_DIR, FU_PG_*, ...) for their callers.
# shellcheck disable=SC2034
#
# scripts/lib.sh: shared by scripts/run, scripts/test, the tests and
# docker/entrypoint.sh.  Source it; it defines functions and defaults and
# starts nothing by itself.  The service's lifecycle (directories, nginx
# configuration, pool, nginx) is in scripts/service.sh, sourced below.
#
# Layout of a run directory ($FU_VAR: ./var for scripts/run, a temp dir for
# the integration tests; the image sets each directory itself):
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

# shellcheck source=scripts/service.sh
. "$(dirname "${BASH_SOURCE[0]}")/service.sh"
# The Ceph RGW starter, for scripts/run and the tests; the installed
# library (the image's, "make install"'s) goes without it.
if [ -f "$(dirname "${BASH_SOURCE[0]}")/rgw.sh" ]; then
	# shellcheck source=scripts/rgw.sh
	. "$(dirname "${BASH_SOURCE[0]}")/rgw.sh"
fi

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

# fu_install_deps [build|run|test]: installs, with apt-get, only the
# packages that are missing of a set: "build" what compiling needs (the
# image's build stage), "run" that and what scripts/run starts, "test"
# (the default) that and what scripts/test uses; Ceph's RADOS Gateway is
# in "test", and in "run" for STORAGE=s3 without S3_ENDPOINT.  apt-get
# update runs only when an install fails (a fresh machine has no lists).
fu_install_deps() {
	local set=${1:-test} p
	local pkgs=(build-essential autoconf automake libtool pkg-config
	    libfcgi-dev libpq-dev libmagic-dev libsodium-dev libjson-c-dev nettle-dev
	    libcurl4-openssl-dev check)

	case $set in
	build) ;;
	run | test)
		pkgs+=(spawn-fcgi multiwatch postgresql curl nginx-light)
		# python3-botocore: the S3 test server and signer check;
		# prometheus (19 MB): promtool, which checks the metrics' format
		# and the alerting rules, and the server the dashboard's
		# queries run on (tests/integration/scenarios/dashboards.sh).
		pkgs+=(python3-botocore)
		# ca-certificates: the CAs nginx and the workers trust an
		# https object store's certificate by, without S3_CA_FILE.
		pkgs+=(ca-certificates)
		# Ceph's RADOS Gateway (scripts/rgw.sh, about 270 MiB): the
		# tests' object store, and scripts/run's for STORAGE=s3
		# without S3_ENDPOINT.
		if [ "$set" = test ] || { [ "${STORAGE:-local}" = s3 ] &&
		    [ -z "${S3_ENDPOINT:-}" ]; }; then
			pkgs+=(radosgw ceph-mon ceph-osd ceph-common)
		fi
		# chromium: the browser the page's tests drive (tests/browser).
		[ "$set" = run ] || pkgs+=(valgrind jq clang-14 libclang-rt-14-dev
		    shellcheck mandoc iproute2 iptables prometheus chromium)
		# Any of Debian's nginx packages will do.
		for p in nginx nginx-core nginx-full nginx-extras; do
			fu_pkg_installed "$p" || continue
			pkgs=("${pkgs[@]/nginx-light/$p}")
			break
		done
		;;
	*) fu_die "fu_install_deps: no package set $set (build, run, test)" ;;
	esac
	p=1
	[ "$set" != test ] || fu_pkg_installed prometheus || p=0
	fu_install_packages "${pkgs[@]}"
	# Under systemd the package starts its server (on *:9090): the
	# tests start their own, so a server installed here is stopped.
	if [ "$p" = 0 ] && [ -d /run/systemd/system ]; then
		systemctl disable --now prometheus.service >/dev/null 2>&1 || true
	fi
}

# fu_install_packages PACKAGE...: those of them that are missing.
fu_install_packages() {
	local missing=() p

	for p in "$@"; do
		fu_pkg_installed "$p" || missing+=("$p")
	done
	[ "${#missing[@]}" -gt 0 ] || return 0

	fu_log "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# Another apt-get (a second scripts/test, say) may hold the lock:
	# wait for it, up to 10 minutes.
	if ! apt-get -o DPkg::Lock::Timeout=600 install -y \
	    --no-install-recommends "${missing[@]}"; then
		fu_log "install failed; running apt-get update and retrying"
		apt-get -o DPkg::Lock::Timeout=600 update
		apt-get -o DPkg::Lock::Timeout=600 install -y \
		    --no-install-recommends "${missing[@]}"
	fi
}

# The Node.js packages, from the npm registry at the versions each
# package-lock.json pins: tus-js-client's and hash-wasm's browser builds for
# the page (src/ui), and for the integration tests newman for the Postman
# collection (tests/postman), tus-js-client for the resumable uploads
# (tests/tus-client) and puppeteer-core and axe-core to drive chromium
# through the page and scan it (tests/browser).  Node.js from Debian if missing.
fu_install_newman() {
	fu_npm_ci "$FU_ROOT/src/ui" "$FU_ROOT/tests/postman" \
	    "$FU_ROOT/tests/tus-client" "$FU_ROOT/tests/browser"
}

# fu_npm_ci DIR...: "npm ci" in each DIR that has no node_modules yet, or
# whose node_modules lacks a package of its package.json or has another
# version of one (npm ls, offline: a package added to an installed tree).
fu_npm_ci() {
	local dir

	for dir in "$@"; do
		if [ -d "$dir/node_modules" ] &&
		    { ! command -v npm >/dev/null 2>&1 ||
		    (cd "$dir" && npm ls >/dev/null 2>&1); }; then
			continue
		fi
		if ! command -v npm >/dev/null 2>&1; then
			fu_log "installing: nodejs npm"
			DEBIAN_FRONTEND=noninteractive apt-get install -y \
			    --no-install-recommends nodejs npm ||
			    { apt-get update && DEBIAN_FRONTEND=noninteractive \
			    apt-get install -y --no-install-recommends nodejs npm; }
		fi
		fu_log "npm ci in ${dir#"$FU_ROOT"/}"
		(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
	done
}

# fu_ui_install: the browser page as nginx serves it (the layout "make
# install" gives $(datadir)/fileupload/ui) in FU_UI_DIR (fu_layout): src/ui's
# page, style and modules, and tus-js-client's browser build (npm ci in
# src/ui) as vendor/tus.min.js, hash-wasm's BLAKE2b as
# vendor/blake2b.umd.min.js.  Readable by nginx's user.
fu_ui_install() {
	local src=$FU_ROOT/src/ui dest
	local tus=$FU_ROOT/src/ui/node_modules/tus-js-client/dist/tus.min.js
	local b2=$FU_ROOT/src/ui/node_modules/hash-wasm/dist/blake2b.umd.min.js

	fu_layout
	dest=$FU_UI_DIR
	rm -rf "$dest.new"
	install -d -m 0755 "$dest.new" "$dest.new/js" "$dest.new/vendor"
	install -m 0644 "$src"/*.html "$src"/*.css "$src"/*.svg "$dest.new/"
	install -m 0644 "$src"/js/*.js "$dest.new/js/"
	if [ -f "$tus" ]; then
		install -m 0644 "$tus" "$dest.new/vendor/tus.min.js"
	else
		fu_log "note: no tus-js-client in src/ui (npm ci there): the" \
		    "page cannot upload"
	fi
	if [ -f "$b2" ]; then
		install -m 0644 "$b2" "$dest.new/vendor/blake2b.umd.min.js"
	fi
	rm -rf "$dest"
	mv "$dest.new" "$dest"
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

# fu_configure_san [thread]: the same sources configured with
# --enable-sanitizers in FU_SAN_BUILD_DIR (default ./build-san), or with
# --enable-sanitizers=thread in FU_TSAN_BUILD_DIR (default ./build-tsan).
# When the source tree is configured in place, a VPATH build is refused by
# automake, so the sources are copied and the copy is configured in place.
# Sets FU_SAN_BUILD_DIR (FU_TSAN_BUILD_DIR); builds nothing yet.
fu_configure_san() {
	local kind=${1:-address} base opt=--enable-sanitizers

	if [ "$kind" = thread ]; then
		base=${FU_TSAN_BUILD_DIR:-$FU_ROOT/build-tsan}
		opt=--enable-sanitizers=thread
	else
		base=${FU_SAN_BUILD_DIR:-$FU_ROOT/build-san}
	fi

	# Explicit returns: callers use this in conditions, where "set -e"
	# does not apply.
	if [ ! -x "$FU_ROOT/configure" ]; then
		(cd "$FU_ROOT" && autoreconf -fi) || return 1
	fi
	if [ -f "$FU_ROOT/config.status" ]; then
		fu_log "source tree is configured in place; copying it to $base/tree"
		rm -rf "$base/tree" && mkdir -p "$base/tree" || return 1
		tar -C "$FU_ROOT" --exclude=./.git --exclude=./build \
		    --exclude=./build-san --exclude=./build-tsan --exclude=./var \
		    -cf - . | tar -C "$base/tree" -xf - || return 1
		if [ -f "$base/tree/Makefile" ]; then
			make -C "$base/tree" distclean >/dev/null 2>&1 || true
		fi
		rm -f "$base/tree/config.status"
		(cd "$base/tree" && ./configure "$opt") || return 1
		base=$base/tree
	else
		mkdir -p "$base" || return 1
		if [ ! -f "$base/Makefile" ]; then
			(cd "$base" && "$FU_ROOT/configure" "$opt") || return 1
		fi
	fi
	if [ "$kind" = thread ]; then
		FU_TSAN_BUILD_DIR=$base
	else
		FU_SAN_BUILD_DIR=$base
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
# FU_PG_LISTEN: listen_addresses instead of 127.0.0.1 (the several-hosts
# test adds its bridge's address, and the pg_hba.conf line for it).
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
listen_addresses = '${FU_PG_LISTEN:-127.0.0.1}'
port = $port
unix_socket_directories = '$dir/run'
unix_socket_permissions = 0777
fsync = ${FU_PG_FSYNC:-on}
EOF
		fu_log "starting PostgreSQL on ${FU_PG_LISTEN:-127.0.0.1}:$port ($dir)"
		if ! fu_as_postgres "$bin/pg_ctl" -D "$dir/data" \
		    -l "$dir/postgres.log" -w -t 60 start >/dev/null; then
			tail -n 20 "$dir/postgres.log" >&2
			[ -z "$(ss -Hltn "sport = :$port" 2>/dev/null)" ] ||
			    fu_log "port $port is taken by another server;" \
			    "choose another (scripts/run: PG_PORT=...)"
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

# ------------------------------------------------------------------- ports

# True when something accepts TCP connections on HOST:PORT.
fu_port_open() {
	(exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# fu_ready SECONDS URL ALIVE-COMMAND... : polls until the service at URL
# (its base, e.g. http://127.0.0.1:8080) said "fileupload is ready" and
# its health route answers 200.  ALIVE-COMMAND prints the service's output
# and fails once it is gone; so does fu_ready then, or when time is up.
fu_ready() {
	local n=$(($1 * 10)) url=$2 out
	shift 2
	while [ "$n" -gt 0 ]; do
		out=$("$@" 2>&1) || return 1
		if [[ $out == *'fileupload is ready on '* ]] &&
		    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
		    "$url/service/fileupload/health")" = 200 ]; then
			return 0
		fi
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# fu_port_taken PORT: something listens on 127.0.0.1:PORT or, where ss
# is at hand, any TCP socket has PORT as its local port: an outgoing
# connection's port (the kernel's ephemeral range, 32768-60999 here)
# also makes a server's bind fail with "Address already in use".
fu_port_taken() {
	fu_port_open 127.0.0.1 "$1" && return 0
	command -v ss >/dev/null 2>&1 || return 1
	[ -n "$(ss -Htan "sport = :$1" 2>/dev/null)" ]
}

# fu_free_port FIRST: prints the first port from FIRST on (up to 100 on)
# that no TCP socket uses (fu_port_taken).  The tests' servers take
# ports below the ephemeral range, where no outgoing connection lands.
fu_free_port() {
	local p

	for p in $(seq "$1" $(($1 + 100))); do
		if ! fu_port_taken "$p"; then
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

# ------------------------------------------------------- S3 test server

# The credentials the S3 test server (tests/s3stub/s3stub.py) accepts.
FU_S3STUB_KEY=fileupload-test
FU_S3STUB_SECRET=fileupload-test-secret

# fu_s3stub_start ROOT BUCKET [PORT [ADDRESS [OPTION...]]]: the S3 test
# server on ADDRESS:PORT (default 127.0.0.1 and a free port; a private
# 10/8 address for network namespaces), serving BUCKET from ROOT, with the
# server's further OPTIONs (e.g. --tls CERT KEY); sets FU_S3STUB_PID and
# FU_S3STUB_PORT.  Its output goes to ROOT/stub.log.  Stop it with
# fu_s3stub_stop.
fu_s3stub_start() {
	local root=$1 bucket=$2 port=${3:-0} addr=${4:-127.0.0.1}

	mkdir -p "$root"
	rm -f "$root/port"
	python3 "$FU_ROOT/tests/s3stub/s3stub.py" --root "$root" \
	    --bucket "$bucket" --port-file "$root/port" --port "$port" \
	    --address "$addr" \
	    --access-key "$FU_S3STUB_KEY" --secret-key "$FU_S3STUB_SECRET" \
	    "${@:5}" >>"$root/stub.log" 2>&1 &
	FU_S3STUB_PID=$!
	for _ in $(seq 1 100); do
		[ ! -s "$root/port" ] || break
		kill -0 "$FU_S3STUB_PID" 2>/dev/null || break
		sleep 0.1
	done
	if [ ! -s "$root/port" ]; then
		tail -n 5 "$root/stub.log" >&2
		FU_S3STUB_PID=
		fu_die "the S3 test server did not start"
	fi
	FU_S3STUB_PORT=$(cat "$root/port")
}

fu_s3stub_stop() {
	[ -n "${FU_S3STUB_PID:-}" ] || return 0
	kill "$FU_S3STUB_PID" 2>/dev/null || true
	wait "$FU_S3STUB_PID" 2>/dev/null || true
	FU_S3STUB_PID=
}
