/* regression.c: mixtures of regressions (flexmix's FLXMRglm, mixtools' regmixEM).  Row i holds a
 * response y_i and covariates; component k has coefficients b_k (p of them: the intercept first
 * unless intercept = false, then the covariates in the order of the option "covariates") and
 * eta_ik = o_i + x_i'b_k, with x_i the row's design (1 first for the intercept) and o_i the
 * offset (option "offset", Poisson only; else 0).  Built four times (REG_MODEL), one family each:
 *
 *   linreg:    log p(y | x, k) = -1/2 log(2 pi s_k^2) - (y - eta)^2 / (2 s_k^2)
 *              (variance = "shared": one s for every component)
 *   poisreg:   log p(y | x, k) = y eta - exp(eta) - log(y!)                      (log link)
 *   logitreg:  log p(y | x, k) = log C(n, y) + y eta - n log(1 + exp(eta))       (logit link)
 *              n the row's trials (option "trials": a column or one number, default 1)
 *   gammareg:  log p(y | x, k) = a_k log a_k - lgamma(a_k) + (a_k - 1) log y - a_k eta
 *                                - a_k y e^-eta                   (log link, mean e^eta, shape a_k)
 *
 * The constants log(y!) and log C(n, y) are included, as R's dpois and dbinom (and so flexmix's
 * logLik) include them.  gammareg has the log link, not flexmix's (FLXMRglm(family = "Gamma")
 * takes R's default for Gamma, the inverse link, under which a mean can turn negative; and its
 * shape is sum(weights) / deviance, not the maximum-likelihood one, so flexmix's EM is no
 * reference: tests/reference/regression_gamma.R writes EM out with glm.fit).
 *
 * Gaussian statistics of component k (2 + p + p^2 doubles), in centred coordinates: the design
 * and response are taken about the unweighted means of the rows the parameters were made for
 * (x~ = x - m with the intercept's 1 left alone, y~ = y - ybar; with intercept = false, or no
 * rows at hand, m = 0 and ybar = 0), a reparametrisation that leaves the fit unchanged but makes
 * the sums of squares small where the data sit far from 0:
 *   W_k = sum_i r_ik,  Y_k = sum_i r_ik y~_i^2,  c_k = sum_i r_ik x~_i y~_i,  A_k = sum_i r_ik x~_i x~_i'
 * (the upper triangle of A_k only).  M-step: weighted least squares by the Cholesky factor
 * A_k = L L' (gsl_linalg_cholesky_decomp1, no inverse): z = L^-1 c, b~ = L'^-1 z, and the residual
 * sum of squares at b~ is Y - z'z, a difference of two non-negative numbers that the centring
 * keeps of the size of the data's spread about their means rather than of their squared means.
 * s_k^2 = (Y_k - z'z) / W_k (shared: sum_k (Y_k - z_k'z_k) / sum_k W_k).  b~ is turned back into
 * b: the slopes are the same, b_0 = b~_0 + ybar - sum_j m_j b_j.
 * Expected complete log-likelihood, exact: with b~ from b,
 *   sum_k -W_k/2 log(2 pi s_k^2) - (Y_k - 2 b~'c_k + b~'A_k b~) / (2 s_k^2).
 *
 * Poisson and binomial: no finite set of sums over rows gives sum_i r_ik log p(y_i | x_i, b) for
 * every b, so the M-step needs the rows again.  The statistics, taken at the current b_k,
 *   W_k = sum_i r_ik,  D_k = sum_i r_ik dev_i(b_k),  g_k = sum_i r_ik (y_i - mu_i) x_i,
 *   F_k = sum_i r_ik v_i x_i x_i'
 * (mu = exp(eta), v = mu for Poisson; mu = n sigma(eta), v = n sigma(eta) (1 - sigma(eta)) for
 * the binomial; dev_i R's deviance residual, 2 (log p_sat(y_i) - log p(y_i | x_i, b)), so that
 * D_k = 2 (const - Q_k(b))), are the gradient and the Fisher information (= minus the Hessian:
 * canonical links) of Q_k(b) = sum_i r_ik log p(y_i | x_i, b) at b_k, and its deviance.  Two
 * M-steps (option "mstep"):
 *
 * "irls" (the default): flexmix's, glm.fit(x, y, weights = r_k, start = b_k) to glm.control()'s
 * convergence (maximise_irls, below): Newton steps b + F^-1 g (IRLS's weighted least squares,
 * the same step for a canonical link), each followed by a pass over the rows at the new b with
 * the same responsibilities (the engine's maximise_passes), until the deviance changes by less
 * than 1e-8 relative, 25 steps at most, halving a step only where the deviance is not finite.
 * So mixem's path is flexmix's from the same start (tests: 1 and 5 iterations, to 1e-14).  An
 * iteration costs the E-step's pass and one pass per IRLS step (NPreg, K = 2: 3 in the first
 * iterations, then 2, and 1 near the fixed point).  Converged IRLS maximises Q_k, so this is exact EM up to glm.fit's
 * tolerance: the ELBO rises, and since the pass after the M-step sums q_{t-1} against the new
 * log-densities, ELBO(q_{t-1}, theta_t) and KL = l(theta_t) - ELBO are exact as before.  Where
 * IRLS ends above the start's deviance (no convergence in 25 steps, an overshoot) the component
 * takes the damped step below instead, so that Q_k rises for certain.  Where the engine keeps no
 * responsibilities to pass with (SQUAREM's extrapolated statistics, incremental and online EM,
 * SEM's averages) the M-step is the damped step.
 *
 * "newton": one damped Newton step per iteration, b_k + s F^-1 g, with s chosen so that Q_k rises
 * for certain (so the ELBO rises, and with it the log-likelihood: generalised EM), and no pass
 * beyond the E-step's.  The bound: with u_i = x_i' delta and |u_i| <= U for every row, the
 * curvature of the cumulant (exp for Poisson, n log(1 + exp) for the binomial) at eta + t, |t| <=
 * U, is at most e^U times that at eta (for the logistic: sigma'(eta + t) / sigma'(eta) <= e^|t|),
 * so by Taylor's theorem
 *   Q(b + delta) >= Q(b) + g'delta - e^U / 2 delta'F delta.
 * For delta = s d, d = F^-1 g and q = g'd >= 0 this is Q(b) + s q (1 - s e^(sU_d) / 2), U_d =
 * sum_j M_j |d_j| with M_j = max_i |x_ij| over the rows at hand (1 for the intercept).  s starts
 * at 1 and is halved until s e^(s U_d) < 2: a full Newton step once the steps are small (near a
 * fixed point), a shorter one far from it.  The fixed points are those of exact EM (g = 0 is the
 * maximiser of the concave Q_k), so a converged fit is the one flexmix's full IRLS gives; the
 * path there differs.  Without rows at hand (parameters made from a model file) M is unknown and
 * the step is the full Newton step.
 *
 * gammareg (log link, not canonical): Q_k(b, a) = a sum_i r_ik (-y_i e^-eta_i - eta_i) + terms in
 * a and y, so the coefficients' maximiser does not depend on the shape.  Its statistics per unit
 * shape: g = sum_i r_ik (y_i / mu_i - 1) x_i, F = sum_i r_ik x_i x_i' (the Fisher information,
 * IRLS's weights mu'(eta)^2 / V(mu) = 1), the observed information H = sum_i r_ik (y_i / mu_i) x_i
 * x_i', and the deviance D (glm.fit's Gamma dev.resids).  IRLS as above (Fisher scoring, b + F^-1
 * g, as glm.fit with Gamma(link = "log")); then each shape by maximum likelihood at the final
 * coefficients, the root of log a - psi(a) = D_k / (2 W_k) (gamma_shape.h, as the gamma family's;
 * capped at MAX_SHAPE = 1e6 for a component whose rows lie on its curve).  The damped step: the
 * same bound with H in place of F (the curvature of y e^-eta at eta + t is e^-t times that at
 * eta), Q(b + s d) >= Q(b) + a (s q - s^2 / 2 e^(sU) d'Hd), so s is halved until s e^(sU) d'Hd <
 * 2 q; the shape first, at the statistics' coefficients (ECM: shape, then coefficients, each
 * raising Q).  Common coefficients are not supported.
 *
 * expected_loglik is NULL for these families: the engine sums r_ik log p(y_i | x_i, b_k) in its
 * next pass, so the ELBO and KL are exact with either M-step.
 *
 * Option "common": coefficients shared by all components (flexmix's FLXMRglmfix); the M-step
 * then solves for all components at once from the same statistics (maximise_joint).
 *
 * A component whose design is rank-deficient (fewer rows than coefficients, a covariate that is
 * a combination of the others within it) has a Cholesky pivot L_jj^2 <= 1e-10 A_jj: an error
 * (MIXEM_ERROR_NUMERIC, so that the engine can re-seed it) naming the component and the covariate
 * that the ones before it explain.  No ridge is added.
 *
 * Starts: the engine's random_resp (the default: random responsibilities, one M-step) and kmeans
 * (clusters of whole rows).  sample() is given no covariates, so `sample` is NULL and mixem's
 * sample of whole rows is an error for this family; responses at given covariates are drawn by
 * mixem_model_sample_response (src/response.c, Lua model:sample(X)).
 */
