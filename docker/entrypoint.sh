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
#     1 saying why; a login the server refuses ends it at once), then with
#     STORAGE=s3 until the object store answers and accepts the keys
#     (fileupload-fsck -s; at most STORE_WAIT_SECONDS; a refusal, such as
#     SignatureDoesNotMatch or NoSuchBucket, ends it at once),
#  2. applies the migrations (fileupload-migrate up),
#  3. renders the nginx configuration from the conf/nginx templates,
#  4. starts the worker pool (spawn-fcgi -n + multiwatch) and nginx in the
#     foreground, both as its children, with scripts/service.sh (the same
#     code as scripts/run); workers that cannot start end it with status 1,
#  5. SIGTERM or SIGINT: stops nginx (gracefully), then the pool, exits 0;
#     SIGHUP: the workers and nginx reopen their log files (after a
#     rotation; also when started with SIGHUP ignored, which it restores
#     first); with the logs on standard output there is nothing to reopen;
#     nginx or the pool dying on its own: stops the other, exits 1.
#
# Environment (the worker's own variables are passed on to the workers):
#	DB_TYPE, DB_HOST, DB_PORT, DB_USER, DB_PASSWORD, DB_NAME, PG*
#	ROOT_DIR (/server), LOG_DIR ($ROOT_DIR/logs/), DATA_DIR ($ROOT_DIR/data/)
#	MAX_UPLOAD_SIZE, FILEUPLOAD_TOKEN, FILEUPLOAD_READ_TOKEN,
#	FILEUPLOAD_METRICS_TOKEN (the metrics from outside the container)
#	STORAGE, S3_*, AWS_* (the object store, docs/storage.md)
#	DB_PASSWORD_FILE, FILEUPLOAD_TOKEN_FILE, ... S3_SESSION_TOKEN_FILE:
#	each secret from a file instead (passed on as they are; the worker
#	and fileupload-migrate read them)
#	UPLOAD_MIN_RATE, UPLOAD_RATE_WINDOW, UPLOAD_TIMEOUT (nginx's
#	client_body_timeout follows the last)
#	FILEUPLOAD_LOG_TO (stdout): the request lines of the workers and
#	nginx on standard output, nginx's errors on standard error; "files":
#	in LOG_DIR (fileupload.log, nginx-access.log, nginx-error.log), which
#	SIGHUP reopens after a rotation.  FILEUPLOAD_LOG_FORMAT (text): json
#	makes those lines JSON objects.
#	PORT (80), LISTEN_ADDRESS (0.0.0.0), WORKERS (1 per CPU of the
#	container's CPU quota, else per core, at least 2: fu_cpu_count),
#	REQUEST_BUFFERING (off), DB_WAIT_SECONDS (60), STORE_WAIT_SECONDS
#	(DB_WAIT_SECONDS)
#	TRUSTED_PROXIES (none): proxies whose X-Forwarded-For nginx believes
#	for the client's address (fu_real_ip)
#	FILEUPLOAD_BIN_DIR	fileupload-worker, fileupload-migrate and
#				(with STORAGE=s3) fileupload-fsck
#				(default: where PATH finds fileupload-worker)
#	FILEUPLOAD_SQL_DIR	migrations (default: fileupload-migrate's own)
#	FILEUPLOAD_CONF_DIR	the nginx templates (default: conf/nginx beside
#				the shell library)
#	FILEUPLOAD_UI_DIR	the browser page (default: ui beside the shell
#				library's directory, as "make install" lays
#				it out)
#	FILEUPLOAD_RUN_DIR	socket, pid file, rendered nginx configuration,
#				nginx temp files (/run/fileupload; the image
#				sets /tmp/fileupload)
#	FILEUPLOAD_USER		the workers' user when started as root (fileupload)
#	FILEUPLOAD_NGINX_USER	nginx's workers' user when started as root
#				(www-data, else nobody)
#	FILEUPLOAD_LIB		the shell library (scripts/lib.sh)
#
# The image runs it as fileupload: everything then runs as that user,
# which must be able to write DATA_DIR, LOG_DIR and the run directory;
# nginx listens on a port below 1024 by its file capability (see
# docker/Dockerfile).  Started as root (--user root), it gives DATA_DIR and
# LOG_DIR to FILEUPLOAD_USER and drops the workers to that user and
# nginx's workers to FILEUPLOAD_NGINX_USER.
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
fu_hup_default "$0" "$@"

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
STORE_WAIT_SECONDS=${STORE_WAIT_SECONDS:-$DB_WAIT_SECONDS}
REQUEST_BUFFERING=${REQUEST_BUFFERING:-off}
# A container's logs are its standard output (docker logs): the request
# lines of the workers and nginx go there unless told "files".
export FILEUPLOAD_LOG_TO=${FILEUPLOAD_LOG_TO:-stdout}
fu_log_stdout || true
ep_number PORT "$PORT"
ep_number WORKERS "$WORKERS"
ep_number DB_WAIT_SECONDS "$DB_WAIT_SECONDS"
ep_number STORE_WAIT_SECONDS "$STORE_WAIT_SECONDS"
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
ep_fsck_bin=$FILEUPLOAD_BIN_DIR/fileupload-fsck
[ "${STORAGE:-local}" != s3 ] || [ -x "$ep_fsck_bin" ] ||
    fu_die "no fileupload-fsck in $FILEUPLOAD_BIN_DIR (STORAGE=s3 waits with it)"
