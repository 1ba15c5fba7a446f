/* product.c: the product family, a row made of independent parts (mixmod's heterogeneous data,
 * pomegranate's IndependentComponents).  Part m is a family F_m on its own columns C_m (the
 * parts' columns partition the row), and within a component the parts are independent:
 *
 *   log p(x | theta_k) = sum_m log p_{F_m}(x_{C_m} | theta_km)
 *
 * Statistics: the concatenation of the parts' statistics, each part's accumulated from its own
 * columns under the same responsibilities.  M-step: each part's own, on its statistics (the
 * expected complete log-likelihood is a sum of terms in disjoint parameters, so maximising each
 * term maximises the sum).  Expected complete log-likelihood: the sum of the parts'.  Free
 * parameters: the sum of the parts'.  A draw: each part's draw, in its columns.
 *
 * The parts are found by name with mixem_registry_lookup in the registry that holds this family
 * (family->registry): any family, a plugin or a Lua family included, through the public family
 * interface alone.  The option `parts` names them:
 *
 *   FAMILY[(KEY=VALUE,...)]:COLUMN,COLUMN,...[;FAMILY...]
 *   e.g.  gaussian(covariance=diag):x,y;categorical:colour;poisson:visits
 *
 * (Lua: parts = {{family = "gaussian", columns = {"x", "y"}, covariance = "diag"}, ...}, which
 * the Lua layer writes in this form.)  Columns by name or 1-based number.  A column in two
 * parts, a column in none, an unknown column or family, or a part's bad option is an error
 * naming the part.
 *
 * What a part must have: everything the engine requires, and expected_loglik (product's ELBO is
 * the sum of the parts', from the statistics).  A part without sample makes sampling draw NaN in
 * its columns, which the engine refuses as a row (so sampling such a product is an error, not a
 * silent NaN).  A part's own starts (init) are not used: the product starts with the engine's
 * (random_resp by default).  Because a part may be a Lua family, whose callbacks must run on one
 * thread, and a family's flags cannot depend on its options, product's passes run on one thread
 * (MIXEM_FAMILY_SERIAL): the same bits for any thread count, at the cost of parallel speed.
 * Level names: a part whose family lacks MIXEM_FAMILY_LEVELS refuses a column of level names,
 * naming file, row and column, as the engine does for a family alone.
 *
 * Parameters in describe(), model files and Lua tables: each part's keys, prefixed by the part's
 * number and a dot ("1.mean", "2.prob"), so that the whole product round-trips through the
 * parts' own describe and assign. */
#include <math.h>
#include <string.h>
#include <mixem/family.h>
#include <mixem/registry.h>

typedef struct {
  const mixem_family *f;
  size_t d;
  size_t *cols;          /* d: the product's columns that are this part's */
  char **names;          /* d + 1 */
  mixem_options *opts;   /* checked, defaults filled */
  mixem_params *p;
  size_t ss, soff;       /* stats size and offset in the product's statistics */
} part;

struct mixem_params {
  size_t k, d, n;        /* components, columns, parts */
  part *parts;
  size_t ss;
};

static const mixem_option_info options[] = {
  { "parts", "the parts: FAMILY[(KEY=VALUE,...)]:COLUMN,...;... e.g. "
    "gaussian(covariance=diag):x,y;poisson:visits (every column in exactly one part)", NULL,
    MIXEM_OPTION_TEXT, NULL, NULL },
  { 0 }
};

static const char *const init_methods[] = { "random_resp", "random", "kmeans", "kmeans++",
                                            NULL };

static void
params_free (mixem_params *p)
{
  if (!p)
    return;
  for (size_t m = 0; m < p->n; m++) {
    part *q = &p->parts[m];
    if (q->p)
      q->f->params_free (q->p);
    g_free (q->cols);
    g_strfreev (q->names);
    mixem_options_free (q->opts);
  }
  g_free (p->parts);
  g_free (p);
}

