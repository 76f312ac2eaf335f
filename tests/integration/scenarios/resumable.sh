# shellcheck shell=bash
#
# Resumable uploads (tus 1.0.0) through nginx with curl: creation, chunks,
# offsets, every status of the protocol, a PATCH cut mid-body, a worker
# killed mid-PATCH, two PATCHes at once, expiry, completion into an
# ordinary file; and the digest fields of a multipart POST.
# Sourced by tests/integration/run.sh (helpers in tests/integration/lib.sh;
# wait_for and random_file come from faults.sh, sourced alongside).

TUS=/service/fileupload/uploads
# Where the partial bytes are: local (DATA_DIR/tmp) or s3 (the scenarios
# of resumable_s3.sh run these on the object store).
TUS_STORE=local
TUS_V=(-H "Tus-Resumable: 1.0.0")
TUS_CT=(-H "Content-Type: application/offset+octet-stream")

# tus_create LENGTH [NAME [curl args...]]: POST a creation; TUS_LOC is the
# Location (the upload's path).
tus_create() {
	local len=$1 name=${2:-tus.bin}
	shift 2 || shift $#
	req POST "$TUS" "${TUS_V[@]}" -H "Upload-Length: $len" \
	    -H "Upload-Metadata: filename $(printf '%s' "$name" | base64 -w0),filetype dGV4dC9wbGFpbg==" "$@"
	TUS_LOC=$(header Location)
}

# tus_patch PATH OFFSET FILE [curl args...]: FILE's bytes at OFFSET, as
# TUS_TYPE (default application/offset+octet-stream).
tus_patch() {
	local path=$1 off=$2 file=$3
	shift 3
	req PATCH "$path" "${TUS_V[@]}" -H "Upload-Offset: $off" \
	    -H "Content-Type: ${TUS_TYPE:-application/offset+octet-stream}" \
	    --data-binary "@$file" "$@"
}

tus_head() {
	req HEAD "$1" -I "${TUS_V[@]}"
}

# part FILE OFFSET LENGTH: those bytes of FILE, in a file; prints its path.
part() {
	local out
	out=$IT_TMP/files/part.$2.$3.$RANDOM
	{ tail -c +"$(($2 + 1))" "$1" || true; } | head -c "$3" >"$out"
	printf '%s\n' "$out"
}

# The partial file of the upload at PATH.
part_file() {
	printf '%s/tmp/part-%s\n' "$IT_DATA_DIR" "${1##*/}"
}

on_local() {
	[ "$TUS_STORE" = local ]
}

# tus_check_stored HASH FILE: the stored file of HASH has FILE's bytes.
tus_check_stored() {
	if on_local; then
		check_stored "$1" "$2"
	else
		check "the object of $1 has the bytes" cmp -s "$(s3_object "$1")" "$2"
	fi
}

