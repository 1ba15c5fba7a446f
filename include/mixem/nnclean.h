/* mixem/nnclean.h: nearest-neighbour clutter removal (Byers and Raftery 1998), the estimated
 * initial noise guess of mclust's examples (prabclus's NNclean), for the noise component's row
 * mask (mixem_fit_options.noise_rows). */
#ifndef MIXEM_NNCLEAN_H
#define MIXEM_NNCLEAN_H

#include <stddef.h>
#include <glib.h>
#include <mixem/dataset.h>

G_BEGIN_DECLS

/* What the EM on the k-th nearest-neighbour distances ended with (NNclean's lambda1, lambda2, p). */
typedef struct {
  double lambda1;      /* the clusters' Poisson intensity (the larger one) */
  double lambda2;      /* the noise's */
  double p;            /* the clusters' share of the rows */
  size_t iterations;   /* EM iterations */
} mixem_nnclean_info;

/* Byers and Raftery's nearest-neighbour cleaning, as prabclus's NNclean(X, k) (no edge
 * correction): D_k, the Euclidean distance of each row to its K-th nearest other row, is
 * modelled as a mixture of two transformed Poisson-process distributions (D_k^d is Gamma(k,
 * lambda alpha_d), alpha_d the volume of the unit d-ball), fitted by EM from NNclean's start and
 * to its stopping rule.  Outputs, each of N values and each may be NULL: NOISE, TRUE for the
 * rows NNclean puts in the noise (its z == 0); POSTERIOR, NNclean's probs: the clusters'
 * density of D_k over the sum of both (without the weight p; z is its rounding, so a row is
 * noise when it is 0.5 or less); KDIST, the distances D_k.  INFO (may be NULL) receives the
 * EM's result.  Deterministic; O(N^2 D) time, O(N) memory; row weights are not used.  The
 * densities' ratio is taken in the log domain, so it is defined where NNclean's 0/0 is not.
 * Errors: K < 1 or K >= N (MIXEM_ERROR_OPTION), a missing or non-finite value
 * (MIXEM_ERROR_DATA, naming the cell), distances that cannot be split (all D_k equal, or a
 * zero mean among the nearer third; MIXEM_ERROR_NUMERIC). */
gboolean mixem_nnclean (const mixem_dataset *data, size_t k, gboolean *noise, double *posterior,
                        double *kdist, mixem_nnclean_info *info, GError **error);

G_END_DECLS

#endif
