/* gaussian.c: the Gaussian family, with mclust's 14 covariance models: full, tied, diagonal,
 * spherical and tied-spherical (VVV, EEE, VVI, VII and EII) in their own storage, and EEI, VEI,
 * EVI (stored as diagonal) and VEE, EVE, VVE, EEV, VEV, EVV (stored as full) whose M-step is
 * maximise_model() (see the comment above it).
 *
 *   log p(x | mu_k, S_k) = -1/2 [ D log 2 pi + log det S_k + (x - mu_k)' S_k^-1 (x - mu_k) ]
 *
 * Each covariance is kept with its Cholesky factor S = L L' (full, tied) or its square roots
 * (diag, spherical).  Full and tied also keep the Cholesky factor of the precision, W = L^-T
 * (scikit-learn's precisions_cholesky_, by a triangular inversion once per M-step; no covariance
 * is ever inverted), so the quadratic form |L^-1 (x - mu)|^2 = |W'(x - mu)|^2 is one
 * triangular matrix-vector product per row, taken for a chunk of rows at a time in vector
 * registers (log_density_full).  Axis-aligned covariances take all components at once by one
 * matrix product.  Both kernels take the rows
 * about one shift c, the mean of the component means, so data far from the origin keep their
 * digits; a component's statistics are then moved to its own mean (see accumulate_*): the
 * digits this loses grow with (distance between component means / their spread)^2.
 *
 * Statistics of component k under weighted responsibilities r_i, about a shift c_k (the mean
 * the statistics were gathered at), so that data far from the origin keep their precision:
 *   R = sum r_i,  Rc = R c_k,  S1 = sum r_i (x_i - c_k),  S2 = sum r_i (x_i - c_k)(x_i - c_k)'
 * (S2 whole for full and tied, its diagonal otherwise), and H, the entropy of the missing cells
 * given the observed ones (0 without missing cells; see "Missing cells" below).  Keeping R c_k rather than c_k keeps the
 * statistics additive over blocks and lets maximise() and expected_loglik() find the shift.
 * For any mean mu, with e = mu - c and m = S1 / R,
 *   Q(mu) = sum r_i (x_i - mu)(x_i - mu)' = S2 - R (m e' + e m') + R e e'.
 * M-step (as scikit-learn's GaussianMixture): mu = c + m; S_k = Q(mu)/R + reg_covar I (full);
 * diag keeps the diagonal; spherical the mean of the diagonal; tied sum_k Q_k / sum_k R_k;
 * tied-spherical the mean diagonal of that.  Expected complete log-likelihood:
 *   sum_k -1/2 [ R_k (D log 2 pi + log det S_k) + tr(S_k^-1 Q_k(mu_k)) ].
 * A covariance that is not positive definite (a component collapsed onto a subspace, possible
 * with reg_covar = 0), or one so near it that a column keeps less than 1e-10 of its variance
 * given the others, and a component with no weight left are errors naming the component.
 */
#include <math.h>
#include <string.h>
#include <gsl/gsl_cblas.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_randist.h>
#include <mixem/family.h>

/* The block kernels' row loops are vectorised (#pragma omp simd); on x86-64 they also get an
 * AVX2 clone chosen at load time.  Without FMA contraction (ISO C mode) both compute the same
 * bits. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define VECTOR_CLONES __attribute__ ((target_clones ("arch=x86-64-v3", "default")))
#else
#define VECTOR_CLONES
#endif

typedef enum { FULL, TIED, DIAG, SPHERICAL, TIED_SPHERICAL } cov_type;

/* The 14 models Sigma_k = lambda_k D_k A_k D_k' (Celeux and Govaert, 1995) as mclust names
 * them.  The five of scikit-learn's kinds keep their own storage; the other nine are stored per
 * component, the diagonal ones as DIAG and the others as FULL, even where parts are shared, so
 * that the log-density kernels, expected_loglik, describe, assign and sample are those of diag
 * and full; only maximise() (maximise_model) differs. */
typedef enum {
  M_EII, M_VII, M_EEI, M_VEI, M_EVI, M_VVI, M_EEE, M_VEE, M_EVE, M_VVE, M_EEV, M_VEV, M_EVV,
  M_VVV, N_MODELS
} model_id;

static const struct {
  const char *name, *alias;   /* mclust's name; scikit-learn's, for the five it has */
  cov_type type;
} models[N_MODELS] = {
  [M_EII] = { "EII", "tied_spherical", TIED_SPHERICAL }, [M_VII] = { "VII", "spherical", SPHERICAL },
  [M_EEI] = { "EEI", NULL, DIAG }, [M_VEI] = { "VEI", NULL, DIAG }, [M_EVI] = { "EVI", NULL, DIAG },
  [M_VVI] = { "VVI", "diag", DIAG }, [M_EEE] = { "EEE", "tied", TIED },
  [M_VEE] = { "VEE", NULL, FULL }, [M_EVE] = { "EVE", NULL, FULL }, [M_VVE] = { "VVE", NULL, FULL },
  [M_EEV] = { "EEV", NULL, FULL }, [M_VEV] = { "VEV", NULL, FULL }, [M_EVV] = { "EVV", NULL, FULL },
  [M_VVV] = { "VVV", "full", FULL },
};

/* The number of covariance parameters, as mclust's nVarParams counts them. */
static size_t
n_var_params (model_id m, size_t K, size_t d)
{
  const size_t t = d * (d + 1) / 2, o = d * (d - 1) / 2;
  switch (m) {
  case M_EII: return 1;
  case M_VII: return K;
  case M_EEI: return d;
  case M_VEI: return K + d - 1;
  case M_EVI: return 1 + K * (d - 1);
  case M_VVI: return K * d;
  case M_EEE: return t;
  case M_VEE: return K + t - 1;
  case M_EVE: return 1 + K * (d - 1) + o;
  case M_VVE: return K * d + o;
  case M_EEV: return 1 + (d - 1) + K * o;
  case M_VEV: return K + (d - 1) + K * o;
  case M_EVV: return 1 + K * (t - 1);
  default: return K * t;
  }
}

struct mixem_params {
  size_t k, d;
  cov_type type;
  model_id model;
  double reg;
  double *mean;     /* k*d */
  double *cov;      /* per covariance block: d*d (full, tied), d variances (diag), 1 (spherical) */
  double *fac;      /* its factor: lower Cholesky L, or standard deviations */
  double *pw;       /* full, tied: the precision factors W_b = L_b^-T side by side, d by d*blocks
                     * (row-major), so that L_b^-1 (x - mu) is (x - mu)' W_b */
  double *logdet;   /* per covariance block */
  size_t tied_by;   /* tied: the 1-based component whose assign() gave the shared covariance */
  /* The conjugate prior (prior = "default"; see maximise_prior): shrinkage kappa, degrees of
   * freedom nu, the prior mean (d) and scale (d*d for EEE and VVV, else one number). */
  gboolean prior;
  gboolean prior_known;   /* the hyperparameters were made from data (not so for a model file) */
  double kappa, nu;
  double *pmean, *pscale;
};

static const char *const hc_models[] = { "VVV", "VII", "EEE", "EII", "V", "E", NULL };
static const char *const hc_uses[] = { "SVD", "VARS", NULL };
static const char *const prior_choices[] = { "none", "default", NULL };

static const mixem_option_info options[] = {
  { "covariance", "one of mclust's 14 models EII, VII, EEI, VEI, EVI, VVI, EEE, VEE, EVE, VVE, "
    "EEV, VEV, EVV, VVV; or full, tied, diag, spherical, tied_spherical (VVV, EEE, VVI, VII, EII)",
    "full", MIXEM_OPTION_TEXT, NULL, NULL },
  { "reg_covar", "added to the diagonal of every covariance, as in scikit-learn (0 for mclust's "
    "fits)", "1e-6",
    MIXEM_OPTION_NUMBER, "[0, inf)", NULL },
  { "hc_model", "the start hc's model (mclust's hc): VVV, VII, EEE, EII, or V, E for one column "
    "(default VVV, V for one column)", NULL, MIXEM_OPTION_CHOICE, NULL, hc_models },
  { "hc_use", "the start hc's data transformation: SVD (mclust >= 5.4) or VARS (raw columns)",
    "SVD", MIXEM_OPTION_CHOICE, NULL, hc_uses },
  { "hc_subset", "the start hc clusters this many evenly spaced rows (mclust's subset; 0: all)",
    "2000", MIXEM_OPTION_INTEGER, "[0, inf)", NULL },
  { "prior", "none, or default: mclust's conjugate prior (priorControl(), defaultPrior; "
    "Fraley and Raftery 2007), for EII, VII, EEI, EVI, VVI, EEE, EEV, VVV; the M-step is then the MAP "
    "update", "none", MIXEM_OPTION_CHOICE, NULL, prior_choices },
  { "prior_shrinkage", "the prior's shrinkage kappa of the means towards the data's column "
    "means (mclust's 0.01)", "0.01", MIXEM_OPTION_NUMBER, "[0, inf)", NULL },
  { "prior_dof", "the prior's degrees of freedom (default d + 2, mclust's)", NULL,
    MIXEM_OPTION_NUMBER, "(0, inf)", NULL },
  { 0 }
};

/* "random" first, the default of init "auto": K distinct rows screened by small-EM reached
 * mclust's optimum in every Gaussian cell of tests/reference/r_fixtures.lua (bench/r_cells.lua,
 * seeds 0 to 3), where k-means starts kept landing in the same few basins.  "hc" (the engine's,
 * src/hc.c: mclust's default) is asked for by name. */
static const char *const init_methods[] = { "random", "kmeans", "kmeans++", "random_resp", "hc",
                                            NULL };

static size_t
n_blocks (const mixem_params *p)
{
  return p->type == TIED || p->type == TIED_SPHERICAL ? 1 : p->k;
}

static gboolean
is_tied (const mixem_params *p)
{
  return p->type == TIED || p->type == TIED_SPHERICAL;
}

static size_t
block_len (const mixem_params *p)
{
  return p->type == FULL || p->type == TIED ? p->d * p->d : p->type == DIAG ? p->d : 1;
}

/* The covariance block of component K. */
static size_t
blk (const mixem_params *p, size_t k)
{
  return is_tied (p) ? 0 : k;
}

static gboolean
is_full (const mixem_params *p)
{
  return p->type == FULL || p->type == TIED;
}

static size_t
stat_len (const mixem_params *p)
{
  return 1 + 2 * p->d + (is_full (p) ? p->d * p->d : p->d) + 1;
}

static void params_free (mixem_params *p);

/* Row I's cells into ACC (the prior's data mean). */
static void
prior_add_row (const mixem_dataset *ds, size_t i, double *acc, void *user)
{
  (void) user;
  for (size_t j = 0; j < mixem_dataset_cols (ds); j++)
    acc[j] += mixem_dataset_value (ds, i, j);
}

/* Row I's outer product about the mean USER into ACC's upper triangle (the prior's scatter). */
static void
prior_add_scatter (const mixem_dataset *ds, size_t i, double *acc, void *user)
{
  const double *mean = user;
  const size_t d = mixem_dataset_cols (ds);
  double e[d > 0 ? d : 1];
  for (size_t j = 0; j < d; j++)
    e[j] = mixem_dataset_value (ds, i, j) - mean[j];
  for (size_t a = 0; a < d; a++)
    for (size_t b = a; b < d; b++)
      acc[a * d + b] += e[a] * e[b];
}

/* The conjugate prior's hyperparameters, as mclust's defaultPrior makes them from the data
 * (Fraley and Raftery 2007): kappa = prior_shrinkage (0.01), nu = prior_dof (d + 2), the prior
 * mean the data's column means, and the scale (1/K)^(2/d) times the data's covariance (EEE,
 * EEV, VEV, VVV; its diagonal when N <= d) or times the mean of the column variances (the
 * diagonal and spherical models).  Means and variances are of the rows as given (weights are not
 * used; mclust has none), in two passes, the variance with N - 1.  mclust offers the prior for
 * ten models, and so does mixem (VEI and VEV by maximise_model's iterations); VEE, EVE, VVE and
 * EVV mclust refuses. */
static gboolean
prior_setup (mixem_params *p, const mixem_spec *spec, GError **error)
{
  const char *pr = mixem_options_get (spec->options, "prior");
  if (!pr || strcmp (pr, "none") == 0)
    return TRUE;
  const model_id m = p->model;
  if (m == M_VEE || m == M_EVE || m == M_VVE || m == M_EVV) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 "gaussian: 'prior' = 'default' is available for EII, VII, EEI, VEI, EVI, VVI, "
                 "EEE, EEV, VEV and VVV only, not %s (mclust has no prior for VEE, EVE, VVE, EVV "
                 "either)", models[m].name);
    return FALSE;
  }
  const size_t d = p->d, K = p->k;
  p->prior = TRUE;
  p->kappa = mixem_options_get_number (spec->options, "prior_shrinkage", 0.01);
  p->nu = mixem_options_get_number (spec->options, "prior_dof", (double) d + 2.0);
  p->pmean = g_new0 (double, d);
  p->pscale = g_new0 (double, is_full (p) ? d * d : 1);
  const mixem_dataset *ds = spec->data;
  const size_t n = ds ? mixem_dataset_all_rows (ds) : 0;
  if (!ds)   /* a model read from a file: maximise_prior refuses to run (see there) */
    return TRUE;
  p->prior_known = TRUE;
  if (n < 2 || mixem_dataset_cols (ds) != d) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA,
                 "gaussian: the prior needs at least 2 rows of %zu columns (has %zu)", d, n);
    return FALSE;
  }
  /* The data's mean and scatter about it, by the SDK's sums (all ranks' rows on a part). */
  double *cv = g_new0 (double, d * d);
  if (!mixem_dataset_sum_rows (ds, d, prior_add_row, NULL, p->pmean, error)) {
    g_free (cv);
    return FALSE;
  }
  for (size_t j = 0; j < d; j++)
    p->pmean[j] /= (double) n;
  if (!mixem_dataset_sum_rows (ds, d * d, prior_add_scatter, p->pmean, cv, error)) {
    g_free (cv);
    return FALSE;
  }
  const double fac = pow (1.0 / (double) K, 2.0 / (double) d);
  double tv = 0.0;
  for (size_t a = 0; a < d; a++) {
    tv += cv[a * d + a] / (double) (n - 1);
    for (size_t b = a; b < d; b++)
      cv[a * d + b] = cv[b * d + a] = cv[a * d + b] / (double) (n - 1);
  }
  if (is_full (p))
    for (size_t a = 0; a < d; a++)
      for (size_t b = 0; b < d; b++)
        p->pscale[a * d + b] = (n > d || a == b) ? fac * cv[a * d + b] : 0.0;
  else
    p->pscale[0] = fac * tv / (double) d;
  g_free (cv);
  return TRUE;
}

