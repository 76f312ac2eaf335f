# shellcheck shell=bash
#
# STORAGE=s3 when the store fails now and then, and with temporary
# credentials: the test server of storage_s3.sh, its faults file
# ("OPERATION FAULT [CODE]" a line, see tests/s3stub/s3stub.py) and its
# session token check.  The pool retries a failed request up to
# S3_RETRIES=3 times (the default) with a backoff of at most 2 s.
# Sourced by tests/integration/run.sh (helpers in storage_s3.sh and
# tests/integration/lib.sh).

# s3_faults LINE...: the store's next faults, one a line.
s3_faults() {
	printf '%s\n' "$@" >"$S3_ROOT/faults"
}

# s3_metric SERIES: its value in /metrics, 0 when it has none.
s3_metric() {
	req GET /service/fileupload/metrics
	awk -v s="$1" '$1 == s { v = $2 } END { print v + 0 }' "$IT_TMP/body"
}

# s3_statuses OP: the statuses the store answered OP with, in order.
s3_statuses() {
	s3_ops "$1" | jq -r .status | tr '\n' ' ' | sed 's/ $//'
}

# One part answered 503 SlowDown, the next one's connection dropped, a
# small file's PutObject 500 and its copy a 200 holding InternalError:
# each retried once, every upload 201 with its bytes intact.
sc_s3_retry_part() {
	local big hb small hs
	s3_begin stub
	big=$(s3_big s3_retry 12)
	hb=$(b2 "$big")
	s3_faults "UploadPart 503 SlowDown" "UploadPart drop"
	upload "$big" retry.bin
	check_status 201 "an upload whose parts failed once each"
	check_json .file_hash "$hb"
	check "the object has the uploaded bytes" cmp -s "$(s3_object "$hb")" "$big"
	check_eq "every fault taken" "" "$(cat "$S3_ROOT/faults")"
	check_eq "UploadPart answers" "503 0 200 200 200" "$(s3_statuses UploadPart)"
	# The dropped one: sent again by curl itself on a reused connection.
	check "retries counted" test \
	    "$(s3_metric 'fileupload_s3_retries_total{op="multipart"}')" -ge 1
	check_eq "none given up" 0 \
	    "$(s3_metric 'fileupload_s3_retries_exhausted_total{op="multipart"}')"
	check_s3_clean
	req GET "/service/fileupload/$hb/content"
	check_status 200 "download"
	check "downloaded bytes equal" cmp -s "$IT_TMP/body" "$big"

	small=$(new_file s3_retry_small)
	hs=$(b2 "$small")
	s3_faults "PutObject 500 InternalError" "CopyObject 200 InternalError"
	upload "$small" small.txt
	check_status 201 "a small upload whose put and copy failed once"
	check "the object has the uploaded bytes" cmp -s "$(s3_object "$hs")" "$small"
	check_eq "PutObject answers" "500 200" "$(s3_statuses PutObject)"
	check_eq "put retried" 1 "$(s3_metric 'fileupload_s3_retries_total{op="put"}')"
	check_s3_clean
}

# CompleteMultipartUpload done but its answer lost: the retry finds the
# upload gone (NoSuchUpload), the object there: 201, bytes intact.
sc_s3_retry_lost_complete() {
	local big hb
	s3_begin stub
	big=$(s3_big s3_lost 7)
	hb=$(b2 "$big")
	s3_faults "CompleteMultipartUpload lost"
	upload "$big" lost.bin
	check_status 201 "an upload whose completion's answer was lost"
	check "the object has the uploaded bytes" cmp -s "$(s3_object "$hb")" "$big"
	check_eq "CompleteMultipartUpload answers" "0 404" \
	    "$(s3_statuses CompleteMultipartUpload)"
	check_s3_clean
	check "the log says the first attempt did it" grep -q \
	    "done by an earlier attempt" "$FU_VAR/logs/fileupload.log"
}

