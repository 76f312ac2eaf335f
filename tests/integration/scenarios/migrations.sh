# shellcheck shell=bash
#
# fileupload-migrate: a fresh database, one up to date, a new migration
# added, a failing migration, two migrators at once.  Each scenario uses a
# database of its own in the suite's cluster.
# Sourced by tests/integration/run.sh (helpers in tests/integration/lib.sh).

# fresh_db NAME: (re)creates database NAME owned by the service's role.
fresh_db() {
	fu_pg_psql "$IT_PG_DIR" postgres -c "DROP DATABASE IF EXISTS $1" \
	    -c "CREATE DATABASE $1 OWNER $FU_DB_USER" >/dev/null
}

# migrate DB SQLDIR ARGS...: the tool against database DB; output in
# $IT_TMP/migrate.out, status returned.
migrate() {
	local db=$1 dir=$2
	shift 2
	env DB_TYPE=postgresql DB_HOST="$FU_DB_HOST" DB_PORT="$FU_DB_PORT" \
	    DB_USER="$FU_DB_USER" DB_NAME="$db" \
	    "$IT_MIGRATE" -d "$dir" "$@" >"${MIGRATE_OUT:-$IT_TMP/migrate.out}" 2>&1
}

db_value() {
	fu_pg_psql "$IT_PG_DIR" "$1" -tAc "$2"
}

sc_migrate_fresh_then_up_to_date() {
	local n
	fresh_db it_mig_fresh
	check "up on a fresh database" migrate it_mig_fresh "$FU_ROOT/sql" up
	n=$(find "$FU_ROOT/sql" -name '[0-9][0-9][0-9]_*.sql' | wc -l)
	check_eq "every migration applied once" "$n" \
	    "$(db_value it_mig_fresh 'SELECT count(*) FROM schema_migrations')"
	check_eq "files table exists" 1 \
	    "$(db_value it_mig_fresh "SELECT count(*) FROM pg_tables WHERE tablename = 'files'")"
	check "up again" migrate it_mig_fresh "$FU_ROOT/sql" up
	check "says it is up to date" grep -q 'up to date' "$IT_TMP/migrate.out"
	check_eq "nothing applied twice" "$n" \
	    "$(db_value it_mig_fresh 'SELECT count(*) FROM schema_migrations')"
	check "status" migrate it_mig_fresh "$FU_ROOT/sql" status
	check_eq "status lists every migration as applied" "$n" \
	    "$(grep -c '^applied' "$IT_TMP/migrate.out")"
}

sc_migrate_new_migration_added() {
	local dir=$IT_TMP/sql-new
	fresh_db it_mig_new
	check "up" migrate it_mig_new "$FU_ROOT/sql" up
	rm -rf "$dir"
	cp -r "$FU_ROOT/sql" "$dir"
	printf 'ALTER TABLE files ADD COLUMN it_note text;\n' >"$dir/900_it_note.sql"
	check "status before" migrate it_mig_new "$dir" status
	check "the new one is pending" grep -q '^pending *900_it_note.sql' "$IT_TMP/migrate.out"
	check "up with the new migration" migrate it_mig_new "$dir" up
	check_eq "only the new one applied" "applied 900_it_note.sql" \
	    "$(cat "$IT_TMP/migrate.out")"
	check_eq "its change is there" 1 "$(db_value it_mig_new \
	    "SELECT count(*) FROM information_schema.columns WHERE table_name = 'files' AND column_name = 'it_note'")"
}

sc_migrate_failure_rolls_back() {
	local dir=$IT_TMP/sql-bad
	fresh_db it_mig_bad
	rm -rf "$dir"
	cp -r "$FU_ROOT/sql" "$dir"
	printf 'CREATE TABLE it_half (a int);\nTHIS IS NOT SQL;\n' >"$dir/901_broken.sql"
	if migrate it_mig_bad "$dir" up; then
		fail "a broken migration was reported as applied"
	fi
	check "the error names the migration" grep -q '901_broken.sql' "$IT_TMP/migrate.out"
	check_eq "not recorded" 0 "$(db_value it_mig_bad \
	    "SELECT count(*) FROM schema_migrations WHERE version = '901_broken.sql'")"
	check_eq "its first statement rolled back" 0 "$(db_value it_mig_bad \
	    "SELECT count(*) FROM pg_tables WHERE tablename = 'it_half'")"
	check_eq "the good ones before it applied" 1 "$(db_value it_mig_bad \
	    "SELECT count(*) FROM pg_tables WHERE tablename = 'files'")"
}

# Two migrators at once on a fresh database: the advisory lock makes one
# wait for the other; both succeed and each migration is recorded once.
sc_migrate_two_at_once() {
	local a b
	fresh_db it_mig_race
	MIGRATE_OUT=$IT_TMP/mig.a migrate it_mig_race "$FU_ROOT/sql" up &
	a=$!
	MIGRATE_OUT=$IT_TMP/mig.b migrate it_mig_race "$FU_ROOT/sql" up &
	b=$!
	check "first migrator" wait "$a"
	check "second migrator" wait "$b"
	check_eq "each migration recorded once" \
	    "$(find "$FU_ROOT/sql" -name '[0-9][0-9][0-9]_*.sql' | wc -l)" \
	    "$(db_value it_mig_race 'SELECT count(DISTINCT version) FROM schema_migrations')"
	fu_pg_psql "$IT_PG_DIR" postgres -c "DROP DATABASE it_mig_race" \
	    -c "DROP DATABASE IF EXISTS it_mig_fresh" \
	    -c "DROP DATABASE IF EXISTS it_mig_new" \
	    -c "DROP DATABASE IF EXISTS it_mig_bad" >/dev/null
}

