/* lmixem.c: the Lua binding of mixem: the module's remaining functions (families, k-means, hc,
 * NNclean, the adjusted Rand index, mixem.family, check_family, special functions) and
 * luaopen_mixem, which opens the parts (src/lua/lmx.h lists them).  Datasets and models are
 * userdata with __gc, __tostring and __len; arguments are checked and errors name the function
 * and the argument; an unknown key in an options table is an error.  It calls the public C API
 * only.
 *
 * Safety under Lua errors (which longjmp): temporaries live in a "scratch" userdata whose __gc
 * frees them, and a model keeps its registry (which holds the family module) alive through its
 * user value.  Components are numbered from 1 in Lua, as everything else there. */
#include <math.h>
#include <string.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_sf_psi.h>
#include "lmixem.h"
#include "lmx.h"

/* ---- module functions ---- */

static int
l_families (lua_State *L)
{
  mixem_registry *reg = lmx_push_registry (L);
  GPtrArray *all = mixem_registry_list (reg);
  lua_createtable (L, (int) all->len, 0);
  for (guint i = 0; i < all->len; i++) {
    const mixem_family *f = g_ptr_array_index (all, i);
    lua_createtable (L, 0, 5);
    lua_pushstring (L, f->name);
    lua_setfield (L, -2, "name");
    lua_pushstring (L, f->summary ? f->summary : "");
    lua_setfield (L, -2, "summary");
    lua_pushstring (L, mixem_registry_origin (reg, f));
    lua_setfield (L, -2, "origin");
    lua_newtable (L);
    int n = 0;
    for (const mixem_option_info *o = f->options; o && o->name; o++) {
      lua_createtable (L, 0, 3);
      lua_pushstring (L, o->name);
      lua_setfield (L, -2, "name");
      lua_pushstring (L, o->help);
      lua_setfield (L, -2, "help");
      if (o->default_value) {
        lua_pushstring (L, o->default_value);
        lua_setfield (L, -2, "default");
      }
      lua_seti (L, -2, ++n);
    }
    lua_setfield (L, -2, "options");
    lua_newtable (L);
    n = 0;
    for (const char *const *m = f->init_methods; m && *m; m++) {
      lua_pushstring (L, *m);
      lua_seti (L, -2, ++n);
    }
    lua_setfield (L, -2, "inits");
    lua_seti (L, -2, (lua_Integer) i + 1);
  }
  g_ptr_array_unref (all);
  return 1;
}

/* A Lua array of N positive integer labels at IDX into OUT (0-based). */
static size_t *
check_labels (lua_State *L, int idx, const char *fn, lscratch *s, size_t *n)
{
  luaL_checktype (L, idx, LUA_TTABLE);
  *n = (size_t) luaL_len (L, idx);
  size_t *out = lmx_scratch_keep (s, g_new (size_t, *n > 0 ? *n : 1), g_free);
  for (size_t i = 0; i < *n; i++) {
    lua_geti (L, idx, (lua_Integer) i + 1);
    int isnum = 0;
    lua_Integer v = lua_tointegerx (L, -1, &isnum);
    if (!isnum || v < 1 || v > 1000000)
      luaL_error (L, "%s: label %d must be a positive integer", fn, (int) i + 1);
    out[i] = (size_t) v - 1;
    lua_pop (L, 1);
  }
  return out;
}

/* mx.adjusted_rand_index(a, b): two arrays of labels of the same length. */
static int
l_ari (lua_State *L)
{
  lscratch *s = lmx_scratch_new (L);
  size_t na, nb;
  size_t *a = check_labels (L, 1, "mixem.adjusted_rand_index", s, &na);
  size_t *b = check_labels (L, 2, "mixem.adjusted_rand_index", s, &nb);
  if (na != nb || na < 2)
    luaL_error (L, "mixem.adjusted_rand_index: the labelings have %d and %d items (need the same, "
                   ">= 2)", (int) na, (int) nb);
  lua_pushnumber (L, mixem_adjusted_rand_index (a, b, na));
  return 1;
}

