/* replay.c: runs a fuzz target over every file of its corpus (tests/fuzz/corpus/NAME), once each,
 * without libFuzzer: the regression test of make check (under ASan in the CI's sanitizer build).
 * NAME comes from FUZZ_CORPUS; extra arguments are more files or folders to run. */
#include <stdint.h>
#include <stdio.h>
#include <glib.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static int
run_path (const char *path, int *count)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR)) {
    GDir *dir = g_dir_open (path, 0, NULL);
    if (!dir)
      return 1;
    GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
    const char *fn;
    while ((fn = g_dir_read_name (dir)))
      g_ptr_array_add (names, g_build_filename (path, fn, NULL));
    g_dir_close (dir);
    int status = 0;
    for (guint i = 0; i < names->len; i++)
      status |= run_path (g_ptr_array_index (names, i), count);
    g_ptr_array_unref (names);
    return status;
  }
  char *data;
  gsize len;
  if (!g_file_get_contents (path, &data, &len, NULL)) {
    fprintf (stderr, "replay: cannot read %s\n", path);
    return 1;
  }
  LLVMFuzzerTestOneInput ((const uint8_t *) data, len);
  g_free (data);
  ++*count;
  return 0;
}

int
main (int argc, char **argv)
{
  const char *top = g_getenv ("MIXEM_TEST_SRCDIR");
  char *corpus = g_build_filename (top ? top : ".", "tests", "fuzz", "corpus", FUZZ_CORPUS, NULL);
  int count = 0, status = run_path (corpus, &count);
  for (int i = 1; i < argc; i++)
    status |= run_path (argv[i], &count);
  printf ("replay %s: %d inputs\n", FUZZ_CORPUS, count);
  g_free (corpus);
  return status || count == 0;
}
