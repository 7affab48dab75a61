#!/usr/bin/env bash
# Sanitizer builds (docs/testing.md), each in its own build folder:
#
#   scripts/sanitize.sh [asan|tsan]...      (default: both)
#
# asan: g++ with AddressSanitizer + UndefinedBehaviorSanitizer (every UB report
#       is fatal) in build-asan/: the unit tests and the `islet` they run.
# tsan: clang++-14 with ThreadSanitizer in build-tsan/: the threaded tests (the
#       engine's thread-count determinism, the threads sweep executor, the
#       partition/rebalance tests, interruption).
#
# OpenMP under TSan: GCC's libgomp is not instrumented, so TSan would see none
# of its barriers and report false races between the engine's threads. The
# tsan build uses clang's OpenMP runtime (LLVM libomp, libomp-14-dev) and its
# Archer tool (libarcher.so, loaded through OMP_TOOL_LIBRARIES), which tells
# TSan about every OpenMP barrier, task and lock: no suppression file needed.
#
# Exit status: 0 clean; 1 a sanitizer report or a failing test; 77 skipped
# (tsan only: clang-14 or libarcher.so missing: apt-get install clang-14
# libclang-rt-14-dev libomp-14-dev).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${ISLET_SANITIZE_JOBS:-2}
modes=("$@")
[ ${#modes[@]} -eq 0 ] && modes=(asan tsan)
export OPENBLAS_NUM_THREADS=1

asan() {
  local B=build-asan f="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
  cmake -S . -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=gcc -DCMAKE_CXX_COMPILER=g++ \
    -DCMAKE_C_FLAGS="$f" -DCMAKE_CXX_FLAGS="$f" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
    -DISLET_BUILD_PYTHON=OFF -DISLET_MPI=OFF >/dev/null
  ninja -C "$B" -j "$jobs" unit_tests islet >"$B/build.log" 2>&1 || { tail -n 50 "$B/build.log" >&2; return 1; }
  # Every unit test runs. None is skipped for speed: the slowest
  # (Coupling.CouplingRaisesSynchrony) takes ~1 min under ASan.
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$B/tests/unit_tests" --gtest_brief=1
}

tsan() {
  local B=build-tsan archer=/usr/lib/llvm-14/lib/libarcher.so
  if ! command -v clang++-14 >/dev/null || [ ! -f "$archer" ]; then
    echo "sanitize.sh: tsan SKIPPED: needs clang++-14 and $archer" \
         "(Debian: apt-get install clang-14 libclang-rt-14-dev libomp-14-dev)" >&2
    return 77
  fi
  cmake -S . -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang-14 \
    -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_C_FLAGS=-fsanitize=thread -DCMAKE_CXX_FLAGS=-fsanitize=thread \
    -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread -DISLET_BUILD_PYTHON=OFF -DISLET_MPI=OFF -DISLET_GAUSS=OFF >/dev/null
  ninja -C "$B" -j "$jobs" unit_tests >"$B/build.log" 2>&1 || { tail -n 50 "$B/build.log" >&2; return 1; }
  local tests="Determinism.*:Coupling.IdenticalCellsStayIdentical:Failure.*:Partition.*"
  tests+=":ModelsThroughEngine.CoupledIsletWithHeterogeneityAndProtocolIsThreadInvariant"
  tests+=":Sweep.SerialAndThreadsGiveIdenticalResultsAndTable:Sweep.ResumeRerunsOnlyMissingTasksAndShardsSplitTheWork"
  tests+=":Sweep.FailedTaskIsReportedAndOthersContinue"
  OMP_TOOL_LIBRARIES="$archer" TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
    "$B/tests/unit_tests" --gtest_brief=1 --gtest_filter="$tests"
}

rc=0
for m in "${modes[@]}"; do
  case "$m" in
    asan | tsan) echo "sanitize.sh: $m"; s=0; "$m" || s=$?
      if [ "$s" -eq 77 ]; then [ "$rc" -eq 0 ] && rc=77; elif [ "$s" -ne 0 ]; then echo "sanitize.sh: $m FAILED" >&2; rc=1; else echo "sanitize.sh: $m clean"; fi ;;
    *) echo "sanitize.sh: unknown mode '$m' (expected asan or tsan)" >&2; exit 2 ;;
  esac
done
exit "$rc"
