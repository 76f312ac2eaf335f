# shellcheck shell=bash
#
# The regex skip (src/regex_skip.c): libmagic's regular expression searches
# that cannot match are answered at once and counted in the metrics;
# FILEUPLOAD_REGEX_SKIP=0 runs every search and counts none.  A worker
# built without it (configure said so) counts none either way.
# Sourced by tests/integration/run.sh (helpers in tests/integration/lib.sh).

# rs_built_in: the worker was built with the regex skip.  Not grep -q: nm
# killed by SIGPIPE would fail the pipeline (pipefail).
rs_built_in() {
	nm "$IT_WORKER" 2>/dev/null | grep ' T __wrap_regexec$' >/dev/null
}

# rs_counts: the regex counters of a scrape, "SKIPPED SEARCHED NEED NO_NEED"
# ("-" for a series missing).
rs_counts() {
	req GET /service/fileupload/metrics
	check_status 200 "scrape"
	awk '
	BEGIN { for (i = 0; i < 4; i++) v[i] = "-" }
	$1 == "fileupload_mime_regex_searches_total{result=\"skipped\"}" { v[0] = $2 }
	$1 == "fileupload_mime_regex_searches_total{result=\"searched\"}" { v[1] = $2 }
	$1 == "fileupload_mime_regex_patterns_total{need=\"yes\"}" { v[2] = $2 }
	$1 == "fileupload_mime_regex_patterns_total{need=\"no\"}" { v[3] = $2 }
	END { print v[0], v[1], v[2], v[3] }' "$IT_TMP/body"
}

# rs_text_uploads NAME: two small texts uploaded (the pool's two workers
# may take one each), then deleted; libmagic runs its text tests on them.
rs_text_uploads() {
	local i f
	for i in 1 2; do
		f=$(new_file "regex-skip-$1-$i.txt" "a plain note, no keyword")
		upload "$f"
		check_status 201 "upload $i"
		req DELETE "/service/fileupload/$(b2 "$f")"
		check_status 201 "delete $i"
	done
}

# Text uploads: searches skipped and searched, patterns with a need.
sc_regex_skip_counted() {
	local skipped searched need no_need
	rs_text_uploads on
	read -r skipped searched need no_need < <(rs_counts)
	if ! rs_built_in; then
		check_eq "counts of a worker built without it" "0 0 0 0" \
		    "$skipped $searched $need $no_need"
		return 0
	fi
	check "searches skipped: $skipped" test "$skipped" -gt 0
	check "searches run: $searched" test "$searched" -gt 0
	check "patterns with a need: $need" test "$need" -gt 0
	check "patterns without a need, a series: $no_need" test "$no_need" -ge 0
}

# FILEUPLOAD_REGEX_SKIP=0: a new pool's counters stay 0 over text uploads.
sc_regex_skip_off() {
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	FILEUPLOAD_REGEX_SKIP=0 start_pool
	rs_text_uploads off
	check_eq "counts with FILEUPLOAD_REGEX_SKIP=0" "0 0 0 0" "$(rs_counts)"
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	start_pool
	rs_text_uploads on-again
	rs_built_in || return 0
	check "skipping again in a new pool" test "$(rs_counts | cut -d' ' -f1)" -gt 0
}
