-- W1: GET one post by an id drawn at random from IDS_FILE (GET_PATH, {id} replaced).
-- Also the static-file ceiling's script, with a GET_PATH that the ceiling's nginx serves.
local dir = string.match(debug.getinfo(1, "S").source, "^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")

local get_path = common.required("GET_PATH")
local ids = common.load_ids(common.required("IDS_FILE"))
local headers = common.add_headers({}, os.getenv("HEADERS"))

setup = common.setup
done = common.done

function init(args)
  common.seed()
end

function request()
  return wrk.format("GET", common.with_random_id(get_path, ids), headers)
end
