/* lmixem.c: the Lua binding of mixem.  Datasets and models are userdata with __gc, __tostring
 * and __len; arguments are checked and errors name the function and the argument; an unknown key
 * in an options table is an error.  It calls the public C API only.
 *
 * Safety under Lua errors (which longjmp): temporaries live in a "scratch" userdata whose __gc
 * frees them, and a model keeps its registry (which holds the family module) alive through its
 * user value.  Components are numbered from 1 in Lua, as everything else there. */
#include <glob.h>
#include <limits.h>
#include <math.h>
#include <string.h>
#include <unistd.h>
#include <lauxlib.h>
#include <lualib.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_sf_psi.h>
#include <mixem/mixem.h>
#include "lmixem.h"
#include "lmx.h"

#define DATASET_MT "mixem.dataset"
#define MODEL_MT "mixem.model"
#define REGISTRY_MT "mixem.registry"
#define SCRATCH_MT "mixem.scratch"

typedef struct { mixem_dataset *ds; } ldataset;
typedef struct { mixem_model *m; } lmodel;
typedef struct { mixem_registry *reg; } lregistry;
typedef struct { GPtrArray *items; } lscratch;   /* pairs: pointer, GDestroyNotify */

/* ---- scratch: frees what it holds when collected ---- */

static int
scratch_gc (lua_State *L)
{
  lscratch *s = luaL_checkudata (L, 1, SCRATCH_MT);
  if (s->items) {
    for (guint i = s->items->len; i >= 2; i -= 2)
      ((GDestroyNotify) s->items->pdata[i - 1]) (s->items->pdata[i - 2]);
    g_ptr_array_free (s->items, TRUE);
    s->items = NULL;
  }
  return 0;
}

static lscratch *
scratch_new (lua_State *L)
{
  lscratch *s = lua_newuserdatauv (L, sizeof *s, 0);
  s->items = NULL;
  luaL_setmetatable (L, SCRATCH_MT);
  s->items = g_ptr_array_new ();
  return s;
}

static gpointer
scratch_keep (lscratch *s, gpointer p, GDestroyNotify free_fn)
{
  g_ptr_array_add (s->items, p);
  g_ptr_array_add (s->items, (gpointer) free_fn);
  return p;
}

static void
variant_unref0 (gpointer v)
{
  if (v)
    g_variant_unref (v);
}

static void
options_free0 (gpointer o)
{
  mixem_options_free (o);
}

static void
dataset_free0 (gpointer d)
{
  mixem_dataset_free (d);
}

/* Raises "FN: MESSAGE" from ERR (freed first: lua_error does not return). */
static int
raise_gerror (lua_State *L, const char *fn, GError *err)
{
  lua_pushfstring (L, "%s: %s", fn, err->message);
  g_error_free (err);
  return lua_error (L);
}

/* ---- the registry of this Lua state ---- */

static int
registry_gc (lua_State *L)
{
  lregistry *r = luaL_checkudata (L, 1, REGISTRY_MT);
  mixem_registry_free (r->reg);
  r->reg = NULL;
  return 0;
}

/* Where the state keeps its one registry userdata: not under REGISTRY_MT, which names its
 * metatable (luaL_checkudata in the __gc compares against that). */
#define REGISTRY_KEY "mixem.registry.instance"

/* Pushes the state's registry userdata, creating it once. */
static mixem_registry *
push_registry (lua_State *L)
{
  if (lua_getfield (L, LUA_REGISTRYINDEX, REGISTRY_KEY) == LUA_TUSERDATA)
    return ((lregistry *) lua_touserdata (L, -1))->reg;
  lua_pop (L, 1);
  lregistry *r = lua_newuserdatauv (L, sizeof *r, 0);
  r->reg = NULL;
  luaL_setmetatable (L, REGISTRY_MT);
  r->reg = mixem_registry_new ();
  lua_pushvalue (L, -1);
  lua_setfield (L, LUA_REGISTRYINDEX, REGISTRY_KEY);
  return r->reg;
}

/* The scratch and registry metatables. */
void
lmx_open_aux (lua_State *L)
{
  luaL_newmetatable (L, SCRATCH_MT);
  lua_pushcfunction (L, scratch_gc);
  lua_setfield (L, -2, "__gc");
  lua_pushcfunction (L, scratch_gc);
  lua_setfield (L, -2, "__close");
  lua_pop (L, 1);
  luaL_newmetatable (L, REGISTRY_MT);
  lua_pushcfunction (L, registry_gc);
  lua_setfield (L, -2, "__gc");
  lua_pop (L, 1);
}

/* ---- values: Lua <-> GVariant ---- */

static gboolean is_array (lua_State *L, int idx);

/* Parameters nest a few levels (components, a component, a matrix, a row); a table that
 * contains itself recursed forever, and one nested 100 000 deep overflowed the C stack.  This walk
 * refuses both before anything is built (so that no builder is left behind by the error). */
#define LUA_VALUE_MAX_DEPTH 16

static void
check_value_nesting (lua_State *L, int idx, const char *fn, const char *what,
                     const void **path, int depth)
{
  if (lua_type (L, idx) != LUA_TTABLE)
    return;
  idx = lua_absindex (L, idx);
  const void *self = lua_topointer (L, idx);
  for (int i = 0; i < depth; i++)
    if (path[i] == self)
      luaL_error (L, "%s: %s: a table contains itself", fn, what);
  if (depth >= LUA_VALUE_MAX_DEPTH)
    luaL_error (L, "%s: %s: tables nested deeper than %d levels", fn, what,
                LUA_VALUE_MAX_DEPTH);
  path[depth] = self;
  luaL_checkstack (L, 3, fn);
  lua_pushnil (L);
  while (lua_next (L, idx)) {
    check_value_nesting (L, -1, fn, what, path, depth + 1);
    lua_pop (L, 1);
  }
}

static GVariant *lua_to_variant_unchecked (lua_State *L, int idx, const char *fn,
                                           const char *what);

/* Lua value at IDX -> GVariant (floating): number d, array ad / aad, table a{sv}, string s. */
static GVariant *
lua_to_variant (lua_State *L, int idx, const char *fn, const char *what)
{
  const void *path[LUA_VALUE_MAX_DEPTH];
  check_value_nesting (L, idx, fn, what, path, 0);
  return lua_to_variant_unchecked (L, idx, fn, what);
}

static GVariant *
lua_to_variant_unchecked (lua_State *L, int idx, const char *fn, const char *what)
{
  idx = lua_absindex (L, idx);
  switch (lua_type (L, idx)) {
  case LUA_TNUMBER:
    return g_variant_new_double (lua_tonumber (L, idx));
  case LUA_TBOOLEAN:
    return g_variant_new_boolean (lua_toboolean (L, idx));
  case LUA_TSTRING:
    return g_variant_new_string (lua_tostring (L, idx));
  case LUA_TTABLE:
    if (is_array (L, idx)) {
      lua_Integer n = luaL_len (L, idx);
      gboolean nested = n > 0 && lua_geti (L, idx, 1) == LUA_TTABLE;
      gboolean dicts = nested && !is_array (L, -1);
      if (n > 0)
        lua_pop (L, 1);
      if (dicts) {   /* an array of tables with keys: "aa{sv}", as components */
        GVariantBuilder db;
        g_variant_builder_init (&db, G_VARIANT_TYPE ("aa{sv}"));
        for (lua_Integer i = 1; i <= n; i++) {
          if (lua_geti (L, idx, i) != LUA_TTABLE || is_array (L, -1)) {
            g_variant_builder_clear (&db);
            luaL_error (L, "%s: %s: element %d must be a table with keys", fn, what, (int) i);
          }
          g_variant_builder_add_value (&db, lua_to_variant_unchecked (L, -1, fn, what));
          lua_pop (L, 1);
        }
        return g_variant_builder_end (&db);
      }
      GVariantBuilder b;
      g_variant_builder_init (&b, nested ? G_VARIANT_TYPE ("aad") : G_VARIANT_TYPE ("ad"));
      for (lua_Integer i = 1; i <= n; i++) {
        int t = lua_geti (L, idx, i);
        if (nested && t == LUA_TTABLE) {
          GVariant *c = lua_to_variant_unchecked (L, -1, fn, what);
          if (!g_variant_is_of_type (c, G_VARIANT_TYPE ("ad"))) {
            g_variant_unref (g_variant_ref_sink (c));
            g_variant_builder_clear (&b);
            luaL_error (L, "%s: %s: a matrix must be an array of arrays of numbers", fn, what);
          }
          g_variant_builder_add_value (&b, c);
        } else if (!nested && t == LUA_TNUMBER)
          g_variant_builder_add (&b, "d", lua_tonumber (L, -1));
        else {
          g_variant_builder_clear (&b);
          luaL_error (L, "%s: %s: element %d must be a number%s", fn, what, (int) i,
                      nested ? " array" : "");
        }
        lua_pop (L, 1);
      }
      return g_variant_builder_end (&b);
    } else {
      GVariantDict d;
      g_variant_dict_init (&d, NULL);
      lua_pushnil (L);
      while (lua_next (L, idx)) {
        if (lua_type (L, -2) != LUA_TSTRING) {
          g_variant_dict_clear (&d);
          luaL_error (L, "%s: %s: keys must be strings", fn, what);
        }
        GVariant *v = lua_to_variant_unchecked (L, -1, fn, what);
        g_variant_dict_insert_value (&d, lua_tostring (L, -2), v);
        lua_pop (L, 1);
      }
      return g_variant_dict_end (&d);
    }
  default:
    luaL_error (L, "%s: %s: unexpected %s", fn, what, luaL_typename (L, idx));
    return NULL;
  }
}

