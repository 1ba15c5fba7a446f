/* pass.c: the E-step as a pass over row blocks.  Blocks have a fixed size and are reduced in a
 * fixed order (slots of a wave, summed serially), so OpenMP threads change the speed but never a
 * bit of the result.  Nothing of size N*K is held unless the caller asks for it. */
#include <config.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "comm.h"
#include "engine.h"
#include "vexp.h"

#define WAVE_BLOCKS MIXEM_WAVE_BLOCKS

static int
thread_count (int requested)
{
#ifdef _OPENMP
  return requested > 0 ? requested : omp_get_max_threads ();
#else
  (void) requested;
  return 1;
#endif
}

void
mixem_pass_init (mixem_pass *ps, const mixem_family *f, const mixem_dataset *data, size_t k,
                 size_t fam_ss, size_t block, int threads)
{
  memset (ps, 0, sizeof *ps);
  ps->family = f;
  ps->data = data;
  ps->n = mixem_dataset_rows (data);
  ps->d = mixem_dataset_cols (data);
  ps->k = k;
  ps->beta = 1.0;
  ps->lo = 0;
  ps->hi = mixem_dataset_all_rows (data);
  ps->row0 = mixem_dataset_first_row (data);
  /* More rows a block than the data has changes nothing (one block either way), and a block
   * size from input (1 << 60) must not size the scratch buffers. */
  ps->block = block > 0 ? block : 256;
  /* A part was cut at chunks of the tree: every pass over it takes the block it was read with. */
  if (mixem_dataset_is_part (data))
    ps->block = mixem_dataset_part_grain (data) / WAVE_BLOCKS;
  /* (All the parts' rows: the block, and so the reduction tree, is the same on every rank.) */
  const size_t all = mixem_dataset_all_rows (data);
  if (ps->block > all)
    ps->block = all > 0 ? all : 1;
  size_t nblocks = (ps->n + ps->block - 1) / ps->block;
  ps->wave = nblocks < WAVE_BLOCKS ? (nblocks > 0 ? nblocks : 1) : WAVE_BLOCKS;
  /* A serial family (a Lua one) runs on one thread: same blocks, same order, same bits. */
  ps->threads = f->flags & MIXEM_FAMILY_SERIAL ? 1 : thread_count (threads);
  ps->fam_ss = fam_ss;
  ps->ss = k + 2 + fam_ss;
  ps->slots = g_new (double, ps->wave * ps->ss);
  ps->scratch = g_new (double, (size_t) ps->threads * (2 * ps->block * k + 4 * ps->block + k));
  ps->bad_row = g_new (size_t, ps->wave);
  ps->cross_slots = g_new0 (double, ps->wave);
  if (strcmp (mixem_dataset_storage (data), "uint8") == 0)
    ps->xbuf = g_new (double, (size_t) ps->threads * ps->block * (ps->d > 0 ? ps->d : 1));
  if (mixem_dataset_has_missing (data))
    ps->mbuf = g_new (unsigned char, (size_t) ps->threads * ps->block * (ps->d > 0 ? ps->d : 1));
}

void
mixem_pass_set_noise (mixem_pass *ps, double logd)
{
  if (ps->noise)
    return;
  ps->noise = TRUE;
  ps->noise_logd = logd;
  ps->ss += 1;
  ps->slots = g_renew (double, ps->slots, ps->wave * ps->ss);
}

void
mixem_pass_block (const mixem_dataset *data, size_t first, size_t n, double *xbuf,
                  unsigned char *mbuf, mixem_block *b)
{
  const size_t d = mixem_dataset_cols (data);
  *b = (mixem_block) { n, d, first, mixem_dataset_block (data, first, n, xbuf), data, NULL,
                       NULL, NULL };
  if (mbuf && (b->missing = mixem_dataset_block_missing (data, first, n, NULL, d, mbuf)))
    b->pattern = mixem_dataset_row_patterns (data) + first;
}

void
mixem_pass_empty_rows (const mixem_block *b, size_t K, double *a)
{
  if (!b->missing)
    return;
  for (size_t i = 0; i < b->n; i++)
    if (b->pattern[i] && mixem_dataset_pattern_observed (b->ds, b->pattern[i]) == 0)
      for (size_t k = 0; k < K; k++)
        a[i * K + k] = 0.0;
}

void
mixem_pass_set_concomitant (mixem_pass *ps, const mixem_dataset *z)
{
  g_return_if_fail (!ps->noise && !ps->zdata);
  ps->zdata = z;
  ps->zq = mixem_dataset_cols (z);
  ps->zoff = ps->k + 2 + ps->fam_ss;
  ps->ss += ps->k * (ps->zq + 1) + 1;
  ps->slots = g_renew (double, ps->slots, ps->wave * ps->ss);
  /* each block's log normalisers of eta, after the E-step's own scratch */
  ps->scratch = g_renew (double, ps->scratch, (size_t) ps->threads
                         * (2 * ps->block * ps->k + 5 * ps->block + ps->k));
  if (strcmp (mixem_dataset_storage (z), "uint8") == 0)
    ps->zbuf = g_new (double, (size_t) ps->threads * ps->block * (ps->zq > 0 ? ps->zq : 1));
}

void
mixem_pass_clear (mixem_pass *ps)
{
  g_free (ps->zbuf);
  g_free (ps->slots);
  g_free (ps->scratch);
  g_free (ps->bad_row);
  g_free (ps->xbuf);
  g_free (ps->mbuf);
  g_free (ps->cross_slots);
  memset (ps, 0, sizeof *ps);
}

guint64
mixem_mix64 (guint64 x)
{
  x += G_GUINT64_CONSTANT (0x9e3779b97f4a7c15);
  x = (x ^ (x >> 30)) * G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
  x = (x ^ (x >> 27)) * G_GUINT64_CONSTANT (0x94d049bb133111eb);
  return x ^ (x >> 31);
}