/* The column index of NAME among NAMES (D of them): a name first, then a 1-based number. */
static int
find_column (const char *const *names, size_t d, const char *name)
{
  for (size_t j = 0; names && j < d; j++)
    if (strcmp (names[j], name) == 0)
      return (int) j;
  if (*name && strspn (name, "0123456789") == strlen (name)) {
    guint64 v = g_ascii_strtoull (name, NULL, 10);
    if (v >= 1 && v <= d)
      return (int) (v - 1);
  }
  return -1;
}

/* Parses one part's text, "FAMILY(K=V,...):COLS", into Q (its family looked up in REG). */
static gboolean
parse_part (part *q, size_t m, const char *text, const mixem_spec *spec, mixem_registry *reg,
            int *owner, GError **error)
{
  const char *colon = strrchr (text, ':');
  if (!colon || colon == text || !colon[1]) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION, "product: part %zu ('%s') must be "
                 "FAMILY:COLUMN,... or FAMILY(KEY=VALUE,...):COLUMN,...", m + 1, text);
    return FALSE;
  }
  char *head = g_strstrip (g_strndup (text, (size_t) (colon - text)));
  char *paren = strchr (head, '(');
  char *args = NULL;
  gboolean ok = TRUE;
  if (paren) {
    const size_t hl = strlen (head);
    if (head[hl - 1] != ')') {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION, "product: part %zu: '(' without a "
                   "closing ')' in '%s'", m + 1, head);
      g_free (head);
      return FALSE;
    }
    head[hl - 1] = '\0';
    *paren = '\0';
    args = paren + 1;
    g_strstrip (head);
  }
  GError *e = NULL;
  q->f = mixem_registry_lookup (reg, head, &e);
  if (!q->f) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION, "product: part %zu: %s", m + 1,
                 e->message);
    g_error_free (e);
    g_free (head);
    return FALSE;
  }
  if (q->f == spec->family) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION, "product: part %zu is a product itself "
                 "(give its parts to the outer product)", m + 1);
    g_free (head);
    return FALSE;
  }
  if (!q->f->expected_loglik) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION, "product: part %zu: family '%s' has no "
                 "expected_loglik, which a product part needs", m + 1, q->f->name);
    g_free (head);
    return FALSE;
  }
  /* The columns. */
  char **cols = g_strsplit (colon + 1, ",", -1);
  q->d = g_strv_length (cols);
  q->cols = g_new0 (size_t, q->d + 1);
  q->names = g_new0 (char *, q->d + 1);
  for (size_t c = 0; ok && c < q->d; c++) {
    const char *name = g_strstrip (cols[c]);
    const int j = find_column (spec->names, spec->d, name);
    if (j < 0) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION, "product: part %zu (%s): no column "
                   "'%s' in the data", m + 1, q->f->name, name);
      ok = FALSE;
    } else if (owner[j] >= 0) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION, "product: column '%s' is in part %d "
                   "and in part %zu (%s): the parts' columns must not overlap",
                   spec->names ? spec->names[j] : name, owner[j] + 1, m + 1, q->f->name);
      ok = FALSE;
    } else {
      owner[j] = (int) m;
      q->cols[c] = (size_t) j;
      q->names[c] = g_strdup (spec->names ? spec->names[j] : name);
    }
  }
  g_strfreev (cols);
  /* The options. */
  mixem_options *given = mixem_options_new ();
  if (ok && args && *g_strstrip (args)) {
    char **kv = g_strsplit (args, ",", -1);
    for (size_t i = 0; ok && kv[i]; i++) {
      char *eq = strchr (kv[i], '=');
      if (!eq) {
        g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION, "product: part %zu (%s): option "
                     "'%s' must be KEY=VALUE", m + 1, q->f->name, g_strstrip (kv[i]));
        ok = FALSE;
        break;
      }
      *eq = '\0';
      mixem_options_set (given, g_strstrip (kv[i]), g_strstrip (eq + 1));
    }
    g_strfreev (kv);
  }
  if (ok) {
    q->opts = mixem_family_options (q->f, given, q->d, (const char *const *) q->names, &e);
    if (!q->opts) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION, "product: part %zu: %s", m + 1,
                   e->message);
      g_error_free (e);
      ok = FALSE;
    }
  }
  mixem_options_free (given);
  g_free (head);
  return ok;
}

