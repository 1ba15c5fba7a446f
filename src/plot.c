/* plot.c: pictures of fits with cairo.  A canvas draws into memory (an image surface for PNG, a
 * stream for SVG and PDF) and the bytes are written atomically at the end.  A panel maps data to
 * device coordinates and draws its own axes, ticks and labels; every plot is built from panels,
 * lines, markers and a legend. */
#include <config.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cairo.h>
#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <gsl/gsl_randist.h>
#include <mixem/plot.h>
#include <mixem/modelfile.h>
#include <mixem/error.h>
#include "engine.h"

/* Okabe and Ito (2008): blue, orange, bluish green, reddish purple, sky blue, vermillion,
 * yellow, black. */
static const double palette[8][3] = {
  { 0.000, 0.447, 0.698 }, { 0.902, 0.624, 0.000 }, { 0.000, 0.620, 0.451 },
  { 0.800, 0.475, 0.655 }, { 0.337, 0.706, 0.914 }, { 0.835, 0.369, 0.000 },
  { 0.941, 0.894, 0.259 }, { 0.000, 0.000, 0.000 },
};

static void
set_colour (cairo_t *cr, size_t i, double alpha)
{
  const double *c = palette[i % 8];
  cairo_set_source_rgba (cr, c[0], c[1], c[2], alpha);
}

/* ---- canvas ------------------------------------------------------------------------------- */

typedef enum { FMT_PNG, FMT_SVG, FMT_PDF } plot_format;

typedef struct {
  const char *path;
  plot_format fmt;
  double w, h, font;         /* size, and the base font size, in device units */
  cairo_surface_t *surface;
  cairo_t *cr;
  GByteArray *bytes;         /* SVG and PDF output */
} canvas;

static cairo_status_t
append_bytes (void *closure, const unsigned char *data, unsigned int len)
{
  g_byte_array_append (closure, data, len);
  return CAIRO_STATUS_SUCCESS;
}

static gboolean
canvas_open (canvas *c, const char *path, const mixem_plot_options *o, GError **error)
{
  memset (c, 0, sizeof *c);
  c->path = path;
  const char *dot = strrchr (path, '.');
  if (dot && g_ascii_strcasecmp (dot, ".png") == 0)
    c->fmt = FMT_PNG;
  else if (dot && g_ascii_strcasecmp (dot, ".svg") == 0)
    c->fmt = FMT_SVG;
  else if (dot && g_ascii_strcasecmp (dot, ".pdf") == 0)
    c->fmt = FMT_PDF;
  else {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 "%s: the picture's name must end in .png, .svg or .pdf", path);
    return FALSE;
  }
  const int w = o && o->width ? o->width : 800, h = o && o->height ? o->height : 600;
  if (w < 200 || h < 150 || w > 20000 || h > 20000) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 "%s: a picture must be 200 to 20000 units wide and 150 to 20000 high (got %d by %d)",
                 path, w, h);
    return FALSE;
  }
  c->w = w;
  c->h = h;
  c->font = MAX (9.0, MIN (w, h) / 45.0);
  if (c->fmt == FMT_PNG)
    c->surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, w, h);
  else {
    c->bytes = g_byte_array_new ();
    c->surface = c->fmt == FMT_SVG
                   ? cairo_svg_surface_create_for_stream (append_bytes, c->bytes, w, h)
                   : cairo_pdf_surface_create_for_stream (append_bytes, c->bytes, w, h);
  }
  c->cr = cairo_create (c->surface);
  cairo_set_source_rgb (c->cr, 1, 1, 1);
  cairo_paint (c->cr);
  cairo_select_font_face (c->cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (c->cr, c->font);
  cairo_set_line_join (c->cr, CAIRO_LINE_JOIN_ROUND);
  return TRUE;
}

/* Finishes the picture and writes it; with WRITE false (an error came first) only frees. */
static gboolean
canvas_close (canvas *c, gboolean write, GError **error)
{
  cairo_status_t st = cairo_status (c->cr);
  cairo_destroy (c->cr);
  if (c->fmt == FMT_PNG && write && st == CAIRO_STATUS_SUCCESS) {
    c->bytes = g_byte_array_new ();
    st = cairo_surface_write_to_png_stream (c->surface, append_bytes, c->bytes);
  }
  cairo_surface_finish (c->surface);
  if (st == CAIRO_STATUS_SUCCESS)
    st = cairo_surface_status (c->surface);
  cairo_surface_destroy (c->surface);
  gboolean ok = write;
  if (write && st != CAIRO_STATUS_SUCCESS) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_IO, "%s: cairo: %s", c->path,
                 cairo_status_to_string (st));
    ok = FALSE;
  } else if (write)   /* its messages name the file */
    ok = mixem_write_file_atomic (c->path, (const char *) c->bytes->data, c->bytes->len, error);
  if (c->bytes)
    g_byte_array_unref (c->bytes);
  return ok;
}

/* ---- text --------------------------------------------------------------------------------- */

/* Draws TEXT with its anchor at (X, Y): HA 0 left, 0.5 centre, 1 right; VA likewise from the
 * top.  ANGLE in radians (the y-axis label is turned a quarter). */
static void
text_at (cairo_t *cr, double x, double y, const char *text, double ha, double va, double angle)
{
  cairo_text_extents_t e;
  cairo_font_extents_t fe;
  cairo_text_extents (cr, text, &e);
  cairo_font_extents (cr, &fe);
  cairo_save (cr);
  cairo_translate (cr, x, y);
  cairo_rotate (cr, angle);
  cairo_move_to (cr, -ha * e.x_advance, -va * (fe.ascent + fe.descent) + fe.ascent);
  cairo_show_text (cr, text);
  cairo_restore (cr);
}

