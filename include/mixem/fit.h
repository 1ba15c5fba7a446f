/* mixem/fit.h: the EM engine and the fitted model.
 *
 * One EM iteration t = 1, 2, ... goes from parameters theta_{t-1} (weights pi and the family's
 * parameters) to theta_t:
 *   E-step   q_{t-1}(z_i = k) = pi_k p(x_i|theta_k) / sum_j pi_j p(x_i|theta_j), in the log domain
 *            with log-sum-exp, over row blocks; the statistics are accumulated on the way.
 *   M-step   theta_t = argmax ELBO(q_{t-1}, theta), from the statistics alone.
 * and the record of iteration t holds
 *   loglik   l(theta_t) = sum_i w_i log p(x_i | theta_t)
 *   elbo     ELBO(q_{t-1}, theta_t) = sum_ik w_i q_ik [log pi_k + log p(x_i|theta_k)] + H(q_{t-1})
 *   kl       KL(q_{t-1} || p(z|x, theta_t)) = l(theta_t) - ELBO(q_{t-1}, theta_t) >= 0
 *   entropy  H(q_{t-1}) = -sum_ik w_i q_ik log q_ik
 *   delta    (l(theta_t) - l(theta_{t-1})) / sum_i w_i, the change in mean log-likelihood
 * so log p(X|theta_t) = ELBO + KL in every record, and ELBO(q_{t-1}, theta_t) >= l(theta_{t-1})
 * (the climb).  The fit stops after max_iter iterations, or at the iteration after the one whose
 * |delta| < tol: scikit-learn's rule (the change in the mean log-likelihood per sample, measured
 * by its loop at the start of an iteration), so n_iter and the result match its n_iter_.  Each E-step computes l(theta) of the
 * parameters it starts from, so the ELBO and KL cost no extra pass over the data. */
#ifndef MIXEM_FIT_H
#define MIXEM_FIT_H

#include <mixem/family.h>

G_BEGIN_DECLS

typedef struct {
  int restart;        /* 1-based restart number */
  int iter;           /* 1-based iteration number */
  double loglik, elbo, kl, entropy, delta;
  double seconds;     /* wall time of this iteration */
  int reseeded;       /* 1-based component re-seeded in this iteration (opts->reseed), or 0 */
  int short_run;      /* small-EM: the 1-based short run of this restart that the iteration
                       * belongs to (each starts afresh; the best one's climb goes on as the
                       * restart's, from short_run 0), or 0 */
  int extrapolated;   /* squarem: 1 for the record of an accepted extrapolation (its ELBO is
                       * that of the posterior after the stabilising E-step, so KL = 0), -1 for
                       * a plain EM step whose extrapolation was rejected (the fit fell back to
                       * it), 0 for any other plain step and under every other algorithm */
  double min_step;    /* incremental: the smallest change of the ELBO over the sweep's
                       * half-steps (each chunk's E-step and each M-step), >= 0 up to rounding
                       * by Neal and Hinton's argument; NAN (not measured) for a family without
                       * expected_loglik; 0 under every other algorithm */
  double log_prior;   /* log p(theta_t) under the family's prior, up to a constant
                       * (family->log_prior): with a prior, EM climbs loglik + log_prior, the
                       * log-posterior; 0 without a prior, NAN where the family has none to give */
  double temperature; /* annealed: the temperature T of the q whose ELBO and entropy these are
                       * (q ~ (pi_k p_k)^(1/T)); its free energy, the objective annealing climbs
                       * at T, is elbo + (T - 1) entropy = E_q[log pi p] + T H(q).  1 otherwise */
} mixem_iteration;

/* Called after each iteration with the record and the new parameters; return FALSE to stop. */
typedef gboolean (*mixem_iter_func) (const mixem_iteration *it, const mixem_params *params,
                                     const double *weights, void *user_data);

typedef struct mixem_model mixem_model;

