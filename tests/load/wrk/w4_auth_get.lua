-- W4: GET one of the signed-in user's records by an id drawn at random from AUTH_IDS_FILE
-- (AUTH_GET_PATH), authenticated by AUTH_HEADERS; the target's rule lets only the record's
-- author read it.
local dir = string.match(debug.getinfo(1, "S").source, "^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")

request = common.random_get("AUTH_GET_PATH", "AUTH_IDS_FILE", "AUTH_HEADERS")
common.random_workload()
