# shellcheck shell=bash
#
# STORAGE=s3: the same service on an S3-API object store.  Two stores:
#	rgw	Ceph's RADOS Gateway (scripts/rgw.sh), started at the first
#		scenario that needs it and kept for the run (the runner stops
#		it); each scenario has a bucket of its own.  What the store
#		was asked comes from its ops log.
#	stub	the test server tests/s3stub/s3stub.py (it checks every
#		signature with botocore, every payload's SHA-256 and the
#		multipart part sizes, logs each request and fails one on
#		demand), on a free loopback port, for one scenario: for the
#		scenarios that make the store fail (s3_begin stub) or that
#		need objects older than a real store can make them.
# IT_S3_STORE=stub runs every scenario on the test server (a machine
# without Ceph).  Each scenario restarts the pool with the S3 settings,
# and on its way out (also when it fails) stops the test server by its PID
# and restores the runner's local pool and nginx.
# Sourced by tests/integration/run.sh (helpers in tests/integration/lib.sh).

S3_PART=5242880		# the API's minimum part size, so parts stay small

# s3_stub_start [PORT]: the server on PORT (default: a free one).
s3_stub_start() {
	fu_s3stub_start "$S3_ROOT" "$S3_BUCKET_NAME" "${1:-0}"
	S3_PORT=$FU_S3STUB_PORT
}

s3_stub_stop() {
	fu_s3stub_stop
}

# s3_pool_start [MAX]: the pool on the object store: MAX-byte uploads
# (default IT_S3_MAX, else 16 MiB), 5 MiB parts.
s3_pool_start() {
	STORAGE=s3 S3_ENDPOINT=$S3_URL S3_BUCKET=$S3_BUCKET_NAME \
	    S3_REGION=us-east-1 S3_PREFIX=it/ S3_ACCESS_KEY_ID=$S3_KEY \
	    S3_SECRET_ACCESS_KEY=$S3_SECRET S3_PART_SIZE=$S3_PART \
	    S3_SWEEP_GRACE=2 MAX_UPLOAD_SIZE=${1:-${IT_S3_MAX:-$((16 << 20))}} \
	    WORKERS=2 fu_pool_start "$IT_WORKER" 2>>"$IT_TMP/setup.log"
}

# s3_begin [stub]: the scenario's store (the test server with "stub" or
# IT_S3_STORE=stub, else the gateway and a new bucket), a new database of
# its own (the rows of the local scenarios have no objects in the
# bucket, and the bucket's rows no files in DATA_DIR), the pool on them.
s3_begin() {
	S3_STORE=${IT_S3_STORE:-rgw}
	[ "${1:-}" != stub ] || S3_STORE=stub
	S3_ROOT=$IT_TMP/s3
	rm -rf "$S3_ROOT"
	mkdir -p "$S3_ROOT"
	trap s3_end EXIT
	if [ "$S3_STORE" = stub ]; then
		S3_BUCKET_NAME=it-bucket
		s3_stub_start
		S3_URL=http://127.0.0.1:$S3_PORT
		S3_KEY=$FU_S3STUB_KEY S3_SECRET=$FU_S3STUB_SECRET
	else
		s3_rgw_start
		S3_BUCKET_NAME=it-$RANDOM$RANDOM
		S3_URL=$FU_RGW_ENDPOINT
		S3_KEY=$FU_RGW_KEY S3_SECRET=$FU_RGW_SECRET
		S3_OPS_FROM=$(wc -l <"$FU_RGW_DIR/log/ops.log" 2>/dev/null || echo 0)
		fu_rgw_s3 mb "$S3_BUCKET_NAME"
	fi
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	fu_pg_psql "$IT_PG_DIR" postgres -c 'DROP DATABASE IF EXISTS fileupload_s3'
	fu_pg_psql "$IT_PG_DIR" postgres -c \
	    'CREATE DATABASE fileupload_s3 OWNER fileupload'
	FU_DB_NAME=fileupload_s3
	fu_migrate "$IT_MIGRATE" >>"$IT_TMP/setup.log" 2>&1
	s3_pool_start
	restart_nginx $(((16 << 20) + 65536))
}

