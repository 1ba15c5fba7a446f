-- test_gaussian_missing.lua: the Gaussian family with cells missing at random, against an
-- independent NumPy EM (tests/reference/gaussian_missing_numpy.py, Ghahramani and Jordan's
-- formulas row by row) on iris with 20% of its cells removed (tests/data/iris_missing.csv):
-- from the same start, weights, means, covariances and the observed-data log-likelihood after 1,
-- 5 and 50 iterations agree to 1e-8 for the full and diagonal covariances; the ELBO/KL identity
-- and the climb hold at every iteration for every covariance type; the marginal log-density of
-- an incomplete row is the one written here; no missing cell gives the bits of a complete fit.
local T = dofile((os.getenv("MIXEM_TEST_SRCDIR") or ".") .. "/tests/lua/lib.lua")
local mx = require "mixem"
local fixtures = dofile(T.srcdir .. "/tests/reference/gaussian_missing_fixtures.lua")
local X = mx.read_csv(T.srcdir .. "/tests/data/iris_missing.csv", {allow_missing = true})
local iris = mx.read_csv(T.srcdir .. "/data/iris.csv")

local function start_of(f)
  local comps = {}
  for k = 1, 3 do
    if f.covariance == "full" then comps[k] = {mean = f.means0[k], cov = f.cov0[k]}
    else comps[k] = {mean = f.means0[k], var = f.cov0[k]} end
  end
  return {weights = f.w0, components = comps}
end

local function climb(it, state)
  if it.restart ~= state.restart or it.iter <= (state.iter or 0) then
    state.prev = -math.huge   -- each restart, and each short run of small-EM, climbs afresh
  end
  state.restart, state.iter = it.restart, it.iter
  T.near(it.elbo + it.kl, it.loglik, 1e-11)
  T.ok(it.kl >= -1e-9 * math.abs(it.loglik), "KL >= 0")
  T.ok(it.loglik >= state.prev - 1e-11 * math.abs(state.prev),
       string.format("monotone %s: %.17g after %.17g", state.what or "", it.loglik, state.prev))
  state.prev = it.loglik
end

