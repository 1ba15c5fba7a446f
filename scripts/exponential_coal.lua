-- exponential_coal.lua: exponential mixtures on the 189 intervals (days) between the British
-- coal-mining disasters of 1851-1962 (R's boot::coal; data/coal_intervals.csv, in time order).
-- Disasters grew rarer around 1890 (Jarrett 1979; Raftery and Akman 1986 place the change in
-- 1889-1891): a mixture of exponentials should find the two rates without being told the dates.
-- Selects K = 1..4 by BIC (mx.select), with the gamma family (K = 1..3) beside, prints each
-- component's rate and mean interval, which components the intervals before and after 1890 fall
-- in, and a text histogram with the counts the fit expects.  Draws coal_select.png and
-- coal_density.png (the fitted densities over the histogram).
-- Usage: mixem run scripts/exponential_coal.lua [N_INIT]
local mx = require "mixem"

local here = arg and arg[0] and arg[0]:match("^(.*)/[^/]*$") or "."
local X = mx.read_csv(here .. "/../data/coal_intervals.csv")
local n_init = tonumber(arg[1]) or 10
local days = X:column(1)

local r = mx.select{data = X, family = "exponential", k = {1, 2, 3, 4}, n_init = n_init, seed = 0,
                    criterion = "bic"}
local g = mx.select{data = X, family = "gamma", k = {1, 2, 3}, n_init = n_init, seed = 0,
                    criterion = "bic"}
print(string.format("%d intervals between disasters, %d to %d days", #X,
                    math.min(table.unpack(days)), math.max(table.unpack(days))))
print("BIC (lower is better):")
print(string.format("%3s  %12s  %12s", "K", "exponential", "gamma"))
for i, c in ipairs(r.candidates) do
  local gc = g.candidates[i]
  print(string.format("%3d  %12.3f  %12s", c.k, c.bic, gc and string.format("%12.3f", gc.bic) or ""))
end
local m = r.model
print(string.format("Lowest BIC: exponential K = %d (%.3f); gamma K = %d (%.3f)\n", m.k,
                    r.candidates[r.best].bic, g.model.k, g.candidates[g.best].bic))

-- The components by rate, fastest first.
local order = {}
for k = 1, m.k do order[k] = k end
table.sort(order, function(a, b) return m.components[a].rate[1] > m.components[b].rate[1] end)
print(string.format("The exponential mixture with K = %d (log-likelihood %.4f):", m.k, m.loglik))
print(string.format("%9s %8s %14s %12s", "component", "weight", "rate (1/day)", "mean (days)"))
for _, k in ipairs(order) do
  local rate = m.components[k].rate[1]
  print(string.format("%9d %8.4f %14.6f %12.1f", k, m.weights[k], rate, 1 / rate))
end

-- The data are in time order.  boot::coal's first date in 1890 is its 124th disaster (1890.10),
-- so its first 122 intervals end before 1890; with the zero interval (the 80th) dropped, these are
-- rows 1-121.
local split = 121
local labels = m:predict(X)
print(string.format("\nIntervals by era and most likely component (the era is not given to the fit):"))
io.write(string.format("%-22s", "era"))
for _, k in ipairs(order) do io.write(string.format(" %6s", "comp " .. k)) end
io.write(string.format(" %12s\n", "mean (days)"))
for era = 1, 2 do
  local a, b = era == 1 and 1 or split + 1, era == 1 and split or #X
  local count, sum = {}, 0
  for i = a, b do
    count[labels[i]] = (count[labels[i]] or 0) + 1
    sum = sum + days[i]
  end
  io.write(string.format("%-22s", era == 1 and "1851-1890 (" .. (b - a + 1) .. ")" or "1890-1962 (" .. (b - a + 1) .. ")"))
  for _, k in ipairs(order) do io.write(string.format(" %6d", count[k] or 0)) end
  io.write(string.format(" %12.1f\n", sum / (b - a + 1)))
end

local width = 100
print(string.format("\nIntervals per %d-day bin (#) and the count the mixture expects:", width))
for bin = 0, 11 do
  local a, b = bin * width, (bin + 1) * width
  local n = 0
  for _, v in ipairs(days) do if v > a and v <= b then n = n + 1 end end
  local expect = 0
  for k = 1, m.k do
    local rate = m.components[k].rate[1]
    expect = expect + m.weights[k] * (math.exp(-rate * a) - math.exp(-rate * b))
  end
  print(string.format("%5d-%-5d %3d %6.1f  %s", a, b, n, expect * #X, string.rep("#", n)))
end

mx.plot.select(r, "coal_select.png")
mx.plot.density(m, X, "coal_density.png")
print("\nPictures: coal_select.png, coal_density.png")
