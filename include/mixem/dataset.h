/* mixem/dataset.h: N rows by D numeric columns, with column names and optional row weights.
 * A row of weight w counts as w copies.  Rows are stored row-major: as one byte per value when
 * every value is a whole number from 0 to 255 (binary data, small counts: 8 times smaller), else
 * as doubles, which a float64 .npy file provides through a memory map.  Code that reads the values
 * takes them a block of rows at a time with mixem_dataset_block, widened to doubles if need be. */
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
  /* Categorical columns (see mixem_dataset_levels).  Both NULL/FALSE: every cell must be a
   * number, as before. */
  const char *const *categorical;  /* NULL-terminated names or 1-based indices of columns read
                                      as level names, whatever their text ("1" is a name too) */
  gboolean text_levels;        /* TRUE: a column with a cell that is not a number is read as
                                  level names as well */
  /* (appended) Missing values.  With ALLOW_MISSING, a cell whose whole text (after trimming) is
   * one of MISSING (NULL-terminated; NULL: "", "NA" and "NaN") is a missing cell, in numeric and
   * categorical columns alike; a token that reads as a finite number ("-999") is an error, and
   * so is a column missing in every row.  Without it, such cells are errors as before. */
  gboolean allow_missing;
  const char *const *missing;
} mixem_csv_options;

/* Categorical columns.  A column read as level names holds codes 0 .. L-1, the codes of its L
 * distinct names in sorted order (byte order, strcmp: the same in every locale, and the same
 * whatever the order of the rows); the names are kept with the dataset, carried by
 * mixem_dataset_subset and mixem_dataset_select.  An empty cell in such a column is an error
 * naming file, row and column (a missing value is not a level). */

/* Reads PATH.  Lines whose first non-blank character is '#' and blank lines are skipped.
 * Numbers are parsed the same way in every locale.  Empty, non-numeric (outside the categorical
 * columns that OPTS allows), NaN or infinite cells,
 * ragged rows, unknown columns, negative weights, an empty or missing file: a MIXEM_ERROR
 * naming the file, line, row and column. */
mixem_dataset *mixem_dataset_read_csv (const char *path, const mixem_csv_options *opts,
                                       GError **error);

/* Reads a NumPy .npy file (format 1.0 to 3.0): a 1-D or 2-D array, C or Fortran order, of
 * little-endian float64, float32, int8/16/32/64, uint8/16/32/64 or bool.  Columns are named
 * "1", "2", ...  A malformed header, an unsupported type, a file shorter or longer than its
 * shape, or a NaN or infinite value is a MIXEM_ERROR naming the file (and row and column).
 * uint8 and bool arrays are kept as bytes; float64 in C order is read in place through a memory
 * map (so it may be larger than memory), and the file must not change while the dataset lives. */
mixem_dataset *mixem_dataset_read_npy (const char *path, GError **error);
/* Rows [LO, HI) of the .npy file PATH (HI clamped to the file's rows) as a dataset of their own,
 * and the file's row count in *N_ALL (may be NULL): for reading a file larger than memory a
 * batch at a time (online EM's stream, mixem_fit_stream).  Only those rows are read (float64 in
 * C order through a map of the file that the dataset holds while it lives).  LO = HI = 0 reads
 * the header alone: an empty dataset with the file's columns. */
mixem_dataset *mixem_dataset_read_npy_rows (const char *path, size_t lo, size_t hi, size_t *n_all,
                                            GError **error);
/* The same, and with ALLOW_MISSING a NaN is a missing cell (infinities are still errors; a
 * column of NaN only is an error naming it). */
mixem_dataset *mixem_dataset_read_npy_missing (const char *path, gboolean allow_missing,
                                               GError **error);

/* A dataset from memory: X is N*D row-major, copied.  NAMES may be NULL ("1", "2", ...).
 * WEIGHTS may be NULL (all 1).  Non-finite values and negative weights are errors. */
mixem_dataset *mixem_dataset_new (size_t n, size_t d, const double *x,
                                  const char *const *names, const double *weights,
                                  GError **error);

