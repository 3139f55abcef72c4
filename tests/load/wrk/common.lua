-- Shared by the workload scripts (w1_get.lua ... w5_mixed.lua). The driver (tests/load/bench.sh)
-- passes a target's bench.env to wrk through the environment: paths, ids files and headers come
-- from there, so one script serves every target. Each script ends its run with one
-- machine-readable line on stdout, which the driver parses:
--   @bench requests=N duration_us=N p50_us=N p99_us=N p999_us=N connect=N read=N write=N status=N timeout=N
-- wrk counts in `status` the responses whose status is above 399; counting every non-2xx answer
-- in response() would run Lua on every response and slow the load generator down.
local common = {}

-- The value of an environment variable the workload cannot run without.
function common.required(name)
  local value = os.getenv(name)
  if value == nil or value == "" then
    io.stderr:write(string.format("wrk workload: %s is not set (the driver passes bench.env)\n", name))
    os.exit(2)
  end
  return value
end

-- "Name: value|Other: value" (bench.env's HEADERS and AUTH_HEADERS) added to a header table.
function common.add_headers(into, spec)
  if spec == nil or spec == "" then return into end
  for item in string.gmatch(spec, "[^|]+") do
    local name, value = string.match(item, "^%s*([^:]-)%s*:%s*(.-)%s*$")
    if name == nil or name == "" then
      io.stderr:write(string.format("wrk workload: malformed header '%s'\n", item))
      os.exit(2)
    end
    into[name] = value
  end
  return into
end

-- The lines of an ids file; an empty or missing file stops the run before it measures nothing.
function common.load_ids(path)
  local ids = {}
  local file = io.open(path, "r")
  if file == nil then
    io.stderr:write(string.format("wrk workload: cannot read the ids file %s\n", path))
    os.exit(2)
  end
  for line in file:lines() do
    if line ~= "" then ids[#ids + 1] = line end
  end
  file:close()
  if #ids == 0 then
    io.stderr:write(string.format("wrk workload: no ids in %s\n", path))
    os.exit(2)
  end
  return ids
end

-- A path template with {id} replaced by an id drawn at random (the id is literal text, not a
-- gsub pattern: '%' in a replacement string would be special).
function common.with_random_id(template, ids)
  local id = ids[math.random(1, #ids)]
  local at = string.find(template, "{id}", 1, true)
  if at == nil then return template end
  return string.sub(template, 1, at - 1) .. id .. string.sub(template, at + 4)
end

-- Gives each wrk thread its own random sequence: threads created in the same second would
-- otherwise draw the same ids in the same order.
local thread_count = 0
function common.setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_number", thread_count)
end

function common.seed()
  math.randomseed(os.time() * 1000 + (thread_number or 0) * 7919)
  -- LuaJIT's first draws after seeding are poorly spread.
  for _ = 1, 10 do math.random() end
end

function common.done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    "@bench requests=%d duration_us=%d p50_us=%.0f p99_us=%.0f p999_us=%.0f " ..
    "connect=%d read=%d write=%d status=%d timeout=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency:percentile(99.9), errors.connect, errors.read, errors.write, errors.status,
    errors.timeout))
end

return common
