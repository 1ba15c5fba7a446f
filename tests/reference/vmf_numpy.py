#!/usr/bin/python3
"""vmf_numpy.py: an independent EM for mixtures of von Mises-Fisher distributions in NumPy/SciPy,
the reference for tests/lua/test_vmf.lua.  Run with Debian's python3 (python3-numpy 1.24.2,
python3-scipy 1.10.1):
    /usr/bin/python3 tests/reference/vmf_numpy.py
It writes tests/reference/vmf_fixtures.lua with
  1. EM fits from one given start (weights, mean directions, concentrations), after 1, 5 and 50
     iterations, for data/wind.csv (310 wind directions in radians, as unit vectors
     (cos a, sin a); K = 2 and 3), data/iris.csv (rows scaled to length 1, D = 4, K = 3) and
     data/digits_binary.csv (rows scaled to length 1, D = 64, K = 3): the weights, the mean
     directions, the concentrations and the log-likelihood;
  2. log C_D(kappa) + kappa for D from 2 to 5000 and kappa from 1e-3 to 1e8.
Where each formula comes from:
  - the density log C_D(kappa) + kappa mu'x, with
    log C_D(kappa) = (D/2 - 1) log kappa - (D/2) log(2 pi) - log I_{D/2-1}(kappa)
    (Mardia and Jupp, Directional Statistics (2000), eq. 9.3.4); log I_nu(kappa) - kappa is
    log(scipy.special.ive(nu, kappa)), SciPy's exponentially scaled Bessel function (AMOS);
  - where ive underflows (order in the thousands, kappa below the order), log I_nu(x) by the
    power series I_nu(x) = sum_m (x/2)^(2m + nu) / (m! Gamma(m + nu + 1)) (Abramowitz and Stegun
    9.6.10), its terms summed in the log domain by scipy.special.logsumexp with gammaln; the
    script checks the series against ive where both are representable and prints the largest
    difference;
  - E-step: responsibilities by Bayes' rule (logsumexp);
  - M-step: pi_k = R_k / n, mu_k = S_k / |S_k|, and kappa_k the root of
    A_D(kappa) = ive(D/2, kappa) / ive(D/2 - 1, kappa) = |S_k| / R_k (Banerjee et al., JMLR
    6:1345-1382 (2005), eqs. 4.2-4.4; the maximum-likelihood equation itself, not an
    approximation), by scipy.optimize.brentq on [1e-10, 1e6] (mixem's kappa_max, not reached
    here).
"""
import os

import numpy as np
import scipy
from scipy.optimize import brentq
from scipy.special import gammaln, ive, logsumexp

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
KMAX = 1e6


def load(name):
    return np.loadtxt(os.path.join(TOP, "data", name), delimiter=",", skiprows=1, ndmin=2)


def log_i_series(nu, x):
    """log I_nu(x) by the power series, summed in the log domain."""
    m_hi = int(x + 60 * np.sqrt(x) + 400)
    m = np.arange(m_hi + 1, dtype=float)
    terms = (2 * m + nu) * np.log(x / 2) - gammaln(m + 1) - gammaln(m + nu + 1)
    return logsumexp(terms)


def log_ive(nu, x):
    """log(I_nu(x)) - x, and which route gave it."""
    v = ive(nu, x)
    if np.isfinite(v) and v > 1e-300:
        return np.log(v), "ive"
    return log_i_series(nu, x) - x, "series"


def lcs(D, kappa):
    """log C_D(kappa) + kappa."""
    nu = D / 2 - 1
    return nu * np.log(kappa) - D / 2 * np.log(2 * np.pi) - log_ive(nu, kappa)[0]


def solve_kappa(D, rbar):
    # The ratio of the scaled functions, by the series where ive underflows (small kappa).
    f = lambda k: np.exp(log_ive(D / 2, k)[0] - log_ive(D / 2 - 1, k)[0]) - rbar
    if f(KMAX) <= 0:
        return KMAX
    return brentq(f, 1e-10, KMAX, xtol=1e-300, rtol=8.9e-16, maxiter=1000)


def log_joint(X, w, mu, kappa):
    D = X.shape[1]
    return np.log(w)[None, :] + np.array([lcs(D, k) for k in kappa])[None, :] \
        + (X @ mu.T - 1.0) * kappa[None, :]


