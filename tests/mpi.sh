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
# mid-fit; every built-in family in one script; a CSV cut by byte ranges; missing values (.npy,
# CSV, shards; a rank with none; a column missing in all of rank 0's rows).  Small blocks (--block-size 4: chunks of 256 rows) spread a few thousand rows over the
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
# Missing cells (NaN, NA): none in rows 1 to 1024 (rank 0's of 3), column 3 in every row of rank
# 1's (1025 to 1792), others at random after that, two whole rows missing; as .npy, CSV and .npy
# shards; and binary rows with none in rows 1 to 1300.
nan = float("nan")
gm = []
for i in range(2400):
    c = i % 2
    x = [r.gauss(3 * c, 1), r.gauss(-c, 1 + c), r.gauss(c, 1)]
    if i >= 1792 and r.random() < 0.25:
        x[r.randrange(3)] = nan
    if 1024 <= i < 1792:
        x[2] = nan
    if i in (1900, 1901):
        x[0] = x[1] = x[2] = nan
    gm.append(x)
npy(t + "/gm.npy", gm, "<f8", "d")
with open(t + "/gm.csv", "w") as f:
    f.write("a,b,c\n" + "".join(",".join("NA" if v != v else repr(v) for v in x) + "\n"
                                for x in gm))
for i, (a, z) in enumerate([(0, 900), (900, 2400)]):
    npy(t + "/sm-%d.npy" % i, gm[a:z], "<f8", "d")
with open(t + "/gz.csv", "w") as f:
    f.write("a,b,c\n" + "".join("%r,%r,NA\n" % (x[0], x[1]) for x in g[:1000]))
bm = [[float(v) for v in x] for x in b]
bm[1999][2] = 1.0   # (b's row 2000 was spoilt above)
for i in range(1300, 2500):
    if r.random() < 0.3:
        bm[i][r.randrange(4)] = nan
npy(t + "/bm.npy", bm, "<f8", "d")
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

# A case's first word says whether it runs on 1, 2 and 3 ranks and on 2 ranks of 2 threads each
# (t), or on 3 ranks alone (-), which keeps this suite's mpirun launches (about 1 s each) few.
for case in "t gaussian g.npy" "t bernoulli b.npy" "t poisson p.csv" \
            "- gaussian g.npy --init kmeans++ -k 3" \
            "- gaussian g.npy --init random_resp" "- bernoulli b.npy --algorithm cem" \
            "- gaussian gw.npy --weights 3" "- gaussian gw.csv --weights w" \
            "t gaussian g.npy --algorithm incremental --blocks 7" "- gaussian g.npy --init hc" \
            "- poisson p.csv --algorithm online --batch-size 300 --epochs 4" \
            "t gaussian gm.npy --allow-missing" \
            "- gaussian gm.csv --allow-missing --covariance diag --init kmeans++" \
            "- gaussian sm-*.npy --allow-missing --algorithm incremental --blocks 5" \
            "- bernoulli bm.npy --allow-missing" \
            "- gaussian g.npy --noise --noise-volume 1e3" \
            "- gaussian gw.csv --concomitant w"; do
  set -- $case
  threads=$1 fam=$2 data=$T/$3
  shift 3
  name="$fam-$data-$*"
  fit "$T/one" "$fam" "$data" "$@"
  ps=3
  [ "$threads" = t ] && ps="1 2 3"
  for p in $ps; do
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

# Every built-in family (and the Gaussian prior) on 1, 2 and 3 ranks, 15 iterations each from its
# default start, in one script a run: a family that looks at its data in params_new (the
# regressions' centres and bounds, categorical's levels, the prior's mean and scatter) does so
# over all ranks' rows (mixem_dataset_sum_rows), so the same bits.  Code 4 of c2 appears only
# in the last rows (rank 2's of 3).
cat > "$T/fam.awk" <<'AWK'
function g() { return sqrt(-2 * log(1 - rand())) * cos(6.283185307179586 * rand()) }
function pois(l,   k, p, s, u) { k = 0; p = exp(-l); s = p; u = rand()
  while (u > s && k < 200) { k++; p *= l / k; s += p } return k }
