#!/usr/bin/env bash
#
# tests/bench/soak.sh: mixed traffic for a while, with faults, against a
# running scripts/run (its private cluster); then fileupload-fsck must find
# nothing inconsistent.  A longer run, not part of scripts/test.
#
#	scripts/run &
#	tests/bench/soak.sh [SECONDS] [CLIENTS]     # defaults: 600, 8
#
# Each client loops: upload new bytes (sometimes bytes already stored),
# read the metadata back, download and compare the content, list a page,
# rename, and delete about half of what it uploaded.  Meanwhile a worker is
# killed with SIGKILL every 30 s and PostgreSQL is restarted once, half way.
# Prints the count of each status per route and the fsck report.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"

DURATION=${1:-600}
CLIENTS=${2:-8}
URL=http://127.0.0.1:${PORT:-8080}/service/fileupload
fu_nginx_user
FU_VAR=$(fu_pick_var_dir "${FU_VAR:-$FU_ROOT/var}")
pg_dir=$FU_VAR/postgres
[ -n "$(fu_pool_supervisor)" ] || fu_die "no pool in $FU_VAR: start scripts/run first"
[ -f "$pg_dir/data/fileupload.conf" ] || fu_die "soak needs scripts/run's private cluster"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
end=$(($(date +%s) + DURATION))

# client N: one traffic loop; one "route status" line per request.
client() {
	local n=$1 i=0 f h st
	local -a mine=()
	while [ "$(date +%s)" -lt "$end" ]; do
		i=$((i + 1))
		f=$tmp/c$n.bin
		if [ $((i % 10)) -eq 0 ] && [ "${#mine[@]}" -gt 0 ]; then
			# Bytes another request may be storing or deleting.
			printf 'shared %d\n' $((i % 3)) >"$f"
		else
			{ printf 'soak %d %d\n' "$n" "$i"; head -c $((RANDOM * 8)) /dev/urandom; } >"$f"
		fi
		h=$(b2sum -l 256 "$f" | cut -d' ' -f1)
		st=$(curl -s -o /dev/null -w '%{http_code}' --max-time 60 \
		    -F "upfile=@$f;filename=soak-$n-$i.bin" "$URL")
		echo "upload $st"
		[ "$st" != 201 ] || mine+=("$h")
		st=$(curl -s -o /dev/null -w '%{http_code}' --max-time 60 "$URL/$h")
		echo "get $st"
		if [ "$st" = 200 ]; then
			st=$(curl -s -o "$tmp/c$n.out" -w '%{http_code}' --max-time 60 \
			    "$URL/$h/content")
			echo "content $st"
			if [ "$st" = 200 ] && ! cmp -s "$f" "$tmp/c$n.out"; then
				echo "content MISMATCH"
			fi
		fi
		st=$(curl -s -o /dev/null -w '%{http_code}' --max-time 60 "$URL?limit=50")
		echo "list $st"
		if [ $((i % 4)) -eq 0 ] && [ "${#mine[@]}" -gt 0 ]; then
			st=$(curl -s -o /dev/null -w '%{http_code}' --max-time 60 -X PUT \
			    -H 'Content-Type: application/json' \
			    -d "{\"file_name\":\"renamed-$n-$i.bin\"}" "$URL/${mine[-1]}")
			echo "update $st"
		fi
		if [ $((i % 2)) -eq 0 ] && [ "${#mine[@]}" -gt 0 ]; then
			st=$(curl -s -o /dev/null -w '%{http_code}' --max-time 60 \
			    -X DELETE "$URL/${mine[0]}")
			echo "delete $st"
			mine=("${mine[@]:1}")
		fi
	done
}

fu_log "soak: $CLIENTS clients for $DURATION s against $URL"
for n in $(seq 1 "$CLIENTS"); do
	client "$n" >"$tmp/client.$n.log" 2>&1 &
done

kills=0 restarted=0 start=$(date +%s)
while [ "$(date +%s)" -lt "$end" ]; do
	sleep 30
	[ "$(date +%s)" -lt "$end" ] || break
	victim=$(fu_pool_pids | head -n 1)
	if [ -n "$victim" ]; then
		kill -KILL "$victim" && kills=$((kills + 1))
		fu_log "killed worker $victim"
	fi
	if [ "$restarted" -eq 0 ] && [ $(($(date +%s) - start)) -ge $((DURATION / 2)) ]; then
		fu_log "restarting PostgreSQL"
		fu_as_postgres "$(fu_pg_bindir)/pg_ctl" -D "$pg_dir/data" -m fast \
		    -w restart -l "$pg_dir/postgres.log" >/dev/null
		restarted=1
	fi
done
wait

fu_log "requests by route and status"
cat "$tmp"/client.*.log | sort | uniq -c | sort -k2,2 -k1,1nr
printf 'workers killed: %d, PostgreSQL restarts: %d\n' "$kills" "$restarted"
if grep -q MISMATCH "$tmp"/client.*.log; then
	fu_die "a download differed from its upload"
fi

fu_log "fileupload-fsck"
# Where scripts/run built it (fu_build's rule).
if [ -f "$FU_ROOT/config.status" ]; then
	fsck=$FU_ROOT/src/fileupload-fsck
else
	fsck=$FU_ROOT/build/src/fileupload-fsck
fi
# Run as the workers' user, with their configuration.
runuser -u "$FU_USER" -- env DB_HOST="$pg_dir/run" \
    DB_PORT="$(sed -n 's/^port = //p' "$pg_dir/data/fileupload.conf")" \
    DB_USER=fileupload DB_NAME=fileupload ROOT_DIR="$FU_VAR" \
    DATA_DIR="$FU_VAR/data" LOG_DIR="$FU_VAR/logs" "$fsck" -v
