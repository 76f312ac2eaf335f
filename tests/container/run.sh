#!/usr/bin/env bash
#
# tests/container/run.sh: the container image, built from docker/Dockerfile
# and run for real with podman (no Docker engine, no registry), as root:
#
#	tests/container/run.sh
#
# 1. A base image for the Dockerfile's FROM lines, made once with
#    debootstrap (minbase, bookworm, from this machine's own apt source)
#    and imported as debian:12 and debian:12-slim; kept in the test's
#    private storage and reused by later runs.
# 2. podman build (docker format: the OCI one drops HEALTHCHECK and SHELL).
#    Its OCI labels (version, revision, source) and its user (fileupload).
# 3. The image against a PostgreSQL of the test's own, with the old
#    service's variables and volumes, first with the default capability
#    set (what Docker, compose and podman give every container): it
#    becomes ready, every process runs as fileupload, it uploads (201,
#    the hash of b2sum -l 256), downloads the same bytes, serves the
#    browser page with its CSP, passes its health check, shows every
#    request (worker and nginx, one request id) in "podman logs" and
#    writes no log file, and stops with status 0 on "podman stop"; then
#    again on the same volumes with only the capability it documents
#    (--cap-drop ALL --cap-add NET_BIND_SERVICE) and the logs in files:
#    the file is still there, the same steps hold, and SIGHUP reopens the
#    logs after a rotation; without even that one it exits at once, saying
#    why; then with a read-only root file system (--read-only, a tmpfs on
#    /tmp only, as Docker does it); then as root (--user root: the workers
#    dropped to fileupload, nginx's to www-data); then with a CPU quota
#    (--cpus 1: one CPU, not the host's cores, for WORKERS' default);
#    then with workers that cannot start: it exits 1 at once, saying why.
# 4. The README's "The image alone" commands, as written (podman for
#    docker; see readme_cmd for the only substitutions), and its "Compose"
#    ones with podman-compose (tests/container/compose.sh).
#
# Everything podman keeps (storage, configuration) lives under
# FU_CT_HOME (/var/tmp/fileupload-containers); nothing of the host's
# container configuration is read or changed.  Whatever the test starts it
# removes, also on failure; the base image and the build cache stay.
# Prints "N passed, N failed" last; exits 1 if any failed.
set -euo pipefail

CT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib.sh
. "$CT_DIR/../../scripts/lib.sh"
# shellcheck source=tests/container/lib.sh
. "$CT_DIR/lib.sh"
# shellcheck source=tests/container/compose.sh
. "$CT_DIR/compose.sh"

fu_require_root
ct_install
ct_configure

CT_IMAGE=localhost/fileupload-test:$$
CT_TAG=fu-ct-$$
CT_COMPOSE_PROJECT=fuct$$
CT_TMP=$(mktemp -d /tmp/fileupload-ct.XXXXXX)
chmod 0755 "$CT_TMP"
CT_PASSED=0
CT_FAILED=0

