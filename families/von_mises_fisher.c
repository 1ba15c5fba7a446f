/* von_mises_fisher.c: the von Mises-Fisher family for directions: rows are unit vectors in
 * D >= 2 dimensions (D = 2 is the von Mises distribution on the circle; option angles reads one
 * column of angles in radians or degrees as the unit vectors (cos a, sin a)).  Component k has a
 * mean direction mu_k (|mu_k| = 1) and a concentration kappa_k >= 0:
 *
 *   log p(x | mu, kappa) = log C_D(kappa) + kappa mu'x,
 *   log C_D(kappa) = (D/2 - 1) log kappa - (D/2) log(2 pi) - log I_{D/2-1}(kappa)
 *
 * (Mardia and Jupp, Directional Statistics (2000), 9.3.4), with I the modified Bessel function of
 * the first kind; at kappa = 0 it is the uniform density, log C_D(0) = lgamma(D/2) - log 2 -
 * (D/2) log pi.  The constant is kept scaled, lcs = log C_D(kappa) + kappa, so that the density
 * is lcs + kappa (mu'x - 1) and nothing of size kappa cancels.  log I_nu(kappa) - kappa comes
 * from GSL's scaled Bessel function gsl_sf_bessel_Inu_scaled where that is representable; where it
 * underflows (large order, e.g. D in the hundreds with kappa below about D, text embeddings) it
 * is computed in the log domain: by the power series
 *   I_nu(x) = (x/2)^nu / Gamma(nu + 1) sum_m (x^2/4)^m / (m! (nu + 1)_m)
 * when x^2 < 10 (nu + 1), otherwise by Debye's uniform asymptotic expansion for large order
 * (Abramowitz and Stegun 9.7.7, DLMF 10.41.3, terms u_1..u_4 of DLMF 10.41.10), whose first
 * neglected term, u_5/nu^5, is below 1e-16 relative for the orders where GSL underflows.
 * tests/reference/vmf_numpy.py checks log C_D against SciPy for D up to 5000 and kappa to 1e8.
 *
 * Statistics of component k under weighted responsibilities r_ik (1 + D doubles):
 *   R_k = sum_i r_ik,   S_k = sum_i r_ik x_i.
 * M-step (Banerjee, Dhillon, Ghosh and Sra, "Clustering on the unit hypersphere using von
 * Mises-Fisher distributions", JMLR 6:1345-1382 (2005)): mu_k = S_k / |S_k|, rbar = |S_k| / R_k,
 * and kappa_k solves A_D(kappa) = rbar with A_D(kappa) = I_{D/2}(kappa) / I_{D/2-1}(kappa),
 * started at Banerjee et al.'s approximation kappa_0 = rbar (D - rbar^2) / (1 - rbar^2) and
 * refined by Newton's steps (Sra, "A short note on parameter approximation for von Mises-Fisher
 * distributions", Computational Statistics 27:177-190 (2012)):
 *   kappa <- kappa - (A_D(kappa) - rbar) / (1 - A_D(kappa)^2 - (D - 1) A_D(kappa) / kappa),
 * kept inside a bracket of the root (a step that leaves it bisects it) until the step is below
 * 1e-15 kappa: the root itself, not an approximation, so that any solver gives the same kappa.
 * Expected complete log-likelihood, exact from the statistics:
 *   sum_k R_k lcs_k + kappa_k (mu_k'S_k - R_k).
 * Free parameters per component: D - 1 for the direction and 1 for kappa.
 *
 * Degenerate cases.  Identical directions (rbar = 1, to rounding) drive kappa without bound:
 * kappa is kept at or below kappa_max (option, default 1e6: an angular spread of about 1e-3
 * radians, as gaussian's reg_covar = 1e-6 bounds a variance), and a component at the cap is one
 * whose directions agree to the data's precision.  Directions that cancel exactly (S_k = 0) have
 * kappa = 0, the uniform distribution, and keep their previous mu.  A component with no weight is
 * an error naming it.
 *
 * Input: without option normalise, a row whose length differs from 1 by more than 1e-6 is an
 * error naming the file, row and column; rows within it are scaled to length 1.  With
 * normalise = true every row is scaled to length 1, and a row of zeros is an error.
 * Sampling: Wood, "Simulation of the von Mises Fisher distribution", Communications in Statistics
 * - Simulation and Computation 23:157-164 (1994), with its acceptance test rewritten without the
 * cancellations of 1 - x0 W and W - x0 at large kappa, then a Householder reflection taking the
 * first axis to mu.
 */
