# shellcheck shell=bash
#
# POST /service/fileupload: the happy paths, every refusal, the size limits
# and request buffering.
# Sourced by tests/integration/run.sh (helpers in tests/integration/lib.sh).

# 4. POST: the happy path, text
sc_upload_text() {
	local f h
	f=$(new_file upload_text)
	h=$(b2 "$f")
	upload "$f" notes.txt
	check_status 201
	check_content_type_json
	check_meta "$h" notes.txt text/plain "$(stat -c %s "$f")"
	check_header Location "/service/fileupload/$h"
	check_header X-Request-Id
	check_stored "$h" "$f"
	check_tmp_empty
}

sc_upload_png() {
	local f=$IT_TMP/pixel.png h
	printf '\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\x0dIDATx\x9cc\x00\x01\x00\x00\x05\x00\x01\x0d\x0a\x2d\xb4\x00\x00\x00\x00IEND\xaeB\x60\x82' >"$f"
	h=$(b2 "$f")
	# The client's claimed type is ignored: libmagic decides.
	req POST /service/fileupload -F "upfile=@$f;filename=pixel.png;type=text/plain"
	check_status 201
	check_meta "$h" pixel.png image/png "$(stat -c %s "$f")"
	check_stored "$h" "$f"
}

# Types that libmagic tells by its regular expression tests, which the
# worker's regex_skip.c answers at once when they cannot match: the one
# that must match still runs, and the others, skipped, change nothing.
sc_upload_types_by_expression() {
	local f h name type
	while IFS=: read -r name type; do
		f=$IT_TMP/expr-$name
		case $name in
		js) printf 'const fs = require("fs");\nmodule.exports = function () {};\n' ;;
		py) printf 'import os\nfrom sys import argv\n' ;;
		rb) printf 'class Foo\n  def bar\n  end\nend\n' ;;
		mk) printf 'CFLAGS = -O2\nall:\n\tcc -o x x.c\n' ;;
		txt) printf 'A plain note: no keyword of any language here.\n' ;;
		esac >"$f"
		h=$(b2 "$f")
		upload "$f" "$name"
		check_status 201
		check_meta "$h" "$name" "$type" "$(stat -c %s "$f")"
	done <<-EOF
		js:application/javascript
		py:text/x-script.python
		rb:text/x-ruby
		mk:text/x-makefile
		txt:text/plain
	EOF
}

# Binary bytes that look like multipart delimiters, spread over several
# FastCGI records (64 KiB each).
sc_upload_binary_multi_record() {
	local f=$IT_TMP/tricky.bin h i
	{
		# A fixed first byte no magic starts with: random bytes alone
		# sometimes begin with "MZ" or another signature.
		printf '\001\002\003\004\005\006\007\010'
		head -c 300000 /dev/urandom
		for i in $(seq 1 200); do
			printf '\r\n--------------------------%s\r\n--\r\n-\r' "$i"
		done
		head -c 300000 /dev/urandom
	} >"$f"
	h=$(b2 "$f")
	upload "$f" tricky.bin
	check_status 201
	check_meta "$h" tricky.bin application/octet-stream "$(stat -c %s "$f")"
	check_stored "$h" "$f"
	check_tmp_empty
}

sc_upload_chunked() {
	local f h
	f=$(new_file upload_chunked)
	h=$(b2 "$f")
	upload "$f" chunked.txt -H 'Transfer-Encoding: chunked'
	check_status 201
	check_json .file_hash "$h"
	check_stored "$h" "$f"
}

sc_upload_empty_file() {
	local f=$IT_TMP/empty h
	: >"$f"
	h=$(b2 "$f")
	upload "$f" empty.txt
	check_status 201
	check_meta "$h" empty.txt "" 0
	check_stored "$h" "$f"
}

