#!/usr/bin/env bash
#
# tests/bench/run.sh: the fileupload benchmark.  Each figure of the service
# next to the ceiling this machine sets for it, measured in the same run.
# Not a test: scripts/test never runs it, and it fails only when it cannot
# measure (a MISS against a target is reported, not an error).
#
#	sudo tests/bench/run.sh [--quick] [--s3] [--capacity] [--link] [--peer URL [--peer-pids FILE] [--peer2 URL]]
#
# As scripts/run does, it installs what is missing (and wrk), builds, and
# starts a private stack, here in a temp dir under /var/tmp: PostgreSQL
# (fsync on), the pool of WORKERS (default 1 per core, at least 2) workers, and nginx on a
# free loopback port.  Beside it, for the ceilings: a second, tiny nginx
# (return 200, a static file, a location for) a pool of null FastCGI
# responders (null_responder.c) of the same size.  Everything it started is
# stopped by PID on exit; the temp dir is removed (BENCH_KEEP=1 keeps it).
#
# Figures (median of BENCH_RUNS runs, default 3; --quick: 1 run, 3 s
# instead of 10 s per load run):
#   1. small uploads: 4 KiB of unique content per request (upload.lua),
#      multipart POST, wrk 16 connections: uploads/s, p50/p99, non-201s
#   2. metadata GET of one stored hash (status.lua): req/s, p99
#   3. list: 1,000,000 rows loaded with SQL, the whole list with curl:
#      rows/s and the serving worker's peak RSS growth
#   4. large upload: 1 GiB of random bytes with curl -F: MB/s and the peak
#      RSS growth of every worker
#   5. download of that file (content route): MB/s (3 transfers per run);
#      with --link (BENCH_LINK=1) also through a share link, and a small
#      file's download through a link next to the plain route: the
#      stack's CPU time per request (fig_download.sh; target <= 1.03)
#   6. with --s3 (BENCH_S3=1) only: the object store, through the service
#      vs directly (fig_s3.sh): the large upload next to a botocore
#      multipart upload of the same bytes to the same RGW, the download
#      next to a botocore GetObject of the same object; MB/s and
#      service/direct (targets >= 0.80 and >= 0.90)
#   7. with --capacity (BENCH_CAPACITY=1) only: the CPU-seconds each
#      process spends per small upload, small download and large-file
#      byte, PostgreSQL commits and store requests per request, and the
#      capacity model built on them (fig_capacity.sh; about 3 min more,
#      4 with --s3)
# Ceilings: nginx "return 200" and nginx -> null FastCGI pool (req/s, wrk,
# same connections; the null pool also takes the same 4 KiB uploads and the
# same 1 GiB upload, reading and discarding the bodies: the transport's
# share, with the same REQUEST_BUFFERING); PostgreSQL single-row INSERT
# commits/s (pgbench -c 16 -j 2, a copy of the files table); durable 4 KiB
# files/s (durable_files.c, 16 threads, same file system as DATA_DIR);
# BLAKE2b-256 MB/s (blake2b_speed.c); 1 GiB write + fsync (dd conv=fsync);
# nginx sendfile of a 1 GiB static file.  INSERT commits and durable files
# are measured again at the pool's concurrency (the wrk connections, up to
# WORKERS x FILEUPLOAD_THREADS: a request thread takes one request at a
# time), and so is the GET's SELECT alone (pgbench); the serial
# combinations 1/(1/files + 1/commits) and 1/(1/null FastCGI + 1/select)
# are printed, since each upload does the former two one after the other
# and each GET the latter two.  Peak RSS growth is VmHWM after a
# run minus VmRSS before it, the high-water mark being reset first
# (/proc/PID/clear_refs); the largest growth over the runs is reported, not
# the median.
#
# With --peer URL (a base URL such as http://127.0.0.1:8090: another
# implementation of the same API, docs/api.md, rooted at
# URL/service/fileupload and already running, e.g. the Node.js reference
# of ../shared/peers, started with its up.sh), the five figures are also
# measured on the peer, alternating: each run of ours is followed by the
# same run of the peer's (same wrk connections, same content and
# BENCH_UPLOAD_CONTENT, the same large file), so that both meet the same
# moments of a machine that may not be quiet; the medians are compared.
# The peer's metadata GET reads a file uploaded at the start (which also
# checks that it speaks the API).  Its list rows: the same LIST_ROWS
# loaded by SQL into its database (BENCH_PEER_DB, a libpq connection
# string; default the reference's own PostgreSQL) when its files table has
# our columns, removed again on exit; otherwise (or BENCH_PEER_DB=none) both
# lists are measured before the small uploads, on BENCH_PEER_LIST_ROWS
# files uploaded through each service's API (the API takes one file per
# request: a million would take too long; ours also gets as many as the
# peer held before, so that both list the same number).  --peer-pids FILE
# (comma-separated PIDs, e.g. /tmp/fileupload-peer/node.pids) adds the
# peer's peak RSS growth for the list and the large upload.  The table
# gets a side-by-side section (figure | ours | peer | ours/peer) and a note
# of what the reference does less.  The peer keeps the small uploads it
# was sent; its large file is deleted on exit.  --peer2 URL adds a second
# peer to figures 1 and 2 only (small uploads and metadata GET): each run
# of ours is then followed by the peer's and the second peer's, and the
# table gets both next to ours with the CPU each service spent per
# request, e.g. the reference with libmagic and without it:
#
#	../shared/peers/up.sh 8090
#	PEER_VAR=/tmp/fileupload-peer2 PEER_PG_PORT=55433 PEER_MAGIC=0 \
#	    ../shared/peers/up.sh 8091
#	BENCH_RUNS=5 BENCH_UPLOAD_CONTENT=text tests/bench/run.sh \
#	    --peer http://127.0.0.1:8090 --peer2 http://127.0.0.1:8091
#
# With --s3 (or BENCH_S3=1) the private stack stores on the object store:
# a Ceph RGW of its own (scripts/rgw.sh, in the temp dir, on free ports
# from 29480 on, bluestore on a sparse file) and STORAGE=s3 with its S3_*
# settings (path style, by 127.0.0.1); figures 1-5 then measure the
# service on S3, and figure 6 is added (a section of its own in the
# table).  The RGW is stopped on exit with the rest.
#
# Then, unless BENCH_PROFILE=0, profiling passes that are not counted:
# perf record -a -g during small uploads, one large upload, one list and
# the GETs (hot spots per process, in the worker, PostgreSQL and nginx),
# and perf trace -s during small uploads and one large upload (time per
# system call of each worker): results/<date>/perf-hotspots.txt.
#
# Output: tests/bench/results/<date>/ holds every tool's raw output,
# summary.txt (each run's values) and table.md (the table printed at the
# end, with the load average before and after).  Only table.md is meant to
# be committed (results/.gitignore).
#
# Environment:
#	WORKERS			pool size (and null pool size), default 1 per core (at least 2)
#	REQUEST_BUFFERING	off (default) or on: nginx's
#				fastcgi_request_buffering for uploads
#	BENCH_RUNS		runs per figure, default 3 (--quick: 1)
#	BENCH_SECONDS		seconds per load run, default 10 (--quick: 3)
#	BENCH_CONNECTIONS	wrk connections and pgbench/durable clients, 16
#	BENCH_LARGE_MIB		large upload size, MiB, default 1024
#	BENCH_LIST_ROWS		rows loaded for the list, default 1000000
#	BENCH_PROFILE		1 (default) runs the profiling passes, 0 skips them
#	BENCH_UPLOAD_CONTENT	random (default) or text: the small uploads'
#				content (libmagic's cost depends on it; the
#				peer gets the same)
#	BENCH_PEER_DB		with --peer: libpq connection string of the
#				peer's database for the list's rows, default
#				"host=127.0.0.1 port=55432 user=postgres
#				dbname=peer_node"; none: load through the API
#	BENCH_PEER_LIST_ROWS	with --peer and no SQL access: rows uploaded
#				through each API for the list, default 3000
#	BENCH_FANOUT=1		make DATA_DIR's 65,536 ab/cd/ directories
#				before the small uploads (an experiment: the
#				worker then never makes and fsyncs one)
#	BENCH_S3=1		as --s3: the stack on a Ceph RGW, and figure 6
#	BENCH_CAPACITY=1	as --capacity: figure 7
#	BENCH_LINK=1		as --link: figure 5 through share links too
#	BENCH_CAP_UPLOADS, BENCH_CAP_GBS, BENCH_CAP_UTIL
#				with --capacity: the model's targets (10000
#				small uploads/s, 10 GB/s) and planned busy
#				share of a host's cores (0.7)
#	S3_PART_SIZE		with --s3: the service's part size, and the
#				direct upload's (default 8388608)
#	BENCH_S3_JOBS=N		with --s3: also a direct upload sending N
#				parts at once (botocore from threads)
#	BENCH_WORKER		a worker binary to use instead of building
#	BENCH_KEEP=1		keep the temp dir (logs, data) after the run
#
# The figures are in fig_uploads.sh, fig_get.sh, fig_list.sh, fig_large.sh,
# fig_download.sh, fig_s3.sh (with s3_direct.py) and fig_capacity.sh, the ceilings in ceilings.sh, the profiling passes in
# profile.sh (each also runs by itself, on a private stack of its own), the
# rest in stack.sh; compare.sh measures two commits side by side.
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
# shellcheck source=tests/bench/fig_s3.sh
. "$bench_dir/fig_s3.sh"
# shellcheck source=tests/bench/fig_capacity.sh
. "$bench_dir/fig_capacity.sh"
# shellcheck source=tests/bench/ceilings.sh
. "$bench_dir/ceilings.sh"
# shellcheck source=tests/bench/profile.sh
. "$bench_dir/profile.sh"