/* mx.kmeans(X, k, {seed =, max_iter =}) -> labels (1-based), centres, inertia */
static int
l_kmeans (lua_State *L)
{
  static const char *const fn = "mixem.kmeans";
  static const char *const known[] = { "seed", "max_iter", NULL };
  const mixem_dataset *ds = lmx_check_dataset (L, 1)->ds;
  lua_Integer k = luaL_checkinteger (L, 2);
  if (k < 1 || (size_t) k > mixem_dataset_rows (ds))
    luaL_error (L, "%s: 'k' must be in 1..%d (got %d)", fn, (int) mixem_dataset_rows (ds), (int) k);
  lua_settop (L, 3);
  if (lua_isnil (L, 3)) {
    lua_newtable (L);
    lua_replace (L, 3);
  }
  luaL_checktype (L, 3, LUA_TTABLE);
  lmx_check_keys (L, 3, fn, known, NULL);
  lua_Integer seed = lmx_opt_int (L, 3, fn, "seed", 0, 0, "an integer >= 0");
  const int iters = lmx_opt_cint (L, 3, fn, "max_iter", 300, 0, "an integer >= 0");
  lscratch *s = lmx_scratch_new (L);
  size_t n = mixem_dataset_rows (ds), d = mixem_dataset_cols (ds);
  size_t *lab = lmx_scratch_keep (s, g_new (size_t, n), g_free);
  double *c = lmx_scratch_keep (s, g_new (double, (size_t) k * d), g_free);
  gsl_rng *rng = lmx_scratch_keep (s, gsl_rng_alloc (gsl_rng_mt19937), (GDestroyNotify) gsl_rng_free);
  gsl_rng_set (rng, (unsigned long) seed);
  double inertia = mixem_kmeans (ds, (size_t) k, iters, rng, c, lab);
  lua_createtable (L, (int) n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_pushinteger (L, (lua_Integer) lab[i] + 1);
    lua_seti (L, -2, (lua_Integer) i + 1);
  }
  lua_createtable (L, (int) k, 0);
  for (lua_Integer j = 0; j < k; j++) {
    lua_createtable (L, (int) d, 0);
    for (size_t q = 0; q < d; q++) {
      lua_pushnumber (L, c[j * d + q]);
      lua_seti (L, -2, (lua_Integer) q + 1);
    }
    lua_seti (L, -2, j + 1);
  }
  lua_pushnumber (L, inertia);
  return 3;
}

/* mx.hc(X, ks, {model = "VVV", use = "SVD", subset = 0}) -> for each K of KS (a number or a
 * list), the labels (1-based, numbered by first appearance as mclust's hclass; 0 for rows outside
 * the subset) of mclust's model-based hierarchical clustering cut at K (src/hc.c).  Unlike the
 * start hc, subset defaults to 0 here: every row. */
static int
l_hc (lua_State *L)
{
  static const char *const fn = "mixem.hc";
  static const char *const known[] = { "model", "use", "subset", NULL };
  const mixem_dataset *ds = lmx_check_dataset (L, 1)->ds;
  lua_settop (L, 3);
  lscratch *s = lmx_scratch_new (L);
  size_t nk = lua_isinteger (L, 2) ? 1 : (luaL_checktype (L, 2, LUA_TTABLE), luaL_len (L, 2));
  if (nk == 0)
    luaL_error (L, "%s: 'ks' must be a number of clusters or a list of them", fn);
  size_t *ks = lmx_scratch_keep (s, g_new (size_t, nk), g_free);
  for (size_t t = 0; t < nk; t++) {
    if (lua_istable (L, 2))
      lua_geti (L, 2, (lua_Integer) t + 1);
    else
      lua_pushvalue (L, 2);
    int isnum = 0;
    lua_Integer k = lua_tointegerx (L, -1, &isnum);
    if (!isnum || k < 1)
      luaL_error (L, "%s: each number of clusters must be an integer >= 1", fn);
    ks[t] = (size_t) k;
    lua_pop (L, 1);
  }
  if (lua_isnil (L, 3)) {
    lua_newtable (L);
    lua_replace (L, 3);
  }
  luaL_checktype (L, 3, LUA_TTABLE);
  lmx_check_keys (L, 3, fn, known, NULL);
  const char *model = lmx_opt_str (L, 3, fn, "model", s);
  const char *use = lmx_opt_str (L, 3, fn, "use", s);
  const lua_Integer sub = lmx_opt_int (L, 3, fn, "subset", 0, 0, "an integer >= 0");
  const size_t n = mixem_dataset_rows (ds);
  if (!model)
    model = mixem_dataset_cols (ds) == 1 ? "V" : "VVV";
  size_t *lab = lmx_scratch_keep (s, g_new (size_t, nk * n), g_free);
  GError *err = NULL;
  if (!mixem_hc (ds, model, use ? use : "SVD", (size_t) sub, nk, ks, lab, &err))
    return lmx_raise_gerror (L, fn, err);
  lua_createtable (L, (int) nk, 0);
  for (size_t t = 0; t < nk; t++) {
    lua_createtable (L, (int) n, 0);
    for (size_t i = 0; i < n; i++) {
      const size_t l = lab[t * n + i];
      lua_pushinteger (L, l == MIXEM_HC_NONE ? 0 : (lua_Integer) l + 1);
      lua_seti (L, -2, (lua_Integer) i + 1);
    }
    lua_seti (L, -2, (lua_Integer) t + 1);
  }
  return 1;
}

