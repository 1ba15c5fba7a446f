/* model.c: the fitted model: accessors, per-row predictions and scores, information criteria,
 * sampling, and models made from given parameters. */
#include <config.h>
#include <math.h>
#include <string.h>
#include <gsl/gsl_randist.h>
#include "engine.h"

void
mixem_model_free (mixem_model *m)
{
  if (!m)
    return;
  if (m->params)
    m->family->params_free (m->params);
  g_free (m->weights);
  g_strfreev (m->names);
  g_strfreev (m->conc_names);
  mixem_options_free (m->options);
  g_array_free (m->trace, TRUE);
  g_free (m->online_s);
  if (m->warnings)
    g_ptr_array_unref (m->warnings);
  g_free (m);
}

mixem_model *
mixem_model_copy (const mixem_model *m)
{
  mixem_model *c = g_memdup2 (m, sizeof *m);
  c->params = m->family->params_copy (m->params);
  c->weights = g_memdup2 (m->weights, mixem_model_weights_len (m) * sizeof (double));
  c->names = g_strdupv (m->names);
  c->conc_names = g_strdupv (m->conc_names);
  c->options = mixem_options_copy (m->options);
  c->trace = g_array_copy (m->trace);
  c->online_s = m->online_s ? g_memdup2 (m->online_s, (m->family->stats_size (m->params) + m->k
                                                       + 2) * sizeof (double)) : NULL;
  c->warnings = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; m->warnings && i < m->warnings->len; i++)
    g_ptr_array_add (c->warnings, g_strdup (g_ptr_array_index (m->warnings, i)));
  return c;
}

mixem_model *
mixem_model_new (const mixem_family *f, size_t k, size_t d, const char *const *names,
                 const mixem_options *options, const double *weights, GVariant *components,
                 GError **error)
{
  if (k < 1 || d < 1) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT,
                 "a model needs k >= 1 and d >= 1 (got k = %zu, d = %zu)", k, d);
    return NULL;
  }
  double s = 0.0;
  for (size_t j = 0; j < k; j++) {
    if (!(weights[j] >= 0.0) || !isfinite (weights[j])) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT, "weight %zu is %g", j + 1, weights[j]);
      return NULL;
    }
    s += weights[j];
  }
  if (fabs (s - 1.0) > 1e-9) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT, "the weights sum to %.17g, not 1", s);
    return NULL;
  }
  if (!g_variant_is_of_type (components, G_VARIANT_TYPE_ARRAY)
      || g_variant_n_children (components) != k) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT,
                 "expected an array of k = %zu components", k);
    return NULL;
  }
  char **nm = g_new0 (char *, d + 1);
  for (size_t j = 0; j < d; j++)
    nm[j] = names ? g_strdup (names[j]) : g_strdup_printf ("%zu", j + 1);
  mixem_options *full = mixem_family_options (f, options, d, (const char *const *) nm, error);
  mixem_spec spec = { k, d, (const char *const *) nm, full, f, NULL };
  mixem_params *p = full ? f->params_new (&spec, error) : NULL;
  mixem_options_free (full);
  if (!p) {
    g_strfreev (nm);
    return NULL;
  }
  for (size_t j = 0; j < k; j++) {
    GVariant *dict = g_variant_get_child_value (components, j);
    gboolean complete = FALSE;
    gboolean ok = f->assign (p, j, dict, &complete, error);
    if (ok && !complete) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT, "%s: the component is incomplete",
                   f->name);
      ok = FALSE;
    }
    g_variant_unref (dict);
    if (!ok) {
      g_prefix_error (error, "component %zu: ", j + 1);
      f->params_free (p);
      g_strfreev (nm);
      return NULL;
    }
  }
  mixem_model *m = g_new0 (mixem_model, 1);
  m->family = f;
  m->params = p;
  m->k = k;
  m->d = d;
  m->weights = g_memdup2 (weights, k * sizeof (double));
  m->names = nm;
  m->options = mixem_options_copy (options);
  m->trace = g_array_new (FALSE, FALSE, sizeof (mixem_iteration));
  m->loglik = m->loglik0 = NAN;
  return m;
}

