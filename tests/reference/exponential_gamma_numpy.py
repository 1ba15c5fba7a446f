#!/usr/bin/python3
"""exponential_gamma_numpy.py: independent exponential- and gamma-mixture EMs in NumPy/SciPy, the
reference for tests/lua/test_more_families.lua.  Run with Debian's python3 (python3-numpy 1.24.2,
python3-scipy 1.10.1):
    /usr/bin/python3 tests/reference/exponential_gamma_numpy.py
It reads data/coal_intervals.csv (days between British coal-mining disasters, 1851-1962) and
data/faithful.csv (Old Faithful: eruption time and waiting time, minutes, both > 0) and writes
tests/reference/exponential_fixtures.lua (coal intervals with K = 2 and 3, faithful with K = 2)
and tests/reference/gamma_fixtures.lua (faithful with K = 2 and 3): from one given start each,
after 1, 5 and 50 EM iterations, the weights, the parameters and the log-likelihood.

Where each formula comes from:
- densities: scipy.stats.expon.logpdf(x, scale = 1 / rate) and
  scipy.stats.gamma.logpdf(x, shape, scale = 1 / rate), i.e. SciPy's own parameterisation, the
  rate being 1 / scale; the mixture's log-likelihood by scipy.special.logsumexp.
- the E-step: Bayes' rule, r_ik = w_k p(x_i | k) / sum_m w_m p(x_i | m) (Dempster, Laird and
  Rubin 1977), and w_k = sum_i r_ik / N.
- exponential M-step: the weighted maximum-likelihood rate, sum_i r_ik / sum_i r_ik x_ij
  (setting the derivative of sum_i r_ik (log rate - rate x_ij) to 0).
- gamma M-step: the weighted maximum-likelihood estimate as in Minka, "Estimating a Gamma
  distribution" (2002), eq. 2-3: with m = weighted mean of x and s = log m - weighted mean of
  log x, the shape solves log a - digamma(a) = s and the rate is a / m.  The root is found by
  bracketing (scipy.optimize.brentq on [1e-8, 1e7], rtol 4 * machine epsilon), not by Newton's
  method as mixem does, and the mixem cap max_shape = 1e6 is applied as mixem documents it
  (never reached on these data).
"""
import os

import numpy as np
import scipy
from scipy.optimize import brentq
from scipy.special import digamma, logsumexp
from scipy.stats import expon, gamma

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
MAX_SHAPE = 1e6

EXP_STARTS = [   # data set, weights, rates
    ("coal_intervals", np.array([0.5, 0.5]), np.array([[0.01], [0.0025]])),
    ("coal_intervals", np.array([0.3, 0.4, 0.3]), np.array([[0.02], [0.0067], [0.002]])),
    ("faithful", np.array([0.5, 0.5]), np.array([[0.5, 0.02], [0.25, 0.0125]])),
]
# shape, rate per component and column
GAMMA_STARTS = [
    (np.array([0.4, 0.6]), np.array([[20.0, 30.0], [20.0, 40.0]]),
     np.array([[10.0, 0.55], [4.5, 0.5]])),
    (np.array([0.3, 0.3, 0.4]), np.array([[20.0, 30.0], [10.0, 20.0], [20.0, 40.0]]),
     np.array([[10.0, 0.55], [3.0, 0.3], [4.5, 0.5]])),
]


def e_step(logdens, w):
    a = np.log(w)[None, :] + logdens
    lse = logsumexp(a, axis=1)
    return lse.sum(), np.exp(a - lse[:, None])


def exp_logdens(X, rate):
    return np.stack([expon.logpdf(X, scale=1.0 / rate[k]).sum(axis=1)
                     for k in range(len(rate))], axis=1)


def gamma_logdens(X, shape, rate):
    return np.stack([gamma.logpdf(X, shape[k], scale=1.0 / rate[k]).sum(axis=1)
                     for k in range(len(rate))], axis=1)


def exp_em(X, w, rate, iters):
    for _ in range(iters):
        _, r = e_step(exp_logdens(X, rate), w)
        nk = r.sum(axis=0)
        w = nk / len(X)
        rate = nk[:, None] / (r.T @ X)
    return w, rate, e_step(exp_logdens(X, rate), w)[0]


def solve_shape(s):
    if not s > 0 or np.log(MAX_SHAPE) - digamma(MAX_SHAPE) >= s:
        return MAX_SHAPE
    return brentq(lambda a: np.log(a) - digamma(a) - s, 1e-8, 1e7, xtol=1e-300,
                  rtol=4 * np.finfo(float).eps, maxiter=500)


def gamma_em(X, w, shape, rate, iters):
    for _ in range(iters):
        _, r = e_step(gamma_logdens(X, shape, rate), w)
        nk = r.sum(axis=0)
        w = nk / len(X)
        m = (r.T @ X) / nk[:, None]
        mlog = (r.T @ np.log(X)) / nk[:, None]
        shape = np.vectorize(solve_shape)(np.log(m) - mlog)
        rate = shape / m
    return w, shape, rate, e_step(gamma_logdens(X, shape, rate), w)[0]


def lua(v):
    if isinstance(v, np.ndarray):
        v = v.tolist()
    if isinstance(v, list):
        return "{" + ", ".join(lua(x) for x in v) + "}"
    return repr(float(v))


def header(name):
    return ["-- Made by tests/reference/exponential_gamma_numpy.py with NumPy %s, SciPy %s. "
            "Do not edit." % (np.__version__, scipy.__version__),
            "-- %s mixtures from a given start." % name, "return {"]


def main():
    def load(name):
        return np.loadtxt(os.path.join(TOP, "data", name + ".csv"), delimiter=",", skiprows=1,
                          ndmin=2)
    out = header("Exponential")
    for data, w0, r0 in EXP_STARTS:
        X = load(data)
        for it in (1, 5, 50):
            w, rate, ll = exp_em(X, w0, r0, it)
            out.append("  {data = %r, k = %d, iters = %d, w0 = %s, rate0 = %s,"
                       % (data, len(w0), it, lua(w0), lua(r0)))
            out.append("   weights = %s, rate = %s, loglik = %s}," % (lua(w), lua(rate), lua(ll)))
    out.append("}")
    with open(os.path.join(HERE, "exponential_fixtures.lua"), "w") as f:
        f.write("\n".join(out) + "\n")
    X = load("faithful")
    out = header("Gamma")
    for w0, a0, b0 in GAMMA_STARTS:
        for it in (1, 5, 50):
            w, a, b, ll = gamma_em(X, w0, a0, b0, it)
            out.append("  {k = %d, iters = %d, w0 = %s, shape0 = %s, rate0 = %s,"
                       % (len(w0), it, lua(w0), lua(a0), lua(b0)))
            out.append("   weights = %s, shape = %s, rate = %s, loglik = %s},"
                       % (lua(w), lua(a), lua(b), lua(ll)))
    out.append("}")
    with open(os.path.join(HERE, "gamma_fixtures.lua"), "w") as f:
        f.write("\n".join(out) + "\n")


main()