#include <math.h>
#include <string.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_sf_bessel.h>
#include <gsl/gsl_sf_gamma.h>
#include <mixem/family.h>

#define UNIT_TOL 1e-6

typedef enum { ANGLES_NONE, ANGLES_RADIANS, ANGLES_DEGREES } angle_mode;

struct mixem_params {
  size_t k;
  size_t dim;          /* D: the dimension of the directions (2 for angles) */
  size_t ncol;         /* data columns: D, or 1 for angles */
  angle_mode angles;
  gboolean normalise;
  double kappa_max;
  double *mu;          /* k*D */
  double *kappa;       /* k */
  double *lcs;         /* k: log C_D(kappa) + kappa */
};

static const char *const angle_choices[] = { "none", "radians", "degrees", NULL };

static const mixem_option_info options[] = {
  { "angles", "none: rows are unit vectors; radians or degrees: one column of angles (D = 2)",
    "none", MIXEM_OPTION_CHOICE, NULL, angle_choices },
  { "normalise", "scale every row to length 1 (otherwise a row of another length is an error)",
    "false", MIXEM_OPTION_BOOLEAN, NULL, NULL },
  { "kappa_max", "concentrations are kept <= kappa_max (identical directions)", "1e6",
    MIXEM_OPTION_NUMBER, "(0, inf)", NULL },
  { 0 }
};

static const char *const init_methods[] = { "kmeans", "kmeans++", "random", "random_resp", NULL };

/* ---- Bessel functions in the log domain ---- */

/* log(I_nu(x)) - x by the power series, for x^2 < 10 (nu + 1). */
static double
log_i_series (double nu, double x)
{
  const double q = 0.25 * x * x;
  double term = 1.0, sum = 1.0;
  for (int m = 1; m < 500; m++) {
    term *= q / ((double) m * (nu + (double) m));
    sum += term;
    if (term < 1e-17 * sum)
      break;
  }
  return nu * log (0.5 * x) - gsl_sf_lngamma (nu + 1.0) + log (sum) - x;
}

/* log(I_nu(x)) - x by Debye's uniform expansion, for large nu (DLMF 10.41.3, 10.41.10). */
static double
log_i_debye (double nu, double x)
{
  const double z = x / nu, s = hypot (1.0, z), t = 1.0 / s, t2 = t * t;
  /* nu (eta - z) with eta = s + log(z / (1 + s)): s - z = 1 / (s + z), and for z >= 1
   * z / (1 + s) = 1 - (1 + 1/(s + z)) / (1 + s), taken by log1p. */
  const double lz = z < 1.0 ? log (z / (1.0 + s)) : log1p (-(1.0 + 1.0 / (s + z)) / (1.0 + s));
  const double expo = nu * (1.0 / (s + z) + lz);
  const double u1 = t * (3.0 - 5.0 * t2) / 24.0;
  const double u2 = t2 * (81.0 + t2 * (-462.0 + t2 * 385.0)) / 1152.0;
  const double u3 = t * t2 * (30375.0 + t2 * (-369603.0 + t2 * (765765.0 - t2 * 425425.0)))
                    / 414720.0;
  const double u4 = t2 * t2 * (4465125.0 + t2 * (-94121676.0 + t2 * (349922430.0
                    + t2 * (-446185740.0 + t2 * 185910725.0)))) / 39813120.0;
  const double corr = u1 / nu + u2 / (nu * nu) + u3 / (nu * nu * nu) + u4 / (nu * nu * nu * nu);
  return -0.5 * log (2.0 * G_PI * nu * s) + expo + log1p (corr);
}