/* mx.nnclean(X, k = 5) -> noise, probs, info: nearest-neighbour cleaning (mixem/nnclean.h, as
 * prabclus's NNclean): NOISE one boolean a row (NNclean's z == 0), PROBS NNclean's probs (the
 * clusters' density ratio), INFO {lambda1, lambda2, p, iterations, kdist = {D_k a row}}. */
static int
l_nnclean (lua_State *L)
{
  static const char *const fn = "mixem.nnclean";
  const mixem_dataset *ds = lmx_check_dataset (L, 1)->ds;
  const lua_Integer k = luaL_optinteger (L, 2, 5);
  if (k < 1)
    luaL_error (L, "%s: k must be an integer >= 1", fn);
  lscratch *s = lmx_scratch_new (L);
  const size_t n = mixem_dataset_rows (ds);
  gboolean *nf = lmx_scratch_keep (s, g_new (gboolean, n + 1), g_free);
  double *pr = lmx_scratch_keep (s, g_new (double, n + 1), g_free);
  double *dk = lmx_scratch_keep (s, g_new (double, n + 1), g_free);
  mixem_nnclean_info info;
  GError *err = NULL;
  if (!mixem_nnclean (ds, (size_t) k, nf, pr, dk, &info, &err))
    return lmx_raise_gerror (L, fn, err);
  lua_createtable (L, (int) n, 0);
  lua_createtable (L, (int) n, 0);
  lua_createtable (L, 0, 5);
  lua_createtable (L, (int) n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_pushboolean (L, nf[i]);
    lua_seti (L, -5, (lua_Integer) i + 1);
    lua_pushnumber (L, pr[i]);
    lua_seti (L, -4, (lua_Integer) i + 1);
    lua_pushnumber (L, dk[i]);
    lua_seti (L, -2, (lua_Integer) i + 1);
  }
  lua_setfield (L, -2, "kdist");
  lua_pushnumber (L, info.lambda1);
  lua_setfield (L, -2, "lambda1");
  lua_pushnumber (L, info.lambda2);
  lua_setfield (L, -2, "lambda2");
  lua_pushnumber (L, info.p);
  lua_setfield (L, -2, "p");
  lua_pushinteger (L, (lua_Integer) info.iterations);
  lua_setfield (L, -2, "iterations");
  return 3;
}

/* mixem.family{...}: a family written in Lua (lfamily.c), registered in this state. */
static int
l_family (lua_State *L)
{
  mixem_registry *reg = lmx_push_registry (L);
  lua_pop (L, 1);
  return lmixem_family (L, reg);
}

/* mixem.check_family{family = NAME, data = X, k = 2, seed = 0, <family options>}: the
 * conformance suite (mixem/check.h); returns {passed = n, failed = n, skipped = n, results =
 * {{property = ..., ok = true|false, skipped = true|nil, message = ...}, ...}}. */
