/* lmodel.c: models in Lua: mixem.model, mixem.load, and the model userdata's methods (predict,
 * scores, sampling, imputation, saving) and fields (weights, components, trace, ...). */
#include <limits.h>
#include <math.h>
#include <string.h>
#include "lmx.h"

lmodel *
lmx_check_model (lua_State *L, int idx)
{
  lmodel *m = luaL_checkudata (L, idx, MODEL_MT);
  if (!m->m)
    luaL_argerror (L, idx, "model is empty");
  return m;
}

/* Pushes a model userdata taking M; the registry userdata at REG_IDX is kept alive with it. */
void
lmx_push_model (lua_State *L, mixem_model *m, int reg_idx)
{
  reg_idx = lua_absindex (L, reg_idx);
  lmodel *u = lua_newuserdatauv (L, sizeof *u, 1);
  u->m = m;
  luaL_setmetatable (L, MODEL_MT);
  lua_pushvalue (L, reg_idx);
  lua_setiuservalue (L, -2, 1);
}

/* ---- models: mixem.model, mixem.load and the model's methods and fields ---- */

/* mx.model{family =, weights =, components =, columns = {...}, <family options>}: a model from
 * given parameters, to draw samples from or to score data with. */
static int
l_model (lua_State *L)
{
  static const char *const fn = "mixem.model";
  static const char *const known[] = { "family", "weights", "components", "columns",
                                       "concomitant", NULL };
  luaL_checktype (L, 1, LUA_TTABLE);
  lua_settop (L, 1);
  mixem_registry *reg = lmx_push_registry (L);   /* 2 */
  lscratch *s = lmx_scratch_new (L);
  const mixem_family *f = lmx_family_arg (L, fn, known, reg, s);
  GError *err = NULL;
  if (lua_getfield (L, 1, "components") != LUA_TTABLE || luaL_len (L, -1) < 1)
    luaL_error (L, "%s: 'components' must be a non-empty array of tables", fn);
  const size_t k = (size_t) luaL_len (L, -1);
  GVariant *comps = lmx_scratch_keep (s, g_variant_ref_sink (lmx_lua_to_variant (L, -1, fn, "components")),
                                  lmx_variant_unref0);
  lua_pop (L, 1);
  if (!g_variant_is_of_type (comps, G_VARIANT_TYPE ("aa{sv}")))
    luaL_error (L, "%s: 'components' must be an array of tables such as {mean = {...}}", fn);
  double *w = lmx_scratch_keep (s, g_new (double, k), g_free);
  if (lua_getfield (L, 1, "weights") == LUA_TNIL)
    for (size_t j = 0; j < k; j++)
      w[j] = 1.0 / (double) k;
  else if (!lua_istable (L, -1) || luaL_len (L, -1) != (lua_Integer) k)
    luaL_error (L, "%s: 'weights' must be an array of %d numbers", fn, (int) k);
  else
    for (size_t j = 0; j < k; j++) {
      lua_geti (L, -1, (lua_Integer) j + 1);
      w[j] = lua_tonumber (L, -1);
      lua_pop (L, 1);
    }
  lua_pop (L, 1);
  /* The dimension: the columns given, else the first component's longest array. */
  char **cols = lmx_column_list (L, 1, fn, "columns", s);
  size_t d = cols ? g_strv_length (cols) : 1;
  if (!cols) {
    GVariant *c0 = g_variant_get_child_value (comps, 0);
    GVariantIter it;
    GVariant *val;
    g_variant_iter_init (&it, c0);
    while (g_variant_iter_next (&it, "{&sv}", NULL, &val)) {   /* "v" gives the value itself */
      if (g_variant_is_container (val))
        d = MAX (d, g_variant_n_children (val));
      g_variant_unref (val);
    }
    g_variant_unref (c0);
  }
  mixem_options *fo = lmx_scratch_keep (s, mixem_options_new (), lmx_options_free0);
  for (const mixem_option_info *oi = f->options; oi && oi->name; oi++) {
    const char *v = lmx_family_opt_str (L, 1, fn, oi->name, s);
    if (v)
      mixem_options_set (fo, oi->name, v);
  }
  mixem_model *m = mixem_model_new (f, k, d, (const char *const *) cols, fo, w, comps, &err);
  if (!m)
    return lmx_raise_gerror (L, fn, err);
  /* concomitant = {columns = {...}, coef = {{intercept, slopes...}, ...}}, as m.concomitant */
  if (lua_getfield (L, 1, "concomitant") != LUA_TNIL) {
    char **zc = lua_istable (L, -1) ? lmx_column_list (L, lua_gettop (L), fn, "columns", s) : NULL;
    const size_t q = zc ? g_strv_length (zc) : 0;
    double *g = lmx_scratch_keep (s, g_new0 (double, k * (q + 1)), g_free);
    gboolean ok = q > 0 && lua_getfield (L, -1, "coef") == LUA_TTABLE
                  && luaL_len (L, -1) == (lua_Integer) k;
    for (size_t j = 0; ok && j < k; j++) {
      ok = lua_geti (L, -1, (lua_Integer) j + 1) == LUA_TTABLE
           && luaL_len (L, -1) == (lua_Integer) (q + 1);
      for (size_t a = 0; ok && a <= q; a++) {
        int isnum = 0;
        lua_geti (L, -1, (lua_Integer) a + 1);
        g[j * (q + 1) + a] = lua_tonumberx (L, -1, &isnum);
        ok = isnum;
        lua_pop (L, 1);
      }
      lua_pop (L, 1);
    }
    if (!ok || !mixem_model_set_concomitant (m, (const char *const *) zc, q, g, &err)) {
      mixem_model_free (m);
      if (err)
        return lmx_raise_gerror (L, fn, err);
      return luaL_error (L, "%s: 'concomitant' must be {columns = {names}, coef = {k arrays of "
                         "an intercept and a number a column}}", fn);
    }
    lua_pop (L, 1);
  }
  lua_pop (L, 1);
  lmx_push_model (L, m, 2);
  return 1;
}

