/* hc.c: model-based agglomerative hierarchical clustering for the Gaussian start "hc", after
 * mclust's hc() (Fraley 1998, "Algorithms for model-based Gaussian hierarchical clustering",
 * SIAM J. Sci. Comput. 20:270-281; Banfield and Raftery 1993).  Written from the papers and from
 * reading mclust 6's R code and Fortran (hcvvv, hceii, hc1v, hc1e) for its constants, its
 * transformation of the data and its order of merges; no code is taken from it.
 *
 * Every row starts as its own cluster (as mclust's hc(), which leaves duplicated rows apart:
 * its dupPartition is never passed on).  Each step merges the pair whose merge changes the
 * classification likelihood criterion least:
 *   VVV:  sum_k n_k log( |W_k / n_k| + beta (tr W_k + alpha) / n_k ),   n_k > p
 *         sum_k n_k log( beta (tr W_k + alpha) / n_k ),                  n_k <= p
 *         (|W_k / n_k| taken as 0 when W_k is singular; a singleton contributes log(beta alpha))
 *   VII:  sum_k n_k log((tr W_k + alpha) / n_k), alpha as VVV's (mclust's hcvii)
 *   V (one column): the same with alpha = DBL_EPSILON as mclust's hcV (its R code clamps
 *         alpha with min() where hcVVV and hcVII use max(), which leaves the machine epsilon;
 *         we do the same for parity)
 *   EII, E (one column): Ward's increase of sum_k tr W_k, n_i n_j / (n_i + n_j) |m_i - m_j|^2,
 *         updated by the Lance-Williams formula as mclust does.
 *   EEE:  the pooled scatter's determinant (with its trace while W is near singular), every pair
 *         evaluated at every step (see hc_eee).
 * W_k is the scatter about the cluster mean.  alpha = max(tr W(X / sqrt(N p)), DBL_EPSILON)
 * (mclust's hcVVV: alpha = 1 times traceW of the scaled data), beta = 1.
 *
 * Each cluster keeps n, sqrt(n) times its mean, tr W and an upper-triangular R with R'R = W
 * (at most p rows); a merge's W is W_i + W_j + v v' with v = sqrt(n_i n_j / n) (m_i - m_j), its
 * R from R_i by Givens rotations that bring in the rows of R_j and then v (a rank-one update
 * each; no covariance is formed or inverted).
 *
 * Memory and time: the criterion of every pair of current clusters is stored (N(N-1)/2
 * doubles, as mclust keeps it), with each column's minimum cached, so that a step costs O(N)
 * criteria updates (O(p^3) each for VVV) plus the rescans of the columns whose minimum was one
 * of the merged pair: O(N^2) in all for the usual case, against mclust's full scan every step
 * (O(N^3)).  Ties go as in mclust: the last pair in its order of pairs (by column, then row) of
 * the clusters' current slots, where a merge puts the merged cluster in the lower slot and
 * moves the last slot into the higher one.
 *
 * Parity with mclust 6.0.0 (tests/lua/test_hc.lua, tests/reference/hc_mclust.R): the partitions
 * at K = 2..5 are mclust's on faithful, diabetes, banknote and thyroid for VII and EEE (SVD and
 * VARS), VVV and EII with
 * use = SVD (what Mclust's start uses; on diabetes, thyroid and banknote every level from N - 1
 * clusters down is mclust's) and EII with VARS, and for V and E on one column.  VVV with VARS
 * parts from mclust on faithful (K = 5), diabetes and thyroid because of a slip in mclust's
 * hcvvv (6.0.0, still in 6.1.3's src/mclust.f): when it stores a merged cluster's factor in the
 * rows of X, it copies the factor's first row into every row (dcopy(p, r(1,1), p, x(l,1), n)
 * in a loop over the rows, where r(k,k) is meant), so that a later merge with that cluster
 * (n >= 3 when p >= 2) uses a wrong scatter.  On diabetes at 41 clusters it merges
 * {2,19,44} with {10,13,22} (1-based rows) for 17.741, which is exactly that pair's criterion
 * with the second cluster's factor rows replaced by copies of its first (checked in NumPy), while
 * its true criterion is 17.966 and another pair's is 16.300; we merge that one.  On data in large
 * units the determinant dominates the criterion and the slip shows; on the SVD-scaled data the
 * trace term (alpha) dominates while clusters are small, and it did not change a merge on the
 * sets above.  We follow the criterion and do not copy the slip.
 *
 * Data transformation (mclust.options("hcUse")): "SVD" (mclust >= 5.4's default): columns
 * centred and scaled to unit standard deviation (n - 1), then projected on the right singular
 * vectors and divided by the square roots of the singular values (Z = U diag(sqrt(s)));
 * "VARS": the columns as they are.  Columns that are constant (SVD: or singular directions) are
 * dropped, as mclust drops the non-finite columns scaling leaves.
 *
 * Large N: mclust clusters a subset of mclust.options("subset") = 2000 rows drawn at random
 * (R's sample(), so its start depends on R's seed).  Ours is deterministic: rows
 * floor(i N / m), i = 0..m-1, evenly spaced through the data.  Rows outside the subset have no
 * label (MIXEM_HC_NONE); the start's M-step uses the subset's rows only, as mclust's mstep on
 * data[subset, ], and EM then runs on every row. */
