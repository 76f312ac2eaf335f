# shellcheck shell=bash
#
# STORAGE=s3 with S3_ENDPOINT naming its host, as real deployments do, and
# over TLS: uploads and downloads by name (localhost) in path style and in
# virtual-host style (it-named.localhost, through an /etc/hosts line the
# scenario adds and removes again, also when it fails), a name that does
# not resolve (503 everywhere, never a 201 whose download fails), an https
# store with a CA of its own (S3_CA_FILE), and a wrong CA failing loudly
# in the worker and in nginx.  The store is the run's Ceph RGW
# (s3_rgw_start in storage_s3.sh: http, and https with its private CA),
# with the bucket it-named, or, with IT_S3_STORE=stub, the S3 test server
# (tests/s3stub/s3stub.py; --tls and a CA the scenario makes for https)
# on a free loopback port.  Each scenario restarts the pool and nginx on
# it, and on its way out deletes the bucket (or stops the test server by
# its PID) and restores the runner's local pool and nginx.
# Sourced by tests/integration/run.sh (helpers in tests/integration/lib.sh,
# scripts/lib.sh, and s3_ops, s3_rgw_start of storage_s3.sh).

S3E_BUCKET=it-named
S3E_VHOST=$S3E_BUCKET.localhost
S3E_HOSTS_LINE="127.0.0.1 $S3E_VHOST"
S3E_PART=5242880

# s3e_begin [tls]: the scenario's store, by name: the run's gateway (its
# bucket it-named made anew), or the test server (IT_S3_STORE=stub); a
# fresh database of its own; the pool stopped (s3e_pool starts it).  Sets
# S3E_URL (the endpoint: http://localhost:PORT, or https with "tls") and
# S3_PORT (its port); with "tls", S3E_CA (the CA that signed the store's
# certificate, for localhost and $S3E_VHOST) and S3E_OTHER_CA (a CA that
# signed nothing).
s3e_begin() {
	local tls=$FU_VAR/s3tls

	S3_ROOT=$IT_TMP/s3
	rm -rf "$S3_ROOT"
	mkdir -p "$S3_ROOT"
	trap s3e_end EXIT
	if [ "${1:-}" = tls ]; then
		s3e_tls "$tls"
		S3E_OTHER_CA=$tls/other-ca.pem
	fi
	S3_STORE=${IT_S3_STORE:-rgw}
	S3_BUCKET_NAME=$S3E_BUCKET
	if [ "$S3_STORE" = stub ]; then
		if [ "${1:-}" = tls ]; then
			fu_s3stub_start "$S3_ROOT" "$S3E_BUCKET" 0 127.0.0.1 \
			    --tls "$tls/server.pem" "$tls/server.key"
			S3E_URL=https://localhost:$FU_S3STUB_PORT
			S3E_CA=$tls/ca.pem
		else
			fu_s3stub_start "$S3_ROOT" "$S3E_BUCKET"
			S3E_URL=http://localhost:$FU_S3STUB_PORT
		fi
		S3_KEY=$FU_S3STUB_KEY S3_SECRET=$FU_S3STUB_SECRET
	else
		s3_rgw_start
		S3E_URL=http://localhost:$FU_RGW_PORT
		if [ "${1:-}" = tls ]; then
			S3E_URL=$FU_RGW_TLS_ENDPOINT
			S3E_CA=$FU_RGW_CA_FILE
		fi
		S3_KEY=$FU_RGW_KEY S3_SECRET=$FU_RGW_SECRET
		fu_rgw_s3 rb "$S3_BUCKET_NAME" >>"$IT_TMP/setup.log" 2>&1 || true
		fu_rgw_s3 mb "$S3_BUCKET_NAME"
	fi
	S3_PORT=${S3E_URL##*:}
	s3e_database
	s3e_mark
}

# s3e_mark: what the store is asked (s3_ops, s3e_requests) counted from
# here.
s3e_mark() {
	if [ "$S3_STORE" = stub ]; then
		: >"$S3_ROOT/requests.log"
	else
		# shellcheck disable=SC2034  # s3_ops reads it
		S3_OPS_FROM=$(log_lines "$FU_RGW_DIR/log/ops.log")
	fi
}

# s3e_requests: every request the service made of the store since
# s3e_mark.
s3e_requests() {
	if [ "$S3_STORE" = stub ]; then
		cat "$S3_ROOT/requests.log" 2>/dev/null || true
		return
	fi
	tail -n +"$((S3_OPS_FROM + 1))" "$FU_RGW_DIR/log/ops.log" |
	    jq -c --arg b "$S3_BUCKET_NAME" 'select(.bucket == $b and
		(.user_agent | startswith("Botocore") | not))'
}

