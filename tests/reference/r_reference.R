#!/usr/bin/env Rscript
## r_reference.R: R's best log-likelihoods on real data sets, cell by cell, for issue 19
## (mixem's defaults must reach at least what mclust and flexmix reach).
##
## Run from the top of the source tree, with Debian's r-base-core, r-cran-mclust and
## r-cran-flexmix installed:
##   Rscript tests/reference/r_reference.R
## It (1) exports the data sets to data/*.csv (numeric columns, header, comma-separated; iris.csv
## is already there and is read back, not written), (2) reads every CSV back, so that R and mixem
## fit the very same numbers, and (3) writes tests/reference/r_fixtures.lua, read by
## bench/r_cells.lua.
##
## Gaussian cells: mclust's Mclust(X, G = K, modelNames = M) with its defaults (model-based
## hierarchical agglomeration start on SVD-transformed data, mclust.options("hcUse") = "SVD"; no
## prior; EM to relative tolerance 1e-5). mixem's covariance names map to mclust's as
## full = VVV, diag = VVI, tied = EEE, spherical = VII, tied_spherical = EII.
## Bernoulli and binomial cells: flexmix's stepFlexmix(..., k = K, nrep = 20), the best of 20
## random starts, with control minprior = 0 (flexmix's default 0.05 drops small components, so a
## fit would end with fewer than K; with 0 every cell has exactly K) and the default
## iter.max = 200, tolerance = 1e-6. The Bernoulli model is FLXMCmvbinary(truncated = FALSE), the
## plain product of Bernoullis (flexmix's whiskey example uses truncated = TRUE, a different
## likelihood); the binomial model is FLXMRglm(cbind(s, n - s) ~ 1, family = "binomial"), one
## success probability per component.
##
## Comparability: every R log-likelihood recorded is checked against the plain sum over rows of
## w_i log sum_k pi_k p(x_i | k), recomputed here from the fitted parameters (mclust's dens();
## for flexmix by hand: x log mu + (1 - x) log(1 - mu) per cell, and dbinom(s, n, p, log = TRUE),
## which includes log C(n, s) as mixem's binomial log-density does); the script stops if they
## differ by more than a last EM step (see check_ll). Row weights (whiskey's Freq) are flexmix's weights = ~Freq,
## which count a row Freq times, as mixem's row weights do. The recomputed value is the one
## written (it is R's own final point, a little above what R reports). A cell where R returns
## no fit (mclust: NA/NULL, e.g. a singular covariance) is written with loglik = 0/0 (NaN) and
## a note.

suppressPackageStartupMessages({
  library(mclust)
  library(flexmix)
})

stopifnot(file.exists("data/iris.csv"))
out_lua <- "tests/reference/r_fixtures.lua"

## ---- 1. export ---------------------------------------------------------------------------
write_set <- function(df, name) {
  write.csv(df, file.path("data", name), row.names = FALSE, quote = FALSE)
}
write_set(datasets::faithful, "faithful.csv")
write_set(mclust::diabetes[, c("glucose", "insulin", "sspg")], "diabetes.csv")
write_set(mclust::banknote[, c("Length", "Left", "Right", "Bottom", "Top", "Diagonal")],
          "banknote.csv")
write_set(mclust::thyroid[, c("RT3U", "T4", "T3", "TSH", "DTSH")], "thyroid.csv")
data("whiskey", package = "flexmix", envir = environment())
wh <- as.data.frame(whiskey$Incidence)
## "Black & White" -> Black_White, "Grant's" -> Grant_s, "Pinch (Haig)" -> Pinch_Haig
names(wh) <- sub("_$", "", gsub("[^A-Za-z0-9]+", "_", colnames(whiskey$Incidence)))
wh$Freq <- whiskey$Freq
write_set(wh, "whiskey.csv")
data("betablocker", package = "flexmix", envir = environment())
write_set(betablocker[, c("Deaths", "Total")], "betablocker.csv")
data("Mehta", package = "flexmix", envir = environment())
write_set(data.frame(Response = Mehta$Response, Total = Mehta$Total), "mehta.csv")

