#!/usr/bin/env bash
#
# tests/bench/fig_s3.sh: the object store's figure (BENCH_S3=1 or --s3):
# the service on Ceph RGW next to the same RGW used directly, in one run.
# Each of BENCH_RUNS rounds, alternated:
#   (a) LARGE_MIB MiB of random bytes uploaded through the service
#       (curl -F, as fig_large.sh), and
#   (b) the same bytes uploaded directly to the same RGW with botocore
#       (s3_direct.py: a multipart upload in parts of S3_PART_SIZE, one
#       after the other, as the worker sends them);
#   (c) the stored file downloaded through nginx (content route), and
#   (d) a direct GetObject of the same object (botocore, to nowhere),
#       3 of each, alternated.
# MB/s medians and the ratios service/direct (goals >= 0.80 up, >= 0.90
# down), the worker's CPU and own time during (a), the store's time for
# each request of (a) (RGW's ops log: parts, completion, the server-side
# copy) and what the two sides hash: a section "object store: through the
# service vs direct" of table.md.
#
#	sudo tests/bench/fig_s3.sh [--quick] [--peer ...]
#	sudo BENCH_S3=1 tests/bench/run.sh     (or run.sh --s3: every figure)
#
# Run by itself, it starts a private stack for this figure alone, with
# STORAGE=s3 on a Ceph RGW of its own (scripts/rgw.sh, in the temp dir,
# bluestore on a sparse file), and writes table.md with the section alone
# (see run.sh for the options and the environment; S3_PART_SIZE is the
# service's part size and the direct upload's, default 8 MiB;
# BENCH_S3_JOBS=N adds a direct upload sending N parts at once).
set -euo pipefail

# s3_direct ARGS...: tests/bench/s3_direct.py against the stack's RGW.
s3_direct() {
	python3 "$BENCH/s3_direct.py" "$@"
}

# s3_gc: RGW frees deleted data hours later (rgw_gc_obj_min_wait): now, so
# that the runs (and fig_large's before them) do not fill the OSD's 10 GiB.
s3_gc() {
	timeout 300 radosgw-admin -c "$FU_RGW_DIR/ceph.conf" gc process \
	    --include-all >/dev/null 2>&1 || fu_log "warning: radosgw-admin gc process failed"
}

