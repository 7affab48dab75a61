#!/usr/bin/env bash
# cmake --install into a temporary prefix, then use what was installed as a user would:
#   - every public header compiles on its own with only the prefix's include/ (no private header needed),
#   - libisletsim has its SONAME,
#   - P/bin/islet --version prints the project version and runs,
#   - examples/cpp_consumer builds with find_package(isletsim) against the prefix and runs an 8-cell
#     lattice for 1 s; its last mean c and V equal those of `P/bin/islet run` with the same config,
#   - PYTHONPATH=P/<python dir> imports the installed isletsim (not the build tree's) and runs.
# Usage: install_test.sh BUILD_DIR SOURCE_DIR VERSION PYTHON_DIR PYTHON (PYTHON_DIR empty: no Python module)
set -euo pipefail  # (no `grep -q` after a pipe: it stops reading, and the writer's SIGPIPE fails the pipeline)
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd) version=$3 pydir=$4 python=${5:-/usr/bin/python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
P=$tmp/prefix
fail() { echo "FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$P" > "$tmp/install.log" || { cat "$tmp/install.log"; fail "cmake --install"; }

# The tool, the library and its SONAME, the CMake package.
[ -x "$P/bin/islet" ] || fail "no $P/bin/islet"
lib=$(find "$P" -name "libisletsim.so.*.*.*" | head -1)
[ -n "$lib" ] || fail "no libisletsim.so.X.Y.Z under $P"
soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "libisletsim.so.${version%%.*}" ] || fail "SONAME of $lib is '$soname'"
[ -e "$(dirname "$lib")/$soname" ] || fail "no $soname link beside $lib"
find "$P" -name isletsimConfig.cmake | grep . >/dev/null || fail "no isletsimConfig.cmake"
ldd "$P/bin/islet" | grep "$build" >/dev/null && fail "the installed islet loads a library from the build tree"

# Every public header of the source tree is installed and compiles alone against the prefix.
n=0
for h in "$src"/include/isletsim/*.hpp; do
  name=$(basename "$h")
  [ -f "$P/include/isletsim/$name" ] || fail "header $name not installed"
  printf '#include "isletsim/%s"\n#include "isletsim/%s"\nint main() {}\n' "$name" "$name" > "$tmp/h_$name.cpp"
  n=$((n + 1))
done
[ "$n" -ge 10 ] || fail "only $n public headers"
(cd "$tmp" && g++ -std=c++20 -fsyntax-only -I "$P/include" h_*.cpp) || fail "a public header needs more than include/"

# The tool.
[ "$("$P/bin/islet" --version)" = "$version" ] || fail "islet --version: '$("$P/bin/islet" --version)', expected $version"

# A C++ program built with find_package(isletsim) against the prefix only.
cmake -S "$src/examples/cpp_consumer" -B "$tmp/consumer" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_PREFIX_PATH="$P" > "$tmp/consumer.log" 2>&1 || { cat "$tmp/consumer.log"; fail "consumer configure"; }
cmake --build "$tmp/consumer" >> "$tmp/consumer.log" 2>&1 || { cat "$tmp/consumer.log"; fail "consumer build"; }
ldd "$tmp/consumer/islet_consumer" | grep "$P/.*libisletsim.so" >/dev/null || fail "the consumer does not load the prefix's libisletsim"
out=$("$tmp/consumer/islet_consumer")
echo "$out"
case "$out" in
  "isletsim $version: 8 cells, 12 edges, 101 samples, t = 1.000 s, "*) ;;
  *) fail "consumer printed: $out" ;;
esac
cat > "$tmp/lattice.toml" <<'TOML'
[sim]
duration_s = 1
[network]
kind = "lattice"
nx = 2
ny = 2
nz = 2
[record]
vars = ["c", "V"]
interval_ms = 10
dtype = "float64"
TOML
"$P/bin/islet" run "$tmp/lattice.toml" -o "$tmp/lattice.h5" -q -j 1 > /dev/null
"$python" - "$tmp/lattice.h5" "$out" <<'PY'
import re, sys
import h5py
with h5py.File(sys.argv[1], "r") as f:
    c, V = f["data/c"][-1], f["data/V"][-1]
m = re.search(r"mean c = (\S+) uM, mean V = (\S+) mV", sys.argv[2])
mean = lambda row: sum(float(x) for x in row) / len(row)   # the consumer's order of summation
assert float(m.group(1)) == mean(c), (m.group(1), mean(c))
assert float(m.group(2)) == mean(V), (m.group(2), mean(V))
assert 0 < mean(c) < 5 and -80 < mean(V) < 0, (mean(c), mean(V))
PY

# The Python package from the prefix.
if [ -n "$pydir" ]; then
  [ -d "$P/$pydir/isletsim" ] || fail "no Python package in $P/$pydir"
  (cd "$tmp" && PYTHONPATH="$P/$pydir" PYTHONDONTWRITEBYTECODE=1 "$python" -c "
import isletsim as isl, sys
assert isl.__file__.startswith('$P/'), isl.__file__
assert isl.__version__ == '$version', isl.__version__
cfg = isl.Config.default().set('sim.duration_s', 1).set('network.kind', 'lattice')
cfg.set('network.nx', 2).set('network.ny', 2).set('network.nz', 2)
r = isl.simulate(cfg, threads=1)
assert r.status == 'complete' and r['c'].shape == (101, 8), (r.status, r['c'].shape)
print('python:', isl.__file__, r['c'].shape)
") || fail "the installed Python package"
fi
echo "install test: OK ($P)"
