/* lfamily.c: families written in Lua (mixem.family).  A definition table becomes a mixem_family
 * whose entries call back into Lua, registered in the Lua state's registry, so that a Lua family
 * is fitted, saved, loaded, scored and sampled like a C one.  Two forms:
 *
 *   exponential (the default): stats(x) -> {t_1..t_S} for one row, maximise(s, n) -> theta from
 *     the weighted sums s_j = sum_i r_ik t_j(x_i) and n = sum_i r_ik, log_density(theta, x).  The
 *     engine sums the statistics itself, in C.
 *   block: log_density(thetas, X, out), accumulate(thetas, X, R, S) and maximise(S, N, thetas)
 *     over a block of rows and all K components at once, with n_stats statistics per component.
 *
 * theta is a table of numbers, arrays of numbers, or arrays of arrays (matrices); checked after
 * every maximise and assign (finite, and the constraints of `params` when declared), so that
 * describe and copies never fail.  Callbacks run on a thread of the family's own under
 * lua_pcall with a traceback: a Lua error never unwinds through the engine.  Entries that cannot
 * return an error (log_density, accumulate, sample) keep the first one for take_error, which the
 * engine asks after every pass.  A lua_State is not thread-safe, so the family is flagged
 * MIXEM_FAMILY_SERIAL: the engine runs its passes on one thread. */
#include <math.h>
#include <string.h>
#include <lauxlib.h>
#include <gsl/gsl_randist.h>
#include <mixem/mixem.h>
#include "lmixem.h"

#define RNG_MT "mixem.rng"

typedef enum { FORM_EXPONENTIAL, FORM_BLOCK } form_t;

typedef struct {
  mixem_family fam;          /* what the registry copies; names point into this struct */
  char *name, *summary;
  form_t form;
  lua_State *T;              /* the family's own thread */
  int ref_thread, ref_def;   /* anchors in the Lua registry */
  lua_Integer n_stats;       /* statistics per component; 0: learnt from stats() */
  lua_Integer n_params;      /* free parameters per component; -1: count theta's numbers */
  size_t n_decl;             /* declared parameters (params = {name = constraint}) */
  char **decl_name;
  mixem_constraint *decl_cons;
  GError *err;               /* first failure of an entry that cannot return one */
  int live;                  /* parameter sets alive */
  gboolean natural;          /* exponential form with natural(theta) -> eta, A: log-densities
                                and the ELBO computed in C */
  GHashTable *cache;         /* first row -> block_stats: T(x) and base(x) of a block's rows */
  size_t cached;             /* doubles held by the cache */
} lfam;

/* The statistics of a block's rows, kept while the rows are the same (checked by value, so a
 * dataset freed and another allocated at the same place is never mistaken for it): stats() and
 * base() are called once per row, not once per row and iteration. */
typedef struct {
  size_t n, d, S;
  double *x;                 /* n*d: the rows, to recognise them */
  double *t;                 /* n*S: T(x) */
  double *h;                 /* n: base(x), 0 without base */
} block_stats;

#define CACHE_MAX ((size_t) 1 << 25)    /* doubles (256 MiB); past it, statistics are recomputed */

struct mixem_params {
  lfam *lf;
  size_t k, d, S;            /* S: statistics of a row */
  size_t stride;             /* per component: the weight, S sums, and sum r base(x) (natural) */
  int ref;                   /* Lua array of the k theta tables */
};

static const char *const engine_starts[] = { "kmeans", "kmeans++", "random", "random_resp",
                                             NULL };
/* With init(X, k, rng): the family's own start first ("random" is then the family's to run,
 * so it is left out). */
static const char *const custom_starts[] = { "custom", "kmeans", "kmeans++", "random_resp", NULL };

/* ---- errors ---- */

static void
keep_error (lfam *lf, GError **error, int code, const char *fmt, ...) G_GNUC_PRINTF (4, 5);

/* Sets ERROR, or, when the entry cannot return one (ERROR NULL), keeps the first for
 * take_error. */
static void
keep_error (lfam *lf, GError **error, int code, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  if (error)
    g_set_error (error, MIXEM_ERROR, code, "family '%s': %s", lf->name, msg);
  else if (!lf->err)
    g_set_error (&lf->err, MIXEM_ERROR, code, "family '%s': %s", lf->name, msg);
  g_free (msg);
}

static int
traceback (lua_State *T)
{
  const char *msg = lua_tostring (T, 1);
  luaL_traceback (T, T, msg ? msg : luaL_tolstring (T, 1, NULL), 1);
  return 1;
}

/* Calls the function below NARGS arguments on T's top; on error keeps "CB: message" with the
 * traceback and leaves T as it was before the function was pushed. */
static gboolean
call (lfam *lf, const char *cb, int nargs, int nres, GError **error)
{
  lua_State *T = lf->T;
  const int fn = lua_gettop (T) - nargs;
  lua_pushcfunction (T, traceback);
  lua_insert (T, fn);
  if (lua_pcall (T, nargs, nres, fn) != LUA_OK) {
    keep_error (lf, error, MIXEM_ERROR_PLUGIN, "%s: %s", cb, lua_tostring (T, -1));
    lua_settop (T, fn - 1);
    return FALSE;
  }
  lua_remove (T, fn);
  return TRUE;
}

/* Pushes the definition's field NAME (a function, or nil). */
static int
push_field (lfam *lf, const char *name)
{
  lua_rawgeti (lf->T, LUA_REGISTRYINDEX, lf->ref_def);
  int t = lua_getfield (lf->T, -1, name);
  lua_remove (lf->T, -2);
  return t;
}

/* "file: row N" for row I of block B. */
static char *
row_name (const mixem_block *b, size_t i)
{
  return b->ds ? mixem_dataset_cell_name (b->ds, b->first + i, SIZE_MAX)
               : g_strdup_printf ("row %zu", b->first + i + 1);
}

/* ---- theta tables ---- */

static gboolean
meets (mixem_constraint c, double v)
{
  switch (c) {
  case MIXEM_POSITIVE: return v > 0;
  case MIXEM_NONNEGATIVE: return v >= 0;
  case MIXEM_UNIT: return v >= 0 && v <= 1;
  case MIXEM_OPEN_UNIT: return v > 0 && v < 1;
  default: return TRUE;
  }
}

static const char *const constraint_names[] = { "real", "positive", "nonnegative", "unit",
                                                "open_unit", NULL };

/* Checks the numbers of the value at IDX (a number, an array, an array of arrays: DEPTH levels
 * left) against C; *BAD gets a description of the first fault. */
static gboolean
check_value (lua_State *T, int idx, mixem_constraint c, int depth, char **bad)
{
  idx = lua_absindex (T, idx);
  if (lua_type (T, idx) == LUA_TNUMBER) {
    double v = lua_tonumber (T, idx);
    if (!isfinite (v) || !meets (c, v)) {
      *bad = g_strdup_printf ("%g is not %s", v, isfinite (v) ? constraint_names[c] : "finite");
      return FALSE;
    }
    return TRUE;
  }
  if (lua_type (T, idx) != LUA_TTABLE || depth == 0) {
    *bad = g_strdup_printf ("a %s is not a number or an array of numbers",
                            lua_typename (T, lua_type (T, idx)));
    return FALSE;
  }
  const lua_Unsigned n = lua_rawlen (T, idx);
  lua_Unsigned count = 0;
  lua_pushnil (T);
  while (lua_next (T, idx)) {
    count++;
    gboolean ok = lua_isinteger (T, -2) && lua_tointeger (T, -2) >= 1
                  && (lua_Unsigned) lua_tointeger (T, -2) <= n;
    if (!ok)
      *bad = g_strdup ("an array has keys other than 1..n");
    ok = ok && check_value (T, -1, c, depth - 1, bad);
    lua_pop (T, 1);
    if (!ok) {
      lua_pop (T, 1);
      return FALSE;
    }
  }
  if (count != n || n == 0) {
    *bad = g_strdup (n == 0 ? "an array is empty" : "an array has holes");
    return FALSE;
  }
  return TRUE;
}

