-- test_poisson.lua: the Poisson family against an independent NumPy/SciPy EM
-- (tests/reference/poisson_numpy.py) on data/seatbelts.csv: from the same start, the
-- log-likelihood, weights and rates after 1, 5 and 50 iterations, for K = 2 and 3, agree to 1e-10
-- relative, and the ELBO/KL identities hold at every iteration; the log-likelihood at the start
-- equals a direct sum written here; then starts, sampling, model files and bad input.
local T = dofile((os.getenv("MIXEM_TEST_SRCDIR") or ".") .. "/tests/lua/lib.lua")
local mx = require "mixem"
local X = mx.read_csv(T.srcdir .. "/data/seatbelts.csv")
local fixtures = dofile(T.srcdir .. "/tests/reference/poisson_fixtures.lua")

local function start_of(f)
  local comps = {}
  for k = 1, f.k do comps[k] = {lambda = f.lambda0[k]} end
  return {weights = f.w0, components = comps}
end

-- log sum_k w_k prod_j dpois(x_j; lambda_kj), with log(x!) as a sum of logs.
local function direct_loglik(w, lam)
  local total = 0
  for i = 1, #X do
    local row, terms, top = X:row(i), {}, -math.huge
    for k = 1, #w do
      local s = math.log(w[k])
      for j = 1, #row do
        local lf = 0
        for m = 2, row[j] do lf = lf + math.log(m) end
        s = s + row[j] * math.log(lam[k][j]) - lam[k][j] - lf
      end
      terms[k] = s
      top = math.max(top, s)
    end
    local acc = 0
    for k = 1, #w do acc = acc + math.exp(terms[k] - top) end
    total = total + top + math.log(acc)
  end
  return total
end

T.test("the data", function()
  T.eq(#X, 192)
  T.eq(X:cols(), 2)
  T.eq(X:names()[1], "DriversKilled")
  T.eq(X:names()[2], "VanKilled")
end)

for _, f in ipairs(fixtures) do
  T.test(string.format("K = %d after %d iterations", f.k, f.iters), function()
    local prev = -math.huge
    local m = mx.fit{data = X, family = "poisson", k = f.k, init = start_of(f), max_iter = f.iters,
                     tol = 0, on_iter = function(it)
                       T.near(it.elbo + it.kl, it.loglik, 1e-12)
                       T.ok(it.kl >= -1e-9 * math.abs(it.loglik), "KL >= 0")
                       T.ok(it.loglik >= prev - 1e-12 * math.abs(prev), "monotone")
                       prev = it.loglik
                     end}
    T.eq(m.n_iter, f.iters)
    T.near(m.initial_loglik, direct_loglik(f.w0, f.lambda0), 1e-12, "log-likelihood at the start")
    T.near(m.loglik, f.loglik, 1e-10, "log-likelihood")
    for k = 1, f.k do
      T.near(m.weights[k], f.weights[k], 1e-10, "weight")
      for j = 1, 2 do T.near(m.components[k].lambda[j], f.lambda[k][j], 1e-10, "lambda") end
    end
    T.near(m.loglik, direct_loglik(m.weights, {m.components[1].lambda, m.components[2].lambda,
                                               m.components[3] and m.components[3].lambda}),
           1e-12, "log-likelihood by the direct sum")
  end)
end

T.test("starts, sampling, model files, threads", function()
  for _, s in ipairs{"kmeans", "kmeans++", "random", "random_resp"} do
    local m = mx.fit{data = X, family = "poisson", k = 2, init = s, seed = 4}
    T.near(m.loglik, -1423.1435, 1e-6, s)   -- every start reaches the optimum at K = 2
  end
  T.eq(X:storage(), "uint8", "small counts are held as bytes")
  local a = mx.fit{data = X, family = "poisson", k = 3, n_init = 3, threads = 1, block_size = 11}
  local b = mx.fit{data = X, family = "poisson", k = 3, n_init = 3, threads = 3, block_size = 11}
  T.eq(a.loglik, b.loglik)
  T.eq(a.n_params, 3 * 2 + 2)
  T.near(a:bic(X), -2 * a.loglik + a.n_params * math.log(192), 1e-12, "BIC")
  local S, z = a:sample(500, 7)
  T.eq(#S, 500)
  for i = 1, 500 do
    for _, v in ipairs(S:row(i)) do T.ok(v >= 0 and v == math.floor(v), "a count") end
  end
  local path = T.tmpname(".json")
  a:save(path)
  local c = mx.load(path)
  os.remove(path)
  T.eq(c.family, "poisson")
  T.near(c:score(X), a:score(X), 1e-14, "score after a round trip")
  -- a warm start from the fitted model climbs on from it, by little
  local w = mx.fit{data = X, family = "poisson", k = 3, init = a, max_iter = 1, tol = 0}
  T.ok(w.initial_loglik == a.loglik, "warm start begins at the model")
  T.ok(w.loglik >= a.loglik and w.loglik - a.loglik < 1e-3, "warm start climbs by little")
end)

T.test("bad input", function()
  T.errors(function() mx.fit{data = mx.dataset{{1, 2}, {3, -1}}, family = "poisson"} end,
           "row 2, column '2': poisson counts must be whole numbers >= 0 (got -1)")
  T.errors(function() mx.fit{data = mx.dataset{{1.5, 2}}, family = "poisson"} end,
           "row 1, column '1': poisson counts must be whole numbers >= 0 (got 1.5)")
  local function start(c1, c2)
    return function()
      mx.fit{data = X, family = "poisson", k = 2, init = {components = {c1, c2}}}
    end
  end
  T.errors(start({lambda = {100, 10}}, {mu = {100, 10}}),
           "initial component 2: poisson: a component has no parameter 'mu' (it has: lambda)")
  T.errors(start({lambda = {100, 10, 1}}, {lambda = {100, 10}}),
           "poisson: 'lambda' must be an array of 2 rates")
  T.errors(start({lambda = {100, 0}}, {lambda = {100, 10}}),
           "poisson: 'lambda' must be finite and > 0 (got 0 in column 2)")
  T.errors(start({lambda = {-3, 10}}, {lambda = {100, 10}}),
           "poisson: 'lambda' must be finite and > 0 (got -3 in column 1)")
  T.errors(start({lambda = {1 / 0, 10}}, {lambda = {100, 10}}),
           "poisson: 'lambda' must be finite and > 0")
  T.errors(function() mx.fit{data = X, family = "poisson", eps = "0"} end,
           "poisson: option 'eps' = '0' is not a finite number in (0, 1]")
end)

T.done()
