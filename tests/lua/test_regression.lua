-- test_regression.lua: the linreg, poisreg and logitreg families on flexmix's NPreg data (tests/data/npreg.csv)
-- against tests/reference/regression_fixtures.lua (tests/reference/regression_flexmix.R): linreg
-- after 1, 5 and 200 iterations against mixtools' regmixEM (exact EM, ML sigma) from the same
-- start; poisreg (NPreg) and logitreg (flexmix's betablocker, Deaths out of Total ~ treat) after
-- convergence against flexmix's full-IRLS fit, to 1e-9 relative, and with mstep = "irls" after 1
-- and 5 iterations against flexmix from its own start (tests/reference/regression_irls_flexmix.R),
-- to 1e-8; the log-likelihood never
-- falls and ELBO + KL = log-likelihood at every iteration; gammareg against EM written out in R
-- (tests/reference/regression_gamma.R) after 1, 5 and 300 iterations; model:predict_response;
-- model:sample(X) (responses drawn at given covariates); mx.plot.regression; bad input.
local T = dofile((os.getenv("MIXEM_TEST_SRCDIR") or ".") .. "/tests/lua/lib.lua")
local mx = require "mixem"
local X = mx.read_csv(T.srcdir .. "/tests/data/npreg.csv")
local F = dofile(T.srcdir .. "/tests/reference/regression_fixtures.lua")

local g = F.gaussian
for _, iters in ipairs{1, 5, 200} do
  T.test("linreg against regmixEM after " .. iters .. " iterations", function()
    local comps = {}
    for k = 1, 2 do comps[k] = {beta = g.beta0[k], sigma = g.sigma0[k]} end
    local m = mx.fit{data = X, family = "linreg", response = "yn", covariates = "x,x2", k = 2,
                     init = {weights = g.w0, components = comps}, max_iter = iters, tol = 0,
                     on_iter = T.climb_watch()}
    local f = g[iters]
    local tol = iters == 200 and 1e-6 or 1e-8
    T.rel("linreg loglik", m.loglik, f.loglik, tol)
    for k = 1, 2 do
      T.rel("linreg weight", m.weights[k], f.weights[k], tol)
      T.rel("linreg sigma", m.components[k].sigma, f.sigma[k], tol)
      for j = 1, 3 do T.rel("linreg beta", m.components[k].beta[j], f.beta[k][j], tol) end
    end
  end)
end

-- The GLMs after convergence against flexmix's full-IRLS fit run to its fixed point (4000
-- iterations with tolerance 0): mixem from the same start, run 5000 iterations with tol = 0,
-- reaches the same point (to about 1e-14; held to 1e-9, the issue asks 1e-6).  With tol = 1e-15
-- mixem stops after 138 iterations (mstep = "newton": 136), 4e-7 from the fixed point.
local function glm_case(what, family, data, opts, f)
  local comps = {{beta = f.beta0[1]}, {beta = f.beta0[2]}}
  local spec = {data = data, family = family, k = 2, init = {weights = f.w0, components = comps},
                max_iter = 5000, tol = 0, on_iter = T.climb_watch()}
  for key, v in pairs(opts) do spec[key] = v end
  local m = mx.fit(spec)
  T.rel(what .. " loglik", m.loglik, f.loglik, 1e-10)
  for k = 1, 2 do
    T.rel(what .. " weight", m.weights[k], f.weights[k], 1e-9)
    for j = 1, 2 do T.rel(what .. " beta", m.components[k].beta[j], f.beta[k][j], 1e-9) end
  end
  return m
end

T.test("poisreg against flexmix after convergence", function()
  glm_case("poisreg", "poisreg", X, {response = "yp", covariates = "x"}, F.poisson)
end)

T.test("logitreg against flexmix after convergence (betablocker)", function()
  local B = mx.read_csv(T.srcdir .. "/tests/data/betablocker_treat.csv")
  glm_case("logitreg", "logitreg", B, {response = "Deaths", covariates = "treat", trials = "Total"},
           F.binomial)
end)

