/* cli.c: the mixem command: run (Lua scripts), fit, select, predict, score, sample, plot,
 * families, help.
 * Exit status: 0 success, 1 runtime or data error, 2 usage error; every failure prints one line
 * naming its cause.  Tabular output goes to stdout as CSV; files are written atomically. */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <gsl/gsl_errno.h>
#include <lauxlib.h>
#include <lualib.h>
#include <mixem/mixem.h>
#include "lua/lmixem.h"

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

typedef struct {
  const char *name, *args, *summary;
  int (*run) (int argc, char **argv);
} command;

static const command *find_command (const char *name);

/* Prints "mixem CMD: MESSAGE" and returns the exit status for ERR's code. */
static int
fail (const char *cmd, GError *err)
{
  int status = err->domain == MIXEM_ERROR && err->code == MIXEM_ERROR_OPTION ? EXIT_USAGE
                                                                              : EXIT_RUNTIME;
  /* Across ranks every rank has the same (agreed) message: rank 0 says it. */
  if (mixem_parallel_rank () == 0)
    fprintf (stderr, "mixem %s: %s\n", cmd, err->message);
  g_error_free (err);
  return status;
}

static int
usage_error (const char *cmd, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static int
usage_error (const char *cmd, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  if (mixem_parallel_rank () == 0)
    fprintf (stderr, "mixem %s: %s (see 'mixem help %s')\n", cmd, msg, cmd);
  g_free (msg);
  return EXIT_USAGE;
}

/* The family NAME; on failure *STATUS says whose fault: a name that no module carries is a usage
 * error (2), a module that is there but does not load a runtime one (1). */
static const mixem_family *
lookup_family (const char *cmd, mixem_registry *reg, const char *name, int *status)
{
  GError *err = NULL;
  const mixem_family *f = mixem_registry_lookup (reg, name, &err);
  if (f)
    return f;
  gboolean exists = FALSE;
  for (const char *const *dir = mixem_registry_path (reg); *dir && !exists; dir++) {
    char *file = g_strdup_printf ("%s/%s.%s", *dir, name, G_MODULE_SUFFIX);
    exists = g_file_test (file, G_FILE_TEST_EXISTS);
    g_free (file);
  }
  if (exists)
    *status = fail (cmd, err);
  else {
    *status = usage_error (cmd, "%s", err->message);
    g_error_free (err);
  }
  return NULL;
}

/* The --option KEY=VALUE pairs into FO. */
static gboolean
set_extra_options (const char *cmd, char **extra, mixem_options *fo, int *status)
{
  for (char **e = extra; e && *e; e++) {
    char *eq = strchr (*e, '=');
    if (!eq || eq == *e) {
      *status = usage_error (cmd, "--option needs KEY=VALUE (got '%s')", *e);
      return FALSE;
    }
    char *key = g_strndup (*e, eq - *e);
    mixem_options_set (fo, key, eq + 1);
    g_free (key);
  }
  return TRUE;
}

/* Parses ARGV with ENTRIES; returns FALSE (after printing) on a usage error. */
static gboolean
parse_options_more (const char *cmd, GOptionEntry *entries, const GOptionEntry *more, int *argc,
                    char ***argv, int *status)
{
  const command *c = find_command (cmd);
  GOptionContext *ctx = g_option_context_new (c->args);
  char *summary = g_strdup_printf ("%s", c->summary);
  g_option_context_set_summary (ctx, summary);
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (more)
    g_option_context_add_main_entries (ctx, more, NULL);
  char *prg = g_strdup_printf ("mixem %s", cmd);
  g_set_prgname (prg);
  GError *err = NULL;
  gboolean ok = g_option_context_parse (ctx, argc, argv, &err);
  if (!ok)
    *status = usage_error (cmd, "%s", err->message);
  g_clear_error (&err);
  g_free (prg);
  g_free (summary);
  g_option_context_free (ctx);
  return ok;
}

static gboolean
parse_options (const char *cmd, GOptionEntry *entries, int *argc, char ***argv, int *status)
{
  return parse_options_more (cmd, entries, NULL, argc, argv, status);
}

/* A family's options as flags of their own (--NAME, underscores as dashes), so that a plugin's
 * options read as the built-in ones do; a boolean option also gets --no-NAME (NAME = false).
 * The family comes from a look at ARGV for -f/--family before the real parse; an option the
 * command already has a flag for is left to that flag. */
typedef struct {
  GOptionEntry *entries;     /* up to 2 n + 1, the last zeroed */
  char **keys, **values, **names, **helps;
  char **neg_names, **neg_helps;  /* n: --no-NAME of a boolean option, or NULL */
  gboolean *neg;             /* n: --no-NAME given */
  size_t n;
} family_flags;

static void
family_flags_init (family_flags *ff, int argc, char **argv, const GOptionEntry *have)
{
  memset (ff, 0, sizeof *ff);
  const char *name = NULL;
  for (int i = 1; i < argc && !name; i++) {
    if ((strcmp (argv[i], "-f") == 0 || strcmp (argv[i], "--family") == 0) && i + 1 < argc)
      name = argv[i + 1];
    else if (g_str_has_prefix (argv[i], "--family="))
      name = argv[i] + strlen ("--family=");
    else if (g_str_has_prefix (argv[i], "-f") && argv[i][2] && argv[i][1] != '-')
      name = argv[i] + 2;
  }
  ff->entries = g_new0 (GOptionEntry, 1);
  if (!name)
    return;
  mixem_registry *reg = mixem_registry_new ();
  const mixem_family *f = mixem_registry_lookup (reg, name, NULL);
  size_t n = 0;
  for (const mixem_option_info *o = f ? f->options : NULL; o && o->name; o++)
    n++;
  ff->entries = g_renew (GOptionEntry, ff->entries, 2 * n + 1);
  ff->neg_names = g_new0 (char *, n + 1);
  ff->neg_helps = g_new0 (char *, n + 1);
  ff->neg = g_new0 (gboolean, n + 1);
  ff->keys = g_new0 (char *, n + 1);
  ff->values = g_new0 (char *, n + 1);
  ff->names = g_new0 (char *, n + 1);
  ff->helps = g_new0 (char *, n + 1);
  for (const mixem_option_info *o = f ? f->options : NULL; o && o->name; o++) {
    char *flag = g_strdelimit (g_strdup (o->name), "_", '-');
    gboolean taken = strcmp (flag, "help") == 0;
    for (const GOptionEntry *e = have; e->long_name && !taken; e++)
      taken = strcmp (e->long_name, flag) == 0;
    if (taken) {
      g_free (flag);
      continue;
    }
    ff->keys[ff->n] = g_strdup (o->name);
    ff->names[ff->n] = flag;
    ff->helps[ff->n] = g_strdup_printf ("%s: %s%s%s%s", f->name, o->help,
                                        o->default_value ? " (default " : "",
                                        o->default_value ? o->default_value : "",
                                        o->default_value ? ")" : "");
    if (o->type == MIXEM_OPTION_BOOLEAN) {
      ff->neg_names[ff->n] = g_strdup_printf ("no-%s", flag);
      ff->neg_helps[ff->n] = g_strdup_printf ("%s: the same as --%s false", f->name, flag);
    }
    ff->n++;
  }
  /* The entries point into the arrays above, which no longer move. */
  size_t e = 0;
  for (size_t i = 0; i < ff->n; i++) {
    ff->entries[e++] = (GOptionEntry) { ff->names[i], 0, 0, G_OPTION_ARG_STRING, &ff->values[i],
                                        ff->helps[i], "VALUE" };
    gboolean taken = !ff->neg_names[i];
    for (const GOptionEntry *h = have; h->long_name && !taken; h++)
      taken = strcmp (h->long_name, ff->neg_names[i]) == 0;
    if (!taken)
      ff->entries[e++] = (GOptionEntry) { ff->neg_names[i], 0, 0, G_OPTION_ARG_NONE, &ff->neg[i],
                                          ff->neg_helps[i], NULL };
  }
  memset (&ff->entries[e], 0, sizeof (GOptionEntry));
  mixem_registry_free (reg);
}

/* After the parse: --no-NAME becomes NAME = false; both at once is a usage error. */
static gboolean
family_flags_resolve (const char *cmd, family_flags *ff, int *status)
{
  for (size_t i = 0; i < ff->n; i++) {
    if (!ff->neg[i])
      continue;
    if (ff->values[i]) {
      *status = usage_error (cmd, "--%s and --%s contradict each other", ff->names[i],
                             ff->neg_names[i]);
      return FALSE;
    }
    ff->values[i] = g_strdup ("false");
  }
  return TRUE;
}

static void
family_flags_clear (family_flags *ff)
{
  for (size_t i = 0; i < ff->n; i++)
    g_free (ff->values[i]);
  g_free (ff->values);
  g_strfreev (ff->keys);
  g_strfreev (ff->names);
  g_strfreev (ff->helps);
  for (size_t i = 0; i < ff->n; i++) {   /* with holes: not g_strfreev */
    g_free (ff->neg_names[i]);
    g_free (ff->neg_helps[i]);
  }
  g_free (ff->neg_names);
  g_free (ff->neg_helps);
  g_free (ff->neg);
  g_free (ff->entries);
}

static char *
fmt_double (char *buf, double v)
{
  return g_ascii_formatd (buf, G_ASCII_DTOSTR_BUF_SIZE, "%.17g", v);
}

/* --allow-missing and --missing TOKEN (repeatable, or a comma list; implies --allow-missing). */
typedef struct {
  gboolean allow;
  char **tokens;
} missing_args;

#define MISSING_ENTRIES(ma)                                                                       \
  { "allow-missing", 0, 0, G_OPTION_ARG_NONE, &(ma).allow,                                        \
    "Read cells that are empty, NA or NaN (or a --missing token) as missing values", NULL },      \
  { "missing", 0, 0, G_OPTION_ARG_STRING_ARRAY, &(ma).tokens,                                     \
    "A missing cell's text (repeatable or a comma list; implies --allow-missing)", "TOKEN" }

/* Reads DATA (CSV, or NumPy .npy by its extension), keeping the model's columns when M is given.
 * For a family that models level names (MIXEM_FAMILY_LEVELS: categorical, product), a CSV
 * column with text is read as level names; for any other, such a cell stays an error. */
static mixem_dataset *
read_data_part (const char *path, const mixem_model *m, const char *columns, const char *weights,
                const char *delimiter, const mixem_family *f, const missing_args *ma,
                size_t grain, GError **error)
{
  char **cols = columns ? g_strsplit (columns, ",", -1) : NULL;
  const char *const *want = m ? mixem_model_names (m) : (const char *const *) cols;
  const char *const *zn = NULL;
  if (m && mixem_model_concomitant (m, &zn, NULL) > 0) {
    /* the model's columns, then its concomitant variables (the library finds both by name) */
    GStrvBuilder *sb = g_strv_builder_new ();
    g_strv_builder_addv (sb, (const char **) mixem_model_names (m));
    g_strv_builder_addv (sb, (const char **) zn);
    cols = g_strv_builder_end (sb);
    g_strv_builder_unref (sb);
    want = (const char *const *) cols;
  }
  mixem_dataset *ds;
  const gboolean allow = ma && (ma->allow || ma->tokens);
  GPtrArray *tokens = g_ptr_array_new_with_free_func (g_free);
  for (char **t = ma ? ma->tokens : NULL; t && *t; t++) {
    char **parts = g_strsplit (*t, ",", -1);
    for (char **q = parts; *q; q++)
      g_ptr_array_add (tokens, g_strdup (*q));
    g_strfreev (parts);
  }
  g_ptr_array_add (tokens, NULL);
  const gboolean pattern = strpbrk (path, "*?[") && !g_file_test (path, G_FILE_TEST_EXISTS);
  if (pattern) {
    /* Shard files: those the pattern matches, in name order, as one dataset (a part: this
     * rank's share of their rows). */
    glob_t g;
    const int rc = glob (path, 0, NULL, &g);
    if (rc != 0) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_IO, "%s: no file matches", path);
      ds = NULL;
    } else {
      const gboolean npy = g_str_has_suffix (g.gl_pathv[0], ".npy");
      mixem_csv_options o = { 0 };
      o.columns = npy ? NULL : want;
      o.weights = npy ? NULL : weights;
      o.delimiter = delimiter ? delimiter[0] : 0;
      o.allow_missing = allow;
      o.missing = tokens->len > 1 ? (const char *const *) tokens->pdata : NULL;
      mixem_dataset *all = mixem_dataset_read_shards ((const char *const *) g.gl_pathv, &o,
                                                      grain > 0, grain, error);
      ds = all && npy && (want || weights) ? mixem_dataset_select (all, want, weights, error)
                                           : all;
      if (ds != all)
        mixem_dataset_free (all);
      globfree (&g);
    }
  } else if (g_str_has_suffix (path, ".npy")) {
    mixem_dataset *all = grain ? mixem_dataset_read_npy_part_missing (path, grain, allow, error)
                               : mixem_dataset_read_npy_missing (path, allow, error);
    ds = all && (want || weights) ? mixem_dataset_select (all, want, weights, error) : all;
    if (ds != all)
      mixem_dataset_free (all);
  } else {
    mixem_csv_options o = { 0 };
    o.columns = want;
    o.weights = weights;
    o.delimiter = delimiter ? delimiter[0] : 0;
    if (m)
      f = mixem_model_family (m);
    o.text_levels = f && (f->flags & MIXEM_FAMILY_LEVELS);
    o.allow_missing = allow;
    o.missing = tokens->len > 1 ? (const char *const *) tokens->pdata : NULL;
    ds = grain ? mixem_dataset_read_csv_part (path, &o, grain, error)
               : mixem_dataset_read_csv (path, &o, error);
  }
  g_ptr_array_unref (tokens);
  g_strfreev (cols);
  if (!ds && zn)
    g_prefix_error (error, "the model's weights depend on concomitant variables, which the data "
                    "must hold: ");
  /* A column missing on one rank's part is every rank's error. */
  if (grain && !mixem_parallel_agree (error)) {
    mixem_dataset_free (ds);
    ds = NULL;
  }
  return ds;
}

