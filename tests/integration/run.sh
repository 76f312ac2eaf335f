#!/usr/bin/env bash
#
# tests/integration/run.sh: the fileupload service end to end.
#
# Starts its own PostgreSQL, spawn-fcgi pool (2 workers) and nginx, all on
# loopback and in a temp dir (DATA_DIR and LOG_DIR there too), runs every
# scenario of scenarios/*.sh against http://127.0.0.1:<port>, stops
# everything and prints "N passed, N failed" as its last line.  Exits 1 if
# any failed.
# Run as root (from the repository root or anywhere):
#
#	tests/integration/run.sh [SCENARIO...]
#
# SCENARIO names are the sc_* functions without "sc_"; none means all.
# Environment:
#	FU_BUILD_DIR	the build to test (default: build it, as scripts/run does)
#	FU_WORKER	worker binary to run instead of FU_BUILD_DIR's
#	IT_KEEP=1	keep the temp dir (logs, data) after the run
#	IT_FILES	with no SCENARIO: only the scenarios of these files
#			of scenarios/ (names without .sh, space-separated)
#	IT_SCREENSHOTS	the browser scenarios' screenshots (default
#			build/screenshots/browser; kept)
set -euo pipefail

IT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib.sh
. "$IT_DIR/../../scripts/lib.sh"
# shellcheck source=tests/integration/lib.sh
. "$IT_DIR/lib.sh"

IT_MAX=2097152	# the pool's MAX_UPLOAD_SIZE (2 MiB)

# The scenarios set these themselves; none may leak in from outside.
unset FILEUPLOAD_TOKEN FILEUPLOAD_READ_TOKEN DB_PASSWORD ASAN_OPTIONS \
    UBSAN_OPTIONS LSAN_OPTIONS TSAN_OPTIONS REQUEST_BUFFERING WORKERS \
    FILEUPLOAD_TOKEN_FILE FILEUPLOAD_READ_TOKEN_FILE DB_PASSWORD_FILE \
    FILEUPLOAD_METRICS_TOKEN FILEUPLOAD_METRICS_TOKEN_FILE \
    FILEUPLOAD_SLOTS_PER_CLIENT TRUSTED_PROXIES \
    FILEUPLOAD_LINK_SECRET FILEUPLOAD_LINK_SECRET_FILE
it_prepare curl jq b2sum nginx spawn-fcgi
FU_VAR=$(mktemp -d /tmp/fileupload-it.XXXXXX)
IT_TMP=$FU_VAR/scratch
IT_DATA_DIR=$FU_VAR/data
IT_PG_DIR=$FU_VAR/postgres
mkdir -p "$IT_TMP"

# A worker built with --enable-sanitizers reports into LOG_DIR, and a
# last scenario fails on any report.
IT_SANITIZED=0
# Not grep -q: ldd killed by SIGPIPE would fail the pipeline (pipefail).
if ldd "$IT_WORKER" 2>/dev/null | grep libasan >/dev/null; then
	IT_SANITIZED=1
	export ASAN_OPTIONS="log_path=$FU_VAR/logs/asan"
	export UBSAN_OPTIONS="print_stacktrace=1:log_path=$FU_VAR/logs/ubsan"
elif ldd "$IT_WORKER" 2>/dev/null | grep libtsan >/dev/null; then
	IT_SANITIZED=1
	export TSAN_OPTIONS="log_path=$FU_VAR/logs/tsan:second_deadlock_stack=1"
fi

