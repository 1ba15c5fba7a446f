/* dataset.c: the dataset type and its CSV reader.  Numbers are parsed with g_ascii_strtod, which
 * ignores the locale; every rejected cell is reported with file, line, row and column. */
#include <config.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <mixem/dataset.h>
#include <mixem/error.h>

struct mixem_dataset {
  size_t n, d;
  double *x;        /* n*d, row-major */
  double *w;        /* n, or NULL */
  double total_w;
  char **names;     /* d + 1, NULL-terminated */
  char *source;     /* file name or "<memory>" */
  guint32 *lines;   /* file line of each row, or NULL */
};

static mixem_dataset *
dataset_alloc (size_t n, size_t d, const char *source)
{
  mixem_dataset *ds = g_new0 (mixem_dataset, 1);
  ds->n = n;
  ds->d = d;
  ds->x = g_new (double, n * d > 0 ? n * d : 1);
  ds->names = g_new0 (char *, d + 1);
  ds->source = g_strdup (source);
  ds->total_w = (double) n;
  return ds;
}

void
mixem_dataset_free (mixem_dataset *ds)
{
  if (!ds)
    return;
  g_free (ds->x);
  g_free (ds->w);
  g_strfreev (ds->names);
  g_free (ds->source);
  g_free (ds->lines);
  g_free (ds);
}

size_t mixem_dataset_rows (const mixem_dataset *ds) { return ds->n; }
size_t mixem_dataset_cols (const mixem_dataset *ds) { return ds->d; }
const double *mixem_dataset_data (const mixem_dataset *ds) { return ds->x; }
const double *mixem_dataset_weights (const mixem_dataset *ds) { return ds->w; }
double mixem_dataset_total_weight (const mixem_dataset *ds) { return ds->total_w; }
const char *mixem_dataset_source (const mixem_dataset *ds) { return ds->source; }
const char *const *mixem_dataset_names (const mixem_dataset *ds)
{
  return (const char *const *) ds->names;
}

const char *
mixem_dataset_name (const mixem_dataset *ds, size_t col)
{
  g_return_val_if_fail (col < ds->d, NULL);
  return ds->names[col];
}

/* A name matches first; a string of digits is then a 1-based index. */
static int
find_name (char *const *names, size_t d, const char *name)
{
  for (size_t j = 0; j < d; j++)
    if (strcmp (names[j], name) == 0)
      return (int) j;
  if (*name && strspn (name, "0123456789") == strlen (name)) {
    guint64 v = g_ascii_strtoull (name, NULL, 10);
    if (v >= 1 && v <= d)
      return (int) (v - 1);
  }
  return -1;
}

int
mixem_dataset_find_column (const mixem_dataset *ds, const char *name)
{
  return find_name (ds->names, ds->d, name);
}

char *
mixem_dataset_cell_name (const mixem_dataset *ds, size_t row, size_t col)
{
  if (col == SIZE_MAX)
    return ds->lines ? g_strdup_printf ("%s:%u: row %zu", ds->source, ds->lines[row], row + 1)
                     : g_strdup_printf ("%s: row %zu", ds->source, row + 1);
  const char *cname = col < ds->d ? ds->names[col] : "?";
  if (ds->lines)
    return g_strdup_printf ("%s:%u: row %zu, column '%s'", ds->source, ds->lines[row], row + 1,
                            cname);
  return g_strdup_printf ("%s: row %zu, column '%s'", ds->source, row + 1, cname);
}

static gboolean
set_weights (mixem_dataset *ds, const double *w, GError **error)
{
  double total = 0.0;
  for (size_t i = 0; i < ds->n; i++) {
    if (!isfinite (w[i]) || w[i] < 0.0) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA,
                   "%s: row %zu: weight %g is not a finite non-negative number", ds->source,
                   i + 1, w[i]);
      return FALSE;
    }
    total += w[i];
  }
  if (ds->n > 0 && !(total > 0.0)) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: the row weights sum to zero",
                 ds->source);
    return FALSE;
  }
  ds->w = g_memdup2 (w, ds->n * sizeof (double));
  ds->total_w = total;
  return TRUE;
}

mixem_dataset *
mixem_dataset_new (size_t n, size_t d, const double *x, const char *const *names,
                   const double *weights, GError **error)
{
  if (d == 0) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "<memory>: a dataset needs a column");
    return NULL;
  }
  mixem_dataset *ds = dataset_alloc (n, d, "<memory>");
  for (size_t j = 0; j < d; j++)
    ds->names[j] = names ? g_strdup (names[j]) : g_strdup_printf ("%zu", j + 1);
  for (size_t i = 0; i < n * d; i++) {
    if (!isfinite (x[i])) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA,
                   "<memory>: row %zu, column '%s': value is not finite", i / d + 1,
                   ds->names[i % d]);
      mixem_dataset_free (ds);
      return NULL;
    }
    ds->x[i] = x[i];
  }
  if (weights && !set_weights (ds, weights, error)) {
    mixem_dataset_free (ds);
    return NULL;
  }
  return ds;
}

