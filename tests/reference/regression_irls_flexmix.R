# regression_irls_flexmix.R: fixtures for tests/lua/test_regression.lua's parity of poisreg and
# logitreg (mstep = "irls") with flexmix's FLXMRglm along the path, not only at the fixed point:
# the parameters after 1 and 5 EM iterations from the same start.  The cases and starts are those
# of regression_flexmix.R: NPreg yp ~ x (poisson; tests/data/npreg.csv) and yb ~ x (binomial, one
# trial a row) from the fixed partition,
# and betablocker cbind(Deaths, Total - Deaths) ~ treat (binomial; tests/data/betablocker_treat.csv)
# from the death-rate partition.
# theta_0: flexmix's first M-step from the partition (flexmix's start gives each row posterior 0.9
# in its part and 0.1 in the other: the weights are their means, the coefficients glm.fit's with
# those posteriors as weights and glm's own start); mixem starts from it.  flexmix's M-step is glm.fit(x, y, weights = posterior,
# start = the component's coefficients) run to glm.control()'s convergence, so flexmix with
# iter.max = 1 + t (tolerance 0, minprior 0) holds mixem's theta_t: its coefficients and its
# logLik (l at theta_t, the last E-step's).  Its prior() is the mean of the last posterior, the
# weights of the next M-step: mixem's w_t is prior() of the run with iter.max = t.  The
# log-likelihood is recomputed from (w_t, b_t) with dpois / dbinom and checked against flexmix's.
# Run from the top of the tree:  Rscript tests/reference/regression_irls_flexmix.R
# It writes tests/reference/regression_irls_fixtures.lua.
suppressMessages(library(flexmix))
out <- file("tests/reference/regression_irls_fixtures.lua", "w")
w <- function(...) cat(..., file = out, sep = "")
num <- function(v) paste(sprintf("%.17g", v), collapse = ", ")
lse <- function(a) { m <- max(a); m + log(sum(exp(a - m))) }
w("-- made by tests/reference/regression_irls_flexmix.R with ", R.version.string, ", flexmix ",
  as.character(packageVersion("flexmix")), "\nreturn {\n")

irls_case <- function(name, form, fam, data, cl, y, X, trials = NULL) {
  fit <- function(it) flexmix(form, data = data, k = 2, cluster = cl, model = FLXMRglm(family = fam),
                              control = list(iter.max = it, tolerance = 0, minprior = 0))
  # flexmix's start from a partition: posteriors 0.9 in the row's part, 0.1 in the other
  # (initPosteriors); its first M-step: those means as the weights, glm.fit with those weights.
  post <- log(cbind(ifelse(cl == 1, 0.9, 0.1), ifelse(cl == 2, 0.9, 0.1)))
  post <- exp(post - flexmix:::log_row_sums(post))   # as FLXfit scales them
  w0 <- colMeans(post)
  b0 <- parameters(fit(1))
  yy <- if (fam == "poisson") y else cbind(y, trials - y)
  g0 <- sapply(1:2, function(k) glm.fit(X, yy, weights = post[, k], family = get(fam)())$coefficients)
  stopifnot(max(abs(g0 - b0)) < 1e-14)
  ll <- function(B, pr) sum(apply(sapply(1:2, function(k) {
    eta <- X %*% B[, k]
    log(pr[k]) + if (fam == "poisson") dpois(y, exp(eta), log = TRUE)
                 else dbinom(y, trials, plogis(eta), log = TRUE) }), 1, lse))
  w("  ", name, " = {w0 = {", num(w0),
    "}, beta0 = {{", num(b0[, 1]), "}, {", num(b0[, 2]), "}},\n")
  for (t in c(1, 5)) {
    m <- fit(1 + t)
    b <- parameters(m)
    wt <- prior(fit(t))
    l <- ll(b, wt)
    stopifnot(abs(l - m@logLik) < 1e-12 * abs(l))
    w("    [", t, "] = {loglik = ", sprintf("%.17g", l), ", weights = {", num(wt),
      "}, beta = {{", num(b[, 1]), "}, {", num(b[, 2]), "}}},\n")
  }
  w("  },\n")
}

d <- read.csv("tests/data/npreg.csv")
n <- nrow(d)
data("NPreg", package = "flexmix")
stopifnot(all(d$yp == NPreg$yp))
cl <- ifelse(seq_len(n) %% 3 == 0, 1L, 2L)   # regression_flexmix.R's partition
cl[NPreg$class == 1 & seq_len(n) %% 2 == 0] <- 1L
irls_case("poisson", yp ~ x, "poisson", d, cl, d$yp, cbind(1, d$x))
# NPreg's one-trial yb ~ x: separation sets in only late along flexmix's path (see
# regression_flexmix.R), so the first iterations are well defined.
irls_case("binomial_npreg", cbind(yb, 1 - yb) ~ x, "binomial", d, cl, d$yb, cbind(1, d$x), rep(1, n))
bb <- read.csv("tests/data/betablocker_treat.csv")
irls_case("binomial", cbind(Deaths, Total - Deaths) ~ treat, "binomial", bb,
          ifelse(bb$Deaths / bb$Total > 0.09, 1L, 2L), bb$Deaths, cbind(1, bb$treat), bb$Total)
w("}\n")
close(out)