-- The path, not only the fixed point: mstep = "irls" (the default) is flexmix's M-step, glm.fit
-- run to its convergence from the current coefficients, so mixem's theta_t from flexmix's
-- theta_0 is flexmix's after 1 + t iterations (tests/reference/regression_irls_flexmix.R).
local I = dofile(T.srcdir .. "/tests/reference/regression_irls_fixtures.lua")
local B = mx.read_csv(T.srcdir .. "/tests/data/betablocker_treat.csv")
for _, c in ipairs{{"poisreg", X, {response = "yp", covariates = "x"}, I.poisson},
                   {"logitreg", B, {response = "Deaths", covariates = "treat", trials = "Total"},
                    I.binomial},
                   {"logitreg", X, {response = "yb", covariates = "x"}, I.binomial_npreg}} do
  local family, data, opts, f = c[1], c[2], c[3], c[4]
  for _, iters in ipairs{1, 5} do
    T.test(family .. " (irls) against flexmix after " .. iters .. " iterations", function()
      local spec = {data = data, family = family, k = 2, max_iter = iters, tol = 0,
                    init = {weights = f.w0, components = {{beta = f.beta0[1]}, {beta = f.beta0[2]}}},
                    on_iter = T.climb_watch()}
      for key, v in pairs(opts) do spec[key] = v end
      local m = mx.fit(spec)
      local want = f[iters]
      T.eq(m.n_iter, iters, "iterations")
      T.rel(family .. " irls loglik", m.loglik, want.loglik, 1e-8)
      for k = 1, 2 do
        T.rel(family .. " irls weight", m.weights[k], want.weights[k], 1e-8)
        for j = 1, 2 do
          T.rel(family .. " irls beta", m.components[k].beta[j], want.beta[k][j], 1e-8)
        end
      end
    end)
  end
end

-- gammareg (log link, a shape per component) against EM written out in R with glm.fit's IRLS
-- and the maximum-likelihood shape (tests/reference/regression_gamma.R; flexmix's Gamma has the
-- inverse link and a moment-like shape), from the same start, after 1, 5 and 300 iterations.
local G = dofile(T.srcdir .. "/tests/reference/regression_gamma_fixtures.lua")
local GD = mx.read_csv(T.srcdir .. "/tests/data/gammareg.csv")
for _, iters in ipairs{1, 5, 300} do
  T.test("gammareg against EM in R after " .. iters .. " iterations", function()
    local comps = {}
    for k = 1, 2 do comps[k] = {beta = G.beta0[k], shape = G.shape0[k]} end
    local m = mx.fit{data = GD, family = "gammareg", response = "y", covariates = "x", k = 2,
                     init = {weights = G.w0, components = comps}, max_iter = iters, tol = 0,
                     on_iter = T.climb_watch()}
    local f = G[iters]
    T.rel("gammareg loglik", m.loglik, f.loglik, 1e-8)
    for k = 1, 2 do
      T.rel("gammareg weight", m.weights[k], f.weights[k], 1e-8)
      T.rel("gammareg shape", m.components[k].shape, f.shape[k], 1e-8)
      for j = 1, 2 do T.rel("gammareg beta", m.components[k].beta[j], f.beta[k][j], 1e-8) end
    end
  end)
end

T.test("gammareg: mstep = newton climbs to the same point; bad input", function()
  local comps = {}
  for k = 1, 2 do comps[k] = {beta = G.beta0[k], shape = G.shape0[k]} end
  local m = mx.fit{data = GD, family = "gammareg", response = "y", covariates = "x", k = 2,
                   mstep = "newton", init = {weights = G.w0, components = comps},
                   max_iter = 3000, tol = 1e-12, on_iter = T.climb_watch()}
  T.rel("gammareg newton loglik", m.loglik, G[300].loglik, 1e-9)
  local bad = mx.dataset{names = {"x", "y"}, {1, 2}, {2, 0}}
  T.errors(function() mx.fit{data = bad, family = "gammareg", response = "y", covariates = "x",
                             k = 1} end, "a gamma response must be > 0 (got 0)")
  T.errors(function() mx.fit{data = GD, family = "gammareg", response = "y", covariates = "x",
                             common = "x", k = 2} end, "gammareg: common coefficients are not")
end)

T.test("logitreg fits and climbs", function()
  local m = mx.fit{data = X, family = "logitreg", response = "yb", covariates = "x", k = 2,
                   seed = 1, max_iter = 50, on_iter = T.climb_watch()}
  T.ok(m.loglik < 0 and m.loglik > -200, "a log-likelihood of binary rows")
end)

