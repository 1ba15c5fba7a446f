/* check_engine.c: the EM engine over the binomial plugin and the toy family of toy_family.c:
 * the ELBO/KL identities and the monotone climb, restarts, frozen parameters, row weights,
 * thread-count independence, predictions, option errors and plugin loading. */
#include <string.h>
#include "testutil.h"

static mixem_registry *reg;
static const mixem_family *binomial;

static void
setup (void)
{
  GError *err = NULL;
  reg = mixem_registry_new ();
  binomial = mixem_registry_lookup (reg, "binomial", &err);
  ck_assert_no_error (err);
  ck_assert (mixem_registry_add (reg, &toy_family, &err));
  ck_assert_no_error (err);
}

static void
teardown (void)
{
  mixem_registry_free (reg);
}

/* N rows (successes, trials) drawn from a K-component binomial mixture, 20 trials each. */
static mixem_dataset *
binomial_data (size_t K, size_t n, unsigned long seed)
{
  GError *err = NULL;
  mixem_options *fo = mixem_options_new ();
  mixem_options_set (fo, "trials", "n");
  mixem_options_set (fo, "sample_trials", "20");
  double w[5];
  GString *comps = g_string_new ("[");
  for (size_t k = 0; k < K; k++) {
    w[k] = 1.0 / (double) K;
    g_string_append_printf (comps, "%s{'p': <%.3f>}", k ? "," : "", 0.1 + 0.8 * k / MAX (K - 1, 1));
  }
  g_string_append (comps, "]");
  GVariant *cv = g_variant_ref_sink (g_variant_new_parsed (comps->str));
  const char *names[] = { "s", "n" };
  mixem_model *m = mixem_model_new (binomial, K, 2, names, fo, w, cv, &err);
  ck_assert_no_error (err);
  double *x = g_new (double, 2 * n);
  ck_assert (mixem_model_sample (m, n, seed, x, NULL, &err));
  mixem_dataset *ds = mixem_dataset_new (n, 2, x, names, NULL, &err);
  ck_assert_no_error (err);
  g_free (x);
  mixem_model_free (m);
  g_variant_unref (cv);
  g_string_free (comps, TRUE);
  mixem_options_free (fo);
  return ds;
}

static mixem_options *
trials_n (void)
{
  mixem_options *fo = mixem_options_new ();
  mixem_options_set (fo, "trials", "n");
  return fo;
}

/* The ELBO/KL identities and the climb, checked in the callback of every iteration.  Under
 * small-EM each short run climbs from its own start, and the restart's climb goes on from the
 * best of them: its first ELBO is checked against that run's last log-likelihood. */
typedef struct {
  double prev;         /* l(theta_{t-1}) */
  int n;
  int restart, short_run;
  double best_short;   /* the highest last log-likelihood of this restart's short runs */
} climb;

static gboolean
check_identities (const mixem_iteration *it, const mixem_params *p, const double *w, void *data)
{
  climb *c = data;
  if (it->restart != c->restart) {
    c->restart = it->restart;
    c->short_run = it->short_run;
    c->best_short = -INFINITY;
    c->prev = -INFINITY;
  } else if (it->short_run != c->short_run) {
    c->best_short = MAX (c->best_short, c->prev);
    c->prev = it->short_run ? -INFINITY : c->best_short;
    c->short_run = it->short_run;
  }
  const double scale = fabs (it->loglik);
  ck_assert_rel (it->elbo + it->kl, it->loglik, 1e-9);
  ck_assert_msg (it->kl >= -1e-10 * scale, "KL = %g < 0 at iteration %d", it->kl, it->iter);
  ck_assert_msg (it->elbo >= c->prev - 1e-10 * scale,
                 "ELBO(q_{t-1}, theta_t) = %.17g < l(theta_{t-1}) = %.17g at iteration %d",
                 it->elbo, c->prev, it->iter);
  ck_assert_msg (it->loglik >= c->prev - 1e-10 * scale,
                 "log-likelihood fell from %.17g to %.17g at iteration %d", c->prev, it->loglik,
                 it->iter);
  ck_assert_msg (it->entropy >= 0.0, "negative entropy %g", it->entropy);
  c->prev = it->loglik;
  c->n++;
  return TRUE;
}

START_TEST (test_loglik_never_decreases_and_elbo_kl_identities_hold)
{
  const size_t K = (size_t) _i;
  GError *err = NULL;
  mixem_dataset *ds = binomial_data (K, 400, 100 + K);
  mixem_options *fo = trials_n ();
  for (int restart = 0; restart < 3; restart++) {
    climb c = { -INFINITY, 0, 0, 0, -INFINITY };
    mixem_fit_options o;
    mixem_fit_options_init (&o);
    o.k = K;
    o.max_iter = 60;
    o.tol = 0;
    o.seed = 7 + restart;
    o.n_init = 1;
    o.init = restart == 0 ? "random_resp" : "random";
    o.short_starts = restart == 0 ? 1 : restart == 1 ? 12 : 3;   /* small-EM on the others */
    o.short_iter = restart == 2 ? 7 : 20;
    o.family_options = fo;
    o.callback = check_identities;
    o.user_data = &c;
    mixem_model *m = mixem_fit (binomial, ds, &o, &err);
    ck_assert_no_error (err);
    /* Every short run's iterations are seen; the trace keeps the best one's and the rest. */
    ck_assert_int_eq (c.n, o.short_starts > 1 ? o.short_starts * o.short_iter + 60 - o.short_iter
                                              : 60);
    ck_assert_double_le (mixem_model_initial_loglik (m), mixem_model_loglik (m));
    size_t n;
    const mixem_iteration *tr = mixem_model_trace (m, &n);
    ck_assert_uint_eq (n, 60);
    ck_assert_double_eq (tr[n - 1].loglik, mixem_model_loglik (m));
    mixem_model_free (m);
  }
  mixem_options_free (fo);
  mixem_dataset_free (ds);
}
END_TEST

