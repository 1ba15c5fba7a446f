/* store.c: the parameter store, which a family that lists its component parameters
 * (mixem_family.param_info) uses instead of writing its own storage: allocation, copies,
 * describe, assign (unknown keys and broken constraints refused) and the count of free
 * parameters, all from the list.  The family's struct mixem_params begins with a mixem_store;
 * whatever follows it (options read by setup) is plain data, copied byte for byte. */
#include <config.h>
#include <math.h>
#include <string.h>
#include <mixem/family.h>

static size_t
param_length (mixem_shape shape, size_t d)
{
  return shape == MIXEM_SHAPE_SCALAR ? 1 : shape == MIXEM_SHAPE_VECTOR ? d : d * d;
}

static const mixem_store *
store_of (const mixem_params *p)
{
  return (const mixem_store *) (const void *) p;
}

mixem_params *
mixem_store_new (const mixem_spec *spec, GError **error)
{
  const mixem_family *f = spec->family;
  if (!f || !f->param_info || f->params_size < sizeof (mixem_store)) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_PLUGIN,
                 "%s: the parameter store needs param_info and a params_size of at least "
                 "sizeof (mixem_store)", f && f->name ? f->name : "family");
    return NULL;
  }
  size_t n = 0, stride = 0;
  while (f->param_info[n].name)
    n++;
  mixem_params *p = g_malloc0 (f->params_size);
  mixem_store *s = (mixem_store *) (void *) p;
  s->k = spec->k;
  s->d = spec->d;
  s->n_params = n;
  s->family = f;
  s->offset = g_new (size_t, n ? n : 1);
  for (size_t j = 0; j < n; j++) {
    s->offset[j] = stride;
    stride += param_length (f->param_info[j].shape, spec->d);
  }
  s->stride = stride;
  if (stride && spec->k > G_MAXSIZE / sizeof (double) / stride) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 "%s: k = %zu components of %zu parameters do not fit in memory", f->name,
                 spec->k, stride);
    g_free (s->offset);
    g_free (p);
    return NULL;
  }
  s->theta = g_try_new0 (double, spec->k * stride + 1);
  if (!s->theta) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 "%s: k = %zu components of %zu parameters do not fit in memory", f->name,
                 spec->k, stride);
    g_free (s->offset);
    g_free (p);
    return NULL;
  }
  if (f->setup && !f->setup (p, spec, error)) {
    mixem_store_free (p);
    return NULL;
  }
  return p;
}

mixem_params *
mixem_store_copy (const mixem_params *p)
{
  const mixem_store *s = store_of (p);
  mixem_params *c = g_memdup2 (p, s->family->params_size);
  mixem_store *cs = (mixem_store *) (void *) c;
  cs->offset = g_memdup2 (s->offset, (s->n_params ? s->n_params : 1) * sizeof (size_t));
  cs->theta = g_memdup2 (s->theta, (s->k * s->stride + 1) * sizeof (double));
  return c;
}

void
mixem_store_free (mixem_params *p)
{
  if (!p)
    return;
  mixem_store *s = (mixem_store *) (void *) p;
  g_free (s->offset);
  g_free (s->theta);
  g_free (p);
}

GVariant *
mixem_store_describe (const mixem_params *p, size_t k)
{
  const mixem_store *s = store_of (p);
  GVariantDict d;
  g_variant_dict_init (&d, NULL);
  for (size_t j = 0; j < s->n_params; j++) {
    const mixem_param_info *info = &s->family->param_info[j];
    const double *v = mixem_store_param (p, k, j);
    g_variant_dict_insert_value (&d, info->name,
                                 info->shape == MIXEM_SHAPE_SCALAR ? g_variant_new_double (v[0])
                                 : info->shape == MIXEM_SHAPE_VECTOR
                                   ? mixem_variant_vector (v, s->d)
                                   : mixem_variant_matrix (v, s->d));
  }
  return g_variant_dict_end (&d);
}

static const char *
constraint_text (mixem_constraint c)
{
  switch (c) {
  case MIXEM_POSITIVE: return "> 0";
  case MIXEM_NONNEGATIVE: return ">= 0";
  case MIXEM_UNIT: return "in [0, 1]";
  case MIXEM_OPEN_UNIT: return "in (0, 1)";
  default: return "finite";
  }
}

static gboolean
meets (mixem_constraint c, double v)
{
  switch (c) {
  case MIXEM_POSITIVE: return v > 0 && isfinite (v);
  case MIXEM_NONNEGATIVE: return v >= 0 && isfinite (v);
  case MIXEM_UNIT: return v >= 0 && v <= 1;
  case MIXEM_OPEN_UNIT: return v > 0 && v < 1;
  default: return isfinite (v);
  }
}

gboolean
mixem_store_assign (mixem_params *p, size_t k, GVariant *dict, gboolean *complete,
                    GError **error)
{
  const mixem_store *s = store_of (p);
  const mixem_family *f = s->family;
  const char **known = g_new0 (const char *, s->n_params + 1);
  for (size_t j = 0; j < s->n_params; j++)
    known[j] = f->param_info[j].name;
  gboolean ok = mixem_dict_check_keys (dict, f->name, known, error);
  g_free (known);
  if (!ok)
    return FALSE;
  /* Read into a copy first, so that a bad value leaves the component as it was. */
  double *v = g_new (double, s->stride + 1);
  memcpy (v, mixem_store_component (p, k), s->stride * sizeof (double));
  gboolean all = TRUE;
  for (size_t j = 0; j < s->n_params && ok; j++) {
    const mixem_param_info *info = &f->param_info[j];
    const size_t len = param_length (info->shape, s->d);
    gboolean found = FALSE;
    double *at = v + s->offset[j];
    ok = info->shape == MIXEM_SHAPE_MATRIX
           ? mixem_dict_get_matrix (dict, f->name, info->name, s->d, at, &found, error)
           : mixem_dict_get_vector (dict, f->name, info->name, len, at, &found, error);
    if (!found) {
      ok = !error || !*error;
      all = FALSE;
      continue;
    }
    for (size_t i = 0; i < len && ok; i++)
      if (!meets (info->constraint, at[i])) {
        if (len > 1)
          g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT,
                       "%s: '%s' must be %s (got %g at entry %zu)", f->name, info->name,
                       constraint_text (info->constraint), at[i], i + 1);
        else
          g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_FORMAT, "%s: '%s' must be %s (got %g)",
                       f->name, info->name, constraint_text (info->constraint), at[i]);
        ok = FALSE;
      }
  }
  if (ok)
    memcpy (mixem_store_component (p, k), v, s->stride * sizeof (double));
  if (complete)
    *complete = all;
  g_free (v);
  return ok;
}

size_t
mixem_store_n_free_params (const mixem_params *p)
{
  return store_of (p)->k * store_of (p)->stride;
}
