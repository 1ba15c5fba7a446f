/* poisson.c: the Poisson family for D independent count columns.  Component k has one rate
 * lambda_kj per column, and
 *
 *   log p(x | lambda_k) = sum_j x_j log lambda_kj - lambda_kj - log(x_j!)
 *
 * The log(x_j!) = lgamma(x_j + 1) term is included (as R's dpois does), so the log-likelihood is
 * that of the counts; it shifts the log-likelihood by a constant that does not depend on the
 * parameters.  log lambda_kj and sum_j lambda_kj are kept beside the rates, refreshed whenever a
 * rate changes, so a block costs one multiply-add per cell and component.  f_i = sum_j log(x_ij!)
 * (looked up in a table for counts below LFACT_TABLE) depends on the row alone: it is kept with
 * the dataset (mixem_dataset_row_cache, N doubles), made in the first pass and read after that.
 *
 * Speed (issue 12, bench/README.md): complete blocks go through kernels that hold their running
 * sums in vector registers (GCC and Clang vector types), in the same order as plain loops, so
 * the bits are those of the scalar code on any machine and thread count: no FMA, no sum split
 * across lanes.
 *
 * Statistics of component k under weighted responsibilities r_ik (D + 2 doubles):
 *   R_k = sum_i r_ik,  S_kj = sum_i r_ik x_ij,  C_k = sum_i r_ik sum_j log(x_ij!)
 * M-step: lambda_kj = S_kj / R_k, the component's weighted mean, raised to at least eps (option,
 * default 1e-10) so that a column that is all zeros in a component keeps log lambda finite and a
 * fitted model can be given back as a start or read from its file.
 * Expected complete log-likelihood:
 *   sum_k [ sum_j (S_kj log lambda_kj - R_k lambda_kj) - C_k ].
 *
 * Missing cells (MIXEM_FAMILY_MISSING): the columns are independent given the component, so a
 * missing cell drops out of the density and of S and C; M_kj = sum_i r_ik [x_ij missing] (k*d
 * doubles after the rest) makes column j's mass R_k - M_kj in the M-step and the expected
 * log-likelihood.  Blocks with no missing cell take the code above unchanged (the same bits).
 *
 * Starts: the engine's "kmeans" is the default.  The Poisson M-step is the mean of a component's
 * rows, exactly a k-means centre, so Lloyd's clusters give rates already separated by size, which
 * is what tells Poisson components apart; "random_resp" starts every component near the grand
 * mean, a nearly symmetric point that EM leaves slowly (with tol = 1e-3 and no refinement it
 * stopped there, at -1655.1 instead of -1423.1, on data/seatbelts.csv with K = 2), and "random"
 * (K rows as centres) rests on single noisy counts.  Measured with default fit options, 50 seeds
 * per cell, on four overdispersed count sets (R's InsectSprays$count, warpbreaks$breaks,
 * quakes$stations, and data/seatbelts.csv) for K = 2, 3, 4: kmeans reached the best optimum
 * known as often as any other start in 10 of the 12 cells, had the best (or a tied) worst case in
 * all 12, and the fewest iterations in 8.  The two exceptions, both at K = 4: on seatbelts
 * random_resp (48 of 50 runs at the optimum) and random (33) beat kmeans (20); on InsectSprays
 * random (20) and kmeans++ (9) beat it (8).  Restarts (n_init) matter more than the start there.
 * Euclidean k-means weighs columns by their scale, so the larger counts lead the start.
 *
 * Sampling draws with GSL's gsl_ran_poisson, which returns an unsigned int: a rate above 2^30 is
 * split into m equal parts, each below 2^30, and the m independent draws summed (a sum of
 * independent Poisson variables is Poisson), up to m = 4096 (rates to about 4.4e12); above that
 * the draw is the normal approximation round(lambda + sqrt(lambda) z), whose relative error in
 * skewness, 1/sqrt(lambda), is below 5e-7 there.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_sf_gamma.h>
#include <mixem/family.h>

/* The complete-data kernels get, on x86-64, an AVX2 clone chosen at load time.  Without FMA
 * contraction (ISO C mode) both compute the same bits. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define VECTOR_CLONES __attribute__ ((target_clones ("arch=x86-64-v3", "default")))
#else
#define VECTOR_CLONES
#endif

/* Four doubles in a vector register (GCC's and Clang's vector extension): its arithmetic is
 * element by element, four scalar operations' bits. */
