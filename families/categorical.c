/* categorical.c: the categorical family, latent class analysis (poLCA, flexmix's FLXMCmvcombi,
 * mixmod's qualitative models).  Column j is a categorical variable with L_j levels, coded
 * 0 .. L_j - 1; component k has a probability pi_kjl for each level l of each column j, and
 * the columns are independent within a component:
 *
 *   log p(x | pi_k) = sum_j log pi_kj,x_j
 *
 * Statistics of component k under weighted responsibilities r_ik (1 + sum_j L_j doubles):
 *   R_k = sum_i r_ik,   N_kjl = sum_i r_ik [x_ij = l]
 * M-step: pi_kjl = N_kjl / R_k, the weighted share of level l in component k; a share below
 * eps (option, default 1e-10) is raised to eps and the column's probabilities divided by their
 * sum again, so that every log pi stays finite (a level that a component never holds would
 * otherwise give -inf, and a row with it could not be assigned there, nor a fitted model be
 * given back as a start).  No other change: with no share below eps this is the exact maximum.
 * Expected complete log-likelihood:  sum_k sum_j sum_l N_kjl log pi_kjl.
 * Free parameters: K sum_j (L_j - 1).
 *
 * Levels.  A column read from a CSV file as level names (mixem_csv_options.categorical or
 * text_levels; codes in sorted order of the names) keeps its names here: they are in describe()
 * ("levels": one object per column mapping each name to its code), in model files and Lua
 * tables, and rows of another dataset are matched to the fitted codes by name, so that a file
 * whose texts come in another order, or lack some levels, is read right.  A level never seen in
 * the fit is an error naming file, row, column and level (check_data): its probability is not
 * estimated, and a silent floor would put the row wherever eps puts it.  A column of whole
 * numbers is its own codes 0 .. L_j - 1, L_j being the option `levels` (one number for all
 * columns, or one per column separated by commas; a column of names has as many levels as names
 * whatever the option says) or else the largest code in the data plus 1;
 * a code out of range, negative or not whole is an error naming the cell.  Without data
 * (a model read from a file, or made from its parameters) the sizes come from the option or
 * from the first component assigned.
 *
 * Degenerate cases.  A level a component never holds: its probability is the floor eps (above).
 * A column with one level: pi = 1, log p = 0, no free parameter (it is kept, and carries no
 * information).  An empty component (R_k = 0): a MIXEM_ERROR_NUMERIC error naming it, which
 * the engine turns into a component kept at weight 0 (or re-seeded; strict_empty: an error).
 *
 * Starts: random_resp (random responsibilities, then the M-step: poLCA's random start of the
 * probabilities) is the default; the engine's centre-based starts treat codes as numbers. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <mixem/family.h>

struct mixem_params {
  size_t k, d;
  double eps;
  size_t *L;           /* d level counts; 0 until known (no data, no option, nothing assigned) */
  size_t *off;         /* d + 1 offsets of each column's levels in a component's block */
  size_t T;            /* off[d] = sum_j L_j */
  double *prob;        /* k * T */
  double *logp;        /* k * T: log prob */
  char ***names;       /* d level-name vectors (NULL: a column of codes) */
  char **colnames;     /* d + 1 column names: the keys of describe()'s "levels" */
  GHashTable **index;  /* d: name -> code + 1, for the columns with names */
};

static const mixem_option_info options[] = {
  { "eps", "level probabilities are kept >= eps (then renormalised), so that log pi stays finite",
    "1e-10", MIXEM_OPTION_NUMBER, "(0, 0.01]", NULL },
  { "levels", "levels of each column of whole-number codes: one count for all columns, or one "
    "per column separated by commas (default: the largest code in the data plus 1)", NULL,
    MIXEM_OPTION_TEXT, NULL, NULL },
  { 0 }
};

static const char *const init_methods[] = { "random_resp", "random", "kmeans", "kmeans++",
                                            NULL };

