#!/usr/bin/env bash
#
# tests/cluster/hosts.sh: three worker hosts behind one nginx front, on
# one machine.
#
# Each host is a Linux network namespace joined to a bridge by a veth
# pair, on a private /24 chosen free at random (10.X.Y.0/24) that exists
# only on the bridge and in the namespaces: no default route, no
# forwarding, nothing routed anywhere else.  The bridge holds 10.X.Y.1,
# where PostgreSQL listens (besides 127.0.0.1) and from where the front
# connects.  Host N (10.X.Y.1N) runs one worker pool on TCP port 9000
# (FCGI_LISTEN) that accepts only the front (FCGI_WEB_SERVER_ADDRS).
# nginx listens on 127.0.0.1 and passes to the three hosts (FCGI_UPSTREAM).
# The store is set in one place (cl_store_setup): an S3-API object store
# (Ceph RGW) on the front's address, shared by the three pools.
#
# The front watches the hosts as fu_serve does (fu_upstream_watch_start).
#
# Scenarios: uploads spread over the hosts and read back through the
# front; the pools refuse other peers; a resumable upload's PATCHes on
# every host; under traffic from several clients one host's workers are
# killed, or frozen (SIGSTOP), or its link goes down: requests in flight
# on it end within 8 s (503, nothing recorded without its bytes), new
# ones go to the others (1 s after a kill, 5 s after a freeze or a cut
# link), every 201 reads back, fsck finds nothing wrong; the host comes
# back and takes requests again.
#
# Everything (clients, nginx, pools, PostgreSQL, namespaces, veths,
# bridge) is torn down on exit, also on failure.  Run as root:
#
#	tests/cluster/hosts.sh
#
# Skips (status 0, "SKIP: ...") only when the kernel cannot make network
# namespaces.  Environment: FU_BUILD_DIR, FU_WORKER (as for
# tests/integration/run.sh), CL_KEEP=1 keeps the temp dir.  The last line
# is "N passed, N failed".
set -euo pipefail

CL_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib.sh
. "$CL_DIR/../../scripts/lib.sh"
# shellcheck source=tests/integration/lib.sh
. "$CL_DIR/../integration/lib.sh"
# shellcheck source=tests/cluster/lib.sh
. "$CL_DIR/lib.sh"

CL_HOSTS=3
CL_PORT=9000
CL_TAG=fu$$		# names of this run's links and namespaces

fu_require_root
command -v ip >/dev/null || fu_die "ip is missing (apt-get install iproute2)"
if ! ip netns add "${CL_TAG}probe" 2>/dev/null; then
	echo "SKIP: this kernel cannot make network namespaces (ip netns add failed)"
	exit 0
fi
ip netns del "${CL_TAG}probe"

cl_init hosts
CL_NETNS=()	# the namespaces made, for the teardown
CL_BRIDGE=

# ------------------------------------------------------------- network

# A /24 of 10/8 that no address or route of this machine touches.
pick_subnet() {
	local i a b

	for i in $(seq 1 50); do
		a=$((RANDOM % 200 + 30))
		b=$((RANDOM % 254 + 1))
		! ip -4 route show | grep -q "^10\.$a\.$b\." || continue
		! ip -4 addr show | grep -q "inet 10\.$a\.$b\." || continue
		printf '10.%s.%s\n' "$a" "$b"
		return 0
	done
	return 1
}

host_ns() {
	printf '%sh%s\n' "$CL_TAG" "$1"
}

host_addr() {
	printf '%s.1%s\n' "$CL_NET" "$1"
}

make_network() {
	local i ns

	CL_NET=$(pick_subnet) || fu_die "no free 10.x.y.0/24"
	CL_FRONT_ADDR=$CL_NET.1
	fu_log "network $CL_NET.0/24: bridge ${CL_TAG}br $CL_FRONT_ADDR"
	ip link add "${CL_TAG}br" type bridge
	CL_BRIDGE=${CL_TAG}br
	ip addr add "$CL_FRONT_ADDR/24" dev "$CL_BRIDGE"
	ip link set "$CL_BRIDGE" up
	for i in $(seq 1 "$CL_HOSTS"); do
		ns=$(host_ns "$i")
		ip netns add "$ns"
		CL_NETNS+=("$ns")
		ip link add "${CL_TAG}v$i" type veth peer name eth0 netns "$ns"
		ip link set "${CL_TAG}v$i" master "$CL_BRIDGE" up
		ip -n "$ns" link set lo up
		ip -n "$ns" addr add "$(host_addr "$i")/24" dev eth0
		ip -n "$ns" link set eth0 up
	done
}

