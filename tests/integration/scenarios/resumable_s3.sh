# shellcheck shell=bash
#
# Resumable uploads on STORAGE=s3: the scenarios of resumable.sh run on
# the object store (the gateway of storage_s3.sh, 5 MiB parts), with
# files that span parts where it matters, and what only the object store
# has: the parts and tails a PATCH leaves, PATCHes of one upload on both
# workers, a tail gone, fsck of tus temp objects, and nothing left behind.
# Sourced by tests/integration/run.sh after resumable.sh and
# storage_s3.sh (helpers in tests/integration/lib.sh).

# s3_part_keys ID: what the store holds for the upload ID: its tmp/
# objects (tails, the assembled object) and its multipart uploads.
s3_part_keys() {
	if [ "$S3_STORE" = rgw ]; then
		s3_cli ls "it/tmp/part-$1"
	else
		find "$S3_ROOT/objects/it/tmp" -name "part-$1*" 2>/dev/null || true
	fi
	s3_uploads "tmp/part-$1"
}

# tus_on_s3 SCENARIO: SCENARIO (of resumable.sh) on the object store;
# afterwards nothing is left under tmp/ or trash/, nor a multipart upload.
tus_on_s3() {
	local IT_MAX=$((16 << 20)) TUS_STORE=s3
	s3_begin
	"$@"
	check_s3_clean
}

sc_s3_tus_chunks_complete() {
	# 11 MiB in PATCHes of 3 MiB + 7: parts fill across PATCHes, and
	# each PATCH but the last leaves a tail the next one reads back.
	TUS_SIZE=$((11 << 20)) TUS_CHUNK=$(((3 << 20) + 7)) \
	    tus_on_s3 sc_tus_chunks_complete
	check_eq "part sizes: two full, the rest" "5242880 5242880 $(($(stat -c %s \
	    "$IT_TMP/files/tus-chunks.bin") - (10 << 20)))" \
	    "$(s3_ops UploadPart | jq -r .size | tr '\n' ' ' | sed 's/ $//')"
	check_eq "tails read back" 3 "$(s3_ops GetObject | grep -c '\.[0-9]*"' || true)"
	check "ListParts named the parts" test -n "$(s3_ops ListParts)"
}

sc_s3_tus_errors() { tus_on_s3 sc_tus_errors; }
sc_s3_tus_defer_length() { tus_on_s3 sc_tus_defer_length; }
sc_s3_tus_creation_with_upload() { tus_on_s3 sc_tus_creation_with_upload; }
sc_s3_tus_duplicate() { tus_on_s3 sc_tus_duplicate; }
sc_s3_tus_resume_after_cut() { tus_on_s3 sc_tus_resume_after_cut; }
sc_s3_tus_worker_killed() { tus_on_s3 sc_tus_worker_killed; }
sc_s3_tus_concurrent_patches() { tus_on_s3 sc_tus_concurrent_patches; }
sc_s3_tus_expiry() { tus_on_s3 sc_tus_expiry; }
sc_s3_tus_database_restart() { tus_on_s3 sc_tus_database_restart; }
sc_s3_tus_js_client() { tus_on_s3 sc_tus_js_client; }
# The content route's Repr-Digest comes from the redirect's own path here.
sc_s3_digest_fields() { tus_on_s3 sc_digest_fields; }
# A first partial upload of several parts (assembled in the store when
# complete), a second of one.
sc_s3_tus_concatenation() {
	TUS_CONCAT_A=$((7 << 20)) tus_on_s3 sc_tus_concatenation
}

# A large upload whose PATCHes go to both workers by turns (no kept
# connection: nginx picks the worker each time), one PATCH cut mid-part:
# any worker resumes from the committed offset; the object is the file.
sc_s3_tus_any_worker() {
	local IT_MAX=$((16 << 20)) TUS_STORE=s3 f size off=0 n p
	s3_begin
	f=$(s3_big tus-any.bin 14)
	size=$(stat -c %s "$f")
	tus_create "$size" any.bin
	check_status 201 creation
	patch_cut "$(part "$f" 0 $((8 << 20)))" 2M
	off=$(head_offset "$TUS_LOC")
	check "the cut PATCH kept a tail" test -n "$(s3_ops PutObject)"
	n=$((1 << 20))
	while [ "${off:-0}" -lt "$size" ]; do
		p=$(part "$f" "$off" "$n")
		tus_patch "$TUS_LOC" "$off" "$p" -H "Connection: close"
		check_status 204 "PATCH at $off"
		[ "$STATUS" = 204 ] || break
		off=$((off + $(stat -c %s "$p")))
		n=$((n + 1234567))
	done
	check_completed "$f" any.bin
	check_s3_clean
}

