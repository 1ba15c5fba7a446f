/* util.c: the error domain, family options as ordered text pairs, and small helpers that family
 * modules share (cell errors, reading numbers out of GVariant dictionaries). */
#include <config.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>
#include <mixem/mixem.h>
#include "engine.h"

G_DEFINE_QUARK (mixem-error-quark, mixem_error)

char *
mixem_quote (const char *text, gssize len)
{
  if (!text)
    return g_strdup ("(null)");
  const size_t n = len < 0 ? strlen (text) : (size_t) len;
  GString *s = g_string_new (NULL);
  size_t i = 0;
  for (size_t chars = 0; i < n && chars < MIXEM_QUOTE_MAX; i++, chars++) {
    const guchar c = (guchar) text[i];
    if (c >= 0x80) {   /* printable UTF-8 stays as it is */
      const gunichar u = g_utf8_get_char_validated (text + i, (gssize) (n - i));
      if (u != (gunichar) -1 && u != (gunichar) -2 && g_unichar_isprint (u)) {
        const size_t w = (size_t) (g_utf8_next_char (text + i) - (text + i));
        g_string_append_len (s, text + i, (gssize) w);
        i += w - 1;
        continue;
      }
    }
    if (c == '\n')
      g_string_append (s, "\\n");
    else if (c == '\t')
      g_string_append (s, "\\t");
    else if (c == '\r')
      g_string_append (s, "\\r");
    else if (c == '\\')
      g_string_append (s, "\\\\");
    else if (c < 0x20 || c >= 0x7f)
      g_string_append_printf (s, "\\x%02x", c);
    else
      g_string_append_c (s, (char) c);
  }
  if (i < n)
    g_string_append (s, "...");
  return g_string_free (s, FALSE);
}

gboolean
mixem_alloc_fits (double bytes)
{
  static double limit;   /* physical memory, once; a benign race writes the same value */
  if (limit == 0.0) {
    const long pages = sysconf (_SC_PHYS_PAGES), page = sysconf (_SC_PAGESIZE);
    limit = pages > 0 && page > 0 ? (double) pages * (double) page : (double) (G_MAXSIZE / 2);
  }
  return bytes >= 0.0 && bytes <= limit && bytes < (double) (G_MAXSIZE / 2);
}

gpointer
mixem_try_alloc0 (size_t count, size_t size, double *bytes)
{
  const double want = (double) count * (double) size;
  if (bytes)
    *bytes = want;
  gsize n;
  if (!g_size_checked_mul (&n, count, size) || !mixem_alloc_fits (want))
    return NULL;
  return g_try_malloc0 (n > 0 ? n : 1);
}

char *
mixem_format_bytes (double bytes)
{
  static const char *const unit[] = { "bytes", "kB", "MB", "GB", "TB", "PB", "EB" };
  int u = 0;
  for (; u < 6 && bytes >= 1000.0; u++)
    bytes /= 1000.0;
  return u == 0 ? g_strdup_printf ("%.0f bytes", bytes)
                : g_strdup_printf ("%.1f %s", bytes, unit[u]);
}

const char *
mixem_version (void)
{
  return PACKAGE_VERSION;
}

struct mixem_options {
  GPtrArray *keys;    /* owned strings, insertion order */
  GPtrArray *values;
};

mixem_options *
mixem_options_new (void)
{
  mixem_options *o = g_new (mixem_options, 1);
  o->keys = g_ptr_array_new_with_free_func (g_free);
  o->values = g_ptr_array_new_with_free_func (g_free);
  return o;
}

mixem_options *
mixem_options_copy (const mixem_options *opts)
{
  mixem_options *o = mixem_options_new ();
  for (size_t i = 0; opts && i < opts->keys->len; i++)
    mixem_options_set (o, g_ptr_array_index (opts->keys, i), g_ptr_array_index (opts->values, i));
  return o;
}

void
mixem_options_free (mixem_options *opts)
{
  if (!opts)
    return;
  g_ptr_array_free (opts->keys, TRUE);
  g_ptr_array_free (opts->values, TRUE);
  g_free (opts);
}

