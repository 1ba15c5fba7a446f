/* bernoulli.c: the Bernoulli family for D-dimensional binary vectors (flexmix's FLXMCmvbinary).
 * Component k has probabilities mu_kd, and
 *
 *   log p(x | mu_k) = sum_d x_d log(mu_kd / (1 - mu_kd)) + sum_d log(1 - mu_kd)
 *
 * so the log-densities of a block of rows are one matrix product, X W' + b, with
 * W_kd = log(mu_kd / (1 - mu_kd)) and b_k = sum_d log(1 - mu_kd): no product of probabilities, so
 * nothing underflows for D in the thousands.
 *
 * Statistics of component k (1 + D doubles): R_k = sum_i r_ik and S_kd = sum_i r_ik x_id, the
 * second a matrix product R' X for the whole block.  M-step, the mode of the posterior under a
 * Beta(a, b) prior on each mu_kd:
 *
 *   mu_kd = (S_kd + a - 1) / (R_k + a + b - 2),   then clipped to [eps, 1 - eps]
 *
 * a = b = 1 (the default) is plain maximum likelihood; a = b = 2 adds one pseudo-count to each
 * outcome (Laplace smoothing).  The clip keeps every log finite.  The log-likelihood reported is
 * the plain likelihood of the data, without the prior.  Expected complete log-likelihood:
 *   sum_k sum_d S_kd log mu_kd + (R_kd - S_kd) log(1 - mu_kd).
 *
 * Missing cells (MIXEM_FAMILY_MISSING): the columns are independent given the component, so a
 * missing cell drops out of the density and the statistics.  A third block of statistics,
 * M_kd = sum_i r_ik [x_id missing], makes each column's mass R_kd = R_k - M_kd (exactly R_k when
 * nothing is missing, so complete data give the same bits as before); a column that component k
 * has no observed mass in keeps its mu_kd, on which the likelihood then does not depend.
 */
#include <math.h>
#include <string.h>
#include <gsl/gsl_cblas.h>
#include <gsl/gsl_randist.h>
#include <mixem/family.h>

struct mixem_params {
  size_t k, d;
  double a, b, eps;
  double *mu;     /* k*d */
  double *w;      /* k*d: log(mu / (1 - mu)) */
  double *c;      /* k: sum_d log(1 - mu) */
  double *l1m;    /* k*d: log(1 - mu), for rows with missing cells */
};

static const mixem_option_info options[] = {
  { "alpha", "Beta(alpha, beta) prior: alpha - 1 pseudo-counts of ones (1: maximum likelihood)",
    "1", MIXEM_OPTION_NUMBER, "[1, 1e9]", NULL },
  { "beta", "Beta(alpha, beta) prior: beta - 1 pseudo-counts of zeros", "1",
    MIXEM_OPTION_NUMBER, "[1, 1e9]", NULL },
  { "eps", "probabilities are clipped to [eps, 1 - eps]", "1e-10", MIXEM_OPTION_NUMBER,
    "(0, 0.25]", NULL },
  { 0 }
};

/* "random" first: K distinct rows as centres.  On the weighted whiskey patterns (data/whiskey.csv,
 * flexmix's) it reached R's optimum where k-means starts did not (K = 4: 0 of 100 single
 * k-means runs, 31 of 100 random ones); the default "auto" takes the starts in this order. */
static const char *const init_methods[] = { "random", "kmeans", "kmeans++", "random_resp", NULL };

/* Recomputes the matrix W and the offsets c from mu. */
static void
refresh (mixem_params *p, size_t k)
{
  double c = 0.0;
  for (size_t j = 0; j < p->d; j++) {
    const double m = p->mu[k * p->d + j];
    p->w[k * p->d + j] = log (m) - log1p (-m);
    p->l1m[k * p->d + j] = log1p (-m);
    c += log1p (-m);
  }
  p->c[k] = c;
}

