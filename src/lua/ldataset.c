/* ldataset.c: datasets in Lua: mixem.read_csv, mixem.read_npy, mixem.dataset, mixem.mpi, and
 * the dataset userdata's methods (rows, columns, levels, missing cells, subsets). */
#include <glob.h>
#include <limits.h>
#include <math.h>
#include <string.h>
#include "lmx.h"

/* ---- datasets ---- */

/* allow_missing (a boolean) and missing (a string or an array of strings: the tokens of a
 * missing cell) from the options table at IDX. */
static void
missing_opts (lua_State *L, int idx, const char *fn, lscratch *s, gboolean *allow, char ***tokens)
{
  gboolean set = FALSE;
  if (lua_getfield (L, idx, "allow_missing") != LUA_TNIL) {
    if (!lua_isboolean (L, -1))
      luaL_error (L, "%s: 'allow_missing' must be a boolean", fn);
    *allow = lua_toboolean (L, -1);
    set = TRUE;
  }
  lua_pop (L, 1);
  int t = lua_getfield (L, idx, "missing");
  if (t == LUA_TSTRING) {
    *tokens = lmx_scratch_keep (s, g_new0 (char *, 2), (GDestroyNotify) g_strfreev);
    (*tokens)[0] = g_strdup (lua_tostring (L, -1));
  } else if (t == LUA_TTABLE && lmx_is_array (L, -1)) {
    lua_Integer n = luaL_len (L, -1);
    *tokens = lmx_scratch_keep (s, g_new0 (char *, n + 1), (GDestroyNotify) g_strfreev);
    for (lua_Integer i = 1; i <= n; i++) {
      if (lua_geti (L, -1, i) != LUA_TSTRING)
        luaL_error (L, "%s: 'missing'[%d] must be a string", fn, (int) i);
      (*tokens)[i - 1] = g_strdup (lua_tostring (L, -1));
      lua_pop (L, 1);
    }
  } else if (t != LUA_TNIL)
    luaL_error (L, "%s: 'missing' must be a string or an array of strings", fn);
  lua_pop (L, 1);
  if (*tokens && set && !*allow)
    luaL_error (L, "%s: 'missing' contradicts allow_missing = false", fn);
  *allow = *allow || *tokens;   /* tokens imply allow_missing */
}

ldataset *
lmx_check_dataset (lua_State *L, int idx)
{
  ldataset *d = luaL_checkudata (L, idx, DATASET_MT);
  if (!d->ds)
    luaL_argerror (L, idx, "dataset is empty");
  return d;
}

/* Pushes a dataset userdata that takes DS. */
void
lmx_push_dataset (lua_State *L, mixem_dataset *ds)
{
  ldataset *d = lua_newuserdatauv (L, sizeof *d, 0);
  d->ds = ds;
  luaL_setmetatable (L, DATASET_MT);
}

/* The readers' part = "mpi" (this rank's share of the rows, mixem/parallel.h) or "none" (the
 * default: all rows), and block_size (the fits' blocks: the share is cut at 64 of them): the
 * share's grain in rows, or 0 for all rows.  The options table is at index 2. */
static size_t
part_grain (lua_State *L, const char *fn)
{
  if (!lua_istable (L, 2))
    return 0;
  size_t grain = 0;
  if (lua_getfield (L, 2, "part") != LUA_TNIL) {
    const char *p = lua_tostring (L, -1);
    if (!p || (strcmp (p, "mpi") != 0 && strcmp (p, "none") != 0))
      luaL_error (L, "%s: 'part' must be \"mpi\" or \"none\"", fn);
    grain = strcmp (p, "mpi") == 0 ? 64 * 256 : 0;
  }
  lua_pop (L, 1);
  if (lua_getfield (L, 2, "block_size") != LUA_TNIL) {
    lua_Integer b = lua_isinteger (L, -1) ? lua_tointeger (L, -1) : 0;
    if (b < 1 || b > (1 << 24))
      luaL_error (L, "%s: 'block_size' must be a whole number from 1 to 2^24", fn);
    if (!grain)
      luaL_error (L, "%s: 'block_size' goes with part = \"mpi\"", fn);
    grain = 64 * (size_t) b;
  }
  lua_pop (L, 1);
  return grain;
}

