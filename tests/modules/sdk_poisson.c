/* sdk_poisson.c: the Poisson family written as a plugin author would with the SDK (the parameter
 * store, a typed option, the dict helpers): the same maths as families/poisson.c, without its
 * speed-ups (a table of log x!, cached log lambda) or its sampler for huge rates, to measure how
 * short a family is with the SDK.  check_engine.c fits it beside poisson and runs the
 * conformance suite on it.
 *
 *   log p(x | lambda_k) = sum_j x_j log lambda_kj - lambda_kj - log(x_j!)
 *   statistics: R_k = sum_i r_ik, S_kj = sum_i r_ik x_ij, C_k = sum_i r_ik sum_j log(x_ij!)
 *   M-step: lambda_kj = max(S_kj / R_k, eps)
 *   E_q log p = sum_k [ sum_j (S_kj log lambda_kj - R_k lambda_kj) - C_k ]
 */
#include <math.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_sf_gamma.h>
#include <mixem/family.h>

struct mixem_params {
  mixem_store store;
  double eps;
};

static const mixem_param_info param_info[] = {
  { "lambda", MIXEM_SHAPE_VECTOR, MIXEM_POSITIVE, "rate of each column" },
  { 0 }
};

static const mixem_option_info options[] = {
  { "eps", "rates are kept >= eps", "1e-10", MIXEM_OPTION_NUMBER, "(0, 1]", NULL },
  { 0 }
};

static const char *const init_methods[] = { "kmeans", "kmeans++", "random", "random_resp", NULL };

static gboolean
setup (mixem_params *p, const mixem_spec *spec, GError **error)
{
  p->eps = mixem_options_get_number (spec->options, "eps", 1e-10);
  return TRUE;
}

static gboolean
check_data (const mixem_params *p, const mixem_block *b, GError **error)
{
  for (size_t i = 0; i < b->n; i++)
    for (size_t j = 0; j < b->d; j++) {
      const double x = b->x[i * b->d + j];
      if (!(x >= 0) || x != floor (x) || isinf (x)) {
        mixem_set_cell_error (error, b, i, j, "counts must be whole numbers >= 0 (got %g)", x);
        return FALSE;
      }
    }
  return TRUE;
}

static void
log_density (const mixem_params *p, const mixem_block *b, double *out)
{
  const size_t K = p->store.k, d = b->d;
  for (size_t i = 0; i < b->n; i++)
    for (size_t k = 0; k < K; k++) {
      const double *lambda = mixem_store_param (p, k, 0), *x = b->x + i * d;
      double s = 0.0;
      for (size_t j = 0; j < d; j++)
        s += x[j] * log (lambda[j]) - lambda[j] - gsl_sf_lngamma (x[j] + 1.0);
      out[i * K + k] = s;
    }
}

static size_t
stats_size (const mixem_params *p)
{
  return p->store.k * (p->store.d + 2);
}

static void
accumulate (const mixem_params *p, const mixem_block *b, const double *r, double *stats)
{
  const size_t K = p->store.k, d = b->d;
  for (size_t i = 0; i < b->n; i++) {
    double lf = 0.0;
    for (size_t j = 0; j < d; j++)
      lf += gsl_sf_lngamma (b->x[i * d + j] + 1.0);
    for (size_t k = 0; k < K; k++) {
      double *st = stats + k * (d + 2);
      st[0] += r[i * K + k];
      for (size_t j = 0; j < d; j++)
        st[1 + j] += r[i * K + k] * b->x[i * d + j];
      st[d + 1] += r[i * K + k] * lf;
    }
  }
}

static gboolean
maximise (mixem_params *p, const double *stats, const gboolean *fixed, GError **error)
{
  const size_t d = p->store.d;
  for (size_t k = 0; k < p->store.k; k++) {
    const double *st = stats + k * (d + 2);
    if (fixed && fixed[k])
      continue;
    if (!(st[0] > 0)) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_NUMERIC,
                   "sdk_poisson: component %zu is empty (weight %g)", k + 1, st[0]);
      return FALSE;
    }
    for (size_t j = 0; j < d; j++)
      mixem_store_param (p, k, 0)[j] = MAX (st[1 + j] / st[0], p->eps);
  }
  return TRUE;
}

static double
expected_loglik (const mixem_params *p, const double *stats)
{
  const size_t d = p->store.d;
  double e = 0.0;
  for (size_t k = 0; k < p->store.k; k++) {
    const double *st = stats + k * (d + 2), *lambda = mixem_store_param (p, k, 0);
    e -= st[d + 1];
    for (size_t j = 0; j < d; j++)
      e += st[1 + j] * log (lambda[j]) - st[0] * lambda[j];
  }
  return e;
}

static void
sample (const mixem_params *p, size_t k, gsl_rng *rng, double *x)
{
  for (size_t j = 0; j < p->store.d; j++)
    x[j] = (double) gsl_ran_poisson (rng, mixem_store_param (p, k, 0)[j]);
}

G_MODULE_EXPORT const mixem_family mixem_family_entry = {
  .abi_version = MIXEM_FAMILY_ABI_VERSION,
  .size = MIXEM_FAMILY_SIZE,
  .name = "sdk_poisson",
  .summary = "Poisson counts, written with the SDK",
  .options = options,
  .init_methods = init_methods,
  MIXEM_STORE_FUNCTIONS,
  .param_info = param_info,
  .params_size = sizeof (struct mixem_params),
  .setup = setup,
  .check_data = check_data,
  .log_density = log_density,
  .stats_size = stats_size,
  .accumulate = accumulate,
  .maximise = maximise,
  .expected_loglik = expected_loglik,
  .sample = sample,
};
