/* lfit.c: fitting from Lua: mixem.fit, mixem.select, model:refit and model:partial_fit, the
 * engine options they share (read_engine_options), on_iter callbacks, progress, and the data
 * selection (columns, weights, concomitant variables). */
#include <math.h>
#include <string.h>
#include <unistd.h>
#include "lmx.h"

/* ---- fitting: mixem.fit, mixem.select, model:refit, model:partial_fit ---- */

typedef struct {
  lua_State *L;
  int func;          /* stack index of on_iter, or 0 */
  gboolean failed;   /* the callback raised an error: its message is on the stack */
  const mixem_family *family;
  size_t k;
} callback_ctx;

void
lmx_push_iteration (lua_State *L, const mixem_iteration *it)
{
  lua_createtable (L, 0, 8);
  lua_pushinteger (L, it->restart);
  lua_setfield (L, -2, "restart");
  lua_pushinteger (L, it->iter);
  lua_setfield (L, -2, "iter");
  lua_pushinteger (L, it->reseeded);
  lua_setfield (L, -2, "reseeded");
  lua_pushinteger (L, it->short_run);
  lua_setfield (L, -2, "short_run");
  lua_pushinteger (L, it->extrapolated);
  lua_setfield (L, -2, "extrapolated");
  const struct { const char *k; double v; } f[] = {
    { "loglik", it->loglik }, { "elbo", it->elbo }, { "kl", it->kl },
    { "entropy", it->entropy }, { "delta", it->delta }, { "seconds", it->seconds },
    { "min_step", it->min_step }, { "log_prior", it->log_prior },
    /* the objective EM climbs: the log-posterior with a prior, else the log-likelihood */
    { "logpost", it->loglik + it->log_prior },
    /* annealing: q's temperature, and the free energy at it (the ELBO at T = 1) */
    { "temperature", it->temperature },
    { "free_energy", it->elbo + (it->temperature - 1.0) * it->entropy },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (f); i++) {
    lua_pushnumber (L, f[i].v);
    lua_setfield (L, -2, f[i].k);
  }
}

/* The engine's callback: runs on_iter under lua_pcall, so a Lua error stops the fit cleanly and
 * is raised after mixem_fit has returned and freed its work. */
static gboolean
on_iter (const mixem_iteration *it, const mixem_params *p, const double *w, void *data)
{
  callback_ctx *c = data;
  lua_State *L = c->L;
  lua_pushvalue (L, c->func);
  lmx_push_iteration (L, it);
  /* The parameters after this iteration, as m.weights and m.components give them. */
  lua_createtable (L, (int) c->k, 0);
  for (size_t j = 0; j < c->k; j++) {
    lua_pushnumber (L, w[j]);
    lua_seti (L, -2, (lua_Integer) j + 1);
  }
  lua_setfield (L, -2, "weights");
  lua_createtable (L, (int) c->k, 0);
  for (size_t j = 0; j < c->k; j++) {
    GVariant *v = g_variant_ref_sink (c->family->describe (p, j));
    lmx_push_variant (L, v);
    g_variant_unref (v);
    lua_seti (L, -2, (lua_Integer) j + 1);
  }
  lua_setfield (L, -2, "components");
  if (lua_pcall (L, 1, 1, 0) != LUA_OK) {
    c->failed = TRUE;
    return FALSE;
  }
  gboolean go_on = !(lua_isboolean (L, -1) && !lua_toboolean (L, -1));
  lua_pop (L, 1);
  return go_on;
}

