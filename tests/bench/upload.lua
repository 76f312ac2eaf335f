-- tests/bench/upload.lua: wrk script for the small-upload figure of
-- tests/bench/run.sh.  Every request is a multipart/form-data POST of one
-- "upfile" part of SIZE bytes (default 4096) whose content is unique:
-- the run's nonce, the thread's number, a per-thread counter and a random
-- number lead the part, the rest is drawn once per thread: random bytes
-- (KIND "random", the default) or lines of random lowercase letters
-- ("text": libmagic takes far longer over text than over binary data).
--
--	wrk -t2 -c16 -d10s --latency -s upload.lua URL -- NONCE [SIZE [KIND [STATUS]]]
--
-- Counts the answers that are not STATUS (default 201; the null FastCGI
-- ceiling answers 200) and prints, in done(), one line for run.sh to
-- parse (report.lua):
--	BENCH requests=N seconds=S rps=R p50_us=L p99_us=L non201=N ...

-- report.lua sits next to this script, whatever the working directory.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or ""
dofile(here .. "report.lua").use("non201")

function init(args)
	nonce = args[1] or tostring(os.time())
	size = tonumber(args[2] or "4096")
	kind = args[3] or "random"
	expected = tonumber(args[4] or "201")
	counter = 0
	math.randomseed(os.time() * 1000 + tid)
	local bytes = {}
	for i = 1, size do
		if kind == "text" then
			bytes[i] = i % 64 == 0 and "\n" or
			    string.char(math.random(97, 122))
		else
			bytes[i] = string.char(math.random(0, 255))
		end
	end
	filler = table.concat(bytes)
	boundary = "----fileuploadbench" .. nonce .. "x" .. tid
	headers = {
		["Content-Type"] = "multipart/form-data; boundary=" .. boundary
	}
	-- BENCH_TOKEN in the environment: sent as a bearer token.
	local token = os.getenv("BENCH_TOKEN")
	if token ~= nil and token ~= "" then
		headers["Authorization"] = "Bearer " .. token
	end
	head = "--" .. boundary .. "\r\n" ..
	    "Content-Disposition: form-data; name=\"upfile\"; " ..
	    "filename=\"bench." .. (kind == "text" and "txt" or "bin") ..
	    "\"\r\n" ..
	    "Content-Type: application/octet-stream\r\n\r\n"
	tail = "\r\n--" .. boundary .. "--\r\n"
end

function request()
	counter = counter + 1
	local id = string.format("%s-%d-%d-%d|", nonce, tid, counter,
	    math.random(0, 2147483647))
	local content = id .. string.sub(filler, #id + 1)
	return wrk.format("POST", nil, headers, head .. content .. tail)
end
