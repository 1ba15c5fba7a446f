/* registry.c: families by name.  Built-in registrations, GModule plugins and families defined at
 * run time (Lua) live in one list per registry object; modules stay loaded until the registry is
 * freed.  Each family is kept as a copy in this library's layout of mixem_family: a module built
 * against ABI 1, or against an ABI 2 header with fewer appended fields, reads as if the fields it
 * lacks were NULL or 0, so the engine never looks past what a module defined. */
#include <config.h>
#include <stddef.h>
#include <string.h>
#include <gmodule.h>
#include <mixem/registry.h>

typedef struct {
  mixem_family *family;      /* owned copy in the current layout */
  const mixem_family *source;  /* what was registered */
  mixem_option_info *options;  /* owned copy of an ABI 1 module's options, or NULL */
  char *origin;              /* module path, "built-in", or the caller's word */
  GModule *module;           /* NULL unless loaded from a module */
  GDestroyNotify notify;     /* for DATA, when the registry owns it */
  gpointer data;
} entry;

struct mixem_registry {
  GArray *entries;   /* of entry */
  char **path;       /* search directories */
  GPtrArray *failures;   /* messages of modules that failed to load in mixem_registry_list */
};

/* The option entry of ABI 1, before type, range and choices were appended. */
typedef struct {
  const char *name, *help, *default_value;
} option_info_v1;

/* The engine's own starts: a family needs no init() for these. */
static const char *const engine_starts[] = { "random_resp", "random", "kmeans", "kmeans++", "hc",
                                             NULL };

mixem_registry *
mixem_registry_new (void)
{
  mixem_registry *reg = g_new0 (mixem_registry, 1);
  reg->entries = g_array_new (FALSE, TRUE, sizeof (entry));
  GPtrArray *dirs = g_ptr_array_new ();
  const char *env = g_getenv ("MIXEM_FAMILY_PATH");
  if (env) {
    char **parts = g_strsplit (env, G_SEARCHPATH_SEPARATOR_S, -1);
    for (char **p = parts; *p; p++)
      if (**p)
        g_ptr_array_add (dirs, g_strdup (*p));
    g_strfreev (parts);
  }
  g_ptr_array_add (dirs, g_strdup (MIXEM_FAMILYDIR));
  g_ptr_array_add (dirs, g_strdup (MIXEM_BUILD_FAMILYDIR));
  g_ptr_array_add (dirs, NULL);
  reg->path = (char **) g_ptr_array_free (dirs, FALSE);
  reg->failures = g_ptr_array_new_with_free_func (g_free);
  return reg;
}

void
mixem_registry_free (mixem_registry *reg)
{
  if (!reg)
    return;
  for (guint i = 0; i < reg->entries->len; i++) {
    entry *e = &g_array_index (reg->entries, entry, i);
    g_free (e->origin);
    g_free (e->family);
    g_free (e->options);
    if (e->notify)
      e->notify (e->data);
    if (e->module)
      g_module_close (e->module);
  }
  g_array_free (reg->entries, TRUE);
  g_ptr_array_unref (reg->failures);
  g_strfreev (reg->path);
  g_free (reg);
}

const char *const *
mixem_registry_path (const mixem_registry *reg)
{
  return (const char *const *) reg->path;
}

static entry *
find (const mixem_registry *reg, const char *name)
{
  for (guint i = 0; i < reg->entries->len; i++) {
    entry *e = &g_array_index (reg->entries, entry, i);
    if (strcmp (e->family->name, name) == 0)
      return e;
  }
  return NULL;
}

/* F in the current layout: the fields a module of an older layout lacks read as NULL or 0, and an
 * ABI 1 module's options are widened (into *OPTIONS, which the entry owns). */
static mixem_family *
normalise (const mixem_family *f, const char *origin, mixem_option_info **options, GError **error)
{
  const size_t v1_size = offsetof (mixem_family, size);
  size_t have;
  *options = NULL;
  if (f->abi_version == 1)
    have = v1_size;
  else if (f->abi_version == 2) {
    have = f->size;
    if (have < offsetof (mixem_family, flags)) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_PLUGIN,
                   "%s: family of ABI version 2 with size %zu (set .size = MIXEM_FAMILY_SIZE)",
                   origin, have);
      return NULL;
    }
  } else {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_PLUGIN,
                 "%s: family ABI version %u, but this mixem reads versions 1 to %u (rebuild the "
                 "module, and check that it exports a const mixem_family, not a pointer)",
                 origin, f->abi_version, MIXEM_FAMILY_ABI_VERSION);
    return NULL;
  }
  mixem_family *c = g_new0 (mixem_family, 1);
  memcpy (c, f, MIN (have, sizeof *c));
  c->abi_version = MIXEM_FAMILY_ABI_VERSION;
  c->size = sizeof *c;
  if (f->abi_version == 1 && f->options) {
    const option_info_v1 *o1 = (const option_info_v1 *) (const void *) f->options;
    size_t n = 0;
    while (o1[n].name)
      n++;
    *options = g_new0 (mixem_option_info, n + 1);
    for (size_t i = 0; i < n; i++)
      (*options)[i] = (mixem_option_info) { o1[i].name, o1[i].help, o1[i].default_value, 0,
                                            NULL, NULL };
    c->options = *options;
  }
  return c;
}