START_TEST (test_identities_hold_when_the_engine_makes_the_elbo_pass)
{
  /* The toy family has no expected_loglik: the engine computes it with a pass of its own. */
  GError *err = NULL;
  double x[300];
  gsl_rng *rng = gsl_rng_alloc (gsl_rng_mt19937);
  for (int i = 0; i < 300; i++)
    x[i] = (i % 3) * 2.0 + gsl_rng_uniform (rng) - 0.5;
  gsl_rng_free (rng);
  mixem_dataset *ds = mixem_dataset_new (300, 1, x, NULL, NULL, &err);
  climb c = { -INFINITY, 0, 0, 0, -INFINITY };
  mixem_fit_options o;
  mixem_fit_options_init (&o);
  o.k = 3;
  o.n_init = 1;
  o.max_iter = 40;
  o.tol = 0;
  o.block_size = 17;
  o.callback = check_identities;
  o.user_data = &c;
  mixem_model *m = mixem_fit (&toy_family, ds, &o, &err);
  ck_assert_no_error (err);
  ck_assert_int_eq (c.n, 12 * 20 + 20);   /* the default small-EM: 12 short runs of 20 */
  mixem_model_free (m);
  mixem_dataset_free (ds);
}
END_TEST

typedef struct {
  double last[8];
} per_restart;

static gboolean
record_restart (const mixem_iteration *it, const mixem_params *p, const double *w, void *data)
{
  ((per_restart *) data)->last[it->restart - 1] = it->loglik;
  return TRUE;
}

START_TEST (test_restarts_keep_the_best)
{
  GError *err = NULL;
  mixem_dataset *ds = binomial_data (4, 200, 3);
  mixem_options *fo = trials_n ();
  per_restart pr;
  mixem_fit_options o;
  mixem_fit_options_init (&o);
  o.k = 4;
  o.n_init = 8;
  o.max_iter = 5;   /* short runs, so that the restarts end at different values */
  o.short_starts = 1;   /* each restart's last iteration is then its result */
  o.init = "random";
  o.seed = 11;
  o.family_options = fo;
  o.callback = record_restart;
  o.user_data = &pr;
  mixem_model *m = mixem_fit (binomial, ds, &o, &err);
  ck_assert_no_error (err);
  int best = 0;
  for (int r = 1; r < 8; r++)
    if (pr.last[r] > pr.last[best])
      best = r;
  ck_assert_msg (pr.last[0] != pr.last[best] || best == 0, "restarts should differ");
  ck_assert_double_eq (mixem_model_loglik (m), pr.last[best]);
  ck_assert_int_eq (mixem_model_best_restart (m), best + 1);
  /* The same seed gives the same fit. */
  mixem_model *again = mixem_fit (binomial, ds, &o, &err);
  ck_assert_double_eq (mixem_model_loglik (again), mixem_model_loglik (m));
  mixem_model_free (again);
  mixem_model_free (m);
  mixem_options_free (fo);
  mixem_dataset_free (ds);
}
END_TEST

static double
component_value (const mixem_model *m, size_t k, const char *key)
{
  GVariant *d = g_variant_ref_sink (mixem_model_component (m, k));
  double v = NAN;
  g_variant_lookup (d, key, "d", &v);
  g_variant_unref (d);
  return v;
}

START_TEST (test_frozen_parameters_stay_frozen)
{
  GError *err = NULL;
  mixem_dataset *ds = binomial_data (3, 300, 5);
  mixem_options *fo = trials_n ();
  const double w0[3] = { 0.2, 0.3, 0.5 };
  const gboolean fixed[3] = { FALSE, TRUE, FALSE };
  GVariant *start = g_variant_ref_sink (
    g_variant_new_parsed ("[{'p': <0.2>}, {'p': <0.45>}, {'p': <0.7>}]"));
  mixem_fit_options o;
  mixem_fit_options_init (&o);
  o.k = 3;
  o.max_iter = 30;
  o.family_options = fo;
  o.init_weights = w0;
  o.init_components = start;
  o.fix_weights = TRUE;
  o.fix_components = fixed;
  mixem_model *m = mixem_fit (binomial, ds, &o, &err);
  ck_assert_no_error (err);
  for (int k = 0; k < 3; k++)
    ck_assert_double_eq (mixem_model_weights (m)[k], w0[k]);
  ck_assert_double_eq (component_value (m, 1, "p"), 0.45);
  ck_assert_double_ne (component_value (m, 0, "p"), 0.2);
  ck_assert_double_ne (component_value (m, 2, "p"), 0.7);
  ck_assert_uint_eq (mixem_model_n_params (m), 3);   /* weights fixed: the family's 3 only */
  mixem_model_free (m);
  g_variant_unref (start);
  mixem_options_free (fo);
  mixem_dataset_free (ds);
}
END_TEST

