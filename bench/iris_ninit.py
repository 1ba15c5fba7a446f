#!/usr/bin/python3
"""iris_ninit.py: best log-likelihood on iris with the same n_init, scikit-learn's GaussianMixture
(k-means starts, tol 1e-3, reg_covar 1e-6: its defaults) beside mixem's (the same defaults), for
K = 1..5 and each covariance type, from one run.  Needs Debian's python3-sklearn and a built tree.
Usage: /usr/bin/python3 bench/iris_ninit.py [N_INIT]   (default 10)
"""
import os
import subprocess
import sys

import numpy as np
import sklearn
from sklearn.mixture import GaussianMixture

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
n_init = int(sys.argv[1]) if len(sys.argv) > 1 else 10
iris = os.path.join(TOP, "data", "iris.csv")
X = np.loadtxt(iris, delimiter=",", skiprows=1)
out = subprocess.run([os.path.join(TOP, "src", "mixem"), "run",
                      os.path.join(TOP, "bench", "iris_ninit.lua"), iris, str(n_init)],
                     check=True, capture_output=True, text=True).stdout
mixem = {(c, int(k)): float(v) for c, k, v in (line.split(",") for line in out.split())}
print("iris, n_init = %d, scikit-learn %s; total log-likelihood (higher is better)" % (
    n_init, sklearn.__version__))
print("%-10s %2s %16s %16s %12s" % ("covariance", "K", "scikit-learn", "mixem", "mixem - skl"))
worse = 0
for cov in ("full", "tied", "diag", "spherical"):
    for k in range(1, 6):
        g = GaussianMixture(k, covariance_type=cov, n_init=n_init, random_state=0).fit(X)
        s = g.score(X) * len(X)
        m = mixem[(cov, k)]
        worse += m < s - 1e-6 * abs(s)
        print("%-10s %2d %16.6f %16.6f %12.6f" % (cov, k, s, m, m - s))
print("mixem below scikit-learn (beyond 1e-6 relative) in %d of 20 cases" % worse)
