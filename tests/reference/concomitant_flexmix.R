# concomitant_flexmix.R: fixtures for tests/lua/test_concomitant.lua: mixtures whose weights
# depend on concomitant variables (flexmix's FLXPmultinom, pi_k(z) = softmax(gamma_k' (1, z))).
# Run from the top of the tree:  Rscript tests/reference/concomitant_flexmix.R
# It writes tests/data/conc_pois3.csv and tests/reference/concomitant_fixtures.lua.
#
# Cases (Poisson components, flexmix's FLXMCmvpois, whose M-step is exact, as mixem's poisson,
# and a Poisson regression):
#   npreg: flexmix's NPreg, yp with concomitant ~ x, K = 2, from the partition of
#          tests/reference/regression_flexmix.R;
#   pois3: 300 simulated rows, two count columns, concomitant ~ z1 + z2, K = 3 (the full
#          multinomial logit, Q = 2), from the true classes with every fifth row moved on;
#   npreg_poisreg: a Poisson regression yp ~ x (FLXMRglm, glm.fit's IRLS, as mixem's poisreg
#          with mstep = "irls") with concomitant ~ yb, K = 2.
# flexmix's own EM loop (FLXfit) is run, from cluster = the partition: its iteration 1 is the
# M-step that makes theta_0 and gamma_0, so flexmix with iter.max = 1 + t is mixem after t
# iterations from theta_0.  flexmix fits FLXPmultinom's weights with nnet's BFGS, which stops at
# reltol 1e-8: its coefficients then differ from the exact maximiser by about 1e-8 relative
# (on npreg at t = 2: -0.3459958241 beside the exact -0.3459958234), too coarse for a 1e-8
# parity.  So for the 1- and 5-iteration and converged references the concomitant fit in
# flexmix's loop is replaced (the FLXPmultinom object's fit slot) by the exact weighted
# multinomial logit below, Newton's method to a step below 1e-14; everything else is flexmix's.
# The coefficients reported are those the iteration's E-step used (flexmix's own
# parameters(which = "concomitant") refits on the final posterior, one step further), computed
# by the same exact fit from the posterior of flexmix run one iteration less (t = 0: flexmix's
# start, 0.9 for the row's part and 0.1 for the others, normalised).  The plain flexmix (nnet, default tolerances) is also run to convergence
# (tolerance 1e-12), for the converged check at 1e-6.
suppressMessages({library(flexmix); library(nnet)})
num <- function(v) paste(sprintf("%.17g", v), collapse = ", ")

mlogit <- function(X, Y, w = rep(1, nrow(Y))) {
  K <- ncol(Y); q1 <- ncol(X); P <- (K - 1) * q1
  g <- matrix(0, q1, K)
  probs <- function(g) { e <- X %*% g; e <- exp(e - apply(e, 1, max)); e / rowSums(e) }
  for (it in 1:200) {
    p <- probs(g)
    grad <- as.vector(crossprod(X, w * (Y - p))[, -1, drop = FALSE])
    H <- matrix(0, P, P)
    for (k in 2:K) for (l in 2:K) {
      c <- w * p[, k] * ((k == l) - p[, l])
      H[(k - 2) * q1 + 1:q1, (l - 2) * q1 + 1:q1] <- crossprod(X, c * X)
    }
    step <- solve(H, grad)
    g[, -1] <- g[, -1] + step
    if (max(abs(step)) < 1e-14 * (1 + max(abs(g)))) break
  }
  list(coef = g, fitted = probs(g))
}
exact <- function(formula) {
  z <- FLXPmultinom(formula)
  z@fit <- function(x, y, w, ...) mlogit(x, y, if (missing(w) || is.null(w)) rep(1, nrow(y)) else w)$fitted
  z
}

set.seed(20261202)
n3 <- 300
z1 <- round(rnorm(n3), 4); z2 <- round(runif(n3, -1, 1), 4)
eta <- cbind(0, 0.5 + 1.5 * z1 - 1 * z2, -0.5 - 1 * z1 + 2 * z2)
pr <- exp(eta) / rowSums(exp(eta))
cls <- apply(pr, 1, function(p) sample(3, 1, prob = p))
lam <- rbind(c(1, 8), c(6, 2), c(12, 12))
y1 <- rpois(n3, lam[cls, 1]); y2 <- rpois(n3, lam[cls, 2])
p3 <- data.frame(y1 = y1, y2 = y2, z1 = z1, z2 = z2)
write.csv(p3, "tests/data/conc_pois3.csv", row.names = FALSE)
cl3 <- cls; cl3[seq_len(n3) %% 5 == 0] <- cl3[seq_len(n3) %% 5 == 0] %% 3 + 1

