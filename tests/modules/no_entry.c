/* no_entry.c: a test module that exports no mixem_family_entry; the registry must refuse it. */
#include <gmodule.h>

G_MODULE_EXPORT int mixem_not_a_family = 1;