/* The fields every family must fill, and the promises between them; expected_loglik,
 * check_data, init, sample and take_error may be NULL. */
static gboolean
validate (const mixem_family *f, const char *origin, GError **error)
{
  const char *missing = !f->name ? "name"
                        : !f->params_new ? "params_new"
                        : !f->params_copy ? "params_copy"
                        : !f->params_free ? "params_free"
                        : !f->log_density ? "log_density"
                        : !f->stats_size ? "stats_size"
                        : !f->accumulate ? "accumulate"
                        : !f->maximise ? "maximise"
                        : !f->n_free_params ? "n_free_params"
                        : !f->describe ? "describe"
                        : !f->assign ? "assign"
                        : NULL;
  if (missing) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_PLUGIN, "%s: family has no '%s' function", origin,
                 missing);
    return FALSE;
  }
  for (const char *const *m = f->init_methods; m && *m; m++)
    if (!f->init && !g_strv_contains (engine_starts, *m)) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_PLUGIN,
                   "%s: family '%s' lists the start '%s' but has no init() to run it (the "
                   "engine's own starts are random_resp, random, kmeans, kmeans++ and hc)", origin,
                   f->name, *m);
      return FALSE;
    }
  for (const mixem_option_info *o = f->options; o && o->name; o++)
    if (o->type == MIXEM_OPTION_CHOICE && !o->choices) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_PLUGIN,
                   "%s: family '%s': the choice option '%s' lists no choices", origin, f->name,
                   o->name);
      return FALSE;
    }
  if (f->params_new == mixem_store_new && (!f->param_info || f->params_size < sizeof (mixem_store))) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_PLUGIN,
                 "%s: family '%s' uses the parameter store but has no param_info or a "
                 "params_size below sizeof (mixem_store)", origin, f->name);
    return FALSE;
  }
  return TRUE;
}

static gboolean
add_entry (mixem_registry *reg, const mixem_family *family, const char *origin, GModule *module,
           GDestroyNotify notify, gpointer data, GError **error)
{
  mixem_option_info *options = NULL;
  mixem_family *copy = normalise (family, origin, &options, error);
  if (!copy)
    return FALSE;
  copy->registry = reg;
  if (!validate (copy, origin, error)) {
    g_free (copy);
    g_free (options);
    return FALSE;
  }
  entry *old = find (reg, copy->name);
  if (old) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_PLUGIN,
                 "%s: a family called '%s' is already registered (from %s)", origin, copy->name,
                 old->origin);
    g_free (copy);
    g_free (options);
    return FALSE;
  }
  entry e = { copy, family, options, g_strdup (origin), module, notify, data };
  g_array_append_val (reg->entries, e);
  return TRUE;
}

gboolean
mixem_registry_add (mixem_registry *reg, const mixem_family *family, GError **error)
{
  return add_entry (reg, family, "built-in", NULL, NULL, NULL, error);
}

gboolean
mixem_registry_add_owned (mixem_registry *reg, const mixem_family *family, const char *origin,
                          GDestroyNotify notify, gpointer data, GError **error)
{
  if (!add_entry (reg, family, origin, NULL, notify, data, error))
    return FALSE;
  return TRUE;
}

gboolean
mixem_registry_remove (mixem_registry *reg, const char *name)
{
  for (guint i = 0; i < reg->entries->len; i++) {
    entry *e = &g_array_index (reg->entries, entry, i);
    if (strcmp (e->family->name, name) != 0)
      continue;
    g_free (e->origin);
    g_free (e->family);
    g_free (e->options);
    if (e->notify)
      e->notify (e->data);
    if (e->module)
      g_module_close (e->module);
    g_array_remove_index (reg->entries, i);
    return TRUE;
  }
  return FALSE;
}

/* Opens PATH with every symbol bound now (an undefined one is a load error, not a crash at its
 * first call) and registers its family, which must be called EXPECT unless EXPECT is NULL. */