# The runner's own stdout and stderr, for cleanup: it may run (as the EXIT
# trap) while a function's output is redirected to a log.
exec 3>&1 4>&2
cleaned=0
cleanup() {
	[ "$cleaned" -eq 0 ] || return 0
	cleaned=1
	{
		if [ "${IT_SETUP_DONE:-1}" -eq 0 ]; then
			cat "$IT_TMP/setup.log" || true
			tail -n 20 "$FU_VAR/logs/fileupload.log" 2>/dev/null || true
			echo "setup failed: no scenario ran"
		fi
		fu_nginx_stop 2>/dev/null || true
		fu_pool_stop 2>/dev/null || true
		fu_pg_stop "$IT_PG_DIR" 2>/dev/null || true
		# The object-store scenarios' gateway (scenarios/storage_s3.sh).
		fu_rgw_stop "$FU_VAR/rgw" 2>/dev/null || true
		if [ "${IT_KEEP:-0}" = 1 ]; then
			printf 'kept %s\n' "$FU_VAR" >&2
		else
			rm -rf "$FU_VAR" || true
		fi
	} >&3 2>&4
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------ services

start_pool() {
	MAX_UPLOAD_SIZE=$IT_MAX WORKERS=2 fu_pool_start "$IT_WORKER" 2>>"$IT_TMP/setup.log"
}

# restart_nginx [MAX_BODY]: nginx with client_max_body_size MAX_BODY
# (default: fu_nginx_body_limit of the pool's MAX_UPLOAD_SIZE).
# shellcheck disable=SC2120  # the scenario files pass MAX_BODY
restart_nginx() {
	fu_nginx_stop
	FU_NGINX_MAX_BODY=${1:-} MAX_UPLOAD_SIZE=$IT_MAX fu_render_conf
	fu_nginx_start
} 2>>"$IT_TMP/setup.log"

setup() {
	fu_prepare_dirs
	fu_ui_install
	FU_PG_FSYNC=off fu_pg_start "$IT_PG_DIR" "$(fu_free_port $((25432 + RANDOM % 400)))"
	FU_DB_HOST=$FU_PG_HOST
	FU_DB_PORT=$FU_PG_PORT
	FU_DB_USER=fileupload
	FU_DB_NAME=fileupload
	fu_migrate "$IT_MIGRATE"
	FU_LISTEN=127.0.0.1:$(fu_free_port $((18080 + RANDOM % 400)))
	IT_URL=http://$FU_LISTEN
	start_pool
	restart_nginx
}

# Not run as a condition, so that "set -e" holds inside: a failing step
# exits, and cleanup (the EXIT trap) shows the setup log.
IT_SETUP_DONE=0
setup >>"$IT_TMP/setup.log" 2>&1
IT_SETUP_DONE=1

# ------------------------------------------------------------ scenarios

# The scenarios live in scenarios/*.sh, one file per concern; these two
# closing checks of the runner run after all of them.

# Only with a sanitized worker: AddressSanitizer, LeakSanitizer (at worker
# exit) and UBSan, or ThreadSanitizer, reported nothing.  Stops the pool so
# that the workers' exit-time leak check runs, then starts it again.
sc_no_sanitizer_reports() {
	local f
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	start_pool
	for f in "$FU_VAR"/logs/asan.* "$FU_VAR"/logs/ubsan.* \
	    "$FU_VAR"/logs/tsan.*; do
		[ -e "$f" ] || continue
		fail "sanitizer report $(basename "$f"):"
		head -n 60 "$f" | sed 's/^/      /'
	done
}

# Last: no upload left anything behind in DATA_DIR/tmp.
sc_no_temp_files_left() {
	check_tmp_empty
	check "DATA_DIR/tmp exists" test -d "$IT_DATA_DIR/tmp"
}

# The scenario files, in name order.
IT_EXTRA=("$IT_DIR"/scenarios/*.sh)
for f in "${IT_EXTRA[@]}"; do
	[ -e "$f" ] || continue
	# shellcheck source=/dev/null
	. "$f"
done

# ------------------------------------------------------------------ main

if [ $# -gt 0 ]; then
	scenarios=()
	for s in "$@"; do
		declare -F "sc_$s" >/dev/null || fu_die "no scenario $s"
		scenarios+=("sc_$s")
	done
	scenarios+=(sc_no_temp_files_left)
else
	# The scenario files in name order, each in its own order; the two
	# closing checks last.
	mapfile -t scenarios < <(
		for f in "${IT_EXTRA[@]}"; do
			[ -z "${IT_FILES:-}" ] ||
			    [[ " $IT_FILES " == *" $(basename "$f" .sh) "* ]] ||
			    continue
			[ ! -e "$f" ] || grep -oE '^sc_[a-z0-9_]+' "$f"
		done
		echo sc_no_sanitizer_reports
		echo sc_no_temp_files_left
	)
	# A runner that finds no scenario has tested nothing: that fails.
	[ "${#scenarios[@]}" -gt 2 ] || fu_die "no scenario found in $IT_DIR/scenarios"
fi
if [ "$IT_SANITIZED" -eq 0 ]; then
	for i in "${!scenarios[@]}"; do
		[ "${scenarios[$i]}" != sc_no_sanitizer_reports ] ||
		    unset 'scenarios[i]'
	done
elif [ $# -gt 0 ]; then
	scenarios=("${scenarios[@]:0:${#scenarios[@]}-1}" sc_no_sanitizer_reports sc_no_temp_files_left)
fi

IT_LOG_FILES=("$FU_VAR/logs/fileupload.log" "$FU_VAR/logs/nginx-error.log")
printf 'testing %s (worker %s%s)\n' "$IT_URL" "$IT_WORKER" \
    "$([ "$IT_SANITIZED" -eq 0 ] || echo ', sanitized')"
for s in "${scenarios[@]}"; do
	run_scenario "$s"
done

cleanup
trap - EXIT
summary
[ "$IT_FAILED" -eq 0 ]