static mixem_params *
params_new (const mixem_spec *spec, GError **error)
{
  /* Parsed, range-checked and defaulted by the engine (the options' types above). */
  const double a = mixem_options_get_number (spec->options, "alpha", 1.0);
  const double b = mixem_options_get_number (spec->options, "beta", 1.0);
  const double eps = mixem_options_get_number (spec->options, "eps", 1e-10);
  /* k and d come from input (a model file): k * d is checked before it is allocated. */
  double need = 0.0;
  double *mu = mixem_try_alloc0 (spec->k, spec->d * sizeof (double), &need);
  double *w = mu ? mixem_try_alloc0 (spec->k * spec->d, sizeof (double), NULL) : NULL;
  if (!w) {
    char *size = mixem_format_bytes (2.0 * need);
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "bernoulli: the model needs %s for "
                 "k = %zu, d = %zu (more than this machine has)", size, spec->k, spec->d);
    g_free (size);
    g_free (mu);
    return NULL;
  }
  mixem_params *p = g_new0 (mixem_params, 1);
  p->k = spec->k;
  p->d = spec->d;
  p->a = a;
  p->b = b;
  p->eps = eps;
  p->mu = mu;
  p->w = w;
  p->c = g_new (double, p->k);
  p->l1m = g_new (double, p->k * p->d + 1);
  for (size_t i = 0; i < p->k * p->d; i++)
    p->mu[i] = 0.5;
  for (size_t k = 0; k < p->k; k++)
    refresh (p, k);
  return p;
}

static mixem_params *
params_copy (const mixem_params *p)
{
  mixem_params *c = g_memdup2 (p, sizeof *p);
  c->mu = g_memdup2 (p->mu, p->k * p->d * sizeof (double));
  c->w = g_memdup2 (p->w, p->k * p->d * sizeof (double));
  c->c = g_memdup2 (p->c, p->k * sizeof (double));
  c->l1m = g_memdup2 (p->l1m, (p->k * p->d + 1) * sizeof (double));
  return c;
}

static void
params_free (mixem_params *p)
{
  if (!p)
    return;
  g_free (p->mu);
  g_free (p->w);
  g_free (p->c);
  g_free (p->l1m);
  g_free (p);
}

static gboolean
check_data (const mixem_params *p, const mixem_block *b, GError **error)
{
  for (size_t i = 0; i < b->n; i++)
    for (size_t j = 0; j < b->d; j++) {
      const double v = b->x[i * b->d + j];
      if (v != 0.0 && v != 1.0 && !(b->missing && b->missing[i * b->d + j])) {
        mixem_set_cell_error (error, b, i, j, "bernoulli data must be 0 or 1 (got %g)", v);
        return FALSE;
      }
    }
  return TRUE;
}

/* B's values with 0 for each missing cell (a new array), or B's own when none is missing; with
 * missing cells, *MASK gets the mask as 0/1 doubles (in the same allocation), so that the
 * corrections below are matrix products too. */
static const double *
observed_x (const mixem_block *b, double **own, const double **mask)
{
  *own = NULL;
  *mask = NULL;
  if (!b->missing)
    return b->x;
  const size_t nd = b->n * b->d;
  double *x = *own = g_new (double, 2 * nd + 1), *m = x + nd;
  for (size_t t = 0; t < nd; t++) {
    m[t] = b->missing[t] ? 1.0 : 0.0;
    x[t] = b->missing[t] ? 0.0 : b->x[t];
  }
  *mask = m;
  return x;
}

static void
log_density (const mixem_params *p, const mixem_block *b, double *out)
{
  const size_t n = b->n, K = p->k, d = p->d;
  double *own;
  const double *mask;
  const double *x = observed_x (b, &own, &mask);
  for (size_t i = 0; i < n; i++)
    memcpy (out + i * K, p->c, K * sizeof (double));
  /* out (n*K) += X (n*D) W' (D*K) */
  cblas_dgemm (CblasRowMajor, CblasNoTrans, CblasTrans, (int) n, (int) K, (int) p->d, 1.0, x,
               (int) b->d, p->w, (int) p->d, 1.0, out, (int) K);
  /* A missing cell takes its log(1 - mu) back out of c, so that it adds nothing:
   * out -= Mask (n*D) log(1 - mu)' (D*K). */
  if (mask)
    cblas_dgemm (CblasRowMajor, CblasNoTrans, CblasTrans, (int) n, (int) K, (int) d, -1.0, mask,
                 (int) d, p->l1m, (int) d, 1.0, out, (int) K);
  g_free (own);
}

static size_t
stats_size (const mixem_params *p)
{
  return p->k * (1 + 2 * p->d);
}

/* Layout: R (k values), then S (k*d), then M (k*d: the mass of the missing cells). */
static void
accumulate (const mixem_params *p, const mixem_block *b, const double *r, double *stats)
{
  const size_t n = b->n, K = p->k, d = p->d;
  double *own;
  const double *mask;
  const double *x = observed_x (b, &own, &mask);
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < K; k++)
      stats[k] += r[i * K + k];
  /* S (K*D) += R' (K*n) X (n*D) */
  cblas_dgemm (CblasRowMajor, CblasTrans, CblasNoTrans, (int) K, (int) p->d, (int) n, 1.0, r,
               (int) K, x, (int) b->d, 1.0, stats + K, (int) p->d);
  /* M (K*D) += R' (K*n) Mask (n*D) */
  if (mask)
    cblas_dgemm (CblasRowMajor, CblasTrans, CblasNoTrans, (int) K, (int) d, (int) n, 1.0, r,
                 (int) K, mask, (int) d, 1.0, stats + K + K * d, (int) d);
  g_free (own);
}