## ---- 2. fits -----------------------------------------------------------------------------
cells <- list()
add <- function(...) cells[[length(cells) + 1]] <<- list(...)
## R reports the log-likelihood of its last E-step, before the last M-step (mclust's me() and
## flexmix both), so the value at its final parameters is a little higher: allow recomputed -
## reported in [-1e-8, 1e-3] relative. A different definition (a missing log C(n, s), unweighted
## rows) would be far outside.
check_ll <- function(reported, recomputed, what) {
  d <- (recomputed - reported) / abs(reported)
  if (!is.finite(d) || d < -1e-8 || d > 1e-3)
    stop(sprintf("%s: reported log-likelihood %.10g, recomputed %.10g", what, reported, recomputed))
}

gauss_sets <- list(faithful = "faithful.csv", iris = "iris.csv", diabetes = "diabetes.csv",
                   banknote = "banknote.csv", thyroid = "thyroid.csv")
gauss_models <- c(VVV = "full", VVI = "diag", EEE = "tied", VII = "spherical",
                  EII = "tied_spherical")
for (set in names(gauss_sets)) {
  X <- read.csv(file.path("data", gauss_sets[[set]]), check.names = FALSE)
  for (M in names(gauss_models)) {
    for (K in 1:5) {
      warns <- character(0)
      fit <- withCallingHandlers(
        tryCatch(Mclust(X, G = K, modelNames = M, verbose = FALSE), error = function(e) NULL),
        warning = function(w) { warns <<- c(warns, conditionMessage(w)); invokeRestart("muffleWarning") })
      src <- sprintf("mclust %s Mclust(%s, G = %d, modelNames = '%s')",
                     packageVersion("mclust"), set, K, M)
      if (is.null(fit) || !is.finite(fit$loglik)) {
        add(data = gauss_sets[[set]], family = "gaussian", covariance = gauss_models[[M]],
            r_model = M, k = K, columns = names(X), loglik = NaN, source = src,
            note = paste(c("Mclust returned no fit", warns), collapse = "; "))
        next
      }
      ll <- sum(dens(data = X, modelName = fit$modelName, parameters = fit$parameters,
                     logarithm = TRUE))
      check_ll(fit$loglik, ll, src)
      add(data = gauss_sets[[set]], family = "gaussian", covariance = gauss_models[[M]],
          r_model = M, k = K, columns = names(X), loglik = ll, r_reported = fit$loglik,
          source = src)
    }
  }
}

## flexmix: the best of nrep starts, minprior = 0.
NREP <- 20
fx_control <- list(minprior = 0)

W <- read.csv("data/whiskey.csv", check.names = FALSE)
brands <- setdiff(names(W), "Freq")
Wdf <- data.frame(Freq = W$Freq)
Wdf$Incidence <- as.matrix(W[, brands])
for (K in 1:6) {
  set.seed(19 + K)
  fit <- stepFlexmix(Incidence ~ 1, data = Wdf, weights = ~Freq, k = K, nrep = NREP,
                     model = FLXMCmvbinary(truncated = FALSE), control = fx_control,
                     verbose = FALSE)
  stopifnot(fit@k == K)
  mu <- parameters(fit)                      # brands x K
  mu <- matrix(mu, ncol = K)
  pri <- prior(fit)
  Y <- as.matrix(W[, brands])
  ## dbinom(, 1, ) so that a brand with mu exactly 0 or 1 gives 0 log 0 = 0, not NaN
  lc <- sapply(1:K, function(k)
    log(pri[k]) + rowSums(matrix(dbinom(Y, 1, rep(mu[, k], each = nrow(Y)), log = TRUE), nrow(Y))))
  lc <- matrix(lc, ncol = K)
  mx <- apply(lc, 1, max)
  ll <- sum(W$Freq * (mx + log(rowSums(exp(lc - mx)))))
  src <- sprintf("flexmix %s stepFlexmix(Incidence ~ 1, weights = ~Freq, k = %d, nrep = %d, model = FLXMCmvbinary(truncated = FALSE), control = list(minprior = 0))",
                 packageVersion("flexmix"), K, NREP)
  check_ll(as.numeric(logLik(fit)), ll, src)
  add(data = "whiskey.csv", family = "bernoulli", r_model = "mvbinary", k = K,
      columns = brands, weights = "Freq", loglik = ll, r_reported = as.numeric(logLik(fit)),
      source = src)
}

