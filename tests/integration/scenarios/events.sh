# shellcheck shell=bash
#
# The events feed (docs/api.md, "Events"): every path that changes a file
# writes its event, and nothing else does; paging, long polling, the
# parameters, the read token, pruning (410), and a reader that polls
# throughout concurrent uploads (with transactions committing out of id
# order) sees every change once, in id order, without a gap.
# Sourced by tests/integration/run.sh (helpers in tests/integration/lib.sh;
# the tus helpers come from resumable.sh, random_file from faults.sh).

EV=/service/fileupload/events

# ev_walk AFTER OUT: every event after AFTER, paged, one compact JSON line
# each, into OUT; prints the last id seen (AFTER when none).
ev_walk() {
	local after=$1 out=$2 n
	: >"$out"
	while :; do
		req GET "$EV?after=$after&limit=1000"
		[ "$STATUS" = 200 ] || { fail "walk after $after: $STATUS"; break; }
		n=$(jf length)
		[ "$n" -gt 0 ] || break
		jq -c '.[]' "$IT_TMP/body" >>"$out"
		after=$(jf '.[-1].id')
	done
	printf '%s\n' "$after"
}

# The last published id now.
ev_last() {
	ev_walk 0 "$IT_TMP/ev.all"
}

# ev_types OUT HASH: the types of HASH's events in OUT, space-separated.
ev_types() {
	jq -r --arg h "$2" 'select(.file_hash == $h) | .type' "$1" |
	    paste -sd' ' -
}

# ev_file OUT HASH N: the file object of HASH's Nth event (from 1).
ev_file() {
	jq -c --arg h "$2" 'select(.file_hash == $h) | .file' "$1" |
	    sed -n "${3}p"
}

# Each path that changes a file writes one event whose file is the
# metadata object the API answered; a duplicate, a refused or a cut upload
# writes none.
sc_events_every_path() {
	local start f h meta put big tus_f tus_h a b la lb joined jh loc_a loc_b
	local out=$IT_TMP/ev.path
	start=$(ev_last)

	f=$(new_file ev_multipart)
	h=$(b2 "$f")
	upload "$f" ev.txt
	check_status 201 "multipart upload"
	meta=$(jq -c . "$IT_TMP/body")
	upload "$f" again.txt
	check_error 403 "duplicate upload"
	put_json "$h" '{"file_name":"ev-renamed.txt"}'
	check_status 201 "PUT"
	put=$(jq -c . "$IT_TMP/body")
	put_json "$h" '{"file_name":"a/b"}'
	check_error 403 "a refused PUT"
	req DELETE "/service/fileupload/$h"
	check_status 201 "DELETE"
	req DELETE "/service/fileupload/$h"
	check_error 404 "DELETE again"

	big=$(random_file ev-big.bin $((IT_MAX + 10)))
	upload "$big" big.bin
	check_error 413 "an upload over the limit"
	printf -- '--b\r\nContent-Disposition: form-data; name="upfile"; filename="x"\r\n\r\nno end' \
	    >"$IT_TMP/files/ev-cut"
	post_raw 'multipart/form-data; boundary=b' "$IT_TMP/files/ev-cut"
	check_error 400 "a multipart body without its end"

	tus_f=$(random_file ev-tus.bin 3000)
	tus_h=$(b2 "$tus_f")
	tus_create 3004 ev-tus.bin
	check_status 201 "tus creation"
	tus_patch "$TUS_LOC" 0 "$(part "$tus_f" 0 1000)"
	check_status 204 "tus first chunk"
	tus_patch "$TUS_LOC" 1000 "$(part "$tus_f" 1000 2004)"
	check_status 204 "tus last chunk"
	tus_create 3004 ev-tus-dup.bin "${TUS_CT[@]}" --data-binary "@$tus_f"
	check_error 403 "tus duplicate"

	a=$(random_file ev-concat-a.bin 1500)
	b=$(random_file ev-concat-b.bin 700)
	la=$(stat -c %s "$a")
	lb=$(stat -c %s "$b")
	joined=$IT_TMP/files/ev-concat-ab.bin
	cat "$a" "$b" >"$joined"
	jh=$(b2 "$joined")
	tus_create "$la" a.bin -H "Upload-Concat: partial" "${TUS_CT[@]}" \
	    --data-binary "@$a"
	loc_a=$TUS_LOC
	tus_create "$lb" b.bin -H "Upload-Concat: partial" "${TUS_CT[@]}" \
	    --data-binary "@$b"
	loc_b=$TUS_LOC
	req POST "$TUS" "${TUS_V[@]}" -H "Upload-Concat: final;$loc_a $loc_b" \
	    -H "Upload-Metadata: filename $(printf ev-joined.bin | base64 -w0)"
	check_status 201 "tus concatenation"
	req DELETE "$loc_a" "${TUS_V[@]}"
	req DELETE "$loc_b" "${TUS_V[@]}"

	ev_walk "$start" "$out" >/dev/null
	check_eq "multipart, PUT, DELETE: three events" \
	    "file.created file.updated file.deleted" "$(ev_types "$out" "$h")"
	check_eq "the created event's file is the POST's answer" "$meta" \
	    "$(ev_file "$out" "$h" 1)"
	check_eq "the updated event's file is the PUT's answer" "$put" \
	    "$(ev_file "$out" "$h" 2)"
	check_eq "a delete has no file" null "$(ev_file "$out" "$h" 3)"
	req GET "/service/fileupload/$tus_h"
	check_eq "tus completion: one event, the file as GET shows it" \
	    "file.created $(jq -c . "$IT_TMP/body")" \
	    "$(ev_types "$out" "$tus_h") $(ev_file "$out" "$tus_h" 1)"
	check_eq "concatenation: one event" file.created \
	    "$(ev_types "$out" "$jh")"
	check_eq "nothing else" 5 "$(wc -l <"$out")"
	check "times are RFC 3339 UTC" test -z "$(jq -r \
	    'select(.at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$") | not)' \
	    "$out")"
	check "the ids follow each other" test -z "$(jq -s -r --argjson s "$start" \
	    'to_entries[] | select(.value.id != $s + 1 + .key) | .value.id' "$out")"
}

