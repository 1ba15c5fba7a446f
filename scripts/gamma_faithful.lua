-- gamma_faithful.lua: gamma mixtures on Old Faithful (272 eruptions: eruption time and waiting
-- time to the next eruption, minutes; R's `faithful`).  Selects K = 1..5 by BIC (mx.select),
-- beside Gaussian mixtures with diagonal covariances (the same independence within a component),
-- prints the chosen gamma fit as a table (shape, rate, mean and standard deviation of each
-- column and component), and a text histogram of the waiting times with the counts the fitted
-- mixture expects per bin; then the waiting times alone, K by BIC again, drawn as fitted densities
-- over their histogram.  Draws faithful_gamma_clusters.png, faithful_gamma_select.png and
-- faithful_gamma_waiting.png.
-- Usage: mixem run scripts/gamma_faithful.lua [N_INIT]
local mx = require "mixem"

local here = arg and arg[0] and arg[0]:match("^(.*)/[^/]*$") or "."
local X = mx.read_csv(here .. "/../data/faithful.csv")
local n_init = tonumber(arg[1]) or 5
local names = X:names()

local r = mx.select{data = X, family = "gamma", k = {1, 2, 3, 4, 5}, n_init = n_init, seed = 0,
                    criterion = "bic"}
local g = mx.select{data = X, family = "gaussian", covariance = "diag", k = {1, 2, 3, 4, 5},
                    n_init = n_init, seed = 0, criterion = "bic"}
print(string.format("%d eruptions, columns %s and %s (minutes)", #X, names[1], names[2]))
print("BIC (-2 log-likelihood + parameters * log N; lower is better):")
print(string.format("%3s  %14s  %14s", "K", "gamma", "gaussian diag"))
for i, c in ipairs(r.candidates) do
  print(string.format("%3d  %14.3f  %14.3f", c.k, c.bic, g.candidates[i].bic))
end
local m = r.model
print(string.format("Lowest BIC for gamma: K = %d (%.3f); for the diagonal Gaussian: K = %d (%.3f)\n",
                    m.k, r.candidates[r.best].bic, g.model.k, g.candidates[g.best].bic))

print(string.format("The gamma mixture with K = %d (log-likelihood %.4f):", m.k, m.loglik))
print(string.format("%4s %7s  %-10s %10s %10s %9s %9s", "comp", "weight", "column", "shape", "rate",
                    "mean", "sd"))
for k = 1, m.k do
  local c = m.components[k]
  for j = 1, #names do
    local a, b = c.shape[j], c.rate[j]
    print(string.format("%4s %7s  %-10s %10.3f %10.4f %9.3f %9.3f", j == 1 and k or "",
                        j == 1 and string.format("%.4f", m.weights[k]) or "", names[j], a, b, a / b,
                        math.sqrt(a) / b))
  end
end

-- The marginal of the waiting times: sum_k w_k Gamma(shape_k2, rate_k2), against a histogram.
local function gamma_pdf(x, a, b)
  return math.exp(a * math.log(b) - mx.lgamma(a) + (a - 1) * math.log(x) - b * x)
end
local col, width = 2, 5
local count, lo = {}, 40
for _, v in ipairs(X:column(col)) do
  local bin = math.floor((v - lo) / width)
  count[bin] = (count[bin] or 0) + 1
end
print(string.format("\n%s: observed count per %d-minute bin (#) and the count the mixture expects", names[col], width))
for bin = 0, 11 do
  local a0, expect, steps = lo + bin * width, 0, 50
  for s = 0, steps - 1 do           -- the midpoint rule on the bin
    local x = a0 + (s + 0.5) * width / steps
    for k = 1, m.k do
      local c = m.components[k]
      expect = expect + m.weights[k] * gamma_pdf(x, c.shape[col], c.rate[col]) * width / steps
    end
  end
  expect = expect * #X
  print(string.format("%3d-%-3d %3d %6.1f  %s", a0, a0 + width, count[bin] or 0, expect,
                      string.rep("#", count[bin] or 0)))
end

-- The waiting times alone: a one-column gamma mixture, whose densities can be drawn.
local W = mx.read_csv(here .. "/../data/faithful.csv", {columns = {"waiting"}})
local rw = mx.select{data = W, family = "gamma", k = {1, 2, 3, 4}, n_init = n_init, seed = 0}
local mw = rw.model
print(string.format("\nWaiting times alone: lowest BIC at K = %d (%.3f)", mw.k, rw.candidates[rw.best].bic))
for k = 1, mw.k do
  local a, b = mw.components[k].shape[1], mw.components[k].rate[1]
  print(string.format("  component %d: weight %.4f, shape %.3f, rate %.4f, mean %.2f, sd %.2f", k,
                      mw.weights[k], a, b, a / b, math.sqrt(a) / b))
end

mx.plot.clusters(m, X, "faithful_gamma_clusters.png")
mx.plot.select(r, "faithful_gamma_select.png")
mx.plot.density(mw, W, "faithful_gamma_waiting.png")
print("\nPictures: faithful_gamma_clusters.png, faithful_gamma_select.png, faithful_gamma_waiting.png")
