#!/usr/bin/env bash
# The stand-in postgres image's entrypoint: on an empty PGDATA, initdb with
# POSTGRES_USER as the superuser (password POSTGRES_PASSWORD, or the
# content of the file POSTGRES_PASSWORD_FILE names, required over TCP) and
# POSTGRES_DB created; then the server in the foreground.
set -euo pipefail

user=${POSTGRES_USER:-postgres}
db=${POSTGRES_DB:-$user}
if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
	POSTGRES_PASSWORD=$(cat "$POSTGRES_PASSWORD_FILE")
fi
[ -n "${POSTGRES_PASSWORD:-}" ] || {
	echo "error: POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE) is not set" >&2
	exit 1
}
[ "${1:-postgres}" = postgres ] || exec "$@"

mkdir -p "$PGDATA" /var/run/postgresql
chown postgres:postgres "$PGDATA" /var/run/postgresql
chmod 0700 "$PGDATA"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
	printf '%s\n' "$POSTGRES_PASSWORD" >/tmp/pwfile
	chown postgres /tmp/pwfile
	runuser -u postgres -- initdb -D "$PGDATA" -U "$user" \
	    --pwfile=/tmp/pwfile --auth-local=trust --auth-host=scram-sha-256 \
	    -E UTF8 --no-locale >/dev/null
	rm -f /tmp/pwfile
	printf 'host all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
	if [ "$db" != postgres ]; then
		printf 'CREATE DATABASE "%s" OWNER "%s";\n' "$db" "$user" |
		    runuser -u postgres -- postgres --single -D "$PGDATA" \
		    postgres >/dev/null
	fi
fi
exec runuser -u postgres -- postgres -D "$PGDATA" -c listen_addresses='*'