typedef enum {
  MIXEM_EM = 0,   /* soft responsibilities */
  MIXEM_CEM,      /* classification EM: each row wholly to its most probable component; the
                   * ELBO is then the classification log-likelihood and H(q) = 0 */
  /* Appended values (never reorder).  README, "Algorithms", has the maths. */
  MIXEM_SQUAREM,  /* EM accelerated by SQUAREM (Varadhan and Roland 2008, SqS3) on the flat
                   * sufficient statistics; falls back to the plain step when the extrapolation
                   * fails or lowers the log-likelihood (mixem_iteration.extrapolated) */
  MIXEM_SEM,      /* stochastic EM (Celeux and Diebolt 1985): each row's component drawn from
                   * its responsibilities, the M-step on those labels; runs max_iter iterations
                   * (tol does not stop it) and keeps the iteration with the best l(theta) */
  MIXEM_ANNEALED, /* deterministic annealing EM (Ueda and Nakano 1998): q ~ (pi_k p_k)^(1/T),
                   * T from anneal_t0 down to 1 in anneal_steps geometric steps, then plain EM */
  MIXEM_INCREMENTAL, /* incremental EM (Neal and Hinton 1998): the rows in `blocks` contiguous
                   * chunks; each step refreshes one chunk's statistics at the current
                   * parameters and maximises; an iteration is one sweep over the chunks */
  MIXEM_ONLINE    /* stepwise (online) EM (Cappe and Moulines 2009): batches of batch_size rows
                   * in row order, s <- (1 - eta_t) s + eta_t (W / W_batch) s_batch with
                   * eta_t = (t + 2)^-step_alpha, a maximise after each batch; an iteration is
                   * one epoch (a pass over the batches) */
} mixem_algorithm;

/* "em", "cem", "squarem", "sem", "annealed", "incremental", "online"; NULL for a value out of range. */
const char *mixem_algorithm_name (mixem_algorithm a);
/* FALSE with an error listing every name for an unknown NAME. */
gboolean mixem_algorithm_parse (const char *name, mixem_algorithm *out, GError **error);

