/* multinomial.c: the multinomial family, the mixture of unigrams (Nigam et al., Machine Learning
 * 39:103-134, 2000).  Each row holds counts x_1 .. x_L over L >= 2 categories (a document as a
 * bag of words, one column per word), with n = sum_l x_l > 0 trials; component k has category
 * probabilities p_k1 .. p_kL summing to 1, and
 *
 *   log p(x | p_k) = log n! - sum_l log x_l! + sum_l x_l log p_kl
 *
 * The multinomial coefficient is included (as R's dmultinom and SciPy's multinomial.logpmf do),
 * so the log-likelihood is that of the counts; it does not depend on the parameters.  A block's
 * log-densities are one matrix product, X log(P)' plus the coefficients.
 *
 * Statistics of component k under weighted responsibilities r_ik (2 + L doubles):
 *   R_k = sum_i r_ik,  C_k = sum_i r_ik (log n_i! - sum_l log x_il!),  S_kl = sum_i r_ik x_il
 * (S for the block is the matrix product R' X).
 * M-step, the mode of the posterior under a symmetric Dirichlet(1 + c) prior, c = the option
 * pseudo_count (default 0: maximum likelihood; 1 is Laplace's add-one smoothing):
 *   w_kl = S_kl + c,   p_kl = w_kl / sum_m w_km
 * then every probability is kept >= eps (option, default 1e-10) by the exact maximiser of
 * sum_l w_kl log p_kl over { p : sum p = 1, p >= eps }: the categories whose w_kl / W falls
 * below eps are set to eps and the rest rescaled, p_kl = w_kl (1 - |F| eps) / (W - w_F), repeated
 * until no more fall below (the rescaling only lowers the others, so the set F only grows; the
 * KKT conditions of the concave problem then hold).
 * Expected complete log-likelihood:  sum_k C_k + sum_l S_kl log p_kl.
 * Free parameters: K (L - 1) (the engine adds K - 1 weights).
 *
 * Degenerate cases.  A category absent from every row of a component would have p_kl = 0 and
 * log p_kl = -inf, so that one occurrence elsewhere makes the row impossible under it: the floor
 * eps keeps it at eps (log 1e-10 = -23 nats a count), finite, and a fitted model can be written
 * to a file and given back as a start.  An empty component (R_k = 0 and no pseudo-counts) is the
 * error the engine expects of maximise: the engine keeps it at weight 0 with a warning (or, with
 * strict_empty, fails).  Bad input: counts must be whole numbers >= 0, and a row of zeros (no
 * trial: its density is 1 under every component, it says nothing) is refused, each error naming
 * the file, row and column.
 *
 * Each component also keeps "size", the rounded mean number of trials of its rows
 * (sum_l S_kl / R_k), which sample() draws with (unless the option sample_size is given) and
 * describe() reports; it is not a free parameter.  Sampling uses GSL's gsl_ran_multinomial, whose
 * number of trials is an unsigned int: sizes are kept in [1, 2^32 - 1].
 *
 * Starts: "random_resp" by default (random responsibilities, then one M-step).  The engine's
 * k-means starts measure Euclidean distances between count vectors, which group documents by
 * length more than by content; they remain available.  Measured on data/licenses_bow.csv with
 * K = 4, one start each for seeds 1..20: the median log-likelihood reached was -6548.1 from
 * random_resp, -6702.6 from kmeans, -6710.1 from random and -6732.6 from kmeans++, and the worst
 * -6728.5, -6832.5, -7016.6 and -6948.8 (the best, -6440.9, came from random: restarts matter).
 */
#include <float.h>
#include <math.h>
#include <string.h>
#include <gsl/gsl_cblas.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_sf_gamma.h>
#include <mixem/family.h>

#define LFACT_TABLE 1024        /* log(x!) tabulated for 0 <= x < LFACT_TABLE */
#define MAX_SIZE 4294967295.0   /* gsl_ran_multinomial's trials are an unsigned int */

struct mixem_params {
  size_t k, d;
  double c, eps, n_sample;  /* pseudo_count, eps, sample_size (0: each component's size) */
  double *p;                /* k*d probabilities */
  double *logp;             /* k*d: log p */
  double *size;             /* k: rounded mean trials of the component's rows, -1 until known */
  double *lfact;            /* LFACT_TABLE values of log(x!) */
};

