#!/usr/bin/env bash
#
# fileupload-entrypoint: the container's main process (run by tini as
# PID 1's child).  Installed as /usr/share/fileupload/docker/entrypoint.sh,
# linked from /usr/local/bin/fileupload-entrypoint; it also runs outside
# Docker, from the source tree or a "make install DESTDIR=..." tree
# (tests/integration/scenarios/entrypoint.sh does that).
#
#	fileupload-entrypoint [serve]	wait for the database, migrate, serve
#	fileupload-entrypoint CMD ARGS	run CMD instead (fileupload-migrate
#					status, fileupload-fsck -v, sh, ...)
#
# serve:
#  1. waits until the database answers (at most DB_WAIT_SECONDS, then exits
#     1 saying why),
#  2. applies the migrations (fileupload-migrate up),
#  3. renders the nginx configuration from the conf/nginx templates,
#  4. starts the worker pool (spawn-fcgi -n + multiwatch, as scripts/lib.sh
#     does) and nginx in the foreground, both as its children,
#  5. SIGTERM or SIGINT: stops nginx (gracefully), then the pool, exits 0;
#     SIGHUP: the workers and nginx reopen their logs (after a rotation);
#     nginx or the pool dying on its own: stops the other, exits 1.
#
# Environment (the worker's own variables are passed on to the workers):
#	DB_TYPE, DB_HOST, DB_PORT, DB_USER, DB_PASSWORD, DB_NAME, PG*
#	ROOT_DIR (/server), LOG_DIR ($ROOT_DIR/logs/), DATA_DIR ($ROOT_DIR/data/)
#	MAX_UPLOAD_SIZE, FILEUPLOAD_TOKEN, FILEUPLOAD_READ_TOKEN
#	PORT (80), LISTEN_ADDRESS (0.0.0.0), WORKERS (4 per core),
#	REQUEST_BUFFERING (off), DB_WAIT_SECONDS (60)
#	FILEUPLOAD_BIN_DIR	fileupload-worker and fileupload-migrate
#				(default: where PATH finds fileupload-worker)
#	FILEUPLOAD_SQL_DIR	migrations (default: fileupload-migrate's own)
#	FILEUPLOAD_CONF_DIR	the nginx templates (default: conf/nginx beside
#				the shell library)
#	FILEUPLOAD_RUN_DIR	socket, pid file, rendered nginx configuration,
#				nginx temp files (/run/fileupload)
#	FILEUPLOAD_USER		the workers' user when started as root (fileupload)
#	FILEUPLOAD_NGINX_USER	nginx's workers' user when started as root
#				(www-data, else nobody)
#	FILEUPLOAD_LIB		the shell library (scripts/lib.sh)
#
# Started as root, it gives DATA_DIR and LOG_DIR to FILEUPLOAD_USER and
# drops the workers to that user and nginx's workers to
# FILEUPLOAD_NGINX_USER.  Started as another user (docker run --user), it
# runs everything as that user, which must own DATA_DIR, LOG_DIR and the
# run directory; PORT must then be above 1023.
set -euo pipefail

ep_here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
if [ -z "${FILEUPLOAD_LIB:-}" ]; then
	# The source tree and the installed tree have the same shape:
	# <root>/docker/entrypoint.sh beside <root>/scripts/lib.sh.
	FILEUPLOAD_LIB=$ep_here/../scripts/lib.sh
fi
if [ ! -r "$FILEUPLOAD_LIB" ]; then
	printf 'fileupload-entrypoint: no shell library at %s (set FILEUPLOAD_LIB)\n' \
	    "$FILEUPLOAD_LIB" >&2
	exit 1
fi
# shellcheck source=scripts/lib.sh
. "$FILEUPLOAD_LIB"

case ${1:-serve} in
serve) ;;
*) exec "$@" ;;
esac

# ---------------------------------------------------------- configuration

ep_number() {
	case $2 in
	'' | *[!0-9]*) fu_die "$1=$2 is not a number" ;;
	esac
}