# ------------------------------------------------------------- services

# host_layout N: the layout variables of host N's pool (0: the front).
host_layout() {
	local d=$FU_VAR/h$1

	[ "$1" -ne 0 ] || d=$FU_VAR/front
	FU_RUN_DIR=$d/run
	FU_CONF_DIR=$d/conf
	FU_NGINX_TEMP=$d/nginx
	FU_LOG_DIR=$d/logs
	FU_POOL_LOG=$d/logs/spawn-fcgi.log
	fu_layout
	if [ "$1" -eq 0 ]; then
		FU_POOL_NETNS=
		FCGI_LISTEN=unix
	else
		FU_POOL_NETNS=$(host_ns "$1")
		FCGI_LISTEN=$(host_addr "$1"):$CL_PORT
	fi
}

start_host() {
	host_layout "$1"
	fu_prepare_dirs
	WORKERS=2 fu_pool_start "$IT_WORKER"
	# A host's death is part of the test, not news: no "Killed" report
	# from this shell.  (Stopping needs no wait: zombies count as gone.)
	disown -a
	# Reachable from the front: the bridge's port forwards.
	for _ in $(seq 1 100); do
		! fu_port_open "$(host_addr "$1")" "$CL_PORT" || return 0
		sleep 0.1
	done
	fu_log "host $1's pool is not reachable on $FCGI_LISTEN"
	return 1
}

stop_host() {
	host_layout "$1"
	fu_pool_stop
}

setup() {
	local i pg=$FU_VAR/postgres

	make_network
	if [ -n "${CL_SOAK:-}" ]; then
		soak_setup_store
	else
		cl_store_setup "$FU_VAR/data" "$CL_FRONT_ADDR"
	fi
	FU_BIN_DIR=$FU_VAR/bin
	host_layout 0
	fu_prepare_dirs
	FU_PG_LISTEN=127.0.0.1,$CL_FRONT_ADDR FU_PG_FSYNC=off \
	    fu_pg_start "$pg" "$(fu_free_port $((26500 + RANDOM % 400)))"
	# The hosts' workers connect from the /24, as the role the service uses.
	fu_as_postgres sh -c "echo 'host fileupload fileupload $CL_NET.0/24 trust' \
	    >>'$pg/data/pg_hba.conf'"
	fu_pg_psql "$pg" postgres -c 'SELECT pg_reload_conf()' >/dev/null
	FU_DB_HOST=$CL_FRONT_ADDR
	FU_DB_PORT=$FU_PG_PORT
	FU_DB_USER=fileupload
	FU_DB_NAME=fileupload
	fu_migrate "$IT_MIGRATE"

	export FCGI_WEB_SERVER_ADDRS=$CL_FRONT_ADDR
	CL_UPSTREAM=
	for i in $(seq 1 "$CL_HOSTS"); do
		start_host "$i"
		CL_UPSTREAM+="$(host_addr "$i"):$CL_PORT "
	done

	host_layout 0
	FU_LISTEN=127.0.0.1:$(fu_free_port $((18900 + RANDOM % 400)))
	IT_URL=http://$FU_LISTEN
	FCGI_UPSTREAM=$CL_UPSTREAM fu_render_conf
	fu_nginx_start
	# The front's watch over the hosts, as fu_serve runs it.
	FCGI_UPSTREAM=$CL_UPSTREAM fu_upstream_watch_start \
	    >>"$FU_VAR/front/logs/watch.log" 2>&1
}

