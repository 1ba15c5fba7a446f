-- regression_starts.lua: the regression families' starts (random_lines, random_resp, kmeans)
-- over seeds 1..20, at n_init = 10 (the default, with small-EM) and 1: how many fits reach the
-- best log-likelihood any of them found (within 1e-4 per row), the mean gap per row below it,
-- CPU seconds a fit.  linreg on data/tonedata.csv (K = 2, 3) and NPreg (yn ~ x + x2), poisreg on
-- NPreg (yp ~ x), logitreg on betablocker (Deaths of Total ~ treat); README's "Default starts".
-- Usage, from the top of the tree:  mixem run bench/regression_starts.lua
local mx = require "mixem"
local cases = {
  {"linreg tonedata", mx.read_csv("data/tonedata.csv"), {family = "linreg", response = "tuned", covariates = "stretchratio"}, 2},
  {"linreg tonedata K3", mx.read_csv("data/tonedata.csv"), {family = "linreg", response = "tuned", covariates = "stretchratio"}, 3},
  {"linreg npreg", mx.read_csv("tests/data/npreg.csv"), {family = "linreg", response = "yn", covariates = "x,x2"}, 2},
  {"poisreg npreg", mx.read_csv("tests/data/npreg.csv"), {family = "poisreg", response = "yp", covariates = "x"}, 2},
  {"logitreg betablocker", mx.read_csv("tests/data/betablocker_treat.csv"), {family = "logitreg", response = "Deaths", covariates = "treat", trials = "Total"}, 2},
}
for _, c in ipairs(cases) do
  for _, init in ipairs{"random_lines", "random_resp", "kmeans"} do
   for _, ni in ipairs{10, 1} do
    local lls, t0 = {}, os.clock()
    for seed = 1, 20 do
      local spec = {data = c[2], k = c[4], seed = seed, init = init, n_init = ni}
      for k, v in pairs(c[3]) do spec[k] = v end
      local ok, m = pcall(mx.fit, spec)
      lls[seed] = ok and m.loglik or -math.huge
    end
    local best = -math.huge
    for _, l in ipairs(lls) do best = math.max(best, l) end
    c.best = math.max(c.best or -math.huge, best)
    c[#c + 1] = {init, ni, lls, (os.clock() - t0) / 20}
   end
  end
  for j = 5, #c do
    local r, hits, gap = c[j], 0, 0
    for _, l in ipairs(r[3]) do
      if l >= c.best - 1e-4 * #c[2] then hits = hits + 1 end
      gap = gap + (c.best - l) / #c[2] / 20
    end
    print(string.format("%-22s best %.4f  %-12s n_init %2d: %2d/20 at best, mean gap/row %.2e, %.3f s/fit", c[1], c.best, r[1], r[2], hits, gap, r[4]))
  end
end
