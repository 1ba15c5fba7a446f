/* testutil.h: helpers shared by the Check suites: relative tolerances, paths to the source tree,
 * temporary folders, a registry with the build tree's modules, and a standard runner. */
#ifndef MIXEM_TESTUTIL_H
#define MIXEM_TESTUTIL_H

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <glib/gstdio.h>
#include <gsl/gsl_errno.h>
#include <mixem/mixem.h>

/* |a - b| <= tol * max(|a|, |b|, tiny): agreement to TOL relative. */
#define ck_assert_rel(a, b, tol)                                                                   \
  do {                                                                                             \
    double _a = (a), _b = (b);                                                                     \
    double _s = fmax (fmax (fabs (_a), fabs (_b)), 1e-300);                                        \
    ck_assert_msg (fabs (_a - _b) <= (tol) * _s, "%s = %.17g and %s = %.17g differ by %.3g "      \
                   "relative (tolerance %g)", #a, _a, #b, _b, fabs (_a - _b) / _s, (double) (tol)); \
  } while (0)

#define ck_assert_no_error(err)                                                                    \
  ck_assert_msg ((err) == NULL, "unexpected error: %s", (err) ? (err)->message : "")

/* Asserts ERR is set with CODE and contains TEXT; frees it. */
#define ck_assert_error(err, ecode, text)                                                           \
  do {                                                                                             \
    ck_assert_msg ((err) != NULL, "expected an error containing '%s'", text);                     \
    ck_assert_msg ((err)->domain == MIXEM_ERROR && (err)->code == (ecode),                          \
                   "error code %d (expected %d): %s", (err)->code, (int) (ecode), (err)->message);  \
    ck_assert_msg (strstr ((err)->message, text) != NULL, "error '%s' lacks '%s'",                 \
                   (err)->message, text);                                                          \
    g_clear_error (&(err));                                                                        \
  } while (0)

/* A path under the source tree (make check sets MIXEM_TEST_SRCDIR); free with g_free. */
static inline char *
test_path (const char *rel)
{
  const char *top = getenv ("MIXEM_TEST_SRCDIR");
  return g_build_filename (top ? top : ".", rel, NULL);
}

/* A fresh temporary folder (free with test_tmpdir_remove, which empties and removes it). */
static inline char *
test_tmpdir_new (const char *prefix)
{
  char *tmpl = g_strdup_printf ("%s-XXXXXX", prefix);
  char *dir = g_dir_make_tmp (tmpl, NULL);
  g_free (tmpl);
  return dir;
}

static inline void
test_tmpdir_remove (char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *fn;
  while ((fn = g_dir_read_name (d))) {
    char *p = g_build_filename (dir, fn, NULL);
    g_unlink (p);
    g_free (p);
  }
  g_dir_close (d);
  g_rmdir (dir);
  g_free (dir);
}

/* Runs SUITE and returns the process status. */
static inline int
test_run (Suite *s)
{
  gsl_set_error_handler_off ();
  SRunner *sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* The toy family of tests/toy_family.c: 1-D normal with unit variance, one mean per component,
 * and no expected_loglik (the engine makes the pass). */
extern const mixem_family toy_family;

#endif