/* Loops the compiler vectorises (#pragma omp simd) get, on x86-64, clones for AVX-512 and AVX2
 * chosen at load time; without FMA contraction (ISO C mode) all compute the same bits.  (A
 * clone calls its callees' clone of the same target directly, so the E-step has the AVX-512
 * clone too, for exp_nonpos_all's: eight exps a step, twice AVX2's speed, a fifth of a pass
 * for a cheap family such as poisson.) */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define VECTOR_CLONES \
  __attribute__ ((target_clones ("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define VECTOR_CLONES
#endif

/* E[i] = exp(A[i]) for N values A[i] <= 0, in a loop the compiler vectorises. */
VECTOR_CLONES static void
exp_nonpos_all (const double *a, double *e, size_t n)
{
#pragma omp simd
  for (size_t i = 0; i < n; i++)
    e[i] = mixem_exp_nonpos (a[i]);
}

/* The largest of A[0..K) that is not NaN (-inf if none), by four running maxima: the compiler
 * may vectorise it, and a maximum does not depend on the order. */
static inline double
row_max (const double *a, size_t K)
{
  double m0 = -INFINITY, m1 = -INFINITY, m2 = -INFINITY, m3 = -INFINITY;
  size_t k = 0;
  for (; k + 4 <= K; k += 4) {
    m0 = a[k] > m0 ? a[k] : m0;
    m1 = a[k + 1] > m1 ? a[k + 1] : m1;
    m2 = a[k + 2] > m2 ? a[k + 2] : m2;
    m3 = a[k + 3] > m3 ? a[k + 3] : m3;
  }
  for (; k < K; k++)
    m0 = a[k] > m0 ? a[k] : m0;
  m0 = m1 > m0 ? m1 : m0;
  m2 = m3 > m2 ? m3 : m2;
  return m2 > m0 ? m2 : m0;
}

/* The sum of A[0..K) by four running sums in a fixed order, so that it pipelines (and
 * vectorises) yet keeps its bits on every machine. */
static inline double
row_sum (const double *a, size_t K)
{
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  size_t k = 0;
  for (; k + 4 <= K; k += 4) {
    s0 += a[k];
    s1 += a[k + 1];
    s2 += a[k + 2];
    s3 += a[k + 3];
  }
  for (; k < K; k++)
    s0 += a[k];
  return (s0 + s1) + (s2 + s3);
}

/* One E-step's arguments, for its leaves. */
typedef struct {
  mixem_pass *ps;
  const mixem_params *params;
  const double *logw;
  gboolean accumulate;
  double *resp, *lse;
  size_t *label;
} estep_job;

/* One block: log joint, log-sum-exp, responsibilities (times the row weight), statistics.  BUF
 * holds the log joint (block*K), then the exps (block*K), each row's maximum (block), each
 * component's share of the entropy (K), and each row's sum of exps s, its log and 1 / s (block
 * each). */
VECTOR_CLONES static void
estep_block (const mixem_pass *ps, const mixem_params *params, const double *logw,
             gboolean accumulate, size_t first, size_t nb, double *slot, double *buf,
             double *xbuf,
             double *resp, double *lse_out, size_t *label, size_t *bad, double *cross,
             unsigned char *mbuf, double *zbuf)
{
  const size_t K = ps->k;
  const double *w = mixem_dataset_weights (ps->data);
  mixem_block blk;
  mixem_pass_block (ps->data, first, nb, xbuf, mbuf, &blk);

  memset (slot, 0, ps->ss * sizeof (double));
  *bad = SIZE_MAX;
  ps->family->log_density (params, &blk, buf);
  /* A row with no observed cell has density 1 under every component (whatever the family
   * said), so its responsibilities are the weights and its log-likelihood 0. */
  mixem_pass_empty_rows (&blk, K, buf);
  if (ps->q && ps->q_valid) {   /* sum_i w_i sum_k q_ik log p(x_i | theta), q of the last pass */
    double c = 0.0;
    for (size_t i = 0; i < nb; i++) {
      const double *qi = ps->q + (first + i) * K, *li = buf + i * K;
      double ci = 0.0;
      for (size_t k = 0; k < K; k++)
        ci += qi[k] > 0.0 ? qi[k] * li[k] : 0.0;
      c += (w ? w[first + i] : 1.0) * ci;
    }
    *cross = c;
  }
  double *nk = slot, *ll = slot + K, *e = buf + ps->block * K, *mrow = e + ps->block * K;
  double *hk = mrow + ps->block;
  memset (hk, 0, K * sizeof (double));
  /* Concomitant variables: each row's own log weights, and its log normaliser in ZL. */
  const size_t zq = ps->zq;
  const double *z = ps->gamma ? mixem_dataset_block (ps->zdata, first, nb, zbuf) : NULL;
  double *zl = hk + K + 3 * ps->block;   /* after the s, log s and 1 / s of the rows below */
  /* The noise component's log joint, the same for every row (-inf: none). */
  const double an = ps->noise ? logw[K] + ps->noise_logd : -INFINITY;
  const size_t RK = ps->noise ? K + 1 : K;   /* columns of RESP */
  double *nn = slot + ps->ss - 1, hn = 0.0;
  /* The log joint about each row's maximum: t_k = a_k - m <= 0. */
  for (size_t i = 0; i < nb; i++) {
    double *a = buf + i * K;
    if (z) {
      double *eta = e + i * K;   /* (the exps are taken after this loop) */
      zl[i] = mixem_conc_eta (ps->gamma, K, zq, z + i * zq, eta);
      for (size_t k = 0; k < K; k++)
        a[k] += eta[k] - zl[i];
    } else {
#pragma omp simd
      for (size_t k = 0; k < K; k++)
        a[k] += logw[k];
    }
    double m = row_max (a, K);
    if (an > m)   /* the noise explains the row best (or alone: every a_k = -inf) */
      m = an;
    if (!isfinite (m)) {     /* -inf everywhere, +inf or NaN: no usable likelihood */
      if (*bad == SIZE_MAX)
        *bad = first + i;
      for (size_t k = 0; k < K; k++)
        a[k] = 0.0;
      mrow[i] = NAN;         /* marks the row, which then gets no responsibility */
      continue;
    }
    mrow[i] = m;
#pragma omp simd
    for (size_t k = 0; k < K; k++)
      a[k] -= m;
  }
  exp_nonpos_all (buf, e, nb * K);
  /* q_k = exp(t_k) / s, with s = sum_k exp(t_k) >= 1; log p(x) = m + log s.  Every row's s,
   * log s and 1 / s first (1 for a bad row): the calls to log and the divisions are then
   * independent of each other and of the rest of a row's work, which waited on them (a tenth of
   * a pass for a cheap family). */
  double *srow = hk + K, *lsrow = srow + ps->block, *invrow = lsrow + ps->block;
  for (size_t i = 0; i < nb; i++)
    srow[i] = isnan (mrow[i]) ? 1.0
              : row_sum (e + i * K, K) + (ps->noise ? mixem_exp_nonpos (an - mrow[i]) : 0.0);
  for (size_t i = 0; i < nb; i++)
    lsrow[i] = log (srow[i]);
#pragma omp simd
  for (size_t i = 0; i < nb; i++)
    invrow[i] = 1.0 / srow[i];
  for (size_t i = 0; i < nb; i++) {
    double *a = buf + i * K, *ei = e + i * K;
    if (isnan (mrow[i])) {   /* a bad row: its log joint was zeroed above */
      if (ps->q)
        memset (ps->q + (first + i) * K, 0, K * sizeof (double));
      continue;
    }
    /* The noise's t and exp(t) (0 and -inf without noise). */
    double tn = an - mrow[i], en = ps->noise ? mixem_exp_nonpos (tn) : 0.0;
    double s = srow[i];
    size_t arg = 0;
    if (ps->hard || label || ps->q) {
      double best = -INFINITY;
      for (size_t k = 0; k < K; k++)
        if (a[k] > best) {
          best = a[k];
          arg = k;
        }
      if (ps->noise && tn > best)
        arg = K;
    }
    double ls = lsrow[i];   /* (without annealing also the entropy's log s) */
    const double lse = mrow[i] + ls;
    if (ps->beta != 1.0) {
      /* Annealed: t_k beta <= 0 with a maximum of 0, so the tempered sum is >= 1 as well. */
      for (size_t k = 0; k < K; k++)
        ei[k] = mixem_exp_nonpos (a[k] *= ps->beta);
      if (ps->noise)
        en = mixem_exp_nonpos (tn *= ps->beta);
      s = row_sum (ei, K) + en;
      ls = log (s);
    }
    const double inv = ps->beta != 1.0 ? 1.0 / s : invrow[i];
    if (ps->draw) {
      /* The row's component drawn from its responsibilities by the uniform u of its own hash
       * (53 bits), the first k whose running sum of exp(t_k) passes u s. */
      const guint64 h = mixem_mix64 (ps->draw_key ^ mixem_mix64 ((guint64) (ps->row0 + first
                                                                         + i)));
      const double u = (double) (h >> 11) * 0x1.0p-53 * s;
      double run = 0.0;
      arg = RK;
      for (size_t k = 0; k < K; k++) {
        run += ei[k];
        if (u < run && ei[k] > 0.0) {
          arg = k;
          break;
        }
      }
      if (arg == RK && ps->noise && en > 0.0)   /* the noise, last */
        arg = K;
      else if (arg == RK) {
        arg = K - 1;
        while (!(ei[arg] > 0.0) && arg > 0)   /* rounding past the end: the last one possible */
          arg--;
      }
    }
    const double wi = w ? w[first + i] : 1.0;
    ll[MIXEM_S_LOGLIK] += wi * lse;
    if (lse_out)
      lse_out[first + i] = lse;
    if (resp) {
      for (size_t k = 0; k < K; k++)
        resp[(first + i) * RK + k] = ei[k] * inv;
      if (ps->noise)
        resp[(first + i) * RK + K] = en * inv;
    }
    if (ps->q) {
      double *qi = ps->q + (first + i) * K;
      for (size_t k = 0; k < K; k++)
        qi[k] = ps->hard ? (double) (k == arg) : ei[k] * inv;
    }
    if (ps->hard) {
      for (size_t k = 0; k < K; k++)
        a[k] = 0.0;
      if (arg == K)   /* the noise */
        *nn += wi;
      else {
        a[arg] = wi;
        nk[arg] += wi;
      }
    } else {
      if (ps->noise) {
        const double q = en * inv;
        hn -= q > 0.0 ? wi * (q * (tn - ls)) : 0.0;
        *nn += wi * q;
      }
      /* Entropy by component, -sum_i w_i q_ik log q_ik (0 where q = 0, also when t = -inf),
       * summed over the components at the end of the block. */
#pragma omp simd
      for (size_t k = 0; k < K; k++) {
        const double q = ei[k] * inv;
        hk[k] -= q > 0.0 ? wi * (q * (a[k] - ls)) : 0.0;
        a[k] = wi * q;
        nk[k] += a[k];
      }
    }
    if (label)
      label[first + i] = arg;
    if (z) {   /* sum_i r_ik (1, z_i), and sum_i w_i log sum_k exp(eta_ik) */
      double *rz = slot + ps->zoff;
      const double *zi = z + i * zq;
      for (size_t k = 0; k < K; k++) {
        double *rk = rz + k * (zq + 1);
        rk[0] += a[k];
        for (size_t j = 0; j < zq; j++)
          rk[1 + j] += a[k] * zi[j];
      }
      rz[K * (zq + 1)] += wi * zl[i];
    }
  }
  if (!ps->hard)
    ll[MIXEM_S_ENTROPY] = row_sum (hk, K) + hn;
  if (accumulate && ps->fam_ss > 0) {
    mixem_pass_empty_rows (&blk, K, buf);   /* such a row adds nothing to the statistics */
    ps->family->accumulate (params, &blk, buf, slot + K + 2);
  }
}

/* ---- the fixed reduction tree ----
 *
 * A sum over rows is the sum over chunks of GRAIN consecutive rows (a wave of WAVE_BLOCKS
 * blocks; a range of rows that starts or ends inside a chunk cuts it there: chunks are always cut
 * at the multiples of GRAIN, where the ranks' shares are), each chunk's part summed from zero in
 * block order, and the chunks' parts combined by a
 * fixed binary tree over their index: node (level l, index j) covers chunks [j 2^l, (j + 1) 2^l),
 * its value the sum left + right of its two children (the left alone when the right lies past
 * the last chunk).  The tree depends on the number of rows and GRAIN only, never on the number of
 * threads or ranks.  A rank holding a contiguous range of whole chunks computes the largest
 * nodes inside its range (at most two a level: O(log chunks) of them) and the ranks gather them
 * all, in rank order, which is the tree's left-to-right order; every rank then combines them by
 * the same tree.  So one process, and any number of ranks, give the same bits; a rank sends
 * O(log chunks) nodes of LEN doubles an iteration, whatever the rows. */
typedef struct {
  size_t grain, len, chunks;
  int levels;                /* the root's level: 2^levels >= chunks */
  size_t *ca, *cb;           /* each rank's chunks [ca, cb) (ca = cb: none) */
  int nranks, me;
  size_t glo, ghi;           /* the (global) rows the tree covers */
  size_t g0;                 /* the absolute chunk (rows [g0 grain, (g0 + 1) grain)) of chunk 0 */
  size_t row0;               /* the global row of this rank's first local row */
  mixem_leaf_fn leaf;
  mixem_merge_fn merge;
  void *user;
  double *tmp;               /* (levels + 1) * len */
  const double *stream;      /* the gathered nodes, consumed in tree order */
  size_t pos;
} tree;

static size_t node_lo (const tree *t, int l, size_t j) { return j << l; }
static size_t node_hi (const tree *t, int l, size_t j) { return MIN ((j + 1) << l, t->chunks); }

static void
merge_into (const tree *t, double *acc, const double *right)
{
  if (t->merge)
    t->merge (acc, right, t->len, t->user);
  else
    for (size_t i = 0; i < t->len; i++)
      acc[i] += right[i];
}

/* OUT = the value of node (L, J), every chunk of it this rank's; FALSE on the first failure. */
static gboolean
tree_eval (tree *t, int l, size_t j, double *out, GError **error)
{
  if (l == 0) {
    /* Chunks are cut at the multiples of the grain (the range's ends aside), where the ranks'
     * shares are cut, so that no chunk straddles two ranks, whatever range is summed. */
    const size_t c = t->g0 + j;
    const size_t gs = MAX (t->glo, c * t->grain), ge = MIN (t->ghi, (c + 1) * t->grain);
    return t->leaf (gs - t->row0, ge - gs, out, t->user, error);
  }
  if (!tree_eval (t, l - 1, 2 * j, out, error))
    return FALSE;
  if (node_lo (t, l - 1, 2 * j + 1) >= t->chunks)
    return TRUE;
  double *right = t->tmp + (size_t) l * t->len;
  if (!tree_eval (t, l - 1, 2 * j + 1, right, error))
    return FALSE;
  merge_into (t, out, right);
  return TRUE;
}

/* Appends to OUT (*COUNT nodes so far) the largest nodes inside this rank's chunks. */
static gboolean
tree_walk (tree *t, int l, size_t j, double *out, size_t *count, GError **error)
{
  const size_t lo = node_lo (t, l, j), hi = node_hi (t, l, j);
  const size_t a = t->ca[t->me], b = t->cb[t->me];
  if (lo >= hi || a >= b || hi <= a || lo >= b)
    return TRUE;
  if (a <= lo && hi <= b) {
    if (!tree_eval (t, l, j, out + *count * t->len, error))
      return FALSE;
    ++*count;
    return TRUE;
  }
  return tree_walk (t, l - 1, 2 * j, out, count, error)
         && tree_walk (t, l - 1, 2 * j + 1, out, count, error);
}

/* How many nodes rank R contributes (tree_walk's count, without computing them). */
static size_t
tree_count (const tree *t, int r, int l, size_t j)
{
  const size_t lo = node_lo (t, l, j), hi = node_hi (t, l, j), a = t->ca[r], b = t->cb[r];
  if (lo >= hi || a >= b || hi <= a || lo >= b)
    return 0;
  if (a <= lo && hi <= b)
    return 1;
  return tree_count (t, r, l - 1, 2 * j) + tree_count (t, r, l - 1, 2 * j + 1);
}

/* OUT = node (L, J) from the gathered nodes, in the same order as tree_walk made them. */
static void
tree_combine (tree *t, int l, size_t j, double *out)
{
  const size_t lo = node_lo (t, l, j), hi = node_hi (t, l, j);
  for (int r = 0; r < t->nranks; r++)
    if (t->ca[r] < t->cb[r] && t->ca[r] <= lo && hi <= t->cb[r]) {
      memcpy (out, t->stream + t->pos++ * t->len, t->len * sizeof (double));
      return;
    }
  tree_combine (t, l - 1, 2 * j, out);
  if (node_lo (t, l - 1, 2 * j + 1) >= t->chunks)
    return;
  double *right = t->tmp + (size_t) l * t->len;
  tree_combine (t, l - 1, 2 * j + 1, right);
  merge_into (t, out, right);
}

/* The tree over the global rows [GLO, GHI) (for a dataset that is no part, its own rows). */
static gboolean
tree_reduce_global (const mixem_dataset *data, size_t glo, size_t ghi, size_t grain, size_t len,
                    mixem_leaf_fn leaf, mixem_merge_fn merge, void *user, double *out,
                    GError **error);

gboolean
mixem_tree_reduce (const mixem_dataset *data, size_t lo, size_t hi, size_t grain, size_t len,
                   mixem_leaf_fn leaf, mixem_merge_fn merge, void *user, double *out,
                   GError **error)
{
  if (mixem_dataset_part_offsets (data)) {
    g_return_val_if_fail (lo == 0 && hi == mixem_dataset_rows (data), FALSE);
    return tree_reduce_global (data, 0, mixem_dataset_all_rows (data), grain, len, leaf, merge,
                               user, out, error);
  }
  return tree_reduce_global (data, lo, hi, grain, len, leaf, merge, user, out, error);
}

gboolean
mixem_tree_reduce_range (const mixem_dataset *data, size_t glo, size_t ghi, size_t grain,
                         size_t len, mixem_leaf_fn leaf, mixem_merge_fn merge, void *user,
                         double *out, GError **error)
{
  return tree_reduce_global (data, glo, ghi, grain, len, leaf, merge, user, out, error);
}

static gboolean
tree_reduce_global (const mixem_dataset *data, size_t glo, size_t ghi, size_t grain, size_t len,
                    mixem_leaf_fn leaf, mixem_merge_fn merge, void *user, double *out,
                    GError **error)
{
  const size_t *off = mixem_dataset_part_offsets (data);
  tree t = { .grain = grain, .len = len, .leaf = leaf, .merge = merge, .user = user };
  t.nranks = off ? mixem_parallel_size () : 1;
  t.me = off ? mixem_parallel_rank () : 0;
  t.ca = g_new (size_t, t.nranks);
  t.cb = g_new (size_t, t.nranks);
  t.glo = glo;
  t.ghi = MAX (ghi, glo);
  t.g0 = glo / grain;
  t.chunks = t.ghi > glo ? (t.ghi + grain - 1) / grain - t.g0 : 0;
  t.row0 = off ? off[t.me] : 0;
  for (int r = 0; r < t.nranks; r++) {
    /* Each rank's absolute chunks (shares cut at multiples of the grain, checked by
     * mixem_tree_check), then those in the range, numbered from its first. */
    const size_t a = off ? off[r] / grain : 0;
    const size_t b = off ? (off[r + 1] > off[r] ? (off[r + 1] + grain - 1) / grain : a)
                         : t.g0 + t.chunks;
    t.ca[r] = MIN (MAX (a, t.g0), t.g0 + t.chunks) - t.g0;
    t.cb[r] = MIN (MAX (b, t.g0), t.g0 + t.chunks) - t.g0;
    if (t.cb[r] < t.ca[r])
      t.cb[r] = t.ca[r];
  }
  while (((size_t) 1 << t.levels) < t.chunks)
    t.levels++;
  t.tmp = g_new (double, (size_t) (t.levels + 1) * len);
  const size_t most = 2 * (size_t) t.levels + 2;
  double *mine = g_new (double, most * len);
  size_t count = 0;
  GError *err = NULL;
  tree_walk (&t, t.levels, 0, mine, &count, &err);
  gboolean ok = TRUE;
  if (off) {
    /* Every rank agrees on a failure before the gather, so that none waits in it alone. */
    if (err)
      g_propagate_error (error, err);
    ok = mixem_parallel_agree (error);
    if (ok) {
      size_t *counts = g_new (size_t, t.nranks), all = 0;
      for (int r = 0; r < t.nranks; r++)
        all += counts[r] = tree_count (&t, r, t.levels, 0) * len;
      double *stream = g_new (double, all > 0 ? all : 1);
      mixem_comm_allgatherv (mine, count * len, stream, counts);
      t.stream = stream;
      if (t.chunks > 0)
        tree_combine (&t, t.levels, 0, out);
      else
        memset (out, 0, len * sizeof (double));
      g_free (stream);
      g_free (counts);
    }
  } else if (err) {
    g_propagate_error (error, err);
    ok = FALSE;
  } else if (t.chunks > 0)
    memcpy (out, mine, len * sizeof (double));
  else
    memset (out, 0, len * sizeof (double));
  g_free (mine);
  g_free (t.tmp);
  g_free (t.ca);
  g_free (t.cb);
  return ok;
}

gboolean
mixem_tree_check (const mixem_dataset *data, size_t grain, GError **error)
{
  const size_t *off = mixem_dataset_part_offsets (data);
  const size_t n = mixem_dataset_all_rows (data);
  for (int r = 1; off && r < mixem_parallel_size (); r++)
    if (off[r] % grain != 0 && off[r] != n) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                   "%s: rank %d's share starts at row %zu, not at a multiple of %zu rows (64 "
                   "blocks of the fit's block_size): read the parts with the fit's block size",
                   mixem_dataset_source (data), r, off[r] + 1, grain);
      return FALSE;
    }
  return TRUE;
}

/* The E-step's leaf: one chunk's blocks, threads over them, summed in block order from zero.
 * OUT holds the ps->ss sums and then the ELBO's cross term. */
static gboolean
estep_leaf (size_t first, size_t n, double *out, void *user, GError **error)
{
  estep_job *job = user;
  mixem_pass *ps = job->ps;
  const size_t nw = (n + ps->block - 1) / ps->block;
  const size_t per_thread = 2 * ps->block * ps->k + 4 * ps->block + ps->k
                            + (ps->zdata ? ps->block : 0);
  /* Blocks go to whichever thread is free, so a thread held up by other work on the machine
   * does not hold up the rest; each block's statistics land in its own slot, whoever
   * computed them. */
#pragma omp parallel for num_threads (MIN (ps->threads, (int) nw)) schedule (dynamic, 1)
  for (size_t j = 0; j < nw; j++) {
#ifdef _OPENMP
    const size_t t = (size_t) omp_get_thread_num ();
#else
    const size_t t = 0;
#endif
    double *buf = ps->scratch + t * per_thread;
    double *xbuf = ps->xbuf ? ps->xbuf + t * ps->block * ps->d : NULL;
    unsigned char *mbuf = ps->mbuf ? ps->mbuf + t * ps->block * ps->d : NULL;
    double *zbuf = ps->zbuf ? ps->zbuf + t * ps->block * ps->zq : NULL;
    /* Blocks from the chunk's first row (a multiple of the block but at a range's start). */
    const size_t bf = first + j * ps->block, nb = MIN (ps->block, first + n - bf);
    estep_block (ps, job->params, job->logw, job->accumulate, bf, nb, ps->slots + j * ps->ss,
                 buf, xbuf, job->resp, job->lse, job->label, &ps->bad_row[j],
                 &ps->cross_slots[j], mbuf, zbuf);
  }
  double cross = 0.0;
  for (size_t j = 0; j < nw && ps->q && ps->q_valid; j++)
    cross += ps->cross_slots[j];
  out[ps->ss] = cross;
  /* A callback's own failure first: it explains the rows it left without a likelihood. */
  if (!mixem_family_take_error (ps->family, job->params, error))
    return FALSE;
  for (size_t j = 0; j < nw; j++) {
    if (ps->bad_row[j] != SIZE_MAX) {
      char *row = mixem_dataset_cell_name (ps->data, ps->bad_row[j], SIZE_MAX);
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_NUMERIC,
                   "%s: zero likelihood under every component", row);
      g_free (row);
      return FALSE;
    }
  }
  /* Each entry summed over the chunk's slots in slot order, from zero, the entries shared among
   * the threads: the same bits for any number of threads. */
#pragma omp parallel for num_threads (ps->threads) schedule (static) if (ps->ss * nw >= 65536)
  for (size_t i = 0; i < ps->ss; i++) {
    double acc = 0.0;
    for (size_t j = 0; j < nw; j++)
      acc += ps->slots[j * ps->ss + i];
    out[i] = acc;
  }
  return TRUE;
}