static const mixem_option_info options[] = {
  { "pseudo_count", "added to every category's count in the M-step (a Dirichlet(1 + c) prior; "
    "0: maximum likelihood, 1: add-one smoothing)", "0", MIXEM_OPTION_NUMBER, "[0, 1e9]", NULL },
  { "eps", "probabilities are kept >= eps, so that log p stays finite", "1e-10",
    MIXEM_OPTION_NUMBER, "(0, 0.01]", NULL },
  { "sample_size", "trials per drawn row (0: each component's rounded mean number of trials in "
    "the fitted data)", "0", MIXEM_OPTION_INTEGER, "[0, 4294967295]", NULL },
  { 0 }
};

static const char *const init_methods[] = { "random_resp", "random", "kmeans", "kmeans++", NULL };

static void
refresh (mixem_params *p, size_t k)
{
  for (size_t j = 0; j < p->d; j++)
    p->logp[k * p->d + j] = log (p->p[k * p->d + j]);
}

/* Sets OUT to the maximiser of sum_l W_l log p_l over { p : sum p = 1, p >= EPS }, W_l >= 0 with
 * a positive sum (see the header).  L EPS < 1 is checked at setup. */
static void
floor_project (const double *w, size_t L, double eps, double *out)
{
  gboolean *low = g_new0 (gboolean, L);
  size_t nlow = 0;
  for (;;) {
    double free_w = 0.0;
    for (size_t l = 0; l < L; l++)
      if (!low[l])
        free_w += w[l];
    const double scale = (1.0 - (double) nlow * eps) / free_w;
    size_t more = 0;
    for (size_t l = 0; l < L; l++)
      if (!low[l] && w[l] * scale < eps) {
        low[l] = TRUE;
        more++;
      }
    if (more == 0) {
      for (size_t l = 0; l < L; l++)
        out[l] = low[l] ? eps : w[l] * scale;
      break;
    }
    nlow += more;
  }
  g_free (low);
}

static mixem_params *
params_new (const mixem_spec *spec, GError **error)
{
  const double c = mixem_options_get_number (spec->options, "pseudo_count", 0.0);
  const double eps = mixem_options_get_number (spec->options, "eps", 1e-10);
  const double ns = mixem_options_get_number (spec->options, "sample_size", 0.0);
  if (spec->d < 2) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA,
                 "multinomial: the data need at least 2 columns (categories), not %zu", spec->d);
    return NULL;
  }
  if (!((double) spec->d * eps < 1.0)) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 "multinomial: eps = %g is too large for %zu categories (eps times the number "
                 "of categories must be below 1)", eps, spec->d);
    return NULL;
  }
  /* k and d come from input (a model file): k * d is checked before it is allocated. */
  double need = 0.0;
  double *prob = mixem_try_alloc0 (spec->k, spec->d * sizeof (double), &need);
  double *logp = prob ? mixem_try_alloc0 (spec->k * spec->d, sizeof (double), NULL) : NULL;
  if (!logp) {
    char *sz = mixem_format_bytes (2.0 * need);
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "multinomial: the model needs %s for "
                 "k = %zu, d = %zu (more than this machine has)", sz, spec->k, spec->d);
    g_free (sz);
    g_free (prob);
    return NULL;
  }
  mixem_params *p = g_new0 (mixem_params, 1);
  p->k = spec->k;
  p->d = spec->d;
  p->c = c;
  p->eps = eps;
  p->n_sample = ns;
  p->p = prob;
  p->logp = logp;
  p->size = g_new (double, p->k);
  p->lfact = g_new (double, LFACT_TABLE);
  for (size_t i = 0; i < p->k * p->d; i++)
    p->p[i] = 1.0 / (double) p->d;
  for (size_t k = 0; k < p->k; k++) {
    p->size[k] = -1.0;
    refresh (p, k);
  }
  for (size_t x = 0; x < LFACT_TABLE; x++)
    p->lfact[x] = gsl_sf_lngamma ((double) x + 1.0);
  p->lfact[0] = p->lfact[1] = 0.0;      /* exactly: log_coef adds them for every count of 0 or 1 */
  return p;
}

static mixem_params *
params_copy (const mixem_params *p)
{
  mixem_params *c = g_memdup2 (p, sizeof *p);
  c->p = g_memdup2 (p->p, p->k * p->d * sizeof (double));
  c->logp = g_memdup2 (p->logp, p->k * p->d * sizeof (double));
  c->size = g_memdup2 (p->size, p->k * sizeof (double));
  c->lfact = g_memdup2 (p->lfact, LFACT_TABLE * sizeof (double));
  return c;
}