cleanup() {
	local c v

	compose_down
	for c in $(podman ps -a --filter "label=$CT_TAG" --format '{{.Names}}'); do
		podman rm -f -t 0 "$c" >/dev/null 2>&1 || true
	done
	for v in $(podman volume ls --filter "label=$CT_TAG" --format '{{.Name}}'); do
		podman volume rm -f "$v" >/dev/null 2>&1 || true
	done
	podman rm -f -t 0 "ct-readme-$$" >/dev/null 2>&1 || true
	podman volume rm -f data-volume log-volume >/dev/null 2>&1 || true
	podman rmi -f "$CT_IMAGE" localhost/fileupload/fileupload:1.0.0 \
	    >/dev/null 2>&1 || true
	fu_pg_stop "$CT_TMP/postgres" >/dev/null 2>&1 || true
	rm -rf "$CT_TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ok() {
	CT_PASSED=$((CT_PASSED + 1))
	printf 'ok   %s\n' "$1"
}
not_ok() {
	CT_FAILED=$((CT_FAILED + 1))
	printf 'FAIL %s\n' "$1"
	shift
	[ $# -eq 0 ] || printf '     %s\n' "$@"
}
# check NAME COMMAND...: one assertion.
check() {
	local name=$1
	shift
	if "$@" >"$CT_TMP/check.out" 2>&1; then
		ok "$name"
	else
		not_ok "$name" "$(tail -n 5 "$CT_TMP/check.out")"
	fi
}

# ------------------------------------------------------------------ setup

ct_base_image
fu_log "building the image"
build_start=$SECONDS
if ! ct_build "$CT_IMAGE" >"$CT_TMP/build.log" 2>&1; then
	tail -n 40 "$CT_TMP/build.log"
	not_ok "podman build -f docker/Dockerfile"
	printf '%d passed, %d failed\n' "$CT_PASSED" "$CT_FAILED"
	exit 1
fi
ok "podman build -f docker/Dockerfile ($((SECONDS - build_start)) s, $(ct_image_size "$CT_IMAGE"))"

# ct_label NAME: an OCI label of the image.
ct_label() {
	podman image inspect -f "{{index .Labels \"org.opencontainers.image.$1\"}}" \
	    "$CT_IMAGE"
}
check "image: label version is configure.ac's ($(ct_label version))" test \
    "$(ct_label version)" = "$(sed -n 's/^AC_INIT(\[fileupload\], \[\(.*\)\])$/\1/p' \
    "$FU_ROOT/configure.ac")"
check "image: label revision is the commit ($(ct_label revision))" \
    test "$(ct_label revision)" = "$(ct_revision)"
check "image: label source" test "$(ct_label source)" = "file://$FU_ROOT"
check "image: runs as fileupload (USER)" test \
    "$(podman image inspect -f '{{.Config.User}}' "$CT_IMAGE")" = fileupload
check "image: no node_modules of this host's in the build context" \
    grep -qx '\*\*/node_modules' "$FU_ROOT/docker/Dockerfile.dockerignore"

# The database: a private cluster on loopback, reached over TCP with the
# seed's variables (trust authentication: DB_PASSWORD is still passed).
FU_PG_FSYNC=off fu_pg_start "$CT_TMP/postgres" \
    "$(fu_free_port $((23000 + RANDOM % 400)))" >"$CT_TMP/pg.log" 2>&1 ||
    { cat "$CT_TMP/pg.log"; fu_die "PostgreSQL did not start"; }
CT_DB_PORT=$FU_PG_PORT
CT_PORT=$(fu_free_port $((19500 + RANDOM % 400)))
CT_URL=http://127.0.0.1:$CT_PORT
podman volume create --label "$CT_TAG" "ct-data-$$" >/dev/null
podman volume create --label "$CT_TAG" "ct-logs-$$" >/dev/null

# ct_run NAME [podman run options...]: the image in the background, with
# the seed's variables and volumes, on the host's network at 127.0.0.1.
ct_run() {
	local name=$1
	shift
	podman run -d --name "$name" --label "$CT_TAG" --network host \
	    --env DB_USER=fileupload --env DB_PASSWORD=ct-secret \
	    --env DB_HOST=127.0.0.1 --env DB_PORT="$CT_DB_PORT" \
	    --env DB_NAME=fileupload --env WORKERS=4 \
	    --env LISTEN_ADDRESS=127.0.0.1 --env PORT="$CT_PORT" \
	    -v "${CT_DATA_VOLUME:-ct-data-$$}:/server/data" \
	    -v "ct-logs-$$:/server/logs" \
	    "$@" "$CT_IMAGE" 2>&1 >/dev/null | ct_quiet
}

# podman's complaint, at every run and stop, that it has no systemd to
# time health checks with (they are run by hand here) is left out.
ct_quiet() {
	grep -v 'unable to get systemd connection' >&2 || true
}

# ct_ready NAME SECONDS: the container said it is ready and its health
# route answers 200.
ct_ready() {
	fu_ready "$2" "$CT_URL" ct_output "$1"
}
# ct_output NAME: the container's output while it runs.
ct_output() {
	[ "$(ct_state "$1")" = running ] && podman logs "$1"
}

ct_state() {
	podman inspect -f '{{.State.Status}}' "$1" 2>/dev/null
}
ct_exit_code() {
	podman inspect -f '{{.State.ExitCode}}' "$1" 2>/dev/null
}

# ct_root_read_only NAME: the container's root file system refuses a
# write, even root's.
ct_root_read_only() {
	! podman exec --user root "$1" touch /x 2>/dev/null &&
	    podman exec --user root "$1" sh -c 'touch /tmp/x && rm /tmp/x'
}

# ct_log_has NAME ERE: a line of the container's output matches.
ct_log_has() {
	# Not grep -q: podman would get SIGPIPE, and the pipeline fail.
	podman logs "$1" 2>&1 | grep -E "$2" >/dev/null
}

# ct_procs NAME: "user comm" of every process in the container, in
# CT_TMP/procs.
ct_procs() {
	# shellcheck disable=SC2016  # expanded inside the container
	podman exec "$1" sh -c 'for d in /proc/[0-9]*; do
	    echo "$(stat -c %U "$d") $(cat "$d/comm")"; done' >"$CT_TMP/procs"
}

# ct_users_unprivileged NAME: every process, the workers' and nginx's
# among them, runs as fileupload (podman exec's own sh and stat too).
ct_users_unprivileged() {
	ct_procs "$1" &&
	    grep -qx "fileupload fileupload-work" "$CT_TMP/procs" &&
	    grep -qx "fileupload nginx" "$CT_TMP/procs" &&
	    ! grep -v '^fileupload ' "$CT_TMP/procs"
}

# ct_users_ok NAME: as root, the workers run as fileupload, nginx's
# workers as www-data, nginx's master as root ("user comm" of every
# process).
ct_users_ok() {
	# shellcheck disable=SC2016  # expanded inside the container
	podman exec "$1" sh -c 'for d in /proc/[0-9]*; do
	    echo "$(stat -c %U "$d") $(cat "$d/comm")"; done' >"$CT_TMP/procs" &&
	    grep -qx "fileupload fileupload-work" "$CT_TMP/procs" &&
	    grep -qx "www-data nginx" "$CT_TMP/procs" &&
	    grep -qx "root nginx" "$CT_TMP/procs"
}

# ct_upload FILE: POSTs FILE; prints the status, the answer in CT_TMP/body.
ct_upload() {
	curl -sS --max-time 30 -o "$CT_TMP/body" -w '%{http_code}' \
	    -F "upfile=@$1;filename=$(basename "$1")" "$CT_URL/service/fileupload"
}

# ct_serves NAME FILE: upload (201 and the right hash), or 403 if the file
# is already stored; the content route gives the same bytes back.
ct_serves() {
	local name=$1 f=$2 h status
	h=$(b2sum -l 256 "$f" | cut -d' ' -f1)
	status=$(ct_upload "$f")
	case $status in
	201)
		check "$name: upload answers the hash of b2sum -l 256" \
		    test "$(jq -r .file_hash "$CT_TMP/body")" = "$h"
		;;
	403) ok "$name: the file is already stored (403)" ;;
	*) not_ok "$name: upload" "status $status: $(head -c 300 "$CT_TMP/body")" ;;
	esac
	curl -sS --max-time 30 -o "$CT_TMP/down" \
	    "$CT_URL/service/fileupload/$h/content" || true
	check "$name: the content route gives the same bytes" cmp "$f" "$CT_TMP/down"
}

