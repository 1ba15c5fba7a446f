# nnclean_prabclus.R: reference values for tests/lua/test_nnclean.lua from prabclus's NNclean
# (Byers and Raftery 1998: nearest-neighbour clutter removal), the noise guess of mclust's
# examples, Mclust(X, initialization = list(noise = (NNclean(X, k = 5)$z == 0))).
#   Rscript tests/reference/nnclean_prabclus.R > tests/reference/nnclean_fixtures.lua
# (from the top directory).  Data: "sim", 160 rows of two Gaussian clusters in the plane and
# 40 rows uniform on a square around them (set.seed(1), written into the fixture), with k = 5
# and k = 3; data/diabetes.csv (145 x 3) with k = 5.  For each: NNclean's k-th nearest-neighbour
# distances, its lambda1, lambda2 and p, its probs (the cluster's density ratio, without p) and
# z (1 cluster, 0 noise); and the log-likelihood of Mclust(X, G, "VVV", initialization =
# list(noise = z == 0)) (G = 2 for sim, 3 for diabetes).  The script checks that no density
# underflowed to 0/0 at NNclean's last parameters (mixem computes the ratio in the log domain).
suppressMessages({library(prabclus); library(mclust)})
num <- function(v) paste(sprintf("%.17g", v), collapse = ", ")
cat(sprintf("-- Made by tests/reference/nnclean_prabclus.R with %s, prabclus %s, mclust %s. Do not edit.\n",
            R.version.string, packageVersion("prabclus"), packageVersion("mclust")))
set.seed(1)
sim <- rbind(cbind(rnorm(80, 0, 0.5), rnorm(80, 0, 0.5)),
             cbind(rnorm(80, 3, 0.7), rnorm(80, 2, 0.4)),
             cbind(runif(40, -4, 7), runif(40, -4, 6)))
sim <- round(sim, 6)   # the fixture holds the data as printed
diabetes <- as.matrix(read.csv("data/diabetes.csv"))
cat("return {\n")
cat(sprintf("  sim = {%s},\n", paste(sprintf("{%s}", apply(sim, 1, num)), collapse = ", ")))
cases <- list(list("sim", sim, 5, 2), list("sim", sim, 3, 2), list("data/diabetes.csv", diabetes, 5, 3))
for (cs in cases) {
  X <- cs[[2]]; k <- cs[[3]]; G <- cs[[4]]; d <- ncol(X)
  nn <- NNclean(X, k = k)
  ad <- 2 * pi^(d / 2) / (d * gamma(d / 2))
  f <- function(l) exp(-l * ad * nn$kthNND^d) * 2 * (l * ad)^k * nn$kthNND^(d * k - 1) / gamma(k)
  stopifnot(all(f(nn$lambda1) + f(nn$lambda2) > 0), all(is.finite(nn$probs)))
  mc <- Mclust(X, G = G, modelNames = "VVV", initialization = list(noise = nn$z == 0),
               verbose = FALSE)
  cat(sprintf("  {data = \"%s\", k = %d, g = %d, lambda1 = %.17g, lambda2 = %.17g, p = %.17g,\n",
              cs[[1]], k, G, nn$lambda1, nn$lambda2, nn$p))
  cat(sprintf("   mclust_vvv = %.17g,\n", mc$loglik))
  cat(sprintf("   z = \"%s\",\n", paste(nn$z, collapse = "")))
  cat(sprintf("   kdist = {%s},\n", num(nn$kthNND)))
  cat(sprintf("   probs = {%s}},\n", num(nn$probs)))
}
cat("}\n")
