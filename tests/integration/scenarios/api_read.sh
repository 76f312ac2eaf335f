# shellcheck shell=bash
#
# Reads: the list and its paging, one file's metadata, its content (sent by
# nginx), health, and methods a route does not take.
# Sourced by tests/integration/run.sh (helpers in tests/integration/lib.sh).

# 2. GET /service/fileupload
sc_list_oldest_first() {
	local a b ha hb order
	a=$(new_file list_a)
	b=$(new_file list_b)
	ha=$(b2 "$a")
	hb=$(b2 "$b")
	upload "$a"
	check_status 201
	upload "$b"
	check_status 201
	req GET /service/fileupload
	check_status 200
	check_content_type_json
	check_json 'type' array
	order=$(jf '.[].file_hash' | grep -n -e "$ha" -e "$hb" | cut -d: -f2 | tr '\n' ' ')
	check_eq "list order of the two new files" "$ha $hb " "$order"
	check_json "map(select(.file_hash == \"$hb\")) | .[0].file_name" "$(basename "$b")"
	check_json 'map(has("file_hash") and has("file_name") and has("file_type") and has("file_size") and has("created_at") and has("updated_at")) | all' true
}

sc_list_paging() {
	local all page link next path pages=0 got=() empty=0 i
	for i in 1 2 3; do
		upload "$(new_file "paging_$i")"
	done
	req GET /service/fileupload
	check_status 200
	mapfile -t all < <(jf '.[].file_hash')
	check "need at least 3 files, have ${#all[@]}" test "${#all[@]}" -ge 3

	req GET '/service/fileupload?limit=1'
	check_status 200
	check_json length 1
	check_json '.[0].file_hash' "${all[0]}"
	check_header Link "</service/fileupload?limit=1&after=${all[0]}>; rel=\"next\""

	req GET "/service/fileupload?limit=1&after=${all[0]}"
	check_status 200
	check_json '.[0].file_hash' "${all[1]}"

	# Walk everything two at a time by following Link.
	path='/service/fileupload?limit=2'
	while [ -n "$path" ] && [ "$pages" -lt 1000 ]; do
		req GET "$path"
		check_status 200
		[ "$STATUS" = 200 ] || break
		pages=$((pages + 1))
		mapfile -t page < <(jf '.[].file_hash')
		[ "${#page[@]}" -gt 0 ] || empty=$((empty + 1))
		got+=("${page[@]}")
		link=$(header Link)
		next=$(sed -n 's/^<\([^>]*\)>; *rel="next"$/\1/p' <<<"$link")
		[ -z "$link" ] || [ -n "$next" ] || fail "unparsable Link: $link"
		path=$next
	done
	check_eq "paged walk equals the full list" "${all[*]}" "${got[*]}"
	check_eq "empty pages reached through Link (Link sent when nothing remained)" 0 "$empty"

	req GET "/service/fileupload?limit=10000"
	check_status 200
	req GET "/service/fileupload?after=${all[0]}"
	check_status 200
	check_json '.[0].file_hash' "${all[1]}"
	# A hash in upper case names the same file.
	req GET "/service/fileupload?limit=1&after=${all[0]^^}"
	check_status 200
	check_json '.[0].file_hash' "${all[1]}"
}

# A walk through the Link headers while files come and go: every file that
# existed throughout is seen exactly once, even when the file a page ended
# on is deleted before the next page is asked for.
sc_list_paging_concurrent() {
	local before=() got=() page link next path pages=0 i h extra=0
	for i in 1 2 3 4 5 6; do
		upload "$(new_file "walk_$i")"
		check_status 201
	done
	req GET /service/fileupload
	mapfile -t before < <(jf '.[].file_hash')

	path='/service/fileupload?limit=2'
	while [ -n "$path" ] && [ "$pages" -lt 1000 ]; do
		req GET "$path"
		check_status 200 "page $pages"
		[ "$STATUS" = 200 ] || break
		pages=$((pages + 1))
		mapfile -t page < <(jf '.[].file_hash')
		got+=("${page[@]}")
		link=$(header Link)
		next=$(sed -n 's/^<\([^>]*\)>; *rel="next"$/\1/p' <<<"$link")
		if [ -n "$next" ] && [ "$pages" -le 3 ]; then
			# Between pages: a new file, and the page's last file
			# deleted (the next page is asked for after it).
			upload "$(new_file "walk_new_$pages")"
			req DELETE "/service/fileupload/${page[-1]}"
			check_status 201 "delete between pages"
			extra=$((extra + 1))
		fi
		path=$next
	done
	check "walk reached the end in $pages pages" test -z "$path"
	# Every file present throughout: the first files before the walk
	# minus the deleted ones, all seen exactly once.
	for h in "${before[@]}"; do
		local n
		n=$(printf '%s\n' "${got[@]}" | grep -cx "$h" || true)
		check "file $h seen $n times" test "$n" -eq 1
	done
	check_eq "no file seen twice" "$(printf '%s\n' "${got[@]}" | sort | uniq -d)" ""
	check "files were deleted mid-walk" test "$extra" -ge 2

	# A hash never recorded is still a bad value.
	req GET "/service/fileupload?limit=1&after=$(printf '%064d' 0)"
	check_status 400 "after an unknown hash"
}