# ct_page_ok: the browser page answers 200 with its Content-Security-Policy,
# and tus-js-client's and hash-wasm's browser builds are there.
ct_page_ok() {
	[ "$(curl -sS --max-time 30 -D "$CT_TMP/page.headers" -o /dev/null \
	    -w '%{http_code}' "$CT_URL/service/fileupload/ui/")" = 200 ] &&
	    grep -qi "^content-security-policy: default-src 'self'" \
	    "$CT_TMP/page.headers" &&
	    curl -fsS --max-time 30 -o /dev/null \
	    "$CT_URL/service/fileupload/ui/vendor/tus.min.js" &&
	    curl -fsS --max-time 30 -o /dev/null \
	    "$CT_URL/service/fileupload/ui/vendor/blake2b.umd.min.js"
}

# ct_stops NAME: "podman stop" within the grace period, status 0,
# "stopped" in the log.
ct_stops() {
	local t0=$SECONDS
	podman stop -t 30 "$1" 2>&1 >/dev/null | ct_quiet
	check "$1: podman stop took $((SECONDS - t0)) s (under 30)" \
	    test $((SECONDS - t0)) -lt 30
	check "$1: exit status 0" test "$(ct_exit_code "$1")" = 0
	check "$1: says it stopped" ct_log_has "$1" '^==> stopped$'
}

# ----------------------------------------------------------------- README

# readme_blocks: the sh blocks of the README's "The image alone" section,
# each command on one line (continuations joined), blocks separated by a
# line "--".
readme_blocks() {
	awk '
	/^### / { in_section = ($0 == "### The image alone") }
	in_section && /^```sh$/ { in_block = 1; next }
	in_section && in_block && /^```$/ { in_block = 0; print "--"; next }
	in_section && in_block {
		line = line $0
		if (sub(/\\$/, "", line)) next
		print line
		line = ""
	}' "$FU_ROOT/README.md"
}