#include <math.h>
#include <string.h>
#include <gsl/gsl_blas.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_sf_gamma.h>
#include <mixem/family.h>
#include "gamma_shape.h"

enum { GAUSSIAN, POISSON, BINOMIAL, GAMMA };

#define PIVOT_TOL 1e-10
#define MAX_TRIALS 9007199254740992.0

struct mixem_params {
  size_t k, d, p;
  int model;
  gboolean intercept, shared;
  size_t ycol;
  size_t *xcol;        /* p: the data column of coefficient j (unused for the intercept) */
  char **coef;         /* p names, "(Intercept)" first if any */
  int ocol, ncol;      /* offset and trials columns, or -1 */
  double nconst;       /* trials when ncol < 0 */
  double *ctr;         /* p: centre of each design column (0 for the intercept) */
  double ybar;
  double *xmax;        /* p: max_i |x_ij| over the rows at hand, or NULL */
  double *beta;        /* k * p, in the data's coordinates */
  gboolean *common;    /* p: coefficient j is shared by all components (option "common") */
  size_t pc;           /* how many are */
  double *sigma;       /* k (gaussian) */
  gboolean irls;       /* poisreg, logitreg: option mstep = "irls" (maximise_passes iterates) */
};

#ifndef REG_MODEL
#error "build with -DREG_MODEL=0 (linreg), 1 (poisreg), 2 (logitreg) or 3 (gammareg)"
#endif
#if REG_MODEL == 0
#define REG_NAME "linreg"
static const char *const variance_choices[] = { "component", "shared", NULL };
#elif REG_MODEL == 1
#define REG_NAME "poisreg"
#elif REG_MODEL == 2
#define REG_NAME "logitreg"
#else
#define REG_NAME "gammareg"
#endif
/* gammareg's largest shape (a component whose rows lie on its curve has an unbounded likelihood),
 * as the gamma family's default max_shape: a coefficient of variation of 0.1%. */
#define MAX_SHAPE 1e6
#if REG_MODEL != 0
static const char *const mstep_choices[] = { "irls", "newton", NULL };
#endif

static const mixem_option_info options[] = {
  { "response", "the column of the response", NULL, MIXEM_OPTION_COLUMN, NULL, NULL },
  { "covariates", "the covariate columns, separated by commas or + (\"x,x2\" or \"x+x2\"; in "
    "mixem select, where commas separate values to try, use +); none: intercept only",
    "", MIXEM_OPTION_TEXT, NULL, NULL },
  { "intercept", "an intercept in every component", "true", MIXEM_OPTION_BOOLEAN, NULL, NULL },
  { "common", "coefficients shared by all components (flexmix's FLXMRglmfix fixed): covariates, "
    "or (Intercept), separated by commas or +", "", MIXEM_OPTION_TEXT, NULL, NULL },
#if REG_MODEL == 0
  { "variance", "a variance per component, or one shared by all", "component",
    MIXEM_OPTION_CHOICE, NULL, variance_choices },
#elif REG_MODEL == 1
  { "offset", "a column added to the linear predictor (log exposure)", NULL,
    MIXEM_OPTION_COLUMN, NULL, NULL },
#elif REG_MODEL == 2
  { "trials", "the number of trials, a column or one whole number", "1",
    MIXEM_OPTION_TEXT, NULL, NULL },
#endif
#if REG_MODEL != 0
  { "mstep", "the M-step: irls (glm.fit's iteratively reweighted least squares to convergence, as "
    "flexmix) or newton (one damped Newton step per iteration, generalised EM: one pass per "
    "iteration)", "irls", MIXEM_OPTION_CHOICE, NULL, mstep_choices },
#endif
  { 0 }
};

#if REG_MODEL == 0
static const char *const init_methods[] = { "random_lines", "random_resp", "kmeans", NULL };
#else
static const char *const init_methods[] = { "random_resp", "random_lines", "kmeans", NULL };
#endif

/* glm.control()'s defaults, which flexmix's FLXMRglm leaves to glm.fit. */
#define IRLS_EPSILON 1e-8
#define IRLS_MAXIT 25

static void
params_free (mixem_params *p)
{
  if (!p)
    return;
  g_free (p->xcol);
  g_strfreev (p->coef);
  g_free (p->ctr);
  g_free (p->xmax);
  g_free (p->beta);
  g_free (p->common);
  g_free (p->sigma);
  g_free (p);
}

static mixem_params *
params_copy (const mixem_params *p)
{
  mixem_params *c = g_memdup2 (p, sizeof *p);
  c->xcol = g_memdup2 (p->xcol, p->p * sizeof (size_t));
  c->coef = g_strdupv (p->coef);
  c->ctr = g_memdup2 (p->ctr, p->p * sizeof (double));
  c->xmax = p->xmax ? g_memdup2 (p->xmax, p->p * sizeof (double)) : NULL;
  c->beta = g_memdup2 (p->beta, p->k * p->p * sizeof (double));
  c->sigma = g_memdup2 (p->sigma, p->k * sizeof (double));
  c->common = g_memdup2 (p->common, p->p * sizeof (gboolean));
  return c;
}

static int
column_of (const mixem_spec *spec, const char *name)
{
  for (size_t j = 0; j < spec->d; j++)
    if (spec->names && spec->names[j] && strcmp (spec->names[j], name) == 0)
      return (int) j;
  return -1;
}

/* The design of row ROW into X (p values). */
static void
design (const mixem_params *p, const double *row, double *x)
{
  size_t j = 0;
  if (p->intercept)
    x[j++] = 1.0;
  for (; j < p->p; j++)
    x[j] = row[p->xcol[j]];
}

static double
trials_of (const mixem_params *p, const double *row)
{
  return p->ncol >= 0 ? row[p->ncol] : p->nconst;
}

/* Row I's design, response and trials (or exposure) sums into ACC (P + 2 doubles). */
static void
add_row_sums (const mixem_dataset *ds, size_t i, double *acc, void *user)
{
  const mixem_params *p = user;
  double row[p->d > 0 ? p->d : 1], x[p->p > 0 ? p->p : 1];
  for (size_t j = 0; j < p->d; j++)
    row[j] = mixem_dataset_value (ds, i, j);
  design (p, row, x);
  for (size_t j = 0; j < p->p; j++)
    acc[j] += x[j];
  acc[p->p] += row[p->ycol];
  acc[p->p + 1] += p->model == BINOMIAL ? trials_of (p, row)
                   : p->model == POISSON && p->ocol >= 0 ? exp (row[p->ocol]) : 1.0;
}

/* Reads what the rows say (all ranks' rows on a part): centres, bounds, a starting intercept,
 * constant covariates. */
