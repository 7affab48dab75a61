#!/usr/bin/env bash
# Set-up (packages, configure, build), then every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cd build
ctest --output-on-failure -j 2
