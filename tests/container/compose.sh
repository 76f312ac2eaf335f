# shellcheck shell=bash
#
# docker/compose.yaml under podman-compose (Debian's, 1.0.3), started the
# way the README's "Docker Compose" section says, with a stand-in for the
# postgres:15 image (tests/container/postgres: Debian's postgresql-15 and
# the official image's POSTGRES_* variables).  Sourced by
# tests/container/run.sh (ok, not_ok, check, ct_* helpers there).
#
# What podman-compose 1.0.3 does not do as docker compose does, and so is
# not verified here: it does not wait for "condition: service_healthy"
# (the entrypoint's own wait for the database, DB_WAIT_SECONDS, covers
# that), and it ignores the top-level "name" (-p gives the project a name
# of the test's own).  The two services talk over a bridge network that
# podman makes on this machine; the service is published on 127.0.0.1.

# compose_cmd LINE: a README command with the test's substitutions:
# podman-compose and a project name for "docker compose", the test's port
# for 8080 (FILEUPLOAD_PORT, bound to 127.0.0.1).
compose_cmd() {
	local c=$1
	c=${c/docker compose /podman-compose -p $CT_COMPOSE_PROJECT }
	c=${c//<password>/ct-secret}
	c=${c//localhost:8080/127.0.0.1:$CT_PORT}
	printf '%s\n' "$c"
}

# The README's commands of the section, one a line.
compose_readme_lines() {
	awk '
	/^### / { in_section = ($0 == "### Docker Compose") }
	in_section && /^```sh$/ { in_block = 1; next }
	in_section && in_block && /^```$/ { exit }
	in_section && in_block { sub(/[ \t]+#.*$/, ""); print }
	' "$FU_ROOT/README.md"
}

compose_postgres_image() {
	podman image exists docker.io/library/postgres:15 && return 0
	podman build --format docker --isolation chroot --network host \
	    --pull=never -t docker.io/library/postgres:15 \
	    "$CT_DIR/postgres" >"$CT_TMP/postgres-build.log" 2>&1
}

compose_down() {
	(cd "$FU_ROOT" && podman-compose -p "$CT_COMPOSE_PROJECT" \
	    -f docker/compose.yaml down -v) >>"$CT_TMP/compose.log" 2>&1 || true
	podman network rm -f "${CT_COMPOSE_PROJECT}_default" >/dev/null 2>&1 || true
}

compose_test() {
	local line c svc=${CT_COMPOSE_PROJECT}_fileupload_1 h n=0


	if ! command -v podman-compose >/dev/null; then
		not_ok "compose: podman-compose is not installed"
		return
	fi
	if ! compose_postgres_image; then
		not_ok "compose: the postgres:15 stand-in builds" \
		    "$(tail -n 5 "$CT_TMP/postgres-build.log")"
		return
	fi
	printf 'hello from compose\n' >"$CT_TMP/hello.txt"
	h=$(b2sum -l 256 "$CT_TMP/hello.txt" | cut -d' ' -f1)
	while read -r line; do
		[ -n "$line" ] || continue
		c=$(compose_cmd "$line")
		n=$((n + 1))
		case $c in
		curl*)
			ct_ready "$svc" 180 || not_ok "compose: the service is ready" \
			    "$(podman logs "$svc" 2>&1 | tail -n 10)"
			(cd "$CT_TMP" && eval "$c -sS -o body -w '%{http_code}'") \
			    >"$CT_TMP/compose.out" 2>&1 || true
			check "compose: $c answers 201 with the hash" \
			    test "$(cat "$CT_TMP/compose.out")" = 201 -a \
			    "$(jq -r .file_hash "$CT_TMP/body" 2>/dev/null)" = "$h"
			;;
		*)
			if (cd "$FU_ROOT" && FILEUPLOAD_PORT=127.0.0.1:$CT_PORT \
			    BUILDAH_FORMAT=docker BUILDAH_ISOLATION=chroot \
			    eval "$c") >>"$CT_TMP/compose.log" 2>&1; then
				ok "compose: $c"
			else
				not_ok "compose: $c" "$(tail -n 5 "$CT_TMP/compose.log")"
			fi
			;;
		esac
	done < <(compose_readme_lines)
	check "compose: the README has its two commands" test "$n" -ge 2
	check "compose: the database's health check (pg_isready)" \
	    podman healthcheck run "${CT_COMPOSE_PROJECT}_db_1"
	check "compose: the service's health check" podman healthcheck run "$svc"
	curl -sS --max-time 30 -o "$CT_TMP/down" \
	    "$CT_URL/service/fileupload/$h/content" || true
	check "compose: the content route gives the same bytes" \
	    cmp "$CT_TMP/hello.txt" "$CT_TMP/down"
	(cd "$FU_ROOT" && podman-compose -p "$CT_COMPOSE_PROJECT" \
	    -f docker/compose.yaml stop) >>"$CT_TMP/compose.log" 2>&1 || true
	check "compose: stop leaves the service with status 0" \
	    test "$(ct_exit_code "$svc")" = 0
	compose_down
	podman rmi -f localhost/fileupload:latest >/dev/null 2>&1 || true
}
