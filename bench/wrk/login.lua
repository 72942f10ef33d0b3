-- bench/wrk/login.lua - wrk script: one password login per request, as a
-- member drawn at random from member1@example.com .. member<N>@example.com
-- (bench/seed.c's e-mails; every member has the same password).
--
--   wrk -s login.lua http://127.0.0.1:PORT/api/collections/members/auth-with-password -- N PASSWORD
--
-- Every thread builds its N requests once in init() and then only picks
-- one per call. The time of every successful login is noted (the first
-- field of /proc/uptime: seconds since boot, to 10 ms; wrk gives Lua no
-- clock of its own), and done() prints them as "AT <seconds>" lines, so
-- run.sh can take the logins of a window that starts after the storm's
-- ramp.
local reqs = {}
local n = 0
local threads = {}
done_at = {}

function setup(thread)
	threads[#threads + 1] = thread
	thread:set("tid", #threads)
end

function init(args)
	n = tonumber(args[1] or "")
	local password = args[2]
	if n == nil or n < 1 or password == nil or password:find('["\\]') then
		error("usage: wrk -s login.lua URL -- N PASSWORD (no quote or backslash in it)")
	end
	local headers = { ["Content-Type"] = "application/json" }
	for k = 1, n do
		local body = '{"identity":"member' .. k .. '@example.com","password":"' .. password .. '"}'
		reqs[k] = wrk.format("POST", nil, headers, body)
	end
	math.randomseed(n + (tid or 0) * 7919)
end

function request()
	return reqs[math.random(n)]
end

function response(status, headers, body)
	if status == 200 then
		local f = io.open("/proc/uptime", "r")
		if f then
			done_at[#done_at + 1] = f:read("*n")
			f:close()
		end
	end
end

function done(summary, latency, requests)
	for _, thread in ipairs(threads) do
		for _, t in ipairs(thread:get("done_at") or {}) do
			io.write(string.format("AT %.2f\n", t))
		end
	end
end
