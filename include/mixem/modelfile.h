/* mixem/modelfile.h: models saved as JSON files and traces as CSV.  Files are written to a
 * temporary file and renamed into place, so a failed or interrupted write never leaves a
 * truncated file behind.
 *
 * A model file holds: "format": "mixem-model", "version": 1, "family", "k", "d", "columns",
 * "options" (the family options as text), "weights", "weights_fixed", "components" (one object
 * per component, as the family describes it), "loglik", "initial_loglik", "n_iter", "converged",
 * "best_restart" and "trace" (one object per iteration). */
#ifndef MIXEM_MODELFILE_H
#define MIXEM_MODELFILE_H

#include <mixem/fit.h>
#include <mixem/registry.h>

G_BEGIN_DECLS

#define MIXEM_MODEL_FORMAT_VERSION 1

/* The model as JSON text (free with g_free). */
char *mixem_model_to_json (const mixem_model *m);

/* Writes the model to PATH atomically. */
gboolean mixem_model_save (const mixem_model *m, const char *path, GError **error);

/* Reads a model from JSON TEXT; SOURCE names it in messages.  The family is looked up in REG,
 * which must outlive the model.  A malformed, truncated or inconsistent file (weights not summing
 * to 1, wrong dimensions, unknown family or keys of the wrong type) is a MIXEM_ERROR_FORMAT error
 * (MIXEM_ERROR_PLUGIN for an unknown family). */
mixem_model *mixem_model_from_json (mixem_registry *reg, const char *text, const char *source,
                                    GError **error);
mixem_model *mixem_model_load (mixem_registry *reg, const char *path, GError **error);

/* The trace as CSV: iter,loglik,elbo,kl,entropy,delta,seconds (text to g_free, or a file
 * written atomically). */
char *mixem_trace_to_csv (const mixem_model *m);
gboolean mixem_trace_save_csv (const mixem_model *m, const char *path, GError **error);

/* The whole of PATH as a NUL-terminated string (LEN: its length, may be NULL; g_free it), or
 * NULL with a MIXEM_ERROR_IO naming the file.  PATH may be a pipe, a device or /dev/stdin, read
 * until its end; there a line longer than MIXEM_MAX_LINE bytes (64 MiB) is a MIXEM_ERROR_DATA
 * naming the file and line, so that an endless stream without newlines (/dev/zero) is refused. */
#define MIXEM_MAX_LINE (64 << 20)
char *mixem_read_file (const char *path, gsize *len, GError **error);

/* Atomic write of LEN bytes of DATA to PATH (temporary file, then rename). */
gboolean mixem_write_file_atomic (const char *path, const char *data, gssize len,
                                  GError **error);

G_END_DECLS

#endif
