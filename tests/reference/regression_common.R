# regression_common.R: fixtures for tests/lua/test_regression_common.lua (the option "common" of
# linreg and poisreg: coefficients shared by all components, flexmix's FLXMRglmfix(fixed = ~ x))
# on flexmix's NPreg data (tests/data/npreg.csv, written by regression_flexmix.R), K = 2, from the
# partition of regression_flexmix.R:
#   poisson  yp ~ 1 + x, x common (component intercepts, one slope): flexmix's FLXMRglmfix(fixed = ~ x,
#            family = "poisson") from the same start, run to its fixed point (tolerance 0, 4000
#            iterations; checked against 2000 to 1e-12), its logLik and BIC;
#   binomial flexmix's betablocker, Deaths out of Total ~ 1 + treat, treat common: the same, with
#            flexmix's FLXMRglmfix(fixed = ~ treat, family = "binomial");
#   gaussian yn ~ 1 + x + x2, x common: flexmix's gaussian FLXMRglmfix is not maximum likelihood
#            (its sigma divides by n - df/K, and its stacked least squares weights the rows by the
#            posterior alone, not by posterior / sigma_k^2), so the reference is the EM written
#            out below with lm.wfit on the stacked design (the same construction as FLXMRglmfix):
#            shared variance (exact EM) and a variance per component (ECM: coefficients by
#            weighted least squares at the current sigma_k, then sigma_k), after 1 and 5
#            iterations and at convergence (3000 iterations; checked against 1500 to 1e-12).
#            flexmix's varFix = TRUE fit is reported on stderr for comparison only.
# The start: the stacked fit (lm.wfit, glm.fit) on the partition's 0/1 weights; sigma_0 the ML one
# of each part (shared: pooled).  Log-likelihoods are recomputed from the parameters (dnorm, dpois).
# Run from the top of the tree:  Rscript tests/reference/regression_common.R
suppressMessages(library(flexmix))
d <- read.csv("tests/data/npreg.csv")
n <- nrow(d)
data("NPreg", package = "flexmix")
stopifnot(max(abs(d$x - NPreg$x)) < 1e-12)   # the CSV holds 15 digits; both use it
cl <- ifelse(seq_len(n) %% 3 == 0, 1L, 2L)   # the partition of regression_flexmix.R
cl[NPreg$class == 1 & seq_len(n) %% 2 == 0] <- 1L
out <- file("tests/reference/regression_common_fixtures.lua", "w")
w <- function(...) cat(..., file = out, sep = "")
num <- function(v) paste(sprintf("%.17g", v), collapse = ", ")
w("-- made by tests/reference/regression_common.R with ", R.version.string, ", flexmix ",
  as.character(packageVersion("flexmix")), "\nreturn {\n")
lse <- function(a) { m <- max(a); m + log(sum(exp(a - m))) }
post_of <- function(ld) exp(ld - apply(ld, 1, lse))
w0 <- as.numeric(table(cl)) / n
R0 <- cbind(as.numeric(cl == 1), as.numeric(cl == 2))

# Stacked design for K = 2: component k's rows have its specific columns (intercept, SPEC) in its
# own block and the common columns (COMMON) shared; coefficients (b_1S, b_2S, b_C).
stack <- function(spec, common) {
  S <- if (is.null(spec)) matrix(1, n, 1) else cbind(1, spec)
  rbind(cbind(S, 0 * S, common), cbind(0 * S, S, common))
}
beta_of <- function(u, ps) {   # per component, in the order (intercept, SPEC..., COMMON...)
  pc <- length(u) - 2 * ps
  sapply(1:2, function(k) c(u[(k - 1) * ps + seq_len(ps)], u[2 * ps + seq_len(pc)]))
}

# Poisson, yp ~ x with x common.
Xs <- stack(NULL, d$x)
u0 <- suppressWarnings(glm.fit(Xs, c(d$yp, d$yp), weights = c(R0), family = poisson()))$coefficients
fit <- function(it) flexmix(yp ~ 1, data = d, k = 2, cluster = cl,
                            model = FLXMRglmfix(fixed = ~ x, family = "poisson"),
                            control = list(iter.max = it, tolerance = 0, minprior = 0))
m <- fit(4000)
half <- fit(2000)
stopifnot(max(abs(parameters(m) - parameters(half))) < 1e-12)
b <- parameters(m)[c("coef.(Intercept)", "coef.x"), ]
pll <- sum(apply(sapply(1:2, function(k) log(prior(m)[k]) +
                          dpois(d$yp, exp(cbind(1, d$x) %*% b[, k]), log = TRUE)), 1, lse))
stopifnot(abs(pll - as.numeric(logLik(m))) < 1e-9 * abs(pll))
w("  poisson = {w0 = {", num(w0), "}, beta0 = {{", num(beta_of(u0, 1)[, 1]), "}, {",
  num(beta_of(u0, 1)[, 2]), "}},\n    loglik = ", sprintf("%.17g", pll), ", bic = ",
  sprintf("%.17g", BIC(m)), ", df = ", attr(logLik(m), "df"), ", weights = {", num(prior(m)),
  "},\n    beta = {{", num(b[, 1]), "}, {", num(b[, 2]), "}}},\n")

