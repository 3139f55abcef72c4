-- W2: the first page of 20 published posts sorted by views descending (LIST_PATH), the same
-- request every time: wrk sends it without calling Lua per request.
local dir = string.match(debug.getinfo(1, "S").source, "^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")

wrk.method = "GET"
wrk.path = common.required("LIST_PATH")
common.add_headers(wrk.headers, os.getenv("HEADERS"))

setup = common.setup
done = common.done
