# shellcheck shell=bash
#
# Secrets from files (NAME_FILE: the file's content less one trailing
# newline), through the pool's start as a deployment runs it: the
# tokens and the database password.  The S3 ones are in s3_faults.sh.
# Sourced by tests/integration/run.sh (helpers in tests/integration/lib.sh).

sc_secret_files_tokens() {
	local f h d=$IT_TMP/secrets
	mkdir -p "$d"
	printf 'it-file-write\n' >"$d/write"
	printf 'it-file-read' >"$d/read"
	printf 'it-file-metrics\n' >"$d/metrics"
	# The suite's database takes any password: the file only has to
	# be read (a missing one stops the workers, see below).
	printf 'unused\n' >"$d/db"
	# The workers read them as their own user (fileupload under root).
	chmod 0644 "$d"/*
	trap secret_files_end EXIT
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	FILEUPLOAD_TOKEN_FILE=$d/write FILEUPLOAD_READ_TOKEN_FILE=$d/read \
	    FILEUPLOAD_METRICS_TOKEN_FILE=$d/metrics DB_PASSWORD_FILE=$d/db \
	    start_pool
	f=$(new_file secret_files)
	h=$(b2 "$f")
	upload "$f"
	check_error 401 "upload without the token"
	upload "$f" x.txt -H 'Authorization: Bearer it-file-write'
	check_status 201 "upload with the token from the file"
	req GET "/service/fileupload/$h" -H 'Authorization: Bearer it-file-read'
	check_status 200 "read with the read token from the file (no newline)"
	req GET /service/fileupload/metrics -H 'Authorization: Bearer it-file-metrics'
	check_status 200 "metrics with the metrics token from the file"
	req GET /service/fileupload/metrics
	check_error 401 "metrics without it"
	req DELETE "/service/fileupload/$h" -H 'Authorization: Bearer it-file-write'
	check_status 201 "delete with the token from the file"
}

# The runner's pool again, also when the scenario failed.
secret_files_end() {
	fu_pool_stop 2>>"$IT_TMP/setup.log" || true
	start_pool || true
}

# it_refused WANT VAR=VALUE...: the worker, with these settings, refuses
# to start with one line naming WANT.
it_refused() {
	local want=$1 out=$IT_TMP/refused.err rc=0
	shift
	env -i PATH="$PATH" LOG_DIR="$IT_TMP" DATA_DIR="$IT_DATA_DIR" "$@" \
	    "$IT_WORKER" </dev/null >"$out" 2>&1 || rc=$?
	check "worker refuses ($*)" test "$rc" -ne 0
	check_eq "one line ($*)" 1 "$(wc -l <"$out")"
	grep -qF -- "$want" "$out" || fail "($*) says: $(cat "$out")"
}

sc_secret_files_refused() {
	printf 't\n' >"$IT_TMP/token"
	: >"$IT_TMP/empty"
	it_refused "FILEUPLOAD_TOKEN and FILEUPLOAD_TOKEN_FILE are both set" \
	    FILEUPLOAD_TOKEN=t FILEUPLOAD_TOKEN_FILE="$IT_TMP/token"
	it_refused "FILEUPLOAD_READ_TOKEN_FILE=$IT_TMP/none cannot be read" \
	    FILEUPLOAD_READ_TOKEN_FILE="$IT_TMP/none"
	it_refused "FILEUPLOAD_METRICS_TOKEN_FILE=$IT_TMP/empty is empty" \
	    FILEUPLOAD_METRICS_TOKEN_FILE="$IT_TMP/empty"
	it_refused "DB_PASSWORD_FILE=$IT_TMP cannot be read" \
	    DB_PASSWORD_FILE="$IT_TMP"
}
