#!/usr/bin/env bash
# The headline numbers in about two minutes (after the set-up of
# scripts/setup.sh): the default 1000-cell islet with 1 and 2 threads, the
# kernel against this core's limits, and the same workload in numba
# (Debian's python3-numba; skipped with a note when it is not installed).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x build/islet_bench ] || bash scripts/setup.sh
echo "== 1000-cell islet, no recording (build/islet_bench 10 1000 3) =="
build/islet_bench 10 1000 3
echo
echo "== kernel against the core's limits (build/roofline) =="
build/roofline
echo
if /usr/bin/python3 -c "import numba" 2>/dev/null; then
  echo "== same workload in numba, 1000 cells, 2 threads (bench/compare_python.py) =="
  /usr/bin/python3 bench/compare_python.py --threads 2 --skip-numpy --variants parallel \
    --numba-seconds 2 --islet-seconds 10 --repeats 2 --islet build/islet
else
  echo "numba comparison skipped: apt-get install python3-numba, then rerun"
fi