static int
l_load (lua_State *L)
{
  const char *path = luaL_checkstring (L, 1);
  mixem_registry *reg = lmx_push_registry (L);
  GError *err = NULL;
  mixem_model *m = mixem_model_load (reg, path, &err);
  if (!m && err->domain == MIXEM_ERROR && err->code == MIXEM_ERROR_PLUGIN
      && strstr (err->message, "unknown family")) {
    GError *hint = g_error_new (MIXEM_ERROR, MIXEM_ERROR_PLUGIN, "%s; a family written in Lua "
                                "must be defined with mixem.family before mixem.load",
                                err->message);
    g_error_free (err);
    err = hint;
  }
  if (!m)
    return lmx_raise_gerror (L, "mixem.load", err);
  lmx_push_model (L, m, -1);
  return 1;
}

/* Under mpirun (MPI started by a share's reader) rank 0 alone writes files, as the command
 * does: model:save, model:save_trace and every mx.plot.* return at once on the other ranks,
 * after their arguments' types are checked where that costs nothing (the path). */
static gboolean
writes_here (void)
{
  return mixem_parallel_rank () == 0;
}

/* The plot function in upvalue 1, called on rank 0 only. */
int
lmx_rank_zero_only (lua_State *L)
{
  if (!writes_here ())
    return 0;
  return lua_tocfunction (L, lua_upvalueindex (1)) (L);
}

static int
m_save (lua_State *L)
{
  lmodel *lm = lmx_check_model (L, 1);
  const char *path = luaL_checkstring (L, 2);
  GError *err = NULL;
  if (!writes_here ()) {
    lua_settop (L, 1);
    return 1;
  }
  if (!mixem_model_save (lm->m, path, &err))
    return lmx_raise_gerror (L, "model:save", err);
  lua_settop (L, 1);
  return 1;
}

