# shellcheck shell=bash
#
# Share links (docs/api.md "Share links"): POST .../links answers a signed,
# expiring content URL that downloads without a token, on both storage
# backends and on every process of the pool; a tampered link is 403, an
# expired one 410.  And names kept exactly: the multipart file_name field,
# and bidirectional controls neutralised in Content-Disposition.
# Sourced by tests/integration/run.sh (helpers in tests/integration/lib.sh;
# s3_begin from storage_s3.sh, tus_create and tus_patch from resumable.sh).

# link_make HASH [BODY [curl args...]]: POST a link (BODY: its JSON, none
# when empty); LINK is its url, LINK_AT its expires_at.
link_make() {
	local h=$1 body=${2:-}
	shift 2 || shift $#
	if [ -n "$body" ]; then
		req POST "/service/fileupload/$h/links" \
		    -H 'Content-Type: application/json' --data-binary "$body" "$@"
	else
		req POST "/service/fileupload/$h/links" "$@"
	fi
	LINK=$(jf .url)
	LINK_AT=$(jf .expires_at)
}

# link_sig URL / link_expires URL: the parts of a link's query.
link_sig() {
	sed -n 's/.*[?&]sig=\([^&]*\).*/\1/p' <<<"$1"
}

link_expires() {
	sed -n 's/.*[?&]expires=\([0-9]*\).*/\1/p' <<<"$1"
}

# link_of URL: the stored upload's tag of a link.
link_of() {
	sed -n 's/.*[?&]of=\([^&]*\).*/\1/p' <<<"$1"
}

# check_link_answer HASH: the last answer is a well-formed link to HASH
# expiring SECONDS from now (a second either side).
check_link_answer() {
	local h=$1 secs=$2 exp now
	check_status 201 "link for $h"
	check_content_type_json
	check "url of the form /service/fileupload/$h/content?expires=N&of=T&sig=S ($LINK)" \
	    grep -Eq "^/service/fileupload/$h/content\\?expires=[0-9]+&of=[A-Za-z0-9_-]{11}&sig=[A-Za-z0-9_-]{43}\$" <<<"$LINK"
	check "expires_at is RFC 3339 UTC ($LINK_AT)" \
	    grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' <<<"$LINK_AT"
	exp=$(link_expires "$LINK")
	now=$(date +%s)
	check "expires=$exp is $secs s from now ($now)" \
	    test "$exp" -ge $((now + secs - 2)) -a "$exp" -le $((now + secs + 1))
	check_eq "expires_at is the query's expires" "$(date -u -d "@$exp" +%Y-%m-%dT%H:%M:%SZ)" "$LINK_AT"
}

# check_link_download FILE HASH NAME [curl args...]: LINK answers as the
# content route does, without a token: the bytes, the name, the ETag, a
# range, 304 and HEAD.
check_link_download() {
	local f=$1 h=$2 name=$3 size
	shift 3
	size=$(stat -c %s "$f")
	req GET "$LINK" "$@"
	check_status 200 "download through the link"
	check "bytes through the link equal the file" cmp -s "$IT_TMP/body" "$f"
	check_header ETag "\"$h\""
	check_header Content-Disposition "attachment; filename=\"$name\"; filename*=UTF-8''$name"
	check_header X-Content-Type-Options nosniff
	req GET "$LINK" -H 'Range: bytes=2-9' "$@"
	check_status 206 "range through the link"
	check_eq "range bytes" "$(head -c 10 "$f" | tail -c 8)" "$(cat "$IT_TMP/body")"
	check_header Content-Range "bytes 2-9/$size"
	req GET "$LINK" -H "If-None-Match: \"$h\"" "$@"
	check_status 304 "If-None-Match through the link"
	check_header ETag "\"$h\""
	req HEAD "$LINK" -I "$@"
	check_status 200 "HEAD through the link"
	check_header Content-Length "$size"
	check_header ETag "\"$h\""
}

