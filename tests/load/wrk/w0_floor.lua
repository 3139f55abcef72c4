-- W0: GET FLOOR_PATH, the target's health route (no store, a constant answer): what its HTTP
-- stack costs before any work, the floor under every other workload.
local dir = string.match(debug.getinfo(1, "S").source, "^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")

wrk.method = "GET"
wrk.path = common.required("FLOOR_PATH")
common.add_headers(wrk.headers, os.getenv("HEADERS"))

setup = common.setup
done = common.done
