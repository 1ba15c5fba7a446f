/* registry.c: families by name.  Built-in registrations and GModule plugins live in one list per
 * registry object; modules stay loaded until the registry is freed. */
#include <config.h>
#include <string.h>
#include <gmodule.h>
#include <mixem/registry.h>

typedef struct {
  const mixem_family *family;
  char *origin;      /* module path or "built-in" */
  GModule *module;   /* NULL for built-in */
} entry;

struct mixem_registry {
  GArray *entries;   /* of entry */
  char **path;       /* search directories */
};

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
    if (e->module)
      g_module_close (e->module);
  }
  g_array_free (reg->entries, TRUE);
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

/* The fields every family must fill; expected_loglik, check_data, init and sample may be NULL. */
static gboolean
validate (const mixem_family *f, const char *origin, GError **error)
{
  if (f->abi_version != MIXEM_FAMILY_ABI_VERSION) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_PLUGIN,
                 "%s: family ABI version %u, but this mixem needs version %u (rebuild the module)",
                 origin, f->abi_version, MIXEM_FAMILY_ABI_VERSION);
    return FALSE;
  }
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
  return TRUE;
}

static gboolean
add_entry (mixem_registry *reg, const mixem_family *family, const char *origin, GModule *module,
           GError **error)
{
  if (!validate (family, origin, error))
    return FALSE;
  entry *old = find (reg, family->name);
  if (old) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_PLUGIN,
                 "%s: a family called '%s' is already registered (from %s)", origin, family->name,
                 old->origin);
    return FALSE;
  }
  entry e = { family, g_strdup (origin), module };
  g_array_append_val (reg->entries, e);
  return TRUE;
}

gboolean
mixem_registry_add (mixem_registry *reg, const mixem_family *family, GError **error)
{
  return add_entry (reg, family, "built-in", NULL, error);
}

const mixem_family *
mixem_registry_load (mixem_registry *reg, const char *path, GError **error)
{
  for (guint i = 0; i < reg->entries->len; i++) {
    entry *e = &g_array_index (reg->entries, entry, i);
    if (strcmp (e->origin, path) == 0)
      return e->family;
  }
  GModule *mod = g_module_open (path, G_MODULE_BIND_LAZY | G_MODULE_BIND_LOCAL);
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
  if (!add_entry (reg, family, path, mod, error)) {
    g_module_close (mod);
    return NULL;
  }
  return family;
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
      const mixem_family *f = mixem_registry_load (reg, file, error);
      if (f && strcmp (f->name, name) != 0) {
        g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_PLUGIN,
                     "%s: the module holds family '%s', not '%s'", file, f->name, name);
        f = NULL;
      }
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
      if (!find (reg, name))
        mixem_registry_lookup (reg, name, NULL);   /* a broken module is skipped here */
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

const char *
mixem_registry_origin (const mixem_registry *reg, const mixem_family *family)
{
  for (guint i = 0; i < reg->entries->len; i++) {
    entry *e = &g_array_index (reg->entries, entry, i);
    if (e->family == family)
      return e->origin;
  }
  return NULL;
}
