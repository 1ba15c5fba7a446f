-- lib.lua: a small test harness for the Lua suites.  T.test(name, fn) runs fn and records it;
-- T.done() prints "N passed, N failed" and exits non-zero on any failure.
local T = {passed = 0, failed = 0}

T.srcdir = os.getenv("MIXEM_TEST_SRCDIR") or "."
T.tmpdir = os.getenv("TMPDIR") or "/tmp"

function T.test(name, fn)
  local ok, err = xpcall(fn, debug.traceback)
  if ok then
    T.passed = T.passed + 1
  else
    T.failed = T.failed + 1
    io.stderr:write("FAIL ", name, ": ", tostring(err), "\n")
  end
end

function T.eq(a, b, what)
  if a ~= b then
    error(string.format("%s: expected %s, got %s", what or "value", tostring(b), tostring(a)), 2)
  end
end

-- |a - b| <= tol * max(|a|, |b|, 1e-300)
function T.near(a, b, tol, what)
  local s = math.max(math.abs(a), math.abs(b), 1e-300)
  if not (math.abs(a - b) <= tol * s) then
    error(string.format("%s: %.17g and %.17g differ by more than %g relative", what or "value",
                        a, b, tol), 2)
  end
end

function T.ok(v, what)
  if not v then error((what or "condition") .. " is false", 2) end
end

-- fn() must raise an error whose message contains TEXT (plain).
function T.errors(fn, text)
  local ok, err = pcall(fn)
  if ok then error("expected an error containing '" .. text .. "'", 2) end
  if not tostring(err):find(text, 1, true) then
    error(string.format("error '%s' lacks '%s'", tostring(err), text), 2)
  end
end

function T.tmpname(suffix)
  T.count = (T.count or 0) + 1
  return string.format("%s/mixem-lua-%d-%d%s", T.tmpdir, os.time(), T.count, suffix or "")
end

function T.write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

function T.read(path)
  local f = assert(io.open(path, "r"))
  local s = f:read("a")
  f:close()
  return s
end

-- mclust's fitted components (a fixture's means and covariance matrices) as mixem's
-- components for COVARIANCE: EII and VII a variance, the diagonal models a vector, others a matrix.
local diagonal_models = {EEI = true, VEI = true, EVI = true, VVI = true}
function T.mclust_components(means, covs, covariance)
  local comps = {}
  for j = 1, #means do
    local c, S = {mean = means[j]}, covs[j]
    if covariance == "EII" or covariance == "VII" then c.var = S[1][1]
    elseif diagonal_models[covariance] then
      c.var = {}
      for i = 1, #S do c.var[i] = S[i][i] end
    else c.cov = S end
    comps[j] = c
  end
  return comps
end

-- An on_iter that checks every record: ELBO + KL = log-likelihood, KL >= 0, and a log-likelihood
-- that never falls within a climb (each restart's short runs and its continuation climb apart).
function T.climb_watch()
  local prev, run = -math.huge, nil
  return function(it)
    local this = (it.restart or 0) .. ":" .. (it.short_run or 0)
    if this ~= run then prev, run = -math.huge, this end
    T.near(it.elbo + it.kl, it.loglik, 1e-12)
    T.ok(it.kl >= -1e-9 * math.abs(it.loglik), "KL >= 0")
    T.ok(it.loglik >= prev - 1e-12 * math.abs(prev), "monotone")
    prev = it.loglik
  end
end

-- A T.near that keeps the largest relative difference seen under each name (T.report_rel prints
-- them), for parity tests that say how close they came.
local maxrel = {}
function T.rel(what, a, b, tol)
  local r = math.abs(a - b) / math.max(math.abs(a), math.abs(b), 1e-300)
  maxrel[what] = math.max(maxrel[what] or 0, r)
  T.near(a, b, tol, what)
end
function T.report_rel()
  for what, r in pairs(maxrel) do
    print(string.format("max relative difference, %s: %.3g", what, r))
  end
end

function T.done()
  print(string.format("%d passed, %d failed", T.passed, T.failed))
  os.exit(T.failed == 0 and 0 or 1, true)   -- close the state: leak checks see every __gc run
end

return T
