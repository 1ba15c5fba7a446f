/* check_plot.c: every kind of picture renders to PNG and SVG (and PDF) at the requested size, is
 * a valid file, and is not blank: the PNG is read back with cairo and must hold enough pixels of
 * the colours the data are drawn in (the Okabe-Ito palette), and the SVG must parse as XML with
 * those colours in it.  Bad requests fail and leave no file behind. */
#include <string.h>
#include <cairo.h>
#include <glib/gstdio.h>
#include <limits.h>
#include "testutil.h"

static char *tmpdir;
static mixem_registry *reg;

/* The palette as 8-bit RGB (plot.c's colours): component 1, 2, 3, and the KL line. */
static const int BLUE[3] = { 0, 114, 178 }, ORANGE[3] = { 230, 159, 0 }, GREEN[3] = { 0, 158, 115 };
static const int VERMILLION[3] = { 213, 94, 0 }, GREY[3] = { 191, 191, 191 };
static const char *const BLUE_SVG = "rgb(0%,44.7%,69.8%)", *const ORANGE_SVG = "rgb(90.2%,62.4%,0%)";

static void
setup (void)
{
  tmpdir = test_tmpdir_new ("mixem-plot");
  reg = mixem_registry_new ();
}

static void
teardown (void)
{
  test_tmpdir_remove (tmpdir);
  mixem_registry_free (reg);
}

static mixem_model *
fit (const char *family, const char *file, size_t k, const char *key, const char *value,
     mixem_dataset **data)
{
  GError *err = NULL;
  char *path = test_path (file);
  *data = mixem_dataset_read_csv (path, NULL, &err);
  g_free (path);
  ck_assert_no_error (err);
  const mixem_family *f = mixem_registry_lookup (reg, family, &err);
  ck_assert_no_error (err);
  mixem_options *fo = mixem_options_new ();
  if (key)
    mixem_options_set (fo, key, value);
  mixem_fit_options o;
  mixem_fit_options_init (&o);
  o.k = k;
  o.seed = 1;
  o.family_options = fo;
  mixem_model *m = mixem_fit (f, *data, &o, &err);
  ck_assert_no_error (err);
  mixem_options_free (fo);
  return m;
}

/* Pixels of IMG within 8 of colour C in every channel. */
static size_t
count_colour (cairo_surface_t *img, const int c[3])
{
  const int w = cairo_image_surface_get_width (img), h = cairo_image_surface_get_height (img);
  const int stride = cairo_image_surface_get_stride (img);
  const unsigned char *px = cairo_image_surface_get_data (img);
  size_t n = 0;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      guint32 v;
      memcpy (&v, px + y * stride + x * 4, 4);
      const int r = (v >> 16) & 255, g = (v >> 8) & 255, b = v & 255;
      n += abs (r - c[0]) <= 8 && abs (g - c[1]) <= 8 && abs (b - c[2]) <= 8;
    }
  return n;
}

/* Checks the PNG at PATH: 640 by 480, at least 2% of it not white, and at least MIN pixels of
 * each of the N colours in COLOURS. */
static void
check_png (const char *path, const int *const *colours, size_t n, size_t min)
{
  cairo_surface_t *img = cairo_image_surface_create_from_png (path);
  ck_assert_msg (cairo_surface_status (img) == CAIRO_STATUS_SUCCESS, "%s: %s", path,
                 cairo_status_to_string (cairo_surface_status (img)));
  ck_assert_int_eq (cairo_image_surface_get_width (img), 640);
  ck_assert_int_eq (cairo_image_surface_get_height (img), 480);
  const int white[3] = { 255, 255, 255 };
  const size_t blank = count_colour (img, white);
  ck_assert_msg (blank < (size_t) (640 * 480 * 0.98), "%s is almost blank (%zu white pixels)",
                 path, blank);
  ck_assert_msg (blank > (size_t) (640 * 480 * 0.3), "%s has almost no background", path);
  for (size_t i = 0; i < n; i++) {
    const size_t got = count_colour (img, colours[i]);
    ck_assert_msg (got >= min, "%s: %zu pixels of colour (%d, %d, %d), expected at least %zu",
                   path, got, colours[i][0], colours[i][1], colours[i][2], min);
  }
  cairo_surface_destroy (img);
}