/* A name with * ? or [ that is no file's own: a pattern of shard files. */
static gboolean
is_pattern (const char *path)
{
  return strpbrk (path, "*?[") && !g_file_test (path, G_FILE_TEST_EXISTS);
}

/* Shard files: the files PATH (a pattern with * ? or [) matches, in name order, as one dataset
 * (GRAIN > 0: this rank's share of their rows); NULL with ERROR when none matches. */
static mixem_dataset *
read_pattern (const char *path, const mixem_csv_options *o, size_t grain, GError **error)
{
  glob_t g;
  if (glob (path, 0, NULL, &g) != 0) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_IO, "%s: no file matches", path);
    return NULL;
  }
  mixem_dataset *ds = mixem_dataset_read_shards ((const char *const *) g.gl_pathv, o, grain > 0,
                                                 grain, error);
  globfree (&g);
  return ds;
}

/* mx.mpi(): this rank and the number of ranks (0 and 1 unless started by mpirun, which it then
 * initialises). */
static int
l_mpi (lua_State *L)
{
  GError *err = NULL;
  if (mixem_parallel_launched () && !mixem_parallel_init (&err))
    return lmx_raise_gerror (L, "mixem.mpi", err);
  lua_pushinteger (L, mixem_parallel_rank ());
  lua_pushinteger (L, mixem_parallel_size ());
  return 2;
}

static int
l_read_csv (lua_State *L)
{
  static const char *const known[] = { "columns", "header", "delimiter", "weights",
                                        "categorical", "allow_missing", "missing", "part",
                                        "block_size", NULL };
  const char *path = luaL_checkstring (L, 1);
  mixem_csv_options o = { 0 };
  lua_settop (L, 2);
  lscratch *s = lmx_scratch_new (L);
  const size_t grain = part_grain (L, "mixem.read_csv");
  if (!lua_isnoneornil (L, 2)) {
    luaL_checktype (L, 2, LUA_TTABLE);
    lmx_check_keys (L, 2, "mixem.read_csv", known, NULL);
    o.columns = (const char *const *) lmx_column_list (L, 2, "mixem.read_csv", "columns", s);
    if (lua_getfield (L, 2, "header") != LUA_TNIL) {
      if (!lua_isboolean (L, -1))
        luaL_error (L, "mixem.read_csv: 'header' must be a boolean");
      o.no_header = !lua_toboolean (L, -1);
    }
    lua_pop (L, 1);
    const char *delim = lmx_opt_str (L, 2, "mixem.read_csv", "delimiter", s);
    if (delim && strlen (delim) != 1)
      luaL_error (L, "mixem.read_csv: 'delimiter' must be one character (got '%s')", delim);
    o.delimiter = delim ? delim[0] : 0;
    o.weights = lmx_opt_str (L, 2, "mixem.read_csv", "weights", s);
    /* categorical = true: every column with text is read as level names; an array: these. */
    if (lua_getfield (L, 2, "categorical") == LUA_TBOOLEAN) {
      o.text_levels = lua_toboolean (L, -1);
      lua_pop (L, 1);
    } else {
      lua_pop (L, 1);
      o.categorical = (const char *const *) lmx_column_list (L, 2, "mixem.read_csv", "categorical",
                                                         s);
    }
    char **tokens = NULL;
    missing_opts (L, 2, "mixem.read_csv", s, &o.allow_missing, &tokens);
    o.missing = (const char *const *) tokens;
  }
  GError *err = NULL;
  mixem_dataset *ds = is_pattern (path) ? read_pattern (path, &o, grain, &err)
                       : grain ? mixem_dataset_read_csv_part (path, &o, grain, &err)
                       : mixem_dataset_read_csv (path, &o, &err);
  if (!ds)
    return lmx_raise_gerror (L, "mixem.read_csv", err);
  lmx_push_dataset (L, ds);
  return 1;
}

/* mx.read_npy(path, {columns =, weights =, part =, block_size =, rows = {first, last}}); with
 * rows, only the file's rows first..last (1-based, last clamped to the file's rows; for a file
 * larger than memory read a batch at a time, as for model:partial_fit), and the file's row count
 * as a second result. */
