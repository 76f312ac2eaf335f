#!/usr/bin/env bash
#
# tests/bench/tus.sh: resumable uploads (tus) next to a multipart upload,
# measured against a running instance of scripts/run (same FU_VAR, PORT).
#
#	scripts/run &                    # in another terminal
#	tests/bench/tus.sh [SIZE] [CHUNK] # defaults: 1G, 64M
#
# Uploads SIZE random bytes three times, each removed afterwards: with
# curl -F; as one tus PATCH; in PATCHes of CHUNK bytes.  Prints MB/s of
# each, the per-PATCH overhead (the chunked upload's extra time over the
# single PATCH, divided by its PATCHes) and the peak RSS growth (VmHWM) of
# every worker.  Not a test: its figures are for the README.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"

SIZE=${1:-1G}
CHUNK=${2:-64M}
BASE=http://127.0.0.1:${PORT:-8080}
URL=$BASE/service/fileupload
fu_nginx_user
FU_VAR=$(fu_pick_var_dir "${FU_VAR:-$FU_ROOT/var}")
AUTH=()
[ -z "${FILEUPLOAD_TOKEN:-}" ] ||
    AUTH=(-H "Authorization: Bearer $FILEUPLOAD_TOKEN")
V=(-H "Tus-Resumable: 1.0.0")

mapfile -t pids < <(fu_pool_pids)
[ "${#pids[@]}" -gt 0 ] || fu_die "no pool in $FU_VAR: start scripts/run first"

hwm() {
	sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"
}
declare -A before
snapshot() {
	local p
	for p in "${pids[@]}"; do
		before[$p]=$(hwm "$p")
	done
}
# The largest peak RSS growth of a worker since the snapshot, in KiB.
growth() {
	local p g max=0
	for p in "${pids[@]}"; do
		g=$(($(hwm "$p") - ${before[$p]}))
		[ "$g" -le "$max" ] || max=$g
	done
	printf '%s\n' "$max"
}

now() {
	date +%s.%N
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
head -c "$SIZE" /dev/urandom >"$tmp/big.bin"
size=$(stat -c %s "$tmp/big.bin")
chunk=$(numfmt --from=iec "$CHUNK")
hash=$(b2sum -l 256 "$tmp/big.bin" | cut -d' ' -f1)

# report NAME START END: MB/s and RSS growth of one upload.
report() {
	awk -v n="$1" -v s="$size" -v a="$2" -v b="$3" -v g="$(growth)" \
	    'BEGIN { printf "  %-24s %7.0f MB/s  (%.2f s, worker RSS +%d KiB)\n",
	    n, s / (b - a) / 1e6, b - a, g }'
}

remove_file() {
	curl -sS "${AUTH[@]}" -o /dev/null -X DELETE "$URL/$hash"
}

# tus_upload CHUNK_BYTES: creates an upload and sends the file in PATCHes;
# prints the number of PATCHes.
tus_upload() {
	local step=$1 off=0 loc n=0 got
	loc=$(curl -sS "${AUTH[@]}" "${V[@]}" -o /dev/null -D - -X POST \
	    -H "Upload-Length: $size" \
	    -H "Upload-Metadata: filename $(printf bench.bin | base64)" \
	    "$URL/uploads" | tr -d '\r' | sed -n 's/^Location: //Ip')
	[ -n "$loc" ] || fu_die "no upload created"
	while [ "$off" -lt "$size" ]; do
		got=$(tail -c +"$((off + 1))" "$tmp/big.bin" | head -c "$step" |
		    curl -sS "${AUTH[@]}" "${V[@]}" -o /dev/null -D - -X PATCH \
		    -H 'Content-Type: application/offset+octet-stream' \
		    -H "Upload-Offset: $off" --data-binary @- "$BASE$loc" |
		    tr -d '\r' | sed -n 's/^Upload-Offset: //Ip')
		if [ -z "$got" ] || [ "$got" -le "$off" ]; then
			fu_die "PATCH at $off answered no new offset"
		fi
		off=$got
		n=$((n + 1))
	done
	printf '%s\n' "$n"
}

fu_log "$SIZE random bytes, three ways"
snapshot
t0=$(now)
curl -sS "${AUTH[@]}" -o /dev/null -F "upfile=@$tmp/big.bin" "$URL"
t1=$(now)
report "multipart (curl -F)" "$t0" "$t1"
remove_file

snapshot
t0=$(now)
tus_upload "$size" >/dev/null
t1=$(now)
report "tus, one PATCH" "$t0" "$t1"
single=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
remove_file

snapshot
t0=$(now)
n=$(tus_upload "$chunk")
t1=$(now)
report "tus, $CHUNK PATCHes" "$t0" "$t1"
awk -v n="$n" -v s="$single" -v a="$t0" -v b="$t1" \
    'BEGIN { printf "  per-PATCH overhead: %.1f ms over %d PATCHes\n",
    ((b - a) - s) * 1000 / n, n }'
remove_file