static void
params_free (mixem_params *p)
{
  if (!p)
    return;
  g_free (p->p);
  g_free (p->logp);
  g_free (p->size);
  g_free (p->lfact);
  g_free (p);
}

static gboolean
check_data (const mixem_params *p, const mixem_block *b, GError **error)
{
  (void) p;
  for (size_t i = 0; i < b->n; i++) {
    double n = 0.0;
    for (size_t j = 0; j < b->d; j++) {
      const double v = b->x[i * b->d + j];
      if (!isfinite (v) || v < 0.0 || v != floor (v)) {
        mixem_set_cell_error (error, b, i, j,
                              "multinomial counts must be whole numbers >= 0 (got %g)", v);
        return FALSE;
      }
      n += v;
    }
    if (!(n > 0.0)) {
      mixem_set_cell_error (error, b, i, 0, "a row of zeros: a multinomial row needs at least "
                            "one count in its %zu columns", b->d);
      return FALSE;
    }
  }
  return TRUE;
}

/* log(x!) for a whole number x >= 0 (checked by check_data). */
static inline double
log_factorial (const mixem_params *p, double x)
{
  return x < LFACT_TABLE ? p->lfact[(size_t) x] : gsl_sf_lngamma (x + 1.0);
}

/* log n! - sum_l log x_l! of one row.  The table's lookups take no branch per count (counts of
 * bag-of-words rows are mostly 0 and 1 at random, which a branch mispredicts: this was 64% of an
 * iteration on bench/families.sh's M1); log 0! = log 1! = 0 exactly, so the sum is the same as
 * over the counts above 1 alone.  A count beyond the table sends the row to lgamma. */
static double
log_coef (const mixem_params *p, const double *row)
{
  double n = 0.0, s = 0.0;
  gboolean big = FALSE;
  for (size_t j = 0; j < p->d; j++) {
    const double x = row[j];
    const gboolean in = x < LFACT_TABLE;
    n += x;
    big |= !in;
    s += p->lfact[in ? (size_t) x : 0];
  }
  if (G_UNLIKELY (big)) {
    s = 0.0;
    for (size_t j = 0; j < p->d; j++)
      if (row[j] > 1.0)
        s += log_factorial (p, row[j]);
  }
  return log_factorial (p, n) - s;
}

static void
log_density (const mixem_params *p, const mixem_block *b, double *out)
{
  const size_t n = b->n, K = p->k;
  for (size_t i = 0; i < n; i++) {
    const double c = log_coef (p, b->x + i * b->d);
    for (size_t k = 0; k < K; k++)
      out[i * K + k] = c;
  }
  /* out (n*K) += X (n*L) log(P)' (L*K) */
  cblas_dgemm (CblasRowMajor, CblasNoTrans, CblasTrans, (int) n, (int) K, (int) p->d, 1.0, b->x,
               (int) b->d, p->logp, (int) p->d, 1.0, out, (int) K);
}

static size_t
stats_size (const mixem_params *p)
{
  return p->k * (2 + p->d);
}

/* Layout: R (k values), C (k values), then S (k*L). */
static void
accumulate (const mixem_params *p, const mixem_block *b, const double *r, double *stats)
{
  const size_t n = b->n, K = p->k;
  for (size_t i = 0; i < n; i++) {
    const double c = log_coef (p, b->x + i * b->d);
    for (size_t k = 0; k < K; k++) {
      stats[k] += r[i * K + k];
      stats[K + k] += r[i * K + k] * c;
    }
  }
  /* S (K*L) += R' (K*n) X (n*L) */
  cblas_dgemm (CblasRowMajor, CblasTrans, CblasNoTrans, (int) K, (int) p->d, (int) n, 1.0, r,
               (int) K, b->x, (int) b->d, 1.0, stats + 2 * K, (int) p->d);
}

static gboolean
maximise (mixem_params *p, const double *stats, const gboolean *fixed, GError **error)
{
  const size_t K = p->k, L = p->d;
  double *w = g_new (double, L);
  gboolean ok = TRUE;
  for (size_t k = 0; k < K; k++) {
    if (fixed && fixed[k])
      continue;
    const double *s = stats + 2 * K + k * L;
    double total = 0.0, trials = 0.0;
    for (size_t l = 0; l < L; l++) {
      w[l] = s[l] + p->c;
      total += w[l];
      trials += s[l];
    }
    if (!(stats[k] > 0.0) || !(total > 0.0) || !isfinite (total)) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_NUMERIC,
                   "multinomial: component %zu is empty (weight %g, %g counts)", k + 1, stats[k],
                   trials);
      ok = FALSE;
      break;
    }
    floor_project (w, L, p->eps, p->p + k * L);
    refresh (p, k);
    p->size[k] = CLAMP (round (trials / stats[k]), 1.0, MAX_SIZE);
  }
  g_free (w);
  return ok;
}

