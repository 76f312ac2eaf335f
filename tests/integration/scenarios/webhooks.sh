# shellcheck shell=bash
#
# The webhook (docs/api.md, "Events"): a receiver that fails and stalls
# some deliveries on purpose (tests/integration/webhook_receiver.py) gets
# every committed change of a mixed run at least once, exactly once after
# dedupe by Fileupload-Event-Id, none for failed uploads, each file's in
# order, signed; retries back off, and the last try marks an event
# failed (counted in the metrics); a killed delivering worker and a
# restarted PostgreSQL lose nothing.  The deliveries are checked by
# tests/integration/webhook_check.py against the feed.
# Sourced by tests/integration/run.sh (helpers in tests/integration/lib.sh;
# ev_walk comes from events.sh, the tus helpers from resumable.sh,
# random_file and wait_for from faults.sh).

WH_SECRET=it-webhook-secret
WH_PID=

# wh_rules JSON: the receiver's rules from now on (webhook_receiver.py).
wh_rules() {
	printf '%s\n' "$1" >"$IT_TMP/wh.rules.new"
	mv -f "$IT_TMP/wh.rules.new" "$IT_TMP/wh.rules"
}

# wh_start RULES: a fresh receiver with RULES, and the pool restarted to
# deliver to it from the events after the last one now (the earlier
# scenarios' are not this one's), each event tried at most 4 times, 1 s
# apart or so, each try given 1 s.
wh_start() {
	local rules=$1 i
	wh_stop
	: >"$IT_TMP/wh.log"
	rm -f "$IT_TMP/wh.port"
	wh_rules "$rules"
	python3 "$IT_DIR/webhook_receiver.py" --port-file "$IT_TMP/wh.port" \
	    --log "$IT_TMP/wh.log" --rules "$IT_TMP/wh.rules" &
	WH_PID=$!
	for i in $(seq 1 50); do
		[ ! -s "$IT_TMP/wh.port" ] || break
		sleep 0.1
	done
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	wh_from_now
	WH_START=$(fu_pg_psql "$IT_PG_DIR" "$FU_DB_NAME" -tAc \
	    "SELECT delivered FROM webhook_cursor")
	wh_pool
}

# The webhook's state set to deliver from the events after the last one
# now (the earlier scenarios' are not the caller's).
wh_from_now() {
	fu_pg_psql "$IT_PG_DIR" "$FU_DB_NAME" -qc "SELECT events_publish();
	    UPDATE webhook_cursor SET delivered = (SELECT last FROM
	    events_published); DELETE FROM webhook_retries" >/dev/null
}

# The id of the last event, published first.
wh_last_id() {
	fu_pg_psql "$IT_PG_DIR" "$FU_DB_NAME" -tAc "SELECT events_publish();
	    SELECT max(id) FROM events" | tail -n 1
}

# The pool (re)started delivering to the receiver, with the caller's
# environment besides.
wh_pool() {
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	FILEUPLOAD_WEBHOOK_URL="http://127.0.0.1:$(cat "$IT_TMP/wh.port")/hook" \
	    FILEUPLOAD_WEBHOOK_SECRET=$WH_SECRET FILEUPLOAD_WEBHOOK_TRIES=4 \
	    FILEUPLOAD_WEBHOOK_TIMEOUT=1 FILEUPLOAD_WEBHOOK_BACKOFF=1 \
	    FILEUPLOAD_WEBHOOK_BACKOFF_MAX=2 start_pool
}

# The receiver stopped, and the pool back to no webhook.
wh_stop() {
	[ -z "$WH_PID" ] || { kill "$WH_PID" 2>/dev/null || true
		wait "$WH_PID" 2>/dev/null || true; }
	WH_PID=
}

wh_end() {
	wh_stop
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	start_pool
}

# The ids answered 2xx so far, one a line, each once.
wh_delivered() {
	jq -r 'select(.status == 200) | .id' "$IT_TMP/wh.log" | sort -un
}

# wh_all_in: every event of the feed after WH_START (into wh.feed) has
# been answered 2xx, or tried 4 times (those in WH_FAILED, comma-separated).
wh_all_in() {
	local want
	ev_walk "$WH_START" "$IT_TMP/wh.feed" >/dev/null
	want=$(jq -r .id "$IT_TMP/wh.feed" | grep -vxF -e "${WH_FAILED:-x}" |
	    sort -un)
	[ -n "$want" ] && [ "$(comm -23 <(printf '%s\n' "$want") \
	    <(wh_delivered))" = "" ]
}

