#!/bin/bash
# bench/mpi_csv.sh: what a rank reads of a CSV across ranks (issue 17).  A CSV of N rows and D
# columns is fit for one iteration under mpirun -n P (RANKS); each rank's peak resident memory
# (GNU time's %M, which counts the mapped file pages the rank touched) and the run's wall time are
# printed beside the file's size: a rank holds about 1/P of the text and of the doubles.
# Not a test: CI never runs it.   N=rows (1000000)  D=columns (8)  RANKS="1 2 4"
set -eu
cd "$(dirname "$0")/.."
N=${N:-1000000} D=${D:-8} RANKS=${RANKS:-"1 2 4"}
W=${BENCH_DIR:-bench/work}/mpi_csv
mkdir -p "$W"
MIXEM=$PWD/src/mixem
export MIXEM_FAMILY_PATH=$PWD/families/.libs OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive
data=$W/c-$N-$D.csv
[ -e "$data" ] || awk -v n="$N" -v d="$D" 'BEGIN { srand(1)
  for (j = 1; j <= d; j++) printf "%sx%d", (j > 1 ? "," : ""), j; print ""
  for (i = 0; i < n; i++) { c = (i % 3) * 4
    for (j = 1; j <= d; j++) printf "%s%.6f", (j > 1 ? "," : ""), c + rand() * 2; print "" } }' \
  > "$data"
size=$(stat -c %s "$data")
awk -v n="$N" -v d="$D" -v s="$size" 'BEGIN {
  printf "CSV: %d rows, %d columns, %.1f MB; its doubles %.1f MB\n", n, d, s / 1e6, n * d * 8 / 1e6 }'
printf '%-6s %10s %30s\n' ranks "wall s" "peak RSS of each rank (MB)"
for p in $RANKS; do
  rm -f "$W"/rss.*
  start=$(date +%s%N)
  mpirun --allow-run-as-root --oversubscribe -n "$p" bash -c \
    '/usr/bin/time -f %M -o "$0.$OMPI_COMM_WORLD_RANK" "$@"' "$W/rss" "$MIXEM" fit -q \
    -f gaussian -k 3 --covariance diag --init random --n-init 1 --short-starts 1 --max-iter 1 \
    --out "$W/m.json" "$data"
  end=$(date +%s%N)
  rss=$(for r in $(seq 0 $((p - 1))); do awk '{ printf "%.0f ", $1 / 1024 }' "$W/rss.$r"; done)
  printf '%-6s %10.2f %30s\n' "$p" "$(awk -v a="$start" -v b="$end" 'BEGIN { print (b - a) / 1e9 }')" "$rss"
done
