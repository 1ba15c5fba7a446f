/* laux.c: what every part of the Lua binding uses: scratch (temporaries that a Lua error,
 * which longjmps, cannot leak: a userdata whose __gc frees them), the state's family registry,
 * Lua values <-> GVariant (component parameters), and option tables (unknown keys refused, typed
 * fields read with errors that name the function and the key). */
#include <limits.h>
#include <math.h>
#include <string.h>
#include "lmx.h"

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

lscratch *
lmx_scratch_new (lua_State *L)
{
  lscratch *s = lua_newuserdatauv (L, sizeof *s, 0);
  s->items = NULL;
  luaL_setmetatable (L, SCRATCH_MT);
  s->items = g_ptr_array_new ();
  return s;
}

gpointer
lmx_scratch_keep (lscratch *s, gpointer p, GDestroyNotify free_fn)
{
  g_ptr_array_add (s->items, p);
  g_ptr_array_add (s->items, (gpointer) free_fn);
  return p;
}

void
lmx_variant_unref0 (gpointer v)
{
  if (v)
    g_variant_unref (v);
}

void
lmx_options_free0 (gpointer o)
{
  mixem_options_free (o);
}

void
lmx_dataset_free0 (gpointer d)
{
  mixem_dataset_free (d);
}

/* Raises "FN: MESSAGE" from ERR (freed first: lua_error does not return). */
int
lmx_raise_gerror (lua_State *L, const char *fn, GError *err)
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

/* Pushes the state's registry userdata, creating it once. */
mixem_registry *
lmx_push_registry (lua_State *L)
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

void
lmx_check_value_nesting (lua_State *L, int idx, const char *fn, const char *what,
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
    lmx_check_value_nesting (L, -1, fn, what, path, depth + 1);
    lua_pop (L, 1);
  }
}

static GVariant *lua_to_variant_unchecked (lua_State *L, int idx, const char *fn,
                                           const char *what);