# The store failing longer than the retries last: the first part's four
# attempts fail, and so do the abort's: 503, no row, no object; the
# multipart upload left behind goes with the sweep past S3_SWEEP_GRACE.
sc_s3_retries_exhausted() {
	local big hb
	s3_begin stub
	big=$(s3_big s3_down 12)
	hb=$(b2 "$big")
	s3_faults "UploadPart 503 SlowDown" "UploadPart 503 SlowDown" \
	    "UploadPart 503 SlowDown" "UploadPart 503 SlowDown" \
	    "AbortMultipartUpload 503" "AbortMultipartUpload 503" \
	    "AbortMultipartUpload 503" "AbortMultipartUpload 503"
	upload "$big" down.bin
	check_error 503 "an upload past the retries"
	req GET "/service/fileupload/$hb"
	check_error 404 "no row"
	check "no object" test ! -e "$(s3_object "$hb")"
	check_eq "UploadPart answers" "503 503 503 503" \
	    "$(s3_statuses UploadPart)"
	check_eq "retries counted" 6 \
	    "$(s3_metric 'fileupload_s3_retries_total{op="multipart"}')"
	check_eq "the part and the abort given up" 2 \
	    "$(s3_metric 'fileupload_s3_retries_exhausted_total{op="multipart"}')"
	check "an unfinished multipart upload is left" test -n \
	    "$(find "$S3_ROOT/uploads" -mindepth 1 -maxdepth 1)"
	sleep 3		# past S3_SWEEP_GRACE
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	s3_pool_start
	for _ in $(seq 1 50); do
		[ -n "$(find "$S3_ROOT/uploads" -mindepth 1 -maxdepth 1)" ] || break
		sleep 0.1
	done
	check_s3_clean
	check "no object after the sweep" test ! -e "$(s3_object "$hb")"
	upload "$big" up.bin
	check_status 201 "the same upload once the store is well"
}

# S3_RETRY_SECONDS bounds the retries in time: with 10 retries allowed
# but 1 s, a store down (the server stopped) answers 503 within seconds.
sc_s3_retry_time_bound() {
	local f t0 t1
	s3_begin stub
	s3_stub_stop
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	S3_RETRIES=10 S3_RETRY_SECONDS=1 s3_pool_start
	f=$(new_file s3_time_bound)
	t0=$(date +%s%N)
	upload "$f" bound.txt
	t1=$(date +%s%N)
	check_error 503 "an upload with the store down"
	check "answered within 3 s ($(((t1 - t0) / 1000000)) ms)" \
	    test $(((t1 - t0) / 1000000)) -lt 3000
	s3_stub_start "$S3_PORT"
	check_eq "retries given up on" 1 \
	    "$(s3_metric 'fileupload_s3_retries_exhausted_total{op="put"}')"
	check_eq "the 503 a storage error, unavailable" 1 \
	    "$(s3_metric 'fileupload_storage_errors_total{kind="unavailable"}')"
}

# A store that freezes mid-upload (the gateway stopped with SIGSTOP: its
# connections stay open, no byte comes): the part on its way stalls for
# S3_STALL_SECONDS, is retried within S3_RETRY_SECONDS, and the upload
# is answered 503 within a bound (the part's attempts, then the abort's);
# once the store is back, nothing is recorded and the sweep leaves
# nothing behind.
sc_s3_store_frozen() {
	local big hb pid t0 ms freezer
	s3_begin
	[ "$S3_STORE" = rgw ] || { echo "skip: needs the gateway"; return 0; }
	pid=$(fu_rgw_pid "$FU_RGW_DIR" client.rgw.a)
	[ -n "$pid" ] || { fail "no radosgw pid"; return 0; }
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	S3_STALL_SECONDS=2 S3_RETRY_SECONDS=3 s3_pool_start
	big=$(s3_big s3_frozen 12)
	hb=$(b2 "$big")
	# 12 MiB at 4 MB/s: the first 5 MiB part is on its way or stored
	# when the store freezes, 1.8 s in.
	(sleep 1.8; kill -STOP "$pid") &
	freezer=$!
	t0=$(date +%s%N)
	upload "$big" frozen.bin --limit-rate 4M
	ms=$((($(date +%s%N) - t0) / 1000000))
	wait "$freezer" || true
	kill -CONT "$pid"
	check_error 503 "an upload to a frozen store"
	# 1.8 s, the part's attempts (S3_RETRY_SECONDS, then one stall)
	# and the abort's, each at most 3 + 2 s, and the socket buffers the
	# part fills before it stalls: with margin.
	check "answered within 25 s ($ms ms)" test "$ms" -lt 25000
	check "the stall is logged" grep -qE \
	    's3 (PUT|POST|DELETE) .*(timed out|Timeout|too slow)' \
	    "$FU_VAR/logs/fileupload.log"
	req GET "/service/fileupload/$hb"
	check_error 404 "no row"
	sleep 3		# past S3_SWEEP_GRACE
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	s3_pool_start
	for _ in $(seq 1 50); do
		[ -n "$(s3_cli left it/)" ] || break
		sleep 0.2
	done
	check_s3_clean
	upload "$big" thawed.bin
	check_status 201 "the same upload once the store is back"
	check "the object has the uploaded bytes" cmp -s "$(s3_object "$hb")" "$big"
}

