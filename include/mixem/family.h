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
#include <mixem/parallel.h>

G_BEGIN_DECLS

/* The layout of mixem_family.  Version 1 ended at assign; version 2 appended everything after it,
 * starting with SIZE, so that later fields can be appended without another bump: the registry
 * reads a module's SIZE and takes every field past it as NULL or 0.  The registry accepts
 * versions 1 and 2; anything else is refused at load time. */
#define MIXEM_FAMILY_ABI_VERSION 2u

/* Family parameters for all K components, in a layout only the family knows. */
typedef struct mixem_params mixem_params;

/* A block of consecutive rows: X is n*d, row-major; FIRST is the index of its first row in DS
 * (so that errors can name the row: the I given to mixem_set_cell_error is relative to the
 * block, 0 for its first row).  DS may be NULL for rows that belong to no dataset. */
typedef struct {
  size_t n, d, first;
  const double *x;
  const mixem_dataset *ds;
  /* (ABI 2, appended) The column of DS that each of the block's d columns is, when the block
   * holds some of DS's columns only (a part of the product family); NULL: column j is DS's j.
   * Read it through mixem_block_column. */
  const size_t *cols;
  /* (appended, missing values) N*D bytes, 1 where the cell is missing, for the block's own
   * columns; X holds NaN there.  NULL when no cell of the block is missing (then nothing
   * differs from a dataset without missing values).  A family without MIXEM_FAMILY_MISSING
   * never sees it non-NULL: the engine refuses such data first. */
  const unsigned char *missing;
  /* (appended) With MISSING: each row's missingness pattern in DS (mixem_dataset_pattern,
   * 0 = complete), for grouping rows that share one.  Rows of equal id have equal MISSING rows;
   * in a block of some of DS's columns (COLS) rows of different ids may too, and a row of a
   * nonzero id may be complete.  NULL when MISSING is NULL, or when the rows are not DS's. */
  const unsigned *pattern;
} mixem_block;

/* The column of B's dataset that B's column COL is. */
static inline size_t
mixem_block_column (const mixem_block *b, size_t col)
{
  return b->cols ? b->cols[col] : col;
}

/* Family options, as text ("trials" = "10"), as they come from the CLI, Lua or a model file. */
typedef struct mixem_options mixem_options;
mixem_options *mixem_options_new (void);
mixem_options *mixem_options_copy (const mixem_options *opts);   /* NULL gives an empty set */
void mixem_options_free (mixem_options *opts);                   /* accepts NULL */
void mixem_options_set (mixem_options *opts, const char *key, const char *value);
const char *mixem_options_get (const mixem_options *opts, const char *key);  /* NULL if unset */
size_t mixem_options_size (const mixem_options *opts);
const char *mixem_options_key (const mixem_options *opts, size_t i);  /* in insertion order */

typedef struct mixem_family mixem_family;

/* What the family needs to know to make its parameters. */
typedef struct {
  size_t k;                      /* number of components */
  size_t d;                      /* number of data columns */
  const char *const *names;      /* the d column names */
  const mixem_options *options;  /* family options: checked against family->options, typed
                                    ones parsed and range-checked, defaults filled in */
  const mixem_family *family;    /* (ABI 2) the family itself */
  /* (ABI 2, appended) The rows the parameters are made for (a fit, check-family), with the d
   * columns above; NULL when there are none (a model read from a file or made from its
   * parameters).  Valid during params_new only: a family that needs something of it (the
   * categorical family: its level names and counts) copies it. */
  const mixem_dataset *data;
} mixem_spec;

/* How the engine checks an option's text before params_new sees it (ABI 2). */
typedef enum {
  MIXEM_OPTION_TEXT = 0,         /* anything: the family checks it */
  MIXEM_OPTION_NUMBER,           /* a finite number, within RANGE if given */
  MIXEM_OPTION_INTEGER,          /* a whole number, within RANGE if given */
  MIXEM_OPTION_CHOICE,           /* one of CHOICES */
  MIXEM_OPTION_COLUMN,           /* the name of a data column */
  MIXEM_OPTION_BOOLEAN           /* true/false, yes/no, 1/0 */
} mixem_option_type;

