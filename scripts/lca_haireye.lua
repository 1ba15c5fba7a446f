-- lca_haireye.lua: latent class analysis (the categorical family) on R's HairEyeColor, the hair
-- colour, eye colour and sex of 592 statistics students (data/haireyecolor.csv, one row per
-- student, text read as level names).  Fits K = 1..5 classes, selects K by BIC, prints each
-- class's weight and level probabilities as a table, how the classes split the students, and
-- draws the probabilities as a heat map (lca_haireye.png).
-- Usage: mixem run scripts/lca_haireye.lua [N_INIT [SEED]]
local mx = require "mixem"
local n_init = tonumber(arg[1]) or 20
local seed = tonumber(arg[2]) or 1
local here = arg and arg[0] and arg[0]:match("^(.*)/[^/]*$") or "."
local X = mx.read_csv(here .. "/../data/haireyecolor.csv", {categorical = true})
local names = X:names()

local r = mx.select{data = X, family = "categorical", k = {1, 2, 3, 4, 5}, n_init = n_init,
                    seed = seed}
print(string.format("Latent class analysis of %d students (%s), %d restarts per K", #X,
                    table.concat(names, ", "), n_init))
print(string.format("%3s %14s %12s %12s %8s", "K", "log-lik", "BIC", "AIC", "params"))
for i, c in ipairs(r.candidates) do
  print(string.format("%3d %14.4f %12.3f %12.3f %8d%s", c.k, c.loglik, c.bic, c.aic, c.n_params,
                      i == r.best and "   <- lowest BIC" or ""))
end
local m = r.model
local K = #m.weights
print()

-- Classes in order of weight, largest first.
local order = {}
for k = 1, K do order[k] = k end
table.sort(order, function(a, b) return m.weights[a] > m.weights[b] end)

local head = string.format("%-8s %-8s", "column", "level")
for _, k in ipairs(order) do head = head .. string.format("  class %d", k) end
print(string.format("Level probabilities, K = %d (each class's column sums to 1 within a variable)", K))
print(head)
local weights = string.format("%-8s %-8s", "", "weight")
for _, k in ipairs(order) do weights = weights .. string.format("  %7.3f", m.weights[k]) end
print(weights)
for j = 1, #names do
  local levels = X:levels(j)
  for l, name in ipairs(levels) do
    local line = string.format("%-8s %-8s", l == 1 and names[j] or "", name)
    for _, k in ipairs(order) do
      line = line .. string.format("  %7.3f", m.components[k].prob[j][l])
    end
    print(line)
  end
end
print()

-- How the classes split the students: counts of hard assignments against hair colour.
local z = m:predict(X)
local hair = X:levels("Hair")
local count = {}
for k = 1, K do count[k] = {} for l = 1, #hair do count[k][l] = 0 end end
for i = 1, #X do
  local h = X:row(i)[1] + 1
  count[z[i]][h] = count[z[i]][h] + 1
end
local line = string.format("%-16s", "students by hair")
for _, name in ipairs(hair) do line = line .. string.format(" %6s", name) end
print(line)
for _, k in ipairs(order) do
  line = string.format("%-16s", "class " .. k)
  for l = 1, #hair do line = line .. string.format(" %6d", count[k][l]) end
  print(line)
end
print()

-- The heat map: a block per variable, a row per class (numbered and weighted as in the table),
-- a cell per level, labelled with the level names the model keeps.
mx.plot.levels(m, "lca_haireye.png", {title = "Level probabilities by class"})
print("Picture: lca_haireye.png (blocks: Hair, Eye, Sex; columns: levels in the order above; darker")
print("is more probable; a row per class, numbered as in the table)")
