-- test_student_t.lua: the student_t family against an independent NumPy/SciPy ECM
-- (tests/reference/student_t_numpy.py): from the same start, the log-likelihood, weights, means,
-- scales and degrees of freedom after 1, 5 and 50 iterations agree to 1e-8 relative, on faithful
-- (K = 2, full scales with df estimated; diagonal scales with df fixed at 4) and iris (K = 3,
-- full, df estimated), with log p(X) = ELBO + KL, KL >= 0 and a rising log-likelihood at every
-- iteration; the log-likelihood at the start equals a direct sum written here.  Then the
-- unbounded degrees of freedom on Gaussian data (capped at df_max, the fit near gaussian's), the
-- robustness to gross outliers, starts, sampling, model files, options and bad input.
local T = dofile((os.getenv("MIXEM_TEST_SRCDIR") or ".") .. "/tests/lua/lib.lua")
local mx = require "mixem"
local fixtures = dofile(T.srcdir .. "/tests/reference/student_t_fixtures.lua")
local lgamma, log, pi = mx.lgamma, math.log, math.pi

local data = {}
local function load(name)
  data[name] = data[name] or mx.read_csv(T.srcdir .. "/data/" .. name)
  return data[name]
end

local function start_of(f)
  local comps = {}
  for k = 1, f.k do comps[k] = {mean = f.mean0[k], scale = f.scale0[k], df = f.df0[k]} end
  return {weights = f.w0, components = comps}
end

-- log t_nu(x; mu, S) for d <= 4 by Cholesky written here, and the mixture's log-likelihood.
local function log_t(x, mu, S, nu)
  local d, L = #x, {}
  for i = 1, d do
    L[i] = {}
    for j = 1, i do
      local s = S[i][j]
      for m = 1, j - 1 do s = s - L[i][m] * L[j][m] end
      L[i][j] = i == j and math.sqrt(s) or s / L[j][j]
    end
  end
  local z, delta, logdet = {}, 0, 0
  for i = 1, d do
    local s = x[i] - mu[i]
    for m = 1, i - 1 do s = s - L[i][m] * z[m] end
    z[i] = s / L[i][i]
    delta = delta + z[i] * z[i]
    logdet = logdet + 2 * log(L[i][i])
  end
  return lgamma((nu + d) / 2) - lgamma(nu / 2) - d / 2 * log(nu * pi) - logdet / 2
         - (nu + d) / 2 * log(1 + delta / nu)
end

local function direct_loglik(X, w, mu, S, nu)
  local total = 0
  for i = 1, #X do
    local row, terms, top = X:row(i), {}, -math.huge
    for k = 1, #w do
      terms[k] = log(w[k]) + log_t(row, mu[k], S[k], nu[k])
      top = math.max(top, terms[k])
    end
    local acc = 0
    for k = 1, #w do acc = acc + math.exp(terms[k] - top) end
    total = total + top + log(acc)
  end
  return total
end

local worst = 0   -- the largest relative difference from the reference, reported at the end
local function near(a, b, what)
  worst = math.max(worst, math.abs(a - b) / math.max(math.abs(a), math.abs(b), 1e-300))
  T.near(a, b, 1e-8, what)
end

for _, f in ipairs(fixtures) do
  T.test(string.format("%s, %s, df %s, K = %d after %d iterations", f.data, f.covariance,
                       tostring(f.df), f.k, f.iters), function()
    local X = load(f.data)
    local prev = -math.huge
    local m = mx.fit{data = X, family = "student_t", covariance = f.covariance, df = f.df, k = f.k,
                     init = start_of(f), max_iter = f.iters, tol = 0,
                     on_iter = function(it)
                       T.near(it.elbo + it.kl, it.loglik, 1e-12)
                       T.ok(it.kl >= -1e-9 * math.abs(it.loglik), "KL >= 0")
                       T.ok(it.loglik >= prev - 1e-12 * math.abs(prev), "monotone")
                       prev = it.loglik
                     end}
    T.eq(m.n_iter, f.iters)
    T.near(m.initial_loglik, direct_loglik(X, f.w0, f.mean0, f.scale0, f.df0), 1e-12,
           "log-likelihood at the start")
    near(m.loglik, f.loglik, "log-likelihood")
    local d = X:cols()
    for k = 1, f.k do
      local c = m.components[k]
      near(m.weights[k], f.weights[k], "weight")
      near(c.df, f.dfs[k], "df")
      for j = 1, d do
        near(c.mean[j], f.mean[k][j], "mean")
        for i = 1, d do
          if f.scale[k][i][j] ~= 0 then near(c.scale[i][j], f.scale[k][i][j], "scale")
          else T.eq(c.scale[i][j], 0, "a zero of a diagonal scale") end
        end
      end
    end
  end)
end

-- Draws N rows from a K-component normal mixture in two dimensions (Box-Muller on Lua's
-- generator, seeded), with labels.
local function normal_mixture(n, seed)
  math.randomseed(seed)
  local rows, labels = {}, {}
  local centres = {{0, 0}, {6, 2}}
  for i = 1, n do
    local k = i % 2 + 1
    local r = math.sqrt(-2 * log(1 - math.random()))
    local a = 2 * pi * math.random()
    rows[i] = {centres[k][1] + r * math.cos(a), centres[k][2] + 0.5 * r * math.sin(a)}
    labels[i] = k
  end
  return rows, labels
end

T.test("degrees of freedom without bound: capped, and the fit tends to gaussian's", function()
  local rows = normal_mixture(1000, 11)
  local X = mx.dataset(rows)
  local common = {data = X, k = 2, seed = 1, n_init = 1, tol = 1e-9, max_iter = 3000}
  local function fit(extra)
    local o = {}
    for key, v in pairs(common) do o[key] = v end
    for key, v in pairs(extra) do o[key] = v end
    return mx.fit(o)
  end
  local g = fit{family = "gaussian"}
  -- Estimated on normal rows, nu climbs to the cap, slowly (the likelihood is flat in nu up
  -- there): with df_max = 30 both components stop at it within the iterations.
  local capped = fit{family = "student_t", df_max = 30}
  for k = 1, 2 do T.eq(capped.components[k].df, 30, "df at the cap df_max = 30") end
  -- The t at nu = 200 is within O(1/nu) of the normal: its log-likelihood, its means and its
  -- scales (times nu / (nu - 2), the t's covariance) close in on gaussian's as nu grows.
  local t = fit{family = "student_t", df = 200}
  local t4 = fit{family = "student_t", df = 1e4}
  local function gap(m)
    local worst_mean, worst_cov = 0, 0
    for k = 1, 2 do
      local best = 1   -- the gaussian component nearest to this one
      for j = 1, 2 do
        if math.abs(g.components[j].mean[1] - m.components[k].mean[1])
           < math.abs(g.components[best].mean[1] - m.components[k].mean[1]) then best = j end
      end
      local gc, tc = g.components[best], m.components[k]
      local nu = tc.df
      for i = 1, 2 do
        worst_mean = math.max(worst_mean, math.abs(tc.mean[i] - gc.mean[i]))
        worst_cov = math.max(worst_cov, math.abs(tc.scale[i][i] * nu / (nu - 2) - gc.cov[i][i])
                                        / gc.cov[i][i])
      end
    end
    return math.abs(m.loglik - g.loglik) / #X, worst_mean, worst_cov
  end
  local l200, m200, c200 = gap(t)
  local l4, m4, c4 = gap(t4)
  print(string.format("t against gaussian, per row |dloglik|, max |dmean|, max rel dcov: "
                      .. "df 200: %.3g %.3g %.3g; df 1e4: %.3g %.3g %.3g", l200, m200, c200, l4,
                      m4, c4))
  T.ok(l200 < 2e-3, "log-likelihood per row within 2e-3 at df 200")
  T.ok(m200 < 2e-2 and c200 < 2e-2, "means and covariances within 2e-2 at df 200")
  T.ok(l4 < l200 / 10, "closer at df 1e4")
  T.ok(m4 < 1e-3 and c4 < 1e-3, "means and covariances within 1e-3 at df 1e4")
end)

T.test("robust to gross outliers where gaussian is not", function()
  local rows, labels = normal_mixture(400, 5)
  for i = 1, 6 do
    rows[#rows + 1] = {i % 2 == 0 and 300 or -250, (i - 3) * 100}
    labels[#labels + 1] = 1
  end
  local X = mx.dataset(rows)
  local truth, idx = {}, {}
  for i = 1, 400 do truth[i], idx[i] = labels[i], i end
  local first = X:subset(idx)
  local g = mx.fit{data = X, family = "gaussian", k = 2, seed = 3, n_init = 3}
  local t = mx.fit{data = X, family = "student_t", k = 2, seed = 3, n_init = 3}
  local ari_g = mx.adjusted_rand_index(g:predict(first), truth)
  local ari_t = mx.adjusted_rand_index(t:predict(first), truth)
  print(string.format("gross outliers: ARI gaussian %.4f, student_t %.4f", ari_g, ari_t))
  T.ok(ari_t > 0.95, "student_t recovers the clusters")
  T.ok(ari_t > ari_g + 0.2, "better than gaussian")
  T.ok(math.min(t.components[1].df, t.components[2].df) < 10, "heavy tails found")
end)

T.test("starts, sampling, model files, threads, options", function()
  local X = load("faithful.csv")
  -- The optimum at K = 2 (one component's df at the cap), reached by every start; the last
  -- climb along df is slow, hence the iterations.
  for _, s in ipairs{"kmeans", "kmeans++", "random", "random_resp"} do
    local m = mx.fit{data = X, family = "student_t", k = 2, init = s, seed = 4, n_init = 1,
                     tol = 1e-10, max_iter = 5000}
    T.near(m.loglik, -1129.96017167, 1e-11, s)
  end
  local a = mx.fit{data = X, family = "student_t", k = 2, n_init = 2, threads = 1, block_size = 17}
  local b = mx.fit{data = X, family = "student_t", k = 2, n_init = 2, threads = 3, block_size = 17}
  T.eq(a.loglik, b.loglik)
  T.eq(a.n_params, 2 * (2 + 3 + 1) + 1)
  local fixed = mx.fit{data = X, family = "student_t", k = 2, df = 5, covariance = "diag",
                       n_init = 2}
  T.eq(fixed.n_params, 2 * (2 + 2) + 1)
  for k = 1, 2 do T.eq(fixed.components[k].df, 5) end
  T.near(a:bic(X), -2 * a.loglik + a.n_params * log(#X), 1e-12, "BIC")
  local S = a:sample(300, 7)
  T.eq(#S, 300)
  local path = T.tmpname(".json")
  a:save(path)
  local c = mx.load(path)
  os.remove(path)
  T.eq(c.family, "student_t")
  T.eq(c:score(X), a:score(X), "score after a round trip")
end)

T.test("bad input", function()
  local X = load("faithful.csv")
  T.errors(function() mx.fit{data = X, family = "student_t", df_max = 0.5} end,
           "student_t: option 'df_max' = '0.5' is not a finite number in [1, inf)")
  T.errors(function() mx.fit{data = X, family = "student_t", df = "many"} end,
           "student_t: option 'df' = 'many' is neither 'estimate' nor a finite number > 0")
  T.errors(function() mx.fit{data = X, family = "student_t", df = -1} end,
           "student_t: option 'df' = '-1' is neither")
  T.errors(function() mx.fit{data = X, family = "student_t", covariance = "tied"} end,
           "covariance")
  local function start(c1, c2, opts)
    return function()
      local o = {data = X, family = "student_t", k = 2, init = {components = {c1, c2}}}
      for key, v in pairs(opts or {}) do o[key] = v end
      mx.fit(o)
    end
  end
  local ok = {mean = {2, 55}, scale = {{0.1, 0}, {0, 30}}, df = 5}
  T.errors(start({mean = {4, 80}, cov = {{1, 0}, {0, 1}}}, ok),
           "student_t: a component has no parameter 'cov'")
  T.errors(start({mean = {4, 80}, scale = {{1, 2}, {2, 1}}, df = 5}, ok),
           "student_t: the given 'scale' is not positive definite")
  T.errors(start({mean = {4, 80}, scale = {{1, 0.5}, {0.5, 1}}, df = 5}, ok,
                 {covariance = "diag"}), "diagonal, for covariance = diag")
  T.errors(start({mean = {4, 80}, scale = {{1, 0}, {0, 1}}, df = 0}, ok),
           "student_t: 'df' must be a finite number > 0 (got 0)")
  T.errors(start({mean = {4, 80}, scale = {{1, 0}, {0, 1}}, df = 3}, ok, {df = 5}),
           "student_t: 'df' is 3, but the option df fixes it at 5")
end)

print(string.format("largest relative difference from the NumPy reference: %.3g", worst))
T.done()