static int
m_save_trace (lua_State *L)
{
  lmodel *lm = lmx_check_model (L, 1);
  const char *path = luaL_checkstring (L, 2);
  GError *err = NULL;
  if (!writes_here ()) {
    lua_settop (L, 1);
    return 1;
  }
  if (!mixem_trace_save_csv (lm->m, path, &err))
    return lmx_raise_gerror (L, "model:save_trace", err);
  lua_settop (L, 1);
  return 1;
}

/* The dataset argument of a per-row method: its columns picked by the model's names. */
const mixem_dataset *
lmx_model_data (lua_State *L, const mixem_model *m, int idx, const char *fn, lscratch *s)
{
  const mixem_dataset *ds = lmx_check_dataset (L, idx)->ds;
  const char *const *names = mixem_model_names (m);
  const char *const *zn = NULL;
  if (mixem_model_concomitant (m, &zn, NULL) > 0) {
    /* the model's columns, then its concomitant variables: the library finds both by name */
    char **all = lmx_scratch_keep (s, g_new0 (char *, mixem_model_d (m) + g_strv_length ((char **) zn)
                                          + 1), (GDestroyNotify) g_strfreev);
    size_t a = 0;
    for (size_t j = 0; j < mixem_model_d (m); j++)
      all[a++] = g_strdup (names[j]);
    for (size_t j = 0; zn[j]; j++)
      all[a++] = g_strdup (zn[j]);
    names = (const char *const *) all;
  }
  gboolean same = mixem_dataset_cols (ds) == g_strv_length ((char **) names);
  for (size_t j = 0; same && names[j]; j++)
    same = strcmp (mixem_dataset_name (ds, j), names[j]) == 0;
  if (same)
    return ds;
  GError *err = NULL;
  mixem_dataset *sel = mixem_dataset_select (ds, names, NULL, &err);
  if (!sel)
    lmx_raise_gerror (L, fn, err);
  return lmx_scratch_keep (s, sel, lmx_dataset_free0);
}

/* model:impute(X [, {draws = M, seed = S}]): X with each missing cell replaced by its
 * conditional expectation under the model (a dataset); with draws, M completed datasets (an
 * array) whose missing cells are draws from the conditional. */
static int
m_impute (lua_State *L)
{
  static const char *const fn = "model:impute";
  const mixem_model *m = lmx_check_model (L, 1)->m;
  lua_settop (L, 3);
  lscratch *s = lmx_scratch_new (L);
  const mixem_dataset *ds = lmx_model_data (L, m, 2, fn, s);
  lua_Integer draws = 0, seed = 0;
  if (!lua_isnil (L, 3)) {
    static const char *const known[] = { "draws", "seed", NULL };
    luaL_checktype (L, 3, LUA_TTABLE);
    lmx_check_keys (L, 3, fn, known, NULL);
    if (lua_getfield (L, 3, "draws") != LUA_TNIL
        && (!lua_isinteger (L, -1) || (draws = lua_tointeger (L, -1)) < 1 || draws > 100000))
      luaL_error (L, "%s: 'draws' must be a whole number from 1 to 100000", fn);
    if (lua_getfield (L, 3, "seed") != LUA_TNIL
        && (!lua_isinteger (L, -1) || (seed = lua_tointeger (L, -1)) < 0))
      luaL_error (L, "%s: 'seed' must be a whole number >= 0", fn);
    lua_pop (L, 2);
  }
  const size_t n = mixem_dataset_rows (ds), d = mixem_model_d (m);
  const size_t copies = draws > 0 ? (size_t) draws : 1;
  double *out = lmx_scratch_keep (s, g_try_malloc (copies * n * d * sizeof (double) + 1), g_free);
  if (!out)
    luaL_error (L, "%s: out of memory", fn);
  GError *err = NULL;
  if (!mixem_model_impute (m, ds, (size_t) draws, (unsigned long) seed, out, &err))
    return lmx_raise_gerror (L, fn, err);
  if (draws > 0)
    lua_createtable (L, (int) copies, 0);
  for (size_t c = 0; c < copies; c++) {
    mixem_dataset *r = mixem_dataset_new (n, d, out + c * n * d, mixem_model_names (m),
                                          mixem_dataset_weights (ds), &err);
    if (!r)
      return lmx_raise_gerror (L, fn, err);
    lmx_push_dataset (L, r);
    if (draws > 0)
      lua_seti (L, -2, (lua_Integer) c + 1);
  }
  return 1;
}

