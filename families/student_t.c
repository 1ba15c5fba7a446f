/* student_t.c: the multivariate Student t family, with a full or a diagonal scale matrix and the
 * degrees of freedom fixed or estimated per component, fitted by the ECM algorithm of Peel and
 * McLachlan, "Robust mixture modelling using the t distribution", Statistics and Computing
 * 10:339-348 (2000); McLachlan and Peel, Finite Mixture Models (2000), section 7.5.
 *
 * Density of component k, with mean mu, scale S = L L' (Cholesky) and nu degrees of freedom, in
 * D dimensions, delta = (x - mu)' S^-1 (x - mu) = |L^-1 (x - mu)|^2:
 *
 *   log p(x) = lgamma((nu + D)/2) - lgamma(nu/2) - D/2 log(nu pi) - 1/2 log det S
 *              - (nu + D)/2 log(1 + delta/nu)
 *
 * The t is a scale mixture of normals: x | u ~ N(mu, S/u), u ~ Gamma(nu/2, rate nu/2).  Given the
 * row and its component, u has the posterior Gamma((nu + D)/2, rate (nu + delta)/2), so that
 *   E[u | x] = u_ik = (nu + D)/(nu + delta_ik),
 *   E[log u | x] = log u_ik + psi((nu + D)/2) - log((nu + D)/2).
 * The statistics therefore depend on the current parameters: accumulate() sees them (it is given
 * the same parameters as the log-densities of its pass) and computes u_ik itself.  Statistics of
 * component k under weighted responsibilities r_ik, about c = mu_k (the current mean):
 *   R = sum r,  U = sum r u,  A = sum r (E[log u] - E[u]),  F = sum r [the component is unset],
 *   Rc = R c,  S1 = sum r u (x - c),  S2 = sum r u (x - c)(x - c)'   (its diagonal for diag).
 * CM-steps (Peel and McLachlan, eqs. 30-31 and 34): with m = S1/U,
 *   mu' = c + m,   S' = (S2 - U m m')/R + reg_covar I   (diag: the diagonal of it),
 *   nu' solves  1 + A/R - psi(nu/2) + log(nu/2) = 0,
 * by Brent's method (GSL) on [DF_MIN, df_max].  The left side falls from +inf at nu -> 0 to
 * 1 + A/R <= 0 as nu -> inf (log y - y <= -1), so the root is unique when it exists.  Because the
 * expected complete-data log-likelihood separates into a part in (mu, S) and a part in nu, both
 * maximised, each iteration is an EM step for the t likelihood and the observed log-likelihood
 * never falls (the conformance suite checks it).
 *
 * Degrees of freedom without bound: when the rows of a component are no heavier-tailed than a
 * normal's, the equation has no root (or one beyond any useful value) and nu grows without bound;
 * the t tends to the normal N(mu, S).  nu is kept at or below df_max (option, default 200, as
 * teigen caps its df updates), where the t's log-density differs from the normal's by O(D^2/nu)
 * per row: tests/lua/test_student_t.lua checks that on Gaussian data every component reaches
 * df_max and the fit agrees with the gaussian family's.  nu is kept at or above DF_MIN = 0.01:
 * a component that holds a few scattered gross outliers and little else drives nu down to it
 * (scripts/heavy_tails.lua shows one on iris), a background component rather than a cluster.
 *
 * The expected complete-data log-likelihood in the sense the engine's ELBO needs,
 * sum_ik r_ik log p(x_i | theta_k) at the new parameters, is not a function of statistics
 * gathered at the old ones (log(1 + delta/nu) is not linear in anything that can be summed
 * beforehand), so expected_loglik is left NULL: the engine keeps the responsibilities and takes
 * the term from the next pass, which makes log p(X) = ELBO + KL exact.
 *
 * Starts: the engine's (kmeans by default, on standardised columns).  A start gives
 * responsibilities to parameters that are not set yet: a component not set by a start, the
 * M-step or assign() takes u = 1 (the Gaussian M-step) and nu = df_start (option, default 50, as
 * teigen's dfstart), or the fixed df.
 * Free parameters per component: D means, D(D+1)/2 (full) or D (diag) scales, and nu when it is
 * estimated.  Sampling: x = mu + L z / sqrt(w), z ~ N(0, I), w ~ Gamma(nu/2, scale 2/nu).
 */
