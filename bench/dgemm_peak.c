/* dgemm_peak.c: this machine's DGEMM speed, the limit the Gaussian kernels work against.
 * Usage: dgemm_peak [N].  Prints GFLOP/s of C = A B for N x N matrices (2 N^3 flops), best of 3,
 * on as many threads as OPENBLAS_NUM_THREADS allows. */
#include <stdio.h>
#include <stdlib.h>
#include <cblas.h>
#include "npyload.h"

int
main (int argc, char **argv)
{
  const int n = argc > 1 ? atoi (argv[1]) : 2048;
  double *a = malloc ((size_t) n * n * sizeof (double)), *b = malloc ((size_t) n * n * sizeof (double));
  double *c = malloc ((size_t) n * n * sizeof (double)), best = 1e300;
  for (long i = 0; i < (long) n * n; i++) {
    a[i] = (double) (i % 7) - 3.0;
    b[i] = (double) (i % 5) - 2.0;
  }
  for (int r = 0; r < 3; r++) {
    const double t0 = now_seconds ();
    cblas_dgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, a, n, b, n, 0.0, c, n);
    const double t = now_seconds () - t0;
    best = t < best ? t : best;
  }
  printf ("%.1f\n", 2.0 * n * (double) n * n / best * 1e-9);
  free (a);
  free (b);
  free (c);
  return 0;
}
