#!/usr/bin/python3
"""The whole forward Euler step against the cell kernel alone (issue 13, item 5).

Alternates, pinned to one core (`taskset -c CORE`), `build/roofline` (the
kernel alone: derivatives of one block of cells that stays in L1, its
"measured kernel: X ns per cell evaluation") and the whole step of the
default 1000-cell islet on one thread: `islet run -q -j 1 --set
sim.integrator=euler --set sim.dt_ms=0.1 --set glucose.mode=fixed_jgk --set
record.interval_ms=1000 --set sim.duration_s=10` (10^5 steps of 1000 cells:
the engine's "simulated in X s" is X * 10 ns per cell-step). Prints each
pair, the best against the best and the median of the pairs' own ratios,
with the CPU model.

Usage: /usr/bin/python3 bench/step_ratio.py [build dir] [pairs] [core]
"""
import os
import re
import statistics
import subprocess
import sys
import tempfile

from cpu_model import cpu_model

BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"
PAIRS = int(sys.argv[2]) if len(sys.argv) > 2 else 6
CORE = sys.argv[3] if len(sys.argv) > 3 else None
STEPS, CELLS = 100_000, 1000


def pinned(cmd):
    core = CORE
    if core is None:  # the last core this process may use
        core = str(max(os.sched_getaffinity(0)))
    p = subprocess.run(["taskset", "-c", core] + cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"step_ratio: {' '.join(cmd)} failed ({p.returncode}):\n{p.stdout}{p.stderr}")
    return p.stdout + p.stderr


def kernel_ns():
    out = pinned([f"{BUILD}/roofline"])
    return float(re.search(r"measured kernel: ([0-9.]+) ns", out).group(1))


def step_ns(path):
    out = pinned([f"{BUILD}/islet", "run", "-q", "--overwrite", "-j", "1", "--set", "sim.integrator=euler", "--set",
                  "sim.dt_ms=0.1", "--set", "glucose.mode=fixed_jgk", "--set", "record.interval_ms=1000",
                  "--set", f"sim.duration_s={STEPS * 0.1e-3:g}", "-o", path])
    wall = float(re.search(r"simulated in ([0-9.]+) s", out).group(1))
    return wall * 1e9 / (STEPS * CELLS)


def main():
    print(f"CPU: {cpu_model()}")
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for i in range(PAIRS):
            k = kernel_ns()
            s = step_ns(f"{d}/step.h5")
            rows.append((k, s))
            print(f"  pair {i + 1}: kernel {k:.2f} ns per cell evaluation, whole step {s:.1f} ns per cell-step, "
                  f"{s / k:.2f}x", flush=True)
    kb, sb = min(r[0] for r in rows), min(r[1] for r in rows)
    print(f"best against best: {sb:.1f} / {kb:.2f} = {sb / kb:.2f}x; "
          f"median of the {len(rows)} pairs' ratios {statistics.median(s / k for k, s in rows):.2f}x")


if __name__ == "__main__":
    main()