void
mixem_options_set (mixem_options *opts, const char *key, const char *value)
{
  for (size_t i = 0; i < opts->keys->len; i++)
    if (strcmp (g_ptr_array_index (opts->keys, i), key) == 0) {
      g_free (opts->values->pdata[i]);
      opts->values->pdata[i] = g_strdup (value);
      return;
    }
  g_ptr_array_add (opts->keys, g_strdup (key));
  g_ptr_array_add (opts->values, g_strdup (value));
}

const char *
mixem_options_get (const mixem_options *opts, const char *key)
{
  for (size_t i = 0; opts && i < opts->keys->len; i++)
    if (strcmp (g_ptr_array_index (opts->keys, i), key) == 0)
      return g_ptr_array_index (opts->values, i);
  return NULL;
}

size_t
mixem_options_size (const mixem_options *opts)
{
  return opts ? opts->keys->len : 0;
}

const char *
mixem_options_key (const mixem_options *opts, size_t i)
{
  g_return_val_if_fail (opts && i < opts->keys->len, NULL);
  return g_ptr_array_index (opts->keys, i);
}

void
mixem_set_cell_error (GError **error, const mixem_block *b, size_t i, size_t col,
                      const char *format, ...)
{
  va_list ap;
  va_start (ap, format);
  char *msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  char *cell = b->ds ? mixem_dataset_cell_name (b->ds, b->first + i,
                                                mixem_block_column (b, col))
                     : g_strdup_printf ("row %zu, column %zu", b->first + i + 1,
                                        mixem_block_column (b, col) + 1);
  g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: %s", cell, msg);
  g_free (cell);
  g_free (msg);
}

gboolean
mixem_dict_get_double (GVariant *dict, const char *family, const char *key, double *out,
                       GError **error)
{
  GVariant *v = g_variant_lookup_value (dict, key, NULL);
  gboolean ok = TRUE;
  if (!v) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT, "%s: component has no '%s'", family,
                 key);
    return FALSE;
  }
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_VARIANT)) {
    GVariant *inner = g_variant_get_variant (v);
    g_variant_unref (v);
    v = inner;
  }
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_DOUBLE))
    *out = g_variant_get_double (v);
  else if (g_variant_is_of_type (v, G_VARIANT_TYPE_INT64))
    *out = (double) g_variant_get_int64 (v);
  else if (g_variant_is_of_type (v, G_VARIANT_TYPE_INT32))
    *out = (double) g_variant_get_int32 (v);
  else if (g_variant_is_of_type (v, G_VARIANT_TYPE ("ad")) && g_variant_n_children (v) == 1)
    g_variant_get_child (v, 0, "d", out);
  else {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT, "%s: '%s' must be a number (got %s)",
                 family, key, g_variant_get_type_string (v));
    ok = FALSE;
  }
  g_variant_unref (v);
  return ok;
}

/* DICT[KEY] without its variant wrapper, or NULL. */
static GVariant *
dict_value (GVariant *dict, const char *key)
{
  GVariant *v = g_variant_lookup_value (dict, key, NULL);
  if (v && g_variant_is_of_type (v, G_VARIANT_TYPE_VARIANT)) {
    GVariant *inner = g_variant_get_variant (v);
    g_variant_unref (v);
    v = inner;
  }
  return v;
}

static gboolean
absent (const char *family, const char *key, gboolean *found, GError **error)
{
  if (found)
    *found = FALSE;
  else
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT, "%s: component has no '%s'", family,
                 key);
  return FALSE;
}

/* Reads V (a number, or an array of numbers) into OUT[0..LEN); FALSE if its shape differs. */
static gboolean
read_numbers (GVariant *v, size_t len, double *out)
{
  if (len == 1 && g_variant_is_of_type (v, G_VARIANT_TYPE_DOUBLE)) {
    out[0] = g_variant_get_double (v);
    return TRUE;
  }
  if (len == 1 && g_variant_is_of_type (v, G_VARIANT_TYPE_INT64)) {
    out[0] = (double) g_variant_get_int64 (v);
    return TRUE;
  }
  if (!g_variant_is_of_type (v, G_VARIANT_TYPE ("ad")))
    return FALSE;
  gsize n = 0;
  const double *a = g_variant_get_fixed_array (v, &n, sizeof (double));
  if (n != len)
    return FALSE;
  if (n)
    memcpy (out, a, n * sizeof (double));
  return TRUE;
}

