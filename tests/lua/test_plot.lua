-- test_plot.lua: mixem.plot from Lua: every kind writes a PNG (checked by its signature and its
-- IHDR size) and an SVG of the requested size; bad arguments are errors naming the problem.  What
-- the pictures hold is checked pixel by pixel in tests/check_plot.c.
local T = dofile((os.getenv("MIXEM_TEST_SRCDIR") or ".") .. "/tests/lua/lib.lua")
local mx = require "mixem"

-- The width and height of a PNG file, from its IHDR chunk; nil if it is not a PNG.
local function png_size(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local head = f:read(24)
  f:close()
  if not head or #head < 24 or head:sub(1, 8) ~= "\137PNG\r\n\26\n" then return nil end
  return string.unpack(">I4I4", head, 17)
end

local function svg_size(path)
  local text = io.open(path):read("a")
  return text:match('<svg[^>]- width="(%d+)pt" height="(%d+)pt"')
end

local iris = mx.read_csv(T.srcdir .. "/data/iris.csv")
local g = mx.fit{data = iris, family = "gaussian", k = 3, seed = 1}
local coins = mx.read_csv(T.srcdir .. "/data/two_coins.csv")
local b = mx.fit{data = coins, family = "binomial", k = 2, trials = "trials"}
local digits = mx.read_csv(T.srcdir .. "/data/digits_binary.csv")
local d = mx.fit{data = digits, family = "bernoulli", k = 4, alpha = 2, beta = 2, seed = 1}
local sel = mx.select{data = iris, family = "gaussian", k = {1, 2, 3}, covariance = {"full", "diag"}}

local hec = mx.read_csv(T.srcdir .. "/data/haireyecolor.csv", {categorical = true})
local lca = mx.fit{data = hec, family = "categorical", k = 2, seed = 1}

local size = {width = 500, height = 400}
local draws = {
  trace = function(p) mx.plot.trace(g, p, size) end,
  trace_table = function(p) mx.plot.trace(b.trace, p, size) end,
  traces = function(p)
    mx.plot.traces({g, b, b.trace}, p, {labels = {"iris", "coins", "coins table"}, width = 500,
                                        height = 400})
  end,
  clusters = function(p) mx.plot.clusters(g, iris, p, size) end,
  clusters_xy = function(p)
    mx.plot.clusters(g, iris, p, {x = "Petal.Length", y = 4, width = 500, height = 400})
  end,
  prototypes = function(p) mx.plot.prototypes(d, p, {shape = {8, 8}, width = 500, height = 400}) end,
  binomial = function(p) mx.plot.binomial(b, coins, p, size) end,
  select = function(p) mx.plot.select(sel, p, size) end,
  levels = function(p) mx.plot.levels(lca, p, size) end,
  select_aic = function(p) mx.plot.select(sel, p, {criterion = "aic", width = 500, height = 400}) end,
}

T.test("every kind writes a PNG and an SVG of the requested size", function()
  for name, draw in pairs(draws) do
    local png, svg = T.tmpname(".png"), T.tmpname(".svg")
    draw(png)
    draw(svg)
    local w, h = png_size(png)
    T.eq(w, 500, name .. " PNG width"); T.eq(h, 400, name .. " PNG height")
    local sw, sh = svg_size(svg)
    T.eq(sw, "500", name .. " SVG width"); T.eq(sh, "400", name .. " SVG height")
    os.remove(png); os.remove(svg)
  end
end)

local function read_all(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("a")
  f:close()
  return text
end

-- The student_t family's ellipses come from its "scale" (plot.c says why not the covariance
-- scale df / (df - 2)): its picture is the one of a gaussian with cov = scale, drawn under the
-- same title; a gaussian with the t's covariance, or none drawn at all, would differ.
T.test("clusters draws a student_t component's ellipses from its scale", function()
  local S = {{{1.0, 0.6}, {0.6, 2.0}}, {{0.5, -0.2}, {-0.2, 0.4}}}
  local mu, df = {{0, 0}, {6, 5}}, {3, 8}
  local X = mx.dataset{{0, 0.5}, {0.3, -0.4}, {-0.5, 0.2}, {6, 5.2}, {6.3, 4.8}, {5.8, 5.1},
                       names = {"x", "y"}}
  local function picture(family, key, factor)
    local comps = {}
    for k = 1, 2 do
      local f = factor and df[k] / (df[k] - 2) or 1
      local M = {{S[k][1][1] * f, S[k][1][2] * f}, {S[k][2][1] * f, S[k][2][2] * f}}
      comps[k] = {mean = mu[k], [key] = M, df = family == "student_t" and df[k] or nil}
    end
    local m = mx.model{family = family, weights = {0.5, 0.5}, components = comps}
    local p = T.tmpname(".png")
    mx.plot.clusters(m, X, p, {width = 500, height = 400, title = "t or normal"})
    local bytes = read_all(p)
    os.remove(p)
    return bytes
  end
  local t, g_scale, g_cov = picture("student_t", "scale"), picture("gaussian", "cov"),
                            picture("gaussian", "cov", true)
  T.ok(t == g_scale, "the t's picture is the gaussian's with cov = scale")
  T.ok(t ~= g_cov, "and not the gaussian's with cov = scale df / (df - 2)")
end)

T.test("levels: a categorical model's level probabilities, or a product's categorical parts", function()
  local mixed = mx.read_csv(T.srcdir .. "/tests/data/product_mixed.csv", {categorical = true})
  local prod = mx.fit{data = mixed, family = "product", k = 2, seed = 1,
                      parts = {{family = "gaussian", columns = {"x", "y"}, covariance = "diag"},
                               {family = "categorical", columns = {"colour"}},
                               {family = "poisson", columns = {"visits"}}}}
  local p = T.tmpname(".svg")
  mx.plot.levels(prod, p, {width = 640, height = 480})
  local text = read_all(p)
  os.remove(p)
  T.eq(text:match('<svg[^>]- width="(%d+)pt"'), "640")
  -- the level names are drawn (cairo's SVG holds glyphs, not text, so compare pictures): the
  -- same model without its level names is labelled with the codes 0, 1, ... instead
  local coded = mx.model{family = "categorical", weights = lca.weights,
                         components = {{prob = lca.components[1].prob},
                                       {prob = lca.components[2].prob}}}
  local a, b = T.tmpname(".png"), T.tmpname(".png")
  mx.plot.levels(lca, a, size)
  mx.plot.levels(coded, b, size)
  T.ok(read_all(a) ~= read_all(b), "level names or codes")
  os.remove(a); os.remove(b)
  local poisson_only = mx.fit{data = mixed, columns = {"visits"}, family = "product", k = 2,
                              seed = 1, parts = {{family = "poisson", columns = {"visits"}}}}
  local q = T.tmpname(".png")
  os.remove(q)
  T.errors(function() mx.plot.levels(g, q) end,
           "a levels plot needs a categorical model, or a product with a categorical part " ..
           "(this model's family is gaussian)")
  T.errors(function() mx.plot.levels(poisson_only, q) end,
           "this model's family is product, with no categorical part")
  T.errors(function() mx.plot.levels(lca, q, {shape = {2, 2}}) end, "unknown option 'shape'")
  local wide = {}
  for j = 1, 12 do wide[j] = {0.5, 0.5} end
  local twelve = mx.model{family = "categorical", components = {{prob = wide}, {prob = wide}}}
  T.errors(function() mx.plot.levels(twelve, q, {width = 200, height = 150}) end,
           "12 columns (up to 2 levels) of 2 components do not fit in 200 by 150; give a larger picture")
  mx.plot.levels(twelve, q, {width = 300, height = 600})
  T.eq(select(2, png_size(q)), 600, "twelve columns fit in a higher picture")
  os.remove(q)
  T.ok(not io.open(q), "no picture after a failure")
end)

T.test("bad arguments are errors, and leave no file", function()
  local p = T.tmpname(".png")
  os.remove(p)
  T.errors(function() mx.plot.trace(g, T.tmpname(".jpg")) end, "must end in .png, .svg or .pdf")
  T.errors(function() mx.plot.trace(g, p, {width = 20}) end, "200 to 20000 units wide and 150 to 20000 high")
  T.errors(function() mx.plot.trace(g, p, {colour = "red"}) end, "unknown option 'colour'")
  T.errors(function() mx.plot.trace({{iter = 1}}, p) end, "needs numbers loglik and elbo")
  T.errors(function() mx.plot.traces({}, p) end, "no trace to draw")
  T.errors(function() mx.plot.traces({g, 3}, p) end, "a model or a trace table expected, got number")
  T.errors(function() mx.plot.traces({g}, p, {labels = {1}}) end, "labels[1] is not a string")
  T.errors(function() mx.plot.traces({{}}, p) end, "trace 1 ('') has no iterations")
  T.errors(function() mx.plot.trace({{iter = 2^31, loglik = -1, elbo = -1}}, p) end,
           "'iter' must be an integer and at most 2147483647 (got 2147483648)")
  T.errors(function() mx.plot.clusters(g, iris, p, {x = 1}) end, "give both 'x' and 'y'")
  T.errors(function() mx.plot.clusters(g, iris, p, {x = "nope", y = 1}) end,
           "'x' must name one of the model's columns")
  T.errors(function() mx.plot.prototypes(d, p, {shape = {8}}) end, "'shape' must be {rows, cols}")
  T.errors(function() mx.plot.prototypes(g, p, {shape = {2, 3}}) end,
           "a 2 by 3 image needs 6 values per component; the gaussian components have 4")
  T.errors(function() mx.plot.binomial(g, iris, p) end, "a binomial model is needed")
  T.errors(function() mx.plot.select({}, p) end, "a result of mixem.select is expected")
  T.errors(function() mx.plot.select(sel, p, {criterion = "heldout"}) end,
           "no candidate has a heldout score")
  T.ok(not io.open(p), "no picture after a failure")
end)

T.done()