static int
l_read_npy (lua_State *L)
{
  static const char *const known[] = { "columns", "weights", "allow_missing", "part",
                                        "block_size", "rows", NULL };
  /* (missing tokens are CSV text: a .npy file marks a missing cell by NaN) */
  const char *path = luaL_checkstring (L, 1);
  lua_settop (L, 2);
  lscratch *s = lmx_scratch_new (L);
  const size_t grain = part_grain (L, "mixem.read_npy");
  char **cols = NULL, **tokens = NULL;
  const char *w = NULL;
  gboolean allow = FALSE;
  if (!lua_isnil (L, 2)) {
    luaL_checktype (L, 2, LUA_TTABLE);
    lmx_check_keys (L, 2, "mixem.read_npy", known, NULL);
    cols = lmx_column_list (L, 2, "mixem.read_npy", "columns", s);
    w = lmx_opt_str (L, 2, "mixem.read_npy", "weights", s);
    missing_opts (L, 2, "mixem.read_npy", s, &allow, &tokens);
  }
  lua_Integer first = 0, last = 0;
  const gboolean ranged = !lua_isnil (L, 2) && lua_getfield (L, 2, "rows") != LUA_TNIL;
  if (ranged) {
    gboolean good = lua_istable (L, -1) && luaL_len (L, -1) == 2;
    if (good) {
      lua_geti (L, -1, 1);
      lua_geti (L, -2, 2);
      good = lua_isinteger (L, -2) && lua_isinteger (L, -1);
      first = lua_tointeger (L, -2);
      last = lua_tointeger (L, -1);
      good = good && first >= 1 && last >= first;
      lua_pop (L, 2);
    }
    if (!good)
      luaL_error (L, "mixem.read_npy: 'rows' must be {first, last}, whole numbers with "
                  "1 <= first <= last");
    if (grain || is_pattern (path) || allow)
      luaL_error (L, "mixem.read_npy: 'rows' reads one file's rows on one process, without "
                  "missing values");
  }
  if (!lua_isnil (L, 2))
    lua_pop (L, 1);
  GError *err = NULL;
  mixem_csv_options po = { 0 };   /* (shards: only the missing-value option applies) */
  po.allow_missing = allow;
  size_t n_all = 0;
  mixem_dataset *ds = ranged ? mixem_dataset_read_npy_rows (path, (size_t) first - 1,
                                                            (size_t) last, &n_all, &err)
                       : is_pattern (path) ? read_pattern (path, &po, grain, &err)
                       : grain ? mixem_dataset_read_npy_part_missing (path, grain, allow, &err)
                       : mixem_dataset_read_npy_missing (path, allow, &err);
  if (ds && ranged && mixem_dataset_rows (ds) == 0) {
    g_set_error (&err, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: rows %lld to %lld: the file has %zu "
                 "rows", path, (long long) first, (long long) last, n_all);
    mixem_dataset_free (ds);
    ds = NULL;
  }
  if (ds && (cols || w)) {
    mixem_dataset *sel = mixem_dataset_select (ds, (const char *const *) cols, w, &err);
    mixem_dataset_free (ds);
    ds = sel;
  }
  if (!ds)
    return lmx_raise_gerror (L, "mixem.read_npy", err);
  lmx_push_dataset (L, ds);
  if (!ranged)
    return 1;
  lua_pushinteger (L, (lua_Integer) n_all);
  return 2;
}

