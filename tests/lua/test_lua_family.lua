-- test_lua_family.lua: families written in Lua (mixem.family).  A Poisson family in the
-- exponential-family form fits data/seatbelts.csv as the C poisson family does from the same
-- start (to 1e-10), and is a family like any other (restarts, refinement, fixed components, row
-- weights, CEM, on_iter, the ELBO/KL trace, model files, predict, sample, criteria); a
-- zero-inflated Poisson in the block form, whose M-step is a Newton iteration, climbs
-- monotonically and recovers the parameters it was sampled from; and every misuse is an error
-- that names the family and the callback, after which the script goes on.
local T = dofile((os.getenv("MIXEM_TEST_SRCDIR") or ".") .. "/tests/lua/lib.lua")
local mx = require "mixem"
local X = mx.read_csv(T.srcdir .. "/data/seatbelts.csv")
local log, lgamma = math.log, mx.lgamma

-- The exponential-family form: the sufficient statistic of a row is the row itself.
local lpois = {
  name = "lpois", params = {lambda = "positive"},
  stats = function(x) return x end,
  maximise = function(s, n)
    local lambda = {}
    for j = 1, #s do lambda[j] = math.max(s[j] / n, 1e-10) end   -- poisson.c's eps
    return {lambda = lambda}
  end,
  log_density = function(theta, x)
    local lp = 0
    for j = 1, #x do
      local l = theta.lambda[j]
      lp = lp + x[j] * log(l) - l - lgamma(x[j] + 1)
    end
    return lp
  end,
  sample = function(theta, rng)
    local x = {}
    for j, l in ipairs(theta.lambda) do x[j] = rng:poisson(l) end
    return x
  end,
}
mx.family(lpois)

-- The block form: a zero-inflated Poisson on one column.  Statistics per component: the weight
-- of the zeros, of the counts, and of log(x!).  Its M-step has no closed form: lambda solves
-- lambda / (1 - exp(-lambda)) = mean of the positive counts (Newton), then pi follows.
local function zip_maximise_one(s, n)
  local n0, sx = s[1], s[2]
  local npos = n - n0
  if npos <= 0 then return {pi = 1 - 1e-12, lambda = 1e-10} end
  local m = sx / npos
  local lambda = m
  if m <= 1 + 1e-12 then lambda = 1e-10 else
    for _ = 1, 100 do
      local e = math.exp(-lambda)
      local step = (lambda - m * (1 - e)) / (1 - m * e)
      lambda = lambda - step
      if math.abs(step) < 1e-14 * lambda then break end
    end
  end
  local pi = 1 - npos / (n * (1 - math.exp(-lambda)))
  if pi < 0 then pi, lambda = 0, sx / n end
  return {pi = math.min(pi, 1 - 1e-12), lambda = lambda}
end

local function zip_logp(pi, lambda, x)
  if x == 0 then return log(pi + (1 - pi) * math.exp(-lambda)) end
  return log(1 - pi) + x * log(lambda) - lambda - lgamma(x + 1)
end

mx.family{
  name = "zip", form = "block", n_stats = 3, params = {pi = "unit", lambda = "positive"},
  log_density = function(thetas, X, out)
    for k, th in ipairs(thetas) do
      for i, x in ipairs(X) do out[i][k] = zip_logp(th.pi, th.lambda, x[1]) end
    end
  end,
  accumulate = function(thetas, X, R, S)
    for i, x in ipairs(X) do
      local c = x[1]
      for k, r in ipairs(R[i]) do
        local s = S[k]
        if c == 0 then s[1] = s[1] + r end
        s[2] = s[2] + r * c
        s[3] = s[3] + r * lgamma(c + 1)
      end
    end
  end,
  maximise = function(S, N)
    local thetas = {}
    for k = 1, #S do thetas[k] = zip_maximise_one(S[k], N[k]) end
    return thetas
  end,
  expected_loglik = function(thetas, S, N)
    local e = 0
    for k, th in ipairs(thetas) do
      local n0, sx, sl = S[k][1], S[k][2], S[k][3]
      local npos = N[k] - n0
      if n0 > 0 then e = e + n0 * log(th.pi + (1 - th.pi) * math.exp(-th.lambda)) end
      if npos > 0 then e = e + npos * (log(1 - th.pi) - th.lambda) + sx * log(th.lambda) - sl end
    end
    return e
  end,
  sample = function(theta, rng)
    if rng:uniform() < theta.pi then return {0} end
    return {rng:poisson(theta.lambda)}
  end,
}

