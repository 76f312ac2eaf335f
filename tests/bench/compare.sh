#!/usr/bin/env bash
#
# tests/bench/compare.sh: two commits side by side in one run, to show
# that a change costs nothing (or what it costs).
#
#	sudo tests/bench/compare.sh [--quick] OLD_REV NEW_REV [ROUNDS]
#
# Builds each revision from git (git archive into
# BENCH_COMPARE_DIR/<commit>/tree, default /var/tmp/fu-compare, configured
# and built in <commit>/build; kept, so that the next comparison of the
# same commit skips the build), then starts one private stack as run.sh
# does (stack.sh: PostgreSQL with fsync on, nginx, the ceilings' nginx;
# the migrations and the nginx configuration are this tree's).  Each of
# ROUNDS rounds (default BENCH_RUNS: 3, --quick 1) measures, with each
# side's worker in turn on the same stack (the pool restarted with the
# other binary: same socket, database and data), the small uploads, the
# metadata GET, the large upload and its download, one run each (wrk runs
# of BENCH_SECONDS, after a warm-up); the side that went second goes first
# in the next round.  After the rounds, LIST_ROWS rows are loaded and the
# list is measured the same way.  The table (results/<date>-compare/
# table.md, also printed) gives the medians over the rounds:
#
#	| figure | old | new | new/old |
#
# and summary.txt every run's values, each led by its side and round.
# run.sh's environment applies (WORKERS, BENCH_SECONDS, BENCH_CONNECTIONS,
# BENCH_LARGE_MIB, BENCH_LIST_ROWS, BENCH_UPLOAD_CONTENT, REQUEST_BUFFERING,
# BENCH_KEEP, FU_SKIP_INSTALL); BENCH_WORKER and --peer do not.  For a
# quick check: BENCH_LARGE_MIB=256 BENCH_LIST_ROWS=100000 compare.sh
# --quick HEAD~1 HEAD.
set -euo pipefail

bench_dir=$(dirname "${BASH_SOURCE[0]}")
# shellcheck source=tests/bench/stack.sh
. "$bench_dir/stack.sh"
# shellcheck source=tests/bench/fig_uploads.sh
. "$bench_dir/fig_uploads.sh"
# shellcheck source=tests/bench/fig_get.sh
. "$bench_dir/fig_get.sh"
# shellcheck source=tests/bench/fig_list.sh
. "$bench_dir/fig_list.sh"
# shellcheck source=tests/bench/fig_large.sh
. "$bench_dir/fig_large.sh"
# shellcheck source=tests/bench/fig_download.sh
. "$bench_dir/fig_download.sh"

set -E
trap 'fu_log "failed at line $LINENO: $BASH_COMMAND"' ERR
usage="usage: $0 [--quick] OLD_REV NEW_REV [ROUNDS]"
bench_options "$@"
[ -z "$PEER" ] || fu_die "--peer: not with compare.sh ($usage)"
[ -z "${BENCH_WORKER:-}" ] || fu_die "BENCH_WORKER: not with compare.sh (it builds both)"
case ${#BENCH_ARGS[@]} in
2 | 3) ;;
*) fu_die "$usage" ;;
esac
ROUNDS=${BENCH_ARGS[2]:-$RUNS}
case $ROUNDS in
'' | *[!0-9]* | 0) fu_die "ROUNDS=$ROUNDS must be a positive integer" ;;
esac
# Each figure runs once per side and round; the rounds give the medians.
RUNS=1
cmp_dir=${BENCH_COMPARE_DIR:-/var/tmp/fu-compare}

declare -A rev sha bin

# compare_build SIDE REV: REV's worker, built once per commit; sets
# rev[SIDE], sha[SIDE], bin[SIDE].
compare_build() {
	local side=$1 dir

	sha[$side]=$(git -C "$FU_ROOT" rev-parse --verify --quiet "$2^{commit}") ||
	    fu_die "$2: not a commit of $FU_ROOT"
	rev[$side]=$2
	dir=$cmp_dir/${sha[$side]}
	bin[$side]=$dir/build/src/fileupload-worker
	if [ -x "${bin[$side]}" ]; then
		fu_log "$side: $2 (${sha[$side]:0:12}), built before in $dir"
		return 0
	fi
	fu_log "$side: building $2 (${sha[$side]:0:12}) in $dir (log: $dir/build.log)"
	rm -rf "$dir"
	mkdir -p "$dir/tree"
	git -C "$FU_ROOT" archive "${sha[$side]}" | tar -x -C "$dir/tree"
	if ! (FU_ROOT=$dir/tree FU_BUILD_DIR=$dir/build && fu_build) \
	    >"$dir/build.log" 2>&1; then
		tail -n 20 "$dir/build.log" >&2
		fu_die "building $2 failed"
	fi
	[ -x "${bin[$side]}" ] || fu_die "no worker binary at ${bin[$side]}"
}

fu_require_root
bench_install
mkdir -p "$cmp_dir"
compare_build old "${BENCH_ARGS[0]}"
compare_build new "${BENCH_ARGS[1]}"
BENCH_WORKER=${bin[new]}
FU_SKIP_INSTALL=1 bench_setup compare
echo "compare: old ${rev[old]} (${sha[old]:0:12}), new ${rev[new]} (${sha[new]:0:12})," \
    "$ROUNDS round(s), the sides alternating" >>"$RES/env.txt"