/* Fit options.  Start from mixem_fit_options_init(), which sets the defaults noted here. */
typedef struct {
  size_t k;                    /* components: 1 */
  mixem_algorithm algorithm;   /* MIXEM_EM */
  int max_iter;                /* 100, as scikit-learn */
  double tol;                  /* 1e-3, as scikit-learn; 0 runs all max_iter iterations */
  int n_init;                  /* restarts, the best final log-likelihood kept: 10 (scikit-learn
                                  has 1; see init "auto" and tests/reference/r_fixtures.lua) */
  /* Refinement, mixem's addition to scikit-learn's rule: tol 1e-3 per row often stops EM on a
   * slow plateau, and picking the best restart there misses better optima.  So the n_refine
   * restarts with the highest log-likelihoods (that converged by tol) climb on until their
   * |delta| < refine_tol, within max_iter iterations in all, and the best of them is kept.
   * refine_tol >= tol or n_refine = 0 gives scikit-learn's rule exactly. */
  double refine_tol;           /* 1e-6 */
  int n_refine;                /* 5 */
  unsigned long seed;          /* GSL mt19937 seed: 0 */
  int threads;                 /* 0: OpenMP's default; results do not depend on it */
  size_t block_size;           /* rows per block: 256; results do not depend on threads */
  const char *init;            /* a family start, "random_resp", or "auto" (NULL): the
                                  family's first listed start (README, "Default starts") */
  const mixem_options *family_options;   /* NULL: none */
  const double *init_weights;  /* K weights to start from (K + 1 with noise), or NULL: uniform
                                  (random_resp: fitted) */
  GVariant *init_components;   /* array of K a{sv} (as family->describe), or NULL */
  const mixem_model *warm_start;         /* start from this model's parameters, or NULL */
  gboolean fix_weights;        /* keep the mixing weights at their start */
  /* A degenerate component (collapsed covariance, no weight left) is an error naming it and the
   * iteration; with reseed, it is set again from a one-component fit to the rows the model
   * explains worst, with their share of the weight, and the fit goes on (that iteration's record
   * says which component; the climb may dip there). */
  gboolean reseed;
  const gboolean *fix_components;        /* K flags: keep component k's parameters; or NULL */
  mixem_iter_func callback;    /* or NULL */
  void *user_data;
  int refine_max_iter;         /* iterations refinement may add past where tol stopped: 1000 */
  gboolean strict_empty;       /* an empty component is an error (FALSE: it is kept at weight
                                  0 and the model warns, as scikit-learn carries on) */
  /* small-EM (Biernacki, Celeux and Govaert, 2003) within each restart: SHORT_STARTS starts are
   * drawn, each runs SHORT_ITER
   * EM iterations, and the restart goes on from the one with the highest log-likelihood; the
   * short iterations count in n_iter and max_iter.  1: off (each restart is one start).  The
   * defaults were chosen on tests/reference/r_fixtures.lua (README, short_starts). */
  int short_starts;            /* 12 */
  int short_iter;              /* 20 */
  /* Deterministic annealing (algorithm MIXEM_ANNEALED only; any other algorithm refuses a value
   * other than 0).  Temperatures T_j = anneal_t0^((S - j) / S), j = 0 .. S - 1 (S =
   * anneal_steps), each held until |delta| < tol or for max(1, max_iter / (2 S)) iterations,
   * then T = 1 (plain EM) to convergence; small-EM's short runs are plain EM. */
  double anneal_t0;            /* 0: the default, 2; else must be >= 1 */
  int anneal_steps;            /* 0: the default, 5; else must be >= 1 */
  /* Incremental EM (MIXEM_INCREMENTAL only; any other algorithm refuses a value other than 0):
   * the chunks, 1 .. N: contiguous, in row order, the first N mod B one row longer. */
  size_t blocks;               /* 0: the default, min(10, N) */
  /* Online EM (MIXEM_ONLINE only; any other algorithm refuses a value other than 0). */
  size_t batch_size;           /* rows a batch, 1 .. N; 0: the default, min(500, N) */
  double step_alpha;           /* eta_t = (t + 2)^-step_alpha, in (0.5, 1]; 0: the default, 0.6 */
  int epochs;                  /* > 0: exactly that many epochs (tol and max_iter unused); 0: the
                                  default, epochs until |delta| < tol, at most max_iter */
  /* small-EM's short runs by CEM or SEM, then the restart's climb by ALGORITHM: mixmod's CEM-EM
   * and SEM-EM strategies (flexmix's initMethod).  MIXEM_EM, the default: short runs as the
   * algorithm makes them (plain EM; hard under cem and sem).  Needs short_starts > 1. */
  mixem_algorithm short_algorithm;
  /* mclust's noise component (Banfield and Raftery 1993): one more component of density 1/V
   * for every row, V the data's hypervolume, with its own weight (weights[k] of the model, after
   * the K components').  V: noise_volume, or 0 for a warm start's own V or else mclust's
   * hypvol(), the smaller of the
   * bounding box of the columns and that of the principal components (rows unweighted).  Its
   * start: init_weights with K + 1 entries (the noise's last), else the start's K weights times
   * 1 - noise_init, the noise noise_init (0: the default, 0.1), or noise_rows below.  Algorithms em and cem only;
   * complete data; a family with expected_loglik. */
  gboolean noise;
  double noise_volume;
  double noise_init;
  /* An initial noise guess, as mclust's initialization$noise: N flags (the data's rows), or
   * NULL.  After the start, each row is given to its most probable component, or to the noise
   * where flagged, and one M-step from that partition sets the parameters and the K + 1 weights
   * (noise_init unused); the hc start clusters the other rows only, as mclust's.  Not with a
   * start given whole, nor on data split across ranks; flagging every row is an error. */
  const gboolean *noise_rows;
  /* Stochastic EM (MIXEM_SEM only; any other algorithm refuses a value other than 0): M > 0
   * makes the result the mean estimate of Celeux and Diebolt's last M iterations, taken in the
   * engine's generic way: the M-step from the mean of the statistics that those iterations'
   * M-steps used (moved to common parameters by stats_rebase where the family has it), in
   * place of the iteration with the best log-likelihood (0, the default).  1 .. max_iter. */
  int sem_average;
  /* Concomitant variables (flexmix's FLXPmultinom): the mixing weights of row i become
   * pi_k(z_i) = exp(eta_ik) / sum_l exp(eta_il), eta_ik = gamma_k' (1, z_i), z_i row i of
   * CONCOMITANT (Q >= 1 columns of finite numbers, none constant, the data's rows; not seen by
   * the family), gamma_1 = 0.  The M-step fits gamma by Newton's method on the weighted
   * multinomial logit of the responsibilities (src/concomitant.c), and the ELBO's weights term
   * is sum_ik q_ik log pi_k(z_i).  Algorithms em, cem, squarem, sem and annealed; not with
   * noise, fix_weights or reseed.  The model's weights are then the mean priors
   * sum_i w_i pi_k(z_i) / sum_i w_i, and mixem_model_concomitant gives gamma. */
  const mixem_dataset *concomitant;
  /* The coefficients to start from, K * (Q + 1) (component k's intercept, then its slopes in
   * Z's column order), or NULL: those the start's M-step fits, or else intercepts log(w_k / w_1)
   * from the start's weights and slopes 0. */
  const double *init_concomitant;
} mixem_fit_options;