static gboolean
look_at_data (mixem_params *p, const mixem_dataset *ds, GError **error)
{
  const size_t n = mixem_dataset_rows (ds), nall = mixem_dataset_all_rows (ds);
  size_t cols[64], nc = 0;
  cols[nc++] = p->ycol;
  for (size_t j = p->intercept ? 1 : 0; j < p->p && nc < 62; j++)
    cols[nc++] = p->xcol[j];
  if (p->ocol >= 0)
    cols[nc++] = (size_t) p->ocol;
  if (p->ncol >= 0)
    cols[nc++] = (size_t) p->ncol;
  if (!mixem_refuse_levels (ds, cols, nc, REG_NAME, error))
    return FALSE;
  if (nall == 0)
    return TRUE;
  p->xmax = g_new0 (double, p->p);
  /* The largest |x|, x and -x of each design column (a rank with no rows: -inf). */
  double *ext = g_new (double, 3 * p->p), *row = g_new (double, p->d);
  double *x = g_new (double, p->p), *sums = g_new (double, p->p + 2);
  for (size_t j = 0; j < 3 * p->p; j++)
    ext[j] = j < p->p ? 0.0 : -INFINITY;
  for (size_t i = 0; i < n; i++) {
    for (size_t j = 0; j < p->d; j++)
      row[j] = mixem_dataset_value (ds, i, j);
    design (p, row, x);
    for (size_t j = 0; j < p->p; j++) {
      ext[j] = fmax (ext[j], fabs (x[j]));
      ext[p->p + j] = fmax (ext[p->p + j], x[j]);
      ext[2 * p->p + j] = fmax (ext[2 * p->p + j], -x[j]);
    }
  }
  mixem_dataset_max_over_ranks (ds, ext, 3 * p->p);
  if (!mixem_dataset_sum_rows (ds, p->p + 2, add_row_sums, p, sums, error)) {
    g_free (ext);
    g_free (row);
    g_free (x);
    g_free (sums);
    return FALSE;
  }
  const double *hi = ext + p->p, ysum = sums[p->p], nsum = sums[p->p + 1];
  double *lo = g_new (double, p->p);
  for (size_t j = 0; j < p->p; j++) {
    p->xmax[j] = ext[j];
    lo[j] = -ext[2 * p->p + j];
    p->ctr[j] = sums[j];
  }
  gboolean ok = TRUE;
  for (size_t j = p->intercept ? 1 : 0; j < p->p && ok; j++)
    if (p->intercept && lo[j] == hi[j] && nall > 1) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA,
                   REG_NAME ": covariate '%s' is %g in every row, which the intercept already "
                   "models (drop it, or set intercept = false)", p->coef[j], lo[j]);
      ok = FALSE;
    }
  /* Centring (gaussian with an intercept only: it is a reparametrisation then; not with a
   * common intercept, whose centred value b_0 - ybar + m'b would differ between components
   * whose slopes differ). */
  const gboolean centre = p->model == GAUSSIAN && p->intercept && !p->common[0];
  for (size_t j = 0; j < p->p; j++)
    p->ctr[j] = centre && j > 0 ? p->ctr[j] / (double) nall : 0.0;
  p->ybar = centre ? ysum / (double) nall : 0.0;
  /* A start of the right size: the intercept at the link of the mean response. */
  if (p->intercept && isfinite (ysum) && isfinite (nsum) && nsum > 0) {
    double b0 = ysum / nsum;
    if (p->model == POISSON || p->model == GAMMA)
      b0 = log (fmax (b0, 1e-8));
    else if (p->model == BINOMIAL) {
      b0 = fmin (fmax (b0, 1e-8), 1 - 1e-8);
      b0 = log (b0 / (1 - b0));
    }
    if (isfinite (b0))
      for (size_t k = 0; k < p->k; k++)
        p->beta[k * p->p] = b0;
  }
  g_free (lo);
  g_free (ext);
  g_free (row);
  g_free (x);
  g_free (sums);
  return ok;
}

static mixem_params *
params_new (const mixem_spec *spec, GError **error)
{
  const char *response = mixem_options_get (spec->options, "response");
  const char *covs = mixem_options_get (spec->options, "covariates");
  const char *variance = mixem_options_get (spec->options, "variance");
  const char *trials = mixem_options_get (spec->options, "trials");
  const char *offset = mixem_options_get (spec->options, "offset");
  const char *common = mixem_options_get (spec->options, "common");
  mixem_params *p = g_new0 (mixem_params, 1);
  p->k = spec->k;
  p->d = spec->d;
  p->model = REG_MODEL;
  p->intercept = mixem_options_get_boolean (spec->options, "intercept", TRUE);
  p->shared = variance && strcmp (variance, "shared") == 0;
  const char *mstep = mixem_options_get (spec->options, "mstep");
  p->irls = REG_MODEL != 0 && (!mstep || strcmp (mstep, "irls") == 0);
  p->ocol = p->ncol = -1;
  p->nconst = 1;
  if (!response) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 REG_NAME ": the option 'response' (the column of the response) is required");
    goto fail;
  }
  int yc = column_of (spec, response);
  if (yc < 0) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 REG_NAME ": the response '%s' is not a column of the data", response);
    goto fail;
  }
  p->ycol = (size_t) yc;
  gchar **parts = g_strsplit_set (covs ? covs : "", ",+", -1);
  GPtrArray *names = g_ptr_array_new ();
  GArray *cols = g_array_new (FALSE, FALSE, sizeof (size_t));
  if (p->intercept) {
    g_ptr_array_add (names, g_strdup ("(Intercept)"));
    size_t zero = 0;
    g_array_append_val (cols, zero);
  }
  gboolean ok = TRUE;
  for (size_t i = 0; parts[i] && ok; i++) {
    char *name = g_strstrip (parts[i]);
    if (!*name)
      continue;
    int c = column_of (spec, name);
    if (c < 0) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                   REG_NAME ": the covariate '%s' is not a column of the data", name);
      ok = FALSE;
    } else if ((size_t) c == p->ycol) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                   REG_NAME ": '%s' is both the response and a covariate", name);
      ok = FALSE;
    }
    for (guint j = p->intercept ? 1 : 0; ok && j < names->len; j++)
      if (strcmp (g_ptr_array_index (names, j), name) == 0) {
        g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                     REG_NAME ": the covariate '%s' is listed twice", name);
        ok = FALSE;
      }
    if (ok) {
      size_t col = (size_t) c;
      g_ptr_array_add (names, g_strdup (name));
      g_array_append_val (cols, col);
    }
  }
  g_strfreev (parts);
  g_ptr_array_add (names, NULL);
  p->coef = (char **) g_ptr_array_free (names, FALSE);
  p->p = cols->len;
  p->xcol = (size_t *) (void *) g_array_free (cols, FALSE);
  if (!ok)
    goto fail;
  if (p->p == 0) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 REG_NAME ": no coefficients (no covariates and intercept = false)");
    goto fail;
  }
  if (p->p > 60) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 REG_NAME ": %zu coefficients, more than the 60 supported", p->p);
    goto fail;
  }
  p->common = g_new0 (gboolean, p->p);
  gchar **shared = g_strsplit_set (common ? common : "", ",+", -1);
  for (size_t i = 0; shared[i] && ok; i++) {
    const char *name = g_strstrip (shared[i]);
    size_t j = 0;
    if (!*name)
      continue;
    while (j < p->p && strcmp (p->coef[j], name) != 0)
      j++;
    if (j == p->p) {
      char *q = mixem_quote (name, -1);
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                   REG_NAME ": the common coefficient '%s' is not one of the covariates%s", q,
                   p->intercept ? " or (Intercept)" : "");
      g_free (q);
      ok = FALSE;
    } else if (p->common[j]) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                   REG_NAME ": the common coefficient '%s' is listed twice", name);
      ok = FALSE;
    } else {
      p->common[j] = TRUE;
      p->pc++;
    }
  }
  g_strfreev (shared);
  if (ok && p->model == GAMMA && p->pc > 0) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 REG_NAME ": common coefficients are not supported (linreg, poisreg and logitreg "
                 "have them)");
    ok = FALSE;
  }
  if (!ok)
    goto fail;
  if (offset)
    p->ocol = column_of (spec, offset);
  if (p->model == BINOMIAL && trials) {
    p->ncol = column_of (spec, trials);
    if (p->ncol < 0) {
      char *end = NULL;
      double v = g_ascii_strtod (trials, &end);
      if (end == trials || *end || !isfinite (v) || v < 1 || v != floor (v) || v > MAX_TRIALS) {
        char *q = mixem_quote (trials, -1);
        g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                     REG_NAME ": 'trials' = '%s' is neither a column nor a whole number from 1 "
                     "to 2^53", q);
        g_free (q);
        goto fail;
      }
      p->nconst = v;
    }
  }
  p->ctr = g_new0 (double, p->p);
  p->beta = g_new0 (double, p->k * p->p);
  p->sigma = g_new (double, p->k);
  for (size_t k = 0; k < p->k; k++)
    p->sigma[k] = 1.0;
  if (spec->data && !look_at_data (p, spec->data, error))
    goto fail;
  return p;
fail:
  params_free (p);
  return NULL;
}

static gboolean
check_data (const mixem_params *p, const mixem_block *b, GError **error)
{
  for (size_t i = 0; i < b->n; i++) {
    const double *row = b->x + i * b->d;
    const double y = row[p->ycol];
    for (size_t j = p->intercept ? 1 : 0; j < p->p; j++)
      if (!isfinite (row[p->xcol[j]])) {
        mixem_set_cell_error (error, b, i, p->xcol[j], "covariate is not a finite number (%g)",
                              row[p->xcol[j]]);
        return FALSE;
      }
    if (p->ocol >= 0 && !isfinite (row[p->ocol])) {
      mixem_set_cell_error (error, b, i, (size_t) p->ocol, "offset is not a finite number (%g)",
                            row[p->ocol]);
      return FALSE;
    }
    if (!isfinite (y)) {
      mixem_set_cell_error (error, b, i, p->ycol, "response is not a finite number (%g)", y);
      return FALSE;
    }
    if (p->model == GAMMA && !(y > 0)) {
      mixem_set_cell_error (error, b, i, p->ycol, "a gamma response must be > 0 (got %g)", y);
      return FALSE;
    }
    if (p->model == POISSON && (y < 0 || y != floor (y))) {
      mixem_set_cell_error (error, b, i, p->ycol,
                            "a poisson response must be a whole number >= 0 (got %g)", y);
      return FALSE;
    }
    if (p->model == BINOMIAL) {
      const double n = trials_of (p, row);
      if (p->ncol >= 0 && (!(n >= 0) || n != floor (n) || n > MAX_TRIALS)) {
        mixem_set_cell_error (error, b, i, (size_t) p->ncol,
                              "trials must be a whole number from 0 to 2^53 (got %g)", n);
        return FALSE;
      }
      if (y < 0 || y != floor (y)) {
        mixem_set_cell_error (error, b, i, p->ycol,
                              "a binomial response must be a whole number >= 0 (got %g)", y);
        return FALSE;
      }
      if (y > n) {
        mixem_set_cell_error (error, b, i, p->ycol, "%g successes out of %g trials", y, n);
        return FALSE;
      }
    }
  }
  return TRUE;
}

