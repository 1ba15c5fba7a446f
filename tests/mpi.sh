#!/bin/bash
# mpi.sh: fits across ranks with Open MPI (issue 17), run by make check when configure found MPI.
# Each fit under `mpirun -n 1, 2, 3` must write the very model (and trace) of the single-process
# fit, byte for byte but for the timings: gaussian on a .npy of doubles, bernoulli on a .npy of
# bytes, poisson on a CSV whose ranks parse only their own lines (its default start: k-means),
# shard files (sh-*.npy, sh-*.csv), mixem select with the candidates shared out among the ranks,
# k-means++, random rows and random_resp starts, CEM, row weights, 2 threads a rank, a Lua script
# under mixem run (mx.read_npy(path, {part = "mpi"})); then 7 ranks on an uneven split (three of
# them with no rows), bad data on one rank (every rank stops with its message, non-zero exit, no
# hang: each run under timeout), a start refused across ranks, a missing file and a rank killed
# mid-fit.  Small blocks (--block-size 4: chunks of 256 rows) spread a few thousand rows over the
# ranks.  Prints "N passed, N failed".
set -u
MIXEM=${MIXEM:?path of the mixem program}
command -v mpirun >/dev/null || { echo "mpirun not found: skipped"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
passed=0 failed=0
# One thread a rank unless asked, and no busy waiting: the ranks share the machine's cores.
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive
MPIRUN=(timeout 60 mpirun --allow-run-as-root --oversubscribe)

ok () { passed=$((passed + 1)); }
bad () { failed=$((failed + 1)); printf 'FAIL %s\n' "$*" >&2; }
# The model and trace without their timings (the only fields that may differ).
strip () { grep -v '"seconds"' "$1"; }
strip_trace () { cut -d, -f1-6,8- "$1"; }
same () {   # same NAME REF.json GOT.json: models (and traces REF.csv, GOT.csv) byte for byte
  if [ -s "$3" ] && cmp -s <(strip "$2") <(strip "$3") \
     && cmp -s <(strip_trace "${2%.json}.csv") <(strip_trace "${3%.json}.csv"); then ok
  else bad "$1: $3 differs from $2"; diff <(strip "$2") <(strip "$3") | head -5 >&2; fi
}

# Data: two Gaussian clusters (doubles), binary rows (bytes), counts (CSV); no numpy needed.
python3 - "$T" <<'PY'
import random, struct, sys
t = sys.argv[1]
def npy(path, rows, dtype, fmt):
    d = len(rows[0])
    head = "{'descr': '%s', 'fortran_order': False, 'shape': (%d, %d), }" % (dtype, len(rows), d)
    head += " " * (63 - (len(head) + 10) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(head)) + head.encode())
        for r in rows:
            f.write(struct.pack("<%d%s" % (d, fmt), *r))
r = random.Random(7)
g = [[r.gauss(0, 1), r.gauss(0, 1)] if r.random() < 0.5 else [r.gauss(4, 1), r.gauss(3, 2)]
     for _ in range(3000)]
npy(t + "/g.npy", g, "<f8", "d")
b = []
for _ in range(2500):
    p = [0.8, 0.7, 0.2, 0.1] if r.random() < 0.4 else [0.1, 0.3, 0.9, 0.6]
    b.append([int(r.random() < q) for q in p])
npy(t + "/b.npy", b, "|u1", "B")
b[1999][2] = 2   # row 2000 (rank 2's share of 3) is no Bernoulli row
npy(t + "/b2.npy", b, "|u1", "B")
with open(t + "/p.csv", "w") as f:
    f.write("# counts\nx,y\n")
    for i in range(2200):
        lam = (2, 9) if r.random() < 0.5 else (12, 3)
        def pois(l):
            k, s, u = 0, 1.0, r.random()
            import math
            p = math.exp(-l); s = p
            while u > s:
                k += 1; p *= l / k; s += p
            return k
        f.write("%d,%d\n" % (pois(lam[0]), pois(lam[1])))
        if i == 1000:
            f.write("\n# a comment line inside the data\n")