static void
push_variant (lua_State *L, GVariant *v)
{
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_VARIANT)) {
    GVariant *inner = g_variant_get_variant (v);
    push_variant (L, inner);
    g_variant_unref (inner);
  } else if (g_variant_is_of_type (v, G_VARIANT_TYPE_DOUBLE))
    lua_pushnumber (L, g_variant_get_double (v));
  else if (g_variant_is_of_type (v, G_VARIANT_TYPE_INT64))
    lua_pushinteger (L, g_variant_get_int64 (v));
  else if (g_variant_is_of_type (v, G_VARIANT_TYPE_BOOLEAN))
    lua_pushboolean (L, g_variant_get_boolean (v));
  else if (g_variant_is_of_type (v, G_VARIANT_TYPE_STRING))
    lua_pushstring (L, g_variant_get_string (v, NULL));
  else if (g_variant_is_of_type (v, G_VARIANT_TYPE_VARDICT)) {
    lua_newtable (L);
    GVariantIter it;
    const char *key;
    GVariant *val;
    g_variant_iter_init (&it, v);
    while (g_variant_iter_next (&it, "{&sv}", &key, &val)) {
      push_variant (L, val);
      lua_setfield (L, -2, key);
      g_variant_unref (val);
    }
  } else if (g_variant_is_container (v)) {
    lua_createtable (L, (int) g_variant_n_children (v), 0);
    for (gsize i = 0; i < g_variant_n_children (v); i++) {
      GVariant *c = g_variant_get_child_value (v, i);
      push_variant (L, c);
      lua_seti (L, -2, (lua_Integer) i + 1);
      g_variant_unref (c);
    }
  } else
    lua_pushnil (L);
}

/* ---- option tables ---- */

static gboolean
is_array (lua_State *L, int idx)
{
  idx = lua_absindex (L, idx);
  lua_Integer n = luaL_len (L, idx), count = 0;
  lua_pushnil (L);
  while (lua_next (L, idx)) {
    lua_pop (L, 1);
    count++;
    if (!lua_isinteger (L, -1)) {
      lua_pop (L, 1);
      return FALSE;
    }
  }
  return count == n && (n > 0 || count == 0);
}

/* Every key of the table at IDX must be in KNOWN (or, when FAMILY is given, a family option). */
static void
check_keys (lua_State *L, int idx, const char *fn, const char *const *known,
            const mixem_family *family)
{
  lua_pushnil (L);
  while (lua_next (L, idx)) {
    lua_pop (L, 1);
    if (lua_type (L, -1) != LUA_TSTRING)
      luaL_error (L, "%s: option keys must be strings (got %s)", fn, luaL_typename (L, -1));
    const char *key = lua_tostring (L, -1);
    gboolean ok = FALSE;
    for (const char *const *k = known; *k && !ok; k++)
      ok = strcmp (*k, key) == 0;
    for (const mixem_option_info *o = family ? family->options : NULL; o && o->name && !ok; o++)
      ok = strcmp (o->name, key) == 0;
    if (!ok)
      luaL_error (L, "%s: unknown option '%s'%s%s", fn, key, family ? " for family " : "",
                  family ? family->name : "");
  }
}

/* opts[KEY] as an integer >= LO, or DEF when absent. */
static lua_Integer
opt_int (lua_State *L, int idx, const char *fn, const char *key, lua_Integer def, lua_Integer lo,
         const char *what)
{
  lua_Integer v = def;
  int t = lua_getfield (L, idx, key);
  if (t != LUA_TNIL) {
    int isnum = 0;
    v = lua_tointegerx (L, -1, &isnum);
    if (!isnum || v < lo) {
      const char *got = luaL_tolstring (L, -1, NULL);
      luaL_error (L, "%s: '%s' must be %s (got %s)", fn, key, what, got);
    }
  }
  lua_pop (L, 1);
  return v;
}

/* opts[KEY] for a C int field: too large a value is refused, never truncated (2^32 + 2 was 2). */
static int
opt_cint (lua_State *L, int idx, const char *fn, const char *key, int def, int lo, const char *what)
{
  const lua_Integer v = opt_int (L, idx, fn, key, def, lo, what);
  if (v > INT_MAX)
    luaL_error (L, "%s: '%s' must be %s and at most %d (got %I)", fn, key, what, INT_MAX, v);
  return (int) v;
}

static double
opt_num (lua_State *L, int idx, const char *fn, const char *key, double def)
{
  double v = def;
  int t = lua_getfield (L, idx, key);
  if (t != LUA_TNIL) {
    int isnum = 0;
    v = lua_tonumberx (L, -1, &isnum);
    if (!isnum || !(v >= 0) || !isfinite (v)) {
      const char *got = luaL_tolstring (L, -1, NULL);
      luaL_error (L, "%s: '%s' must be a finite number >= 0 (got %s)", fn, key, got);
    }
  }
  lua_pop (L, 1);
  return v;
}

/* opts[KEY] as any finite number (a score, a log-likelihood), or DEF when absent. */
static double
opt_real (lua_State *L, int idx, const char *fn, const char *key, double def)
{
  double v = def;
  if (lua_getfield (L, idx, key) != LUA_TNIL) {
    int isnum = 0;
    v = lua_tonumberx (L, -1, &isnum);
    if (!isnum || !isfinite (v))
      luaL_error (L, "%s: '%s' must be a finite number (got %s)", fn, key,
                  luaL_tolstring (L, -1, NULL));
  }
  lua_pop (L, 1);
  return v;
}

/* opts[KEY] as a string (a number is turned into text), copied into S; or NULL. */
/* A word of the parts text: no separator of that syntax in it. */
static void
parts_word (lua_State *L, GString *out, const char *fn, const char *key, const char *w)
{
  if (!*w || strpbrk (w, ",;:()="))
    luaL_error (L, "%s: '%s': '%s' cannot be written in the parts text (empty, or one of "
                ", ; : ( ) =)", fn, key, w);
  g_string_append (out, w);
}

/* An array of parts at the top of the stack, {{family = F, columns = {...}, KEY = VALUE}, ...},
 * as the product family's text FAMILY(KEY=VALUE,...):COL,...;...  (a new string). */
static int compare_str (gconstpointer a, gconstpointer b);

static void
gstring_free (gpointer g)
{
  g_string_free (g, TRUE);
}

static char *
parts_text (lua_State *L, const char *fn, const char *key, lscratch *s)
{
  /* Kept in S, so that an error (a longjmp) frees them. */
  GString *out = scratch_keep (s, g_string_new (NULL), gstring_free);
  const lua_Integer n = luaL_len (L, -1);
  for (lua_Integer i = 1; i <= n; i++) {
    if (lua_geti (L, -1, i) != LUA_TTABLE || lua_getfield (L, -1, "family") != LUA_TSTRING
        || lua_getfield (L, -2, "columns") != LUA_TTABLE)
      luaL_error (L, "%s: '%s'[%d] must be a table {family = NAME, columns = {...}, ...}", fn,
                  key, (int) i);
    if (i > 1)
      g_string_append_c (out, ';');
    parts_word (L, out, fn, key, lua_tostring (L, -2));
    /* Other keys are the part's options, sorted so that the text does not depend on order. */
    GPtrArray *keys = scratch_keep (s, g_ptr_array_new_with_free_func (g_free),
                                    (GDestroyNotify) g_ptr_array_unref);
    lua_pushnil (L);
    while (lua_next (L, -4)) {
      if (lua_type (L, -2) == LUA_TSTRING && strcmp (lua_tostring (L, -2), "family") != 0
          && strcmp (lua_tostring (L, -2), "columns") != 0)
        g_ptr_array_add (keys, g_strdup (lua_tostring (L, -2)));
      lua_pop (L, 1);
    }
    g_ptr_array_sort (keys, compare_str);
    for (guint j = 0; j < keys->len; j++) {
      g_string_append_c (out, j ? ',' : '(');
      parts_word (L, out, fn, key, g_ptr_array_index (keys, j));
      g_string_append_c (out, '=');
      lua_getfield (L, -3, g_ptr_array_index (keys, j));
      parts_word (L, out, fn, key, luaL_tolstring (L, -1, NULL));
      lua_pop (L, 2);
    }
    if (keys->len)
      g_string_append_c (out, ')');
    g_ptr_array_set_size (keys, 0);
    g_string_append_c (out, ':');
    const lua_Integer nc = luaL_len (L, -1);
    for (lua_Integer c = 1; c <= nc; c++) {
      lua_geti (L, -1, c);
      if (c > 1)
        g_string_append_c (out, ',');
      parts_word (L, out, fn, key, luaL_tolstring (L, -1, NULL));
      lua_pop (L, 2);
    }
    lua_pop (L, 3);
  }
  return g_strdup (out->str);
}

/* Whether the array on the top of the stack starts with a string. */
static gboolean
first_is_string (lua_State *L)
{
  const gboolean yes = lua_geti (L, -1, 1) == LUA_TSTRING;
  lua_pop (L, 1);
  return yes;
}

/* The list of names on the top of the stack (covariates = {"x", "x2"}) joined by commas. */
static const char *
names_text (lua_State *L, const char *fn, const char *key, lscratch *s)
{
  GString *out = scratch_keep (s, g_string_new (NULL), gstring_free);
  const lua_Integer n = luaL_len (L, -1);
  for (lua_Integer i = 1; i <= n; i++) {
    if (lua_geti (L, -1, i) != LUA_TSTRING)
      luaL_error (L, "%s: '%s'[%d] must be a string (got %s)", fn, key, (int) i,
                  luaL_typename (L, -1));
    g_string_append_printf (out, "%s%s", i > 1 ? "," : "", lua_tostring (L, -1));
    lua_pop (L, 1);
  }
  return out->str;
}

