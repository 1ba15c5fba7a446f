/* mixem/error.h: the GError domain and codes that every fallible mixem call reports through.
 * The library never calls exit() or abort(); callers get a GError and decide. */
#ifndef MIXEM_ERROR_H
#define MIXEM_ERROR_H

#include <glib.h>

G_BEGIN_DECLS

#define MIXEM_ERROR (mixem_error_quark ())
GQuark mixem_error_quark (void);

typedef enum {
  MIXEM_ERROR_DATA,     /* bad input data: the message names file, row and column */
  MIXEM_ERROR_IO,       /* a file could not be opened, read or written */
  MIXEM_ERROR_OPTION,   /* a bad option or argument: the message names it and its value */
  MIXEM_ERROR_NUMERIC,  /* a degenerate fit: empty or collapsed component, non-finite value */
  MIXEM_ERROR_PLUGIN,   /* a family not found, a module with the wrong ABI or missing symbols */
  MIXEM_ERROR_FORMAT    /* a malformed or inconsistent model file */
} MixemErrorCode;

/* Input text as a message may quote it (free with g_free): at most MIXEM_QUOTE_MAX characters of
 * TEXT, then "...", with control bytes and bytes that are not printable UTF-8 escaped (\n, \t,
 * \r, \\, \xNN), so that a huge cell or binary bytes never flood a terminal.  LEN < 0: TEXT is
 * NUL-terminated. */
#define MIXEM_QUOTE_MAX 60
char *mixem_quote (const char *text, gssize len);

/* Allocations whose size comes from input (a model file's d, a sample count, an option) go
 * through these, so that a huge size is an error and not an abort in g_malloc.
 * mixem_alloc_fits: BYTES (a product computed in double, so that it cannot wrap) is at most the
 * machine's physical memory.  mixem_try_alloc0: COUNT * SIZE bytes, zeroed, or NULL when the
 * product overflows, does not fit or cannot be had; *BYTES (may be NULL) gets the size asked for.
 * mixem_format_bytes: "80.0 GB", for messages (g_free it). */
gboolean mixem_alloc_fits (double bytes);
gpointer mixem_try_alloc0 (size_t count, size_t size, double *bytes);
char *mixem_format_bytes (double bytes);

G_END_DECLS

#endif
