#!/bin/bash
# fault.sh: the promises of mixem's file writes under faults: a read-only folder, a full device,
# a FIFO, a symbolic link, a file size limit (ulimit -f), kill -9 during a write, and a closed
# or full stdout.  Each case checks that the old file is intact, nothing is half-written, no
# temporary file is left, and the exit status.  Devices are copies made with mknod in a scratch
# folder (root only; the real /dev/null and /dev/full are never a target).  A case that cannot be
# run here is skipped; if every case is skipped the script exits 77.  Prints "N passed, N failed,
# N skipped".
set -u
MIXEM=${MIXEM:?path of the mixem program}
SRC=${MIXEM_TEST_SRCDIR:?}
COINS="$SRC/data/two_coins.csv"
T=$(mktemp -d)
cleanup () { chattr -i "$T/ro" 2> /dev/null; chmod -R u+w "$T" 2> /dev/null; rm -rf "$T"; }
trap cleanup EXIT
passed=0 failed=0 skipped=0

ok () { passed=$((passed + 1)); }
bad () { failed=$((failed + 1)); echo "FAIL $*" >&2; }
skip () { skipped=$((skipped + 1)); echo "SKIP $*" >&2; }
# expect NAME CONDITION...
expect () { local name=$1; shift; if "$@"; then ok; else bad "$name"; fi; }
# Only the files named are in folder DIR (no temporary left).
only () { local dir=$1; shift; [ "$(cd "$dir" && ls -A | sort | tr '\n' ' ')" = "$(printf '%s\n' "$@" | sort | tr '\n' ' ')" ]; }
is_model () { tail -n 2 "$1" | grep -q '^}$' && grep -q '"format" : "mixem-model"' "$1"; }
fit () { "$MIXEM" fit -q -f binomial --trials trials -k 2 "$COINS" "$@"; }

fit --out "$T/old.json" --seed 1 || { echo "cannot fit" >&2; exit 1; }

# A read-only folder: root ignores permissions, so as root the folder is made immutable.
mkdir "$T/ro"
cp "$T/old.json" "$T/ro/m.json"
if [ "$(id -u)" -ne 0 ] && chmod 555 "$T/ro" || chattr +i "$T/ro" 2> /dev/null; then
  fit --out "$T/ro/m.json" --seed 2 2> "$T/err"; st=$?
  expect "read-only folder: exit 1" test "$st" -eq 1
  expect "read-only folder: message names the file" grep -q 'ro/m.json' "$T/err"
  expect "read-only folder: old file intact" cmp -s "$T/old.json" "$T/ro/m.json"
  expect "read-only folder: nothing left" only "$T/ro" m.json
  chattr -i "$T/ro" 2> /dev/null; chmod 755 "$T/ro"
else
  skip "read-only folder (cannot make one here)"
fi

# Devices: copies of /dev/full and /dev/null are written through, and stay devices.
mkdir "$T/dev"
if mknod "$T/dev/full" c 1 7 2> /dev/null && mknod "$T/dev/null" c 1 3 2> /dev/null; then
  fit --out "$T/dev/full" 2> "$T/err"; st=$?
  expect "full device: exit 1" test "$st" -eq 1
  expect "full device: message" grep -q 'dev/full: cannot write: No space left on device' "$T/err"
  expect "full device: still a device" test -c "$T/dev/full"
  fit --out "$T/dev/null"; st=$?
  expect "null device: exit 0" test "$st" -eq 0
  expect "null device: still a device" test -c "$T/dev/null"
  # A failed --trace (on the full device) leaves --out as it was.
  cp "$T/old.json" "$T/dev/m.json"
  fit --seed 5 --out "$T/dev/m.json" --trace "$T/dev/full" 2> /dev/null; st=$?
  expect "failed trace: exit 1" test "$st" -eq 1
  expect "failed trace: model intact" cmp -s "$T/old.json" "$T/dev/m.json"
  expect "devices: nothing left" only "$T/dev" full null m.json
else
  skip "devices (mknod needs root)"
fi

# A FIFO is written through, and stays a FIFO.
mkdir "$T/fifo"
if mkfifo "$T/fifo/p" 2> /dev/null; then
  timeout 10 cat "$T/fifo/p" > "$T/fifo.out" &
  reader=$!
  timeout 10 "$MIXEM" fit -q -f binomial --trials trials -k 2 "$COINS" --out "$T/fifo/p"; st=$?
  wait "$reader"
  expect "fifo: exit 0" test "$st" -eq 0
  expect "fifo: the reader got the model" is_model "$T/fifo.out"
  expect "fifo: still a FIFO" test -p "$T/fifo/p"
  expect "fifo: nothing left" only "$T/fifo" p
else
  skip "fifo (mkfifo failed)"
fi

# A symbolic link stays a link; the file it points to is replaced.
mkdir "$T/link"
cp "$T/old.json" "$T/link/target.json"
ln -s target.json "$T/link/m.json"
fit --out "$T/link/m.json" --seed 3; st=$?
expect "symlink: exit 0" test "$st" -eq 0
expect "symlink: still a link" test -L "$T/link/m.json"
expect "symlink: target replaced" is_model "$T/link/target.json"
expect "symlink: target changed" test "$(cat "$T/link/target.json")" != "$(cat "$T/old.json")"
expect "symlink: nothing left" only "$T/link" m.json target.json

