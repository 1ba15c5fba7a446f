/* vl_run.c: VLFeat's vl_gmm (diagonal covariances) on DIR/NAME.npy from DIR/NAME_init.f64.
 * Usage: vl_run DIR NAME ITERS THREADS.  Prints "seconds_per_iteration mean_loglik iterations
 * peak_rss_mib".  VLFeat stops by itself once the relative change of the log-likelihood falls
 * below 1e-5: the iterations it ran are counted from its verbose output (caught through
 * vl_set_printf_func) and the time is divided by them; and its M-step skips responsibilities
 * below 1e-2 / K, so its
 * fit is not exactly EM's: the log-likelihood printed is computed here from its final
 * parameters with a log-sum-exp, to compare like with like. */
#include <math.h>
#include <vl/generic.h>
#include <vl/gmm.h>
#include "npyload.h"

static double
mean_loglik (const double *x, size_t n, size_t d, size_t k, const double *w, const double *mu,
             const double *var)
{
  double *c = malloc (k * sizeof (double)), total = 0.0;
  for (size_t j = 0; j < k; j++) {
    double ld = 0.0;
    for (size_t t = 0; t < d; t++)
      ld += log (var[j * d + t]);
    c[j] = log (w[j]) - 0.5 * ((double) d * log (2 * M_PI) + ld);
  }
#pragma omp parallel for reduction(+ : total)
  for (size_t i = 0; i < n; i++) {
    double a[256], m = -INFINITY, s = 0.0;
    for (size_t j = 0; j < k; j++) {
      double q = 0.0;
      for (size_t t = 0; t < d; t++) {
        const double z = x[i * d + t] - mu[j * d + t];
        q += z * z / var[j * d + t];
      }
      a[j] = c[j] - 0.5 * q;
      m = fmax (m, a[j]);
    }
    for (size_t j = 0; j < k; j++)
      s += exp (a[j] - m);
    total += m + log (s);
  }
  free (c);
  return total / (double) n;
}

/* vl_gmm's verbose lines, counted: "gmm: em: iteration T" for T = 0 (the start's E-step) to the
 * last, so the M-steps it made are the count less one. */
static int em_lines;

static int
count_lines (char const *format, ...)
{
  if (strncmp (format, "gmm: em: iteration", 18) == 0)
    em_lines++;
  return 0;
}

static double
run (const double *x, size_t n, size_t d, size_t k, const double *init, int iters, VlGMM **out)
{
  VlGMM *g = vl_gmm_new (VL_TYPE_DOUBLE, (vl_size) d, (vl_size) k);
  vl_gmm_set_initialization (g, VlGMMCustom);
  vl_gmm_set_priors (g, init);
  vl_gmm_set_means (g, init + k);
  vl_gmm_set_covariances (g, init + k + k * d);
  vl_gmm_set_max_num_iterations (g, (vl_size) iters);
  vl_gmm_set_num_repetitions (g, 1);
  vl_gmm_set_covariance_lower_bound (g, 1e-6);
  vl_gmm_set_verbosity (g, 1);
  em_lines = 0;
  const double t0 = now_seconds ();
  vl_gmm_cluster (g, x, (vl_size) n);
  const double t = now_seconds () - t0;
  if (out)
    *out = g;
  else
    vl_gmm_delete (g);
  return t;
}

int
main (int argc, char **argv)
{
  if (argc != 5) {
    fprintf (stderr, "usage: vl_run DIR NAME ITERS THREADS\n");
    return 2;
  }
  char path[4096];
  size_t n, d;
  snprintf (path, sizeof path, "%s/%s.npy", argv[1], argv[2]);
  const double *x = npy_map (path, &n, &d);
  snprintf (path, sizeof path, "%s/%s_init.f64", argv[1], argv[2]);
  FILE *f = fopen (path, "rb");
  if (!f) {
    perror (path);
    return 1;
  }
  double *init = malloc (1 << 24);
  const size_t len = fread (init, sizeof (double), (1 << 24) / sizeof (double), f);
  fclose (f);
  const size_t k = len / (1 + 2 * d);
  const int iters = atoi (argv[3]);
  vl_set_num_threads ((vl_size) atoi (argv[4]));
  vl_set_printf_func (count_lines);
  VlGMM *g = NULL;
  const double t1 = run (x, n, d, k, init, 1, NULL);
  const int ran1 = em_lines - 1;
  const double tn = run (x, n, d, k, init, iters, &g);
  const int ran = em_lines - 1;
  const double ll = mean_loglik (x, n, d, k, vl_gmm_get_priors (g), vl_gmm_get_means (g),
                                 vl_gmm_get_covariances (g));
  printf ("%.6f %.12g %d %.1f\n", ran > ran1 ? (tn - t1) / (ran - ran1) : tn / ran, ll, ran,
          peak_rss_mib ());
  vl_gmm_delete (g);
  free (init);
  return 0;
}
