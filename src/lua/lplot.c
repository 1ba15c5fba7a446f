/* lplot.c: mixem.plot: the pictures of mixem/plot.h from Lua (traces, clusters, prototypes,
 * levels, densities, regressions, selection tables); under mpirun rank 0 alone draws. */
#include <math.h>
#include <string.h>
#include "lmx.h"

/* ---- mixem.plot: pictures (see mixem/plot.h) ---- */

/* The options table at IDX (may be absent): width, height, title, and the KEYS the plot adds. */
static void
plot_options (lua_State *L, int idx, const char *fn, const char *const *extra,
              mixem_plot_options *po, lscratch *s)
{
  memset (po, 0, sizeof *po);
  if (lua_isnoneornil (L, idx))
    return;
  luaL_checktype (L, idx, LUA_TTABLE);
  lua_pushnil (L);
  while (lua_next (L, idx)) {
    const char *key = lua_type (L, -2) == LUA_TSTRING ? lua_tostring (L, -2) : NULL;
    gboolean known = key && (strcmp (key, "width") == 0 || strcmp (key, "height") == 0
                             || strcmp (key, "title") == 0);
    for (const char *const *e = extra; key && e && *e && !known; e++)
      known = strcmp (key, *e) == 0;
    if (!known)
      luaL_error (L, "%s: unknown option '%s'", fn, key ? key : luaL_typename (L, -2));
    lua_pop (L, 1);
  }
  po->width = lmx_opt_cint (L, idx, fn, "width", 0, 0, "a size in pixels");
  po->height = lmx_opt_cint (L, idx, fn, "height", 0, 0, "a size in pixels");
  po->title = lmx_opt_str (L, idx, fn, "title", s);
}

/* The trace at IDX, a model's or a table of records {iter, loglik, elbo [, kl]}; *L0 gets a
 * model's l(theta_0) (NAN otherwise).  A table's copy is kept in S. */
static const mixem_iteration *
trace_arg (lua_State *L, int idx, const char *fn, lscratch *s, size_t *n, double *l0)
{
  idx = lua_absindex (L, idx);
  *l0 = NAN;
  if (luaL_testudata (L, idx, MODEL_MT)) {
    const mixem_model *m = lmx_check_model (L, idx)->m;
    *l0 = mixem_model_initial_loglik (m);
    return mixem_model_trace (m, n);
  }
  if (!lua_istable (L, idx))
    luaL_error (L, "%s: a model or a trace table expected, got %s", fn, luaL_typename (L, idx));
  *n = (size_t) luaL_len (L, idx);
  mixem_iteration *t = lmx_scratch_keep (s, g_new0 (mixem_iteration, *n > 0 ? *n : 1), g_free);
  for (size_t i = 0; i < *n; i++) {
    if (lua_geti (L, idx, (lua_Integer) i + 1) != LUA_TTABLE)
      luaL_error (L, "%s: trace entry %d is not a table", fn, (int) i + 1);
    t[i].iter = lmx_opt_cint (L, -1, fn, "iter", (lua_Integer) i + 1, 0, "an integer");
    t[i].loglik = lmx_opt_real (L, -1, fn, "loglik", NAN);
    t[i].elbo = lmx_opt_real (L, -1, fn, "elbo", NAN);
    t[i].kl = lmx_opt_real (L, -1, fn, "kl", t[i].loglik - t[i].elbo);
    if (!isfinite (t[i].loglik) || !isfinite (t[i].elbo))
      luaL_error (L, "%s: trace entry %d needs numbers loglik and elbo", fn, (int) i + 1);
    lua_pop (L, 1);
  }
  return t;
}

/* mx.plot.trace(model or trace table, path [, opts]) */
static int
p_trace (lua_State *L)
{
  static const char *const fn = "mixem.plot.trace";
  lua_settop (L, 3);   /* the scratch goes above the arguments */
  const char *path = luaL_checkstring (L, 2);
  lscratch *s = lmx_scratch_new (L);
  mixem_plot_options po;
  plot_options (L, 3, fn, NULL, &po, s);
  size_t n;
  double l0;
  const mixem_iteration *tr = trace_arg (L, 1, fn, s, &n, &l0);
  GError *err = NULL;
  if (!mixem_plot_trace (path, tr, n, l0, &po, &err))
    return lmx_raise_gerror (L, fn, err);
  return 0;
}

