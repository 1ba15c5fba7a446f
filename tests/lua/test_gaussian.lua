-- test_gaussian.lua: the Gaussian family beyond parity: accuracy far from the origin, classification
-- EM as k-means, starts, bad input, thread independence, and the helpers the scripts use.
local T = dofile((os.getenv("MIXEM_TEST_SRCDIR") or ".") .. "/tests/lua/lib.lua")
local mx = require "mixem"
local X = mx.read_csv(T.srcdir .. "/data/iris.csv")
local n, d = #X, X:cols()

local function rows_of(D, shift)
  local t = {}
  for i = 1, #D do
    local r = D:row(i)
    for j = 1, #r do r[j] = r[j] + (shift or 0) end
    t[i] = r
  end
  return t
end

local function start(shift)
  local comps = {}
  for j, i in ipairs{1, 51, 101} do
    local m = X:row(i)
    for q = 1, #m do m[q] = m[q] + shift end
    comps[j] = {mean = m, cov = {{0.5, 0, 0, 0}, {0, 0.5, 0, 0}, {0, 0, 0.5, 0}, {0, 0, 0, 0.5}}}
  end
  return {weights = {0.3, 0.3, 0.4}, components = comps}
end

T.test("data offset by 1e6 give the same parameters as the centred data (1e-8)", function()
  local far = mx.dataset(rows_of(X, 1e6))
  for _, cov in ipairs{"full", "tied", "diag", "spherical"} do
    local a = mx.fit{data = X, family = "gaussian", covariance = cov, k = 3, init = start(0),
                     max_iter = 30, tol = 0}
    local b = mx.fit{data = far, family = "gaussian", covariance = cov, k = 3, init = start(1e6),
                     max_iter = 30, tol = 0}
    for j = 1, 3 do
      T.near(b.weights[j], a.weights[j], 1e-8, cov .. " weight")
      for q = 1, d do
        T.near(b.components[j].mean[q] - 1e6, a.components[j].mean[q], 1e-8, cov .. " mean")
        for r = 1, d do
          local x, y = b.components[j].cov[q][r], a.components[j].cov[q][r]
          local s = math.max(a.components[j].cov[q][q], a.components[j].cov[r][r])
          T.ok(math.abs(x - y) <= 1e-8 * s, cov .. " cov " .. x .. " vs " .. y)
        end
      end
    end
  end
end)

-- Lloyd's algorithm, written out here, from the given centres until no label changes.
local function lloyd(D, centres)
  local labels = {}
  for _ = 1, 100 do
    local changed = false
    for i = 1, #D do
      local r, best, arg = D:row(i), math.huge, 0
      for k, c in ipairs(centres) do
        local s = 0
        for q = 1, #r do s = s + (r[q] - c[q]) ^ 2 end
        if s < best then best, arg = s, k end
      end
      if labels[i] ~= arg then changed = true end
      labels[i] = arg
    end
    if not changed then break end
    for k = 1, #centres do
      local sum, cnt = {}, 0
      for q = 1, D:cols() do sum[q] = 0 end
      for i = 1, #D do
        if labels[i] == k then
          cnt = cnt + 1
          for q, v in ipairs(D:row(i)) do sum[q] = sum[q] + v end
        end
      end
      for q = 1, D:cols() do centres[k][q] = sum[q] / cnt end
    end
  end
  return labels, centres
end

T.test("classification EM with a shared spherical covariance and equal weights is k-means", function()
  local c0 = {X:row(1), X:row(2), X:row(3)}   -- a poor start, so that Lloyd has work to do
  local init = {weights = {1 / 3, 1 / 3, 1 / 3}, components = {}}
  for j = 1, 3 do init.components[j] = {mean = {table.unpack(c0[j])}, var = 1} end
  local labels, centres = lloyd(X, c0)
  local m = mx.fit{data = X, family = "gaussian", covariance = "tied_spherical", k = 3,
                   algorithm = "cem", fixed = {"weights"}, init = init, max_iter = 100, tol = 0}
  local got = m:predict(X)
  for i = 1, n do T.eq(got[i], labels[i], "label " .. i) end
  for j = 1, 3 do
    for q = 1, d do T.near(m.components[j].mean[q], centres[j][q], 1e-12, "centre") end
  end
  for _, it in ipairs(m.trace) do
    T.eq(it.entropy, 0); T.near(it.elbo + it.kl, it.loglik, 1e-12); T.ok(it.kl >= -1e-9, "kl")
  end
end)