/* log(I_nu(x)) - x for nu >= 0, x > 0. */
static double
log_i_scaled (double nu, double x)
{
  gsl_sf_result r;
  /* Order 0 (D = 2) by GSL's own I0: its Inu_scaled returns NaN there for x >= 1000 (GSL 2.7). */
  const int status = nu == 0.0 ? gsl_sf_bessel_I0_scaled_e (x, &r)
                               : gsl_sf_bessel_Inu_scaled_e (nu, x, &r);
  if (status == GSL_SUCCESS && r.val > 0.0 && isfinite (r.val)
      && r.val > 1e-290)
    return log (r.val);
  return x * x < 10.0 * (nu + 1.0) ? log_i_series (nu, x) : log_i_debye (nu, x);
}

/* log C_D(kappa) + kappa. */
static double
log_c_scaled (size_t dim, double kappa)
{
  const double D = (double) dim, nu = 0.5 * D - 1.0;
  if (kappa == 0.0)
    return gsl_sf_lngamma (0.5 * D) - G_LN2 - 0.5 * D * log (G_PI);
  return (nu != 0.0 ? nu * log (kappa) : 0.0) - 0.5 * D * log (2.0 * G_PI)
         - log_i_scaled (nu, kappa);
}

/* A_D(kappa) = I_{D/2}(kappa) / I_{D/2-1}(kappa), in [0, 1). */
static double
bessel_ratio (size_t dim, double kappa)
{
  if (kappa == 0.0)
    return 0.0;
  const double nu = 0.5 * (double) dim - 1.0;
  return exp (log_i_scaled (nu + 1.0, kappa) - log_i_scaled (nu, kappa));
}

/* The kappa with A_D(kappa) = RBAR (0 <= rbar), capped at KMAX. */
static double
solve_kappa (size_t dim, double rbar, double kmax)
{
  const double D = (double) dim;
  if (!(rbar > 0.0))
    return 0.0;
  if (rbar >= 1.0 || bessel_ratio (dim, kmax) <= rbar)
    return kmax;
  double lo = 0.0, hi = kmax;
  double k = rbar * (D - rbar * rbar) / ((1.0 - rbar) * (1.0 + rbar));   /* Banerjee et al. */
  if (!(k > lo && k < hi))
    k = 0.5 * (lo + hi);
  for (int it = 0; it < 200; it++) {
    const double a = bessel_ratio (dim, k), f = a - rbar;
    if (f == 0.0)
      break;
    if (f > 0.0)
      hi = k;
    else
      lo = k;
    const double slope = 1.0 - a * a - (D - 1.0) * a / k;
    double next = k - f / slope;
    if (!(slope > 0.0) || !(next > lo && next < hi))
      next = 0.5 * (lo + hi);   /* outside the bracket: bisect it */
    const double step = fabs (next - k);
    k = next;
    if (step <= 1e-15 * k || hi - lo <= 1e-15 * hi)
      break;
  }
  return MIN (k, kmax);
}

/* ---- parameters ---- */

static mixem_params *
params_new (const mixem_spec *spec, GError **error)
{
  const char *an = mixem_options_get (spec->options, "angles");
  const angle_mode angles = !an || strcmp (an, "none") == 0 ? ANGLES_NONE
                            : strcmp (an, "degrees") == 0 ? ANGLES_DEGREES : ANGLES_RADIANS;
  if (angles != ANGLES_NONE && spec->d != 1) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 "von_mises_fisher: angles = %s reads one column of angles, but the data have "
                 "%zu columns", an, spec->d);
    return NULL;
  }
  if (angles == ANGLES_NONE && spec->d < 2) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 "von_mises_fisher: rows are unit vectors in D >= 2 dimensions, but the data "
                 "have %zu column%s (one column of angles needs angles = radians or degrees)",
                 spec->d, spec->d == 1 ? "" : "s");
    return NULL;
  }
  const size_t dim = angles != ANGLES_NONE ? 2 : spec->d;
  const double need = 8.0 * (double) spec->k * ((double) dim + 2.0);
  if (!mixem_alloc_fits (need)) {
    char *size = mixem_format_bytes (need);
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "von_mises_fisher: the model needs %s "
                 "for k = %zu, D = %zu (more than this machine has)", size, spec->k, dim);
    g_free (size);
    return NULL;
  }
  mixem_params *p = g_new0 (mixem_params, 1);
  p->k = spec->k;
  p->dim = dim;
  p->ncol = spec->d;
  p->angles = angles;
  p->normalise = mixem_options_get_boolean (spec->options, "normalise", FALSE);
  p->kappa_max = mixem_options_get_number (spec->options, "kappa_max", 1e6);
  p->mu = g_new0 (double, p->k * dim);
  p->kappa = g_new0 (double, p->k);
  p->lcs = g_new (double, p->k);
  for (size_t k = 0; k < p->k; k++) {   /* uniform, pointing along the first axis */
    p->mu[k * dim] = 1.0;
    p->lcs[k] = log_c_scaled (dim, 0.0);
  }
  return p;
}