set -E
trap 'fu_log "failed at line $LINENO: $BASH_COMMAND"' ERR
bench_options "$@"
[ "${#BENCH_ARGS[@]}" -eq 0 ] ||
    fu_die "unknown argument ${BENCH_ARGS[0]} (usage: $0 [--quick] [--s3] [--capacity] [--link] [--peer URL [--peer-pids FILE] [--peer2 URL]])"
bench_setup

# In this order: the list's million rows come last, so that the other
# figures meet a small table; the GET and the database ceilings read a
# file the uploads stored, the download the large upload's file.
fig_list_api
fig_uploads
ceil_http
fig_get
ceil_db
ceil_disk
fig_large
ceil_null_large
fig_download
[ "$BENCH_S3" -eq 0 ] || fig_s3
[ "$BENCH_CAPACITY" -eq 0 ] || fig_capacity
fig_list
bench_profile

LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
summary "load average at end: $LOAD_END"
bench_table
[ "$BENCH_S3" -eq 0 ] || fig_s3_table >>"$RES/table.md"
[ "$BENCH_CAPACITY" -eq 0 ] || fig_capacity_table >>"$RES/table.md"

echo
cat "$RES/table.md"
echo
[ ! -f "$RES/perf-hotspots.txt" ] || echo "hot spots: $RES/perf-hotspots.txt"
echo "results: $RES"