typedef struct {
  gboolean root_ok;
  size_t elements;
} svg_state;

static void
svg_start (GMarkupParseContext *ctx, const char *name, const char **attrs, const char **values,
           gpointer data, GError **error)
{
  (void) error;
  svg_state *st = data;
  if (g_markup_parse_context_get_element_stack (ctx)->next == NULL) {
    const char *w = NULL, *h = NULL;
    for (int i = 0; attrs[i]; i++) {
      if (strcmp (attrs[i], "width") == 0)
        w = values[i];
      if (strcmp (attrs[i], "height") == 0)
        h = values[i];
    }
    st->root_ok = strcmp (name, "svg") == 0 && w && h && g_str_has_prefix (w, "640")
                  && g_str_has_prefix (h, "480");
  }
  st->elements++;
}

/* Checks the SVG at PATH: well-formed XML, an <svg> root 640 by 480, many elements, and each
 * colour of COLOURS used. */
static void
check_svg (const char *path, const char *const *colours, size_t n)
{
  char *text = NULL;
  gsize len = 0;
  ck_assert (g_file_get_contents (path, &text, &len, NULL));
  GMarkupParser parser = { svg_start, NULL, NULL, NULL, NULL };
  svg_state st = { FALSE, 0 };
  GMarkupParseContext *ctx = g_markup_parse_context_new (&parser, 0, &st, NULL);
  GError *err = NULL;
  gboolean ok = g_markup_parse_context_parse (ctx, text, (gssize) len, &err)
                && g_markup_parse_context_end_parse (ctx, &err);
  ck_assert_msg (ok, "%s is not well-formed XML: %s", path, err ? err->message : "");
  g_markup_parse_context_free (ctx);
  ck_assert_msg (st.root_ok, "%s: the root is not <svg width=\"640pt\" height=\"480pt\">", path);
  ck_assert_msg (st.elements > 50, "%s has only %zu elements", path, st.elements);
  for (size_t i = 0; i < n; i++)
    ck_assert_msg (strstr (text, colours[i]) != NULL, "%s does not use %s", path, colours[i]);
  g_free (text);
}

static char *
out_path (const char *name)
{
  return g_build_filename (tmpdir, name, NULL);
}

static const mixem_plot_options SIZE = { 640, 480, NULL };

START_TEST (test_trace)
{
  mixem_dataset *data;
  mixem_model *m = fit ("gaussian", "data/iris.csv", 3, NULL, NULL, &data);
  size_t n;
  const mixem_iteration *tr = mixem_model_trace (m, &n);
  ck_assert_uint_gt (n, 3);
  GError *err = NULL;
  char *png = out_path ("trace.png"), *svg = out_path ("trace.svg"), *pdf = out_path ("t.pdf");
  ck_assert (mixem_plot_trace (png, tr, n, mixem_model_initial_loglik (m), &SIZE, &err));
  ck_assert (mixem_plot_trace (svg, tr, n, mixem_model_initial_loglik (m), &SIZE, &err));
  ck_assert (mixem_plot_trace (pdf, tr, n, NAN, &SIZE, &err));
  ck_assert_no_error (err);
  const int *cols[] = { BLUE, ORANGE, VERMILLION };
  check_png (png, cols, 3, 100);
  const char *svgcols[] = { BLUE_SVG, ORANGE_SVG };
  check_svg (svg, svgcols, 2);
  char *text = NULL;
  gsize len = 0;
  ck_assert (g_file_get_contents (pdf, &text, &len, NULL));
  ck_assert (len > 1000 && memcmp (text, "%PDF-", 5) == 0);
  ck_assert (memcmp (text + len - 6, "%%EOF\n", 6) == 0);   /* a complete PDF */
  g_free (text);
  g_free (png);
  g_free (svg);
  g_free (pdf);
  mixem_model_free (m);
  mixem_dataset_free (data);
}
END_TEST