# Paging: any page size walks the same events; bad parameters are 400.
sc_events_paging_and_parameters() {
	local f i ids_all ids_paged after=0 n q
	for i in 1 2 3; do
		f=$(new_file "ev_page_$i")
		upload "$f"
		check_status 201
	done
	req GET "$EV"
	check_status 200 "no parameters"
	check_content_type_json
	check "at most 100 by default" test "$(jf length)" -le 100
	ev_walk 0 "$IT_TMP/ev.page" >/dev/null
	ids_all=$(jq -r .id "$IT_TMP/ev.page" | paste -sd' ' -)
	ids_paged=
	while :; do
		req GET "$EV?limit=2&after=$after"
		[ "$STATUS" = 200 ] || { fail "page after $after: $STATUS"; break; }
		n=$(jf length)
		check "a page holds at most limit" test "$n" -le 2
		[ "$n" -gt 0 ] || break
		ids_paged="$ids_paged${ids_paged:+ }$(jf '.[].id' | paste -sd' ' -)"
		after=$(jf '.[-1].id')
	done
	check_eq "pages of 2 walk the same events" "$ids_all" "$ids_paged"
	req GET "$EV?after=$after&wait=0"
	check_eq "past the last: []" "200 []" "$STATUS $(jq -c . "$IT_TMP/body")"
	req HEAD "$EV" -I
	check_status 200 "HEAD"
	for q in after=-1 after=x after= after=1.0 after=9223372036854775808 \
	    limit=0 limit=1001 limit=x wait=61 wait=-1 wait=1.5 \
	    'after=1&after=1' 'limit=5&limit=5' 'wait=1&wait=1' foo=1 \
	    'after' '&after=1'; do
		req GET "$EV?$q"
		check_error 400 "?$q"
	done
	req POST "$EV"
	check_status 405 "POST"
	req GET "$EV/x"
	check_status 404 "a path below"
	req GET /service/fileupload/metrics
	check "the metrics count the feed under its route's label" grep -q \
	    'fileupload_requests_total{route="events",class="4xx"}' "$IT_TMP/body"
}

