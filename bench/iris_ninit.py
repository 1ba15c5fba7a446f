#!/usr/bin/python3
"""iris_ninit.py: the best log-likelihood on iris over the same n_init starts, scikit-learn's
GaussianMixture beside mixem (both with their defaults: k-means starts, tol 1e-3, reg_covar 1e-6;
mixem then refines its best restarts to refine_tol 1e-6, its default),
for K = 1..5 and each covariance type, from one run.  A best-of-n_init is a random quantity, so
each cell is repeated for SEEDS seeds (random_state / seed 0, 1, ...): the table gives the mean
best log-likelihood of each, and in how many seeds each was ahead (by more than 1e-6 relative).
Needs Debian's python3-sklearn and a built tree.
Usage: /usr/bin/python3 bench/iris_ninit.py [N_INIT [SEEDS]]   (default 10 10)
"""
import os
import subprocess
import sys

import numpy as np
import sklearn
from sklearn.mixture import GaussianMixture

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
n_init = int(sys.argv[1]) if len(sys.argv) > 1 else 10
seeds = int(sys.argv[2]) if len(sys.argv) > 2 else 10
iris = os.path.join(TOP, "data", "iris.csv")
X = np.loadtxt(iris, delimiter=",", skiprows=1)
out = subprocess.run([os.path.join(TOP, "src", "mixem"), "run",
                      os.path.join(TOP, "bench", "iris_ninit.lua"), iris, str(n_init), str(seeds)],
                     check=True, capture_output=True, text=True).stdout
mixem = {}
for line in out.split():
    c, k, s, v = line.split(",")
    mixem[(c, int(k), int(s))] = float(v)
print("iris, n_init = %d, %d seeds, scikit-learn %s; best total log-likelihood (higher is better)"
      % (n_init, seeds, sklearn.__version__))
print("%-10s %2s %14s %14s %9s %9s %9s" % ("covariance", "K", "skl mean", "mixem mean",
                                           "skl ahead", "mixem ahead", "tied"))
totals = [0, 0, 0]
for cov in ("full", "tied", "diag", "spherical"):
    for k in range(1, 6):
        s_all, m_all, ahead = [], [], [0, 0, 0]
        for seed in range(seeds):
            g = GaussianMixture(k, covariance_type=cov, n_init=n_init, random_state=seed).fit(X)
            s, m = g.score(X) * len(X), mixem[(cov, k, seed)]
            s_all.append(s)
            m_all.append(m)
            tol = 1e-6 * abs(s)
            ahead[0 if s > m + tol else 1 if m > s + tol else 2] += 1
        totals = [a + b for a, b in zip(totals, ahead)]
        print("%-10s %2d %14.4f %14.4f %9d %9d %9d" % (cov, k, np.mean(s_all), np.mean(m_all), *ahead))
print("over all %d runs: scikit-learn ahead %d, mixem ahead %d, equal %d" % (20 * seeds, *totals))