/* Reads engine options shared by fit and refit from the table at IDX into O. */
static void
read_engine_options (lua_State *L, int idx, const char *fn, mixem_fit_options *o, size_t k,
                     lscratch *s)
{
  o->max_iter = lmx_opt_cint (L, idx, fn, "max_iter", o->max_iter, 0, "an integer >= 0");
  o->tol = lmx_opt_num (L, idx, fn, "tol", o->tol);
  o->n_init = lmx_opt_cint (L, idx, fn, "n_init", o->n_init, 1, "a positive integer");
  o->refine_tol = lmx_opt_num (L, idx, fn, "refine_tol", o->refine_tol);
  o->n_refine = lmx_opt_cint (L, idx, fn, "n_refine", o->n_refine, 0, "an integer >= 0");
  o->refine_max_iter = lmx_opt_cint (L, idx, fn, "refine_max_iter", o->refine_max_iter, 0,
                                 "an integer >= 0");
  o->short_starts = lmx_opt_cint (L, idx, fn, "short_starts", o->short_starts, 1, "an integer >= 1");
  o->short_iter = lmx_opt_cint (L, idx, fn, "short_iter", o->short_iter, 1, "an integer >= 1");
  const char *sa = lmx_opt_str (L, idx, fn, "short_algorithm", s);
  if (sa) {
    if (strcmp (sa, "em") && strcmp (sa, "cem") && strcmp (sa, "sem"))
      luaL_error (L, "%s: 'short_algorithm' must be em, cem or sem (got %s)", fn, sa);
    o->short_algorithm = strcmp (sa, "cem") == 0 ? MIXEM_CEM
                         : strcmp (sa, "sem") == 0 ? MIXEM_SEM : MIXEM_EM;
  }
  lua_getfield (L, idx, "strict_empty");
  o->strict_empty = lua_toboolean (L, -1);
  lua_pop (L, 1);
  o->seed = (unsigned long) lmx_opt_int (L, idx, fn, "seed", (lua_Integer) o->seed, 0,
                                     "an integer >= 0");
  o->threads = lmx_opt_cint (L, idx, fn, "threads", o->threads, 0, "an integer >= 0");
  o->block_size = (size_t) lmx_opt_int (L, idx, fn, "block_size", (lua_Integer) o->block_size, 1,
                                    "a positive integer");
  const char *alg = lmx_opt_str (L, idx, fn, "algorithm", s);
  if (alg) {
    GError *aerr = NULL;
    if (!mixem_algorithm_parse (alg, &o->algorithm, &aerr)) {
      lua_pushfstring (L, "%s: 'algorithm': %s", fn, aerr->message);
      g_error_free (aerr);
      lua_error (L);
    }
  }
  /* Options of one algorithm: given to another, an error naming them. */
  static const char *const anneal_opts[] = { "anneal_t0", "anneal_steps" };
  for (size_t i = 0; i < G_N_ELEMENTS (anneal_opts); i++) {
    const int ty = lua_getfield (L, idx, anneal_opts[i]);
    lua_pop (L, 1);
    if (ty != LUA_TNIL && o->algorithm != MIXEM_ANNEALED)
      luaL_error (L, "%s: '%s' is an option of algorithm \"annealed\" only (algorithm is "
                     "\"%s\")", fn, anneal_opts[i], mixem_algorithm_name (o->algorithm));
  }
  if (o->algorithm == MIXEM_ANNEALED) {
    if (lua_getfield (L, idx, "anneal_t0") != LUA_TNIL) {
      if (!lua_isnumber (L, -1) || !(lua_tonumber (L, -1) >= 1.0)
          || !isfinite (lua_tonumber (L, -1)))
        luaL_error (L, "%s: 'anneal_t0' must be a finite temperature >= 1 (got %s)", fn,
                    luaL_tolstring (L, -1, NULL));
      o->anneal_t0 = lua_tonumber (L, -1);
    }
    lua_pop (L, 1);
    o->anneal_steps = lmx_opt_cint (L, idx, fn, "anneal_steps", o->anneal_steps, 1,
                                "an integer >= 1");
  }
  /* Incremental and online EM's options; 0 is the engine's "default", so a 0 given here is
   * refused by the lower bounds (1), never taken silently as the default. */
  static const struct { const char *name; mixem_algorithm alg; } own[] = {
    { "blocks", MIXEM_INCREMENTAL }, { "batch_size", MIXEM_ONLINE },
    { "step_alpha", MIXEM_ONLINE }, { "epochs", MIXEM_ONLINE }, { "sem_average", MIXEM_SEM },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (own); i++) {
    const int ty = lua_getfield (L, idx, own[i].name);
    lua_pop (L, 1);
    if (ty != LUA_TNIL && o->algorithm != own[i].alg)
      luaL_error (L, "%s: '%s' is an option of algorithm \"%s\" only (algorithm is \"%s\")", fn,
                  own[i].name, mixem_algorithm_name (own[i].alg),
                  mixem_algorithm_name (o->algorithm));
  }
  if (o->algorithm == MIXEM_INCREMENTAL)
    o->blocks = (size_t) lmx_opt_int (L, idx, fn, "blocks", (lua_Integer) o->blocks, 1,
                                  "an integer >= 1");
  if (o->algorithm == MIXEM_ONLINE) {
    o->batch_size = (size_t) lmx_opt_int (L, idx, fn, "batch_size", (lua_Integer) o->batch_size, 1,
                                      "an integer >= 1");
    if (lua_getfield (L, idx, "step_alpha") != LUA_TNIL) {
      if (!lua_isnumber (L, -1) || !(lua_tonumber (L, -1) > 0.5 && lua_tonumber (L, -1) <= 1.0))
        luaL_error (L, "%s: 'step_alpha' must be a number in (0.5, 1] (got %s)", fn,
                    luaL_tolstring (L, -1, NULL));
      o->step_alpha = lua_tonumber (L, -1);
    }
    lua_pop (L, 1);
    o->epochs = lmx_opt_cint (L, idx, fn, "epochs", o->epochs, 1, "an integer >= 1");
  }
  if (o->algorithm == MIXEM_SEM)
    o->sem_average = lmx_opt_cint (L, idx, fn, "sem_average", o->sem_average, 1, "an integer >= 1");
  if (lua_getfield (L, idx, "reseed") != LUA_TNIL) {
    if (!lua_isboolean (L, -1))
      luaL_error (L, "%s: 'reseed' must be a boolean (got %s)", fn, luaL_typename (L, -1));
    o->reseed = lua_toboolean (L, -1);
  }
  lua_pop (L, 1);
  /* mclust's noise component (mixem/fit.h); the engine checks the values. */
  if (lua_getfield (L, idx, "noise") != LUA_TNIL) {
    if (!lua_isboolean (L, -1))
      luaL_error (L, "%s: 'noise' must be a boolean (got %s)", fn, luaL_typename (L, -1));
    o->noise = lua_toboolean (L, -1);
  }
  lua_pop (L, 1);
  o->noise_volume = lmx_opt_num (L, idx, fn, "noise_volume", o->noise_volume);
  o->noise_init = lmx_opt_num (L, idx, fn, "noise_init", o->noise_init);
  if (lua_getfield (L, idx, "fixed") != LUA_TNIL) {
    if (!lua_istable (L, -1) || !lmx_is_array (L, -1))
      luaL_error (L, "%s: 'fixed' must be an array of \"weights\", \"components\" or component "
                     "numbers", fn);
    gboolean *fc = lmx_scratch_keep (s, mixem_try_alloc0 (k, sizeof (gboolean), NULL), g_free);
    if (!fc)   /* k comes from the caller: 1 << 62 must not abort in g_malloc */
      luaL_error (L, "%s: 'k' = %I is too large", fn, (lua_Integer) k);
    gboolean any = FALSE;
    for (lua_Integer i = 1; i <= luaL_len (L, -1); i++) {
      int t = lua_geti (L, -1, i);
      if (t == LUA_TSTRING && strcmp (lua_tostring (L, -1), "weights") == 0)
        o->fix_weights = TRUE;
      else if (t == LUA_TSTRING && strcmp (lua_tostring (L, -1), "components") == 0) {
        for (size_t j = 0; j < k; j++)
          fc[j] = TRUE;
        any = TRUE;
      } else if (lua_isinteger (L, -1) && lua_tointeger (L, -1) >= 1
                 && (size_t) lua_tointeger (L, -1) <= k) {
        fc[lua_tointeger (L, -1) - 1] = TRUE;
        any = TRUE;
      } else
        luaL_error (L, "%s: 'fixed'[%d] must be \"weights\", \"components\" or a component "
                       "number in 1..%d (got %s)", fn, (int) i, (int) k,
                    luaL_tolstring (L, -1, NULL));
      lua_pop (L, 1);
    }
    o->fix_components = any ? fc : NULL;
  }
  lua_pop (L, 1);
}