static const char *
opt_str (lua_State *L, int idx, const char *fn, const char *key, lscratch *s)
{
  int t = lua_getfield (L, idx, key);
  const char *v = NULL;
  if (t == LUA_TNUMBER && lua_isinteger (L, -1))
    v = scratch_keep (s, g_strdup_printf ("%lld", (long long) lua_tointeger (L, -1)), g_free);
  else if (t == LUA_TNUMBER) {
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    v = scratch_keep (s, g_strdup (g_ascii_dtostr (buf, sizeof buf, lua_tonumber (L, -1))),
                      g_free);
  } else if (t == LUA_TSTRING)
    v = scratch_keep (s, g_strdup (lua_tostring (L, -1)), g_free);
  else if (t == LUA_TTABLE && is_array (L, -1) && first_is_string (L))
    v = names_text (L, fn, key, s);
  else if (t == LUA_TTABLE && is_array (L, -1))
    v = scratch_keep (s, parts_text (L, fn, key, s), g_free);
  else if (t != LUA_TNIL)
    luaL_error (L, "%s: '%s' must be a string (got %s)", fn, key, luaL_typename (L, -1));
  lua_pop (L, 1);
  return v;
}

/* A family option opts[KEY] as text: as opt_str, and a boolean as "true" or "false" (for the
 * options of type MIXEM_OPTION_BOOLEAN, as normalise = true). */
static const char *
family_opt_str (lua_State *L, int idx, const char *fn, const char *key, lscratch *s)
{
  if (lua_getfield (L, idx, key) == LUA_TBOOLEAN) {
    const char *v = lua_toboolean (L, -1) ? "true" : "false";
    lua_pop (L, 1);
    return v;
  }
  lua_pop (L, 1);
  return opt_str (L, idx, fn, key, s);
}