/* Checks the theta at IDX: a table of string keys whose values are numbers, arrays or matrices,
 * finite, meeting the declared constraints, with every declared parameter there when FULL. */
static gboolean
check_theta (lfam *lf, int idx, const char *cb, gboolean full, GError **error)
{
  lua_State *T = lf->T;
  idx = lua_absindex (T, idx);
  if (lua_type (T, idx) != LUA_TTABLE) {
    keep_error (lf, error, MIXEM_ERROR_PLUGIN, "%s must give a table (theta), not a %s", cb,
                luaL_typename (T, idx));
    return FALSE;
  }
  lua_pushnil (T);
  while (lua_next (T, idx)) {
    if (lua_type (T, -2) != LUA_TSTRING) {
      keep_error (lf, error, MIXEM_ERROR_PLUGIN, "%s: theta's keys must be names, not %ss", cb,
                  luaL_typename (T, -2));
      lua_pop (T, 2);
      return FALSE;
    }
    const char *key = lua_tostring (T, -2);
    mixem_constraint c = MIXEM_REAL;
    gboolean declared = lf->n_decl == 0;
    for (size_t j = 0; j < lf->n_decl; j++)
      if (strcmp (lf->decl_name[j], key) == 0) {
        c = lf->decl_cons[j];
        declared = TRUE;
      }
    char *bad = NULL;
    if (!declared || !check_value (T, -1, c, 2, &bad)) {
      if (!declared) {
        GString *known = g_string_new (NULL);
        for (size_t j = 0; j < lf->n_decl; j++)
          g_string_append_printf (known, "%s%s", j ? ", " : "", lf->decl_name[j]);
        keep_error (lf, error, MIXEM_ERROR_PLUGIN, "%s: theta has no parameter '%s' (it has: %s)",
                    cb, key, known->str);
        g_string_free (known, TRUE);
      } else
        keep_error (lf, error, MIXEM_ERROR_PLUGIN, "%s: theta.%s: %s", cb, key, bad);
      g_free (bad);
      lua_pop (T, 2);
      return FALSE;
    }
    lua_pop (T, 1);
  }
  for (size_t j = 0; full && j < lf->n_decl; j++) {
    gboolean there = lua_getfield (T, idx, lf->decl_name[j]) != LUA_TNIL;
    lua_pop (T, 1);
    if (!there) {
      keep_error (lf, error, MIXEM_ERROR_PLUGIN, "%s: theta has no '%s'", cb, lf->decl_name[j]);
      return FALSE;
    }
  }
  return TRUE;
}

/* A checked value: numbers, arrays and matrices only, so nothing here can raise but memory. */
static void
copy_value (lua_State *T, int idx)
{
  idx = lua_absindex (T, idx);
  if (lua_type (T, idx) != LUA_TTABLE) {
    lua_pushvalue (T, idx);
    return;
  }
  const lua_Unsigned n = lua_rawlen (T, idx);
  lua_createtable (T, (int) n, 0);
  for (lua_Unsigned i = 1; i <= n; i++) {
    lua_rawgeti (T, idx, (lua_Integer) i);
    copy_value (T, -1);
    lua_rawseti (T, -3, (lua_Integer) i);
    lua_pop (T, 1);
  }
}

static void
copy_theta (lua_State *T, int idx)
{
  idx = lua_absindex (T, idx);
  lua_newtable (T);
  lua_pushnil (T);
  while (lua_next (T, idx)) {
    lua_pushvalue (T, -2);
    copy_value (T, -2);
    lua_rawset (T, -5);
    lua_pop (T, 1);
  }
}

/* Pushes a copy of the array of K thetas at IDX. */
static void
copy_thetas (lua_State *T, int idx, size_t K)
{
  idx = lua_absindex (T, idx);
  lua_createtable (T, (int) K, 0);
  for (size_t k = 1; k <= K; k++) {
    lua_rawgeti (T, idx, (lua_Integer) k);
    copy_theta (T, -1);
    lua_rawseti (T, -3, (lua_Integer) k);
    lua_pop (T, 1);
  }
}

static GVariant *
value_to_variant (lua_State *T, int idx)
{
  idx = lua_absindex (T, idx);
  if (lua_type (T, idx) == LUA_TNUMBER)
    return g_variant_new_double (lua_tonumber (T, idx));
  const lua_Unsigned n = lua_rawlen (T, idx);
  lua_rawgeti (T, idx, 1);
  const gboolean nested = lua_type (T, -1) == LUA_TTABLE;
  lua_pop (T, 1);
  GVariantBuilder b;
  g_variant_builder_init (&b, nested ? G_VARIANT_TYPE ("aad") : G_VARIANT_TYPE ("ad"));
  for (lua_Unsigned i = 1; i <= n; i++) {
    lua_rawgeti (T, idx, (lua_Integer) i);
    if (nested)
      g_variant_builder_add_value (&b, value_to_variant (T, -1));
    else
      g_variant_builder_add (&b, "d", lua_tonumber (T, -1));
    lua_pop (T, 1);
  }
  return g_variant_builder_end (&b);
}

/* GVariant (a model file's or describe's) -> Lua value; FALSE for a type a theta cannot hold. */
static gboolean
push_variant_value (lua_State *T, GVariant *v)
{
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_VARIANT)) {
    GVariant *inner = g_variant_get_variant (v);
    gboolean ok = push_variant_value (T, inner);
    g_variant_unref (inner);
    return ok;
  }
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_DOUBLE)) {
    lua_pushnumber (T, g_variant_get_double (v));
    return TRUE;
  }
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_INT64)) {
    lua_pushnumber (T, (double) g_variant_get_int64 (v));
    return TRUE;
  }
  if (!g_variant_is_of_type (v, G_VARIANT_TYPE ("ad"))
      && !g_variant_is_of_type (v, G_VARIANT_TYPE ("aad")))
    return FALSE;
  const gsize n = g_variant_n_children (v);
  lua_createtable (T, (int) n, 0);
  for (gsize i = 0; i < n; i++) {
    GVariant *c = g_variant_get_child_value (v, i);
    push_variant_value (T, c);
    g_variant_unref (c);
    lua_rawseti (T, -2, (lua_Integer) i + 1);
  }
  return TRUE;
}

/* ---- parameters ---- */

/* Pushes the array of thetas of P. */
static void
push_thetas (const mixem_params *p)
{
  lua_rawgeti (p->lf->T, LUA_REGISTRYINDEX, p->ref);
}

/* The number of statistics per row: n_stats, or the length of stats() on a row of zeros. */
static gboolean
learn_n_stats (lfam *lf, size_t d, size_t *S, GError **error)
{
  lua_State *T = lf->T;
  if (lf->n_stats > 0 || lf->form == FORM_BLOCK) {
    *S = (size_t) lf->n_stats;
    return TRUE;
  }
  push_field (lf, "stats");
  lua_createtable (T, (int) d, 0);
  for (size_t j = 1; j <= d; j++) {
    lua_pushnumber (T, 0.0);
    lua_rawseti (T, -2, (lua_Integer) j);
  }
  if (!call (lf, "stats", 1, 1, error)) {
    g_prefix_error (error, "learning the number of statistics from stats() of a row of zeros "
                           "(give n_stats to skip this): ");
    return FALSE;
  }
  const gboolean ok = lua_type (T, -1) == LUA_TTABLE && lua_rawlen (T, -1) > 0;
  *S = ok ? (size_t) lua_rawlen (T, -1) : 0;
  if (!ok)
    keep_error (lf, error, MIXEM_ERROR_PLUGIN,
                "stats must return a non-empty array of numbers (got a %s)",
                luaL_typename (T, -1));
  lua_pop (T, 1);
  return ok;
}

