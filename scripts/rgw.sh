# shellcheck shell=bash
# Functions here set globals (FU_RGW_ENDPOINT, FU_RGW_KEY, ...) for their
# callers.
# shellcheck disable=SC2034
#
# scripts/rgw.sh: a real S3-API object store on this machine, Ceph's RADOS
# Gateway on a single-node cluster (one monitor, one OSD, radosgw; no
# manager), for scripts/run and the tests.  Sourced by scripts/lib.sh; it
# starts nothing by itself.  Runs as root, without systemd, block devices
# or containers; everything listens on 127.0.0.1 (the gateway on the
# address asked for, e.g. a bridge's for network namespaces) and lives
# under one directory:
#
#	DIR/ceph.conf	the cluster's settings (rewritten at every start)
#	DIR/mon/, DIR/osd/	the monitor's and the OSD's data; the OSD is
#			bluestore on the sparse file DIR/osd/0.block
#			(FU_RGW_STORE=memstore: in memory, nothing on disk,
#			lost at stop)
#	DIR/run/	pid files and admin sockets
#	DIR/log/	the daemons' logs; ops.log, one JSON line per S3
#			request (fu_rgw_ops reads it)
#	DIR/tls/	with FU_RGW_TLS=1: a private CA (ca.pem) and the
#			gateway's certificate it signs (server.pem,
#			server.key) for localhost, 127.0.0.1 and the
#			gateway's address
#	DIR/port	the gateway's port; DIR/s3.env its S3_* settings
#
# Ports: PORT (the gateway, http), PORT+1 (the monitor), PORT+2..PORT+8
# (the OSD's), PORT+9 (the gateway, https, with FU_RGW_TLS=1).  Ceph
# packages: radosgw ceph-mon ceph-osd ceph-common (about 270 MiB;
# fu_install_deps).  Ready in about 3 s the first time (mkfs),
# as long again at a restart.

# The gateway's one user.
FU_RGW_KEY=fileupload-rgw
FU_RGW_SECRET=fileupload-rgw-secret

# fu_rgw_conf DIR PORT STORE FRONTENDS: ceph.conf.  What a one-OSD
# cluster without authentication needs: pools of one replica and few
# placement groups, a monitor that commits maps at once (the gateway
# creates its pools one map after another at first start), messenger v2
# only, in a fixed port range.
fu_rgw_conf() {
	local dir=$1 port=$2 store=$3 frontends=$4

	cat >"$dir/ceph.conf" <<EOF
[global]
fsid = $(cat "$dir/fsid")
mon_host = [v2:127.0.0.1:$((port + 1))]
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
ms_bind_msgr1 = false
ms_bind_ipv6 = false
ms_bind_port_min = $((port + 2))
ms_bind_port_max = $((port + 8))
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
keyring = $dir/keyring
run_dir = $dir/run
pid_file = $dir/run/\$name.pid
admin_socket = $dir/run/\$name.asok
log_file = $dir/log/\$name.log
crash_dir = $dir/crash
mon_cluster_log_file = $dir/log/cluster.log
osd_pool_default_size = 1
osd_pool_default_min_size = 1
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
mon_max_pg_per_osd = 1000
osd_crush_chooseleaf_type = 0
mon_data_avail_warn = 2
mon_data_avail_crit = 1
[mon]
mon_data = $dir/mon/\$id
paxos_propose_interval = 0.1
[osd]
osd_data = $dir/osd/\$id
osd_objectstore = $store
memstore_device_bytes = 4294967296
# Outside osd_data: bluestore links osd_data/block to it.
bluestore_block_path = $dir/osd/\$id.block
bluestore_block_create = true
bluestore_block_size = 10737418240
bluestore_fsck_on_mkfs = false
osd_memory_target = 1073741824
[client.rgw.a]
rgw_data = $dir/rgw
rgw_frontends = $frontends
rgw_dns_name = localhost
rgw_enable_ops_log = true
rgw_ops_log_rados = false
rgw_ops_log_file_path = $dir/log/ops.log
# Without authentication: radosgw's own default (secure) cannot connect.
ms_mon_client_mode = crc
EOF
}

# fu_rgw_pid DIR NAME: the pid of daemon NAME (mon.a, osd.0, client.rgw.a)
# of the cluster in DIR, when it runs: its pid file's process, and that
# process's command line names DIR's ceph.conf (a stale pid file never
# names another process).
fu_rgw_pid() {
	local pid

	pid=$(cat "$1/run/$2.pid" 2>/dev/null) || return 0
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null |
	    grep -qF -- "-c $1/ceph.conf " || return 0
	printf '%s\n' "$pid"
}