/* A column list: array of names or 1-based indices -> NULL-terminated strv kept in S. */
static char **
column_list (lua_State *L, int idx, const char *fn, const char *key, lscratch *s)
{
  if (lua_getfield (L, idx, key) == LUA_TNIL) {
    lua_pop (L, 1);
    return NULL;
  }
  if (!lua_istable (L, -1) || !is_array (L, -1) || luaL_len (L, -1) == 0)
    luaL_error (L, "%s: '%s' must be a non-empty array of column names or numbers", fn, key);
  lua_Integer n = luaL_len (L, -1);
  char **v = scratch_keep (s, g_new0 (char *, n + 1), (GDestroyNotify) g_strfreev);
  for (lua_Integer i = 1; i <= n; i++) {
    int t = lua_geti (L, -1, i);
    if (t == LUA_TNUMBER && lua_isinteger (L, -1) && lua_tointeger (L, -1) >= 1)
      v[i - 1] = g_strdup_printf ("%lld", (long long) lua_tointeger (L, -1));
    else if (t == LUA_TSTRING)
      v[i - 1] = g_strdup (lua_tostring (L, -1));
    else
      luaL_error (L, "%s: '%s'[%d] must be a column name or a positive integer", fn, key, (int) i);
    lua_pop (L, 1);
  }
  lua_pop (L, 1);
  return v;
}

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
    *tokens = scratch_keep (s, g_new0 (char *, 2), (GDestroyNotify) g_strfreev);
    (*tokens)[0] = g_strdup (lua_tostring (L, -1));
  } else if (t == LUA_TTABLE && is_array (L, -1)) {
    lua_Integer n = luaL_len (L, -1);
    *tokens = scratch_keep (s, g_new0 (char *, n + 1), (GDestroyNotify) g_strfreev);
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

static ldataset *
check_dataset (lua_State *L, int idx)
{
  ldataset *d = luaL_checkudata (L, idx, DATASET_MT);
  if (!d->ds)
    luaL_argerror (L, idx, "dataset is empty");
  return d;
}

/* Pushes a dataset userdata that takes DS. */
static void
push_dataset (lua_State *L, mixem_dataset *ds)
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
    return raise_gerror (L, "mixem.mpi", err);
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
  lscratch *s = scratch_new (L);
  const size_t grain = part_grain (L, "mixem.read_csv");
  if (!lua_isnoneornil (L, 2)) {
    luaL_checktype (L, 2, LUA_TTABLE);
    check_keys (L, 2, "mixem.read_csv", known, NULL);
    o.columns = (const char *const *) column_list (L, 2, "mixem.read_csv", "columns", s);
    if (lua_getfield (L, 2, "header") != LUA_TNIL) {
      if (!lua_isboolean (L, -1))
        luaL_error (L, "mixem.read_csv: 'header' must be a boolean");
      o.no_header = !lua_toboolean (L, -1);
    }
    lua_pop (L, 1);
    const char *delim = opt_str (L, 2, "mixem.read_csv", "delimiter", s);
    if (delim && strlen (delim) != 1)
      luaL_error (L, "mixem.read_csv: 'delimiter' must be one character (got '%s')", delim);
    o.delimiter = delim ? delim[0] : 0;
    o.weights = opt_str (L, 2, "mixem.read_csv", "weights", s);
    /* categorical = true: every column with text is read as level names; an array: these. */
    if (lua_getfield (L, 2, "categorical") == LUA_TBOOLEAN) {
      o.text_levels = lua_toboolean (L, -1);
      lua_pop (L, 1);
    } else {
      lua_pop (L, 1);
      o.categorical = (const char *const *) column_list (L, 2, "mixem.read_csv", "categorical",
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
    return raise_gerror (L, "mixem.read_csv", err);
  push_dataset (L, ds);
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
  lscratch *s = scratch_new (L);
  const size_t grain = part_grain (L, "mixem.read_npy");
  char **cols = NULL, **tokens = NULL;
  const char *w = NULL;
  gboolean allow = FALSE;
  if (!lua_isnil (L, 2)) {
    luaL_checktype (L, 2, LUA_TTABLE);
    check_keys (L, 2, "mixem.read_npy", known, NULL);
    cols = column_list (L, 2, "mixem.read_npy", "columns", s);
    w = opt_str (L, 2, "mixem.read_npy", "weights", s);
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
    return raise_gerror (L, "mixem.read_npy", err);
  push_dataset (L, ds);
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
  lscratch *s = scratch_new (L);
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
      x = scratch_keep (s, g_new (double, n * d), g_free);
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
  char **names = column_list (L, 1, fn, "names", s);
  if (names && g_strv_length (names) != (guint) d)
    luaL_error (L, "%s: 'names' has %d entries for %d columns", fn, (int) g_strv_length (names),
                (int) d);
  double *w = NULL;
  if (lua_getfield (L, 1, "weights") != LUA_TNIL) {
    if (!lua_istable (L, -1) || luaL_len (L, -1) != n)
      luaL_error (L, "%s: 'weights' must be an array of %d numbers", fn, (int) n);
    w = scratch_keep (s, g_new (double, n), g_free);
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
    return raise_gerror (L, fn, err);
  push_dataset (L, ds);
  return 1;
}

static int
ds_rows (lua_State *L)
{
  lua_pushinteger (L, (lua_Integer) mixem_dataset_rows (check_dataset (L, 1)->ds));
  return 1;
}

/* ds:missing(): {cells =, rows =, empty_rows =, patterns =, columns = {per column}}; and
 * ds:is_missing(i, j) (1-based). */
static int
ds_missing (lua_State *L)
{
  const mixem_dataset *ds = check_dataset (L, 1)->ds;
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
  const mixem_dataset *ds = check_dataset (L, 1)->ds;
  lua_Integer i = luaL_checkinteger (L, 2), j = luaL_checkinteger (L, 3);
  luaL_argcheck (L, i >= 1 && (size_t) i <= mixem_dataset_rows (ds), 2, "row out of range");
  luaL_argcheck (L, j >= 1 && (size_t) j <= mixem_dataset_cols (ds), 3, "column out of range");
  lua_pushboolean (L, mixem_dataset_is_missing (ds, (size_t) i - 1, (size_t) j - 1));
  return 1;
}

static int
ds_cols (lua_State *L)
{
  lua_pushinteger (L, (lua_Integer) mixem_dataset_cols (check_dataset (L, 1)->ds));
  return 1;
}

static void
push_strings (lua_State *L, const char *const *v, size_t n)
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
  const mixem_dataset *ds = check_dataset (L, 1)->ds;
  push_strings (L, mixem_dataset_names (ds), mixem_dataset_cols (ds));
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
  const mixem_dataset *ds = check_dataset (L, 1)->ds;
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
  const mixem_dataset *ds = check_dataset (L, 1)->ds;
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
  const mixem_dataset *ds = check_dataset (L, 1)->ds;
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
  lua_pushstring (L, mixem_dataset_storage (check_dataset (L, 1)->ds));
  return 1;
}

static int
ds_row (lua_State *L)
{
  const mixem_dataset *ds = check_dataset (L, 1)->ds;
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
  const mixem_dataset *ds = check_dataset (L, 1)->ds;
  luaL_checktype (L, 2, LUA_TTABLE);
  lscratch *s = scratch_new (L);
  lua_Integer m = luaL_len (L, 2);
  size_t *rows = scratch_keep (s, g_new (size_t, m > 0 ? m : 1), g_free);
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
    return raise_gerror (L, "dataset:subset", err);
  push_dataset (L, sub);
  return 1;
}

static int
ds_tostring (lua_State *L)
{
  const mixem_dataset *ds = check_dataset (L, 1)->ds;
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

/* ---- fitting: mixem.fit, mixem.select, model:refit, model:partial_fit ---- */

static lmodel *
check_model (lua_State *L, int idx)
{
  lmodel *m = luaL_checkudata (L, idx, MODEL_MT);
  if (!m->m)
    luaL_argerror (L, idx, "model is empty");
  return m;
}

/* Pushes a model userdata taking M; the registry userdata at REG_IDX is kept alive with it. */
static void
push_model (lua_State *L, mixem_model *m, int reg_idx)
{
  reg_idx = lua_absindex (L, reg_idx);
  lmodel *u = lua_newuserdatauv (L, sizeof *u, 1);
  u->m = m;
  luaL_setmetatable (L, MODEL_MT);
  lua_pushvalue (L, reg_idx);
  lua_setiuservalue (L, -2, 1);
}

typedef struct {
  lua_State *L;
  int func;          /* stack index of on_iter, or 0 */
  gboolean failed;   /* the callback raised an error: its message is on the stack */
  const mixem_family *family;
  size_t k;
} callback_ctx;

static void
push_iteration (lua_State *L, const mixem_iteration *it)
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
  push_iteration (L, it);
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
    push_variant (L, v);
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
  o->max_iter = opt_cint (L, idx, fn, "max_iter", o->max_iter, 0, "an integer >= 0");
  o->tol = opt_num (L, idx, fn, "tol", o->tol);
  o->n_init = opt_cint (L, idx, fn, "n_init", o->n_init, 1, "a positive integer");
  o->refine_tol = opt_num (L, idx, fn, "refine_tol", o->refine_tol);
  o->n_refine = opt_cint (L, idx, fn, "n_refine", o->n_refine, 0, "an integer >= 0");
  o->refine_max_iter = opt_cint (L, idx, fn, "refine_max_iter", o->refine_max_iter, 0,
                                 "an integer >= 0");
  o->short_starts = opt_cint (L, idx, fn, "short_starts", o->short_starts, 1, "an integer >= 1");
  o->short_iter = opt_cint (L, idx, fn, "short_iter", o->short_iter, 1, "an integer >= 1");
  const char *sa = opt_str (L, idx, fn, "short_algorithm", s);
  if (sa) {
    if (strcmp (sa, "em") && strcmp (sa, "cem") && strcmp (sa, "sem"))
      luaL_error (L, "%s: 'short_algorithm' must be em, cem or sem (got %s)", fn, sa);
    o->short_algorithm = strcmp (sa, "cem") == 0 ? MIXEM_CEM
                         : strcmp (sa, "sem") == 0 ? MIXEM_SEM : MIXEM_EM;
  }
  lua_getfield (L, idx, "strict_empty");
  o->strict_empty = lua_toboolean (L, -1);
  lua_pop (L, 1);
  o->seed = (unsigned long) opt_int (L, idx, fn, "seed", (lua_Integer) o->seed, 0,
                                     "an integer >= 0");
  o->threads = opt_cint (L, idx, fn, "threads", o->threads, 0, "an integer >= 0");
  o->block_size = (size_t) opt_int (L, idx, fn, "block_size", (lua_Integer) o->block_size, 1,
                                    "a positive integer");
  const char *alg = opt_str (L, idx, fn, "algorithm", s);
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
    o->anneal_steps = opt_cint (L, idx, fn, "anneal_steps", o->anneal_steps, 1,
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
    o->blocks = (size_t) opt_int (L, idx, fn, "blocks", (lua_Integer) o->blocks, 1,
                                  "an integer >= 1");
  if (o->algorithm == MIXEM_ONLINE) {
    o->batch_size = (size_t) opt_int (L, idx, fn, "batch_size", (lua_Integer) o->batch_size, 1,
                                      "an integer >= 1");
    if (lua_getfield (L, idx, "step_alpha") != LUA_TNIL) {
      if (!lua_isnumber (L, -1) || !(lua_tonumber (L, -1) > 0.5 && lua_tonumber (L, -1) <= 1.0))
        luaL_error (L, "%s: 'step_alpha' must be a number in (0.5, 1] (got %s)", fn,
                    luaL_tolstring (L, -1, NULL));
      o->step_alpha = lua_tonumber (L, -1);
    }
    lua_pop (L, 1);
    o->epochs = opt_cint (L, idx, fn, "epochs", o->epochs, 1, "an integer >= 1");
  }
  if (o->algorithm == MIXEM_SEM)
    o->sem_average = opt_cint (L, idx, fn, "sem_average", o->sem_average, 1, "an integer >= 1");
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
  o->noise_volume = opt_num (L, idx, fn, "noise_volume", o->noise_volume);
  o->noise_init = opt_num (L, idx, fn, "noise_init", o->noise_init);
  if (lua_getfield (L, idx, "fixed") != LUA_TNIL) {
    if (!lua_istable (L, -1) || !is_array (L, -1))
      luaL_error (L, "%s: 'fixed' must be an array of \"weights\", \"components\" or component "
                     "numbers", fn);
    gboolean *fc = scratch_keep (s, mixem_try_alloc0 (k, sizeof (gboolean), NULL), g_free);
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
  char **cols = column_list (L, idx, fn, "columns", s);
  const char *w = opt_str (L, idx, fn, "weights", s);
  if (!cols && !w)
    return ds;
  GError *err = NULL;
  mixem_dataset *sel = mixem_dataset_select (ds, (const char *const *) cols, w, &err);
  if (!sel)
    raise_gerror (L, fn, err);
  return scratch_keep (s, sel, dataset_free0);
}

/* The concomitant variables named by 'concomitant' of the options table at IDX (an array of
 * column names or numbers, or one string "z1,z2" or "z1+z2"), as a dataset of DS's rows; NULL
 * when not given. */
static const mixem_dataset *
concomitant_data (lua_State *L, const mixem_dataset *ds, int idx, const char *fn, lscratch *s)
{
  char **cols = NULL;
  if (lua_getfield (L, idx, "concomitant") == LUA_TSTRING) {
    cols = scratch_keep (s, g_strsplit_set (lua_tostring (L, -1), ",+", -1),
                         (GDestroyNotify) g_strfreev);
    for (char **c = cols; *c; c++)
      g_strstrip (*c);
    lua_pop (L, 1);
  } else {
    lua_pop (L, 1);
    cols = column_list (L, idx, fn, "concomitant", s);
  }
  if (!cols)
    return NULL;
  GError *err = NULL;
  mixem_dataset *z = mixem_dataset_select (ds, (const char *const *) cols, NULL, &err);
  if (!z) {
    g_prefix_error (&err, "'concomitant': ");
    raise_gerror (L, fn, err);
  }
  return scratch_keep (s, z, dataset_free0);
}

/* DS without the columns of Z (and with the options' 'weights'): a fit's data when concomitant
 * variables are given and 'columns' is not. */
static const mixem_dataset *
without_columns (lua_State *L, const mixem_dataset *ds, const mixem_dataset *z, int idx,
                 const char *fn, lscratch *s)
{
  const size_t d = mixem_dataset_cols (ds);
  char **keep = scratch_keep (s, g_new0 (char *, d + 1), (GDestroyNotify) g_strfreev);
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
                                             opt_str (L, idx, fn, "weights", s), &err);
  if (!sel)
    raise_gerror (L, fn, err);
  return scratch_keep (s, sel, dataset_free0);
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
  const int interval = opt_cint (L, idx, fn, "verbose_interval", 10, 1, "an integer >= 1");
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
    raise_gerror (L, fn, err);
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
static const mixem_family *
family_arg (lua_State *L, const char *fn, const char *const *known, mixem_registry *reg,
            lscratch *s)
{
  const char *fname = opt_str (L, 1, fn, "family", s);
  if (!fname)
    luaL_error (L, "%s: 'family' is required (see mixem.families())", fn);
  GError *err = NULL;
  const mixem_family *f = mixem_registry_lookup (reg, fname, &err);
  if (!f)
    raise_gerror (L, fn, err);
  check_keys (L, 1, fn, known, f);
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
  mixem_registry *reg = push_registry (L);   /* index 2 */
  lscratch *s = scratch_new (L);             /* index 3 */
  const mixem_family *f = family_arg (L, fn, known, reg, s);
  if (lua_getfield (L, 1, "data") != LUA_TUSERDATA || !luaL_testudata (L, -1, DATASET_MT))
    luaL_error (L, "%s: 'data' must be a dataset (from mixem.read_csv or mixem.dataset)", fn);
  const mixem_dataset *whole = check_dataset (L, -1)->ds;
  const mixem_dataset *z = concomitant_data (L, whole, 1, fn, s);
  const mixem_dataset *data = z && lua_getfield (L, 1, "columns") == LUA_TNIL
                              ? without_columns (L, whole, z, 1, fn, s)
                              : select_data (L, whole, 1, fn, s);
  if (z)
    lua_pop (L, 1);
  lua_pop (L, 1);   /* the options table keeps the dataset alive */

  mixem_fit_options o;
  mixem_fit_options_init (&o);
  o.k = (size_t) opt_int (L, 1, fn, "k", 1, 1, "a positive integer");
  o.concomitant = z;
  read_engine_options (L, 1, fn, &o, o.k, s);
  /* The noise guess: one flag a row (true/false or 1/0), as mclust's initialization$noise. */
  /* noise_rows = "nnclean": the guess estimated by nearest-neighbour cleaning (mixem_nnclean,
   * k = nnclean_k, default 5 as mclust's examples). */
  const lua_Integer nnk = opt_int (L, 1, fn, "nnclean_k", 5, 1, "a positive integer");
  if (lua_getfield (L, 1, "noise_rows") == LUA_TSTRING) {
    if (strcmp (lua_tostring (L, -1), "nnclean") != 0)
      luaL_error (L, "%s: 'noise_rows' must be \"nnclean\" or an array of flags", fn);
    gboolean *nf = scratch_keep (s, g_new (gboolean, mixem_dataset_rows (data) + 1), g_free);
    GError *err = NULL;
    if (!mixem_nnclean (data, (size_t) nnk, nf, NULL, NULL, NULL, &err))
      return raise_gerror (L, fn, err);
    o.noise_rows = nf;
  } else if (lua_getfield (L, 1, "nnclean_k") != LUA_TNIL)
    luaL_error (L, "%s: 'nnclean_k' goes with noise_rows = \"nnclean\"", fn);
  else if (lua_pop (L, 1), !lua_isnil (L, -1)) {
    const size_t nr = mixem_dataset_rows (data);
    if (!lua_istable (L, -1) || luaL_len (L, -1) != (lua_Integer) nr)
      luaL_error (L, "%s: 'noise_rows' must be an array of %d flags, one a row of the data", fn,
                  (int) nr);
    gboolean *nf = scratch_keep (s, g_new (gboolean, nr > 0 ? nr : 1), g_free);
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
  mixem_options *fo = scratch_keep (s, mixem_options_new (), options_free0);
  for (const mixem_option_info *oi = f->options; oi && oi->name; oi++) {
    const char *v = family_opt_str (L, 1, fn, oi->name, s);
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
    check_keys (L, it, "mixem.fit: init", init_keys, NULL);
    if (lua_getfield (L, it, "concomitant") != LUA_TNIL) {
      /* {{intercept, slopes...}, ...}: K rows of Q + 1 coefficients (flexmix's coef order) */
      const size_t q1 = z ? mixem_dataset_cols (z) + 1 : 0;
      if (!z)
        luaL_error (L, "%s: init.concomitant needs 'concomitant' variables", fn);
      if (!lua_istable (L, -1) || luaL_len (L, -1) != (lua_Integer) o.k)
        luaL_error (L, "%s: init.concomitant must be an array of k = %d arrays of %d numbers",
                    fn, (int) o.k, (int) q1);
      double *g = scratch_keep (s, g_new (double, o.k * q1), g_free);
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
      double *w = scratch_keep (s, g_new (double, nw), g_free);
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
      check_value_nesting (L, -1, fn, "init.components", path, 0);
      GVariantBuilder b;
      g_variant_builder_init (&b, G_VARIANT_TYPE ("aa{sv}"));
      GVariant **parts = scratch_keep (s, g_new0 (GVariant *, o.k), g_free);
      for (size_t j = 0; j < o.k; j++) {
        if (lua_geti (L, -1, (lua_Integer) j + 1) != LUA_TTABLE || is_array (L, -1)) {
          for (size_t q = 0; q < j; q++)
            g_variant_unref (parts[q]);
          g_variant_builder_clear (&b);
          luaL_error (L, "%s: init.components[%d] must be a table such as {p = 0.6}", fn,
                      (int) j + 1);
        }
        parts[j] = g_variant_ref_sink (lua_to_variant (L, -1, fn, "init.components"));
        lua_pop (L, 1);
      }
      for (size_t j = 0; j < o.k; j++) {
        g_variant_builder_add_value (&b, parts[j]);
        g_variant_unref (parts[j]);
      }
      o.init_components = scratch_keep (s, g_variant_ref_sink (g_variant_builder_end (&b)),
                                        variant_unref0);
    }
    lua_pop (L, 1);
  } else if (t == LUA_TUSERDATA && luaL_testudata (L, -1, MODEL_MT))
    o.warm_start = check_model (L, -1)->m;   /* the options table keeps it alive */
  else if (t != LUA_TNIL)
    luaL_error (L, "%s: 'init' must be a method name, a table or a model (got %s)", fn,
                luaL_typename (L, -1));

  mixem_model *m = run_fit (L, fn, f, data, &o, on_iter_arg (L, 1, fn), 1);
  push_model (L, m, 2);
  return 1;
}

/* Lua value at the top of the stack as option text, kept in S. */
static const char *
option_text (lua_State *L, const char *fn, const char *key, lscratch *s)
{
  if (lua_isinteger (L, -1))
    return scratch_keep (s, g_strdup_printf ("%lld", (long long) lua_tointeger (L, -1)), g_free);
  if (lua_type (L, -1) == LUA_TNUMBER) {
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    return scratch_keep (s, g_strdup (g_ascii_dtostr (buf, sizeof buf, lua_tonumber (L, -1))),
                         g_free);
  }
  if (lua_type (L, -1) == LUA_TSTRING)
    return scratch_keep (s, g_strdup (lua_tostring (L, -1)), g_free);
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
  mixem_registry *reg = push_registry (L);   /* 2 */
  lscratch *s = scratch_new (L);             /* 3 */
  const mixem_family *f = family_arg (L, fn, known, reg, s);
  GError *err = NULL;
  if (lua_getfield (L, 1, "data") != LUA_TUSERDATA || !luaL_testudata (L, -1, DATASET_MT))
    luaL_error (L, "%s: 'data' must be a dataset (from mixem.read_csv or mixem.dataset)", fn);
  const mixem_dataset *whole = check_dataset (L, -1)->ds;
  const mixem_dataset *z = concomitant_data (L, whole, 1, fn, s);
  const mixem_dataset *data = z && lua_getfield (L, 1, "columns") == LUA_TNIL
                              ? without_columns (L, whole, z, 1, fn, s)
                              : select_data (L, whole, 1, fn, s);
  if (z)
    lua_pop (L, 1);
  lua_pop (L, 1);

  /* K: one number or an array. */
  GArray *ks = scratch_keep (s, g_array_new (FALSE, FALSE, sizeof (size_t)),
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
  GPtrArray *sets = scratch_keep (s, g_ptr_array_new_with_free_func (options_free0),
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
      char **parts = scratch_keep (s, g_strsplit (strcmp (v, "all") == 0 ? all : v, ",", -1),
                                   (GDestroyNotify) g_strfreev);
      for (char **q = parts; *q; q++)
        g_ptr_array_add (values, *q);
    } else
      g_ptr_array_add (values, (gpointer) option_text (L, fn, oi->name, s));
    lua_pop (L, 1);
    GPtrArray *next = g_ptr_array_new_with_free_func (options_free0);
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
  o.init = opt_str (L, 1, fn, "init", s);
  mixem_select_options so = { (const size_t *) ks->data, ks->len,
                              (const mixem_options *const *) sets->pdata, sets->len, MIXEM_BIC,
                              opt_cint (L, 1, fn, "folds", 0, 0, "an integer >= 0"),
                              opt_num (L, 1, fn, "validation", 0.0), &o, FALSE };
  const char *crit = opt_str (L, 1, fn, "criterion", s);
  if (crit && !mixem_criterion_parse (crit, &so.criterion))
    luaL_error (L, "%s: 'criterion' must be bic, aic, icl or heldout (got %s)", fn, crit);
  /* sign = "mclust": BIC as mclust reports it, 2 loglik - p log n (higher is better).
   * Checked before the fits: an error after them would lose the chosen model. */
  const char *sign = opt_str (L, 1, fn, "sign", s);
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
      return raise_gerror (L, fn, err);
    so.spread_ranks = TRUE;
  }
  mixem_model *best = NULL;
  size_t best_index = 0;
  mixem_progress *prog = progress_from (L, 1, fn, &o);
  GArray *cands = mixem_select (f, data, &so, &best, &best_index, &err);
  mixem_progress_free (prog);
  if (!cands)
    return raise_gerror (L, fn, err);
  scratch_keep (s, cands, (GDestroyNotify) mixem_candidates_free);
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
  push_model (L, best, 2);
  lua_setfield (L, -2, "model");
  return 1;
}

static int
m_refit (lua_State *L)
{
  static const char *const fn = "model:refit";
  static const char *const known[] = { "max_iter", "tol", "n_init", "seed", "threads", "fixed",
                                       "refine_tol", "n_refine", "refine_max_iter", "short_starts", "short_iter", "short_algorithm", "strict_empty",
                                       "on_iter", "weights", "columns", "block_size", "algorithm", "anneal_t0", "anneal_steps", "blocks", "batch_size", "step_alpha", "epochs", "sem_average",
                                       "reseed", "verbose", "verbose_interval", "quiet", NULL };
  lmodel *lm = check_model (L, 1);
  check_dataset (L, 2);
  if (lua_isnoneornil (L, 3)) {
    lua_settop (L, 2);
    lua_newtable (L);
  }
  luaL_checktype (L, 3, LUA_TTABLE);
  lua_settop (L, 3);
  check_keys (L, 3, fn, known, NULL);
  lua_getiuservalue (L, 1, 1);   /* registry: index 4 */
  lscratch *s = scratch_new (L);
  const mixem_dataset *data = select_data (L, check_dataset (L, 2)->ds, 3, fn, s);
  mixem_fit_options o;
  mixem_fit_options_init (&o);
  const char *const *zn = NULL;
  if (mixem_model_concomitant (lm->m, &zn, NULL) > 0) {
    /* a model with concomitant variables refits with them, found in X by name */
    GError *err = NULL;
    mixem_dataset *z = mixem_dataset_select (check_dataset (L, 2)->ds, zn, NULL, &err);
    if (!z) {
      g_prefix_error (&err, "the model's concomitant variables: ");
      return raise_gerror (L, fn, err);
    }
    o.concomitant = scratch_keep (s, z, dataset_free0);
    if (lua_getfield (L, 3, "weights") != LUA_TNIL || lua_getfield (L, 3, "columns") != LUA_TNIL)
      luaL_error (L, "%s: a model with concomitant variables refits on the model's columns "
                  "and the rows' own weights ('columns' and 'weights' are not taken)", fn);
    lua_pop (L, 2);
    GError *e2 = NULL;
    mixem_dataset *fam = mixem_dataset_select (check_dataset (L, 2)->ds,
                                               mixem_model_names (lm->m), NULL, &e2);
    if (!fam)
      return raise_gerror (L, fn, e2);
    data = scratch_keep (s, fam, dataset_free0);
  }
  o.k = mixem_model_k (lm->m);
  o.family_options = mixem_model_options (lm->m);
  o.warm_start = lm->m;
  read_engine_options (L, 3, fn, &o, o.k, s);
  o.noise = mixem_model_noise (lm->m, NULL, NULL);   /* a noise model refits with its noise */
  mixem_model *m = run_fit (L, fn, mixem_model_family (lm->m), data, &o, on_iter_arg (L, 3, fn),
                            3);
  push_model (L, m, 4);
  return 1;
}

/* model:partial_fit(X [, {step_alpha =, threads =, columns =, weights =}]): one online EM
 * update of the model in place on the batch X (mixem_model_partial_fit); returns the model. */
static int
m_partial_fit (lua_State *L)
{
  static const char *const fn = "model:partial_fit";
  static const char *const known[] = { "step_alpha", "threads", "columns", "weights", NULL };
  lmodel *lm = check_model (L, 1);
  check_dataset (L, 2);
  if (lua_isnoneornil (L, 3)) {
    lua_settop (L, 2);
    lua_newtable (L);
  }
  luaL_checktype (L, 3, LUA_TTABLE);
  lua_settop (L, 3);
  check_keys (L, 3, fn, known, NULL);
  lscratch *s = scratch_new (L);
  const mixem_dataset *data = select_data (L, check_dataset (L, 2)->ds, 3, fn, s);
  double alpha = 0.0;
  if (lua_getfield (L, 3, "step_alpha") != LUA_TNIL) {
    if (!lua_isnumber (L, -1) || !(lua_tonumber (L, -1) > 0.5 && lua_tonumber (L, -1) <= 1.0))
      luaL_error (L, "%s: 'step_alpha' must be a number in (0.5, 1] (got %s)", fn,
                  luaL_tolstring (L, -1, NULL));
    alpha = lua_tonumber (L, -1);
  }
  lua_pop (L, 1);
  const int threads = opt_cint (L, 3, fn, "threads", 0, 0, "an integer >= 0");
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
  mixem_registry *reg = push_registry (L);   /* 2 */
  lscratch *s = scratch_new (L);
  const mixem_family *f = family_arg (L, fn, known, reg, s);
  GError *err = NULL;
  if (lua_getfield (L, 1, "components") != LUA_TTABLE || luaL_len (L, -1) < 1)
    luaL_error (L, "%s: 'components' must be a non-empty array of tables", fn);
  const size_t k = (size_t) luaL_len (L, -1);
  GVariant *comps = scratch_keep (s, g_variant_ref_sink (lua_to_variant (L, -1, fn, "components")),
                                  variant_unref0);
  lua_pop (L, 1);
  if (!g_variant_is_of_type (comps, G_VARIANT_TYPE ("aa{sv}")))
    luaL_error (L, "%s: 'components' must be an array of tables such as {mean = {...}}", fn);
  double *w = scratch_keep (s, g_new (double, k), g_free);
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
  char **cols = column_list (L, 1, fn, "columns", s);
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
  mixem_options *fo = scratch_keep (s, mixem_options_new (), options_free0);
  for (const mixem_option_info *oi = f->options; oi && oi->name; oi++) {
    const char *v = family_opt_str (L, 1, fn, oi->name, s);
    if (v)
      mixem_options_set (fo, oi->name, v);
  }
  mixem_model *m = mixem_model_new (f, k, d, (const char *const *) cols, fo, w, comps, &err);
  if (!m)
    return raise_gerror (L, fn, err);
  /* concomitant = {columns = {...}, coef = {{intercept, slopes...}, ...}}, as m.concomitant */
  if (lua_getfield (L, 1, "concomitant") != LUA_TNIL) {
    char **zc = lua_istable (L, -1) ? column_list (L, lua_gettop (L), fn, "columns", s) : NULL;
    const size_t q = zc ? g_strv_length (zc) : 0;
    double *g = scratch_keep (s, g_new0 (double, k * (q + 1)), g_free);
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
        return raise_gerror (L, fn, err);
      return luaL_error (L, "%s: 'concomitant' must be {columns = {names}, coef = {k arrays of "
                         "an intercept and a number a column}}", fn);
    }
    lua_pop (L, 1);
  }
  lua_pop (L, 1);
  push_model (L, m, 2);
  return 1;
}

static int
l_load (lua_State *L)
{
  const char *path = luaL_checkstring (L, 1);
  mixem_registry *reg = push_registry (L);
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
    return raise_gerror (L, "mixem.load", err);
  push_model (L, m, -1);
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
static int
rank_zero_only (lua_State *L)
{
  if (!writes_here ())
    return 0;
  return lua_tocfunction (L, lua_upvalueindex (1)) (L);
}

static int
m_save (lua_State *L)
{
  lmodel *lm = check_model (L, 1);
  const char *path = luaL_checkstring (L, 2);
  GError *err = NULL;
  if (!writes_here ()) {
    lua_settop (L, 1);
    return 1;
  }
  if (!mixem_model_save (lm->m, path, &err))
    return raise_gerror (L, "model:save", err);
  lua_settop (L, 1);
  return 1;
}

static int
m_save_trace (lua_State *L)
{
  lmodel *lm = check_model (L, 1);
  const char *path = luaL_checkstring (L, 2);
  GError *err = NULL;
  if (!writes_here ()) {
    lua_settop (L, 1);
    return 1;
  }
  if (!mixem_trace_save_csv (lm->m, path, &err))
    return raise_gerror (L, "model:save_trace", err);
  lua_settop (L, 1);
  return 1;
}

/* The dataset argument of a per-row method: its columns picked by the model's names. */
static const mixem_dataset *
model_data (lua_State *L, const mixem_model *m, int idx, const char *fn, lscratch *s)
{
  const mixem_dataset *ds = check_dataset (L, idx)->ds;
  const char *const *names = mixem_model_names (m);
  const char *const *zn = NULL;
  if (mixem_model_concomitant (m, &zn, NULL) > 0) {
    /* the model's columns, then its concomitant variables: the library finds both by name */
    char **all = scratch_keep (s, g_new0 (char *, mixem_model_d (m) + g_strv_length ((char **) zn)
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
    raise_gerror (L, fn, err);
  return scratch_keep (s, sel, dataset_free0);
}

/* model:impute(X [, {draws = M, seed = S}]): X with each missing cell replaced by its
 * conditional expectation under the model (a dataset); with draws, M completed datasets (an
 * array) whose missing cells are draws from the conditional. */
static int
m_impute (lua_State *L)
{
  static const char *const fn = "model:impute";
  const mixem_model *m = check_model (L, 1)->m;
  lua_settop (L, 3);
  lscratch *s = scratch_new (L);
  const mixem_dataset *ds = model_data (L, m, 2, fn, s);
  lua_Integer draws = 0, seed = 0;
  if (!lua_isnil (L, 3)) {
    static const char *const known[] = { "draws", "seed", NULL };
    luaL_checktype (L, 3, LUA_TTABLE);
    check_keys (L, 3, fn, known, NULL);
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
  double *out = scratch_keep (s, g_try_malloc (copies * n * d * sizeof (double) + 1), g_free);
  if (!out)
    luaL_error (L, "%s: out of memory", fn);
  GError *err = NULL;
  if (!mixem_model_impute (m, ds, (size_t) draws, (unsigned long) seed, out, &err))
    return raise_gerror (L, fn, err);
  if (draws > 0)
    lua_createtable (L, (int) copies, 0);
  for (size_t c = 0; c < copies; c++) {
    mixem_dataset *r = mixem_dataset_new (n, d, out + c * n * d, mixem_model_names (m),
                                          mixem_dataset_weights (ds), &err);
    if (!r)
      return raise_gerror (L, fn, err);
    push_dataset (L, r);
    if (draws > 0)
      lua_seti (L, -2, (lua_Integer) c + 1);
  }
  return 1;
}

static int
m_predict (lua_State *L)
{
  const mixem_model *m = check_model (L, 1)->m;
  lscratch *s = scratch_new (L);
  const mixem_dataset *ds = model_data (L, m, 2, "model:predict", s);
  size_t n = mixem_dataset_rows (ds);
  size_t *lab = scratch_keep (s, g_new (size_t, n > 0 ? n : 1), g_free);
  GError *err = NULL;
  if (!mixem_model_predict (m, ds, lab, &err))
    return raise_gerror (L, "model:predict", err);
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
  const mixem_model *m = check_model (L, 1)->m;
  lscratch *s = scratch_new (L);
  const char *response = mixem_options_get (mixem_model_options (m), "response");
  const mixem_dataset *given = check_dataset (L, 2)->ds;
  const gboolean has_y = !response || mixem_dataset_find_column (given, response) >= 0;
  const mixem_dataset *ds = has_y ? model_data (L, m, 2, fn, s) : given;
  const size_t n = mixem_dataset_rows (ds), K = mixem_model_k (m);
  size_t *lab = scratch_keep (s, g_new (size_t, n > 0 ? n : 1), g_free);
  double *y = scratch_keep (s, g_new (double, n > 0 ? n : 1), g_free);
  double *means = scratch_keep (s, g_new (double, n * K > 0 ? n * K : 1), g_free);
  GError *err = NULL;
  if (!(has_y ? mixem_model_predict_response (m, ds, y, lab, &err)
                && mixem_model_fitted_means (m, ds, means, &err)
              : mixem_model_mean_response (m, ds, means, y, &err)))
    return raise_gerror (L, fn, err);
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

static int
m_predict_proba (lua_State *L)
{
  const mixem_model *m = check_model (L, 1)->m;
  lscratch *s = scratch_new (L);
  const mixem_dataset *ds = model_data (L, m, 2, "model:predict_proba", s);
  /* With a noise component its probability is the last column. */
  size_t n = mixem_dataset_rows (ds), k = mixem_model_k (m) + mixem_model_noise (m, NULL, NULL);
  double *p = scratch_keep (s, g_new (double, n * k > 0 ? n * k : 1), g_free);
  GError *err = NULL;
  if (!mixem_model_predict_proba (m, ds, p, &err))
    return raise_gerror (L, "model:predict_proba", err);
  lua_createtable (L, (int) n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_createtable (L, (int) k, 0);
    for (size_t j = 0; j < k; j++) {
      lua_pushnumber (L, p[i * k + j]);
      lua_seti (L, -2, (lua_Integer) j + 1);
    }
    lua_seti (L, -2, (lua_Integer) i + 1);
  }
  return 1;
}

/* model:priors(X): each row's mixing weights pi_k(z_i), from its concomitant variables (the
 * weights for a model without them), an array of K-arrays, as flexmix's prior(). */
static int
m_priors (lua_State *L)
{
  const mixem_model *m = check_model (L, 1)->m;
  const mixem_dataset *ds = check_dataset (L, 2)->ds;
  lscratch *s = scratch_new (L);
  const size_t n = mixem_dataset_rows (ds), k = mixem_model_k (m);
  double *p = scratch_keep (s, g_new (double, n * k > 0 ? n * k : 1), g_free);
  GError *err = NULL;
  if (!mixem_model_priors (m, ds, p, &err))
    return raise_gerror (L, "model:priors", err);
  lua_createtable (L, (int) n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_createtable (L, (int) k, 0);
    for (size_t j = 0; j < k; j++) {
      lua_pushnumber (L, p[i * k + j]);
      lua_seti (L, -2, (lua_Integer) j + 1);
    }
    lua_seti (L, -2, (lua_Integer) i + 1);
  }
  return 1;
}

/* model:uncertainty(X): 1 - the largest responsibility of each row, as mclust's uncertainty. */
static int
m_uncertainty (lua_State *L)
{
  const mixem_model *m = check_model (L, 1)->m;
  lscratch *s = scratch_new (L);
  const mixem_dataset *ds = model_data (L, m, 2, "model:uncertainty", s);
  /* With a noise component its probability is the last column. */
  size_t n = mixem_dataset_rows (ds), k = mixem_model_k (m) + mixem_model_noise (m, NULL, NULL);
  double *p = scratch_keep (s, g_new (double, n * k > 0 ? n * k : 1), g_free);
  GError *err = NULL;
  if (!mixem_model_predict_proba (m, ds, p, &err))
    return raise_gerror (L, "model:uncertainty", err);
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
  const mixem_model *m = check_model (L, 1)->m;
  lscratch *s = scratch_new (L);
  const mixem_dataset *ds = model_data (L, m, 2, "model:score_samples", s);
  size_t n = mixem_dataset_rows (ds);
  double *v = scratch_keep (s, g_new (double, n > 0 ? n : 1), g_free);
  GError *err = NULL;
  if (!mixem_model_score_samples (m, ds, v, &err))
    return raise_gerror (L, "model:score_samples", err);
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
  const mixem_model *m = check_model (L, 1)->m;
  lscratch *s = scratch_new (L);
  const mixem_dataset *ds = model_data (L, m, 2, fn, s);
  GError *err = NULL;
  double v = f (m, ds, &err);
  if (err)
    return raise_gerror (L, fn, err);
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
  const mixem_dataset *ds = check_dataset (L, 2)->ds;
  lua_Integer seed = luaL_optinteger (L, 3, 0);
  luaL_argcheck (L, seed >= 0, 3, "the seed must be >= 0");
  lscratch *s = scratch_new (L);
  const size_t n = mixem_dataset_rows (ds);
  double *y = scratch_keep (s, g_new (double, n > 0 ? n : 1), g_free);
  size_t *lab = scratch_keep (s, g_new (size_t, n > 0 ? n : 1), g_free);
  GError *err = NULL;
  if (!mixem_model_sample_response (m, ds, (unsigned long) seed, y, lab, &err))
    return raise_gerror (L, "model:sample", err);
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
  const mixem_model *m = check_model (L, 1)->m;
  if (luaL_testudata (L, 2, DATASET_MT))
    return m_sample_response (L, m);
  lua_Integer n = luaL_checkinteger (L, 2);
  luaL_argcheck (L, n >= 1, 2, "the number of samples must be positive");
  lua_Integer seed = luaL_optinteger (L, 3, 0);
  luaL_argcheck (L, seed >= 0, 3, "the seed must be >= 0");
  lscratch *s = scratch_new (L);
  size_t d = mixem_model_d (m);
  /* The rows, their copy in the dataset and the labels; checked, not aborted on (1 << 40). */
  const double need = (double) n * (16.0 * (double) d + 24.0);
  double *x = n <= INT_MAX && mixem_alloc_fits (need)
                  ? mixem_try_alloc0 ((size_t) n, d * sizeof (double), NULL) : NULL;
  scratch_keep (s, x, g_free);
  size_t *lab = x ? scratch_keep (s, mixem_try_alloc0 ((size_t) n, sizeof (size_t), NULL), g_free)
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
    return raise_gerror (L, "model:sample", err);
  mixem_dataset *ds = mixem_dataset_new ((size_t) n, d, x, mixem_model_names (m), NULL, &err);
  if (!ds)
    return raise_gerror (L, "model:sample", err);
  push_dataset (L, ds);
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
  char *s = mixem_model_summary (check_model (L, 1)->m, NULL);
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
  { "refit", m_refit }, { "partial_fit", m_partial_fit }, { NULL, NULL }
};

/* Fields computed on access, then methods. */
static int
m_index (lua_State *L)
{
  const mixem_model *m = check_model (L, 1)->m;
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
    push_strings (L, w, nw);
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
    push_strings (L, mixem_model_names (m), mixem_model_d (m));
  else if (strcmp (key, "concomitant") == 0) {
    /* nil, or {columns = {...}, coef = {{intercept, slopes...} a component}} */
    const char *const *zn;
    const double *g;
    const size_t q = mixem_model_concomitant (m, &zn, &g);
    if (q == 0)
      lua_pushnil (L);
    else {
      lua_createtable (L, 0, 2);
      push_strings (L, zn, q);
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
      push_variant (L, c);
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
      push_iteration (L, &tr[i]);
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

/* ---- module functions ---- */

static int
l_families (lua_State *L)
{
  mixem_registry *reg = push_registry (L);
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
  size_t *out = scratch_keep (s, g_new (size_t, *n > 0 ? *n : 1), g_free);
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
  lscratch *s = scratch_new (L);
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
  const mixem_dataset *ds = check_dataset (L, 1)->ds;
  lua_Integer k = luaL_checkinteger (L, 2);
  if (k < 1 || (size_t) k > mixem_dataset_rows (ds))
    luaL_error (L, "%s: 'k' must be in 1..%d (got %d)", fn, (int) mixem_dataset_rows (ds), (int) k);
  lua_settop (L, 3);
  if (lua_isnil (L, 3)) {
    lua_newtable (L);
    lua_replace (L, 3);
  }
  luaL_checktype (L, 3, LUA_TTABLE);
  check_keys (L, 3, fn, known, NULL);
  lua_Integer seed = opt_int (L, 3, fn, "seed", 0, 0, "an integer >= 0");
  const int iters = opt_cint (L, 3, fn, "max_iter", 300, 0, "an integer >= 0");
  lscratch *s = scratch_new (L);
  size_t n = mixem_dataset_rows (ds), d = mixem_dataset_cols (ds);
  size_t *lab = scratch_keep (s, g_new (size_t, n), g_free);
  double *c = scratch_keep (s, g_new (double, (size_t) k * d), g_free);
  gsl_rng *rng = scratch_keep (s, gsl_rng_alloc (gsl_rng_mt19937), (GDestroyNotify) gsl_rng_free);
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
  const mixem_dataset *ds = check_dataset (L, 1)->ds;
  lua_settop (L, 3);
  lscratch *s = scratch_new (L);
  size_t nk = lua_isinteger (L, 2) ? 1 : (luaL_checktype (L, 2, LUA_TTABLE), luaL_len (L, 2));
  if (nk == 0)
    luaL_error (L, "%s: 'ks' must be a number of clusters or a list of them", fn);
  size_t *ks = scratch_keep (s, g_new (size_t, nk), g_free);
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
  check_keys (L, 3, fn, known, NULL);
  const char *model = opt_str (L, 3, fn, "model", s);
  const char *use = opt_str (L, 3, fn, "use", s);
  const lua_Integer sub = opt_int (L, 3, fn, "subset", 0, 0, "an integer >= 0");
  const size_t n = mixem_dataset_rows (ds);
  if (!model)
    model = mixem_dataset_cols (ds) == 1 ? "V" : "VVV";
  size_t *lab = scratch_keep (s, g_new (size_t, nk * n), g_free);
  GError *err = NULL;
  if (!mixem_hc (ds, model, use ? use : "SVD", (size_t) sub, nk, ks, lab, &err))
    return raise_gerror (L, fn, err);
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
  const mixem_dataset *ds = check_dataset (L, 1)->ds;
  const lua_Integer k = luaL_optinteger (L, 2, 5);
  if (k < 1)
    luaL_error (L, "%s: k must be an integer >= 1", fn);
  lscratch *s = scratch_new (L);
  const size_t n = mixem_dataset_rows (ds);
  gboolean *nf = scratch_keep (s, g_new (gboolean, n + 1), g_free);
  double *pr = scratch_keep (s, g_new (double, n + 1), g_free);
  double *dk = scratch_keep (s, g_new (double, n + 1), g_free);
  mixem_nnclean_info info;
  GError *err = NULL;
  if (!mixem_nnclean (ds, (size_t) k, nf, pr, dk, &info, &err))
    return raise_gerror (L, fn, err);
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
  mixem_registry *reg = push_registry (L);
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
  mixem_registry *reg = push_registry (L);   /* 2 */
  lscratch *s = scratch_new (L);             /* 3 */
  const mixem_family *f = family_arg (L, fn, known, reg, s);
  GError *err = NULL;
  if (lua_getfield (L, 1, "data") == LUA_TNIL)
    luaL_error (L, "%s: 'data' is required", fn);
  const mixem_dataset *ds = check_dataset (L, -1)->ds;
  lua_pop (L, 1);
  const lua_Integer k = opt_int (L, 1, fn, "k", 2, 1, "an integer >= 1");
  const lua_Integer seed = opt_int (L, 1, fn, "seed", 0, 0, "an integer >= 0");
  mixem_options *fo = scratch_keep (s, mixem_options_new (), options_free0);
  for (const mixem_option_info *oi = f->options; oi && oi->name; oi++) {
    const char *v = family_opt_str (L, 1, fn, oi->name, s);
    if (v)
      mixem_options_set (fo, oi->name, v);
  }
  GArray *res = mixem_family_check (f, ds, (size_t) k, fo, (unsigned long) seed, reg, &err);
  if (!res)
    return raise_gerror (L, fn, err);
  scratch_keep (s, res, (GDestroyNotify) mixem_check_results_free);
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
  po->width = opt_cint (L, idx, fn, "width", 0, 0, "a size in pixels");
  po->height = opt_cint (L, idx, fn, "height", 0, 0, "a size in pixels");
  po->title = opt_str (L, idx, fn, "title", s);
}

/* The trace at IDX, a model's or a table of records {iter, loglik, elbo [, kl]}; *L0 gets a
 * model's l(theta_0) (NAN otherwise).  A table's copy is kept in S. */
static const mixem_iteration *
trace_arg (lua_State *L, int idx, const char *fn, lscratch *s, size_t *n, double *l0)
{
  idx = lua_absindex (L, idx);
  *l0 = NAN;
  if (luaL_testudata (L, idx, MODEL_MT)) {
    const mixem_model *m = check_model (L, idx)->m;
    *l0 = mixem_model_initial_loglik (m);
    return mixem_model_trace (m, n);
  }
  if (!lua_istable (L, idx))
    luaL_error (L, "%s: a model or a trace table expected, got %s", fn, luaL_typename (L, idx));
  *n = (size_t) luaL_len (L, idx);
  mixem_iteration *t = scratch_keep (s, g_new0 (mixem_iteration, *n > 0 ? *n : 1), g_free);
  for (size_t i = 0; i < *n; i++) {
    if (lua_geti (L, idx, (lua_Integer) i + 1) != LUA_TTABLE)
      luaL_error (L, "%s: trace entry %d is not a table", fn, (int) i + 1);
    t[i].iter = opt_cint (L, -1, fn, "iter", (lua_Integer) i + 1, 0, "an integer");
    t[i].loglik = opt_real (L, -1, fn, "loglik", NAN);
    t[i].elbo = opt_real (L, -1, fn, "elbo", NAN);
    t[i].kl = opt_real (L, -1, fn, "kl", t[i].loglik - t[i].elbo);
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
  lscratch *s = scratch_new (L);
  mixem_plot_options po;
  plot_options (L, 3, fn, NULL, &po, s);
  size_t n;
  double l0;
  const mixem_iteration *tr = trace_arg (L, 1, fn, s, &n, &l0);
  GError *err = NULL;
  if (!mixem_plot_trace (path, tr, n, l0, &po, &err))
    return raise_gerror (L, fn, err);
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
  lscratch *s = scratch_new (L);
  mixem_plot_options po;
  plot_options (L, 3, fn, extra, &po, s);
  const size_t m = (size_t) luaL_len (L, 1);
  const mixem_iteration **trs = scratch_keep (s, g_new0 (const mixem_iteration *, m + 1), g_free);
  size_t *lens = scratch_keep (s, g_new0 (size_t, m + 1), g_free);
  const char **labels = scratch_keep (s, g_new0 (const char *, m + 1), g_free);
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
      labels[j] = scratch_keep (s, g_strdup (lua_tostring (L, -1)), g_free);
      lua_pop (L, 1);
    }
  }
  GError *err = NULL;
  if (!mixem_plot_traces (path, trs, lens, labels, m, &po, &err))
    return raise_gerror (L, fn, err);
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
  const mixem_model *m = check_model (L, 1)->m;
  const char *path = luaL_checkstring (L, 3);
  lscratch *s = scratch_new (L);
  const mixem_dataset *ds = model_data (L, m, 2, fn, s);
  mixem_plot_options po;
  plot_options (L, 4, fn, extra, &po, s);
  const int x = plot_column (L, 4, "x", ds, fn), y = plot_column (L, 4, "y", ds, fn);
  if ((x < 0) != (y < 0))
    luaL_error (L, "%s: give both 'x' and 'y', or neither", fn);
  GError *err = NULL;
  if (!mixem_plot_clusters (path, m, ds, x, y, &po, &err))
    return raise_gerror (L, fn, err);
  return 0;
}

/* mx.plot.prototypes(model, path, {shape = {rows, cols}, ...}) */
static int
p_prototypes (lua_State *L)
{
  static const char *const fn = "mixem.plot.prototypes";
  lua_settop (L, 3);   /* the scratch goes above the arguments */
  static const char *const extra[] = { "shape", NULL };
  const mixem_model *m = check_model (L, 1)->m;
  const char *path = luaL_checkstring (L, 2);
  lscratch *s = scratch_new (L);
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
    return raise_gerror (L, fn, err);
  return 0;
}

/* mx.plot.levels(model, path [, opts]): a categorical model's level probabilities */
static int
p_levels (lua_State *L)
{
  static const char *const fn = "mixem.plot.levels";
  lua_settop (L, 3);   /* the scratch goes above the arguments */
  const mixem_model *m = check_model (L, 1)->m;
  const char *path = luaL_checkstring (L, 2);
  lscratch *s = scratch_new (L);
  mixem_plot_options po;
  plot_options (L, 3, fn, NULL, &po, s);
  GError *err = NULL;
  if (!mixem_plot_levels (path, m, &po, &err))
    return raise_gerror (L, fn, err);
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
  const mixem_model *m = check_model (L, 1)->m;
  const char *path = luaL_checkstring (L, 3);
  lscratch *s = scratch_new (L);
  const mixem_dataset *ds = model_data (L, m, 2, fn, s);
  mixem_plot_options po;
  plot_options (L, 4, fn, NULL, &po, s);
  GError *err = NULL;
  if (!draw (path, m, ds, &po, &err))
    return raise_gerror (L, fn, err);
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
  lscratch *s = scratch_new (L);
  mixem_plot_options po;
  plot_options (L, 3, fn, extra, &po, s);
  const char *xl = lua_istable (L, 3) ? opt_str (L, 3, fn, "xlabel", s) : NULL;
  const char *yl = lua_istable (L, 3) ? opt_str (L, 3, fn, "ylabel", s) : NULL;
  const size_t m = (size_t) luaL_len (L, 1);
  if (m == 0)
    luaL_error (L, "%s: no series to draw", fn);
  double **xs = scratch_keep (s, g_new0 (double *, m), g_free);
  double **ys = scratch_keep (s, g_new0 (double *, m), g_free);
  size_t *lens = scratch_keep (s, g_new0 (size_t, m), g_free);
  const char **labels = scratch_keep (s, g_new0 (const char *, m + 1), g_free);
  for (size_t i = 0; i < m; i++) {
    if (lua_geti (L, 1, (lua_Integer) i + 1) != LUA_TTABLE)
      luaL_error (L, "%s: series %d is not a table {x =, y =, label =}", fn, (int) i + 1);
    const int t = lua_gettop (L);
    labels[i] = opt_str (L, t, fn, "label", s);
    for (int axis = 0; axis < 2; axis++) {
      if (lua_getfield (L, t, axis ? "y" : "x") != LUA_TTABLE)
        luaL_error (L, "%s: series %d has no '%s' array", fn, (int) i + 1, axis ? "y" : "x");
      const size_t n = (size_t) luaL_len (L, -1);
      if (axis && n != lens[i])
        luaL_error (L, "%s: series %d has %d x values and %d y values", fn, (int) i + 1,
                    (int) lens[i], (int) n);
      lens[i] = n;
      double *v = scratch_keep (s, g_new (double, n + 1), g_free);
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
    return raise_gerror (L, fn, err);
  return 0;
}

static gint
compare_str (gconstpointer a, gconstpointer b)
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
  lscratch *s = scratch_new (L);
  mixem_plot_options po;
  plot_options (L, 3, fn, extra, &po, s);
  const char *cname = lua_istable (L, 3) ? opt_str (L, 3, fn, "criterion", s) : NULL;
  if (!cname)
    cname = opt_str (L, 1, fn, "criterion", s);
  mixem_criterion crit = MIXEM_BIC;
  if (cname && !mixem_criterion_parse (cname, &crit))
    luaL_error (L, "%s: 'criterion' must be bic, aic, icl or heldout (got %s)", fn, cname);
  const lua_Integer best = opt_int (L, 1, fn, "best", 1, 1, "a candidate number");
  if (lua_getfield (L, 1, "candidates") != LUA_TTABLE)
    luaL_error (L, "%s: a result of mixem.select is expected (no 'candidates')", fn);
  const int ci = lua_gettop (L);
  GArray *cands = scratch_keep (s, g_array_new (FALSE, TRUE, sizeof (mixem_candidate)),
                                (GDestroyNotify) mixem_candidates_free);
  for (lua_Integer i = 1; i <= luaL_len (L, ci); i++) {
    if (lua_geti (L, ci, i) != LUA_TTABLE)
      luaL_error (L, "%s: candidate %d is not a table", fn, (int) i);
    const int t = lua_gettop (L);
    mixem_candidate c = { 0 };
    c.options = mixem_options_new ();
    c.k = (size_t) opt_int (L, t, fn, "k", 1, 1, "a positive integer");
    c.loglik = opt_real (L, t, fn, "loglik", NAN);
    c.bic = opt_real (L, t, fn, "bic", NAN);
    c.aic = opt_real (L, t, fn, "aic", NAN);
    c.icl = opt_real (L, t, fn, "icl", NAN);
    c.heldout = opt_real (L, t, fn, "heldout", NAN);
    const char *why = opt_str (L, t, fn, "failure", s);
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
      g_ptr_array_sort (keys, compare_str);
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
    return raise_gerror (L, fn, err);
  return 0;
}

static const luaL_Reg plot_functions[] = {
  { "trace", p_trace }, { "traces", p_traces }, { "clusters", p_clusters },
  { "prototypes", p_prototypes }, { "binomial", p_binomial }, { "select", p_select },
  { "lines", p_lines },
  { "density", p_density }, { "regression", p_regression },
  { "levels", p_levels }, { NULL, NULL }
};

/* The table mixem.plot, each plot through rank_zero_only: under mpirun rank 0 alone draws. */
void
lmx_push_plots (lua_State *L)
{
  lua_newtable (L);
  for (const luaL_Reg *r = plot_functions; r->name; r++) {
    lua_pushcfunction (L, r->func);
    lua_pushcclosure (L, rank_zero_only, 1);
    lua_setfield (L, -2, r->name);
  }
}

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
