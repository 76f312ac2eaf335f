# shellcheck shell=bash
#
# tests/cluster/webhook.sh: the webhook on three hosts sharing one
# database (docs/api.md, "The webhook"): one delivery stream, not three.
# Sourced by tests/cluster/hosts.sh (its network, hosts and helpers).
#
# The hosts' pools are restarted with FILEUPLOAD_WEBHOOK_URL naming a
# receiver (tests/integration/webhook_receiver.py) on the bridge's
# address, the one the hosts reach; of the six worker processes exactly
# one session holds the delivery lock; uploads through the front are
# delivered once each; the holder's host stopped, another host's worker
# takes the lock and delivers the rest; that one's link cut (its session
# falls silent, the server drops it), the third host takes over.

CLW_PID=

# clw_wait SECONDS COMMAND...: COMMAND true within SECONDS (tried every
# 0.2 s).
clw_wait() {
	local n=$(($1 * 5))
	shift
	while [ "$n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.2
		n=$((n - 1))
	done
	return 1
}

clw_psql() {
	fu_pg_psql "$FU_VAR/postgres" fileupload -tAc "$1"
}

# The address of the session holding the delivery lock ("" when none).
clw_holder() {
	clw_psql "SELECT client_addr FROM pg_locks JOIN pg_stat_activity
	    USING (pid) WHERE locktype = 'advisory' AND granted AND
	    application_name = 'fileupload-webhook'" | sed 's|/32$||'
}

clw_holder_not() {
	local h
	h=$(clw_holder)
	[ -n "$h" ] && [ "$h" != "$1" ]
}

# Every event after CLW_FROM (into clw.feed, read through the front) was
# answered 2xx.
clw_all_in() {
	curl -sS "$IT_URL/service/fileupload/events?after=$CLW_FROM&limit=1000" |
	    jq -c '.[]' >"$IT_TMP/clw.feed"
	[ -s "$IT_TMP/clw.feed" ] && [ -z "$(comm -23 \
	    <(jq -r .id "$IT_TMP/clw.feed" | sort -u) \
	    <(jq -r 'select(.status == 200) | .id' "$IT_TMP/clw.log" | sort -u))" ]
}

# The three pools restarted with the current environment.
clw_restart_hosts() {
	local i
	for i in $(seq 1 "$CL_HOSTS"); do
		stop_host "$i"
		start_host "$i"
	done
	host_layout 0
} >>"$IT_TMP/setup.log" 2>&1

# clw_upload NAME: an upload through the front, tried again while a host
# just lost is still being routed around.
clw_upload() {
	local f
	f=$(new_file "$1")
	for _ in 1 2 3 4 5; do
		upload "$f"
		[ "$STATUS" != 201 ] || return 0
		sleep 1
	done
	fail "upload $1: $STATUS"
}

sc_webhook_one_stream() {
	local i f first second third host host2 t_cut cut_ms
	: >"$IT_TMP/clw.log"
	echo '{}' >"$IT_TMP/clw.rules"
	rm -f "$IT_TMP/clw.port"
	python3 "$CL_DIR/../integration/webhook_receiver.py" \
	    --addr "$CL_FRONT_ADDR" --port-file "$IT_TMP/clw.port" \
	    --log "$IT_TMP/clw.log" --rules "$IT_TMP/clw.rules" &
	CLW_PID=$!
	clw_wait 10 test -s "$IT_TMP/clw.port" || fail "the receiver did not start"
	clw_psql "SELECT events_publish()" >/dev/null
	clw_psql "UPDATE webhook_cursor SET delivered = (SELECT last FROM
	    events_published); DELETE FROM webhook_retries" >/dev/null
	CLW_FROM=$(clw_psql "SELECT delivered FROM webhook_cursor")
	FILEUPLOAD_WEBHOOK_URL="http://$CL_FRONT_ADDR:$(cat "$IT_TMP/clw.port")/"
	FILEUPLOAD_WEBHOOK_SECRET=cl-webhook-secret
	export FILEUPLOAD_WEBHOOK_URL FILEUPLOAD_WEBHOOK_SECRET
	clw_restart_hosts

	clw_wait 10 clw_holder_not none || true
	first=$(clw_holder)
	check "a worker holds the delivery lock ($first)" test -n "$first"
	check_eq "six deliverers (three hosts, two workers each), one holder" \
	    "6 1" "$(clw_psql "SELECT count(*) FROM pg_stat_activity WHERE
	    application_name = 'fileupload-webhook'") $(clw_psql "SELECT
	    count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")"
	for i in $(seq 1 12); do
		f=$(new_file "clw$i")
		upload "$f"
		check_status 201 "upload $i"
	done
	check "the uploads delivered within 20 s" clw_wait 20 clw_all_in
	check "all from one host's address" test "$(jq -r .peer "$IT_TMP/clw.log" |
	    sort -u | wc -l)" -eq 1

	# The holder's host goes; another takes over.
	host=${first##*.1}
	stop_host "$host" >>"$IT_TMP/setup.log" 2>&1
	host_layout 0
	check "another host's worker holds the lock within 10 s" \
	    clw_wait 10 clw_holder_not "$first"
	second=$(clw_holder)
	for i in $(seq 1 6); do
		clw_upload "clw_after$i"
	done
	check "delivered by $second within 20 s" clw_wait 20 clw_all_in

	# The new holder's link cut: the server drops its silent session
	# (webhook_db_session's keepalives) and the last host takes over.
	host2=${second##*.1}
	t_cut=$(date +%s.%N)
	cut_ms=$(cl_ms)
	CL_VICTIM=$host2 cut_link
	check "the third host's worker holds the lock within 30 s" \
	    clw_wait 30 clw_holder_not "$second"
	third=$(clw_holder)
	cl_note "webhook: the lock went to $third $(($(cl_ms) - cut_ms)) ms after $second's link was cut"
	for i in $(seq 1 6); do
		clw_upload "clw_cut$i"
	done
	check "delivered by $third within 20 s" clw_wait 20 clw_all_in
	CL_VICTIM=$host2 mend_link
	if ! python3 "$CL_DIR/../integration/webhook_check.py" \
	    "$IT_TMP/clw.log" "$IT_TMP/clw.feed" "$FILEUPLOAD_WEBHOOK_SECRET" \
	    --dupes-before "$t_cut" >"$IT_TMP/clw.check" 2>&1; then
		fail "the deliveries do not match the feed:"
		sed 's/^/      /' "$IT_TMP/clw.check"
	fi
	check_eq "three delivering addresses in turn" "$first $second $third" \
	    "$(jq -r .peer "$IT_TMP/clw.log" | uniq | paste -sd' ' -)"

	kill "$CLW_PID" 2>/dev/null || true
	wait "$CLW_PID" 2>/dev/null || true
	unset FILEUPLOAD_WEBHOOK_URL FILEUPLOAD_WEBHOOK_SECRET
	clw_restart_hosts
}