gboolean
mixem_pass_estep (mixem_pass *ps, const mixem_params *params, const double *logw,
                  gboolean accumulate, double *total, double *resp, double *lse, size_t *label,
                  GError **error)
{
  estep_job job = { ps, params, logw, accumulate, resp, lse, label };
  double *out = g_new (double, ps->ss + 1);
  /* All rows, or (incremental and online EM) the global rows [lo, hi), across ranks as well. */
  const gboolean all = ps->lo == 0 && ps->hi == mixem_dataset_all_rows (ps->data);
  gboolean ok = all ? mixem_tree_reduce (ps->data, 0, ps->n, WAVE_BLOCKS * ps->block,
                                         ps->ss + 1, estep_leaf, NULL, &job, out, error)
                    : mixem_tree_reduce_range (ps->data, ps->lo, ps->hi, WAVE_BLOCKS * ps->block,
                                               ps->ss + 1, estep_leaf, NULL, &job, out, error);
  if (ok) {
    memcpy (total, out, ps->ss * sizeof (double));
    ps->cross = out[ps->ss];
    if (ps->q)
      ps->q_valid = TRUE;
  }
  g_free (out);
  return ok;
}

gboolean
mixem_pass_estep_range (mixem_pass *ps, size_t lo, size_t hi, const mixem_params *params,
                        const double *logw, gboolean accumulate, double *total, GError **error)
{
  g_return_val_if_fail (lo < hi && hi <= mixem_dataset_all_rows (ps->data), FALSE);
  ps->lo = lo;
  ps->hi = hi;
  gboolean ok = mixem_pass_estep (ps, params, logw, accumulate, total, NULL, NULL, NULL, error);
  ps->lo = 0;
  ps->hi = mixem_dataset_all_rows (ps->data);
  return ok;
}