#include <config.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <gsl/gsl_linalg.h>
#include "engine.h"

typedef enum { HC_VVV, HC_EII, HC_V, HC_E, HC_VII, HC_EEE } hc_model;

typedef struct {
  size_t n, p;          /* rows (of the subset), columns of Z */
  hc_model model;
  double *z;            /* n*p, the transformed rows */
  double alpha, beta, ablog;
  /* per slot */
  size_t *cnt;          /* rows in the cluster */
  double *xs;           /* slot*p: sqrt(n) * mean */
  double *tr;           /* tr W */
  double *term;         /* the cluster's share of the criterion */
  double *r;            /* slot*p*p: R, rows 0..min(n-1, p)-1 valid */
  size_t *head, *tail, *next;   /* member lists: next over rows */
  /* the pairs */
  double *d;            /* tri(i, j) = j (j - 1) / 2 + i, i < j */
  double *cmin;         /* per column j: min over i < j */
  size_t *carg;         /* its row (the last on ties) */
} hc_state;

static inline size_t
tri (size_t i, size_t j)
{
  return j * (j - 1) / 2 + i;
}

/* The entry of the pair {a, b}, a != b. */
static inline double *
dref (hc_state *s, size_t a, size_t b)
{
  return s->d + (a < b ? tri (a, b) : tri (b, a));
}

static size_t
rows_of (size_t n, size_t p)
{
  return n - 1 < p ? n - 1 : p;
}

/* Adds row V (length M) to the upper-triangular factor R (leading dimension P, M columns) that
 * holds K rows so far: R'R + v v'.  Returns the new count of rows (at most M).  Givens
 * rotations, V overwritten. */
static size_t
add_row (double *r, size_t ld, size_t m, size_t k, double *v)
{
  for (size_t i = 0; i < m && i < k; i++) {
    double *ri = r + i * ld;
    const double a = ri[i], b = v[i];
    if (b == 0.0)
      continue;
    /* sqrt of the sum of squares is a quarter of the time of hypot; hypot where it over- or
     * underflows. */
    double h = sqrt (a * a + b * b);
    if (!(h > 0.0) || !isfinite (h))
      h = hypot (a, b);
    const double c = a / h, sn = b / h;
    ri[i] = h;
    v[i] = 0.0;
    for (size_t j = i + 1; j < m; j++) {
      const double x = ri[j], y = v[j];
      ri[j] = c * x + sn * y;
      v[j] = c * y - sn * x;
    }
  }
  if (k < m) {
    double *rk = r + k * ld;
    for (size_t j = 0; j < m; j++)
      rk[j] = j < k ? 0.0 : v[j];
    return k + 1;
  }
  return k;
}

/* mclust's cluster term for VVV (and V) from its size L, trace and factor. */
static double
vvv_term (const hc_state *s, size_t l, double trac, const double *r, size_t nrows)
{
  const double L = (double) l, p = (double) s->p;
  if (s->model == HC_V || s->model == HC_VII)
    return L * log ((trac + s->alpha) / L);
  if (L <= p || nrows < s->p)
    return L * log (s->beta * (trac + s->alpha) / L);
  if (trac == 0.0)
    return L * log (s->alpha * s->beta / L);
  double detlog = 0.0;
  const double sc = sqrt (1.0 / L);
  for (size_t k = 0; k < s->p; k++) {
    const double q = fabs (r[k * s->p + k] * sc);
    if (!(q > 0.0))
      return L * log (s->beta * (trac + s->alpha) / L);
    detlog += log (q);
  }
  detlog *= 2.0;
  const double t = s->beta * (trac + s->alpha) / L;
  return L * (detlog <= 0.0 ? log (exp (detlog) + t) : log1p (exp (-detlog) * t) + detlog);
}

