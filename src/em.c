/* em.c: the EM loop over a family type object: starts, E-step/M-step iterations, the ELBO/KL
 * record of each iteration, convergence, restarts.  See mixem/fit.h for the definitions. */
#include <config.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_eigen.h>
#include "comm.h"
#include "engine.h"

void
mixem_fit_options_init (mixem_fit_options *o)
{
  memset (o, 0, sizeof *o);
  o->k = 1;
  o->max_iter = 100;
  o->tol = 1e-3;
  o->n_init = 10;
  o->refine_tol = 1e-6;
  o->n_refine = 5;
  o->refine_max_iter = 1000;
  o->short_starts = 12;
  o->short_iter = 20;
  o->block_size = 256;
}

/* Everything one fit needs, sized once before the first iteration. */
typedef struct {
  const mixem_family *f;
  const mixem_fit_options *o;
  const mixem_dataset *data;
  mixem_spec spec;
  size_t K;
  double W;                  /* total row weight */
  mixem_pass ps;
  double *total;             /* ps.ss */
  double *logw;              /* K */
  int short_run;             /* the small-EM short run under way (1-based), or 0 */
  /* Annealing: the schedule's level (0 .. steps; steps is T = 1), its steps and T0. */
  int level, steps;
  double t0;
  double *sq_s0, *sq_s1, *sq_s2, *w2;   /* squarem: s0, s1, s2 (ps.ss each), weights (K) */
  double sq_max;             /* squarem: the bound on |alpha|, 1 at the start of each run */
  size_t nchunks;            /* incremental: B */
  double *chunks;            /* incremental: each chunk's statistics (B * ps.ss) */
  double *tmp;               /* incremental, online: a batch's or a scoring pass's sums (ps.ss) */
  gboolean noise;            /* the noise component: weights and logw have K + 1 entries */
  double noise_logv;         /* its log V */
  /* Concomitant variables (o->concomitant): the weights array of a model holds K mean
   * weights and then the K * (zq + 1) coefficients gamma (mixem_conc_mstep). */
  const mixem_dataset *z;
  size_t zq;
  double *gamma;             /* the coefficients the passes use (set_logw copies them here) */
  double conc_f;             /* the last M-step's sum_ik r_ik log pi_k(z_i) at its gamma */
  gboolean conc_fitted;      /* the start's M-step fitted gamma */
  /* ps.q holds the responsibilities whose statistics c->total holds, so that a family's
   * maximise_passes may gather statistics at other parameters with them (mstep). */
  gboolean q_stats;
} fit_ctx;

/* The coefficients within a weights array W of C's models. */
static double *
conc_gamma (const fit_ctx *c, double *w)
{
  return w + c->K;
}

/* Entries of a model's weights array: K, the noise's, the coefficients. */
static size_t
weights_len (const fit_ctx *c)
{
  return c->K + (c->noise ? 1 : 0) + (c->z ? c->K * (c->zq + 1) : 0);
}

static const char *const algorithm_names[] = { "em", "cem", "squarem", "sem", "annealed",
                                                "incremental", "online" };

const char *
mixem_algorithm_name (mixem_algorithm a)
{
  return (unsigned) a < G_N_ELEMENTS (algorithm_names) ? algorithm_names[a] : NULL;
}

gboolean
mixem_algorithm_parse (const char *name, mixem_algorithm *out, GError **error)
{
  for (size_t i = 0; name && i < G_N_ELEMENTS (algorithm_names); i++)
    if (strcmp (name, algorithm_names[i]) == 0) {
      *out = (mixem_algorithm) i;
      return TRUE;
    }
  char *q = mixem_quote (name ? name : "", -1);
  g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
               "unknown algorithm '%s' (known: em, cem, squarem, sem, annealed, incremental, "
               "online)", q);
  g_free (q);
  return FALSE;
}

static gboolean
check_fit_options (const mixem_family *f, const mixem_dataset *data, const mixem_fit_options *o,
                   GError **error)
{
  const char *bad = NULL;
  if (o->k < 1)
    bad = "'k' must be a positive integer";
  else if (o->k > mixem_dataset_all_rows (data))
    bad = "'k' exceeds the number of rows";
  else if (o->max_iter < 0)
    bad = "'max_iter' must be >= 0";
  else if (!(o->tol >= 0.0) || !isfinite (o->tol))
    bad = "'tol' must be a finite number >= 0";
  else if (!(o->refine_tol >= 0.0) || !isfinite (o->refine_tol))
    bad = "'refine_tol' must be a finite number >= 0";
  else if (o->n_init < 1)
    bad = "'n_init' must be >= 1";
  else if (o->n_refine < 0)
    bad = "'n_refine' must be >= 0";
  else if (o->short_starts < 1)
    bad = "'short_starts' must be >= 1";
  else if (o->short_iter < 1)
    bad = "'short_iter' must be >= 1";
  else if (o->short_algorithm != MIXEM_EM && o->short_algorithm != MIXEM_CEM
           && o->short_algorithm != MIXEM_SEM)
    bad = "'short_algorithm' must be em, cem or sem";
  else if (o->short_algorithm != MIXEM_EM && o->short_starts < 2)
    bad = "'short_algorithm' chooses how small-EM's short runs climb: it needs short_starts > 1";
  else if (o->threads < 0)
    bad = "'threads' must be >= 0";
  if (!bad && !mixem_algorithm_name (o->algorithm)) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 "unknown algorithm %d (known: em, cem, squarem, sem, annealed, incremental, "
                 "online)",
                 (int) o->algorithm);
    return FALSE;
  }
  if (!bad && o->algorithm != MIXEM_ANNEALED && (o->anneal_t0 != 0.0 || o->anneal_steps != 0)) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 "'%s' is an option of algorithm 'annealed' only; this fit's algorithm is '%s'",
                 o->anneal_t0 != 0.0 ? "anneal_t0" : "anneal_steps",
                 mixem_algorithm_name (o->algorithm));
    return FALSE;
  }
  /* Each algorithm's own options: a value other than 0 (the default) given to another algorithm
   * is an error naming it, as a user who sets it expects it to act. */
  const struct { const char *name; gboolean set; mixem_algorithm alg; } own[] = {
    { "blocks", o->blocks != 0, MIXEM_INCREMENTAL },
    { "batch_size", o->batch_size != 0, MIXEM_ONLINE },
    { "step_alpha", o->step_alpha != 0.0, MIXEM_ONLINE },
    { "epochs", o->epochs != 0, MIXEM_ONLINE },
    { "sem_average", o->sem_average != 0, MIXEM_SEM },
  };
  for (size_t i = 0; !bad && i < G_N_ELEMENTS (own); i++)
    if (own[i].set && o->algorithm != own[i].alg) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                   "'%s' is an option of algorithm '%s' only; this fit's algorithm is '%s'",
                   own[i].name, mixem_algorithm_name (own[i].alg),
                   mixem_algorithm_name (o->algorithm));
      return FALSE;
    }
  const size_t n = mixem_dataset_all_rows (data);
  if (!bad && o->blocks > n) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 "'blocks' = %zu exceeds the number of rows (%zu): each chunk needs a row",
                 o->blocks, n);
    return FALSE;
  }
  if (!bad && o->batch_size > n) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 "'batch_size' = %zu exceeds the number of rows (%zu)", o->batch_size, n);
    return FALSE;
  }
  if (!bad && o->step_alpha != 0.0 && !(o->step_alpha > 0.5 && o->step_alpha <= 1.0)) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 "'step_alpha' must lie in (0.5, 1] (got %g): the steps eta_t = (t + 2)^-alpha "
                 "must sum to infinity and their squares to a finite value", o->step_alpha);
    return FALSE;
  }
  if (!bad && (o->sem_average < 0 || o->sem_average > o->max_iter)) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 "'sem_average' must lie in 1 .. max_iter = %d (got %d; 0 is the default: the "
                 "best iteration)", o->max_iter, o->sem_average);
    return FALSE;
  }
  if (!bad && o->epochs < 0) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 "'epochs' must be >= 1 (got %d; 0 is the default: until tol)", o->epochs);
    return FALSE;
  }
  if (!bad && o->reseed
      && (o->algorithm == MIXEM_INCREMENTAL || o->algorithm == MIXEM_ONLINE)) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 "'reseed' is not available with algorithm '%s' (its M-steps run on partial "
                 "statistics, where no re-seeding policy is defined)",
                 mixem_algorithm_name (o->algorithm));
    return FALSE;
  }
  if (!bad && o->anneal_t0 != 0.0 && !(o->anneal_t0 >= 1.0 && isfinite (o->anneal_t0))) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 "'anneal_t0' must be a finite temperature >= 1 (got %g): the schedule falls "
                 "from it to 1", o->anneal_t0);
    return FALSE;
  }
  if (!bad && o->anneal_steps < 0) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 "'anneal_steps' must be >= 1 (got %d; 0 is the default, 5)", o->anneal_steps);
    return FALSE;
  }
  if (bad) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 "%s (k = %zu, max_iter = %d, tol = %g, n_init = %d, threads = %d, rows = %zu)",
                 bad, o->k, o->max_iter, o->tol, o->n_init, o->threads,
                 mixem_dataset_all_rows (data));
    return FALSE;
  }
  if (o->noise) {
    const char *why = NULL;
    if (o->algorithm != MIXEM_EM && o->algorithm != MIXEM_CEM)
      why = "algorithm em or cem";
    else if (o->short_algorithm == MIXEM_SEM)
      why = "short_algorithm em or cem";
    else if (o->reseed)
      why = "reseed off";
    else if (mixem_dataset_has_missing (data))
      why = "complete data (this data has missing cells)";
    else if (!f->expected_loglik)
      why = "a family with expected_loglik";
    else if (o->warm_start && !o->warm_start->noise)
      why = "a warm start that has a noise component too";
    else if (!(o->noise_volume >= 0.0) || !isfinite (o->noise_volume))
      why = "'noise_volume' a finite V > 0 (or 0: the data's hypervolume)";
    else if (o->noise_volume == 0.0 && !o->warm_start && mixem_dataset_is_part (data))
      why = "'noise_volume' given when the data is split across ranks";
    else if (!(o->noise_init >= 0.0 && o->noise_init < 1.0))
      why = "'noise_init' in [0, 1) (0: the default, 0.1)";
    else if (o->noise_rows && mixem_dataset_is_part (data))
      why = "its row mask ('noise_rows') on data read whole, not split across ranks";
    else if (o->noise_rows && (o->warm_start || o->init_components))
      why = "its row mask ('noise_rows') with a start of its own, not a given one";
    if (!why && o->noise_rows) {
      gboolean all = TRUE;
      for (size_t i = 0; i < mixem_dataset_rows (data) && all; i++)
        all = o->noise_rows[i];
      if (all)
        why = "a row mask ('noise_rows') that leaves some rows to the components (it flags "
              "every row)";
    }
    if (why) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                   "the noise component ('noise') needs %s", why);
      return FALSE;
    }
  } else if (o->noise_volume != 0.0 || o->noise_init != 0.0 || o->noise_rows) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 "'%s' is an option of the noise component: set 'noise' too",
                 o->noise_volume != 0.0 ? "noise_volume"
                 : o->noise_init != 0.0 ? "noise_init" : "noise_rows");
    return FALSE;
  } else if (o->warm_start && o->warm_start->noise) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 "the warm start has a noise component: set 'noise' too");
    return FALSE;
  }
  if (o->init_weights) {
    double s = 0.0;
    for (size_t k = 0; k < o->k + (o->noise ? 1 : 0); k++) {
      if (!(o->init_weights[k] >= 0.0) || !isfinite (o->init_weights[k])) {
        g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                     "initial weight %zu is %g; weights must be finite and >= 0", k + 1,
                     o->init_weights[k]);
        return FALSE;
      }
      s += o->init_weights[k];
    }
    if (fabs (s - 1.0) > 1e-9) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                   "the initial weights sum to %.17g, not 1", s);
      return FALSE;
    }
  }
  if (o->init_components && (!g_variant_is_of_type (o->init_components, G_VARIANT_TYPE_ARRAY)
                             || g_variant_n_children (o->init_components) != o->k)) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 "the initial components must be an array of k = %zu dictionaries", o->k);
    return FALSE;
  }
  if (o->warm_start) {
    const mixem_model *m = o->warm_start;
    if (m->family != f || m->k != o->k || m->d != mixem_dataset_cols (data)) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                   "the warm start is a %s model with k = %zu on %zu columns; this fit is %s "
                   "with k = %zu on %zu columns", m->family->name, m->k, m->d, f->name, o->k,
                   mixem_dataset_cols (data));
      return FALSE;
    }
  }
  if (o->concomitant || o->init_concomitant) {
    const mixem_dataset *z = o->concomitant;
    const char *why = NULL;
    if (!z)
      why = "'init_concomitant' given without concomitant variables";
    else if (mixem_dataset_cols (z) < 1)
      why = "concomitant variables need at least one column";
    else if (mixem_dataset_rows (z) != mixem_dataset_rows (data)
             || mixem_dataset_all_rows (z) != mixem_dataset_all_rows (data)
             || mixem_dataset_first_row (z) != mixem_dataset_first_row (data))
      why = "the concomitant variables must have the data's rows";
    else if (o->algorithm == MIXEM_INCREMENTAL || o->algorithm == MIXEM_ONLINE)
      why = "concomitant variables work with the algorithms em, cem, squarem, sem and annealed "
            "(their M-step makes passes over all rows)";
    else if (o->noise)
      why = "concomitant variables and the noise component cannot be combined";
    else if (o->fix_weights)
      why = "concomitant variables make the weights: 'fix_weights' cannot be combined with them";
    else if (o->reseed)
      why = "concomitant variables cannot be combined with 'reseed'";
    else if (o->warm_start && o->warm_start->conc_q != mixem_dataset_cols (z))
      why = "the warm start has other concomitant variables than this fit";
    if (why) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION, "%s", why);
      return FALSE;
    }
    /* Every cell a finite number (across ranks, every rank reports the lowest failing rank's
     * cell), and no column constant (the intercept's double). */
    const size_t zn = mixem_dataset_rows (z), q = mixem_dataset_cols (z);
    GError *zerr = NULL;
    for (size_t i = 0; i < zn && !zerr; i++)
      for (size_t j = 0; j < q && !zerr; j++) {
        const double v = mixem_dataset_value (z, i, j);
        if (!isfinite (v) || mixem_dataset_is_missing (z, i, j)) {
          char *cell = mixem_dataset_cell_name (z, i, j);
          g_set_error (&zerr, MIXEM_ERROR, MIXEM_ERROR_DATA,
                       "%s: a concomitant variable must be a finite number (got %g)", cell, v);
          g_free (cell);
        }
      }
    if (mixem_dataset_is_part (z) ? !mixem_parallel_agree (&zerr) : zerr != NULL) {
      g_propagate_error (error, zerr);
      return FALSE;
    }
    for (size_t j = 0; j < q; j++) {
      double range[2] = { -INFINITY, -INFINITY };   /* max and -min, over all ranks' rows */
      for (size_t i = 0; i < zn; i++) {
        const double v = mixem_dataset_value (z, i, j);
        range[0] = MAX (range[0], v);
        range[1] = MAX (range[1], -v);
      }
      mixem_dataset_max_over_ranks (z, range, 2);
      if (!(range[0] > -range[1])) {
        g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA,
                     "the concomitant variable '%s' is constant in every row: with the "
                     "intercept its coefficients are not identified", mixem_dataset_names (z)[j]);
        return FALSE;
      }
    }
  }
  if (!o->concomitant && o->warm_start && o->warm_start->conc_q) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 "the warm start has concomitant variables: give them to this fit too");
    return FALSE;
  }
  if (o->init && !o->warm_start && strcmp (o->init, "random_resp") != 0
      && strcmp (o->init, "auto") != 0) {
    gboolean known = FALSE;
    for (const char *const *m = f->init_methods; m && *m; m++)
      known = known || strcmp (*m, o->init) == 0;
    if (!known) {
      GString *list = g_string_new (NULL);
      for (const char *const *m = f->init_methods; m && *m; m++)
        g_string_append_printf (list, "%s%s", list->len ? ", " : "", *m);
      if (!strstr (list->str, "random_resp"))
        g_string_append_printf (list, "%srandom_resp", list->len ? ", " : "");
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                   "unknown start '%s' for family '%s' (known: %s)", o->init, f->name, list->str);
      g_string_free (list, TRUE);
      return FALSE;
    }
  }
  return TRUE;
}