/* mixem_pass_accumulate_q's leaf: one chunk's blocks, each block's statistics in its slot (the
 * first fam_ss entries), summed in block order from zero, as estep_leaf does. */
typedef struct {
  mixem_pass *ps;
  const mixem_params *params;
} qpass_job;

static gboolean
qpass_leaf (size_t first, size_t n, double *out, void *user, GError **error)
{
  qpass_job *job = user;
  mixem_pass *ps = job->ps;
  const size_t K = ps->k, nw = (n + ps->block - 1) / ps->block, fs = ps->fam_ss;
  const size_t per_thread = 2 * ps->block * K + ps->block + K;
  const double *w = mixem_dataset_weights (ps->data);
#pragma omp parallel for num_threads (MIN (ps->threads, (int) nw)) schedule (dynamic, 1)
  for (size_t j = 0; j < nw; j++) {
#ifdef _OPENMP
    const size_t t = (size_t) omp_get_thread_num ();
#else
    const size_t t = 0;
#endif
    double *r = ps->scratch + t * per_thread, *slot = ps->slots + j * ps->ss;
    double *xbuf = ps->xbuf ? ps->xbuf + t * ps->block * ps->d : NULL;
    unsigned char *mbuf = ps->mbuf ? ps->mbuf + t * ps->block * ps->d : NULL;
    const size_t bf = first + j * ps->block, nb = MIN (ps->block, first + n - bf);
    mixem_block blk;
    mixem_pass_block (ps->data, bf, nb, xbuf, mbuf, &blk);
    /* w_i q_ik: the very products the E-step gave accumulate (estep_block). */
    for (size_t i = 0; i < nb; i++) {
      const double wi = w ? w[bf + i] : 1.0, *qi = ps->q + (bf + i) * K;
      for (size_t k = 0; k < K; k++)
        r[i * K + k] = wi * qi[k];
    }
    mixem_pass_empty_rows (&blk, K, r);
    memset (slot, 0, fs * sizeof (double));
    ps->family->accumulate (job->params, &blk, r, slot);
  }
  if (!mixem_family_take_error (ps->family, job->params, error))
    return FALSE;
  for (size_t i = 0; i < fs; i++) {
    double acc = 0.0;
    for (size_t j = 0; j < nw; j++)
      acc += ps->slots[j * ps->ss + i];
    out[i] = acc;
  }
  return TRUE;
}