/* One documented option: shown by `mixem families`, and any other key is refused.  An option with
 * a default has it filled in before params_new, so the family reads it and never restates it. */
typedef struct {
  const char *name;
  const char *help;
  const char *default_value;     /* NULL: no default (required, or family-chosen) */
  /* ABI 2: */
  mixem_option_type type;
  const char *range;             /* NUMBER, INTEGER: an interval "[0, inf)", "(0, 1]"; NULL: any */
  const char *const *choices;    /* CHOICE: NULL-terminated */
} mixem_option_info;

/* The shapes and constraints of component parameters, for the parameter store (ABI 2). */
typedef enum {
  MIXEM_SHAPE_SCALAR = 0,        /* one number */
  MIXEM_SHAPE_VECTOR,            /* d numbers, one per data column */
  MIXEM_SHAPE_MATRIX             /* d by d numbers, row-major; a model file holds rows */
} mixem_shape;

typedef enum {
  MIXEM_REAL = 0,                /* any finite number */
  MIXEM_POSITIVE,                /* > 0 */
  MIXEM_NONNEGATIVE,             /* >= 0 */
  MIXEM_UNIT,                    /* in [0, 1] */
  MIXEM_OPEN_UNIT                /* in (0, 1) */
} mixem_constraint;

/* One parameter of a component.  A family that lists its parameters this way gets its
 * parameter storage, copies, describe, assign (with unknown keys and broken constraints refused)
 * and the count of free parameters from the library: see mixem_store below. */
typedef struct {
  const char *name;              /* the key in describe(), model files and Lua tables */
  mixem_shape shape;
  mixem_constraint constraint;
  const char *help;
} mixem_param_info;

/* mixem_family.flags (ABI 2). */
enum {
  /* log_density, accumulate and check_data must never run on two threads at once (the engine
   * then runs every pass of this family on one thread; Lua families set it). */
  MIXEM_FAMILY_SERIAL = 1u << 0,
  /* The engine's centre-based starts (kmeans, kmeans++, random) measure distances with each
   * column in standard units: for continuous columns in mixed units (the Gaussian family). */
  MIXEM_FAMILY_SCALED_STARTS = 1u << 1,
  /* The family models columns of level names (mixem_dataset_levels: codes 0 .. L-1 read from
   * text); for any other family such a column is refused, naming the file, row and column. */
  MIXEM_FAMILY_LEVELS = 1u << 2,
  /* The family accepts missing cells (mixem_block.missing): log_density gives each row the
   * log density of its observed cells (their marginal; 0 for a row with none), and accumulate
   * and expected_loglik count observed cells only.  Data with a missing cell given to any other
   * family are refused, naming it. */
  MIXEM_FAMILY_MISSING = 1u << 3
};

struct mixem_family {
  unsigned abi_version;          /* MIXEM_FAMILY_ABI_VERSION */
  const char *name;              /* the name users give: "binomial" */
  const char *summary;           /* one line */
  const mixem_option_info *options;    /* terminated by an entry with name NULL */
  /* Starts, NULL-terminated; the first is the default.  The engine's own starts are random_resp,
   * random, kmeans, kmeans++ and hc (mclust's model-based hierarchical start, for continuous
   * columns; it reads the family options hc_model, hc_use and hc_subset, which a family that
   * lists it declares, and init = "auto" leaves it out); any other name must be handled by
   * init(), and the registry refuses a family that lists one without an init(). */
  const char *const *init_methods;

  /* Parameters for spec->k components, not yet initialised. */
  mixem_params *(*params_new) (const mixem_spec *spec, GError **error);
  mixem_params *(*params_copy) (const mixem_params *p);
  void (*params_free) (mixem_params *p);

  /* Refuses rows the family cannot model (binomial: s > n), naming row and column.  May be NULL:
   * every row of the right width is then accepted. */
  gboolean (*check_data) (const mixem_params *p, const mixem_block *b, GError **error);

