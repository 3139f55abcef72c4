-- W4: GET one of the signed-in user's records by an id drawn at random from AUTH_IDS_FILE
-- (AUTH_GET_PATH), authenticated by AUTH_HEADERS; the target's rule lets only the record's
-- author read it.
local dir = string.match(debug.getinfo(1, "S").source, "^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")

local get_path = common.required("AUTH_GET_PATH")
local ids = common.load_ids(common.required("AUTH_IDS_FILE"))
local headers = common.add_headers({}, os.getenv("HEADERS"))
common.add_headers(headers, common.required("AUTH_HEADERS"))

setup = common.setup
done = common.done

function init(args)
  common.seed()
end

function request()
  return wrk.format("GET", common.with_random_id(get_path, ids), headers)
end
