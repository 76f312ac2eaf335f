-- tests/bench/upload_count.lua: upload.lua that stops after a number of
-- answers: each thread stops once it has seen PER_THREAD of them, so
-- wrk -tT sends T * PER_THREAD uploads (give -d as a mere bound).
--
--	wrk -t2 -c16 -d120s -s upload_count.lua URL -- NONCE SIZE KIND STATUS PER_THREAD
--
-- The answers still in flight when a thread stops are not counted here;
-- tests/bench/upload_cost.sh counts the uploads by the rows they added.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or ""
dofile(here .. "upload.lua")

local upload_init, upload_response = init, response

function init(args)
	limit = tonumber(args[5] or "1000")
	seen = 0
	upload_init(args)
end

function response(status, hdrs, body)
	upload_response(status, hdrs, body)
	seen = seen + 1
	if seen >= limit then
		wrk.thread:stop()
	end
end