/* Orders (value, index) pairs by value, then index, so that ties break the same way always. */
static gint
compare_pairs (gconstpointer a, gconstpointer b)
{
  const double *x = a, *y = b;
  return x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : x[1] < y[1] ? -1 : x[1] > y[1];
}

static void
set_logw (fit_ctx *c, const double *w)
{
  for (size_t k = 0; k < c->K + (c->noise ? 1 : 0); k++)
    c->logw[k] = log (w[k]);   /* -inf for a zero weight: that component takes no rows */
  if (c->z) {
    memcpy (c->gamma, w + c->K, c->K * (c->zq + 1) * sizeof (double));
    c->ps.gamma = c->gamma;
  }
}

/* The weights' part of the ELBO from the statistics S of a q: sum_k N_k log pi_k, or with
 * concomitant variables sum_ik r_ik log pi_k(z_i) = sum_k gamma_k' RZ_k - sum_i w_i lse_i at
 * the gamma S was gathered at (W's, when W is what the pass ran with). */
static double
weights_elbo (const fit_ctx *c, const double *w, const double *s)
{
  double e = 0.0;
  if (c->z) {
    const double *rz = s + c->ps.zoff, *g = w + c->K;
    const size_t n = c->K * (c->zq + 1);
    for (size_t i = 0; i < n; i++)
      e += g[i] * rz[i];
    return e - rz[n];
  }
  for (size_t k = 0; k < c->K; k++)
    if (s[k] > 0.0)
      e += s[k] * log (w[k]);
  return e;
}

/* The noise component's share of the ELBO, N_0 (log pi_0 - log V), from c->total. */
static double
noise_elbo (const fit_ctx *c, const double *w)
{
  const double n0 = c->noise ? c->total[c->ps.ss - 1] : 0.0;
  return n0 > 0.0 ? n0 * (log (w[c->K]) - c->noise_logv) : 0.0;
}

/* mclust's hypvol(): log V, V the smaller of the volumes of the box bounding the columns and of
 * the box bounding the principal components (the rows projected on the eigenvectors of their
 * covariance).  Rows unweighted, as mclust's.  An error for a zero volume (a constant column,
 * rows on a hyperplane). */
static gboolean
log_hypervolume (const mixem_dataset *data, double *out, GError **error)
{
  const size_t n = mixem_dataset_rows (data), d = mixem_dataset_cols (data);
  double *mean = g_new0 (double, d), *lo = g_new (double, 2 * d), *hi = lo + d;
  gsl_matrix *cv = gsl_matrix_calloc (d, d), *vec = gsl_matrix_alloc (d, d);
  gsl_vector *val = gsl_vector_alloc (d);
  double *e = g_new (double, d);
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < d; j++)
      mean[j] += mixem_dataset_value (data, i, j) / (double) n;
  for (size_t i = 0; i < n; i++) {
    for (size_t j = 0; j < d; j++)
      e[j] = mixem_dataset_value (data, i, j) - mean[j];
    for (size_t a = 0; a < d; a++)
      for (size_t b = 0; b <= a; b++)
        *gsl_matrix_ptr (cv, a, b) += e[a] * e[b];
  }
  for (size_t a = 0; a < d; a++)
    for (size_t b = 0; b < a; b++)
      gsl_matrix_set (cv, b, a, gsl_matrix_get (cv, a, b));
  gsl_eigen_symmv_workspace *ws = gsl_eigen_symmv_alloc (d);
  gsl_eigen_symmv (cv, val, vec, ws);
  gsl_eigen_symmv_free (ws);
  double logv[2];
  for (int pass = 0; pass < 2; pass++) {
    for (size_t j = 0; j < d; j++) {
      lo[j] = INFINITY;
      hi[j] = -INFINITY;
    }
    for (size_t i = 0; i < n; i++)
      for (size_t j = 0; j < d; j++) {
        double v = 0.0;
        if (pass == 0)
          v = mixem_dataset_value (data, i, j);
        else
          for (size_t a = 0; a < d; a++)
            v += (mixem_dataset_value (data, i, a) - mean[a]) * gsl_matrix_get (vec, a, j);
        lo[j] = MIN (lo[j], v);
        hi[j] = MAX (hi[j], v);
      }
    logv[pass] = 0.0;
    for (size_t j = 0; j < d; j++)
      logv[pass] += log (hi[j] - lo[j]);
  }
  *out = d == 1 ? logv[0] : MIN (logv[0], logv[1]);
  g_free (mean);
  g_free (lo);
  g_free (e);
  gsl_matrix_free (cv);
  gsl_matrix_free (vec);
  gsl_vector_free (val);
  if (!isfinite (*out)) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA,
                 "the noise component: the data's hypervolume is %s (a constant column, or rows "
                 "on a hyperplane); give 'noise_volume'", *out < 0 ? "0" : "not finite");
    return FALSE;
  }
  return TRUE;
}

/* For a family's maximise_passes: its statistics at AT with the responsibilities of c->total. */
static gboolean
q_pass (const mixem_params *at, double *out, void *data, GError **error)
{
  fit_ctx *c = data;
  return mixem_pass_accumulate_q (&c->ps, at, out, error);
}

/* The M-step from c->total: weights (unless fixed), then the family's parameters (by
 * maximise_passes, passes over the rows with c->total's responsibilities, where the family has
 * it and they are at hand; else by maximise). */
static gboolean
mstep (fit_ctx *c, mixem_params *p, double *w, gboolean fix_weights, const gboolean *fixed,
       GError **error)
{
  const double *nk = c->total;
  if (!fix_weights && c->z) {
    if (!mixem_conc_mstep (c->data, c->z, c->K, MIXEM_WAVE_BLOCKS * c->ps.block,
                           c->total + c->ps.zoff, c->W, conc_gamma (c, w), w, &c->conc_f, error))
      return FALSE;
    c->conc_fitted = TRUE;
  } else if (!fix_weights)
    for (size_t k = 0; k < c->K; k++)
      w[k] = nk[k] / c->W;
  if (!fix_weights && c->noise)
    w[c->K] = c->total[c->ps.ss - 1] / c->W;
  /* A component with no weight (K above the distinct rows, or one EM emptied) keeps its
   * parameters at weight 0, as scikit-learn's fit carries on, and the fit warns; reseed wants
   * the family's error, to re-seed it, and strict_empty keeps the error. */
  gboolean *keep = NULL;
  for (size_t k = 0; k < c->K && !c->o->reseed && !c->o->strict_empty; k++)
    if (!(nk[k] > 0.0) && !(fixed && fixed[k])) {
      if (!keep) {
        keep = g_new0 (gboolean, c->K);
        if (fixed)
          memcpy (keep, fixed, c->K * sizeof (gboolean));
      }
      keep[k] = TRUE;
    }
  if (keep)
    fixed = keep;
  gboolean all = fixed != NULL, ok = TRUE;
  for (size_t k = 0; k < c->K && all; k++)
    all = fixed[k];
  if (!all && c->f->maximise_passes && c->q_stats && c->ps.q)
    ok = c->f->maximise_passes (p, c->total + c->K + 2, fixed, q_pass, c, error);
  else if (!all)
    ok = c->f->maximise (p, c->total + c->K + 2, fixed, error);
  g_free (keep);
  return ok;
}

/* How far two sums over the rows may differ before a family is called wrong: a hundredth of a
 * nat per unit of row weight, and a part in 10^8 of the value.  Rounding alone stays far below
 * that for a well-conditioned fit, but a nearly singular covariance (reg_covar = 0) amplifies
 * it, up to about 1e-3 nats a row on iris; a dropped term of the density costs a row far more.
 * (The conformance suite checks the identity to 1e-9 on a fitted model.) */
static double
identity_slack (const fit_ctx *c, double loglik)
{
  return 1e-2 * c->W + 1e-8 * fabs (loglik);
}

/* A column with no observed cell leaves its parameters unidentified: an error naming it. */
static gboolean
fit_columns_observed (const mixem_dataset *data, GError **error)
{
  if (mixem_dataset_is_part (data))   /* its readers checked all ranks' rows together */
    return TRUE;
  for (size_t j = 0; mixem_dataset_has_missing (data) && j < mixem_dataset_cols (data); j++)
    if (mixem_dataset_missing_count (data, j) == mixem_dataset_rows (data)) {
      char *q = mixem_quote (mixem_dataset_name (data, j), -1);
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: column '%s' is missing in every "
                   "row", mixem_dataset_source (data), q);
      g_free (q);
      return FALSE;
    }
  return TRUE;
}

/* ELBO(q, theta) with q = p(z | x, theta) must equal log p(X | theta) = LOGLIK: C->total holds
 * the statistics of that q. */
static gboolean
check_identity (const fit_ctx *c, const mixem_params *p, const double *w, double loglik,
                GError **error)
{
  const size_t K = c->K;
  double elbo = c->total[K + MIXEM_S_ENTROPY] + weights_elbo (c, w, c->total);
  elbo += c->f->expected_loglik (p, c->total + K + 2) + noise_elbo (c, w);
  if (fabs (elbo - loglik) <= identity_slack (c, loglik))
    return TRUE;
  g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_PLUGIN,
               "family '%s' breaks log p(X) = ELBO + KL: at the start's own posterior the ELBO "
               "is %.10g but the log-likelihood %.10g (KL would be %g, not 0): its "
               "expected_loglik does not equal sum_ik r_ik log p(x_i | theta_k) (a bug in the "
               "family)", c->f->name, elbo, loglik, loglik - elbo);
  return FALSE;
}

/* A start from responsibilities, then one M-step: LABELS (hard, one per row) or, given RNG,
 * random responsibilities, each row's drawn from a hash of KEY and its global index
 * (so that they depend on neither the ranks nor the threads; scikit-learn's "random").  Every
 * family supports it: it needs only accumulate and maximise.  The sums go by the pass's tree. */
typedef struct {
  fit_ctx *c;
  mixem_params *p;
  const size_t *labels;      /* (NULL for a part with no rows) */
  gboolean random;
  guint64 key;
} resp_job;

static gboolean
resp_leaf (size_t first0, size_t n, double *out, void *user, GError **error)
{
  resp_job *job = user;
  fit_ctx *c = job->c;
  const size_t K = c->K, B = c->ps.block;
  const double *rw = mixem_dataset_weights (c->data);
  double *r = c->ps.scratch;
  memset (out, 0, c->ps.ss * sizeof (double));
  for (size_t first = first0; first < first0 + n; first += B) {
    const size_t nb = MIN (B, first0 + n - first);
    mixem_block blk;
    mixem_pass_block (c->data, first, nb, c->ps.xbuf, c->ps.mbuf, &blk);
    for (size_t i = 0; i < blk.n; i++) {
      const double wi = rw ? rw[first + i] : 1.0;
      double *q = c->ps.q ? c->ps.q + (first + i) * K : NULL;   /* kept for maximise_passes */
      if (!job->random) {
        for (size_t k = 0; k < K; k++) {
          r[i * K + k] = job->labels[first + i] == k ? wi : 0.0;
          if (q)
            q[k] = job->labels[first + i] == k ? 1.0 : 0.0;
        }
        if (c->noise && job->labels[first + i] == K)   /* the noise (noise_rows) */
          out[c->ps.ss - 1] += wi;
      } else {
        const guint64 h = mixem_mix64 (job->key ^ mixem_mix64 ((guint64) (c->ps.row0 + first
                                                                          + i)));
        double s = 0.0;
        for (size_t k = 0; k < K; k++)
          s += r[i * K + k] = (double) (mixem_mix64 (h + k) >> 11) * 0x1.0p-53;
        for (size_t k = 0; k < K; k++) {
          if (q)
            q[k] = r[i * K + k] / s;
          r[i * K + k] *= wi / s;
        }
      }
      for (size_t k = 0; k < K; k++)
        out[k] += r[i * K + k];
    }
    if (c->z) {   /* sum_i r_ik (1, z_i), for the coefficients' M-step */
      const size_t q1 = c->zq + 1;
      double *rz = out + c->ps.zoff;
      for (size_t i = 0; i < blk.n; i++)
        for (size_t k = 0; k < K; k++) {
          rz[k * q1] += r[i * K + k];
          for (size_t j = 0; j < c->zq; j++)
            rz[k * q1 + 1 + j] += r[i * K + k] * mixem_dataset_value (c->z, first + i, j);
        }
    }
    mixem_pass_empty_rows (&blk, K, r);   /* a row with nothing observed adds nothing */
    c->f->accumulate (job->p, &blk, r, out + K + 2);
    if (!mixem_family_take_error (c->f, job->p, error))
      return FALSE;
  }
  return TRUE;
}

