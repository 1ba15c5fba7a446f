#!/bin/bash
# test_cli.sh: the mixem command: exit codes (0 success, 1 runtime or data error, 2 usage error),
# outputs, bad options, missing files, malformed CSV, a model file cut off half-way, atomic
# writes, write errors on stdout, and a CLI trace that matches m.trace from Lua.  Prints "N passed, N failed".
set -u
MIXEM=${MIXEM:?path of the mixem program}
SRC=${MIXEM_TEST_SRCDIR:?}
COINS="$SRC/data/two_coins.csv"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
passed=0 failed=0

# check NAME EXPECTED_STATUS PATTERN -- COMMAND...: runs COMMAND; its status must be EXPECTED and
# its stdout+stderr must match the extended regex PATTERN.
check () {
  local name=$1 want=$2 pattern=$3
  shift 4
  local out status
  out=$("$@" 2>&1)
  status=$?
  # grep -z reads the whole output as one record, so a pattern may span lines.
  if [ "$status" -eq "$want" ] && { [ -z "$pattern" ] || printf '%s' "$out" | grep -Ezq -- "$pattern"; }; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    printf 'FAIL %s: status %s (expected %s), output:\n%s\n' "$name" "$status" "$want" "$out" >&2
  fi
}

# assert NAME CONDITION...: a plain test.
assert () {
  local name=$1
  shift
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL $name" >&2; fi
}

check "version" 0 '^mixem [0-9]+\.[0-9]+' -- "$MIXEM" --version
check "no command" 2 'Usage: mixem COMMAND' -- "$MIXEM"
check "unknown command" 2 "unknown command 'frobnicate'" -- "$MIXEM" frobnicate
check "help" 0 'fit .*Fit a mixture' -- "$MIXEM" help
check "help fit" 0 '--components' -- "$MIXEM" help fit
check "fit --help" 0 '--max-iter' -- "$MIXEM" fit --help
check "help unknown" 2 "unknown command 'nope'" -- "$MIXEM" help nope
check "families" 0 'binomial: successes out of trials' -- "$MIXEM" families

# fit: the two-coin example with fixed weights, ten iterations from the paper's start.
check "fit two coins" 0 'family binomial, k = 2.*' -- \
  "$MIXEM" fit -f binomial --trials trials -k 2 "$COINS" --out "$T/m.json" --trace "$T/trace.csv" \
  --max-iter 10 --tol 0 --fix weights --seed 1 --n-init 1
assert "model written" test -s "$T/m.json"
assert "trace has 11 lines" test "$(wc -l < "$T/trace.csv")" -eq 11
assert "trace header" test "$(head -n 1 "$T/trace.csv")" = "iter,loglik,elbo,kl,entropy,delta,seconds,extrapolated"
check "fit quiet" 0 '' -- "$MIXEM" fit -q -f binomial --trials trials -k 2 "$COINS"
check "fit verbose" 0 'restart 1  iter    1  loglik' -- \
  "$MIXEM" fit -v -f binomial --trials trials -k 2 "$COINS"
check "fit option" 0 'option trials = 10' -- \
  "$MIXEM" fit -f binomial -o trials=10 --columns heads -k 2 "$COINS"
check "fit threads" 0 'log-likelihood' -- \
  "$MIXEM" fit -f binomial --trials trials -k 2 --threads 2 --n-init 3 "$COINS"

# fit: usage errors (2).
check "bad option" 2 'Unknown option --bogus' -- "$MIXEM" fit --bogus "$COINS"
check "no data" 2 'no data file given' -- "$MIXEM" fit -f binomial
check "no family" 2 '--family is required' -- "$MIXEM" fit "$COINS"
check "k zero" 2 '-k must be >= 1' -- "$MIXEM" fit -f binomial --trials trials -k 0 "$COINS"
check "k not a number" 2 'Cannot parse integer value .two.' -- "$MIXEM" fit -f binomial -k two "$COINS"
check "tol negative" 2 '--tol must be >= 0' -- "$MIXEM" fit -f binomial --tol -1 "$COINS"
check "unknown family" 2 "unknown family 'negbin'" -- "$MIXEM" fit -f negbin "$COINS"
check "family option typo" 2 "family 'binomial' has no option 'trails'" -- \
  "$MIXEM" fit -f binomial -o trails=3 "$COINS"
check "bad trials" 2 "'trials' = 'nope' is neither a column" -- \
  "$MIXEM" fit -f binomial --trials nope "$COINS"
check "bad init" 2 "unknown start 'kmeans'" -- \
  "$MIXEM" fit -f binomial --trials trials --init kmeans "$COINS"
check "bad fix" 2 "--fix: 'wieghts' is not weights" -- \
  "$MIXEM" fit -f binomial --trials trials --fix wieghts "$COINS"
check "bad delimiter" 2 '--delimiter must be one character' -- \
  "$MIXEM" fit -f binomial --trials trials -d ';;' "$COINS"

# fit: data errors (1), and nothing half-written.
check "missing file" 1 'nonexistent.csv' -- "$MIXEM" fit -f binomial --trials trials "$T/nonexistent.csv"
printf 'heads,trials\n5,10\n9,x\n' > "$T/bad.csv"
check "malformed csv" 1 'bad.csv:3: row 2, column .trials.: not a number' -- \
  "$MIXEM" fit -f binomial --trials trials "$T/bad.csv"
printf 'heads,trials\n5,10\n9\n' > "$T/ragged.csv"
check "ragged csv" 1 'ragged.csv:3: row 2 has 1 fields' -- \
  "$MIXEM" fit -f binomial --trials trials "$T/ragged.csv"
printf 'heads,trials\n5,10\n12,10\n' > "$T/over.csv"
check "s > n" 1 'over.csv:3: row 2, column .heads.: 12 successes out of 10 trials' -- \
  "$MIXEM" fit -f binomial --trials trials --out "$T/none.json" "$T/over.csv"
assert "no model file after a failed fit" test ! -e "$T/none.json"
cp "$T/m.json" "$T/keep.json"
check "failed fit keeps old model" 1 'successes out of' -- \
  "$MIXEM" fit -f binomial --trials trials --out "$T/keep.json" "$T/over.csv"
assert "old model intact" cmp -s "$T/m.json" "$T/keep.json"
check "unwritable out" 1 'nonexistent-dir' -- \
  "$MIXEM" fit -f binomial --trials trials --out "$T/nonexistent-dir/m.json" "$COINS"
cp "$T/m.json" "$T/keep.json"
check "failed trace write" 1 'nonexistent-dir/t.csv' -- \
  "$MIXEM" fit -f binomial --trials trials -k 2 --seed 7 "$COINS" --out "$T/keep.json" \
  --trace "$T/nonexistent-dir/t.csv"
assert "a failed trace write leaves the model as it was" cmp -s "$T/m.json" "$T/keep.json"
assert "no temporary files left" test -z "$(ls "$T" | grep -v -E '^(m|keep)\.json$|\.csv$')"

# Issue 18: a NUL byte used to end the data silently (the rows after it were dropped); a stream
# without newlines was read without limit; duplicated names and binary bytes in a name.
I=$T/issue18
mkdir -p "$I"
printf 'x,y\n1,2\n3,4\n2,5\n\0\n' > "$I/nul.csv"
for i in 1 2 3 4 5 6 7 8 9 10; do printf '%d,%d\n' $i $((i * 3 % 7)) >> "$I/nul.csv"; done
check "NUL byte: fit" 1 'nul.csv:5: a NUL byte' -- "$MIXEM" fit -f gaussian -k 2 "$I/nul.csv"
check "NUL byte: select" 1 'nul.csv:5: a NUL byte' -- "$MIXEM" select -f gaussian -k 1-2 "$I/nul.csv"
printf 'local mx = require "mixem"\nmx.read_csv(arg[1])\n' > "$I/readcsv.lua"
check "NUL byte: mx.read_csv" 1 'nul.csv:5: a NUL byte' -- "$MIXEM" run "$I/readcsv.lua" "$I/nul.csv"
check "a stream without newlines" 1 '/dev/zero:1: a line longer than 64 MiB' -- \
  timeout 60 "$MIXEM" fit -f gaussian /dev/zero
