# regression_flexmix.R: fixtures for tests/lua/test_regression.lua (the linreg, poisreg and
# logitreg families) from flexmix's artificial NPreg data (K = 2):
#   yn ~ x + x2 (gaussian), yp ~ x (poisson)
# and from flexmix's betablocker data (K = 2): cbind(Deaths, Total - Deaths) ~ treat (binomial,
# trials = Total; treat = 1 for the treated arms).  NPreg's yb ~ x (one trial per row) is left out:
# from every start tried flexmix either runs into separation (coefficients in the hundreds or
# thousands) or crawls along a flat likelihood without converging in 3000 iterations.
# Run from the top of the tree:  Rscript tests/reference/regression_flexmix.R
# It writes tests/data/npreg.csv (NPreg with x2 = x^2), tests/data/betablocker_treat.csv and
# tests/reference/regression_fixtures.lua.
# The start: a full weighted fit of each part of the partition below (0/1 weights) gives theta_0
# and the weights; mixem starts from that theta_0.  (flexmix given cluster = the partition starts
# from posteriors 0.9 and 0.1, not 1 and 0, so its own theta_0 differs a little; the GLMs' fixed
# point is the same.  regression_irls_flexmix.R starts from flexmix's own theta_0.)
# GLMs: flexmix run from the same start with tolerance = 0 for 4000 iterations (and checked: the
# parameters after 2000 iterations are the same to 1e-13), i.e. to its fixed point; mixem's GEM
# step reaches the same fixed point.  Linear: flexmix's gaussian sigma is not the ML one (it divides by
# n - rank, with n all rows), so the 1- and 5-iteration references come from mixtools' regmixEM
# (ML sigma, exact EM) from the same theta_0, and the converged flexmix coefficients are compared
# for beta only.  Log-likelihoods are recomputed here from the parameters (dnorm, dpois, dbinom).
suppressMessages({library(flexmix); library(mixtools)})
data("NPreg", package = "flexmix")
d <- NPreg
d$x2 <- d$x^2
write.csv(d[, c("x", "x2", "yn", "yp", "yb")], "tests/data/npreg.csv", row.names = FALSE)
n <- nrow(d)
cl <- ifelse(seq_len(n) %% 3 == 0, 1L, 2L)   # a fixed partition: every third row in part 1
cl[d$class == 1 & seq_len(n) %% 2 == 0] <- 1L
out <- file("tests/reference/regression_fixtures.lua", "w")
w <- function(...) cat(..., file = out, sep = "")
num <- function(v) paste(sprintf("%.17g", v), collapse = ", ")
w("-- made by tests/reference/regression_flexmix.R with ", R.version.string, ", flexmix ",
  as.character(packageVersion("flexmix")), ", mixtools ", as.character(packageVersion("mixtools")), "\n")
w("return {\n  partition = {", num(cl), "},\n")

lse <- function(a) { m <- max(a); m + log(sum(exp(a - m))) }
ll_of <- function(dens) sum(apply(dens, 1, lse))

