-- W5: 70% W1 (GET a random post) and 30% W3 (create a post), drawn per request.
local dir = string.match(debug.getinfo(1, "S").source, "^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")

local get_path = common.required("GET_PATH")
local ids = common.load_ids(common.required("IDS_FILE"))
local create_path = common.required("CREATE_PATH")
local create_body = common.required("CREATE_BODY")
local get_headers = common.add_headers({}, os.getenv("HEADERS"))
local create_headers = common.add_headers({["Content-Type"] = "application/json"},
                                          os.getenv("HEADERS"))

setup = common.setup
done = common.done

function init(args)
  common.seed()
end

function request()
  if math.random() < 0.7 then
    return wrk.format("GET", common.with_random_id(get_path, ids), get_headers)
  end
  return wrk.format("POST", create_path, create_headers, create_body)
end
