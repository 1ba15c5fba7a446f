/* mixem/family.h: the family type object, the one interface between the EM engine and a
 * distribution family.  A family is a const struct of functions in the style of GSL's
 * gsl_rng_type; each module in families/ exports one as the symbol "mixem_family_entry".
 *
 * The engine owns the mixing weights and the responsibilities.  A family sees rows in blocks,
 * responsibilities only inside accumulate(), and keeps its sufficient statistics in a flat array
 * of doubles whose merge is elementwise addition, so that threads reduce them with one generic sum.
 * A family includes this header and nothing else from mixem. */
#ifndef MIXEM_FAMILY_H
#define MIXEM_FAMILY_H

#include <stddef.h>
#include <glib.h>
#include <gmodule.h>
#include <gsl/gsl_rng.h>
#include <mixem/error.h>
#include <mixem/dataset.h>

G_BEGIN_DECLS

/* Bumped whenever the layout or meaning of mixem_family changes.  A module built against another
 * version is refused at load time.  Fields may only be appended; abi_version says which exist. */
#define MIXEM_FAMILY_ABI_VERSION 1u

/* Family parameters for all K components, in a layout only the family knows. */
typedef struct mixem_params mixem_params;

/* A block of consecutive rows: X is n*d, row-major; FIRST is the index of its first row in DS
 * (so that errors can name the row).  DS may be NULL for rows that belong to no dataset. */
typedef struct {
  size_t n, d, first;
  const double *x;
  const mixem_dataset *ds;
} mixem_block;

/* Family options, as text ("trials" = "10"), as they come from the CLI, Lua or a model file. */
typedef struct mixem_options mixem_options;
mixem_options *mixem_options_new (void);
mixem_options *mixem_options_copy (const mixem_options *opts);   /* NULL gives an empty set */
void mixem_options_free (mixem_options *opts);                   /* accepts NULL */
void mixem_options_set (mixem_options *opts, const char *key, const char *value);
const char *mixem_options_get (const mixem_options *opts, const char *key);  /* NULL if unset */
size_t mixem_options_size (const mixem_options *opts);
const char *mixem_options_key (const mixem_options *opts, size_t i);  /* in insertion order */

/* What the family needs to know to make its parameters. */
typedef struct {
  size_t k;                      /* number of components */
  size_t d;                      /* number of data columns */
  const char *const *names;      /* the d column names */
  const mixem_options *options;  /* family options, already checked against family->options */
} mixem_spec;

/* One documented option: shown by `mixem families`, and any other key is refused. */
typedef struct {
  const char *name;
  const char *help;
  const char *default_value;     /* NULL: no default (required, or family-chosen) */
} mixem_option_info;

typedef struct mixem_family {
  unsigned abi_version;          /* MIXEM_FAMILY_ABI_VERSION */
  const char *name;              /* the name users give: "binomial" */
  const char *summary;           /* one line */
  const mixem_option_info *options;    /* terminated by an entry with name NULL */
  const char *const *init_methods;     /* family starts, NULL-terminated; the first is the default */

  /* Parameters for spec->k components, not yet initialised. */
  mixem_params *(*params_new) (const mixem_spec *spec, GError **error);
  mixem_params *(*params_copy) (const mixem_params *p);
  void (*params_free) (mixem_params *p);

  /* Refuses rows the family cannot model (binomial: s > n), naming row and column. */
  gboolean (*check_data) (const mixem_params *p, const mixem_block *b, GError **error);

  /* out[i*K + k] = log p(x_i | theta_k) for the n rows of B. */
  void (*log_density) (const mixem_params *p, const mixem_block *b, double *out);

  /* Length of the statistics array. */
  size_t (*stats_size) (const mixem_params *p);

  /* stats += the statistics of B under weighted responsibilities R (n*K, row-major; each entry
   * already multiplied by the row's weight).  Must be additive over disjoint blocks. */
  void (*accumulate) (const mixem_params *p, const mixem_block *b, const double *r, double *stats);

  /* Sets the parameters that maximise sum_i sum_k r_ik log p(x_i | theta_k) given STATS, except
   * for the components whose FIXED[k] is TRUE (FIXED may be NULL).  A degenerate component is an
   * error naming it (code MIXEM_ERROR_NUMERIC). */
  gboolean (*maximise) (mixem_params *p, const double *stats, const gboolean *fixed,
                        GError **error);

  /* sum_i sum_k r_ik log p(x_i | theta_k) from the statistics alone, with theta = P, so that the
   * ELBO needs no pass over the data.  May be NULL: the engine then makes the pass. */
  double (*expected_loglik) (const mixem_params *p, const double *stats);

  /* Free parameters of the K components (the engine adds K - 1 for the weights). */
  size_t (*n_free_params) (const mixem_params *p);

  /* Sets the parameters from data by METHOD (one of init_methods) using RNG.  May be NULL: the
   * engine's own starts (random_resp, random, kmeans, kmeans++) need only accumulate and
   * maximise, and are used for the names it knows. */
  gboolean (*init) (mixem_params *p, const mixem_block *data, const char *method, gsl_rng *rng,
                    GError **error);

  /* Draws one row (d values) from component K. */
  void (*sample) (const mixem_params *p, size_t k, gsl_rng *rng, double *x);

  /* Component K's parameters as a GVariant dictionary (a{sv}): {"p": <0.8>} or
   * {"mean": <[...]>, "cov": <[[...]]>}.  Floating reference. */
  GVariant *(*describe) (const mixem_params *p, size_t k);

  /* Sets component K from a dictionary of the form describe() gives.  Keys left out keep their
   * current values; *COMPLETE (may be NULL) tells whether DICT set the whole component, so that
   * the engine can estimate what a partial start leaves out. */
  gboolean (*assign) (mixem_params *p, size_t k, GVariant *dict, gboolean *complete,
                      GError **error);
} mixem_family;

/* Helpers for family code. */

/* Sets ERROR to "CELL: MESSAGE" with CELL from mixem_dataset_cell_name(), code MIXEM_ERROR_DATA. */
void mixem_set_cell_error (GError **error, const mixem_block *b, size_t i, size_t col,
                           const char *format, ...) G_GNUC_PRINTF (5, 6);

/* Reads a double from DICT[KEY]: a double, an integer or a one-element array are accepted.  A
 * missing key or another type is a MIXEM_ERROR_FORMAT error naming the family and key. */
gboolean mixem_dict_get_double (GVariant *dict, const char *family, const char *key, double *out,
                                GError **error);

G_END_DECLS

#endif