check "a model from a stream without newlines" 1 '/dev/zero:1: a line longer than 64 MiB' -- \
  timeout 60 "$MIXEM" sample /dev/zero -n 1
check "data from a pipe" 0 'family binomial, k = 2' -- \
  bash -c 'cat "$1" | "$2" fit -f binomial --trials trials -k 2 /dev/stdin' _ "$COINS" "$MIXEM"
printf 'a,b,a\n1,2,3\n' > "$I/dup.csv"
check "duplicated column names" 1 'dup.csv:1: columns 1 and 3 are both named .a.' -- \
  "$MIXEM" fit -f gaussian "$I/dup.csv"
printf '\033[31mx\001,y\nred,1\n' > "$I/esc.csv"
"$MIXEM" fit -f gaussian "$I/esc.csv" > /dev/null 2> "$I/esc.txt"
assert "binary bytes in a name are escaped" grep -qF "column '\\x1b[31mx\\x01': not a number ('red')" "$I/esc.txt"
assert "no escape byte reaches the terminal" test "$(tr -d -c '\033\001' < "$I/esc.txt" | wc -c)" -eq 0
printf '{"format": "mixem-model", "version": 1, "family": "\\u001b[2J%0200d", "k": 1, "d": 1}' 0 > "$I/esc.json"
"$MIXEM" sample "$I/esc.json" -n 1 > /dev/null 2> "$I/esc.txt"
assert "a model's family name is escaped and cut" grep -qE "unknown family '\\\\x1b\\[2J0{56}\\.\\.\\.'$" "$I/esc.txt"
# Issue 18: deeply nested JSON overflowed json-glib's parser's stack (exit 139).
head -c 80000 /dev/zero | tr '\0' '[' > "$I/deep.json"
for c in "predict $I/deep.json $COINS" "score $I/deep.json $COINS" "sample $I/deep.json -n 1" \
         "plot trace $I/deep.json -o $I/deep.png"; do
  check "deep nesting: $c" 1 'deep.json:1: not a model file \(nested deeper than 64 levels\)' -- \
    "$MIXEM" $c
done
# Issue 18: sizes from input aborted in g_malloc.  sample streams its rows (10^12 of them here,
# cut by head), and the first rows do not depend on how many follow.
bash -c '"$1" sample "$2" -n 1000000000000 --seed 4 | head -n 3' _ "$MIXEM" "$T/m.json" > "$I/s0.csv"
assert "sample streams its rows" test "$(grep -c -E '^[0-9]+,10,[12]$' "$I/s0.csv")" -eq 2
"$MIXEM" sample "$T/m.json" -n 100000 --seed 4 | head -n 6 > "$I/s1.csv"
"$MIXEM" sample "$T/m.json" -n 5 --seed 4 > "$I/s2.csv"
assert "streamed rows are the same rows" cmp -s "$I/s1.csv" "$I/s2.csv"
cols=$(printf '"c",%.0s' $(seq 399999))
printf '{"format": "mixem-model", "version": 1, "family": "gaussian", "k": 1, "d": 400000, "columns": [%s"c"], "options": {}, "weights": [1], "components": [{}]}' "$cols" > "$I/wide.json"
check "a model too large for memory" 1 'wide.json: gaussian: the model needs 3.8 TB for k = 1, d = 400000 full covariances' -- \
  "$MIXEM" sample "$I/wide.json" -n 1

# predict, score, sample.
check "predict" 0 '^component' -- "$MIXEM" predict "$T/m.json" "$COINS"
assert "fit quiet prints nothing" test -z "$("$MIXEM" fit -q -f binomial --trials trials -k 2 "$COINS")"
assert "predict rows" test "$("$MIXEM" predict "$T/m.json" "$COINS" | wc -l)" -eq 6
check "predict proba" 0 '^p1,p2' -- "$MIXEM" predict --proba "$T/m.json" "$COINS"
check "score" 0 'mean_loglik,loglik,rows,bic,aic' -- "$MIXEM" score "$T/m.json" "$COINS"
check "score per sample" 0 '^loglik' -- "$MIXEM" score --per-sample "$T/m.json" "$COINS"
check "sample" 0 '^heads,trials,component' -- "$MIXEM" sample "$T/m.json" -n 5 --seed 3
assert "sample repeats" test "$("$MIXEM" sample "$T/m.json" -n 5 --seed 3)" = "$("$MIXEM" sample "$T/m.json" -n 5 --seed 3)"
check "sample needs n" 2 '-n must be >= 1' -- "$MIXEM" sample "$T/m.json"
check "predict args" 2 'expected MODEL.json and DATA.csv' -- "$MIXEM" predict "$T/m.json"
check "predict missing model" 1 'nope.json' -- "$MIXEM" predict "$T/nope.json" "$COINS"
head -c 300 "$T/m.json" > "$T/cut.json"
check "model cut half-way" 1 'cut.json: not a valid model file' -- "$MIXEM" predict "$T/cut.json" "$COINS"
printf 'x\n1\n' > "$T/other.csv"
check "predict wrong columns" 1 "no column 'heads'" -- "$MIXEM" predict "$T/m.json" "$T/other.csv"

# A write error on stdout (a full disk, a closed stdout) is an error, not a silent success.
to_full () { "$@" > /dev/full; }
to_closed () { "$@" >&-; }
printf 'print("hello")\n' > "$T/hello.lua"
printf 'print("hello")\nos.exit(0)\n' > "$T/hello_exit.lua"
for cmd in "predict $T/m.json $COINS" "predict --proba $T/m.json $COINS" "score $T/m.json $COINS" \
           "sample $T/m.json -n 5" "fit -f binomial --trials trials -k 2 $COINS" \
           "select -f binomial --trials trials -k 1-2 $COINS" "families" "run $T/hello.lua" \
           "run $T/hello_exit.lua" "--version"; do
  # shellcheck disable=SC2086
  check "stdout full: $cmd" 1 'mixem: write error on standard output: No space left' -- to_full "$MIXEM" $cmd
  # shellcheck disable=SC2086
  check "stdout closed: $cmd" 1 'mixem: write error on standard output' -- to_closed "$MIXEM" $cmd
done
check "stdout closed, nothing written" 0 '' -- \
  to_closed "$MIXEM" fit -q -f binomial --trials trials -k 2 "$COINS" --out "$T/closed.json"
assert "closed stdout does not reach the model file" grep -q '"format" : "mixem-model"' "$T/closed.json"

# The CLI's trace equals m.trace of the same fit in Lua (seconds aside).
cat > "$T/trace.lua" <<'LUA'
local mx = require "mixem"
local X = mx.read_csv(arg[1], {columns = {"heads", "trials"}})
local m = mx.fit{data = X, family = "binomial", k = 2, trials = "trials", max_iter = 10, tol = 0,
                 fixed = {"weights"}, seed = 1, n_init = 1}
for _, it in ipairs(m.trace) do
  print(string.format("%d,%.17g,%.17g,%.17g,%.17g,%.17g", it.iter, it.loglik, it.elbo, it.kl,
                      it.entropy, it.delta))
end
LUA
"$MIXEM" run "$T/trace.lua" "$COINS" > "$T/lua_trace.txt"
tail -n +2 "$T/trace.csv" | cut -d, -f1-6 | awk -F, '{ printf "%d,%.17g,%.17g,%.17g,%.17g,%.17g\n", $1, $2, $3, $4, $5, $6 }' > "$T/cli_trace.txt"
assert "trace matches m.trace" cmp -s "$T/lua_trace.txt" "$T/cli_trace.txt"

# The Gaussian family from the command line.
IRIS="$SRC/data/iris.csv"
check "gaussian fit" 0 'family gaussian, k = 3.*option covariance = diag.*component 3' -- \
  "$MIXEM" fit --family gaussian --covariance diag -k 3 "$IRIS" --out "$T/g.json"