static void
title (canvas *c, const char *text)
{
  cairo_save (c->cr);
  cairo_set_source_rgb (c->cr, 0, 0, 0);
  cairo_set_font_size (c->cr, c->font * 1.3);
  cairo_select_font_face (c->cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  text_at (c->cr, c->w / 2, c->font * 0.6, text, 0.5, 0, 0);
  cairo_restore (c->cr);
}

/* ---- panels ------------------------------------------------------------------------------- */

typedef struct {
  double x0, y0, x1, y1;          /* device rectangle of the plotting area */
  double xmin, xmax, ymin, ymax;  /* data range (log10 of it on a log axis) */
  gboolean ylog;
} panel;

static double
px (const panel *p, double x)
{
  return p->x0 + (x - p->xmin) / (p->xmax - p->xmin) * (p->x1 - p->x0);
}

static double
py (const panel *p, double y)
{
  if (p->ylog)
    y = log10 (y);
  return p->y1 - (y - p->ymin) / (p->ymax - p->ymin) * (p->y1 - p->y0);
}

/* Widens [lo, hi] a little, and gives it some width when it has none. */
static void
pad_range (double *lo, double *hi, double frac)
{
  if (!(*hi > *lo)) {
    const double m = fabs (*lo) > 0 ? fabs (*lo) * 0.05 : 1.0;
    *lo -= m;
    *hi += m;
    return;
  }
  const double r = *hi - *lo;
  *lo -= frac * r;
  *hi += frac * r;
}

/* A step of 1, 2 or 5 times a power of ten giving about TARGET ticks over [LO, HI]. */
static double
nice_step (double lo, double hi, int target)
{
  const double raw = (hi - lo) / target, mag = pow (10, floor (log10 (raw))), f = raw / mag;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

static void
tick_label (char *buf, size_t len, double v, double step)
{
  if (fabs (v) < step * 1e-9)
    v = 0;
  if (fabs (v) >= 1e6 || (fabs (v) < 1e-3 && v != 0))
    g_snprintf (buf, len, "%.3g", v);
  else {
    const int digits = step >= 1 ? 0 : (int) ceil (-log10 (step) - 1e-9);
    g_snprintf (buf, len, "%.*f", MIN (digits, 6), v);
  }
}

/* Frame, ticks, tick labels and axis labels.  XINT: ticks only at whole numbers.  XT, YT: label
 * the ticks of that axis (a scatter-plot matrix labels only its outer panels). */
static void
draw_axes_ex (canvas *c, const panel *p, const char *xlabel, const char *ylabel, gboolean xint,
              gboolean xt, gboolean yt)
{
  cairo_t *cr = c->cr;
  const double tl = c->font * 0.4;
  char buf[64];
  cairo_save (cr);
  cairo_set_source_rgb (cr, 0, 0, 0);
  cairo_set_line_width (cr, 1);
  cairo_rectangle (cr, p->x0, p->y0, p->x1 - p->x0, p->y1 - p->y0);
  cairo_stroke (cr);
  cairo_set_font_size (cr, c->font * 0.85);
  const int nx = MAX (2, (int) ((p->x1 - p->x0) / (c->font * 6)));
  double step = nice_step (p->xmin, p->xmax, nx);
  if (xint)
    step = MAX (1.0, round (step));
  for (double v = ceil (p->xmin / step) * step; v <= p->xmax + step * 1e-9; v += step) {
    const double x = px (p, v);
    cairo_move_to (cr, x, p->y1);
    cairo_line_to (cr, x, p->y1 + tl);
    cairo_stroke (cr);
    tick_label (buf, sizeof buf, v, step);
    if (xt)
      text_at (cr, x, p->y1 + tl * 1.5, buf, 0.5, 0, 0);
  }
  const int ny = MAX (2, (int) ((p->y1 - p->y0) / (c->font * 3)));
  if (p->ylog) {
    const double every = MAX (1.0, ceil ((p->ymax - p->ymin) / ny));   /* decades per tick */
    for (double e = ceil (p->ymin); e <= p->ymax + 1e-9; e += every) {
      const double y = p->y1 - (e - p->ymin) / (p->ymax - p->ymin) * (p->y1 - p->y0);
      cairo_move_to (cr, p->x0 - tl, y);
      cairo_line_to (cr, p->x0, y);
      cairo_stroke (cr);
      g_snprintf (buf, sizeof buf, "1e%d", (int) e);
      if (yt)
        text_at (cr, p->x0 - tl * 1.5, y, buf, 1, 0.5, 0);
    }
  } else {
    step = nice_step (p->ymin, p->ymax, ny);
    for (double v = ceil (p->ymin / step) * step; v <= p->ymax + step * 1e-9; v += step) {
      const double y = py (p, v);
      cairo_move_to (cr, p->x0 - tl, y);
      cairo_line_to (cr, p->x0, y);
      cairo_stroke (cr);
      tick_label (buf, sizeof buf, v, step);
      if (yt)
        text_at (cr, p->x0 - tl * 1.5, y, buf, 1, 0.5, 0);
    }
  }
  cairo_set_font_size (cr, c->font);
  if (xlabel)
    text_at (cr, (p->x0 + p->x1) / 2, p->y1 + c->font * 2.2, xlabel, 0.5, 0, 0);
  if (ylabel)
    text_at (cr, p->x0 - c->font * 5.2, (p->y0 + p->y1) / 2, ylabel, 0.5, 0, -G_PI / 2);
  cairo_restore (cr);
}

static void
draw_axes (canvas *c, const panel *p, const char *xlabel, const char *ylabel, gboolean xint)
{
  draw_axes_ex (c, p, xlabel, ylabel, xint, TRUE, TRUE);
}

/* Clips drawing to the panel's plotting area (undo with cairo_restore). */
static void
clip_to (cairo_t *cr, const panel *p)
{
  cairo_save (cr);
  cairo_rectangle (cr, p->x0, p->y0, p->x1 - p->x0, p->y1 - p->y0);
  cairo_clip (cr);
}

typedef enum { TOP_LEFT, TOP_RIGHT, BOTTOM_RIGHT } corner;

/* A legend box in a corner of the panel. */
static void
legend (canvas *c, const panel *p, char **labels, const int *colours, const int *dashed, size_t n,
        corner where)
{
  cairo_t *cr = c->cr;
  cairo_save (cr);
  cairo_set_font_size (cr, c->font * 0.85);
  double wmax = 0;
  for (size_t i = 0; i < n; i++) {
    cairo_text_extents_t e;
    cairo_text_extents (cr, labels[i], &e);
    wmax = MAX (wmax, e.x_advance);
  }
  const double line = c->font * 1.3, sw = c->font * 2, pad = c->font * 0.5;
  const double bw = pad * 3 + sw + wmax, bh = pad * 2 + line * (double) n;
  const double bx = where == TOP_LEFT ? p->x0 + pad : p->x1 - bw - pad;
  const double by = where == BOTTOM_RIGHT ? p->y1 - bh - pad : p->y0 + pad;
  cairo_set_source_rgba (cr, 1, 1, 1, 0.85);
  cairo_rectangle (cr, bx, by, bw, bh);
  cairo_fill_preserve (cr);
  cairo_set_source_rgb (cr, 0.5, 0.5, 0.5);
  cairo_set_line_width (cr, 0.8);
  cairo_stroke (cr);
  for (size_t i = 0; i < n; i++) {
    const double y = by + pad + line * ((double) i + 0.5);
    set_colour (cr, (size_t) colours[i], 1);
    cairo_set_line_width (cr, 2.5);
    if (dashed && dashed[i]) {
      const double d[] = { 6, 3 };
      cairo_set_dash (cr, d, 2, 0);
    }
    cairo_move_to (cr, bx + pad, y);
    cairo_line_to (cr, bx + pad + sw, y);
    cairo_stroke (cr);
    cairo_set_dash (cr, NULL, 0, 0);
    cairo_set_source_rgb (cr, 0, 0, 0);
    text_at (cr, bx + pad * 2 + sw, y, labels[i], 0, 0.5, 0);
  }
  cairo_restore (cr);
}

/* A legend in one centred row with its top at Y (for plots whose panels fill the page). */
static void
legend_row (canvas *c, double y, char **labels, size_t n)
{
  cairo_t *cr = c->cr;
  cairo_save (cr);
  cairo_set_font_size (cr, c->font * 0.85);
  const double sw = c->font * 1.6, gap = c->font * 1.2, pad = c->font * 0.4;
  double total = 0;
  for (size_t i = 0; i < n; i++) {
    cairo_text_extents_t e;
    cairo_text_extents (cr, labels[i], &e);
    total += sw + pad + e.x_advance + (i + 1 < n ? gap : 0);
  }
  double x = MAX (c->font * 0.5, (c->w - total) / 2);
  const double mid = y + c->font * 0.6;
  for (size_t i = 0; i < n; i++) {
    set_colour (cr, i, 1);
    cairo_set_line_width (cr, 2.5);
    cairo_move_to (cr, x, mid);
    cairo_line_to (cr, x + sw, mid);
    cairo_stroke (cr);
    cairo_set_source_rgb (cr, 0, 0, 0);
    text_at (cr, x + sw + pad, mid, labels[i], 0, 0.5, 0);
    cairo_text_extents_t e;
    cairo_text_extents (cr, labels[i], &e);
    x += sw + pad + e.x_advance + gap;
  }
  cairo_restore (cr);
}

static void
marker (cairo_t *cr, double x, double y, double r)
{
  cairo_new_sub_path (cr);
  cairo_arc (cr, x, y, r, 0, 2 * G_PI);
}

/* ---- trace -------------------------------------------------------------------------------- */

gboolean
mixem_plot_trace (const char *path, const mixem_iteration *tr, size_t n, double loglik0,
                  const mixem_plot_options *o, GError **error)
{
  if (n == 0) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: the trace has no iterations", path);
    return FALSE;
  }
  for (size_t i = 0; i < n; i++)
    if (tr[i].iter < 0) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA,
                   "%s: record %zu of the trace: iteration %d is negative", path, i + 1,
                   tr[i].iter);
      return FALSE;
    }
  canvas c;
  if (!canvas_open (&c, path, o, error))
    return FALSE;
  cairo_t *cr = c.cr;
  title (&c, o && o->title ? o->title : "EM: log-likelihood, ELBO and KL");
  const double left = c.font * 7, right = c.w - c.font * 1.5, top = c.font * 3.2;
  const double split = top + (c.h - top) * 0.58;
  panel a = { left, top, right, split - c.font * 3.2, 0, 0, INFINITY, -INFINITY, FALSE };
  panel b = { left, split, right, c.h - c.font * 3.6, 0, 0, INFINITY, -INFINITY, TRUE };
  const gboolean has0 = isfinite (loglik0);
  a.xmin = b.xmin = has0 ? 0 : tr[0].iter;
  a.xmax = b.xmax = MAX (tr[n - 1].iter, a.xmin + 1);
  if (has0)
    a.ymin = a.ymax = loglik0;
  for (size_t i = 0; i < n; i++) {
    a.ymin = MIN (a.ymin, MIN (tr[i].loglik, tr[i].elbo));
    a.ymax = MAX (a.ymax, MAX (tr[i].loglik, tr[i].elbo));
  }
  pad_range (&a.ymin, &a.ymax, 0.05);
  pad_range (&a.xmin, &a.xmax, 0.02);
  b.xmin = a.xmin;
  b.xmax = a.xmax;
  /* KL on a log axis: only positive values can be drawn (a KL of 0 is exact convergence). */
  double kmin = INFINITY, kmax = -INFINITY;
  for (size_t i = 0; i < n; i++)
    if (tr[i].kl > 0) {
      kmin = MIN (kmin, tr[i].kl);
      kmax = MAX (kmax, tr[i].kl);
    }
  if (!isfinite (kmin))
    kmin = 1e-16, kmax = 1;
  b.ymin = floor (log10 (kmin));
  b.ymax = ceil (log10 (kmax));
  if (b.ymax <= b.ymin)
    b.ymax = b.ymin + 1;

  draw_axes (&c, &a, NULL, "log-likelihood", TRUE);
  draw_axes (&c, &b, "iteration", "KL(q || p(z|x))", TRUE);

  clip_to (cr, &a);
  cairo_set_line_width (cr, 2);
  set_colour (cr, 0, 1);                   /* l(theta_t) */
  if (has0)
    cairo_move_to (cr, px (&a, 0), py (&a, loglik0));
  for (size_t i = 0; i < n; i++)
    cairo_line_to (cr, px (&a, tr[i].iter), py (&a, tr[i].loglik));
  cairo_stroke (cr);
  for (size_t i = 0; i < n && n <= 200; i++)
    marker (cr, px (&a, tr[i].iter), py (&a, tr[i].loglik), 2.5);
  cairo_fill (cr);
  set_colour (cr, 1, 1);                   /* the ELBO: M-step climb, then the E-step's lift */
  const double dash[] = { 6, 3 };
  cairo_set_dash (cr, dash, 2, 0);
  cairo_set_line_width (cr, 1.8);
  for (size_t i = 0; i < n; i++) {
    const double prev = i > 0 ? tr[i - 1].loglik : loglik0;
    const double x0 = i > 0 ? tr[i - 1].iter : tr[i].iter - 1.0;
    if (!isfinite (prev))
      cairo_move_to (cr, px (&a, tr[i].iter), py (&a, tr[i].elbo));
    else {
      cairo_move_to (cr, px (&a, x0), py (&a, prev));
      cairo_line_to (cr, px (&a, tr[i].iter), py (&a, tr[i].elbo));
    }
    cairo_line_to (cr, px (&a, tr[i].iter), py (&a, tr[i].loglik));
  }
  cairo_stroke (cr);
  cairo_set_dash (cr, NULL, 0, 0);
  cairo_restore (cr);
  char *labels[] = { "log-likelihood l(theta_t)", "ELBO(q_{t-1}, theta_t), then l(theta_t)" };
  const int cols[] = { 0, 1 }, dashed[] = { 0, 1 };
  legend (&c, &a, labels, cols, dashed, 2, BOTTOM_RIGHT);   /* the climb leaves it empty */

  clip_to (cr, &b);
  set_colour (cr, 5, 1);
  cairo_set_line_width (cr, 2);
  gboolean pen = FALSE;
  for (size_t i = 0; i < n; i++) {
    if (!(tr[i].kl > 0)) {
      pen = FALSE;
      continue;
    }
    const double x = px (&b, tr[i].iter), y = py (&b, tr[i].kl);
    if (pen)
      cairo_line_to (cr, x, y);
    else
      cairo_move_to (cr, x, y);
    pen = TRUE;
  }
  cairo_stroke (cr);
  for (size_t i = 0; i < n && n <= 200; i++)
    if (tr[i].kl > 0)
      marker (cr, px (&b, tr[i].iter), py (&b, tr[i].kl), 2.5);
  cairo_fill (cr);
  cairo_restore (cr);
  char *kl_label[] = { "KL gap = l(theta_t) - ELBO(q_{t-1}, theta_t)" };
  const int kl_col[] = { 5 };
  legend (&c, &b, kl_label, kl_col, NULL, 1, TOP_RIGHT);
  return canvas_close (&c, TRUE, error);
}

/* ---- several traces ------------------------------------------------------------------------ */

