-- Shared by the workload scripts (w1_get.lua ... w5_mixed.lua). The driver (tests/load/bench.sh)
-- passes a target's bench.env to wrk through the environment: paths, ids files and headers come
-- from there, so one script serves every target. Each script ends its run with one
-- machine-readable line on stdout, which the driver parses:
--   @bench requests=N duration_us=N p50_us=N p99_us=N p999_us=N connect=N read=N write=N status=N timeout=N
-- wrk counts in `status` the responses whose status is above 399; counting every non-2xx answer
-- in response() would run Lua on every response and slow the load generator down.
local common = {}

-- Stops wrk before it measures anything, with the reason on stderr.
local function stop(format, ...)
  io.stderr:write("wrk workload: " .. string.format(format, ...) .. "\n")
  os.exit(2)
end

-- The value of an environment variable the workload cannot run without.
function common.required(name)
  local value = os.getenv(name)
  if value == nil or value == "" then stop("%s is not set (the driver passes bench.env)", name) end
  return value
end

-- "Name: value|Other: value" (bench.env's HEADERS and AUTH_HEADERS) added to a header table.
function common.add_headers(into, spec)
  if spec == nil or spec == "" then return into end
  for item in string.gmatch(spec, "[^|]+") do
    local name, value = string.match(item, "^%s*([^:]-)%s*:%s*(.-)%s*$")
    if name == nil or name == "" then stop("malformed header '%s'", item) end
    into[name] = value
  end
  return into
end

-- The lines of an ids file; an empty or missing file stops the run before it measures nothing.
function common.load_ids(path)
  local ids = {}
  local file = io.open(path, "r")
  if file == nil then stop("cannot read the ids file %s", path) end
  for line in file:lines() do
    if line ~= "" then ids[#ids + 1] = line end
  end
  file:close()
  if #ids == 0 then stop("no ids in %s", path) end
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

-- A workload that draws ids at random: wrk's setup, init and done callbacks, set as globals
-- (the script and this module share wrk's global table).
function common.random_workload()
  setup = common.setup
  init = function(args) common.seed() end
  done = common.done
end

-- A function building a GET of the path template in environment variable `path_name`, with
-- {id} drawn from the ids file named by `ids_name`, sending HEADERS and, when `auth_name` is
-- given, the headers of that environment variable as well (which must be set).
function common.random_get(path_name, ids_name, auth_name)
  local path = common.required(path_name)
  local ids = common.load_ids(common.required(ids_name))
  local headers = common.add_headers({}, os.getenv("HEADERS"))
  if auth_name ~= nil then common.add_headers(headers, common.required(auth_name)) end
  return function()
    return wrk.format("GET", common.with_random_id(path, ids), headers)
  end
end

-- A workload sending the same request every time (wrk then calls no Lua per request):
-- `method` to the path in environment variable `path_name`, with HEADERS and, when given, the
-- body in environment variable `body_name` as JSON. Sets wrk's request and the setup and done
-- callbacks.
function common.fixed_request(method, path_name, body_name)
  wrk.method = method
  wrk.path = common.required(path_name)
  if body_name ~= nil then
    wrk.body = common.required(body_name)
    wrk.headers["Content-Type"] = "application/json"
  end
  common.add_headers(wrk.headers, os.getenv("HEADERS"))
  setup = common.setup
  done = common.done
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
