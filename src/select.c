/* select.c: model selection over K and family options by BIC, AIC, ICL or held-out
 * log-likelihood (k-fold, or one seeded train/validation split), for every family. */
#include <config.h>
#include <math.h>
#include <string.h>
#include <gsl/gsl_randist.h>
#include "comm.h"
#include "engine.h"

static const char *const names[] = { "bic", "aic", "icl", "heldout" };

const char *
mixem_criterion_name (mixem_criterion c)
{
  return names[c];
}

gboolean
mixem_criterion_parse (const char *name, mixem_criterion *out)
{
  for (int i = 0; i < 4; i++)
    if (g_ascii_strcasecmp (name, names[i]) == 0) {
      *out = (mixem_criterion) i;
      return TRUE;
    }
  return FALSE;
}

void
mixem_candidates_free (GArray *candidates)
{
  if (!candidates)
    return;
  for (guint i = 0; i < candidates->len; i++) {
    mixem_options_free (g_array_index (candidates, mixem_candidate, i).options);
    g_free (g_array_index (candidates, mixem_candidate, i).failure);
  }
  g_array_free (candidates, TRUE);
}

/* Mean held-out log-likelihood per row: fit on each training part, score its left-out part.
 * FOLD[i] is row i's part (0..parts-1); with a single split only part 0 is left out. */
static double
heldout (const mixem_family *f, const mixem_dataset *data, const mixem_fit_options *o,
         const size_t *fold, int parts, gboolean single, GError **error)
{
  const size_t n = mixem_dataset_rows (data);
  size_t *train = g_new (size_t, n), *test = g_new (size_t, n);
  double ll = 0.0, w = 0.0;
  gboolean ok = TRUE;
  for (int p = 0; p < (single ? 1 : parts) && ok; p++) {
    size_t ntr = 0, nte = 0;
    for (size_t i = 0; i < n; i++) {
      if (fold[i] == (size_t) p)
        test[nte++] = i;
      else
        train[ntr++] = i;
    }
    mixem_dataset *tr = mixem_dataset_subset (data, train, ntr, error);
    mixem_dataset *te = tr ? mixem_dataset_subset (data, test, nte, error) : NULL;
    /* Concomitant variables: their rows split alike. */
    mixem_dataset *ztr = NULL, *zte = NULL;
    mixem_fit_options oz = *o;
    if (te && o->concomitant) {
      ztr = mixem_dataset_subset (o->concomitant, train, ntr, error);
      zte = ztr ? mixem_dataset_subset (o->concomitant, test, nte, error) : NULL;
      oz.concomitant = ztr;
    }
    mixem_model *m = te && (!o->concomitant || zte) ? mixem_fit (f, tr, &oz, error) : NULL;
    if (m) {
      double s = NAN;
      if (zte && !mixem_model_score_z (m, te, zte, &s, NULL, error))
        s = NAN;
      else if (!zte)
        s = mixem_model_total_loglik (m, te, error);
      ok = isfinite (s);
      ll += s;
      w += mixem_dataset_total_weight (te);
    } else
      ok = FALSE;
    if (!ok && error && *error)
      g_prefix_error (error, "held-out part %d: ", p + 1);
    mixem_model_free (m);
    mixem_dataset_free (tr);
    mixem_dataset_free (te);
    mixem_dataset_free (ztr);
    mixem_dataset_free (zte);
  }
  g_free (train);
  g_free (test);
  return ok ? ll / w : NAN;
}

static double
score_of (const mixem_candidate *c, mixem_criterion crit)
{
  switch (crit) {
  case MIXEM_BIC: return c->bic;
  case MIXEM_AIC: return c->aic;
  case MIXEM_ICL: return c->icl;
  default: return -c->heldout;   /* higher held-out likelihood is better */
  }
}