# shellcheck disable=SC2317  # called by cl_exit
cl_teardown() {
	local i ns

	host_layout 0
	fu_upstream_watch_stop
	fu_nginx_stop 2>/dev/null || true
	for i in $(seq 1 "$CL_HOSTS"); do
		stop_host "$i" 2>/dev/null || true
	done
	[ -z "${CL_SOAK:-}" ] || soak_teardown
	fu_pg_stop "$FU_VAR/postgres" 2>/dev/null || true
	cl_store_stop 2>/dev/null || true
	# A namespace's veth goes with it; the bridge last.
	for ns in "${CL_NETNS[@]}"; do
		ip netns del "$ns" 2>/dev/null || true
	done
	[ -z "$CL_BRIDGE" ] || ip link del "$CL_BRIDGE" 2>/dev/null || true
}

# --------------------------------------------------------------- helpers

# posts_on N: uploads host N's workers answered 201.
posts_on() {
	grep -c ' POST /service/fileupload 201 ' "$FU_VAR/h$1/logs/fileupload.log" ||
	    true
}

# fcgi_get_root ADDR PORT OUT: fu_fcgi_request sent over a raw
# connection; what comes back in OUT.  Fails when no connection is made;
# a peer that closes the connection unanswered leaves OUT empty.
fcgi_get_root() (
	trap '' PIPE
	exec {fd}<>"/dev/tcp/$1/$2" || exit 1
	fu_fcgi_request 1>&"$fd" 2>/dev/null || true
	timeout 10 cat <&"$fd" >"$3" 2>/dev/null || true
)

# ------------------------------------------------------------- scenarios

# Uploads through the front reach every host and read back.
sc_spread_over_hosts() {
	local i f h before=() n

	for i in $(seq 1 "$CL_HOSTS"); do
		before+=("$(posts_on "$i")")
	done
	for i in $(seq 1 12); do
		f=$(new_file "spread$i")
		h=$(b2 "$f")
		upload "$f"
		check_status 201 "upload $i"
		req GET "/service/fileupload/$h/content"
		check_status 200 "content of upload $i"
		cmp -s "$IT_TMP/body" "$f" || fail "content of upload $i differs"
	done
	for i in $(seq 1 "$CL_HOSTS"); do
		n=$(($(posts_on "$i") - before[i - 1]))
		cl_note "host $i took $n uploads"
		[ "$n" -gt 0 ] || fail "host $i took no upload"
	done
	req GET /service/fileupload/health
	check_status 200 "health through the front"
}

# A pool answers the front and no other peer (FCGI_WEB_SERVER_ADDRS).
sc_pool_refuses_other_peers() {
	local addr

	addr=$(host_addr 1)
	fcgi_get_root "$addr" "$CL_PORT" "$IT_TMP/fcgi.front" ||
	    fail "no connection from the front's address"
	grep -qa 'fileupload' "$IT_TMP/fcgi.front" ||
	    fail "no answer to the front's address: $(head -c 200 "$IT_TMP/fcgi.front" | tr -c '[:print:]' .)"
	# From host 2: the connection is made, libfcgi closes it unanswered.
	declare -f fcgi_get_root fu_fcgi_request >"$IT_TMP/fcgi.sh"
	ip netns exec "$(host_ns 2)" bash -c ". '$IT_TMP/fcgi.sh'; fcgi_get_root $addr $CL_PORT '$IT_TMP/fcgi.peer'" ||
	    fail "host 2 could not connect to host 1's pool at all"
	if [ -s "$IT_TMP/fcgi.peer" ]; then
		fail "host 2 got an answer: $(head -c 200 "$IT_TMP/fcgi.peer" | tr -c '[:print:]' .)"
	fi
}

# patches_on N ID: PATCHes of the upload ID host N's workers answered 204.
patches_on() {
	grep -c " PATCH /service/fileupload/uploads/$2 204 " \
	    "$FU_VAR/h$1/logs/fileupload.log" || true
}

