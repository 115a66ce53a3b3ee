-- wrk script for bench/portal_load.py: GET /notice, rotating among verified
-- session cookies (one per line in the file given after "--").
local cookies = {}
local position = 0

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then cookies[#cookies + 1] = line end
  end
  position = math.random(#cookies)
end

function request()
  position = position % #cookies + 1
  return wrk.format("GET", "/notice", { ["Cookie"] = cookies[position] })
end