GArray *
mixem_select (const mixem_family *f, const mixem_dataset *data, const mixem_select_options *so,
              mixem_model **best, size_t *best_index, GError **error)
{
  const gboolean split = so->folds < 2 && so->validation > 0;
  if (so->n_ks == 0 || (so->criterion == MIXEM_HELDOUT && so->folds < 2 && !split)
      || (split && !(so->validation < 1)) || so->folds < 0) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 so->n_ks == 0 ? "select: no K to try"
                 : "select: held-out scores need 'folds' >= 2 or 0 < 'validation' < 1");
    return NULL;
  }
  const size_t n = mixem_dataset_rows (data);
  const int parts = split ? 2 : so->folds;
  size_t *fold = NULL;
  if (parts >= 2) {
    /* A seeded shuffle, then rows dealt into parts: the same parts for every candidate. */
    size_t *perm = g_new (size_t, n);
    fold = g_new (size_t, n);
    for (size_t i = 0; i < n; i++)
      perm[i] = i;
    gsl_rng *rng = gsl_rng_alloc (gsl_rng_mt19937);
    gsl_rng_set (rng, so->fit->seed);
    gsl_ran_shuffle (rng, perm, n, sizeof (size_t));
    gsl_rng_free (rng);
    const size_t nval = split ? (size_t) ceil (so->validation * (double) n) : 0;
    for (size_t r = 0; r < n; r++)
      fold[perm[r]] = split ? (r < nval ? 0 : 1) : r % (size_t) parts;
    g_free (perm);
  }
  GArray *cands = g_array_new (FALSE, TRUE, sizeof (mixem_candidate));
  const size_t nsets = so->option_sets ? so->n_sets : 1;
  mixem_model *chosen = NULL;
  double chosen_score = INFINITY;
  gboolean ok = TRUE;
  /* Spread over the ranks: candidate i is rank i mod P's; the others are filled in below. */
  const int nranks = mixem_parallel_size (), me = mixem_parallel_rank ();
  const gboolean spread = so->spread_ranks && nranks > 1 && !mixem_dataset_is_part (data);
  GError *spread_err = NULL;     /* this rank's fatal error, at candidate spread_at */
  size_t spread_at = G_MAXSIZE, idx = 0;
  for (size_t s = 0; s < nsets && ok; s++)
    for (size_t ki = 0; ki < so->n_ks && ok; ki++) {
      const size_t i = idx++;
      mixem_fit_options o = *so->fit;
      o.k = so->ks[ki];
      o.family_options = so->option_sets ? so->option_sets[s] : NULL;
      o.warm_start = NULL;
      mixem_candidate c = { .k = o.k, .options = mixem_options_copy (o.family_options),
                            .loglik = NAN, .bic = NAN, .aic = NAN, .icl = NAN, .heldout = NAN };
      if (spread && ((int) (i % (size_t) nranks) != me || spread_err)) {
        g_array_append_val (cands, c);   /* another rank's (or past this rank's fatal error) */
        continue;
      }
      GError *err = NULL;
      mixem_model *m = mixem_fit (f, data, &o, &err);
      gboolean good = m != NULL;
      if (good) {
        c.loglik = mixem_model_loglik (m);
        c.n_params = mixem_model_n_params (m);
        if (o.concomitant) {   /* the scores of mixem_model_bic, aic and icl, with Z apart */
          double ll = NAN, h = NAN;
          const double p = (double) c.n_params, nw = mixem_dataset_observed_weight (data);
          if (mixem_model_score_z (m, data, o.concomitant, &ll, &h, &err)) {
            c.bic = -2.0 * ll + p * log (nw);
            c.aic = -2.0 * ll + 2.0 * p;
            c.icl = c.bic + 2.0 * h;
          }
        } else {
          c.bic = mixem_model_bic (m, data, &err);
          c.aic = mixem_model_aic (m, data, &err);
          c.icl = mixem_model_icl (m, data, &err);
        }
        good = isfinite (c.icl);
      }
      if (good && fold) {
        c.heldout = heldout (f, data, &o, fold, parts, split, &err);
        good = isfinite (c.heldout);
      }
      if (!good) {
        /* A fit that fails on these data stays in the table with its reason; an error that
         * every candidate would meet (an option, a file, a module) stops the selection. */
        const gboolean fatal = !err || (err->code != MIXEM_ERROR_NUMERIC
                                        && err->code != MIXEM_ERROR_DATA);
        mixem_model_free (m);
        if (fatal) {
          char *what = g_strdup_printf ("select: k = %zu: ", c.k);
          if (err)
            g_prefix_error (&err, "%s", what);
          else
            err = g_error_new (MIXEM_ERROR, MIXEM_ERROR_NUMERIC, "%sthe fit failed", what);
          g_free (what);
          if (spread) {   /* shared in candidate order below */
            spread_err = err;
            spread_at = i;
            g_array_append_val (cands, c);
            continue;
          }
          g_propagate_error (error, err);
          mixem_options_free (c.options);
          ok = FALSE;
          break;
        }
        c.failure = g_strdup (err->message);
        c.loglik = c.bic = c.aic = c.icl = c.heldout = NAN;
        c.n_params = 0;
        g_clear_error (&err);
        g_array_append_val (cands, c);
        continue;
      }
      g_array_append_val (cands, c);
      if (spread) {   /* the chosen one is fitted again on every rank below */
        mixem_model_free (m);
        continue;
      }
      const double sc = score_of (&c, so->criterion);
      if (sc < chosen_score || !chosen) {
        chosen_score = sc;
        mixem_model_free (chosen);
        chosen = m;
        if (best_index)
          *best_index = cands->len - 1;
      } else
        mixem_model_free (m);
    }
  if (spread) {
    /* Each candidate's scores from its rank, in candidate order: the first fatal error (in that
     * order) stops the selection, as it would in one process. */
    for (guint i = 0; i < cands->len && ok; i++) {
      mixem_candidate *c = &g_array_index (cands, mixem_candidate, i);
      const int owner = (int) (i % (guint) nranks);
      double head[9] = { c->loglik, c->bic, c->aic, c->icl, c->heldout, (double) c->n_params,
                         c->failure ? (double) strlen (c->failure) + 1 : 0.0,
                         spread_at == i ? (double) strlen (spread_err->message) + 1 : 0.0,
                         spread_at == i ? (double) spread_err->code : 0.0 };
      mixem_comm_bcast (head, sizeof head, owner);
      if (head[7] > 0) {
        char *msg = g_malloc ((size_t) head[7]);
        if (me == owner)
          memcpy (msg, spread_err->message, (size_t) head[7]);
        mixem_comm_bcast (msg, (size_t) head[7], owner);
        g_set_error_literal (error, MIXEM_ERROR, (int) head[8], msg);
        g_free (msg);
        ok = FALSE;
        break;
      }
      c->loglik = head[0];
      c->bic = head[1];
      c->aic = head[2];
      c->icl = head[3];
      c->heldout = head[4];
      c->n_params = (size_t) head[5];
      if (head[6] > 0) {
        char *msg = g_malloc ((size_t) head[6]);
        if (me == owner)
          memcpy (msg, c->failure, (size_t) head[6]);
        mixem_comm_bcast (msg, (size_t) head[6], owner);
        g_free (c->failure);
        c->failure = msg;
      }
    }
    g_clear_error (&spread_err);
    /* The choice, as one process makes it, then the chosen candidate fitted on every rank. */
    size_t at = G_MAXSIZE;
    for (guint i = 0; i < cands->len && ok; i++) {
      const mixem_candidate *c = &g_array_index (cands, mixem_candidate, i);
      if (c->failure)
        continue;
      const double sc = score_of (c, so->criterion);
      if (sc < chosen_score || at == G_MAXSIZE) {
        chosen_score = sc;
        at = i;
      }
    }
    if (ok && at != G_MAXSIZE) {
      const mixem_candidate *c = &g_array_index (cands, mixem_candidate, at);
      mixem_fit_options o = *so->fit;
      o.k = c->k;
      o.family_options = so->option_sets ? so->option_sets[at / so->n_ks] : NULL;
      o.warm_start = NULL;
      o.callback = NULL;
      chosen = mixem_fit (f, data, &o, error);
      ok = chosen != NULL;
      if (best_index)
        *best_index = at;
    }
  }
  if (ok && !chosen) {
    /* Every candidate failed: the reasons, one per candidate. */
    GString *why = g_string_new ("select: every candidate failed");
    for (guint i = 0; i < cands->len; i++) {
      const mixem_candidate *c = &g_array_index (cands, mixem_candidate, i);
      g_string_append_printf (why, "%sk = %zu: %s", i ? "; " : ": ", c->k, c->failure);
    }
    g_set_error_literal (error, MIXEM_ERROR, MIXEM_ERROR_NUMERIC, why->str);
    g_string_free (why, TRUE);
    ok = FALSE;
  }
  g_free (fold);
  if (!ok) {
    mixem_candidates_free (cands);
    mixem_model_free (chosen);
    return NULL;
  }
  if (best)
    *best = chosen;
  else
    mixem_model_free (chosen);
  return cands;
}

size_t
mixem_candidates_top (const GArray *candidates, mixem_criterion criterion, size_t *top, size_t n)
{
  size_t m = 0;
  /* An insertion into the sorted first m: the table has few rows. */
  for (guint i = 0; candidates && i < candidates->len; i++) {
    const mixem_candidate *c = &g_array_index (candidates, mixem_candidate, i);
    const double sc = score_of (c, criterion);
    if (c->failure || !isfinite (sc))
      continue;
    size_t at = m;
    while (at > 0 && sc < score_of (&g_array_index (candidates, mixem_candidate, top[at - 1]),
                                    criterion))
      at--;
    if (at >= n)
      continue;
    for (size_t j = MIN (m, n - 1); j > at; j--)
      top[j] = top[j - 1];
    top[at] = i;
    m = MIN (m + 1, n);
  }
  return m;
}
