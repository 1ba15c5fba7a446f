/* check_families.c: the family conformance suite.  One set of checks looped over every family the
 * registry finds (plugins in the search path, and the toy family registered from C), so that each
 * new family gets them for free; each family adds an entry to refs[] below with what only it can
 * say: a direct formula for its density, data it fits exactly, and its documented errors. */
#include <string.h>
#include <gsl/gsl_randist.h>
#include "testutil.h"

#define MAXN 8

typedef struct {
  const char *opts[8];        /* key, value, ... NULL */
  const char *const *names;   /* column names, or NULL */
  size_t d, n;
  double x[MAXN * 4];
  const char *expect;         /* text of the error */
  int code;
  gboolean at_params;         /* raised by params_new (else by check_data) */
} bad_case;

typedef struct {
  const char *name;
  const char *opts[8];        /* key, value, ... NULL */
  size_t d;
  const char *const *names;
  const char *components;     /* K = 2 components, GVariant text */
  size_t n_free;              /* family's free parameters for these K = 2 components */
  /* log p(x | component) by a formula written here, independent of the family's code */
  double (*direct) (const double *x, GVariant *component);
  /* rows fitted exactly: with each row's component in exact_z, maximise gives exact_components */
  size_t exact_n;
  double exact_x[MAXN * 4];
  size_t exact_z[MAXN];
  const char *exact_components;
  bad_case bad[10];
  /* For a family without sample() (the regression families, whose rows need covariates): N rows
   * from component Z[i] of the reference components, made here. */
  void (*gen) (size_t n, const size_t *z, double *x);
} family_ref;

static double
lookup (GVariant *c, const char *key)
{
  double v = NAN;
  ck_assert (g_variant_lookup (c, key, "d", &v));
  return v;
}

/* log C(n, s) p^s (1-p)^(n-s), the coefficient as a sum of logs of (n-s+j)/j. */
static double
binomial_direct (const double *x, GVariant *c)
{
  const double s = x[0], n = x[1], p = lookup (c, "p");
  double lc = 0;
  for (double j = 1; j <= s; j++)
    lc += log ((n - s + j) / j);
  return lc + s * log (p) + (n - s) * log1p (-p);
}

static double
toy_direct (const double *x, GVariant *c)
{
  const double z = x[0] - lookup (c, "mean");
  return -0.5 * z * z - 0.5 * log (2 * G_PI);
}

/* The 2-D normal density with an explicit 2x2 inverse and determinant. */
static double
gaussian2_direct (const double *x, GVariant *c)
{
  GVariant *mean = g_variant_lookup_value (c, "mean", G_VARIANT_TYPE ("ad"));
  GVariant *cov = g_variant_lookup_value (c, "cov", G_VARIANT_TYPE ("aad"));
  ck_assert (mean && cov);
  gsize n;
  const double *mu = g_variant_get_fixed_array (mean, &n, sizeof (double));
  double s[2][2];
  for (int i = 0; i < 2; i++) {
    GVariant *row = g_variant_get_child_value (cov, i);
    const double *r = g_variant_get_fixed_array (row, &n, sizeof (double));
    s[i][0] = r[0];
    s[i][1] = r[1];
    g_variant_unref (row);
  }
  const double det = s[0][0] * s[1][1] - s[0][1] * s[1][0];
  const double a = x[0] - mu[0], b = x[1] - mu[1];
  const double q = (s[1][1] * a * a - 2 * s[0][1] * a * b + s[0][0] * b * b) / det;
  g_variant_unref (mean);
  g_variant_unref (cov);
  return -log (2 * G_PI) - 0.5 * log (det) - 0.5 * q;
}

/* sum_d log(mu^x (1 - mu)^(1 - x)), one column at a time. */
static double
bernoulli_direct (const double *x, GVariant *c)
{
  GVariant *mu = g_variant_lookup_value (c, "mu", G_VARIANT_TYPE ("ad"));
  gsize n;
  const double *m = g_variant_get_fixed_array (mu, &n, sizeof (double));
  double s = 0;
  for (gsize j = 0; j < n; j++)
    s += log (x[j] == 1 ? m[j] : 1 - m[j]);
  g_variant_unref (mu);
  return s;
}

/* sum_d x log(lambda) - lambda - log(x!), with log(x!) as the sum of log(j) for j = 2..x. */
static double
poisson_direct (const double *x, GVariant *c)
{
  GVariant *lam = g_variant_lookup_value (c, "lambda", G_VARIANT_TYPE ("ad"));
  gsize n;
  const double *l = g_variant_get_fixed_array (lam, &n, sizeof (double));
  double s = 0;
  for (gsize j = 0; j < n; j++) {
    double lf = 0;
    for (double i = 2; i <= x[j]; i++)
      lf += log (i);
    s += x[j] * log (l[j]) - l[j] - lf;
  }
  g_variant_unref (lam);
  return s;
}

/* The densities of the exponential, gamma and multinomial families from GSL's own pdfs (a
 * different code from the families' sums of logs). */
static const double *
vector_of (GVariant *c, const char *key, GVariant **keep)
{
  gsize n;
  *keep = g_variant_lookup_value (c, key, G_VARIANT_TYPE ("ad"));
  ck_assert (*keep != NULL);
  return g_variant_get_fixed_array (*keep, &n, sizeof (double));
}

static double
exponential_direct (const double *x, GVariant *c)
{
  GVariant *v;
  const double *rate = vector_of (c, "rate", &v);
  double s = 0;
  for (int j = 0; j < 2; j++)
    s += log (gsl_ran_exponential_pdf (x[j], 1.0 / rate[j]));
  g_variant_unref (v);
  return s;
}

static double
gamma_direct (const double *x, GVariant *c)
{
  GVariant *v, *w;
  const double *shape = vector_of (c, "shape", &v), *rate = vector_of (c, "rate", &w);
  double s = 0;
  for (int j = 0; j < 2; j++)
    s += log (gsl_ran_gamma_pdf (x[j], shape[j], 1.0 / rate[j]));
  g_variant_unref (v);
  g_variant_unref (w);
  return s;
}

static double
multinomial_direct (const double *x, GVariant *c)
{
  GVariant *v;
  const double *p = vector_of (c, "prob", &v);
  const unsigned int n[3] = { (unsigned int) x[0], (unsigned int) x[1], (unsigned int) x[2] };
  const double s = gsl_ran_multinomial_lnpdf (3, p, n);
  g_variant_unref (v);
  return s;
}

/* The 2-D Student t density (issue 12) with an explicit 2x2 inverse and determinant:
 * lgamma((nu + 2)/2) - lgamma(nu/2) - log(nu pi) - log det / 2 - (nu + 2)/2 log(1 + q/nu). */
static double
student_t2_direct (const double *x, GVariant *c)
{
  GVariant *mean = g_variant_lookup_value (c, "mean", G_VARIANT_TYPE ("ad"));
  GVariant *scale = g_variant_lookup_value (c, "scale", G_VARIANT_TYPE ("aad"));
  ck_assert (mean && scale);
  gsize n;
  const double *mu = g_variant_get_fixed_array (mean, &n, sizeof (double)), nu = lookup (c, "df");
  double s[2][2];
  for (int i = 0; i < 2; i++) {
    GVariant *row = g_variant_get_child_value (scale, i);
    const double *r = g_variant_get_fixed_array (row, &n, sizeof (double));
    s[i][0] = r[0];
    s[i][1] = r[1];
    g_variant_unref (row);
  }
  const double det = s[0][0] * s[1][1] - s[0][1] * s[1][0];
  const double a = x[0] - mu[0], b = x[1] - mu[1];
  const double q = (s[1][1] * a * a - 2 * s[0][1] * a * b + s[0][0] * b * b) / det;
  g_variant_unref (mean);
  g_variant_unref (scale);
  return lgamma ((nu + 2) / 2) - lgamma (nu / 2) - log (nu * G_PI) - 0.5 * log (det)
         - (nu + 2) / 2 * log1p (q / nu);
}

/* The von Mises-Fisher density on the sphere in 3 dimensions (issue 12), whose constant is
 * elementary: kappa / (4 pi sinh kappa) exp(kappa mu'x). */