/* y log(y / mu), 0 for y = 0 (R's y_log_y, in its binomial and poisson deviances). */
static double
y_log_y (double y, double mu)
{
  return y != 0.0 ? y * log (y / mu) : 0.0;
}

/* log(1 + e^x) without overflow. */
static double
log1pexp (double x)
{
  return x > 0 ? x + log1p (exp (-x)) : log1p (exp (x));
}

/* The part of log p(y | x, k) that does not depend on the parameters. */
static double
base_of (const mixem_params *p, const double *row)
{
  const double y = row[p->ycol];
  if (p->model == POISSON)
    return -gsl_sf_lngamma (y + 1.0);
  if (p->model == BINOMIAL) {
    const double n = trials_of (p, row);
    return gsl_sf_lngamma (n + 1.0) - gsl_sf_lngamma (y + 1.0) - gsl_sf_lngamma (n - y + 1.0);
  }
  return 0.0;
}

static void
log_density (const mixem_params *p, const mixem_block *b, double *out)
{
  double x[64];
  for (size_t i = 0; i < b->n; i++) {
    const double *row = b->x + i * b->d;
    const double y = row[p->ycol], base = base_of (p, row);
    const double off = p->ocol >= 0 ? row[p->ocol] : 0.0;
    design (p, row, x);
    for (size_t k = 0; k < p->k; k++) {
      const double *bk = p->beta + k * p->p;
      double eta = off;
      for (size_t j = 0; j < p->p; j++)
        eta += x[j] * bk[j];
      double l;
      if (p->model == GAUSSIAN) {
        const double s = p->sigma[k], e = (y - eta) / s;
        l = -0.5 * log (2 * M_PI) - log (s) - 0.5 * e * e;
      } else if (p->model == POISSON)
        l = y * eta - exp (eta);
      else if (p->model == GAMMA) {
        /* shape a, mean e^eta: a log a - lgamma(a) + (a - 1) log y - a eta - a y e^-eta. */
        const double a = p->sigma[k];
        l = a * log (a) - gsl_sf_lngamma (a) + (a - 1.0) * log (y) - a * eta - a * y * exp (-eta);
      }
      else
        l = y * eta - trials_of (p, row) * log1pexp (eta);
      out[i * p->k + k] = base + l;
    }
  }
}

/* Per component: W, then linreg the centred response's sum of squares, poisreg and logitreg the
 * deviance D = sum_i r_ik dev_i (R's dev.resids: 2 (y log(y / mu) - (y - mu)), and 2 n (y~
 * log(y~ / mu~) + (1 - y~) log((1 - y~) / (1 - mu~))) with y~ = y / n, mu~ = mu / n, 0 log 0 = 0),
 * gammareg -2 (log(y / mu) - (y - mu) / mu)), which maximise_passes' IRLS stops on, as glm.fit
 * does; then g (P), F (P*P, upper triangle); the GLMs then Rb = sum_i r_ik b_k (P), which records
 * the coefficients their g and F were taken at, for stats_rebase; gammareg then H (P*P, upper
 * triangle), its observed information (without the shape), for the damped step's bound. */
static size_t
per_component (const mixem_params *p)
{
  return 2 + p->p + p->p * p->p + (p->model == GAUSSIAN ? 0 : p->p)
         + (p->model == GAMMA ? p->p * p->p : 0);
}

static size_t
stats_size (const mixem_params *p)
{
  return p->k * per_component (p);
}

static void
accumulate (const mixem_params *p, const mixem_block *b, const double *r, double *stats)
{
  const size_t P = p->p, S = per_component (p);
  double x[64];
  for (size_t i = 0; i < b->n; i++) {
    const double *row = b->x + i * b->d;
    const double y = row[p->ycol], off = p->ocol >= 0 ? row[p->ocol] : 0.0;
    design (p, row, x);
    if (p->model == GAUSSIAN)
      for (size_t j = 0; j < P; j++)
        x[j] -= p->ctr[j];
    for (size_t k = 0; k < p->k; k++) {
      const double rk = r[i * p->k + k];
      if (rk == 0.0)
        continue;
      double *s = stats + k * S, *c = s + 2, *A = s + 2 + P, res, v;
      if (p->model == GAUSSIAN) {
        res = y - p->ybar;
        v = 1.0;
        s[1] += rk * res * res;
      } else {
        const double *bk = p->beta + k * P;
        double eta = off;
        for (size_t j = 0; j < P; j++)
          eta += x[j] * bk[j];
        if (p->model == POISSON) {
          const double mu = exp (eta);
          res = y - mu;
          v = mu;
          s[1] += rk * 2.0 * (y_log_y (y, mu) - (y - mu));
        } else if (p->model == GAMMA) {
          /* Per unit shape: the score (y / mu - 1) x, the Fisher information x x' (IRLS's
           * weights: mu'(eta)^2 / V(mu) = 1) and the observed one (y / mu) x x'. */
          const double mu = exp (eta), ym = y / mu;
          double *H = s + 2 + 2 * P + P * P;
          res = ym - 1.0;
          v = 1.0;
          s[1] += rk * -2.0 * (log (ym) - (y - mu) / mu);
          for (size_t j = 0; j < P; j++) {
            const double w = rk * ym * x[j];
            for (size_t l = j; l < P; l++)
              H[j * P + l] += w * x[l];
          }
        } else {
          const double n = trials_of (p, row), pr = 1.0 / (1.0 + exp (-eta));
          res = y - n * pr;
          v = n * pr * (1.0 - pr);
          if (n > 0)
            s[1] += rk * 2.0 * n * (y_log_y (y / n, pr) + y_log_y (1.0 - y / n, 1.0 - pr));
        }
      }
      s[0] += rk;
      if (p->model != GAUSSIAN) {
        double *rb = s + 2 + P + P * P;
        const double *bk = p->beta + k * P;
        for (size_t j = 0; j < P; j++)
          rb[j] += rk * bk[j];
      }
      for (size_t j = 0; j < P; j++) {
        c[j] += rk * res * x[j];
        const double w = rk * v * x[j];
        for (size_t l = j; l < P; l++)
          A[j * P + l] += w * x[l];
      }
    }
  }
}

/* The Cholesky factor of the symmetric A (both triangles) into M (gsl_linalg_cholesky_decomp1);
 * the index of the first pivot that vanishes, L_jj^2 <= PIVOT_TOL A_jj, or A's size if none. */
static size_t
cholesky_pivot (const gsl_matrix *a, gsl_matrix *m)
{
  const size_t P = a->size1;
  gsl_matrix_memcpy (m, a);
  gsl_error_handler_t *old = gsl_set_error_handler_off ();
  int status = gsl_linalg_cholesky_decomp1 (m);
  gsl_set_error_handler (old);
  size_t bad = P;
  for (size_t j = 0; j < P && bad == P && !status; j++) {
    const double pivot = gsl_matrix_get (m, j, j), ajj = gsl_matrix_get (a, j, j);
    if (!(ajj > 0) || !(pivot * pivot > PIVOT_TOL * ajj))
      bad = j;
  }
  /* A failed factorisation: the first leading block that fails names the coefficient. */
  for (size_t j = 1; status && j <= P && bad == P; j++) {
    gsl_matrix_const_view asub = gsl_matrix_const_submatrix (a, 0, 0, j, j);
    gsl_matrix_view sub = gsl_matrix_submatrix (m, 0, 0, j, j);
    gsl_matrix_memcpy (&sub.matrix, &asub.matrix);
    old = gsl_set_error_handler_off ();
    const int st = gsl_linalg_cholesky_decomp1 (&sub.matrix);
    gsl_set_error_handler (old);
    const double pivot = st ? 0.0 : gsl_matrix_get (m, j - 1, j - 1);
    const double ajj = gsl_matrix_get (a, j - 1, j - 1);
    if (!(ajj > 0) || !(pivot * pivot > PIVOT_TOL * ajj))
      bad = j - 1;
  }
  return bad;
}

