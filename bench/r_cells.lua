-- r_cells.lua: mixem against R's mclust and flexmix, cell by cell, on real data sets (issue 19).
-- For every cell of tests/reference/r_fixtures.lua (made by tests/reference/r_reference.R) it
-- fits with mixem's DEFAULT settings (only data, family, k, covariance, columns, trials and row
-- weights given: default init, n_init, tol, refine_tol, max_iter, seed) and again with
-- n_init = 20, and prints R's best log-likelihood beside both with the differences
-- (mixem - R: negative means mixem ends lower). A '*' after a difference marks a loss beyond
-- TOL (default 1e-3 per cell, about R's own stopping precision); after a log-likelihood, '!'
-- marks a fit that did not converge and '^' one whose n_iter reached the default max_iter = 100
-- (refinement is cut there while converged stays true); 'E' marks a fit that failed (its
-- message is printed after the table).
-- Usage: src/mixem run bench/r_cells.lua [TOL]
local mx = require "mixem"

local here = arg and arg[0] and arg[0]:match("^(.*)/[^/]*$") or "bench"
local root = here .. "/.."
local fixtures = dofile(root .. "/tests/reference/r_fixtures.lua")
local TOL = tonumber(arg and arg[1]) or 1e-3

local cache = {}
local function dataset(f)
  local key = f.data .. "|" .. table.concat(f.columns, ",") .. "|" .. (f.weights or "")
  if not cache[key] then
    cache[key] = mx.read_csv(root .. "/data/" .. f.data, {columns = f.columns, weights = f.weights})
  end
  return cache[key]
end

local function fit(f, n_init)
  local o = {data = dataset(f), family = f.family, k = f.k, threads = 1}
  if f.covariance then o.covariance = f.covariance end
  if f.trials then o.trials = f.trials end
  if n_init then o.n_init = n_init end
  local ok, m = pcall(mx.fit, o)
  if ok then return m end
  return nil, tostring(m)
end

local errors, lost_def, lost_20, cells, capped = {}, {}, {}, 0, {}
local function cell(m, err, r, label, lost, f)
  if not m then
    errors[#errors + 1] = string.format("%s %s %s K=%d (%s): %s", f.data, f.family,
                                        f.covariance or "-", f.k, label, err)
    return string.format("%14s %10s", "E", "")
  end
  local d = m.loglik - r
  local mark = (d < -TOL) and "*" or " "
  if d < -TOL then lost[#lost + 1] = string.format("%s %s K=%d: %.4f", f.data,
                                                  f.covariance or f.family, f.k, d) end
  local flag = not m.converged and "!" or (m.n_iter >= 100 and "^" or " ")
  if flag == "^" then capped[label] = (capped[label] or 0) + 1 end
  return string.format("%14.4f%s %10.4f%s", m.loglik, flag, d, mark)
end

io.write(string.format("%-14s %-9s %-14s %2s %14s %15s %11s %15s %11s\n", "data", "family",
                       "model", "K", "R loglik", "mixem default", "diff", "n_init=20", "diff"))
for _, f in ipairs(fixtures) do
  cells = cells + 1
  local model = f.covariance and (f.covariance .. "/" .. f.r_model) or f.r_model
  local line = string.format("%-14s %-9s %-14s %2d %14.4f", f.data:gsub("%.csv$", ""), f.family,
                             model, f.k, f.loglik)
  if f.loglik ~= f.loglik then
    io.write(line, "   (R returned no fit: ", f.note or "", ")\n")
  else
    local m1, e1 = fit(f, nil)
    local m2, e2 = fit(f, 20)
    io.write(line, " ", cell(m1, e1, f.loglik, "default", lost_def, f), " ",
             cell(m2, e2, f.loglik, "n_init=20", lost_20, f), "\n")
  end
  io.flush()
end

print(string.format("\n%d cells; mixem lower than R by more than %g: %d with defaults, %d with n_init = 20",
                    cells, TOL, #lost_def, #lost_20))
print(string.format("fits that used all 100 iterations: %d with defaults, %d with n_init = 20",
                    capped["default"] or 0, capped["n_init=20"] or 0))
if #lost_def > 0 then print("defaults lose:\n  " .. table.concat(lost_def, "\n  ")) end
if #lost_20 > 0 then print("n_init = 20 loses:\n  " .. table.concat(lost_20, "\n  ")) end
if #errors > 0 then print("errors:\n  " .. table.concat(errors, "\n  ")) end
