/* response.c: fitted responses of the regression families (linreg, poisreg, logitreg, gammareg), read
 * from a model's options (response, covariates, intercept, offset, trials) and its components'
 * "beta": each component's mean at every row, and the mean under each row's most probable
 * component, or, for rows without a response, the mixture's mean under the prior weights (each
 * row's own, from its concomitant variables, for a model with them).  Used by
 * model:predict_response in Lua, mixem predict --response-mean and the regression plot.  And
 * responses drawn at given covariates (mixem_model_sample_response, Lua model:sample(X)). */
#include <config.h>
#include <limits.h>
#include <math.h>
#include <string.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <mixem/fit.h>
#include <mixem/error.h>
#include "engine.h"

static int
regression_kind (const mixem_family *f)
{
  return strcmp (f->name, "linreg") == 0 ? 0 : strcmp (f->name, "poisreg") == 0 ? 1
         : strcmp (f->name, "logitreg") == 0 ? 2 : strcmp (f->name, "gammareg") == 0 ? 3 : -1;
}

gboolean
mixem_model_fitted_means (const mixem_model *m, const mixem_dataset *data, double *out,
                          GError **error)
{
  const mixem_family *f = mixem_model_family (m);
  const int model = regression_kind (f);
  if (model < 0) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "fitted responses need a linreg, poisreg, "
                 "logitreg or gammareg model (this one is %s)", f->name);
    return FALSE;
  }
  /* The covariates, offset and trials are found by name: DATA need not have the model's other
   * columns, the response included. */
  const mixem_options *opts = mixem_model_options (m);
  const char *covs = mixem_options_get (opts, "covariates");
  const char *offset = mixem_options_get (opts, "offset");
  const char *trials = mixem_options_get (opts, "trials");
  GArray *cols = g_array_new (FALSE, FALSE, sizeof (int));   /* design columns, -1 the intercept */
  if (mixem_options_get_boolean (opts, "intercept", TRUE)) {
    int one = -1;
    g_array_append_val (cols, one);
  }
  char **cv = g_strsplit_set (covs ? covs : "", ",+", -1);
  gboolean ok = TRUE;
  for (char **c = cv; *c && ok; c++) {
    const char *name = g_strstrip (*c);
    if (!*name)
      continue;
    int j = mixem_dataset_find_column (data, name);
    if (j < 0) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "the covariate '%s' is not a column of "
                   "the data", name);
      ok = FALSE;
    }
    g_array_append_val (cols, j);
  }
  g_strfreev (cv);
  const int oc = offset ? mixem_dataset_find_column (data, offset) : -1;
  int nc = -1;
  double nconst = 1;
  if (ok && offset && oc < 0) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "the offset '%s' is not a column of the "
                 "data", offset);
    ok = FALSE;
  }
  if (ok && model == 2 && trials) {
    char *end = NULL;
    nconst = g_ascii_strtod (trials, &end);
    if (!end || *end || end == trials) {
      nc = mixem_dataset_find_column (data, trials);
      ok = nc >= 0;
      if (!ok)
        g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "the trials '%s' are neither a "
                     "number nor a column of the data", trials);
    }
  }
  const size_t n = mixem_dataset_rows (data), K = mixem_model_k (m), p = cols->len;
  for (size_t k = 0; k < K && ok; k++) {
    GVariant *dict = f->describe (mixem_model_params (m), k);
    GVariant *v = g_variant_lookup_value (dict, "beta", G_VARIANT_TYPE ("ad"));
    gsize len = 0;
    const double *b = v ? g_variant_get_fixed_array (v, &len, sizeof (double)) : NULL;
    if (!b || len != p) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "component %zu has no beta of %zu "
                   "coefficients", k + 1, (size_t) p);
      ok = FALSE;
    }
    for (size_t i = 0; i < n && ok; i++) {
      double eta = oc >= 0 ? mixem_dataset_value (data, i, (size_t) oc) : 0;
      for (size_t j = 0; j < p; j++) {
        const int c = g_array_index (cols, int, j);
        eta += b[j] * (c < 0 ? 1.0 : mixem_dataset_value (data, i, (size_t) c));
      }
      const double ni = nc >= 0 ? mixem_dataset_value (data, i, (size_t) nc) : nconst;
      out[i * K + k] = model == 0 ? eta : model == 1 || model == 3 ? exp (eta)
                       : ni / (1 + exp (-eta));
    }
    if (v)
      g_variant_unref (v);
    g_variant_unref (g_variant_ref_sink (dict));
  }
  g_array_free (cols, TRUE);
  return ok;
}

gboolean
mixem_model_predict_response (const mixem_model *m, const mixem_dataset *data, double *out,
                              size_t *labels, GError **error)
{
  const size_t n = mixem_dataset_rows (data), K = mixem_model_k (m);
  double *all = g_new (double, n * K > 0 ? n * K : 1);
  size_t *lab = labels ? labels : g_new (size_t, n > 0 ? n : 1);
  gboolean ok = mixem_model_fitted_means (m, data, all, error)
                && mixem_model_predict (m, data, lab, error);
  for (size_t i = 0; i < n && ok; i++)
    if (lab[i] >= K) {   /* the noise component has no response model */
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                   "row %zu belongs to the noise component, which predicts no response", i + 1);
      ok = FALSE;
    }
  for (size_t i = 0; i < n && ok; i++)
    out[i] = all[i * K + lab[i]];
  g_free (all);
  if (!labels)
    g_free (lab);
  return ok;
}

