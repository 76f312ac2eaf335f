# shellcheck shell=bash
# tests/bench/mime_link.sh: sourced by mime_cost.sh and mime_corpus.sh.
#
# mime_link OUT SOURCE...: builds the program OUT from SOURCE (C files)
# with -DREGEX_SKIP, libmagic linked as the worker links it
# (src/Makefile.am): the static libmagic.a and src/regex_skip.c in one
# relocatable object, where the linker binds libmagic's regcomp, regexec,
# regfree and memmem to regex_skip.c's wrappers and only libmagic's API
# and regex_skip.h's stay global, plus src/text_index.c (the wrappers'
# index), src/metrics.c (where they count), the modules it uses and
# libmagic.a's own dependencies.  Leaves OUT.*.o beside OUT.  Needs gcc, binutils,
# pkg-config and libmagic-dev.
mime_link() {
	local out=$1 src magic
	shift
	src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../src" && pwd)
	magic=${MAGIC_STATIC:-$(pkg-config --variable=libdir libmagic)/libmagic.a}
	gcc -O2 -Wall -D_GNU_SOURCE -DREGEX_SKIP -I"$src" -pthread -c \
	    -o "$out.regex_skip.o" "$src/regex_skip.c"
	gcc -r -nostdlib -o "$out.r.o" "$out.regex_skip.o" \
	    -Wl,--whole-archive "$magic" -Wl,--no-whole-archive \
	    -Wl,--wrap=regcomp,--wrap=regexec,--wrap=regfree,--wrap=memmem
	objcopy -w --keep-global-symbol='magic_*' \
	    --keep-global-symbol='regex_skip_*' \
	    --keep-global-symbol='__wrap_reg*' "$out.r.o" "$out.magic.o"
	# shellcheck disable=SC2046  # one word per library
	gcc -O2 -Wall -D_GNU_SOURCE -DREGEX_SKIP -I"$src" -pthread -o "$out" \
	    "$@" "$out.magic.o" "$src/metrics.c" "$src/client_slots.c" "$src/procid.c" \
	    "$src/text_index.c" \
	    $(pkg-config --static --libs libmagic | sed 's/-lmagic\>//') \
	    $(pkg-config --libs libsodium)
}
