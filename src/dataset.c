/* dataset.c: the dataset type, its CSV and .npy readers.  Numbers are parsed by a fast path for
 * plain decimals (below) or else g_ascii_strtod, both correctly rounded and blind to the locale;
 * every rejected cell is reported with file, line, row and column.
 * Values that are all whole numbers from 0 to 255 (binary data, small counts; -0 is not) are kept
 * as one byte each and widened to doubles a block at a time by mixem_dataset_block; a float64
 * .npy file is read through a memory map instead of being copied. */
#include <config.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <glib/gstdio.h>
#include <mixem/dataset.h>
#include <mixem/error.h>
#include <mixem/modelfile.h>
#include "comm.h"
#include "engine.h"

struct mixem_dataset {
  size_t n, d;
  const double *x;  /* n*d, row-major: x_owned or inside map; NULL when stored as bytes */
  double *x_owned;
  GMappedFile *map;
  guint8 *x8;       /* n*d bytes, row-major, when every value is a whole number in [0, 255] */
  gsize wide;       /* (double *) mixem_dataset_data's widening of x8, made on its first call */
  double *w;        /* n, or NULL */
  double total_w;
  char **names;     /* d + 1, NULL-terminated */
  char *source;     /* file name or "<memory>" */
  guint32 *lines;   /* file line of each row, or NULL */
  char ***levels;   /* d level-name vectors (NULL for a numeric column), or NULL if none */
  /* Missing cells: all NULL / 0 when there are none.  The doubles hold NaN there, the bytes 0
   * (widened to NaN by mixem_dataset_block). */
  guint8 *mbits;    /* n*d bits, row-major, set where the cell is missing */
  unsigned *row_pat;  /* n pattern ids, 0 for a complete row */
  guint8 *pat;      /* n_pat * d bytes, pattern p's mask (1 = missing) at pat + p*d */
  size_t *pat_obs;  /* n_pat: observed cells of each pattern */
  size_t n_pat;
  size_t *miss_col; /* d: missing cells of each column */
  size_t miss_cells, miss_rows, empty_rows;  /* empty: every cell missing */
  double observed_w;  /* a part with a mask: the weight of all ranks' rows with an observed cell */
  /* A part (mixem/parallel.h): rows [row0, row0 + n) of n_all, rank r holding rows
   * [part[r], part[r + 1]); part NULL (and row0 0, n_all n) for a whole dataset. */
  size_t row0, n_all;
  size_t *part;
  size_t grain;     /* a part's rows per chunk of the reduction tree (64 blocks) */
  /* mixem_dataset_row_cache: key -> n doubles, made on first request under the lock */
  GMutex cache_lock;
  GHashTable *row_cache;
};

static inline gboolean
bit_get (const guint8 *b, size_t i)
{
  return (b[i >> 3] >> (i & 7)) & 1u;
}

static inline void
bit_set (guint8 *b, size_t i)
{
  b[i >> 3] = (guint8) (b[i >> 3] | (1u << (i & 7)));
}

static void
clear_missing (mixem_dataset *ds)
{
  g_clear_pointer (&ds->mbits, g_free);
  g_clear_pointer (&ds->row_pat, g_free);
  g_clear_pointer (&ds->pat, g_free);
  g_clear_pointer (&ds->pat_obs, g_free);
  g_clear_pointer (&ds->miss_col, g_free);
  ds->n_pat = 0;
  ds->miss_cells = ds->miss_rows = ds->empty_rows = 0;
}

/* From DS->mbits: the patterns (numbered in order of first appearance, 0 the complete one),
 * each row's pattern and the counts; with no bit set, no mask at all. */
static void
index_missing (mixem_dataset *ds)
{
  const size_t n = ds->n, d = ds->d;
  if (!ds->mbits)
    return;
  ds->miss_col = g_new0 (size_t, d);
  ds->row_pat = g_new0 (unsigned, n > 0 ? n : 1);
  GByteArray *pat = g_byte_array_new ();
  GArray *obs = g_array_new (FALSE, FALSE, sizeof (size_t));
  GHashTable *seen = g_hash_table_new_full (g_bytes_hash, g_bytes_equal,
                                            (GDestroyNotify) g_bytes_unref, NULL);
  guint8 *row = g_new0 (guint8, d);
  g_byte_array_set_size (pat, (guint) d);
  memset (pat->data, 0, d);
  size_t zero = d;
  g_array_append_val (obs, zero);
  for (size_t i = 0; i < n; i++) {
    size_t m = 0;
    for (size_t j = 0; j < d; j++) {
      row[j] = (guint8) bit_get (ds->mbits, i * d + j);
      m += row[j];
      ds->miss_col[j] += row[j];
    }
    if (m == 0)
      continue;
    ds->miss_cells += m;
    ds->miss_rows++;
    if (m == d)
      ds->empty_rows++;
    GBytes *key = g_bytes_new (row, d);
    gpointer id;
    if (g_hash_table_lookup_extended (seen, key, NULL, &id)) {
      g_bytes_unref (key);
      ds->row_pat[i] = GPOINTER_TO_UINT (id);
    } else {
      const unsigned p = obs->len;
      g_hash_table_insert (seen, key, GUINT_TO_POINTER (p));
      g_byte_array_append (pat, row, (guint) d);
      size_t o = d - m;
      g_array_append_val (obs, o);
      ds->row_pat[i] = p;
    }
  }
  g_free (row);
  g_hash_table_destroy (seen);
  ds->n_pat = obs->len;
  ds->pat = g_byte_array_free (pat, FALSE);
  ds->pat_obs = (size_t *) (void *) g_array_free (obs, FALSE);
  if (ds->miss_cells == 0)
    clear_missing (ds);
}

/* The mask of DS's doubles: every NaN is a missing cell. */
static void
mask_from_nan (mixem_dataset *ds)
{
  const size_t nd = ds->n * ds->d;
  clear_missing (ds);
  if (!ds->x)
    return;
  for (size_t i = 0; i < nd; i++)
    if (isnan (ds->x[i])) {
      if (!ds->mbits)
        ds->mbits = g_new0 (guint8, (nd + 7) / 8);
      bit_set (ds->mbits, i);
    }
  index_missing (ds);
}

/* OUT's mask from DS's: OUT's cell (r, c) is DS's (ROWS ? ROWS[r] : r, SEL ? SEL[c] : c). */
static void
copy_mask (mixem_dataset *out, const mixem_dataset *ds, const size_t *rows, const int *sel)
{
  if (!ds->mbits)
    return;
  const size_t nd = out->n * out->d;
  out->mbits = g_new0 (guint8, (nd + 7) / 8);
  for (size_t r = 0; r < out->n; r++) {
    const size_t i = rows ? rows[r] : r;
    if (i >= ds->n || ds->row_pat[i] == 0)
      continue;
    for (size_t c = 0; c < out->d; c++)
      if (bit_get (ds->mbits, i * ds->d + (sel ? (size_t) sel[c] : c)))
        bit_set (out->mbits, r * out->d + c);
  }
  index_missing (out);
}

/* A column with no observed cell carries nothing a model could learn: an error naming it. */
static gboolean
check_missing_columns (const mixem_dataset *ds, GError **error)
{
  for (size_t j = 0; ds->mbits && j < ds->d; j++)
    if (ds->miss_col[j] == ds->n) {
      char *q = mixem_quote (ds->names[j], -1);
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA,
                   "%s: column '%s' is missing in every row", ds->source, q);
      g_free (q);
      return FALSE;
    }
  return TRUE;
}

gboolean mixem_dataset_has_missing (const mixem_dataset *ds) { return ds->mbits != NULL; }

gboolean
mixem_dataset_is_missing (const mixem_dataset *ds, size_t row, size_t col)
{
  g_return_val_if_fail (row < ds->n && col < ds->d, FALSE);
  return ds->mbits && ds->row_pat[row] != 0 && bit_get (ds->mbits, row * ds->d + col);
}

size_t
mixem_dataset_missing_count (const mixem_dataset *ds, size_t col)
{
  if (col == SIZE_MAX)
    return ds->miss_cells;
  g_return_val_if_fail (col < ds->d, 0);
  return ds->miss_col ? ds->miss_col[col] : 0;
}

size_t mixem_dataset_incomplete_rows (const mixem_dataset *ds) { return ds->miss_rows; }
size_t mixem_dataset_empty_rows (const mixem_dataset *ds) { return ds->empty_rows; }
double
mixem_dataset_observed_weight (const mixem_dataset *ds)
{
  if (ds->part && ds->mbits)
    return ds->observed_w;
  if (ds->empty_rows == 0)
    return ds->total_w;
  double w = 0.0;
  for (size_t i = 0; i < ds->n; i++)
    if (ds->pat_obs[ds->row_pat[i]] > 0)
      w += ds->w ? ds->w[i] : 1.0;
  return w;
}
size_t mixem_dataset_n_patterns (const mixem_dataset *ds) { return ds->mbits ? ds->n_pat : 1; }

