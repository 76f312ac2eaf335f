# shellcheck shell=bash
#
# docker/compose.yaml under podman-compose (Debian's, 1.0.3), started the
# way the README's "Compose" section says, with a stand-in for the
# postgres:15 image (tests/container/postgres: Debian's postgresql-15 and
# the official image's POSTGRES_* variables).  Sourced by
# tests/container/run.sh (ok, not_ok, check, ct_* helpers there).
#
# Besides the README's commands: compose refuses to start without
# DB_PASSWORD_FILE; it publishes on 127.0.0.1:8080 unless
# FILEUPLOAD_PUBLISH says otherwise; the README's command fails when the
# build does (podman-compose alone would exit 0); the service's output
# shows every request with its request id, on the worker's line and on
# nginx's; a wrong password ends the entrypoint's wait for the database at
# once with PostgreSQL's message.
#
# What podman-compose 1.0.3 does not do as docker compose does, and so is
# not verified here: it does not wait for "condition: service_healthy"
# (the entrypoint's own wait for the database, DB_WAIT_SECONDS, covers
# that), and it ignores the top-level "name" (-p gives the project a name
# of the test's own).  The two services talk over a bridge network that
# podman makes on this machine; the service is published on 127.0.0.1, on
# a free port of the test's (FILEUPLOAD_PUBLISH) rather than 8080.

