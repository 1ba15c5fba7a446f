-- test_product.lua: the product family (independent parts, each a family on its own columns)
-- against the sum of its parts computed by an independent NumPy EM
-- (tests/reference/categorical_numpy.py) on tests/data/product_mixed.csv: gaussian (diag) on
-- x, y; categorical on colour (text); poisson on visits.  From the same start, log-likelihood,
-- weights and every part's parameters after 1, 5 and 50 iterations agree to 1e-8 relative;
-- then model files, a Lua family as a part, and bad parts.
local T = dofile((os.getenv("MIXEM_TEST_SRCDIR") or ".") .. "/tests/lua/lib.lua")
local mx = require "mixem"
local X = mx.read_csv(T.srcdir .. "/tests/data/product_mixed.csv", {categorical = true})
local fixtures = dofile(T.srcdir .. "/tests/reference/categorical_fixtures.lua").product
local parts = {{family = "gaussian", columns = {"x", "y"}, covariance = "diag"},
               {family = "categorical", columns = {"colour"}},
               {family = "poisson", columns = {"visits"}}}

for _, f in ipairs(fixtures) do
  T.test(string.format("K = 2 after %d iterations", f.iters), function()
    local comps = {}
    for k = 1, 2 do
      comps[k] = {["1.mean"] = f.mean0[k], ["1.var"] = f.var0[k], ["2.prob"] = {f.prob0[k]},
                  ["3.lambda"] = {f.lambda0[k]}}
    end
    local m = mx.fit{data = X, family = "product", parts = parts, k = 2, max_iter = f.iters,
                     tol = 0, init = {weights = f.w0, components = comps},
                     on_iter = function(it) T.near(it.elbo + it.kl, it.loglik, 1e-12) end}
    T.eq(m.n_iter, f.iters)
    T.near(m.loglik, f.loglik, 1e-8, "log-likelihood")
    for k = 1, 2 do
      local c = m.components[k]
      T.near(m.weights[k], f.weights[k], 1e-8, "weight")
      for j = 1, 2 do
        T.near(c["1.mean"][j], f.mean[k][j], 1e-8, "mean")
        T.near(c["1.var"][j], f.var[k][j], 1e-8, "var")
      end
      for l = 1, 3 do T.near(c["2.prob"][1][l], f.prob[k][l], 1e-8, "prob") end
      T.near(c["3.lambda"][1], f.lambda[k], 1e-8, "lambda")
    end
  end)
end

T.test("sums of the parts, model files, sampling", function()
  local m = mx.fit{data = X, family = "product", parts = parts, k = 2, n_init = 2, seed = 3}
  T.eq(m.n_params, 2 * (4 + 2 + 1) + 1)
  T.eq(m.options.parts, "gaussian(covariance=diag):x,y;categorical:colour;poisson:visits")
  local file = T.tmpname(".json")
  m:save(file)
  local c = mx.load(file)
  os.remove(file)
  T.eq(c:score(X), m:score(X))
  local a = mx.fit{data = X, family = "product", parts = parts, k = 2, threads = 1, seed = 5}
  local b = mx.fit{data = X, family = "product", parts = parts, k = 2, threads = 4, seed = 5}
  T.eq(a.loglik, b.loglik)
  local S = m:sample(100, 1)
  T.eq(S:cols(), 4)
  -- one part alone is that family
  local g = mx.fit{data = X, columns = {"visits"}, family = "product", k = 2, seed = 1,
                   parts = {{family = "poisson", columns = {"visits"}}}}
  local p = mx.fit{data = X, columns = {"visits"}, family = "poisson", k = 2, seed = 1,
                   init = {weights = g.weights,
                           components = {{lambda = g.components[1]["1.lambda"]},
                                         {lambda = g.components[2]["1.lambda"]}}}, max_iter = 0}
  T.near(p.loglik, g.loglik, 1e-12, "a product of one part")
end)

T.test("a Lua family as a part", function()
  mx.family{
    name = "lua_pois", params = {lambda = "positive"},
    stats = function(x) return x end,
    maximise = function(s, n)
      local l = {}
      for j = 1, #s do l[j] = math.max(s[j] / n, 1e-10) end
      return {lambda = l}
    end,
    natural = function(th)
      local eta, A = {}, 0
      for j = 1, #th.lambda do eta[j] = math.log(th.lambda[j]); A = A + th.lambda[j] end
      return eta, A
    end,
    base = function(x)
      local h = 0
      for j = 1, #x do h = h - mx.lgamma(x[j] + 1) end
      return h
    end,
  }
  local lp = {parts[1], parts[2], {family = "lua_pois", columns = {"visits"}}}
  local a = mx.fit{data = X, family = "product", parts = lp, k = 2, seed = 7}
  local b = mx.fit{data = X, family = "product", parts = parts, k = 2, seed = 7}
  T.near(a.loglik, b.loglik, 1e-9, "Lua Poisson part = C Poisson part")
  -- the Lua part has no sample: its columns are drawn as NaN, which the engine refuses
  T.errors(function() a:sample(3, 1) end, "row 1, column 'visits': value is not finite")
end)

T.test("bad parts", function()
  local function fit(p, data)
    return function() mx.fit{data = data or X, family = "product", k = 2, parts = p} end
  end
  T.errors(fit{{family = "gaussian", columns = {"x", "y"}}, {family = "poisson", columns = {"y"}},
               {family = "categorical", columns = {"colour", "visits"}}},
           "product: column 'y' is in part 1 and in part 2 (poisson): the parts' columns must "
           .. "not overlap")
  T.errors(fit{{family = "gaussian", columns = {"x", "z"}}},
           "product: part 1 (gaussian): no column 'z' in the data")
  T.errors(fit{{family = "gaussian", columns = {"x", "y"}}, {family = "poisson", columns = {"visits"}}},
           "product: column 'colour' is in no part")
  T.errors(fit{{family = "nosuch", columns = {"x"}}}, "product: part 1:")
  T.errors(fit{{family = "gaussian", columns = {"x", "y"}, covariance = "banana"},
               {family = "categorical", columns = {"colour"}},
               {family = "poisson", columns = {"visits"}}},
           "product: part 1 (gaussian): gaussian: 'covariance' = 'banana' is not")
  -- text in a part whose family does not model level names
  T.errors(fit{{family = "gaussian", columns = {"x", "colour"}},
               {family = "poisson", columns = {"visits"}}, {family = "categorical", columns = {"y"}}},
           "row 1, column 'colour': not a number ('")
  T.errors(function() mx.fit{data = X, family = "product", k = 2} end,
           "product: the option parts is required")
end)

T.done()