static double
vmf3_direct (const double *x, GVariant *c)
{
  GVariant *mu = g_variant_lookup_value (c, "mu", G_VARIANT_TYPE ("ad"));
  gsize n;
  const double *m = g_variant_get_fixed_array (mu, &n, sizeof (double)), k = lookup (c, "kappa");
  const double dot = m[0] * x[0] + m[1] * x[1] + m[2] * x[2];
  g_variant_unref (mu);
  /* log sinh k = k + log((1 - e^-2k) / 2) */
  return log (k) - log (4 * G_PI) - (k + log (-expm1 (-2 * k) / 2)) + k * dot;
}

/* sum_j log prob_j[x_j], the probabilities read from the component's "prob" rows. */
static double
categorical_direct (const double *x, GVariant *c)
{
  GVariant *prob = g_variant_lookup_value (c, "prob", G_VARIANT_TYPE ("aad"));
  double s = 0;
  for (gsize j = 0; j < g_variant_n_children (prob); j++) {
    GVariant *row = g_variant_get_child_value (prob, j);
    gsize n;
    const double *pr = g_variant_get_fixed_array (row, &n, sizeof (double));
    s += log (pr[(size_t) x[j]]);
    g_variant_unref (row);
  }
  g_variant_unref (prob);
  return s;
}

/* A poisson part on column 1 and a categorical part (3 levels) on column 2: the sum of the two
 * log-densities, each written out here. */
static double
product_direct (const double *x, GVariant *c)
{
  GVariant *lam = g_variant_lookup_value (c, "1.lambda", G_VARIANT_TYPE ("ad"));
  GVariant *prob = g_variant_lookup_value (c, "2.prob", G_VARIANT_TYPE ("aad"));
  gsize n;
  const double l = ((const double *) g_variant_get_fixed_array (lam, &n, sizeof (double)))[0];
  GVariant *row = g_variant_get_child_value (prob, 0);
  const double *pr = g_variant_get_fixed_array (row, &n, sizeof (double));
  double lf = 0;
  for (double i = 2; i <= x[0]; i++)
    lf += log (i);
  const double s = x[0] * log (l) - l - lf + log (pr[(size_t) x[1]]);
  g_variant_unref (row);
  g_variant_unref (prob);
  g_variant_unref (lam);
  return s;
}

static const char *const sn[] = { "s", "n", NULL };

/* Rows that a 2-component Gaussian fits exactly, for every covariance type: means (0, 0) and
 * (4, 1), covariances 0.5 I (with reg_covar = 0). */
#define GAUSSIAN_EXACT                                                                             \
  .exact_n = 8, .exact_x = { -1, 0, 1, 0, 0, 1, 0, -1, 3, 1, 5, 1, 4, 2, 4, 0 },                  \
  .exact_z = { 0, 0, 0, 0, 1, 1, 1, 1 },                                                           \
  .exact_components = "[{'mean': <[0.0, 0.0]>, 'cov': <[[0.5, 0.0], [0.0, 0.5]]>},"               \
                      " {'mean': <[4.0, 1.0]>, 'cov': <[[0.5, 0.0], [0.0, 0.5]]>}]"
#define GAUSSIAN_ERRORS(type)                                                                      \
  .bad = {                                                                                         \
    { { "covariance", "fll", NULL }, NULL, 2, 1, { 1, 2 }, "'covariance' = 'fll' is not full",     \
      MIXEM_ERROR_OPTION, TRUE },                                                                  \
    { { "covariance", type, "reg_covar", "-1" }, NULL, 2, 1, { 1, 2 },                             \
      "option 'reg_covar' = '-1' is not a finite number in [0, inf)", MIXEM_ERROR_OPTION, TRUE },                       \
    { { "covariance", type, "reg_covar", "0" }, NULL, 2, 3, { 1, 1, 1, 1, 1, 1 },                  \
      "has collapsed", MIXEM_ERROR_NUMERIC, FALSE },                                     \
  }

/* The regression families: column 1 is x, column 2 the response y. */
static const char *const xy[] = { "x", "y", NULL };

static double
eta_of (const double *x, GVariant *c)
{
  GVariant *b = g_variant_lookup_value (c, "beta", G_VARIANT_TYPE ("ad"));
  gsize n = 0;
  const double *beta = g_variant_get_fixed_array (b, &n, sizeof (double));
  ck_assert_uint_eq (n, 2);
  const double eta = beta[0] + beta[1] * x[0];
  g_variant_unref (b);
  return eta;
}

static double
linreg_direct (const double *x, GVariant *c)
{
  const double s = lookup (c, "sigma"), e = (x[1] - eta_of (x, c)) / s;
  return -0.5 * log (2 * G_PI) - log (s) - 0.5 * e * e;
}

static double
poisreg_direct (const double *x, GVariant *c)
{
  const double eta = eta_of (x, c);
  double lf = 0;
  for (double m = 2; m <= x[1]; m++)
    lf += log (m);
  return x[1] * eta - exp (eta) - lf;
}

/* Four trials per row. */
static double
logitreg_direct (const double *x, GVariant *c)
{
  static const double choose4[] = { 1, 4, 6, 4, 1 };
  const double eta = eta_of (x, c);
  return log (choose4[(int) x[1]]) + x[1] * eta - 4 * log1p (exp (eta));
}

/* Shape a, mean e^eta: log(y^(a-1) e^(-a y / mu) (a / mu)^a / Gamma(a)). */
static double
gammareg_direct (const double *x, GVariant *c)
{
  const double a = lookup (c, "shape"), mu = exp (eta_of (x, c));
  return (a - 1) * log (x[1]) - a * x[1] / mu + a * log (a / mu) - lgamma (a);
}

/* Rows of the reference components of each regression family (as in refs[] below). */
static void
gen_regression (int model, size_t n, const size_t *z, double *x)
{
  static const double beta[4][2][2] = {
    { { 1, 2 }, { -1, 0.5 } },
    { { 0.69314718055994529, 0.69314718055994529 }, { 1.3862943611198906, -1.3862943611198906 } },
    { { -1.0986122886681098, 2.1972245773362196 }, { 1.0986122886681098, -1.0986122886681098 } },
    { { 0.69314718055994529, 0.69314718055994529 }, { 1.3862943611198906, -1.3862943611198906 } },
  };
  static const double sigma[2] = { 0.5, 1.0 };
  static const double shape[2] = { 3.6343027805778445, 5.8398460162911343 };
  gsl_rng *rng = gsl_rng_alloc (gsl_rng_mt19937);
  for (size_t i = 0; i < n; i++) {
    const double *b = beta[model][z[i]];
    const double xi = gsl_rng_uniform (rng) * 2, eta = b[0] + b[1] * xi;
    x[2 * i] = xi;
    x[2 * i + 1] = model == 0 ? eta + sigma[z[i]] * gsl_ran_gaussian (rng, 1.0)
                   : model == 1 ? gsl_ran_poisson (rng, exp (eta))
                   : model == 3 ? gsl_ran_gamma (rng, shape[z[i]], exp (eta) / shape[z[i]])
                   : gsl_ran_binomial (rng, 1 / (1 + exp (-eta)), 4);
  }
  gsl_rng_free (rng);
}

static void
gen_linreg (size_t n, const size_t *z, double *x)
{
  gen_regression (0, n, z, x);
}

static void
gen_poisreg (size_t n, const size_t *z, double *x)
{
  gen_regression (1, n, z, x);
}

static void
gen_logitreg (size_t n, const size_t *z, double *x)
{
  gen_regression (2, n, z, x);
}

static void
gen_gammareg (size_t n, const size_t *z, double *x)
{
  gen_regression (3, n, z, x);
}

#define POISREG_COMPONENTS                                                                         \
  "[{'beta': <[0.69314718055994529, 0.69314718055994529]>},"                                      \
  " {'beta': <[1.3862943611198906, -1.3862943611198906]>}]"
/* The exact rows below: means 2 and 4 at x = 0 and 1 (then 4 and 1), and each shape the root of
 * log a - psi(a) = the mean of r - 1 - log r over the component's rows, r = y / mean (R's
 * digamma and trigamma, Newton to the last bits: 0.14384103622589045 and 0.088055148397338009). */
