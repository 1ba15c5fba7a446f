/* gamma_shape.h: the gamma shape's maximum-likelihood equation, log a - psi(a) = s, solved by
 * Newton's method from Minka's approximation (the method is described at the head of
 * families/gamma.c), for the families that fit a gamma shape: gamma and gammareg (regression.c).
 * Static functions: each family module includes it and keeps its own copy (unused ones
 * are no warning: regression.c builds four families, one of which uses them). */
#ifndef MIXEM_GAMMA_SHAPE_H
#define MIXEM_GAMMA_SHAPE_H

#include <float.h>
#include <math.h>
#include <glib.h>
#include <gsl/gsl_sf_psi.h>

#define SHAPE_ITER 100

/* log a - psi(a), and its derivative 1/a - psi_1(a).  For a >= 100 from the asymptotic series
 * log a - psi(a) = 1/(2a) + sum_n B_2n / (2n a^2n) (Abramowitz and Stegun 6.3.18), to a^-8: the
 * first term left out, 1/(132 a^10), is below 1e-20 of the value there. */
static G_GNUC_UNUSED double
shape_fn (double a)
{
  if (a >= 100.0) {
    const double z = 1.0 / (a * a);
    return 0.5 / a + z * (1.0 / 12 - z * (1.0 / 120 - z * (1.0 / 252 - z * (1.0 / 240))));
  }
  return log (a) - gsl_sf_psi (a);
}

static G_GNUC_UNUSED double
shape_deriv (double a)
{
  if (a >= 100.0) {
    const double z = 1.0 / (a * a);
    return -z * (0.5 + (1.0 / a) * (1.0 / 6 - z * (1.0 / 30 - z * (1.0 / 42 - z * (1.0 / 30)))));
  }
  return 1.0 / a - gsl_sf_psi_1 (a);
}

/* The root of log a - psi(a) = S, capped at MAX_SHAPE (see the header). */
static G_GNUC_UNUSED double
solve_shape (double s, double max_shape)
{
  if (!(s > 0.0) || shape_fn (max_shape) >= s)
    return max_shape;
  double a = (3.0 - s + sqrt ((s - 3.0) * (s - 3.0) + 24.0 * s)) / (12.0 * s);
  a = MIN (a, max_shape);
  for (int it = 0; it < SHAPE_ITER; it++) {
    const double f = shape_fn (a) - s;
    double next = a - f / shape_deriv (a);
    if (!(next > 0.0))
      next = 0.5 * a;            /* the safeguard: an overshoot past 0 */
    next = MIN (next, max_shape);
    const double step = fabs (next - a);
    a = next;
    if (step <= 4.0 * DBL_EPSILON * a)
      break;
  }
  return a;
}

#endif
