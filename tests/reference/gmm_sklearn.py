#!/usr/bin/python3
"""gmm_sklearn.py: makes the scikit-learn parity fixtures of tests/lua/test_gaussian_parity.lua.

Run with Debian's python3 and python3-sklearn (fixtures made with scikit-learn 1.2.1, NumPy
1.24.2):  /usr/bin/python3 tests/reference/gmm_sklearn.py
It writes tests/data/gauss5d.csv (a generated 5-D, 3-component data set) and
tests/reference/gmm_sklearn_fixtures.lua: for iris and gauss5d, each covariance type and
max_iter = 1, 5, 50 (tol = 0, reg_covar = 1e-6), the initial parameters given to
GaussianMixture (weights_init, means_init, precisions_init) and its fitted weights_, means_,
covariances_ and total log-likelihood score(X) * N.
It also writes tests/reference/gmm_sklearn_ninit.lua: on iris, for K = 1..5 and each covariance
type, the best total log-likelihood of GaussianMixture with its defaults and n_init = 10,
random_state = 0 (mixem must do at least as well with n_init = 10, seed = 0).
"""
import os
import warnings

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))


def gauss5d():
    rng = np.random.RandomState(20261124)
    means = [np.zeros(5), np.array([3.0, 0, 1, -2, 0]), np.array([-2.0, 3, 0, 1, 2])]
    X = []
    for k, (m, n) in enumerate(zip(means, (120, 100, 80))):
        A = rng.normal(size=(5, 5)) * (0.4 + 0.3 * k)
        X.append(m + rng.normal(size=(n, 5)) @ A.T)
    X = np.vstack(X)
    return X[rng.permutation(len(X))]


def start(X, cov_type, rows):
    """Deterministic initial parameters: means from given rows, covariances from the data."""
    K, D = len(rows), X.shape[1]
    w = np.array([0.5, 0.3, 0.2])
    mu = X[rows].copy()
    C = np.cov(X.T, bias=True)
    scale = [1.0, 0.6, 1.4]
    if cov_type == "full":
        prec = np.array([np.linalg.inv(C * s) for s in scale])
    elif cov_type == "tied":
        prec = np.linalg.inv(C * 0.8)
    elif cov_type == "diag":
        prec = np.array([1.0 / (np.diag(C) * s) for s in scale])
    else:
        prec = np.array([1.0 / (np.mean(np.diag(C)) * s) for s in scale])
    return w, mu, prec


def lua(v):
    if isinstance(v, np.ndarray):
        v = v.tolist()
    if isinstance(v, (list, tuple)):
        return "{" + ", ".join(lua(x) for x in v) + "}"
    if isinstance(v, str):
        return '"%s"' % v
    return repr(float(v))


def main():
    warnings.simplefilter("ignore", ConvergenceWarning)
    iris = np.loadtxt(os.path.join(TOP, "data", "iris.csv"), delimiter=",", skiprows=1)
    g5 = gauss5d()
    np.savetxt(os.path.join(TOP, "tests", "data", "gauss5d.csv"), g5, delimiter=",",
               header="x1,x2,x3,x4,x5", comments="", fmt="%.17g")
    sets = {"iris": (iris, "data/iris.csv", [10, 60, 110]),
            "gauss5d": (g5, "tests/data/gauss5d.csv", [0, 1, 2])}
    out = ["-- Made by tests/reference/gmm_sklearn.py with scikit-learn %s, NumPy %s. Do not edit."
           % (sklearn.__version__, np.__version__), "return {"]
    for name, (X, path, rows) in sets.items():
        for cov in ("full", "tied", "diag", "spherical"):
            w, mu, prec = start(X, cov, rows)
            for it in (1, 5, 50):
                g = GaussianMixture(3, covariance_type=cov, max_iter=it, tol=0, reg_covar=1e-6,
                                    weights_init=w, means_init=mu, precisions_init=prec,
                                    random_state=0).fit(X)
                assert g.n_iter_ == it
                out.append("  {data = %s, covariance = %s, iters = %d," % (lua(path), lua(cov), it))
                out.append("   w0 = %s, means0 = %s, prec0 = %s," % (lua(w), lua(mu), lua(prec)))
                out.append("   weights = %s, means = %s, covariances = %s, loglik = %s}," % (
                    lua(g.weights_), lua(g.means_), lua(g.covariances_),
                    lua(g.score(X) * len(X))))
    out.append("}")
    with open(os.path.join(HERE, "gmm_sklearn_fixtures.lua"), "w") as f:
        f.write("\n".join(out) + "\n")
    out = ["-- Made by tests/reference/gmm_sklearn.py with scikit-learn %s, NumPy %s. Do not edit."
           % (sklearn.__version__, np.__version__),
           "-- iris, n_init = 10, random_state = 0: best total log-likelihood by covariance and K.",
           "return {"]
    for cov in ("full", "tied", "diag", "spherical"):
        best = [GaussianMixture(k, covariance_type=cov, n_init=10, random_state=0).fit(iris)
                .score(iris) * len(iris) for k in range(1, 6)]
        out.append("  %s = %s," % (cov, lua(best)))
    out.append("}")
    with open(os.path.join(HERE, "gmm_sklearn_ninit.lua"), "w") as f:
        f.write("\n".join(out) + "\n")


main()
