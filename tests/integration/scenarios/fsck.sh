# shellcheck shell=bash
#
# tests/integration/scenarios/fsck.sh: fileupload-fsck against the suite's
# database and DATA_DIR.  Sourced by tests/integration/run.sh, whose
# helpers and globals it uses.
#
# Workers sweep tmp/ right after answering a request (at most once a
# minute), so the scenarios make their requests first, wait a moment, and
# only then plant temp and trash files, with no request in between until
# fsck has seen them.  Each scenario leaves DATA_DIR and the table as
# consistent as it found them.

# The fsck binary of the build under test: next to the worker.
fsck_bin() {
	printf '%s/fileupload-fsck\n' "$(dirname "$IT_WORKER")"
}

# it_fsck [NAME=VALUE...] [ARGS...]: runs fileupload-fsck as the pool is
# configured (NAME=VALUE overrides), stdout in $IT_TMP/fsck.out, stderr in
# $IT_TMP/fsck.err, exit status in FSCK_RC.
it_fsck() {
	local -a envs=()

	while [ $# -gt 0 ] && [[ $1 == [A-Z]*=* ]]; do
		envs+=("$1")
		shift
	done
	FSCK_RC=0
	fu_with_db_env ROOT_DIR="$FU_VAR" DATA_DIR="$IT_DATA_DIR" \
	    "${envs[@]}" "$(fsck_bin)" "$@" \
	    >"$IT_TMP/fsck.out" 2>"$IT_TMP/fsck.err" || FSCK_RC=$?
}

# What fsck said, on one line, for failure messages.
fsck_said() {
	cat "$IT_TMP/fsck.out" "$IT_TMP/fsck.err" | tr '\n' '|'
}

check_fsck_rc() {
	[ "$FSCK_RC" = "$1" ] ||
	    fail "fsck ${2:+($2) }exit status: expected $1, got $FSCK_RC: $(fsck_said)"
}

# check_fsck_line LINE: a report line that is LINE, or LINE plus ": note".
check_fsck_line() {
	awk -v l="$1" '$0 == l || index($0, l ": ") == 1 { f = 1 }
	    END { exit !f }' "$IT_TMP/fsck.out" ||
	    fail "fsck did not report '$1': $(fsck_said)"
}

# check_fsck_line_re REGEX: a report line matching REGEX (grep -E, whole line).
check_fsck_line_re() {
	grep -qxE -- "$1" "$IT_TMP/fsck.out" ||
	    fail "fsck reported no line like '$1': $(fsck_said)"
}

check_fsck_no_mention() {
	! grep -qF -- "$1" "$IT_TMP/fsck.out" ||
	    fail "fsck mentions '$1' but must not: $(fsck_said)"
}

check_fsck_summary() {
	check_eq "fsck summary" "$1" "$(tail -n 1 "$IT_TMP/fsck.out")"
}

fsck_rows() {
	fu_pg_psql "$IT_PG_DIR" fileupload -tAc 'SELECT count(*) FROM files'
}

fsck_row_exists() {
	[ "$(fu_pg_psql "$IT_PG_DIR" fileupload -tAc \
	    "SELECT count(*) FROM files WHERE file_hash = '$1'")" = 1 ]
}

fsck_no_row() {
	! fsck_row_exists "$1"
}

# fsck_plant FILE HASH [TOUCH_DATE]: FILE's bytes stored under HASH's path
# behind the database's back, owned as the worker would own them.
fsck_plant() {
	local p

	p=$(stored_path "$2")
	mkdir -p "$(dirname "$p")"
	# The workers must be able to write in fan-out directories made here.
	chown --reference="$IT_DATA_DIR" "$IT_DATA_DIR/${2:0:2}" \
	    "$IT_DATA_DIR/${2:0:2}/${2:2:2}"
	cp "$1" "$p"
	chown --reference="$IT_DATA_DIR" "$p"
	chmod 0640 "$p"
	[ -z "${3:-}" ] || touch -d "$3" "$p"
}

# fsck_temp NAME [TOUCH_DATE]: an empty file in DATA_DIR/tmp.
fsck_temp() {
	: >"$IT_DATA_DIR/tmp/$1"
	chown --reference="$IT_DATA_DIR" "$IT_DATA_DIR/tmp/$1"
	[ -z "${2:-}" ] || touch -d "$2" "$IT_DATA_DIR/tmp/$1"
}

# A consistent store: nothing to report, status 0; -q prints the summary
# only.
sc_fsck_clean() {
	local rows
	upload "$(new_file fsck_clean)" fsck.txt
	check_status 201
	rows=$(fsck_rows)
	it_fsck
	check_fsck_rc 0
	check_fsck_summary "$rows rows, $rows files: 0 missing, 0 orphan, 0 corrupt, 0 stray, 0 stale temp"
	check_eq "report lines" 1 "$(wc -l <"$IT_TMP/fsck.out")"
	check "fsck wrote to stderr: $(fsck_said)" test ! -s "$IT_TMP/fsck.err"
	it_fsck -v
	check_fsck_rc 0 "-v"
	check_fsck_summary "$rows rows, $rows files: 0 missing, 0 orphan, 0 corrupt, 0 stray, 0 stale temp"
	it_fsck -q -v
	check_fsck_rc 0 "-q -v"
	check_eq "-q output lines" 1 "$(wc -l <"$IT_TMP/fsck.out")"
}

# Every kind of problem at once; then -r mends what it understands and
# reports the rest, and a run after that is clean.
sc_fsck_detects_and_repairs() {
	local a ha b hb c hc d hd e he g hg x hx
	local tmpf trashf lockf youngf strayf lockfd rows lf
	local dir_e

	a=$(new_file fsck_missing)
	ha=$(b2 "$a")
	upload "$a" missing.txt
	check_status 201
	e=$(new_file fsck_corrupt_same)
	he=$(b2 "$e")
	upload "$e" same.txt
	check_status 201
	g=$(new_file fsck_corrupt_size)
	hg=$(b2 "$g")
	upload "$g" size.txt
	check_status 201
	sleep 1		# the workers' sweep after that request

	# missing: a stored file gone, and a row inserted without a file.
	rm -f "$(stored_path "$ha")"
	b=$(new_file fsck_ghost)
	hb=$(b2 "$b")
	fu_pg_psql "$IT_PG_DIR" fileupload -c "INSERT INTO files
	    (file_hash, file_name, file_type, file_size)
	    VALUES ('$hb', 'ghost.txt', 'text/plain', $(stat -c %s "$b"))"
	# orphans: an old one and one that may be an upload about to commit.
	c=$(new_file fsck_orphan_old)
	hc=$(b2 "$c")
	fsck_plant "$c" "$hc" '1 hour ago'
	d=$(new_file fsck_orphan_young)
	hd=$(b2 "$d")
	fsck_plant "$d" "$hd"
	# corrupt: same length (-v only), and another length (a stat).
	tr '[:lower:]' '[:upper:]' <"$(stored_path "$he")" >"$IT_TMP/fsck.upper"
	cat "$IT_TMP/fsck.upper" >"$(stored_path "$he")"
	printf 'x' >>"$(stored_path "$hg")"
	# temp files: stale upload and trash; a locked and a young upload.
	tmpf=upload-fsck-stale-$RANDOM$RANDOM
	fsck_temp "$tmpf" '5 minutes ago'
	trashf=trash-$(printf '%064d' 0)-1-fsck$RANDOM
	fsck_temp "$trashf" '2 hours ago'
	lockf=upload-fsck-locked-$RANDOM$RANDOM
	fsck_temp "$lockf" '5 minutes ago'
	exec {lockfd}<"$IT_DATA_DIR/tmp/$lockf"
	flock -x "$lockfd"
	youngf=upload-fsck-young-$RANDOM$RANDOM
	fsck_temp "$youngf"
	# strays: a file at the top, junk in tmp/, a stored file's name in
	# the wrong directory, an upper-case name.
	strayf=fsck-stray-$RANDOM
	: >"$IT_DATA_DIR/$strayf"
	fsck_temp fsck-junk
	dir_e=$(dirname "$(stored_path "$he")")
	x=$(new_file fsck_misplaced)
	hx=$(b2 "$x")
	while [ "${hx:0:4}" = "${he:0:4}" ]; do
		x=$(new_file fsck_misplaced)
		hx=$(b2 "$x")
	done
	cp "$x" "$dir_e/$hx"
	cp "$e" "$dir_e/${he^^}"

	rows=$(fsck_rows)
	it_fsck
	check_fsck_rc 1 "report"
	check_fsck_line "missing $ha"
	check_fsck_line "missing $hb"
	check_fsck_line "orphan $hc"
	check_fsck_line "orphan $hd"
	check_fsck_line_re "corrupt $hg: size [0-9]+, recorded [0-9]+"
	check_fsck_no_mention "$he"
	check_fsck_line "stale-temp $tmpf"
	check_fsck_line "stale-temp $trashf"
	check_fsck_no_mention "$lockf"
	check_fsck_no_mention "$youngf"
	check_fsck_line "stray $strayf"
	check_fsck_line "stray tmp/fsck-junk"
	check_fsck_line "stray ${dir_e#"$IT_DATA_DIR/"}/$hx"
	check_fsck_line "stray ${dir_e#"$IT_DATA_DIR/"}/${he^^}"
	# rows - 2 missing + 2 orphans = files
	check_fsck_summary "$rows rows, $rows files: 2 missing, 2 orphan, 1 corrupt, 4 stray, 2 stale temp"
	check "old orphan removed without -r" test -e "$(stored_path "$hc")"
	check "stale temp file removed without -r" test -e "$IT_DATA_DIR/tmp/$tmpf"

	it_fsck -v
	check_fsck_rc 1 "-v"
	check_fsck_line_re "corrupt $he: content hashes to [0-9a-f]{64}"
	check_fsck_summary "$rows rows, $rows files: 2 missing, 2 orphan, 2 corrupt, 4 stray, 2 stale temp"

	it_fsck -q -v
	check_fsck_rc 1 "-q -v"
	check_eq "-q output lines" 1 "$(wc -l <"$IT_TMP/fsck.out")"

	it_fsck -r -v
	check_fsck_rc 1 "-r -v"
	check_fsck_line_re "missing $ha: row deleted \(file_name missing\.txt, .*\)"
	check_fsck_line_re "missing $hb: row deleted \(file_name ghost\.txt, .*\)"
	check "row $ha still there" fsck_no_row "$ha"
	check "row $hb still there" fsck_no_row "$hb"
	check_fsck_line "orphan $hc: removed"
	check "old orphan still there" test ! -e "$(stored_path "$hc")"
	check_fsck_line_re "orphan $hd: kept, younger than 10 minutes.*"
	check "young orphan removed" test -e "$(stored_path "$hd")"
	lf=$IT_DATA_DIR/lost+found
	check_fsck_line_re "corrupt $he: content hashes to [0-9a-f]{64}; row deleted \(file_name same\.txt, .*\), file moved to lost\+found/$he"
	check_fsck_line_re "corrupt $hg: size [0-9]+, recorded [0-9]+; row deleted \(.*\), file moved to lost\+found/$hg"
	check "row $he still there" fsck_no_row "$he"
	check "row $hg still there" fsck_no_row "$hg"
	check "corrupt file not in lost+found" cmp -s "$lf/$he" "$IT_TMP/fsck.upper"
	check "corrupt file not in lost+found" test -f "$lf/$hg"
	check "corrupt file left in place" test ! -e "$(stored_path "$he")"
	check "corrupt file left in place" test ! -e "$(stored_path "$hg")"
	check "lost+found owned like DATA_DIR" test \
	    "$(stat -c %U "$lf")" = "$(stat -c %U "$IT_DATA_DIR")"
	check_fsck_line "stale-temp $tmpf: removed"
	check_fsck_line "stale-temp $trashf: removed"
	check "stale upload temp file left" test ! -e "$IT_DATA_DIR/tmp/$tmpf"
	check "stale trash file left" test ! -e "$IT_DATA_DIR/tmp/$trashf"
	check "locked temp file removed" test -e "$IT_DATA_DIR/tmp/$lockf"
	check "young temp file removed" test -e "$IT_DATA_DIR/tmp/$youngf"
	check_fsck_line "stray $strayf"
	for x in "$IT_DATA_DIR/$strayf" "$IT_DATA_DIR/tmp/fsck-junk" \
	    "$dir_e/$hx" "$dir_e/${he^^}"; do
		check "stray $x removed" test -e "$x"
	done

	# What -r leaves for a human, gone; the state is consistent again.
	exec {lockfd}<&-
	rm -f "$(stored_path "$hd")" "$IT_DATA_DIR/$strayf" \
	    "$IT_DATA_DIR/tmp/fsck-junk" "$dir_e/$hx" "$dir_e/${he^^}" \
	    "$IT_DATA_DIR/tmp/$lockf" "$IT_DATA_DIR/tmp/$youngf"
	rows=$(fsck_rows)
	it_fsck -v
	check_fsck_rc 0 "after -r"
	check_fsck_summary "$rows rows, $rows files: 0 missing, 0 orphan, 0 corrupt, 0 stray, 0 stale temp"
	rm -rf "$lf"
}

# A worker killed in the middle of a delete leaves the row and the file in
# tmp/ as trash: -r puts the file back rather than delete the row.
sc_fsck_restores_trash() {
	local f h p trash
	# Another stored file: -r refuses to act on a DATA_DIR with no file.
	upload "$(new_file fsck_trash_neighbour)"
	f=$(new_file fsck_trash)
	h=$(b2 "$f")
	upload "$f" trash.txt
	check_status 201
	sleep 1		# the workers' sweep after that request
	p=$(stored_path "$h")
	trash=trash-$h-1-fsck$RANDOM
	touch -d '2 hours ago' "$p"
	mv "$p" "$IT_DATA_DIR/tmp/$trash"

	it_fsck
	check_fsck_rc 1 "report"
	check_fsck_line "missing $h"
	check_fsck_line "stale-temp $trash"
	it_fsck -r
	check_fsck_rc 1 "-r"
	check_fsck_line "missing $h: file restored from tmp/$trash"
	check_fsck_no_mention "stale-temp"
	check_stored "$h" "$f"
	check "row $h deleted" fsck_row_exists "$h"
	# A second trash file of a file that is in its place: just removed.
	cp -p "$p" "$IT_DATA_DIR/tmp/$trash"
	it_fsck -r
	check_fsck_rc 1 "-r, duplicate trash"
	check_fsck_line "stale-temp $trash: removed"
	check "duplicate trash file left" test ! -e "$IT_DATA_DIR/tmp/$trash"
	check_stored "$h" "$f"
	it_fsck -v
	check_fsck_rc 0 "after -r"
	req GET "/service/fileupload/$h/content"
	check_status 200 "content after the restore"
	req DELETE "/service/fileupload/$h"
	check_status 201
}

# fsck as the worker's user, as it would run from its cron job.
sc_fsck_as_worker_user() {
	local f h bin=$FU_VAR/bin/fileupload-fsck
	install -m 0755 "$(fsck_bin)" "$bin"
	# A recorded file too: -r refuses to act on a table with no row.
	upload "$(new_file fsck_worker_user_neighbour)"
	sleep 1		# the workers' sweep after that request
	f=$(new_file fsck_worker_user)
	h=$(b2 "$f")
	fsck_plant "$f" "$h" '1 hour ago'
	FSCK_RC=0
	(cd / && runuser -u "$FU_USER" -- env DB_TYPE=postgresql \
	    DB_HOST="$FU_DB_HOST" DB_PORT="$FU_DB_PORT" DB_USER="$FU_DB_USER" \
	    DB_NAME="$FU_DB_NAME" ROOT_DIR="$FU_VAR" DATA_DIR="$IT_DATA_DIR" \
	    "$bin" -r -v) >"$IT_TMP/fsck.out" 2>"$IT_TMP/fsck.err" || FSCK_RC=$?
	check_fsck_rc 1 "-r -v as $FU_USER"
	check_fsck_line "orphan $h: removed"
	check "orphan still there" test ! -e "$(stored_path "$h")"
	FSCK_RC=0
	(cd / && runuser -u "$FU_USER" -- env DB_TYPE=postgresql \
	    DB_HOST="$FU_DB_HOST" DB_PORT="$FU_DB_PORT" DB_USER="$FU_DB_USER" \
	    DB_NAME="$FU_DB_NAME" ROOT_DIR="$FU_VAR" DATA_DIR="$IT_DATA_DIR" \
	    "$bin" -v) >"$IT_TMP/fsck.out" 2>"$IT_TMP/fsck.err" || FSCK_RC=$?
	check_fsck_rc 0 "-v as $FU_USER"
	rm -f "$bin"
}

# DATA_DIR/tmp as a symbolic link: fsck refuses it (status 2, a line that
# says why) and makes or removes nothing where it points.
sc_fsck_refuses_tmp_symlink() {
	local d=$FU_VAR/symlinked-data
	mkdir -p "$d" "$FU_VAR/elsewhere"
	: >"$FU_VAR/elsewhere/upload-1-bait"
	touch -d '2 hours ago' "$FU_VAR/elsewhere/upload-1-bait"
	ln -s "$FU_VAR/elsewhere" "$d/tmp"
	it_fsck DATA_DIR="$d" -r
	check_fsck_rc 2 "tmp/ a symbolic link"
	check "the refusal names the link: $(fsck_said)" \
	    grep -q 'tmp is a symbolic link' "$IT_TMP/fsck.err"
	check "fsck acted through the link" test -e "$FU_VAR/elsewhere/upload-1-bait"
	rm -rf "$d" "$FU_VAR/elsewhere"
}

# Run as root, fsck acts as the owner of DATA_DIR: an old orphan in a
# directory only root may write is reported and left, not removed.
sc_fsck_as_root_acts_as_owner() {
	local f h fan made=
	upload "$(new_file fsck_owner_neighbour)"
	check_status 201
	sleep 1		# the workers' sweep after that request
	f=$(new_file fsck_owner)
	h=$(b2 "$f")
	# A second-level fan-out directory nobody made yet, made by root
	# (its parent too when that is new; after many uploads all 256
	# first-level ones may exist): the file's own directory is root's.
	while [ -e "$IT_DATA_DIR/${h:0:2}/${h:2:2}" ]; do
		h=$(printf '%04x%s' $((RANDOM % 65536)) "${h:4}")
	done
	fan=${h:0:2}
	[ -e "$IT_DATA_DIR/$fan" ] || { mkdir -m 0755 "$IT_DATA_DIR/$fan"; made=1; }
	mkdir -m 0755 "$IT_DATA_DIR/$fan/${h:2:2}"
	cp "$f" "$IT_DATA_DIR/$fan/${h:2:2}/$h"
	touch -d '1 hour ago' "$IT_DATA_DIR/$fan/${h:2:2}/$h"
	it_fsck -r
	check_fsck_rc 2 "-r as root on root's files"
	check_fsck_line "orphan $h: not repaired"
	check "the reason: $(fsck_said)" grep -q "orphan $h: cannot move it aside: Permission denied" "$IT_TMP/fsck.err"
	check "root's orphan removed" test -e "$IT_DATA_DIR/$fan/${h:2:2}/$h"
	rm -rf "${IT_DATA_DIR:?}/$fan/${h:2:2}"
	[ -z "$made" ] || rmdir "$IT_DATA_DIR/$fan"
	it_fsck
	check_fsck_rc 0 "after the clean-up"
}

# Usage, configuration and connection errors: status 2, one line on stderr.
sc_fsck_errors_exit_2() {
	local rows
	it_fsck -x
	check_fsck_rc 2 "unknown option"
	check "usage line: $(fsck_said)" grep -q '^usage: fileupload-fsck' "$IT_TMP/fsck.err"
	it_fsck extra
	check_fsck_rc 2 "an argument"
	it_fsck DB_PORT=nonsense
	check_fsck_rc 2 "DB_PORT=nonsense"
	check "DB_PORT named: $(fsck_said)" grep -q 'DB_PORT' "$IT_TMP/fsck.err"
	it_fsck DB_PORT=1
	check_fsck_rc 2 "no database"
	check "connection error: $(fsck_said)" grep -q 'cannot connect' "$IT_TMP/fsck.err"
	it_fsck DATA_DIR="$FU_VAR/no-such-dir"
	check_fsck_rc 2 "no DATA_DIR"
	check "DATA_DIR named: $(fsck_said)" grep -q 'DATA_DIR' "$IT_TMP/fsck.err"
	check "fsck made DATA_DIR" test ! -e "$FU_VAR/no-such-dir"
	# An empty DATA_DIR (unmounted?) with rows in the table: -r would
	# delete every row; it refuses.
	upload "$(new_file fsck_guard)" guard.txt
	check_status 201
	rows=$(fsck_rows)
	mkdir "$FU_VAR/empty-data"
	it_fsck DATA_DIR="$FU_VAR/empty-data" -r
	check_fsck_rc 2 "-r on an empty DATA_DIR"
	check "refusal said: $(fsck_said)" grep -q 'not repairing' "$IT_TMP/fsck.err"
	check_fsck_line_re "missing [0-9a-f]{64}"
	check_eq "rows after -r on an empty DATA_DIR" "$rows" "$(fsck_rows)"
	rm -rf "$FU_VAR/empty-data"
}