START_TEST (test_clusters)
{
  mixem_dataset *data;
  mixem_model *m = fit ("gaussian", "data/iris.csv", 3, NULL, NULL, &data);
  GError *err = NULL;
  const int *cols[] = { BLUE, ORANGE, GREEN };
  const char *svgcols[] = { BLUE_SVG, ORANGE_SVG };
  for (int matrix = 0; matrix < 2; matrix++) {
    char *png = out_path ("c.png"), *svg = out_path ("c.svg");
    const int x = matrix ? -1 : 2, y = matrix ? -1 : 3;
    ck_assert (mixem_plot_clusters (png, m, data, x, y, &SIZE, &err));
    ck_assert (mixem_plot_clusters (svg, m, data, x, y, &SIZE, &err));
    ck_assert_no_error (err);
    check_png (png, cols, 3, 150);   /* ellipses and means in every component's colour */
    check_svg (svg, svgcols, 2);
    g_free (png);
    g_free (svg);
  }
  char *bad = out_path ("bad.png");
  ck_assert (!mixem_plot_clusters (bad, m, data, 1, 1, &SIZE, &err));
  ck_assert_error (err, MIXEM_ERROR_OPTION, "two different columns");
  ck_assert (!g_file_test (bad, G_FILE_TEST_EXISTS));
  g_free (bad);
  mixem_model_free (m);
  mixem_dataset_free (data);
}
END_TEST

START_TEST (test_prototypes)
{
  mixem_dataset *data;
  mixem_model *m = fit ("bernoulli", "data/digits_binary.csv", 4, "alpha", "2", &data);
  GError *err = NULL;
  char *png = out_path ("p.png"), *svg = out_path ("p.svg");
  ck_assert (mixem_plot_prototypes (png, m, 8, 8, &SIZE, &err));
  ck_assert (mixem_plot_prototypes (svg, m, 8, 8, &SIZE, &err));
  ck_assert_no_error (err);
  const int dark[3] = { 20, 20, 20 };
  const int *cols[] = { dark };
  check_png (png, cols, 1, 300);       /* the strokes of the digits */
  check_svg (svg, NULL, 0);
  ck_assert (!mixem_plot_prototypes (png, m, 8, 7, &SIZE, &err));
  ck_assert_error (err, MIXEM_ERROR_OPTION, "8 by 7 image needs 56 values");
  g_free (png);
  g_free (svg);
  mixem_model_free (m);
  mixem_dataset_free (data);
}
END_TEST

START_TEST (test_binomial)
{
  mixem_dataset *data;
  mixem_model *m = fit ("binomial", "data/two_coins.csv", 2, "trials", "trials", &data);
  GError *err = NULL;
  char *png = out_path ("b.png"), *svg = out_path ("b.svg");
  ck_assert (mixem_plot_binomial (png, m, data, &SIZE, &err));
  ck_assert (mixem_plot_binomial (svg, m, data, &SIZE, &err));
  ck_assert_no_error (err);
  const int *cols[] = { BLUE, ORANGE, GREY };
  check_png (png, cols, 3, 100);       /* the components and the bars of the data */
  const char *svgcols[] = { BLUE_SVG, ORANGE_SVG };
  check_svg (svg, svgcols, 2);
  /* Data that fit and predict refuse are refused here too, by the family's own checks. */
  const char *names[] = { "heads", "trials", NULL };
  const double over[] = { 5, 10, 12, 10 }, half[] = { 5, 10, 2.5, 10 };
  char *bad = out_path ("bad.png");
  mixem_dataset *ds = mixem_dataset_new (2, 2, over, names, NULL, &err);
  ck_assert_no_error (err);
  ck_assert (!mixem_plot_binomial (bad, m, ds, &SIZE, &err));
  ck_assert_error (err, MIXEM_ERROR_DATA, "row 2, column 'heads': 12 successes out of 10 trials");
  ck_assert (!mixem_model_predict (m, ds, (size_t[2]) { 0 }, &err));
  ck_assert_error (err, MIXEM_ERROR_DATA, "row 2, column 'heads': 12 successes out of 10 trials");
  mixem_dataset_free (ds);
  ds = mixem_dataset_new (2, 2, half, names, NULL, &err);
  ck_assert (!mixem_plot_binomial (bad, m, ds, &SIZE, &err));
  ck_assert_error (err, MIXEM_ERROR_DATA, "row 2, column 'heads': successes must be a whole number");
  ck_assert (!g_file_test (bad, G_FILE_TEST_EXISTS));
  mixem_dataset_free (ds);
  g_free (bad);
  g_free (png);
  g_free (svg);
  mixem_model_free (m);
  mixem_dataset_free (data);
}
END_TEST

