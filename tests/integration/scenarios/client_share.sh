# shellcheck shell=bash
#
# No single client holds the upload slots: a flood of slow uploads from
# one address (127.0.0.1) takes only its share of the host's upload slots
# (FILEUPLOAD_SLOTS_PER_CLIENT, default a quarter), counted over both
# workers of the pool, and is answered 503 with Retry-After past it, while
# an honest client on another address (127.0.0.2) uploads as fast as it
# does alone, or at least half as fast.
# Sourced by tests/integration/run.sh (helpers in tests/integration/lib.sh;
# scrape and metric come from metrics.sh, sourced alongside).

# Trickling connections and how long they trickle (s); the honest client's
# uploads per batch and their size.  FILEUPLOAD_THREADS=16 gives each
# worker 12 upload slots: 24 on the host, a share of 6.
CS_CONNS=1000
CS_SECS=25
CS_FILES=20
CS_SIZE=1048576
CS_SHARE=6

# cs_batch TAG: CS_FILES uploads of CS_SIZE bytes one after the other from
# 127.0.0.2; prints "OK BYTES_PER_S" (OK: how many got 201), the rate of
# the median upload (one slow fsync does not sway it).
cs_batch() {
	local i f out=$IT_TMP/share.$1 ok=0 t
	: >"$out.times"
	for i in $(seq 1 "$CS_FILES"); do
		f=$IT_TMP/files/share-$1-$i
		mkdir -p "$IT_TMP/files"
		head -c "$CS_SIZE" /dev/urandom >"$f"
		t=$(curl -sS --interface 127.0.0.2 --max-time 30 -o "$out.body" \
		    -w '%{http_code} %{time_total}' \
		    -F "upfile=@$f;filename=share-$1-$i" \
		    "$IT_URL/service/fileupload") || t="000 30"
		printf '%s\n' "${t#* }" >>"$out.times"
		if [ "${t% *}" = 201 ]; then
			ok=$((ok + 1))
		else
			printf '%s: upload %s: %s %s\n' "$1" "$i" "${t% *}" \
			    "$(head -c 200 "$out.body")" >>"$IT_TMP/share.errors"
		fi
	done
	sort -g "$out.times" | awk -v ok="$ok" -v s="$CS_SIZE" \
	    '{ t[NR] = $1 } END { m = t[int((NR + 1) / 2)];
	    printf "%d %d\n", ok, (m > 0 ? s / m : 0) }'
}

sc_client_share_of_upload_slots() {
	local alone loaded ok rate ok2 rate2 line held inflight refused
	local trickler
	: >"$IT_TMP/share.errors"
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	FILEUPLOAD_THREADS=16 start_pool
	curl -sS --interface 127.0.0.2 -o /dev/null --max-time 5 \
	    "$IT_URL/service/fileupload/health" ||
	    fail "127.0.0.2 cannot reach nginx on $FU_LISTEN"

	alone=$(cs_batch alone)
	read -r ok rate <<<"$alone"
	check_eq "uploads alone: 201s" "$CS_FILES" "$ok"

	python3 "$IT_DIR/trickle.py" "${FU_LISTEN%:*}" "${FU_LISTEN##*:}" \
	    "$CS_CONNS" "$CS_SECS" "$IT_TMP/share.503" >"$IT_TMP/share.trickle" &
	trickler=$!
	sleep 4
	loaded=$(cs_batch loaded)
	read -r ok2 rate2 <<<"$loaded"
	scrape
	inflight=$(metric fileupload_uploads_in_flight)
	refused=$(metric fileupload_upload_client_share_refused_total)
	wait "$trickler"
	line=$(cat "$IT_TMP/share.trickle")
	printf 'alone: %s B/s; beside %s trickling connections: %s B/s; %s\n' \
	    "$rate" "$CS_CONNS" "$rate2" "$line" | tee "$IT_TMP/share.figures"

	check_eq "uploads beside the trickle: 201s" "$CS_FILES" "$ok2"
	[ ! -s "$IT_TMP/share.errors" ] ||
	    fail "honest uploads failed: $(head -n 5 "$IT_TMP/share.errors")"
	[ "$((rate2 * 2))" -ge "$rate" ] ||
	    fail "beside the trickle $rate2 B/s, under half of $rate B/s alone"
	held=$(sed -n 's/.*held=\([0-9]*\).*/\1/p' <<<"$line")
	[ "${held:-99}" -le "$CS_SHARE" ] ||
	    fail "the trickling address held $held uploads (share $CS_SHARE)"
	[ "${held:-0}" -ge 1 ] || fail "no trickling upload was held: $line"
	if [ "$inflight" = missing ] || [ "$inflight" -gt $((CS_SHARE + 1)) ]; then
		fail "uploads in flight during the trickle: $inflight (share $CS_SHARE + 1 honest)"
	fi
	if [ "$refused" = missing ] || [ "$refused" -eq 0 ]; then
		fail "fileupload_upload_client_share_refused_total: $refused"
	fi
	# Every answer the trickle got was a 503 with Retry-After.
	if ! [[ $line =~ answers=([0-9]+)\ s503=([0-9]+)\ s503_retry_after=([0-9]+)\ other=0 ]] ||
	    [ "${BASH_REMATCH[1]}" -lt "$CS_CONNS" ] ||
	    [ "${BASH_REMATCH[2]}" != "${BASH_REMATCH[1]}" ] ||
	    [ "${BASH_REMATCH[3]}" != "${BASH_REMATCH[1]}" ]; then
		fail "the trickle's answers: $line"
	fi
	if ! grep -q '"status":503' "$IT_TMP/share.503" ||
	    ! grep -q 'from this client' "$IT_TMP/share.503"; then
		fail "the trickle's 503: $(head -c 400 "$IT_TMP/share.503")"
	fi
	check "trickled uploads: temp files removed" wait_for 10 no_tmp_files
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	start_pool
}