void mixem_fit_options_init (mixem_fit_options *opts);

/* k-means++ seeding of K centres (K*D) from DATA's rows, with scikit-learn's greedy local trials
 * (2 + log K candidates per centre); row weights respected. */
void mixem_kmeanspp (const mixem_dataset *data, size_t k, gsl_rng *rng, double *centres);

/* Lloyd's k-means from k-means++ seeds, at most MAX_ITER iterations (stops when no label
 * changes); CENTRES (K*D) and LABELS (N, may be NULL) are filled.  Returns the weighted inertia
 * (sum of squared distances to the nearest centre).  An empty cluster takes the farthest row. */
double mixem_kmeans (const mixem_dataset *data, size_t k, int max_iter, gsl_rng *rng,
                     double *centres, size_t *labels);

/* Model-based agglomerative hierarchical clustering (mclust's hc(); see src/hc.c for the
 * criteria and the order of merges): MODEL "VVV" (NULL), "VII", "EEE", "EII", or "V", "E" for
 * one column; USE
 * "SVD" (NULL) or "VARS", mclust's transformation of the data; MAX_ROWS > 0 clusters that many
 * evenly spaced rows only.  Deterministic.  LABELS (N_K * N) receives, for each of the N_K
 * numbers of clusters KS, the partition of the rows (0-based, numbered by first appearance as
 * mclust's hclass), MIXEM_HC_NONE for rows outside the subset.  Row weights are not used.  Every
 * K must be in 1..(rows clustered), else an error. */
#define MIXEM_HC_NONE ((size_t) -1)
gboolean mixem_hc (const mixem_dataset *data, const char *model, const char *use, size_t max_rows,
                   size_t n_k, const size_t *ks, size_t *labels, GError **error);

/* The adjusted Rand index of two labelings of N items (labels 0, 1, ...): 1 for the same
 * partition, about 0 for independent ones (Hubert and Arabie 1985, as scikit-learn's). */
double mixem_adjusted_rand_index (const size_t *a, const size_t *b, size_t n);

/* Fits a K-component mixture of FAMILY to DATA by EM. */
mixem_model *mixem_fit (const mixem_family *family, const mixem_dataset *data,
                        const mixem_fit_options *opts, GError **error);

/* One step of online (stepwise) EM on a new batch, in place (Lua's model:partial_fit): M keeps
 * running statistics s.  The first call sets s to the statistics of the batch's posterior at
 * M's parameters (one EM step on the batch) and W_0 to the batch's weight; each later one, with
 * s_b those of the new batch (weight W_b) at M's parameters and t the updates before it,
 * s <- (1 - eta_t) s + eta_t (W_0 / W_b) s_b, eta_t = (t + 2)^-ALPHA (ALPHA 0: 0.6; else in
 * (0.5, 1]); then the M-step from s.  M's loglik becomes the batch's l(theta) at the parameters
 * before the update, n_iter counts the updates too, and a record is appended (that loglik, the
 * posterior's ELBO = loglik, KL = 0, delta 0).  The running statistics, W_0 and t are saved in
 * the model file ("online"), so a loaded model goes on bit for bit.  On error M is unchanged. */
gboolean mixem_model_partial_fit (mixem_model *m, const mixem_dataset *batch, double alpha,
                                  int threads, GError **error);

/* Online EM over a stream of batches that are never all in memory at once (`mixem fit
 * --algorithm online --stream FILE.npy`).  NEXT returns the stream's next batch, a new dataset
 * that the engine frees, or NULL at the stream's end (ERROR unset) or on failure (ERROR set);
 * REWIND starts the stream again.  OPTS as for mixem_fit with algorithm MIXEM_ONLINE: the start
 * is an EM fit to the first batch (OPTS' start, restarts and small-EM, algorithm em); then
 * opts->epochs passes over the stream (0: one), each batch one mixem_model_partial_fit update
 * (step_alpha; the batches are as NEXT cuts them, batch_size unused); then one more pass for
 * l(theta) on every row (the model's loglik).  The trace has one record an epoch: loglik the
 * sum over the batches of each batch's log-likelihood at the parameters before its update (the
 * prequential log-likelihood), elbo = loglik and KL = 0 (each batch's posterior), entropy summed
 * likewise, delta its change per unit of row weight from the epoch before (NAN for the first).
 * reseed and fixed components are refused; initial_loglik is NAN (not measured). */
