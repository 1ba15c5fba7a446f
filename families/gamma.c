/* gamma.c: the gamma family for D independent columns of positive values (durations, waiting
 * times, amounts).  Component k has a shape a_kj and a rate b_kj per column, and
 *
 *   log p(x | a_k, b_k) = sum_j a_kj log b_kj - lgamma(a_kj) + (a_kj - 1) log x_j - b_kj x_j
 *
 * (mean a / b, variance a / b^2; shape 1 is the exponential family).
 *
 * Statistics of component k under weighted responsibilities r_ik (1 + 2D doubles):
 *   R_k = sum_i r_ik,  S_kj = sum_i r_ik x_ij,  L_kj = sum_i r_ik log x_ij
 * M-step (the weighted maximum-likelihood estimate; Minka, "Estimating a Gamma distribution",
 * 2002): with the weighted mean m = S_kj / R_k and
 *   s = log m - L_kj / R_k  (>= 0 by Jensen's inequality, 0 only on identical values),
 * the shape solves  log a - psi(a) = s  and the rate is b = a / m.  log a - psi(a) decreases
 * from +inf to 0 and is convex, so the root is unique; it is found by Newton's method (GSL's
 * gsl_sf_psi and gsl_sf_psi_1) from Minka's approximation
 *   a0 = (3 - s + sqrt((s - 3)^2 + 24 s)) / (12 s),
 * iterated until the step is below a few ulps of a (at most SHAPE_ITER steps; from a0, 2 to 4).
 * The safeguard: convexity makes every Newton iterate after the first lie below the root and
 * climb to it, so only a first step from above can overshoot; a step to a <= 0 is replaced by
 * halving a.  For a >= 100, log a - psi(a) is taken from its asymptotic series, which avoids the
 * cancellation of two nearly equal numbers.
 * Expected complete log-likelihood:
 *   sum_k sum_j R_k (a_kj log b_kj - lgamma(a_kj)) + (a_kj - 1) L_kj - b_kj S_kj
 * Free parameters: 2 K D (the engine adds K - 1 weights).
 *
 * Degenerate cases.  On identical values (a constant column within a component) s = 0 and the
 * shape diverges (the gamma tends to a point mass, and the likelihood is unbounded); rounding
 * makes s a tiny number of either sign.  Policy: the shape is capped at the option max_shape
 * (default 1e6, a coefficient of variation of 0.1%): when s <= 0 or the root lies above the cap,
 * a = max_shape and b = a / m, the best rate for that shape.  Since the expected log-likelihood is
 * concave in a along b = a / m, the capped value is the constrained maximum, and EM still climbs.
 * The rate is never driven to 0 or infinity: m lies between the smallest and largest value of the
 * column (all finite and > 0, checked); a rate or shape that comes out not finite and > 0 (an
 * overflow of S near DBL_MAX) is a MIXEM_ERROR_NUMERIC error naming the component and column.  An
 * empty component (R_k = 0) is the error the engine expects of maximise: the engine keeps it at
 * weight 0 with a warning (or, with strict_empty, fails).  Zero and negative values are refused
 * as data (the log-density has log x, and is infinite at 0 for a < 1).
 *
 * Starts: the engine's, in this order when init is "auto" (one per restart): "random_resp"
 * (random responsibilities, then one M-step), "kmeans", "kmeans++" (in standard units,
 * MIXEM_FAMILY_SCALED_STARTS), "random".  Measured on data/faithful.csv, one start each for
 * seeds 1..20: at K = 2 every start reached -1146.454; at K = 3 the median was -1126.105 from
 * random_resp and -1126.874 from the other three, the worst -1126.874 from random_resp and
 * kmeans, -1127.607 from kmeans++ and -1130.274 from random.
 * The parameter store holds the shapes and rates; lgamma and logs of the parameters are taken
 * once per block in log_density.
 */
#include <float.h>
#include <math.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_sf_psi.h>
#include <mixem/family.h>
#include "gamma_shape.h"


enum { SHAPE, RATE };   /* indices in param_info */

struct mixem_params {
  mixem_store store;   /* first: the library's (shapes and rates, copies, describe, assign) */
  double max_shape;
};

static const mixem_param_info param_info[] = {
  { "shape", MIXEM_SHAPE_VECTOR, MIXEM_POSITIVE, "shape of each column" },
  { "rate", MIXEM_SHAPE_VECTOR, MIXEM_POSITIVE, "rate of each column (mean = shape / rate)" },
  { 0 }
};

