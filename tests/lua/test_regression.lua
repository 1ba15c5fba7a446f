-- test_regression.lua: the linreg, poisreg and logitreg families on flexmix's NPreg data (tests/data/npreg.csv)
-- against tests/reference/regression_fixtures.lua (tests/reference/regression_flexmix.R): linreg
-- after 1, 5 and 200 iterations against mixtools' regmixEM (exact EM, ML sigma) from the same
-- start; poisreg (NPreg) and logitreg (flexmix's betablocker, Deaths out of Total ~ treat) after
-- convergence against flexmix's full-IRLS fit, to 1e-9 relative, and with mstep = "irls" after 1
-- and 5 iterations against flexmix from its own start (tests/reference/regression_irls_flexmix.R),
-- to 1e-8; the log-likelihood never
-- falls and ELBO + KL = log-likelihood at every iteration; model:predict_response; mx.plot.regression; bad input.
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
                    I.binomial}} do
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
           "fitted responses need a linreg, poisreg or logitreg model (this one is poisson)")
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
           "a regression plot needs a linreg, poisreg or logitreg model (this one is poisson)")
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
