/* pointer_entry.c: a module that exports its family as a pointer, as GSL exports its types.
 * family.h declares mixem_family_entry as a const mixem_family, so a module that includes it
 * cannot compile this; one that does not is refused by the registry with a hint. */
#include <gmodule.h>

static const unsigned fake_family[64] = { 2 };
G_MODULE_EXPORT const unsigned *const mixem_family_entry = fake_family;
