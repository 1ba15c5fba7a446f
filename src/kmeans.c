/* kmeans.c: k-means++ seeding (with scikit-learn's greedy local trials) and Lloyd's iterations,
 * row weights respected.  The engine uses them for the "kmeans", "kmeans++" and "random" starts;
 * distances are computed from differences, never from |x|^2 - 2 x.c + |c|^2, so that data far from
 * the origin lose no precision.  The _scaled forms weigh each column by 1 / its variance, so that
 * a column in large units does not decide the clusters alone. */
#include <config.h>
#include <math.h>
#include <string.h>
#include "engine.h"

/* Row I as doubles: in the dataset, or widened into BUF (D values) when it holds bytes. */
#define ROW(data, i, buf) mixem_dataset_block ((data), (i), 1, (buf))

/* |a - b|^2, each column weighted by IW[j] (1 / its variance) when IW is given.  A missing
 * value (NaN, in the row or in a centre seeded from an incomplete row) drops out, and the sum
 * over the M columns left is scaled by D / M (the partial distance of Dixon, 1979); 0 when no
 * column is left. */
static double
dist2 (const double *a, const double *b, size_t d, const double *iw)
{
  double s = 0.0;
  size_t m = d;
  for (size_t j = 0; j < d; j++) {
    const double t = a[j] - b[j];
    if (isnan (t)) {
      m--;
      continue;
    }
    s += iw ? iw[j] * t * t : t * t;
  }
  return m == d ? s : m > 0 ? s * (double) d / (double) m : 0.0;
}

/* A row drawn with probability proportional to P (length N, total TOTAL > 0). */
static size_t
draw (gsl_rng *rng, const double *p, size_t n, double total)
{
  double u = gsl_rng_uniform (rng) * total, acc = 0.0;
  for (size_t i = 0; i < n; i++) {
    acc += p[i];
    if (u < acc)
      return i;
  }
  for (size_t i = n; i-- > 0;)   /* rounding left u at the end: the last row with mass */
    if (p[i] > 0)
      return i;
  return n - 1;
}

void
mixem_kmeanspp (const mixem_dataset *data, size_t k, gsl_rng *rng, double *centres)
{
  mixem_kmeanspp_scaled (data, k, rng, NULL, centres);
}

void
mixem_kmeanspp_scaled (const mixem_dataset *data, size_t k, gsl_rng *rng, const double *iw,
                       double *centres)
{
  const size_t n = mixem_dataset_rows (data), d = mixem_dataset_cols (data);
  const double *w = mixem_dataset_weights (data);
  double *best = g_new (double, n), *p = g_new (double, n);
  double *bi = g_new (double, d), *br = g_new (double, d);
  const int trials = 2 + (int) log ((double) k);
  double tw = 0.0;
  for (size_t i = 0; i < n; i++)
    tw += p[i] = w ? w[i] : 1.0;
  size_t first = draw (rng, p, n, tw);
  memcpy (centres, ROW (data, first, br), d * sizeof (double));
  for (size_t i = 0; i < n; i++)
    best[i] = dist2 (ROW (data, i, bi), centres, d, iw);
  for (size_t c = 1; c < k; c++) {
    double pot = 0.0;
    for (size_t i = 0; i < n; i++)
      pot += p[i] = (w ? w[i] : 1.0) * best[i];
    size_t chosen = 0;
    double chosen_pot = INFINITY;
    for (int t = 0; t < trials; t++) {
      /* All rows already sit on centres: any row will do. */
      size_t r = pot > 0 ? draw (rng, p, n, pot) : gsl_rng_uniform_int (rng, n);
      const double *xr = ROW (data, r, br);
      double cp = 0.0;
      for (size_t i = 0; i < n; i++)
        cp += (w ? w[i] : 1.0) * MIN (best[i], dist2 (ROW (data, i, bi), xr, d, iw));
      if (cp < chosen_pot) {
        chosen_pot = cp;
        chosen = r;
      }
    }
    memcpy (centres + c * d, ROW (data, chosen, br), d * sizeof (double));
    for (size_t i = 0; i < n; i++)
      best[i] = MIN (best[i], dist2 (ROW (data, i, bi), centres + c * d, d, iw));
  }
  g_free (best);
  g_free (p);
  g_free (bi);
  g_free (br);
}

/* Labels of the nearest centres (DMIN: each row's squared distance, may be NULL); returns the
 * weighted inertia. */
double
mixem_nearest_centres (const mixem_dataset *data, size_t k, const double *centres,
                       size_t *labels, double *dmin)
{
  return mixem_nearest_centres_scaled (data, k, centres, NULL, labels, dmin);
}

