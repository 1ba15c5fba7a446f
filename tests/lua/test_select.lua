-- test_select.lua: model selection for every family: on data drawn from known, well separated
-- 3-component mixtures, BIC picks K = 3 for the Gaussian and the Bernoulli family and held-out
-- selection agrees; ICL, AIC, the option grid, the validation split, mx.model, and errors.  The
-- selections run one start per restart (short_starts = 1): the criteria are under test, not the
-- search, which test_r_cells.lua covers.
local T = dofile((os.getenv("MIXEM_TEST_SRCDIR") or ".") .. "/tests/lua/lib.lua")
local mx = require "mixem"

local gauss = mx.model{family = "gaussian", weights = {0.5, 0.3, 0.2},
  components = {{mean = {0, 0}, cov = {{1, 0.3}, {0.3, 1}}}, {mean = {7, 0}, cov = {{1, 0}, {0, 0.5}}},
                {mean = {0, 7}, cov = {{0.7, 0}, {0, 1.2}}}}}
local protos = {}
for k = 1, 3 do
  local mu = {}
  for j = 1, 30 do mu[j] = ((j - 1) // 10 == k - 1 or (j + k) % 4 == 0) and 0.9 or 0.1 end
  protos[k] = {mu = mu}
end
local bern = mx.model{family = "bernoulli", weights = {0.4, 0.35, 0.25}, components = protos}

for _, case in ipairs{{"gaussian", gauss}, {"bernoulli", bern}} do
  T.test(case[1] .. ": BIC and held-out both pick the true K = 3", function()
    local X = case[2]:sample(600, 1)
    local by_bic = mx.select{data = X, family = case[1], k = {1, 2, 3, 4, 5, 6}, n_init = 3, short_starts = 1, seed = 1, refine_max_iter = 50}
    T.eq(by_bic.model.k, 3, "K by BIC"); T.eq(by_bic.criterion, "bic")
    T.eq(#by_bic.candidates, 6); T.eq(by_bic.candidates[by_bic.best].k, 3)
    T.eq(by_bic.candidates[1].heldout, nil)
    local by_ho = mx.select{data = X, family = case[1], k = {1, 2, 3, 4, 5, 6}, n_init = 3, short_starts = 1, seed = 1, refine_max_iter = 50,
                            criterion = "heldout", folds = 5}
    T.eq(by_ho.model.k, 3, "K by held-out")
    for _, c in ipairs(by_ho.candidates) do
      T.ok(c.icl >= c.bic - 1e-9, "ICL = BIC + 2 H >= BIC")
      T.near(c.aic, -2 * c.loglik + 2 * c.n_params, 1e-12)
      T.near(c.bic, -2 * c.loglik + c.n_params * math.log(600), 1e-12)
    end
    T.near(by_ho.candidates[1].icl, by_ho.candidates[1].bic, 1e-12)   -- K = 1: no entropy
    T.near(by_ho.model:icl(X), by_ho.candidates[3].icl, 1e-12)
  end)
end

T.test("option grids, a validation split, and errors", function()
  local X = gauss:sample(300, 2)
  local r = mx.select{data = X, family = "gaussian", k = {2, 3}, covariance = {"full", "diag", "spherical"},
                      validation = 0.25, seed = 3, short_starts = 1}
  T.eq(#r.candidates, 6)
  T.eq(r.candidates[1].options.covariance, "full"); T.eq(r.candidates[6].options.covariance, "spherical")
  T.ok(r.candidates[1].heldout < 0, "held-out score on the validation rows")
  T.errors(function() mx.select{data = X, family = "gaussian", k = {2}, criterion = "heldout"} end,
           "held-out scores need 'folds' >= 2 or 0 < 'validation' < 1")
  T.errors(function() mx.select{data = X, family = "gaussian", k = {2}, criterion = "best"} end,
           "'criterion' must be bic, aic, icl or heldout (got best)")
  T.errors(function() mx.select{data = X, family = "gaussian", k = {0}} end, "'k' must be a positive integer")
  T.errors(function() mx.select{data = X, family = "gaussian", k = {2}, fold = 3} end, "unknown option 'fold'")
  T.errors(function() mx.model{family = "gaussian", components = {{mean = {0, 0}}}} end,
           "component 1: gaussian: the component is incomplete")
  T.errors(function() mx.model{family = "gaussian", weights = {1, 0}, components = {{mean = {0}, var = 1}}} end,
           "'weights' must be an array of 1 numbers")
end)

-- Issue 19: a candidate whose every restart fails stays in the table with its reason, the others
-- are chosen from, and the picture marks it; every candidate failing is an error with each reason.
T.test("a failed candidate is kept and marked, not fatal", function()
  local X = mx.dataset{{0, 0}, {1, 0.5}, {0.2, 1}, {5, 5}, {6, 5.2}, {5.5, 6.1}, {10, 0}, {11, 0.3},
                       {10.4, 1.2}, names = {"x", "y"}}
  local r = mx.select{data = X, family = "gaussian", k = {1, 2, 3, 4, 5}, reg_covar = 0, n_init = 2, quiet = true}
  T.eq(#r.candidates, 5)
  T.eq(r.candidates[r.best].k, 3, "K by BIC among the fits that worked")
  T.eq(r.model.k, 3)
  for k = 1, 3 do T.eq(r.candidates[k].failure, nil); T.ok(r.candidates[k].bic ~= nil) end
  for k = 4, 5 do
    local c = r.candidates[k]
    T.ok(c.failure and c.failure:find("all 2 restarts failed: restart 1: all 12 short runs %(small%-EM%) failed; the last: gaussian: component %d+: the covariance is not positive definite"),
         "the reason: " .. tostring(c.failure))
    T.eq(c.bic, nil); T.eq(c.loglik, nil); T.eq(c.k, k)
  end
  local png = T.tmpname(".png")
  mx.plot.select(r, png)
  T.ok(io.open(png) ~= nil, "the picture of a selection with failed candidates")
  local chosen = r.best
  r.best = 4
  T.errors(function() mx.plot.select(r, png) end, "the chosen candidate (k = 4) is one whose fit failed")
  r.best = chosen
  T.errors(function() mx.select{data = X, family = "gaussian", k = {4, 5}, reg_covar = 0, n_init = 1, quiet = true} end,
           "select: every candidate failed: k = 4: restart 1: all 12 short runs (small-EM) failed; the last: gaussian: component 1: the covariance is not positive definite")
  -- A bad option is not a failed fit: it stops the selection at once.
  T.errors(function() mx.select{data = X, family = "gaussian", k = {1, 2}, covariance = "nope"} end, "covariance")
end)

T.done()