static mixem_dataset *
read_data (const char *path, const mixem_model *m, const char *columns, const char *weights,
           const char *delimiter, const mixem_family *f, const missing_args *ma, GError **error)
{
  return read_data_part (path, m, columns, weights, delimiter, f, ma, 0, error);
}

/* --mpi-part: whether DATA is read as this rank's share (auto: when started by mpirun). */
static gboolean
mpi_part (const char *cmd, const char *value, gboolean *part, int *status)
{
  if (!value || strcmp (value, "auto") == 0)
    *part = mixem_parallel_launched ();
  else if (strcmp (value, "none") == 0)
    *part = FALSE;
  else if (strcmp (value, "rows") == 0)
    *part = TRUE;
  else {
    *status = usage_error (cmd, "--mpi-part must be auto, rows or none (got '%s')", value);
    return FALSE;
  }
  return TRUE;
}

static gboolean
check_delimiter (const char *cmd, const char *delimiter, int *status)
{
  if (delimiter && strlen (delimiter) != 1) {
    *status = usage_error (cmd, "--delimiter must be one character (got '%s')", delimiter);
    return FALSE;
  }
  return TRUE;
}

/* ---- run ---- */

static int
traceback (lua_State *L)
{
  const char *msg = lua_tostring (L, 1);
  if (!msg)
    msg = lua_pushfstring (L, "(error object is a %s value)", luaL_typename (L, 1));
  luaL_traceback (L, L, msg, 1);
  return 1;
}

static int
cmd_run (int argc, char **argv)
{
  if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0) {
    if (argc < 2)
      return usage_error ("run", "no script given");
    printf ("Usage:\n  mixem run SCRIPT.lua [ARGS...]\n\n%s\n\n"
            "The script runs in Lua 5.4 with the standard libraries; require \"mixem\" gives the\n"
            "mixem module.  'arg' is set as the stock lua interpreter sets it.\n",
            find_command ("run")->summary);
    return EXIT_OK;
  }
  const char *script = argv[1];
  lua_State *L = luaL_newstate ();
  if (!L) {
    fprintf (stderr, "mixem run: cannot create a Lua state (out of memory)\n");
    return EXIT_RUNTIME;
  }
  luaL_openlibs (L);
  luaL_getsubtable (L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction (L, luaopen_mixem);
  lua_setfield (L, -2, "mixem");
  lua_pop (L, 1);
  /* arg as stock lua sets it: arg[0] the script, arg[1..] its arguments, arg[-1] the program. */
  lua_createtable (L, argc, 2);
  lua_pushstring (L, "mixem run");
  lua_seti (L, -2, -1);
  for (int i = 1; i < argc; i++) {
    lua_pushstring (L, argv[i]);
    lua_seti (L, -2, i - 1);
  }
  lua_setglobal (L, "arg");

  int status = EXIT_OK;
  lua_pushcfunction (L, traceback);
  if (luaL_loadfile (L, script) != LUA_OK) {
    fprintf (stderr, "mixem run: %s\n", lua_tostring (L, -1));
    status = EXIT_RUNTIME;
  } else {
    for (int i = 2; i < argc; i++)
      lua_pushstring (L, argv[i]);
    if (lua_pcall (L, argc - 2, 0, 1) != LUA_OK) {
      fprintf (stderr, "mixem run: %s\n", lua_tostring (L, -1));
      status = EXIT_RUNTIME;
    }
  }
  lua_close (L);
  return status;
}

/* Writes the model to MODEL_PATH and TABLE (or else the trace) to TABLE_PATH, either may be
 * NULL: all written before any replaces its file, so that a failure changes none of them. */
static gboolean
save_outputs (const mixem_model *m, const char *model_path, const char *table_path,
              const GString *table, GError **error)
{
  const char *paths[2], *data[2];
  char *json = NULL, *csv = NULL;
  size_t n = 0;
  if (model_path) {
    char *text = mixem_model_to_json (m);
    json = g_strconcat (text, "\n", NULL);   /* as mixem_model_save writes it */
    g_free (text);
    paths[n] = model_path;
    data[n++] = json;
  }
  if (table_path) {
    paths[n] = table_path;
    data[n++] = table ? table->str : (csv = mixem_trace_to_csv (m));
  }
  gboolean ok = mixem_write_files_atomic (n, paths, data, NULL, error);
  g_free (json);
  g_free (csv);
  return ok;
}

/* ---- fit ---- */

/* --verbose: a line every *DATA iterations (and the first of each restart). */
static gboolean
print_iteration (const mixem_iteration *it, const mixem_params *p, const double *w, void *data)
{
  (void) p;
  (void) w;
  const int every = *(const int *) data;
  if (it->iter == 1 || it->iter % every == 0)
    fprintf (stderr, "restart %d  iter %4d  loglik %.10g  elbo %.10g  kl %.3e  delta %.3e\n",
             it->restart, it->iter, it->loglik, it->elbo, it->kl, it->delta);
  return TRUE;
}

/* Progress on stderr unless QUIET: the live line on a terminal, or the --verbose lines. */
static mixem_progress *
cli_progress (mixem_fit_options *o, gboolean quiet, gboolean verbose, int *interval)
{
  if (quiet)
    return NULL;
  mixem_progress *p = mixem_progress_new (stderr, !verbose && isatty (fileno (stderr)), 1.0, 0,
                                          0, o->n_init, verbose ? print_iteration : NULL,
                                          interval);
  o->callback = mixem_progress_callback;
  o->user_data = p;
  return p;
}

/* mixem fit --stream: an .npy file read BATCH rows at a time, the batches of mixem_fit_stream
 * (never the whole file: each batch maps and reads its own rows only). */
typedef struct {
  const char *path;
  size_t batch, at, n_all;
  char **cols;               /* --columns, or NULL */
} npy_stream;

static mixem_dataset *
npy_stream_next (void *user, GError **error)
{
  npy_stream *s = user;
  if (s->at >= s->n_all)
    return NULL;
  size_t n_all = 0;
  mixem_dataset *b = mixem_dataset_read_npy_rows (s->path, s->at, s->at + s->batch, &n_all,
                                                  error);
  if (b && n_all != s->n_all) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_IO, "%s: the file changed while it was read "
                 "(%zu rows, now %zu)", s->path, s->n_all, n_all);
    mixem_dataset_free (b);
    return NULL;
  }
  if (b)
    s->at += mixem_dataset_rows (b);
  if (b && s->cols) {
    mixem_dataset *c = mixem_dataset_select (b, (const char *const *) s->cols, NULL, error);
    mixem_dataset_free (b);
    b = c;
  }
  return b;
}

static gboolean
npy_stream_rewind (void *user, GError **error)
{
  (void) error;
  ((npy_stream *) user)->at = 0;
  return TRUE;
}

/* --concomitant Z: the file read whole (across ranks, this rank's share), *Z its columns Z and
 * *DATA replaced by COLUMNS of it, or by all its columns but Z's. */
static gboolean
split_concomitant (const char *path, const char *columns, const char *weights,
                   const char *delimiter, const mixem_family *f, missing_args *ma, gboolean part,
                   size_t block_size, const char *concomitant, mixem_dataset **data,
                   mixem_dataset **z, GError **error)
{
  mixem_dataset *whole = read_data_part (path, NULL, NULL, weights, delimiter, f, ma,
                                         part ? 64 * block_size : 0, error);
  if (!whole)
    return FALSE;
  char **zc = g_strsplit (concomitant, ",", -1);
  *z = mixem_dataset_select (whole, (const char *const *) zc, NULL, error);
  char **keep = columns ? g_strsplit (columns, ",", -1)
                        : g_new0 (char *, mixem_dataset_cols (whole) + 1);
  for (size_t j = 0, m = 0; !columns && j < mixem_dataset_cols (whole); j++) {
    gboolean in_z = FALSE;
    for (char **c = zc; *c; c++)
      in_z = in_z || strcmp (*c, mixem_dataset_name (whole, j)) == 0;
    if (!in_z)
      keep[m++] = g_strdup (mixem_dataset_name (whole, j));
  }
  mixem_dataset *d = NULL;
  if (*z && !keep[0])
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 "--concomitant: every column is a concomitant variable, none is left to model");
  else if (*z)
    d = mixem_dataset_select (whole, (const char *const *) keep, NULL, error);
  if (!*z)
    g_prefix_error (error, "--concomitant: ");
  g_strfreev (zc);
  g_strfreev (keep);
  mixem_dataset_free (whole);
  if (!d) {
    mixem_dataset_free (*z);
    *z = NULL;
    return FALSE;
  }
  mixem_dataset_free (*data);
  *data = d;
  return TRUE;
}