const mixem_family *mixem_model_family (const mixem_model *m) { return m->family; }
const mixem_params *mixem_model_params (const mixem_model *m) { return m->params; }
size_t mixem_model_k (const mixem_model *m) { return m->k; }
size_t mixem_model_d (const mixem_model *m) { return m->d; }
const double *mixem_model_weights (const mixem_model *m) { return m->weights; }
const mixem_options *mixem_model_options (const mixem_model *m) { return m->options; }
const char *const *mixem_model_names (const mixem_model *m)
{
  return (const char *const *) m->names;
}
double mixem_model_loglik (const mixem_model *m) { return m->loglik; }
double mixem_model_initial_loglik (const mixem_model *m) { return m->loglik0; }
int mixem_model_n_iter (const mixem_model *m) { return m->n_iter; }
mixem_algorithm mixem_model_algorithm (const mixem_model *m) { return m->algorithm; }
gboolean mixem_model_converged (const mixem_model *m) { return m->converged; }
int mixem_model_best_restart (const mixem_model *m) { return m->best_restart; }
int mixem_model_n_failed_restarts (const mixem_model *m) { return m->n_failed; }

const char *const *
mixem_model_warnings (const mixem_model *m, size_t *n)
{
  *n = m->warnings ? m->warnings->len : 0;
  return *n ? (const char *const *) m->warnings->pdata : NULL;
}

GVariant *
mixem_model_component (const mixem_model *m, size_t k)
{
  g_return_val_if_fail (k < m->k, NULL);
  return m->family->describe (m->params, k);
}

const mixem_iteration *
mixem_model_trace (const mixem_model *m, size_t *n)
{
  *n = m->trace->len;
  return (const mixem_iteration *) m->trace->data;
}

gboolean
mixem_model_noise (const mixem_model *m, double *weight, double *log_volume)
{
  if (weight)
    *weight = m->noise ? m->weights[m->k] : 0.0;
  if (log_volume)
    *log_volume = m->noise ? m->noise_logv : NAN;
  return m->noise;
}

size_t
mixem_model_n_params (const mixem_model *m)
{
  /* The noise's weight, and V: mclust's nMclustParams counts V too (estimated from the data). */
  /* Concomitant variables: K - 1 coefficient vectors of Q + 1 in place of the K - 1 weights. */
  const size_t wp = m->conc_q ? (m->k - 1) * (m->conc_q + 1) : m->k - 1 + (m->noise ? 1 : 0);
  return m->family->n_free_params (m->params) + (m->weights_fixed ? 0 : wp)
         + (m->noise ? 1 : 0);
}

size_t
mixem_model_weights_len (const mixem_model *m)
{
  return m->k + (m->noise ? 1 : 0) + (m->conc_q ? m->k * (m->conc_q + 1) : 0);
}

size_t
mixem_model_concomitant (const mixem_model *m, const char *const **names, const double **gamma)
{
  if (names)
    *names = (const char *const *) m->conc_names;
  if (gamma)
    *gamma = m->conc_q ? m->weights + m->k : NULL;
  return m->conc_q;
}

gboolean
mixem_model_set_concomitant (mixem_model *m, const char *const *names, size_t q,
                             const double *gamma, GError **error)
{
  if (m->noise || q < 1 || g_strv_length ((char **) names) != q) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT,
                 "concomitant variables need q >= 1 named columns and no noise component");
    return FALSE;
  }
  const size_t q1 = q + 1;
  for (size_t i = 0; i < m->k * q1; i++)
    if (!isfinite (gamma[i]) || (i < q1 && gamma[i] != 0.0)) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT,
                   "concomitant coefficient %zu of component %zu is %g (finite numbers, and 0 "
                   "for the first component)", i % q1 + 1, i / q1 + 1, gamma[i]);
      return FALSE;
    }
  m->weights = g_renew (double, m->weights, m->k + m->k * q1);
  memcpy (m->weights + m->k, gamma, m->k * q1 * sizeof (double));
  g_strfreev (m->conc_names);
  m->conc_names = g_strdupv ((char **) names);
  m->conc_q = q;
  return TRUE;
}

/* DATA for scoring M: as it is, or for a model with concomitant variables the family's columns
 * (*FAM) and Z (*Z), both found in DATA by name (new datasets; NULL otherwise). */
