-- two_coins.lua: the two-coin example of Do and Batzoglou, "What is the expectation maximization
-- algorithm?", Nature Biotechnology 26:897-899 (2008).  Five sets of ten tosses; each set comes
-- from coin A or coin B, picked with probability 1/2.  EM from theta_A = 0.60, theta_B = 0.50.
-- Prints, per iteration, theta_A, theta_B, the log-likelihood, the ELBO and KL(q || p(z|x,theta))
-- with the paper's figures beside; then the same with the mixing weights learned.
-- Usage: mixem run scripts/two_coins.lua [DATA.csv]
local mx = require "mixem"

local here = arg and arg[0] and arg[0]:match("^(.*)/[^/]*$") or "."
local path = arg[1] or (here .. "/../data/two_coins.csv")
local X = mx.read_csv(path, {columns = {"heads", "trials"}})

-- The paper's figures (figure 1): after one iteration and after ten.
local paper = {[1] = {0.71, 0.58}, [10] = {0.80, 0.52}}

local function run(title, fixed)
  print(title)
  print(string.format("%4s  %7s  %7s  %5s  %11s  %11s  %10s%s", "iter", "theta_A", "theta_B",
                      "w_A", "log-lik", "ELBO", "KL", fixed and "   paper A     B" or ""))
  print(string.format("%4d  %7.4f  %7.4f  %5.3f", 0, 0.6, 0.5, 0.5))
  local m = mx.fit{
    data = X, family = "binomial", k = 2, trials = "trials",
    init = {weights = {0.5, 0.5}, components = {{p = 0.6}, {p = 0.5}}},
    fixed = fixed and {"weights"} or nil, max_iter = 10, tol = 0,
    on_iter = function(it)
      local p = fixed and paper[it.iter]
      print(string.format("%4d  %7.4f  %7.4f  %5.3f  %11.6f  %11.6f  %10.3e%s", it.iter,
                          it.components[1].p, it.components[2].p, it.weights[1], it.loglik,
                          it.elbo, it.kl, p and string.format("   %.2f  %.2f", p[1], p[2]) or ""))
    end,
  }
  print(string.format("log-likelihood %.6f, BIC %.4f, %d free parameters\n", m.loglik, m:bic(X),
                      m.n_params))
  return m
end

print(string.format("Two coins (Do & Batzoglou 2008): %s, %d sets of tosses", path, #X))
print("The log-likelihood includes log C(n, s); ELBO + KL = log-likelihood in every row.\n")
local fixed = run("Mixing weights fixed at 1/2:", true)
local learned = run("Mixing weights learned (start 1/2):", false)

-- Pictures, written to the current folder: the ELBO/KL picture of the run the paper shows, and
-- the success rates with the learned mixture over them.
mx.plot.trace(fixed, "two_coins_trace.png",
              {title = "Two coins, weights fixed at 1/2: log-likelihood, ELBO and KL"})
mx.plot.binomial(learned, X, "two_coins_rates.png")
print("Pictures: two_coins_trace.png, two_coins_rates.png")
