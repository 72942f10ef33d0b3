-- bench/wrk/create.lua - wrk script: POST one new record per request, the
-- same JSON body each time (the server generates id, created, updated).
--
--   wrk -s create.lua http://127.0.0.1:PORT/api/collections/posts/records -- BODY_FILE
--
-- BODY_FILE is bench/fixtures/post.json, the body run.sh also sends once
-- to check each server's answer before timing. The request is built once
-- per thread in init(); request() only returns it.
local req

function init(args)
	local file = args[1]
	if file == nil then
		error("usage: wrk -s create.lua URL -- BODY_FILE")
	end
	local f = assert(io.open(file, "rb"))
	local body = f:read("*a"):gsub("%s+$", "")
	f:close()
	req = wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, body)
end

function request()
	return req
end
