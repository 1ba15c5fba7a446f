/* modelfile.c: models to and from JSON (json-glib), traces to CSV, whole-file reads (atomic
 * writes are in fileio.c).  Component parameters travel as GVariant dictionaries: numbers become doubles, arrays of
 * numbers "ad", arrays of arrays "aad", so that a family's assign() sees the types its describe()
 * made. */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include "engine.h"

/* A regular file is read whole (its size bounds it).  Anything else (a pipe, a device, stdin)
 * is read in chunks until its end, but a line longer than MIXEM_MAX_LINE is an error: /dev/zero or
 * a binary stream would otherwise fill the memory. */
static char *
read_stream (const char *path, int fd, gsize *len, GError **error)
{
  GByteArray *b = g_byte_array_new ();
  gsize line_start = 0, lines = 1;
  for (;;) {
    const gsize at = b->len;
    g_byte_array_set_size (b, at + 65536);
    gssize got = read (fd, b->data + at, 65536);
    if (got < 0 && errno == EINTR) {
      g_byte_array_set_size (b, at);
      continue;
    }
    if (got < 0) {
      int saved = errno;
      g_byte_array_free (b, TRUE);
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_IO, "%s: %s", path, g_strerror (saved));
      return NULL;
    }
    g_byte_array_set_size (b, at + (gsize) got);
    if (got == 0)
      break;
    for (const guint8 *p = b->data + at, *end = b->data + b->len;
         (p = memchr (p, '\n', (size_t) (end - p))); p++) {
      line_start = (gsize) (p - b->data) + 1;
      lines++;
    }
    if (b->len - line_start > MIXEM_MAX_LINE) {
      g_byte_array_free (b, TRUE);
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s:%" G_GSIZE_FORMAT ": a line longer "
                   "than %d MiB (not a text file?)", path, lines, MIXEM_MAX_LINE >> 20);
      return NULL;
    }
  }
  if (len)
    *len = b->len;
  g_byte_array_append (b, (const guint8 *) "", 1);
  return (char *) g_byte_array_free (b, FALSE);
}

char *
mixem_read_file (const char *path, gsize *len, GError **error)
{
  char *text = NULL;
  GError *e = NULL;
  GStatBuf st;
  if (g_stat (path, &st) == 0 && !S_ISREG (st.st_mode) && !S_ISDIR (st.st_mode)) {
    int fd = g_open (path, O_RDONLY, 0);
    if (fd < 0) {
      int saved = errno;
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_IO, "%s: %s", path, g_strerror (saved));
      return NULL;
    }
    text = read_stream (path, fd, len, error);
    close (fd);
    return text;
  }
  if (!g_file_get_contents (path, &text, len, &e)) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_IO, "%s: %s", path, e->message);
    g_error_free (e);
    return NULL;
  }
  return text;
}

/* ---- GVariant <-> JSON ---------------------------------------------------------------------- */

static JsonNode *
variant_to_json (GVariant *v)
{
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_VARIANT)) {
    GVariant *inner = g_variant_get_variant (v);
    JsonNode *n = variant_to_json (inner);
    g_variant_unref (inner);
    return n;
  }
  JsonNode *n;
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_DOUBLE)) {
    n = json_node_new (JSON_NODE_VALUE);
    json_node_set_double (n, g_variant_get_double (v));
  } else if (g_variant_is_of_type (v, G_VARIANT_TYPE_INT64)) {
    n = json_node_new (JSON_NODE_VALUE);
    json_node_set_int (n, g_variant_get_int64 (v));
  } else if (g_variant_is_of_type (v, G_VARIANT_TYPE_BOOLEAN)) {
    n = json_node_new (JSON_NODE_VALUE);
    json_node_set_boolean (n, g_variant_get_boolean (v));
  } else if (g_variant_is_of_type (v, G_VARIANT_TYPE_STRING)) {
    n = json_node_new (JSON_NODE_VALUE);
    json_node_set_string (n, g_variant_get_string (v, NULL));
  } else if (g_variant_is_of_type (v, G_VARIANT_TYPE_VARDICT)) {
    JsonObject *o = json_object_new ();
    GVariantIter it;
    const char *key;
    GVariant *val;
    g_variant_iter_init (&it, v);
    while (g_variant_iter_next (&it, "{&sv}", &key, &val)) {
      json_object_set_member (o, key, variant_to_json (val));
      g_variant_unref (val);
    }
    n = json_node_new (JSON_NODE_OBJECT);
    json_node_take_object (n, o);
  } else if (g_variant_is_container (v)) {
    JsonArray *a = json_array_new ();
    for (gsize i = 0; i < g_variant_n_children (v); i++) {
      GVariant *c = g_variant_get_child_value (v, i);
      json_array_add_element (a, variant_to_json (c));
      g_variant_unref (c);
    }
    n = json_node_new (JSON_NODE_ARRAY);
    json_node_take_array (n, a);
  } else {
    n = json_node_new (JSON_NODE_NULL);
  }
  return n;
}