gboolean
mixem_dict_get_vector (GVariant *dict, const char *family, const char *key, size_t len,
                       double *out, gboolean *found, GError **error)
{
  GVariant *v = dict_value (dict, key);
  if (!v)
    return absent (family, key, found, error);
  if (found)
    *found = TRUE;
  gboolean ok = read_numbers (v, len, out);
  for (size_t i = 0; ok && i < len; i++)
    ok = isfinite (out[i]);
  if (!ok)
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT,
                 "%s: '%s' must be %zu finite number%s (got %s)", family, key, len,
                 len == 1 ? "" : "s", g_variant_get_type_string (v));
  g_variant_unref (v);
  return ok;
}

gboolean
mixem_dict_get_matrix (GVariant *dict, const char *family, const char *key, size_t len,
                       double *out, gboolean *found, GError **error)
{
  GVariant *v = dict_value (dict, key);
  if (!v)
    return absent (family, key, found, error);
  if (found)
    *found = TRUE;
  gboolean ok = g_variant_is_of_type (v, G_VARIANT_TYPE ("aad")) && g_variant_n_children (v) == len;
  for (size_t i = 0; ok && i < len; i++) {
    GVariant *row = g_variant_get_child_value (v, i);
    ok = read_numbers (row, len, out + i * len);
    for (size_t j = 0; ok && j < len; j++)
      ok = isfinite (out[i * len + j]);
    g_variant_unref (row);
  }
  if (!ok)
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT,
                 "%s: '%s' must be a %zu by %zu matrix of finite numbers, as rows", family, key,
                 len, len);
  g_variant_unref (v);
  return ok;
}

gboolean
mixem_dict_check_keys (GVariant *dict, const char *family, const char *const *known,
                       GError **error)
{
  GVariantIter it;
  const char *key;
  GVariant *val;
  g_variant_iter_init (&it, dict);
  while (g_variant_iter_next (&it, "{&sv}", &key, &val)) {
    g_variant_unref (val);
    if (g_strv_contains (known, key))
      continue;
    char *list = g_strjoinv (", ", (char **) known);
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT,
                 "%s: a component has no parameter '%s' (it has: %s)", family, key, list);
    g_free (list);
    return FALSE;
  }
  return TRUE;
}

GVariant *
mixem_variant_vector (const double *x, size_t n)
{
  return g_variant_new_fixed_array (G_VARIANT_TYPE_DOUBLE, x, n, sizeof (double));
}

GVariant *
mixem_variant_matrix (const double *x, size_t d)
{
  GVariantBuilder rows;
  g_variant_builder_init (&rows, G_VARIANT_TYPE ("aad"));
  for (size_t i = 0; i < d; i++)
    g_variant_builder_add_value (&rows, mixem_variant_vector (x + i * d, d));
  return g_variant_builder_end (&rows);
}

double
mixem_options_get_number (const mixem_options *opts, const char *key, double fallback)
{
  const char *v = opts ? mixem_options_get (opts, key) : NULL;
  return v ? g_ascii_strtod (v, NULL) : fallback;
}

/* The spellings of a boolean option; the engine refuses any other. */
gboolean
mixem_parse_boolean (const char *text, gboolean *out)
{
  static const char *const yes[] = { "true", "yes", "1", "on", NULL };
  static const char *const no[] = { "false", "no", "0", "off", NULL };
  for (int i = 0; yes[i]; i++)
    if (g_ascii_strcasecmp (text, yes[i]) == 0 || g_ascii_strcasecmp (text, no[i]) == 0) {
      *out = g_ascii_strcasecmp (text, yes[i]) == 0;
      return TRUE;
    }
  return FALSE;
}

gboolean
mixem_options_get_boolean (const mixem_options *opts, const char *key, gboolean fallback)
{
  const char *v = opts ? mixem_options_get (opts, key) : NULL;
  gboolean b = fallback;
  if (v && !mixem_parse_boolean (v, &b))
    b = fallback;
  return b;
}

int
mixem_spec_column (const mixem_spec *spec, const char *key)
{
  const char *v = mixem_options_get (spec->options, key);
  for (size_t j = 0; v && j < spec->d; j++)
    if (strcmp (spec->names[j], v) == 0)
      return (int) j;
  return -1;
}