gboolean
mixem_plot_traces (const char *path, const mixem_iteration *const *traces, const size_t *lens,
                   const char *const *labels, size_t m, const mixem_plot_options *o,
                   GError **error)
{
  if (m == 0) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION, "%s: no trace to draw", path);
    return FALSE;
  }
  /* The best final value of all the traces: the gap panel measures each climb from it. */
  double best = -INFINITY;
  for (size_t j = 0; j < m; j++) {
    if (lens[j] == 0) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: trace %zu ('%s') has no iterations",
                   path, j + 1, labels && labels[j] ? labels[j] : "");
      return FALSE;
    }
    for (size_t i = 0; i < lens[j]; i++) {
      if (traces[j][i].iter < 0 || !isfinite (traces[j][i].loglik)) {
        g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA,
                     "%s: record %zu of trace %zu: iteration %d, log-likelihood %g", path,
                     i + 1, j + 1, traces[j][i].iter, traces[j][i].loglik);
        return FALSE;
      }
      best = MAX (best, traces[j][i].loglik);
    }
  }
  canvas c;
  if (!canvas_open (&c, path, o, error))
    return FALSE;
  cairo_t *cr = c.cr;
  title (&c, o && o->title ? o->title : "log-likelihood climbs");
  const double left = c.font * 7, right = c.w - c.font * 1.5, top = c.font * 3.2;
  const double split = top + (c.h - top) * 0.5;
  panel a = { left, top, right, split - c.font * 3.2, 0, 0, INFINITY, -INFINITY, FALSE };
  panel b = { left, split, right, c.h - c.font * 3.6, 0, 0, INFINITY, -INFINITY, TRUE };
  double xmax = 1, gmin = INFINITY, gmax = -INFINITY;
  /* A start far below the optimum squeezes the top panel's climbs into a line; the gap panel,
   * on a log scale, keeps them apart. */
  for (size_t j = 0; j < m; j++)
    for (size_t i = 0; i < lens[j]; i++) {
      const mixem_iteration *it = &traces[j][i];
      xmax = MAX (xmax, it->iter);
      a.ymin = MIN (a.ymin, it->loglik);
      a.ymax = MAX (a.ymax, it->loglik);
      const double g = (best - it->loglik) / MAX (fabs (best), 1.0);
      if (g > 0) {
        gmin = MIN (gmin, g);
        gmax = MAX (gmax, g);
      }
    }
  a.xmin = b.xmin = 0;
  a.xmax = b.xmax = xmax;
  pad_range (&a.ymin, &a.ymax, 0.05);
  pad_range (&a.xmin, &a.xmax, 0.02);
  b.xmin = a.xmin;
  b.xmax = a.xmax;
  if (!isfinite (gmin))
    gmin = 1e-16, gmax = 1;
  b.ymin = floor (log10 (gmin));
  b.ymax = ceil (log10 (gmax));
  if (b.ymax <= b.ymin)
    b.ymax = b.ymin + 1;
  draw_axes (&c, &a, NULL, "log-likelihood", TRUE);
  draw_axes (&c, &b, "iteration", "(best - l) / |best|", TRUE);

  char **names = g_new0 (char *, m);
  int *cols = g_new (int, m), *dashed = g_new (int, m);
  for (size_t j = 0; j < m; j++) {
    names[j] = labels && labels[j] ? g_strdup (labels[j]) : g_strdup_printf ("trace %zu", j + 1);
    cols[j] = (int) (j % 8);
    dashed[j] = j >= 8;   /* the palette's eight colours, then dashed */
  }
  for (int pass = 0; pass < 2; pass++) {
    const panel *pp = pass == 0 ? &a : &b;
    clip_to (cr, pp);
    for (size_t j = 0; j < m; j++) {
      set_colour (cr, (size_t) cols[j], 1);
      cairo_set_line_width (cr, 1.8);
      const double d[] = { 6, 3 };
      cairo_set_dash (cr, d, dashed[j] ? 2 : 0, 0);
      gboolean pen = FALSE;
      for (size_t i = 0; i < lens[j]; i++) {
        const mixem_iteration *it = &traces[j][i];
        double y;
        if (pass == 0)
          y = py (pp, it->loglik);
        else {
          const double g = (best - it->loglik) / MAX (fabs (best), 1.0);
          if (!(g > 0)) {   /* at the best value: nothing to draw on a log axis */
            pen = FALSE;
            continue;
          }
          y = py (pp, g);
        }
        if (pen)
          cairo_line_to (cr, px (pp, it->iter), y);
        else
          cairo_move_to (cr, px (pp, it->iter), y);
        pen = TRUE;
      }
      cairo_stroke (cr);
    }
    cairo_set_dash (cr, NULL, 0, 0);
    cairo_restore (cr);
  }
  legend (&c, &b, names, cols, dashed, m, TOP_RIGHT);
  for (size_t j = 0; j < m; j++)
    g_free (names[j]);
  g_free (names);
  g_free (cols);
  g_free (dashed);
  return canvas_close (&c, TRUE, error);
}

/* ---- component parameters ----------------------------------------------------------------- */

/* The double array KEY of component K's description, or NULL; *LEN its length. */
static double *
component_vector (const mixem_model *m, size_t k, const char *key, size_t *len)
{
  GVariant *dict = mixem_model_family (m)->describe (mixem_model_params (m), k);
  GVariant *v = g_variant_lookup_value (dict, key, G_VARIANT_TYPE ("ad"));
  double *out = NULL;
  if (v) {
    gsize n;
    const double *x = g_variant_get_fixed_array (v, &n, sizeof (double));
    out = g_memdup2 (x, n * sizeof (double));
    *len = n;
    g_variant_unref (v);
  }
  g_variant_unref (dict);
  return out;
}

/* Component K's location, one value per column: "mean" (Gaussian), "mu" (Bernoulli), the mean
 * shape / rate of a "rate" (exponential; gamma, with its "shape"), else the first parameter the
 * family declares as one per column (a plugin's or the parameter store's), else the first array
 * of d numbers among its parameters, by name, so that any family's components can be drawn. */
static double *
component_location (const mixem_model *m, size_t k, size_t *len)
{
  double *v = component_vector (m, k, "mean", len);
  if (!v)
    v = component_vector (m, k, "mu", len);
  if (!v && (v = component_vector (m, k, "rate", len))) {
    size_t ns = 0;
    double *shape = component_vector (m, k, "shape", &ns);
    for (size_t j = 0; j < *len; j++)
      v[j] = (shape && ns == *len ? shape[j] : 1.0) / v[j];
    g_free (shape);
  }
  const mixem_family *f = mixem_model_family (m);
  for (const mixem_param_info *q = f->param_info; !v && q && q->name; q++)
    if (q->shape == MIXEM_SHAPE_VECTOR)
      v = component_vector (m, k, q->name, len);
  if (!v) {
    GVariant *dict = g_variant_ref_sink (f->describe (mixem_model_params (m), k));
    GVariantIter it;
    const char *key, *best = NULL;
    GVariant *val;
    g_variant_iter_init (&it, dict);
    while (g_variant_iter_next (&it, "{&sv}", &key, &val)) {
      if (g_variant_is_of_type (val, G_VARIANT_TYPE ("ad"))
          && g_variant_n_children (val) == mixem_model_d (m) && (!best || strcmp (key, best) < 0))
        best = key;
      g_variant_unref (val);
    }
    if (best)
      v = component_vector (m, k, best, len);
    g_variant_unref (dict);
  }
  return v;
}

/* Entries (I, I), (I, J) and (J, J) of component K's "cov" (an array of rows), or of its
 * "scale" (the student_t family's, with "df"); FALSE if it has neither.
 * A t's covariance is scale df / (df - 2) for df > 2 and infinite otherwise.  We draw the scale:
 * it exists for every df, its ellipses are the t density's own contours (delta = 1 and 4, as
 * the Gaussian's are with its covariance), and the robust fit it comes from is the point of the
 * family: scaled by df / (df - 2) a component with heavy tails (df near 2) would draw huge
 * rings around what is a tight cluster.  As df grows the two agree (the t tends to the normal). */
static gboolean
component_cov2 (const mixem_model *m, size_t k, size_t i, size_t j, double out[3])
{
  GVariant *dict = mixem_model_family (m)->describe (mixem_model_params (m), k);
  GVariant *v = g_variant_lookup_value (dict, "cov", G_VARIANT_TYPE ("aad"));
  if (!v)
    v = g_variant_lookup_value (dict, "scale", G_VARIANT_TYPE ("aad"));
  gboolean ok = FALSE;
  if (v) {
    const size_t idx[3][2] = { { i, i }, { i, j }, { j, j } };
    for (int t = 0; t < 3; t++) {
      GVariant *row = g_variant_get_child_value (v, idx[t][0]);
      gsize n;
      const double *x = g_variant_get_fixed_array (row, &n, sizeof (double));
      out[t] = idx[t][1] < n ? x[idx[t][1]] : NAN;
      g_variant_unref (row);
    }
    ok = isfinite (out[0]) && isfinite (out[1]) && isfinite (out[2]);
    g_variant_unref (v);
  }
  g_variant_unref (dict);
  return ok;
}

static gboolean
check_columns (const char *path, const mixem_model *m, const mixem_dataset *data, GError **error)
{
  if (mixem_dataset_cols (data) != mixem_model_d (m)) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA,
                 "%s: the data have %zu columns, but the model has %zu", path,
                 mixem_dataset_cols (data), mixem_model_d (m));
    return FALSE;
  }
  return TRUE;
}

/* ---- clusters ----------------------------------------------------------------------------- */

/* One scatter of columns XJ and YJ in panel P, with ellipses and means. */
static void
scatter (canvas *c, panel *p, const mixem_model *m, const mixem_dataset *data, const size_t *lab,
         size_t xj, size_t yj, double dot)
{
  cairo_t *cr = c->cr;
  const size_t n = mixem_dataset_rows (data), K = mixem_model_k (m);
  clip_to (cr, p);
  for (size_t k = 0; k < K; k++) {        /* points, a component at a time: one fill each */
    set_colour (cr, k, 0.65);
    for (size_t i = 0; i < n; i++)
      if (lab[i] == k)
        marker (cr, px (p, mixem_dataset_value (data, i, xj)),
                py (p, mixem_dataset_value (data, i, yj)), dot);
    cairo_fill (cr);
  }
  for (size_t k = 0; k < K; k++) {
    size_t len = 0;
    double *mu = component_location (m, k, &len);
    if (!mu || len <= MAX (xj, yj)) {
      g_free (mu);
      continue;
    }
    double s[3];
    if (component_cov2 (m, k, xj, yj, s) && s[0] > 0) {
      /* x = mu + r L u over the unit circle, L the Cholesky factor of the 2x2 marginal. */
      const double l11 = sqrt (s[0]), l21 = s[1] / l11, l22 = sqrt (MAX (0.0, s[2] - l21 * l21));
      for (int r = 1; r <= 2; r++) {
        for (int t = 0; t <= 96; t++) {
          const double a = 2 * G_PI * t / 96, u = cos (a), v = sin (a);
          const double x = mu[xj] + r * l11 * u, y = mu[yj] + r * (l21 * u + l22 * v);
          if (t == 0)
            cairo_move_to (cr, px (p, x), py (p, y));
          else
            cairo_line_to (cr, px (p, x), py (p, y));
        }
        cairo_close_path (cr);
        set_colour (cr, k, 1);
        cairo_set_line_width (cr, r == 1 ? 2.0 : 1.2);
        if (r == 2) {
          const double d[] = { 5, 3 };
          cairo_set_dash (cr, d, 2, 0);
        }
        cairo_stroke (cr);
        cairo_set_dash (cr, NULL, 0, 0);
      }
    }
    /* The mean: a black-edged cross over a filled disc of the component's colour. */
    const double x = px (p, mu[xj]), y = py (p, mu[yj]), r = MAX (4.0, dot * 2.5);
    marker (cr, x, y, r);
    set_colour (cr, k, 1);
    cairo_fill_preserve (cr);
    cairo_set_source_rgb (cr, 0, 0, 0);
    cairo_set_line_width (cr, 1.5);
    cairo_stroke (cr);
    g_free (mu);
  }
  cairo_restore (cr);
}

