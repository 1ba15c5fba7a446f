#!/usr/bin/env python3
"""categorical_numpy.py: an independent NumPy EM for the categorical (latent class) and product
families, written for tests/lua/test_categorical.lua and tests/lua/test_product.lua.  It writes
tests/reference/categorical_fixtures.lua: from fixed starts (drawn here, seed 2026), the
log-likelihood, weights and parameters after 1, 5 and 50 EM iterations.

Formulas (latent class analysis, e.g. Linzer and Lewis, poLCA, J. Stat. Software 42(10), 2011,
eqs. 1-4; McLachlan and Peel, Finite Mixture Models, 2000, sec. 2.8):
  E-step   r_ik  = w_k prod_j pi_kj[x_ij] / sum_h w_h prod_j pi_hj[x_ij]   (in logs, log-sum-exp)
  M-step   w_k = sum_i r_ik / N,  pi_kjl = sum_i r_ik [x_ij = l] / sum_i r_ik, then mixem's floor:
           shares below eps = 1e-10 raised to eps and the column renormalised (none is, here).
The product family's log-density is the sum of its parts' (independence within a component);
its parts' M-steps are the usual ones:
  gaussian, diagonal covariance (scikit-learn's GaussianMixture 'diag'):
           mu_k = sum_i r_ik x_i / R_k,  var_kj = sum_i r_ik (x_ij - mu_kj)^2 / R_k + 1e-6 (reg_covar)
  poisson: lambda_kj = sum_i r_ik x_ij / R_k, log p = x log lambda - lambda - lgamma(x + 1).
The log-likelihood reported after n iterations is that of the parameters after n M-steps,
as mixem reports it.

Data: data/haireyecolor.csv (R's HairEyeColor expanded to 592 rows; codes are the levels'
sorted order, as mixem reads text) and tests/data/product_mixed.csv (300 synthetic rows, written
once by the generator at the end of this file: x, y Gaussian, colour text, visits Poisson).
"""
import csv
import numpy as np
from scipy.special import gammaln, logsumexp

EPS = 1e-10


def read(path):
    with open(path) as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def codes(col):
    levels = sorted(set(col))   # byte order = Python's str order for these ASCII names
    idx = {l: i for i, l in enumerate(levels)}
    return np.array([idx[c] for c in col]), levels


def floor_cols(q):
    low = q < EPS
    if low.any():
        q = np.where(low, EPS, q)
        q = q / q.sum()
    return q


# ---- categorical ----

def cat_logdens(X, L, prob):                  # prob[k][j]: array of L_j
    K = len(prob)
    out = np.zeros((X.shape[0], K))
    for k in range(K):
        for j in range(X.shape[1]):
            out[:, k] += np.log(prob[k][j])[X[:, j]]
    return out


def cat_mstep(X, L, r):
    R = r.sum(0)
    prob = []
    for k in range(r.shape[1]):
        pk = []
        for j in range(X.shape[1]):
            n = np.bincount(X[:, j], weights=r[:, k], minlength=L[j])
            pk.append(floor_cols(n / R[k]))
        prob.append(pk)
    return prob


def cat_em(X, L, w, prob, iters):
    for _ in range(iters):
        lp = cat_logdens(X, L, prob) + np.log(w)
        r = np.exp(lp - logsumexp(lp, axis=1, keepdims=True))
        w = r.sum(0) / X.shape[0]
        prob = cat_mstep(X, L, r)
    ll = logsumexp(cat_logdens(X, L, prob) + np.log(w), axis=1).sum()
    return ll, w, prob


# ---- product: gaussian diag (x, y) + categorical (colour) + poisson (visits) ----

def prod_logdens(G, C, V, th):
    K = len(th['w'])
    out = np.zeros((G.shape[0], K))
    for k in range(K):
        mu, var = th['mean'][k], th['var'][k]
        out[:, k] += (-0.5 * np.log(2 * np.pi * var) - 0.5 * (G - mu) ** 2 / var).sum(1)
        out[:, k] += np.log(th['prob'][k])[C]
        lam = th['lambda'][k]
        out[:, k] += V * np.log(lam) - lam - gammaln(V + 1)
    return out