check "gaussian predict" 0 '^component' -- "$MIXEM" predict "$T/g.json" "$IRIS"
check "gaussian sample" 0 '^Sepal.Length,Sepal.Width,Petal.Length,Petal.Width,component' -- \
  "$MIXEM" sample "$T/g.json" -n 4
check "gaussian cem" 0 'log-likelihood' -- "$MIXEM" fit -f gaussian --algorithm cem -k 3 "$IRIS"
check "bad algorithm" 2 "unknown algorithm 'x' \\(known: em, cem, squarem, sem, annealed, incremental, online\\)" -- "$MIXEM" fit -f gaussian --algorithm x "$IRIS"
check "gaussian squarem" 0 'log-likelihood' -- "$MIXEM" fit -f gaussian --algorithm squarem -k 2 --threads 1 "$IRIS"
check "annealed options" 0 'log-likelihood' -- "$MIXEM" fit -f gaussian --algorithm annealed --anneal-t0 3 --anneal-steps 2 -k 2 --threads 1 "$IRIS"
check "anneal option to em" 2 '--anneal-t0 is an option of --algorithm annealed only' -- "$MIXEM" fit -f gaussian --anneal-t0 3 "$IRIS"
check "bad anneal-t0" 2 '--anneal-t0 must be a finite temperature >= 1' -- "$MIXEM" fit -f gaussian --algorithm annealed --anneal-t0 0.5 "$IRIS"
check "incremental" 0 'log-likelihood' -- "$MIXEM" fit -f gaussian --algorithm incremental --blocks 5 -k 2 --threads 1 --n-init 2 "$IRIS"
check "online" 0 'log-likelihood' -- "$MIXEM" fit -f gaussian --algorithm online --batch-size 30 --step-alpha 0.7 --epochs 3 -k 2 --threads 1 --n-init 2 "$IRIS"
check "blocks to em" 2 '--blocks is an option of --algorithm incremental only \(got em\)' -- "$MIXEM" fit -f gaussian --blocks 3 "$IRIS"
check "batch-size to incremental" 2 '--batch-size is an option of --algorithm online only \(got incremental\)' -- "$MIXEM" fit -f gaussian --algorithm incremental --batch-size 3 "$IRIS"
check "bad blocks" 2 '--blocks must be a whole number >= 1' -- "$MIXEM" fit -f gaussian --algorithm incremental --blocks 0 "$IRIS"
check "blocks above rows" 2 "'blocks' = 151 exceeds the number of rows \(150\)" -- "$MIXEM" fit -f gaussian --algorithm incremental --blocks 151 "$IRIS"
check "bad batch-size" 2 '--batch-size must be a whole number >= 1' -- "$MIXEM" fit -f gaussian --algorithm online --batch-size 0 "$IRIS"
check "batch-size above rows" 2 "'batch_size' = 151 exceeds the number of rows \(150\)" -- "$MIXEM" fit -f gaussian --algorithm online --batch-size 151 "$IRIS"
check "bad step-alpha" 2 '--step-alpha must be a number in \(0.5, 1\]' -- "$MIXEM" fit -f gaussian --algorithm online --step-alpha 0.5 "$IRIS"
check "bad epochs" 2 '--epochs must be a whole number >= 1' -- "$MIXEM" fit -f gaussian --algorithm online --epochs 0 "$IRIS"
# Refinement (on by default) takes tied K = 4 on from the plateau where --tol stops it.
check "refined" 0 'log-likelihood -223\.04[0-9]* after [0-9]+ iterations \(converged\)' -- \
  "$MIXEM" fit -f gaussian --covariance tied -k 4 --n-init 10 "$IRIS"
check "not refined" 0 'log-likelihood -236\.[0-9]* after [0-9]+ iterations \(converged\)' -- \
  "$MIXEM" fit -f gaussian --covariance tied -k 4 --n-init 10 --init kmeans --n-refine 0 --short-starts 1 "$IRIS"
check "bad short-starts" 2 "'short_starts' must be >= 1" -- "$MIXEM" fit -f gaussian --short-starts 0 "$IRIS"
check "CEM-EM" 0 'log-likelihood' -- "$MIXEM" fit -f gaussian -k 3 --short-algorithm cem "$IRIS"
check "bad short-algorithm" 2 "short-algorithm must be em, cem or sem \\(got 'hard'\\)" -- \
  "$MIXEM" fit -f gaussian -k 3 --short-algorithm hard "$IRIS"
check "short-algorithm without small-EM" 2 'it needs short_starts > 1' -- \
  "$MIXEM" fit -f gaussian -k 3 --short-algorithm sem --short-starts 1 "$IRIS"
check "small-EM off" 0 'log-likelihood -180\.19576[0-9]* after 14 iterations' -- \
  "$MIXEM" fit -f gaussian -k 3 --init kmeans --n-init 1 --short-starts 1 --n-refine 0 "$IRIS"
check "bad n-refine" 2 '--n-refine must be >= 0' -- "$MIXEM" fit -f gaussian --n-refine -1 "$IRIS"
check "bad refine-tol" 2 '--refine-tol must be >= 0' -- "$MIXEM" fit -f gaussian --refine-tol -1 "$IRIS"
check "bad covariance" 2 "'covariance' = 'round' is not full" -- \
  "$MIXEM" fit -f gaussian --covariance round "$IRIS"
check "collapse" 1 'covariance is not positive definite' -- \
  "$MIXEM" fit -f gaussian --reg-covar 0 -k 3 --columns 1,1 "$IRIS"

check "reseed cannot fix a singular start" 1 'restart 1: all 12 short runs \(small-EM\) failed; the last: gaussian: component [0-9]: the covariance' -- \
  "$MIXEM" fit -f gaussian --reg-covar 0 -k 3 --columns 1,1 --reseed "$IRIS"

# select: the table, its CSV, the chosen model.
check "select" 0 '<- chosen.*covariance=diag.*Chosen by bic' -- \
  "$MIXEM" select -f gaussian -k 1-3 --covariance full,diag --folds 3 "$IRIS" --out "$T/sel.csv" \
  --model-out "$T/best.json"
assert "select table" test "$(head -n 1 "$T/sel.csv")" = "k,options,loglik,n_params,bic,aic,icl,heldout,chosen,failure"
assert "select rows" test "$(wc -l < "$T/sel.csv")" -eq 7
assert "select one chosen" test "$(cut -d, -f9 "$T/sel.csv" | grep -c '^1$')" -eq 1
cp "$T/sel.csv" "$T/sel_keep.csv"
check "select failed model write" 1 'nonexistent-dir/best.json' -- \
  "$MIXEM" select -f gaussian -k 1-2 "$IRIS" --out "$T/sel_keep.csv" --model-out "$T/nonexistent-dir/best.json"
assert "a failed model write leaves the table as it was" cmp -s "$T/sel.csv" "$T/sel_keep.csv"
check "selected model usable" 0 '^component' -- "$MIXEM" predict "$T/best.json" "$IRIS"
check "predict uncertainty" 0 '^component,uncertainty' -- "$MIXEM" predict -u "$T/best.json" "$IRIS"
check "predict proba uncertainty" 0 '^p1,p2,p3,uncertainty' -- "$MIXEM" predict -p -u "$T/best.json" "$IRIS"
# Issue 15: every Gaussian model (covariance all), mclust's BIC sign, the grid and the best three.
DIAB="$SRC/data/diabetes.csv"
check "select covariance all" 0 'bic per model against k \(mclust.s sign.*EII +VII +EEI +VEI +EVI +VVI +EEE +VEE +EVE +VVE +EEV +VEV +EVV +VVV.* 3 +-5343\.6.*Best bic values:.*VVV,3.*-4751\.3.*Chosen by bic \(with mclust.s sign, 2 loglik - p log n: higher is better\)' -- \
  "$MIXEM" select -f gaussian -k 1-3 --covariance all --sign mclust -o reg_covar=0 --n-init 1 --threads 1 "$DIAB"