typedef mixem_dataset *(*mixem_batch_func) (void *user, GError **error);
typedef gboolean (*mixem_rewind_func) (void *user, GError **error);
mixem_model *mixem_fit_stream (const mixem_family *family, mixem_batch_func next,
                               mixem_rewind_func rewind, void *user,
                               const mixem_fit_options *opts, GError **error);

/* A model from given parameters (for loading files and for tests): WEIGHTS (K, summing to 1)
 * and COMPONENTS (array of K a{sv}) in the form family->describe gives. */
mixem_model *mixem_model_new (const mixem_family *family, size_t k, size_t d,
                              const char *const *names, const mixem_options *options,
                              const double *weights, GVariant *components, GError **error);

mixem_model *mixem_model_copy (const mixem_model *m);
void mixem_model_free (mixem_model *m);   /* accepts NULL */

const mixem_family *mixem_model_family (const mixem_model *m);
const mixem_params *mixem_model_params (const mixem_model *m);
size_t mixem_model_k (const mixem_model *m);
size_t mixem_model_d (const mixem_model *m);
const double *mixem_model_weights (const mixem_model *m);
const mixem_options *mixem_model_options (const mixem_model *m);
const char *const *mixem_model_names (const mixem_model *m);
GVariant *mixem_model_component (const mixem_model *m, size_t k);   /* floating a{sv} */
double mixem_model_loglik (const mixem_model *m);   /* l(theta) on the fitted data (weighted) */
double mixem_model_initial_loglik (const mixem_model *m);   /* l(theta_0) of the kept restart */
int mixem_model_n_iter (const mixem_model *m);
mixem_algorithm mixem_model_algorithm (const mixem_model *m);   /* the algorithm that fit it */
gboolean mixem_model_converged (const mixem_model *m);
int mixem_model_best_restart (const mixem_model *m);
/* Restarts that failed numerically (a degenerate component, a row nothing explains) and were
 * skipped; the fit fails only when all do. */
int mixem_model_n_failed_restarts (const mixem_model *m);
/* What the fit warns of (*N lines): each failed restart and why, and a fit that stopped at
 * max_iter without meeting its rule (scikit-learn's ConvergenceWarning).  Owned by M. */
const char *const *mixem_model_warnings (const mixem_model *m, size_t *n);
/* The records of the kept restart, one per iteration. */
const mixem_iteration *mixem_model_trace (const mixem_model *m, size_t *n);
/* The noise component (mixem_fit_options.noise): TRUE and its weight and log V if M has one. */
gboolean mixem_model_noise (const mixem_model *m, double *weight, double *log_volume);
/* Concomitant variables: Q (0 for a model without), their names (*NAMES, Q, NULL-terminated)
 * and the coefficients (*GAMMA, K * (Q + 1): component k's intercept, then its slopes; the
 * first component's all 0).  NAMES and GAMMA may be NULL; owned by M. */
size_t mixem_model_concomitant (const mixem_model *m, const char *const **names,
                                const double **gamma);
/* Gives M (made by mixem_model_new, without noise) the concomitant variables NAMES (Q) and
 * coefficients GAMMA (K * (Q + 1), the first component's 0), as a model file holds them. */
gboolean mixem_model_set_concomitant (mixem_model *m, const char *const *names, size_t q,
                                      const double *gamma, GError **error);
/* The prior pi_k(z_i) of each row of DATA (N * K into OUT): from the concomitant variables,
 * found in DATA by name, for a model with them; the weights for any other. */
gboolean mixem_model_priors (const mixem_model *m, const mixem_dataset *data, double *out,
                             GError **error);
/* Free parameters: the family's plus K - 1 weights (K with noise; none if the weights were
 * fixed), and with noise 1 more for V, as mclust's nMclustParams counts it. */
size_t mixem_model_n_params (const mixem_model *m);

/* A readable summary: family, k, columns, log-likelihood, BIC (when DATA is given), iterations,
 * convergence, then each component's weight and parameters.  Free with g_free. */
