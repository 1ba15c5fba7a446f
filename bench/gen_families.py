#!/usr/bin/python3
"""gen_families.py: the data and starts of the count and category families' benchmark (issue 12).

Usage: gen_families.py DIR [NAME...]   (names: P1 C1 M1; default all three)

  P1  poisson      N = 10^6 rows, D = 10 count columns, K = 5
  C1  categorical  N = 10^6 rows, D = 10 columns of 4 levels (codes 0..3), K = 5 (one-hot width 40)
  M1  multinomial  N = 10^6 rows, L = 50 categories, about 40 trials a row, K = 5

Each set is drawn from a known K-component mixture with a fixed seed (the same bytes on every
run) and written as DIR/NAME.npy (float64, C order: counts, or level codes for C1), with the
start every run is given, DIR/NAME_init.json (a mixem model file: equal weights and parameters
drawn with the same seed, away from the truth).
"""
import json
import os
import sys

import numpy as np

N, K = 1_000_000, 5
SETS = {"P1": ("poisson", 10), "C1": ("categorical", 10), "M1": ("multinomial", 50)}
LEVELS = 4      # C1: levels per column
TRIALS = 40     # M1: mean trials per row


def write(dirname, name):
    family, d = SETS[name]
    rng = np.random.default_rng(20261202 + sum(map(ord, name)))
    z = rng.integers(0, K, size=N)
    model = {"format": "mixem-model", "version": 1, "family": family, "k": K, "d": d,
             "columns": [str(j + 1) for j in range(d)], "options": {},
             "weights": [1.0 / K] * K, "weights_fixed": False}
    if family == "poisson":
        lam = rng.gamma(2.0, 3.0, size=(K, d))
        x = rng.poisson(lam[z]).astype(np.float64)
        start = x.mean(axis=0) * rng.uniform(0.5, 1.5, size=(K, d))
        model["components"] = [{"lambda": row.tolist()} for row in start]
    elif family == "categorical":
        p = rng.dirichlet(np.full(LEVELS, 0.7), size=(K, d))           # K x d x LEVELS
        u = rng.random((N, d, 1))
        x = (u > np.cumsum(p[z], axis=2)).sum(axis=2).astype(np.float64)
        x = np.minimum(x, LEVELS - 1)      # rounding of the last cumulative sum
        start = rng.dirichlet(np.full(LEVELS, 5.0), size=(K, d))
        model["options"] = {"levels": str(LEVELS)}
        model["components"] = [{"prob": comp.tolist()} for comp in start]
    else:
        p = rng.dirichlet(np.full(d, 0.5), size=K)
        trials = rng.poisson(TRIALS - 1, size=N) + 1                      # no row of zeros
        x = np.empty((N, d))
        for k in range(K):
            rows = np.flatnonzero(z == k)
            x[rows] = rng.multinomial(trials[rows], p[k])
        start = rng.dirichlet(np.full(d, 5.0), size=K)
        model["components"] = [{"prob": row.tolist()} for row in start]
    np.save(os.path.join(dirname, name + ".npy"), np.ascontiguousarray(x))
    with open(os.path.join(dirname, name + "_init.json"), "w") as f:
        json.dump(model, f)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    dirname = sys.argv[1]
    os.makedirs(dirname, exist_ok=True)
    for name in sys.argv[2:] or SETS:
        write(dirname, name)


if __name__ == "__main__":
    main()