# check_link_refusals HASH OTHER_HASH [curl args...]: LINK (to HASH)
# tampered with in each of its parts is 403, as JSON, GET and HEAD.
check_link_refusals() {
	local h=$1 other=$2 sig exp of bad
	shift 2
	sig=$(link_sig "$LINK")
	exp=$(link_expires "$LINK")
	of=$(link_of "$LINK")
	# Another signature (its first character changed).
	if [ "${sig:0:1}" = A ]; then bad=B${sig:1}; else bad=A${sig:1}; fi
	req GET "/service/fileupload/$h/content?expires=$exp&of=$of&sig=$bad" "$@"
	check_error 403 "a tampered signature"
	# Another file's hash under the same query.
	req GET "/service/fileupload/$other/content?expires=$exp&of=$of&sig=$sig" "$@"
	check_error 403 "another file's hash"
	# A later expiry.
	req GET "/service/fileupload/$h/content?expires=$((exp + 86400))&of=$of&sig=$sig" "$@"
	check_error 403 "a later expiry"
	req GET "/service/fileupload/$h/content?expires=$exp&of=$of" "$@"
	check_error 403 "no signature"
	req GET "/service/fileupload/$h/content?of=$of&sig=$sig" "$@"
	check_error 403 "no expiry"
	req GET "/service/fileupload/$h/content?expires=$exp&sig=$sig" "$@"
	check_error 403 "no upload tag"
	req HEAD "/service/fileupload/$h/content?expires=$exp&of=$of&sig=$bad" -I "$@"
	check_status 403 "HEAD with a tampered signature"
}

# The pool with these settings (VAR=VALUE...), the runner's again on the
# way out.
links_pool() {
	local a
	trap links_end EXIT
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	for a in "$@"; do export "${a?}"; done
	start_pool
	for a in "$@"; do unset "${a%%=*}"; done
}

links_end() {
	fu_pool_stop 2>>"$IT_TMP/setup.log" || true
	start_pool || true
}

# No token set: links for anyone; the default and an asked lifetime,
# bodies refused, unknown files, tampered and expired links.
sc_share_link_open() {
	local a b ha hb bad old
	a=$(new_file link_a)
	b=$(new_file link_b)
	ha=$(b2 "$a")
	hb=$(b2 "$b")
	upload "$a" link-a.txt
	check_status 201
	upload "$b" link-b.txt
	check_status 201

	link_make "$ha"
	check_link_answer "$ha" 3600
	check_link_download "$a" "$ha" link-a.txt
	check_link_refusals "$ha" "$hb"
	# A token sent along changes nothing (none is set here).
	req GET "$LINK" -H 'Authorization: Bearer whatever'
	check_status 200 "a link with a token sent along"

	link_make "$hb" '{"expires_in": 60}'
	check_link_answer "$hb" 60
	check_link_download "$b" "$hb" link-b.txt
	link_make "$hb" '{}'
	check_link_answer "$hb" 3600
	link_make "$hb" ' {"expires_in":604800} '
	check_link_answer "$hb" 604800
	link_make "$hb" '{"expires_in":1}'
	check_link_answer "$hb" 1

	for bad in '{"expires_in":0}' '{"expires_in":604801}' \
	    '{"expires_in":-5}' '{"expires_in":"60"}' '{"expires_in":1.5}' \
	    '{"expires_in":null}' '{"expires_in":60,"x":1}' '{"ttl":60}' \
	    '[]' '60' 'null' 'not json' '{"expires_in":60} x' \
	    '{"expires_in":99999999999999999999}'; do
		link_make "$ha" "$bad"
		check_error 400 "body $bad"
	done
	req POST "/service/fileupload/$ha/links" -H 'Content-Type: application/json' \
	    --data-binary "$(printf '{"expires_in":%2000s}' 60)"
	check_error 400 "a body over 1 KiB"

	link_make "$(b2sum -l 256 <<<"no such file $RANDOM" | cut -d' ' -f1)"
	check_error 404 "a link to an unknown file"
	req POST /service/fileupload/nothex/links
	check_error 400 "a malformed hash"
	req GET "/service/fileupload/$ha/links"
	check_error 405 "GET of links"
	check_header Allow POST

	# Expired: signed, but past its time.
	link_make "$ha" '{"expires_in":1}'
	check_status 201
	sleep 2
	req GET "$LINK"
	check_error 410 "an expired link"
	req HEAD "$LINK" -I
	check_status 410 "HEAD of an expired link"
	# An expired link tampered with is forged first.
	bad=$(link_sig "$LINK")
	if [ "${bad:0:1}" = A ]; then bad=B${bad:1}; else bad=A${bad:1}; fi
	req GET "${LINK/sig=$(link_sig "$LINK")/sig=$bad}"
	check_error 403 "an expired link with another signature"

	# A link outlives nothing: the file deleted, its link finds none.
	link_make "$hb"
	old=$LINK
	req DELETE "/service/fileupload/$hb"
	check_status 201
	req GET "$old"
	check_error 404 "a link to a deleted file"
	# A delete revokes it: the same bytes stored again are not served
	# through a link made before, only through a new one.
	sleep 1		# another created_at, to the second
	upload "$b" link-b-again.txt
	check_status 201 "the deleted file stored again"
	req GET "$old"
	check_error 404 "a link made before the delete, the bytes stored again"
	req HEAD "$old" -I
	check_status 404 "HEAD of that link"
	link_make "$hb"
	check_link_download "$b" "$hb" link-b-again.txt
	# Another upload's tag under a valid signature is not possible: the
	# tag is signed.
	req GET "${LINK/of=$(link_of "$LINK")/of=$(link_of "$old")}"
	check_error 403 "a link with another upload's tag"
}

