/* fuzz_trace.c: libFuzzer target for the trace CSV reader of `mixem plot trace`
 * (mixem_trace_read_csv) and the picture drawn from what it reads (mixem_plot_trace, a small
 * PNG), where a huge iteration number once overflowed the tick computation (issue 18, item 5). */
#include <math.h>
#include <string.h>
#include "fuzz_util.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *path = fuzz_file (data, size, ".csv");
  static char *png;
  if (!png)
    png = g_strdup_printf ("%s/mixem-fuzz-%d.png", g_get_tmp_dir (), (int) getpid ());
  GError *err = NULL;
  GArray *tr = mixem_trace_read_csv (path, &err);
  if (!tr) {
    if (!err || strlen (err->message) > 4096)   /* messages are short (issue 18) */
      abort ();
    g_error_free (err);
    return 0;
  }
  const mixem_plot_options po = { 200, 150, "fuzz" };
  if (!mixem_plot_trace (png, (const mixem_iteration *) (void *) tr->data, tr->len, NAN, &po,
                         &err)) {
    if (!err || strlen (err->message) > 4096)
      abort ();
    g_error_free (err);
  }
  g_unlink (png);
  g_array_unref (tr);
  return 0;
}
