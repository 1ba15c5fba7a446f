/* fuzz_util.h: what the libFuzzer targets share: a temporary file that each input is written to
 * (the CSV and .npy readers take a path), removed at exit. */
#ifndef MIXEM_FUZZ_UTIL_H
#define MIXEM_FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <gsl/gsl_errno.h>
#include <mixem/mixem.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static char *fuzz_path;

static void
fuzz_remove (void)
{
  if (fuzz_path)
    g_unlink (fuzz_path);
}

/* Writes the input to this process's temporary file (suffix SUFFIX) and returns its path. */
static inline const char *
fuzz_file (const uint8_t *data, size_t size, const char *suffix)
{
  if (!fuzz_path) {
    gsl_set_error_handler_off ();
    fuzz_path = g_strdup_printf ("%s/mixem-fuzz-%d%s", g_get_tmp_dir (), (int) getpid (), suffix);
    atexit (fuzz_remove);
  }
  /* Plain writes: g_file_set_contents would fsync every input. */
  FILE *f = fopen (fuzz_path, "wb");
  if (!f || fwrite (data, 1, size, f) != size || fclose (f) != 0)
    abort ();
  return fuzz_path;
}

#endif