/* Lua value at IDX -> GVariant (floating): number d, array ad / aad, table a{sv}, string s. */
GVariant *
lmx_lua_to_variant (lua_State *L, int idx, const char *fn, const char *what)
{
  const void *path[LUA_VALUE_MAX_DEPTH];
  lmx_check_value_nesting (L, idx, fn, what, path, 0);
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
    if (lmx_is_array (L, idx)) {
      lua_Integer n = luaL_len (L, idx);
      gboolean nested = n > 0 && lua_geti (L, idx, 1) == LUA_TTABLE;
      gboolean dicts = nested && !lmx_is_array (L, -1);
      if (n > 0)
        lua_pop (L, 1);
      if (dicts) {   /* an array of tables with keys: "aa{sv}", as components */
        GVariantBuilder db;
        g_variant_builder_init (&db, G_VARIANT_TYPE ("aa{sv}"));
        for (lua_Integer i = 1; i <= n; i++) {
          if (lua_geti (L, idx, i) != LUA_TTABLE || lmx_is_array (L, -1)) {
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

void
lmx_push_variant (lua_State *L, GVariant *v)
{
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_VARIANT)) {
    GVariant *inner = g_variant_get_variant (v);
    lmx_push_variant (L, inner);
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
      lmx_push_variant (L, val);
      lua_setfield (L, -2, key);
      g_variant_unref (val);
    }
  } else if (g_variant_is_container (v)) {
    lua_createtable (L, (int) g_variant_n_children (v), 0);
    for (gsize i = 0; i < g_variant_n_children (v); i++) {
      GVariant *c = g_variant_get_child_value (v, i);
      lmx_push_variant (L, c);
      lua_seti (L, -2, (lua_Integer) i + 1);
      g_variant_unref (c);
    }
  } else
    lua_pushnil (L);
}

/* ---- option tables ---- */

gboolean
lmx_is_array (lua_State *L, int idx)
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
void
lmx_check_keys (lua_State *L, int idx, const char *fn, const char *const *known,
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
lua_Integer
lmx_opt_int (lua_State *L, int idx, const char *fn, const char *key, lua_Integer def, lua_Integer lo,
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
int
lmx_opt_cint (lua_State *L, int idx, const char *fn, const char *key, int def, int lo, const char *what)
{
  const lua_Integer v = lmx_opt_int (L, idx, fn, key, def, lo, what);
  if (v > INT_MAX)
    luaL_error (L, "%s: '%s' must be %s and at most %d (got %I)", fn, key, what, INT_MAX, v);
  return (int) v;
}

double
lmx_opt_num (lua_State *L, int idx, const char *fn, const char *key, double def)
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
double
lmx_opt_real (lua_State *L, int idx, const char *fn, const char *key, double def)
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

static void
gstring_free (gpointer g)
{
  g_string_free (g, TRUE);
}

static char *
parts_text (lua_State *L, const char *fn, const char *key, lscratch *s)
{
  /* Kept in S, so that an error (a longjmp) frees them. */
  GString *out = lmx_scratch_keep (s, g_string_new (NULL), gstring_free);
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
    GPtrArray *keys = lmx_scratch_keep (s, g_ptr_array_new_with_free_func (g_free),
                                    (GDestroyNotify) g_ptr_array_unref);
    lua_pushnil (L);
    while (lua_next (L, -4)) {
      if (lua_type (L, -2) == LUA_TSTRING && strcmp (lua_tostring (L, -2), "family") != 0
          && strcmp (lua_tostring (L, -2), "columns") != 0)
        g_ptr_array_add (keys, g_strdup (lua_tostring (L, -2)));
      lua_pop (L, 1);
    }
    g_ptr_array_sort (keys, lmx_compare_str);
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
  GString *out = lmx_scratch_keep (s, g_string_new (NULL), gstring_free);
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

const char *
lmx_opt_str (lua_State *L, int idx, const char *fn, const char *key, lscratch *s)
{
  int t = lua_getfield (L, idx, key);
  const char *v = NULL;
  if (t == LUA_TNUMBER && lua_isinteger (L, -1))
    v = lmx_scratch_keep (s, g_strdup_printf ("%lld", (long long) lua_tointeger (L, -1)), g_free);
  else if (t == LUA_TNUMBER) {
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    v = lmx_scratch_keep (s, g_strdup (g_ascii_dtostr (buf, sizeof buf, lua_tonumber (L, -1))),
                      g_free);
  } else if (t == LUA_TSTRING)
    v = lmx_scratch_keep (s, g_strdup (lua_tostring (L, -1)), g_free);
  else if (t == LUA_TTABLE && lmx_is_array (L, -1) && first_is_string (L))
    v = names_text (L, fn, key, s);
  else if (t == LUA_TTABLE && lmx_is_array (L, -1))
    v = lmx_scratch_keep (s, parts_text (L, fn, key, s), g_free);
  else if (t != LUA_TNIL)
    luaL_error (L, "%s: '%s' must be a string (got %s)", fn, key, luaL_typename (L, -1));
  lua_pop (L, 1);
  return v;
}

/* A family option opts[KEY] as text: as lmx_opt_str, and a boolean as "true" or "false" (for the
 * options of type MIXEM_OPTION_BOOLEAN, as normalise = true). */
const char *
lmx_family_opt_str (lua_State *L, int idx, const char *fn, const char *key, lscratch *s)
{
  if (lua_getfield (L, idx, key) == LUA_TBOOLEAN) {
    const char *v = lua_toboolean (L, -1) ? "true" : "false";
    lua_pop (L, 1);
    return v;
  }
  lua_pop (L, 1);
  return lmx_opt_str (L, idx, fn, key, s);
}

/* A column list: array of names or 1-based indices -> NULL-terminated strv kept in S. */
char **
lmx_column_list (lua_State *L, int idx, const char *fn, const char *key, lscratch *s)
{
  if (lua_getfield (L, idx, key) == LUA_TNIL) {
    lua_pop (L, 1);
    return NULL;
  }
  if (!lua_istable (L, -1) || !lmx_is_array (L, -1) || luaL_len (L, -1) == 0)
    luaL_error (L, "%s: '%s' must be a non-empty array of column names or numbers", fn, key);
  lua_Integer n = luaL_len (L, -1);
  char **v = lmx_scratch_keep (s, g_new0 (char *, n + 1), (GDestroyNotify) g_strfreev);
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