#include <math.h>
#include <string.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_roots.h>
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_sf_psi.h>
#include <mixem/family.h>

#define DF_MIN 0.01

struct mixem_params {
  size_t k, d;
  gboolean diag;       /* a diagonal scale matrix */
  gboolean estimate;   /* nu estimated, else fixed at df_fixed */
  double df_fixed, df_start, df_max, reg;
  double *mean;        /* k*d */
  double *scale;       /* k*d*d (full), k*d (diag) */
  double *fac;         /* its Cholesky factor L (lower), or the square roots of the diagonal */
  double *df;          /* k */
  double *cst;         /* k: the log-density at delta = 0 */
  gboolean *set;       /* k: parameters set by a start, the M-step or assign */
};

static const char *const cov_choices[] = { "full", "diag", NULL };

static const mixem_option_info options[] = {
  { "covariance", "scale matrix: full or diag", "full", MIXEM_OPTION_CHOICE, NULL, cov_choices },
  { "df", "degrees of freedom: 'estimate' (per component) or a fixed number > 0", "estimate",
    MIXEM_OPTION_TEXT, NULL, NULL },
  { "df_start", "degrees of freedom of a start, when estimated (teigen's dfstart)", "50",
    MIXEM_OPTION_NUMBER, "(0, inf)", NULL },
  { "df_max", "estimated degrees of freedom are kept <= df_max (the t tends to the normal)", "200",
    MIXEM_OPTION_NUMBER, "[1, inf)", NULL },
  { "reg_covar", "added to the diagonal of every scale matrix, as gaussian's", "1e-6",
    MIXEM_OPTION_NUMBER, "[0, inf)", NULL },
  { 0 }
};

/* "random" first, the default of init "auto", as gaussian's: on two clusters with six gross
 * outliers (tests/lua/test_student_t.lua), random rows screened by small-EM reached the robust
 * optimum (-1287.6, ARI 0.98) while every k-means start stopped at -1524.1, the outliers a
 * component of their own. */
static const char *const init_methods[] = { "random", "kmeans", "kmeans++", "random_resp", NULL };

static size_t
scale_len (const mixem_params *p)
{
  return p->diag ? p->d : p->d * p->d;
}

static void params_free (mixem_params *p);

static mixem_params *
params_new (const mixem_spec *spec, GError **error)
{
  const char *cv = mixem_options_get (spec->options, "covariance");
  const char *dfs = mixem_options_get (spec->options, "df");
  gboolean estimate = TRUE;
  double df_fixed = 0.0;
  if (dfs && strcmp (dfs, "estimate") != 0) {
    char *end = NULL;
    df_fixed = g_ascii_strtod (dfs, &end);
    if (end == dfs || *end || !isfinite (df_fixed) || !(df_fixed > 0.0)) {
      char *q = mixem_quote (dfs, -1);
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                   "student_t: option 'df' = '%s' is neither 'estimate' nor a finite number > 0",
                   q);
      g_free (q);
      return NULL;
    }
    estimate = FALSE;
  }
  const size_t k = spec->k, d = spec->d;
  const gboolean diag = cv && strcmp (cv, "diag") == 0;
  const double need = 8.0 * ((double) k * (double) d * (diag ? 3.0 : 1.0 + 2.0 * (double) d)
                             + 4.0 * (double) k);
  if (!mixem_alloc_fits (need)) {
    char *size = mixem_format_bytes (need);
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "student_t: the model needs %s for "
                 "k = %zu, d = %zu (more than this machine has)", size, k, d);
    g_free (size);
    return NULL;
  }
  mixem_params *p = g_new0 (mixem_params, 1);
  p->k = k;
  p->d = d;
  p->diag = diag;
  p->estimate = estimate;
  p->df_fixed = df_fixed;
  p->df_start = estimate ? mixem_options_get_number (spec->options, "df_start", 50.0) : df_fixed;
  p->df_max = mixem_options_get_number (spec->options, "df_max", 200.0);
  p->reg = mixem_options_get_number (spec->options, "reg_covar", 1e-6);
  p->mean = g_new0 (double, k * d);
  p->scale = g_new0 (double, k * scale_len (p));
  p->fac = g_new0 (double, k * scale_len (p));
  p->df = g_new (double, k);
  p->cst = g_new0 (double, k);
  p->set = g_new0 (gboolean, k);
  /* Identity scales until a start or assign() says otherwise. */
  for (size_t c = 0; c < k; c++) {
    for (size_t j = 0; j < d; j++) {
      const size_t at = c * scale_len (p) + (diag ? j : j * d + j);
      p->scale[at] = p->fac[at] = 1.0;
    }
    p->df[c] = p->df_start;
  }
  return p;
}