# s3e_database: a fresh database of the scenario's own, the pool stopped.
s3e_database() {
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	fu_pg_psql "$IT_PG_DIR" postgres -c 'DROP DATABASE IF EXISTS fileupload_s3'
	fu_pg_psql "$IT_PG_DIR" postgres -c \
	    'CREATE DATABASE fileupload_s3 OWNER fileupload'
	FU_DB_NAME=fileupload_s3
	fu_migrate "$IT_MIGRATE" >>"$IT_TMP/setup.log" 2>&1
}

s3e_end() {
	s3e_hosts_remove
	fu_s3stub_stop
	fu_pool_stop 2>>"$IT_TMP/setup.log" || true
	[ "$S3_STORE" = stub ] ||
	    fu_rgw_s3 rb "$S3_BUCKET_NAME" >>"$IT_TMP/setup.log" 2>&1 || true
	# shellcheck disable=SC2034  # fu_pool_start reads it
	FU_DB_NAME=fileupload
	start_pool || true
	restart_nginx || true
}

# s3e_pool ENDPOINT [NAME=VALUE...]: the pool on the store at ENDPOINT,
# with the further settings given (S3_ADDRESSING, S3_CA_FILE ...), and
# nginx rendered with the same (S3_CA_FILE).  Fails when the pool does
# not start.
s3e_pool() {
	local STORAGE=s3 S3_ENDPOINT=$1 S3_BUCKET=$S3_BUCKET_NAME \
	    S3_REGION=us-east-1 S3_PREFIX=it/ S3_ACCESS_KEY_ID=$S3_KEY \
	    S3_SECRET_ACCESS_KEY=$S3_SECRET S3_PART_SIZE=$S3E_PART \
	    MAX_UPLOAD_SIZE=$((16 << 20)) WORKERS=2 kv
	export STORAGE S3_ENDPOINT S3_BUCKET S3_REGION S3_PREFIX \
	    S3_ACCESS_KEY_ID S3_SECRET_ACCESS_KEY S3_PART_SIZE MAX_UPLOAD_SIZE \
	    WORKERS
	shift
	for kv in "$@"; do
		local -x "$kv"
	done
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	fu_pool_start "$IT_WORKER" 2>>"$IT_TMP/setup.log"
	restart_nginx $(((16 << 20) + 65536))
}

# /etc/hosts with the virtual host's line, and without it again: put back
# as it was, or, should something else have changed it meanwhile, with
# only that line taken out (written in place: it may be a bind mount).
s3e_hosts_add() {
	cp /etc/hosts "$IT_TMP/hosts.orig"
	[ -z "$(tail -c 1 /etc/hosts)" ] || echo >>/etc/hosts
	printf '%s\n' "$S3E_HOSTS_LINE" >>/etc/hosts
	S3E_HOSTS_ADDED=1
}

s3e_hosts_remove() {
	local want

	[ "${S3E_HOSTS_ADDED:-0}" = 1 ] || return 0
	S3E_HOSTS_ADDED=0
	want=$(cat "$IT_TMP/hosts.orig"; [ -z "$(tail -c 1 "$IT_TMP/hosts.orig")" ] ||
	    echo; printf '%s\n' "$S3E_HOSTS_LINE"; printf x)
	if [ "$(cat /etc/hosts; printf x)" = "$want" ]; then
		cat "$IT_TMP/hosts.orig" >/etc/hosts
	else
		grep -vxF "$S3E_HOSTS_LINE" /etc/hosts >"$IT_TMP/hosts.now" || true
		cat "$IT_TMP/hosts.now" >/etc/hosts
	fi
}

# s3e_tls DIR: a CA, a server certificate it signs for localhost,
# it-named.localhost and 127.0.0.1 (server.pem, server.key; for the test
# server), and a second CA that signed nothing (other-ca.pem), in DIR,
# readable by the workers.
s3e_tls() {
	local d=$1
	mkdir -p "$d"
	chmod 0755 "$d"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=it-ca \
	    -keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=it-other \
	    -keyout "$d/other-ca.key" -out "$d/other-ca.pem" 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj /CN=localhost \
	    -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
	printf 'subjectAltName=DNS:localhost,DNS:%s,IP:127.0.0.1\n' \
	    "$S3E_VHOST" >"$d/san.ext"
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" \
	    -CAkey "$d/ca.key" -CAcreateserial -days 2 \
	    -extfile "$d/san.ext" -out "$d/server.pem" 2>/dev/null
	chmod 0644 "$d/ca.pem" "$d/other-ca.pem"
}

