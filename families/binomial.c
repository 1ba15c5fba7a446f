/* binomial.c: the binomial family.  Row i holds s_i successes out of n_i trials, n_i either a
 * data column or one constant (option "trials"); component k has success probability p_k.
 *
 *   log p(s | n, p_k) = log C(n, s) + s log p_k + (n - s) log(1 - p_k)
 *
 * The log C(n, s) term is included, so the log-likelihood is that of the counts; it shifts the
 * log-likelihood by a constant that does not depend on the parameters (R's flexmix with
 * FLXMRglm(family = "binomial") includes it too; Do and Batzoglou's two-coin figures leave it out).
 *
 * Statistics of component k under weighted responsibilities r_ik (4 doubles):
 *   R_k = sum r_ik,  S_k = sum r_ik s_i,  F_k = sum r_ik (n_i - s_i),  C_k = sum r_ik log C(n_i, s_i)
 * M-step: p_k = S_k / (S_k + F_k).  When trials come from a column, each component also keeps
 * m_k = round((S_k + F_k) / R_k), the mean trials of its rows, which sample() uses (unless the
 * option sample_trials says otherwise) and describe() reports as "trials".
 * Expected complete log-likelihood:
 *   sum_k C_k + S_k log p_k + F_k log(1 - p_k),   with 0 log 0 = 0.
 *
 * Missing cells (MIXEM_FAMILY_MISSING): a row whose successes or trials are missing has no
 * binomial term: its log density is 0 under every component and it adds nothing to the
 * statistics (R_k included, so that the mean trials m_k are those of the complete rows).
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_sf_gamma.h>
#include <mixem/family.h>

enum { R, S, F, C, NSTAT };

struct mixem_params {
  size_t k, d;
  size_t s_col;          /* column of successes */
  int n_col;             /* column of trials, or -1 */
  double n_const;        /* trials when n_col < 0 */
  double n_sample;       /* option sample_trials, or -1 */
  double *p;             /* k success probabilities */
  double *m;             /* k mean trials (n_col >= 0), -1 until known */
};

static const mixem_option_info options[] = {
  { "trials", "number of trials: the name of a data column, or one number for every row", NULL, MIXEM_OPTION_TEXT, NULL, NULL },
  { "sample_trials", "trials per drawn sample when 'trials' is a column (default: each "
                     "component's rounded mean number of trials in the fitted data)", NULL, MIXEM_OPTION_TEXT, NULL, NULL },
  { 0 }
};

/* The engine's starts: random rows as centres (each row joins the nearest centre, then one
 * M-step pools their trials), or random responsibilities.  "random" first, the default of init
 * "auto": screened by small-EM it reached flexmix's optimum in every binomial cell of
 * tests/reference/r_fixtures.lua (bench/r_cells.lua, seeds 0 to 3). */
static const char *const init_methods[] = { "random", "random_resp", NULL };

/* The most trials a row, the option or a component may have: 2^53, up to which doubles hold
 * every whole number and the sampler draws exactly (in distribution). */
#define MAX_TRIALS 9007199254740992.0

static gboolean
parse_count (const char *text, double *out)
{
  char *end = NULL;
  double v = g_ascii_strtod (text, &end);
  if (end == text || *end != '\0' || !isfinite (v) || v < 0 || v != floor (v) || v > MAX_TRIALS)
    return FALSE;
  *out = v;
  return TRUE;
}

static mixem_params *
params_new (const mixem_spec *spec, GError **error)
{
  const char *trials = mixem_options_get (spec->options, "trials");
  const char *st = mixem_options_get (spec->options, "sample_trials");
  mixem_params *p = g_new0 (mixem_params, 1);
  p->k = spec->k;
  p->d = spec->d;
  p->n_col = -1;
  p->p = g_new0 (double, spec->k);
  p->m = g_new (double, spec->k);
  for (size_t k = 0; k < spec->k; k++)
    p->m[k] = -1;
  if (!trials) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 "binomial: the option 'trials' is required (a column name, or one number)");
    goto fail;
  }
  for (size_t j = 0; j < spec->d; j++)
    if (strcmp (spec->names[j], trials) == 0)
      p->n_col = (int) j;
  if (p->n_col >= 0) {
    if (spec->d != 2) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                   "binomial: with trials in column '%s' the data need exactly 2 columns "
                   "(successes, trials), not %zu", trials, spec->d);
      goto fail;
    }
    p->s_col = p->n_col == 0 ? 1 : 0;
  } else {
    if (!parse_count (trials, &p->n_const)) {
      char *q = mixem_quote (trials, -1);
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                   "binomial: 'trials' = '%s' is neither a column nor a whole number from 0 to "
                   "2^53", q);
      g_free (q);
      goto fail;
    }
    if (spec->d != 1) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                   "binomial: with a constant number of trials the data need exactly 1 column "
                   "(successes), not %zu", spec->d);
      goto fail;
    }
    p->s_col = 0;
  }
  if (st && !parse_count (st, &p->n_sample)) {
    char *q = mixem_quote (st, -1);
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 "binomial: 'sample_trials' = '%s' is not a whole number from 0 to 2^53", q);
    g_free (q);
    goto fail;
  }
  if (!st)
    p->n_sample = -1;
  return p;
