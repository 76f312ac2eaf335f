# shellcheck shell=bash
#
# Early answers never hurt anyone else: requests answered before their
# body was read (401 without the token, tus 409/423 and 413, 404 of an
# unknown route) flood the service beside honest multipart and tus
# clients, over nginx's kept FastCGI connections.  Not one honest request
# fails, and the connections stay kept.
# Sourced by tests/integration/run.sh (helpers in tests/integration/lib.sh;
# scrape and metric come from metrics.sh, sourced alongside).

# How long the flood lasts (s), its clients of each hostile kind and its
# honest ones of each kind.
EA_SECS=15
EA_HOSTILE=2
EA_HONEST=3
# Transfers per curl run: one client connection to nginx, many requests.
EA_BATCH=20
EA_TOKEN=it-early-secret

# ea_transfer FILE URL STATUS_TAG [CURL_OPTION...]: appends one transfer to
# the curl config FILE; each option is "name = value" of curl's config
# syntax.  Its status goes to stdout as "TAG CODE".
ea_transfer() {
	local cfg=$1 url=$2 tag=$3 o
	shift 3
	# Between two transfers (a last "next" would be one with no URL).
	[ ! -s "$cfg" ] || printf 'next\n' >>"$cfg"
	{
		printf 'url = "%s"\n' "$url"
		printf 'output = "/dev/null"\n'
		printf 'max-time = 30\n'
		printf 'write-out = "%s %%{http_code}\\n"\n' "$tag"
		for o in "$@"; do
			printf '%s\n' "$o"
		done
	} >>"$cfg"
}

# ea_hostile KIND END: batches of one hostile kind until SECONDS reaches
# END; statuses on stdout.
ea_hostile() {
	local kind=$1 end=$2 cfg=$IT_TMP/early/$1.$BASHPID.cfg i loc
	local -a o=('request = "POST"' \
	    "data-binary = \"@$IT_TMP/early/body\"" \
	    'header = "Content-Type: application/octet-stream"')
	local url=$IT_URL/service/fileupload
	case $kind in
	anonymous)
		;;
	unknown)
		url=$url/$(printf '%064d' 7)/nothing
		o+=("header = \"Authorization: Bearer $EA_TOKEN\"")
		;;
	tus_offset)
		# An upload of its own (no PATCH of another waits on its
		# lock), always patched at the wrong offset: 409.
		loc=$(curl -sS --max-time 10 -o /dev/null -D - -X POST \
		    -H 'Tus-Resumable: 1.0.0' -H 'Upload-Length: 1000' \
		    -H "Authorization: Bearer $EA_TOKEN" "$url/uploads" |
		    sed -n 's/^[Ll]ocation: *\([^[:space:]]*\).*/\1/p')
		url=$IT_URL$loc
		printf '%s\n' "$loc" >>"$IT_TMP/early/tus_offset.locs"
		o=('request = "PATCH"' \
		    "data-binary = \"@$IT_TMP/early/body\"" \
		    'header = "Content-Type: application/offset+octet-stream"' \
		    'header = "Tus-Resumable: 1.0.0"' \
		    'header = "Upload-Offset: 5"' \
		    "header = \"Authorization: Bearer $EA_TOKEN\"")
		;;
	tus_length)
		# A creation with its upload, longer than Tus-Max-Size: 413.
		url=$url/uploads
		o=('request = "POST"' \
		    "data-binary = \"@$IT_TMP/early/body\"" \
		    'header = "Content-Type: application/offset+octet-stream"' \
		    'header = "Tus-Resumable: 1.0.0"' \
		    "header = \"Upload-Length: $((IT_MAX * 4))\"" \
		    "header = \"Authorization: Bearer $EA_TOKEN\"")
		;;
	esac
	# A connection to nginx per request, as many clients would.
	o+=('header = "Connection: close"')
	: >"$cfg"
	for i in $(seq 1 "$EA_BATCH"); do
		ea_transfer "$cfg" "$url" "$kind" "${o[@]}"
	done
	while [ "$SECONDS" -lt "$end" ]; do
		curl -sS -K "$cfg" 2>>"$IT_TMP/early/curl.err" || true
	done
}

