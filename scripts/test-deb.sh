#!/usr/bin/env bash
# Builds the Debian package (cpack -G DEB) and checks it WITHOUT installing it:
#   - dpkg-deb -I: name, version, and a Depends that names, for every shared library the package's
#     programs and modules load, the Debian package that provides it here;
#   - dpkg-deb -c: the tool, the library (with its SONAME link), headers, CMake package, Python package;
#   - unpacked with dpkg-deb -x into a temporary folder: its islet runs a small islet, and its Python
#     package (PYTHONPATH=<root>/usr/lib/python3/dist-packages) imports and runs one.
# Usage: bash scripts/test-deb.sh [BUILD_DIR [--no-build]]   (default build/, configured and built when
# missing; --no-build: package what is built, as the ctest deb_package_test does)
# The .deb is left in BUILD_DIR. Install it with `apt-get install ./BUILD_DIR/isletsim_*.deb` (root).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
[ -f "$build/CMakeCache.txt" ] || cmake -S . -B "$build" -G Ninja -DPython_EXECUTABLE=/usr/bin/python3
targets="islet isletsim_shared"
ninja -C "$build" -t targets all | grep '^_isletsim:' >/dev/null && targets="$targets _isletsim"
[ "${2:-}" = --no-build ] || ninja -C "$build" $targets > /dev/null
arch=$(sed -n 's/^ISLET_ARCH:STRING=//p' "$build/CMakeCache.txt")
if [ "$arch" = native ]; then
  echo "note: $build is built with -march=native: this package runs on CPUs like this one only (for one to" \
       "hand out, configure with -DISLET_ARCH=x86-64-v2; README.md, \"Installing\")"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
build=$(cd "$build" && pwd)
(cd "$build" && cpack -G DEB -B "$tmp/pkg") > "$tmp/cpack.log" 2>&1 || { cat "$tmp/cpack.log"; fail "cpack -G DEB"; }
deb=$(ls "$tmp"/pkg/*.deb)
cp "$deb" "$build/"
echo "package: $build/$(basename "$deb") ($(du -h "$deb" | cut -f1))"

# Control fields.
dpkg-deb -I "$deb" > "$tmp/info"
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
grep -q "^ Package: isletsim$" "$tmp/info" || fail "package name"
grep -q "^ Version: $version$" "$tmp/info" || fail "version (expected $version)"
depends=$(sed -n 's/^ Depends: //p' "$tmp/info")
echo "Depends: $depends"
for p in python3 python3-numpy python3-h5py libhdf5-103-1 libgomp1 libfmt9 libfftw3-double3 libigraph3 libopenblas0; do
  echo "$depends" | tr ',|' '\n\n' | awk '{print $1}' | grep -xF "$p" >/dev/null || fail "Depends lacks $p"
done

# Files.
dpkg-deb -c "$deb" | awk '{print $6}' > "$tmp/files"
for f in ./usr/bin/islet "./usr/lib/libisletsim.so.$version" ./usr/lib/libisletsim.so.0 ./usr/lib/libisletsim.so \
         ./usr/include/isletsim/simulation.hpp ./usr/lib/cmake/isletsim/isletsimConfig.cmake \
         ./usr/lib/python3/dist-packages/isletsim/__init__.py; do
  grep -qxF "$f" "$tmp/files" || fail "the package has no $f"
done
grep -q '^./usr/lib/python3/dist-packages/isletsim/_isletsim.*\.so$' "$tmp/files" || fail "no Python extension"

# Unpacked: every library its ELF files link directly (NEEDED) comes from a package in Depends.
dpkg-deb -x "$deb" "$tmp/root"
export LD_LIBRARY_PATH="$tmp/root/usr/lib"
for elf in "$tmp/root/usr/bin/islet" "$tmp/root/usr/lib/libisletsim.so.$version" \
           "$tmp"/root/usr/lib/python3/dist-packages/isletsim/_isletsim*.so; do
  ldd "$elf" > "$tmp/ldd"
  readelf -d "$elf" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | while read -r name; do
    [[ "$name" == ld-linux* ]] && continue  # the dynamic loader (libc6)
    lib=$(awk -v n="$name" '$1 == n && $3 ~ /^\// {print $3}' "$tmp/ldd")
    [ -n "$lib" ] || fail "$(basename "$elf") needs $name, which is not found"
    owner=$(dpkg -S "$lib" 2>/dev/null || dpkg -S "$(realpath "$lib")" 2>/dev/null ||
            dpkg -S "/usr$lib" 2>/dev/null || dpkg -S "${lib#/usr}" 2>/dev/null || true)
    pkg=${owner%%:*}
    [ -n "$pkg" ] || fail "$(basename "$elf") loads $lib, which no Debian package owns"
    # In Depends, or the package one of them depends on (libopenblas0 -> libopenblas0-pthread | ...).
    in_depends() { echo "$1" | tr ',|' '\n\n' | awk '{print $1}' | grep -xF "$2" >/dev/null; }
    ok=no
    if in_depends "$depends" "$pkg"; then ok=yes; else
      for d in $(echo "$depends" | tr ',|' '\n\n' | awk '{print $1}'); do
        in_depends "$(dpkg-query -W -f='${Depends}' "$d" 2>/dev/null)" "$pkg" && ok=yes && break
      done
    fi
    [ "$ok" = yes ] || fail "$(basename "$elf") loads $lib (package $pkg), not in Depends: $depends"
  done
done

# Its islet and its Python package run.
[ "$("$tmp/root/usr/bin/islet" --version)" = "$version" ] || fail "islet --version"
(cd "$tmp" && "$tmp/root/usr/bin/islet" run -q -j 1 --set network.kind=lattice --set network.nx=3 \
   --set network.ny=3 --set network.nz=3 --set sim.duration_s=1 -o "$tmp/run.h5") || fail "islet run"
(cd "$tmp" && PYTHONPATH="$tmp/root/usr/lib/python3/dist-packages" PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 -c "
import isletsim as isl
assert isl.__file__.startswith('$tmp/root/'), isl.__file__
r = isl.load('$tmp/run.h5')
assert r.status == 'complete' and r['c'].shape == (101, 27), (r.status, r['c'].shape)
print('python package from the .deb:', isl.__file__)
") || fail "the Python package"
echo "test-deb: OK"