/* The merge of slots A and B (VVV, V): its trace and term, and its factor into RO (p*p) when
 * RO is given.  WORK holds 2p doubles. */
static double
vvv_merge (const hc_state *s, size_t a, size_t b, double *ro, double *trout, double *work)
{
  const size_t p = s->p, na = s->cnt[a], nb = s->cnt[b], nab = na + nb;
  const double rab = (double) nab, sa = sqrt ((double) na / rab), sb = sqrt ((double) nb / rab);
  double *v = work, *rr = ro;
  /* v = sqrt(nb/n) xs_a - sqrt(na/n) xs_b = sqrt(na nb / n) (m_a - m_b) */
  double vv = 0.0;
  for (size_t j = 0; j < p; j++) {
    v[j] = sb * s->xs[a * p + j] - sa * s->xs[b * p + j];
    vv += v[j] * v[j];
  }
  const double trac = (s->tr[a] + s->tr[b]) + vv;
  *trout = trac;
  if (s->model == HC_V || s->model == HC_VII)
    return vvv_term (s, nab, trac, NULL, 0);
  /* Below p + 1 rows the term needs the trace only: the factor is built only when asked. */
  if (nab <= p && !ro)
    return vvv_term (s, nab, trac, NULL, 0);
  double local[p * p > 0 ? p * p : 1];
  if (!rr)
    rr = local;
  const size_t ka = rows_of (na, p), kb = rows_of (nb, p);
  memcpy (rr, s->r + a * p * p, ka * p * sizeof (double));
  size_t k = ka;
  double *w = work + p;
  for (size_t i = 0; i < kb; i++) {
    memcpy (w, s->r + b * p * p + i * p, p * sizeof (double));
    k = add_row (rr, p, p, k, w);
  }
  k = add_row (rr, p, p, k, v);
  return vvv_term (s, nab, trac, rr, k);
}

/* The criterion of the pair {a, b} for VVV and V. */
static double
pair_cost (const hc_state *s, size_t a, size_t b, double *work)
{
  double trac;
  const double t = vvv_merge (s, a, b, NULL, &trac, work);
  return t - (s->term[a] + s->term[b]);
}

static void
rescan (hc_state *s, size_t j)
{
  double m = INFINITY;
  size_t arg = 0;
  const double *col = s->d + tri (0, j);
  for (size_t i = 0; i < j; i++)
    if (col[i] <= m) {
      m = col[i];
      arg = i;
    }
  s->cmin[j] = m;
  s->carg[j] = arg;
}

/* A new value V at row I of column J (whose cached minimum is not at I). */
static inline void
offer (hc_state *s, size_t i, size_t j, double v)
{
  if (v < s->cmin[j] || (v == s->cmin[j] && i > s->carg[j])) {
    s->cmin[j] = v;
    s->carg[j] = i;
  }
}

