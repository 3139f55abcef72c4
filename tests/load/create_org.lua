-- wrk script: every request creates a new organisation with a unique slug, as a signed-in
-- caller (the platform API answers nobody else). TOKEN is a superuser's platform token or a
-- member's access token (members' last 15 minutes); platform_token.sh signs a superuser in:
--   socle superuser upsert root@example.com 'a-long-password' --data-dir /tmp/bench
--   TOKEN=$(tests/load/platform_token.sh http://127.0.0.1:8090 root@example.com 'a-long-password') \
--     wrk -t2 -c32 -d10s --latency -s tests/load/create_org.lua http://127.0.0.1:8090
-- Every answer but 201 is counted and reported at the end (wrk counts only transport errors
-- and 5xx): a run whose token expired or was refused says so instead of timing 401s.
local token = os.getenv("TOKEN")
if token == nil or token == "" then
  io.stderr:write("create_org.lua: set TOKEN to a platform token (see the script's header)\n")
  os.exit(2)
end
local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}

local counter = 0
local next_thread = 0
local threads = {}

function setup(thread)
  thread:set("tid", next_thread)
  next_thread = next_thread + 1
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() + (tid or 0))
  unexpected = 0
  last_status = 0
end

function request()
  counter = counter + 1
  local body = string.format('{"slug":"o%d-%d-%d","name":"Load test"}',
                             tid or 0, counter, math.random(1, 1000000000))
  return wrk.format("POST", "/api/v1/orgs", headers, body)
end

function response(status, headers, body)
  if status ~= 201 then
    unexpected = unexpected + 1
    last_status = status
  end
end

function done(summary, latency, requests)
  local total = 0
  local status = 0
  for _, thread in ipairs(threads) do
    total = total + (thread:get("unexpected") or 0)
    local seen = thread:get("last_status") or 0
    if seen ~= 0 then status = seen end
  end
  if total > 0 then
    io.stderr:write(string.format("create_org.lua: %d answers were not 201 (the last: %d)\n",
                                  total, status))
    os.exit(1)
  end
end