/* The Cholesky factor of component K's A (upper triangle in S) into M (A's copy into WORK); an
 * error naming the covariate whose pivot vanishes. */
static gboolean
factor (const mixem_params *p, size_t k, const double *A, gsl_matrix *work, gsl_matrix *m,
        GError **error)
{
  const size_t P = p->p;
  for (size_t j = 0; j < P; j++)
    for (size_t l = j; l < P; l++) {
      gsl_matrix_set (work, j, l, A[j * P + l]);
      gsl_matrix_set (work, l, j, A[j * P + l]);
    }
  const size_t bad = cholesky_pivot (work, m);
  if (bad < P) {
    GString *before = g_string_new (NULL);
    for (size_t j = 0; j < bad; j++)
      g_string_append_printf (before, "%s'%s'", j ? ", " : "", p->coef[j]);
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_NUMERIC,
                 REG_NAME ": component %zu has a rank-deficient design: '%s' is (nearly) a "
                 "combination of %s within it, or it has too few rows for its %zu coefficients",
                 k + 1, p->coef[bad], bad ? before->str : "nothing (all zero)", P);
    g_string_free (before, TRUE);
    return FALSE;
  }
  return TRUE;
}

/* Residual sum of squares of component K's statistics S at centred coefficients BT. */
static double
rss_at (const mixem_params *p, const double *s, const double *bt)
{
  const size_t P = p->p;
  const double *c = s + 2, *A = s + 2 + P;
  double q = s[1];
  for (size_t j = 0; j < P; j++) {
    q -= 2 * bt[j] * c[j];
    q += A[j * P + j] * bt[j] * bt[j];
    for (size_t l = j + 1; l < P; l++)
      q += 2 * A[j * P + l] * bt[j] * bt[l];
  }
  return q;
}

/* Centred coefficients BT of the coefficients B. */
static void
centre_of (const mixem_params *p, const double *b, double *bt)
{
  memcpy (bt, b, p->p * sizeof (double));
  if (p->intercept) {
    double b0 = b[0] - p->ybar;
    for (size_t j = 1; j < p->p; j++)
      b0 += b[j] * p->ctr[j];
    bt[0] = b0;
  }
}

/* Centred coefficients of component K. */
static void
centred (const mixem_params *p, size_t k, double *bt)
{
  centre_of (p, p->beta + k * p->p, bt);
}

/* The M-step with common coefficients (p->pc > 0).  The unknowns: the P - pc specific
 * coefficients of each free component (fixed[k] FALSE), then the pc common ones, u = (b_1S, ...,
 * b_KS, b_C).  Q = sum_k w_k Q_k(b_k), and each Q_k's statistics are sums over the rows, so the
 * joint normal equations (linreg) or the joint gradient and Fisher information (poisreg,
 * logitreg) are assembled from the components' blocks, as the stacked design of flexmix's
 * FLXMRglmfix gives them:
 *   M[kS, kS] = w_k A_k[S, S],  M[kS, C] = w_k A_k[S, C],  M[C, C] = sum_k w_k A_k[C, C],
 *   v[kS] = w_k c_k[S],         v[C] = sum_k w_k c_k[C],
 * with w_k = 1 / s_k^2 for linreg with a variance per component, else 1.  linreg: u = M^-1 v is
 * the weighted least-squares fit at the current variances, then s_k^2 = RSS_k / W_k (shared:
 * sum_k RSS_k / sum_k W_k) at the new coefficients.  With a shared variance this is the exact
 * M-step; with a variance per component it is an ECM step (Meng and Rubin 1993: coefficients
 * given the variances, then variances given the coefficients), which raises Q for certain and
 * has the fixed points of EM.  poisreg, logitreg: u += s M^-1 v, the damped Newton step above
 * with U_d the largest over the components of sum_j M_j |d_kj| (Q_k's bound holds for each
 * component, and the sum of the quadratic terms is d'M d = g'd).  A fixed component keeps its
 * specific coefficients and variance and is left out of the fit; it takes the new common
 * coefficients, since they are shared (fixed components are the empty ones, whose Q_k is 0, and
 * those that reseed or fix_components hold).  A fixed point's coefficients are not taken from
 * the start: the first M-step makes the common ones common (linreg), and for the GLMs, whose
 * step starts from the current ones, a start whose common coefficients differ is an error. */
static gboolean
maximise_joint (mixem_params *p, const double *stats, const gboolean *fixed, gboolean damped,
                GError **error)
{
  const size_t P = p->p, S = per_component (p), K = p->k, ps = P - p->pc;
  size_t *free_k = g_new (size_t, K), nf = 0, row[64];
  for (size_t k = 0; k < K; k++)
    if (!(fixed && fixed[k])) {
      if (!(stats[k * S] > 0)) {
        g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_NUMERIC,
                     REG_NAME ": component %zu is empty", k + 1);
        g_free (free_k);
        return FALSE;
      }
      free_k[nf++] = k;
    }
  if (p->model != GAUSSIAN)
    for (size_t j = 0; j < P; j++)
      for (size_t k = 1; k < K && p->common[j]; k++)
        if (p->beta[k * P + j] != p->beta[j]) {
          g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                       REG_NAME ": '%s' is a common coefficient, but component %zu has %.17g "
                       "for it and component 1 %.17g (start from equal values)", p->coef[j],
                       k + 1, p->beta[k * P + j], p->beta[j]);
          g_free (free_k);
          return FALSE;
        }
  /* row[j]: coefficient j's place within a component's block, or in the common block. */
  for (size_t j = 0, a = 0, c = 0; j < P; j++)
    row[j] = p->common[j] ? c++ : a++;
  const size_t n = nf * ps + p->pc;
  gsl_matrix *a = gsl_matrix_calloc (n, n), *m = gsl_matrix_alloc (n, n);
  gsl_vector *v = gsl_vector_calloc (n);
  double *newb = g_memdup2 (p->beta, K * P * sizeof (double)), bt[64];
  gboolean ok = TRUE;
  for (size_t f = 0; f < nf; f++) {
    const size_t k = free_k[f];
    const double *s = stats + k * S, *c = s + 2, *A = s + 2 + P;
    const double w = p->model == GAUSSIAN && !p->shared ? 1.0 / (p->sigma[k] * p->sigma[k]) : 1.0;
    for (size_t j = 0; j < P; j++) {
      const size_t rj = p->common[j] ? nf * ps + row[j] : f * ps + row[j];
      gsl_vector_set (v, rj, gsl_vector_get (v, rj) + w * c[j]);
      for (size_t l = j; l < P; l++) {
        const size_t rl = p->common[l] ? nf * ps + row[l] : f * ps + row[l];
        const double e = w * A[j * P + l];
        gsl_matrix_set (a, rj, rl, gsl_matrix_get (a, rj, rl) + e);
        if (l != j)
          gsl_matrix_set (a, rl, rj, gsl_matrix_get (a, rl, rj) + e);
      }
    }
  }
  const size_t bad = cholesky_pivot (a, m);
  if (bad < n) {
    size_t j = 0;
    if (bad >= nf * ps) {
      while (!p->common[j] || row[j] != bad - nf * ps)
        j++;
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_NUMERIC,
                   REG_NAME ": the common coefficient '%s' is (nearly) a combination of the "
                   "components' other coefficients over the rows (a rank-deficient joint "
                   "design)", p->coef[j]);
    } else {
      while (p->common[j] || row[j] != bad % ps)
        j++;
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_NUMERIC,
                   REG_NAME ": component %zu has a rank-deficient design: '%s' is (nearly) a "
                   "combination of its other coefficients within it, or it has too few rows "
                   "for its %zu coefficients", free_k[bad / ps] + 1, p->coef[j], P);
    }
    ok = FALSE;
  }
  if (ok) {
    gsl_linalg_cholesky_svx (m, v);
    double step = 1.0, u = 0.0;
    if (p->model != GAUSSIAN && p->xmax && damped) {
      for (size_t f = 0; f < nf; f++) {
        double uf = 0.0;
        for (size_t j = 0; j < P; j++) {
          const size_t rj = p->common[j] ? nf * ps + row[j] : f * ps + row[j];
          uf += p->xmax[j] * fabs (gsl_vector_get (v, rj));
        }
        u = fmax (u, uf);
      }
      while (step * exp (step * u) >= 2.0 && step > 1e-300)
        step *= 0.5;
    }
    for (size_t k = 0, f = 0; k < K; k++) {
      const gboolean isfree = f < nf && free_k[f] == k;
      double *b = newb + k * P;
      for (size_t j = 0; j < P; j++) {
        if (!isfree && !p->common[j])
          continue;
        const double x = gsl_vector_get (v, p->common[j] ? nf * ps + row[j] : f * ps + row[j]);
        /* linreg: centred, the same as b_j but for a specific intercept; a common
         * intercept is not centred. */
        b[j] = p->model != GAUSSIAN ? b[j] + step * x : x;
      }
      if (p->model == GAUSSIAN && isfree && p->intercept) {
        /* b~ back to b: b_0 = b~_0 + ybar - sum_j m_j b_j. */
        double b0 = p->ybar;
        for (size_t j = 1; j < P; j++)
          b0 -= b[j] * p->ctr[j];
        b[0] += b0;
      }
      f += isfree;
    }
  }
  if (ok && p->model == GAUSSIAN) {
    double num = 0.0, den = 0.0;
    double *rss = g_new (double, K);
    for (size_t k = 0; k < K; k++) {
      const double *s = stats + k * S;
      centre_of (p, newb + k * P, bt);
      rss[k] = fmax (rss_at (p, s, bt), 0.0);
      num += rss[k];
      den += s[0];
    }
    for (size_t f = 0; f < nf && ok && !p->shared; f++) {
      const size_t k = free_k[f];
      const double *s = stats + k * S;
      if (!(rss[k] > 1e-12 * s[1] && rss[k] / s[0] > 0)) {
        g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_NUMERIC,
                     REG_NAME ": component %zu has collapsed: its rows lie on its regression "
                     "(residual variance %g)", k + 1, rss[k] / s[0]);
        ok = FALSE;
      }
    }
    if (ok && p->shared && !(num / den > 0)) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_NUMERIC,
                   REG_NAME ": every component has collapsed onto its regression (they share "
                   "a variance of %g)", num / den);
      ok = FALSE;
    }
    for (size_t f = 0; f < nf && ok && !p->shared; f++)
      p->sigma[free_k[f]] = sqrt (rss[free_k[f]] / stats[free_k[f] * S]);
    for (size_t k = 0; k < K && ok && p->shared; k++)
      p->sigma[k] = sqrt (num / den);
    g_free (rss);
  }
  if (ok)
    memcpy (p->beta, newb, K * P * sizeof (double));
  gsl_matrix_free (a);
  gsl_matrix_free (m);
  gsl_vector_free (v);
  g_free (newb);
  g_free (free_k);
  return ok;
}

