#!/usr/bin/env bash
#
# tests/bench/s3_copy.sh: what the S3 backend's choice of "temp key, then
# server-side copy to the hash" costs.  Not a test.
#
#	sudo tests/bench/s3_copy.sh [SIZE_MIB...]	(default: 64 256)
#
# Starts "STORAGE=s3 scripts/run" (the S3 test server, PostgreSQL, the pool
# and nginx, in a temp dir, on free loopback ports), uploads a 4 KiB file
# and files of each SIZE_MIB of random bytes BENCH_RUNS times (default 3),
# each of them a new file, and prints per size the median of: the whole
# upload (curl), the parts (UploadPart, summed), CompleteMultipartUpload,
# CopyObject and the temp object's DeleteObject as the test server timed
# them, the copy's share of the upload, and a download's MB/s through
# nginx and the presigned URL.  Stops what it started by PID.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib.sh
. "$BENCH_DIR/../../scripts/lib.sh"

fu_require_root
runs=${BENCH_RUNS:-3}
sizes=("$@")
[ "${#sizes[@]}" -gt 0 ] || sizes=(64 256)
var=$(mktemp -d /var/tmp/fileupload-s3bench.XXXXXX)
chmod 0755 "$var"
port=$(fu_free_port $((19080 + RANDOM % 400)))
pg_port=$(fu_free_port $((26432 + RANDOM % 400)))
url=http://127.0.0.1:$port/service/fileupload
run_pid=

cleanup() {
	if [ -n "$run_pid" ]; then
		kill -TERM "$run_pid" 2>/dev/null || true
		wait "$run_pid" 2>/dev/null || true
	fi
	[ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$var"
}
trap cleanup EXIT

FU_SKIP_INSTALL=1 STORAGE=s3 FU_VAR=$var PORT=$port PG_PORT=$pg_port \
    WORKERS=2 "$FU_ROOT/scripts/run" >"$var/run.log" 2>&1 &
run_pid=$!
for _ in $(seq 1 600); do
	curl -sf -o /dev/null "$url/health" && break
	kill -0 "$run_pid" 2>/dev/null || { cat "$var/run.log"; exit 1; }
	sleep 0.5
done
log=$var/s3/requests.log

median() {
	sort -n | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : "-") }'
}

# ms_of OP FROM_LINE: the server's milliseconds of OP since line FROM_LINE.
ms_of() {
	tail -n +"$(($2 + 1))" "$log" | jq -r "select(.op == \"$1\") | .ms" |
	    awk '{ s += $1 } END { printf "%.0f\n", s }'
}

printf '| file | upload | parts | complete | copy | delete tmp | copy share | download |\n'
printf '|---|---|---|---|---|---|---|---|\n'
for mib in 0 "${sizes[@]}"; do
	: >"$var/t.total" ; : >"$var/t.parts"; : >"$var/t.complete"
	: >"$var/t.copy"; : >"$var/t.del"; : >"$var/t.share"; : >"$var/t.down"
	for _ in $(seq 1 "$runs"); do
		f=$var/file.bin
		if [ "$mib" -eq 0 ]; then
			head -c 4096 /dev/urandom >"$f"
		else
			head -c $((mib << 20)) /dev/urandom >"$f"
		fi
		from=$(wc -l <"$log")
		t=$(curl -sS -o "$var/up.json" -w '%{time_total}' \
		    -F "upfile=@$f;filename=bench.bin" "$url")
		h=$(jq -r .file_hash "$var/up.json")
		awk -v t="$t" 'BEGIN { printf "%.0f\n", t * 1000 }' >>"$var/t.total"
		ms_of UploadPart "$from" >>"$var/t.parts"
		ms_of CompleteMultipartUpload "$from" >>"$var/t.complete"
		ms_of CopyObject "$from" >>"$var/t.copy"
		ms_of DeleteObject "$from" >>"$var/t.del"
		awk -v c="$(tail -n 1 "$var/t.copy")" -v t="$t" \
		    'BEGIN { printf "%.1f\n", 100 * c / (t * 1000) }' >>"$var/t.share"
		curl -sS -o /dev/null -w '%{speed_download}\n' \
		    "$url/$h/content" | awk '{ printf "%.0f\n", $1 / 1e6 }' \
		    >>"$var/t.down"
	done
	name=$([ "$mib" -eq 0 ] && echo "4 KiB" || echo "$mib MiB")
	printf '| %s | %s ms | %s ms | %s ms | %s ms | %s ms | %s %% | %s MB/s |\n' \
	    "$name" "$(median <"$var/t.total")" "$(median <"$var/t.parts")" \
	    "$(median <"$var/t.complete")" "$(median <"$var/t.copy")" \
	    "$(median <"$var/t.del")" "$(median <"$var/t.share")" \
	    "$(median <"$var/t.down")"
done
