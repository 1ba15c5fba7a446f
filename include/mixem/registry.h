/* mixem/registry.h: finds families by name.  Families register from C, or are loaded as GModule
 * plugins from, in order: the directories of $MIXEM_FAMILY_PATH (':'-separated), the install
 * directory (LIBDIR/mixem/families), and the build tree's families/.libs, so that programs run
 * from the build tree work without installing.  A registry is a plain object: no global state. */
#ifndef MIXEM_REGISTRY_H
#define MIXEM_REGISTRY_H

#include <mixem/family.h>

G_BEGIN_DECLS

typedef struct mixem_registry mixem_registry;

mixem_registry *mixem_registry_new (void);
void mixem_registry_free (mixem_registry *reg);     /* accepts NULL; unloads the modules */

/* Adds FAMILY under its own name; the registry keeps a copy (use mixem_registry_lookup's
 * pointer from then on).  A second family of the same name, an unknown ABI version, a missing
 * required function or a start with no init() to run it is an error. */
gboolean mixem_registry_add (mixem_registry *reg, const mixem_family *family, GError **error);

/* Adds FAMILY, copied, under its own name, with ORIGIN as the word `mixem families` shows (for
 * families made at run time, such as Lua's).  NOTIFY (may be NULL) frees DATA when the family
 * leaves the registry. */
gboolean mixem_registry_add_owned (mixem_registry *reg, const mixem_family *family,
                                   const char *origin, GDestroyNotify notify, gpointer data,
                                   GError **error);

/* Removes the family called NAME (models of it must be gone); FALSE if there is none. */
gboolean mixem_registry_remove (mixem_registry *reg, const char *name);

/* Loads the module file PATH (every symbol bound at once) and registers the family it
 * exports.  The registry keeps its own copy of the family: use the pointer returned. */
const mixem_family *mixem_registry_load (mixem_registry *reg, const char *path, GError **error);

/* The family called NAME: registered already, or loaded from the first search directory holding
 * NAME.so.  Not found, wrong ABI version or missing symbol: MIXEM_ERROR_PLUGIN. */
const mixem_family *mixem_registry_lookup (mixem_registry *reg, const char *name,
                                           GError **error);

/* Loads every module in the search path (errors in one module are kept for
 * mixem_registry_failures, not fatal) and returns the families known, sorted by name.  Free the
 * array with g_ptr_array_unref. */
GPtrArray *mixem_registry_list (mixem_registry *reg);

/* The messages (char *) of the modules mixem_registry_list could not load.  Owned by REG. */
const GPtrArray *mixem_registry_failures (const mixem_registry *reg);

/* Where FAMILY came from: a module path, or "built-in" for one added from C. */
const char *mixem_registry_origin (const mixem_registry *reg, const mixem_family *family);

/* The search directories, in order (NULL-terminated, owned by REG). */
const char *const *mixem_registry_path (const mixem_registry *reg);

G_END_DECLS

#endif
