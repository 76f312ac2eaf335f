#!/bin/bash
# tests/bench/mime_cost.sh [ROUNDS]
#
# What one libmagic detection costs (src/mime.c's flags), per kind of
# 4 KiB upload: the lines of random lowercase letters that
# tests/bench/upload.lua sends as "text", random bytes, the start of a
# license, of a C header and of a shell script.  For each: the type, and
# from valgrind's callgrind, which unlike time does not depend on the
# machine's load, the instructions of one detection, of its binary tests
# alone (MAGIC_NO_CHECK_TEXT), the shares of glibc's regexec and of
# libmagic's own code; then the same detection as the worker runs it
# (libmagic.a, its regex calls wrapped: mime_link.sh), its instructions
# with FILEUPLOAD_REGEX_SKIP=0 (every search runs) and with
# src/regex_skip.c skipping the searches that cannot match (the default):
# its type, instructions, and the mean time per detection of libmagic.so
# and of the skipping worker's (ROUNDS, default 300, one after the other).
# ~1 min.  Needs gcc, pkg-config, libmagic-dev and valgrind.  Removes its
# temp dir.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
rounds=${1:-300}
tmp=$(mktemp -d /var/tmp/fu-mime-cost.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

gcc -O2 -Wall -o "$tmp/mime_cost" "$here/mime_cost.c" -lmagic
# shellcheck source=tests/bench/mime_link.sh
. "$here/mime_link.sh"
mime_link "$tmp/mime_cost_skip" "$here/mime_cost.c"

# The benchmark's text: 64 lines of 63 letters.
{ LC_ALL=C tr -dc "[:lower:]" </dev/urandom || true; } | head -c 4032 |
	fold -w 63 >"$tmp/text"
echo >>"$tmp/text"
head -c 4096 /dev/urandom >"$tmp/random"
inputs=(text random)
for src in license:/usr/share/common-licenses/GPL-3 \
	c-header:/usr/include/stdio.h shell-script:/usr/bin/ldd; do
	[ -r "${src#*:}" ] || continue
	head -c 4096 "${src#*:}" >"$tmp/${src%%:*}"
	inputs+=("${src%%:*}")
done

# instructions PROGRAM [OPTION] FILE: instructions of one detection (20
# detections less loading the database, over 20); leaves the profile in
# $tmp/cg.
instructions() {
	local prog=$1 n0 n20
	shift
	n0=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null \
	    "$prog" -n 0 "$@" 2>&1 >/dev/null |
	    sed -n 's/.*Collected : \([0-9]*\).*/\1/p')
	n20=$(valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" \
	    "$prog" -n 20 "$@" 2>&1 >/dev/null |
	    sed -n 's/.*Collected : \([0-9]*\).*/\1/p')
	echo $(((n20 - n0) / 20))
}

# usec PROGRAM FILE: mean microseconds per detection over $rounds.
usec() {
	"$1" -t -n "$rounds" "$2" | awk '{ print $2 }'
}

# share PATTERN TOTAL: PATTERN's inclusive instructions in $tmp/cg, per
# detection, as a percentage of TOTAL.
share() {
	callgrind_annotate --threshold=100 --inclusive=yes "$tmp/cg" 2>/dev/null |
	    awk -v pat="$1" -v total="$2" '
		$0 ~ pat { gsub(",", "", $1); n = $1; exit }
		END { printf "%d %%", total ? 100 * n / 20 / total + 0.5 : 0 }'
}

# self DSO TOTAL: instructions spent in DSO's own code, per detection, as
# a percentage of TOTAL.
self() {
	callgrind_annotate --threshold=100 "$tmp/cg" 2>/dev/null |
	    awk -v dso="$1" -v total="$2" '
		index($0, dso) { gsub(",", "", $1); n += $1 }
		END { printf "%d %%", total ? 100 * n / 20 / total + 0.5 : 0 }'
}

# commas N: N with thousands separators, whatever the locale.
commas() {
	sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"$1"
}

echo "| 4 KiB input | type | instructions | binary tests alone | glibc regexec | libmagic's own code | worker: FILEUPLOAD_REGEX_SKIP=0 | type, searches skipped | instructions | µs per detection | µs, searches skipped |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for k in "${inputs[@]}"; do
	type=$("$tmp/mime_cost" "$tmp/$k")
	skip_type=$("$tmp/mime_cost_skip" "$tmp/$k")
	bin=$(instructions "$tmp/mime_cost" -b "$tmp/$k")
	skip=$(instructions "$tmp/mime_cost_skip" "$tmp/$k")
	off=$(FILEUPLOAD_REGEX_SKIP=0 instructions "$tmp/mime_cost_skip" \
	    "$tmp/$k")
	all=$(instructions "$tmp/mime_cost" "$tmp/$k")
	us=$(usec "$tmp/mime_cost" "$tmp/$k")
	skip_us=$(usec "$tmp/mime_cost_skip" "$tmp/$k")
	printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
	    "$k" "$type" "$(commas "$all")" "$(commas "$bin")" \
	    "$(share ':regexec' "$all")" "$(self libmagic.so "$all")" \
	    "$(commas "$off")" "$skip_type" "$(commas "$skip")" "$us" \
	    "$skip_us"
done
echo
echo "libmagic $(dpkg-query -W -f '${Version}' libmagic1 2>/dev/null || echo '?')," \
    "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