static mixem_params *
params_copy (const mixem_params *p)
{
  mixem_params *c = g_memdup2 (p, sizeof *p);
  c->mean = g_memdup2 (p->mean, p->k * p->d * sizeof (double));
  c->scale = g_memdup2 (p->scale, p->k * scale_len (p) * sizeof (double));
  c->fac = g_memdup2 (p->fac, p->k * scale_len (p) * sizeof (double));
  c->df = g_memdup2 (p->df, p->k * sizeof (double));
  c->cst = g_memdup2 (p->cst, p->k * sizeof (double));
  c->set = g_memdup2 (p->set, p->k * sizeof (gboolean));
  return c;
}

static void
params_free (mixem_params *p)
{
  if (!p)
    return;
  g_free (p->mean);
  g_free (p->scale);
  g_free (p->fac);
  g_free (p->df);
  g_free (p->cst);
  g_free (p->set);
  g_free (p);
}

/* Factors component K's scale matrix (already in p->scale) and refreshes its constant.  FALSE
 * when it is not positive definite. */
static gboolean
factor (mixem_params *p, size_t k)
{
  const size_t d = p->d, len = scale_len (p);
  const double *s = p->scale + k * len;
  double *f = p->fac + k * len, logdet = 0.0;
  if (p->diag) {
    for (size_t j = 0; j < d; j++) {
      if (!(s[j] > 0.0) || !isfinite (s[j]))
        return FALSE;
      f[j] = sqrt (s[j]);
      logdet += log (s[j]);
    }
  } else {
    double *tmp = g_memdup2 (s, len * sizeof (double));
    gsl_matrix_view m = gsl_matrix_view_array (tmp, d, d);
    gboolean ok = gsl_linalg_cholesky_decomp1 (&m.matrix) == GSL_SUCCESS;
    for (size_t j = 0; ok && j < d; j++) {
      ok = tmp[j * d + j] > 0.0 && isfinite (tmp[j * d + j]);
      logdet += 2.0 * log (tmp[j * d + j]);
    }
    if (!ok) {
      g_free (tmp);
      return FALSE;
    }
    for (size_t i = 0; i < d; i++)   /* keep L lower-triangular: zero what GSL left above */
      for (size_t j = 0; j < d; j++)
        f[i * d + j] = j <= i ? tmp[i * d + j] : 0.0;
    g_free (tmp);
  }
  const double nu = p->df[k], D = (double) d;
  p->cst[k] = gsl_sf_lngamma (0.5 * (nu + D)) - gsl_sf_lngamma (0.5 * nu)
              - 0.5 * D * log (nu * G_PI) - 0.5 * logdet;
  return TRUE;
}