sc_upload_strips_directories() {
	local f h boundary=itBoundary7MA4YWxk
	f=$(new_file strip_slash)
	upload "$f" a/b/c.txt
	check_status 201
	check_json .file_name c.txt
	# A backslash path, sent raw (curl would escape it).
	f=$(new_file strip_backslash)
	h=$(b2 "$f")
	{
		printf -- '--%s\r\n' "$boundary"
		printf 'Content-Disposition: form-data; name="upfile"; filename="a\\b\\d.txt"\r\n'
		printf 'Content-Type: text/plain\r\n\r\n'
		cat "$f"
		printf '\r\n--%s--\r\n' "$boundary"
	} >"$IT_TMP/raw"
	post_raw "multipart/form-data; boundary=$boundary" "$IT_TMP/raw"
	check_status 201
	check_json .file_hash "$h"
	check_json .file_name d.txt
}

# file_name is UTF-8 and fits the 255-byte column, whatever the client sent
# (the worker may refuse such a name with 400 instead).
sc_upload_name_utf8_and_bounded() {
	local f b=itBoundaryUTF8 name
	f=$(new_file name_long)
	name="$(printf 'n%.0s' $(seq 1 254))é.txt"
	upload "$f" "$name"
	if [ "$STATUS" = 201 ]; then
		check "file_name over 255 bytes: $(jf '.file_name | utf8bytelength')" \
		    test "$(jf '.file_name | utf8bytelength')" -le 255
		check "response is not valid UTF-8" iconv -f UTF-8 -t UTF-8 "$IT_TMP/body" -o /dev/null
	else
		check_error 400 "300-byte file name"
	fi
	f=$(new_file name_latin1)
	{
		printf -- '--%s\r\n' "$b"
		printf 'Content-Disposition: form-data; name="upfile"; filename="caf\xe9.txt"\r\n\r\n'
		cat "$f"
		printf '\r\n--%s--\r\n' "$b"
	} >"$IT_TMP/raw"
	post_raw "multipart/form-data; boundary=$b" "$IT_TMP/raw"
	if [ "$STATUS" = 201 ]; then
		check "response with a Latin-1 file name is not valid UTF-8" \
		    iconv -f UTF-8 -t UTF-8 "$IT_TMP/body" -o /dev/null
		req GET /service/fileupload
		check "list is not valid UTF-8" iconv -f UTF-8 -t UTF-8 "$IT_TMP/body" -o /dev/null
	else
		check_error 400 "Latin-1 file name"
	fi
}

sc_upload_ignores_other_fields() {
	local f h
	f=$(new_file other_fields)
	h=$(b2 "$f")
	req POST /service/fileupload -F comment=hello -F "upfile=@$f;filename=x.txt" -F tag=t
	check_status 201
	check_json .file_hash "$h"
}

sc_upload_duplicate_403() {
	local f h created
	f=$(new_file duplicate)
	h=$(b2 "$f")
	upload "$f" first.txt
	check_status 201
	created=$(jf .created_at)
	upload "$f" second.txt
	check_error 403
	check_json .error "File already exist!"
	check_json .file_hash "$h"
	check_header Location "/service/fileupload/$h"
	req GET "/service/fileupload/$h"
	check_json .file_name first.txt
	check_json .created_at "$created"
	check_stored "$h" "$f"
	check_tmp_empty
}

sc_upload_no_upfile_part_400() {
	local f
	f=$(new_file no_upfile)
	req POST /service/fileupload -F "file=@$f"
	check_error 400
	req POST /service/fileupload -F "comment=hi"
	check_error 400 "only a text field"
	check_not_stored "$(b2 "$f")"
}

sc_upload_two_upfile_parts_400() {
	local a b
	a=$(new_file two_parts_a)
	b=$(new_file two_parts_b)
	req POST /service/fileupload -F "upfile=@$a" -F "upfile=@$b"
	check_error 400
	check_not_stored "$(b2 "$a")"
	check_not_stored "$(b2 "$b")"
	check_tmp_empty
}

sc_upload_not_multipart_415() {
	local f
	f=$(new_file not_multipart)
	post_raw application/octet-stream "$f"
	check_error 415
	post_raw 'multipart/form-data' "$f"
	check_error 415 "multipart without boundary"
	post_raw 'multipart/mixed; boundary=abc' "$f"
	check_error 415 "multipart/mixed"
	req POST /service/fileupload --data-binary "@$f" -H 'Content-Type:'
	check_error 415 "no Content-Type"
	check_not_stored "$(b2 "$f")"
}

