-- lua_family.lua: families written in the experiment script itself (mixem.family).
--   1. A Poisson mixture in the exponential-family form (the per-row statistic, the M-step from
--      the weighted sums, the log-density), fitted to data/seatbelts.csv (monthly counts of car
--      and van drivers killed in Great Britain, 1969-1984; see data/README.md), beside the C
--      family poisson from the same start: the same log-likelihood to 1e-10, and the seconds per
--      iteration of each.
--   2. A zero-inflated Poisson in the block form, whose M-step has no closed form (a Newton
--      iteration for lambda), fitted to counts drawn from a known mixture of two.
-- Usage: mixem run scripts/lua_family.lua [DATA.csv]
local mx = require "mixem"

local here = arg and arg[0] and arg[0]:match("^(.*)/[^/]*$") or "."
local X = mx.read_csv(arg[1] or (here .. "/../data/seatbelts.csv"))

-- 1. The Poisson family: T(x) = x, lambda = s / n, log p = sum x log lambda - lambda - log x!
local log, lgamma = math.log, mx.lgamma
mx.family{
  name = "lua_poisson",
  summary = "Poisson counts in independent columns, written in Lua",
  params = {lambda = "positive"},
  stats = function(x) return x end,
  maximise = function(s, n)
    local lambda = {}
    for j = 1, #s do lambda[j] = math.max(s[j] / n, 1e-10) end
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

local start = {weights = {0.5, 0.5}, components = {{lambda = {100, 8}}, {lambda = {150, 10}}}}
local function per_iter(m)
  local s = 0
  for _, r in ipairs(m.trace) do s = s + r.seconds end
  return s / #m.trace
end

print("1. Poisson mixture, k = 2, on " .. tostring(X))
local fits = {}
for _, family in ipairs{"lua_poisson", "poisson"} do
  local m = mx.fit{data = X, family = family, k = 2, init = start, tol = 0, max_iter = 200}
  fits[family] = m
  print(string.format("  %-12s log-likelihood %.10f after %d iterations, %.2e s per iteration",
                      family, m.loglik, m.n_iter, per_iter(m)))
  for k = 1, 2 do
    local c = m.components[k]
    print(string.format("    component %d: weight %.4f, lambda = (%.3f, %.3f)", k, m.weights[k],
                        c.lambda[1], c.lambda[2]))
  end
end
local a, b = fits.lua_poisson.loglik, fits.poisson.loglik
print(string.format("  difference %.2e (relative %.2e); Lua takes %.1f times as long per iteration",
                    a - b, math.abs(a - b) / math.abs(b),
                    per_iter(fits.lua_poisson) / per_iter(fits.poisson)))
assert(math.abs(a - b) <= 1e-10 * math.abs(b), "the Lua and C families disagree")

-- 2. A zero-inflated Poisson: p(0) = pi + (1 - pi) e^-lambda, p(x > 0) = (1 - pi) Pois(x).
-- Statistics per component: the weight of the zeros, sum r x and sum r log x!.  The M-step
-- solves lambda / (1 - e^-lambda) = (mean of the positive counts) by Newton's method, then
-- pi = 1 - (weight of the positive counts) / (n (1 - e^-lambda)).
local function zip_mstep(s, n)
  local n0, sx = s[1], s[2]
  local npos = n - n0
  if npos <= 0 then return {pi = 1 - 1e-12, lambda = 1e-10} end
  local mean, lambda = sx / npos, sx / npos
  if mean <= 1 + 1e-12 then lambda = 1e-10 else
    for _ = 1, 100 do
      local e = math.exp(-lambda)
      local step = (lambda - mean * (1 - e)) / (1 - mean * e)
      lambda = lambda - step
      if math.abs(step) < 1e-14 * lambda then break end
    end
  end
  local pi = 1 - npos / (n * (1 - math.exp(-lambda)))
  if pi < 0 then pi, lambda = 0, sx / n end   -- fewer zeros than a Poisson has: no inflation
  return {pi = math.min(pi, 1 - 1e-12), lambda = lambda}
end

mx.family{
  name = "zip", form = "block", n_stats = 3,
  summary = "zero-inflated Poisson counts (one column), written in Lua",
  params = {pi = "unit", lambda = "positive"},
  -- out[i][k] = log p(x_i | theta_k) for the block's rows X and all components at once
  log_density = function(thetas, X, out)
    for k, th in ipairs(thetas) do
      local p0 = log(th.pi + (1 - th.pi) * math.exp(-th.lambda))
      local lpos, ll = log(1 - th.pi), log(th.lambda)
      for i, x in ipairs(X) do
        local c = x[1]
        out[i][k] = c == 0 and p0 or lpos + c * ll - th.lambda - lgamma(c + 1)
      end
    end
  end,
  -- S[k] += the statistics of the block under the weighted responsibilities R[i][k]
  accumulate = function(thetas, X, R, S)
    for i, x in ipairs(X) do
      local c, lf = x[1], lgamma(x[1] + 1)
      for k, r in ipairs(R[i]) do
        local s = S[k]
        if c == 0 then s[1] = s[1] + r end
        s[2] = s[2] + r * c
        s[3] = s[3] + r * lf
      end
    end
  end,
  maximise = function(S, N)
    local thetas = {}
    for k = 1, #S do thetas[k] = zip_mstep(S[k], N[k]) end
    return thetas
  end,
  -- sum_k sum_i r_ik log p(x_i | theta_k) from the statistics alone (the ELBO needs no pass)
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

local truth = mx.model{family = "zip", weights = {0.6, 0.4}, columns = {"count"},
                       components = {{pi = 0.3, lambda = 2.0}, {pi = 0.1, lambda = 9.0}}}
local Z = truth:sample(5000, 2024)
local m = mx.fit{data = Z, family = "zip", k = 2, n_init = 5, seed = 1, tol = 1e-8,
                 max_iter = 1000}
print("\n2. Zero-inflated Poisson, k = 2, on 5000 counts drawn from weights (0.6, 0.4),")
print("   pi = (0.3, 0.1), lambda = (2, 9)")
print(string.format("  log-likelihood %.4f after %d iterations (the truth: %.4f)", m.loglik,
                    m.n_iter, truth:score(Z) * #Z))
local order = m.components[1].lambda < m.components[2].lambda and {1, 2} or {2, 1}
for _, k in ipairs(order) do
  local c = m.components[k]
  print(string.format("    weight %.3f, pi = %.3f, lambda = %.3f", m.weights[k], c.pi, c.lambda))
end
local climbs = true
for i = 2, #m.trace do
  local r, p = m.trace[i], m.trace[i - 1]
  if r.restart == p.restart and r.loglik < p.loglik - 1e-9 then climbs = false end
end
print("  the log-likelihood never fell: " .. tostring(climbs) ..
      "; KL at the end " .. string.format("%.2e", m.trace[#m.trace].kl))
