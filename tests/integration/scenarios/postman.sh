# shellcheck shell=bash
#
# The Postman collection a REST client user would import
# (tests/postman/fileupload.postman_collection.json), run with newman
# against the suite's stack.  scripts/test installs newman (npm ci).
# Sourced by tests/integration/run.sh (helpers in tests/integration/lib.sh).

sc_postman_collection() {
	local dir=$IT_TMP/postman newman=$FU_ROOT/tests/postman/node_modules/.bin/newman
	if [ ! -x "$newman" ]; then
		fail "newman is not installed (scripts/test runs npm ci in tests/postman)"
		return 0
	fi
	mkdir -p "$dir"
	# Bytes of its own, so that the collection's first upload is new.
	printf 'postman collection run %s %s\n' "$$" "$(date +%s%N)" >"$dir/upload.txt"
	if ! "$newman" run "$FU_ROOT/tests/postman/fileupload.postman_collection.json" \
	    --working-dir "$dir" --env-var "baseUrl=$IT_URL" \
	    --reporters cli --color off >"$dir/newman.out" 2>&1; then
		fail "newman reported failures:"
		grep -E '^ *[0-9]+\. |AssertionError|✗|failed' "$dir/newman.out" |
		    head -n 40 || true
	fi
	check "newman ran every request" grep -qE '│ +requests │ +26 │ +0 │' "$dir/newman.out"
}
