# shellcheck shell=bash
# Functions here set globals (IT_DATA_DIR, CL_CLIENTS, ...) for their callers.
# shellcheck disable=SC2034
#
# tests/cluster/lib.sh: what the tests of a service spread over several
# hosts share (tests/cluster/hosts.sh: worker hosts in network namespaces;
# tests/cluster/pg_failover.sh: a PostgreSQL primary and its standby):
# the store settings, traffic from several clients recorded request by
# request, and the checks on what that traffic left behind.
#
# Sourced after scripts/lib.sh and tests/integration/lib.sh (req, check_*,
# run_scenario, b2, IT_TMP, IT_URL).  Each request of the traffic is one
# line of $IT_TMP/client.N:
#
#	START_MS END_MS STATUS HASH FILE
#
# (milliseconds of the wall clock; FILE holds the bytes sent, FILE.body
# the answer).

# ----------------------------------------------------------------- store

# cl_store_setup DIR [ADDRESS]: the store every pool of a test uses, in one
# place: an S3-API object store, Ceph's RADOS Gateway (scripts/rgw.sh, in
# memory, under $FU_VAR/rgw, on free ports) listening on ADDRESS (default
# 127.0.0.1), where every host reaches it, with the bucket "fileupload";
# exported as STORAGE=s3 and the S3_* settings for the pools, fsck and
# the front.  DIR is each pool's DATA_DIR, for temp files only.  Sets
# FU_DATA_DIR and IT_DATA_DIR; cl_store_stop stops the gateway's cluster.
cl_store_setup() {
	local addr=${2:-127.0.0.1}

	FU_DATA_DIR=$1
	IT_DATA_DIR=$1
	# Ports below the kernel's ephemeral range (32768-60999): a client's
	# connection from one of the OSD's would keep it from binding it.
	FU_RGW_STORE=memstore fu_rgw_start "$FU_VAR/rgw" \
	    "$(fu_rgw_free_port $((24480 + RANDOM % 40 * 10)) "$addr")" "$addr" ||
	    fu_die "Ceph RGW did not start"
	set -a
	# shellcheck source=/dev/null
	. "$FU_RGW_DIR/s3.env"
	set +a
	export STORAGE=s3 S3_BUCKET=fileupload
	fu_rgw_s3 mb "$S3_BUCKET"
}

cl_store_stop() {
	fu_rgw_stop "$FU_VAR/rgw"
}

# cl_fsck: fileupload-fsck against the test's database and store, stdout in $IT_TMP/fsck.out, stderr in $IT_TMP/fsck.err, status in
# CL_FSCK_RC.
cl_fsck() {
	CL_FSCK_RC=0
	fu_with_db_env ROOT_DIR="$FU_VAR" DATA_DIR="$FU_DATA_DIR" \
	    "$(dirname "$IT_WORKER")/fileupload-fsck" \
	    >"$IT_TMP/fsck.out" 2>"$IT_TMP/fsck.err" || CL_FSCK_RC=$?
}

# ---------------------------------------------------------------- traffic

cl_ms() {
	echo $((${EPOCHREALTIME/./} / 1000))
}

# cl_client N MIN MAX [CURL ARGS...]: uploads new random files of MIN to
# MAX bytes, one after the other, until $IT_TMP/stop exists.
cl_client() {
	local n=$1 min=$2 max=$3 i=0 f t0 st
	shift 3

	while [ ! -e "$IT_TMP/stop" ]; do
		i=$((i + 1))
		f=$IT_TMP/files/c$n.$i
		# A fixed first byte: libmagic finds no signature by chance.
		{
			printf '\001\002\003\004'
			head -c $((min + (RANDOM * 32768 + RANDOM) % (max - min + 1))) \
			    /dev/urandom
		} >"$f"
		t0=$(cl_ms)
		st=$(curl -sS -o "$f.body" -w '%{http_code}' --max-time 60 \
		    -F "upfile=@$f;filename=c$n-$i.bin" "$@" \
		    "$IT_URL/service/fileupload" 2>/dev/null) || true
		printf '%s %s %s %s %s\n' "$t0" "$(cl_ms)" "${st:-000}" \
		    "$(b2 "$f")" "$f" >>"$IT_TMP/client.$n"
	done
}

