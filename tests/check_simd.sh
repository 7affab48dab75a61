#!/usr/bin/env bash
# Checks the generated code of the cell kernel (issue 3, item 2): in the
# object file of src/model/kernel.cpp, the AVX-512 variants of the double
# kernel must do their arithmetic on packed zmm registers and the AVX2
# variants on packed ymm registers. A scalar or half-vectorized kernel still gives the
# right bits (the other tests pass) but runs ~10x slower; this catches that.
# Usage: check_simd.sh <object files...> (the one named kernel.cpp.o is used)
set -euo pipefail
obj=""
for f in "$@"; do case "$f" in *kernel.cpp.o) obj="$f" ;; esac; done
[ -n "$obj" ] || { echo "check_simd: no kernel.cpp.o among the arguments"; exit 1; }
if [ "$(uname -m)" != x86_64 ]; then echo "check_simd: not x86-64, nothing to check"; exit 0; fi
# Per function (the Stage x shared-exp variants of each instruction set): packed
# arithmetic instructions on zmm, ymm, and xmm registers.
table=$(objdump -d --no-show-raw-insn -C "$obj" | awk '
  /^[0-9a-f]+ <.*>:$/ { fn = "" }
  /^[0-9a-f]+ <.*body_(avx512|avx2)<.*Stage\)[0-9], (true|false)>\(unsigned long, double const\*/ {
    fn = $0; sub(/.*body_/, "", fn); sub(/<\(isletsim::kernel::Stage\)/, "/stage", fn); sub(/, /, "/", fn)
    sub(/>.*/, "", fn); seen[fn] = 1
  }
  fn != "" && /v(fn?m(add|sub)[0-9]+|mul|add|sub|div|sqrt)pd/ {
    if ($0 ~ /zmm/) z[fn]++; else if ($0 ~ /ymm/) y[fn]++; else x[fn]++
  }
  END { for (f in seen) printf "%s %d %d %d\n", f, z[f], y[f], x[f] }' | sort)
echo "function zmm ymm xmm (packed double arithmetic instructions)"
echo "$table"
# The kernel has ~240-270 packed arithmetic instructions per vector of cells
# (BENCHMARKS.md); a scalar build has none, a half-vectorized one far fewer.
fail=0
for isa in avx512 avx2; do
  for st in 0 1 2 3 4; do
    for shared in false true; do
      f=$isa/stage$st/$shared
      line=$(grep "^$f " <<<"$table" || true)
      [ -n "$line" ] || { echo "FAIL: $f not found"; fail=1; continue; }
      read -r _ z y _ <<<"$line"
      if [ $isa = avx512 ]; then n=$z; else n=$y; fi
      [ "$n" -ge 200 ] || { echo "FAIL: $f: only $n packed instructions on $( [ $isa = avx512 ] && echo zmm || echo ymm )"; fail=1; }
    done
  done
done
exit $fail
