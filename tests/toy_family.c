/* toy_family.c: a tiny family registered from C for the engine tests: one column, component k
 * is N(mu_k, 1).  It leaves expected_loglik NULL so that the engine's own pass is tested.
 * Statistics per component: R_k = sum r, X_k = sum r (x - shift) about shift = 0. */
#include <math.h>
#include <string.h>
#include <gsl/gsl_randist.h>
#include "testutil.h"

struct mixem_params {
  size_t k;
  double *mu;
};

static mixem_params *
toy_new (const mixem_spec *spec, GError **error)
{
  if (spec->d != 1) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION, "toy: needs 1 column, not %zu", spec->d);
    return NULL;
  }
  mixem_params *p = g_new0 (mixem_params, 1);
  p->k = spec->k;
  p->mu = g_new0 (double, spec->k);
  return p;
}

static mixem_params *
toy_copy (const mixem_params *p)
{
  mixem_params *c = g_memdup2 (p, sizeof *p);
  c->mu = g_memdup2 (p->mu, p->k * sizeof (double));
  return c;
}

static void
toy_free (mixem_params *p)
{
  if (p) {
    g_free (p->mu);
    g_free (p);
  }
}

static void
toy_log_density (const mixem_params *p, const mixem_block *b, double *out)
{
  for (size_t i = 0; i < b->n; i++)
    for (size_t k = 0; k < p->k; k++) {
      double z = b->x[i] - p->mu[k];
      out[i * p->k + k] = -0.5 * log (2 * G_PI) - 0.5 * z * z;
    }
}

static size_t toy_stats_size (const mixem_params *p) { return 2 * p->k; }

static void
toy_accumulate (const mixem_params *p, const mixem_block *b, const double *r, double *st)
{
  for (size_t i = 0; i < b->n; i++)
    for (size_t k = 0; k < p->k; k++) {
      st[2 * k] += r[i * p->k + k];
      st[2 * k + 1] += r[i * p->k + k] * b->x[i];
    }
}

static gboolean
toy_maximise (mixem_params *p, const double *st, const gboolean *fixed, GError **error)
{
  for (size_t k = 0; k < p->k; k++) {
    if (fixed && fixed[k])
      continue;
    if (!(st[2 * k] > 0)) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_NUMERIC, "toy: component %zu is empty", k + 1);
      return FALSE;
    }
    p->mu[k] = st[2 * k + 1] / st[2 * k];
  }
  return TRUE;
}

static size_t toy_n_free (const mixem_params *p) { return p->k; }

static gboolean
toy_init (mixem_params *p, const mixem_block *data, const char *method, gsl_rng *rng,
          GError **error)
{
  for (size_t k = 0; k < p->k; k++)
    p->mu[k] = data->x[gsl_rng_uniform_int (rng, data->n) * data->d];
  return TRUE;
}

static void
toy_sample (const mixem_params *p, size_t k, gsl_rng *rng, double *x)
{
  x[0] = p->mu[k] + gsl_ran_gaussian_ziggurat (rng, 1.0);
}

static GVariant *
toy_describe (const mixem_params *p, size_t k)
{
  GVariantDict d;
  g_variant_dict_init (&d, NULL);
  g_variant_dict_insert (&d, "mean", "d", p->mu[k]);
  return g_variant_dict_end (&d);
}

static gboolean
toy_assign (mixem_params *p, size_t k, GVariant *dict, gboolean *complete, GError **error)
{
  if (complete)
    *complete = TRUE;
  return mixem_dict_get_double (dict, "toy", "mean", &p->mu[k], error);
}

static const char *const toy_inits[] = { "random", NULL };

const mixem_family toy_family = {
  .abi_version = MIXEM_FAMILY_ABI_VERSION,
  .size = MIXEM_FAMILY_SIZE,
  .name = "toy",
  .summary = "1-D unit-variance normal (tests only)",
  .init_methods = toy_inits,
  .params_new = toy_new,
  .params_copy = toy_copy,
  .params_free = toy_free,
  .log_density = toy_log_density,
  .stats_size = toy_stats_size,
  .accumulate = toy_accumulate,
  .maximise = toy_maximise,
  .expected_loglik = NULL,
  .n_free_params = toy_n_free,
  .init = toy_init,
  .sample = toy_sample,
  .describe = toy_describe,
  .assign = toy_assign,
};