static int
l_check_family (lua_State *L)
{
  static const char *const fn = "mixem.check_family";
  static const char *const known[] = { "family", "data", "k", "seed", NULL };
  luaL_checktype (L, 1, LUA_TTABLE);
  lua_settop (L, 1);
  mixem_registry *reg = lmx_push_registry (L);   /* 2 */
  lscratch *s = lmx_scratch_new (L);             /* 3 */
  const mixem_family *f = lmx_family_arg (L, fn, known, reg, s);
  GError *err = NULL;
  if (lua_getfield (L, 1, "data") == LUA_TNIL)
    luaL_error (L, "%s: 'data' is required", fn);
  const mixem_dataset *ds = lmx_check_dataset (L, -1)->ds;
  lua_pop (L, 1);
  const lua_Integer k = lmx_opt_int (L, 1, fn, "k", 2, 1, "an integer >= 1");
  const lua_Integer seed = lmx_opt_int (L, 1, fn, "seed", 0, 0, "an integer >= 0");
  mixem_options *fo = lmx_scratch_keep (s, mixem_options_new (), lmx_options_free0);
  for (const mixem_option_info *oi = f->options; oi && oi->name; oi++) {
    const char *v = lmx_family_opt_str (L, 1, fn, oi->name, s);
    if (v)
      mixem_options_set (fo, oi->name, v);
  }
  GArray *res = mixem_family_check (f, ds, (size_t) k, fo, (unsigned long) seed, reg, &err);
  if (!res)
    return lmx_raise_gerror (L, fn, err);
  lmx_scratch_keep (s, res, (GDestroyNotify) mixem_check_results_free);
  int passed = 0, failed = 0, skipped = 0;
  lua_createtable (L, 0, 4);
  lua_createtable (L, (int) res->len, 0);
  for (guint i = 0; i < res->len; i++) {
    const mixem_check_result *r = &g_array_index (res, mixem_check_result, i);
    lua_createtable (L, 0, 4);
    lua_pushstring (L, r->property);
    lua_setfield (L, -2, "property");
    lua_pushboolean (L, r->passed);
    lua_setfield (L, -2, "ok");
    if (r->skipped) {
      lua_pushboolean (L, 1);
      lua_setfield (L, -2, "skipped");
    }
    if (r->message) {
      lua_pushstring (L, r->message);
      lua_setfield (L, -2, "message");
    }
    lua_seti (L, -2, (lua_Integer) i + 1);
    passed += r->passed;
    skipped += r->skipped;
    failed += !r->passed && !r->skipped;
  }
  lua_setfield (L, -2, "results");
  lua_pushinteger (L, passed);
  lua_setfield (L, -2, "passed");
  lua_pushinteger (L, failed);
  lua_setfield (L, -2, "failed");
  lua_pushinteger (L, skipped);
  lua_setfield (L, -2, "skipped");
  return 1;
}

/* Special functions a family written in Lua needs and Lua's math library lacks (GSL's). */
static int l_lgamma (lua_State *L) { lua_pushnumber (L, gsl_sf_lngamma (luaL_checknumber (L, 1))); return 1; }
static int l_digamma (lua_State *L) { lua_pushnumber (L, gsl_sf_psi (luaL_checknumber (L, 1))); return 1; }
static int l_trigamma (lua_State *L) { lua_pushnumber (L, gsl_sf_psi_1 (luaL_checknumber (L, 1))); return 1; }
static int l_log1p (lua_State *L) { lua_pushnumber (L, log1p (luaL_checknumber (L, 1))); return 1; }
static int l_expm1 (lua_State *L) { lua_pushnumber (L, expm1 (luaL_checknumber (L, 1))); return 1; }

static const luaL_Reg module_functions[] = {
  { "families", l_families }, { "adjusted_rand_index", l_ari }, { "kmeans", l_kmeans },
  { "hc", l_hc }, { "nnclean", l_nnclean },
  { "family", l_family },
  { "check_family", l_check_family },
  { "lgamma", l_lgamma }, { "digamma", l_digamma }, { "trigamma", l_trigamma },
  { "log1p", l_log1p }, { "expm1", l_expm1 },
  { NULL, NULL }
};

/* ---- the module ---- */

int
luaopen_mixem (lua_State *L)
{
  gsl_set_error_handler_off ();   /* mixem checks its inputs; GSL must never abort the process */
  lmixem_family_open (L);
  lmx_open_aux (L);
  lmx_open_datasets (L);
  lmx_open_models (L);
  luaL_newlib (L, module_functions);
  luaL_setfuncs (L, lmx_dataset_functions, 0);
  luaL_setfuncs (L, lmx_fit_functions, 0);
  luaL_setfuncs (L, lmx_model_functions, 0);
  lua_pushstring (L, mixem_version ());
  lua_setfield (L, -2, "version");
  lmx_push_plots (L);
  lua_setfield (L, -2, "plot");
  return 1;
}