static void
set_names (mixem_params *p, size_t j, const char *const *names)
{
  g_strfreev (p->names[j]);
  if (p->index[j])
    g_hash_table_destroy (p->index[j]);
  p->names[j] = NULL;
  p->index[j] = NULL;
  if (!names)
    return;
  p->names[j] = g_strdupv ((char **) names);
  p->index[j] = g_hash_table_new (g_str_hash, g_str_equal);
  for (size_t l = 0; p->names[j][l]; l++)
    g_hash_table_insert (p->index[j], p->names[j][l], GSIZE_TO_POINTER (l + 1));
}

/* Fixes the level counts (all known) and makes the probabilities uniform. */
static void
set_sizes (mixem_params *p, const size_t *L)
{
  memcpy (p->L, L, p->d * sizeof (size_t));
  p->off[0] = 0;
  for (size_t j = 0; j < p->d; j++)
    p->off[j + 1] = p->off[j] + p->L[j];
  p->T = p->off[p->d];
  g_free (p->prob);
  g_free (p->logp);
  p->prob = g_new (double, p->k * p->T + 1);
  p->logp = g_new (double, p->k * p->T + 1);
  for (size_t k = 0; k < p->k; k++)
    for (size_t j = 0; j < p->d; j++)
      for (size_t l = 0; l < p->L[j]; l++) {
        p->prob[k * p->T + p->off[j] + l] = 1.0 / (double) p->L[j];
        p->logp[k * p->T + p->off[j] + l] = -log ((double) p->L[j]);
      }
}

static void
params_free (mixem_params *p)
{
  if (!p)
    return;
  for (size_t j = 0; j < p->d; j++) {
    g_strfreev (p->names[j]);
    if (p->index[j])
      g_hash_table_destroy (p->index[j]);
  }
  g_free (p->names);
  g_free (p->index);
  g_strfreev (p->colnames);
  g_free (p->L);
  g_free (p->off);
  g_free (p->prob);
  g_free (p->logp);
  g_free (p);
}

/* Parses the option `levels` into L (d counts); FALSE with an error if malformed. */
static gboolean
parse_levels (const char *text, size_t d, size_t *L, GError **error)
{
  char **parts = g_strsplit (text, ",", -1);
  const guint n = g_strv_length (parts);
  gboolean ok = n == 1 || n == d;
  for (guint i = 0; ok && i < n; i++) {
    char *end = NULL;
    const char *s = g_strstrip (parts[i]);
    guint64 v = g_ascii_strtoull (s, &end, 10);
    ok = *s && *end == '\0' && v >= 1 && v <= (1u << 24);
    for (size_t j = 0; ok && j < d; j++)
      if (n == 1 || j == i)
        L[j] = (size_t) v;
  }
  if (!ok)
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 "categorical: option levels must be one whole number from 1 to 2^24, or %zu "
                 "of them separated by commas (got '%s')", d, text);
  g_strfreev (parts);
  return ok;
}

