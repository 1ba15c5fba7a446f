-- test_dataset.lua: mixem.read_csv, mixem.dataset and the dataset methods, with their errors.
local T = dofile((os.getenv("MIXEM_TEST_SRCDIR") or ".") .. "/tests/lua/lib.lua")
local mx = require "mixem"
local coins = T.srcdir .. "/data/two_coins.csv"

T.test("read_csv reads columns by name and by number", function()
  local X = mx.read_csv(coins, {columns = {"heads", "trials"}})
  T.eq(X:rows(), 5); T.eq(#X, 5); T.eq(X:cols(), 2)
  T.eq(X:names()[1], "heads"); T.eq(X:names()[2], "trials")
  local h = X:column("heads")
  T.eq(#h, 5); T.eq(h[1], 5); T.eq(h[2], 9)
  local Y = mx.read_csv(coins, {columns = {2, 1}})
  T.eq(Y:names()[1], "trials"); T.eq(Y:column(2)[1], 5)
  T.eq(mx.read_csv(coins):cols(), 2)
  T.ok(tostring(X):find("5 rows x 2 columns", 1, true), "tostring")
end)

T.test("read_csv options: header, delimiter, weights", function()
  local p = T.tmpname(".csv")
  T.write(p, "1;2;0.5\n3;4;2\n")
  local X = mx.read_csv(p, {header = false, delimiter = ";", weights = 3})
  T.eq(X:cols(), 2); T.eq(X:names()[1], "1"); T.eq(X:row(2)[2], 4)
  T.eq(X:weights()[2], 2)
  os.remove(p)
end)

T.test("dataset from tables, subset, row", function()
  local X = mx.dataset{{1, 2}, {3, 4}, {5, 6}, names = {"a", "b"}}
  T.eq(#X, 3); T.eq(X:names()[2], "b"); T.eq(X:column("b")[3], 6)
  local S = X:subset({3, 1})
  T.eq(#S, 2); T.eq(S:row(1)[1], 5); T.eq(S:row(2)[2], 2)
  local W = mx.dataset{{1}, {2}, weights = {1, 3}}
  T.eq(W:weights()[2], 3); T.eq(W:names()[1], "1")
end)

T.test("dataset errors name the function and the argument", function()
  T.errors(function() mx.read_csv("/nonexistent.csv") end, "mixem.read_csv: /nonexistent.csv")
  T.errors(function() mx.read_csv(coins, {colums = {1}}) end, "mixem.read_csv: unknown option 'colums'")
  T.errors(function() mx.read_csv(coins, {columns = {"x"}}) end, "no column 'x'")
  T.errors(function() mx.read_csv(coins, {delimiter = ";;"}) end, "'delimiter' must be one character")
  T.errors(function() mx.read_csv(coins, {header = 1}) end, "'header' must be a boolean")
  T.errors(function() mx.read_csv() end, "bad argument #1 to 'read_csv'")
  local p = T.tmpname(".csv")
  T.write(p, "a,b\n1,2\n3,x\n")
  T.errors(function() mx.read_csv(p) end, ":3: row 2, column 'b': not a number ('x')")
  os.remove(p)
  T.errors(function() mx.dataset{} end, "mixem.dataset: no rows")
  T.errors(function() mx.dataset{{1, 2}, {3}} end, "row 2 has 1 values, but row 1 has 2")
  T.errors(function() mx.dataset{{1, "a"}} end, "row 1, column 2 is not a number")
  T.errors(function() mx.dataset{{1}, nmes = {"a"}} end, "unknown key 'nmes'")
  T.errors(function() mx.dataset{{1}, names = {"a", "b"}} end, "'names' has 2 entries for 1 columns")
  T.errors(function() mx.dataset{{0/0}} end, "value is not finite")
  local X = mx.dataset{{1}, {2}}
  T.errors(function() X:column("zz") end, "dataset:column: no column zz")
  T.errors(function() X:subset({3}) end, "dataset:subset: index 1 is not a row number in 1..2")
  T.errors(function() X:row(0) end, "row out of range")
end)

T.done()
