/* mixem/modelfile.h: models saved as JSON files and traces as CSV.  Files are written whole to a
 * new file that then takes the name (see mixem_write_file_atomic), so a failed or interrupted
 * write never leaves a truncated file behind.
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
/* A trace CSV (as mixem_trace_save_csv writes it: columns iter, loglik, elbo, kl) read back into
 * records (mixem_iteration, restart 1), for pictures of a fit made elsewhere.  An iteration that
 * is not a whole number in 0..INT_MAX is an error naming its cell. */
GArray *mixem_trace_read_csv (const char *path, GError **error);

/* The whole of PATH as a NUL-terminated string (LEN: its length, may be NULL; g_free it), or
 * NULL with a MIXEM_ERROR_IO naming the file.  PATH may be a pipe, a device or /dev/stdin, read
 * until its end; there a line longer than MIXEM_MAX_LINE bytes (64 MiB) is a MIXEM_ERROR_DATA
 * naming the file and line, so that an endless stream without newlines (/dev/zero) is refused. */
#define MIXEM_MAX_LINE (64 << 20)
char *mixem_read_file (const char *path, gsize *len, GError **error);

/* Atomic write of LEN bytes of DATA to PATH (LEN -1: DATA is a string).  The bytes go to a new
 * file in PATH's folder, unnamed (O_TMPFILE) where the file system allows, else
 * PATH.mixem-XXXXXX, and that file then takes PATH's name (a link, or a rename over the old
 * file), so a failed or killed write leaves the old file intact and no partial file under PATH (a kill between the
 * link and the rename, or any time in the fallback, leaves a temporary PATH.mixem-XXXXXX, which
 * the next write of PATH removes).  What PATH is:
 *   - a regular file, or nothing: replaced as above.  The new file is a new inode: a hard link
 *     to the old file is broken (the other names keep the old contents), and the old file's
 *     permissions are not kept (a new file's are 0666 less the umask);
 *   - a symbolic link: the file it points to is replaced (or created), the link stays a link;
 *   - not a regular file (a device such as /dev/null, a FIFO, a socket) or a name reached
 *     through /proc (/dev/stdout, /dev/fd/N): written in place (appended to, for a regular file
 *     reached through /proc), every write checked; this is not atomic.
 * Errors are MIXEM_ERROR_IO naming PATH (a full disk, a file size limit, a read-only folder).
 * The process should ignore SIGXFSZ (the mixem command does), so that a file size limit is an
 * error rather than a kill. */
gboolean mixem_write_file_atomic (const char *path, const char *data, gssize len,
                                  GError **error);

/* Writes N files together: PATHS[i] gets LENS[i] bytes of DATA[i] (LENS may be NULL, or hold
 * -1, for strings), each as mixem_write_file_atomic does.  All are written first, those written
 * in place next, then all are named, so that a failure in any of them (a full disk, a write error)
 * leaves every PATH as it was; only a rename that fails after others succeeded (the folder
 * changed meanwhile) can leave some of them replaced. */
gboolean mixem_write_files_atomic (size_t n, const char *const *paths, const char *const *data,
                                   const gssize *lens, GError **error);

G_END_DECLS

#endif