static mixem_params *
params_make (lfam *lf, const mixem_spec *spec, GError **error)
{
  size_t S;
  if (!learn_n_stats (lf, spec->d, &S, error))
    return NULL;
  mixem_params *p = g_new0 (mixem_params, 1);
  p->lf = lf;
  p->k = spec->k;
  p->d = spec->d;
  p->S = S;
  p->stride = 1 + S + (lf->natural ? 1 : 0);
  lua_createtable (lf->T, (int) spec->k, 0);
  for (size_t k = 1; k <= spec->k; k++) {
    lua_newtable (lf->T);
    lua_rawseti (lf->T, -2, (lua_Integer) k);
  }
  p->ref = luaL_ref (lf->T, LUA_REGISTRYINDEX);
  lf->live++;
  return p;
}

static mixem_params *
params_copy (const mixem_params *p)
{
  mixem_params *c = g_memdup2 (p, sizeof *p);
  push_thetas (p);
  copy_thetas (p->lf->T, -1, p->k);
  c->ref = luaL_ref (p->lf->T, LUA_REGISTRYINDEX);
  lua_pop (p->lf->T, 1);
  p->lf->live++;
  return c;
}

static void
params_free (mixem_params *p)
{
  if (!p)
    return;
  luaL_unref (p->lf->T, LUA_REGISTRYINDEX, p->ref);
  p->lf->live--;
  g_free (p);
}

static size_t
stats_size (const mixem_params *p)
{
  return p->k * p->stride;
}

static GVariant *
describe (const mixem_params *p, size_t k)
{
  lua_State *T = p->lf->T;
  push_thetas (p);
  lua_rawgeti (T, -1, (lua_Integer) k + 1);
  GVariantDict d;
  g_variant_dict_init (&d, NULL);
  lua_pushnil (T);
  while (lua_next (T, -2)) {
    g_variant_dict_insert_value (&d, lua_tostring (T, -2), value_to_variant (T, -1));
    lua_pop (T, 1);
  }
  lua_pop (T, 2);
  return g_variant_dict_end (&d);
}

static gboolean
assign (mixem_params *p, size_t k, GVariant *dict, gboolean *complete, GError **error)
{
  lfam *lf = p->lf;
  lua_State *T = lf->T;
  const int top = lua_gettop (T);
  push_thetas (p);
  lua_rawgeti (T, -1, (lua_Integer) k + 1);
  copy_theta (T, -1);                       /* the new theta, over the current one */
  GVariantIter it;
  const char *key;
  GVariant *val;
  g_variant_iter_init (&it, dict);
  while (g_variant_iter_next (&it, "{&sv}", &key, &val)) {
    gboolean ok = push_variant_value (T, val);
    g_variant_unref (val);
    if (!ok) {
      keep_error (lf, error, MIXEM_ERROR_FORMAT,
                  "'%s' must be a number, an array or a matrix of numbers", key);
      lua_settop (T, top);
      return FALSE;
    }
    lua_setfield (T, -2, key);
  }
  if (!check_theta (lf, -1, "a component", lf->n_decl > 0, NULL)) {
    /* The same check, with the error going to the caller as a format error. */
    GError *e = lf->err;
    lf->err = NULL;
    g_set_error_literal (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT, e->message);
    g_error_free (e);
    lua_settop (T, top);
    /* A partial start is no error: report it as incomplete when only keys are missing. */
    return FALSE;
  }
  lua_rawseti (T, -3, (lua_Integer) k + 1);
  lua_settop (T, top);
  if (complete)
    *complete = TRUE;
  return TRUE;
}

/* ---- the exponential-family form ---- */

/* Row I of B into the array at IDX. */
static void
fill_row (lua_State *T, int idx, const mixem_block *b, size_t i)
{
  for (size_t j = 0; j < b->d; j++) {
    lua_pushnumber (T, b->x[i * b->d + j]);
    lua_rawseti (T, idx, (lua_Integer) j + 1);
  }
}

/* The number at the top of T as a log-density: a number, not NaN, not +inf. */
static gboolean
take_log_density (lfam *lf, const mixem_block *b, size_t i, size_t k, double *out)
{
  lua_State *T = lf->T;
  int isnum = 0;
  const double v = lua_tonumberx (T, -1, &isnum);
  if (isnum && !isnan (v) && v != INFINITY) {
    *out = v;
    return TRUE;
  }
  char *row = row_name (b, i);
  if (isnum)
    keep_error (lf, NULL, MIXEM_ERROR_PLUGIN, "log_density gave %g for %s, component %zu", v,
                row, k + 1);
  else
    keep_error (lf, NULL, MIXEM_ERROR_PLUGIN,
                "log_density must return a number, not a %s (%s, component %zu)",
                luaL_typename (T, -1), row, k + 1);
  g_free (row);
  return FALSE;
}

/* What the block loop of exp_log_density runs under: one lua_pcall per block rather than one
 * per row and component (a pcall's setjmp costs as much as a short callback). */
typedef struct {
  const mixem_params *p;
  const mixem_block *b;
  double *out;
  size_t i, k;               /* where the loop is, to name it in an error */
  gboolean bad;              /* a value that is no log-density (kept already) */
} density_loop;

static int
density_loop_run (lua_State *T)
{
  density_loop *dl = lua_touserdata (T, 1);
  const mixem_params *p = dl->p;
  const mixem_block *b = dl->b;
  const size_t K = p->k;
  push_field (p->lf, "log_density");           /* 2 */
  push_thetas (p);                             /* 3 */
  lua_createtable (T, (int) b->d, 0);          /* 4: x, reused row to row */
  for (size_t k = 0; k < K; k++)               /* 5..4+K: the thetas */
    lua_rawgeti (T, 3, (lua_Integer) k + 1);
  for (dl->i = 0; dl->i < b->n; dl->i++) {
    fill_row (T, 4, b, dl->i);
    for (dl->k = 0; dl->k < K; dl->k++) {
      lua_pushvalue (T, 2);
      lua_pushvalue (T, 5 + (int) dl->k);
      lua_pushvalue (T, 4);
      lua_call (T, 2, 1);
      if (!take_log_density (p->lf, b, dl->i, dl->k, dl->out + dl->i * K + dl->k)) {
        dl->bad = TRUE;
        return 0;
      }
      lua_pop (T, 1);
    }
  }
  return 0;
}

static void
exp_log_density (const mixem_params *p, const mixem_block *b, double *out)
{
  lfam *lf = p->lf;
  lua_State *T = lf->T;
  const int top = lua_gettop (T);
  density_loop dl = { p, b, out, 0, 0, FALSE };
  gboolean ok = !lf->err;
  if (ok) {
    lua_pushcfunction (T, traceback);
    lua_pushcfunction (T, density_loop_run);
    lua_pushlightuserdata (T, &dl);
    if (lua_pcall (T, 1, 0, top + 1) != LUA_OK) {
      char *row = row_name (b, dl.i);
      keep_error (lf, NULL, MIXEM_ERROR_PLUGIN, "log_density (%s, component %zu): %s", row,
                  dl.k + 1, lua_tostring (T, -1));
      g_free (row);
      ok = FALSE;
    }
    ok = ok && !dl.bad;
  }
  lua_settop (T, top);
  for (size_t i = 0; !ok && i < b->n * p->k; i++)
    out[i] = NAN;
}

/* Reads S numbers from the array at the top of T into T_OUT. */
static gboolean
take_stats (lfam *lf, const mixem_block *b, size_t i, size_t S, double *t)
{
  lua_State *T = lf->T;
  const char *fault = NULL;
  if (lua_type (T, -1) != LUA_TTABLE)
    fault = "must return an array of numbers";
  else if (lua_rawlen (T, -1) != S)
    fault = "must return the same number of statistics for every row";
  for (size_t j = 0; !fault && j < S; j++) {
    int isnum = 0;
    lua_rawgeti (T, -1, (lua_Integer) j + 1);
    t[j] = lua_tonumberx (T, -1, &isnum);
    lua_pop (T, 1);
    if (!isnum || !isfinite (t[j]))
      fault = "must return finite numbers";
  }
  if (!fault)
    return TRUE;
  char *row = row_name (b, i);
  keep_error (lf, NULL, MIXEM_ERROR_PLUGIN, "stats %s (%s: got %s of length %zu, expected %zu)",
              fault, row, luaL_typename (T, -1),
              lua_type (T, -1) == LUA_TTABLE ? (size_t) lua_rawlen (T, -1) : 0, S);
  g_free (row);
  return FALSE;
}

