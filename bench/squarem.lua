-- squarem.lua: SQUAREM against plain EM on one benchmark set (bench/gen.py's G1, B1, ...): both
-- from DIR/NAME_init.json, tol = 1e-8 per row (scikit-learn's rule on the change of the mean
-- log-likelihood), one run each, at most MAX_ITER iterations; prints iterations, E-step passes
-- (squarem: a rejected extrapolation costs one more than its records), seconds (the trace's
-- wall clock, and the process's CPU time, which a busy machine disturbs less with one thread),
-- the final mean log-likelihood and the ratios EM / squarem.
-- Usage: mixem run bench/squarem.lua DIR NAME THREADS [MAX_ITER (default 5000)]
local mx = require "mixem"
local dir, name = arg[1], arg[2]
local threads, cap = tonumber(arg[3]), tonumber(arg[4] or 5000)
local X = mx.read_npy(dir .. "/" .. name .. ".npy")
local init = mx.load(dir .. "/" .. name .. "_init.json")
local n = X:rows()
local res = {}
for _, alg in ipairs{"em", "squarem"} do
  -- One start (the set's), no restarts, no small-EM, no refinement: tol alone stops the climb.
  local opts = {data = X, family = init.family, k = init.k, init = init, max_iter = cap,
                tol = 1e-8, n_init = 1, short_starts = 1, n_refine = 0, threads = threads,
                algorithm = alg, quiet = true}
  for key, v in pairs(init.options) do opts[key] = v end
  local c0 = os.clock()
  local m = mx.fit(opts)
  local secs = 0
  for _, it in ipairs(m.trace) do secs = secs + it.seconds end
  local acc, rej = 0, 0
  for _, it in ipairs(m.trace) do
    if it.extrapolated == 1 then acc = acc + 1 elseif it.extrapolated == -1 then rej = rej + 1 end
  end
  res[alg] = {iter = m.n_iter, secs = secs, ll = m.loglik / n, conv = m.converged, acc = acc,
              rej = rej, cpu = os.clock() - c0}
  res[alg].passes = m.n_iter + rej
  io.stdout:write(string.format("%s %-8s threads %d  iterations %5d  passes %5d  seconds %8.2f  "
                                .. "CPU %8.2f  mean loglik %.10f  converged %s  extrapolations "
                                .. "kept %d, rejected %d\n", name, alg, threads, m.n_iter,
                                m.n_iter + rej, secs, res[alg].cpu, m.loglik / n,
                                tostring(m.converged), acc, rej))
  io.stdout:flush()
end
local e, s = res.em, res.squarem
print(string.format("%s ratio em/squarem: iterations %.2f  passes %.2f  seconds %.2f  CPU %.2f  "
                    .. "loglik (squarem - em) per row %.2e", name, e.iter / s.iter,
                    e.passes / s.passes, e.secs / s.secs, e.cpu / s.cpu, s.ll - e.ll))
