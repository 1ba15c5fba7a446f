/* geometric.c: a mixture of geometric distributions, built out of mixem's tree as an example of
 * a family plugin.  Each row holds D counts, each the number of failures before a success in
 * independent trials, x = 0, 1, 2, ...; component k has a success probability p_kj per column:
 *
 *   log p(x | p_k) = sum_j log p_kj + x_j log(1 - p_kj)
 *
 * Statistics of component k under weighted responsibilities r_ik (1 + D doubles):
 *   R_k = sum_i r_ik,  S_kj = sum_i r_ik x_ij
 * M-step (the weighted MLE): p_kj = R_k / (R_k + S_kj), kept in [eps, 1 - eps] (option eps).
 * Expected complete log-likelihood: sum_kj R_k log p_kj + S_kj log(1 - p_kj).
 *
 * The parameter store gives the storage, copies, describe, assign (unknown keys and p outside
 * (0, 1) refused) and the count of free parameters; the engine parses and range-checks eps. */
#include <math.h>
#include <gsl/gsl_randist.h>
#include <mixem/family.h>

struct mixem_params {
  mixem_store store;   /* first: the library's */
  double eps;
};

static const mixem_param_info param_info[] = {
  { "p", MIXEM_SHAPE_VECTOR, MIXEM_OPEN_UNIT, "success probability of each column" },
  { 0 }
};

static const mixem_option_info options[] = {
  { "eps", "probabilities are kept in [eps, 1 - eps]", "1e-10", MIXEM_OPTION_NUMBER,
    "(0, 0.5)", NULL },
  { 0 }
};

static const char *const init_methods[] = { "kmeans", "random_resp", NULL };

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
        mixem_set_cell_error (error, b, i, j, "a count of failures must be a whole number >= 0 "
                              "(got %g)", x);
        return FALSE;
      }
    }
  return TRUE;
}

static void
log_density (const mixem_params *p, const mixem_block *b, double *out)
{
  const size_t K = p->store.k, d = b->d;
  double *lp = g_new (double, 2 * K * d);      /* log p and log(1 - p), once per block */
  for (size_t k = 0; k < K; k++)
    for (size_t j = 0; j < d; j++) {
      const double pk = mixem_store_param (p, k, 0)[j];
      lp[2 * (k * d + j)] = log (pk);
      lp[2 * (k * d + j) + 1] = log1p (-pk);
    }
  for (size_t i = 0; i < b->n; i++)
    for (size_t k = 0; k < K; k++) {
      double s = 0.0;
      for (size_t j = 0; j < d; j++)
        s += lp[2 * (k * d + j)] + b->x[i * d + j] * lp[2 * (k * d + j) + 1];
      out[i * K + k] = s;
    }
  g_free (lp);
}

static size_t
stats_size (const mixem_params *p)
{
  return p->store.k * (1 + p->store.d);
}

static void
accumulate (const mixem_params *p, const mixem_block *b, const double *r, double *stats)
{
  const size_t K = p->store.k, d = b->d;
  for (size_t i = 0; i < b->n; i++)
    for (size_t k = 0; k < K; k++) {
      double *st = stats + k * (1 + d);
      st[0] += r[i * K + k];
      for (size_t j = 0; j < d; j++)
        st[1 + j] += r[i * K + k] * b->x[i * d + j];
    }
}

static gboolean
maximise (mixem_params *p, const double *stats, const gboolean *fixed, GError **error)
{
  const size_t d = p->store.d;
  for (size_t k = 0; k < p->store.k; k++) {
    const double *st = stats + k * (1 + d);
    if (fixed && fixed[k])
      continue;
    if (!(st[0] > 0)) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_NUMERIC,
                   "geometric: component %zu is empty (weight %g)", k + 1, st[0]);
      return FALSE;
    }
    for (size_t j = 0; j < d; j++)
      mixem_store_param (p, k, 0)[j] = CLAMP (st[0] / (st[0] + st[1 + j]), p->eps, 1 - p->eps);
  }
  return TRUE;
}

static double
expected_loglik (const mixem_params *p, const double *stats)
{
  const size_t d = p->store.d;
  double e = 0.0;
  for (size_t k = 0; k < p->store.k; k++)
    for (size_t j = 0; j < d; j++) {
      const double pk = mixem_store_param (p, k, 0)[j], *st = stats + k * (1 + d);
      e += st[0] * log (pk) + st[1 + j] * log1p (-pk);
    }
  return e;
}

static void
sample (const mixem_params *p, size_t k, gsl_rng *rng, double *x)
{
  for (size_t j = 0; j < p->store.d; j++)      /* GSL counts the trials, success included */
    x[j] = (double) gsl_ran_geometric (rng, mixem_store_param (p, k, 0)[j]) - 1.0;
}

G_MODULE_EXPORT const mixem_family mixem_family_entry = {
  .abi_version = MIXEM_FAMILY_ABI_VERSION,
  .size = MIXEM_FAMILY_SIZE,
  .name = "geometric",
  .summary = "counts of failures before a success, one probability per column and component",
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