static mixem_params *
params_new (const mixem_spec *spec, GError **error)
{
  const char *cv = mixem_options_get (spec->options, "covariance");
  model_id model = M_VVV;
  gboolean found = !cv;
  for (size_t i = 0; cv && i < N_MODELS && !found; i++)
    if (strcmp (cv, models[i].name) == 0
        || (models[i].alias && g_ascii_strcasecmp (cv, models[i].alias) == 0)) {
      model = (model_id) i;
      found = TRUE;
    }
  if (!found) {
    char *q = mixem_quote (cv, -1);
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 "gaussian: 'covariance' = '%s' is not full (VVV), tied (EEE), diag (VVI), "
                 "spherical (VII), tied_spherical (EII) or one of mclust's other models EEI, VEI, "
                 "EVI, VEE, EVE, VVE, EEV, VEV, EVV", q);
    g_free (q);
    return NULL;
  }
  const cov_type type = models[model].type;
  /* Checked against its range, and defaulted, by the engine. */
  const double reg = mixem_options_get_number (spec->options, "reg_covar", 1e-6);
  mixem_params *p = g_new0 (mixem_params, 1);
  p->k = spec->k;
  p->d = spec->d;
  p->type = type;
  p->model = model;
  p->reg = reg;
  if (!prior_setup (p, spec, error)) {
    params_free (p);
    return NULL;
  }
  /* k and d come from input (a model file, a wide CSV): d = 100000 full covariances would ask
   * g_malloc for 80 GB a matrix, which aborts.  The sizes (in double) are checked first. */
  const double kd = (double) p->k * (double) p->d, nb = (double) n_blocks (p);
  const double len = is_full (p) ? (double) p->d * (double) p->d : (double) block_len (p);
  const double need = 8.0 * (kd + nb * len * (is_full (p) ? 3.0 : 2.0) + nb);
  if (mixem_alloc_fits (need)) {
    p->mean = mixem_try_alloc0 (p->k * p->d, sizeof (double), NULL);
    p->cov = mixem_try_alloc0 (n_blocks (p) * block_len (p), sizeof (double), NULL);
    p->fac = mixem_try_alloc0 (n_blocks (p) * block_len (p), sizeof (double), NULL);
    p->logdet = mixem_try_alloc0 (n_blocks (p), sizeof (double), NULL);
    p->pw = is_full (p) ? mixem_try_alloc0 (n_blocks (p) * block_len (p), sizeof (double), NULL)
                        : NULL;
  }
  if (!p->mean || !p->cov || !p->fac || !p->logdet || (is_full (p) && !p->pw)) {
    char *size = mixem_format_bytes (need);
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "gaussian: the model needs %s for "
                 "k = %zu, d = %zu %s covariances (more than this machine has)", size, p->k,
                 p->d, models[model].alias ? models[model].alias : models[model].name);
    g_free (size);
    params_free (p);
    return NULL;
  }
  /* Identity covariances until a start or assign() says otherwise. */
  for (size_t b = 0; b < n_blocks (p); b++)
    for (size_t j = 0; j < (is_full (p) ? p->d : block_len (p)); j++) {
      const size_t at = b * block_len (p) + (is_full (p) ? j * p->d + j : j);
      p->cov[at] = p->fac[at] = 1.0;
      if (p->pw)
        p->pw[j * n_blocks (p) * p->d + b * p->d + j] = 1.0;
    }
  return p;
}

static mixem_params *
params_copy (const mixem_params *p)
{
  mixem_params *c = g_memdup2 (p, sizeof *p);
  const size_t nc = n_blocks (p) * block_len (p);
  c->mean = g_memdup2 (p->mean, p->k * p->d * sizeof (double));
  c->cov = g_memdup2 (p->cov, nc * sizeof (double));
  c->fac = g_memdup2 (p->fac, nc * sizeof (double));
  c->logdet = g_memdup2 (p->logdet, n_blocks (p) * sizeof (double));
  c->pw = p->pw ? g_memdup2 (p->pw, nc * sizeof (double)) : NULL;
  c->pmean = p->pmean ? g_memdup2 (p->pmean, p->d * sizeof (double)) : NULL;
  c->pscale = p->pscale ? g_memdup2 (p->pscale, (is_full (p) ? p->d * p->d : 1) * sizeof (double))
                        : NULL;
  return c;
}

static void
params_free (mixem_params *p)
{
  if (!p)
    return;
  g_free (p->mean);
  g_free (p->cov);
  g_free (p->fac);
  g_free (p->logdet);
  g_free (p->pw);
  g_free (p->pmean);
  g_free (p->pscale);
  g_free (p);
}

/* Factor covariance block B (already in p->cov): Cholesky or square roots, and log det. */
static gboolean
factor (mixem_params *p, size_t b, const char *what, GError **error)
{
  const size_t d = p->d, len = block_len (p);
  double *cov = p->cov + b * len, *f = p->fac + b * len;
  if (is_full (p)) {
    memcpy (f, cov, len * sizeof (double));
    gsl_matrix_view m = gsl_matrix_view_array (f, d, d);
    /* The library never lets GSL abort: the CLI and the Lua module switch its handler off, and
     * a non-positive-definite matrix is reported here by the return code. */
    int status = gsl_linalg_cholesky_decomp1 (&m.matrix);
    gboolean ok = status == GSL_SUCCESS;
    double ld = 0.0;
    /* L_jj^2 / S_jj is the share of column j's variance that the columns before it leave
     * unexplained; below 1e-10 the component lies on a subspace to ten digits, and Cholesky's
     * success there is rounding luck: its log-densities lose the digits that the ELBO identity
     * and the climb need.  The test is scale-free, as a bound on the condition number is not. */
    for (size_t j = 0; ok && j < d; j++) {
      ok = f[j * d + j] > 0 && isfinite (f[j * d + j])
           && f[j * d + j] * f[j * d + j] >= 1e-10 * cov[j * d + j];
      ld += 2.0 * log (f[j * d + j]);
    }
    if (!ok) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_NUMERIC,
                   "gaussian: %s: the covariance is not positive definite (the component has "
                   "collapsed onto a subspace; raise reg_covar, now %g)", what, p->reg);
      return FALSE;
    }
    for (size_t i = 0; i < d; i++)   /* keep L lower-triangular: zero what GSL left above */
      for (size_t j = i + 1; j < d; j++)
        f[i * d + j] = 0.0;
    p->logdet[b] = ld;
    /* The precision factor W_b = L^-T (upper), as scikit-learn's precisions_cholesky_: a
     * triangular inversion, once per M-step, that lets the log-density take every component
     * of a block in one matrix product. */
    double *inv = g_memdup2 (f, len * sizeof (double));
    gsl_matrix_view iv = gsl_matrix_view_array (inv, d, d);
    gsl_linalg_tri_invert (CblasLower, CblasNonUnit, &iv.matrix);
    const size_t ld_w = n_blocks (p) * d;
    for (size_t a = 0; a < d; a++)
      for (size_t j = 0; j < d; j++)
        p->pw[a * ld_w + b * d + j] = a <= j ? inv[j * d + a] : 0.0;
    g_free (inv);
    return TRUE;
  }
  double ld = 0.0;
  for (size_t j = 0; j < len; j++) {
    if (!(cov[j] > 0) || !isfinite (cov[j])) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_NUMERIC,
                   "gaussian: %s: variance %g is not positive (the component has collapsed; "
                   "raise reg_covar, now %g)", what, cov[j], p->reg);
      return FALSE;
    }
    f[j] = sqrt (cov[j]);
    ld += log (cov[j]);
  }
  p->logdet[b] = p->type == DIAG ? ld : (double) p->d * ld;
  return TRUE;
}

/* The shift of the axis-aligned kernels: the mean of the component means.  Rows are taken about
 * it, so that data far from the origin lose no digits in the expansion below. */
static void
shift_point (const mixem_params *p, double *c)
{
  const size_t d = p->d, K = p->k;
  for (size_t j = 0; j < d; j++) {
    double s = 0.0;
    for (size_t k = 0; k < K; k++)
      s += p->mean[k * d + j] - p->mean[j];
    c[j] = p->mean[j] + s / (double) K;
  }
}

/* Precision p_kj = 1 / var_kj of component K, dimension J (diag, spherical, tied-spherical). */
static double
precision (const mixem_params *p, size_t k, size_t j)
{
  const double *cov = p->cov + blk (p, k) * block_len (p);
  return 1.0 / cov[p->type == DIAG ? j : 0];
}

/* Rows of B about C, side by side with their squares: row i of XX (n by 2d) is
 * [x_i - c, (x_i - c)^2]. */
VECTOR_CLONES static void
centre_rows (const mixem_block *b, size_t d, const double *c, double *xx)
{
  for (size_t i = 0; i < b->n; i++) {
    const double *x = b->x + i * b->d;
    double *xs = xx + i * 2 * d, *x2 = xs + d;
#pragma omp simd
    for (size_t j = 0; j < d; j++) {
      const double t = x[j] - c[j];
      xs[j] = t;
      x2[j] = t * t;
    }
  }
}

/* Full and tied covariances: the rows about the shift once, transposed (Y', d by n, padded to
 * a whole number of chunks), y = x - c; b_k = (mu_k - c)' W_k; then for each component and each
 * chunk of CHUNK rows, z = W_k' y - b_k = L_k^-1 (x - mu_k) one coordinate at a time, its
 * square summed, all in registers: the triangle of W_k is read once per chunk and nothing of
 * size n*K*d is written.  The loops over the chunk vectorise. */
#define CHUNK 8
VECTOR_CLONES static void
log_density_full (const mixem_params *p, const mixem_block *b, double *out)
{
  const size_t n = b->n, d = p->d, K = p->k, ld = n_blocks (p) * d;
  const size_t np = (n + CHUNK - 1) / CHUNK * CHUNK;
  double *yt = g_new0 (double, d * np + 2 * d), *c = yt + d * np, *bk = c + d;
  const double c0 = (double) d * log (2.0 * M_PI);
  shift_point (p, c);
  for (size_t j = 0; j < d; j++) {
    double *yj = yt + j * np;
    for (size_t i = 0; i < n; i++)
      yj[i] = b->x[i * b->d + j] - c[j];
  }
  for (size_t k = 0; k < K; k++) {
    const size_t bb = blk (p, k);
    const double *w = p->pw + bb * d, *mu = p->mean + k * d;
    for (size_t j = 0; j < d; j++) {
      double t = 0.0;
      for (size_t a = 0; a <= j; a++)
        t += (mu[a] - c[a]) * w[a * ld + j];
      bk[j] = t;
    }
    const double base = c0 + p->logdet[bb];
    for (size_t i0 = 0; i0 < np; i0 += CHUNK) {
      double q[CHUNK] = { 0 };
      for (size_t j = 0; j < d; j++) {
        double z[CHUNK];
#pragma omp simd
        for (size_t v = 0; v < CHUNK; v++)
          z[v] = -bk[j];
        for (size_t a = 0; a <= j; a++) {
          const double wa = w[a * ld + j], *ya = yt + a * np + i0;
#pragma omp simd
          for (size_t v = 0; v < CHUNK; v++)
            z[v] += wa * ya[v];
        }
#pragma omp simd
        for (size_t v = 0; v < CHUNK; v++)
          q[v] += z[v] * z[v];
      }
      for (size_t v = 0; v < CHUNK && i0 + v < n; v++)
        out[(i0 + v) * K + k] = -0.5 * (base + q[v]);
    }
  }
  g_free (yt);
}

/* Axis-aligned covariances, all components at once by one matrix product: with y = x - c,
 * m_k = mu_k - c and precisions p_k,
 *   (x - mu_k)' P_k (x - mu_k) = (y^2) p_k - 2 y (m_k o p_k) + (m_k^2) p_k,
 * so that the log-densities are [y, y^2] [m_k o p_k, -p_k / 2]' plus a constant per component. */
static void
log_density_axes (const mixem_params *p, const mixem_block *b, double *out)
{
  const size_t n = b->n, d = p->d, K = p->k;
  double *xx = g_new (double, 2 * n * d + 2 * K * d + K + d), *coef = xx + 2 * n * d;
  double *cst = coef + 2 * K * d, *c = cst + K;
  const double c0 = (double) d * log (2.0 * M_PI);
  shift_point (p, c);
  centre_rows (b, d, c, xx);
  for (size_t k = 0; k < K; k++) {
    double s = 0.0;
    for (size_t j = 0; j < d; j++) {
      const double pk = precision (p, k, j), m = p->mean[k * d + j] - c[j];
      coef[k * 2 * d + j] = m * pk;
      coef[k * 2 * d + d + j] = -0.5 * pk;
      s += m * m * pk;
    }
    cst[k] = -0.5 * (c0 + p->logdet[blk (p, k)] + s);
  }
  cblas_dgemm (CblasRowMajor, CblasNoTrans, CblasTrans, (int) n, (int) K, (int) (2 * d), 1.0,
               xx, (int) (2 * d), coef, (int) (2 * d), 0.0, out, (int) K);
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < K; k++)
      out[i * K + k] += cst[k];
  g_free (xx);
}