static mixem_params *
params_new (const mixem_spec *spec, GError **error)
{
  mixem_params *p = g_new0 (mixem_params, 1);
  p->k = spec->k;
  p->d = spec->d;
  p->eps = mixem_options_get_number (spec->options, "eps", 1e-10);
  p->L = g_new0 (size_t, p->d);
  p->off = g_new0 (size_t, p->d + 1);
  p->names = g_new0 (char **, p->d);
  p->index = g_new0 (GHashTable *, p->d);
  p->colnames = g_new0 (char *, p->d + 1);
  for (size_t j = 0; j < p->d; j++)
    p->colnames[j] = spec->names ? g_strdup (spec->names[j]) : g_strdup_printf ("%zu", j + 1);
  size_t *L = g_new0 (size_t, p->d);
  const char *given = mixem_options_get (spec->options, "levels");
  if (given && !parse_levels (given, p->d, L, error)) {
    g_free (L);
    params_free (p);
    return NULL;
  }
  gboolean known = given != NULL;
  if (spec->data && mixem_dataset_cols (spec->data) == p->d) {
    const mixem_dataset *ds = spec->data;
    const size_t n = mixem_dataset_rows (ds);
    /* The largest code of each column (of all ranks' rows on a part); values that are no codes
     * are check_data's to report. */
    double *top = g_new0 (double, p->d);
    for (size_t j = 0; j < p->d && !given; j++)
      for (size_t i = 0; i < n; i++) {
        const double v = mixem_dataset_value (ds, i, j);
        if (v == floor (v) && v >= 0.0 && v < 16777216.0 && v > top[j])
          top[j] = v;
      }
    if (!given)
      mixem_dataset_max_over_ranks (ds, top, p->d);
    for (size_t j = 0; j < p->d; j++) {
      const char *const *names = mixem_dataset_levels (ds, j);
      if (names) {
        set_names (p, j, names);
        L[j] = mixem_dataset_n_levels (ds, j);
      } else if (!given)
        L[j] = (size_t) top[j] + 1;
    }
    g_free (top);
    known = TRUE;
  }
  if (known)
    set_sizes (p, L);
  g_free (L);
  return p;
}

static mixem_params *
params_copy (const mixem_params *p)
{
  mixem_params *c = g_memdup2 (p, sizeof *p);
  c->L = g_memdup2 (p->L, p->d * sizeof (size_t));
  c->off = g_memdup2 (p->off, (p->d + 1) * sizeof (size_t));
  c->prob = p->prob ? g_memdup2 (p->prob, (p->k * p->T + 1) * sizeof (double)) : NULL;
  c->logp = p->logp ? g_memdup2 (p->logp, (p->k * p->T + 1) * sizeof (double)) : NULL;
  c->names = g_new0 (char **, p->d);
  c->index = g_new0 (GHashTable *, p->d);
  c->colnames = g_strdupv (p->colnames);
  for (size_t j = 0; j < p->d; j++)
    set_names (c, j, (const char *const *) p->names[j]);
  return c;
}

/* For a block whose column j has level names in its dataset and in P: MAP[j][1 + c] is the
 * fitted code of the dataset's code c (SIZE_MAX: a level unseen in the fit), MAP[j][0] the
 * number of the dataset's levels.  MAP[j] is NULL where codes are taken as they are.  Free with
 * free_maps. */
static size_t **
block_maps (const mixem_params *p, const mixem_block *b)
{
  size_t **map = NULL;
  for (size_t j = 0; b->ds && j < p->d; j++) {
    const char *const *dn = mixem_dataset_levels (b->ds, mixem_block_column (b, j));
    if (!dn || !p->names[j])
      continue;
    if (!map)
      map = g_new0 (size_t *, p->d);
    const size_t n = g_strv_length ((char **) dn);
    map[j] = g_new (size_t, n + 1);
    map[j][0] = n;
    for (size_t c = 0; c < n; c++) {
      const size_t at = GPOINTER_TO_SIZE (g_hash_table_lookup (p->index[j], dn[c]));
      map[j][1 + c] = at ? at - 1 : SIZE_MAX;
    }
  }
  return map;
}

static void
free_maps (const mixem_params *p, size_t **map)
{
  for (size_t j = 0; map && j < p->d; j++)
    g_free (map[j]);
  g_free (map);
}

/* The fitted code of cell (i, j) (SIZE_MAX if it is none: check_data has refused it). */
static inline size_t
code_of (const mixem_params *p, const mixem_block *b, size_t **map, size_t i, size_t j)
{
  const double v = b->x[i * b->d + j];
  if (!(v >= 0.0) || v != floor (v) || v >= 16777216.0)
    return SIZE_MAX;
  const size_t c = (size_t) v;
  if (map && map[j])
    return c < map[j][0] ? map[j][1 + c] : SIZE_MAX;
  return c < p->L[j] ? c : SIZE_MAX;
}