check "select bad sign" 2 'sign must be mixem or mclust' -- \
  "$MIXEM" select -f gaussian -k 1-3 --sign sklearn "$DIAB"
# Issue 19: candidates whose every restart fails are kept in the table with their reason.
printf 'x,y\n0,0\n1,0.5\n0.2,1\n5,5\n6,5.2\n5.5,6.1\n10,0\n11,0.3\n10.4,1.2\n' > "$T/nine.csv"
check "select keeps failed candidates" 0 '4  reg_covar=0 +failed: all 2 restarts failed: restart 1: all 12 short runs \(small-EM\) failed; the last: gaussian' -- \
  "$MIXEM" select -f gaussian -k 1-5 -o reg_covar=0 --n-init 2 "$T/nine.csv" --out "$T/self.csv"
assert "select failed rows" test "$(grep -c ',0,"all 2 restarts failed' "$T/self.csv")" -eq 2
assert "select chosen among the rest" test "$(grep -c '^3,.*,1,$' "$T/self.csv")" -eq 1
check "select warns of failed candidates" 0 'warning: 2 of 5 candidates failed' -- \
  "$MIXEM" select -f gaussian -k 1-5 -o reg_covar=0 --n-init 2 "$T/nine.csv"
check "plot select with failed candidates" 0 '' -- "$MIXEM" plot select "$T/self.csv" -o "$T/self.png"
check "select every candidate failed" 1 'every candidate failed: k = 4: restart 1: all 12 short runs \(small-EM\) failed; the last: gaussian: .*; k = 5: restart 1' -- \
  "$MIXEM" select -f gaussian -k 4-5 -o reg_covar=0 --n-init 1 "$T/nine.csv"
check "select bad k" 2 '-k must list K values' -- "$MIXEM" select -f gaussian -k 3-1 "$IRIS"
check "select bad criterion" 2 '--criterion must be bic' -- "$MIXEM" select -f gaussian --criterion x "$IRIS"
check "select heldout needs folds" 2 'held-out scores need' -- \
  "$MIXEM" select -f gaussian -k 2 --criterion heldout "$IRIS"

# Bernoulli on the digits from CSV; .npy input is covered by tests/lua/test_npy.lua.
check "bernoulli fit" 0 'family bernoulli, k = 3' -- \
  "$MIXEM" fit -f bernoulli -k 3 -o alpha=2 -o beta=2 "$SRC/data/digits_binary.csv"
printf 'x,y\n1,0\n0,2\n' > "$T/notbinary.csv"
check "bernoulli bad value" 1 'row 2, column .y.: bernoulli data must be 0 or 1' -- \
  "$MIXEM" fit -f bernoulli "$T/notbinary.csv"
printf 'not npy' > "$T/bad.npy"
check "bad npy" 1 'bad.npy: not a NumPy .npy file' -- "$MIXEM" fit -f bernoulli "$T/bad.npy"

# Poisson on the seat-belt counts (two count columns): the optimum for K = 2 (-1423.1435, as
# tests/lua/test_poisson.lua finds from every start), a model file, sampling, and bad counts.
check "families poisson" 0 'poisson: counts in D independent columns' -- "$MIXEM" families
check "poisson fit" 0 'family poisson, k = 2, 2 columns \(DriversKilled, VanKilled\).*log-likelihood -1423\.14[0-9]* after.*lambda = \[' -- \
  "$MIXEM" fit -f poisson -k 2 "$SRC/data/seatbelts.csv" --out "$T/pois.json"
check "poisson one column" 0 'family poisson, k = 2, 1 column \(VanKilled\)' -- \
  "$MIXEM" fit -f poisson -k 2 --columns VanKilled --init random_resp --seed 3 "$SRC/data/seatbelts.csv"
check "poisson sample" 0 '^DriversKilled,VanKilled,component' -- "$MIXEM" sample "$T/pois.json" -n 5 --seed 2
printf 'a,b\n1,2\n3,-1\n' > "$T/negcount.csv"
check "poisson bad count" 1 'row 2, column .b.: poisson counts must be whole numbers >= 0' -- \
  "$MIXEM" fit -f poisson "$T/negcount.csv"

# Exponential on the coal-mining disaster intervals, gamma on Old Faithful, multinomial on the
# licence bag of words (issue 12): listed, fitted (the optima tests/lua/test_more_families.lua
# reaches), checked by the conformance suite, drawn, and each refusing bad values by row and column.
COAL="$SRC/data/coal_intervals.csv" FAITH="$SRC/data/faithful.csv" BOW="$SRC/data/licenses_bow.csv"
check "families exponential" 0 'exponential: positive values in D independent columns' -- "$MIXEM" families
check "families gamma" 0 'gamma: positive values .*option max_shape' -- "$MIXEM" families
check "families multinomial" 0 'multinomial: counts over L categories.*option pseudo_count' -- "$MIXEM" families
check "exponential fit" 0 'family exponential, k = 2, 1 column \(days\).*log-likelihood -1191\.2017[0-9]* after.*rate = \[' -- \
  "$MIXEM" fit -f exponential -k 2 "$COAL" --out "$T/expo.json"
check "exponential sample" 0 '^days,component' -- "$MIXEM" sample "$T/expo.json" -n 5 --seed 2
check "gamma fit" 0 'family gamma, k = 2, 2 columns \(eruptions, waiting\).*log-likelihood -1146\.45[0-9]* after.*shape = \[.*rate = \[' -- \
  "$MIXEM" fit -f gamma -k 2 "$FAITH" --out "$T/gam.json"
check "gamma max-shape" 0 'option max_shape = 10.*shape = \[[0-9.]+, 10\]' -- "$MIXEM" fit -f gamma --max-shape 10 -k 1 "$FAITH"
check "gamma plot clusters" 0 '' -- "$MIXEM" plot clusters "$T/gam.json" "$FAITH" -o "$T/gam.png"
check "multinomial fit" 0 'family multinomial, k = 3, 100 columns.*size = [0-9]+, prob = \[' -- \
  "$MIXEM" fit -f multinomial -k 3 --seed 1 "$BOW" --out "$T/mult.json"
check "multinomial plot prototypes" 0 '' -- "$MIXEM" plot prototypes "$T/mult.json" --shape 10x10 -o "$T/mult.png"
check "exponential plot density" 0 '' -- "$MIXEM" plot density "$T/expo.json" "$COAL" -o "$T/expo.png"
check "plot density of two columns" 1 'a density plot needs a model of one column \(this gamma model has 2\)' -- \
  "$MIXEM" plot density "$T/gam.json" "$FAITH" -o "$T/gam2.png"
check "check-family exponential" 0 '12 passed, 0 failed' -- "$MIXEM" check-family exponential "$COAL"
check "check-family gamma" 0 '12 passed, 0 failed' -- "$MIXEM" check-family gamma "$FAITH"
check "check-family multinomial" 0 '12 passed, 0 failed' -- "$MIXEM" check-family multinomial "$BOW" -k 3
printf 'a,b\n1,2\n0,1\n' > "$T/zeroval.csv"
printf 'a,b\n1,2\n0,0\n' > "$T/zerorow.csv"
printf 'a,b\n1,2\n0.5,1\n' > "$T/fraccount.csv"
check "exponential bad value" 1 'negcount.csv:3: row 2, column .b.: exponential values must be finite and > 0 \(got -1\)' -- \
  "$MIXEM" fit -f exponential "$T/negcount.csv"
check "gamma bad value" 1 'zeroval.csv:3: row 2, column .a.: gamma values must be finite and > 0 \(got 0\)' -- \
  "$MIXEM" fit -f gamma "$T/zeroval.csv"
check "multinomial bad count" 1 'fraccount.csv:3: row 2, column .a.: multinomial counts must be whole numbers >= 0 \(got 0.5\)' -- \
  "$MIXEM" fit -f multinomial "$T/fraccount.csv"