/* delta = |L^-1 (x - mu)|^2 for component K, and y = x - mu in Y. */
static double
mahalanobis (const mixem_params *p, size_t k, const double *x, double *y, double *z)
{
  const size_t d = p->d;
  const double *mu = p->mean + k * d, *f = p->fac + k * scale_len (p);
  double delta = 0.0;
  for (size_t j = 0; j < d; j++)
    y[j] = x[j] - mu[j];
  if (p->diag) {
    for (size_t j = 0; j < d; j++) {
      const double t = y[j] / f[j];
      delta += t * t;
    }
    return delta;
  }
  for (size_t i = 0; i < d; i++) {   /* forward substitution L z = y */
    double s = y[i];
    for (size_t j = 0; j < i; j++)
      s -= f[i * d + j] * z[j];
    z[i] = s / f[i * d + i];
    delta += z[i] * z[i];
  }
  return delta;
}

static gboolean
check_data (const mixem_params *p, const mixem_block *b, GError **error)
{
  (void) p;
  for (size_t i = 0; i < b->n; i++)
    for (size_t j = 0; j < b->d; j++)
      if (!isfinite (b->x[i * b->d + j])) {
        mixem_set_cell_error (error, b, i, j, "student_t: values must be finite (got %g)",
                              b->x[i * b->d + j]);
        return FALSE;
      }
  return TRUE;
}

static void
log_density (const mixem_params *p, const mixem_block *b, double *out)
{
  const size_t K = p->k, d = p->d;
  double *y = g_new (double, 2 * (d ? d : 1)), *z = y + d;
  for (size_t i = 0; i < b->n; i++)
    for (size_t k = 0; k < K; k++) {
      const double delta = mahalanobis (p, k, b->x + i * b->d, y, z), nu = p->df[k];
      out[i * K + k] = p->cst[k] - 0.5 * (nu + (double) d) * log1p (delta / nu);
    }
  g_free (y);
}

static size_t
stat_len (const mixem_params *p)
{
  return 4 + 2 * p->d + scale_len (p);
}

static size_t
stats_size (const mixem_params *p)
{
  return p->k * stat_len (p);
}

/* Layout per component: R, U, A, F, Rc (d), S1 (d), S2 (d*d, upper triangle, or d). */
static void
accumulate (const mixem_params *p, const mixem_block *b, const double *r, double *stats)
{
  const size_t K = p->k, d = p->d;
  double *y = g_new (double, 2 * (d ? d : 1)), *z = y + d;
  for (size_t k = 0; k < K; k++) {
    double *st = stats + k * stat_len (p), *rc = st + 4, *s1 = rc + d, *s2 = s1 + d;
    const double nu = p->df[k], D = (double) d, *mu = p->mean + k * d;
    const double elog = gsl_sf_psi (0.5 * (nu + D)) - log (0.5 * (nu + D));
    const gboolean set = p->set[k];
    for (size_t i = 0; i < b->n; i++) {
      const double rik = r[i * K + k];
      if (rik == 0.0)
        continue;
      const double delta = mahalanobis (p, k, b->x + i * b->d, y, z);
      const double u = set ? (nu + D) / (nu + delta) : 1.0, ru = rik * u;
      st[0] += rik;
      st[1] += ru;
      if (set)
        st[2] += rik * (log (u) + elog - u);
      else
        st[3] += rik;
      for (size_t j = 0; j < d; j++) {
        rc[j] += rik * mu[j];
        s1[j] += ru * y[j];
      }
      if (p->diag)
        for (size_t j = 0; j < d; j++)
          s2[j] += ru * y[j] * y[j];
      else
        for (size_t a = 0; a < d; a++)
          for (size_t j = a; j < d; j++)
            s2[a * d + j] += ru * y[a] * y[j];
    }
  }
  g_free (y);
}

/* Statistics gathered about the centres c_k = Rc / R (the means of their pass) moved to P's
 * means, with e = mu_k - c_k and the same responsibilities and weights u (the q of the rows and
 * of their latent scales is kept, only the centre moves):
 *   S1' = S1 - U e,   S2' = S2 - e S1' - S1 e' + U e e',   Rc' = R mu_k,
 * so that incremental and online EM can add statistics gathered at different parameters
 * (without it mu' = Rc/R + S1/U mixes centres weighted by R with sums weighted by U). */