/* The M-step's step: linreg's exact one; poisreg's and logitreg's Newton step from the
 * statistics' coefficients, damped as above (DAMPED) or full (IRLS's weighted least squares). */
/* x'Ax for the symmetric A of which U holds the upper triangle (P by P, row-major). */
static G_GNUC_UNUSED double
quad_form (const double *U, size_t P, const double *x)
{
  double q = 0.0;
  for (size_t j = 0; j < P; j++) {
    q += U[j * P + j] * x[j] * x[j];
    for (size_t l = j + 1; l < P; l++)
      q += 2.0 * U[j * P + l] * x[j] * x[l];
  }
  return q;
}

static gboolean
maximise_step (mixem_params *p, const double *stats, const gboolean *fixed, gboolean damped,
               GError **error)
{
  if (p->pc > 0)
    return maximise_joint (p, stats, fixed, damped, error);
  const size_t P = p->p, S = per_component (p);
  gsl_matrix *m = gsl_matrix_alloc (P, P), *work = gsl_matrix_alloc (P, P);
  gsl_vector *v = gsl_vector_alloc (P);
  double *newb = g_new (double, p->k * P), *rss = g_new0 (double, p->k);
  double *shape = g_memdup2 (p->sigma, p->k * sizeof (double));
  gboolean ok = TRUE;
  memcpy (newb, p->beta, p->k * P * sizeof (double));
  for (size_t k = 0; k < p->k && ok; k++) {
    if (fixed && fixed[k])
      continue;
    const double *s = stats + k * S;
    if (!(s[0] > 0)) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_NUMERIC, REG_NAME ": component %zu is empty",
                   k + 1);
      ok = FALSE;
      break;
    }
    if (!factor (p, k, s + 2 + P, work, m, error)) {
      ok = FALSE;
      break;
    }
    for (size_t j = 0; j < P; j++)
      gsl_vector_set (v, j, s[2 + j]);
    double *b = newb + k * P;
    if (p->model == GAUSSIAN) {
      /* z = L^-1 c, then b~ = L'^-1 z; RSS = Y - z'z. */
      gsl_blas_dtrsv (CblasLower, CblasNoTrans, CblasNonUnit, m, v);
      double zz = 0;
      for (size_t j = 0; j < P; j++)
        zz += gsl_vector_get (v, j) * gsl_vector_get (v, j);
      rss[k] = fmax (s[1] - zz, 0.0);
      gsl_blas_dtrsv (CblasLower, CblasTrans, CblasNonUnit, m, v);
      double b0 = p->ybar;
      for (size_t j = 0; j < P; j++) {
        b[j] = gsl_vector_get (v, j);
        if (p->intercept && j > 0)
          b0 -= b[j] * p->ctr[j];
      }
      if (p->intercept)
        b[0] += b0;
      if (!p->shared && !(rss[k] > 1e-12 * s[1] && rss[k] / s[0] > 0)) {
        g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_NUMERIC,
                     REG_NAME ": component %zu has collapsed: its rows lie on its regression "
                     "(residual variance %g)", k + 1, rss[k] / s[0]);
        ok = FALSE;
      }
    } else {
      gsl_linalg_cholesky_svx (m, v);
      double u = 0, step = 1.0, q = 0.0, h;
      for (size_t j = 0; j < P; j++) {
        u += p->xmax ? p->xmax[j] * fabs (gsl_vector_get (v, j)) : 0.0;
        q += s[2 + j] * gsl_vector_get (v, j);
      }
      /* h = d'Hd with H the observed information: F itself for a canonical link (h = g'd = q),
       * gammareg's own H otherwise; the bound then asks s e^(sU) h < 2 q. */
      h = p->model == GAMMA ? quad_form (s + 2 + 2 * P + P * P, P, v->data) : q;
      while (p->xmax && damped && step * exp (step * u) * h >= 2.0 * q && step > 1e-300)
        step *= 0.5;
      for (size_t j = 0; j < P; j++)
        b[j] += step * gsl_vector_get (v, j);
      if (p->model == GAMMA)
        shape[k] = solve_shape (s[1] / (2.0 * s[0]), MAX_SHAPE);
    }
  }
  if (ok && p->model == GAUSSIAN && p->shared) {
    double num = 0, den = 0, bt[64];
    gboolean any = FALSE;
    for (size_t k = 0; k < p->k; k++) {
      const double *s = stats + k * S;
      if (fixed && fixed[k]) {
        centred (p, k, bt);
        num += fmax (rss_at (p, s, bt), 0.0);
      } else {
        num += rss[k];
        any = TRUE;
      }
      den += s[0];
    }
    if (any && !(num / den > 0)) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_NUMERIC,
                   REG_NAME ": every component has collapsed onto its regression (component 1 "
                   "and the others share a variance of %g)", num / den);
      ok = FALSE;
    }
    if (ok && any)
      for (size_t k = 0; k < p->k; k++)
        p->sigma[k] = sqrt (num / den);
  }
  if (ok) {
    memcpy (p->beta, newb, p->k * P * sizeof (double));
    if (p->model == GAMMA)   /* ECM: the shapes at the statistics' coefficients, then these */
      memcpy (p->sigma, shape, p->k * sizeof (double));
    if (p->model == GAUSSIAN && !p->shared)
      for (size_t k = 0; k < p->k; k++)
        if (!(fixed && fixed[k]))
          p->sigma[k] = sqrt (rss[k] / stats[k * S]);
  }
  gsl_matrix_free (m);
  gsl_matrix_free (work);
  gsl_vector_free (v);
  g_free (newb);
  g_free (rss);
  g_free (shape);
  return ok;
}

static gboolean
maximise (mixem_params *p, const double *stats, const gboolean *fixed, GError **error)
{
  return maximise_step (p, stats, fixed, TRUE, error);
}

#if REG_MODEL != 0
/* Whether glm.fit's rule says an IRLS run whose deviance went from DEVOLD to DEV has converged. */
static gboolean
irls_converged (double dev, double devold)
{
  return fabs (dev - devold) / (fabs (dev) + 0.1) < IRLS_EPSILON;
}