# PATCHes that end on a part's border: the full part goes up as a part
# (no tail), and the next PATCH starts past it.
sc_s3_tus_part_border() {
	# shellcheck disable=SC2034  # read by the helpers of resumable.sh
	local IT_MAX=$((16 << 20)) TUS_STORE=s3 f p
	s3_begin
	f=$(s3_big tus-border.bin 12)
	tus_create $((12 << 20)) border.bin
	p=$(part "$f" 0 $((5 << 20)))
	tus_patch "$TUS_LOC" 0 "$p"
	check_status 204 "a PATCH of one part"
	check_eq "no tail for a full part" "" "$(s3_ops PutObject)"
	check_eq "the part went up" 1 "$(s3_ops UploadPart | wc -l)"
	p=$(part "$f" $((5 << 20)) $((5 << 20)))
	tus_patch "$TUS_LOC" $((5 << 20)) "$p"
	check_status 204 "a PATCH of the next part"
	check_eq "no tail read back" "" "$(s3_ops GetObject)"
	p=$(part "$f" $((10 << 20)) $((2 << 20)))
	tus_patch "$TUS_LOC" $((10 << 20)) "$p"
	check_status 204 "the rest"
	check_completed "$f" border.bin
	check_s3_clean
}

# A tail that is gone (behind the service's back): the upload cannot be
# resumed, 410, and its termination still clears the store.
sc_s3_tus_tail_gone() {
	local IT_MAX=$((16 << 20)) TUS_STORE=s3 f p
	s3_begin
	f=$(s3_big tus-gone.bin 1)
	tus_create 2000000 gone.bin
	p=$(part "$f" 0 300000)
	tus_patch "$TUS_LOC" 0 "$p"
	check_status 204 "a chunk"
	check "its tail is an object" test -f "$(s3_key_file "tmp/part-${TUS_LOC##*/}.1")"
	s3_unplant "tmp/part-${TUS_LOC##*/}.1"
	p=$(part "$f" 300000 300000)
	tus_patch "$TUS_LOC" 300000 "$p"
	check_error 410 "PATCH once the tail is gone"
	req DELETE "$TUS_LOC" "${TUS_V[@]}"
	check_status 204 "termination"
	check_s3_clean
}

# s3_age_upload ID: the multipart upload of the resumable upload ID
# looks an hour old to listings (the test server keeps its start time).
s3_age_upload() {
	local m
	m=$(grep -l "\"it/tmp/part-$1\"" "$S3_ROOT"/uploads/*/meta.json)
	jq -c '.initiated -= 3600' "$m" >"$m.new" && mv "$m.new" "$m"
}

# fileupload-fsck knows tus temp objects: a quiet tail whose upload is
# recorded is fine; one whose row is gone is stale, and -r removes it
# with the upload's multipart upload; so is a multipart upload alone
# (its PATCH ended on a part's border: no tail).  On the test server:
# "quiet" and "stale" are minutes of age, which only it can fake.
sc_s3_tus_fsck() {
	# shellcheck disable=SC2034  # read by the helpers of resumable.sh
	local IT_MAX=$((16 << 20)) TUS_STORE=s3 f p kept gone lone
	s3_begin stub
	f=$(s3_big tus-fsck.bin 7)
	tus_create $((7 << 20)) kept.bin
	kept=$TUS_LOC
	p=$(part "$f" 0 100000)
	tus_patch "$kept" 0 "$p"
	check_status 204 "a tail for the kept upload"
	tus_create $((7 << 20)) gone.bin
	gone=$TUS_LOC
	p=$(part "$f" 0 $(((5 << 20) + 1000)))
	tus_patch "$gone" 0 "$p"
	check_status 204 "a part and a tail for the other"
	check "its multipart upload is there" test -n "$(s3_uploads "tmp/part-${gone##*/}")"
	tus_create $((7 << 20)) lone.bin
	lone=$TUS_LOC
	tus_patch "$lone" 0 "$(part "$f" 0 $((5 << 20)))"
	check_status 204 "one part, no tail"
	fu_pg_psql "$IT_PG_DIR" "$FU_DB_NAME" -qtAc \
	    "DELETE FROM uploads WHERE upload_id IN ('${gone##*/}', '${lone##*/}')" >/dev/null
	touch -d '10 minutes ago' "$S3_ROOT"/objects/it/tmp/part-*
	s3_age_upload "${lone##*/}"
	s3_fsck
	check_fsck_rc 1 "a stale tail"
	check_fsck_line "stale-temp part-${gone##*/}.2"
	check_fsck_line "stale-temp part-${lone##*/}"
	check_fsck_no_mention "part-${kept##*/}"
	s3_fsck -r
	check_fsck_line "stale-temp part-${gone##*/}.2: removed"
	check_fsck_line "stale-temp part-${lone##*/}: removed"
	check_eq "nothing left of the stale upload" "" "$(s3_part_keys "${gone##*/}")"
	check_eq "nothing left of the lone multipart upload" "" \
	    "$(s3_part_keys "${lone##*/}")"
	check "the live one is kept" test -n "$(s3_part_keys "${kept##*/}")"
	req DELETE "$kept" "${TUS_V[@]}"
	check_status 204 "termination"
	check_s3_clean
}