T.test("the holed data", function()
  T.eq(#X, 150)
  T.eq(X:cols(), 4)
end)

for _, f in ipairs(fixtures) do
  T.test(string.format("%s after %d iterations", f.covariance, f.iters), function()
    local state = {prev = -math.huge}
    local m = mx.fit{data = X, family = "gaussian", covariance = f.covariance, k = 3,
                     init = start_of(f), max_iter = f.iters, tol = 0,
                     on_iter = function(it) climb(it, state) end}
    T.eq(m.n_iter, f.iters)
    T.near(m.loglik, f.loglik, 1e-8, "log-likelihood")
    for k = 1, 3 do
      T.near(m.weights[k], f.weights[k], 1e-8, "weight")
      for j = 1, 4 do
        T.near(m.components[k].mean[j], f.means[k][j], 1e-8, "mean")
        if f.covariance == "full" then
          for l = 1, 4 do
            -- an entry near zero is held to the scale of its matrix
            local scale = math.sqrt(f.cov[k][j][j] * f.cov[k][l][l])
            T.ok(math.abs(m.components[k].cov[j][l] - f.cov[k][j][l]) <= 1e-8 * scale,
                 string.format("cov[%d][%d][%d] %.17g vs %.17g", k, j, l,
                               m.components[k].cov[j][l], f.cov[k][j][l]))
          end
        else
          T.near(m.components[k].var[j], f.cov[k][j], 1e-8, "var")
        end
      end
    end
  end)
end

T.test("every covariance model climbs, with ELBO + KL = loglik", function()
  for _, cv in ipairs{"full", "tied", "diag", "spherical", "tied_spherical", "EEI", "VEI", "EVI",
                      "VEE", "EVE", "VVE", "EEV", "VEV", "EVV"} do
    local state = {prev = -math.huge, what = cv}
    local m = mx.fit{data = X, family = "gaussian", covariance = cv, k = 2, seed = 2, init = "kmeans", n_init = 1,
                     max_iter = 40, tol = 0, on_iter = function(it) climb(it, state) end}
    T.ok(m.loglik < 0 and m.loglik > -1000, cv)
  end
end)

T.test("30% of cells missing at random: climb, ELBO + KL, threads, imputation", function()
  -- iris with 30% of its cells removed by Lua's own generator (xoshiro256**, seeded)
  math.randomseed(30)
  local rows = {}
  for i = 1, #iris do
    local r = iris:row(i)
    for j = 1, 4 do if math.random() < 0.3 then r[j] = 0 / 0 end end
    rows[i] = r
  end
  local H = mx.dataset{names = iris:names(), allow_missing = true, table.unpack(rows)}
  for _, cv in ipairs{"full", "diag", "tied", "spherical", "VEV"} do
    local state = {prev = -math.huge, what = cv}
    local a = mx.fit{data = H, family = "gaussian", covariance = cv, k = 2, seed = 3, n_init = 1,
                     max_iter = 60, tol = 0, threads = 1, block_size = 16,
                     on_iter = function(it) climb(it, state) end}
    local b = mx.fit{data = H, family = "gaussian", covariance = cv, k = 2, seed = 3, n_init = 1,
                     max_iter = 60, tol = 0, threads = 3, block_size = 16}
    T.eq(a.loglik, b.loglik, cv .. ": the same bits on 1 and 3 threads")
    -- imputation keeps the observed cells and fills every missing one with a finite value
    local F = a:impute(H)
    for i = 1, #H do
      local r, f = rows[i], F:row(i)
      for j = 1, 4 do
        if r[j] == r[j] then T.eq(f[j], r[j]) else T.ok(f[j] == f[j] and f[j] > -10 and f[j] < 20) end
      end
    end
  end
end)

T.test("an incomplete row's log-density is the marginal of its observed cells", function()
  local m = mx.fit{data = X, family = "gaussian", k = 2, seed = 1, max_iter = 5, n_init = 1}
  -- row 3 of the holed file: ",3.2,,0.2" (columns 2 and 4 observed)
  local c = m.components
  local lp = {}
  for k = 1, 2 do
    local mu, S = c[k].mean, c[k].cov
    local a, b, d = S[2][2], S[2][4], S[4][4]
    local det = a * d - b * b
    local y1, y2 = 3.2 - mu[2], 0.2 - mu[4]
    local q = (d * y1 * y1 - 2 * b * y1 * y2 + a * y2 * y2) / det
    lp[k] = math.log(m.weights[k]) - math.log(2 * math.pi) - 0.5 * math.log(det) - 0.5 * q
  end
  local top = math.max(lp[1], lp[2])
  local want = top + math.log(math.exp(lp[1] - top) + math.exp(lp[2] - top))
  local path = T.tmpname(".csv")
  T.write(path, "Sepal.Length,Sepal.Width,Petal.Length,Petal.Width\n,3.2,,0.2\n5,3,1.5,0.2\n")
  local row = mx.read_csv(path, {allow_missing = true})
  os.remove(path)
  T.near(m:score_samples(row)[1], want, 1e-12, "score of the incomplete row")
  -- one component: the imputed cells are mu_m + S_mo S_oo^-1 (x_o - mu_o), with the 2 by 2
  -- inverse written out
  local one = mx.model{family = "gaussian", weights = {1}, components = {c[1]}}
  local mu, S = c[1].mean, c[1].cov
  local a, b, d = S[2][2], S[2][4], S[4][4]
  local det = a * d - b * b
  local y1, y2 = 3.2 - mu[2], 0.2 - mu[4]
  local s1, s2 = (d * y1 - b * y2) / det, (a * y2 - b * y1) / det   -- S_oo^-1 y
  local F = one:impute(row):row(1)
  T.near(F[1], mu[1] + S[1][2] * s1 + S[1][4] * s2, 1e-12, "imputed column 1")
  T.near(F[3], mu[3] + S[3][2] * s1 + S[3][4] * s2, 1e-12, "imputed column 3")
  T.eq(F[2], 3.2)
end)

T.test("no missing cell: the bits of a complete fit", function()
  local a = mx.fit{data = iris, family = "gaussian", k = 3, seed = 5, n_init = 2}
  local Y = mx.read_csv(T.srcdir .. "/data/iris.csv", {allow_missing = true})
  local b = mx.fit{data = Y, family = "gaussian", k = 3, seed = 5, n_init = 2}
  T.eq(a.loglik, b.loglik)
  T.eq(a.components[2].cov[1][3], b.components[2].cov[1][3])
end)

T.done()