# list_times_ordered [newest]: the whole list (oldest first, or newest
# first) walked with each file's created_at at the database's precision
# (fixed-width digits, so compared as strings): it never goes back.
list_times_ordered() {
	local q='' h t prev='' back=0
	declare -A at=()
	[ "${1:-}" != newest ] || q='?order=newest'
	while read -r h t; do
		at[$h]=$t
	done < <(fu_pg_psql "$IT_PG_DIR" "$FU_DB_NAME" -tAF' ' -c \
	    "SELECT file_hash, to_char(created_at AT TIME ZONE 'UTC', 'YYYYMMDDHH24MISSUS') FROM files")
	req GET "/service/fileupload$q"
	[ "$STATUS" = 200 ] || return 1
	while read -r h; do
		t=${at[$h]:-}
		[ -n "$t" ] || continue
		if [ -n "$prev" ]; then
			if [ -z "$q" ] && [[ $t < $prev ]]; then
				back=$((back + 1))
			elif [ -n "$q" ] && [[ $t > $prev ]]; then
				back=$((back + 1))
			fi
		fi
		prev=$t
	done < <(jf '.[].file_hash')
	[ "$back" -eq 0 ]
}

# The list's order agrees with created_at: uploads committed at once, and
# two transactions that take their ids in the other order than their
# start times (the one that began first inserts last), still list with
# created_at never decreasing; pages follow the same order.
sc_list_order_follows_created_at() {
	local i pids=() ha hb all=() got=() path link next pages=0 page
	for i in $(seq 1 32); do
		new_file "order_$i" >/dev/null
	done
	for i in $(seq 1 32); do
		curl -sS -o /dev/null -F "upfile=@$IT_TMP/files/order_$i" \
		    "$IT_URL/service/fileupload" 2>/dev/null &
		pids+=($!)
		[ $((i % 12)) -ne 0 ] || { wait "${pids[@]}" || true; pids=(); }
	done
	wait "${pids[@]}" || true
	# The race made certain, in SQL: a begins first and inserts last.
	ha=$(printf 'it-order-a-%s' "$RANDOM$RANDOM" | sha256sum | cut -c1-64)
	hb=$(printf 'it-order-b-%s' "$RANDOM$RANDOM" | sha256sum | cut -c1-64)
	fu_pg_psql "$IT_PG_DIR" "$FU_DB_NAME" -c BEGIN -c 'SELECT pg_sleep(1)' \
	    -c "INSERT INTO files (file_hash, file_name, file_type, file_size)
		VALUES ('$ha', 'it-order-a', 'text/plain', 0)" -c COMMIT \
	    >/dev/null &
	pids=($!)
	sleep 0.4
	fu_pg_psql "$IT_PG_DIR" "$FU_DB_NAME" -c "INSERT INTO files
	    (file_hash, file_name, file_type, file_size)
	    VALUES ('$hb', 'it-order-b', 'text/plain', 0)" >/dev/null
	wait "${pids[@]}" || true
	check_eq "b took the smaller id" t "$(fu_pg_psql "$IT_PG_DIR" \
	    "$FU_DB_NAME" -tAc "SELECT (SELECT id FROM files WHERE file_hash = '$hb')
		< (SELECT id FROM files WHERE file_hash = '$ha')")"
	check "oldest first: created_at never decreases" list_times_ordered
	check "newest first: created_at never increases" list_times_ordered newest
	req GET /service/fileupload
	mapfile -t all < <(jf '.[].file_hash')
	path='/service/fileupload?limit=5'
	while [ -n "$path" ] && [ "$pages" -lt 1000 ]; do
		req GET "$path"
		[ "$STATUS" = 200 ] || { fail "page $pages: $STATUS"; break; }
		pages=$((pages + 1))
		mapfile -t page < <(jf '.[].file_hash')
		got+=("${page[@]}")
		link=$(header Link)
		path=$(sed -n 's/^<\([^>]*\)>; *rel="next"$/\1/p' <<<"$link")
	done
	check_eq "the paged walk is the list" "${all[*]}" "${got[*]}"
	# A page that ends on a file deleted since resumes where it stood.
	i=$(printf '%s\n' "${all[@]}" | grep -nx "$ha" | cut -d: -f1)
	fu_pg_psql "$IT_PG_DIR" "$FU_DB_NAME" -c \
	    "DELETE FROM files WHERE file_hash IN ('$ha', '$hb')" >/dev/null
	req GET "/service/fileupload?limit=1&after=$ha"
	check_status 200 "after a deleted file"
	next=${all[$i]:-}
	[ "$next" != "$hb" ] || next=${all[$((i + 1))]:-}
	check_eq "the file after it" "$next" "$(jf '.[0].file_hash // empty')"
	for i in $(seq 1 32); do
		req DELETE "/service/fileupload/$(b2 "$IT_TMP/files/order_$i")"
	done
}