# wh_check CONTEXT [webhook_check.py args]
wh_check() {
	local ctx=$1
	shift
	if ! python3 "$IT_DIR/webhook_check.py" "$IT_TMP/wh.log" \
	    "$IT_TMP/wh.feed" "$WH_SECRET" "$@" >"$IT_TMP/wh.check" 2>&1; then
		fail "$ctx: the deliveries do not match the feed:"
		sed 's/^/      /' "$IT_TMP/wh.check"
	else
		printf '      %s: %s\n' "$ctx" "$(cat "$IT_TMP/wh.check")"
	fi
}

# wh_logged N: the receiver has seen N deliveries.
wh_logged() {
	[ "$(wc -l <"$IT_TMP/wh.log")" -ge "$1" ]
}

# wh_file_delivered HASH: an event of HASH's file was answered 2xx.
wh_file_delivered() {
	[ -n "$(jq -r --arg h "$1" 'select(.status == 200 and
	    (.body | fromjson | .file_hash == $h)) | .id' "$IT_TMP/wh.log")" ]
}

# wh_state_is ID STATE: the event's row in webhook_retries.
wh_state_is() {
	[ "$(fu_pg_psql "$IT_PG_DIR" "$FU_DB_NAME" -tAc "SELECT state FROM
	    webhook_retries WHERE id = $1")" = "$2" ]
}

# The PID of the worker that took the delivery lock last.
wh_holder() {
	grep -F 'webhook: this process delivers' "$FU_VAR/logs/fileupload.log" |
	    tail -n 1 | sed -n 's/^[^[]*\[\([0-9]*\)\].*/\1/p'
}

# A mixed run, with every fourth event's first try answered 500 and every
# ninth's held past the deliverer's timeout: every change once after
# dedupe, bodies and signatures right, order kept per file; the retries
# back off.
sc_webhook_mixed_run() {
	local f h g tus_f big pid i n=0 gaps
	wh_start '{"fail_every": 4, "stall_every": 9, "stall": 3}'

	f=$(new_file wh_multipart)
	h=$(b2 "$f")
	upload "$f" wh.txt
	check_status 201 "multipart upload"
	upload "$f" again.txt
	check_error 403 "duplicate upload"
	put_json "$h" '{"file_name":"wh-renamed.txt"}'
	check_status 201 "PUT"
	put_json "$h" '{"file_type":"text/x-wh"}'
	check_status 201 "PUT again"
	req DELETE "/service/fileupload/$h"
	check_status 201 "DELETE"
	for i in $(seq 1 12); do
		g=$(new_file "wh_many_$i")
		upload "$g" "many-$i.txt"
		[ "$STATUS" = 201 ] && n=$((n + 1))
	done
	check_eq "twelve more uploads" 12 "$n"
	tus_f=$(random_file wh-tus.bin 3000)
	tus_create "$(stat -c %s "$tus_f")" wh-tus.bin
	check_status 201 "tus creation"
	tus_patch "$TUS_LOC" 0 "$tus_f"
	check_status 204 "tus upload"
	big=$(random_file wh-cut.bin 1500000)
	curl -sS --limit-rate 100k -o /dev/null -F "upfile=@$big" \
	    "$IT_URL/service/fileupload" 2>/dev/null &
	pid=$!
	sleep 1
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	check "an upload cut by its killed client is not stored" \
	    test ! -e "$(stored_path "$(b2 "$big")")"

	check "every change delivered within 30 s" wait_for 30 wh_all_in
	wh_check "mixed run"
	check_eq "nothing for the failed uploads" "" "$(jq -r --arg b \
	    "$(b2 "$big")" 'select(.file_hash == $b) | .id' "$IT_TMP/wh.feed")"
	check "the mixed run wrote 17 events" test "$(wc -l <"$IT_TMP/wh.feed")" -eq 17
	# Each event whose first try got 500 was tried again 0.5 s or more
	# later (the first wait: 1 s, its upper half drawn).
	gaps=$(jq -s -r 'group_by(.id)[] | select(length > 1) |
	    select(.[0].status == 500) | ((.[1].t - .[0].t) * 1000 | floor)' \
	    "$IT_TMP/wh.log")
	check "some first tries answered 500 were retried" test -n "$gaps"
	check "the retries waited at least 0.5 s ($(printf '%s ' "$gaps" |
	    tr '\n' ' ')ms)" test -z \
	    "$(printf '%s\n' "$gaps" | awk '$1 < 450')"
	check "a stalled delivery was tried again" test -n "$(jq -r \
	    'select(.held >= 3 and .attempt == 1) | .id' "$IT_TMP/wh.log")"
	req GET /service/fileupload/metrics
	check "the metrics count retried deliveries" grep -qE \
	    '^fileupload_webhook_deliveries_total\{result="retried"\} [1-9]' \
	    "$IT_TMP/body"
	check "the metrics count delivered ones" grep -qE \
	    '^fileupload_webhook_deliveries_total\{result="delivered"\} [1-9]' \
	    "$IT_TMP/body"
	check "one worker of the host holds the lock" grep -qx \
	    'fileupload_webhook_delivering 1' "$IT_TMP/body"
	check "the lag histogram counts them" grep -qE \
	    '^fileupload_webhook_lag_seconds_count [1-9]' "$IT_TMP/body"
	wh_end
}