# The layout of scripts/service.sh, from the image's variables.
FU_RUN_DIR=${FILEUPLOAD_RUN_DIR:-/run/fileupload}
FU_CONF_DIR=$FU_RUN_DIR/conf
FU_NGINX_TEMP=$FU_RUN_DIR/nginx
FU_LOG_DIR=$ep_log_dir
FU_DATA_DIR=$ep_data_dir
FU_BIN_DIR=
FU_TEMPLATES=${FILEUPLOAD_CONF_DIR:-$(dirname "$FILEUPLOAD_LIB")/../conf/nginx}
FU_UI_DIR=${FILEUPLOAD_UI_DIR:-$(dirname "$FILEUPLOAD_LIB")/../ui}
FU_POOL_LOG=-
FU_LISTEN=$LISTEN_ADDRESS:$PORT
fu_layout
[ -r "$FU_TEMPLATES/nginx-standalone.conf.in" ] ||
    fu_die "no nginx templates in $FU_TEMPLATES (set FILEUPLOAD_CONF_DIR)"
for ep_tool in nginx spawn-fcgi multiwatch; do
	command -v "$ep_tool" >/dev/null || fu_die "$ep_tool is not installed"
done

if fu_is_root; then
	FU_USER=${FILEUPLOAD_USER:-fileupload}
	id -u "$FU_USER" >/dev/null 2>&1 ||
	    fu_die "no user $FU_USER for the workers (set FILEUPLOAD_USER)"
	FU_NGINX_USER=${FILEUPLOAD_NGINX_USER:-}
	FU_NGINX_GROUP=
	fu_nginx_user
else
	FU_USER=$(id -un)
	# The image's nginx holds the file capability CAP_NET_BIND_SERVICE
	# (port 80 without root): the kernel refuses to run it where the
	# container's capability set lacks it.
	ep_err=$(nginx -v 2>&1) ||
	    fu_die "nginx cannot run as $FU_USER: $ep_err (the container" \
	    "needs CAP_NET_BIND_SERVICE: --cap-add NET_BIND_SERVICE)"
fi

# --------------------------------------------------------------- database

ep_migrate_args=()
[ -z "${FILEUPLOAD_SQL_DIR:-}" ] || ep_migrate_args=(-d "$FILEUPLOAD_SQL_DIR")