sc_list_bad_query_400() {
	local q
	for q in 'limit=0' 'limit=10001' 'limit=abc' 'limit=-1' 'limit=' \
	    'limit=1.5' 'foo=1' 'limit=1&foo=bar' 'after=nothex' \
	    'after=0123' 'limit=99999999999999999999999'; do
		req GET "/service/fileupload?$q"
		check_error 400 "?$q"
	done
}

# 3. GET /service/fileupload/{hash}
sc_get_metadata() {
	local f h
	f=$(new_file get_meta)
	h=$(b2 "$f")
	upload "$f" meta.txt
	check_status 201
	req GET "/service/fileupload/$h"
	check_status 200
	check_content_type_json
	check_meta "$h" meta.txt text/plain "$(stat -c %s "$f")"
	# A JSON answer's length is known: sent as such, not chunked.
	check_header Content-Length "$(stat -c %s "$IT_TMP/body")"
	check "not chunked" bash -c "! grep -qi '^Transfer-Encoding:' '$IT_TMP/headers'"
	req GET "/service/fileupload/${h^^}"
	check_status 200 "upper-case hash"
	check_json .file_hash "$h"
}

# Reads at once (the worker asks PostgreSQL for several in one statement):
# every answer is its own file's, an unknown hash among them still 404.
sc_get_concurrent_reads_own_answers() {
	local i f h hashes=() unknown bad
	for i in $(seq 1 12); do
		f=$(new_file "concurrent_$i")
		upload "$f" "concurrent_$i.txt"
		check_status 201 "upload $i"
		hashes+=("$(b2 "$f")")
	done
	unknown=$(printf '%064d' 7)
	for i in $(seq 1 20); do
		printf '%s\n' "${hashes[@]}" "$unknown"
	done | shuf >"$IT_TMP/reads"
	# One curl, 32 transfers at a time: each read's body in a file of
	# its own, and a line "asked-hash-and-number status" per read.
	mkdir -p "$IT_TMP/reads.d"
	awk -v u="$IT_URL" -v d="$IT_TMP/reads.d" '{
	    printf "url = \"%s/service/fileupload/%s\"\n", u, $1
	    printf "output = \"%s/%s.%d\"\n", d, $1, NR }' "$IT_TMP/reads" \
	    >"$IT_TMP/reads.cfg"
	curl -sS --no-progress-meter --parallel --parallel-max 32 --max-time "$IT_TIMEOUT" \
	    -w '%{http_code} %{filename_effective}\n' -K "$IT_TMP/reads.cfg" \
	    >"$IT_TMP/statuses"
	# Each read: asked hash, status, answered hash, file name.
	while read -r code file; do
		printf '%s %s %s\n' "$(basename "${file%.*}")" "$code" \
		    "$(jq -r '(.file_hash // "-") + " " + (.file_name // .error)' "$file")"
	done <"$IT_TMP/statuses" >"$IT_TMP/answers"
	check_eq "answers" "$(wc -l <"$IT_TMP/answers")" \
	    "$(wc -l <"$IT_TMP/reads")"
	bad=$(awk -v u="$unknown" '
	    $1 == u { if ($2 != 404) print; next }
	    $2 != 200 || $3 != $1 || $4 !~ /^concurrent_[0-9]+\.txt$/ { print }
	    ' "$IT_TMP/answers")
	check_eq "answers that are not their own" "$bad" ""
	# And the name is the one uploaded with that hash.
	for i in 1 12; do
		check "file $i named" grep -q "^${hashes[$((i - 1))]} 200 ${hashes[$((i - 1))]} concurrent_$i.txt\$" "$IT_TMP/answers"
	done
}