static int
cmd_fit (int argc, char **argv)
{
  char *family = NULL, *columns = NULL, *trials = NULL, *weights = NULL, *init = NULL;
  char *fix = NULL, *out = NULL, *trace = NULL, *delimiter = NULL, **extra = NULL;
  char *covariance = NULL, *reg_covar = NULL, *algorithm = NULL, *init_model = NULL;
  char *anneal_t0 = NULL, *anneal_steps = NULL;
  char *blocks = NULL, *batch_size = NULL, *step_alpha = NULL, *epochs = NULL;
  char *sem_average = NULL, *concomitant = NULL;
  mixem_dataset *zdata = NULL;
  /* The engine's defaults, not restated here. */
  mixem_fit_options defaults;
  mixem_fit_options_init (&defaults);
  int k = 1, n_init = defaults.n_init, max_iter = defaults.max_iter, threads = 0, interval = 1;
  int n_refine = defaults.n_refine, refine_max_iter = defaults.refine_max_iter;
  char *short_algorithm = NULL;
  int short_starts = defaults.short_starts, short_iter = defaults.short_iter;
  gint64 seed = 0;
  double tol = defaults.tol, refine_tol = defaults.refine_tol;
  gboolean quiet = FALSE, verbose = FALSE, reseed_opt = FALSE, strict_empty = FALSE;
  gboolean noise = FALSE;
  double noise_volume = 0.0, noise_init = 0.0;
  char *noise_rows_opt = NULL;
  gboolean *noise_mask = NULL;
  gboolean stream = FALSE;
  npy_stream st = { 0 };
  missing_args ma = { 0 };
  int block_size = defaults.block_size;
  char *mpi_part_opt = NULL;
  GOptionEntry entries[] = {
    { "family", 'f', 0, G_OPTION_ARG_STRING, &family, "Distribution family (see 'mixem families')", "NAME" },
    { "components", 'k', 0, G_OPTION_ARG_INT, &k, "Number of components (default 1)", "K" },
    { "columns", 'c', 0, G_OPTION_ARG_STRING, &columns, "Data columns, by name or number (default: all)", "A,B,..." },
    { "trials", 0, 0, G_OPTION_ARG_STRING, &trials, "binomial: trials, a column name or one number", "COLUMN|N" },
    { "covariance", 0, 0, G_OPTION_ARG_STRING, &covariance, "gaussian: one of mclust's 14 models (EII, VII, EEI, VEI, EVI, VVI, EEE, VEE, EVE, VVE, EEV, VEV, EVV, VVV) or full, tied, diag, spherical, tied_spherical", "TYPE" },
    { "reg-covar", 0, 0, G_OPTION_ARG_STRING, &reg_covar, "gaussian: added to covariance diagonals (default 1e-6)", "X" },
    { "algorithm", 0, 0, G_OPTION_ARG_STRING, &algorithm, "em (default), cem (classification EM), squarem (accelerated EM), sem (stochastic EM), annealed (deterministic annealing EM), incremental (incremental EM) or online (stepwise EM)", "NAME" },
    { "anneal-t0", 0, 0, G_OPTION_ARG_STRING, &anneal_t0, "annealed: the first temperature, >= 1 (default 2)", "T" },
    { "anneal-steps", 0, 0, G_OPTION_ARG_STRING, &anneal_steps, "annealed: temperatures above 1, falling geometrically (default 5)", "N" },
    { "blocks", 0, 0, G_OPTION_ARG_STRING, &blocks, "incremental: contiguous chunks of rows, 1..rows (default 10, or the rows if fewer)", "B" },
    { "batch-size", 0, 0, G_OPTION_ARG_STRING, &batch_size, "online: rows a batch, 1..rows (default 500, or the rows if fewer)", "N" },
    { "step-alpha", 0, 0, G_OPTION_ARG_STRING, &step_alpha, "online: steps (t + 2)^-alpha, alpha in (0.5, 1] (default 0.6)", "A" },
    { "epochs", 0, 0, G_OPTION_ARG_STRING, &epochs, "online: exactly this many passes over the data (default: until --tol, at most --max-iter)", "N" },
    { "stream", 0, 0, G_OPTION_ARG_NONE, &stream, "online: read the .npy file --batch-size rows at a time, never whole (a start fitted by EM to the first batch, then one pass, or --epochs)", NULL },
    { "sem-average", 0, 0, G_OPTION_ARG_STRING, &sem_average, "sem: the result is the M-step from the mean statistics of the last M iterations, 1..max-iter (default: the best iteration)", "M" },
    { "weights", 'w', 0, G_OPTION_ARG_STRING, &weights, "Column of row weights", "COLUMN" },
    { "init", 0, 0, G_OPTION_ARG_STRING, &init, "Start: a family start or random_resp", "METHOD" },
    { "init-model", 0, 0, G_OPTION_ARG_FILENAME, &init_model, "Start from this model's weights and parameters (any family, plugins too)", "MODEL.json" },
    { "n-init", 0, 0, G_OPTION_ARG_INT, &n_init, "Restarts, each screening --short-starts starts (small-EM); the best is kept (default 10)", "N" },
    { "max-iter", 0, 0, G_OPTION_ARG_INT, &max_iter, "Iterations at most (default 100)", "N" },
    { "tol", 0, 0, G_OPTION_ARG_DOUBLE, &tol, "Stop when the mean log-likelihood changes less (default 1e-3)", "X" },
    { "refine-tol", 0, 0, G_OPTION_ARG_DOUBLE, &refine_tol, "Then refine the best restarts down to this change (default 1e-6)", "X" },
    { "n-refine", 0, 0, G_OPTION_ARG_INT, &n_refine, "How many of the best distinct restarts to refine (default 5; 0: none)", "N" },
    { "refine-max-iter", 0, 0, G_OPTION_ARG_INT, &refine_max_iter, "Iterations refinement may add past max-iter (default 1000)", "N" },
    { "short-starts", 0, 0, G_OPTION_ARG_INT, &short_starts, "small-EM: starts drawn per restart, the best after --short-iter iterations goes on (default 12; 1: off)", "N" },
    { "short-iter", 0, 0, G_OPTION_ARG_INT, &short_iter, "small-EM: iterations of each short run (default 20)", "N" },
    { "short-algorithm", 0, 0, G_OPTION_ARG_STRING, &short_algorithm, "small-EM's short runs by em (default), cem or sem: mixmod's CEM-EM and SEM-EM", "NAME" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Random seed (default 0)", "S" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, "Threads (default: all); results do not depend on it", "N" },
    { "block-size", 0, 0, G_OPTION_ARG_INT, &block_size, "Rows per block of the E-step (default 256); sums go by chunks of 64 blocks", "N" },
    { "mpi-part", 0, 0, G_OPTION_ARG_STRING, &mpi_part_opt, "Under mpirun: rows (each rank reads its share of the rows and the ranks fit together), none (each rank fits all rows alone) or auto (default: rows when started by mpirun)", "HOW" },
    { "fix", 0, 0, G_OPTION_ARG_STRING, &fix, "Keep at their start: weights, components, or component numbers", "LIST" },
    { "option", 'o', 0, G_OPTION_ARG_STRING_ARRAY, &extra, "A family option (repeatable)", "KEY=VALUE" },
    { "delimiter", 'd', 0, G_OPTION_ARG_STRING, &delimiter, "Field separator of DATA.csv (default ',')", "C" },
    MISSING_ENTRIES (ma),
    { "out", 0, 0, G_OPTION_ARG_FILENAME, &out, "Write the model as JSON", "MODEL.json" },
    { "trace", 0, 0, G_OPTION_ARG_FILENAME, &trace, "Write one CSV row per iteration", "TRACE.csv" },
    { "reseed", 0, 0, G_OPTION_ARG_NONE, &reseed_opt, "Re-seed a degenerate component from the worst-explained rows instead of failing", NULL },
    { "strict-empty", 0, 0, G_OPTION_ARG_NONE, &strict_empty, "An empty component is an error (default: kept at weight 0, with a warning)", NULL },
    { "noise", 0, 0, G_OPTION_ARG_NONE, &noise, "mclust's noise component: one more, of density 1/V over the data's hypervolume (em, cem)", NULL },
    { "noise-volume", 0, 0, G_OPTION_ARG_DOUBLE, &noise_volume, "--noise: V (default: mclust's hypvol of the data)", "V" },
    { "noise-init", 0, 0, G_OPTION_ARG_DOUBLE, &noise_init, "--noise: its starting weight, in (0, 1) (default 0.1)", "P" },
    { "noise-rows", 0, 0, G_OPTION_ARG_STRING, &noise_rows_opt, "--noise: start from the noise guess of nearest-neighbour cleaning (prabclus's NNclean; K default 5)", "nnclean[:K]" },
    { "concomitant", 0, 0, G_OPTION_ARG_STRING, &concomitant, "Concomitant variables: the weights a multinomial logit of these columns (flexmix's FLXPmultinom); without --columns the family models the others", "Z1,Z2,..." },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print nothing on success", NULL },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Print iterations on stderr", NULL },
    { "verbose-interval", 0, 0, G_OPTION_ARG_INT, &interval,
      "With --verbose, print every N-th iteration (default 1)", "N" },
    { NULL }
  };
  int status = EXIT_OK;
  mixem_registry *reg = NULL;
  mixem_dataset *data = NULL;
  mixem_options *fo = NULL;
  family_flags ff;
  GVariant *start_components = NULL;
  mixem_model *m = NULL, *start_model = NULL;
  gboolean *fixed = NULL;
  GError *err = NULL;

  family_flags_init (&ff, argc, argv, entries);
  if (!parse_options_more ("fit", entries, ff.entries, &argc, &argv, &status)
      || !family_flags_resolve ("fit", &ff, &status))
    goto out;
  if (argc != 2) {
    status = usage_error ("fit", argc < 2 ? "no data file given" : "one data file expected");
    goto out;
  }
  if (!family) {
    status = usage_error ("fit", "--family is required");
    goto out;
  }
  if (!check_delimiter ("fit", delimiter, &status))
    goto out;
  const char *bad = k < 1 ? "-k must be >= 1" : n_init < 1 ? "--n-init must be >= 1"
                    : max_iter < 0 ? "--max-iter must be >= 0" : threads < 0 ? "--threads must be >= 0"
                    : seed < 0 ? "--seed must be >= 0" : !(tol >= 0) ? "--tol must be >= 0"
                    : !(refine_tol >= 0) ? "--refine-tol must be >= 0"
                    : n_refine < 0 ? "--n-refine must be >= 0"
                    : refine_max_iter < 0 ? "--refine-max-iter must be >= 0" : NULL;
  if (bad) {
    status = usage_error ("fit", "%s (got -k %d, --n-init %d, --max-iter %d, --threads %d, --seed %"
                          G_GINT64_FORMAT ", --tol %g, --refine-tol %g, --n-refine %d)", bad, k,
                          n_init, max_iter, threads, seed, tol, refine_tol, n_refine);
    goto out;
  }
  reg = mixem_registry_new ();
  const mixem_family *f = lookup_family ("fit", reg, family, &status);
  if (!f)
    goto out;
  fo = mixem_options_new ();
  if (trials)
    mixem_options_set (fo, "trials", trials);
  if (covariance)
    mixem_options_set (fo, "covariance", covariance);
  if (reg_covar)
    mixem_options_set (fo, "reg_covar", reg_covar);
  mixem_algorithm alg = MIXEM_EM;
  if (algorithm && !mixem_algorithm_parse (algorithm, &alg, &err)) {
    status = usage_error ("fit", "--algorithm: %s", err->message);
    g_clear_error (&err);
    goto out;
  }
  double t0_value = 0.0;
  gint64 steps_value = 0;
  if ((anneal_t0 || anneal_steps) && alg != MIXEM_ANNEALED) {
    status = usage_error ("fit", "--%s is an option of --algorithm annealed only (got %s)",
                          anneal_t0 ? "anneal-t0" : "anneal-steps", mixem_algorithm_name (alg));
    goto out;
  }
  if (anneal_t0) {
    char *end = NULL;
    t0_value = g_ascii_strtod (anneal_t0, &end);
    if (end == anneal_t0 || *end || !(t0_value >= 1.0) || !isfinite (t0_value)) {
      status = usage_error ("fit", "--anneal-t0 must be a finite temperature >= 1 (got '%s')",
                            anneal_t0);
      goto out;
    }
  }
  if (anneal_steps && (!g_ascii_string_to_signed (anneal_steps, 10, 1, G_MAXINT, &steps_value,
                                                   NULL))) {
    status = usage_error ("fit", "--anneal-steps must be a whole number >= 1 (got '%s')",
                          anneal_steps);
    goto out;
  }
  /* Incremental and online EM's options, each refused by another algorithm. */
  const struct { const char *flag, *text; mixem_algorithm alg; } own[] = {
    { "blocks", blocks, MIXEM_INCREMENTAL }, { "batch-size", batch_size, MIXEM_ONLINE },
    { "step-alpha", step_alpha, MIXEM_ONLINE }, { "epochs", epochs, MIXEM_ONLINE },
    { "sem-average", sem_average, MIXEM_SEM },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (own); i++)
    if (own[i].text && alg != own[i].alg) {
      status = usage_error ("fit", "--%s is an option of --algorithm %s only (got %s)",
                            own[i].flag, mixem_algorithm_name (own[i].alg),
                            mixem_algorithm_name (alg));
      goto out;
    }
  guint64 blocks_value = 0, batch_value = 0;
  gint64 epochs_value = 0;
  double alpha_value = 0.0;
  if (blocks && !g_ascii_string_to_unsigned (blocks, 10, 1, G_MAXSIZE, &blocks_value, NULL)) {
    status = usage_error ("fit", "--blocks must be a whole number >= 1 (got '%s')", blocks);
    goto out;
  }
  if (batch_size
      && !g_ascii_string_to_unsigned (batch_size, 10, 1, G_MAXSIZE, &batch_value, NULL)) {
    status = usage_error ("fit", "--batch-size must be a whole number >= 1 (got '%s')",
                          batch_size);
    goto out;
  }
  if (step_alpha) {
    char *end = NULL;
    alpha_value = g_ascii_strtod (step_alpha, &end);
    if (end == step_alpha || *end || !(alpha_value > 0.5 && alpha_value <= 1.0)) {
      status = usage_error ("fit", "--step-alpha must be a number in (0.5, 1] (got '%s')",
                            step_alpha);
      goto out;
    }
  }
  if (epochs && !g_ascii_string_to_signed (epochs, 10, 1, G_MAXINT, &epochs_value, NULL)) {
    status = usage_error ("fit", "--epochs must be a whole number >= 1 (got '%s')", epochs);
    goto out;
  }
  gint64 average_value = 0;
  if (sem_average
      && !g_ascii_string_to_signed (sem_average, 10, 1, G_MAXINT, &average_value, NULL)) {
    status = usage_error ("fit", "--sem-average must be a whole number >= 1 (got '%s')",
                          sem_average);
    goto out;
  }
  for (size_t i = 0; i < ff.n; i++)
    if (ff.values[i])
      mixem_options_set (fo, ff.keys[i], ff.values[i]);
  if (!set_extra_options ("fit", extra, fo, &status))
    goto out;
  fixed = g_new0 (gboolean, k);
  gboolean any_fixed = FALSE, fix_weights = FALSE;
  if (fix) {
    char **parts = g_strsplit (fix, ",", -1);
    for (char **p = parts; *p; p++) {
      char *end;
      long j = strtol (*p, &end, 10);
      if (strcmp (*p, "weights") == 0)
        fix_weights = TRUE;
      else if (strcmp (*p, "components") == 0)
        for (int q = 0; q < k; q++)
          fixed[q] = any_fixed = TRUE;
      else if (*p[0] && *end == '\0' && j >= 1 && j <= k)
        fixed[j - 1] = any_fixed = TRUE;
      else {
        status = usage_error ("fit", "--fix: '%s' is not weights, components or a component "
                              "number in 1..%d", *p, k);
        g_strfreev (parts);
        goto out;
      }
    }
    g_strfreev (parts);
  }
  gboolean part = FALSE;
  if (!mpi_part ("fit", mpi_part_opt, &part, &status))
    goto out;
  /* Under mpirun MPI is started even with --mpi-part none, so that rank 0 alone writes. */
  if (mixem_parallel_launched () && !mixem_parallel_init (&err)) {
    status = fail ("fit", err);
    goto out;
  }
  if (block_size < 1) {
    status = usage_error ("fit", "--block-size must be 1 or more (got %d)", block_size);
    goto out;
  }
  if (stream) {
    /* Online EM on batches read one at a time: an .npy file of plain columns. */
    const char *why = alg != MIXEM_ONLINE ? "needs --algorithm online"
                      : !g_str_has_suffix (argv[1], ".npy") ? "reads an .npy file only"
                      : weights ? "takes no --weights (an .npy file has none)"
                      : part ? "is not available across ranks (--mpi-part)"
                      : init_model ? "takes no --init-model (the start is fitted to the first batch)"
                      : (ma.allow || ma.tokens) ? "takes no missing values"
                      : fix && !g_str_equal (fix, "weights") ? "fixes the weights only (--fix weights)"
                      : NULL;
    if (why) {
      status = usage_error ("fit", "--stream %s", why);
      goto out;
    }
    st.path = argv[1];
    st.batch = batch_value > 0 ? (size_t) batch_value : 500;
    st.cols = columns ? g_strsplit (columns, ",", -1) : NULL;
    mixem_dataset *head = mixem_dataset_read_npy_rows (st.path, 0, 0, &st.n_all, &err);
    if (!head) {
      status = fail ("fit", err);
      goto out;
    }
    mixem_dataset_free (head);
    if ((size_t) k > MIN (st.batch, st.n_all)) {
      status = usage_error ("fit", "--stream: k = %d exceeds the rows of the first batch (%zu)",
                            k, MIN (st.batch, st.n_all));
      goto out;
    }
  }
  /* Shares cut at chunks of the fit's reduction tree: 64 blocks. */
  data = stream ? NULL : read_data_part (argv[1], NULL, columns, weights, delimiter, f, &ma,
                                         part ? 64 * (size_t) block_size : 0, &err);
  if (!data && !stream) {
    status = fail ("fit", err);
    goto out;
  }
  if (concomitant && stream) {
    status = usage_error ("fit", "--concomitant: not with --stream");
    goto out;
  }
  if (concomitant && !split_concomitant (argv[1], columns, weights, delimiter, f, &ma, part,
                                         (size_t) block_size, concomitant, &data, &zdata, &err)) {
    status = fail ("fit", err);
    goto out;
  }
  /* Across ranks only rank 0 prints and writes; every rank fits (the same model). */
  const gboolean rank0 = mixem_parallel_rank () == 0;
  if (!rank0)
    verbose = FALSE;
  mixem_fit_options o;
  mixem_fit_options_init (&o);
  o.k = (size_t) k;
  o.n_init = n_init;
  o.max_iter = max_iter;
  o.tol = tol;
  o.refine_tol = refine_tol;
  o.n_refine = n_refine;
  o.refine_max_iter = refine_max_iter;
  o.short_starts = short_starts;
  o.short_iter = short_iter;
  if (short_algorithm) {
    if (strcmp (short_algorithm, "em") && strcmp (short_algorithm, "cem")
        && strcmp (short_algorithm, "sem")) {
      status = usage_error ("fit", "--short-algorithm must be em, cem or sem (got '%s')",
                            short_algorithm);
      goto out;
    }
    o.short_algorithm = strcmp (short_algorithm, "cem") == 0 ? MIXEM_CEM
                        : strcmp (short_algorithm, "sem") == 0 ? MIXEM_SEM : MIXEM_EM;
  }
  o.seed = (unsigned long) seed;
  o.threads = threads;
  o.block_size = (size_t) block_size;
  o.init = init;
  o.algorithm = alg;
  o.anneal_t0 = t0_value;
  o.anneal_steps = (int) steps_value;
  o.blocks = (size_t) blocks_value;
  o.batch_size = stream ? 0 : (size_t) batch_value;   /* a stream's batches are st's */
  o.step_alpha = alpha_value;
  o.epochs = (int) epochs_value;
  o.sem_average = (int) average_value;
  o.family_options = fo;
  o.fix_weights = fix_weights;
  o.reseed = reseed_opt;
  o.strict_empty = strict_empty;
  o.concomitant = zdata;
  o.noise = noise;
  o.noise_volume = noise_volume;
  o.noise_init = noise_init;
  if (noise_rows_opt) {   /* the guess estimated from the data, as mclust's examples' NNclean */
    char *end = NULL;
    const char *ks = g_str_has_prefix (noise_rows_opt, "nnclean:") ? noise_rows_opt + 8 : NULL;
    const gint64 nnk = ks ? g_ascii_strtoll (ks, &end, 10) : 5;
    if ((strcmp (noise_rows_opt, "nnclean") != 0 && !ks) || (ks && (end == ks || *end || nnk < 1))) {
      status = usage_error ("fit", "--noise-rows must be nnclean or nnclean:K with K >= 1 (got '%s')",
                            noise_rows_opt);
      goto out;
    }
    if (!data) {
      status = usage_error ("fit", "--noise-rows: not with a stream of batches");
      goto out;
    }
    noise_mask = g_new (gboolean, mixem_dataset_rows (data) + 1);
    if (!mixem_nnclean (data, (size_t) nnk, noise_mask, NULL, NULL, NULL, &err)) {
      status = fail ("fit", err);
      goto out;
    }
    o.noise_rows = noise_mask;
  }
  o.fix_components = any_fixed ? fixed : NULL;
  if (interval < 1) {
    status = usage_error ("fit", "--verbose-interval must be 1 or more (got %d)", interval);
    goto out;
  }
  if (init_model) {
    /* A fresh fit from the model's weights and components (not a warm start: that would take
     * its log-likelihood as the last one, and stop at once when it is already converged). */
    start_model = mixem_model_load (reg, init_model, &err);
    if (!start_model) {
      status = fail ("fit", err);
      goto out;
    }
    if (mixem_model_family (start_model) != f || mixem_model_k (start_model) != (size_t) k) {
      status = usage_error ("fit", "--init-model: %s is a %s model with k = %zu; this fit is %s "
                            "with k = %d", init_model, mixem_model_family (start_model)->name,
                            mixem_model_k (start_model), f->name, k);
      goto out;
    }
    if (mixem_model_noise (start_model, NULL, NULL) != noise) {   /* K + 1 weights or K */
      status = usage_error ("fit", "--init-model: %s %s a noise component; give --noise %s",
                            init_model, noise ? "has no" : "has", noise ? "with a model that has "
                            "one" : "too");
      goto out;
    }
    GVariantBuilder b;
    g_variant_builder_init (&b, G_VARIANT_TYPE ("aa{sv}"));
    for (size_t j = 0; j < (size_t) k; j++)
      g_variant_builder_add_value (&b, mixem_model_component (start_model, j));
    start_components = g_variant_ref_sink (g_variant_builder_end (&b));
    o.init_components = start_components;
    o.init_weights = mixem_model_weights (start_model);
  }
  mixem_progress *prog = cli_progress (&o, quiet || !rank0, verbose, &interval);
  m = stream ? mixem_fit_stream (f, npy_stream_next, npy_stream_rewind, &st, &o, &err)
             : mixem_fit (f, data, &o, &err);
  mixem_progress_free (prog);
  if (!m) {
    status = fail ("fit", err);
    goto out;
  }
  /* Rank 0 writes; a failure there is every rank's. */
  if (rank0)
    save_outputs (m, out, trace, NULL, &err);
  if (part ? !mixem_parallel_agree (&err) : err != NULL) {
    status = fail ("fit", err);
    goto out;
  }
  if (!quiet || part) {
    /* (The summary's BIC is a pass over the rows: across ranks, every rank makes it.) */
    char *s = mixem_model_summary (m, data);
    if (!quiet && rank0)
      fputs (s, stdout);
    g_free (s);
    size_t nw = 0;
    const char *const *w = mixem_model_warnings (m, &nw);
    for (size_t i = 0; i < nw && !quiet && rank0; i++)
      fprintf (stderr, "mixem fit: warning: %s\n", w[i]);
  }
out:
  family_flags_clear (&ff);
  g_strfreev (st.cols);
  g_free (noise_rows_opt);
  g_free (noise_mask);
  mixem_model_free (m);
  mixem_model_free (start_model);
  if (start_components)
    g_variant_unref (start_components);
  g_free (init_model);
  mixem_options_free (fo);
  mixem_dataset_free (data);
  mixem_dataset_free (zdata);
  mixem_registry_free (reg);
  g_free (fixed);
  g_free (family);
  g_free (columns);
  g_free (trials);
  g_free (covariance);
  g_free (reg_covar);
  g_free (algorithm);
  g_free (short_algorithm);
  g_free (anneal_t0);
  g_free (anneal_steps);
  g_free (blocks);
  g_free (batch_size);
  g_free (step_alpha);
  g_free (epochs);
  g_free (sem_average);
  g_free (weights);
  g_free (init);
  g_free (fix);
  g_free (out);
  g_free (trace);
  g_free (delimiter);
  g_free (mpi_part_opt);
  g_free (concomitant);
  g_strfreev (extra);
  g_strfreev (ma.tokens);
  return status;
}