check "multinomial negative count" 1 'negcount.csv:3: row 2, column .b.: multinomial counts must be whole numbers >= 0 \(got -1\)' -- \
  "$MIXEM" fit -f multinomial "$T/negcount.csv"
check "multinomial row of zeros" 1 'zerorow.csv:3: row 2, column .a.: a row of zeros' -- \
  "$MIXEM" fit -f multinomial "$T/zerorow.csv"

# run: arguments, errors with a traceback, exit status.
printf 'print(#arg, arg[0]:match("[^/]*$"), arg[1], arg[2], select("#", ...))\n' > "$T/args.lua"
check "run args" 0 '^2	args.lua	a	--b	2$' -- "$MIXEM" run "$T/args.lua" a --b
printf 'local x = 1\nerror("broken here")\n' > "$T/err.lua"
check "run error" 1 'err.lua:2: broken here.*stack traceback' -- "$MIXEM" run "$T/err.lua"
printf 'local mx = require "mixem"\nmx.fit{family = "binomial", k = -1}\n' > "$T/argerr.lua"
check "run arg error" 1 "argerr.lua:2: mixem.fit: 'k' must be a positive integer \\(got -1\\)|'data' must be a dataset" -- "$MIXEM" run "$T/argerr.lua"
printf 'x = = 1\n' > "$T/syntax.lua"
check "run syntax error" 1 'syntax.lua:1:' -- "$MIXEM" run "$T/syntax.lua"
check "run missing" 1 'cannot open' -- "$MIXEM" run "$T/none.lua"
check "run nothing" 2 'no script given' -- "$MIXEM" run
printf 'os.exit(3)\n' > "$T/exit.lua"
check "run exit status" 3 '' -- "$MIXEM" run "$T/exit.lua"

# plot: every kind from files the other commands write; the picture's validity and content are
# checked in tests/check_plot.c, here the command line around it.
"$MIXEM" fit -f binomial --trials trials -k 2 "$COINS" -q --out "$T/c.json" --trace "$T/c.csv"
"$MIXEM" fit -f gaussian -k 3 "$IRIS" -q --out "$T/g.json"
"$MIXEM" fit -f bernoulli -k 3 "$SRC/data/digits_binary.csv" -q --out "$T/b.json"
"$MIXEM" select -f gaussian -k 1-3 --covariance full,diag "$IRIS" -q --out "$T/sel.csv"
png_ok () { [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ]; }
check "plot trace model" 0 '' -- "$MIXEM" plot trace "$T/c.json" -o "$T/t1.png"
assert "plot trace is a PNG" png_ok "$T/t1.png"
check "plot trace csv" 0 '' -- "$MIXEM" plot trace "$T/c.csv" -o "$T/t2.svg" -W 400 -H 300
check "plot several traces" 0 '' -- "$MIXEM" plot trace "$T/c.json" "$T/c.csv" -o "$T/t3.png"
assert "plot traces is a PNG" png_ok "$T/t3.png"
check "plot traces, one missing" 1 'nope.json' -- "$MIXEM" plot trace "$T/c.json" "$T/nope.json" -o "$T/t4.png"
assert "plot traces, no picture on error" test ! -e "$T/t4.png"
assert "plot trace svg size" grep -q 'width="400pt" height="300pt"' "$T/t2.svg"
check "plot clusters" 0 '' -- "$MIXEM" plot clusters "$T/g.json" "$IRIS" -o "$T/c1.pdf"
check "plot clusters xy" 0 '' -- "$MIXEM" plot clusters "$T/g.json" "$IRIS" --x 3 --y Petal.Width -o "$T/c2.png"
check "plot prototypes" 0 '' -- "$MIXEM" plot prototypes "$T/b.json" --shape 8x8 -o "$T/p.png"
check "plot binomial" 0 '' -- "$MIXEM" plot binomial "$T/c.json" "$COINS" -o "$T/b.png"
check "plot select" 0 '' -- "$MIXEM" plot select "$T/sel.csv" --criterion aic -o "$T/s.png"
check "plot no kind" 2 'no KIND given' -- "$MIXEM" plot
check "plot bad kind" 2 "unknown KIND 'pie'" -- "$MIXEM" plot pie "$T/c.json" -o "$T/x.png"
check "plot no out" 2 'out FILE .* is required' -- "$MIXEM" plot trace "$T/c.json"
check "plot bad ext" 2 'must end in .png, .svg or .pdf' -- "$MIXEM" plot trace "$T/c.json" -o "$T/x.gif"
check "plot bad shape" 2 'needs --shape ROWSxCOLS' -- "$MIXEM" plot prototypes "$T/b.json" --shape 8by8 -o "$T/x.png"
check "plot wrong shape" 2 'a 8 by 9 image needs 72 values' -- "$MIXEM" plot prototypes "$T/b.json" --shape 8x9 -o "$T/x.png"
check "plot binomial s > n" 1 'over.csv:3: row 2, column .heads.: 12 successes out of 10 trials' -- \
  "$MIXEM" plot binomial "$T/c.json" "$T/over.csv" -o "$T/x.png"
check "plot binomial of gaussian" 2 'a binomial model is needed' -- "$MIXEM" plot binomial "$T/g.json" "$IRIS" -o "$T/x.png"
check "plot clusters one axis" 2 'both --x and --y' -- "$MIXEM" plot clusters "$T/g.json" "$IRIS" --x 1 -o "$T/x.png"
check "plot clusters bad column" 2 "no column 'nope'" -- "$MIXEM" plot clusters "$T/g.json" "$IRIS" --x nope --y 1 -o "$T/x.png"
printf 'k,options,loglik,n_params,bic,aic,icl,heldout,chosen\n1,,-5,2,1,1,1,,0\n' > "$T/nochosen.csv"
check "plot select none chosen" 1 'no row is marked chosen' -- "$MIXEM" plot select "$T/nochosen.csv" -o "$T/x.png"
check "plot select not a table" 1 "no column 'k' \\(a table from 'mixem select --out'" -- "$MIXEM" plot select "$COINS" -o "$T/x.png"
printf 'k,options,loglik,n_params,bic,aic,icl,heldout,chosen\n2,,-5,2,abc,1,1,,1\n' > "$T/badnum.csv"
check "plot select bad number" 1 "badnum.csv:2: column 'bic': not a number \\('abc'\\)" -- \
  "$MIXEM" plot select "$T/badnum.csv" -o "$T/x.png"
check "plot select missing" 1 "nosuch.csv: " -- "$MIXEM" plot select "$T/nosuch.csv" -o "$T/x.png"
printf 'iter,loglik\n1,-3\n' > "$T/badtrace.csv"
check "plot trace csv without elbo" 1 "badtrace.csv: no column 'elbo'" -- \
  "$MIXEM" plot trace "$T/badtrace.csv" -o "$T/x.png"
printf 'iter,loglik,elbo,kl\n1,-10,-10.5,0.5\n1e300,-9,-9.2,0.2\n' > "$T/hugeiter.csv"
check "plot trace csv huge iteration" 1 "hugeiter.csv:3: row 2, column 'iter': an iteration must be a whole number from 0 to 2147483647 \\(got 1e\\+300\\)" -- \
  "$MIXEM" plot trace "$T/hugeiter.csv" -o "$T/x.png"
printf 'iter,loglik,elbo,kl\n-2147483648,-10,-10.5,0.5\n' > "$T/negiter.csv"
check "plot trace csv negative iteration" 1 "negiter.csv:2: row 1, column 'iter': an iteration must be" -- \
  "$MIXEM" plot trace "$T/negiter.csv" -o "$T/x.png"
assert "plot failures leave no file" test ! -e "$T/x.png"
check "plot trace missing" 1 'none.json' -- "$MIXEM" plot trace "$T/none.json" -o "$T/x.png"