gboolean
mixem_pass_accumulate_q (mixem_pass *ps, const mixem_params *params, double *stats,
                         GError **error)
{
  g_return_val_if_fail (ps->q != NULL && ps->fam_ss > 0, FALSE);
  qpass_job job = { ps, params };
  return mixem_tree_reduce (ps->data, 0, ps->n, WAVE_BLOCKS * ps->block, ps->fam_ss, qpass_leaf,
                            NULL, &job, stats, error);
}

/* Whether V lies in RANGE, an interval such as "[0, inf)" or "(0, 1]"; a malformed range (a
 * family bug) accepts everything rather than refusing every value. */
static gboolean
in_range (double v, const char *range)
{
  char lo_b, hi_b;
  char lo[32], hi[32];
  if (!range || sscanf (range, " %c %31[^,], %31[^])] %c", &lo_b, lo, hi, &hi_b) != 4)
    return TRUE;
  const double a = g_ascii_strtod (lo, NULL), b = g_ascii_strtod (hi, NULL);
  return (lo_b == '[' ? v >= a : v > a) && (hi_b == ']' ? v <= b : v < b);
}

/* Checks VALUE against O's type; FALSE with an error naming the family, option and value. */
static gboolean
check_typed (const mixem_family *f, const mixem_option_info *o, const char *value, size_t d,
             const char *const *names, GError **error)
{
  const char *want = NULL;
  char *end = NULL;
  double v = 0;
  gboolean b;
  switch (o->type) {
  case MIXEM_OPTION_NUMBER:
  case MIXEM_OPTION_INTEGER:
    v = g_ascii_strtod (value, &end);
    if (end == value || *end || !isfinite (v) || (o->type == MIXEM_OPTION_INTEGER && v != floor (v))
        || !in_range (v, o->range))
      want = o->type == MIXEM_OPTION_INTEGER ? "a whole number" : "a finite number";
    break;
  case MIXEM_OPTION_CHOICE:
    if (!o->choices || !g_strv_contains (o->choices, value))
      want = "one of";
    break;
  case MIXEM_OPTION_COLUMN:
    if (!names)
      break;
    want = "a data column";
    for (size_t j = 0; j < d && names; j++)
      if (strcmp (names[j], value) == 0)
        want = NULL;
    break;
  case MIXEM_OPTION_BOOLEAN:
    if (!mixem_parse_boolean (value, &b))
      want = "true or false";
    break;
  default:
    break;
  }
  if (!want)
    return TRUE;
  GString *msg = g_string_new (NULL);
  char *q = mixem_quote (value, -1);
  g_string_printf (msg, "%s: option '%s' = '%s' is not %s", f->name, o->name, q, want);
  g_free (q);
  if (o->type == MIXEM_OPTION_CHOICE)
    for (const char *const *c = o->choices; c && *c; c++)
      g_string_append_printf (msg, "%s%s", c == o->choices ? " " : ", ", *c);
  if (o->range && (o->type == MIXEM_OPTION_NUMBER || o->type == MIXEM_OPTION_INTEGER))
    g_string_append_printf (msg, " in %s", o->range);
  if (o->type == MIXEM_OPTION_COLUMN && names) {
    g_string_append (msg, " (the columns are");
    for (size_t j = 0; j < d; j++)
      g_string_append_printf (msg, "%s%s", j ? ", " : " ", names[j]);
    g_string_append (msg, ")");
  }
  g_set_error_literal (error, MIXEM_ERROR, MIXEM_ERROR_OPTION, msg->str);
  g_string_free (msg, TRUE);
  return FALSE;
}