# cl_traffic_start CLIENTS MIN MAX [CURL ARGS...]: that many clients at
# once (cl_client), in the background; their PIDs in CL_CLIENTS.
cl_traffic_start() {
	local k=$1 n
	shift

	CL_CLIENTS=()
	mkdir -p "$IT_TMP/files"
	rm -f "$IT_TMP/stop" "$IT_TMP"/client.*
	for n in $(seq 1 "$k"); do
		cl_client "$n" "$@" &
		CL_CLIENTS+=($!)
	done
}

# Stops the clients after their request in hand; all requests, by start
# time, in $IT_TMP/requests.
cl_traffic_stop() {
	local pid

	touch "$IT_TMP/stop"
	for pid in "${CL_CLIENTS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	CL_CLIENTS=()
	cat "$IT_TMP"/client.* 2>/dev/null | sort -n >"$IT_TMP/requests"
}

# Kills the clients at once (teardown).
cl_traffic_kill() {
	local pid

	touch "$IT_TMP/stop" 2>/dev/null || true
	for pid in "${CL_CLIENTS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	CL_CLIENTS=()
}

# cl_count STATUS: requests of $IT_TMP/requests answered STATUS.
cl_count() {
	awk -v s="$1" '$3 == s { n++ } END { print n + 0 }' "$IT_TMP/requests"
}

# cl_wait_count STATUS N SECONDS: waits until the running clients have had
# N answers STATUS.
cl_wait_count() {
	local end=$((SECONDS + $3))

	while [ "$SECONDS" -lt "$end" ]; do
		[ "$(cat "$IT_TMP"/client.* 2>/dev/null |
		    awk -v s="$1" '$3 == s { n++ } END { print n + 0 }')" -lt "$2" ] ||
		    return 0
		sleep 0.2
	done
	return 1
}

# cl_statuses: "N×STATUS ..." of $IT_TMP/requests, for messages.
cl_statuses() {
	awk '{ print $3 }' "$IT_TMP/requests" | sort | uniq -c |
	    awk '{ printf "%s%s×%s", sep, $1, $2; sep = " " }'
}

# --------------------------------------------------------------- checks

# cl_check_requests ALLOWED: every request of $IT_TMP/requests was answered
# with a status matching ALLOWED (an extended regex, e.g. '201|503'); a
# 201 carries the file's hash and the file reads back through the front,
# byte for byte; any other answer is the JSON error of its status, and
# what it left is whole: the file's metadata answer 404 (never recorded),
# or 200 with the exact bytes (recorded before the answer was lost).
cl_check_requests() {
	local allowed=$1 t0 t1 st h f got

	while read -r t0 t1 st h f; do
		if ! [[ $st =~ ^($allowed)$ ]]; then
			fail "upload of $(basename "$f") answered $st" \
			    "($((t1 - t0)) ms): $(head -c 200 "$f.body" | tr -c '[:print:]' .)"
			continue
		fi
		if [ "$st" = 201 ]; then
			got=$(jq -r .file_hash "$f.body" 2>/dev/null || true)
			[ "$got" = "$h" ] ||
			    fail "201 for $(basename "$f") names hash '$got', not $h"
			cl_check_readable "$h" "$f" "201"
			continue
		fi
		jq -e --argjson s "$st" '.status == $s and (.error | type == "string")' \
		    "$f.body" >/dev/null 2>&1 ||
		    fail "$st for $(basename "$f") is not a JSON error:" \
		    "$(head -c 200 "$f.body" | tr -c '[:print:]' .)"
		req GET "/service/fileupload/$h"
		case $STATUS in
		404) ;;
		200) cl_check_readable "$h" "$f" "$st (recorded anyway)" ;;
		*) fail "after a $st upload, its metadata answer $STATUS" ;;
		esac
	done <"$IT_TMP/requests"
}

# cl_check_readable HASH FILE WHAT: the content route gives FILE's bytes.
cl_check_readable() {
	req GET "/service/fileupload/$1/content"
	if [ "$STATUS" != 200 ]; then
		fail "$3 upload $(basename "$2"): content answers $STATUS"
	elif ! cmp -s "$IT_TMP/body" "$2"; then
		fail "$3 upload $(basename "$2"): content differs from what was sent"
	fi
}

