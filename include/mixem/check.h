/* mixem/check.h: the family conformance suite, as a library function, so that the author of a
 * family built out of tree (or written in Lua) checks it as the built-in families are checked:
 * `mixem check-family NAME DATA.csv` and mixem.check_family run it.  Each property is reported
 * with a pass or a named failure; none needs a reference written for the family, only data the
 * family can model. */
#ifndef MIXEM_CHECK_H
#define MIXEM_CHECK_H

#include <mixem/family.h>
#include <mixem/registry.h>

G_BEGIN_DECLS

typedef struct {
  const char *property;      /* a short name, e.g. "accumulate is additive over blocks" */
  gboolean passed;
  gboolean skipped;          /* the family has no such entry (sample, expected_loglik) */
  char *message;             /* why it failed or was skipped; NULL when it passed */
} mixem_check_result;

/* Checks FAMILY on DATA with K components, family options OPTS (may be NULL) and SEED: a fit
 * and its ELBO/KL identities, additive statistics, expected_loglik against the explicit sum,
 * maximise against its input, describe and assign (round trip, unknown keys refused), copies,
 * thread counts, sampling, empty components and, when REG (which must know the family) is
 * given, the model file.  Returns an array of mixem_check_result (free it with
 * mixem_check_results_free), or NULL with ERROR when the checks cannot start (bad options, data
 * the family refuses). */
GArray *mixem_family_check (const mixem_family *family, const mixem_dataset *data, size_t k,
                            const mixem_options *opts, unsigned long seed, mixem_registry *reg,
                            GError **error);
void mixem_check_results_free (GArray *results);

G_END_DECLS

#endif
