#!/bin/bash
# tests/bench/pg_upload.sh [ROUNDS]
#
# PostgreSQL's CPU per upload's statements, four ways, alternated ROUNDS
# times (default 3): the row inserted as the worker inserts it (INSERT ...
# ON CONFLICT DO NOTHING RETURNING, prepared), either in three round trips
# (BEGIN; INSERT; COMMIT) or with BEGIN and the INSERT in one pipeline
# (src/db.c's begin_with) and the COMMIT after, each with the events
# outbox's trigger (sql/011_events.sql) enabled and disabled.  A private
# PostgreSQL (fsync and synchronous_commit on) with the schema of sql/,
# pgbench with 8 clients, N (8000) uploads a way; CPU is utime + stime of
# the postmaster and its children, reaped ones included, from
# /proc/PID/stat, so a busy machine still measures the server's own work.
# Prints "way ms_per_upload" lines.  As root (PostgreSQL runs as the
# postgres user); ~2 min.  Removes its temp dir.
set -euo pipefail

rounds=${1:-3}
n=${N:-8000}
port=${PG_PORT:-25799}
here=$(cd "$(dirname "$0")" && pwd)
bin=$(printf "%s\n" /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
tmp=$(mktemp -d /var/tmp/fu-pg-upload.XXXXXX)
chown postgres: "$tmp"
stop() {
	runuser -u postgres -- "$bin/pg_ctl" -D "$tmp/data" -m fast stop \
	    >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap stop EXIT

runuser -u postgres -- "$bin/initdb" -D "$tmp/data" -A trust >/dev/null
runuser -u postgres -- "$bin/pg_ctl" -D "$tmp/data" -w -l "$tmp/log" -o \
    "-p $port -k $tmp -c listen_addresses=127.0.0.1 -c fsync=on -c synchronous_commit=on" \
    start >/dev/null
psql=(psql -q -X -h 127.0.0.1 -p "$port" -U postgres -d postgres)
for f in "$here"/../../sql/[0-9]*.sql; do
	"${psql[@]}" -v ON_ERROR_STOP=1 -f "$f" >/dev/null 2>&1
done

# A random 64-hex-digit hash per upload; the row as src/db.c inserts it.
pre='\set a random(1, 2000000000)
\set b random(1, 2000000000)
'
ins="INSERT INTO files (file_hash, file_name, file_type, file_size, sha256) VALUES (md5(:a::text) || md5(:b::text), 'a.txt', 'text/plain', 4096, NULLIF('', '')) ON CONFLICT (file_hash) DO NOTHING RETURNING file_hash, file_name, file_type, file_size, created_at, updated_at, sha256;"
printf '%sBEGIN;\n%s\nCOMMIT;\n' "$pre" "$ins" >"$tmp/three.sql"
printf '%s\\startpipeline\nBEGIN;\n%s\n\\endpipeline\nCOMMIT;\n' "$pre" \
    "$ins" >"$tmp/pipelined.sql"

# ticks: the server's CPU so far, in clock ticks.
ticks() {
	local pm t=0 p
	pm=$(head -n 1 "$tmp/data/postmaster.pid")
	for p in $pm $(pgrep -P "$pm"); do
		t=$((t + $(awk '{ print $14 + $15 + $16 + $17 }' \
		    "/proc/$p/stat" 2>/dev/null || echo 0)))
	done
	echo "$t"
}

hz=$(getconf CLK_TCK)
for r in $(seq 1 "$rounds"); do
	for trig in on off; do
		[ "$trig" = on ] && act=ENABLE || act=DISABLE
		"${psql[@]}" -c "ALTER TABLE files $act TRIGGER files_event_write"
		for way in three pipelined; do
			t0=$(ticks)
			pgbench -n -M prepared -h 127.0.0.1 -p "$port" -U postgres \
			    -c 8 -j 2 -t $((n / 8)) -f "$tmp/$way.sql" postgres \
			    >"$tmp/pgbench.txt" 2>&1 ||
			    { cat "$tmp/pgbench.txt" >&2; exit 1; }
			t1=$(ticks)
			echo "round=$r trigger=$trig $way $(echo "scale=4; ($t1 - $t0) * 1000 / $hz / $n" | bc)"
		done
	done
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
