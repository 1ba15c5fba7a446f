/* check_dataset.c: the CSV reader and the dataset type: what is read, and every rejected input
 * with the file, line, row and column its message must name; atomic file writes. */
#define _GNU_SOURCE 1   /* symlink, mknod, lstat */
#include <locale.h>
#include <math.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <glib/gstdio.h>
#include "testutil.h"

static char *tmpdir;

static void
setup (void)
{
  tmpdir = test_tmpdir_new ("mixem-csv");
}

static void
teardown (void)
{
  test_tmpdir_remove (tmpdir);
}

/* Writes TEXT to a file called NAME in the temporary folder; returns its path. */
static char *
write_file (const char *name, const char *text)
{
  char *p = g_build_filename (tmpdir, name, NULL);
  ck_assert (g_file_set_contents (p, text, -1, NULL));
  return p;
}

static mixem_dataset *
read_text (const char *text, const mixem_csv_options *o, GError **err)
{
  char *p = write_file ("t.csv", text);
  mixem_dataset *ds = mixem_dataset_read_csv (p, o, err);
  g_free (p);
  return ds;
}

START_TEST (test_reads_header_comments_and_blank_lines)
{
  GError *err = NULL;
  mixem_dataset *ds = read_text ("# a comment\nx,y\n1,2.5\n\n  # another\n-3e2, 4\r\n", NULL,
                                 &err);
  ck_assert_no_error (err);
  ck_assert_uint_eq (mixem_dataset_rows (ds), 2);
  ck_assert_uint_eq (mixem_dataset_cols (ds), 2);
  ck_assert_str_eq (mixem_dataset_name (ds, 1), "y");
  const double *x = mixem_dataset_data (ds);
  ck_assert_double_eq (x[0], 1);
  ck_assert_double_eq (x[1], 2.5);
  ck_assert_double_eq (x[2], -300);
  ck_assert_double_eq (x[3], 4);
  ck_assert_ptr_null (mixem_dataset_weights (ds));
  ck_assert_double_eq (mixem_dataset_total_weight (ds), 2);
  mixem_dataset_free (ds);
}
END_TEST

START_TEST (test_columns_by_name_and_index_and_weights)
{
  GError *err = NULL;
  const char *cols[] = { "c", "1", NULL };
  mixem_csv_options o = { .columns = cols, .weights = "w" };
  mixem_dataset *ds = read_text ("a,b,c,w\n1,x,3,0.5\n4,y,6,2\n", &o, &err);
  ck_assert_no_error (err);
  ck_assert_uint_eq (mixem_dataset_cols (ds), 2);
  ck_assert_str_eq (mixem_dataset_name (ds, 0), "c");
  ck_assert_str_eq (mixem_dataset_name (ds, 1), "a");
  const double *x = mixem_dataset_data (ds);
  ck_assert_double_eq (x[0], 3);
  ck_assert_double_eq (x[1], 1);
  ck_assert_double_eq (x[2], 6);
  ck_assert_double_eq (mixem_dataset_weights (ds)[1], 2);
  ck_assert_double_eq (mixem_dataset_total_weight (ds), 2.5);
  ck_assert_int_eq (mixem_dataset_find_column (ds, "a"), 1);
  ck_assert_int_eq (mixem_dataset_find_column (ds, "2"), 1);
  ck_assert_int_eq (mixem_dataset_find_column (ds, "zz"), -1);
  mixem_dataset_free (ds);
}
END_TEST

START_TEST (test_other_delimiter_and_no_header)
{
  GError *err = NULL;
  mixem_csv_options o = { .delimiter = ';', .no_header = TRUE };
  mixem_dataset *ds = read_text ("1;2\n3;4\n", &o, &err);
  ck_assert_no_error (err);
  ck_assert_uint_eq (mixem_dataset_rows (ds), 2);
  ck_assert_str_eq (mixem_dataset_name (ds, 1), "2");
  ck_assert_double_eq (mixem_dataset_data (ds)[3], 4);
  mixem_dataset_free (ds);
}
END_TEST