/* mx.plot.traces({model or trace table, ...}, path [, {labels = {...}, ...}]) */
static int
p_traces (lua_State *L)
{
  static const char *const fn = "mixem.plot.traces";
  static const char *const extra[] = { "labels", NULL };
  lua_settop (L, 3);
  luaL_checktype (L, 1, LUA_TTABLE);
  const char *path = luaL_checkstring (L, 2);
  lscratch *s = lmx_scratch_new (L);
  mixem_plot_options po;
  plot_options (L, 3, fn, extra, &po, s);
  const size_t m = (size_t) luaL_len (L, 1);
  const mixem_iteration **trs = lmx_scratch_keep (s, g_new0 (const mixem_iteration *, m + 1), g_free);
  size_t *lens = lmx_scratch_keep (s, g_new0 (size_t, m + 1), g_free);
  const char **labels = lmx_scratch_keep (s, g_new0 (const char *, m + 1), g_free);
  for (size_t j = 0; j < m; j++) {
    double l0;
    lua_geti (L, 1, (lua_Integer) j + 1);
    trs[j] = trace_arg (L, -1, fn, s, &lens[j], &l0);
    lua_pop (L, 1);   /* a model stays alive in argument 1 */
  }
  if (lua_istable (L, 3) && lua_getfield (L, 3, "labels") != LUA_TNIL) {
    luaL_argexpected (L, lua_istable (L, -1), 3, "labels: a table of strings");
    for (size_t j = 0; j < m; j++) {
      if (lua_geti (L, -1, (lua_Integer) j + 1) != LUA_TSTRING)
        luaL_error (L, "%s: labels[%d] is not a string", fn, (int) j + 1);
      labels[j] = lmx_scratch_keep (s, g_strdup (lua_tostring (L, -1)), g_free);
      lua_pop (L, 1);
    }
  }
  GError *err = NULL;
  if (!mixem_plot_traces (path, trs, lens, labels, m, &po, &err))
    return lmx_raise_gerror (L, fn, err);
  return 0;
}

/* The column argument KEY of a clusters plot, by name or number; -1 when absent. */
static int
plot_column (lua_State *L, int idx, const char *key, const mixem_dataset *ds, const char *fn)
{
  if (lua_isnoneornil (L, idx))
    return -1;
  int t = lua_getfield (L, idx, key), j = -1;
  if (t == LUA_TNUMBER) {
    lua_Integer v = lua_tointeger (L, -1);
    j = v >= 1 && (size_t) v <= mixem_dataset_cols (ds) ? (int) v - 1 : -2;
  } else if (t == LUA_TSTRING) {
    j = mixem_dataset_find_column (ds, lua_tostring (L, -1));
    j = j < 0 ? -2 : j;
  } else if (t != LUA_TNIL)
    j = -2;
  if (j == -2)
    luaL_error (L, "%s: '%s' must name one of the model's columns", fn, key);
  lua_pop (L, 1);
  return j;
}

/* mx.plot.clusters(model, X, path [, {x =, y =, ...}]) */
static int
p_clusters (lua_State *L)
{
  static const char *const fn = "mixem.plot.clusters";
  lua_settop (L, 4);   /* the scratch goes above the arguments */
  static const char *const extra[] = { "x", "y", NULL };
  const mixem_model *m = lmx_check_model (L, 1)->m;
  const char *path = luaL_checkstring (L, 3);
  lscratch *s = lmx_scratch_new (L);
  const mixem_dataset *ds = lmx_model_data (L, m, 2, fn, s);
  mixem_plot_options po;
  plot_options (L, 4, fn, extra, &po, s);
  const int x = plot_column (L, 4, "x", ds, fn), y = plot_column (L, 4, "y", ds, fn);
  if ((x < 0) != (y < 0))
    luaL_error (L, "%s: give both 'x' and 'y', or neither", fn);
  GError *err = NULL;
  if (!mixem_plot_clusters (path, m, ds, x, y, &po, &err))
    return lmx_raise_gerror (L, fn, err);
  return 0;
}