/* ---- select ---- */

/* "1-8" or "1,2,5" (or a mix) into K values. */
static gboolean
parse_ks (const char *text, GArray *ks)
{
  char **parts = g_strsplit (text, ",", -1);
  gboolean ok = parts[0] != NULL;
  for (char **p = parts; *p && ok; p++) {
    char *end;
    long a = strtol (*p, &end, 10), b = a;
    if (*end == '-')
      b = strtol (end + 1, &end, 10);
    ok = end != *p && *end == '\0' && a >= 1 && b >= a && b <= 1000;
    for (long k = a; ok && k <= b; k++) {
      size_t v = (size_t) k;
      g_array_append_val (ks, v);
    }
  }
  g_strfreev (parts);
  return ok && ks->len > 0;
}

/* The options of candidate C that vary across CANDS, as one label: "VVV" when the covariance is
 * all that varies, else key=value;... (what every candidate shares is left out). */
static char *
options_label (const mixem_candidate *c, const GArray *cands)
{
  GString *os = g_string_new (NULL);
  const size_t n = mixem_options_size (c->options);
  GPtrArray *keys = g_ptr_array_new ();
  for (size_t j = 0; j < n; j++) {
    const char *key = mixem_options_key (c->options, j), *v = mixem_options_get (c->options, key);
    gboolean varies = FALSE;
    for (guint i = 0; i < cands->len && !varies; i++) {
      const char *w = mixem_options_get (g_array_index (cands, mixem_candidate, i).options, key);
      varies = !w || strcmp (v, w) != 0;
    }
    if (varies)
      g_ptr_array_add (keys, (gpointer) key);
  }
  for (guint j = 0; j < keys->len; j++) {
    const char *key = g_ptr_array_index (keys, j);
    if (keys->len == 1 && strcmp (key, "covariance") == 0)
      g_string_append (os, mixem_options_get (c->options, key));
    else
      g_string_append_printf (os, "%s%s=%s", j ? ";" : "", key, mixem_options_get (c->options, key));
  }
  g_ptr_array_free (keys, TRUE);
  return g_string_free (os, FALSE);
}

/* mclust's print(BIC) and summary(BIC): the criterion per option set (columns) against K (rows),
 * and the best three candidates with their differences from the best. */
static void
print_grid (const GArray *cands, const GArray *ks, mixem_criterion crit, gboolean mclust_sign)
{
  const gboolean flip = mclust_sign && crit == MIXEM_BIC;
  GPtrArray *cols = g_ptr_array_new_with_free_func (g_free);
  char **label = g_new0 (char *, cands->len + 1);
  for (guint i = 0; i < cands->len; i++) {
    label[i] = options_label (&g_array_index (cands, mixem_candidate, i), cands);
    gboolean seen = FALSE;
    for (guint j = 0; j < cols->len && !seen; j++)
      seen = strcmp (g_ptr_array_index (cols, j), label[i]) == 0;
    if (!seen)
      g_ptr_array_add (cols, g_strdup (label[i]));
  }
  printf ("\n%s per model against k%s:\n%4s", mixem_criterion_name (crit),
          flip ? " (mclust's sign: 2 loglik - p log n, higher is better)"
               : crit == MIXEM_HELDOUT ? " (higher is better)" : " (lower is better)", "k");
  for (guint j = 0; j < cols->len; j++)
    printf (" %12s", (const char *) g_ptr_array_index (cols, j));
  printf ("\n");
  for (guint r = 0; r < ks->len; r++) {
    const size_t k = g_array_index (ks, size_t, r);
    printf ("%4zu", k);
    for (guint j = 0; j < cols->len; j++) {
      double v = NAN;
      for (guint i = 0; i < cands->len; i++) {
        const mixem_candidate *c = &g_array_index (cands, mixem_candidate, i);
        if (c->k == k && strcmp (label[i], g_ptr_array_index (cols, j)) == 0 && !c->failure)
          v = crit == MIXEM_BIC ? (flip ? -c->bic : c->bic) : crit == MIXEM_AIC ? c->aic
              : crit == MIXEM_ICL ? c->icl : c->heldout;
      }
      if (isnan (v))
        printf (" %12s", "-");
      else
        printf (" %12.3f", v);
    }
    printf ("\n");
  }
  size_t top[3];
  const size_t nt = mixem_candidates_top (cands, crit, top, 3);
  printf ("\nBest %s values:\n%10s", mixem_criterion_name (crit), "");
  for (size_t t = 0; t < nt; t++) {
    char *name = g_strdup_printf ("%s,%zu", label[top[t]],
                                  g_array_index (cands, mixem_candidate, top[t]).k);
    printf (" %14s", name);
    g_free (name);
  }
  double v0 = 0.0;
  for (int line = 0; line < 2; line++) {
    printf ("\n%-10s", line ? "diff" : mixem_criterion_name (crit));
    for (size_t t = 0; t < nt; t++) {
      const mixem_candidate *c = &g_array_index (cands, mixem_candidate, top[t]);
      double v = crit == MIXEM_BIC ? (flip ? -c->bic : c->bic) : crit == MIXEM_AIC ? c->aic
                 : crit == MIXEM_ICL ? c->icl : c->heldout;
      if (t == 0)
        v0 = v;
      printf (" %14.3f", line ? v - v0 : v);
    }
  }
  printf ("\n");
  g_strfreev (label);
  g_ptr_array_unref (cols);
}

