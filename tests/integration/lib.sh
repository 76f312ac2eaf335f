# shellcheck shell=bash
#
# tests/integration/lib.sh: helpers for the integration scenarios of
# tests/integration/run.sh.  Needs curl, jq and b2sum (coreutils).
#
# A scenario is a bash function named sc_*.  It runs in a subshell under
# "set -eE": each check_* helper records a failure and carries on, while an
# unexpected failing command ends the scenario as failed.  run_scenario
# counts the results; summary prints "N passed, N failed".
#
# req sets, for the last response:
#	STATUS		the HTTP status ("000" when curl got none)
#	$IT_TMP/body	the body
#	$IT_TMP/headers	the headers (of every response, 100 Continue included)

IT_PASSED=0
IT_FAILED=0
IT_FAILED_NAMES=()
IT_TIMEOUT=${IT_TIMEOUT:-60}

# ----------------------------------------------------------------- setup

# it_prepare TOOL...: what a runner needs first: root, the tools, the build
# under test (FU_BUILD_DIR and FU_WORKER, or a fresh fu_build) as
# $IT_WORKER and $IT_MIGRATE, and the service's users.
it_prepare() {
	local tool

	fu_require_root
	for tool in "$@"; do
		command -v "$tool" >/dev/null ||
		    fu_die "$tool is missing (scripts/test installs it; or: apt-get install jq curl nginx-light spawn-fcgi)"
	done
	if [ -z "${FU_WORKER:-}" ] || [ -z "${FU_BUILD_DIR:-}" ]; then
		fu_build >&2
	fi
	IT_WORKER=${FU_WORKER:-$(fu_worker_bin)}
	IT_MIGRATE=$(fu_migrate_bin)
	[ -x "$IT_WORKER" ] || fu_die "no worker at $IT_WORKER"
	[ -x "$IT_MIGRATE" ] || fu_die "no migrate tool at $IT_MIGRATE"
	fu_user
	fu_nginx_user
}

# -------------------------------------------------------------- requests

# req METHOD PATH [curl args...]
req() {
	local method=$1 path=$2
	shift 2
	: >"$IT_TMP/body"
	: >"$IT_TMP/headers"
	STATUS=$(curl -sS --max-time "$IT_TIMEOUT" -o "$IT_TMP/body" \
	    -D "$IT_TMP/headers" -w '%{http_code}' -X "$method" "$@" \
	    "$IT_URL$path" 2>"$IT_TMP/curl.err") || {
		STATUS=${STATUS:-000}
		[ -n "$STATUS" ] || STATUS=000
	}
}

# upload FILE [FILENAME [curl args...]]: POST FILE as the upfile part.
upload() {
	local file=$1 name=${2:-$(basename "$1")}
	shift 2 || shift $#
	req POST /service/fileupload -F "upfile=@$file;filename=$name" "$@"
}

# post_raw CONTENT_TYPE FILE [curl args...]: POST FILE's bytes as they are.
post_raw() {
	local ct=$1 file=$2
	shift 2
	req POST /service/fileupload -H "Content-Type: $ct" \
	    --data-binary "@$file" "$@"
}

# put_json HASH JSON [CONTENT_TYPE]
put_json() {
	req PUT "/service/fileupload/$1" \
	    -H "Content-Type: ${3:-application/json}" --data-binary "$2"
}

body() {
	cat "$IT_TMP/body"
}

# Short, printable view of the body for failure messages.
body_preview() {
	head -c 300 "$IT_TMP/body" | tr -c '[:print:]' '.'
}

# header NAME: the value of the last NAME header, without CR.
header() {
	grep -i "^$1:" "$IT_TMP/headers" | tail -n 1 |
	    sed -e 's/^[^:]*:[[:space:]]*//' -e 's/\r$//' || true
}

# jf FILTER: jq -r FILTER on the body; empty when the body is not JSON.
jf() {
	jq -r "$1" "$IT_TMP/body" 2>/dev/null || true
}

# ---------------------------------------------------------------- files

# new_file NAME [EXTRA]: a small text file with content no other scenario
# (or run) produces, in the scratch dir; prints its path.
new_file() {
	local f=$IT_TMP/files/$1
	mkdir -p "$IT_TMP/files"
	printf 'fileupload integration test %s %s %s %s\n%s\n' "$1" "$$" \
	    "$RANDOM$RANDOM" "$(date +%s%N)" "${2:-}" >"$f"
	printf '%s\n' "$f"
}

b2() {
	b2sum -l 256 "$1" | cut -d' ' -f1
}

stored_path() {
	printf '%s/%s/%s/%s\n' "$IT_DATA_DIR" "${1:0:2}" "${1:2:2}" "$1"
}

