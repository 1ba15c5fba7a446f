-- bench/lua_family.lua: a Poisson mixture written in Lua against the C family poisson, on the
-- same N = 100 000 rows of D = 2 counts with K = 3, from the same start, one thread: seconds per
-- iteration of each, and their ratio, measured in one run.  The Lua family in its two
-- exponential-family spellings: with log_density (a Lua call per row and component) and with
-- natural and base (the log-densities and the ELBO then computed in C from T(x), which is
-- cached).  The log-likelihoods must agree to 1e-10.
-- Usage: mixem run bench/lua_family.lua [N] [ITERS]
local mx = require "mixem"
local N, ITERS = tonumber(arg[1]) or 100000, tonumber(arg[2]) or 20

-- The data: drawn from a known mixture by the C family (seeded).
local truth = mx.model{family = "poisson", weights = {0.5, 0.3, 0.2}, columns = {"a", "b"},
                       components = {{lambda = {2, 10}}, {lambda = {8, 3}}, {lambda = {20, 25}}}}
local X = truth:sample(N, 1)

local log, lgamma = math.log, mx.lgamma
local function maximise(s, n)
  local lambda = {}
  for j = 1, #s do lambda[j] = math.max(s[j] / n, 1e-10) end
  return {lambda = lambda}
end
mx.family{
  name = "lua_poisson", params = {lambda = "positive"},
  stats = function(x) return x end,
  maximise = maximise,
  log_density = function(theta, x)
    local lp = 0
    for j = 1, #x do
      local l = theta.lambda[j]
      lp = lp + x[j] * log(l) - l - lgamma(x[j] + 1)
    end
    return lp
  end,
}
mx.family{
  name = "lua_poisson_natural", params = {lambda = "positive"},
  stats = function(x) return x end,
  maximise = maximise,
  natural = function(theta)       -- log p = base(x) + eta . x - A
    local eta, A = {}, 0
    for j, l in ipairs(theta.lambda) do eta[j], A = log(l), A + l end
    return eta, A
  end,
  base = function(x)
    local h = 0
    for j = 1, #x do h = h - lgamma(x[j] + 1) end
    return h
  end,
}

local start = {weights = {0.4, 0.3, 0.3},
               components = {{lambda = {1, 9}}, {lambda = {9, 2}}, {lambda = {18, 20}}}}
local function seconds_per_iter(m)
  local s = 0
  for i = 2, #m.trace do s = s + m.trace[i].seconds end   -- the first fills the stats cache
  return s / (#m.trace - 1)
end

print(string.format("Poisson mixture, N = %d, D = 2, K = 3, %d iterations, 1 thread", N, ITERS))
print(string.format("%-22s %12s %22s %8s", "family", "s/iter", "log-likelihood", "ratio"))
local c_time, c_ll
for _, f in ipairs{"poisson", "lua_poisson", "lua_poisson_natural"} do
  local m = mx.fit{data = X, family = f, k = 3, init = start, tol = 0, max_iter = ITERS,
                   threads = 1}
  local t = seconds_per_iter(m)
  c_time, c_ll = c_time or t, c_ll or m.loglik
  print(string.format("%-22s %12.5f %22.10f %8.1f", f, t, m.loglik, t / c_time))
  assert(math.abs(m.loglik - c_ll) <= 1e-10 * math.abs(c_ll), f .. ": log-likelihoods differ")
end