/* DS with the 'columns' and 'weights' of the options table at IDX applied. */
static const mixem_dataset *
select_data (lua_State *L, const mixem_dataset *ds, int idx, const char *fn, lscratch *s)
{
  char **cols = lmx_column_list (L, idx, fn, "columns", s);
  const char *w = lmx_opt_str (L, idx, fn, "weights", s);
  if (!cols && !w)
    return ds;
  GError *err = NULL;
  mixem_dataset *sel = mixem_dataset_select (ds, (const char *const *) cols, w, &err);
  if (!sel)
    lmx_raise_gerror (L, fn, err);
  return lmx_scratch_keep (s, sel, lmx_dataset_free0);
}

/* The concomitant variables named by 'concomitant' of the options table at IDX (an array of
 * column names or numbers, or one string "z1,z2" or "z1+z2"), as a dataset of DS's rows; NULL
 * when not given. */
static const mixem_dataset *
concomitant_data (lua_State *L, const mixem_dataset *ds, int idx, const char *fn, lscratch *s)
{
  char **cols = NULL;
  if (lua_getfield (L, idx, "concomitant") == LUA_TSTRING) {
    cols = lmx_scratch_keep (s, g_strsplit_set (lua_tostring (L, -1), ",+", -1),
                         (GDestroyNotify) g_strfreev);
    for (char **c = cols; *c; c++)
      g_strstrip (*c);
    lua_pop (L, 1);
  } else {
    lua_pop (L, 1);
    cols = lmx_column_list (L, idx, fn, "concomitant", s);
  }
  if (!cols)
    return NULL;
  GError *err = NULL;
  mixem_dataset *z = mixem_dataset_select (ds, (const char *const *) cols, NULL, &err);
  if (!z) {
    g_prefix_error (&err, "'concomitant': ");
    lmx_raise_gerror (L, fn, err);
  }
  return lmx_scratch_keep (s, z, lmx_dataset_free0);
}

/* DS without the columns of Z (and with the options' 'weights'): a fit's data when concomitant
 * variables are given and 'columns' is not. */
static const mixem_dataset *
without_columns (lua_State *L, const mixem_dataset *ds, const mixem_dataset *z, int idx,
                 const char *fn, lscratch *s)
{
  const size_t d = mixem_dataset_cols (ds);
  char **keep = lmx_scratch_keep (s, g_new0 (char *, d + 1), (GDestroyNotify) g_strfreev);
  size_t m = 0;
  for (size_t j = 0; j < d; j++) {
    gboolean in_z = FALSE;
    for (size_t l = 0; l < mixem_dataset_cols (z); l++)
      in_z = in_z || strcmp (mixem_dataset_name (ds, j), mixem_dataset_name (z, l)) == 0;
    if (!in_z)
      keep[m++] = g_strdup (mixem_dataset_name (ds, j));
  }
  if (m == 0)
    luaL_error (L, "%s: every column is a concomitant variable: nothing is left to model", fn);
  GError *err = NULL;
  mixem_dataset *sel = mixem_dataset_select (ds, (const char *const *) keep,
                                             lmx_opt_str (L, idx, fn, "weights", s), &err);
  if (!sel)
    lmx_raise_gerror (L, fn, err);
  return lmx_scratch_keep (s, sel, lmx_dataset_free0);
}

/* The 'data' of the options table at index 1, with its 'columns' and 'weights' applied, and in
 * *Z its 'concomitant' variables (NULL when not given): without 'columns' the family's data
 * are the columns that are not concomitant variables. */
static const mixem_dataset *
fit_data (lua_State *L, const char *fn, lscratch *s, const mixem_dataset **z)
{
  if (lua_getfield (L, 1, "data") != LUA_TUSERDATA || !luaL_testudata (L, -1, DATASET_MT))
    luaL_error (L, "%s: 'data' must be a dataset (from mixem.read_csv or mixem.dataset)", fn);
  const mixem_dataset *whole = lmx_check_dataset (L, -1)->ds;
  *z = concomitant_data (L, whole, 1, fn, s);
  const mixem_dataset *data = *z && lua_getfield (L, 1, "columns") == LUA_TNIL
                              ? without_columns (L, whole, *z, 1, fn, s)
                              : select_data (L, whole, 1, fn, s);
  if (*z)
    lua_pop (L, 1);
  lua_pop (L, 1);   /* the options table keeps the dataset alive */
  return data;
}

/* Progress on stderr from the options at IDX: quiet = true (none), verbose = 0, 1, 2 or a
 * boolean, verbose_interval; else the live line when stderr is a terminal.  Chains O's callback;
 * NULL when quiet. */