T.test("predict_response", function()
  -- linreg: x'b_k of the row's most probable component, checked against the coefficients.
  local m = mx.fit{data = X, family = "linreg", response = "yn", covariates = "x,x2", k = 2, seed = 1}
  local yhat, lab = m:predict_response(X)
  local pred = m:predict(X)
  local x, x2 = X:column("x"), X:column("x2")
  T.ok(#yhat == #X and #lab == #X, "one per row")
  for i = 1, #X, 17 do
    T.ok(lab[i] == pred[i], "the component of predict")
    local b = m.components[lab[i]].beta
    T.near(yhat[i], b[1] + b[2] * x[i] + b[3] * x2[i], 1e-12, "linreg fitted value")
  end
  -- logitreg with a trials column: Total / (1 + exp(-eta)).
  local B = mx.read_csv(T.srcdir .. "/tests/data/betablocker_treat.csv")
  local g = mx.fit{data = B, family = "logitreg", response = "Deaths", covariates = "treat",
                   trials = "Total", k = 2, seed = 1}
  local mu, gl = g:predict_response(B)
  local tot, tr = B:column("Total"), B:column("treat")
  for i = 1, #B, 5 do
    local b = g.components[gl[i]].beta
    T.near(mu[i], tot[i] / (1 + math.exp(-(b[1] + b[2] * tr[i]))), 1e-12, "logitreg fitted count")
  end
  T.errors(function() mx.fit{data = B, family = "poisson", k = 1}:predict_response(B) end,
           "fitted responses need a linreg, poisreg, logitreg or gammareg model (this one is poisson)")
end)

-- model:sample(X, seed): a response per row of X at its covariates.  The moments of many draws at
-- each x against the mixture's, sum_k w_k mu_k and sum_k w_k (v_k + mu_k^2) - mean^2 (v_k: sigma_k^2,
-- mu_k, n p_k (1 - p_k), mu_k^2 / a_k): the mean within 5 standard errors, the variance within 15% (about 5 of
-- its standard errors at 3000 draws); each row's component within 5 standard errors of its weight,
-- and the draws of each component about that component's own mean.  The components are far apart,
-- so a sampler that picks them wrongly, or draws from the wrong mean or spread, fails.
T.test("model:sample(X): responses at given covariates", function()
  local rows = {}
  for i = 1, 9000 do rows[i] = {(i - 1) % 3, 20} end   -- x = 0, 1, 2; 20 trials
  local D = mx.dataset{names = {"x", "n"}, table.unpack(rows)}
  local w = {0.3, 0.7}
  local cases = {
    {"linreg", {{beta = {1, 2}, sigma = 0.5}, {beta = {6, -1}, sigma = 2}}, {},
     function(c, x) local m = c.beta[1] + c.beta[2] * x; return m, c.sigma ^ 2 end},
    {"poisreg", {{beta = {0.5, 0.3}}, {beta = {2, -0.2}}}, {},
     function(c, x) local m = math.exp(c.beta[1] + c.beta[2] * x); return m, m end},
    {"logitreg", {{beta = {-2, 0.5}}, {beta = {1, 0.2}}}, {trials = "n"},
     function(c, x) local p = 1 / (1 + math.exp(-(c.beta[1] + c.beta[2] * x)))
                    return 20 * p, 20 * p * (1 - p) end},
    {"gammareg", {{beta = {0.5, 0.3}, shape = 4}, {beta = {2, -0.2}, shape = 20}}, {},
     function(c, x) local m = math.exp(c.beta[1] + c.beta[2] * x); return m, m * m / c.shape end},
  }
  for _, c in ipairs(cases) do
    local spec = {family = c[1], columns = {"y", "x", "n"}, response = "y", covariates = "x",
                  weights = w, components = c[2]}
    for key, v in pairs(c[3]) do spec[key] = v end
    local m = mx.model(spec)
    local y, lab = m:sample(D, 7)
    T.eq(#y, 9000, "one response per row")
    local again = m:sample(D, 7)
    local other = m:sample(D, 8)
    local same, differ = true, false
    for i = 1, #y do
      same = same and again[i] == y[i]
      differ = differ or other[i] ~= y[i]
    end
    T.ok(same and differ, c[1] .. ": the same seed, the same draws; another seed, others")
    for x = 0, 2 do
      local mk, vk = {}, {}
      for k = 1, 2 do mk[k], vk[k] = c[4](c[2][k], x) end
      local mean = w[1] * mk[1] + w[2] * mk[2]
      local var = w[1] * (vk[1] + mk[1] ^ 2) + w[2] * (vk[2] + mk[2] ^ 2) - mean ^ 2
      local s, s2, n, nk, sk = 0, 0, 0, {0, 0}, {0, 0}
      for i = x + 1, #y, 3 do
        s, s2, n = s + y[i], s2 + y[i] ^ 2, n + 1
        nk[lab[i]], sk[lab[i]] = nk[lab[i]] + 1, sk[lab[i]] + y[i]
      end
      local sm = s / n
      local sv = (s2 - n * sm ^ 2) / (n - 1)
      local what = string.format("%s at x = %d", c[1], x)
      T.ok(math.abs(sm - mean) < 5 * math.sqrt(var / n), what .. ": mean " .. sm .. " vs " .. mean)
      T.ok(math.abs(sv / var - 1) < 0.15, what .. ": variance " .. sv .. " vs " .. var)
      T.ok(math.abs(nk[1] / n - w[1]) < 5 * math.sqrt(w[1] * w[2] / n), what .. ": weight")
      for k = 1, 2 do
        T.ok(math.abs(sk[k] / nk[k] - mk[k]) < 5 * math.sqrt(vk[k] / nk[k]),
             what .. ": component " .. k .. "'s mean")
      end
    end
  end
  T.errors(function() mx.fit{data = X, family = "poisson", columns = {"yp"}, k = 1}:sample(D) end,
           "model:sample: fitted responses need a linreg, poisreg, logitreg or gammareg model")
  local m = mx.model{family = "poisreg", columns = {"y", "x"}, response = "y", covariates = "x",
                     components = {{beta = {0, 1}}}}
  T.errors(function() m:sample(mx.dataset{names = {"z"}, {1}}) end,
           "the covariate 'x' is not a column of the data")
end)

T.test("mx.plot.regression", function()
  local B = mx.read_csv(T.srcdir .. "/tests/data/betablocker_treat.csv")
  local m = mx.fit{data = B, family = "logitreg", response = "Deaths", covariates = "treat",
                   trials = "Total", k = 2, seed = 1}
  local file = T.tmpname(".png")
  mx.plot.regression(m, B, file)
  local f = assert(io.open(file, "rb"))
  T.ok(f:read(4) == "\137PNG", "a PNG")
  f:close()
  os.remove(file)
  local g = mx.fit{data = B, family = "poisson", k = 2, seed = 1}
  T.errors(function() mx.plot.regression(g, B, file) end,
           "a regression plot needs a linreg, poisreg, logitreg or gammareg model (this one is poisson)")
  local gm = mx.fit{data = GD, family = "gammareg", response = "y", covariates = "x", k = 2,
                    init = {weights = G.w0, components = {{beta = G.beta0[1], shape = G.shape0[1]},
                                                          {beta = G.beta0[2], shape = G.shape0[2]}}}}
  mx.plot.regression(gm, GD, file)
  f = assert(io.open(file, "rb"))
  T.ok(f:read(4) == "\137PNG", "a gammareg PNG")
  f:close()
  os.remove(file)
end)

T.test("bad input", function()
  T.errors(function() mx.fit{data = X, family = "linreg", k = 2, covariates = "x"} end,
           "linreg: the option 'response'")
  T.errors(function() mx.fit{data = X, family = "linreg", k = 2, response = "yn",
                             covariates = "x,zz"} end, "the covariate 'zz' is not a column")
  T.errors(function() mx.fit{data = X, family = "linreg", k = 2, response = "nope"} end, "nope")
  local bad = mx.dataset{{1, 2.5, 1}, {2, 3, 1}, {3, 4, 1}}   -- columns "1", "2", "3"
  T.errors(function() mx.fit{data = bad, family = "poisreg", k = 1, response = "2",
                             covariates = "1"} end, "poisson response must be a whole number")
  T.errors(function() mx.fit{data = bad, family = "linreg", k = 1, response = "2",
                             covariates = "1,3"} end, "covariate '3' is 1 in every row")
  local b2 = mx.dataset{{1, 1, 1}, {2, 2, 1}, {3, 0, 1}}
  T.errors(function() mx.fit{data = b2, family = "logitreg", k = 1, response = "2",
                             covariates = "1", trials = "3"} end, "2 successes out of 1 trials")
  -- x2 = x copied: collinear within every component.
  local rows = {}
  for i = 1, 20 do rows[i] = {i, i, 2 * i + (i % 3)} end
  local col = mx.dataset(rows)
  T.errors(function() mx.fit{data = col, family = "linreg", k = 1, response = "3",
                             covariates = "1,2"} end,
           "component 1 has a rank-deficient design: '2' is (nearly) a combination of")
end)

T.report_rel()
T.done()
