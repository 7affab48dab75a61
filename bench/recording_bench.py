#!/usr/bin/python3
"""Recording cost (issue 13): the default run recording c and V every 10 ms
(the default) against the same run recording every 1000 ms.

Runs `islet run --set sim.duration_s=D -j J --profile` with
record.interval_ms=10 and =1000 in turn, `rounds` times each, and prints the
median and best engine wall time of each, their ratios (of the medians, of
the best, and the median of each round's own ratio), the writer thread's
CPU time (from --profile) and the file size.

Usage: /usr/bin/python3 bench/recording_bench.py [path/to/islet] [rounds] [duration_s] [threads]
"""
import os
import re
import statistics
import subprocess
import sys
import tempfile

from cpu_model import cpu_model

ISLET = sys.argv[1] if len(sys.argv) > 1 else "build/islet"
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
DURATION = float(sys.argv[3]) if len(sys.argv) > 3 else 60.0
THREADS = sys.argv[4] if len(sys.argv) > 4 else "2"
WALL = re.compile(r"simulated in ([0-9.]+) s")
WRITER = re.compile(r"writer thread\s+([0-9.]+) s")


def run(interval_ms, out):
    cmd = [ISLET, "run", "-q", "--overwrite", "--profile", "-j", THREADS, "--set", f"sim.duration_s={DURATION:g}",
           "--set", f"record.interval_ms={interval_ms}", "-o", out]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"recording_bench: {' '.join(cmd)} failed ({p.returncode}):\n{p.stdout}{p.stderr}")
    wall = float(WALL.search(p.stdout).group(1))
    m = WRITER.search(p.stderr)
    return wall, float(m.group(1)) if m else float("nan"), os.path.getsize(out)


def main():
    print(f"CPU: {cpu_model()}, {os.cpu_count()} logical CPUs; usable: {len(os.sched_getaffinity(0))}")
    print(f"command: /usr/bin/python3 bench/recording_bench.py {ISLET} {ROUNDS} {DURATION:g} {THREADS}\n")
    res = {10: [], 1000: []}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(ROUNDS):
            for iv in (10, 1000):
                res[iv].append(run(iv, os.path.join(tmp, f"r{iv}.h5")))
                w, c, b = res[iv][-1]
                print(f"  every {iv} ms: {w:.2f} s, writer {c:.2f} s CPU, {b / 1e6:.1f} MB", file=sys.stderr, flush=True)
    print("| recorded every | wall, median (best) | writer thread CPU | file |")
    print("|---|---:|---:|---:|")
    med = {}
    for iv, rows in res.items():
        walls = [r[0] for r in rows]
        med[iv] = statistics.median(walls)
        print(f"| {iv} ms | {med[iv]:.2f} s ({min(walls):.2f} s) | {statistics.median(r[1] for r in rows):.2f} s | "
              f"{rows[-1][2] / 1e6:.1f} MB |")
    # Each round's 10 ms run against the 1000 ms run right after it: on a VM
    # whose speed drifts from minute to minute, the median of these paired
    # ratios is the steadier figure.
    pairs = [a[0] / b[0] for a, b in zip(res[10], res[1000])]
    print(f"\n10 ms / 1000 ms: {med[10] / med[1000]:.3f} (medians), "
          f"{min(r[0] for r in res[10]) / min(r[0] for r in res[1000]):.3f} (best), "
          f"{statistics.median(pairs):.3f} (median of the {len(pairs)} paired rounds: "
          f"{', '.join(f'{x:.2f}' for x in pairs)})")


if __name__ == "__main__":
    main()
