-- bench/wrk/view.lua - wrk script: GET one record by id, ids drawn at random
-- from a file with one id per line (written by `hearth-bench seed --ids`).
--
--   wrk -s view.lua http://127.0.0.1:PORT -- IDS_FILE /api/collections/posts/records/
--
-- Every thread builds its requests once in init() and then only picks one
-- per call, so the client spends its time on the network, not in Lua.
local reqs = {}
local n = 0
local threads = 0

-- Runs in the main Lua state once per thread: number the threads.
function setup(thread)
	threads = threads + 1
	thread:set("tid", threads)
end

function init(args)
	local file, prefix = args[1], args[2]
	if file == nil or prefix == nil then
		error("usage: wrk -s view.lua URL -- IDS_FILE PATH_PREFIX")
	end
	for id in io.lines(file) do
		if id ~= "" then
			n = n + 1
			reqs[n] = wrk.format("GET", prefix .. id)
		end
	end
	if n == 0 then
		error("view.lua: no ids in " .. file)
	end
	-- Different threads, different sequences; the same run to run.
	math.randomseed(n + (tid or 0) * 7919)
end

function request()
	return reqs[math.random(n)]
end