/* poisreg, logitreg with mstep = "irls": each component's coefficients by glm.fit's IRLS run to
 * its convergence with start = the current coefficients, as flexmix's FLXMRglm M-step (glm.fit
 * (x, y, weights = posterior, start = component$coef)), with the same responsibilities
 * throughout.  glm.fit, step by step: from the statistics at b (g, F, and the deviance D(b)), the
 * weighted least squares of the working response, b' = b + F^-1 g (the same for a canonical
 * link); D(b') by a pass; while D(b') is not finite, b' = (b' + b) / 2 and another pass
 * (glm.fit's only step halving; at most IRLS_MAXIT times, then an error); stop when |D(b') -
 * D(b)| / (|D(b')| + 0.1) < 1e-8, or after IRLS_MAXIT solves.  The components run side by side,
 * one pass for all of them, each stopping on its own deviance (so each takes the path its own
 * glm.fit takes); with common coefficients one joint IRLS on the total deviance (flexmix's
 * FLXMRglmfix fits one glm.fit on the stacked design).  A component whose deviance at the end is
 * above the start's (IRLS without convergence can overshoot) takes the damped Newton step from
 * the start instead, so that Q_k rises for certain and EM stays a (generalised) EM. */
static gboolean
maximise_irls (mixem_params *p, const double *stats, const gboolean *fixed,
               gboolean (*pass) (const mixem_params *at, double *out, void *pass_data,
                                 GError **error),
               void *pass_data, GError **error)
{
  if (!p->irls || !pass)
    return maximise (p, stats, fixed, error);
  const size_t K = p->k, P = p->p, S = per_component (p), ss = K * S;
  const gboolean joint = p->pc > 0;
  double *cur = g_memdup2 (stats, ss * sizeof (double)), *next = g_new (double, ss), *t;
  double *b0 = g_memdup2 (p->beta, K * P * sizeof (double)), *bold = g_new (double, K * P);
  double *devold = g_new (double, K);
  gboolean *hold = g_new (gboolean, K), ok = TRUE, any = FALSE;
  for (size_t k = 0; k < K; k++) {
    hold[k] = fixed && fixed[k];   /* held: takes no step (fixed, or its IRLS has converged) */
    any = any || !hold[k];
    devold[k] = stats[k * S + 1];
  }
  for (int iter = 1; iter <= IRLS_MAXIT && ok && any; iter++) {
    memcpy (bold, p->beta, K * P * sizeof (double));
    ok = maximise_step (p, cur, hold, FALSE, error) && pass (p, next, pass_data, error);
    for (int ii = 1; ok; ii++) {
      gboolean bad = FALSE;
      for (size_t k = 0; k < K; k++)
        bad = bad || (!hold[k] && !isfinite (next[k * S + 1]));
      if (!bad)
        break;
      /* (Jointly: every component, so that the common coefficients, which a held component
       * takes too, stay equal; a held one's own coefficients did not move.) */
      for (size_t k = 0; k < K && ii <= IRLS_MAXIT; k++)
        if (joint || (!hold[k] && !isfinite (next[k * S + 1])))
          for (size_t j = 0; j < P; j++)
            p->beta[k * P + j] = (p->beta[k * P + j] + bold[k * P + j]) / 2.0;
      if (ii > IRLS_MAXIT) {
        g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_NUMERIC,
                     REG_NAME ": IRLS: the deviance stays infinite after %d step halvings "
                     "(glm.fit's \"inner loop 1; cannot correct step size\")", IRLS_MAXIT);
        ok = FALSE;
      } else
        ok = pass (p, next, pass_data, error);
    }
    if (!ok)
      break;
    if (joint) {
      double dev = 0.0, old = 0.0;
      for (size_t k = 0; k < K; k++) {
        dev += next[k * S + 1];
        old += devold[k];
      }
      for (size_t k = 0; k < K; k++) {
        hold[k] = hold[k] || irls_converged (dev, old);
        devold[k] = next[k * S + 1];
      }
    } else
      for (size_t k = 0; k < K; k++)
        if (!hold[k]) {
          hold[k] = irls_converged (next[k * S + 1], devold[k]);
          devold[k] = next[k * S + 1];
        }
    any = FALSE;
    for (size_t k = 0; k < K; k++)
      any = any || !hold[k];
    t = cur;   /* the statistics at the coefficients now in P, of every component */
    cur = next;
    next = t;
  }
  /* gammareg: each shape by maximum likelihood at the final coefficients (which do not depend on
   * it: the shape scales Q_k's part that holds them). */
  for (size_t k = 0; k < K && ok && p->model == GAMMA; k++)
    if (!(fixed && fixed[k]))
      p->sigma[k] = solve_shape (cur[k * S + 1] / (2.0 * cur[k * S]), MAX_SHAPE);
  /* The generalised-EM guard: Q_k = const - D_k / 2 must not fall (jointly: their sum).  (For
   * gammareg Q_k = const - a_k D_k / 2 at a fixed shape a_k.) */
  if (ok) {
    gboolean *keep = hold, fell = FALSE;
    double dev = 0.0, dev0 = 0.0;
    for (size_t k = 0; k < K; k++) {
      const gboolean free_k = !(fixed && fixed[k]);
      keep[k] = !free_k || !(cur[k * S + 1] > stats[k * S + 1]);
      fell = fell || !keep[k];
      dev += free_k ? cur[k * S + 1] : 0.0;
      dev0 += free_k ? stats[k * S + 1] : 0.0;
    }
    if (joint && !(dev > dev0))
      fell = FALSE;
    else if (joint)
      for (size_t k = 0; k < K; k++)
        keep[k] = fixed && fixed[k];
    if (fell) {
      for (size_t k = 0; k < K; k++)
        if (!keep[k] || joint)
          memcpy (p->beta + k * P, b0 + k * P, P * sizeof (double));
      ok = maximise_step (p, stats, keep, TRUE, error);
    }
  }
  g_free (cur);
  g_free (next);
  g_free (b0);
  g_free (bold);
  g_free (devold);
  g_free (hold);
  return ok;
}
#endif

/* The GLMs: g and F were taken at the coefficients b0 = Rb / W; moved to P's b by the quadratic
 * (Newton) model of Q_k about b0, g' = g - M (b - b0) and D' = D - 2 g'e + e'Me (e = b - b0;
 * M = F, or gammareg's observed H), Rb' = W b, so that
 * incremental and online EM, which add statistics gathered at different coefficients, see the
 * gradient of each at the current b (to second order) rather than the stale one, which the next
 * step from b would count again (tests/lua/test_variants.lua: without it incremental EM
 * diverges on NPreg with 10 chunks).  F and H are kept.  linreg's statistics do not depend on b. */
static void
stats_rebase (const mixem_params *p, double *stats)
{
  const size_t P = p->p, S = per_component (p);
  if (p->model == GAUSSIAN)
    return;
  double e[64];
  for (size_t k = 0; k < p->k; k++) {
    double *s = stats + k * S, *c = s + 2, *A = s + 2 + P, *rb = s + 2 + P + P * P;
    const double W = s[0], *b = p->beta + k * P;
    if (!(W > 0.0))
      continue;   /* no rows: every sum is 0 */
    /* The curvature: F for a canonical link, gammareg's observed H. */
    const double *M = p->model == GAMMA ? s + 2 + 2 * P + P * P : A;
    for (size_t j = 0; j < P; j++)
      e[j] = b[j] - rb[j] / W;
    /* The deviance by the same quadratic model, D' = D - 2 g'e + e'Me (dD/db = -2 g). */
    double ge = 0.0;
    for (size_t j = 0; j < P; j++)
      ge += c[j] * e[j];
    s[1] += -2.0 * ge + quad_form (M, P, e);
    for (size_t j = 0; j < P; j++) {
      double fe = 0.0;   /* (M e)_j from the upper triangle */
      for (size_t l = 0; l < P; l++)
        fe += (l >= j ? M[j * P + l] : M[l * P + j]) * e[l];
      c[j] -= fe;
    }
    for (size_t j = 0; j < P; j++)
      rb[j] = W * b[j];
  }
}

static G_GNUC_UNUSED double
expected_loglik (const mixem_params *p, const double *stats)
{
  const size_t S = per_component (p);
  double e = 0, bt[64];
  for (size_t k = 0; k < p->k; k++) {
    const double *s = stats + k * S;
    if (s[0] == 0.0)
      continue;
    centred (p, k, bt);
    const double v = p->sigma[k] * p->sigma[k];
    e += -0.5 * s[0] * log (2 * M_PI * v) - rss_at (p, s, bt) / (2 * v);
  }
  return e;
}

static size_t
n_free_params (const mixem_params *p)
{
  return p->k * (p->p - p->pc) + p->pc
         + (p->model == GAMMA ? p->k : p->model != GAUSSIAN ? 0 : p->shared ? 1 : p->k);
}

static GVariant *
describe (const mixem_params *p, size_t k)
{
  GVariantBuilder b;
  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "beta", mixem_variant_vector (p->beta + k * p->p, p->p));
  if (p->model == GAUSSIAN || p->model == GAMMA)
    g_variant_builder_add (&b, "{sv}", p->model == GAMMA ? "shape" : "sigma",
                           g_variant_new_double (p->sigma[k]));
  return g_variant_builder_end (&b);
}