# Binomial on flexmix's betablocker (tests/data/betablocker_treat.csv): Deaths out of Total ~
# treat with treat common (a centre effect per component, one treatment effect), from the
# partition of regression_flexmix.R (death rate above 9%).
bb <- read.csv("tests/data/betablocker_treat.csv")
nb <- nrow(bb)
clb <- ifelse(bb$Deaths / bb$Total > 0.09, 1L, 2L)
Rb <- cbind(as.numeric(clb == 1), as.numeric(clb == 2))
Sb <- matrix(1, nb, 1)
Xb <- rbind(cbind(Sb, 0 * Sb, bb$treat), cbind(0 * Sb, Sb, bb$treat))
yy <- rbind(cbind(bb$Deaths, bb$Total - bb$Deaths), cbind(bb$Deaths, bb$Total - bb$Deaths))
ub <- suppressWarnings(glm.fit(Xb, yy, weights = c(Rb), family = binomial()))$coefficients
fitb <- function(it) flexmix(cbind(Deaths, Total - Deaths) ~ 1, data = bb, k = 2, cluster = clb,
                             model = FLXMRglmfix(fixed = ~ treat, family = "binomial"),
                             control = list(iter.max = it, tolerance = 0, minprior = 0))
m <- fitb(4000)
half <- fitb(2000)
stopifnot(max(abs(parameters(m) - parameters(half))) < 1e-12)
b <- parameters(m)[c("coef.(Intercept)", "coef.treat"), ]
bll <- sum(apply(sapply(1:2, function(k) log(prior(m)[k]) +
                          dbinom(bb$Deaths, bb$Total, plogis(cbind(1, bb$treat) %*% b[, k]), log = TRUE)),
                 1, lse))
stopifnot(abs(bll - as.numeric(logLik(m))) < 1e-9 * abs(bll))
w("  binomial = {w0 = {", num(as.numeric(table(clb)) / nb), "}, beta0 = {{", num(beta_of(ub, 1)[, 1]),
  "}, {", num(beta_of(ub, 1)[, 2]), "}},\n    loglik = ", sprintf("%.17g", bll), ", bic = ",
  sprintf("%.17g", BIC(m)), ", df = ", attr(logLik(m), "df"), ", weights = {", num(prior(m)),
  "},\n    beta = {{", num(b[, 1]), "}, {", num(b[, 2]), "}}},\n")

# Gaussian, yn ~ x + x2 with x common.
Xs <- stack(d$x2, d$x)
X <- cbind(1, d$x2, d$x)   # a component's design in the order of beta_of
y2 <- c(d$yn, d$yn)
u0 <- lm.wfit(Xs, y2, c(R0))$coefficients
B0 <- beta_of(u0, 2)
res0 <- sapply(1:2, function(k) d$yn - X %*% B0[, k])
for (shared in c(TRUE, FALSE)) {
  s0 <- if (shared) rep(sqrt(sum(R0 * res0^2) / n), 2) else sqrt(colSums(R0 * res0^2) / colSums(R0))
  em <- function(iters) {
    B <- B0; s <- s0; pr <- w0
    for (it in seq_len(iters)) {
      post <- post_of(sapply(1:2, function(k) log(pr[k]) + dnorm(d$yn, X %*% B[, k], s[k], log = TRUE)))
      pr <- colMeans(post)
      B <- beta_of(lm.wfit(Xs, y2, c(post %*% diag(1 / s^2)))$coefficients, 2)
      rss <- sapply(1:2, function(k) sum(post[, k] * (d$yn - X %*% B[, k])^2))
      s <- if (shared) rep(sqrt(sum(rss) / n), 2) else sqrt(rss / colSums(post))
    }
    ll <- sum(apply(sapply(1:2, function(k) log(pr[k]) + dnorm(d$yn, X %*% B[, k], s[k], log = TRUE)),
                    1, lse))
    list(B = B, s = s, pr = pr, ll = ll)
  }
  name <- if (shared) "shared" else "component"
  w("  ", name, " = {w0 = {", num(w0), "}, beta0 = {{", num(B0[, 1]), "}, {", num(B0[, 2]),
    "}}, sigma0 = {", num(s0), "},\n")
  conv <- em(3000)
  half <- em(1500)
  stopifnot(max(abs(conv$B - half$B)) < 1e-12, abs(conv$ll - half$ll) < 1e-12 * abs(conv$ll))
  for (it in c(1, 5, 3000)) {
    r <- if (it == 3000) conv else em(it)
    w("    [", it, "] = {loglik = ", sprintf("%.17g", r$ll), ", weights = {", num(r$pr),
      "}, beta = {{", num(r$B[, 1]), "}, {", num(r$B[, 2]), "}}, sigma = {", num(r$s), "}},\n")
  }
  w("  },\n")
  if (shared) {
    fm <- flexmix(yn ~ x2, data = d, k = 2, cluster = cl,
                  model = FLXMRglmfix(fixed = ~ x, varFix = TRUE, family = "gaussian"),
                  control = list(iter.max = 3000, tolerance = 0, minprior = 0))
    message("flexmix varFix = TRUE (sigma over n - df/K): logLik ", format(as.numeric(logLik(fm)), digits = 12),
            ", coefficients\n", paste(capture.output(print(parameters(fm))), collapse = "\n"),
            "\nthe ML EM above: loglik ", format(conv$ll, digits = 12))
  }
}
w("}\n")
close(out)