static const mixem_option_info options[] = {
  { "max_shape", "the shape is capped here: a component on identical values would make it "
    "diverge", "1e6", MIXEM_OPTION_NUMBER, "[1, 1e12]", NULL },
  { 0 }
};

static const char *const init_methods[] = { "random_resp", "kmeans", "kmeans++", "random", NULL };

static gboolean
setup (mixem_params *p, const mixem_spec *spec, GError **error)
{
  (void) error;
  p->max_shape = mixem_options_get_number (spec->options, "max_shape", 1e6);
  /* Shape and rate 1 until a start sets them: a component that no start reaches (K above the
   * distinct rows) keeps finite parameters at weight 0. */
  for (size_t k = 0; k < spec->k; k++)
    for (size_t j = 0; j < spec->d; j++)
      mixem_store_param (p, k, SHAPE)[j] = mixem_store_param (p, k, RATE)[j] = 1.0;
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
        mixem_set_cell_error (error, b, i, j, "gamma values must be finite and > 0 (got %g)", v);
        return FALSE;
      }
    }
  return TRUE;
}

/* Rows with missing cells: each observed cell's term, the others left out. */
static void
log_density_missing (const mixem_params *p, const mixem_block *b, double *out)
{
  const size_t K = p->store.k, d = p->store.d;
  double *c = g_new (double, K * d);    /* a log b - lgamma(a), per component and column */
  for (size_t k = 0; k < K; k++) {
    const double *a = mixem_store_param (p, k, SHAPE), *r = mixem_store_param (p, k, RATE);
    for (size_t j = 0; j < d; j++)
      c[k * d + j] = a[j] * log (r[j]) - gsl_sf_lngamma (a[j]);
  }
  for (size_t i = 0; i < b->n; i++) {
    const double *row = b->x + i * d;
    const unsigned char *mi = b->missing + i * d;
    for (size_t k = 0; k < K; k++) {
      const double *a = mixem_store_param (p, k, SHAPE), *r = mixem_store_param (p, k, RATE);
      double s = 0.0;
      for (size_t j = 0; j < d; j++)
        if (!mi[j])
          s += c[k * d + j] + (a[j] - 1.0) * log (row[j]) - r[j] * row[j];
      out[i * K + k] = s;
    }
  }
  g_free (c);
}

static void
log_density (const mixem_params *p, const mixem_block *b, double *out)
{
  if (b->missing) {
    log_density_missing (p, b, out);
    return;
  }
  const size_t K = p->store.k, d = p->store.d;
  double *c = g_new (double, K + d);    /* sum_j a log b - lgamma(a); then a row's log x */
  double *lx = c + K;
  for (size_t k = 0; k < K; k++) {
    const double *a = mixem_store_param (p, k, SHAPE), *r = mixem_store_param (p, k, RATE);
    double s = 0.0;
    for (size_t j = 0; j < d; j++)
      s += a[j] * log (r[j]) - gsl_sf_lngamma (a[j]);
    c[k] = s;
  }
  for (size_t i = 0; i < b->n; i++) {
    const double *row = b->x + i * b->d;
    for (size_t j = 0; j < d; j++)
      lx[j] = log (row[j]);
    for (size_t k = 0; k < K; k++) {
      const double *a = mixem_store_param (p, k, SHAPE), *r = mixem_store_param (p, k, RATE);
      double s = 0.0;
      for (size_t j = 0; j < d; j++)
        s += (a[j] - 1.0) * lx[j] - r[j] * row[j];
      out[i * K + k] = c[k] + s;
    }
  }
  g_free (c);
}

static size_t
stats_size (const mixem_params *p)
{
  return p->store.k * (1 + 3 * p->store.d);
}

/* Layout per component k, at (1 + 2d) k: R_k, S_k1 .. S_kd, L_k1 .. L_kd; then M (k*d), the
 * mass of the missing cells: column j's mass is R_k - M_kj (R_k when nothing is missing). */
static void
accumulate (const mixem_params *p, const mixem_block *b, const double *r, double *stats)
{
  const size_t K = p->store.k, d = p->store.d;
  double *lx = g_new (double, d), *M = stats + K * (1 + 2 * d);
  for (size_t i = 0; i < b->n; i++) {
    const double *row = b->x + i * b->d;
    const unsigned char *mi = b->missing ? b->missing + i * d : NULL;
    for (size_t j = 0; j < d; j++)
      lx[j] = mi && mi[j] ? 0.0 : log (row[j]);
    for (size_t k = 0; k < K; k++) {
      const double rik = r[i * K + k];
      double *st = stats + k * (1 + 2 * d);
      st[0] += rik;
      for (size_t j = 0; j < d; j++) {
        if (mi && mi[j]) {
          M[k * d + j] += rik;
          continue;
        }
        st[1 + j] += rik * row[j];
        st[1 + d + j] += rik * lx[j];
      }
    }
  }
  g_free (lx);
}

