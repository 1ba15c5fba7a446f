/* vexp.h: exp for x <= 0 written so that a compiler can vectorise a loop over it (libm's exp is
 * a call per element).  Used by the E-step, whose responsibilities are exp(a_k - max_k a_k).
 *
 * exp(x) = 2^n exp(r), n = round(x / ln 2), r = x - n ln 2 in [-ln2/2, ln2/2] (ln 2 in two parts,
 * Cody and Waite), exp(r) by its Taylor polynomial of degree 13 (truncation below 1e-17), 2^n
 * put straight into the exponent bits.  The error is a few units in the last place.  Results
 * that would be subnormal (x < -708.39) are returned as 0: the E-step adds them to a sum that is
 * at least 1, where they cannot count; so is NaN (a component with no density there). */
#ifndef MIXEM_VEXP_H
#define MIXEM_VEXP_H

#include <stdint.h>
#include <string.h>

static inline double
mixem_exp_nonpos (double x)
{
  const double log2e = 1.4426950408889634, shift = 0x1.8p52;
  const double ln2_hi = 0x1.62e42fefa3800p-1, ln2_lo = 0x1.ef35793c76730p-45;
  const double kd = x * log2e + shift;   /* n in the low bits of kd, rounded to nearest */
  const double n = kd - shift;
  const double r = (x - n * ln2_hi) - n * ln2_lo;
  double p = 1.0 / 6227020800.0;
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  uint64_t bits;
  memcpy (&bits, &kd, sizeof bits);
  bits = (bits + 1023) << 52;            /* 2^n for n in [-1022, 0] */
  double scale;
  memcpy (&scale, &bits, sizeof scale);
  /* A quiet comparison (no trap on NaN), so that the select vectorises; NaN gives 0 too. */
  return __builtin_isgreaterequal (x, -708.39) ? p * scale : 0.0;
}

#endif
