-- iris_ninit.lua: mixem's best log-likelihood on iris over n_init k-means starts, for K = 1..5
-- and the four covariance types, as CSV (used by bench/iris_ninit.py).
local mx = require "mixem"
local path, n_init = arg[1], tonumber(arg[2])
local X = mx.read_csv(path)
for _, cov in ipairs{"full", "tied", "diag", "spherical"} do
  for k = 1, 5 do
    local m = mx.fit{data = X, family = "gaussian", covariance = cov, k = k, n_init = n_init, seed = 0}
    print(string.format("%s,%d,%.17g", cov, k, m.loglik))
  end
end