static int
m_predict (lua_State *L)
{
  const mixem_model *m = lmx_check_model (L, 1)->m;
  lscratch *s = lmx_scratch_new (L);
  const mixem_dataset *ds = lmx_model_data (L, m, 2, "model:predict", s);
  size_t n = mixem_dataset_rows (ds);
  size_t *lab = lmx_scratch_keep (s, g_new (size_t, n > 0 ? n : 1), g_free);
  GError *err = NULL;
  if (!mixem_model_predict (m, ds, lab, &err))
    return lmx_raise_gerror (L, "model:predict", err);
  lua_createtable (L, (int) n, 0);
  /* Components from 1; the noise (label K) is 0, as mclust's classification. */
  const size_t k = mixem_model_k (m);
  for (size_t i = 0; i < n; i++) {
    lua_pushinteger (L, lab[i] == k && mixem_model_noise (m, NULL, NULL) ? 0
                                                                         : (lua_Integer) lab[i] + 1);
    lua_seti (L, -2, (lua_Integer) i + 1);
  }
  return 1;
}

/* model:predict_response(X): a regression model's fitted response under each row's most
 * probable component, those components (numbered from 1), and each component's fitted response
 * (means[i][k]).  X without the response column (new covariates): the mixture's mean response
 * under the prior weights, nil, and the means. */
static int
m_predict_response (lua_State *L)
{
  static const char *const fn = "model:predict_response";
  const mixem_model *m = lmx_check_model (L, 1)->m;
  lscratch *s = lmx_scratch_new (L);
  const char *response = mixem_options_get (mixem_model_options (m), "response");
  const mixem_dataset *given = lmx_check_dataset (L, 2)->ds;
  const gboolean has_y = !response || mixem_dataset_find_column (given, response) >= 0;
  const mixem_dataset *ds = has_y ? lmx_model_data (L, m, 2, fn, s) : given;
  const size_t n = mixem_dataset_rows (ds), K = mixem_model_k (m);
  size_t *lab = lmx_scratch_keep (s, g_new (size_t, n > 0 ? n : 1), g_free);
  double *y = lmx_scratch_keep (s, g_new (double, n > 0 ? n : 1), g_free);
  double *means = lmx_scratch_keep (s, g_new (double, n * K > 0 ? n * K : 1), g_free);
  GError *err = NULL;
  if (!(has_y ? mixem_model_predict_response (m, ds, y, lab, &err)
                && mixem_model_fitted_means (m, ds, means, &err)
              : mixem_model_mean_response (m, ds, means, y, &err)))
    return lmx_raise_gerror (L, fn, err);
  lua_createtable (L, (int) n, 0);
  if (has_y)
    lua_createtable (L, (int) n, 0);
  else
    lua_pushnil (L);
  lua_createtable (L, (int) n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_pushnumber (L, y[i]);
    lua_seti (L, -4, (lua_Integer) i + 1);
    if (has_y) {
      lua_pushinteger (L, (lua_Integer) lab[i] + 1);
      lua_seti (L, -3, (lua_Integer) i + 1);
    }
    lua_createtable (L, (int) K, 0);
    for (size_t k = 0; k < K; k++) {
      lua_pushnumber (L, means[i * K + k]);
      lua_seti (L, -2, (lua_Integer) k + 1);
    }
    lua_seti (L, -2, (lua_Integer) i + 1);
  }
  return 3;
}

