-- test_vmf.lua: the von_mises_fisher family against an independent NumPy/SciPy EM
-- (tests/reference/vmf_numpy.py): from the same start, the log-likelihood, weights, mean
-- directions and concentrations after 1, 5 and 50 iterations agree to 1e-8 relative on the wind
-- directions of data/wind.csv (one column of angles, K = 2 and 3), iris rows scaled to length 1
-- (D = 4, K = 3) and the binarised digits scaled to length 1 (D = 64, K = 3), with
-- log p(X) = ELBO + KL, KL >= 0 and a rising log-likelihood at every iteration.  log C_D(kappa)
-- agrees with SciPy's for D from 2 to 5000 and kappa from 1e-3 to 1e8.  Then identical
-- directions (kappa at its cap), sampling (Wood's algorithm), angles in degrees, model files and
-- bad input.
local T = dofile((os.getenv("MIXEM_TEST_SRCDIR") or ".") .. "/tests/lua/lib.lua")
local mx = require "mixem"
local fx = dofile(T.srcdir .. "/tests/reference/vmf_fixtures.lua")

local data = {}
local function load(name)
  data[name] = data[name] or mx.read_csv(T.srcdir .. "/data/" .. name)
  return data[name]
end

local worst = 0
local function near(a, b, tol, what)
  worst = math.max(worst, math.abs(a - b) / math.max(math.abs(a), math.abs(b), 1e-300))
  T.near(a, b, tol, what)
end

for _, f in ipairs(fx.fits) do
  T.test(string.format("%s (%s), K = %d after %d iterations", f.data, f.mode, f.k, f.iters),
         function()
    local X = load(f.data)
    local comps = {}
    for k = 1, f.k do comps[k] = {mu = f.mu0[k], kappa = f.kappa0[k]} end
    local prev = -math.huge
    local opts = {data = X, family = "von_mises_fisher", k = f.k, max_iter = f.iters, tol = 0,
                  init = {weights = f.w0, components = comps},
                  on_iter = function(it)
                    T.near(it.elbo + it.kl, it.loglik, 1e-12)
                    T.ok(it.kl >= -1e-9 * math.abs(it.loglik), "KL >= 0")
                    T.ok(it.loglik >= prev - 1e-12 * math.abs(prev), "monotone")
                    prev = it.loglik
                  end}
    if f.mode == "angles" then opts.angles = "radians" else opts.normalise = true end
    local m = mx.fit(opts)
    T.eq(m.n_iter, f.iters)
    near(m.loglik, f.loglik, 1e-8, "log-likelihood")
    for k = 1, f.k do
      local c = m.components[k]
      near(m.weights[k], f.weights[k], 1e-8, "weight")
      near(c.kappa, f.kappa[k], 1e-8, "kappa")
      for j = 1, #f.mu[k] do
        -- a coordinate near 0 is compared on the scale of the unit vector
        T.ok(math.abs(c.mu[j] - f.mu[k][j]) <= 1e-8, "mu")
      end
    end
  end)
end

T.test("log C_D(kappa) for large kappa and large D", function()
  local lworst = 0
  for _, e in ipairs(fx.lcs) do
    -- A one-component model scores its own mean direction at log C_D(kappa) + kappa.
    local x = {1}
    for j = 2, e.D do x[j] = 0 end
    local m = mx.model{family = "von_mises_fisher", weights = {1},
                       components = {{mu = x, kappa = e.kappa}}}
    local v = m:score_samples(mx.dataset{x})[1]
    local rel = math.abs(v - e.lcs) / math.max(math.abs(e.lcs), 1)
    lworst = math.max(lworst, rel)
    T.ok(rel <= 1e-11, string.format("D = %d, kappa = %g (%s): %.17g against %.17g", e.D,
                                     e.kappa, e.route, v, e.lcs))
  end
  print(string.format("log C_D(kappa) + kappa: largest difference from SciPy %.3g "
                      .. "(relative to max(|v|, 1)), over %d values", lworst, #fx.lcs))
  -- kappa = 0 is the uniform density: log of 1 / the area of the sphere (4 pi for D = 3).
  local m = mx.model{family = "von_mises_fisher", weights = {1},
                     components = {{mu = {0, 0, 1}, kappa = 0}}}
  T.near(m:score_samples(mx.dataset{{0.6, 0.8, 0}})[1], -math.log(4 * math.pi), 1e-15, "uniform")
end)

-- N directions at ANGLES (radians) plus noise, as unit vectors in three dimensions.
T.test("identical directions: kappa at its cap", function()
  local rows = {}
  for i = 1, 40 do rows[i] = i <= 20 and {0, 0.6, 0.8} or {1, 0, 0} end
  local X = mx.dataset(rows)
  local m = mx.fit{data = X, family = "von_mises_fisher", k = 2, seed = 2}
  for k = 1, 2 do T.eq(m.components[k].kappa, 1e6, "kappa at kappa_max") end
  local m2 = mx.fit{data = X, family = "von_mises_fisher", k = 2, seed = 2, kappa_max = 500}
  for k = 1, 2 do T.eq(m2.components[k].kappa, 500, "kappa at kappa_max = 500") end
  T.ok(math.abs(m2.weights[1] - 0.5) < 1e-12, "the two directions found")
  -- one component over both: finite kappa, the mean direction between them
  local one = mx.fit{data = X, family = "von_mises_fisher", k = 1}
  T.ok(one.components[1].kappa > 0 and one.components[1].kappa < 10, "finite kappa")
end)

T.test("sampling by Wood's algorithm recovers the parameters", function()
  for _, case in ipairs{{D = 3, kappa = 5}, {D = 10, kappa = 50}, {D = 3, kappa = 1e5},
                        {D = 2, kappa = 0}} do
    local mu = {}
    for j = 1, case.D do mu[j] = 1 / math.sqrt(case.D) end
    local m = mx.model{family = "von_mises_fisher", weights = {1},
                       components = {{mu = mu, kappa = case.kappa}}}
    local S = m:sample(4000, 9)
    local f = mx.fit{data = S, family = "von_mises_fisher", k = 1}
    local c = f.components[1]
    local dot = 0
    for j = 1, case.D do dot = dot + c.mu[j] * mu[j] end
    if case.kappa > 0 then
      T.ok(math.abs(c.kappa / case.kappa - 1) < 0.06, string.format("kappa %g from %g", c.kappa,
                                                                     case.kappa))
      T.ok(dot > 1 - 10 / case.kappa / 4000 - 1e-9, "mean direction")
    else
      T.ok(c.kappa < 0.1, "uniform: kappa near 0 (" .. c.kappa .. ")")
    end
  end
end)

T.test("angles in degrees, radians and as unit vectors give one fit", function()
  local W = load("wind.csv")
  local deg, vec = {}, {}
  for i = 1, #W do
    local a = W:row(i)[1]
    deg[i] = {a * 180 / math.pi}
    vec[i] = {math.cos(a), math.sin(a)}
  end
  local common = {k = 2, family = "von_mises_fisher", init = "kmeans", seed = 5, n_init = 1}
  local function fit(X, extra)
    local o = {data = X}
    for key, v in pairs(common) do o[key] = v end
    for key, v in pairs(extra) do o[key] = v end
    return mx.fit(o)
  end
  local r = fit(mx.dataset(vec), {init = "random_resp"})
  local a = fit(W, {angles = "radians", init = "random_resp"})
  local d = fit(mx.dataset(deg), {angles = "degrees", init = "random_resp"})
  T.near(a.loglik, r.loglik, 1e-10, "radians as unit vectors")
  T.near(d.loglik, r.loglik, 1e-10, "degrees")
  T.eq(a.n_params, 2 * 2 + 1)
  local S = d:sample(50, 3)
  for i = 1, 50 do
    local v = S:row(i)[1]
    T.ok(v > -180 and v <= 180, "a drawn angle in degrees")
  end
  local path = T.tmpname(".json")
  d:save(path)
  local back = mx.load(path)
  os.remove(path)
  T.eq(back:score(mx.dataset(deg)), d:score(mx.dataset(deg)), "score after a round trip")
  local r = mx.check_family{family = "von_mises_fisher", data = W, k = 2, angles = "radians"}
  T.eq(r.failed, 0, "check_family with angles")
end)

T.test("bad input", function()
  T.errors(function()
    mx.fit{data = mx.dataset{{1, 0}, {0.6, 0.7}}, family = "von_mises_fisher"}
  end, "row 2, column '1': von_mises_fisher: the row's length is 0.9219544457, not 1")
  T.errors(function()
    mx.fit{data = mx.dataset{{1, 0}, {0, 0}}, family = "von_mises_fisher", normalise = true}
  end, "row 2, column '1': von_mises_fisher: a row of zeros has no direction")
  local n = mx.fit{data = mx.dataset{{2, 0}, {0, 3}, {1, 1}}, family = "von_mises_fisher",
                   normalise = true}
  T.ok(n.loglik == n.loglik, "normalise scales rows")
  T.errors(function() mx.fit{data = mx.dataset{{1}, {2}}, family = "von_mises_fisher"} end,
           "von_mises_fisher: rows are unit vectors in D >= 2 dimensions, but the data have 1 "
           .. "column")
  T.errors(function()
    mx.fit{data = mx.dataset{{1, 0}}, family = "von_mises_fisher", angles = "degrees"}
  end, "angles = degrees reads one column of angles, but the data have 2 columns")
  T.errors(function()
    mx.fit{data = mx.dataset{{1}}, family = "von_mises_fisher", angles = "grads"}
  end, "angles")
  local W = load("wind.csv")
  local function start(c1, c2)
    return function()
      mx.fit{data = W, family = "von_mises_fisher", angles = "radians", k = 2,
             init = {components = {c1, c2}}}
    end
  end
  local ok = {mu = {1, 0}, kappa = 1}
  T.errors(start({mu = {0, 0}, kappa = 1}, ok), "von_mises_fisher: 'mu' is zero")
  T.errors(start({mu = {0, 1}, kappa = -1}, ok),
           "von_mises_fisher: 'kappa' must be a finite number >= 0 (got -1)")
  T.errors(start({mu = {0, 1, 0}, kappa = 1}, ok), "mu")
  T.errors(start({mean = {0, 1}, kappa = 1}, ok),
           "von_mises_fisher: a component has no parameter 'mean'")
end)

print(string.format("largest relative difference from the NumPy reference: %.3g", worst))
T.done()
