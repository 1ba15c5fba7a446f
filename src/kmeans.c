/* kmeans.c: k-means++ seeding (with scikit-learn's greedy local trials) and Lloyd's iterations,
 * row weights respected.  The engine uses them for the "kmeans", "kmeans++" and "random" starts;
 * distances are computed from differences, never from |x|^2 - 2 x.c + |c|^2, so that data far from
 * the origin lose no precision.  The _scaled forms weigh each column by 1 / its variance, so that
 * a column in large units does not decide the clusters alone. */
#include <config.h>
#include <math.h>
#include <string.h>
#include "comm.h"
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

/* ---- sums and draws over all rows, across ranks (a part, mixem/parallel.h) too ----
 * Each is taken over chunks of GRAIN rows (those of the fit's reduction tree): a chunk's part
 * summed in row order, so that the result does not depend on the ranks.  Row indices are
 * global; a row another rank holds is sent by it. */

/* The ranks' row offsets (NRANKS + 1; {0, n} for a whole dataset) in OFF, this rank in *ME. */
static const size_t *
rank_rows (const mixem_dataset *data, size_t *whole, int *nranks, int *me)
{
  const size_t *off = mixem_dataset_part_offsets (data);
  *nranks = off ? mixem_parallel_size () : 1;
  *me = off ? mixem_parallel_rank () : 0;
  if (off)
    return off;
  whole[0] = 0;
  whole[1] = mixem_dataset_rows (data);
  return whole;
}

typedef struct {
  const double *p;
} psum_job;

static gboolean
psum_leaf (size_t first, size_t n, double *out, void *user, GError **error)
{
  const psum_job *job = user;
  double s = 0.0;
  for (size_t i = first; i < first + n; i++)
    s += job->p[i];
  *out = s;
  return TRUE;
}

/* The sum of P (one value a local row) over all rows, by the fixed tree. */
static double
sum_rows (const mixem_dataset *data, size_t grain, const double *p)
{
  psum_job job = { p };
  double s = 0.0;
  mixem_tree_reduce (data, 0, mixem_dataset_rows (data), grain, 1, psum_leaf, NULL, &job, &s,
                     NULL);
  return s;
}

/* Global row G into BUF (D doubles), from whichever rank holds it. */
static const double *
global_row (const mixem_dataset *data, size_t g, double *buf)
{
  size_t whole[2];
  int nranks, me, owner = 0;
  const size_t *off = rank_rows (data, whole, &nranks, &me);
  const size_t d = mixem_dataset_cols (data);
  while (owner + 1 < nranks && off[owner + 1] <= g)
    owner++;
  if (owner == me) {
    const double *x = ROW (data, g - off[owner], buf);
    if (x != buf)
      memcpy (buf, x, d * sizeof (double));
  }
  if (nranks > 1)
    mixem_comm_bcast (buf, d * sizeof (double), owner);
  return buf;
}

/* A row (global index) drawn with probability proportional to P (local rows, total TOTAL > 0
 * over all rows): u = uniform * TOTAL, the chunk where the chunks' running sum passes u, then
 * the row there where the running sum from that chunk's start passes it. */
static size_t
draw (const mixem_dataset *data, size_t grain, gsl_rng *rng, const double *p, double total)
{
  size_t whole[2];
  int nranks, me;
  const size_t *off = rank_rows (data, whole, &nranks, &me);
  const size_t n = mixem_dataset_rows (data), nall = mixem_dataset_all_rows (data);
  const double u = gsl_rng_uniform (rng) * total;
  /* Every chunk's sum, on every rank. */
  size_t *counts = g_new (size_t, nranks), chunks = 0;
  for (int r = 0; r < nranks; r++)
    chunks += counts[r] = (off[r + 1] - off[r] + grain - 1) / grain;
  const size_t mine = counts[me];
  double *cs = g_new (double, chunks + 1), *my = g_new (double, mine + 1);
  for (size_t c = 0; c < mine; c++) {
    double s = 0.0;
    for (size_t i = c * grain; i < MIN (n, (c + 1) * grain); i++)
      s += p[i];
    my[c] = s;
  }
  if (nranks > 1)
    mixem_comm_allgatherv (my, mine, cs, counts);
  else
    memcpy (cs, my, mine * sizeof (double));
  /* The chunk, and the running sum before it; rounding past the end: the last chunk with mass
   * (its last row with mass below). */
  size_t at = chunks, last = chunks;
  double before = 0.0, acc = 0.0;
  for (size_t c = 0; c < chunks; c++) {
    if (cs[c] > 0)
      last = c;
    if (at == chunks && u < acc + cs[c]) {
      at = c;
      before = acc;
    }
    acc += cs[c];
  }
  gboolean past = at == chunks;
  if (past)
    at = last;
  guint64 row = nall - 1;
  if (at < chunks) {
    /* Chunk AT's global first row, and the rank that holds it. */
    size_t first = 0, c0 = 0;
    int owner = 0;
    for (int r = 0; r < nranks; r++) {
      if (at >= c0 && at < c0 + counts[r]) {
        owner = r;
        first = off[r] + (at - c0) * grain;
      }
      c0 += counts[r];
    }
    if (owner == me) {
      const size_t lo = first - off[me], hi = MIN (n, lo + grain);
      gboolean found = FALSE;
      double a = before;
      for (size_t i = lo; i < hi && !past && !found; i++) {
        a += p[i];
        if (u < a) {
          row = off[me] + i;
          found = TRUE;
        }
      }
      for (size_t i = hi; i-- > lo && !found;)   /* rounding: the last row with mass */
        if (p[i] > 0) {
          row = off[me] + i;
          found = TRUE;
        }
    }
    if (nranks > 1)
      mixem_comm_bcast (&row, sizeof row, owner);
  }
  g_free (counts);
  g_free (cs);
  g_free (my);
  return (size_t) row;
}

