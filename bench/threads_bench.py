#!/usr/bin/python3
"""Default thread count against fixed -j (issue 13).

For islets of 50, 125, 1000, 8000, 30000 and 100000 cells (the default run's
10 simulated minutes up to 1000 cells, whose mix of silent phases and bursts
sets the balance between the simulation and the writer; shorter durations for
the larger ones, from the start of the run, so that a run takes ~1-40 s on a
quiet host), runs
`islet run` with no -j (the default: env::default_threads) and with -j 1 and
-j 2, in turn (default, -j1, -j2, default, ...), on a quiet host and with one
competing busy process (`sh -c 'while :; do :; done'`), and prints a Markdown
table of the engine's wall time (the "simulated in X s" of the summary line:
network building and file setup, the same for every thread count, left out):
the median of `rounds` runs of each, the best fixed -j and default / best.

Usage: /usr/bin/python3 bench/threads_bench.py [path/to/islet] [rounds] [sizes, e.g. 50,1000]
                                              [scale of the durations, default 1] [quiet,busy]
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
SIZES = [int(s) for s in sys.argv[3].split(",")] if len(sys.argv) > 3 else [50, 125, 1000, 8000, 30000, 100000]
# Simulated seconds per size: ~1-40 s of wall time on one thread of the quiet 2-vCPU test VM.
SCALE = float(sys.argv[4]) if len(sys.argv) > 4 else 1.0
LOADS = sys.argv[5].split(",") if len(sys.argv) > 5 else ["quiet", "busy"]
DURATION = {50: 600.0, 125: 600.0, 1000: 600.0, 8000: 30.0, 30000: 2.0, 100000: 0.2}
CONFIGS = [("default", []), ("-j 1", ["-j", "1"]), ("-j 2", ["-j", "2"])]
SUMMARY = re.compile(r"simulated in ([0-9.]+) s \([0-9.]+ sim-s/s, ([0-9]+) thread")


def run(cells, extra, out):
    dur = SCALE * DURATION.get(cells, max(0.05, 5.0 * 1000 / cells))
    cmd = [ISLET, "run", "-q", "--overwrite", "--set", f"network.n_cells={cells}", "--set", f"sim.duration_s={dur:g}",
           "-o", out] + extra
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"threads_bench: {' '.join(cmd)} failed ({p.returncode}):\n{p.stdout}{p.stderr}")
    m = SUMMARY.search(p.stdout)
    if not m:
        sys.exit(f"threads_bench: no summary line in the output of {' '.join(cmd)}:\n{p.stdout}")
    return float(m.group(1)), int(m.group(2))


def measure(load, tmp):
    rows = []
    for cells in SIZES:
        times = {name: [] for name, _ in CONFIGS}
        default_threads = None
        for _ in range(ROUNDS):
            for name, extra in CONFIGS:
                t, nt = run(cells, extra, os.path.join(tmp, "bench.h5"))
                times[name].append(t)
                if name == "default":
                    default_threads = nt
        med = {name: statistics.median(v) for name, v in times.items()}
        best_name = min(("-j 1", "-j 2"), key=lambda n: med[n])
        spread = max((max(v) - min(v)) / min(v) for v in times.values())
        rows.append((cells, load, default_threads, med["default"], med["-j 1"], med["-j 2"], best_name,
                     med["default"] / med[best_name], spread))
        print(f"  {cells} cells, {load}: default ({default_threads} thread(s)) {med['default']:.3f} s, "
              f"-j 1 {med['-j 1']:.3f} s, -j 2 {med['-j 2']:.3f} s", file=sys.stderr, flush=True)
    return rows


def main():
    print(f"CPU: {cpu_model()}, {os.cpu_count()} logical CPUs; usable: {len(os.sched_getaffinity(0))}")
    print(f"command: /usr/bin/python3 bench/threads_bench.py {ISLET} {ROUNDS} {','.join(map(str, SIZES))} {SCALE:g} "
          f"{','.join(LOADS)}")
    print(f"median of {ROUNDS} runs each, alternating; engine wall time (s) of `islet run` "
          f"(default recording: c and V every 10 ms)\n")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        if "quiet" in LOADS:
            rows += measure("quiet", tmp)
        if "busy" in LOADS:
            busy = subprocess.Popen(["sh", "-c", "while :; do :; done"])
            try:
                rows += measure("1 busy process", tmp)
            finally:
                busy.kill()
                busy.wait()
    print("| cells | host | default (threads) | -j 1 | -j 2 | best fixed | default / best | max spread |")
    print("|---:|---|---:|---:|---:|---|---:|---:|")
    for cells, load, nt, d, j1, j2, best, ratio, spread in rows:
        print(f"| {cells} | {load} | {d:.3f} s ({nt}) | {j1:.3f} s | {j2:.3f} s | {best} | {ratio:.3f} | "
              f"{100 * spread:.0f}% |")


if __name__ == "__main__":
    main()
