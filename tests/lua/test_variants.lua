-- test_variants.lua: the EM variants (issue 14): squarem reaches EM's fixed point in fewer
-- iterations and never lowers the log-likelihood, for every built-in family; sem and annealed
-- reach EM's optimum on well-separated data; sem is the same bit for bit on any thread count;
-- incremental EM reaches EM's fixed point and its ELBO never falls within a sweep, for every
-- built-in family; online EM comes near EM's optimum and is the same on any thread count;
-- model:partial_fit's first update is one EM step and its stream comes near EM's optimum;
-- option errors.
local T = dofile((os.getenv("MIXEM_TEST_SRCDIR") or ".") .. "/tests/lua/lib.lua")
local mx = require "mixem"

-- Small generated data, the same on every machine (Lua 5.4's seeded xoshiro256**).
local function gauss() local u, v = math.random(), math.random()
  return math.sqrt(-2 * math.log(1 - u)) * math.cos(2 * math.pi * v) end
local function gen(n, row) local t = {} for i = 1, n do t[i] = row(i) end return mx.dataset(t) end

-- Two heavily overlapping Gaussians (EM is slow) and two overlapping Bernoulli profiles.
math.randomseed(42)
local G = gen(600, function(i) local c = i % 2
  return {gauss() + 1.5 * c, gauss() * (1 + 0.3 * c)} end)
math.randomseed(7)
local B = gen(500, function(i) local c = i % 2; local r = {}
  for j = 1, 6 do r[j] = math.random() < (c == 1 and 0.3 + 0.06 * j or 0.6 - 0.03 * j) and 1 or 0 end
  return r end)

local function plain(extra)
  local o = {seed = 1, n_init = 1, short_starts = 1, n_refine = 0, max_iter = 5000, threads = 1}
  for key, v in pairs(extra) do o[key] = v end
  return mx.fit(o)
end

local function counts(m)
  local acc, rej = 0, 0
  for _, it in ipairs(m.trace) do
    if it.extrapolated == 1 then acc = acc + 1 elseif it.extrapolated == -1 then rej = rej + 1 end
  end
  return acc, rej
end

-- The log-likelihood of every record at least the one before (rounding aside).
local function monotone(m, what)
  local tr = m.trace   -- built afresh at each access: once
  for i = 2, #tr do
    local a, b = tr[i - 1].loglik, tr[i].loglik
    if b < a - 1e-12 * math.abs(a) then
      error(string.format("%s: log-likelihood falls at record %d: %.17g -> %.17g", what, i, a, b), 2)
    end
  end
end

T.test("squarem reaches EM's fixed point in fewer iterations (gaussian, bernoulli)", function()
  for _, case in ipairs{{"gaussian", G, 600}, {"bernoulli", B, 500}} do
    local fam, X, n = case[1], case[2], case[3]
    local em = plain{data = X, family = fam, k = 2, tol = 1e-12}
    local sq = plain{data = X, family = fam, k = 2, tol = 1e-12, algorithm = "squarem"}
    T.eq(em.algorithm, "em"); T.eq(sq.algorithm, "squarem")
    T.ok(em.converged and sq.converged, fam .. ": both converge")
    T.ok(math.abs(em.loglik - sq.loglik) / n <= 1e-8,
         string.format("%s: squarem %.12f vs em %.12f per row", fam, sq.loglik / n, em.loglik / n))
    local acc = counts(sq)
    T.ok(acc > 0, fam .. ": some extrapolation accepted")
    T.ok(sq.n_iter < em.n_iter,
         string.format("%s: squarem %d iterations, em %d", fam, sq.n_iter, em.n_iter))
    io.stderr:write(string.format("# %s: em %d iterations, squarem %d (%d extrapolations kept)\n",
                                  fam, em.n_iter, sq.n_iter, acc))
    monotone(sq, fam)
    for _, it in ipairs(sq.trace) do
      if it.extrapolated == 1 then T.eq(it.kl, 0.0, "KL of an extrapolation's record") end
      T.near(it.elbo + it.kl, it.loglik, 1e-12, "ELBO + KL")
    end
  end
end)

-- Every built-in family: its data, and its options.
local families = {
  {"gaussian", function() return {gauss(), gauss()} end, {}},
  {"bernoulli", function() return {math.random(0, 1), math.random(0, 1), math.random(0, 1)} end, {}},
  {"binomial", function() return {math.random(0, 10)} end, {trials = 10}},
  {"poisson", function() return {math.random(0, 8), math.random(0, 3)} end, {}},
  {"categorical", function() return {math.random(0, 2), math.random(0, 3)} end, {}},
  {"multinomial", function() return {math.random(1, 5), math.random(0, 5), math.random(0, 5)} end, {}},
  {"exponential", function() return {-math.log(1 - math.random()), -3 * math.log(1 - math.random())} end, {}},
  {"gamma", function() return {-math.log((1 - math.random()) * (1 - math.random())), 0.1 + math.random()} end, {}},
  {"student_t", function() return {gauss(), gauss() / math.sqrt(0.5 + math.random())} end, {}},
  {"von_mises_fisher", function() local x, y, z = gauss(), gauss(), gauss() + 1
    local r = math.sqrt(x * x + y * y + z * z); return {x / r, y / r, z / r} end, {}},
}

T.test("squarem never lowers the log-likelihood, for every built-in family", function()
  for _, f in ipairs(families) do
    math.randomseed(3)
    local X = gen(150, f[2])
    local o = {data = X, family = f[1], k = 2, algorithm = "squarem", tol = 1e-10, max_iter = 300}
    for key, v in pairs(f[3]) do o[key] = v end
    local m = plain(o)
    T.eq(m.algorithm, "squarem", f[1])
    monotone(m, f[1])
  end
end)

-- Three well-separated Gaussian clusters.
math.randomseed(11)
local S = gen(450, function(i) local c = i % 3
  return {gauss() + 8 * c, gauss() - 6 * (c == 1 and 1 or 0)} end)

T.test("sem and annealed reach EM's optimum on well-separated data", function()
  local em = mx.fit{data = S, family = "gaussian", k = 3, seed = 2, n_init = 3, threads = 1}
  local sem = mx.fit{data = S, family = "gaussian", k = 3, seed = 2, n_init = 3, algorithm = "sem", threads = 1,
                     max_iter = 50}
  local an = mx.fit{data = S, family = "gaussian", k = 3, seed = 2, n_init = 3, threads = 1,
                    algorithm = "annealed", anneal_t0 = 3, anneal_steps = 4}
  T.eq(sem.algorithm, "sem"); T.eq(an.algorithm, "annealed")
  for _, m in ipairs{sem, an} do
    T.ok(math.abs(m.loglik - em.loglik) / 450 <= 1e-3,
         string.format("%s: %.8f vs em %.8f per row", m.algorithm, m.loglik / 450, em.loglik / 450))
  end
  -- SEM ran its max_iter iterations and kept the best of them.
  T.eq(sem.n_iter, 50)
  local best = -math.huge
  for _, it in ipairs(sem.trace) do best = math.max(best, it.loglik) end
  T.ok(sem.loglik >= best, "sem keeps its best iteration")
  -- Annealing's plain log-likelihood is traced throughout; KL >= 0 at every temperature.
  for _, it in ipairs(an.trace) do T.ok(it.kl >= -1e-9 * math.abs(it.loglik), "annealed KL >= 0") end
end)

T.test("annealed with its default schedule reaches EM's optimum on faithful", function()
  -- T0 = 4 merged the two components here and stopped near the saddle (-1289.80).
  local F = mx.read_csv(T.srcdir .. "/data/faithful.csv")
  local o = {data = F, family = "gaussian", k = 2, seed = 1, n_init = 1, short_starts = 1, threads = 1}
  local em = mx.fit(o)
  o.algorithm = "annealed"
  local an = mx.fit(o)
  T.ok(math.abs(an.loglik - em.loglik) / 272 <= 1e-3,
       string.format("annealed %.6f vs em %.6f", an.loglik, em.loglik))
end)

T.test("sem is the same bit for bit on 1 and 2 threads", function()
  local function fit(threads)
    return mx.fit{data = G, family = "gaussian", k = 2, seed = 5, n_init = 2, algorithm = "sem",
                  max_iter = 20, threads = threads, block_size = 16, short_starts = 2}
  end
  local a, b = fit(1), fit(2)
  T.eq(a.loglik, b.loglik, "loglik")
  for i = 1, #a.trace do T.eq(a.trace[i].loglik, b.trace[i].loglik, "trace " .. i) end
  for k = 1, 2 do
    T.eq(a.weights[k], b.weights[k], "weight " .. k)
    for j = 1, 2 do T.eq(a.components[k].mean[j], b.components[k].mean[j], "mean") end
  end
  -- Another seed draws otherwise.
  local c = mx.fit{data = G, family = "gaussian", k = 2, seed = 6, n_init = 2, algorithm = "sem",
                   max_iter = 20, block_size = 16, short_starts = 2, threads = 1}
  local same = true
  for i = 1, math.min(#a.trace, #c.trace) do same = same and a.trace[i].loglik == c.trace[i].loglik end
  T.ok(not same, "another seed, other draws")
end)

T.test("incremental reaches EM's fixed point (gaussian, bernoulli)", function()
  for _, case in ipairs{{"gaussian", G, 600}, {"bernoulli", B, 500}} do
    local fam, X, n = case[1], case[2], case[3]
    local em = plain{data = X, family = fam, k = 2, tol = 1e-12}
    local inc = plain{data = X, family = fam, k = 2, tol = 1e-12, algorithm = "incremental",
                      blocks = 3}
    T.eq(inc.algorithm, "incremental")
    T.ok(em.converged and inc.converged, fam .. ": both converge")
    T.ok(math.abs(em.loglik - inc.loglik) / n <= 1e-8,
         string.format("%s: incremental %.12f vs em %.12f per row", fam, inc.loglik / n, em.loglik / n))
    io.stderr:write(string.format("# %s: em %d iterations, incremental %d sweeps of 3 chunks\n",
                                  fam, em.n_iter, inc.n_iter))
    monotone(inc, fam)
    for _, it in ipairs(inc.trace) do
      T.ok(it.kl >= -1e-9 * math.abs(it.loglik), fam .. ": KL >= 0")
      T.near(it.elbo + it.kl, it.loglik, 1e-12, "ELBO + KL")
    end
  end
end)

T.test("incremental: the ELBO never falls within a sweep, for every built-in family", function()
  -- student_t has no expected_loglik: its min_step is not measured (the next test).
  for _, f in ipairs(families) do if f[1] ~= "student_t" then
    math.randomseed(5)
    local X = gen(150, f[2])
    for _, blocks in ipairs{1, 4, 150} do
      local o = {data = X, family = f[1], k = 2, algorithm = "incremental", blocks = blocks,
                 tol = 1e-10, max_iter = 60}
      for key, v in pairs(f[3]) do o[key] = v end
      local m = plain(o)
      local prev = -math.huge
      for i, it in ipairs(m.trace) do
        T.ok(it.min_step >= -1e-10 * math.abs(it.elbo), string.format(
          "%s, %d chunks, sweep %d: the ELBO fell by %g in a step", f[1], blocks, i, -it.min_step))
        T.ok(it.elbo >= prev - 1e-10 * math.abs(it.elbo), string.format(
          "%s, %d chunks: the ELBO fell between sweeps %d and %d", f[1], blocks, i - 1, i))
        prev = it.elbo
      end
    end
  end end
end)

T.test("incremental: the Gaussian's stats_rebase keeps the climb for other covariances and in product", function()
  -- Each covariance layout has its own statistics (full and tied: the scatter; the others its
  -- diagonal); product forwards the hook to its Gaussian part.
  math.randomseed(9)
  local X = gen(120, function(i) local c = i % 2
    return {gauss() + 3 * c, gauss() * (1 + c) + 50, math.random(0, 4 + 4 * c)} end)
  local cases = {{covariance = "diag"}, {covariance = "tied"}, {covariance = "spherical"},
                 {covariance = "EEV"}, {family = "product", parts = "gaussian:1,2;poisson:3"}}
  for _, case in ipairs(cases) do
    local o = {data = X, family = "gaussian", k = 2, algorithm = "incremental", blocks = 6,
               tol = 1e-10, max_iter = 40}
    if not case.family then o.columns = {1, 2} end
    for key, v in pairs(case) do o[key] = v end
    local m = plain(o)
    for i, it in ipairs(m.trace) do
      T.ok(it.min_step >= -1e-10 * math.abs(it.elbo), string.format(
        "%s: sweep %d: the ELBO fell by %g in a step", case.covariance or case.family, i, -it.min_step))
      T.ok(it.kl >= -1e-9 * math.abs(it.loglik), "KL >= 0")
    end
  end
end)

T.test("online reaches within 1e-3 per row of EM on well-separated data", function()
  local o = {data = S, family = "gaussian", k = 3, seed = 2, n_init = 3, threads = 1}
  local em = mx.fit(o)
  o.algorithm = "online"; o.batch_size = 50; o.tol = 1e-5
  local on = mx.fit(o)
  T.eq(on.algorithm, "online")
  T.ok(math.abs(on.loglik - em.loglik) / 450 <= 1e-3,
       string.format("online %.8f vs em %.8f per row", on.loglik / 450, em.loglik / 450))
  for _, it in ipairs(on.trace) do
    if it.short_run == 0 then T.eq(it.kl, 0.0, "online records: the posterior at theta") end
  end
  -- epochs: exactly that many, whatever tol says.
  o.epochs = 3; o.tol = nil
  local e3 = mx.fit(o)
  local epochs = 0
  for _, it in ipairs(e3.trace) do if it.short_run == 0 then epochs = epochs + 1 end end
  T.eq(epochs, 3, "epochs = 3")
end)

T.test("online and incremental are the same bit for bit on 1 and 2 threads", function()
  for _, alg in ipairs{{algorithm = "online", batch_size = 37, step_alpha = 0.7},
                       {algorithm = "incremental", blocks = 5}} do
    local function fit(threads)
      local o = {data = G, family = "gaussian", k = 2, seed = 5, n_init = 2, max_iter = 20,
                 threads = threads, block_size = 16, short_starts = 2, n_refine = 0}
      for key, v in pairs(alg) do o[key] = v end
      return mx.fit(o)
    end
    local a, b = fit(1), fit(2)
    T.eq(a.loglik, b.loglik, alg.algorithm .. ": loglik")
    T.eq(#a.trace, #b.trace, alg.algorithm .. ": records")
    for i = 1, #a.trace do T.eq(a.trace[i].loglik, b.trace[i].loglik, "trace " .. i) end
    for k = 1, 2 do
      T.eq(a.weights[k], b.weights[k], "weight " .. k)
      for j = 1, 2 do T.eq(a.components[k].mean[j], b.components[k].mean[j], "mean") end
    end
  end
end)

T.test("model:partial_fit: online EM on batches of a stream", function()
  math.randomseed(11)
  local R = {}
  for i = 1, 900 do local c = i % 3; R[i] = {gauss() + 8 * c, gauss() - 6 * (c == 1 and 1 or 0)} end
  local function batch(lo) return mx.dataset({table.unpack(R, lo, lo + 99)}) end
  local all = mx.dataset(R)
  local em = mx.fit{data = all, family = "gaussian", k = 3, seed = 2, n_init = 3, threads = 1}
  local function rough() return mx.model{family = "gaussian", weights = {1/3, 1/3, 1/3}, components = {
    {mean = {1, 1}, cov = {{4, 0}, {0, 4}}}, {mean = {7, -5}, cov = {{4, 0}, {0, 4}}},
    {mean = {15, 1}, cov = {{4, 0}, {0, 4}}}}} end
  -- The first update is one EM step on the batch (as a warm refit of one iteration).
  local m, one = rough(), rough():refit(batch(1), {max_iter = 1, n_init = 1, tol = 0, threads = 1})
  T.eq(m:partial_fit(batch(1)), m, "returns the model")
  for k = 1, 3 do
    T.near(m.weights[k], one.weights[k], 1e-12, "weight")
    for j = 1, 2 do T.near(m.components[k].mean[j], one.components[k].mean[j], 1e-12, "mean") end
  end
  -- Three passes over nine batches come within 1e-3 per row of EM on all the rows.
  for epoch = 1, 3 do
    for lo = 1, 900, 100 do
      if epoch > 1 or lo > 1 then m:partial_fit(batch(lo)) end
    end
  end
  T.eq(m.n_iter, 27); T.eq(#m.trace, 27); T.eq(m.algorithm, "online")
  T.ok(math.abs(m:score(all) - em.loglik / 900) <= 1e-3,
       string.format("partial_fit %.8f vs em %.8f per row", m:score(all), em.loglik / 900))
  T.errors(function() m:partial_fit(batch(1), {step_alpha = 0.4}) end,
           "model:partial_fit: 'step_alpha' must be a number in (0.5, 1] (got 0.4)")
  T.errors(function() m:partial_fit(mx.dataset({{1, 2, 3}})) end, "the model has 2")
end)

T.test("model:partial_fit goes on after save and load, bit for bit", function()
  -- The running statistics travel in the model file ("online"), so A, save, load, B is A, B.
  local p = T.tmpdir .. "/mixem_test_partial.json"
  local function batch(X, lo, n) local t = {}
    for i = lo, lo + n - 1 do t[#t + 1] = X:row(i) end return mx.dataset(t) end
  for _, case in ipairs{{"gaussian", G}, {"bernoulli", B}} do
    local fam, X = case[1], case[2]
    local function m0() return plain{data = batch(X, 1, 100), family = fam, k = 2, max_iter = 3,
                                     tol = 0} end
    local a, b = m0(), m0()
    for lo = 101, 301, 100 do a:partial_fit(batch(X, lo, 100)) end
    b:partial_fit(batch(X, 101, 100))
    b:save(p)
    b = mx.load(p)
    b:partial_fit(batch(X, 201, 100)); b:partial_fit(batch(X, 301, 100))
    T.eq(b.n_iter, a.n_iter, fam .. ": n_iter")
    for k = 1, 2 do
      T.eq(b.weights[k], a.weights[k], fam .. ": weight " .. k)
      for key, v in pairs(a.components[k]) do
        local w = b.components[k][key]
        if type(v) == "table" then
          for j = 1, #v do
            if type(v[j]) == "table" then
              for l = 1, #v[j] do T.eq(w[j][l], v[j][l], fam .. ": " .. key) end
            else T.eq(w[j], v[j], fam .. ": " .. key) end
          end
        else T.eq(w, v, fam .. ": " .. key) end
      end
    end
    -- A model saved before any update has no running statistics: it starts afresh.
    m0():save(p)
    T.ok(not io.open(p):read("a"):find('"online"'), fam .. ": no statistics before partial_fit")
  end
  -- A damaged "online" member is an error naming it.
  local m = plain{data = batch(G, 1, 100), family = "gaussian", k = 2, max_iter = 2, tol = 0}
  m:partial_fit(batch(G, 101, 50)); m:save(p)
  local text = io.open(p):read("a")
  local f = io.open(p, "w"); f:write((text:gsub('"statistics" : %[', '"statistics" : [1, ', 1))); f:close()
  T.errors(function() mx.load(p) end, "'online': 'statistics' has")
  os.remove(p)
end)

T.test("the model file keeps the algorithm", function()
  local p = T.tmpdir .. "/mixem_test_variants.json"
  local m = plain{data = G, family = "gaussian", k = 2, algorithm = "squarem", tol = 1e-6}
  m:save(p)
  local l = mx.load(p)
  T.eq(l.algorithm, "squarem")
  -- incremental's min_step travels with the trace.
  local inc = plain{data = G, family = "gaussian", k = 2, algorithm = "incremental", tol = 1e-4}
  inc:save(p)
  local li = mx.load(p)
  T.eq(li.algorithm, "incremental")
  T.eq(li.trace[2].min_step, inc.trace[2].min_step, "min_step saved")
  -- Not measured (a family without expected_loglik): NaN, saved as null.
  local t = plain{data = G, family = "student_t", k = 2, algorithm = "incremental", tol = 1e-3}
  t:save(p)
  local lt = mx.load(p).trace[1].min_step
  T.ok(lt ~= lt, "min_step NaN after loading")
  os.remove(p)
end)

T.test("CEM-EM and SEM-EM: small-EM's short runs by cem or sem, then EM", function()
  local function fit(sa, threads)
    return mx.fit{data = S, family = "gaussian", k = 3, seed = 4, n_init = 2, short_starts = 4,
                  short_iter = 6, threads = threads or 1, short_algorithm = sa}
  end
  local em, cem, sem = fit(nil), fit("cem"), fit("sem")
  for _, m in ipairs{cem, sem} do
    T.eq(m.algorithm, "em")
    T.ok(math.abs(m.loglik - em.loglik) / 450 <= 1e-3, "chain reaches EM's optimum")
  end
  -- The short run's records carry a hard q (entropy 0), the climb after it a soft one.
  local function entropies(m)
    local short, climb = 0, 0
    for _, it in ipairs(m.trace) do
      if it.short_run > 0 then short = math.max(short, it.entropy)
      else climb = math.max(climb, it.entropy) end
    end
    return short, climb
  end
  local es = entropies(em)
  T.ok(es > 0, "plain small-EM: soft short runs")
  for _, m in ipairs{cem, sem} do
    local short, climb = entropies(m)
    T.eq(short, 0, "hard short runs")
    T.ok(climb > 0, "soft climb after them")
  end
  local sem2 = fit("sem", 2)
  T.eq(sem2.loglik, sem.loglik, "SEM-EM on 2 threads")
  T.errors(function() fit("kmeans") end, "'short_algorithm' must be em, cem or sem (got kmeans)")
  T.errors(function() mx.fit{data = S, family = "gaussian", k = 3, short_starts = 1,
                             short_algorithm = "cem"} end, "it needs short_starts > 1")
end)

T.test("bad algorithm options are errors naming them", function()
  T.errors(function() mx.fit{data = G, family = "gaussian", k = 2, algorithm = "fast"} end,
           "unknown algorithm 'fast' (known: em, cem, squarem, sem, annealed, incremental, online)")
  T.errors(function() mx.fit{data = G, family = "gaussian", k = 2, anneal_t0 = 3} end,
           "'anneal_t0' is an option of algorithm \"annealed\" only")
  T.errors(function() mx.fit{data = G, family = "gaussian", k = 2, algorithm = "squarem",
                             anneal_steps = 3} end, "'anneal_steps' is an option")
  T.errors(function() mx.fit{data = G, family = "gaussian", k = 2, algorithm = "annealed",
                             anneal_t0 = 0.5} end, "'anneal_t0' must be a finite temperature >= 1")
  T.errors(function() mx.fit{data = G, family = "gaussian", k = 2, algorithm = "annealed",
                             anneal_steps = 0} end, "'anneal_steps'")
  T.errors(function() mx.fit{data = G, family = "gaussian", k = 2, blocks = 3} end,
           "'blocks' is an option of algorithm \"incremental\" only (algorithm is \"em\")")
  T.errors(function() mx.fit{data = G, family = "gaussian", k = 2, algorithm = "incremental",
                             batch_size = 3} end,
           "'batch_size' is an option of algorithm \"online\" only (algorithm is \"incremental\")")
  for _, key in ipairs{"step_alpha", "epochs"} do
    T.errors(function() mx.fit{data = G, family = "gaussian", k = 2, algorithm = "squarem",
                               [key] = 1} end, "'" .. key .. "' is an option of algorithm \"online\"")
  end
  T.errors(function() mx.fit{data = G, family = "gaussian", k = 2, algorithm = "incremental",
                             blocks = 0} end, "'blocks' must be an integer >= 1 (got 0)")
  T.errors(function() mx.fit{data = G, family = "gaussian", k = 2, algorithm = "incremental",
                             blocks = 601} end, "'blocks' = 601 exceeds the number of rows (600)")
  T.errors(function() mx.fit{data = G, family = "gaussian", k = 2, algorithm = "online",
                             batch_size = 0} end, "'batch_size' must be an integer >= 1 (got 0)")
  T.errors(function() mx.fit{data = G, family = "gaussian", k = 2, algorithm = "online",
                             batch_size = 601} end, "'batch_size' = 601 exceeds the number of rows (600)")
  for _, a in ipairs{0.5, 1.5, -1, 0} do
    T.errors(function() mx.fit{data = G, family = "gaussian", k = 2, algorithm = "online",
                               step_alpha = a} end, "'step_alpha' must be a number in (0.5, 1]")
  end
  T.errors(function() mx.fit{data = G, family = "gaussian", k = 2, algorithm = "online",
                             epochs = 0} end, "'epochs' must be an integer >= 1 (got 0)")
  T.errors(function() mx.fit{data = G, family = "gaussian", k = 2, algorithm = "online",
                             reseed = true} end, "'reseed' is not available with algorithm 'online'")
end)

T.done()