mixem_options *
mixem_family_options (const mixem_family *f, const mixem_options *opts, size_t d,
                      const char *const *names, GError **error)
{
  for (size_t i = 0; i < mixem_options_size (opts); i++) {
    const char *key = mixem_options_key (opts, i);
    const mixem_option_info *found = NULL;
    for (const mixem_option_info *o = f->options; o && o->name; o++)
      if (strcmp (o->name, key) == 0)
        found = o;
    if (!found) {
      GString *list = g_string_new (NULL);
      for (const mixem_option_info *o = f->options; o && o->name; o++)
        g_string_append_printf (list, "%s%s", list->len ? ", " : "", o->name);
      char *q = mixem_quote (key, -1);
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
                   "family '%s' has no option '%s' (it has: %s)", f->name, q,
                   list->len ? list->str : "none");
      g_free (q);
      g_string_free (list, TRUE);
      return NULL;
    }
    if (!check_typed (f, found, mixem_options_get (opts, key), d, names, error))
      return NULL;
  }
  mixem_options *full = mixem_options_copy (opts);
  for (const mixem_option_info *o = f->options; o && o->name; o++)
    if (o->default_value && o->type != MIXEM_OPTION_TEXT && !mixem_options_get (full, o->name))
      mixem_options_set (full, o->name, o->default_value);
  return full;
}