static void
log_density_whole (const mixem_params *p, const mixem_block *b, double *out)
{
  if (is_full (p))
    log_density_full (p, b, out);
  else
    log_density_axes (p, b, out);
}

static size_t
stats_size (const mixem_params *p)
{
  return p->k * stat_len (p);
}

/* Full and tied, all components at once: with y = x - c, the upper triangle of y y' of each row
 * makes a column of Z' (d(d+1)/2 by n, built along the rows so that it vectorises); G' = Y' R
 * and H' = Z' R are two matrix products, and each component's sums move to its own shift c_k
 * with e = c_k - c:
 *   sum r (x - c_k) = G_k - R_k e,
 *   sum r (x - c_k)(x - c_k)' = H_k - e G_k' - G_k e' + R_k e e'. */
VECTOR_CLONES static void
accumulate_full (const mixem_params *p, const mixem_block *b, const double *r, double *stats)
{
  const size_t n = b->n, d = p->d, K = p->k, t = d * (d + 1) / 2;
  double *yt = g_new (double, n * d + n * t + K * d + K * t + K + d), *zt = yt + n * d;
  double *g = zt + n * t, *h = g + K * d, *rk = h + K * t, *c = rk + K;
  shift_point (p, c);
  for (size_t j = 0; j < d; j++) {
    double *yj = yt + j * n;
    const double *xj = b->x + j, cj = c[j];
    for (size_t i = 0; i < n; i++)
      yj[i] = xj[i * b->d] - cj;
  }
  for (size_t a = 0, at = 0; a < d; a++)
    for (size_t e = a; e < d; e++, at++) {
      const double *ya = yt + a * n, *ye = yt + e * n;
      double *z = zt + at * n;
#pragma omp simd
      for (size_t i = 0; i < n; i++)
        z[i] = ya[i] * ye[i];
    }
  cblas_dgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) d, (int) K, (int) n, 1.0, yt,
               (int) n, r, (int) K, 0.0, g, (int) K);
  cblas_dgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) t, (int) K, (int) n, 1.0, zt,
               (int) n, r, (int) K, 0.0, h, (int) K);
  memset (rk, 0, K * sizeof (double));
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < K; k++)
      rk[k] += r[i * K + k];
  for (size_t k = 0; k < K; k++) {
    const double *ck = p->mean + k * d;
    double *st = stats + k * stat_len (p), *rc = st + 1, *s1 = rc + d, *s2 = s1 + d;
    double e[d > 0 ? d : 1], gk[d > 0 ? d : 1];
    st[0] += rk[k];
    for (size_t j = 0; j < d; j++) {
      e[j] = ck[j] - c[j];
      gk[j] = g[j * K + k];
      rc[j] += rk[k] * ck[j];
      s1[j] += gk[j] - rk[k] * e[j];
    }
    for (size_t a = 0, at = 0; a < d; a++)   /* the upper triangle, as scatter() reads it */
      for (size_t j = a; j < d; j++, at++)
        s2[a * d + j] += h[at * K + k] - e[a] * gk[j] - gk[a] * e[j] + rk[k] * e[a] * e[j];
  }
  g_free (yt);
}

/* Axis-aligned: [G, H] = R' [Y, Y^2] about the shift c for all components by one product, then
 * moved to each component's own shift c_k with e = c_k - c:
 *   sum r (x - c_k) = G_k - R_k e,   sum r (x - c_k)^2 = H_k - 2 e G_k + R_k e^2. */
static void
accumulate_axes (const mixem_params *p, const mixem_block *b, const double *r, double *stats)
{
  const size_t n = b->n, d = p->d, K = p->k;
  double *xx = g_new (double, 2 * n * d + 2 * K * d + K + d), *gh = xx + 2 * n * d;
  double *rk = gh + 2 * K * d, *c = rk + K;
  shift_point (p, c);
  centre_rows (b, d, c, xx);
  cblas_dgemm (CblasRowMajor, CblasTrans, CblasNoTrans, (int) K, (int) (2 * d), (int) n, 1.0, r,
               (int) K, xx, (int) (2 * d), 0.0, gh, (int) (2 * d));
  memset (rk, 0, K * sizeof (double));
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < K; k++)
      rk[k] += r[i * K + k];
  for (size_t k = 0; k < K; k++) {
    const double *ck = p->mean + k * d, *g = gh + k * 2 * d, *h = g + d;
    double *st = stats + k * stat_len (p), *rc = st + 1, *s1 = rc + d, *s2 = s1 + d;
    st[0] += rk[k];
    for (size_t j = 0; j < d; j++) {
      const double e = ck[j] - c[j];
      rc[j] += rk[k] * ck[j];
      s1[j] += g[j] - rk[k] * e;
      s2[j] += h[j] - 2.0 * e * g[j] + rk[k] * e * e;
    }
  }
  g_free (xx);
}

static void
accumulate_whole (const mixem_params *p, const mixem_block *b, const double *r, double *stats)
{
  if (is_full (p))
    accumulate_full (p, b, r, stats);
  else
    accumulate_axes (p, b, r, stats);
}

/* ---- Missing cells (Ghahramani and Jordan 1994; Little and Rubin 2002, section 11.2) ----
 * A row whose coordinates m are missing and o observed has, under component k, the marginal
 * log-density log N(x_o; mu_o, S_oo).  In the statistics it stands as the completed row
 *   xhat = x with x_m = E[x_m | x_o, k] = mu_m + S_mo S_oo^-1 (x_o - mu_o),
 * with the conditional covariance C = S_mm - S_mo S_oo^-1 S_om added to the (m, m) block of S2
 * (its diagonal for the axis-aligned types, where C is diag S_mm and xhat_m = mu_m), and the
 * entropy of x_m given x_o, 1/2 [|m| log(2 pi e) + log det C], added to the last statistic.  Then
 * expected_loglik(), E_q log N(xhat; mu, S) - tr(S^-1 C)/2 plus that entropy, is exactly
 * log N(x_o; mu_o, S_oo) at the parameters the statistics were gathered at, and the ELBO stays
 * that of the observed data.
 * A block without missing cells takes the kernels above (the same bits as before).  The
 * axis-aligned types take a block with missing cells in one matrix product as well
 * (log_density_axes_missing), at 3/2 the cost of a complete one.  For full and tied covariances
 * a block's complete rows still take the kernels above, and the others are grouped by pattern,
 * each pattern's G = P_mm factored once per component and block (see cond below): per iteration
 * about (incomplete rows) x K x (d^2 + 2 |m| d) in scalar loops, for the E-step and again for
 * the statistics, plus (patterns in each block) x K x (|m|^2 d / 2 + |m|^3 / 3).  The cost grows
 * with the missing cells per row, not with the number of patterns (with cells missing at random
 * nearly every row has a pattern of its own); against a complete block's vectorised kernels and
 * matrix products, an incomplete row costs several times as much (bench/missing.sh). */

/* One missingness pattern under one component (full and tied), by the precision P = S^-1 =
 * W W' (W = L^-T, the factor the complete rows use): with G = P_mm = W_m W_m' (W_m: W's rows m),
 *   S_oo^-1 = P_oo - P_om G^-1 P_mo,  log det S_oo = log det S + log det G,
 *   E[x_m | x_o] = mu_m - G^-1 P_mo (x_o - mu_o),  C = G^-1,
 * so that a row costs one product with the triangle of W (as a complete row does) and |m|-sized
 * solves, whatever |o|: no factor of S_oo is needed.  Holds the mask, the missing indices, G's
 * Cholesky factor and C. */
typedef struct {
  size_t nm;
  const unsigned char *mask;
  size_t *m;
  double *lg, *c, *li;   /* G's factor, C, and L^-1 (scratch) */
  double logdet_g, entropy;
} cond;

static void
cond_init (cond *cd, size_t d)
{
  cd->m = g_new (size_t, d > 0 ? d : 1);
  cd->lg = g_new (double, 3 * d * d + 1);
  cd->c = cd->lg + d * d;
  cd->li = cd->c + d * d;
}

static void
cond_clear (cond *cd)
{
  g_free (cd->m);
  g_free (cd->lg);
}

/* Fills CD for the pattern MASK (d bytes, nonzero: missing) under covariance block BB.  A G that
 * cannot be factored (S at the edge of what factor() accepts) is FALSE: the pattern's rows get
 * -inf, and the engine reports them. */
static gboolean
cond_make (const mixem_params *p, size_t bb, const unsigned char *mask, cond *cd)
{
  const size_t d = p->d;
  cd->mask = mask;
  cd->nm = 0;
  for (size_t j = 0; j < d; j++)
    if (mask[j])
      cd->m[cd->nm++] = j;
  const size_t nm = cd->nm;
  const size_t ld = n_blocks (p) * d;
  const double *w = p->pw + bb * d;
  for (size_t a = 0; a < nm; a++)
    for (size_t c = 0; c <= a; c++) {
      const double *wa = w + cd->m[a] * ld, *wc = w + cd->m[c] * ld;
      double t = 0.0;
      for (size_t j = cd->m[a]; j < d; j++)   /* m[a] >= m[c]: W is upper triangular */
        t += wa[j] * wc[j];
      cd->lg[a * nm + c] = cd->lg[c * nm + a] = t;
    }
  /* G's Cholesky factor and C = G^-1 = L^-T L^-1 by plain loops: G is |m| by |m|, small, and
   * made for nearly every row, where GSL's views and BLAS calls would cost more than the sums. */
  double *l = cd->lg, *c = cd->c, prod = 1.0;
  for (size_t a = 0; a < nm; a++) {
    for (size_t e = 0; e <= a; e++) {
      double t = l[a * nm + e];
      for (size_t f = 0; f < e; f++)
        t -= l[a * nm + f] * l[e * nm + f];
      if (e < a)
        l[a * nm + e] = t / l[e * nm + e];
      else if (t > 0 && isfinite (t))
        l[a * nm + a] = sqrt (t);
      else
        return FALSE;
    }
    prod *= l[a * nm + a];
  }
  /* One log for the determinant; the sum of logs where the product leaves the range. */
  cd->logdet_g = 2.0 * log (prod);
  if (!isfinite (cd->logdet_g) || prod < 1e-280 || prod > 1e280) {
    cd->logdet_g = 0.0;
    for (size_t a = 0; a < nm; a++)
      cd->logdet_g += 2.0 * log (l[a * nm + a]);
  }
  /* L^-1 into C's lower triangle (forward substitution on the identity), then C = L^-T L^-1. */
  double *li = cd->li;
  for (size_t j = 0; j < nm; j++)
    for (size_t a = 0; a < nm; a++) {
      if (a < j) {
        li[a * nm + j] = 0.0;
        continue;
      }
      double t = a == j ? 1.0 : 0.0;
      for (size_t f = j; f < a; f++)
        t -= l[a * nm + f] * li[f * nm + j];
      li[a * nm + j] = t / l[a * nm + a];
    }
  for (size_t a = 0; a < nm; a++)
    for (size_t e = 0; e <= a; e++) {
      double t = 0.0;
      for (size_t f = a; f < nm; f++)
        t += li[f * nm + a] * li[f * nm + e];
      c[a * nm + e] = c[e * nm + a] = t;
    }
  cd->entropy = 0.5 * ((double) nm * (log (2.0 * M_PI) + 1.0) - cd->logdet_g);
  return TRUE;
}

/* Row X (d values, missing ones ignored) under component K with pattern CD: its log-density,
 * and (XHAT not NULL) the completed row.  ZG is z = W' y with y = x - mu_k, 0 where missing (the
 * callers take it for many rows at once by a matrix product), or NULL to make it here. */
static double
cond_row (const mixem_params *p, size_t k, const cond *cd, const double *x, const double *zg,
          double *xhat)
{
  const size_t d = p->d, nm = cd->nm, bb = blk (p, k);
  const double *mu = p->mean + k * d;
  double zl[d > 0 ? d : 1], v[nm > 0 ? nm : 1], q = 0.0;
  const size_t ld = n_blocks (p) * d;
  const double *w = p->pw + bb * d, *z = zg;
  if (!zg) {
    memset (zl, 0, d * sizeof (double));
    for (size_t a = 0; a < d; a++) {   /* by W's rows: a missing coordinate's is skipped */
      if (cd->mask[a])
        continue;
      const double ya = x[a] - mu[a], *wa = w + a * ld;
      for (size_t j = a; j < d; j++)
        zl[j] += wa[j] * ya;
    }
    z = zl;
  }
  for (size_t j = 0; j < d; j++)
    q += z[j] * z[j];
  for (size_t a = 0; a < nm; a++) {   /* u = W_m z = P_mo y_o, then v = G^-1 u */
    const double *wa = w + cd->m[a] * ld;
    double t = 0.0;
    for (size_t j = cd->m[a]; j < d; j++)
      t += wa[j] * z[j];
    v[a] = t;
  }
  double uv = 0.0;
  for (size_t a = 0; a < nm; a++) {
    double t = v[a];
    for (size_t e = 0; e < a; e++)
      t -= cd->lg[a * nm + e] * v[e];
    v[a] = t / cd->lg[a * nm + a];
    uv += v[a] * v[a];   /* u' G^-1 u = |L_G^-1 u|^2 */
  }
  if (xhat) {
    for (size_t a = nm; a-- > 0;) {
      double t = v[a];
      for (size_t e = a + 1; e < nm; e++)
        t -= cd->lg[e * nm + a] * v[e];
      v[a] = t / cd->lg[a * nm + a];
    }
    memcpy (xhat, x, d * sizeof (double));
    for (size_t a = 0; a < nm; a++)
      xhat[cd->m[a]] = mu[cd->m[a]] - v[a];
  }
  return -0.5 * ((double) (d - nm) * log (2.0 * M_PI) + p->logdet[bb] + cd->logdet_g + q - uv);
}