  /* out[i*K + k] = log p(x_i | theta_k) for the n rows of B.  Runs on several threads at once
   * (on different blocks, with the same P) unless flags has MIXEM_FAMILY_SERIAL: it must not
   * write to P.  A failure it cannot return (a callback that raised) is kept for take_error. */
  void (*log_density) (const mixem_params *p, const mixem_block *b, double *out);

  /* Length of the statistics array. */
  size_t (*stats_size) (const mixem_params *p);

  /* stats += the statistics of B under weighted responsibilities R (n*K, row-major; each entry
   * already multiplied by the row's weight).  Must be additive over disjoint blocks.  Threads as
   * log_density does, each with its own STATS. */
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

  /* Draws one row (d values) from component K.  May be NULL: sampling is then an error. */
  void (*sample) (const mixem_params *p, size_t k, gsl_rng *rng, double *x);

  /* Component K's parameters as a GVariant dictionary (a{sv}): {"p": <0.8>} or
   * {"mean": <[...]>, "cov": <[[...]]>}.  Floating reference. */
  GVariant *(*describe) (const mixem_params *p, size_t k);

  /* Sets component K from a dictionary of the form describe() gives; from a model file or Lua,
   * numbers arrive as doubles ("d"), arrays of numbers as "ad", matrices as "aad" (rows), and
   * text as "s".  Unknown keys must be refused (mixem_dict_check_keys).  Keys left out keep their
   * current values; *COMPLETE (may be NULL) tells whether DICT set the whole component, so that
   * the engine can estimate what a partial start leaves out. */
  gboolean (*assign) (mixem_params *p, size_t k, GVariant *dict, gboolean *complete,
                      GError **error);

  /* ---- ABI 2: set SIZE to MIXEM_FAMILY_SIZE; everything below may be left NULL or 0. ---- */
  size_t size;
  unsigned flags;                /* MIXEM_FAMILY_SERIAL, MIXEM_FAMILY_SCALED_STARTS */

  /* Reports (and clears) a failure that log_density or accumulate could not return; called by
   * the engine after every pass.  May be NULL. */
  gboolean (*take_error) (const mixem_params *p, GError **error);

  /* The parameter store: a family whose struct mixem_params begins with a mixem_store may list
   * its component parameters (terminated by a NULL name) and set PARAMS_SIZE to
   * sizeof (struct mixem_params); MIXEM_STORE_FUNCTIONS then fills params_new, params_copy,
   * params_free, describe, assign and n_free_params.  SETUP (may be NULL) reads the options into
   * the rest of the struct, which must hold no pointers (it is copied byte for byte). */
  const mixem_param_info *param_info;
  size_t params_size;
  gboolean (*setup) (mixem_params *p, const mixem_spec *spec, GError **error);

  /* For families made at run time (a Lua family): what params_new finds through
   * spec->family->data.  The library never reads it. */
  gpointer data;

  /* Set by the registry on its own copy of the family (a module leaves it NULL): the registry
   * that holds it, so that a family made of others (product) finds its parts by name with
   * mixem_registry_lookup in the same registry, Lua families included. */
  struct mixem_registry *registry;

  /* For statistics that depend on the parameters they were gathered at (the Gaussian keeps its
   * sums about each component's mean): re-expresses STATS, a sum of accumulate's all made at one
   * set of parameters, as accumulate would have given them at P, so that statistics gathered at
   * different parameters add up (where more than a reference point depends on the parameters,
   * as near as the family can: student_t keeps its rows' weights u and moves their centre,
   * poisreg and logitreg move their gradient by the quadratic model).  Incremental and online EM, which add such statistics, call it
   * before every sum.  NULL: the statistics do not depend on the parameters (plain sums over
   * the rows of functions of the rows and the responsibilities). */
  void (*stats_rebase) (const mixem_params *p, double *stats);