/* mx.plot.prototypes(model, path, {shape = {rows, cols}, ...}) */
static int
p_prototypes (lua_State *L)
{
  static const char *const fn = "mixem.plot.prototypes";
  lua_settop (L, 3);   /* the scratch goes above the arguments */
  static const char *const extra[] = { "shape", NULL };
  const mixem_model *m = lmx_check_model (L, 1)->m;
  const char *path = luaL_checkstring (L, 2);
  lscratch *s = lmx_scratch_new (L);
  luaL_checktype (L, 3, LUA_TTABLE);
  mixem_plot_options po;
  plot_options (L, 3, fn, extra, &po, s);
  lua_Integer rc[2] = { 0, 0 };
  if (lua_getfield (L, 3, "shape") == LUA_TTABLE && luaL_len (L, -1) == 2)
    for (int i = 0; i < 2; i++) {
      lua_geti (L, -1, i + 1);
      rc[i] = lua_isinteger (L, -1) ? lua_tointeger (L, -1) : 0;
      lua_pop (L, 1);
    }
  if (rc[0] < 1 || rc[1] < 1)
    luaL_error (L, "%s: 'shape' must be {rows, cols}, such as {8, 8}", fn);
  lua_pop (L, 1);
  GError *err = NULL;
  if (!mixem_plot_prototypes (path, m, (size_t) rc[0], (size_t) rc[1], &po, &err))
    return lmx_raise_gerror (L, fn, err);
  return 0;
}

/* mx.plot.levels(model, path [, opts]): a categorical model's level probabilities */
static int
p_levels (lua_State *L)
{
  static const char *const fn = "mixem.plot.levels";
  lua_settop (L, 3);   /* the scratch goes above the arguments */
  const mixem_model *m = lmx_check_model (L, 1)->m;
  const char *path = luaL_checkstring (L, 2);
  lscratch *s = lmx_scratch_new (L);
  mixem_plot_options po;
  plot_options (L, 3, fn, NULL, &po, s);
  GError *err = NULL;
  if (!mixem_plot_levels (path, m, &po, &err))
    return lmx_raise_gerror (L, fn, err);
  return 0;
}

/* The plots of a model over data, mx.plot.KIND(model, X, path [, opts]): one body, DRAW the
 * library's function. */
typedef gboolean (*model_data_plot) (const char *path, const mixem_model *m,
                                     const mixem_dataset *data, const mixem_plot_options *opts,
                                     GError **error);

static int
plot_model_data (lua_State *L, const char *fn, model_data_plot draw)
{
  lua_settop (L, 4);   /* the scratch goes above the arguments */
  const mixem_model *m = lmx_check_model (L, 1)->m;
  const char *path = luaL_checkstring (L, 3);
  lscratch *s = lmx_scratch_new (L);
  const mixem_dataset *ds = lmx_model_data (L, m, 2, fn, s);
  mixem_plot_options po;
  plot_options (L, 4, fn, NULL, &po, s);
  GError *err = NULL;
  if (!draw (path, m, ds, &po, &err))
    return lmx_raise_gerror (L, fn, err);
  return 0;
}

/* mx.plot.binomial: success rates and the components' predicted counts */
static int
p_binomial (lua_State *L)
{
  return plot_model_data (L, "mixem.plot.binomial", mixem_plot_binomial);
}

/* mx.plot.density: a one-column model over the histogram of X */
static int
p_density (lua_State *L)
{
  return plot_model_data (L, "mixem.plot.density", mixem_plot_density);
}

/* mx.plot.regression: a linreg/poisreg/logitreg/gammareg model's fits over X */
static int
p_regression (lua_State *L)
{
  return plot_model_data (L, "mixem.plot.regression", mixem_plot_regression);
}

