#!/usr/bin/env bash
# Fuzzing (docs/testing.md): builds the libFuzzer targets of fuzz/ with clang,
# AddressSanitizer and UndefinedBehaviorSanitizer into build-asan/ (the build
# `scripts/sanitize.sh asan` runs the unit tests of), then runs each target
# for SECONDS (default 60) from its seed corpus fuzz/corpus/<target>/ (new
# inputs it finds go to build-asan/corpus/<target>/, kept for the next run).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     e.g. scripts/fuzz.sh 300 fuzz_config
#
# Exit status: 0 no finding; 1 a finding (crash, sanitizer report, uncaught
# exception, an input taking over 10 s, or over 2 GB of memory): the input is
# saved as build-asan/findings/<target>-crash-<sha1> (or -timeout-, -oom-,
# -leak-), replay it with build-asan/fuzz/<target> <file> (fuzz_run_file
# goes on past crashes and counts only those whose fault is outside
# libhdf5, see below); 2 bad arguments;
# 77 skipped (clang-14 or its fuzzer runtime is missing: apt-get install
# clang-14 libclang-rt-14-dev libomp-14-dev).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
[ $# -gt 0 ] && shift
case "$secs" in '' | *[!0-9]*) echo "fuzz.sh: SECONDS must be a whole number, got '$secs'" >&2; exit 2 ;; esac
CC=${ISLET_FUZZ_CC:-clang-14}
CXX=${ISLET_FUZZ_CXX:-clang++-14}
B=build-asan

probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' > "$probe/p.cpp"
if ! command -v "$CXX" >/dev/null || ! "$CXX" -fsanitize=fuzzer,address,undefined "$probe/p.cpp" -o "$probe/p" 2>/dev/null; then
  echo "fuzz.sh: SKIPPED: $CXX with libFuzzer (-fsanitize=fuzzer) is not available" \
       "(Debian: apt-get install clang-14 libclang-rt-14-dev libomp-14-dev)" >&2
  exit 77
fi

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in fuzz/fuzz_*.cpp; do targets+=("$(basename "$f" .cpp)"); done
fi

# (the same configuration as scripts/sanitize.sh asan: one instrumented build)
cmake -S . -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
  -DISLET_FUZZ=ON -DISLET_BUILD_TESTS=ON -DISLET_GAUSS=ON -DISLET_BUILD_PYTHON=OFF -DISLET_MPI=OFF >/dev/null
ninja -C "$B" "${targets[@]}" >"$B/build.log" 2>&1 || { tail -n 50 "$B/build.log" >&2; exit 1; }
for t in "${targets[@]}"; do [ -x "$B/fuzz/$t" ] || { echo "fuzz.sh: $t was not built" >&2; exit 1; }; done

mkdir -p "$B/findings" "$B/logs"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/fuzz/lsan.supp:print_suppressions=0}
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
# The first frame of a report that is not the sanitizers' (their allocator
# and interceptors included), libFuzzer's, libc's or libstdc++'s: where the
# fault is.
first_frame() {
  grep -m 1 -A 80 -E '^==[0-9]+== ?ERROR' "$1" | grep -E '^ +#[0-9]+ ' |
    grep -v -E '__asan|__interceptor|__sanitizer|__ubsan|__lsan|fuzzer::|libc\.so|sysdeps/|libstdc\+\+' |
    grep -v -E ' in (malloc|calloc|realloc|free|posix_memalign|aligned_alloc|operator new|operator delete)[ (]' |
    head -n 1 || true
}
failed=()
third_party=()
for t in "${targets[@]}"; do
  mkdir -p "$B/corpus/$t"
  log="$B/logs/$t.log"
  seeds=()
  [ -d "fuzz/corpus/$t" ] && seeds=("fuzz/corpus/$t")
  dict=()
  [ -f "fuzz/$t.dict" ] && dict=("-dict=fuzz/$t.dict")
  # fuzz_run_file reaches libhdf5's own parser, which crashes or hangs on
  # some damaged files (docs/testing.md): stopping at the first of those
  # left our reader unfuzzed (68 inputs in 15 s). So that target runs in
  # libFuzzer's fork mode, going on past crashes and timeouts, and every
  # input it saved is replayed afterwards: those whose fault is inside
  # libhdf5 are reported and not counted, any other is a finding.
  fork=()
  stamp=""
  if [ "$t" = fuzz_run_file ]; then
    fork=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
    stamp="$B/logs/$t.stamp"
    touch "$stamp"
    sleep 1  # (artifacts saved in this second count as newer)
  fi
  rc=0
  "$B/fuzz/$t" "$B/corpus/$t" "${seeds[@]}" "${dict[@]}" "${fork[@]}" -max_total_time="$secs" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$B/findings/$t-" >"$log" 2>&1 || rc=$?
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
  [ -n "$runs" ] || runs=$(grep -o '^#[0-9]*' "$log" | tail -n 1 | tr -d '#' || true)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 || true)
  if [ -n "$stamp" ]; then
    # Fork mode (its exit status is non-zero after any crash it went past):
    # each saved input replayed and judged by where its fault is.
    own=()
    hdf5=0
    saved=0
    while IFS= read -r a; do
      saved=$((saved + 1))
      rlog="$B/logs/$t-replay-$(basename "$a").log"
      if (timeout 120 "$B/fuzz/$t" -timeout=10 -rss_limit_mb=2048 "$a"; exit $?) >"$rlog" 2>&1; then
        echo "fuzz.sh: $t: $a did not fail again when replayed (log: $rlog)" >&2
      elif first_frame "$rlog" | grep -q 'libhdf5'; then
        hdf5=$((hdf5 + 1))
      else
        own+=("$a")
      fi
    done < <(find "$B/findings" -maxdepth 1 -type f -name "$t-*" -newer "$stamp" | sort)
    if [ "$rc" -ne 0 ] && [ "$saved" -eq 0 ]; then
      echo "fuzz.sh: $t: FINDING: the fuzzer failed (exit $rc) and saved no input (log: $log)" >&2
      tail -n 40 "$log" >&2
      failed+=("$t")
      continue
    fi
    echo "fuzz.sh: $t: ok, ${runs:-?} inputs in ${secs} s, ${cov:-cov: ?} (log: $log)"
    if [ "$hdf5" -gt 0 ]; then
      echo "fuzz.sh: $t: $hdf5 input(s) crashed inside libhdf5 (third-party, not counted; in $B/findings/)" >&2
      third_party+=("$t")
    fi
    if [ ${#own[@]} -gt 0 ]; then
      echo "fuzz.sh: $t: FINDING: ${own[*]} (replay logs: $B/logs/$t-replay-*.log):" >&2
      for a in "${own[@]}"; do first_frame "$B/logs/$t-replay-$(basename "$a").log" >&2; done
      failed+=("$t")
    fi
  elif [ "$rc" -eq 0 ]; then
    echo "fuzz.sh: $t: ok, ${runs:-?} inputs in ${secs} s, ${cov:-cov: ?} (log: $log)"
  else
    echo "fuzz.sh: $t: FINDING (log: $log; input in $B/findings/):" >&2
    grep -E -A 30 '^==[0-9]+==|runtime error|deadly signal|uncaught exception|out-of-memory|timeout' "$log" | head -n 60 >&2 || tail -n 40 "$log" >&2
    failed+=("$t")
  fi
done
[ ${#third_party[@]} -gt 0 ] && echo "fuzz.sh: crashes inside libhdf5 (not counted as findings) in ${third_party[*]}" >&2
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: findings in ${failed[*]}" >&2
  exit 1
fi
