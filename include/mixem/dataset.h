/* mixem/dataset.h: N rows by D numeric columns, with column names and optional row weights.
 * Rows are stored row-major in one block of doubles; a row of weight w counts as w copies. */
#ifndef MIXEM_DATASET_H
#define MIXEM_DATASET_H

#include <stddef.h>
#include <glib.h>

G_BEGIN_DECLS

typedef struct mixem_dataset mixem_dataset;

/* How to read a CSV file.  Zero-initialise, then set what differs from the defaults. */
typedef struct {
  char delimiter;              /* field separator; 0 means ',' */
  gboolean no_header;          /* TRUE: the first line is data; columns are named "1", "2", ... */
  const char *const *columns;  /* NULL-terminated names or 1-based indices ("3"); NULL: all */
  const char *weights;         /* name or 1-based index of a row-weight column; NULL: none */
} mixem_csv_options;

/* Reads PATH.  Lines whose first non-blank character is '#' and blank lines are skipped.
 * Numbers are parsed the same way in every locale.  Empty, non-numeric, NaN or infinite cells,
 * ragged rows, unknown columns, negative weights, an empty or missing file: a MIXEM_ERROR
 * naming the file, line, row and column. */
mixem_dataset *mixem_dataset_read_csv (const char *path, const mixem_csv_options *opts,
                                       GError **error);

/* A dataset from memory: X is N*D row-major, copied.  NAMES may be NULL ("1", "2", ...).
 * WEIGHTS may be NULL (all 1).  Non-finite values and negative weights are errors. */
mixem_dataset *mixem_dataset_new (size_t n, size_t d, const double *x,
                                  const char *const *names, const double *weights,
                                  GError **error);

/* A new dataset holding the rows ROWS[0..m-1] (0-based) of DS, in that order. */
mixem_dataset *mixem_dataset_subset (const mixem_dataset *ds, const size_t *rows, size_t m,
                                     GError **error);

/* A new dataset of DS's COLUMNS (NULL-terminated names or 1-based indices; NULL: all but the
 * weight column), with row weights taken from column WEIGHTS (NULL: DS's own weights). */
mixem_dataset *mixem_dataset_select (const mixem_dataset *ds, const char *const *columns,
                                     const char *weights, GError **error);

void mixem_dataset_free (mixem_dataset *ds);   /* accepts NULL */

size_t mixem_dataset_rows (const mixem_dataset *ds);
size_t mixem_dataset_cols (const mixem_dataset *ds);
const double *mixem_dataset_data (const mixem_dataset *ds);     /* N*D, row-major */
const double *mixem_dataset_weights (const mixem_dataset *ds);  /* N values, or NULL if unweighted */
double mixem_dataset_total_weight (const mixem_dataset *ds);    /* sum of weights (N if none) */
const char *mixem_dataset_name (const mixem_dataset *ds, size_t col);  /* column name */
const char *const *mixem_dataset_names (const mixem_dataset *ds);   /* D names, NULL-terminated */
const char *mixem_dataset_source (const mixem_dataset *ds);    /* file name, or "<memory>" */

/* Index of the column called NAME, or of the 1-based index NAME ("2"); -1 if none. */
int mixem_dataset_find_column (const mixem_dataset *ds, const char *name);

/* "FILE:LINE: row R, column 'NAME'" for a message about cell (ROW, COL), both 0-based; with
 * COL = SIZE_MAX, "FILE:LINE: row R".  Free with g_free. */
char *mixem_dataset_cell_name (const mixem_dataset *ds, size_t row, size_t col);

G_END_DECLS

#endif