/* JSON value -> GVariant: numbers as doubles, arrays of numbers as "ad", nested arrays "aad". */
static GVariant *
json_to_variant (JsonNode *n, const char *where, GError **error)
{
  switch (json_node_get_node_type (n)) {
  case JSON_NODE_VALUE: {
    GType t = json_node_get_value_type (n);
    if (t == G_TYPE_INT64 || t == G_TYPE_DOUBLE)
      return g_variant_new_double (json_node_get_double (n));
    if (t == G_TYPE_BOOLEAN)
      return g_variant_new_boolean (json_node_get_boolean (n));
    if (t == G_TYPE_STRING)
      return g_variant_new_string (json_node_get_string (n));
    break;
  }
  case JSON_NODE_ARRAY: {
    JsonArray *a = json_node_get_array (n);
    guint len = json_array_get_length (a);
    if (len > 0 && JSON_NODE_HOLDS_OBJECT (json_array_get_element (a, 0))) {
      GVariantBuilder ob;
      g_variant_builder_init (&ob, G_VARIANT_TYPE ("aa{sv}"));
      for (guint i = 0; i < len; i++) {
        char *w = g_strdup_printf ("%s[%u]", where, i + 1);
        JsonNode *e = json_array_get_element (a, i);
        GVariant *c = JSON_NODE_HOLDS_OBJECT (e) ? json_to_variant (e, w, error) : NULL;
        if (!c && !(error && *error))
          g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT, "%s: an object was expected", w);
        g_free (w);
        if (!c) {
          g_variant_builder_clear (&ob);
          return NULL;
        }
        g_variant_builder_add_value (&ob, c);
      }
      return g_variant_builder_end (&ob);
    }
    gboolean nested = len > 0 && JSON_NODE_HOLDS_ARRAY (json_array_get_element (a, 0));
    GVariantBuilder b;
    g_variant_builder_init (&b, nested ? G_VARIANT_TYPE ("aad") : G_VARIANT_TYPE ("ad"));
    for (guint i = 0; i < len; i++) {
      JsonNode *e = json_array_get_element (a, i);
      GVariant *c = NULL;
      if (nested && JSON_NODE_HOLDS_ARRAY (e)) {
        c = json_to_variant (e, where, error);
        if (!c) {
          g_variant_builder_clear (&b);
          return NULL;
        }
        if (!g_variant_is_of_type (c, G_VARIANT_TYPE ("ad"))) {
          g_variant_unref (g_variant_ref_sink (c));
          c = NULL;
        }
      } else if (!nested && JSON_NODE_HOLDS_VALUE (e)
                 && (json_node_get_value_type (e) == G_TYPE_DOUBLE
                     || json_node_get_value_type (e) == G_TYPE_INT64))
        c = g_variant_new_double (json_node_get_double (e));
      if (!c) {
        g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT,
                     "%s: an array of numbers (or of arrays of numbers) was expected", where);
        g_variant_builder_clear (&b);
        return NULL;
      }
      g_variant_builder_add_value (&b, c);
    }
    return g_variant_builder_end (&b);
  }
  case JSON_NODE_OBJECT: {
    GVariantDict d;
    g_variant_dict_init (&d, NULL);
    JsonObject *o = json_node_get_object (n);
    GList *members = json_object_get_members (o);
    for (GList *l = members; l; l = l->next) {
      char *key = mixem_quote (l->data, -1);
      char *w = g_strdup_printf ("%s.%s", where, key);
      g_free (key);
      GVariant *v = json_to_variant (json_object_get_member (o, l->data), w, error);
      g_free (w);
      if (!v) {
        g_list_free (members);
        g_variant_dict_clear (&d);
        return NULL;
      }
      g_variant_dict_insert_value (&d, l->data, v);
    }
    g_list_free (members);
    return g_variant_dict_end (&d);
  }
  default:
    break;
  }
  g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT, "%s: unexpected value", where);
  return NULL;
}

/* ---- writing -------------------------------------------------------------------------------- */

static void
add_double (JsonBuilder *b, const char *key, double v)
{
  json_builder_set_member_name (b, key);
  if (isfinite (v))
    json_builder_add_double_value (b, v);
  else
    json_builder_add_null_value (b);
}

/* json-glib 1.6 writes a double such as 1e-10 as "1e-10.0" (it appends ".0" to any number
 * without a point), which no JSON parser accepts, its own included.  This drops that ".0" after
 * an exponent, outside strings, in place. */
static void
fix_exponents (char *text)
{
  gboolean in_string = FALSE;
  char *out = text;
  for (const char *p = text; *p; p++) {
    if (in_string) {
      if (*p == '\\' && p[1])
        *out++ = *p++;
      else if (*p == '"')
        in_string = FALSE;
    } else if (*p == '"')
      in_string = TRUE;
    else if ((*p == 'e' || *p == 'E') && out > text && g_ascii_isdigit (out[-1])) {
      /* An exponent: copy it and its digits, then skip a ".0" that follows. */
      *out++ = *p++;
      if (*p == '+' || *p == '-')
        *out++ = *p++;
      while (g_ascii_isdigit (*p))
        *out++ = *p++;
      if (p[0] == '.' && p[1] == '0' && !g_ascii_isdigit (p[2]))
        p += 2;
      p--;
      continue;
    }
    *out++ = *p;
  }
  *out = '\0';
}

