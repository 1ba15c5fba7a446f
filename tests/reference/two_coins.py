#!/usr/bin/env python3
"""two_coins.py: an independent derivation of the two-coin EM figures that
tests/check_two_coins.c asserts.

Written from the formulas of Do and Batzoglou (2008) alone, in Python's decimal
arithmetic at 50 significant digits: no mixem code, no floating point, no
log-sum-exp.  Each set i has h_i heads in n_i = 10 tosses; coin k has head
probability t_k, picked with probability w_k.
  E-step: q_ik = w_k L_ik / sum_j w_j L_ij,  L_ik = C(n_i, h_i) t_k^h_i (1 - t_k)^(n_i - h_i)
  M-step: t_k = sum_i q_ik h_i / sum_i q_ik n_i;  w_k = sum_i q_ik / 5 (learned weights only)
  log-likelihood: sum_i log sum_k w_k L_ik   (binomial coefficient included)
Prints, for fixed and learned weights, t_A, t_B, w_A and the log-likelihood
after iterations 1..10, with 17 significant digits.
"""
from decimal import Decimal, getcontext
from math import comb

getcontext().prec = 50
HEADS = [5, 9, 8, 4, 7]      # HTTTHHTHTH HHHHTHHHHH HTHHHHHTHH HTHTTTHHTT THHHTHHHTH
N = 10


def lik(t, h):
    return Decimal(comb(N, h)) * t ** h * (1 - t) ** (N - h)


def run(learn_weights):
    t = [Decimal("0.6"), Decimal("0.5")]
    w = [Decimal("0.5"), Decimal("0.5")]
    rows = []
    for it in range(1, 11):
        q = []
        for h in HEADS:
            a = [w[k] * lik(t[k], h) for k in range(2)]
            s = sum(a)
            q.append([x / s for x in a])
        t = [sum(q[i][k] * HEADS[i] for i in range(5)) /
             sum(q[i][k] * N for i in range(5)) for k in range(2)]
        if learn_weights:
            w = [sum(q[i][k] for i in range(5)) / 5 for k in range(2)]
        ll = sum((sum(w[k] * lik(t[k], h) for k in range(2))).ln() for h in HEADS)
        rows.append((it, t[0], t[1], w[0], ll))
    return rows


for name, learn in (("fixed", False), ("learned", True)):
    print("# weights", name)
    for it, ta, tb, wa, ll in run(learn):
        print("%2d  %.17g  %.17g  %.17g  %.17g" % (it, ta, tb, wa, ll))
