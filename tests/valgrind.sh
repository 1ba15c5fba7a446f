#!/bin/bash
# valgrind.sh LOGDIR CMD...: runs each CMD (one shell word list per argument) under valgrind's
# memcheck, as many at once as there are cores, each into LOGDIR/N.log; prints one line per
# command and, for each that failed (memory errors or definite leaks), its log.  Called by
# `make check-valgrind`, which sets up the test environment first.
set -u
logs=$1; shift
supp=${VALGRIND_SUPP:?}
mkdir -p "$logs"
run_one() {   # N CMD: one command under valgrind, its status in N.rc
  local n=$1; shift
  local t0=$SECONDS
  ${LIBTOOL:-libtool} --mode=execute valgrind -q --error-exitcode=9 --leak-check=full \
    --errors-for-leak-kinds=definite --show-possibly-lost=no --suppressions="$supp" \
    $1 > "$logs/$n.log" 2>&1
  local rc=$?
  echo "$rc" > "$logs/$n.rc"
  printf '%s %4ds  %s\n' "$([ $rc = 0 ] && echo PASS || echo FAIL)" $((SECONDS - t0)) "$1"
}
export -f run_one
export logs supp
n=0
for cmd in "$@"; do printf '%d\0%s\0' $n "$cmd"; n=$((n + 1)); done |
  xargs -0 -n 2 -P "$(nproc)" bash -c 'run_one "$0" "$1"'
status=0 i=0
for cmd in "$@"; do
  if [ "$(cat "$logs/$i.rc" 2>/dev/null)" != 0 ]; then
    echo "=== valgrind FAIL: $cmd"; cat "$logs/$i.log"; status=1
  fi
  i=$((i + 1))
done
exit $status