/* Component K's mass in column J. */
static inline double
col_mass (const mixem_params *p, const double *stats, size_t k, size_t j)
{
  const size_t d = p->store.d;
  const double R = stats[k * (1 + 2 * d)], m = stats[p->store.k * (1 + 2 * d) + k * d + j];
  return m != 0.0 ? R - m : R;
}

static gboolean
maximise (mixem_params *p, const double *stats, const gboolean *fixed, GError **error)
{
  const size_t d = p->store.d;
  double *na = g_new (double, 2 * d), *nb = na + d;
  gboolean ok = TRUE;
  for (size_t k = 0; k < p->store.k && ok; k++) {
    const double *st = stats + k * (1 + 2 * d);
    if (fixed && fixed[k])
      continue;
    if (!(st[0] > 0.0)) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_NUMERIC,
                   "gamma: component %zu is empty (weight %g)", k + 1, st[0]);
      ok = FALSE;
      break;
    }
    for (size_t j = 0; j < d && ok; j++) {
      const double R = col_mass (p, stats, k, j);
      if (!(R > 0.0)) {   /* no observed cell of column j in this component: kept */
        na[j] = mixem_store_param (p, k, SHAPE)[j];
        nb[j] = mixem_store_param (p, k, RATE)[j];
        continue;
      }
      const double m = st[1 + j] / R;
      /* An overflowed mean is refused before the solve, which would see s = inf. */
      if (!(isfinite (m) && m > 0.0)) {
        g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_NUMERIC,
                     "gamma: component %zu, column %zu: the weighted mean %g = %g / %g is not "
                     "finite and > 0 (the weighted sum of the column overflows)", k + 1, j + 1, m,
                     st[1 + j], st[0]);
        ok = FALSE;
        break;
      }
      na[j] = solve_shape (log (m) - st[1 + d + j] / R, p->max_shape);
      nb[j] = na[j] / m;
      if (!(isfinite (nb[j]) && nb[j] > 0.0)) {
        g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_NUMERIC,
                     "gamma: component %zu, column %zu: the rate %g = %g / %g is not finite and "
                     "> 0", k + 1, j + 1, nb[j], na[j], m);
        ok = FALSE;
      }
    }
    if (ok)
      for (size_t j = 0; j < d; j++) {
        mixem_store_param (p, k, SHAPE)[j] = na[j];
        mixem_store_param (p, k, RATE)[j] = nb[j];
      }
  }
  g_free (na);
  return ok;
}

static double
expected_loglik (const mixem_params *p, const double *stats)
{
  const size_t d = p->store.d;
  double e = 0.0;
  for (size_t k = 0; k < p->store.k; k++) {
    const double *st = stats + k * (1 + 2 * d);
    const double *a = mixem_store_param (p, k, SHAPE), *r = mixem_store_param (p, k, RATE);
    for (size_t j = 0; j < d; j++)
      e += col_mass (p, stats, k, j) * (a[j] * log (r[j]) - gsl_sf_lngamma (a[j]))
           + (a[j] - 1.0) * st[1 + d + j]
           - r[j] * st[1 + j];
  }
  return e;
}

/* A draw that underflows to 0 (a tiny shape) would be refused by check_data: the smallest
 * positive double is drawn instead. */
static void
impute_mean (const mixem_params *p, size_t k, const double *x, const unsigned char *missing,
             double *out)
{
  (void) x;
  const double *a = mixem_store_param (p, k, SHAPE), *r = mixem_store_param (p, k, RATE);
  for (size_t j = 0; j < p->store.d; j++)
    if (missing[j])
      out[j] = a[j] / r[j];
}

static void
sample (const mixem_params *p, size_t k, gsl_rng *rng, double *x)
{
  const double *a = mixem_store_param (p, k, SHAPE), *r = mixem_store_param (p, k, RATE);
  for (size_t j = 0; j < p->store.d; j++)
    x[j] = MAX (gsl_ran_gamma (rng, a[j], 1.0 / r[j]), DBL_TRUE_MIN);
}

G_MODULE_EXPORT const mixem_family mixem_family_entry = {
  .abi_version = MIXEM_FAMILY_ABI_VERSION,
  .size = MIXEM_FAMILY_SIZE,
  .name = "gamma",
  .summary = "positive values in D independent columns, a shape and a rate per column and "
             "component",
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