def prod_em(G, C, LC, V, th, iters):
    th = dict(th)
    for _ in range(iters):
        lp = prod_logdens(G, C, V, th) + np.log(th['w'])
        r = np.exp(lp - logsumexp(lp, axis=1, keepdims=True))
        R = r.sum(0)
        th['w'] = R / G.shape[0]
        mean = (r.T @ G) / R[:, None]
        var = np.array([(r[:, k:k + 1] * (G - mean[k]) ** 2).sum(0) / R[k] + 1e-6
                        for k in range(len(R))])
        th['mean'], th['var'] = mean, var
        th['prob'] = [floor_cols(np.bincount(C, weights=r[:, k], minlength=LC) / R[k])
                      for k in range(len(R))]
        th['lambda'] = (r.T @ V) / R
    ll = logsumexp(prod_logdens(G, C, V, th) + np.log(th['w']), axis=1).sum()
    return ll, th


def lua(v):
    if isinstance(v, (list, tuple, np.ndarray)):
        return '{' + ', '.join(lua(x) for x in v) + '}'
    return repr(float(v))


def main():
    rng = np.random.default_rng(2026)
    out = ['-- written by tests/reference/categorical_numpy.py: do not edit', 'return {',
           '  categorical = {']
    names, rows = read('data/haireyecolor.csv')
    cols = [codes([r[j] for r in rows]) for j in range(len(names))]
    X = np.stack([c[0] for c in cols], 1)
    L = [len(c[1]) for c in cols]
    for K in (2, 3):
        w0 = rng.dirichlet(np.full(K, 5.0))
        p0 = [[rng.dirichlet(np.full(Lj, 2.0)) for Lj in L] for _ in range(K)]
        for iters in (1, 5, 50):
            ll, w, prob = cat_em(X, L, w0, p0, iters)
            out.append('    {k = %d, iters = %d, w0 = %s, prob0 = %s,' % (K, iters, lua(w0),
                                                                          lua(p0)))
            out.append('     loglik = %r, weights = %s, prob = %s},' % (float(ll), lua(w),
                                                                         lua(prob)))
    out.append('  },')
    out.append('  product = {')
    names, rows = read('tests/data/product_mixed.csv')
    G = np.array([[float(r[0]), float(r[1])] for r in rows])
    C, levels = codes([r[2] for r in rows])
    V = np.array([float(r[3]) for r in rows])
    K = 2
    th0 = {'w': np.array([0.4, 0.6]),
           'mean': np.array([[0.5, 0.5], [2.0, -0.5]]), 'var': np.array([[1.0, 1.0], [2.0, 0.5]]),
           'prob': [rng.dirichlet(np.full(len(levels), 2.0)) for _ in range(K)],
           'lambda': np.array([3.0, 6.0])}
    for iters in (1, 5, 50):
        ll, th = prod_em(G, C, len(levels), V, th0, iters)
        out.append('    {k = 2, iters = %d, w0 = %s, mean0 = %s, var0 = %s, prob0 = %s, '
                   'lambda0 = %s,' % (iters, lua(th0['w']), lua(th0['mean']), lua(th0['var']),
                                      lua(th0['prob']), lua(th0['lambda'])))
        out.append('     loglik = %r, weights = %s, mean = %s, var = %s, prob = %s, lambda = %s},'
                   % (float(ll), lua(th['w']), lua(th['mean']), lua(th['var']), lua(th['prob']),
                      lua(th['lambda'])))
    out.append('  },')
    out.append('}')
    with open('tests/reference/categorical_fixtures.lua', 'w') as f:
        f.write('\n'.join(out) + '\n')


def generate_product_data():
    """How tests/data/product_mixed.csv was made (kept for the record; not rerun)."""
    rng = np.random.default_rng(1)
    n = 300
    z = rng.integers(0, 2, n)
    x = rng.normal(np.where(z == 0, 0, 3), 1.0)
    y = rng.normal(np.where(z == 0, 1, -1), 0.5)
    col = np.array(['red', 'green', 'blue'])
    c = [rng.choice(col, p=[.7, .2, .1] if zz == 0 else [.1, .3, .6]) for zz in z]
    v = rng.poisson(np.where(z == 0, 2, 8))
    with open('tests/data/product_mixed.csv', 'w') as f:
        f.write('x,y,colour,visits\n')
        for i in range(n):
            f.write(f'{x[i]:.4f},{y[i]:.4f},{c[i]},{v[i]}\n')


if __name__ == '__main__':
    main()
