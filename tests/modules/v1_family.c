/* v1_family.c: a module as a family of ABI version 1 was built: the old layout of mixem_family
 * (ending at assign) and of its options (three strings), written out here because family.h now
 * describes version 2.  The registry must accept it and read the fields it lacks as NULL. */
#include <stddef.h>
#include <gmodule.h>

typedef struct { const char *name, *help, *default_value; } option_v1;

typedef struct {
  unsigned abi_version;
  const char *name, *summary;
  const option_v1 *options;
  const char *const *init_methods;
  void *params_new, *params_copy, *params_free, *check_data, *log_density, *stats_size,
    *accumulate, *maximise, *expected_loglik, *n_free_params, *init, *sample, *describe,
    *assign;
} family_v1;

static int placeholder (void) { return 0; }   /* the registry only checks that entries exist */
#define F ((void *) (size_t) placeholder)

static const option_v1 options[] = { { "shape", "an option of the old kind", "2" },
                                     { NULL, NULL, NULL } };
static const char *const starts[] = { "random_resp", NULL };

G_MODULE_EXPORT const family_v1 mixem_family_entry = {
  1, "v1_family", "a family built against ABI 1", options, starts,
  F, F, F, NULL, F, F, F, F, NULL, F, NULL, NULL, F, F,
};