static int
cmd_select (int argc, char **argv)
{
  char *family = NULL, *kspec = NULL, *columns = NULL, *weights = NULL, *delimiter = NULL;
  char *criterion = NULL, *init = NULL, *out = NULL, *model_out = NULL, *covariance = NULL;
  char *trials = NULL, **extra = NULL, *sign = NULL, *mpi_part_opt = NULL, *concomitant = NULL;
  mixem_dataset *zdata = NULL;
  mixem_fit_options defaults;
  mixem_fit_options_init (&defaults);
  int n_init = defaults.n_init, max_iter = defaults.max_iter, threads = 0, folds = 0;
  int n_refine = defaults.n_refine, refine_max_iter = defaults.refine_max_iter;
  int short_starts = defaults.short_starts, short_iter = defaults.short_iter;
  gint64 seed = 0;
  double tol = defaults.tol, validation = 0, refine_tol = defaults.refine_tol;
  gboolean quiet = FALSE;
  family_flags ff;
  missing_args ma = { 0 };
  GOptionEntry entries[] = {
    { "family", 'f', 0, G_OPTION_ARG_STRING, &family, "Distribution family", "NAME" },
    { "components", 'k', 0, G_OPTION_ARG_STRING, &kspec, "K values to try, e.g. 1-8 or 2,4,6 (default 1-8)", "LIST" },
    { "criterion", 0, 0, G_OPTION_ARG_STRING, &criterion, "bic (default), aic, icl or heldout", "NAME" },
    { "folds", 0, 0, G_OPTION_ARG_INT, &folds, "Held-out scores by this many folds (>= 2)", "N" },
    { "validation", 0, 0, G_OPTION_ARG_DOUBLE, &validation, "Held-out scores on one seeded split: this share of the rows", "X" },
    { "covariance", 0, 0, G_OPTION_ARG_STRING, &covariance, "gaussian: covariance models to try, comma-separated, or all (mclust's 14)", "LIST" },
    { "sign", 0, 0, G_OPTION_ARG_STRING, &sign, "mixem (default: BIC lower is better) or mclust (BIC = 2 loglik - p log n, higher is better) in the printed tables", "NAME" },
    { "trials", 0, 0, G_OPTION_ARG_STRING, &trials, "binomial: trials, a column name or one number", "COLUMN|N" },
    { "option", 'o', 0, G_OPTION_ARG_STRING_ARRAY, &extra, "A family option; VALUE may be a comma-separated list to try (repeatable)", "KEY=VALUE" },
    { "columns", 'c', 0, G_OPTION_ARG_STRING, &columns, "Data columns (default: all)", "A,B,..." },
    { "concomitant", 0, 0, G_OPTION_ARG_STRING, &concomitant, "Concomitant variables, as for fit", "Z1,Z2,..." },
    { "weights", 'w', 0, G_OPTION_ARG_STRING, &weights, "Column of row weights", "COLUMN" },
    { "init", 0, 0, G_OPTION_ARG_STRING, &init, "Start method", "METHOD" },
    { "n-init", 0, 0, G_OPTION_ARG_INT, &n_init, "Restarts per candidate, as for fit (default 10)", "N" },
    { "max-iter", 0, 0, G_OPTION_ARG_INT, &max_iter, "Iterations at most (default 100)", "N" },
    { "tol", 0, 0, G_OPTION_ARG_DOUBLE, &tol, "Convergence tolerance (default 1e-3)", "X" },
    { "refine-tol", 0, 0, G_OPTION_ARG_DOUBLE, &refine_tol, "Refinement tolerance (default 1e-6)", "X" },
    { "n-refine", 0, 0, G_OPTION_ARG_INT, &n_refine, "Best distinct restarts refined (default 5)", "N" },
    { "refine-max-iter", 0, 0, G_OPTION_ARG_INT, &refine_max_iter, "Iterations refinement may add past max-iter (default 1000)", "N" },
    { "short-starts", 0, 0, G_OPTION_ARG_INT, &short_starts, "small-EM: starts drawn per restart, the best after --short-iter iterations goes on (default 12; 1: off)", "N" },
    { "short-iter", 0, 0, G_OPTION_ARG_INT, &short_iter, "small-EM: iterations of each short run (default 20)", "N" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Random seed, also of the folds (default 0)", "S" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, "Threads (default: all)", "N" },
    { "delimiter", 'd', 0, G_OPTION_ARG_STRING, &delimiter, "Field separator of DATA.csv", "C" },
    MISSING_ENTRIES (ma),
    { "out", 0, 0, G_OPTION_ARG_FILENAME, &out, "Write the table as CSV", "TABLE.csv" },
    { "model-out", 0, 0, G_OPTION_ARG_FILENAME, &model_out, "Write the chosen model as JSON", "MODEL.json" },
    { "mpi-part", 0, 0, G_OPTION_ARG_STRING, &mpi_part_opt, "Under mpirun: candidates (default: every rank reads all rows and fits its share of the candidates) or none (every rank makes the whole selection alone)", "HOW" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print nothing on success", NULL },
    { NULL }
  };
  int status = EXIT_OK;
  mixem_registry *reg = NULL;
  mixem_dataset *data = NULL;
  GArray *ks = g_array_new (FALSE, FALSE, sizeof (size_t)), *cands = NULL;
  GPtrArray *sets = g_ptr_array_new_with_free_func ((GDestroyNotify) mixem_options_free);
  mixem_model *best = NULL;
  GString *table = NULL;
  GError *err = NULL;

  family_flags_init (&ff, argc, argv, entries);
  if (!parse_options_more ("select", entries, ff.entries, &argc, &argv, &status)
      || !family_flags_resolve ("select", &ff, &status))
    goto out;
  if (argc != 2) {
    status = usage_error ("select", argc < 2 ? "no data file given" : "one data file expected");
    goto out;
  }
  if (!family) {
    status = usage_error ("select", "--family is required");
    goto out;
  }
  if (!parse_ks (kspec ? kspec : "1-8", ks)) {
    status = usage_error ("select", "-k must list K values such as 1-8 or 2,4,6 (got '%s')", kspec);
    goto out;
  }
  mixem_criterion crit = MIXEM_BIC;
  if (criterion && !mixem_criterion_parse (criterion, &crit)) {
    status = usage_error ("select", "--criterion must be bic, aic, icl or heldout (got '%s')",
                          criterion);
    goto out;
  }
  if (sign && strcmp (sign, "mixem") != 0 && strcmp (sign, "mclust") != 0) {
    status = usage_error ("select", "--sign must be mixem or mclust (got '%s')", sign);
    goto out;
  }
  const gboolean mclust_sign = sign && strcmp (sign, "mclust") == 0;
  if (!check_delimiter ("select", delimiter, &status))
    goto out;
  if (n_init < 1 || max_iter < 0 || threads < 0 || seed < 0 || !(tol >= 0) || folds < 0
      || !(validation >= 0 && validation < 1) || !(refine_tol >= 0) || n_refine < 0) {
    status = usage_error ("select", "bad value among --n-init %d, --max-iter %d, --threads %d, "
                          "--seed %" G_GINT64_FORMAT ", --tol %g, --folds %d, --validation %g, "
                          "--refine-tol %g, --n-refine %d", n_init, max_iter, threads, seed, tol,
                          folds, validation, refine_tol, n_refine);
    goto out;
  }
  reg = mixem_registry_new ();
  const mixem_family *f = lookup_family ("select", reg, family, &status);
  if (!f)
    goto out;
  /* The grid: the product of the values of every option. */
  g_ptr_array_add (sets, mixem_options_new ());
  GPtrArray *pairs = g_ptr_array_new_with_free_func (g_free);
  if (trials)
    g_ptr_array_add (pairs, g_strdup_printf ("trials=%s", trials));
  if (covariance) {
    /* all: mclust's 14 models, or the ten with a prior when prior=default is asked for. */
    gboolean prior = FALSE;
    for (size_t i = 0; i < ff.n; i++)
      prior = prior || (ff.values[i] && strcmp (ff.keys[i], "prior") == 0
                        && strcmp (ff.values[i], "default") == 0);
    for (char **e = extra; e && *e; e++)
      prior = prior || strcmp (*e, "prior=default") == 0;
    g_ptr_array_add (pairs, g_strdup_printf ("covariance=%s", strcmp (covariance, "all") == 0
                                             ? (prior ? MIXEM_GAUSSIAN_PRIOR_MODELS
                                                      : MIXEM_GAUSSIAN_MODELS) : covariance));
  }
  for (size_t i = 0; i < ff.n; i++)
    if (ff.values[i])
      g_ptr_array_add (pairs, g_strdup_printf ("%s=%s", ff.keys[i], ff.values[i]));
  for (char **e = extra; e && *e; e++)
    g_ptr_array_add (pairs, g_strdup (*e));
  for (guint i = 0; i < pairs->len && status == EXIT_OK; i++) {
    const char *kv = g_ptr_array_index (pairs, i), *eq = strchr (kv, '=');
    if (!eq || eq == kv) {
      status = usage_error ("select", "--option needs KEY=VALUE (got '%s')", kv);
      break;
    }
    char *key = g_strndup (kv, eq - kv), **values = g_strsplit (eq + 1, ",", -1);
    GPtrArray *next = g_ptr_array_new_with_free_func ((GDestroyNotify) mixem_options_free);
    for (guint a = 0; a < sets->len; a++)
      for (char **v = values; *v; v++) {
        mixem_options *o = mixem_options_copy (g_ptr_array_index (sets, a));
        mixem_options_set (o, key, *v);
        g_ptr_array_add (next, o);
      }
    g_ptr_array_unref (sets);
    sets = next;
    g_strfreev (values);
    g_free (key);
  }
  g_ptr_array_unref (pairs);
  if (status != EXIT_OK)
    goto out;
  /* Under mpirun every rank reads all rows and the candidates are shared out among the ranks
   * (--mpi-part none: every rank makes the whole selection alone); rank 0 prints and writes. */
  gboolean spread = FALSE;
  if (mpi_part_opt && strcmp (mpi_part_opt, "none") != 0 && strcmp (mpi_part_opt, "auto") != 0
      && strcmp (mpi_part_opt, "candidates") != 0) {
    status = usage_error ("select", "--mpi-part must be auto, candidates or none (got '%s')",
                          mpi_part_opt);
    goto out;
  }
  if (mixem_parallel_launched ()) {
    if (!mixem_parallel_init (&err)) {
      status = fail ("select", err);
      goto out;
    }
    spread = !mpi_part_opt || strcmp (mpi_part_opt, "none") != 0;
    if (mixem_parallel_rank () != 0) {
      quiet = TRUE;
      g_clear_pointer (&out, g_free);
      g_clear_pointer (&model_out, g_free);
    }
  }
  if (!(data = read_data (argv[1], NULL, columns, weights, delimiter, f, &ma, &err))
      || (concomitant && !split_concomitant (argv[1], columns, weights, delimiter, f, &ma, FALSE,
                                             0, concomitant, &data, &zdata, &err))) {
    status = fail ("select", err);
    goto out;
  }
  mixem_fit_options o;
  mixem_fit_options_init (&o);
  o.concomitant = zdata;
  o.n_init = n_init;
  o.max_iter = max_iter;
  o.tol = tol;
  o.refine_tol = refine_tol;
  o.refine_max_iter = refine_max_iter;
  o.short_starts = short_starts;
  o.short_iter = short_iter;
  o.n_refine = n_refine;
  o.seed = (unsigned long) seed;
  o.threads = threads;
  o.init = init;
  mixem_select_options so = { (const size_t *) ks->data, ks->len,
                              (const mixem_options *const *) sets->pdata, sets->len, crit, folds,
                              validation, &o, spread };
  size_t bi = 0;
  int every = 1;
  mixem_progress *prog = cli_progress (&o, quiet, FALSE, &every);
  cands = mixem_select (f, data, &so, &best, &bi, &err);
  mixem_progress_free (prog);
  if (!cands) {
    status = fail ("select", err);
    goto out;
  }
  /* The table: CSV for --out, aligned text on stdout. */
  table = g_string_new ("k,options,loglik,n_params,bic,aic,icl,heldout,chosen,failure\n");
  char b[5][G_ASCII_DTOSTR_BUF_SIZE];
  if (!quiet)
    printf ("%4s  %-24s %14s %8s %14s %14s %14s %10s\n", "k", "options", "loglik", "params", "bic",
            "aic", "icl", "heldout");
  guint n_failed = 0;
  for (guint i = 0; i < cands->len; i++) {
    const mixem_candidate *c = &g_array_index (cands, mixem_candidate, i);
    GString *os = g_string_new (NULL);
    for (size_t j = 0; j < mixem_options_size (c->options); j++) {
      const char *key = mixem_options_key (c->options, j);
      g_string_append_printf (os, "%s%s=%s", j ? ";" : "", key, mixem_options_get (c->options, key));
    }
    if (c->failure) {
      /* A failed candidate: no scores, and the reason quoted as CSV quotes a field. */
      char **parts = g_strsplit (c->failure, "\"", -1);
      char *q = g_strjoinv ("\"\"", parts);
      g_strfreev (parts);
      g_string_append_printf (table, "%zu,%s,,,,,,,0,\"%s\"\n", c->k, os->str, q);
      g_free (q);
      if (!quiet)
        printf ("%4zu  %-24s failed: %s\n", c->k, os->str, c->failure);
      n_failed++;
      g_string_free (os, TRUE);
      continue;
    }
    g_string_append_printf (table, "%zu,%s,%s,%zu,%s,%s,%s,%s,%d,\n", c->k, os->str,
                            fmt_double (b[0], c->loglik), c->n_params, fmt_double (b[1], c->bic),
                            fmt_double (b[2], c->aic), fmt_double (b[3], c->icl),
                            isnan (c->heldout) ? "" : fmt_double (b[4], c->heldout), i == bi);
    if (!quiet)
      printf ("%4zu  %-24s %14.4f %8zu %14.4f %14.4f %14.4f %10s%s\n", c->k, os->str, c->loglik,
              c->n_params, mclust_sign ? -c->bic : c->bic, c->aic, c->icl,
              isnan (c->heldout) ? "-" : g_ascii_formatd (b[4], sizeof b[4], "%.5f", c->heldout),
              i == bi ? "  <- chosen" : "");
    g_string_free (os, TRUE);
  }
  if (!quiet && sets->len > 1)
    print_grid (cands, ks, crit, mclust_sign);
  /* As the fit's warnings: one line on stderr unless quiet, the exit status still 0. */
  if (n_failed && !quiet)
    fprintf (stderr, "mixem select: warning: %u of %u candidates failed and were left out of the "
             "choice (see the table)\n", n_failed, cands->len);
  if (!save_outputs (best, model_out, out, table, &err)) {
    status = fail ("select", err);
    goto out;
  }
  if (!quiet && mclust_sign && crit == MIXEM_BIC)
    printf ("\nChosen by bic (with mclust's sign, 2 loglik - p log n: higher is better):\n");
  else if (!quiet)
    printf ("\nChosen by %s (bic, aic, icl: lower is better; heldout: mean log-likelihood of "
            "left-out rows, higher is better):\n", mixem_criterion_name (crit));
  if (!quiet) {
    char *sum = mixem_model_summary (best, data);
    fputs (sum, stdout);
    g_free (sum);
  }
out:
  family_flags_clear (&ff);
  if (table)
    g_string_free (table, TRUE);
  mixem_candidates_free (cands);
  mixem_model_free (best);
  g_ptr_array_unref (sets);
  g_array_unref (ks);
  mixem_dataset_free (data);
  mixem_dataset_free (zdata);
  mixem_registry_free (reg);
  g_free (family);
  g_free (kspec);
  g_free (columns);
  g_free (weights);
  g_free (delimiter);
  g_free (criterion);
  g_free (init);
  g_free (out);
  g_free (model_out);
  g_free (covariance);
  g_free (mpi_part_opt);
  g_free (concomitant);
  g_free (sign);
  g_free (trials);
  g_strfreev (extra);
  g_strfreev (ma.tokens);
  return status;
}

/* ---- predict, score: MODEL.json DATA.csv ---- */

typedef struct {
  mixem_registry *reg;
  mixem_model *m;
  mixem_dataset *data;
} loaded;

static int
load_model_and_data (const char *cmd, int argc, char **argv, const char *weights,
                     const char *delimiter, const missing_args *ma, loaded *l)
{
  GError *err = NULL;
  if (argc != 3)
    return usage_error (cmd, "expected MODEL.json and DATA.csv");
  l->reg = mixem_registry_new ();
  if (!(l->m = mixem_model_load (l->reg, argv[1], &err)))
    return fail (cmd, err);
  if (!(l->data = read_data (argv[2], l->m, NULL, weights, delimiter, NULL, ma, &err)))
    return fail (cmd, err);
  return EXIT_OK;
}

static void
loaded_clear (loaded *l)
{
  mixem_model_free (l->m);
  mixem_dataset_free (l->data);
  mixem_registry_free (l->reg);
}

static int
cmd_predict (int argc, char **argv)
{
  gboolean proba = FALSE, uncertainty = FALSE, response_mean = FALSE;
  char *delimiter = NULL;
  missing_args ma = { 0 };
  GOptionEntry entries[] = {
    { "proba", 'p', 0, G_OPTION_ARG_NONE, &proba, "Print each component's probability", NULL },
    { "response-mean", 'r', 0, G_OPTION_ARG_NONE, &response_mean, "A regression model: print each component's fitted response and the mixture mean (prior weights) at the rows' covariates; the response column may be absent", NULL },
    { "uncertainty", 'u', 0, G_OPTION_ARG_NONE, &uncertainty, "Add a column: 1 - the largest probability (mclust's uncertainty)", NULL },
    { "delimiter", 'd', 0, G_OPTION_ARG_STRING, &delimiter, "Field separator of DATA.csv", "C" },
    MISSING_ENTRIES (ma),
    { NULL }
  };
  int status = EXIT_OK;
  loaded l = { 0 };
  GError *err = NULL;
  if (!parse_options ("predict", entries, &argc, &argv, &status)
      || !check_delimiter ("predict", delimiter, &status))
    goto out;
  if (response_mean) {
    /* New covariates: all of DATA's columns are read, and the model finds its own by name. */
    if (proba || uncertainty) {
      status = usage_error ("predict", "--response-mean does not go with --proba or --uncertainty");
      goto out;
    }
    if (argc != 3) {
      status = usage_error ("predict", "expected MODEL.json and DATA.csv");
      goto out;
    }
    l.reg = mixem_registry_new ();
    if (!(l.m = mixem_model_load (l.reg, argv[1], &err))
        || !(l.data = read_data (argv[2], NULL, NULL, NULL, delimiter, NULL, &ma, &err))) {
      status = fail ("predict", err);
      goto out;
    }
    const size_t n = mixem_dataset_rows (l.data), K = mixem_model_k (l.m);
    double *means = g_new (double, n * K > 0 ? n * K : 1), *mix = g_new (double, n > 0 ? n : 1);
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    if (mixem_model_mean_response (l.m, l.data, means, mix, &err)) {
      GString *s = g_string_new (NULL);
      for (size_t k = 0; k < K; k++)
        g_string_append_printf (s, "mu%zu,", k + 1);
      g_string_append (s, "mean\n");
      for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < K; k++)
          g_string_append_printf (s, "%s,", fmt_double (buf, means[i * K + k]));
        g_string_append_printf (s, "%s\n", fmt_double (buf, mix[i]));
      }
      fputs (s->str, stdout);
      g_string_free (s, TRUE);
    } else
      status = fail ("predict", err);
    g_free (means);
    g_free (mix);
    goto out;
  }
  if ((status = load_model_and_data ("predict", argc, argv, NULL, delimiter, &ma, &l)))
    goto out;
  /* With a noise component: its probability last ("noise"), its label 0, as mclust's. */
  const gboolean noisy = mixem_model_noise (l.m, NULL, NULL);
  size_t n = mixem_dataset_rows (l.data), k = mixem_model_k (l.m) + (noisy ? 1 : 0);
  GString *s = g_string_new (NULL);
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  if (proba || uncertainty) {
    /* The component (or the probabilities) and, with --uncertainty, 1 - the largest. */
    double *p = g_new (double, n * k);
    if (mixem_model_predict_proba (l.m, l.data, p, &err)) {
      if (proba)
        for (size_t j = 0; j < k; j++)
          if (noisy && j == k - 1)
            g_string_append (s, ",noise");
          else
            g_string_append_printf (s, "%sp%zu", j ? "," : "", j + 1);
      else
        g_string_append (s, "component");
      g_string_append (s, uncertainty ? ",uncertainty\n" : "\n");
      for (size_t i = 0; i < n; i++) {
        size_t best = 0;
        for (size_t j = 0; j < k; j++) {
          if (p[i * k + j] > p[i * k + best])
            best = j;
          if (proba)
            g_string_append_printf (s, "%s%s", j ? "," : "", fmt_double (buf, p[i * k + j]));
        }
        if (!proba)
          g_string_append_printf (s, "%zu", noisy && best == k - 1 ? 0 : best + 1);
        if (uncertainty)
          g_string_append_printf (s, ",%s", fmt_double (buf, 1.0 - p[i * k + best]));
        g_string_append_c (s, '\n');
      }
    }
    g_free (p);
  } else {
    size_t *lab = g_new (size_t, n);
    if (mixem_model_predict (l.m, l.data, lab, &err)) {
      g_string_append (s, "component\n");
      for (size_t i = 0; i < n; i++)
        g_string_append_printf (s, "%zu\n", noisy && lab[i] == k - 1 ? 0 : lab[i] + 1);
    }
    g_free (lab);
  }
  if (err)
    status = fail ("predict", err);
  else
    fputs (s->str, stdout);
  g_string_free (s, TRUE);
out:
  loaded_clear (&l);
  g_free (delimiter);
  g_strfreev (ma.tokens);
  return status;
}