# 1000 rows; row 900 (rank 6's share of 7) holds a NaN.
bad = [list(x) for x in g[:1000]]
bad[899][1] = float("nan")
npy(t + "/nan.npy", bad, "<f8", "d")
npy(t + "/u.npy", g[:1000], "<f8", "d")
# Shards of g, uneven (one shorter than a chunk), as .npy and CSV files.
for i, (a, z) in enumerate([(0, 700), (700, 1900), (1900, 2000), (2000, 3000)]):
    npy(t + "/sh-%d.npy" % i, g[a:z], "<f8", "d")
    with open(t + "/sh-%d.csv" % i, "w") as f:
        f.write("1,2\n" + "".join("%r,%r\n" % tuple(x) for x in g[a:z]))
# Row weights: a third column, in a .npy and in a CSV.
gw = [x + [0.25 + 2 * r.random()] for x in g[:2000]]
npy(t + "/gw.npy", gw, "<f8", "d")
with open(t + "/gw.csv", "w") as f:
    f.write("x,y,w\n" + "".join("%r,%r,%r\n" % tuple(x) for x in gw))
PY

fit () {   # fit OUT FAMILY DATA ARGS...: the single-process fit
  local out=$1 fam=$2 data=$3
  shift 3
  "$MIXEM" fit -q -f "$fam" -k 2 --block-size 4 --seed 5 --n-init 2 --short-starts 3 \
    --out "$out.json" --trace "$out.csv" "$@" "$data" || bad "fit $out"
}
mfit () {  # mfit P OUT FAMILY DATA ARGS...: the same under mpirun -n P
  local p=$1 out=$2 fam=$3 data=$4
  shift 4
  "${MPIRUN[@]}" -n "$p" "$MIXEM" fit -q -f "$fam" -k 2 --block-size 4 --seed 5 --n-init 2 \
    --short-starts 3 --out "$out.json" --trace "$out.csv" "$@" "$data" || bad "mpirun -n $p $out"
}

# A case's first word says whether 2 ranks of 2 threads each are tried too (t) or not (-).
for case in "t gaussian g.npy" "t bernoulli b.npy" "t poisson p.csv" \
            "- gaussian g.npy --init kmeans++ -k 3" \
            "- gaussian g.npy --init random_resp" "- bernoulli b.npy --algorithm cem" \
            "- gaussian gw.npy --weights 3" "- gaussian gw.csv --weights w" \
            "t gaussian g.npy --algorithm incremental --blocks 7" "- gaussian g.npy --init hc" \
            "- poisson p.csv --algorithm online --batch-size 300 --epochs 4" \
            "- gaussian g.npy --noise --noise-volume 1e3"; do
  set -- $case
  threads=$1 fam=$2 data=$T/$3
  shift 3
  name="$fam-$data-$*"
  fit "$T/one" "$fam" "$data" "$@"
  for p in 1 2 3; do
    rm -f "$T/m$p.json" "$T/m$p.csv"
    mfit "$p" "$T/m$p" "$fam" "$data" "$@"
    same "$name, $p ranks" "$T/one.json" "$T/m$p.json"
  done
  # Two threads a rank: the same bits again.
  if [ "$threads" = t ]; then
    OMP_NUM_THREADS=2 mfit 2 "$T/t2" "$fam" "$data" --threads 2 "$@"
    same "$name, 2 ranks x 2 threads" "$T/one.json" "$T/t2.json"
  fi
done

# Shard files (a pattern, in name order): each rank reads the pieces of its rows.
fit "$T/one" gaussian "$T/g.npy"
for e in npy csv; do
  for p in 1 3; do
    mfit "$p" "$T/s$p" gaussian "$T/sh-*.$e"
    same "shards .$e, $p ranks" "$T/one.json" "$T/s$p.json"
  done