char *mixem_model_summary (const mixem_model *m, const mixem_dataset *data);

/* Per-row results on DATA (its columns must match the model's).  OUT has N*K (proba) or N
 * (score_samples, predict) entries.  Row weights of DATA are ignored here.  With a noise
 * component, proba has N*(K+1) (the noise's last) and predict gives K for the noise. */
gboolean mixem_model_predict_proba (const mixem_model *m, const mixem_dataset *data, double *out,
                                    GError **error);
gboolean mixem_model_predict (const mixem_model *m, const mixem_dataset *data, size_t *out,
                              GError **error);
/* Regression families (linreg, poisreg, logitreg, gammareg) only.  fitted_means: each
 * component's mean response at every row, OUT[i K + k] (eta = offset + x_i' b_k; the mean eta,
 * exp(eta) (poisreg, gammareg) or trials / (1 + exp(-eta))); DATA's columns are found by name.  predict_response: OUT[i], the mean under row i's most probable
 * component (mixem_model_predict: given the row's response and covariates), that component in
 * LABELS[i] unless LABELS is NULL. */
gboolean mixem_model_fitted_means (const mixem_model *m, const mixem_dataset *data, double *out,
                                   GError **error);
gboolean mixem_model_predict_response (const mixem_model *m, const mixem_dataset *data,
                                       double *out, size_t *labels, GError **error);
/* For rows that need not have the response (new covariates): MEANS[i K + k] as fitted_means, and
 * MIX[i] (unless NULL) = sum_k w_k MEANS[i K + k], the mixture's mean response at the row's
 * covariates under the prior weights w (renormalised over the K components).  DATA's columns are
 * found by name and only the covariates (and offset, trials column) are needed. */
gboolean mixem_model_mean_response (const mixem_model *m, const mixem_dataset *data,
                                    double *means, double *mix, GError **error);
/* Draws a response for each row of DATA at its covariates (and offset, trials), with GSL's
 * mt19937 seeded by SEED, row after row: a component k from the weights (renormalised over the K
 * components), then y from component k given the row: Gaussian (mean x'b_k, sd sigma_k),
 * Poisson (exp(offset + x'b_k)), binomial (the row's trials, 1 / (1 + exp(-x'b_k))) or gamma
 * (shape a_k, mean exp(x'b_k)).  OUT has N
 * entries, LABELS (may be NULL) each row's component.  DATA's columns are found by name and the
 * response is not needed; a model of another family is an error. */
gboolean mixem_model_sample_response (const mixem_model *m, const mixem_dataset *data,
                                      unsigned long seed, double *out, size_t *labels,
                                      GError **error);
gboolean mixem_model_score_samples (const mixem_model *m, const mixem_dataset *data,
                                    double *out, GError **error);
/* sum_i w_i log p(x_i | theta) on DATA, weights included; NAN with ERROR set on failure. */
double mixem_model_total_loglik (const mixem_model *m, const mixem_dataset *data, GError **error);
/* scikit-learn's sign: lower is better.  -2 l + p log(sum w) and -2 l + 2 p. */
double mixem_model_bic (const mixem_model *m, const mixem_dataset *data, GError **error);
double mixem_model_aic (const mixem_model *m, const mixem_dataset *data, GError **error);
/* ICL: BIC + 2 H(q), H the entropy of the responsibilities on DATA (lower is better; mclust's
 * ICL has the opposite sign). */
double mixem_model_icl (const mixem_model *m, const mixem_dataset *data, GError **error);

/* ---- model selection ---- */

typedef enum { MIXEM_BIC, MIXEM_AIC, MIXEM_ICL, MIXEM_HELDOUT } mixem_criterion;

/* One candidate of a selection: its K and family options, and its scores.  bic, aic and icl
 * (lower is better) and loglik are of the fit to all the data; heldout (higher is better) is the
 * mean log-likelihood per row of rows left out of the fit (NAN when no folds were asked for).
 * A candidate whose fit failed (every restart failed, or its held-out fits did) keeps its K and
 * options, has NAN scores and says why in FAILURE (NULL for one that worked). */
typedef struct {
  size_t k;
  mixem_options *options;
  double loglik, bic, aic, icl, heldout;
  size_t n_params;
  char *failure;
} mixem_candidate;

