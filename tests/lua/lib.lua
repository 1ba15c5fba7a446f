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

function T.done()
  print(string.format("%d passed, %d failed", T.passed, T.failed))
  os.exit(T.failed == 0 and 0 or 1, true)   -- close the state: leak checks see every __gc run
end

return T
