#!/usr/bin/python3
"""gen_big.py: a large float64 .npy written in chunks, for the memory-mapped fit.

Usage: gen_big.py PATH [N [D [K]]]   (default 20 000 000 rows, D = 16, K = 8: 2.56 GB)
Rows are drawn from a K-component Gaussian mixture (fixed seed), chunk by chunk, so that writing
the file never holds it in memory.
"""
import sys

import numpy as np


def main():
    path = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 20_000_000
    d = int(sys.argv[3]) if len(sys.argv) > 3 else 16
    k = int(sys.argv[4]) if len(sys.argv) > 4 else 8
    rng = np.random.default_rng(2026)
    means = rng.normal(0.0, 4.0, size=(k, d))
    chol = []
    for _ in range(k):
        a = rng.normal(size=(d, d)) / np.sqrt(d)
        chol.append(np.linalg.cholesky(a @ a.T + 0.5 * np.eye(d)))
    out = np.lib.format.open_memmap(path, mode="w+", dtype="<f8", shape=(n, d))
    chunk = 1_000_000
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        z = rng.integers(0, k, size=m)
        x = rng.normal(size=(m, d))
        for j in range(k):
            rows = z == j
            x[rows] = means[j] + x[rows] @ chol[j].T
        out[start:start + m] = x
    out.flush()


if __name__ == "__main__":
    main()