const unsigned char *
mixem_dataset_pattern (const mixem_dataset *ds, size_t id)
{
  g_return_val_if_fail (id < mixem_dataset_n_patterns (ds), NULL);
  return ds->mbits ? ds->pat + id * ds->d : NULL;
}

size_t
mixem_dataset_pattern_observed (const mixem_dataset *ds, size_t id)
{
  g_return_val_if_fail (id < mixem_dataset_n_patterns (ds), 0);
  return ds->mbits ? ds->pat_obs[id] : ds->d;
}

unsigned
mixem_dataset_row_pattern (const mixem_dataset *ds, size_t row)
{
  g_return_val_if_fail (row < ds->n, 0);
  return ds->row_pat ? ds->row_pat[row] : 0;
}

const unsigned *
mixem_dataset_row_patterns (const mixem_dataset *ds)
{
  return ds->row_pat;
}

const unsigned char *
mixem_dataset_block_missing (const mixem_dataset *ds, size_t first, size_t n, const size_t *cols,
                             size_t d, unsigned char *buf)
{
  g_return_val_if_fail (first + n <= ds->n, NULL);
  if (!ds->mbits)
    return NULL;
  gboolean any = FALSE;
  for (size_t i = 0; i < n; i++) {
    const unsigned p = ds->row_pat[first + i];
    const guint8 *pm = ds->pat + (size_t) p * ds->d;
    for (size_t j = 0; j < d; j++) {
      buf[i * d + j] = p ? pm[cols ? cols[j] : j] : 0;
      any = any || buf[i * d + j];
    }
  }
  return any ? buf : NULL;
}

/* A dataset of N rows and D columns; its N*D doubles only with DOUBLES (the .npy reader keeps
 * bytes or a mapped file instead). */
static mixem_dataset *
dataset_alloc_full (size_t n, size_t d, const char *source, gboolean doubles)
{
  mixem_dataset *ds = g_new0 (mixem_dataset, 1);
  g_mutex_init (&ds->cache_lock);
  ds->n = n;
  ds->d = d;
  if (doubles)
    ds->x = ds->x_owned = g_new (double, n * d > 0 ? n * d : 1);
  ds->names = g_new0 (char *, d + 1);
  ds->source = g_strdup (source);
  ds->total_w = (double) n;
  ds->n_all = n;
  return ds;
}

static mixem_dataset *
dataset_alloc (size_t n, size_t d, const char *source)
{
  return dataset_alloc_full (n, d, source, TRUE);
}

void
mixem_dataset_free (mixem_dataset *ds)
{
  if (!ds)
    return;
  g_free (ds->x_owned);
  if (ds->map)
    g_mapped_file_unref (ds->map);
  g_free (ds->x8);
  g_free ((double *) ds->wide);
  g_free (ds->w);
  g_strfreev (ds->names);
  g_free (ds->source);
  g_free (ds->lines);
  for (size_t j = 0; ds->levels && j < ds->d; j++)
    g_strfreev (ds->levels[j]);
  g_free (ds->levels);
  clear_missing (ds);
  g_free (ds->part);
  if (ds->row_cache)
    g_hash_table_unref (ds->row_cache);
  g_mutex_clear (&ds->cache_lock);
  g_free (ds);
}

size_t mixem_dataset_first_row (const mixem_dataset *ds) { return ds->row0; }
size_t mixem_dataset_all_rows (const mixem_dataset *ds) { return ds->n_all; }
gboolean mixem_dataset_is_part (const mixem_dataset *ds) { return ds->part != NULL; }
const size_t *mixem_dataset_part_offsets (const mixem_dataset *ds) { return ds->part; }
size_t mixem_dataset_part_grain (const mixem_dataset *ds) { return ds->grain; }

const char *const *
mixem_dataset_levels (const mixem_dataset *ds, size_t col)
{
  g_return_val_if_fail (col < ds->d, NULL);
  return ds->levels ? (const char *const *) ds->levels[col] : NULL;
}

size_t
mixem_dataset_n_levels (const mixem_dataset *ds, size_t col)
{
  const char *const *l = mixem_dataset_levels (ds, col);
  return l ? g_strv_length ((char **) l) : 0;
}

/* OUT's column C gets the level names of DS's column SEL[C] (SEL NULL: the same column). */
static void
copy_levels (mixem_dataset *out, const mixem_dataset *ds, const int *sel)
{
  if (!ds->levels)
    return;
  out->levels = g_new0 (char **, out->d);
  for (size_t c = 0; c < out->d; c++)
    out->levels[c] = g_strdupv (ds->levels[sel ? (size_t) sel[c] : c]);
}

size_t mixem_dataset_rows (const mixem_dataset *ds) { return ds->n; }
size_t mixem_dataset_cols (const mixem_dataset *ds) { return ds->d; }
const double *mixem_dataset_weights (const mixem_dataset *ds) { return ds->w; }
double mixem_dataset_total_weight (const mixem_dataset *ds) { return ds->total_w; }
const char *mixem_dataset_source (const mixem_dataset *ds) { return ds->source; }
const char *mixem_dataset_storage (const mixem_dataset *ds)
{
  return ds->x8 ? "uint8" : ds->map ? "float64 (mapped)" : "float64";
}

/* O[i] = S[i] for N bytes, the loop of every pass over data held as bytes: vectorised (restrict
 * and simd: no overlap check), on x86-64 with AVX-512 and AVX2 clones chosen at load time. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
__attribute__ ((target_clones ("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
static void
widen_bytes (const guint8 *restrict s, double *restrict o, size_t n)
{
#pragma omp simd
  for (size_t i = 0; i < n; i++)
    o[i] = s[i];
}

const double *
mixem_dataset_block (const mixem_dataset *ds, size_t first, size_t n, double *buf)
{
  g_return_val_if_fail (first + n <= ds->n, NULL);
  if (ds->x)
    return ds->x + first * ds->d;
  widen_bytes (ds->x8 + first * ds->d, buf, n * ds->d);
  for (size_t i = 0; ds->mbits && i < n; i++)
    if (ds->row_pat[first + i])
      for (size_t j = 0; j < ds->d; j++)
        if (bit_get (ds->mbits, (first + i) * ds->d + j))
          buf[i * ds->d + j] = NAN;
  return buf;
}

double
mixem_dataset_value (const mixem_dataset *ds, size_t row, size_t col)
{
  g_return_val_if_fail (row < ds->n && col < ds->d, NAN);
  if (!ds->x && mixem_dataset_is_missing (ds, row, col))
    return NAN;
  return ds->x ? ds->x[row * ds->d + col] : ds->x8[row * ds->d + col];
}

/* Widening the bytes once, on request, is (with the row cache) the only change to a dataset
 * after it is made; g_once makes it safe from several threads. */
const double *
mixem_dataset_data (const mixem_dataset *ds)
{
  if (ds->x)
    return ds->x;
  mixem_dataset *m = (mixem_dataset *) ds;
  if (g_once_init_enter (&m->wide)) {
    double *w = g_new (double, ds->n * ds->d > 0 ? ds->n * ds->d : 1);
    mixem_dataset_block (ds, 0, ds->n, w);
    g_once_init_leave (&m->wide, (gsize) w);
  }
  return (const double *) m->wide;
}

const double *
mixem_dataset_row_cache (const mixem_dataset *ds, const char *key, mixem_row_fill fill,
                         gconstpointer user)
{
  g_return_val_if_fail (ds && key && fill, NULL);
  mixem_dataset *m = (mixem_dataset *) ds;   /* the cache is the only other change after making */
  g_mutex_lock (&m->cache_lock);
  if (!m->row_cache)
    m->row_cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  double *v = g_hash_table_lookup (m->row_cache, key);
  if (!v) {
    v = g_new (double, ds->n > 0 ? ds->n : 1);
    fill (ds, v, user);
    g_hash_table_insert (m->row_cache, g_strdup (key), v);
  }
  g_mutex_unlock (&m->cache_lock);
  return v;
}

/* Keeps DS's values as bytes when every one is a whole number from 0 to 255. */
static void
dataset_compact (mixem_dataset *ds)
{
  const size_t nd = ds->n * ds->d;
  if (!ds->x)
    return;
  for (size_t i = 0; i < nd; i++) {
    const double v = ds->x[i];
    if (!(v >= 0.0 && v <= 255.0 && v == floor (v) && !signbit (v)) && !(isnan (v) && ds->mbits))
      return;
  }
  /* A missing cell is held as 0 and widened back to NaN through the mask. */
  ds->x8 = g_new (guint8, nd > 0 ? nd : 1);
  for (size_t i = 0; i < nd; i++)
    ds->x8[i] = isnan (ds->x[i]) ? 0 : (guint8) ds->x[i];
  g_clear_pointer (&ds->x_owned, g_free);
  g_clear_pointer (&ds->map, g_mapped_file_unref);
  ds->x = NULL;
}
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
    return ds->lines ? g_strdup_printf ("%s:%u: row %zu", ds->source, ds->lines[row],
                                        ds->row0 + row + 1)
                     : g_strdup_printf ("%s: row %zu", ds->source, ds->row0 + row + 1);
  char *cname = mixem_quote (col < ds->d ? ds->names[col] : "?", -1), *s;
  if (ds->lines)
    s = g_strdup_printf ("%s:%u: row %zu, column '%s'", ds->source, ds->lines[row],
                         ds->row0 + row + 1, cname);
  else
    s = g_strdup_printf ("%s: row %zu, column '%s'", ds->source, ds->row0 + row + 1, cname);
  g_free (cname);
  return s;
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