/* An N by K row-major array as an array of N arrays of K numbers. */
static void
push_rows (lua_State *L, const double *p, size_t n, size_t k)
{
  lua_createtable (L, (int) n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_createtable (L, (int) k, 0);
    for (size_t j = 0; j < k; j++) {
      lua_pushnumber (L, p[i * k + j]);
      lua_seti (L, -2, (lua_Integer) j + 1);
    }
    lua_seti (L, -2, (lua_Integer) i + 1);
  }
}

static int
m_predict_proba (lua_State *L)
{
  const mixem_model *m = lmx_check_model (L, 1)->m;
  lscratch *s = lmx_scratch_new (L);
  const mixem_dataset *ds = lmx_model_data (L, m, 2, "model:predict_proba", s);
  /* With a noise component its probability is the last column. */
  size_t n = mixem_dataset_rows (ds), k = mixem_model_k (m) + mixem_model_noise (m, NULL, NULL);
  double *p = lmx_scratch_keep (s, g_new (double, n * k > 0 ? n * k : 1), g_free);
  GError *err = NULL;
  if (!mixem_model_predict_proba (m, ds, p, &err))
    return lmx_raise_gerror (L, "model:predict_proba", err);
  push_rows (L, p, n, k);
  return 1;
}

/* model:priors(X): each row's mixing weights pi_k(z_i), from its concomitant variables (the
 * weights for a model without them), an array of K-arrays, as flexmix's prior(). */
static int
m_priors (lua_State *L)
{
  const mixem_model *m = lmx_check_model (L, 1)->m;
  const mixem_dataset *ds = lmx_check_dataset (L, 2)->ds;
  lscratch *s = lmx_scratch_new (L);
  const size_t n = mixem_dataset_rows (ds), k = mixem_model_k (m);
  double *p = lmx_scratch_keep (s, g_new (double, n * k > 0 ? n * k : 1), g_free);
  GError *err = NULL;
  if (!mixem_model_priors (m, ds, p, &err))
    return lmx_raise_gerror (L, "model:priors", err);
  push_rows (L, p, n, k);
  return 1;
}

/* model:uncertainty(X): 1 - the largest responsibility of each row, as mclust's uncertainty. */
static int
m_uncertainty (lua_State *L)
{
  const mixem_model *m = lmx_check_model (L, 1)->m;
  lscratch *s = lmx_scratch_new (L);
  const mixem_dataset *ds = lmx_model_data (L, m, 2, "model:uncertainty", s);
  /* With a noise component its probability is the last column. */
  size_t n = mixem_dataset_rows (ds), k = mixem_model_k (m) + mixem_model_noise (m, NULL, NULL);
  double *p = lmx_scratch_keep (s, g_new (double, n * k > 0 ? n * k : 1), g_free);
  GError *err = NULL;
  if (!mixem_model_predict_proba (m, ds, p, &err))
    return lmx_raise_gerror (L, "model:uncertainty", err);
  lua_createtable (L, (int) n, 0);
  for (size_t i = 0; i < n; i++) {
    double mx = 0.0;
    for (size_t j = 0; j < k; j++)
      mx = MAX (mx, p[i * k + j]);
    lua_pushnumber (L, 1.0 - mx);
    lua_seti (L, -2, (lua_Integer) i + 1);
  }
  return 1;
}

static int
m_score_samples (lua_State *L)
{
  const mixem_model *m = lmx_check_model (L, 1)->m;
  lscratch *s = lmx_scratch_new (L);
  const mixem_dataset *ds = lmx_model_data (L, m, 2, "model:score_samples", s);
  size_t n = mixem_dataset_rows (ds);
  double *v = lmx_scratch_keep (s, g_new (double, n > 0 ? n : 1), g_free);
  GError *err = NULL;
  if (!mixem_model_score_samples (m, ds, v, &err))
    return lmx_raise_gerror (L, "model:score_samples", err);
  lua_createtable (L, (int) n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_pushnumber (L, v[i]);
    lua_seti (L, -2, (lua_Integer) i + 1);
  }
  return 1;
}