static mixem_params *
params_new (const mixem_spec *spec, GError **error)
{
  const char *text = mixem_options_get (spec->options, "parts");
  mixem_registry *reg = spec->family ? spec->family->registry : NULL;
  if (!text || !*text) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION, "product: the option parts is "
                 "required, e.g. parts = 'gaussian(covariance=diag):x,y;poisson:visits'");
    return NULL;
  }
  if (!reg) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION, "product: the family was not found "
                 "through a registry, where its parts are looked up");
    return NULL;
  }
  mixem_params *p = g_new0 (mixem_params, 1);
  p->k = spec->k;
  p->d = spec->d;
  char **texts = g_strsplit (text, ";", -1);
  size_t n = 0;
  for (size_t i = 0; texts[i]; i++)
    if (*g_strstrip (texts[i]))
      texts[n++] = texts[i];
    else
      g_free (texts[i]);
  texts[n] = NULL;
  p->parts = g_new0 (part, n + 1);
  int *owner = g_new (int, spec->d + 1);
  for (size_t j = 0; j < spec->d; j++)
    owner[j] = -1;
  gboolean ok = n > 0;
  if (!ok)
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION, "product: the option parts names no "
                 "part");
  for (size_t m = 0; ok && m < n; m++) {
    ok = parse_part (&p->parts[m], m, texts[m], spec, reg, owner, error);
    p->n = m + 1;
  }
  for (size_t j = 0; ok && j < spec->d; j++)
    if (owner[j] < 0) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION, "product: column '%s' is in no part "
                   "(select the columns the parts model)", spec->names ? spec->names[j] : "?");
      ok = FALSE;
    }
  /* Each part's parameters, made for its own columns of the data. */
  for (size_t m = 0; ok && m < p->n; m++) {
    part *q = &p->parts[m];
    mixem_dataset *sub = NULL;
    if (spec->data) {
      char **sel = g_new0 (char *, q->d + 1);
      for (size_t c = 0; c < q->d; c++)
        sel[c] = spec->names ? g_strdup (spec->names[q->cols[c]])
                             : g_strdup_printf ("%zu", q->cols[c] + 1);
      sub = mixem_dataset_select (spec->data, (const char *const *) sel, NULL, error);
      g_strfreev (sel);
      if (!sub) {
        ok = FALSE;
        break;
      }
    }
    mixem_spec ps = { spec->k, q->d, (const char *const *) q->names, q->opts, q->f, sub };
    GError *e = NULL;
    q->p = q->f->params_new (&ps, &e);
    mixem_dataset_free (sub);
    if (!q->p) {
      g_set_error (error, e->domain, e->code, "product: part %zu (%s): %s", m + 1, q->f->name,
                   e->message);
      g_error_free (e);
      ok = FALSE;
    }
  }
  g_free (owner);
  g_strfreev (texts);
  if (!ok) {
    params_free (p);
    return NULL;
  }
  for (size_t m = 0; m < p->n; m++) {
    p->parts[m].soff = p->ss;
    p->parts[m].ss = p->parts[m].f->stats_size (p->parts[m].p);
    p->ss += p->parts[m].ss;
  }
  return p;
}

static mixem_params *
params_copy (const mixem_params *p)
{
  mixem_params *c = g_memdup2 (p, sizeof *p);
  c->parts = g_new0 (part, p->n + 1);
  for (size_t m = 0; m < p->n; m++) {
    const part *q = &p->parts[m];
    part *r = &c->parts[m];
    *r = *q;
    r->cols = g_memdup2 (q->cols, (q->d + 1) * sizeof (size_t));
    r->names = g_strdupv (q->names);
    r->opts = mixem_options_copy (q->opts);
    r->p = q->f->params_copy (q->p);
  }
  return c;
}