# wait: held until the first event commits, answered within a second of
# it; with nothing happening, held the whole time, then [].
sc_events_wait() {
	local last f t0 t1 t_up out=$IT_TMP/ev.wait pid
	last=$(ev_last)
	f=$(new_file ev_wait)
	t0=$(date +%s%N)
	curl -sS --max-time 30 -o "$out" "$IT_URL$EV?after=$last&wait=20" &
	pid=$!
	sleep 1.5
	check "still waiting before the upload" kill -0 "$pid"
	upload "$f" wait.txt
	check_status 201
	t_up=$(date +%s%N)
	wait "$pid" || fail "the waiting request failed"
	t1=$(date +%s%N)
	check_eq "it returns the upload's event" "file.created $(b2 "$f")" \
	    "$(jq -r '.[0].type + " " + .[0].file_hash' "$out" 2>/dev/null)"
	check "answered within 1 s of the upload ($(((t1 - t_up) / 1000000)) ms)" \
	    test $(((t1 - t_up) / 1000000)) -lt 1000
	check "it had waited ($(((t1 - t0) / 1000000)) ms)" \
	    test $(((t1 - t0) / 1000000)) -ge 1500
	last=$(ev_last)
	t0=$(date +%s%N)
	req GET "$EV?after=$last&wait=3"
	t1=$(date +%s%N)
	check_eq "nothing happened: 200 []" "200 []" \
	    "$STATUS $(jq -c . "$IT_TMP/body" 2>/dev/null)"
	check "held the full 3 s ($(((t1 - t0) / 1000000)) ms)" \
	    test $(((t1 - t0) / 1000000)) -ge 2900
	check "and not much longer" test $(((t1 - t0) / 1000000)) -lt 4500
}

# FILEUPLOAD_EVENTS_WAITERS=1 with two workers: of four long polls at
# once, at most two wait, and an upload is served meanwhile.
sc_events_waiters_capped() {
	local last i quick=0 f pids=() t0 t1
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	FILEUPLOAD_EVENTS_WAITERS=1 start_pool
	last=$(ev_last)
	t0=$(date +%s%N)
	for i in 1 2 3 4; do
		( s=$(date +%s%N)
		  curl -sS --max-time 30 -o /dev/null "$IT_URL$EV?after=$last&wait=4"
		  printf '%s\n' $((($(date +%s%N) - s) / 1000000)) \
		      >"$IT_TMP/ev.cap.$i" ) &
		pids+=($!)
	done
	sleep 1
	f=$(new_file ev_cap)
	upload "$f"
	check_status 201 "an upload while long polls wait"
	wait "${pids[@]}" || true
	t1=$(date +%s%N)
	for i in 1 2 3 4; do
		[ "$(cat "$IT_TMP/ev.cap.$i")" -ge 900 ] || quick=$((quick + 1))
	done
	check "at least two of four answered at once ($quick)" test "$quick" -ge 2
	check "the run took under 6 s" test $(((t1 - t0) / 1000000)) -lt 6000
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	start_pool
}

# SIGTERM: a worker answers its long polls at once and exits.
sc_events_wait_at_sigterm() {
	local last t0 t1 pid w
	last=$(ev_last)
	curl -sS --max-time 40 -o "$IT_TMP/ev.stop.body" -w '%{http_code}' \
	    "$IT_URL$EV?after=$last&wait=30" >"$IT_TMP/ev.stop.status" &
	pid=$!
	sleep 1
	t0=$(date +%s%N)
	for w in $(fu_pool_pids); do
		kill -TERM "$w"
	done
	wait "$pid" || true
	t1=$(date +%s%N)
	check_eq "a long poll at the stop: 200 []" "200 []" \
	    "$(cat "$IT_TMP/ev.stop.status") $(jq -c . "$IT_TMP/ev.stop.body" 2>/dev/null)"
	check "answered within 5 s of SIGTERM ($(((t1 - t0) / 1000000)) ms)" \
	    test $(((t1 - t0) / 1000000)) -lt 5000
	check "multiwatch keeps the pool full" wait_for 10 pool_has 2
}

