#!/bin/bash
# bench/online_memory.sh: online EM's peak memory against the file's size.  For N rows of three
# 2-D Gaussian clouds (float64 .npy, 16 bytes a row), `mixem fit --algorithm online --stream`
# (batches of 1000 rows read one at a time) beside the same online EM on the whole file
# (memory-mapped: its pages count in the resident set as they are read).  Prints rows, file MiB,
# then seconds, rows per second and peak RSS (MiB, /usr/bin/time) of each, and of scikit-learn's
# full-batch GaussianMixture (EM to its tol 1e-3 from its k-means start, one thread) for files of
# at most SK_MAX rows (default 4000000; it holds the data and N x K arrays in memory).
#   bench/online_memory.sh [N...]     (default 1000000 4000000 20000000; needs the build tree)
set -euo pipefail
cd "$(dirname "$0")/.."
W=${BENCH_DIR:-bench/work}
mkdir -p "$W"
SIZES=${*:-1000000 4000000 20000000}
SK_MAX=${SK_MAX:-4000000}
printf '%10s %9s | %-34s | %-34s | %s\n' rows "file MiB" "stream: s, rows/s, peak RSS MiB" \
  "whole file: s, rows/s, peak RSS MiB" "scikit-learn: s, rows/s, peak RSS MiB"
for n in $SIZES; do
  f="$W/online_$n.npy"
  # Drawn in pieces, so that the generator's own memory stays small too.
  [ -f "$f" ] || /usr/bin/python3 - "$f" "$n" <<'PY'
import sys, numpy as np
path, n = sys.argv[1], int(sys.argv[2])
out = np.lib.format.open_memmap(path, mode="w+", dtype="<f8", shape=(n, 2))
rng = np.random.default_rng(14)
centres = np.array([[0.0, 0.0], [6.0, 0.0], [12.0, -4.0]])
for lo in range(0, n, 1_000_000):
    hi = min(n, lo + 1_000_000)
    out[lo:hi] = rng.normal(size=(hi - lo, 2)) + centres[rng.integers(0, 3, hi - lo)]
out.flush()
PY
  mib=$(awk -v b="$(stat -c %s "$f")" 'BEGIN { printf "%.0f", b / 1048576 }')
  line=""
  for mode in stream whole; do
    extra=(--epochs 1 --short-starts 1)
    [ "$mode" = stream ] && extra+=(--stream --batch-size 1000)
    [ "$mode" = whole ] && extra+=(--batch-size 1000)
    /usr/bin/time -f "%e %M" -o "$W/online_time" src/mixem fit -q -f gaussian -k 3 \
      --algorithm online --n-init 1 --seed 1 --threads 1 "${extra[@]}" "$f"
    read -r secs kib < "$W/online_time"
    line+=$(awk -v s="$secs" -v k="$kib" -v n="$n" \
      'BEGIN { printf " | %8.2f %12.0f %12.1f       ", s, n / s, k / 1024 }')
  done
  if [ "$n" -le "$SK_MAX" ]; then
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 /usr/bin/time -f "%e %M" -o "$W/online_time" \
      /usr/bin/python3 -c 'import sys, numpy as np
from sklearn.mixture import GaussianMixture
GaussianMixture(3, random_state=1).fit(np.load(sys.argv[1]))' "$f"
    read -r secs kib < "$W/online_time"
    line+=$(awk -v s="$secs" -v k="$kib" -v n="$n" \
      'BEGIN { printf " | %8.2f %12.0f %12.1f", s, n / s, k / 1024 }')
  else
    line+=" |        -            -            -"
  fi
  printf '%10d %9s%s\n' "$n" "$mib" "$line"
done
