-- wrk script for bench/serve-ranges: GET ranges of one file with a download token.
-- Environment: BENCH_PATH (URL path), BENCH_TOKEN, BENCH_FILE_SIZE, BENCH_RANGE (bytes).
local path = os.getenv("BENCH_PATH")
local token = os.getenv("BENCH_TOKEN")
local size = tonumber(os.getenv("BENCH_FILE_SIZE"))
local range = tonumber(os.getenv("BENCH_RANGE"))
local slots = math.floor(size / range)
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("seed", counter * 104729)
end

function init(args)
  counter = seed or 0
end

request = function()
  counter = counter + 1
  local first = ((counter * 7919) % slots) * range
  return wrk.format("GET", path, {
    ["Range"] = "bytes=" .. first .. "-" .. (first + range - 1),
    ["Authorization"] = "Bearer " .. token,
  })
end
