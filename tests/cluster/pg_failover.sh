#!/usr/bin/env bash
#
# tests/cluster/pg_failover.sh: the service through a PostgreSQL failover.
#
# A primary and a streaming standby on loopback (pg_basebackup -R), with
# synchronous_standby_names on the primary, so that a COMMIT returns only
# once the standby has the upload's row too.  The workers get both as
# DB_HOST/DB_PORT lists and connect with target_session_attrs=read-write.
# Under traffic from several clients the primary is killed (pg_ctl stop
# -m immediate), and after a pause the standby is promoted, as an operator
# or a failover manager would; then:
#
#	- the workers write to the new primary by themselves, within a
#	  bound (CL_FAILOVER_BOUND_MS, 15000 ms after the promotion), and
#	  every upload started once the promotion is done gets 201;
#	- no pooled connection is left on the dead primary: renames,
#	  health checks and list pages, enough at once to use every
#	  connection of every worker (before the kill too), all succeed;
#	- every upload answered 201 is there, with its bytes;
#	- the other answers, during the switch, are 503 JSON errors, and
#	  whatever they left is whole (fsck).
#
# Then the old primary comes back as the new one's synchronous standby
# (pg_basebackup), and the new primary is cut off without a reset: its
# port's packets dropped on loopback, both ways (iptables), as a frozen
# network does.  The workers notice within a bound (libpq's
# tcp_user_timeout and keepalives, see src/db.c), answer 503 meanwhile
# instead of hanging, and write to the standby once it is promoted.
#
# The times measured are printed.  Run as root:
#
#	tests/cluster/pg_failover.sh
#
# Environment: FU_BUILD_DIR, FU_WORKER (as for tests/integration/run.sh),
# CL_KEEP=1 keeps the temp dir.  The last line is "N passed, N failed".
set -euo pipefail

CL_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib.sh
. "$CL_DIR/../../scripts/lib.sh"
# shellcheck source=tests/integration/lib.sh
. "$CL_DIR/../integration/lib.sh"
# shellcheck source=tests/cluster/lib.sh
. "$CL_DIR/lib.sh"

CL_FAILOVER_BOUND_MS=${CL_FAILOVER_BOUND_MS:-15000}
CL_OPERATOR_PAUSE=2	# seconds between the primary's death and the promotion
# A cut-off primary: a request in hand ends this soon after the cut, or
# (started later) this soon after it began.
CL_PARTITION_BOUND_MS=${CL_PARTITION_BOUND_MS:-20000}
CL_CUT_PORT=		# the port whose packets are dropped, while they are

cl_init failover
PG1=$FU_VAR/pg1
PG2=$FU_VAR/pg2

# shellcheck disable=SC2317  # called by cl_exit
cl_teardown() {
	[ -z "$CL_CUT_PORT" ] || cut_off "$CL_CUT_PORT" -D
	fu_nginx_stop 2>/dev/null || true
	fu_pool_stop 2>/dev/null || true
	fu_pg_stop "$PG1" 2>/dev/null || true
	fu_pg_stop "$PG2" 2>/dev/null || true
	cl_store_stop 2>/dev/null || true
}

# cut_off PORT [-I|-D]: drops (-I, the default) or passes again (-D) every
# TCP packet to and from PORT on loopback.
cut_off() {
	local op=${2:--I}
	iptables "$op" INPUT -i lo -p tcp --dport "$1" -j DROP
	iptables "$op" INPUT -i lo -p tcp --sport "$1" -j DROP
	if [ "$op" = -I ]; then CL_CUT_PORT=$1; else CL_CUT_PORT=; fi
}

# sync_standby DIR: makes the cluster in DIR wait for its standby at each
# COMMIT, once the standby streams.
sync_standby() {
	local i
	fu_pg_psql "$1" postgres -c "ALTER SYSTEM SET synchronous_standby_names = '*'"
	fu_pg_psql "$1" postgres -c 'SELECT pg_reload_conf()' >/dev/null
	for i in $(seq 1 100); do
		[ "$(fu_pg_psql "$1" postgres -tAc \
		    "SELECT sync_state FROM pg_stat_replication")" != sync ] || break
		sleep 0.1
	done
	[ "$(fu_pg_psql "$1" postgres -tAc \
	    "SELECT sync_state FROM pg_stat_replication")" = sync ]
}