# s3e_since FILE LINES: FILE's lines past its first LINES.
s3e_since() {
	tail -n +"$(($2 + 1))" "$1" 2>/dev/null || true
}

# s3e_round_trip WHAT: health, a small upload and a multipart one, each
# downloaded byte for byte through nginx, a range and a HEAD; what the
# store was asked (s3_ops) counted from here.
s3e_round_trip() {
	local what=$1 small big hs hb
	s3e_mark
	req GET /service/fileupload/health
	check_status 200 "$what: health"
	small=$(new_file "s3e_small_$what")
	hs=$(b2 "$small")
	upload "$small" small.txt
	check_status 201 "$what: small upload"
	req GET "/service/fileupload/$hs/content"
	check_status 200 "$what: small download"
	check "$what: small download equal" cmp -s "$IT_TMP/body" "$small"
	check_header ETag "\"$hs\""

	big=$IT_TMP/files/s3e_big_$what
	head -c $((12 << 20)) /dev/urandom >"$big"
	hb=$(b2 "$big")
	upload "$big" big.bin
	check_status 201 "$what: multipart upload"
	check_json .file_size $((12 << 20))
	check_eq "$what: parts" 3 "$(s3_ops UploadPart | wc -l)"
	req GET "/service/fileupload/$hb/content"
	check_status 200 "$what: download"
	check "$what: downloaded bytes equal" cmp -s "$IT_TMP/body" "$big"
	req GET "/service/fileupload/$hb/content" -H 'Range: bytes=6000000-6000099'
	check_status 206 "$what: range"
	dd if="$big" of="$IT_TMP/range.want" bs=100 skip=60000 count=1 2>/dev/null
	check "$what: range bytes equal" cmp -s "$IT_TMP/body" "$IT_TMP/range.want"
	check_header Content-Range "bytes 6000000-6000099/$((12 << 20))"
	req HEAD "/service/fileupload/$hs/content" -I
	check_status 200 "$what: HEAD of the content"
	check_header Content-Length "$(stat -c %s "$small")"
	# The downloads, the range and the HEAD (GET to the store).
	check_eq "$what: downloads by presigned URL" 4 \
	    "$(s3_ops GetObject | grep -cF '"auth": "presigned"' || true)"
}

# s3e_unavailable WHAT [HASH]: health, an upload and the download of the
# stored file HASH all 503.
s3e_unavailable() {
	local what=$1 f
	req GET /service/fileupload/health
	check_status 503 "$what: health"
	f=$(new_file "s3e_down_$what")
	upload "$f" down.txt
	check_error 503 "$what: upload (never 201)"
	if [ -n "${2:-}" ]; then
		req GET "/service/fileupload/$2/content"
		check_error 503 "$what: download"
	fi
}

# Path style by name: the worker resolves localhost and hands nginx the
# address; nginx has no resolver and needs none.
sc_s3_named_path_style() {
	local n e
	s3e_begin
	n=$(log_lines "$FU_VAR/logs/fileupload.log")
	e=$(log_lines "$FU_VAR/logs/nginx-error.log")
	s3e_pool "$S3E_URL"
	check "the worker resolved the name" grep -qF \
	    "S3_ENDPOINT: localhost:$S3_PORT is at 127.0.0.1" \
	    <(s3e_since "$FU_VAR/logs/fileupload.log" "$n")
	check_eq "nginx has no resolver" "" "$(grep -hE \
	    '^[[:space:]]*resolver[[:space:]]' "$FU_CONF_DIR"/*.conf || true)"
	s3e_round_trip path
	check_eq "nginx needed no resolver" "" "$(s3e_since \
	    "$FU_VAR/logs/nginx-error.log" "$e" | grep resolve || true)"
}

