#!/usr/bin/python3
"""sklearn_run.py: scikit-learn's GaussianMixture on DIR/NAME.npy from DIR/NAME_init.json.

Usage: sklearn_run.py DIR NAME ITERS.  Prints "seconds_per_iteration mean_loglik iterations".
The start is passed as weights_init, means_init and precisions_init (init_params='random' makes
the unused initial responsibilities cheap).  Seconds per iteration are
(t(ITERS) - t(1)) / (ITERS - 1), so the set-up and the final E-step scikit-learn adds are not
counted.  tol = 0 and n_init = 1: every iteration runs.  Threads: the caller sets OMP_NUM_THREADS and
OPENBLAS_NUM_THREADS.
"""
import json
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture


def fit(x, init, cov_type, iters):
    k = init["k"]
    means = np.array([c["mean"] for c in init["components"]])
    covs = np.array([c["cov"] for c in init["components"]])
    prec = np.linalg.inv(covs) if cov_type == "full" else 1.0 / np.array([np.diag(c) for c in covs])
    gm = GaussianMixture(n_components=k, covariance_type=cov_type, max_iter=iters, tol=0.0,
                         n_init=1, init_params="random", weights_init=init["weights"],
                         means_init=means, precisions_init=prec, reg_covar=1e-6, random_state=0)
    t0 = time.perf_counter()
    gm.fit(x)
    return time.perf_counter() - t0, gm


def main():
    d, name, iters = sys.argv[1], sys.argv[2], int(sys.argv[3])
    x = np.load(f"{d}/{name}.npy")
    with open(f"{d}/{name}_init.json") as f:
        init = json.load(f)
    cov_type = init["options"]["covariance"]
    warnings.simplefilter("ignore", ConvergenceWarning)
    t1, _ = fit(x, init, cov_type, 1)
    tn, gm = fit(x, init, cov_type, iters)
    print(f"{(tn - t1) / (iters - 1):.6f} {gm.score(x):.12g} {gm.n_iter_}")


if __name__ == "__main__":
    main()