/* mx.dataset{{1, 2}, {3, 4}, names = {"a", "b"}, weights = {1, 2}} */
static int
l_dataset (lua_State *L)
{
  static const char *const fn = "mixem.dataset";
  luaL_checktype (L, 1, LUA_TTABLE);
  lscratch *s = lmx_scratch_new (L);
  lua_Integer n = luaL_len (L, 1);
  lua_pushnil (L);
  while (lua_next (L, 1)) {
    lua_pop (L, 1);
    if (lua_isinteger (L, -1) ? (lua_tointeger (L, -1) < 1 || lua_tointeger (L, -1) > n)
                              : (lua_type (L, -1) != LUA_TSTRING
                                 || (strcmp (lua_tostring (L, -1), "names") != 0
                                     && strcmp (lua_tostring (L, -1), "weights") != 0
                                     && strcmp (lua_tostring (L, -1), "allow_missing") != 0)))
      luaL_error (L, "%s: unknown key '%s' (rows go at 1..n; also 'names', 'weights', "
                  "'allow_missing')", fn,
                  luaL_tolstring (L, -1, NULL));
  }
  if (n == 0)
    luaL_error (L, "%s: no rows", fn);
  lua_Integer d = 0;
  double *x = NULL;
  for (lua_Integer i = 1; i <= n; i++) {
    if (lua_geti (L, 1, i) != LUA_TTABLE)
      luaL_error (L, "%s: row %d must be an array of numbers", fn, (int) i);
    lua_Integer len = luaL_len (L, -1);
    if (i == 1) {
      d = len;
      if (d == 0)
        luaL_error (L, "%s: row 1 is empty", fn);
      x = lmx_scratch_keep (s, g_new (double, n * d), g_free);
    } else if (len != d)
      luaL_error (L, "%s: row %d has %d values, but row 1 has %d", fn, (int) i, (int) len, (int) d);
    for (lua_Integer j = 1; j <= d; j++) {
      int isnum = 0;
      lua_geti (L, -1, j);
      x[(i - 1) * d + j - 1] = lua_tonumberx (L, -1, &isnum);
      if (!isnum)
        luaL_error (L, "%s: row %d, column %d is not a number", fn, (int) i, (int) j);
      lua_pop (L, 1);
    }
    lua_pop (L, 1);
  }
  char **names = lmx_column_list (L, 1, fn, "names", s);
  if (names && g_strv_length (names) != (guint) d)
    luaL_error (L, "%s: 'names' has %d entries for %d columns", fn, (int) g_strv_length (names),
                (int) d);
  double *w = NULL;
  if (lua_getfield (L, 1, "weights") != LUA_TNIL) {
    if (!lua_istable (L, -1) || luaL_len (L, -1) != n)
      luaL_error (L, "%s: 'weights' must be an array of %d numbers", fn, (int) n);
    w = lmx_scratch_keep (s, g_new (double, n), g_free);
    for (lua_Integer i = 1; i <= n; i++) {
      lua_geti (L, -1, i);
      int isnum = 0;
      w[i - 1] = lua_tonumberx (L, -1, &isnum);
      if (!isnum)
        luaL_error (L, "%s: weight %d is not a number", fn, (int) i);
      lua_pop (L, 1);
    }
  }
  lua_pop (L, 1);
  /* allow_missing = true: a NaN (0/0) is a missing cell. */
  lua_getfield (L, 1, "allow_missing");
  const gboolean allow = lua_toboolean (L, -1);
  lua_pop (L, 1);
  GError *err = NULL;
  mixem_dataset *ds = allow ? mixem_dataset_new_missing ((size_t) n, (size_t) d, x,
                                                         (const char *const *) names, w, &err)
                            : mixem_dataset_new ((size_t) n, (size_t) d, x,
                                                 (const char *const *) names, w, &err);
  if (!ds)
    return lmx_raise_gerror (L, fn, err);
  lmx_push_dataset (L, ds);
  return 1;
}

static int
ds_rows (lua_State *L)
{
  lua_pushinteger (L, (lua_Integer) mixem_dataset_rows (lmx_check_dataset (L, 1)->ds));
  return 1;
}

/* ds:missing(): {cells =, rows =, empty_rows =, patterns =, columns = {per column}}; and
 * ds:is_missing(i, j) (1-based). */
static int
ds_missing (lua_State *L)
{
  const mixem_dataset *ds = lmx_check_dataset (L, 1)->ds;
  const size_t d = mixem_dataset_cols (ds);
  lua_newtable (L);
  lua_pushinteger (L, (lua_Integer) mixem_dataset_missing_count (ds, SIZE_MAX));
  lua_setfield (L, -2, "cells");
  lua_pushinteger (L, (lua_Integer) mixem_dataset_incomplete_rows (ds));
  lua_setfield (L, -2, "rows");
  lua_pushinteger (L, (lua_Integer) mixem_dataset_empty_rows (ds));
  lua_setfield (L, -2, "empty_rows");
  lua_pushinteger (L, (lua_Integer) mixem_dataset_n_patterns (ds));
  lua_setfield (L, -2, "patterns");
  lua_createtable (L, (int) d, 0);
  for (size_t j = 0; j < d; j++) {
    lua_pushinteger (L, (lua_Integer) mixem_dataset_missing_count (ds, j));
    lua_seti (L, -2, (lua_Integer) j + 1);
  }
  lua_setfield (L, -2, "columns");
  return 1;
}