# fig_s3: sets S3_UP_MBS, S3_DUP_MBS, S3_DL_MBS, S3_DDL_MBS (medians),
# S3_WORKER_S (the worker's own time for (a), median), S3_UP1_S (the
# first (a)'s seconds) and S3_PART; $RAW/s3-upload.1.ops.txt holds the
# store's requests of the first (a).
fig_s3() {
	local i j r code size secs wms from key
	local part=${S3_PART_SIZE:-8388608}
	local jobs=${BENCH_S3_JOBS:-0}
	local -a up=() dup=() pup=() dl=() ddl=() lw=()

	case $jobs in
	'' | *[!0-9]*) fu_die "BENCH_S3_JOBS=$jobs must be a number" ;;
	esac
	[ "${BENCH_S3:-0}" = 1 ] ||
	    fu_die "fig_s3 needs the stack on the object store (BENCH_S3=1 or --s3)"
	fu_log "6. object store: $LARGE_MIB MiB through the service vs directly to the RGW"
	bench_big_file
	key=${S3_PREFIX:-}${big_hash:0:2}/${big_hash:2:2}/$big_hash
	# A copy from an earlier figure (fig_large's) goes first.
	curl -sS -o /dev/null -X DELETE "$URL/$big_hash"
	s3_gc
	# RGW makes its pool for multipart uploads at the first one (0.2 s):
	# before the rounds, not in the service's first upload.
	head -c 1048576 "$big" >"$FU_VAR/work/s3-warmup.bin"
	s3_direct put "bench-direct/$nonce-warmup" "$FU_VAR/work/s3-warmup.bin" "$part" \
	    >/dev/null || fu_die "the warm-up multipart upload to $S3_ENDPOINT failed"
	s3_direct get "bench-direct/$nonce-warmup" >/dev/null
	s3_direct rm "bench-direct/$nonce-warmup"
	rm -f "$FU_VAR/work/s3-warmup.bin"
	for i in $(seq 1 "$RUNS"); do
		# (a) through the service
		sync
		from=$(bench_ops_lines)
		mem_begin
		cpu_begin
		r=$(curl_time "$RAW/s3-upload.$i.json" -F "upfile=@$big" "$URL")
		mem_end >"$RAW/s3-upload.$i.mem.txt"
		cpu_end "$RAW/s3-upload.$i.mem.txt"
		read -r code _ _ secs <<<"$r"
		if [ "$code" != 201 ] || ! grep -q "\"file_hash\":\"$big_hash\"" \
		    "$RAW/s3-upload.$i.json"; then
			fu_die "s3 upload run $i: HTTP $code $(head -c 300 "$RAW/s3-upload.$i.json")"
		fi
		up+=("$(mbps "$big_bytes" "$secs")")
		[ "$i" -ne 1 ] || S3_UP1_S=$secs
		wms=$(grep " POST /service/fileupload 201 .* $big_hash\$" \
		    "$FU_VAR/logs/fileupload.log" | tail -n 1 |
		    awk '{ sub(/ms$/, "", $(NF - 1)); print $(NF - 1) }')
		lw+=("${wms:-0}")
		sleep 0.5 # the ops log is written a moment after the answer
		bench_ops_since "$from" >"$RAW/s3-upload.$i.ops.txt"
		summary "s3 upload through the service run $i: ${up[-1]} MB/s ($secs s;" \
		    "the worker's part ${wms:-?} ms); largest worker peak RSS growth $M_MAX KiB;" \
		    "store: $(tr '\n' ';' <"$RAW/s3-upload.$i.ops.txt" | sed 's/;$//; s/;/; /g')"
		cat "$RAW/s3-upload.$i.mem.txt" >>"$RES/summary.txt"

		# (b) directly, the same bytes in the same parts
		sync
		cpu_begin
		r=$(s3_direct put "bench-direct/$nonce-$i" "$big" "$part")
		echo "$r" >"$RAW/s3-direct-upload.$i.txt"
		cpu_end "$RAW/s3-direct-upload.$i.txt"
		read -r size secs <<<"$r"
		[ "$size" = "$big_bytes" ] || fu_die "direct upload run $i: $r"
		dup+=("$(mbps "$size" "$secs")")
		summary "s3 direct multipart upload run $i: ${dup[-1]} MB/s ($secs s," \
		    "parts of $part bytes, one at a time); $(grep '^cpu:' "$RAW/s3-direct-upload.$i.txt")"

		# (b') the same with JOBS parts at once, when asked for
		if [ "$jobs" -gt 1 ]; then
			r=$(s3_direct put "bench-direct/$nonce-$i-j" "$big" "$part" -j "$jobs")
			read -r size secs <<<"$r"
			[ "$size" = "$big_bytes" ] || fu_die "parallel direct upload run $i: $r"
			pup+=("$(mbps "$size" "$secs")")
			summary "s3 direct multipart upload run $i, $jobs parts at once: ${pup[-1]} MB/s ($secs s)"
			s3_direct rm "bench-direct/$nonce-$i-j"
		fi

		# (c), (d): 3 of each, alternated
		for j in 1 2 3; do
			r=$(curl_time /dev/null -L "$URL/$big_hash/content")
			read -r code _ size secs <<<"$r"
			[ "$code" = 200 ] || fu_die "s3 download run $i.$j: HTTP $code"
			[ "$size" = "$big_bytes" ] || fu_die "s3 download run $i.$j: $size bytes"
			dl+=("$(mbps "$size" "$secs")")
			r=$(s3_direct get "$key")
			read -r size secs <<<"$r"
			[ "$size" = "$big_bytes" ] || fu_die "direct GET run $i.$j: $r"
			ddl+=("$(mbps "$size" "$secs")")
			summary "s3 download $i.$j: through nginx ${dl[-1]} MB/s; direct GET ${ddl[-1]} MB/s"
		done

		s3_direct rm "bench-direct/$nonce-$i"
		[ "$i" -eq "$RUNS" ] || curl -sS -o /dev/null -X DELETE "$URL/$big_hash"
		s3_gc
	done
	S3_UP_MBS=$(median "${up[@]}")
	S3_DUP_MBS=$(median "${dup[@]}")
	S3_PUP_MBS=
	[ "$jobs" -le 1 ] || S3_PUP_MBS=$(median "${pup[@]}")
	S3_JOBS=$jobs
	S3_DL_MBS=$(median "${dl[@]}")
	S3_DDL_MBS=$(median "${ddl[@]}")
	S3_WORKER_S=$(awk -v ms="$(median "${lw[@]}")" 'BEGIN { printf "%.1f", ms / 1000 }')
	S3_PART=$part
}

# s3_op OP: "N x, S s" of OP (RGW's name) in the first service upload's
# store requests.
s3_op() {
	awk -v o="$1" '$1 == o { printf "%d x, %.2f s", $2, $3; f = 1 }
	    END { if (!f) printf "none" }' "$RAW/s3-upload.1.ops.txt"
}