static void
column_range (const mixem_dataset *data, size_t j, double *lo, double *hi)
{
  *lo = INFINITY;
  *hi = -INFINITY;
  for (size_t i = 0; i < mixem_dataset_rows (data); i++) {
    const double v = mixem_dataset_value (data, i, j);
    *lo = MIN (*lo, v);
    *hi = MAX (*hi, v);
  }
  pad_range (lo, hi, 0.06);
}

gboolean
mixem_plot_clusters (const char *path, const mixem_model *m, const mixem_dataset *data, int xcol,
                     int ycol, const mixem_plot_options *o, GError **error)
{
  const size_t d = mixem_model_d (m), n = mixem_dataset_rows (data), K = mixem_model_k (m);
  if (!check_columns (path, m, data, error))
    return FALSE;
  if (d < 2) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: a scatter needs two columns; the "
                 "model has one", path);
    return FALSE;
  }
  if (xcol >= 0 && (ycol < 0 || (size_t) xcol >= d || (size_t) ycol >= d || xcol == ycol)) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 "%s: two different columns from 1 to %zu are needed (got %d and %d)", path, d,
                 xcol + 1, ycol + 1);
    return FALSE;
  }
  if (mixem_model_noise (m, NULL, NULL)) {   /* its colours are the K components' */
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 "%s: this plot does not show a model with a noise component", path);
    return FALSE;
  }
  size_t *lab = g_new (size_t, n > 0 ? n : 1);
  if (!mixem_model_predict (m, data, lab, error)) {
    g_free (lab);
    return FALSE;
  }
  canvas c;
  if (!canvas_open (&c, path, o, error)) {
    g_free (lab);
    return FALSE;
  }
  char *t = g_strdup_printf ("%s mixture, k = %zu: components by colour", mixem_model_family (m)->name,
                             K);
  title (&c, o && o->title ? o->title : t);
  g_free (t);
  const char *const *names = mixem_model_names (m);
  const double dot = MAX (1.5, MIN (c.w, c.h) / 300.0);
  const double top = c.font * 3.2, bottom = c.h - c.font * 3.6;
  panel first = { 0 };
  if (xcol >= 0 || d == 2) {
    const size_t xj = xcol >= 0 ? (size_t) xcol : 0, yj = xcol >= 0 ? (size_t) ycol : 1;
    panel p = { c.font * 7, top, c.w - c.font * 1.5, bottom, 0, 0, 0, 0, FALSE };
    column_range (data, xj, &p.xmin, &p.xmax);
    column_range (data, yj, &p.ymin, &p.ymax);
    draw_axes (&c, &p, names[xj], names[yj], FALSE);
    scatter (&c, &p, m, data, lab, xj, yj, dot);
    first = p;
  } else {
    /* A scatter-plot matrix: row i, column j shows column j across, column i up. */
    const size_t q = MIN (d, (size_t) 6);
    const double left = c.font * 4.5, right = c.w - c.font * 1.0, gap = c.font * 0.5;
    const double bot = c.h - c.font * (q < d ? 4.6 : 3.4);
    const double cw = (right - left - gap * (double) (q - 1)) / (double) q;
    const double mtop = c.font * 4.4;     /* the legend goes in a row above the panels */
    const double ch = (bot - mtop - gap * (double) (q - 1)) / (double) q;
    cairo_set_font_size (c.cr, c.font * 0.8);
    for (size_t i = 0; i < q; i++)
      for (size_t j = 0; j < q; j++) {
        panel p = { left + (double) j * (cw + gap), mtop + (double) i * (ch + gap), 0, 0,
                    0, 0, 0, 0, FALSE };
        p.x1 = p.x0 + cw;
        p.y1 = p.y0 + ch;
        column_range (data, j, &p.xmin, &p.xmax);
        column_range (data, i, &p.ymin, &p.ymax);
        draw_axes_ex (&c, &p, NULL, NULL, FALSE, i == q - 1, j == 0);
        if (i == j) {
          cairo_set_source_rgb (c.cr, 0, 0, 0);
          cairo_set_font_size (c.cr, c.font);
          text_at (c.cr, (p.x0 + p.x1) / 2, (p.y0 + p.y1) / 2, names[i], 0.5, 0.5, 0);
          continue;
        }
        scatter (&c, &p, m, data, lab, j, i, dot * 0.8);
      }
    if (q < d) {
      char *note = g_strdup_printf ("the first %zu of %zu columns", q, d);
      cairo_set_source_rgb (c.cr, 0, 0, 0);
      text_at (c.cr, c.w / 2, c.h - c.font * 1.0, note, 0.5, 0.5, 0);
      g_free (note);
    }
  }
  char **labels = g_new0 (char *, K + 1);
  int *cols = g_new (int, K);
  const double *w = mixem_model_weights (m);
  for (size_t k = 0; k < K; k++) {
    labels[k] = g_strdup_printf ("component %zu: weight %.3f", k + 1, w[k]);
    cols[k] = (int) k;
  }
  if (first.x1 > first.x0)
    legend (&c, &first, labels, cols, NULL, K, TOP_RIGHT);
  else
    legend_row (&c, c.font * 2.5, labels, K);
  g_strfreev (labels);
  g_free (cols);
  g_free (lab);
  return canvas_close (&c, TRUE, error);
}

/* ---- prototypes --------------------------------------------------------------------------- */

gboolean
mixem_plot_prototypes (const char *path, const mixem_model *m, size_t rows, size_t cols,
                       const mixem_plot_options *o, GError **error)
{
  const size_t K = mixem_model_k (m);
  double **mu = g_new0 (double *, K);
  gboolean ok = TRUE;
  double lo = INFINITY, hi = -INFINITY;
  for (size_t k = 0; k < K && ok; k++) {
    size_t len = 0;
    mu[k] = component_location (m, k, &len);
    if (!mu[k] || len != rows * cols) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                   "%s: a %zu by %zu image needs %zu values per component; the %s components "
                   "have %zu", path, rows, cols, rows * cols, mixem_model_family (m)->name,
                   mu[k] ? len : 0);
      ok = FALSE;
      break;
    }
    for (size_t j = 0; j < len; j++) {
      lo = MIN (lo, mu[k][j]);
      hi = MAX (hi, mu[k][j]);
    }
  }
  canvas c;
  if (ok)
    ok = canvas_open (&c, path, o, error);
  if (ok) {
    /* Probabilities are drawn on [0, 1]; other means on their own range. */
    const gboolean prob = strcmp (mixem_model_family (m)->name, "bernoulli") == 0;
    if (prob)
      lo = 0, hi = 1;
    if (!(hi > lo))
      hi = lo + 1;
    char *t = g_strdup_printf ("%s mixture, k = %zu: component means (darker is larger)",
                               mixem_model_family (m)->name, K);
    title (&c, o && o->title ? o->title : t);
    g_free (t);
    const size_t gc = (size_t) ceil (sqrt ((double) K * (c.w / c.h) * rows / cols));
    const size_t ncol = MAX ((size_t) 1, MIN (K, gc)), nrow = (K + ncol - 1) / ncol;
    const double top = c.font * 3.2, gap = c.font * 0.8, label = c.font * 1.3;
    const double cw = (c.w - gap * (double) (ncol + 1)) / (double) ncol;
    const double ch = (c.h - top - gap - (gap + label) * (double) nrow) / (double) nrow;
    const double cell = MIN (cw / (double) cols, ch / (double) rows);
    const double *w = mixem_model_weights (m);
    cairo_set_font_size (c.cr, c.font * 0.9);
    for (size_t k = 0; k < K; k++) {
      const size_t r = k / ncol, q = k % ncol;
      const double x0 = gap + (double) q * (cw + gap) + (cw - cell * (double) cols) / 2;
      const double y0 = top + (double) r * (ch + gap + label) + label;
      for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) {
          const double g = 1.0 - (mu[k][i * cols + j] - lo) / (hi - lo);
          cairo_set_source_rgb (c.cr, g, g, g);
          cairo_rectangle (c.cr, x0 + (double) j * cell, y0 + (double) i * cell, cell + 0.02,
                           cell + 0.02);
          cairo_fill (c.cr);
        }
      cairo_set_source_rgb (c.cr, 0.4, 0.4, 0.4);
      cairo_set_line_width (c.cr, 1);
      cairo_rectangle (c.cr, x0, y0, cell * (double) cols, cell * (double) rows);
      cairo_stroke (c.cr);
      char buf[64];
      g_snprintf (buf, sizeof buf, "%zu: weight %.3f", k + 1, w[k]);
      cairo_set_source_rgb (c.cr, 0, 0, 0);
      text_at (c.cr, x0 + cell * (double) cols / 2, y0 - label * 0.15, buf, 0.5, 1, 0);
    }
    ok = canvas_close (&c, TRUE, error);
  }
  for (size_t k = 0; k < K; k++)
    g_free (mu[k]);
  g_free (mu);
  return ok;
}

/* ---- levels ------------------------------------------------------------------------------- */

/* One categorical column: its name, its L level names and the K by L probabilities. */
typedef struct {
  char *name;
  size_t L;
  char **levels;       /* L + 1 */
  double *prob;        /* K * L, a component's L values together */
  double labw, band;   /* the widest level name, and the height its names take */
} level_block;

static void
level_block_free (gpointer data)
{
  level_block *b = data;
  g_free (b->name);
  g_strfreev (b->levels);
  g_free (b->prob);
  g_free (b);
}

/* A value of an a{sv} dictionary, without the variant box a model file's may add. */
static GVariant *
lookup_unboxed (GVariant *dict, const char *key)
{
  GVariant *v = g_variant_lookup_value (dict, key, NULL);
  if (v && g_variant_is_of_type (v, G_VARIANT_TYPE_VARIANT)) {
    GVariant *inner = g_variant_get_variant (v);
    g_variant_unref (v);
    v = inner;
  }
  return v;
}

/* Appends to OUT a block for each of the NC columns COLS of the model, from the categorical
 * family's PREFIX"prob" (one array of level probabilities per column) and PREFIX"levels" (per
 * column name, each level's name to its code; columns without names show their codes). */