#define GAMMAREG_COMPONENTS                                                                        \
  "[{'beta': <[0.69314718055994529, 0.69314718055994529]>, 'shape': <3.6343027805778445>},"        \
  " {'beta': <[1.3862943611198906, -1.3862943611198906]>, 'shape': <5.8398460162911343>}]"
#define LOGITREG_COMPONENTS                                                                        \
  "[{'beta': <[-1.0986122886681098, 2.1972245773362196]>},"                                       \
  " {'beta': <[1.0986122886681098, -1.0986122886681098]>}]"

static const family_ref refs[] = {
  {
    /* Residuals (+e, -e, -e, +e) at x = 0..3 are orthogonal to 1 and x: the least-squares line
     * is the true one, and sigma = e. */
    .name = "linreg", .opts = { "response", "y", "covariates", "x", NULL }, .d = 2, .names = xy,
    .components = "[{'beta': <[1.0, 2.0]>, 'sigma': <0.5>}, {'beta': <[-1.0, 0.5]>, 'sigma': <1.0>}]",
    .n_free = 6, .direct = linreg_direct, .gen = gen_linreg,
    .exact_n = 8, .exact_x = { 0, 1.5, 1, 2.5, 2, 4.5, 3, 7.5, 0, 0, 1, -1.5, 2, -1, 3, 1.5 },
    .exact_z = { 0, 0, 0, 0, 1, 1, 1, 1 },
    .exact_components = "[{'beta': <[1.0, 2.0]>, 'sigma': <0.5>}, "
                        "{'beta': <[-1.0, 0.5]>, 'sigma': <1.0>}]",
    .bad = {
      { { NULL }, xy, 2, 2, { 1, 2, 2, 3 }, "linreg: the option 'response'", MIXEM_ERROR_OPTION,
        TRUE },
      { { "response", "y", "covariates", "z", NULL }, xy, 2, 2, { 1, 2, 2, 3 },
        "linreg: the covariate 'z' is not a column", MIXEM_ERROR_OPTION, TRUE },
      { { "response", "y", "covariates", "x", NULL }, xy, 2, 3, { 1, 2, 1, 3, 1, 5 },
        "linreg: covariate 'x' is 1 in every row", MIXEM_ERROR_DATA, TRUE },
    },
  },
  {
    /* x = 0 or 1: the fitted rates are the means of y at each, here 2 and 4, then 4 and 1. */
    .name = "poisreg", .opts = { "response", "y", "covariates", "x", NULL }, .d = 2, .names = xy,
    .components = POISREG_COMPONENTS, .n_free = 4, .direct = poisreg_direct, .gen = gen_poisreg,
    .exact_n = 8, .exact_x = { 0, 1, 0, 3, 1, 4, 1, 4, 0, 3, 0, 5, 1, 1, 1, 1 },
    .exact_z = { 0, 0, 0, 0, 1, 1, 1, 1 }, .exact_components = POISREG_COMPONENTS,
    .bad = {
      { { "response", "y", "covariates", "x", NULL }, xy, 2, 2, { 1, 2, 2, -3 },
        "row 2, column 'y': a poisson response must be a whole number >= 0", MIXEM_ERROR_DATA,
        FALSE },
      { { "response", "y", "covariates", "x", NULL }, xy, 2, 2, { 1, 2.5, 2, 3 },
        "row 1, column 'y': a poisson response must be a whole number", MIXEM_ERROR_DATA, FALSE },
    },
  },
  {
    /* Four trials, x = 0 or 1: success rates 1/4 and 3/4, then 3/4 and 1/2. */
    .name = "logitreg", .opts = { "response", "y", "covariates", "x", "trials", "4", NULL },
    .d = 2, .names = xy, .components = LOGITREG_COMPONENTS, .n_free = 4,
    .direct = logitreg_direct, .gen = gen_logitreg,
    .exact_n = 8, .exact_x = { 0, 1, 0, 1, 1, 3, 1, 3, 0, 3, 0, 3, 1, 2, 1, 2 },
    .exact_z = { 0, 0, 0, 0, 1, 1, 1, 1 }, .exact_components = LOGITREG_COMPONENTS,
    .bad = {
      { { "response", "y", "covariates", "x", "trials", "4", NULL }, xy, 2, 2, { 1, 2, 2, 5 },
        "row 2, column 'y': 5 successes out of 4 trials", MIXEM_ERROR_DATA, FALSE },
      { { "response", "y", "covariates", "x", "trials", "0.5", NULL }, xy, 2, 2, { 1, 0, 2, 1 },
        "logitreg: 'trials' = '0.5' is neither a column nor a whole number", MIXEM_ERROR_OPTION,
        TRUE },
    },
  },
  {
    .name = "gammareg", .opts = { "response", "y", "covariates", "x", NULL }, .d = 2, .names = xy,
    .components = GAMMAREG_COMPONENTS, .n_free = 6, .direct = gammareg_direct,
    .gen = gen_gammareg,
    .exact_n = 8, .exact_x = { 0, 1, 0, 3, 1, 2, 1, 6, 0, 3, 0, 5, 1, 0.5, 1, 1.5 },
    .exact_z = { 0, 0, 0, 0, 1, 1, 1, 1 }, .exact_components = GAMMAREG_COMPONENTS,
    .bad = {
      { { "response", "y", "covariates", "x", NULL }, xy, 2, 2, { 1, 2, 2, 0 },
        "row 2, column 'y': a gamma response must be > 0", MIXEM_ERROR_DATA, FALSE },
      { { "response", "y", "covariates", "x", "common", "x", NULL }, xy, 2, 2, { 1, 2, 2, 3 },
        "gammareg: common coefficients are not supported", MIXEM_ERROR_OPTION, TRUE },
    },
  },
  {
    .name = "binomial", .opts = { "trials", "n", NULL }, .d = 2, .names = sn,
    .components = "[{'p': <0.3>}, {'p': <0.85>}]", .n_free = 2, .direct = binomial_direct,
    .exact_n = 5, .exact_x = { 3, 10, 7, 10, 8, 10, 9, 10, 10, 10 },
    .exact_z = { 0, 0, 1, 1, 1 },
    .exact_components = "[{'p': <0.5>, 'trials': <10.0>}, {'p': <0.9>, 'trials': <10.0>}]",
    .bad = {
      { { "trials", "n", NULL }, sn, 2, 2, { 1, 4, 5, 4 }, "row 2, column 's': 5 successes out of 4",
        MIXEM_ERROR_DATA, FALSE },
      { { "trials", "n", NULL }, sn, 2, 1, { -1, 4 }, "row 1, column 's': successes must be",
        MIXEM_ERROR_DATA, FALSE },
      { { "trials", "n", NULL }, sn, 2, 1, { 1.5, 4 }, "row 1, column 's': successes must be",
        MIXEM_ERROR_DATA, FALSE },
      { { "trials", "n", NULL }, sn, 2, 2, { 1, 4, 1, 4.5 }, "row 2, column 'n': trials must be",
        MIXEM_ERROR_DATA, FALSE },
      { { "trials", "n", NULL }, sn, 2, 1, { 1, -4 }, "row 1, column 'n': trials must be",
        MIXEM_ERROR_DATA, FALSE },
      { { "trials", "3", NULL }, NULL, 1, 1, { 4 }, "row 1, column '1': 4 successes out of 3",
        MIXEM_ERROR_DATA, FALSE },
      { { NULL }, sn, 2, 1, { 1, 4 }, "the option 'trials' is required", MIXEM_ERROR_OPTION,
        TRUE },
      { { "trials", "n", "sample_trials", "-2" }, sn, 2, 1, { 1, 4 },
        "'sample_trials' = '-2' is not a whole number", MIXEM_ERROR_OPTION, TRUE },
      /* Above 2^53 doubles skip whole numbers, and the sampler stops: refused, not wrapped. */
      { { "trials", "1e300", NULL }, NULL, 1, 1, { 4 },
        "'trials' = '1e300' is neither a column nor a whole number from 0 to 2^53",
        MIXEM_ERROR_OPTION, TRUE },
      { { "trials", "n", NULL }, sn, 2, 1, { 1, 1e17 },
        "row 1, column 'n': trials must be a whole number from 0 to 2^53", MIXEM_ERROR_DATA,
        FALSE },
    },
  },
  {
    .name = "gaussian", .opts = { "covariance", "full", "reg_covar", "0", NULL }, .d = 2,
    .components = "[{'mean': <[0.0, 1.0]>, 'cov': <[[2.0, 0.3], [0.3, 1.0]]>},"
                  " {'mean': <[3.0, -1.0]>, 'cov': <[[0.5, -0.1], [-0.1, 0.8]]>}]",
    .n_free = 10, .direct = gaussian2_direct, GAUSSIAN_EXACT, GAUSSIAN_ERRORS ("full"),
  },
  {
    .name = "gaussian", .opts = { "covariance", "tied", "reg_covar", "0", NULL }, .d = 2,
    .components = "[{'mean': <[0.0, 1.0]>, 'cov': <[[2.0, 0.3], [0.3, 1.0]]>},"
                  " {'mean': <[3.0, -1.0]>, 'cov': <[[2.0, 0.3], [0.3, 1.0]]>}]",
    .n_free = 7, .direct = gaussian2_direct, GAUSSIAN_EXACT, GAUSSIAN_ERRORS ("tied"),
  },
  {
    .name = "gaussian", .opts = { "covariance", "diag", "reg_covar", "0", NULL }, .d = 2,
    .components = "[{'mean': <[0.0, 1.0]>, 'var': <[2.0, 0.7]>},"
                  " {'mean': <[3.0, -1.0]>, 'var': <[0.5, 0.8]>}]",
    .n_free = 8, .direct = gaussian2_direct, GAUSSIAN_EXACT, GAUSSIAN_ERRORS ("diag"),
  },
  {
    .name = "gaussian", .opts = { "covariance", "spherical", "reg_covar", "0", NULL }, .d = 2,
    .components = "[{'mean': <[0.0, 1.0]>, 'var': <1.5>}, {'mean': <[3.0, -1.0]>, 'var': <0.4>}]",
    .n_free = 6, .direct = gaussian2_direct, GAUSSIAN_EXACT, GAUSSIAN_ERRORS ("spherical"),
  },
  {
    .name = "gaussian", .opts = { "covariance", "EII", "reg_covar", "0", NULL }, .d = 2,
    .components = "[{'mean': <[0.0, 1.0]>, 'var': <1.5>}, {'mean': <[3.0, -1.0]>, 'var': <1.5>}]",
    .n_free = 5, .direct = gaussian2_direct, GAUSSIAN_EXACT, GAUSSIAN_ERRORS ("EII"),
  },
  {
    .name = "bernoulli", .d = 3,
    .components = "[{'mu': <[0.2, 0.9, 0.5]>}, {'mu': <[0.7, 0.1, 0.35]>}]",
    .n_free = 6, .direct = bernoulli_direct,
    .exact_n = 8, .exact_x = { 1, 0, 1, 0, 0, 1, 1, 1, 0, 0, 1, 0, 1, 1, 1, 1, 0, 1, 0, 1, 1, 1, 1, 0 },
    .exact_z = { 0, 0, 0, 0, 1, 1, 1, 1 },
    .exact_components = "[{'mu': <[0.5, 0.5, 0.5]>}, {'mu': <[0.75, 0.75, 0.75]>}]",
    .bad = {
      { { NULL }, NULL, 3, 2, { 1, 0, 1, 0, 2, 1 }, "row 2, column '2': bernoulli data must be 0 or 1 (got 2)",
        MIXEM_ERROR_DATA, FALSE },
      { { NULL }, NULL, 3, 1, { 0.5, 0, 1 }, "row 1, column '1': bernoulli data must be 0 or 1",
        MIXEM_ERROR_DATA, FALSE },
      { { "alpha", "0.5", NULL }, NULL, 3, 1, { 1, 0, 1 }, "bernoulli: option 'alpha' = '0.5' is not a finite number in [1, 1e9]",
        MIXEM_ERROR_OPTION, TRUE },
      { { "eps", "0", NULL }, NULL, 3, 1, { 1, 0, 1 }, "bernoulli: option 'eps' = '0' is not a finite number in (0, 0.25]", MIXEM_ERROR_OPTION, TRUE },
    },
  },
  {
    .name = "poisson", .d = 2,
    .components = "[{'lambda': <[2.0, 7.5]>}, {'lambda': <[9.0, 0.5]>}]",
    .n_free = 4, .direct = poisson_direct,
    .exact_n = 7, .exact_x = { 1, 0, 3, 2, 2, 1, 5, 8, 7, 4, 6, 6, 6, 2 },
    .exact_z = { 0, 0, 0, 1, 1, 1, 1 },
    .exact_components = "[{'lambda': <[2.0, 1.0]>}, {'lambda': <[6.0, 5.0]>}]",
    .bad = {
      { { NULL }, NULL, 2, 2, { 1, 0, 3, -2 }, "row 2, column '2': poisson counts must be whole "
        "numbers >= 0 (got -2)", MIXEM_ERROR_DATA, FALSE },
      { { NULL }, NULL, 2, 1, { 2.5, 1 }, "row 1, column '1': poisson counts must be whole numbers",
        MIXEM_ERROR_DATA, FALSE },
      { { "eps", "0", NULL }, NULL, 2, 1, { 1, 1 }, "poisson: option 'eps' = '0' is not a finite number in (0, 1]",
        MIXEM_ERROR_OPTION, TRUE },
    },
  },
  /* Issue 12.  student_t's statistics depend on the parameters (the E-step's weights u), so the
   * exact rows are at Mahalanobis distance D from their component's mean, where u = 1, and the
   * degrees of freedom are fixed: the reference components are then the exact ones. */
  {
    .name = "student_t", .opts = { "df", "3", "reg_covar", "0", NULL }, .d = 2,
    .components = "[{'mean': <[0.0, 0.0]>, 'scale': <[[0.5, 0.0], [0.0, 0.5]]>, 'df': <3.0>},"
                  " {'mean': <[4.0, 1.0]>, 'scale': <[[0.5, 0.0], [0.0, 0.5]]>, 'df': <3.0>}]",
    .n_free = 10, .direct = student_t2_direct,
    .exact_n = 8, .exact_x = { -1, 0, 1, 0, 0, 1, 0, -1, 3, 1, 5, 1, 4, 2, 4, 0 },
    .exact_z = { 0, 0, 0, 0, 1, 1, 1, 1 },
    .exact_components = "[{'mean': <[0.0, 0.0]>, 'scale': <[[0.5, 0.0], [0.0, 0.5]]>, 'df': <3.0>},"
                        " {'mean': <[4.0, 1.0]>, 'scale': <[[0.5, 0.0], [0.0, 0.5]]>, 'df': <3.0>}]",
    .bad = {
      { { "df", "many", NULL }, NULL, 2, 1, { 1, 2 },
        "student_t: option 'df' = 'many' is neither 'estimate' nor a finite number > 0",
        MIXEM_ERROR_OPTION, TRUE },
      { { "covariance", "tied", NULL }, NULL, 2, 1, { 1, 2 }, "option 'covariance' = 'tied'",
        MIXEM_ERROR_OPTION, TRUE },
      { { "reg_covar", "0", NULL }, NULL, 2, 3, { 1, 1, 1, 1, 1, 1 }, "has collapsed",
        MIXEM_ERROR_NUMERIC, FALSE },
    },
  },
  {
    .name = "student_t", .opts = { "covariance", "diag", "df", "5", "reg_covar", "0" }, .d = 2,
    .components = "[{'mean': <[0.0, 0.0]>, 'scale': <[[0.5, 0.0], [0.0, 0.5]]>, 'df': <5.0>},"
                  " {'mean': <[4.0, 1.0]>, 'scale': <[[0.5, 0.0], [0.0, 0.5]]>, 'df': <5.0>}]",
    .n_free = 8, .direct = student_t2_direct,
    .exact_n = 8, .exact_x = { -1, 0, 1, 0, 0, 1, 0, -1, 3, 1, 5, 1, 4, 2, 4, 0 },
    .exact_z = { 0, 0, 0, 0, 1, 1, 1, 1 },
    .exact_components = "[{'mean': <[0.0, 0.0]>, 'scale': <[[0.5, 0.0], [0.0, 0.5]]>, 'df': <5.0>},"
                        " {'mean': <[4.0, 1.0]>, 'scale': <[[0.5, 0.0], [0.0, 0.5]]>, 'df': <5.0>}]",
  },
  /* Two rows at angle acos(rbar) either side of each mean direction, rbar = A_3(kappa) =
   * coth(kappa) - 1/kappa for kappa = 2 and 10 (to the last digit, by Python's math). */
  {
    .name = "von_mises_fisher", .d = 3,
    .components = "[{'mu': <[0.6, 0.8, 0.0]>, 'kappa': <3.0>},"
                  " {'mu': <[0.0, 0.6, -0.8]>, 'kappa': <20.0>}]",
    .n_free = 6, .direct = vmf3_direct,
    .exact_n = 4,
    .exact_x = { 0.5373147207275482, 0.8433818179742061, 0, 0.5373147207275482,
                 -0.8433818179742061, 0, 0.43588988584256766, 0, 0.9000000041223074,
                 -0.43588988584256766, 0, 0.9000000041223074 },
    .exact_z = { 0, 0, 1, 1 },
    .exact_components = "[{'mu': <[1.0, 0.0, 0.0]>, 'kappa': <2.0>},"
                        " {'mu': <[0.0, 0.0, 1.0]>, 'kappa': <10.0>}]",
    .bad = {
      { { NULL }, NULL, 3, 2, { 1, 0, 0, 0.6, 0.7, 0 },
        "row 2, column '1': von_mises_fisher: the row's length is 0.9219544457, not 1",
        MIXEM_ERROR_DATA, FALSE },
      { { "normalise", "true", NULL }, NULL, 3, 2, { 1, 0, 0, 0, 0, 0 },
        "row 2, column '1': von_mises_fisher: a row of zeros has no direction", MIXEM_ERROR_DATA,
        FALSE },
      { { NULL }, NULL, 1, 1, { 0.5 }, "von_mises_fisher: rows are unit vectors in D >= 2",
        MIXEM_ERROR_OPTION, TRUE },
      { { "angles", "degrees", NULL }, NULL, 3, 1, { 1, 0, 0 },
        "von_mises_fisher: angles = degrees reads one column of angles, but the data have 3",
        MIXEM_ERROR_OPTION, TRUE },
      { { "kappa_max", "0", NULL }, NULL, 3, 1, { 1, 0, 0 },
        "option 'kappa_max' = '0' is not a finite number in (0, inf)", MIXEM_ERROR_OPTION, TRUE },
    },
  },
  {
    .name = "exponential", .d = 2,
    .components = "[{'rate': <[0.5, 0.1]>}, {'rate': <[2.0, 0.05]>}]",
    .n_free = 4, .direct = exponential_direct,
    .exact_n = 4, .exact_x = { 1, 2, 3, 2, 0.5, 4, 1.5, 6 }, .exact_z = { 0, 0, 1, 1 },
    .exact_components = "[{'rate': <[0.5, 0.5]>}, {'rate': <[1.0, 0.2]>}]",
    .bad = {
      { { NULL }, NULL, 2, 2, { 1, 2, 3, -1 }, "row 2, column '2': exponential values must be "
        "finite and > 0 (got -1)", MIXEM_ERROR_DATA, FALSE },
      { { NULL }, NULL, 2, 1, { 0, 1 }, "row 1, column '1': exponential values must be finite "
        "and > 0 (got 0)", MIXEM_ERROR_DATA, FALSE },
    },
  },
  {
    /* The rows fitted exactly are constant within each component: the shape is then the cap
     * (max_shape, 1e6 by default) and the rate the cap over the mean (families/gamma.c). */
    .name = "gamma", .d = 2,
    .components = "[{'shape': <[2.0, 5.0]>, 'rate': <[1.0, 0.5]>},"
                  " {'shape': <[1.5, 10.0]>, 'rate': <[0.5, 1.0]>}]",
    .n_free = 8, .direct = gamma_direct,
    .exact_n = 4, .exact_x = { 2, 4, 2, 4, 1, 8, 1, 8 }, .exact_z = { 0, 0, 1, 1 },
    .exact_components = "[{'shape': <[1e6, 1e6]>, 'rate': <[5e5, 2.5e5]>},"
                        " {'shape': <[1e6, 1e6]>, 'rate': <[1e6, 1.25e5]>}]",
    .bad = {
      { { NULL }, NULL, 2, 2, { 1, 2, 3, -1 }, "row 2, column '2': gamma values must be finite "
        "and > 0 (got -1)", MIXEM_ERROR_DATA, FALSE },
      { { NULL }, NULL, 2, 1, { 0, 1 }, "row 1, column '1': gamma values must be finite and > 0 "
        "(got 0)", MIXEM_ERROR_DATA, FALSE },
      { { "max_shape", "0.5", NULL }, NULL, 2, 1, { 1, 1 }, "gamma: option 'max_shape' = '0.5' is "
        "not a finite number in [1, 1e12]", MIXEM_ERROR_OPTION, TRUE },
    },
  },
  {
    .name = "multinomial", .d = 3,
    .components = "[{'prob': <[0.2, 0.3, 0.5]>, 'size': <6.0>},"
                  " {'prob': <[0.6, 0.1, 0.3]>, 'size': <9.0>}]",
    .n_free = 4, .direct = multinomial_direct,
    .exact_n = 4, .exact_x = { 1, 0, 1, 1, 2, 3, 3, 1, 0, 3, 0, 1 }, .exact_z = { 0, 0, 1, 1 },
    .exact_components = "[{'prob': <[0.25, 0.25, 0.5]>, 'size': <4.0>},"
                        " {'prob': <[0.75, 0.125, 0.125]>, 'size': <4.0>}]",
    .bad = {
      { { NULL }, NULL, 3, 2, { 1, 0, 1, 3, -1, 0 }, "row 2, column '2': multinomial counts must be "
        "whole numbers >= 0 (got -1)", MIXEM_ERROR_DATA, FALSE },
      { { NULL }, NULL, 3, 1, { 1.5, 0, 1 }, "row 1, column '1': multinomial counts must be whole "
        "numbers >= 0 (got 1.5)", MIXEM_ERROR_DATA, FALSE },
      { { NULL }, NULL, 3, 2, { 1, 0, 1, 0, 0, 0 }, "row 2, column '1': a row of zeros",
        MIXEM_ERROR_DATA, FALSE },
      { { NULL }, NULL, 1, 2, { 1, 2 }, "multinomial: the data need at least 2 columns "
        "(categories), not 1", MIXEM_ERROR_DATA, TRUE },
      { { "eps", "0.5", NULL }, NULL, 3, 1, { 1, 0, 1 }, "multinomial: option 'eps' = '0.5' is not "
        "a finite number in (0, 0.01]", MIXEM_ERROR_OPTION, TRUE },
    },
  },
  {
    .name = "categorical", .opts = { "levels", "3,2", NULL }, .d = 2,
    .components = "[{'prob': <[[0.2, 0.3, 0.5], [0.6, 0.4]]>},"
                  " {'prob': <[[0.7, 0.2, 0.1], [0.1, 0.9]]>}]",
    .n_free = 6, .direct = categorical_direct,
    .exact_n = 8, .exact_x = { 0, 0, 1, 0, 2, 1, 2, 0, 0, 1, 1, 1, 2, 0, 0, 1 },
    .exact_z = { 0, 0, 0, 0, 1, 1, 1, 1 },
    .exact_components = "[{'prob': <[[0.25, 0.25, 0.5], [0.75, 0.25]]>},"
                        " {'prob': <[[0.5, 0.25, 0.25], [0.25, 0.75]]>}]",
    .bad = {
      { { "levels", "3,2", NULL }, NULL, 2, 2, { 0, 0, 3, 1 }, "row 2, column '1': categorical "
        "codes must be whole numbers from 0 to 2 (got 3)", MIXEM_ERROR_DATA, FALSE },
      { { "levels", "3,2", NULL }, NULL, 2, 1, { 0, 0.5 }, "row 1, column '2': categorical "
        "codes must be whole numbers from 0 to 1 (got 0.5)", MIXEM_ERROR_DATA, FALSE },
      { { "levels", "3,x", NULL }, NULL, 2, 1, { 0, 0 }, "categorical: option levels must be",
        MIXEM_ERROR_OPTION, TRUE },
      { { "eps", "0", NULL }, NULL, 2, 1, { 0, 0 }, "categorical: option 'eps' = '0' is not a "
        "finite number in (0, 0.01]", MIXEM_ERROR_OPTION, TRUE },
    },
  },
  {
    .name = "product", .opts = { "parts", "poisson:1;categorical(levels=3):2", NULL }, .d = 2,
    .components = "[{'1.lambda': <[2.0]>, '2.prob': <[[0.2, 0.3, 0.5]]>},"
                  " {'1.lambda': <[9.0]>, '2.prob': <[[0.6, 0.3, 0.1]]>}]",
    .n_free = 6, .direct = product_direct,
    .exact_n = 8, .exact_x = { 1, 0, 3, 1, 2, 2, 2, 2, 5, 0, 7, 0, 6, 1, 6, 2 },
    .exact_z = { 0, 0, 0, 0, 1, 1, 1, 1 },
    .exact_components = "[{'1.lambda': <[2.0]>, '2.prob': <[[0.25, 0.25, 0.5]]>},"
                        " {'1.lambda': <[6.0]>, '2.prob': <[[0.5, 0.25, 0.25]]>}]",
    .bad = {
      { { "parts", "poisson:1;categorical(levels=3):2", NULL }, NULL, 2, 1, { -1, 0 },
        "row 1, column '1': poisson counts must be whole numbers >= 0 (got -1)",
        MIXEM_ERROR_DATA, FALSE },
      { { "parts", "poisson:1;categorical(levels=3):2", NULL }, NULL, 2, 1, { 1, 3 },
        "row 1, column '2': categorical codes must be whole numbers from 0 to 2 (got 3)",
        MIXEM_ERROR_DATA, FALSE },
      { { "parts", "poisson:1;poisson:1,2", NULL }, NULL, 2, 1, { 1, 1 },
        "product: column '1' is in part 1 and in part 2 (poisson)", MIXEM_ERROR_OPTION, TRUE },
      { { "parts", "poisson:1", NULL }, NULL, 2, 1, { 1, 1 }, "product: column '2' is in no part",
        MIXEM_ERROR_OPTION, TRUE },
      { { "parts", "poisson:1;categorical:3", NULL }, NULL, 2, 1, { 1, 1 },
        "product: part 2 (categorical): no column '3' in the data", MIXEM_ERROR_OPTION, TRUE },
      { { NULL }, NULL, 2, 1, { 1, 1 }, "product: the option parts is required",
        MIXEM_ERROR_OPTION, TRUE },
    },
  },
  {
    .name = "toy", .d = 1, .components = "[{'mean': <-1.0>}, {'mean': <2.5>}]", .n_free = 2,
    .direct = toy_direct, .exact_n = 4, .exact_x = { -2, 0, 2, 3 }, .exact_z = { 0, 0, 1, 1 },
    .exact_components = "[{'mean': <-1.0>}, {'mean': <2.5>}]",
    .bad = { { { NULL }, NULL, 2, 1, { 1, 2 }, "toy: needs 1 column", MIXEM_ERROR_OPTION, TRUE } },
  },
};