static gboolean weight_leaf (size_t first, size_t n, double *out, void *user, GError **error);

/* The weight of rows [FIRST, FIRST + N) of USER with an observed cell. */
static gboolean
observed_leaf (size_t first, size_t n, double *out, void *user, GError **error)
{
  const mixem_dataset *ds = user;
  double s = 0.0;
  (void) error;
  for (size_t i = first; i < first + n; i++)
    if (ds->pat_obs[ds->row_pat[i]] > 0)
      s += ds->w ? ds->w[i] : 1.0;
  *out = s;
  return TRUE;
}

/* A part's missing cells, one view on every rank (collective): when some rank has a missing
 * cell, a rank with none takes an empty mask, so that every rank goes the same way (statistics,
 * starts, the model's record); a column missing in every row of all ranks is an error, as in
 * one process; the weight of the rows with an observed cell is summed over all ranks by the
 * fits' tree. */
static gboolean
part_missing_agree (mixem_dataset *ds, GError **error)
{
  if (!mixem_comm_max_size (ds->mbits != NULL))
    return TRUE;
  const size_t d = ds->d;
  if (!ds->mbits) {
    ds->mbits = g_new0 (guint8, (ds->n * d + 7) / 8 + 1);
    ds->miss_col = g_new0 (size_t, d);
    ds->row_pat = g_new0 (unsigned, ds->n > 0 ? ds->n : 1);
    ds->pat = g_new0 (guint8, d > 0 ? d : 1);
    ds->pat_obs = g_new (size_t, 1);
    ds->pat_obs[0] = d;
    ds->n_pat = 1;
  }
  const int np = mixem_parallel_size ();
  double *mine = g_new (double, d), *all = g_new (double, d * (size_t) np);
  size_t *counts = g_new (size_t, np);
  for (size_t j = 0; j < d; j++)
    mine[j] = (double) ds->miss_col[j];
  for (int r = 0; r < np; r++)
    counts[r] = d;
  mixem_comm_allgatherv (mine, d, all, counts);
  gboolean ok = TRUE;
  for (size_t j = 0; j < d && ok; j++) {
    double m = 0.0;
    for (int r = 0; r < np; r++)
      m += all[(size_t) r * d + j];
    if (m == (double) ds->n_all) {
      char *q = mixem_quote (ds->names[j], -1);
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA,
                   "%s: column '%s' is missing in every row", ds->source, q);
      g_free (q);
      ok = FALSE;
    }
  }
  g_free (mine);
  g_free (all);
  g_free (counts);
  return ok && mixem_tree_reduce (ds, 0, ds->n, ds->grain, 1, observed_leaf, NULL, ds,
                                  &ds->observed_w, error);
}

/* A part's weights W: each checked on its rank, the total over all ranks by the fits' tree
 * (collective: every rank agrees on the first failure). */
static gboolean
set_part_weights (mixem_dataset *ds, const double *w, GError **error)
{
  for (size_t i = 0; i < ds->n && !(error && *error); i++)
    if (!isfinite (w[i]) || w[i] < 0.0)
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA,
                   "%s: row %zu: weight %g is not a finite non-negative number", ds->source,
                   ds->row0 + i + 1, w[i]);
  if (!mixem_parallel_agree (error))
    return FALSE;
  ds->w = g_memdup2 (w, MAX (ds->n, 1) * sizeof (double));
  if (!mixem_tree_reduce (ds, 0, ds->n, ds->grain, 1, weight_leaf, NULL, ds, &ds->total_w, error))
    return FALSE;
  if (!(ds->total_w > 0.0)) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: the row weights sum to zero",
                 ds->source);
    return FALSE;
  }
  return TRUE;
}

static mixem_dataset *
dataset_new (size_t n, size_t d, const double *x, const char *const *names,
             const double *weights, gboolean allow_missing, GError **error)
{
  if (d == 0) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "<memory>: a dataset needs a column");
    return NULL;
  }
  mixem_dataset *ds = dataset_alloc (n, d, "<memory>");
  for (size_t j = 0; j < d; j++)
    ds->names[j] = names ? g_strdup (names[j]) : g_strdup_printf ("%zu", j + 1);
  for (size_t i = 0; i < n * d; i++) {
    if (!isfinite (x[i]) && !(allow_missing && isnan (x[i]))) {
      char *q = mixem_quote (ds->names[i % d], -1);
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA,
                   "<memory>: row %zu, column '%s': value is not finite", i / d + 1, q);
      g_free (q);
      mixem_dataset_free (ds);
      return NULL;
    }
    ds->x_owned[i] = x[i];
  }
  if (weights && !set_weights (ds, weights, error)) {
    mixem_dataset_free (ds);
    return NULL;
  }
  if (allow_missing)
    mask_from_nan (ds);
  dataset_compact (ds);
  return ds;
}

mixem_dataset *
mixem_dataset_new (size_t n, size_t d, const double *x, const char *const *names,
                   const double *weights, GError **error)
{
  return dataset_new (n, d, x, names, weights, FALSE, error);
}

mixem_dataset *
mixem_dataset_new_missing (size_t n, size_t d, const double *x, const char *const *names,
                           const double *weights, GError **error)
{
  return dataset_new (n, d, x, names, weights, TRUE, error);
}

mixem_dataset *
mixem_dataset_subset (const mixem_dataset *ds, const size_t *rows, size_t m, GError **error)
{
  /* A part's subset would hold one rank's rows as if they were all (held-out folds, re-seeding):
   * not available across ranks yet. */
  if (ds->part) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION, "%s: a subset of rows (held-out folds, "
                 "re-seeding) is not available across ranks", ds->source);
    return NULL;
  }
  mixem_dataset *out = dataset_alloc (m, ds->d, ds->source);
  for (size_t j = 0; j < ds->d; j++)
    out->names[j] = g_strdup (ds->names[j]);
  if (ds->x8) {     /* a subset of bytes stays bytes */
    g_clear_pointer (&out->x_owned, g_free);
    out->x = NULL;
    out->x8 = g_new (guint8, m * ds->d > 0 ? m * ds->d : 1);
  }
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
    if (ds->x8)
      memcpy (out->x8 + r * ds->d, ds->x8 + rows[r] * ds->d, ds->d);
    else
      memcpy (out->x_owned + r * ds->d, ds->x + rows[r] * ds->d, ds->d * sizeof (double));
    if (ds->w)
      out->w[r] = ds->w[rows[r]];
    if (ds->lines)
      out->lines[r] = ds->lines[rows[r]];
    out->total_w += ds->w ? ds->w[rows[r]] : 1.0;
  }
  copy_levels (out, ds, NULL);
  copy_mask (out, ds, rows, NULL);
  return out;
}