static gboolean
check_data (const mixem_params *p, const mixem_block *b, GError **error)
{
  if (p->d && !p->L[0]) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 "categorical: the number of levels of each column is unknown (give the option "
                 "levels, or the components)");
    return FALSE;
  }
  size_t **map = block_maps (p, b);
  gboolean ok = TRUE;
  for (size_t j = 0; ok && j < p->d; j++) {
    const gboolean named = map && map[j];
    if (!p->names[j] && b->ds && mixem_dataset_levels (b->ds, mixem_block_column (b, j))) {
      /* Names against codes: the dataset's codes follow its own names' order, not the fit's. */
      mixem_set_cell_error (error, b, 0, j, "the column holds level names, but the model was "
                            "fitted on whole-number codes");
      ok = FALSE;
    }
    for (size_t i = 0; ok && i < b->n; i++) {
      if (code_of (p, b, map, i, j) != SIZE_MAX || (b->missing && b->missing[i * b->d + j]))
        continue;
      const double v = b->x[i * b->d + j];
      if (named && v >= 0.0 && v == floor (v)) {
        const char *lev = mixem_dataset_levels (b->ds, mixem_block_column (b, j))[(size_t) v];
        mixem_set_cell_error (error, b, i, j, "level '%s' was not seen in the fit (the model "
                              "knows %u levels of this column)", lev,
                              g_strv_length (p->names[j]));
      } else
        mixem_set_cell_error (error, b, i, j, "categorical codes must be whole numbers from 0 "
                              "to %zu (got %g)", p->L[j] - 1, v);
      ok = FALSE;
    }
  }
  free_maps (p, map);
  return ok;
}

static void
log_density (const mixem_params *p, const mixem_block *b, double *out)
{
  const size_t K = p->k, T = p->T;
  size_t **map = block_maps (p, b);
  size_t *at = g_new (size_t, p->d + 1);
  for (size_t i = 0; i < b->n; i++) {
    gboolean bad = FALSE;
    const unsigned char *mi = b->missing ? b->missing + i * b->d : NULL;
    for (size_t j = 0; j < p->d; j++) {
      const size_t c = code_of (p, b, map, i, j);
      bad = bad || (c == SIZE_MAX && !(mi && mi[j]));
      at[j] = p->off[j] + (c == SIZE_MAX ? 0 : c);
    }
    for (size_t k = 0; k < K; k++) {
      const double *lp = p->logp + k * T;
      double s = 0.0;
      for (size_t j = 0; j < p->d; j++)
        if (!(mi && mi[j]))   /* a missing cell drops out */
          s += lp[at[j]];
      /* Unreachable after check_data; -inf makes the engine report the row, never a NaN. */
      out[i * K + k] = bad ? -INFINITY : s;
    }
  }
  g_free (at);
  free_maps (p, map);
}

static size_t
stats_size (const mixem_params *p)
{
  return p->k * (1 + p->T) + p->k * p->d;
}

/* Layout per component k, at (1 + T) k: R_k, then N_kjl at 1 + off[j] + l; then M (k*d), the
 * mass of the missing cells: column j's mass is R_k - M_kj (R_k when nothing is missing). */
static void
accumulate (const mixem_params *p, const mixem_block *b, const double *r, double *stats)
{
  const size_t K = p->k, T = p->T;
  size_t **map = block_maps (p, b);
  size_t *at = g_new (size_t, p->d + 1);
  for (size_t i = 0; i < b->n; i++) {
    for (size_t j = 0; j < p->d; j++) {
      const size_t c = code_of (p, b, map, i, j);
      at[j] = c == SIZE_MAX ? SIZE_MAX : 1 + p->off[j] + c;
    }
    const unsigned char *mi = b->missing ? b->missing + i * b->d : NULL;
    for (size_t k = 0; k < K; k++) {
      const double rik = r[i * K + k];
      double *st = stats + k * (1 + T);
      st[0] += rik;
      for (size_t j = 0; j < p->d; j++)
        if (at[j] != SIZE_MAX)
          st[at[j]] += rik;
        else if (mi && mi[j])
          stats[K * (1 + T) + k * p->d + j] += rik;
    }
  }
  g_free (at);
  free_maps (p, map);
}

