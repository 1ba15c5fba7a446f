/* bad_abi.c: a test module that claims a future family ABI version; the registry must refuse it. */
#include <mixem/family.h>

G_MODULE_EXPORT const mixem_family mixem_family_entry = {
  .abi_version = MIXEM_FAMILY_ABI_VERSION + 1,
  .name = "bad_abi",
};
