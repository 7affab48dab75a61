#!/usr/bin/env bash
# Usage: mpi_sweep_test.sh ISLET SWEEP_COMPARE MPIEXEC N WORKDIR
# A sweep of 10 uneven tasks run serially and with `mpirun -n N` (executor
# auto, i.e. mpi), then half of it lost and resumed with MPI, then resumed
# after a swept value changed; each time every result file and both tables
# must match the serial run of the same file bitwise.
set -euo pipefail
islet=$1 compare=$2 mpiexec=$3 n=$4 work=$5
rm -rf "$work" && mkdir -p "$work" && cd "$work"
cat > sweep.toml <<'TOML'
out_dir = "serial"
[base.sim]
duration_s = 0.2
[base.network]
kind = "lattice"
nx = 3
ny = 3
nz = 3
[base.record]
vars = ["c", "V"]
dtype = "float64"
[grid]
"coupling.gV" = [0, 120]
"sim.duration_s" = [0.2, 1.5, 0.1, 0.6, 0.3]
TOML
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
mpirun=("$mpiexec" --oversubscribe -n "$n")

"$islet" sweep sweep.toml --executor serial -q
sed 's/^out_dir = "serial"/out_dir = "mpi"/' sweep.toml > mpi.toml
"${mpirun[@]}" "$islet" sweep mpi.toml
"$compare" serial mpi

# Lose tasks 1, 4, 7 (files and rows), resume under MPI: only those run.
rm mpi/task_1.h5 mpi/task_4.h5 mpi/task_7.h5
grep -v -E '^(1|4|7),' mpi/summary.csv > mpi/s.csv && mv mpi/s.csv mpi/summary.csv
out=$("${mpirun[@]}" "$islet" sweep mpi.toml --resume -q)
echo "$out"
grep -q "3 ok, 0 failed, 7 skipped" <<< "$out"
"$compare" serial mpi

# A swept value changed (gV 120 -> 90: tasks 5..9) since the sweep ran:
# --resume under MPI runs exactly those again, one line each saying why, and
# matches a serial sweep of the changed file.
sed -i 's/^"coupling.gV" = \[0, 120\]/"coupling.gV" = [0, 90]/' sweep.toml mpi.toml
sed 's/^out_dir = "serial"/out_dir = "serial90"/' sweep.toml > serial90.toml
"$islet" sweep serial90.toml --executor serial -q
out=$("${mpirun[@]}" "$islet" sweep mpi.toml --resume 2>&1)
echo "$out"
grep -q "5 ok, 0 failed, 5 skipped" <<< "$out"
[ "$(grep -c 'config changed since it ran (coupling.gV 120 -> 90); re-running' <<< "$out")" -eq 5 ]
grep -q "^islet sweep: task 7: config changed" <<< "$out"
"$compare" serial90 mpi
sed -i 's/^"coupling.gV" = \[0, 90\]/"coupling.gV" = [0, 120]/' sweep.toml mpi.toml
"${mpirun[@]}" "$islet" sweep mpi.toml --resume -q
"$compare" serial mpi

# islet analyze of the sweep directories: under MPI the same table (metrics,
# statuses, messages) and the same exit status as serially.
set +e
"$islet" analyze serial --executor serial --no-figures -q --set analysis.k_tolerance=8
rc_serial=$?
"${mpirun[@]}" "$islet" analyze mpi --no-figures -q --set analysis.k_tolerance=8
rc_mpi=$?
set -e
echo "analyze: serial exit $rc_serial, mpi exit $rc_mpi"
[ "$rc_serial" -eq "$rc_mpi" ]
cmp serial/analysis.csv mpi/analysis.csv
[ "$(wc -l < mpi/analysis.csv)" -eq 11 ]

# Bad input: every rank exits 2, one message.
printf 'out_dir = "x"\n[base]\n[grid]\n"coupling.gX" = [1]\n' > bad.toml
set +e
"${mpirun[@]}" "$islet" sweep bad.toml 2> bad.err
rc=$?
set -e
echo "bad input: exit $rc, $(grep -c 'islet: error' bad.err) message(s)"
[ "$rc" -ne 0 ] && [ "$(grep -c 'islet: error' bad.err)" -eq 1 ]
echo "PASS: mpirun -n $n matches the serial sweep"
