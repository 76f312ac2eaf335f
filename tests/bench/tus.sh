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
# every worker.  Not a test: its figures are for docs/performance.md.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
# shellcheck source=tests/bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SIZE=${1:-1G}
CHUNK=${2:-64M}
bench_attach
V=(-H "Tus-Resumable: 1.0.0")

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
	awk -v n="$1" -v s="$size" -v a="$2" -v b="$3" -v g="$(bench_growth)" \
	    'BEGIN { printf "  %-24s %7.0f MB/s  (%.2f s, worker RSS +%d KiB)\n",
	    n, s / (b - a) / 1e6, b - a, g }'
}

remove_file() {
	curl -sS "${AUTH[@]}" -o /dev/null -X DELETE "$URL/$hash"
}

# tus_upload CHUNK_BYTES: creates an upload and sends the file in PATCHes
# of CHUNK_BYTES (curl -T of the file, or of a chunk copied to a file
# first); prints the number of PATCHes and the seconds the requests took
# (curl's time_total, summed: the copies are not counted).
tus_upload() {
	local step=$1 off=0 loc n=0 got src secs=0 t
	loc=$(curl -sS "${AUTH[@]}" "${V[@]}" -o /dev/null -D - -X POST \
	    -H "Upload-Length: $size" \
	    -H "Upload-Metadata: filename $(printf bench.bin | base64)" \
	    "$URL/uploads" | tr -d '\r' | sed -n 's/^Location: //Ip')
	[ -n "$loc" ] || fu_die "no upload created"
	while [ "$off" -lt "$size" ]; do
		src=$tmp/big.bin
		if [ "$step" -lt "$size" ]; then
			tail -c +"$((off + 1))" "$tmp/big.bin" | head -c "$step" \
			    >"$tmp/chunk"
			src=$tmp/chunk
		fi
		t=$(curl -sS "${AUTH[@]}" "${V[@]}" -o /dev/null -D "$tmp/h" \
		    -w '%{time_total}' -X PATCH \
		    -H 'Content-Type: application/offset+octet-stream' \
		    -H "Upload-Offset: $off" -T "$src" "$BASE$loc")
		got=$(tr -d '\r' <"$tmp/h" | sed -n 's/^Upload-Offset: //Ip')
		if [ -z "$got" ] || [ "$got" -le "$off" ]; then
			fu_die "PATCH at $off answered no new offset"
		fi
		secs=$(awk -v a="$secs" -v b="$t" 'BEGIN { print a + b }')
		off=$got
		n=$((n + 1))
	done
	printf '%s %s\n' "$n" "$secs"
}

# Warm-up: a worker's first upload touches libmagic's pages and its fixed
# buffers (the hash thread's) once; what follows measures growth with
# size.  A creation with the whole (small) upload per worker will do.
head -c 100000 /dev/urandom >"$tmp/warm.bin"
warm=$(b2sum -l 256 "$tmp/warm.bin" | cut -d' ' -f1)
for _ in "${pids[@]}"; do
	curl -sS "${AUTH[@]}" "${V[@]}" -o /dev/null -X POST \
	    -H "Upload-Length: 100000" \
	    -H 'Content-Type: application/offset+octet-stream' \
	    --data-binary "@$tmp/warm.bin" "$URL/uploads"
	curl -sS "${AUTH[@]}" -o /dev/null -X DELETE "$URL/$warm"
done

fu_log "$SIZE random bytes, three ways"
bench_snapshot
t0=$(now)
curl -sS "${AUTH[@]}" -o /dev/null -F "upfile=@$tmp/big.bin" "$URL"
t1=$(now)
report "multipart (curl -F)" "$t0" "$t1"
remove_file

bench_snapshot
out=$(tus_upload "$size")
read -r n single <<<"$out"
report "tus, one PATCH" 0 "$single"
remove_file

bench_snapshot
out=$(tus_upload "$chunk")
read -r n chunked <<<"$out"
report "tus, $CHUNK PATCHes" 0 "$chunked"
awk -v n="$n" -v s="$single" -v c="$chunked" \
    'BEGIN { printf "  per-PATCH overhead: %.1f ms over %d PATCHes\n",
    (c - s) * 1000 / n, n }'
remove_file
