#!/usr/bin/env bash
# Checks the generated code of every model's cell kernel (the object files
# named kernel.cpp.o, one per src/model/<name>/): the AVX-512 variants of each
# kernel body must do their arithmetic on packed zmm registers and the AVX2
# variants on packed ymm registers. A scalar or half-vectorized kernel still
# gives the right bits (the other tests pass) but runs ~10x slower; this
# catches that.
# Usage: check_simd.sh <object files...>
set -euo pipefail
objs=()
for f in "$@"; do case "$f" in *kernel.cpp.o) objs+=("$f") ;; esac; done
[ ${#objs[@]} -gt 0 ] || { echo "check_simd: no kernel.cpp.o among the arguments"; exit 1; }
if [ "$(uname -m)" != x86_64 ]; then echo "check_simd: not x86-64, nothing to check"; exit 0; fi
fail=0
for obj in "${objs[@]}"; do
  model=$(basename "$(dirname "$obj")")
  # Per function (the Stage x variant clones of each instruction set): packed
  # arithmetic instructions on zmm, ymm and xmm registers.
  table=$(objdump -d --no-show-raw-insn -C "$obj" | awk '
    /^[0-9a-f]+ <.*>:$/ { fn = "" }
    /^[0-9a-f]+ <.*body_(avx512|avx2)<\(isletsim::model_abi::Stage\)[0-9], [a-z0-9]+>\(unsigned long, double const\*/ {
      fn = $0; sub(/.*body_/, "", fn); sub(/<\(isletsim::model_abi::Stage\)/, "/stage", fn); sub(/, /, "/", fn)
      sub(/>.*/, "", fn); seen[fn] = 1
    }
    fn != "" && /v(fn?m(add|sub)[0-9]+|mul|add|sub|div|sqrt)pd/ {
      if ($0 ~ /zmm/) z[fn]++; else if ($0 ~ /ymm/) y[fn]++; else x[fn]++
    }
    END { for (f in seen) printf "%s %d %d %d\n", f, z[f], y[f], x[f] }' | sort)
  echo "$model: function zmm ymm xmm (packed double arithmetic instructions)"
  echo "$table"
  # Bertram 2007's kernel has ~240-270 packed arithmetic instructions per
  # vector of cells (BENCHMARKS.md); a smaller model fewer. A scalar build has
  # none, a half-vectorized one far fewer.
  min=40
  [ "$model" = bertram2007 ] && min=200
  [ -n "$table" ] || { echo "FAIL: $model: no kernel body clones found"; fail=1; continue; }
  n_fn=0
  while read -r f z y _; do
    n_fn=$((n_fn + 1))
    case "$f" in avx512/*) n=$z; reg=zmm ;; *) n=$y; reg=ymm ;; esac
    [ "$n" -ge "$min" ] || { echo "FAIL: $model $f: only $n packed instructions on $reg (want >= $min)"; fail=1; }
  done <<<"$table"
  # Every stage (5) of every instruction set (2), for each variant.
  [ $((n_fn % 10)) -eq 0 ] || { echo "FAIL: $model: $n_fn clones, expected 10 per variant"; fail=1; }
done
exit $fail