mixem_dataset *
mixem_dataset_subset (const mixem_dataset *ds, const size_t *rows, size_t m, GError **error)
{
  mixem_dataset *out = dataset_alloc (m, ds->d, ds->source);
  for (size_t j = 0; j < ds->d; j++)
    out->names[j] = g_strdup (ds->names[j]);
  if (ds->w)
    out->w = g_new (double, m > 0 ? m : 1);
  if (ds->lines)
    out->lines = g_new (guint32, m > 0 ? m : 1);
  out->total_w = 0.0;
  for (size_t r = 0; r < m; r++) {
    if (rows[r] >= ds->n) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                   "row %zu is out of range (the dataset has %zu rows)", rows[r] + 1, ds->n);
      mixem_dataset_free (out);
      return NULL;
    }
    memcpy (out->x + r * ds->d, ds->x + rows[r] * ds->d, ds->d * sizeof (double));
    if (ds->w)
      out->w[r] = ds->w[rows[r]];
    if (ds->lines)
      out->lines[r] = ds->lines[rows[r]];
    out->total_w += ds->w ? ds->w[rows[r]] : 1.0;
  }
  return out;
}

mixem_dataset *
mixem_dataset_select (const mixem_dataset *ds, const char *const *columns, const char *weights,
                      GError **error)
{
  int wcol = -1;
  if (weights && (wcol = find_name (ds->names, ds->d, weights)) < 0) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: no weight column '%s'", ds->source,
                 weights);
    return NULL;
  }
  size_t m = 0, cap = columns ? g_strv_length ((char **) columns) : ds->d;
  int *sel = g_new (int, cap > 0 ? cap : 1);
  for (size_t c = 0; c < cap; c++) {
    int j = columns ? find_name (ds->names, ds->d, columns[c]) : (int) c;
    if (j < 0) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: no column '%s'", ds->source,
                   columns[c]);
      g_free (sel);
      return NULL;
    }
    if (columns || j != wcol)
      sel[m++] = j;
  }
  if (m == 0) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: no data columns selected",
                 ds->source);
    g_free (sel);
    return NULL;
  }
  mixem_dataset *out = dataset_alloc (ds->n, m, ds->source);
  for (size_t c = 0; c < m; c++)
    out->names[c] = g_strdup (ds->names[sel[c]]);
  for (size_t i = 0; i < ds->n; i++)
    for (size_t c = 0; c < m; c++)
      out->x[i * m + c] = ds->x[i * ds->d + sel[c]];
  if (ds->lines)
    out->lines = g_memdup2 (ds->lines, ds->n * sizeof (guint32));
  g_free (sel);
  if (wcol >= 0) {
    double *w = g_new (double, ds->n > 0 ? ds->n : 1);
    for (size_t i = 0; i < ds->n; i++)
      w[i] = ds->x[i * ds->d + wcol];
    gboolean ok = set_weights (out, w, error);
    g_free (w);
    if (!ok) {
      mixem_dataset_free (out);
      return NULL;
    }
  } else if (ds->w) {
    out->w = g_memdup2 (ds->w, ds->n * sizeof (double));
    out->total_w = ds->total_w;
  }
  return out;
}

/* ---- CSV ---------------------------------------------------------------------------------- */

/* Splits LINE in place at DELIM; trims blanks and one pair of surrounding double quotes. */
static GPtrArray *
split_fields (char *line, char delim)
{
  GPtrArray *f = g_ptr_array_new ();
  char *p = line;
  for (;;) {
    char *end = strchr (p, delim);
    if (end)
      *end = '\0';
    char *s = g_strstrip (p);
    size_t len = strlen (s);
    if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
      s[len - 1] = '\0';
      s++;
    }
    g_ptr_array_add (f, s);
    if (!end)
      break;
    p = end + 1;
  }
  return f;
}

static gboolean
is_skipped (const char *line)
{
  while (*line == ' ' || *line == '\t' || *line == '\r')
    line++;
  return *line == '\0' || *line == '#';
}

/* Parses one cell; a message naming the cell on failure. */
static gboolean
parse_cell (const char *s, double *out, const char *path, size_t line, size_t row,
            const char *col, GError **error)
{
  const char *why = NULL;
  char *end = NULL;
  if (*s == '\0')
    why = "empty cell";
  else {
    *out = g_ascii_strtod (s, &end);
    if (end == s || *end != '\0')
      why = "not a number";
    else if (!isfinite (*out))
      why = "not a finite number";
  }
  if (why) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s:%zu: row %zu, column '%s': %s ('%s')",
                 path, line, row, col, why, s);
    return FALSE;
  }
  return TRUE;
}