static mixem_registry *reg;
static GPtrArray *families;

static void
setup (void)
{
  reg = mixem_registry_new ();
  ck_assert (mixem_registry_add (reg, &toy_family, NULL));
  families = mixem_registry_list (reg);
}

static void
teardown (void)
{
  g_ptr_array_unref (families);
  mixem_registry_free (reg);
}

static const family_ref *
ref_of (const mixem_family *f)
{
  for (size_t i = 0; i < G_N_ELEMENTS (refs); i++)
    if (strcmp (refs[i].name, f->name) == 0)
      return &refs[i];
  return NULL;
}

static mixem_options *
options_of (const char *const *kv)
{
  mixem_options *o = mixem_options_new ();
  for (int i = 0; kv[i]; i += 2)
    mixem_options_set (o, kv[i], kv[i + 1]);
  return o;
}

/* The family's parameters for K = 2 from the reference components. */
static mixem_params *
make_params (const mixem_family *f, const family_ref *r, const char *components)
{
  GError *err = NULL;
  mixem_options *o = options_of (r->opts);
  char *names[4] = { "1", "2", "3", NULL };
  mixem_spec spec = { 2, r->d, r->names ? (const char *const *) r->names
                                        : (const char *const *) names, o, f, NULL };
  mixem_params *p = f->params_new (&spec, &err);
  ck_assert_no_error (err);
  GVariant *cv = g_variant_ref_sink (g_variant_new_parsed (components));
  for (size_t k = 0; k < 2; k++) {
    GVariant *c = g_variant_get_child_value (cv, k);
    ck_assert (f->assign (p, k, c, NULL, &err));
    ck_assert_no_error (err);
    g_variant_unref (c);
  }
  g_variant_unref (cv);
  mixem_options_free (o);
  return p;
}