def em(X, w, mu, kappa, iters):
    n, D = X.shape
    for _ in range(iters):
        a = log_joint(X, w, mu, kappa)
        r = np.exp(a - logsumexp(a, axis=1)[:, None])
        R = r.sum(axis=0)
        S = r.T @ X
        norm = np.linalg.norm(S, axis=1)
        w = R / n
        mu = S / norm[:, None]
        kappa = np.array([solve_kappa(D, norm[k] / R[k]) for k in range(len(w))])
    return w, mu, kappa, logsumexp(log_joint(X, w, mu, kappa), axis=1).sum()


def unit_rows(X):
    return X / np.linalg.norm(X, axis=1)[:, None]


def lua(v):
    if isinstance(v, np.ndarray):
        v = v.tolist()
    if isinstance(v, (list, tuple)):
        return "{" + ", ".join(lua(x) for x in v) + "}"
    if isinstance(v, str):
        return '"%s"' % v
    return repr(float(v))


def angle(a):
    return [np.cos(a), np.sin(a)]


def main():
    wind = load("wind.csv")[:, 0]
    iris = load("iris.csv")
    digits = load("digits_binary.csv")
    Xw = np.column_stack([np.cos(wind), np.sin(wind)])
    Xi, Xd = unit_rows(iris), unit_rows(digits)
    cases = [
        ("wind.csv", "angles", Xw, np.array([0.6, 0.4]),
         np.array([angle(0.3), angle(4.0)]), np.array([2.0, 1.0])),
        ("wind.csv", "angles", Xw, np.array([0.4, 0.3, 0.3]),
         np.array([angle(0.1), angle(1.2), angle(5.0)]), np.array([5.0, 2.0, 3.0])),
        ("iris.csv", "normalise", Xi, np.array([0.3, 0.3, 0.4]),
         unit_rows(np.array([[5.0, 3.4, 1.5, 0.2], [5.9, 2.8, 4.3, 1.3],
                             [6.6, 3.0, 5.5, 2.0]])), np.array([500.0, 500.0, 500.0])),
        ("digits_binary.csv", "normalise", Xd, np.array([1 / 3, 1 / 3, 1 / 3]),
         Xd[[0, 1, 2]], np.array([20.0, 20.0, 20.0])),
    ]
    out = ["-- Made by tests/reference/vmf_numpy.py with NumPy %s, SciPy %s. Do not edit."
           % (np.__version__, scipy.__version__),
           "return {", " fits = {"]
    for data, mode, X, w0, mu0, k0 in cases:
        for it in (1, 5, 50):
            w, mu, kappa, ll = em(X, w0, mu0, k0, it)
            out.append("  {data = %s, mode = %s, k = %d, iters = %d, w0 = %s, mu0 = %s, kappa0 = %s,"
                       % (lua(data), lua(mode), len(w0), it, lua(w0), lua(mu0), lua(k0)))
            out.append("   weights = %s, mu = %s, kappa = %s, loglik = %s},"
                       % (lua(w), lua(mu), lua(kappa), lua(ll)))
    out.append(" },")
    # The series against ive where both are representable.
    worst = 0.0
    for nu in (0.0, 0.5, 4.0, 49.0, 499.0):
        for x in (1e-3, 0.5, 7.0, 60.0, 300.0):
            if not ive(nu, x) > 1e-300:
                continue
            a, b = log_i_series(nu, x) - x, np.log(ive(nu, x))
            worst = max(worst, abs(a - b) / max(abs(b), 1.0))
    out.append(" -- the power series against ive: largest difference %.3g (relative to max(|v|, 1))"
               % worst)
    out.append(" lcs = {")
    for D in (2, 3, 10, 100, 1000, 5000):
        for kappa in (1e-3, 1.0, 10.0, 100.0, 1e3, 1e4, 1e6, 1e8):
            v = lcs(D, kappa)
            route = log_ive(D / 2 - 1, kappa)[1]
            out.append("  {D = %d, kappa = %s, lcs = %s, route = %s}," % (D, lua(kappa), lua(v),
                                                                           lua(route)))
    out.append(" },")
    out.append("}")
    with open(os.path.join(HERE, "vmf_fixtures.lua"), "w") as f:
        f.write("\n".join(out) + "\n")


main()
