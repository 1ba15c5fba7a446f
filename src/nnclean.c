/* nnclean.c: nearest-neighbour clutter removal (Byers and Raftery 1998, "Nearest-neighbor
 * clutter removal for estimating features in spatial point processes", JASA 93:577-584), the
 * estimated noise guess that mclust's examples take from prabclus's NNclean.  Written from the
 * paper and from reading NNclean's R code for its start, its updates and its stopping rule; no
 * code is taken from it.
 *
 * In a Poisson process of intensity lambda in R^d, the distance D_k from a point to its k-th
 * nearest neighbour has D_k^d ~ Gamma(k, rate lambda alpha_d), alpha_d = 2 pi^(d/2) / (d
 * Gamma(d/2)) the volume of the unit ball.  The rows' D_k are fitted as a mixture of two such
 * laws, the clusters (lambda1, weight p) and the noise (lambda2, sparser), by EM:
 *   start:  the rows with D_k above min + range / 3 give lambda2 = k / (alpha_d mean D_k^d),
 *           the others lambda1; p = 1/2
 *   E-step: delta_i = p f1 / (p f1 + (1 - p) f2), f_j the density of D_k under lambda_j
 *   M-step: p = mean delta, lambda1 = k sum delta / (alpha_d sum delta D_k^d), lambda2 alike
 *           with 1 - delta (and NNclean's guards for p = 0 or 1)
 *   stop:   NNclean's rule, a relative change below 1e-3 of its criterion
 *           sum_i [-p lambda1 alpha_d D^d delta - (1 - p) lambda2 alpha_d D^d (1 - delta)
 *                  + delta k log(lambda1 alpha_d) + (1 - delta) k log(lambda2 alpha_d)],
 *           kept as it is so that the iterations, and so lambda and p, are NNclean's.
 * The result is NNclean's probs, f1 / (f1 + f2) at the last parameters (p left out, as it
 * does), and its z, the rounding of probs (R's round(0.5) is 0: noise).  The densities share
 * the factor 2 D^(dk-1) / Gamma(k), which cancels in every ratio: each ratio is
 * 1 / (1 + exp(a2 - a1)) with a_j = k log(lambda_j alpha_d) - lambda_j alpha_d D^d, finite
 * where NNclean's f1 and f2 underflow to 0/0 (it then sets delta to 0 and probs to 1). */
#include <config.h>
#include <math.h>
#include <string.h>
#include "engine.h"
#include <mixem/nnclean.h>

#define NNCLEAN_TOL 1e-3        /* NNclean's default convergence */
#define NNCLEAN_MAX_ITER 100000 /* NNclean has no cap; this one only stops a runaway loop */

/* Sift V into the max-heap H of the M smallest values seen (H[0] the largest of them). */
static void
heap_sift_down (double *h, size_t m, double v)
{
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= m)
      break;
    if (c + 1 < m && h[c + 1] > h[c])
      c++;
    if (h[c] <= v)
      break;
    h[i] = h[c];
    i = c;
  }
  h[i] = v;
}

/* D_k of every row: the K-th smallest Euclidean distance to another row (the sum of squares in
 * column order, as R's dist). */
static void
kth_distances (const double *x, size_t n, size_t d, size_t k, double *heap, double *out)
{
  for (size_t i = 0; i < n; i++) {
    size_t m = 0;
    for (size_t j = 0; j < n; j++) {
      if (j == i)
        continue;
      double s = 0.0;
      for (size_t c = 0; c < d; c++) {
        const double t = x[i * d + c] - x[j * d + c];
        s += t * t;
      }
      const double dist = sqrt (s);
      if (m < k) {   /* fill, then heapify with sift-ups */
        size_t u = m++;
        while (u > 0 && heap[(u - 1) / 2] < dist) {
          heap[u] = heap[(u - 1) / 2];
          u = (u - 1) / 2;
        }
        heap[u] = dist;
      } else if (dist < heap[0])
        heap_sift_down (heap, k, dist);
    }
    out[i] = heap[0];
  }
}

/* p f1 / (p f1 + (1 - p) f2) from the log-domain terms A1, A2 (see the top). */
static double
ratio (double p, double a1, double a2)
{
  if (p <= 0.0)
    return 0.0;
  if (p >= 1.0)
    return 1.0;
  return 1.0 / (1.0 + exp (log1p (-p) + a2 - log (p) - a1));
}