done

# mixem select under mpirun: every rank holds all rows and fits its share of the candidates;
# rank 0 writes the same table and chosen model as one process.
sel=(select -q -f gaussian -k 1-3 --covariance VVV,EII --n-init 2 --short-starts 3)
"$MIXEM" "${sel[@]}" --out "$T/sel1.csv" --model-out "$T/selm1.json" "$T/g.npy" || bad "select"
"${MPIRUN[@]}" -n 3 "$MIXEM" "${sel[@]}" --out "$T/sel3.csv" --model-out "$T/selm3.json" \
  "$T/g.npy" || bad "select, 3 ranks"
if cmp -s "$T/sel1.csv" "$T/sel3.csv" && cmp -s <(strip "$T/selm1.json") <(strip "$T/selm3.json")
then ok; else bad "select, 3 ranks: table or model differs"; fi

# mx.select in a script under mpirun: the candidates shared out (spread, the default), the result
# that of one process.
cat > "$T/sel.lua" <<'LUA'
local mx = require "mixem"
local X = mx.read_npy(arg[1])
local r = mx.select{data = X, family = "gaussian", k = {1, 2, 3}, covariance = {"VVV", "EII"},
                    n_init = 2, short_starts = 3, spread = arg[2] ~= "alone", quiet = true}
local rank = mx.mpi()
local out = {}
for i, c in ipairs(r.candidates) do out[i] = string.format("%a", c.bic) end
if rank == 0 then print(r.best, table.concat(out, " "), string.format("%a", r.model.loglik)) end
LUA
want=$("$MIXEM" run "$T/sel.lua" "$T/g.npy")
got=$("${MPIRUN[@]}" -n 3 "$MIXEM" run "$T/sel.lua" "$T/g.npy")
if [ -n "$want" ] && [ "$want" = "$got" ]; then ok
else bad "mx.select, 3 ranks: '$got', not '$want'"; fi

# mixem run: a script asks for its share (mx.read_npy(path, {part = "mpi"})); rank 0 prints.
cat > "$T/fit.lua" <<'LUA'
local mx = require "mixem"
local path, part = arg[1], arg[2]
local X = mx.read_npy(path, part == "mpi" and {part = "mpi", block_size = 4} or nil)
local m = mx.fit{data = X, family = "gaussian", k = 2, seed = 5, n_init = 2, short_starts = 3,
                 block_size = 4}
local rank, size = mx.mpi()
if rank == 0 then print(string.format("%a %d", m.loglik, m.n_iter)) end
if arg[3] then   -- rank 0 alone writes: each rank names its files by its number
  m:save(arg[3] .. "/m" .. rank .. ".json")
  m:save_trace(arg[3] .. "/t" .. rank .. ".csv")
  mx.plot.trace(m, arg[3] .. "/p" .. rank .. ".png")
end
LUA
want=$("$MIXEM" run "$T/fit.lua" "$T/g.npy" none)
got=$("${MPIRUN[@]}" -n 3 "$MIXEM" run "$T/fit.lua" "$T/g.npy" mpi)
if [ -n "$want" ] && [ "$want" = "$got" ]; then ok; else bad "mixem run, 3 ranks: '$got', not '$want'"; fi
mkdir -p "$T/w"
"${MPIRUN[@]}" -n 3 "$MIXEM" run "$T/fit.lua" "$T/g.npy" mpi "$T/w" > /dev/null
if [ "$(cd "$T/w" && ls | tr '\n' ' ')" = "m0.json p0.png t0.csv " ]; then ok
else bad "mixem run, 3 ranks: files written: $(ls "$T/w" | tr '\n' ' ')"; fi

