-- test_npy.lua: NumPy .npy input.  The files are written here with string.pack in the .npy format
-- (format 1.0: magic, version, header length, a Python dict literal padded to 16 bytes), so the
-- test needs no Python; each dtype must read the same values, and each malformed file is refused.
local T = dofile((os.getenv("MIXEM_TEST_SRCDIR") or ".") .. "/tests/lua/lib.lua")
local mx = require "mixem"

local function npy(path, descr, shape, fortran, body, version)
  local dict = string.format("{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr,
                             fortran and "True" or "False", shape)
  local pad = 16 - (10 + #dict + 1) % 16
  dict = dict .. string.rep(" ", pad % 16) .. "\n"
  local head = version == 2 and ("\x93NUMPY\2\0" .. string.pack("<I4", #dict))
                             or ("\x93NUMPY\1\0" .. string.pack("<I2", #dict))
  T.write(path, head .. dict .. body)
end

local rows = {{1, 0, 1}, {0, 0, 1}, {1, 1, 0}, {0, 1, 1}}
local function pack(fmt, fortran)
  local parts = {}
  if fortran then
    for j = 1, 3 do for i = 1, 4 do parts[#parts + 1] = string.pack(fmt, rows[i][j]) end end
  else
    for i = 1, 4 do for j = 1, 3 do parts[#parts + 1] = string.pack(fmt, rows[i][j]) end end
  end
  return table.concat(parts)
end

T.test("uint8, bool, float64, float32, int64 and Fortran order read the same values", function()
  local p = T.tmpname(".npy")
  for _, c in ipairs{{"|u1", "B"}, {"|b1", "B"}, {"<f8", "<d"}, {"<f4", "<f"}, {"<i8", "<i8"},
                     {"<f8", "<d", true}, {"<u2", "<I2", false, 2}} do
    npy(p, c[1], "(4, 3)", c[3], pack(c[2], c[3]), c[4])
    local X = mx.read_npy(p)
    T.eq(#X, 4); T.eq(X:cols(), 3); T.eq(X:names()[1], "1")
    for i = 1, 4 do for j = 1, 3 do T.eq(X:row(i)[j], rows[i][j], c[1]) end end
  end
  npy(p, "<f8", "(4,)", false, string.pack("<dddd", 1, 2, 3, 4))
  local V = mx.read_npy(p)
  T.eq(V:cols(), 1); T.eq(V:row(4)[1], 4)
  npy(p, "|u1", "(4, 3)", false, pack("B"))
  local W = mx.read_npy(p, {columns = {1, 2}, weights = 3})
  T.eq(W:cols(), 2); T.eq(W:weights()[2], 1)
  local m = mx.fit{data = mx.read_npy(p), family = "bernoulli", k = 2, alpha = 2, beta = 2}
  T.eq(m.k, 2)
  os.remove(p)
end)

T.test("bytes stay bytes, whole float64 values become bytes, other float64 is mapped", function()
  local p = T.tmpname(".npy")
  npy(p, "|b1", "(4, 3)", false, pack("B"))
  T.eq(mx.read_npy(p):storage(), "uint8")
  npy(p, "<f8", "(4, 3)", false, pack("<d"))
  T.eq(mx.read_npy(p):storage(), "uint8")
  npy(p, "<f8", "(2, 2)", false, string.pack("<dddd", 0.5, 1, 2, 3))
  local M = mx.read_npy(p)
  T.eq(M:storage(), "float64 (mapped)"); T.eq(M:row(1)[1], 0.5); T.eq(M:row(2)[2], 3)
  npy(p, "<f8", "(2, 2)", true, string.pack("<dddd", 0.5, 1, 2, 3))
  T.eq(mx.read_npy(p):storage(), "float64")
  T.eq(mx.read_csv(T.srcdir .. "/data/digits_binary.csv"):storage(), "uint8")
  T.eq(mx.read_csv(T.srcdir .. "/data/iris.csv"):storage(), "float64")
  collectgarbage()
  os.remove(p)
end)

T.test("malformed .npy files are refused with the file named", function()
  local p = T.tmpname(".npy")
  local function refused(why)
    T.errors(function() mx.read_npy(p) end, why)
    T.ok(select(2, pcall(mx.read_npy, p)):find(p, 1, true), "names the file")
  end
  T.write(p, "not a numpy file at all")
  refused("not a NumPy .npy file")
  npy(p, "<f8", "(4, 3)", false, pack("<d"):sub(1, 50))
  refused("shorter than its shape says (truncated?)")
  npy(p, "<f8", "(4, 3)", false, pack("<d") .. "xx")
  refused("longer than its shape says")
  npy(p, "<c16", "(4, 3)", false, "")
  refused("unsupported .npy dtype")
  npy(p, ">f8", "(4, 3)", false, pack(">d"))
  refused("big-endian")
  npy(p, "<f8", "(2, 2, 3)", false, pack("<d"))
  refused("1 or 2 dimensions")
  npy(p, "<f8", "(2, 1)", false, string.pack("<dd", 1, 0 / 0))
  refused("row 2, column 1: ")
  refused("nan is not a finite number")
  npy(p, "|u1", "(2, 2)", false, string.pack("BBBB", 0, 1, 2, 1))
  T.errors(function() mx.fit{data = mx.read_npy(p), family = "bernoulli"} end,
           "row 2, column '1': bernoulli data must be 0 or 1 (got 2)")
  T.errors(function() mx.read_npy("/nonexistent.npy") end, "mixem.read_npy: /nonexistent.npy")
  os.remove(p)
end)

T.test("a header that ends inside 'descr' and shapes whose size overflows are refused", function()
  local p = T.tmpname(".npy")
  -- The header ends right after the quote that opens descr's value (issue 18: a read past it).
  local h = "{'fortran_order': False, 'shape': (2, 2), 'descr': '"
  T.write(p, "\x93NUMPY\1\0" .. string.pack("<I2", #h) .. h)
  T.errors(function() mx.read_npy(p) end, "malformed .npy header")
  -- rows x cols x itemsize wraps around to 0 (the length of the body): 2^63 x 2 x 8 = 2^68, and
  -- 2^32 x 2^32 = 2^64; both used to pass the size check.
  for _, shape in ipairs{"(9223372036854775808, 2)", "(4294967296, 4294967296)",
                         "(2305843009213693952, 1)", "(18446744073709551615,)"} do
    for _, descr in ipairs{"<f8", "|u1", "<f4"} do
      npy(p, descr, shape, false, "")
      T.errors(function() mx.read_npy(p) end, "shorter than its shape says")
    end
  end
  os.remove(p)
end)

T.test("rows = {first, last} reads those rows only, and the file's row count", function()
  -- (issue 14: a file larger than memory read a batch at a time, for model:partial_fit)
  local p = T.tmpname(".npy")
  for _, c in ipairs{{"<f8", "<d"}, {"|u1", "B"}, {"<f8", "<d", true}} do
    npy(p, c[1], "(4, 3)", c[3], pack(c[2], c[3]))
    local B, n = mx.read_npy(p, {rows = {2, 3}})
    T.eq(n, 4, c[1]); T.eq(#B, 2); T.eq(B:cols(), 3)
    for i = 1, 2 do for j = 1, 3 do T.eq(B:row(i)[j], rows[i + 1][j], c[1]) end end
    local E = mx.read_npy(p, {rows = {4, 10}, columns = {3}})
    T.eq(#E, 1); T.eq(E:cols(), 1); T.eq(E:row(1)[1], rows[4][3])
  end
  T.errors(function() mx.read_npy(p, {rows = {5, 6}}) end, "rows 5 to 6: the file has 4 rows")
  T.errors(function() mx.read_npy(p, {rows = {3, 2}}) end, "'rows' must be {first, last}")
  T.errors(function() mx.read_npy(p, {rows = {0, 2}}) end, "'rows' must be {first, last}")
  os.remove(p)
end)

T.done()
