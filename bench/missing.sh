#!/bin/bash
# bench/missing.sh: the cost of missing cells (issue 16).  G1 (full, 200 000 x 16, K = 16) and
# G2 (diagonal, 10^6 x 32, K = 32) of bench/gen.py with 0%, 10% and 30% of their cells removed
# completely at random (NumPy default_rng(16)); each fitted from the same start for ITERS
# iterations (tol = 0), one thread; seconds per iteration, the ratio to the complete data, and
# how many missingness patterns each had.  One table from one run.
#   bench/missing.sh                      G1 G2, 10 iterations
#   SETS=G2 ITERS=5 REPS=1 bench/missing.sh
# Target: G2 at 10% within 3x of the complete data.  Needs the build tree and python3-numpy;
# data go to $BENCH_DIR (default bench/work; about 1.5 GB).  Not a test: CI never runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
W=${BENCH_DIR:-bench/work}
ITERS=${ITERS:-10}
REPS=${REPS:-2}
SETS=${SETS:-G1 G2}
THREADS=${THREADS:-1}
PY=/usr/bin/python3
mkdir -p "$W"
for s in $SETS; do
  [ -f "$W/$s.npy" ] || $PY bench/gen.py "$W" "$s"
  for share in 10 30; do
    [ -f "$W/${s}_m$share.npy" ] || $PY - "$W/$s.npy" "$share" "$W/${s}_m$share.npy" <<'PYEOF'
import sys
import numpy as np
x = np.load(sys.argv[1])
m = np.random.default_rng(16).random(x.shape) < int(sys.argv[2]) / 100.0
x[m] = np.nan
np.save(sys.argv[3], x)
PYEOF
    cp "$W/${s}_init.json" "$W/${s}_m${share}_init.json"
  done
done

{
  printf "%-4s %7s %10s %7s %10s %16s\n" set missing "s/iter" ratio patterns "mean loglik"
  for s in $SETS; do
    base=""
    for share in 0 10 30; do
      name=$s
      [ "$share" = 0 ] || name=${s}_m$share
      read -r sec ll _ pat < <(for _ in $(seq "$REPS"); do
                                 OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=1 \
                                   src/mixem run bench/missing_run.lua "$W" "$name" "$THREADS" "$ITERS"
                               done | sort -n | head -1)
      [ -n "$base" ] || base=$sec
      awk -v s="$s" -v m="$share%" -v sec="$sec" -v b="$base" -v p="$pat" -v ll="$ll" \
        'BEGIN { printf "%-4s %7s %10.4f %7.2f %10s %16.10f\n", s, m, sec, sec / b, p, ll }'
    done
  done
  echo
  echo "s/iter: seconds per EM iteration ($ITERS iterations, tol = 0, from NAME_init.json, $THREADS"
  echo "thread(s); the trace's own timings, the fastest of $REPS runs); ratio: over the complete"
  echo "data's; patterns: distinct sets of missing columns (the complete one included); mean loglik:"
  echo "the observed-data log-likelihood per row.  Load: $(cut -d' ' -f1-3 /proc/loadavg)"
}