  /* (appended, missing values; may be NULL) Imputation.  X is one row of d values with NaN where
   * MISSING[j] is 1.  IMPUTE_MEAN sets OUT[j], for each missing j, to E[x_j | x_observed,
   * component K] and leaves the other entries alone; the engine averages them over the row's
   * posterior.  NULL: the family cannot impute means.  IMPUTE_DRAW sets OUT[j] for each missing
   * j to a draw from component K's conditional given the observed cells; NULL: the engine draws a
   * whole row with sample() and takes its missing cells, which is right only when the columns
   * are independent given the component (a family with dependent columns must supply it). */
  void (*impute_mean) (const mixem_params *p, size_t k, const double *x,
                       const unsigned char *missing, double *out);
  void (*impute_draw) (const mixem_params *p, size_t k, const double *x,
                       const unsigned char *missing, gsl_rng *rng, double *out);

  /* (appended; may be NULL) For a family whose maximise is a MAP step: log p(theta) of the
   * parameters under its prior, up to a constant, so that l(theta) + log p(theta), the objective
   * EM then climbs, goes into the trace (mixem_iteration.log_prior).  0 when no prior is in use;
   * NAN when the step maximises no posterior the family can write down. */
  double (*log_prior) (const mixem_params *p);

  /* (appended; may be NULL) An M-step that needs the rows more than once: a family whose
   * maximiser is iterative over the rows (IRLS for a GLM's coefficients, where no fixed set of sums
   * gives the objective at every parameter).  As maximise, from STATS gathered at P, but it may
   * call PASS (AT, OUT, PASS_DATA, ERROR) as often as it needs: OUT (stats_size doubles) is set to
   * the statistics accumulate gives at the parameters AT (P, or a copy the family moved) with the
   * same weighted responsibilities that made STATS.  A pass that fails (FALSE, ERROR set) ends the
   * M-step with that error.  The engine keeps those responsibilities (N x K) for a family with
   * it, and calls it instead of maximise where they are the statistics' (EM, CEM, SEM and
   * annealing, SQUAREM's plain steps, and the starts from responsibilities); where they are
   * not (SQUAREM's extrapolated statistics, incremental and online EM, SEM's averaged
   * statistics) it calls maximise, which should then be a step that raises the expected
   * complete log-likelihood for certain (a generalised-EM step). */
  gboolean (*maximise_passes) (mixem_params *p, const double *stats, const gboolean *fixed,
                               gboolean (*pass) (const mixem_params *at, double *out,
                                                 void *pass_data, GError **error),
                               void *pass_data, GError **error);
};

#define MIXEM_FAMILY_SIZE (sizeof (mixem_family))

/* What every module exports, under this name: a const mixem_family (not a pointer to one). */
extern const mixem_family mixem_family_entry;

/* ---- the parameter store ---- */

/* The head of a store-backed family's struct mixem_params: all K components' parameters in one
 * array, component k at theta + k * stride, parameter j of param_info at offset[j]. */
typedef struct {
  size_t k, d;
  size_t stride;                 /* doubles per component */
  size_t n_params;
  const mixem_family *family;
  size_t *offset;                /* n_params */
  double *theta;                 /* k * stride */
} mixem_store;

/* Component K's values (stride doubles), and parameter J's within them. */
static inline double *
mixem_store_component (const mixem_params *p, size_t k)
{
  const mixem_store *s = (const mixem_store *) (const void *) p;
  return s->theta + k * s->stride;
}

static inline double *
mixem_store_param (const mixem_params *p, size_t k, size_t j)
{
  const mixem_store *s = (const mixem_store *) (const void *) p;
  return s->theta + k * s->stride + s->offset[j];
}

mixem_params *mixem_store_new (const mixem_spec *spec, GError **error);
mixem_params *mixem_store_copy (const mixem_params *p);
void mixem_store_free (mixem_params *p);
GVariant *mixem_store_describe (const mixem_params *p, size_t k);
gboolean mixem_store_assign (mixem_params *p, size_t k, GVariant *dict, gboolean *complete,
                             GError **error);
size_t mixem_store_n_free_params (const mixem_params *p);

#define MIXEM_STORE_FUNCTIONS                                                                     \
  .params_new = mixem_store_new, .params_copy = mixem_store_copy,                                 \
  .params_free = mixem_store_free, .describe = mixem_store_describe,                              \
  .assign = mixem_store_assign, .n_free_params = mixem_store_n_free_params

/* ---- helpers for family code ---- */