static int
ds_is_missing (lua_State *L)
{
  const mixem_dataset *ds = lmx_check_dataset (L, 1)->ds;
  lua_Integer i = luaL_checkinteger (L, 2), j = luaL_checkinteger (L, 3);
  luaL_argcheck (L, i >= 1 && (size_t) i <= mixem_dataset_rows (ds), 2, "row out of range");
  luaL_argcheck (L, j >= 1 && (size_t) j <= mixem_dataset_cols (ds), 3, "column out of range");
  lua_pushboolean (L, mixem_dataset_is_missing (ds, (size_t) i - 1, (size_t) j - 1));
  return 1;
}

static int
ds_cols (lua_State *L)
{
  lua_pushinteger (L, (lua_Integer) mixem_dataset_cols (lmx_check_dataset (L, 1)->ds));
  return 1;
}

void
lmx_push_strings (lua_State *L, const char *const *v, size_t n)
{
  lua_createtable (L, (int) n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_pushstring (L, v[i]);
    lua_seti (L, -2, (lua_Integer) i + 1);
  }
}

static int
ds_names (lua_State *L)
{
  const mixem_dataset *ds = lmx_check_dataset (L, 1)->ds;
  lmx_push_strings (L, mixem_dataset_names (ds), mixem_dataset_cols (ds));
  return 1;
}

static int
column_arg (lua_State *L, const mixem_dataset *ds, int idx, const char *fn)
{
  int j;
  if (lua_isinteger (L, idx)) {
    lua_Integer c = lua_tointeger (L, idx);
    j = c >= 1 && (size_t) c <= mixem_dataset_cols (ds) ? (int) c - 1 : -1;
  } else {
    const char *name = luaL_checkstring (L, idx);
    j = -1;
    for (size_t c = 0; c < mixem_dataset_cols (ds) && j < 0; c++)
      if (strcmp (mixem_dataset_name (ds, c), name) == 0)
        j = (int) c;
  }
  if (j < 0)
    luaL_error (L, "%s: no column %s", fn, luaL_tolstring (L, idx, NULL));
  return j;
}

static int
ds_column (lua_State *L)
{
  const mixem_dataset *ds = lmx_check_dataset (L, 1)->ds;
  int j = column_arg (L, ds, 2, "dataset:column");
  size_t n = mixem_dataset_rows (ds);
  lua_createtable (L, (int) n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_pushnumber (L, mixem_dataset_value (ds, i, (size_t) j));
    lua_seti (L, -2, (lua_Integer) i + 1);
  }
  return 1;
}

/* ds:levels(col): the level names of a categorical column, in code order (code 0 first), or
 * nil for a numeric column. */
static int
ds_levels (lua_State *L)
{
  const mixem_dataset *ds = lmx_check_dataset (L, 1)->ds;
  int j = column_arg (L, ds, 2, "dataset:levels");
  const char *const *lev = mixem_dataset_levels (ds, (size_t) j);
  if (!lev) {
    lua_pushnil (L);
    return 1;
  }
  lua_newtable (L);
  for (size_t l = 0; lev[l]; l++) {
    lua_pushstring (L, lev[l]);
    lua_seti (L, -2, (lua_Integer) l + 1);
  }
  return 1;
}

static int
ds_weights (lua_State *L)
{
  const mixem_dataset *ds = lmx_check_dataset (L, 1)->ds;
  const double *w = mixem_dataset_weights (ds);
  size_t n = mixem_dataset_rows (ds);
  lua_createtable (L, (int) n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_pushnumber (L, w ? w[i] : 1.0);
    lua_seti (L, -2, (lua_Integer) i + 1);
  }
  return 1;
}