static void
block_stats_free (gpointer data)
{
  block_stats *bs = data;
  g_free (bs->x);
  g_free (bs->t);
  g_free (bs->h);
  g_free (bs);
}

/* T(x) (n*S) and base(x) (n) of B's rows: from the cache when the rows are those cached, else
 * by calling stats (and base) once per row.  NULL with the error kept. */
static const block_stats *
stats_of_block (lfam *lf, const mixem_block *b, size_t S)
{
  const gpointer key = GSIZE_TO_POINTER (b->first + 1);
  block_stats *bs = lf->cache ? g_hash_table_lookup (lf->cache, key) : NULL;
  if (bs && bs->n == b->n && bs->d == b->d && bs->S == S
      && memcmp (bs->x, b->x, b->n * b->d * sizeof (double)) == 0)
    return bs;
  lua_State *T = lf->T;
  const int top = lua_gettop (T);
  bs = g_new0 (block_stats, 1);
  bs->n = b->n;
  bs->d = b->d;
  bs->S = S;
  bs->x = g_new (double, b->n * b->d + 1);
  memcpy (bs->x, b->x, b->n * b->d * sizeof (double));
  bs->t = g_new (double, b->n * S + 1);
  bs->h = g_new0 (double, b->n + 1);
  lua_pushcfunction (T, traceback);            /* top + 1 */
  push_field (lf, "stats");                    /* top + 2 */
  const gboolean has_base = push_field (lf, "base") == LUA_TFUNCTION;   /* top + 3 */
  lua_createtable (T, (int) b->d, 0);          /* top + 4 */
  gboolean ok = TRUE;
  for (size_t i = 0; i < b->n && ok; i++) {
    fill_row (T, top + 4, b, i);
    for (int pass = 0; pass < 1 + has_base && ok; pass++) {
      lua_pushvalue (T, top + 2 + pass);
      lua_pushvalue (T, top + 4);
      if (lua_pcall (T, 1, 1, top + 1) != LUA_OK) {
        char *row = row_name (b, i);
        keep_error (lf, NULL, MIXEM_ERROR_PLUGIN, "%s (%s): %s", pass ? "base" : "stats", row,
                    lua_tostring (T, -1));
        g_free (row);
        ok = FALSE;
      } else if (pass == 0)
        ok = take_stats (lf, b, i, S, bs->t + i * S);
      else {
        int isnum = 0;
        bs->h[i] = lua_tonumberx (T, -1, &isnum);
        if (!isnum || !isfinite (bs->h[i])) {
          char *row = row_name (b, i);
          keep_error (lf, NULL, MIXEM_ERROR_PLUGIN, "base must return a finite number (%s)",
                      row);
          g_free (row);
          ok = FALSE;
        }
      }
      lua_settop (T, top + 4);
    }
  }
  lua_settop (T, top);
  if (!ok) {
    block_stats_free (bs);
    return NULL;
  }
  const size_t size = b->n * (b->d + S + 1);
  if (!lf->cache)
    lf->cache = g_hash_table_new_full (NULL, NULL, NULL, block_stats_free);
  block_stats *old = g_hash_table_lookup (lf->cache, key);
  if (old)
    lf->cached -= old->n * (old->d + old->S + 1);
  if (lf->cached + size > CACHE_MAX) {   /* full: start again rather than grow */
    g_hash_table_remove_all (lf->cache);
    lf->cached = 0;
  }
  g_hash_table_replace (lf->cache, key, bs);
  lf->cached += size;
  return bs;
}

static void
exp_accumulate (const mixem_params *p, const mixem_block *b, const double *r, double *stats)
{
  lfam *lf = p->lf;
  const size_t K = p->k, S = p->S, stride = p->stride;
  if (lf->err)
    return;
  const block_stats *bs = stats_of_block (lf, b, S);
  if (!bs)
    return;
  for (size_t i = 0; i < b->n; i++) {
    const double *t = bs->t + i * S;
    for (size_t k = 0; k < K; k++) {
      const double rik = r[i * K + k];
      double *st = stats + k * stride;
      st[0] += rik;
      for (size_t j = 0; j < S; j++)
        st[1 + j] += rik * t[j];
      if (lf->natural)
        st[1 + S] += rik * bs->h[i];
    }
  }
}

/* ETA (K*S) and A (K) of P's components from natural(theta); FALSE with the error kept. */
static gboolean
natural_parameters (const mixem_params *p, double *eta, double *A, GError **error)
{
  lfam *lf = p->lf;
  lua_State *T = lf->T;
  const size_t S = p->S;
  const int top = lua_gettop (T);
  push_thetas (p);                             /* top + 1 */
  for (size_t k = 0; k < p->k; k++) {
    push_field (lf, "natural");
    lua_rawgeti (T, top + 1, (lua_Integer) k + 1);
    if (!call (lf, "natural", 1, 2, error))
      goto fail;
    int isnum = 0;
    A[k] = lua_tonumberx (T, -1, &isnum);
    gboolean ok = isnum && isfinite (A[k]) && lua_type (T, -2) == LUA_TTABLE
                  && lua_rawlen (T, -2) == S;
    for (size_t j = 0; ok && j < S; j++) {
      lua_rawgeti (T, -2, (lua_Integer) j + 1);
      eta[k * S + j] = lua_tonumberx (T, -1, &isnum);
      ok = isnum && isfinite (eta[k * S + j]);
      lua_pop (T, 1);
    }
    if (!ok) {
      keep_error (lf, error, MIXEM_ERROR_PLUGIN,
                  "natural must return an array of %zu finite numbers (eta) and a finite number "
                  "(A), component %zu", S, k + 1);
      goto fail;
    }
    lua_settop (T, top + 1);
  }
  lua_settop (T, top);
  return TRUE;
fail:
  lua_settop (T, top);
  return FALSE;
}

/* log p(x | theta_k) = base(x) + eta_k . T(x) - A_k, in C from the cached T(x). */
static void
natural_log_density (const mixem_params *p, const mixem_block *b, double *out)
{
  lfam *lf = p->lf;
  const size_t K = p->k, S = p->S;
  double *eta = g_new (double, K * S + 1), *A = g_new (double, K);
  const block_stats *bs = NULL;
  if (!lf->err && natural_parameters (p, eta, A, NULL) && (bs = stats_of_block (lf, b, S)))
    for (size_t i = 0; i < b->n; i++) {
      const double *t = bs->t + i * S;
      for (size_t k = 0; k < K; k++) {
        double s = bs->h[i] - A[k];
        for (size_t j = 0; j < S; j++)
          s += eta[k * S + j] * t[j];
        out[i * K + k] = s;
      }
    }
  else
    for (size_t i = 0; i < b->n * K; i++)
      out[i] = NAN;
  g_free (eta);
  g_free (A);
}

/* sum_k eta_k . s_k - n_k A_k + sum_i r_ik base(x_i), from the statistics alone. */
static double
natural_expected_loglik (const mixem_params *p, const double *stats)
{
  const size_t K = p->k, S = p->S, stride = p->stride;
  double *eta = g_new (double, K * S + 1), *A = g_new (double, K), e = 0.0;
  if (!natural_parameters (p, eta, A, NULL))
    e = NAN;
  for (size_t k = 0; k < K && !isnan (e); k++) {
    const double *st = stats + k * stride;
    e += st[1 + S] - st[0] * A[k];
    for (size_t j = 0; j < S; j++)
      e += eta[k * S + j] * st[1 + j];
  }
  g_free (eta);
  g_free (A);
  return e;
}

