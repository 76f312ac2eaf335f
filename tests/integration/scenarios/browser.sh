# shellcheck shell=bash
#
# The browser page (src/ui) in a real browser: Debian's chromium driven
# headless by puppeteer-core (tests/browser, npm ci there) against the
# suite's nginx and workers.  Each scenario runs one of tests/browser/*.js,
# which prints a line per check and fails on any console error or CSP
# violation.  Screenshots go to $IT_SCREENSHOTS (default
# build/screenshots/browser), kept after the run.  Plus the page's headers
# and routes with curl.

BR_DIR=$FU_ROOT/tests/browser
IT_SCREENSHOTS=${IT_SCREENSHOTS:-$FU_ROOT/build/screenshots/browser}

br_not() {
	! "$@"
}

# br_pool MAX [NAME=VALUE...]: the pool again with MAX_UPLOAD_SIZE MAX
# (and the settings given), nginx's body limit to match.
br_pool() {
	local max=$1
	shift
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	# shellcheck disable=SC2034  # start_pool's (run.sh)
	IT_MAX=$max
	# shellcheck disable=SC2163  # NAME=VALUE words, exported as such
	([ $# -eq 0 ] || export "$@"; start_pool)
	restart_nginx
}

# br_node TEST [ARGS...]: node tests/browser/TEST.js BASE_URL SCREENSHOTS
# SCRATCH ARGS..., a failure with its output when it fails.  The scratch
# files (up to 100 MiB) go afterwards.
br_node() {
	local t=$1 rc=0 out=$IT_TMP/browser-$1.out
	shift
	if [ ! -d "$BR_DIR/node_modules/puppeteer-core" ]; then
		fail "puppeteer-core is not installed (scripts/test runs npm ci in tests/browser)"
		return 0
	fi
	if ! command -v chromium >/dev/null; then
		fail "chromium is not installed (fu_install_deps test installs it)"
		return 0
	fi
	timeout 900 node "$BR_DIR/$t.js" "$IT_URL" "$IT_SCREENSHOTS" \
	    "$IT_TMP/browser" "$@" >"$out" 2>&1 || rc=$?
	rm -rf "$IT_TMP/browser"
	if [ "$rc" -ne 0 ]; then
		fail "tests/browser/$t.js failed (status $rc):"
		grep -v '^ok: ' "$out" | head -n 40 | sed 's/^/      /'
	fi
}

# The page's files and headers; the routes around it unchanged.
sc_browser_page_served() {
	local etag
	req GET /service/fileupload/ui
	check_status 301 "without the slash"
	check_header Location /service/fileupload/ui/
	req GET /service/fileupload/ui/
	check_status 200 "the page"
	check "an HTML page" grep -q '<title>fileupload</title>' "$IT_TMP/body"
	check "a CSP without unsafe-inline" \
	    grep -qiE "^content-security-policy: default-src 'self';[^\r]*script-src 'self'( 'wasm-unsafe-eval')?;[^\r]*style-src 'self';" \
	    "$IT_TMP/headers"
	check "no unsafe-inline or unsafe-eval (WebAssembly only)" \
	    br_not grep -qiE "'unsafe-|unsafe-hashes" "$IT_TMP/headers"
	check_header X-Content-Type-Options nosniff
	check_header Cache-Control no-cache
	check "no inline script or style" \
	    br_not grep -qE '<script>|<style|style=| on[a-z]+=' "$IT_TMP/body"
	req GET /service/fileupload/ui/js/main.js
	check_status 200 "a module"
	check_header Content-Type "text/javascript; charset=utf-8"
	req GET /service/fileupload/ui/vendor/tus.min.js
	check_status 200 "tus-js-client's browser build"
	req GET /service/fileupload/ui/vendor/blake2b.umd.min.js
	check_status 200 "hash-wasm's BLAKE2b"
	req GET /service/fileupload/ui/js/hash-worker.js
	check_status 200 "the hash worker"
	req GET /service/fileupload/ui/ui.css
	check_header Content-Type "text/css; charset=utf-8"
	req GET /service/fileupload/ui/nothing.js
	check_error 404 "a file the page does not have"
	req GET /service/fileupload/ui/../../../etc/passwd --path-as-is
	check "no way out of the page's directory ($STATUS)" \
	    test "$STATUS" != 200
	req GET /service/fileupload/ui/
	etag=$(header ETag)
	req GET /service/fileupload/ui/ -H "If-None-Match: $etag"
	check_status 304 "revalidated"
	# The API as before: the list, an unknown hash, a resumable upload.
	req GET /service/fileupload
	check_status 200 "the list"
	check_content_type_json
	req GET "/service/fileupload/$(printf 'ab%.0s' {1..32})"
	check_error 404 "an unknown hash"
	req OPTIONS /service/fileupload/uploads
	check_status 204 "tus OPTIONS"
}

# order=newest through the API: the Link keeps it, the pages meet.
sc_browser_list_newest_first() {
	local -a h=()
	local i next
	for i in 1 2 3; do
		upload "$(new_file "newest$i")" "newest$i.txt"
		check_status 201
		h+=("$(jf .file_hash)")
	done
	req GET '/service/fileupload?limit=2&order=newest'
	check_status 200
	check_json '.[0].file_hash' "${h[2]}"
	check_json '.[1].file_hash' "${h[1]}"
	next=$(header Link | sed -n 's/^<\([^>]*\)>; rel="next"$/\1/p')
	check_eq "the Link keeps the order" \
	    "/service/fileupload?limit=2&after=${h[1]}&order=newest" "$next"
	req GET "$next"
	check_json '.[0].file_hash' "${h[0]}"
	req GET '/service/fileupload?order=oldest&limit=1'
	check_status 200 "order=oldest"
	req GET '/service/fileupload?order=sideways'
	check_error 400 "an unknown order"
	req GET '/service/fileupload?order=newest&order=newest'
	check_error 400 "a repeated order"
	for i in "${h[@]}"; do
		req DELETE "/service/fileupload/$i"
	done
}

# Three files at once, one of 64 MiB through a throttled connection.
sc_browser_upload_three_files() {
	br_pool $((80 << 20))
	br_node upload 64
	br_pool 2097152
}

# The connection cut mid-upload, and a page reload mid-upload.
sc_browser_upload_resumes() {
	br_pool $((80 << 20))
	br_node resume 48
	br_pool 2097152
}

# Duplicate, rename, delete, paging, order, filter, download.
sc_browser_table_actions() {
	br_node actions
}

# A token-protected service: the page asks, and works with the token.
sc_browser_token() {
	br_pool $((16 << 20)) FILEUPLOAD_READ_TOKEN=it-browser-read \
	    FILEUPLOAD_TOKEN=it-browser-write
	br_node token it-browser-read it-browser-write
	br_pool 2097152
}

# A 64 MiB file (IT_DEDUPE_MIB) the service has: recognised in the
# browser, nothing sent (the metrics' upload counters unchanged); names
# with '"' kept exactly by both ways of sending (multipart and tus).
sc_browser_dedupe_and_names() {
	local mib=${IT_DEDUPE_MIB:-64}
	br_pool $(((mib + 16) << 20))
	br_node dedupe "$mib"
	br_node names
	br_pool 2097152
}

# axe-core on every screen (0 serious or critical), the queue's states,
# the phone width.
sc_browser_accessibility() {
	br_node a11y
}

# Share links (copy, open without a token, expiry) and the browser's own
# download with a token stored.
sc_browser_share_and_download() {
	br_pool $((16 << 20)) FILEUPLOAD_READ_TOKEN=it-browser-read \
	    FILEUPLOAD_TOKEN=it-browser-write
	br_node share it-browser-read it-browser-write
	br_pool 2097152
}

# The database stopped: the list and an upload say so (the API's 503
# reason), the upload waiting to try again.
sc_browser_database_down() {
	fu_pg_stop "$IT_PG_DIR" 2>>"$IT_TMP/setup.log"
	br_node unavailable
	FU_PG_FSYNC=off fu_pg_start "$IT_PG_DIR" "$FU_DB_PORT" \
	    2>>"$IT_TMP/setup.log"
}
