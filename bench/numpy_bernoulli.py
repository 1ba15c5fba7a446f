#!/usr/bin/python3
"""numpy_bernoulli.py: a plain NumPy EM for a Bernoulli mixture, the B1 reference.

Usage: numpy_bernoulli.py DIR NAME ITERS.  Prints "seconds_per_iteration mean_loglik iterations
bare_seconds": EM from DIR/NAME_init.json (maximum likelihood, mu clipped to [1e-10, 1 - 1e-10]
as mixem's default), and the time of the two matrix products an iteration needs on their own
(X W' for the log-densities, R' X for the statistics), the floor any implementation works
against.  Threads: the caller sets OPENBLAS_NUM_THREADS.
"""
import json
import sys
import time

import numpy as np


def main():
    d, name, iters = sys.argv[1], sys.argv[2], int(sys.argv[3])
    x = np.load(f"{d}/{name}.npy").astype(np.float64)
    with open(f"{d}/{name}_init.json") as f:
        init = json.load(f)
    w = np.array(init["weights"])
    mu = np.array([c["mu"] for c in init["components"]])
    eps = 1e-10
    n = x.shape[0]
    t0 = time.perf_counter()
    for _ in range(iters):
        mu = np.clip(mu, eps, 1 - eps)
        a = x @ np.log(mu / (1 - mu)).T + np.log1p(-mu).sum(axis=1) + np.log(w)
        m = a.max(axis=1, keepdims=True)
        r = np.exp(a - m)
        s = r.sum(axis=1, keepdims=True)
        r /= s
        nk = r.sum(axis=0)
        w = nk / n
        mu = (r.T @ x) / nk[:, None]
    secs = (time.perf_counter() - t0) / iters
    mu = np.clip(mu, eps, 1 - eps)
    a = x @ np.log(mu / (1 - mu)).T + np.log1p(-mu).sum(axis=1) + np.log(w)
    m = a.max(axis=1, keepdims=True)
    ll = float(np.mean(m[:, 0] + np.log(np.exp(a - m).sum(axis=1))))
    # The two bare products, timed alone.
    wt = np.log(mu / (1 - mu)).T.copy()
    t0 = time.perf_counter()
    for _ in range(iters):
        a = x @ wt
        g = r.T @ x
    bare = (time.perf_counter() - t0) / iters
    print(f"{secs:.6f} {ll:.12g} {iters} {bare:.6f}")


if __name__ == "__main__":
    main()