# pg_on DIR SQL: one value from the cluster in DIR, as the superuser.
pg_on() {
	fu_pg_psql "$1" fileupload -tAc "$2"
}

setup() {
	local bin

	bin=$(fu_pg_bindir)
	cl_store_setup "$FU_VAR/data"
	fu_prepare_dirs
	PORT1=$(fu_free_port $((26000 + RANDOM % 400)))
	FU_PG_FSYNC=off fu_pg_start "$PG1" "$PORT1"

	fu_log "standby: pg_basebackup -R from the primary"
	mkdir -p "$PG2"
	chown postgres:postgres "$PG2"
	fu_as_postgres "$bin/pg_basebackup" -h 127.0.0.1 -p "$PORT1" -U postgres \
	    -D "$PG2/data" -R -X stream -c fast
	PORT2=$(fu_free_port $((PORT1 + 1)))
	FU_PG_FSYNC=off fu_pg_start "$PG2" "$PORT2"
	[ "$(pg_on "$PG2" 'SELECT pg_is_in_recovery()')" = t ]

	# Only the primary waits for its standby: promoted, the standby has
	# none, and a COMMIT that waited for one would never return.
	sync_standby "$PG1"

	# Both, as an operator lists them: the primary first.
	FU_DB_HOST=127.0.0.1,127.0.0.1
	FU_DB_PORT=$PORT1,$PORT2
	FU_DB_USER=fileupload
	FU_DB_NAME=fileupload
	fu_migrate "$IT_MIGRATE"
	FU_LISTEN=127.0.0.1:$(fu_free_port $((18500 + RANDOM % 400)))
	IT_URL=http://$FU_LISTEN
	WORKERS=3 fu_pool_start "$IT_WORKER"
	fu_render_conf
	fu_nginx_start
}

# Before the failover: each upload's row is on the standby too.
sc_uploads_replicated() {
	local f h i n

	for i in 1 2 3; do
		f=$(new_file "replicated$i")
		h=$(b2 "$f")
		upload "$f"
		check_status 201 "upload $i"
		# Synchronous commit waits for the standby to have the row
		# on disk; replaying it takes a moment more.
		for n in $(seq 1 50); do
			[ "$(pg_on "$PG2" "SELECT count(*) FROM files WHERE file_hash = '$h'")" = 0 ] ||
			    break
			sleep 0.1
		done
		check_eq "upload $i's row on the standby" 1 \
		    "$(pg_on "$PG2" "SELECT count(*) FROM files WHERE file_hash = '$h'")"
	done
	check_eq "the standby is synchronous" sync "$(fu_pg_psql "$PG1" postgres -tAc \
	    'SELECT sync_state FROM pg_stat_replication')"
}