static mixem_progress *
progress_from (lua_State *L, int idx, const char *fn, mixem_fit_options *o)
{
  lua_getfield (L, idx, "quiet");
  const gboolean quiet = lua_toboolean (L, -1);
  lua_pop (L, 1);
  int verbose = 0;
  if (lua_getfield (L, idx, "verbose") == LUA_TBOOLEAN)
    verbose = lua_toboolean (L, -1);
  else if (!lua_isnil (L, -1)) {
    int isnum = 0;
    lua_Integer v = lua_tointegerx (L, -1, &isnum);
    if (!isnum || v < 0 || v > 2)
      luaL_error (L, "%s: 'verbose' must be 0, 1, 2 or a boolean", fn);
    verbose = (int) v;
  }
  lua_pop (L, 1);
  const int interval = lmx_opt_cint (L, idx, fn, "verbose_interval", 10, 1, "an integer >= 1");
  if (quiet)
    return NULL;
  mixem_progress *p = mixem_progress_new (stderr, isatty (fileno (stderr)), 1.0, verbose,
                                          interval, o->n_init, o->callback, o->user_data);
  o->callback = mixem_progress_callback;
  o->user_data = p;
  return p;
}

static mixem_model *
run_fit (lua_State *L, const char *fn, const mixem_family *f, const mixem_dataset *data,
         mixem_fit_options *o, int on_iter_idx, int opts_idx)
{
  callback_ctx cb = { L, on_iter_idx, FALSE, f, o->k };
  if (on_iter_idx) {
    o->callback = on_iter;
    o->user_data = &cb;
  }
  mixem_progress *prog = progress_from (L, opts_idx, fn, o);
  GError *err = NULL;
  mixem_model *m = mixem_fit (f, data, o, &err);
  mixem_progress_free (prog);
  if (cb.failed) {
    mixem_model_free (m);
    g_clear_error (&err);
    lua_error (L);   /* the callback's own message, already on the stack */
  }
  if (!m)
    lmx_raise_gerror (L, fn, err);
  /* scikit-learn's ConvergenceWarning and skipped restarts: on stderr, unless quiet; always in
   * m.warnings. */
  lua_getfield (L, opts_idx, "quiet");
  const gboolean quiet = lua_toboolean (L, -1);
  lua_pop (L, 1);
  size_t nw = 0;
  const char *const *w = mixem_model_warnings (m, &nw);
  for (size_t i = 0; i < nw && !quiet; i++)
    fprintf (stderr, "%s: warning: %s\n", fn, w[i]);
  return m;
}

static int
on_iter_arg (lua_State *L, int idx, const char *fn)
{
  int t = lua_getfield (L, idx, "on_iter");
  if (t == LUA_TNIL) {
    lua_pop (L, 1);
    return 0;
  }
  if (t != LUA_TFUNCTION)
    luaL_error (L, "%s: 'on_iter' must be a function (got %s)", fn, luaL_typename (L, -1));
  return lua_gettop (L);   /* left on the stack for the fit */
}

/* The family named by the options table at 1 (its 'family'), whose keys must be in KNOWN or
 * among the family's options. */
const mixem_family *
lmx_family_arg (lua_State *L, const char *fn, const char *const *known, mixem_registry *reg,
            lscratch *s)
{
  const char *fname = lmx_opt_str (L, 1, fn, "family", s);
  if (!fname)
    luaL_error (L, "%s: 'family' is required (see mixem.families())", fn);
  GError *err = NULL;
  const mixem_family *f = mixem_registry_lookup (reg, fname, &err);
  if (!f)
    lmx_raise_gerror (L, fn, err);
  lmx_check_keys (L, 1, fn, known, f);
  return f;
}