/* The rows of B that have a missing cell, ordered by pattern (then by row, so that the sums
 * below keep one order); their count.  The rest go in WHOLE (their count in *NW). */
static int
pattern_cmp (gconstpointer a, gconstpointer b, gpointer data)
{
  const mixem_block *blk = data;
  const size_t i = *(const size_t *) a, j = *(const size_t *) b;
  const int c = memcmp (blk->missing + i * blk->d, blk->missing + j * blk->d, blk->d);
  return c != 0 ? c : (i > j) - (i < j);
}

static size_t
split_rows (const mixem_block *b, size_t *holed, size_t *whole, size_t *nw)
{
  size_t nh = 0;
  *nw = 0;
  for (size_t i = 0; i < b->n; i++) {
    gboolean any = FALSE;
    for (size_t j = 0; j < b->d && !any; j++)
      any = b->missing[i * b->d + j] != 0;
    if (any)
      holed[nh++] = i;
    else
      whole[(*nw)++] = i;
  }
  g_qsort_with_data (holed, (gint) nh, sizeof (size_t), pattern_cmp, (gpointer) b);
  return nh;
}

/* B's complete rows WHOLE[0..NW-1] as a block of their own (X: NW*d scratch). */
static mixem_block
whole_block (const mixem_block *b, const size_t *whole, size_t nw, double *x)
{
  for (size_t i = 0; i < nw; i++)
    memcpy (x + i * b->d, b->x + whole[i] * b->d, b->d * sizeof (double));
  mixem_block w = *b;
  w.n = nw;
  w.x = x;
  w.missing = NULL;
  w.pattern = NULL;
  return w;
}

/* The end of the run of rows in HOLED[from..nh) with the pattern of HOLED[from]. */
static size_t
pattern_run (const mixem_block *b, const size_t *holed, size_t nh, size_t from)
{
  const unsigned char *m0 = b->missing + holed[from] * b->d;
  size_t to = from + 1;
  while (to < nh && memcmp (b->missing + holed[to] * b->d, m0, b->d) == 0)
    to++;
  return to;
}


/* The axis-aligned types with missing cells, every row of the block at once as in
 * log_density_axes: with o_ij = 1 for a present cell and 0 for a missing one, y_ij = o_ij (x_ij -
 * c_j) and m_kj = mu_kj - c_j, the log-density of the present cells is
 *   sum_j o_ij a_kj + y_ij (m_kj p_kj) - y_ij^2 p_kj / 2,  a_kj = -1/2 [log 2 pi - log p_kj +
 *   p_kj m_kj^2],
 * one matrix product [O, Y, Y^2] [a_k, m_k o p_k, -p_k / 2]' for all components: no pattern
 * needs a factor of its own, and the cost is 3/2 that of a complete block. */
static void
axes_rows_missing (const mixem_block *b, size_t d, const double *c, double *xx)
{
  for (size_t i = 0; i < b->n; i++) {
    const double *x = b->x + i * b->d;
    const unsigned char *mi = b->missing + i * b->d;
    double *o = xx + i * 3 * d, *y = o + d, *y2 = y + d;
    for (size_t j = 0; j < d; j++) {
      const double t = mi[j] ? 0.0 : x[j] - c[j];
      o[j] = mi[j] ? 0.0 : 1.0;
      y[j] = t;
      y2[j] = t * t;
    }
  }
}

static void
log_density_axes_missing (const mixem_params *p, const mixem_block *b, double *out)
{
  const size_t n = b->n, d = p->d, K = p->k;
  double *xx = g_new (double, 3 * n * d + 3 * K * d + d), *coef = xx + 3 * n * d;
  double *c = coef + 3 * K * d;
  shift_point (p, c);
  axes_rows_missing (b, d, c, xx);
  for (size_t k = 0; k < K; k++)
    for (size_t j = 0; j < d; j++) {
      const double pk = precision (p, k, j), m = p->mean[k * d + j] - c[j];
      coef[k * 3 * d + j] = -0.5 * (log (2.0 * M_PI) - log (pk) + m * m * pk);
      coef[k * 3 * d + d + j] = m * pk;
      coef[k * 3 * d + 2 * d + j] = -0.5 * pk;
    }
  cblas_dgemm (CblasRowMajor, CblasNoTrans, CblasTrans, (int) n, (int) K, (int) (3 * d), 1.0,
               xx, (int) (3 * d), coef, (int) (3 * d), 0.0, out, (int) K);
  g_free (xx);
}

/* [N_o, G, H] = R' [O, Y, Y^2]: per component the responsibility of the present cells of each
 * column, and the sums of y and y^2 over them; moved to the component's shift c_k = mu_k with
 * e = c_k - c, a missing cell adding its conditional mean mu_kj (nothing, about c_k) and its
 * variance v_kj:
 *   S1 = G - e N_o,   S2 = H - 2 e G + e^2 N_o + v_k (R_k - N_o),
 *   entropy = sum_j (R_k - N_o,j) (log(2 pi e v_kj)) / 2. */
static void
accumulate_axes_missing (const mixem_params *p, const mixem_block *b, const double *r,
                         double *stats)
{
  const size_t n = b->n, d = p->d, K = p->k, sl = stat_len (p);
  double *xx = g_new (double, 3 * n * d + 3 * K * d + K + d), *gh = xx + 3 * n * d;
  double *rk = gh + 3 * K * d, *c = rk + K;
  shift_point (p, c);
  axes_rows_missing (b, d, c, xx);
  cblas_dgemm (CblasRowMajor, CblasTrans, CblasNoTrans, (int) K, (int) (3 * d), (int) n, 1.0, r,
               (int) K, xx, (int) (3 * d), 0.0, gh, (int) (3 * d));
  memset (rk, 0, K * sizeof (double));
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < K; k++)
      rk[k] += r[i * K + k];
  for (size_t k = 0; k < K; k++) {
    const double *ck = p->mean + k * d, *no = gh + k * 3 * d, *g = no + d, *h = g + d;
    double *st = stats + k * sl, *rc = st + 1, *s1 = rc + d, *s2 = s1 + d, *hs = st + sl - 1;
    st[0] += rk[k];
    for (size_t j = 0; j < d; j++) {
      const double e = ck[j] - c[j], v = 1.0 / precision (p, k, j), gone = rk[k] - no[j];
      rc[j] += rk[k] * ck[j];
      s1[j] += g[j] - e * no[j];
      s2[j] += h[j] - 2.0 * e * g[j] + e * e * no[j] + v * gone;
      *hs += 0.5 * gone * (log (2.0 * M_PI * v) + 1.0);
    }
  }
  g_free (xx);
}

/* Z = Y W_k for the NH rows HOLED of B, Y's rows x - mu_k with 0 where missing (Y, Z: nh by d),
 * one product: the d^2 part of every incomplete row's work. */
static void
holed_z (const mixem_params *p, const mixem_block *b, size_t k, const size_t *holed, size_t nh,
         double *y, double *z)
{
  const size_t d = p->d;
  const double *mu = p->mean + k * d;
  for (size_t t = 0; t < nh; t++) {
    const double *x = b->x + holed[t] * b->d;
    const unsigned char *mi = b->missing + holed[t] * b->d;
    for (size_t j = 0; j < d; j++)
      y[t * d + j] = mi[j] ? 0.0 : x[j] - mu[j];
  }
  cblas_dgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) nh, (int) d, (int) d, 1.0, y,
               (int) d, p->pw + blk (p, k) * d, (int) (n_blocks (p) * d), 0.0, z, (int) d);
}

static void
log_density (const mixem_params *p, const mixem_block *b, double *out)
{
  if (!b->missing) {
    log_density_whole (p, b, out);
    return;
  }
  if (!is_full (p)) {
    log_density_axes_missing (p, b, out);
    return;
  }
  const size_t n = b->n, d = p->d, K = p->k;
  size_t *holed = g_new (size_t, 2 * n + 1), *whole = holed + n, nw;
  const size_t nh = split_rows (b, holed, whole, &nw);
  if (nw > 0) {
    double *x = g_new (double, nw * d + nw * K), *o = x + nw * d;
    mixem_block wb = whole_block (b, whole, nw, x);
    log_density_whole (p, &wb, o);
    for (size_t i = 0; i < nw; i++)
      memcpy (out + whole[i] * K, o + i * K, K * sizeof (double));
    g_free (x);
  }
  cond cd;
  cond_init (&cd, d);
  double *y = g_new (double, 2 * nh * d + 1), *z = y + nh * d;
  for (size_t k = 0; k < K && nh > 0; k++) {
    holed_z (p, b, k, holed, nh, y, z);
    for (size_t from = 0, to; from < nh; from = to) {
      to = pattern_run (b, holed, nh, from);
      const gboolean ok = cond_make (p, blk (p, k), b->missing + holed[from] * d, &cd);
      for (size_t t = from; t < to; t++) {
        const size_t i = holed[t];
        out[i * K + k] = ok ? cond_row (p, k, &cd, b->x + i * b->d, z + t * d, NULL) : -INFINITY;
      }
    }
  }
  g_free (y);
  cond_clear (&cd);
  g_free (holed);
}

static void
accumulate (const mixem_params *p, const mixem_block *b, const double *r, double *stats)
{
  if (!b->missing) {
    accumulate_whole (p, b, r, stats);
    return;
  }
  if (!is_full (p)) {
    accumulate_axes_missing (p, b, r, stats);
    return;
  }
  const size_t n = b->n, d = p->d, K = p->k, sl = stat_len (p);
  size_t *holed = g_new (size_t, 2 * n + 1), *whole = holed + n, nw;
  const size_t nh = split_rows (b, holed, whole, &nw);
  if (nw > 0) {
    double *x = g_new (double, nw * d + nw * K), *rw = x + nw * d;
    mixem_block wb = whole_block (b, whole, nw, x);
    for (size_t i = 0; i < nw; i++)
      memcpy (rw + i * K, r + whole[i] * K, K * sizeof (double));
    accumulate_whole (p, &wb, rw, stats);
    g_free (x);
  }
  /* Component by component: the completed rows' deviations e = xhat - mu_k go into E (nh by d),
   * and their responsibility-weighted copies into F, so that sum r e e' is one product F' E; the
   * conditional covariance C is the same for a pattern's rows and is added once per pattern. */
  cond cd;
  cond_init (&cd, d);
  double *e = g_new (double, 4 * nh * d + d * d + 1), *f = e + nh * d, *ee = f + nh * d;
  double *y = ee + d * d, *z = y + nh * d;
  for (size_t k = 0; k < K; k++) {
    const double *mu = p->mean + k * d;
    if (nh > 0)
      holed_z (p, b, k, holed, nh, y, z);
    double *st = stats + k * sl, *rc = st + 1, *s1 = rc + d, *s2 = s1 + d, *hs = st + sl - 1;
    size_t rows = 0;
    for (size_t from = 0, to; from < nh; from = to) {
      to = pattern_run (b, holed, nh, from);
      /* The rows' responsibilities are 0 where the pattern cannot be factored (their
       * log-density was -inf), so skipping them loses nothing. */
      if (!cond_make (p, blk (p, k), b->missing + holed[from] * d, &cd))
        continue;
      double rsum = 0.0;
      for (size_t t = from; t < to; t++) {
        const size_t i = holed[t];
        const double ri = r[i * K + k];
        if (ri == 0.0)
          continue;
        double *ei = e + rows * d, *fi = f + rows * d;
        cond_row (p, k, &cd, b->x + i * b->d, z + t * d, ei);
        for (size_t j = 0; j < d; j++) {
          ei[j] -= mu[j];
          fi[j] = ri * ei[j];
          rc[j] += ri * mu[j];
          s1[j] += fi[j];
        }
        rsum += ri;
        rows++;
      }
      st[0] += rsum;
      *hs += rsum * cd.entropy;
      for (size_t a = 0; a < cd.nm; a++)
        for (size_t c = a; c < cd.nm; c++)
          s2[cd.m[a] * d + cd.m[c]] += rsum * cd.c[a * cd.nm + c];
    }
    if (rows == 0)
      continue;
    cblas_dgemm (CblasRowMajor, CblasTrans, CblasNoTrans, (int) d, (int) d, (int) rows, 1.0, f,
                 (int) d, e, (int) d, 0.0, ee, (int) d);
    for (size_t a = 0; a < d; a++)   /* the upper triangle, as scatter() reads it */
      for (size_t j = a; j < d; j++)
        s2[a * d + j] += ee[a * d + j];
  }
  g_free (e);
  cond_clear (&cd);
  g_free (holed);
}

/* Imputation: E[x_m | x_o, component K] (the completed row's missing cells), and a draw from
 * the conditional N(E[x_m | x_o], C) by C's Cholesky factor. */
static void
impute_mean (const mixem_params *p, size_t k, const double *x, const unsigned char *missing,
             double *out)
{
  const size_t d = p->d;
  double xhat[d > 0 ? d : 1];
  if (is_full (p)) {
    cond cd;
    cond_init (&cd, d);
    const gboolean ok = cond_make (p, blk (p, k), missing, &cd);
    if (ok)
      cond_row (p, k, &cd, x, NULL, xhat);
    cond_clear (&cd);
    if (ok) {
      for (size_t j = 0; j < d; j++)
        if (missing[j])
          out[j] = xhat[j];
      return;
    }
  }
  for (size_t j = 0; j < d; j++)   /* independent coordinates (or S_oo unfactorable): mu */
    if (missing[j])
      out[j] = p->mean[k * d + j];
}