# part_present PATH: the upload's partial bytes are in the store (S3: its
# multipart upload or a tail object).
part_present() {
	if on_local; then
		test -f "$(part_file "$1")"
	else
		[ -n "$(s3_part_keys "${1##*/}")" ]
	fi
}

part_absent() {
	! part_present "$1"
}

# tus_pool_restart [VAR=VALUE...]: the pool again, with these settings,
# on the scenario's store.
tus_pool_restart() {
	local a
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	for a in "$@"; do export "${a?}"; done
	if on_local; then start_pool; else s3_pool_start; fi
	for a in "$@"; do unset "${a%%=*}"; done
}

# b64_of HEXDIGEST: the digest's bytes in base64.
b64_of() {
	printf '%s' "$1" | sed 's/../\\x&/g' | xargs -0 printf '%b' | base64 -w0
}

# The upload's offset as HEAD reports it.
head_offset() {
	tus_head "$1"
	header Upload-Offset
}

offset_above() {
	local o
	o=$(head_offset "$1")
	[ -n "$o" ] && [ "$o" -gt "$2" ]
}

# check_completed FILE NAME: the last answer completed the upload of FILE
# (check_finished then).
check_completed() {
	local h
	h=$(b2 "$1")
	check_header Upload-Offset "$(stat -c %s "$1")"
	check_header File-Hash "$h"
	check_header Link "</service/fileupload/$h>; rel=\"item\""
	check_finished "$@"
}

# check_finished FILE NAME: FILE is an ordinary file named NAME: stored,
# listed, downloadable with its SHA-256 as Repr-Digest, deletable.
check_finished() {
	local f=$1 name=$2 h sha size
	h=$(b2 "$f")
	size=$(stat -c %s "$f")
	tus_check_stored "$h" "$f"
	req GET "/service/fileupload/$h"
	check_status 200 "the file's metadata"
	check_meta "$h" "$name" "" "$size"
	req GET /service/fileupload
	# shellcheck disable=SC2016  # $h is jq's
	check "listed" jq -e --arg h "$h" 'any(.[]; .file_hash == $h)' "$IT_TMP/body"
	req GET "/service/fileupload/$h/content"
	check_status 200 "download"
	check "downloaded bytes are the source's" cmp -s "$IT_TMP/body" "$f"
	sha=$(sha256sum "$f" | cut -d' ' -f1)
	check_header Repr-Digest "sha-256=:$(b64_of "$sha"):"
	req DELETE "/service/fileupload/$h"
	check_status 201 "delete the finished file"
}

sc_tus_options() {
	req OPTIONS "$TUS"
	check_status 204 OPTIONS
	check_header Tus-Version 1.0.0
	check_header Tus-Max-Size "$IT_MAX"
	check_header Tus-Checksum-Algorithm sha1,sha256,sha512
	check "Tus-Extension lists creation, termination, checksum" \
	    grep -Eq 'creation,.*termination.*checksum' <<<"$(header Tus-Extension)"
}

# Create, three PATCHes with HEAD between, completion: the stored file's
# hash is b2sum's; HEAD then says complete; the file is an ordinary one.
sc_tus_chunks_complete() {
	local f off=0 n=${TUS_CHUNK:-500000} p size
	f=$(random_file tus-chunks.bin "${TUS_SIZE:-1400000}")
	size=$(stat -c %s "$f")
	tus_create "$size" "chunks é.bin"
	check_status 201 creation
	check "Location is an upload URL ($TUS_LOC)" \
	    grep -Eq "^$TUS/[A-Za-z0-9_-]{22}$" <<<"$TUS_LOC"
	check_header Tus-Resumable 1.0.0
	check_header Upload-Expires
	# An S3 upload has nothing in the store before its first bytes.
	if on_local; then
		check "the partial file exists" part_present "$TUS_LOC"
	fi
	tus_head "$TUS_LOC"
	check_status 200 HEAD
	check_header Upload-Offset 0
	check_header Upload-Length "$size"
	check_header Cache-Control no-store
	check "HEAD echoes Upload-Metadata" grep -q '^filename ' <<<"$(header Upload-Metadata)"
	while [ "$off" -lt "$size" ]; do
		p=$(part "$f" "$off" "$n")
		tus_patch "$TUS_LOC" "$off" "$p"
		check_status 204 "PATCH at $off"
		off=$((off + $(stat -c %s "$p")))
		[ "$off" -ge "$size" ] && break
		check_header Upload-Offset "$off"
		check_eq "HEAD offset" "$off" "$(head_offset "$TUS_LOC")"
	done
	check_completed "$f" "chunks é.bin"
	check "the partial file is gone" part_absent "$TUS_LOC"
	tus_head "$TUS_LOC"
	check_status 200 "HEAD of a complete upload"
	check_header Upload-Offset "$size"
	check_header File-Hash "$(b2 "$f")"
}

# The status codes of the protocol.
sc_tus_errors() {
	local f loc p sha1 sha256 sha512 big=$((IT_MAX + 1))
	f=$(random_file tus-errors.bin 30000)
	req POST "$TUS" -H "Upload-Length: 10"
	check_error 412 "creation without Tus-Resumable"
	req POST "$TUS" -H "Tus-Resumable: 0.2.2" -H "Upload-Length: 10"
	check_error 412 "another version"
	check_header Tus-Version 1.0.0
	req POST "$TUS" "${TUS_V[@]}"
	check_error 400 "neither Upload-Length nor Upload-Defer-Length"
	req POST "$TUS" "${TUS_V[@]}" -H "Upload-Length: 10" -H "Upload-Defer-Length: 1"
	check_error 400 "both"
	req POST "$TUS" "${TUS_V[@]}" -H "Upload-Length: -1"
	check_error 400 "a negative length"
	req POST "$TUS" "${TUS_V[@]}" -H "Upload-Length: $big"
	check_error 413 "longer than Tus-Max-Size"
	req POST "$TUS" "${TUS_V[@]}" -H "Upload-Length: 10" -H "Upload-Metadata: filename not*base64"
	check_error 400 "bad Upload-Metadata"
	req POST "$TUS" "${TUS_V[@]}" -H "Upload-Length: 10" -H "Upload-Metadata: a YQ==,a YQ=="
	check_error 400 "a metadata key twice"

	tus_create 30000 errors.bin
	check_status 201 creation
	loc=$TUS_LOC
	p=$(part "$f" 0 1000)
	req PATCH "$loc" "${TUS_CT[@]}" -H "Upload-Offset: 0" --data-binary "@$p"
	check_error 412 "PATCH without Tus-Resumable"
	TUS_TYPE=application/octet-stream tus_patch "$loc" 0 "$p"
	check_error 415 "PATCH of another content type"
	tus_patch "$loc" 5 "$p"
	check_error 409 "PATCH at the wrong offset"
	tus_patch "$loc" x "$p"
	check_error 400 "a malformed offset"
	tus_patch "$loc" 0 "$p" -H "Upload-Length: 29999"
	check_error 400 "another length declared"
	tus_patch "$TUS/AAAAAAAAAAAAAAAAAAAAAA" 0 "$p"
	check_error 404 "an unknown upload"
	tus_patch "$TUS/not-an-id" 0 "$p"
	check_error 404 "a malformed id"
	tus_head "$TUS/AAAAAAAAAAAAAAAAAAAAAA"
	check_status 404 "HEAD of an unknown upload"

	# Checksums: a mismatch drops the chunk, the offset stays.
	tus_patch "$loc" 0 "$p" -H "Upload-Checksum: sha1 $(b64_of "$(sha1sum "$f" | cut -d' ' -f1)")"
	check_error 460 "sha1 checksum mismatch"
	check_eq "offset after a mismatch" 0 "$(head_offset "$loc")"
	if on_local; then
		check_eq "partial file after a mismatch" 0 \
		    "$(stat -c %s "$(part_file "$loc")")"
	fi
	tus_patch "$loc" 0 "$p" -H "Upload-Checksum: md5 AAAA"
	check_error 400 "an unknown checksum algorithm"
	tus_patch "$loc" 0 "$p" -H "Upload-Checksum: sha1 !!"
	check_error 400 "a malformed checksum"
	sha1=$(b64_of "$(sha1sum "$p" | cut -d' ' -f1)")
	tus_patch "$loc" 0 "$p" -H "Upload-Checksum: sha1 $sha1"
	check_status 204 "sha1 checksum that matches"
	check_header Upload-Offset 1000
	p=$(part "$f" 1000 1000)
	sha256=$(b64_of "$(sha256sum "$p" | cut -d' ' -f1)")
	sha512=$(b64_of "$(sha512sum "$p" | cut -d' ' -f1)")
	tus_patch "$loc" 1000 "$p" -H "Upload-Checksum: sha512 $sha512"
	check_status 204 "sha512 checksum"
	p=$(part "$f" 2000 1000)
	tus_patch "$loc" 2000 "$p" -H "Content-Digest: sha-256=:$sha256:"
	check_error 400 "Content-Digest mismatch"
	check_eq "offset after a digest mismatch" 2000 "$(head_offset "$loc")"
	sha256=$(b64_of "$(sha256sum "$p" | cut -d' ' -f1)")
	tus_patch "$loc" 2000 "$p" -H "Content-Digest: md5=:AAAA:, sha-256=:$sha256:"
	check_status 204 "Content-Digest that matches"
	# X-HTTP-Method-Override: a POST that is a PATCH.
	p=$(part "$f" 3000 1000)
	req POST "$loc" "${TUS_V[@]}" "${TUS_CT[@]}" -H "X-HTTP-Method-Override: PATCH" \
	    -H "Upload-Offset: 3000" --data-binary "@$p"
	check_status 204 "POST overridden to PATCH"
	check_header Upload-Offset 4000
	# Past the declared length: 413, nothing kept.
	tus_patch "$loc" 4000 "$f"
	check_error 413 "a body past Upload-Length"
	check_eq "offset after 413" 4000 "$(head_offset "$loc")"
	# Termination.
	req DELETE "$loc"
	check_error 412 "DELETE without Tus-Resumable"
	req DELETE "$loc" "${TUS_V[@]}"
	check_status 204 "termination"
	check_header Tus-Resumable 1.0.0
	check "the partial file is gone" part_absent "$loc"
	tus_head "$loc"
	check_status 404 "HEAD after termination"
	tus_patch "$loc" 4000 "$p"
	check_error 404 "PATCH after termination"
}

# Upload-Defer-Length, then the length on the last PATCH.
sc_tus_defer_length() {
	local f p
	f=$(random_file tus-defer.bin 20000)
	req POST "$TUS" "${TUS_V[@]}" -H "Upload-Defer-Length: 1"
	check_status 201 "creation with a deferred length"
	TUS_LOC=$(header Location)
	tus_head "$TUS_LOC"
	check_header Upload-Defer-Length 1
	check_no_header Upload-Length
	p=$(part "$f" 0 12000)
	tus_patch "$TUS_LOC" 0 "$p"
	check_status 204 "a chunk of unknown total"
	p=$(part "$f" 12000 20004)
	tus_patch "$TUS_LOC" 12000 "$p" -H "Upload-Length: 20004"
	check_status 204 "the last chunk declares the length"
	check_completed "$f" upload
}

# creation-with-upload: the whole file in the POST; the same bytes again
# are 403 and leave no upload behind.
sc_tus_creation_with_upload() {
	local f size loc
	f=$(random_file tus-cwu.bin 40000)
	size=$(stat -c %s "$f")
	tus_create "$size" cwu.bin "${TUS_CT[@]}" --data-binary "@$f"
	check_status 201 "creation with the whole upload"
	check_header Upload-Offset "$size"
	check_header File-Hash "$(b2 "$f")"
	tus_check_stored "$(b2 "$f")" "$f"
	tus_create "$size" cwu.bin "${TUS_CT[@]}" --data-binary "@$f"
	check_error 403 "the same bytes again"
	check_json .file_hash "$(b2 "$f")"
	check_eq "one Location, the stored file's" "/service/fileupload/$(b2 "$f")" \
	    "$(tr -d '\r' <"$IT_TMP/headers" | sed -n 's/^Location: //Ip' | paste -sd,)"
	req GET "/service/fileupload/$(b2 "$f")/content"
	check_status 200 "the first file is intact"
	# A creation with a body of another type: 415.
	tus_create "$size" cwu.bin -H "Content-Type: text/plain" --data-binary "@$f"
	check_error 415 "creation with a text/plain body"
	req DELETE "/service/fileupload/$(b2 "$f")"
	check_status 201
}

# The last PATCH of bytes already stored: 403, the upload removed.
sc_tus_duplicate() {
	local f size loc
	f=$(random_file tus-dup.bin 30000)
	size=$(stat -c %s "$f")
	upload "$f" dup.bin
	check_status 201 "multipart upload"
	tus_create "$size"
	loc=$TUS_LOC
	tus_patch "$loc" 0 "$f"
	check_error 403 "completing a duplicate"
	check_json .file_hash "$(b2 "$f")"
	check_header Location "/service/fileupload/$(b2 "$f")"
	tus_head "$loc"
	check_status 404 "the duplicate upload is removed"
	check "its partial file is gone" part_absent "$loc"
	req DELETE "/service/fileupload/$(b2 "$f")"
	check_status 201
}

# patch_cut FILE RATE: a PATCH of FILE at offset 0 of the upload at
# TUS_LOC, sent at RATE bytes/s, whose client is killed after 2 s; then the
# offset shows what arrived.
patch_cut() {
	local pid
	curl -sS -o /dev/null --limit-rate "$2" -X PATCH "${TUS_V[@]}" "${TUS_CT[@]}" \
	    -H "Upload-Offset: 0" --data-binary "@$1" "$IT_URL$TUS_LOC" 2>/dev/null &
	pid=$!
	sleep 2
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	check "the bytes that arrived are recorded" wait_for 20 offset_above "$TUS_LOC" 0
}

# A PATCH whose client dies mid-body: the bytes that arrived are kept and
# the client resumes from HEAD's offset.
sc_tus_resume_after_cut() {
	local f size off p
	f=$(random_file tus-cut.bin 1800000)
	size=$(stat -c %s "$f")
	tus_create "$size" cut.bin
	check_status 201
	patch_cut "$f" 200k
	off=$(head_offset "$TUS_LOC")
	check "offset below the size ($off)" test "${off:-0}" -lt "$size"
	p=$(part "$f" "${off:-0}" "$size")
	tus_patch "$TUS_LOC" "${off:-0}" "$p"
	check_status 204 "resumed from $off"
	check_completed "$f" cut.bin
}

# The worker that has the partial file open.
worker_with_part() {
	worker_with_open "$IT_DATA_DIR/tmp/part-*"
}

# A request writes the upload at PATH: it holds the partial file (local)
# or the row's lease (S3).
has_part_writer() {
	if on_local; then
		worker_with_part >/dev/null
	else
		[ "$(fu_pg_psql "$IT_PG_DIR" "$FU_DB_NAME" -qtAc \
		    "SELECT count(*) FROM uploads WHERE upload_id = '${TUS_LOC##*/}' AND writer_until > now()")" = 1 ]
	fi
}

# Kills the worker that writes the upload (S3: every worker, since no
# descriptor tells which).
kill_part_writer() {
	local pid
	if on_local; then
		pid=$(worker_with_part || true)
		[ -z "$pid" ] || kill -KILL "$pid"
		return 0
	fi
	for pid in $(fu_pool_pids); do
		fu_pid_is "$pid" "$FU_POOL_WORKER" && kill -KILL "$pid"
	done
	return 0
}

# patch_goes PATH OFFSET FILE: a PATCH that is not refused 423 (a dead
# writer's lease has run out); its answer is the last one.
patch_goes() {
	tus_patch "$@"
	[ "$STATUS" != 423 ]
}

# kill -9 of the worker mid-PATCH: the offset stays what was committed,
# bytes past it are cut off, and the upload resumes and completes.
sc_tus_worker_killed() {
	local f size pid off p
	f=$(random_file tus-kill.bin 1500000)
	size=$(stat -c %s "$f")
	tus_create "$size" kill.bin
	p=$(part "$f" 0 100000)
	tus_patch "$TUS_LOC" 0 "$p"
	check_status 204 "a first chunk"
	p=$(part "$f" 100000 "$size")
	curl -sS -o /dev/null --limit-rate 200k -X PATCH "${TUS_V[@]}" "${TUS_CT[@]}" \
	    -H "Upload-Offset: 100000" --data-binary "@$p" "$IT_URL$TUS_LOC" 2>/dev/null &
	pid=$!
	check "a worker writes the upload" wait_for 10 has_part_writer
	sleep 1
	kill_part_writer
	wait "$pid" 2>/dev/null || true
	check "multiwatch replaced the worker" wait_for 10 pool_has 2
	if on_local; then
		check "bytes past the offset are on disk" \
		    test "$(stat -c %s "$(part_file "$TUS_LOC")")" -gt 100000
	fi
	off=$(head_offset "$TUS_LOC")
	check_eq "the committed offset" 100000 "$off"
	if on_local; then
		check_eq "HEAD cut the bytes past it" 100000 \
		    "$(stat -c %s "$(part_file "$TUS_LOC")")"
	fi
	p=$(part "$f" 100000 "$size")
	# S3: the killed writer's lease runs out first (RESUMABLE_LEASE_S).
	check "no 423 once the lease ran out" wait_for 60 patch_goes \
	    "$TUS_LOC" 100000 "$p"
	check_status 204 "resumed after the kill"
	check_completed "$f" kill.bin
}

# Two PATCHes of one upload at once: the second waits for the first, then
# is refused (423); the bytes never interleave.
sc_tus_concurrent_patches() {
	local f size pid st
	f=$(random_file tus-two.bin 1000000)
	size=$(stat -c %s "$f")
	tus_create "$size" two.bin
	curl -sS -o /dev/null -w '%{http_code}' --limit-rate 100k -X PATCH \
	    "${TUS_V[@]}" "${TUS_CT[@]}" -H "Upload-Offset: 0" \
	    --data-binary "@$f" "$IT_URL$TUS_LOC" >"$IT_TMP/first.status" 2>/dev/null &
	pid=$!
	check "the first PATCH is in a worker" wait_for 10 has_part_writer
	tus_patch "$TUS_LOC" 0 "$f"
	check_error 423 "a second PATCH while the first writes"
	wait "$pid" || true
	st=$(cat "$IT_TMP/first.status")
	check_eq "the first PATCH" 204 "$st"
	tus_head "$TUS_LOC"
	check_header Upload-Offset "$size"
	check_header File-Hash "$(b2 "$f")"
	check_finished "$f" two.bin
}

# UPLOAD_EXPIRES: an unfinished upload expires (410), and the sweep (at a
# worker's start, then every minute) removes its row and bytes (404).
sc_tus_expiry() {
	local f loc
	f=$(random_file tus-exp.bin 5000)
	tus_pool_restart UPLOAD_EXPIRES=2
	tus_create 10000 exp.bin
	loc=$TUS_LOC
	tus_patch "$loc" 0 "$f"
	check_status 204 "a chunk"
	sleep 3
	tus_head "$loc"
	check_status 410 "HEAD of an expired upload"
	tus_patch "$loc" 5000 "$f"
	check_error 410 "PATCH of an expired upload"
	check "the bytes are there until the sweep" part_present "$loc"
	tus_pool_restart
	tus_head "$loc"
	check_status 404 "after the sweep"
	check "the sweep removed the bytes" part_absent "$loc"
}

# concatenation: partial uploads are not files; a final upload is made of
# them, in order, at its creation (201 with the file), HEAD tells both
# kinds; the errors of a final creation and of a PATCH to a final upload.
sc_tus_concatenation() {
	local a b c la lb joined loc_a loc_b loc_c loc_d final other h loc
	a=$(random_file tus-concat-a.bin "${TUS_CONCAT_A:-1200000}")
	b=$(random_file tus-concat-b.bin 500000)
	c=$(random_file tus-concat-c.bin 1000)
	la=$(stat -c %s "$a")
	lb=$(stat -c %s "$b")
	joined=$IT_TMP/files/tus-concat-ab.bin
	cat "$a" "$b" >"$joined"
	h=$(b2 "$joined")
	req OPTIONS "$TUS"
	check "Tus-Extension lists concatenation" \
	    grep -q concatenation <<<"$(header Tus-Extension)"

	tus_create "$la" a.bin -H "Upload-Concat: partial"
	check_status 201 "a partial upload"
	loc_a=$TUS_LOC
	tus_patch "$loc_a" 0 "$(part "$a" 0 700000)"
	check_status 204 "its first chunk"
	tus_patch "$loc_a" 700000 "$(part "$a" 700000 "$la")"
	check_status 204 "its last chunk"
	check_header Upload-Offset "$la"
	check_no_header File-Hash
	req GET "/service/fileupload/$(b2 "$a")"
	check_error 404 "a complete partial upload is no file"
	tus_head "$loc_a"
	check_header Upload-Concat partial
	check_header Upload-Offset "$la"
	tus_create "$lb" b.bin -H "Upload-Concat: partial" "${TUS_CT[@]}" \
	    --data-binary "@$b"
	check_status 201 "a partial upload created with all its bytes"
	loc_b=$TUS_LOC
	tus_create 5000 c.bin -H "Upload-Concat: partial"
	loc_c=$TUS_LOC
	tus_patch "$loc_c" 0 "$c"
	check_status 204 "an unfinished partial upload"
	tus_create 10 other.bin
	other=$TUS_LOC

	req POST "$TUS" "${TUS_V[@]}" -H "Upload-Concat: final;$loc_a $TUS/AAAAAAAAAAAAAAAAAAAAAA"
	check_error 400 "a final upload of an unknown upload"
	req POST "$TUS" "${TUS_V[@]}" -H "Upload-Concat: final;$loc_a $loc_c"
	check_error 400 "a final upload of an unfinished partial upload"
	req POST "$TUS" "${TUS_V[@]}" -H "Upload-Concat: final;$loc_a $other"
	check_error 400 "a final upload of an upload that is not partial"
	req POST "$TUS" "${TUS_V[@]}" -H "Upload-Concat: final;$loc_a $loc_b" \
	    -H "Upload-Length: $((la + lb))"
	check_error 400 "a final upload with Upload-Length"
	req POST "$TUS" "${TUS_V[@]}" -H "Upload-Concat: final;"
	check_error 400 "a final upload of nothing"
	req POST "$TUS" "${TUS_V[@]}" -H "Upload-Concat: whole"
	check_error 400 "another Upload-Concat"

	req POST "$TUS" "${TUS_V[@]}" -H "Upload-Concat: final;$IT_URL$loc_a $loc_b" \
	    -H "Upload-Metadata: filename $(printf joined.bin | base64 -w0)"
	check_status 201 "a final upload of two partial ones"
	final=$(header Location)
	check_header Upload-Offset "$((la + lb))"
	check_header File-Hash "$h"
	tus_head "$final"
	check_status 200 "HEAD of the final upload"
	check_header Upload-Concat "final;$loc_a $loc_b"
	check_header Upload-Length "$((la + lb))"
	check_header Upload-Offset "$((la + lb))"
	tus_patch "$final" "$((la + lb))" "$c"
	check_error 403 "a PATCH to a final upload"
	req POST "$TUS" "${TUS_V[@]}" -H "Upload-Concat: final;$loc_a $loc_b"
	check_error 403 "the same final upload again: its bytes are stored"
	check_json .file_hash "$h"
	check_finished "$joined" joined.bin
	# A partial upload of a deferred length, declared by an empty PATCH.
	req POST "$TUS" "${TUS_V[@]}" -H "Upload-Defer-Length: 1" -H "Upload-Concat: partial"
	check_status 201 "a partial upload of a deferred length"
	loc_d=$(header Location)
	tus_patch "$loc_d" 0 "$c"
	check_status 204 "its bytes"
	req PATCH "$loc_d" "${TUS_V[@]}" "${TUS_CT[@]}" -H "Upload-Offset: 1004" \
	    -H "Upload-Length: 1004"
	check_status 204 "its length, with no bytes"
	req POST "$TUS" "${TUS_V[@]}" -H "Upload-Concat: final;$loc_d"
	check_status 201 "a final upload of that one"
	check_header File-Hash "$(b2 "$c")"
	req DELETE "/service/fileupload/$(b2 "$c")"
	check_status 201 "delete its file"
	for loc in "$loc_a" "$loc_b" "$loc_c" "$loc_d" "$other"; do
		req DELETE "$loc" "${TUS_V[@]}"
		check_status 204 "termination of ${loc##*/}"
	done
}

# HEAD gives Upload-Metadata back whole, up to the 4,096 bytes a creation
# takes (tus clients decode it: a cut value is broken base64).
sc_tus_metadata_whole() {
	local meta i
	# Values decode to at most 1,023 bytes each (tus.h): several keys.
	meta="filename $(printf long-meta.bin | base64 -w0)"
	for i in 1 2 3 4; do
		meta="$meta,note$i $(head -c 700 /dev/urandom | base64 -w0)"
	done
	meta="$meta,pad $(head -c $(((4090 - ${#meta} - 5) * 3 / 4)) /dev/zero | base64 -w0)"
	check "a metadata of nearly 4,096 bytes (${#meta})" \
	    test "${#meta}" -gt 3900 -a "${#meta}" -le 4096
	req POST "$TUS" "${TUS_V[@]}" -H "Upload-Length: 10" -H "Upload-Metadata: $meta"
	check_status 201 "creation with it"
	TUS_LOC=$(header Location)
	tus_head "$TUS_LOC"
	check_status 200 HEAD
	check_eq "HEAD's Upload-Metadata is the creation's" "$meta" \
	    "$(header Upload-Metadata)"
	req DELETE "$TUS_LOC" "${TUS_V[@]}"
	check_status 204 termination
}

# Finals that read the same partial upload at once wait for each other's
# hold on it, as PATCHes do, instead of 423.  The partial is also held
# from outside (flock, the local store's lock) for a second while they
# start, so that they meet it held.
sc_tus_concurrent_finals() {
	local a b la lb loc_a loc_b loc i pid st
	local -a pids=() want=()
	a=$(random_file tus-finals-a.bin 600000)
	b=$(random_file tus-finals-b.bin 300000)
	la=$(stat -c %s "$a")
	lb=$(stat -c %s "$b")
	tus_create "$la" a.bin -H "Upload-Concat: partial" "${TUS_CT[@]}" --data-binary "@$a"
	check_status 201 "partial a"
	loc_a=$TUS_LOC
	tus_create "$lb" b.bin -H "Upload-Concat: partial" "${TUS_CT[@]}" --data-binary "@$b"
	check_status 201 "partial b"
	loc_b=$TUS_LOC
	cat "$a" "$b" >"$IT_TMP/files/finals-ab.bin"
	cat "$b" "$a" >"$IT_TMP/files/finals-ba.bin"
	cat "$a" "$a" >"$IT_TMP/files/finals-aa.bin"
	if on_local; then
		flock -x "$(part_file "$loc_a")" sleep 1 &
		pids+=($!)
		sleep 0.2
	fi
	for i in ab ba aa; do
		case $i in
		ab) set -- "$loc_a" "$loc_b" ;;
		ba) set -- "$loc_b" "$loc_a" ;;
		aa) set -- "$loc_a" "$loc_a" ;;
		esac
		curl -sS -o /dev/null -D "$IT_TMP/final-$i.headers" \
		    -w '%{http_code}' --max-time 30 -X POST "${TUS_V[@]}" \
		    -H "Upload-Concat: final;$1 $2" "$IT_URL$TUS" \
		    >"$IT_TMP/final-$i.status" 2>/dev/null &
		pids+=($!)
		want+=("$i")
	done
	for pid in "${pids[@]}"; do
		wait "$pid" || true
	done
	for i in "${want[@]}"; do
		st=$(cat "$IT_TMP/final-$i.status")
		check_eq "final $i beside the others" 201 "$st"
		check_eq "final $i's file" "$(b2 "$IT_TMP/files/finals-$i.bin")" \
		    "$(grep -i '^File-Hash:' "$IT_TMP/final-$i.headers" |
			sed -e 's/^[^:]*: *//' -e 's/\r$//')"
		req DELETE "/service/fileupload/$(b2 "$IT_TMP/files/finals-$i.bin")"
		check_status 201 "delete final $i's file"
	done
	for loc in "$loc_a" "$loc_b"; do
		req DELETE "$loc" "${TUS_V[@]}"
		check_status 204 "termination of ${loc##*/}"
	done
}

