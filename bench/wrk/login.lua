-- bench/wrk/login.lua - wrk script: one password login per request, as a
-- member drawn at random from member1@example.com .. member<N>@example.com
-- (bench/seed.c's e-mails; every member has the same password).
--
--   wrk -s login.lua http://127.0.0.1:PORT/api/collections/members/auth-with-password -- N PASSWORD
--
-- Every thread builds its N requests once in init() and then only picks
-- one per call.
local reqs = {}
local n = 0
local threads = 0

function setup(thread)
	threads = threads + 1
	thread:set("tid", threads)
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