char *
mixem_model_to_json (const mixem_model *m)
{
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "format");
  json_builder_add_string_value (b, "mixem-model");
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, MIXEM_MODEL_FORMAT_VERSION);
  json_builder_set_member_name (b, "family");
  json_builder_add_string_value (b, m->family->name);
  json_builder_set_member_name (b, "k");
  json_builder_add_int_value (b, (gint64) m->k);
  json_builder_set_member_name (b, "d");
  json_builder_add_int_value (b, (gint64) m->d);
  json_builder_set_member_name (b, "columns");
  json_builder_begin_array (b);
  for (size_t j = 0; j < m->d; j++)
    json_builder_add_string_value (b, m->names[j]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "options");
  json_builder_begin_object (b);
  for (size_t i = 0; i < mixem_options_size (m->options); i++) {
    const char *key = mixem_options_key (m->options, i);
    json_builder_set_member_name (b, key);
    json_builder_add_string_value (b, mixem_options_get (m->options, key));
  }
  json_builder_end_object (b);
  json_builder_set_member_name (b, "weights");
  json_builder_begin_array (b);
  for (size_t k = 0; k < m->k; k++)
    json_builder_add_double_value (b, m->weights[k]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "weights_fixed");
  json_builder_add_boolean_value (b, m->weights_fixed);
  if (m->noise) {   /* the noise component: its weight (the K weights sum to 1 - it) and log V */
    json_builder_set_member_name (b, "noise");
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "weight");
    json_builder_add_double_value (b, m->weights[m->k]);
    json_builder_set_member_name (b, "log_volume");
    json_builder_add_double_value (b, m->noise_logv);
    json_builder_end_object (b);
  }
  if (m->conc_q) {   /* concomitant variables: their names and each component's coefficients */
    const size_t q1 = m->conc_q + 1;
    json_builder_set_member_name (b, "concomitant");
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "columns");
    json_builder_begin_array (b);
    for (size_t j = 0; j < m->conc_q; j++)
      json_builder_add_string_value (b, m->conc_names[j]);
    json_builder_end_array (b);
    json_builder_set_member_name (b, "coef");
    json_builder_begin_array (b);
    for (size_t k = 0; k < m->k; k++) {
      json_builder_begin_array (b);
      for (size_t j = 0; j < q1; j++)
        json_builder_add_double_value (b, m->weights[m->k + k * q1 + j]);
      json_builder_end_array (b);
    }
    json_builder_end_array (b);
    json_builder_end_object (b);
  }
  json_builder_set_member_name (b, "components");
  json_builder_begin_array (b);
  for (size_t k = 0; k < m->k; k++) {
    GVariant *c = g_variant_ref_sink (m->family->describe (m->params, k));
    json_builder_add_value (b, variant_to_json (c));
    g_variant_unref (c);
  }
  json_builder_end_array (b);
  add_double (b, "loglik", m->loglik);
  add_double (b, "initial_loglik", m->loglik0);
  json_builder_set_member_name (b, "n_iter");
  json_builder_add_int_value (b, m->n_iter);
  json_builder_set_member_name (b, "converged");
  json_builder_add_boolean_value (b, m->converged);
  if (m->missing_data) {   /* only then: files of complete data stay as they were */
    json_builder_set_member_name (b, "missing_data");
    json_builder_add_boolean_value (b, TRUE);
  }
  json_builder_set_member_name (b, "best_restart");
  json_builder_add_int_value (b, m->best_restart);
  json_builder_set_member_name (b, "algorithm");
  json_builder_add_string_value (b, mixem_algorithm_name (m->algorithm));
  /* model:partial_fit's running statistics, so that a loaded model goes on where it stopped
   * (their layout is the family's, [N_k | loglik | entropy | family statistics]). */
  if (m->online_s) {
    const size_t ss = m->family->stats_size (m->params) + m->k + 2;
    json_builder_set_member_name (b, "online");
    json_builder_begin_object (b);
    add_double (b, "updates", m->online_t);
    add_double (b, "weight", m->online_w);
    json_builder_set_member_name (b, "statistics");
    json_builder_begin_array (b);
    for (size_t i = 0; i < ss; i++) {
      if (isfinite (m->online_s[i]))
        json_builder_add_double_value (b, m->online_s[i]);
      else
        json_builder_add_null_value (b);   /* refused when read */
    }
    json_builder_end_array (b);
    json_builder_end_object (b);
  }
  json_builder_set_member_name (b, "trace");
  json_builder_begin_array (b);
  for (guint i = 0; i < m->trace->len; i++) {
    const mixem_iteration *it = &g_array_index (m->trace, mixem_iteration, i);
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "restart");
    json_builder_add_int_value (b, it->restart);
    json_builder_set_member_name (b, "iter");
    json_builder_add_int_value (b, it->iter);
    add_double (b, "loglik", it->loglik);
    add_double (b, "elbo", it->elbo);
    add_double (b, "kl", it->kl);
    add_double (b, "entropy", it->entropy);
    add_double (b, "delta", it->delta);
    add_double (b, "seconds", it->seconds);
    if (it->extrapolated) {
      json_builder_set_member_name (b, "extrapolated");
      json_builder_add_int_value (b, it->extrapolated);
    }
    if (it->min_step != 0.0)   /* incremental EM's records only (null: not measured) */
      add_double (b, "min_step", it->min_step);
    if (it->log_prior != 0.0)   /* fits with a prior only (null: NAN, no density to give) */
      add_double (b, "log_prior", it->log_prior);
    if (it->temperature != 1.0 && it->temperature != 0.0)   /* annealing's hot records only */
      add_double (b, "temperature", it->temperature);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);

  JsonGenerator *g = json_generator_new ();
  JsonNode *root = json_builder_get_root (b);
  json_generator_set_root (g, root);
  json_generator_set_pretty (g, TRUE);
  char *text = json_generator_to_data (g, NULL);
  fix_exponents (text);
  json_node_unref (root);
  g_object_unref (g);
  g_object_unref (b);
  return text;
}

