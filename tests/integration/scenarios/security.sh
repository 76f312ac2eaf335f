# shellcheck shell=bash
#
# Hostile input: hashes and paths, file names, multipart limits; and the
# modes of what the workers create.
# Sourced by tests/integration/run.sh (helpers in tests/integration/lib.sh).

# Paths that try to leave the hash: never a stored or system file, never
# a server error.  (nginx itself decodes and normalizes the path first:
# "<hash>%2F..%2F" is the collection, an over-long URI is its 414.)
sc_hostile_hashes() {
	local h p m
	h=$(printf '%064d' 7)
	for p in "..%2F..%2F..%2Fetc%2Fpasswd" "$h%00" "${h}%2F..%2F" \
	    "$(printf 'a%.0s' $(seq 1 300))" "${h:0:63}g" "${h}0" \
	    "%2e%2e" "$h/content%00" "$h/..%2F..%2Fcontent"; do
		for m in GET DELETE; do
			req "$m" "/service/fileupload/$p"
			case $STATUS in
			200)
				if [ "$m" != GET ] || ! jq -e 'type == "array"' \
				    "$IT_TMP/body" >/dev/null 2>&1; then
					fail "$m $p: 200 $(body_preview)"
				fi
				;;
			400 | 404 | 405 | 414) ;;
			*) fail "$m $p: $STATUS" ;;
			esac
			! grep -q root: "$IT_TMP/body" ||
			    fail "$m $p: a system file came back"
		done
	done
	req GET "/service/fileupload/${h:0:63}Z"
	check_error 400 "63 hex digits and a Z"
	req GET "/service/fileupload/${h}0"
	check_error 400 "65 hex digits"
	req GET "/service/fileupload/$h%00"
	check_status 400 "a hash with %00 after it"
}

# raw_part FILE NAME_PARAMS: a one-part multipart body in FILE.
raw_part() {
	printf -- '--hb\r\nContent-Disposition: form-data; name="upfile"; %s\r\n\r\nhostile %s\r\n--hb--\r\n' \
	    "$2" "$RANDOM$RANDOM$(date +%s%N)" >"$1"
}

# Hostile file names are stored as safe UTF-8 within 255 bytes.
sc_hostile_file_names() {
	local f=$IT_TMP/files/hn.body long name
	mkdir -p "$IT_TMP/files"
	long=$(printf 'n%.0s' $(seq 1 10240))
	raw_part "$f" "filename=\"$long.txt\""
	post_raw "multipart/form-data; boundary=hb" "$f"
	check_error 400 "10 KB file name (over the part header line cap)"
	long=$(printf 'n%.0s' $(seq 1 1000))
	raw_part "$f" "filename=\"$long.txt\""
	post_raw "multipart/form-data; boundary=hb" "$f"
	check_status 201 "1000-byte file name"
	check_eq "name cut to 255 bytes" 255 "$(jf .file_name | tr -d '\n' | wc -c)"

	raw_part "$f" "filename=\"bad$(printf '\377\376')utf8.txt\""
	post_raw "multipart/form-data; boundary=hb" "$f"
	check_status 201 "invalid UTF-8 in the file name"
	check_eq "invalid bytes become U+FFFD" "bad��utf8.txt" "$(jf .file_name)"

	raw_part "$f" "filename*=UTF-8''..%2F..%2Fetc%2Fpasswd"
	post_raw "multipart/form-data; boundary=hb" "$f"
	check_status 201 "a name with ../"
	check_eq "directory part removed" passwd "$(jf .file_name)"
	check "nothing written outside DATA_DIR" test ! -e "$IT_DATA_DIR/../etc/passwd"

	raw_part "$f" "filename*=UTF-8''a%00b.txt"
	post_raw "multipart/form-data; boundary=hb" "$f"
	check_error 400 "a NUL in the file name"

	raw_part "$f" "filename=\"tab$(printf '\t')here\""
	post_raw "multipart/form-data; boundary=hb" "$f"
	check_status 201 "a control character in the file name"
	name=$(jf .file_name)
	check_eq "control character replaced" "tab_here" "$name"
}

# The multipart caps each answer 400 with their own reason.
sc_multipart_limits_400() {
	local f=$IT_TMP/files/limits.body i
	mkdir -p "$IT_TMP/files"
	{
		printf -- '--lb\r\nContent-Disposition: form-data; name="upfile"; filename="a"\r\nX-Long: '
		head -c 9000 /dev/zero | tr '\0' x
		printf '\r\n\r\ndata\r\n--lb--\r\n'
	} >"$f"
	post_raw "multipart/form-data; boundary=lb" "$f"
	check_error 400 "a 9000-byte part header line"
	check_json .error "$(jq -r .error "$IT_TMP/body")"
	grep -qi "header" "$IT_TMP/body" || fail "reason does not name the header: $(body)"

	{
		for i in $(seq 1 65); do
			printf -- '--lb\r\nContent-Disposition: form-data; name="f%d"\r\n\r\nv\r\n' "$i"
		done
		printf -- '--lb\r\nContent-Disposition: form-data; name="upfile"; filename="a"\r\n\r\nx\r\n--lb--\r\n'
	} >"$f"
	post_raw "multipart/form-data; boundary=lb" "$f"
	check_error 400 "65 fields and a file"
	grep -qi "parts" "$IT_TMP/body" || fail "reason does not name the parts: $(body)"

	{
		printf -- '--lb\r\nContent-Disposition: form-data; name="upfile"; filename="a"\r\n'
		for i in $(seq 1 20); do
			printf 'X-H%d: v\r\n' "$i"
		done
		printf '\r\nx\r\n--lb--\r\n'
	} >"$f"
	post_raw "multipart/form-data; boundary=lb" "$f"
	check_error 400 "20 header lines in a part"
	check_tmp_empty
}

# What the workers create is theirs alone: files 0640, no world access.
sc_file_modes() {
	local f h p
	f=$(new_file modes)
	h=$(b2 "$f")
	upload "$f"
	check_status 201
	p=$(stored_path "$h")
	check_eq "stored file mode" 640 "$(stat -c %a "$p")"
	check_eq "stored file owner" "$FU_USER" "$(stat -c %U "$p")"
	check_eq "log file mode" 640 "$(stat -c %a "$FU_VAR/logs/fileupload.log")"
	# shellcheck disable=SC2016 # $1 belongs to the inner shell
	check "workers do not run as root" \
	    bash -c '! ps -o user= -p "$(echo "$1" | tr "\n" ",")" | grep -qx root' _ "$(fu_pool_pids)"
}
