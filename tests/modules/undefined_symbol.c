/* undefined_symbol.c: a module that calls a function no library defines.  With lazy binding it
 * would load and kill the process at the first call; the registry binds every symbol at load, so
 * it is refused with the loader's message. */
#include <gmodule.h>

void mixem_function_that_does_not_exist (void);

G_MODULE_EXPORT void mixem_undefined_caller (void);
G_MODULE_EXPORT void
mixem_undefined_caller (void)
{
  mixem_function_that_does_not_exist ();
}

G_MODULE_EXPORT const unsigned mixem_family_entry = 2;
