#!/bin/bash
# fuzz.sh SRCDIR OUTDIR [build|run]: builds the libFuzzer targets (clang, -fsanitize=fuzzer,
# address,undefined) from the library and family sources, then (run, the default) fuzzes each for
# FUZZ_SECONDS from its seed corpus (tests/fuzz/corpus/NAME, copied to OUTDIR/corpus-NAME, which
# keeps what libFuzzer finds) with its dictionary.  Crashes are left as OUTDIR/crash-*; add the
# input to tests/fuzz/corpus/NAME, and make check replays it from then on.
# Called by `make fuzz`, which passes FUZZ_CC, FUZZ_CPPFLAGS, FUZZ_DEP_CFLAGS and FUZZ_DEP_LIBS.
set -eu
src=$1 out=$2 what=${3:-run}
cc=${FUZZ_CC:-clang}
seconds=${FUZZ_SECONDS:-60}
flags="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fopenmp -Wno-pass-failed"
# No module directories: the families are linked into the targets.
defs=(-DMIXEM_FAMILYDIR='"/nonexistent"' -DMIXEM_BUILD_FAMILYDIR='"/nonexistent"')
mkdir -p "$out/obj"
objs=()
# Every library source (src/*.c but the command's cli.c), so that a new one is not left out.
for p in "$src"/src/*.c; do
  f=$(basename "$p" .c)
  [ "$f" = cli ] && continue
  $cc $flags "${defs[@]}" ${FUZZ_CPPFLAGS:-} ${FUZZ_DEP_CFLAGS:-} -c "$src/src/$f.c" -o "$out/obj/$f.o"
  objs+=("$out/obj/$f.o")
done
for f in binomial gaussian bernoulli poisson; do   # linked in, each under a name of its own
  $cc $flags ${FUZZ_CPPFLAGS:-} ${FUZZ_DEP_CFLAGS:-} -Dmixem_family_entry=mixem_family_$f \
    -c "$src/families/$f.c" -o "$out/obj/family_$f.o"
  objs+=("$out/obj/family_$f.o")
done
lua_objs=()
for f in lmixem laux ldataset lfit lmodel lplot lfamily; do   # the Lua module, for the option-table target
  $cc $flags ${FUZZ_CPPFLAGS:-} ${FUZZ_DEP_CFLAGS:-} -c "$src/src/lua/$f.c" -o "$out/obj/lua_$f.o"
  lua_objs+=("$out/obj/lua_$f.o")
done
for t in csv npy model trace lua; do
  extra=()
  [ "$t" = lua ] && extra=("${lua_objs[@]}")
  $cc $flags -fsanitize=fuzzer -DMIXEM_FUZZ_STATIC_FAMILIES ${FUZZ_CPPFLAGS:-} ${FUZZ_DEP_CFLAGS:-} \
    "$src/tests/fuzz/fuzz_$t.c" "${extra[@]}" "${objs[@]}" ${FUZZ_DEP_LIBS:-} -o "$out/fuzz_$t"
done
[ "$what" = build ] && exit 0
# The families come from the binary: no module of the build tree is loaded.
export MIXEM_FAMILY_PATH=/nonexistent
# fontconfig keeps its font caches to the end (the trace target draws text): not ours.
export LSAN_OPTIONS="suppressions=$src/tests/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
status=0
for t in csv npy model trace lua; do
  mkdir -p "$out/corpus-$t"
  cp -n "$src/tests/fuzz/corpus/$t/"* "$out/corpus-$t/" 2>/dev/null || true
  echo "fuzz_$t: ${seconds}s"
  # The Lua target finds its families as the mixem command does: the build tree's modules.
  fp=/nonexistent leaks=1
  # The Lua target loads the build tree's family modules and closes them with the Lua state;
  # LeakSanitizer then cannot follow what their code allocated (it reports 8 bytes of an
  # "<unknown module>" that valgrind, on the same input through make check-valgrind's replay,
  # does not find lost).  Leaks there are valgrind's to find.
  [ "$t" = lua ] && fp="$out/../../families/.libs" leaks=0
  (cd "$out" && MIXEM_FAMILY_PATH="$fp" ./fuzz_$t -detect_leaks=$leaks -max_total_time="$seconds" -max_len=200000 -rss_limit_mb=4096 \
     -dict="$src/tests/fuzz/$t.dict" -print_final_stats=1 "corpus-$t") || status=1
done
exit $status