PORT=${PORT:-80}
LISTEN_ADDRESS=${LISTEN_ADDRESS:-0.0.0.0}
WORKERS=${WORKERS:-$(fu_default_workers)}
DB_WAIT_SECONDS=${DB_WAIT_SECONDS:-60}
REQUEST_BUFFERING=${REQUEST_BUFFERING:-off}
ep_number PORT "$PORT"
ep_number WORKERS "$WORKERS"
ep_number DB_WAIT_SECONDS "$DB_WAIT_SECONDS"
[ -z "${MAX_UPLOAD_SIZE:-}" ] || ep_number MAX_UPLOAD_SIZE "$MAX_UPLOAD_SIZE"
if [ "$PORT" -lt 1 ] || [ "$PORT" -gt 65535 ]; then
	fu_die "PORT=$PORT is out of range"
fi
[ "$WORKERS" -ge 1 ] || fu_die "WORKERS must be at least 1"
case $REQUEST_BUFFERING in
on | off) ;;
*) fu_die "REQUEST_BUFFERING=$REQUEST_BUFFERING: use on or off" ;;
esac
case ${DB_TYPE:-postgresql} in
postgresql) ;;
*) fu_die "DB_TYPE=$DB_TYPE: only postgresql is supported" ;;
esac

# The worker's own defaults, made explicit: nginx needs DATA_DIR too, and
# both must agree.
ROOT_DIR=${ROOT_DIR:-/server}
LOG_DIR=${LOG_DIR:-$ROOT_DIR/logs/}
DATA_DIR=${DATA_DIR:-$ROOT_DIR/data/}
export DB_TYPE=postgresql ROOT_DIR LOG_DIR DATA_DIR
ep_log_dir=${LOG_DIR%/}
ep_data_dir=${DATA_DIR%/}

if [ -z "${FILEUPLOAD_BIN_DIR:-}" ]; then
	ep_w=$(command -v fileupload-worker || true)
	[ -n "$ep_w" ] || fu_die "fileupload-worker is not on PATH (set FILEUPLOAD_BIN_DIR)"
	FILEUPLOAD_BIN_DIR=$(dirname "$ep_w")
fi
ep_worker=$FILEUPLOAD_BIN_DIR/fileupload-worker
ep_migrate_bin=$FILEUPLOAD_BIN_DIR/fileupload-migrate
[ -x "$ep_worker" ] || fu_die "no fileupload-worker in $FILEUPLOAD_BIN_DIR"
[ -x "$ep_migrate_bin" ] || fu_die "no fileupload-migrate in $FILEUPLOAD_BIN_DIR"
ep_templates=${FILEUPLOAD_CONF_DIR:-$(dirname "$FILEUPLOAD_LIB")/../conf/nginx}
[ -r "$ep_templates/nginx-standalone.conf.in" ] ||
    fu_die "no nginx templates in $ep_templates (set FILEUPLOAD_CONF_DIR)"
ep_run=${FILEUPLOAD_RUN_DIR:-/run/fileupload}
ep_sock=$ep_run/fileupload.sock
for ep_tool in nginx spawn-fcgi multiwatch; do
	command -v "$ep_tool" >/dev/null || fu_die "$ep_tool is not installed"
done
ep_nginx=$(command -v nginx)
ep_multiwatch=$(command -v multiwatch)

ep_root=0
[ "$(id -u)" -ne 0 ] || ep_root=1
if [ "$ep_root" -eq 1 ]; then
	FU_USER=${FILEUPLOAD_USER:-fileupload}
	id -u "$FU_USER" >/dev/null 2>&1 ||
	    fu_die "no user $FU_USER for the workers (set FILEUPLOAD_USER)"
	FU_NGINX_USER=${FILEUPLOAD_NGINX_USER:-}
	FU_NGINX_GROUP=
	fu_nginx_user
	ep_user_group=$(id -gn "$FU_USER")
else
	FU_USER=$(id -un)
	FU_NGINX_USER=$FU_USER
	FU_NGINX_GROUP=$(id -gn)
	[ "$PORT" -gt 1023 ] ||
	    fu_die "running as $FU_USER (not root): set PORT above 1023"
fi

# ------------------------------------------------------------ directories

