-- test_default_start.lua: issue 14's test of the default start.  Eight round Gaussian clusters in
-- the plane (four in a tight square, two more side by side, two far off) have many local optima
-- (two clusters merged and another split); the best is known, EM from the true parameters.  The
-- default fit (init "auto", n_init 10, small-EM 12 x 20) must reach it in at least 95% of 20
-- seeds; ten plain random restarts (no small-EM) must not, which shows the data can catch a start.
local mx = require "mixem"
local T = dofile((os.getenv("MIXEM_TEST_SRCDIR") or ".") .. "/tests/lua/lib.lua")

local centres = {{0, 0}, {4, 0}, {0, 4}, {4, 4}, {12, 0}, {12, 4}, {20, 2}, {6, 14}}
local comps, w = {}, {}
for i, c in ipairs(centres) do
  comps[i] = {mean = c, cov = {{0.5, 0}, {0, 0.5}}}
  w[i] = 1 / #centres
end
local truth = mx.model{family = "gaussian", weights = w, components = comps}
local X = truth:sample(400, 11)
local K = #centres
local best = mx.fit{data = X, family = "gaussian", k = K, init = truth, n_init = 1,
                    tol = 1e-10, max_iter = 1000}

-- How many of 20 seeds end more than 1e-3 per row below the best known optimum.
local function misses(opts)
  local n = 0
  for seed = 1, 20 do
    local o = {data = X, family = "gaussian", k = K, seed = seed, quiet = true}
    for key, v in pairs(opts) do o[key] = v end
    local m = mx.fit(o)
    T.ok(m.loglik <= best.loglik + 1e-6 * #X, "no fit above the best known optimum")
    if (best.loglik - m.loglik) / #X > 1e-3 then n = n + 1 end
  end
  return n
end

T.test("the default start finds the best optimum in at least 19 of 20 seeds", function()
  local n = misses({})
  T.ok(n <= 1, string.format("default start missed the best optimum in %d of 20 seeds", n))
end)

T.test("ten plain random restarts do not (the data have optima that catch a start)", function()
  local n = misses({n_init = 10, short_starts = 1, init = "random"})
  T.ok(n >= 5, string.format("only %d of 20 seeds missed: the data are too easy for this test", n))
end)

T.done()