static gboolean
assign (mixem_params *p, size_t k, GVariant *dict, gboolean *complete, GError **error)
{
  static const char *const gkeys[] = { "beta", "sigma", NULL };
  static const char *const skeys[] = { "beta", "shape", NULL };
  static const char *const keys[] = { "beta", NULL };
  /* The second parameter: linreg's sigma, gammareg's shape (stored in sigma). */
  const gboolean second = p->model == GAUSSIAN || p->model == GAMMA;
  const char *name = p->model == GAMMA ? "shape" : "sigma";
  if (!mixem_dict_check_keys (dict, REG_NAME, p->model == GAUSSIAN ? gkeys
                                              : p->model == GAMMA ? skeys : keys, error))
    return FALSE;
  double b[64], s = p->sigma[k];
  gboolean hb = FALSE, hs = !second;
  if (!mixem_dict_get_vector (dict, REG_NAME, "beta", p->p, b, &hb, error))
    return FALSE;
  for (size_t j = 0; hb && j < p->p; j++)
    if (!isfinite (b[j])) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT,
                   REG_NAME ": 'beta' must be finite (got %g for '%s')", b[j], p->coef[j]);
      return FALSE;
    }
  if (second) {
    GVariant *v = g_variant_lookup_value (dict, name, NULL);
    hs = v != NULL;
    if (v)
      g_variant_unref (v);
    if (hs && !mixem_dict_get_double (dict, REG_NAME, name, &s, error))
      return FALSE;
    if (hs && !(isfinite (s) && s > 0)) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT,
                   REG_NAME ": '%s' must be finite and > 0 (got %g)", name, s);
      return FALSE;
    }
  }
  if (hb)
    memcpy (p->beta + k * p->p, b, p->p * sizeof (double));
  if (hs && second)
    p->sigma[k] = s;
  if (complete)
    *complete = hb && hs;
  return TRUE;
}

/* The start "random_lines" (the RANSAC-like start of mixtures of regressions): each component's
 * coefficients solve the design of p distinct random rows exactly (the line through p points),
 * on the link scale for the GLMs (log(y + 1/2), logit((y + 1/2) / (n + 1)), less the offset);
 * a draw whose p x p design is singular (an LU pivot below PIVOT_TOL of the design's largest
 * entry) is drawn again, up to 100 times, then the coefficients are the least-squares ones of the
 * last draw (SVD).  linreg: sigma_k is the root mean square residual of the rows nearest (in
 * |y - eta|) to line k, or of all rows to their nearest line if fewer than 2 are (shared: the
 * latter).  Common coefficients take the mean of the components' draws.  Random
 * responsibilities (random_resp) start every line near the one least-squares line of all rows,
 * from which EM tends to split the cloud the same way each time; random lines start far apart
 * (README: measured on tonedata, NPreg and betablocker). */
static gboolean
init (mixem_params *p, const mixem_block *b, const char *method, gsl_rng *rng, GError **error)
{
  const size_t P = p->p, K = p->k, n = b->n;
  if (strcmp (method, "random_lines") != 0) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION, REG_NAME ": unknown start '%s'", method);
    return FALSE;
  }
  if (n < P) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA,
                 REG_NAME ": random_lines needs at least %zu rows (got %zu)", P, n);
    return FALSE;
  }
  gsl_matrix *a = gsl_matrix_alloc (P, P), *lu = gsl_matrix_alloc (P, P);
  gsl_vector *z = gsl_vector_alloc (P), *sol = gsl_vector_alloc (P);
  gsl_permutation *perm = gsl_permutation_alloc (P);
  size_t *pick = g_new (size_t, P);
  double x[64];
  for (size_t k = 0; k < K; k++) {
    int sign = 0, tries = 0;
    gboolean good = FALSE;
    while (!good && tries++ < 100) {
      for (size_t j = 0; j < P; j++) {
        gboolean dup;
        do {   /* P distinct rows (n >= P) */
          pick[j] = gsl_rng_uniform_int (rng, n);
          dup = FALSE;
          for (size_t l = 0; l < j; l++)
            dup = dup || pick[l] == pick[j];
        } while (dup);
      }
      double scale = 0.0;
      for (size_t j = 0; j < P; j++) {
        const double *row = b->x + pick[j] * b->d;
        design (p, row, x);
        for (size_t l = 0; l < P; l++) {
          gsl_matrix_set (a, j, l, x[l]);
          scale = fmax (scale, fabs (x[l]));
        }
        double y = row[p->ycol];
        if (p->model == POISSON)
          y = log (y + 0.5) - (p->ocol >= 0 ? row[p->ocol] : 0.0);
        else if (p->model == GAMMA)
          y = log (y);
        else if (p->model == BINOMIAL) {
          const double t = (y + 0.5) / (trials_of (p, row) + 1.0);
          y = log (t / (1.0 - t));
        }
        gsl_vector_set (z, j, y);
      }
      gsl_matrix_memcpy (lu, a);
      gsl_linalg_LU_decomp (lu, perm, &sign);
      good = TRUE;
      for (size_t j = 0; j < P; j++)
        good = good && fabs (gsl_matrix_get (lu, j, j)) > PIVOT_TOL * scale;
    }
    if (good)
      gsl_linalg_LU_solve (lu, perm, z, sol);
    else {
      gsl_matrix *v = gsl_matrix_alloc (P, P);
      gsl_vector *sv = gsl_vector_alloc (P), *work = gsl_vector_alloc (P);
      gsl_linalg_SV_decomp (a, v, sv, work);
      for (size_t j = 0; j < P; j++)
        if (gsl_vector_get (sv, j) <= PIVOT_TOL * gsl_vector_get (sv, 0))
          gsl_vector_set (sv, j, 0.0);
      gsl_linalg_SV_solve (a, v, sv, z, sol);
      gsl_matrix_free (v);
      gsl_vector_free (sv);
      gsl_vector_free (work);
    }
    for (size_t j = 0; j < P; j++)
      p->beta[k * P + j] = gsl_vector_get (sol, j);
  }
  for (size_t j = 0; j < P && p->pc > 0; j++)
    if (p->common[j]) {
      double mean = 0.0;
      for (size_t k = 0; k < K; k++)
        mean += p->beta[k * P + j] / (double) K;
      for (size_t k = 0; k < K; k++)
        p->beta[k * P + j] = mean;
    }
  if (p->model == GAUSSIAN || p->model == GAMMA) {
    double *ss = g_new0 (double, K), all = 0.0;
    size_t *cnt = g_new0 (size_t, K);
    for (size_t i = 0; i < n; i++) {
      const double *row = b->x + i * b->d;
      design (p, row, x);
      double best = INFINITY;
      size_t bk = 0;
      for (size_t k = 0; k < K; k++) {
        double e = p->model == GAMMA ? log (row[p->ycol]) : row[p->ycol];
        for (size_t j = 0; j < P; j++)
          e -= x[j] * p->beta[k * P + j];
        if (fabs (e) < best) {
          best = fabs (e);
          bk = k;
        }
      }
      ss[bk] += best * best;
      cnt[bk]++;
      all += best * best;
    }
    const double overall = sqrt (all / (double) n);
    for (size_t k = 0; k < K; k++) {
      const double s = p->shared || cnt[k] < 2 ? overall : sqrt (ss[k] / (double) cnt[k]);
      p->sigma[k] = s > 0 && isfinite (s) ? s : 1.0;
      /* gammareg: the shape whose log y has that spread (Var log y = psi_1(a), about 1 / a). */
      if (p->model == GAMMA)
        p->sigma[k] = fmin (fmax (1.0 / (p->sigma[k] * p->sigma[k]), 1e-3), MAX_SHAPE);
    }
    g_free (ss);
    g_free (cnt);
  }
  gsl_matrix_free (a);
  gsl_matrix_free (lu);
  gsl_vector_free (z);
  gsl_vector_free (sol);
  gsl_permutation_free (perm);
  g_free (pick);
  return TRUE;
}

const mixem_family mixem_family_entry = {
  .abi_version = MIXEM_FAMILY_ABI_VERSION,
  .name = REG_NAME,
  .summary = "mixtures of regressions: gaussian (identity), poisson (log), binomial (logit) or "
             "gamma (log) response on covariates; beta = (intercept, covariates...)",
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
  .init = init,
  .n_free_params = n_free_params,
  .describe = describe,
  .assign = assign,
  .size = MIXEM_FAMILY_SIZE,
  .stats_rebase = stats_rebase,
#if REG_MODEL != 0
  .maximise_passes = maximise_irls,
#endif
};
