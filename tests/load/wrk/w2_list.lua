-- W2: the first page of 20 published posts sorted by views descending (LIST_PATH), the same
-- request every time: wrk sends it without calling Lua per request.
local dir = string.match(debug.getinfo(1, "S").source, "^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")

common.fixed_request("GET", "LIST_PATH")