# The primary dies under traffic; the standby is promoted.
sc_failover_under_traffic() {
	local bin t_stop t_promote t_done first end after bad n503

	bin=$(fu_pg_bindir)
	cl_traffic_start 3 1000 20000
	cl_wait_count 201 20 60 || fail "no traffic before the failover"
	# Every pooled connection open, to the primary about to die.
	burst "before the failover"

	t_stop=$(cl_ms)
	fu_as_postgres "$bin/pg_ctl" -D "$PG1/data" -m immediate stop >/dev/null
	sleep "$CL_OPERATOR_PAUSE"
	req GET /service/fileupload/health
	check_status 503 "health with no primary"
	check_json .database unavailable
	t_promote=$(cl_ms)
	fu_as_postgres "$bin/pg_ctl" -D "$PG2/data" -w -t 60 promote >/dev/null
	t_done=$(cl_ms)

	# The first upload started after the promotion that got its 201.
	end=$((SECONDS + CL_FAILOVER_BOUND_MS / 1000 + 10))
	first=
	while [ "$SECONDS" -lt "$end" ]; do
		first=$(cat "$IT_TMP"/client.* | awk -v t="$t_done" \
		    '$1 >= t && $3 == 201 && ($2 < m || m == "") { m = $2 } END { print m }')
		[ -z "$first" ] || break
		sleep 0.1
	done
	sleep 3
	cl_traffic_stop

	n503=$(awk -v a="$t_stop" '$2 >= a && $3 == 503 { n++ } END { print n + 0 }' \
	    "$IT_TMP/requests")
	cl_note "primary killed -> promotion begun: $((t_promote - t_stop)) ms" \
	    "(the pause), promotion: $((t_done - t_promote)) ms"
	if [ -z "$first" ]; then
		fail "no upload got 201 after the promotion"
	else
		cl_note "promotion done -> first 201 from the new primary:" \
		    "$((first - t_done)) ms"
		cl_note "primary killed -> first 201 from the new primary:" \
		    "$((first - t_stop)) ms"
		[ $((first - t_done)) -le "$CL_FAILOVER_BOUND_MS" ] ||
		    fail "the workers took $((first - t_done)) ms to write again" \
		    "(bound: $CL_FAILOVER_BOUND_MS ms)"
	fi
	cl_note "requests: $(cl_statuses); 503 during the switch: $n503"

	# Everything started once the promotion was done succeeded: no
	# worker stays on a dead or read-only connection.
	after=$(awk -v t="$t_done" '$1 >= t' "$IT_TMP/requests" | wc -l)
	bad=$(awk -v t="$t_done" '$1 >= t && $3 != 201' "$IT_TMP/requests")
	[ -z "$bad" ] || fail "uploads after the promotion not 201: $(tr '\n' '|' <<<"$bad")"
	[ "$after" -gt 0 ] || fail "no upload after the promotion"
	check_eq "the new primary is out of recovery" f \
	    "$(pg_on "$PG2" 'SELECT pg_is_in_recovery()')"

	# Then all at once again: no connection is left on the dead primary
	# to fail a request once more.
	burst "after the failover"
	cl_check_requests '201|503'
	req GET /service/fileupload/health
	check_status 200 "health on the new primary"
	cl_check_fsck
}

# The primary (PG2 now) cut off without a reset while its standby (PG1,
# rebuilt from it) is promoted: requests end within a bound instead of
# hanging, and the workers write to the promoted standby.
sc_partition_under_traffic() {
	local bin t_cut t_promote t_done first worst bad ms

	bin=$(fu_pg_bindir)
	fu_pg_stop "$PG1" 2>/dev/null || true
	rm -rf "$PG1"
	mkdir -p "$PG1"
	chown postgres:postgres "$PG1"
	fu_as_postgres "$bin/pg_basebackup" -h 127.0.0.1 -p "$PORT2" -U postgres \
	    -D "$PG1/data" -R -X stream -c fast
	FU_PG_FSYNC=off fu_pg_start "$PG1" "$PORT1" 2>>"$IT_TMP/setup.log"
	sync_standby "$PG2" || { fail "PG1 is not PG2's synchronous standby"; return 0; }

	cl_traffic_start 3 1000 20000
	cl_wait_count 201 10 60 || fail "no traffic before the cut"
	t_cut=$(cl_ms)
	cut_off "$PORT2"
	# Health in hand while the primary is unreachable: 503, not a hang.
	req GET /service/fileupload/health --max-time 60
	ms=$(($(cl_ms) - t_cut))
	check_status 503 "health with the primary cut off"
	cl_note "primary cut off -> health answered 503: $ms ms"
	[ "$ms" -le "$CL_PARTITION_BOUND_MS" ] ||
	    fail "health took $ms ms (bound: $CL_PARTITION_BOUND_MS ms)"
	t_promote=$(cl_ms)
	fu_as_postgres "$bin/pg_ctl" -D "$PG1/data" -w -t 60 promote >/dev/null
	t_done=$(cl_ms)

	first=
	for _ in $(seq 1 $((CL_PARTITION_BOUND_MS / 100 + 100))); do
		first=$(cat "$IT_TMP"/client.* | awk -v t="$t_done" \
		    '$1 >= t && $3 == 201 && ($2 < m || m == "") { m = $2 } END { print m }')
		[ -z "$first" ] || break
		sleep 0.1
	done
	# Past the bound: every request in hand at the promotion has ended.
	sleep $((CL_PARTITION_BOUND_MS / 1000 + 2))
	cl_traffic_stop
	# Fenced: the old primary must not come back as a second one.
	fu_as_postgres "$bin/pg_ctl" -D "$PG2/data" -m immediate stop >/dev/null
	cut_off "$PORT2" -D

	cl_note "cut -> promotion begun: $((t_promote - t_cut)) ms," \
	    "promotion: $((t_done - t_promote)) ms"
	if [ -z "$first" ]; then
		fail "no upload got 201 after the promotion"
	else
		cl_note "promotion done -> first 201 from the promoted standby:" \
		    "$((first - t_done)) ms"
		[ $((first - t_done)) -le "$CL_PARTITION_BOUND_MS" ] ||
		    fail "the workers took $((first - t_done)) ms to write again"
	fi
	# The longest any request waited after the cut (from the cut for
	# one in hand at it), and what those before the promotion got.
	worst=$(awk -v c="$t_cut" '$2 >= c { s = $1 > c ? $1 : c;
	    if ($2 - s > w) w = $2 - s } END { print w + 0 }' "$IT_TMP/requests")
	cl_note "longest wait of a request after the cut: $worst ms;" \
	    "requests: $(cl_statuses)"
	[ "$worst" -le "$CL_PARTITION_BOUND_MS" ] ||
	    fail "a request waited $worst ms (bound: $CL_PARTITION_BOUND_MS ms)"
	# Everything started once the promotion was done (and the workers
	# had had their bound to drop the cut connections) succeeded.
	bad=$(awk -v t="$((t_done + CL_PARTITION_BOUND_MS))" '$1 >= t && $3 != 201' \
	    "$IT_TMP/requests")
	[ -z "$bad" ] || fail "uploads after the promotion not 201: $(tr '\n' '|' <<<"$bad")"
	cl_check_requests '201|503'
	req GET /service/fileupload/health
	check_status 200 "health on the promoted standby"
	cl_check_fsck
}