START_TEST (test_weighted_rows_equal_repeated_rows)
{
  GError *err = NULL;
  mixem_dataset *base = binomial_data (2, 60, 9);
  const double *x = mixem_dataset_data (base);
  double w[60];
  GArray *rep = g_array_new (FALSE, FALSE, sizeof (double));
  for (int i = 0; i < 60; i++) {
    w[i] = 1 + i % 3;
    for (int r = 0; r < (int) w[i]; r++)
      g_array_append_vals (rep, x + 2 * i, 2);
  }
  const char *names[] = { "s", "n" };
  mixem_dataset *weighted = mixem_dataset_new (60, 2, x, names, w, &err);
  mixem_dataset *repeated = mixem_dataset_new (rep->len / 2, 2, (double *) rep->data, names, NULL,
                                               &err);
  ck_assert_no_error (err);
  mixem_options *fo = trials_n ();
  GVariant *start = g_variant_ref_sink (g_variant_new_parsed ("[{'p': <0.3>}, {'p': <0.6>}]"));
  mixem_fit_options o;
  mixem_fit_options_init (&o);
  o.k = 2;
  o.max_iter = 25;
  o.tol = 0;
  o.family_options = fo;
  o.init_components = start;
  mixem_model *a = mixem_fit (binomial, weighted, &o, &err);
  mixem_model *b = mixem_fit (binomial, repeated, &o, &err);
  ck_assert_no_error (err);
  ck_assert_rel (mixem_model_loglik (a), mixem_model_loglik (b), 1e-12);
  for (int k = 0; k < 2; k++) {
    ck_assert_rel (mixem_model_weights (a)[k], mixem_model_weights (b)[k], 1e-12);
    ck_assert_rel (component_value (a, k, "p"), component_value (b, k, "p"), 1e-12);
  }
  ck_assert_rel (mixem_model_bic (a, weighted, NULL), mixem_model_bic (b, repeated, NULL), 1e-12);
  mixem_model_free (a);
  mixem_model_free (b);
  g_variant_unref (start);
  mixem_options_free (fo);
  mixem_dataset_free (weighted);
  mixem_dataset_free (repeated);
  g_array_free (rep, TRUE);
  mixem_dataset_free (base);
}
END_TEST

START_TEST (test_threads_give_identical_bits)
{
  /* Fixed blocks, reduced in a fixed order: 1, 2 and 3 threads must agree bit for bit. */
  GError *err = NULL;
  mixem_dataset *ds = binomial_data (3, 5000, 21);
  mixem_options *fo = trials_n ();
  mixem_model *m[3];
  for (int t = 0; t < 3; t++) {
    mixem_fit_options o;
    mixem_fit_options_init (&o);
    o.k = 3;
    o.max_iter = 20;
    o.tol = 0;
    o.seed = 4;
    o.n_init = 2;
    o.threads = t + 1;
    o.block_size = 37;
    o.family_options = fo;
    m[t] = mixem_fit (binomial, ds, &o, &err);
    ck_assert_no_error (err);
  }
  for (int t = 1; t < 3; t++) {
    ck_assert (memcmp (&(double) { mixem_model_loglik (m[0]) },
                       &(double) { mixem_model_loglik (m[t]) }, sizeof (double)) == 0);
    ck_assert (memcmp (mixem_model_weights (m[0]), mixem_model_weights (m[t]),
                       3 * sizeof (double)) == 0);
    for (int k = 0; k < 3; k++)
      ck_assert (component_value (m[0], k, "p") == component_value (m[t], k, "p"));
  }
  for (int t = 0; t < 3; t++)
    mixem_model_free (m[t]);
  mixem_options_free (fo);
  mixem_dataset_free (ds);
}
END_TEST

static gboolean
stop_at_three (const mixem_iteration *it, const mixem_params *p, const double *w, void *data)
{
  return it->iter < 3;
}

START_TEST (test_callback_can_stop_the_fit)
{
  GError *err = NULL;
  mixem_dataset *ds = binomial_data (2, 100, 1);
  mixem_options *fo = trials_n ();
  mixem_fit_options o;
  mixem_fit_options_init (&o);
  o.k = 2;
  o.tol = 0;
  o.n_init = 4;
  o.family_options = fo;
  o.callback = stop_at_three;
  mixem_model *m = mixem_fit (binomial, ds, &o, &err);
  ck_assert_no_error (err);
  ck_assert_int_eq (mixem_model_n_iter (m), 3);
  ck_assert_int_eq (mixem_model_best_restart (m), 1);
  ck_assert (!mixem_model_converged (m));
  mixem_model_free (m);
  mixem_options_free (fo);
  mixem_dataset_free (ds);
}
END_TEST

START_TEST (test_converges_by_mean_loglik_change)
{
  GError *err = NULL;
  mixem_dataset *ds = binomial_data (2, 500, 2);
  mixem_options *fo = trials_n ();
  mixem_fit_options o;
  mixem_fit_options_init (&o);
  o.k = 2;
  o.family_options = fo;
  o.n_refine = 0;   /* scikit-learn's rule alone; refinement is tested below */
  o.short_starts = 1;   /* one start: small-EM's short runs ignore tol */
  mixem_model *m = mixem_fit (binomial, ds, &o, &err);
  ck_assert_no_error (err);
  ck_assert (mixem_model_converged (m));
  size_t n;
  const mixem_iteration *tr = mixem_model_trace (m, &n);
  /* scikit-learn's rule: one more iteration after the one whose change fell below tol. */
  ck_assert_uint_ge (n, 2);
  ck_assert_double_lt (fabs (tr[n - 2].delta), 1e-3);
  for (size_t t = 0; t + 2 < n; t++)
    ck_assert_double_ge (fabs (tr[t].delta), 1e-3);
  ck_assert_rel (tr[n - 1].delta * 500, tr[n - 1].loglik - (n > 1 ? tr[n - 2].loglik
                                                                  : mixem_model_initial_loglik (m)),
                 1e-9);
  /* Warm start: continues from the fitted model, already converged; as scikit-learn's
   * warm_start, the first change is measured from the previous fit's value, so one M-step
   * (and its E-step) ends it. */
  mixem_fit_options w;
  mixem_fit_options_init (&w);
  w.k = 2;
  w.family_options = fo;
  w.n_refine = 0;
  w.warm_start = m;
  mixem_model *m2 = mixem_fit (binomial, ds, &w, &err);
  ck_assert_no_error (err);
  ck_assert_int_eq (mixem_model_n_iter (m2), 1);
  ck_assert (mixem_model_converged (m2));
  ck_assert_rel (mixem_model_initial_loglik (m2), mixem_model_loglik (m), 1e-12);
  mixem_model_free (m2);
  mixem_model_free (m);
  mixem_options_free (fo);
  mixem_dataset_free (ds);
}
END_TEST