# Temporary credentials: the server takes only requests that sign its
# session token (x-amz-security-token, or X-Amz-Security-Token in a
# presigned URL); the pool has it from AWS_SESSION_TOKEN_FILE.  Without
# the token the store refuses the pool.
sc_s3_session_token() {
	local tok small big hs hb name
	# The longest taken, 2048 bytes of base64 (+ / = encoded in the
	# presigned URL, which must reach nginx whole).
	tok=$(head -c 1536 /dev/urandom | base64 -w 0)
	export S3STUB_SESSION_TOKEN=$tok
	printf '%s\n' "$tok" >"$IT_TMP/session-token"
	export AWS_SESSION_TOKEN_FILE=$IT_TMP/session-token
	s3_begin stub
	small=$(new_file s3_token_small)
	hs=$(b2 "$small")
	upload "$small" small.txt
	check_status 201 "small upload with a session token"
	big=$(s3_big s3_token 7)
	hb=$(b2 "$big")
	upload "$big" big.bin
	check_status 201 "multipart upload with a session token"
	check "the object has the uploaded bytes" cmp -s "$(s3_object "$hb")" "$big"
	req GET "/service/fileupload/$hb/content"
	check_status 200 "download by a presigned URL with the token"
	check "downloaded bytes equal" cmp -s "$IT_TMP/body" "$big"
	check_eq "the download went by a presigned URL" 1 \
	    "$(s3_ops GetObject | grep -c '"auth": "presigned"' || true)"
	check_eq "requests the server refused" "" \
	    "$(grep -e '"status": 403' "$S3_ROOT/requests.log" || true)"
	# A name near the longest (254 bytes, each byte encoded thrice in
	# filename*): the worker's headers beside the longest target.
	name=$(printf '\xc3\xa9%.0s' $(seq 1 126)).b
	small=$(new_file s3_token_name)
	hs=$(b2 "$small")
	upload "$small" "$name"
	check_status 201 "upload named with 254 bytes"
	req GET "/service/fileupload/$hs/content"
	check_status 200 "download of the longest name with the longest token"
	check "downloaded bytes equal" cmp -s "$IT_TMP/body" "$small"
	check "the name in Content-Disposition" grep -qi \
	    "content-disposition: .*filename\*=UTF-8''\(%C3%A9\)\{126\}\.b" \
	    "$IT_TMP/headers"

	fu_pool_stop 2>>"$IT_TMP/setup.log"
	unset AWS_SESSION_TOKEN_FILE
	s3_pool_start
	upload "$(new_file s3_token_none)" none.txt
	check "no token: the upload fails ($STATUS)" test "$STATUS" -ge 500
	check "no token: the server refused it" grep -q '"status": 403' \
	    "$S3_ROOT/requests.log"
	req GET "/service/fileupload/$hs/content"
	check "no token: no download ($STATUS)" test "$STATUS" -ge 500
}

# The secrets from files: the worker refuses a secret given twice or an
# unreadable file, with one line naming it.
sc_s3_secret_files_refused() {
	printf 'k\n' >"$IT_TMP/secret"
	s3_refused "S3_SECRET_ACCESS_KEY and S3_SECRET_ACCESS_KEY_FILE are both set" \
	    S3_SECRET_ACCESS_KEY_FILE="$IT_TMP/secret"
	s3_refused "AWS_SESSION_TOKEN_FILE=$IT_TMP/none cannot be read" \
	    AWS_SESSION_TOKEN_FILE="$IT_TMP/none"
	s3_refused "DB_PASSWORD and DB_PASSWORD_FILE are both set" \
	    DB_PASSWORD=x DB_PASSWORD_FILE="$IT_TMP/secret"
	s3_refused "MAX_UPLOAD_SIZE=5497558138881 is over" \
	    MAX_UPLOAD_SIZE=5497558138881 S3_PART_SIZE=5368709120
	s3_refused "S3_RETRIES=11 is not" S3_RETRIES=11
}
