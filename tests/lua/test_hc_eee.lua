-- test_hc_eee.lua: hc_model = "EEE" (src/hc.c, hc_eee), mclust's hcEEE: the partitions at
-- K = 2..5 of hclass(hc(X, "EEE", use), 2:5) on faithful, diabetes, banknote and thyroid, SVD
-- and VARS (tests/reference/hc_mclust.R made the fixtures), bit for bit.  Apart from test_hc.lua
-- because EEE's agglomeration is O(N^3 p^2) (about 2 s here; far more under valgrind).
local T = dofile((os.getenv("MIXEM_TEST_SRCDIR") or ".") .. "/tests/lua/lib.lua")
local mx = require "mixem"
local fixtures = dofile(T.srcdir .. "/tests/reference/hc_fixtures.lua")

T.test("hc EEE partitions equal mclust's hclass(hc(X, \"EEE\", use)) at K = 2..5", function()
  local data, parts, same = {}, {}, 0
  for _, f in ipairs(fixtures.partitions) do
    if f.model == "EEE" then
      data[f.data] = data[f.data] or mx.read_csv(T.srcdir .. "/data/" .. f.data)
      local key = f.data .. " " .. f.use
      parts[key] = parts[key] or mx.hc(data[f.data], {2, 3, 4, 5}, {model = "EEE", use = f.use})
      T.eq(table.concat(parts[key][f.k - 1]), f.labels, key .. " K=" .. f.k)
      same = same + 1
    end
  end
  T.eq(same, 32, "the EEE partitions compared")
end)

T.test("hc EEE as the start of a fit", function()
  local X = mx.read_csv(T.srcdir .. "/data/diabetes.csv")
  local a = mx.fit{data = X, family = "gaussian", covariance = "EEE", k = 3, init = "hc",
                   hc_model = "EEE"}
  local b = mx.fit{data = X, family = "gaussian", covariance = "EEE", k = 3, init = "hc",
                   hc_model = "EEE", threads = 1}
  T.eq(a.loglik, b.loglik)   -- deterministic: no seed
  T.eq(a.n_iter, b.n_iter)
end)
T.done()