static int
l_fit (lua_State *L)
{
  static const char *const fn = "mixem.fit";
  static const char *const known[] = {
    "data", "family", "k", "init", "fixed", "max_iter", "tol", "n_init", "seed", "threads",
    "refine_tol", "n_refine", "refine_max_iter", "short_starts", "short_iter", "short_algorithm", "strict_empty", "weights", "on_iter", "columns", "block_size", "algorithm", "anneal_t0", "anneal_steps", "blocks", "batch_size", "step_alpha", "epochs", "sem_average", "reseed", "verbose",
    "verbose_interval", "quiet", "noise", "noise_volume", "noise_init", "noise_rows", "nnclean_k",
    "concomitant", NULL
  };
  luaL_checktype (L, 1, LUA_TTABLE);
  lua_settop (L, 1);
  mixem_registry *reg = lmx_push_registry (L);   /* index 2 */
  lscratch *s = lmx_scratch_new (L);             /* index 3 */
  const mixem_family *f = lmx_family_arg (L, fn, known, reg, s);
  const mixem_dataset *z;
  const mixem_dataset *data = fit_data (L, fn, s, &z);

  mixem_fit_options o;
  mixem_fit_options_init (&o);
  o.k = (size_t) lmx_opt_int (L, 1, fn, "k", 1, 1, "a positive integer");
  o.concomitant = z;
  read_engine_options (L, 1, fn, &o, o.k, s);
  /* The noise guess: one flag a row (true/false or 1/0), as mclust's initialization$noise. */
  /* noise_rows = "nnclean": the guess estimated by nearest-neighbour cleaning (mixem_nnclean,
   * k = nnclean_k, default 5 as mclust's examples). */
  const lua_Integer nnk = lmx_opt_int (L, 1, fn, "nnclean_k", 5, 1, "a positive integer");
  if (lua_getfield (L, 1, "noise_rows") == LUA_TSTRING) {
    if (strcmp (lua_tostring (L, -1), "nnclean") != 0)
      luaL_error (L, "%s: 'noise_rows' must be \"nnclean\" or an array of flags", fn);
    gboolean *nf = lmx_scratch_keep (s, g_new (gboolean, mixem_dataset_rows (data) + 1), g_free);
    GError *err = NULL;
    if (!mixem_nnclean (data, (size_t) nnk, nf, NULL, NULL, NULL, &err))
      return lmx_raise_gerror (L, fn, err);
    o.noise_rows = nf;
  } else if (lua_getfield (L, 1, "nnclean_k") != LUA_TNIL)
    luaL_error (L, "%s: 'nnclean_k' goes with noise_rows = \"nnclean\"", fn);
  else if (lua_pop (L, 1), !lua_isnil (L, -1)) {
    const size_t nr = mixem_dataset_rows (data);
    if (!lua_istable (L, -1) || luaL_len (L, -1) != (lua_Integer) nr)
      luaL_error (L, "%s: 'noise_rows' must be an array of %d flags, one a row of the data", fn,
                  (int) nr);
    gboolean *nf = lmx_scratch_keep (s, g_new (gboolean, nr > 0 ? nr : 1), g_free);
    for (size_t i = 0; i < nr; i++) {
      const int t = lua_geti (L, -1, (lua_Integer) i + 1);
      if (t == LUA_TBOOLEAN)
        nf[i] = lua_toboolean (L, -1);
      else if (t == LUA_TNUMBER && (lua_tonumber (L, -1) == 0 || lua_tonumber (L, -1) == 1))
        nf[i] = lua_tonumber (L, -1) == 1;
      else
        luaL_error (L, "%s: noise_rows[%d] must be true, false, 1 or 0", fn, (int) i + 1);
      lua_pop (L, 1);
    }
    o.noise_rows = nf;
  }
  lua_pop (L, 1);
  mixem_options *fo = lmx_scratch_keep (s, mixem_options_new (), lmx_options_free0);
  for (const mixem_option_info *oi = f->options; oi && oi->name; oi++) {
    const char *v = lmx_family_opt_str (L, 1, fn, oi->name, s);
    if (v)
      mixem_options_set (fo, oi->name, v);
  }
  o.family_options = fo;

  int t = lua_getfield (L, 1, "init");
  if (t == LUA_TSTRING)
    o.init = lua_tostring (L, -1);   /* the options table keeps the string alive */
  else if (t == LUA_TTABLE) {
    int it = lua_gettop (L);
    static const char *const init_keys[] = { "weights", "components", "concomitant", NULL };
    lmx_check_keys (L, it, "mixem.fit: init", init_keys, NULL);
    if (lua_getfield (L, it, "concomitant") != LUA_TNIL) {
      /* {{intercept, slopes...}, ...}: K rows of Q + 1 coefficients (flexmix's coef order) */
      const size_t q1 = z ? mixem_dataset_cols (z) + 1 : 0;
      if (!z)
        luaL_error (L, "%s: init.concomitant needs 'concomitant' variables", fn);
      if (!lua_istable (L, -1) || luaL_len (L, -1) != (lua_Integer) o.k)
        luaL_error (L, "%s: init.concomitant must be an array of k = %d arrays of %d numbers",
                    fn, (int) o.k, (int) q1);
      double *g = lmx_scratch_keep (s, g_new (double, o.k * q1), g_free);
      for (size_t k = 0; k < o.k; k++) {
        if (lua_geti (L, -1, (lua_Integer) k + 1) != LUA_TTABLE
            || luaL_len (L, -1) != (lua_Integer) q1)
          luaL_error (L, "%s: init.concomitant[%d] must be an array of %d numbers (the "
                      "intercept, then one a concomitant variable)", fn, (int) k + 1, (int) q1);
        for (size_t j = 0; j < q1; j++) {
          lua_geti (L, -1, (lua_Integer) j + 1);
          int isnum = 0;
          g[k * q1 + j] = lua_tonumberx (L, -1, &isnum);
          if (!isnum)
            luaL_error (L, "%s: init.concomitant[%d][%d] is not a number", fn, (int) k + 1,
                        (int) j + 1);
          lua_pop (L, 1);
        }
        lua_pop (L, 1);
      }
      o.init_concomitant = g;
    }
    lua_pop (L, 1);
    if (lua_getfield (L, it, "weights") != LUA_TNIL) {
      const size_t nw = o.k + (o.noise ? 1 : 0);   /* with noise, its weight last */
      if (!lua_istable (L, -1) || luaL_len (L, -1) != (lua_Integer) nw)
        luaL_error (L, "%s: init.weights must be an array of %s = %d numbers", fn,
                    o.noise ? "k + 1 (the noise's last)" : "k", (int) nw);
      double *w = lmx_scratch_keep (s, g_new (double, nw), g_free);
      for (size_t j = 0; j < nw; j++) {
        lua_geti (L, -1, (lua_Integer) j + 1);
        int isnum = 0;
        w[j] = lua_tonumberx (L, -1, &isnum);
        if (!isnum)
          luaL_error (L, "%s: init.weights[%d] is not a number", fn, (int) j + 1);
        lua_pop (L, 1);
      }
      o.init_weights = w;
    }
    lua_pop (L, 1);
    if (lua_getfield (L, it, "components") != LUA_TNIL) {
      if (!lua_istable (L, -1) || luaL_len (L, -1) != (lua_Integer) o.k)
        luaL_error (L, "%s: init.components must be an array of k = %d tables", fn, (int) o.k);
      const void *path[LUA_VALUE_MAX_DEPTH];   /* before the builder: the error would leak it */
      lmx_check_value_nesting (L, -1, fn, "init.components", path, 0);
      GVariantBuilder b;
      g_variant_builder_init (&b, G_VARIANT_TYPE ("aa{sv}"));
      GVariant **parts = lmx_scratch_keep (s, g_new0 (GVariant *, o.k), g_free);
      for (size_t j = 0; j < o.k; j++) {
        if (lua_geti (L, -1, (lua_Integer) j + 1) != LUA_TTABLE || lmx_is_array (L, -1)) {
          for (size_t q = 0; q < j; q++)
            g_variant_unref (parts[q]);
          g_variant_builder_clear (&b);
          luaL_error (L, "%s: init.components[%d] must be a table such as {p = 0.6}", fn,
                      (int) j + 1);
        }
        parts[j] = g_variant_ref_sink (lmx_lua_to_variant (L, -1, fn, "init.components"));
        lua_pop (L, 1);
      }
      for (size_t j = 0; j < o.k; j++) {
        g_variant_builder_add_value (&b, parts[j]);
        g_variant_unref (parts[j]);
      }
      o.init_components = lmx_scratch_keep (s, g_variant_ref_sink (g_variant_builder_end (&b)),
                                        lmx_variant_unref0);
    }
    lua_pop (L, 1);
  } else if (t == LUA_TUSERDATA && luaL_testudata (L, -1, MODEL_MT))
    o.warm_start = lmx_check_model (L, -1)->m;   /* the options table keeps it alive */
  else if (t != LUA_TNIL)
    luaL_error (L, "%s: 'init' must be a method name, a table or a model (got %s)", fn,
                luaL_typename (L, -1));

  mixem_model *m = run_fit (L, fn, f, data, &o, on_iter_arg (L, 1, fn), 1);
  lmx_push_model (L, m, 2);
  return 1;
}