/* Refinement: the restart stopped by tol climbs on, its trace extended, until the change
 * falls below refine_tol (scikit-learn's rule again); refine_tol >= tol turns it off. */
START_TEST (test_refinement_extends_the_climb)
{
  GError *err = NULL;
  mixem_dataset *ds = binomial_data (3, 400, 5);
  mixem_options *fo = trials_n ();
  mixem_fit_options o;
  mixem_fit_options_init (&o);
  o.k = 3;
  o.family_options = fo;
  o.n_init = 4;
  o.n_refine = 0;
  o.short_starts = 1;
  mixem_model *plain = mixem_fit (binomial, ds, &o, &err);
  ck_assert_no_error (err);
  o.n_refine = 2;
  o.refine_tol = o.tol;
  mixem_model *off = mixem_fit (binomial, ds, &o, &err);
  ck_assert_no_error (err);
  ck_assert_int_eq (mixem_model_n_iter (off), mixem_model_n_iter (plain));
  ck_assert (mixem_model_loglik (off) == mixem_model_loglik (plain));
  o.n_init = 1;
  o.n_refine = 0;
  mixem_model *one = mixem_fit (binomial, ds, &o, &err);
  ck_assert_no_error (err);
  o.refine_tol = 1e-9;
  o.n_refine = 1;
  mixem_model *m = mixem_fit (binomial, ds, &o, &err);
  ck_assert_no_error (err);
  size_t n0, n;
  const mixem_iteration *t0 = mixem_model_trace (one, &n0), *tr = mixem_model_trace (m, &n);
  ck_assert_uint_gt (n, n0);
  ck_assert (mixem_model_converged (m));
  ck_assert_int_eq (mixem_model_n_iter (m), (int) n);
  for (size_t t = 0; t < n0; t++)
    ck_assert (tr[t].loglik == t0[t].loglik && tr[t].iter == t0[t].iter);
  for (size_t t = n0; t < n; t++) {
    ck_assert_int_eq (tr[t].iter, (int) t + 1);
    ck_assert_double_ge (tr[t].loglik, tr[t - 1].loglik - 1e-9);
  }
  ck_assert_double_lt (fabs (tr[n - 2].delta), 1e-9);
  for (size_t t = n0; t + 2 < n; t++)
    ck_assert_double_ge (fabs (tr[t].delta), 1e-9);
  ck_assert_double_ge (mixem_model_loglik (m), mixem_model_loglik (one));
  mixem_model_free (plain);
  mixem_model_free (off);
  mixem_model_free (one);
  mixem_model_free (m);
  mixem_options_free (fo);
  mixem_dataset_free (ds);
}
END_TEST

START_TEST (test_predictions_scores_and_criteria)
{
  GError *err = NULL;
  mixem_dataset *ds = binomial_data (2, 300, 8);
  mixem_options *fo = trials_n ();
  mixem_fit_options o;
  mixem_fit_options_init (&o);
  o.k = 2;
  o.family_options = fo;
  mixem_model *m = mixem_fit (binomial, ds, &o, &err);
  ck_assert_no_error (err);
  double *proba = g_new (double, 600), *ll = g_new (double, 300);
  size_t *label = g_new (size_t, 300);
  ck_assert (mixem_model_predict_proba (m, ds, proba, &err));
  ck_assert (mixem_model_score_samples (m, ds, ll, &err));
  ck_assert (mixem_model_predict (m, ds, label, &err));
  double total = 0.0;
  for (int i = 0; i < 300; i++) {
    ck_assert_rel (proba[2 * i] + proba[2 * i + 1], 1.0, 1e-14);
    ck_assert_uint_eq (label[i], proba[2 * i + 1] > proba[2 * i] ? 1 : 0);
    total += ll[i];
  }
  ck_assert_rel (total, mixem_model_loglik (m), 1e-12);
  ck_assert_rel (mixem_model_total_loglik (m, ds, &err), mixem_model_loglik (m), 1e-12);
  /* scikit-learn's sign: BIC = -2 l + p log N, AIC = -2 l + 2 p; p = 2 probabilities + 1 weight. */
  ck_assert_uint_eq (mixem_model_n_params (m), 3);
  ck_assert_rel (mixem_model_bic (m, ds, &err), -2 * total + 3 * log (300.0), 1e-12);
  ck_assert_rel (mixem_model_aic (m, ds, &err), -2 * total + 6, 1e-12);
  /* Data with other columns are refused. */
  const double one[] = { 1 };
  mixem_dataset *narrow = mixem_dataset_new (1, 1, one, NULL, NULL, &err);
  ck_assert (!mixem_model_predict (m, narrow, label, &err));
  ck_assert_error (err, MIXEM_ERROR_DATA, "the data have 1 columns, but the model has 2");
  mixem_dataset_free (narrow);
  g_free (proba);
  g_free (ll);
  g_free (label);
  mixem_model_free (m);
  mixem_options_free (fo);
  mixem_dataset_free (ds);
}
END_TEST

