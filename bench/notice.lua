-- wrk script for bench/portal_load.py: GET /notice, rotating among verified
-- session cookies (one per line in the file given after "--"), and counting
-- every response that is not 200 (a lost session would be a 302 to the code page).
local cookies = {}
local position = 0
local threads = {}
not_ok = 0

function setup(thread)
  table.insert(threads, thread)
end

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

function response(status, headers, body)
  if status ~= 200 then not_ok = not_ok + 1 end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + (thread:get("not_ok") or 0) end
  io.write(string.format("Responses other than 200: %d\n", total))
end
