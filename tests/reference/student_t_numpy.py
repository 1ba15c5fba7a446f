#!/usr/bin/python3
"""student_t_numpy.py: an independent ECM for mixtures of multivariate t distributions in
NumPy/SciPy, the reference for tests/lua/test_student_t.lua.  Run with Debian's python3
(python3-numpy 1.24.2, python3-scipy 1.10.1):
    /usr/bin/python3 tests/reference/student_t_numpy.py
It writes tests/reference/student_t_fixtures.lua: from one given start (weights, means, scale
matrices, degrees of freedom), after 1, 5 and 50 iterations, the weights, means, scales, degrees
of freedom and the log-likelihood, for
  data/faithful.csv, K = 2, full scales, df estimated;
  data/faithful.csv, K = 2, diagonal scales, df fixed at 4;
  data/iris.csv,     K = 3, full scales, df estimated.
Where each formula comes from:
  - the density: scipy.stats.multivariate_t.logpdf (SciPy's own implementation);
  - E-step: responsibilities tau_ik by Bayes' rule (logsumexp), the weights
    u_ik = (nu_k + p) / (nu_k + delta_ik), delta_ik the Mahalanobis distance under the current
    parameters (here by numpy.linalg.solve, not a Cholesky factor): Peel and McLachlan,
    Statistics and Computing 10:339-348 (2000), eq. 24;
  - CM-step 1: pi_k = sum_i tau_ik / n, mu_k = sum tau u x / sum tau u,
    Sigma_k = sum tau u (x - mu)(x - mu)' / sum tau (eqs. 28-30), plus reg_covar = 1e-6 on the
    diagonal (mixem's option, as scikit-learn's); the diagonal case keeps the diagonal;
  - CM-step 2: nu_k solves
        -psi(nu/2) + log(nu/2) + 1 + sum_i tau_ik (log u_ik - u_ik) / sum_i tau_ik
        + psi((nu_k_old + p)/2) - log((nu_k_old + p)/2) = 0       (eq. 31)
    by scipy.optimize.brentq on [0.01, 200]; the root is taken as 200 when the left side is
    still >= 0 there (mixem's df_max, the t tending to the normal) and 0.01 when it is <= 0 at
    0.01 (neither happens in these fixtures' first 50 iterations unless printed below).
"""
import os

import numpy as np
import scipy
from scipy.optimize import brentq
from scipy.special import digamma, logsumexp
from scipy.stats import multivariate_t

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
REG = 1e-6
DF_MIN, DF_MAX = 0.01, 200.0


def load(name):
    return np.loadtxt(os.path.join(TOP, "data", name), delimiter=",", skiprows=1)


def log_joint(X, w, mu, S, nu):
    return np.column_stack([np.log(w[k]) + multivariate_t.logpdf(X, loc=mu[k], shape=S[k],
                                                                 df=nu[k])
                            for k in range(len(w))])


def solve_nu(c):
    f = lambda nu: -digamma(nu / 2) + np.log(nu / 2) + 1 + c
    if f(DF_MAX) >= 0:
        return DF_MAX, "cap"
    if f(DF_MIN) <= 0:
        return DF_MIN, "floor"
    return brentq(f, DF_MIN, DF_MAX, xtol=1e-15, rtol=8.9e-16, maxiter=500), None


def ecm(X, w, mu, S, nu, iters, diag, estimate):
    n, p = X.shape
    w, mu, S, nu = w.copy(), mu.copy(), S.copy(), nu.copy()
    notes = []
    for t in range(iters):
        a = log_joint(X, w, mu, S, nu)
        tau = np.exp(a - logsumexp(a, axis=1)[:, None])
        new_mu, new_S, new_nu = mu.copy(), S.copy(), nu.copy()
        for k in range(len(w)):
            diff = X - mu[k]
            delta = np.einsum("ij,ij->i", diff, np.linalg.solve(S[k], diff.T).T)
            u = (nu[k] + p) / (nu[k] + delta)
            tk = tau[:, k]
            new_mu[k] = (tk * u) @ X / np.sum(tk * u)
            d2 = X - new_mu[k]
            Sk = (d2 * (tk * u)[:, None]).T @ d2 / np.sum(tk)
            if diag:
                Sk = np.diag(np.diag(Sk))
            new_S[k] = Sk + REG * np.eye(p)
            if estimate:
                c = (np.sum(tk * (np.log(u) - u)) / np.sum(tk)
                     + digamma((nu[k] + p) / 2) - np.log((nu[k] + p) / 2))
                new_nu[k], note = solve_nu(c)
                if note:
                    notes.append("iteration %d, component %d: df at the %s" % (t + 1, k + 1, note))
        w = tau.sum(axis=0) / n
        mu, S, nu = new_mu, new_S, new_nu
    ll = logsumexp(log_joint(X, w, mu, S, nu), axis=1).sum()
    return w, mu, S, nu, ll, notes


def lua(v):
    if isinstance(v, np.ndarray):
        v = v.tolist()
    if isinstance(v, (list, tuple)):
        return "{" + ", ".join(lua(x) for x in v) + "}"
    if isinstance(v, str):
        return '"%s"' % v
    if isinstance(v, bool):
        return "true" if v else "false"
    return repr(float(v))


CASES = [
    ("faithful.csv", "full", "estimate", np.array([0.6, 0.4]),
     np.array([[4.0, 78.0], [2.2, 55.0]]),
     np.array([[[0.3, 0.5], [0.5, 40.0]], [[0.1, 0.2], [0.2, 30.0]]]), np.array([20.0, 10.0])),
    ("faithful.csv", "diag", 4.0, np.array([0.5, 0.5]),
     np.array([[4.5, 80.0], [2.0, 50.0]]),
     np.array([[[0.5, 0.0], [0.0, 50.0]], [[0.5, 0.0], [0.0, 50.0]]]), np.array([4.0, 4.0])),
    ("iris.csv", "full", "estimate", np.array([0.3, 0.35, 0.35]),
     np.array([[5.0, 3.4, 1.5, 0.2], [5.9, 2.8, 4.3, 1.3], [6.6, 3.0, 5.5, 2.0]]),
     np.array([np.diag([0.12, 0.14, 0.03, 0.01]), np.diag([0.27, 0.1, 0.22, 0.04]),
               np.diag([0.4, 0.1, 0.3, 0.08])]), np.array([30.0, 15.0, 8.0])),
]


def main():
    out = ["-- Made by tests/reference/student_t_numpy.py with NumPy %s, SciPy %s. Do not edit."
           % (np.__version__, scipy.__version__),
           "return {"]
    for data, cov, df, w0, mu0, S0, nu0 in CASES:
        X = load(data)
        for it in (1, 5, 50):
            w, mu, S, nu, ll, notes = ecm(X, w0, mu0, S0, nu0, it, cov == "diag",
                                          df == "estimate")
            for n in notes:
                out.append("  -- %s %s %s: %s" % (data, cov, df, n))
            out.append("  {data = %s, covariance = %s, df = %s, k = %d, iters = %d,"
                       % (lua(data), lua(cov), lua(df) if df == "estimate" else repr(df),
                          len(w0), it))
            out.append("   w0 = %s, mean0 = %s, scale0 = %s, df0 = %s,"
                       % (lua(w0), lua(mu0), lua(S0), lua(nu0)))
            out.append("   weights = %s, mean = %s, scale = %s, dfs = %s, loglik = %s},"
                       % (lua(w), lua(mu), lua(S), lua(nu), lua(ll)))
    out.append("}")
    with open(os.path.join(HERE, "student_t_fixtures.lua"), "w") as f:
        f.write("\n".join(out) + "\n")


main()