# readme_cmd LINE: a README command with the only substitutions the test
# needs: podman for docker; values for the placeholders; this machine's
# rules (the host's network, listening on 127.0.0.1 and a free port, not
# on 80) for "-p 80:80"; the test's database port; a build with npm's CA
# of this machine as the npm_ca secret, if it has one (ct_npm_ca).
readme_cmd() {
	local c=$1 ca
	c=${c/#docker /podman }
	ca=$(ct_npm_ca)
	[ -z "$ca" ] ||
	    c=${c/#podman image build /podman image build --secret id=npm_ca,src=$ca }
	c=${c//<user>/fileupload}
	c=${c//<password>/ct-secret}
	c=${c//<ip_address_or_domain>/127.0.0.1}
	c=${c//<database_name>/fileupload}
	c=${c//<container_name>/$CT_README_NAME}
	c=${c//DB_PORT=5432/DB_PORT=$CT_DB_PORT}
	c=${c//-p 80:80/--env PORT=$CT_PORT --env LISTEN_ADDRESS=127.0.0.1}
	c=${c//curl localhost\//curl -fsS localhost:$CT_PORT/}
	printf '%s\n' "$c"
}

# ct_request_logged NAME: the container's output (podman logs) has an
# upload's line of a worker and nginx's access line with the same request
# id (the image's default: the logs on standard output).
ct_request_logged() {
	local rid

	podman logs "$1" >"$CT_TMP/logs.$1" 2>&1 || return 1
	rid=$(awk '$3 == "info" && $5 == "POST" && $6 == "/service/fileupload" &&
	    $7 == "201" { print $4; exit }' "$CT_TMP/logs.$1")
	[ -n "$rid" ] && [ "$rid" != - ] &&
	    grep -q "\"POST /service/fileupload HTTP/1.1\" 201 .* rid=$rid\$" \
	    "$CT_TMP/logs.$1"
}

# ct_logs_reopened NAME: requests, up to 10 s on a busy machine, until both
# log files (moved away before a SIGHUP) exist again with lines in them.
ct_logs_reopened() {
	local _
	for _ in $(seq 1 20); do
		curl -s -o /dev/null "$CT_URL/service/fileupload"
		podman exec "$1" sh -c \
		    'test -s /server/logs/fileupload.log &&
		    test -s /server/logs/nginx-access.log' && return 0
		sleep 0.5
	done
	return 1
}

# readme_run LINE: runs one README command from the repository root; a
# "curl" waits until the container is ready, as a person would.
readme_run() {
	local c
	c=$(readme_cmd "$1")
	case $c in
	curl*) ct_ready "$CT_README_NAME" 120 || return 1 ;;
	esac
	(cd "$FU_ROOT" && BUILDAH_FORMAT=docker BUILDAH_ISOLATION=chroot \
	    eval "$c") >"$CT_TMP/readme.out" 2>&1
}

readme_commands() {
	local -a cmds=()
	local line n=0 f=$CT_TMP/readme.bin h

	podman volume rm -f data-volume log-volume >/dev/null 2>&1 || true
	mapfile -t cmds < <(readme_blocks)
	CT_README_NAME=ct-readme-$$
	head -c 200000 /dev/urandom >"$f"
	h=$(b2sum -l 256 "$f" | cut -d' ' -f1)
	for line in "${cmds[@]}"; do
		if [ "$line" = -- ]; then
			n=$((n + 1))
			readme_block_end "$n" "$f" "$h"
			continue
		fi
		if readme_run "$line"; then
			ok "README: $(readme_cmd "$line" | cut -c1-60)"
		else
			not_ok "README: $(readme_cmd "$line")" \
			    "$(tail -n 5 "$CT_TMP/readme.out")"
		fi
	done
	podman volume rm -f data-volume log-volume >/dev/null 2>&1 || true
	podman rmi -f localhost/fileupload/fileupload:1.0.0 >/dev/null 2>&1 || true
	check "README: both blocks of \"The image alone\" ran" test "$n" -ge 2
}

# After each block: the container serves (the first block stores a file,
# the second, on the same volumes, still has it) and stops cleanly.
readme_block_end() {
	local n=$1 f=$2 h=$3
	if ! ct_ready "$CT_README_NAME" 120; then
		not_ok "README block $n: the container is ready" \
		    "$(podman logs "$CT_README_NAME" 2>&1 | tail -n 10)"
	else
		[ "$n" -ne 1 ] || check "README block $n: upload" \
		    test "$(ct_upload "$f")" = 201
		curl -sS --max-time 30 -o "$CT_TMP/down" \
		    "$CT_URL/service/fileupload/$h/content" || true
		check "README block $n: the file is there" cmp "$f" "$CT_TMP/down"
	fi
	podman stop -t 30 "$CT_README_NAME" >/dev/null 2>&1 || true
	check "README block $n: stopped with status 0" \
	    test "$(ct_exit_code "$CT_README_NAME")" = 0
	podman rm -f "$CT_README_NAME" >/dev/null 2>&1 || true
}

# -------------------------------------------------------------- scenarios

# 1. The default capability set.
head -c 3000000 /dev/urandom >"$CT_TMP/one.bin"
ct_run ct-default-$$
if ct_ready "ct-default-$$" 120; then
	ok "default capabilities: ready, health 200"
	check "default capabilities: id -un in the container is fileupload" \
	    test "$(podman exec "ct-default-$$" id -un)" = fileupload
	check "default capabilities: every process runs as fileupload" \
	    ct_users_unprivileged "ct-default-$$"
	ct_serves "default capabilities" "$CT_TMP/one.bin"
	check "default capabilities: the browser page, with its CSP" ct_page_ok
	check "default capabilities: podman healthcheck run" \
	    podman healthcheck run "ct-default-$$"
	check "default capabilities: podman logs has the upload's lines, worker's and nginx's, with one request id" \
	    ct_request_logged "ct-default-$$"
	check "default capabilities: no log files in the log volume" \
	    podman exec "ct-default-$$" sh -c '! ls /server/logs/*.log 2>/dev/null'
	ct_stops "ct-default-$$"
else
	not_ok "default capabilities: ready, health 200" \
	    "$(podman logs "ct-default-$$" 2>&1 | tail -n 15)"
fi

# 2. Only the documented capabilities, on the same volumes: the file of
# the first run is still there.  The logs in files (FILEUPLOAD_LOG_TO), and
# rotated.
mapfile -t caps < <(ct_cap_args)
ct_run "ct-mincaps-$$" --cap-drop ALL "${caps[@]}" --env FILEUPLOAD_LOG_TO=files
if ct_ready "ct-mincaps-$$" 60; then
	ok "documented capabilities only: ready, health 200"
	ct_serves "documented capabilities only (same volumes)" "$CT_TMP/one.bin"
	head -c 100000 /dev/urandom >"$CT_TMP/two.bin"
	ct_serves "documented capabilities only (new file)" "$CT_TMP/two.bin"
	# A rotation: the logs move away, SIGHUP, new logs appear.
	podman exec "ct-mincaps-$$" sh -c 'cd /server/logs &&
	    for f in fileupload.log nginx-access.log; do mv "$f" "$f.1"; done'
	podman kill -s HUP "ct-mincaps-$$" >/dev/null
	check "logs in files: SIGHUP reopens them" ct_logs_reopened "ct-mincaps-$$"
	check "documented capabilities only: podman healthcheck run" \
	    podman healthcheck run "ct-mincaps-$$"
	ct_stops "ct-mincaps-$$"
else
	not_ok "documented capabilities only: ready, health 200" \
	    "$(podman logs "ct-mincaps-$$" 2>&1 | tail -n 15)"
fi

# 2a. Without CAP_NET_BIND_SERVICE nginx cannot run (its file capability):
# the container exits at once, saying what to add.
ct_run "ct-nocaps-$$" --cap-drop ALL
podman wait "ct-nocaps-$$" >/dev/null 2>&1 || true
check "no capabilities at all: exit status 1" test "$(ct_exit_code "ct-nocaps-$$")" = 1
check "no capabilities at all: says which one is needed" \
    ct_log_has "ct-nocaps-$$" '^error: nginx cannot run as fileupload: .*--cap-add NET_BIND_SERVICE'

# 2b. A read-only root file system, writable only the volumes and a tmpfs
# on /tmp (the run directory), as Docker gives it (podman would add
# tmpfs mounts of its own).
ct_run "ct-readonly-$$" --read-only --read-only-tmpfs=false --tmpfs /tmp
if ct_ready "ct-readonly-$$" 60; then
	ok "read-only root file system: ready, health 200"
	head -c 50000 /dev/urandom >"$CT_TMP/three.bin"
	ct_serves "read-only root file system" "$CT_TMP/three.bin"
	check "read-only root file system: the browser page" ct_page_ok
	check "read-only root file system: / is read-only" \
	    ct_root_read_only "ct-readonly-$$"
	ct_stops "ct-readonly-$$"
else
	not_ok "read-only root file system: ready, health 200" \
	    "$(podman logs "ct-readonly-$$" 2>&1 | tail -n 15)"
fi

# 2c. As root (--user root), on the same volumes: the entrypoint gives the
# volumes to fileupload and drops the workers to it, nginx's to www-data.
ct_run "ct-root-$$" --user root
if ct_ready "ct-root-$$" 60; then
	ok "as root: ready, health 200"
	head -c 60000 /dev/urandom >"$CT_TMP/four.bin"
	ct_serves "as root" "$CT_TMP/four.bin"
	check "as root: workers run as fileupload, nginx's as www-data" \
	    ct_users_ok "ct-root-$$"
	ct_stops "ct-root-$$"
else
	not_ok "as root: ready, health 200" \
	    "$(podman logs "ct-root-$$" 2>&1 | tail -n 15)"
fi

# 2c'. Port 80 inside, as fileupload, in a network namespace of the
# container's own: nginx as the entrypoint starts it (fu_nginx_start),
# the page answers on 127.0.0.1:80, with the default capabilities and with
# NET_BIND_SERVICE alone.
ct_port80() {
	# shellcheck disable=SC2016  # expanded inside the container
	podman run --rm --network none "$@" "$CT_IMAGE" bash -c '
	    . /usr/share/fileupload/scripts/lib.sh
	    FU_VAR=/tmp/p80 FU_BIN_DIR= FU_LISTEN=127.0.0.1:80
	    FU_TEMPLATES=/usr/share/fileupload/conf/nginx
	    FU_UI_DIR=/usr/share/fileupload/ui
	    fu_prepare_dirs && fu_render_conf && fu_nginx_start 2>/dev/null &&
	    echo "$(id -un) $(curl -s -o /dev/null -w "%{http_code}" \
	        http://127.0.0.1:80/service/fileupload/ui/)"
	    fu_nginx_stop 2>/dev/null' 2>/dev/null
}
check "port 80 inside as fileupload, default capabilities" \
    test "$(ct_port80)" = "fileupload 200"
check "port 80 inside as fileupload, NET_BIND_SERVICE alone" \
    test "$(ct_port80 --cap-drop ALL --cap-add NET_BIND_SERVICE)" = "fileupload 200"

# 2d. A CPU quota of one CPU (--cpus 1; the cgroup's cpu.max, or cgroup
# v1's CFS quota): WORKERS' default counts one CPU, not the host's cores.
check "--cpus 1: fu_cpu_count is 1 (nproc $(nproc))" test "$(podman run --rm \
    --network host --cpus 1 "$CT_IMAGE" bash -c \
    '. /usr/share/fileupload/scripts/lib.sh && fu_cpu_count' 2>/dev/null)" = 1
check "no quota: fu_cpu_count is the cores" test "$(podman run --rm \
    --network host "$CT_IMAGE" bash -c \
    '. /usr/share/fileupload/scripts/lib.sh && fu_cpu_count && nproc' \
    2>/dev/null | uniq | wc -l)" = 1

# 3. Workers that cannot start (a data volume whose tmp/ is a file, which
# the workers refuse): the container ends at once with status 1, saying so.
podman volume create --label "$CT_TAG" "ct-broken-$$" >/dev/null
podman run --rm --network host -v "ct-broken-$$:/server/data" "$CT_IMAGE" \
    touch /server/data/tmp
t0=$SECONDS
CT_DATA_VOLUME=ct-broken-$$ ct_run "ct-broken-$$"
podman wait "ct-broken-$$" >/dev/null 2>&1 || true
check "workers that cannot start: the container exits within 20 s ($((SECONDS - t0)) s)" \
    test $((SECONDS - t0)) -lt 20
check "workers that cannot start: exit status 1" test "$(ct_exit_code "ct-broken-$$")" = 1
check "workers that cannot start: one line says so" \
    ct_log_has "ct-broken-$$" '^error: the workers could not start \(see above\)$'
check "workers that cannot start: the worker's reason is shown" \
    ct_log_has "ct-broken-$$" 'fatal - DATA_DIR: '


# 4. The README: "The image alone" and "Docker Compose".
readme_commands
compose_test

printf '%d passed, %d failed\n' "$CT_PASSED" "$CT_FAILED"
[ "$CT_FAILED" -eq 0 ]
