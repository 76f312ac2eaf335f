#!/bin/bash
# tests/bench/mime_corpus.sh [mime_corpus options, e.g. -q -r 3 -v]
#
# Builds mime_corpus.c and runs it on what Debian installs (documentation,
# licenses, Perl and Python sources, icons, the MIME database, time zones,
# kernel headers, /etc) plus a sample of compressed, archived and binary
# files made or found on this machine: does any libmagic flag set detect a
# different type than the service's (its flags, and the regular expression
# searches src/regex_skip.c skips), and what does each cost per file?
# About 19,000 files; ~8 min for every candidate, ~2 min with -q.  Needs
# gcc, pkg-config, libmagic-dev, gzip, xz, bzip2, tar, zip.  Removes its
# temp dir.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d /var/tmp/fu-mime.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
x=$tmp/extra
mkdir "$x"

# Linked as the worker is, with regex_skip.c: its candidates skip what
# cannot match, the reference searches.
# shellcheck source=tests/bench/mime_link.sh
. "$here/mime_link.sh"
mime_link "$tmp/mime_corpus" "$here/mime_corpus.c"

# Compressed and archived text, rare uncompressed in the installed tree.
i=0
for f in /usr/share/common-licenses/* /usr/share/doc/*/copyright; do
	[ -f "$f" ] || continue
	i=$((i + 1))
	[ "$i" -gt 60 ] && break
	gzip -c "$f" >"$x/g$i.gz"
	xz -c "$f" >"$x/x$i.xz"
	bzip2 -c "$f" >"$x/b$i.bz2"
done
tar cf "$x/t1.tar" -C /usr/share/common-licenses .
tar czf "$x/t2.tgz" -C /usr/share/common-licenses .
zip -qr "$x/z1.zip" /usr/share/common-licenses
head -c 100000 /dev/urandom >"$x/rnd1"
head -c 4096 /dev/urandom >"$x/rnd2"
printf '{"a":[1,2,3],"b":"x"}\n' >"$x/j.json"
printf 'a,b,c\n1,2,3\n4,5,6\n' >"$x/c.csv"

# Images, fonts, PostScript, archives, message catalogs and executables
# found on the machine; the tool reads 64 KiB of each, so that is all we
# copy.  shuf with a fixed source picks the same sample every run.
sample() {
	while IFS= read -r f; do
		head -c 65536 "$f" >"$x/c_$(printf '%s' "$f" | tr / _)"
	done
}
for e in jpg gif ico ps zip whl ttf xpm bmp pdf; do
	find /usr /etc /var/lib -xdev -type f -name "*.$e" 2>/dev/null |
		head -40 | sample
done
find /usr -xdev -type f -name '*.jar' | shuf -n 80 --random-source=/dev/zero |
	sample
find /usr -xdev -type f -name '*.mo' | shuf -n 100 --random-source=/dev/zero |
	sample
find /usr/lib /usr/bin -xdev -type f -size +10k |
	shuf -n 150 --random-source=/dev/zero | sample

dirs=()
for d in /usr/share/doc /usr/share/common-licenses /usr/share/perl5 \
	/usr/share/icons /usr/share/pixmaps /usr/lib/python3 /usr/lib/python3.* \
	/usr/share/mime /usr/share/zoneinfo /usr/include/linux /etc; do
	[ -d "$d" ] && dirs+=("$d")
done
"$tmp/mime_corpus" "$@" "${dirs[@]}" "$x"