# fig_s3_table: the section "object store: through the service vs direct"
# of table.md.
# shellcheck disable=SC2153  # set by fig_s3 and the stack
fig_s3_table() {
	local r_up r_dl

	r_up=$(ratio "$S3_UP_MBS" "$S3_DUP_MBS")
	r_dl=$(ratio "$S3_DL_MBS" "$S3_DDL_MBS")
	echo
	echo "## object store: through the service vs direct"
	echo
	echo "Ceph RGW at $S3_ENDPOINT (one OSD, bluestore), the same $LARGE_MIB MiB"
	echo "of random bytes, each run of the service followed by the same"
	echo "transfer made directly with botocore (tests/bench/s3_direct.py)."
	echo
	echo "| figure | through the service | direct (botocore) | service/direct | target | result |"
	echo "|---|---|---|---|---|---|"
	echo "| upload, $LARGE_MIB MiB, parts of $((S3_PART >> 20)) MiB, one in flight | $(fmt "$S3_UP_MBS") MB/s (curl -F; of which the worker ${S3_WORKER_S} s) | $(fmt "$S3_DUP_MBS") MB/s (multipart, sequential parts) | $r_up | >= 0.80 | $(atleast "$r_up" 0.80) |"
	[ -z "$S3_PUP_MBS" ] ||
	    echo "| ↳ direct with $S3_JOBS parts at once (s3_direct.py -j $S3_JOBS) | | $(fmt "$S3_PUP_MBS") MB/s | $(ratio "$S3_UP_MBS" "$S3_PUP_MBS") | | |"
	echo "| download, $LARGE_MIB MiB | $(fmt "$S3_DL_MBS") MB/s (nginx, content route) | $(fmt "$S3_DDL_MBS") MB/s (GetObject to /dev/null) | $r_dl | >= 0.90 | $(atleast "$r_dl" 0.90) |"
	echo
	echo "Medians of $RUNS run(s) (downloads: 3 of each per run)."
	echo "What bounds the figures:"
	echo
	echo "- The service's first upload took $(printf '%.2f' "$S3_UP1_S") s; the store's time in it"
	echo "  (RGW's ops log, summed): CreateMultipartUpload $(s3_op init_multipart),"
	echo "  UploadPart $(s3_op put_obj), CompleteMultipartUpload"
	echo "  $(s3_op complete_multipart), CopyObject $(s3_op copy_obj), DeleteObject"
	echo "  $(s3_op delete_obj).  The worker hands each full part to a"
	echo "  sender thread and reads the next one from the client meanwhile"
	echo "  (one part in flight, as on the direct side); after the last"
	echo "  part the completion, then the server-side copy to ab/cd/<hash> and"
	echo "  the temp object's delete, which the direct upload does not do."
	echo "- Hashing: the worker computes BLAKE2b-256 of the body and the SHA-256"
	echo "  of each part (src/s3.c signs x-amz-content-sha256 with the payload's"
	echo "  hash; UNSIGNED-PAYLOAD only in the presigned download URL)."
	echo "  botocore over http signs each part's SHA-256 too (its CRC32"
	echo "  checksums are off: when_required), so both sides hash the parts."
	echo "- The direct side sends its parts one after the other, as the service"
	echo "  does.  botocore can send parts in parallel (its client is"
	echo "  thread-safe; s3transfer does so with 10 threads):"
	echo "  \`s3_direct.py put KEY FILE PART -j N\`$([ -n "$S3_PUP_MBS" ] &&
	    echo ", the row above" || echo "; not measured here (BENCH_S3_JOBS=N)")."
	echo "- The download: the worker answers X-Accel-Redirect to nginx's"
	echo "  internal /_fileupload_s3/ location, which proxies a presigned"
	echo "  GetObject with proxy_buffering off (streamed as it comes, through"
	echo "  one proxy_buffer_size buffer: nginx's default, one page, as the"
	echo "  configuration sets none): nginx copies every byte in user space,"
	echo "  on the cores RGW and the OSD use too; the direct side is one"
	echo "  GetObject read in 1 MiB chunks."
	echo
	echo "CPU during the first run (1.00 = one core busy for the whole run;"
	echo "radosgw and ceph-osd count in \"other\"; the direct side's python,"
	echo "gone by the end, in \"exited/unattributed\"):"
	echo
	printf '    %-20s %s\n' "s3-upload" "$(grep -h '^cpu:' "$RAW/s3-upload.1.mem.txt" | head -n 1)"
	printf '    %-20s %s\n' "s3-direct-upload" "$(grep -h '^cpu:' "$RAW/s3-direct-upload.1.txt" | head -n 1)"
}

# fig_s3_alone: table.md of a run of this figure alone.
fig_s3_alone() {
	LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
	{
		echo "# fileupload benchmark, $stamp (object store figure alone)"
		echo
		sed 's/^/    /' "$RES/env.txt"
		echo "    load average (1, 5, 15 min): $LOAD_START at start, $LOAD_END at end"
		fig_s3_table
	} >"$RES/table.md"
	cat "$RES/table.md"
	echo
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	# shellcheck source=tests/bench/stack.sh
	. "$(dirname "${BASH_SOURCE[0]}")/stack.sh"
	BENCH_S3=1
	bench_standalone fig_s3 fig_s3_alone -- "$@"
fi