# A token closes the uploads' writes too; OPTIONS stays open.
sc_tus_token() {
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	FILEUPLOAD_TOKEN=it-tus-secret start_pool
	req OPTIONS "$TUS"
	check_status 204 "OPTIONS without a token"
	tus_create 10
	check_error 401 "creation without the token"
	tus_create 10 t.bin -H "Authorization: Bearer it-tus-secret"
	check_status 201 "creation with the token"
	tus_head "$TUS_LOC"
	check_status 401 "HEAD without the token"
	req DELETE "$TUS_LOC" "${TUS_V[@]}" -H "Authorization: Bearer it-tus-secret"
	check_status 204 "termination with the token"
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	start_pool
}

# Multipart POST with the expected digests as form fields.
sc_digest_fields() {
	local f h sha bad
	f=$(random_file digest.bin 20000)
	h=$(b2 "$f")
	sha=$(sha256sum "$f" | cut -d' ' -f1)
	upload "$f" d.bin -F "file_hash=$(printf '%064d' 7)"
	check_error 400 "a file_hash that does not match"
	check_json .error "digest mismatch"
	check_not_stored "$h"
	# Another first digit: always a mismatch (a replaced "a" was not,
	# for the one digest in 60 that has none).
	bad=$([ "${sha:0:1}" = 0 ] && echo 1 || echo 0)${sha:1}
	req POST /service/fileupload -F "upfile=@$f;filename=d.bin" -F "sha256=$bad"
	check_error 400 "a sha256 that does not match (after the file)"
	check_not_stored "$h"
	upload "$f" d.bin -F "file_hash=nothex"
	check_error 400 "a file_hash that is not a hash"
	req POST /service/fileupload -F "file_hash=${h^^}" -F "sha256=$sha" \
	    -F "upfile=@$f;filename=d.bin"
	check_status 201 "both digests matching, before the file"
	tus_check_stored "$h" "$f"
	req GET "/service/fileupload/$h/content"
	check_header Repr-Digest "sha-256=:$(b64_of "$sha"):"
	req DELETE "/service/fileupload/$h"
	check_status 201
	# The sha256 field after the file: checked all the same.
	req POST /service/fileupload -F "upfile=@$f;filename=d.bin" -F "sha256=$sha"
	check_status 201 "a matching sha256 after the file"
	req GET "/service/fileupload/$h/content"
	check_header Repr-Digest "sha-256=:$(b64_of "$sha"):"
	req DELETE "/service/fileupload/$h"
	# SHA-256 costs a large upload a third of its rate: only when asked.
	upload "$f" d.bin
	check_status 201 "no digest asked for"
	req GET "/service/fileupload/$h/content"
	check_status 200
	check_no_header Repr-Digest
	req DELETE "/service/fileupload/$h"
	upload "$f" d.bin -H "Want-Repr-Digest: sha-256=5"
	check_status 201 "Want-Repr-Digest: sha-256"
	req GET "/service/fileupload/$h/content"
	check_header Repr-Digest "sha-256=:$(b64_of "$sha"):"
	req DELETE "/service/fileupload/$h"
	check_status 201
}

