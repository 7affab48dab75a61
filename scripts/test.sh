#!/usr/bin/env bash
# Set-up (packages, configure, build), then every test, then a short fuzzing
# pass (docs/testing.md: 15 s per fuzz target, skipped with a message when
# clang-14's libFuzzer is not installed).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
(cd build && ctest --output-on-failure -j 2)
rc=0
bash scripts/fuzz.sh 15 || rc=$?
if [ "$rc" -eq 77 ]; then
  echo "test.sh: fuzzing skipped (see above); every test passed"
elif [ "$rc" -ne 0 ]; then
  exit "$rc"
fi