static gboolean
init_from_resp (fit_ctx *c, mixem_params *p, double *w, const size_t *labels, gsl_rng *rng,
                GError **error)
{
  resp_job job = { c, p, labels, rng != NULL, 0 };
  if (rng) {   /* two draws (in this order) make the key: the stream goes on as one */
    const guint64 hi = gsl_rng_get (rng);
    job.key = hi << 32 ^ (guint64) gsl_rng_get (rng);
  }
  if (!mixem_tree_reduce (c->data, 0, c->ps.n, MIXEM_WAVE_BLOCKS * c->ps.block, c->ps.ss,
                          resp_leaf, NULL, &job, c->total, error))
    return FALSE;
  c->q_stats = TRUE;
  /* The start sets every component, and the weights unless the caller gave them. */
  return mstep (c, p, w, c->o->init_weights != NULL, NULL, error);
}

/* The noise guess (noise_rows): each row to its most probable component under P and W (the
 * noise left out), the flagged rows to the noise, then one M-step from that partition. */
static gboolean
noise_rows_start (fit_ctx *c, mixem_params *p, double *w, GError **error)
{
  const size_t K = c->K, n = c->ps.n;
  size_t *lab = g_new (size_t, n > 0 ? n : 1);
  double *logw = g_new (double, K + 1), *tot = g_new (double, c->ps.ss);
  for (size_t k = 0; k < K; k++)
    logw[k] = log (w[k]);
  logw[K] = -INFINITY;
  gboolean ok = mixem_pass_estep (&c->ps, p, logw, FALSE, tot, NULL, NULL, lab, error);
  for (size_t i = 0; ok && i < n; i++)
    if (c->o->noise_rows[i])
      lab[i] = K;
  ok = ok && init_from_resp (c, p, w, lab, NULL, error);
  g_free (lab);
  g_free (logw);
  g_free (tot);
  return ok;
}

/* 1 / the weighted variance of each column (1 for a constant one), so that the centre-based
 * starts measure distances in standard units, as mclust's start works on scaled data: on
 * faithful (minutes beside tens of minutes) and banknote, raw distances let one column pick the
 * clusters and the fit ends below mclust's (tests/reference/r_fixtures.lua).  One pass, about
 * the column means (Welford), so data far from the origin lose nothing.  BUF holds D doubles. */
typedef struct {
  const mixem_dataset *data;
  double *buf;
} colw_job;

/* One chunk's (W, mean, M2) for each column by Welford's update, row by row: W of each column
 * its own, since a missing cell (NaN) counts in no column's sums.  OUT: W (d), mean (d), M2 (d). */
static gboolean
colw_leaf (size_t first, size_t n, double *out, void *user, GError **error)
{
  colw_job *job = user;
  const size_t d = mixem_dataset_cols (job->data);
  const double *w = mixem_dataset_weights (job->data);
  double *W = out, *mean = out + d, *m2 = out + 2 * d;
  memset (out, 0, 3 * d * sizeof (double));
  for (size_t i = first; i < first + n; i++) {
    const double wi = w ? w[i] : 1.0, *x = mixem_dataset_block (job->data, i, 1, job->buf);
    if (!(wi > 0))
      continue;
    for (size_t j = 0; j < d; j++) {
      if (isnan (x[j]))
        continue;
      W[j] += wi;
      const double delta = x[j] - mean[j];
      mean[j] += wi / W[j] * delta;
      m2[j] += wi * delta * (x[j] - mean[j]);
    }
  }
  return TRUE;
}

/* Two chunks' (W, mean, M2) as one, column by column (Chan, Golub and LeVeque's pairwise
 * update). */
static void
colw_merge (double *acc, const double *right, size_t len, void *user)
{
  const size_t d = len / 3;
  for (size_t j = 0; j < d; j++) {
    const double wa = acc[j], wb = right[j];
    if (!(wb > 0))
      continue;
    if (!(wa > 0)) {
      acc[j] = wb;
      acc[d + j] = right[d + j];
      acc[2 * d + j] = right[2 * d + j];
      continue;
    }
    const double W = wa + wb, delta = right[d + j] - acc[d + j];
    acc[d + j] += wb / W * delta;
    acc[2 * d + j] += right[2 * d + j] + delta * delta * (wa * wb / W);
    acc[j] = W;
  }
}

static double *
column_weights (const fit_ctx *c, double *buf)
{
  const size_t d = mixem_dataset_cols (c->data);
  double *s = g_new (double, 3 * d + 1);
  colw_job job = { c->data, buf };
  /* No leaf fails, so neither does the reduction. */
  mixem_tree_reduce (c->data, 0, c->ps.n, MIXEM_WAVE_BLOCKS * c->ps.block, 3 * d, colw_leaf,
                     colw_merge, &job, s, NULL);
  double *m2 = g_new (double, d);
  for (size_t j = 0; j < d; j++) {
    const double var = s[j] > 0 ? s[2 * d + j] / s[j] : 0.0;
    m2[j] = var > 0 && isfinite (var) ? 1.0 / var : 1.0;
  }
  g_free (s);
  return m2;
}

/* Global row G as D doubles (in ROW or the dataset): for a part, sent by its owner to every
 * rank (collective). */
static const double *
fetch_row (const fit_ctx *c, size_t g, double *row)
{
  const size_t *off = mixem_dataset_part_offsets (c->data);
  if (!off)
    return mixem_dataset_block (c->data, g, 1, row);
  int owner = 0;
  while (owner + 1 < mixem_parallel_size () && off[owner + 1] <= g)
    owner++;
  if (owner == mixem_parallel_rank ()) {
    const double *x = mixem_dataset_block (c->data, g - off[owner], 1, row);
    if (x != row)
      memcpy (row, x, c->ps.d * sizeof (double));
  }
  mixem_comm_bcast (row, c->ps.d * sizeof (double), owner);
  return row;
}

/* The engine's starts by centres: "kmeans" (Lloyd from k-means++ seeds, scikit-learn's default),
 * "kmeans++" (the seeds alone), "random" (K distinct random rows).  Every row then joins its
 * nearest centre and one M-step estimates all parameters, weights included.  (scikit-learn's
 * "k-means++" and "random_from_data" give responsibility to the K seed rows only, which leaves
 * each covariance at reg_covar; taking every row is the better start.) */
static gboolean
init_from_centres (fit_ctx *c, mixem_params *p, double *w, const char *method, gsl_rng *rng,
                   GError **error)
{
  const size_t K = c->K, n = c->ps.n, d = c->ps.d;
  double *centres = g_new (double, K * d), *row = g_new (double, d);
  size_t *labels = g_new (size_t, n);
  double *iw = c->f->flags & MIXEM_FAMILY_SCALED_STARTS ? column_weights (c, row) : NULL;
  if (strcmp (method, "kmeans") == 0)
    mixem_kmeans_scaled (c->data, K, 300, rng, iw, MIXEM_WAVE_BLOCKS * c->ps.block, centres,
                         labels);
  else {
    if (strcmp (method, "kmeans++") == 0)
      mixem_kmeanspp_scaled (c->data, K, rng, iw, MIXEM_WAVE_BLOCKS * c->ps.block, centres);
    else {
      /* K random rows with distinct values: duplicates would leave a component empty.  Across
       * ranks the rows are drawn from all of them, the same on every rank (one RNG stream),
       * and each row's owner sends it. */
      const size_t nall = mixem_dataset_all_rows (c->data);
      size_t *order = g_new (size_t, nall), found = 0;
      for (size_t i = 0; i < nall; i++)
        order[i] = i;
      gsl_ran_shuffle (rng, order, nall, sizeof (size_t));
      for (size_t i = 0; i < nall && found < K; i++) {
        const double *x = fetch_row (c, order[i], row);
        gboolean dup = FALSE;
        for (size_t k = 0; k < found && !dup; k++)
          dup = memcmp (centres + k * d, x, d * sizeof (double)) == 0;
        if (!dup)
          memcpy (centres + found++ * d, x, d * sizeof (double));
      }
      g_free (order);
      /* Fewer distinct rows than components: the centres repeat, and the repeats, which take
       * no rows, are kept at weight 0 (see mstep), unless strict_empty asks for the error. */
      if (found < K && (c->o->strict_empty || found == 0)) {
        g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA,
                     "%s: only %zu distinct rows for k = %zu components",
                     mixem_dataset_source (c->data), found, K);
        g_free (centres);
        g_free (labels);
        g_free (row);
        g_free (iw);
        return FALSE;
      }
      for (size_t k = found; k < K; k++)
        memcpy (centres + k * d, centres + (k % found) * d, d * sizeof (double));
    }
    mixem_nearest_centres_scaled (c->data, K, centres, iw, labels, NULL);
  }
  gboolean ok = init_from_resp (c, p, w, labels, NULL, error);
  g_free (iw);
  g_free (centres);
  g_free (labels);
  g_free (row);
  return ok;
}

/* "hc": mclust's start, model-based agglomerative hierarchical clustering (src/hc.c) cut at K,
 * then one M-step from that partition, the weights its cluster shares, as mclust's
 * mstep(z = unmap(hclass(...))).  Deterministic: no RNG.  A family that lists it declares the
 * options hc_model (VVV, VII, EEE, EII, or V, E for one column; default VVV, V for one column), hc_use
 * (SVD, VARS; default SVD, as mclust >= 5.4) and hc_subset (rows clustered, 0 for all; default
 * 2000, as mclust.options("subset")); rows outside the subset take no part in the M-step. */
static gboolean
init_from_hc (fit_ctx *c, mixem_params *p, double *w, GError **error)
{
  const mixem_options *fo = c->o->family_options;
  const char *model = mixem_options_get (fo, "hc_model");
  const char *use = mixem_options_get (fo, "hc_use");
  const double sub = mixem_options_get_number (fo, "hc_subset", 2000);
  if (!model)
    model = c->ps.d == 1 ? "V" : "VVV";
  if (mixem_dataset_has_missing (c->data)) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION, "%s: the hc start needs complete rows, "
                 "and the data have missing values: choose another init",
                 mixem_dataset_source (c->data));
    return FALSE;
  }
  size_t *labels = g_new (size_t, c->ps.n + 1);
  gboolean ok;
  if (mixem_dataset_is_part (c->data)) {
    /* Across ranks: the rows hc clusters (all, or hc_subset of them evenly spaced, as one
     * process takes them) sent to every rank by their owners, the same clustering on each, and
     * each rank's rows of the subset labelled (collective). */
    const size_t N = mixem_dataset_all_rows (c->data), d = c->ps.d;
    const size_t m = sub > 0 && (size_t) sub < N ? (size_t) sub : N;
    const size_t row0 = mixem_dataset_first_row (c->data);
    double *x = g_new (double, m * d + 1);
    size_t *g = g_new (size_t, m + 1), *sl = g_new (size_t, m + 1);
    for (size_t i = 0; i < m; i++) {
      g[i] = m == N ? i : (size_t) ((double) i * (double) N / (double) m);
      fetch_row (c, g[i], x + i * d);
    }
    mixem_dataset *sub_ds = mixem_dataset_new (m, d, x, mixem_dataset_names (c->data), NULL,
                                               error);
    ok = sub_ds && mixem_hc (sub_ds, model, use ? use : "SVD", 0, 1, &c->K, sl, error);
    for (size_t i = 0; i < c->ps.n; i++)
      labels[i] = MIXEM_HC_NONE;
    for (size_t i = 0; ok && i < m; i++)
      if (g[i] >= row0 && g[i] < row0 + c->ps.n)
        labels[g[i] - row0] = sl[i];
    mixem_dataset_free (sub_ds);
    g_free (x);
    g_free (g);
    g_free (sl);
  } else if (c->noise && c->o->noise_rows) {
    /* With a noise guess, as mclust's: hc on the other rows, the flagged ones to the noise. */
    size_t *keep = g_new (size_t, c->ps.n + 1), *sl = g_new (size_t, c->ps.n + 1), m = 0;
    for (size_t i = 0; i < c->ps.n; i++)
      if (!c->o->noise_rows[i])
        keep[m++] = i;
    mixem_dataset *sub_ds = mixem_dataset_subset (c->data, keep, m, error);
    ok = sub_ds && mixem_hc (sub_ds, model, use ? use : "SVD", (size_t) sub, 1, &c->K, sl, error);
    for (size_t i = 0; i < c->ps.n; i++)
      labels[i] = c->K;
    for (size_t i = 0; ok && i < m; i++)
      labels[keep[i]] = sl[i];
    mixem_dataset_free (sub_ds);
    g_free (keep);
    g_free (sl);
  } else
    ok = mixem_hc (c->data, model, use ? use : "SVD", (size_t) sub, 1, &c->K, labels, error);
  ok = ok && init_from_resp (c, p, w, labels, NULL, error);
  g_free (labels);
  return ok;
}

static gboolean
is_engine_start (const char *method)
{
  return strcmp (method, "random_resp") == 0 || strcmp (method, "kmeans") == 0
         || strcmp (method, "kmeans++") == 0 || strcmp (method, "random") == 0
         || strcmp (method, "hc") == 0;
}