/* Z from the rows ROWS (M of them) of DATA by USE; sets s->z, s->p. */
static gboolean
transform (hc_state *s, const mixem_dataset *data, const size_t *rows, size_t m, gboolean svd,
           GError **error)
{
  const size_t d = mixem_dataset_cols (data);
  double *x = g_new (double, m * d), *buf = g_new (double, d);
  for (size_t i = 0; i < m; i++)
    memcpy (x + i * d, mixem_dataset_block (data, rows[i], 1, buf), d * sizeof (double));
  g_free (buf);
  /* Columns that vary: means and sds (n - 1) by a two-pass sum. */
  size_t p = 0;
  double *mean = g_new0 (double, d), *sd = g_new0 (double, d);
  /* Sums in long double, as R's colMeans and sum, so that scaled values tie where R's do. */
  for (size_t j = 0; j < d; j++) {
    long double acc = 0.0L;
    for (size_t i = 0; i < m; i++)
      acc += x[i * d + j];
    mean[j] = (double) (acc / (long double) m);
    acc = 0.0L;
    for (size_t i = 0; i < m; i++) {
      const double c = x[i * d + j] - mean[j];
      acc += c * c;
    }
    sd[j] = m > 1 ? sqrt ((double) (acc / (long double) (m - 1))) : 0.0;
    if (sd[j] > 0.0 && isfinite (sd[j]))
      p++;
  }
  if (!svd) {
    /* VARS: every column as it is (mclust keeps constant ones too). */
    s->z = x;
    s->p = d;
    g_free (mean);
    g_free (sd);
    return TRUE;
  }
  if (p == 0 || m <= p) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA,
                 "hc: hc_use = SVD needs more rows (%zu) than varying columns (%zu); "
                 "use hc_use = VARS", m, p);
    g_free (x);
    g_free (mean);
    g_free (sd);
    return FALSE;
  }
  gsl_matrix *a = gsl_matrix_alloc (m, p), *v = gsl_matrix_alloc (p, p);
  gsl_vector *sv = gsl_vector_alloc (p), *work = gsl_vector_alloc (p);
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0, q = 0; j < d; j++)
      if (sd[j] > 0.0 && isfinite (sd[j]))
        gsl_matrix_set (a, i, q++, (x[i * d + j] - mean[j]) / sd[j]);
  gsl_linalg_SV_decomp (a, v, sv, work);   /* a becomes U */
  size_t q = 0;
  for (size_t j = 0; j < p; j++)
    q += gsl_vector_get (sv, j) > 0.0;
  /* Z = X V diag(1 / sqrt(s)), formed as R forms it (not as U diag(sqrt(s))), so that for one
   * column the values are R's to the bit; null directions dropped. */
  double *z = g_new (double, m * (q ? q : 1));
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0, c = 0; j < p; j++) {
      const double sj = gsl_vector_get (sv, j);
      if (!(sj > 0.0))
        continue;
      double t = 0.0;
      for (size_t k = 0, kk = 0; k < d; k++)
        if (sd[k] > 0.0 && isfinite (sd[k]))
          t += (x[i * d + k] - mean[k]) / sd[k] * gsl_matrix_get (v, kk++, j);
      z[i * q + c++] = t * (1.0 / sqrt (sj));
    }
  gsl_matrix_free (a);
  gsl_matrix_free (v);
  gsl_vector_free (sv);
  gsl_vector_free (work);
  g_free (x);
  g_free (mean);
  g_free (sd);
  s->z = z;
  s->p = q;
  return TRUE;
}

static void
state_free (hc_state *s)
{
  g_free (s->z);
  g_free (s->cnt);
  g_free (s->xs);
  g_free (s->tr);
  g_free (s->term);
  g_free (s->r);
  g_free (s->head);
  g_free (s->tail);
  g_free (s->next);
  g_free (s->d);
  g_free (s->cmin);
  g_free (s->carg);
}

/* Moves slot FROM's cluster state to slot TO. */
static void
move_slot (hc_state *s, size_t from, size_t to)
{
  const size_t p = s->p;
  s->cnt[to] = s->cnt[from];
  s->head[to] = s->head[from];
  s->tail[to] = s->tail[from];
  if (s->xs) {
    memcpy (s->xs + to * p, s->xs + from * p, p * sizeof (double));
    s->tr[to] = s->tr[from];
    s->term[to] = s->term[from];
  }
  if (s->r)
    memcpy (s->r + to * p * p, s->r + from * p * p, p * p * sizeof (double));
}

/* Labels of the N rows for the current LG clusters, numbered by first appearance (mclust's
 * partconv). */
static void
write_labels (const hc_state *s, size_t lg, const size_t *rows, size_t *labels, size_t *slot_of)
{
  for (size_t c = 0; c < lg; c++)
    for (size_t i = s->head[c]; i != SIZE_MAX; i = s->next[i])
      slot_of[i] = c;
  size_t *num = g_new (size_t, lg), next = 0;
  for (size_t c = 0; c < lg; c++)
    num[c] = SIZE_MAX;
  for (size_t i = 0; i < s->n; i++) {
    const size_t c = slot_of[i];
    if (num[c] == SIZE_MAX)
      num[c] = next++;
    labels[rows[i]] = num[c];
  }
  g_free (num);
}