# cl_check_fsck: fsck finds nothing wrong but, possibly, orphans (a file
# without its row) of uploads that were not answered 201: the store keeps
# a file renamed into place when its COMMIT failed or its worker died
# before committing (src/upload.c), and fsck -r removes such files once
# they are an hour old.  Anything else, or an orphan of a 201: failure.
cl_check_fsck() {
	local line h summary

	cl_fsck
	summary=$(tail -n 1 "$IT_TMP/fsck.out")
	[[ $summary =~ ^[0-9]+\ rows,\ [0-9]+\ files:\ 0\ missing,\ [0-9]+\ orphan,\ 0\ corrupt,\ 0\ stray,\ 0\ stale\ temp$ ]] ||
	    fail "fsck: $(tr '\n' '|' <"$IT_TMP/fsck.out") $(tr '\n' '|' <"$IT_TMP/fsck.err")"
	[ "$CL_FSCK_RC" -le 1 ] || fail "fsck exit status $CL_FSCK_RC: $(cat "$IT_TMP/fsck.err")"
	[ ! -s "$IT_TMP/fsck.err" ] || fail "fsck wrote to stderr: $(cat "$IT_TMP/fsck.err")"
	while read -r line; do
		case $line in
		"orphan "*)
			h=${line#orphan }
			h=${h%%:*}
			if awk -v h="$h" '$4 == h && $3 == 201 { f = 1 } END { exit !f }' \
			    "$IT_TMP/requests"; then
				fail "fsck: an upload answered 201 has no row: $line"
			else
				CL_ORPHANS=$((${CL_ORPHANS:-0} + 1))
			fi
			;;
		esac
	done < <(sed '$d' "$IT_TMP/fsck.out")
	cl_note "fsck: $summary"
}

# cl_note TEXT...: a measured figure, shown whether the scenario passes or
# not (fd 3: the runner's own stdout, which cl_init keeps).
cl_note() {
	printf '  * %s\n' "$*" >&3
}

# ----------------------------------------------------------------- runner

# cl_init NAME: what both runners do first: root, the tools, the build
# under test (FU_BUILD_DIR / FU_WORKER as for tests/integration/run.sh),
# a temp dir ($FU_VAR, $IT_TMP) and the EXIT trap that calls the runner's
# cl_teardown, also on failure, then removes the temp dir (CL_KEEP=1
# keeps it).
cl_init() {
	it_prepare curl jq b2sum nginx spawn-fcgi multiwatch
	FU_VAR=$(mktemp -d "/tmp/fileupload-$1.XXXXXX")
	chmod 0755 "$FU_VAR"
	IT_TMP=$FU_VAR/scratch
	mkdir -p "$IT_TMP"
	CL_CLIENTS=()
	exec 3>&1 4>&2
	trap cl_exit EXIT
	trap 'exit 130' INT TERM
}

# shellcheck disable=SC2317  # the EXIT trap
cl_exit() {
	local rc=$?

	trap - EXIT
	{
		if [ "${CL_SETUP_DONE:-1}" -eq 0 ]; then
			cat "$IT_TMP/setup.log"
			echo "setup failed: no scenario ran"
		fi
		cl_traffic_kill
		cl_teardown || true
		if [ "${CL_KEEP:-0}" = 1 ]; then
			printf 'kept %s\n' "$FU_VAR"
		else
			rm -rf "$FU_VAR"
		fi
	} >&3 2>&4
	exit "$rc"
}

# cl_setup FUNCTION: runs the runner's setup, its output in
# $IT_TMP/setup.log; should it fail, "set -e" exits and the EXIT trap
# shows the log.
cl_setup() {
	CL_SETUP_DONE=0
	"$1" >>"$IT_TMP/setup.log" 2>&1
	CL_SETUP_DONE=1
}

# cl_run_scenarios SC_FUNCTION... -- [NAME...]: runs the named scenarios
# (sc_NAME), or all of them when none is named.
cl_run_scenarios() {
	local -a all=() run=()
	local s

	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		all+=("$1")
		shift
	done
	shift || true
	for s in "$@"; do
		declare -F "sc_$s" >/dev/null || fu_die "no scenario $s"
		run+=("sc_$s")
	done
	[ "${#run[@]}" -gt 0 ] || run=("${all[@]}")
	for s in "${run[@]}"; do
		run_scenario "$s"
	done
}