void
mixem_kmeanspp (const mixem_dataset *data, size_t k, gsl_rng *rng, double *centres)
{
  mixem_kmeanspp_scaled (data, k, rng, NULL, 64 * 256, centres);
}

typedef struct {
  const mixem_dataset *data;
  const double *best, *xr, *iw;
} trial_job;

/* A chunk's share of a trial centre's potential, sum_i w_i min(best_i, |x_i - xr|^2). */
static gboolean
trial_leaf (size_t first, size_t n, double *out, void *user, GError **error)
{
  const trial_job *job = user;
  const size_t d = mixem_dataset_cols (job->data);
  const double *w = mixem_dataset_weights (job->data);
  double *bi = g_new (double, d), cp = 0.0;
  for (size_t i = first; i < first + n; i++)
    cp += (w ? w[i] : 1.0) * MIN (job->best[i], dist2 (ROW (job->data, i, bi), job->xr, d,
                                                       job->iw));
  g_free (bi);
  *out = cp;
  return TRUE;
}

void
mixem_kmeanspp_scaled (const mixem_dataset *data, size_t k, gsl_rng *rng, const double *iw,
                       size_t grain, double *centres)
{
  const size_t n = mixem_dataset_rows (data), d = mixem_dataset_cols (data);
  const size_t nall = mixem_dataset_all_rows (data);
  const double *w = mixem_dataset_weights (data);
  double *best = g_new (double, n + 1), *p = g_new (double, n + 1);
  double *bi = g_new (double, d), *br = g_new (double, d);
  const int trials = 2 + (int) log ((double) k);
  for (size_t i = 0; i < n; i++)
    p[i] = w ? w[i] : 1.0;
  size_t first = draw (data, grain, rng, p, sum_rows (data, grain, p));
  memcpy (centres, global_row (data, first, br), d * sizeof (double));
  for (size_t i = 0; i < n; i++)
    best[i] = dist2 (ROW (data, i, bi), centres, d, iw);
  for (size_t c = 1; c < k; c++) {
    for (size_t i = 0; i < n; i++)
      p[i] = (w ? w[i] : 1.0) * best[i];
    const double pot = sum_rows (data, grain, p);
    size_t chosen = 0;
    double chosen_pot = INFINITY;
    for (int t = 0; t < trials; t++) {
      /* All rows already sit on centres: any row will do. */
      size_t r = pot > 0 ? draw (data, grain, rng, p, pot) : gsl_rng_uniform_int (rng, nall);
      trial_job job = { data, best, global_row (data, r, br), iw };
      double cp = 0.0;
      mixem_tree_reduce (data, 0, n, grain, 1, trial_leaf, NULL, &job, &cp, NULL);
      if (cp < chosen_pot) {
        chosen_pot = cp;
        chosen = r;
      }
    }
    memcpy (centres + c * d, global_row (data, chosen, br), d * sizeof (double));
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
  return mixem_kmeans_scaled (data, k, max_iter, rng, NULL, 64 * 256, centres, labels);
}

typedef struct {
  const mixem_dataset *data;
  const size_t *lab;
  const double *centres;
  size_t k;
  gboolean miss;
} lloyd_job;

/* A chunk's cluster masses (K) and weighted sums about the old centres (K * D); with missing
 * values, each coordinate's sum over its observed cells and their masses (K * D more), a centre's
 * coordinate that is NaN (seeded from a row missing it) summed about 0. */
static gboolean
lloyd_leaf (size_t first, size_t n, double *out, void *user, GError **error)
{
  const lloyd_job *job = user;
  const size_t d = mixem_dataset_cols (job->data), k = job->k;
  const double *w = mixem_dataset_weights (job->data);
  double *mass = out, *sum = out + k, *mj = job->miss ? sum + k * d : NULL;
  double *buf = g_new (double, d);
  memset (out, 0, (k * (d + 1) + (mj ? k * d : 0)) * sizeof (double));
  for (size_t i = first; i < first + n; i++) {
    const double wi = w ? w[i] : 1.0, *xi = ROW (job->data, i, buf);
    const size_t c = job->lab[i];
    mass[c] += wi;
    if (!mj) {
      for (size_t j = 0; j < d; j++)
        sum[c * d + j] += wi * (xi[j] - job->centres[c * d + j]);
      continue;
    }
    for (size_t j = 0; j < d; j++) {
      if (isnan (xi[j]))
        continue;
      const double cj = job->centres[c * d + j];
      sum[c * d + j] += wi * (isnan (cj) ? xi[j] : xi[j] - cj);
      mj[c * d + j] += wi;
    }
  }
  g_free (buf);
  return TRUE;
}

/* The global index of the first row with the largest DMIN (local rows), over all ranks. */
static size_t
farthest_row (const mixem_dataset *data, const double *dmin)
{
  size_t whole[2];
  int nranks, me;
  const size_t *off = rank_rows (data, whole, &nranks, &me);
  const size_t n = mixem_dataset_rows (data);
  size_t far = 0;
  for (size_t i = 1; i < n; i++)
    if (dmin[i] > dmin[far])
      far = i;
  if (nranks == 1)
    return far;
  double mine[2] = { n > 0 ? dmin[far] : -INFINITY, (double) (off[me] + far) };
  double *all = g_new (double, 2 * (size_t) nranks);
  size_t *counts = g_new (size_t, nranks);
  for (int r = 0; r < nranks; r++)
    counts[r] = 2;
  mixem_comm_allgatherv (mine, 2, all, counts);
  int best = 0;
  for (int r = 1; r < nranks; r++)
    if (all[2 * r] > all[2 * best])
      best = r;
  const size_t g = (size_t) all[2 * best + 1];
  g_free (all);
  g_free (counts);
  return g;
}

double
mixem_kmeans_scaled (const mixem_dataset *data, size_t k, int max_iter, gsl_rng *rng,
                     const double *iw, size_t grain, double *centres, size_t *labels)
{
  const size_t n = mixem_dataset_rows (data), d = mixem_dataset_cols (data);
  size_t whole[2];
  int nranks, me;
  const size_t *off = rank_rows (data, whole, &nranks, &me);
  size_t *lab = labels ? labels : g_new (size_t, n + 1), *old = g_new (size_t, n + 1);
  double *dmin = g_new (double, n + 1), *buf = g_new (double, d);
  /* With missing values each coordinate is the mean of its observed cells: their masses follow
   * the sums (MJ). */
  const gboolean miss = mixem_dataset_has_missing (data);
  const size_t slen = k * (d + 1) + (miss ? k * d : 0);
  double *sums = g_new (double, slen);
  mixem_kmeanspp_scaled (data, k, rng, iw, grain, centres);
  double inertia = mixem_nearest_centres_scaled (data, k, centres, iw, lab, dmin);
  for (int it = 0; it < max_iter; it++) {
    /* Centres: weighted means, accumulated about the old centre for accuracy far from 0. */
    lloyd_job job = { data, lab, centres, k, miss };
    mixem_tree_reduce (data, 0, n, grain, slen, lloyd_leaf, NULL, &job, sums, NULL);
    const double *mass = sums, *sum = sums + k, *mj = miss ? sum + k * d : NULL;
    for (size_t c = 0; c < k; c++) {
      if (mass[c] > 0) {
        for (size_t j = 0; j < d; j++)
          if (!mj)
            centres[c * d + j] += sum[c * d + j] / mass[c];
          else if (mj[c * d + j] > 0 && isnan (centres[c * d + j]))
            centres[c * d + j] = sum[c * d + j] / mj[c * d + j];   /* summed about 0 */
          else if (mj[c * d + j] > 0)
            centres[c * d + j] += sum[c * d + j] / mj[c * d + j];
      } else {
        /* An empty cluster takes the row farthest from its centre (as scikit-learn does). */
        const size_t far = farthest_row (data, dmin);
        memcpy (centres + c * d, global_row (data, far, buf), d * sizeof (double));
        if (far >= off[me] && far < off[me + 1])
          dmin[far - off[me]] = 0.0;
      }
    }
    memcpy (old, lab, n * sizeof (size_t));
    inertia = mixem_nearest_centres_scaled (data, k, centres, iw, lab, dmin);
    size_t changed = memcmp (old, lab, n * sizeof (size_t)) != 0;
    if (nranks > 1)
      changed = mixem_comm_max_size (changed);
    if (!changed)
      break;
  }
  if (!labels)
    g_free (lab);
  g_free (old);
  g_free (dmin);
  g_free (sums);
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