/* All the numbers of describe() for both components, flattened in key order. */
static GArray *
flatten (const mixem_family *f, const mixem_params *p)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (double));
  for (size_t k = 0; k < 2; k++) {
    GVariant *d = g_variant_ref_sink (f->describe (p, k));
    char *text = g_variant_print (d, FALSE);
    /* Every number in the printed form: enough for a family-independent comparison. */
    for (char *s = text; *s;) {
      char *end;
      double v = g_ascii_strtod (s, &end);
      if (end != s && (g_ascii_isdigit (*s) || *s == '-' || *s == '.')) {
        g_array_append_val (out, v);
        s = end;
      } else
        s++;
    }
    g_free (text);
    g_variant_unref (d);
  }
  return out;
}

static void
assert_same_params (const mixem_family *f, const mixem_params *a, const mixem_params *b,
                    double tol)
{
  GArray *x = flatten (f, a), *y = flatten (f, b);
  ck_assert_uint_eq (x->len, y->len);
  ck_assert_uint_gt (x->len, 0);
  for (guint i = 0; i < x->len; i++)
    ck_assert_rel (g_array_index (x, double, i), g_array_index (y, double, i), tol);
  g_array_free (x, TRUE);
  g_array_free (y, TRUE);
}

/* N rows drawn from P's components, alternately; Z gets each row's component. */
static double *
draw (const mixem_family *f, const mixem_params *p, size_t d, size_t n, size_t *z)
{
  gsl_rng *rng = gsl_rng_alloc (gsl_rng_mt19937);
  double *x = g_new (double, n * d);
  for (size_t i = 0; i < n; i++) {
    z[i] = i % 2;
    if (f->sample)
      f->sample (p, z[i], rng, x + i * d);
  }
  gsl_rng_free (rng);
  if (!f->sample)
    ref_of (f)->gen (n, z, x);
  return x;
}