/* Option errors: each names the option and its value. */
START_TEST (test_bad_options_are_errors)
{
  GError *err = NULL;
  mixem_dataset *ds = binomial_data (2, 10, 1);
  mixem_options *fo = trials_n ();
  mixem_fit_options o;
#define EXPECT_OPTION_ERROR(setting, code, text)                                                   \
  do {                                                                                             \
    mixem_fit_options_init (&o);                                                                   \
    o.k = 2;                                                                                       \
    o.family_options = fo;                                                                         \
    setting;                                                                                       \
    ck_assert_ptr_null (mixem_fit (binomial, ds, &o, &err));                                       \
    ck_assert_error (err, code, text);                                                             \
  } while (0)
  EXPECT_OPTION_ERROR (o.k = 0, MIXEM_ERROR_OPTION, "'k' must be a positive integer");
  EXPECT_OPTION_ERROR (o.k = 11, MIXEM_ERROR_OPTION, "'k' exceeds the number of rows");
  EXPECT_OPTION_ERROR (o.tol = -1, MIXEM_ERROR_OPTION, "'tol' must be a finite number >= 0");
  EXPECT_OPTION_ERROR (o.max_iter = -1, MIXEM_ERROR_OPTION, "'max_iter' must be >= 0");
  EXPECT_OPTION_ERROR (o.n_init = 0, MIXEM_ERROR_OPTION, "'n_init' must be >= 1");
  EXPECT_OPTION_ERROR (o.init = "kmeans", MIXEM_ERROR_OPTION,
                       "unknown start 'kmeans' for family 'binomial' (known: random_resp, "
                       "random)");
  const double w[2] = { 0.5, 0.6 };
  EXPECT_OPTION_ERROR (o.init_weights = w, MIXEM_ERROR_OPTION, "the initial weights sum to");
  GVariant *one = g_variant_ref_sink (g_variant_new_parsed ("[{'p': <0.3>}]"));
  EXPECT_OPTION_ERROR (o.init_components = one, MIXEM_ERROR_OPTION, "array of k = 2");
  g_variant_unref (one);
  GVariant *badp = g_variant_ref_sink (g_variant_new_parsed ("[{'p': <0.3>}, {'p': <1.5>}]"));
  EXPECT_OPTION_ERROR (o.init_components = badp, MIXEM_ERROR_FORMAT,
                       "initial component 2: binomial: 'p' must lie in [0, 1] (got 1.5)");
  g_variant_unref (badp);
  GVariant *nop = g_variant_ref_sink (g_variant_new_parsed ("[{'p': <0.3>}, {'trials': <5.0>}]"));
  EXPECT_OPTION_ERROR (o.init_components = nop, MIXEM_ERROR_FORMAT, "component has no 'p'");
  g_variant_unref (nop);
  GVariant *typo_key = g_variant_ref_sink (g_variant_new_parsed ("[{'p': <0.3>}, {'q': <0.5>}]"));
  EXPECT_OPTION_ERROR (o.init_components = typo_key, MIXEM_ERROR_FORMAT,
                       "binomial: a component has no parameter 'q' (it has: p, trials)");
  g_variant_unref (typo_key);
  mixem_options *typo = mixem_options_new ();
  mixem_options_set (typo, "trails", "n");
  EXPECT_OPTION_ERROR (o.family_options = typo, MIXEM_ERROR_OPTION,
                       "family 'binomial' has no option 'trails' (it has: trials, sample_trials)");
  mixem_options_free (typo);
  EXPECT_OPTION_ERROR (o.family_options = NULL, MIXEM_ERROR_OPTION,
                       "the option 'trials' is required");
  mixem_options *cst = mixem_options_new ();
  mixem_options_set (cst, "trials", "ten");
  EXPECT_OPTION_ERROR (o.family_options = cst, MIXEM_ERROR_OPTION,
                       "'trials' = 'ten' is neither a column nor a whole number");
  mixem_options_set (cst, "trials", "10");
  EXPECT_OPTION_ERROR (o.family_options = cst, MIXEM_ERROR_OPTION,
                       "with a constant number of trials the data need exactly 1 column");
  mixem_options_free (cst);
#undef EXPECT_OPTION_ERROR
  mixem_options_free (fo);
  mixem_dataset_free (ds);
}
END_TEST

START_TEST (test_zero_likelihood_row_is_an_error)
{
  /* p = 0 in both components cannot produce a success: the row is named. */
  GError *err = NULL;
  const double x[] = { 0, 5, 0, 5, 2, 5 };
  const char *names[] = { "s", "n" };
  mixem_dataset *ds = mixem_dataset_new (3, 2, x, names, NULL, &err);
  mixem_options *fo = trials_n ();
  GVariant *start = g_variant_ref_sink (g_variant_new_parsed ("[{'p': <0.0>}, {'p': <0.0>}]"));
  mixem_fit_options o;
  mixem_fit_options_init (&o);
  o.k = 2;
  o.family_options = fo;
  o.init_components = start;
  ck_assert_ptr_null (mixem_fit (binomial, ds, &o, &err));
  ck_assert_error (err, MIXEM_ERROR_NUMERIC,
                   "at the start: <memory>: row 3: zero likelihood under every component");
  g_variant_unref (start);
  mixem_options_free (fo);
  mixem_dataset_free (ds);
}
END_TEST