# Tokens set: making a link is a read (401 without the read or write
# token), the link then needs none.
sc_share_link_tokens() {
	local a b ha hb
	links_pool FILEUPLOAD_TOKEN=it-link-write FILEUPLOAD_READ_TOKEN=it-link-read
	a=$(new_file link_tok_a)
	b=$(new_file link_tok_b)
	ha=$(b2 "$a")
	hb=$(b2 "$b")
	upload "$a" tok-a.txt -H 'Authorization: Bearer it-link-write'
	check_status 201
	upload "$b" tok-b.txt -H 'Authorization: Bearer it-link-write'
	check_status 201

	link_make "$ha"
	check_error 401 "a link without a token"
	check_header WWW-Authenticate
	link_make "$ha" '' -H 'Authorization: Bearer wrong'
	check_error 401 "a link with a wrong token"
	link_make "$(b2sum -l 256 <<<"none $RANDOM" | cut -d' ' -f1)" '' \
	    -H 'Authorization: Bearer it-link-read'
	check_error 404 "unknown file, with the token"
	link_make "$ha" '' -H 'Authorization: Bearer it-link-write'
	check_link_answer "$ha" 3600
	link_make "$ha" '{"expires_in":120}' -H 'Authorization: Bearer it-link-read'
	check_link_answer "$ha" 120

	# The content needs the token, the link does not.
	req GET "/service/fileupload/$ha/content"
	check_error 401 "content without a token or a link"
	check_link_download "$a" "$ha" tok-a.txt
	check_header Cache-Control "private, max-age=31536000, immutable"
	req GET "$LINK" -H 'Authorization: Bearer wrong'
	check_status 200 "a link with a wrong token sent along"
	check_link_refusals "$ha" "$hb"
	# A valid token does not save a tampered link.
	check_link_refusals "$ha" "$hb" -H 'Authorization: Bearer it-link-read'
	# Metadata stays closed: the link opens the content only.
	req GET "/service/fileupload/$ha?${LINK#*\?}"
	check_error 401 "metadata with a link's query"
	req GET "/service/fileupload?${LINK#*\?}"
	check_error 401 "the list with a link's query"

	link_make "$hb" '{"expires_in":1}' -H 'Authorization: Bearer it-link-read'
	check_status 201
	sleep 2
	req GET "$LINK" -H 'Authorization: Bearer it-link-read'
	check_error 410 "an expired link, with the token"
}

