#!/bin/bash
# bench/mpi.sh: the cost of MPI (issue 17).  One G1- or G2-like set (bench/README.md) fit from
# the same start for ITERS iterations by the single process, then under mpirun -n 1, 2, ...
# (RANKS) on this machine: seconds per iteration (the trace's own timings, the first iteration
# left out), whether the model is the same bit for bit, and the bytes each rank sent per
# iteration (two runs of different lengths, MIXEM_MPI_STATS).  Not a test: CI never runs it.
#   SET=G1|G2 (default G1)  N=rows  ITERS=iterations (5)  RANKS="1 2"  THREADS=threads a rank
set -eu
cd "$(dirname "$0")/.."
SET=${SET:-G1} ITERS=${ITERS:-5} RANKS=${RANKS:-"1 2"} THREADS=${THREADS:-1}
case $SET in
  G1) N=${N:-200000} D=16 K=16 COV=full ;;
  G2) N=${N:-1000000} D=32 K=32 COV=diag ;;
  *) echo "SET must be G1 or G2" >&2; exit 2 ;;
esac
W=${BENCH_DIR:-bench/work}/mpi
mkdir -p "$W"
MIXEM=$PWD/src/mixem
export MIXEM_FAMILY_PATH=$PWD/families/.libs OMP_NUM_THREADS=$THREADS OMP_WAIT_POLICY=passive
data=$W/$SET-$N.npy
[ -e "$data" ] || /usr/bin/python3 - "$data" "$N" "$D" "$K" <<'PY'
import sys, numpy as np
path, n, d, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
r = np.random.default_rng(1)
means = r.normal(0, 4, (k, d))
z = r.integers(0, k, n)
np.save(path, means[z] + r.normal(0, 1, (n, d)))
PY
args=(fit -q -f gaussian -k "$K" --covariance "$COV" --init random --n-init 1 --short-starts 1
      --tol 0 --n-refine 0 --threads "$THREADS")
per_iter () { awk -F, 'NR > 2 { s += $7; n++ } END { printf "%.4f", s / n }' "$1"; }
"$MIXEM" "${args[@]}" --max-iter "$ITERS" --out "$W/one.json" --trace "$W/one.csv" "$data"
printf '%s: N = %d, D = %d, K = %d (%s), %d iterations, %s thread(s) a rank\n' "$SET" "$N" "$D" \
  "$K" "$COV" "$ITERS" "$THREADS"
printf '%-12s %12s %10s %16s\n' run "s/iteration" "same bits" "bytes/iteration"
printf '%-12s %12s %10s %16s\n' "1 process" "$(per_iter "$W/one.csv")" - -
for p in $RANKS; do
  sent () {   # bytes rank 0 sent in a run of $1 iterations
    MIXEM_MPI_STATS=1 mpirun --allow-run-as-root --oversubscribe -n "$p" "$MIXEM" "${args[@]}" \
      --max-iter "$1" --out "$W/m$p.json" --trace "$W/m$p.csv" "$data" 2>&1 \
      | awk '/rank 0 of/ { print $7 }'
  }
  b2=$(sent "$ITERS")
  same=$(cmp -s <(grep -v '"seconds"' "$W/one.json") <(grep -v '"seconds"' "$W/m$p.json") \
         && echo yes || echo NO)
  t=$(per_iter "$W/m$p.csv")
  b1=$(sent 1)
  bpi=$([ -n "$b1" ] && [ -n "$b2" ] && echo $(( (b2 - b1) / (ITERS - 1) )) || echo -)
  printf '%-12s %12s %10s %16s\n' "mpirun -n $p" "$t" "$same" "$bpi"
done
