-- kmeans_vs_gmm.lua: the classic case where k-means goes wrong and a Gaussian mixture does not:
-- a large, elongated cluster beside a small, tight one.  k-means prefers clusters of equal size
-- and round shape, so it cuts the long cluster and hands part of it to the small one; the mixture
-- models size (weights) and shape (covariances).  Prints each partition's agreement with the truth.
-- Usage: mixem run scripts/kmeans_vs_gmm.lua [SEED]
local mx = require "mixem"
local seed = tonumber(arg[1]) or 1

-- The truth: 90% of the points in a long diagonal cloud, 10% in a tight blob near its end.
local truth_model = mx.model{
  family = "gaussian", weights = {0.9, 0.1},
  components = {{mean = {0, 0}, cov = {{9, 4.2}, {4.2, 2.2}}},
                {mean = {4, -2.5}, cov = {{0.15, 0}, {0, 0.15}}}},
}
local X, truth = truth_model:sample(1000, seed)
local km = mx.kmeans(X, 2, {seed = seed})
local gmm = mx.fit{data = X, family = "gaussian", covariance = "full", k = 2, n_init = 5, seed = seed}
local gl = gmm:predict(X)

local function sizes(labels)
  local c = {0, 0}
  for _, l in ipairs(labels) do c[l] = c[l] + 1 end
  return string.format("%d / %d", c[1], c[2])
end

print(string.format("%d points, %s in the long cloud / the small blob", #X, sizes(truth)))
print(string.format("%-28s %-12s %s", "", "sizes", "adjusted Rand index vs truth"))
print(string.format("%-28s %-12s %.3f", "k-means (Lloyd, k-means++)", sizes(km), mx.adjusted_rand_index(km, truth)))
print(string.format("%-28s %-12s %.3f", "Gaussian mixture (full)", sizes(gl), mx.adjusted_rand_index(gl, truth)))
print("\nThe mixture's weights: " .. string.format("%.3f, %.3f", gmm.weights[1], gmm.weights[2]) ..
      " (truth 0.9, 0.1).")