gboolean
mixem_model_save (const mixem_model *m, const char *path, GError **error)
{
  char *text = mixem_model_to_json (m);
  GString *s = g_string_new (text);
  g_string_append_c (s, '\n');
  gboolean ok = mixem_write_file_atomic (path, s->str, (gssize) s->len, error);
  g_string_free (s, TRUE);
  g_free (text);
  return ok;
}

char *
mixem_trace_to_csv (const mixem_model *m)
{
  GString *s = g_string_new ("iter,loglik,elbo,kl,entropy,delta,seconds,extrapolated\n");
  char buf[7][G_ASCII_DTOSTR_BUF_SIZE];
  for (guint i = 0; i < m->trace->len; i++) {
    const mixem_iteration *it = &g_array_index (m->trace, mixem_iteration, i);
    const double v[6] = { it->loglik, it->elbo, it->kl, it->entropy, it->delta, it->seconds };
    for (int j = 0; j < 6; j++)
      g_ascii_formatd (buf[j], sizeof buf[j], "%.17g", v[j]);
    g_string_append_printf (s, "%d,%s,%s,%s,%s,%s,%s,%d\n", it->iter, buf[0], buf[1], buf[2],
                            buf[3], buf[4], buf[5], it->extrapolated);
  }
  return g_string_free (s, FALSE);
}

gboolean
mixem_trace_save_csv (const mixem_model *m, const char *path, GError **error)
{
  char *text = mixem_trace_to_csv (m);
  gboolean ok = mixem_write_file_atomic (path, text, -1, error);
  g_free (text);
  return ok;
}

/* ---- reading -------------------------------------------------------------------------------- */

/* Looks up member KEY of O with node type TYPE (and, for values, a number/string/bool test). */
static JsonNode *
member (JsonObject *o, const char *key, JsonNodeType type, const char *src, GError **error)
{
  JsonNode *n = json_object_get_member (o, key);
  if (!n || json_node_get_node_type (n) != type) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT, "%s: %s '%s'", src,
                 n ? "wrong type for" : "missing", key);
    return NULL;
  }
  return n;
}

static gboolean
get_number (JsonObject *o, const char *key, const char *src, double *out, GError **error)
{
  JsonNode *n = json_object_get_member (o, key);
  if (n && JSON_NODE_HOLDS_NULL (n)) {
    *out = NAN;
    return TRUE;
  }
  if (!n || !JSON_NODE_HOLDS_VALUE (n)
      || (json_node_get_value_type (n) != G_TYPE_DOUBLE
          && json_node_get_value_type (n) != G_TYPE_INT64)) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT, "%s: %s '%s' (a number)", src,
                 n ? "wrong type for" : "missing", key);
    return FALSE;
  }
  *out = json_node_get_double (n);
  return TRUE;
}

static gboolean
get_count (JsonObject *o, const char *key, const char *src, gint64 lo, gint64 *out,
           GError **error)
{
  double v;
  if (!get_number (o, key, src, &v, error))
    return FALSE;
  if (!(v >= (double) lo) || v != floor (v) || v > 1e9) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT, "%s: '%s' must be a whole number >= %"
                 G_GINT64_FORMAT " (got %g)", src, key, lo, v);
    return FALSE;
  }
  *out = (gint64) v;
  return TRUE;
}

/* "online": partial_fit's running statistics (updates t >= 1, weight W_0 > 0, and the
 * statistics, as many as the family's layout for this model has, all finite) into M. */