# compose_cmd LINE: a README command with the test's substitutions: a
# project name for podman-compose, the password, its file in the test's
# directory, the test's port for 8080.
compose_cmd() {
	# shellcheck disable=SC2088  # the README's words, as written
	local c=$1 pwfile='~/fileupload-db-password'
	c=${c//podman-compose /podman-compose -p $CT_COMPOSE_PROJECT }
	c=${c//<password>/ct-secret}
	c=${c//"$pwfile"/$CT_TMP/db-password}
	c=${c//localhost:8080/127.0.0.1:$CT_PORT}
	printf '%s\n' "$c"
}

# The README's commands of the section, one a line (a line ending in && or
# a backslash joined with the next), comments dropped.
compose_readme_lines() {
	awk '
	/^### / { in_section = ($0 == "### Compose") }
	in_section && /^```sh$/ { in_block = 1; next }
	in_section && in_block && /^```$/ { exit }
	in_section && in_block {
		sub(/[ \t]+#.*$/, "")
		line = line $0
		if (line ~ /(&&|\\)$/) { sub(/\\$/, "", line); line = line " "; next }
		print line
		line = ""
	}' "$FU_ROOT/README.md"
}

# compose ARGS...: podman-compose on the test's project, with the password
# file (every command interpolates the whole file, down too).
compose() {
	(cd "$FU_ROOT" && DB_PASSWORD_FILE=$CT_TMP/db-password \
	    podman-compose -p "$CT_COMPOSE_PROJECT" -f docker/compose.yaml "$@")
}

# Built every time (its layers are cached): a stand-in changed since the
# last run is never left in use.
compose_postgres_image() {
	podman build --format docker --isolation chroot --network host \
	    --pull=never -t docker.io/library/postgres:15 \
	    "$CT_DIR/postgres" >"$CT_TMP/postgres-build.log" 2>&1
}

compose_down() {
	compose down -v >>"$CT_TMP/compose.log" 2>&1 || true
	podman network rm -f "${CT_COMPOSE_PROJECT}_default" >/dev/null 2>&1 || true
}

# compose_refusals: no DB_PASSWORD_FILE, no start; the default publishing
# is loopback's; a failed build fails the README's command.
compose_refusals() {
	local build

	if (cd "$FU_ROOT" && env -u DB_PASSWORD_FILE podman-compose \
	    -p "$CT_COMPOSE_PROJECT" -f docker/compose.yaml up -d) \
	    >"$CT_TMP/compose.refused" 2>&1; then
		not_ok "compose: refuses to start without DB_PASSWORD_FILE"
	else
		check "compose: refuses to start without DB_PASSWORD_FILE, saying so" \
		    grep -q 'set DB_PASSWORD_FILE' "$CT_TMP/compose.refused"
	fi
	compose --dry-run up -d >"$CT_TMP/compose.dry" 2>&1 || true
	check "compose: published on 127.0.0.1:8080 unless told otherwise" \
	    grep -q -- '-p 127.0.0.1:8080:80 ' "$CT_TMP/compose.dry"
	# The README's build line on a Dockerfile that cannot build.
	printf 'FROM debian:12\nRUN exit 3\n' >"$CT_TMP/Dockerfile.broken"
	build=$(compose_readme_lines | grep '^podman build ' | head -n 1)
	build=$(compose_cmd "${build//docker\/Dockerfile/$CT_TMP/Dockerfile.broken}")
	if (cd "$FU_ROOT" && BUILDAH_ISOLATION=chroot eval "$build") \
	    >"$CT_TMP/compose.broken" 2>&1; then
		not_ok "compose: the README's command fails when the build does"
	else
		check "compose: the README's command fails when the build does (and starts nothing)" \
		    test -z "$(podman ps -a -q --filter "label=io.podman.compose.project=$CT_COMPOSE_PROJECT")"
	fi
}

# compose_wrong_password SERVICE: the entrypoint started again inside the
# running service with a wrong password exits 1 within 10 s, with
# PostgreSQL's words.
compose_wrong_password() {
	local t0=$SECONDS rc=0

	podman exec -e DB_PASSWORD_FILE= -e DB_PASSWORD=not-the-password \
	    -e FILEUPLOAD_RUN_DIR=/tmp/ct-wrong-password -e DB_WAIT_SECONDS=60 \
	    "$1" fileupload-entrypoint >"$CT_TMP/compose.wrong" 2>&1 || rc=$?
	check "compose: a wrong password: exit status 1 (got $rc)" test "$rc" = 1
	check "compose: a wrong password: given up within 10 s ($((SECONDS - t0)) s)" \
	    test $((SECONDS - t0)) -le 10
	check "compose: a wrong password: PostgreSQL's message" \
	    grep -q 'password authentication failed for user' "$CT_TMP/compose.wrong"
	check "compose: a wrong password: says the login was refused" \
	    grep -q 'refused the login' "$CT_TMP/compose.wrong"
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
	compose_refusals
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
			if (cd "$FU_ROOT" && FILEUPLOAD_PUBLISH=127.0.0.1:$CT_PORT \
			    BUILDAH_ISOLATION=chroot \
			    eval "$c") >>"$CT_TMP/compose.log" 2>&1; then
				ok "compose: $c"
			else
				not_ok "compose: $c" "$(tail -n 5 "$CT_TMP/compose.log")"
			fi
			;;
		esac
	done < <(compose_readme_lines)
	check "compose: the README has its three commands" test "$n" -ge 3
	check "compose: the password file is what the README made" \
	    test "$(cat "$CT_TMP/db-password")" = ct-secret
	check "compose: the service's output has the upload's lines, worker's and nginx's, with one request id" \
	    ct_request_logged "$svc"
	compose_wrong_password "$svc"
	check "compose: the database's health check (pg_isready)" \
	    podman healthcheck run "${CT_COMPOSE_PROJECT}_db_1"
	check "compose: the service's health check" podman healthcheck run "$svc"
	curl -sS --max-time 30 -o "$CT_TMP/down" \
	    "$CT_URL/service/fileupload/$h/content" || true
	check "compose: the content route gives the same bytes" \
	    cmp "$CT_TMP/hello.txt" "$CT_TMP/down"
	compose stop >>"$CT_TMP/compose.log" 2>&1 || true
	check "compose: stop leaves the service with status 0" \
	    test "$(ct_exit_code "$svc")" = 0
	compose_down
	podman rmi -f localhost/fileupload:latest >/dev/null 2>&1 || true
}