# ea_multipart END: honest uploads, each of bytes no other has, in batches
# until SECONDS reaches END.
ea_multipart() {
	local end=$1 d=$IT_TMP/early/mp.$BASHPID n=0 i cfg
	mkdir -p "$d"
	cfg=$d/cfg
	while [ "$SECONDS" -lt "$end" ]; do
		: >"$cfg"
		for i in $(seq 1 "$EA_BATCH"); do
			n=$((n + 1))
			{
				printf 'early %s %s %s\n' "$BASHPID" "$n" "$EPOCHREALTIME"
				head -c 4096 "$IT_TMP/early/body"
			} >"$d/$n"
			ea_transfer "$cfg" "$IT_URL/service/fileupload" multipart \
			    "form = \"upfile=@$d/$n;filename=early-$n.bin\"" \
			    "header = \"Authorization: Bearer $EA_TOKEN\""
		done
		curl -sS -K "$cfg" 2>>"$IT_TMP/early/curl.err" || true
		rm -f "$d"/[0-9]*
	done
}

# ea_tus END: honest resumable uploads (a creation, then one PATCH with
# all of it) until SECONDS reaches END.
ea_tus() {
	local end=$1 f=$IT_TMP/early/tus.$BASHPID n=0 loc st
	local -a auth=(-H "Authorization: Bearer $EA_TOKEN" -H 'Tus-Resumable: 1.0.0')
	while [ "$SECONDS" -lt "$end" ]; do
		n=$((n + 1))
		{
			printf 'early tus %s %s %s\n' "$BASHPID" "$n" "$EPOCHREALTIME"
			head -c 8192 "$IT_TMP/early/body"
		} >"$f"
		st=$(curl -sS --max-time 30 -o /dev/null -D "$f.h" \
		    -w '%{http_code}' -X POST "${auth[@]}" \
		    -H "Upload-Length: $(stat -c %s "$f")" \
		    "$IT_URL/service/fileupload/uploads" 2>>"$IT_TMP/early/curl.err") || true
		printf 'tus_create %s\n' "${st:-000}"
		[ "$st" = 201 ] || continue
		loc=$(sed -n 's/^[Ll]ocation: *\([^[:space:]]*\).*/\1/p' "$f.h")
		st=$(curl -sS --max-time 30 -o /dev/null -w '%{http_code}' \
		    -X PATCH "${auth[@]}" -H 'Upload-Offset: 0' \
		    -H 'Content-Type: application/offset+octet-stream' \
		    --data-binary "@$f" "$IT_URL$loc" 2>>"$IT_TMP/early/curl.err") || true
		printf 'tus_patch %s\n' "${st:-000}"
	done
}

# ea_count TAG STATUS...: the results of TAG with one of these statuses.
ea_count() {
	local tag=$1
	shift
	awk -v t="$tag" -v want=" $* " '$1 == t && index(want, " " $2 " ") { n++ }
	    END { print n + 0 }' "$IT_TMP/early"/*.out
}