START_TEST (test_every_family_has_a_reference)
{
  ck_assert_uint_ge (families->len, 2);   /* binomial from its module, toy from C */
  for (guint i = 0; i < families->len; i++) {
    const mixem_family *f = g_ptr_array_index (families, i);
    ck_assert_msg (ref_of (f) != NULL, "family '%s' has no entry in refs[]", f->name);
  }
}
END_TEST

/* The family of reference R among those found, or NULL. */
static const mixem_family *
family_of (const family_ref *r)
{
  for (guint i = 0; i < families->len; i++) {
    const mixem_family *f = g_ptr_array_index (families, i);
    if (strcmp (f->name, r->name) == 0)
      return f;
  }
  return NULL;
}

/* Runs the body for each reference entry (a family may have several, one per configuration),
 * with f, r and p (its reference parameters). */
#define FOR_EACH_FAMILY(...)                                                                       \
  for (size_t ri = 0; ri < G_N_ELEMENTS (refs); ri++) {                                            \
    const family_ref *r = &refs[ri];                                                               \
    const mixem_family *f = family_of (r);                                                         \
    ck_assert_msg (f != NULL, "family '%s' was not found", r->name);                               \
    mixem_params *p = make_params (f, r, r->components);                                           \
    __VA_ARGS__;                                                                                   \
    f->params_free (p);                                                                            \
  }