sc_get_malformed_hash_400() {
	local bad
	for bad in nothex 0123 "$(printf '%063d' 0)" "$(printf '%065d' 0)" \
	    "$(printf 'g%063d' 0)" "$(printf '%062d%%20' 0)"; do
		req GET "/service/fileupload/$bad"
		check_error 400 "GET $bad"
	done
}

sc_get_unknown_404() {
	req GET "/service/fileupload/$(printf '%064d' 0)"
	check_error 404
}

# 7. GET/HEAD /service/fileupload/{hash}/content (nginx sends the bytes)
sc_content() {
	local f h size
	f=$(new_file content "$(head -c 3000 /dev/urandom | base64)")
	h=$(b2 "$f")
	size=$(stat -c %s "$f")
	upload "$f" 'résumé 1.txt'
	check_status 201
	req GET "/service/fileupload/$h/content" -H 'X-Request-Id: it-content'
	check_status 200
	check "content differs from the upload" cmp -s "$IT_TMP/body" "$f"
	check "Content-Type text/plain, got '$(header Content-Type)'" \
	    grep -q '^text/plain' <<<"$(header Content-Type)"
	check_header Content-Length "$size"
	check_header ETag "\"$h\""
	check_header Accept-Ranges bytes
	check_header X-Request-Id it-content
	check_header X-Content-Type-Options nosniff
	check_header Content-Security-Policy sandbox
	check_header Cache-Control "public, max-age=31536000, immutable"
	check "Content-Disposition '$(header Content-Disposition)'" \
	    grep -q "^attachment; .*filename\*=UTF-8''r%C3%A9sum%C3%A9%201\.txt" \
	    <<<"$(header Content-Disposition)"
	check "no X-Accel-Redirect leaks to the client" test -z "$(header X-Accel-Redirect)"

	req GET "/service/fileupload/${h^^}/content"
	check_status 200 "upper-case hash"

	req GET "/service/fileupload/$h/content" -H 'Range: bytes=0-9'
	check_status 206 "Range: bytes=0-9"
	check_header Content-Range "bytes 0-9/$size"
	check_eq "ranged body" "$(head -c 10 "$f")" "$(body)"
	check_header Content-Disposition
	check_header Cache-Control
	req GET "/service/fileupload/$h/content" -H "Range: bytes=$((size + 10))-"
	check_status 416 "Range past the end"

	req GET "/service/fileupload/$h/content" -H "If-None-Match: \"$h\""
	check_status 304 "If-None-Match with the hash"
	check_header ETag "\"$h\""
	check_eq "304 body" "" "$(body)"

	# (curl -I writes the headers where the body would go.)
	req HEAD "/service/fileupload/$h/content" -I
	check_status 200 "HEAD"
	check_header Content-Length "$size"
	check_header ETag "\"$h\""

	# The internal location is not reachable from outside.
	req GET "/_fileupload_content/${h:0:2}/${h:2:2}/$h"
	check_status 404 "direct request to the internal location"
	check "internal location served the bytes" test "$(body)" != "$(cat "$f")"
}

sc_content_png_and_errors() {
	local f=$IT_TMP/pixel2.png h
	printf '\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x02\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\x0dIDATx\x9cc\x00\x01\x00\x00\x05\x00\x01\x0d\x0a\x2d\xb4\x00\x00\x00\x00IEND\xaeB\x60\x82' >"$f"
	h=$(b2 "$f")
	upload "$f" p.png
	check_status 201
	req GET "/service/fileupload/$h/content"
	check_status 200
	check_header Content-Type image/png
	check "content differs from the upload" cmp -s "$IT_TMP/body" "$f"
	req GET "/service/fileupload/$(printf '%064d' 0)/content"
	check_error 404 "unknown hash"
	req GET /service/fileupload/nothex/content
	check_error 400 "malformed hash"
	req DELETE "/service/fileupload/$h"
	check_status 201
	req GET "/service/fileupload/$h/content"
	check_error 404 "after DELETE"
}