fail:
  g_free (p->p);
  g_free (p->m);
  g_free (p);
  return NULL;
}

static mixem_params *
params_copy (const mixem_params *p)
{
  mixem_params *c = g_memdup2 (p, sizeof *p);
  c->p = g_memdup2 (p->p, p->k * sizeof (double));
  c->m = g_memdup2 (p->m, p->k * sizeof (double));
  return c;
}

static void
params_free (mixem_params *p)
{
  if (!p)
    return;
  g_free (p->p);
  g_free (p->m);
  g_free (p);
}

static double
trials_of (const mixem_params *p, const double *row)
{
  return p->n_col >= 0 ? row[p->n_col] : p->n_const;
}

/* Whether row I of B has its successes or its trials missing (then it has no term). */
static inline gboolean
row_missing (const mixem_params *p, const mixem_block *b, size_t i)
{
  return b->missing && (b->missing[i * b->d + p->s_col]
                        || (p->n_col >= 0 && b->missing[i * b->d + (size_t) p->n_col]));
}

static gboolean
check_data (const mixem_params *p, const mixem_block *b, GError **error)
{
  for (size_t i = 0; i < b->n; i++) {
    const double *row = b->x + i * b->d;
    if (row_missing (p, b, i))
      continue;
    const double s = row[p->s_col], n = trials_of (p, row);
    if (p->n_col >= 0 && (n < 0 || n != floor (n) || n > MAX_TRIALS)) {
      mixem_set_cell_error (error, b, i, p->n_col,
                            "trials must be a whole number from 0 to 2^53 (got %g)", n);
      return FALSE;
    }
    if (s < 0 || s != floor (s)) {
      mixem_set_cell_error (error, b, i, p->s_col,
                            "successes must be a whole number >= 0 (got %g)", s);
      return FALSE;
    }
    if (s > n) {
      mixem_set_cell_error (error, b, i, p->s_col, "%g successes out of %g trials", s, n);
      return FALSE;
    }
  }
  return TRUE;
}

/* log C(n, s) for whole numbers 0 <= s <= n (checked by check_data). */
static double
log_choose (double n, double s)
{
  return gsl_sf_lngamma (n + 1.0) - gsl_sf_lngamma (s + 1.0) - gsl_sf_lngamma (n - s + 1.0);
}

/* a log b with 0 log 0 = 0, so that p = 0 or 1 stays exact where the data allow it. */
static double
xlogy (double a, double b)
{
  return a == 0.0 ? 0.0 : a * log (b);
}

static void
log_density (const mixem_params *p, const mixem_block *b, double *out)
{
  for (size_t i = 0; i < b->n; i++) {
    const double *row = b->x + i * b->d;
    if (row_missing (p, b, i)) {
      for (size_t k = 0; k < p->k; k++)
        out[i * p->k + k] = 0.0;
      continue;
    }
    const double s = row[p->s_col], n = trials_of (p, row), lc = log_choose (n, s);
    for (size_t k = 0; k < p->k; k++)
      out[i * p->k + k] = lc + xlogy (s, p->p[k]) + xlogy (n - s, 1.0 - p->p[k]);
  }
}

static size_t
stats_size (const mixem_params *p)
{
  return NSTAT * p->k;
}

static void
accumulate (const mixem_params *p, const mixem_block *b, const double *r, double *stats)
{
  for (size_t i = 0; i < b->n; i++) {
    const double *row = b->x + i * b->d;
    if (row_missing (p, b, i))
      continue;
    const double s = row[p->s_col], n = trials_of (p, row), lc = log_choose (n, s);
    for (size_t k = 0; k < p->k; k++) {
      const double rik = r[i * p->k + k];
      double *st = stats + NSTAT * k;
      st[R] += rik;
      st[S] += rik * s;
      st[F] += rik * (n - s);
      st[C] += rik * lc;
    }
  }
}

static gboolean
maximise (mixem_params *p, const double *stats, const gboolean *fixed, GError **error)
{
  for (size_t k = 0; k < p->k; k++) {
    const double *st = stats + NSTAT * k;
    if (fixed && fixed[k])
      continue;
    if (!(st[S] + st[F] > 0.0)) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_NUMERIC,
                   "binomial: component %zu has no trials left (weight %g): it is empty", k + 1,
                   st[R]);
      return FALSE;
    }
    p->p[k] = st[S] / (st[S] + st[F]);
    if (p->n_col >= 0)
      p->m[k] = round ((st[S] + st[F]) / st[R]);
  }
  return TRUE;
}

