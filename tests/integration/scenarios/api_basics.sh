# shellcheck shell=bash
#
# The banner and request ids.
# Sourced by tests/integration/run.sh (helpers in tests/integration/lib.sh).

# 1. GET /
sc_banner() {
	req GET /
	check_status 200
	check "banner names the service: $(body_preview)" grep -qi fileupload "$IT_TMP/body"
	check "banner is one line" test "$(wc -l <"$IT_TMP/body")" -le 1
	check_header X-Request-Id
}

sc_request_id_generated_and_echoed() {
	req GET /service/fileupload
	check_status 200
	check_header X-Request-Id
	req GET /service/fileupload -H 'X-Request-Id: it-req-0042'
	check_header X-Request-Id it-req-0042
	# An id that is not short and printable is replaced, not echoed.
	req GET /service/fileupload -H 'X-Request-Id: bad id with spaces'
	check_header X-Request-Id
	check "unsafe request id echoed" test "$(header X-Request-Id)" != 'bad id with spaces'
	# Errors carry it too.
	req GET /service/fileupload/nothex -H 'X-Request-Id: it-req-0043'
	check_error 400
	check_header X-Request-Id it-req-0043
}

sc_request_id_in_worker_log() {
	local id
	id=it-log-$RANDOM$RANDOM
	req GET /service/fileupload -H "X-Request-Id: $id"
	check_status 200
	sleep 0.2
	check "request id $id not found in LOG_DIR/fileupload.log" \
	    grep -q -- "$id" "$FU_VAR/logs/fileupload.log"
}