typedef double v4 __attribute__ ((vector_size (32)));

#define LFACT_TABLE 1024     /* log(x!) tabulated for 0 <= x < LFACT_TABLE */
#define SPLIT_RATE 1073741824.0   /* 2^30: a single gsl_ran_poisson draw stays below 2^32 */
#define SPLIT_MAX 4096

struct mixem_params {
  size_t k, d;
  double eps;
  double *lambda;      /* k*d */
  double *loglam;      /* k*d: log lambda */
  double *lamsum;      /* k: sum_j lambda_kj */
  double *lfact;       /* LFACT_TABLE values of log(x!) */
};

static const mixem_option_info options[] = {
  { "eps", "rates are kept >= eps, so that log lambda stays finite", "1e-10",
    MIXEM_OPTION_NUMBER, "(0, 1]", NULL },
  { 0 }
};

static const char *const init_methods[] = { "kmeans", "kmeans++", "random", "random_resp", NULL };

/* Recomputes the logs and the sum of component K's rates. */
static void
refresh (mixem_params *p, size_t k)
{
  double s = 0.0;
  for (size_t j = 0; j < p->d; j++) {
    p->loglam[k * p->d + j] = log (p->lambda[k * p->d + j]);
    s += p->lambda[k * p->d + j];
  }
  p->lamsum[k] = s;
}

static mixem_params *
params_new (const mixem_spec *spec, GError **error)
{
  /* The engine has checked eps against its range and filled in its default. */
  const double eps = mixem_options_get_number (spec->options, "eps", 1e-10);
  mixem_params *p = g_new0 (mixem_params, 1);
  p->k = spec->k;
  p->d = spec->d;
  p->eps = eps;
  p->lambda = g_new (double, p->k * p->d);
  p->loglam = g_new (double, p->k * p->d);
  p->lamsum = g_new (double, p->k);
  p->lfact = g_new (double, LFACT_TABLE);
  for (size_t i = 0; i < p->k * p->d; i++)
    p->lambda[i] = 1.0;
  for (size_t k = 0; k < p->k; k++)
    refresh (p, k);
  for (size_t x = 0; x < LFACT_TABLE; x++)
    p->lfact[x] = gsl_sf_lngamma ((double) x + 1.0);
  return p;
}

static mixem_params *
params_copy (const mixem_params *p)
{
  mixem_params *c = g_memdup2 (p, sizeof *p);
  c->lambda = g_memdup2 (p->lambda, p->k * p->d * sizeof (double));
  c->loglam = g_memdup2 (p->loglam, p->k * p->d * sizeof (double));
  c->lamsum = g_memdup2 (p->lamsum, p->k * sizeof (double));
  c->lfact = g_memdup2 (p->lfact, LFACT_TABLE * sizeof (double));
  return c;
}

static void
params_free (mixem_params *p)
{
  if (!p)
    return;
  g_free (p->lambda);
  g_free (p->loglam);
  g_free (p->lamsum);
  g_free (p->lfact);
  g_free (p);
}

static gboolean
check_data (const mixem_params *p, const mixem_block *b, GError **error)
{
  (void) p;
  for (size_t i = 0; i < b->n; i++)
    for (size_t j = 0; j < b->d; j++) {
      const double v = b->x[i * b->d + j];
      if ((!isfinite (v) || v < 0.0 || v != floor (v)) && !(b->missing && b->missing[i * b->d + j])) {
        mixem_set_cell_error (error, b, i, j, "poisson counts must be whole numbers >= 0 (got %g)",
                              v);
        return FALSE;
      }
    }
  return TRUE;
}