/* score, bic, aic: one number from the whole dataset. */
static int
m_criterion (lua_State *L, const char *fn, double (*f) (const mixem_model *, const mixem_dataset *,
                                                        GError **))
{
  const mixem_model *m = lmx_check_model (L, 1)->m;
  lscratch *s = lmx_scratch_new (L);
  const mixem_dataset *ds = lmx_model_data (L, m, 2, fn, s);
  GError *err = NULL;
  double v = f (m, ds, &err);
  if (err)
    return lmx_raise_gerror (L, fn, err);
  lua_pushnumber (L, v);
  return 1;
}

static double
mean_loglik (const mixem_model *m, const mixem_dataset *ds, GError **error)
{
  return mixem_model_total_loglik (m, ds, error) / mixem_dataset_total_weight (ds);
}

static int m_score (lua_State *L) { return m_criterion (L, "model:score", mean_loglik); }
static int m_bic (lua_State *L) { return m_criterion (L, "model:bic", mixem_model_bic); }
static int m_aic (lua_State *L) { return m_criterion (L, "model:aic", mixem_model_aic); }
static int m_icl (lua_State *L) { return m_criterion (L, "model:icl", mixem_model_icl); }

/* model:sample(X [, seed]) for a regression model: a response drawn for each row of X at its
 * covariates (mixem_model_sample_response), and each row's component. */
static int
m_sample_response (lua_State *L, const mixem_model *m)
{
  const mixem_dataset *ds = lmx_check_dataset (L, 2)->ds;
  lua_Integer seed = luaL_optinteger (L, 3, 0);
  luaL_argcheck (L, seed >= 0, 3, "the seed must be >= 0");
  lscratch *s = lmx_scratch_new (L);
  const size_t n = mixem_dataset_rows (ds);
  double *y = lmx_scratch_keep (s, g_new (double, n > 0 ? n : 1), g_free);
  size_t *lab = lmx_scratch_keep (s, g_new (size_t, n > 0 ? n : 1), g_free);
  GError *err = NULL;
  if (!mixem_model_sample_response (m, ds, (unsigned long) seed, y, lab, &err))
    return lmx_raise_gerror (L, "model:sample", err);
  lua_createtable (L, (int) n, 0);
  lua_createtable (L, (int) n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_pushnumber (L, y[i]);
    lua_seti (L, -3, (lua_Integer) i + 1);
    lua_pushinteger (L, (lua_Integer) lab[i] + 1);
    lua_seti (L, -2, (lua_Integer) i + 1);
  }
  return 2;
}

static int
m_sample (lua_State *L)
{
  const mixem_model *m = lmx_check_model (L, 1)->m;
  if (luaL_testudata (L, 2, DATASET_MT))
    return m_sample_response (L, m);
  lua_Integer n = luaL_checkinteger (L, 2);
  luaL_argcheck (L, n >= 1, 2, "the number of samples must be positive");
  lua_Integer seed = luaL_optinteger (L, 3, 0);
  luaL_argcheck (L, seed >= 0, 3, "the seed must be >= 0");
  lscratch *s = lmx_scratch_new (L);
  size_t d = mixem_model_d (m);
  /* The rows, their copy in the dataset and the labels; checked, not aborted on (1 << 40). */
  const double need = (double) n * (16.0 * (double) d + 24.0);
  double *x = n <= INT_MAX && mixem_alloc_fits (need)
                  ? mixem_try_alloc0 ((size_t) n, d * sizeof (double), NULL) : NULL;
  lmx_scratch_keep (s, x, g_free);
  size_t *lab = x ? lmx_scratch_keep (s, mixem_try_alloc0 ((size_t) n, sizeof (size_t), NULL), g_free)
                  : NULL;
  if (!lab) {
    char *size = mixem_format_bytes (need);
    lua_pushfstring (L, "model:sample: %I rows of d = %d need %s (more than this machine has; "
                     "mixem sample streams them)", n, (int) d, size);
    g_free (size);
    return lua_error (L);
  }
  GError *err = NULL;
  if (!mixem_model_sample (m, (size_t) n, (unsigned long) seed, x, lab, &err))
    return lmx_raise_gerror (L, "model:sample", err);
  mixem_dataset *ds = mixem_dataset_new ((size_t) n, d, x, mixem_model_names (m), NULL, &err);
  if (!ds)
    return lmx_raise_gerror (L, "model:sample", err);
  lmx_push_dataset (L, ds);
  lua_createtable (L, (int) n, 0);
  for (lua_Integer i = 0; i < n; i++) {
    lua_pushinteger (L, (lua_Integer) lab[i] + 1);
    lua_seti (L, -2, i + 1);
  }
  return 2;
}

