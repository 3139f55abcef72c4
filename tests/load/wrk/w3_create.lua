-- W3: POST CREATE_BODY to CREATE_PATH, a durable create, the same body every time: wrk sends
-- it without calling Lua per request.
local dir = string.match(debug.getinfo(1, "S").source, "^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")

wrk.method = "POST"
wrk.path = common.required("CREATE_PATH")
wrk.body = common.required("CREATE_BODY")
wrk.headers["Content-Type"] = "application/json"
common.add_headers(wrk.headers, os.getenv("HEADERS"))

setup = common.setup
done = common.done
