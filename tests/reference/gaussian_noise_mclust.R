# gaussian_noise_mclust.R: reference values for tests/lua/test_gaussian_noise.lua from mclust's
# noise component (a uniform density 1/V over the data's hypervolume; Banfield and Raftery 1993).
#   Rscript tests/reference/gaussian_noise_mclust.R > tests/reference/gaussian_noise_fixtures.lua
# (from the top directory).  For data/diabetes.csv (145 x 3) and data/thyroid.csv (215 x 5),
# K = 1 to 5: the initial noise guess is the tenth of the rows farthest from the column means in
# standard units (squared distance above its 0.9 quantile); the other rows are partitioned by
# kmeans on the scaled columns (set.seed(1), 20 starts), and z = [unmap(labels) for the
# non-noise rows | noise indicator].  mixem starts from the parameters of mclust's M-step on z
# (mstep(modelName, data, z[, 1:K]), the weights z's column means, the noise's last), as me()'s
# first M-step makes them, and is compared with
# me(modelName, data, z, Vinv = hypvol(data, reciprocal = TRUE)) run to a tight tolerance
# (1e-13): its log-likelihood, its classification (map(z), 0 for the noise), BIC
# (2 loglik - npar log n with npar = nMclustParams(..., noise = TRUE)); and log V itself; and
# Mclust(data, G = 2, modelNames = "VVV", initialization = list(noise = guess))'s log-likelihood,
# mclust's own start from that guess (mclust_vvv2).
# VVE is left out: mclust 6.0.0's VVE M-step stops short of the maximum (see
# test_gaussian_models.lua), so mclust's me() does not give the optimum to compare with.
suppressMessages(library(mclust))
models <- c("EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE", "VEE", "EVE", "EEV", "VEV",
            "EVV", "VVV")
ctl <- emControl(tol = c(1e-13, 1e-13), itmax = c(100000, 100000))
num <- function(v) paste(sprintf("%.17g", v), collapse = ", ")
cat(sprintf("-- Made by tests/reference/gaussian_noise_mclust.R with %s, mclust %s. Do not edit.\n",
            R.version.string, packageVersion("mclust")))
cat("return {\n")
for (f in c("diabetes", "thyroid")) {
  X <- as.matrix(read.csv(file.path("data", paste0(f, ".csv"))))
  n <- nrow(X); d <- ncol(X)
  Vinv <- hypvol(X, reciprocal = TRUE)
  d2 <- rowSums(scale(X)^2)
  noise <- d2 > quantile(d2, 0.9)
  # Mclust's own fit from that noise guess (hc on the other rows), VVV with K = 2
  mc <- Mclust(X, G = 2, modelNames = "VVV", initialization = list(noise = noise), verbose = FALSE)
  cat(sprintf("  {data = \"data/%s.csv\", log_volume = %.17g, mclust_vvv2 = %.17g,\n   noise = \"%s\"},\n",
              f, -log(Vinv), mc$loglik, paste(as.integer(noise), collapse = "")))
  for (K in 1:5) {
    set.seed(1)
    lab <- kmeans(scale(X[!noise, ]), K, nstart = 20)$cluster
    z <- matrix(0, n, K + 1)
    z[!noise, 1:K] <- unmap(lab)
    z[noise, K + 1] <- 1
    for (m in models) {
      # mstep() knows no noise: it is given the K components' columns (its weights are then
      # theirs; the start's weights are z's column means, the noise's included).
      ms <- mstep(modelName = m, data = X, z = z[, 1:K], control = ctl)
      fit <- me(modelName = m, data = X, z = z, Vinv = Vinv, control = ctl)
      ok <- !is.null(fit$loglik) && is.finite(fit$loglik) && attr(fit, "returnCode") >= 0 &&
            !is.null(ms$parameters$variance$sigma)
      np <- nMclustParams(m, d, K, noise = TRUE)
      cat(sprintf("  {data = \"data/%s.csv\", model = \"%s\", k = %d, n_params = %d,\n",
                  f, m, K, np))
      if (ok) {
        cl <- apply(fit$z, 1, which.max)
        cl[cl == K + 1] <- 0
        cat(sprintf("   loglik = %.17g, bic = %.17g, noise_weight = %.17g,\n", fit$loglik,
                    2 * fit$loglik - np * log(n), fit$parameters$pro[K + 1]))
        cat(sprintf("   classification = \"%s\",\n", paste(cl, collapse = "")))
        cat(sprintf("   weights = {%s},\n   means = {", num(colMeans(z))))
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