# A file whose events the receiver always refuses: its first event is
# tried FILEUPLOAD_WEBHOOK_TRIES times with growing waits, then marked
# failed (in the table and the metrics, still in the feed); its later
# event waits for that, and the other files' events go on meanwhile.
sc_webhook_gives_up() {
	local f h g first tries waits
	f=$(new_file wh_refused)
	h=$(b2 "$f")
	wh_start "{\"fail_hash\": \"$h\"}"
	upload "$f" refused.txt
	check_status 201 "upload"
	first=$(wh_last_id)
	g=$(new_file wh_other)
	upload "$g" other.txt
	check_status 201 "another file's upload"
	check "the other file's event delivered meanwhile" wait_for 5 \
	    wh_file_delivered "$(b2 "$g")"
	put_json "$h" '{"file_name":"refused-2.txt"}'
	check_status 201 "PUT"
	WH_FAILED=$first
	check "given up within 20 s" wait_for 20 wh_state_is "$first" failed
	tries=$(jq -r --argjson i "$first" 'select(.id == $i) | .t' \
	    "$IT_TMP/wh.log" | wc -l)
	check_eq "tried FILEUPLOAD_WEBHOOK_TRIES times" 4 "$tries"
	waits=$(jq -s -r --argjson i "$first" '[.[] | select(.id == $i) | .t] |
	    [.[1] - .[0], .[2] - .[1], .[3] - .[2]] | map(. * 100 | floor / 100) |
	    map(tostring) | join(" ")' "$IT_TMP/wh.log")
	check "the waits grew: 0.5-1 s, then 1-2 s twice ($waits s)" \
	    test -z "$(printf '%s\n' "$waits" | awk '$1 < 0.45 || $1 > 1.6 ||
	    $2 < 0.95 || $3 < 0.95')"
	wh_rules '{}'
	check "the file's next event sent after that" wait_for 15 wh_all_in
	wh_check "given up" --failed "$first"
	check_eq "the failed event still in the feed" "$h" "$(jq -r \
	    --argjson i "$first" 'select(.id == $i) | .file_hash' "$IT_TMP/wh.feed")"
	req GET /service/fileupload/metrics
	check "the metrics count the failure" grep -qx \
	    'fileupload_webhook_deliveries_total{result="failed"} 1' \
	    "$IT_TMP/body"
	WH_FAILED=
	wh_end
}

# The delivering worker killed (SIGKILL) while deliveries are in flight:
# another takes the lock and goes on; an event is delivered twice only
# where its answer came before the kill (lost with the worker).
sc_webhook_worker_killed() {
	local i g holder t_kill after
	wh_start '{"delay": 0.3}'
	for i in $(seq 1 40); do
		g=$(new_file "wh_kill_$i")
		upload "$g" "kill-$i.txt"
	done
	check "deliveries under way" wait_for 10 wh_logged 3
	holder=$(wh_holder)
	check "the delivering worker is known" test -n "$holder"
	t_kill=$(date +%s.%N)
	kill -9 "$holder"
	check "all delivered after the kill within 30 s" wait_for 30 wh_all_in
	after=$(wh_holder)
	check "another worker delivers ($holder, then $after)" \
	    test -n "$after" -a "$after" != "$holder"
	wh_check "worker killed" --dupes-before "$t_kill"
	wh_end
}

# PostgreSQL restarted during deliveries: the deliverer reconnects, takes
# the lock again and goes on from the recorded state.
sc_webhook_db_restart() {
	local i g t_back ok=0
	wh_start '{"delay": 0.2}'
	for i in $(seq 1 20); do
		g=$(new_file "wh_pg_$i")
		upload "$g" "pg-$i.txt"
	done
	check "deliveries under way" wait_for 10 wh_logged 2
	fu_pg_stop "$IT_PG_DIR" 2>>"$IT_TMP/setup.log"
	sleep 1
	FU_PG_FSYNC=off fu_pg_start "$IT_PG_DIR" "$FU_DB_PORT" \
	    2>>"$IT_TMP/setup.log"
	t_back=$(date +%s.%N)
	for i in $(seq 1 5); do
		g=$(new_file "wh_pg_after_$i")
		for _ in 1 2 3 4 5; do
			upload "$g" "pg-after-$i.txt"
			[ "$STATUS" != 201 ] || { ok=$((ok + 1)); break; }
			sleep 1
		done
	done
	check_eq "uploads after the restart" 5 "$ok"
	check "all delivered within 30 s" wait_for 30 wh_all_in
	# An answer lost when the link broke is a duplicate, never a loss.
	wh_check "database restarted" --dupes-before "$t_back"
	wh_end
}

# wh_kept ID: the event is still in the outbox.
wh_kept() {
	[ "$(fu_pg_psql "$IT_PG_DIR" "$FU_DB_NAME" -tAc "SELECT count(*) FROM
	    events WHERE id = $1")" = 1 ]
}

# Pruning (FILEUPLOAD_EVENTS_KEEP) never removes an event the webhook has
# still to deliver; once delivered, it goes at the next sweep (each
# worker sweeps at its start).
sc_webhook_prune_waits() {
	local f h id
	f=$(new_file wh_prune)
	h=$(b2 "$f")
	wh_start "{\"fail_hash\": \"$h\"}"
	upload "$f" prune.txt
	check_status 201 "upload"
	id=$(wh_last_id)
	check "its first try refused" wait_for 10 wh_state_is "$id" pending
	sleep 2
	FILEUPLOAD_EVENTS_KEEP=1 wh_pool
	check "older than FILEUPLOAD_EVENTS_KEEP, not delivered: kept" \
	    wh_kept "$id"
	wh_rules '{}'
	check "delivered once the receiver takes it" wait_for 15 wh_all_in
	FILEUPLOAD_EVENTS_KEEP=1 wh_pool
	check "delivered: pruned at the next sweep" wait_for 5 eval '! wh_kept '"$id"
	wh_end
}

# The receiver of docs/operations.md, as written there (its port aside):
# it takes the service's signed deliveries, refuses an unsigned one 401,
# and does its work once for an event delivered twice.
sc_webhook_docs_receiver() {
	local port pid f h body mac code i
	awk '/Python, with the standard library only/ { on = 1; next }
	    on && /^```python/ { inside = 1; next }
	    inside && /^```/ { exit }
	    inside' "$IT_DIR/../../docs/operations.md" >"$IT_TMP/receiver.py"
	check "the example found in docs/operations.md" \
	    grep -q 'compare_digest' "$IT_TMP/receiver.py"
	port=$(fu_free_port 19300)
	sed -i "s/(\"127.0.0.1\", 9000)/(\"127.0.0.1\", $port)/" \
	    "$IT_TMP/receiver.py"
	FILEUPLOAD_WEBHOOK_SECRET=$WH_SECRET python3 -u "$IT_TMP/receiver.py" \
	    >"$IT_TMP/receiver.out" 2>"$IT_TMP/receiver.err" &
	pid=$!
	for i in $(seq 1 50); do
		! fu_port_open 127.0.0.1 "$port" || break
		sleep 0.1
	done
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	wh_from_now
	FILEUPLOAD_WEBHOOK_URL="http://127.0.0.1:$port/" \
	    FILEUPLOAD_WEBHOOK_SECRET=$WH_SECRET start_pool

	f=$(new_file wh_docs)
	h=$(b2 "$f")
	upload "$f" docs-receiver.txt
	check_status 201 "upload"
	check "the receiver did its work for the upload" wait_for 15 \
	    grep -qx "file.created $h" "$IT_TMP/receiver.out"

	code=$(curl -sS -o /dev/null -w '%{http_code}' -H 'Fileupload-Event-Id: 1' \
	    -H 'Content-Type: application/json' -d '{}' "http://127.0.0.1:$port/")
	check_eq "an unsigned delivery" 401 "$code"
	body='{"type":"file.deleted","file_hash":"twice"}'
	mac=$(python3 -c 'import hashlib, hmac, sys
print(hmac.new(sys.argv[1].encode(), sys.argv[2].encode(),
    hashlib.sha256).hexdigest())' "$WH_SECRET" "$body")
	for i in 1 2; do
		code=$(curl -sS -o /dev/null -w '%{http_code}' \
		    -H 'Fileupload-Event-Id: 999999999' \
		    -H "Fileupload-Signature: sha256=$mac" \
		    -H 'Content-Type: application/json' -d "$body" \
		    "http://127.0.0.1:$port/")
		check_eq "a signed delivery, try $i" 204 "$code"
	done
	check_eq "work done once for an event delivered twice" 1 \
	    "$(grep -cx 'file.deleted twice' "$IT_TMP/receiver.out")"
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	wh_end
}