# A family written in the script, on each rank (a CSV share): the same bits as one process.
cat > "$T/lfam.lua" <<'LUA'
local mx = require "mixem"
local log, lgamma = math.log, mx.lgamma
mx.family{
  name = "lua_poisson", summary = "Poisson counts, in Lua", params = {lambda = "positive"},
  stats = function(x) return x end,
  maximise = function(s, n)
    local lambda = {}
    for j = 1, #s do lambda[j] = math.max(s[j] / n, 1e-10) end
    return {lambda = lambda}
  end,
  log_density = function(theta, x)
    local lp = 0
    for j = 1, #x do lp = lp + x[j] * log(theta.lambda[j]) - theta.lambda[j] - lgamma(x[j] + 1) end
    return lp
  end,
  init = function(X, k, rng)   -- its own start, from rows drawn among all of them
    local t = {}
    for c = 1, k do
      local r = X[1 + math.floor(rng:uniform() * #X)]
      t[c] = {lambda = {r[1] + 0.5, r[2] + 0.5}}
    end
    return t
  end,
}
local X = mx.read_csv(arg[1], arg[2] == "mpi" and {part = "mpi", block_size = 8} or nil)
local m = mx.fit{data = X, family = "lua_poisson", k = 2, seed = 3, n_init = 2, block_size = 8}
local rank = mx.mpi()
if rank == 0 then print(string.format("%a %a %d", m.loglik, m.components[1].lambda[1], m.n_iter)) end
LUA
want=$("$MIXEM" run "$T/lfam.lua" "$T/p.csv" none)
got=$("${MPIRUN[@]}" -n 3 "$MIXEM" run "$T/lfam.lua" "$T/p.csv" mpi)
if [ -n "$want" ] && [ "$want" = "$got" ]; then ok
else bad "a Lua family, 3 ranks: '$got', not '$want'"; fi

# Re-seeding a collapsed component (reseed): the worst-explained rows of all ranks.
awk 'BEGIN { print "x,y"; for (i = 1; i <= 1200; i++)
             if (i > 600 && i <= 900) print "10,10"
             else printf "%.6f,%.6f\n", sin(i) * 3, cos(1.7 * i) * 2 + i / 300 }' > "$T/rs.csv"
cat > "$T/rs.lua" <<'LUA'
local mx = require "mixem"
local X = mx.read_csv(arg[1], arg[2] == "mpi" and {part = "mpi", block_size = 4} or nil)
local init = {components = {{mean = {10, 10}, cov = {{0.01, 0}, {0, 0.01}}},
                            {mean = {-1, 0}, cov = {{1, 0}, {0, 1}}},
                            {mean = {1, 2}, cov = {{1, 0}, {0, 1}}}}}
local m = mx.fit{data = X, family = "gaussian", k = 3, reg_covar = 0, init = init, reseed = true,
                 max_iter = 10, tol = 0, block_size = 4}
local seen = 0
for _, it in ipairs(m.trace) do if it.reseeded > 0 then seen = seen + 1 end end
if mx.mpi() == 0 then print(string.format("%a %d %a", m.loglik, seen, m.weights[1])) end
LUA
want=$("$MIXEM" run "$T/rs.lua" "$T/rs.csv" none)
got=$("${MPIRUN[@]}" -n 3 "$MIXEM" run "$T/rs.lua" "$T/rs.csv" mpi)
case "$want" in *" 0 "*|"") bad "reseed: nothing re-seeded ('$want')" ;; esac
if [ -n "$want" ] && [ "$want" = "$got" ]; then ok
else bad "reseed, 3 ranks: '$got', not '$want'"; fi

# 7 ranks, 1000 rows in 4 chunks of 256: ranks 0, 2 and 4 hold no rows.
fit "$T/u1" gaussian "$T/u.npy"
mfit 7 "$T/u7" gaussian "$T/u.npy"
same "7 ranks, uneven" "$T/u1.json" "$T/u7.json"

# --mpi-part none: every rank fits all rows alone (and rank 0 writes).
"${MPIRUN[@]}" -n 2 "$MIXEM" fit -q -f gaussian -k 2 --block-size 4 --seed 5 --n-init 2 \
  --short-starts 3 --mpi-part none --out "$T/n2.json" --trace "$T/n2.csv" "$T/g.npy" \
  || bad "--mpi-part none"
