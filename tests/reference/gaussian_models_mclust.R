# gaussian_models_mclust.R: reference values for tests/lua/test_gaussian_models.lua from mclust
# (the 14 parsimonious Gaussian models of Celeux and Govaert, 1995).
#   Rscript tests/reference/gaussian_models_mclust.R > tests/reference/gaussian_models_fixtures.lua
# (from the top directory).  For the data sets data/diabetes.csv (145 x 3) and data/thyroid.csv
# (215 x 5), K = 1 to 5: a fixed partition (kmeans on the scaled columns, set.seed(1), 20
# starts), written as a string of labels; the parameters of mclust's M-step from that partition
# (mstep(modelName, data, z = unmap(labels))), which mixem takes as its start (EM from them is
# mclust's me() from z, one M-step on); and me(modelName, data, z = unmap(labels)) run to a tight
# tolerance (outer 1e-13, inner 1e-13), its log-likelihood, BIC (2 loglik - npar log n, mclust's
# sign) and parameter counts (nVarParams, nMclustParams).  A fit mclust cannot finish (a
# singular covariance) is written with loglik = nil.
suppressMessages(library(mclust))
models <- c("EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE", "VEE", "EVE", "VVE", "EEV", "VEV",
            "EVV", "VVV")
ctl <- emControl(tol = c(1e-13, 1e-13), itmax = c(100000, 100000))
num <- function(v) paste(sprintf("%.17g", v), collapse = ", ")
cat(sprintf("-- Made by tests/reference/gaussian_models_mclust.R with %s, mclust %s. Do not edit.\n",
            R.version.string, packageVersion("mclust")))
cat("return {\n")
for (f in c("diabetes", "thyroid")) {
  X <- as.matrix(read.csv(file.path("data", paste0(f, ".csv"))))
  n <- nrow(X); d <- ncol(X)
  for (K in 1:5) {
    set.seed(1)
    lab <- kmeans(scale(X), K, nstart = 20)$cluster
    z <- unmap(lab)
    for (m in models) {
      ms <- mstep(modelName = m, data = X, z = z, control = ctl)
      fit <- me(modelName = m, data = X, z = z, control = ctl)
      ok <- !is.null(fit$loglik) && is.finite(fit$loglik) && attr(fit, "returnCode") >= 0 &&
            !is.null(ms$parameters$variance$sigma)
      cat(sprintf("  {data = \"data/%s.csv\", model = \"%s\", k = %d, n_var_params = %d, n_params = %d,\n",
                  f, m, K, nVarParams(m, d, K), nMclustParams(m, d, K)))
      cat(sprintf("   labels = \"%s\",\n", paste(lab, collapse = "")))
      if (ok) {
        cat(sprintf("   loglik = %.17g, bic = %.17g, iters = %d,\n", fit$loglik,
                    2 * fit$loglik - nMclustParams(m, d, K) * log(n), as.integer(attr(fit, "info")[1])))
        cat(sprintf("   weights = {%s},\n   means = {", num(ms$parameters$pro)))
        for (k in 1:K) cat(sprintf("{%s}, ", num(ms$parameters$mean[, k])))
        cat("},\n   covs = {")
        for (k in 1:K) {
          S <- ms$parameters$variance$sigma[, , k]
          cat("{", paste(sapply(1:d, function(i) sprintf("{%s}", num(S[i, ]))), collapse = ", "), "}, ")
        }
        cat("}},\n")
      } else cat("   loglik = nil},\n")
    }
  }
}
cat("}\n")