static mixem_params *
params_copy (const mixem_params *p)
{
  mixem_params *c = g_memdup2 (p, sizeof *p);
  c->mu = g_memdup2 (p->mu, p->k * p->dim * sizeof (double));
  c->kappa = g_memdup2 (p->kappa, p->k * sizeof (double));
  c->lcs = g_memdup2 (p->lcs, p->k * sizeof (double));
  return c;
}

static void
params_free (mixem_params *p)
{
  if (!p)
    return;
  g_free (p->mu);
  g_free (p->kappa);
  g_free (p->lcs);
  g_free (p);
}

/* Row I of B as a unit vector of D numbers in X (checked by check_data). */
static void
direction (const mixem_params *p, const mixem_block *b, size_t i, double *x)
{
  const double *row = b->x + i * b->d;
  if (p->angles != ANGLES_NONE) {
    const double a = p->angles == ANGLES_DEGREES ? row[0] * (G_PI / 180.0) : row[0];
    x[0] = cos (a);
    x[1] = sin (a);
    return;
  }
  double n2 = 0.0;
  for (size_t j = 0; j < p->dim; j++)
    n2 += row[j] * row[j];
  const double inv = 1.0 / sqrt (n2);
  for (size_t j = 0; j < p->dim; j++)
    x[j] = row[j] * inv;
}

static gboolean
check_data (const mixem_params *p, const mixem_block *b, GError **error)
{
  for (size_t i = 0; i < b->n; i++) {
    const double *row = b->x + i * b->d;
    double n2 = 0.0, big = 0.0;
    for (size_t j = 0; j < b->d; j++) {
      if (!isfinite (row[j])) {
        mixem_set_cell_error (error, b, i, j, "von_mises_fisher: %s must be finite (got %g)",
                              p->angles != ANGLES_NONE ? "angles" : "directions", row[j]);
        return FALSE;
      }
      big = MAX (big, fabs (row[j]));
    }
    if (p->angles != ANGLES_NONE)
      continue;
    /* The length, scaled so that neither squares of huge nor of tiny values leave the range. */
    for (size_t j = 0; big > 0.0 && j < b->d; j++)
      n2 += (row[j] / big) * (row[j] / big);
    const double len = big * sqrt (n2);
    if (!(len > 0.0) || !isfinite (1.0 / len)) {
      mixem_set_cell_error (error, b, i, 0, "von_mises_fisher: a row of zeros has no direction");
      return FALSE;
    }
    if (!p->normalise && fabs (len - 1.0) > UNIT_TOL) {
      mixem_set_cell_error (error, b, i, 0, "von_mises_fisher: the row's length is %.10g, not "
                            "1 (rows must be unit vectors; option normalise = true scales "
                            "them)", len);
      return FALSE;
    }
  }
  return TRUE;
}

static void
log_density (const mixem_params *p, const mixem_block *b, double *out)
{
  const size_t K = p->k, D = p->dim;
  double *x = g_new (double, D);
  for (size_t i = 0; i < b->n; i++) {
    direction (p, b, i, x);
    for (size_t k = 0; k < K; k++) {
      const double *mu = p->mu + k * D;
      double dot = 0.0;
      for (size_t j = 0; j < D; j++)
        dot += mu[j] * x[j];
      out[i * K + k] = p->lcs[k] + p->kappa[k] * (dot - 1.0);
    }
  }
  g_free (x);
}

static size_t
stats_size (const mixem_params *p)
{
  return p->k * (p->dim + 1);
}

