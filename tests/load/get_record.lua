-- wrk script: GET one record by an id drawn at random from a file of ids (one per line).
--   IDS=/tmp/ids.txt PROJECT=bench wrk -t2 -c32 -d15s --latency -s tests/load/get_record.lua URL
local ids = {}
for line in io.lines(os.getenv("IDS")) do ids[#ids + 1] = line end
local base = "/p/" .. (os.getenv("PROJECT") or "bench") .. "/api/collections/posts/records/"

function init(args)
  math.randomseed(os.time() + math.random(1, 1000000))
end

function request()
  return wrk.format("GET", base .. ids[math.random(1, #ids)])
end