START_TEST (test_log_density_matches_the_direct_formula)
{
  FOR_EACH_FAMILY ({
    size_t z[40];
    double *x = draw (f, p, r->d, 40, z), out[80];
    mixem_block b = { 40, r->d, 0, x, NULL, NULL, NULL, NULL };
    f->log_density (p, &b, out);
    /* The parameters as the family describes them (mean and full cov for every Gaussian type). */
    for (size_t i = 0; i < 40; i++)
      for (size_t k = 0; k < 2; k++) {
        GVariant *c = g_variant_ref_sink (f->describe (p, k));
        ck_assert_rel (out[i * 2 + k], r->direct (x + i * r->d, c), 1e-12);
        g_variant_unref (c);
      }
    g_free (x);
  });
}
END_TEST

START_TEST (test_accumulate_is_additive)
{
  FOR_EACH_FAMILY ({
    size_t z[60], ss = f->stats_size (p);
    double *x = draw (f, p, r->d, 60, z), resp[120];
    gsl_rng *rng = gsl_rng_alloc (gsl_rng_mt19937);
    for (size_t i = 0; i < 120; i++)
      resp[i] = gsl_rng_uniform (rng) * 3;   /* weighted responsibilities need not sum to 1 */
    gsl_rng_free (rng);
    double *all = g_new0 (double, ss), *parts = g_new0 (double, ss);
    mixem_block whole = { 60, r->d, 0, x, NULL, NULL, NULL, NULL };
    mixem_block a = { 23, r->d, 0, x, NULL, NULL, NULL, NULL };
    mixem_block b = { 37, r->d, 23, x + 23 * r->d, NULL, NULL, NULL, NULL };
    f->accumulate (p, &whole, resp, all);
    f->accumulate (p, &a, resp, parts);
    f->accumulate (p, &b, resp + 46, parts);
    for (size_t j = 0; j < ss; j++)
      ck_assert_double_eq_tol (all[j], parts[j], 1e-12 * fmax (1.0, fabs (all[j])));
    g_free (all);
    g_free (parts);
    g_free (x);
  });
}
END_TEST

/* Statistics of rows X under one-hot responsibilities from Z, accumulated at P. */
static double *
hard_stats (const mixem_family *f, const mixem_params *p, const double *x, const size_t *z,
            size_t n, size_t d)
{
  double *resp = g_new0 (double, 2 * n), *st = g_new0 (double, f->stats_size (p));
  for (size_t i = 0; i < n; i++)
    resp[i * 2 + z[i]] = 1.0;
  mixem_block b = { n, d, 0, x, NULL, NULL, NULL, NULL };
  f->accumulate (p, &b, resp, st);
  g_free (resp);
  return st;
}

START_TEST (test_maximise_recovers_exactly_fitting_parameters)
{
  FOR_EACH_FAMILY ({
    GError *err = NULL;
    double *st = hard_stats (f, p, r->exact_x, r->exact_z, r->exact_n, r->d);
    ck_assert (f->maximise (p, st, NULL, &err));
    ck_assert_no_error (err);
    mixem_params *want = make_params (f, r, r->exact_components);
    assert_same_params (f, p, want, 1e-12);
    /* And a fixed point: the statistics again, at the new parameters, give them back. */
    g_free (st);
    st = hard_stats (f, p, r->exact_x, r->exact_z, r->exact_n, r->d);
    ck_assert (f->maximise (p, st, NULL, &err));
    assert_same_params (f, p, want, 1e-12);
    /* A fixed component is left alone. */
    mixem_params *q = make_params (f, r, r->components), *q0 = f->params_copy (q);
    const gboolean fixed[2] = { TRUE, TRUE };
    ck_assert (f->maximise (q, st, fixed, &err));
    assert_same_params (f, q, q0, 0.0);
    f->params_free (q);
    f->params_free (q0);
    f->params_free (want);
    g_free (st);
  });
}
END_TEST

START_TEST (test_maximise_refuses_an_empty_component)
{
  FOR_EACH_FAMILY ({
    GError *err = NULL;
    double *st = g_new0 (double, f->stats_size (p));
    ck_assert (!f->maximise (p, st, NULL, &err));
    ck_assert_error (err, MIXEM_ERROR_NUMERIC, "component 1");
    g_free (st);
  });
}
END_TEST

START_TEST (test_expected_loglik_equals_the_explicit_sum)
{
  FOR_EACH_FAMILY ({
    if (!f->expected_loglik) {
      f->params_free (p);
      continue;   /* the engine computes it by a pass, tested in check_engine */
    }
    size_t z[50], ss = f->stats_size (p);
    double *x = draw (f, p, r->d, 50, z), resp[100], dens[100];
    for (size_t i = 0; i < 50; i++) {
      resp[2 * i] = 0.25 + 0.5 * (i % 3) / 2.0;
      resp[2 * i + 1] = 1.0 - resp[2 * i];
    }
    mixem_block b = { 50, r->d, 0, x, NULL, NULL, NULL, NULL };
    double *st = g_new0 (double, ss), explicit_sum = 0;
    f->accumulate (p, &b, resp, st);
    f->log_density (p, &b, dens);
    for (size_t i = 0; i < 100; i++)
      explicit_sum += resp[i] * dens[i];
    ck_assert_rel (f->expected_loglik (p, st), explicit_sum, 1e-12);
    g_free (st);
    g_free (x);
  });
}
END_TEST

START_TEST (test_n_free_params_and_describe_round_trip)
{
  FOR_EACH_FAMILY ({
    ck_assert_uint_eq (f->n_free_params (p), r->n_free);
    mixem_params *q = make_params (f, r, r->components);
    GError *err = NULL;
    for (size_t k = 0; k < 2; k++) {
      GVariant *d = g_variant_ref_sink (f->describe (p, 1 - k));
      ck_assert (f->assign (q, k, d, NULL, &err));
      g_variant_unref (d);
    }
    for (size_t k = 0; k < 2; k++) {
      GVariant *a = g_variant_ref_sink (f->describe (p, k));
      GVariant *b = g_variant_ref_sink (f->describe (q, 1 - k));
      ck_assert (g_variant_equal (a, b));
      g_variant_unref (a);
      g_variant_unref (b);
    }
    mixem_params *c = f->params_copy (q);
    assert_same_params (f, c, q, 0.0);
    f->params_free (c);
    f->params_free (q);
  });
}
END_TEST

START_TEST (test_documented_errors)
{
  for (size_t ri = 0; ri < G_N_ELEMENTS (refs); ri++) {
    const family_ref *r = &refs[ri];
    const mixem_family *f = family_of (r);
    ck_assert_msg (f != NULL, "family '%s' was not found", r->name);
    for (size_t j = 0; j < G_N_ELEMENTS (r->bad) && r->bad[j].expect; j++) {
      const bad_case *bc = &r->bad[j];
      GError *err = NULL;
      mixem_dataset *ds = mixem_dataset_new (bc->n, bc->d, bc->x, (const char *const *) bc->names,
                                             NULL, &err);
      ck_assert_no_error (err);
      mixem_options *o = options_of (bc->opts);
      mixem_fit_options fo;
      mixem_fit_options_init (&fo);
      fo.family_options = o;
      ck_assert_ptr_null (mixem_fit (f, ds, &fo, &err));
      ck_assert_error (err, bc->code, bc->expect);
      mixem_options_free (o);
      mixem_dataset_free (ds);
    }
  }
}
END_TEST

/* Issue 18: k and d come from input (a model file), and sizes beyond the machine's memory aborted
 * in g_malloc; params_new must refuse them with an error. */
START_TEST (test_huge_sizes_are_errors)
{
  static const struct {
    const char *family, *cov;
    size_t k, d;
    const char *expect;
  } cases[] = {
    { "gaussian", "full", 1, 400000,
      "gaussian: the model needs 3.8 TB for k = 1, d = 400000 full" },
    { "gaussian", "tied", 3, 1000000,
      "gaussian: the model needs 24.0 TB for k = 3, d = 1000000 tied" },
    { "gaussian", "diag", (size_t) 1 << 40, 1 << 20,
      "gaussian: the model needs 27.7 EB for k = 1099511627776" },
    { "bernoulli", NULL, 1000000, 400000,
      "bernoulli: the model needs 6.4 TB for k = 1000000, d = 400000" },
    { "bernoulli", NULL, (size_t) 1 << 62, 1 << 20, "bernoulli: the model needs" },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++) {
    GError *err = NULL;
    const mixem_family *f = mixem_registry_lookup (reg, cases[i].family, &err);
    ck_assert_no_error (err);
    mixem_options *o = mixem_options_new ();
    if (cases[i].cov)
      mixem_options_set (o, "covariance", cases[i].cov);
    mixem_spec spec = { cases[i].k, cases[i].d, NULL, o, f, NULL };
    ck_assert_ptr_null (f->params_new (&spec, &err));
    ck_assert_error (err, MIXEM_ERROR_DATA, cases[i].expect);
    mixem_options_free (o);
  }
}
END_TEST

