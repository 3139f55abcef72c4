-- wrk script: every request creates a post (a durable write).
--   PROJECT=bench wrk -t2 -c32 -d15s --latency -s tests/load/create_record.lua URL
local path = "/p/" .. (os.getenv("PROJECT") or "bench") .. "/api/collections/posts/records"
local counter = 0

function request()
  counter = counter + 1
  local body = string.format(
      '{"title":"Load %d","body":"Lorem ipsum dolor sit amet","views":%d,"published":%s}',
      counter, counter % 1000, counter % 2 == 0 and "true" or "false")
  return wrk.format("POST", path, {["Content-Type"] = "application/json"}, body)
end
