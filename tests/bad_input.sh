#!/bin/bash
# bad_input.sh: the bad-input table of issue 18, each case through the command line and through
# Lua, with the exit status (CLI) and the words of the message (both).  The files are made here;
# the other suites test each case in more depth.  Prints "N passed, N failed".
set -u
MIXEM=${MIXEM:?path of the mixem program}
SRC=${MIXEM_TEST_SRCDIR:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
passed=0 failed=0
COINS="$SRC/data/two_coins.csv"

# --- the inputs ---
# 1. a .npy header that ends right after "'descr': '"
h="{'fortran_order': False, 'shape': (2, 2), 'descr': '"
{ printf '\223NUMPY\001\000'; printf "\\$(printf '%03o' ${#h})\\000"; printf '%s' "$h"; } > "$T/descr.npy"
# 2. a .npy whose shape overflows rows x cols x itemsize
h="{'descr': '<f8', 'fortran_order': False, 'shape': (9223372036854775808, 2), }"
pad=$(( (16 - (10 + ${#h} + 1) % 16) % 16 ))
h="$h$(printf '%*s' $pad '')"
{ printf '\223NUMPY\001\000'; printf "\\$(printf '%03o' $(( ${#h} + 1 )))\\000"; printf '%s\n' "$h"; } > "$T/shape.npy"
# 3. a model file nested 50 000 deep
{ printf '{"format": "mixem-model", "components": '; head -c 50000 /dev/zero | tr '\0' '['; } > "$T/deep.json"
# 5. a trace with an iteration of 1e300
printf 'iter,loglik,elbo,kl\n1,-3,-4,1\n1e300,-2,-2,0\n' > "$T/trace.csv"
# 8. a NUL byte after the third row
{ printf 'heads,trials\n5,10\n9,10\n8,10\n'; printf '\000'; printf '4,10\n7,10\n'; } > "$T/nul.csv"
# 9. two columns of one name
printf 'a,a\n1,2\n3,4\n5,7\n' > "$T/dup.csv"
# 12. 12 successes out of 10 trials, for a picture
printf 'heads,trials\n12,10\n5,10\n' > "$T/bad_binomial.csv"
"$MIXEM" fit -f binomial --trials trials -k 2 "$COINS" --n-init 1 -q --out "$T/coins.json"
# 17. a cell of 1 MB
{ printf 'heads,trials\n'; head -c 1000000 /dev/zero | tr '\0' 'x'; printf ',10\n'; } > "$T/long.csv"

# case NAME STATUS PATTERN -- COMMAND...: the CLI side.
case_cli () {
  local name=$1 want=$2 pattern=$3
  shift 4
  local out status
  out=$("$@" 2>&1)
  status=$?
  if [ "$status" -eq "$want" ] && { [ -z "$pattern" ] || printf '%s' "$out" | grep -Ezq -- "$pattern"; } \
     && [ "${#out}" -lt 4096 ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    printf 'FAIL cli %s: status %s (expected %s), output:\n%.300s\n' "$name" "$status" "$want" "$out" >&2
  fi
}

case_cli "1 npy descr" 1 'malformed \.npy header' -- "$MIXEM" fit -f bernoulli "$T/descr.npy"
case_cli "2 npy shape" 1 'shorter than its shape says' -- "$MIXEM" fit -f gaussian "$T/shape.npy"
case_cli "3 deep json" 1 'nested deeper than' -- "$MIXEM" predict "$T/deep.json" "$COINS"
case_cli "5 trace iter" 1 'an iteration must be a whole number' -- "$MIXEM" plot trace "$T/trace.csv" -o "$T/t.png"
case_cli "6 sample huge" 0 '' -- bash -c "'$MIXEM' sample '$T/coins.json' -n 1000000000000 | head -n 3 > /dev/null"
case_cli "7 endless input" 1 'longer than|line' -- bash -c "head -c 80000000 /dev/zero | '$MIXEM' fit -f gaussian /dev/stdin"
case_cli "8 NUL byte" 1 'nul.csv:5: .*NUL' -- "$MIXEM" fit -f binomial --trials trials -k 2 "$T/nul.csv"
case_cli "9 duplicated names" 1 "dup.csv:1: columns 1 and 2 are both named 'a'" -- "$MIXEM" fit -f gaussian "$T/dup.csv"
case_cli "10 trials 1e300" 2 "'trials' = '1e300' is neither a column nor a whole number" -- \
  "$MIXEM" fit -f binomial --trials 1e300 -k 1 "$COINS" --columns heads
case_cli "11 int option" 2 'n-init|Cannot parse integer' -- "$MIXEM" fit -f binomial --trials trials --n-init 4294967297 "$COINS"
case_cli "12 plot binomial" 1 '12 successes out of 10 trials' -- \
  "$MIXEM" plot binomial "$T/coins.json" "$T/bad_binomial.csv" -o "$T/b.png"
case_cli "14 stdout full" 1 'write error on standard output' -- bash -c "'$MIXEM' families > /dev/full"
case_cli "17 long cell" 1 "long.csv:2: .*\.\.\." -- "$MIXEM" fit -f binomial --trials trials "$T/long.csv"

# The same cases through Lua, with the messages of the library.
cat > "$T/cases.lua" <<'LUA'
local mx = require "mixem"
local T = arg[1]
local passed, failed = 0, 0
local function case(name, fn, pattern)
  local ok, err = pcall(fn)
  if not ok and tostring(err):find(pattern) and #tostring(err) < 4096 then
    passed = passed + 1
  else
    failed = failed + 1
    io.stderr:write(string.format("FAIL lua %s: %s\n", name, ok and "no error" or tostring(err):sub(1, 300)))
  end
end
local X = mx.read_csv(arg[2], {columns = {"heads", "trials"}})
case("1 npy descr", function() mx.read_npy(T .. "/descr.npy") end, "malformed %.npy header")
case("2 npy shape", function() mx.read_npy(T .. "/shape.npy") end, "shorter than its shape says")
case("3 deep json", function() mx.load(T .. "/deep.json") end, "nested deeper than")
local t = {}; t[1] = t
case("4 a table that contains itself", function()
  mx.fit{data = X, family = "binomial", trials = "trials", k = 1, init = {components = t}} end,
  "contains itself")
case("5 trace iter", function() mx.plot.trace({{iter = 2^31, loglik = -1, elbo = -1}}, T .. "/t.png") end,
     "'iter' must be an integer")
case("6 k huge", function() mx.fit{data = X, family = "binomial", trials = "trials", k = 1 << 62} end,
     "'k'")
case("6 sample huge", function() mx.load(T .. "/coins.json"):sample(1 << 40) end, "")
case("8 NUL byte", function() mx.read_csv(T .. "/nul.csv") end, "NUL")
case("9 duplicated names", function() mx.read_csv(T .. "/dup.csv") end, "columns 1 and 2")
case("11 max_iter 2^32 + 2", function()
  mx.fit{data = X, family = "binomial", trials = "trials", max_iter = 2^32 + 2} end, "max_iter")
case("11 n_init 2^32 + 1", function()
  mx.fit{data = X, family = "binomial", trials = "trials", n_init = (1 << 32) + 1} end, "n_init")
case("17 long cell", function() mx.read_csv(T .. "/long.csv") end, "%.%.%.")
print(string.format("%d %d", passed, failed))
os.exit(failed == 0 and 0 or 1)
LUA
lua_out=$("$MIXEM" run "$T/cases.lua" "$T" "$COINS")
read -r lp lf <<< "$lua_out"
passed=$((passed + ${lp:-0})) failed=$((failed + ${lf:-1}))

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
