-- multinomial_licenses.lua: a mixture of unigrams (the multinomial family) on 196 paragraphs of
-- four licence texts Debian ships (Apache-2.0, GPL-3, MPL-2.0, GFDL-1.3), each paragraph a row
-- of counts of 100 words (data/licenses_bow.csv, made by tests/reference/licenses_bow.py).
-- Selects K = 1..8 by BIC (mx.select), prints each component's weight and most probable words,
-- the components against the licence each paragraph came from, and the adjusted Rand index.
-- Draws licenses_words.png (each component's 100 word probabilities as a 10 x 10 grid, in the
-- column order of the data) and licenses_select.png.
-- Usage: mixem run scripts/multinomial_licenses.lua [N_INIT]
local mx = require "mixem"

local here = arg and arg[0] and arg[0]:match("^(.*)/[^/]*$") or "."
local X = mx.read_csv(here .. "/../data/licenses_bow.csv")
local lic = mx.read_csv(here .. "/../data/licenses_labels.csv"):column(1)
local n_init = tonumber(arg[1]) or 10
local words = X:names()
local LICENCES = {"Apache-2.0", "GPL-3", "MPL-2.0", "GFDL-1.3"}

local r = mx.select{data = X, family = "multinomial", k = {1, 2, 3, 4, 5, 6, 7, 8},
                    n_init = n_init, seed = 0, criterion = "bic"}
print(string.format("%d paragraphs, %d words", #X, X:cols()))
print(string.format("%3s %12s %12s %6s", "K", "log-lik", "BIC", "params"))
for _, c in ipairs(r.candidates) do
  print(string.format("%3d %12.3f %12.3f %6d", c.k, c.loglik, c.bic, c.n_params))
end
local m = r.model
print(string.format("Lowest BIC: K = %d (%.3f)\n", m.k, r.candidates[r.best].bic))

print(string.format("%4s %7s %6s  %s", "comp", "weight", "words", "most probable words (probability)"))
for k = 1, m.k do
  local p, idx = m.components[k].prob, {}
  for l = 1, #p do idx[l] = l end
  table.sort(idx, function(a, b) return p[a] > p[b] end)
  local top = {}
  for i = 1, 8 do top[i] = string.format("%s %.3f", words[idx[i]], p[idx[i]]) end
  print(string.format("%4d %7.4f %6d  %s", k, m.weights[k], m.components[k].size, table.concat(top, ", ")))
end

local labels, truth = m:predict(X), {}
for i, v in ipairs(lic) do truth[i] = math.floor(v) end
print("\nParagraphs by licence (rows) and most likely component (columns):")
io.write(string.format("%-11s", ""))
for k = 1, m.k do io.write(string.format(" %5s", "c" .. k)) end
io.write("\n")
for l, name in ipairs(LICENCES) do
  local count = {}
  for i = 1, #truth do
    if truth[i] == l then count[labels[i]] = (count[labels[i]] or 0) + 1 end
  end
  io.write(string.format("%-11s", name))
  for k = 1, m.k do io.write(string.format(" %5d", count[k] or 0)) end
  io.write("\n")
end
print(string.format("Adjusted Rand index against the licences: %.4f (1: the same partition, 0: chance)",
                    mx.adjusted_rand_index(labels, truth)))
print("(A paragraph's words say more about its topic, such as patents, source code or copying,")
print("than about its licence, so components gather topics across licences; only the GFDL, whose")
print("words are its own (document, cover texts, invariant sections), mostly keeps to one.)")

mx.plot.prototypes(m, "licenses_words.png", {shape = {10, 10},
                   title = "word probabilities of each component (10 x 10, in column order)"})
mx.plot.select(r, "licenses_select.png")
print("\nPictures: licenses_words.png, licenses_select.png")