binom_sets <- list(list(file = "betablocker.csv", s = "Deaths", n = "Total", K = 1:4),
                   list(file = "mehta.csv", s = "Response", n = "Total", K = 1:4))
for (b in binom_sets) {
  B <- read.csv(file.path("data", b$file))
  B$s <- B[[b$s]]
  B$f <- B[[b$n]] - B[[b$s]]
  for (K in b$K) {
    set.seed(19 + K)
    fit <- stepFlexmix(cbind(s, f) ~ 1, data = B, k = K, nrep = NREP,
                       model = FLXMRglm(family = "binomial"), control = fx_control,
                       verbose = FALSE)
    stopifnot(fit@k == K)
    pars <- parameters(fit)                 # a named vector when K = 1
    p <- plogis(as.numeric(if (is.null(dim(pars))) pars else pars["coef.(Intercept)", ]))
    pri <- prior(fit)
    lc <- sapply(1:K, function(k) log(pri[k]) + dbinom(B$s, B[[b$n]], p[k], log = TRUE))
    lc <- matrix(lc, ncol = K)
    mx <- apply(lc, 1, max)
    ll <- sum(mx + log(rowSums(exp(lc - mx))))
    src <- sprintf("flexmix %s stepFlexmix(cbind(%s, %s - %s) ~ 1, k = %d, nrep = %d, model = FLXMRglm(family = 'binomial'), control = list(minprior = 0))",
                   packageVersion("flexmix"), b$s, b$n, b$s, K, NREP)
    check_ll(as.numeric(logLik(fit)), ll, src)
    add(data = b$file, family = "binomial", r_model = "glm-binomial", k = K,
        columns = c(b$s, b$n), trials = b$n, loglik = ll,
        r_reported = as.numeric(logLik(fit)), source = src)
  }
}

## ---- 3. write the Lua table --------------------------------------------------------------
q <- function(s) paste0('"', gsub('"', '\\\\"', s), '"')
num <- function(x) if (is.nan(x)) "0/0" else sprintf("%.17g", x)
lines <- c(
  sprintf("-- Made by tests/reference/r_reference.R with %s, mclust %s, flexmix %s. Do not edit.",
          R.version.string, packageVersion("mclust"), packageVersion("flexmix")),
  "-- loglik: R's best log-likelihood, the plain sum over rows of (row weight *) log sum_k w_k p(x | k),",
  "-- recomputed from R's fitted parameters; binomial densities include log C(n, s). 0/0: R gave no fit.",
  "-- r_reported: the value R itself reports (its last E-step, one M-step before its final parameters).",
  "return {")
for (c in cells) {
  f <- c(sprintf("data = %s", q(c$data)), sprintf("family = %s", q(c$family)))
  if (!is.null(c$covariance)) f <- c(f, sprintf("covariance = %s", q(c$covariance)))
  f <- c(f, sprintf("r_model = %s", q(c$r_model)), sprintf("k = %d", c$k),
         sprintf("columns = {%s}", paste(sapply(c$columns, q), collapse = ", ")))
  if (!is.null(c$weights)) f <- c(f, sprintf("weights = %s", q(c$weights)))
  if (!is.null(c$trials)) f <- c(f, sprintf("trials = %s", q(c$trials)))
  f <- c(f, sprintf("loglik = %s", num(c$loglik)))
  if (!is.null(c$r_reported)) f <- c(f, sprintf("r_reported = %s", num(c$r_reported)))
  f <- c(f, sprintf("source = %s", q(c$source)))
  if (!is.null(c$note)) f <- c(f, sprintf("note = %s", q(c$note)))
  lines <- c(lines, sprintf("  {%s},", paste(f, collapse = ", ")))
}
lines <- c(lines, "}")
writeLines(lines, out_lua)
cat(sprintf("wrote %d cells to %s\n", length(cells), out_lua))