START_TEST (test_numbers_ignore_the_locale)
{
  /* Under a locale whose decimal mark is ',', '2.5' must still read as 2.5. */
  const char *old = setlocale (LC_NUMERIC, NULL);
  char *saved = g_strdup (old);
  if (!setlocale (LC_NUMERIC, "de_DE.UTF-8") && !setlocale (LC_NUMERIC, "fr_FR.UTF-8"))
    fprintf (stderr, "note: no comma-decimal locale here; parsing checked in the C locale\n");
  GError *err = NULL;
  mixem_dataset *ds = read_text ("x\n2.5\n", NULL, &err);
  setlocale (LC_NUMERIC, saved);
  g_free (saved);
  ck_assert_no_error (err);
  ck_assert_double_eq (mixem_dataset_data (ds)[0], 2.5);
  mixem_dataset_free (ds);
}
END_TEST

/* The reader's fast path for plain decimals gives the very bits of g_ascii_strtod (correctly
 * rounded): random doubles of every scale written in several formats, hard cases near ties
 * (2^53 + 1 and neighbours), many digits, long exponents, signs, leading zeros. */
START_TEST (test_numbers_are_correctly_rounded)
{
  static const char *const fixed[] = {
    "0", "-0", "+0.000", "0.1", "-0.1", "1e-5", "1E+5", "5.", ".5", "-.5e1", "007.250",
    "9007199254740993", "9007199254740992.5", "9007199254740995", "18446744073709551615",
    "123456789012345678901", "0.30000000000000004", "2.2250738585072014e-308",
    "4.9406564584124654e-324", "1.7976931348623157e308", "1e27", "1e-27", "1e28", "1e-28",
    "3.4e-300", "1.5e300", "0.000000000000000000000000000001", "1e0000000000000000000001",
  };
  GRand *rng = g_rand_new_with_seed (20261126);
  GString *csv = g_string_new ("x\n");
  GPtrArray *cells = g_ptr_array_new_with_free_func (g_free);
  for (size_t i = 0; i < G_N_ELEMENTS (fixed); i++)
    g_ptr_array_add (cells, g_strdup (fixed[i]));
  static const char *const formats[] = { "%.17g", "%.16g", "%.15g", "%.6g", "%.3f", "%.9e" };
  for (int i = 0; i < 60000; i++) {
    const double v = (g_rand_double (rng) - 0.5) * pow (10.0, g_rand_int_range (rng, -40, 40));
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    g_ascii_formatd (buf, sizeof buf, formats[i % G_N_ELEMENTS (formats)], v);
    g_ptr_array_add (cells, g_strdup (buf));
  }
  for (guint i = 0; i < cells->len; i++)
    g_string_append_printf (csv, "%s\n", (char *) g_ptr_array_index (cells, i));
  GError *err = NULL;
  mixem_dataset *ds = read_text (csv->str, NULL, &err);
  ck_assert_no_error (err);
  ck_assert_uint_eq (mixem_dataset_rows (ds), cells->len);
  for (guint i = 0; i < cells->len; i++) {
    const double want = g_ascii_strtod (g_ptr_array_index (cells, i), NULL);
    const double got = mixem_dataset_value (ds, i, 0);
    if (memcmp (&want, &got, sizeof got) != 0)
      ck_abort_msg ("'%s': read %.17g, strtod %.17g", (char *) g_ptr_array_index (cells, i), got,
                    want);
  }
  mixem_dataset_free (ds);
  g_ptr_array_unref (cells);
  g_string_free (csv, TRUE);
  g_rand_free (rng);
}
END_TEST

