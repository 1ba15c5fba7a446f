/* engine.h: what em.c and model.c share inside the library: the model's layout and the block
 * pass over a dataset.  Not installed. */
#ifndef MIXEM_ENGINE_H
#define MIXEM_ENGINE_H

#include <math.h>
#include <mixem/mixem.h>

struct mixem_model {
  const mixem_family *family;
  mixem_params *params;
  size_t k, d;
  double *weights;
  char **names;              /* d + 1, NULL-terminated */
  mixem_options *options;
  gboolean weights_fixed;
  double loglik, loglik0;
  int n_iter, best_restart;
  mixem_algorithm algorithm; /* the algorithm that fit it (MIXEM_EM for a model given whole) */
  gboolean converged;        /* the stopping rule of the last run (tol, or refine_tol) held */
  gboolean refined;          /* the last run was a refinement */
  int n_failed;              /* restarts that failed and were skipped */
  gboolean missing_data;     /* fitted to data with missing cells ("missing_data" in a file) */
  GArray *trace;             /* of mixem_iteration */
  GPtrArray *warnings;       /* char *: failed restarts, no convergence */
  /* mixem_model_partial_fit's running statistics (stats size + K + 2, or NULL before the first
   * update), the weight W_0 they stand for, and the updates made. */
  double *online_s;
  double online_w, online_t;
  /* mclust's noise component (fit.h, noise): a uniform density 1/V on the data's hypervolume,
   * its weight weights[k] (the array then holds K + 1); V as its log. */
  gboolean noise;
  double noise_logv;
  /* Concomitant variables (fit.h, concomitant): Q of them (0: none), named CONC_NAMES (Q + 1,
   * NULL-terminated); weights then holds the K mean weights and after them the K * (Q + 1)
   * coefficients gamma. */
  size_t conc_q;
  char **conc_names;
};

/* l(theta) (*LOGLIK) and the entropy of the responsibilities (*ENTROPY; either may be NULL) of
 * M on DATA (the model's columns) with its concomitant variables given apart, Z (DATA's rows),
 * as model selection scores a fit whose data and Z are separate datasets. */
gboolean mixem_model_score_z (const mixem_model *m, const mixem_dataset *data,
                              const mixem_dataset *z, double *loglik, double *entropy,
                              GError **error);

/* The first k whose running sum of W[0..K-1] passes U (a uniform times their total): a draw
 * from the discrete distribution W; rounding past the end gives the last k with weight. */
static inline size_t
mixem_pick (const double *w, size_t K, double u)
{
  double run = 0.0;
  size_t k = K - 1;
  for (size_t j = 0; j < K; j++) {
    run += w[j];
    if (u < run && w[j] > 0.0) {
      k = j;
      break;
    }
  }
  while (k > 0 && !(w[k] > 0.0))
    k--;
  return k;
}

/* Entries of M's weights array: K, the noise's, the concomitant coefficients. */
size_t mixem_model_weights_len (const mixem_model *m);

/* What a pass adds up, per block and then in block order: [N_k (K) | loglik | entropy | family
 * statistics].  Each block's share lands in a slot of its wave, and the slots are summed in
 * order, so the result is the same bit for bit whatever the number of threads. */
typedef struct {
  const mixem_family *family;
  const mixem_dataset *data;
  size_t n, d, k;
  size_t block;              /* rows per block */
  size_t wave;               /* blocks per wave */
  int threads;
  gboolean hard;             /* classification EM: one-hot responsibilities */
  /* Stochastic EM (with hard): each row's one-hot component drawn from its responsibilities by
   * a uniform that is a hash of DRAW_KEY and the row's index, so that the draws depend on
   * neither the thread count nor the block order. */
  gboolean draw;
  guint64 draw_key;
  /* Deterministic annealing: responsibilities proportional to (pi_k p_k(x))^beta, beta = 1/T
   * (1: plain EM).  The log-likelihood summed is always the plain one. */
  double beta;
  size_t fam_ss, ss;         /* family stats size, and the whole slot size */
  double *slots;             /* wave * ss */
  double *scratch;           /* threads * 2 * block * k */
  double *xbuf;              /* threads * block * d: rows widened from bytes, or NULL */
  unsigned char *mbuf;       /* threads * block * d: the blocks' masks, or NULL (no missing) */
  size_t *bad_row;           /* wave: first row with no finite log-likelihood, or SIZE_MAX */
  /* For a family without expected_loglik: the responsibilities of the last pass (N*K, one-hot
   * under CEM), so that the next pass also sums sum_i w_i sum_k q_ik log p(x_i | theta_new),
   * the ELBO's expected term, with the log-densities it computes anyway.  Set by the fit. */
  double *q;                 /* N*K or NULL */
  gboolean q_valid;          /* q holds the last pass's responsibilities */
  double *cross_slots;       /* wave */
  double cross;              /* that sum, after a pass with q_valid */
  /* The rows a pass covers, [lo, hi), global row numbers (a part's are those of all ranks):
   * all of them but for incremental EM's chunks and online EM's batches
   * (mixem_pass_estep_range), whose chunks of the tree are cut at the multiples of its grain,
   * where the ranks' shares are, so that they too are sums over ranks. */
  size_t lo, hi;
  size_t row0;               /* the global index of the data's first row (a part's offset) */
  /* The noise component (mixem_pass_set_noise): log density NOISE_LOGD for every row, log
   * weight logw[k]; its N_k is the slot's last entry (ss - 1), its responsibility the (K+1)th
   * column of RESP, and its label K. */
  gboolean noise;
  double noise_logd;
  /* Concomitant variables (mixem_pass_set_concomitant): row i's log weights are
   * log softmax_k(eta_ik), eta_ik = gamma_k' (1, z_i), in place of LOGW, z_i row i of ZDATA (ZQ
   * columns) and GAMMA K * (ZQ + 1), component k's intercept then slopes.  The slot gains, at
   * ZOFF, the K * (ZQ + 1) sums sum_i r_ik (1, z_i) (r times the row weight), then
   * sum_i w_i log sum_k exp(eta_ik): the weights' part of the ELBO is
   * sum_k gamma_k' (those sums) - that last one. */
  const mixem_dataset *zdata;
  size_t zq, zoff;
  const double *gamma;
  double *zbuf;              /* threads * block * zq: Z's rows widened from bytes, or NULL */
} mixem_pass;

