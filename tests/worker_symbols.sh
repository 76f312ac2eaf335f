#!/bin/sh
# tests/worker_symbols.sh [WORKER]: the worker (default $FU_WORKER) defines
# none of regcomp, regexec, regfree and memmem in its dynamic symbol table,
# so that the C library's serve its own code and every shared library it loads
# (libkrb5 through libpq and libcurl).  Built with the regex skip
# (FU_REGEX_SKIP=1, from configure), libmagic must be in the worker itself,
# its calls bound to regex_skip.c's wrappers, not loaded as libmagic.so.
# Run by make check; exits 1 on a failure.
worker=${1:-$FU_WORKER}
fail=0

if [ ! -f "$worker" ]; then
	echo "no worker at '$worker'" >&2
	exit 1
fi
defined=$(nm -D --defined-only "$worker" |
    awk '$3 ~ /^(regcomp|regexec|regfree|memmem)(@|$)/ { printf " %s", $3 }')
if [ -n "$defined" ]; then
	echo "$worker exports$defined" >&2
	fail=1
fi
if [ "${FU_REGEX_SKIP:-0}" = 1 ]; then
	if ! nm "$worker" | grep -q ' T __wrap_regexec$'; then
		echo "$worker: no __wrap_regexec (regex skip not linked)" >&2
		fail=1
	fi
	if readelf -d "$worker" | grep -q 'NEEDED.*libmagic'; then
		echo "$worker: loads libmagic.so, whose calls are not wrapped" >&2
		fail=1
	fi
fi
exit $fail