# Progress: the live line needs a terminal, so none here; --verbose prints at the interval.
"$MIXEM" fit -f gaussian -k 3 "$IRIS" --max-iter 50 > /dev/null 2> "$T/progress.txt"
assert "no live line without a terminal" test ! -s "$T/progress.txt"
check "verbose interval" 0 'iter    1 .*iter    5 .*iter   10 ' -- \
  "$MIXEM" fit -f gaussian -k 3 "$IRIS" --verbose --verbose-interval 5 --tol 0 --max-iter 10
"$MIXEM" fit -f gaussian -k 3 "$IRIS" --verbose --verbose-interval 5 --tol 0 --max-iter 10 --n-init 1 --short-starts 1 2>&1 >/dev/null | grep -c iter > "$T/nlines"
assert "verbose prints only at the interval" grep -qx 3 "$T/nlines"
check "verbose interval bad" 2 'verbose-interval must be 1 or more' -- \
  "$MIXEM" fit -f gaussian "$IRIS" --verbose-interval 0
printf 'local mx = require "mixem"\nmx.fit{data = mx.read_csv(arg[1]), family = "gaussian", k = 2, verbose = 2, verbose_interval = 4, tol = 0, max_iter = 8}\n' > "$T/verbose.lua"
check "lua verbose" 0 'restart 1/1.*iteration 4: log-likelihood.*iteration 8: ' -- "$MIXEM" run "$T/verbose.lua" "$IRIS"

# Plugins: the conformance suite on every built-in family, modules that fail to load, a start
# from a saved model.
SEAT="$SRC/data/seatbelts.csv"
check "check-family binomial" 0 '12 passed, 0 failed' -- "$MIXEM" check-family binomial "$COINS" -o trials=trials
check "check-family gaussian" 0 '12 passed, 0 failed' -- "$MIXEM" check-family gaussian "$IRIS" -k 3
check "check-family gaussian diag" 0 '12 passed, 0 failed' -- "$MIXEM" check-family gaussian "$IRIS" -k 3 -o covariance=diag
check "check-family bernoulli" 0 '12 passed, 0 failed' -- "$MIXEM" check-family bernoulli "$SRC/tests/data/bernoulli3.csv" -k 3
check "check-family poisson" 0 '12 passed, 0 failed' -- "$MIXEM" check-family poisson "$SEAT"
# categorical and product: text columns read as level names for these families only.
HEC="$SRC/data/haireyecolor.csv"
MIXED="$SRC/tests/data/product_mixed.csv"
PARTS='parts=gaussian(covariance=diag):x,y;categorical:colour;poisson:visits'
check "check-family categorical" 0 '12 passed, 0 failed' -- "$MIXEM" check-family categorical "$HEC" -k 3
check "check-family product" 0 '12 passed, 0 failed' -- "$MIXEM" check-family product "$MIXED" -o "$PARTS"
check "text refused for poisson" 1 "row 1, column 'Hair': not a number \('Black'\)" -- \
  "$MIXEM" fit -f poisson "$HEC"
check "fit categorical" 0 "levels = .*'Hazel'" -- "$MIXEM" fit -f categorical -k 2 --seed 1 "$HEC" --out "$T/lca.json"
printf 'Hair,Eye,Sex\nRed,Hazel,Male\nBlack,Blue,Female\n' > "$T/hec_new.csv"
check "predict categorical by name" 0 '^component' -- "$MIXEM" predict "$T/lca.json" "$T/hec_new.csv"
printf 'Hair,Eye,Sex\nRed,Hazel,Male\nGrey,Blue,Female\n' > "$T/hec_grey.csv"
check "predict unseen level" 1 "row 2, column 'Hair': level 'Grey' was not seen in the fit" -- \
  "$MIXEM" predict "$T/lca.json" "$T/hec_grey.csv"
check "fit product" 0 '2\.prob' -- "$MIXEM" fit -f product -k 2 --seed 1 -o "$PARTS" "$MIXED" --out "$T/prod.json"
check "predict product" 0 '^component' -- "$MIXEM" predict "$T/prod.json" "$MIXED"
check "plot levels categorical" 0 '' -- "$MIXEM" plot levels "$T/lca.json" -o "$T/lca.png"
assert "plot levels is a PNG" png_ok "$T/lca.png"
check "plot levels product" 0 '' -- "$MIXEM" plot levels "$T/prod.json" -o "$T/prod.svg" -W 400 -H 300
assert "plot levels svg size" grep -q 'width="400pt" height="300pt"' "$T/prod.svg"
check "plot levels of gaussian" 2 "a levels plot needs a categorical model, or a product with a categorical part \(this model's family is gaussian\)" -- \
  "$MIXEM" plot levels "$T/g.json" -o "$T/x.png"
check "plot levels with data" 2 'levels takes MODEL.json' -- "$MIXEM" plot levels "$T/lca.json" "$HEC" -o "$T/x.png"
check "plot levels too small" 2 'do not fit in 200 by 150; give a larger picture' -- \
  "$MIXEM" plot levels "$T/lca.json" -W 200 -H 150 -t tiny -o "$T/x.png"
assert "plot levels leaves no file after a failure" test ! -e "$T/x.png"
check "product overlap" 2 "product: column 'y' is in part 1 and in part 2 \(poisson\)" -- \
  "$MIXEM" fit -f product -o 'parts=gaussian:x,y;poisson:y,visits;categorical:colour' "$MIXED"
check "product missing column" 2 "product: part 2 \(poisson\): no column 'hits' in the data" -- \
  "$MIXEM" fit -f product -o 'parts=gaussian:x,y;poisson:hits;categorical:colour' "$MIXED"
check "check-family unknown" 2 "unknown family 'nosuch'" -- "$MIXEM" check-family nosuch "$SEAT"
check "check-family bad option" 2 "poisson: option 'eps' = '2' is not a finite number in \(0, 1\]" -- \
  "$MIXEM" check-family poisson "$SEAT" -o eps=2
check "check-family usage" 2 'expected a family name and a data file' -- "$MIXEM" check-family poisson
MODS=${MIXEM_TEST_MODULES:?}
check "families shows a module of another ABI" 1 'not loaded: .*bad_abi.so: family ABI version 3' -- \
  env MIXEM_FAMILY_PATH="$MODS" "$MIXEM" families
check "families shows a misnamed module" 1 "not loaded: .*misnamed.so: the module holds family 'other_name'" -- \
  env MIXEM_FAMILY_PATH="$MODS" "$MIXEM" families
check "families still lists what loads" 1 'v1_family: a family built against ABI 1' -- \
  env MIXEM_FAMILY_PATH="$MODS" "$MIXEM" families
check "a module that does not load is a runtime error" 1 'undefined_symbol.so: cannot load module: .*mixem_function_that_does_not_exist' -- \
  env MIXEM_FAMILY_PATH="$MODS" "$MIXEM" fit -f undefined_symbol "$COINS"
check "a start without init is refused at load" 1 "lists the start 'magic' but has no init" -- \
  env MIXEM_FAMILY_PATH="$MODS" "$MIXEM" fit -f bad_start "$COINS"
"$MIXEM" fit -f poisson -k 2 "$SEAT" --max-iter 3 --tol 0 --out "$T/p3.json" -q
check "init-model continues a fit" 0 'log-likelihood -1423.14' -- \
  "$MIXEM" fit -f poisson -k 2 "$SEAT" --init-model "$T/p3.json" --tol 1e-9 --max-iter 500
check "init-model of another family" 2 'p3.json is a poisson model with k = 2; this fit is gaussian' -- \
  "$MIXEM" fit -f gaussian -k 2 "$SEAT" --init-model "$T/p3.json"
check "plot clusters of a plugin's components" 0 '' -- \
  "$MIXEM" plot clusters "$T/p3.json" "$SEAT" -o "$T/pclusters.png"
assert "plot clusters wrote a picture" test -s "$T/pclusters.png"
check "a family's options as flags" 0 'option eps = 0.5' -- "$MIXEM" fit -f poisson --eps 0.5 -k 2 "$SEAT"
check "family flags are checked" 2 "poisson: option 'eps' = '2' is not a finite number" -- \
  "$MIXEM" fit -f poisson --eps 2 -k 2 "$SEAT"