# burst WHAT: for each of up to 24 uploads answered 201 so far, a PUT
# renaming it, a health check and a list page, all at once, so that every
# worker uses every connection of its pool; every one must succeed.
burst() {
	local -a hashes pids=()
	local i h pid out=$IT_TMP/burst

	# awk reads to the end: "head" would close the pipe early (SIGPIPE).
	mapfile -t hashes < <(cat "$IT_TMP"/client.* |
	    awk '$3 == 201 && n++ < 24 { print $4 }')
	[ "${#hashes[@]}" -gt 0 ] || { fail "$1: no uploads to rename"; return 0; }
	rm -rf "$out"
	mkdir -p "$out"
	for i in "${!hashes[@]}"; do
		h=${hashes[$i]}
		curl -sS -o /dev/null -w "%{http_code} PUT [$h]\n" -X PUT \
		    -H 'Content-Type: application/json' \
		    --data-binary "{\"file_name\": \"renamed-$RANDOM-$i.bin\"}" \
		    "$IT_URL/service/fileupload/$h" >"$out/$i.put" 2>&1 &
		pids+=($!)
		curl -sS -o /dev/null -w '%{http_code} health\n' \
		    "$IT_URL/service/fileupload/health" >"$out/$i.health" 2>&1 &
		pids+=($!)
		curl -sS -o /dev/null -w '%{http_code} list\n' \
		    "$IT_URL/service/fileupload?limit=5" >"$out/$i.list" 2>&1 &
		pids+=($!)
	done
	# Not a bare "wait": the traffic's clients run too.
	for pid in "${pids[@]}"; do
		wait "$pid" || true
	done
	cat "$out"/* >"$out.all"
	! grep -vE '^(201 PUT|200 health|200 list)( |$)' "$out.all" ||
	    fail "$1: $(grep -vE '^(201 PUT|200 health|200 list)( |$)' "$out.all" |
	    sort | uniq -c | tr '\n' ' ')"
}

cl_setup setup
printf 'testing a PostgreSQL failover behind %s (worker %s)\n' "$IT_URL" "$IT_WORKER"
IT_LOG_FILES=("$FU_VAR/logs/fileupload.log" "$FU_VAR/logs/nginx-error.log")
cl_run_scenarios sc_uploads_replicated sc_failover_under_traffic \
    sc_partition_under_traffic -- "$@"
summary
[ "$IT_FAILED" -eq 0 ]