/* EEE (mclust's hceee): the pooled scatter W = sum_k W_k (its factor R, R'R = W, Q rows so far)
 * of the rows scaled by 1/sqrt(n).  While W has fewer than p - 1 rows of R, the pair whose merge
 * adds least to tr W (Ward's); then, while log|W| is below DELOG = log(tr W_0 + eps) (W_0 the
 * total scatter over p), the pair of least log(|W'| + tr W') unless the least log|W'| is
 * already at DELOG or above (then that pair); then the pair of least log|W'|.  Every pair's W' =
 * W + v v' is evaluated at every step: O(N^2 p^2) a step, O(N^3 p^2) in all, as mclust's (no
 * pair criterion can be kept: W changes with each merge).  Ties: the last pair in mclust's order. */
static double
eee_logdet (const double *r, size_t p)
{
  double t = 0.0;
  for (size_t k = 0; k < p; k++) {
    const double q = r[k * p + k];
    if (q == 0.0)
      return -DBL_MAX;
    t += log (fabs (q));
  }
  return 2.0 * t;
}

static void
hc_eee (hc_state *s, size_t n_k, const size_t *ks, size_t kmin, const size_t *rows, size_t N,
        size_t *labels, size_t *slot_of)
{
  const size_t n = s->n, p = s->p;
  const double EPSMIN = 1.1102230246251565e-16;
  double *x = s->z, *v = g_new (double, p + 1), *w = g_new (double, p + 1);
  double *r = g_new0 (double, p * p + 1), *u = g_new (double, p * p + 1);
  double *best_u = g_new (double, p * p + 1);
  const double sc = 1.0 / sqrt ((double) n);
  for (size_t i = 0; i < n * p; i++)
    x[i] *= sc;
  /* tr W_0 / p, as hceee's trc0 */
  const double si0 = 1.0 / sqrt ((double) p), sj0 = si0 / (double) n;
  for (size_t c = 0; c < p; c++)
    v[c] = 0.0;
  for (size_t k = 0; k < n; k++)
    for (size_t c = 0; c < p; c++)
      v[c] += sj0 * x[k * p + c];
  double trc0 = 0.0;
  for (size_t k = 0; k < n; k++)
    for (size_t c = 0; c < p; c++) {
      const double t = v[c] - si0 * x[k * p + c];
      trc0 += t * t;
    }
  const double delog = log (trc0 + EPSMIN);
  for (size_t i = 0; i < n; i++) {
    s->cnt[i] = 1;
    s->head[i] = s->tail[i] = i;
    s->next[i] = SIZE_MAX;
  }
  size_t nrows = 0, lg = n;
  double trcw = 0.0, detw = -DBL_MAX;
  int phase = p <= 1 ? 2 : 1;
  for (;;) {
    for (size_t t = 0; t < n_k; t++)
      if (ks[t] == lg)
        write_labels (s, lg, rows, labels + t * N, slot_of);
    if (lg <= kmin)
      break;
    if (phase == 1 && nrows + 1 >= p)
      phase = detw < delog ? 2 : 3;
    size_t io = 0, jo = 1;
    double si_o = 0, sj_o = 0, tr_o = 0;
    /* phase 2: the best by log|W'| (d...) and by log(|W'| + tr W') (z...) */
    double dopt = DBL_MAX, zopt = DBL_MAX, tdet = 0, sidt = 0, sjdt = 0, dz = 0, tz = 0;
    size_t idet = 0, jdet = 1;
    for (size_t j = 1; j < lg; j++) {
      const double rj = (double) s->cnt[j];
      for (size_t i = 0; i < j; i++) {
        const double ri = (double) s->cnt[i], rij = ri + rj;
        const double si = sqrt (ri / rij), sj = sqrt (rj / rij);
        double vv = 0.0;
        for (size_t c = 0; c < p; c++) {
          w[c] = sj * x[i * p + c] - si * x[j * p + c];
          vv += w[c] * w[c];
        }
        const double tij = trcw + vv;
        if (phase == 1) {
          const double zij = MAX (tij, EPSMIN);
          if (zij <= dopt) {
            dopt = zij;
            io = i, jo = j, si_o = si, sj_o = sj, tr_o = zij;
          }
          continue;
        }
        memcpy (u, r, p * p * sizeof (double));
        add_row (u, p, p, nrows, w);
        const double dij = eee_logdet (u, p);
        if (phase == 3) {
          if (dij <= dopt) {
            dopt = dij;
            io = i, jo = j, si_o = si, sj_o = sj, tr_o = tij;
            memcpy (best_u, u, p * p * sizeof (double));
          }
          continue;
        }
        if (dij <= dopt) {
          dopt = dij;
          tdet = tij, sidt = si, sjdt = sj, idet = i, jdet = j;
        }
        double zij;
        if (tij == 0.0)
          zij = -DBL_MAX;
        else {
          zij = MAX (tij, EPSMIN);
          if (dij == -DBL_MAX)
            zij = log (zij);
          else if (dij <= 0.0)
            zij = log (exp (dij) + zij);
          else
            zij = log (1.0 + zij * exp (-dij)) + dij;
        }
        if (zij <= zopt) {
          zopt = zij;
          dz = dij, tz = tij;
          io = i, jo = j, si_o = si, sj_o = sj;
          memcpy (best_u, u, p * p * sizeof (double));
        }
      }
    }
    /* The chosen pair's row of R, and the totals. */
    if (phase == 1) {
      for (size_t c = 0; c < p; c++)
        w[c] = sj_o * x[io * p + c] - si_o * x[jo * p + c];
      nrows = add_row (r, p, p, nrows, w);
      trcw = tr_o;
    } else if (phase == 3) {
      double vv = 0.0;
      for (size_t c = 0; c < p; c++) {
        w[c] = sj_o * x[io * p + c] - si_o * x[jo * p + c];
        vv += w[c] * w[c];
      }
      trcw = trcw + vv;
      detw = dopt;
      memcpy (r, best_u, p * p * sizeof (double));
      nrows = MIN (nrows + 1, p);
    } else if (dopt < delog) {
      trcw = tz;
      detw = dz;
      memcpy (r, best_u, p * p * sizeof (double));
      nrows = MIN (nrows + 1, p);
    } else {
      io = idet, jo = jdet, si_o = sidt, sj_o = sjdt;
      trcw = tdet;
      detw = dopt;
      for (size_t c = 0; c < p; c++)
        w[c] = sj_o * x[io * p + c] - si_o * x[jo * p + c];
      nrows = add_row (r, p, p, nrows, w);
    }
    /* Merge jo into io; the last slot into jo. */
    for (size_t c = 0; c < p; c++)
      x[io * p + c] = si_o * x[io * p + c] + sj_o * x[jo * p + c];
    s->next[s->tail[io]] = s->head[jo];
    s->tail[io] = s->tail[jo];
    s->cnt[io] += s->cnt[jo];
    const size_t last = lg - 1;
    if (jo != last) {
      memcpy (x + jo * p, x + last * p, p * sizeof (double));
      s->cnt[jo] = s->cnt[last];
      s->head[jo] = s->head[last];
      s->tail[jo] = s->tail[last];
    }
    lg--;
    if (phase == 2 && detw >= delog)
      phase = 3;
  }
  g_free (v);
  g_free (w);
  g_free (r);
  g_free (u);
  g_free (best_u);
}