/* The start METHOD, by the engine or the family. */
static gboolean
run_start (fit_ctx *c, mixem_params *p, double *w, const char *method, gsl_rng *rng,
           GError **error)
{
  if (!method || !*method) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION, "family '%s' has no start; give one",
                 c->f->name);
    return FALSE;
  }
  if (strcmp (method, "random_resp") == 0)
    return init_from_resp (c, p, w, NULL, rng, error);
  if (strcmp (method, "hc") == 0)
    return init_from_hc (c, p, w, error);
  if (is_engine_start (method) && (!c->f->init || strcmp (method, "random") != 0))
    return init_from_centres (c, p, w, method, rng, error);
  if (mixem_dataset_is_part (c->data)) {
    /* Across ranks the family's own start sees all rows too, in order: every rank gathers
     * them (N x D doubles, once per start) and makes the same start from the same stream. */
    const size_t P = (size_t) mixem_parallel_size (), n = c->ps.n, d = c->ps.d;
    size_t *counts = g_new (size_t, P), all = 0;
    mixem_comm_allgather_size (n * d, counts);
    for (size_t r = 0; r < P; r++)
      all += counts[r];
    double *mine = g_new (double, n * d + 1), *x = g_new (double, all + 1);
    if (n > 0) {
      const double *v = mixem_dataset_block (c->data, 0, n, mine);
      if (v != mine)
        memcpy (mine, v, n * d * sizeof (double));
    }
    mixem_comm_allgatherv (mine, n * d, x, counts);
    mixem_block every = { all / (d > 0 ? d : 1), d, 0, x, NULL, NULL, NULL, NULL };
    gboolean ok = c->f->init (p, &every, method, rng, error);
    g_free (mine);
    g_free (x);
    g_free (counts);
    return mixem_parallel_agree (error) && ok;
  }
  /* A family's own start sees all rows as one block (widened for this call if held as bytes). */
  double *wide = c->ps.xbuf ? g_new (double, c->ps.n * c->ps.d) : NULL;
  unsigned char *mask = c->ps.mbuf ? g_new (unsigned char, c->ps.n * c->ps.d) : NULL;
  mixem_block all;
  mixem_pass_block (c->data, 0, c->ps.n, wide, mask, &all);
  gboolean ok = c->f->init (p, &all, method, rng, error);
  g_free (wide);
  g_free (mask);
  return ok;
}

/* The start method.  INIT NULL or "auto" (the default) is the family's first start, its
 * default chosen by measurement (random rows for the Gaussian, Bernoulli and binomial families:
 * screened by small-EM, short_starts per restart, they reached R's optimum in all 139 cells of
 * tests/reference/r_fixtures.lua for seeds 0 to 3, where the family's four starts in turn lost 2
 * to 4 cells per seed; bench/r_cells.lua, README's short_starts). */
static const char *
auto_start (const mixem_family *f, const char *init)
{
  if (init && strcmp (init, "auto") != 0)
    return init;
  return f->init_methods && f->init_methods[0] ? f->init_methods[0] : "random_resp";
}

/* theta_0 for one restart.  Given components are set over the start; a start runs first only if
 * some component is left partly unspecified, as scikit-learn estimates what its *_init leave out.
 * Weights not given: uniform when every component was given, else from the start. */
static gboolean
start (fit_ctx *c, mixem_params *p, double *w, gsl_rng *rng, gboolean *random,
       GError **error)
{
  const mixem_fit_options *o = c->o;
  const char *method = auto_start (c->f, o->init);
  for (size_t k = 0; k < c->K; k++)
    w[k] = 1.0 / (double) c->K;
  c->conc_fitted = FALSE;
  gboolean need_start = !o->init_components;
  if (o->init_components) {
    mixem_params *probe = c->f->params_copy (p);
    for (size_t k = 0; k < c->K && !need_start; k++) {
      GVariant *dict = g_variant_get_child_value (o->init_components, k);
      gboolean complete = FALSE;
      gboolean ok = c->f->assign (probe, k, dict, &complete, error);
      g_variant_unref (dict);
      if (!ok) {
        g_prefix_error (error, "initial component %zu: ", k + 1);
        c->f->params_free (probe);
        return FALSE;
      }
      need_start = !complete;
    }
    c->f->params_free (probe);
  }
  /* A start that draws nothing (hc asked for by name) makes every restart the same fit. */
  *random = need_start && !(o->init && strcmp (o->init, "hc") == 0);
  if (need_start && !run_start (c, p, w, method, rng, error))
    return FALSE;
  /* (hc took the guess itself, as mclust's: it clusters the other rows only) */
  if (need_start && o->noise_rows && strcmp (method, "hc") != 0
      && !noise_rows_start (c, p, w, error))
    return FALSE;
  if (o->init_weights)
    memcpy (w, o->init_weights, (c->K + (c->noise ? 1 : 0)) * sizeof (double));
  else if (c->noise && !o->noise_rows) {   /* the start's weights make room for the noise's */
    const double p0 = o->noise_init > 0.0 ? o->noise_init : 0.1;
    for (size_t k = 0; k < c->K; k++)
      w[k] *= 1.0 - p0;
    w[c->K] = p0;
  }
  for (size_t k = 0; o->init_components && k < c->K; k++) {
    GVariant *dict = g_variant_get_child_value (o->init_components, k);
    gboolean ok = c->f->assign (p, k, dict, NULL, error);
    g_variant_unref (dict);
    if (!ok) {
      g_prefix_error (error, "initial component %zu: ", k + 1);
      return FALSE;
    }
  }
  /* The coefficients: given, or fitted by the start's M-step, or else the start's weights as
   * intercepts (log w_k / w_1) with slopes 0. */
  if (c->z && o->init_concomitant)
    memcpy (conc_gamma (c, w), o->init_concomitant, c->K * (c->zq + 1) * sizeof (double));
  else if (c->z && (!c->conc_fitted || o->init_weights)) {
    double *g = conc_gamma (c, w);
    for (size_t k = 0; k < c->K; k++) {
      g[k * (c->zq + 1)] = log (w[k]) - log (w[0]);
      for (size_t j = 0; j < c->zq; j++)
        g[k * (c->zq + 1) + 1 + j] = 0.0;
    }
  }
  return TRUE;
}

/* Across ranks: the M rows of smallest LSE (this rank's n values) of all ranks, ordered by (lse,
 * global row) as one process orders them, as a dataset on every rank: each rank offers its M
 * smallest as (lse, global row, weight), every rank sorts all the offers alike, and each row
 * chosen is sent by its owner (collective). */
static gint
compare_triples (gconstpointer a, gconstpointer b, gpointer unused)
{
  return compare_pairs (a, b);
}

static mixem_dataset *
worst_rows_part (const fit_ctx *c, const double *lse, size_t m, GError **error)
{
  const size_t n = c->ps.n, d = c->ps.d, row0 = mixem_dataset_first_row (c->data);
  const double *w = mixem_dataset_weights (c->data);
  GArray *mine = g_array_sized_new (FALSE, FALSE, sizeof (double) * 3, (guint) n);
  for (size_t i = 0; i < n; i++) {
    double t[3] = { lse[i], (double) (row0 + i), w ? w[i] : 1.0 };
    g_array_append_val (mine, t);
  }
  g_array_sort_with_data (mine, compare_triples, NULL);
  const size_t offer = MIN (m, n), P = (size_t) mixem_parallel_size ();
  size_t *counts = g_new (size_t, P), all = 0;
  mixem_comm_allgather_size (3 * offer, counts);
  for (size_t r = 0; r < P; r++)
    all += counts[r];
  double *offers = g_new (double, all + 1);
  mixem_comm_allgatherv ((const double *) mine->data, 3 * offer, offers, counts);
  g_array_free (mine, TRUE);
  g_qsort_with_data (offers, (gint) (all / 3), sizeof (double) * 3, compare_triples, NULL);
  m = MIN (m, all / 3);
  double *x = g_new (double, m * d + 1), *wt = g_new (double, m + 1);
  for (size_t i = 0; i < m; i++) {
    fetch_row (c, (size_t) offers[3 * i + 1], x + i * d);
    wt[i] = offers[3 * i + 2];
  }
  mixem_dataset *ds = mixem_dataset_new (m, d, x, mixem_dataset_names (c->data), w ? wt : NULL,
                                         error);
  g_free (x);
  g_free (wt);
  g_free (offers);
  g_free (counts);
  return ds;
}

/* The re-seeding policy (opts->reseed): the M-step failed on a degenerate component (collapsed
 * or emptied).  BEFORE holds theta_{t-1}, whose statistics are in c->total.  Finds the component
 * at fault (the one whose M-step fails alone), updates the others, and sets it from a
 * one-component fit to the rows worst explained by theta_{t-1}, with their share of the weight.
 * Returns the component (0-based) or -1 with ERROR set. */
static int
reseed (fit_ctx *c, mixem_params *p, const mixem_params *before, double *w, GError **error)
{
  const mixem_fit_options *o = c->o;
  const size_t K = c->K, n = c->ps.n, d = c->ps.d;
  gboolean *fixed = g_new (gboolean, K);
  int bad = -1;
  for (size_t j = 0; j < K && bad < 0; j++) {
    if (o->fix_components && o->fix_components[j])
      continue;
    for (size_t k = 0; k < K; k++)
      fixed[k] = k != j;
    mixem_params *q = c->f->params_copy (before);
    if (!c->f->maximise (q, c->total + K + 2, fixed, NULL))
      bad = (int) j;
    c->f->params_free (q);
  }
  if (bad < 0) {   /* no single component at fault (a shared covariance): nothing to re-seed */
    g_free (fixed);
    return -1;
  }
  for (size_t k = 0; k < K; k++)
    fixed[k] = (size_t) bad == k || (o->fix_components && o->fix_components[k]);
  gboolean ok = mstep (c, p, w, o->fix_weights, fixed, error);
  g_free (fixed);
  if (!ok)
    return -1;

  /* The worst-explained rows under theta_{t-1}: enough for a full covariance. */
  double *lse = g_new (double, n + 1), *tot = g_new (double, c->ps.ss);
  ok = mixem_pass_estep (&c->ps, before, c->logw, FALSE, tot, NULL, lse, NULL, error);
  g_free (tot);
  const size_t N = mixem_dataset_all_rows (c->data);
  size_t m = MIN (N, MAX (N / (2 * K), 2 * (d + 1)));
  size_t *order = g_new (size_t, n + 1);
  for (size_t i = 0; i < n; i++)
    order[i] = i;
  mixem_dataset *worst = NULL;
  mixem_model *one = NULL;
  if (ok && mixem_dataset_is_part (c->data)) {
    worst = worst_rows_part (c, lse, m, error);
    ok = worst != NULL;
  } else if (ok) {
    /* Partial selection by repeated minimum would be O(n m); a sort of (lse, index) is simpler. */
    GArray *pairs = g_array_sized_new (FALSE, FALSE, sizeof (double) * 2, (guint) n);
    for (size_t i = 0; i < n; i++) {
      double pr[2] = { lse[i], (double) i };
      g_array_append_val (pairs, pr);
    }
    g_array_sort (pairs, compare_pairs);
    for (size_t i = 0; i < m; i++)
      order[i] = (size_t) ((double *) pairs->data)[2 * i + 1];
    g_array_free (pairs, TRUE);
    worst = mixem_dataset_subset (c->data, order, m, error);
    ok = worst != NULL;
  }
  if (ok) {
    mixem_fit_options one_o;
    mixem_fit_options_init (&one_o);
    one_o.k = 1;
    one_o.max_iter = 0;
    one_o.init = "random_resp";
    one_o.threads = 1;
    one_o.family_options = o->family_options;
    one = mixem_fit (c->f, worst, &one_o, error);
    ok = one != NULL;
  }
  if (ok) {
    GVariant *dict = g_variant_ref_sink (mixem_model_component (one, 0));
    ok = c->f->assign (p, (size_t) bad, dict, NULL, error);
    g_variant_unref (dict);
  }
  if (ok && !o->fix_weights) {
    const double share = mixem_dataset_total_weight (worst) / c->W;
    double rest = 0.0;
    for (size_t k = 0; k < K; k++)
      rest += (size_t) bad == k ? 0.0 : w[k];
    for (size_t k = 0; k < K; k++)
      w[k] = (size_t) bad == k ? share : rest > 0 ? w[k] * (1.0 - share) / rest : 0.0;
  }
  mixem_model_free (one);
  mixem_dataset_free (worst);
  g_free (order);
  g_free (lse);
  if (!ok)
    g_prefix_error (error, "re-seeding component %d: ", bad + 1);
  return ok ? bad : -1;
}

/* One EM iteration T from the statistics in c->total (those of q_{t-1}): the M-step, the E-step
 * at theta_t (which also computes l(theta_t)), and its record in IT, not yet appended.  M's
 * parameters may be replaced (reseed).  CHECK_FIRST checks the family's expected_loglik where
 * the answer is known (see run). */
static gboolean
em_step (fit_ctx *c, mixem_model *m, int restart, int t, gboolean check_first,
         mixem_iteration *it, GError **error)
{
  const mixem_fit_options *o = c->o;
  const size_t K = c->K;
  const gint64 t0 = g_get_monotonic_time ();
  mixem_params *p = m->params;
  double *w = m->weights;
  const double l_prev = m->loglik, h = c->total[K + MIXEM_S_ENTROPY];
  /* The family's expected_loglik checked where the answer is known: at theta_{t-1} with q its
   * posterior, the ELBO is the log-likelihood itself.  Once per run, from the statistics
   * already at hand; a family that drops a constant or a term fails here, not silently.  (Not
   * under CEM, SEM or annealing, whose q is not the posterior.) */
  if (check_first && !c->ps.hard && c->ps.beta == 1.0 && c->f->expected_loglik
      && !check_identity (c, p, w, l_prev, error))
    return FALSE;
  mixem_params *before = o->reseed ? c->f->params_copy (p) : NULL;
  int reseeded = -1;
  if (!mstep (c, p, w, o->fix_weights, o->fix_components, error)) {
    if (before && (*error)->domain == MIXEM_ERROR && (*error)->code == MIXEM_ERROR_NUMERIC) {
      /* maximise() may have moved some components before failing: start again from before. */
      GError *first = *error;
      *error = NULL;
      c->f->params_free (p);
      p = m->params = c->f->params_copy (before);
      for (size_t k = 0; k < K; k++)
        w[k] = exp (c->logw[k]);
      reseeded = reseed (c, p, before, w, error);
      if (reseeded < 0 && !*error)
        *error = first;   /* no single component to blame: report the M-step's own error */
      else
        g_error_free (first);
    }
    if (reseeded < 0) {
      if (before)
        c->f->params_free (before);
      g_prefix_error (error, "iteration %d: ", t);
      return FALSE;
    }
  }
  if (before)
    c->f->params_free (before);
  /* ELBO(q_{t-1}, theta_t) from the statistics of q_{t-1}. */
  /* (With concomitant variables the M-step's own maximum, at the new gamma.) */
  double elbo = h + (c->z && !o->fix_weights ? c->conc_f : weights_elbo (c, w, c->total));
  if (c->f->expected_loglik)
    elbo += c->f->expected_loglik (p, c->total + K + 2);
  elbo += noise_elbo (c, w);
  set_logw (c, w);
  if (!mixem_pass_estep (&c->ps, p, c->logw, TRUE, c->total, NULL, NULL, NULL, error)) {
    g_prefix_error (error, "iteration %d: ", t);
    return FALSE;
  }
  c->q_stats = TRUE;
  /* Without expected_loglik, the pass itself summed q_{t-1} against the new log-densities. */
  if (!c->f->expected_loglik)
    elbo += c->ps.cross;
  m->loglik = c->total[K + MIXEM_S_LOGLIK];
  m->n_iter = t;
  *it = (mixem_iteration) {
    .restart = restart, .iter = t, .loglik = m->loglik, .elbo = elbo,
    .kl = m->loglik - elbo, .entropy = h, .delta = (m->loglik - l_prev) / c->W,
    .seconds = (double) (g_get_monotonic_time () - t0) * 1e-6,
    .reseeded = reseeded + 1, .short_run = c->short_run, .extrapolated = 0,
  };
  if (!isfinite (it->loglik) || !isfinite (it->elbo)) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_NUMERIC,
                 "iteration %d: the log-likelihood (%g) or the ELBO (%g) is not finite", t,
                 it->loglik, it->elbo);
    return FALSE;
  }
  /* KL(q || p(z | x, theta)) >= 0 for every q: a negative one is the family's arithmetic. */
  if (it->kl < -identity_slack (c, it->loglik)) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_PLUGIN,
                 "iteration %d: family '%s' breaks log p(X) = ELBO + KL with KL = %g < 0 "
                 "(log-likelihood %.10g, ELBO %.10g): its expected_loglik or log_density is "
                 "wrong (a bug in the family)", t, c->f->name, it->kl, it->loglik, it->elbo);
    return FALSE;
  }
  return TRUE;
}

