/* concomitant.c: the M-step of concomitant variables (flexmix's FLXPmultinom), the mixing
 * weights as a multinomial logit of covariates z (Q of them) that are not modelled:
 *
 *   pi_k(z_i) = exp(eta_ik) / sum_l exp(eta_il),  eta_ik = gamma_k' z~_i,  z~_i = (1, z_i),
 *
 * gamma_1 = 0 (the first component is the reference, as flexmix's), P = (K - 1)(Q + 1) free
 * coefficients.  The M-step maximises the weights' part of the ELBO,
 *
 *   f(gamma) = sum_i sum_k r_ik log pi_k(z_i) = sum_k gamma_k' RZ_k - sum_i w_i lse_i(gamma),
 *
 * RZ_k = sum_i r_ik z~_i (the E-step gathers it; r_ik carries the row weight w_i, and sums to it
 * over k) and lse_i = log sum_k exp(eta_ik).  f is concave, with gradient and Hessian
 *
 *   g_k = RZ_k - sum_i w_i pi_ik z~_i,
 *   H_kl = -sum_i w_i pi_ik (delta_kl - pi_il) z~_i z~_i'        (k, l = 2 .. K),
 *
 * so the maximiser is found by Newton's method, d = (-H)^-1 g by a Cholesky factor, halving the
 * step until f does not fall (but for the last steps, see below); each evaluation is one pass over Z's rows (the last RZ, which does
 * not depend on gamma, is reused).  The iteration stops when the Newton decrement g'd falls to
 * 1e-20 W (f is then within about that of its maximum, and gamma within the square root of it
 * relative to the curvature: far below the 1e-8 the parity tests ask), or after 100 steps.  A
 * Hessian that is not negative definite at the first step (a column of Z that the others and
 * the intercept explain) is an error; later (weights driven to 0 or 1 by a separating z) the
 * climb stops where it is.  The passes sum by the engine's fixed tree, so the result has the
 * same bits on any number of threads and ranks. */
#include <config.h>
#include <math.h>
#include <string.h>
#include <gsl/gsl_linalg.h>
#include "engine.h"

typedef struct {
  const mixem_dataset *data, *z;
  size_t K, q, P;
  const double *gamma;
} conc_job;

/* Sums of one chunk: [sum_i w_i lse_i | sum_i w_i pi_ik z~_i (K (Q + 1)) | -H (P * P, upper)]. */
static gboolean
conc_leaf (size_t first, size_t n, double *out, void *user, GError **error)
{
  (void) error;
  const conc_job *job = user;
  const size_t K = job->K, q = job->q, q1 = q + 1, P = job->P;
  const double *rw = mixem_dataset_weights (job->data);
  double *buf = g_new (double, q > 0 ? 64 * q : 1), *eta = g_new (double, K);
  double *pisum = out + 1, *A = out + 1 + K * q1;
  memset (out, 0, (1 + K * q1 + P * P) * sizeof (double));
  for (size_t b = first; b < first + n; b += 64) {
    const size_t nb = MIN (64, first + n - b);
    const double *zb = mixem_dataset_block (job->z, b, nb, buf);
    for (size_t i = 0; i < nb; i++) {
      const double wi = rw ? rw[b + i] : 1.0, *zi = zb + i * q;
      const double lse = mixem_conc_eta (job->gamma, K, q, zi, eta);
      out[0] += wi * lse;
      for (size_t k = 0; k < K; k++)
        eta[k] = exp (eta[k] - lse);   /* pi_ik */
      for (size_t k = 0; k < K; k++) {
        const double wp = wi * eta[k];
        double *s = pisum + k * q1;
        s[0] += wp;
        for (size_t j = 0; j < q; j++)
          s[1 + j] += wp * zi[j];
      }
      for (size_t k = 1; k < K; k++)
        for (size_t l = k; l < K; l++) {
          const double c = wi * eta[k] * ((k == l) - eta[l]);
          for (size_t a = 0; a < q1; a++) {
            const double za = a ? c * zi[a - 1] : c;
            double *row = A + ((k - 1) * q1 + a) * P + (l - 1) * q1;
            for (size_t bb = (k == l ? a : 0); bb < q1; bb++)
              row[bb] += bb ? za * zi[bb - 1] : za;
          }
        }
    }
  }
  g_free (buf);
  g_free (eta);
  return TRUE;
}

static gboolean
conc_eval (const conc_job *job, size_t grain, double *out, GError **error)
{
  return mixem_tree_reduce (job->data, 0, mixem_dataset_rows (job->data), grain,
                            1 + job->K * (job->q + 1) + job->P * job->P, conc_leaf, NULL,
                            (void *) job, out, error);
}

static double
conc_objective (const conc_job *job, const double *rz, const double *gamma, const double *out)
{
  double f = -out[0];
  for (size_t i = 0; i < job->K * (job->q + 1); i++)
    f += gamma[i] * rz[i];
  return f;
}

