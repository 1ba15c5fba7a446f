/* fuzz_model.c: libFuzzer target for the JSON model loader (mixem_model_from_json), and what a
 * loaded model is used for first: written back, summarised, sampled from.  Built for libFuzzer
 * (make fuzz), the families are linked in and registered here (MIXEM_FUZZ_STATIC_FAMILIES); in
 * the corpus replay of make check they are the build tree's modules. */
#include <string.h>
#include "fuzz_util.h"

#ifdef MIXEM_FUZZ_STATIC_FAMILIES
extern const mixem_family mixem_family_binomial, mixem_family_gaussian, mixem_family_bernoulli,
  mixem_family_poisson;
#endif

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static mixem_registry *reg;
  if (!reg) {
    (void) fuzz_file (data, 0, ".json");   /* error handler off */
    reg = mixem_registry_new ();
#ifdef MIXEM_FUZZ_STATIC_FAMILIES
    if (!mixem_registry_add (reg, &mixem_family_binomial, NULL)
        || !mixem_registry_add (reg, &mixem_family_gaussian, NULL)
        || !mixem_registry_add (reg, &mixem_family_bernoulli, NULL)
        || !mixem_registry_add (reg, &mixem_family_poisson, NULL))
      abort ();
#endif
  }
  char *text = g_strndup ((const char *) data, size);
  GError *err = NULL;
  mixem_model *m = mixem_model_from_json (reg, text, "fuzz.json", &err);
  g_free (text);
  if (!m) {
    if (!err || strlen (err->message) > 4096)
      abort ();
    g_error_free (err);
    return 0;
  }
  g_free (mixem_model_to_json (m));
  g_free (mixem_model_summary (m, NULL));
  const size_t d = mixem_model_d (m);
  double *x = mixem_try_alloc0 (3, d * sizeof (double), NULL);
  size_t lab[3];
  if (x && !mixem_model_sample (m, 3, 1, x, lab, &err))
    g_clear_error (&err);
  g_free (x);
  mixem_model_free (m);
  return 0;
}
