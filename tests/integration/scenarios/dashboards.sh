# shellcheck shell=bash
#
# Dashboards and alerts against a real Prometheus (Debian's prometheus
# package): it scrapes the running stack every second and evaluates
# conf/prometheus/fileupload-rules.yml; after uploads, downloads, a
# duplicate, a stored file missing and a resumable upload, every query of
# conf/grafana/fileupload-dashboard.json is valid there and returns series,
# the panels the traffic touched show it, every rule evaluates cleanly and
# FileuploadStoreErrors fires for the missing file.
# Sourced by tests/integration/run.sh (helpers in tests/integration/lib.sh,
# wait_for in faults.sh, tus_create and tus_patch in resumable.sh).

# Panels whose queries must show the traffic (a value above 0): the others
# may rightly read 0 (no database error, no object store here).
DASH_TOUCHED=(
	"Requests by status class" "5xx ratio" "Workers alive" "Uploads"
	"Bytes" "Upload answers by status class" "Upload latency"
	"Latency by route (95th percentile)" "Error answers by route"
	"Storage errors by kind" "Upload slots" "Request threads"
	"Health probes" "DATA_DIR free" "Resumable uploads"
	"Resumable bytes received"
	"Resumable request latency (95th percentile)"
)

# dash_query PROMQL: GET /api/v1/query into $IT_TMP/prom.json.
dash_query() {
	curl -sS --max-time 10 -o "$IT_TMP/prom.json" \
	    --data-urlencode "query=$1" "$DASH_PROM/api/v1/query"
}

dash_ready() {
	curl -fsS --max-time 2 -o /dev/null "$DASH_PROM/-/ready" 2>/dev/null
}

# dash_scraped_since T: Prometheus holds a scrape of the stack taken
# after unix time T (with its fraction: a scrape of the same second may
# precede the traffic).
dash_scraped_since() {
	dash_query "timestamp(fileupload_workers) > $1" &&
	    jq -e '.data.result | length > 0' "$IT_TMP/prom.json" >/dev/null
}

# dash_rules_evaluated: every rule evaluated at least once.
dash_rules_evaluated() {
	curl -sS --max-time 10 -o "$IT_TMP/rules.json" "$DASH_PROM/api/v1/rules" &&
	    jq -e '[.data.groups[].rules[]] | length > 0 and
	    all(.health != "unknown")' "$IT_TMP/rules.json" >/dev/null
}

dash_prometheus_stop() {
	[ -n "${DASH_PID:-}" ] || return 0
	kill "$DASH_PID" 2>/dev/null || true
	wait "$DASH_PID" 2>/dev/null || true
	DASH_PID=
}

# dash_expr EXPR: the panel's query with Grafana's variables rendered:
# every instance, a one-minute rate window (Grafana's $__rate_interval is
# at least four scrape intervals; the scrapes here are a second apart).
dash_expr() {
	# shellcheck disable=SC2016  # Grafana's variables, not the shell's
	sed -e 's/\$__rate_interval/1m/g' -e 's/\${\?__interval}\?/15s/g' \
	    -e 's/\${\?__range}\?/5m/g' -e 's/\${\?instance}\?/.*/g' <<<"$1"
}

# The traffic the panels must show: uploads and their downloads, a
# duplicate (403), a download whose stored file is missing (500, a storage
# error), a resumable upload made in two requests, and the deletes.
dash_traffic() {
	local i f h p size
	local -a hashes=()

	for i in 1 2 3; do
		f=$(new_file "dash-$i.txt" "$(head -c $((i * 3000)) /dev/zero | tr '\0' d)")
		upload "$f"
		check_status 201 "upload $i"
		h=$(jf .file_hash)
		hashes+=("$h")
		req GET "/service/fileupload/$h/content"
		check_status 200 "download $i"
	done
	upload "$IT_TMP/files/dash-1.txt" again.txt
	check_status 403 "a duplicate"

	# The stored file moved aside for one download, and back.
	p=$(stored_path "${hashes[0]}")
	mv "$p" "$IT_TMP/dash-aside"
	req GET "/service/fileupload/${hashes[0]}/content"
	mv "$IT_TMP/dash-aside" "$p"
	check_error 500 "a download with its stored file missing"

	f=$(new_file dash-tus.txt "$(head -c 5000 /dev/zero | tr '\0' t)")
	size=$(stat -c %s "$f")
	tus_create "$size" dash-tus.txt
	check_status 201 "a resumable upload created"
	tus_patch "$TUS_LOC" 0 "$f"
	check_status 204 "its bytes"
	hashes+=("$(b2 "$f")")

	for h in "${hashes[@]}"; do
		req DELETE "/service/fileupload/$h"
		check_status 201 "delete"
	done
}