/* Column j of component k from its shares Q (L_j values summing to 1): floored, renormalised. */
static void
set_column (mixem_params *p, size_t k, size_t j, const double *q, gboolean floor_all)
{
  double *pr = p->prob + k * p->T + p->off[j], *lp = p->logp + k * p->T + p->off[j];
  double s = 0.0;
  gboolean raised = FALSE;
  for (size_t l = 0; l < p->L[j]; l++) {
    const gboolean low = floor_all ? q[l] < p->eps : q[l] <= 0.0;
    pr[l] = low ? p->eps : q[l];
    raised = raised || low;
    s += pr[l];
  }
  for (size_t l = 0; l < p->L[j]; l++) {
    if (raised)
      pr[l] /= s;
    lp[l] = log (pr[l]);
  }
}

static gboolean
maximise (mixem_params *p, const double *stats, const gboolean *fixed, GError **error)
{
  const size_t T = p->T;
  double *q = g_new (double, T + 1);
  for (size_t k = 0; k < p->k; k++) {
    const double *st = stats + k * (1 + T);
    if (fixed && fixed[k])
      continue;
    if (!(st[0] > 0.0)) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_NUMERIC,
                   "categorical: component %zu is empty (weight %g)", k + 1, st[0]);
      g_free (q);
      return FALSE;
    }
    const double *M = stats + p->k * (1 + T) + k * p->d;
    for (size_t j = 0; j < p->d; j++) {
      const double R = M[j] != 0.0 ? st[0] - M[j] : st[0];
      if (!(R > 0.0))
        continue;   /* no observed cell of column j in this component: kept */
      for (size_t t = p->off[j]; t < p->off[j + 1]; t++)
        q[t] = st[1 + t] / R;
      set_column (p, k, j, q + p->off[j], TRUE);
    }
  }
  g_free (q);
  return TRUE;
}

static double
expected_loglik (const mixem_params *p, const double *stats)
{
  const size_t T = p->T;
  double e = 0.0;
  for (size_t k = 0; k < p->k; k++)
    for (size_t t = 0; t < T; t++)
      e += stats[k * (1 + T) + 1 + t] * p->logp[k * T + t];
  return e;
}

static size_t
n_free_params (const mixem_params *p)
{
  return p->k * (p->T - p->d);
}

static void
sample (const mixem_params *p, size_t k, gsl_rng *rng, double *x)
{
  for (size_t j = 0; j < p->d; j++) {
    const double *pr = p->prob + k * p->T + p->off[j];
    const double u = gsl_rng_uniform (rng);
    double c = 0.0;
    size_t l = 0;
    for (; l + 1 < p->L[j]; l++) {
      c += pr[l];
      if (u < c)
        break;
    }
    x[j] = (double) l;
  }
}

static GVariant *
describe (const mixem_params *p, size_t k)
{
  GVariantDict d;
  g_variant_dict_init (&d, NULL);
  GVariantBuilder rows;
  g_variant_builder_init (&rows, G_VARIANT_TYPE ("aad"));
  for (size_t j = 0; j < p->d; j++)
    g_variant_builder_add_value (&rows, mixem_variant_vector (p->prob + k * p->T + p->off[j],
                                                              p->L[j]));
  g_variant_dict_insert_value (&d, "prob", g_variant_builder_end (&rows));
  gboolean any = FALSE;
  for (size_t j = 0; j < p->d; j++)
    any = any || p->names[j];
  if (any) {
    GVariantDict lv;
    g_variant_dict_init (&lv, NULL);
    for (size_t j = 0; j < p->d; j++) {
      if (!p->names[j])
        continue;
      GVariantDict c;
      g_variant_dict_init (&c, NULL);
      for (size_t l = 0; p->names[j][l]; l++)
        g_variant_dict_insert_value (&c, p->names[j][l], g_variant_new_double ((double) l));
      g_variant_dict_insert_value (&lv, p->colnames[j], g_variant_dict_end (&c));
    }
    g_variant_dict_insert_value (&d, "levels", g_variant_dict_end (&lv));
  }
  return g_variant_dict_end (&d);
}

