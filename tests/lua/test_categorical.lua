-- test_categorical.lua: the categorical family (latent class analysis) against an independent
-- NumPy EM (tests/reference/categorical_numpy.py) on data/haireyecolor.csv (text columns read as
-- level names): from the same start, log-likelihood, weights and level probabilities after 1, 5
-- and 50 iterations agree to 1e-8 relative for K = 2 and 3; then level names in model files and
-- predict, the unseen-level policy, the degenerate cases and bad input.
local T = dofile((os.getenv("MIXEM_TEST_SRCDIR") or ".") .. "/tests/lua/lib.lua")
local mx = require "mixem"
local path = T.srcdir .. "/data/haireyecolor.csv"
local X = mx.read_csv(path, {categorical = true})
local fixtures = dofile(T.srcdir .. "/tests/reference/categorical_fixtures.lua").categorical

T.test("the data: text read as sorted level names", function()
  T.eq(#X, 592)
  T.eq(table.concat(X:levels("Hair"), ","), "Black,Blond,Brown,Red")
  T.eq(table.concat(X:levels("Eye"), ","), "Blue,Brown,Green,Hazel")
  T.eq(table.concat(X:levels("Sex"), ","), "Female,Male")
  T.eq(X:row(1)[1], 0)   -- Black
  T.errors(function() mx.read_csv(path) end, "row 1, column 'Hair': not a number ('Black')")
  T.eq(table.concat(X:subset{1, 592}:levels("Eye"), ","), "Blue,Brown,Green,Hazel", "subset")
  local file = T.tmpname(".csv")
  T.write(file, "a,b\nx,1\n,2\n")
  T.errors(function() mx.read_csv(file, {categorical = true}) end,
           "row 2, column 'a': empty cell")
  T.write(file, "a,b\nx,1\ny,2\n")
  local B = mx.read_csv(file, {categorical = {"b"}, columns = {"b"}})
  T.eq(table.concat(B:levels("b"), ","), "1,2", "numbers as names")
  os.remove(file)
  T.errors(function() mx.fit{data = X, family = "poisson"} end,
           "column 'Hair': not a number ('Black'): the column holds level names, which family "
           .. "'poisson' does not model")
end)

for _, f in ipairs(fixtures) do
  T.test(string.format("K = %d after %d iterations", f.k, f.iters), function()
    local comps = {}
    for k = 1, f.k do comps[k] = {prob = f.prob0[k]} end
    local m = mx.fit{data = X, family = "categorical", k = f.k, max_iter = f.iters, tol = 0,
                     init = {weights = f.w0, components = comps},
                     on_iter = function(it) T.near(it.elbo + it.kl, it.loglik, 1e-12) end}
    T.eq(m.n_iter, f.iters)
    T.near(m.loglik, f.loglik, 1e-8, "log-likelihood")
    for k = 1, f.k do
      T.near(m.weights[k], f.weights[k], 1e-8, "weight")
      for j = 1, 3 do
        for l = 1, #f.prob[k][j] do
          T.near(m.components[k].prob[j][l], f.prob[k][j][l], 1e-8, "prob")
        end
      end
    end
  end)
end

T.test("level names in models, predict by name, unseen levels", function()
  local m = mx.fit{data = X, family = "categorical", k = 3, n_init = 3, seed = 2}
  T.eq(m.n_params, 3 * ((4 - 1) + (4 - 1) + (2 - 1)) + 2)
  T.eq(m.components[1].levels.Eye.Hazel, 3)
  local file = T.tmpname(".json")
  m:save(file)
  local c = mx.load(file)
  os.remove(file)
  T.eq(c:score(X), m:score(X))
  -- new data: the same names in another order, and fewer of them, give the same densities
  local new = T.tmpname(".csv")
  T.write(new, "Hair,Eye,Sex\nRed,Hazel,Male\nBlack,Blue,Female\n")
  local Y = mx.read_csv(new, {categorical = true})
  T.eq(table.concat(Y:levels("Hair"), ","), "Black,Red")
  local py = c:predict_proba(Y)
  local row_red = nil
  for i = 1, #X do
    local r = X:row(i)
    if r[1] == 3 and r[2] == 3 and r[3] == 1 then row_red = i break end
  end
  local px = c:predict_proba(X:subset{row_red})
  for k = 1, 3 do T.near(py[1][k], px[1][k], 1e-14, "same row by name") end
  -- a level never seen in the fit is an error naming file, row, column and level
  T.write(new, "Hair,Eye,Sex\nRed,Hazel,Male\nGrey,Blue,Female\n")
  local Z = mx.read_csv(new, {categorical = true})
  T.errors(function() c:predict(Z) end,
           "row 2, column 'Hair': level 'Grey' was not seen in the fit (the model knows 4 levels")
  os.remove(new)
end)

T.test("integer codes, degenerate cases", function()
  -- codes 0..L-1; L from the largest code, or the option levels
  local D = mx.dataset{{0, 1}, {1, 0}, {2, 0}, {0, 0}, {1, 1}, {2, 1}, {0, 1}, {2, 0}}
  local m = mx.fit{data = D, family = "categorical", k = 2, seed = 1}
  T.eq(#m.components[1].prob[1], 3)
  T.eq(m.n_params, 2 * (2 + 1) + 1)
  local m4 = mx.fit{data = D, family = "categorical", k = 2, seed = 1, levels = "4,2"}
  T.eq(#m4.components[1].prob[1], 4)
  -- a level no row holds: its probability is the floor eps, renormalised
  T.ok(m4.components[1].prob[1][4] <= 1e-10 and m4.components[1].prob[1][4] > 0, "floor")
  T.errors(function() m:predict(mx.dataset{{3, 0}}) end,
           "row 1, column '1': categorical codes must be whole numbers from 0 to 2 (got 3)")
  T.errors(function() mx.fit{data = mx.dataset{{0.5, 1}}, family = "categorical"} end,
           "row 1, column '1': categorical codes must be whole numbers from 0 to 0 (got 0.5)")
  -- a column with one level: probability 1, no free parameter
  local C = mx.dataset{{0, 0}, {0, 1}, {0, 1}, {0, 0}}
  local mc = mx.fit{data = C, family = "categorical", k = 1}
  T.eq(mc.components[1].prob[1][1], 1)
  T.eq(mc.n_params, 1)
  -- an empty component: kept at weight 0 with a warning (the engine's policy, from the
  -- family's error), and strict_empty makes it the family's error
  local e = mx.fit{data = C, family = "categorical", k = 2,
                   init = {weights = {1, 0}, components = {{prob = {{1}, {0.5, 0.5}}},
                                                           {prob = {{1}, {0.5, 0.5}}}}}}
  T.eq(e.weights[2], 0)
  T.ok(e.warnings[1]:find("component 2 has no weight", 1, true), "a warning")
  T.errors(function()
    mx.fit{data = C, family = "categorical", k = 2, strict_empty = true,
           init = {weights = {1, 0}, components = {{prob = {{1}, {0.5, 0.5}}},
                                                   {prob = {{1}, {0.5, 0.5}}}}}}
  end, "categorical: component 2 is empty")
end)

T.test("names and codes side by side; a model's components as a start", function()
  local file = T.tmpname(".csv")
  T.write(file, "colour,n\nred,0\nblue,2\nred,1\ngreen,0\nblue,2\nred,1\n")
  local D = mx.read_csv(file, {categorical = true})
  T.eq(D:levels("n"), nil)
  local m = mx.fit{data = D, family = "categorical", k = 2, seed = 3}
  T.eq(m.components[1].levels.colour.red, 2)
  T.eq(m.components[1].levels.n, nil)
  local again = mx.fit{data = D, family = "categorical", k = 2, max_iter = 0,
                       init = {weights = m.weights, components = m.components}}
  T.eq(again.loglik, m.loglik)
  T.errors(function()
    mx.fit{data = D, family = "categorical", k = 1, init = {components = {
      {prob = {{0.2, 0.3, 0.5}, {0.5, 0.25, 0.25}}, levels = {shape = {round = 0}}}}}}
  end, "categorical: 'levels' names no column of the model ('shape')")
  -- names in the data against a model fitted on codes: refused, the codes would not match
  local C = mx.read_csv(file, {categorical = {"colour", "n"}})
  local codes = mx.fit{data = mx.dataset{{0, 1}, {1, 0}, {2, 1}, names = {"colour", "n"}},
                       family = "categorical", k = 1}
  T.errors(function() codes:predict(C) end,
           "row 1, column 'colour': the column holds level names, but the model was fitted on "
           .. "whole-number codes")
  os.remove(file)
end)

T.test("starts, sampling, threads, bad input", function()
  local a = mx.fit{data = X, family = "categorical", k = 3, n_init = 2, threads = 1, block_size = 17}
  local b = mx.fit{data = X, family = "categorical", k = 3, n_init = 2, threads = 3, block_size = 17}
  T.eq(a.loglik, b.loglik)
  local S = a:sample(200, 3)
  for i = 1, 200 do
    local r = S:row(i)
    T.ok(r[1] >= 0 and r[1] <= 3 and r[3] >= 0 and r[3] <= 1, "a code")
  end
  local function start(c)
    return function()
      mx.fit{data = X, family = "categorical", k = 1, init = {components = {c}}}
    end
  end
  T.errors(start({prob = {{0.5, 0.5}, {0.25, 0.25, 0.25, 0.25}, {0.5, 0.5}}}),
           "categorical: 'prob' of column 1 must be 4 probabilities in [0, 1] summing to 1")
  T.errors(start({prob = {{0.5, 0.5, 0.5, -0.5}, {0.25, 0.25, 0.25, 0.25}, {0.5, 0.5}}}),
           "categorical: 'prob' of column 1 must be 4 probabilities")
  T.errors(start({p = 1}), "categorical: a component has no parameter 'p'")
  T.errors(function() mx.fit{data = X, family = "categorical", levels = "x"} end,
           "categorical: option levels must be one whole number")
  T.errors(function() mx.read_csv(path, {categorical = {"Nose"}}) end,
           "no categorical column 'Nose'")
end)

T.done()