/* log(x!) for a whole number x >= 0 (checked by check_data). */
static inline double
log_factorial (const mixem_params *p, double x)
{
  return x < LFACT_TABLE ? p->lfact[(size_t) x] : gsl_sf_lngamma (x + 1.0);
}

/* Rows with missing cells: each observed cell's term, the others left out. */
static void
log_density_missing (const mixem_params *p, const mixem_block *b, double *out)
{
  const size_t K = p->k, d = p->d;
  for (size_t i = 0; i < b->n; i++) {
    const double *row = b->x + i * d;
    const unsigned char *mi = b->missing + i * d;
    double f = 0.0;
    for (size_t j = 0; j < d; j++)
      if (!mi[j])
        f += log_factorial (p, row[j]);
    for (size_t k = 0; k < K; k++) {
      const double *l = p->loglam + k * d, *lam = p->lambda + k * d;
      double s = 0.0;
      for (size_t j = 0; j < d; j++)
        if (!mi[j])
          s += row[j] * l[j] - lam[j];
      out[i * K + k] = s - f;
    }
  }
}

/* O[0 .. M) = the first M <= 4 lanes of V, straight from the register (a vector stored to the
 * stack and read back a lane at a time stalls the loads). */
static inline void
store_lanes (double *o, const v4 *v, size_t m)
{
  if (m == 4)
    memcpy (o, v, sizeof *v);
  else {
    if (m > 0)
      o[0] = (*v)[0];
    if (m > 1)
      o[1] = (*v)[1];
    if (m > 2)
      o[2] = (*v)[2];
  }
}

/* F[i * LDF] = sum_j log(x_ij!) (j ascending from 0.0) for the N rows of X (D counts each, rows
 * LDX apart).  When every count is below LFACT_TABLE, four rows at a time from the table without
 * a branch: four independent chains, each in the scalar order, so the grouping changes no bit. */
VECTOR_CLONES static void
row_log_factorials (const mixem_params *p, const double *x, size_t ldx, size_t n, double *f,
                    size_t ldf)
{
  const size_t d = p->d;
  const double *restrict lfact = p->lfact;
  /* The largest count, over whole rows of LDX (any columns past D only send rows the slow way). */
  double top = 0.0;
  const size_t cells = n > 0 ? (n - 1) * ldx + d : 0;
#pragma omp simd reduction(max:top)
  for (size_t c = 0; c < cells; c++)
    top = x[c] > top ? x[c] : top;
  size_t i = 0;
  if (top < LFACT_TABLE)
    for (; i + 4 <= n; i += 4) {
      const double *x0 = x + i * ldx, *x1 = x0 + ldx, *x2 = x1 + ldx, *x3 = x2 + ldx;
      double f0 = 0.0, f1 = 0.0, f2 = 0.0, f3 = 0.0;
      for (size_t j = 0; j < d; j++) {
        f0 += lfact[(int) x0[j]];
        f1 += lfact[(int) x1[j]];
        f2 += lfact[(int) x2[j]];
        f3 += lfact[(int) x3[j]];
      }
      f[i * ldf] = f0;
      f[(i + 1) * ldf] = f1;
      f[(i + 2) * ldf] = f2;
      f[(i + 3) * ldf] = f3;
    }
  for (; i < n; i++) {
    double s = 0.0;
    for (size_t j = 0; j < d; j++)
      s += log_factorial (p, x[i * ldx + j]);
    f[i * ldf] = s;
  }
}

/* The f_i of every row of DS, for mixem_dataset_row_cache (USER: the parameters, for their
 * table): a block at a time by row_log_factorials, so that they are the bits it gives. */