static gboolean
score_data (const mixem_model *m, const mixem_dataset *data, mixem_dataset **fam,
            mixem_dataset **z, GError **error)
{
  *fam = *z = NULL;
  if (!m->conc_q)
    return TRUE;
  *z = mixem_dataset_select (data, (const char *const *) m->conc_names, NULL, error);
  *fam = *z ? mixem_dataset_select (data, (const char *const *) m->names, NULL, error) : NULL;
  if (!*fam) {
    g_prefix_error (error, "the model's weights depend on concomitant variables, and the data "
                    "must hold them and the model's columns by name: ");
    mixem_dataset_free (*z);
    *z = NULL;
    return FALSE;
  }
  return TRUE;
}

/* A scoring pass for M over DATA, with LOGW (K + 1) filled: the noise set up if M has one. */
static double *
score_init (const mixem_model *m, const mixem_dataset *data, const mixem_dataset *z,
            mixem_pass *ps)
{
  mixem_pass_init (ps, m->family, data, m->k, 0, 256, 0);
  if (m->noise)
    mixem_pass_set_noise (ps, -m->noise_logv);
  if (z) {
    mixem_pass_set_concomitant (ps, z);
    ps->gamma = m->weights + m->k;
  }
  double *logw = g_new (double, m->k + 1);
  for (size_t k = 0; k < m->k + (m->noise ? 1 : 0); k++)
    logw[k] = log (m->weights[k]);
  return logw;
}

/* A scoring pass over DATA, with the concomitant variables ZGIVEN (NULL: found in DATA by
 * name); any of the outputs may be NULL. */
static gboolean
score_pass_z (const mixem_model *m, const mixem_dataset *data, const mixem_dataset *zgiven,
              double *total_ll, double *entropy, double *resp, double *lse, size_t *label,
              GError **error)
{
  mixem_dataset *fam = NULL, *z = NULL;
  if (!zgiven && !score_data (m, data, &fam, &z, error))
    return FALSE;
  if (fam)
    data = fam;
  if (zgiven && (!m->conc_q || mixem_dataset_rows (zgiven) != mixem_dataset_rows (data)
                 || mixem_dataset_cols (zgiven) != m->conc_q)) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION, "concomitant variables given for a "
                 "model without them, or of other rows or columns than the model's");
    return FALSE;
  }
  gboolean ok = mixem_check_data (m->family, m->params, m->d, data, error);
  mixem_pass ps;
  double *logw = score_init (m, data, zgiven ? zgiven : z, &ps), *total = g_new (double, ps.ss);
  ok = ok && mixem_pass_estep (&ps, m->params, logw, FALSE, total, resp, lse, label, error);
  if (ok && total_ll)
    *total_ll = total[m->k + MIXEM_S_LOGLIK];
  if (ok && entropy)
    *entropy = total[m->k + MIXEM_S_ENTROPY];
  g_free (total);
  g_free (logw);
  mixem_pass_clear (&ps);
  mixem_dataset_free (fam);
  mixem_dataset_free (z);
  return ok;
}

static gboolean
score_pass (const mixem_model *m, const mixem_dataset *data, double *total_ll, double *resp,
            double *lse, size_t *label, GError **error)
{
  return score_pass_z (m, data, NULL, total_ll, NULL, resp, lse, label, error);
}

gboolean
mixem_model_score_z (const mixem_model *m, const mixem_dataset *data, const mixem_dataset *z,
                     double *loglik, double *entropy, GError **error)
{
  return score_pass_z (m, data, z, loglik, entropy, NULL, NULL, NULL, error);
}

gboolean
mixem_model_predict_proba (const mixem_model *m, const mixem_dataset *data, double *out,
                           GError **error)
{
  return score_pass (m, data, NULL, out, NULL, NULL, error);
}

gboolean
mixem_model_predict (const mixem_model *m, const mixem_dataset *data, size_t *out,
                     GError **error)
{
  return score_pass (m, data, NULL, NULL, NULL, out, error);
}

gboolean
mixem_model_score_samples (const mixem_model *m, const mixem_dataset *data, double *out,
                           GError **error)
{
  return score_pass (m, data, NULL, NULL, out, NULL, error);
}