fit "$T/one" gaussian "$T/g.npy"
same "--mpi-part none" "$T/one.json" "$T/n2.json"

# Bad data on one rank: every rank stops, one message naming the global row, exit 1, no file.
out=$("${MPIRUN[@]}" -n 7 "$MIXEM" fit -f gaussian -k 2 --block-size 4 --out "$T/nan.json" \
      "$T/nan.npy" 2>&1)
status=$?
if [ "$status" -ne 0 ] && [ "$status" -ne 124 ] && [ ! -e "$T/nan.json" ] \
   && [ "$(printf '%s\n' "$out" | grep -c 'row 900, column 2: nan is not a finite number')" = 1 ]
then ok; else bad "NaN on rank 6: status $status, output: $out"; fi

# A family's check fails on one rank's rows: the same message (the global row), exit 1.
want=$("$MIXEM" fit -f bernoulli -k 2 --block-size 4 "$T/b2.npy" 2>&1)
out=$("${MPIRUN[@]}" -n 3 "$MIXEM" fit -f bernoulli -k 2 --block-size 4 "$T/b2.npy" 2>&1)
status=$?
if [ "$status" -ne 0 ] && [ "$status" -ne 124 ] && printf '%s' "$want" | grep -q 'row 2000' \
   && [ "$(printf '%s\n' "$out" | grep -cF "$want")" = 1 ]
then ok; else bad "bernoulli check on rank 2: status $status, output: $out"; fi

# What is not available across ranks yet (missing values) is refused: a clean error, once.
out=$("${MPIRUN[@]}" -n 2 "$MIXEM" fit -f gaussian -k 2 --allow-missing "$T/p.csv" 2>&1)
status=$?
if [ "$status" -ne 0 ] && [ "$status" -ne 124 ] \
   && [ "$(printf '%s\n' "$out" | grep -c 'not available in shards or across ranks')" = 1 ]
then ok; else bad "missing values across ranks: status $status, output: $out"; fi

# Row weights that sum to zero over all ranks: the same message from every rank, once.
awk -F, 'NR == 1 { print; next } { print $1 "," $2 ",0" }' "$T/gw.csv" > "$T/gw0.csv"
out=$("${MPIRUN[@]}" -n 3 "$MIXEM" fit -f gaussian -k 2 --block-size 4 --weights w "$T/gw0.csv" 2>&1)
status=$?
if [ "$status" -ne 0 ] && [ "$status" -ne 124 ] \
   && [ "$(printf '%s\n' "$out" | grep -c 'the row weights sum to zero')" = 1 ]
then ok; else bad "zero weights, 3 ranks: status $status, output: $out"; fi

# A missing file: the same message from every rank, once.
out=$("${MPIRUN[@]}" -n 3 "$MIXEM" fit -f gaussian -k 2 "$T/none.npy" 2>&1)
status=$?
if [ "$status" -eq 1 ] && [ "$(printf '%s\n' "$out" | grep -c 'none.npy')" -ge 1 ]
then ok; else bad "missing file: status $status, output: $out"; fi

# A rank killed mid-fit: mpirun ends the job (non-zero), no rank waits for ever, no model.
out=$("${MPIRUN[@]}" -n 3 bash -c 'if [ "$OMPI_COMM_WORLD_RANK" = 2 ]; then
        (sleep 1; kill -9 $$) & fi; exec "$0" "$@"' "$MIXEM" fit -q -f gaussian -k 2 \
        --block-size 4 --n-init 1000 --out "$T/killed.json" "$T/g.npy" 2>&1)
status=$?
if [ "$status" -ne 0 ] && [ "$status" -ne 124 ] && [ ! -e "$T/killed.json" ]
then ok; else bad "killed rank: status $status"; fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