# The pool stopped (fu_pool_stop) while a long poll waits: the poll is
# answered, 200 [], not cut (502/503), and the stop is quick.
sc_events_wait_at_pool_stop() {
	local last t0 t1 pid
	last=$(ev_last)
	curl -sS --max-time 40 -o "$IT_TMP/ev.pstop.body" -w '%{http_code}' \
	    "$IT_URL$EV?after=$last&wait=30" >"$IT_TMP/ev.pstop.status" &
	pid=$!
	sleep 1
	t0=$(date +%s%N)
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	t1=$(date +%s%N)
	wait "$pid" || true
	check_eq "a long poll at the pool's stop: 200 []" "200 []" \
	    "$(cat "$IT_TMP/ev.pstop.status") $(jq -c . "$IT_TMP/ev.pstop.body" 2>/dev/null)"
	check "the pool stopped within 5 s ($(((t1 - t0) / 1000000)) ms)" \
	    test $(((t1 - t0) / 1000000)) -lt 5000
	start_pool
}

sc_events_read_token() {
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	FILEUPLOAD_READ_TOKEN=it-ev-read start_pool
	req GET "$EV"
	check_error 401 "no token"
	check_header WWW-Authenticate
	req GET "$EV" -H 'Authorization: Bearer wrong'
	check_error 401 "a wrong token"
	req GET "$EV" -H 'Authorization: Bearer it-ev-read'
	check_status 200 "the read token"
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	start_pool
}

# FILEUPLOAD_EVENTS_KEEP=1: the start's sweep prunes what is older; a
# reader behind the oldest kept event gets 410, one at it carries on.
sc_events_pruned_410() {
	local f last
	f=$(new_file ev_prune_1)
	upload "$f"
	check_status 201
	f=$(new_file ev_prune_2)
	upload "$f"
	check_status 201
	last=$(ev_last)
	sleep 2
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	FILEUPLOAD_EVENTS_KEEP=1 start_pool
	check_eq "every event pruned" 0 "$(fu_pg_psql "$IT_PG_DIR" \
	    "$FU_DB_NAME" -tAc 'SELECT count(*) FROM events')"
	req GET "$EV?after=$((last - 1))"
	check_error 410 "a reader that missed the last event"
	req GET "$EV?after=1"
	check_error 410 "a reader far behind"
	req GET "$EV?after=$last"
	check_eq "a reader that saw the last one: []" "200 []" \
	    "$STATUS $(jq -c . "$IT_TMP/body" 2>/dev/null)"
	req GET "$EV?after=0"
	check_status 200 "after=0 starts at the oldest kept"
	f=$(new_file ev_prune_3)
	upload "$f"
	req GET "$EV?after=$last"
	check_eq "the next event has the next id" "$((last + 1)) $(b2 "$f")" \
	    "$(jf '(.[0].id|tostring) + " " + .[0].file_hash')"
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	start_pool
}

# ev_reader AFTER OUT STOP: polls after the last id it saw (pages of 7,
# wait=1), one event a line into OUT, until STOP exists and a poll after
# it comes back empty.
ev_reader() {
	local after=$1 out=$2 stop=$3 page=$IT_TMP/ev.reader.page n stopping
	while :; do
		stopping=0
		[ ! -e "$stop" ] || stopping=1
		curl -sS --max-time 30 -o "$page" \
		    "$IT_URL$EV?after=$after&limit=7&wait=1" || {
			echo "reader: curl failed" >>"$out.err"; return 1; }
		n=$(jq length "$page" 2>/dev/null) || {
			echo "reader: $(head -c 200 "$page")" >>"$out.err"; return 1; }
		if [ "$n" -gt 0 ]; then
			jq -c '.[]' "$page" >>"$out"
			after=$(jq '.[-1].id' "$page")
		elif [ "$stopping" = 1 ]; then
			return 0
		fi
	done
}