/* The new thetas into P, from the array at the top of T (popped), leaving FIXED ones. */
static void
commit_thetas (mixem_params *p, const gboolean *fixed)
{
  lua_State *T = p->lf->T;
  if (fixed) {
    push_thetas (p);
    for (size_t k = 0; k < p->k; k++)
      if (fixed[k]) {
        lua_rawgeti (T, -1, (lua_Integer) k + 1);
        lua_rawseti (T, -3, (lua_Integer) k + 1);
      }
    lua_pop (T, 1);
  }
  lua_rawseti (T, LUA_REGISTRYINDEX, p->ref);
}

static gboolean
empty_component (lfam *lf, size_t k, double n, GError **error)
{
  if (n > 0.0)
    return FALSE;
  keep_error (lf, error, MIXEM_ERROR_NUMERIC, "component %zu is empty (weight %g)", k + 1, n);
  return TRUE;
}

static gboolean
exp_maximise (mixem_params *p, const double *stats, const gboolean *fixed, GError **error)
{
  lfam *lf = p->lf;
  lua_State *T = lf->T;
  const size_t K = p->k, S = p->S, stride = p->stride;
  const int top = lua_gettop (T);
  push_thetas (p);
  copy_thetas (T, -1, K);                      /* top + 2: the new thetas, built aside */
  for (size_t k = 0; k < K; k++) {
    const double *st = stats + k * stride;
    if (fixed && fixed[k])
      continue;
    if (empty_component (lf, k, st[0], error))
      goto fail;
    push_field (lf, "maximise");
    lua_createtable (T, (int) S, 0);
    for (size_t j = 0; j < S; j++) {
      lua_pushnumber (T, st[1 + j]);
      lua_rawseti (T, -2, (lua_Integer) j + 1);
    }
    lua_pushnumber (T, st[0]);
    char cb[64];
    g_snprintf (cb, sizeof cb, "maximise (component %zu)", k + 1);
    if (!call (lf, cb, 2, 1, error) || !check_theta (lf, -1, cb, TRUE, error))
      goto fail;
    lua_rawseti (T, top + 2, (lua_Integer) k + 1);
  }
  commit_thetas (p, fixed);
  lua_settop (T, top);
  return TRUE;
fail:
  lua_settop (T, top);
  return FALSE;
}

/* sum_k expected_loglik(theta_k, s_k, n_k), each from the statistics alone. */
static double
exp_expected_loglik (const mixem_params *p, const double *stats)
{
  lfam *lf = p->lf;
  lua_State *T = lf->T;
  const size_t K = p->k, S = p->S, stride = p->stride;
  const int top = lua_gettop (T);
  double e = 0.0;
  push_thetas (p);                             /* top + 1 */
  for (size_t k = 0; k < K && !lf->err; k++) {
    const double *st = stats + k * stride;
    push_field (lf, "expected_loglik");
    lua_rawgeti (T, top + 1, (lua_Integer) k + 1);
    lua_createtable (T, (int) S, 0);
    for (size_t j = 0; j < S; j++) {
      lua_pushnumber (T, st[1 + j]);
      lua_rawseti (T, -2, (lua_Integer) j + 1);
    }
    lua_pushnumber (T, st[0]);
    if (!call (lf, "expected_loglik", 3, 1, NULL))
      break;
    int isnum = 0;
    e += lua_tonumberx (T, -1, &isnum);
    if (!isnum)
      keep_error (lf, NULL, MIXEM_ERROR_PLUGIN, "expected_loglik must return a number, not a %s",
                  luaL_typename (T, -1));
    lua_pop (T, 1);
  }
  lua_settop (T, top);
  return lf->err ? NAN : e;
}

/* ---- the block form ---- */

/* Pushes X: an array of the block's rows, each an array of d numbers. */
static void
push_block_rows (lua_State *T, const mixem_block *b)
{
  lua_createtable (T, (int) b->n, 0);
  for (size_t i = 0; i < b->n; i++) {
    lua_createtable (T, (int) b->d, 0);
    fill_row (T, lua_gettop (T), b, i);
    lua_rawseti (T, -2, (lua_Integer) i + 1);
  }
}

/* Pushes an array of N arrays of M values: VALUES (row-major) or, when NULL, zeros (FILL_ZERO)
 * or nothing. */
static void
push_matrix (lua_State *T, size_t n, size_t m, const double *values, gboolean fill_zero)
{
  lua_createtable (T, (int) n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_createtable (T, (int) m, 0);
    for (size_t j = 0; (values || fill_zero) && j < m; j++) {
      lua_pushnumber (T, values ? values[i * m + j] : 0.0);
      lua_rawseti (T, -2, (lua_Integer) j + 1);
    }
    lua_rawseti (T, -2, (lua_Integer) i + 1);
  }
}

/* Reads the N by M array at IDX into OUT; CHECK_LD: each a log-density (no NaN, no +inf). */
static gboolean
take_matrix (lfam *lf, int idx, size_t n, size_t m, double *out, const char *what,
             const mixem_block *b, gboolean check_ld)
{
  lua_State *T = lf->T;
  idx = lua_absindex (T, idx);
  for (size_t i = 0; i < n; i++) {
    if (lua_rawgeti (T, idx, (lua_Integer) i + 1) != LUA_TTABLE) {
      keep_error (lf, NULL, MIXEM_ERROR_PLUGIN, "%s[%zu] must stay a table", what, i + 1);
      lua_pop (T, 1);
      return FALSE;
    }
    for (size_t j = 0; j < m; j++) {
      int isnum = 0;
      lua_rawgeti (T, -1, (lua_Integer) j + 1);
      const double v = lua_tonumberx (T, -1, &isnum);
      if (!isnum || isnan (v) || v == INFINITY || (!check_ld && !isfinite (v))) {
        char *row = b ? row_name (b, i) : g_strdup_printf ("entry %zu", i + 1);
        keep_error (lf, NULL, MIXEM_ERROR_PLUGIN, "%s[%zu][%zu] is %s (%s)", what, i + 1, j + 1,
                    isnum ? (isnan (v) ? "NaN" : "infinite") : luaL_typename (T, -1), row);
        g_free (row);
        lua_pop (T, 2);
        return FALSE;
      }
      out[i * m + j] = v;
      lua_pop (T, 1);
    }
    lua_pop (T, 1);
  }
  return TRUE;
}

static void
block_log_density (const mixem_params *p, const mixem_block *b, double *out)
{
  lfam *lf = p->lf;
  lua_State *T = lf->T;
  const int top = lua_gettop (T);
  gboolean ok = !lf->err;
  if (ok) {
    push_field (lf, "log_density");
    push_thetas (p);
    push_block_rows (T, b);
    push_matrix (T, b->n, p->k, NULL, FALSE);
    lua_pushvalue (T, -1);
    lua_insert (T, top + 1);                   /* out, kept below the call */
    ok = call (lf, "log_density", 3, 0, NULL)
         && take_matrix (lf, top + 1, b->n, p->k, out, "out", b, TRUE);
  }
  lua_settop (T, top);
  for (size_t i = 0; !ok && i < b->n * p->k; i++)
    out[i] = NAN;
}

static void
block_accumulate (const mixem_params *p, const mixem_block *b, const double *r, double *stats)
{
  lfam *lf = p->lf;
  lua_State *T = lf->T;
  const size_t K = p->k, S = p->S, stride = 1 + S;
  const int top = lua_gettop (T);
  if (lf->err)
    return;
  push_field (lf, "accumulate");
  push_thetas (p);
  push_block_rows (T, b);
  push_matrix (T, b->n, K, r, FALSE);
  push_matrix (T, K, S, NULL, TRUE);
  lua_pushvalue (T, -1);
  lua_insert (T, top + 1);                     /* S, kept below the call */
  double *s = g_new (double, K * S + 1);
  if (call (lf, "accumulate", 4, 0, NULL)
      && take_matrix (lf, top + 1, K, S, s, "S", NULL, FALSE))
    for (size_t k = 0; k < K; k++) {
      double *st = stats + k * stride;
      for (size_t i = 0; i < b->n; i++)
        st[0] += r[i * K + k];
      for (size_t j = 0; j < S; j++)
        st[1 + j] += s[k * S + j];
    }
  g_free (s);
  lua_settop (T, top);
}

