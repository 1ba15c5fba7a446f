#!/usr/bin/python3
"""bernoulli_numpy.py: an independent Bernoulli-mixture EM in NumPy, the reference for
tests/lua/test_bernoulli.lua.  Run with Debian's python3 (NumPy 1.24.2):
    /usr/bin/python3 tests/reference/bernoulli_numpy.py
It writes tests/data/bernoulli3.csv (300 binary vectors of 20 columns from a known 3-component
mixture) and tests/reference/bernoulli_fixtures.lua: from one start, after 1, 10 and 100
iterations, the weights, mu and log-likelihood, for plain maximum likelihood (a = b = 1) and for
Laplace smoothing (a = b = 2), with mu clipped to [1e-10, 1 - 1e-10] as mixem documents.
"""
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
EPS = 1e-10


def loglik_and_resp(X, w, mu):
    # log p(x, z = k) = log w_k + sum_d [x log mu + (1 - x) log(1 - mu)], by products of X
    a = np.log(w) + X @ np.log(mu).T + (1 - X) @ np.log1p(-mu).T
    m = a.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(a - m).sum(axis=1))
    return lse.sum(), np.exp(a - lse[:, None])


def em(X, w, mu, iters, a, b):
    for _ in range(iters):
        _, r = loglik_and_resp(X, w, mu)
        nk = r.sum(axis=0)
        w = nk / len(X)
        mu = np.clip((r.T @ X + a - 1) / (nk[:, None] + a + b - 2), EPS, 1 - EPS)
    return w, mu, loglik_and_resp(X, w, mu)[0]


def lua(v):
    if isinstance(v, np.ndarray):
        v = v.tolist()
    if isinstance(v, list):
        return "{" + ", ".join(lua(x) for x in v) + "}"
    return repr(float(v))


def main():
    rng = np.random.RandomState(3)
    true_mu = rng.uniform(0.05, 0.95, size=(3, 20))
    z = rng.choice(3, size=300, p=[0.5, 0.3, 0.2])
    X = (rng.uniform(size=(300, 20)) < true_mu[z]).astype(float)
    np.savetxt(os.path.join(TOP, "tests", "data", "bernoulli3.csv"), X, delimiter=",", fmt="%d",
               header=",".join("b%d" % j for j in range(1, 21)), comments="")
    w0 = np.array([0.4, 0.35, 0.25])
    mu0 = rng.uniform(0.3, 0.7, size=(3, 20))
    out = ["-- Made by tests/reference/bernoulli_numpy.py with NumPy %s. Do not edit." % np.__version__,
           "return {"]
    for a in (1.0, 2.0):
        for it in (1, 10, 100):
            w, mu, ll = em(X, w0, mu0, it, a, a)
            out.append("  {alpha = %s, iters = %d, w0 = %s, mu0 = %s," % (lua(a), it, lua(w0), lua(mu0)))
            out.append("   weights = %s, mu = %s, loglik = %s}," % (lua(w), lua(mu), lua(ll)))
    out.append("}")
    with open(os.path.join(HERE, "bernoulli_fixtures.lua"), "w") as f:
        f.write("\n".join(out) + "\n")


main()
