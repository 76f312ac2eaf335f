-- tests/bench/status.lua: wrk script for the GET figures and ceilings of
-- tests/bench/run.sh: the same request every time, and a count of the
-- answers whose status is not EXPECTED (default 200).
--
--	wrk -t2 -c16 -d10s --latency -s status.lua URL -- [EXPECTED]
--
-- done() prints one line for run.sh to parse (report.lua):
--	BENCH requests=N seconds=S rps=R p50_us=L p99_us=L bad=N ...

-- report.lua sits next to this script, whatever the working directory.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or ""
dofile(here .. "report.lua").use("bad")

-- BENCH_TOKEN in the environment: sent as a bearer token.
local token = os.getenv("BENCH_TOKEN")
if token ~= nil and token ~= "" then
	wrk.headers["Authorization"] = "Bearer " .. token
end

function init(args)
	expected = tonumber(args[1] or "200")
end