# fsck's listing (byte order of file_hash) on a database whose collation is
# not "C": after the migrations, an index-only walk, never a sort of the
# whole table.
sc_migrate_fsck_listing_is_an_index_walk() {
	local plan
	fu_pg_psql "$IT_PG_DIR" postgres -c "DROP DATABASE IF EXISTS it_mig_order" \
	    -c "CREATE DATABASE it_mig_order OWNER $FU_DB_USER TEMPLATE template0 LC_COLLATE 'C.utf8' LC_CTYPE 'C.utf8'" >/dev/null
	check "up" migrate it_mig_order "$FU_ROOT/sql" up
	check_eq "the bytewise index is valid" t "$(db_value it_mig_order \
	    "SELECT indisvalid FROM pg_index WHERE indexrelid = 'files_file_hash_c'::regclass")"
	db_value it_mig_order "INSERT INTO files (file_hash, file_name, file_type, file_size)
	    SELECT encode(sha256(i::text::bytea), 'hex'), 'f', 'text/plain', i
	    FROM generate_series(1, 20000) i" >/dev/null
	db_value it_mig_order 'VACUUM ANALYZE files' >/dev/null
	plan=$(db_value it_mig_order 'EXPLAIN SELECT file_hash, file_size FROM files ORDER BY file_hash COLLATE "C"')
	check "an index-only walk: $plan" grep -q 'Index Only Scan using files_file_hash_c' <<<"$plan"
	case $plan in
	*Sort*) fail "a sort: $plan" ;;
	esac
	fu_pg_psql "$IT_PG_DIR" postgres -c "DROP DATABASE it_mig_order" >/dev/null
}

# The list's order (008, 009) on a database that had files and deletions
# before: a remembered deletion is placed right after the file before it,
# new deletions keep their created_at, and the list and its pages are an
# index walk in (created_at, id), never a sort of the whole table.
sc_migrate_list_order() {
	local dir=$IT_TMP/sql-upto7 plan t7
	fresh_db it_mig_list
	rm -rf "$dir"
	mkdir -p "$dir"
	cp "$FU_ROOT"/sql/00[1-7]_*.sql "$dir"
	check "up to 007" migrate it_mig_list "$dir" up
	db_value it_mig_list "INSERT INTO files (file_hash, file_name, file_type, file_size)
	    SELECT encode(sha256(i::text::bytea), 'hex'), 'f', 'text/plain', i
	    FROM generate_series(1, 20000) i;
	    UPDATE files SET created_at = now() - make_interval(secs => 20000 - id);
	    DELETE FROM files WHERE id = 5000" >/dev/null
	check "then the rest" migrate it_mig_list "$FU_ROOT/sql" up
	check_eq "the older deletion sits after the file before it" t \
	    "$(db_value it_mig_list "SELECT d.created_at = f.created_at
		FROM files_deleted d, files f WHERE d.id = 5000 AND f.id = 4999")"
	t7=$(db_value it_mig_list 'SELECT created_at FROM files WHERE id = 7000')
	db_value it_mig_list 'DELETE FROM files WHERE id = 7000' >/dev/null
	check_eq "a new deletion keeps its created_at" t \
	    "$(db_value it_mig_list "SELECT created_at = '$t7'::timestamptz
		FROM files_deleted WHERE id = 7000")"
	check_eq "the index is valid" t "$(db_value it_mig_list \
	    "SELECT indisvalid FROM pg_index WHERE indexrelid = 'files_created_at_id'::regclass")"
	db_value it_mig_list 'VACUUM ANALYZE files' >/dev/null
	plan=$(db_value it_mig_list "EXPLAIN SELECT * FROM files ORDER BY created_at, id")
	check "the whole list is an index walk: $plan" \
	    grep -q 'Index Scan using files_created_at_id' <<<"$plan"
	# The worker's list_after (src/db.c, LIST_KEY), after a deleted file.
	plan=$(db_value it_mig_list "PREPARE p(bigint, text) AS SELECT * FROM files
	    WHERE (created_at, id) > (SELECT created_at, id FROM (
		SELECT 0 AS gone, created_at, id FROM files WHERE file_hash = \$2
		UNION ALL SELECT 1, created_at, id FROM files_deleted
		WHERE file_hash = \$2) k ORDER BY gone LIMIT 1)
	    ORDER BY created_at, id LIMIT \$1;
	    EXPLAIN EXECUTE p(100, encode(sha256('5000'::bytea), 'hex'))")
	# (The file's place, from at most two rows, is the only sort.)
	check "a page is an index walk: $plan" grep -q \
	    'Index Cond: (ROW(created_at, id) > ROW(' <<<"$plan"
	case $plan in
	*'Seq Scan on files '* | *'Sort Key: files.'*) fail "a sort: $plan" ;;
	esac
	fu_pg_psql "$IT_PG_DIR" postgres -c "DROP DATABASE it_mig_list" >/dev/null
}