mixem_dataset *
mixem_dataset_select (const mixem_dataset *ds, const char *const *columns, const char *weights,
                      GError **error)
{
  int wcol = -1;
  if (weights && (wcol = find_name (ds->names, ds->d, weights)) < 0) {
    char *q = mixem_quote (weights, -1);
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: no weight column '%s'", ds->source, q);
    g_free (q);
    return NULL;
  }
  size_t m = 0, cap = columns ? g_strv_length ((char **) columns) : ds->d;
  int *sel = g_new (int, cap > 0 ? cap : 1);
  for (size_t c = 0; c < cap; c++) {
    int j = columns ? find_name (ds->names, ds->d, columns[c]) : (int) c;
    if (j < 0) {
      char *q = mixem_quote (columns[c], -1);
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: no column '%s'", ds->source, q);
      g_free (q);
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
  if (ds->x8) {     /* columns of bytes stay bytes */
    g_clear_pointer (&out->x_owned, g_free);
    out->x = NULL;
    out->x8 = g_new (guint8, ds->n * m > 0 ? ds->n * m : 1);
    for (size_t i = 0; i < ds->n; i++)
      for (size_t c = 0; c < m; c++)
        out->x8[i * m + c] = ds->x8[i * ds->d + sel[c]];
  } else {
    for (size_t i = 0; i < ds->n; i++)
      for (size_t c = 0; c < m; c++)
        out->x_owned[i * m + c] = ds->x[i * ds->d + sel[c]];
  }
  if (ds->lines)
    out->lines = g_memdup2 (ds->lines, ds->n * sizeof (guint32));
  copy_levels (out, ds, sel);
  copy_mask (out, ds, NULL, sel);
  g_free (sel);
  if (ds->part) {   /* a part stays a part, its rows where they were */
    out->row0 = ds->row0;
    out->n_all = ds->n_all;
    out->part = g_memdup2 (ds->part, (size_t) (mixem_parallel_size () + 1) * sizeof (size_t));
    out->total_w = (double) ds->n_all;
    out->grain = ds->grain;
  }
  if (wcol >= 0) {
    double *w = g_new (double, ds->n > 0 ? ds->n : 1);
    for (size_t i = 0; i < ds->n; i++)
      w[i] = mixem_dataset_value (ds, i, (size_t) wcol);
    /* A part's weights are checked here, their total by the ranks together (collective). */
    gboolean ok = ds->part ? set_part_weights (out, w, error) : set_weights (out, w, error);
    g_free (w);
    if (!ok) {
      mixem_dataset_free (out);
      return NULL;
    }
  } else if (ds->w) {
    out->w = g_memdup2 (ds->w, MAX (ds->n, 1) * sizeof (double));
    out->total_w = ds->total_w;
  }
  if (ds->part && !part_missing_agree (out, error)) {
    mixem_dataset_free (out);
    return NULL;
  }
  dataset_compact (out);
  return out;
}

/* ---- CSV ---------------------------------------------------------------------------------- */

/* Splits LINE in place at DELIM into F (emptied first); trims blanks and one pair of
 * surrounding double quotes.  One scan of the line. */
static void
split_fields (char *line, char delim, GPtrArray *f)
{
  g_ptr_array_set_size (f, 0);
  char *p = line;
  for (;;) {
    while (*p == ' ' || *p == '\t')
      p++;
    char *end = p;
    while (*end != delim && *end != '\0')
      end++;
    const gboolean last = *end == '\0';
    char *t = end;
    while (t > p && (t[-1] == ' ' || t[-1] == '\t' || t[-1] == '\r' || t[-1] == '\n'))
      t--;
    *t = '\0';
    if (t - p >= 2 && p[0] == '"' && t[-1] == '"') {
      t[-1] = '\0';
      p++;
    }
    g_ptr_array_add (f, p);
    if (last)
      break;
    p = end + 1;
  }
}

#ifdef __SIZEOF_INT128__
typedef unsigned __int128 u128;

static int
bit_length (u128 m)
{
  int n = 0;
  for (; m >> 64; m >>= 64)
    n += 64;
  return n + (m ? 64 - __builtin_clzll ((uint64_t) m) : 0);
}

/* M * 2^E2 (plus a nonzero fraction below M's last bit if STICKY), rounded to the nearest double,
 * ties to even.  M has at most 127 bits; the result must be a normal number. */
static double
round_binary (u128 m, gboolean sticky, int e2)
{
  const int shift = bit_length (m) - 53;
  if (shift <= 0)
    return ldexp ((double) (uint64_t) m, e2);   /* exact: at most 53 bits, and no fraction */
  uint64_t mant = (uint64_t) (m >> shift);
  const u128 rem = m & (((u128) 1 << shift) - 1), half = (u128) 1 << (shift - 1);
  if (rem > half || (rem == half && (sticky || (mant & 1))))
    mant++;                                     /* 2^53 after a carry is still exact */
  return ldexp ((double) mant, e2 + shift);
}
#endif

/* A plain decimal [+-]digits[.digits][(e|E)[+-]digits] with at most 19 significant digits, as
 * w * 10^s with |s| <= 27, parsed without strtod (which dominated reading a CSV), and rounded
 * correctly by exact integer arithmetic: w * 5^s exactly in 128 bits when s >= 0; otherwise the
 * quotient of w (shifted left to 127 bits) by 5^-s, with its remainder deciding the rounding.
 * Anything else (more digits, larger exponents, inf, nan, hex) returns FALSE, for strtod. */
static gboolean
parse_decimal (const char *s, double *out)
{
#ifdef __SIZEOF_INT128__
  const char *p = s;
  gboolean neg = *p == '-';
  if (*p == '-' || *p == '+')
    p++;
  uint64_t w = 0;
  int digits = 0, scale = 0, any = 0;
  for (; *p >= '0' && *p <= '9'; p++, any++) {
    if (w == 0 && *p == '0')
      continue;                                  /* leading zeros are not significant */
    if (++digits > 19)
      return FALSE;
    w = w * 10 + (uint64_t) (*p - '0');
  }
  if (*p == '.')
    for (p++; *p >= '0' && *p <= '9'; p++, any++) {
      scale--;
      if (w == 0 && *p == '0')
        continue;
      if (++digits > 19)
        return FALSE;
      w = w * 10 + (uint64_t) (*p - '0');
    }
  if (!any)
    return FALSE;
  if (*p == 'e' || *p == 'E') {
    p++;
    gboolean eneg = *p == '-';
    if (*p == '-' || *p == '+')
      p++;
    if (!(*p >= '0' && *p <= '9'))
      return FALSE;
    int ex = 0;
    for (; *p >= '0' && *p <= '9'; p++)
      if ((ex = ex * 10 + (*p - '0')) > 1000)
        return FALSE;
    scale += eneg ? -ex : ex;
  }
  if (*p != '\0')
    return FALSE;
  if (w == 0) {
    *out = neg ? -0.0 : 0.0;
    return TRUE;
  }
  if (scale < -27 || scale > 27)
    return FALSE;
  uint64_t pow5 = 1;                             /* 5^27 < 2^63 */
  for (int i = 0; i < abs (scale); i++)
    pow5 *= 5;
  double v;
  if (scale >= 0)
    v = round_binary ((u128) w * pow5, FALSE, scale);
  else {
    const int sh = 127 - bit_length (w);
    const u128 num = (u128) w << sh;
    v = round_binary (num / pow5, num % pow5 != 0, scale - sh);
  }
  *out = neg ? -v : v;
  return TRUE;
#else
  (void) s;
  (void) out;
  return FALSE;
#endif
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
  else if (parse_decimal (s, out))
    return TRUE;
  else {
    *out = g_ascii_strtod (s, &end);
    if (end == s || *end != '\0')
      why = "not a number";
    else if (!isfinite (*out))
      why = "not a finite number";
  }
  if (why) {
    char *qc = mixem_quote (col, -1), *qs = mixem_quote (s, -1);
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s:%zu: row %zu, column '%s': %s ('%s')",
                 path, line, row, qc, why, qs);
    g_free (qc);
    g_free (qs);
    return FALSE;
  }
  return TRUE;
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Column C of DS (whose N rows' texts are CELLS[r * d + c]) becomes codes 0 .. L-1 of its
 * distinct texts in sorted order, the texts kept as its level names. */
static void
code_levels (mixem_dataset *ds, size_t c, const char **cells)
{
  GHashTable *code = g_hash_table_new (g_str_hash, g_str_equal);
  GPtrArray *names = g_ptr_array_new ();
  for (size_t r = 0; r < ds->n; r++)
    if (!isnan (ds->x_owned[r * ds->d + c])   /* a missing cell is no level */
        && !g_hash_table_contains (code, cells[r * ds->d + c])) {
      g_hash_table_add (code, (gpointer) cells[r * ds->d + c]);
      g_ptr_array_add (names, (gpointer) cells[r * ds->d + c]);
    }
  g_ptr_array_sort (names, compare_strings);
  ds->levels[c] = g_new0 (char *, names->len + 1);
  for (guint l = 0; l < names->len; l++) {
    ds->levels[c][l] = g_strdup (g_ptr_array_index (names, l));
    g_hash_table_insert (code, g_ptr_array_index (names, l), GUINT_TO_POINTER (l));
  }
  for (size_t r = 0; r < ds->n; r++)
    if (!isnan (ds->x_owned[r * ds->d + c]))
      ds->x_owned[r * ds->d + c]
        = (double) GPOINTER_TO_UINT (g_hash_table_lookup (code, cells[r * ds->d + c]));
  g_ptr_array_free (names, TRUE);
  g_hash_table_destroy (code);
}

/* ---- a CSV's share by byte ranges ---------------------------------------------------------
 * Across ranks, the file is cut into P byte ranges at line starts; each rank counts the lines
 * and data rows that start in its own range (one scan of about 1/P of the file), the counts are
 * gathered, and each rank then parses its rows from the range that holds its first one.  So
 * each rank reads about 1/P of the bytes, through a private map (lines are cut in place). */

/* A line is skipped when blank or a comment ('#' after blanks), in [P, E). */
static gboolean
csv_skipped (const char *p, const char *e)
{
  while (p < e && (*p == ' ' || *p == '\t' || *p == '\r'))
    p++;
  return p == e || *p == '#';
}

/* The first line start at or after byte A of TEXT[0, LEN). */
static size_t
csv_line_start (const char *text, size_t len, size_t a)
{
  if (a == 0 || a >= len)
    return MIN (a, len);
  const char *nl = memchr (text + a - 1, '\n', len - (a - 1));
  return nl ? (size_t) (nl - text) + 1 : len;
}

/* Where byte range R of NP starts: the first line start at or after byte floor(LEN R / NP). */
static size_t
csv_range_start (const char *text, size_t len, int np, int r)
{
  return csv_line_start (text, len, len / (size_t) np * (size_t) r
                                    + len % (size_t) np * (size_t) r / (size_t) np);
}

/* The end of the first line not skipped (the header, or with NO_HEADER the first row), and its
 * start; LEN and LEN when the text has none. */
static size_t
csv_first_line (const char *text, size_t len, size_t *start)
{
  for (size_t p = 0; p < len;) {
    const char *nl = memchr (text + p, '\n', len - p);
    const size_t e = nl ? (size_t) (nl - text) : len;
    if (!csv_skipped (text + p, text + e)) {
      *start = p;
      return nl ? e + 1 : len;
    }
    p = nl ? e + 1 : len;
  }
  *start = len;
  return len;
}

/* Over the lines that start in [A, B) of TEXT: COUNT[0] lines, COUNT[1] data rows (lines not
 * skipped, less the header, which starts at HEADER, unless NO_HEADER). */
static void
csv_count (const char *text, size_t a, size_t b, size_t header, gboolean no_header,
           size_t count[2])
{
  count[0] = count[1] = 0;
  for (size_t p = a; p < b;) {
    const char *nl = memchr (text + p, '\n', b - p);
    const size_t e = nl ? (size_t) (nl - text) : b;
    if (!csv_skipped (text + p, text + e) && (no_header || p != header))
      count[1]++;
    count[0]++;
    p = nl ? e + 1 : b;
  }
}

/* PATH's text: a private read-only map of a regular file (*MAP set; TEXT not NUL-terminated),
 * else the whole text read (*MAP NULL; TEXT NUL-terminated, the caller's to free). */
static char *
csv_open (const char *path, gboolean map_it, GMappedFile **map, gsize *len, GError **error)
{
  *map = NULL;
  GStatBuf st;
  if (map_it && g_stat (path, &st) == 0 && S_ISREG (st.st_mode) && st.st_size > 0) {
    int fd = g_open (path, O_RDONLY, 0);
    GError *e = NULL;
    if (fd >= 0) {
      *map = g_mapped_file_new_from_fd (fd, FALSE, &e);
      close (fd);
      if (*map) {
        *len = g_mapped_file_get_length (*map);
        return (char *) g_mapped_file_get_contents (*map);
      }
      g_error_free (e);   /* read it instead */
    }
  }
  return mixem_read_file (path, len, error);
}

static gboolean
weight_leaf (size_t first, size_t n, double *out, void *user, GError **error)
{
  const mixem_dataset *ds = user;
  double s = 0.0;
  for (size_t i = first; i < first + n; i++)
    s += ds->w ? ds->w[i] : 1.0;
  *out = s;
  return TRUE;
}

static void part_offsets (size_t n, size_t grain, int p, size_t *off);

static mixem_dataset *read_csv (const char *path, const mixem_csv_options *opts, gboolean part,
                                size_t grain, const size_t *range, const int *as_rank,
                                GError **error);

mixem_dataset *
mixem_dataset_read_csv (const char *path, const mixem_csv_options *opts, GError **error)
{
  return read_csv (path, opts, FALSE, 0, NULL, NULL, error);
}

/* A weighted dataset's total weight by the fits' tree (a part: over all ranks, the same bits
 * as one process's fit computes); a total of zero is an error (the same on every rank, so no
 * rank waits alone).  TRUE for an unweighted one. */
static gboolean
tree_total_weight (mixem_dataset *ds, size_t grain, GError **error)
{
  if (!ds->w)
    return TRUE;
  if (!mixem_tree_reduce (ds, 0, ds->n, grain, 1, weight_leaf, NULL, ds, &ds->total_w, error))
    return FALSE;
  if (!(ds->total_w > 0.0)) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: the row weights sum to zero",
                 ds->source);
    return FALSE;
  }
  return TRUE;
}

mixem_dataset *
mixem_dataset_read_csv_part (const char *path, const mixem_csv_options *opts, size_t grain,
                             GError **error)
{
  if (!mixem_parallel_init (error))
    return NULL;
  grain = grain > 0 ? (grain + 63) / 64 * 64 : 64 * 256;
  mixem_dataset *ds = read_csv (path, opts, TRUE, grain, NULL, NULL, error);
  if (!mixem_parallel_agree (error)) {
    mixem_dataset_free (ds);
    return NULL;
  }
  if (!tree_total_weight (ds, grain, error)
      || (opts && opts->allow_missing && !part_missing_agree (ds, error))) {
    mixem_dataset_free (ds);
    return NULL;
  }
  return ds;
}

mixem_dataset *
mixem_dataset_read_csv_as_rank (const char *path, const mixem_csv_options *opts, size_t grain,
                                int np, int me, GError **error)
{
  const int as_rank[2] = { np, me };
  return read_csv (path, opts, TRUE, grain, NULL, as_rank, error);
}

/* The CSV reader.  With PART, only this rank's rows are parsed, found by byte ranges (above);
 * AS_RANK (rank AS_RANK[1] of AS_RANK[0], in one process: every range counted here) is for tests.
 * With RANGE, the file's rows [RANGE[0], RANGE[1]) (a shard's piece), or with RANGE[0] = RANGE[1]
 * = 0 the header and the file's row count (n_all) alone, or with RANGE[0] > RANGE[1] the header
 * alone (n_all 0). */
static mixem_dataset *
read_csv (const char *path, const mixem_csv_options *opts, gboolean part, size_t grain,
          const size_t *range, const int *as_rank, GError **error)
{
  static const mixem_csv_options defaults = { 0 };
  if (!opts)
    opts = &defaults;
  char delim = opts->delimiter ? opts->delimiter : ',';
  GError *err = NULL;
  /* A share is read through a map, of which it touches only the bytes of its rows. */
  GMappedFile *map = NULL;
  gsize text_len = 0;
  char *text = csv_open (path, part || range, &map, &text_len, &err);
  /* Missing-value tokens: the defaults, or the caller's; a token that reads as a number would
   * make a cell's meaning depend on the option, so it is refused. */
  static const char *const default_missing[] = { "", "NA", "NaN", NULL };
  const char *const *tokens = opts->missing ? opts->missing : default_missing;
  for (size_t t = 0; !err && opts->allow_missing && tokens[t]; t++) {
    double v;
    char *end = NULL;
    if (parse_decimal (tokens[t], &v)
        || (v = g_ascii_strtod (tokens[t], &end), end != tokens[t] && *end == '\0' && isfinite (v))) {
      char *q = mixem_quote (tokens[t], -1);
      g_set_error (&err, MIXEM_ERROR, MIXEM_ERROR_OPTION, "%s: the missing-value token '%s' is "
                   "a number (%g), which could not be told apart from the data's values", path,
                   q, v);
      g_free (q);
    }
  }
  if (!err && (range || part) && (opts->categorical || opts->text_levels))
    g_set_error (&err, MIXEM_ERROR, MIXEM_ERROR_OPTION, "%s: columns of level names are not "
                 "available %s (each %s would code its own levels)", path,
                 range ? "in shards" : "across ranks", range ? "shard" : "rank");
  /* Across ranks, the counts below are gathered: every rank must get there, or none. */
  if ((part && !range && !as_rank && !mixem_parallel_agree (&err)) || err) {
    g_propagate_error (error, err);
    if (map)
      g_mapped_file_unref (map);
    else
      g_free (text);
    return NULL;
  }

  /* A part: rows [lo, hi) of nall, cut at multiples of GRAIN; it starts its scan at the line
   * JUMP_AT (line index JUMP_LINE, row JUMP_ROW) once the header is read, when that is later. */
  size_t nall = 0, lo = 0, hi = 0, *off = NULL;
  size_t jump_at = 0, jump_line = 0, jump_row = 0;
  size_t head_start, head_end = csv_first_line (text, text_len, &head_start);
  const gboolean header_only = range && range[0] > range[1];
  if (range && !header_only) {
    part = TRUE;
    if (range[1] > 0) {   /* a piece: the caller counted the file's rows */
      lo = range[0];
      hi = nall = range[1];
    } else {
      size_t count[2];
      csv_count (text, 0, text_len, head_start, opts->no_header, count);
      nall = count[1];
    }
  } else if (header_only)
    part = TRUE;
  else if (part) {
    /* Rank r counts the lines that start in its byte range; the counts' prefix sums place every
     * range's first line and row in the file. */
    const int np = as_rank ? as_rank[0] : mixem_parallel_size ();
    const int me = as_rank ? as_rank[1] : mixem_parallel_rank ();
    size_t count[2], *cnt = g_new (size_t, 2 * (size_t) np);
    for (int r = as_rank ? 0 : me; r < (as_rank ? np : me + 1); r++) {
      csv_count (text, csv_range_start (text, text_len, np, r),
                 csv_range_start (text, text_len, np, r + 1), head_start, opts->no_header, count);
      cnt[r] = count[0];
      cnt[np + r] = count[1];
    }
    if (!as_rank) {
      mixem_comm_allgather_size (count[0], cnt);
      mixem_comm_allgather_size (count[1], cnt + np);
    }
    for (int r = 0; r < np; r++)
      nall += cnt[np + r];
    off = g_new (size_t, np + 1);
    part_offsets (nall, grain, np, off);
    lo = off[me];
    hi = off[me + 1];
    /* The range holding row lo, and where it starts. */
    size_t line0 = 0, row0 = 0;
    for (int r = 0; lo < hi && r < np; r++) {
      if (row0 + cnt[np + r] > lo) {
        jump_at = csv_range_start (text, text_len, np, r);
        jump_line = line0;
        jump_row = row0;
        break;
      }
      line0 += cnt[r];
      row0 += cnt[np + r];
    }
    if (jump_at < head_end)
      jump_at = 0;
    g_free (cnt);
  }
  mixem_dataset *ds = NULL;
  char **names = NULL;       /* all column names of the file */
  size_t ncols = 0, header_line = 0;
  int *sel = NULL, wcol = -1;
  size_t nsel = 0;
  GArray *x = g_array_new (FALSE, FALSE, sizeof (double));
  GArray *w = g_array_new (FALSE, FALSE, sizeof (double));
  GArray *lno = g_array_new (FALSE, FALSE, sizeof (guint32));
  GPtrArray *f = g_ptr_array_new ();
  size_t row = 0;
  /* Categorical columns: their cells' text (pointers into TEXT), coded once all are read. */
  const gboolean want_text = opts->categorical || opts->text_levels;
  gboolean *is_cat = NULL;
  GPtrArray *cells = want_text ? g_ptr_array_new () : NULL;

  /* Lines of a whole text are cut in place (fields, and categorical cells, point into TEXT,
   * which lives until the end); a map's are copied one at a time into LINE_BUF. */
  GString *line_buf = map ? g_string_new (NULL) : NULL;
  char *next = text, *const text_end = text + text_len;
  for (size_t li = 0; next < text_end; li++) {
    char *line = next, *nl = memchr (line, '\n', (size_t) (text_end - line));
    const size_t len = nl ? (size_t) (nl - line) : (size_t) (text_end - line);
    next = nl ? nl + 1 : text_end;
    /* A NUL byte would end the line early and silently drop the rest. */
    if (memchr (line, '\0', len)) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s:%zu: a NUL byte (not a text file?)",
                   path, li + 1);
      goto done;
    }
    if (csv_skipped (line, line + len))
      continue;
    /* A part parses its own rows only, and stops after them. */
    if (part && names && row >= hi)
      break;
    if (part && names && row < lo) {
      row++;
      continue;
    }
    if (map) {
      g_string_truncate (line_buf, 0);
      line = g_string_append_len (line_buf, line, (gssize) len)->str;
    } else
      line[len] = '\0';
    if (len > 0 && line[len - 1] == '\r')
      line[len - 1] = '\0';
    split_fields (line, delim, f);

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
            goto done;
          }
      /* Two columns of one name would make a name select whichever comes first. */
      GHashTable *seen = g_hash_table_new (g_str_hash, g_str_equal);
      for (size_t j = 0; !opts->no_header && j < ncols; j++) {
        gpointer at;
        if (g_hash_table_lookup_extended (seen, names[j], NULL, &at)) {
          char *q = mixem_quote (names[j], -1);
          g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA,
                       "%s:%zu: columns %zu and %zu are both named '%s'", path, li + 1,
                       (size_t) GPOINTER_TO_SIZE (at) + 1, j + 1, q);
          g_free (q);
          g_hash_table_destroy (seen);
          goto done;
        }
        g_hash_table_insert (seen, names[j], GSIZE_TO_POINTER (j));
      }
      g_hash_table_destroy (seen);
      if (opts->weights) {
        wcol = find_name (names, ncols, opts->weights);
        if (wcol < 0) {
          char *q = mixem_quote (opts->weights, -1);
          g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: no weight column '%s'", path, q);
          g_free (q);
          goto done;
        }
      }
      sel = g_new (int, ncols + (opts->columns ? g_strv_length ((char **) opts->columns) : 0));
      if (opts->columns) {
        for (size_t c = 0; opts->columns[c]; c++) {
          int j = find_name (names, ncols, opts->columns[c]);
          if (j < 0) {
            char *q = mixem_quote (opts->columns[c], -1);
            g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: no column '%s'", path, q);
            g_free (q);
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
        goto done;
      }
      is_cat = g_new0 (gboolean, nsel);
      for (size_t c = 0; opts->categorical && opts->categorical[c]; c++) {
        int j = find_name (names, ncols, opts->categorical[c]);
        if (j < 0) {
          char *q = mixem_quote (opts->categorical[c], -1);
          g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: no categorical column '%s'",
                       path, q);
          g_free (q);
          goto done;
        }
        for (size_t s = 0; s < nsel; s++)
          is_cat[s] = is_cat[s] || sel[s] == j;
      }
      if (part && hi > lo)   /* its rows' doubles, in one allocation */
        g_array_set_size (g_array_set_size (x, (hi - lo) * nsel), 0);
      /* A part goes on from the range that holds its first row (or no further). */
      if (part && (lo == hi || header_only))
        break;
      if (jump_at > 0) {
        next = text + jump_at;
        li = jump_line - 1;
        row = jump_row;
        continue;
      }
      if (!opts->no_header)
        continue;
      if (part && lo > 0) {   /* no header: the first line is row 0, not this part's */
        row++;
        continue;
      }
    }

    row++;
    if (f->len != ncols) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA,
                   "%s:%zu: row %zu has %u fields, but the %s has %zu", path, li + 1, row,
                   f->len, opts->no_header ? "first row" : "header", ncols);
      goto done;
    }
    for (size_t c = 0; c < nsel; c++) {
      double v = 0.0;
      const char *cell = g_ptr_array_index (f, sel[c]);
      if (cells)
        g_ptr_array_add (cells, (gpointer) cell);
      GError *cerr = NULL;
      if (opts->allow_missing && g_strv_contains (tokens, cell)) {
        v = NAN;
        g_array_append_val (x, v);
        continue;
      }
      /* A categorical column takes any text but the empty cell, which is refused as before. */
      if ((!is_cat[c] || *cell == '\0')
          && !parse_cell (cell, &v, path, li + 1, row, names[sel[c]], &cerr)) {
        if (!opts->text_levels || *cell == '\0') {
          g_propagate_error (error, cerr);
          goto done;
        }
        g_clear_error (&cerr);
        is_cat[c] = TRUE;
      }
      g_array_append_val (x, v);
    }
    if (wcol >= 0) {
      double v;
      if (!parse_cell (g_ptr_array_index (f, wcol), &v, path, li + 1, row, names[wcol], error)) {
        goto done;
      }
      if (v < 0) {
        char *q = mixem_quote (names[wcol], -1);
        g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA,
                     "%s:%zu: row %zu, column '%s': negative weight (%g)", path, li + 1, row, q, v);
        g_free (q);
        goto done;
      }
      g_array_append_val (w, v);
    }
    guint32 l32 = (guint32) (li + 1);
    g_array_append_val (lno, l32);
  }

  if (!names) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: the file is empty", path);
    goto done;
  }
  if (!header_only && (part ? nall == 0 : row == 0)) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s:%zu: a header but no data rows",
                 path, header_line);
    goto done;
  }
  if (part && lo < hi && row < hi) {   /* counted, then not found: the file changed */
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: %zu data rows where %zu were "
                 "counted (did the file change while it was read?)", path, row, hi);
    goto done;
  }

  const size_t nrows = part ? hi - lo : row;
  if (nrows && x->len == nrows * nsel) {   /* the rows read are the data: no second copy */
    ds = dataset_alloc_full (nrows, nsel, path, FALSE);
    ds->x = ds->x_owned = g_realloc (g_array_steal (x, NULL), nrows * nsel * sizeof (double));
  } else {
    ds = dataset_alloc (nrows, nsel, path);
    if (nrows)
      memcpy (ds->x_owned, x->data, nrows * nsel * sizeof (double));
  }
  if (range)
    ds->n_all = nall;
  else if (part) {
    ds->row0 = lo;
    ds->n_all = nall;
    ds->total_w = (double) nall;
    ds->part = off;
    ds->grain = grain;
    off = NULL;
  }
  if (opts->allow_missing)
    mask_from_nan (ds);
  for (size_t c = 0; cells && c < nsel; c++)
    if (is_cat[c]) {
      if (!ds->levels)
        ds->levels = g_new0 (char **, nsel);
      code_levels (ds, c, (const char **) cells->pdata);
    }
  for (size_t c = 0; c < nsel; c++)
    ds->names[c] = g_strdup (names[sel[c]]);
  ds->lines = (guint32 *) g_array_steal (lno, NULL);
  if (part && wcol >= 0)   /* each checked as it was read; the total is the ranks' */
    ds->w = nrows ? g_memdup2 (w->data, nrows * sizeof (double)) : g_new0 (double, 1);
  else if ((wcol >= 0 && !set_weights (ds, (double *) w->data, error))
           || (!part && !check_missing_columns (ds, error))) {   /* a part's: all ranks' */
    mixem_dataset_free (ds);
    ds = NULL;
    goto done;
  }
  dataset_compact (ds);