# Polls with "fileupload-migrate status" (it connects exactly as the
# workers do) until it succeeds or DB_WAIT_SECONDS have passed; each try is
# cut at 10 s, for a host that drops packets.  Errors other than a failed
# connection end the wait at once: a bad setting, and a login the server
# refuses (a wrong DB_PASSWORD or DB_USER, SQLSTATE 28P01/28000), with the
# server's own words.
ep_wait_for_db() {
	local deadline=$((SECONDS + DB_WAIT_SECONDS)) left err
	local where="${DB_HOST:-the default host}:${DB_PORT:-5432}"

	err=$FU_RUN_DIR/db-wait.err
	fu_log "waiting for the database at $where (up to ${DB_WAIT_SECONDS} s)"
	while [ -z "$FU_SIGNAL" ]; do
		left=$((deadline - SECONDS))
		[ "$left" -ge 1 ] || left=1
		[ "$left" -le 10 ] || left=10
		if timeout "$left" "$ep_migrate_bin" "${ep_migrate_args[@]}" \
		    status >/dev/null 2>"$err"; then
			rm -f "$err"
			return 0
		fi
		if grep -q 'login refused' "$err" 2>/dev/null; then
			cat "$err" >&2
			rm -f "$err"
			fu_die "the database at $where refused the login (DB_USER, DB_PASSWORD); not retrying"
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

# ----------------------------------------------------------- object store

# With STORAGE=s3, polls with "fileupload-fsck -s" (one signed request on
# the bucket, with the workers' settings) until the store accepts it or
# STORE_WAIT_SECONDS have passed; each try is cut at 10 s.  Its status 2
# (a refusal waiting will not change: the keys, the bucket, a bad
# setting) ends the wait at once with the store's own words.
ep_wait_for_store() {
	local deadline=$((SECONDS + STORE_WAIT_SECONDS)) left err rc why

	[ "${STORAGE:-local}" = s3 ] || return 0
	err=$FU_RUN_DIR/store-wait.err
	fu_log "waiting for the object store at ${S3_ENDPOINT:-?} (up to ${STORE_WAIT_SECONDS} s)"
	while [ -z "$FU_SIGNAL" ]; do
		left=$((deadline - SECONDS))
		[ "$left" -ge 1 ] || left=1
		[ "$left" -le 10 ] || left=10
		rc=0
		timeout "$left" "$ep_fsck_bin" -s >/dev/null 2>"$err" || rc=$?
		why=$(sed -n 's/^fileupload-fsck: //p' "$err" | tail -n 1)
		case $rc in
		0)
			rm -f "$err"
			return 0
			;;
		2)
			case $why in
			'the object store refused: '*)
				rm -f "$err"
				fu_die "the object store refused our request: ${why#the object store refused: }" \
				    "(S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, S3_BUCKET); not retrying"
				;;
			esac
			cat "$err" >&2
			rm -f "$err"
			fu_die "the object store check failed (not a connection problem; not retrying)"
			;;
		esac
		if [ "$SECONDS" -ge "$deadline" ]; then
			rm -f "$err"
			fu_die "object store not reachable at ${S3_ENDPOINT:-?} after ${STORE_WAIT_SECONDS} s" \
			    "(STORE_WAIT_SECONDS)${why:+: ${why#the object store does not answer: }}; giving up"
		fi
		sleep 1
	done
	rm -f "$err"
}

# --------------------------------------------------------------------- main

ep_stopped=0
ep_stop() {
	[ "$ep_stopped" -eq 0 ] || return 0
	ep_stopped=1
	trap '' INT TERM HUP
	fu_service_stop
}
trap ep_stop EXIT
fu_trap_signals

fu_prepare_dirs
ep_wait_for_db
[ -z "$FU_SIGNAL" ] || exit 0
ep_wait_for_store
[ -z "$FU_SIGNAL" ] || exit 0
fu_log "applying migrations"
"$ep_migrate_bin" "${ep_migrate_args[@]}" up || fu_die "the migrations failed"
fu_render_conf
fu_pool_start "$ep_worker" || fu_die "the workers could not start (see above)"
fu_nginx_start || fu_die "nginx could not start (see above)"
fu_log "fileupload is ready on $FU_LISTEN (pool $(fu_pool_supervisor), nginx $FU_NGINX_PID)"
ep_rc=0
fu_serve || ep_rc=$?
ep_stop
[ "$ep_rc" -ne 0 ] || fu_log "stopped"
exit "$ep_rc"