/* Each bad input, and the words its message must hold. */
static const struct {
  const char *text, *weights, *column, *expect;
} bad[] = {
  { "x,y\n1,\n", NULL, NULL, "t.csv:2: row 1, column 'y': empty cell" },
  { "x,y\n1,2\n3,abc\n", NULL, NULL, "t.csv:3: row 2, column 'y': not a number ('abc')" },
  { "x,y\n1,2\n3,nan\n", NULL, NULL, "t.csv:3: row 2, column 'y': not a finite number" },
  { "x,y\n1,2\n# c\nInf,2\n", NULL, NULL, "t.csv:4: row 2, column 'x': not a finite number" },
  { "x,y\n1,2\n3\n", NULL, NULL, "t.csv:3: row 2 has 1 fields, but the header has 2" },
  { "x,y\n1,2,3\n", NULL, NULL, "t.csv:2: row 1 has 3 fields" },
  { "", NULL, NULL, "t.csv: the file is empty" },
  { "# only a comment\n\n", NULL, NULL, "t.csv: the file is empty" },
  { "x,y\n", NULL, NULL, "t.csv:1: a header but no data rows" },
  { "x,y\n1,2\n", NULL, "z", "t.csv: no column 'z'" },
  { "x,y\n1,2\n", NULL, "3", "t.csv: no column '3'" },
  { "x,w\n1,-2\n", "w", NULL, "t.csv:2: row 1, column 'w': negative weight" },
  { "x,w\n1,0\n", "w", NULL, "the row weights sum to zero" },
  { "x,w\n1,2\n", "v", NULL, "t.csv: no weight column 'v'" },
  { "x,,y\n1,2,3\n", NULL, NULL, "t.csv:1: column 2 has an empty name" },
  { "# c\nx,y,x\n1,2,3\n", NULL, NULL, "t.csv:2: columns 1 and 3 are both named 'x'" },
  { "a,b,c,b\n1,2,3,4\n", NULL, "a", "t.csv:1: columns 2 and 4 are both named 'b'" },
  /* Input quoted in a message: control bytes escaped, at most 60 characters and "...". */
  { "\x1b[2Jx,y\n1,a\tb\n", NULL, NULL, "column 'y': not a number ('a\\tb')" },
  { "\x1b[2Jx\x01,y\nzz,1\n", NULL, NULL, "column '\\x1b[2Jx\\x01': not a number ('zz')" },
  { "x,y\n1,2\n", NULL, "\x7fq", "t.csv: no column '\\x7fq'" },
};

START_TEST (test_bad_input_names_file_row_and_column)
{
  GError *err = NULL;
  const char *cols[] = { bad[_i].column, NULL };
  mixem_csv_options o = { .weights = bad[_i].weights, .columns = bad[_i].column ? cols : NULL };
  mixem_dataset *ds = read_text (bad[_i].text, &o, &err);
  ck_assert_ptr_null (ds);
  ck_assert_error (err, MIXEM_ERROR_DATA, bad[_i].expect);
}
END_TEST

/* Issue 18: a NUL byte ended the text early, and the rows after it were dropped silently. */
START_TEST (test_nul_byte_is_an_error_naming_the_line)
{
  GError *err = NULL;
  char *p = g_build_filename (tmpdir, "nul.csv", NULL);
  static const char text[] = "x,y\n1,2\n3,4\n5,6\n\0\n7,8\n9,10\n";
  ck_assert (g_file_set_contents (p, text, sizeof text - 1, NULL));
  ck_assert_ptr_null (mixem_dataset_read_csv (p, NULL, &err));
  ck_assert_error (err, MIXEM_ERROR_DATA, "nul.csv:5: a NUL byte");
  static const char mid[] = "x,y\n1,2\0junk\n3,4\n";
  ck_assert (g_file_set_contents (p, mid, sizeof mid - 1, NULL));
  ck_assert_ptr_null (mixem_dataset_read_csv (p, NULL, &err));
  ck_assert_error (err, MIXEM_ERROR_DATA, "nul.csv:2: a NUL byte");
  g_free (p);
}
END_TEST