# Four clients upload (and some delete) at once while a reader polls;
# transactions made in SQL commit seconds after later ones took their
# ids.  At the end the reader saw every change exactly once, in id order,
# no gap, and only committed ones.
sc_events_no_gap_concurrent() {
	local start c i f pids=() stop=$IT_TMP/ev.stop out=$IT_TMP/ev.reader
	local reader sqlpids=() hs
	rm -f "$stop" "$out" "$out.err" "$IT_TMP"/ev.client.*
	start=$(ev_last)
	ev_reader "$start" "$out" "$stop" &
	reader=$!
	# Transactions that take their xid first and commit last: three
	# write their row late (its event comes after the uploads' in
	# insertion order, before them in xid order), one writes it at once.
	for i in 1 2 3 4; do
		hs=$(printf 'it-ev-slow-%s-%s' "$i" "$RANDOM$RANDOM" |
		    sha256sum | cut -c1-64)
		printf '%s\n' "$hs" >>"$IT_TMP/ev.client.sql"
		ins="INSERT INTO files (file_hash, file_name, file_type,
		    file_size) VALUES ('$hs', 'slow-$i', 'text/plain', 0)"
		if [ "$i" -lt 4 ]; then
			fu_pg_psql "$IT_PG_DIR" "$FU_DB_NAME" -q -c BEGIN \
			    -c 'SELECT pg_current_xact_id()' \
			    -c "SELECT pg_sleep($i + 1)" -c "$ins" -c COMMIT
		else
			fu_pg_psql "$IT_PG_DIR" "$FU_DB_NAME" -q -c BEGIN \
			    -c "$ins" -c 'SELECT pg_sleep(2)' -c COMMIT
		fi >/dev/null &
		sqlpids+=($!)
	done
	# One that rolls back: no event.
	fu_pg_psql "$IT_PG_DIR" "$FU_DB_NAME" -q -c BEGIN \
	    -c "INSERT INTO files (file_hash, file_name, file_type, file_size)
		VALUES (repeat('e', 64), 'gone', 'text/plain', 0)" \
	    -c 'SELECT pg_sleep(1)' -c ROLLBACK >/dev/null &
	sqlpids+=($!)
	for c in 1 2 3 4; do
		(
			for i in $(seq 1 15); do
				f=$(new_file "ev_c${c}_$i")
				s=$(curl -sS -o /dev/null -w '%{http_code}' \
				    -F "upfile=@$f" "$IT_URL/service/fileupload")
				printf '%s %s\n' "$s" "$(b2 "$f")" \
				    >>"$IT_TMP/ev.client.$c"
				if [ $((i % 5)) -eq 0 ]; then
					s=$(curl -sS -o /dev/null -w '%{http_code}' \
					    -X DELETE \
					    "$IT_URL/service/fileupload/$(b2 "$f")")
					printf 'D%s %s\n' "$s" "$(b2 "$f")" \
					    >>"$IT_TMP/ev.client.$c"
				fi
			done
		) &
		pids+=($!)
	done
	wait "${pids[@]}" "${sqlpids[@]}" || true
	touch "$stop"
	wait "$reader" || fail "the reader failed: $(cat "$out.err" 2>/dev/null)"
	# What committed: the 201s, the deletes answered 201, the SQL rows.
	{
		cat "$IT_TMP"/ev.client.[0-9] | sed -n 's/^201 /file.created /p'
		cat "$IT_TMP"/ev.client.[0-9] | sed -n 's/^D201 /file.deleted /p'
		sed 's/^/file.created /' "$IT_TMP/ev.client.sql"
	} | sort >"$IT_TMP/ev.want"
	jq -r '.type + " " + .file_hash' "$out" | sort >"$IT_TMP/ev.got"
	check_eq "72 uploads and deletes, 4 SQL rows" 76 \
	    "$(wc -l <"$IT_TMP/ev.want")"
	check "the reader saw every committed change, once, and nothing else" \
	    diff "$IT_TMP/ev.want" "$IT_TMP/ev.got"
	check "in id order, no gap" test -z "$(jq -s -r --argjson s "$start" \
	    'to_entries[] | select(.value.id != $s + 1 + .key) | .value.id' \
	    "$out")"
	ev_walk "$start" "$IT_TMP/ev.after" >/dev/null
	check "a walk afterwards reads the same" diff "$out" "$IT_TMP/ev.after"
	# The case made certain: events written earlier were given later ids
	# (a reader of insertion order would have passed them by).
	check_eq "published in commit order, not insertion order" t \
	    "$(fu_pg_psql "$IT_PG_DIR" "$FU_DB_NAME" -tAc "SELECT EXISTS
		(SELECT 1 FROM events a JOIN events b ON a.seq < b.seq
		AND a.id > b.id WHERE b.id > $start)")"
	# The SQL rows have no bytes: they go (fsck would find them missing).
	fu_pg_psql "$IT_PG_DIR" "$FU_DB_NAME" -qc "DELETE FROM files
	    WHERE file_hash IN ($(sed "s/.*/'&'/" "$IT_TMP/ev.client.sql" |
	    paste -sd, -))"
}