static const mixem_family *
load_module (mixem_registry *reg, const char *path, const char *expect, GError **error)
{
  for (guint i = 0; i < reg->entries->len; i++) {
    entry *e = &g_array_index (reg->entries, entry, i);
    if (strcmp (e->origin, path) == 0)
      return e->family;
  }
  GModule *mod = g_module_open (path, G_MODULE_BIND_LOCAL);
  if (!mod) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_PLUGIN, "%s: cannot load module: %s", path,
                 g_module_error ());
    return NULL;
  }
  gpointer sym = NULL;
  if (!g_module_symbol (mod, "mixem_family_entry", &sym) || !sym) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_PLUGIN,
                 "%s: not a mixem family module (no symbol 'mixem_family_entry')", path);
    g_module_close (mod);
    return NULL;
  }
  const mixem_family *family = sym;
  if (expect && family->abi_version >= 1 && family->abi_version <= MIXEM_FAMILY_ABI_VERSION
      && (!family->name || strcmp (family->name, expect) != 0)) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_PLUGIN,
                 "%s: the module holds family '%s', not '%s' (a module's file is named after "
                 "its family)", path, family->name ? family->name : "(no name)", expect);
    g_module_close (mod);
    return NULL;
  }
  if (!add_entry (reg, family, path, mod, NULL, NULL, error)) {
    g_module_close (mod);
    return NULL;
  }
  return find (reg, family->name)->family;
}

const mixem_family *
mixem_registry_load (mixem_registry *reg, const char *path, GError **error)
{
  return load_module (reg, path, NULL, error);
}

static gboolean
valid_name (const char *name)
{
  if (!*name)
    return FALSE;
  for (const char *p = name; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '_' && *p != '-')
      return FALSE;
  return TRUE;
}

const mixem_family *
mixem_registry_lookup (mixem_registry *reg, const char *name, GError **error)
{
  entry *e = find (reg, name);
  if (e)
    return e->family;
  if (!valid_name (name)) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_PLUGIN, "'%s' is not a valid family name", name);
    return NULL;
  }
  for (char **dir = reg->path; *dir; dir++) {
    char *file = g_strdup_printf ("%s/%s.%s", *dir, name, G_MODULE_SUFFIX);
    if (g_file_test (file, G_FILE_TEST_IS_REGULAR)) {
      const mixem_family *f = load_module (reg, file, name, error);
      g_free (file);
      return f;
    }
    g_free (file);
  }
  char *where = g_strjoinv (", ", reg->path);
  g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_PLUGIN,
               "unknown family '%s' (no %s.%s in %s; see `mixem families`)", name, name,
               G_MODULE_SUFFIX, where);
  g_free (where);
  return NULL;
}

static int
by_name (gconstpointer a, gconstpointer b)
{
  const mixem_family *fa = *(const mixem_family *const *) a;
  const mixem_family *fb = *(const mixem_family *const *) b;
  return strcmp (fa->name, fb->name);
}

GPtrArray *
mixem_registry_list (mixem_registry *reg)
{
  const char *suffix = "." G_MODULE_SUFFIX;
  for (char **dir = reg->path; *dir; dir++) {
    GDir *d = g_dir_open (*dir, 0, NULL);
    if (!d)
      continue;
    const char *fn;
    while ((fn = g_dir_read_name (d))) {
      if (!g_str_has_suffix (fn, suffix))
        continue;
      char *name = g_strndup (fn, strlen (fn) - strlen (suffix));
      GError *err = NULL;
      if (!find (reg, name) && !mixem_registry_lookup (reg, name, &err)) {
        /* Kept for the caller to show: a module that does not load is not silently absent. */
        if (!g_ptr_array_find_with_equal_func (reg->failures, err->message, g_str_equal, NULL))
          g_ptr_array_add (reg->failures, g_strdup (err->message));
        g_error_free (err);
      }
      g_free (name);
    }
    g_dir_close (d);
  }
  GPtrArray *out = g_ptr_array_new ();
  for (guint i = 0; i < reg->entries->len; i++)
    g_ptr_array_add (out, (gpointer) g_array_index (reg->entries, entry, i).family);
  g_ptr_array_sort (out, by_name);
  return out;
}

const GPtrArray *
mixem_registry_failures (const mixem_registry *reg)
{
  return reg->failures;
}

const char *
mixem_registry_origin (const mixem_registry *reg, const mixem_family *family)
{
  for (guint i = 0; i < reg->entries->len; i++) {
    entry *e = &g_array_index (reg->entries, entry, i);
    if (e->family == family || e->source == family)
      return e->origin;
  }
  return NULL;
}