static void
impute_draw (const mixem_params *p, size_t k, const double *x, const unsigned char *missing,
             gsl_rng *rng, double *out)
{
  const size_t d = p->d;
  impute_mean (p, k, x, missing, out);
  if (!is_full (p)) {
    for (size_t j = 0; j < d; j++)
      if (missing[j])
        out[j] += gsl_ran_gaussian_ziggurat (rng, 1.0 / sqrt (precision (p, k, j)));
    return;
  }
  cond cd;
  cond_init (&cd, d);
  if (cond_make (p, blk (p, k), missing, &cd) && cd.nm > 0) {
    const size_t nm = cd.nm;
    gsl_matrix_view cv = gsl_matrix_view_array (cd.c, nm, nm);
    if (gsl_linalg_cholesky_decomp1 (&cv.matrix) == GSL_SUCCESS) {
      double z[nm];
      for (size_t a = 0; a < nm; a++)
        z[a] = gsl_ran_gaussian_ziggurat (rng, 1.0);
      for (size_t a = 0; a < nm; a++) {
        double t = 0.0;
        for (size_t e = 0; e <= a; e++)
          t += cd.c[a * nm + e] * z[e];
        out[cd.m[a]] += t;
      }
    }
  }
  cond_clear (&cd);
}

/* Statistics gathered about the shifts c_k = Rc / R moved to the shifts P's means, with
 * e = mu_k - c_k (the same move accumulate_* make from their common shift):
 *   S1' = S1 - R e,   S2' = S2 - e S1' - S1 e' + R e e',   Rc' = R mu_k,
 * so that incremental and online EM can add statistics gathered at different parameters. */
static void
stats_rebase (const mixem_params *p, double *stats)
{
  const size_t d = p->d, full = is_full (p);
  for (size_t k = 0; k < p->k; k++) {
    const double *mk = p->mean + k * d;
    double *st = stats + k * stat_len (p), *rc = st + 1, *s1 = rc + d, *s2 = s1 + d;
    const double R = st[0];
    if (!(R > 0.0)) {
      for (size_t j = 0; j < d; j++)
        rc[j] = 0.0;
      continue;
    }
    double e[d > 0 ? d : 1], g[d > 0 ? d : 1];
    for (size_t j = 0; j < d; j++) {
      e[j] = mk[j] - rc[j] / R;
      g[j] = s1[j];
      rc[j] = R * mk[j];
      s1[j] = g[j] - R * e[j];
    }
    if (full) {
      for (size_t a = 0; a < d; a++)   /* the upper triangle, as scatter() reads it */
        for (size_t j = a; j < d; j++)
          s2[a * d + j] += -e[a] * g[j] - g[a] * e[j] + R * e[a] * e[j];
    } else
      for (size_t j = 0; j < d; j++)
        s2[j] += -2.0 * e[j] * g[j] + R * e[j] * e[j];
  }
}

/* Q(mu)/R for component K (full: d*d, upper mirrored; else its diagonal, d values) from STATS.
 * Returns R. */
static double
scatter (const mixem_params *p, const double *stats, size_t k, const double *mu, double *out)
{
  const size_t d = p->d;
  const double *st = stats + k * stat_len (p), *rc = st + 1, *s1 = rc + d, *s2 = s1 + d;
  const double R = st[0];
  if (!(R > 0))
    return R;
  double e[d > 0 ? d : 1], m[d > 0 ? d : 1];
  for (size_t j = 0; j < d; j++) {
    m[j] = s1[j] / R;
    e[j] = mu[j] - rc[j] / R;
  }
  for (size_t i = 0; i < d; i++) {
    if (is_full (p))
      for (size_t j = i; j < d; j++)
        out[i * d + j] = out[j * d + i]
          = s2[i * d + j] / R - m[i] * e[j] - e[i] * m[j] + e[i] * e[j];
    else
      out[i] = s2[i] / R - 2.0 * m[i] * e[i] + e[i] * e[i];
  }
  return R;
}

/* The nine models that scikit-learn lacks (EEI, VEI, EVI, VEE, EVE, VVE, EEV, VEV, EVV).  From
 * the scatter matrices W_k = Q_k(mu_k) (their diagonals for EEI, VEI, EVI) and n_k = R_k, the
 * M-step maximises sum_k -1/2 [n_k log det S_k + tr(S_k^-1 W_k)] under the model's constraints,
 * with S_k = lambda_k D_k A_k D_k', det A_k = 1 (Celeux and Govaert, 1995):
 *   EEI  S = diag(sum_k W_k) / n;
 *   EVI  S_k = lambda B_k, B_k = diag(W_k) / |diag W_k|^(1/d), lambda = sum_k |diag W_k|^(1/d) / n;
 *   EEV  W_k = D_k O_k D_k' (eigenvalues descending), S_k = D_k (sum_j O_j / n) D_k';
 *   EVV  S_k = lambda W_k / |W_k|^(1/d), lambda = sum_k |W_k|^(1/d) / n;
 * and, with no closed form, by an inner iteration (below, INNER_TOL and INNER_MAX):
 *   VEI  alternately B = diag(sum_k W_k / lambda_k) / |.|^(1/d), lambda_k = tr(W_k B^-1)/(d n_k);
 *   VEE  the same with C = (sum_k W_k / lambda_k) / |.|^(1/d) and tr(W_k C^-1) by its Cholesky;
 *   VEV  the same with W_k = D_k O_k D_k': A = (sum_k O_k / lambda_k) / |.|^(1/d), S_k =
 *        lambda_k D_k A D_k' (both descending, the pairing that is optimal);
 *   EVE, VVE  the common orientation D by Browne and McNicholas's (2014) MM step: with a_k the
 *        largest eigenvalue of W_k and L_k = lambda_k A_k (diagonal),
 *          G = sum_k (a_k I - W_k) D L_k^-1 = U S V' (SVD),  D <- U V',
 *        which never raises sum_k tr(W_k D L_k^-1 D'); between MM steps the L_k given D are
 *        closed form from M_k = diag(D' W_k D): VVE L_k = M_k / n_k; EVE A_k = M_k / |M_k|^(1/d),
 *        lambda = sum_k |M_k|^(1/d) / n.
 * The iterative ones start from the previous parameters (lambda_k = det(S_k)^(1/d); for EVE and
 * VVE, D = the eigenvectors of sum_k S_k, which are D itself), so that each step is at least as
 * good as the last M-step (a generalised EM that keeps the log-likelihood climbing); they stop
 * when the objective sum_k [n_k log det S_k + tr(S_k^-1 W_k)] falls by less than INNER_TOL
 * (n d + |objective|), or after INNER_MAX rounds.  reg_covar is added to the diagonal of each
 * S_k afterwards, as for the other models (0 reproduces mclust, which has none).  Fixed
 * components keep their parameters; the shared parts are estimated from every component's
 * statistics.  With one column the models are mclust's E (EII, EEI, EVI, EEE, EVE, EEV, EVV) and
 * V (VII, VEI, VVI, VEE, VVE, VEV, VVV), and fit as such. */
#define INNER_TOL 1e-13
#define INNER_MAX 10000

/* Eigenvalues (descending) and eigenvectors (columns of VEC, row-major d*d) of symmetric A. */
static void
eigen_desc (const double *a, size_t d, double *val, double *vec)
{
  double *c = g_memdup2 (a, d * d * sizeof (double));
  gsl_matrix_view m = gsl_matrix_view_array (c, d, d), v = gsl_matrix_view_array (vec, d, d);
  gsl_vector_view e = gsl_vector_view_array (val, d);
  gsl_eigen_symmv_workspace *w = gsl_eigen_symmv_alloc (d);
  gsl_eigen_symmv (&m.matrix, &e.vector, &v.matrix, w);
  gsl_eigen_symmv_free (w);
  gsl_eigen_symmv_sort (&e.vector, &v.matrix, GSL_EIGEN_SORT_VAL_DESC);
  g_free (c);
}

/* OUT = D diag(v) D', exactly symmetric. */
static void
compose (const double *dm, const double *v, size_t d, double *out)
{
  for (size_t a = 0; a < d; a++)
    for (size_t b = a; b < d; b++) {
      double s = 0.0;
      for (size_t j = 0; j < d; j++)
        s += dm[a * d + j] * v[j] * dm[b * d + j];
      out[a * d + b] = out[b * d + a] = s;
    }
}

/* log det S and, for each of the K matrices W_k (d*d each), tr(S^-1 W_k) into TR; FALSE if S is
 * not positive definite. */
static gboolean
chol_traces (const double *s, size_t d, const double *w, size_t K, const double *n_k,
             double *logdet, double *tr)
{
  double *l = g_memdup2 (s, d * d * sizeof (double)), *z = g_new (double, d * d);
  gsl_matrix_view lm = gsl_matrix_view_array (l, d, d);
  gboolean ok = gsl_linalg_cholesky_decomp1 (&lm.matrix) == GSL_SUCCESS;
  double ld = 0.0;
  for (size_t j = 0; ok && j < d; j++) {
    ok = l[j * d + j] > 0 && isfinite (l[j * d + j]);
    ld += 2.0 * log (l[j * d + j]);
  }
  for (size_t k = 0; ok && k < K; k++) {
    if (!(n_k[k] > 0)) {
      tr[k] = 0.0;
      continue;
    }
    memcpy (z, w + k * d * d, d * d * sizeof (double));
    cblas_dtrsm (CblasRowMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, (int) d,
                 (int) d, 1.0, l, (int) d, z, (int) d);
    cblas_dtrsm (CblasRowMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit, (int) d,
                 (int) d, 1.0, l, (int) d, z, (int) d);
    double t = 0.0;
    for (size_t j = 0; j < d; j++)
      t += z[j * d + j];
    tr[k] = t;
  }
  *logdet = ld;
  g_free (l);
  g_free (z);
  return ok;
}

/* The mean of the logs of the d positive numbers V (log of their geometric mean); -inf or NaN
 * when one is not positive. */
static double
mean_log (const double *v, size_t d, size_t stride)
{
  double s = 0.0;
  for (size_t j = 0; j < d; j++)
    s += v[j * stride] > 0 ? log (v[j * stride]) : -INFINITY;
  return s / (double) d;
}

static gboolean
inner_done (double prev, double f, double nd)
{
  return prev - f <= INNER_TOL * (nd + fabs (f));
}

/* The MM step on D for EVE and VVE (see above), L_k in LAM (K*d). */
static void
mm_orientation (const double *w, const double *alpha, const double *lam, const double *n_k,
                size_t K, size_t d, double *dm)
{
  double *g = g_new0 (double, d * d), *v = g_new (double, d * d), *sv = g_new (double, 2 * d);
  for (size_t k = 0; k < K; k++) {
    if (!(n_k[k] > 0))
      continue;
    const double *wk = w + k * d * d;
    for (size_t a = 0; a < d; a++)
      for (size_t j = 0; j < d; j++) {
        double s = alpha[k] * dm[a * d + j];
        for (size_t b = 0; b < d; b++)
          s -= wk[a * d + b] * dm[b * d + j];
        g[a * d + j] += s / lam[k * d + j];
      }
  }
  gsl_matrix_view gm = gsl_matrix_view_array (g, d, d), vm = gsl_matrix_view_array (v, d, d);
  gsl_vector_view s = gsl_vector_view_array (sv, d), work = gsl_vector_view_array (sv + d, d);
  gsl_linalg_SV_decomp (&gm.matrix, &vm.matrix, &s.vector, &work.vector);
  for (size_t a = 0; a < d; a++)
    for (size_t b = 0; b < d; b++) {
      double t = 0.0;
      for (size_t j = 0; j < d; j++)
        t += g[a * d + j] * v[b * d + j];
      dm[a * d + b] = t;
    }
  g_free (g);
  g_free (v);
  g_free (sv);
}

/* EVE, VVE: L_k given D (K*d into LAM), and the objective. */
static double
eve_scales (const double *w, const double *n_k, size_t K, size_t d, const double *dm,
            gboolean vve, double *lam)
{
  double n = 0.0, gsum = 0.0, f = 0.0;
  for (size_t k = 0; k < K; k++) {
    if (!(n_k[k] > 0))
      continue;
    const double *wk = w + k * d * d;
    double *m = lam + k * d;
    for (size_t j = 0; j < d; j++) {
      double s = 0.0;
      for (size_t a = 0; a < d; a++)
        for (size_t b = 0; b < d; b++)
          s += dm[a * d + j] * wk[a * d + b] * dm[b * d + j];
      m[j] = s;
    }
    n += n_k[k];
    gsum += exp (mean_log (m, d, 1));
  }
  for (size_t k = 0; k < K; k++) {
    if (!(n_k[k] > 0))
      continue;
    double *m = lam + k * d;
    const double gk = exp (mean_log (m, d, 1));
    for (size_t j = 0; j < d; j++) {
      const double mj = m[j];
      m[j] = vve ? mj / n_k[k] : mj / gk * gsum / n;
      f += n_k[k] * log (m[j]) + mj / m[j];
    }
  }
  return f;
}