static int
cmd_score (int argc, char **argv)
{
  gboolean per_sample = FALSE;
  char *delimiter = NULL, *weights = NULL;
  missing_args ma = { 0 };
  GOptionEntry entries[] = {
    { "per-sample", 's', 0, G_OPTION_ARG_NONE, &per_sample, "Print each row's log-likelihood", NULL },
    { "weights", 'w', 0, G_OPTION_ARG_STRING, &weights, "Column of row weights", "COLUMN" },
    { "delimiter", 'd', 0, G_OPTION_ARG_STRING, &delimiter, "Field separator of DATA.csv", "C" },
    MISSING_ENTRIES (ma),
    { NULL }
  };
  int status = EXIT_OK;
  loaded l = { 0 };
  GError *err = NULL;
  char buf[5][G_ASCII_DTOSTR_BUF_SIZE];
  if (!parse_options ("score", entries, &argc, &argv, &status)
      || !check_delimiter ("score", delimiter, &status))
    goto out;
  if ((status = load_model_and_data ("score", argc, argv, weights, delimiter, &ma, &l)))
    goto out;
  size_t n = mixem_dataset_rows (l.data);
  if (per_sample) {
    double *v = g_new (double, n);
    if (mixem_model_score_samples (l.m, l.data, v, &err)) {
      GString *s = g_string_new ("loglik\n");
      for (size_t i = 0; i < n; i++)
        g_string_append_printf (s, "%s\n", fmt_double (buf[0], v[i]));
      fputs (s->str, stdout);
      g_string_free (s, TRUE);
    }
    g_free (v);
  } else {
    double ll = mixem_model_total_loglik (l.m, l.data, &err);
    if (!err) {
      double w = mixem_dataset_total_weight (l.data);
      printf ("mean_loglik,loglik,rows,bic,aic\n%s,%s,%zu,%s,%s\n", fmt_double (buf[0], ll / w),
              fmt_double (buf[1], ll), n, fmt_double (buf[2], mixem_model_bic (l.m, l.data, NULL)),
              fmt_double (buf[3], mixem_model_aic (l.m, l.data, NULL)));
    }
  }
  if (err)
    status = fail ("score", err);
out:
  loaded_clear (&l);
  g_free (delimiter);
  g_free (weights);
  g_strfreev (ma.tokens);
  return status;
}

/* mixem impute MODEL DATA: DATA with its missing cells filled in, as CSV (stdout or --out, written
 * atomically).  Missing cells are read as with --allow-missing (the default tokens or --missing);
 * --draws M writes M completed copies, each row led by its copy's number (multiple imputation). */
static int
cmd_impute (int argc, char **argv)
{
  char *delimiter = NULL, *out = NULL;
  gint64 draws = 0, seed = 0;
  missing_args ma = { 0 };
  GOptionEntry entries[] = {
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "Write the CSV here (default: stdout)", "FILE.csv" },
    { "draws", 0, 0, G_OPTION_ARG_INT64, &draws, "Draw each missing cell from its conditional, M completed copies (default: the conditional mean, one copy)", "M" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Random seed of the draws (default 0)", "S" },
    { "delimiter", 'd', 0, G_OPTION_ARG_STRING, &delimiter, "Field separator of DATA.csv", "C" },
    { "missing", 0, 0, G_OPTION_ARG_STRING_ARRAY, &ma.tokens, "A missing cell's text (repeatable or a comma list; default: empty, NA, NaN)", "TOKEN" },
    { NULL }
  };
  int status = EXIT_OK;
  loaded l = { 0 };
  GError *err = NULL;
  double *x = NULL;
  if (!parse_options ("impute", entries, &argc, &argv, &status)
      || !check_delimiter ("impute", delimiter, &status))
    goto out;
  if (draws < 0 || draws > 100000 || seed < 0) {
    status = usage_error ("impute", "--draws must be from 1 to 100000 and --seed >= 0 (got "
                          "--draws %" G_GINT64_FORMAT ", --seed %" G_GINT64_FORMAT ")", draws, seed);
    goto out;
  }
  ma.allow = TRUE;
  if ((status = load_model_and_data ("impute", argc, argv, NULL, delimiter, &ma, &l)))
    goto out;
  const size_t n = mixem_dataset_rows (l.data), d = mixem_model_d (l.m);
  const size_t copies = draws > 0 ? (size_t) draws : 1;
  if (!(x = g_try_malloc (copies * n * d * sizeof (double) + 1))) {
    g_set_error (&err, MIXEM_ERROR, MIXEM_ERROR_DATA, "%zu copies of %zu x %zu values do not fit "
                 "in memory", copies, n, d);
    status = fail ("impute", err);
    goto out;
  }
  if (!mixem_model_impute (l.m, l.data, (size_t) draws, (unsigned long) seed, x, &err)) {
    status = fail ("impute", err);
    goto out;
  }
  GString *s = g_string_new (draws > 0 ? "imputation," : "");
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  for (size_t j = 0; j < d; j++)
    g_string_append_printf (s, "%s%s", j ? "," : "", mixem_model_names (l.m)[j]);
  g_string_append_c (s, '\n');
  for (size_t c = 0; c < copies; c++)
    for (size_t i = 0; i < n; i++) {
      if (draws > 0)
        g_string_append_printf (s, "%zu,", c + 1);
      for (size_t j = 0; j < d; j++)
        g_string_append_printf (s, "%s%s", j ? "," : "", fmt_double (buf, x[(c * n + i) * d + j]));
      g_string_append_c (s, '\n');
    }
  if (out) {
    if (!mixem_write_file_atomic (out, s->str, (gssize) s->len, &err))
      status = fail ("impute", err);
  } else
    fwrite (s->str, 1, s->len, stdout);
  g_string_free (s, TRUE);
out:
  g_free (x);
  loaded_clear (&l);
  g_free (delimiter);
  g_free (out);
  g_strfreev (ma.tokens);
  return status;
}

