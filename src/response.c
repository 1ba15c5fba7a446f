/* response.c: fitted responses of the regression families (linreg, poisreg, logitreg), read
 * from a model's options (response, covariates, intercept, offset, trials) and its components'
 * "beta": each component's mean at every row, and the mean under each row's most probable
 * component, or, for rows without a response, the mixture's mean under the prior weights (each
 * row's own, from its concomitant variables, for a model with them).  Used
 * by model:predict_response in Lua, mixem predict --response-mean and the regression plot. */
#include <config.h>
#include <math.h>
#include <string.h>
#include <mixem/fit.h>
#include <mixem/error.h>

static int
regression_kind (const mixem_family *f)
{
  return strcmp (f->name, "linreg") == 0 ? 0 : strcmp (f->name, "poisreg") == 0 ? 1
         : strcmp (f->name, "logitreg") == 0 ? 2 : -1;
}

gboolean
mixem_model_fitted_means (const mixem_model *m, const mixem_dataset *data, double *out,
                          GError **error)
{
  const mixem_family *f = mixem_model_family (m);
  const int model = regression_kind (f);
  if (model < 0) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "fitted responses need a linreg, poisreg "
                 "or logitreg model (this one is %s)", f->name);
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
      out[i * K + k] = model == 0 ? eta : model == 1 ? exp (eta) : ni / (1 + exp (-eta));
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