START_TEST (test_plugins_found_missing_and_refused)
{
  GError *err = NULL;
  mixem_registry *r = mixem_registry_new ();
  /* Found through MIXEM_FAMILY_PATH (set by make check to the build tree). */
  const mixem_family *f = mixem_registry_lookup (r, "binomial", &err);
  ck_assert_no_error (err);
  ck_assert_str_eq (f->name, "binomial");
  ck_assert (g_str_has_suffix (mixem_registry_origin (r, f), "binomial.so"));
  ck_assert_ptr_eq (mixem_registry_lookup (r, "binomial", &err), f);
  /* Not found. */
  ck_assert_ptr_null (mixem_registry_lookup (r, "poisson_nonexistent", &err));
  ck_assert_error (err, MIXEM_ERROR_PLUGIN, "unknown family 'poisson_nonexistent'");
  ck_assert_ptr_null (mixem_registry_lookup (r, "../etc/passwd", &err));
  ck_assert_error (err, MIXEM_ERROR_PLUGIN, "is not a valid family name");
  /* Wrong ABI version, and a module without the entry symbol. */
  const char *mods = getenv ("MIXEM_TEST_MODULES");
  ck_assert_ptr_nonnull (mods);
  char *bad = g_build_filename (mods, "bad_abi.so", NULL);
  ck_assert_ptr_null (mixem_registry_load (r, bad, &err));
  ck_assert_error (err, MIXEM_ERROR_PLUGIN,
                   "family ABI version 3, but this mixem reads versions 1 to 2");
  g_free (bad);
  /* A module of ABI 1 loads; the fields it lacks read as NULL, its options are widened. */
  char *v1 = g_build_filename (mods, "v1_family.so", NULL);
  const mixem_family *old = mixem_registry_load (r, v1, &err);
  ck_assert_no_error (err);
  ck_assert_str_eq (old->name, "v1_family");
  ck_assert_uint_eq (old->abi_version, MIXEM_FAMILY_ABI_VERSION);
  ck_assert (old->take_error == NULL && old->param_info == NULL && old->flags == 0);
  ck_assert_str_eq (old->options[0].default_value, "2");
  ck_assert_int_eq (old->options[0].type, MIXEM_OPTION_TEXT);
  ck_assert_ptr_null (old->options[1].name);
  g_free (v1);
  /* A start with no init() to run it; an undefined symbol; the entry as a pointer. */
  const struct { const char *file, *message; } refused[] = {
    { "bad_start.so", "lists the start 'magic' but has no init()" },
    { "undefined_symbol.so", "mixem_function_that_does_not_exist" },
    { "pointer_entry.so", "not a pointer" },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (refused); i++) {
    char *path = g_build_filename (mods, refused[i].file, NULL);
    ck_assert_ptr_null (mixem_registry_load (r, path, &err));
    ck_assert_error (err, MIXEM_ERROR_PLUGIN, refused[i].message);
    g_free (path);
  }
  char *none = g_build_filename (mods, "no_entry.so", NULL);
  ck_assert_ptr_null (mixem_registry_load (r, none, &err));
  ck_assert_error (err, MIXEM_ERROR_PLUGIN, "not a mixem family module");
  g_free (none);
  ck_assert_ptr_null (mixem_registry_load (r, "/nonexistent/x.so", &err));
  ck_assert_error (err, MIXEM_ERROR_PLUGIN, "cannot load module");
  /* Registered from C; a second family of the same name is refused. */
  ck_assert (mixem_registry_add (r, &toy_family, &err));
  ck_assert_str_eq (mixem_registry_origin (r, &toy_family), "built-in");
  ck_assert (!mixem_registry_add (r, &toy_family, &err));
  ck_assert_error (err, MIXEM_ERROR_PLUGIN, "a family called 'toy' is already registered");
  mixem_family incomplete = toy_family;
  incomplete.name = "incomplete";
  incomplete.accumulate = NULL;
  ck_assert (!mixem_registry_add (r, &incomplete, &err));
  ck_assert_error (err, MIXEM_ERROR_PLUGIN, "family has no 'accumulate' function");
  GPtrArray *all = mixem_registry_list (r);
  gboolean has_binomial = FALSE, has_toy = FALSE;
  for (guint i = 0; i < all->len; i++) {
    const mixem_family *g = g_ptr_array_index (all, i);
    has_binomial = has_binomial || strcmp (g->name, "binomial") == 0;
    has_toy = has_toy || strcmp (g->name, "toy") == 0;
  }
  ck_assert (has_binomial && has_toy);
  g_ptr_array_unref (all);
  mixem_registry_free (r);

  /* Listing a directory of broken modules keeps each reason; a misnamed module is refused by
   * its file name and never registered under its own. */
  g_setenv ("MIXEM_FAMILY_PATH", mods, TRUE);
  r = mixem_registry_new ();
  ck_assert_ptr_null (mixem_registry_lookup (r, "misnamed", &err));
  ck_assert_error (err, MIXEM_ERROR_PLUGIN, "holds family 'other_name', not 'misnamed'");
  ck_assert_ptr_null (mixem_registry_lookup (r, "other_name", &err));
  ck_assert_error (err, MIXEM_ERROR_PLUGIN, "unknown family 'other_name'");
  all = mixem_registry_list (r);
  const GPtrArray *failures = mixem_registry_failures (r);
  GString *joined = g_string_new (NULL);
  for (guint i = 0; i < failures->len; i++)
    g_string_append_printf (joined, "%s\n", (const char *) g_ptr_array_index (failures, i));
  ck_assert_msg (strstr (joined->str, "bad_abi.so: family ABI version 3")
                 && strstr (joined->str, "no_entry.so: not a mixem family module")
                 && strstr (joined->str, "holds family 'other_name'"), "%s", joined->str);
  g_string_free (joined, TRUE);
  g_ptr_array_unref (all);
  mixem_registry_free (r);
}
END_TEST

/* A family written with the SDK (tests/modules/sdk_poisson.c: the parameter store, a typed
 * option) fits as the built-in poisson does, and passes the conformance suite. */
