/* exponential.c: the exponential family for D independent columns of positive values (durations,
 * waiting times).  Component k has one rate lambda_kj per column, and
 *
 *   log p(x | lambda_k) = sum_j log lambda_kj - lambda_kj x_j,       x_j > 0
 *
 * Statistics of component k under weighted responsibilities r_ik (1 + D doubles):
 *   R_k = sum_i r_ik,  S_kj = sum_i r_ik x_ij
 * M-step (the weighted maximum-likelihood estimate): lambda_kj = R_k / S_kj, the reciprocal of the
 * component's weighted mean.
 * Expected complete log-likelihood:
 *   sum_k sum_j R_k log lambda_kj - lambda_kj S_kj
 * Free parameters: K D rates (the engine adds K - 1 weights).
 *
 * Degenerate cases.  A rate can be neither driven to 0 nor to infinity: check_data accepts only
 * finite values > 0, so S_kj / R_k is a weighted mean of the column and lies between its smallest
 * and largest value; lambda_kj lies in [1 / max x, 1 / min x].  The one way out is overflow of
 * S_kj (values near DBL_MAX): a rate that is not finite and > 0 is then a MIXEM_ERROR_NUMERIC
 * error naming the component and column, never a silent 0.  An empty component (R_k = 0) is the
 * error the engine expects of maximise: the engine keeps the component at weight 0 with a warning
 * (or, with strict_empty, fails).  A component on identical values is no problem: its rate is
 * 1 / that value.  Zero is refused as data, with the negatives (the brief's durations are > 0; a
 * zero usually means a value rounded to nothing).
 *
 * Starts: the engine's, in this order when init is "auto" (one per restart): "random" (K rows as
 * centres, each row to the nearest, then one M-step), "kmeans", "kmeans++" (in standard units,
 * MIXEM_FAMILY_SCALED_STARTS), "random_resp".  Measured on data/coal_intervals.csv, one start
 * each for seeds 1..20: at K = 2 every start reached -1191.203; at K = 3 random reached -1190.516
 * (median; worst -1191.203) where kmeans stopped at -1191.203 every time (two components on one
 * rate) and random_resp at -1191.18.
 * The parameter store holds the rates; log lambda is taken once per block in log_density.
 */
#include <float.h>
#include <math.h>
#include <gsl/gsl_randist.h>
#include <mixem/family.h>

struct mixem_params {
  mixem_store store;   /* first: the library's (rates, copies, describe, assign) */
};

static const mixem_param_info param_info[] = {
  { "rate", MIXEM_SHAPE_VECTOR, MIXEM_POSITIVE, "rate of each column (1 / mean)" },
  { 0 }
};

/* No options: the maximum-likelihood rate needs none (see the header on its degenerate cases). */
static const mixem_option_info options[] = {
  { 0 }
};

static const char *const init_methods[] = { "random", "kmeans", "kmeans++", "random_resp", NULL };

/* Rates of 1 until a start sets them: a component that no start reaches (K above the distinct
 * rows) keeps finite parameters at weight 0. */
static gboolean
setup (mixem_params *p, const mixem_spec *spec, GError **error)
{
  (void) error;
  for (size_t k = 0; k < spec->k; k++)
    for (size_t j = 0; j < spec->d; j++)
      mixem_store_param (p, k, 0)[j] = 1.0;
  return TRUE;
}

static gboolean
check_data (const mixem_params *p, const mixem_block *b, GError **error)
{
  (void) p;
  for (size_t i = 0; i < b->n; i++)
    for (size_t j = 0; j < b->d; j++) {
      const double v = b->x[i * b->d + j];
      if (!(isfinite (v) && v > 0.0) && !(b->missing && b->missing[i * b->d + j])) {
        mixem_set_cell_error (error, b, i, j, "exponential values must be finite and > 0 (got %g)",
                              v);
        return FALSE;
      }
    }
  return TRUE;
}

static void
log_density (const mixem_params *p, const mixem_block *b, double *out)
{
  const size_t K = p->store.k, d = p->store.d;
  double *c = g_new (double, K);        /* sum_j log lambda_kj, once per block */
  for (size_t k = 0; k < K; k++) {
    const double *lam = mixem_store_param (p, k, 0);
    double s = 0.0;
    for (size_t j = 0; j < d; j++)
      s += log (lam[j]);
    c[k] = s;
  }
  for (size_t i = 0; i < b->n; i++) {
    const double *row = b->x + i * b->d;
    const unsigned char *mi = b->missing ? b->missing + i * d : NULL;
    for (size_t k = 0; k < K; k++) {
      const double *lam = mixem_store_param (p, k, 0);
      double s = 0.0;
      if (!mi) {
        for (size_t j = 0; j < d; j++)
          s += lam[j] * row[j];
        out[i * K + k] = c[k] - s;
      } else {   /* a missing cell drops out: its log rate and its term */
        double cl = 0.0;
        for (size_t j = 0; j < d; j++)
          if (!mi[j]) {
            cl += log (lam[j]);
            s += lam[j] * row[j];
          }
        out[i * K + k] = cl - s;
      }
    }
  }
  g_free (c);
}