static int
cmd_sample (int argc, char **argv)
{
  gint64 n = 0, seed = 0;
  GOptionEntry entries[] = {
    { "n", 'n', 0, G_OPTION_ARG_INT64, &n, "Number of rows to draw (required)", "N" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Random seed (default 0)", "S" },
    { NULL }
  };
  int status = EXIT_OK;
  mixem_registry *reg = NULL;
  mixem_model *m = NULL;
  GError *err = NULL;
  if (!parse_options ("sample", entries, &argc, &argv, &status))
    goto out;
  if (argc != 2) {
    status = usage_error ("sample", "expected MODEL.json");
    goto out;
  }
  if (n < 1 || seed < 0) {
    status = usage_error ("sample", "-n must be >= 1 and --seed >= 0 (got -n %" G_GINT64_FORMAT
                          ", --seed %" G_GINT64_FORMAT ")", n, seed);
    goto out;
  }
  reg = mixem_registry_new ();
  if (!(m = mixem_model_load (reg, argv[1], &err))) {
    status = fail ("sample", err);
    goto out;
  }
  /* Rows are drawn and written a block at a time: -n 10^12 must not be held in memory. */
  size_t d = mixem_model_d (m);
  mixem_sampler *smp = mixem_sampler_new (m, (unsigned long) seed, &err);
  if (!smp) {
    status = fail ("sample", err);
    goto out;
  }
  const size_t block = MAX ((size_t) 1, ((size_t) 1 << 16) / d);
  double *x = g_new (double, block * d);
  size_t *lab = g_new (size_t, block);
  GString *s = g_string_new (NULL);
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  for (size_t j = 0; j < d; j++)
    g_string_append_printf (s, "%s,", mixem_model_names (m)[j]);
  g_string_append (s, "component\n");
  for (gint64 done = 0; done < n && !ferror (stdout);) {
    const size_t b = (size_t) MIN ((gint64) block, n - done);
    if (!mixem_sampler_draw (smp, b, x, lab, &err)) {
      status = fail ("sample", err);
      break;
    }
    for (size_t i = 0; i < b; i++) {
      for (size_t j = 0; j < d; j++)
        g_string_append_printf (s, "%s,", fmt_double (buf, x[i * d + j]));
      g_string_append_printf (s, "%zu\n", lab[i] + 1);
    }
    fwrite (s->str, 1, s->len, stdout);
    g_string_truncate (s, 0);
    done += (gint64) b;
  }
  g_string_free (s, TRUE);
  mixem_sampler_free (smp);
  g_free (x);
  g_free (lab);
out:
  mixem_model_free (m);
  mixem_registry_free (reg);
  return status;
}

static int
cmd_families (int argc, char **argv)
{
  GOptionEntry entries[] = { { NULL } };
  int status = EXIT_OK;
  if (!parse_options ("families", entries, &argc, &argv, &status))
    return status;
  if (argc != 1)
    return usage_error ("families", "no arguments expected");
  mixem_registry *reg = mixem_registry_new ();
  GPtrArray *all = mixem_registry_list (reg);
  printf ("Search path: ");
  for (const char *const *p = mixem_registry_path (reg); *p; p++)
    printf ("%s%s", *p, p[1] ? ":" : "\n");
  if (all->len == 0)
    printf ("No families found.\n");
  for (guint i = 0; i < all->len; i++) {
    const mixem_family *f = g_ptr_array_index (all, i);
    printf ("\n%s: %s\n  from %s\n", f->name, f->summary ? f->summary : "",
            mixem_registry_origin (reg, f));
    /* In the family's order: the first is the default; random_resp always works. */
    gboolean has_rr = FALSE;
    printf ("  starts:");
    for (const char *const *m = f->init_methods; m && *m; m++) {
      printf ("%s %s%s", m == f->init_methods ? "" : ",", *m,
              m == f->init_methods ? " (default)" : "");
      has_rr = has_rr || strcmp (*m, "random_resp") == 0;
    }
    printf ("%s%s\n", has_rr ? "" : f->init_methods && *f->init_methods ? ", " : " ",
            has_rr ? "" : "random_resp");
    for (const mixem_option_info *o = f->options; o && o->name; o++)
      printf ("  option %s: %s%s%s%s\n", o->name, o->help, o->default_value ? " (default " : "",
              o->default_value ? o->default_value : "", o->default_value ? ")" : "");
    for (const mixem_param_info *q = f->param_info; q && q->name; q++)
      printf ("  parameter %s (%s): %s\n", q->name,
              q->shape == MIXEM_SHAPE_SCALAR ? "number" : q->shape == MIXEM_SHAPE_VECTOR
                                                            ? "one per column" : "d by d",
              q->help ? q->help : "");
  }
  /* A module that does not load is shown with its reason, and the command fails. */
  const GPtrArray *failures = mixem_registry_failures (reg);
  for (guint i = 0; i < failures->len; i++)
    fprintf (stderr, "mixem families: not loaded: %s\n",
             (const char *) g_ptr_array_index (failures, i));
  status = failures->len ? EXIT_RUNTIME : EXIT_OK;
  g_ptr_array_unref (all);
  mixem_registry_free (reg);
  return status;
}

/* ---- check-family ---- */

/* The conformance suite (mixem/check.h) on a family and data: a line per property, then
 * "N passed, N failed"; exit 1 when any property fails. */
static int
cmd_check_family (int argc, char **argv)
{
  char *columns = NULL, *delimiter = NULL, **extra = NULL;
  int k = 2;
  gint64 seed = 0;
  missing_args ma = { 0 };
  GOptionEntry entries[] = {
    { "components", 'k', 0, G_OPTION_ARG_INT, &k, "Number of components (default 2)", "K" },
    { "columns", 'c', 0, G_OPTION_ARG_STRING, &columns, "Comma-separated columns to use (default: all)", "LIST" },
    { "option", 'o', 0, G_OPTION_ARG_STRING_ARRAY, &extra, "A family option (repeatable)", "KEY=VALUE" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Random seed (default 0)", "S" },
    { "delimiter", 'd', 0, G_OPTION_ARG_STRING, &delimiter, "Field separator of DATA.csv (default ',')", "C" },
    MISSING_ENTRIES (ma),
    { NULL }
  };
  int status = EXIT_OK;
  mixem_registry *reg = NULL;
  mixem_dataset *data = NULL;
  mixem_options *fo = mixem_options_new ();
  GArray *res = NULL;
  GError *err = NULL;
  if (!parse_options ("check-family", entries, &argc, &argv, &status))
    goto out;
  if (argc != 3) {
    status = usage_error ("check-family", "expected a family name and a data file");
    goto out;
  }
  if (k < 1 || seed < 0) {
    status = usage_error ("check-family", "-k must be >= 1 and --seed >= 0 (got %d, %" G_GINT64_FORMAT ")",
                          k, seed);
    goto out;
  }
  if (!check_delimiter ("check-family", delimiter, &status)
      || !set_extra_options ("check-family", extra, fo, &status))
    goto out;
  reg = mixem_registry_new ();
  const mixem_family *f = lookup_family ("check-family", reg, argv[1], &status);
  if (!f)
    goto out;
  printf ("family %s from %s\n", f->name, mixem_registry_origin (reg, f));
  data = read_data (argv[2], NULL, columns, NULL, delimiter, f, &ma, &err);
  if (!data || !(res = mixem_family_check (f, data, (size_t) k, fo, (unsigned long) seed, reg,
                                           &err))) {
    status = fail ("check-family", err);
    goto out;
  }
  int passed = 0, failed = 0, skipped = 0;
  for (guint i = 0; i < res->len; i++) {
    const mixem_check_result *r = &g_array_index (res, mixem_check_result, i);
    printf ("%s %s%s%s\n", r->passed ? "PASS" : r->skipped ? "SKIP" : "FAIL", r->property,
            r->message ? ": " : "", r->message ? r->message : "");
    passed += r->passed;
    skipped += r->skipped;
    failed += !r->passed && !r->skipped;
  }
  printf ("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
  status = failed ? EXIT_RUNTIME : EXIT_OK;
out:
  mixem_check_results_free (res);
  mixem_dataset_free (data);
  mixem_options_free (fo);
  mixem_registry_free (reg);
  g_free (columns);
  g_free (delimiter);
  g_strfreev (extra);
  g_strfreev (ma.tokens);
  return status;
}

/* ---- plot ---- */

/* A selection table (as 'mixem select --out' writes it) into candidates (free with
 * mixem_candidates_free); *BEST the chosen row. */
static GArray *
read_select_csv (const char *path, size_t *best, GError **error)
{
  char *text = mixem_read_file (path, NULL, error);
  if (!text)
    return NULL;
  static const char *const want[] = { "k", "options", "loglik", "n_params", "bic", "aic", "icl",
                                      "heldout", "chosen" };
  int at[9], fail_at = -1, ncols = 0;
  char **lines = g_strsplit (text, "\n", -1);
  GArray *cands = g_array_new (FALSE, TRUE, sizeof (mixem_candidate));
  gboolean ok = lines[0] != NULL, chosen = FALSE;
  if (ok) {
    char **h = g_strsplit (g_strstrip (lines[0]), ",", -1);
    ncols = (int) g_strv_length (h);
    /* 'failure' (tables since issue 19) is last, so that its quoted reason may hold commas. */
    if (ncols > 0 && strcmp (h[ncols - 1], "failure") == 0)
      fail_at = ncols - 1;
    for (int c = 0; c < 9 && ok; c++) {
      at[c] = -1;
      for (int j = 0; h[j]; j++)
        if (strcmp (h[j], want[c]) == 0)
          at[c] = j;
      if (at[c] < 0) {
        g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA,
                     "%s:1: no column '%s' (a table from 'mixem select --out' is expected)",
                     path, want[c]);
        ok = FALSE;
      }
    }
    g_strfreev (h);
  } else
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: the file is empty", path);
  for (size_t li = 1; ok && lines[li]; li++) {
    char *line = g_strstrip (lines[li]);
    if (!*line || *line == '#')
      continue;
    char **f = g_strsplit (line, ",", fail_at >= 0 ? ncols : -1);
    mixem_candidate c = { 0 };
    c.options = mixem_options_new ();
    if (fail_at >= 0 && (guint) fail_at < g_strv_length (f) && *f[fail_at]) {
      /* The reason, unquoted ("" inside stands for "). */
      char *r = f[fail_at];
      const size_t len = strlen (r);
      if (len >= 2 && r[0] == '"' && r[len - 1] == '"') {
        r[len - 1] = '\0';
        r++;
      }
      char **parts = g_strsplit (r, "\"\"", -1);
      c.failure = g_strjoinv ("\"", parts);
      g_strfreev (parts);
    }
    double v[9] = { 0 };
    for (int j = 0; j < 9 && ok; j++) {
      if (j == 1)
        continue;
      const char *cell = (guint) at[j] < g_strv_length (f) ? f[at[j]] : NULL;
      char *end = NULL;
      if (cell && *cell == '\0' && (j == 7 || (c.failure && j != 0 && j != 8))) {
        v[j] = NAN;      /* no held-out score, or a failed candidate's */
        continue;
      }
      if (cell)
        v[j] = g_ascii_strtod (cell, &end);
      if (!cell || end == cell || *end) {
        char *q = mixem_quote (cell ? cell : "", -1);
        g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s:%zu: column '%s': not a number "
                     "('%s')", path, li + 1, want[j], q);
        g_free (q);
        ok = FALSE;
      }
    }
    const char *opts = (guint) at[1] < g_strv_length (f) ? f[at[1]] : "";
    char **kv = g_strsplit (opts, ";", -1);
    for (char **q = kv; *q && ok; q++) {
      char *eq = strchr (*q, '=');
      if (eq) {
        *eq = '\0';
        mixem_options_set (c.options, *q, eq + 1);
      }
    }
    g_strfreev (kv);
    g_strfreev (f);
    if (!ok || v[0] < 1) {
      if (ok)
        g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s:%zu: k must be 1 or more", path,
                     li + 1);
      ok = FALSE;
      mixem_options_free (c.options);
      g_free (c.failure);
      break;
    }
    c.k = (size_t) v[0];
    c.loglik = v[2];
    c.n_params = isnan (v[3]) ? 0 : (size_t) v[3];
    c.bic = v[4];
    c.aic = v[5];
    c.icl = v[6];
    c.heldout = v[7];
    if (v[8] != 0) {
      *best = cands->len;
      chosen = TRUE;
    }
    g_array_append_val (cands, c);
  }
  if (ok && !chosen) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: no row is marked chosen", path);
    ok = FALSE;
  }
  g_strfreev (lines);
  g_free (text);
  if (!ok) {
    mixem_candidates_free (cands);
    return NULL;
  }
  return cands;
}

/* "8x8" into ROWS and COLS. */
static gboolean
parse_shape (const char *text, size_t *rows, size_t *cols)
{
  char *end;
  guint64 r = g_ascii_strtoull (text, &end, 10);
  if (end == text || (*end != 'x' && *end != 'X'))
    return FALSE;
  const char *q = end + 1;
  guint64 c = g_ascii_strtoull (q, &end, 10);
  if (end == q || *end || r < 1 || c < 1 || r > 10000 || c > 10000)
    return FALSE;
  *rows = (size_t) r;
  *cols = (size_t) c;
  return TRUE;
}

/* mixem plot trace A B ...: the climbs of several models or trace files, each labelled with its
 * file's name. */
