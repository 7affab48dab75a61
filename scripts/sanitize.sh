#!/usr/bin/env bash
# Sanitizer builds (docs/testing.md), each in its own build folder, with clang-14:
#
#   scripts/sanitize.sh [asan|tsan]...      (default: both)
#
# asan: AddressSanitizer + UndefinedBehaviorSanitizer (every UB report is
#       fatal) in build-asan/, the build scripts/fuzz.sh fuzzes (configured
#       alike, so the library is compiled once for both): the unit tests and
#       the `islet` they run.
# tsan: ThreadSanitizer in build-tsan/: the threaded tests (the engine's
#       thread-count determinism, cells moving between threads, interruption
#       and blow-up, partition/rebalance, the samples put in cell order by
#       the threads or the writer, the threads sweep executor).
#
# OpenMP under TSan: GCC's libgomp is not instrumented, so TSan would see none
# of its barriers and report false races between the engine's threads. The
# tsan build uses clang's OpenMP runtime (LLVM libomp, libomp-14-dev) with its
# Archer tool (libarcher.so, loaded through OMP_TOOL_LIBRARIES), which tells
# TSan about every OpenMP barrier, task and lock: no suppression file needed.
# TSan ignores the accesses of uninstrumented libraries
# (ignore_noninstrumented_modules=1, as Archer asks): libomp's own internals
# (its lock set-up looks racy to TSan), libhdf5, OpenBLAS.
#
# Exit status: 0 clean; 1 a sanitizer report or a failing test; 2 bad
# arguments; 77 skipped (clang-14, its sanitizer runtimes or libarcher.so
# missing: apt-get install clang-14 libclang-rt-14-dev libomp-14-dev).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${ISLET_SANITIZE_JOBS:-2}
modes=("$@")
[ ${#modes[@]} -eq 0 ] && modes=(asan tsan)
export OPENBLAS_NUM_THREADS=1
archer=/usr/lib/llvm-14/lib/libarcher.so

have_clang() {  # $1: -fsanitize= value
  local d; d=$(mktemp -d)
  echo 'int main() { return 0; }' > "$d/p.cpp"
  local ok=0; clang++-14 -fsanitize="$1" "$d/p.cpp" -o "$d/p" 2>/dev/null || ok=1
  rm -rf "$d"
  return $ok
}

asan() {
  local B=build-asan
  if ! command -v clang++-14 >/dev/null || ! have_clang address,undefined; then
    echo "sanitize.sh: asan SKIPPED: needs clang++-14 with its sanitizer runtimes" \
         "(Debian: apt-get install clang-14 libclang-rt-14-dev libomp-14-dev)" >&2
    return 77
  fi
  # The configuration of scripts/fuzz.sh (ISLET_FUZZ=ON implies ISLET_SANITIZE=address).
  cmake -S . -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=clang-14 \
    -DCMAKE_CXX_COMPILER=clang++-14 -DISLET_FUZZ=ON -DISLET_BUILD_TESTS=ON -DISLET_GAUSS=ON -DISLET_BUILD_PYTHON=OFF -DISLET_MPI=OFF >/dev/null
  ninja -C "$B" -j "$jobs" unit_tests islet >"$B/build.log" 2>&1 || { tail -n 50 "$B/build.log" >&2; return 1; }
  # Every unit test runs; none is skipped for speed.
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  LSAN_OPTIONS=suppressions=$PWD/fuzz/lsan.supp:print_suppressions=0 \
    "$B/tests/unit_tests" --gtest_brief=1
}

tsan() {
  local B=build-tsan
  if ! command -v clang++-14 >/dev/null || [ ! -f "$archer" ] || ! have_clang thread; then
    echo "sanitize.sh: tsan SKIPPED: needs clang++-14 with its sanitizer runtimes and $archer" \
         "(Debian: apt-get install clang-14 libclang-rt-14-dev libomp-14-dev)" >&2
    return 77
  fi
  cmake -S . -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=clang-14 \
    -DCMAKE_CXX_COMPILER=clang++-14 -DISLET_SANITIZE=thread -DISLET_BUILD_PYTHON=OFF -DISLET_MPI=OFF \
    -DISLET_GAUSS=OFF >/dev/null
  ninja -C "$B" -j "$jobs" unit_tests >"$B/build.log" 2>&1 || { tail -n 50 "$B/build.log" >&2; return 1; }
  local tests="Determinism.*:Coupling.IdenticalCellsStayIdentical:Coupling.UncoupledCellsEqualSingleCellRuns:Failure.*:Partition.*"
  tests+=":RunFile.CompressedOnComputeThreadsSameSamples"
  tests+=":ModelsThroughEngine.CoupledIsletWithHeterogeneityAndProtocolIsThreadInvariant"
  tests+=":Sweep.SerialAndThreadsGiveIdenticalResultsAndTable:Sweep.ResumeRerunsOnlyMissingTasksAndShardsSplitTheWork"
  tests+=":Sweep.FailedTaskIsReportedAndOthersContinue"
  OMP_TOOL_LIBRARIES="$archer" TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ignore_noninstrumented_modules=1" \
    "$B/tests/unit_tests" --gtest_brief=1 --gtest_filter="$tests"
}

rc=0
for m in "${modes[@]}"; do
  case "$m" in
    asan | tsan) ;;
    *) echo "sanitize.sh: unknown mode '$m' (expected asan or tsan)" >&2; exit 2 ;;
  esac
done
for m in "${modes[@]}"; do
  echo "sanitize.sh: $m"
  s=0; "$m" || s=$?
  if [ "$s" -eq 77 ]; then
    [ "$rc" -eq 0 ] && rc=77
  elif [ "$s" -ne 0 ]; then
    echo "sanitize.sh: $m FAILED" >&2; rc=1
  else
    echo "sanitize.sh: $m clean"
  fi
done
exit "$rc"
