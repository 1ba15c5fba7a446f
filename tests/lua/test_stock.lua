-- test_stock.lua: the module loads into the stock lua5.4 interpreter (run by tests/lua/stock.sh)
-- and fits the two-coin example there as it does inside `mixem run`.
local T = dofile((os.getenv("MIXEM_TEST_SRCDIR") or ".") .. "/tests/lua/lib.lua")

T.test("require 'mixem' from stock lua5.4", function()
  local mx = require "mixem"
  T.eq(type(mx.fit), "function")
  local X = mx.read_csv(T.srcdir .. "/data/two_coins.csv", {columns = {"heads", "trials"}})
  local m = mx.fit{data = X, family = "binomial", k = 2, trials = "trials",
                   init = {weights = {0.5, 0.5}, components = {{p = 0.6}, {p = 0.5}}},
                   fixed = {"weights"}, max_iter = 10, tol = 0}
  -- tests/reference/two_coins.py, iteration 10 with fixed weights.
  T.near(m.components[1].p, 0.79674414947521155, 1e-9)
end)

T.done()