# A real client: tus-js-client (tests/tus-client, npm ci there) uploads
# 256 MiB in 16 MiB chunks, is cut off mid-PATCH at 40 %, resumes from HEAD
# in a new client and completes; the stored file is the source's.
sc_tus_js_client() {
	local dir=$FU_ROOT/tests/tus-client f out h
	if [ ! -d "$dir/node_modules/tus-js-client" ]; then
		fail "tus-js-client is not installed (scripts/test runs npm ci in tests/tus-client)"
		return 0
	fi
	IT_MAX=$((272 << 20))
	tus_pool_restart "IT_S3_MAX=$IT_MAX"
	restart_nginx
	f=$(random_file tus-js.bin $((256 << 20)))
	h=$(b2 "$f")
	if out=$(cd "$dir" && timeout 300 node upload.js "$IT_URL$TUS" "$f" \
	    $((16 << 20)) 0.4 2>"$IT_TMP/node.err"); then
		check_eq "the completing answer's File-Hash" "$h" \
		    "$(jq -r .fileHash <<<"$out")"
		check "resumed past the start, before the end ($out)" \
		    jq -e '.resumedFrom > 0 and .resumedFrom < 268435456' <<<"$out"
		tus_check_stored "$h" "$f"
		req DELETE "/service/fileupload/$h"
		check_status 201
	else
		fail "tus-js-client failed: $(head -c 500 "$IT_TMP/node.err")"
	fi
	IT_MAX=2097152
	# The object store's pool goes with its scenario (s3_end).
	if on_local; then
		tus_pool_restart
		restart_nginx
	fi
}

