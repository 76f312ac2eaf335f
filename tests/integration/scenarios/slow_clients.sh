# shellcheck shell=bash
#
# Slow clients: a rejected request is answered as soon as its headers are
# read, whatever its body; an upload that stalls or trickles below the
# minimum rate is cut with 408 and leaves nothing; an honest slow upload
# completes.
# Sourced by tests/integration/run.sh (helpers in tests/integration/lib.sh).

# The bound on an early answer, from the end of the headers (ms).
SLOW_EARLY_MS=100

# check_early_answer STATUS CONTEXT: the last slow_request got STATUS as a
# JSON error within SLOW_EARLY_MS.
check_early_answer() {
	local out=${SLOW_OUT:-$IT_TMP/slow}
	[ "$SLOW_STATUS" = "$1" ] ||
	    fail "$2: expected $1, got $SLOW_STATUS after ${SLOW_MS} ms"
	[ "$SLOW_MS" -lt "$SLOW_EARLY_MS" ] ||
	    fail "$2: answered after ${SLOW_MS} ms (bound ${SLOW_EARLY_MS} ms)"
	jq -e --argjson s "$1" '.status == $s and (.error | length > 0)' \
	    "$out.body" >/dev/null 2>&1 ||
	    fail "$2: body is not a JSON $1 error: $(head -c 200 "$out.body")"
}

# With a token set, an upload without (or with a wrong) token and a slow
# body is answered 401 at once; so are an unknown route and a method the
# path does not take.
sc_slow_body_rejected_at_once() {
	local errlog=$FU_VAR/logs/nginx-error.log from
	from=$(($(log_lines "$errlog") + 1))
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	FILEUPLOAD_TOKEN=it-slow-secret start_pool
	slow_request POST /service/fileupload 3
	check_early_answer 401 "no token"
	grep -qi '^WWW-Authenticate: Bearer' "$IT_TMP/slow.headers" ||
	    fail "no WWW-Authenticate: $(cat "$IT_TMP/slow.headers")"
	grep -qi '^X-Request-Id:' "$IT_TMP/slow.headers" || fail "no X-Request-Id"
	slow_request POST /service/fileupload 3 'Authorization: Bearer wrong'
	check_early_answer 401 "a wrong token"
	slow_request PUT "/service/fileupload/$(printf '%064d' 5)" 3
	check_early_answer 401 "PUT without a token"
	slow_request PATCH /service/fileupload 3
	check_early_answer 405 "a method the collection does not take"
	grep -qi '^Allow: ' "$IT_TMP/slow.headers" || fail "405 without Allow"
	slow_request POST /service/fileupload/health 3
	check_early_answer 405 "POST to health"
	slow_request POST "/service/fileupload/$(printf '%064d' 5)/nothing" 3
	check_early_answer 404 "an unknown route"
	! tail -n +"$from" "$errlog" | grep -E '\[(error|crit|alert)\]|upstream' ||
	    fail "nginx logged upstream errors (above)"
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	start_pool
}

# Six rejected uploads trickling at once, three per worker of the runner's
# two: the health check still answers at once.
sc_slow_rejected_uploads_hold_no_worker() {
	local i ms st
	local -a kids=()
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	FILEUPLOAD_TOKEN=it-slow-secret start_pool
	for i in 1 2 3 4 5 6; do
		(
			SLOW_OUT=$IT_TMP/slowpar.$i
			slow_request POST /service/fileupload 4
			printf '%s %s\n' "$SLOW_STATUS" "$SLOW_MS" >"$SLOW_OUT.result"
		) &
		kids+=("$!")
	done
	sleep 0.5
	ms=$(curl -sS -o /dev/null -w '%{time_total}' --max-time 10 \
	    "$IT_URL/service/fileupload/health")
	ms=$(awk -v t="$ms" 'BEGIN { printf "%d", t * 1000 }')
	[ "$ms" -lt 500 ] ||
	    fail "health took $ms ms while six rejected uploads trickled"
	wait "${kids[@]}"
	for i in 1 2 3 4 5 6; do
		read -r st ms <"$IT_TMP/slowpar.$i.result"
		if [ "$st" != 401 ] || [ "$ms" -ge "$SLOW_EARLY_MS" ]; then
			fail "rejected upload $i: $st after $ms ms"
		fi
	done
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	start_pool
}