static void
fill_log_factorials (const mixem_dataset *ds, double *out, gconstpointer user)
{
  const size_t n = mixem_dataset_rows (ds), d = mixem_dataset_cols (ds), B = 4096;
  double *buf = g_new (double, B * (d > 0 ? d : 1));
  for (size_t i0 = 0; i0 < n; i0 += B) {
    const size_t m = MIN (B, n - i0);
    row_log_factorials (user, mixem_dataset_block (ds, i0, m, buf), d, m, out + i0, 1);
  }
  g_free (buf);
}

/* f_i = sum_j log(x_ij!) for the rows of B, which depend on the data alone: kept with the
 * dataset when B is whole rows of one without missing cells (computed in its first pass, read
 * in every later log_density and accumulate), else computed into BUF (N values). */
static const double *
block_log_factorials (const mixem_params *p, const mixem_block *b, double *buf)
{
  if (b->ds && !b->cols && !mixem_dataset_has_missing (b->ds)
      && b->d == mixem_dataset_cols (b->ds) && b->first + b->n <= mixem_dataset_rows (b->ds))
    return mixem_dataset_row_cache (b->ds, "poisson: sum_j log(x_ij!)", fill_log_factorials, p)
           + b->first;
  row_log_factorials (p, b->x, b->d, b->n, buf, 1);
  return buf;
}

/* Rows of B without missing cells:
 *   out_ik = s_ik - sum_j lambda_kj - f_i,  s_ik = sum_j x_ij log lambda_kj,  f_i = sum_j log(x_ij!)
 * each sum in j ascending from 0.0, the order of the scalar loops this replaces, so the bits are
 * theirs.  A row's s_ik for KG components at a time are summed in two vectors of registers, from
 * log lambda transposed (LT, d by kp: the components of a column side by side, padded with
 * zeros to a multiple of KG; the padding's sums are dropped). */
#define KG 8
VECTOR_CLONES static void
log_density_complete (const mixem_params *p, const mixem_block *b, double *out)
{
  const size_t K = p->k, d = p->d, n = b->n, kp = (K + KG - 1) / KG * KG;
  double *lt = g_new0 (double, d * kp + kp + n), *ls = lt + d * kp;
  for (size_t k = 0; k < K; k++) {
    for (size_t j = 0; j < d; j++)
      lt[j * kp + k] = p->loglam[k * d + j];
    ls[k] = p->lamsum[k];
  }
  const double *lf = block_log_factorials (p, b, ls + kp);
  for (size_t i = 0; i < n; i++) {
    const double *restrict x = b->x + i * b->d;
    for (size_t g = 0; g < kp; g += KG) {
      v4 s0 = { 0 }, s1 = { 0 }, l0, l1;
      for (size_t j = 0; j < d; j++) {
        memcpy (&l0, lt + j * kp + g, sizeof l0);
        memcpy (&l1, lt + j * kp + g + 4, sizeof l1);
        s0 += x[j] * l0;
        s1 += x[j] * l1;
      }
      memcpy (&l0, ls + g, sizeof l0);
      memcpy (&l1, ls + g + 4, sizeof l1);
      s0 = s0 - l0 - lf[i];
      s1 = s1 - l1 - lf[i];
      const size_t m = MIN (KG, K - g);
      double *o = out + i * K + g;
      if (m >= 4) {
        store_lanes (o, &s0, 4);
        store_lanes (o + 4, &s1, m - 4);
      } else
        store_lanes (o, &s0, m);
    }
  }
  g_free (lt);
}

static void
log_density (const mixem_params *p, const mixem_block *b, double *out)
{
  if (b->missing)
    log_density_missing (p, b, out);
  else
    log_density_complete (p, b, out);
}

static size_t
stats_size (const mixem_params *p)
{
  return p->k * (p->d + 2) + p->k * p->d;
}