/* Issue 18: a 10 MB cell made a 10 MB message. */
START_TEST (test_long_cells_are_cut_in_messages)
{
  GError *err = NULL;
  GString *t = g_string_new ("x,y\n1,2\n3,");
  for (int i = 0; i < 1000000; i++)
    g_string_append_c (t, 'a' + i % 26);
  g_string_append (t, "\n");
  ck_assert_ptr_null (read_text (t->str, NULL, &err));
  ck_assert_msg (err && strlen (err->message) < 200, "message of %zu bytes",
                 err ? strlen (err->message) : 0);
  ck_assert_error (err, MIXEM_ERROR_DATA,
                   "t.csv:3: row 2, column 'y': not a number ('abcdefghijklmnopqrstuvwxyzabcdefgh"
                   "ijklmnopqrstuvwxyzabcdefgh...')");
  g_string_free (t, TRUE);
  char *q = mixem_quote ("caf\xc3\xa9 \xff\\", -1);
  ck_assert_str_eq (q, "caf\xc3\xa9 \\xff\\\\");      /* printable UTF-8 is kept */
  g_free (q);
  q = mixem_quote ("\xc3\xa9\xc3\xa9", 3);
  ck_assert_str_eq (q, "\xc3\xa9\\xc3");
  g_free (q);
}
END_TEST

START_TEST (test_missing_file_is_an_io_error)
{
  GError *err = NULL;
  ck_assert_ptr_null (mixem_dataset_read_csv ("/nonexistent/x.csv", NULL, &err));
  ck_assert_error (err, MIXEM_ERROR_IO, "/nonexistent/x.csv");
}
END_TEST

START_TEST (test_memory_dataset_and_subset)
{
  GError *err = NULL;
  const double x[] = { 1, 2, 3, 4, 5, 6 }, w[] = { 1, 2, 3 };
  const char *names[] = { "a", "b" };
  mixem_dataset *ds = mixem_dataset_new (3, 2, x, names, w, &err);
  ck_assert_no_error (err);
  size_t rows[] = { 2, 0 };
  mixem_dataset *sub = mixem_dataset_subset (ds, rows, 2, &err);
  ck_assert_no_error (err);
  ck_assert_double_eq (mixem_dataset_data (sub)[0], 5);
  ck_assert_double_eq (mixem_dataset_data (sub)[3], 2);
  ck_assert_double_eq (mixem_dataset_total_weight (sub), 4);
  size_t out_of_range[] = { 3 };
  ck_assert_ptr_null (mixem_dataset_subset (ds, out_of_range, 1, &err));
  ck_assert_error (err, MIXEM_ERROR_OPTION, "row 4 is out of range");
  const double nanx[] = { 1, NAN };
  ck_assert_ptr_null (mixem_dataset_new (1, 2, nanx, names, NULL, &err));
  ck_assert_error (err, MIXEM_ERROR_DATA, "row 1, column 'b': value is not finite");
  const double negw[] = { -1, 1, 1 };
  ck_assert_ptr_null (mixem_dataset_new (3, 2, x, names, negw, &err));
  ck_assert_error (err, MIXEM_ERROR_DATA, "row 1: weight -1");
  mixem_dataset_free (sub);
  mixem_dataset_free (ds);
}
END_TEST

/* Whole numbers from 0 to 255 are held as bytes and widened by the block; anything else (a
 * fraction, a negative value, 256) keeps the doubles, and a block then points into them. */
/* mixem_dataset_row_cache's fill: each row's sum, and a count of the calls. */
static void
row_sums (const mixem_dataset *ds, double *out, gconstpointer user)
{
  int *calls = (int *) user;
  (*calls)++;
  for (size_t i = 0; i < mixem_dataset_rows (ds); i++)
    out[i] = mixem_dataset_value (ds, i, 0) + mixem_dataset_value (ds, i, 1);
}

