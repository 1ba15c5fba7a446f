# gaussian_prior_mclust.R: reference values for tests/lua/test_gaussian_prior.lua from mclust's
# conjugate prior (priorControl(), defaultPrior; Fraley and Raftery 2007).
#   Rscript tests/reference/gaussian_prior_mclust.R > tests/reference/gaussian_prior_fixtures.lua
# (from the top directory).  For data/diabetes.csv (145 x 3) and data/thyroid.csv (215 x 5),
# K = 2 to 5, the fixed partition of gaussian_models_mclust.R (kmeans on the scaled columns,
# set.seed(1), 20 starts); the parameters of mclust's MAP M-step from it
# (mstep(modelName, data, z = unmap(labels), prior = priorControl())), which mixem takes as its
# start, and me(modelName, data, z, prior = priorControl()) run to a tight tolerance (1e-13): its
# log-likelihood at the MAP estimate and BIC (2 loglik - npar log n, as mclust's with a prior).
# The ten models mclust (and mixem) has the prior for: EII, VII, EEI, VEI, EVI, VVI, EEE,
# EEV, VEV, VVV; one component; one column.
suppressMessages(library(mclust))
models <- c("EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE", "EEV", "VEV", "VVV")
ctl <- emControl(tol = c(1e-13, 1e-13), itmax = c(100000, 100000))
num <- function(v) paste(sprintf("%.17g", v), collapse = ", ")
cat(sprintf("-- Made by tests/reference/gaussian_prior_mclust.R with %s, mclust %s. Do not edit.\n",
            R.version.string, packageVersion("mclust")))
cat("return {\n")
for (f in c("diabetes", "thyroid")) {
  X <- as.matrix(read.csv(file.path("data", paste0(f, ".csv"))))
  n <- nrow(X); d <- ncol(X)
  for (K in 2:5) {
    set.seed(1)
    lab <- kmeans(scale(X), K, nstart = 20)$cluster
    z <- unmap(lab)
    for (m in models) {
      ms <- mstep(modelName = m, data = X, z = z, prior = priorControl(), control = ctl)
      fit <- me(modelName = m, data = X, z = z, prior = priorControl(), control = ctl)
      ok <- !is.null(fit$loglik) && is.finite(fit$loglik) && attr(fit, "returnCode") >= 0
      cat(sprintf("  {data = \"data/%s.csv\", model = \"%s\", k = %d, n_params = %d,\n",
                  f, m, K, nMclustParams(m, d, K)))
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
# One component: mclustBIC(X, G = 1, prior = priorControl()) (mclust's mvn* functions, no EM).
for (f in c("diabetes", "thyroid")) {
  X <- as.matrix(read.csv(file.path("data", paste0(f, ".csv"))))
  b <- mclustBIC(X, G = 1, modelNames = models, prior = priorControl())
  for (m in models)
    cat(sprintf("  {data = \"data/%s.csv\", model = \"%s\", k = 1, one = true, bic = %.17g},\n", f, m,
                b[1, m]))
}
# One column (diabetes' glucose, K = 2, kmeans on it, set.seed(1)): mclust's E and V models
# (me1ep, me1vp), which mixem's E and V models (EII, EEI, EVI, EEE, EEV; VII, VVI, VVV) follow.
X <- as.matrix(read.csv("data/diabetes.csv"))[, "glucose"]
set.seed(1)
z <- unmap(kmeans(X, 2, nstart = 20)$cluster)
for (m in c("E", "V")) {
  ms <- mstep(modelName = m, data = X, z = z, prior = priorControl(), control = ctl)
  fit <- me(modelName = m, data = X, z = z, prior = priorControl(), control = ctl)
  cat(sprintf("  {data = \"data/diabetes.csv\", column = \"glucose\", model = \"%s\", k = 2,\n", m))
  cat(sprintf("   loglik = %.17g, weights = {%s}, means = {%s}, vars = {%s}},\n", fit$loglik,
              num(ms$parameters$pro), num(ms$parameters$mean),
              num(rep(ms$parameters$variance$sigmasq, length.out = 2))))
}
cat("}\n")