/* Rows without missing cells.  Every statistic is a sum over the rows of r_ik times a value of
 * the row: x_ij for S_kj, 1 for R_k, f_i = sum_j log(x_ij!) for C_k.  Lay the values of row i
 * out as a_i = [x_i, 1, f_i] padded with zeros to a multiple of 4 (lane c is the statistic
 * stat_index (c, d)); then TK components by 4 lanes of statistics are summed over the whole
 * block at a time in registers (the plain loop read every sum back from memory for the next
 * row, a store and a load in each chain).  Each sum still runs over the rows in order, and
 * r_ik * 1 = r_ik exactly, so the bits are the plain loop's.  The lanes of whole groups of 4
 * columns are read from the rows in place; the rest (the last d mod 4 columns, 1, f_i and the
 * padding) are copied to TAIL, TW values a row.  Components past K, and lanes past d + 2, give
 * sums that are dropped. */
#define TK 6

/* The statistic that lane C of a row's values feeds: 1 + C for a column, 0 for the 1 (R_k),
 * d + 1 for f (C_k), SIZE_MAX for padding. */
static inline size_t
stat_index (size_t c, size_t d)
{
  return c < d ? 1 + c : c == d ? 0 : c == d + 1 ? d + 1 : SIZE_MAX;
}

VECTOR_CLONES static void
accumulate_complete (const mixem_params *p, const mixem_block *b, const double *r, double *stats)
{
  const size_t K = p->k, d = p->d, e = d + 2, n = b->n, ld = b->d;
  const size_t dt = d / 4 * 4, ea = (e + 3) / 4 * 4, tw = ea - dt;
  const size_t kq = (K + TK - 1) / TK * TK;
  double *tail = g_new (double, n * tw + kq + n), *rpad = tail + n * tw;
  const double *lf = block_log_factorials (p, b, rpad + kq);
  for (size_t c = dt; c < ea; c++) {   /* a lane of TAIL at a time: the same kind in every row */
    double *restrict t = tail + c - dt;
    if (c < d)
      for (size_t i = 0; i < n; i++)
        t[i * tw] = b->x[i * ld + c];
    else if (c == d)
      for (size_t i = 0; i < n; i++)
        t[i * tw] = 1.0;
    else if (c == d + 1)
      for (size_t i = 0; i < n; i++)
        t[i * tw] = lf[i];
    else
      for (size_t i = 0; i < n; i++)
        t[i * tw] = 0.0;
  }
  /* The responsibilities are read in place, TK a row from component k0: past K they are the
   * next rows' (their sums are dropped); the last rows, where that would pass the end of R, are
   * copied to RPAD with zeros after them. */
  const size_t inplace = kq == K ? n : n - MIN (n, (kq - K + K - 1) / K);
  for (size_t c0 = 0; c0 < ea; c0 += 4) {
    const double *base = c0 < dt ? b->x + c0 : tail + c0 - dt;
    const size_t stride = c0 < dt ? ld : tw;
    for (size_t k0 = 0; k0 < kq; k0 += TK) {
      v4 s[TK];
      for (size_t q = 0; q < TK; q++)
        for (size_t v = 0; v < 4; v++) {
          const size_t c = stat_index (c0 + v, d);
          s[q][v] = k0 + q < K && c != SIZE_MAX ? stats[(k0 + q) * e + c] : 0.0;
        }
      v4 s0 = s[0], s1 = s[1], s2 = s[2], s3 = s[3], s4 = s[4], s5 = s[5];
      for (size_t i = 0; i < n; i++) {
        const double *restrict rr = r + i * K + k0;
        if (i >= inplace) {
          for (size_t k = 0; k < kq; k++)
            rpad[k] = k < K ? r[i * K + k] : 0.0;
          rr = rpad + k0;
        }
        v4 a;
        memcpy (&a, base + i * stride, sizeof a);
        s0 += rr[0] * a;
        s1 += rr[1] * a;
        s2 += rr[2] * a;
        s3 += rr[3] * a;
        s4 += rr[4] * a;
        s5 += rr[5] * a;
      }
      s[0] = s0, s[1] = s1, s[2] = s2, s[3] = s3, s[4] = s4, s[5] = s5;
      for (size_t q = 0; q < TK; q++)
        for (size_t v = 0; v < 4; v++) {
          const size_t c = stat_index (c0 + v, d);
          if (k0 + q < K && c != SIZE_MAX)
            stats[(k0 + q) * e + c] = s[q][v];
        }
    }
  }
  g_free (tail);
}