gboolean
mixem_model_impute (const mixem_model *m, const mixem_dataset *data, size_t draws,
                    unsigned long seed, double *out, GError **error)
{
  const mixem_family *f = m->family;
  const size_t n = mixem_dataset_rows (data), d = m->d, K = m->k;
  const size_t copies = draws > 0 ? draws : 1;
  if (!mixem_check_data (f, m->params, d, data, error))
    return FALSE;
  if (m->noise) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 "a model with a noise component cannot impute missing values");
    return FALSE;
  }
  if (draws == 0 && !f->impute_mean && mixem_dataset_has_missing (data)) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION, "family '%s' has no conditional mean "
                 "to impute with (draws from the conditional may be possible)", f->name);
    return FALSE;
  }
  if (draws > 0 && !f->impute_draw && !f->sample && mixem_dataset_has_missing (data)) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION, "family '%s' cannot draw missing "
                 "values (it has neither impute_draw nor sample)", f->name);
    return FALSE;
  }
  for (size_t c = 0; c < copies; c++)
    for (size_t i = 0; i < n; i++)
      for (size_t j = 0; j < d; j++)
        out[(c * n + i) * d + j] = mixem_dataset_value (data, i, j);
  if (!mixem_dataset_has_missing (data))
    return TRUE;
  double *resp = g_new (double, n * K);
  if (!score_pass (m, data, NULL, resp, NULL, NULL, error)) {
    g_free (resp);
    return FALSE;
  }
  gsl_rng *rng = draws > 0 ? gsl_rng_alloc (gsl_rng_mt19937) : NULL;
  if (rng)
    gsl_rng_set (rng, seed);
  double *x = g_new (double, 2 * d + 1), *tmp = x + d;
  unsigned char *mask = g_new (unsigned char, d + 1);
  gboolean ok = TRUE;
  for (size_t c = 0; c < copies && ok; c++)
    for (size_t i = 0; i < n && ok; i++) {
      if (!mixem_dataset_block_missing (data, i, 1, NULL, d, mask))
        continue;
      memcpy (x, mixem_dataset_block (data, i, 1, tmp), d * sizeof (double));
      double *o = out + (c * n + i) * d;
      const double *post = resp + i * K;
      if (!rng) {
        for (size_t j = 0; j < d; j++)
          if (mask[j])
            o[j] = 0.0;
        for (size_t k = 0; k < K && ok; k++) {
          if (!(post[k] > 0.0))
            continue;
          for (size_t j = 0; j < d; j++)
            tmp[j] = NAN;
          f->impute_mean (m->params, k, x, mask, tmp);
          for (size_t j = 0; j < d && ok; j++)
            if (mask[j]) {
              if (isnan (tmp[j])) {
                char *cell = mixem_dataset_cell_name (data, i, j);
                g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION, "%s: family '%s' has no "
                             "conditional mean for this cell", cell, f->name);
                g_free (cell);
                ok = FALSE;
              }
              o[j] += post[k] * tmp[j];
            }
        }
      } else {
        /* The component from the posterior, then the cells from its conditional. */
        const size_t k = mixem_pick (post, K, gsl_rng_uniform (rng));
        for (size_t j = 0; j < d; j++)
          tmp[j] = NAN;
        if (f->impute_draw)
          f->impute_draw (m->params, k, x, mask, rng, tmp);
        else
          f->sample (m->params, k, rng, tmp);
        for (size_t j = 0; j < d && ok; j++)
          if (mask[j]) {
            if (isnan (tmp[j])) {
              char *cell = mixem_dataset_cell_name (data, i, j);
              g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION, "%s: family '%s' cannot draw "
                           "this cell", cell, f->name);
              g_free (cell);
              ok = FALSE;
            }
            o[j] = tmp[j];
          }
      }
    }
  if (ok)
    ok = mixem_family_take_error (f, m->params, error);
  if (rng)
    gsl_rng_free (rng);
  g_free (x);
  g_free (mask);
  g_free (resp);
  return ok;
}

double
mixem_model_total_loglik (const mixem_model *m, const mixem_dataset *data, GError **error)
{
  double ll = NAN;
  return score_pass (m, data, &ll, NULL, NULL, NULL, error) ? ll : NAN;
}