gboolean
mixem_model_mean_response (const mixem_model *m, const mixem_dataset *data, double *means,
                           double *mix, GError **error)
{
  const size_t n = mixem_dataset_rows (data), K = mixem_model_k (m);
  if (!mixem_model_fitted_means (m, data, means, error))
    return FALSE;
  /* The components' weights, renormalised over the regressions (a noise component, if any,
   * predicts no response); with concomitant variables each row's own, from its z. */
  const double *w = mixem_model_weights (m);
  double *pri = NULL;
  if (mix && mixem_model_concomitant (m, NULL, NULL) > 0) {
    pri = g_new (double, n * K + 1);
    if (!mixem_model_priors (m, data, pri, error)) {
      g_free (pri);
      return FALSE;
    }
  }
  for (size_t i = 0; i < n && mix; i++) {
    const double *wi = pri ? pri + i * K : w;
    double v = 0.0, total = 0.0;
    for (size_t k = 0; k < K; k++)
      total += wi[k];
    for (size_t k = 0; k < K; k++)
      v += wi[k] / total * means[i * K + k];
    mix[i] = v;
  }
  g_free (pri);
  return TRUE;
}

/* The trials of row I of DATA for a logitreg model (its option "trials": a number or a column);
 * -1 with ERROR when the column is missing. */
static double
trials_at (const mixem_model *m, const mixem_dataset *data, size_t i, GError **error)
{
  const char *trials = mixem_options_get (mixem_model_options (m), "trials");
  if (!trials)
    return 1.0;
  char *end = NULL;
  const double v = g_ascii_strtod (trials, &end);
  if (end && end != trials && !*end)
    return v;
  const int c = mixem_dataset_find_column (data, trials);
  if (c < 0) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "the trials '%s' are neither a number nor "
                 "a column of the data", trials);
    return -1.0;
  }
  return mixem_dataset_value (data, i, (size_t) c);
}

gboolean
mixem_model_sample_response (const mixem_model *m, const mixem_dataset *data, unsigned long seed,
                             double *out, size_t *labels, GError **error)
{
  const mixem_family *f = mixem_model_family (m);
  const int model = regression_kind (f);
  const size_t n = mixem_dataset_rows (data), K = mixem_model_k (m);
  double *means = g_new (double, n * K > 0 ? n * K : 1), *sigma = g_new0 (double, K);
  gboolean ok = mixem_model_fitted_means (m, data, means, error);
  /* linreg's sigma, gammareg's shape. */
  const char *second = model == 0 ? "sigma" : "shape";
  for (size_t k = 0; k < K && ok && (model == 0 || model == 3); k++) {
    GVariant *dict = g_variant_ref_sink (f->describe (mixem_model_params (m), k));
    ok = g_variant_lookup (dict, second, "d", &sigma[k]);
    if (!ok)
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "component %zu has no %s", k + 1,
                   second);
    g_variant_unref (dict);
  }
  /* The K components' weights, renormalised over the regressions (a noise component, if any,
   * draws no response); with concomitant variables each row's own, from its z. */
  const double *w0 = mixem_model_weights (m);
  double *pri = NULL;
  if (ok && mixem_model_concomitant (m, NULL, NULL) > 0) {
    pri = g_new (double, n * K + 1);
    ok = mixem_model_priors (m, data, pri, error);
  }
  gsl_rng *rng = gsl_rng_alloc (gsl_rng_mt19937);
  gsl_rng_set (rng, seed);
  /* Row by row, the component by one uniform, then the response: the same draws for any thread
   * count, and row i's draws the same whatever rows follow it. */
  for (size_t i = 0; i < n && ok; i++) {
    const double *w = pri ? pri + i * K : w0;
    double total = 0.0;
    for (size_t k = 0; k < K; k++)
      total += w[k];
    const size_t k = mixem_pick (w, K, gsl_rng_uniform (rng) * total);
    const double mu = means[i * K + k];
    if (labels)
      labels[i] = k;
    if (model == 0)
      out[i] = mu + sigma[k] * gsl_ran_gaussian_ziggurat (rng, 1.0);
    else if (model == 3)   /* shape a, scale mu / a: mean mu */
      out[i] = gsl_ran_gamma (rng, sigma[k], mu / sigma[k]);
    else if (model == 1) {
      /* gsl_ran_poisson returns an unsigned int: a mean near UINT_MAX would wrap. */
      if (!(isfinite (mu) && mu <= 1e9)) {
        g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "row %zu: the poisson mean %g of "
                     "component %zu is beyond what can be drawn (1e9)", i + 1, mu, k + 1);
        ok = FALSE;
      } else
        out[i] = (double) gsl_ran_poisson (rng, mu);
    } else {
      const double t = trials_at (m, data, i, error);
      if (t < 0 && error && *error)
        ok = FALSE;
      else if (!(t >= 0 && t == floor (t) && t <= (double) UINT_MAX)) {
        g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "row %zu: trials must be a whole "
                     "number from 0 to %u to draw from (got %g)", i + 1, UINT_MAX, t);
        ok = FALSE;
      } else
        out[i] = t > 0 ? (double) gsl_ran_binomial (rng, mu / t, (unsigned) t) : 0.0;
    }
  }
  gsl_rng_free (rng);
  g_free (pri);
  g_free (means);
  g_free (sigma);
  return ok;
}
