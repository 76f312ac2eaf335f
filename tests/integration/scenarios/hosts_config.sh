# shellcheck shell=bash
#
# tests/integration/scenarios/hosts_config.sh: the settings of a service
# on several hosts (docs/operations.md), as scripts/service.sh reads
# them: a pool on TCP must name its peers, and nginx's upstream group is
# rendered from FCGI_UPSTREAM into a configuration nginx accepts.  The
# hosts themselves run in tests/cluster/hosts.sh.
# Sourced by tests/integration/run.sh (helpers in tests/integration/lib.sh).

# fu_pool_listen's verdict on FCGI_LISTEN and FCGI_WEB_SERVER_ADDRS:
# prints it, or "refused".
pool_listen_of() {
	(FCGI_LISTEN=$1 FCGI_WEB_SERVER_ADDRS=$2 fu_pool_listen 2>/dev/null) ||
	    echo refused
}

sc_pool_tcp_needs_its_peers() {
	check_eq "unset" unix "$(pool_listen_of '' '')"
	check_eq "unix" unix "$(pool_listen_of unix '')"
	check_eq "TCP with peers" 10.0.0.11:9000 \
	    "$(pool_listen_of 10.0.0.11:9000 10.0.0.1)"
	check_eq "TCP with two peers" 10.0.0.11:9000 \
	    "$(pool_listen_of 10.0.0.11:9000 10.0.0.1,10.0.0.2)"
	check_eq "TCP without peers" refused "$(pool_listen_of 10.0.0.11:9000 '')"
	check_eq "TCP with a bad peer list" refused \
	    "$(pool_listen_of 10.0.0.11:9000 '10.0.0.1 10.0.0.2')"
	check_eq "no port" refused "$(pool_listen_of 10.0.0.11 10.0.0.1)"
	check_eq "port 0" refused "$(pool_listen_of 10.0.0.11:0 10.0.0.1)"
	check_eq "port 65536" refused "$(pool_listen_of 10.0.0.11:65536 10.0.0.1)"
	check_eq "no address" refused "$(pool_listen_of :9000 10.0.0.1)"
	# A refused setting starts nothing.
	(FCGI_LISTEN=127.0.0.1:9 FCGI_WEB_SERVER_ADDRS='' \
	    fu_pool_start "$IT_WORKER" >"$IT_TMP/pool.out" 2>&1) &&
	    fail "a TCP pool without FCGI_WEB_SERVER_ADDRS started"
	grep -q FCGI_WEB_SERVER_ADDRS "$IT_TMP/pool.out" ||
	    fail "no reason given: $(cat "$IT_TMP/pool.out")"
	req GET /service/fileupload/health
	check_status 200 "the running pool is untouched"
}

# The upstream group rendered, and the whole configuration accepted by
# nginx -t; a bad entry refused.
sc_nginx_upstream_rendered() {
	local conf=$IT_TMP/upstream-conf

	mkdir -p "$conf"
	if ! (FU_CONF_DIR=$conf FCGI_UPSTREAM="10.0.0.11:9000, 10.0.0.12:9000 [fd00::13]:9000" \
	    fu_render_conf && FU_CONF_DIR=$conf fu_nginx_cmd -t -q) \
	    >"$IT_TMP/render.out" 2>&1; then
		fail "rendering or nginx -t failed: $(cat "$IT_TMP/render.out")"
		return 0
	fi
	check_eq "server lines" 3 "$(grep -c '^	server .* max_fails=2 fail_timeout=10s;$' \
	    "$conf/fileupload-upstream.conf")"
	grep -q '^	server \[fd00::13\]:9000 ' "$conf/fileupload-upstream.conf" ||
	    fail "no IPv6 server line"
	check_eq "fastcgi_pass to the group" 5 \
	    "$(grep -c 'fastcgi_pass fileupload_workers;' "$conf/fileupload-locations.conf" \
	    "$conf/fileupload-server.conf" | awk -F: '{ n += $2 } END { print n }')"
	grep -q 'fastcgi_next_upstream error timeout;' "$conf/fileupload-locations.conf" ||
	    fail "fastcgi_next_upstream is not 'error timeout'"
	! grep -rqE '^[[:space:]]*fastcgi_next_upstream .*non_idempotent' "$conf" ||
	    fail "fastcgi_next_upstream non_idempotent in the configuration"
	grep -q '^	keepalive 16;$' "$conf/fileupload-upstream.conf" ||
	    fail "no kept connections to the hosts"
	# Without FCGI_UPSTREAM: a group of the local socket alone.
	(FU_CONF_DIR=$conf fu_render_conf) >/dev/null 2>&1
	check_eq "the group's servers without FCGI_UPSTREAM" \
	    "	server unix:$FU_SOCKET;" \
	    "$(grep '^	server ' "$conf/fileupload-upstream.conf")"
	# FCGI_KEEPALIVE=0: nothing kept, on either side.
	(FU_CONF_DIR=$conf FCGI_KEEPALIVE=0 fu_render_conf &&
	    FU_CONF_DIR=$conf fu_nginx_cmd -t -q) >"$IT_TMP/render.out" 2>&1 ||
	    fail "FCGI_KEEPALIVE=0: $(cat "$IT_TMP/render.out")"
	! grep -q '^[[:space:]]*keepalive' "$conf/fileupload-upstream.conf" ||
	    fail "FCGI_KEEPALIVE=0 still keeps connections"
	check_eq "fastcgi_keep_conn off with FCGI_KEEPALIVE=0" 4 \
	    "$(grep -c 'fastcgi_keep_conn off;' "$conf/fileupload-locations.conf")"
	(FU_CONF_DIR=$conf FCGI_UPSTREAM="10.0.0.11" fu_render_conf) \
	    >"$IT_TMP/render.out" 2>&1 && fail "FCGI_UPSTREAM=10.0.0.11 (no port) accepted"
	grep -q "not ADDR:PORT" "$IT_TMP/render.out" ||
	    fail "no reason given: $(cat "$IT_TMP/render.out")"
}
