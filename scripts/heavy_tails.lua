-- heavy_tails.lua: gross outliers against a Gaussian mixture and a mixture of t distributions
-- (Peel and McLachlan, 2000), each fitted by mixem to the same rows, scored by the adjusted Rand
-- index against the truth on the rows that are not outliers.
--   1. Three elongated 2-D clusters of 100 rows each (spread about 1), drawn with a fixed seed (the
--      truth is known), plus 4 gross outliers 30 to 45 units away: BIC over K = 1..6 for both
--      families, the ARI at K = 3 and at BIC's K, the t components, and pictures
--      heavy_tails_gaussian.png and heavy_tails_student_t.png.  (Outliers much farther out, 100
--      units and more, are explained better by one broad component of their own than by the
--      clusters' tails, and then both families spend a component on them at K = 3.)
--   2. Fisher's iris (data/iris.csv, the species as the truth) with 6 gross outliers: copies of
--      six flowers with one measurement written in mm instead of cm.
-- Usage: mixem run scripts/heavy_tails.lua [N_INIT]
local mx = require "mixem"

local here = arg and arg[0] and arg[0]:match("^(.*)/[^/]*$") or "."
local n_init = tonumber(arg[1]) or 5
local fams = {"gaussian", "student_t"}

local function ari(m, X, truth) return mx.adjusted_rand_index(m:predict(X), truth) end

-- ---- 1. generated clusters with known truth ----
math.randomseed(2024)
local function normal()
  return math.sqrt(-2 * math.log(1 - math.random())) * math.cos(2 * math.pi * math.random())
end
local centres = {{0, 0}, {5, 5}, {10, 0}}
local rows, truth, real = {}, {}, {}
for i = 1, 300 do
  local k = (i - 1) % 3 + 1
  local a, b = normal(), normal()
  rows[i] = {centres[k][1] + 1.2 * a, centres[k][2] + 0.5 * a + 0.6 * b}
  truth[i], real[i] = k, i
end
for o = 1, 4 do
  local angle, r = 2 * math.pi * o / 4 + 0.3, 25 * (1 + 0.2 * o)
  rows[#rows + 1] = {5 + r * math.cos(angle), 2 + r * math.sin(angle)}
end
rows.names = {"x", "y"}
local X = mx.dataset(rows)
local clean = X:subset(real)
print(string.format("1. three generated clusters, %d rows, and %d gross outliers\n", #clean,
                    #X - #clean))

local bic, best, fits = {}, {}, {}
for _, fam in ipairs(fams) do
  local r = mx.select{data = X, family = fam, k = {1, 2, 3, 4, 5, 6}, n_init = n_init, seed = 0,
                      criterion = "bic"}
  for _, c in ipairs(r.candidates) do bic[fam .. c.k] = c.bic end
  best[fam] = r.candidates[r.best].k
  fits[fam] = mx.fit{data = X, family = fam, k = 3, n_init = n_init, seed = 0}
  fits[fam .. "best"] = mx.fit{data = X, family = fam, k = best[fam], n_init = n_init, seed = 0}
end
print("BIC (lower is better):")
print(string.format("%3s %14s %14s", "K", fams[1], fams[2]))
for k = 1, 6 do
  print(string.format("%3d %14.3f %14.3f", k, bic[fams[1] .. k], bic[fams[2] .. k]))
end
print()
print(string.format("%-10s %12s %12s %22s", "family", "BIC's K", "ARI at K = 3",
                    "ARI at BIC's K"))
for _, fam in ipairs(fams) do
  print(string.format("%-10s %12d %12.4f %22.4f", fam, best[fam], ari(fits[fam], clean, truth),
                      ari(fits[fam .. "best"], clean, truth)))
end
print("(adjusted Rand index against the truth on the 300 drawn rows: 1 is the truth exactly,"
      .. "\n about 0 no better than chance)\n")

local t = fits.student_t
print("student_t at K = 3:")
print(string.format("%9s %8s %9s %10s %10s %10s %10s %10s", "component", "weight", "df",
                    "mean x", "mean y", "scale xx", "scale xy", "scale yy"))
for k = 1, 3 do
  local c = t.components[k]
  print(string.format("%9d %8.4f %9.3f %10.4f %10.4f %10.4f %10.4f %10.4f", k, t.weights[k], c.df,
                      c.mean[1], c.mean[2], c.scale[1][1], c.scale[1][2], c.scale[2][2]))
end
print()
for _, fam in ipairs(fams) do
  mx.plot.clusters(fits[fam], X, "heavy_tails_" .. fam .. ".png",
                   {title = fam .. ", K = 3: three clusters and four gross outliers"})
end
print("Pictures: heavy_tails_gaussian.png, heavy_tails_student_t.png\n")

-- ---- 2. iris with six measurements in mm ----
local iris = mx.read_csv(here .. "/../data/iris.csv")
local species = mx.read_csv(here .. "/../data/iris_labels.csv"):column(1)
local irows, itruth, ireal = {}, {}, {}
for i = 1, #iris do
  irows[i], itruth[i], ireal[i] = iris:row(i), math.floor(species[i]) + 1, i
end
for _, o in ipairs{{10, 1}, {60, 3}, {110, 2}, {30, 4}, {80, 1}, {130, 3}} do
  local r = iris:row(o[1])
  r[o[2]] = 10 * r[o[2]]
  irows[#irows + 1] = r
end
irows.names = iris:names()
local IX = mx.dataset(irows)
local iclean = IX:subset(ireal)
print("2. iris, 150 flowers, and 6 copies with one measurement in mm instead of cm; K = 3")
print(string.format("%-10s %20s %20s %16s %s", "family", "ARI with outliers", "ARI without",
                    "log-likelihood", "  df"))
for _, fam in ipairs(fams) do
  local m = mx.fit{data = IX, family = fam, k = 3, n_init = n_init, seed = 0}
  local m0 = mx.fit{data = iclean, family = fam, k = 3, n_init = n_init, seed = 0}
  local df = ""
  if fam == "student_t" then
    df = string.format("  %.2f, %.2f, %.2f", m.components[1].df, m.components[2].df,
                       m.components[3].df)
  end
  print(string.format("%-10s %20.4f %20.4f %16.3f%s", fam, ari(m, iclean, itruth),
                      ari(m0, iclean, itruth), m.loglik, df))
  if fam == "student_t" then
    -- From the t fit to the clean flowers, EM keeps the species apart, at a lower likelihood.
    local w = mx.fit{data = IX, family = fam, k = 3, init = m0, max_iter = 1000, tol = 1e-8}
    print(string.format("%-10s %20.4f %20s %16.3f", "  (from the clean fit)",
                        ari(w, iclean, itruth), "", w.loglik))
  end
end
print("(versicolor and virginica overlap: at K = 3 the likelihood of either family is higher"
      .. "\n with one component for the two and one for the outliers; the t's outlier component"
      .. "\n has heavy tails, so it holds the outliers and little else)")