/* The same, with a NaN in X read as a missing cell (infinities are still errors). */
mixem_dataset *mixem_dataset_new_missing (size_t n, size_t d, const double *x,
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
/* Rows FIRST to FIRST+N-1 as N*D doubles, row-major: a pointer into the dataset when it holds
 * doubles, else BUF (N*D doubles, filled by widening the bytes).  Safe from several threads. */
const double *mixem_dataset_block (const mixem_dataset *ds, size_t first, size_t n, double *buf);
double mixem_dataset_value (const mixem_dataset *ds, size_t row, size_t col);   /* 0-based */
/* How the values are held: "uint8", "float64" or "float64 (mapped)". */
const char *mixem_dataset_storage (const mixem_dataset *ds);
/* All N*D values as doubles.  For a dataset held as bytes the first call widens the whole of it
 * into a copy kept until the dataset is freed (thread-safe); mixem_dataset_block avoids that. */
const double *mixem_dataset_data (const mixem_dataset *ds);
/* N values computed from DS's rows once and kept until DS is freed: the first call with KEY runs
 * FILL (DS, OUT, USER) to write them into OUT, and every call returns that array.  For a term
 * that depends on the data alone and that a family would otherwise recompute in every pass (the
 * Poisson family's sum_j log(x_ij!) of each row); KEY names the values, so it must tell apart
 * everything they depend on besides DS.  Thread-safe: FILL runs once, other callers wait. */
typedef void (*mixem_row_fill) (const mixem_dataset *ds, double *out, gconstpointer user);
const double *mixem_dataset_row_cache (const mixem_dataset *ds, const char *key,
                                       mixem_row_fill fill, gconstpointer user);
const double *mixem_dataset_weights (const mixem_dataset *ds);  /* N values, or NULL if unweighted */
double mixem_dataset_total_weight (const mixem_dataset *ds);    /* sum of weights (N if none) */
const char *mixem_dataset_name (const mixem_dataset *ds, size_t col);  /* column name */
const char *const *mixem_dataset_names (const mixem_dataset *ds);   /* D names, NULL-terminated */
const char *mixem_dataset_source (const mixem_dataset *ds);    /* file name, or "<memory>" */

/* The level names of column COL (0-based), NULL-terminated, in code order; NULL for a numeric
 * column. */
const char *const *mixem_dataset_levels (const mixem_dataset *ds, size_t col);
/* The number of levels of column COL; 0 for a numeric column. */
size_t mixem_dataset_n_levels (const mixem_dataset *ds, size_t col);

/* Missing cells.  A dataset keeps a packed mask (one bit a cell) and the distinct missingness
 * patterns of its rows: pattern 0 is the complete row, the others are numbered in order of first
 * appearance.  The values of a missing cell read as NaN (mixem_dataset_block, _value, _data).
 * subset and select carry the mask. */
gboolean mixem_dataset_has_missing (const mixem_dataset *ds);
gboolean mixem_dataset_is_missing (const mixem_dataset *ds, size_t row, size_t col);
/* Missing cells in column COL; COL = SIZE_MAX: in the whole dataset. */
size_t mixem_dataset_missing_count (const mixem_dataset *ds, size_t col);
size_t mixem_dataset_incomplete_rows (const mixem_dataset *ds);   /* rows with a missing cell */
size_t mixem_dataset_empty_rows (const mixem_dataset *ds);        /* rows with every cell missing */
/* The total weight of the rows with an observed cell (the N of BIC). */
double mixem_dataset_observed_weight (const mixem_dataset *ds);
/* The number of patterns, pattern 0 included (1 for a dataset with no missing cell). */
size_t mixem_dataset_n_patterns (const mixem_dataset *ds);
/* Pattern ID's mask: D bytes, 1 where the cell is missing; NULL when nothing is missing. */
const unsigned char *mixem_dataset_pattern (const mixem_dataset *ds, size_t id);
/* The observed cells of pattern ID (D for pattern 0, 0 for a row with nothing observed). */
size_t mixem_dataset_pattern_observed (const mixem_dataset *ds, size_t id);
unsigned mixem_dataset_row_pattern (const mixem_dataset *ds, size_t row);
/* All N rows' pattern ids, or NULL when nothing is missing. */
const unsigned *mixem_dataset_row_patterns (const mixem_dataset *ds);
/* The mask of rows FIRST to FIRST+N-1 and the D columns COLS (NULL: all of DS's, D = its
 * width) as N*D bytes in BUF, 1 = missing; returns BUF, or NULL (BUF untouched or not) when no
 * cell of them is missing. */
const unsigned char *mixem_dataset_block_missing (const mixem_dataset *ds, size_t first, size_t n,
                                                  const size_t *cols, size_t d,
                                                  unsigned char *buf);

/* Index of the column called NAME, or of the 1-based index NAME ("2"); -1 if none. */
int mixem_dataset_find_column (const mixem_dataset *ds, const char *name);

/* "FILE:LINE: row R, column 'NAME'" for a message about cell (ROW, COL), both 0-based; with
 * COL = SIZE_MAX, "FILE:LINE: row R".  Free with g_free. */
char *mixem_dataset_cell_name (const mixem_dataset *ds, size_t row, size_t col);

G_END_DECLS

#endif