/* Lua value at the top of the stack as option text, kept in S. */
static const char *
option_text (lua_State *L, const char *fn, const char *key, lscratch *s)
{
  if (lua_isinteger (L, -1))
    return lmx_scratch_keep (s, g_strdup_printf ("%lld", (long long) lua_tointeger (L, -1)), g_free);
  if (lua_type (L, -1) == LUA_TNUMBER) {
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    return lmx_scratch_keep (s, g_strdup (g_ascii_dtostr (buf, sizeof buf, lua_tonumber (L, -1))),
                         g_free);
  }
  if (lua_type (L, -1) == LUA_TSTRING)
    return lmx_scratch_keep (s, g_strdup (lua_tostring (L, -1)), g_free);
  if (lua_type (L, -1) == LUA_TBOOLEAN)   /* a MIXEM_OPTION_BOOLEAN family option */
    return lua_toboolean (L, -1) ? "true" : "false";
  luaL_error (L, "%s: '%s' must be a string or a number (got %s)", fn, key, luaL_typename (L, -1));
  return NULL;
}

static void
push_candidate (lua_State *L, const mixem_candidate *c)
{
  lua_createtable (L, 0, 8);
  lua_pushinteger (L, (lua_Integer) c->k);
  lua_setfield (L, -2, "k");
  lua_newtable (L);
  for (size_t i = 0; i < mixem_options_size (c->options); i++) {
    lua_pushstring (L, mixem_options_get (c->options, mixem_options_key (c->options, i)));
    lua_setfield (L, -2, mixem_options_key (c->options, i));
  }
  lua_setfield (L, -2, "options");
  const struct { const char *k; double v; } f[] = {
    { "loglik", c->loglik }, { "bic", c->bic }, { "aic", c->aic }, { "icl", c->icl },
    { "heldout", c->heldout },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (f); i++) {
    if (isnan (f[i].v))
      continue;   /* no held-out score without folds */
    lua_pushnumber (L, f[i].v);
    lua_setfield (L, -2, f[i].k);
  }
  if (c->failure) {
    lua_pushstring (L, c->failure);   /* no scores: the fit failed, and this says why */
    lua_setfield (L, -2, "failure");
    return;
  }
  lua_pushinteger (L, (lua_Integer) c->n_params);
  lua_setfield (L, -2, "n_params");
}

/* mx.select{data =, family =, k = {1, 2, ...}, criterion = "bic", folds =, validation =, the fit
 * options, and family options where a list gives one candidate per value (a grid)}. */