# s3_rgw_start: the run's gateway (scripts/rgw.sh in $FU_VAR/rgw, in
# memory unless IT_RGW_STORE=bluestore), started once, then found running
# (on its port of the first time).  It speaks http (FU_RGW_ENDPOINT) and
# https (FU_RGW_TLS_ENDPOINT, its CA FU_RGW_CA_FILE; the certificate names
# s3_endpoints.sh's virtual host too) from the start, so that no scenario
# has to restart it.  Its output goes to setup.log.
s3_rgw_start() {
	local port=

	[ -s "$FU_VAR/rgw/port" ] ||
	    port=$(fu_rgw_free_port $((27480 + RANDOM % 40 * 10)))
	FU_RGW_STORE=${IT_RGW_STORE:-memstore} FU_RGW_TLS=1 \
	    FU_RGW_TLS_NAMES=DNS:it-named.localhost \
	    fu_rgw_start "$FU_VAR/rgw" "$port" >>"$IT_TMP/setup.log" 2>&1 ||
	    { tail -n 20 "$IT_TMP/setup.log"; return 1; }
}

s3_end() {
	s3_stub_stop
	fu_pool_stop 2>>"$IT_TMP/setup.log" || true
	[ "$S3_STORE" = stub ] ||
	    fu_rgw_s3 rb "$S3_BUCKET_NAME" >>"$IT_TMP/setup.log" 2>&1 || true
	# The runner's database again (fu_pool_start reads FU_DB_NAME).
	# shellcheck disable=SC2034
	FU_DB_NAME=fileupload
	start_pool || true
	restart_nginx || true
}

# s3_cli ARGS...: scripts/s3.py on the scenario's bucket.
s3_cli() {
	S3_ENDPOINT=$S3_URL S3_ACCESS_KEY_ID=$S3_KEY \
	    S3_SECRET_ACCESS_KEY=$S3_SECRET S3_BUCKET=$S3_BUCKET_NAME \
	    python3 "$FU_ROOT/scripts/s3.py" "$@"
}

# s3_object HASH: a file with the bytes of the file's object (a path
# that does not exist when there is none).
s3_object() {
	s3_key_file "${1:0:2}/${1:2:2}/$1"
}

# s3_key_file KEY: the same for the object KEY (under the prefix).
s3_key_file() {
	local f
	if [ "$S3_STORE" = stub ]; then
		printf '%s/objects/it/%s\n' "$S3_ROOT" "$1"
		return
	fi
	f=$S3_ROOT/got/$1
	mkdir -p "$(dirname "$f")"
	rm -f "$f"
	s3_cli get "it/$1" "$f" || rm -f "$f"
	printf '%s\n' "$f"
}

# s3_plant KEY FILE: FILE's bytes as the object KEY (under the prefix),
# behind the service's back (an hour old on the test server).
s3_plant() {
	if [ "$S3_STORE" = rgw ]; then
		s3_cli put "it/$1" "$2"
		return
	fi
	mkdir -p "$(dirname "$S3_ROOT/objects/it/$1")"
	cp "$2" "$S3_ROOT/objects/it/$1"
	touch -d '-1 hour' "$S3_ROOT/objects/it/$1"
}

# s3_unplant KEY: the object KEY gone, behind the service's back.
s3_unplant() {
	if [ "$S3_STORE" = rgw ]; then
		s3_cli rm "it/$1"
	else
		rm -f "$S3_ROOT/objects/it/$1"
	fi
}