# Virtual-host style: the bucket's name before the endpoint's, resolved
# through /etc/hosts (which the system resolver reads and nginx's would
# not).
sc_s3_named_virtual_host() {
	local n
	s3e_begin
	s3e_hosts_add
	n=$(log_lines "$FU_VAR/logs/fileupload.log")
	s3e_pool "$S3E_URL" S3_ADDRESSING=virtual
	check "the worker resolved the virtual host" grep -qF \
	    "S3_ENDPOINT: $S3E_VHOST:$S3_PORT is at 127.0.0.1" \
	    <(s3e_since "$FU_VAR/logs/fileupload.log" "$n")
	s3e_round_trip virtual
	s3e_hosts_remove
	check "/etc/hosts as it was" cmp -s /etc/hosts "$IT_TMP/hosts.orig"
}

# A name the system cannot resolve (curl alone would take *.localhost as
# loopback; the worker does not, as nginx could not): the worker starts,
# says why, and every route of the store answers 503, never 201.
sc_s3_named_unresolvable() {
	local n
	s3e_begin
	check_eq "$S3E_VHOST does not resolve here" "" \
	    "$(getent hosts "$S3E_VHOST" || true)"
	n=$(log_lines "$FU_VAR/logs/fileupload.log")
	s3e_pool "$S3E_URL" S3_ADDRESSING=virtual
	s3e_unavailable unresolvable
	check "the worker says the name does not resolve" grep -qF \
	    "S3_ENDPOINT: $S3E_VHOST does not resolve" \
	    <(s3e_since "$FU_VAR/logs/fileupload.log" "$n")
	check_eq "no request reached the store" "" "$(s3e_requests)"
}

# https with the store's own CA (S3_CA_FILE, for the workers and nginx
# alike, which verifies the store on the download path), by name in path
# style and in virtual-host style (the certificate names both; SNI and
# Host say which).
sc_s3_tls() {
	s3e_begin tls
	s3e_pool "$S3E_URL" S3_CA_FILE="$S3E_CA"
	check "nginx verifies the store" grep -qF "proxy_ssl_verify on;" \
	    "$FU_CONF_DIR/fileupload-locations.conf"
	check "nginx trusts S3_CA_FILE" grep -qF \
	    "proxy_ssl_trusted_certificate $S3E_CA;" \
	    "$FU_CONF_DIR/fileupload-locations.conf"
	s3e_round_trip tls_path
	s3e_hosts_add
	s3e_pool "$S3E_URL" S3_CA_FILE="$S3E_CA" S3_ADDRESSING=virtual
	s3e_round_trip tls_virtual
	s3e_hosts_remove
}

# A CA that did not sign the store's certificate fails loudly: nginx's
# download says 503 and logs the verification error; the worker logs it
# (naming S3_CA_FILE) and health, uploads and downloads answer 503; the
# system's CAs (no S3_CA_FILE) do not trust it either.
sc_s3_tls_wrong_ca() {
	local f h n e
	s3e_begin tls
	s3e_pool "$S3E_URL" S3_CA_FILE="$S3E_CA"
	f=$(new_file s3e_tls_ca)
	h=$(b2 "$f")
	upload "$f" ca.txt
	check_status 201 "upload with the right CA"

	# nginx alone with the wrong CA: the worker's HEAD passes, nginx's
	# fetch does not.
	e=$(log_lines "$FU_VAR/logs/nginx-error.log")
	S3_CA_FILE=$S3E_OTHER_CA restart_nginx $(((16 << 20) + 65536))
	req GET "/service/fileupload/$h/content"
	check_error 503 "nginx with the wrong CA"
	check "nginx logs the verification error" grep -qE \
	    'upstream SSL certificate verify error' \
	    <(s3e_since "$FU_VAR/logs/nginx-error.log" "$e")

	n=$(log_lines "$FU_VAR/logs/fileupload.log")
	s3e_pool "$S3E_URL" S3_CA_FILE="$S3E_OTHER_CA"
	s3e_unavailable wrong_ca "$h"
	check "the worker logs the verification error" grep -qE \
	    "SSL certificate problem.*checked against S3_CA_FILE=$S3E_OTHER_CA" \
	    <(s3e_since "$FU_VAR/logs/fileupload.log" "$n")

	n=$(log_lines "$FU_VAR/logs/fileupload.log")
	s3e_pool "$S3E_URL"
	s3e_unavailable system_cas "$h"
	check "the worker names the system's CAs" grep -qE \
	    "SSL certificate problem.*checked against the system's CAs" \
	    <(s3e_since "$FU_VAR/logs/fileupload.log" "$n")
}