/* Appends IT to M's trace and calls the callback with P and W; FALSE (and *STOP) when it asks
 * to stop. */
static gboolean
emit (fit_ctx *c, mixem_model *m, const mixem_iteration *it, const mixem_params *p,
      const double *w, gboolean *stop)
{
  /* With a prior, the log-posterior climbs: the record carries log p(theta) of its parameters. */
  mixem_iteration rec = *it;
  rec.log_prior = c->f->log_prior ? c->f->log_prior (p) : 0.0;
  if (rec.temperature == 0.0)   /* (records made with no temperature: T = 1) */
    rec.temperature = 1.0;
  g_array_append_val (m->trace, rec);
  if (c->o->callback && !c->o->callback (&rec, p, w, c->o->user_data)) {
    *stop = TRUE;
    return FALSE;
  }
  return TRUE;
}

/* SQUAREM's extrapolation (Varadhan and Roland 2008, scheme SqS3) on the flat statistics, the
 * N_k and the family's (not the log-likelihood and entropy entries): with S0, S1 and
 * s2 = c->total the statistics of theta_0, theta_1 = M(s0) and theta_2 = M(s1), r = s1 - s0,
 * v = s2 - 2 s1 + s0, alpha = -|r| / |v| clamped to <= -1, s' = s0 - 2 alpha r + alpha^2 v;
 * theta' = M(s') and the stabilising E-step at theta'.  Accepted when the M-step took s' (no
 * error, no negative N_k) and the E-step gave a finite l(theta') >= l(theta_2): then M holds
 * theta', c->total its posterior's statistics, and *P2 and c->w2 hold theta_2 and its weights
 * (the caller frees *P2).  Otherwise M and c->total are as before (the plain step; FALSE).
 * A failure of the restoring pass itself is an error (ERROR set). */
static gboolean
squarem_try (fit_ctx *c, mixem_model *m, const double *s0, const double *s1,
             mixem_params **p2, GError **error)
{
  const mixem_fit_options *o = c->o;
  const size_t K = c->K, ss = c->ps.ss;
  double *s2 = c->sq_s2, rr = 0.0, vv = 0.0;
  *p2 = NULL;
  memcpy (s2, c->total, ss * sizeof (double));
  for (size_t i = 0; i < ss; i++) {
    if (i == K + MIXEM_S_LOGLIK || i == K + MIXEM_S_ENTROPY)
      continue;
    const double r = s1[i] - s0[i], v = s2[i] - 2.0 * s1[i] + s0[i];
    rr += r * r;
    vv += v * v;
  }
  if (!(vv > 0.0) || !isfinite (vv) || !isfinite (rr))
    return FALSE;   /* a fixed point already (or nothing finite to extrapolate): the plain step */
  /* |alpha| within [1, sq_max]: the bound grows fourfold after an accepted step that reached
   * it and shrinks fourfold (to 1 at least) after a rejected one, the step-length control of
   * Varadhan and Roland's paper; a free |alpha| overshoots by orders of magnitude on slow
   * plateaus and is rejected cycle after cycle. */
  const double a = MIN (MAX (sqrt (rr / vv), 1.0), c->sq_max), alpha = -a;
  gboolean good = TRUE;
  for (size_t i = 0; i < ss; i++) {
    if (i == K + MIXEM_S_LOGLIK || i == K + MIXEM_S_ENTROPY)
      continue;
    const double r = s1[i] - s0[i], v = s2[i] - 2.0 * s1[i] + s0[i];
    c->total[i] = s0[i] - 2.0 * alpha * r + alpha * alpha * v;
    good = good && isfinite (c->total[i]);
  }
  for (size_t k = 0; k < K && good; k++)
    good = c->total[k] >= 0.0;   /* a weight below 0 is no mixture */
  const double l2 = m->loglik;
  *p2 = c->f->params_copy (m->params);
  memcpy (c->w2, m->weights, weights_len (c) * sizeof (double));
  GError *err = NULL;
  c->q_stats = FALSE;   /* s' is no E-step's: no passes with the kept responsibilities */
  good = good && mstep (c, m->params, m->weights, o->fix_weights, o->fix_components, &err);
  g_clear_error (&err);
  for (size_t k = 0; k < K && good; k++)
    good = isfinite (m->weights[k]) && m->weights[k] >= 0.0;
  if (good) {
    set_logw (c, m->weights);
    good = mixem_pass_estep (&c->ps, m->params, c->logw, TRUE, c->total, NULL, NULL, NULL, &err)
           && isfinite (c->total[K + MIXEM_S_LOGLIK]) && c->total[K + MIXEM_S_LOGLIK] >= l2;
    c->q_stats = good;
    g_clear_error (&err);
  }
  if (a == c->sq_max)
    c->sq_max = good ? 4.0 * c->sq_max : MAX (1.0, c->sq_max / 4.0);
  if (good) {
    m->loglik = c->total[K + MIXEM_S_LOGLIK];
    return TRUE;
  }
  /* The fall back: theta_2 and s2 again (the responsibilities too, when the pass keeps them). */
  c->f->params_free (m->params);
  m->params = *p2;
  *p2 = NULL;
  memcpy (m->weights, c->w2, weights_len (c) * sizeof (double));
  set_logw (c, m->weights);
  memcpy (c->total, s2, ss * sizeof (double));
  if (c->ps.q) {
    if (!mixem_pass_estep (&c->ps, m->params, c->logw, TRUE, c->total, NULL, NULL, NULL, error))
      return FALSE;
    c->q_stats = TRUE;
  }
  m->loglik = l2;
  return FALSE;
}

/* Stochastic EM's key for the draws of the pass after iteration T (0: at the start). */
static guint64
draw_key (const fit_ctx *c, int restart, int t)
{
  guint64 x = mixem_mix64 ((guint64) c->o->seed);
  x = mixem_mix64 (x ^ (guint64) (unsigned) restart);
  x = mixem_mix64 (x ^ ((guint64) (unsigned) c->short_run << 32 | (guint64) (unsigned) t));
  return x;
}

/* The temperature of annealing level J (0 .. steps; 1 at steps). */
static double
anneal_temperature (const fit_ctx *c, int j)
{
  return j >= c->steps ? 1.0 : pow (c->t0, (double) (c->steps - j) / (double) c->steps);
}

/* ---- incremental EM (Neal and Hinton 1998) ---- */

/* Chunk J of C->nchunks: rows [*LO, *HI), the first N mod B chunks one row longer. */
static void
chunk_rows (const fit_ctx *c, size_t j, size_t *lo, size_t *hi)
{
  /* Global rows: a chunk of a part's fit spans the ranks that hold its rows. */
  const size_t n = mixem_dataset_all_rows (c->data), B = c->nchunks, q = n / B, r = n % B;
  *lo = j * q + MIN (j, r);
  *hi = *lo + q + (j < r);
}

/* c->total as the sum of the chunks' statistics, always in chunk order: no running
 * subtract-and-add, so the total neither drifts nor depends on the history of the swaps.  A
 * family whose statistics depend on the parameters they were gathered at has each chunk's moved
 * to P first (stats_rebase). */
static void
sum_chunks (fit_ctx *c, const mixem_params *p)
{
  const size_t ss = c->ps.ss;
  for (size_t j = 0; j < c->nchunks && c->f->stats_rebase; j++)
    c->f->stats_rebase (p, c->chunks + j * ss + c->K + 2);
  memcpy (c->total, c->chunks, ss * sizeof (double));
  for (size_t j = 1; j < c->nchunks; j++)
    for (size_t i = 0; i < ss; i++)
      c->total[i] += c->chunks[j * ss + i];
}

static gboolean
init_chunks (fit_ctx *c, mixem_model *m, GError **error)
{
  for (size_t j = 0; j < c->nchunks; j++) {
    size_t lo, hi;
    chunk_rows (c, j, &lo, &hi);
    if (!mixem_pass_estep_range (&c->ps, lo, hi, m->params, c->logw, TRUE,
                                 c->chunks + j * c->ps.ss, error))
      return FALSE;
  }
  sum_chunks (c, m->params);
  return TRUE;
}

/* F(q, theta) from the statistics S of q: H(q) + sum_k N_k log pi_k + the family's expected
 * log-density CROSS, or, for a family with expected_loglik, that from S (CROSS unused). */
static double
stats_elbo (const fit_ctx *c, const mixem_params *p, const double *w, const double *s,
            double cross)
{
  const size_t K = c->K;
  double elbo = s[K + MIXEM_S_ENTROPY] + weights_elbo (c, w, s);
  return elbo + (c->f->expected_loglik ? c->f->expected_loglik (p, s + K + 2) : cross);
}

/* The record's checks, as em_step's: finite values, and KL >= 0 up to rounding. */
static gboolean
check_record (const fit_ctx *c, const mixem_iteration *it, GError **error)
{
  if (!isfinite (it->loglik) || !isfinite (it->elbo)) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_NUMERIC,
                 "iteration %d: the log-likelihood (%g) or the ELBO (%g) is not finite",
                 it->iter, it->loglik, it->elbo);
    return FALSE;
  }
  if (it->kl < -identity_slack (c, it->loglik)) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_PLUGIN,
                 "iteration %d: family '%s' breaks log p(X) = ELBO + KL with KL = %g < 0 "
                 "(log-likelihood %.10g, ELBO %.10g): its expected_loglik or log_density is "
                 "wrong (a bug in the family)", it->iter, c->f->name, it->kl, it->loglik,
                 it->elbo);
    return FALSE;
  }
  return TRUE;
}

/* Iterations (sweeps) of incremental EM from the chunk statistics init_chunks left: in each,
 * for j = 1 .. B, an M-step from the total and then chunk j's E-step at the new parameters.
 * The record of a sweep holds l(theta) at its end (one more pass over the data, without
 * statistics), the ELBO of the chunks' q at theta (so KL = l - ELBO >= 0), and min_step. The
 * stopping rule is EM's, on the change of l(theta) per sweep.  HAVE_PREV says PREV_DELTA is a
 * change measured before this run (a warm start, or a resumed climb).
 * A family without expected_loglik: the ELBO's expected term sum_ik w_i q_ik log p(x_i|theta)
 * needs a pass over all the rows, so it is taken only at the sweep's end, from the pass that
 * gives l(theta) (ps.q then holds every chunk's q: each chunk was refreshed in the sweep), and
 * min_step, which would need 2B such passes a sweep, is NAN (not measured). */
static gboolean
run_incremental (fit_ctx *c, int restart, mixem_model *m, double tol, int max_iter,
                 gboolean have_prev, double prev_delta, gboolean *stop, GError **error)
{
  const mixem_fit_options *o = c->o;
  const size_t K = c->K, ss = c->ps.ss;
  const int first_t = m->n_iter + 1;
  for (int t = first_t; t <= max_iter; t++) {
    const gint64 t0 = g_get_monotonic_time ();
    const double l_prev = m->loglik;
    const gboolean steps = c->f->expected_loglik != NULL;
    double f = steps ? stats_elbo (c, m->params, m->weights, c->total, 0.0) : NAN;
    double min_step = steps ? INFINITY : NAN;
    for (size_t j = 0; j < c->nchunks; j++) {
      if (!mstep (c, m->params, m->weights, o->fix_weights, o->fix_components, error)) {
        g_prefix_error (error, "iteration %d, chunk %zu: ", t, j + 1);
        return FALSE;
      }
      set_logw (c, m->weights);
      if (c->f->stats_rebase)
        sum_chunks (c, m->params);
      if (steps) {
        const double g = stats_elbo (c, m->params, m->weights, c->total, 0.0);
        min_step = MIN (min_step, g - f);
        f = g;
      }
      size_t lo, hi;
      chunk_rows (c, j, &lo, &hi);
      if (!mixem_pass_estep_range (&c->ps, lo, hi, m->params, c->logw, TRUE, c->chunks + j * ss,
                                   error)) {
        g_prefix_error (error, "iteration %d, chunk %zu: ", t, j + 1);
        return FALSE;
      }
      sum_chunks (c, m->params);
      if (steps) {
        const double g = stats_elbo (c, m->params, m->weights, c->total, 0.0);
        min_step = MIN (min_step, g - f);
        f = g;
      }
    }
    if (!mixem_pass_estep (&c->ps, m->params, c->logw, FALSE, c->tmp, NULL, NULL, NULL, error)) {
      g_prefix_error (error, "iteration %d: ", t);
      return FALSE;
    }
    m->loglik = c->tmp[K + MIXEM_S_LOGLIK];
    m->n_iter = t;
    if (!steps)
      f = stats_elbo (c, m->params, m->weights, c->total, c->ps.cross);
    mixem_iteration it = {
      .restart = restart, .iter = t, .loglik = m->loglik, .elbo = f, .kl = m->loglik - f,
      .entropy = c->total[K + MIXEM_S_ENTROPY], .delta = (m->loglik - l_prev) / c->W,
      .seconds = (double) (g_get_monotonic_time () - t0) * 1e-6, .short_run = c->short_run,
      .min_step = min_step,
    };
    if (!check_record (c, &it, error))
      return FALSE;
    const gboolean conv = (t > first_t || have_prev) && fabs (prev_delta) < tol;
    if (!emit (c, m, &it, m->params, m->weights, stop))
      break;
    if (conv) {
      m->converged = TRUE;
      break;
    }
    prev_delta = it.delta;
  }
  return TRUE;
}

