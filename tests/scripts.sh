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
for s in two_coins iris kmeans_vs_gmm bernoulli_digits select_k lua_family gamma_faithful \
    exponential_coal multinomial_licenses heavy_tails directions lca_haireye em_variants \
    regression_mixture missing; do
  if (cd "$T" && "$MIXEM" run "$SRC/scripts/$s.lua" > "$T/$s.out" 2>&1); then
    passed=$((passed + 1))
  else
    failed=$((failed + 1)); echo "FAIL $s:" >&2; cat "$T/$s.out" >&2
  fi
done
for p in two_coins_trace two_coins_rates iris_clusters iris_petals iris_select digits_prototypes \
    faithful_gamma_clusters faithful_gamma_select faithful_gamma_waiting coal_select coal_density \
    licenses_words licenses_select heavy_tails_gaussian heavy_tails_student_t directions lca_haireye \
    em_variants_gaussian em_variants_whiskey tonedata_select tonedata_regression \
    tonedata_regression_k2 missing_ari; do
  if is_png "$T/$p.png"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL $p.png" >&2; fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
