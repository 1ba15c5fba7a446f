-- iris.lua: Gaussian mixtures on Fisher's iris (150 flowers, 4 measurements in cm).
-- Fits K = 3 with full covariances, prints the parameters, a BIC table over K = 1..6 and the four
-- covariance types, and the adjusted Rand index of the clusters against the three species; draws
-- the clusters and the BIC curves to iris_*.png in the current folder.
-- Usage: mixem run scripts/iris.lua [N_INIT]
local mx = require "mixem"

local here = arg and arg[0] and arg[0]:match("^(.*)/[^/]*$") or "."
local X = mx.read_csv(here .. "/../data/iris.csv")
local species = mx.read_csv(here .. "/../data/iris_labels.csv"):column(1)
local n_init = tonumber(arg[1]) or 5

local m = mx.fit{data = X, family = "gaussian", covariance = "full", k = 3, n_init = n_init, seed = 0}
print("K = 3, full covariances, best of " .. n_init .. " k-means starts:")
print(m)

local truth = {}
for i, s in ipairs(species) do truth[i] = math.floor(s) + 1 end
print(string.format("Adjusted Rand index against the species: %.4f", mx.adjusted_rand_index(m:predict(X), truth)))
print("(1 is the species partition exactly, about 0 is no better than chance.)\n")

local types = {"full", "tied", "diag", "spherical"}
local r = mx.select{data = X, family = "gaussian", k = {1, 2, 3, 4, 5, 6}, covariance = types,
                    n_init = n_init, seed = 0, criterion = "bic"}
local bic = {}
for _, c in ipairs(r.candidates) do bic[c.k .. c.options.covariance] = c.bic end
print("BIC (scikit-learn's sign: -2 log-likelihood + parameters * log N; lower is better):")
io.write(string.format("%3s", "K"))
for _, t in ipairs(types) do io.write(string.format("  %12s", t)) end
io.write("\n")
for k = 1, 6 do
  io.write(string.format("%3d", k))
  for _, t in ipairs(types) do io.write(string.format("  %12.3f", bic[k .. t])) end
  io.write("\n")
end
local best = r.candidates[r.best]
print(string.format("Lowest BIC: K = %d with %s covariances (%.3f).", best.k,
                    best.options.covariance, best.bic))
print("(mclust reports BIC with the opposite sign, higher being better.)")

-- Pictures, written to the current folder.
mx.plot.clusters(m, X, "iris_clusters.png")
mx.plot.clusters(m, X, "iris_petals.png", {x = "Petal.Length", y = "Petal.Width"})
mx.plot.select(r, "iris_select.png")
print("Pictures: iris_clusters.png, iris_petals.png, iris_select.png")
