#!/usr/bin/env bash
# Checks the generated code of the cell kernel (issue 3, item 2): in the
# object file of src/model/kernel.cpp, the AVX-512 variant of the double
# kernel must do its arithmetic on packed zmm registers and the AVX2 variant
# on packed ymm registers. A scalar or half-vectorized kernel still gives the
# right bits (the other tests pass) but runs ~10x slower; this catches that.
# Usage: check_simd.sh <object files...> (the one named kernel.cpp.o is used)
set -euo pipefail
obj=""
for f in "$@"; do case "$f" in *kernel.cpp.o) obj="$f" ;; esac; done
[ -n "$obj" ] || { echo "check_simd: no kernel.cpp.o among the arguments"; exit 1; }
if [ "$(uname -m)" != x86_64 ]; then echo "check_simd: not x86-64, nothing to check"; exit 0; fi
counts=$(objdump -d --no-show-raw-insn -C "$obj" | awk '
  /^[0-9a-f]+ <.*>:$/ { fn = "" }
  /^[0-9a-f]+ <.*rhs_avx512\(unsigned long, double const\*/ { fn = "avx512" }
  /^[0-9a-f]+ <.*rhs_avx2\(unsigned long, double const\*/ { fn = "avx2" }
  fn != "" && /v(fn?m(add|sub)[0-9]+|mul|add|sub|div|sqrt)pd/ {
    if ($0 ~ /zmm/) z[fn]++; else if ($0 ~ /ymm/) y[fn]++; else s[fn]++
  }
  END { printf "%d %d %d %d\n", z["avx512"], s["avx512"], y["avx2"], s["avx2"] }')
read -r z512 x512 y2 x2 <<<"$counts"
echo "rhs_avx512: $z512 packed zmm arithmetic instructions ($x512 on xmm/ymm)"
echo "rhs_avx2:   $y2 packed ymm arithmetic instructions ($x2 on xmm)"
# The kernel has ~330 arithmetic instructions per vector of cells (BENCHMARKS.md).
fail=0
[ "$z512" -ge 300 ] || { echo "FAIL: the AVX-512 kernel is not vectorized with zmm"; fail=1; }
[ "$y2" -ge 300 ] || { echo "FAIL: the AVX2 kernel is not vectorized with ymm"; fail=1; }
exit $fail