# fu_rgw_ceph DIR ARGS...: the ceph tool on the cluster in DIR.
fu_rgw_ceph() {
	local dir=$1
	shift
	timeout 30 ceph -c "$dir/ceph.conf" --connect-timeout 20 "$@"
}

# fu_rgw_wait SECONDS COMMAND...: polls COMMAND every 0.2 s until it
# succeeds or time is up.
fu_rgw_wait() {
	local n=$(($1 * 5))
	shift
	while ! "$@" >/dev/null 2>&1; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || return 1
		sleep 0.2
	done
}

# fu_rgw_answers ADDRESS PORT [CA]: the gateway answers on ADDRESS:PORT,
# and, given CA, on https://ADDRESS:PORT+9 with a certificate CA signed.
fu_rgw_answers() {
	[ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' \
	    "http://$1:$2/")" = 200 ] || return 1
	[ -z "${3:-}" ] || [ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' \
	    --cacert "$3" "https://$1:$(($2 + 9))/")" = 200 ]
}

fu_rgw_osd_up() {
	fu_rgw_ceph "$1" osd dump 2>/dev/null | grep -q '^osd\.0 up'
}

# fu_rgw_free_port FIRST [ADDRESS]: the first port from FIRST on (up to
# 200 on) with it and the nine after it free on 127.0.0.1, and the
# gateway's two (the first and the last) on ADDRESS as well.
fu_rgw_free_port() {
	local p i addr=${2:-127.0.0.1}

	for p in $(seq "$1" 10 $(($1 + 200))); do
		for i in $(seq 0 9); do
			! fu_port_taken $((p + i)) || continue 2
		done
		if [ "$addr" != 127.0.0.1 ]; then
			! fu_port_open "$addr" "$p" || continue
			! fu_port_open "$addr" $((p + 9)) || continue
		fi
		printf '%s\n' "$p"
		return 0
	done
	fu_die "no ten free ports in $1..$(($1 + 209))"
}

# fu_rgw_frontends DIR PORT ADDRESS TLS: the gateway's rgw_frontends: http
# on ADDRESS:PORT and, when TLS is 1, https on ADDRESS:PORT+9 with DIR's
# certificate.
fu_rgw_frontends() {
	printf 'beast endpoint=%s:%s' "$3" "$2"
	[ "$4" != 1 ] ||
	    printf ' ssl_endpoint=%s:%s ssl_certificate=%s ssl_private_key=%s' \
	    "$3" $(($2 + 9)) "$1/tls/server.pem" "$1/tls/server.key"
	printf '\n'
}

# fu_rgw_tls DIR ADDRESS: DIR/tls/: a private CA (ca.pem) and the
# gateway's certificate it signs (server.pem, server.key) for localhost,
# 127.0.0.1, ADDRESS and the subjectAltName entries of FU_RGW_TLS_NAMES
# (e.g. DNS:bucket.localhost, for virtual-host style); made once, and
# again for other names (FU_RGW_TLS_MADE=1 then).  All may read the CA's
# certificate (the workers do), none but root the keys.
fu_rgw_tls() {
	local d=$1/tls san=DNS:localhost,IP:127.0.0.1
	local -a ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)

	FU_RGW_TLS_MADE=0
	[ "$2" = 127.0.0.1 ] || san+=,IP:$2
	[ -z "${FU_RGW_TLS_NAMES:-}" ] || san+=,$FU_RGW_TLS_NAMES
	if [ -s "$d/server.pem" ] && [ "$(cat "$d/names" 2>/dev/null)" = "$san" ]; then
		return 0
	fi
	FU_RGW_TLS_MADE=1
	rm -rf "$d"
	mkdir -p "$d"
	chmod 0755 "$d"
	printf 'subjectAltName=%s\n' "$san" >"$d/san.ext"
	(
		umask 077
		openssl req -x509 "${ec[@]}" -days 3650 \
		    -subj "/CN=fileupload RGW CA" -keyout "$d/ca.key" \
		    -out "$d/ca.pem" &&
		openssl req "${ec[@]}" -subj /CN=localhost \
		    -keyout "$d/server.key" -out "$d/server.csr" &&
		openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" \
		    -CAkey "$d/ca.key" -CAcreateserial -days 3650 \
		    -extfile "$d/san.ext" -out "$d/server.pem"
	) >>"$1/log/tls.log" 2>&1 || return 1
	chmod 0644 "$d/ca.pem" "$d/server.pem"
	printf '%s\n' "$san" >"$d/names"
}

# fu_rgw_start DIR [PORT [ADDRESS]]: the cluster in DIR, its gateway on
# ADDRESS:PORT (default 127.0.0.1; PORT's default: DIR's port from last
# time if free, else 7480 or the next free ports), with the user
# FU_RGW_KEY/FU_RGW_SECRET.  FU_RGW_TLS=1: https as well, on
# ADDRESS:PORT+9, with a certificate of DIR's own CA (fu_rgw_tls;
# FU_RGW_TLS_NAMES), and s3.env names that endpoint
# (https://localhost:PORT+9 on 127.0.0.1; on another ADDRESS, that
# address, which the workers refuse for https: give it a name in
# FU_RGW_TLS_NAMES and /etc/hosts) and the CA (S3_CA_FILE).
# A cluster already running in DIR is used as it is (a gateway that
# speaks https also serves callers who do not ask for it); should only
# the gateway differ (or its certificate), it alone is started again; a
# cluster stopped is started again (bluestore keeps its objects;
# memstore, FU_RGW_STORE=memstore, is made anew).  Sets FU_RGW_DIR,
# FU_RGW_PORT, FU_RGW_ADDR, FU_RGW_ENDPOINT (http), FU_RGW_TLS_ENDPOINT
# and FU_RGW_CA_FILE (empty when the gateway has no https), FU_RGW_STARTED
# (1 when it started the gateway) and writes DIR/s3.env.  On failure it
# prints the logs' last lines, stops what it started and returns 1.
fu_rgw_start() {
	local dir=$1 port=${2:-} addr=${3:-127.0.0.1} tls=${FU_RGW_TLS:-0}
	local store=${FU_RGW_STORE:-bluestore} uuid id running ca=
	FU_RGW_TLS_MADE=0

	mkdir -p "$dir"/log
	dir=$(cd "$dir" && pwd)
	FU_RGW_DIR=$dir
	FU_RGW_STARTED=0
	if [ "$tls" = 1 ]; then
		ca=$dir/tls/ca.pem
		if ! fu_rgw_tls "$dir" "$addr"; then
			fu_log "Ceph RGW in $dir: openssl could not make" \
			    "the certificates ($dir/log/tls.log)"
			return 1
		fi
	fi
	if [ -s "$dir/port" ]; then
		port=${port:-$(cat "$dir/port")}
		if [ "$port" = "$(cat "$dir/port")" ] &&
		    [ -n "$(fu_rgw_pid "$dir" mon.a)" ] &&
		    [ -n "$(fu_rgw_pid "$dir" osd.0)" ]; then
			running=$(sed -n 's/^rgw_frontends = //p' "$dir/ceph.conf")
			if [ "$FU_RGW_TLS_MADE" = 0 ] &&
			    [ -n "$(fu_rgw_pid "$dir" client.rgw.a)" ] &&
			    { [ "$running" = "$(fu_rgw_frontends "$dir" "$port" "$addr" "$tls")" ] ||
			    [ "$running" = "$(fu_rgw_frontends "$dir" "$port" "$addr" 1)" ]; } &&
			    fu_rgw_answers "$addr" "$port" "$ca"; then
				fu_rgw_started "$dir" "$port" "$addr" "$tls"
				return 0
			fi
			# Gracefully (about 5 s): a gateway killed leaves its
			# watches, and the next one's first bucket waits 20 s
			# for them.
			fu_rgw_kill "$dir" TERM client.rgw.a
			fu_rgw_conf "$dir" "$port" "$(cat "$dir/store")" \
			    "$(fu_rgw_frontends "$dir" "$port" "$addr" "$tls")"
			fu_rgw_gateway "$dir" "$port" "$addr" "$tls"
			return
		fi
	fi
	# Last time's ports may be taken meanwhile: then others.
	if [ -z "${2:-}" ] && [ -n "$port" ] &&
	    [ "$(fu_rgw_free_port "$port" "$addr")" != "$port" ]; then
		port=
	fi
	port=${port:-$(fu_rgw_free_port 7480 "$addr")}
	command -v radosgw >/dev/null ||
	    { fu_log "radosgw is missing (apt-get install radosgw ceph-mon ceph-osd ceph-common)"; return 1; }
	fu_rgw_stop "$dir"
	if [ -f "$dir/osd/0/whoami" ] && [ "$(cat "$dir/store" 2>/dev/null)" != "$store" ] ||
	    [ "$store" = memstore ]; then
		rm -rf "${dir:?}"/{mon,osd,rgw,run,fsid,store,keyring}
	fi
	mkdir -p "$dir"/{mon,osd,rgw,run,log,crash}
	printf '%s\n' "$port" >"$dir/port"
	printf '%s\n' "$store" >"$dir/store"
	[ -s "$dir/fsid" ] || cat /proc/sys/kernel/random/uuid >"$dir/fsid"
	fu_rgw_conf "$dir" "$port" "$store" \
	    "$(fu_rgw_frontends "$dir" "$port" "$addr" "$tls")"

	# A new port needs a new map: the monitor's map holds its address.
	monmaptool --create --fsid "$(cat "$dir/fsid")" --clobber --addv a \
	    "[v2:127.0.0.1:$((port + 1))]" "$dir/run/monmap" >/dev/null ||
	    { fu_rgw_fail "$dir" "monmaptool failed"; return 1; }
	if [ ! -d "$dir/mon/a/store.db" ]; then
		if ! { ceph-authtool --create-keyring "$dir/keyring" --gen-key \
		    -n mon. --cap mon 'allow *' >/dev/null &&
		    ceph-mon -c "$dir/ceph.conf" --mkfs -i a \
		    --monmap "$dir/run/monmap" --keyring "$dir/keyring" \
		    >>"$dir/log/mkfs.log" 2>&1; }; then
			fu_rgw_fail "$dir" "the monitor's mkfs failed"
			return 1
		fi
	elif ! ceph-mon -c "$dir/ceph.conf" -i a --inject-monmap \
	    "$dir/run/monmap" >>"$dir/log/mkfs.log" 2>&1; then
		fu_rgw_fail "$dir" "the monitor's map"
		return 1
	fi
	setsid ceph-mon -c "$dir/ceph.conf" -i a </dev/null ||
	    { fu_rgw_fail "$dir" "the monitor did not start"; return 1; }
	if [ ! -f "$dir/osd/0/whoami" ]; then
		uuid=$(cat /proc/sys/kernel/random/uuid)
		id=$(fu_rgw_ceph "$dir" osd new "$uuid") || id=
		mkdir -p "$dir/osd/0"
		if [ "$id" != 0 ] || ! ceph-osd -c "$dir/ceph.conf" -i 0 --mkfs \
		    --osd-uuid "$uuid" >>"$dir/log/mkfs.log" 2>&1; then
			fu_rgw_fail "$dir" "the OSD's mkfs failed"
			return 1
		fi
	fi
	setsid ceph-osd -c "$dir/ceph.conf" -i 0 </dev/null \
	    >>"$dir/log/osd.0.out" 2>&1 ||
	    { fu_rgw_fail "$dir" "the OSD did not start"; return 1; }
	fu_rgw_wait 60 fu_rgw_osd_up "$dir" ||
	    { fu_rgw_fail "$dir" "the OSD is not up"; return 1; }
	fu_rgw_gateway "$dir" "$port" "$addr" "$tls"
}

# fu_rgw_gateway DIR PORT ADDRESS TLS: radosgw on the running cluster of
# DIR (as its ceph.conf says), until it answers; its user made if
# missing; fu_rgw_started.
fu_rgw_gateway() {
	local dir=$1 port=$2 addr=$3 tls=$4 ca=

	[ "$tls" != 1 ] || ca=$dir/tls/ca.pem
	setsid radosgw -c "$dir/ceph.conf" -n client.rgw.a </dev/null \
	    >>"$dir/log/radosgw.out" 2>&1 ||
	    { fu_rgw_fail "$dir" "radosgw did not start"; return 1; }
	FU_RGW_STARTED=1
	if ! fu_rgw_wait 60 fu_rgw_answers "$addr" "$port" "$ca"; then
		fu_rgw_fail "$dir" "radosgw does not answer on $addr:$port${ca:+" and https $addr:$((port + 9))"}"
		return 1
	fi
	if ! timeout 60 radosgw-admin -c "$dir/ceph.conf" user info \
	    --uid=fileupload >/dev/null 2>&1; then
		timeout 60 radosgw-admin -c "$dir/ceph.conf" user create \
		    --uid=fileupload --display-name=fileupload \
		    --access-key="$FU_RGW_KEY" --secret-key="$FU_RGW_SECRET" \
		    >/dev/null 2>>"$dir/log/mkfs.log" ||
		    { fu_rgw_fail "$dir" "radosgw-admin user create failed"; return 1; }
	fi
	fu_rgw_started "$dir" "$port" "$addr" "$tls"
}

# fu_rgw_started DIR PORT ADDRESS TLS: the FU_RGW_* globals of the gateway
# on ADDRESS:PORT (and https on PORT+9 if its ceph.conf says so), and
# DIR/s3.env: its https endpoint when TLS is 1, else its http one.
fu_rgw_started() {
	local host=$3

	# By name, as deployments name their store.
	[ "$3" != 127.0.0.1 ] || host=localhost
	FU_RGW_PORT=$2
	FU_RGW_ADDR=$3
	FU_RGW_ENDPOINT=http://$3:$2
	FU_RGW_TLS_ENDPOINT=
	FU_RGW_CA_FILE=
	if grep -q '^rgw_frontends = .* ssl_endpoint=' "$1/ceph.conf"; then
		FU_RGW_TLS_ENDPOINT=https://$host:$(($2 + 9))
		FU_RGW_CA_FILE=$1/tls/ca.pem
	fi
	{
		if [ "$4" = 1 ]; then
			printf 'S3_ENDPOINT=%s\nS3_CA_FILE=%s\n' \
			    "$FU_RGW_TLS_ENDPOINT" "$FU_RGW_CA_FILE"
		else
			printf 'S3_ENDPOINT=%s\n' "$FU_RGW_ENDPOINT"
		fi
		cat <<EOT
S3_ACCESS_KEY_ID=$FU_RGW_KEY
S3_SECRET_ACCESS_KEY=$FU_RGW_SECRET
S3_REGION=us-east-1
S3_ADDRESSING=path
EOT
	} >"$1/s3.env"
}

# fu_rgw_fail DIR WHAT: says WHAT with the logs' last lines and stops the
# daemons started.
fu_rgw_fail() {
	local f
	fu_log "Ceph RGW in $1: $2"
	for f in "$1"/log/*.log "$1"/log/*.out; do
		[ -s "$f" ] || continue
		printf -- '--- %s\n' "$f" >&2
		tail -n 10 "$f" >&2
	done
	fu_rgw_stop "$1"
}

# fu_rgw_stop DIR: stops the daemons of the cluster in DIR, by the PIDs of
# its pid files (fu_rgw_pid), one after the other (radosgw takes about
# 5 s, the others about 2 s each; an OSD whose monitor is gone waits 5 s
# more for it): SIGTERM, then SIGKILL after 10 s.  A memstore cluster has
# nothing to keep (its next start makes it anew): SIGKILL at once.
fu_rgw_stop() {
	[ -d "$1/run" ] || return 0
	if [ "$(cat "$1/store" 2>/dev/null)" = memstore ]; then
		fu_rgw_kill "$1" KILL client.rgw.a osd.0 mon.a
	else
		fu_rgw_kill "$1" TERM client.rgw.a
		fu_rgw_kill "$1" TERM osd.0
		fu_rgw_kill "$1" TERM mon.a
	fi
	rm -f "$1"/run/*.pid
}

# fu_rgw_kill DIR SIGNAL NAME...: sends those daemons SIGNAL and waits
# until they are gone (SIGKILL after 10 s).
fu_rgw_kill() {
	local dir=$1 sig=$2 n pid left
	local -a pids=()

	shift 2
	for n in "$@"; do
		pid=$(fu_rgw_pid "$dir" "$n")
		[ -z "$pid" ] || { kill -"$sig" "$pid" 2>/dev/null || true; pids+=("$pid"); }
	done
	for _ in $(seq 1 100); do
		left=
		for pid in "${pids[@]}"; do
			! fu_rgw_alive "$pid" || left=$pid
		done
		[ -n "$left" ] || return 0
		sleep 0.1
	done
	for n in "$@"; do
		pid=$(fu_rgw_pid "$dir" "$n")
		[ -z "$pid" ] || kill -KILL "$pid" 2>/dev/null || true
	done
}

# fu_rgw_alive PID: PID runs; a zombie does not (a daemon's parent is
# init, which may take a second or two to reap it).
fu_rgw_alive() {
	local st

	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	st=${st##*) }
	[ "${st:0:1}" != Z ]
}

# fu_rgw_s3 ARGS...: scripts/s3.py (botocore) on the gateway, with
# S3_BUCKET and S3_PREFIX from the environment.
fu_rgw_s3() {
	S3_ENDPOINT=$FU_RGW_ENDPOINT S3_ACCESS_KEY_ID=$FU_RGW_KEY \
	    S3_SECRET_ACCESS_KEY=$FU_RGW_SECRET \
	    python3 "$FU_ROOT/scripts/s3.py" "$@"
}
