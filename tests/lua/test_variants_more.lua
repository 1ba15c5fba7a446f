-- test_variants_more.lua: more of the EM variants (issue 14), the slower cases: incremental EM
-- for the families without expected_loglik (student_t, poisreg, logitreg), whose statistics
-- depend on the parameters (stats_rebase), reaches EM's fixed point; SEM's sem_average is the
-- M-step from the mean statistics of the last iterations; partial_fit over an .npy file read a
-- batch at a time holds one batch in memory, not the file; annealing's trace gives each record's
-- temperature and free energy, which never falls at a fixed temperature.
local T = dofile((os.getenv("MIXEM_TEST_SRCDIR") or ".") .. "/tests/lua/lib.lua")
local mx = require "mixem"

-- Small generated data, the same on every machine (Lua 5.4's seeded xoshiro256**).
local function gauss() local u, v = math.random(), math.random()
  return math.sqrt(-2 * math.log(1 - u)) * math.cos(2 * math.pi * v) end
local function gen(n, row) local t = {} for i = 1, n do t[i] = row(i) end return mx.dataset(t) end

-- Two heavily overlapping Gaussians (as test_variants.lua's G), and three well-separated ones.
math.randomseed(42)
local G = gen(600, function(i) local c = i % 2
  return {gauss() + 1.5 * c, gauss() * (1 + 0.3 * c)} end)
math.randomseed(11)
local S = gen(450, function(i) local c = i % 3
  return {gauss() + 8 * c, gauss() - 6 * (c == 1 and 1 or 0)} end)

local function plain(extra)
  local o = {seed = 1, n_init = 1, short_starts = 1, n_refine = 0, max_iter = 5000,
             threads = 1}
  for key, v in pairs(extra) do o[key] = v end
  return mx.fit(o)
end

T.test("incremental without expected_loglik: student_t, poisreg, logitreg reach EM's fixed point", function()
  -- Their statistics depend on the parameters they were taken at (the t's weights u about the
  -- means; the GLMs' gradient and information at b), so each family's stats_rebase moves a
  -- chunk's to the current parameters.  Without it the fixed points would be the same (there
  -- every chunk is taken at one theta) but the climb is not: the t (full scale, 3 chunks) went
  -- to -1053.10 against EM's -1046.93, poisreg (10 chunks) diverged to -475.15 against -440.64
  -- and logitreg (3 chunks) ended at -208.24 against -189.22.  The ELBO is measured once a sweep,
  -- by the pass that gives l(theta); min_step is not measured (NaN).
  math.randomseed(42)
  local Tt = gen(300, function(i) local c = i % 2
    return {gauss() + 2.5 * c, gauss() / math.sqrt(0.5 + math.random()) * (1 + 0.3 * c)} end)
  local NP = mx.read_csv(T.srcdir .. "/tests/data/npreg.csv")
  local BB = mx.read_csv(T.srcdir .. "/tests/data/betablocker_treat.csv")
  local cases = {
    {"student_t", Tt, 3, {}},
    {"poisreg", NP, 10, {response = "yp", covariates = "x"}},
    {"logitreg", BB, 3, {response = "Deaths", covariates = "treat", trials = "Total"}},
  }
  for _, case in ipairs(cases) do
    local fam, X, blocks = case[1], case[2], case[3]
    local o = {data = X, family = fam, k = 2, tol = 1e-11}
    for key, v in pairs(case[4]) do o[key] = v end
    local em = plain(o)
    o.algorithm = "incremental"; o.blocks = blocks
    local inc = plain(o)
    T.ok(em.converged and inc.converged, fam .. ": both converge")
    T.ok(math.abs(em.loglik - inc.loglik) / X:rows() <= 1e-8, string.format(
      "%s: incremental %.12f vs em %.12f", fam, inc.loglik, em.loglik))
    for _, it in ipairs(inc.trace) do
      T.ok(it.kl >= -1e-9 * math.abs(it.loglik), fam .. ": KL >= 0")
      T.near(it.elbo + it.kl, it.loglik, 1e-12, "ELBO + KL")
      T.ok(it.min_step ~= it.min_step, fam .. ": min_step not measured (NaN)")
    end
  end
end)

T.test("annealed: each record's temperature, and the free energy climbs at each", function()
  -- Ueda and Nakano: at a fixed T, the E-step (q ~ (pi p)^(1/T)) and the M-step each maximise
  -- F_T(q, theta) = E_q[log pi p] + T H(q); a record's ELBO and entropy are those of the q its
  -- M-step took, so consecutive records whose q share a temperature must not fall.
  for _, case in ipairs{{"gaussian", G}, {"gaussian", S}} do
    local m = plain{data = case[2], family = case[1], k = 3, algorithm = "annealed",
                    anneal_t0 = 4, anneal_steps = 4, tol = 1e-10}
    local tr = m.trace
    local temps, last = {}, math.huge
    for i, it in ipairs(tr) do
      T.ok(it.temperature >= 1 and it.temperature <= 4 + 1e-12, "temperature in [1, T0]")
      T.ok(it.temperature <= last, "the temperature never rises")
      if it.temperature < last then temps[#temps + 1] = it.temperature end
      last = it.temperature
      T.near(it.free_energy, it.elbo + (it.temperature - 1) * it.entropy, 1e-9)
      if i > 1 and tr[i - 1].temperature == it.temperature then
        local a, b = tr[i - 1].free_energy, it.free_energy
        T.ok(b >= a - 1e-10 * math.abs(a),
             string.format("free energy falls at T = %g, record %d: %.17g -> %.17g",
                           it.temperature, i, a, b))
      end
    end
    T.eq(#temps, 5, "T0 and three cooler levels above 1, then 1")
    T.near(temps[1], 4, 1e-12)
    T.eq(tr[#tr].temperature, 1.0)
    T.eq(tr[#tr].free_energy, tr[#tr].elbo)
  end
  -- One iteration a level (max_iter = 2 S): record t's q was made at the temperature of
  -- iteration t - 1's E-step, T0 for the first (the start's E-step), 1 from record S + 1 on.
  local m = plain{data = G, family = "gaussian", k = 2, algorithm = "annealed", anneal_t0 = 4,
                  anneal_steps = 4, max_iter = 8, tol = 0}
  local want = {4, 4 ^ 0.75, 2, 4 ^ 0.25, 1, 1, 1, 1}
  T.eq(#m.trace, 8)
  for i, it in ipairs(m.trace) do T.near(it.temperature, want[i], 1e-12, "record " .. i) end
end)

T.test("sem_average: the M-step from the mean statistics of the last iterations", function()
  -- On the overlapping G the draws differ from one iteration to the next.  The Gaussian's
  -- weights and means are linear in the statistics: the estimate's weights are the mean of the
  -- last M iterations' weights, its means their N_k-weighted means and its covariances the
  -- pooled scatter about those, which on_iter shows (the parameters after each M-step).
  local seen = {}
  local o = {data = G, family = "gaussian", k = 2, seed = 2, n_init = 1, algorithm = "sem",
             threads = 1, max_iter = 40, sem_average = 5,
             on_iter = function(it) if it.short_run == 0 then seen[it.iter] = it end end}
  local av = mx.fit(o)
  T.eq(av.n_iter, 40)
  T.near(av.loglik, av:score(G) * 600, 1e-9, "loglik is that of the mean estimate")
  T.ok(seen[36].weights[1] ~= seen[40].weights[1], "the last iterations differ")
  for k = 1, 2 do
    local w, mean = 0, {0, 0}
    for t = 36, 40 do
      w = w + seen[t].weights[k] / 5
      for j = 1, 2 do mean[j] = mean[j] + seen[t].weights[k] * seen[t].components[k].mean[j] end
    end
    T.near(av.weights[k], w, 1e-12, "weight " .. k)
    for j = 1, 2 do mean[j] = mean[j] / (5 * w) end
    for j = 1, 2 do T.near(av.components[k].mean[j], mean[j], 1e-9, "mean") end
    -- (Each iteration's covariance has reg_covar = 1e-6 on its diagonal, once in the estimate.)
    for a = 1, 2 do for b = 1, 2 do
      local c = 0
      for t = 36, 40 do
        local th = seen[t].components[k]
        c = c + seen[t].weights[k] * (th.cov[a][b] - (a == b and 1e-6 or 0)
                                      + (th.mean[a] - mean[a]) * (th.mean[b] - mean[b]))
      end
      T.near(av.components[k].cov[a][b], c / (5 * w) + (a == b and 1e-6 or 0), 1e-9, "cov")
    end end
  end
  -- The best iteration (the default) is another estimate.
  o.sem_average = nil; o.on_iter = nil
  T.ok(mx.fit(o).loglik ~= av.loglik, "sem_average changes the estimate")
  T.errors(function() o.sem_average = 41; mx.fit(o) end, "'sem_average' must lie in 1 .. max_iter = 40 (got 41")
  T.errors(function() mx.fit{data = S, family = "gaussian", k = 3, sem_average = 3} end,
           "'sem_average' is an option of algorithm \"sem\" only")
  -- On well-separated data, within 1e-3 per row of EM.
  local em = mx.fit{data = S, family = "gaussian", k = 3, seed = 2, n_init = 3, threads = 1}
  local s3 = mx.fit{data = S, family = "gaussian", k = 3, seed = 2, n_init = 3, threads = 1,
                    algorithm = "sem", max_iter = 50, sem_average = 20}
  T.ok(math.abs(s3.loglik - em.loglik) / 450 <= 1e-3,
       string.format("sem_average %.8f vs em %.8f per row", s3.loglik / 450, em.loglik / 450))
end)

T.test("partial_fit over an .npy file read a batch at a time holds one batch, not the file", function()
  -- A small version of bench/online_memory.sh: 1 200 000 rows (18.3 MiB of float64) written in
  -- pieces; the resident set (Linux's /proc/self/status) grows by far less than the file while
  -- batches of 2000 rows are read and fitted, and by about the file when it is read whole
  -- (mapped) and scored.
  local st = io.open("/proc/self/status")
  if not st then io.stderr:write("# skipped: no /proc/self/status\n") return end
  st:close()
  -- AddressSanitizer keeps freed memory in quarantine, so every batch's buffers stay resident.
  if os.getenv("ASAN_OPTIONS") then io.stderr:write("# skipped: ASan\n") return end
  local function rss()
    for line in io.lines("/proc/self/status") do
      local kb = line:match("^VmRSS:%s+(%d+)")
      if kb then return tonumber(kb) / 1024 end
    end
  end
  local n, p = 1200000, T.tmpname(".npy")
  local dict = string.format("{'descr': '<f8', 'fortran_order': False, 'shape': (%d, 2), }", n)
  dict = dict .. string.rep(" ", (16 - (10 + #dict + 1) % 16) % 16) .. "\n"
  local f = assert(io.open(p, "wb"))
  f:write("\x93NUMPY\1\0" .. string.pack("<I2", #dict) .. dict)
  math.randomseed(5)
  for lo = 1, n, 10000 do
    local t = {}
    for i = lo, lo + 9999 do t[#t + 1] = string.pack("<dd", gauss() + 6 * (i % 3), gauss()) end
    f:write(table.concat(t))
  end
  f:close()
  collectgarbage()
  local m = mx.fit{data = mx.read_npy(p, {rows = {1, 2000}}), family = "gaussian", k = 3, seed = 1,
                   n_init = 1, short_starts = 1, threads = 1}
  collectgarbage()
  local base, peak, total = rss(), 0, nil
  local lo = 1
  repeat
    local B
    B, total = mx.read_npy(p, {rows = {lo, lo + 1999}})
    m:partial_fit(B, {threads = 1})
    B = nil
    if lo % 20000 == 1 then collectgarbage() end   -- (a batch's map goes with its dataset)
    peak = math.max(peak, rss() - base)
    lo = lo + 2000
  until lo > total
  T.eq(total, n); T.eq(m.n_iter, m.trace[#m.trace].iter)
  local X = mx.read_npy(p)
  local l = m:score(X)
  local whole = rss() - base
  io.stderr:write(string.format("# streamed: RSS grew %.1f MiB; whole file: %.1f MiB (file %.1f MiB)\n",
                                peak, whole, n * 16 / 1048576))
  T.ok(l > -5, "the streamed fit scores the data")
  T.ok(peak < 6, string.format("streamed, the resident set grew by %.1f MiB", peak))
  T.ok(whole > 15, string.format("read whole, it grew by %.1f MiB", whole))
  X = nil; collectgarbage()
  os.remove(p)
end)

T.done()