# Started as root: the layout of scripts/lib.sh (fu_prepare_var).  Only the
# top directories are touched, never what is stored below them.
ep_prepare_dirs() {
	mkdir -p "$ep_run/conf" "$ep_run/nginx" "$ep_data_dir" "$ep_log_dir"
	if [ "$ep_root" -eq 1 ]; then
		chmod 0755 "$ep_run" "$ep_run/conf"
		chmod 0711 "$ep_run/nginx"
		# nginx's workers reopen its logs themselves (SIGHUP, below):
		# its group may enter LOG_DIR, not write there.
		chown "$FU_USER:$FU_NGINX_GROUP" "$ep_log_dir"
		chmod 0750 "$ep_log_dir"
		# nginx reads stored files (X-Accel-Redirect): its group owns
		# DATA_DIR, and setgid hands it down to what the workers create.
		chown "$FU_USER:$FU_NGINX_GROUP" "$ep_data_dir"
		chmod 2750 "$ep_data_dir"
	else
		local d
		for d in "$ep_run" "$ep_data_dir" "$ep_log_dir"; do
			[ -w "$d" ] || fu_die "$d is not writable by $FU_USER"
		done
	fi
}

# --------------------------------------------------------------- database

ep_migrate_args=()
[ -z "${FILEUPLOAD_SQL_DIR:-}" ] || ep_migrate_args=(-d "$FILEUPLOAD_SQL_DIR")

# Polls with "fileupload-migrate status" (it connects exactly as the
# workers do) until it succeeds or DB_WAIT_SECONDS have passed; each try is
# cut at 10 s, for a host that drops packets.  Errors other than a failed
# connection (a bad setting, say) end the wait at once.
ep_wait_for_db() {
	local deadline=$((SECONDS + DB_WAIT_SECONDS)) left err
	local where="${DB_HOST:-the default host}:${DB_PORT:-5432}"

	err=$ep_run/db-wait.err
	fu_log "waiting for the database at $where (up to ${DB_WAIT_SECONDS} s)"
	while [ -z "$ep_signal" ]; do
		left=$((deadline - SECONDS))
		[ "$left" -ge 1 ] || left=1
		[ "$left" -le 10 ] || left=10
		if timeout "$left" "$ep_migrate_bin" "${ep_migrate_args[@]}" \
		    status >/dev/null 2>"$err"; then
			rm -f "$err"
			return 0
		fi
		if [ -s "$err" ] && ! grep -q 'cannot connect' "$err"; then
			cat "$err" >&2
			rm -f "$err"
			fu_die "the database check failed (not a connection problem; not retrying)"
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			[ ! -s "$err" ] || sed 's/^/    /' "$err" >&2
			rm -f "$err"
			fu_die "database not reachable at $where after ${DB_WAIT_SECONDS} s (DB_WAIT_SECONDS); giving up"
		fi
		sleep 1
	done
	rm -f "$err"
}

# ------------------------------------------------------------------ nginx

ep_render_conf() {
	local c=$ep_run/conf

	cp /etc/nginx/fastcgi_params "$c/fastcgi_params"
	fu_render "$ep_templates/fileupload-locations.conf.in" \
	    "$c/fileupload-locations.conf" \
	    SOCKET="$ep_sock" DATA_DIR="$ep_data_dir" \
	    MAX_BODY_SIZE="$(fu_nginx_body_limit "${MAX_UPLOAD_SIZE:-10737418240}")" \
	    REQUEST_BUFFERING="$REQUEST_BUFFERING"
	fu_render "$ep_templates/fileupload-server.conf.in" \
	    "$c/fileupload-server.conf" \
	    LISTEN="$LISTEN_ADDRESS:$PORT" SOCKET="$ep_sock" \
	    LOCATIONS_CONF="$c/fileupload-locations.conf"
	fu_render "$ep_templates/nginx-standalone.conf.in" "$c/nginx.conf" \
	    PREFIX="$ep_run" CONF_DIR="$c" RUN_DIR="$ep_run" \
	    LOG_DIR="$ep_log_dir" NGINX_TEMP_DIR="$ep_run/nginx" \
	    NGINX_USER="$FU_NGINX_USER" NGINX_GROUP="$FU_NGINX_GROUP"
	if [ "$ep_root" -eq 0 ]; then
		# "user" means something only to a master running as root.
		sed -i '/^user /d' "$c/nginx.conf"
	fi
}

ep_nginx_cmd() {
	"$ep_nginx" -p "$ep_run/" -c "$ep_run/conf/nginx.conf" \
	    -e "$ep_log_dir/nginx-error.log" "$@"
}

# ------------------------------------------------------------------- pool

