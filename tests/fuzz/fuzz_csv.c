/* fuzz_csv.c: libFuzzer target for the CSV reader (mixem_dataset_read_csv), with and without a
 * header, and the dataset calls that follow a read (select, subset, values, cell names); and the
 * two share readers (the parts of 1 to 7 ranks by byte ranges, read in one process, and a shard's
 * pieces), which must read every file the whole reader reads, to the same rows. */
#include <stdio.h>
#include <string.h>
#include <mixem/parallel.h>
#include "fuzz_util.h"
#include "../../src/comm.h"

/* The rows of SHARE must be DS's rows from AT on, value for value; AT moves past them. */
static void
same_rows (const mixem_dataset *ds, mixem_dataset *share, GError *err, size_t *at)
{
  if (!share) {   /* the whole reader read it: a share of it must read too */
    fprintf (stderr, "a share failed: %s\n", err ? err->message : "(no message)");
    abort ();
  }
  const size_t n = mixem_dataset_rows (share), d = mixem_dataset_cols (ds);
  if (*at + n > mixem_dataset_rows (ds) || mixem_dataset_cols (share) != d)
    abort ();
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < d; j++) {
      const double a = mixem_dataset_value (ds, *at + i, j), b = mixem_dataset_value (share, i, j);
      if (memcmp (&a, &b, sizeof a) != 0)
        abort ();
    }
  *at += n;
  mixem_dataset_free (share);
}

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
    /* The parts of 1 to 7 ranks (byte ranges; chunks of 1 row), each rank's rows in order. */
    GError *e2 = NULL;
    for (int np = 1; np <= 7 && !opts[o].weights; np++) {
      size_t at = 0;
      for (int me = 0; me < np; me++)
        same_rows (ds, mixem_dataset_read_csv_as_rank (path, &opts[o], 1, np, me, &e2), e2, &at);
      if (at != mixem_dataset_rows (ds))
        abort ();
    }
    const char *const shards[] = { path, NULL };
    size_t at = 0;
    same_rows (ds, mixem_dataset_read_shards (shards, &opts[o], FALSE, 64, &e2), e2, &at);
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