gboolean
mixem_nnclean (const mixem_dataset *data, size_t k, gboolean *noise, double *posterior,
               double *kdist, mixem_nnclean_info *info, GError **error)
{
  const size_t n = mixem_dataset_rows (data), d = mixem_dataset_cols (data);
  if (k < 1 || k >= n) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 "nnclean: k = %zu must be from 1 to the number of rows less one (%zu)", k,
                 n > 0 ? n - 1 : 0);
    return FALSE;
  }
  if (d == 0) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "nnclean: %s has no columns",
                 mixem_dataset_source (data));
    return FALSE;
  }
  const double *x = mixem_dataset_data (data);
  for (size_t i = 0; i < n; i++)
    for (size_t c = 0; c < d; c++)
      if (mixem_dataset_is_missing (data, i, c) || !isfinite (x[i * d + c])) {
        char *where = mixem_dataset_cell_name (data, i, c);
        g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA,
                     "nnclean: %s: a %s value (nearest-neighbour cleaning needs every cell)",
                     where, mixem_dataset_is_missing (data, i, c) ? "missing" : "non-finite");
        g_free (where);
        return FALSE;
      }

  double *dk = g_new (double, n), *y = g_new (double, n), *delta = g_new (double, n);
  double *heap = g_new (double, k);
  gboolean ok = FALSE;
  kth_distances (x, n, d, k, heap, dk);

  const double kk = (double) k, dd = (double) d;
  const double ad = 2.0 * pow (G_PI, dd / 2.0) / (dd * tgamma (dd / 2.0));
  double lo = dk[0], hi = dk[0];
  for (size_t i = 0; i < n; i++) {
    y[i] = pow (dk[i], dd);
    lo = fmin (lo, dk[i]);
    hi = fmax (hi, dk[i]);
  }
  if (!(hi > lo)) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_NUMERIC,
                 "nnclean: every row's distance to its %zu-th nearest neighbour is %g; "
                 "nothing to tell clusters from noise", k, lo);
    goto out;
  }
  /* NNclean's start: the rows beyond the first third of the range of D_k as the noise. */
  const double cut = lo + (hi - lo) / 3.0;
  double s0 = 0.0, s1 = 0.0;
  size_t n1 = 0;
  for (size_t i = 0; i < n; i++)
    if (dk[i] > cut) {
      s1 += y[i];
      n1++;
    } else
      s0 += y[i];
  double l1 = kk / (ad * (s0 / (double) (n - n1)));
  double l2 = kk / (ad * (s1 / (double) n1));
  double p = 0.5, crit_old = 0.0, crit = 1.0;
  size_t it = 0;
  while (fabs ((crit - crit_old) / crit) > NNCLEAN_TOL) {
    if (!isfinite (l1) || !isfinite (l2) || !(l1 > 0.0) || !(l2 > 0.0) || !isfinite (crit)) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_NUMERIC,
                   "nnclean: the intensities became degenerate (lambda1 = %g, lambda2 = %g) at "
                   "iteration %zu (do many rows have %zu exact duplicates or more?)", l1, l2, it, k);
      goto out;
    }
    if (it == NNCLEAN_MAX_ITER) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_NUMERIC,
                   "nnclean: no convergence in %d iterations", NNCLEAN_MAX_ITER);
      goto out;
    }
    const double c1 = kk * log (l1 * ad), c2 = kk * log (l2 * ad);
    double sd = 0.0, sdc = 0.0, syd = 0.0, sydc = 0.0;
    for (size_t i = 0; i < n; i++) {
      const double t = ratio (p, c1 - l1 * ad * y[i], c2 - l2 * ad * y[i]);
      delta[i] = t;
      sd += t;
      sdc += 1.0 - t;
      syd += y[i] * t;
      sydc += y[i] * (1.0 - t);
    }
    p = sd / (double) n;
    if (p > 0.0)
      l1 = kk * sd / (ad * syd);
    if (p < 1.0)
      l2 = kk * sdc / (ad * sydc);
    if (p <= 0.0)
      l1 = l2 / 2.0;
    if (p >= 1.0)
      l2 = 2.0 * l1;
    crit_old = crit;
    crit = 0.0;
    const double g1 = kk * log (l1 * ad), g2 = kk * log (l2 * ad);
    for (size_t i = 0; i < n; i++)
      crit += -p * l1 * ad * y[i] * delta[i] - (1.0 - p) * l2 * ad * y[i] * (1.0 - delta[i])
              + delta[i] * g1 + (1.0 - delta[i]) * g2;
    it++;
  }
  if (!isfinite (l1) || !isfinite (l2) || !(l1 > 0.0) || !(l2 > 0.0)) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_NUMERIC,
                 "nnclean: the intensities became degenerate (lambda1 = %g, lambda2 = %g)", l1, l2);
    goto out;
  }
  const double c1 = kk * log (l1 * ad), c2 = kk * log (l2 * ad);
  for (size_t i = 0; i < n; i++) {
    const double r = 1.0 / (1.0 + exp ((c2 - l2 * ad * y[i]) - (c1 - l1 * ad * y[i])));
    if (noise)
      noise[i] = !(r > 0.5);
    if (posterior)
      posterior[i] = r;
  }
  if (kdist)
    memcpy (kdist, dk, n * sizeof *dk);
  if (info) {
    info->lambda1 = l1;
    info->lambda2 = l2;
    info->p = p;
    info->iterations = it;
  }
  ok = TRUE;
out:
  g_free (dk);
  g_free (y);
  g_free (delta);
  g_free (heap);
  return ok;
}