check "family flags in help" 0 'eps=VALUE +poisson: rates are kept' -- "$MIXEM" fit -f poisson --help
check "family flags in select" 0 'eps' -- "$MIXEM" select -f poisson --eps 1e-8,1e-6 -k 1-2 "$SEAT"
check "plugin flags" 0 'option eps = 0.001' -- \
  env MIXEM_FAMILY_PATH="$MODS" "$MIXEM" fit -f sdk_poisson --eps 0.001 -k 2 "$SEAT"
check "a fit cut by max_iter warns, status 0" 0 'warning: the fit did not converge: 3 iterations' -- \
  "$MIXEM" fit -f gaussian -k 3 --max-iter 3 "$IRIS"
"$MIXEM" fit -f gaussian -k 3 --max-iter 3 -q "$IRIS" 2> "$T/quiet.err"
assert "quiet silences the warning" test ! -s "$T/quiet.err"
check "a failed restart is skipped" 0 'restarts? failed and (was|were) skipped' -- \
  "$MIXEM" fit -f gaussian -k 5 --reg-covar 0 --n-init 20 "$IRIS"
check "a failed restart is named" 0 'warning: restart [0-9]+: .*not positive definite' -- \
  "$MIXEM" fit -f gaussian -k 5 --reg-covar 0 --n-init 20 "$IRIS"
printf 'x,y\n' > "$T/two.csv"; for i in 1 2 3 4 5 6 7 8 9 10; do printf '0,0\n1,1\n' >> "$T/two.csv"; done
check "k above the distinct rows fits" 0 'warning: component [0-9]+ has no weight' -- \
  "$MIXEM" fit -f gaussian -k 10 --init kmeans --n-init 1 "$T/two.csv"
check "strict-empty keeps the error" 1 'is empty|only 2 distinct rows' -- \
  "$MIXEM" fit -f gaussian -k 10 --n-init 1 --init kmeans --strict-empty "$T/two.csv"
check "init-model missing" 1 'nothere.json' -- "$MIXEM" fit -f poisson -k 2 "$SEAT" --init-model "$T/nothere.json"
# mclust's hierarchical start: Mclust(banknote, G = 4, "VVI") from it ends at -784.1539
# (tests/reference/hc_fixtures.lua); mixem's default tol and reg_covar stop at -784.1541
check "init hc" 0 'log-likelihood -784\.154[0-9]* after' -- \
  "$MIXEM" fit -f gaussian -k 4 --covariance diag --init hc "$SRC/data/banknote.csv"
check "init hc on too few rows" 1 'hc cannot make k = 4 clusters of 3 rows' -- \
  "$MIXEM" fit -f gaussian -k 4 --init hc -o hc_subset=3 "$SRC/data/banknote.csv"

# student_t and von_mises_fisher (issue 12): listed, a fit, the conformance suite, sampling, bad
# input.  student_t has no expected_loglik (the engine makes the pass), hence one skip.
FAITH="$SRC/data/faithful.csv"
check "families student_t" 0 'student_t: multivariate t' -- "$MIXEM" families
check "families von_mises_fisher" 0 'von_mises_fisher: directions' -- "$MIXEM" families
check "student_t fit" 0 'family student_t, k = 2, 2 columns \(eruptions, waiting\).*option df = 4.*log-likelihood -1140\.533[0-9]* after.*df = 4' -- \
  "$MIXEM" fit -f student_t -k 2 --df 4 "$FAITH" --out "$T/t.json"
check "student_t sample" 0 '^eruptions,waiting,component' -- "$MIXEM" sample "$T/t.json" -n 5 --seed 2
check "check-family student_t" 0 '11 passed, 0 failed, 1 skipped' -- "$MIXEM" check-family student_t "$FAITH"
check "check-family student_t diag" 0 '11 passed, 0 failed, 1 skipped' -- \
  "$MIXEM" check-family student_t "$IRIS" -k 3 -o covariance=diag
check "student_t bad df" 2 "student_t: option 'df' = 'many' is neither 'estimate' nor a finite number > 0" -- \
  "$MIXEM" fit -f student_t --df many "$FAITH"
check "vmf fit angles" 0 'family von_mises_fisher, k = 2, 1 column \(direction\).*log-likelihood -370\.443[0-9]* after.*kappa = ' -- \
  "$MIXEM" fit -f von_mises_fisher -k 2 --angles radians "$SRC/data/wind.csv" --out "$T/vmf.json"
check "vmf sample" 0 '^direction,component' -- "$MIXEM" sample "$T/vmf.json" -n 5 --seed 2
check "check-family von_mises_fisher" 0 '12 passed, 0 failed' -- \
  "$MIXEM" check-family von_mises_fisher "$IRIS" -k 3 -o normalise=true
check "check-family von_mises_fisher angles" 0 '12 passed, 0 failed' -- \
  "$MIXEM" check-family von_mises_fisher "$SRC/data/wind.csv" -o angles=degrees
check "vmf non-unit rows" 1 "iris.csv:2: row 1, column .Sepal.Length.: von_mises_fisher: the row's length is 6\.345[0-9]*, not 1" -- \
  "$MIXEM" fit -f von_mises_fisher -k 2 "$IRIS"
check "vmf one column without angles" 2 'von_mises_fisher: rows are unit vectors in D >= 2 dimensions' -- \
  "$MIXEM" fit -f von_mises_fisher "$SRC/data/wind.csv"

# Regression families: their options as flags (--response, --covariates, --no-intercept), and
# in select "+" joins covariates where commas separate the values to try.
NPREG="$SRC/tests/data/npreg.csv"
R="$T/reg"
mkdir -p "$R"
check "linreg flags" 0 'option covariates = x,x2.*log-likelihood -642\.532' -- \
  "$MIXEM" fit -f linreg --response yn --covariates x,x2 -k 2 --seed 1 "$NPREG"
check "linreg no-intercept" 0 'option intercept = false.*beta = \[[^],]+, [^],]+\]' -- \
  "$MIXEM" fit -f linreg --response yn --covariates x,x2 --no-intercept -k 2 --seed 1 "$NPREG"
check "no-intercept contradicts" 2 '--intercept and --no-intercept contradict' -- \
  "$MIXEM" fit -f linreg --response yn --covariates x --intercept true --no-intercept "$NPREG"
check "linreg no response" 2 "the option 'response'.*is required" -- \
  "$MIXEM" fit -f linreg --covariates x -k 2 "$NPREG"
check "linreg fit out" 0 '' -- "$MIXEM" fit -q -f linreg --response yn --covariates x,x2 -k 2 \
  --seed 1 "$NPREG" --out "$R/linreg.json"
check "plot regression" 0 '' -- "$MIXEM" plot regression "$R/linreg.json" "$NPREG" -o "$R/linreg.png"
assert "regression png" test "$(head -c 4 "$R/linreg.png" | od -An -tx1 | tr -d ' \n')" = "89504e47"
# New covariates without the response (nor the model's other columns): each component's fitted
# response and the mixture mean, which lies between them.
printf 'x2,x\n0.25,0.5\n9,3\n' > "$R/newx.csv"
check "predict --response-mean" 0 '^mu1,mu2,mean[[:space:]]+[-0-9.e]+,[-0-9.e]+,[-0-9.e]+[[:space:]]+[-0-9.e]+,[-0-9.e]+,[-0-9.e]+$' -- \
  "$MIXEM" predict --response-mean "$R/linreg.json" "$R/newx.csv"
assert "response mean between the components'" test "$("$MIXEM" predict -r "$R/linreg.json" "$R/newx.csv" \
  | awk -F, 'NR > 1 { lo = $1 < $2 ? $1 : $2; hi = $1 < $2 ? $2 : $1; if (!($3 > lo && $3 < hi)) bad = 1 }
             END { print bad ? "bad" : "ok" }')" = ok
check "predict --response-mean, no covariate" 1 "the covariate 'x' is not a column of the data" -- \
  "$MIXEM" predict --response-mean "$R/linreg.json" "$COINS"
