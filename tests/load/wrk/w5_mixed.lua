-- W5: 70% W1 (GET a random post) and 30% W3 (create a post), drawn per request.
local dir = string.match(debug.getinfo(1, "S").source, "^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")

local get = common.random_get("GET_PATH", "IDS_FILE")
local create_path = common.required("CREATE_PATH")
local create_body = common.required("CREATE_BODY")
local create_headers = common.add_headers({["Content-Type"] = "application/json"},
                                          os.getenv("HEADERS"))

common.random_workload()

function request()
  if math.random() < 0.7 then return get() end
  return wrk.format("POST", create_path, create_headers, create_body)
end
