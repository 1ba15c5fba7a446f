-- csv_speed.lua: how fast mixem reads CSV.  Prints "MB/s rows columns" for FILE (best of 3).
-- Usage: mixem run bench/csv_speed.lua FILE
local mx = require "mixem"
local path = arg[1]
local size = assert(io.open(path, "rb")):seek("end")
local best = math.huge
local X
for _ = 1, 3 do
  local t0 = os.clock()
  X = mx.read_csv(path)
  best = math.min(best, os.clock() - t0)
  X = nil
  collectgarbage()
end
X = mx.read_csv(path)
print(string.format("%.1f %d %d", size / 1e6 / best, #X, X:cols()))