sc_upload_malformed_multipart_400() {
	local f h b=itBoundaryXYZ
	f=$(new_file truncated)
	h=$(b2 "$f")
	# Missing final boundary: the body just ends.
	{
		printf -- '--%s\r\nContent-Disposition: form-data; name="upfile"; filename="t.txt"\r\n' "$b"
		printf 'Content-Type: text/plain\r\n\r\n'
		cat "$f"
	} >"$IT_TMP/raw"
	post_raw "multipart/form-data; boundary=$b" "$IT_TMP/raw"
	check_error 400 "no final boundary"
	check_not_stored "$h"
	# Truncated inside the part headers.
	printf -- '--%s\r\nContent-Disposition: form-data; name="upf' "$b" >"$IT_TMP/raw"
	post_raw "multipart/form-data; boundary=$b" "$IT_TMP/raw"
	check_error 400 "truncated part headers"
	# A part header line that is not a header.
	{
		printf -- '--%s\r\nthis is not a header\r\n\r\n' "$b"
		cat "$f"
		printf '\r\n--%s--\r\n' "$b"
	} >"$IT_TMP/raw"
	post_raw "multipart/form-data; boundary=$b" "$IT_TMP/raw"
	check_error 400 "bad part header"
	check_not_stored "$h"
	# A body that never mentions the boundary.
	post_raw "multipart/form-data; boundary=$b" "$f"
	check_error 400 "no boundary in the body"
	check_tmp_empty
}

# With nginx's request buffering on (REQUEST_BUFFERING=on), the body reaches
# the worker only once nginx has all of it: the same bytes must come out,
# with a Content-Length and chunked.
sc_upload_request_buffering_on() {
	local f=$IT_TMP/buffered.bin h
	# Three: the resumable uploads' location always streams.
	check_eq "by default every location streams" 3 \
	    "$(grep -c 'fastcgi_request_buffering off;' "$FU_VAR/conf/fileupload-locations.conf" || true)"
	REQUEST_BUFFERING=on restart_nginx
	check_eq "both file locations buffer" 2 \
	    "$(grep -c 'fastcgi_request_buffering on;' "$FU_VAR/conf/fileupload-locations.conf" || true)"
	head -c 1500000 /dev/urandom >"$f"
	h=$(b2 "$f")
	upload "$f" buffered.bin
	check_status 201
	check_stored "$h" "$f"
	req DELETE "/service/fileupload/$h"
	check_status 201 "deleted (the API's 201), to upload again chunked"
	upload "$f" buffered.bin -H 'Transfer-Encoding: chunked'
	check_status 201 "chunked"
	check_stored "$h" "$f"
	check_tmp_empty
	restart_nginx
}

sc_upload_no_content_length_411() {
	# curl -X POST without data sends neither Content-Length nor a
	# chunked body; nginx forwards it with an empty CONTENT_LENGTH.
	req POST /service/fileupload -H 'Content-Type: multipart/form-data; boundary=abc'
	check_error 411
}

sc_upload_too_large_nginx_413() {
	local f=$IT_TMP/big.bin h
	head -c $((IT_MAX + 65536)) /dev/urandom >"$f"
	h=$(b2 "$f")
	upload "$f" big.bin -H 'X-Request-Id: it-413'
	check_error 413
	check_json .error "upload larger than the configured maximum"
	check_header X-Request-Id it-413
	check_not_stored "$h"
	check_tmp_empty
}

# nginx configs drift: the worker enforces MAX_UPLOAD_SIZE by itself.
sc_upload_too_large_worker_413() {
	local f=$IT_TMP/over.bin ok=$IT_TMP/under.bin h
	restart_nginx $((IT_MAX * 4))
	head -c $((IT_MAX + 1)) /dev/urandom >"$f"
	h=$(b2 "$f")
	upload "$f" over.bin
	check_error 413 "file of MAX_UPLOAD_SIZE+1 bytes, nginx limit raised"
	check_not_stored "$h"
	check_tmp_empty
	head -c $((IT_MAX - 4096)) /dev/urandom >"$ok"
	upload "$ok" under.bin
	check_status 201 "file of MAX_UPLOAD_SIZE-4096 bytes"
	check_stored "$(b2 "$ok")" "$ok"
	restart_nginx
}