double
mixem_model_bic (const mixem_model *m, const mixem_dataset *data, GError **error)
{
  double ll = mixem_model_total_loglik (m, data, error);
  return -2.0 * ll + (double) mixem_model_n_params (m) * log (mixem_dataset_observed_weight (data));
}

double
mixem_model_icl (const mixem_model *m, const mixem_dataset *data, GError **error)
{
  mixem_dataset *fam, *z;
  if (!score_data (m, data, &fam, &z, error))
    return NAN;
  if (fam)
    data = fam;
  if (!mixem_check_data (m->family, m->params, m->d, data, error)) {
    mixem_dataset_free (fam);
    mixem_dataset_free (z);
    return NAN;
  }
  mixem_pass ps;
  double *logw = score_init (m, data, z, &ps), *total = g_new (double, ps.ss), icl = NAN;
  if (mixem_pass_estep (&ps, m->params, logw, FALSE, total, NULL, NULL, NULL, error))
    icl = -2.0 * total[m->k + MIXEM_S_LOGLIK]
          + (double) mixem_model_n_params (m) * log (mixem_dataset_observed_weight (data))
          + 2.0 * total[m->k + MIXEM_S_ENTROPY];
  g_free (total);
  g_free (logw);
  mixem_pass_clear (&ps);
  mixem_dataset_free (fam);
  mixem_dataset_free (z);
  return icl;
}

double
mixem_model_aic (const mixem_model *m, const mixem_dataset *data, GError **error)
{
  double ll = mixem_model_total_loglik (m, data, error);
  return -2.0 * ll + 2.0 * (double) mixem_model_n_params (m);
}

struct mixem_sampler {
  const mixem_model *m;
  gsl_rng *rng;
  gsl_ran_discrete_t *pick;
};

mixem_sampler *
mixem_sampler_new (const mixem_model *m, unsigned long seed, GError **error)
{
  if (!m->family->sample) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION, "family '%s' cannot draw samples",
                 m->family->name);
    return NULL;
  }
  if (m->noise) {   /* the noise's region is a volume, not a shape to draw from */
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 "a model with a noise component cannot draw samples");
    return NULL;
  }
  mixem_sampler *s = g_new (mixem_sampler, 1);
  s->m = m;
  s->rng = gsl_rng_alloc (gsl_rng_mt19937);
  gsl_rng_set (s->rng, seed);
  s->pick = gsl_ran_discrete_preproc (m->k, m->weights);
  return s;
}

gboolean
mixem_sampler_draw (mixem_sampler *s, size_t n, double *out, size_t *labels, GError **error)
{
  gboolean ok = TRUE;
  for (size_t i = 0; i < n && ok; i++) {
    size_t k = gsl_ran_discrete (s->rng, s->pick);
    s->m->family->sample (s->m->params, k, s->rng, out + i * s->m->d);
    if (labels)
      labels[i] = k;
    ok = mixem_family_take_error (s->m->family, s->m->params, error);
  }
  return ok;
}

void
mixem_sampler_free (mixem_sampler *s)
{
  if (!s)
    return;
  gsl_ran_discrete_free (s->pick);
  gsl_rng_free (s->rng);
  g_free (s);
}

gboolean
mixem_model_sample (const mixem_model *m, size_t n, unsigned long seed, double *out,
                    size_t *labels, GError **error)
{
  mixem_sampler *s = mixem_sampler_new (m, seed, error);
  if (!s)
    return FALSE;
  gboolean ok = mixem_sampler_draw (s, n, out, labels, error);
  mixem_sampler_free (s);
  return ok;
}

/* Appends V (a component value: number, array, nested array) compactly. */
static void
format_value (GString *s, GVariant *v)
{
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_VARIANT)) {
    GVariant *inner = g_variant_get_variant (v);
    format_value (s, inner);
    g_variant_unref (inner);
  } else if (g_variant_is_of_type (v, G_VARIANT_TYPE_DOUBLE))
    g_string_append_printf (s, "%.6g", g_variant_get_double (v));
  else if (g_variant_is_container (v)) {
    g_string_append_c (s, '[');
    for (gsize i = 0; i < g_variant_n_children (v); i++) {
      GVariant *c = g_variant_get_child_value (v, i);
      if (i)
        g_string_append (s, ", ");
      format_value (s, c);
      g_variant_unref (c);
    }
    g_string_append_c (s, ']');
  } else {
    char *t = g_variant_print (v, FALSE);
    g_string_append (s, t);
    g_free (t);
  }
}

