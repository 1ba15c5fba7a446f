/* families_bound.c: the floor the count and category families work against (issue 12's speed
 * target), measured on the benchmark's own data.
 * Usage: families_bound DIR NAME K ITERS [LEVELS]
 * Maps DIR/NAME.npy (N x D float64) and times, over ITERS repetitions after one warm-up:
 *   - the two bare products an EM iteration needs, X W' (N x D by D x K, the log-densities) and
 *     R' X (K x N by N x D, the statistics), by cblas_dgemm on the whole matrices; with LEVELS
 *     the columns are level codes and X is their one-hot matrix, N x (D LEVELS), built once
 *     beforehand and not timed (categorical's natural width);
 *   - one pass over the data as stored (the sum of every value of the .npy), on as many OpenMP
 *     threads as OMP_NUM_THREADS allows.
 * Prints "gemm_seconds pass_seconds", each the fastest repetition (a floor: on a shared machine
 * the others are the neighbours' load).  BLAS threads: the caller sets OPENBLAS_NUM_THREADS. */
#include <stdio.h>
#include <stdlib.h>
#include <cblas.h>
#include "npyload.h"

int
main (int argc, char **argv)
{
  if (argc < 5) {
    fprintf (stderr, "usage: families_bound DIR NAME K ITERS [LEVELS]\n");
    return 2;
  }
  char path[4096];
  snprintf (path, sizeof path, "%s/%s.npy", argv[1], argv[2]);
  const int K = atoi (argv[3]), iters = atoi (argv[4]);
  const int levels = argc > 5 ? atoi (argv[5]) : 0;
  size_t n, d;
  const double *raw = npy_map (path, &n, &d);

  /* The matrix the products see: the data, or its one-hot expansion. */
  const double *x = raw;
  size_t w = d;
  double *onehot = NULL;
  if (levels > 0) {
    w = d * (size_t) levels;
    onehot = calloc (n * w, sizeof (double));
    for (size_t i = 0; i < n; i++)
      for (size_t j = 0; j < d; j++)
        onehot[i * w + j * (size_t) levels + (size_t) raw[i * d + j]] = 1.0;
    x = onehot;
  }
  double *W = malloc ((size_t) K * w * sizeof (double));
  double *R = malloc (n * (size_t) K * sizeof (double));
  double *A = malloc (n * (size_t) K * sizeof (double));
  double *S = malloc ((size_t) K * w * sizeof (double));
  for (size_t i = 0; i < (size_t) K * w; i++)
    W[i] = -1.0 - (double) (i % 7) * 0.25;
  for (size_t i = 0; i < n * (size_t) K; i++)
    R[i] = 1.0 / K;

  double gemm = 1e300, pass = 1e300, sink = 0.0;
  for (int r = 0; r <= iters; r++) {
    double t0 = now_seconds ();
    cblas_dgemm (CblasRowMajor, CblasNoTrans, CblasTrans, (int) n, K, (int) w, 1.0, x, (int) w,
                 W, (int) w, 0.0, A, K);
    cblas_dgemm (CblasRowMajor, CblasTrans, CblasNoTrans, K, (int) w, (int) n, 1.0, R, K, x,
                 (int) w, 0.0, S, (int) w);
    double t1 = now_seconds ();
    double s = 0.0;
#pragma omp parallel for reduction(+:s) schedule(static)
    for (size_t i = 0; i < n * d; i++)
      s += raw[i];
    double t2 = now_seconds ();
    sink += s + A[r % n] + S[0];
    if (r > 0) {      /* the first is a warm-up: pages mapped, BLAS buffers allocated */
      gemm = t1 - t0 < gemm ? t1 - t0 : gemm;
      pass = t2 - t1 < pass ? t2 - t1 : pass;
    }
  }
  printf ("%.6f %.6f\n", gemm, pass);
  fprintf (stderr, "(checksum %g)\n", sink);
  free (W);
  free (R);
  free (A);
  free (S);
  free (onehot);
  return 0;
}
