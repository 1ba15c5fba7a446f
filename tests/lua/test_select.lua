-- test_select.lua: model selection for every family: on data drawn from known, well separated
-- 3-component mixtures, BIC picks K = 3 for the Gaussian and the Bernoulli family and held-out
-- selection agrees; ICL, AIC, the option grid, the validation split, mx.model, and errors.
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
    local by_bic = mx.select{data = X, family = case[1], k = {1, 2, 3, 4, 5, 6}, n_init = 3, seed = 1, refine_max_iter = 50}
    T.eq(by_bic.model.k, 3, "K by BIC"); T.eq(by_bic.criterion, "bic")
    T.eq(#by_bic.candidates, 6); T.eq(by_bic.candidates[by_bic.best].k, 3)
    T.eq(by_bic.candidates[1].heldout, nil)
    local by_ho = mx.select{data = X, family = case[1], k = {1, 2, 3, 4, 5, 6}, n_init = 3, seed = 1, refine_max_iter = 50,
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
                      validation = 0.25, seed = 3}
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

T.done()