T.test("starts: kmeans, kmeans++, random, random_resp, partial", function()
  for _, s in ipairs{"kmeans", "kmeans++", "random", "random_resp"} do
    local m = mx.fit{data = X, family = "gaussian", k = 3, init = s, seed = 1}
    T.ok(m.loglik > -400, s)
  end
  -- Means alone: covariances and weights come from the start (as scikit-learn's means_init).
  local m = mx.fit{data = X, family = "gaussian", k = 3, max_iter = 0,
                   init = {components = {{mean = X:row(1)}, {mean = X:row(51)}, {mean = X:row(101)}}}}
  T.eq(m.components[1].mean[1], X:row(1)[1])
  T.ok(m.components[1].cov[1][1] > 0.01, "covariance estimated")
  local labels = mx.kmeans(X, 3, {seed = 0})
  T.eq(#labels, n)
end)

T.test("with one component, full and tied are the same model", function()
  local a = mx.fit{data = X, family = "gaussian", covariance = "full", k = 1}
  local b = mx.fit{data = X, family = "gaussian", covariance = "tied", k = 1}
  T.near(a.loglik, b.loglik, 1e-12)
  for q = 1, d do
    for r = 1, d do T.near(a.components[1].cov[q][r], b.components[1].cov[q][r], 1e-12) end
  end
  T.ok(math.abs(a.components[1].cov[1][3]) > 0.1, "off-diagonal covariance estimated")
end)

T.test("component forms: cov for every type, var for diag and spherical", function()
  local dg = mx.fit{data = X, family = "gaussian", covariance = "diag", k = 2}
  T.eq(#dg.components[1].var, d); T.eq(dg.components[1].cov[1][2], 0)
  T.eq(dg.components[1].cov[2][2], dg.components[1].var[2])
  local sp = mx.fit{data = X, family = "gaussian", covariance = "spherical", k = 2}
  T.eq(type(sp.components[1].var), "number")
  local S = sp:sample(100, 3)
  T.eq(#S, 100); T.eq(S:cols(), d)
  T.eq(sp.n_params, 2 * 4 + 2 + 1)
  local full = mx.fit{data = X, family = "gaussian", k = 2}
  T.eq(full.n_params, 2 * 4 + 2 * 10 + 1)
end)

T.test("threads give identical results", function()
  for _, cov in ipairs{"full", "diag"} do
    local ref
    for t = 1, 3 do
      local m = mx.fit{data = X, family = "gaussian", covariance = cov, k = 3, n_init = 2,
                       seed = 5, threads = t, block_size = 7}
      ref = ref or m
      T.eq(m.loglik, ref.loglik)
      for j = 1, 3 do T.eq(m.components[j].cov[1][1], ref.components[j].cov[1][1]) end
    end
  end
end)

T.test("bad input: constant column, duplicated rows, N < K, collapse", function()
  local rows = rows_of(X)
  for i = 1, #rows do rows[i][2] = 3 end     -- a constant column
  local C = mx.dataset(rows)
  local m = mx.fit{data = C, family = "gaussian", k = 2, seed = 0}
  T.ok(m.components[1].cov[2][2] >= 1e-6 and m.components[1].cov[2][2] < 2e-6,
       "reg_covar keeps the constant column's variance at 1e-6")
  T.errors(function() mx.fit{data = C, family = "gaussian", k = 2, reg_covar = 0} end,
           "component 1: the covariance is not positive definite")
  -- Duplicated rows are weighted rows.
  local dup, w = {}, {}
  for i = 1, n do dup[#dup + 1] = X:row(i); dup[#dup + 1] = X:row(i); w[i] = 2 end
  local s = start(0)
  local a = mx.fit{data = mx.dataset(dup), family = "gaussian", k = 3, init = s, max_iter = 10, tol = 0}
  local b = mx.fit{data = mx.dataset{weights = w, table.unpack(rows_of(X))}, family = "gaussian",
                   k = 3, init = s, max_iter = 10, tol = 0}
  T.near(a.loglik, b.loglik, 1e-10)
  T.errors(function() mx.fit{data = X:subset{1, 2}, family = "gaussian", k = 3} end,
           "'k' exceeds the number of rows")
  T.errors(function() mx.fit{data = X, family = "gaussian", covariance = "ful"} end,
           "'covariance' = 'ful' is not full")
  T.errors(function() mx.fit{data = X, family = "gaussian", algorithm = "hard"} end,
           "unknown algorithm 'hard' (known: em, cem, squarem, sem, annealed, incremental, online)")
  T.errors(function() mx.fit{data = X, family = "gaussian", k = 1, init = {components = {{mean = {1, 2}}}}} end,
           "'mean' must be an array of 4 finite numbers")
  T.errors(function() mx.fit{data = X, family = "gaussian", k = 1, init = {components = {{mean = {1, 2, 3, 4},
           cov = {{1, 0, 0, 0}, {0, -1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}}}}}} end,
           "gaussian: the given 'cov' is not positive definite")
  -- issue 19: a start the user gives is described as given, not as a collapse
  T.errors(function() mx.fit{data = X, family = "gaussian", k = 1, init = {components = {{mean = {1, 2, 3, 4},
           precision = {{1, 2, 0, 0}, {2, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}}}}}} end,
           "gaussian: the given 'precision' is not positive definite")
  T.errors(function() mx.fit{data = X, family = "gaussian", k = 1, init = {components = {{mean = {1, 2, 3, 4},
           cov = {{1, 0}, {0, 1}}}}}} end,
           "gaussian: 'cov' must be a symmetric 4 by 4 matrix of finite numbers")
  T.errors(function() mx.fit{data = X, family = "gaussian", covariance = "diag", k = 1,
           init = {components = {{mean = {1, 2, 3, 4}, var = {1, -2, 1, 1}}}}} end,
           "the given 'var' is not positive definite (every variance must be > 0)")
end)

T.test("a collapsing component: an error naming it and the iteration, or re-seeding", function()
  -- 60 scattered points and 15 copies of one point; component 1 starts on the copies.
  local rows = {}
  for i = 1, 60 do rows[i] = {math.sin(i) * 3, math.cos(1.7 * i) * 2 + i / 30} end
  for i = 61, 75 do rows[i] = {10, 10} end
  local D = mx.dataset(rows)
  local init = {components = {{mean = {10, 10}, cov = {{0.01, 0}, {0, 0.01}}},
                              {mean = {-1, 0}, cov = {{1, 0}, {0, 1}}},
                              {mean = {1, 2}, cov = {{1, 0}, {0, 1}}}}}
  T.errors(function() mx.fit{data = D, family = "gaussian", k = 3, reg_covar = 0, init = init} end,
           "iteration 1: gaussian: component 1: the covariance is not positive definite")
  local m = mx.fit{data = D, family = "gaussian", k = 3, reg_covar = 0, init = init,
                   reseed = true, max_iter = 20, tol = 0}
  local seen = 0
  for _, it in ipairs(m.trace) do
    if it.reseeded > 0 then seen = seen + 1 end
    T.ok(it.loglik == it.loglik and it.loglik > -math.huge, "finite log-likelihood")
    T.near(it.elbo + it.kl, it.loglik, 1e-9)
  end
  T.ok(seen >= 1 and m.trace[1].reseeded == 1, "component 1 re-seeded at iteration 1")
  T.ok(m.loglik == m.loglik, "no NaN")
  T.errors(function() mx.fit{data = D, family = "gaussian", reseed = 1} end, "'reseed' must be a boolean")
end)

T.test("adjusted Rand index", function()
  -- scikit-learn 1.2.1 adjusted_rand_score gives these two values.
  T.near(mx.adjusted_rand_index({1, 1, 2, 2, 3, 3}, {1, 1, 2, 3, 3, 3}), 0.4444444444444444, 1e-12)
  T.near(mx.adjusted_rand_index({1, 1, 1, 2, 2, 2}, {1, 2, 1, 2, 1, 2}), -0.1111111111111111, 1e-12)
  T.eq(mx.adjusted_rand_index({1, 2, 2}, {2, 1, 1}), 1)
  T.errors(function() mx.adjusted_rand_index({1}, {1, 2}) end, "the labelings have 1 and 2 items")
end)

-- issue 19 (scikit-learn #18216): a constant column far from 0 gives a variance that rounding
-- can push below zero; it is 0 (plus reg_covar), not a collapse.  Before the clamp, 39 of these
-- 200 columns stopped the fit with "variance -3.8e-06 is not positive".
T.test("a variance below zero by rounding is no collapse", function()
  for trial = 1, 200 do
    local c = 1e5 + trial * 0.1 + 1 / 3
    local rows = {}
    for i = 1, 7 do rows[i] = {c, i} end
    local m = mx.fit{data = mx.dataset(rows), family = "gaussian", covariance = "diag", k = 1,
                     reg_covar = 1e-300, n_init = 1, max_iter = 1, quiet = true}
    T.ok(m.components[1].var[1] >= 0, "a variance >= 0")
  end
end)

T.done()