done:
  g_free (off);
  if (map)
    g_mapped_file_unref (map);
  else
    g_free (text);
  if (line_buf)
    g_string_free (line_buf, TRUE);
  g_strfreev (names);
  g_free (sel);
  g_array_free (x, TRUE);
  g_array_free (w, TRUE);
  g_array_free (lno, TRUE);
  g_ptr_array_free (f, TRUE);
  if (cells)
    g_ptr_array_free (cells, TRUE);
  g_free (is_cat);
  return ds;
}

/* ---- NumPy .npy ---------------------------------------------------------------------------- */

/* The value of KEY in the header dictionary TEXT, as the text after its colon. */
static const char *
npy_field (const char *text, const char *key)
{
  const char *p = strstr (text, key);
  if (!p)
    return NULL;
  p = strchr (p + strlen (key), ':');
  if (!p)
    return NULL;
  p++;
  while (*p == ' ')
    p++;
  return p;
}

/* Rank R of P's rows of N, cut at multiples of GRAIN: the chunks of GRAIN rows shared out
 * evenly in order.  OFF gets P + 1 offsets. */
static void
part_offsets (size_t n, size_t grain, int p, size_t *off)
{
  const size_t chunks = (n + grain - 1) / grain;
  for (int r = 0; r <= p; r++)
    off[r] = MIN (n, grain * (chunks * (size_t) r / (size_t) p));
}