/* Part Q's columns of block B: a sub-block over XBUF (n * q->d) and COLS (q->d).  With missing
 * cells in B, the part's mask is made in *MBUF (freed by the caller; NULL when none of the
 * part's cells is missing, so that the part keeps its fast path), and the pattern ids are the
 * whole row's (see mixem_block.pattern). */
static mixem_block
sub_block (const part *q, const mixem_block *b, double *xbuf, size_t *cols,
           unsigned char **mbuf)
{
  for (size_t i = 0; i < b->n; i++)
    for (size_t c = 0; c < q->d; c++)
      xbuf[i * q->d + c] = b->x[i * b->d + q->cols[c]];
  for (size_t c = 0; c < q->d; c++)
    cols[c] = mixem_block_column (b, q->cols[c]);
  mixem_block s = { b->n, q->d, b->first, xbuf, b->ds, cols, NULL, NULL };
  *mbuf = NULL;
  if (b->missing) {
    gboolean any = FALSE;
    unsigned char *m = g_new (unsigned char, b->n * q->d + 1);
    for (size_t i = 0; i < b->n; i++)
      for (size_t c = 0; c < q->d; c++)
        any |= m[i * q->d + c] = b->missing[i * b->d + q->cols[c]];
    if (any) {
      *mbuf = m;
      s.missing = m;
      s.pattern = b->pattern;
    } else
      g_free (m);
  }
  return s;
}

static gboolean
check_data (const mixem_params *p, const mixem_block *b, GError **error)
{
  gboolean ok = TRUE;
  for (size_t m = 0; ok && m < p->n; m++) {
    const part *q = &p->parts[m];
    double *x = g_new (double, b->n * q->d + 1);
    size_t *cols = g_new (size_t, q->d + 1);
    unsigned char *mb;
    mixem_block s = sub_block (q, b, x, cols, &mb);
    /* Level names (text) only for parts that model them; once, with the first block. */
    if (b->ds && b->first == 0 && !(q->f->flags & MIXEM_FAMILY_LEVELS))
      ok = mixem_refuse_levels (b->ds, cols, q->d, q->f->name, error);
    /* Missing cells only for parts that support them. */
    for (size_t i = 0; ok && mb && !(q->f->flags & MIXEM_FAMILY_MISSING) && i < b->n * q->d; i++)
      if (mb[i]) {
        mixem_set_cell_error (error, &s, i / q->d, i % q->d, "a missing value, but family '%s' "
                              "(part %zu of the product) does not support missing values",
                              q->f->name, m + 1);
        ok = FALSE;
      }
    if (ok && q->f->check_data)
      ok = q->f->check_data (q->p, &s, error);
    g_free (x);
    g_free (cols);
    g_free (mb);
  }
  return ok;
}

static void
log_density (const mixem_params *p, const mixem_block *b, double *out)
{
  const size_t K = p->k;
  double *tmp = g_new (double, b->n * K + 1);
  for (size_t t = 0; t < b->n * K; t++)
    out[t] = 0.0;
  for (size_t m = 0; m < p->n; m++) {
    const part *q = &p->parts[m];
    double *x = g_new (double, b->n * q->d + 1);
    size_t *cols = g_new (size_t, q->d + 1);
    unsigned char *mb;
    mixem_block s = sub_block (q, b, x, cols, &mb);
    q->f->log_density (q->p, &s, tmp);
    for (size_t t = 0; t < b->n * K; t++)
      out[t] += tmp[t];
    g_free (x);
    g_free (cols);
    g_free (mb);
  }
  g_free (tmp);
}

static size_t
stats_size (const mixem_params *p)
{
  return p->ss;
}

static void
accumulate (const mixem_params *p, const mixem_block *b, const double *r, double *stats)
{
  for (size_t m = 0; m < p->n; m++) {
    const part *q = &p->parts[m];
    double *x = g_new (double, b->n * q->d + 1);
    size_t *cols = g_new (size_t, q->d + 1);
    unsigned char *mb;
    mixem_block s = sub_block (q, b, x, cols, &mb);
    q->f->accumulate (q->p, &s, r, stats + q->soff);
    g_free (x);
    g_free (cols);
    g_free (mb);
  }
}