static gboolean
plot_traces (const char *out, char **files, size_t m, const mixem_plot_options *po,
             GError **error)
{
  mixem_registry *reg = mixem_registry_new ();
  GPtrArray *models = g_ptr_array_new_with_free_func ((GDestroyNotify) mixem_model_free);
  GPtrArray *arrays = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  const mixem_iteration **trs = g_new0 (const mixem_iteration *, m);
  size_t *lens = g_new0 (size_t, m);
  char **labels = g_new0 (char *, m + 1);
  gboolean ok = TRUE;
  for (size_t j = 0; j < m && ok; j++) {
    labels[j] = g_path_get_basename (files[j]);
    if (g_str_has_suffix (files[j], ".csv")) {
      GArray *a = mixem_trace_read_csv (files[j], error);
      if ((ok = a != NULL)) {
        g_ptr_array_add (arrays, a);
        trs[j] = (const mixem_iteration *) (void *) a->data;
        lens[j] = a->len;
      }
    } else {
      mixem_model *mod = mixem_model_load (reg, files[j], error);
      if ((ok = mod != NULL)) {
        g_ptr_array_add (models, mod);
        trs[j] = mixem_model_trace (mod, &lens[j]);
      }
    }
  }
  if (ok)
    ok = mixem_plot_traces (out, trs, lens, (const char *const *) labels, m, po, error);
  g_strfreev (labels);
  g_free (lens);
  g_free (trs);
  g_ptr_array_unref (arrays);
  g_ptr_array_unref (models);
  mixem_registry_free (reg);
  return ok;
}

static int
cmd_plot (int argc, char **argv)
{
  char *out = NULL, *ttl = NULL, *xs = NULL, *ys = NULL, *shape = NULL, *crit_name = NULL;
  char *delimiter = NULL;
  int width = 800, height = 600;
  GOptionEntry entries[] = {
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "The picture: .png, .svg or .pdf (required)",
      "FILE" },
    { "width", 'W', 0, G_OPTION_ARG_INT, &width, "Width in pixels (PNG) or points (default 800)",
      "N" },
    { "height", 'H', 0, G_OPTION_ARG_INT, &height, "Height (default 600)", "N" },
    { "title", 't', 0, G_OPTION_ARG_STRING, &ttl, "Title (default: one naming the plot)", "TEXT" },
    { "x", 'x', 0, G_OPTION_ARG_STRING, &xs, "clusters: the column across (name or number)",
      "COL" },
    { "y", 'y', 0, G_OPTION_ARG_STRING, &ys, "clusters: the column up", "COL" },
    { "shape", 's', 0, G_OPTION_ARG_STRING, &shape, "prototypes: image shape ROWSxCOLS", "8x8" },
    { "criterion", 'c', 0, G_OPTION_ARG_STRING, &crit_name,
      "select: bic (default), aic, icl or heldout", "NAME" },
    { "delimiter", 'd', 0, G_OPTION_ARG_STRING, &delimiter, "Field separator of DATA.csv", "C" },
    { NULL }
  };
  int status = EXIT_OK;
  GError *err = NULL;
  loaded l = { 0 };
  GArray *arr = NULL, *cands = NULL;   /* trace records; select's candidates */
  if (!parse_options ("plot", entries, &argc, &argv, &status)
      || !check_delimiter ("plot", delimiter, &status))
    goto out;
  if (argc < 2) {
    status = usage_error ("plot", "no KIND given (trace, clusters, prototypes, levels, binomial, "
                          "select, density, regression)");
    goto out;
  }
  const char *kind = argv[1];
  const int want = strcmp (kind, "clusters") == 0 || strcmp (kind, "binomial") == 0
                   || strcmp (kind, "density") == 0 || strcmp (kind, "regression") == 0 ? 4 : 3;
  if (strcmp (kind, "trace") && strcmp (kind, "clusters") && strcmp (kind, "prototypes")
      && strcmp (kind, "levels") && strcmp (kind, "binomial") && strcmp (kind, "select")
      && strcmp (kind, "density") && strcmp (kind, "regression")) {
    status = usage_error ("plot", "unknown KIND '%s' (trace, clusters, prototypes, levels, "
                          "binomial, select, density or regression)", kind);
    goto out;
  }
  /* trace: several files overlay their climbs (mixem_plot_traces). */
  if (argc != want && !(strcmp (kind, "trace") == 0 && argc > want)) {
    status = usage_error ("plot", "%s takes %s", kind,
                          want == 4 ? "MODEL.json and DATA.csv"
                          : strcmp (kind, "trace") == 0 ? "MODEL.json or TRACE.csv (or several)"
                          : strcmp (kind, "select") == 0 ? "TABLE.csv (from mixem select --out)"
                                                         : "MODEL.json");
    goto out;
  }
  if (!out) {
    status = usage_error ("plot", "--out FILE (.png, .svg or .pdf) is required");
    goto out;
  }
  mixem_plot_options po = { width, height, ttl };
  gboolean ok = FALSE;
  if (strcmp (kind, "trace") == 0 && argc > 3) {
    ok = plot_traces (out, argv + 2, (size_t) argc - 2, &po, &err);
  } else if (strcmp (kind, "trace") == 0) {
    if (g_str_has_suffix (argv[2], ".csv")) {
      if ((arr = mixem_trace_read_csv (argv[2], &err)))
        ok = mixem_plot_trace (out, (mixem_iteration *) (void *) arr->data, arr->len, NAN, &po,
                               &err);
    } else {
      l.reg = mixem_registry_new ();
      if ((l.m = mixem_model_load (l.reg, argv[2], &err))) {
        size_t n;
        const mixem_iteration *tr = mixem_model_trace (l.m, &n);
        ok = mixem_plot_trace (out, tr, n, mixem_model_initial_loglik (l.m), &po, &err);
      }
    }
  } else if (strcmp (kind, "select") == 0) {
    mixem_criterion crit = MIXEM_BIC;
    if (crit_name && !mixem_criterion_parse (crit_name, &crit)) {
      status = usage_error ("plot", "--criterion must be bic, aic, icl or heldout (got '%s')",
                            crit_name);
      goto out;
    }
    size_t best = 0;
    if ((cands = read_select_csv (argv[2], &best, &err)))
      ok = mixem_plot_select (out, (mixem_candidate *) (void *) cands->data, cands->len, best,
                              crit, &po, &err);
  } else if (strcmp (kind, "prototypes") == 0) {
    size_t rows = 0, cols = 0;
    if (!shape || !parse_shape (shape, &rows, &cols)) {
      status = usage_error ("plot", "prototypes needs --shape ROWSxCOLS, such as 8x8 (got '%s')",
                            shape ? shape : "nothing");
      goto out;
    }
    l.reg = mixem_registry_new ();
    if ((l.m = mixem_model_load (l.reg, argv[2], &err)))
      ok = mixem_plot_prototypes (out, l.m, rows, cols, &po, &err);
  } else if (strcmp (kind, "levels") == 0) {
    l.reg = mixem_registry_new ();
    if ((l.m = mixem_model_load (l.reg, argv[2], &err)))
      ok = mixem_plot_levels (out, l.m, &po, &err);
  } else {
    if ((status = load_model_and_data ("plot", argc - 1, argv + 1, NULL, delimiter, NULL, &l)))
      goto out;
    if (strcmp (kind, "binomial") == 0)
      ok = mixem_plot_binomial (out, l.m, l.data, &po, &err);
    else if (strcmp (kind, "density") == 0)
      ok = mixem_plot_density (out, l.m, l.data, &po, &err);
    else if (strcmp (kind, "regression") == 0)
      ok = mixem_plot_regression (out, l.m, l.data, &po, &err);
    else {
      int xc = -1, yc = -1;
      if ((xs != NULL) != (ys != NULL)) {
        status = usage_error ("plot", "clusters takes both --x and --y, or neither");
        goto out;
      }
      if (xs) {
        xc = mixem_dataset_find_column (l.data, xs);
        yc = mixem_dataset_find_column (l.data, ys);
        if (xc < 0 || yc < 0) {
          status = usage_error ("plot", "no column '%s' among the model's columns",
                                xc < 0 ? xs : ys);
          goto out;
        }
      }
      ok = mixem_plot_clusters (out, l.m, l.data, xc, yc, &po, &err);
    }
  }
  if (!ok)
    status = fail ("plot", err);
out:
  if (arr)
    g_array_unref (arr);
  mixem_candidates_free (cands);
  loaded_clear (&l);
  g_free (out);
  g_free (ttl);
  g_free (xs);
  g_free (ys);
  g_free (shape);
  g_free (crit_name);
  g_free (delimiter);
  return status;
}

static int cmd_help (int argc, char **argv);
static int cmd_select (int argc, char **argv);

static const command commands[] = {
  { "run", "SCRIPT.lua [ARGS...]", "Run a Lua experiment script with the mixem module.", cmd_run },
  { "fit", "DATA.csv", "Fit a mixture model by EM and print a summary.", cmd_fit },
  { "select", "DATA.csv", "Choose K and family options by BIC, AIC, ICL or held-out log-likelihood.", cmd_select },
  { "predict", "MODEL.json DATA.csv", "Print each row's most likely component (CSV).", cmd_predict },
  { "score", "MODEL.json DATA.csv", "Print the log-likelihood of the data under a model (CSV).", cmd_score },
  { "sample", "MODEL.json", "Draw rows from a model (CSV).", cmd_sample },
  { "impute", "MODEL.json DATA.csv", "Fill in DATA's missing cells under a model (CSV).", cmd_impute },
  { "plot", "KIND INPUT... --out FILE", "Draw a picture: trace, clusters, prototypes, levels, binomial, select, density or regression.", cmd_plot },
  { "families", "", "List the families found, where from, and their options.", cmd_families },
  { "check-family", "NAME DATA.csv", "Run the family conformance suite on a family (a plugin too).", cmd_check_family },
  { "help", "[COMMAND]", "Show help for a command.", cmd_help },
  { NULL, NULL, NULL, NULL }
};

static const command *
find_command (const char *name)
{
  for (const command *c = commands; c->name; c++)
    if (strcmp (c->name, name) == 0)
      return c;
  return NULL;
}

static void
print_usage (FILE *to)
{
  fprintf (to, "Usage: mixem COMMAND [OPTIONS] [ARGS]\n\nEM for finite mixture models.\n\n"
               "Commands:\n");
  for (const command *c = commands; c->name; c++)
    fprintf (to, "  %-9s %s\n", c->name, c->summary);
  fprintf (to, "\n'mixem help COMMAND' or 'mixem COMMAND --help' shows a command's options;\n"
               "'mixem --version' the version.\n");
}

static int
cmd_help (int argc, char **argv)
{
  if (argc < 2) {
    print_usage (stdout);
    return EXIT_OK;
  }
  const command *c = find_command (argv[1]);
  if (!c)
    return usage_error ("help", "unknown command '%s'", argv[1]);
  if (strcmp (c->name, "help") == 0) {
    print_usage (stdout);
    return EXIT_OK;
  }
  char *args[] = { (char *) c->name, "--help", NULL };
  return c->run (2, args);
}

#ifdef HAVE_OPENBLAS_SET_NUM_THREADS
void openblas_set_num_threads (int n);
#endif

/* Standard output is checked at exit (GNU's close_stdout): a table or summary lost to a full disk
 * or a closed stdout is an error, not a silent success.  A closed stdout is first given /dev/null
 * opened read-only, so that no file the command opens takes its number and every write to it
 * fails. */
static gboolean stdout_closed;

static int
close_stdout (int status)
{
  stdout_closed = TRUE;
  gboolean bad = fflush (stdout) != 0 || ferror (stdout);
  int err = errno;
  if (fclose (stdout) != 0 && !bad) {
    bad = TRUE;
    err = errno;
  }
  if (bad) {
    fprintf (stderr, "mixem: write error on standard output: %s\n",
             err ? g_strerror (err) : "unknown error");
    return status == EXIT_OK ? EXIT_RUNTIME : status;
  }
  return status;
}

/* The same for a script's os.exit, which leaves without returning from main. */
static void
close_stdout_at_exit (void)
{
  if (!stdout_closed && close_stdout (EXIT_OK) != EXIT_OK)
    _exit (EXIT_RUNTIME);
}

int
main (int argc, char **argv)
{
  gsl_set_error_handler_off ();
  if (fcntl (STDOUT_FILENO, F_GETFD) < 0 && errno == EBADF) {
    const int fd = open ("/dev/null", O_RDONLY);
    if (fd >= 0 && fd != STDOUT_FILENO)
      close (fd);
  }
  /* A file size limit (ulimit -f) makes the write fail with EFBIG, reported like any other. */
  signal (SIGXFSZ, SIG_IGN);
  atexit (close_stdout_at_exit);
#ifdef HAVE_OPENBLAS_SET_NUM_THREADS
  /* mixem's threads are OpenMP threads over row blocks; a threaded BLAS inside each of them
   * would only oversubscribe the cores. */
  openblas_set_num_threads (1);
#endif
  if (argc < 2) {
    print_usage (stderr);
    return EXIT_USAGE;
  }
  if (strcmp (argv[1], "--version") == 0 || strcmp (argv[1], "-V") == 0) {
    printf ("mixem %s\n", mixem_version ());
    return close_stdout (EXIT_OK);
  }
  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0) {
    print_usage (stdout);
    return close_stdout (EXIT_OK);
  }
  const command *c = find_command (argv[1]);
  if (!c) {
    fprintf (stderr, "mixem: unknown command '%s' (see 'mixem --help')\n", argv[1]);
    return EXIT_USAGE;
  }
  const int status = c->run (argc - 1, argv + 1);
  /* bench/mpi.sh's figure: what each rank sent in mixem's collectives. */
  if (mixem_parallel_size () > 1 && g_getenv ("MIXEM_MPI_STATS"))
    fprintf (stderr, "mixem: rank %d of %d sent %.0f bytes\n", mixem_parallel_rank (),
             mixem_parallel_size (), mixem_parallel_bytes_sent ());
  mixem_parallel_finalize ();   /* if a command or a script started MPI */
  return close_stdout (status);
}
