-- W1: GET one post by an id drawn at random from IDS_FILE (GET_PATH, {id} replaced).
-- Also the static-file ceiling's script, with a GET_PATH that the ceiling's nginx serves.
local dir = string.match(debug.getinfo(1, "S").source, "^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")

request = common.random_get("GET_PATH", "IDS_FILE")
common.random_workload()