static double
expected_loglik (const mixem_params *p, const double *stats)
{
  double e = 0.0;
  for (size_t k = 0; k < p->k; k++) {
    const double *st = stats + NSTAT * k;
    e += st[C] + xlogy (st[S], p->p[k]) + xlogy (st[F], 1.0 - p->p[k]);
  }
  return e;
}

static size_t
n_free_params (const mixem_params *p)
{
  return p->k;
}

/* A Binomial(N, P) draw for any whole N up to 2^53.  Below 2^31 it is GSL's draw, as it always
 * was (gsl_ran_binomial takes an unsigned int).  Above, X, the A-th smallest of N uniforms, is a
 * Beta(A, N + 1 - A) draw that splits the count exactly (Knuth, TAOCP vol. 2, 3.4.1; Devroye,
 * Non-Uniform Random Variate Generation, X.4): if X >= P, the uniforms below P are among the
 * A - 1 below X, uniform on [0, X), so Binomial(A - 1, P / X) of them; else all A count, and the
 * N - A above X are uniform on (X, 1], so A + Binomial(N - A, (P - X) / (1 - X)).  A = N/2 + 1
 * halves N at each step. */
static double
draw_binomial (gsl_rng *rng, double prob, double n)
{
  double count = 0;
  while (n >= 2147483648.0) {
    if (!(prob > 0))
      return count;
    if (!(prob < 1))
      return count + n;
    const double a = floor (n / 2) + 1;
    const double x = gsl_ran_beta (rng, a, n + 1 - a);
    if (x >= prob) {
      n = a - 1;
      prob = MIN (1.0, prob / x);
    } else {
      count += a;
      n -= a;
      prob = MAX (0.0, MIN (1.0, (prob - x) / (1 - x)));
    }
  }
  return count + (double) gsl_ran_binomial (rng, prob, (unsigned int) n);
}

static void
sample (const mixem_params *p, size_t k, gsl_rng *rng, double *x)
{
  const double n = p->n_col < 0 ? p->n_const : p->n_sample >= 0 ? p->n_sample : MAX (p->m[k], 0.0);
  x[p->s_col] = draw_binomial (rng, p->p[k], n);
  if (p->n_col >= 0)
    x[p->n_col] = n;
}

static GVariant *
describe (const mixem_params *p, size_t k)
{
  GVariantDict d;
  g_variant_dict_init (&d, NULL);
  g_variant_dict_insert (&d, "p", "d", p->p[k]);
  if (p->n_col >= 0 && p->m[k] >= 0)
    g_variant_dict_insert (&d, "trials", "d", p->m[k]);
  return g_variant_dict_end (&d);
}

static gboolean
assign (mixem_params *p, size_t k, GVariant *dict, gboolean *complete, GError **error)
{
  static const char *const known[] = { "p", "trials", NULL };
  if (!mixem_dict_check_keys (dict, "binomial", known, error))
    return FALSE;
  double v;
  if (complete)
    *complete = TRUE;
  if (!mixem_dict_get_double (dict, "binomial", "p", &v, error))
    return FALSE;
  if (!(v >= 0.0 && v <= 1.0)) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT,
                 "binomial: 'p' must lie in [0, 1] (got %g)", v);
    return FALSE;
  }
  p->p[k] = v;
  GVariant *tv = g_variant_lookup_value (dict, "trials", NULL);
  if (tv) {
    double m;
    g_variant_unref (tv);
    if (!mixem_dict_get_double (dict, "binomial", "trials", &m, error))
      return FALSE;
    if (!(m >= 0) || m != floor (m) || m > MAX_TRIALS) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT,
                   "binomial: 'trials' must be a whole number from 0 to 2^53 (got %g)", m);
      return FALSE;
    }
    p->m[k] = m;
  }
  return TRUE;
}

/* Missing trials: component K's mean trials m_k (the constant when trials are an option);
 * missing successes: the trials times p_k.  (A row with trials missing has no term, so the
 * posterior behind these is the weights.) */
static void
impute_mean (const mixem_params *p, size_t k, const double *x, const unsigned char *missing,
             double *out)
{
  double n = p->n_const;
  if (p->n_col >= 0) {
    n = missing[p->n_col] ? p->m[k] : x[p->n_col];
    if (missing[p->n_col])
      out[p->n_col] = n;
  }
  if (missing[p->s_col])
    out[p->s_col] = n * p->p[k];
}

G_MODULE_EXPORT const mixem_family mixem_family_entry = {
  .abi_version = MIXEM_FAMILY_ABI_VERSION,
  .size = MIXEM_FAMILY_SIZE,
  .name = "binomial",
  .summary = "successes out of trials, one success probability per component",
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