# Slow uploads never take the threads that reads need: with
# FILEUPLOAD_THREADS=8 (4 upload slots per worker, 8 in all), twelve honest
# slow uploads at once: the health check and a GET answer at once, the
# uploads past the slots get 503 with Retry-After at once, and nothing is
# left behind once they end.  No client share, so that the one address
# of the test fills every slot (client_share.sh tests the share).
sc_slow_uploads_leave_reads_their_threads() {
	local i ms st n503=0 hash f path
	local -a kids=()
	f=$(new_file reads)
	upload "$f"
	check_status 201 "upload before the slow ones"
	hash=$(b2 "$f")
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	FILEUPLOAD_THREADS=8 FILEUPLOAD_SLOTS_PER_CLIENT=0 start_pool
	for i in $(seq 1 12); do
		(
			SLOW_OUT=$IT_TMP/slowcap.$i SLOW_NAME=slowcap.$i \
			    slow_request POST /service/fileupload 3
			printf '%s %s\n' "$SLOW_STATUS" "$SLOW_MS" \
			    >"$IT_TMP/slowcap.$i.result"
		) &
		kids+=("$!")
	done
	sleep 1
	for path in /service/fileupload/health "/service/fileupload/$hash"; do
		ms=$(curl -sS -o /dev/null -w '%{http_code} %{time_total}' \
		    --max-time 10 "$IT_URL$path")
		st=${ms% *}
		ms=$(awk -v t="${ms#* }" 'BEGIN { printf "%d", t * 1000 }')
		if [ "$st" != 200 ] || [ "$ms" -ge 500 ]; then
			fail "GET $path: $st after $ms ms while slow uploads held the slots"
		fi
	done
	wait "${kids[@]}"
	for i in $(seq 1 12); do
		read -r st ms <"$IT_TMP/slowcap.$i.result"
		[ "$st" = 503 ] || continue
		n503=$((n503 + 1))
		SLOW_STATUS=$st SLOW_MS=$ms SLOW_OUT=$IT_TMP/slowcap.$i \
		    check_early_answer 503 "slow upload $i past the slots"
		grep -qi '^retry-after: [0-9]' "$IT_TMP/slowcap.$i.headers" ||
		    fail "slow upload $i: 503 without Retry-After"
	done
	[ "$n503" -ge 4 ] ||
	    fail "only $n503 of 12 slow uploads were refused with 8 upload slots"
	check "slow uploads: temp files removed" wait_for 10 no_tmp_files
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	start_pool
}

# with_body_rules MIN_RATE WINDOW STALL: the pool and nginx restarted with
# these UPLOAD_* settings (small ones, to keep the scenarios short).
with_body_rules() {
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	export UPLOAD_MIN_RATE=$1 UPLOAD_RATE_WINDOW=$2 UPLOAD_TIMEOUT=$3
	start_pool
	restart_nginx
}

# The pool and nginx back to the defaults.
default_body_rules() {
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	unset UPLOAD_MIN_RATE UPLOAD_RATE_WINDOW UPLOAD_TIMEOUT
	start_pool
	restart_nginx
}

# check_cut NAME CONTEXT: the last slow_request was answered with a JSON
# 408 and nothing of it was kept: no temp file, no row named NAME.
check_cut() {
	[ "$SLOW_STATUS" = 408 ] ||
	    fail "$2: expected 408, got $SLOW_STATUS after $SLOW_MS ms"
	jq -e '.status == 408 and (.error | length > 0)' "$IT_TMP/slow.body" \
	    >/dev/null 2>&1 || fail "$2: not a JSON 408: $(head -c 200 "$IT_TMP/slow.body")"
	check "$2: temp file removed" wait_for 2 no_tmp_files
	req GET /service/fileupload
	check_status 200 "list after $2"
	check_eq "$2: rows named $1" 0 \
	    "$(jf "map(select(.file_name == \"$1\")) | length")"
}

# An upload that stops sending is cut after UPLOAD_TIMEOUT (2 s here)
# with 408, before nginx's client_body_timeout (7 s), and leaves nothing.
sc_upload_stalled_408() {
	local name=stalled-$RANDOM$RANDOM.bin
	with_body_rules 0 30 2
	grep -q 'client_body_timeout 7s;' "$FU_CONF_DIR/fileupload-locations.conf" ||
	    fail "nginx's client_body_timeout does not follow UPLOAD_TIMEOUT"
	SLOW_NAME=$name SLOW_EVERY=30 slow_request POST /service/fileupload 8
	check_cut "$name" "a stalled upload"
	if [ "$SLOW_MS" -lt 1900 ] || [ "$SLOW_MS" -ge 3500 ]; then
		fail "a stalled upload: cut after $SLOW_MS ms (stall timeout 2 s)"
	fi
	default_body_rules
}

# An upload that never stalls but sends 5 bytes/s, under an UPLOAD_MIN_RATE
# of 1000 over a 2 s window, is cut with 408 at the window's end.
sc_upload_too_slow_408() {
	local name=trickle-$RANDOM$RANDOM.bin
	with_body_rules 1000 2 5
	SLOW_NAME=$name slow_request POST /service/fileupload 8
	check_cut "$name" "a trickling upload"
	if [ "$SLOW_MS" -lt 1900 ] || [ "$SLOW_MS" -ge 4000 ]; then
		fail "a trickling upload: cut after $SLOW_MS ms (window 2 s)"
	fi
	default_body_rules
}

# An upload slow but above the minimum (4 KB/s against 1000 B/s, over
# three windows of 1 s) completes.
sc_upload_slow_honest_201() {
	local f h
	with_body_rules 1000 1 3
	f=$(new_file honest "$(head -c 9000 /dev/zero | tr '\0' h)")
	h=$(b2 "$f")
	upload "$f" honest.txt --limit-rate 4k
	check_status 201 "a 4 KB/s upload"
	check_stored "$h" "$f"
	default_body_rules
}