/* Layout per component k, at (d + 2) k: R_k, S_k1 .. S_kd, C_k; then M (k*d). */
static void
accumulate (const mixem_params *p, const mixem_block *b, const double *r, double *stats)
{
  const size_t K = p->k, d = p->d;
  if (!b->missing) {
    accumulate_complete (p, b, r, stats);
    return;
  }
  double *M = stats + K * (d + 2);
  for (size_t i = 0; i < b->n; i++) {
    const double *row = b->x + i * d;
    const unsigned char *mi = b->missing + i * d;
    double lf = 0.0;
    for (size_t j = 0; j < d; j++)
      if (!mi[j])
        lf += log_factorial (p, row[j]);
    for (size_t k = 0; k < K; k++) {
      const double rik = r[i * K + k];
      double *st = stats + k * (d + 2);
      st[0] += rik;
      for (size_t j = 0; j < d; j++)
        if (mi[j])
          M[k * d + j] += rik;
        else
          st[1 + j] += rik * row[j];
      st[d + 1] += rik * lf;
    }
  }
}

static gboolean
maximise (mixem_params *p, const double *stats, const gboolean *fixed, GError **error)
{
  const size_t d = p->d;
  for (size_t k = 0; k < p->k; k++) {
    const double *st = stats + k * (d + 2);
    if (fixed && fixed[k])
      continue;
    if (!(st[0] > 0.0)) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_NUMERIC,
                   "poisson: component %zu is empty (weight %g)", k + 1, st[0]);
      return FALSE;
    }
    const double *M = stats + p->k * (d + 2) + k * d;
    for (size_t j = 0; j < d; j++) {
      const double w = M[j] != 0.0 ? st[0] - M[j] : st[0];
      if (w > 0.0)   /* else no observed cell in this column: lambda_kj kept (not identified) */
        p->lambda[k * d + j] = MAX (st[1 + j] / w, p->eps);
    }
    refresh (p, k);
  }
  return TRUE;
}

static double
expected_loglik (const mixem_params *p, const double *stats)
{
  const size_t d = p->d;
  double e = 0.0;
  for (size_t k = 0; k < p->k; k++) {
    const double *st = stats + k * (d + 2);
    const double *M = stats + p->k * (d + 2) + k * d;
    gboolean miss = FALSE;
    for (size_t j = 0; j < d; j++)
      miss = miss || M[j] != 0.0;
    double s = 0.0;
    for (size_t j = 0; j < d; j++)
      s += st[1 + j] * p->loglam[k * d + j];
    if (miss)
      for (size_t j = 0; j < d; j++)
        s -= (st[0] - M[j]) * p->lambda[k * d + j];
    else
      s -= st[0] * p->lamsum[k];
    e += s - st[d + 1];
  }
  return e;
}

static size_t
n_free_params (const mixem_params *p)
{
  return p->k * p->d;
}

/* One Poisson draw of any finite rate >= 0 (see the header comment). */
static double
draw_poisson (gsl_rng *rng, double lambda)
{
  if (lambda <= SPLIT_RATE)
    return (double) gsl_ran_poisson (rng, lambda);
  const double m = ceil (lambda / SPLIT_RATE);
  if (m <= SPLIT_MAX) {
    double s = 0.0;
    for (double i = 0; i < m; i++)
      s += (double) gsl_ran_poisson (rng, lambda / m);
    return s;
  }
  return MAX (0.0, round (lambda + sqrt (lambda) * gsl_ran_gaussian_ziggurat (rng, 1.0)));
}