BEGIN { srand(11)
  print "g1,g2,b1,b2,b3,h,p1,p2,c1,c2,m1,m2,m3,e1,e2,ga1,ga2,t1,t2,v1,v2,v3,x,y,s,n,yc"
  for (i = 0; i < 1500; i++) { c = i % 2
    x = rand() * 4; n = 5 + int(rand() * 10); s = 0
    for (j = 0; j < n; j++) s += rand() < (c ? 0.2 + 0.1 * x : 0.8 - 0.1 * x)
    a = g(); b = g(); d = g() + 2 * c + 1; r = sqrt(a * a + b * b + d * d)
    printf "%.6f,%.6f,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.5f,%.6f,%d,%d,%d\n",
      g() + 3 * c, g() * (1 + c), rand() < 0.2 + 0.6 * c, rand() < 0.7 - 0.4 * c, rand() < 0.5,
      int(rand() * 11), pois(2 + 7 * c), pois(6 - 4 * c), int(rand() * 3) * c + (1 - c) * 2 * (rand() < 0.7),
      int(rand() * 4) + (i > 1400 && rand() < 0.3), pois(3 + 2 * c) + 1, pois(2), pois(1 + 3 * c), -log(1 - rand()) * (1 + 3 * c),
      -log(1 - rand()), -log((1 - rand()) * (1 - rand())) * (1 + c), 0.1 + rand(),
      g() + 2 * c, g() / sqrt(0.5 + rand()), a / r, b / r, d / r, x,
      (c ? 1 + 2 * x : 5 - x) + 0.3 * g(), s, n, pois(exp(c ? 0.2 + 0.4 * x : 1.5 - 0.2 * x)) } }
AWK
awk -f "$T/fam.awk" > "$T/fam.csv"
cat > "$T/fam.lua" <<'LUA'
local mx = require "mixem"
local opts = {}
if arg[2] == "mpi" then opts.part, opts.block_size = "mpi", 2 end
local X = mx.read_csv(arg[1], opts)
local cases = {
  {"gaussian", {"g1", "g2"}}, {"gaussian", {"g1", "g2"}, {prior = "default", covariance = "VII"}},
  {"bernoulli", {"b1", "b2", "b3"}},
  {"binomial", {"h"}, {trials = 10}}, {"poisson", {"p1", "p2"}},
  {"categorical", {"c1", "c2"}}, {"multinomial", {"m1", "m2", "m3"}},
  {"exponential", {"e1", "e2"}}, {"gamma", {"ga1", "ga2"}}, {"student_t", {"t1", "t2"}},
  {"von_mises_fisher", {"v1", "v2", "v3"}},
  {"product", {"g1", "p1", "b1"}, {parts = "gaussian:1;poisson:2;bernoulli:3"}},
  {"linreg", {"y", "x"}, {response = "y", covariates = "x"}},
  {"logitreg", {"s", "n", "x"}, {response = "s", trials = "n", covariates = "x"}},
  {"poisreg", {"yc", "x"}, {response = "yc", covariates = "x"}},
}
for _, c in ipairs(cases) do
  local o = {data = X, columns = c[2], family = c[1], k = 2, seed = 3, n_init = 1, short_starts = 1, n_refine = 0, max_iter = 15, tol = 0,
             block_size = 2}
  for key, v in pairs(c[3] or {}) do o[key] = v end
  local m = mx.fit(o)
  if mx.mpi() == 0 then
    print(string.format("%s %a %a %d", c[1], m.loglik, m.weights[1], m.n_iter))
  end
end
LUA
want=$("$MIXEM" run "$T/fam.lua" "$T/fam.csv" none)
for p in 1 2 3; do
  got=$("${MPIRUN[@]}" -n $p "$MIXEM" run "$T/fam.lua" "$T/fam.csv" mpi)
  if [ "$(printf '%s\n' "$want" | wc -l)" = 15 ] && [ "$want" = "$got" ]; then ok
  else bad "every family, $p ranks: $(diff <(echo "$want") <(echo "$got") | head -4)"; fi
