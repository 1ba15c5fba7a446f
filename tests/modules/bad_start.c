/* bad_start.c: a family that lists a start of its own but has no init() to run it; the registry
 * must refuse it at load rather than let a fit call a NULL init. */
#include <mixem/family.h>

static const char *const starts[] = { "magic", NULL };
static size_t size (const mixem_params *p) { (void) p; return 1; }
static void logd (const mixem_params *p, const mixem_block *b, double *out)
{ (void) p; (void) b; (void) out; }
static void acc (const mixem_params *p, const mixem_block *b, const double *r, double *s)
{ (void) p; (void) b; (void) r; (void) s; }
static gboolean maxi (mixem_params *p, const double *s, const gboolean *f, GError **e)
{ (void) p; (void) s; (void) f; (void) e; return TRUE; }

G_MODULE_EXPORT const mixem_family mixem_family_entry = {
  .abi_version = MIXEM_FAMILY_ABI_VERSION, .size = MIXEM_FAMILY_SIZE,
  .name = "bad_start", .init_methods = starts,
  .param_info = (const mixem_param_info[]) { { "x", MIXEM_SHAPE_SCALAR, MIXEM_REAL, "x" }, { 0 } },
  .params_size = sizeof (mixem_store), MIXEM_STORE_FUNCTIONS,
  .log_density = logd, .stats_size = size, .accumulate = acc, .maximise = maxi,
};
