#!/usr/bin/python3
"""gen.py: the benchmark's data sets and starting parameters, the same bytes on every run.

Usage: gen.py DIR [NAME...]   (names: G1 G2 G3 B1, and csv: G1 as CSV; default the four sets)

For each set it writes DIR/NAME.npy (float64 rows; B1 uint8 0/1) and the start every
implementation is given: DIR/NAME_init.json (a mixem model file, which the Python drivers read
too) and DIR/NAME_init.f64 (the same numbers as raw little-endian float64 for the C and C++
drivers: K weights, K*D means, then K*D*D full or K*D diagonal covariances).  The start is K distinct rows drawn with a fixed seed as means, the data's covariance (or
variances) for every component, and equal weights; for B1, mu drawn uniformly in [0.25, 0.75].
"""
import json
import os
import sys

import numpy as np

SETS = {
    # name: (family, covariance, N, D, K)
    "G1": ("gaussian", "full", 200_000, 16, 16),
    "G2": ("gaussian", "diag", 1_000_000, 32, 32),
    "G3": ("gaussian", "full", 1_000_000, 4, 8),
    "B1": ("bernoulli", None, 60_000, 784, 32),
}


def gaussian(rng, n, d, k, cov_type):
    means = rng.normal(0.0, 3.0, size=(k, d))
    weights = rng.dirichlet(np.full(k, 5.0))
    z = rng.choice(k, size=n, p=weights)
    x = np.empty((n, d))
    for j in range(k):
        rows = np.flatnonzero(z == j)
        if cov_type == "full":
            a = rng.normal(size=(d, d)) / np.sqrt(d)
            l = np.linalg.cholesky(a @ a.T + 0.5 * np.eye(d))
            x[rows] = means[j] + rng.normal(size=(rows.size, d)) @ l.T
        else:
            sd = np.sqrt(rng.uniform(0.3, 2.0, size=d))
            x[rows] = means[j] + rng.normal(size=(rows.size, d)) * sd
    return x


def bernoulli(rng, n, d, k):
    mu = rng.beta(0.5, 0.5, size=(k, d))
    z = rng.integers(0, k, size=n)
    return (rng.random((n, d)) < mu[z]).astype(np.uint8)


def write(dirname, name):
    family, cov_type, n, d, k = SETS[name]
    rng = np.random.default_rng(20261126 + sum(map(ord, name)))
    x = gaussian(rng, n, d, k, cov_type) if family == "gaussian" else bernoulli(rng, n, d, k)
    np.save(os.path.join(dirname, name + ".npy"), x)
    start = rng.choice(n, size=k, replace=False)
    model = {"format": "mixem-model", "version": 1, "family": family, "k": k, "d": d,
             "columns": [str(j + 1) for j in range(d)], "options": {},
             "weights": [1.0 / k] * k, "weights_fixed": False}
    if family == "gaussian":
        xf = x.astype(np.float64)
        cov = np.cov(xf, rowvar=False, bias=True)
        if cov_type == "diag":
            cov = np.diag(np.diag(cov))
        model["options"] = {"covariance": cov_type}
        model["components"] = [{"mean": xf[i].tolist(), "cov": cov.tolist()} for i in start]
        covs = np.array([cov if cov_type == "full" else np.diag(cov) for _ in start])
        np.concatenate([np.full(k, 1.0 / k), xf[start].ravel(), covs.ravel()]).astype("<f8") \
            .tofile(os.path.join(dirname, name + "_init.f64"))
    else:
        mu = rng.uniform(0.25, 0.75, size=(k, d))
        model["components"] = [{"mu": row.tolist()} for row in mu]
    with open(os.path.join(dirname, name + "_init.json"), "w") as f:
        json.dump(model, f)


def write_csv(dirname):
    """G1's rows as CSV (about 60 MB), for the CSV reading speed."""
    x = np.load(os.path.join(dirname, "G1.npy"))
    np.savetxt(os.path.join(dirname, "G1.csv"), x, delimiter=",", fmt="%.17g",
               header=",".join(f"x{j + 1}" for j in range(x.shape[1])), comments="")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    dirname = sys.argv[1]
    os.makedirs(dirname, exist_ok=True)
    for name in sys.argv[2:] or SETS:
        if name == "csv":
            write_csv(dirname)
        else:
            write(dirname, name)


if __name__ == "__main__":
    main()