/* Pushes S (K arrays of the statistics) and N (the K weights) from STATS. */
static void
push_block_stats (const mixem_params *p, const double *stats)
{
  lua_State *T = p->lf->T;
  const size_t K = p->k, S = p->S, stride = 1 + S;
  lua_createtable (T, (int) K, 0);
  for (size_t k = 0; k < K; k++) {
    lua_createtable (T, (int) S, 0);
    for (size_t j = 0; j < S; j++) {
      lua_pushnumber (T, stats[k * stride + 1 + j]);
      lua_rawseti (T, -2, (lua_Integer) j + 1);
    }
    lua_rawseti (T, -2, (lua_Integer) k + 1);
  }
  lua_createtable (T, (int) K, 0);
  for (size_t k = 0; k < K; k++) {
    lua_pushnumber (T, stats[k * stride]);
    lua_rawseti (T, -2, (lua_Integer) k + 1);
  }
}

static gboolean
block_maximise (mixem_params *p, const double *stats, const gboolean *fixed, GError **error)
{
  lfam *lf = p->lf;
  lua_State *T = lf->T;
  const size_t K = p->k, stride = 1 + p->S;
  const int top = lua_gettop (T);
  for (size_t k = 0; k < K; k++)
    if (!(fixed && fixed[k]) && empty_component (lf, k, stats[k * stride], error))
      return FALSE;
  push_field (lf, "maximise");
  push_block_stats (p, stats);
  push_thetas (p);
  copy_thetas (T, -1, K);                      /* the callback may change its argument */
  lua_remove (T, -2);
  if (!call (lf, "maximise", 3, 1, error))
    goto fail;
  if (lua_type (T, -1) != LUA_TTABLE || lua_rawlen (T, -1) != K) {
    keep_error (lf, error, MIXEM_ERROR_PLUGIN,
                "maximise must return an array of k = %zu thetas (got a %s of length %zu)", K,
                luaL_typename (T, -1),
                lua_type (T, -1) == LUA_TTABLE ? (size_t) lua_rawlen (T, -1) : 0);
    goto fail;
  }
  for (size_t k = 0; k < K; k++) {
    char cb[64];
    g_snprintf (cb, sizeof cb, "maximise (component %zu)", k + 1);
    lua_rawgeti (T, -1, (lua_Integer) k + 1);
    gboolean ok = (fixed && fixed[k]) || check_theta (lf, -1, cb, TRUE, error);
    lua_pop (T, 1);
    if (!ok)
      goto fail;
  }
  copy_thetas (T, -1, K);                      /* ours, not an alias of a table the script holds */
  lua_remove (T, -2);
  commit_thetas (p, fixed);
  lua_settop (T, top);
  return TRUE;
fail:
  lua_settop (T, top);
  return FALSE;
}

static double
block_expected_loglik (const mixem_params *p, const double *stats)
{
  lfam *lf = p->lf;
  lua_State *T = lf->T;
  const int top = lua_gettop (T);
  double e = NAN;
  if (lf->err)
    return e;
  push_field (lf, "expected_loglik");
  push_thetas (p);
  push_block_stats (p, stats);
  if (call (lf, "expected_loglik", 3, 1, NULL)) {
    int isnum = 0;
    e = lua_tonumberx (T, -1, &isnum);
    if (!isnum)
      keep_error (lf, NULL, MIXEM_ERROR_PLUGIN, "expected_loglik must return a number, not a %s",
                  luaL_typename (T, -1));
  }
  lua_settop (T, top);
  return lf->err ? NAN : e;
}

/* ---- both forms ---- */

static gboolean
check_data (const mixem_params *p, const mixem_block *b, GError **error)
{
  lfam *lf = p->lf;
  lua_State *T = lf->T;
  const int top = lua_gettop (T);
  if (push_field (lf, "check") != LUA_TFUNCTION) {
    lua_settop (T, top);
    return TRUE;
  }
  lua_createtable (T, (int) b->d, 0);          /* top + 2 */
  gboolean ok = TRUE;
  for (size_t i = 0; i < b->n && ok; i++) {
    fill_row (T, top + 2, b, i);
    lua_pushvalue (T, top + 1);
    lua_pushvalue (T, top + 2);
    ok = call (lf, "check", 1, 2, error);
    if (ok && !lua_toboolean (T, -2)) {
      char *row = row_name (b, i);
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: %s", row,
                   lua_isstring (T, -1) ? lua_tostring (T, -1) : "refused by the family's check");
      g_free (row);
      ok = FALSE;
    }
    lua_settop (T, top + 2);
  }
  lua_settop (T, top);
  return ok;
}

static size_t
n_free_params (const mixem_params *p)
{
  lfam *lf = p->lf;
  if (lf->n_params >= 0)
    return p->k * (size_t) lf->n_params;
  /* Every number of a component's theta is free. */
  lua_State *T = lf->T;
  push_thetas (p);
  lua_rawgeti (T, -1, 1);
  size_t count = 0;
  lua_pushnil (T);
  while (lua_next (T, -2)) {
    if (lua_type (T, -1) == LUA_TNUMBER)
      count++;
    else
      for (lua_Unsigned i = 1; i <= lua_rawlen (T, -1); i++) {
        lua_rawgeti (T, -1, (lua_Integer) i);
        count += lua_type (T, -1) == LUA_TTABLE ? lua_rawlen (T, -1) : 1;
        lua_pop (T, 1);
      }
    lua_pop (T, 1);
  }
  lua_pop (T, 2);
  return p->k * count;
}

/* The random number generator a sample() callback gets, valid during that call only. */
typedef struct { gsl_rng *rng; } lrng;

static gsl_rng *
check_rng (lua_State *L)
{
  lrng *u = luaL_checkudata (L, 1, RNG_MT);
  if (!u->rng)
    luaL_error (L, "rng: used after its sample() call returned");
  return u->rng;
}

static int rng_uniform (lua_State *L) { lua_pushnumber (L, gsl_rng_uniform (check_rng (L))); return 1; }
static int
rng_normal (lua_State *L)
{
  gsl_rng *r = check_rng (L);
  lua_pushnumber (L, luaL_optnumber (L, 2, 0.0) + gsl_ran_gaussian (r, luaL_optnumber (L, 3, 1.0)));
  return 1;
}
static int
rng_poisson (lua_State *L)
{
  gsl_rng *r = check_rng (L);
  lua_pushnumber (L, (double) gsl_ran_poisson (r, luaL_checknumber (L, 2)));
  return 1;
}
static int
rng_exponential (lua_State *L)
{
  gsl_rng *r = check_rng (L);
  lua_pushnumber (L, gsl_ran_exponential (r, luaL_checknumber (L, 2)));
  return 1;
}
static int
rng_gamma (lua_State *L)
{
  gsl_rng *r = check_rng (L);
  lua_pushnumber (L, gsl_ran_gamma (r, luaL_checknumber (L, 2), luaL_optnumber (L, 3, 1.0)));
  return 1;
}
static int
rng_binomial (lua_State *L)
{
  gsl_rng *r = check_rng (L);
  const lua_Integer n = luaL_checkinteger (L, 3);
  luaL_argcheck (L, n >= 0 && n <= G_MAXINT32, 3, "trials must lie in [0, 2^31)");
  lua_pushnumber (L, (double) gsl_ran_binomial (r, luaL_checknumber (L, 2), (unsigned) n));
  return 1;
}
static int
rng_laplace (lua_State *L)
{
  gsl_rng *r = check_rng (L);
  lua_pushnumber (L, luaL_optnumber (L, 2, 0.0) + gsl_ran_laplace (r, luaL_optnumber (L, 3, 1.0)));
  return 1;
}