/* 1, 2 and 3 threads give the same fit bit for bit, for every family and configuration: rows
 * drawn from the reference components, fitted from random responsibilities in blocks of 7. */
START_TEST (test_threads_give_identical_bits)
{
  FOR_EACH_FAMILY ({
    GError *err = NULL;
    mixem_options *o = options_of (r->opts);
    GVariant *cv = g_variant_ref_sink (g_variant_new_parsed (r->components));
    const double w[2] = { 0.4, 0.6 };
    mixem_options *so = options_of (r->opts);   /* binomial draws need a number of trials */
    if (strcmp (r->name, "binomial") == 0)
      mixem_options_set (so, "sample_trials", "20");
    mixem_model *truth = mixem_model_new (f, 2, r->d, (const char *const *) r->names, so, w, cv,
                                          &err);
    mixem_options_free (so);
    ck_assert_no_error (err);
    const size_t n = 300;
    double *x = g_new (double, n * r->d);
    if (f->sample)
      ck_assert (mixem_model_sample (truth, n, 5, x, NULL, &err));
    else {
      size_t *z = g_new (size_t, n);
      for (size_t i = 0; i < n; i++)
        z[i] = i % 5 < 2 ? 0 : 1;
      r->gen (n, z, x);
      g_free (z);
    }
    mixem_dataset *ds = mixem_dataset_new (n, r->d, x, (const char *const *) r->names, NULL,
                                           &err);
    ck_assert_no_error (err);
    mixem_model *m[3];
    for (int t = 0; t < 3; t++) {
      mixem_fit_options fo;
      mixem_fit_options_init (&fo);
      fo.k = 2;
      fo.max_iter = 15;
      fo.tol = 0;
      fo.seed = 3;
      fo.init = "random_resp";
      fo.n_init = 2;        /* restarts and small-EM's short runs, each over the threads */
      fo.short_starts = 2;
      fo.threads = t + 1;
      fo.block_size = 7;
      fo.family_options = o;
      m[t] = mixem_fit (f, ds, &fo, &err);
      ck_assert_msg (err == NULL, "%s: %s", r->name, err ? err->message : "");
    }
    for (int t = 1; t < 3; t++) {
      const double a = mixem_model_loglik (m[0]), b = mixem_model_loglik (m[t]);
      ck_assert_msg (memcmp (&a, &b, sizeof a) == 0, "%s: log-likelihood %.17g with 1 thread, "
                     "%.17g with %d", r->name, a, b, t + 1);
      ck_assert (memcmp (mixem_model_weights (m[0]), mixem_model_weights (m[t]),
                         2 * sizeof (double)) == 0);
      for (size_t k = 0; k < 2; k++) {
        GVariant *da = g_variant_ref_sink (f->describe (mixem_model_params (m[0]), k));
        GVariant *db = g_variant_ref_sink (f->describe (mixem_model_params (m[t]), k));
        ck_assert_msg (g_variant_equal (da, db), "%s: component %zu differs", r->name, k + 1);
        g_variant_unref (da);
        g_variant_unref (db);
      }
    }
    for (int t = 0; t < 3; t++)
      mixem_model_free (m[t]);
    mixem_model_free (truth);
    mixem_dataset_free (ds);
    g_variant_unref (cv);
    g_free (x);
    mixem_options_free (o);
  });
}
END_TEST

/* Poisson's own checks: assign refuses what is not d positive finite rates, naming the family and
 * the key; sampling rates beyond 2^32 (where one gsl_ran_poisson draw would wrap) gives whole
 * numbers near the rate. */
START_TEST (test_poisson_assign_and_large_rates)
{
  GError *err = NULL;
  mixem_params *p = NULL;
  const mixem_family *f = NULL;
  for (size_t ri = 0; ri < G_N_ELEMENTS (refs); ri++)
    if (strcmp (refs[ri].name, "poisson") == 0) {
      f = family_of (&refs[ri]);
      p = make_params (f, &refs[ri], refs[ri].components);
    }
  ck_assert (f && p);
  const char *bad[][2] = {
    { "@a{sv} {}", "poisson: component has no 'lambda'" },
    { "{'mean': <[1.0, 2.0]>}", "poisson: a component has no parameter 'mean' (it has: lambda)" },
    { "{'lambda': <[1.0, 2.0, 3.0]>}", "poisson: 'lambda' must be an array of 2 rates" },
    { "{'lambda': <1.0>}", "poisson: 'lambda' must be an array of 2 rates" },
    { "{'lambda': <[1.0, 0.0]>}", "poisson: 'lambda' must be finite and > 0 (got 0 in column 2)" },
    { "{'lambda': <[-1.0, 2.0]>}", "poisson: 'lambda' must be finite and > 0 (got -1 in column 1)" },
    { "{'lambda': <[inf, 2.0]>}", "poisson: 'lambda' must be finite and > 0" },
    { "{'lambda': <[nan, 2.0]>}", "poisson: 'lambda' must be finite and > 0" },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (bad); i++) {
    GVariant *d = g_variant_ref_sink (g_variant_new_parsed (bad[i][0]));
    ck_assert (!f->assign (p, 0, d, NULL, &err));
    ck_assert_error (err, MIXEM_ERROR_FORMAT, bad[i][1]);
    g_variant_unref (d);
  }
  const double rates[] = { 3e9, 5e9, 1e12, 1e14 };
  gsl_rng *rng = gsl_rng_alloc (gsl_rng_mt19937);
  for (size_t i = 0; i < G_N_ELEMENTS (rates); i++) {
    char *text = g_strdup_printf ("{'lambda': <[%.17g, 1.0]>}", rates[i]);
    GVariant *d = g_variant_ref_sink (g_variant_new_parsed (text));
    ck_assert (f->assign (p, 1, d, NULL, &err));
    ck_assert_no_error (err);
    double sum = 0, x[2];
    for (int t = 0; t < 20; t++) {
      f->sample (p, 1, rng, x);
      ck_assert (x[0] == floor (x[0]) && x[0] >= 0);
      ck_assert_msg (fabs (x[0] - rates[i]) < 8 * sqrt (rates[i]), "draw %.17g of rate %g", x[0],
                     rates[i]);
      sum += x[0];
    }
    ck_assert_msg (fabs (sum / 20 - rates[i]) < 4 * sqrt (rates[i] / 20), "mean %g of rate %g",
                   sum / 20, rates[i]);
    g_variant_unref (d);
    g_free (text);
  }
  gsl_rng_free (rng);
  f->params_free (p);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("families");
  TCase *tc = tcase_create ("conformance");
  /* Check's default of 4 s: the thread test fits every family three times, over 4 s on a busy
   * two-core machine once exponential, gamma and multinomial joined. */
  tcase_set_timeout (tc, 60);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_every_family_has_a_reference);
  tcase_add_test (tc, test_log_density_matches_the_direct_formula);
  tcase_add_test (tc, test_accumulate_is_additive);
  tcase_add_test (tc, test_maximise_recovers_exactly_fitting_parameters);
  tcase_add_test (tc, test_maximise_refuses_an_empty_component);
  tcase_add_test (tc, test_expected_loglik_equals_the_explicit_sum);
  tcase_add_test (tc, test_n_free_params_and_describe_round_trip);
  tcase_add_test (tc, test_documented_errors);
  tcase_add_test (tc, test_huge_sizes_are_errors);
  tcase_add_test (tc, test_threads_give_identical_bits);
  tcase_add_test (tc, test_poisson_assign_and_large_rates);
  suite_add_tcase (s, tc);
  return test_run (s);
}