data("NPreg", package = "flexmix")
d <- NPreg
n <- nrow(d)
cl <- ifelse(seq_len(n) %% 3 == 0, 1L, 2L)
cl[d$class == 1 & seq_len(n) %% 2 == 0] <- 1L

out <- file("tests/reference/concomitant_fixtures.lua", "w")
w <- function(...) cat(..., file = out, sep = "")
w("-- made by tests/reference/concomitant_flexmix.R with ", R.version.string, ", flexmix ",
  as.character(packageVersion("flexmix")), ", nnet ", as.character(packageVersion("nnet")), "\n")
w("return {\n")

# flexmix's start from a partition (initPosteriors): 0.9 for the row's part, 0.1 elsewhere,
# normalised by row.
start_post <- function(cl, K) {
  m <- matrix(0.1, length(cl), K); m[cbind(seq_along(cl), cl)] <- 0.9; m / rowSums(m)
}

case <- function(name, form, cform, data, cl, K, Z, model = FLXMCmvpois()) {
  X <- cbind(1, as.matrix(Z))
  fit <- function(it, conc = exact(cform), tol = 0)
    flexmix(form, data = data, k = K, cluster = cl, model = model, concomitant = conc,
            control = list(iter.max = it, tolerance = tol, minprior = 0))
  lam <- function(m) { p <- parameters(m); if (is.null(dim(p))) matrix(p, nrow = 1) else p }
  gamma_after <- function(t) {   # the coefficients of mixem's iteration t (exact refit)
    post <- if (t == 0) start_post(cl, K) else fit(t)@posterior$scaled
    mlogit(X, post)$coef
  }
  w("  ", name, " = {\n    partition = {", num(cl), "},\n")
  m0 <- fit(1)
  w("    par0 = {", paste0("{", apply(lam(m0), 2, num), "}", collapse = ", "), "},\n")
  g0 <- gamma_after(0)
  w("    gamma0 = {", paste0("{", apply(g0, 2, num), "}", collapse = ", "), "},\n")
  for (t in c(1, 5)) {
    m <- fit(1 + t)
    g <- gamma_after(t)
    w("    [", t, "] = {loglik = ", num(m@logLik), ", par = {",
      paste0("{", apply(lam(m), 2, num), "}", collapse = ", "), "}, gamma = {",
      paste0("{", apply(g, 2, num), "}", collapse = ", "), "}},\n")
  }
  mc <- fit(3000)   # tolerance 0: its fixed point
  gc <- mlogit(X, mc@posterior$scaled)$coef
  w("    converged = {loglik = ", num(mc@logLik), ", iter = ", mc@iter, ", par = {",
    paste0("{", apply(lam(mc), 2, num), "}", collapse = ", "), "}, gamma = {",
    paste0("{", apply(gc, 2, num), "}", collapse = ", "), "}},\n")
  md <- fit(10000, conc = FLXPmultinom(cform), tol = 1e-12)   # plain flexmix: nnet's fit
  gd <- parameters(md, which = "concomitant")
  w("    flexmix_nnet = {loglik = ", num(md@logLik), ", iter = ", md@iter, ", par = {",
    paste0("{", apply(lam(md), 2, num), "}", collapse = ", "), "}, gamma = {",
    paste0("{", apply(gd, 2, num), "}", collapse = ", "), "}},\n  },\n")
}
case("npreg", yp ~ 1, ~ x, d, cl, 2, d[, "x", drop = FALSE])
case("pois3", cbind(y1, y2) ~ 1, ~ z1 + z2, p3, cl3, 3, p3[, c("z1", "z2")])
case("npreg_poisreg", yp ~ x, ~ yb, d, cl, 2, d[, "yb", drop = FALSE],
     model = FLXMRglm(family = "poisson"))
w("}\n")
close(out)