/* Each part's statistics moved by its own stats_rebase, where it has one. */
static void
stats_rebase (const mixem_params *p, double *stats)
{
  for (size_t m = 0; m < p->n; m++)
    if (p->parts[m].f->stats_rebase)
      p->parts[m].f->stats_rebase (p->parts[m].p, stats + p->parts[m].soff);
}

static gboolean
maximise (mixem_params *p, const double *stats, const gboolean *fixed, GError **error)
{
  for (size_t m = 0; m < p->n; m++) {
    const part *q = &p->parts[m];
    GError *e = NULL;
    if (!q->f->maximise (q->p, stats + q->soff, fixed, &e)) {
      g_set_error (error, e->domain, e->code, "product: part %zu (%s): %s", m + 1, q->f->name,
                   e->message);
      g_error_free (e);
      return FALSE;
    }
  }
  return TRUE;
}

static double
expected_loglik (const mixem_params *p, const double *stats)
{
  double e = 0.0;
  for (size_t m = 0; m < p->n; m++)
    e += p->parts[m].f->expected_loglik (p->parts[m].p, stats + p->parts[m].soff);
  return e;
}

static size_t
n_free_params (const mixem_params *p)
{
  size_t n = 0;
  for (size_t m = 0; m < p->n; m++)
    n += p->parts[m].f->n_free_params (p->parts[m].p);
  return n;
}

static void
sample (const mixem_params *p, size_t k, gsl_rng *rng, double *x)
{
  for (size_t m = 0; m < p->n; m++) {
    const part *q = &p->parts[m];
    double *y = g_new (double, q->d + 1);
    if (q->f->sample)
      q->f->sample (q->p, k, rng, y);
    else
      for (size_t c = 0; c < q->d; c++)
        y[c] = NAN;
    for (size_t c = 0; c < q->d; c++)
      x[q->cols[c]] = y[c];
    g_free (y);
  }
}

static gboolean
take_error (const mixem_params *p, GError **error)
{
  for (size_t m = 0; m < p->n; m++) {
    const part *q = &p->parts[m];
    if (q->f->take_error && !q->f->take_error (q->p, error)) {
      g_prefix_error (error, "product: part %zu (%s): ", m + 1, q->f->name);
      return FALSE;
    }
  }
  return TRUE;
}

/* Each part imputes its own columns: by its impute_mean (NaN where it has none, which the
 * engine reports), or a draw by its impute_draw, else by its sample (independent columns). */
static void
impute_part (const mixem_params *p, size_t k, const double *x, const unsigned char *missing,
             gsl_rng *rng, double *out)
{
  for (size_t m = 0; m < p->n; m++) {
    const part *q = &p->parts[m];
    double *y = g_new (double, 2 * q->d + 1), *o = y + q->d;
    unsigned char *mm = g_new (unsigned char, q->d + 1);
    gboolean any = FALSE;
    for (size_t c = 0; c < q->d; c++) {
      y[c] = x[q->cols[c]];
      any |= mm[c] = missing[q->cols[c]];
      o[c] = NAN;
    }
    if (any) {
      if (!rng && q->f->impute_mean)
        q->f->impute_mean (q->p, k, y, mm, o);
      else if (rng && q->f->impute_draw)
        q->f->impute_draw (q->p, k, y, mm, rng, o);
      else if (rng && q->f->sample)
        q->f->sample (q->p, k, rng, o);
      for (size_t c = 0; c < q->d; c++)
        if (mm[c])
          out[q->cols[c]] = o[c];
    }
    g_free (y);
    g_free (mm);
  }
}

static void
impute_mean (const mixem_params *p, size_t k, const double *x, const unsigned char *missing,
             double *out)
{
  impute_part (p, k, x, missing, NULL, out);
}