# FILEUPLOAD_LINK_SECRET unset: the pool's processes share one random
# secret, made anew at the pool's start.  The process that made a link is
# stopped (nginx keeps its connections to one process, so without that
# every request could meet the same one): the link works on the others,
# the one multiwatch starts in its place included.
sc_share_link_pool_secret() {
	local f h i pmake puse log=$FU_VAR/logs/fileupload.log old
	f=$(new_file link_pool)
	h=$(b2 "$f")
	upload "$f" pool.txt
	check_status 201
	link_make "$h" '' -H "X-Request-Id: it-lmake-$$"
	check_status 201 "the link"
	pmake=$(grep -F " it-lmake-$$ " "$log" | sed -n 's/^[^[]*\[\([0-9]*\)\].*/\1/p' | tail -n 1)
	check "the process that made the link ($pmake) is one of the pool's" \
	    grep -qx "$pmake" <(fu_pool_pids)
	kill -TERM "$pmake"
	for i in $(seq 1 100); do
		! grep -qx "$pmake" <(fu_pool_pids) &&
		    [ "$(fu_pool_pids | wc -l)" -eq 2 ] && break
		sleep 0.1
	done
	sleep 0.5
	for i in 1 2 3 4 5 6; do
		req GET "$LINK" -H "X-Request-Id: it-luse-$$-$i"
		check_status 200 "download $i through the link on another process"
		puse=$(grep -F " it-luse-$$-$i " "$log" | sed -n 's/^[^[]*\[\([0-9]*\)\].*/\1/p' | tail -n 1)
		check "download $i served by another process ($puse) than the link's ($pmake)" \
		    test -n "$puse" -a "$puse" != "$pmake"
	done
	# A new pool makes a new secret: the old links are forged to it.
	old=$LINK
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	start_pool
	req GET "$old"
	check_error 403 "an unset secret's link after the pool's restart"
	link_make "$h"
	req GET "$LINK"
	check_status 200 "a new link after the restart"
}

# FILEUPLOAD_LINK_SECRET set: links survive a restart and work on any
# pool with the same secret (another host), not with another one; the
# secret may come from a file; a short one is refused.
sc_share_link_secret() {
	local f h d=$IT_TMP/link-secret
	mkdir -p "$d"
	printf 'it-link-secret-from-a-file\n' >"$d/secret"
	chmod 0644 "$d/secret"
	links_pool FILEUPLOAD_LINK_SECRET=it-link-secret-0123456789
	f=$(new_file link_secret)
	h=$(b2 "$f")
	upload "$f" secret.txt
	check_status 201
	link_make "$h"
	check_status 201
	links_pool FILEUPLOAD_LINK_SECRET=it-link-secret-0123456789
	req GET "$LINK"
	check_status 200 "the same secret after a restart"
	links_pool FILEUPLOAD_LINK_SECRET=it-link-secret-9876543210
	req GET "$LINK"
	check_error 403 "another secret (rotated): every link revoked"
	links_pool FILEUPLOAD_LINK_SECRET_FILE="$d/secret"
	link_make "$h"
	check_status 201
	links_pool FILEUPLOAD_LINK_SECRET=it-link-secret-from-a-file
	req GET "$LINK"
	check_status 200 "the secret from a file is the file's first line"
	it_refused "FILEUPLOAD_LINK_SECRET must be at least 16 bytes" \
	    FILEUPLOAD_LINK_SECRET=short
}

# On the object store: the link's download goes by the presigned URL, as
# the content route's does.
sc_share_link_s3() {
	local f big hf hb
	s3_begin
	f=$(new_file link_s3)
	hf=$(b2 "$f")
	upload "$f" s3-link.txt
	check_status 201
	big=$(s3_big link_s3_big 6)
	hb=$(b2 "$big")
	upload "$big" s3-big.bin
	check_status 201
	link_make "$hf"
	check_link_answer "$hf" 3600
	check_link_download "$f" "$hf" s3-link.txt
	link_make "$hb" '{"expires_in":300}'
	check_link_answer "$hb" 300
	req GET "$LINK"
	check_status 200 "a multipart object through a link"
	check "bytes equal" cmp -s "$IT_TMP/body" "$big"
	req GET "$LINK" -H 'Range: bytes=5242870-5242889'
	check_status 206 "a range across parts through a link"
	dd if="$big" of="$IT_TMP/range.want" bs=1 skip=5242870 count=20 2>/dev/null
	check "range bytes equal" cmp -s "$IT_TMP/body" "$IT_TMP/range.want"
	check "the downloads went by presigned URLs" \
	    test "$(s3_ops GetObject | grep -c '"auth": "presigned"' || true)" -ge 3
	check_link_refusals "$hb" "$hf"
	link_make "$hf" '{"expires_in":1}'
	sleep 2
	req GET "$LINK"
	check_error 410 "an expired link on the object store"
	check_eq "signatures the store refused" "" "$(s3_denied)"
}