# fileupload-fsck (it_fsck, from fsck.sh) knows the partial files: a quiet
# one whose upload is recorded is fine; one whose row is gone (as after a
# backup restored) is stale, and -r removes it.
sc_tus_fsck_partial_files() {
	local kept gone
	tus_create 10000 kept.bin
	kept=$TUS_LOC
	tus_create 10000 gone.bin
	gone=$TUS_LOC
	fu_pg_psql "$IT_PG_DIR" "$FU_DB_NAME" -qtAc \
	    "DELETE FROM uploads WHERE upload_id = '${gone##*/}'" >/dev/null
	touch -d '10 minutes ago' "$(part_file "$kept")" "$(part_file "$gone")"
	it_fsck
	check_fsck_rc 1 "a stale partial file"
	check_fsck_line "stale-temp part-${gone##*/}"
	check_fsck_no_mention "part-${kept##*/}"
	it_fsck -r
	check_fsck_line "stale-temp part-${gone##*/}: removed"
	check "the stale partial file is gone" test ! -e "$(part_file "$gone")"
	check "the live one is kept" test -f "$(part_file "$kept")"
	req DELETE "$kept" "${TUS_V[@]}"
	check_status 204 "termination"
}

# PostgreSQL restarted between PATCHes: a PATCH while it is down is 503
# and changes nothing; once it is back the offset reported before is there
# and the upload completes.
sc_tus_database_restart() {
	local f size p
	f=$(random_file tus-pg.bin 300000)
	size=$(stat -c %s "$f")
	tus_create "$size" pg.bin
	p=$(part "$f" 0 100000)
	tus_patch "$TUS_LOC" 0 "$p"
	check_status 204 "a first chunk"
	fu_pg_stop "$IT_PG_DIR" 2>>"$IT_TMP/setup.log"
	p=$(part "$f" 100000 100000)
	tus_patch "$TUS_LOC" 100000 "$p"
	check_error 503 "PATCH while the database is down"
	FU_PG_FSYNC=off fu_pg_start "$IT_PG_DIR" "$FU_DB_PORT" 2>>"$IT_TMP/setup.log"
	check_eq "the offset after the restart" 100000 "$(head_offset "$TUS_LOC")"
	if on_local; then
		check_eq "the bytes of the refused PATCH are not kept" 100000 \
		    "$(stat -c %s "$(part_file "$TUS_LOC")")"
	fi
	p=$(part "$f" 100000 "$size")
	tus_patch "$TUS_LOC" 100000 "$p"
	check_status 204 "the rest after the restart"
	check_completed "$f" pg.bin
}