char *
mixem_model_summary (const mixem_model *m, const mixem_dataset *data)
{
  GString *s = g_string_new (NULL);
  char *cols = g_strjoinv (", ", m->names);
  g_string_append_printf (s, "mixem model: family %s, k = %zu, %zu column%s (%s)\n",
                          m->family->name, m->k, m->d, m->d == 1 ? "" : "s", cols);
  g_free (cols);
  for (size_t i = 0; i < mixem_options_size (m->options); i++) {
    const char *key = mixem_options_key (m->options, i);
    g_string_append_printf (s, "  option %s = %s\n", key, mixem_options_get (m->options, key));
  }
  if (isfinite (m->loglik))
    g_string_append_printf (s, "  log-likelihood %.10g after %d iteration%s (%s)\n", m->loglik,
                            m->n_iter, m->n_iter == 1 ? "" : "s",
                            m->converged ? "converged" : "not converged");
  if (m->n_failed)
    g_string_append_printf (s, "  %d restart%s failed and %s skipped\n", m->n_failed,
                            m->n_failed == 1 ? "" : "s", m->n_failed == 1 ? "was" : "were");
  if (data) {
    GError *e = NULL;
    double bic = mixem_model_bic (m, data, &e);
    if (!e)
      g_string_append_printf (s, "  BIC %.10g, AIC %.10g (%zu free parameters; lower is better)\n",
                              bic, mixem_model_aic (m, data, NULL), mixem_model_n_params (m));
    g_clear_error (&e);
  }
  for (size_t k = 0; k < m->k; k++) {
    g_string_append_printf (s, "  component %zu: weight %.6g", k + 1, m->weights[k]);
    GVariant *d = g_variant_ref_sink (m->family->describe (m->params, k));
    GVariantIter it;
    const char *key;
    GVariant *val;
    g_variant_iter_init (&it, d);
    while (g_variant_iter_next (&it, "{&sv}", &key, &val)) {
      g_string_append_printf (s, ", %s = ", key);
      format_value (s, val);
      g_variant_unref (val);
    }
    g_variant_unref (d);
    g_string_append_c (s, '\n');
  }
  if (m->noise)
    g_string_append_printf (s, "  noise: weight %.6g, log volume %.10g\n", m->weights[m->k],
                            m->noise_logv);
  if (m->conc_q) {   /* the weights above are the mean priors; the multinomial logit's coefficients */
    g_string_append (s, "  concomitant (log odds against component 1): (Intercept)");
    for (size_t j = 0; j < m->conc_q; j++)
      g_string_append_printf (s, ", %s", m->conc_names[j]);
    g_string_append_c (s, '\n');
    for (size_t k = 1; k < m->k; k++) {
      g_string_append_printf (s, "    component %zu:", k + 1);
      for (size_t j = 0; j <= m->conc_q; j++)
        g_string_append_printf (s, " %.6g", m->weights[m->k + k * (m->conc_q + 1) + j]);
      g_string_append_c (s, '\n');
    }
  }
  return g_string_free (s, FALSE);
}

gboolean
mixem_model_priors (const mixem_model *m, const mixem_dataset *data, double *out, GError **error)
{
  const size_t n = mixem_dataset_rows (data), K = m->k;
  if (!m->conc_q) {
    for (size_t i = 0; i < n; i++)
      memcpy (out + i * K, m->weights, K * sizeof (double));
    return TRUE;
  }
  mixem_dataset *z = mixem_dataset_select (data, (const char *const *) m->conc_names, NULL,
                                           error);
  if (!z) {
    g_prefix_error (error, "the model's weights depend on concomitant variables: ");
    return FALSE;
  }
  mixem_conc_priors (z, K, m->weights + K, out);
  mixem_dataset_free (z);
  return TRUE;
}