/* The .npy reader; with PART, only this rank's rows (mixem/parallel.h). */
static mixem_dataset *
read_npy (const char *path, gboolean allow_missing, gboolean part, size_t grain,
          const size_t *range, GError **error);

mixem_dataset *
mixem_dataset_read_npy (const char *path, GError **error)
{
  return read_npy (path, FALSE, FALSE, 0, NULL, error);
}

mixem_dataset *
mixem_dataset_read_npy_part (const char *path, size_t grain, GError **error)
{
  return mixem_dataset_read_npy_part_missing (path, grain, FALSE, error);
}

mixem_dataset *
mixem_dataset_read_npy_part_missing (const char *path, size_t grain, gboolean allow_missing,
                                     GError **error)
{
  if (!mixem_parallel_init (error))
    return NULL;
  /* Whole chunks of 64 blocks (comm.h). */
  grain = grain > 0 ? (grain + 63) / 64 * 64 : 64 * 256;
  mixem_dataset *ds = read_npy (path, allow_missing, TRUE, grain, NULL, error);
  /* A file missing or bad on one node stops every rank with its message. */
  if (!mixem_parallel_agree (error)) {
    mixem_dataset_free (ds);
    return NULL;
  }
  /* Every rank must have seen the same shape. */
  size_t *all = g_new (size_t, mixem_parallel_size ());
  mixem_comm_allgather_size (ds->n_all * 1000003 + ds->d, all);
  for (int r = 0; r < mixem_parallel_size () && !(error && *error); r++)
    if (all[r] != all[0])
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: the ranks see files of different "
                   "shapes (rank 0 and rank %d)", path, r);
  g_free (all);
  if (!mixem_parallel_agree (error) || (allow_missing && !part_missing_agree (ds, error))) {
    mixem_dataset_free (ds);
    return NULL;
  }
  return ds;
}