static GVariant *
lookup_unboxed (GVariant *dict, const char *key)
{
  GVariant *v = g_variant_lookup_value (dict, key, NULL);
  if (v && g_variant_is_of_type (v, G_VARIANT_TYPE_VARIANT)) {
    GVariant *inner = g_variant_get_variant (v);
    g_variant_unref (v);
    v = inner;
  }
  return v;
}

/* Reads DICT["levels"] (an object keyed by column name, for the columns with names, each
 * mapping a level's name to its code) into NAMES (d vectors, NULL for a column without names),
 * checking that the codes are 0 .. L_j - 1 once each. */
static gboolean
read_names (const mixem_params *p, GVariant *lv, const size_t *L, char ***names, GError **error)
{
  if (!g_variant_is_of_type (lv, G_VARIANT_TYPE_VARDICT)) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT, "categorical: 'levels' must be an "
                 "object keyed by column name, each mapping a level's name to its code");
    return FALSE;
  }
  GVariantIter cols;
  const char *col;
  GVariant *c;
  g_variant_iter_init (&cols, lv);
  while (g_variant_iter_next (&cols, "{&sv}", &col, &c)) {
    size_t j = 0;
    while (j < p->d && strcmp (p->colnames[j], col) != 0)
      j++;
    if (g_variant_is_of_type (c, G_VARIANT_TYPE_VARIANT)) {
      GVariant *inner = g_variant_get_variant (c);
      g_variant_unref (c);
      c = inner;
    }
    const size_t n = g_variant_is_of_type (c, G_VARIANT_TYPE_VARDICT) ? g_variant_n_children (c)
                                                                       : 0;
    gboolean ok = j < p->d && !names[j] && n > 0 && n == L[j];
    if (ok) {
      names[j] = g_new0 (char *, n + 1);
      GVariantIter it;
      const char *key;
      GVariant *val;
      g_variant_iter_init (&it, c);
      while (ok && g_variant_iter_next (&it, "{&sv}", &key, &val)) {
        double code = -1.0;
        if (g_variant_is_of_type (val, G_VARIANT_TYPE_DOUBLE))
          code = g_variant_get_double (val);
        ok = code >= 0.0 && code < (double) n && code == floor (code)
             && !names[j][(size_t) code];
        if (ok)
          names[j][(size_t) code] = g_strdup (key);
        g_variant_unref (val);
      }
    }
    g_variant_unref (c);
    if (!ok) {
      if (j < p->d)
        g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT, "categorical: 'levels' of column "
                     "'%s' must map %zu names to the codes 0 to %zu, once each", col, L[j],
                     L[j] - 1);
      else
        g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT, "categorical: 'levels' names no "
                     "column of the model ('%s')", col);
      return FALSE;
    }
  }
  return TRUE;
}

/* Sets component K from DICT: "prob", d arrays of L_j probabilities (each in [0, 1], summing to
 * 1 within 1e-9; a 0 is raised to eps and the column renormalised), and optionally "levels".
 * Parameters whose sizes are not yet known take them from the first component assigned. */