/* The fixed reduction tree (pass.c): LEN sums over rows [LO, HI) of DATA (all of a part's rows,
 * then over every rank: collective), chunks of GRAIN rows.  LEAF fills OUT with one chunk's
 * (rows FIRST .. FIRST + N - 1, local indices); MERGE (NULL: elementwise sum) folds RIGHT into
 * ACC.  The result does not depend on the number of ranks.  A failure on any rank is every
 * rank's, with the lowest failing rank's message. */
typedef gboolean (*mixem_leaf_fn) (size_t first, size_t n, double *out, void *user,
                                   GError **error);
typedef void (*mixem_merge_fn) (double *acc, const double *right, size_t len, void *user);
gboolean mixem_tree_reduce (const mixem_dataset *data, size_t lo, size_t hi, size_t grain,
                            size_t len, mixem_leaf_fn leaf, mixem_merge_fn merge, void *user,
                            double *out, GError **error);
/* The same over the global rows [GLO, HI) (all ranks' rows for a part; a dataset's own for any
 * other), chunk boundaries at the multiples of GRAIN: collective for a part, every rank calling
 * it with the same range (a rank with none of its rows contributes nothing). */
gboolean mixem_tree_reduce_range (const mixem_dataset *data, size_t glo, size_t ghi, size_t grain,
                                  size_t len, mixem_leaf_fn leaf, mixem_merge_fn merge,
                                  void *user, double *out, GError **error);
/* Whether DATA's parts are cut at multiples of GRAIN (an error naming the rank if not). */
gboolean mixem_tree_check (const mixem_dataset *data, size_t grain, GError **error);
/* The rows of a chunk of the E-step's tree: 64 blocks. */
#define MIXEM_WAVE_BLOCKS 64

enum { MIXEM_S_LOGLIK = 0, MIXEM_S_ENTROPY = 1 };

/* A 64-bit mix (splitmix64's finaliser) of X, for stochastic EM's draw keys and uniforms. */
guint64 mixem_mix64 (guint64 x);   /* offsets after the K values of N_k */

/* FAMILY_SS = 0 makes a pass that only scores (no statistics). */
void mixem_pass_init (mixem_pass *ps, const mixem_family *f, const mixem_dataset *data, size_t k,
                      size_t fam_ss, size_t block, int threads);
void mixem_pass_clear (mixem_pass *ps);
/* Adds the noise component of log density LOGD (-log V) to PS (before any pass). */
void mixem_pass_set_noise (mixem_pass *ps, double logd);
/* Adds concomitant variables Z (the data's rows, ZQ columns) to PS (before any pass, and before
 * mixem_pass_set_noise: the noise stays the slot's last entry); GAMMA is set before each pass. */
void mixem_pass_set_concomitant (mixem_pass *ps, const mixem_dataset *z);

/* eta_k = gamma_k' (1, z) for the K components (GAMMA K * (Q + 1)) into ETA; returns
 * log sum_k exp(eta_k), so that log pi_k(z) = eta_k - that. */
static inline double
mixem_conc_eta (const double *gamma, size_t K, size_t q, const double *z, double *eta)
{
  double m = -INFINITY;
  for (size_t k = 0; k < K; k++) {
    const double *g = gamma + k * (q + 1);
    double e = g[0];
    for (size_t j = 0; j < q; j++)
      e += g[1 + j] * z[j];
    eta[k] = e;
    if (e > m)
      m = e;
  }
  double s = 0.0;
  for (size_t k = 0; k < K; k++)
    s += exp (eta[k] - m);
  return m + log (s);
}