static gboolean
read_online (JsonObject *o, const char *src, mixem_model *m, GError **error)
{
  JsonNode *on = json_object_get_member (o, "online");
  const size_t ss = m->family->stats_size (m->params) + m->k + 2;
  char *where = g_strdup_printf ("%s: 'online'", src);
  JsonObject *oo = JSON_NODE_HOLDS_OBJECT (on) ? json_node_get_object (on) : NULL;
  JsonNode *sn = oo ? json_object_get_member (oo, "statistics") : NULL;
  JsonArray *sa = sn && JSON_NODE_HOLDS_ARRAY (sn) ? json_node_get_array (sn) : NULL;
  double t = 0.0, w = 0.0;
  gboolean ok = oo && sa;
  if (!ok)
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT,
                 "%s must be an object with 'updates', 'weight' and the array 'statistics'",
                 where);
  ok = ok && get_number (oo, "updates", where, &t, error)
       && get_number (oo, "weight", where, &w, error);
  if (ok && (!(t >= 1.0) || t != floor (t) || t > 1e15 || !(w > 0.0) || !isfinite (w))) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT,
                 "%s: 'updates' must be a whole number >= 1 and 'weight' a finite number > 0 "
                 "(got %g and %g)", where, t, w);
    ok = FALSE;
  }
  if (ok && json_array_get_length (sa) != ss) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT,
                 "%s: 'statistics' has %u numbers; family '%s' with k = %zu on these options "
                 "has %zu", where, json_array_get_length (sa), m->family->name, m->k, ss);
    ok = FALSE;
  }
  double *s = ok ? g_new (double, ss) : NULL;
  for (guint i = 0; ok && i < ss; i++) {
    JsonNode *e = json_array_get_element (sa, i);
    ok = JSON_NODE_HOLDS_VALUE (e) && (json_node_get_value_type (e) == G_TYPE_DOUBLE
                                       || json_node_get_value_type (e) == G_TYPE_INT64);
    s[i] = ok ? json_node_get_double (e) : NAN;
    if (!ok || !isfinite (s[i])) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT,
                   "%s: statistic %u is not a finite number", where, i + 1);
      ok = FALSE;
    }
  }
  if (ok) {
    g_free (m->online_s);
    m->online_s = s;
    s = NULL;
    m->online_t = t;
    m->online_w = w;
  }
  g_free (s);
  g_free (where);
  return ok;
}

/* json-glib's parser recurses once per level of nesting, so 80 000 '[' overflow the stack.  A
 * model file nests a few levels (model, components, a matrix, its rows); this scan of the bytes
 * refuses more than MIXEM_MODEL_MAX_DEPTH before parsing.  It skips what json-glib 1.6's scanner
 * skips: "strings" (with \ escapes), 'strings' (without) and comments; a bracket skipped here but
 * seen by the parser would defeat the check, so anything else counts, and closers never take the
 * depth below 0. */
#define MIXEM_MODEL_MAX_DEPTH 64

static gboolean read_concomitant (mixem_model *m, JsonNode *node, const char *src,
                                  GError **error);

static gboolean
check_nesting (const char *text, const char *src, GError **error)
{
  int depth = 0;
  size_t line = 1;
  for (const char *p = text; *p; p++) {
    if (*p == '\n')
      line++;
    if (*p == '"' || *p == '\'') {
      const char q = *p;
      for (p++; *p && *p != q; p++) {
        if (*p == '\n')
          line++;
        else if (q == '"' && *p == '\\' && p[1] && p[1] != '\n')
          p++;
      }
      if (!*p)
        break;
    } else if (p[0] == '/' && p[1] == '*') {
      for (p += 2; *p && !(p[0] == '*' && p[1] == '/'); p++)
        line += *p == '\n';
      if (!*p)
        break;
      p++;
    } else if (*p == '[' || *p == '{') {
      if (++depth > MIXEM_MODEL_MAX_DEPTH) {
        g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT, "%s:%zu: not a model file (nested "
                     "deeper than %d levels)", src, line, MIXEM_MODEL_MAX_DEPTH);
        return FALSE;
      }
    } else if ((*p == ']' || *p == '}') && depth > 0)
      depth--;
  }
  return TRUE;
}