# Temp files in DATA_DIR/tmp (there must be none between requests): the
# named ones, and the anonymous ones (O_TMPFILE, the default where the
# file system has it) a worker holds open, shown as "PID: tmp/#INODE".
tmp_files() {
	local pid fd link
	find "$IT_DATA_DIR/tmp" -mindepth 1 2>/dev/null || true
	for pid in $(fu_pool_pids); do
		for fd in "/proc/$pid/fd/"*; do
			link=$(readlink "$fd" 2>/dev/null) || continue
			case $link in
			"$IT_DATA_DIR/tmp/#"*) printf '%s: %s\n' "$pid" "$link" ;;
			esac
		done
	done
}

# ----------------------------------------------------------- assertions

fail() {
	printf '    %s\n' "$*"
	FAILS=$((FAILS + 1))
}

# check DESCRIPTION COMMAND...: fails with DESCRIPTION unless COMMAND succeeds.
check() {
	local what=$1
	shift
	"$@" || fail "$what"
}

check_eq() {
	[ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"
}

check_status() {
	[ "$STATUS" = "$1" ] ||
	    fail "${2:+$2: }expected status $1, got $STATUS; body: $(body_preview)"
}

check_header() {
	local v
	v=$(header "$1")
	if [ -z "$v" ]; then
		fail "missing header $1"
	elif [ $# -ge 2 ] && [ "$v" != "$2" ]; then
		fail "header $1: expected '$2', got '$v'"
	fi
}

check_no_header() {
	local v
	v=$(header "$1")
	[ -z "$v" ] || fail "unexpected header $1: $v"
}

check_content_type_json() {
	local ct
	ct=$(header Content-Type)
	case $ct in
	application/json | "application/json;"*) ;;
	*) fail "Content-Type: expected application/json, got '$ct'" ;;
	esac
}

# check_json FILTER EXPECTED: jq -r FILTER on the body equals EXPECTED.
check_json() {
	local got
	got=$(jf "$1")
	[ "$got" = "$2" ] ||
	    fail "JSON $1: expected '$2', got '$got' (body: $(body_preview))"
}

# check_error CODE [CONTEXT]: status CODE with a JSON error body
# {"error": "<string>", "status": CODE}, an X-Request-Id header.
check_error() {
	local ctx=${2:-}
	check_status "$1" "$ctx"
	[ "$STATUS" = "$1" ] || return 0
	check_content_type_json
	if ! jq -e --argjson s "$1" \
	    'type == "object" and (.error | type == "string" and length > 0) and .status == $s' \
	    "$IT_TMP/body" >/dev/null 2>&1; then
		fail "${ctx:+$ctx: }error body is not {\"error\": string, \"status\": $1}: $(body_preview)"
	fi
	check_header X-Request-Id
}

# check_meta HASH NAME TYPE SIZE: the body is that metadata object.
check_meta() {
	check_json .file_hash "$1"
	check_json .file_name "$2"
	[ -z "$3" ] || check_json .file_type "$3"
	check_json .file_size "$4"
	check "created_at is RFC 3339 UTC ($(jf .created_at))" \
	    grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$' \
	    <<<"$(jf .created_at)"
	check "updated_at is RFC 3339 UTC ($(jf .updated_at))" \
	    grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$' \
	    <<<"$(jf .updated_at)"
}

check_stored() {
	local p
	p=$(stored_path "$1")
	if [ ! -f "$p" ]; then
		fail "stored file $p missing"
	elif ! cmp -s "$p" "$2"; then
		fail "stored file $p differs from the uploaded bytes"
	fi
}

check_not_stored() {
	local p
	p=$(stored_path "$1")
	[ ! -e "$p" ] || fail "$p exists but must not"
}

check_tmp_empty() {
	local left
	left=$(tmp_files)
	[ -z "$left" ] || fail "temp files left in DATA_DIR/tmp: $left"
}

# ----------------------------------------------------------- the runner

# Log files whose lines written during a failing scenario are shown with it
# (set by run.sh).
IT_LOG_FILES=()

# log_lines FILE: its current line count (0 when missing).
log_lines() {
	if [ -f "$1" ]; then
		wc -l <"$1"
	else
		echo 0
	fi
}