static void
stats_rebase (const mixem_params *p, double *stats)
{
  const size_t d = p->d;
  double *e = g_new (double, 2 * (d ? d : 1)), *g = e + d;
  for (size_t k = 0; k < p->k; k++) {
    const double *mk = p->mean + k * d;
    double *st = stats + k * stat_len (p), *rc = st + 4, *s1 = rc + d, *s2 = s1 + d;
    const double R = st[0], U = st[1];
    if (!(R > 0.0) || !p->set[k])
      continue;   /* no rows (all sums 0), or no mean to move to yet */
    for (size_t j = 0; j < d; j++) {
      e[j] = mk[j] - rc[j] / R;
      g[j] = s1[j];
      rc[j] = R * mk[j];
      s1[j] = g[j] - U * e[j];
    }
    if (p->diag)
      for (size_t j = 0; j < d; j++)
        s2[j] += -2.0 * e[j] * g[j] + U * e[j] * e[j];
    else
      for (size_t a = 0; a < d; a++)   /* the upper triangle, as maximise reads it */
        for (size_t j = a; j < d; j++)
          s2[a * d + j] += -e[a] * g[j] - g[a] * e[j] + U * e[a] * e[j];
  }
  g_free (e);
}

/* 1 + a - psi(nu/2) + log(nu/2): the score of the degrees of freedom, decreasing in nu. */
static double
df_score (double nu, void *data)
{
  const double a = *(const double *) data;
  return 1.0 + a - gsl_sf_psi (0.5 * nu) + log (0.5 * nu);
}

/* The root of df_score in [DF_MIN, df_max], or the end the score's sign points to. */
static double
solve_df (double a, double df_max)
{
  gsl_function fn = { df_score, &a };
  if (df_score (df_max, &a) >= 0.0)
    return df_max;   /* no root below the cap: nu grows without bound (see the header) */
  if (df_score (DF_MIN, &a) <= 0.0)
    return DF_MIN;
  gsl_root_fsolver *s = gsl_root_fsolver_alloc (gsl_root_fsolver_brent);
  gsl_root_fsolver_set (s, &fn, DF_MIN, df_max);
  double root = 0.5 * (DF_MIN + df_max);
  for (int it = 0; it < 500; it++) {
    if (gsl_root_fsolver_iterate (s) != GSL_SUCCESS)
      break;
    root = gsl_root_fsolver_root (s);
    const double lo = gsl_root_fsolver_x_lower (s), hi = gsl_root_fsolver_x_upper (s);
    if (gsl_root_test_interval (lo, hi, 0.0, 1e-15) == GSL_SUCCESS)
      break;
  }
  gsl_root_fsolver_free (s);
  return root;
}

static gboolean
maximise (mixem_params *p, const double *stats, const gboolean *fixed, GError **error)
{
  const size_t d = p->d, len = scale_len (p);
  double *m = g_new (double, d ? d : 1);
  gboolean ok = TRUE;
  for (size_t k = 0; k < p->k && ok; k++) {
    if (fixed && fixed[k])
      continue;
    const double *st = stats + k * stat_len (p), *rc = st + 4, *s1 = rc + d, *s2 = s1 + d;
    const double R = st[0], U = st[1];
    if (!(R > 0.0) || !(U > 0.0)) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_NUMERIC,
                   "student_t: component %zu is empty (weight %g)", k + 1, R);
      ok = FALSE;
      break;
    }
    double *mu = p->mean + k * d, *s = p->scale + k * len;
    for (size_t j = 0; j < d; j++) {
      m[j] = s1[j] / U;
      mu[j] = rc[j] / R + m[j];
    }
    if (p->diag)
      for (size_t j = 0; j < d; j++)
        s[j] = MAX ((s2[j] - U * m[j] * m[j]) / R, 0.0) + p->reg;
    else {
      for (size_t a = 0; a < d; a++)
        for (size_t j = a; j < d; j++)
          s[a * d + j] = s[j * d + a] = (s2[a * d + j] - U * m[a] * m[j]) / R;
      /* A variance below zero is rounding, not a collapse (as gaussian's). */
      for (size_t j = 0; j < d; j++)
        s[j * d + j] = MAX (s[j * d + j], 0.0) + p->reg;
    }
    if (!p->estimate)
      p->df[k] = p->df_fixed;
    else if (st[3] > 0.0)   /* the statistics of a start: nu from df_start */
      p->df[k] = p->df_start;
    else
      p->df[k] = solve_df (st[2] / R, p->df_max);
    p->set[k] = TRUE;
    if (!factor (p, k)) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_NUMERIC,
                   "student_t: component %zu: the scale matrix is not positive definite (the "
                   "component has collapsed onto a subspace; raise reg_covar, now %g)", k + 1,
                   p->reg);
      ok = FALSE;
    }
  }
  g_free (m);
  return ok;
}