/* mx.plot.lines({{x = {...}, y = {...}, label =}, ...}, path [, {xlabel =, ylabel =, ...}]) */
static int
p_lines (lua_State *L)
{
  static const char *const fn = "mixem.plot.lines";
  static const char *const extra[] = { "xlabel", "ylabel", NULL };
  lua_settop (L, 3);   /* the scratch goes above the arguments */
  luaL_checktype (L, 1, LUA_TTABLE);
  const char *path = luaL_checkstring (L, 2);
  lscratch *s = lmx_scratch_new (L);
  mixem_plot_options po;
  plot_options (L, 3, fn, extra, &po, s);
  const char *xl = lua_istable (L, 3) ? lmx_opt_str (L, 3, fn, "xlabel", s) : NULL;
  const char *yl = lua_istable (L, 3) ? lmx_opt_str (L, 3, fn, "ylabel", s) : NULL;
  const size_t m = (size_t) luaL_len (L, 1);
  if (m == 0)
    luaL_error (L, "%s: no series to draw", fn);
  double **xs = lmx_scratch_keep (s, g_new0 (double *, m), g_free);
  double **ys = lmx_scratch_keep (s, g_new0 (double *, m), g_free);
  size_t *lens = lmx_scratch_keep (s, g_new0 (size_t, m), g_free);
  const char **labels = lmx_scratch_keep (s, g_new0 (const char *, m + 1), g_free);
  for (size_t i = 0; i < m; i++) {
    if (lua_geti (L, 1, (lua_Integer) i + 1) != LUA_TTABLE)
      luaL_error (L, "%s: series %d is not a table {x =, y =, label =}", fn, (int) i + 1);
    const int t = lua_gettop (L);
    labels[i] = lmx_opt_str (L, t, fn, "label", s);
    for (int axis = 0; axis < 2; axis++) {
      if (lua_getfield (L, t, axis ? "y" : "x") != LUA_TTABLE)
        luaL_error (L, "%s: series %d has no '%s' array", fn, (int) i + 1, axis ? "y" : "x");
      const size_t n = (size_t) luaL_len (L, -1);
      if (axis && n != lens[i])
        luaL_error (L, "%s: series %d has %d x values and %d y values", fn, (int) i + 1,
                    (int) lens[i], (int) n);
      lens[i] = n;
      double *v = lmx_scratch_keep (s, g_new (double, n + 1), g_free);
      for (size_t j = 0; j < n; j++) {
        lua_geti (L, -1, (lua_Integer) j + 1);
        int isnum;
        v[j] = lua_tonumberx (L, -1, &isnum);
        if (!isnum)
          luaL_error (L, "%s: series %d: %s[%d] is not a number", fn, (int) i + 1,
                      axis ? "y" : "x", (int) j + 1);
        lua_pop (L, 1);
      }
      (axis ? ys : xs)[i] = v;
      lua_pop (L, 1);
    }
    lua_settop (L, t - 1);
  }
  GError *err = NULL;
  if (!mixem_plot_lines (path, (const double *const *) xs, (const double *const *) ys, lens,
                         labels, m, xl, yl, &po, &err))
    return lmx_raise_gerror (L, fn, err);
  return 0;
}