static gboolean
maximise_model (mixem_params *p, const double *stats, const gboolean *fixed, GError **error)
{
  const size_t d = p->d, K = p->k, dd = p->type == FULL ? d * d : d;
  const model_id model = p->model;
  double *w = g_new0 (double, K * dd), *n_k = g_new0 (double, K), *sig = g_new0 (double, K * dd);
  double *lam = g_new (double, K * (d + 1)), *tr = g_new (double, K), *aux = g_new0 (double, d * d);
  double *vec = g_new (double, K * d * d), *val = g_new (double, (K + 1) * d), *alpha = g_new (double, K);
  double n = 0.0;
  gboolean ok = TRUE, any = FALSE;
  const char *bad = NULL;
  p->tied_by = 0;
  for (size_t k = 0; k < K && ok; k++) {
    const double *st = stats + k * stat_len (p);
    const double R = st[0];
    const gboolean fx = fixed && fixed[k];
    if (!(R > 0) && !fx) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_NUMERIC,
                   "gaussian: component %zu is empty (weight %g)", k + 1, R);
      ok = FALSE;
      break;
    }
    if (!fx) {
      any = TRUE;
      for (size_t j = 0; j < d; j++)
        p->mean[k * d + j] = st[1 + j] / R + st[1 + d + j] / R;
    }
    /* lambda_k of the previous parameters, where the iterations start */
    lam[K * d + k] = exp (p->logdet[k] / (double) d);
    if (!(R > 0))
      continue;
    n_k[k] = R;
    n += R;
    double *wk = w + k * dd;
    scatter (p, stats, k, p->mean + k * d, wk);
    for (size_t j = 0; j < dd; j++)
      wk[j] *= R;
    for (size_t j = 0; j < d; j++) {   /* rounding below zero is zero (see maximise) */
      double *v = &wk[p->type == FULL ? j * d + j : j];
      *v = MAX (*v, 0.0);
    }
    if (p->prior && !fx) {   /* VEI, VEV: M_k = S + W_k + c_k b_k b_k' and the shrunk mean */
      const double ck = p->kappa * R / (R + p->kappa);
      double *mu = p->mean + k * d;
      for (size_t a = 0; a < d; a++)
        for (size_t c = 0; c < d; c++)
          if (p->type == FULL)
            wk[a * d + c] += p->pscale[a * d + c]
                             + ck * (mu[a] - p->pmean[a]) * (mu[c] - p->pmean[c]);
          else if (a == c)
            wk[a] += p->pscale[0] + ck * (mu[a] - p->pmean[a]) * (mu[a] - p->pmean[a]);
      for (size_t j = 0; j < d; j++)
        mu[j] = (R * mu[j] + p->kappa * p->pmean[j]) / (R + p->kappa);
    }
  }
  double *lk = lam + K * d;   /* lambda_k */
  const double nd = n * (double) d;
  if (ok && any)
    switch (model) {
    case M_EEI:
      for (size_t j = 0; j < d; j++) {
        double s = 0.0;
        for (size_t k = 0; k < K; k++)
          s += w[k * d + j];
        for (size_t k = 0; k < K; k++)
          sig[k * d + j] = s / n;
      }
      break;
    case M_EVI: {
      double gs = 0.0;
      for (size_t k = 0; k < K; k++)
        gs += n_k[k] > 0 ? exp (mean_log (w + k * d, d, 1)) : 0.0;
      for (size_t k = 0; k < K && !bad; k++) {
        const double g = exp (mean_log (w + k * d, d, 1));
        bad = n_k[k] > 0 && !(g > 0) ? "a diagonal of W_k is not positive" : NULL;
        for (size_t j = 0; j < d && n_k[k] > 0; j++)
          sig[k * d + j] = w[k * d + j] / g * gs / n;
      }
      break;
    }
    case M_VEI: {
      double f = INFINITY, *b = aux;
      for (int it = 0; it < INNER_MAX && !bad; it++) {
        for (size_t j = 0; j < d; j++) {
          double s = 0.0;
          for (size_t k = 0; k < K; k++)
            s += n_k[k] > 0 ? w[k * d + j] / lk[k] : 0.0;
          b[j] = s;
        }
        const double g = exp (mean_log (b, d, 1));
        if (!(g > 0) || !isfinite (g)) {
          bad = "the shared shape is singular";
          break;
        }
        double fn = 0.0;
        for (size_t j = 0; j < d; j++)
          b[j] /= g;
        for (size_t k = 0; k < K; k++) {
          if (!(n_k[k] > 0))
            continue;
          double t = 0.0;
          for (size_t j = 0; j < d; j++)
            t += w[k * d + j] / b[j];
          /* With the prior, mclust's meveip: d n_k + nu + 2 + [kappa > 0]. */
          const double den = (double) d * n_k[k]
                             + (p->prior ? p->nu + 2.0 + (p->kappa > 0 ? 1.0 : 0.0) : 0.0);
          lk[k] = t / den;
          fn += den * log (lk[k]) + t / lk[k];
        }
        const gboolean done = inner_done (f, fn, nd);
        f = fn;
        if (done)
          break;
      }
      for (size_t k = 0; k < K; k++)
        for (size_t j = 0; j < d; j++)
          sig[k * d + j] = lk[k] * b[j];
      break;
    }
    case M_VEE: {
      double f = INFINITY, *c = aux;
      for (int it = 0; it < INNER_MAX && !bad; it++) {
        memset (c, 0, d * d * sizeof (double));
        for (size_t k = 0; k < K; k++)
          for (size_t j = 0; j < d * d && n_k[k] > 0; j++)
            c[j] += w[k * d * d + j] / lk[k];
        double ld;
        if (!chol_traces (c, d, w, K, n_k, &ld, tr)) {
          bad = "the shared shape and orientation are singular";
          break;
        }
        const double scale = exp (ld / (double) d);   /* C / |C|^(1/d): traces times |C|^(1/d) */
        for (size_t j = 0; j < d * d; j++)
          c[j] /= scale;
        double fn = 0.0;
        for (size_t k = 0; k < K; k++) {
          if (!(n_k[k] > 0))
            continue;
          const double t = tr[k] * scale;
          lk[k] = t / ((double) d * n_k[k]);
          fn += n_k[k] * (double) d * log (lk[k]) + t / lk[k];
        }
        const gboolean done = inner_done (f, fn, nd);
        f = fn;
        if (done)
          break;
      }
      for (size_t k = 0; k < K; k++)
        for (size_t j = 0; j < d * d; j++)
          sig[k * d * d + j] = lk[k] * c[j];
      break;
    }
    case M_EEV: case M_VEV: {
      double *a = aux;
      for (size_t k = 0; k < K; k++)
        if (n_k[k] > 0)
          eigen_desc (w + k * d * d, d, val + k * d, vec + k * d * d);
      double f = INFINITY;
      for (int it = 0; it < INNER_MAX && !bad; it++) {
        for (size_t j = 0; j < d; j++) {
          double s = 0.0;
          for (size_t k = 0; k < K; k++)
            s += n_k[k] > 0 ? MAX (val[k * d + j], 0.0) / (model == M_EEV ? 1.0 : lk[k]) : 0.0;
          a[j] = s;
        }
        const double g = exp (mean_log (a, d, 1));
        if (!(g > 0) || !isfinite (g)) {
          bad = "the shared shape is singular";
          break;
        }
        if (model == M_EEV) {   /* closed form: S_k = D_k (sum_j O_j / n) D_k' */
          for (size_t j = 0; j < d; j++)
            a[j] /= n;
          for (size_t k = 0; k < K; k++)
            lk[k] = 1.0;
          break;
        }
        double fn = 0.0;
        for (size_t j = 0; j < d; j++)
          a[j] /= g;
        for (size_t k = 0; k < K; k++) {
          if (!(n_k[k] > 0))
            continue;
          double t = 0.0;
          for (size_t j = 0; j < d; j++)
            t += MAX (val[k * d + j], 0.0) / a[j];
          lk[k] = t / ((double) d * n_k[k]);
          fn += n_k[k] * (double) d * log (lk[k]) + t / lk[k];
        }
        const gboolean done = inner_done (f, fn, nd);
        f = fn;
        if (done)
          break;
      }
      for (size_t k = 0; k < K && !bad; k++) {
        if (!(n_k[k] > 0))
          continue;
        double v[d > 0 ? d : 1];
        for (size_t j = 0; j < d; j++)
          v[j] = lk[k] * a[j];
        compose (vec + k * d * d, v, d, sig + k * d * d);
      }
      break;
    }
    case M_EVV: {
      double gs = 0.0;
      for (size_t k = 0; k < K && !bad; k++) {
        if (!(n_k[k] > 0))
          continue;
        double ld;
        if (!chol_traces (w + k * d * d, d, w, 0, n_k, &ld, tr))
          bad = "a scatter matrix W_k is singular";
        else
          gs += (lam[k] = exp (ld / (double) d));
      }
      for (size_t k = 0; k < K && !bad; k++)
        for (size_t j = 0; j < d * d && n_k[k] > 0; j++)
          sig[k * d * d + j] = w[k * d * d + j] / lam[k] * gs / n;
      break;
    }
    case M_EVE: case M_VVE: {
      /* D from the previous covariances: the eigenvectors of their sum */
      double *dm = aux, *ev = val;
      for (size_t k = 0; k < K; k++)
        for (size_t j = 0; j < d * d; j++)
          sig[j] += p->cov[k * d * d + j];
      eigen_desc (sig, d, ev, dm);
      for (size_t k = 0; k < K; k++)
        if (n_k[k] > 0) {
          double *vk = vec;   /* scratch: only the largest eigenvalue is kept */
          eigen_desc (w + k * d * d, d, ev + d, vk);
          alpha[k] = ev[d];
        }
      double f = INFINITY;
      for (int it = 0; it < INNER_MAX; it++) {
        const double fn = eve_scales (w, n_k, K, d, dm, model == M_VVE, lam);
        if (!isfinite (fn)) {
          bad = "a shape is singular";
          break;
        }
        const gboolean done = inner_done (f, fn, nd) || d == 1;   /* one column: D = 1 */
        f = fn;
        if (done)
          break;
        mm_orientation (w, alpha, lam, n_k, K, d, dm);
      }
      for (size_t k = 0; k < K && !bad; k++)
        if (n_k[k] > 0)
          compose (dm, lam + k * d, d, sig + k * d * d);
      break;
    }
    default:
      g_assert_not_reached ();
    }
  if (ok && any && bad) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_NUMERIC,
                 "gaussian: %s: %s (components have collapsed; raise reg_covar, now %g)",
                 models[model].name, bad, p->reg);
    ok = FALSE;
  }
  for (size_t k = 0; k < K && ok && any; k++) {
    if ((fixed && fixed[k]) || !(n_k[k] > 0))
      continue;
    double *cov = p->cov + k * dd;
    memcpy (cov, sig + k * dd, dd * sizeof (double));
    for (size_t j = 0; j < d; j++)
      cov[p->type == FULL ? j * d + j : j] += p->reg;
    char *what = g_strdup_printf ("component %zu", k + 1);
    ok = factor (p, k, what, error);
    g_free (what);
  }
  g_free (w);
  g_free (n_k);
  g_free (sig);
  g_free (lam);
  g_free (tr);
  g_free (aux);
  g_free (vec);
  g_free (val);
  g_free (alpha);
  return ok;
}

/* The model whose MAP step the prior takes: the model's own, or (one column, one component)
 * the one mclust's priors take there. */
static model_id
prior_step (const mixem_params *p)
{
  const size_t d = p->d, K = p->k;
  model_id step = p->model;
  if (d == 1 && models[step].name[0] == 'E')
    step = M_EEE;
  else if (K == 1 && step == M_EII)
    step = M_VII;
  else if (K == 1 && (step == M_EEI || step == M_EVI))
    step = M_VVI;
  else if (K == 1 && step == M_EEV)
    step = M_VVV;
  else if ((step == M_VEI || step == M_VEV) && d == 1)
    step = M_VII;
  else if (K == 1 && step == M_VEI)
    step = M_VVI;
  else if (K == 1 && step == M_VEV)
    step = M_VVV;
  return step;
}

/* The MAP M-step under the conjugate prior, as mclust's me*p Fortran routines compute it (mclust
 * 6.0.0, src/mclust.f: meeiip, meviip, meeeip, mevvip, meevip, meeeep, meeevp, mevvvp).  With
 * n_k = R_k, xbar_k the weighted mean, W_k the scatter about it, c_k = kappa n_k / (n_k + kappa),
 * b_k = xbar_k - prior mean, N = sum_k n_k, S the prior scale (s when it is one number), and
 * M_k = S + W_k + c_k b_k b_k' (its diagonal, with s, for the diagonal models):
 *   mu_k = (n_k xbar_k + kappa mean) / (n_k + kappa), and
 *   VVV  S_k = M_k / (nu + n_k + d + 2)
 *   EEE  S   = (S + sum_k [W_k + c_k b_k b_k']) / (nu + d + 1 + K [kappa > 0] + N)
 *   EEV  M_k = D_k O_k D_k' (descending), S_k = D_k (sum_j O_j) D_k' / (nu + d + 1 + [kappa > 0]
 *        + N)
 *   VVI  S_k = M_k / (nu + 2 + [kappa > 0] + n_k)
 *   EVI  g_k = |M_k|^(1/d), S_k = (M_k / g_k) sum_j g_j / (nu + 1 + [kappa > 0] + N)
 *   EEI  S   = (s + sum_k [W_k + c_k b_k b_k']) / (nu + 1 + [kappa > 0] + N)
 *   VII  s_k = (s + tr W_k + c_k |b_k|^2) / (nu + d n_k + 2 + d [kappa > 0])
 *   EII  s   = (sum_k [tr W_k + c_k |b_k|^2]) / (nu + (N + K) d + 2)
 * VEI and VEV (mclust's meveip, mevevp) iterate as without the prior (maximise_model) on M_k,
 * with the means shrunk and, for VEI, l_k = sum_j M_kj / A_j / (d n_k + nu + 2 + [kappa > 0])
 * (VEV's step has no nu: l_k = ... / (d n_k), as mclust's).
 * EII's leaves out the scale s, as mclust's meeiip does, and EEI's means are the plain xbar_k,
 * as in mclust's meeeip: both quirks are followed for parity.  mclust fits one column by its E
 * and V models (me1ep, me1vp) and one component by its mvn X models (mvnXII, mvnXXI, mvnXXX):
 * so with one column the E models take EEE's step (the V ones agree with it already), and with
 * one component EII, EEI, EVI and EEV take VII's, VVI's, VVI's and VVV's.  reg_covar is added to
 * the diagonals afterwards, as without the prior.  The weights stay the maximum-likelihood ones
 * (mclust's prior has no Dirichlet part). */
