-- W0: GET FLOOR_PATH, the target's health route (no store, a constant answer): what its HTTP
-- stack costs before any work, the floor under every other workload.
local dir = string.match(debug.getinfo(1, "S").source, "^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")

common.fixed_request("GET", "FLOOR_PATH")