local start = {weights = {0.5, 0.5}, components = {{lambda = {100, 8}}, {lambda = {150, 10}}}}

local function check_trace(m, what)
  for i, r in ipairs(m.trace) do
    T.near(r.loglik, r.elbo + r.kl, 1e-12, what .. ": log p = ELBO + KL")
    T.ok(r.kl >= -1e-8 * math.abs(r.loglik), what .. ": KL >= 0")
    if i > 1 and r.restart == m.trace[i - 1].restart then
      T.ok(r.loglik >= m.trace[i - 1].loglik - 1e-9 * math.abs(r.loglik), what .. ": climbs")
    end
  end
end

T.test("the exponential form matches the C family from the same start", function()
  for _, iters in ipairs{1, 5, 50} do
    local a = mx.fit{data = X, family = "lpois", k = 2, init = start, max_iter = iters, tol = 0}
    local b = mx.fit{data = X, family = "poisson", k = 2, init = start, max_iter = iters, tol = 0}
    T.near(a.loglik, b.loglik, 1e-10, "log-likelihood after " .. iters)
    for k = 1, 2 do
      T.near(a.weights[k], b.weights[k], 1e-10, "weight")
      for j = 1, 2 do
        T.near(a.components[k].lambda[j], b.components[k].lambda[j], 1e-10, "rate")
      end
    end
    check_trace(a, "lpois")
    T.eq(#a.trace, #b.trace, "iterations")
  end
end)

T.test("a Lua family is a family like any other", function()
  local m = mx.fit{data = X, family = "lpois", k = 3, n_init = 3, seed = 4}
  local c = mx.fit{data = X, family = "poisson", k = 3, n_init = 3, seed = 4}
  T.near(m.loglik, c.loglik, 1e-9, "best of 3 restarts with refinement")
  T.near(m:bic(X), c:bic(X), 1e-9, "BIC (free parameters counted from theta)")
  T.near(m:icl(X), c:icl(X), 1e-9, "ICL")
  check_trace(m, "restarts")
  -- threads change nothing (the family runs serially, whatever is asked)
  local t1 = mx.fit{data = X, family = "lpois", k = 2, seed = 1, threads = 1}
  local t2 = mx.fit{data = X, family = "lpois", k = 2, seed = 1, threads = 2}
  T.eq(t1.loglik, t2.loglik, "threads")
  -- CEM, row weights, a fixed component, on_iter
  local cem = mx.fit{data = X, family = "lpois", k = 2, init = start, algorithm = "cem"}
  local ccem = mx.fit{data = X, family = "poisson", k = 2, init = start, algorithm = "cem"}
  T.near(cem.loglik, ccem.loglik, 1e-10, "CEM")
  local w = {}
  for i = 1, #X do w[i] = (i % 3) + 1 end
  local rows = {names = X:names(), weights = w}
  for i = 1, #X do rows[i] = X:row(i) end
  local XW = mx.dataset(rows)
  local wa = mx.fit{data = XW, family = "lpois", k = 2, init = start, tol = 0, max_iter = 20}
  local wb = mx.fit{data = XW, family = "poisson", k = 2, init = start, tol = 0, max_iter = 20}
  T.near(wa.loglik, wb.loglik, 1e-10, "row weights")
  local fx = mx.fit{data = X, family = "lpois", k = 2, init = start, fixed = {1}, max_iter = 10}
  T.eq(fx.components[1].lambda[1], 100, "a fixed component stays")
  local seen = 0
  mx.fit{data = X, family = "lpois", k = 2, init = start, max_iter = 4, tol = 0,
         on_iter = function(it) seen = seen + 1; T.ok(it.components[1].lambda, "on_iter") end}
  T.eq(seen, 4, "on_iter calls")
  -- predict, proba, score, sample, save and load
  local lab, cl = m:predict(X), c:predict(X)
  local proba = m:predict_proba(X)
  T.eq(#lab, #X, "labels")
  T.near(proba[1][1] + proba[1][2] + proba[1][3], 1, 1e-12, "probabilities")
  T.near(m:score(X), c:score(X), 1e-9, "score")
  local S, z = m:sample(200, 7)
  T.eq(#S, 200, "samples")
  T.eq(#z, 200, "labels of samples")
  local png = T.tmpname(".png")
  mx.plot.clusters(m, X, png)                -- the components drawn from theta.lambda
  T.ok(#T.read(png) > 1000, "a picture of a Lua family's clusters")
  os.remove(png)
  local path = T.tmpname(".json")
  m:save(path)
  local back = mx.load(path)
  T.eq(back.family, "lpois", "family name in the file")
  T.near(back:score(X), m:score(X), 1e-14, "score after load")
  os.remove(path)
end)

T.test("model selection over a Lua family agrees with the C family", function()
  local a = mx.select{data = X, family = "lpois", k = {1, 2, 3}, n_init = 2, seed = 1}
  local b = mx.select{data = X, family = "poisson", k = {1, 2, 3}, n_init = 2, seed = 1}
  T.eq(a.model.k, b.model.k, "K by BIC")
  for i = 1, 3 do T.near(a.candidates[i].bic, b.candidates[i].bic, 1e-9, "BIC") end
end)

T.test("the block form climbs and recovers a zero-inflated Poisson", function()
  local truth = mx.model{family = "zip", weights = {0.6, 0.4}, columns = {"count"},
                         components = {{pi = 0.3, lambda = 2.0}, {pi = 0.1, lambda = 9.0}}}
  local Z = truth:sample(3000, 11)
  local m = mx.fit{data = Z, family = "zip", k = 2, n_init = 4, seed = 2, tol = 1e-10,
                   max_iter = 2000}
  check_trace(m, "zip")
  local hi = m.components[1].lambda > m.components[2].lambda and 1 or 2
  local lo = 3 - hi
  T.near(m.components[hi].lambda, 9.0, 0.05, "lambda of the high component")
  T.near(m.components[lo].lambda, 2.0, 0.15, "lambda of the low component")
  T.near(m.weights[lo], 0.6, 0.1, "weight")
  T.ok(m.loglik >= truth:score(Z) * #Z - 1e-6, "at least the truth's log-likelihood")
  -- the block form of a Poisson agrees with the exponential form
  mx.family{
    name = "bpois", form = "block", n_stats = 2,
    log_density = function(thetas, X, out)
      for i, x in ipairs(X) do
        for k, th in ipairs(thetas) do
          local lp = 0
          for j = 1, #x do lp = lp + x[j] * log(th.lambda[j]) - th.lambda[j] - lgamma(x[j] + 1) end
          out[i][k] = lp
        end
      end
    end,
    accumulate = function(thetas, X, R, S)
      for i, x in ipairs(X) do
        for k, r in ipairs(R[i]) do
          for j = 1, #x do S[k][j] = S[k][j] + r * x[j] end
        end
      end
    end,
    maximise = function(S, N)
      local t = {}
      for k = 1, #S do t[k] = {lambda = {math.max(S[k][1] / N[k], 1e-10), math.max(S[k][2] / N[k], 1e-10)}} end
      return t
    end,
  }
  local a = mx.fit{data = X, family = "bpois", k = 2, init = start, max_iter = 30, tol = 0}
  local b = mx.fit{data = X, family = "lpois", k = 2, init = start, max_iter = 30, tol = 0}
  T.near(a.loglik, b.loglik, 1e-10, "block and exponential forms")
  check_trace(a, "bpois (ELBO by the engine's pass)")
end)

-- A definition with one field changed.
local function with(changes)
  local d = {}
  for k, v in pairs(lpois) do d[k] = v end
  for k, v in pairs(changes) do d[k] = v end
  if changes.drop then d[changes.drop], d.drop = nil, nil end
  return d
end

local function fit(name) return mx.fit{data = X, family = name, k = 2, init = start, max_iter = 5} end

T.test("bad definitions are refused, naming the family and what is wrong", function()
  T.errors(function() mx.family(with{name = "x1", stats = false}) end,
           "family 'x1': 'stats' must be a function")
  T.errors(function() mx.family(with{name = "x2", drop = "log_density"}) end,
           "family 'x2': 'log_density' must be a function (it is required)")
  T.errors(function() mx.family(with{name = "x3", maximize = lpois.maximise}) end,
           "family 'x3': unknown key 'maximize' for the exponential form")
  T.errors(function() mx.family(with{name = "poisson"}) end,
           "'poisson' is already a family (from ")
  T.errors(function() mx.family(with{name = "a b"}) end, "'a b' is not a valid family name")
  T.errors(function() mx.family(with{name = "x4", params = {lambda = "postive"}}) end,
           "params: each entry must be name = one of")
  T.errors(function() mx.family{name = "x5", form = "block", log_density = print,
                                 accumulate = print, maximise = print} end,
           "the block form needs 'n_stats'")
end)

T.test("bad callbacks stop the fit with the family, the callback and a traceback", function()
  mx.family(with{name = "e1", log_density = function() error("boom in the density") end})
  T.errors(function() fit("e1") end, "family 'e1': log_density (" .. T.srcdir .. "/data/seatbelts.csv:2: row 1, component 1): ")
  T.errors(function() fit("e1") end, "boom in the density")
  T.errors(function() fit("e1") end, "stack traceback")
  mx.family(with{name = "e2", log_density = function() return "high" end})
  T.errors(function() fit("e2") end, "log_density must return a number, not a string")
  mx.family(with{name = "e3", log_density = function() return 0 / 0 end})
  T.errors(function() fit("e3") end, "family 'e3': log_density gave")
  mx.family(with{name = "e4", stats = function(x) return {x[1]} end, n_stats = 2})
  T.errors(function() fit("e4") end, "stats must return the same number of statistics")
  mx.family(with{name = "e5", maximise = function() return {lambda = {-1, 2}} end})
  T.errors(function() fit("e5") end, "family 'e5': maximise (component 1): theta.lambda: -1 is not positive")
  mx.family(with{name = "e6", maximise = function() return {lambda = {0 / 0, 2}} end})
  T.errors(function() fit("e6") end, "is not finite")
  mx.family(with{name = "e7", maximise = function() return 3 end})
  T.errors(function() fit("e7") end, "maximise (component 1) must give a table (theta), not a number")
  mx.family(with{name = "e8", maximise = function(s, n) return {lambda = {s[1] / n, s[2] / n}, mu = 1} end})
  T.errors(function() fit("e8") end, "theta has no parameter 'mu' (it has: lambda)")
  mx.family(with{name = "e9", expected_loglik = function() return 12345 end})
  T.errors(function() fit("e9") end, "family 'e9' breaks log p(X) = ELBO + KL")
  mx.family(with{name = "e10", sample = function() return {1} end})
  local m = fit("e10")
  T.errors(function() m:sample(3) end, "sample must return an array of d = 2 numbers")
  -- after all of that, the state still fits
  T.near(fit("lpois").loglik, mx.fit{data = X, family = "poisson", k = 2, init = start,
                                      max_iter = 5}.loglik, 1e-10, "fits go on")
end)

T.test("a family's own start (init) is its default", function()
  local calls = 0
  mx.family(with{name = "with_init", init = function(X, k, rng)
    calls = calls + 1
    T.eq(#X, 192, "init sees every row")
    T.ok(rng:uniform() < 1, "init gets the fit's generator")
    local thetas = {}
    for c = 1, k do thetas[c] = {lambda = {90 + 30 * c, 6 + 2 * c}} end
    return thetas
  end})
  local a = mx.fit{data = X, family = "with_init", k = 2, tol = 0, max_iter = 30, n_init = 1, short_starts = 1}
  T.eq(calls, 1, "init called once")
  mx.fit{data = X, family = "with_init", k = 2, n_init = 2, short_starts = 3}
  T.eq(calls, 7, "init is the default start: small-EM draws 3 per restart")
  local b = mx.fit{data = X, family = "poisson", k = 2, tol = 0, max_iter = 30,
                   init = {components = {{lambda = {120, 8}}, {lambda = {150, 10}}}}}
  T.near(a.loglik, b.loglik, 1e-10, "the same fit as from the same start")
  local k = mx.fit{data = X, family = "with_init", k = 2, init = "kmeans"}
  T.ok(k.loglik < 0, "the engine's starts remain")
  mx.family(with{name = "bad_init", init = function() return {{lambda = {1, 2}}} end})
  T.errors(function() mx.fit{data = X, family = "bad_init", k = 2} end,
           "init must return an array of k = 2 thetas")
end)

T.test("starts and model files are checked against the declared parameters", function()
  T.errors(function()
    mx.fit{data = X, family = "lpois", k = 2,
           init = {components = {{lambdaa = {1, 2}}, {lambda = {3, 4}}}}}
  end, "theta has no parameter 'lambdaa'")
  T.errors(function()
    mx.fit{data = X, family = "lpois", k = 2,
           init = {components = {{lambda = {-1, 2}}, {lambda = {3, 4}}}}}
  end, "theta.lambda: -1 is not positive")
  local path = T.tmpname(".json")
  local m = fit("lpois")
  m:save(path)
  local text = T.read(path)
  T.write(path, (text:gsub('"lpois"', '"never_defined"')))
  T.errors(function() mx.load(path) end, "unknown family 'never_defined'")
  T.errors(function() mx.load(path) end, "must be defined with mixem.family before mixem.load")
  os.remove(path)
end)

T.test("a family is redefined only when no model of it is alive", function()
  mx.family(with{name = "redef"})
  local m = fit("redef")
  T.errors(function() mx.family(with{name = "redef"}) end,
           "family 'redef' is redefined while")
  m = nil
  collectgarbage()
  collectgarbage()
  T.eq(mx.family(with{name = "redef"}), "redef", "redefined once the model is gone")
  T.ok(fit("redef").loglik < 0, "the new definition fits")
end)

-- The conformance suite that the C families pass, over the Lua ones.
T.test("the conformance suite passes over Lua families", function()
  local function conforms(name, data, k)
    local r = mx.check_family{family = name, data = data, k = k, seed = 3}
    local lines = {}
    for _, x in ipairs(r.results) do
      if not x.ok and not x.skipped then lines[#lines + 1] = x.property .. ": " .. x.message end
    end
    T.ok(r.failed == 0, name .. ": " .. table.concat(lines, "; "))
    T.ok(r.passed >= 10, name .. ": properties checked")
  end
  conforms("lpois", X, 2)
  local truth = mx.model{family = "zip", weights = {0.6, 0.4}, columns = {"count"},
                         components = {{pi = 0.3, lambda = 2.0}, {pi = 0.1, lambda = 9.0}}}
  conforms("zip", truth:sample(500, 5), 2)
  -- and it catches a family whose expected_loglik drops a constant
  mx.family(with{name = "dropped", expected_loglik = function(theta, s, n)
    local e = 0
    for j = 1, #s do e = e + s[j] * log(theta.lambda[j]) - n * theta.lambda[j] end
    return e   -- without the sum of log(x!)
  end})
  local r = mx.check_family{family = "dropped", data = X, k = 2}
  T.ok(r.failed >= 1, "a dropped constant is caught")
  T.ok(r.results[1].message:find("breaks log p(X) = ELBO + KL", 1, true), r.results[1].message)
end)

T.done()
