-- test_more_families.lua: the exponential, gamma and multinomial families.
-- Parity: from the same start, the log-likelihood, weights and parameters after 1, 5 and 50
-- iterations agree to 1e-8 relative with independent NumPy/SciPy EMs
-- (tests/reference/exponential_gamma_numpy.py on data/coal_intervals.csv and data/faithful.csv,
-- tests/reference/multinomial_numpy.py on data/licenses_bow.csv), and the ELBO/KL identities hold
-- at every iteration; the largest relative difference of each is printed.  Then the degenerate
-- cases (each family's policy, documented at the head of families/NAME.c), sampling, model
-- files, threads and bad input.
local T = dofile((os.getenv("MIXEM_TEST_SRCDIR") or ".") .. "/tests/lua/lib.lua")
local mx = require "mixem"
local function data(name) return mx.read_csv(T.srcdir .. "/data/" .. name .. ".csv") end
local function fixtures(name) return dofile(T.srcdir .. "/tests/reference/" .. name .. "_fixtures.lua") end
local COAL, FAITHFUL, BOW = data("coal_intervals"), data("faithful"), data("licenses_bow")

-- The largest |a - b| / max(|a|, |b|) over two numbers or nested arrays of numbers.
local function reldiff(a, b)
  if type(a) == "table" then
    T.eq(#a, #b, "lengths")
    local m = 0
    for i = 1, #a do m = math.max(m, reldiff(a[i], b[i])) end
    return m
  end
  local s = math.max(math.abs(a), math.abs(b), 1e-300)
  return math.abs(a - b) / s
end

-- Fits from F's start for F.iters iterations, checking the identities on the way, and returns
-- the largest relative difference from F's weights, log-likelihood and parameters KEYS.
local function parity(X, family, f, keys, opts)
  local comps = {}
  for k = 1, f.k do
    comps[k] = {}
    for _, key in ipairs(keys) do comps[k][key] = f[key .. "0"][k] end
  end
  local prev = -math.huge
  local args = {data = X, family = family, k = f.k, init = {weights = f.w0, components = comps},
                max_iter = f.iters, tol = 0, on_iter = function(it)
                  T.near(it.elbo + it.kl, it.loglik, 1e-12, "ELBO + KL")
                  T.ok(it.kl >= -1e-9 * math.abs(it.loglik), "KL >= 0")
                  -- a Dirichlet prior (pseudo_count > 0) makes EM climb the posterior, not the
                  -- likelihood
                  if not (opts and opts.pseudo_count and opts.pseudo_count > 0) then
                    T.ok(it.loglik >= prev - 1e-12 * math.abs(prev), "monotone")
                  end
                  prev = it.loglik
                end}
  for key, v in pairs(opts or {}) do args[key] = v end
  local m = mx.fit(args)
  T.eq(m.n_iter, f.iters)
  local worst = math.max(reldiff(m.loglik, f.loglik), reldiff(m.weights, f.weights))
  for _, key in ipairs(keys) do
    local got = {}
    for k = 1, f.k do got[k] = m.components[k][key] end
    worst = math.max(worst, reldiff(got, f[key]))
  end
  return worst
end

local function parity_suite(family, fx, keys, X_of, opts_of)
  local by_iter = {}
  for _, f in ipairs(fx) do
    T.test(string.format("%s parity: %s K = %d after %d iterations", family, f.data or "", f.k,
                         f.iters), function()
      local d = parity(X_of(f), family, f, keys, opts_of and opts_of(f))
      T.ok(d <= 1e-8, string.format("relative difference %.3g <= 1e-8", d))
      by_iter[f.iters] = math.max(by_iter[f.iters] or 0, d)
    end)
  end
  print(string.format("%s: largest relative difference from the NumPy/SciPy reference after "
                      .. "1, 5, 50 iterations: %.2e, %.2e, %.2e", family, by_iter[1] or -1,
                      by_iter[5] or -1, by_iter[50] or -1))
end

parity_suite("exponential", fixtures("exponential"), {"rate"},
             function(f) return f.data == "faithful" and FAITHFUL or COAL end)
parity_suite("gamma", fixtures("gamma"), {"shape", "rate"}, function() return FAITHFUL end)
parity_suite("multinomial", fixtures("multinomial"), {"prob"}, function() return BOW end,
             function(f) return {pseudo_count = f.pseudo_count} end)

-- ---- degenerate cases --------------------------------------------------------------------

-- Two distinct rows, K = 3: a component takes no row; it is kept at weight 0 with a warning,
-- and strict_empty makes it the family's error.
local function empty_component(family, rows, what)
  T.test(family .. ": an empty component", function()
    local X = mx.dataset(rows)
    local m = mx.fit{data = X, family = family, k = 3, init = "kmeans", n_init = 1, quiet = true}
    local zero = 0
    for k = 1, 3 do if m.weights[k] == 0 then zero = zero + 1 end end
    T.ok(zero >= 1, "a component at weight 0")
    T.ok(m.warnings[1] and m.warnings[1]:find("has no weight", 1, true), "a warning names it")
    T.errors(function()
      mx.fit{data = X, family = family, k = 3, init = "kmeans", n_init = 1, strict_empty = true}
    end, what)
  end)
end
local two, two_counts = {}, {}
for i = 1, 20 do
  two[i] = {i % 2 + 1, 2 * (i % 2) + 1}
  two_counts[i] = {i % 2, 1 - i % 2, 3}
end
empty_component("exponential", two, "exponential: component")
empty_component("gamma", two, "gamma: component")
empty_component("multinomial", two_counts, "multinomial: component")

T.test("exponential: a rate is never driven to 0 or infinity", function()
  -- the rate is 1 / a weighted mean, within [1 / max x, 1 / min x] even at the extremes
  local m = mx.fit{data = mx.dataset{{1e-300}, {2e-300}, {1e300}, {3e300}}, family = "exponential",
                   k = 2, init = "kmeans"}
  for k = 1, 2 do
    local r = m.components[k].rate[1]
    T.ok(r >= 1 / 3e300 and r <= 1e300, "a rate in [1 / max x, 1 / min x]: " .. r)
  end
  T.ok(m.loglik == m.loglik and math.abs(m.loglik) < math.huge, "a finite log-likelihood")
  -- the one way out, a weighted sum that overflows, is an error naming component and column
  T.errors(function()
    mx.fit{data = mx.dataset{{1e308}, {1.5e308}}, family = "exponential", k = 1}
  end, "exponential: component 1, column 1: the rate 0 = 2 / inf is not finite and > 0")
end)

T.test("gamma: the shape on identical values is capped at max_shape", function()
  local rows = {}
  for i = 1, 30 do rows[i] = {5, i} end   -- column 1 constant, column 2 not
  local X = mx.dataset(rows)
  local m = mx.fit{data = X, family = "gamma", k = 1}
  T.eq(m.components[1].shape[1], 1e6, "shape capped at the default")
  T.near(m.components[1].rate[1], 1e6 / 5, 1e-15, "rate = shape / mean")
  T.ok(m.components[1].shape[2] < 10, "the other column is estimated")
  local c = mx.fit{data = X, family = "gamma", k = 1, max_shape = 50}
  T.eq(c.components[1].shape[1], 50, "shape capped at max_shape")
  T.near(c.components[1].rate[1], 10, 1e-15, "rate = max_shape / mean")
  T.ok(c.loglik < m.loglik, "a lower cap, a lower likelihood")
  -- the cap is the constrained maximum: the fit climbs and its identities hold
  local prev = -math.huge
  mx.fit{data = X, family = "gamma", k = 2, max_shape = 50, init = "random_resp", seed = 1,
         n_init = 1, short_starts = 1, max_iter = 300, on_iter = function(it)
           T.near(it.elbo + it.kl, it.loglik, 1e-12, "ELBO + KL")
           T.ok(it.loglik >= prev - 1e-12 * math.abs(prev), "monotone")
           prev = it.loglik
         end}
  -- the rate is shape / mean, the mean within the column's range: only an overflow of the
  -- weighted sum stops it, as an error naming component and column
  T.errors(function()
    mx.fit{data = mx.dataset{{1e308}, {1.5e308}}, family = "gamma", k = 1}
  end, "gamma: component 1, column 1: the weighted mean inf = inf / 2 is not finite and > 0")
  T.errors(function() mx.fit{data = X, family = "gamma", max_shape = 0.5} end,
           "gamma: option 'max_shape' = '0.5' is not a finite number in [1, 1e12]")
end)

T.test("gamma: the Newton solve against known roots", function()
  -- One component on two values a and b: s = log((a + b) / 2) - log(ab) / 2; the shape then
  -- solves log(shape) - digamma(shape) = s.  Check the root through mixem's own fitted density:
  -- the derivative of the log-likelihood in the shape, at rate = shape / mean, must vanish.
  -- shapes of about 8.7, 0.26, 4e4 (the asymptotic series) and 0.086
  for _, v in ipairs{{1, 2}, {1, 1000}, {1, 1.01}, {0.001, 1e6}} do
    local X = mx.dataset{{v[1]}, {v[2]}}
    local m = mx.fit{data = X, family = "gamma", k = 1}
    local a = m.components[1].shape[1]
    local function ll(shape)
      local mean = (v[1] + v[2]) / 2
      local t = mx.model{family = "gamma", columns = {"1"}, components = {{shape = {shape}, rate = {shape / mean}}}}
      return t:score(X)
    end
    local h = a * 1e-4
    local slope = (ll(a + h) - ll(a - h)) / (2 * h)
    T.ok(math.abs(slope) * a < 1e-5 * math.max(1, math.abs(m.loglik)),
         string.format("profile slope %.3g at shape %.6g", slope, a))
  end
  -- a root near 4e12 lies above the cap: the shape is the cap
  local m = mx.fit{data = mx.dataset{{1}, {1 + 1e-6}}, family = "gamma", k = 1}
  T.eq(m.components[1].shape[1], 1e6, "capped")
end)

T.test("multinomial: a probability driven to 0 stays at eps", function()
  local X = mx.dataset{{3, 0, 1}, {2, 0, 4}, {1, 0, 1}}
  local m = mx.fit{data = X, family = "multinomial", k = 1}
  local p = m.components[1].prob
  T.eq(p[2], 1e-10, "the floor")
  T.near(p[1], 6 / 12 * (1 - 1e-10), 1e-15, "the others rescaled")
  T.near(p[1] + p[2] + p[3], 1, 1e-15, "a probability vector")
  T.eq(m.components[1].size, 4, "the mean trials")
  local l = mx.fit{data = X, family = "multinomial", k = 1, pseudo_count = 1}
  T.near(l.components[1].prob[2], 1 / 15, 1e-15, "add-one smoothing")
  local e = mx.fit{data = X, family = "multinomial", k = 1, eps = 1e-3}
  T.eq(e.components[1].prob[2], 1e-3, "the floor is the option")
  -- a model whose probabilities are at the floor is a file and a start like any other
  local path = T.tmpname(".json")
  m:save(path)
  local c = mx.load(path)
  os.remove(path)
  T.eq(c:score(X), m:score(X), "score after a round trip")
  local w = mx.fit{data = mx.dataset{{0, 5, 1}}, family = "multinomial", k = 1, init = m}
  T.ok(w.loglik > -math.huge, "a row that is unlikely under the start is no error")
  T.errors(function() mx.fit{data = X, family = "multinomial", eps = 0.5} end,
           "multinomial: option 'eps' = '0.5' is not a finite number in (0, 0.01]")
end)

-- ---- sampling, model files, threads, BIC --------------------------------------------------

local function round_trip(family, X, k, check_row, extra)
  T.test(family .. ": starts, sampling, model files, threads", function()
    local a = mx.fit{data = X, family = family, k = k, n_init = 3, threads = 1, block_size = 11, seed = 2}
    local b = mx.fit{data = X, family = family, k = k, n_init = 3, threads = 3, block_size = 11, seed = 2}
    T.eq(a.loglik, b.loglik, "1 and 3 threads")
    T.eq(a.n_params, extra + k - 1, "free parameters")
    T.near(a:bic(X), -2 * a.loglik + a.n_params * math.log(#X), 1e-12, "BIC")
    local S = a:sample(300, 7)
    T.eq(#S, 300)
    for i = 1, 300 do check_row(S:row(i)) end
    local path = T.tmpname(".json")
    a:save(path)
    local c = mx.load(path)
    os.remove(path)
    T.eq(c.family, family)
    T.eq(c:score(X), a:score(X), "score after a round trip")
    local w = mx.fit{data = X, family = family, k = k, init = a, max_iter = 1, tol = 0,
                     block_size = 11}
    T.ok(w.initial_loglik == a.loglik, "warm start begins at the model")
    T.ok(w.loglik >= a.loglik - 1e-9 * math.abs(a.loglik), "and climbs")
    for _, s in ipairs{"kmeans", "kmeans++", "random", "random_resp"} do
      local f = mx.fit{data = X, family = family, k = k, init = s, seed = 4}
      T.ok(f.loglik > -math.huge, s)
    end
  end)
end
local function positive(row) for _, v in ipairs(row) do T.ok(v > 0, "a value > 0") end end
round_trip("exponential", COAL, 2, positive, 2)
round_trip("gamma", FAITHFUL, 2, positive, 2 * 2 * 2)
round_trip("multinomial", BOW, 3, function(row)
  local n = 0
  for _, v in ipairs(row) do
    T.ok(v >= 0 and v == math.floor(v), "a count")
    n = n + v
  end
  T.ok(n > 0, "not a row of zeros")
end, 3 * 99)

T.test("multinomial: sample_size", function()
  local m = mx.fit{data = BOW, family = "multinomial", k = 2, sample_size = 7, seed = 1}
  local S = m:sample(20, 3)
  for i = 1, 20 do
    local n = 0
    for _, v in ipairs(S:row(i)) do n = n + v end
    T.eq(n, 7, "trials per row")
  end
end)

-- ---- the density plot ------------------------------------------------------------------

T.test("plot.density: fitted densities over a histogram", function()
  local m = mx.fit{data = COAL, family = "exponential", k = 2, seed = 1}
  for _, ext in ipairs{".png", ".svg"} do
    local path = T.tmpname(ext)
    mx.plot.density(m, COAL, path, {title = "coal"})
    local head = T.read(path):sub(1, 8)
    os.remove(path)
    T.ok(ext == ".png" and head == "\137PNG\r\n\26\n" or ext == ".svg" and head:find("<?xml", 1, true),
         "a picture: " .. ext)
  end
  -- a model of one column of any family: gaussian too; the family's refusals are left out
  local W = mx.read_csv(T.srcdir .. "/data/faithful.csv", {columns = {"waiting"}})
  local g = mx.fit{data = W, family = "gaussian", k = 2, seed = 1}
  local path = T.tmpname(".png")
  mx.plot.density(g, W, path)
  os.remove(path)
  T.errors(function() mx.plot.density(mx.fit{data = FAITHFUL, family = "gamma", k = 2}, FAITHFUL,
                                      T.tmpname(".png")) end,
           "a density plot needs a model of one column (this gamma model has 2)")
end)

-- ---- bad input ---------------------------------------------------------------------------

T.test("bad input", function()
  for _, fam in ipairs{"exponential", "gamma"} do
    T.errors(function() mx.fit{data = mx.dataset{{1, 2}, {3, -1}}, family = fam} end,
             "row 2, column '2': " .. fam .. " values must be finite and > 0 (got -1)")
    T.errors(function() mx.fit{data = mx.dataset{{1, 2}, {0, 1}}, family = fam} end,
             "row 2, column '1': " .. fam .. " values must be finite and > 0 (got 0)")
  end
  T.errors(function() mx.fit{data = mx.dataset{{1, 2}, {3, -1}}, family = "multinomial"} end,
           "row 2, column '2': multinomial counts must be whole numbers >= 0 (got -1)")
  T.errors(function() mx.fit{data = mx.dataset{{1.5, 2}}, family = "multinomial"} end,
           "row 1, column '1': multinomial counts must be whole numbers >= 0 (got 1.5)")
  T.errors(function() mx.fit{data = mx.dataset{{1, 2}, {0, 0}}, family = "multinomial"} end,
           "row 2, column '1': a row of zeros: a multinomial row needs at least one count in its 2 columns")
  T.errors(function() mx.fit{data = mx.dataset{{1}, {2}}, family = "multinomial"} end,
           "multinomial: the data need at least 2 columns (categories), not 1")
  local function start(fam, X, c1, c2)
    return function() mx.fit{data = X, family = fam, k = 2, init = {components = {c1, c2}}} end
  end
  T.errors(start("gamma", FAITHFUL, {shape = {1, 1}, rate = {1, 1}}, {shape = {1, 1}, mean = {1, 1}}),
           "gamma: a component has no parameter 'mean'")
  T.errors(start("gamma", FAITHFUL, {shape = {1, 0}, rate = {1, 1}}, {shape = {1, 1}, rate = {1, 1}}),
           "gamma: 'shape' must be > 0 (got 0 at entry 2)")
  T.errors(start("exponential", COAL, {rate = -1}, {rate = 1}), "exponential: 'rate' must be > 0 (got -1)")
  local p = {}
  for l = 1, 100 do p[l] = 0.01 end
  local q = {}
  for l = 1, 100 do q[l] = 0.02 end
  T.errors(start("multinomial", BOW, {prob = p}, {prob = q}),
           "multinomial: 'prob' must sum to 1 (got 2)")
  T.errors(start("multinomial", BOW, {prob = p}, {prob = p, size = 2.5}),
           "multinomial: 'size' must be a whole number from 1 to 2^32 - 1 (got 2.5)")
  T.errors(start("multinomial", BOW, {prob = p}, {prob = {0.5, 0.5}}),
           "multinomial")
end)

T.done()
