-- tests/bench/report.lua: the reporter of the wrk scripts (status.lua,
-- upload.lua), the line run.sh parses.  Each thread counts the answers
-- whose status is not the script's global `expected`; done() prints
--	BENCH requests=N seconds=S rps=R p50_us=L p99_us=L NAME=N last_NAME=S socket_errors=N
-- (NAME: the count's name given to use; last_NAME: the last unexpected
-- status, 0 if none).  wrk loads a script once per thread and once more
-- for setup and done: each copy loads this file with dofile, next to the
-- script (see the scripts' first lines).

local report = {}

-- report.use(name): setup, response and done are the reporter's; setup
-- also numbers the threads (the global `tid` of each, from 1).
function report.use(name)
	local threads = {}

	unexpected = 0
	last_bad = 0

	function setup(thread)
		thread:set("tid", #threads + 1)
		table.insert(threads, thread)
	end

	function response(status, hdrs, body)
		if status ~= expected then
			unexpected = unexpected + 1
			last_bad = status
		end
	end

	function done(summary, latency, requests)
		local n, last = 0, 0
		for _, t in ipairs(threads) do
			n = n + t:get("unexpected")
			if t:get("last_bad") ~= 0 then
				last = t:get("last_bad")
			end
		end
		local secs = summary.duration / 1e6
		io.write(string.format("BENCH requests=%d seconds=%.3f rps=%.1f " ..
		    "p50_us=%d p99_us=%d %s=%d last_%s=%d socket_errors=%d\n",
		    summary.requests, secs, summary.requests / secs,
		    latency:percentile(50), latency:percentile(99), name, n,
		    name, last,
		    summary.errors.connect + summary.errors.read +
		    summary.errors.write + summary.errors.timeout))
	end
end

return report