static gboolean
add_level_blocks (const char *path, const mixem_model *m, const char *prefix, const size_t *cols,
                  size_t nc, GPtrArray *out, GError **error)
{
  const mixem_family *f = mixem_model_family (m);
  const size_t K = mixem_model_k (m);
  const char *const *names = mixem_model_names (m);
  char *pkey = g_strconcat (prefix, "prob", NULL), *lkey = g_strconcat (prefix, "levels", NULL);
  const guint first = out->len;
  gboolean ok = TRUE;
  for (size_t k = 0; k < K && ok; k++) {
    GVariant *dict = g_variant_ref_sink (f->describe (mixem_model_params (m), k));
    GVariant *pv = lookup_unboxed (dict, pkey);
    ok = pv && g_variant_is_of_type (pv, G_VARIANT_TYPE ("aad")) && g_variant_n_children (pv) == nc;
    GVariant *lv = ok && k == 0 ? lookup_unboxed (dict, lkey) : NULL;
    for (size_t c = 0; ok && c < nc; c++) {
      GVariant *row = g_variant_get_child_value (pv, c);
      gsize L = 0;
      const double *x = g_variant_get_fixed_array (row, &L, sizeof (double));
      if (k == 0 && L > 0) {
        level_block *b = g_new0 (level_block, 1);
        b->name = g_strdup (names[cols[c]]);
        b->L = L;
        b->prob = g_new (double, K * L);
        b->levels = g_new0 (char *, L + 1);
        GVariant *named = lv && g_variant_is_of_type (lv, G_VARIANT_TYPE_VARDICT)
                            ? lookup_unboxed (lv, b->name) : NULL;
        if (named && g_variant_is_of_type (named, G_VARIANT_TYPE_VARDICT)) {
          GVariantIter it;
          const char *key;
          GVariant *val;
          g_variant_iter_init (&it, named);
          while (g_variant_iter_next (&it, "{&sv}", &key, &val)) {
            const double code = g_variant_is_of_type (val, G_VARIANT_TYPE_DOUBLE)
                                  ? g_variant_get_double (val) : -1;
            if (code >= 0 && code < (double) L && !b->levels[(size_t) code])
              b->levels[(size_t) code] = g_strdup (key);
            g_variant_unref (val);
          }
        }
        if (named)
          g_variant_unref (named);
        for (size_t l = 0; l < L; l++)      /* no name: the code the data use */
          if (!b->levels[l])
            b->levels[l] = g_strdup_printf ("%zu", l);
        g_ptr_array_add (out, b);
      }
      ok = first + c < out->len && ((level_block *) out->pdata[first + c])->L == L;
      if (ok)
        memcpy (((level_block *) out->pdata[first + c])->prob + k * L, x, L * sizeof (double));
      g_variant_unref (row);
    }
    if (!ok)
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: component %zu of the %s model has "
                   "no level probabilities '%s' for %zu columns", path, k + 1, f->name, pkey, nc);
    if (lv)
      g_variant_unref (lv);
    if (pv)
      g_variant_unref (pv);
    g_variant_unref (dict);
  }
  g_free (pkey);
  g_free (lkey);
  return ok;
}

/* The blocks of a categorical model, or of a product's categorical parts (found from its option
 * parts, FAMILY[(...)]:COLUMN,...;..., and the parameters PART.prob and PART.levels). */
static gboolean
level_blocks (const char *path, const mixem_model *m, GPtrArray *out, GError **error)
{
  const char *fam = mixem_model_family (m)->name;
  const size_t d = mixem_model_d (m);
  if (strcmp (fam, "categorical") == 0) {
    size_t *cols = g_new (size_t, d + 1);
    for (size_t j = 0; j < d; j++)
      cols[j] = j;
    gboolean ok = add_level_blocks (path, m, "", cols, d, out, error);
    g_free (cols);
    return ok;
  }
  const char *parts = strcmp (fam, "product") == 0
                        ? mixem_options_get (mixem_model_options (m), "parts") : NULL;
  char **texts = g_strsplit (parts ? parts : "", ";", -1);
  const char *const *names = mixem_model_names (m);
  gboolean ok = TRUE;
  size_t part = 0;
  for (size_t i = 0; ok && texts[i]; i++) {
    const char *t = g_strstrip (texts[i]), *colon = strrchr (t, ':');
    if (!*t)
      continue;
    part++;
    if (!colon)
      continue;
    char *head = g_strndup (t, (size_t) (colon - t)), *paren = strchr (head, '(');
    if (paren)
      *paren = '\0';
    if (strcmp (g_strstrip (head), "categorical") == 0) {
      char **cn = g_strsplit (colon + 1, ",", -1);
      const size_t nc = g_strv_length (cn);
      size_t *cols = g_new (size_t, nc + 1);
      for (size_t c = 0; ok && c < nc; c++) {   /* by name, else by 1-based number */
        const char *name = g_strstrip (cn[c]);
        size_t j = 0;
        while (j < d && strcmp (names[j], name) != 0)
          j++;
        if (j == d && *name && strspn (name, "0123456789") == strlen (name)) {
          const guint64 v = g_ascii_strtoull (name, NULL, 10);
          j = v >= 1 && v <= d ? (size_t) v - 1 : d;
        }
        cols[c] = j;
        if (j == d) {
          g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: part %zu of the product "
                       "names no column '%s' of the model", path, part, name);
          ok = FALSE;
        }
      }
      char *prefix = g_strdup_printf ("%zu.", part);
      ok = ok && add_level_blocks (path, m, prefix, cols, nc, out, error);
      g_free (prefix);
      g_free (cols);
      g_strfreev (cn);
    }
    g_free (head);
  }
  g_strfreev (texts);
  if (ok && out->len == 0) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION, "%s: a levels plot needs a categorical "
                 "model, or a product with a categorical part (this model's family is %s%s)",
                 path, fam, strcmp (fam, "product") == 0 ? ", with no categorical part" : "");
    ok = FALSE;
  }
  return ok;
}

/* Probability P as a colour from near white (0) to dark blue (1) (ColorBrewer's Blues): the
 * lightness falls steadily, so that the order reads in grey and to any colour vision. */
static void
heat_stops (double stops[5][3])
{
  static const int blues[5][3] = { { 247, 251, 255 }, { 198, 219, 239 }, { 107, 174, 214 },
                                   { 33, 113, 181 }, { 8, 48, 107 } };
  for (int s = 0; s < 5; s++)
    for (int i = 0; i < 3; i++)
      stops[s][i] = blues[s][i] / 255.0;
}

static void
heat_colour (cairo_t *cr, double p)
{
  double stops[5][3];
  heat_stops (stops);
  const double x = CLAMP (isfinite (p) ? p : 0, 0, 1) * 4;
  const int s = MIN (3, (int) x);
  const double t = x - s;
  cairo_set_source_rgb (cr, stops[s][0] + t * (stops[s + 1][0] - stops[s][0]),
                        stops[s][1] + t * (stops[s + 1][1] - stops[s][1]),
                        stops[s][2] + t * (stops[s + 1][2] - stops[s][2]));
}

gboolean
mixem_plot_levels (const char *path, const mixem_model *m, const mixem_plot_options *o,
                   GError **error)
{
  GPtrArray *blocks = g_ptr_array_new_with_free_func (level_block_free);
  gboolean ok = level_blocks (path, m, blocks, error);
  canvas c;
  if (ok)
    ok = canvas_open (&c, path, o, error);
  if (!ok) {
    g_ptr_array_unref (blocks);
    return FALSE;
  }
  cairo_t *cr = c.cr;
  const size_t K = mixem_model_k (m), D = blocks->len;
  const char *fam = mixem_model_family (m)->name;
  char *t = g_strdup_printf ("%s mixture, k = %zu: level probabilities%s", fam, K,
                             strcmp (fam, "categorical") ? " of its categorical parts" : "");
  title (&c, o && o->title ? o->title : t);
  g_free (t);
  /* Across: component labels, the cells (as wide as the column with most levels needs), the
   * colour bar.  Down: for each column its name, its level names and a row per component. */
  const double *w = mixem_model_weights (m);
  const double small = c.font * 0.85, pad = c.font * 0.5;
  char **rowlab = g_new0 (char *, K + 1);
  double lw = 0;
  size_t Lmax = 1;
  cairo_set_font_size (cr, small);
  for (size_t k = 0; k < K; k++) {
    cairo_text_extents_t e;
    rowlab[k] = g_strdup_printf ("%zu: weight %.3f", k + 1, w[k]);
    cairo_text_extents (cr, rowlab[k], &e);
    lw = MAX (lw, e.x_advance);
  }
  for (size_t b = 0; b < D; b++) {
    level_block *bl = blocks->pdata[b];
    Lmax = MAX (Lmax, bl->L);
    for (size_t l = 0; l < bl->L; l++) {
      cairo_text_extents_t e;
      cairo_text_extents (cr, bl->levels[l], &e);
      bl->labw = MAX (bl->labw, e.x_advance);
    }
  }
  /* The colour bar with its ticks and label takes 6.5 font sizes on the right; capped cells
   * leave room, and the whole is then centred across. */
  const double cw = MIN ((c.w - c.font * 6.5 - pad * 2 - lw) / (double) Lmax, c.font * 8);
  const double left = pad * 2 + lw
                      + MAX (0.0, (c.w - c.font * 6.5 - pad * 2 - lw - cw * (double) Lmax) / 2);
  /* A column's level names across when they fit, else turned a quarter (cut at 8 font sizes),
   * else (cells narrower than a line) none. */
  const double head = c.font * 1.4, gap = c.font * 0.8, top = c.font * 3.2;
  const double room = c.h - c.font * 1.2 - top;
  double fixed = (double) (D - 1) * gap;
  for (size_t b = 0; b < D; b++) {
    level_block *bl = blocks->pdata[b];
    bl->band = bl->labw <= cw - pad * 0.5 ? c.font * 1.3
               : cw >= small * 1.2 ? MIN (bl->labw, c.font * 8) + pad : 0;
    fixed += head + bl->band;
  }
  double ch = (room - fixed) / (double) (D * K);
  if (ch < 2 || cw < 2) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION, "%s: %zu columns (up to %zu levels) of "
                 "%zu components do not fit in %g by %g; give a larger picture", path, D, Lmax,
                 K, c.w, c.h);
    g_strfreev (rowlab);
    g_ptr_array_unref (blocks);
    canvas_close (&c, FALSE, NULL);
    return FALSE;
  }
  ch = MIN (ch, c.font * 3);
  const double used = fixed + ch * (double) (D * K);
  double y = top + (room - used) / 2;            /* centred below the title */
  double gtop = INFINITY, gbot = 0;
  cairo_font_extents_t fe;
  for (size_t b = 0; b < D; b++) {
    const level_block *bl = blocks->pdata[b];
    cairo_set_source_rgb (cr, 0, 0, 0);
    cairo_save (cr);
    cairo_set_font_size (cr, c.font);
    cairo_select_font_face (cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
    text_at (cr, left, y + head / 2, bl->name, 0, 0.5, 0);
    cairo_restore (cr);
    y += head;
    cairo_set_font_size (cr, small);
    if (bl->band > 0) {
      const gboolean turn = bl->labw > cw - pad * 0.5;
      cairo_save (cr);
      cairo_rectangle (cr, left, y, cw * (double) bl->L, bl->band);
      cairo_clip (cr);
      for (size_t l = 0; l < bl->L; l++) {
        const double x = left + cw * ((double) l + 0.5);
        if (turn)
          text_at (cr, x, y + bl->band - pad * 0.5, bl->levels[l], 0, 0.5, -G_PI / 2);
        else
          text_at (cr, x, y + bl->band / 2, bl->levels[l], 0.5, 0.5, 0);
      }
      cairo_restore (cr);
      y += bl->band;
    }
    gtop = MIN (gtop, y);
    /* The value in each cell where it fits, white on the darker cells. */
    cairo_text_extents_t e;
    cairo_set_font_size (cr, small * 0.95);
    cairo_text_extents (cr, "0.00", &e);
    cairo_font_extents (cr, &fe);
    const gboolean values = e.x_advance < cw - pad * 0.5 && fe.ascent + fe.descent < ch;
    for (size_t k = 0; k < K; k++) {
      const double y0 = y + ch * (double) k;
      for (size_t l = 0; l < bl->L; l++) {
        const double p = bl->prob[k * bl->L + l], x0 = left + cw * (double) l;
        heat_colour (cr, p);
        cairo_rectangle (cr, x0, y0, cw, ch);
        cairo_fill_preserve (cr);
        cairo_set_source_rgb (cr, 1, 1, 1);
        cairo_set_line_width (cr, MIN (1.0, cw / 8));
        cairo_stroke (cr);
        if (values) {
          char buf[16];
          g_snprintf (buf, sizeof buf, "%.2f", p);
          if (p > 0.6)
            cairo_set_source_rgb (cr, 1, 1, 1);
          else
            cairo_set_source_rgb (cr, 0, 0, 0);
          text_at (cr, x0 + cw / 2, y0 + ch / 2, buf, 0.5, 0.5, 0);
        }
      }
      cairo_set_source_rgb (cr, 0, 0, 0);
      cairo_set_font_size (cr, MIN (small, ch * 0.85));   /* rows lower than a line */
      text_at (cr, left - pad, y0 + ch / 2, rowlab[k], 1, 0.5, 0);
      cairo_set_font_size (cr, small * 0.95);
    }
    cairo_set_source_rgb (cr, 0.4, 0.4, 0.4);
    cairo_set_line_width (cr, 1);
    cairo_rectangle (cr, left, y, cw * (double) bl->L, ch * (double) K);
    cairo_stroke (cr);
    y += ch * (double) K + gap;
    gbot = y - gap;
  }
  /* The colour bar, 0 at the foot and 1 at the head, beside the cells. */
  if (gbot - gtop < c.font * 8) {
    const double mid = (gtop + gbot) / 2;
    gtop = MAX (top, mid - c.font * 4);
    gbot = MIN (c.h - c.font, mid + c.font * 4);
  }
  const double bx = left + cw * (double) Lmax + c.font * 1.2, bw = c.font * 1.1;
  double stops[5][3];
  heat_stops (stops);
  cairo_pattern_t *grad = cairo_pattern_create_linear (0, gbot, 0, gtop);
  for (int s = 0; s < 5; s++)
    cairo_pattern_add_color_stop_rgb (grad, s / 4.0, stops[s][0], stops[s][1], stops[s][2]);
  cairo_rectangle (cr, bx, gtop, bw, gbot - gtop);
  cairo_set_source (cr, grad);
  cairo_fill_preserve (cr);
  cairo_pattern_destroy (grad);
  cairo_set_source_rgb (cr, 0.4, 0.4, 0.4);
  cairo_set_line_width (cr, 1);
  cairo_stroke (cr);
  cairo_set_source_rgb (cr, 0, 0, 0);
  cairo_set_font_size (cr, small);
  for (int i = 0; i <= 4; i++) {
    const double v = i / 4.0, yy = gbot - v * (gbot - gtop);
    char buf[16];
    g_snprintf (buf, sizeof buf, "%.2g", v);
    cairo_move_to (cr, bx + bw, yy);
    cairo_line_to (cr, bx + bw + pad * 0.6, yy);
    cairo_stroke (cr);
    text_at (cr, bx + bw + pad, yy, buf, 0, 0.5, 0);
  }
  text_at (cr, bx + c.font * 5.2, (gtop + gbot) / 2, "probability", 0.5, 1, -G_PI / 2);
  g_strfreev (rowlab);
  g_ptr_array_unref (blocks);
  return canvas_close (&c, TRUE, error);
}

