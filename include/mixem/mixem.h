/* mixem/mixem.h: the whole public C API of mixem, EM for finite mixture models.
 * C users: GSL's default error handler aborts; call gsl_set_error_handler_off() at start-up, as the
 * mixem CLI does.  mixem itself validates its inputs before calling GSL. */
#ifndef MIXEM_H
#define MIXEM_H

#include <mixem/error.h>
#include <mixem/dataset.h>
#include <mixem/family.h>
#include <mixem/registry.h>
#include <mixem/fit.h>
#include <mixem/modelfile.h>
#include <mixem/plot.h>
#include <mixem/progress.h>
#include <mixem/check.h>
#include <mixem/parallel.h>
#include <mixem/nnclean.h>

const char *mixem_version (void);

#endif