/* Layout per component: R, S (D). */
static void
accumulate (const mixem_params *p, const mixem_block *b, const double *r, double *stats)
{
  const size_t K = p->k, D = p->dim;
  double *x = g_new (double, D);
  for (size_t i = 0; i < b->n; i++) {
    direction (p, b, i, x);
    for (size_t k = 0; k < K; k++) {
      const double rik = r[i * K + k];
      double *st = stats + k * (D + 1);
      st[0] += rik;
      for (size_t j = 0; j < D; j++)
        st[1 + j] += rik * x[j];
    }
  }
  g_free (x);
}

static gboolean
maximise (mixem_params *p, const double *stats, const gboolean *fixed, GError **error)
{
  const size_t D = p->dim;
  for (size_t k = 0; k < p->k; k++) {
    if (fixed && fixed[k])
      continue;
    const double *st = stats + k * (D + 1), R = st[0];
    if (!(R > 0.0)) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_NUMERIC,
                   "von_mises_fisher: component %zu is empty (weight %g)", k + 1, R);
      return FALSE;
    }
    double n2 = 0.0;
    for (size_t j = 0; j < D; j++)
      n2 += st[1 + j] * st[1 + j];
    const double len = sqrt (n2);
    if (len > 0.0)
      for (size_t j = 0; j < D; j++)
        p->mu[k * D + j] = st[1 + j] / len;
    p->kappa[k] = solve_kappa (D, len / R, p->kappa_max);
    p->lcs[k] = log_c_scaled (D, p->kappa[k]);
  }
  return TRUE;
}

static double
expected_loglik (const mixem_params *p, const double *stats)
{
  const size_t D = p->dim;
  double e = 0.0;
  for (size_t k = 0; k < p->k; k++) {
    const double *st = stats + k * (D + 1), *mu = p->mu + k * D;
    double dot = 0.0;
    for (size_t j = 0; j < D; j++)
      dot += mu[j] * st[1 + j];
    e += st[0] * p->lcs[k] + p->kappa[k] * (dot - st[0]);
  }
  return e;
}

static size_t
n_free_params (const mixem_params *p)
{
  return p->k * p->dim;
}

/* Wood (1994): W = mu'x by rejection, then a uniform direction orthogonal to mu. */
static void
sample (const mixem_params *p, size_t k, gsl_rng *rng, double *out)
{
  const size_t D = p->dim;
  const double Dm1 = (double) D - 1.0, kappa = p->kappa[k], *mu = p->mu + k * D;
  double *y = g_new (double, D);
  double w;
  if (kappa == 0.0)
    w = 2.0 * gsl_ran_beta (rng, 0.5 * Dm1, 0.5 * Dm1) - 1.0;   /* uniform on the sphere */
  else {
    /* b = (-2 kappa + sqrt(4 kappa^2 + (D-1)^2)) / (D - 1), without the cancellation. */
    const double b = Dm1 / (2.0 * kappa + sqrt (4.0 * kappa * kappa + Dm1 * Dm1));
    for (;;) {
      const double z = gsl_ran_beta (rng, 0.5 * Dm1, 0.5 * Dm1);
      const double den = 1.0 - (1.0 - b) * z;
      /* kappa W + (D-1) log(1 - x0 W) - c, with x0 = (1-b)/(1+b), c = kappa x0 +
       * (D-1) log(1 - x0^2): kappa (W - x0) + (D-1) log((1 + b) / (2 den)). */
      const double t = 2.0 * kappa * b * (1.0 / (1.0 + b) - z / den)
                       + Dm1 * log ((1.0 + b) / (2.0 * den));
      if (t >= log (gsl_rng_uniform_pos (rng))) {
        w = (1.0 - (1.0 + b) * z) / den;
        break;
      }
    }
  }
  /* A uniform direction in the D-1 dimensions orthogonal to the first axis. */
  double n2 = 0.0;
  while (!(n2 > 0.0)) {
    n2 = 0.0;
    for (size_t j = 1; j < D; j++) {
      y[j] = gsl_ran_gaussian_ziggurat (rng, 1.0);
      n2 += y[j] * y[j];
    }
  }
  const double sw = sqrt (MAX (0.0, (1.0 - w) * (1.0 + w))) / sqrt (n2);
  y[0] = w;
  for (size_t j = 1; j < D; j++)
    y[j] *= sw;
  /* The Householder reflection H = I - 2 v v' / v'v, v = e_1 - mu, takes e_1 to mu. */
  const double vv = 2.0 * (1.0 - mu[0]);
  if (vv > 1e-300) {
    double vy = y[0] * (1.0 - mu[0]);
    for (size_t j = 1; j < D; j++)
      vy -= mu[j] * y[j];
    const double f = 2.0 * vy / vv;
    y[0] -= f * (1.0 - mu[0]);
    for (size_t j = 1; j < D; j++)
      y[j] += f * mu[j];
  }
  if (p->angles != ANGLES_NONE) {
    const double a = atan2 (y[1], y[0]);
    out[0] = p->angles == ANGLES_DEGREES ? a * (180.0 / G_PI) : a;
  } else {
    double s = 0.0;   /* unit to rounding, so that check_data accepts it */
    for (size_t j = 0; j < D; j++)
      s += y[j] * y[j];
    for (size_t j = 0; j < D; j++)
      out[j] = y[j] / sqrt (s);
  }
  g_free (y);
}

