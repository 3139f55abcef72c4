-- W3: POST CREATE_BODY to CREATE_PATH, a durable create, the same body every time: wrk sends
-- it without calling Lua per request.
local dir = string.match(debug.getinfo(1, "S").source, "^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")

common.fixed_request("POST", "CREATE_PATH", "CREATE_BODY")