# A resumable upload whose PATCHes (3 MiB each, 8 MiB parts) the front
# sends to the hosts by turns: each host reads back the tail another one
# wrote and sends parts of the same multipart upload, and the file is
# whole.  The partial bytes are in the shared object store, so an
# upload's requests need not stick to one host.
sc_tus_across_hosts() {
	local f size loc id off=0 p i n

	mkdir -p "$IT_TMP/files"
	f=$IT_TMP/files/tus-hosts.bin
	p=$IT_TMP/files/tus-hosts.part
	head -c $((21 << 20)) /dev/urandom >"$f"
	size=$(stat -c %s "$f")
	req POST /service/fileupload/uploads -H "Tus-Resumable: 1.0.0" \
	    -H "Upload-Length: $size" \
	    -H "Upload-Metadata: filename $(printf hosts.bin | base64 -w0)"
	check_status 201 "creation"
	loc=$(header Location)
	id=${loc##*/}
	while [ "$off" -lt "$size" ]; do
		dd if="$f" of="$p" iflag=skip_bytes,count_bytes skip="$off" \
		    count=$((3 << 20)) status=none
		req PATCH "$loc" -H "Tus-Resumable: 1.0.0" \
		    -H "Content-Type: application/offset+octet-stream" \
		    -H "Upload-Offset: $off" --data-binary "@$p"
		check_status 204 "PATCH at $off"
		[ "$STATUS" = 204 ] || break
		off=$((off + $(stat -c %s "$p")))
	done
	check_eq "the completing PATCH's File-Hash" "$(b2 "$f")" \
	    "$(header File-Hash)"
	req GET "/service/fileupload/$(b2 "$f")/content"
	check_status 200 "content of the resumable upload"
	cmp -s "$IT_TMP/body" "$f" || fail "content of the resumable upload differs"
	for i in $(seq 1 "$CL_HOSTS"); do
		n=$(patches_on "$i" "$id")
		cl_note "host $i took $n of its PATCHes"
		[ "$n" -gt 0 ] || fail "host $i took no PATCH of the upload"
	done
	req DELETE "/service/fileupload/$(b2 "$f")"
	check_status 201 "delete the file"
}

# host_fault_under_traffic NAME FAULT HEAL NEW_MS: under traffic from
# several clients, host 2 is hit by the function FAULT; 10 s later the
# traffic stops.  Requests in flight on it at the fault end within 8 s
# (201 or a clean 503, nothing recorded without its bytes); uploads
# started NEW_MS after the fault all succeed on the others; every 201
# reads back.  Then HEAL, and host 2 takes uploads again (the front's
# watch gives it back, or nginx's fail_timeout ends).
host_fault_under_traffic() {
	local name=$1 fault=$2 heal=$3 new_ms=$4 t_fault late bad n slow

	# Bodies of 200 KB to 1 MB at 2 MB/s: each upload is in a worker for
	# a while, so that some are in flight on host 2 at the fault.
	cl_traffic_start 4 200000 1000000 --limit-rate 2M
	cl_wait_count 201 12 120 || fail "no traffic before the fault"
	t_fault=$(cl_ms)
	"$fault"
	sleep 10
	cl_traffic_stop

	n=$(awk -v t="$t_fault" '$1 < t && $2 >= t && $3 != 201' "$IT_TMP/requests" | wc -l)
	slow=$(awk -v t="$t_fault" '$1 < t && $2 >= t && $2 - t > m { m = $2 - t }
	    END { print m + 0 }' "$IT_TMP/requests")
	cl_note "$name: requests $(cl_statuses); in flight at the fault and" \
	    "not 201: $n; the last of those in flight ended $slow ms after it"
	[ "$slow" -le 8000 ] ||
	    fail "a request in flight at the fault ended $slow ms after it"
	late=$(awk -v t=$((t_fault + new_ms)) '$1 >= t' "$IT_TMP/requests" | wc -l)
	bad=$(awk -v t=$((t_fault + new_ms)) '$1 >= t && $3 != 201' "$IT_TMP/requests")
	cl_note "$name: uploads started after the fault: $(awk -v t="$t_fault" \
	    '$1 >= t' "$IT_TMP/requests" | wc -l), the slowest $(awk -v t="$t_fault" \
	    '$1 >= t && $2 - $1 > m { m = $2 - $1 } END { print m + 0 }' \
	    "$IT_TMP/requests") ms (bodies sent at 2 MB/s); the last not 201" \
	    "started $(awk -v t="$t_fault" '$1 >= t && $3 != 201 { m = $1 - t }
	    END { print m + 0 }' "$IT_TMP/requests") ms after the fault"
	[ "$late" -gt 0 ] || fail "no upload started $new_ms ms after the fault"
	[ -z "$bad" ] || fail "uploads started $new_ms ms after the fault not 201: $(tr '\n' '|' <<<"$bad")"
	cl_check_requests '201|503'
	req GET /service/fileupload/health
	check_status 200 "health through the front, host 2 out"

	"$heal"
	host_layout 0
	n=$(posts_on 2)
	for _ in $(seq 1 40); do
		upload "$(new_file back)"
		check_status 201 "upload once host 2 is back"
		[ "$(posts_on 2)" -eq "$n" ] || break
		sleep 0.5
	done
	[ "$(posts_on 2)" -gt "$n" ] || fail "host 2 took no upload once back"
	cl_check_fsck
}

# The faults and their repairs, on host CL_VICTIM (2).
kill_host() {
	local sup kids

	host_layout "${CL_VICTIM:-2}"
	sup=$(fu_pool_supervisor)
	mapfile -t kids < <(fu_children "$sup")
	# The supervisor first, so that nothing restarts the workers.
	kill -KILL "$sup" "${kids[@]}"
	host_layout 0
}
# Its new workers sweep what the dead ones left in the store's tmp/.
restart_host() {
	start_host "${CL_VICTIM:-2}" 2>>"$IT_TMP/setup.log"
	host_layout 0
}
freeze_host() {
	host_layout "${CL_VICTIM:-2}"
	CL_FROZEN=$(fu_pool_supervisor)
	mapfile -t CL_FROZEN_KIDS < <(fu_children "$CL_FROZEN")
	kill -STOP "$CL_FROZEN" "${CL_FROZEN_KIDS[@]}"
	host_layout 0
}
thaw_host() {
	kill -CONT "$CL_FROZEN" "${CL_FROZEN_KIDS[@]}"
}
cut_link() {
	ip link set "${CL_TAG}v${CL_VICTIM:-2}" down
}
mend_link() {
	ip link set "${CL_TAG}v${CL_VICTIM:-2}" up
}

# Host 2's workers die: connections to it are refused at once.
sc_host_dies_under_traffic() {
	host_fault_under_traffic killed kill_host restart_host 1000
}

# Host 2's workers stop (SIGSTOP): its kernel still accepts connections,
# nothing answers.  The front's watch leaves it out.
sc_host_frozen_under_traffic() {
	host_fault_under_traffic frozen freeze_host thaw_host 5000
}

# Host 2's link goes down: packets to it are dropped, nothing is refused.
sc_host_link_down_under_traffic() {
	host_fault_under_traffic "link down" cut_link mend_link 5000
}

# shellcheck source=tests/cluster/webhook.sh
. "$CL_DIR/webhook.sh"

# The fault soak (tests/cluster/soak.sh sets CL_SOAK): its scenario, run
# by name.
if [ -n "${CL_SOAK:-}" ]; then
	# shellcheck source=tests/cluster/soak.sh
	. "$CL_DIR/soak.sh"
fi

cl_setup setup
printf 'testing %s hosts behind %s (worker %s, network %s.0/24)\n' \
    "$CL_HOSTS" "$IT_URL" "$IT_WORKER" "$CL_NET"
IT_LOG_FILES=("$FU_VAR/front/logs/nginx-error.log" "$FU_VAR/h1/logs/fileupload.log"
    "$FU_VAR/h2/logs/fileupload.log" "$FU_VAR/h3/logs/fileupload.log")
cl_run_scenarios sc_spread_over_hosts sc_pool_refuses_other_peers \
    sc_tus_across_hosts sc_host_dies_under_traffic \
    sc_host_frozen_under_traffic sc_host_link_down_under_traffic \
    sc_webhook_one_stream -- "$@"
summary
[ "$IT_FAILED" -eq 0 ]