double
mixem_nearest_centres_scaled (const mixem_dataset *data, size_t k, const double *centres,
                              const double *iw, size_t *labels, double *dmin)
{
  const size_t n = mixem_dataset_rows (data), d = mixem_dataset_cols (data);
  const double *w = mixem_dataset_weights (data);
  double inertia = 0.0, *buf = g_new (double, d);
  for (size_t i = 0; i < n; i++) {
    const double *xi = ROW (data, i, buf);
    size_t arg = 0;
    double m = INFINITY;
    for (size_t c = 0; c < k; c++) {
      double t = dist2 (xi, centres + c * d, d, iw);
      if (t < m) {
        m = t;
        arg = c;
      }
    }
    labels[i] = arg;
    if (dmin)
      dmin[i] = m;
    inertia += (w ? w[i] : 1.0) * m;
  }
  g_free (buf);
  return inertia;
}

double
mixem_kmeans (const mixem_dataset *data, size_t k, int max_iter, gsl_rng *rng, double *centres,
              size_t *labels)
{
  return mixem_kmeans_scaled (data, k, max_iter, rng, NULL, centres, labels);
}

double
mixem_kmeans_scaled (const mixem_dataset *data, size_t k, int max_iter, gsl_rng *rng,
                     const double *iw, double *centres, size_t *labels)
{
  const size_t n = mixem_dataset_rows (data), d = mixem_dataset_cols (data);
  const double *w = mixem_dataset_weights (data);
  size_t *lab = labels ? labels : g_new (size_t, n), *old = g_new (size_t, n);
  double *dmin = g_new (double, n), *mass = g_new (double, k), *buf = g_new (double, d);
  const gboolean miss = mixem_dataset_has_missing (data);
  mixem_kmeanspp_scaled (data, k, rng, iw, centres);
  double inertia = mixem_nearest_centres_scaled (data, k, centres, iw, lab, dmin);
  for (int it = 0; it < max_iter; it++) {
    /* Centres: weighted means, accumulated about the old centre for accuracy far from 0.  With
     * missing values each coordinate is the mean of its observed cells (MJ: their mass), and a
     * coordinate seeded as NaN takes the first observed value as its origin. */
    double *sum = g_new0 (double, k * d), *mj = miss ? g_new0 (double, k * d) : NULL;
    memset (mass, 0, k * sizeof (double));
    for (size_t i = 0; i < n; i++) {
      const double wi = w ? w[i] : 1.0, *xi = ROW (data, i, buf);
      mass[lab[i]] += wi;
      for (size_t j = 0; j < d; j++) {
        double *cj = centres + lab[i] * d + j;
        if (miss && isnan (xi[j]))
          continue;
        if (miss && isnan (*cj))
          *cj = xi[j];
        sum[lab[i] * d + j] += wi * (xi[j] - *cj);
        if (mj)
          mj[lab[i] * d + j] += wi;
      }
    }
    for (size_t c = 0; c < k; c++) {
      if (mass[c] > 0) {
        for (size_t j = 0; j < d; j++)
          if (!mj)
            centres[c * d + j] += sum[c * d + j] / mass[c];
          else if (mj[c * d + j] > 0)
            centres[c * d + j] += sum[c * d + j] / mj[c * d + j];
      } else {
        /* An empty cluster takes the row farthest from its centre (as scikit-learn does). */
        size_t far = 0;
        for (size_t i = 1; i < n; i++)
          if (dmin[i] > dmin[far])
            far = i;
        memcpy (centres + c * d, ROW (data, far, buf), d * sizeof (double));
        dmin[far] = 0.0;
      }
    }
    g_free (sum);
    g_free (mj);
    memcpy (old, lab, n * sizeof (size_t));
    inertia = mixem_nearest_centres_scaled (data, k, centres, iw, lab, dmin);
    if (memcmp (old, lab, n * sizeof (size_t)) == 0)
      break;
  }
  if (!labels)
    g_free (lab);
  g_free (old);
  g_free (dmin);
  g_free (mass);
  g_free (buf);
  return inertia;
}

double
mixem_adjusted_rand_index (const size_t *a, const size_t *b, size_t n)
{
  /* Hubert and Arabie (1985): contingency table of the two labelings, pair counts. */
  size_t ka = 0, kb = 0;
  for (size_t i = 0; i < n; i++) {
    ka = MAX (ka, a[i] + 1);
    kb = MAX (kb, b[i] + 1);
  }
  double *t = g_new0 (double, ka * kb + ka + kb), *ra = t + ka * kb, *rb = ra + ka;
  for (size_t i = 0; i < n; i++) {
    t[a[i] * kb + b[i]] += 1;
    ra[a[i]] += 1;
    rb[b[i]] += 1;
  }
  double sum = 0, sa = 0, sb = 0;
  for (size_t i = 0; i < ka * kb; i++)
    sum += t[i] * (t[i] - 1) / 2;
  for (size_t i = 0; i < ka; i++)
    sa += ra[i] * (ra[i] - 1) / 2;
  for (size_t j = 0; j < kb; j++)
    sb += rb[j] * (rb[j] - 1) / 2;
  g_free (t);
  const double pairs = (double) n * ((double) n - 1) / 2;
  const double expected = pairs > 0 ? sa * sb / pairs : 0, top = (sa + sb) / 2;
  /* Both labelings a single cluster, or each point its own: identical partitions. */
  return top == expected ? 1.0 : (sum - expected) / (top - expected);
}
