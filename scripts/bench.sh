#!/usr/bin/env bash
# The headline numbers in about two minutes (after the set-up of
# scripts/setup.sh): the default 1000-cell islet with 1 and 2 threads, the
# kernel against this core's limits, and the same workload in numba
# (Debian's python3-numba; skipped with a note when it is not installed).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x build/islet_bench ] || bash scripts/setup.sh
# The figures depend on the machine: say which one they come from.
cpu=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo 2>/dev/null | head -1)
flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)
simd=baseline
case "$flags" in *avx512f*) simd=AVX-512 ;; *avx2*) simd=AVX2 ;; esac
echo "== machine: ${cpu:-unknown CPU} ($simd), $(nproc) usable core(s) of $(grep -c '^processor' /proc/cpuinfo 2>/dev/null || echo '?'), $(uname -sr) =="
echo
echo "== 1000-cell islet, no recording (build/islet_bench 10 1000 3) =="
build/islet_bench 10 1000 3
echo
echo "== kernel against the core's limits (build/roofline) =="
build/roofline
echo
if /usr/bin/python3 -c "import numba" 2>/dev/null; then
  echo "== same workload in numba, 1000 cells, 2 threads: Euler 0.1 ms and RK4 0.5 ms (bench/compare_python.py) =="
  /usr/bin/python3 bench/compare_python.py --threads 2 --skip-numpy --variants parallel \
    --numba-seconds 2 --islet-seconds 10 --repeats 2 --islet build/islet
else
  echo "numba comparison skipped: apt-get install python3-numba, then rerun"
fi
echo
echo "== Gauss bifurcation 640x400: in one process (build/sweep_bench gauss 21) =="
build/sweep_bench gauss 21
echo "== ... and as a fresh 'islet bifurcation' process each time (11 runs, compute ms sorted) =="
for i in $(seq 11); do
  build/islet bifurcation gauss --alpha 5.8 -o "${TMPDIR:-/tmp}/islet_bench_gauss.png" |
    sed 's/.*computed in \([0-9.]*\) ms.*PNG written in \([0-9.]*\) ms.*/\1 \2/'
done | sort -n | awk '{c[NR]=$1; p[NR]=$2; printf "%s ", $1} END {printf "\nmedian compute %s ms (PNG written in %s ms in that run)\n", c[int((NR+1)/2)], p[int((NR+1)/2)]}'