# 1 MiB of random bytes back byte-exact, whole and in ranges.
sc_content_large_ranges() {
	local f=$IT_TMP/files/large.bin h size
	mkdir -p "$IT_TMP/files"
	head -c 1048576 /dev/urandom >"$f"
	h=$(b2 "$f")
	size=1048576
	upload "$f" large.bin
	check_status 201
	req GET "/service/fileupload/$h/content"
	check_status 200
	check "1 MiB download differs from the upload" cmp -s "$IT_TMP/body" "$f"
	check_header Content-Length "$size"

	req GET "/service/fileupload/$h/content" -H 'Range: bytes=-100'
	check_status 206 "suffix range"
	check_header Content-Range "bytes $((size - 100))-$((size - 1))/$size"
	check "suffix range bytes" cmp -s "$IT_TMP/body" <(tail -c 100 "$f")

	req GET "/service/fileupload/$h/content" -H 'Range: bytes=1000-1999'
	check_status 206 "middle range"
	check "middle range bytes" cmp -s "$IT_TMP/body" \
	    <(dd if="$f" bs=1000 skip=1 count=1 status=none)

	req GET "/service/fileupload/$h/content" -H 'Range: bytes=0-0' \
	    -H "If-Range: \"$h\""
	check_status 206 "If-Range with the hash"
	req GET "/service/fileupload/$h/content" -H 'Range: bytes=0-0' \
	    -H 'If-Range: "another"'
	check_status 200 "If-Range with another tag: the whole file"
}

# Hostile names give well-formed Content-Disposition headers: the ASCII
# fallback carries no quote, backslash, CR, LF or non-ASCII byte, and
# filename* decodes back to the stored name.  The name arrives through the
# upload's own filename* with CR, LF, quotes, ';', '\' and non-ASCII in it.
sc_content_disposition_hostile_names() {
	local b=hostileboundary f=$IT_TMP/files/hostile.body h stored cd fallback ext decoded
	mkdir -p "$IT_TMP/files"
	printf -- '--%s\r\nContent-Disposition: form-data; name="upfile"; filename*=UTF-8'"''"'a%%22q%%22%%3B%%0D%%0Ab%%5Cc%%3B%%3Dd%%20%%C3%%A9%%E2%%82%%AC.txt\r\n\r\nhostile %s\r\n--%s--\r\n' \
	    "$b" "$RANDOM$RANDOM$(date +%s%N)" "$b" >"$f"
	post_raw "multipart/form-data; boundary=$b" "$f"
	check_status 201 "upload with a hostile filename*"
	h=$(jf .file_hash)
	stored=$(jf .file_name)
	check_eq "stored name (directory part, CR and LF gone)" \
	    "c;=d é€.txt" "$stored"
	req GET "/service/fileupload/$h/content"
	check_status 200
	cd=$(header Content-Disposition)
	check "one Content-Disposition line" \
	    test "$(grep -ci '^content-disposition:' "$IT_TMP/headers")" -eq 1
	fallback=$(sed -n 's/^attachment; filename="\([^"]*\)"; filename\*=.*$/\1/p' <<<"$cd")
	check "fallback filename in '$cd'" test -n "$fallback"
	# shellcheck disable=SC2016 # $1 belongs to the inner shell
	check "fallback is printable ASCII without \\: '$fallback'" \
	    bash -c 'LC_ALL=C; ! grep -q "[^ -~]\|\\\\" <<<"$1"' _ "$fallback"
	ext=$(sed -n "s/^.*filename\*=UTF-8''\(.*\)$/\1/p" <<<"$cd")
	check "filename* uses only attr-chars and %XX: '$ext'" \
	    grep -qE '^([A-Za-z0-9!#$&+.^_`|~-]|%[0-9A-F]{2})+$' <<<"$ext"
	decoded=$(printf '%b' "${ext//%/\\x}")
	check_eq "filename* decodes to the stored name" "$stored" "$decoded"
}

# A row whose file is gone is an integrity error: 500 JSON, logged.
sc_content_missing_file_500() {
	local f h
	f=$(new_file missing)
	h=$(b2 "$f")
	upload "$f" missing.txt
	check_status 201
	rm -f "$(stored_path "$h")"
	req GET "/service/fileupload/$h/content"
	check_error 500 "content of a row without its file"
	check "integrity error logged" grep -q "integrity: row $h" "$FU_VAR/logs/fileupload.log"
	req DELETE "/service/fileupload/$h"
	check_status 201 "such a row can still be deleted"
}

# 8. GET /service/fileupload/health
sc_health() {
	req GET /service/fileupload/health
	check_status 200
	check_content_type_json
	check_json .status ok
}

sc_method_not_allowed_405() {
	req PATCH /service/fileupload
	check_error 405 "PATCH collection"
	req POST "/service/fileupload/$(printf '%064d' 0)"
	check_error 405 "POST item"
}