mixem_model *
mixem_model_from_json (mixem_registry *reg, const char *text, const char *src, GError **error)
{
  if (!check_nesting (text, src, error))
    return NULL;
  JsonParser *parser = json_parser_new ();
  GError *e = NULL;
  mixem_model *m = NULL;
  mixem_options *opts = NULL;
  double *w = NULL;
  char **names = NULL;
  GVariant *comps = NULL;
  if (!json_parser_load_from_data (parser, text, -1, &e)) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT, "%s: not a valid model file: %s", src,
                 e->message);
    g_error_free (e);
    goto out;
  }
  JsonNode *root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT, "%s: not a model file (no JSON object)",
                 src);
    goto out;
  }
  JsonObject *o = json_node_get_object (root);
  JsonNode *n = member (o, "format", JSON_NODE_VALUE, src, error);
  if (!n)
    goto out;
  if (g_strcmp0 (json_node_get_string (n), "mixem-model") != 0) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT, "%s: not a mixem model file", src);
    goto out;
  }
  gint64 version, k, d, n_iter, best;
  if (!get_count (o, "version", src, 1, &version, error))
    goto out;
  if (version > MIXEM_MODEL_FORMAT_VERSION) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT,
                 "%s: model file version %" G_GINT64_FORMAT " is newer than this mixem reads (%d)",
                 src, version, MIXEM_MODEL_FORMAT_VERSION);
    goto out;
  }
  if (!(n = member (o, "family", JSON_NODE_VALUE, src, error)))
    goto out;
  const char *fname = json_node_get_string (n);
  if (!fname) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT, "%s: 'family' must be a string", src);
    goto out;
  }
  char *qname = mixem_quote (fname, -1);
  const gboolean odd = strcmp (qname, fname) != 0;
  if (odd)         /* the registry's message would echo the name as it is */
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_PLUGIN, "%s: unknown family '%s'", src, qname);
  g_free (qname);
  if (odd)
    goto out;
  const mixem_family *f = mixem_registry_lookup (reg, fname, error);
  if (!f) {
    g_prefix_error (error, "%s: ", src);
    goto out;
  }
  if (!get_count (o, "k", src, 1, &k, error) || !get_count (o, "d", src, 1, &d, error))
    goto out;

  JsonNode *cols = member (o, "columns", JSON_NODE_ARRAY, src, error);
  JsonNode *wn = cols ? member (o, "weights", JSON_NODE_ARRAY, src, error) : NULL;
  JsonNode *cn = wn ? member (o, "components", JSON_NODE_ARRAY, src, error) : NULL;
  JsonNode *on = cn ? member (o, "options", JSON_NODE_OBJECT, src, error) : NULL;
  if (!on)
    goto out;
  JsonArray *ca = json_node_get_array (cols), *wa = json_node_get_array (wn);
  JsonArray *pa = json_node_get_array (cn);
  const guint nc = json_array_get_length (ca), nw = json_array_get_length (wa);
  const guint np = json_array_get_length (pa);
  if (nc != d || nw != k || np != k) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT,
                 "%s: inconsistent dimensions: k = %" G_GINT64_FORMAT " with %u weights and %u "
                 "components; d = %" G_GINT64_FORMAT " with %u columns", src, k, nw, np, d, nc);
    goto out;
  }
  names = g_new0 (char *, d + 1);
  for (guint j = 0; j < nc; j++) {
    const char *s = JSON_NODE_HOLDS_VALUE (json_array_get_element (ca, j))
                        ? json_array_get_string_element (ca, j) : NULL;
    if (!s) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT, "%s: column %u is not a string", src,
                   j + 1);
      goto out;
    }
    names[j] = g_strdup (s);
  }
  w = g_new (double, k);
  for (guint j = 0; j < nw; j++) {
    JsonNode *we = json_array_get_element (wa, j);
    if (!JSON_NODE_HOLDS_VALUE (we) || (json_node_get_value_type (we) != G_TYPE_DOUBLE
                                        && json_node_get_value_type (we) != G_TYPE_INT64)) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT, "%s: weight %u is not a number", src,
                   j + 1);
      goto out;
    }
    w[j] = json_node_get_double (we);
  }
  opts = mixem_options_new ();
  JsonObject *oo = json_node_get_object (on);
  GList *keys = json_object_get_members (oo);
  for (GList *l = keys; l; l = l->next) {
    JsonNode *v = json_object_get_member (oo, l->data);
    const char *s = JSON_NODE_HOLDS_VALUE (v) ? json_node_get_string (v) : NULL;
    if (!s) {
      char *q = mixem_quote (l->data, -1);
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT, "%s: option '%s' is not a string", src,
                   q);
      g_free (q);
      g_list_free (keys);
      goto out;
    }
    mixem_options_set (opts, l->data, s);
  }
  g_list_free (keys);
  comps = json_to_variant (cn, "components", error);
  if (!comps) {
    g_prefix_error (error, "%s: ", src);
    goto out;
  }
  g_variant_ref_sink (comps);
  if (!g_variant_is_of_type (comps, G_VARIANT_TYPE ("aa{sv}"))) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT,
                 "%s: 'components' must be an array of objects", src);
    goto out;
  }
  /* A noise component: the K weights sum to 1 - its weight; the model is made from them
   * rescaled, then given the file's own (bit for bit). */
  JsonNode *nn = json_object_get_member (o, "noise");
  double noise_w = 0.0, noise_lv = 0.0;
  if (nn) {
    JsonObject *no = JSON_NODE_HOLDS_OBJECT (nn) ? json_node_get_object (nn) : NULL;
    JsonNode *a = no ? json_object_get_member (no, "weight") : NULL;
    JsonNode *b = no ? json_object_get_member (no, "log_volume") : NULL;
    if (a && JSON_NODE_HOLDS_VALUE (a) && json_node_get_value_type (a) != G_TYPE_STRING)
      noise_w = json_node_get_double (a);
    if (b && JSON_NODE_HOLDS_VALUE (b) && json_node_get_value_type (b) != G_TYPE_STRING)
      noise_lv = json_node_get_double (b);
    double s = 0.0;
    for (guint j = 0; j < nw; j++)
      s += w[j];
    if (!a || !b || !(noise_w >= 0.0 && noise_w < 1.0) || !isfinite (noise_lv)
        || fabs (s + noise_w - 1.0) > 1e-9) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT,
                   "%s: 'noise' must hold a 'weight' in [0, 1) and a finite 'log_volume', the "
                   "weights summing to 1 - weight", src);
      goto out;
    }
    for (guint j = 0; j < nw; j++)
      w[j] /= 1.0 - noise_w;
  }
  m = mixem_model_new (f, k, d, (const char *const *) names, opts, w, comps, error);
  if (!m) {
    g_prefix_error (error, "%s: ", src);
    goto out;
  }
  if (nn) {
    m->noise = TRUE;
    m->noise_logv = noise_lv;
    m->weights = g_renew (double, m->weights, k + 1);
    for (guint j = 0; j < nw; j++)
      m->weights[j] = json_node_get_double (json_array_get_element (wa, j));
    m->weights[k] = noise_w;
  }
  JsonNode *cc = json_object_get_member (o, "concomitant");
  if (cc && !read_concomitant (m, cc, src, error)) {
    mixem_model_free (m);
    m = NULL;
    goto out;
  }
  JsonNode *wf = json_object_get_member (o, "weights_fixed");
  m->weights_fixed = wf && JSON_NODE_HOLDS_VALUE (wf) && json_node_get_boolean (wf);
  /* Which algorithm made it; files written before it was recorded say nothing: em. */
  JsonNode *an = json_object_get_member (o, "algorithm");
  if (an) {
    const char *name = JSON_NODE_HOLDS_VALUE (an) && json_node_get_value_type (an) == G_TYPE_STRING
                       ? json_node_get_string (an) : NULL;
    if (!mixem_algorithm_parse (name, &m->algorithm, error)) {
      g_prefix_error (error, "%s: 'algorithm': ", src);
      if (error && *error)
        (*error)->code = MIXEM_ERROR_FORMAT;
      mixem_model_free (m);
      m = NULL;
      goto out;
    }
  }
  JsonNode *cv = json_object_get_member (o, "converged");
  m->converged = cv && JSON_NODE_HOLDS_VALUE (cv) && json_node_get_boolean (cv);
  /* A model fitted to incomplete data names a family that must handle missing cells. */
  JsonNode *md = json_object_get_member (o, "missing_data");
  m->missing_data = md && JSON_NODE_HOLDS_VALUE (md) && json_node_get_boolean (md);
  if (m->missing_data && !(f->flags & MIXEM_FAMILY_MISSING)) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT, "%s: 'missing_data' is true, but "
                 "family '%s' does not support missing values", src, f->name);
    mixem_model_free (m);
    m = NULL;
    goto out;
  }
  if (json_object_has_member (o, "loglik")
      && (!get_number (o, "loglik", src, &m->loglik, error)
          || !get_number (o, "initial_loglik", src, &m->loglik0, error)
          || !get_count (o, "n_iter", src, 0, &n_iter, error)
          || !get_count (o, "best_restart", src, 0, &best, error))) {
    mixem_model_free (m);
    m = NULL;
    goto out;
  }
  if (json_object_has_member (o, "loglik")) {
    m->n_iter = (int) n_iter;
    m->best_restart = (int) best;
  }
  if (json_object_has_member (o, "online") && !read_online (o, src, m, error)) {
    mixem_model_free (m);
    m = NULL;
    goto out;
  }
  JsonNode *tn = json_object_get_member (o, "trace");
  if (tn && JSON_NODE_HOLDS_ARRAY (tn)) {
    JsonArray *ta = json_node_get_array (tn);
    for (guint i = 0; i < json_array_get_length (ta); i++) {
      JsonNode *te = json_array_get_element (ta, i);
      mixem_iteration it = { 0 };
      gint64 r, t;
      char *where = g_strdup_printf ("%s: trace entry %u", src, i + 1);
      gboolean ok = JSON_NODE_HOLDS_OBJECT (te);
      JsonObject *to = ok ? json_node_get_object (te) : NULL;
      ok = ok && get_count (to, "restart", where, 0, &r, error)
           && get_count (to, "iter", where, 1, &t, error)
           && get_number (to, "loglik", where, &it.loglik, error)
           && get_number (to, "elbo", where, &it.elbo, error)
           && get_number (to, "kl", where, &it.kl, error)
           && get_number (to, "entropy", where, &it.entropy, error)
           && get_number (to, "delta", where, &it.delta, error)
           && get_number (to, "seconds", where, &it.seconds, error);
      if (!ok && !(error && *error))
        g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT, "%s: not an object", where);
      g_free (where);
      if (!ok) {
        mixem_model_free (m);
        m = NULL;
        goto out;
      }
      it.restart = (int) r;
      it.iter = (int) t;
      if (json_object_has_member (to, "extrapolated"))
        it.extrapolated = (int) json_object_get_int_member (to, "extrapolated");
      if (json_object_has_member (to, "min_step"))
        it.min_step = json_object_get_null_member (to, "min_step")
                      ? NAN : json_object_get_double_member (to, "min_step");
      it.temperature = json_object_has_member (to, "temperature")
                       ? json_object_get_double_member (to, "temperature") : 1.0;
      if (json_object_has_member (to, "log_prior")) {
        JsonNode *lp = json_object_get_member (to, "log_prior");
        it.log_prior = JSON_NODE_HOLDS_NULL (lp) ? NAN : json_node_get_double (lp);
      }
      g_array_append_val (m->trace, it);
    }
  }
