-- select_k.lua: model selection on data drawn from known 3-component mixtures, for the Gaussian
-- and the Bernoulli family: BIC, AIC, ICL and 5-fold held-out log-likelihood over K = 1..6, and
-- the K each criterion picks.
-- Usage: mixem run scripts/select_k.lua [SEED]
local mx = require "mixem"
local seed = tonumber(arg[1]) or 1

local function known(family, weights, components)
  return mx.model{family = family, weights = weights, components = components}
end

-- Three well separated Gaussian clusters in 2-D, of unequal sizes.
local gauss = known("gaussian", {0.5, 0.3, 0.2},
  {{mean = {0, 0}, cov = {{1, 0.3}, {0.3, 1}}}, {mean = {7, 0}, cov = {{1, 0}, {0, 0.5}}},
   {mean = {0, 7}, cov = {{0.7, 0}, {0, 1.2}}}})

-- Three binary prototypes over 30 pixels: each pixel on with 0.9 or 0.1.
local protos = {}
for k = 1, 3 do
  local mu = {}
  for j = 1, 30 do mu[j] = ((j - 1) // 10 == k - 1 or (j + k) % 4 == 0) and 0.9 or 0.1 end
  protos[k] = {mu = mu}
end
local bern = known("bernoulli", {0.4, 0.35, 0.25}, protos)

local function report(name, model, n)
  local X = model:sample(n, seed)
  local r = mx.select{data = X, family = name, k = {1, 2, 3, 4, 5, 6}, n_init = 3, seed = seed,
                      folds = 5}
  print(string.format("%s: %d rows drawn from a known 3-component mixture", name, n))
  print(string.format("%3s %12s %12s %12s %12s", "K", "BIC", "AIC", "ICL", "held-out"))
  local pick = {bic = 1, aic = 1, icl = 1, heldout = 1}
  for i, c in ipairs(r.candidates) do
    print(string.format("%3d %12.2f %12.2f %12.2f %12.5f", c.k, c.bic, c.aic, c.icl, c.heldout))
    for key in pairs(pick) do
      local better = key == "heldout" and c[key] > r.candidates[pick[key]][key]
                     or key ~= "heldout" and c[key] < r.candidates[pick[key]][key]
      if better then pick[key] = i end
    end
  end
  print(string.format("picked K: BIC %d, AIC %d, ICL %d, held-out %d (truth 3)\n",
                      r.candidates[pick.bic].k, r.candidates[pick.aic].k,
                      r.candidates[pick.icl].k, r.candidates[pick.heldout].k))
  return r, pick
end

report("gaussian", gauss, 600)
report("bernoulli", bern, 600)
print("BIC, AIC, ICL: lower is better (scikit-learn's sign; mclust reports -BIC).")
print("held-out: mean log-likelihood per left-out row over 5 folds, higher is better.")
