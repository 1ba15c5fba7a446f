-- iris_ninit.lua: mixem's best log-likelihood on iris over n_init starts, for K = 1..5, the four
-- covariance types and seeds 0..SEEDS-1, as CSV lines cov,k,seed,loglik (for bench/iris_ninit.py).
local mx = require "mixem"
local path, n_init, seeds = arg[1], tonumber(arg[2]), tonumber(arg[3])
local X = mx.read_csv(path)
for _, cov in ipairs{"full", "tied", "diag", "spherical"} do
  for k = 1, 5 do
    for seed = 0, seeds - 1 do
      local m = mx.fit{data = X, family = "gaussian", covariance = cov, k = k, n_init = n_init,
                       seed = seed}
      print(string.format("%s,%d,%d,%.17g", cov, k, seed, m.loglik))
    end
  end
end