static size_t
n_free_params (const mixem_params *p)
{
  const size_t d = p->d;
  return p->k * (d + (p->diag ? d : d * (d + 1) / 2) + (p->estimate ? 1 : 0));
}

static void
sample (const mixem_params *p, size_t k, gsl_rng *rng, double *x)
{
  const size_t d = p->d;
  const double *f = p->fac + k * scale_len (p), nu = p->df[k];
  double z[d > 0 ? d : 1];
  for (size_t j = 0; j < d; j++)
    z[j] = gsl_ran_gaussian_ziggurat (rng, 1.0);
  /* w ~ chi^2_nu / nu; a w that rounds to 0 (nu tiny) is drawn again. */
  double w = 0.0;
  for (int tries = 0; tries < 1000 && !(w > 0.0); tries++)
    w = gsl_ran_gamma (rng, 0.5 * nu, 2.0 / nu);
  const double sw = w > 0.0 ? 1.0 / sqrt (w) : 1.0;
  for (size_t i = 0; i < d; i++) {
    double s = 0.0;
    if (p->diag)
      s = f[i] * z[i];
    else
      for (size_t j = 0; j <= i; j++)
        s += f[i * d + j] * z[j];
    x[i] = p->mean[k * d + i] + sw * s;
  }
}

static GVariant *
describe (const mixem_params *p, size_t k)
{
  const size_t d = p->d;
  const double *s = p->scale + k * scale_len (p);
  GVariantDict dict;
  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert_value (&dict, "mean", mixem_variant_vector (p->mean + k * d, d));
  if (p->diag) {
    double *full = g_new0 (double, MAX (d * d, (size_t) 1));
    for (size_t j = 0; j < d; j++)
      full[j * d + j] = s[j];
    g_variant_dict_insert_value (&dict, "scale", mixem_variant_matrix (full, d));
    g_free (full);
  } else
    g_variant_dict_insert_value (&dict, "scale", mixem_variant_matrix (s, d));
  g_variant_dict_insert (&dict, "df", "d", p->df[k]);
  return g_variant_dict_end (&dict);
}

/* Sets component K from DICT: "mean" (d numbers), "scale" (a symmetric positive definite d by d
 * matrix, diagonal for covariance = diag), "df" (> 0; equal to the option when it is fixed).  A
 * bad value leaves the component as it was. */