static void
sample (const mixem_params *p, size_t k, gsl_rng *rng, double *x)
{
  lfam *lf = p->lf;
  lua_State *T = lf->T;
  const int top = lua_gettop (T);
  for (size_t j = 0; j < p->d; j++)
    x[j] = NAN;
  if (lf->err)
    return;
  push_field (lf, "sample");
  push_thetas (p);
  lua_rawgeti (T, -1, (lua_Integer) k + 1);
  lua_remove (T, -2);
  lrng *u = lua_newuserdatauv (T, sizeof *u, 0);
  u->rng = rng;
  luaL_setmetatable (T, RNG_MT);
  lua_pushvalue (T, -1);
  lua_insert (T, top + 1);                     /* the rng, kept to invalidate it after */
  if (call (lf, "sample", 2, 1, NULL)) {
    if (lua_type (T, -1) != LUA_TTABLE || lua_rawlen (T, -1) != p->d)
      keep_error (lf, NULL, MIXEM_ERROR_PLUGIN,
                  "sample must return an array of d = %zu numbers (got a %s)", p->d,
                  luaL_typename (T, -1));
    else
      for (size_t j = 0; j < p->d; j++) {
        int isnum = 0;
        lua_rawgeti (T, -1, (lua_Integer) j + 1);
        x[j] = lua_tonumberx (T, -1, &isnum);
        lua_pop (T, 1);
        if (!isnum || !isfinite (x[j])) {
          keep_error (lf, NULL, MIXEM_ERROR_PLUGIN, "sample gave a non-number at entry %zu",
                      j + 1);
          break;
        }
      }
  }
  ((lrng *) lua_touserdata (T, top + 1))->rng = NULL;
  lua_settop (T, top);
}

/* The start "custom": thetas = init(X, k, rng), X every row of the data. */
static gboolean
lua_init (mixem_params *p, const mixem_block *data, const char *method, gsl_rng *rng,
          GError **error)
{
  lfam *lf = p->lf;
  lua_State *T = lf->T;
  const int top = lua_gettop (T);
  if (strcmp (method, "custom") != 0) {
    keep_error (lf, error, MIXEM_ERROR_OPTION, "no start '%s'", method);
    return FALSE;
  }
  push_field (lf, "init");
  push_block_rows (T, data);
  lua_pushinteger (T, (lua_Integer) p->k);
  lrng *u = lua_newuserdatauv (T, sizeof *u, 0);
  u->rng = rng;
  luaL_setmetatable (T, RNG_MT);
  lua_pushvalue (T, -1);
  lua_insert (T, top + 1);                     /* the rng, kept to invalidate it after */
  gboolean ok = call (lf, "init", 3, 1, error);
  if (ok && (lua_type (T, -1) != LUA_TTABLE || lua_rawlen (T, -1) != p->k)) {
    keep_error (lf, error, MIXEM_ERROR_PLUGIN,
                "init must return an array of k = %zu thetas (got a %s)", p->k,
                luaL_typename (T, -1));
    ok = FALSE;
  }
  for (size_t k = 0; ok && k < p->k; k++) {
    char cb[64];
    g_snprintf (cb, sizeof cb, "init (component %zu)", k + 1);
    lua_rawgeti (T, -1, (lua_Integer) k + 1);
    ok = check_theta (lf, -1, cb, TRUE, error);
    lua_pop (T, 1);
  }
  if (ok) {
    copy_thetas (T, -1, p->k);
    lua_remove (T, -2);
    commit_thetas (p, NULL);
  }
  ((lrng *) lua_touserdata (T, top + 1))->rng = NULL;
  lua_settop (T, top);
  return ok;
}

static gboolean
take_error (const mixem_params *p, GError **error)
{
  lfam *lf = p->lf;
  if (!lf->err)
    return TRUE;
  g_propagate_error (error, lf->err);
  lf->err = NULL;
  return FALSE;
}

/* ---- mixem.family ---- */

static void
lfam_free (gpointer data)
{
  lfam *lf = data;
  /* Called when the registry goes (the Lua state is closing: its references go with it) or on
   * a redefinition (mixem_registry_remove), when the references are released first. */
  g_free (lf->name);
  g_free (lf->summary);
  g_strfreev (lf->decl_name);
  g_free (lf->decl_cons);
  g_clear_error (&lf->err);
  if (lf->cache)
    g_hash_table_destroy (lf->cache);
  g_free (lf);
}

static const char *const exp_keys[] = { "name", "summary", "form", "stats", "maximise",
                                        "log_density", "natural", "base", "expected_loglik",
                                        "sample", "n_params", "n_stats", "params", "check",
                                        "init", NULL };
static const char *const block_keys[] = { "name", "summary", "form", "log_density", "accumulate",
                                          "maximise", "expected_loglik", "sample", "n_params",
                                          "n_stats", "params", "check", "init", NULL };

/* A function field: required or optional; a non-function is an error either way. */
static gboolean
has_function (lua_State *L, const char *name, gboolean required, const char *fam)
{
  int t = lua_getfield (L, 1, name);
  lua_pop (L, 1);
  if (t == LUA_TNIL && !required)
    return FALSE;
  if (t != LUA_TFUNCTION)
    luaL_error (L, "mixem.family: family '%s': '%s' must be a function%s", fam, name,
                t == LUA_TNIL ? " (it is required)" : "");
  return TRUE;
}

static mixem_params *exp_params_new (const mixem_spec *spec, GError **error);

