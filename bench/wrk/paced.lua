-- bench/wrk/paced.lua - wrk script: the URL's GET, at most one request per
-- MS milliseconds per connection (wrk waits that long after each answer
-- before sending the next; latency is timed from the send, so the pause is
-- not in it).
--
--   wrk -c1 --latency -s paced.lua http://127.0.0.1:PORT/api/health -- MS
local pause = 10

function init(args)
	pause = tonumber(args[1] or "10")
	if pause == nil or pause < 0 then
		error("usage: wrk -s paced.lua URL -- MS")
	end
end

function delay()
	return pause
end
