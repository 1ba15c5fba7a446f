/* fuzz_csv.c: libFuzzer target for the CSV reader (mixem_dataset_read_csv), with and without a
 * header, and the dataset calls that follow a read (select, subset, values, cell names). */
#include <string.h>
#include "fuzz_util.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *path = fuzz_file (data, size, ".csv");
  static const char *const cols[] = { "1", "x", NULL };
  const mixem_csv_options opts[] = {
    { 0 },
    { .no_header = TRUE },
    { .delimiter = ';', .weights = "w" },
    { .columns = cols },
  };
  for (size_t o = 0; o < G_N_ELEMENTS (opts); o++) {
    GError *err = NULL;
    mixem_dataset *ds = mixem_dataset_read_csv (path, &opts[o], &err);
    if (!ds) {
      if (!err || strlen (err->message) > 4096)   /* messages are short (issue 18) */
        abort ();
      g_error_free (err);
      continue;
    }
    const size_t n = mixem_dataset_rows (ds), d = mixem_dataset_cols (ds);
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
      for (size_t j = 0; j < d; j++)
        sum += mixem_dataset_value (ds, i, j);
    const size_t rows[] = { n - 1, 0 };
    mixem_dataset *sub = mixem_dataset_subset (ds, rows, 2, NULL);
    mixem_dataset *sel = mixem_dataset_select (ds, NULL, NULL, NULL);
    g_free (mixem_dataset_cell_name (ds, n - 1, d - 1));
    (void) mixem_dataset_data (ds);
    mixem_dataset_free (sel);
    mixem_dataset_free (sub);
    mixem_dataset_free (ds);
    (void) sum;
  }
  return 0;
}