gboolean
mixem_hc (const mixem_dataset *data, const char *model, const char *use, size_t max_rows,
          size_t n_k, const size_t *ks, size_t *labels, GError **error)
{
  const size_t N = mixem_dataset_rows (data), D = mixem_dataset_cols (data);
  hc_state s = { 0 };
  const char *src = mixem_dataset_source (data);
  if (!model || strcmp (model, "VVV") == 0)
    s.model = HC_VVV;
  else if (strcmp (model, "EII") == 0)
    s.model = HC_EII;
  else if (strcmp (model, "V") == 0)
    s.model = HC_V;
  else if (strcmp (model, "E") == 0)
    s.model = HC_E;
  else if (strcmp (model, "VII") == 0)
    s.model = HC_VII;
  else if (strcmp (model, "EEE") == 0)
    s.model = HC_EEE;
  else {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 "hc: unknown hc_model '%s' (known: VVV, VII, EEE, EII, and V, E for one column)",
                 model);
    return FALSE;
  }
  const gboolean svd = !use || strcmp (use, "SVD") == 0;
  if (!svd && strcmp (use, "VARS") != 0) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 "hc: unknown hc_use '%s' (known: SVD, VARS)", use);
    return FALSE;
  }
  if ((s.model == HC_V || s.model == HC_E) && D != 1) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 "hc: hc_model = %s is for one column; the data have %zu (use VVV, VII or EII)",
                 model, D);
    return FALSE;
  }
  const size_t m = max_rows > 0 && max_rows < N ? max_rows : N;
  size_t kmin = SIZE_MAX, kmax = 0;
  for (size_t t = 0; t < n_k; t++) {
    kmin = MIN (kmin, ks[t]);
    kmax = MAX (kmax, ks[t]);
  }
  if (n_k == 0 || kmin < 1 || kmax > m) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA,
                 "%s: hc cannot make k = %zu clusters of %zu row%s%s", src,
                 n_k == 0 ? 0 : kmin < 1 ? kmin : kmax, m, m == 1 ? "" : "s",
                 m < N ? " (its subset, hc_subset)" : "");
    return FALSE;
  }
  size_t *rows = g_new (size_t, m);
  for (size_t i = 0; i < m; i++)   /* evenly spaced: deterministic, unlike mclust's sample() */
    rows[i] = m == N ? i : (size_t) ((double) i * (double) N / (double) m);
  if (!transform (&s, data, rows, m, svd, error)) {
    g_free (rows);
    return FALSE;
  }
  const size_t n = s.n = m, p = s.p;
  for (size_t i = 0; i < N; i++)
    for (size_t t = 0; t < n_k; t++)
      labels[t * N + i] = MIXEM_HC_NONE;
  s.cnt = g_new (size_t, n);
  s.head = g_new (size_t, n);
  s.tail = g_new (size_t, n);
  s.next = g_new (size_t, n);
  if (s.model == HC_EEE) {
    size_t *slot_of = g_new (size_t, n);
    hc_eee (&s, n_k, ks, kmin, rows, N, labels, slot_of);
    g_free (slot_of);
    g_free (rows);
    state_free (&s);
    return TRUE;
  }
  s.d = n > 1 ? g_try_new (double, n * (n - 1) / 2) : g_new (double, 1);
  s.cmin = g_new (double, n);
  s.carg = g_new (size_t, n);
  size_t *slot_of = g_new (size_t, n);
  gboolean ok = s.d != NULL;
  if (!ok)
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA,
                 "%s: hc on %zu rows needs %.3g GB for its pairs; give hc_subset", src, n,
                 (double) n * (double) (n - 1) / 2 * 8 / 1e9);
  const gboolean vvv = s.model == HC_VVV || s.model == HC_V || s.model == HC_VII;
  if (ok && vvv) {
    s.xs = g_memdup2 (s.z, n * p * sizeof (double));
    s.tr = g_new0 (double, n);
    s.term = g_new (double, n);
    if (s.model == HC_VVV)
      s.r = g_new0 (double, n * p * p);
    /* alpha: hcVVV's traceW(data / sqrt(n p)); hcV's min(., eps), i.e. eps. */
    double tw = 0.0;
    for (size_t j = 0; j < p; j++) {
      double mu = 0.0, ss = 0.0;
      for (size_t i = 0; i < n; i++)
        mu += s.z[i * p + j];
      mu /= (double) n;
      for (size_t i = 0; i < n; i++)
        ss += (s.z[i * p + j] - mu) * (s.z[i * p + j] - mu);
      tw += ss;
    }
    s.alpha = s.model == HC_V ? DBL_EPSILON : fmax (tw / ((double) n * (double) p), DBL_EPSILON);
    s.beta = 1.0;
    s.ablog = log (s.beta * s.alpha);
    for (size_t i = 0; i < n; i++)
      s.term[i] = s.ablog;
  }
  for (size_t i = 0; i < n; i++) {
    s.cnt[i] = 1;
    s.head[i] = s.tail[i] = i;
    s.next[i] = SIZE_MAX;
  }
  double *work = g_new (double, 2 * p + 2), *oldj = g_new (double, n);
  /* The initial pairs: for two singletons, v = (x_i - x_j) / sqrt 2. */
  for (size_t j = 1; ok && j < n; j++) {
    double *col = s.d + tri (0, j);
    const double *xj = s.z + j * p;
    for (size_t i = 0; i < j; i++) {
      const double *xi = s.z + i * p;
      /* As mclust forms them, so that exact ties (duplicated or rounded data) stay ties in the
       * same places: (x_i - x_j) / sqrt 2 for VVV and V, x_i / sqrt 2 - x_j / sqrt 2 for Ward. */
      double vv = 0.0;
      for (size_t c = 0; c < p; c++) {
        const double v = vvv && s.model != HC_VII ? (xi[c] - xj[c]) * M_SQRT1_2
                                                  : M_SQRT1_2 * xi[c] - M_SQRT1_2 * xj[c];
        vv += v * v;
      }
      col[i] = vvv ? (s.model != HC_VVV ? 2.0 * log ((vv + s.alpha) / 2.0)
                                      : 2.0 * log (s.beta * (vv + s.alpha) / 2.0))
                       - 2.0 * s.ablog
                   : vv;
    }
    rescan (&s, j);
  }
  size_t lg = n;
  double *rnew = s.r ? g_new (double, p * p) : NULL;
  for (;;) {
    for (size_t t = 0; ok && t < n_k; t++)
      if (ks[t] == lg)
        write_labels (&s, lg, rows, labels + t * N, slot_of);
    if (!ok || lg <= kmin)
      break;
    /* The best pair: the last minimum in mclust's order of pairs. */
    double best = INFINITY;
    size_t bj = 1;
    for (size_t j = 1; j < lg; j++)
      if (s.cmin[j] <= best) {
        best = s.cmin[j];
        bj = j;
      }
    const size_t io = s.carg[bj], jo = bj, last = lg - 1;
    const double dold = best;
    const size_t ni = s.cnt[io], nj = s.cnt[jo];
    /* The merged cluster into slot io. */
    if (vvv) {
      /* Its term is the criterion's change plus the parts', as mclust takes it, so that a pair
       * of singletons keeps the trace form whatever p (hcvvv's start). */
      double trac;
      vvv_merge (&s, io, jo, rnew, &trac, work);
      const double t = dold + (s.term[io] + s.term[jo]);
      const double si = sqrt ((double) ni / (double) (ni + nj));
      const double sj = sqrt ((double) nj / (double) (ni + nj));
      for (size_t c = 0; c < p; c++)
        s.xs[io * p + c] = si * s.xs[io * p + c] + sj * s.xs[jo * p + c];
      s.tr[io] = trac;
      s.term[io] = t;
      if (rnew)
        memcpy (s.r + io * p * p, rnew, p * p * sizeof (double));
    } else
      for (size_t k = 0; k < lg; k++)   /* Lance-Williams needs d(k, jo) before the move */
        if (k != jo)
          oldj[k] = *dref (&s, k, jo);
    s.next[s.tail[io]] = s.head[jo];
    s.tail[io] = s.tail[jo];
    s.cnt[io] = ni + nj;
    /* The last slot into jo. */
    if (jo != last) {
      move_slot (&s, last, jo);
      for (size_t k = 0; k < last; k++)
        if (k != jo)
          *dref (&s, k, jo) = *dref (&s, k, last);
      if (!vvv)
        oldj[jo] = oldj[last];
    }
    lg--;
    /* The pairs of the merged cluster. */
    for (size_t k = 0; k < lg; k++) {
      if (k == io)
        continue;
      double *e = dref (&s, k, io);
      if (vvv)
        *e = pair_cost (&s, io, k, work);
      else {
        const double rk = (double) s.cnt[k], ri = (double) ni, rj = (double) nj;
        const double v = (rk + ri) * *e + (rk + rj) * oldj[k];
        *e = (v - rk * dold) / (rk + ri + rj);
      }
    }
    /* The column minima: rescan where the minimum was at a changed or removed row. */
    for (size_t j = 1; j < lg; j++) {
      if (j == io || (j == jo && jo != last) || s.carg[j] == io || s.carg[j] == jo) {
        rescan (&s, j);
        continue;
      }
      if (io < j)
        offer (&s, io, j, s.d[tri (io, j)]);
      if (jo < j && jo != last)
        offer (&s, jo, j, s.d[tri (jo, j)]);
    }
  }
  g_free (rnew);
  g_free (work);
  g_free (oldj);
  g_free (slot_of);
  g_free (rows);
  state_free (&s);
  return ok;
}
