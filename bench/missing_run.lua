-- missing_run.lua: bench/missing.sh's driver.  Fits DIR/NAME.npy (NaN: missing) from
-- DIR/NAME_init.json for ITERS iterations with no early stop on THREADS threads and prints
-- "seconds_per_iteration mean_loglik iterations patterns".
-- Usage: mixem run bench/missing_run.lua DIR NAME THREADS ITERS
local mx = require "mixem"
local dir, name = arg[1], arg[2]
local threads, iters = tonumber(arg[3]), tonumber(arg[4])
local X = mx.read_npy(dir .. "/" .. name .. ".npy", {allow_missing = true})
local init = mx.load(dir .. "/" .. name .. "_init.json")
local opts = {data = X, family = init.family, k = init.k, init = init, max_iter = iters, tol = 0,
              threads = threads, quiet = true}
for key, v in pairs(init.options) do opts[key] = v end
local m = mx.fit(opts)
local secs = 0
for _, it in ipairs(m.trace) do secs = secs + it.seconds end
local info = X:missing()
print(string.format("%.6f %.12g %d %d", secs / #m.trace, m.loglik / #X, #m.trace, info.patterns))