run_scenario() {
	local fn=$1 rc out=$IT_TMP/scenario.out i f
	local -a starts=()

	for f in "${IT_LOG_FILES[@]}"; do
		starts+=("$(log_lines "$f")")
	done
	set +e
	(
		set -eE
		FAILS=0
		trap 'printf "    aborted: command failed (status %s) at line %s: %s\n" \
		    "$?" "$LINENO" "$BASH_COMMAND"' ERR
		"$fn"
		exit $((FAILS > 0))
	) >"$out" 2>&1
	rc=$?
	set -e
	if [ "$rc" -eq 0 ]; then
		IT_PASSED=$((IT_PASSED + 1))
		printf 'ok   %s\n' "${fn#sc_}"
	else
		IT_FAILED=$((IT_FAILED + 1))
		IT_FAILED_NAMES+=("${fn#sc_}")
		printf 'FAIL %s\n' "${fn#sc_}"
		cat "$out"
		for i in "${!IT_LOG_FILES[@]}"; do
			f=${IT_LOG_FILES[$i]}
			[ -f "$f" ] || continue
			tail -n +"$((starts[i] + 1))" "$f" >"$IT_TMP/log.part"
			# Warnings and errors (and their continuation lines)
			# first; else the last few lines.
			grep -v -e ' info ' -e 'is buffered to a temporary file' \
			    "$IT_TMP/log.part" >"$IT_TMP/log.sel" || true
			[ -s "$IT_TMP/log.sel" ] ||
			    tail -n 4 "$IT_TMP/log.part" >"$IT_TMP/log.sel"
			[ -s "$IT_TMP/log.sel" ] || continue
			printf '    --- %s during this scenario:\n' "$(basename "$f")"
			head -n 20 "$IT_TMP/log.sel" | sed 's/^/    | /'
		done
	fi
}

summary() {
	if [ "$IT_FAILED" -gt 0 ]; then
		printf 'failed: %s\n' "${IT_FAILED_NAMES[*]}"
	fi
	printf '%d passed, %d failed\n' "$IT_PASSED" "$IT_FAILED"
}

# ---------------------------------------------------------- slow clients

# slow_request METHOD PATH SECONDS [HEADER...]: one request over a raw
# connection (bash's /dev/tcp, no client library in the way): its headers,
# with a multipart Content-Type and a Content-Length of 1 MB, then the start
# of an upfile part named $SLOW_NAME (slow.bin) and one byte every
# $SLOW_EVERY seconds (0.2) for SECONDS at most, while the answer is
# awaited.  Sets
#	SLOW_STATUS	the status line's code ("000" when none came)
#	SLOW_MS		milliseconds from the end of the headers to the
#			status line (the whole wait when none came)
#	$IT_TMP/slow.headers, $IT_TMP/slow.body	the answer
# Calls may run in subshells at the same time when SLOW_OUT names a
# prefix of their own for those files (default $IT_TMP/slow).
# shellcheck disable=SC2034  # SLOW_STATUS and SLOW_MS are for the caller
slow_request() {
	local method=$1 path=$2 secs=$3 fd writer line t0 t1 len=0 i
	local out=${SLOW_OUT:-$IT_TMP/slow} every=${SLOW_EVERY:-0.2}
	local name=${SLOW_NAME:-slow.bin}
	shift 3
	SLOW_STATUS=000
	: >"$out.headers"
	: >"$out.body"
	exec {fd}<>"/dev/tcp/${FU_LISTEN%:*}/${FU_LISTEN##*:}"
	{
		printf '%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n' \
		    "$method" "$path" "$FU_LISTEN"
		printf 'Content-Type: multipart/form-data; boundary=slowb\r\n'
		printf 'Content-Length: 1048576\r\n'
		for i in "$@"; do
			printf '%s\r\n' "$i"
		done
		printf '\r\n'
	} >&"$fd"
	t0=$EPOCHREALTIME
	(
		nap=
		trap 'exit 0' PIPE
		trap '[ -z "$nap" ] || kill "$nap" 2>/dev/null; exit 0' TERM
		printf -- '--slowb\r\nContent-Disposition: form-data; name="upfile"; filename="%s"\r\n\r\n' "$name"
		end=$((SECONDS + secs))
		while [ "$SECONDS" -lt "$end" ]; do
			printf x
			sleep "$every" &
			nap=$!
			wait "$nap"
		done
	) 1>&"$fd" 2>/dev/null &
	writer=$!
	if IFS= read -r -t "$((secs + 5))" -u "$fd" line; then
		t1=$EPOCHREALTIME
		SLOW_STATUS=$(printf '%s\n' "$line" | cut -d' ' -f2)
		while IFS= read -r -t 5 -u "$fd" line && [ "$line" != $'\r' ]; do
			printf '%s\n' "$line" >>"$out.headers"
			case ${line,,} in
			content-length:*) len=${line#*:}; len=${len//[!0-9]/} ;;
			esac
		done
		[ "$len" -eq 0 ] ||
		    head -c "$len" <&"$fd" >"$out.body" 2>/dev/null || true
	else
		t1=$EPOCHREALTIME
	fi
	SLOW_MS=$(((${t1/./} - ${t0/./}) / 1000))
	kill "$writer" 2>/dev/null || true
	wait "$writer" 2>/dev/null || true
	exec {fd}>&-
}