static size_t
stats_size (const mixem_params *p)
{
  return p->store.k * (1 + 2 * p->store.d);
}

/* Layout per component k, at (1 + d) k: R_k, S_k1 .. S_kd; then M (k*d), the mass of the
 * missing cells, so that column j's mass is R_k - M_kj (R_k itself when nothing is missing). */
static void
accumulate (const mixem_params *p, const mixem_block *b, const double *r, double *stats)
{
  const size_t K = p->store.k, d = p->store.d;
  double *M = stats + K * (1 + d);
  for (size_t i = 0; i < b->n; i++) {
    const double *row = b->x + i * b->d;
    const unsigned char *mi = b->missing ? b->missing + i * d : NULL;
    for (size_t k = 0; k < K; k++) {
      const double rik = r[i * K + k];
      double *st = stats + k * (1 + d);
      st[0] += rik;
      if (!mi)
        for (size_t j = 0; j < d; j++)
          st[1 + j] += rik * row[j];
      else
        for (size_t j = 0; j < d; j++)
          if (mi[j])
            M[k * d + j] += rik;
          else
            st[1 + j] += rik * row[j];
    }
  }
}

/* Component K's mass in column J. */
static inline double
col_mass (const mixem_params *p, const double *stats, size_t k, size_t j)
{
  const size_t d = p->store.d;
  const double R = stats[k * (1 + d)], m = stats[p->store.k * (1 + d) + k * d + j];
  return m != 0.0 ? R - m : R;
}

static gboolean
maximise (mixem_params *p, const double *stats, const gboolean *fixed, GError **error)
{
  const size_t d = p->store.d;
  for (size_t k = 0; k < p->store.k; k++) {
    const double *st = stats + k * (1 + d);
    if (fixed && fixed[k])
      continue;
    if (!(st[0] > 0.0)) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_NUMERIC,
                   "exponential: component %zu is empty (weight %g)", k + 1, st[0]);
      return FALSE;
    }
    /* Checked before any rate is written, so a failure leaves the component as it was. */
    for (size_t j = 0; j < d; j++) {
      const double lam = col_mass (p, stats, k, j) / st[1 + j];
      if (!(col_mass (p, stats, k, j) > 0.0))
        continue;   /* no observed cell of column j in this component: kept */
      if (!(isfinite (lam) && lam > 0.0)) {
        g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_NUMERIC,
                     "exponential: component %zu, column %zu: the rate %g = %g / %g is not finite "
                     "and > 0 (the weighted sum of the column overflows)", k + 1, j + 1, lam,
                     st[0], st[1 + j]);
        return FALSE;
      }
    }
    double *lam = mixem_store_param (p, k, 0);
    for (size_t j = 0; j < d; j++)
      if (col_mass (p, stats, k, j) > 0.0)
        lam[j] = col_mass (p, stats, k, j) / st[1 + j];
  }
  return TRUE;
}

static double
expected_loglik (const mixem_params *p, const double *stats)
{
  const size_t d = p->store.d;
  double e = 0.0;
  for (size_t k = 0; k < p->store.k; k++) {
    const double *st = stats + k * (1 + d), *lam = mixem_store_param (p, k, 0);
    for (size_t j = 0; j < d; j++)
      e += col_mass (p, stats, k, j) * log (lam[j]) - lam[j] * st[1 + j];
  }
  return e;
}

/* A draw of exactly 0 (possible for a huge rate) would be refused by check_data: the smallest
 * positive double is drawn instead. */
static void
impute_mean (const mixem_params *p, size_t k, const double *x, const unsigned char *missing,
             double *out)
{
  (void) x;
  const double *lam = mixem_store_param (p, k, 0);
  for (size_t j = 0; j < p->store.d; j++)
    if (missing[j])
      out[j] = 1.0 / lam[j];
}

static void
sample (const mixem_params *p, size_t k, gsl_rng *rng, double *x)
{
  const double *lam = mixem_store_param (p, k, 0);
  for (size_t j = 0; j < p->store.d; j++)
    x[j] = MAX (gsl_ran_exponential (rng, 1.0 / lam[j]), DBL_TRUE_MIN);
}

G_MODULE_EXPORT const mixem_family mixem_family_entry = {
  .abi_version = MIXEM_FAMILY_ABI_VERSION,
  .size = MIXEM_FAMILY_SIZE,
  .name = "exponential",
  .summary = "positive values in D independent columns, one rate per column and component",
  .options = options,
  .init_methods = init_methods,
  MIXEM_STORE_FUNCTIONS,
  .param_info = param_info,
  .params_size = sizeof (struct mixem_params),
  .setup = setup,
  .flags = MIXEM_FAMILY_SCALED_STARTS | MIXEM_FAMILY_MISSING,
  .impute_mean = impute_mean,
  .check_data = check_data,
  .log_density = log_density,
  .stats_size = stats_size,
  .accumulate = accumulate,
  .maximise = maximise,
  .expected_loglik = expected_loglik,
  .sample = sample,
};
