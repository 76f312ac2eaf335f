# shellcheck shell=bash
#
# The service around the API: migrations run again, the same upload raced,
# workers or the database gone, bearer tokens.
# Sourced by tests/integration/run.sh (helpers in tests/integration/lib.sh).

sc_migrate_twice() {
	fu_with_db_env "$IT_MIGRATE" -d "$FU_ROOT/sql" up >"$IT_TMP/migrate.out" 2>&1 ||
	    fail "migrate up again failed: $(cat "$IT_TMP/migrate.out")"
	fu_with_db_env "$IT_MIGRATE" -d "$FU_ROOT/sql" status >"$IT_TMP/migrate.out" 2>&1 ||
	    fail "migrate status failed: $(cat "$IT_TMP/migrate.out")"
}

# Same new bytes, 8 clients at once: exactly one 201, the rest 403.
sc_concurrent_same_upload() {
	local f=$IT_TMP/race.bin h i n201 n403
	head -c 400000 /dev/urandom >"$f"
	h=$(b2 "$f")
	for i in $(seq 1 8); do
		curl -sS --max-time "$IT_TIMEOUT" -o "$IT_TMP/race.$i.body" \
		    -w '%{http_code}\n' -F "upfile=@$f;filename=race$i.bin" \
		    "$IT_URL/service/fileupload" >"$IT_TMP/race.$i.status" 2>&1 &
	done
	wait
	n201=$(cat "$IT_TMP"/race.*.status | grep -c '^201$' || true)
	n403=$(cat "$IT_TMP"/race.*.status | grep -c '^403$' || true)
	check_eq "number of 201s" 1 "$n201"
	check_eq "number of 403s" 7 "$n403"
	[ "$((n201 + n403))" -eq 8 ] ||
	    fail "statuses: $(cat "$IT_TMP"/race.*.status | tr '\n' ' ')"
	check_stored "$h" "$f"
	req GET /service/fileupload
	check_eq "list entries for the raced hash" 1 "$(jf "map(select(.file_hash == \"$h\")) | length")"
	check_tmp_empty
}

# Workers gone: nginx answers 503 JSON itself.
sc_workers_down_503() {
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	req GET /service/fileupload -H 'X-Request-Id: it-down'
	check_error 503
	check_json .error "service unavailable"
	check_header X-Request-Id it-down
	upload "$(new_file workers_down)"
	check_error 503 "upload"
	start_pool
	req GET /service/fileupload
	check_status 200 "after restarting the pool"
}

# Database gone: the worker answers 503 and keeps nothing; it reconnects.
sc_database_down_503() {
	local f h
	f=$(new_file db_down)
	h=$(b2 "$f")
	fu_pg_stop "$IT_PG_DIR" 2>>"$IT_TMP/setup.log"
	upload "$f" down.txt
	check_error 503 "upload while the database is down"
	check_not_stored "$h"
	check_tmp_empty
	req GET /service/fileupload
	check_error 503 "list while the database is down"
	req GET "/service/fileupload/$h"
	check_error 503 "get while the database is down"
	req GET /service/fileupload/health
	check_status 503 "health while the database is down"
	check_json .status unavailable
	FU_PG_FSYNC=off fu_pg_start "$IT_PG_DIR" "$FU_DB_PORT" 2>>"$IT_TMP/setup.log"
	upload "$f" up.txt
	check_status 201 "first upload after the database is back"
	check_stored "$h" "$f"
	upload "$(new_file db_back)" up2.txt
	check_status 201 "second upload after the database is back"
	req GET /service/fileupload/health
	check_status 200 "health once the database is back"
	check_json .status ok
}

# Beyond the seed: bearer tokens.
sc_tokens() {
	local f h
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	FILEUPLOAD_TOKEN=it-write-secret FILEUPLOAD_READ_TOKEN=it-read-secret start_pool
	f=$(new_file tokens)
	h=$(b2 "$f")
	upload "$f"
	check_error 401 "upload without a token"
	check_header WWW-Authenticate
	upload "$f" x.txt -H 'Authorization: Bearer wrong'
	check_error 401 "upload with a wrong token"
	upload "$f" x.txt -H 'Authorization: Bearer it-write-secret'
	check_status 201 "upload with the token"
	req GET /service/fileupload
	check_error 401 "list without the read token"
	req GET /service/fileupload -H 'Authorization: Bearer it-read-secret'
	check_status 200 "list with the read token"
	req DELETE "/service/fileupload/$h" -H 'Authorization: Bearer it-read-secret'
	check_error 401 "DELETE with the read token"
	req DELETE "/service/fileupload/$h" -H 'Authorization: Bearer it-write-secret'
	check_status 201 "DELETE with the write token"
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	start_pool
}
