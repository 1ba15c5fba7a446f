# hc_mclust.R: reference values for tests/lua/test_hc.lua from mclust (tested with mclust 6.0.0).
#   Rscript tests/reference/hc_mclust.R > tests/reference/hc_fixtures.lua   (from the top directory)
# 1. hclass(hc(X, modelName = M, use = U), 2:5): mclust's model-based hierarchical partitions,
#    each written as a string of labels (1..5, numbered by first appearance, as hclass does).
# 2. Mclust(X, G = k, modelNames = M) with mclust's own start (hc with mclust.options(): VVV on the
#    SVD-transformed data, every row as N < 2000) and a tight EM tolerance, so that the
#    log-likelihood is that of the converged optimum reached from the hc start.
suppressMessages(library(mclust))
sets <- list(faithful = NULL, diabetes = NULL, banknote = NULL, thyroid = NULL)
cat(sprintf("-- Made by tests/reference/hc_mclust.R with %s, mclust %s. Do not edit.\n",
            R.version.string, packageVersion("mclust")))
cat("return {\n  partitions = {\n")
for (f in names(sets)) {
  X <- read.csv(file.path("data", paste0(f, ".csv")))
  for (m in c("VVV", "EII", "VII", "EEE")) for (u in c("SVD", "VARS")) {
    cl <- hclass(hc(X, modelName = m, use = u), 2:5)
    for (k in 2:5)
      cat(sprintf("    {data = \"%s.csv\", model = \"%s\", use = \"%s\", k = %d, labels = \"%s\"},\n",
                  f, m, u, k, paste(cl[, as.character(k)], collapse = "")))
  }
}
W <- read.csv("data/faithful.csv")[, "waiting", drop = FALSE]
for (m in c("V", "E")) for (u in c("SVD", "VARS")) {
  cl <- hclass(hc(W, modelName = m, use = u), 2:5)
  for (k in 2:5)
    cat(sprintf("    {data = \"faithful.csv\", columns = {\"waiting\"}, model = \"%s\", use = \"%s\", k = %d, labels = \"%s\"},\n",
                m, u, k, paste(cl[, as.character(k)], collapse = "")))
}
cat("  },\n  em = {\n")
cov <- c(VVV = "full", VVI = "diag", VII = "spherical", EEE = "tied", EII = "tied_spherical")
ctl <- emControl(tol = c(1e-12, sqrt(.Machine$double.eps)), itmax = c(100000, 100000))
for (f in names(sets)) {
  X <- read.csv(file.path("data", paste0(f, ".csv")))
  for (m in names(cov)) for (k in 2:5) {
    fit <- Mclust(X, G = k, modelNames = m, control = ctl, verbose = FALSE)
    ll <- if (is.null(fit)) NaN else fit$loglik
    cat(sprintf("    {data = \"%s.csv\", covariance = \"%s\", r_model = \"%s\", k = %d, loglik = %.17g},\n",
                f, cov[[m]], m, k, ll))
  }
}
cat("  },\n}\n")