# s3_uploads PREFIX: the multipart uploads under it/PREFIX, one a line.
s3_uploads() {
	local m
	if [ "$S3_STORE" = rgw ]; then
		s3_cli uploads "it/$1"
		return
	fi
	for m in "$S3_ROOT"/uploads/*/meta.json; do
		[ -e "$m" ] || continue
		jq -r .key "$m"
	done | grep -F "it/$1" || true
}

# s3_ops OP: one JSON line for each request OP (the S3 operation's name)
# the service made, with its "size" (bytes received) and "auth"
# ("presigned" for a presigned URL's): the test server's requests.log,
# or the gateway's ops log since the scenario began.
s3_ops() {
	if [ "$S3_STORE" = stub ]; then
		grep -F "\"op\": \"$1\"" "$S3_ROOT/requests.log" || true
		return
	fi
	tail -n +"$((S3_OPS_FROM + 1))" "$FU_RGW_DIR/log/ops.log" |
	    jq -c --arg b "$S3_BUCKET_NAME" --arg op "$1" '
		select(.bucket == $b and
		    (.user_agent | startswith("Botocore") | not)) |
		(.uri | split(" ")) as [$m, $u] |
		({put_obj: (if ($u | test("[?&]partNumber="))
			then "UploadPart" else "PutObject" end),
		  copy_obj: "CopyObject",
		  init_multipart: "CreateMultipartUpload",
		  complete_multipart: "CompleteMultipartUpload",
		  abort_multipart: "AbortMultipartUpload",
		  list_multipart: "ListParts",
		  list_bucket_multiparts: "ListMultipartUploads",
		  get_obj: (if $m == "HEAD" then "HeadObject"
			else "GetObject" end),
		  delete_obj: "DeleteObject",
		  list_bucket: "ListObjectsV2"}[.operation] // .operation) as $o |
		select($o == $op) |
		{op: $o, key: ($u | sub("\\?.*"; "")), size: .bytes_received,
		 status: (.http_status | tonumber),
		 auth: (if ($u | test("X-Amz-Signature="))
			then "presigned" else "header" end)}' |
	    sed 's/":/": /g; s/,"/, "/g'
}

# s3_denied: the service's requests the store answered 403.
s3_denied() {
	if [ "$S3_STORE" = stub ]; then
		grep -e '"status": 403' "$S3_ROOT/requests.log" || true
		return
	fi
	tail -n +"$((S3_OPS_FROM + 1))" "$FU_RGW_DIR/log/ops.log" |
	    jq -c --arg b "$S3_BUCKET_NAME" \
	    'select(.bucket == $b and .http_status == "403")'
}

# Nothing under tmp/ or trash/, and no multipart upload left.
check_s3_clean() {
	local left
	if [ "$S3_STORE" = rgw ]; then
		left=$(s3_cli left it/)
	else
		left=$(find "$S3_ROOT/objects/it/tmp" \
		    "$S3_ROOT/objects/it/trash" "$S3_ROOT/uploads" \
		    -mindepth 1 2>/dev/null || true)
	fi
	[ -z "$left" ] || fail "left in the object store: $left"
}

# s3_big NAME MIB: a file of MIB MiB of random bytes.
s3_big() {
	local f=$IT_TMP/files/$1
	mkdir -p "$IT_TMP/files"
	head -c $(($2 << 20)) /dev/urandom >"$f"
	printf '%s\n' "$f"
}

# Small and multipart uploads, downloads and a range, duplicate, rename,
# delete: the whole life of a file on the object store.
sc_s3_file_lifecycle() {
	local small big hs hb n tb
	s3_begin

	req GET /service/fileupload/health
	check_status 200 "health with the store up"
	small=$(new_file s3_small)
	hs=$(b2 "$small")
	upload "$small" small.txt
	check_status 201 "small upload"
	check_json .file_hash "$hs"
	check "the object has the uploaded bytes" cmp -s "$(s3_object "$hs")" "$small"
	check_eq "no multipart upload for a small file" "" \
	    "$(s3_ops CreateMultipartUpload)"
	check_eq "one PutObject for a small file" 1 "$(s3_ops PutObject | wc -l)"
	check_not_stored "$hs"	# nothing in DATA_DIR

	big=$(s3_big s3_big 12)
	hb=$(b2 "$big")
	upload "$big" big.bin
	check_status 201 "multipart upload"
	check_json .file_hash "$hb"
	check_json .file_size $((12 << 20))
	tb=$(jf .file_type)	# random bytes: usually octet-stream, not always
	check "the object has the uploaded bytes" cmp -s "$(s3_object "$hb")" "$big"
	check_eq "part sizes" "$S3_PART $S3_PART 2097152" \
	    "$(s3_ops UploadPart | jq -r .size | tr '\n' ' ' | sed 's/ $//')"
	check_eq "one copy from tmp/ to the hash" 1 "$(s3_ops CopyObject | wc -l)"
	check_s3_clean

	req GET "/service/fileupload/$hb/content"
	check_status 200 "download"
	check "downloaded bytes equal" cmp -s "$IT_TMP/body" "$big"
	check_header ETag "\"$hb\""
	check_header Content-Type "$tb"
	check_header X-Content-Type-Options nosniff
	check_header Content-Disposition "attachment; filename=\"big.bin\"; filename*=UTF-8''big.bin"
	check_eq "the download went by a presigned URL" 1 \
	    "$(s3_ops GetObject | grep -c '"auth": "presigned"' || true)"
	req GET "/service/fileupload/$hb/content" -H 'Range: bytes=6000000-6000099'
	check_status 206 "range"
	dd if="$big" of="$IT_TMP/range.want" bs=100 skip=60000 count=1 2>/dev/null
	check "range bytes equal" cmp -s "$IT_TMP/body" "$IT_TMP/range.want"
	check_header Content-Range "bytes 6000000-6000099/$((12 << 20))"
	check_header Content-Disposition "attachment; filename=\"big.bin\"; filename*=UTF-8''big.bin"
	check_header Cache-Control
	req GET "/service/fileupload/$hb/content" -H "Range: bytes=$((12 << 20))-"
	check_error 416 "a Range past the end"
	check_no_header Content-Disposition
	check_no_header Cache-Control
	req GET "/service/fileupload/$hb/content" -H 'Range: bytes=0-9' \
	    -H 'If-Range: "not-this-file"'
	check_status 200 "range with a stale If-Range: the whole file"
	req GET "/service/fileupload/$hb/content" -H "If-None-Match: \"$hb\""
	check_status 304 "If-None-Match"
	req HEAD "/service/fileupload/$hs/content" -I
	check_status 200 "HEAD of the content"
	check_header Content-Length "$(stat -c %s "$small")"
	check_header Content-Type text/plain

	n=$(s3_ops PutObject | wc -l)
	upload "$small" again.txt
	check_error 403 "duplicate"
	check_json .file_hash "$hs"
	check_eq "the duplicate wrote nothing" "$n" "$(s3_ops PutObject | wc -l)"
	check "the object is untouched" cmp -s "$(s3_object "$hs")" "$small"

	put_json "$hs" '{"file_name":"renamed.txt"}'
	check_status 201 "rename"
	req GET "/service/fileupload/$hs/content"
	check_status 200 "download after the rename"
	check_header Content-Disposition "attachment; filename=\"renamed.txt\"; filename*=UTF-8''renamed.txt"

	req DELETE "/service/fileupload/$hb"
	check_status 201 "delete"
	check "the object is gone" test ! -e "$(s3_object "$hb")"
	req GET "/service/fileupload/$hb/content"
	check_error 404 "content after the delete"
	req GET "/service/fileupload/$hb"
	check_error 404 "metadata after the delete"
	req DELETE "/service/fileupload/$hb"
	check_error 404 "second delete"
	check_s3_clean
	check_eq "signatures the server refused" "" "$(s3_denied)"
	# The metrics count the store's requests by operation.
	req GET /service/fileupload/metrics
	local op
	for op in put multipart head delete; do
		awk -v s="fileupload_s3_requests_total{op=\"$op\",result=\"ok\"}" \
		    '$1 == s && $2 > 0 { ok = 1 } END { exit !ok }' "$IT_TMP/body" ||
		    fail "no successful $op counted in the metrics"
	done
}

# Same new bytes in parts, 8 clients at once: one 201, seven 403, one
# object, and nothing left of the seven (their uploads aborted or deleted).
sc_s3_concurrent_same_upload() {
	local f h i n201 n403
	local -a clients=()
	s3_begin
	f=$(s3_big s3_race 6)
	h=$(b2 "$f")
	for i in $(seq 1 8); do
		curl -sS --max-time "$IT_TIMEOUT" -o /dev/null -w '%{http_code}\n' \
		    -F "upfile=@$f;filename=race$i.bin" \
		    "$IT_URL/service/fileupload" >"$IT_TMP/s3race.$i.status" 2>&1 &
		clients+=("$!")
	done
	wait "${clients[@]}"
	n201=$(cat "$IT_TMP"/s3race.*.status | grep -c '^201$' || true)
	n403=$(cat "$IT_TMP"/s3race.*.status | grep -c '^403$' || true)
	check_eq "number of 201s" 1 "$n201"
	check_eq "number of 403s" 7 "$n403"
	check "the object has the uploaded bytes" cmp -s "$(s3_object "$h")" "$f"
	check_s3_clean
}

# A 64 MiB upload grows no worker by more than half of it (measured: 17 MiB,
# 20 MiB under ASan, with 5 MiB parts): the body is never held whole
# (VmHWM reset through /proc/PID/clear_refs).
sc_s3_upload_bounded_memory() {
	local f pid grow max=0 limit=$((32 << 10))
	local -A before
	s3_begin
	f=$(s3_big s3_memory 64)
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	s3_pool_start $((80 << 20))
	restart_nginx $(((80 << 20) + 65536))
	for pid in $(fu_pool_pids); do
		echo 5 >"/proc/$pid/clear_refs"
		before[$pid]=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' \
		    "/proc/$pid/status")
	done
	upload "$f" memory.bin
	check_status 201 "64 MiB upload"
	for pid in "${!before[@]}"; do
		grow=$(($(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' \
		    "/proc/$pid/status") - before[$pid]))
		[ "$grow" -le "$max" ] || max=$grow
	done
	check "peak RSS growth ${max} KiB <= $limit KiB" test "$max" -le "$limit"
	check "the object has the uploaded bytes" cmp -s \
	    "$(s3_object "$(b2 "$f")")" "$f"
}

# The store fails a part at every attempt (the first and S3_RETRIES=3
# retries): 503, no row, no object, the upload aborted.
sc_s3_part_fails() {
	local big hb
	s3_begin stub
	big=$(s3_big s3_fail 12)
	hb=$(b2 "$big")
	printf 'UploadPart 500\n%.0s' 1 2 3 4 >"$S3_ROOT/faults"
	upload "$big" fail.bin
	check_error 503 "upload whose second part fails"
	req GET "/service/fileupload/$hb"
	check_error 404 "no row"
	check "no object" test ! -e "$(s3_object "$hb")"
	check_eq "the multipart upload aborted" 1 \
	    "$(s3_ops AbortMultipartUpload | wc -l)"
	check_s3_clean
	upload "$big" fine.bin
	check_status 201 "the same upload once the store is well"
}

# A worker killed mid-upload: nothing referenced; its unfinished multipart
# upload is aborted by the sweep of the next worker start after the grace.
sc_s3_killed_worker_swept() {
	local big hb pid client
	s3_begin
	big=$(s3_big s3_killed 12)
	hb=$(b2 "$big")
	curl -sS --max-time "$IT_TIMEOUT" --limit-rate 2M -o /dev/null \
	    -F "upfile=@$big;filename=killed.bin" "$IT_URL/service/fileupload" \
	    2>/dev/null &
	client=$!
	for _ in $(seq 1 100); do
		[ -z "$(s3_ops UploadPart)" ] || break
		sleep 0.1
	done
	check "a part went up before the kill" test -n "$(s3_ops UploadPart)"
	for pid in $(fu_pool_pids); do
		fu_pid_is "$pid" "$FU_POOL_WORKER" && kill -KILL "$pid"
	done
	wait "$client" || true
	check "an unfinished multipart upload is left" test -n "$(s3_uploads "")"
	req GET "/service/fileupload/$hb"
	check_error 404 "no row for the killed upload"
	sleep 3		# past S3_SWEEP_GRACE
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	s3_pool_start
	for _ in $(seq 1 50); do
		[ -n "$(s3_uploads "")" ] || break
		sleep 0.1
	done
	check_s3_clean
	check "the sweep aborted it" test -n "$(s3_ops AbortMultipartUpload)"
	check "no object for the killed upload" test ! -e "$(s3_object "$hb")"
}

# The store down: 503 for uploads, content and health; back: all fine.
sc_s3_endpoint_down() {
	local f h kept hk
	s3_begin stub
	kept=$(new_file s3_kept)
	hk=$(b2 "$kept")
	upload "$kept" kept.txt
	check_status 201 "upload with the store up"
	s3_stub_stop
	f=$(new_file s3_down)
	h=$(b2 "$f")
	upload "$f" down.txt
	check_error 503 "upload with the store down"
	req GET "/service/fileupload/$h"
	check_error 404 "no row for the refused upload"
	req GET "/service/fileupload/$hk/content"
	check_error 503 "content with the store down"
	req GET /service/fileupload/health
	check_status 503 "health with the store down"
	check_json .storage unavailable
	s3_stub_start "$S3_PORT"
	upload "$f" up.txt
	check_status 201 "upload once the store is back"
	check "the object has the uploaded bytes" cmp -s "$(s3_object "$h")" "$f"
	req GET "/service/fileupload/$hk/content"
	check_status 200 "content once the store is back"
	req GET /service/fileupload/health
	check_status 200 "health once the store is back"
}

# s3_refused WANT VAR=VALUE...: the worker, with the settings given on top
# of good ones, refuses to start with one line naming WANT.
s3_refused() {
	local want=$1 out=$IT_TMP/s3_refused.err rc=0
	shift
	env -i PATH="$PATH" STORAGE=s3 S3_ENDPOINT=http://127.0.0.1:9 \
	    S3_BUCKET=good-bucket S3_ACCESS_KEY_ID=k S3_SECRET_ACCESS_KEY=s \
	    LOG_DIR="$IT_TMP" DATA_DIR="$IT_DATA_DIR" "$@" "$IT_WORKER" \
	    </dev/null >"$out" 2>&1 || rc=$?
	check "worker refuses ($*)" test "$rc" -ne 0
	check_eq "one line ($*)" 1 "$(wc -l <"$out")"
	grep -qF -- "$want" "$out" || fail "($*) says: $(cat "$out")"
}

sc_s3_bad_config() {
	s3_refused "STORAGE=disk is not local or s3" STORAGE=disk
	s3_refused "S3_ENDPOINT=ftp://x is not" S3_ENDPOINT=ftp://x
	s3_refused "S3_ENDPOINT=http://h:99999 is not" S3_ENDPOINT=http://h:99999
	s3_refused "S3_ENDPOINT is required" S3_ENDPOINT=
	s3_refused "S3_BUCKET=Bad_Bucket is not a bucket name" S3_BUCKET=Bad_Bucket
	s3_refused "S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY" S3_SECRET_ACCESS_KEY=
	s3_refused "S3_ADDRESSING=sideways is not" S3_ADDRESSING=sideways
	s3_refused "S3_PART_SIZE=1024 is not" S3_PART_SIZE=1024
	s3_refused "S3_PREFIX=../up is not" S3_PREFIX=../up
	s3_refused "S3_SWEEP_GRACE=0 is not" S3_SWEEP_GRACE=0
}

# s3_fsck [ARGS...]: fileupload-fsck on the bucket (it_fsck of fsck.sh).
s3_fsck() {
	it_fsck STORAGE=s3 S3_ENDPOINT="$S3_URL" S3_BUCKET="$S3_BUCKET_NAME" \
	    S3_PREFIX=it/ S3_ACCESS_KEY_ID="$S3_KEY" \
	    S3_SECRET_ACCESS_KEY="$S3_SECRET" S3_SWEEP_GRACE=2 "$@"
}

# fileupload-fsck on a bucket: a row without its object, an object without
# its row, an object of the wrong size and content, an abandoned tmp/
# object; reported, then repaired, then a clean check.  On the test
# server: orphans and temp objects count only once older than fsck's
# ages (minutes), and only there are objects made older than they are.
sc_s3_fsck() {
	local a b c d ha hb hc hd
	s3_begin stub
	a=$(new_file s3_fsck_a)
	b=$(new_file s3_fsck_b)
	c=$(new_file s3_fsck_c)
	d=$(new_file s3_fsck_d)
	ha=$(b2 "$a") hb=$(b2 "$b") hc=$(b2 "$c") hd=$(b2 "$d")
	for f in "$a" "$b" "$c"; do
		upload "$f"
		check_status 201 "upload $(basename "$f")"
	done
	s3_fsck -v
	check_fsck_rc 0 "a consistent bucket"

	echo extra >>"$(s3_object "$ha")"			# corrupt
	rm "$(s3_object "$hb")"					# missing
	s3_plant "${hd:0:2}/${hd:2:2}/$hd" "$d"			# orphan
	s3_plant tmp/0123456789abcdef0123456789abcdef "$d"	# stale temp
	s3_fsck
	check_fsck_rc 1 "report"
	check_fsck_line "missing $hb"
	check_fsck_line "orphan $hd"
	check_fsck_line_re "corrupt $ha: size [0-9]+, recorded [0-9]+"
	check_fsck_line_re "stale-temp .*0123456789abcdef0123456789abcdef.*"
	check_fsck_no_mention "$hc"

	s3_fsck -r
	check_fsck_rc 1 "repair"
	req GET "/service/fileupload/$hb"
	check_error 404 "the missing file's row is deleted"
	check "the orphan is removed" test ! -e "$(s3_object "$hd")"
	req GET "/service/fileupload/$ha"
	check_error 404 "the corrupt file's row is deleted"
	check "the corrupt object is in lost+found/" \
	    test -f "$(s3_key_file "lost+found/$ha")"
	check_s3_clean
	s3_fsck -v
	check_fsck_rc 0 "after the repairs"
	req GET "/service/fileupload/$hc/content"
	check_status 200 "the sound file still downloads"
	check "its bytes" cmp -s "$IT_TMP/body" "$c"
}

# The same on the gateway, what needs no aged object: a consistent bucket,
# a row without its object and an object of the wrong size, reported and
# repaired.
sc_s3_fsck_missing_corrupt() {
	local a b c ha hb hc
	s3_begin
	a=$(new_file s3_fsck_a)
	b=$(new_file s3_fsck_b)
	c=$(new_file s3_fsck_c)
	ha=$(b2 "$a") hb=$(b2 "$b") hc=$(b2 "$c")
	for f in "$a" "$b" "$c"; do
		upload "$f"
		check_status 201 "upload $(basename "$f")"
	done
	s3_fsck -v
	check_fsck_rc 0 "a consistent bucket"
	{ cat "$a"; echo extra; } >"$IT_TMP/s3_fsck_a.bad"
	s3_plant "${ha:0:2}/${ha:2:2}/$ha" "$IT_TMP/s3_fsck_a.bad"
	s3_unplant "${hb:0:2}/${hb:2:2}/$hb"
	s3_fsck
	check_fsck_rc 1 "report"
	check_fsck_line "missing $hb"
	check_fsck_line_re "corrupt $ha: size [0-9]+, recorded [0-9]+"
	check_fsck_no_mention "$hc"
	s3_fsck -r
	check_fsck_rc 1 "repair"
	req GET "/service/fileupload/$hb"
	check_error 404 "the missing file's row is deleted"
	req GET "/service/fileupload/$ha"
	check_error 404 "the corrupt file's row is deleted"
	check "the corrupt object is in lost+found/" \
	    test -f "$(s3_key_file "lost+found/$ha")"
	check_s3_clean
	s3_fsck -v
	check_fsck_rc 0 "after the repairs"
	req GET "/service/fileupload/$hc/content"
	check_status 200 "the sound file still downloads"
	check "its bytes" cmp -s "$IT_TMP/body" "$c"
}