/* The concomitant M-step (concomitant.c): GAMMA (K * (Q + 1), its start in, the maximiser out)
 * maximises sum_ik r_ik log pi_k(z_i) given RZ = sum_i r_ik (1, z_i) (K * (Q + 1)), by Newton's
 * method with passes over Z's rows (the fixed tree, chunks of GRAIN rows: collective on a
 * part).  WEIGHTS[k] receives sum_i w_i pi_k(z_i) / W and *F the maximum.  The first
 * component's coefficients are 0 (flexmix's parametrisation). */
gboolean mixem_conc_mstep (const mixem_dataset *data, const mixem_dataset *z, size_t K,
                           size_t grain, const double *rz, double W, double *gamma,
                           double *weights, double *f, GError **error);
/* pi_k(z_i) of every local row of Z into PI (N * K). */
void mixem_conc_priors (const mixem_dataset *z, size_t K, const double *gamma, double *pi);

/* The E-step over all rows with PARAMS and log weights LOGW.  TOTAL (ps->ss) receives the sums;
 * with ACCUMULATE the family's statistics too.  Optional per-row outputs: RESP (N*K), LSE (N),
 * LABEL (N).  A row with zero likelihood under every component is an error naming it. */
gboolean mixem_pass_estep (mixem_pass *ps, const mixem_params *params, const double *logw,
                           gboolean accumulate, double *total, double *resp, double *lse,
                           size_t *label, GError **error);

/* The same over rows [LO, HI) only (0 < HI - LO, HI <= n): blocks of ps->block rows from LO,
 * reduced in the same fixed order, so the result does not depend on the thread count either.
 * Per-row outputs are indexed by the row's index in the whole data. */
gboolean mixem_pass_estep_range (mixem_pass *ps, size_t lo, size_t hi, const mixem_params *params,
                                 const double *logw, gboolean accumulate, double *total,
                                 GError **error);

/* The family's statistics (ps->fam_ss) over all rows at PARAMS with the responsibilities the last
 * E-step kept in ps->q (times the row weights), by the E-step's tree: at the E-step's own
 * parameters, the same bits as its statistics.  For the family's maximise_passes (collective on a
 * part). */
gboolean mixem_pass_accumulate_q (mixem_pass *ps, const mixem_params *params, double *stats,
                                  GError **error);

/* *B = rows FIRST..FIRST+N-1 of DATA as a block: XBUF (N*d doubles) for data held as bytes,
 * MBUF (N*d bytes, NULL when DATA has no missing cell) for its mask. */
void mixem_pass_block (const mixem_dataset *data, size_t first, size_t n, double *xbuf,
                       unsigned char *mbuf, mixem_block *b);
/* Zeroes the rows of A (B->n by K) whose every cell is missing. */
void mixem_pass_empty_rows (const mixem_block *b, size_t K, double *a);
/* Refuses DATA with a missing cell for a family without MIXEM_FAMILY_MISSING, naming both. */
gboolean mixem_refuse_missing (const mixem_family *f, const mixem_dataset *data, GError **error);

/* Checks that DATA suits a model of the family with PARAMS (columns and family checks). */
gboolean mixem_check_data (const mixem_family *f, const mixem_params *params, size_t d,
                           const mixem_dataset *data, GError **error);

/* k-means with each column weighted by IW[j] (NULL: unweighted), as the starts use it. */
/* Across ranks too (a part): sums by the fixed tree over chunks of GRAIN rows, rows drawn from
 * all ranks; LABELS are the local rows'. */
void mixem_kmeanspp_scaled (const mixem_dataset *data, size_t k, gsl_rng *rng, const double *iw,
                            size_t grain, double *centres);
double mixem_kmeans_scaled (const mixem_dataset *data, size_t k, int max_iter, gsl_rng *rng,
                            const double *iw, size_t grain, double *centres, size_t *labels);
double mixem_nearest_centres_scaled (const mixem_dataset *data, size_t k, const double *centres,
                                     const double *iw, size_t *labels, double *dmin);

/* Each row's nearest of K centres (squared Euclidean, ties to the lower index). */
double mixem_nearest_centres (const mixem_dataset *data, size_t k, const double *centres,
                              size_t *labels, double *dmin);

/* mixem_family_options: in mixem/family.h. */
gboolean mixem_check_options (const mixem_family *f, const mixem_options *opts, GError **error);

/* After a pass: a failure the family kept (take_error), as ERROR. */
gboolean mixem_family_take_error (const mixem_family *f, const mixem_params *params,
                                  GError **error);

/* "true", "yes", "1", "on" and their opposites, in any case. */
gboolean mixem_parse_boolean (const char *text, gboolean *out);

#endif
