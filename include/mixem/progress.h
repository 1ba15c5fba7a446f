/* mixem/progress.h: progress of long fits on a terminal.  A live line (restart i/n, iteration,
 * log-likelihood, its change per row, iterations per second) appears once a fit has run for DELAY seconds and
 * is redrawn at most ten times a second; or, verbose, a line per restart and per VERBOSE_INTERVAL
 * iterations, as scikit-learn's verbose and verbose_interval print. */
#ifndef MIXEM_PROGRESS_H
#define MIXEM_PROGRESS_H

#include <stdio.h>
#include <mixem/fit.h>

G_BEGIN_DECLS

typedef struct mixem_progress mixem_progress;

/* Reports to TO.  LIVE: the live line (callers pass isatty (fileno (TO)) and not quiet).
 * VERBOSE: 0 none, 1 a line as each restart begins, 2 also a line every INTERVAL iterations
 * (INTERVAL < 1 means 10).  N_INIT: restarts, for "restart i/n".  NEXT (may be NULL) is called
 * after, with NEXT_DATA, and its answer is passed on: progress never stops a fit by itself. */
mixem_progress *mixem_progress_new (FILE *to, gboolean live, double delay, int verbose,
                                    int interval, int n_init, mixem_iter_func next,
                                    void *next_data);

/* The mixem_iter_func to give mixem_fit_options.callback, with the progress as user_data. */
gboolean mixem_progress_callback (const mixem_iteration *it, const mixem_params *params,
                                  const double *weights, void *progress);

/* Clears the live line, if one is shown, and frees.  Accepts NULL. */
void mixem_progress_free (mixem_progress *p);

G_END_DECLS

#endif