out:
  if (comps)
    g_variant_unref (comps);
  mixem_options_free (opts);
  g_free (w);
  g_strfreev (names);
  g_object_unref (parser);
  return m;
}


/* "concomitant": {"columns": [Q names], "coef": [K arrays of Q + 1 numbers]} into M. */
static gboolean
read_concomitant (mixem_model *m, JsonNode *node, const char *src, GError **error)
{
  JsonObject *co = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  JsonNode *cn = co ? json_object_get_member (co, "columns") : NULL;
  JsonNode *gn = co ? json_object_get_member (co, "coef") : NULL;
  JsonArray *ca = cn && JSON_NODE_HOLDS_ARRAY (cn) ? json_node_get_array (cn) : NULL;
  JsonArray *ga = gn && JSON_NODE_HOLDS_ARRAY (gn) ? json_node_get_array (gn) : NULL;
  const size_t q = ca ? json_array_get_length (ca) : 0, q1 = q + 1;
  gboolean ok = q > 0 && ga && json_array_get_length (ga) == m->k;
  char **names = g_new0 (char *, q + 1);
  double *g = g_new (double, m->k * q1);
  for (size_t j = 0; ok && j < q; j++) {
    JsonNode *e = json_array_get_element (ca, (guint) j);
    ok = JSON_NODE_HOLDS_VALUE (e) && json_node_get_value_type (e) == G_TYPE_STRING;
    names[j] = ok ? g_strdup (json_node_get_string (e)) : NULL;
  }
  for (size_t k = 0; ok && k < m->k; k++) {
    JsonNode *r = json_array_get_element (ga, (guint) k);
    JsonArray *ra = JSON_NODE_HOLDS_ARRAY (r) ? json_node_get_array (r) : NULL;
    ok = ra && json_array_get_length (ra) == q1;
    for (size_t j = 0; ok && j < q1; j++) {
      JsonNode *e = json_array_get_element (ra, (guint) j);
      ok = JSON_NODE_HOLDS_VALUE (e) && json_node_get_value_type (e) != G_TYPE_STRING;
      g[k * q1 + j] = ok ? json_node_get_double (e) : NAN;
    }
  }
  if (!ok)
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT,
                 "%s: 'concomitant' must hold 'columns' (names) and 'coef' (k = %zu arrays of "
                 "an intercept and a number for each column)", src, m->k);
  else if (!mixem_model_set_concomitant (m, (const char *const *) names, q, g, error)) {
    g_prefix_error (error, "%s: ", src);
    ok = FALSE;
  }
  const gboolean done = ok;
  g_strfreev (names);
  g_free (g);
  return done;
}
mixem_model *
mixem_model_load (mixem_registry *reg, const char *path, GError **error)
{
  char *text = mixem_read_file (path, NULL, error);
  if (!text)
    return NULL;
  mixem_model *m = mixem_model_from_json (reg, text, path, error);
  g_free (text);
  return m;
}

