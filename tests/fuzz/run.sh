#!/usr/bin/env bash
#
# tests/fuzz/run.sh: builds the libFuzzer targets with clang-14 (ASan, UBSan)
# and runs each for FUZZ_SECONDS (default 60) from the seed corpus in
# tests/fuzz/corpus/.  Any crash, leak, sanitizer report, timeout or broken
# invariant fails the run (exit 1) and prints the path of the input that
# caused it.
#
#	tests/fuzz/run.sh [BUILD_DIR]		# default ./build-fuzz
#	FUZZ_SECONDS=3600 tests/fuzz/run.sh	# a longer run, an hour each
#	BUILD_DIR/fuzz_multipart CRASH_FILE	# replays one input
#
# Targets: fuzz_multipart (src/multipart.c, the push parser: fed the same
# body whole and in pieces, the results must agree; callbacks check the
# event order) and fuzz_update (src/jsonio.c, the PUT body validator and the
# upload file name cleaner).  Each run works on a copy of its seed corpus,
# BUILD_DIR/corpus-TARGET, so the committed seeds stay as they are; the
# copy keeps what the run found.  Logs: BUILD_DIR/fuzz_TARGET.log; crash
# inputs: BUILD_DIR/artifacts/TARGET/.  FUZZ_CC overrides the compiler.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$root/build-fuzz}
seconds=${FUZZ_SECONDS:-60}
cc=${FUZZ_CC:-/usr/bin/clang-14}

case $seconds in
'' | *[!0-9]*) echo "fuzz: FUZZ_SECONDS must be a number of seconds" >&2; exit 1 ;;
esac
command -v "$cc" >/dev/null 2>&1 ||
    { echo "fuzz: no $cc (install clang-14 libclang-rt-14-dev)" >&2; exit 1; }
mkdir -p "$out"
out=$(cd "$out" && pwd)

flags=(-g -O1 "-fsanitize=fuzzer,address,undefined" -fno-sanitize-recover=all
    -D_GNU_SOURCE -I"$root/src")
jsonc_cflags=$(pkg-config --cflags json-c)
jsonc_libs=$(pkg-config --libs json-c)
read -ra jsonc_cflags <<<"$jsonc_cflags"
read -ra jsonc_libs <<<"$jsonc_libs"

echo "fuzz: building in $out with $cc"
"$cc" "${flags[@]}" -o "$out/fuzz_multipart" "$here/fuzz_multipart.c" \
    "$root/src/multipart.c"
"$cc" "${flags[@]}" "${jsonc_cflags[@]}" -o "$out/fuzz_update" \
    "$here/fuzz_update.c" "$root/src/jsonio.c" "$root/src/utf8.c" \
    "${jsonc_libs[@]}"

rc=0
for t in multipart update; do
	corpus=$out/corpus-$t
	artifacts=$out/artifacts/$t
	log=$out/fuzz_$t.log
	rm -rf "$corpus" "$artifacts"
	cp -R "$here/corpus/$t" "$corpus"
	mkdir -p "$artifacts"
	dict=()
	[ ! -f "$here/$t.dict" ] || dict=(-dict="$here/$t.dict")
	echo "fuzz_$t: $seconds s"
	# -max_len: above MP_HEADER_LINE_MAX (8192), so that a header line
	# too long is within reach.
	if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	    UBSAN_OPTIONS=print_stacktrace=1 \
	    "$out/fuzz_$t" "${dict[@]}" -max_total_time="$seconds" \
	    -max_len=10240 -timeout=10 -print_final_stats=1 \
	    -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1; then
		rc=1
		echo "fuzz_$t FAILED (log: $log)" >&2
		grep -E -A12 '^==[0-9]+==ERROR|runtime error|deadly signal' \
		    "$log" | head -n 40 >&2 || true
		found=0
		for f in "$artifacts"/*; do
			[ -f "$f" ] || continue
			found=1
			echo "fuzz_$t: failing input: $f" >&2
			echo "fuzz_$t: replay with: $out/fuzz_$t $f" >&2
		done
		[ "$found" -eq 1 ] || tail -n 20 "$log" >&2
		continue
	fi
	# The last status line (coverage, corpus) and the final stats.
	grep -E '^#[0-9]+' "$log" | tail -n 1
	grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' \
	    "$log"
done
[ "$rc" -eq 0 ] && echo "fuzz: no failures"
exit "$rc"
