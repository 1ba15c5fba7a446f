/* fuzz_npy.c: libFuzzer target for the NumPy .npy reader (mixem_dataset_read_npy). */
#include <string.h>
#include "fuzz_util.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *path = fuzz_file (data, size, ".npy");
  GError *err = NULL;
  mixem_dataset *ds = mixem_dataset_read_npy (path, &err);
  if (!ds) {
    if (!err)
      abort ();
    g_error_free (err);
    return 0;
  }
  const size_t n = mixem_dataset_rows (ds), d = mixem_dataset_cols (ds);
  if (n * d > size)   /* every value comes from at least one byte of the file */
    abort ();
  double sum = 0.0;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < d; j++)
      sum += mixem_dataset_value (ds, i, j);
  (void) mixem_dataset_data (ds);
  (void) sum;
  mixem_dataset_free (ds);
  return 0;
}
