#!/usr/bin/env bash
# Set-up (packages, configure, build), then the built-in default run:
# a 1000-cell islet, 10 simulated minutes, glucose 2 -> 11 mM at 3 min.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec build/islet run "$@"