static gboolean
maximise_prior (mixem_params *p, const double *stats, const gboolean *fixed, GError **error)
{
  const size_t d = p->d, K = p->k, len = block_len (p), sl = is_full (p) ? d * d : d;
  const gboolean full = is_full (p);
  const double kap = p->kappa, pos = kap > 0 ? 1.0 : 0.0;
  if (!p->prior_known) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 "gaussian: 'prior' = 'default' takes its hyperparameters from the data of a fit; "
                 "this model was made without data (read from a file?): fit it anew rather than "
                 "refit it");
    return FALSE;
  }
  /* The step taken: the model's, or (one column, one component) the one mclust takes. */
  const model_id step = prior_step (p);
  enum { POOLED, DEFERRED, OWN } kind;
  if (step == M_VEI || step == M_VEV)   /* iterative: maximise_model, with the prior */
    return maximise_model (p, stats, fixed, error);
  kind = step == M_EEE || step == M_EII || step == M_EEI ? POOLED
         : step == M_EVI || step == M_EEV ? DEFERRED : OWN;
  double *sc = g_new (double, sl), *pool = g_new0 (double, sl);
  double *mk = g_new0 (double, K * sl), *keep = g_new0 (double, K);
  double N = 0.0, xb[d > 0 ? d : 1], b[d > 0 ? d : 1];
  gboolean ok = TRUE;
  p->tied_by = 0;
  for (size_t k = 0; k < K; k++)
    N += MAX (stats[k * stat_len (p)], 0.0);
  for (size_t k = 0; k < K && ok; k++) {
    const double *st = stats + k * stat_len (p);
    const double R = st[0];
    if (!(R > 0)) {
      if (fixed && fixed[k])
        continue;
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_NUMERIC,
                   "gaussian: component %zu is empty (weight %g)", k + 1, R);
      ok = FALSE;
      break;
    }
    keep[k] = 1.0;
    for (size_t j = 0; j < d; j++) {
      xb[j] = st[1 + j] / R + st[1 + d + j] / R;
      b[j] = xb[j] - p->pmean[j];
    }
    scatter (p, stats, k, xb, sc);
    const double ck = kap * R / (R + kap);
    /* sc <- W_k + c_k b b' (or its diagonal) */
    for (size_t i = 0; i < d; i++) {
      if (full)
        for (size_t j = 0; j < d; j++)
          sc[i * d + j] = R * sc[i * d + j] + ck * b[i] * b[j];
      else
        sc[i] = R * MAX (sc[i], 0.0) + ck * b[i] * b[i];
    }
    for (size_t j = 0; j < sl; j++) {
      pool[j] += sc[j];
      mk[k * sl + j] = sc[j] + (full ? p->pscale[j] : p->pscale[0]);
    }
    if (fixed && fixed[k])
      continue;
    for (size_t j = 0; j < d; j++)
      p->mean[k * d + j] = step == M_EEI ? xb[j] : (R * xb[j] + kap * p->pmean[j]) / (R + kap);
    if (kind != OWN)
      continue;
    double *cov = p->cov + k * len;
    if (step == M_VVV) {
      for (size_t j = 0; j < d * d; j++)
        cov[j] = mk[k * sl + j] / (p->nu + R + (double) d + 2.0);
    } else if (step == M_VVI) {
      for (size_t j = 0; j < d; j++)
        cov[j] = mk[k * sl + j] / (p->nu + 2.0 + pos + R);
    } else {   /* VII */
      double t = 0.0;
      for (size_t j = 0; j < d; j++)
        t += sc[j];
      cov[0] = (p->pscale[0] + t) / (p->nu + (double) d * (R + pos) + 2.0);
    }
    for (size_t j = 0; j < (len == 1 ? 1 : d); j++)
      cov[full ? j * d + j : j] += p->reg;
    char *what = g_strdup_printf ("component %zu", k + 1);
    ok = factor (p, k, what, error);
    g_free (what);
  }
  /* The shared parts: one matrix (pooled) or the pooled shapes (deferred), then each block. */
  double *shared = g_new0 (double, sl), *vec = NULL, *val = g_new0 (double, d > 0 ? d : 1);
  double lam = 0.0;
  if (ok && kind == POOLED) {
    if (step == M_EEE) {
      const double den = p->nu + (double) d + 1.0 + (double) K * pos + N;
      for (size_t j = 0; j < sl; j++)
        shared[j] = ((full ? p->pscale[j] : p->pscale[0]) + pool[j]) / den;
    } else if (step == M_EII) {
      double t = 0.0;
      for (size_t j = 0; j < d; j++)
        t += pool[j];
      shared[0] = t / (p->nu + (N + (double) K) * (double) d + 2.0);
    } else   /* EEI */
      for (size_t j = 0; j < d; j++)
        shared[j] = (p->pscale[0] + pool[j]) / (p->nu + 1.0 + pos + N);
  } else if (ok && step == M_EVI) {
    for (size_t k = 0; k < K; k++)
      if (keep[k]) {
        keep[k] = exp (mean_log (mk + k * sl, d, 1));
        lam += keep[k];
      }
    lam /= p->nu + 1.0 + pos + N;
  } else if (ok && step == M_EEV) {
    vec = g_new (double, K * d * d);
    for (size_t k = 0; k < K; k++)
      if (keep[k]) {
        eigen_desc (mk + k * sl, d, val, vec + k * d * d);
        for (size_t j = 0; j < d; j++)
          shared[j] += val[j];
      }
    for (size_t j = 0; j < d; j++)
      shared[j] /= p->nu + (double) d + 1.0 + pos + N;
  }
  if (ok && kind != OWN) {
    const gboolean one_block = is_tied (p);
    for (size_t k = 0; k < (one_block ? 1 : K) && ok; k++) {
      if (!one_block && fixed && fixed[k])
        continue;
      double *cov = p->cov + k * len;
      if (step == M_EVI)
        for (size_t j = 0; j < d; j++)
          cov[j] = lam * mk[k * sl + j] / keep[k];
      else if (step == M_EEV)
        compose (vec + k * d * d, shared, d, cov);
      else if (len == 1)   /* spherical storage; d = 1 (E: EEE's step) stores one number */
        cov[0] = shared[0];
      else if (full)
        memcpy (cov, shared, d * d * sizeof (double));
      else
        memcpy (cov, shared, d * sizeof (double));
      for (size_t j = 0; j < (len == 1 ? 1 : d); j++)
        cov[full ? j * d + j : j] += p->reg;
      char *what = one_block ? g_strdup ("the shared covariance")
                             : g_strdup_printf ("component %zu", k + 1);
      ok = factor (p, k, what, error);
      g_free (what);
    }
  }
  g_free (shared);
  g_free (vec);
  g_free (val);
  g_free (sc);
  g_free (pool);
  g_free (mk);
  g_free (keep);
  return ok;
}

/* v' S_b^-1 v for covariance block B. */
static double
prior_quad (const mixem_params *p, size_t b, const double *v)
{
  const size_t d = p->d, len = block_len (p);
  const double *cov = p->cov + b * len;
  double q = 0.0;
  if (is_full (p)) {   /* |L^-1 v|^2 by the precision factor W_b = L_b^-T */
    const size_t ld = n_blocks (p) * d;
    const double *w = p->pw + b * d;
    for (size_t j = 0; j < d; j++) {
      double z = 0.0;
      for (size_t a = 0; a <= j; a++)
        z += v[a] * w[a * ld + j];
      q += z * z;
    }
  } else
    for (size_t j = 0; j < d; j++)
      q += v[j] * v[j] / cov[len == 1 ? 0 : j];
  return q;
}

/* tr(S_b^-1 P), P the prior scale (d by d for the full models, else s I). */
static double
prior_trace (const mixem_params *p, size_t b)
{
  const size_t d = p->d, len = block_len (p);
  const double *cov = p->cov + b * len;
  double t = 0.0;
  if (is_full (p)) {   /* sum_j (W' P W)_jj */
    const size_t ld = n_blocks (p) * d;
    const double *w = p->pw + b * d;
    for (size_t j = 0; j < d; j++)   /* (a full model's prior scale is d by d) */
      for (size_t a = 0; a <= j; a++)
        for (size_t c = 0; c <= j; c++)
          t += w[a * ld + j] * p->pscale[a * d + c] * w[c * ld + j];
  } else
    for (size_t j = 0; j < d; j++)
      t += p->pscale[0] / cov[len == 1 ? 0 : j];
  return t;
}

/* The log-density of the conjugate prior at P, up to its normalising constant (which does not
 * depend on the parameters): the objective maximise_prior's step maximises, beside the
 * expected log-likelihood, so that l(theta) + log p(theta) never falls along EM.  It is written
 * for the step taken (see maximise_prior: one column, one component), with the exponents of that
 * step's denominators (mclust's), so that the step is its exact maximiser for every kappa:
 *   VVV  sum_k [-(nu + d + 2)/2 log|S_k| - tr(S_k^-1 P)/2 - kappa/2 b_k' S_k^-1 b_k]
 *   EEE  -(nu + d + 1 + K [kappa > 0])/2 log|S| - tr(S^-1 P)/2 - kappa/2 sum_k b_k' S^-1 b_k
 *   VVI  sum_kj [-(nu + 2 + [kappa > 0])/2 log s_kj - (s + kappa b_kj^2) / (2 s_kj)]
 *   VII  sum_k [-(nu + 2 + d [kappa > 0])/2 log s_k - (s + kappa |b_k|^2) / (2 s_k)]
 *   EII  -(nu + 2 + K d)/2 log s - kappa sum_k |b_k|^2 / (2 s)   (mclust's EII has no scale)
 *   VEI  sum_k [-(nu + 2 + [kappa > 0])/2 log l_k - tr(S_k^-1 s)/2 - kappa/2 b_k' S_k^-1 b_k]
 *   VEV  sum_k [-tr(S_k^-1 P)/2 - kappa/2 b_k' S_k^-1 b_k]   (mclust's VEV step has no nu)
 * with b_k = mu_k - prior mean.  EEI, EVI and EEV: NAN, as no one density makes mclust's steps
 * for them its maximiser (their denominators count one mean's prior for K means, and EEI's means
 * are not shrunk); 0 without a prior. */
static double
log_prior (const mixem_params *p)
{
  if (!p->prior)
    return 0.0;
  const size_t d = p->d, K = p->k;
  const model_id step = prior_step (p);
  if (step != M_VVV && step != M_EEE && step != M_VVI && step != M_VII && step != M_EII
      && step != M_VEI && step != M_VEV)
    return NAN;
  const double nu = p->nu, kap = p->kappa, pos = kap > 0 ? 1.0 : 0.0, dd = (double) d;
  double lp = 0.0, b[d > 0 ? d : 1];
  for (size_t k = 0; k < K; k++) {
    const size_t bb = blk (p, k);
    for (size_t j = 0; j < d; j++)
      b[j] = p->mean[k * d + j] - p->pmean[j];
    const double q = prior_quad (p, bb, b);
    lp -= 0.5 * kap * q;
    if (step == M_VVV)
      lp -= 0.5 * ((nu + dd + 2.0) * p->logdet[bb] + prior_trace (p, bb));
    else if (step == M_VVI)
      lp -= 0.5 * ((nu + 2.0 + pos) * p->logdet[bb] + prior_trace (p, bb));
    else if (step == M_VII)   /* logdet = d log s_k; the scale enters once, not d times */
      lp -= 0.5 * ((nu + 2.0 + dd * pos) * p->logdet[bb] / dd + prior_trace (p, bb) / dd);
    else if (step == M_VEI)   /* S_k = l_k A, |A| = 1: log|S_k| = d log l_k */
      lp -= 0.5 * ((nu + 2.0 + pos) * p->logdet[bb] / dd + prior_trace (p, bb));
    else if (step == M_VEV)   /* mclust's mevevp has no nu */
      lp -= 0.5 * prior_trace (p, bb);
  }
  if (step == M_EEE)   /* one matrix: block 0 (the E models' blocks are equal with one column) */
    lp -= 0.5 * ((nu + dd + 1.0 + (double) K * pos) * p->logdet[0] + prior_trace (p, 0));
  else if (step == M_EII)
    lp -= 0.5 * (nu + 2.0 + (double) K * dd) * p->logdet[0] / dd;
  return lp;
}