static mixem_dataset *
read_npy (const char *path, gboolean allow_missing, gboolean part, size_t grain,
          const size_t *range, GError **error)
{
  GError *ferr = NULL;
  GMappedFile *map = g_mapped_file_new (path, FALSE, &ferr);
  if (!map) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_IO, "%s: %s", path, ferr->message);
    g_error_free (ferr);
    return NULL;
  }
  const char *buf = g_mapped_file_get_contents (map);
  const gsize len = g_mapped_file_get_length (map);
  const guchar *u = (const guchar *) buf;
  mixem_dataset *ds = NULL;
  const char *why = NULL;
  char *header = NULL;
  size_t hlen = 0, start = 0;
  if (len < 10 || memcmp (buf, "\x93NUMPY", 6) != 0)
    why = "not a NumPy .npy file (no \\x93NUMPY magic)";
  else if (u[6] == 1) {
    hlen = u[8] | (size_t) u[9] << 8;
    start = 10;
  } else if ((u[6] == 2 || u[6] == 3) && len >= 12) {
    hlen = u[8] | (size_t) u[9] << 8 | (size_t) u[10] << 16 | (size_t) u[11] << 24;
    start = 12;
  } else
    why = "unsupported .npy format version";
  if (!why && start + hlen > len)
    why = "the file ends inside its header";
  size_t n = 0, d = 1, width = 0;
  char kind = 0;
  gboolean fortran = FALSE;
  if (!why) {
    header = g_strndup (buf + start, hlen);
    const char *descr = npy_field (header, "'descr'");
    const char *order = npy_field (header, "'fortran_order'");
    const char *shape = npy_field (header, "'shape'");
    /* descr[1] and descr[2] are read below: the header may end right after the quote. */
    if (!descr || !order || !shape || *descr != '\'' || !descr[1] || !descr[2]
        || *shape != '(')
      why = "malformed .npy header";
    else {
      const char endian = descr[1];
      kind = descr[2];
      width = (size_t) g_ascii_strtoull (descr + 3, NULL, 10);
      fortran = g_str_has_prefix (order, "True");
      if (endian == '>' && width > 1)
        why = "big-endian .npy data are not supported";
      else if (!((kind == 'f' && (width == 4 || width == 8)) || ((kind == 'i' || kind == 'u')
                  && (width == 1 || width == 2 || width == 4 || width == 8))
                 || (kind == 'b' && width == 1)))
        why = "unsupported .npy dtype (float, int, uint or bool expected)";
      else {
        char *end;
        guint64 a = g_ascii_strtoull (shape + 1, &end, 10);
        while (*end == ' ')
          end++;
        if (end == shape + 1)
          why = "the .npy shape must have 1 or 2 dimensions";
        else if (*end == ',') {
          char *e2;
          const char *q = end + 1;
          while (*q == ' ')
            q++;
          guint64 b = *q == ')' ? 1 : g_ascii_strtoull (q, &e2, 10);
          if (*q != ')' && (e2 == q || (*e2 != ')' && !(*e2 == ',' && e2[1] == ')'))))
            why = "the .npy shape must have 1 or 2 dimensions";
          n = (size_t) a;
          d = (size_t) b;
        } else
          why = "malformed .npy shape";
      }
    }
  }
  if (!why && (n == 0 || d == 0))
    why = "the array is empty";
  /* Every size product is checked: a shape such as (2^63, 2) must not wrap around to the file's
   * length (nor make the doubles array overflow). */
  gsize cells = 0, bytes = 0, dbytes = 0;
  if (!why && (!g_size_checked_mul (&cells, n, d) || !g_size_checked_mul (&bytes, cells, width)
               || !g_size_checked_mul (&dbytes, cells, sizeof (double))
               || bytes > len - start - hlen))
    why = "the file is shorter than its shape says (truncated?)";
  if (!why && start + hlen + bytes != len)
    why = "the file is longer than its shape says";
  if (why) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: %s", path, why);
    goto done;
  }
  const gboolean bytes_kept = (kind == 'u' || kind == 'b') && width == 1;
  const gboolean mapped = kind == 'f' && width == 8 && !fortran
                          && G_BYTE_ORDER == G_LITTLE_ENDIAN
                          && (guintptr) (u + start + hlen) % sizeof (double) == 0;
  /* A part reads rows [lo, lo + n) of the file's nall: row i of the part is file row lo + i. */
  const size_t nall = n;
  size_t lo = 0, *off = NULL;
  if (part) {
    off = g_new (size_t, mixem_parallel_size () + 1);
    part_offsets (nall, grain, mixem_parallel_size (), off);
    lo = off[mixem_parallel_rank ()];
    n = off[mixem_parallel_rank () + 1] - lo;
    dbytes = n * d * sizeof (double);
  }
  if (range) {   /* a shard's piece: the file's rows [range[0], range[1]) */
    lo = MIN (range[0], nall);
    n = MIN (MAX (range[1], lo), nall) - lo;
    dbytes = n * d * sizeof (double);
  }
  ds = dataset_alloc_full (n, d, path, FALSE);
  if (range)
    ds->n_all = nall;
  if (part) {
    ds->row0 = lo;
    ds->n_all = nall;
    ds->total_w = (double) nall;
    ds->part = off;
    ds->grain = grain;
  }
  if (!bytes_kept && !mapped) {
    /* At most 8 times the file's size (just checked), but perhaps more than this machine has. */
    ds->x = ds->x_owned = g_try_malloc (MAX (dbytes, sizeof (double)));
    if (!ds->x_owned) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: out of memory for %zu x %zu values "
                   "(%.3g GB)", path, n, d, (double) dbytes / 1e9);
      mixem_dataset_free (ds);
      ds = NULL;
      goto done;
    }
  }
  for (size_t j = 0; j < d; j++)
    ds->names[j] = g_strdup_printf ("%zu", j + 1);
  const guchar *data = u + start + hlen;
  if (bytes_kept) {
    /* Bytes stay bytes: no copy of doubles is ever made. */
    ds->x8 = g_new (guint8, n * d > 0 ? n * d : 1);   /* a part may be empty */
    for (size_t i = 0; i < n; i++)
      for (size_t j = 0; j < d; j++)
        ds->x8[i * d + j] = data[fortran ? j * nall + lo + i : (lo + i) * d + j];
    goto done;
  }
  if (mapped) {
    /* float64 in C order is used where it lies in the mapped file (larger than memory is fine);
     * one pass checks that every value is finite. */
    const double *x = (const double *) (const void *) data + lo * d;
    for (size_t i = 0; i < n * d; i++)
      if (!isfinite (x[i]) && !(allow_missing && isnan (x[i]))) {
        g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: row %zu, column %zu: %g is not "
                     "a finite number", path, lo + i / d + 1, i % d + 1, x[i]);
        mixem_dataset_free (ds);
        ds = NULL;
        goto done;
      }
    ds->x = x;
    ds->map = g_mapped_file_ref (map);
    if (allow_missing)
      mask_from_nan (ds);
    goto finish;
  }
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < d; j++) {
      const guchar *e = data + (fortran ? j * nall + lo + i : (lo + i) * d + j) * width;
      double v = 0.0;
      /* Little-endian values of any supported width, widened to double. */
      guint64 bits = 0;
      for (size_t b = 0; b < width; b++)
        bits |= (guint64) e[b] << (8 * b);
      if (kind == 'f' && width == 8) {
        memcpy (&v, &bits, 8);
      } else if (kind == 'f') {
        guint32 b32 = (guint32) bits;
        float f;
        memcpy (&f, &b32, 4);
        v = f;
      } else if (kind == 'i') {
        const int shift = 64 - 8 * (int) width;
        v = (double) ((gint64) (bits << shift) >> shift);
      } else
        v = (double) bits;
      if (!isfinite (v) && !(allow_missing && isnan (v))) {
        g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: row %zu, column %zu: %g is not a "
                     "finite number", path, lo + i + 1, j + 1, v);
        mixem_dataset_free (ds);
        ds = NULL;
        goto done;
      }
      ds->x_owned[i * d + j] = v;
    }
  if (allow_missing)
    mask_from_nan (ds);
