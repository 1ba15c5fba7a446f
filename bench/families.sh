#!/bin/bash
# bench/families.sh: seconds per EM iteration of the poisson, categorical and multinomial families
# on 10^6 rows beside the floor that bounds them (issue 12's speed target: within 2x of it),
# with one thread and with all cores; one table from one run.
#   bench/families.sh                     P1 C1 M1, 10 iterations
#   SETS="P1" ITERS=20 REPS=5 bench/families.sh
# On a shared machine a run can be caught by a neighbour's load: mixem is run REPS times (default
# 3) and its fastest run kept, and the floor is the fastest of its ITERS repetitions.
# Needs the build tree (./bootstrap) and python3-numpy; data and the driver go to $BENCH_DIR
# (default bench/work; about 0.6 GB).  Not a test: CI never runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
W=${BENCH_DIR:-bench/work}
ITERS=${ITERS:-10}
REPS=${REPS:-3}
SETS=${SETS:-P1 C1 M1}
ALL=$(nproc)
PY=/usr/bin/python3
mkdir -p "$W"

gcc -O2 -fopenmp -o "$W/families_bound" bench/families_bound.c -lopenblas
for s in $SETS; do
  [ -f "$W/$s.npy" ] || $PY bench/gen_families.py "$W" "$s"
done

{
  printf "%-4s %-12s %3s %10s %10s %7s %10s %8s %16s\n" set family thr "s/iter" "2 GEMMs" ratio \
         "1 pass" ratio "mean loglik"
  for t in 1 $([ "$ALL" -gt 1 ] && echo "$ALL"); do
    for s in $SETS; do
      case $s in
        P1) fam=poisson lev="" ;;
        C1) fam=categorical lev=4 ;;     # the bound on the one-hot matrix, 10 x 4 = 40 columns
        M1) fam=multinomial lev="" ;;
      esac
      # mixem: OpenMP over row blocks, BLAS single-threaded inside them; the trace's timings.
      read -r sec ll _ < <(for _ in $(seq "$REPS"); do
                             OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=1 \
                               src/mixem run bench/mixem_run.lua "$W" "$s" "$t" "$ITERS"
                           done | sort -n | head -1)
      # The floor, in the same run: the two bare products (BLAS on t threads) and one pass.
      read -r gemm pass < <(OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t \
                            "$W/families_bound" "$W" "$s" 5 "$ITERS" $lev 2>/dev/null)
      awk -v s="$s" -v f="$fam" -v t="$t" -v sec="$sec" -v g="$gemm" -v p="$pass" -v ll="$ll" \
        'BEGIN { printf "%-4s %-12s %3d %10.4f %10.4f %7.2f %10.4f %8.1f %16.10f\n",
                 s, f, t, sec, g, sec / g, p, sec / p, ll }'
    done
  done
  echo
  echo "s/iter: mixem's seconds per EM iteration (the trace's own timings, $ITERS iterations, tol = 0,"
  echo "from NAME_init.json; the fastest of $REPS runs); 2 GEMMs: X W' (N x D by D x K) plus R' X"
  echo "(K x N by N x D) by cblas_dgemm on the whole matrices, categorical on its one-hot N x 40;"
  echo "1 pass: the sum of every value of the .npy (each the fastest of $ITERS repetitions);"
  echo "ratio: s/iter over each.  Target: s/iter within 2x the 2 GEMMs.  Load: $(cut -d' ' -f1-3 /proc/loadavg)"
}
