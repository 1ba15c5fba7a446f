-- test_hc.lua: the start init = "hc" (src/hc.c), mclust's model-based agglomerative hierarchical
-- clustering, against mclust 6 (tests/reference/hc_mclust.R, which says how the fixtures were
-- made): the partitions at K = 2..5 of hclass(hc(X, modelName, use), 2:5) on four of mclust's
-- data sets, and the log-likelihood of EM from that start against Mclust(X, G = k, modelNames =
-- M), to 1e-6 relative, for the five covariance models the two share; then determinism and bad
-- input.
local T = dofile((os.getenv("MIXEM_TEST_SRCDIR") or ".") .. "/tests/lua/lib.lua")
local mx = require "mixem"
local fixtures = dofile(T.srcdir .. "/tests/reference/hc_fixtures.lua")

local cache = {}
local function data(file, columns)
  local key = file .. "|" .. table.concat(columns or {}, ",")
  if not cache[key] then
    cache[key] = mx.read_csv(T.srcdir .. "/data/" .. file, columns and {columns = columns} or nil)
  end
  return cache[key]
end

-- Where mclust's Fortran and ours part (see src/hc.c's header): VVV on the raw variables
-- (use = VARS) of faithful (K = 5), diabetes and thyroid, where mclust's hcvvv stores each merged
-- cluster's factor as copies of its first row and then merges by a wrong criterion (on diabetes
-- at 41 clusters, 17.741, where the pair's true criterion is 17.966 and 16.300 is available).
local known = {
  ["faithful.csv VVV VARS 5"] = true,
  ["diabetes.csv VVV VARS"] = true, ["thyroid.csv VVV VARS"] = true,
}

-- One column of whole numbers (faithful's waiting times, in minutes) makes merges of exactly
-- equal cost common, and which of two equal merges comes first then rests on the last bit of
-- libm's log: under valgrind (whose CPU makes glibc pick other variants) three of 272 rows moved
-- at K = 4.  There the partitions must agree to an adjusted Rand index of 0.95, not bit for bit.
local tied = { ["faithful.csv E"] = true, ["faithful.csv V"] = true }

local parts = {}
T.test("hc partitions equal mclust's hclass(hc(...)) at K = 2..5", function()
  local same, close, skipped = 0, 0, 0
  for _, f in ipairs(fixtures.partitions) do
    local key = f.data .. " " .. f.model .. " " .. f.use
    if f.model == "EEE" then
      -- O(N^3): tests/lua/test_hc_eee.lua (a slow test, not under valgrind)
    elseif known[key] or known[key .. " " .. f.k] then
      skipped = skipped + 1
    else
      -- K = 2..5 from one agglomeration per data set, model and use (EEE's is O(N^3))
      local ck = key .. "|" .. table.concat(f.columns or {}, ",")
      parts[ck] = parts[ck] or mx.hc(data(f.data, f.columns), {2, 3, 4, 5},
                                     {model = f.model, use = f.use})
      local lab = parts[ck][f.k - 1]
      if tied[f.data .. " " .. f.model] then
        local want = {}
        for i = 1, #f.labels do want[i] = tonumber(f.labels:sub(i, i)) end
        local ari = mx.adjusted_rand_index(lab, want)
        T.ok(ari >= 0.95, string.format("%s K=%d: adjusted Rand index %.4f", key, f.k, ari))
        close = close + 1
      else
        T.eq(table.concat(lab), f.labels, key .. " K=" .. f.k)
        same = same + 1
      end
    end
  end
  T.ok(same >= 87, "at least 87 partitions compared bit for bit (" .. same .. ")")
  T.eq(close, 16, "the tied one-column cases")
end)

T.test("EM from the hc start reaches Mclust's log-likelihood", function()
  for _, f in ipairs(fixtures.em) do
    local m = mx.fit{data = data(f.data), family = "gaussian", covariance = f.covariance,
                     k = f.k, init = "hc", n_init = 1, reg_covar = 0, tol = 1e-13,
                     refine_tol = 1e-13, max_iter = 100000, threads = 1}
    local rel = math.abs(m.loglik - f.loglik) / math.abs(f.loglik)
    if os.getenv("HC_REPORT") then
      print(string.format("%-13s %-4s K=%d mclust %.10f mixem %.10f rel %.1e", f.data, f.r_model,
                          f.k, f.loglik, m.loglik, rel))
    end
    T.ok(rel <= 1e-6, string.format("%s %s K=%d: mixem %.10g, mclust %.10g (rel %.2g)", f.data,
                                    f.r_model, f.k, m.loglik, f.loglik, rel))
  end
end)

T.test("hc is deterministic: neither the seed nor n_init changes the fit", function()
  local X = data("banknote.csv")
  local a = mx.fit{data = X, family = "gaussian", k = 3, init = "hc", n_init = 1, seed = 1}
  local b = mx.fit{data = X, family = "gaussian", k = 3, init = "hc", n_init = 10, seed = 99}
  T.eq(a.loglik, b.loglik)
  T.eq(a.n_iter, b.n_iter)
end)

T.test("hc_subset clusters evenly spaced rows; the rest have no label", function()
  local X = data("faithful.csv")
  local lab = mx.hc(X, {3}, {subset = 100})[1]
  local labelled = 0
  for i = 1, #lab do if lab[i] > 0 then labelled = labelled + 1 end end
  T.eq(labelled, 100)
  local m = mx.fit{data = X, family = "gaussian", k = 3, init = "hc", n_init = 1, hc_subset = 100}
  T.ok(m.loglik < 0 and m.loglik == m.loglik, "a fit from the subset's start")
end)

T.test("bad input", function()
  local X = data("diabetes.csv")
  T.errors(function() mx.hc(X, {146}) end, "hc cannot make k = 146 clusters of 145 rows")
  T.errors(function()
    mx.fit{data = X, family = "gaussian", k = 4, init = "hc", n_init = 1, hc_subset = 3}
  end, "hc cannot make k = 4 clusters of 3 rows (its subset, hc_subset)")
  T.errors(function() mx.hc(X, {2}, {model = "VEV"}) end, "unknown hc_model 'VEV'")
  T.errors(function() mx.hc(X, {2}, {model = "V"}) end, "hc_model = V is for one column")
  T.errors(function() mx.hc(X, {2}, {use = "PCS"}) end, "unknown hc_use 'PCS'")
  T.errors(function()
    mx.fit{data = X, family = "gaussian", k = 2, init = "hc", hc_model = "XYZ"}
  end, "hc_model")
end)

T.done()