START_TEST (test_sdk_family_matches_and_conforms)
{
  GError *err = NULL;
  char *path = g_build_filename (getenv ("MIXEM_TEST_MODULES"), "sdk_poisson.so", NULL);
  char *csv = g_build_filename (getenv ("MIXEM_TEST_SRCDIR"), "data", "seatbelts.csv", NULL);
  mixem_registry *r = mixem_registry_new ();
  const mixem_family *sdk = mixem_registry_load (r, path, &err);
  ck_assert_no_error (err);
  const mixem_family *c = mixem_registry_lookup (r, "poisson", &err);
  ck_assert_no_error (err);
  mixem_dataset *ds = mixem_dataset_read_csv (csv, NULL, &err);
  ck_assert_no_error (err);
  GVariant *start = g_variant_ref_sink (g_variant_new_parsed (
    "[{'lambda': <[100.0, 8.0]>}, {'lambda': <[150.0, 10.0]>}]"));
  const double w0[] = { 0.5, 0.5 };
  mixem_fit_options o;
  mixem_fit_options_init (&o);
  o.k = 2;
  o.tol = 0;
  o.max_iter = 50;
  o.init_components = start;
  o.init_weights = w0;
  mixem_model *a = mixem_fit (sdk, ds, &o, &err);
  ck_assert_no_error (err);
  mixem_model *b = mixem_fit (c, ds, &o, &err);
  ck_assert_no_error (err);
  ck_assert_double_eq_tol (mixem_model_loglik (a), mixem_model_loglik (b),
                           1e-12 * fabs (mixem_model_loglik (b)));
  ck_assert_uint_eq (mixem_model_n_params (a), mixem_model_n_params (b));
  /* The store refuses what poisson.c refuses by hand. */
  mixem_options *bad = mixem_options_new ();
  mixem_options_set (bad, "eps", "0");
  o.family_options = bad;
  ck_assert_ptr_null (mixem_fit (sdk, ds, &o, &err));
  ck_assert_error (err, MIXEM_ERROR_OPTION, "sdk_poisson: option 'eps' = '0' is not a finite "
                   "number in (0, 1]");
  o.family_options = NULL;
  GVariant *typo = g_variant_ref_sink (g_variant_new_parsed (
    "[{'lambda': <[100.0, 8.0]>}, {'lamda': <[150.0, 10.0]>}]"));
  o.init_components = typo;
  ck_assert_ptr_null (mixem_fit (sdk, ds, &o, &err));
  ck_assert_error (err, MIXEM_ERROR_FORMAT, "sdk_poisson: a component has no parameter 'lamda' "
                   "(it has: lambda)");
  GVariant *neg = g_variant_ref_sink (g_variant_new_parsed (
    "[{'lambda': <[100.0, -8.0]>}, {'lambda': <[150.0, 10.0]>}]"));
  o.init_components = neg;
  ck_assert_ptr_null (mixem_fit (sdk, ds, &o, &err));
  ck_assert_error (err, MIXEM_ERROR_FORMAT, "sdk_poisson: 'lambda' must be > 0 (got -8 at entry 2)");
  /* The conformance suite, on both. */
  const mixem_family *both[] = { sdk, c };
  for (size_t f = 0; f < 2; f++) {
    GArray *res = mixem_family_check (both[f], ds, 2, NULL, 1, r, &err);
    ck_assert_no_error (err);
    for (guint i = 0; i < res->len; i++) {
      const mixem_check_result *x = &g_array_index (res, mixem_check_result, i);
      ck_assert_msg (x->passed, "%s: %s: %s", both[f]->name, x->property,
                     x->message ? x->message : "");
    }
    ck_assert_uint_eq (res->len, 12);
    mixem_check_results_free (res);
  }
  g_variant_unref (start);
  g_variant_unref (typo);
  g_variant_unref (neg);
  mixem_options_free (bad);
  mixem_model_free (a);
  mixem_model_free (b);
  mixem_dataset_free (ds);
  mixem_registry_free (r);
  g_free (path);
  g_free (csv);
}
END_TEST

START_TEST (test_sampling_repeats_with_the_seed)
{
  mixem_dataset *a = binomial_data (3, 50, 77), *b = binomial_data (3, 50, 77);
  mixem_dataset *c = binomial_data (3, 50, 78);
  ck_assert (memcmp (mixem_dataset_data (a), mixem_dataset_data (b), 100 * sizeof (double)) == 0);
  ck_assert (memcmp (mixem_dataset_data (a), mixem_dataset_data (c), 100 * sizeof (double)) != 0);
  for (int i = 0; i < 50; i++)
    ck_assert_double_eq (mixem_dataset_data (a)[2 * i + 1], 20);
  mixem_dataset_free (a);
  mixem_dataset_free (b);
  mixem_dataset_free (c);
}
END_TEST

/* ROWS draws of the successes of a one-component binomial model with P and TRIALS (a number). */
static double *
binomial_draws (double p, const char *trials, size_t rows, unsigned long seed)
{
  GError *err = NULL;
  mixem_options *fo = mixem_options_new ();
  mixem_options_set (fo, "trials", trials);
  char *comps = g_strdup_printf ("[{'p': <%.17g>}]", p);
  GVariant *cv = g_variant_ref_sink (g_variant_new_parsed (comps));
  const char *names[] = { "s" };
  const double w[] = { 1 };
  mixem_model *m = mixem_model_new (binomial, 1, 1, names, fo, w, cv, &err);
  ck_assert_no_error (err);
  double *x = g_new (double, rows);
  ck_assert (mixem_model_sample (m, rows, seed, x, NULL, &err));
  ck_assert_no_error (err);
  mixem_model_free (m);
  g_variant_unref (cv);
  g_free (comps);
  mixem_options_free (fo);
  return x;
}

/* Binomial draws with 2^31 trials or more (gsl_ran_binomial takes an unsigned int, which wrapped
 * 5e9 trials to 7e8) have the right mean and spread; draws with fewer are GSL's, bit for bit as
 * before. */