static gboolean
maximise (mixem_params *p, const double *stats, const gboolean *fixed, GError **error)
{
  const size_t K = p->k, d = p->d;
  for (size_t k = 0; k < K; k++) {
    if (fixed && fixed[k])
      continue;
    const double den = stats[k] + p->a + p->b - 2.0;
    if (!(den > 0)) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_NUMERIC,
                   "bernoulli: component %zu is empty (weight %g); a Beta prior (alpha, beta > 1) "
                   "would keep it defined", k + 1, stats[k]);
      return FALSE;
    }
    for (size_t j = 0; j < d; j++) {
      const double mj = stats[K + K * d + k * d + j];
      const double dj = mj != 0.0 ? (stats[k] - mj) + p->a + p->b - 2.0 : den;
      if (!(dj > 0))
        continue;   /* no observed mass in this column: mu_kd is not identified; kept */
      const double m = (stats[K + k * d + j] + p->a - 1.0) / dj;
      p->mu[k * d + j] = CLAMP (m, p->eps, 1.0 - p->eps);
    }
    refresh (p, k);
  }
  return TRUE;
}

static double
expected_loglik (const mixem_params *p, const double *stats)
{
  const size_t K = p->k, d = p->d;
  double e = 0.0;
  for (size_t k = 0; k < K; k++)
    for (size_t j = 0; j < d; j++) {
      const double s = stats[K + k * d + j], m = p->mu[k * d + j];
      const double mj = stats[K + K * d + k * d + j];
      e += s * log (m) + ((mj != 0.0 ? stats[k] - mj : stats[k]) - s) * log1p (-m);
    }
  return e;
}

static size_t
n_free_params (const mixem_params *p)
{
  return p->k * p->d;
}

static void
sample (const mixem_params *p, size_t k, gsl_rng *rng, double *x)
{
  for (size_t j = 0; j < p->d; j++)
    x[j] = gsl_rng_uniform (rng) < p->mu[k * p->d + j] ? 1.0 : 0.0;
}

static void
impute_mean (const mixem_params *p, size_t k, const double *x, const unsigned char *missing,
             double *out)
{
  (void) x;
  for (size_t j = 0; j < p->d; j++)
    if (missing[j])
      out[j] = p->mu[k * p->d + j];
}

static GVariant *
describe (const mixem_params *p, size_t k)
{
  GVariantDict d;
  g_variant_dict_init (&d, NULL);
  g_variant_dict_insert_value (&d, "mu", g_variant_new_fixed_array (G_VARIANT_TYPE_DOUBLE,
                                                                    p->mu + k * p->d, p->d,
                                                                    sizeof (double)));
  return g_variant_dict_end (&d);
}

static gboolean
assign (mixem_params *p, size_t k, GVariant *dict, gboolean *complete, GError **error)
{
  static const char *const known[] = { "mu", NULL };
  if (!mixem_dict_check_keys (dict, "bernoulli", known, error))
    return FALSE;
  double *a = g_new (double, p->d);
  gboolean found = FALSE;
  gboolean ok = mixem_dict_get_vector (dict, "bernoulli", "mu", p->d, a, &found, NULL) || !found;
  for (size_t j = 0; ok && found && j < p->d; j++)
    ok = a[j] >= 0.0 && a[j] <= 1.0;
  if (complete)
    *complete = found;
  if (!ok)
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT,
                 "bernoulli: 'mu' must be an array of %zu probabilities in [0, 1]", p->d);
  else if (found) {   /* left out: estimated by the start */
    for (size_t j = 0; j < p->d; j++)
      p->mu[k * p->d + j] = CLAMP (a[j], p->eps, 1.0 - p->eps);
    refresh (p, k);
  }
  g_free (a);
  return ok;
}

G_MODULE_EXPORT const mixem_family mixem_family_entry = {
  .abi_version = MIXEM_FAMILY_ABI_VERSION,
  .size = MIXEM_FAMILY_SIZE,
  .name = "bernoulli",
  .summary = "binary vectors, one probability per column and component",
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