gboolean
mixem_check_options (const mixem_family *f, const mixem_options *opts, GError **error)
{
  mixem_options *full = mixem_family_options (f, opts, 0, NULL, error);
  mixem_options_free (full);
  return full != NULL;
}

gboolean
mixem_family_take_error (const mixem_family *f, const mixem_params *params, GError **error)
{
  if (!f->take_error || f->take_error (params, error))
    return TRUE;
  if (error && !*error)
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_PLUGIN,
                 "family '%s': a callback failed without saying why", f->name);
  return FALSE;
}

typedef struct {
  const mixem_dataset *ds;
  size_t width;
  mixem_row_add_fn add;
  void *user;
} rowsum_job;

static gboolean
rowsum_leaf (size_t first, size_t n, double *out, void *user, GError **error)
{
  const rowsum_job *j = user;
  (void) error;
  memset (out, 0, j->width * sizeof (double));
  for (size_t i = first; i < first + n; i++)
    j->add (j->ds, i, out, j->user);
  return TRUE;
}

gboolean
mixem_dataset_sum_rows (const mixem_dataset *data, size_t width, mixem_row_add_fn add,
                        void *user, double *out, GError **error)
{
  /* Chunks of 64 rows: every part's rows are cut at a multiple of 64 (of its grain). */
  rowsum_job j = { data, width, add, user };
  memset (out, 0, width * sizeof (double));
  return mixem_tree_reduce (data, 0, mixem_dataset_rows (data), 64, width, rowsum_leaf, NULL, &j,
                            out, error);
}

