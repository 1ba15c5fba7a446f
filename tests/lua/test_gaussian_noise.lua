-- test_gaussian_noise.lua: mclust's noise component (a uniform density 1/V over the data's
-- hypervolume, its own weight; Banfield and Raftery 1993).  On data/diabetes.csv and
-- data/thyroid.csv with K = 1 to 5, for 13 of the 14 models (not VVE: see the script), EM with
-- noise = true starts from mclust's M-step on a partition with an initial noise guess, and
-- reaches the log-likelihood of mclust's me(..., Vinv = hypvol(data, reciprocal = TRUE)) to 1e-6
-- relative, with its BIC (nMclustParams(noise = TRUE)), its noise weight and its classification
-- (predict: 0 for the noise).  log V is mclust's hypvol().  Fixtures:
-- tests/reference/gaussian_noise_mclust.R; this test needs no R.  The engine checks the ELBO/KL
-- identity (the noise's term included) at every iteration.
local T = dofile((os.getenv("MIXEM_TEST_SRCDIR") or ".") .. "/tests/lua/lib.lua")
local mx = require "mixem"
local fixtures = dofile(T.srcdir .. "/tests/reference/gaussian_noise_fixtures.lua")
local data, logv, guess = {}, {}, {}
for _, f in ipairs(fixtures) do
  data[f.data] = data[f.data] or mx.read_csv(T.srcdir .. "/" .. f.data)
  if f.log_volume then
    logv[f.data] = f.log_volume
    guess[f.data] = f
  elseif f.loglik then
    local name = string.format("%s %s K = %d noise", f.data, f.model, f.k)
    T.test(name, function()
      local comps = T.mclust_components(f.means, f.covs, f.model)
      local X = data[f.data]
      local m = mx.fit{data = X, family = "gaussian", covariance = f.model, k = f.k,
                       reg_covar = 0, noise = true, init = {weights = f.weights, components = comps},
                       max_iter = 100000, tol = 1e-12}
      T.eq(m.n_params, f.n_params, name .. " parameters")
      T.near(m.noise.log_volume, logv[f.data], 1e-12, name .. " log V (mclust's hypvol)")
      T.near(m.loglik, f.loglik, 1e-6, name .. " log-likelihood")
      T.near(-m:bic(X), f.bic, 1e-6, name .. " BIC (mclust's sign)")
      T.near(m.noise.weight, f.noise_weight, 1e-5, name .. " noise weight")
      local w = m.noise.weight
      for _, v in ipairs(m.weights) do w = w + v end
      T.near(w, 1, 1e-12, name .. " the weights and the noise's sum to 1")
      T.eq(table.concat(m:predict(X)), f.classification, name .. " classification")
      local p = m:predict_proba(X)
      T.eq(#p[1], f.k + 1, name .. " predict_proba has the noise's column")
    end)
  end
end

T.test("noise: the default start, the trace, a model file", function()
  local X = data["data/diabetes.csv"]
  local m = mx.fit{data = X, family = "gaussian", covariance = "VVV", k = 3, noise = true,
                   seed = 1, n_init = 2}
  local plain = mx.fit{data = X, family = "gaussian", covariance = "VVV", k = 3, seed = 1,
                       n_init = 2}
  assert(m.noise and m.noise.weight > 0 and m.noise.weight < 1, "no noise weight")
  T.eq(plain.noise, nil)
  T.eq(m.n_params, plain.n_params + 2)
  local prev = -math.huge
  for _, r in ipairs(m.trace) do
    assert(r.loglik >= prev - 1e-9 * math.abs(prev), "the log-likelihood fell")
    prev = r.loglik
  end
  local path = os.tmpname()
  m:save(path)
  local back = mx.load(path)
  os.remove(path)
  T.eq(back.noise.weight, m.noise.weight)
  T.eq(back.noise.log_volume, m.noise.log_volume)
  T.eq(back:score(X), m:score(X))
  T.eq(table.concat(back:predict(X)), table.concat(m:predict(X)))
  -- a refit keeps the noise and its V, and climbs on from the fit (no lower)
  local r = m:refit(X, {tol = 1e-10})
  T.eq(r.noise.log_volume, m.noise.log_volume)
  assert(r.loglik >= m.loglik - 1e-9 * math.abs(m.loglik), "the refit fell")
  -- a given volume, and classification EM
  local v = mx.fit{data = X, family = "gaussian", k = 2, noise = true, noise_volume = 1e9,
                   seed = 1, n_init = 1}
  T.near(v.noise.log_volume, math.log(1e9), 1e-15)
  local c = mx.fit{data = X, family = "gaussian", k = 2, noise = true, algorithm = "cem",
                   seed = 1, n_init = 1}
  assert(c.noise.weight >= 0)
end)

T.test("noise: mixem fit --noise, mixem predict (0 for the noise)", function()
  local exe = os.getenv("MIXEM")
  if not exe then return end
  local X = data["data/diabetes.csv"]
  local path, csv = os.tmpname(), T.srcdir .. "/data/diabetes.csv"
  assert(os.execute(string.format("%q fit -q -f gaussian -k 2 --noise --seed 1 --n-init 1 --out %q %q",
                                  exe, path, csv)))
  local m = mx.load(path)
  local p = io.popen(string.format("%q predict %q %q", exe, path, csv))
  local out = p:read("a")
  p:close()
  os.remove(path)
  T.eq(out, "component\n" .. table.concat(m:predict(X), "\n") .. "\n")
  assert(out:find("\n0\n", 1, true), "no row in the noise")
end)

T.test("noise: an initial noise guess (noise_rows), as mclust's initialization$noise", function()
  -- From the script's guess, mixem's hc start (and its kmeans one) reaches at least the
  -- log-likelihood of Mclust(X, G = 2, "VVV", initialization = list(noise = guess)).
  for file, g in pairs(guess) do
    local mask = {}
    for i = 1, #g.noise do mask[i] = g.noise:sub(i, i) == "1" end
    for _, init in ipairs{"hc", "kmeans"} do
      local m = mx.fit{data = data[file], family = "gaussian", covariance = "VVV", k = 2,
                       noise = true, noise_rows = mask, init = init, seed = 1, n_init = 1,
                       reg_covar = 0, tol = 1e-10}
      assert(m.loglik >= g.mclust_vvv2 - 1e-6 * math.abs(g.mclust_vvv2),
             string.format("%s %s: %.10g below mclust's %.10g", file, init, m.loglik,
                           g.mclust_vvv2))
    end
  end
  local X = data["data/diabetes.csv"]
  local all = {}
  for i = 1, #X do all[i] = true end
  T.errors(function() mx.fit{data = X, family = "gaussian", k = 2, noise = true, noise_rows = all} end,
           "flags every row")
  T.errors(function() mx.fit{data = X, family = "gaussian", k = 2, noise_rows = all} end,
           "set 'noise' too")
  T.errors(function() mx.fit{data = X, family = "gaussian", k = 2, noise = true, noise_rows = {true}} end,
           "one a row")
end)

T.test("noise: bad input", function()
  local X = data["data/diabetes.csv"]
  local cases = {
    {{algorithm = "squarem"}, "algorithm em or cem"},
    {{noise_volume = -1}, "noise_volume"},
    {{noise_init = 1}, "noise_init"},
    {{reseed = true}, "reseed"},
  }
  for _, c in ipairs(cases) do
    local o = {data = X, family = "gaussian", k = 2, noise = true}
    for key, val in pairs(c[1]) do o[key] = val end
    local ok, err = pcall(mx.fit, o)
    T.eq(ok, false, c[2])
    assert(err:find(c[2], 1, true), err)
  end
  local ok, err = pcall(mx.fit, {data = X, family = "gaussian", k = 2, noise_volume = 10})
  assert(not ok and err:find("set 'noise' too", 1, true), err)
  ok, err = pcall(mx.fit, {data = X, family = "gaussian", k = 2, noise = true,
                           init = {weights = {0.5, 0.5}}})
  assert(not ok and err:find("k + 1", 1, true), err)
  local m = mx.fit{data = X, family = "gaussian", k = 2, noise = true, seed = 1, n_init = 1}
  ok, err = pcall(m.sample, m, 10)
  assert(not ok and err:find("noise", 1, true), err)
end)
T.done()
