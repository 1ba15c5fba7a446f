-- test_fit.lua: mixem.fit and the model: fields, methods, the trace and on_iter, starts, fixed
-- parameters, weights, restarts, warm starts, and every argument error.
local T = dofile((os.getenv("MIXEM_TEST_SRCDIR") or ".") .. "/tests/lua/lib.lua")
local mx = require "mixem"
local X = mx.read_csv(T.srcdir .. "/data/two_coins.csv", {columns = {"heads", "trials"}})

local function two_coins(extra)
  local o = {data = X, family = "binomial", k = 2, trials = "trials",
             init = {weights = {0.5, 0.5}, components = {{p = 0.6}, {p = 0.5}}},
             fixed = {"weights"}, max_iter = 10, tol = 0}
  for key, v in pairs(extra or {}) do o[key] = v end
  return mx.fit(o)
end

T.test("the two-coin fit through Lua matches the paper and the reference", function()
  local m = two_coins()
  T.eq(m.family, "binomial"); T.eq(m.k, 2); T.eq(m.n_iter, 10); T.eq(m.converged, false)
  -- tests/reference/two_coins.py, iteration 10 with fixed weights.
  T.near(m.components[1].p, 0.79674414947521155, 1e-9)
  T.near(m.components[2].p, 0.51965866220411228, 1e-9)
  T.near(m.loglik, -9.7969245597042374, 1e-9)
  T.eq(m.weights[1], 0.5)
  T.eq(m.n_params, 2)
  T.eq(#m.trace, 10)
  T.near(m.trace[10].loglik, m.loglik, 1e-15)
  for _, it in ipairs(m.trace) do T.near(it.elbo + it.kl, it.loglik, 1e-12) end
  T.ok(tostring(m):find("family binomial, k = 2", 1, true), "tostring")
end)

T.test("on_iter sees every iteration and can stop the fit", function()
  local seen = {}
  local m = two_coins{on_iter = function(it)
    seen[#seen + 1] = it
    T.ok(it.components[1].p > 0 and it.weights[1] == 0.5, "parameters in on_iter")
    return it.iter < 4
  end}
  T.eq(#seen, 4); T.eq(m.n_iter, 4)
  T.eq(seen[1].iter, 1); T.eq(seen[1].restart, 1)
  T.near(seen[1].kl, seen[1].loglik - seen[1].elbo, 1e-12)
  T.ok(seen[1].seconds >= 0 and seen[1].entropy > 0, "seconds and entropy")
end)

T.test("an error in on_iter stops the fit and propagates", function()
  T.errors(function() two_coins{on_iter = function() error("boom") end} end, "boom")
end)

T.test("predictions, scores and criteria", function()
  local m = two_coins()
  local lab, P, ll = m:predict(X), m:predict_proba(X), m:score_samples(X)
  T.eq(#lab, 5); T.eq(#P, 5); T.eq(#P[1], 2)
  local total = 0
  for i = 1, 5 do
    T.near(P[i][1] + P[i][2], 1, 1e-14)
    T.eq(lab[i], P[i][1] >= P[i][2] and 1 or 2)
    total = total + ll[i]
  end
  T.near(total, m.loglik, 1e-12)
  T.near(m:score(X), m.loglik / 5, 1e-12)
  T.near(m:bic(X), -2 * m.loglik + 2 * math.log(5), 1e-12)
  T.near(m:aic(X), -2 * m.loglik + 4, 1e-12)
end)

T.test("sample repeats with its seed", function()
  local m = two_coins()
  local S, lab = m:sample(50, 7)
  local S2 = m:sample(50, 7)
  T.eq(#S, 50); T.eq(#lab, 50); T.eq(S:names()[1], "heads")
  for i = 1, 50 do
    T.eq(S:row(i)[1], S2:row(i)[1]); T.eq(S:row(i)[2], 10)
    T.ok(lab[i] == 1 or lab[i] == 2, "label")
  end
end)

T.test("learned weights, restarts, random starts, seeds", function()
  local m = mx.fit{data = X, family = "binomial", k = 2, trials = "trials", n_init = 4,
                   init = "random", seed = 3, max_iter = 200, tol = 1e-10, threads = 2}
  T.ok(m.best_restart >= 1 and m.best_restart <= 4, "best restart")
  T.ok(m.weights[1] ~= 0.5, "weights learned")
  local again = mx.fit{data = X, family = "binomial", k = 2, trials = "trials", n_init = 4,
                       init = "random", seed = 3, max_iter = 200, tol = 1e-10, threads = 1}
  T.eq(again.loglik, m.loglik)
  local rr = mx.fit{data = X, family = "binomial", k = 2, trials = "trials", init = "random_resp"}
  T.ok(rr.loglik > -20, "random_resp start")
  local c = mx.fit{data = mx.dataset{{3}, {9}, {8}, names = {"s"}}, family = "binomial", k = 1, trials = 10}
  T.near(c.components[1].p, 20 / 30, 1e-14)
end)

T.test("fixed components and weights stay", function()
  local m = two_coins{fixed = {"weights", 2}}
  T.eq(m.components[2].p, 0.5); T.ok(m.components[1].p ~= 0.6, "component 1 moves")
  local all = two_coins{fixed = {"components"}}
  T.eq(all.components[1].p, 0.6); T.eq(all.components[2].p, 0.5)
end)

T.test("row weights equal repeated rows", function()
  local W = mx.dataset{{5, 10, 2}, {9, 10, 1}, {8, 10, 1}, {4, 10, 3}, {7, 10, 1},
                       names = {"heads", "trials", "w"}}
  local R = mx.dataset{{5, 10}, {5, 10}, {9, 10}, {8, 10}, {4, 10}, {4, 10}, {4, 10}, {7, 10},
                       names = {"heads", "trials"}}
  local opts = function(d, w)
    return {data = d, family = "binomial", k = 2, trials = "trials", weights = w,
            init = {components = {{p = 0.6}, {p = 0.5}}}, max_iter = 20, tol = 0}
  end
  local a, b = mx.fit(opts(W, "w")), mx.fit(opts(R))
  T.near(a.loglik, b.loglik, 1e-12)
  T.near(a.components[1].p, b.components[1].p, 1e-12)
  T.near(a.weights[1], b.weights[1], 1e-12)
end)

T.test("refit warm-starts from the model", function()
  local m = two_coins()
  local r = m:refit(X, {max_iter = 5, tol = 0})
  T.near(r.initial_loglik, m.loglik, 1e-12)
  T.eq(r.n_iter, 5)
  T.ok(r.weights[1] ~= 0.5, "weights are learned unless refit fixes them")
  local f = m:refit(X, {max_iter = 5, tol = 0, fixed = {"weights"}})
  T.eq(f.weights[1], 0.5)
  T.ok(r.loglik >= m.loglik - 1e-12, "refit climbs")
  local w = mx.fit{data = X, family = "binomial", k = 2, trials = "trials", init = m, max_iter = 1}
  T.near(w.initial_loglik, m.loglik, 1e-12)
end)

T.test("families and version", function()
  local fams = mx.families()
  local found
  for _, f in ipairs(fams) do if f.name == "binomial" then found = f end end
  T.ok(found, "binomial listed")
  T.ok(found.origin:find("binomial", 1, true), "origin")
  T.eq(found.options[1].name, "trials")
  T.eq(type(mx.version), "string")
end)

T.test("fit argument errors name the function and the argument", function()
  local base = {data = X, family = "binomial", k = 2, trials = "trials"}
  local function with(key, v)
    local o = {}
    for a, b in pairs(base) do o[a] = b end
    o[key] = v
    return function() mx.fit(o) end
  end
  T.errors(with("k", -1), "mixem.fit: 'k' must be a positive integer (got -1)")
  T.errors(with("k", 2.5), "mixem.fit: 'k' must be a positive integer (got 2.5)")
  T.errors(with("max_iters", 3), "mixem.fit: unknown option 'max_iters' for family binomial")
  T.errors(with("max_iter", -2), "'max_iter' must be an integer >= 0 (got -2)")
  T.errors(with("tol", -1), "'tol' must be a finite number >= 0 (got -1)")
  T.errors(with("n_init", 0), "'n_init' must be a positive integer (got 0)")
  T.errors(with("refine_tol", -1), "'refine_tol' must be a finite number >= 0")
  T.errors(with("n_refine", -1), "'n_refine' must be an integer >= 0 (got -1)")
  T.errors(with("seed", -5), "'seed' must be an integer >= 0 (got -5)")
  T.errors(with("threads", "x"), "'threads' must be an integer >= 0 (got x)")
  -- Issue 18: integer options were truncated to C ints (2^32 + 2 iterations ran as 2).
  for _, key in ipairs{"max_iter", "n_init", "n_refine", "threads", "verbose_interval"} do
    T.errors(with(key, 2^32 + 2), "mixem.fit: '" .. key .. "' must be ")
    T.errors(with(key, (1 << 32) + 1), "and at most 2147483647 (got 4294967297)")
  end
  T.errors(function() mx.select{data = X, family = "binomial", trials = "trials", k = {1, 2},
                                criterion = "heldout", folds = 2^32 + 2} end,
           "mixem.select: 'folds' must be an integer >= 0 and at most 2147483647")
  T.errors(function() mx.kmeans(X, 2, {max_iter = 2^32 + 1}) end, "'max_iter' must be")
  -- Issue 18: a table that contains itself recursed forever; one nested 100 000 deep overflowed
  -- the C stack.
  local t = {}
  t[1] = t
  T.errors(function() mx.fit{data = X, family = "binomial", k = 1, trials = "trials",
                             init = {components = t}} end,
           "mixem.fit: init.components: a table contains itself")
  T.errors(with("init", {components = {{p = t}, {p = 0.5}}}),
           "mixem.fit: init.components: a table contains itself")
  local c = {p = 0.5}
  c.self = {c}
  T.errors(with("init", {components = {c, {p = 0.5}}}), "a table contains itself")
  local deep = {}
  local at = deep
  for _ = 1, 100000 do at[1] = {}; at = at[1] end
  T.errors(with("init", {components = {{p = deep}, {p = 0.5}}}),
           "mixem.fit: init.components: tables nested deeper than 16 levels")
  T.errors(function() mx.model{family = "binomial", trials = 10, components = {{p = t}}} end,
           "mixem.model: components: a table contains itself")
  T.errors(function() mx.model{family = "binomial", trials = 10, components = {{p = deep}}} end,
           "mixem.model: components: tables nested deeper than 16 levels")
  -- Issue 18: sizes from options aborted in g_malloc.
  T.errors(function() mx.fit{data = X, family = "binomial", k = 1 << 62, trials = "trials",
                             fixed = {"weights"}} end, "mixem.fit: 'k' = 4611686018427387904 is too large")
  T.errors(function() two_coins():sample(1 << 40) end,
           "model:sample: 1099511627776 rows of d = 2 need 61.6 TB (more than this machine has")
  local big = mx.fit{data = X, family = "binomial", k = 2, trials = "trials", seed = 3,
                     block_size = 1 << 60}
  T.eq(big.loglik, mx.fit{data = X, family = "binomial", k = 2, trials = "trials", seed = 3}.loglik)
  local shared = {p = 0.5}      -- one table twice is not a cycle
  T.eq(mx.model{family = "binomial", trials = 10, weights = {0.5, 0.5},
                components = {shared, shared}}.k, 2)
  T.errors(with("family", "nosuch"), "mixem.fit: unknown family 'nosuch'")
  T.errors(with("family", nil), "mixem.fit: 'family' is required")
  T.errors(with("data", 5), "mixem.fit: 'data' must be a dataset")
  T.errors(with("trials", "nope"), "'trials' = 'nope' is neither a column nor a whole number")
  T.errors(with("init", "kmeans"), "unknown start 'kmeans' for family 'binomial'")
  T.errors(with("init", 3), "'init' must be a method name, a table or a model (got number)")
  T.errors(with("init", {weights = {0.5}}), "init.weights must be an array of k = 2 numbers")
  T.errors(with("init", {weights = {0.5, 0.6}}), "the initial weights sum to")
  T.errors(with("init", {components = {{p = 0.5}}}), "init.components must be an array of k = 2")
  T.errors(with("init", {components = {{p = 0.5}, {p = 2}}}), "'p' must lie in [0, 1] (got 2)")
  T.errors(with("init", {components = {{p = 0.5}, {trials = 2}}}), "component has no 'p'")
  T.errors(with("init", {components = {{p = 0.5}, {q = 2}}}),
           "binomial: a component has no parameter 'q' (it has: p, trials)")
  T.errors(with("init", {comps = {}}), "mixem.fit: init: unknown option 'comps'")
  T.errors(with("fixed", {"weight"}), "'fixed'[1] must be \"weights\", \"components\" or a component number in 1..2 (got weight)")
  T.errors(with("fixed", "weights"), "'fixed' must be an array")
  T.errors(with("on_iter", 1), "'on_iter' must be a function (got number)")
  T.errors(with("weights", "w"), "no weight column 'w'")
  T.errors(with("columns", {"x"}), "no column 'x'")
  T.errors(with("k", 9), "'k' exceeds the number of rows")
  T.errors(function() mx.fit() end, "bad argument #1 to 'fit'")
  local bad = mx.dataset{{11, 10}, names = {"heads", "trials"}}
  T.errors(function() mx.fit{data = bad, family = "binomial", trials = "trials"} end,
           "row 1, column 'heads': 11 successes out of 10 trials")
  local m = two_coins()
  T.errors(function() m:predict(mx.dataset{{1}}) end, "model:predict: <memory>: no column 'heads'")
  T.errors(function() m:sample(0) end, "the number of samples must be positive")
  T.errors(function() m:refit(X, {max_iters = 1}) end, "model:refit: unknown option 'max_iters'")
  T.errors(function() m.k = 3 end, "fields are read-only")
  T.eq(m.nosuch, nil)
end)

-- Issue 19: a bad restart is skipped, not fatal; a fit cut short by max_iter says so; converged
-- means the rule of the last run (refinement included) was met.
T.test("failed restarts are skipped and reported", function()
  local iris = mx.read_csv(T.srcdir .. "/data/iris.csv")
  -- with reg_covar = 0, some of 20 k-means starts collapse a component of K = 5 (mclust fits it)
  local m = mx.fit{data = iris, family = "gaussian", k = 5, reg_covar = 0, n_init = 20, quiet = true}
  T.ok(m.failed_restarts >= 1, "some restarts failed")
  T.eq(#m.warnings, m.failed_restarts, "one warning per failed restart")
  T.ok(m.warnings[1]:find("^restart %d+: .*gaussian: ") ~= nil, m.warnings[1])
  T.ok(m.loglik > -150, "the best of the others is kept")
  -- when every restart fails, the error gives the reasons
  local flat = mx.dataset{{1, 1}, {1, 1}, {1, 1}, {2, 2}}
  T.errors(function() mx.fit{data = flat, family = "gaussian", k = 2, reg_covar = 0, n_init = 3} end,
           "all 3 restarts failed: restart 1: ")
end)

-- scikit-learn's test_regularisation: K = 10 on two distinct points fits; the components that
-- take no row are kept at weight 0, with a warning; strict_empty keeps the old error.
T.test("more components than distinct rows", function()
  local rows = {}
  for i = 1, 20 do rows[i] = {i % 2, i % 2} end
  local X = mx.dataset(rows)
  for _, init in ipairs{"kmeans", "kmeans++", "random", "random_resp", "auto"} do
    local m = mx.fit{data = X, family = "gaussian", k = 10, init = init, quiet = true}
    T.eq(m.k, 10)
    local total = 0
    for k = 1, 10 do total = total + m.weights[k] end
    T.near(total, 1, 1e-12, init .. ": weights")
    T.near(m.loglik, 225.6897262, 1e-8, init .. ": log-likelihood of two points at reg_covar")
  end
  local m = mx.fit{data = X, family = "gaussian", k = 10, init = "kmeans", n_init = 1, quiet = true}
  T.ok(m.warnings[1] and m.warnings[1]:find("has no weight", 1, true), "a warning names it")
  T.errors(function() mx.fit{data = X, family = "gaussian", k = 10, init = "kmeans", n_init = 1,
                             strict_empty = true} end, "is empty")
  T.errors(function() mx.fit{data = X, family = "gaussian", k = 10, init = "random", n_init = 1,
                             strict_empty = true} end, "only 2 distinct rows for k = 10")
end)

T.test("convergence warnings, and converged means the rule was met", function()
  local iris = mx.read_csv(T.srcdir .. "/data/iris.csv")
  local short = mx.fit{data = iris, family = "gaussian", k = 3, max_iter = 3, n_init = 1, quiet = true}
  T.eq(short.converged, false)
  T.ok(short.warnings[1]:find("did not converge: 3 iterations (max_iter)", 1, true), short.warnings[1])
  -- one start per restart (no small-EM), whose tol phase stops short of refine_tol
  local by_tol = mx.fit{data = iris, family = "gaussian", k = 3, n_refine = 0, n_init = 1, short_starts = 1,
                        quiet = true}
  T.eq(by_tol.converged, true)
  T.eq(#by_tol.warnings, 0)
  -- refinement cut by max_iter: not converged (it was reported converged before)
  local cut = mx.fit{data = iris, family = "gaussian", k = 3, max_iter = by_tol.n_iter,
                     refine_max_iter = 1, n_init = 1, short_starts = 1, quiet = true}
  T.eq(cut.n_iter, by_tol.n_iter + 1)
  T.eq(cut.converged, false)
  T.ok(cut.warnings[1]:find("refine_max_iter", 1, true), cut.warnings[1])
  -- the refinement's own budget: max_iter no longer cuts it
  local full = mx.fit{data = iris, family = "gaussian", k = 3, max_iter = by_tol.n_iter, n_init = 1,
                      short_starts = 1, quiet = true}
  T.eq(full.converged, true)
  T.ok(full.n_iter > by_tol.n_iter, "refined past max_iter")
  -- scikit-learn's warm start: refits of one iteration each detect convergence
  local m = mx.fit{data = iris, family = "gaussian", k = 3, max_iter = 1, n_init = 1, quiet = true}
  local converged_at
  for i = 1, 200 do
    m = m:refit(iris, {max_iter = 1, quiet = true})
    if m.converged then converged_at = i; break end
  end
  T.ok(converged_at ~= nil, "a warm refit converges")
end)

T.done()