glm_case <- function(name, form, fam, data, cl, y, X, trials = NULL) {
  fit <- function(it) flexmix(form, data = data, k = 2, cluster = cl, model = FLXMRglm(family = fam),
                              control = list(iter.max = it, tolerance = 0, minprior = 0))
  m <- fit(4000)
  half <- fit(2000)
  stopifnot(max(abs(parameters(m) - parameters(half))) < 1e-13,
            max(abs(prior(m) - prior(half))) < 1e-13)
  b <- parameters(m)
  yy <- if (fam == "poisson") y else cbind(y, trials - y)
  b0 <- sapply(1:2, function(k) suppressWarnings(glm.fit(X, yy, weights = as.numeric(cl == k),
                                                         family = get(fam)()))$coefficients)
  dens <- function(B, pr) sapply(1:2, function(k) {
    eta <- X %*% B[, k]
    log(pr[k]) + if (fam == "poisson") dpois(y, exp(eta), log = TRUE)
                 else dbinom(y, trials, plogis(eta), log = TRUE) })
  w("  ", name, " = {partition = {", num(cl), "},\n    w0 = {", num(as.numeric(table(cl)) / length(cl)),
    "}, beta0 = {{", num(b0[, 1]), "}, {", num(b0[, 2]),
    "}},\n    loglik = ", sprintf("%.17g", ll_of(dens(b, prior(m)))), ", weights = {", num(prior(m)),
    "},\n    beta = {{", num(b[, 1]), "}, {", num(b[, 2]), "}}, flexmix_iter = ", m@iter, "},\n")
}
X1 <- cbind(1, d$x)
glm_case("poisson", yp ~ x, "poisson", d, cl, d$yp, X1)
# Binomial: betablocker, the start from the centres' death rates (above 9% in part 1), from which
# flexmix reaches the larger of the two maxima it finds (-187.898; random partitions also give
# -189.22).
data("betablocker", package = "flexmix")
bb <- data.frame(Deaths = betablocker$Deaths, Total = betablocker$Total,
                 treat = as.numeric(betablocker$Treatment == "Treated"))
write.csv(bb, "tests/data/betablocker_treat.csv", row.names = FALSE)
glm_case("binomial", cbind(Deaths, Total - Deaths) ~ treat, "binomial", bb,
         ifelse(bb$Deaths / bb$Total > 0.09, 1L, 2L), bb$Deaths, cbind(1, bb$treat), bb$Total)

# Linear.
m0 <- flexmix(yn ~ x + x2, data = d, k = 2, cluster = cl, model = FLXMRglm(family = "gaussian"),
              control = list(iter.max = 1, minprior = 0))
p0 <- parameters(m0)
# theta_0 with the ML sigma of each part (the weighted lm of flexmix's first M-step).
X <- cbind(1, d$x, d$x2)
s0 <- sapply(1:2, function(k) { f <- lm.wfit(X, d$yn, as.numeric(cl == k))
                                 sqrt(sum((cl == k) * f$residuals^2) / sum(cl == k)) })
b0 <- sapply(1:2, function(k) lm.wfit(X, d$yn, as.numeric(cl == k))$coefficients)
w0 <- as.numeric(table(cl)) / n
w("  gaussian = {w0 = {", num(w0), "}, beta0 = {{", num(b0[, 1]), "}, {", num(b0[, 2]),
  "}}, sigma0 = {", num(s0), "},\n")
gdens <- function(B, s, pr) sapply(1:2, function(k)
  log(pr[k]) + dnorm(d$yn, X %*% B[, k], s[k], log = TRUE))
for (it in c(1, 5, 200)) {
  r <- regmixEM(d$yn, cbind(d$x, d$x2), lambda = w0, beta = b0, sigma = s0, k = 2,
                epsilon = -1, maxit = it, verb = FALSE)
  # regmixEM stops after maxit M-steps; its parameters are theta_it.
  w("    [", it, "] = {loglik = ", sprintf("%.17g", ll_of(gdens(r$beta, r$sigma, r$lambda))),
    ", weights = {", num(r$lambda), "}, beta = {{", num(r$beta[, 1]), "}, {", num(r$beta[, 2]),
    "}}, sigma = {", num(r$sigma), "}, iter = ", length(r$all.loglik) - 1, "},\n")
}
m <- flexmix(yn ~ x + x2, data = d, k = 2, cluster = cl, model = FLXMRglm(family = "gaussian"),
             control = list(iter.max = 10000, tolerance = 1e-13, minprior = 0))
w("    flexmix_beta = {{", num(parameters(m)[1:3, 1]), "}, {", num(parameters(m)[1:3, 2]),
  "}}, flexmix_sigma = {", num(parameters(m)[4, ]), "}},\n}\n")
close(out)