# ea_total TAG: all results of TAG.
ea_total() {
	awk -v t="$1" '$1 == t { n++ } END { print n + 0 }' "$IT_TMP/early"/*.out
}

# The sum of a metric family's series in $IT_TMP/metrics.txt.
ea_metric_sum() {
	awk -v m="$1" '$1 == m || index($1, m "{") == 1 { s += $2 }
	    END { printf "%d\n", s }' "$IT_TMP/metrics.txt"
}

# A flood of early answers beside honest clients, for EA_SECS: every honest
# request succeeds, every hostile one gets its early answer, nginx logs no
# broken upstream connection, and the connections to the workers stay
# kept (far fewer accepted than requests).
sc_early_answers_spare_other_requests() {
	local errlog=$FU_VAR/logs/nginx-error.log from end kind i tag n ok loc
	local req0 conn0 reqs conns bad=0
	local -a kids=()

	grep -Eq '^[[:space:]]*keepalive [1-9]' "$FU_CONF_DIR/fileupload-upstream.conf" ||
	    fail "nginx keeps no connection to the workers"
	grep -q 'fastcgi_keep_conn on' "$FU_CONF_DIR/fileupload-locations.conf" ||
	    fail "fastcgi_keep_conn is not on"
	fu_pool_stop 2>>"$IT_TMP/setup.log"
	FILEUPLOAD_TOKEN=$EA_TOKEN start_pool
	rm -rf "$IT_TMP/early"
	mkdir -p "$IT_TMP/early"
	head -c 65536 /dev/urandom >"$IT_TMP/early/body"
	scrape
	req0=$(ea_metric_sum fileupload_requests_total)
	conn0=$(ea_metric_sum fileupload_fastcgi_connections_total)
	from=$(($(log_lines "$errlog") + 1))

	end=$((SECONDS + EA_SECS))
	for kind in anonymous unknown tus_offset tus_length; do
		for i in $(seq 1 "$EA_HOSTILE"); do
			ea_hostile "$kind" "$end" >"$IT_TMP/early/$kind.$i.out" &
			kids+=("$!")
		done
	done
	for i in $(seq 1 "$EA_HONEST"); do
		ea_multipart "$end" >"$IT_TMP/early/multipart.$i.out" &
		kids+=("$!")
		ea_tus "$end" >"$IT_TMP/early/tus.$i.out" &
		kids+=("$!")
	done
	wait "${kids[@]}"
	while read -r loc; do
		curl -sS --max-time 10 -o /dev/null -X DELETE \
		    -H 'Tus-Resumable: 1.0.0' -H "Authorization: Bearer $EA_TOKEN" \
		    "$IT_URL$loc"
	done <"$IT_TMP/early/tus_offset.locs"

	for tag in multipart:201 tus_create:201 tus_patch:204 anonymous:401 \
	    unknown:404 tus_offset:'409 423' tus_length:413; do
		n=$(ea_total "${tag%%:*}")
		# shellcheck disable=SC2086  # the statuses are words
		ok=$(ea_count "${tag%%:*}" ${tag#*:})
		printf '    %s: %d of %d answered %s\n' "${tag%%:*}" "$ok" "$n" \
		    "${tag#*:}" | tee -a "$IT_TMP/early/summary"
		[ "$n" -gt 0 ] || fail "no ${tag%%:*} request was made"
		if [ "$ok" -ne "$n" ]; then
			bad=$((bad + n - ok))
			fail "${tag%%:*}: $((n - ok)) of $n not answered ${tag#*:}:" \
			    "$(awk -v t="${tag%%:*}" '$1 == t { print $2 }' \
			    "$IT_TMP/early"/*.out | sort | uniq -c | tr -s ' \n' ' ')"
		fi
	done
	[ "$bad" -eq 0 ] || head -n 5 "$IT_TMP/early/curl.err" | sed 's/^/    curl: /'
	! tail -n +"$from" "$errlog" | grep -m 5 'upstream' ||
	    fail "nginx logged upstream errors (above)"

	scrape
	reqs=$(($(ea_metric_sum fileupload_requests_total) - req0))
	conns=$(($(ea_metric_sum fileupload_fastcgi_connections_total) - conn0))
	printf '    the workers took %d requests on %d connections\n' \
	    "$reqs" "$conns" | tee -a "$IT_TMP/early/summary"
	[ "$reqs" -ge 500 ] || fail "only $reqs requests in ${EA_SECS} s"
	[ "$((conns * 10))" -le "$reqs" ] ||
	    fail "$conns connections for $reqs requests: not kept"

	fu_pool_stop 2>>"$IT_TMP/setup.log"
	start_pool
}
