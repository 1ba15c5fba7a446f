-- directions.lua: von Mises mixtures (von_mises_fisher with D = 2) on real directions: the 310
-- wind directions of data/wind.csv (Col de la Roa, Italian Alps, 3 to 4 am, 29 January to 31
-- March 2001; R's circular package), read as one column of angles in radians.  Selects K over
-- 1..5 by BIC, prints the table and the components (weight, mean direction in degrees, kappa and
-- the circular standard deviation sqrt(-2 log A_2(kappa)) in degrees), and draws the directions
-- on the unit circle coloured by component, with each mean direction marked (directions.png).
-- Usage: mixem run scripts/directions.lua [N_INIT]
local mx = require "mixem"

local here = arg and arg[0] and arg[0]:match("^(.*)/[^/]*$") or "."
local W = mx.read_csv(here .. "/../data/wind.csv")
local n_init = tonumber(arg[1]) or 10

local r = mx.select{data = W, family = "von_mises_fisher", angles = "radians",
                    k = {1, 2, 3, 4, 5}, n_init = n_init, seed = 0, criterion = "bic"}
print(string.format("%d wind directions (radians), von Mises mixtures:", #W))
print(string.format("%3s %16s %12s %12s", "K", "log-likelihood", "parameters", "BIC"))
for _, c in ipairs(r.candidates) do
  print(string.format("%3d %16.4f %12d %12.4f", c.k, c.loglik, c.n_params or 3 * c.k - 1, c.bic))
end
local best = r.candidates[r.best]
print(string.format("BIC picks K = %d (lower is better).\n", best.k))

local m = mx.fit{data = W, family = "von_mises_fisher", angles = "radians", k = best.k,
                 n_init = n_init, seed = 0}

-- A_2(kappa) = I_1(kappa) / I_0(kappa), by the power series (kappa here is below 100).
local function a2(kappa)
  local q, t0, t1, s0, s1 = kappa * kappa / 4, 1, kappa / 2, 1, kappa / 2
  for j = 1, 400 do
    t0 = t0 * q / (j * j)
    t1 = t1 * q / (j * (j + 1))
    s0, s1 = s0 + t0, s1 + t1
  end
  return s1 / s0
end

print(string.format("%9s %8s %16s %10s %22s", "component", "weight", "mean direction", "kappa",
                    "circular sd (degrees)"))
for k = 1, m.k do
  local c = m.components[k]
  local deg = math.deg(math.atan(c.mu[2], c.mu[1])) % 360
  local sd = c.kappa > 0 and math.deg(math.sqrt(-2 * math.log(a2(c.kappa)))) or math.huge
  print(string.format("%9d %8.4f %15.1f° %10.4f %22.1f", k, m.weights[k], deg, c.kappa, sd))
end
print("(mean directions as angles from the first axis, counter-clockwise, in the data's"
      .. "\n reference; kappa = 0 is the uniform distribution)\n")

-- The directions as points on the unit circle, with the fitted components as unit-vector
-- components of the same model, drawn by the scatter plot.
local pts = {names = {"cos", "sin"}}
for i = 1, #W do
  local a = W:row(i)[1]
  pts[i] = {math.cos(a), math.sin(a)}
end
local V = mx.dataset(pts)
local comps = {}
for k = 1, m.k do comps[k] = {mu = m.components[k].mu, kappa = m.components[k].kappa} end
local mv = mx.model{family = "von_mises_fisher", weights = m.weights, components = comps,
                    columns = {"cos", "sin"}}
assert(math.abs(mv:score(V) - m:score(W)) < 1e-9 * math.abs(m:score(W)),
       "the unit-vector model scores the directions as the angle model does")
mx.plot.clusters(mv, V, "directions.png",
                 {title = string.format("wind directions at Col de la Roa: %d von Mises components",
                                        m.k)})
print("Picture: directions.png (each direction on the unit circle, by component; the marked"
      .. "\n points are the mean directions)")
