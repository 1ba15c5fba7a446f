/* progress.c: the live progress line and the verbose lines of long fits (mixem/progress.h).
 * Only the caller's stream is written; the state lives in the mixem_progress object. */
#include <config.h>
#include <math.h>
#include <mixem/progress.h>

struct mixem_progress {
  FILE *to;
  gboolean live, shown;
  double delay;
  int verbose, interval, n_init, restart;
  gint64 start, last_draw, restart_start;
  mixem_iter_func next;
  void *next_data;
};

mixem_progress *
mixem_progress_new (FILE *to, gboolean live, double delay, int verbose, int interval, int n_init,
                    mixem_iter_func next, void *next_data)
{
  mixem_progress *p = g_new0 (mixem_progress, 1);
  p->to = to;
  p->live = live && verbose == 0;   /* verbose lines replace the live one */
  p->delay = delay;
  p->verbose = verbose;
  p->interval = interval >= 1 ? interval : 10;
  p->n_init = n_init >= 1 ? n_init : 1;
  p->start = p->restart_start = g_get_monotonic_time ();
  p->next = next;
  p->next_data = next_data;
  return p;
}

gboolean
mixem_progress_callback (const mixem_iteration *it, const mixem_params *params,
                         const double *weights, void *data)
{
  mixem_progress *p = data;
  const gint64 now = g_get_monotonic_time ();
  if (it->restart != p->restart) {
    p->restart = it->restart;
    p->restart_start = now - (gint64) (it->seconds * 1e6);
    if (p->verbose >= 1)
      fprintf (p->to, "restart %d/%d\n", it->restart, p->n_init);
  }
  const double change = it->delta;   /* per row, as the tolerance is */
  if (p->verbose >= 2 && it->iter % p->interval == 0)
    fprintf (p->to, "  iteration %d: log-likelihood %.10g, change %.3g, %.3g s\n", it->iter,
             it->loglik, change, it->seconds);
  if (p->live && (now - p->start) * 1e-6 >= p->delay && (now - p->last_draw) >= 100000) {
    const double secs = (double) (now - p->restart_start) * 1e-6;
    fprintf (p->to, "\r\033[Krestart %d/%d  iteration %d  log-likelihood %.10g  change %.3g  "
             "%.1f it/s", it->restart, p->n_init, it->iter, it->loglik, change,
             secs > 0 ? it->iter / secs : 0.0);
    fflush (p->to);
    p->shown = TRUE;
    p->last_draw = now;
  }
  return p->next ? p->next (it, params, weights, p->next_data) : TRUE;
}

void
mixem_progress_free (mixem_progress *p)
{
  if (!p)
    return;
  if (p->shown) {
    fputs ("\r\033[K", p->to);
    fflush (p->to);
  }
  g_free (p);
}