/* ---- online (stepwise) EM (Cappe and Moulines 2009) ---- */

/* Epochs of stepwise EM from c->total, the statistics of the start's posterior over all rows
 * (s_0).  Batch b of rows [lo, hi) in row order, step t = 0, 1, ... counted over the run:
 * s <- (1 - eta_t) s + eta_t (W / W_b) s_b, eta_t = (t + 2)^-alpha, then the M-step from s.  A
 * batch of no weight is skipped (no step).  The record of an epoch holds l(theta) at its end
 * and the posterior's ELBO at theta, from one more pass over the data: so ELBO = l and KL = 0.
 * With epochs > 0 exactly that many; else EM's rule on the change of l per epoch. */
static gboolean
run_online (fit_ctx *c, int restart, mixem_model *m, double tol, int max_iter,
            gboolean have_prev, double prev_delta, gboolean *stop, GError **error)
{
  const mixem_fit_options *o = c->o;
  /* Batches of global rows: across ranks, each one a sum over the ranks that hold its rows. */
  const size_t K = c->K, ss = c->ps.ss, n = mixem_dataset_all_rows (c->data);
  const size_t b = o->batch_size > 0 ? o->batch_size : MIN (n, 500);
  const double alpha = o->step_alpha > 0.0 ? o->step_alpha : 0.6;
  const int first_t = m->n_iter + 1;
  const int last = o->epochs > 0 ? first_t - 1 + MIN (o->epochs, G_MAXINT - first_t + 1)
                                 : max_iter;
  double step = 0.0;
  for (int t = first_t; t <= last; t++) {
    const gint64 t0 = g_get_monotonic_time ();
    const double l_prev = m->loglik;
    for (size_t lo = 0; lo < n; lo += b) {
      const size_t hi = MIN (n, lo + b);
      if (!mixem_pass_estep_range (&c->ps, lo, hi, m->params, c->logw, TRUE, c->tmp, error)) {
        g_prefix_error (error, "epoch %d, rows %zu to %zu: ", t, lo + 1, hi);
        return FALSE;
      }
      double wb = 0.0;
      for (size_t k = 0; k < K; k++)
        wb += c->tmp[k];
      if (!(wb > 0.0))
        continue;
      const double eta = pow (step + 2.0, -alpha), scale = eta * (c->W / wb);
      step += 1.0;
      for (size_t i = 0; i < ss; i++)
        c->total[i] = (1.0 - eta) * c->total[i] + scale * c->tmp[i];
      if (!mstep (c, m->params, m->weights, o->fix_weights, o->fix_components, error)) {
        g_prefix_error (error, "epoch %d, rows %zu to %zu: ", t, lo + 1, hi);
        return FALSE;
      }
      set_logw (c, m->weights);
      /* s in the form of the next batch's statistics, gathered at the new parameters. */
      if (c->f->stats_rebase)
        c->f->stats_rebase (m->params, c->total + K + 2);
    }
    if (!mixem_pass_estep (&c->ps, m->params, c->logw, FALSE, c->tmp, NULL, NULL, NULL, error)) {
      g_prefix_error (error, "epoch %d: ", t);
      return FALSE;
    }
    m->loglik = c->tmp[K + MIXEM_S_LOGLIK];
    m->n_iter = t;
    mixem_iteration it = {
      .restart = restart, .iter = t, .loglik = m->loglik, .elbo = m->loglik, .kl = 0.0,
      .entropy = c->tmp[K + MIXEM_S_ENTROPY], .delta = (m->loglik - l_prev) / c->W,
      .seconds = (double) (g_get_monotonic_time () - t0) * 1e-6, .short_run = c->short_run,
    };
    if (!check_record (c, &it, error))
      return FALSE;
    const gboolean conv = o->epochs == 0 && (t > first_t || have_prev) && fabs (prev_delta) < tol;
    if (!emit (c, m, &it, m->params, m->weights, stop))
      break;
    if (conv) {
      m->converged = TRUE;
      break;
    }
    prev_delta = it.delta;
  }
  return TRUE;
}

/* One restart: EM from theta_0 until the change falls below TOL, max_iter or the callback says
 * stop.  Fills M (params, weights, trace, loglik).  With RESUME, M's climb goes on from where it
 * stopped (its trace and n_iter kept).  *STOP is set when the callback asked to stop.  The
 * algorithm's variants (README, "Algorithms"): SQUAREM's cycles of two plain steps and an
 * extrapolation, SEM's drawn labels (ps.draw) and best iteration kept, annealing's temperatures
 * (from c->level); small-EM's short runs are plain EM for squarem and annealed. */
static gboolean
run (fit_ctx *c, int restart, mixem_model *m, double tol, int max_iter, gboolean resume,
     gboolean *stop,
     GError **error)
{
  const mixem_fit_options *o = c->o;
  const size_t K = c->K;
  gboolean ok = TRUE;
  const gboolean squarem = o->algorithm == MIXEM_SQUAREM && c->short_run == 0;
  const gboolean sem = c->ps.draw;
  const gboolean anneal = o->algorithm == MIXEM_ANNEALED && c->short_run == 0;
  const gboolean incremental = o->algorithm == MIXEM_INCREMENTAL && c->short_run == 0;
  const gboolean online = o->algorithm == MIXEM_ONLINE && c->short_run == 0;
  const int cap = MAX (1, o->max_iter / (2 * MAX (c->steps, 1)));
  int at_level = 1, since_cool = 2;
  if (!anneal)
    c->level = c->steps;
  c->ps.beta = 1.0 / anneal_temperature (c, c->level);

  set_logw (c, m->weights);
  c->ps.q_valid = FALSE;
  if (sem)
    c->ps.draw_key = draw_key (c, restart, m->n_iter);
  /* Incremental EM starts from every chunk's statistics at theta_0 (their sum, in chunk order,
   * is the total); the others from one pass over all rows. */
  if (incremental ? !init_chunks (c, m, error)
                  : !mixem_pass_estep (&c->ps, m->params, c->logw, TRUE, c->total, NULL, NULL,
                                       NULL, error)) {
    g_prefix_error (error, "at the start: ");
    return FALSE;
  }
  /* Incremental and online EM's totals are sums of statistics of several q's (and rebased):
   * their M-steps take the family's maximise alone. */
  c->q_stats = !incremental && !online;
  const double carried = m->loglik;   /* a warm start's previous value, or NaN */
  m->loglik = c->total[K + MIXEM_S_LOGLIK];
  if (!resume) {
    m->loglik0 = m->loglik;
    m->n_iter = 0;
    g_array_set_size (m->trace, 0);
  }
  /* converged says that the rule of this run (tol, or refine_tol when refining) was met. */
  m->converged = FALSE;
  m->refined = resume;

  const int first_t = m->n_iter + 1;
  /* A warm start measures its first change from the previous fit's value, as scikit-learn's
   * warm_start does, so that refits of one iteration each can converge. */
  const gboolean warm = !resume && isfinite (carried);
  /* Resuming (after small-EM's short run, or to refine), the change of the last iteration done
   * counts, so that the climb stops where one uninterrupted run would have. */
  const mixem_iteration *done = resume && m->trace->len
                                ? &g_array_index (m->trace, mixem_iteration, m->trace->len - 1)
                                : NULL;
  double prev_delta = warm ? (m->loglik - carried) / c->W : done ? done->delta : INFINITY;
  /* On the same data the start's value is the carried one itself (the same parameters), so the
   * change above is 0 and every refit would stop after one M-step.  scikit-learn's lower_bound_
   * is the value before the previous fit's last M-step: its first change is that fit's last
   * one.  A previous fit of no iteration has none (scikit-learn: -inf, so no convergence). */
  if (warm && m->loglik == carried && o->warm_start) {
    const GArray *tr = o->warm_start->trace;
    prev_delta = tr->len ? g_array_index (tr, mixem_iteration, tr->len - 1).delta : INFINITY;
  }
  if (incremental)
    return run_incremental (c, restart, m, tol, max_iter, warm || done, prev_delta, stop, error);
  if (online)
    /* Online EM's first steps (eta_0 = 2^-alpha) move far even from a converged start, so its
     * rule counts only changes between its own epochs: two at least. */
    return run_online (c, restart, m, tol, max_iter, FALSE, INFINITY, stop, error);
  if (anneal && c->level < c->steps)
    since_cool = 0;
  /* SEM keeps the parameters with the highest l(theta) seen (the start's included), or with
   * sem_average the sum of the statistics of the last sem_average iterations' M-steps. */
  const gboolean average = sem && o->sem_average > 0 && c->short_run == 0;
  double *avg = average ? g_new0 (double, c->ps.ss) : NULL;
  int n_avg = 0;
  mixem_params *best_p = sem ? c->f->params_copy (m->params) : NULL;
  const size_t nw = weights_len (c);
  double *best_w = sem ? g_memdup2 (m->weights, nw * sizeof (double)) : NULL;
  double best_l = m->loglik;
  double q_temp = 1.0 / c->ps.beta;   /* the temperature of the q in c->total */
  c->sq_max = 1.0;
  int phase = 0;   /* squarem: the next step is a cycle's first (0) or second (1) */
  for (int t = first_t; t <= max_iter; t++) {
    const gint64 t0 = g_get_monotonic_time ();
    if (anneal && c->level < c->steps) {
      /* The next level when this one's change fell below tol (after two steps at least) or its
       * iterations ran out; the E-step of this iteration is the first at the new temperature. */
      if (at_level >= cap || (at_level >= 2 && fabs (prev_delta) < tol)) {
        c->level++;
        at_level = 0;
        c->ps.beta = 1.0 / anneal_temperature (c, c->level);
      }
      at_level++;
    }
    if (sem)
      c->ps.draw_key = draw_key (c, restart, t);
    if (average && t > max_iter - o->sem_average) {
      /* c->total: the statistics this iteration's M-step takes, gathered at m->params. */
      if (c->f->stats_rebase && n_avg > 0)
        c->f->stats_rebase (m->params, avg + K + 2);
      for (size_t i = 0; i < c->ps.ss; i++)
        avg[i] += c->total[i];
      n_avg++;
    }
    if (squarem && phase == 0)
      memcpy (c->sq_s0, c->total, c->ps.ss * sizeof (double));
    mixem_iteration it;
    if (!em_step (c, m, restart, t, t == first_t && !resume, &it, error)) {
      ok = FALSE;
      break;
    }
    /* The record's ELBO is of the q its M-step took, made at the temperature before this
     * iteration's E-step (which may be a new level's). */
    it.temperature = q_temp;
    q_temp = 1.0 / c->ps.beta;
    /* scikit-learn measures the change at the start of an iteration, before its M-step, so it
     * stops one M-step after the change falls below tol; so do we, with the same n_iter.  SEM
     * runs all max_iter iterations; annealing stops only at T = 1, after two plain steps. */
    const gboolean may_stop = !sem && since_cool >= 2;
    const gboolean conv = may_stop && (t > first_t || warm || done) && fabs (prev_delta) < tol;
    if (squarem && phase == 0) {
      memcpy (c->sq_s1, c->total, c->ps.ss * sizeof (double));
      phase = 1;
    } else if (squarem) {
      phase = 0;
      mixem_params *p2 = NULL;
      if (!conv && t < max_iter) {
        const gint64 t1 = g_get_monotonic_time ();
        const double l2 = m->loglik;
        GError *err = NULL;
        if (squarem_try (c, m, c->sq_s0, c->sq_s1, &p2, &err)) {
          /* Record t is theta_2's, record t + 1 the extrapolation's: at theta' with q its
           * posterior after the stabilising E-step, so ELBO = l(theta') and KL = 0. */
          it.seconds = (double) (t1 - t0) * 1e-6;
          if (!emit (c, m, &it, p2, c->w2, stop)) {
            c->f->params_free (p2);
            break;
          }
          c->f->params_free (p2);
          prev_delta = it.delta;
          t++;
          m->n_iter = t;
          it = (mixem_iteration) {
            .restart = restart, .iter = t, .loglik = m->loglik, .elbo = m->loglik, .kl = 0.0,
            .entropy = c->total[K + MIXEM_S_ENTROPY], .delta = (m->loglik - l2) / c->W,
            .seconds = (double) (g_get_monotonic_time () - t1) * 1e-6,
            .short_run = c->short_run, .extrapolated = 1,
          };
          if (!emit (c, m, &it, m->params, m->weights, stop))
            break;
          if ((t > first_t || warm || done) && fabs (prev_delta) < tol) {
            m->converged = TRUE;
            break;
          }
          prev_delta = it.delta;
          continue;
        }
        if (err) {
          g_propagate_prefixed_error (error, err, "iteration %d, squarem: ", t);
          ok = FALSE;
          break;
        }
        it.extrapolated = -1;
      }
    }
    it.seconds = (double) (g_get_monotonic_time () - t0) * 1e-6;
    if (!emit (c, m, &it, m->params, m->weights, stop))
      break;
    if (sem && m->loglik > best_l) {
      best_l = m->loglik;
      c->f->params_free (best_p);
      best_p = c->f->params_copy (m->params);
      memcpy (best_w, m->weights, nw * sizeof (double));
    }
    if (conv) {
      m->converged = TRUE;
      break;
    }
    prev_delta = it.delta;
    if (anneal && c->level == c->steps && since_cool < 2)
      since_cool++;
  }
  if (average && ok && n_avg > 0) {
    /* The mean estimate: the M-step from the mean statistics, from the last parameters, and
     * its l(theta) by one more pass. */
    for (size_t i = 0; i < c->ps.ss; i++)
      c->total[i] = avg[i] / n_avg;
    if (c->f->stats_rebase)
      c->f->stats_rebase (m->params, c->total + K + 2);
    c->q_stats = FALSE;
    ok = mstep (c, m->params, m->weights, o->fix_weights, o->fix_components, error);
    if (ok) {
      set_logw (c, m->weights);
      ok = mixem_pass_estep (&c->ps, m->params, c->logw, FALSE, avg, NULL, NULL, NULL, error);
    }
    if (ok)
      m->loglik = avg[K + MIXEM_S_LOGLIK];
    else
      g_prefix_error (error, "sem_average, the mean of %d iterations' statistics: ", n_avg);
  } else if (sem && ok && best_l > m->loglik) {
    /* The result is the best iteration's, its trace and n_iter those of the whole run. */
    c->f->params_free (m->params);
    m->params = best_p;
    best_p = NULL;
    memcpy (m->weights, best_w, nw * sizeof (double));
    m->loglik = best_l;
  }
  if (best_p)
    c->f->params_free (best_p);
  g_free (best_w);
  g_free (avg);
  c->ps.beta = 1.0;
  return ok;
}