gboolean
mixem_conc_mstep (const mixem_dataset *data, const mixem_dataset *z, size_t K, size_t grain,
                  const double *rz, double W, double *gamma, double *weights, double *f,
                  GError **error)
{
  const size_t q = mixem_dataset_cols (z), q1 = q + 1, P = (K - 1) * q1;
  const size_t len = 1 + K * q1 + P * P;
  /* The first component the reference: softmax is unchanged by a shift common to all k. */
  for (size_t k = K; k-- > 0;)
    for (size_t a = 0; a < q1; a++)
      gamma[k * q1 + a] -= gamma[a];
  double *out = g_new (double, len), *out2 = g_new (double, len);
  double *trial = g_new (double, K * q1), *g = g_new (double, P > 0 ? P : 1);
  conc_job job = { data, z, K, q, P, gamma };
  gboolean ok = conc_eval (&job, grain, out, error);
  double fv = ok ? conc_objective (&job, rz, gamma, out) : NAN;
  gsl_matrix *A = P > 0 ? gsl_matrix_alloc (P, P) : NULL;
  gsl_vector *gv = P > 0 ? gsl_vector_alloc (P) : NULL;
  for (int it = 0; ok && P > 0 && it < 100; it++) {
    for (size_t k = 1; k < K; k++)
      for (size_t a = 0; a < q1; a++)
        g[(k - 1) * q1 + a] = rz[k * q1 + a] - out[1 + k * q1 + a];
    const double *H = out + 1 + K * q1;
    for (size_t r = 0; r < P; r++)
      for (size_t c = 0; c < P; c++)
        gsl_matrix_set (A, r, c, r <= c ? H[r * P + c] : H[c * P + r]);
    gsl_error_handler_t *old = gsl_set_error_handler_off ();
    int st = gsl_linalg_cholesky_decomp1 (A);
    gsl_set_error_handler (old);
    for (size_t r = 0; r < P && st == 0; r++)
      if (!(gsl_matrix_get (A, r, r) > 1e-7 * sqrt (H[r * P + r])))
        st = GSL_EDOM;
    if (st != 0) {
      if (it == 0) {
        g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_NUMERIC,
                     "the concomitant variables cannot be fitted: the information matrix of "
                     "their coefficients is singular (a column that the others and the intercept "
                     "explain, or a component with no weight)");
        ok = FALSE;
      }
      break;
    }
    for (size_t r = 0; r < P; r++)
      gsl_vector_set (gv, r, g[r]);
    gsl_linalg_cholesky_svx (A, gv);   /* gv = (-H)^-1 g */
    double dec = 0.0;
    for (size_t r = 0; r < P; r++)
      dec += g[r] * gsl_vector_get (gv, r);
    if (!(dec > 1e-20 * W))
      break;
    /* The step, halved until f does not fall; near the maximum (a decrement below 1e-8 of f's
     * size, where f's own rounding could refuse a step that still moves gamma) the full step,
     * which converges there quadratically. */
    const gboolean near = dec < 1e-8 * (fabs (fv) + W);
    gboolean moved = FALSE;
    for (double s = 1.0; ok && s > 1e-10; s *= 0.5) {
      memcpy (trial, gamma, K * q1 * sizeof (double));
      for (size_t k = 1; k < K; k++)
        for (size_t a = 0; a < q1; a++)
          trial[k * q1 + a] += s * gsl_vector_get (gv, (k - 1) * q1 + a);
      job.gamma = trial;
      ok = conc_eval (&job, grain, out2, error);
      const double f2 = ok ? conc_objective (&job, rz, trial, out2) : NAN;
      if (ok && (f2 >= fv || near)) {
        memcpy (gamma, trial, K * q1 * sizeof (double));
        memcpy (out, out2, len * sizeof (double));
        fv = f2;
        moved = TRUE;
        break;
      }
    }
    job.gamma = gamma;
    if (!moved)
      break;
  }
  if (ok) {
    for (size_t k = 0; k < K; k++)
      weights[k] = out[1 + k * q1] / W;
    *f = fv;
  }
  if (A)
    gsl_matrix_free (A);
  if (gv)
    gsl_vector_free (gv);
  g_free (out);
  g_free (out2);
  g_free (trial);
  g_free (g);
  return ok;
}

void
mixem_conc_priors (const mixem_dataset *z, size_t K, const double *gamma, double *pi)
{
  const size_t n = mixem_dataset_rows (z), q = mixem_dataset_cols (z);
  double *row = g_new (double, q > 0 ? q : 1);
  for (size_t i = 0; i < n; i++) {
    for (size_t j = 0; j < q; j++)
      row[j] = mixem_dataset_value (z, i, j);
    const double lse = mixem_conc_eta (gamma, K, q, row, pi + i * K);
    for (size_t k = 0; k < K; k++)
      pi[i * K + k] = exp (pi[i * K + k] - lse);
  }
  g_free (row);
}