static gboolean
assign (mixem_params *p, size_t k, GVariant *dict, gboolean *complete, GError **error)
{
  static const char *const known[] = { "mean", "scale", "df", NULL };
  if (!mixem_dict_check_keys (dict, "student_t", known, error))
    return FALSE;
  const size_t d = p->d, len = scale_len (p);
  double *mean = g_new (double, d ? d : 1), *mat = g_new (double, MAX (d * d, (size_t) 1));
  gboolean has_mean = FALSE, has_scale = FALSE, has_df = FALSE, ok = TRUE;
  double df = p->df[k];
  GError *err = NULL;
  if (!mixem_dict_get_vector (dict, "student_t", "mean", d, mean, &has_mean, &err) && has_mean)
    ok = FALSE;
  for (size_t j = 0; ok && has_mean && j < d; j++)
    if (!isfinite (mean[j])) {
      g_set_error (&err, MIXEM_ERROR, MIXEM_ERROR_FORMAT,
                   "student_t: 'mean' must be finite (got %g in column %zu)", mean[j], j + 1);
      ok = FALSE;
    }
  if (ok && !mixem_dict_get_matrix (dict, "student_t", "scale", d, mat, &has_scale, &err)
      && has_scale)
    ok = FALSE;
  for (size_t i = 0; ok && has_scale && i < d; i++)
    for (size_t j = 0; ok && j < d; j++) {
      const double v = mat[i * d + j], t = mat[j * d + i];
      if (!isfinite (v) || fabs (v - t) > 1e-10 * fmax (1.0, fabs (mat[i * d + i])
                                                          + fabs (mat[j * d + j]))
          || (p->diag && i != j && v != 0.0)) {
        g_set_error (&err, MIXEM_ERROR, MIXEM_ERROR_FORMAT,
                     "student_t: 'scale' must be a symmetric %zu by %zu matrix of finite "
                     "numbers%s", d, d, p->diag ? " (diagonal, for covariance = diag)" : "");
        ok = FALSE;
      }
    }
  GVariant *dfv = ok ? g_variant_lookup_value (dict, "df", NULL) : NULL;
  if (dfv) {
    g_variant_unref (dfv);
    has_df = TRUE;
    if (!mixem_dict_get_double (dict, "student_t", "df", &df, &err))
      ok = FALSE;
    else if (!isfinite (df) || !(df > 0.0)) {
      g_set_error (&err, MIXEM_ERROR, MIXEM_ERROR_FORMAT,
                   "student_t: 'df' must be a finite number > 0 (got %g)", df);
      ok = FALSE;
    } else if (!p->estimate && df != p->df_fixed) {
      g_set_error (&err, MIXEM_ERROR, MIXEM_ERROR_FORMAT,
                   "student_t: 'df' is %g, but the option df fixes it at %g", df, p->df_fixed);
      ok = FALSE;
    }
  }
  if (ok) {
    double *saved = g_memdup2 (p->scale + k * len, len * sizeof (double));
    const double saved_df = p->df[k];
    if (has_scale)
      for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < d; j++) {
          if (!p->diag)
            p->scale[k * len + i * d + j] = 0.5 * (mat[i * d + j] + mat[j * d + i]);
          else if (i == j)
            p->scale[k * len + j] = mat[j * d + j];
        }
    p->df[k] = df;
    if (!factor (p, k)) {
      g_set_error (&err, MIXEM_ERROR, MIXEM_ERROR_FORMAT,
                   "student_t: the given 'scale' is not positive definite");
      memcpy (p->scale + k * len, saved, len * sizeof (double));
      p->df[k] = saved_df;
      factor (p, k);
      ok = FALSE;
    } else {
      if (has_mean)
        memcpy (p->mean + k * d, mean, d * sizeof (double));
      p->set[k] = TRUE;
    }
    g_free (saved);
  }
  g_free (mean);
  g_free (mat);
  if (!ok) {
    g_propagate_error (error, err);
    return FALSE;
  }
  if (complete)
    *complete = has_mean && has_scale && (has_df || !p->estimate);
  return TRUE;
}

G_MODULE_EXPORT const mixem_family mixem_family_entry = {
  .abi_version = MIXEM_FAMILY_ABI_VERSION,
  .size = MIXEM_FAMILY_SIZE,
  .flags = MIXEM_FAMILY_SCALED_STARTS,
  .name = "student_t",
  .summary = "multivariate t (robust): full or diag scale, degrees of freedom fixed or estimated",
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
  .expected_loglik = NULL,
  .n_free_params = n_free_params,
  .sample = sample,
  .describe = describe,
  .assign = assign,
  .stats_rebase = stats_rebase,
};
