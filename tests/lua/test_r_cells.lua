-- test_r_cells.lua: issue 19's acceptance.  In every cell of tests/reference/r_fixtures.lua (R's
-- mclust 6 and flexmix 2.3 on seven real data sets in data/, made by
-- tests/reference/r_reference.R), mixem with DEFAULT settings (only the data, the family, K,
-- the covariance type, trials and row weights given) reaches at least R's best log-likelihood,
-- to 1e-3 (about R's own stopping precision).  bench/r_cells.lua prints the whole table.
local T = dofile((os.getenv("MIXEM_TEST_SRCDIR") or ".") .. "/tests/lua/lib.lua")
local mx = require "mixem"

local fixtures = dofile(T.srcdir .. "/tests/reference/r_fixtures.lua")
local cache = {}
local function dataset(f)
  local key = f.data .. "|" .. table.concat(f.columns, ",") .. "|" .. (f.weights or "")
  if not cache[key] then
    cache[key] = mx.read_csv(T.srcdir .. "/data/" .. f.data, {columns = f.columns, weights = f.weights})
  end
  return cache[key]
end

local by_data = {}
for _, f in ipairs(fixtures) do
  if f.loglik == f.loglik then   -- R returned a fit
    by_data[f.data] = by_data[f.data] or {}
    table.insert(by_data[f.data], f)
  end
end
local names = {}
for name in pairs(by_data) do names[#names + 1] = name end
table.sort(names)

for _, name in ipairs(names) do
  T.test(name .. ": defaults reach R's log-likelihood in every cell", function()
    local lost = {}
    for _, f in ipairs(by_data[name]) do
      local o = {data = dataset(f), family = f.family, k = f.k, quiet = true}
      if f.covariance then o.covariance = f.covariance end
      if f.trials then o.trials = f.trials end
      local m = mx.fit(o)
      if m.loglik < f.loglik - 1e-3 then
        lost[#lost + 1] = string.format("%s K=%d: mixem %.4f, R %.4f", f.covariance or f.family, f.k,
                                        m.loglik, f.loglik)
      end
    end
    T.eq(#lost, 0, table.concat(lost, "; "))
  end)
end

T.done()