static void
sample (const mixem_params *p, size_t k, gsl_rng *rng, double *x)
{
  for (size_t j = 0; j < p->d; j++)
    x[j] = draw_poisson (rng, p->lambda[k * p->d + j]);
}

static void
impute_mean (const mixem_params *p, size_t k, const double *x, const unsigned char *missing,
             double *out)
{
  (void) x;
  for (size_t j = 0; j < p->d; j++)
    if (missing[j])
      out[j] = p->lambda[k * p->d + j];
}

static GVariant *
describe (const mixem_params *p, size_t k)
{
  GVariantDict d;
  g_variant_dict_init (&d, NULL);
  g_variant_dict_insert_value (&d, "lambda", g_variant_new_fixed_array (G_VARIANT_TYPE_DOUBLE,
                                                                        p->lambda + k * p->d,
                                                                        p->d, sizeof (double)));
  return g_variant_dict_end (&d);
}

/* Sets component K's rates from DICT["lambda"]: an array of d rates, or one number when d = 1.
 * Every rate must be finite and > 0; one below eps is raised to eps, as the M-step does. */
static gboolean
assign (mixem_params *p, size_t k, GVariant *dict, gboolean *complete, GError **error)
{
  static const char *const known[] = { "lambda", NULL };
  if (!mixem_dict_check_keys (dict, "poisson", known, error))
    return FALSE;
  if (complete)
    *complete = TRUE;
  GVariant *v = g_variant_lookup_value (dict, "lambda", NULL);
  if (!v) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT, "poisson: component has no 'lambda'");
    return FALSE;
  }
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_VARIANT)) {
    GVariant *inner = g_variant_get_variant (v);
    g_variant_unref (v);
    v = inner;
  }
  gsize len = 0;
  double one;
  const double *a = NULL;
  if (g_variant_is_of_type (v, G_VARIANT_TYPE ("ad")))
    a = g_variant_get_fixed_array (v, &len, sizeof (double));
  else if (p->d == 1 && g_variant_is_of_type (v, G_VARIANT_TYPE_DOUBLE)) {
    one = g_variant_get_double (v);
    a = &one;
    len = 1;
  }
  if (!a || len != p->d) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT,
                 "poisson: 'lambda' must be an array of %zu rates (got %s of length %zu)", p->d,
                 g_variant_get_type_string (v), a ? (size_t) len : (size_t) 1);
    g_variant_unref (v);
    return FALSE;
  }
  for (size_t j = 0; j < p->d; j++)
    if (!(isfinite (a[j]) && a[j] > 0.0)) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT,
                   "poisson: 'lambda' must be finite and > 0 (got %g in column %zu)", a[j], j + 1);
      g_variant_unref (v);
      return FALSE;
    }
  for (size_t j = 0; j < p->d; j++)
    p->lambda[k * p->d + j] = MAX (a[j], p->eps);
  refresh (p, k);
  g_variant_unref (v);
  return TRUE;
}

G_MODULE_EXPORT const mixem_family mixem_family_entry = {
  .abi_version = MIXEM_FAMILY_ABI_VERSION,
  .size = MIXEM_FAMILY_SIZE,
  .name = "poisson",
  .summary = "counts in D independent columns, one rate per column and component",
  .options = options,
  .init_methods = init_methods,
  .params_new = params_new,
  .params_copy = params_copy,
  .params_free = params_free,
  .check_data = check_data,
  .log_density = log_density,
  .stats_size = stats_size,
  .accumulate = accumulate,
  .maximise = maximise,
  .expected_loglik = expected_loglik,
  .n_free_params = n_free_params,
  .sample = sample,
  .describe = describe,
  .assign = assign,
  .flags = MIXEM_FAMILY_MISSING,
  .impute_mean = impute_mean,
};
