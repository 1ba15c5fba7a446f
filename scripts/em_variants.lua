-- em_variants.lua: every fitting algorithm of mixem from the same starts, on two data sets where
-- plain EM is slow: three heavily overlapping Gaussian clouds, and the whiskey brands (Bernoulli,
-- 484 distinct rows with frequency weights).  For each algorithm, over SEEDS seeds (one random
-- start each, the same start for every algorithm): the mean iterations and seconds it took, its
-- mean final log-likelihood per row below the best of all runs, and how often it ended at that
-- best optimum (within 1e-6 per row).  Draws the climbs of seed 1 (em_variants_gaussian.png,
-- em_variants_whiskey.png).
-- Usage: mixem run scripts/em_variants.lua [SEEDS]   (default 20)
local mx = require "mixem"
local seeds = tonumber(arg[1]) or 20
local here = arg[0]:match("(.*)/") or "."

-- Algorithms and the options that make each one's run comparable: sem has no stopping rule (it
-- runs max_iter iterations and keeps its best), so it gets fewer.
local algorithms = {
  {name = "em"}, {name = "squarem"}, {name = "annealed"}, {name = "cem"},
  {name = "sem", opts = {max_iter = 200}},
  {name = "incremental"}, {name = "online"},
}

local truth = mx.model{
  family = "gaussian", weights = {0.4, 0.35, 0.25},
  components = {{mean = {0, 0}, cov = {{1, 0.3}, {0.3, 1}}},
                {mean = {1.6, 0.8}, cov = {{1.2, -0.2}, {-0.2, 0.8}}},
                {mean = {0.5, 2}, cov = {{0.7, 0}, {0, 1.5}}}},
}
local G = truth:sample(1500, 7)
local W = mx.read_csv(here .. "/../data/whiskey.csv", {weights = "Freq"})

local sets = {
  {name = "gaussian", data = G, base = {family = "gaussian", k = 3}},
  {name = "whiskey", data = W, base = {family = "bernoulli", k = 4}},
}

local function fit(set, alg, seed)
  local o = {data = set.data, init = "random", n_init = 1, short_starts = 1, n_refine = 0,
             tol = 1e-8, max_iter = 5000, seed = seed, threads = 1, quiet = true,
             algorithm = alg.name}
  for k, v in pairs(set.base) do o[k] = v end
  for k, v in pairs(alg.opts or {}) do o[k] = v end
  local ok, m = pcall(mx.fit, o)
  if not ok then return nil, m end
  local secs = 0
  for _, it in ipairs(m.trace) do secs = secs + it.seconds end
  return m, secs
end

for _, set in ipairs(sets) do
  local N = 0   -- the rows' total weight
  for _, w in ipairs(set.data:weights() or {}) do N = N + w end
  if N == 0 then N = #set.data end
  local runs, best, skipped = {}, -math.huge, {}
  for _, alg in ipairs(algorithms) do
    runs[alg.name] = {}
    for seed = 1, seeds do
      local m, secs = fit(set, alg, seed)
      if not m then
        skipped[#skipped + 1] = alg.name .. ": " .. tostring(secs)
        break
      end
      runs[alg.name][seed] = {m = m, secs = secs}
      best = math.max(best, m.loglik)
    end
  end
  -- The same start for every algorithm: l(theta_0) of each seed agrees across them.
  for seed = 1, seeds do
    local l0
    for _, alg in ipairs(algorithms) do
      local r = runs[alg.name][seed]
      if r then
        l0 = l0 or r.m.initial_loglik
        assert(math.abs(r.m.initial_loglik - l0) <= 1e-9 * math.abs(l0),
               alg.name .. " did not start where the others did")
      end
    end
  end
  print(string.format("\n%s: %d rows (weight %g), K = %d, %d seeds; best log-likelihood %.6f",
                      set.name, #set.data, N, set.base.k, seeds, best))
  print(string.format("%-12s %10s %10s %14s %8s", "algorithm", "iter", "seconds",
                      "gap per row", "best"))
  local traces, labels = {}, {}
  for _, alg in ipairs(algorithms) do
    local rs = runs[alg.name]
    if #rs == seeds then
      local it, s, gap, found = 0, 0, 0, 0
      for _, r in ipairs(rs) do
        it = it + r.m.n_iter
        s = s + r.secs
        local g = (best - r.m.loglik) / N
        gap = gap + g
        if g <= 1e-6 then found = found + 1 end
      end
      print(string.format("%-12s %10.1f %10.4f %14.3e %5d/%d", alg.name, it / seeds, s / seeds,
                          gap / seeds, found, seeds))
      traces[#traces + 1] = rs[1].m
      labels[#labels + 1] = alg.name
    end
  end
  for _, msg in ipairs(skipped) do print("  not run: " .. msg) end
  mx.plot.traces(traces, "em_variants_" .. set.name .. ".png",
                 {labels = labels, title = set.name .. ": the climbs of seed 1"})
end
