# shellcheck shell=bash
#
# Resource caps: the unfinished resumable uploads are capped in number and
# in the bytes they claim, in all and per token, answered 503 or 507 with
# Retry-After; a cap holds under concurrent creations on both workers; the
# free-space reserve refuses uploads of either kind (507) before the disk
# fills (a small tmpfs mounted on DATA_DIR); the expiry sweep takes more
# than a batch at once.
# Sourced by tests/integration/run.sh (helpers in tests/integration/lib.sh;
# tus_* come from resumable.sh, random_file and wait_for from faults.sh,
# sourced alongside).

caps_sql() {
	fu_pg_psql "$IT_PG_DIR" fileupload -tAc "$1"
}

# The unfinished uploads, as the caps count them.
caps_unfinished() {
	caps_sql "SELECT count(*) FROM uploads WHERE file_hash IS NULL AND
	    expires_at > now()"
}

# Every unfinished upload expired, then swept by the workers' start; the
# pool back to its settings.
caps_clean() {
	caps_sql "UPDATE uploads SET expires_at = now() - interval '1 s'
	    WHERE file_hash IS NULL" >/dev/null
	tus_pool_restart
}

# check_later CODE CONTEXT: a JSON error that says when to come back.
check_later() {
	check_error "$1" "$2"
	check_header Retry-After 60
	check_no_header Location
}

# caps_creations N PARALLEL [curl args...]: N creations of 10 bytes, at
# most PARALLEL at once; their statuses, one a line.
caps_creations() {
	local n=$1 p=$2
	shift 2
	seq 1 "$n" | xargs -P "$p" -I{} curl -sS -o /dev/null \
	    -w '%{http_code}\n' --max-time "$IT_TIMEOUT" -X POST \
	    -H "Tus-Resumable: 1.0.0" -H "Upload-Length: 10" "$@" \
	    "$IT_URL$TUS"
}

sc_caps_count_and_bytes() {
	local f len first
	f=$(random_file caps-first.bin 1000)
	len=$(stat -c %s "$f")
	caps_clean
	tus_pool_restart FILEUPLOAD_TUS_MAX_UPLOADS=3 \
	    FILEUPLOAD_TUS_MAX_BYTES=2000000
	tus_create "$len" first.bin
	check_status 201 "the first upload"
	first=$TUS_LOC
	tus_create 1000000 second.bin
	check_status 201 "the second upload"
	tus_create $((2000000 - 1000000 - len + 1)) third.bin
	check_later 507 "a claim one byte over the cap"
	tus_create $((2000000 - 1000000 - len)) third.bin
	check_status 201 "a claim up to the cap"
	tus_create 1 fourth.bin
	check_later 503 "one upload over the count"
	check_eq "the unfinished uploads" 3 "$(caps_unfinished)"
	# A completed upload holds nothing: its place is free again.
	tus_patch "$first" 0 "$f"
	check_status 204 "the first upload completed"
	check_header File-Hash "$(b2 "$f")"
	tus_create "$len" fourth.bin
	check_status 201 "in the place of a completed upload"
	# Multipart uploads are not resumable uploads: never capped so.
	upload "$(new_file caps-multipart.txt)"
	check_status 201 "a multipart upload beside the caps"
	caps_clean
}

# A deferred length claims its bytes so far, then what it declares: the
# declaration is held to the byte cap as a creation's length is.
sc_caps_deferred_length() {
	local f loc
	f=$(random_file caps-deferred.bin 46)
	caps_clean
	tus_pool_restart FILEUPLOAD_TUS_MAX_BYTES=1000
	req POST "$TUS" "${TUS_V[@]}" -H "Upload-Defer-Length: 1"
	check_status 201 "a deferred length"
	loc=$(header Location)
	tus_create 900 beside.bin
	check_status 201 "900 bytes beside it"
	tus_patch "$loc" 0 "$f" -H "Upload-Length: 101"
	check_later 507 "a declared length one byte over the cap"
	check_eq "still deferred" 1 "$(tus_head "$loc"; header Upload-Defer-Length)"
	tus_patch "$loc" 0 "$f" -H "Upload-Length: 100"
	check_status 204 "a declared length up to the cap"
	tus_head "$loc"
	check_header Upload-Length 100
	check_header Upload-Offset 50
	caps_clean
}

# Two workers, 60 creations 12 at a time against a cap of 20: the lock
# per scope lets exactly 20 through, whichever worker takes them.
sc_caps_concurrent() {
	local out=$IT_TMP/caps-concurrent
	caps_clean
	tus_pool_restart FILEUPLOAD_TUS_MAX_UPLOADS=20
	caps_creations 60 12 >"$out"
	check_eq "created" 20 "$(grep -c '^201$' "$out")"
	check_eq "refused" 40 "$(grep -c '^503$' "$out")"
	check_eq "the unfinished uploads" 20 "$(caps_unfinished)"
	caps_clean
}