# check_panel TITLE REFID EXPR: the query is valid and returns series; for
# a panel of DASH_TOUCHED, one of its queries shows a value above 0.
check_panel() {
	local title=$1 ref=$2 expr t

	expr=$(dash_expr "$3")
	case $expr in
	*'$'*) fail "$title ($ref): a variable left in: $expr"; return 0 ;;
	esac
	if ! dash_query "$expr"; then
		fail "$title ($ref): the query failed: $expr"
		return 0
	fi
	if ! jq -e '.status == "success"' "$IT_TMP/prom.json" >/dev/null; then
		fail "$title ($ref): $(jq -r '.error' "$IT_TMP/prom.json"): $expr"
		return 0
	fi
	jq -e '.data.result | length > 0' "$IT_TMP/prom.json" >/dev/null ||
	    fail "$title ($ref): no series: $expr"
	for t in "${DASH_TOUCHED[@]}"; do
		[ "$t" = "$title" ] || continue
		if jq -e '[.data.result[].value[1] | select(. != "NaN") |
		    tonumber | select(. > 0)] | length > 0' \
		    "$IT_TMP/prom.json" >/dev/null; then
			DASH_SHOWN+=("$title")
		fi
	done
}

sc_dashboard_queries() {
	local dash=$FU_ROOT/conf/grafana/fileupload-dashboard.json
	local dir=$IT_TMP/prometheus t0 title ref expr t shown
	local -a DASH_SHOWN=()

	if ! command -v prometheus >/dev/null; then
		fail "prometheus is missing (Debian's prometheus package; scripts/test installs it)"
		return 0
	fi
	check "the dashboard is JSON with panels" \
	    jq -e '.panels | length > 0' "$dash" >/dev/null
	# shellcheck disable=SC2016  # a Grafana variable
	check "every panel's data source is the DS_PROMETHEUS variable" jq -e \
	    '[.panels[] | select(.type != "row") | .datasource.uid,
	    .targets[].datasource.uid] | all(. == "${DS_PROMETHEUS}")' \
	    "$dash" >/dev/null
	check "every panel has a query" jq -e '[.panels[] |
	    select(.type != "row") | .targets | length > 0] | all' \
	    "$dash" >/dev/null
	for t in "${DASH_TOUCHED[@]}"; do
		# shellcheck disable=SC2016  # $t is jq's
		check "a panel \"$t\"" jq -e --arg t "$t" \
		    'any(.panels[]; .title == $t)' "$dash" >/dev/null
	done

	rm -rf "$dir"
	mkdir -p "$dir"
	DASH_PROM=http://127.0.0.1:$(fu_free_port $((19090 + RANDOM % 400)))
	cat >"$dir/prometheus.yml" <<-EOF
	global:
	  scrape_interval: 1s
	  evaluation_interval: 1s
	rule_files:
	  - $FU_ROOT/conf/prometheus/fileupload-rules.yml
	scrape_configs:
	  - job_name: fileupload
	    metrics_path: /service/fileupload/metrics
	    static_configs:
	      - targets: ['$FU_LISTEN']
	EOF
	trap dash_prometheus_stop EXIT
	prometheus --config.file="$dir/prometheus.yml" \
	    --storage.tsdb.path="$dir/data" \
	    --web.listen-address="${DASH_PROM#http://}" \
	    >"$dir/prometheus.log" 2>&1 &
	DASH_PID=$!
	if ! wait_for 30 dash_ready; then
		fail "prometheus did not start: $(tail -n 5 "$dir/prometheus.log")"
		return 0
	fi
	# A first scrape before the traffic, so that the rates see it.
	check "a first scrape" wait_for 20 dash_scraped_since 0

	dash_traffic
	t0=$(date +%s.%N)
	check "a scrape after the traffic" wait_for 20 dash_scraped_since "$t0"
	check "every rule evaluated" wait_for 20 dash_rules_evaluated

	while IFS=$'\t' read -r title ref expr; do
		check_panel "$title" "$ref" "$expr"
	done < <(jq -r '.panels[] | select(.type != "row") | .title as $t |
	    .targets[] | [$t, .refId, .expr] | @tsv' "$dash")
	for t in "${DASH_TOUCHED[@]}"; do
		shown=0
		for title in "${DASH_SHOWN[@]}"; do
			[ "$title" != "$t" ] || shown=1
		done
		[ "$shown" = 1 ] || fail "$t: no value above 0 after the traffic"
	done

	curl -sS --max-time 10 -o "$IT_TMP/rules.json" "$DASH_PROM/api/v1/rules"
	check "every rule evaluates cleanly: $(jq -c '[.data.groups[].rules[] |
	    select(.health != "ok") | {name, lastError}]' "$IT_TMP/rules.json")" \
	    jq -e '[.data.groups[].rules[]] | length > 0 and
	    all(.health == "ok")' "$IT_TMP/rules.json" >/dev/null
	curl -sS --max-time 10 -o "$IT_TMP/alerts.json" "$DASH_PROM/api/v1/alerts"
	check "FileuploadStoreErrors fires for the missing file: $(jq -c \
	    '.data.alerts' "$IT_TMP/alerts.json")" jq -e 'any(.data.alerts[];
	    .labels.alertname == "FileuploadStoreErrors" and
	    .labels.kind == "missing" and .state == "firing")' \
	    "$IT_TMP/alerts.json" >/dev/null
	dash_prometheus_stop
	trap - EXIT
	rm -rf "$dir"
}
