/* check.c: the family conformance suite (mixem/check.h).  Each property is checked through the
 * family's own entries on the caller's data, with tolerances that rounding alone never reaches:
 * a family that drops a term, aliases a copy, leaks state between threads or accepts a typo
 * fails by name.  The built-in families, the Lua families of the tests and the example plugin
 * all pass it. */
#include <config.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <glib/gstdio.h>
#include <gsl/gsl_rng.h>
#include "engine.h"

#define CHECK_ROWS 2000      /* rows used by the checks on statistics */

typedef struct {
  const mixem_family *f;
  const mixem_dataset *data;     /* the first rows of the caller's data */
  size_t n, d, K;
  mixem_block blk;
  double *xbuf;
  unsigned char *mbuf;           /* the mask of BLK, or NULL */
  mixem_spec spec;
  mixem_options *opts;
  GArray *res;
} ctx;

static void
report (ctx *c, const char *property, gboolean passed, gboolean skipped, char *message)
{
  mixem_check_result r = { property, passed, skipped, message };
  g_array_append_val (c->res, r);
}

static void
pass (ctx *c, const char *property)
{
  report (c, property, TRUE, FALSE, NULL);
}

static void
fail (ctx *c, const char *property, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

static void
fail (ctx *c, const char *property, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  report (c, property, FALSE, FALSE, g_strdup_vprintf (fmt, ap));
  va_end (ap);
}

static void
fail_error (ctx *c, const char *property, GError *err)
{
  fail (c, property, "%s", err ? err->message : "failed without an error");
  g_clear_error (&err);
}

static void
skip (ctx *c, const char *property, const char *why)
{
  report (c, property, FALSE, TRUE, g_strdup (why));
}

/* a and b agree to rounding: relative REL of their size, or ABS. */
static gboolean
close_to (double a, double b, double rel, double abs_tol)
{
  return fabs (a - b) <= rel * (fabs (a) + fabs (b)) + abs_tol;
}

/* The n*K log-densities of the check rows under P, or NULL with the family's kept error. */
static double *
log_densities (ctx *c, const mixem_params *p, GError **error)
{
  double *L = g_new (double, c->n * c->K);
  c->f->log_density (p, &c->blk, L);
  if (!mixem_family_take_error (c->f, p, error)) {
    g_free (L);
    return NULL;
  }
  return L;
}

/* sum_ik r_ik L_ik, with 0 * (-inf) = 0. */
static double
weighted_sum (const double *r, const double *L, size_t nk)
{
  double s = 0.0;
  for (size_t i = 0; i < nk; i++)
    if (r[i] > 0.0)
      s += r[i] * L[i];
  return s;
}

static double *
accumulate (ctx *c, const mixem_params *p, size_t first, size_t n, const double *r, double *st,
            GError **error)
{
  mixem_block b = { n, c->d, first, c->blk.x + first * c->d, c->data, NULL,
                    c->blk.missing ? c->blk.missing + first * c->d : NULL,
                    c->blk.pattern ? c->blk.pattern + first : NULL };
  c->f->accumulate (p, &b, r + first * c->K, st);
  return mixem_family_take_error (c->f, p, error) ? st : NULL;
}

static void
check_statistics (ctx *c, const mixem_model *m, gsl_rng *rng)
{
  const mixem_family *f = c->f;
  const size_t K = c->K, n = c->n, ss = f->stats_size (m->params);
  GError *err = NULL;
  double *r = g_new (double, n * K);
  double *all = g_new0 (double, ss), *parts = g_new0 (double, ss);
  double *L = NULL, *L2 = NULL;
  mixem_params *star = NULL;
  const char *prop = "accumulate is additive over blocks";
  if (!mixem_model_predict_proba (m, c->data, r, &err)) {
    fail_error (c, prop, err);
    goto out;
  }
  if (!accumulate (c, m->params, 0, n, r, all, &err)
      || !accumulate (c, m->params, 0, n / 2, r, parts, &err)
      || !accumulate (c, m->params, n / 2, n - n / 2, r, parts, &err)) {
    fail_error (c, prop, err);
    goto out;
  }
  size_t bad = SIZE_MAX;
  for (size_t i = 0; i < ss && bad == SIZE_MAX; i++)
    if (!isfinite (all[i]) || !close_to (all[i], parts[i], 1e-9, 1e-12))
      bad = i;
  if (bad != SIZE_MAX)
    fail (c, prop, "statistic %zu of %zu: %.17g over all rows, %.17g over two blocks", bad + 1,
          ss, all[bad], parts[bad]);
  else
    pass (c, prop);

  prop = "expected_loglik equals sum_ik r_ik log p(x_i | theta_k)";
  if (!(L = log_densities (c, m->params, &err)))
    fail_error (c, prop, err);
  else if (!f->expected_loglik)
    skip (c, prop, "the family has no expected_loglik (the engine makes a pass instead)");
  else {
    const double e = f->expected_loglik (m->params, all), direct = weighted_sum (r, L, n * K);
    if (!mixem_family_take_error (f, m->params, &err))
      fail_error (c, prop, err);
    else if (!close_to (e, direct, 1e-9, 1e-9 * (double) n))
      fail (c, prop, "expected_loglik gives %.17g, the explicit sum %.17g (off by %g)", e,
            direct, e - direct);
    else
      pass (c, prop);
  }

  /* From random responsibilities, the M-step's parameters must explain them at least as well
   * as the fitted ones do. */
  prop = "maximise does not lower the expected log-likelihood";
  for (size_t i = 0; i < n; i++) {
    double s = 0.0;
    for (size_t k = 0; k < K; k++)
      s += r[i * K + k] = 0.05 + gsl_rng_uniform (rng);
    for (size_t k = 0; k < K; k++)
      r[i * K + k] /= s;
  }
  memset (all, 0, ss * sizeof (double));
  star = f->params_copy (m->params);
  if (!L || !accumulate (c, m->params, 0, n, r, all, &err) || !f->maximise (star, all, NULL, &err)
      || !(L2 = log_densities (c, star, &err)))
    fail_error (c, prop, err);
  else {
    const double q_fit = weighted_sum (r, L, n * K), q_star = weighted_sum (r, L2, n * K);
    if (!(q_star >= q_fit - 1e-8 * fabs (q_fit) - 1e-8))
      fail (c, prop, "sum r log p is %.17g at maximise's parameters but %.17g at the fitted "
                     "ones", q_star, q_fit);
    else
      pass (c, prop);
  }

  prop = "maximise reports an empty component";
  memset (all, 0, ss * sizeof (double));
  mixem_params *empty = f->params_copy (m->params);
  if (f->maximise (empty, all, NULL, &err))
    fail (c, prop, "maximise accepted statistics of zero weight (the header asks for a "
                   "MIXEM_ERROR_NUMERIC error naming the component)");
  else if (!g_error_matches (err, MIXEM_ERROR, MIXEM_ERROR_NUMERIC))
    fail (c, prop, "the error is not MIXEM_ERROR_NUMERIC: %s", err ? err->message : "(none)");
  else
    pass (c, prop);
  g_clear_error (&err);
  f->params_free (empty);
out:
  if (star)
    f->params_free (star);
  g_free (r);
  g_free (all);
  g_free (parts);
  g_free (L);
  g_free (L2);
}

static void
check_parameters (ctx *c, const mixem_model *m)
{
  const mixem_family *f = c->f;
  const size_t K = c->K, nk = c->n * K;
  GError *err = NULL;
  double *L = log_densities (c, m->params, &err), *L2 = NULL;
  mixem_params *fresh = f->params_new (&c->spec, &err);
  const char *prop = "describe and assign round trip";
  if (!L || !fresh) {
    fail_error (c, prop, err);
    goto out;
  }
  for (size_t k = 0; k < K; k++) {
    GVariant *dict = g_variant_ref_sink (f->describe (m->params, k));
    gboolean complete = FALSE;
    gboolean ok = f->assign (fresh, k, dict, &complete, &err);
    g_variant_unref (dict);
    if (!ok || !complete) {
      if (ok)
        fail (c, prop, "assign called describe's own component %zu incomplete", k + 1);
      else
        fail_error (c, prop, err);
      goto unknown;
    }
  }
  if (!(L2 = log_densities (c, fresh, &err)))
    fail_error (c, prop, err);
  else if (memcmp (L, L2, nk * sizeof (double)) != 0)
    fail (c, prop, "log-densities differ after describe then assign (describe loses digits, "
                   "or assign does not set everything)");
  else
    pass (c, prop);

unknown:
  prop = "assign refuses an unknown key";
  {
    GVariantDict d;
    GVariant *c0 = g_variant_ref_sink (f->describe (m->params, 0));
    g_variant_dict_init (&d, c0);
    g_variant_unref (c0);
    g_variant_dict_insert (&d, "no_such_parameter", "d", 1.0);
    GVariant *dict = g_variant_ref_sink (g_variant_dict_end (&d));
    if (f->assign (fresh, 0, dict, NULL, &err))
      fail (c, prop, "assign accepted {no_such_parameter = 1}: a typo in a start or a model "
                     "file would pass unnoticed (mixem_dict_check_keys refuses it)");
    else
      pass (c, prop);
    g_clear_error (&err);
    g_variant_unref (dict);
  }

  prop = "params_copy is a deep copy";
  if (K < 2)
    skip (c, prop, "needs k >= 2");
  else {
    mixem_params *copy = f->params_copy (m->params);
    GVariant *other = g_variant_ref_sink (f->describe (m->params, 1));
    double *L3 = NULL;
    if (!f->assign (copy, 0, other, NULL, &err) || !(L3 = log_densities (c, m->params, &err)))
      fail_error (c, prop, err);
    else if (memcmp (L, L3, nk * sizeof (double)) != 0)
      fail (c, prop, "changing a copy changed the original");
    else
      pass (c, prop);
    g_free (L3);
    g_variant_unref (other);
    f->params_free (copy);
  }

  prop = "n_free_params is positive and kept by copies";
  {
    mixem_params *copy = f->params_copy (m->params);
    const size_t a = f->n_free_params (m->params), b = f->n_free_params (copy);
    if (a == 0 || a != b)
      fail (c, prop, "%zu free parameters, %zu for a copy", a, b);
    else
      pass (c, prop);
    f->params_free (copy);
  }
out:
  if (fresh)
    f->params_free (fresh);
  g_free (L);
  g_free (L2);
}

static void
check_sample (ctx *c, const mixem_model *m, gsl_rng *rng)
{
  const mixem_family *f = c->f;
  const char *prop = "sample draws rows the family accepts";
  if (!f->sample) {
    skip (c, prop, "the family has no sample");
    return;
  }
  const size_t per = 20, n = per * c->K;
  double *x = g_new (double, n * c->d), *L = g_new (double, n * c->K);
  GError *err = NULL;
  for (size_t i = 0; i < n; i++)
    f->sample (m->params, i / per, rng, x + i * c->d);
  mixem_block b = { n, c->d, 0, x, NULL, NULL, NULL, NULL };
  size_t bad = SIZE_MAX;
  if (!mixem_family_take_error (f, m->params, &err)) {
    fail_error (c, prop, err);
    goto out;
  }
  for (size_t i = 0; i < n * c->d && bad == SIZE_MAX; i++)
    if (!isfinite (x[i]))
      bad = i / c->d;
  if (bad != SIZE_MAX) {
    fail (c, prop, "draw %zu (component %zu) is not finite", bad + 1, bad / per + 1);
    goto out;
  }
  if (f->check_data && !f->check_data (m->params, &b, &err)) {
    fail (c, prop, "check_data refuses a drawn row: %s", err->message);
    g_clear_error (&err);
    goto out;
  }
  f->log_density (m->params, &b, L);
  if (!mixem_family_take_error (f, m->params, &err)) {
    fail_error (c, prop, err);
    goto out;
  }
  for (size_t i = 0; i < n && bad == SIZE_MAX; i++)
    if (!(L[i * c->K + i / per] > -INFINITY) || isnan (L[i * c->K + i / per])
        || L[i * c->K + i / per] == INFINITY)
      bad = i;
  if (bad != SIZE_MAX)
    fail (c, prop, "draw %zu has log-density %g under its own component %zu", bad + 1,
          L[bad * c->K + bad / per], bad / per + 1);
  else
    pass (c, prop);
out:
  g_free (x);
  g_free (L);
}

static void
check_file (ctx *c, const mixem_model *m, mixem_registry *reg)
{
  const char *prop = "a model file round trip keeps every bit";
  if (!reg) {
    skip (c, prop, "no registry given");
    return;
  }
  GError *err = NULL;
  char *dir = g_dir_make_tmp ("mixem-check-XXXXXX", &err);
  char *path = dir ? g_build_filename (dir, "model.json", NULL) : NULL;
  mixem_model *back = NULL;
  double *a = g_new (double, c->n), *b = g_new (double, c->n);
  if (!dir || !mixem_model_save (m, path, &err) || !(back = mixem_model_load (reg, path, &err))
      || !mixem_model_score_samples (m, c->data, a, &err)
      || !mixem_model_score_samples (back, c->data, b, &err))
    fail_error (c, prop, err);
  else if (memcmp (a, b, c->n * sizeof (double)) != 0)
    fail (c, prop, "the loaded model scores the rows differently");
  else
    pass (c, prop);
  mixem_model_free (back);
  if (path)
    g_unlink (path);
  if (dir)
    g_rmdir (dir);
  g_free (path);
  g_free (dir);
  g_free (a);
  g_free (b);
}

GArray *
mixem_family_check (const mixem_family *f, const mixem_dataset *data, size_t k,
                    const mixem_options *opts, unsigned long seed, mixem_registry *reg,
                    GError **error)
{
  const size_t N = mixem_dataset_rows (data);
  if (k < 1 || k > N) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 "check-family: k = %zu must lie in 1..%zu (the rows)", k, N);
    return NULL;
  }
  ctx c = { .f = f, .K = k, .d = mixem_dataset_cols (data) };
  c.n = MIN (N, CHECK_ROWS);
  size_t *rows = g_new (size_t, c.n);
  for (size_t i = 0; i < c.n; i++)
    rows[i] = i;
  mixem_dataset *sub = mixem_dataset_subset (data, rows, c.n, error);
  g_free (rows);
  if (!sub)
    return NULL;
  c.data = sub;
  c.opts = mixem_family_options (f, opts, c.d, mixem_dataset_names (data), error);
  if (!c.opts) {
    mixem_dataset_free (sub);
    return NULL;
  }
  c.spec = (mixem_spec) { k, c.d, mixem_dataset_names (sub), c.opts, f, sub };
  c.xbuf = g_new (double, c.n * c.d);
  c.mbuf = mixem_dataset_has_missing (sub) ? g_new (unsigned char, c.n * c.d) : NULL;
  mixem_pass_block (sub, 0, c.n, c.xbuf, c.mbuf, &c.blk);
  c.res = g_array_new (FALSE, FALSE, sizeof (mixem_check_result));

  mixem_fit_options o;
  mixem_fit_options_init (&o);
  o.k = k;
  o.seed = seed;
  o.family_options = opts;
  o.threads = 1;
  /* The family's arithmetic is under test, not the search for the best optimum: a few restarts
   * of a small small-EM still go through every path (starts, short runs, restarts, refinement)
   * at a tenth of the defaults' cost. */
  o.n_init = 3;
  o.short_starts = 3;
  GError *err = NULL;
  const char *prop = "a fit climbs, with log p(X) = ELBO + KL and KL >= 0";
  mixem_model *m = mixem_fit (f, data, &o, &err);
  if (!m)
    fail_error (&c, prop, err);
  else {
    size_t bad = 0;
    for (guint i = 1; i < m->trace->len && !bad; i++) {
      const mixem_iteration *a = &g_array_index (m->trace, mixem_iteration, i - 1);
      const mixem_iteration *b = &g_array_index (m->trace, mixem_iteration, i);
      if (a->restart == b->restart && b->loglik < a->loglik - 1e-9 * fabs (a->loglik) - 1e-9)
        bad = i + 1;
    }
    if (bad)
      fail (&c, prop, "the log-likelihood fell at iteration %zu", bad);
    else
      pass (&c, prop);
  }
  if (m) {
    gsl_rng *rng = gsl_rng_alloc (gsl_rng_mt19937);
    gsl_rng_set (rng, seed);
    check_statistics (&c, m, rng);
    check_parameters (&c, m);

    prop = "1 and 2 threads give the same bits";
    o.threads = 2;
    o.block_size = 64;               /* several blocks, so that two threads share the work */
    mixem_model *m2 = mixem_fit (f, data, &o, &err);
    o.threads = 1;
    mixem_model *m1 = m2 ? mixem_fit (f, data, &o, &err) : NULL;
    if (!m1)
      fail_error (&c, prop, err);
    else {
      gboolean same = m1->loglik == m2->loglik
                      && memcmp (m1->weights, m2->weights, k * sizeof (double)) == 0;
      for (size_t j = 0; j < k && same; j++) {
        GVariant *a = g_variant_ref_sink (f->describe (m1->params, j));
        GVariant *b = g_variant_ref_sink (f->describe (m2->params, j));
        same = g_variant_equal (a, b);
        g_variant_unref (a);
        g_variant_unref (b);
      }
      if (same)
        pass (&c, prop);
      else
        fail (&c, prop, "log-likelihoods %.17g (1 thread) and %.17g (2 threads)", m1->loglik,
              m2->loglik);
    }
    mixem_model_free (m1);
    mixem_model_free (m2);
    check_sample (&c, m, rng);
    check_file (&c, m, reg);
    gsl_rng_free (rng);
  } else {
    const char *rest[] = { "accumulate is additive over blocks",
                           "describe and assign round trip", "sample draws rows the family accepts" };
    for (size_t i = 0; i < G_N_ELEMENTS (rest); i++)
      skip (&c, rest[i], "needs a fitted model, and the fit failed");
  }
  mixem_model_free (m);
  mixem_options_free (c.opts);
  mixem_dataset_free (sub);
  g_free (c.xbuf);
  g_free (c.mbuf);
  return c.res;
}

void
mixem_check_results_free (GArray *results)
{
  if (!results)
    return;
  for (guint i = 0; i < results->len; i++)
    g_free (g_array_index (results, mixem_check_result, i).message);
  g_array_free (results, TRUE);
}
