-- default_starts.lua: each built-in family's starts compared at the default settings (n_init =
-- 10 restarts, small-EM 12 x 20, tol 1e-3, refinement), on a real data set per family: for each
-- start, over seeds 1..S, how many fits reached the best log-likelihood any fit found (within
-- 1e-4 per unit of row weight: fits that stop by tol on one optimum differ by up to about 1e-5),
-- the mean gap per row below it, and the mean CPU seconds of a fit (one thread).
-- The family's default (init "auto") is its first start; this is the measurement README's
-- "Default starts" reports.  Usage: mixem run bench/default_starts.lua [SEEDS (default 10)]
local mx = require "mixem"
local S = tonumber(arg[1] or 10)
local here = (debug.getinfo(1, "S").source:match("^@(.*)/bench/") or ".") .. "/data/"
local cases = {
  {"gaussian", "banknote.csv", 4, {}},
  {"gaussian", "diabetes.csv", 3, {}},
  {"bernoulli", "whiskey.csv", 4, {}, {weights = "Freq"}},
  {"binomial", "betablocker.csv", 3, {trials = "Total"}},
  {"categorical", "haireyecolor.csv", 3, {}, {categorical = true}},
  {"multinomial", "licenses_bow.csv", 4, {}},
  {"poisson", "seatbelts.csv", 3, {}},
  {"exponential", "coal_intervals.csv", 2, {}},
  {"gamma", "faithful.csv", 2, {}},
  {"student_t", "faithful.csv", 2, {}},
  {"von_mises_fisher", "wind.csv", 3, {angles = "radians"}},
  {"poisreg", "../tests/data/npreg.csv", 2, {response = "yp", covariates = "x"}},
}
-- The starts each family lists (its first is the default).
local starts = {
  gaussian = {"random", "kmeans", "kmeans++", "random_resp"},
  bernoulli = {"random", "kmeans", "kmeans++", "random_resp"},
  binomial = {"random", "random_resp"},
  categorical = {"random_resp", "random", "kmeans", "kmeans++"},
  multinomial = {"random_resp", "random", "kmeans", "kmeans++"},
  poisson = {"kmeans", "kmeans++", "random", "random_resp"},
  exponential = {"random", "kmeans", "kmeans++", "random_resp"},
  gamma = {"random_resp", "kmeans", "kmeans++", "random"},
  student_t = {"random", "kmeans", "kmeans++", "random_resp"},
  von_mises_fisher = {"kmeans", "kmeans++", "random", "random_resp"},
  poisreg = {"random_resp", "kmeans"},
}
print(string.format("%-18s %-18s %2s  %-12s %6s %9s %8s", "family", "data", "K", "start",
                    "best", "gap/row", "s/fit"))
for _, c in ipairs(cases) do
  local fam, name, K, extra = c[1], c[2], c[3], c[4]
  local X = mx.read_csv(here .. name, c[5])
  local res, best, W = {}, -math.huge, 0
  for _, w in ipairs(X:weights() or {}) do W = W + w end
  if W == 0 then W = X:rows() end
  for _, init in ipairs(starts[fam]) do
    local r = {init = init, ll = {}, secs = 0}
    for seed = 1, S do
      local o = {data = X, family = fam, k = K, init = init, seed = seed, threads = 1, quiet = true}
      for key, v in pairs(extra) do o[key] = v end
      local t0 = os.clock()
      local ok, m = pcall(mx.fit, o)
      r.secs = r.secs + os.clock() - t0
      r.ll[seed] = ok and m.loglik or -math.huge
      best = math.max(best, r.ll[seed])
    end
    res[#res + 1] = r
  end
  name = name:match("([^/]+)$")
  for _, r in ipairs(res) do
    local hit, gap = 0, 0
    for seed = 1, S do
      if (best - r.ll[seed]) / W <= 1e-4 then hit = hit + 1 end
      gap = gap + (best - r.ll[seed]) / W / S
    end
    print(string.format("%-18s %-18s %2d  %-12s %3d/%-2d %9.2e %8.3f", fam, name, K, r.init, hit,
                        S, gap, r.secs / S))
  end
end