# A file size limit: the write fails with an error (SIGXFSZ is ignored), the old file stays.
mkdir "$T/limit"
cp "$T/old.json" "$T/limit/m.json"
(ulimit -f 1 && exec "$MIXEM" fit -q -f binomial --trials trials -k 2 "$COINS" --seed 4 \
   --out "$T/limit/m.json") 2> "$T/err"; st=$?
expect "ulimit -f: exit 1, not a signal" test "$st" -eq 1
expect "ulimit -f: message" grep -q 'File too large' "$T/err"
expect "ulimit -f: old file intact" cmp -s "$T/old.json" "$T/limit/m.json"
expect "ulimit -f: nothing left" only "$T/limit" m.json

# kill -9 during a write.  With strace, deterministically: SIGKILL at the entry of each system call
# of the write (the data, the fsync, the link, the rename), with O_TMPFILE and with the named
# fallback.  The target must be the old file, whole; the next run must succeed and leave no
# temporary (a kill between link and rename leaves one, which the next write removes).
mkdir "$T/kill"
printf 'iter,loglik,elbo,kl\n' > "$T/trace.csv"
awk 'BEGIN { for (i = 1; i <= 300; i++) printf "%d,%.6f,%.6f,%.3g\n", i, -1000 + 900 * (1 - exp(-i / 30)), -1000.5 + 900 * (1 - exp(-i / 30)), 0.5 * exp(-i / 20) }' >> "$T/trace.csv"
draw () { "$MIXEM" plot trace "$T/trace.csv" -o "$T/kill/p.svg" "$@"; }
whole_svg () { tail -c 10 "$T/kill/p.svg" | grep -q '</svg>'; }
draw -t old || bad "kill: the first picture"
cp "$T/kill/p.svg" "$T/old.svg"
if command -v strace > /dev/null && strace -f -o /dev/null -e trace=getpid true 2> /dev/null; then
  for mode in tmpfile named; do
    for sc in write fsync linkat rename; do
      [ "$mode" = named ] && { [ "$sc" = linkat ] || [ "$sc" = fsync ]; } && continue
      (if [ "$mode" = named ]; then export MIXEM_TEST_NO_O_TMPFILE=1; fi
       exec strace -f -o /dev/null -e trace="$sc" -e inject="$sc":signal=SIGKILL:when=1 \
         "$MIXEM" plot trace "$T/trace.csv" -o "$T/kill/p.svg" -t new) 2> /dev/null; st=$?
      expect "kill -9 at $sc ($mode): killed" test "$st" -eq 137
      expect "kill -9 at $sc ($mode): old file intact" cmp -s "$T/old.svg" "$T/kill/p.svg"
      if [ "$mode" = tmpfile ] && [ "$sc" != rename ]; then
        expect "kill -9 at $sc ($mode): no temporary" only "$T/kill" p.svg
      fi
      draw -t next; st=$?
      expect "kill -9 at $sc ($mode): the next run succeeds" test "$st" -eq 0
      expect "kill -9 at $sc ($mode): the next run is whole" whole_svg
      expect "kill -9 at $sc ($mode): the next run leaves no temporary" only "$T/kill" p.svg
      cp "$T/old.svg" "$T/kill/p.svg"
    done
  done
else
  skip "kill -9 at each system call (no strace, or no ptrace here)"
fi
# And at varied moments, a couple of dozen times (bounded to about 2 seconds).
kills=0 torn=0
end=$((SECONDS + 2))
for i in $(seq 1 24); do
  [ "$SECONDS" -lt "$end" ] || break
  draw -t "run $i" &
  pid=$!
  sleep "0.$(( (i * 37) % 3 ))$(( (i * 53) % 10 ))"
  kill -9 "$pid" 2> /dev/null && kills=$((kills + 1))
  wait "$pid" 2> /dev/null
  whole_svg || torn=$((torn + 1))
done
expect "kill -9: the target is always whole ($torn torn of $kills kills)" test "$torn" -eq 0
draw -t last; st=$?
expect "kill -9: the next run succeeds and leaves no temporary" only "$T/kill" p.svg
expect "kill -9: the last picture is whole" whole_svg

# stdout closed or full: exit 1 with a message, and the --out file is whole.
"$MIXEM" predict "$T/old.json" "$COINS" >&- 2> "$T/err"; st=$?
expect "stdout closed: exit 1" test "$st" -eq 1
expect "stdout closed: message" grep -q 'write error on standard output' "$T/err"
mkdir "$T/out"
"$MIXEM" fit -f binomial --trials trials -k 2 "$COINS" --out "$T/out/m.json" > /dev/full 2> "$T/err"; st=$?
expect "stdout full: exit 1" test "$st" -eq 1
expect "stdout full: message" grep -q 'write error on standard output: No space left on device' "$T/err"
expect "stdout full: model whole" is_model "$T/out/m.json"
"$MIXEM" fit -f binomial --trials trials -k 2 "$COINS" --out "$T/out/c.json" >&- 2> /dev/null
expect "stdout closed: model whole" is_model "$T/out/c.json"
expect "stdout: nothing left" only "$T/out" m.json c.json

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] || exit 1
[ "$passed" -gt 0 ] || exit 77
exit 0
