#!/bin/bash
# scripts.sh: every script of scripts/ runs to the end from a scratch folder, and those that draw
# leave their pictures there as PNG files.  Prints "N passed, N failed".
set -u
MIXEM=${MIXEM:?path of the mixem program}
SRC=${MIXEM_TEST_SRCDIR:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
passed=0 failed=0
is_png () { [ "$(head -c 8 "$1" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ]; }
for s in two_coins iris kmeans_vs_gmm bernoulli_digits select_k lua_family lca_haireye; do
  if (cd "$T" && "$MIXEM" run "$SRC/scripts/$s.lua" > "$T/$s.out" 2>&1); then
    passed=$((passed + 1))
  else
    failed=$((failed + 1)); echo "FAIL $s:" >&2; cat "$T/$s.out" >&2
  fi
done
for p in two_coins_trace two_coins_rates iris_clusters iris_petals iris_select digits_prototypes \
    lca_haireye; do
  if is_png "$T/$p.png"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL $p.png" >&2; fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