/* "uint8", "float64" or "float64 (mapped)": how the values are held. */
static int
ds_storage (lua_State *L)
{
  lua_pushstring (L, mixem_dataset_storage (lmx_check_dataset (L, 1)->ds));
  return 1;
}

static int
ds_row (lua_State *L)
{
  const mixem_dataset *ds = lmx_check_dataset (L, 1)->ds;
  lua_Integer i = luaL_checkinteger (L, 2);
  size_t n = mixem_dataset_rows (ds), d = mixem_dataset_cols (ds);
  luaL_argcheck (L, i >= 1 && (size_t) i <= n, 2, "row out of range");
  lua_createtable (L, (int) d, 0);
  for (size_t j = 0; j < d; j++) {
    lua_pushnumber (L, mixem_dataset_value (ds, (size_t) i - 1, j));
    lua_seti (L, -2, (lua_Integer) j + 1);
  }
  return 1;
}

static int
ds_subset (lua_State *L)
{
  const mixem_dataset *ds = lmx_check_dataset (L, 1)->ds;
  luaL_checktype (L, 2, LUA_TTABLE);
  lscratch *s = lmx_scratch_new (L);
  lua_Integer m = luaL_len (L, 2);
  size_t *rows = lmx_scratch_keep (s, g_new (size_t, m > 0 ? m : 1), g_free);
  for (lua_Integer r = 1; r <= m; r++) {
    lua_geti (L, 2, r);
    int isnum = 0;
    lua_Integer i = lua_tointegerx (L, -1, &isnum);
    if (!isnum || i < 1 || (size_t) i > mixem_dataset_rows (ds))
      luaL_error (L, "dataset:subset: index %d is not a row number in 1..%d", (int) r,
                  (int) mixem_dataset_rows (ds));
    rows[r - 1] = (size_t) i - 1;
    lua_pop (L, 1);
  }
  GError *err = NULL;
  mixem_dataset *sub = mixem_dataset_subset (ds, rows, (size_t) m, &err);
  if (!sub)
    return lmx_raise_gerror (L, "dataset:subset", err);
  lmx_push_dataset (L, sub);
  return 1;
}

static int
ds_tostring (lua_State *L)
{
  const mixem_dataset *ds = lmx_check_dataset (L, 1)->ds;
  char *names = g_strjoinv (", ", (char **) mixem_dataset_names (ds));
  lua_pushfstring (L, "mixem dataset: %d rows x %d columns (%s)%s from %s",
                   (int) mixem_dataset_rows (ds), (int) mixem_dataset_cols (ds), names,
                   mixem_dataset_weights (ds) ? ", weighted," : "", mixem_dataset_source (ds));
  g_free (names);
  return 1;
}

static int
ds_gc (lua_State *L)
{
  ldataset *d = luaL_checkudata (L, 1, DATASET_MT);
  mixem_dataset_free (d->ds);
  d->ds = NULL;
  return 0;
}

static const luaL_Reg dataset_methods[] = {
  { "rows", ds_rows }, { "cols", ds_cols }, { "names", ds_names }, { "column", ds_column },
  { "row", ds_row }, { "weights", ds_weights }, { "subset", ds_subset },
  { "storage", ds_storage }, { "levels", ds_levels }, { "missing", ds_missing },
  { "is_missing", ds_is_missing }, { NULL, NULL }
};

/* The dataset metatable. */
void
lmx_open_datasets (lua_State *L)
{
  luaL_newmetatable (L, DATASET_MT);
  luaL_newlib (L, dataset_methods);
  lua_setfield (L, -2, "__index");
  lua_pushcfunction (L, ds_gc);
  lua_setfield (L, -2, "__gc");
  lua_pushcfunction (L, ds_tostring);
  lua_setfield (L, -2, "__tostring");
  lua_pushcfunction (L, ds_rows);
  lua_setfield (L, -2, "__len");
  lua_pop (L, 1);
}

const luaL_Reg lmx_dataset_functions[] = {
  { "read_csv", l_read_csv }, { "read_npy", l_read_npy }, { "mpi", l_mpi },
  { "dataset", l_dataset }, { NULL, NULL }
};
