-- wrk script: every request creates a new organisation with a unique slug.
--   wrk -t2 -c32 -d10s --latency -s tests/load/create_org.lua http://127.0.0.1:8090
local counter = 0
local next_thread = 0

function setup(thread)
  thread:set("tid", next_thread)
  next_thread = next_thread + 1
end

function init(args)
  math.randomseed(os.time() + (tid or 0))
end

function request()
  counter = counter + 1
  local body = string.format('{"slug":"o%d-%d-%d","name":"Load test"}',
                             tid or 0, counter, math.random(1, 1000000000))
  return wrk.format("POST", "/api/v1/orgs", {["Content-Type"] = "application/json"}, body)
end