static gboolean
maximise (mixem_params *p, const double *stats, const gboolean *fixed, GError **error)
{
  const size_t d = p->d, K = p->k, len = block_len (p);
  const gboolean tied = is_tied (p);
  if (p->prior)
    return maximise_prior (p, stats, fixed, error);
  if (models[p->model].alias == NULL)
    return maximise_model (p, stats, fixed, error);
  p->tied_by = 0;   /* a fitted shared covariance is nobody's given one */
  double *sc = g_new (double, is_full (p) ? d * d : d);
  double *pool = g_new0 (double, is_full (p) ? d * d : d);
  double total = 0.0;
  gboolean ok = TRUE, any = FALSE;
  for (size_t k = 0; k < K && ok; k++) {
    const double *st = stats + k * stat_len (p);
    const double R = st[0];
    if (!(R > 0) && !(fixed && fixed[k])) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_NUMERIC,
                   "gaussian: component %zu is empty (weight %g)", k + 1, R);
      ok = FALSE;
      break;
    }
    if (!(fixed && fixed[k])) {
      any = TRUE;
      for (size_t j = 0; j < d; j++)
        p->mean[k * d + j] = st[1 + j] / R + st[1 + d + j] / R;
    }
    if (!(R > 0))
      continue;
    scatter (p, stats, k, p->mean + k * d, sc);
    /* A variance below zero is rounding (the second moment about the shift, less the squared
     * move of the mean): it is 0, not a collapse (scikit-learn #18216 saw -2.8e-22). */
    for (size_t j = 0; j < d; j++) {
      double *v = &sc[is_full (p) ? j * d + j : j];
      *v = MAX (*v, 0.0);
    }
    if (tied) {   /* pooled over components, weighted by R_k */
      total += R;
      for (size_t j = 0; j < (is_full (p) ? d * d : d); j++)
        pool[j] += R * sc[j];
      continue;
    }
    if (fixed && fixed[k])
      continue;
    double *cov = p->cov + k * len;
    if (p->type == FULL)
      memcpy (cov, sc, d * d * sizeof (double));
    else if (p->type == DIAG)
      memcpy (cov, sc, d * sizeof (double));
    else {
      double s = 0.0;
      for (size_t j = 0; j < d; j++)
        s += sc[j];
      cov[0] = s / (double) d;
    }
    for (size_t j = 0; j < (p->type == SPHERICAL ? 1 : d); j++)
      cov[p->type == FULL ? j * d + j : j] += p->reg;
    char *what = g_strdup_printf ("component %zu", k + 1);
    ok = factor (p, k, what, error);
    g_free (what);
  }
  if (ok && tied && any) {
    if (p->type == TIED) {
      for (size_t j = 0; j < d * d; j++)
        p->cov[j] = pool[j] / total;
      for (size_t j = 0; j < d; j++)
        p->cov[j * d + j] += p->reg;
    } else {
      double s = 0.0;
      for (size_t j = 0; j < d; j++)
        s += pool[j];
      p->cov[0] = s / (total * (double) d) + p->reg;
    }
    ok = factor (p, 0, "the shared covariance", error);
  }
  g_free (sc);
  g_free (pool);
  return ok;
}

/* tr(S^-1 A) for covariance block B and a symmetric d*d (or diagonal) A. */
static double
trace_solve (const mixem_params *p, size_t b, const double *a)
{
  const size_t d = p->d;
  const double *f = p->fac + b * block_len (p);
  if (!is_full (p)) {
    double t = 0.0;
    for (size_t j = 0; j < d; j++) {
      const double sd = f[p->type == DIAG ? j : 0];
      t += a[j] / (sd * sd);
    }
    return t;
  }
  /* tr(L^-T L^-1 A) = tr(L^-1 A L^-T): two triangular solves on a copy of A. */
  double *z = g_memdup2 (a, d * d * sizeof (double)), t = 0.0;
  cblas_dtrsm (CblasRowMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, (int) d, (int) d,
               1.0, f, (int) d, z, (int) d);
  cblas_dtrsm (CblasRowMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit, (int) d, (int) d,
               1.0, f, (int) d, z, (int) d);
  for (size_t j = 0; j < d; j++)
    t += z[j * d + j];
  g_free (z);
  return t;
}

static double
expected_loglik (const mixem_params *p, const double *stats)
{
  const size_t d = p->d;
  double *sc = g_new (double, is_full (p) ? d * d : d), e = 0.0;
  for (size_t k = 0; k < p->k; k++) {
    const double R = scatter (p, stats, k, p->mean + k * d, sc);
    if (!(R > 0))
      continue;
    e += stats[(k + 1) * stat_len (p) - 1];   /* the entropy of missing cells (0 if none) */
    e -= 0.5 * R * ((double) d * log (2.0 * M_PI) + p->logdet[blk (p, k)]
                    + trace_solve (p, blk (p, k), sc));
  }
  g_free (sc);
  return e;
}

static size_t
n_free_params (const mixem_params *p)
{
  const size_t k = p->k, d = p->d;
  return k * d + n_var_params (p->model, k, d);
}

static void
sample (const mixem_params *p, size_t k, gsl_rng *rng, double *x)
{
  const size_t d = p->d;
  const double *f = p->fac + blk (p, k) * block_len (p);
  double z[d > 0 ? d : 1];
  for (size_t j = 0; j < d; j++)
    z[j] = gsl_ran_gaussian_ziggurat (rng, 1.0);
  for (size_t i = 0; i < d; i++) {
    double s = 0.0;
    if (is_full (p))
      for (size_t j = 0; j <= i; j++)
        s += f[i * d + j] * z[j];
    else
      s = f[p->type == DIAG ? i : 0] * z[i];
    x[i] = p->mean[k * d + i] + s;
  }
}

static GVariant *
vector (const double *v, size_t n)
{
  return g_variant_new_fixed_array (G_VARIANT_TYPE_DOUBLE, v, n, sizeof (double));
}

static GVariant *
describe (const mixem_params *p, size_t k)
{
  const size_t d = p->d;
  const double *cov = p->cov + blk (p, k) * block_len (p);
  GVariantDict dict;
  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert_value (&dict, "mean", vector (p->mean + k * d, d));
  GVariantBuilder rows;
  g_variant_builder_init (&rows, G_VARIANT_TYPE ("aad"));
  double row[d > 0 ? d : 1];
  for (size_t i = 0; i < d; i++) {
    for (size_t j = 0; j < d; j++)
      row[j] = is_full (p) ? cov[i * d + j] : i != j ? 0.0 : cov[p->type == DIAG ? i : 0];
    g_variant_builder_add_value (&rows, vector (row, d));
  }
  g_variant_dict_insert_value (&dict, "cov", g_variant_builder_end (&rows));
  if (p->type == DIAG)
    g_variant_dict_insert_value (&dict, "var", vector (cov, d));
  else if (!is_full (p))
    g_variant_dict_insert (&dict, "var", "d", cov[0]);
  return g_variant_dict_end (&dict);
}

/* DICT[KEY] as n numbers (an "ad" of length n, or a number when n == 1); FALSE if absent. */
static gboolean
get_vector (GVariant *dict, const char *key, size_t n, double *out, gboolean *bad)
{
  gboolean found = FALSE;
  *bad = !mixem_dict_get_vector (dict, "gaussian", key, n, out, &found, NULL) && found;
  return found;
}

/* DICT[KEY] as a d*d matrix (an "aad") in *OUT (g_free it), allocated only once the value is seen
 * to hold d rows of d numbers, so that its size is bounded by the input's; FALSE if absent. */
static gboolean
get_matrix (GVariant *dict, const char *key, size_t d, double **outp, gboolean *bad)
{
  GVariant *v = g_variant_lookup_value (dict, key, NULL);
  if (!v)
    return FALSE;
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_VARIANT)) {
    GVariant *inner = g_variant_get_variant (v);
    g_variant_unref (v);
    v = inner;
  }
  *bad = !g_variant_is_of_type (v, G_VARIANT_TYPE ("aad")) || g_variant_n_children (v) != d;
  for (size_t i = 0; i < d && !*bad; i++) {
    GVariant *row = g_variant_get_child_value (v, i);
    *bad = g_variant_n_children (row) != d;
    g_variant_unref (row);
  }
  double *out = *outp = *bad ? NULL : g_new (double, d * d);
  for (size_t i = 0; i < d && !*bad; i++) {
    GVariant *row = g_variant_get_child_value (v, i);
    gsize len;
    const double *a = g_variant_get_fixed_array (row, &len, sizeof (double));
    *bad = len != d;
    for (size_t j = 0; j < d && !*bad; j++)
      *bad = !isfinite (out[i * d + j] = a[j]);
    g_variant_unref (row);
  }
  for (size_t i = 0; i < d && !*bad; i++)   /* symmetric, to rounding */
    for (size_t j = 0; j < i && !*bad; j++)
      *bad = fabs (out[i * d + j] - out[j * d + i])
             > 1e-10 * fmax (1.0, fabs (out[i * d + i]) + fabs (out[j * d + j]));
  g_variant_unref (v);
  return TRUE;
}

static gboolean
assign (mixem_params *p, size_t k, GVariant *dict, gboolean *complete, GError **error)
{
  static const char *const known[] = { "mean", "cov", "precision", "var", NULL };
  if (!mixem_dict_check_keys (dict, "gaussian", known, error))
    return FALSE;
  const size_t d = p->d, len = block_len (p);
  double *m = g_new (double, d), *mat = NULL;   /* a vector, and a d*d matrix when one is given */
  gboolean bad = FALSE, has_mean, has_cov = FALSE, ok = TRUE, pd_fail = FALSE;
  const char *key = "mean";
  has_mean = get_vector (dict, "mean", d, m, &bad);
  if (has_mean && !bad)
    memcpy (p->mean + k * d, m, d * sizeof (double));
  double *cov = p->cov + blk (p, k) * len, *saved = g_memdup2 (cov, len * sizeof (double));
  if (!bad && (key = "cov", has_cov = get_matrix (dict, "cov", d, &mat, &bad)) && !bad) {
    if (is_full (p))
      memcpy (cov, mat, d * d * sizeof (double));
    else   /* diag and spherical take a diagonal (and, spherical, constant) matrix */
      for (size_t i = 0; i < d && !bad; i++)
        for (size_t j = 0; j < d && !bad; j++) {
          const double v = mat[i * d + j], want = i != j ? 0.0 : mat[0];
          bad = i != j ? v != 0.0 : (p->type != DIAG && v != want);
          if (i == j && !bad)
            cov[p->type == DIAG ? i : 0] = v;
        }
  } else if (!bad && (key = "precision", has_cov = get_matrix (dict, "precision", d, &mat, &bad))
             && !bad) {
    /* diag and spherical take a precision of their form, as a covariance: diagonal (and,
     * spherical, constant); any other would be silently read as another matrix. */
    for (size_t i = 0; i < d && !bad && !is_full (p); i++)
      for (size_t j = 0; j < d && !bad; j++)
        bad = i != j ? mat[i * d + j] != 0.0 : (p->type != DIAG && mat[i * d + j] != mat[0]);
    /* The covariance from a precision: its Cholesky factor inverted, once, at the start. */
    gsl_matrix_view pv = gsl_matrix_view_array (mat, d, d);
    bad = bad || (pd_fail = gsl_linalg_cholesky_decomp1 (&pv.matrix) != GSL_SUCCESS
                            || gsl_linalg_cholesky_invert (&pv.matrix) != GSL_SUCCESS);
    for (size_t i = 0; i < d && !bad; i++)
      for (size_t j = 0; j < d; j++) {
        if (is_full (p))
          cov[i * d + j] = mat[i * d + j];
        else if (i == j)
          cov[p->type == DIAG ? i : 0] = mat[i * d + i];
      }
  } else if (!bad && !is_full (p)
             && (key = "var", has_cov = get_vector (dict, "var", p->type == DIAG ? d : 1, m, &bad))
             && !bad)
    memcpy (cov, m, (p->type == DIAG ? d : 1) * sizeof (double));
  const gboolean vector_key = strcmp (key, "mean") == 0 || strcmp (key, "var") == 0;
  if (bad && pd_fail) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT,
                 "gaussian: the given 'precision' is not positive definite");
    ok = FALSE;
  } else if (bad && vector_key) {
    const size_t n = key[0] == 'v' && p->type != DIAG ? 1 : d;
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT,
                 "gaussian: '%s' must be %s%zu finite number%s", key, n == 1 ? "" : "an array of ",
                 n, n == 1 ? "" : "s");
    ok = FALSE;
  } else if (bad) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT,
                 "gaussian: '%s' must be a symmetric %zu by %zu matrix of finite numbers%s", key, d,
                 d, strcmp (key, "mean") != 0 && !is_full (p)
                      ? p->type == DIAG ? " (diagonal, for this covariance type)"
                                        : " (a multiple of the identity, for this covariance type)"
                      : "");
    ok = FALSE;
  } else if (has_cov && is_tied (p) && p->tied_by && p->tied_by != k + 1
             && memcmp (cov, saved, len * sizeof (double)) != 0) {
    /* One shared matrix (scikit-learn's tied precisions_init is one): components that give
     * different ones are an error, not the last one silently winning. */
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT,
                 "gaussian: a tied covariance is one matrix shared by every component, but "
                 "components %zu and %zu give different '%s' values", p->tied_by, k + 1, key);
    ok = FALSE;
  } else if (has_cov) {
    /* A covariance the caller gave: if it cannot be factored, it is not positive definite as
     * given (no component has collapsed, and reg_covar has no part in it). */
    ok = factor (p, blk (p, k), "", NULL);
    if (ok && is_tied (p) && !p->tied_by)
      p->tied_by = k + 1;
    if (!ok)
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT,
                   "gaussian: the given '%s' is not positive definite%s", key,
                   strcmp (key, "var") == 0 ? " (every variance must be > 0)" : "");
  }
  if (!ok) {
    memcpy (cov, saved, len * sizeof (double));
    factor (p, blk (p, k), "", NULL);
  }
  if (complete)
    *complete = has_mean && has_cov;
  g_free (saved);
  g_free (m);
  g_free (mat);
  return ok;
}

G_MODULE_EXPORT const mixem_family mixem_family_entry = {
  .abi_version = MIXEM_FAMILY_ABI_VERSION,
  .size = MIXEM_FAMILY_SIZE,
  .flags = MIXEM_FAMILY_SCALED_STARTS | MIXEM_FAMILY_MISSING,
  .name = "gaussian",
  .summary = "multivariate normal: mclust's 14 covariance models (full, tied, diag, spherical, "
             "tied_spherical and EEI, VEI, EVI, VEE, EVE, VVE, EEV, VEV, EVV)",
  .options = options,
  .init_methods = init_methods,
  .params_new = params_new,
  .params_copy = params_copy,
  .params_free = params_free,
  .log_density = log_density,
  .stats_size = stats_size,
  .accumulate = accumulate,
  .maximise = maximise,
  .expected_loglik = expected_loglik,
  .n_free_params = n_free_params,
  .sample = sample,
  .describe = describe,
  .assign = assign,
  .stats_rebase = stats_rebase,
  .impute_mean = impute_mean,
  .impute_draw = impute_draw,
  .log_prior = log_prior,
};
