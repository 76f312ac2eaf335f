-- tests/bench/status.lua: wrk script for the GET figures and ceilings of
-- tests/bench/run.sh: the same request every time, and a count of the
-- answers whose status is not EXPECTED (default 200).
--
--	wrk -t2 -c16 -d10s --latency -s status.lua URL -- [EXPECTED]
--
-- done() prints one line for run.sh to parse:
--	BENCH requests=N seconds=S rps=R p50_us=L p99_us=L bad=N ...

local threads = {}

-- BENCH_TOKEN in the environment: sent as a bearer token.
local token = os.getenv("BENCH_TOKEN")
if token ~= nil and token ~= "" then
	wrk.headers["Authorization"] = "Bearer " .. token
end

function setup(thread)
	table.insert(threads, thread)
end

function init(args)
	expected = tonumber(args[1] or "200")
	bad = 0
	last_bad = 0
end

function response(status, hdrs, body)
	if status ~= expected then
		bad = bad + 1
		last_bad = status
	end
end

function done(summary, latency, requests)
	local n, last = 0, 0
	for _, t in ipairs(threads) do
		n = n + t:get("bad")
		if t:get("last_bad") ~= 0 then
			last = t:get("last_bad")
		end
	end
	local secs = summary.duration / 1e6
	io.write(string.format("BENCH requests=%d seconds=%.3f rps=%.1f " ..
	    "p50_us=%d p99_us=%d bad=%d last_bad=%d socket_errors=%d\n",
	    summary.requests, secs, summary.requests / secs,
	    latency:percentile(50), latency:percentile(99), n, last,
	    summary.errors.connect + summary.errors.read +
	    summary.errors.write + summary.errors.timeout))
end