START_TEST (test_select)
{
  GError *err = NULL;
  char *path = test_path ("data/iris.csv");
  mixem_dataset *data = mixem_dataset_read_csv (path, NULL, &err);
  g_free (path);
  const mixem_family *f = mixem_registry_lookup (reg, "gaussian", &err);
  ck_assert_no_error (err);
  mixem_options *full = mixem_options_new (), *diag = mixem_options_new ();
  mixem_options_set (full, "covariance", "full");
  mixem_options_set (diag, "covariance", "diag");
  const mixem_options *sets[] = { full, diag };
  const size_t ks[] = { 1, 2, 3, 4 };
  mixem_fit_options fo;
  mixem_fit_options_init (&fo);
  mixem_select_options so = { ks, 4, sets, 2, MIXEM_BIC, 0, 0, &fo, FALSE };
  mixem_model *best = NULL;
  size_t bi = 0;
  GArray *c = mixem_select (f, data, &so, &best, &bi, &err);
  ck_assert_no_error (err);
  char *png = out_path ("s.png"), *svg = out_path ("s.svg");
  ck_assert (mixem_plot_select (png, (mixem_candidate *) (void *) c->data, c->len, bi, MIXEM_BIC,
                                &SIZE, &err));
  ck_assert (mixem_plot_select (svg, (mixem_candidate *) (void *) c->data, c->len, bi, MIXEM_AIC,
                                &SIZE, &err));
  ck_assert_no_error (err);
  const int *cols[] = { BLUE, ORANGE };
  check_png (png, cols, 2, 200);       /* one line per covariance type */
  const char *svgcols[] = { BLUE_SVG, ORANGE_SVG };
  check_svg (svg, svgcols, 2);
  /* No held-out scores were asked for: nothing to draw is an error, not a blank picture. */
  char *none = out_path ("none.png");
  ck_assert (!mixem_plot_select (none, (mixem_candidate *) (void *) c->data, c->len, bi,
                                 MIXEM_HELDOUT, &SIZE, &err));
  ck_assert_error (err, MIXEM_ERROR_DATA, "no candidate has a heldout score");
  ck_assert (!g_file_test (none, G_FILE_TEST_EXISTS));
  g_free (none);
  g_free (png);
  g_free (svg);
  mixem_candidates_free (c);
  mixem_model_free (best);
  mixem_options_free (full);
  mixem_options_free (diag);
  mixem_dataset_free (data);
}
END_TEST

/* Pixels of IMG that are blue rather than grey (b above r by 40 or more): the heat map's cells
 * and colour bar. */
static size_t
count_bluish (cairo_surface_t *img)
{
  const int w = cairo_image_surface_get_width (img), h = cairo_image_surface_get_height (img);
  const int stride = cairo_image_surface_get_stride (img);
  const unsigned char *px = cairo_image_surface_get_data (img);
  size_t n = 0;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      guint32 v;
      memcpy (&v, px + y * stride + x * 4, 4);
      n += (int) (v & 255) - (int) ((v >> 16) & 255) >= 40;
    }
  return n;
}

