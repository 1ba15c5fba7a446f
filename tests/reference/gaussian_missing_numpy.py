#!/usr/bin/python3
"""gaussian_missing_numpy.py: an independent NumPy/SciPy EM for Gaussian mixtures with cells
missing at random, the reference for tests/lua/test_gaussian_missing.lua.  Run with Debian's
python3 (python3-numpy 1.24.2, python3-scipy 1.10.1):
    /usr/bin/python3 tests/reference/gaussian_missing_numpy.py
It removes 20% of the cells of data/iris.csv completely at random (NumPy's default_rng(16), at
least one cell kept in each row), writes the holed table to tests/data/iris_missing.csv (empty
cells) and writes tests/reference/gaussian_missing_fixtures.lua: for the full and the diagonal
covariance, K = 3, from one given start, after 1, 5 and 50 iterations, the weights, means,
covariances and the observed-data log-likelihood.

The formulas are those of Ghahramani and Jordan (1994), "Supervised learning from incomplete data
via an EM approach", and Little and Rubin (2002, sections 11.2 and 11.4), written here row by row
with no grouping of patterns: for row i with observed coordinates o and missing m,
    E-step   log p(x_o | k) = log N(x_o; mu_ko, S_koo),  r_ik proportional to w_k p(x_o | k);
             xhat_ik = x with x_m := mu_km + S_kmo S_koo^-1 (x_o - mu_ko),
             C_ik = 0 but for its (m, m) block S_kmm - S_kmo S_koo^-1 S_kom;
    M-step   N_k = sum_i r_ik, w_k = N_k / N, mu_k = sum_i r_ik xhat_ik / N_k,
             S_k = sum_i r_ik [(xhat_ik - mu_k)(xhat_ik - mu_k)' + C_ik] / N_k + reg_covar I
             (diag: the diagonal of it; the conditional mean is then mu_km and C_ik diag S_kmm).
reg_covar = 1e-6, mixem's and scikit-learn's default.  The log-likelihood reported is that of
the parameters after the iterations (sum_i logsumexp_k [log w_k + log p(x_o | k)]).
"""
import os

import numpy as np
import scipy
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
REG = 1e-6

# The start: rows 0, 50 and 100 (one of each species) as means, the pooled covariance of the
# complete rows for every component, equal weights.
START_ROWS = [0, 50, 100]


def holed():
    X = np.loadtxt(os.path.join(TOP, "data", "iris.csv"), delimiter=",", skiprows=1)
    rng = np.random.default_rng(16)
    M = rng.random(X.shape) < 0.2
    for i in range(len(X)):             # keep at least one cell of each row
        if M[i].all():
            M[i, rng.integers(X.shape[1])] = False
    for i in START_ROWS:                # the start's rows stay whole
        M[i] = False
    Xh = X.copy()
    Xh[M] = np.nan
    return X, Xh, M


def estep(X, M, w, mu, S):
    n, d = X.shape
    K = len(w)
    a = np.empty((n, K))
    xhat = np.empty((n, K, d))
    C = np.zeros((n, K, d, d))
    for i in range(n):
        o = ~M[i]
        m = M[i]
        for k in range(K):
            Soo = S[k][np.ix_(o, o)]
            a[i, k] = np.log(w[k]) + multivariate_normal.logpdf(X[i, o], mu[k][o], Soo)
            xh = X[i].copy()
            if m.any():
                Smo = S[k][np.ix_(m, o)]
                B = np.linalg.solve(Soo, Smo.T).T      # S_mo S_oo^-1
                xh[m] = mu[k][m] + B @ (X[i, o] - mu[k][o])
                C[i, k][np.ix_(m, m)] = S[k][np.ix_(m, m)] - B @ Smo.T
            xhat[i, k] = xh
    lse = logsumexp(a, axis=1)
    return lse.sum(), np.exp(a - lse[:, None]), xhat, C


def em(X, M, w, mu, S, iters, diag):
    for _ in range(iters):
        _, r, xhat, C = estep(X, M, w, mu, S)
        nk = r.sum(axis=0)
        w = nk / len(X)
        mu = np.einsum("ik,ikj->kj", r, xhat) / nk[:, None]
        S = []
        for k in range(len(w)):
            e = xhat[:, k, :] - mu[k]
            Q = (r[:, k, None, None] * (e[:, :, None] * e[:, None, :] + C[:, k])).sum(axis=0)
            Sk = Q / nk[k]
            if diag:
                Sk = np.diag(np.diag(Sk))
            S.append(Sk + REG * np.eye(X.shape[1]))
        S = np.array(S)
    return w, mu, S, estep(X, M, w, mu, S)[0]


def lua(v):
    if isinstance(v, np.ndarray):
        v = v.tolist()
    if isinstance(v, list):
        return "{" + ", ".join(lua(x) for x in v) + "}"
    return repr(float(v))


def main():
    X, Xh, M = holed()
    d = X.shape[1]
    with open(os.path.join(TOP, "tests", "data", "iris_missing.csv"), "w") as f:
        f.write("Sepal.Length,Sepal.Width,Petal.Length,Petal.Width\n")
        for i in range(len(X)):
            f.write(",".join("" if M[i, j] else "%g" % X[i, j] for j in range(d)) + "\n")
    complete = ~M.any(axis=1)
    S0 = np.cov(X[complete].T, bias=True)
    mu0 = X[START_ROWS]
    w0 = np.full(3, 1.0 / 3)
    out = ["-- Made by tests/reference/gaussian_missing_numpy.py with NumPy %s, SciPy %s. "
           "Do not edit." % (np.__version__, scipy.__version__),
           "return {",
           "  missing_cells = %d, incomplete_rows = %d, patterns = %d,"
           % (M.sum(), (~complete).sum(), len({tuple(r) for r in M}))]
    for diag in (False, True):
        S0k = np.array([np.diag(np.diag(S0)) if diag else S0] * 3)
        for it in (1, 5, 50):
            w, mu, S, ll = em(Xh, M, w0, mu0, S0k, it, diag)
            cov = [np.diag(s) for s in S] if diag else S
            out.append("  {covariance = %r, iters = %d, w0 = %s, means0 = %s, cov0 = %s,"
                       % ("diag" if diag else "full", it, lua(w0), lua(mu0),
                          lua([np.diag(s) for s in S0k] if diag else S0k)))
            out.append("   weights = %s, means = %s, cov = %s, loglik = %s},"
                       % (lua(w), lua(mu), lua(np.array(cov)), lua(ll)))
    out.append("}")
    with open(os.path.join(HERE, "gaussian_missing_fixtures.lua"), "w") as f:
        f.write("\n".join(out) + "\n")


main()
