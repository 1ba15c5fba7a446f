-- bernoulli_digits.lua: a Bernoulli mixture with K = 10 on the 1797 binarised 8x8 handwritten
-- digits (pixel on when its intensity 0..16 exceeds 7).  Fits with restarts, then prints the
-- log-likelihood, BIC, the adjusted Rand index of the clusters against the digit labels, and each
-- component's mean image as an 8x8 grid of characters (darker character, higher probability).
-- Usage: mixem run scripts/bernoulli_digits.lua [N_INIT [SEED]]
local mx = require "mixem"

local here = arg and arg[0] and arg[0]:match("^(.*)/[^/]*$") or "."
local X = mx.read_csv(here .. "/../data/digits_binary.csv")
local digits = mx.read_csv(here .. "/../data/digits_labels.csv"):column(1)
local n_init, seed = tonumber(arg[1]) or 5, tonumber(arg[2]) or 0

-- alpha = beta = 2: one pseudo-count for each outcome, so that no pixel is certain.
local m = mx.fit{data = X, family = "bernoulli", k = 10, alpha = 2, beta = 2, n_init = n_init,
                 seed = seed}
local truth = {}
for i, d in ipairs(digits) do truth[i] = math.floor(d) + 1 end
local labels = m:predict(X)

print(string.format("%d images of %d pixels, K = 10, best of %d k-means starts (seed %d)", #X,
                    X:cols(), n_init, seed))
print(string.format("log-likelihood %.3f (%.4f per image; the plain likelihood, without the prior)",
                    m.loglik, m.loglik / #X))
print(string.format("BIC %.3f (%d free parameters; lower is better)", m:bic(X), m.n_params))
print(string.format("adjusted Rand index against the digit labels: %.4f (1: the same partition)\n",
                    mx.adjusted_rand_index(labels, truth)))

-- The most common digit in each cluster, to name it.
local function majority(k)
  local count = {}
  for i, l in ipairs(labels) do
    if l == k then count[truth[i]] = (count[truth[i]] or 0) + 1 end
  end
  local best, arg, total = 0, 0, 0
  for dgt, c in pairs(count) do
    total = total + c
    if c > best then best, arg = c, dgt end
  end
  return arg - 1, total > 0 and best / total or 0
end

local shades = {" ", ".", ":", "o", "O", "#"}
for row0 = 0, 1 do
  local lines = {}
  for r = 1, 10 do lines[r] = "" end
  for k = row0 * 5 + 1, row0 * 5 + 5 do
    local dg, share = majority(k)
    lines[1] = lines[1] .. string.format("%-12s", string.format("w=%.3f", m.weights[k]))
    lines[2] = lines[2] .. string.format("%-12s", string.format("'%d' %2.0f%%", dg, 100 * share))
    local mu = m.components[k].mu
    for y = 0, 7 do
      local s = ""
      for x = 0, 7 do
        s = s .. shades[math.min(#shades, 1 + math.floor(mu[y * 8 + x + 1] * #shades))]
      end
      lines[3 + y] = lines[3 + y] .. s .. "    "
    end
  end
  for r = 1, 10 do print(lines[r]) end
  print()
end
print("Each grid: a component's probability of each pixel being on; above it, its weight, and the")
print("digit most of its images show with their share.")

mx.plot.prototypes(m, "digits_prototypes.png", {shape = {8, 8}})
print("Picture: digits_prototypes.png")
