# regression_gamma.R: fixtures for tests/lua/test_regression.lua's gammareg (a mixture of gamma
# regressions with a log link and a shape per component, fitted by maximum likelihood) and its
# data, tests/data/gammareg.csv: 300 rows, x uniform on (0, 3), two groups (40% and 60%) with
# means exp(0.5 + 0.8 x) and exp(2 - 0.3 x) and shapes 5 and 12.
# flexmix's FLXMRglm(family = "Gamma") is no reference: it has the inverse link, and its shape is
# the moment-like sum(weights) / deviance, not the maximum-likelihood one.  So EM is written out
# here: the E-step with dgamma; the M-step glm.fit(x, y, weights = posterior, family =
# Gamma(link = "log"), start = the component's coefficients), which is gammareg's M-step with
# mstep = "irls" (the coefficients' maximiser does not depend on the shape), then each shape
# solving log a - digamma(a) = D / (2 W) (D the component's weighted deviance at its new
# coefficients, W its weight) by Newton's method to the last bits (and checked).
# The start: each part of a partition (y above its median or not) fitted alone (glm.fit with 0/1
# weights and glm's own start, the shape as above); mixem starts from it.  Written: theta after
# 1, 5 and 300 iterations (300: converged; checked against 250 to 1e-12).
# Run from the top of the tree:  Rscript tests/reference/regression_gamma.R
set.seed(13)
n <- 300
x <- runif(n, 0, 3)
z <- ifelse(runif(n) < 0.4, 1, 2)
mu <- ifelse(z == 1, exp(0.5 + 0.8 * x), exp(2 - 0.3 * x))
a <- ifelse(z == 1, 5, 12)
y <- rgamma(n, shape = a, rate = a / mu)
write.csv(data.frame(x = round(x, 4), y = signif(y, 6)), "tests/data/gammareg.csv",
          row.names = FALSE, quote = FALSE)
d <- read.csv("tests/data/gammareg.csv")   # the values mixem reads
X <- cbind(1, d$x)
y <- d$y
K <- 2

solve_shape <- function(s) {
  a <- (3 - s + sqrt((s - 3)^2 + 24 * s)) / (12 * s)
  for (i in 1:100) {
    nxt <- a - (log(a) - digamma(a) - s) / (1 / a - trigamma(a))
    if (nxt <= 0) nxt <- a / 2
    step <- abs(nxt - a)
    a <- nxt
    if (step <= 4 * .Machine$double.eps * a) break
  }
  stopifnot(abs(log(a) - digamma(a) - s) < 1e-13 * s)
  a
}
mstep <- function(q, B) {
  shape <- numeric(K)
  for (k in 1:K) {
    f <- glm.fit(X, y, weights = q[, k], family = Gamma(link = "log"),
                 start = if (is.null(B)) NULL else B[, k])
    stopifnot(f$converged)
    if (is.null(B)) B <- matrix(0, ncol(X), K)
    B[, k] <- f$coefficients
    mu <- exp(X %*% B[, k])
    D <- sum(q[, k] * -2 * (log(y / mu) - (y - mu) / mu))
    shape[k] <- solve_shape(D / (2 * sum(q[, k])))
  }
  list(B = B, shape = shape)
}
logjoint <- function(th) sapply(1:K, function(k)
  log(th$w[k]) + dgamma(y, shape = th$shape[k], scale = exp(X %*% th$B[, k]) / th$shape[k], log = TRUE))
lse <- function(a) { m <- max(a); m + log(sum(exp(a - m))) }
loglik <- function(th) sum(apply(logjoint(th), 1, lse))

cl <- ifelse(y > median(y), 1, 2)
q0 <- cbind(as.numeric(cl == 1), as.numeric(cl == 2))
th <- c(list(w = colMeans(q0)), mstep(q0, NULL))
out <- file("tests/reference/regression_gamma_fixtures.lua", "w")
w <- function(...) cat(..., file = out, sep = "")
num <- function(v) paste(sprintf("%.17g", v), collapse = ", ")
w("-- made by tests/reference/regression_gamma.R with ", R.version.string, "\nreturn {\n")
w("  w0 = {", num(th$w), "}, beta0 = {{", num(th$B[, 1]), "}, {", num(th$B[, 2]),
  "}}, shape0 = {", num(th$shape), "},\n")
keep <- list()
for (t in 1:300) {
  lj <- logjoint(th)
  q <- exp(lj - apply(lj, 1, lse))
  th <- c(list(w = colMeans(q)), mstep(q, th$B))
  if (t %in% c(1, 5, 250, 300)) keep[[as.character(t)]] <- th
}
stopifnot(max(abs(unlist(keep[["250"]]) - unlist(keep[["300"]]))) < 1e-12)
for (t in c(1, 5, 300)) {
  th <- keep[[as.character(t)]]
  w("  [", t, "] = {loglik = ", sprintf("%.17g", loglik(th)), ", weights = {", num(th$w),
    "}, beta = {{", num(th$B[, 1]), "}, {", num(th$B[, 2]), "}}, shape = {", num(th$shape), "}},\n")
}
w("}\n")
close(out)