START_TEST (test_row_cache_fills_once_per_key)
{
  GError *err = NULL;
  const double x[] = { 0, 1, 255, 3, 1, 0, 7, 1 };
  mixem_dataset *ds = mixem_dataset_new (4, 2, x, NULL, NULL, &err);
  ck_assert_no_error (err);
  int calls = 0, other = 0;
  const double *s = mixem_dataset_row_cache (ds, "sums", row_sums, &calls);
  ck_assert_int_eq (calls, 1);
  for (int i = 0; i < 4; i++)
    ck_assert_double_eq (s[i], x[2 * i] + x[2 * i + 1]);
  ck_assert_ptr_eq (mixem_dataset_row_cache (ds, "sums", row_sums, &calls), s);   /* kept */
  ck_assert_int_eq (calls, 1);
  const double *t = mixem_dataset_row_cache (ds, "other", row_sums, &other);   /* its own */
  ck_assert_ptr_ne (t, s);
  ck_assert_int_eq (other, 1);
  size_t rows[] = { 3, 2 };
  mixem_dataset *sub = mixem_dataset_subset (ds, rows, 2, &err);   /* a new dataset: refilled */
  ck_assert_no_error (err);
  ck_assert_double_eq (mixem_dataset_row_cache (sub, "sums", row_sums, &calls)[0], 8);
  ck_assert_int_eq (calls, 2);
  mixem_dataset_free (sub);
  mixem_dataset_free (ds);
}
END_TEST

START_TEST (test_bytes_storage_and_blocks)
{
  GError *err = NULL;
  const double x[] = { 0, 1, 255, 3, 1, 0, 7, 1 };
  const char *names[] = { "a", "b" };
  mixem_dataset *ds = mixem_dataset_new (4, 2, x, names, NULL, &err);
  ck_assert_no_error (err);
  ck_assert_str_eq (mixem_dataset_storage (ds), "uint8");
  double buf[4] = { -1, -1, -1, -1 };
  const double *b = mixem_dataset_block (ds, 1, 2, buf);
  ck_assert_ptr_eq (b, buf);
  for (int i = 0; i < 4; i++)
    ck_assert_double_eq (buf[i], x[2 + i]);
  ck_assert_double_eq (mixem_dataset_value (ds, 3, 0), 7);
  const double *all = mixem_dataset_data (ds);
  ck_assert (memcmp (all, x, sizeof x) == 0);
  ck_assert_ptr_eq (mixem_dataset_data (ds), all);      /* widened once, then kept */
  size_t rows[] = { 3, 2 };
  mixem_dataset *sub = mixem_dataset_subset (ds, rows, 2, &err);
  ck_assert_no_error (err);
  ck_assert_str_eq (mixem_dataset_storage (sub), "uint8");
  ck_assert_double_eq (mixem_dataset_value (sub, 0, 0), 7);
  const char *cols[] = { "b", NULL };
  mixem_dataset *sel = mixem_dataset_select (ds, cols, "a", &err);
  ck_assert_no_error (err);
  ck_assert_str_eq (mixem_dataset_storage (sel), "uint8");
  ck_assert_double_eq (mixem_dataset_value (sel, 1, 0), 3);
  ck_assert_double_eq (mixem_dataset_total_weight (sel), 263);
  mixem_dataset_free (sel);
  mixem_dataset_free (sub);
  mixem_dataset_free (ds);

  const double other[][2] = { { 0, 0.5 }, { 0, -1 }, { 0, 256 } };
  for (int t = 0; t < 3; t++) {
    ds = mixem_dataset_new (1, 2, other[t], names, NULL, &err);
    ck_assert_no_error (err);
    ck_assert_str_eq (mixem_dataset_storage (ds), "float64");
    ck_assert_ptr_eq (mixem_dataset_block (ds, 0, 1, buf), mixem_dataset_data (ds));
    ck_assert_double_eq (mixem_dataset_value (ds, 0, 1), other[t][1]);
    mixem_dataset_free (ds);
  }
  ds = read_text ("x,y\n0,1\n1,1\n", NULL, &err);
  ck_assert_no_error (err);
  ck_assert_str_eq (mixem_dataset_storage (ds), "uint8");
  mixem_dataset_free (ds);
}
END_TEST

/* ---- atomic writes (src/fileio.c) ---- */