static int
l_select (lua_State *L)
{
  static const char *const fn = "mixem.select";
  static const char *const known[] = {
    "data", "family", "k", "criterion", "folds", "validation", "init", "max_iter", "tol",
    "n_init", "seed", "threads", "refine_tol", "n_refine", "refine_max_iter", "short_starts",
    "short_iter", "short_algorithm", "strict_empty", "weights", "columns", "block_size", "algorithm", "anneal_t0",
    "anneal_steps", "blocks", "batch_size", "step_alpha", "epochs", "sem_average", "reseed",
    "fixed", "verbose", "verbose_interval", "quiet", "sign", "spread", "concomitant", NULL
  };
  luaL_checktype (L, 1, LUA_TTABLE);
  lua_settop (L, 1);
  mixem_registry *reg = lmx_push_registry (L);   /* 2 */
  lscratch *s = lmx_scratch_new (L);             /* 3 */
  const mixem_family *f = lmx_family_arg (L, fn, known, reg, s);
  GError *err = NULL;
  const mixem_dataset *z;
  const mixem_dataset *data = fit_data (L, fn, s, &z);

  /* K: one number or an array. */
  GArray *ks = lmx_scratch_keep (s, g_array_new (FALSE, FALSE, sizeof (size_t)),
                             (GDestroyNotify) g_array_unref);
  int t = lua_getfield (L, 1, "k");
  if (t == LUA_TNUMBER || t == LUA_TTABLE) {
    lua_Integer n = t == LUA_TTABLE ? luaL_len (L, -1) : 1;
    for (lua_Integer i = 1; i <= n; i++) {
      if (t == LUA_TTABLE)
        lua_geti (L, -1, i);
      int isnum = 0;
      lua_Integer v = lua_tointegerx (L, -1, &isnum);
      if (!isnum || v < 1)
        luaL_error (L, "%s: 'k' must be a positive integer or an array of them", fn);
      size_t kv = (size_t) v;
      g_array_append_val (ks, kv);
      if (t == LUA_TTABLE)
        lua_pop (L, 1);
    }
  } else
    luaL_error (L, "%s: 'k' must be a positive integer or an array of them (got %s)", fn,
                luaL_typename (L, -1));
  lua_pop (L, 1);
  if (ks->len == 0)
    luaL_error (L, "%s: 'k' is empty", fn);

  /* The grid of family options: the product of every list-valued option. */
  GPtrArray *sets = lmx_scratch_keep (s, g_ptr_array_new_with_free_func (lmx_options_free0),
                                  (GDestroyNotify) g_ptr_array_unref);
  g_ptr_array_add (sets, mixem_options_new ());
  for (const mixem_option_info *oi = f->options; oi && oi->name; oi++) {
    int ot = lua_getfield (L, 1, oi->name);
    if (ot == LUA_TNIL) {
      lua_pop (L, 1);
      continue;
    }
    GPtrArray *values = g_ptr_array_new ();
    if (ot == LUA_TTABLE) {
      for (lua_Integer i = 1; i <= luaL_len (L, -1); i++) {
        lua_geti (L, -1, i);
        g_ptr_array_add (values, (gpointer) option_text (L, fn, oi->name, s));
        lua_pop (L, 1);
      }
    } else if (strcmp (oi->name, "covariance") == 0) {
      /* covariance = "all" (mclust's 14 models) or "VVV,EEE": one candidate per model. */
      const char *v = option_text (L, fn, oi->name, s);
      lua_getfield (L, 1, "prior");
      const gboolean prior = lua_type (L, -1) == LUA_TSTRING
                             && strcmp (lua_tostring (L, -1), "default") == 0;
      lua_pop (L, 1);
      const char *all = prior ? MIXEM_GAUSSIAN_PRIOR_MODELS : MIXEM_GAUSSIAN_MODELS;
      char **parts = lmx_scratch_keep (s, g_strsplit (strcmp (v, "all") == 0 ? all : v, ",", -1),
                                   (GDestroyNotify) g_strfreev);
      for (char **q = parts; *q; q++)
        g_ptr_array_add (values, *q);
    } else
      g_ptr_array_add (values, (gpointer) option_text (L, fn, oi->name, s));
    lua_pop (L, 1);
    GPtrArray *next = g_ptr_array_new_with_free_func (lmx_options_free0);
    for (guint a = 0; a < sets->len; a++)
      for (guint b = 0; b < values->len; b++) {
        mixem_options *o = mixem_options_copy (g_ptr_array_index (sets, a));
        mixem_options_set (o, oi->name, g_ptr_array_index (values, b));
        g_ptr_array_add (next, o);
      }
    g_ptr_array_free (values, TRUE);
    g_ptr_array_set_size (sets, 0);
    for (guint a = 0; a < next->len; a++)
      g_ptr_array_add (sets, g_ptr_array_steal_index (next, a--));
    g_ptr_array_free (next, TRUE);
  }

  mixem_fit_options o;
  mixem_fit_options_init (&o);
  read_engine_options (L, 1, fn, &o, 1, s);
  o.concomitant = z;
  o.fix_components = NULL;
  o.init = lmx_opt_str (L, 1, fn, "init", s);
  mixem_select_options so = { (const size_t *) ks->data, ks->len,
                              (const mixem_options *const *) sets->pdata, sets->len, MIXEM_BIC,
                              lmx_opt_cint (L, 1, fn, "folds", 0, 0, "an integer >= 0"),
                              lmx_opt_num (L, 1, fn, "validation", 0.0), &o, FALSE };
  const char *crit = lmx_opt_str (L, 1, fn, "criterion", s);
  if (crit && !mixem_criterion_parse (crit, &so.criterion))
    luaL_error (L, "%s: 'criterion' must be bic, aic, icl or heldout (got %s)", fn, crit);
  /* sign = "mclust": BIC as mclust reports it, 2 loglik - p log n (higher is better).
   * Checked before the fits: an error after them would lose the chosen model. */
  const char *sign = lmx_opt_str (L, 1, fn, "sign", s);
  if (sign && strcmp (sign, "mclust") != 0 && strcmp (sign, "mixem") != 0)
    luaL_error (L, "%s: 'sign' must be mixem or mclust (got %s)", fn, sign);
  const gboolean mclust_sign = sign && strcmp (sign, "mclust") == 0;
  /* spread (default true): under mpirun, with every rank holding all the data, the candidates
   * are shared out among the ranks (candidate i to rank i mod P), each rank ending with the
   * whole result, as one process makes it (collective); false: every rank selects alone. */
  gboolean spread = TRUE;
  if (lua_getfield (L, 1, "spread") != LUA_TNIL) {
    if (!lua_isboolean (L, -1))
      luaL_error (L, "%s: 'spread' must be a boolean", fn);
    spread = lua_toboolean (L, -1);
  }
  lua_pop (L, 1);
  if (spread && mixem_parallel_launched () && !mixem_dataset_is_part (data)) {
    if (!mixem_parallel_init (&err))
      return lmx_raise_gerror (L, fn, err);
    so.spread_ranks = TRUE;
  }
  mixem_model *best = NULL;
  size_t best_index = 0;
  mixem_progress *prog = progress_from (L, 1, fn, &o);
  GArray *cands = mixem_select (f, data, &so, &best, &best_index, &err);
  mixem_progress_free (prog);
  if (!cands)
    return lmx_raise_gerror (L, fn, err);
  lmx_scratch_keep (s, cands, (GDestroyNotify) mixem_candidates_free);
  lua_getfield (L, 1, "quiet");
  const gboolean quiet = lua_toboolean (L, -1);
  lua_pop (L, 1);
  lua_createtable (L, 0, 6);
  lua_createtable (L, (int) cands->len, 0);
  for (guint i = 0; i < cands->len; i++) {
    const mixem_candidate *c = &g_array_index (cands, mixem_candidate, i);
    if (c->failure && !quiet)   /* as a fit's warnings: kept in the table, said on stderr */
      fprintf (stderr, "%s: warning: candidate k = %zu failed and is left out: %s\n", fn, c->k,
               c->failure);
    push_candidate (L, c);
    if (mclust_sign && !c->failure) {
      lua_pushnumber (L, -c->bic);
      lua_setfield (L, -2, "bic");
    }
    lua_seti (L, -2, (lua_Integer) i + 1);
  }
  lua_setfield (L, -2, "candidates");
  lua_pushstring (L, mclust_sign ? "mclust" : "mixem");
  lua_setfield (L, -2, "sign");
  /* The best three by the criterion (mclust's summary(BIC)): indices into candidates. */
  size_t top[3];
  const size_t nt = mixem_candidates_top (cands, so.criterion, top, 3);
  lua_createtable (L, (int) nt, 0);
  for (size_t i = 0; i < nt; i++) {
    lua_pushinteger (L, (lua_Integer) top[i] + 1);
    lua_seti (L, -2, (lua_Integer) i + 1);
  }
  lua_setfield (L, -2, "top");
  lua_pushinteger (L, (lua_Integer) best_index + 1);
  lua_setfield (L, -2, "best");
  lua_pushstring (L, mixem_criterion_name (so.criterion));
  lua_setfield (L, -2, "criterion");
  lmx_push_model (L, best, 2);
  lua_setfield (L, -2, "model");
  return 1;
}