/* Sets ERROR to "CELL: MESSAGE" with CELL from mixem_dataset_cell_name(), code MIXEM_ERROR_DATA. */
void mixem_set_cell_error (GError **error, const mixem_block *b, size_t i, size_t col,
                           const char *format, ...) G_GNUC_PRINTF (5, 6);

/* Refuses a column of level names among DATA's columns COLS[0..d-1] (COLS NULL: 0..d-1) for a
 * family without MIXEM_FAMILY_LEVELS: a MIXEM_ERROR_DATA naming FAMILY and the file, row and
 * column of the first cell whose text is no number.  TRUE when there is none. */
gboolean mixem_refuse_levels (const mixem_dataset *data, const size_t *cols, size_t d,
                              const char *family, GError **error);

/* A family's own look at its data (centres, scales, ranges, in params_new): sums over every
 * row of DATA, WIDTH of them, ADD adding row ROW's into ACC.  The rows are summed in chunks of 64
 * and the chunks by a fixed tree, so that the sums are the same bits whatever the threads and,
 * on a part (mixem/parallel.h: one rank's share of the rows), the ranks: there it sums every
 * rank's rows and is collective.  ADD may run on several threads at once (each its own ACC). */
typedef void (*mixem_row_add_fn) (const mixem_dataset *data, size_t row, double *acc, void *user);
gboolean mixem_dataset_sum_rows (const mixem_dataset *data, size_t width, mixem_row_add_fn add,
                                 void *user, double *out, GError **error);
/* The elementwise largest of V[0..WIDTH-1] over the ranks on a part (collective); V as it is
 * otherwise.  (A smallest value is the largest of its negation.) */
void mixem_dataset_max_over_ranks (const mixem_dataset *data, double *v, size_t width);

/* Reads a double from DICT[KEY]: a double, an integer or a one-element array are accepted.  A
 * missing key or another type is a MIXEM_ERROR_FORMAT error naming the family and key. */
gboolean mixem_dict_get_double (GVariant *dict, const char *family, const char *key, double *out,
                                GError **error);

/* Reads a vector of exactly LEN doubles (a number is a vector of one), or a LEN by LEN matrix
 * given as rows, row-major into OUT.  A missing key: FALSE with no error and *FOUND = FALSE, so
 * optional keys need no second lookup (FOUND may be NULL: then a missing key is an error). */
gboolean mixem_dict_get_vector (GVariant *dict, const char *family, const char *key, size_t len,
                                double *out, gboolean *found, GError **error);
gboolean mixem_dict_get_matrix (GVariant *dict, const char *family, const char *key, size_t len,
                                double *out, gboolean *found, GError **error);

/* Refuses a key of DICT that is not in KNOWN (NULL-terminated), naming it and the known ones,
 * so that a typo such as {lambdaa = 2} is an error rather than a silent default. */
gboolean mixem_dict_check_keys (GVariant *dict, const char *family, const char *const *known,
                                GError **error);

/* A vector, or a D by D matrix as an array of rows, as a floating GVariant for describe(). */
GVariant *mixem_variant_vector (const double *x, size_t n);
GVariant *mixem_variant_matrix (const double *x, size_t d);

/* Checks family options against F->options (names, and the types, ranges, choices and columns
 * declared there); the checked copy with the declared defaults filled in, or NULL.  NAMES (D
 * column names) may be NULL when no data are at hand: column options then go unchecked.  (For
 * a family made of others, which makes its parts' parameters itself.) */
mixem_options *mixem_family_options (const mixem_family *f, const mixem_options *opts, size_t d,
                                     const char *const *names, GError **error);

/* Typed options: the value of KEY as the engine parsed and checked it (its default if unset).
 * Call them on spec->options for options whose type is NUMBER, INTEGER or BOOLEAN. */
double mixem_options_get_number (const mixem_options *opts, const char *key, double fallback);
gboolean mixem_options_get_boolean (const mixem_options *opts, const char *key,
                                    gboolean fallback);
/* The column index named by a COLUMN option, or -1 when unset or not a column of SPEC. */
int mixem_spec_column (const mixem_spec *spec, const char *key);

G_END_DECLS

#endif
