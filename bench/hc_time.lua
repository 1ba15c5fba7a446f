-- hc_time.lua: the time of mixem's model-based hierarchical clustering (mx.hc, src/hc.c) on
-- N = 10^4 generated rows, D = 2..5: a mixture of four Gaussians with random means and
-- covariances (a fixed seed), every row clustered (subset = 0) and, as the start does by default,
-- 2000 evenly spaced rows (mclust's subset).  Prints seconds, wall clock and CPU (the CPU time
-- is the steadier figure on a shared machine; mx.hc runs on one thread).
-- Usage: src/mixem run bench/hc_time.lua [N] [MODELS, e.g. VVV,EII]
local mx = require "mixem"
local N = tonumber(arg and arg[1]) or 10000
local models = {}
for m in ((arg and arg[2]) or "VVV,EII"):gmatch("[^,]+") do models[#models + 1] = m end

-- A small LCG, so that the data do not depend on Lua's math.random between versions.
local state = 12345
local function unif()
  state = (state * 1103515245 + 12345) % 2147483648
  return (state + 0.5) / 2147483648
end
local function normal()
  return math.sqrt(-2 * math.log(unif())) * math.cos(2 * math.pi * unif())
end

local function now()
  local p = io.popen("date +%s.%N")
  local t = tonumber(p:read("l"))
  p:close()
  return t
end

print(string.format("%-5s %2s %6s %8s %10s %10s", "model", "D", "N", "subset", "wall s", "cpu s"))
for D = 2, 5 do
  local rows, means, facs = {}, {}, {}
  for c = 1, 4 do
    means[c], facs[c] = {}, {}
    for j = 1, D do
      means[c][j] = 6 * normal()
      facs[c][j] = {}
      for l = 1, D do facs[c][j][l] = (l <= j) and (l == j and 1 + unif() or 0.5 * normal()) or 0 end
    end
  end
  for i = 1, N do
    local c, z, x = 1 + (i % 4), {}, {}
    for j = 1, D do z[j] = normal() end
    for j = 1, D do
      local s = means[c][j]
      for l = 1, j do s = s + facs[c][j][l] * z[l] end
      x[j] = s
    end
    rows[i] = x
  end
  local X = mx.dataset(rows)
  for _, model in ipairs(models) do
    for _, sub in ipairs{0, 2000} do
      local t0, c0 = now(), os.clock()
      mx.hc(X, {4}, {model = model, subset = sub})
      print(string.format("%-5s %2d %6d %8s %10.2f %10.2f", model, D, N, sub == 0 and "all" or sub,
                          now() - t0, os.clock() - c0))
      io.flush()
    end
  end
end
