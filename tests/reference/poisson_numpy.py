#!/usr/bin/python3
"""poisson_numpy.py: an independent Poisson-mixture EM in NumPy/SciPy, the reference for
tests/lua/test_poisson.lua.  Run with Debian's python3 (python3-numpy 1.24.2, python3-scipy
1.10.1):
    /usr/bin/python3 tests/reference/poisson_numpy.py
It reads data/seatbelts.csv (monthly counts of car drivers and of van drivers killed in Great
Britain, 1969-1984: two count columns) and writes tests/reference/poisson_fixtures.lua: for K = 2
and K = 3, from one given start (weights and rates), after 1, 5 and 50 EM iterations, the weights,
the rates and the log-likelihood.  The densities come from scipy.stats.poisson.logpmf, which
includes log(x!) as mixem does; no rate comes near mixem's floor eps = 1e-10.
"""
import os

import numpy as np
import scipy
from scipy.special import logsumexp
from scipy.stats import poisson

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))

STARTS = [
    (np.array([0.6, 0.4]), np.array([[130.0, 11.0], [100.0, 6.0]])),
    (np.array([0.3, 0.4, 0.3]), np.array([[150.0, 12.0], [120.0, 9.0], [100.0, 6.0]])),
]


def loglik_and_resp(X, w, lam):
    # log p(x_i, z = k) = log w_k + sum_j logpmf(x_ij; lam_kj)
    a = np.log(w)[None, :] + poisson.logpmf(X[:, None, :], lam[None, :, :]).sum(axis=2)
    lse = logsumexp(a, axis=1)
    return lse.sum(), np.exp(a - lse[:, None])


def em(X, w, lam, iters):
    for _ in range(iters):
        _, r = loglik_and_resp(X, w, lam)
        nk = r.sum(axis=0)
        w = nk / len(X)
        lam = (r.T @ X) / nk[:, None]
    return w, lam, loglik_and_resp(X, w, lam)[0]


def lua(v):
    if isinstance(v, np.ndarray):
        v = v.tolist()
    if isinstance(v, list):
        return "{" + ", ".join(lua(x) for x in v) + "}"
    return repr(float(v))


def main():
    X = np.loadtxt(os.path.join(TOP, "data", "seatbelts.csv"), delimiter=",", skiprows=1)
    out = ["-- Made by tests/reference/poisson_numpy.py with NumPy %s, SciPy %s. Do not edit."
           % (np.__version__, scipy.__version__),
           "return {"]
    for w0, lam0 in STARTS:
        for it in (1, 5, 50):
            w, lam, ll = em(X, w0, lam0, it)
            out.append("  {k = %d, iters = %d, w0 = %s, lambda0 = %s," % (len(w0), it, lua(w0), lua(lam0)))
            out.append("   weights = %s, lambda = %s, loglik = %s}," % (lua(w), lua(lam), lua(ll)))
    out.append("}")
    with open(os.path.join(HERE, "poisson_fixtures.lua"), "w") as f:
        f.write("\n".join(out) + "\n")


main()
