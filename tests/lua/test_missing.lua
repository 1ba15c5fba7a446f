-- test_missing.lua: missing values (issue 16).  Reading (tokens, .npy NaN, errors), the dataset's
-- mask and patterns, bit-identical fits when nothing is missing, EM with 30% of cells missing at
-- random in every family that supports it (the log-likelihood never decreases, ELBO + KL =
-- log-likelihood, KL >= 0, and the observed-data log-likelihood checked by brute force for the
-- Bernoulli and Poisson families), families without support refused, a row with nothing
-- observed, and imputation.  Data are drawn here by a fixed linear congruential generator.
local T = dofile((os.getenv("MIXEM_TEST_SRCDIR") or ".") .. "/tests/lua/lib.lua")
local mx = require "mixem"

local state = 20261202
local function u()
  state = (state * 1103515245 + 12345) % 2147483648
  return (state + 0.5) / 2147483648
end
local NAN = 0 / 0
local function isnan(v) return v ~= v end

-- Rows of N draws of a two-component mixture; GEN(k) draws one row of component k.
local function draw_rows(n, gen)
  local rows = {}
  for i = 1, n do rows[i] = gen(u() < 0.4 and 1 or 2) end
  return rows
end

-- A copy of ROWS with each cell missing with probability SHARE (COLS: only these columns).
local function blank(rows, share, cols)
  local out = {}
  for i, r in ipairs(rows) do
    local c = {}
    for j, v in ipairs(r) do
      c[j] = ((not cols or cols[j]) and u() < share) and NAN or v
    end
    out[i] = c
  end
  return out
end

local function dataset(rows, names)
  local t = {names = names, allow_missing = true}
  for i, r in ipairs(rows) do t[i] = r end
  return mx.dataset(t)
end

local function poisson(l)
  local L, k, p = math.exp(-l), 0, 1
  repeat k = k + 1; p = p * u() until p <= L
  return k - 1
end

-- Every run of iterations of one restart (and short run): the log-likelihood never decreases;
-- ELBO + KL = loglik and KL >= 0, to 1e-9 relative.
local function check_trace(m, what)
  local prev
  for _, it in ipairs(m.trace) do
    local key = tostring(it.restart) .. "/" .. tostring(it.short_run)
    T.near(it.elbo + it.kl, it.loglik, 1e-9, what .. " elbo + kl")
    T.ok(it.kl >= -1e-9 * math.abs(it.loglik), what .. " kl >= 0 (" .. it.kl .. ")")
    if prev and prev.key == key and it.iter == prev.iter + 1 then
      T.ok(it.loglik >= prev.ll - 1e-9 * math.abs(prev.ll),
           string.format("%s: loglik fell from %.17g to %.17g", what, prev.ll, it.loglik))
    end
    prev = {key = key, ll = it.loglik, iter = it.iter}
  end
end

