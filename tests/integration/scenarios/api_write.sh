# shellcheck shell=bash
#
# PUT and DELETE /service/fileupload/{hash}.
# Sourced by tests/integration/run.sh (helpers in tests/integration/lib.sh).

# 5. PUT /service/fileupload/{hash}
sc_put_updates() {
	local f h created
	f=$(new_file put_ok)
	h=$(b2 "$f")
	upload "$f" before.txt
	check_status 201
	created=$(jf .created_at)
	sleep 1.1
	put_json "$h" '{"file_name":"after.txt","file_type":"text/markdown"}'
	check_status 201
	check_content_type_json
	check_meta "$h" after.txt text/markdown "$(stat -c %s "$f")"
	check_json .created_at "$created"
	check "updated_at moved on ($(jf .updated_at) vs $created)" \
	    test "$(jf .updated_at)" \> "$created"
	req GET "/service/fileupload/$h"
	check_meta "$h" after.txt text/markdown "$(stat -c %s "$f")"
	# One property alone, an upper-case hash and a charset parameter.
	put_json "${h^^}" '{"file_name":"again.txt"}' 'application/json; charset=utf-8'
	check_status 201
	check_json .file_name again.txt
	check_json .file_type text/markdown
	put_json "$h" '{"file_type":"application/x-thing"}'
	check_status 201
	check_json .file_name again.txt
	check_json .file_type application/x-thing
	# UTF-8 names are fine.
	put_json "$h" '{"file_name":"r\u00e9sum\u00e9 \u2603.txt"}'
	check_status 201
	check_json .file_name 'résumé ☃.txt'
	check_stored "$h" "$f"
}

sc_put_invalid_403() {
	local f h long body
	f=$(new_file put_invalid)
	h=$(b2 "$f")
	upload "$f" keep.txt
	check_status 201
	long=$(printf 'x%.0s' $(seq 1 256))
	for body in '{"file_name":"x.txt","color":"red"}' '{"size":1}' '{}' \
	    '{"file_name":"a/b.txt"}' '{"file_name":"a\\b.txt"}' \
	    '{"file_name":""}' "{\"file_name\":\"$long\"}" \
	    '{"file_name":"a\u0000b"}' '{"file_name":"a\nb"}' \
	    '{"file_name":42}' '{"file_name":null}' '{"file_type":"plain"}' \
	    '{"file_type":"text/"}' '{"file_type":""}' '{"file_type":7}' \
	    '[]' '"x"' '42'; do
		put_json "$h" "$body"
		check_error 403 "PUT $body"
	done
	req GET "/service/fileupload/$h"
	check_json .file_name keep.txt
	check_json .file_type text/plain
}

sc_put_not_json_400() {
	local f h body
	f=$(new_file put_badjson)
	h=$(b2 "$f")
	upload "$f"
	check_status 201
	for body in '{"file_name":' 'not json' '' '{"file_name":"a"} trailing'; do
		put_json "$h" "$body"
		check_error 400 "PUT '$body'"
	done
}

sc_put_wrong_content_type_415() {
	local f h
	f=$(new_file put_ct)
	h=$(b2 "$f")
	upload "$f"
	check_status 201
	put_json "$h" '{"file_name":"x.txt"}' text/plain
	check_error 415 "text/plain"
	req PUT "/service/fileupload/$h" -F 'file_name=x.txt'
	check_error 415 "multipart"
	req PUT "/service/fileupload/$h" --data-binary '{"file_name":"x.txt"}' -H 'Content-Type:'
	check_error 415 "no Content-Type"
}

sc_put_unknown_404_malformed_400() {
	put_json "$(printf '%064d' 0)" '{"file_name":"x.txt"}'
	check_error 404
	put_json nothex '{"file_name":"x.txt"}'
	check_error 400
}

# 6. DELETE /service/fileupload/{hash}
sc_delete() {
	local f h
	f=$(new_file delete_me)
	h=$(b2 "$f")
	upload "$f" gone.txt
	check_status 201
	check_stored "$h" "$f"
	req DELETE "/service/fileupload/$h"
	check_status 201
	check_content_type_json
	check_json 'type' string
	check_json . 'File gone.txt deleted!'
	check_not_stored "$h"
	req GET "/service/fileupload/$h"
	check_error 404 "GET after DELETE"
	req DELETE "/service/fileupload/$h"
	check_error 404 "second DELETE"
	# The same bytes can come back.
	upload "$f" back.txt
	check_status 201 "upload after DELETE"
	check_stored "$h" "$f"
	req DELETE "/service/fileupload/${h^^}"
	check_status 201 "DELETE upper-case hash"
	check_not_stored "$h"
}

sc_delete_malformed_400() {
	req DELETE /service/fileupload/nothex
	check_error 400
	req DELETE "/service/fileupload/$(printf '%063d' 0)"
	check_error 400
}