gint
lmx_compare_str (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* mx.plot.select(result of mx.select, path [, {criterion =, ...}]) */
static int
p_select (lua_State *L)
{
  static const char *const fn = "mixem.plot.select";
  lua_settop (L, 3);   /* the scratch goes above the arguments */
  static const char *const extra[] = { "criterion", NULL };
  luaL_checktype (L, 1, LUA_TTABLE);
  const char *path = luaL_checkstring (L, 2);
  lscratch *s = lmx_scratch_new (L);
  mixem_plot_options po;
  plot_options (L, 3, fn, extra, &po, s);
  const char *cname = lua_istable (L, 3) ? lmx_opt_str (L, 3, fn, "criterion", s) : NULL;
  if (!cname)
    cname = lmx_opt_str (L, 1, fn, "criterion", s);
  mixem_criterion crit = MIXEM_BIC;
  if (cname && !mixem_criterion_parse (cname, &crit))
    luaL_error (L, "%s: 'criterion' must be bic, aic, icl or heldout (got %s)", fn, cname);
  const lua_Integer best = lmx_opt_int (L, 1, fn, "best", 1, 1, "a candidate number");
  if (lua_getfield (L, 1, "candidates") != LUA_TTABLE)
    luaL_error (L, "%s: a result of mixem.select is expected (no 'candidates')", fn);
  const int ci = lua_gettop (L);
  GArray *cands = lmx_scratch_keep (s, g_array_new (FALSE, TRUE, sizeof (mixem_candidate)),
                                (GDestroyNotify) mixem_candidates_free);
  for (lua_Integer i = 1; i <= luaL_len (L, ci); i++) {
    if (lua_geti (L, ci, i) != LUA_TTABLE)
      luaL_error (L, "%s: candidate %d is not a table", fn, (int) i);
    const int t = lua_gettop (L);
    mixem_candidate c = { 0 };
    c.options = mixem_options_new ();
    c.k = (size_t) lmx_opt_int (L, t, fn, "k", 1, 1, "a positive integer");
    c.loglik = lmx_opt_real (L, t, fn, "loglik", NAN);
    c.bic = lmx_opt_real (L, t, fn, "bic", NAN);
    c.aic = lmx_opt_real (L, t, fn, "aic", NAN);
    c.icl = lmx_opt_real (L, t, fn, "icl", NAN);
    c.heldout = lmx_opt_real (L, t, fn, "heldout", NAN);
    const char *why = lmx_opt_str (L, t, fn, "failure", s);
    c.failure = why ? g_strdup (why) : NULL;
    g_array_append_val (cands, c);
    /* Options, sorted by key so that the legend does not depend on table order. */
    if (lua_getfield (L, t, "options") == LUA_TTABLE) {
      GPtrArray *keys = g_ptr_array_new ();
      lua_pushnil (L);
      while (lua_next (L, -2)) {
        if (lua_type (L, -2) == LUA_TSTRING)
          g_ptr_array_add (keys, (gpointer) lua_tostring (L, -2));
        lua_pop (L, 1);
      }
      g_ptr_array_sort (keys, lmx_compare_str);
      for (guint j = 0; j < keys->len; j++) {
        lua_getfield (L, -1, g_ptr_array_index (keys, j));
        const char *v = luaL_tolstring (L, -1, NULL);
        mixem_options_set (c.options, g_ptr_array_index (keys, j), v);
        lua_pop (L, 2);
      }
      g_ptr_array_free (keys, TRUE);
    }
    lua_settop (L, ci);
  }
  if ((size_t) best > cands->len)
    luaL_error (L, "%s: 'best' (%d) is not a candidate", fn, (int) best);
  GError *err = NULL;
  if (!mixem_plot_select (path, (mixem_candidate *) (void *) cands->data, cands->len,
                          (size_t) best - 1, crit, &po, &err))
    return lmx_raise_gerror (L, fn, err);
  return 0;
}

static const luaL_Reg plot_functions[] = {
  { "trace", p_trace }, { "traces", p_traces }, { "clusters", p_clusters },
  { "prototypes", p_prototypes }, { "binomial", p_binomial }, { "select", p_select },
  { "lines", p_lines },
  { "density", p_density }, { "regression", p_regression },
  { "levels", p_levels }, { NULL, NULL }
};

/* The table mixem.plot, each plot through lmx_rank_zero_only: under mpirun rank 0 alone draws. */
void
lmx_push_plots (lua_State *L)
{
  lua_newtable (L);
  for (const luaL_Reg *r = plot_functions; r->name; r++) {
    lua_pushcfunction (L, r->func);
    lua_pushcclosure (L, lmx_rank_zero_only, 1);
    lua_setfield (L, -2, r->name);
  }
}