static int
m_tostring (lua_State *L)
{
  char *s = mixem_model_summary (lmx_check_model (L, 1)->m, NULL);
  lua_pushstring (L, s);
  g_free (s);
  return 1;
}

static int
m_gc (lua_State *L)
{
  lmodel *u = luaL_checkudata (L, 1, MODEL_MT);
  mixem_model_free (u->m);
  u->m = NULL;
  return 0;
}

static const luaL_Reg model_methods[] = {
  { "predict", m_predict }, { "predict_proba", m_predict_proba }, { "priors", m_priors }, { "impute", m_impute },
  { "uncertainty", m_uncertainty }, { "predict_response", m_predict_response },
  { "score_samples", m_score_samples }, { "score", m_score }, { "bic", m_bic }, { "aic", m_aic }, { "icl", m_icl },
  { "sample", m_sample }, { "save", m_save }, { "save_trace", m_save_trace },
  { "refit", lmx_m_refit }, { "partial_fit", lmx_m_partial_fit }, { NULL, NULL }
};

/* Fields computed on access, then methods. */
static int
m_index (lua_State *L)
{
  const mixem_model *m = lmx_check_model (L, 1)->m;
  const char *key = luaL_checkstring (L, 2);
  size_t k = mixem_model_k (m);
  if (strcmp (key, "family") == 0)
    lua_pushstring (L, mixem_model_family (m)->name);
  else if (strcmp (key, "k") == 0)
    lua_pushinteger (L, (lua_Integer) k);
  else if (strcmp (key, "d") == 0)
    lua_pushinteger (L, (lua_Integer) mixem_model_d (m));
  else if (strcmp (key, "loglik") == 0)
    lua_pushnumber (L, mixem_model_loglik (m));
  else if (strcmp (key, "initial_loglik") == 0)
    lua_pushnumber (L, mixem_model_initial_loglik (m));
  else if (strcmp (key, "n_iter") == 0)
    lua_pushinteger (L, mixem_model_n_iter (m));
  else if (strcmp (key, "algorithm") == 0)
    lua_pushstring (L, mixem_algorithm_name (mixem_model_algorithm (m)));
  else if (strcmp (key, "converged") == 0)
    lua_pushboolean (L, mixem_model_converged (m));
  else if (strcmp (key, "best_restart") == 0)
    lua_pushinteger (L, mixem_model_best_restart (m));
  else if (strcmp (key, "failed_restarts") == 0)
    lua_pushinteger (L, mixem_model_n_failed_restarts (m));
  else if (strcmp (key, "warnings") == 0) {
    size_t nw = 0;
    const char *const *w = mixem_model_warnings (m, &nw);
    lmx_push_strings (L, w, nw);
  }
  else if (strcmp (key, "n_params") == 0)
    lua_pushinteger (L, (lua_Integer) mixem_model_n_params (m));
  else if (strcmp (key, "noise") == 0) {   /* nil, or {weight =, log_volume =} */
    double nw, lv;
    if (mixem_model_noise (m, &nw, &lv)) {
      lua_createtable (L, 0, 2);
      lua_pushnumber (L, nw);
      lua_setfield (L, -2, "weight");
      lua_pushnumber (L, lv);
      lua_setfield (L, -2, "log_volume");
    } else
      lua_pushnil (L);
  }
  else if (strcmp (key, "columns") == 0)
    lmx_push_strings (L, mixem_model_names (m), mixem_model_d (m));
  else if (strcmp (key, "concomitant") == 0) {
    /* nil, or {columns = {...}, coef = {{intercept, slopes...} a component}} */
    const char *const *zn;
    const double *g;
    const size_t q = mixem_model_concomitant (m, &zn, &g);
    if (q == 0)
      lua_pushnil (L);
    else {
      lua_createtable (L, 0, 2);
      lmx_push_strings (L, zn, q);
      lua_setfield (L, -2, "columns");
      lua_createtable (L, (int) k, 0);
      for (size_t j = 0; j < k; j++) {
        lua_createtable (L, (int) q + 1, 0);
        for (size_t a = 0; a <= q; a++) {
          lua_pushnumber (L, g[j * (q + 1) + a]);
          lua_seti (L, -2, (lua_Integer) a + 1);
        }
        lua_seti (L, -2, (lua_Integer) j + 1);
      }
      lua_setfield (L, -2, "coef");
    }
  }
  else if (strcmp (key, "weights") == 0) {
    lua_createtable (L, (int) k, 0);
    for (size_t j = 0; j < k; j++) {
      lua_pushnumber (L, mixem_model_weights (m)[j]);
      lua_seti (L, -2, (lua_Integer) j + 1);
    }
  } else if (strcmp (key, "components") == 0) {
    lua_createtable (L, (int) k, 0);
    for (size_t j = 0; j < k; j++) {
      GVariant *c = g_variant_ref_sink (mixem_model_component (m, j));
      lmx_push_variant (L, c);
      g_variant_unref (c);
      lua_seti (L, -2, (lua_Integer) j + 1);
    }
  } else if (strcmp (key, "options") == 0) {
    const mixem_options *o = mixem_model_options (m);
    lua_newtable (L);
    for (size_t i = 0; i < mixem_options_size (o); i++) {
      lua_pushstring (L, mixem_options_get (o, mixem_options_key (o, i)));
      lua_setfield (L, -2, mixem_options_key (o, i));
    }
  } else if (strcmp (key, "trace") == 0) {
    size_t n;
    const mixem_iteration *tr = mixem_model_trace (m, &n);
    lua_createtable (L, (int) n, 0);
    for (size_t i = 0; i < n; i++) {
      lmx_push_iteration (L, &tr[i]);
      lua_seti (L, -2, (lua_Integer) i + 1);
    }
  } else {
    for (const luaL_Reg *r = model_methods; r->name; r++)
      if (strcmp (r->name, key) == 0) {
        lua_pushcfunction (L, r->func);
        return 1;
      }
    lua_pushnil (L);
  }
  return 1;
}

static int
m_newindex (lua_State *L)
{
  return luaL_error (L, "mixem model: fields are read-only ('%s')", luaL_checkstring (L, 2));
}

/* The model metatable. */
void
lmx_open_models (lua_State *L)
{
  luaL_newmetatable (L, MODEL_MT);
  lua_pushcfunction (L, m_index);
  lua_setfield (L, -2, "__index");
  lua_pushcfunction (L, m_newindex);
  lua_setfield (L, -2, "__newindex");
  lua_pushcfunction (L, m_gc);
  lua_setfield (L, -2, "__gc");
  lua_pushcfunction (L, m_tostring);
  lua_setfield (L, -2, "__tostring");
  lua_pop (L, 1);
}

const luaL_Reg lmx_model_functions[] = {
  { "load", l_load }, { "model", l_model }, { NULL, NULL }
};