EP_POOL_PID=
EP_NGINX_PID=
# The last children seen of nginx's master and of multiwatch: should either
# die outright, its children live on as orphans, and are stopped by these.
EP_NGINX_KIDS=
EP_WORKER_KIDS=
ep_signal=

ep_children() {
	local f=/proc/$1/task/$1/children

	[ -n "$1" ] && [ -r "$f" ] || return 0
	tr -s ' ' '\n' <"$f" | grep -E '^[0-9]+$' || true
}

# The workers: multiwatch's children.
ep_worker_pids() {
	ep_children "$EP_POOL_PID"
}

ep_track() {
	local p

	p=$(ep_children "$EP_NGINX_PID" | tr '\n' ' ')
	[ -z "$p" ] || EP_NGINX_KIDS=$p
	p=$(ep_worker_pids | tr '\n' ' ')
	[ -z "$p" ] || EP_WORKER_KIDS=$p
}

# spawn-fcgi binds the socket, drops privileges and (-n) execs multiwatch,
# which forks WORKERS workers and restarts any that dies.  The workers get
# only the variables below (never on a command line: DB_PASSWORD and the
# tokens stay out of ps).
ep_pool_start() {
	local -a args=(-s "$ep_sock" -n)
	local name pid i alive=0 n=$WORKERS

	if [ "$ep_root" -eq 1 ]; then
		args+=(-M 0660 -U "$FU_NGINX_USER" -G "$FU_NGINX_GROUP"
		    -u "$FU_USER" -g "$ep_user_group")
	else
		args+=(-M 0600)
	fi
	rm -f "$ep_sock"
	fu_log "starting $WORKERS workers on $ep_sock"
	(
		while read -r name; do
			case $name in
			PATH | DB_* | PG* | ROOT_DIR | LOG_DIR | DATA_DIR | \
			    MAX_UPLOAD_SIZE | FILEUPLOAD_TOKEN | \
			    FILEUPLOAD_READ_TOKEN | TZ | LANG | LC_* | \
			    ASAN_OPTIONS | UBSAN_OPTIONS | LSAN_OPTIONS) ;;
			*) unset "$name" 2>/dev/null || true ;;
			esac
		done < <(compgen -e)
		# multiwatch: a worker dying more than 10 times, each within
		# 10 s of its start, is a crash loop; it then gives up on it.
		exec spawn-fcgi "${args[@]}" -- "$ep_multiwatch" \
		    -f "$n" -r 10 -t 10000 -s TERM -- "$ep_worker"
	) </dev/null &
	EP_POOL_PID=$!

	for i in $(seq 1 30); do
		[ "$(ep_worker_pids | wc -l)" -lt "$WORKERS" ] || break
		sleep 0.1
	done
	# A worker with a bad setting dies at once: let that happen first.
	sleep 0.3
	for pid in $(ep_worker_pids); do
		! fu_pid_is "$pid" "$ep_worker" || alive=$((alive + 1))
	done
	if [ "$alive" -ne "$WORKERS" ]; then
		fu_log "only $alive of $WORKERS workers are running; the log says:"
		tail -n 10 "$ep_log_dir/fileupload.log" >&2 2>/dev/null || true
		return 1
	fi
}

ep_pool_stop() {
	local -a pids

	if fu_pid_is "$EP_POOL_PID" "$ep_multiwatch"; then
		mapfile -t pids < <(ep_worker_pids)
		fu_log "stopping the workers (${pids[*]})"
		# multiwatch passes SIGTERM on to every worker, each of which
		# finishes the request in hand first, and waits for them.
		fu_stop_pids "$ep_multiwatch" TERM "$EP_POOL_PID"
	else
		read -ra pids <<<"$EP_WORKER_KIDS"
	fi
	[ "${#pids[@]}" -eq 0 ] || fu_stop_pids "$ep_worker" TERM "${pids[@]}"
	[ -z "$EP_POOL_PID" ] || wait "$EP_POOL_PID" 2>/dev/null || true
	rm -f "$ep_sock"
}