base_nonce=$nonce

# compare_side SIDE ROUND: the pool runs SIDE's worker; the run's raw
# outputs go to raw/SIDE.ROUND/, its summary lines are led by both.
compare_side() {
	RAW=$RES/raw/$1.$2
	mkdir -p "$RAW"
	summary_tag="$1 round $2"
	nonce=$base_nonce-$1$2
	fu_log "$1 (${rev[$1]}), round $2 of $ROUNDS"
	fu_pool_stop
	fu_pool_start "${bin[$1]}" || fu_die "the pool does not start with ${bin[$1]}"
}

# vals["SIDE NAME"]: the rounds' values of one figure, blank-separated.
declare -A vals
keep() {
	vals["$1 $2"]+=" $3"
}

# compare_order ROUND: the sides in the round's order.
compare_order() {
	if [ $(($1 % 2)) -eq 1 ]; then echo old new; else echo new old; fi
}

for round in $(seq 1 "$ROUNDS"); do
	for side in $(compare_order "$round"); do
		compare_side "$side" "$round"
		fig_uploads
		keep "$side" up "$UP_RPS"
		keep "$side" up_p99 "$UP_P99"
		keep "$side" up_bad "$UP_BAD"
		fig_get
		keep "$side" get "$GET_RPS"
		keep "$side" get_p99 "$GET_P99"
		keep "$side" get_bad "$GET_BAD"
		fig_large
		keep "$side" large "$LU_MBS"
		keep "$side" large_rss "$LU_RSS"
		fig_download
		keep "$side" dl "$DL_MBS"
		# The other side uploads the same bytes next.
		curl -sS -o /dev/null -X DELETE "$URL/$big_hash"
	done
done

summary_tag=
RAW=$RES/raw
list_load
for round in $(seq 1 "$ROUNDS"); do
	for side in $(compare_order "$round"); do
		compare_side "$side" "$round"
		list_warm
		list_once list "$round" "$URL" "$rows" ours
		keep "$side" list "$L_RPS"
		keep "$side" list_rss "$L_RSS"
	done
done
summary_tag=
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
summary "load average at end: $LOAD_END"

# med SIDE NAME, largest SIDE NAME, total SIDE NAME: the median, the largest,
# the sum of a figure's rounds.
med() {
	# shellcheck disable=SC2086  # the values, one word each
	median ${vals["$1 $2"]}
}
largest() {
	# shellcheck disable=SC2086
	maxof ${vals["$1 $2"]}
}
total() {
	awk -v s="${vals["$1 $2"]}" 'BEGIN { n = split(s, v, " ");
	    for (i = 1; i <= n; i++) t += v[i]; print t + 0 }'
}
# row TITLE NAME FORMAT: one line of the table; FORMAT is fmt, ms or kib,
# and with kib the largest of the rounds is shown, not the median.
row() {
	local title=$1 name=$2 f=$3 o n

	if [ "$f" = kib ]; then
		o=$(largest old "$name") n=$(largest new "$name")
	else
		o=$(med old "$name") n=$(med new "$name")
	fi
	echo "| $title | $("$f" "$o") | $("$f" "$n") | $(ratio "$n" "$o") |"
}

{
	echo "# fileupload benchmark, ${rev[old]} against ${rev[new]}, $stamp"
	echo
	sed 's/^/    /' "$RES/env.txt"
	echo "    load average (1, 5, 15 min): $LOAD_START at start, $LOAD_END at end"
	echo
	echo "| figure | old: ${rev[old]} (${sha[old]:0:7}) | new: ${rev[new]} (${sha[new]:0:7}) | new/old |"
	echo "|---|---|---|---|"
	row "small uploads/s, 4 KiB $CONTENT, $CONNS conn" up fmt
	row "↳ p99" up_p99 ms
	row "metadata GET req/s, $CONNS conn" get fmt
	row "↳ p99" get_p99 ms
	row "large upload MB/s, $LARGE_MIB MiB, curl -F" large fmt
	row "↳ largest worker peak RSS growth" large_rss kib
	row "download MB/s, $LARGE_MIB MiB, content route" dl fmt
	row "list rows/s, $(fmt "$rows") rows, one GET" list fmt
	row "↳ serving worker's peak RSS growth" list_rss kib
	echo "| non-201/non-200 answers and socket errors (uploads, GET), all rounds | $(total old up_bad), $(total old get_bad) | $(total new up_bad), $(total new get_bad) | |"
	echo
	echo "Medians of $ROUNDS round(s), one run of each figure per side and round,"
	echo "the sides alternating on the same stack (the one second in a round"
	echo "goes first in the next); RSS: the largest over the rounds.  For rates"
	echo "new/old < 1 is slower, for p99 and RSS > 1 is worse.  MB = 10^6 bytes."
	echo "Each run's values: summary.txt; raw outputs: raw/SIDE.ROUND/."
} >"$RES/table.md"

echo
cat "$RES/table.md"
echo
echo "results: $RES"
