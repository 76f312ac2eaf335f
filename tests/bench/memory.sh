#!/usr/bin/env bash
#
# tests/bench/memory.sh: streaming in constant memory, measured against a
# running instance of scripts/run (same FU_VAR, PORT).
#
#	scripts/run &                       # in another terminal
#	tests/bench/memory.sh [SIZE] [ROWS] # defaults: 1G, 1000000
#
# 1. uploads SIZE random bytes with curl -F and prints MB/s and the peak RSS
#    growth (VmHWM) of every worker of the pool;
# 2. loads ROWS metadata rows with SQL (private cluster only), lists them
#    all with one GET and prints rows/s and the peak RSS growth again.
# It removes what it added.  Not a test: its figures are for
# docs/performance.md.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
# shellcheck source=tests/bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SIZE=${1:-1G}
ROWS=${2:-1000000}
bench_attach

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Warm-up: a worker's first upload touches libmagic's database pages and the
# worker's fixed buffers once; what follows measures growth with size.
head -c 100000 /dev/urandom >"$tmp/warm.bin"
for p in "${pids[@]}"; do
	h=$(b2sum -l 256 "$tmp/warm.bin" | cut -d' ' -f1)
	curl -sS "${AUTH[@]}" -o /dev/null -F "upfile=@$tmp/warm.bin" "$URL"
	curl -sS "${AUTH[@]}" -o /dev/null -X DELETE "$URL/$h"
done

fu_log "upload of $SIZE random bytes"
head -c "$SIZE" /dev/urandom >"$tmp/big.bin"
hash=$(b2sum -l 256 "$tmp/big.bin" | cut -d' ' -f1)
bench_snapshot
curl -sS "${AUTH[@]}" -o "$tmp/up.json" \
    -w '  HTTP %{http_code}, %{size_upload} bytes in %{time_total} s\n' \
    -F "upfile=@$tmp/big.bin" "$URL" | tee "$tmp/up.txt"
awk '{ printf "  %.0f MB/s\n", $3 / $6 / 1e6 }' "$tmp/up.txt"
grep -q "\"file_hash\":\"$hash\"" "$tmp/up.json" ||
    fu_die "the upload did not answer the expected hash: $(cat "$tmp/up.json")"
bench_growth_report
curl -sS "${AUTH[@]}" -o /dev/null -X DELETE "$URL/$hash"
rm -f "$tmp/big.bin"

pg_dir=$FU_VAR/postgres
if [ -n "${DB_HOST:-}" ] || [ ! -f "$pg_dir/data/fileupload.conf" ]; then
	fu_log "no private cluster: skipping the list measurement"
	exit 0
fi
fu_log "list of $ROWS rows loaded with SQL"
fu_pg_psql "$pg_dir" fileupload -c "INSERT INTO files
    (file_hash, file_name, file_type, file_size)
    SELECT md5('bench' || i) || md5('bench-' || i), 'bench-' || i || '.txt',
    'text/plain', i FROM generate_series(1, $ROWS) AS i"
bench_snapshot
curl -sS -o "$tmp/list.json" \
    -w '  HTTP %{http_code}, %{size_download} bytes in %{time_total} s\n' \
    "$URL" | tee "$tmp/list.txt"
count=$(jq length "$tmp/list.json")
awk -v n="$count" '{ printf "  %d rows, %.0f rows/s\n", n, n / $6 }' "$tmp/list.txt"
bench_growth_report
# As a replica, this session skips the trigger that remembers deleted rows.
fu_pg_psql "$pg_dir" fileupload -c "SET session_replication_role = replica" \
    -c "DELETE FROM files WHERE file_name LIKE 'bench-%'"