static mixem_model *model_alloc (const fit_ctx *c, mixem_params *p);

/* small-EM for restart R: short_starts starts, short_iter iterations each, the best by
 * log-likelihood returned to run on.  A short run that fails numerically is dropped; NULL with
 * ERROR when all do, or on any other error.  A start given whole draws nothing: one is run. */
static mixem_model *
small_em (fit_ctx *c, int r, const mixem_params *proto, gsl_rng *rng, gboolean *random,
          gboolean *stop, GError **error)
{
  const mixem_fit_options *o = c->o;
  mixem_model *best = NULL;
  GError *last = NULL;
  for (int s = 0; s < o->short_starts && !*stop; s++) {
    mixem_model *m = model_alloc (c, c->f->params_copy (proto));
    m->weights_fixed = o->fix_weights;
    GError *err = NULL;
    c->short_run = s + 1;
    /* CEM-EM, SEM-EM: the short runs hard, or drawn; the restart's own climb as before. */
    const gboolean hard = c->ps.hard, draw = c->ps.draw;
    if (o->short_algorithm != MIXEM_EM) {
      c->ps.hard = TRUE;
      c->ps.draw = o->short_algorithm == MIXEM_SEM;
    }
    gboolean ok = start (c, m->params, m->weights, rng, random, &err)
                  && run (c, r, m, 0.0, MIN (o->short_iter, o->max_iter), FALSE, stop, &err);
    c->ps.hard = hard;
    c->ps.draw = draw;
    c->short_run = 0;
    if (ok && (!best || m->loglik > best->loglik)) {
      mixem_model_free (best);
      best = m;
    } else
      mixem_model_free (m);
    if (!ok) {
      if (!g_error_matches (err, MIXEM_ERROR, MIXEM_ERROR_NUMERIC)) {
        g_clear_error (&last);
        mixem_model_free (best);
        g_propagate_error (error, err);
        return NULL;
      }
      g_clear_error (&last);
      last = err;
    }
    if (!*random)
      break;
  }
  if (!best && last) {
    g_propagate_prefixed_error (error, last, "all %d short runs (small-EM) failed; the last: ",
                                o->short_starts);
    return NULL;
  }
  g_clear_error (&last);
  if (!best && !*stop)
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_NUMERIC, "small-EM: no short run");
  return best;
}

static mixem_model *
model_alloc (const fit_ctx *c, mixem_params *p)
{
  mixem_model *m = g_new0 (mixem_model, 1);
  m->family = c->f;
  m->params = p;
  m->k = c->K;
  m->d = mixem_dataset_cols (c->data);
  m->weights = g_new0 (double, weights_len (c) + 1);   /* the noise's after the K */
  if (c->z) {
    m->conc_q = c->zq;
    m->conc_names = g_strdupv ((char **) mixem_dataset_names (c->z));
  }
  m->noise = c->noise;
  m->noise_logv = c->noise ? c->noise_logv : 0.0;
  m->names = g_strdupv ((char **) mixem_dataset_names (c->data));
  m->options = mixem_options_copy (c->o->family_options);
  m->trace = g_array_new (FALSE, FALSE, sizeof (mixem_iteration));
  m->warnings = g_ptr_array_new_with_free_func (g_free);
  m->loglik = NAN;
  return m;
}

/* Puts M into TOP (N slots, highest log-likelihood first, NULL at the end) if it ranks there,
 * freeing whatever falls off.  Restarts often end at the very same point: one whose
 * log-likelihood equals a kept one's (to 1e-12 relative) is dropped, so the slots hold distinct
 * optima, and an equal log-likelihood keeps the earlier restart. */
static void
keep_top (mixem_model **top, int n, mixem_model *m)
{
  int at = 0;
  while (at < n && top[at] && top[at]->loglik >= m->loglik) {
    if (top[at]->loglik - m->loglik <= 1e-12 * fabs (m->loglik))
      break;
    at++;
  }
  if (at == n || (top[at] && fabs (top[at]->loglik - m->loglik) <= 1e-12 * fabs (m->loglik))) {
    mixem_model_free (m);
    return;
  }
  mixem_model_free (top[n - 1]);
  memmove (top + at + 1, top + at, (size_t) (n - 1 - at) * sizeof *top);
  top[at] = m;
}

/* On a part, every rank's statistics must have one size: a family that sized them from its own
 * rows (levels, say, from the codes it sees) would make the ranks' sums differ in length, and
 * the gather mismatch.  Collective; the same answer on every rank. */
static gboolean
same_stats_size (const mixem_family *f, const mixem_dataset *data, size_t ss, GError **error)
{
  if (!mixem_dataset_is_part (data))
    return TRUE;
  const size_t hi = mixem_comm_max_size (ss), lo = SIZE_MAX - mixem_comm_max_size (SIZE_MAX - ss);
  if (hi == lo)
    return TRUE;
  g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: the family %s sizes its statistics "
               "differently on different ranks (%zu to %zu values): it looked at one rank's rows "
               "alone (see mixem_dataset_sum_rows in mixem/family.h)", mixem_dataset_source (data),
               f->name, lo, hi);
  return FALSE;
}

/* A chunk's total row weight, summed in row order. */
static gboolean
weight_leaf (size_t first, size_t n, double *out, void *user, GError **error)
{
  const double *w = mixem_dataset_weights (user);
  double s = 0.0;
  for (size_t i = first; i < first + n; i++)
    s += w ? w[i] : 1.0;
  *out = s;
  return TRUE;
}

mixem_model *
mixem_fit (const mixem_family *f, const mixem_dataset *data, const mixem_fit_options *o,
           GError **error)
{
  if (!check_fit_options (f, data, o, error))
    return NULL;
  mixem_options *fopts = mixem_family_options (f, o->family_options, mixem_dataset_cols (data),
                                               mixem_dataset_names (data), error);
  if (!fopts)
    return NULL;
  fit_ctx c = { .f = f, .o = o, .data = data, .K = o->k };
  c.spec = (mixem_spec) { o->k, mixem_dataset_cols (data), mixem_dataset_names (data), fopts, f,
                          data };
  mixem_params *proto = f->params_new (&c.spec, error);
  if (!proto) {
    mixem_options_free (fopts);
    return NULL;
  }
  if (!mixem_check_data (f, proto, c.spec.d, data, error) || !fit_columns_observed (data, error)) {
    f->params_free (proto);
    mixem_options_free (fopts);
    return NULL;
  }
  mixem_pass_init (&c.ps, f, data, c.K, f->stats_size (proto), o->block_size, o->threads);
  if (o->noise) {
    c.noise = TRUE;
    if (o->noise_volume > 0.0)
      c.noise_logv = log (o->noise_volume);
    else if (o->warm_start)   /* a warm start keeps its V */
      c.noise_logv = o->warm_start->noise_logv;
    else if (!log_hypervolume (data, &c.noise_logv, error)) {
      mixem_pass_clear (&c.ps);
      f->params_free (proto);
      mixem_options_free (fopts);
      return NULL;
    }
    mixem_pass_set_noise (&c.ps, -c.noise_logv);
  }
  if (o->concomitant) {
    c.z = o->concomitant;
    c.zq = mixem_dataset_cols (c.z);
    c.gamma = g_new0 (double, c.K * (c.zq + 1));
    mixem_pass_set_concomitant (&c.ps, c.z);
  }
  /* The total weight by the pass's tree, as every sum over the rows: across ranks too. */
  if (!mixem_tree_check (data, MIXEM_WAVE_BLOCKS * c.ps.block, error)
      || !same_stats_size (f, data, c.ps.ss, error)
      || !mixem_tree_reduce (data, 0, c.ps.n, MIXEM_WAVE_BLOCKS * c.ps.block, 1, weight_leaf,
                             NULL, (void *) data, &c.W, error)) {
    g_free (c.gamma);
    g_free (c.gamma);
    mixem_pass_clear (&c.ps);
    f->params_free (proto);
    mixem_options_free (fopts);
    return NULL;
  }
  c.ps.hard = o->algorithm == MIXEM_CEM || o->algorithm == MIXEM_SEM;
  c.ps.draw = o->algorithm == MIXEM_SEM;
  c.steps = o->algorithm != MIXEM_ANNEALED ? 0 : o->anneal_steps > 0 ? o->anneal_steps : 5;
  c.t0 = o->anneal_t0 > 0.0 ? o->anneal_t0 : 2.0;
  c.level = c.steps;
  if (!f->expected_loglik || f->maximise_passes) {
    /* The ELBO's expected term then needs the last responsibilities, row by row (and
     * maximise_passes its passes with them).  Zeroed:
     * incremental EM's first chunk passes read the rows of the chunks after them (a term that
     * is not used) before those rows are written. */
    c.ps.q = c.K <= G_MAXSIZE / sizeof (double) / MAX (c.ps.n, 1)
               ? g_try_new0 (double, c.ps.n * c.K + 1) : NULL;
    if (!c.ps.q)
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                   "family '%s' has %s, so the fit keeps %zu by %zu "
                   "responsibilities, which do not fit in memory", f->name,
                   f->expected_loglik ? "an M-step of several passes (maximise_passes)"
                                      : "no expected_loglik", c.ps.n, c.K);
    if (mixem_dataset_is_part (data) ? !mixem_parallel_agree (error) : !c.ps.q) {
      g_free (c.ps.q);
      mixem_pass_clear (&c.ps);
      f->params_free (proto);
      mixem_options_free (fopts);
      return NULL;
    }
  }
  c.total = g_new (double, c.ps.ss);
  c.logw = g_new (double, c.K + 1);
  if (o->algorithm == MIXEM_INCREMENTAL) {
    c.nchunks = o->blocks > 0 ? o->blocks : MIN (10, mixem_dataset_all_rows (data));
    c.chunks = g_new (double, c.nchunks * c.ps.ss);
  }
  if (o->algorithm == MIXEM_INCREMENTAL || o->algorithm == MIXEM_ONLINE)
    c.tmp = g_new (double, c.ps.ss);
  if (o->algorithm == MIXEM_SQUAREM) {
    c.sq_s0 = g_new (double, c.ps.ss);
    c.sq_s1 = g_new (double, c.ps.ss);
    c.sq_s2 = g_new (double, c.ps.ss);
    c.w2 = g_new (double, weights_len (&c));
  }
  gsl_rng *rng = gsl_rng_alloc (gsl_rng_mt19937);
  gsl_rng_set (rng, o->seed);

  /* The n_refine restarts with the highest log-likelihoods so far, best first. */
  const int n_top = MAX (1, MIN (o->n_refine, o->n_init));
  mixem_model **top = g_new0 (mixem_model *, n_top);
  gboolean stop = FALSE, ok = TRUE;
  /* A restart that fails numerically (a degenerate component, a row no component explains) is
   * recorded and skipped: the fit fails only when every restart does.  A family bug (PLUGIN) or
   * a bad option still stops it at once. */
  GPtrArray *failed = g_ptr_array_new_with_free_func (g_free);
  /* A start given whole (every component, or a warm start), or init = "hc", draws nothing: its
   * restarts would all be the same fit, so one is run. */
  gboolean random = TRUE;
  for (int r = 1; r <= o->n_init && !stop && ok && random; r++) {
    mixem_model *m;
    random = !o->warm_start;
    GError *rerr = NULL;
    gboolean rok = TRUE;
    if (o->warm_start) {
      m = model_alloc (&c, f->params_copy (o->warm_start->params));
      memcpy (m->weights, o->warm_start->weights, weights_len (&c) * sizeof (double));
      if (o->init_weights)
        memcpy (m->weights, o->init_weights, (c.K + (c.noise ? 1 : 0)) * sizeof (double));
      /* scikit-learn's warm_start: the change is measured from the previous fit's value. */
      m->loglik = o->warm_start->loglik;
    } else if (o->short_starts > 1) {
      m = small_em (&c, r, proto, rng, &random, &stop, &rerr);
      rok = m != NULL;
      if (!m)
        m = model_alloc (&c, f->params_copy (proto));
    } else {
      m = model_alloc (&c, f->params_copy (proto));
      rok = start (&c, m->params, m->weights, rng, &random, &rerr);
    }
    const gboolean start_failed = !rok;
    m->weights_fixed = o->fix_weights;
    m->best_restart = r;
    if (!stop) {
      /* After small-EM the climb goes on from its short run (trace and n_iter kept). */
      c.level = 0;   /* annealing starts afresh (the short runs were plain EM) */
      rok = rok && run (&c, r, m, o->tol, o->max_iter, m->n_iter > 0, &stop, &rerr);
      m->refined = FALSE;
    }
    if (rok)
      keep_top (top, n_top, m);
    else {
      mixem_model_free (m);
      if (g_error_matches (rerr, MIXEM_ERROR, MIXEM_ERROR_NUMERIC) && o->n_init > 1)
        g_ptr_array_add (failed, g_strdup_printf ("restart %d: %s", r, rerr->message));
      else {
        if (o->n_init > 1 || start_failed)
          g_prefix_error (&rerr, "restart %d: ", r);
        g_propagate_error (error, rerr);
        rerr = NULL;
        ok = FALSE;
      }
      g_clear_error (&rerr);
    }
  }
  /* Refinement: the kept restarts that converged by tol climb on until refine_tol. */
  for (int i = 0; i < MIN (o->n_refine, n_top) && ok && !stop; i++) {
    mixem_model *m = top[i];
    if (!m)
      continue;
    const mixem_iteration *last = m->trace->len
                                  ? &g_array_index (m->trace, mixem_iteration, m->trace->len - 1)
                                  : NULL;
    GError *rerr = NULL;
    c.level = c.steps;   /* annealing refines at T = 1 */
    /* Refinement has its own budget, refine_max_iter iterations past where tol stopped, so
     * that max_iter (scikit-learn's, for the tol phase) does not cut it short. */
    /* Not a warm start: refits stepped by hand keep n_iter <= max_iter, as scikit-learn's. */
    /* Not online EM: its steps shrink by design, so a tighter rule would only cost epochs. */
    if (m->converged && o->refine_tol < o->tol && o->refine_max_iter > 0 && last
        && !o->warm_start && o->algorithm != MIXEM_ONLINE
        && fabs (last->delta) >= o->refine_tol
        && !run (&c, m->best_restart, m, o->refine_tol,
                 m->n_iter + MIN (o->refine_max_iter, G_MAXINT - m->n_iter), TRUE, &stop,
                 &rerr)) {
      if (g_error_matches (rerr, MIXEM_ERROR, MIXEM_ERROR_NUMERIC) && o->n_init > 1) {
        g_ptr_array_add (failed, g_strdup_printf ("restart %d, refining: %s", m->best_restart,
                                                  rerr->message));
        mixem_model_free (m);
        top[i] = NULL;
        g_clear_error (&rerr);
      } else {
        if (o->n_init > 1)
          g_prefix_error (&rerr, "restart %d, refining: ", m->best_restart);
        g_propagate_error (error, rerr);
        ok = FALSE;
      }
    }
  }
  mixem_model *best = NULL;
  for (int i = 0; i < n_top; i++) {
    if (ok && top[i] && (!best || top[i]->loglik > best->loglik)) {
      mixem_model_free (best);
      best = top[i];
    } else
      mixem_model_free (top[i]);
  }
  if (ok && !best) {
    GString *why = g_string_new (NULL);
    for (guint i = 0; i < failed->len && i < 3; i++)
      g_string_append_printf (why, "%s%s", i ? "; " : "", (char *) g_ptr_array_index (failed, i));
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_NUMERIC, "all %u restarts failed: %s%s",
                 failed->len, why->str, failed->len > 3 ? "; ..." : "");
    g_string_free (why, TRUE);
  }
  if (best) {
    best->n_failed = (int) failed->len;
    for (guint i = 0; i < failed->len; i++)
      g_ptr_array_add (best->warnings, g_strdup (g_ptr_array_index (failed, i)));
    /* Not when tol is 0: the caller asked for max_iter iterations. */
    const double rule = best->refined ? o->refine_tol : o->tol;
    for (size_t k = 0; k < best->k; k++)
      if (!(best->weights[k] > 0.0) && !o->fix_weights)
        g_ptr_array_add (best->warnings, g_strdup_printf (
          "component %zu has no weight: no row belongs to it, and it is kept at its last "
          "parameters (K may exceed what the data support; reseed re-seeds such a component, "
          "strict_empty makes it an error)", k + 1));
    best->algorithm = o->algorithm;
    best->missing_data = mixem_dataset_has_missing (data);
    /* SEM does not converge: it runs max_iter iterations by design. */
    /* Nor SEM, nor online EM given its epochs: they run their count by design. */
    if (!best->converged && !stop && o->max_iter > 0 && rule > 0 && o->algorithm != MIXEM_SEM
        && !(o->algorithm == MIXEM_ONLINE && o->epochs > 0)) {
      const mixem_iteration *last = &g_array_index (best->trace, mixem_iteration,
                                                    best->trace->len - 1);
      g_ptr_array_add (best->warnings, g_strdup_printf (
        "the fit did not converge: %d iterations (%s) ended with a change of %.3g per row, "
        "above %s = %g; raise %s, or %s", best->n_iter,
        best->refined ? "max_iter + refine_max_iter" : "max_iter", fabs (last->delta),
        best->refined ? "refine_tol" : "tol", rule,
        best->refined ? "refine_max_iter" : "max_iter", best->refined ? "refine_tol" : "tol"));
    }
  }
  g_ptr_array_unref (failed);
  g_free (top);

  gsl_rng_free (rng);
  g_free (c.total);
  g_free (c.logw);
  g_free (c.sq_s0);
  g_free (c.sq_s1);
  g_free (c.sq_s2);
  g_free (c.w2);
  g_free (c.gamma);
  g_free (c.chunks);
  g_free (c.tmp);
  g_free (c.ps.q);
  mixem_pass_clear (&c.ps);
  f->params_free (proto);
  mixem_options_free (fopts);
  return best;
}

