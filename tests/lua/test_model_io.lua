-- test_model_io.lua: save and load round trips, traces, and malformed model files.
local T = dofile((os.getenv("MIXEM_TEST_SRCDIR") or ".") .. "/tests/lua/lib.lua")
local mx = require "mixem"
local X = mx.read_csv(T.srcdir .. "/data/two_coins.csv", {columns = {"heads", "trials"}})
local m = mx.fit{data = X, family = "binomial", k = 2, trials = "trials", n_init = 3, seed = 2}

T.test("save then load gives the same model and identical predictions", function()
  local p = T.tmpname(".json")
  T.eq(m:save(p), m)
  local l = mx.load(p)
  T.eq(l.family, m.family); T.eq(l.k, m.k); T.eq(l.loglik, m.loglik); T.eq(l.n_iter, m.n_iter)
  T.eq(l.converged, m.converged); T.eq(l.options.trials, "trials")
  for j = 1, 2 do
    T.eq(l.weights[j], m.weights[j]); T.eq(l.components[j].p, m.components[j].p)
  end
  local a, b = m:predict_proba(X), l:predict_proba(X)
  local sa, sb = m:score_samples(X), l:score_samples(X)
  for i = 1, #X do
    T.eq(a[i][1], b[i][1]); T.eq(a[i][2], b[i][2]); T.eq(sa[i], sb[i])
  end
  T.eq(#l.trace, #m.trace)
  for i, it in ipairs(m.trace) do
    T.eq(l.trace[i].loglik, it.loglik); T.eq(l.trace[i].kl, it.kl)
  end
  local s1, s2 = m:sample(20, 4), l:sample(20, 4)
  for i = 1, 20 do T.eq(s1:row(i)[1], s2:row(i)[1]) end
  os.remove(p)
end)

-- json-glib 1.6 writes 1e-10 as "1e-10.0", which no parser reads back; the writer repairs it.
T.test("numbers written with an exponent and no point load back", function()
  local b = mx.model{family = "bernoulli", weights = {0.5, 0.5},
                     components = {{mu = {1e-10, 0.5, 2e-5}}, {mu = {0.25, 1e+300 / 1e300, 3e-7}}}}
  local p = T.tmpname(".json")
  b:save(p)
  local text = io.open(p):read("a")
  T.ok(text:find("1e-10,", 1, true), "1e-10 written as such")
  T.ok(not text:find("e%-?%d+%.0"), "no '.0' after an exponent")
  local l = mx.load(p)
  T.eq(l.components[1].mu[1], 1e-10); T.eq(l.components[1].mu[3], 2e-5)
  T.eq(l.components[2].mu[3], 3e-7)
  os.remove(p)
end)

-- Issue 18: sizes from a model file (d = 400000 full covariances: 1.3 TB a matrix; a diagonal one
-- of d = 10^6 asked for d^2 doubles) aborted in g_malloc; now they are errors.
local function wide_model(d, cov, comp)
  local cols = string.rep('"c",', d - 1) .. '"c"'
  return string.format('{"format": "mixem-model", "version": 1, "family": "gaussian", "k": 1, ' ..
                       '"d": %d, "columns": [%s], "options": {"covariance": "%s"}, ' ..
                       '"weights": [1], "components": [%s]}', d, cols, cov, comp)
end

T.test("a model too large for memory is an error, not an abort", function()
  local p = T.tmpname(".json")
  T.write(p, wide_model(400000, "full", '{"mean": [0]}'))
  T.errors(function() mx.load(p) end, "gaussian: the model needs 3.8 TB for k = 1, d = 400000 " ..
           "full covariances (more than this machine has)")
  T.write(p, wide_model(1000000, "diag", '{"mean": [0], "cov": [[1]]}'))
  T.errors(function() mx.load(p) end, "gaussian: 'mean' must be an array of 1000000 finite numbers")
  T.write(p, wide_model(1000000, "diag", '{"mean": [0], "var": [1]}'))
  T.errors(function() mx.load(p) end, "gaussian: 'mean' must be an array of 1000000 finite numbers")
  os.remove(p)
end)

T.test("save_trace writes the trace as CSV", function()
  local p = T.tmpname(".csv")
  m:save_trace(p)
  local tr = mx.read_csv(p)
  T.eq(#tr, #m.trace)
  T.eq(table.concat(tr:names(), ","), "iter,loglik,elbo,kl,entropy,delta,seconds,extrapolated")
  for i, it in ipairs(m.trace) do
    T.eq(tr:row(i)[2], it.loglik); T.eq(tr:row(i)[4], it.kl)
  end
  os.remove(p)
end)

T.test("malformed, truncated and inconsistent files are refused", function()
  local good = T.read((function() local p = T.tmpname(".json"); m:save(p); return p end)())
  local p = T.tmpname(".json")
  local function refused(text, msg)
    T.write(p, text)
    T.errors(function() mx.load(p) end, msg)
  end
  refused(good:sub(1, #good // 2), "not a valid model file")
  refused("", "not a model file")
  refused("[1, 2]", "not a model file")
  refused('{"format": "other"}', "not a mixem model file")
  refused((good:gsub('"family" : "binomial"', '"family" : "nosuch"')), "unknown family 'nosuch'")
  refused((good:gsub('"k" : 2', '"k" : 3')), "inconsistent dimensions")
  refused((good:gsub('"d" : 2', '"d" : 1')), "inconsistent dimensions")
  refused((good:gsub('"version" : 1', '"version" : 9')), "newer than this mixem reads")
  local w1 = good:match('"weights" : %[%s*([%d.e-]+)')
  refused((good:gsub(w1, "0.9", 1)), "the weights sum to")
  refused((good:gsub('"p" : [%d.e-]+', '"p" : 1.5', 1)), "'p' must lie in [0, 1]")
  refused((good:gsub('"p" : [%d.e-]+', '"p" : "x"', 1)), "'p' must be a number")
  refused((good:gsub('"trials" : "trials"', '"trials" : 3', 1)), "option 'trials' is not a string")
  -- Found by fuzzing (issue 18): trials beyond UINT_MAX wrapped in the sampler's cast (UBSan).
  -- trials past 2^32 (found by fuzzing, when the sampler wrapped) are drawn exactly up to 2^53
  refused((good:gsub('"trials" : 10%.0', '"trials" : 1e17', 1)),
          "binomial: 'trials' must be a whole number from 0 to 2^53 (got 1e+17)")
  -- Issue 18: text from the file is quoted cut to 60 characters, control bytes escaped.
  refused((good:gsub('"trials" : "trials"', '"trials" : "\\u001b[2J' .. string.rep("x", 100) .. '"')),
          "'trials' = '\\x1b[2J" .. string.rep("x", 56) .. "...' is neither")
  refused((good:gsub('"trials" : "trials"', '"\\u0007bell" : "1", "trials" : "trials"')),
          "family 'binomial' has no option '\\x07bell'")
  -- Issue 18: 80 000 levels of '[' overflowed json-glib's parser's stack (exit 139).
  refused(string.rep("[", 80000), ":1: not a model file (nested deeper than 64 levels)")
  refused('{"format":\n"mixem-model", "x": ' .. string.rep("{\"a\": ", 70), ":2: not a model file")
  -- json-glib 1.6 also skips /* comments */ and 'strings': a quote inside them must not hide
  -- the brackets that follow from the scan (it did: exit 139).
  refused('/* " */' .. string.rep("[", 80000), ":1: not a model file (nested deeper")
  refused("{'a': '\"', 'b': " .. string.rep("[", 80000), ":1: not a model file (nested deeper")
  refused("{'a\\': " .. string.rep("[", 80000), ":1: not a model file (nested deeper")
  refused(string.rep("]", 100) .. string.rep("[", 80000), ":1: not a model file (nested deeper")
  -- Brackets inside strings, escaped quotes included, are not nesting.
  refused((good:gsub('"family" : "binomial"', '"family" : "b\\\\\\"' .. string.rep("[", 100) .. '"')),
          "unknown family")
  T.errors(function() mx.load("/nonexistent/m.json") end, "mixem.load: /nonexistent/m.json")
  T.errors(function() m:save("/nonexistent/dir/m.json") end, "model:save:")
  os.remove(p)
end)

T.done()