void
mixem_dataset_max_over_ranks (const mixem_dataset *data, double *v, size_t width)
{
  if (mixem_dataset_is_part (data))
    mixem_comm_max_doubles (v, width);
}

gboolean
mixem_refuse_levels (const mixem_dataset *data, const size_t *cols, size_t d, const char *family,
                     GError **error)
{
  for (size_t j = 0; j < d; j++) {
    const size_t c = cols ? cols[j] : j;
    const char *const *lev = mixem_dataset_levels (data, c);
    if (!lev)
      continue;
    /* The first row whose text is no number, as the reader would have named it. */
    size_t row = 0;
    const char *text = NULL;
    for (size_t i = 0; i < mixem_dataset_rows (data); i++) {
      const double v = mixem_dataset_value (data, i, c);
      if (isnan (v))          /* a missing cell: no text */
        continue;
      const char *t = lev[(size_t) v];
      if (!text) {
        row = i;
        text = t;
      }
      char *end = NULL;
      g_ascii_strtod (t, &end);
      if (end == t || *end) {
        row = i;
        text = t;
        break;
      }
    }
    char *cell = mixem_dataset_cell_name (data, row, c), *q = mixem_quote (text ? text : "", -1);
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: not a number ('%s'): the column "
                 "holds level names, which family '%s' does not model", cell, q, family);
    g_free (cell);
    g_free (q);
    return FALSE;
  }
  return TRUE;
}

static gboolean check_rows (const mixem_family *f, const mixem_params *params, size_t d,
                            const mixem_dataset *data, GError **error);

gboolean
mixem_check_data (const mixem_family *f, const mixem_params *params, size_t d,
                  const mixem_dataset *data, GError **error)
{
  if (mixem_dataset_cols (data) != d) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA,
                 "%s: the data have %zu columns, but the model has %zu",
                 mixem_dataset_source (data), mixem_dataset_cols (data), d);
    return FALSE;
  }
  if (mixem_dataset_all_rows (data) == 0) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: no rows",
                 mixem_dataset_source (data));
    return FALSE;
  }
  /* A part's rows are checked on their rank, and every rank agrees on the first failure. */
  if (mixem_dataset_is_part (data)) {
    gboolean ok = check_rows (f, params, d, data, error);
    return mixem_parallel_agree (error) && ok;
  }
  return check_rows (f, params, d, data, error);
}

static gboolean
check_rows (const mixem_family *f, const mixem_params *params, size_t d,
            const mixem_dataset *data, GError **error)
{
  if (!(f->flags & MIXEM_FAMILY_LEVELS) && !mixem_refuse_levels (data, NULL, d, f->name, error))
    return FALSE;
  if (!mixem_refuse_missing (f, data, error))
    return FALSE;
  if (!f->check_data)
    return TRUE;
  /* A block at a time, so that data held as bytes are never widened whole. */
  const size_t n = mixem_dataset_rows (data), B = 4096;
  double *buf = g_new (double, B * d);
  unsigned char *mbuf = mixem_dataset_has_missing (data) ? g_new (unsigned char, B * d) : NULL;
  gboolean ok = TRUE;
  for (size_t first = 0; first < n && ok; first += B) {
    const size_t nb = MIN (B, n - first);
    mixem_block blk;
    mixem_pass_block (data, first, nb, buf, mbuf, &blk);
    ok = f->check_data (params, &blk, error);
  }
  if (ok)
    ok = mixem_family_take_error (f, params, error);
  g_free (buf);
  g_free (mbuf);
  return ok;
}

gboolean
mixem_refuse_missing (const mixem_family *f, const mixem_dataset *data, GError **error)
{
  if (!mixem_dataset_has_missing (data) || (f->flags & MIXEM_FAMILY_MISSING))
    return TRUE;
  size_t row = 0, col = 0;
  for (row = 0; row < mixem_dataset_rows (data); row++)
    if (mixem_dataset_row_pattern (data, row))
      break;
  const unsigned char *m = mixem_dataset_pattern (data, mixem_dataset_row_pattern (data, row));
  while (!m[col])
    col++;
  char *cell = mixem_dataset_cell_name (data, row, col);
  g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_DATA, "%s: a missing value (%zu in all), but "
               "family '%s' does not support missing values", cell,
               mixem_dataset_missing_count (data, SIZE_MAX), f->name);
  g_free (cell);
  return FALSE;
}