sc_caps_per_token() {
	local out=$IT_TMP/caps-token
	caps_clean
	tus_pool_restart FILEUPLOAD_TOKEN=it-caps-one \
	    FILEUPLOAD_TUS_TOKEN_MAX_UPLOADS=2
	caps_creations 3 1 -H "Authorization: Bearer it-caps-one" >"$out"
	check_eq "the token's uploads" "201 201 503" "$(paste -sd" " "$out")"
	tus_create 10 over.bin -H "Authorization: Bearer it-caps-one"
	check_later 503 "the token's third upload"
	check_eq "one owner, by its id" 1 "$(caps_sql "SELECT count(DISTINCT
	    owner) FROM uploads WHERE file_hash IS NULL AND owner ~
	    '^[0-9a-f]{16}$'")"
	check_eq "the token is not stored" 0 "$(caps_sql "SELECT count(*)
	    FROM uploads WHERE owner LIKE '%caps%'")"
	# Another token (rotated): its own count.
	tus_pool_restart FILEUPLOAD_TOKEN=it-caps-two \
	    FILEUPLOAD_TUS_TOKEN_MAX_UPLOADS=2
	tus_create 10 other.bin -H "Authorization: Bearer it-caps-two"
	check_status 201 "another token's first upload"
	# Without tokens a writer is anonymous: no per-token cap.
	tus_pool_restart FILEUPLOAD_TUS_TOKEN_MAX_UPLOADS=1
	caps_creations 2 1 >"$out"
	check_eq "anonymous uploads" "201 201" "$(paste -sd" " "$out")"
	caps_clean
}

caps_none_left() {
	[ "$(caps_sql "SELECT count(*) FROM uploads WHERE file_hash IS NULL")" = 0 ]
}

# The bytes available to the workers on DATA_DIR's file system.
caps_avail() {
	df -B1 --output=avail "$IT_DATA_DIR" | tail -n 1 | tr -d ' '
}

# DATA_DIR on a tmpfs of 16 MiB, the reserve 9 MiB: three files of 2 MB
# go in, the fourth would leave less than the reserve (507, nothing
# kept), a small one still fits; a PATCH is held to it as a POST is;
# with the reserve above the free space, nothing new goes in at all.
sc_caps_min_free() {
	local owner mode f hashes=() loc i small
	caps_clean
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	owner=$(stat -c %u:%g "$IT_DATA_DIR")
	mode=$(stat -c %a "$IT_DATA_DIR")
	if ! mount -t tmpfs -o "size=16m,uid=${owner%:*},gid=${owner#*:},mode=$mode" \
	    it-caps "$IT_DATA_DIR" 2>>"$IT_TMP/setup.log"; then
		printf '    (skipped: this machine cannot mount a tmpfs)\n' >&3
		start_pool
		return 0
	fi
	tus_pool_restart FILEUPLOAD_MIN_FREE=9437184
	for i in 1 2 3; do
		f=$(random_file "caps-free-$i.bin" 2000000)
		upload "$f"
		check_status 201 "file $i of 3"
		hashes+=("$(b2 "$f")")
	done
	f=$(random_file caps-free-4.bin 2000000)
	upload "$f"
	check_later 507 "a file that would leave less than the reserve"
	check_not_stored "$(b2 "$f")"
	check_tmp_empty
	small=$(random_file caps-free-small.bin 100000)
	upload "$small"
	check_status 201 "a small file above the reserve"
	hashes+=("$(b2 "$small")")

	tus_create 2000000 free.bin
	check_status 201 "a creation without a body"
	loc=$TUS_LOC
	tus_patch "$loc" 0 "$f"
	check_later 507 "a PATCH that would leave less than the reserve"
	check_eq "its offset" 0 "$(head_offset "$loc")"
	tus_patch "$loc" 0 "$(part "$f" 0 100000)"
	check_status 204 "a small PATCH above the reserve"
	check "the reserve kept free ($(caps_avail) bytes)" \
	    test "$(caps_avail)" -ge 9437184

	tus_pool_restart FILEUPLOAD_MIN_FREE=90%
	tus_create 10 none.bin
	check_later 507 "a creation below the reserve"
	upload "$(new_file caps-below.txt)"
	check_later 507 "a multipart upload below the reserve"

	# Nothing of the tmpfs may outlive it: the upload, the files' rows.
	req DELETE "$loc" "${TUS_V[@]}"
	check_status 204 "the upload terminated"
	for i in "${hashes[@]}"; do
		req DELETE "/service/fileupload/$i"
		check_status 201 "a file of the tmpfs deleted"
	done
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	umount "$IT_DATA_DIR" || fail "the tmpfs cannot be unmounted"
	start_pool
}

# 1,200 uploads expire at once: the workers' start sweeps take them all,
# in batches (one batch of the old sweep was 100 a worker).
sc_caps_sweep_batches() {
	local out=$IT_TMP/caps-sweep log=$FU_LOG_DIR/fileupload.log
	local lines swept t0 t1
	caps_clean
	tus_pool_restart UPLOAD_EXPIRES=1
	caps_creations 1200 8 >"$out"
	check_eq "created" 1200 "$(grep -c '^201$' "$out")"
	sleep 1.2
	lines=$(wc -l <"$log")
	t0=$(date +%s%N)
	tus_pool_restart
	check "every expired upload swept" wait_for 60 caps_none_left
	t1=$(date +%s%N)
	swept=$(tail -n +"$((lines + 1))" "$log" |
	    sed -n 's/.*swept \([0-9]*\) expired resumable uploads.*/\1/p' |
	    awk '{ s += $1 } END { print s + 0 }')
	check_eq "swept by the start sweeps" 1200 "$swept"
	printf "    (1200 expired uploads swept in %d ms, the pool's restart included)\n" \
	    $(((t1 - t0) / 1000000)) >&3
	check_tmp_empty
}
