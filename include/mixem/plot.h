/* mixem/plot.h: pictures of fits, drawn with cairo.  The file's extension picks the format:
 * .png, .svg or .pdf.  Files are written to a temporary name and renamed, so a failed call never
 * leaves a partial picture.  Colours come from the Okabe-Ito palette, which readers with any
 * common colour-vision deficiency can tell apart. */
#ifndef MIXEM_PLOT_H
#define MIXEM_PLOT_H

#include <mixem/fit.h>

G_BEGIN_DECLS

/* Zero-initialise, then set what differs from the defaults. */
typedef struct {
  int width, height;      /* pixels for PNG, points for SVG and PDF (at least 200 by 150): 0 gives
                           * 800 by 600 */
  const char *title;      /* NULL: a title naming the plot and the model */
} mixem_plot_options;

/* Log-likelihood and ELBO against iteration, and KL(q || p(z|x, theta)) on a log scale below.
 * TRACE holds N records of one restart; LOGLIK0 is l(theta_0) (NAN if unknown).  The ELBO is
 * drawn as it moves: raised by each M-step to ELBO(q_{t-1}, theta_t), then lifted by the E-step
 * to touch l(theta_t). */
gboolean mixem_plot_trace (const char *path, const mixem_iteration *trace, size_t n,
                           double loglik0, const mixem_plot_options *opts, GError **error);

/* Several climbs side by side (algorithms, starts): M traces (TRACES[j], LENS[j] records each,
 * named LABELS[j], or "trace J" where LABELS or LABELS[j] is NULL), the log-likelihood against
 * the iteration above, and below, on a log scale, each one's gap to the best value of all of
 * them, relative to it. */
gboolean mixem_plot_traces (const char *path, const mixem_iteration *const *traces,
                            const size_t *lens, const char *const *labels, size_t m,
                            const mixem_plot_options *opts, GError **error);

/* A scatter of columns XCOL and YCOL (0-based) of DATA, each row coloured by its most likely
 * component, with each component's 1- and 2-sigma ellipses (its marginal in the two columns: a
 * Gaussian's "cov", a Student t's "scale") and mean, and a legend of the weights.  XCOL < 0: a
 * scatter-plot matrix of the first (up to 6) columns. */
gboolean mixem_plot_clusters (const char *path, const mixem_model *m, const mixem_dataset *data,
                              int xcol, int ycol, const mixem_plot_options *opts, GError **error);

/* Each component's mean parameter vector ("mu" of the Bernoulli family, "mean" of others) as a
 * ROWS by COLS grey image (darker is larger), titled with its weight. */
gboolean mixem_plot_prototypes (const char *path, const mixem_model *m, size_t rows, size_t cols,
                                const mixem_plot_options *opts, GError **error);

/* A categorical model's level probabilities as a heat map: a block per column (its name, then
 * its level names over the cells: the names the model keeps, else the codes 0, 1, ...), a row
 * per component within each block, labelled with its weight, each cell coloured from near white
 * (0) to dark blue (1) beside a colour bar and holding its value where it fits.  A product
 * model: the blocks of its categorical parts.  A model of another family is an error naming it. */
gboolean mixem_plot_levels (const char *path, const mixem_model *m, const mixem_plot_options *opts,
                            GError **error);

/* A histogram of success rates s/n of DATA, with the counts each binomial component (times its
 * weight) and the mixture predict for each bin overlaid. */
gboolean mixem_plot_binomial (const char *path, const mixem_model *m, const mixem_dataset *data,
                              const mixem_plot_options *opts, GError **error);

/* A histogram of DATA (a density: counts over N times the bin width) under each component's
 * weighted density w_k p(x | k) and the mixture's, for a model of one column of any family; the
 * densities come from the family's log_density, at the points its check_data accepts. */
gboolean mixem_plot_density (const char *path, const mixem_model *m, const mixem_dataset *data,
                             const mixem_plot_options *opts, GError **error);

/* A mixture of regressions (linreg, poisreg, logitreg): the response against the model's first
 * covariate, each row coloured by its most probable component, and each component's fitted
 * mean (eta; exp(offset + eta); trials / (1 + exp(-eta))) at the rows, joined in the order of
 * that covariate: a curve when the other covariates are functions of it (x, x^2). */
gboolean mixem_plot_regression (const char *path, const mixem_model *m, const mixem_dataset *data,
                                const mixem_plot_options *opts, GError **error);

/* CRITERION against K for N candidates, one line per set of family options, BEST marked. */
gboolean mixem_plot_select (const char *path, const mixem_candidate *cands, size_t n, size_t best,
                            mixem_criterion criterion, const mixem_plot_options *opts,
                            GError **error);

/* M series of points (X[s][i], Y[s][i]), i < LENS[s], each a line with a dot at each point, in
 * the palette's colours (dashed after the eighth), LABELS (may be NULL) in a legend; a point that
 * is not finite breaks its line.  For a script's own results (scripts/missing.lua: the adjusted
 * Rand index against the share of cells missing). */
gboolean mixem_plot_lines (const char *path, const double *const *x, const double *const *y,
                           const size_t *lens, const char *const *labels, size_t m,
                           const char *xlabel, const char *ylabel, const mixem_plot_options *opts,
                           GError **error);

G_END_DECLS

#endif
