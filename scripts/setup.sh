#!/usr/bin/env bash
# Installs the Debian 12 packages isletsim needs (skipped when present),
# then configures and builds into ./build. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PKGS=(cmake ninja-build g++ libhdf5-dev libtomlplusplus-dev libcli11-dev libfmt-dev
      libgtest-dev libbenchmark-dev libpng-dev pybind11-dev python3-dev python3-numpy
      python3-h5py python3-pytest python3-matplotlib libopenmpi-dev openmpi-bin
      pkg-config libopenblas-dev libfftw3-dev libigraph-dev python3-networkx python3-scipy python3-pandas
      clang-14 libclang-rt-14-dev libomp-14-dev python3-xarray python3-tqdm libdeflate-dev zlib1g-dev)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DPython_EXECUTABLE=/usr/bin/python3 >/dev/null
cmake --build build