/* ---- binomial ----------------------------------------------------------------------------- */

gboolean
mixem_plot_binomial (const char *path, const mixem_model *m, const mixem_dataset *data,
                     const mixem_plot_options *o, GError **error)
{
  if (strcmp (mixem_model_family (m)->name, "binomial") != 0) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION, "%s: a binomial model is needed (got %s)",
                 path, mixem_model_family (m)->name);
    return FALSE;
  }
  if (!check_columns (path, m, data, error))
    return FALSE;
  /* The data as fit and predict take them: the family's own checks (whole counts, s <= n). */
  if (!mixem_check_data (mixem_model_family (m), mixem_model_params (m), mixem_model_d (m), data,
                         error))
    return FALSE;
  /* Which column holds the trials, as the family decides: the "trials" option names one. */
  const char *trials = mixem_options_get (mixem_model_options (m), "trials");
  const char *const *names = mixem_model_names (m);
  int ncol = -1;
  double nconst = 0;
  for (size_t j = 0; trials && j < mixem_model_d (m); j++)
    if (strcmp (names[j], trials) == 0)
      ncol = (int) j;
  if (ncol < 0)
    nconst = trials ? g_ascii_strtod (trials, NULL) : 0;
  const size_t scol = ncol == 0 ? 1 : 0, n = mixem_dataset_rows (data), K = mixem_model_k (m);
  /* Bins: one per possible count when every row has the same (small) number of trials. */
  double nmax = 0;
  gboolean same = TRUE;
  for (size_t i = 0; i < n; i++) {
    const double ni = ncol >= 0 ? mixem_dataset_value (data, i, (size_t) ncol) : nconst;
    same = same && (i == 0 || ni == nmax);
    nmax = MAX (nmax, ni);
  }
  if (!(nmax >= 1)) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: no row has a trial", path);
    return FALSE;
  }
  const size_t B = same && nmax <= 60 ? (size_t) nmax + 1 : 20;
  const double bw = same && nmax <= 60 ? 1.0 / nmax : 1.0 / (double) B;
  double *obs = g_new0 (double, B), *pred = g_new0 (double, (K + 1) * B);
  const double *w = mixem_model_weights (m);
  double *p = g_new (double, K);
  for (size_t k = 0; k < K; k++) {
    GVariant *dict = mixem_model_family (m)->describe (mixem_model_params (m), k);
    if (!g_variant_lookup (dict, "p", "d", &p[k]))
      p[k] = NAN;
    g_variant_unref (dict);
  }
  /* Expected counts per bin: each row's binomial pmf under each component, binned by s/n. */
  for (size_t i = 0; i < n; i++) {
    const double ni = ncol >= 0 ? mixem_dataset_value (data, i, (size_t) ncol) : nconst;
    if (!(ni >= 1))
      continue;
    const double rate = mixem_dataset_value (data, i, scol) / ni;
    size_t b = B == (size_t) nmax + 1 && same ? (size_t) llround (rate * nmax)
                                              : MIN (B - 1, (size_t) (rate * (double) B));
    obs[MIN (b, B - 1)] += 1;
    const unsigned nn = (unsigned) ni;
    for (unsigned s = 0; s <= nn; s++) {
      const double r = s / ni;
      size_t bb = same && B == (size_t) nmax + 1 ? s : MIN (B - 1, (size_t) (r * (double) B));
      for (size_t k = 0; k < K; k++) {
        const double v = w[k] * gsl_ran_binomial_pdf (s, p[k], nn);
        pred[k * B + bb] += v;
        pred[K * B + bb] += v;
      }
    }
  }
  canvas c;
  gboolean ok = canvas_open (&c, path, o, error);
  if (ok) {
    title (&c, o && o->title ? o->title : "Binomial mixture: success rates and the fit");
    panel a = { c.font * 7, c.font * 3.2, c.w - c.font * 1.5, c.h - c.font * 3.6, 0, 1, 0, 0,
                FALSE };
    const double half = same && B == (size_t) nmax + 1 ? bw / 2 : 0;
    a.xmin = -half - 0.02;
    a.xmax = 1 + half + 0.02;
    for (size_t b = 0; b < B; b++)
      a.ymax = MAX (a.ymax, MAX (obs[b], pred[K * B + b]));
    a.ymax *= 1.1;
    if (!(a.ymax > 0))
      a.ymax = 1;
    draw_axes (&c, &a, "success rate s / n", "rows", FALSE);
    clip_to (c.cr, &a);
    for (size_t b = 0; b < B; b++) {      /* the data: grey bars */
      const double x0 = same && B == (size_t) nmax + 1 ? (double) b * bw - half : (double) b * bw;
      cairo_rectangle (c.cr, px (&a, x0 + bw * 0.04), py (&a, obs[b]),
                       px (&a, x0 + bw * 0.96) - px (&a, x0 + bw * 0.04),
                       py (&a, 0) - py (&a, obs[b]));
    }
    cairo_set_source_rgb (c.cr, 0.75, 0.75, 0.75);
    cairo_fill (c.cr);
    for (size_t k = 0; k <= K; k++) {     /* components, then the mixture in black */
      for (size_t b = 0; b < B; b++) {
        const double x = same && B == (size_t) nmax + 1 ? (double) b * bw : ((double) b + 0.5) * bw;
        if (b == 0)
          cairo_move_to (c.cr, px (&a, x), py (&a, pred[k * B + b]));
        else
          cairo_line_to (c.cr, px (&a, x), py (&a, pred[k * B + b]));
      }
      set_colour (c.cr, k == K ? 7 : k, 1);
      cairo_set_line_width (c.cr, k == K ? 2.5 : 2);
      cairo_stroke (c.cr);
    }
    cairo_restore (c.cr);
    char **labels = g_new0 (char *, K + 2);
    int *cols = g_new (int, K + 1);
    for (size_t k = 0; k < K; k++) {
      labels[k] = g_strdup_printf ("component %zu: p = %.3f, weight %.3f", k + 1, p[k], w[k]);
      cols[k] = (int) k;
    }
    labels[K] = g_strdup ("mixture (expected rows)");
    cols[K] = 7;
    legend (&c, &a, labels, cols, NULL, K + 1, TOP_LEFT);
    g_strfreev (labels);
    g_free (cols);
    ok = canvas_close (&c, TRUE, error);
  }
  g_free (obs);
  g_free (pred);
  g_free (p);
  return ok;
}

/* ---- density ------------------------------------------------------------------------------ */