ep_nginx_start() {
	local i host=$LISTEN_ADDRESS

	ep_nginx_cmd -t -q || fu_die "nginx configuration test failed"
	fu_log "starting nginx on $LISTEN_ADDRESS:$PORT"
	# Not through ep_nginx_cmd: a function in the background would be a
	# subshell with nginx its child; this way $! is nginx's master.
	"$ep_nginx" -p "$ep_run/" -c "$ep_run/conf/nginx.conf" \
	    -e "$ep_log_dir/nginx-error.log" -g 'daemon off;' </dev/null &
	EP_NGINX_PID=$!
	case $host in
	0.0.0.0 | '*') host=127.0.0.1 ;;
	'[::]') host=::1 ;;
	'['*) host=${host#[}; host=${host%]} ;;
	esac
	for i in $(seq 1 100); do
		fu_pid_is "$EP_NGINX_PID" "$ep_nginx" || break
		fu_port_open "$host" "$PORT" && return 0
		sleep 0.1
	done
	tail -n 10 "$ep_log_dir/nginx-error.log" >&2 2>/dev/null || true
	fu_log "nginx did not come up on $LISTEN_ADDRESS:$PORT"
	return 1
}

ep_nginx_stop() {
	local -a kids

	if fu_pid_is "$EP_NGINX_PID" "$ep_nginx"; then
		mapfile -t kids < <(ep_children "$EP_NGINX_PID")
		fu_log "stopping nginx"
		# QUIT: graceful, in-flight requests finish (at most 10 s,
		# then KILL).
		fu_stop_pids "$ep_nginx" QUIT "$EP_NGINX_PID"
	else
		read -ra kids <<<"$EP_NGINX_KIDS"
	fi
	[ "${#kids[@]}" -eq 0 ] || fu_stop_pids "$ep_nginx" QUIT "${kids[@]}"
	[ -z "$EP_NGINX_PID" ] || wait "$EP_NGINX_PID" 2>/dev/null || true
	rm -f "$ep_run/nginx.pid"
}

# SIGHUP: logrotate (or an operator) moved the logs away.
ep_reopen_logs() {
	local pid

	fu_log "reopening logs"
	for pid in $(ep_worker_pids); do
		! fu_pid_is "$pid" "$ep_worker" || kill -HUP "$pid" 2>/dev/null || true
	done
	! fu_pid_is "$EP_NGINX_PID" "$ep_nginx" ||
	    kill -USR1 "$EP_NGINX_PID" 2>/dev/null || true
}

ep_stopped=0
ep_stop() {
	[ "$ep_stopped" -eq 0 ] || return 0
	ep_stopped=1
	trap '' INT TERM HUP
	ep_nginx_stop || true
	ep_pool_stop || true
}

# --------------------------------------------------------------------- main

# shellcheck disable=SC2317  # called from the traps
ep_on_signal() {
	ep_signal=$1
}
trap 'ep_on_signal TERM' TERM
trap 'ep_on_signal INT' INT
trap 'ep_on_signal HUP' HUP
trap ep_stop EXIT

ep_prepare_dirs
ep_wait_for_db
[ -z "$ep_signal" ] || exit 0
fu_log "applying migrations"
"$ep_migrate_bin" "${ep_migrate_args[@]}" up || fu_die "the migrations failed"
ep_render_conf
ep_pool_start || exit 1
ep_nginx_start || exit 1
# Know nginx's workers from the start: a master killed outright leaves them.
ep_track
fu_log "fileupload is ready on $LISTEN_ADDRESS:$PORT (pool $EP_POOL_PID, nginx $EP_NGINX_PID)"

while :; do
	case $ep_signal in
	TERM | INT)
		fu_log "SIG$ep_signal: stopping"
		ep_stop
		fu_log "stopped"
		exit 0
		;;
	HUP)
		ep_signal=
		ep_reopen_logs
		;;
	esac
	ep_track
	if ! fu_pid_is "$EP_NGINX_PID" "$ep_nginx"; then
		fu_log "nginx exited unexpectedly; stopping"
		exit 1
	fi
	if ! fu_pid_is "$EP_POOL_PID" "$ep_multiwatch"; then
		fu_log "the worker pool exited unexpectedly; stopping"
		exit 1
	fi
	# Returns when a child exits, a trapped signal arrives or, at the
	# latest, after a second (a signal that came just before "wait").
	sleep 1 &
	ep_sleep=$!
	wait -n "$EP_NGINX_PID" "$EP_POOL_PID" "$ep_sleep" 2>/dev/null || true
	kill "$ep_sleep" 2>/dev/null || true
	wait "$ep_sleep" 2>/dev/null || true
done
