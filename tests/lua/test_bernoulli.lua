-- test_bernoulli.lua: the Bernoulli family against an independent NumPy EM
-- (tests/reference/bernoulli_numpy.py): from the same start, the log-likelihood, weights and mu
-- after 1, 10 and 100 iterations agree to 1e-9 relative, with and without smoothing, and the
-- ELBO/KL identities hold at every iteration; then bad input.
local T = dofile((os.getenv("MIXEM_TEST_SRCDIR") or ".") .. "/tests/lua/lib.lua")
local mx = require "mixem"
local X = mx.read_csv(T.srcdir .. "/tests/data/bernoulli3.csv")
local fixtures = dofile(T.srcdir .. "/tests/reference/bernoulli_fixtures.lua")

for _, f in ipairs(fixtures) do
  T.test(string.format("alpha = beta = %g after %d iterations", f.alpha, f.iters), function()
    local comps = {}
    for k = 1, 3 do comps[k] = {mu = f.mu0[k]} end
    local prev = -math.huge
    local m = mx.fit{data = X, family = "bernoulli", k = 3, alpha = f.alpha, beta = f.alpha,
                     init = {weights = f.w0, components = comps}, max_iter = f.iters, tol = 0,
                     on_iter = function(it)
                       T.near(it.elbo + it.kl, it.loglik, 1e-12)
                       T.ok(it.kl >= -1e-9 * math.abs(it.loglik), "KL >= 0")
                       if f.alpha == 1 then
                         T.ok(it.loglik >= prev - 1e-9 * math.abs(prev), "monotone")
                       end
                       prev = it.loglik
                     end}
    T.near(m.loglik, f.loglik, 1e-9, "log-likelihood")
    for k = 1, 3 do
      T.near(m.weights[k], f.weights[k], 1e-9, "weight")
      for j = 1, 20 do T.near(m.components[k].mu[j], f.mu[k][j], 1e-9, "mu") end
    end
  end)
end

T.test("starts, sampling, threads, and bad input", function()
  for _, s in ipairs{"kmeans", "kmeans++", "random", "random_resp"} do
    local m = mx.fit{data = X, family = "bernoulli", k = 3, init = s, seed = 2, alpha = 2, beta = 2}
    T.ok(m.loglik < 0 and m.loglik > -5000, s)
  end
  T.eq(X:storage(), "uint8", "0/1 data are held as bytes and widened per block")
  local a = mx.fit{data = X, family = "bernoulli", k = 3, n_init = 2, threads = 1, block_size = 13}
  local b = mx.fit{data = X, family = "bernoulli", k = 3, n_init = 2, threads = 3, block_size = 13}
  T.eq(a.loglik, b.loglik)
  local S = a:sample(10, 1)
  for i = 1, 10 do for _, v in ipairs(S:row(i)) do T.ok(v == 0 or v == 1, "binary sample") end end
  T.eq(a.n_params, 3 * 20 + 2)
  T.errors(function() mx.fit{data = mx.dataset{{0, 1}, {1, 3}}, family = "bernoulli"} end,
           "row 2, column '2': bernoulli data must be 0 or 1 (got 3)")
  T.errors(function() mx.fit{data = X, family = "bernoulli", alpha = 0} end,
           "bernoulli: option 'alpha' = '0' is not a finite number in [1, 1e9]")
end)

T.done()
