-- regression_mixture.lua: a mixture of linear regressions (the linreg family) on mixtools'
-- tonedata (data/tonedata.csv; Cohen 1980, de Veaux 1989): a trained musician tuned a tone to sound an octave
-- above a fundamental whose overtones were stretched by `stretchratio`; `tuned` is the ratio he
-- chose.  Two lines hide in the one cloud: at times he followed the stretched overtones (tuned
-- rising with stretchratio), at times the true octave (tuned near 2).
-- Fits K = 1..4 (tuned ~ stretchratio), picks K by BIC (among the fits whose components all
-- weigh at least flexmix's minprior, 0.05), and prints each component's coefficients
-- with standard errors; draws tonedata_select.png (BIC against K) and tonedata_regression.png
-- (the rows coloured by component, each component's fitted line).
-- Standard errors: those of a weighted least-squares fit of component k with the responsibilities
-- r_ik as weights and sigma_k known, Cov(b_k) = sigma_k^2 (X' W_k X)^-1 with W_k = diag(r_ik),
-- taken from the Cholesky factor of X' W_k X (the diagonal of the inverse is the squared norms
-- of the columns of L^-1).  It is the complete-data approximation: it treats the
-- responsibilities as known memberships, so it leaves out the information lost to not knowing
-- them (Louis 1982) and understates the errors where the components overlap.
-- Usage: mixem run scripts/regression_mixture.lua [N_INIT]
local mx = require "mixem"

local here = arg and arg[0] and arg[0]:match("^(.*)/[^/]*$") or "."
local X = mx.read_csv(here .. "/../data/tonedata.csv")
local n_init = tonumber(arg[1]) or 20
local xs, ys = X:column(1), X:column(2)

local r = mx.select{data = X, family = "linreg", response = "tuned", covariates = "stretchratio",
                    k = {1, 2, 3, 4}, n_init = n_init, seed = 0, criterion = "bic", quiet = true}
print(string.format("%d tones: tuned ~ stretchratio, a mixture of K regression lines", #X))
print(string.format("%3s  %12s  %12s  %8s", "K", "loglik", "BIC", "params"))
-- flexmix drops a component whose weight falls below minprior = 0.05 (its default); here a K
-- whose fit has such a component (a few rows on a line of their own, sigma near 0) is shown but
-- not chosen: the lowest BIC among the others is.
local minprior = 0.05
local function fit_k(k)
  return mx.fit{data = X, family = "linreg", response = "tuned", covariates = "stretchratio",
                k = k, n_init = n_init, seed = 0}
end
local order, chosen = {}, nil
for i, c in ipairs(r.candidates) do order[i] = c end
table.sort(order, function(a, b) return a.bic < b.bic end)
local small = {}
for _, c in ipairs(order) do
  local m = fit_k(c.k)
  local wmin = math.huge
  for k = 1, m.k do wmin = math.min(wmin, m.weights[k]) end
  if wmin < minprior then small[c.k] = wmin elseif not chosen then chosen = m end
end
for i, c in ipairs(r.candidates) do
  print(string.format("%3d  %12.4f  %12.4f  %8d%s%s", c.k, c.loglik, c.bic, c.n_params,
                      i == r.best and "  <- lowest BIC" or "",
                      small[c.k] and string.format("  (a component of weight %.4f < %.2f)",
                                                   small[c.k], minprior) or
                      (c.k == chosen.k and "  <- chosen" or "")))
end
mx.plot.select(r, "tonedata_select.png")

-- Standard errors of component k's coefficients (intercept, slope): sigma_k^2 (X'W_kX)^-1.
local function std_errors(m, proba, k)
  local a11, a12, a22 = 0, 0, 0
  for i = 1, #X do
    local w = proba[i][k]
    a11, a12, a22 = a11 + w, a12 + w * xs[i], a22 + w * xs[i] * xs[i]
  end
  -- X'WX = L L' with L = [l11 0; l21 l22]; L^-1 = [1/l11 0; -l21/(l11 l22) 1/l22].
  local l11 = math.sqrt(a11)
  local l21 = a12 / l11
  local l22 = math.sqrt(a22 - l21 * l21)
  local s2 = m.components[k].sigma ^ 2
  local v0 = (1 / l11) ^ 2 + (l21 / (l11 * l22)) ^ 2   -- squared norm of column 1 of L^-1
  local v1 = (1 / l22) ^ 2                            -- and of column 2
  return math.sqrt(s2 * v0), math.sqrt(s2 * v1)
end

local function report(m)
  local proba = m:predict_proba(X)
  local order = {}
  for k = 1, m.k do order[k] = k end
  table.sort(order, function(a, b) return m.components[a].beta[2] < m.components[b].beta[2] end)
  print(string.format("\nK = %d (log-likelihood %.4f), components by slope:", m.k, m.loglik))
  print(string.format("%9s %7s %19s %19s %9s", "component", "weight", "intercept (se)",
                      "slope (se)", "sigma"))
  for _, k in ipairs(order) do
    local c = m.components[k]
    local se0, se1 = std_errors(m, proba, k)
    print(string.format("%9d %7.4f %9.4f (%7.4f) %9.4f (%7.4f) %9.5f", k, m.weights[k], c.beta[1],
                        se0, c.beta[2], se1, c.sigma))
  end
end

local best = chosen
report(best)
mx.plot.regression(best, X, "tonedata_regression.png",
                   {title = string.format("tonedata: tuned against stretchratio, K = %d by BIC", best.k)})
-- The two lines the experiment is about: K = 2, for comparison.
if best.k ~= 2 then
  for _, c in ipairs(r.candidates) do
    if c.k == 2 then
      local m2 = mx.fit{data = X, family = "linreg", response = "tuned",
                        covariates = "stretchratio", k = 2, n_init = n_init, seed = 0}
      report(m2)
      mx.plot.regression(m2, X, "tonedata_regression_k2.png",
                         {title = "tonedata: tuned against stretchratio, K = 2"})
    end
  end
end
local lo, hi = math.huge, -math.huge
for i = 1, #X do lo, hi = math.min(lo, ys[i]), math.max(hi, ys[i]) end
print(string.format("\ntuned ranges over %.3f..%.3f; pictures: tonedata_select.png, tonedata_regression.png", lo, hi))