gboolean
mixem_plot_density (const char *path, const mixem_model *m, const mixem_dataset *data,
                    const mixem_plot_options *o, GError **error)
{
  const mixem_family *f = mixem_model_family (m);
  const mixem_params *params = mixem_model_params (m);
  if (mixem_model_d (m) != 1) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: a density plot needs a model of one "
                 "column (this %s model has %zu)", path, f->name, mixem_model_d (m));
    return FALSE;
  }
  if (!check_columns (path, m, data, error) || !mixem_check_data (f, params, 1, data, error))
    return FALSE;
  const size_t n = mixem_dataset_rows (data), K = mixem_model_k (m);
  if (n == 0) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: no rows to draw", path);
    return FALSE;
  }
  double lo = INFINITY, hi = -INFINITY;
  for (size_t i = 0; i < n; i++) {
    lo = MIN (lo, mixem_dataset_value (data, i, 0));
    hi = MAX (hi, mixem_dataset_value (data, i, 0));
  }
  if (!(hi > lo)) {
    lo -= 0.5;
    hi += 0.5;
  }
  /* About sqrt(N) bins, the histogram scaled to a density so that the curves lie on it. */
  const size_t B = CLAMP ((size_t) llround (sqrt ((double) n)), (size_t) 5, (size_t) 60);
  const double bw = (hi - lo) / (double) B;
  double *hist = g_new0 (double, B);
  for (size_t i = 0; i < n; i++) {
    const double v = mixem_dataset_value (data, i, 0);
    hist[MIN (B - 1, (size_t) ((v - lo) / bw))] += 1.0 / ((double) n * bw);
  }
  /* w_k p(x | k) on a grid, from the family's own log_density; points the family refuses (zero
   * for the gamma family, fractions for counts) are left out of the curves. */
  enum { G = 400 };
  double *gx = g_new (double, G), *dens = g_new (double, G * K), *curve = g_new (double, G * (K + 1));
  gboolean *use = g_new0 (gboolean, G);
  size_t ng = 0;
  for (size_t g = 0; g < G; g++) {
    const double x = lo + (hi - lo) * (double) g / (G - 1);
    const mixem_block one = { 1, 1, 0, &x, NULL, NULL, NULL, NULL };
    use[g] = !f->check_data || f->check_data (params, &one, NULL);
    if (use[g])
      gx[ng++] = x;
  }
  if (ng > 0) {
    const mixem_block b = { ng, 1, 0, gx, NULL, NULL, NULL, NULL };
    f->log_density (params, &b, dens);
  }
  if (f->take_error)
    f->take_error (params, NULL);
  const double *w = mixem_model_weights (m);
  double top = 0, cmax = 0, nw = 0, nlv = 0;
  /* A noise component adds its constant density pi_0 / V to the mixture. */
  const gboolean noisy = mixem_model_noise (m, &nw, &nlv);
  for (size_t b = 0; b < B; b++)
    top = MAX (top, hist[b]);
  for (size_t g = 0, u = 0; g < G; g++) {
    double sum = noisy ? nw * exp (-nlv) : 0;
    for (size_t k = 0; k < K; k++) {
      const double v = use[g] ? w[k] * exp (dens[u * K + k]) : NAN;
      curve[k * G + g] = v;
      sum += v;
    }
    curve[K * G + g] = sum;
    if (use[g]) {
      cmax = MAX (cmax, isfinite (sum) ? sum : 0);
      u++;
    }
  }
  canvas c;
  gboolean ok = canvas_open (&c, path, o, error);
  if (ok) {
    char *t = g_strdup_printf ("%s mixture, k = %zu: histogram and fitted densities", f->name, K);
    title (&c, o && o->title ? o->title : t);
    g_free (t);
    panel a = { c.font * 7, c.font * 3.2, c.w - c.font * 1.5, c.h - c.font * 3.6, lo, hi, 0, 0,
                FALSE };
    pad_range (&a.xmin, &a.xmax, 0.03);
    /* A density that is unbounded (a gamma shape below 1 at 0) would flatten the rest. */
    a.ymax = 1.1 * MAX (top, MIN (cmax, 3 * top));
    if (!(a.ymax > 0))
      a.ymax = 1;
    draw_axes (&c, &a, mixem_model_names (m)[0], "density", FALSE);
    clip_to (c.cr, &a);
    for (size_t b = 0; b < B; b++) {      /* the data: grey bars */
      const double x0 = lo + (double) b * bw;
      cairo_rectangle (c.cr, px (&a, x0), py (&a, hist[b]), px (&a, x0 + bw) - px (&a, x0),
                       py (&a, 0) - py (&a, hist[b]));
    }
    cairo_set_source_rgb (c.cr, 0.78, 0.78, 0.78);
    cairo_fill_preserve (c.cr);
    cairo_set_source_rgb (c.cr, 1, 1, 1);
    cairo_set_line_width (c.cr, 0.8);
    cairo_stroke (c.cr);
    for (size_t k = 0; k <= K; k++) {     /* components, then the mixture in black */
      gboolean pen = FALSE;
      for (size_t g = 0; g < G; g++) {
        const double v = curve[k * G + g], x = lo + (hi - lo) * (double) g / (G - 1);
        if (!isfinite (v)) {
          pen = FALSE;
          continue;
        }
        const double y = py (&a, MIN (v, a.ymax * 2));
        if (pen)
          cairo_line_to (c.cr, px (&a, x), y);
        else
          cairo_move_to (c.cr, px (&a, x), y);
        pen = TRUE;
      }
      set_colour (c.cr, k == K ? 7 : k, 1);
      cairo_set_line_width (c.cr, k == K ? 2.5 : 2);
      cairo_stroke (c.cr);
    }
    cairo_restore (c.cr);
    char **labels = g_new0 (char *, K + 2);
    int *cols = g_new (int, K + 1);
    for (size_t k = 0; k < K; k++) {
      labels[k] = g_strdup_printf ("component %zu: weight %.3f", k + 1, w[k]);
      cols[k] = (int) k;
    }
    labels[K] = noisy ? g_strdup_printf ("mixture (with noise: weight %.3f)", nw)
                      : g_strdup ("mixture");
    cols[K] = 7;
    legend (&c, &a, labels, cols, NULL, K + 1, TOP_RIGHT);
    g_strfreev (labels);
    g_free (cols);
    ok = canvas_close (&c, TRUE, error);
  }
  g_free (hist);
  g_free (gx);
  g_free (dens);
  g_free (curve);
  g_free (use);
  return ok;
}

/* ---- regression ---------------------------------------------------------------------------- */

typedef struct { double x; size_t i; } x_row;

static int
x_row_cmp (const void *a, const void *b)
{
  const x_row *u = a, *v = b;
  return u->x < v->x ? -1 : u->x > v->x ? 1 : (u->i > v->i) - (u->i < v->i);
}

gboolean
mixem_plot_regression (const char *path, const mixem_model *m, const mixem_dataset *data,
                       const mixem_plot_options *o, GError **error)
{
  const mixem_family *f = mixem_model_family (m);
  const int model = strcmp (f->name, "linreg") == 0 ? 0 : strcmp (f->name, "poisreg") == 0 ? 1
                    : strcmp (f->name, "logitreg") == 0 ? 2 : strcmp (f->name, "gammareg") == 0 ? 3
                    : -1;
  if (model < 0) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: a regression plot needs a linreg, "
                 "poisreg, logitreg or gammareg model (this one is %s)", path, f->name);
    return FALSE;
  }
  if (!check_columns (path, m, data, error))
    return FALSE;
  const mixem_options *opts = mixem_model_options (m);
  const char *response = mixem_options_get (opts, "response");
  const char *covs = mixem_options_get (opts, "covariates");
  char **cv = g_strsplit_set (covs ? covs : "", ",+", -1);
  int xc = -1, yc = response ? mixem_dataset_find_column (data, response) : -1;
  for (char **c = cv; *c && xc < 0; c++)
    if (*g_strstrip (*c))
      xc = mixem_dataset_find_column (data, *c);
  g_strfreev (cv);
  if (yc < 0 || xc < 0) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: a regression plot needs the model's "
                 "response and at least one covariate among the data's columns", path);
    return FALSE;
  }
  const size_t n = mixem_dataset_rows (data), K = mixem_model_k (m);
  if (n == 0) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: no rows to draw", path);
    return FALSE;
  }
  /* Each component's fitted mean at every row, joined in the order of x: a curve when the other
   * covariates are functions of x (polynomial terms). */
  if (mixem_model_noise (m, NULL, NULL)) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                 "%s: this plot does not show a model with a noise component", path);
    return FALSE;
  }
  size_t *lab = g_new (size_t, n);
  double *xs = g_new (double, n), *fit = g_new (double, n * K);
  x_row *order = g_new (x_row, n);
  gboolean ok = mixem_model_fitted_means (m, data, fit, error)
                && mixem_model_predict (m, data, lab, error);
  if (!ok)
    g_prefix_error (error, "%s: ", path);
  double ylo = INFINITY, yhi = -INFINITY;
  for (size_t i = 0; i < n; i++) {
    xs[i] = mixem_dataset_value (data, i, (size_t) xc);
    order[i] = (x_row) { xs[i], i };
    ylo = MIN (ylo, mixem_dataset_value (data, i, (size_t) yc));
    yhi = MAX (yhi, mixem_dataset_value (data, i, (size_t) yc));
  }
  qsort (order, n, sizeof (x_row), x_row_cmp);
  canvas c;
  if (ok && (ok = canvas_open (&c, path, o, error))) {
    char *t = g_strdup_printf ("%s mixture, k = %zu: %s against %s, each component's fit",
                               f->name, K, response, mixem_model_names (m)[xc]);
    title (&c, o && o->title ? o->title : t);
    g_free (t);
    panel a = { c.font * 7, c.font * 3.2, c.w - c.font * 1.5, c.h - c.font * 3.6, 0, 0, ylo, yhi,
                FALSE };
    column_range (data, (size_t) xc, &a.xmin, &a.xmax);
    pad_range (&a.ymin, &a.ymax, 0.06);
    draw_axes (&c, &a, mixem_model_names (m)[xc], response, FALSE);
    const double dot = MAX (1.5, MIN (c.w, c.h) / 300.0) * 1.3;
    clip_to (c.cr, &a);
    for (size_t k = 0; k < K; k++) {      /* the rows, coloured by their most probable component */
      set_colour (c.cr, k, 0.6);
      for (size_t i = 0; i < n; i++)
        if (lab[i] == k)
          marker (c.cr, px (&a, xs[i]), py (&a, mixem_dataset_value (data, i, (size_t) yc)), dot);
      cairo_fill (c.cr);
    }
    for (size_t k = 0; k < K; k++) {      /* each component's fitted means */
      for (size_t r = 0; r < n; r++) {
        const size_t i = order[r].i;
        const double y = py (&a, CLAMP (fit[i * K + k], a.ymin - 10 * (a.ymax - a.ymin),
                                        a.ymax + 10 * (a.ymax - a.ymin)));
        if (r == 0)
          cairo_move_to (c.cr, px (&a, xs[i]), y);
        else
          cairo_line_to (c.cr, px (&a, xs[i]), y);
      }
      set_colour (c.cr, k, 1);
      cairo_set_line_width (c.cr, 2.5);
      cairo_stroke (c.cr);
    }
    cairo_restore (c.cr);
    char **labels = g_new0 (char *, K + 1);
    int *lc = g_new (int, K);
    const double *w = mixem_model_weights (m);
    for (size_t k = 0; k < K; k++) {
      labels[k] = g_strdup_printf ("component %zu: weight %.3f", k + 1, w[k]);
      lc[k] = (int) k;
    }
    legend (&c, &a, labels, lc, NULL, K, TOP_RIGHT);
    g_strfreev (labels);
    g_free (lc);
    ok = canvas_close (&c, TRUE, error);
  }
  g_free (xs);
  g_free (fit);
  g_free (order);
  g_free (lab);
  return ok;
}