START_TEST (test_binomial_draws_beyond_2_31)
{
  static const struct { const char *trials; double p; } big[] = {
    { "5000000000", 0.5 }, { "2147483648", 0.3 }, { "9007199254740992", 0.5 }, { "4294967296", 1e-9 },
  };
  const size_t rows = 4000;
  for (size_t t = 0; t < G_N_ELEMENTS (big); t++) {
    double *x = binomial_draws (big[t].p, big[t].trials, rows, 5);
    const double n = g_ascii_strtod (big[t].trials, NULL), p = big[t].p;
    const double mean = n * p, sd = sqrt (n * p * (1 - p));
    double s = 0, ss = 0;
    for (size_t i = 0; i < rows; i++) {
      ck_assert (x[i] >= 0 && x[i] <= n && x[i] == floor (x[i]));
      s += x[i];
    }
    const double m = s / (double) rows;
    for (size_t i = 0; i < rows; i++)
      ss += (x[i] - m) * (x[i] - m);
    const double sdev = sqrt (ss / (double) (rows - 1));
    ck_assert_msg (fabs (m - mean) < 5 * sd / sqrt ((double) rows),
                   "%s trials: mean %.17g, expected %.17g", big[t].trials, m, mean);
    ck_assert_msg (fabs (sdev / sd - 1) < 0.1, "%s trials: sd %g, expected %g", big[t].trials,
                   sdev, sd);
    g_free (x);
  }
  /* Below 2^31: the draws of before (recorded from the earlier sampler). */
  double *x = binomial_draws (0.3, "1000", 4, 3);
  const double before[] = { 283, 309, 299, 321 };
  for (int i = 0; i < 4; i++)
    ck_assert_double_eq (x[i], before[i]);
  g_free (x);
}
END_TEST

/* The live line, drawn (with no delay) to a file, ends cleared; verbose lines come at the
 * interval and never with a carriage return; and the user's callback still runs. */
static gboolean
count_calls (const mixem_iteration *it, const mixem_params *p, const double *w, void *data)
{
  (void) it;
  (void) p;
  (void) w;
  ++*(int *) data;
  return TRUE;
}

START_TEST (test_progress_live_and_verbose)
{
  GError *err = NULL;
  mixem_dataset *ds = binomial_data (2, 200, 3);
  mixem_options *fo = trials_n ();
  for (int verbose = 0; verbose <= 2; verbose += 2) {
    FILE *f = tmpfile ();
    int calls = 0;
    mixem_fit_options o;
    mixem_fit_options_init (&o);
    o.k = 2;
    o.n_init = 2;
    o.tol = 0;
    o.max_iter = 7;
    o.short_starts = 1;
    o.init = "random_resp";
    o.family_options = fo;
    mixem_progress *p = mixem_progress_new (f, TRUE, 0.0, verbose, 3, o.n_init, count_calls,
                                            &calls);
    o.callback = mixem_progress_callback;
    o.user_data = p;
    mixem_model *m = mixem_fit (binomial, ds, &o, &err);
    ck_assert_no_error (err);
    mixem_progress_free (p);
    ck_assert_int_eq (calls, 14);
    long len = ftell (f);
    rewind (f);
    char *text = g_malloc0 ((gsize) len + 1);
    ck_assert_int_eq (fread (text, 1, (size_t) len, f), (size_t) len);
    fclose (f);
    if (verbose == 0) {
      ck_assert_msg (g_str_has_prefix (text, "\r\033[Krestart 1/2  iteration 1  log-likelihood"),
                     "live line: '%s'", text);
      ck_assert (strstr (text, "it/s") != NULL);
      ck_assert (g_str_has_suffix (text, "\r\033[K"));
    } else {
      ck_assert (strchr (text, '\r') == NULL);
      ck_assert (strstr (text, "restart 1/2\n") && strstr (text, "restart 2/2\n"));
      ck_assert (strstr (text, "  iteration 3: log-likelihood ") != NULL);
      ck_assert (strstr (text, "  iteration 6: log-likelihood ") != NULL);
      ck_assert (strstr (text, "  iteration 4:") == NULL);
    }
    g_free (text);
    mixem_model_free (m);
  }
  mixem_options_free (fo);
  mixem_dataset_free (ds);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("engine");
  TCase *tc = tcase_create ("em");
  tcase_set_timeout (tc, 60);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_loop_test (tc, test_loglik_never_decreases_and_elbo_kl_identities_hold, 1, 6);
  tcase_add_test (tc, test_identities_hold_when_the_engine_makes_the_elbo_pass);
  tcase_add_test (tc, test_restarts_keep_the_best);
  tcase_add_test (tc, test_frozen_parameters_stay_frozen);
  tcase_add_test (tc, test_weighted_rows_equal_repeated_rows);
  tcase_add_test (tc, test_threads_give_identical_bits);
  tcase_add_test (tc, test_callback_can_stop_the_fit);
  tcase_add_test (tc, test_converges_by_mean_loglik_change);
  tcase_add_test (tc, test_refinement_extends_the_climb);
  tcase_add_test (tc, test_predictions_scores_and_criteria);
  tcase_add_test (tc, test_bad_options_are_errors);
  tcase_add_test (tc, test_zero_likelihood_row_is_an_error);
  tcase_add_test (tc, test_plugins_found_missing_and_refused);
  tcase_add_test (tc, test_sdk_family_matches_and_conforms);
  tcase_add_test (tc, test_sampling_repeats_with_the_seed);
  tcase_add_test (tc, test_binomial_draws_beyond_2_31);
  tcase_add_test (tc, test_progress_live_and_verbose);
  suite_add_tcase (s, tc);
  return test_run (s);
}