int
lmx_m_refit (lua_State *L)
{
  static const char *const fn = "model:refit";
  static const char *const known[] = { "max_iter", "tol", "n_init", "seed", "threads", "fixed",
                                       "refine_tol", "n_refine", "refine_max_iter", "short_starts", "short_iter", "short_algorithm", "strict_empty",
                                       "on_iter", "weights", "columns", "block_size", "algorithm", "anneal_t0", "anneal_steps", "blocks", "batch_size", "step_alpha", "epochs", "sem_average",
                                       "reseed", "verbose", "verbose_interval", "quiet", NULL };
  lmodel *lm = lmx_check_model (L, 1);
  lmx_check_dataset (L, 2);
  if (lua_isnoneornil (L, 3)) {
    lua_settop (L, 2);
    lua_newtable (L);
  }
  luaL_checktype (L, 3, LUA_TTABLE);
  lua_settop (L, 3);
  lmx_check_keys (L, 3, fn, known, NULL);
  lua_getiuservalue (L, 1, 1);   /* registry: index 4 */
  lscratch *s = lmx_scratch_new (L);
  const mixem_dataset *data = select_data (L, lmx_check_dataset (L, 2)->ds, 3, fn, s);
  mixem_fit_options o;
  mixem_fit_options_init (&o);
  const char *const *zn = NULL;
  if (mixem_model_concomitant (lm->m, &zn, NULL) > 0) {
    /* a model with concomitant variables refits with them, found in X by name */
    GError *err = NULL;
    mixem_dataset *z = mixem_dataset_select (lmx_check_dataset (L, 2)->ds, zn, NULL, &err);
    if (!z) {
      g_prefix_error (&err, "the model's concomitant variables: ");
      return lmx_raise_gerror (L, fn, err);
    }
    o.concomitant = lmx_scratch_keep (s, z, lmx_dataset_free0);
    if (lua_getfield (L, 3, "weights") != LUA_TNIL || lua_getfield (L, 3, "columns") != LUA_TNIL)
      luaL_error (L, "%s: a model with concomitant variables refits on the model's columns "
                  "and the rows' own weights ('columns' and 'weights' are not taken)", fn);
    lua_pop (L, 2);
    GError *e2 = NULL;
    mixem_dataset *fam = mixem_dataset_select (lmx_check_dataset (L, 2)->ds,
                                               mixem_model_names (lm->m), NULL, &e2);
    if (!fam)
      return lmx_raise_gerror (L, fn, e2);
    data = lmx_scratch_keep (s, fam, lmx_dataset_free0);
  }
  o.k = mixem_model_k (lm->m);
  o.family_options = mixem_model_options (lm->m);
  o.warm_start = lm->m;
  read_engine_options (L, 3, fn, &o, o.k, s);
  o.noise = mixem_model_noise (lm->m, NULL, NULL);   /* a noise model refits with its noise */
  mixem_model *m = run_fit (L, fn, mixem_model_family (lm->m), data, &o, on_iter_arg (L, 3, fn),
                            3);
  lmx_push_model (L, m, 4);
  return 1;
}

/* model:partial_fit(X [, {step_alpha =, threads =, columns =, weights =}]): one online EM
 * update of the model in place on the batch X (mixem_model_partial_fit); returns the model. */
int
lmx_m_partial_fit (lua_State *L)
{
  static const char *const fn = "model:partial_fit";
  static const char *const known[] = { "step_alpha", "threads", "columns", "weights", NULL };
  lmodel *lm = lmx_check_model (L, 1);
  lmx_check_dataset (L, 2);
  if (lua_isnoneornil (L, 3)) {
    lua_settop (L, 2);
    lua_newtable (L);
  }
  luaL_checktype (L, 3, LUA_TTABLE);
  lua_settop (L, 3);
  lmx_check_keys (L, 3, fn, known, NULL);
  lscratch *s = lmx_scratch_new (L);
  const mixem_dataset *data = select_data (L, lmx_check_dataset (L, 2)->ds, 3, fn, s);
  double alpha = 0.0;
  if (lua_getfield (L, 3, "step_alpha") != LUA_TNIL) {
    if (!lua_isnumber (L, -1) || !(lua_tonumber (L, -1) > 0.5 && lua_tonumber (L, -1) <= 1.0))
      luaL_error (L, "%s: 'step_alpha' must be a number in (0.5, 1] (got %s)", fn,
                  luaL_tolstring (L, -1, NULL));
    alpha = lua_tonumber (L, -1);
  }
  lua_pop (L, 1);
  const int threads = lmx_opt_cint (L, 3, fn, "threads", 0, 0, "an integer >= 0");
  GError *err = NULL;
  if (!mixem_model_partial_fit (lm->m, data, alpha, threads, &err)) {
    lua_pushfstring (L, "%s: %s", fn, err->message);
    g_error_free (err);
    lua_error (L);
  }
  lua_pushvalue (L, 1);
  return 1;
}

const luaL_Reg lmx_fit_functions[] = {
  { "fit", l_fit }, { "select", l_select }, { NULL, NULL }
};