GArray *
mixem_trace_read_csv (const char *path, GError **error)
{
  const char *const cols[] = { "iter", "loglik", "elbo", "kl", NULL };
  mixem_csv_options o = { 0 };
  o.columns = cols;
  mixem_dataset *ds = mixem_dataset_read_csv (path, &o, error);
  if (!ds)
    return NULL;
  GArray *tr = g_array_new (FALSE, TRUE, sizeof (mixem_iteration));
  for (size_t i = 0; i < mixem_dataset_rows (ds); i++) {
    const double t = mixem_dataset_value (ds, i, 0);
    if (!(t >= 0 && t <= INT_MAX && t == floor (t))) {   /* an int, as the records hold it */
      char *cell = mixem_dataset_cell_name (ds, i, 0);
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA,
                   "%s: an iteration must be a whole number from 0 to %d (got %g)", cell, INT_MAX,
                   t);
      g_free (cell);
      g_array_unref (tr);
      mixem_dataset_free (ds);
      return NULL;
    }
    mixem_iteration it = { 0 };
    it.restart = 1;
    it.iter = (int) t;
    it.temperature = 1.0;
    it.loglik = mixem_dataset_value (ds, i, 1);
    it.elbo = mixem_dataset_value (ds, i, 2);
    it.kl = mixem_dataset_value (ds, i, 3);
    g_array_append_val (tr, it);
  }
  mixem_dataset_free (ds);
  return tr;
}
