#!/usr/bin/env bash
# The headline numbers in about two minutes (after the set-up of
# scripts/setup.sh): the default 1000-cell islet with 1 and 2 threads, the
# kernel against this core's limits, and the same workload in numba
# (Debian's python3-numba; skipped with a note when it is not installed).
# `bash scripts/bench.sh --full` adds, for a new kind of machine, every
# speed figure of BENCHMARKS.md's issue-13 sections (about 40 minutes more
# on 2 cores): the whole Euler step against the kernel alone, the gather
# alone, the recording cost, and the default thread count against fixed -j,
# quiet and with a competing busy process.
set -euo pipefail
cd "$(dirname "$0")/.."
full=0
case "${1:-}" in
  --full) full=1 ;;
  "") ;;
  *) echo "usage: bash scripts/bench.sh [--full]" >&2; exit 2 ;;
esac
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
if [ "$full" = 1 ]; then
  echo
  echo "== the whole Euler step against the kernel alone, pinned (bench/step_ratio.py build 6) =="
  /usr/bin/python3 bench/step_ratio.py build 6
  echo
  echo "== the coupling gather alone, unit weights against weighted, pinned (build/gather_bench) =="
  taskset -c "$(/usr/bin/python3 -c 'import os; print(max(os.sched_getaffinity(0)))')" build/gather_bench
  echo
  echo "== recording every 10 ms against every 1000 ms, default run, 2 threads (bench/recording_bench.py build/islet 5 600 2) =="
  /usr/bin/python3 bench/recording_bench.py build/islet 5 600 2
  echo
  echo "== default thread count against fixed -j, quiet and busy (bench/threads_bench.py build/islet 3) =="
  /usr/bin/python3 bench/threads_bench.py build/islet 3
fi
