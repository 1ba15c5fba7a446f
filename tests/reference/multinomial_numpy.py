#!/usr/bin/python3
"""multinomial_numpy.py: an independent multinomial-mixture (mixture of unigrams) EM in
NumPy/SciPy, the reference for tests/lua/test_more_families.lua.  Run with Debian's python3
(python3-numpy 1.24.2, python3-scipy 1.10.1):
    /usr/bin/python3 tests/reference/multinomial_numpy.py
It reads data/licenses_bow.csv (196 paragraphs of four licence texts as counts of 100 words; made
by tests/reference/licenses_bow.py) and writes tests/reference/multinomial_fixtures.lua: for
K = 2 and K = 4 (pseudo_count 0, eps 1e-10) and K = 3 (pseudo_count 1), from one given start,
after 1, 5 and 50 EM iterations, the weights, the probabilities and the log-likelihood.

Where each formula comes from:
- the density: the multinomial probability function,
  log p(x | p) = log n! - sum_l log x_l! + sum_l x_l log p_l  (as R's dmultinom), written here
  with scipy.special.gammaln and xlogy; scipy.stats.multinomial.logpmf is not used because it
  replaces the last probability by 1 - the sum of the others, which moves a probability at the
  floor 1e-10 by a relative 1e-6.
- the E-step: Bayes' rule (Dempster, Laird and Rubin 1977); weights sum_i r_ik / N.
- the M-step: the posterior mode under a symmetric Dirichlet(1 + c) prior,
  p_kl proportional to sum_i r_ik x_il + c (Nigam et al., Machine Learning 39:103-134, 2000,
  eq. 7 with c = 1); then the floor: the maximiser of sum_l w_l log p_l over the simplex with
  p_l >= eps.  By the KKT conditions the floored set is the m smallest w_l, the others
  w_l (1 - m eps) / (sum of the others); here m is found by sorting the w_l and taking the
  smallest m for which the (m+1)-th smallest, rescaled, is >= eps (mixem iterates instead).
"""
import os

import numpy as np
import scipy
from scipy.special import gammaln, logsumexp, xlogy

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
EPS = 1e-10


def start(X, K):
    # component k: the pooled counts of rows k, k + K, k + 2K, ..., plus one, normalised
    P = np.stack([X[k::K].sum(axis=0) + 1.0 for k in range(K)])
    return np.full(K, 1.0 / K), P / P.sum(axis=1, keepdims=True)


def logdens(X, P):
    n = X.sum(axis=1)
    coef = gammaln(n + 1) - gammaln(X + 1).sum(axis=1)
    return coef[:, None] + np.stack([xlogy(X, P[k]).sum(axis=1) for k in range(len(P))], axis=1)


def floor(w):
    order = np.argsort(w, kind="stable")
    ws = w[order]
    total = ws.sum()
    low = 0.0
    for m in range(len(w)):
        scale = (1.0 - m * EPS) / (total - low)
        if ws[m] * scale >= EPS:
            break
        low += ws[m]
    p = np.where(np.arange(len(w)) < m, EPS, ws * scale)
    out = np.empty_like(p)
    out[order] = p
    return out


def loglik_and_resp(X, w, P):
    a = np.log(w)[None, :] + logdens(X, P)
    lse = logsumexp(a, axis=1)
    return lse.sum(), np.exp(a - lse[:, None])


def em(X, w, P, c, iters):
    for _ in range(iters):
        _, r = loglik_and_resp(X, w, P)
        nk = r.sum(axis=0)
        w = nk / len(X)
        S = r.T @ X + c
        P = np.stack([floor(S[k]) for k in range(len(S))])
    return w, P, loglik_and_resp(X, w, P)[0]


def lua(v):
    if isinstance(v, np.ndarray):
        v = v.tolist()
    if isinstance(v, list):
        return "{" + ", ".join(lua(x) for x in v) + "}"
    return repr(float(v))


def main():
    X = np.loadtxt(os.path.join(TOP, "data", "licenses_bow.csv"), delimiter=",", skiprows=1)
    out = ["-- Made by tests/reference/multinomial_numpy.py with NumPy %s, SciPy %s. Do not edit."
           % (np.__version__, scipy.__version__),
           "-- Multinomial mixtures on data/licenses_bow.csv from a given start.", "return {"]
    floored = 0
    for K, c in ((2, 0.0), (4, 0.0), (3, 1.0)):
        w0, P0 = start(X, K)
        for it in (1, 5, 50):
            w, P, ll = em(X, w0, P0, c, it)
            floored = max(floored, int((P == EPS).sum()))
            out.append("  {k = %d, pseudo_count = %s, iters = %d, w0 = %s, prob0 = %s,"
                       % (K, lua(c), it, lua(w0), lua(P0)))
            out.append("   weights = %s, prob = %s, loglik = %s}," % (lua(w), lua(P), lua(ll)))
    out.append("}")
    with open(os.path.join(HERE, "multinomial_fixtures.lua"), "w") as f:
        f.write("\n".join(out) + "\n")
    print("most probabilities at the floor in one fit: %d" % floored)


main()