/* mixem.family{...}: defines a family; returns its name. */
int
lmixem_family (lua_State *L, mixem_registry *reg)
{
  luaL_checktype (L, 1, LUA_TTABLE);
  lua_getfield (L, 1, "name");
  const char *name = lua_tostring (L, -1);
  if (!name || !*name)
    luaL_error (L, "mixem.family: 'name' must be a non-empty string");
  for (const char *c = name; *c; c++)
    if (!g_ascii_isalnum (*c) && *c != '_' && *c != '-')
      luaL_error (L, "mixem.family: '%s' is not a valid family name (letters, digits, _ and -)",
                  name);
  lua_pop (L, 1);
  lua_getfield (L, 1, "form");
  const char *form = luaL_optstring (L, -1, "exponential");
  if (strcmp (form, "exponential") != 0 && strcmp (form, "block") != 0)
    luaL_error (L, "mixem.family: family '%s': form '%s' is neither 'exponential' nor 'block'",
                name, form);
  const form_t f = strcmp (form, "block") == 0 ? FORM_BLOCK : FORM_EXPONENTIAL;
  lua_pop (L, 1);
  /* Every key known to the form, every required function there. */
  const char *const *keys = f == FORM_BLOCK ? block_keys : exp_keys;
  lua_pushnil (L);
  while (lua_next (L, 1)) {
    lua_pop (L, 1);
    if (lua_type (L, -1) != LUA_TSTRING || !g_strv_contains (keys, lua_tostring (L, -1))) {
      char *list = g_strjoinv (", ", (char **) keys);
      lua_pushfstring (L, "mixem.family: family '%s': unknown key '%s' for the %s form (known: %s)",
                       name, luaL_tolstring (L, -1, NULL), form, list);
      g_free (list);
      lua_error (L);
    }
  }
  gboolean natural = FALSE;
  if (f == FORM_EXPONENTIAL) {
    has_function (L, "stats", TRUE, name);
    has_function (L, "maximise", TRUE, name);
    natural = has_function (L, "natural", FALSE, name);
    /* With natural (and base), the log-density follows: log_density is then optional. */
    has_function (L, "log_density", !natural, name);
    if (has_function (L, "base", FALSE, name) && !natural)
      luaL_error (L, "mixem.family: family '%s': 'base' goes with 'natural'", name);
  } else {
    has_function (L, "log_density", TRUE, name);
    has_function (L, "accumulate", TRUE, name);
    has_function (L, "maximise", TRUE, name);
  }
  const gboolean has_expected = has_function (L, "expected_loglik", FALSE, name);
  const gboolean has_sample = has_function (L, "sample", FALSE, name);
  const gboolean has_check = has_function (L, "check", FALSE, name);
  const gboolean has_init = has_function (L, "init", FALSE, name);
  lua_Integer n_stats = 0, n_params = -1;
  if (lua_getfield (L, 1, "n_stats") != LUA_TNIL) {
    int ok = 0;
    n_stats = lua_tointegerx (L, -1, &ok);
    if (!ok || n_stats < 1 || n_stats > 1 << 20)
      luaL_error (L, "mixem.family: family '%s': 'n_stats' must be an integer in [1, 2^20]",
                  name);
  } else if (f == FORM_BLOCK)
    luaL_error (L, "mixem.family: family '%s': the block form needs 'n_stats' (statistics per "
                   "component)", name);
  lua_pop (L, 1);
  if (lua_getfield (L, 1, "n_params") != LUA_TNIL) {
    int ok = 0;
    n_params = lua_tointegerx (L, -1, &ok);
    if (!ok || n_params < 0)
      luaL_error (L, "mixem.family: family '%s': 'n_params' must be an integer >= 0", name);
  }
  lua_pop (L, 1);
  /* params = {name = constraint}: declared parameters, checked in every theta. */
  GPtrArray *dn = g_ptr_array_new ();
  GArray *dc = g_array_new (FALSE, FALSE, sizeof (mixem_constraint));
  if (lua_getfield (L, 1, "params") != LUA_TNIL) {
    if (!lua_istable (L, -1))
      luaL_error (L, "mixem.family: family '%s': 'params' must be a table {name = constraint}",
                  name);
    lua_pushnil (L);
    while (lua_next (L, -2)) {
      const char *c = lua_tostring (L, -1);
      int ci = -1;
      for (int i = 0; c && constraint_names[i]; i++)
        if (strcmp (constraint_names[i], c) == 0)
          ci = i;
      if (lua_type (L, -2) != LUA_TSTRING || ci < 0) {
        g_ptr_array_free (dn, TRUE);
        g_array_free (dc, TRUE);
        luaL_error (L, "mixem.family: family '%s': params: each entry must be name = one of "
                       "'real', 'positive', 'nonnegative', 'unit', 'open_unit'", name);
      }
      g_ptr_array_add (dn, g_strdup (lua_tostring (L, -2)));
      mixem_constraint cc = (mixem_constraint) ci;
      g_array_append_val (dc, cc);
      lua_pop (L, 1);
    }
  }
  lua_pop (L, 1);
  const size_t n_decl = dn->len;
  g_ptr_array_add (dn, NULL);
  char **decl_name = (char **) g_ptr_array_free (dn, FALSE);
  mixem_constraint *decl_cons = (mixem_constraint *) (void *) g_array_free (dc, FALSE);

  /* A C family of that name wins; a Lua one may be redefined while no model of it lives. */
  GError *err = NULL;
  const mixem_family *old = mixem_registry_lookup (reg, name, &err);
  g_clear_error (&err);
  if (old) {
    const char *origin = mixem_registry_origin (reg, old);
    if (strcmp (origin, "lua") != 0) {
      g_strfreev (decl_name);
      g_free (decl_cons);
      luaL_error (L, "mixem.family: '%s' is already a family (from %s): choose another name",
                  name, origin);
    }
    const lfam *olf = old->data;
    if (olf->live > 0) {
      g_strfreev (decl_name);
      g_free (decl_cons);
      luaL_error (L, "mixem.family: family '%s' is redefined while %d model%s or parameter "
                     "set%s of it exist%s; drop them (and collect garbage) first", name,
                  olf->live, olf->live == 1 ? "" : "s", olf->live == 1 ? "" : "s",
                  olf->live == 1 ? "s" : "");
    }
    luaL_unref (L, LUA_REGISTRYINDEX, olf->ref_def);
    luaL_unref (L, LUA_REGISTRYINDEX, olf->ref_thread);
    mixem_registry_remove (reg, name);
  }

  lfam *lf = g_new0 (lfam, 1);
  lf->name = g_strdup (name);
  lua_getfield (L, 1, "summary");
  lf->summary = g_strdup (lua_isstring (L, -1) ? lua_tostring (L, -1) : "a family written in Lua");
  lua_pop (L, 1);
  lf->form = f;
  lf->natural = natural;
  lf->n_stats = n_stats;
  lf->n_params = n_params;
  lf->n_decl = n_decl;
  lf->decl_name = decl_name;
  lf->decl_cons = decl_cons;
  lf->T = lua_newthread (L);
  lf->ref_thread = luaL_ref (L, LUA_REGISTRYINDEX);
  /* A copy of the definition: later changes to the script's table do not reach the family. */
  lua_newtable (L);
  lua_pushnil (L);
  while (lua_next (L, 1)) {
    lua_pushvalue (L, -2);
    lua_insert (L, -2);
    lua_rawset (L, -4);
  }
  lf->ref_def = luaL_ref (L, LUA_REGISTRYINDEX);

  mixem_family *fam = &lf->fam;
  fam->abi_version = MIXEM_FAMILY_ABI_VERSION;
  fam->size = MIXEM_FAMILY_SIZE;
  fam->flags = MIXEM_FAMILY_SERIAL;
  fam->name = lf->name;
  fam->summary = lf->summary;
  fam->init_methods = has_init ? custom_starts : engine_starts;
  fam->init = has_init ? lua_init : NULL;
  fam->params_new = exp_params_new;
  fam->params_copy = params_copy;
  fam->params_free = params_free;
  fam->check_data = has_check ? check_data : NULL;
  fam->log_density = f == FORM_BLOCK ? block_log_density
                     : natural ? natural_log_density : exp_log_density;
  fam->stats_size = stats_size;
  fam->accumulate = f == FORM_BLOCK ? block_accumulate : exp_accumulate;
  fam->maximise = f == FORM_BLOCK ? block_maximise : exp_maximise;
  fam->expected_loglik = f == FORM_BLOCK ? (has_expected ? block_expected_loglik : NULL)
                         : has_expected ? exp_expected_loglik
                         : natural ? natural_expected_loglik : NULL;
  fam->n_free_params = n_free_params;
  fam->sample = has_sample ? sample : NULL;
  fam->describe = describe;
  fam->assign = assign;
  fam->take_error = take_error;
  fam->data = lf;                   /* params_new finds the definition through the spec */
  if (!mixem_registry_add_owned (reg, fam, "lua", lfam_free, lf, &err)) {
    luaL_unref (L, LUA_REGISTRYINDEX, lf->ref_def);
    luaL_unref (L, LUA_REGISTRYINDEX, lf->ref_thread);
    lfam_free (lf);
    lua_pushfstring (L, "mixem.family: %s", err->message);
    g_error_free (err);
    lua_error (L);
  }
  lua_pushstring (L, name);
  return 1;
}

static mixem_params *
exp_params_new (const mixem_spec *spec, GError **error)
{
  return params_make (spec->family->data, spec, error);
}

void
lmixem_family_open (lua_State *L)
{
  static const luaL_Reg rng_methods[] = {
    { "uniform", rng_uniform }, { "normal", rng_normal }, { "poisson", rng_poisson },
    { "exponential", rng_exponential }, { "gamma", rng_gamma }, { "binomial", rng_binomial },
    { "laplace", rng_laplace }, { NULL, NULL }
  };
  luaL_newmetatable (L, RNG_MT);
  luaL_newlib (L, rng_methods);
  lua_setfield (L, -2, "__index");
  lua_pop (L, 1);
}