static gint
by_name (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* The names in the temporary folder, sorted, joined by spaces. */
static char *
listing (void)
{
  GDir *d = g_dir_open (tmpdir, 0, NULL);
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  const char *fn;
  while ((fn = g_dir_read_name (d)))
    g_ptr_array_add (names, g_strdup (fn));
  g_dir_close (d);
  g_ptr_array_sort (names, by_name);
  g_ptr_array_add (names, NULL);
  char *s = g_strjoinv (" ", (char **) names->pdata);
  g_ptr_array_free (names, TRUE);
  return s;
}

static void
assert_contents (const char *path, const char *want)
{
  char *text = NULL;
  ck_assert_msg (g_file_get_contents (path, &text, NULL, NULL), "%s unreadable", path);
  ck_assert_str_eq (text, want);
  g_free (text);
}

/* A regular file is replaced, with no temporary left, both with O_TMPFILE and with the named
 * temporary of the fallback; a symbolic link stays a link to the replaced file; a hard link is
 * broken, as documented. */
START_TEST (test_atomic_write_files_and_links)
{
  GError *err = NULL;
  if (_i == 1)
    g_setenv ("MIXEM_TEST_NO_O_TMPFILE", "1", TRUE);
  char *f = write_file ("f.txt", "old\n");
  char *lnk = g_build_filename (tmpdir, "link.txt", NULL);
  char *hard = g_build_filename (tmpdir, "hard.txt", NULL);
  ck_assert_int_eq (symlink ("f.txt", lnk), 0);
  ck_assert_int_eq (link (f, hard), 0);
  ck_assert (mixem_write_file_atomic (lnk, "new\n", -1, &err));
  ck_assert_no_error (err);
  GStatBuf st;
  ck_assert_int_eq (g_lstat (lnk, &st), 0);
  ck_assert_msg (S_ISLNK (st.st_mode), "the symbolic link was replaced by a file");
  assert_contents (f, "new\n");
  assert_contents (hard, "old\n");     /* the replace makes a new file: the hard link keeps the old */
  char *s = listing ();
  ck_assert_str_eq (s, "f.txt hard.txt link.txt");
  g_free (s);
  /* A link to a file not there yet creates the file, and stays a link. */
  char *dang = g_build_filename (tmpdir, "dangling.txt", NULL), *made = g_build_filename (tmpdir, "made.txt", NULL);
  ck_assert_int_eq (symlink ("made.txt", dang), 0);
  ck_assert (mixem_write_file_atomic (dang, "made\n", -1, &err));
  ck_assert_no_error (err);
  ck_assert_int_eq (g_lstat (dang, &st), 0);
  ck_assert (S_ISLNK (st.st_mode));
  assert_contents (made, "made\n");
  /* A folder is refused, and a missing folder named. */
  ck_assert (!mixem_write_file_atomic (tmpdir, "x", -1, &err));
  ck_assert_error (err, MIXEM_ERROR_IO, "Is a directory");
  char *nodir = g_build_filename (tmpdir, "nodir", "x.txt", NULL);
  ck_assert (!mixem_write_file_atomic (nodir, "x", -1, &err));
  ck_assert_error (err, MIXEM_ERROR_IO, "nodir");
  s = listing ();
  ck_assert_str_eq (s, "dangling.txt f.txt hard.txt link.txt made.txt");
  g_free (s);
  g_free (nodir);
  g_free (dang);
  g_free (made);
  g_free (f);
  g_free (lnk);
  g_free (hard);
}
END_TEST

/* A target that is not a regular file is written in place: a FIFO stays a FIFO and gets the
 * bytes; copies of /dev/null and /dev/full (made with mknod, as root only) stay devices, and the
 * full one's write error is reported. */
START_TEST (test_atomic_write_through_fifos_and_devices)
{
  GError *err = NULL;
  char *fifo = g_build_filename (tmpdir, "fifo", NULL);
  ck_assert_int_eq (mkfifo (fifo, 0600), 0);
  const int rd = open (fifo, O_RDWR | O_NONBLOCK);   /* a reader, so the writer's open goes on */
  ck_assert_int_ge (rd, 0);
  ck_assert (mixem_write_file_atomic (fifo, "through\n", -1, &err));
  ck_assert_no_error (err);
  char buf[32] = { 0 };
  ck_assert_int_eq (read (rd, buf, sizeof buf - 1), 8);
  ck_assert_str_eq (buf, "through\n");
  close (rd);
  GStatBuf st;
  ck_assert_int_eq (g_lstat (fifo, &st), 0);
  ck_assert (S_ISFIFO (st.st_mode));
  char *null = g_build_filename (tmpdir, "null", NULL), *full = g_build_filename (tmpdir, "full", NULL);
  if (mknod (null, S_IFCHR | 0666, makedev (1, 3)) == 0
      && mknod (full, S_IFCHR | 0666, makedev (1, 7)) == 0) {
    ck_assert (mixem_write_file_atomic (null, "gone\n", -1, &err));
    ck_assert_no_error (err);
    ck_assert (!mixem_write_file_atomic (full, "gone\n", -1, &err));
    ck_assert_error (err, MIXEM_ERROR_IO, "full: cannot write: ");
    ck_assert_int_eq (g_lstat (null, &st), 0);
    ck_assert (S_ISCHR (st.st_mode));
    ck_assert_int_eq (g_lstat (full, &st), 0);
    ck_assert (S_ISCHR (st.st_mode));
  }
  char *s = listing ();
  ck_assert_msg (g_str_has_prefix (s, "fifo") && !strchr (s, '.'), "left: %s", s);
  g_free (s);
  g_free (null);
  g_free (full);
  g_free (fifo);
}
END_TEST

/* Files written together: a failure in any of them leaves all as they were. */
START_TEST (test_atomic_write_files_together)
{
  GError *err = NULL;
  char *a = write_file ("a.txt", "old a\n"), *b = g_build_filename (tmpdir, "b.txt", NULL);
  char *c = g_build_filename (tmpdir, "nodir", "c.txt", NULL);
  const char *paths[] = { a, b, c }, *data[] = { "new a\n", "new b\n", "c\n" };
  ck_assert (!mixem_write_files_atomic (3, paths, data, NULL, &err));
  ck_assert_error (err, MIXEM_ERROR_IO, "c.txt");
  assert_contents (a, "old a\n");
  char *s = listing ();
  ck_assert_str_eq (s, "a.txt");
  g_free (s);
  ck_assert (mixem_write_files_atomic (2, paths, data, NULL, &err));
  ck_assert_no_error (err);
  assert_contents (a, "new a\n");
  assert_contents (b, "new b\n");
  s = listing ();
  ck_assert_str_eq (s, "a.txt b.txt");
  g_free (s);
  g_free (a);
  g_free (b);
  g_free (c);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("dataset");
  TCase *tc = tcase_create ("csv");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_reads_header_comments_and_blank_lines);
  tcase_add_test (tc, test_columns_by_name_and_index_and_weights);
  tcase_add_test (tc, test_other_delimiter_and_no_header);
  tcase_add_test (tc, test_numbers_ignore_the_locale);
  tcase_add_test (tc, test_numbers_are_correctly_rounded);
  tcase_add_loop_test (tc, test_bad_input_names_file_row_and_column, 0, G_N_ELEMENTS (bad));
  tcase_add_test (tc, test_nul_byte_is_an_error_naming_the_line);
  tcase_add_test (tc, test_long_cells_are_cut_in_messages);
  tcase_add_test (tc, test_missing_file_is_an_io_error);
  tcase_add_test (tc, test_memory_dataset_and_subset);
  tcase_add_test (tc, test_bytes_storage_and_blocks);
  tcase_add_test (tc, test_row_cache_fills_once_per_key);
  tcase_add_loop_test (tc, test_atomic_write_files_and_links, 0, 2);
  tcase_add_test (tc, test_atomic_write_through_fifos_and_devices);
  tcase_add_test (tc, test_atomic_write_files_together);
  suite_add_tcase (s, tc);
  return test_run (s);
}