done

# A CSV by byte ranges: its ranks count the lines of 1/P of the bytes each, then parse their
# rows from the range that holds their first.  Comment lines before the header (so that with 7
# ranks the header lies in a later range than the first), CRLF line ends, blank and comment lines
# among the rows, no line end at the end; and the same rows without a header (header = false).
awk 'BEGIN { for (i = 0; i < 100; i++) printf "# a long comment line, before the header: %36d\n", i
             printf "x,y\r\n"
             for (i = 1; i <= 1500; i++) {
               if (i % 97 == 0) printf "\r\n  # a comment among the rows\n"
               printf "%.5f,%.5f%s", sin(i) * 3 + (i % 2) * 5, cos(1.3 * i) * 2 + i / 700,
                      i < 1500 ? "\r\n" : "" } }' > "$T/br.csv"
grep -v -e '^#' -e '^x' "$T/br.csv" > "$T/brn.csv"
cat > "$T/br.lua" <<'LUA'
local mx = require "mixem"
local opts = {header = arg[2] ~= "brn.csv"}
if arg[3] == "mpi" then opts.part, opts.block_size = "mpi", 2 end
local X = mx.read_csv(arg[1] .. "/" .. arg[2], opts)
local m = mx.fit{data = X, family = "gaussian", k = 2, seed = 4, n_init = 2, block_size = 2}
if mx.mpi() == 0 then print(string.format("%a %a %d", m.loglik, m.weights[1], m.n_iter)) end
LUA
for f in br.csv brn.csv; do
  want=$("$MIXEM" run "$T/br.lua" "$T" $f none)
  for p in 2 7; do
    got=$("${MPIRUN[@]}" -n $p "$MIXEM" run "$T/br.lua" "$T" $f mpi)
    if [ -n "$want" ] && [ "$want" = "$got" ]; then ok
    else bad "CSV byte ranges, $f, $p ranks: '$got', not '$want'"; fi
  done
done

# A bad cell far into the file: the rank that parses it names the line and row in the whole file.
awk 'NR == 1380 { sub(/^[^,]*/, "oops") } { print }' "$T/br.csv" > "$T/brbad.csv"
want=$("$MIXEM" fit -f gaussian -k 2 "$T/brbad.csv" 2>&1)
out=$("${MPIRUN[@]}" -n 7 "$MIXEM" fit -f gaussian -k 2 --block-size 2 "$T/brbad.csv" 2>&1)
if printf '%s' "$want" | grep -q 'brbad.csv:1380: row 1255' \
   && [ "$(printf '%s\n' "$out" | grep -cF "$want")" = 1 ]
then ok; else bad "CSV byte ranges, a bad cell: '$out', not '$want'"; fi

# A concomitant variable missing in one rank's rows: one message from every rank, no hang.
awk 'NR == 1500 { sub(/[^,]*$/, "NA") } { print }' "$T/gw.csv" > "$T/gwna.csv"
out=$("${MPIRUN[@]}" -n 3 "$MIXEM" fit -f gaussian -k 2 --allow-missing --concomitant w \
      --block-size 4 "$T/gwna.csv" 2>&1)
if [ "$(printf '%s\n' "$out" | grep -c "gwna.csv:1500: row 1499, column 'w': a concomitant variable must be a finite number")" = 1 ]
then ok; else bad "concomitant NA on one rank: '$out'"; fi

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

# A column missing in every row of all ranks: the same message from every rank, once.
out=$("${MPIRUN[@]}" -n 3 "$MIXEM" fit -f gaussian -k 2 --block-size 4 --allow-missing \
      "$T/gz.csv" 2>&1)
status=$?
if [ "$status" -ne 0 ] && [ "$status" -ne 124 ] \
   && [ "$(printf '%s\n' "$out" | grep -c "column 'c' is missing in every row")" = 1 ]
then ok; else bad "a column missing everywhere, 3 ranks: status $status, output: $out"; fi

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