check "plot regression of a clustering" 1 'a regression plot needs a linreg, poisreg, logitreg or gammareg model \(this one is binomial\)' -- \
  "$MIXEM" plot regression "$T/m.json" "$COINS" -o "$R/notreg.png"
check "select covariates" 0 'covariates=x .*covariates=x\+x2 .*-642\.532.*<- chosen' -- \
  "$MIXEM" select -f linreg --response yn --covariates x,x+x2 -k 2 --seed 1 "$NPREG"

# Missing values: --allow-missing, --missing, impute (means and draws, atomic -o), refusals.
printf 'a,b,c\n1,2,NA\n3,,4\n5,6,7\n0,1,2\nNA,NA,NA\n8,9,10\n2,3,1\n9,?,8\n' > "$T/holes.csv"
check "missing refused by default" 1 "row 1, column 'c': not a number \('NA'\)" -- \
  "$MIXEM" fit -q -f poisson -k 2 "$T/holes.csv"
check "missing token ?" 1 "not a number \('\?'\)" -- \
  "$MIXEM" fit -q -f poisson -k 2 --allow-missing "$T/holes.csv"
check "missing numeric token" 2 "the missing-value token '-1' is a number" -- \
  "$MIXEM" fit -q -f poisson -k 2 --missing ',NA,-1' "$T/holes.csv"
check "missing unsupported family" 1 "family 'multinomial' does not support missing values" -- \
  "$MIXEM" fit -q -f multinomial -k 2 --missing ',NA,?' "$T/holes.csv"
check "missing fit" 0 '' -- "$MIXEM" fit -q -f poisson -k 2 --seed 1 --missing ',NA' --missing '?' \
  "$T/holes.csv" --out "$T/holes.json"
assert "missing_data in the model" grep -q '"missing_data" : true' "$T/holes.json"
check "impute means" 0 '^a,b,c.1,2,[0-9.]+.3,[0-9.]+,4.5,6,7.0,1,2.[0-9.]+,[0-9.]+,[0-9.]+.8,9,10.2,3,1.9,[0-9.]+,8$' -- \
  "$MIXEM" impute "$T/holes.json" "$T/holes.csv" --missing ',NA,?'
check "impute draws" 0 '' -- "$MIXEM" impute "$T/holes.json" "$T/holes.csv" --missing ',NA,?' \
  --draws 3 --seed 4 -o "$T/imputed.csv"
assert "impute draws: 3 copies of 8 rows" test "$(tail -n +2 "$T/imputed.csv" | cut -d, -f1 | sort | uniq -c | tr -s ' ' | tr '\n' ';')" = " 8 1; 8 2; 8 3;"
assert "impute draws: whole counts, no gap" bash -c "! grep -Eq '(,,|\.|nan|,\$)' '$T/imputed.csv'"
"$MIXEM" impute "$T/holes.json" "$T/holes.csv" --missing ',NA,?' --draws 3 --seed 4 -o "$T/imputed2.csv"
assert "impute draws: the seed decides" cmp -s "$T/imputed.csv" "$T/imputed2.csv"
check "impute bad draws" 2 '--draws must be from 1 to 100000' -- \
  "$MIXEM" impute "$T/holes.json" "$T/holes.csv" --draws -2
check "predict with missing" 0 '^component(.[12]){8}$' -- \
  "$MIXEM" predict "$T/holes.json" "$T/holes.csv" --missing ',NA,?'

# Online EM on a stream (issue 14): --stream reads an .npy file a batch at a time; the model is
# the start (EM on the first batch) and partial_fit on each batch in order, bit for bit, as the
# Lua replay below makes it, and its loglik is l(theta) on every row.
cat > "$T/mknpy.lua" <<'LUA'
-- Three Gaussian clouds, 1000 rows, as float64 .npy (format 1.0), the same on every machine.
math.randomseed(3)
local body = {}
for i = 1, 1000 do
  local c = i % 3
  local u, v = math.random(), math.random()
  local r = math.sqrt(-2 * math.log(1 - u))
  body[#body + 1] = string.pack("<dd", r * math.cos(2 * math.pi * v) + 6 * c, r * math.sin(2 * math.pi * v) - 4 * (c % 2))
end
local dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (1000, 2), }"
dict = dict .. string.rep(" ", (16 - (10 + #dict + 1) % 16) % 16) .. "\n"
local f = assert(io.open(arg[1], "wb"))
f:write("\x93NUMPY\1\0" .. string.pack("<I2", #dict) .. dict .. table.concat(body)); f:close()
LUA
cat > "$T/replay.lua" <<'LUA'
local mx = require "mixem"
local X, s = mx.read_npy(arg[1]), mx.load(arg[2])
local function rows(lo, hi) local t = {} for i = lo, hi do t[#t + 1] = X:row(i) end return mx.dataset(t) end
local m = mx.fit{data = rows(1, 150), family = "gaussian", k = 3, n_init = 1, short_starts = 1, seed = 1, threads = 1}
for e = 1, 2 do for lo = 1, 1000, 150 do m:partial_fit(rows(lo, math.min(lo + 149, 1000)), {step_alpha = 0.7}) end end
local same = s.n_iter == 2 and #s.trace == 2 and s.algorithm == "online"
for k = 1, 3 do
  same = same and s.weights[k] == m.weights[k]
  for j = 1, 2 do same = same and s.components[k].mean[j] == m.components[k].mean[j] end
end
local l = m:score(X) * 1000
print(same and math.abs(s.loglik - l) <= 1e-9 * math.abs(l) and "replayed" or "differs")
LUA
"$MIXEM" run "$T/mknpy.lua" "$T/s.npy"
check "fit --stream" 0 'log-likelihood -[0-9.]+ after 2 iterations' -- "$MIXEM" fit -f gaussian -k 3 \
  --algorithm online --stream --batch-size 150 --step-alpha 0.7 --epochs 2 --n-init 1 \
  --short-starts 1 --seed 1 "$T/s.npy" --out "$T/s.json"
check "fit --stream: start and partial_fit, bit for bit" 0 '^replayed$' -- \
  "$MIXEM" run "$T/replay.lua" "$T/s.npy" "$T/s.json"
check "fit --stream needs online" 2 '--stream needs --algorithm online' -- \
  "$MIXEM" fit -f gaussian -k 3 --stream "$T/s.npy"
check "fit --stream reads .npy" 2 '--stream reads an .npy file only' -- \
  "$MIXEM" fit -f poisson -k 2 --algorithm online --stream "$COINS"

# Concomitant variables: the weights a multinomial logit of z1, z2; predict reads them from the
# data by name, and a data file without them is refused, naming the column.
P3="$SRC/tests/data/conc_pois3.csv"
check "fit --concomitant" 0 'concomitant \(log odds against component 1\): \(Intercept\), z1, z2.*component 3:' -- \
  "$MIXEM" fit -f poisson --concomitant z1,z2 -k 3 --seed 3 --out "$T/conc.json" "$P3"
assert "concomitant predict" test "$("$MIXEM" predict "$T/conc.json" "$P3" | sed -n 2p)" = 2
cut -d, -f1,2 "$P3" > "$T/noz.csv"
check "predict without the concomitant columns" 1 "concomitant variables.*no column 'z1'" -- \
  "$MIXEM" predict "$T/conc.json" "$T/noz.csv"
check "fit --concomitant unknown column" 1 "--concomitant: .*no column 'zz'" -- \
  "$MIXEM" fit -f poisson --concomitant zz -k 2 "$P3"
check "select --concomitant" 0 ' 3 .*-1515\.5801 +12 .*<- chosen' -- \
  "$MIXEM" select -f poisson --concomitant z1,z2 -k 2,3 --seed 1 --n-init 2 "$P3"
check "fit --concomitant with noise" 2 'noise component cannot be combined' -- \
  "$MIXEM" fit -f poisson --concomitant z1 --noise -k 2 "$P3"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