static double
expected_loglik (const mixem_params *p, const double *stats)
{
  const size_t K = p->k, L = p->d;
  double e = 0.0;
  for (size_t k = 0; k < K; k++) {
    e += stats[K + k];
    for (size_t l = 0; l < L; l++)
      e += stats[2 * K + k * L + l] * p->logp[k * L + l];
  }
  return e;
}

static size_t
n_free_params (const mixem_params *p)
{
  return p->k * (p->d - 1);
}

static void
sample (const mixem_params *p, size_t k, gsl_rng *rng, double *x)
{
  const double n = p->n_sample > 0 ? p->n_sample : MAX (p->size[k], 1.0);
  unsigned int *c = g_new (unsigned int, p->d);
  gsl_ran_multinomial (rng, p->d, (unsigned int) n, p->p + k * p->d, c);
  for (size_t l = 0; l < p->d; l++)
    x[l] = (double) c[l];
  g_free (c);
}

static GVariant *
describe (const mixem_params *p, size_t k)
{
  GVariantDict d;
  g_variant_dict_init (&d, NULL);
  g_variant_dict_insert_value (&d, "prob", mixem_variant_vector (p->p + k * p->d, p->d));
  if (p->size[k] >= 1.0)
    g_variant_dict_insert (&d, "size", "d", p->size[k]);
  return g_variant_dict_end (&d);
}

/* Sets component K from DICT: "prob", L probabilities in [0, 1] that sum to 1 within 1e-6 (a
 * start typed by hand); those below eps are raised to it by the M-step's projection; "size"
 * (optional) a whole number of trials.  A bad value leaves the component as it was. */
static gboolean
assign (mixem_params *p, size_t k, GVariant *dict, gboolean *complete, GError **error)
{
  static const char *const known[] = { "prob", "size", NULL };
  if (!mixem_dict_check_keys (dict, "multinomial", known, error))
    return FALSE;
  const size_t L = p->d;
  double *a = g_new (double, L);
  gboolean found = FALSE, ok = TRUE;
  double size = p->size[k];
  if (!mixem_dict_get_vector (dict, "multinomial", "prob", L, a, &found, error) && found)
    ok = FALSE;
  double sum = 0.0, low = INFINITY;
  for (size_t l = 0; ok && found && l < L; l++) {
    if (!(a[l] >= 0.0 && a[l] <= 1.0)) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT,
                   "multinomial: 'prob' must be in [0, 1] (got %g at entry %zu)", a[l], l + 1);
      ok = FALSE;
    }
    sum += a[l];
    low = MIN (low, a[l]);
  }
  if (ok && found && !(fabs (sum - 1.0) <= 1e-6)) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT,
                 "multinomial: 'prob' must sum to 1 (got %.10g)", sum);
    ok = FALSE;
  }
  GVariant *sv = ok ? g_variant_lookup_value (dict, "size", NULL) : NULL;
  if (sv) {
    g_variant_unref (sv);
    ok = mixem_dict_get_double (dict, "multinomial", "size", &size, error);
    if (ok && !(size >= 1.0 && size <= MAX_SIZE && size == floor (size))) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT,
                   "multinomial: 'size' must be a whole number from 1 to 2^32 - 1 (got %g)", size);
      ok = FALSE;
    }
  }
  if (ok) {
    if (found) {
      if (low < p->eps)
        floor_project (a, L, p->eps, p->p + k * L);
      else
        memcpy (p->p + k * L, a, L * sizeof (double));
      refresh (p, k);
    }
    p->size[k] = size;
  }
  if (complete)
    *complete = found;
  g_free (a);
  return ok;
}

G_MODULE_EXPORT const mixem_family mixem_family_entry = {
  .abi_version = MIXEM_FAMILY_ABI_VERSION,
  .size = MIXEM_FAMILY_SIZE,
  .name = "multinomial",
  .summary = "counts over L categories per row (bags of words), one probability per category "
             "and component",
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
};