local function fmt(v)
  if type(v) == "table" then
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = tostring(k) end
    table.sort(keys)
    local parts = {}
    for _, k in ipairs(keys) do
      local val = v[k] ~= nil and v[k] or v[tonumber(k)]
      parts[#parts + 1] = k .. "=" .. fmt(val)
    end
    return "{" .. table.concat(parts, ",") .. "}"
  end
  return type(v) == "number" and string.format("%.17g", v) or tostring(v)
end

T.test("reading: tokens, counts, patterns, subset", function()
  local p = T.tmpname(".csv")
  T.write(p, "a,b,c\n1,2,3\nNA,5,\n7,NaN,9\n,,\n1,?,2\n")
  T.errors(function() mx.read_csv(p) end, "row 2, column 'a': not a number ('NA')")
  T.errors(function() mx.read_csv(p, {allow_missing = true}) end, "not a number ('?')")
  local ds = mx.read_csv(p, {missing = {"", "NA", "NaN", "?"}})
  local info = ds:missing()
  T.eq(info.cells, 7); T.eq(info.rows, 4); T.eq(info.empty_rows, 1); T.eq(info.patterns, 4)
  T.eq(info.columns[1], 2); T.eq(info.columns[2], 3); T.eq(info.columns[3], 2)
  T.ok(ds:is_missing(2, 1) and ds:is_missing(2, 3) and not ds:is_missing(2, 2), "mask")
  T.ok(isnan(ds:row(3)[2]) and ds:row(3)[3] == 9, "NaN read back")
  T.eq(ds:storage(), "uint8", "small whole numbers with holes are kept as bytes")
  local sub = ds:subset{5, 1, 2}
  T.eq(sub:missing().cells, 3); T.ok(sub:is_missing(1, 2) and sub:is_missing(3, 1), "subset mask")
  T.errors(function() mx.read_csv(p, {missing = {"?", "-999"}}) end,
           "the missing-value token '-999' is a number")
  T.errors(function() mx.read_csv(p, {allow_missing = false, missing = "?"}) end,
           "contradicts allow_missing = false")
  T.write(p, "a,b\n1,NA\n2,\n3,NA\n")
  T.errors(function() mx.read_csv(p, {allow_missing = true}) end,
           "column 'b' is missing in every row")
  -- .npy: NaN is missing only when allowed
  local dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }"
  dict = dict .. string.rep(" ", (16 - (10 + #dict + 1) % 16) % 16) .. "\n"
  local q = T.tmpname(".npy")
  T.write(q, "\x93NUMPY\1\0" .. string.pack("<I2", #dict) .. dict
             .. string.pack("<dddddd", 1, NAN, 2, 3, NAN, 4))
  T.errors(function() mx.read_npy(q) end, "is not a finite number")
  local nd = mx.read_npy(q, {allow_missing = true})
  T.eq(nd:missing().cells, 2); T.ok(nd:is_missing(1, 2) and nd:is_missing(3, 1), "npy mask")
end)

-- The families with missing support: a generator, fit options and the columns' names.
local fams = {
  {name = "bernoulli", names = {"a", "b", "c", "d", "e"}, gen = function(k)
     local mu = k == 1 and {0.9, 0.8, 0.1, 0.2, 0.7} or {0.1, 0.3, 0.9, 0.8, 0.2}
     local r = {}; for j = 1, 5 do r[j] = u() < mu[j] and 1 or 0 end; return r end},
  {name = "poisson", names = {"a", "b", "c"}, gen = function(k)
     local l = k == 1 and {2, 5, 1} or {8, 1, 4}
     return {poisson(l[1]), poisson(l[2]), poisson(l[3])} end},
  {name = "exponential", names = {"a", "b"}, gen = function(k)
     local r = k == 1 and {1, 5} or {6, 0.5}
     return {-math.log(u()) / r[1], -math.log(u()) / r[2]} end},
  {name = "gamma", names = {"a", "b"}, gen = function(k)
     -- shape 2: the sum of two exponentials
     local r = k == 1 and {1, 5} or {6, 0.5}
     return {(-math.log(u()) - math.log(u())) / r[1], (-math.log(u()) - math.log(u())) / r[2]} end},
  {name = "categorical", names = {"a", "b", "c"}, gen = function(k)
     local r = {}
     for j = 1, 3 do
       local v = u()
       r[j] = k == 1 and (v < 0.7 and 0 or v < 0.9 and 1 or 2) or (v < 0.1 and 0 or v < 0.3 and 1 or 2)
     end
     return r end},
  {name = "binomial", names = {"s", "n"}, opts = {trials = "n"}, gen = function(k)
     local n = 5 + math.floor(u() * 10)
     local s = 0; for _ = 1, n do if u() < (k == 1 and 0.2 or 0.7) then s = s + 1 end end
     return {s, n} end},
  {name = "product", names = {"a", "b", "c", "x"},
   opts = {parts = {{family = "bernoulli", columns = {"a", "b", "c"}},
                    {family = "poisson", columns = {"x"}}}}, gen = function(k)
     local mu = k == 1 and {0.9, 0.8, 0.1} or {0.1, 0.3, 0.9}
     local r = {}; for j = 1, 3 do r[j] = u() < mu[j] and 1 or 0 end
     r[4] = poisson(k == 1 and 2 or 9); return r end},
  {name = "gaussian", names = {"a", "b", "c"}, opts = {covariance = "full"}, gen = function(k)
     local z = {}
     for j = 1, 3 do z[j] = math.sqrt(-2 * math.log(u())) * math.cos(2 * math.pi * u()) end
     local m = k == 1 and 0 or 3
     return {m + z[1], m + 0.6 * z[1] + 0.8 * z[2], m - 0.5 * z[2] + z[3]} end},
  {name = "gaussian", names = {"a", "b", "c"}, opts = {covariance = "diag"}, gen = function(k)
     local z = {}
     for j = 1, 3 do z[j] = math.sqrt(-2 * math.log(u())) * math.cos(2 * math.pi * u()) end
     local m = k == 1 and 0 or 3
     return {m + z[1], m + 2 * z[2], m + 0.5 * z[3]} end},
}

local function fit(f, ds, extra)
  local o = {data = ds, family = f.name, k = 2, seed = 2, n_init = 1, short_starts = 2,
             max_iter = 60, n_refine = 1}
  for key, v in pairs(f.opts or {}) do o[key] = v end
  for key, v in pairs(extra or {}) do o[key] = v end
  return mx.fit(o)
end

for _, f in ipairs(fams) do
  local rows = draw_rows(300, f.gen)
  T.test(f.name .. ": no cell missing gives the same bits as without allow_missing", function()
    local t = {names = f.names}
    for i, r in ipairs(rows) do t[i] = r end
    local plain = mx.dataset(t)
    t.allow_missing = true
    local allowed = mx.dataset(t)
    local a, b = fit(f, plain), fit(f, allowed)
    T.eq(fmt(a.loglik), fmt(b.loglik), "loglik")
    T.eq(fmt(a.components), fmt(b.components), "components")
    T.eq(fmt(a.weights), fmt(b.weights), "weights")
  end)
  T.test(f.name .. ": 30% missing at random, EM climbs and ELBO + KL = loglik", function()
    local cols = f.name == "binomial" and {true, false} or nil   -- binomial: successes only
    local holed = blank(rows, 0.3, cols)
    if f.name == "binomial" then   -- and some trials
      for i = 1, 300, 17 do holed[i][2] = NAN end
    end
    local ds = dataset(holed, f.names)
    T.ok(ds:missing().cells > 0, "cells missing")
    local m = fit(f, ds)
    check_trace(m, f.name)
    -- the final log-likelihood is that of the data under the final parameters
    T.near(m:score(ds) * ds:rows(), m.loglik, 1e-6, f.name .. " loglik")
    local pp = m:predict_proba(ds)
    T.eq(#pp, 300)
  end)
end

T.test("level names with missing cells", function()
  local p = T.tmpname(".csv")
  local lines = {"colour,size,n"}
  local cs, ss = {"red", "green", "blue"}, {"S", "M", "L"}
  for i = 1, 60 do
    local c = (i % 7 == 1) and "NA" or cs[1 + (i * 7) % 3]
    local z = (i % 5 == 0) and "" or ss[1 + (i * 3 + (i > 30 and 1 or 0)) % 3]
    lines[#lines + 1] = c .. "," .. z .. "," .. tostring(i % 4)
  end
  T.write(p, table.concat(lines, "\n") .. "\n")
  local ds = mx.read_csv(p, {categorical = true, allow_missing = true})
  T.eq(fmt(ds:levels(1)), fmt{"blue", "green", "red"}, "no level for a missing cell")
  T.eq(ds:missing().columns[1], 9); T.eq(ds:missing().columns[2], 12)
  local m = mx.fit{data = ds, columns = {"colour", "size"}, family = "categorical", k = 2,
                   seed = 1, n_init = 1}
  check_trace(m, "categorical names")
  -- the model's columns selected from the three: row 1 has nothing but its size
  local imp = m:impute(ds, {draws = 1, seed = 1})[1]
  T.eq(imp:cols(), 2); T.ok(not isnan(imp:row(1)[1]) and imp:row(1)[2] == ds:row(1)[2], "select")
  T.errors(function() mx.fit{data = ds, family = "poisson", k = 2} end,
           "row 2, column 'colour': not a number ('blue'): the column holds level names")
end)

T.test("bernoulli and poisson: the observed-data log-likelihood by brute force", function()
  for _, f in ipairs{fams[1], fams[2]} do
    local ds = dataset(blank(draw_rows(200, f.gen), 0.3), f.names)
    local m = fit(f, ds)
    local ll = 0
    for i = 1, ds:rows() do
      local r, s = ds:row(i), 0
      for k = 1, 2 do
        local lp = math.log(m.weights[k])
        for j = 1, #r do
          if not isnan(r[j]) then
            if f.name == "bernoulli" then
              local mu = m.components[k].mu[j]
              lp = lp + math.log(r[j] == 1 and mu or 1 - mu)
            else
              local l = m.components[k].lambda[j]
              lp = lp + r[j] * math.log(l) - l - mx.lgamma(r[j] + 1)
            end
          end
        end
        s = s + math.exp(lp)
      end
      ll = ll + math.log(s)
    end
    T.near(m:score(ds) * ds:rows(), ll, 1e-10, f.name)
  end
end)

T.test("missing cells: the same bits for 1 and 3 threads, and every EM variant runs", function()
  for _, f in ipairs{fams[1], fams[2], fams[4]} do
    local ds = dataset(blank(draw_rows(1500, f.gen), 0.3), f.names)
    local a = fit(f, ds, {threads = 1, block_size = 64})
    local b = fit(f, ds, {threads = 3, block_size = 64})
    T.eq(fmt(a.loglik), fmt(b.loglik), f.name .. " threads")
    T.eq(fmt(a.components), fmt(b.components), f.name .. " threads")
  end
  local ds = dataset(blank(draw_rows(300, fams[2].gen), 0.3), fams[2].names)
  local em = fit(fams[2], ds, {max_iter = 500, tol = 1e-10})
  for _, alg in ipairs{"squarem", "cem", "sem", "annealed", "incremental", "online"} do
    local m = fit(fams[2], ds, {algorithm = alg})
    T.ok(m.loglik == m.loglik and m.loglik <= em.loglik + 1e-6 * math.abs(em.loglik), alg)
  end
end)

T.test("families without missing support are refused, naming them", function()
  local ds = dataset({{1, 2}, {NAN, 3}, {4, 5}, {2, 2}}, {"a", "b"})
  T.errors(function() mx.fit{data = ds, family = "multinomial", k = 2} end,
           "row 2, column 'a': a missing value (1 in all), but family 'multinomial' does not "
           .. "support missing values")
  T.errors(function() mx.fit{data = ds, family = "student_t", k = 2} end,
           "family 'student_t' does not support missing values")
  T.errors(function()
    mx.fit{data = dataset({{1, 2, 0}, {NAN, 3, 1}, {4, 5, 2}, {2, 2, 1}}, {"a", "b", "c"}),
           family = "product", k = 2, parts = {{family = "poisson", columns = {"c"}},
                                              {family = "multinomial", columns = {"a", "b"}}}}
  end, "row 2, column 'a': a missing value, but family 'multinomial' (part 2 of the product) "
       .. "does not support missing values")
  -- a model file that says it was fitted to incomplete data, for a family without support
  local comp = dataset({{1, 2}, {3, 1}, {4, 5}, {2, 2}, {0, 3}}, {"a", "b"})
  local m = mx.fit{data = comp, family = "multinomial", k = 2, seed = 1}
  local p = T.tmpname(".json")
  m:save(p)
  local text = T.read(p):gsub('"converged"', '"missing_data" : true,\n  "converged"', 1)
  T.write(p, text)
  T.errors(function() mx.load(p) end,
           "'missing_data' is true, but family 'multinomial' does not support missing values")
  -- a Poisson model fitted to incomplete data says so, and loads
  local pm = fit(fams[2], dataset(blank(draw_rows(100, fams[2].gen), 0.3), fams[2].names))
  pm:save(p)
  T.ok(T.read(p):find('"missing_data" : true', 1, true), "missing_data written")
  T.eq(fmt(mx.load(p).weights), fmt(pm.weights))
end)

T.test("a row with nothing observed: the weights, no statistics, not in BIC's N", function()
  local f = fams[1]
  local rows = blank(draw_rows(200, f.gen), 0.2)
  rows[7] = {NAN, NAN, NAN, NAN, NAN}
  local ds = dataset(rows, f.names)
  T.eq(ds:missing().empty_rows, 1)
  local m = fit(f, ds)
  local pp = m:predict_proba(ds)
  T.near(pp[7][1], m.weights[1], 1e-15); T.near(pp[7][2], m.weights[2], 1e-15)
  T.ok(math.abs(m:score_samples(ds)[7]) < 1e-12, "log-likelihood 0 (log of the weights' sum)")
  T.near(m:bic(ds), -2 * m.loglik + m.n_params * math.log(199), 1e-12, "BIC with N = 199")
  -- the same fit without that row: the same parameters (its statistics are empty)
  local keep = {}
  for i = 1, 200 do if i ~= 7 then keep[#keep + 1] = i end end
  local m2 = fit(f, ds:subset(keep), {init = {weights = m.weights, components = m.components},
                                       n_init = 1, max_iter = 1, tol = 0})
  local m1 = fit(f, ds, {init = {weights = m.weights, components = m.components}, n_init = 1,
                         max_iter = 1, tol = 0})
  for k = 1, 2 do
    for j = 1, 5 do T.near(m1.components[k].mu[j], m2.components[k].mu[j], 1e-12, "mu") end
  end
end)

T.test("impute: conditional means and seeded draws", function()
  local f = fams[2]
  local ds = dataset(blank(draw_rows(200, f.gen), 0.3), f.names)
  local m = fit(f, ds)
  local imp, pp = m:impute(ds), m:predict_proba(ds)
  for i = 1, 200 do
    local r, o = ds:row(i), imp:row(i)
    for j = 1, 3 do
      if isnan(r[j]) then
        local e = pp[i][1] * m.components[1].lambda[j] + pp[i][2] * m.components[2].lambda[j]
        T.near(o[j], e, 1e-12, "mean")
      else
        T.eq(o[j], r[j], "observed cell kept")
      end
    end
  end
  local d1, d2 = m:impute(ds, {draws = 2, seed = 9}), m:impute(ds, {draws = 2, seed = 9})
  T.eq(#d1, 2)
  local differ = false
  for i = 1, 200 do
    T.eq(table.concat(d1[2]:row(i), ","), table.concat(d2[2]:row(i), ","), "same seed")
    differ = differ or table.concat(d1[1]:row(i), ",") ~= table.concat(d1[2]:row(i), ",")
    for j, v in ipairs(d1[1]:row(i)) do
      T.ok(v >= 0 and v == math.floor(v), "a drawn count")
      if not isnan(ds:row(i)[j]) then T.eq(v, ds:row(i)[j]) end
    end
  end
  T.ok(differ, "two draws differ")
  -- Bernoulli: the mean of a cell is a probability
  local b = fams[1]
  local bd = dataset(blank(draw_rows(100, b.gen), 0.3), b.names)
  local bm = fit(b, bd)
  local bi = bm:impute(bd)
  for i = 1, 100 do for _, v in ipairs(bi:row(i)) do T.ok(v >= 0 and v <= 1, "in [0, 1]") end end
  -- categorical has no conditional mean of a level: an error, and draws work
  local c = fams[5]
  local cd = dataset(blank(draw_rows(100, c.gen), 0.3), c.names)
  local cm = fit(c, cd)
  T.errors(function() cm:impute(cd) end, "family 'categorical' has no conditional mean")
  T.eq(#cm:impute(cd, {draws = 1}), 1)
end)

T.done()