gboolean
mixem_model_partial_fit (mixem_model *m, const mixem_dataset *batch, double alpha, int threads,
                         GError **error)
{
  const mixem_family *f = m->family;
  const size_t K = m->k;
  if (alpha == 0.0)
    alpha = 0.6;
  if (!(alpha > 0.5 && alpha <= 1.0)) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 "'step_alpha' must lie in (0.5, 1] (got %g)", alpha);
    return FALSE;
  }
  if (m->conc_q) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 "a model with concomitant variables cannot be updated online (partial_fit)");
    return FALSE;
  }
  if (!mixem_check_data (f, m->params, m->d, batch, error))
    return FALSE;
  if (m->noise) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 "partial_fit: a model with a noise component cannot be updated online");
    return FALSE;
  }
  mixem_fit_options o;
  mixem_fit_options_init (&o);
  o.k = K;
  o.threads = threads;
  o.algorithm = MIXEM_ONLINE;
  fit_ctx c = { .f = f, .o = &o, .data = batch, .K = K };
  mixem_pass_init (&c.ps, f, batch, K, f->stats_size (m->params), o.block_size, threads);
  const size_t ss = c.ps.ss;
  c.total = g_new (double, ss);
  c.logw = g_new (double, K);
  c.tmp = g_new (double, ss);
  set_logw (&c, m->weights);
  gboolean ok = mixem_pass_estep (&c.ps, m->params, c.logw, TRUE, c.tmp, NULL, NULL, NULL, error);
  double wb = 0.0;
  for (size_t k = 0; ok && k < K; k++)
    wb += c.tmp[k];
  if (ok && !(wb > 0.0)) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: the batch has no row weight",
                 mixem_dataset_source (batch));
    ok = FALSE;
  }
  mixem_params *p = ok ? f->params_copy (m->params) : NULL;
  double *w = ok ? g_memdup2 (m->weights, K * sizeof (double)) : NULL;
  if (ok) {
    c.W = m->online_s ? m->online_w : wb;
    if (m->online_s) {
      const double eta = pow (m->online_t + 2.0, -alpha), scale = eta * (c.W / wb);
      for (size_t i = 0; i < ss; i++)
        c.total[i] = (1.0 - eta) * m->online_s[i] + scale * c.tmp[i];
    } else
      memcpy (c.total, c.tmp, ss * sizeof (double));
    ok = mstep (&c, p, w, m->weights_fixed, NULL, error);
  }
  if (ok) {
    /* Committed only now, so that a failed update leaves M as it was. */
    if (f->stats_rebase)
      f->stats_rebase (p, c.total + K + 2);
    if (!m->online_s)
      m->online_s = g_new (double, ss);
    memcpy (m->online_s, c.total, ss * sizeof (double));
    m->online_w = c.W;
    m->online_t += 1.0;
    f->params_free (m->params);
    m->params = p;
    p = NULL;
    memcpy (m->weights, w, K * sizeof (double));
    m->loglik = c.tmp[K + MIXEM_S_LOGLIK];
    m->n_iter++;
    m->converged = FALSE;
    m->algorithm = MIXEM_ONLINE;
    mixem_iteration it = {
      .restart = m->best_restart, .iter = m->n_iter, .loglik = m->loglik, .elbo = m->loglik,
      .entropy = c.tmp[K + MIXEM_S_ENTROPY], .temperature = 1.0,
    };
    g_array_append_val (m->trace, it);
  }
  if (p)
    f->params_free (p);
  g_free (w);
  g_free (c.total);
  g_free (c.logw);
  g_free (c.tmp);
  g_free (c.ps.q);
  mixem_pass_clear (&c.ps);
  return ok;
}

/* ---- online EM over a stream (mixem_fit_stream) ---- */

/* l(theta) of M on batch B by one pass on THREADS threads (mixem_model_total_loglik takes them
 * all, whose start-up on each small batch costs more than the batch on a busy machine). */
static double
stream_score (const mixem_model *m, const mixem_dataset *b, int threads, GError **error)
{
  if (!mixem_check_data (m->family, m->params, m->d, b, error))
    return NAN;
  mixem_pass ps;
  mixem_pass_init (&ps, m->family, b, m->k, 0, 256, threads);
  double *total = g_new (double, ps.ss), *logw = g_new (double, m->k), l = NAN;
  for (size_t k = 0; k < m->k; k++)
    logw[k] = log (m->weights[k]);
  if (mixem_pass_estep (&ps, m->params, logw, FALSE, total, NULL, NULL, NULL, error))
    l = total[m->k + MIXEM_S_LOGLIK];
  g_free (total);
  g_free (logw);
  mixem_pass_clear (&ps);
  return l;
}

/* The stream's next batch into *B (NULL at its end): FALSE with ERR on failure. */
static gboolean
stream_next (mixem_batch_func next, void *user, mixem_dataset **b, GError **err)
{
  *b = next (user, err);
  return *b != NULL || *err == NULL;
}

mixem_model *
mixem_fit_stream (const mixem_family *f, mixem_batch_func next, mixem_rewind_func rewind,
                  void *user, const mixem_fit_options *o, GError **error)
{
  const char *bad = o->algorithm != MIXEM_ONLINE ? "a stream is read by algorithm 'online' only"
                    : o->reseed ? "'reseed' is not available with algorithm 'online'"
                    : o->fix_components ? "fixed components are not available on a stream"
                    : o->warm_start ? "a warm start is not available on a stream"
                    : o->concomitant ? "concomitant variables are not available on a stream"
                    : o->epochs < 0 ? "'epochs' must be >= 1 (0 is the default: one pass)"
                    : NULL;
  if (bad) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION, "%s", bad);
    return NULL;
  }
  const double alpha = o->step_alpha;
  if (alpha != 0.0 && !(alpha > 0.5 && alpha <= 1.0)) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 "'step_alpha' must lie in (0.5, 1] (got %g)", alpha);
    return NULL;
  }
  GError *err = NULL;
  mixem_dataset *batch = NULL;
  if (!stream_next (next, user, &batch, &err) || !batch) {
    if (!err)
      g_set_error (&err, MIXEM_ERROR, MIXEM_ERROR_DATA, "the stream has no rows");
    g_propagate_error (error, err);
    return NULL;
  }
  /* The start: an EM fit to the first batch, as mixem_fit makes it. */
  mixem_fit_options so = *o;
  so.algorithm = MIXEM_EM;
  so.batch_size = 0;
  so.step_alpha = 0.0;
  so.epochs = 0;
  so.callback = NULL;
  mixem_model *m = mixem_fit (f, batch, &so, &err);
  if (!m) {
    g_propagate_prefixed_error (error, err, "the start (EM on the first batch, %zu rows): ",
                                mixem_dataset_rows (batch));
    mixem_dataset_free (batch);
    return NULL;
  }
  for (guint i = 0; i < m->warnings->len; i++) {
    char *w = g_ptr_array_index (m->warnings, i);
    g_ptr_array_index (m->warnings, i) = g_strconcat ("the start (EM on the first batch): ", w,
                                                      NULL);
    g_free (w);
  }
  g_array_set_size (m->trace, 0);
  m->n_iter = 0;
  m->algorithm = MIXEM_ONLINE;
  const int epochs = o->epochs > 0 ? o->epochs : 1;
  double prev = NAN;
  gboolean ok = TRUE, stop = FALSE;
  for (int e = 1; e <= epochs && ok && !stop; e++) {
    const gint64 t0 = g_get_monotonic_time ();
    if (e > 1)
      ok = rewind (user, &err) && stream_next (next, user, &batch, &err);
    double ll = 0.0, h = 0.0, w = 0.0;
    size_t updates = 0;
    while (ok && batch) {
      ok = mixem_model_partial_fit (m, batch, alpha, o->threads, &err);
      if (ok) {
        /* Each update's record folded into the epoch's. */
        const mixem_iteration *it = &g_array_index (m->trace, mixem_iteration, m->trace->len - 1);
        ll += it->loglik;
        h += it->entropy;
        w += mixem_dataset_total_weight (batch);
        g_array_set_size (m->trace, m->trace->len - 1);
        updates++;
      }
      mixem_dataset_free (batch);
      batch = NULL;
      ok = ok && stream_next (next, user, &batch, &err);
    }
    if (!ok) {
      g_prefix_error (&err, "epoch %d, batch %zu: ", e, updates + 1);
      break;
    }
    m->n_iter = e;
    mixem_iteration it = {
      .restart = m->best_restart, .iter = e, .loglik = ll, .elbo = ll, .kl = 0.0, .entropy = h,
      .delta = isnan (prev) ? NAN : (ll - prev) / w,
      .seconds = (double) (g_get_monotonic_time () - t0) * 1e-6, .temperature = 1.0,
    };
    prev = ll;
    g_array_append_val (m->trace, it);
    if (o->callback && !o->callback (&it, m->params, m->weights, o->user_data))
      stop = TRUE;
  }
  mixem_dataset_free (batch);
  batch = NULL;
  /* l(theta) on every row: one more pass. */
  double l = 0.0;
  ok = ok && rewind (user, &err);
  while (ok && !err && stream_next (next, user, &batch, &err) && batch) {
    l += stream_score (m, batch, o->threads, &err);
    mixem_dataset_free (batch);
    batch = NULL;
    if (err)
      g_prefix_error (&err, "scoring the stream: ");
  }
  if (err) {
    g_propagate_error (error, err);
    mixem_model_free (m);
    return NULL;
  }
  m->loglik = l;
  m->loglik0 = NAN;
  m->converged = FALSE;
  return m;
}