# Behind a trusted proxy (TRUSTED_PROXIES=127.0.0.1, nginx's real_ip) the
# client is the address the proxy forwards, each with its own share (here
# FILEUPLOAD_SLOTS_PER_CLIENT=2), for multipart uploads and tus PATCH
# alike; from any other peer X-Forwarded-For is ignored, so a client
# cannot pick its address.
sc_client_share_behind_trusted_proxy() {
	local i st loc access=$FU_VAR/logs/nginx-access.log
	local -a kids=()
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	FILEUPLOAD_SLOTS_PER_CLIENT=2 start_pool
	TRUSTED_PROXIES=127.0.0.1 restart_nginx
	grep -q 'set_real_ip_from 127.0.0.1;' "$FU_CONF_DIR/fileupload-locations.conf" ||
	    fail "TRUSTED_PROXIES not rendered as set_real_ip_from"
	for i in 1 2 3; do
		(
			[ "$i" -lt 3 ] || sleep 1
			SLOW_OUT=$IT_TMP/proxied.$i SLOW_NAME=proxied.$i \
			    slow_request POST /service/fileupload 3 \
			    "X-Forwarded-For: 198.51.100.$((i < 3 ? 7 : 8))"
			printf '%s %s\n' "$SLOW_STATUS" "$SLOW_MS" \
			    >"$IT_TMP/proxied.$i.result"
		) &
		kids+=("$!")
	done
	sleep 1.5
	SLOW_OUT=$IT_TMP/proxied.4 slow_request POST /service/fileupload 3 \
	    'X-Forwarded-For: 10.9.8.7, 198.51.100.7'
	if [ "$SLOW_STATUS" != 503 ] || [ "$SLOW_MS" -ge 1000 ]; then
		fail "a third upload of 198.51.100.7: $SLOW_STATUS after $SLOW_MS ms"
	fi
	grep -qi '^retry-after: [0-9]' "$IT_TMP/proxied.4.headers" ||
	    fail "503 past the share without Retry-After"
	grep -q 'from this client' "$IT_TMP/proxied.4.body" ||
	    fail "503 past the share: $(head -c 200 "$IT_TMP/proxied.4.body")"
	# A resumable upload's PATCH takes a slot too: refused the same way.
	loc=$(curl -sS --max-time 10 -o /dev/null -D - -X POST \
	    -H 'X-Forwarded-For: 198.51.100.7' -H 'Tus-Resumable: 1.0.0' \
	    -H 'Upload-Length: 5' "$IT_URL/service/fileupload/uploads" |
	    sed -n 's/^[Ll]ocation: *\([^[:space:]]*\).*/\1/p')
	[ -n "$loc" ] || fail "no tus upload created for 198.51.100.7"
	st=$(curl -sS --max-time 10 -o "$IT_TMP/proxied.tus" -D "$IT_TMP/proxied.tus.h" \
	    -w '%{http_code}' -X PATCH -H 'X-Forwarded-For: 198.51.100.7' \
	    -H 'Tus-Resumable: 1.0.0' -H 'Upload-Offset: 0' \
	    -H 'Content-Type: application/offset+octet-stream' \
	    --data-binary hello "${loc/#\//$IT_URL/}")
	if [ "$st" != 503 ] || ! grep -qi '^retry-after: [0-9]' "$IT_TMP/proxied.tus.h"; then
		fail "a tus PATCH past the share: $st $(head -c 200 "$IT_TMP/proxied.tus")"
	fi
	st=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' -X DELETE \
	    -H 'Tus-Resumable: 1.0.0' "${loc/#\//$IT_URL/}")
	check_eq "tus upload terminated" 204 "$st"
	wait "${kids[@]}"
	for i in 1 2 3; do
		read -r st _ <"$IT_TMP/proxied.$i.result"
		[ "$st" != 503 ] ||
		    fail "proxied upload $i refused: $(cat "$IT_TMP/proxied.$i.body")"
	done
	grep -q '^198\.51\.100\.8 .*"POST /service/fileupload ' "$access" ||
	    fail "nginx did not take 198.51.100.8 from the trusted proxy"
	# From an untrusted peer the header is only a header.
	curl -sS --interface 127.0.0.2 -o /dev/null --max-time 5 \
	    -H 'X-Forwarded-For: 198.51.100.99' "$IT_URL/service/fileupload/health"
	grep -q '^127\.0\.0\.2 .*"GET /service/fileupload/health ' "$access" ||
	    fail "no request of 127.0.0.2 in nginx's log"
	! grep -q '^198\.51\.100\.99 ' "$access" ||
	    fail "X-Forwarded-For of an untrusted peer was believed"
	check "proxied uploads: temp files removed" wait_for 10 no_tmp_files
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	start_pool
	restart_nginx
}