# The multipart file_name field: the name exactly as given (cleaned as a
# filename is: control characters become '_'), before or after the file,
# the same as the tus path stores; a bidi control in Content-Disposition
# becomes '_'.
sc_upload_file_name_field() {
	local f h name want got i
	local -a names=(
		'"; DROP TABLE x;--.txt'
		'100% "real".txt'
		$'two\r\nlines.txt'
		'naïve Ünïcödé 名前.txt'
		$'invoice\u202Etxt.exe'
		'%22already%22 encoded.txt'
	)
	for i in "${!names[@]}"; do
		name=${names[$i]}
		want=$(printf '%s' "$name" | tr '\r\n' '__')
		f=$(new_file "name_field_$i")
		h=$(b2 "$f")
		# --form-string: the value as it is (-F would read ; and ").
		if [ $((i % 2)) -eq 0 ]; then
			req POST /service/fileupload --form-string "file_name=$name" \
			    -F "upfile=@$f;filename=browser.txt"
		else
			req POST /service/fileupload -F "upfile=@$f;filename=browser.txt" \
			    --form-string "file_name=$name"
		fi
		check_status 201 "upload named $want"
		check_json .file_name "$want"
		req GET "/service/fileupload/$h"
		check_json .file_name "$want"
		req DELETE "/service/fileupload/$h"
		# The same name through tus: the same stored name.
		tus_create "$(stat -c %s "$f")" "$name"
		check_status 201 "tus creation named $want"
		tus_patch "$TUS_LOC" 0 "$f"
		check_status 204 "tus upload named $want"
		req GET "/service/fileupload/$h"
		got=$(jf .file_name)
		check_eq "tus and multipart store one name" "$want" "$got"
	done
	# The override's download: no U+202E in either filename.
	req GET "/service/fileupload/$h/content"
	check_status 200
	req GET "/service/fileupload/$(b2 "$IT_TMP/files/name_field_4")/content"
	check_status 200 "download of the override's name"
	check_header Content-Disposition \
	    "attachment; filename=\"invoice___txt.exe\"; filename*=UTF-8''invoice_txt.exe"
	# A directory part goes, as from a filename.
	f=$(new_file name_field_dir)
	req POST /service/fileupload -F "upfile=@$f;filename=x.txt" \
	    --form-string 'file_name=C:\dir\sub/kept.txt'
	check_status 201
	check_json .file_name kept.txt
	# Refused: empty, nothing left once cleaned, too long, twice.
	f=$(new_file name_field_bad)
	h=$(b2 "$f")
	req POST /service/fileupload -F "upfile=@$f" --form-string 'file_name='
	check_error 400 "an empty file_name field"
	req POST /service/fileupload -F "upfile=@$f" --form-string 'file_name=a/'
	check_error 400 "a file_name field that is a directory"
	req POST /service/fileupload -F "upfile=@$f" \
	    --form-string "file_name=$(printf '%1024s' x)"
	check_error 400 "a file_name field over 1023 bytes"
	req POST /service/fileupload -F "upfile=@$f" --form-string 'file_name=a' \
	    --form-string 'file_name=b'
	check_error 400 "two file_name fields"
	req GET "/service/fileupload/$h"
	check_error 404 "nothing stored by the refused uploads"
	# Without the field the part's filename stays the name.
	upload "$f" plain.txt
	check_status 201
	check_json .file_name plain.txt
}