START_TEST (test_levels)
{
  GError *err = NULL;
  char *path = test_path ("data/haireyecolor.csv");
  const mixem_csv_options csv = { .text_levels = TRUE };
  mixem_dataset *data = mixem_dataset_read_csv (path, &csv, &err);
  g_free (path);
  ck_assert_no_error (err);
  const mixem_family *f = mixem_registry_lookup (reg, "categorical", &err);
  ck_assert_no_error (err);
  mixem_fit_options o;
  mixem_fit_options_init (&o);
  o.k = 2;
  o.seed = 1;
  mixem_model *m = mixem_fit (f, data, &o, &err);
  ck_assert_no_error (err);
  char *png = out_path ("l.png"), *svg = out_path ("l.svg");
  ck_assert (mixem_plot_levels (png, m, &SIZE, &err));
  ck_assert (mixem_plot_levels (svg, m, &SIZE, &err));
  ck_assert_no_error (err);
  check_png (png, NULL, 0, 0);
  check_svg (svg, NULL, 0);
  /* 3 columns of 2 to 4 levels, 2 components: 20 cells, and the colour bar. */
  cairo_surface_t *img = cairo_image_surface_create_from_png (png);
  const size_t blue = count_bluish (img);
  ck_assert_msg (blue > 640 * 480 / 20, "%s: only %zu blue pixels", png, blue);
  cairo_surface_destroy (img);
  /* Another family is an error naming it, and leaves no file. */
  mixem_dataset *iris;
  mixem_model *g = fit ("gaussian", "data/iris.csv", 2, NULL, NULL, &iris);
  char *bad = out_path ("bad.png");
  ck_assert (!mixem_plot_levels (bad, g, &SIZE, &err));
  ck_assert_error (err, MIXEM_ERROR_OPTION, "this model's family is gaussian");
  ck_assert (!g_file_test (bad, G_FILE_TEST_EXISTS));
  g_free (bad);
  g_free (png);
  g_free (svg);
  mixem_model_free (g);
  mixem_dataset_free (iris);
  mixem_model_free (m);
  mixem_dataset_free (data);
}
END_TEST

START_TEST (test_bad_requests)
{
  mixem_iteration it = { .restart = 1, .iter = 1, .loglik = -10, .elbo = -11, .kl = 1,
                         .temperature = 1 };
  GError *err = NULL;
  char *gif = out_path ("t.gif"), *png = out_path ("t.png");
  ck_assert (!mixem_plot_trace (gif, &it, 1, NAN, NULL, &err));
  ck_assert_error (err, MIXEM_ERROR_OPTION, "must end in .png, .svg or .pdf");
  const mixem_plot_options tiny = { 10, 10, NULL };
  ck_assert (!mixem_plot_trace (png, &it, 1, NAN, &tiny, &err));
  ck_assert_error (err, MIXEM_ERROR_OPTION, "200 to 20000 units wide");
  ck_assert (!mixem_plot_trace (png, &it, 0, NAN, NULL, &err));
  ck_assert_error (err, MIXEM_ERROR_DATA, "no iterations");
  ck_assert (!g_file_test (png, G_FILE_TEST_EXISTS));
  /* A negative iteration (INT_MIN once overflowed 'iter - 1') is refused, not drawn. */
  mixem_iteration bad[2] = { it, it };
  bad[0].iter = INT_MIN;
  ck_assert (!mixem_plot_trace (png, bad, 2, NAN, NULL, &err));
  ck_assert_error (err, MIXEM_ERROR_DATA, "record 1 of the trace: iteration -2147483648 is negative");
  ck_assert (!g_file_test (png, G_FILE_TEST_EXISTS));
  char *nodir = g_build_filename (tmpdir, "no", "such", "dir.png", NULL);
  ck_assert (!mixem_plot_trace (nodir, &it, 1, NAN, NULL, &err));
  ck_assert_error (err, MIXEM_ERROR_IO, "dir.png");
  g_free (nodir);
  g_free (gif);
  g_free (png);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("plot");
  TCase *tc = tcase_create ("plot");
  tcase_set_timeout (tc, 60);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_trace);
  tcase_add_test (tc, test_clusters);
  tcase_add_test (tc, test_prototypes);
  tcase_add_test (tc, test_binomial);
  tcase_add_test (tc, test_select);
  tcase_add_test (tc, test_levels);
  tcase_add_test (tc, test_bad_requests);
  suite_add_tcase (s, tc);
  return test_run (s);
}
