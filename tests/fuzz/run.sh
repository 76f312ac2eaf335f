#!/usr/bin/env bash
#
# tests/fuzz/run.sh: builds the libFuzzer targets with clang and runs each
# for FUZZ_SECONDS (default 60), starting from the seed corpus in
# tests/fuzz/corpus/.  Any crash, leak, sanitizer report or broken invariant
# fails the run and leaves the input that caused it in the build directory.
#
#	tests/fuzz/run.sh [BUILD_DIR]		# default ./build-fuzz
#	FUZZ_SECONDS=3600 tests/fuzz/run.sh	# a longer run
#
# Targets: fuzz_multipart (the multipart push parser, fed the same body
# whole and in pieces: the results must agree) and fuzz_update (the PUT body
# validator and the upload file name cleaner).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$root/build-fuzz}
seconds=${FUZZ_SECONDS:-60}
cc=${FUZZ_CC:-$(command -v clang-14 || command -v clang || true)}
[ -n "$cc" ] || { echo "fuzz: no clang (install clang-14 libclang-rt-14-dev)" >&2; exit 1; }

mkdir -p "$out"
flags=(-g -O1 "-fsanitize=fuzzer,address,undefined" -fno-sanitize-recover=all
    -D_GNU_SOURCE -I"$root/src")
# shellcheck disable=SC2207 # pkg-config's words are meant to split
jsonc=($(pkg-config --cflags --libs json-c))
# shellcheck disable=SC2207
sodium=($(pkg-config --cflags --libs libsodium))

"$cc" "${flags[@]}" -o "$out/fuzz_multipart" "$here/fuzz_multipart.c" \
    "$root/src/multipart.c" "${sodium[@]}"
"$cc" "${flags[@]}" -o "$out/fuzz_update" "$here/fuzz_update.c" \
    "$root/src/jsonio.c" "${jsonc[@]}"

rc=0
for t in multipart update; do
	# A working copy: the run adds to it, the committed seeds stay as they are.
	rm -rf "$out/corpus-$t"
	cp -r "$here/corpus/$t" "$out/corpus-$t"
	dict=()
	[ ! -f "$here/$t.dict" ] || dict=(-dict="$here/$t.dict")
	echo "fuzz_$t: $seconds s"
	if ! (cd "$out" && ASAN_OPTIONS=detect_leaks=1 "./fuzz_$t" \
	    "${dict[@]}" -max_total_time="$seconds" -max_len=4096 \
	    -print_final_stats=1 -artifact_prefix="$out/crash-$t-" \
	    "corpus-$t" >"fuzz_$t.log" 2>&1); then
		echo "fuzz_$t FAILED; input and report:" >&2
		ls "$out"/crash-"$t"-* >&2 2>/dev/null || true
		grep -E 'ERROR|SUMMARY|==[0-9]+==|abort|Test unit' "$out/fuzz_$t.log" | head -n 20 >&2
		rc=1
		continue
	fi
	grep -E 'stat::number_of_executed_units|stat::new_units_added|cov:' \
	    "$out/fuzz_$t.log" | tail -n 3
done
exit "$rc"