/* ---- select ------------------------------------------------------------------------------- */

static char *
options_label (const mixem_options *opts)
{
  GString *s = g_string_new (NULL);
  for (size_t j = 0; j < mixem_options_size (opts); j++) {
    const char *key = mixem_options_key (opts, j);
    g_string_append_printf (s, "%s%s=%s", j ? ", " : "", key, mixem_options_get (opts, key));
  }
  return g_string_free (s, FALSE);
}

static double
criterion_value (const mixem_candidate *c, mixem_criterion crit)
{
  switch (crit) {
  case MIXEM_AIC: return c->aic;
  case MIXEM_ICL: return c->icl;
  case MIXEM_HELDOUT: return c->heldout;
  default: return c->bic;
  }
}

gboolean
mixem_plot_select (const char *path, const mixem_candidate *cands, size_t n, size_t best,
                   mixem_criterion crit, const mixem_plot_options *o, GError **error)
{
  if (n == 0 || best >= n) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: no candidates to draw", path);
    return FALSE;
  }
  if (cands[best].failure) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: the chosen candidate (k = %zu) is one "
                 "whose fit failed", path, cands[best].k);
    return FALSE;
  }
  /* Lines: one per distinct option set, in order of first appearance. */
  GPtrArray *sets = g_ptr_array_new_with_free_func (g_free);
  size_t *line = g_new (size_t, n);
  panel a = { 0, 0, 0, 0, INFINITY, -INFINITY, INFINITY, -INFINITY, FALSE };
  for (size_t i = 0; i < n; i++) {
    char *lab = options_label (cands[i].options);
    guint idx;
    if (!g_ptr_array_find_with_equal_func (sets, lab, g_str_equal, &idx)) {
      g_ptr_array_add (sets, lab);
      idx = sets->len - 1;
    } else
      g_free (lab);
    line[i] = idx;
    const double v = criterion_value (&cands[i], crit);
    a.xmin = MIN (a.xmin, (double) cands[i].k);
    a.xmax = MAX (a.xmax, (double) cands[i].k);
    if (isfinite (v)) {
      a.ymin = MIN (a.ymin, v);
      a.ymax = MAX (a.ymax, v);
    }
  }
  canvas c;
  gboolean ok = isfinite (a.ymin);
  if (!ok)
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: no candidate has a %s score", path,
                 mixem_criterion_name (crit));
  if (ok)
    ok = canvas_open (&c, path, o, error);
  if (ok) {
    const char *name = mixem_criterion_name (crit);
    char *t = g_strdup_printf ("Model selection by %s (%s is better)",
                               crit == MIXEM_HELDOUT ? "held-out log-likelihood" : name,
                               crit == MIXEM_HELDOUT ? "higher" : "lower");
    title (&c, o && o->title ? o->title : t);
    g_free (t);
    a.x0 = c.font * 7;
    a.y0 = c.font * 3.2;
    a.x1 = c.w - c.font * 1.5;
    a.y1 = c.h - c.font * 3.6;
    pad_range (&a.xmin, &a.xmax, 0.05);
    pad_range (&a.ymin, &a.ymax, 0.08);
    char *upper = g_ascii_strup (name, -1);
    draw_axes (&c, &a, "k (components)", crit == MIXEM_HELDOUT ? "held-out log-likelihood per row"
                                                               : upper, TRUE);
    g_free (upper);
    clip_to (c.cr, &a);
    for (guint s = 0; s < sets->len; s++) {
      gboolean pen = FALSE;
      for (size_t i = 0; i < n; i++) {
        const double v = criterion_value (&cands[i], crit);
        if (line[i] != s || !isfinite (v))
          continue;
        const double x = px (&a, (double) cands[i].k), y = py (&a, v);
        if (pen)
          cairo_line_to (c.cr, x, y);
        else
          cairo_move_to (c.cr, x, y);
        pen = TRUE;
      }
      set_colour (c.cr, s, 1);
      cairo_set_line_width (c.cr, 2);
      /* The palette has eight colours: the lines after them are dashed (mclust's 14 models). */
      const double dash[] = { 6, 3 };
      cairo_set_dash (c.cr, dash, s >= 8 ? 2 : 0, 0);
      cairo_stroke (c.cr);
      cairo_set_dash (c.cr, NULL, 0, 0);
      for (size_t i = 0; i < n; i++) {
        const double v = criterion_value (&cands[i], crit);
        if (line[i] == s && isfinite (v))
          marker (c.cr, px (&a, (double) cands[i].k), py (&a, v), 3.5);
      }
      cairo_fill (c.cr);
      /* A failed candidate: a cross in its line's colour along the foot of the panel. */
      for (size_t i = 0; i < n; i++)
        if (line[i] == s && cands[i].failure) {
          const double x = px (&a, (double) cands[i].k), y = a.y1 - c.font * (0.8 + 0.9 * s);
          cairo_move_to (c.cr, x - 4, y - 4);
          cairo_line_to (c.cr, x + 4, y + 4);
          cairo_move_to (c.cr, x - 4, y + 4);
          cairo_line_to (c.cr, x + 4, y - 4);
          cairo_stroke (c.cr);
        }
    }
    size_t n_failed = 0;
    for (size_t i = 0; i < n; i++)
      n_failed += cands[i].failure != NULL;
    if (n_failed) {
      cairo_set_source_rgb (c.cr, 0.3, 0.3, 0.3);
      char note[64];
      g_snprintf (note, sizeof note, "\xc3\x97 fit failed (%zu)", n_failed);
      text_at (c.cr, a.x0 + c.font * 0.5, a.y1 - c.font * 0.4, note, 0, 1, 0);
    }
    /* The chosen candidate: a ring and its K. */
    const double bx = px (&a, (double) cands[best].k);
    const double by = py (&a, criterion_value (&cands[best], crit));
    cairo_set_source_rgb (c.cr, 0, 0, 0);
    cairo_set_line_width (c.cr, 2);
    marker (c.cr, bx, by, 9);
    cairo_stroke (c.cr);
    char buf[48];
    g_snprintf (buf, sizeof buf, "chosen: k = %zu", cands[best].k);
    /* Beside the ring, on the side with room (the largest K is at the right edge). */
    const gboolean left_side = bx > (a.x0 + a.x1) / 2;
    text_at (c.cr, left_side ? bx - 12 : bx + 12, by + (crit == MIXEM_HELDOUT ? 12 : -12), buf,
             left_side ? 1 : 0, crit == MIXEM_HELDOUT ? 0 : 1, 0);
    cairo_restore (c.cr);
    char **labels = g_new0 (char *, sets->len + 1);
    int *cols = g_new (int, sets->len), *dashed = g_new (int, sets->len);
    for (guint s = 0; s < sets->len; s++) {
      const char *l = g_ptr_array_index (sets, s);
      labels[s] = g_strdup (*l ? l : "(default options)");
      cols[s] = (int) s;
      dashed[s] = s >= 8;
    }
    legend (&c, &a, labels, cols, dashed, sets->len, crit != MIXEM_HELDOUT ? TOP_RIGHT
                                                                           : BOTTOM_RIGHT);
    g_strfreev (labels);
    g_free (cols);
    g_free (dashed);
    ok = canvas_close (&c, TRUE, error);
  }
  g_free (line);
  g_ptr_array_unref (sets);
  return ok;
}

/* ---- lines ---------------------------------------------------------------------------------- */

gboolean
mixem_plot_lines (const char *path, const double *const *x, const double *const *y,
                  const size_t *lens, const char *const *labels, size_t m, const char *xlabel,
                  const char *ylabel, const mixem_plot_options *o, GError **error)
{
  panel a = { 0, 0, 0, 0, INFINITY, -INFINITY, INFINITY, -INFINITY, FALSE };
  for (size_t s = 0; s < m; s++)
    for (size_t i = 0; i < lens[s]; i++)
      if (isfinite (x[s][i]) && isfinite (y[s][i])) {
        a.xmin = MIN (a.xmin, x[s][i]);
        a.xmax = MAX (a.xmax, x[s][i]);
        a.ymin = MIN (a.ymin, y[s][i]);
        a.ymax = MAX (a.ymax, y[s][i]);
      }
  if (!isfinite (a.xmin)) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: no finite point to draw", path);
    return FALSE;
  }
  canvas c;
  if (!canvas_open (&c, path, o, error))
    return FALSE;
  if (o && o->title)
    title (&c, o->title);
  a.x0 = c.font * 7;
  a.y0 = c.font * (o && o->title ? 3.2 : 1.5);
  a.x1 = c.w - c.font * 1.5;
  a.y1 = c.h - c.font * 3.6;
  pad_range (&a.xmin, &a.xmax, 0.05);
  pad_range (&a.ymin, &a.ymax, 0.08);
  draw_axes (&c, &a, xlabel ? xlabel : "x", ylabel ? ylabel : "y", FALSE);
  clip_to (c.cr, &a);
  /* A line through each series' finite points in their order, a dot at each; a point that is not
   * finite (a method that could not run there) breaks the line. */
  for (size_t s = 0; s < m; s++) {
    gboolean pen = FALSE;
    for (size_t i = 0; i < lens[s]; i++) {
      if (!isfinite (x[s][i]) || !isfinite (y[s][i])) {
        pen = FALSE;
        continue;
      }
      if (pen)
        cairo_line_to (c.cr, px (&a, x[s][i]), py (&a, y[s][i]));
      else
        cairo_move_to (c.cr, px (&a, x[s][i]), py (&a, y[s][i]));
      pen = TRUE;
    }
    set_colour (c.cr, (int) s, 1);
    cairo_set_line_width (c.cr, 2);
    const double dash[] = { 6, 3 };
    cairo_set_dash (c.cr, dash, s >= 8 ? 2 : 0, 0);
    cairo_stroke (c.cr);
    cairo_set_dash (c.cr, NULL, 0, 0);
    for (size_t i = 0; i < lens[s]; i++)
      if (isfinite (x[s][i]) && isfinite (y[s][i]))
        marker (c.cr, px (&a, x[s][i]), py (&a, y[s][i]), 3.5);
    cairo_fill (c.cr);
  }
  cairo_restore (c.cr);
  if (labels) {
    char **lab = g_new0 (char *, m + 1);
    int *cols = g_new (int, m), *dashed = g_new (int, m);
    for (size_t s = 0; s < m; s++) {
      lab[s] = g_strdup (labels[s] ? labels[s] : "");
      cols[s] = (int) s;
      dashed[s] = s >= 8;
    }
    legend (&c, &a, lab, cols, dashed, m, TOP_RIGHT);
    g_strfreev (lab);
    g_free (cols);
    g_free (dashed);
  }
  return canvas_close (&c, TRUE, error);
}
