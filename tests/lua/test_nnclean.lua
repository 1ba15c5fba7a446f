-- test_nnclean.lua: nearest-neighbour cleaning (Byers and Raftery 1998; mixem_nnclean,
-- mx.nnclean, fit's noise_rows = "nnclean") against prabclus's NNclean, the noise guess of
-- mclust's examples.  On a simulated set (two clusters and uniform noise, k = 5 and 3) and
-- data/diabetes.csv (k = 5): the k-th nearest-neighbour distances to 1e-12, lambda1, lambda2, p
-- and NNclean's probs to 1e-6 relative, its z (the noise flags) exactly; and a Gaussian VVV fit
-- with the noise component started from that guess (hc on the other rows) reaches at least the
-- log-likelihood of Mclust(X, G, "VVV", initialization = list(noise = z == 0)).  Fixtures:
-- tests/reference/nnclean_prabclus.R; this test needs no R.
local T = dofile((os.getenv("MIXEM_TEST_SRCDIR") or ".") .. "/tests/lua/lib.lua")
local mx = require "mixem"
local fx = dofile(T.srcdir .. "/tests/reference/nnclean_fixtures.lua")
local sim = mx.dataset(fx.sim)
local function data_of(f)
  return f.data == "sim" and sim or mx.read_csv(T.srcdir .. "/" .. f.data)
end

for _, f in ipairs(fx) do
  local name = string.format("nnclean %s k = %d", f.data, f.k)
  T.test(name .. ": NNclean's distances, parameters, probs and z", function()
    local X = data_of(f)
    local noise, probs, info = mx.nnclean(X, f.k)
    T.eq(#noise, #f.kdist, name .. " rows")
    for i = 1, #f.kdist do
      T.near(info.kdist[i], f.kdist[i], 1e-12, name .. " D_k of row " .. i)
    end
    T.near(info.lambda1, f.lambda1, 1e-6, name .. " lambda1")
    T.near(info.lambda2, f.lambda2, 1e-6, name .. " lambda2")
    T.near(info.p, f.p, 1e-6, name .. " p")
    T.ok(info.iterations >= 1, name .. " iterations")
    local z = {}
    for i = 1, #noise do
      T.near(probs[i], f.probs[i], 1e-6, name .. " probs of row " .. i)
      z[i] = noise[i] and "0" or "1"
    end
    T.eq(table.concat(z), f.z, name .. " z (0: noise)")
    local nz = select(2, f.z:gsub("0", ""))
    T.ok(nz > 0 and nz < #noise, name .. " some rows noise, some not")
  end)
  T.test(name .. ": a noise fit from the guess, as Mclust(initialization = list(noise))", function()
    local X = data_of(f)
    local m = mx.fit{data = X, family = "gaussian", covariance = "VVV", k = f.g, noise = true,
                     noise_rows = "nnclean", nnclean_k = f.k, init = "hc", reg_covar = 0,
                     tol = 1e-10}
    assert(m.loglik >= f.mclust_vvv - 1e-6 * math.abs(f.mclust_vvv),
           string.format("%s: %.10g below mclust's %.10g", name, m.loglik, f.mclust_vvv))
    -- the same as handing the flags over
    local mask = mx.nnclean(X, f.k)
    local m2 = mx.fit{data = X, family = "gaussian", covariance = "VVV", k = f.g, noise = true,
                      noise_rows = mask, init = "hc", reg_covar = 0, tol = 1e-10}
    T.eq(m2.trace[1].loglik, m.trace[1].loglik,
         name .. " noise_rows = \"nnclean\" starts from the mask of mx.nnclean")
    T.eq(m2.loglik, m.loglik, name .. " and ends where it does")
  end)
end

T.test("nnclean: mixem fit --noise --noise-rows nnclean:K", function()
  local exe = os.getenv("MIXEM")
  if not exe then return end
  local csv = T.srcdir .. "/data/diabetes.csv"
  local X = mx.read_csv(csv)
  local m = mx.fit{data = X, family = "gaussian", covariance = "VVV", k = 2, noise = true,
                   noise_rows = "nnclean", nnclean_k = 3, init = "hc", max_iter = 3,
                   quiet = true}
  local path = os.tmpname()
  assert(os.execute(string.format("%q fit -q -f gaussian --covariance VVV -k 2 --init hc --max-iter 3 " ..
                                  "--noise --noise-rows nnclean:3 --out %q %q", exe, path, csv)))
  local c = mx.load(path)
  os.remove(path)
  T.near(c.loglik, m.loglik, 1e-12, "the CLI's fit is the Lua one")
  T.ok(not os.execute(string.format("%q fit -q -f gaussian -k 2 --noise --noise-rows knn %q 2>/dev/null",
                                    exe, csv)), "--noise-rows knn is refused")
end)

T.test("nnclean: bad input", function()
  T.errors(function() mx.nnclean(sim, 0) end, "k must be")
  T.errors(function() mx.nnclean(sim, #fx.sim) end, "k = 200 must be from 1")
  T.errors(function() mx.nnclean(mx.dataset{{1, 2}, {1, 2}, {1, 2}}, 1) end, "nothing to tell")
  T.errors(function() mx.nnclean(mx.dataset{{0, 0}, {0, 0}, {5, 5}, {0, 0}}, 1) end, "degenerate")
  local H = mx.dataset{allow_missing = true, {1, 2}, {0 / 0, 3}, {4, 5}, {6, 1}}
  T.errors(function() mx.nnclean(H, 1) end, "missing value")
  T.errors(function() mx.fit{data = sim, family = "gaussian", k = 2, noise = true,
                             noise_rows = "nnclean", nnclean_k = 200} end, "k = 200")
  T.errors(function() mx.fit{data = sim, family = "gaussian", k = 2, noise = true,
                             noise_rows = "nn"} end, "\"nnclean\" or an array")
  T.errors(function() mx.fit{data = sim, family = "gaussian", k = 2, noise = true,
                             nnclean_k = 3} end, "goes with noise_rows")
end)

T.done()