finish:
  if (!part && !range && !check_missing_columns (ds, error)) {   /* a part's: all ranks' */
    mixem_dataset_free (ds);
    ds = NULL;
    goto done;
  }
  dataset_compact (ds);
done:
  g_free (header);
  g_mapped_file_unref (map);
  return ds;
}

mixem_dataset *
mixem_dataset_read_npy_missing (const char *path, gboolean allow_missing, GError **error)
{
  return read_npy (path, allow_missing, FALSE, 0, NULL, error);
}

mixem_dataset *
mixem_dataset_read_npy_rows (const char *path, size_t lo, size_t hi, size_t *n_all,
                             GError **error)
{
  const size_t range[2] = { lo, MAX (lo, hi) };
  mixem_dataset *ds = read_npy (path, FALSE, FALSE, 0, range, error);
  if (!ds)
    return NULL;
  if (n_all)
    *n_all = ds->n_all;
  ds->n_all = ds->n;   /* a dataset of these rows alone, not a piece of the file's */
  return ds;
}

/* ---- shard files ------------------------------------------------------------------------ */

/* Shard S's rows [LO, HI) (of the file), as a dataset; its header and row count alone (LO = HI
 * = 0); or its header alone, when LO > HI (a .npy's header holds its count anyway). */
static mixem_dataset *
read_shard_rows (const char *path, const mixem_csv_options *opts, size_t lo, size_t hi,
                 GError **error)
{
  const size_t range[2] = { lo, hi }, count[2] = { 0, 0 };
  return g_str_has_suffix (path, ".npy")
           ? read_npy (path, opts && opts->allow_missing, FALSE, 0, lo > hi ? count : range,
                       error)
           : read_csv (path, opts, FALSE, 0, range, NULL, error);
}

mixem_dataset *
mixem_dataset_read_shards (const char *const *paths, const mixem_csv_options *opts,
                           gboolean part, size_t grain, GError **error)
{
  const size_t ns = paths ? g_strv_length ((char **) paths) : 0;
  if (ns == 0) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_IO, "no shard files given");
    return NULL;
  }
  GError *err = NULL;
  if (part && !mixem_parallel_init (error))
    return NULL;
  grain = grain > 0 ? (grain + 63) / 64 * 64 : 64 * 256;
  /* Every shard's names and columns (each rank reads every header: the same view) and rows:
   * across ranks, rank s mod P counts the rows of CSV shard s, the others take its count. */
  const int np = part ? mixem_parallel_size () : 1, me = part ? mixem_parallel_rank () : 0;
  size_t *start = g_new0 (size_t, ns + 1), *rows = g_new0 (size_t, ns);
  mixem_dataset *first = NULL, *ds = NULL;
  GPtrArray *pieces = g_ptr_array_new_with_free_func ((GDestroyNotify) mixem_dataset_free);
  for (size_t s = 0; s < ns && !err; s++) {
    const gboolean mine = (int) (s % (size_t) np) == me;
    mixem_dataset *h = read_shard_rows (paths[s], opts, mine ? 0 : 1, 0, &err);
    if (!h)
      break;
    rows[s] = h->n_all;
    if (!first) {
      first = h;
      continue;
    }
    gboolean same = h->d == first->d && (h->w != NULL) == (first->w != NULL);
    for (size_t j = 0; same && j < h->d; j++)
      same = strcmp (h->names[j], first->names[j]) == 0;
    if (!same)
      g_set_error (&err, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: its columns differ from those of "
                   "%s (the first shard)", paths[s], paths[0]);
    mixem_dataset_free (h);
  }
  if (part && np > 1 && mixem_parallel_agree (&err)) {
    /* Each shard's count from the rank that made it (a sum over ranks of one count and zeros). */
    double *mine = g_new0 (double, ns), *all = g_new (double, ns * (size_t) np);
    size_t *counts = g_new (size_t, np);
    for (size_t s = me; s < ns; s += (size_t) np)
      mine[s] = (double) rows[s];
    for (int r = 0; r < np; r++)
      counts[r] = ns;
    mixem_comm_allgatherv (mine, ns, all, counts);
    for (size_t s = 0; s < ns; s++)
      rows[s] = (size_t) all[(s % (size_t) np) * ns + s];
    g_free (mine);
    g_free (all);
    g_free (counts);
  }
  for (size_t s = 0; s < ns; s++)
    start[s + 1] = start[s] + rows[s];
  size_t lo = 0, hi = 0, *off = NULL;
  if (!(err)) {
    const size_t nall = start[ns];
    if (part) {
      off = g_new (size_t, mixem_parallel_size () + 1);
      part_offsets (nall, grain, mixem_parallel_size (), off);
      lo = off[mixem_parallel_rank ()];
      hi = off[mixem_parallel_rank () + 1];
    } else
      hi = nall;
    /* This rank's rows, from each shard they fall in. */
    for (size_t s = 0; s < ns && !(err); s++) {
      const size_t a = MAX (lo, start[s]), b = MIN (hi, start[s + 1]);
      if (a >= b)
        continue;
      mixem_dataset *piece = read_shard_rows (paths[s], opts, a - start[s], b - start[s], &err);
      if (piece)
        g_ptr_array_add (pieces, piece);
    }
  }
  if (!(err)) {
    const size_t n = hi - lo, d = first->d;
    char *source = ns == 1 ? g_strdup (paths[0])
                           : g_strdup_printf ("%s (and %zu more shards)", paths[0], ns - 1);
    ds = dataset_alloc (n, d, source);
    g_free (source);
    for (size_t j = 0; j < d; j++)
      ds->names[j] = g_strdup (first->names[j]);
    if (first->w)
      ds->w = g_new0 (double, MAX (n, 1));
    size_t at = 0;
    for (guint p = 0; p < pieces->len; p++) {
      const mixem_dataset *piece = g_ptr_array_index (pieces, p);
      if (piece->n)   /* (bytes are widened in place) */
        memmove (ds->x_owned + at * d, mixem_dataset_block (piece, 0, piece->n,
                                                            ds->x_owned + at * d),
                 piece->n * d * sizeof (double));
      if (ds->w && piece->w)
        memcpy (ds->w + at, piece->w, piece->n * sizeof (double));
      at += piece->n;
    }
    ds->n_all = start[ns];
    ds->total_w = (double) start[ns];
    if (part) {
      ds->row0 = lo;
      ds->part = off;
      off = NULL;
      ds->grain = grain;
    }
    if (opts && opts->allow_missing) {
      mask_from_nan (ds);
      if (!part && !check_missing_columns (ds, &err))
        g_clear_pointer (&ds, mixem_dataset_free);
    }
    if (ds)
      dataset_compact (ds);
  }
  g_free (off);
  g_free (start);
  g_free (rows);
  g_ptr_array_unref (pieces);
  mixem_dataset_free (first);
  if (part ? !mixem_parallel_agree (&err) : err != NULL) {
    g_propagate_error (error, err);
    mixem_dataset_free (ds);
    return NULL;
  }
  if (!tree_total_weight (ds, grain, error)
      || (part && opts && opts->allow_missing && !part_missing_agree (ds, error))) {
    mixem_dataset_free (ds);
    return NULL;
  }
  return ds;
}