static void
impute_draw (const mixem_params *p, size_t k, const double *x, const unsigned char *missing,
             gsl_rng *rng, double *out)
{
  impute_part (p, k, x, missing, rng, out);
}

static GVariant *
describe (const mixem_params *p, size_t k)
{
  GVariantDict d;
  g_variant_dict_init (&d, NULL);
  for (size_t m = 0; m < p->n; m++) {
    GVariant *v = g_variant_ref_sink (p->parts[m].f->describe (p->parts[m].p, k));
    GVariantIter it;
    const char *key;
    GVariant *val;
    g_variant_iter_init (&it, v);
    while (g_variant_iter_next (&it, "{&sv}", &key, &val)) {
      char *pk = g_strdup_printf ("%zu.%s", m + 1, key);
      g_variant_dict_insert_value (&d, pk, val);
      g_free (pk);
      g_variant_unref (val);
    }
    g_variant_unref (v);
  }
  return g_variant_dict_end (&d);
}

/* Splits DICT's "M.KEY" entries among the parts and lets each part assign its own. */
static gboolean
assign (mixem_params *p, size_t k, GVariant *dict, gboolean *complete, GError **error)
{
  GVariantDict *sub = g_new (GVariantDict, p->n + 1);
  gboolean *given = g_new0 (gboolean, p->n + 1);
  for (size_t m = 0; m < p->n; m++)
    g_variant_dict_init (&sub[m], NULL);
  gboolean ok = TRUE;
  GVariantIter it;
  const char *key;
  GVariant *val;
  g_variant_iter_init (&it, dict);
  while (ok && g_variant_iter_next (&it, "{&sv}", &key, &val)) {
    char *end = NULL;
    guint64 m = g_ascii_strtoull (key, &end, 10);
    if (end == key || *end != '.' || m < 1 || m > p->n || !end[1]) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT, "product: a component has no "
                   "parameter '%s' (keys are PART.KEY, PART from 1 to %zu, e.g. '1.%s')", key,
                   p->n, key);
      ok = FALSE;
    } else {
      g_variant_dict_insert_value (&sub[m - 1], end + 1, val);
      given[m - 1] = TRUE;
    }
    g_variant_unref (val);
  }
  gboolean all = TRUE;
  for (size_t m = 0; m < p->n; m++) {
    GVariant *v = g_variant_ref_sink (g_variant_dict_end (&sub[m]));
    gboolean c = FALSE;
    const part *q = &p->parts[m];
    /* A part left out keeps its values (a partial start), as a key left out does. */
    if (ok && given[m]) {
      GError *e = NULL;
      if (!q->f->assign (q->p, k, v, &c, &e)) {
        g_set_error (error, e->domain, e->code, "product: part %zu (%s): %s", m + 1, q->f->name,
                     e->message);
        g_error_free (e);
        ok = FALSE;
      }
    }
    all = all && given[m] && c;
    g_variant_unref (v);
  }
  g_free (sub);
  g_free (given);
  if (complete)
    *complete = ok && all;
  return ok;
}

G_MODULE_EXPORT const mixem_family mixem_family_entry = {
  .abi_version = MIXEM_FAMILY_ABI_VERSION,
  .size = MIXEM_FAMILY_SIZE,
  .flags = MIXEM_FAMILY_SERIAL | MIXEM_FAMILY_LEVELS | MIXEM_FAMILY_MISSING,
  .impute_mean = impute_mean,
  .impute_draw = impute_draw,
  .name = "product",
  .summary = "independent parts, each a family on its own columns (heterogeneous data)",
  .options = options,
  .init_methods = init_methods,
  .params_new = params_new,
  .params_copy = params_copy,
  .params_free = params_free,
  .check_data = check_data,
  .log_density = log_density,
  .stats_size = stats_size,
  .accumulate = accumulate,
  .stats_rebase = stats_rebase,
  .maximise = maximise,
  .expected_loglik = expected_loglik,
  .n_free_params = n_free_params,
  .sample = sample,
  .take_error = take_error,
  .describe = describe,
  .assign = assign,
};