static GVariant *
describe (const mixem_params *p, size_t k)
{
  GVariantDict d;
  g_variant_dict_init (&d, NULL);
  g_variant_dict_insert_value (&d, "mu", mixem_variant_vector (p->mu + k * p->dim, p->dim));
  g_variant_dict_insert (&d, "kappa", "d", p->kappa[k]);
  return g_variant_dict_end (&d);
}

/* Sets component K from DICT: "mu" (D numbers, not all 0: scaled to length 1 unless it is unit
 * to 1e-12 already, so that describe's own values come back bit for bit) and "kappa" (>= 0). */
static gboolean
assign (mixem_params *p, size_t k, GVariant *dict, gboolean *complete, GError **error)
{
  static const char *const known[] = { "mu", "kappa", NULL };
  if (!mixem_dict_check_keys (dict, "von_mises_fisher", known, error))
    return FALSE;
  const size_t D = p->dim;
  double *mu = g_new (double, D), kappa = p->kappa[k];
  gboolean has_mu = FALSE, has_kappa = FALSE;
  if (!mixem_dict_get_vector (dict, "von_mises_fisher", "mu", D, mu, &has_mu, error) && has_mu) {
    g_free (mu);
    return FALSE;
  }
  double n2 = 0.0;
  for (size_t j = 0; has_mu && j < D; j++) {
    if (!isfinite (mu[j])) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT,
                   "von_mises_fisher: 'mu' must be finite (got %g in place %zu)", mu[j], j + 1);
      g_free (mu);
      return FALSE;
    }
    n2 += mu[j] * mu[j];
  }
  if (has_mu && !(n2 > 0.0)) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT,
                 "von_mises_fisher: 'mu' is zero and has no direction");
    g_free (mu);
    return FALSE;
  }
  GVariant *kv = g_variant_lookup_value (dict, "kappa", NULL);
  if (kv) {
    g_variant_unref (kv);
    has_kappa = TRUE;
    if (!mixem_dict_get_double (dict, "von_mises_fisher", "kappa", &kappa, error)) {
      g_free (mu);
      return FALSE;
    }
    if (!isfinite (kappa) || !(kappa >= 0.0)) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT,
                   "von_mises_fisher: 'kappa' must be a finite number >= 0 (got %g)", kappa);
      g_free (mu);
      return FALSE;
    }
  }
  if (has_mu) {
    const double s = fabs (n2 - 1.0) <= 1e-12 ? 1.0 : 1.0 / sqrt (n2);
    for (size_t j = 0; j < D; j++)
      p->mu[k * D + j] = s == 1.0 ? mu[j] : mu[j] * s;
  }
  p->kappa[k] = kappa;
  p->lcs[k] = log_c_scaled (D, kappa);
  if (complete)
    *complete = has_mu && has_kappa;
  g_free (mu);
  return TRUE;
}

G_MODULE_EXPORT const mixem_family mixem_family_entry = {
  .abi_version = MIXEM_FAMILY_ABI_VERSION,
  .size = MIXEM_FAMILY_SIZE,
  .name = "von_mises_fisher",
  .summary = "directions: unit vectors in D >= 2 (or angles), mean direction and concentration",
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