mixem_dataset *
mixem_dataset_read_csv (const char *path, const mixem_csv_options *opts, GError **error)
{
  static const mixem_csv_options defaults = { 0 };
  if (!opts)
    opts = &defaults;
  char delim = opts->delimiter ? opts->delimiter : ',';
  char *text = NULL;
  GError *ferr = NULL;
  if (!g_file_get_contents (path, &text, NULL, &ferr)) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_IO, "%s: %s", path, ferr->message);
    g_error_free (ferr);
    return NULL;
  }

  char **lines = g_strsplit (text, "\n", -1);
  g_free (text);
  mixem_dataset *ds = NULL;
  char **names = NULL;       /* all column names of the file */
  size_t ncols = 0, header_line = 0;
  int *sel = NULL, wcol = -1;
  size_t nsel = 0;
  GArray *x = g_array_new (FALSE, FALSE, sizeof (double));
  GArray *w = g_array_new (FALSE, FALSE, sizeof (double));
  GArray *lno = g_array_new (FALSE, FALSE, sizeof (guint32));
  size_t row = 0;

  for (size_t li = 0; lines[li]; li++) {
    char *line = lines[li];
    size_t len = strlen (line);
    if (len > 0 && line[len - 1] == '\r')
      line[len - 1] = '\0';
    if (is_skipped (line))
      continue;
    GPtrArray *f = split_fields (line, delim);

    if (!names) {
      /* First non-comment line: the header, or (no_header) the first row's shape. */
      ncols = f->len;
      header_line = li + 1;
      names = g_new0 (char *, ncols + 1);
      for (size_t j = 0; j < ncols; j++)
        names[j] = opts->no_header ? g_strdup_printf ("%zu", j + 1)
                                   : g_strdup (g_ptr_array_index (f, j));
      if (!opts->no_header)
        for (size_t j = 0; j < ncols; j++)
          if (names[j][0] == '\0') {
            g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA,
                         "%s:%zu: column %zu has an empty name in the header", path, li + 1,
                         j + 1);
            g_ptr_array_free (f, TRUE);
            goto done;
          }
      if (opts->weights) {
        wcol = find_name (names, ncols, opts->weights);
        if (wcol < 0) {
          g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: no weight column '%s'", path,
                       opts->weights);
          g_ptr_array_free (f, TRUE);
          goto done;
        }
      }
      sel = g_new (int, ncols + (opts->columns ? g_strv_length ((char **) opts->columns) : 0));
      if (opts->columns) {
        for (size_t c = 0; opts->columns[c]; c++) {
          int j = find_name (names, ncols, opts->columns[c]);
          if (j < 0) {
            g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: no column '%s'", path,
                         opts->columns[c]);
            g_ptr_array_free (f, TRUE);
            goto done;
          }
          sel[nsel++] = j;
        }
      } else {
        for (size_t j = 0; j < ncols; j++)
          if ((int) j != wcol)
            sel[nsel++] = (int) j;
      }
      if (nsel == 0) {
        g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: no data columns selected", path);
        g_ptr_array_free (f, TRUE);
        goto done;
      }
      if (!opts->no_header) {
        g_ptr_array_free (f, TRUE);
        continue;
      }
    }

    row++;
    if (f->len != ncols) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA,
                   "%s:%zu: row %zu has %u fields, but the %s has %zu", path, li + 1, row,
                   f->len, opts->no_header ? "first row" : "header", ncols);
      g_ptr_array_free (f, TRUE);
      goto done;
    }
    for (size_t c = 0; c < nsel; c++) {
      double v;
      if (!parse_cell (g_ptr_array_index (f, sel[c]), &v, path, li + 1, row, names[sel[c]],
                       error)) {
        g_ptr_array_free (f, TRUE);
        goto done;
      }
      g_array_append_val (x, v);
    }
    if (wcol >= 0) {
      double v;
      if (!parse_cell (g_ptr_array_index (f, wcol), &v, path, li + 1, row, names[wcol], error)) {
        g_ptr_array_free (f, TRUE);
        goto done;
      }
      if (v < 0) {
        g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA,
                     "%s:%zu: row %zu, column '%s': negative weight (%g)", path, li + 1, row,
                     names[wcol], v);
        g_ptr_array_free (f, TRUE);
        goto done;
      }
      g_array_append_val (w, v);
    }
    guint32 l32 = (guint32) (li + 1);
    g_array_append_val (lno, l32);
    g_ptr_array_free (f, TRUE);
  }

  if (!names) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: the file is empty", path);
    goto done;
  }
  if (row == 0) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s:%zu: a header but no data rows",
                 path, header_line);
    goto done;
  }

  ds = dataset_alloc (row, nsel, path);
  memcpy (ds->x, x->data, row * nsel * sizeof (double));
  for (size_t c = 0; c < nsel; c++)
    ds->names[c] = g_strdup (names[sel[c]]);
  ds->lines = (guint32 *) g_array_steal (lno, NULL);
  if (wcol >= 0 && !set_weights (ds, (double *) w->data, error)) {
    mixem_dataset_free (ds);
    ds = NULL;
    goto done;
  }

done:
  g_strfreev (lines);
  g_strfreev (names);
  g_free (sel);
  g_array_free (x, TRUE);
  g_array_free (w, TRUE);
  g_array_free (lno, TRUE);
  return ds;
}