static gboolean
assign (mixem_params *p, size_t k, GVariant *dict, gboolean *complete, GError **error)
{
  static const char *const known[] = { "prob", "levels", NULL };
  if (!mixem_dict_check_keys (dict, "categorical", known, error))
    return FALSE;
  if (complete)
    *complete = FALSE;
  GVariant *v = lookup_unboxed (dict, "prob");
  GVariant *lv = lookup_unboxed (dict, "levels");
  gboolean ok = TRUE;
  size_t *L = g_new0 (size_t, p->d + 1);
  char ***names = g_new0 (char **, p->d + 1);
  if (!v) {
    if (lv)
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT,
                   "categorical: 'levels' without 'prob'");
    ok = !lv;
    goto out;
  }
  if (!g_variant_is_of_type (v, G_VARIANT_TYPE ("aad")) || g_variant_n_children (v) != p->d) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT,
                 "categorical: 'prob' must be %zu arrays of level probabilities, one per column "
                 "(got %s)", p->d, g_variant_get_type_string (v));
    ok = FALSE;
    goto out;
  }
  for (size_t j = 0; ok && j < p->d; j++) {
    GVariant *row = g_variant_get_child_value (v, j);
    gsize n = 0;
    const double *a = g_variant_get_fixed_array (row, &n, sizeof (double));
    L[j] = n;
    double s = 0.0;
    for (size_t l = 0; ok && l < n; l++) {
      ok = isfinite (a[l]) && a[l] >= 0.0 && a[l] <= 1.0;
      s += a[l];
    }
    if (ok && (n == 0 || (p->L[0] && n != p->L[j]) || fabs (s - 1.0) > 1e-9)) {
      ok = FALSE;
    }
    if (!ok)
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT,
                   "categorical: 'prob' of column %zu must be %zu probabilities in [0, 1] "
                   "summing to 1 (got %zu summing to %.17g)", j + 1,
                   p->L[0] ? p->L[j] : (size_t) n, (size_t) n, s);
    g_variant_unref (row);
  }
  if (ok && lv)
    ok = read_names (p, lv, L, names, error);
  for (size_t j = 0; ok && lv && j < p->d; j++)
    if (p->L[0] && p->names[j]
        && (!names[j] || !g_strv_equal ((const char *const *) names[j],
                                        (const char *const *) p->names[j]))) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT, "categorical: the 'levels' of column "
                   "%zu differ from the model's", j + 1);
      ok = FALSE;
    }
  if (!ok)
    goto out;
  if (!p->L[0]) {
    set_sizes (p, L);
    for (size_t j = 0; j < p->d; j++)
      set_names (p, j, (const char *const *) names[j]);
  } else
    for (size_t j = 0; j < p->d; j++)
      if (!p->names[j] && names[j])
        set_names (p, j, (const char *const *) names[j]);
  for (size_t j = 0; j < p->d; j++) {
    GVariant *row = g_variant_get_child_value (v, j);
    gsize n = 0;
    const double *a = g_variant_get_fixed_array (row, &n, sizeof (double));
    set_column (p, k, j, a, FALSE);
    g_variant_unref (row);
  }
  if (complete)
    *complete = TRUE;
out:
  for (size_t j = 0; j < p->d; j++)
    g_strfreev (names[j]);
  g_free (names);
  g_free (L);
  if (v)
    g_variant_unref (v);
  if (lv)
    g_variant_unref (lv);
  return ok;
}

G_MODULE_EXPORT const mixem_family mixem_family_entry = {
  .abi_version = MIXEM_FAMILY_ABI_VERSION,
  .size = MIXEM_FAMILY_SIZE,
  .flags = MIXEM_FAMILY_LEVELS | MIXEM_FAMILY_MISSING,
  .name = "categorical",
  .summary = "latent class analysis: D categorical columns, a probability per level, column "
             "and component",
  .options = options,
  .init_methods = init_methods,
  .params_new = params_new,
  .params_copy = params_copy,
  .params_free = params_free,
  .check_data = check_data,
  .log_density = log_density,
  .stats_size = stats_size,
  .accumulate = accumulate,
  .maximise = maximise,
  .expected_loglik = expected_loglik,
  .n_free_params = n_free_params,
  .sample = sample,
  .describe = describe,
  .assign = assign,
};