typedef struct {
  const size_t *ks;                       /* the K values to try */
  size_t n_ks;
  const mixem_options *const *option_sets;   /* family option sets to try (NULL: one, empty) */
  size_t n_sets;
  mixem_criterion criterion;              /* MIXEM_BIC */
  int folds;                              /* k-fold held-out scores when >= 2 */
  double validation;                      /* else, with 0 < validation < 1: one seeded split */
  const mixem_fit_options *fit;           /* the rest (n_init, seed, ...); k and options unused;
                                           * the callback sees every fit, folds included */
  /* Under MPI (mixem/parallel.h, initialised, more than one rank) with every rank holding all
   * the data (not a part): candidate i is fitted by rank i mod P, the scores are shared, and
   * every rank refits the chosen one; the same table and model as one process (collective). */
  gboolean spread_ranks;
} mixem_select_options;

/* Fits every K and option set, scores them, and returns the candidates (free with
 * mixem_candidates_free) and, in *BEST, the chosen model (fit to all the data).  A candidate
 * whose fit fails on its data (MIXEM_ERROR_NUMERIC, MIXEM_ERROR_DATA) is kept with its reason
 * and the others go on; the selection fails when every candidate fails (with each reason), or at
 * once on a bad option or an I/O or plugin error, which no other candidate would escape. */
GArray *mixem_select (const mixem_family *family, const mixem_dataset *data,
                      const mixem_select_options *opts, mixem_model **best, size_t *best_index,
                      GError **error);
void mixem_candidates_free (GArray *candidates);
/* The indices of the (at most) N best candidates by CRITERION, best first, failed ones left out
 * (ties in table order); returns how many were written to TOP.  mclust's summary(BIC) names
 * three. */
size_t mixem_candidates_top (const GArray *candidates, mixem_criterion criterion, size_t *top,
                             size_t n);
/* mclust's 14 Gaussian covariance models, comma-separated: what covariance = "all" means to
 * select. */
#define MIXEM_GAUSSIAN_MODELS "EII,VII,EEI,VEI,EVI,VVI,EEE,VEE,EVE,VVE,EEV,VEV,EVV,VVV"
/* ... and with prior = "default" (the ten mclust has the prior for). */
#define MIXEM_GAUSSIAN_PRIOR_MODELS "EII,VII,EEI,VEI,EVI,VVI,EEE,EEV,VEV,VVV"
const char *mixem_criterion_name (mixem_criterion c);
gboolean mixem_criterion_parse (const char *name, mixem_criterion *out);

/* Missing values: DATA's rows with every missing cell filled in.  DRAWS = 0: OUT (N*D) gets the
 * conditional expectation under the mixture, sum_k P(k | observed) E[x_j | observed, k]
 * (family->impute_mean).  DRAWS = M > 0: OUT (M*N*D) gets M completed copies, each missing cell
 * drawn from the conditional (a component from the row's posterior, then family->impute_draw,
 * or a whole row from sample() for families with independent columns), by GSL's mt19937 seeded
 * by SEED, row after row: the same for any thread count.  Observed cells are copied.  A family
 * that cannot impute (no impute_mean; no impute_draw nor sample) is an error naming it. */
gboolean mixem_model_impute (const mixem_model *m, const mixem_dataset *data, size_t draws,
                             unsigned long seed, double *out, GError **error);

/* Draws N rows with GSL's mt19937 seeded by SEED: OUT is N*D, LABELS (may be NULL) gets each
 * row's component.  A family without a sampler is an error. */
gboolean mixem_model_sample (const mixem_model *m, size_t n, unsigned long seed, double *out,
                             size_t *labels, GError **error);

/* The same draws in pieces, for callers that cannot hold N rows at once: the rows of successive
 * mixem_sampler_draw calls are those of one mixem_model_sample call with the same seed, bit for
 * bit.  NULL with an error for a family without a sampler.  The model must outlive the sampler. */
typedef struct mixem_sampler mixem_sampler;
mixem_sampler *mixem_sampler_new (const mixem_model *m, unsigned long seed, GError **error);
/* FALSE with ERROR when the family's sample failed (a Lua callback that raised). */
gboolean mixem_sampler_draw (mixem_sampler *s, size_t n, double *out, size_t *labels,
                             GError **error);
void mixem_sampler_free (mixem_sampler *s);

G_END_DECLS

#endif
